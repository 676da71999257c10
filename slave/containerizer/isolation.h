/*
 * isolation.h: what the agent's containerizer isolates and measures, shared by its two kinds of
 * isolation: cgroups.h (enforce limits with Linux control groups) and posix.h (measure a process
 * tree from /proc).
 *
 * isolation_parse() reads the agent's --isolation flag as Mesos does: a comma-separated list of
 * isolator names. Supported: posix/cpu, posix/mem (measure), cgroups/cpu, cgroups/mem (enforce),
 * filesystem/posix (the sandbox as a plain directory: always on, as Mesos adds it when no
 * filesystem isolator is named), and Mesos's deprecated aliases "process" (posix/cpu,posix/mem),
 * "cgroups" and "cgroups/all" (cgroups/cpu,cgroups/mem). Other Mesos isolators (namespaces/pid,
 * filesystem/linux, ...) and unknown names are refused with a message naming them, as are
 * duplicates.
 *
 * container_usage_t is one container's resource statistics, the subset of Mesos's
 * ResourceStatistics that the agent's /monitor/statistics reports; its fields keep Mesos's
 * names. Called from the agent actor; nothing here blocks except the readers in cgroups.h and
 * posix.h, which read small files under /sys and /proc.
 */
#ifndef SLAVE_CONTAINERIZER_ISOLATION_H
#define SLAVE_CONTAINERIZER_ISOLATION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "actor/error.h"

/* The isolators that --isolation turned on. */
typedef struct isolation {
    bool posix_cpu;        /* measure CPU time of the executor's process tree */
    bool posix_mem;        /* measure the RSS of the executor's process tree */
    bool cgroups_cpu;      /* cpu shares (and, with --cgroups_enable_cfs, a CFS quota) */
    bool cgroups_mem;      /* a hard memory limit; exceeding it is an OOM kill */
    bool filesystem_posix; /* always true after a successful parse */
} isolation_t;

/* Parses an --isolation value into *out. NULL means Mesos's default, "posix/cpu,posix/mem"; an
 * empty value (or one of commas only) turns on filesystem/posix alone. Errors: ACTOR_EINVAL with
 * "Unknown or unsupported isolator 'x'" or "Duplicate entries found in --isolation flag '...'"
 * in err (err_len bytes, always terminated; err may be NULL). On error *out is zeroed. */
actor_err_t isolation_parse(const char *value, isolation_t *out, char *err, size_t err_len);

/* One container's usage. Fields that an isolator does not measure stay 0. */
typedef struct container_usage {
    double cpus_user_time_secs;      /* CPU time in user mode, all processes, seconds */
    double cpus_system_time_secs;    /* CPU time in kernel mode, seconds */
    double cpus_limit;               /* CPUs: the CFS quota when set, else from the shares */
    uint64_t cpus_nr_periods;        /* CFS enforcement periods elapsed */
    uint64_t cpus_nr_throttled;      /* periods in which the container was throttled */
    double cpus_throttled_time_secs; /* total time throttled, seconds */
    uint64_t mem_total_bytes;        /* memory charged: anonymous, page cache, kernel */
    uint64_t mem_rss_bytes;          /* anonymous memory (posix: resident set size) */
    uint64_t mem_cache_bytes;        /* page cache */
    uint64_t mem_swap_bytes;         /* swapped out */
    uint64_t mem_mapped_file_bytes;  /* page cache mapped into processes */
    uint64_t mem_limit_bytes;        /* the hard limit; 0 = none */
    uint32_t processes;              /* processes in the container */
    uint32_t threads;                /* threads in the container */
} container_usage_t;

#endif
