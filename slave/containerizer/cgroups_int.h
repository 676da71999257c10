/*
 * cgroups_int.h: the inside of cgroups.h, shared by cgroups.c (the interface, common to both
 * versions), cgroupfs.c (control files and directories) and cgroups_v1.c / cgroups_v2.c (each
 * version's hierarchies, limits, usage, OOM and kill, behind a table of operations). Not for use
 * outside slave/containerizer/.
 *
 * A cgroups_t holds one cg_hierarchy_t per distinct hierarchy used (v1: up to four mounts, fewer
 * when controllers are co-mounted; v2: one). Paths: a container's cgroup in hierarchy h is
 * h->base + "/" + container_id, and h->base is h->anchor + "/" + subtree.
 */
#ifndef SLAVE_CONTAINERIZER_CGROUPS_INT_H
#define SLAVE_CONTAINERIZER_CGROUPS_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "slave/containerizer/cgroups.h"
#include "slave/containerizer/containerizer_int.h"

/* Controllers, as bits of cg_hierarchy_t.controllers. */
#define CG_CPU             (1u << 0)
#define CG_CPUACCT         (1u << 1)
#define CG_MEMORY          (1u << 2)
#define CG_FREEZER         (1u << 3)
#define CG_MAX_HIERARCHIES 4

/* Mesos's constants (isolators/cgroups/constants.hpp). */
#define CG_CPU_SHARES_PER_CPU 1024
#define CG_MIN_CPU_SHARES     2
#define CG_MAX_CPU_SHARES     262144 /* the kernel's MAX_SHARES */
#define CG_CFS_PERIOD_US      100000
#define CG_MIN_CFS_QUOTA_US   1000

/* How long one freeze may take before the kill loop gives up on freezing for that round. */
#define CG_FREEZE_TIMEOUT_MS 100

typedef struct cg_hierarchy {
    unsigned controllers; /* CG_* served by this hierarchy */
    const char *name;     /* v1: its first controller as /proc/self/cgroup names it; v2: "" */
    char *mount;          /* the hierarchy's root directory */
    char *anchor;         /* where the subtree hangs: mount, or this process's cgroup in it */
    char *base;           /* anchor + "/" + subtree: the agent's own cgroup */
    bool plain;           /* a fake tree of plain files (cgroups.h) */
} cg_hierarchy_t;

/* Freezes (frozen true) or thaws the container's cgroup in h, waiting up to
 * CG_FREEZE_TIMEOUT_MS for the state to be reached (ACTOR_ETIMEDOUT otherwise). */
typedef actor_err_t (*cg_freeze_fn)(const cg_hierarchy_t *h, const char *id, bool frozen, char *err,
                                    size_t err_len);

/* Reads whether the container's cgroup in h is frozen (frozen true) or thawed into *reached. */
typedef actor_err_t (*cg_frozen_fn)(const cg_hierarchy_t *h, const char *id, bool frozen,
                                    bool *reached, char *err, size_t err_len);

/* What differs between v1 and v2. Every function gets a valid id of a container that exists. */
typedef struct cg_ops {
    const char *threads_file; /* lists the container's threads: "tasks", "cgroup.threads" */
    /* Fills cg->hier (mount, name, controllers, plain) from the root directory of the options. */
    actor_err_t (*discover)(cgroups_t *cg, const char *root, char *err, size_t err_len);
    /* Called on the anchor and on each directory of the subtree, down to the base, so that
     * containers created under the base get the controllers (v2); NULL when nothing is needed. */
    actor_err_t (*enable)(const cgroups_t *cg, const cg_hierarchy_t *h, const char *dir, char *err,
                          size_t err_len);
    /* Writes the limits; create is true for a new container. */
    actor_err_t (*set_limits)(const cgroups_t *cg, const char *id, double cpus, uint64_t mem_bytes,
                              bool create, char *err, size_t err_len);
    /* Adds the controllers' figures (CPU, memory) to *usage. */
    actor_err_t (*usage)(const cgroups_t *cg, const char *id, container_usage_t *usage, char *err,
                         size_t err_len);
    actor_err_t (*oom_killed)(const cgroups_t *cg, const char *id, bool *killed, char *err,
                              size_t err_len);
    /* Kills every process of the container and waits until its cgroups are empty or deadline
     * (CLOCK_MONOTONIC) passes (ACTOR_ETIMEDOUT). */
    actor_err_t (*kill)(const cgroups_t *cg, const char *id, const struct timespec *deadline,
                        char *err, size_t err_len);
} cg_ops_t;

extern const cg_ops_t cg_v1_ops;
extern const cg_ops_t cg_v2_ops;

struct cgroups {
    cgroups_version_t version;
    const cg_ops_t *ops;
    bool cpu, mem, cfs_quota;
    unsigned destroy_timeout_ms;
    char *subtree;
    cg_hierarchy_t hier[CG_MAX_HIERARCHIES];
    size_t count;                    /* hierarchies in hier */
    char *procs[CG_MAX_HIERARCHIES]; /* cgroups_procs_files()'s strings */
};

/* ---- cgroups.c ---- */

/* Longest container id. */
#define CG_ID_MAX 128

/* Whether id is a valid container id (cgroups.h). */
bool cg_valid_id(const char *id);
/* Creates the subtree's directories under h->anchor (existing ones are fine) and has the
 * version enable each level, the anchor included. */
actor_err_t cg_subtree_ensure(const cgroups_t *cg, const cg_hierarchy_t *h, char *err,
                              size_t err_len);
/* Adds a hierarchy with the given fields (strings copied); ACTOR_ENOMEM. */
actor_err_t cg_hierarchy_add(cgroups_t *cg, const char *mount, const char *name,
                             unsigned controllers, bool plain);
/* The hierarchy that serves controller (one CG_* bit); NULL if none. */
const cg_hierarchy_t *cg_find(const cgroups_t *cg, unsigned controller);
/* Limits from resources, as Mesos computes them. */
uint64_t cg_cpu_shares(double cpus);
uint64_t cg_cpu_weight(double cpus);
uint64_t cg_cfs_quota_us(double cpus);
uint64_t cg_mem_limit(uint64_t mem_bytes);

/* ---- cgroups_container.c ---- */

/* The loop that kills a container without cgroup.kill: freeze (when freeze is not NULL), SIGKILL
 * every process, thaw, wait a little, until the cgroups are empty or deadline passes. In a fake
 * tree no signal is sent (its pids are not real processes of the container). */
actor_err_t cg_kill_loop(const cgroups_t *cg, const char *id, cg_freeze_fn freeze,
                         const struct timespec *deadline, char *err, size_t err_len);
/* Polls reached until the freezer state asked for is there, or CG_FREEZE_TIMEOUT_MS pass
 * (ACTOR_ETIMEDOUT). */
actor_err_t cg_freeze_wait(const cg_hierarchy_t *h, const char *id, bool frozen,
                           cg_frozen_fn reached, char *err, size_t err_len);
/* Waits until the container's cgroups list no process or deadline passes (ACTOR_ETIMEDOUT). */
actor_err_t cg_wait_empty(const cgroups_t *cg, const char *id, const struct timespec *deadline,
                          char *err, size_t err_len);

/* ---- cgroups_v2.c ---- */

/* Whether to use v2 under root: root is a v2 mount (a pure v2 host), or root/unified is one with
 * the cpu and memory controllers. */
bool cg_v2_detect(const char *root);

/* ---- cgroupfs.c ---- */

/* Writes base[/id][/file] of h into buf; false (and a message) when it does not fit. */
bool cg_path(char *buf, size_t len, const cg_hierarchy_t *h, const char *id, const char *file,
             char *err, size_t err_len);
/* Writes the formatted value into the container's control file (id NULL: the subtree's own). */
actor_err_t cg_writef(const cg_hierarchy_t *h, const char *id, const char *file, char *err,
                      size_t err_len, const char *fmt, ...) __attribute__((format(printf, 6, 7)));
/* For a write to a file that a kernel may lack (memory.memsw.*, memory.swap.max): a missing file
 * (ACTOR_ENOENT) is no error. */
actor_err_t cg_optional(actor_err_t rc);
/* Writes value into the file at an absolute path (plain: create it if missing). */
actor_err_t cg_write_path(bool plain, const char *path, const char *value, char *err,
                          size_t err_len);
/* Reads a control file whole (*out freed by the caller). */
actor_err_t cg_read(const cg_hierarchy_t *h, const char *id, const char *file, char **out,
                    char *err, size_t err_len);
/* Reads a control file holding one unsigned number, or "max" (UINT64_MAX). */
actor_err_t cg_read_u64(const cg_hierarchy_t *h, const char *id, const char *file, uint64_t *value,
                        char *err, size_t err_len);
/* Reads a control file holding one signed number (cpu.cfs_quota_us: -1 = none). */
actor_err_t cg_read_i64(const cg_hierarchy_t *h, const char *id, const char *file, int64_t *value,
                        char *err, size_t err_len);
/* Reads a flat keyed file and stores each of n keys' values (absent keys leave theirs as is). */
actor_err_t cg_read_keys(const cg_hierarchy_t *h, const char *id, const char *file,
                         const char *const *keys, uint64_t *const *values, size_t n, char *err,
                         size_t err_len);
/* Whether base[/id][/file] exists. */
bool cg_exists(const cg_hierarchy_t *h, const char *id, const char *file);
/* Counts the lines of a list file (cgroup.procs, tasks); a missing file counts 0. */
actor_err_t cg_count_lines(const cg_hierarchy_t *h, const char *id, const char *file,
                           uint32_t *count, char *err, size_t err_len);
/* The pids in the container's cgroup.procs of every hierarchy, without duplicates (*pids freed
 * by the caller; NULL when *count is 0). A missing file lists none. */
actor_err_t cg_pids(const cgroups_t *cg, const char *id, pid_t **pids, size_t *count, char *err,
                    size_t err_len);
/* Creates a directory; an existing one is fine when exist_ok. Errors keep errno. */
actor_err_t cg_mkdir(const char *path, bool exist_ok, char *err, size_t err_len);
/* Removes a cgroup directory. In a fake tree, a directory without subdirectories loses its files
 * first, and one whose cgroup.procs lists a process is refused, as the kernel refuses it.
 * ACTOR_ENOENT when it is gone already, ACTOR_EBUSY (processes or child cgroups) and the rest
 * keep errno. */
actor_err_t cg_rmdir(bool plain, const char *path, char *err, size_t err_len);

/* Deadlines and the short waits of the polling loops. */
void cg_deadline(struct timespec *deadline, unsigned ms);
bool cg_expired(const struct timespec *deadline);
/* Sleeps *delay_us (1 ms at first), doubling it up to 16 ms for the next call. */
void cg_pause(unsigned *delay_us);

#endif
