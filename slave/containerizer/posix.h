/*
 * posix.h: usage of a container measured from /proc, for --isolation=posix/cpu,posix/mem (Mesos's
 * PosixCpuIsolator and PosixMemIsolator): nothing is enforced, the agent sums what the
 * executor's process tree uses.
 *
 * The tree is the root process (the executor) and every process whose parent chain leads to
 * it, found by one scan of /proc/<pid>/stat. A process that left the tree (a daemon that
 * reparented itself to init) is no longer counted, as in Mesos. Blocking: one read per process
 * on the machine (procfs, no disk), so the agent calls it per container when /monitor/statistics
 * is asked, from its actor.
 */
#ifndef SLAVE_CONTAINERIZER_POSIX_H
#define SLAVE_CONTAINERIZER_POSIX_H

#include <stddef.h>
#include <sys/types.h>

#include "actor/error.h"
#include "slave/containerizer/isolation.h"

/* Fills *usage (zeroed first) with the sums over root_pid and its descendants:
 * cpus_user_time_secs, cpus_system_time_secs, mem_rss_bytes, processes and threads; the other
 * fields stay 0. Errors: ACTOR_EINVAL for root_pid <= 0; ACTOR_ENOENT when root_pid does not
 * exist (or exited before it was read); ACTOR_ESYSTEM when /proc cannot be read; ACTOR_ENOMEM.
 * A message is written to err (err_len bytes, always terminated; err may be NULL). */
actor_err_t posix_usage(pid_t root_pid, container_usage_t *usage, char *err, size_t err_len);

#endif
