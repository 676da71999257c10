/*
 * cgroups.h: the agent's isolation with Linux control groups (--isolation=cgroups/cpu,cgroups/mem),
 * as Mesos's cgroups isolators and Linux launcher do it.
 *
 * Each container (one executor and its tasks) gets a cgroup named by its container id under the
 * agent's own subtree, in every hierarchy used:
 *   v1: <root>/<controller>/<subtree>/<container> for cpu and cpuacct (with cpu), memory (with
 *       mem), and freezer whenever it is mounted, so that destroying is race-free. Co-mounted
 *       controllers ("cpu,cpuacct") share one directory.
 *   v2: <mount>/<subtree>/<container>, with the cpu and memory controllers turned on in the
 *       cgroup.subtree_control of the mount's root and of each directory of the subtree.
 * The subtree is relative to each hierarchy's root; if mkdir is refused there (EACCES, EPERM,
 * EROFS: an agent inside a container or a delegated systemd unit), it is made relative to the
 * cgroup this process is in (/proc/self/cgroup) instead. Several agents share a host (as in
 * mesos-local) by using different subtrees: an agent touches nothing outside its own, except
 * turning controllers on in the v2 root's cgroup.subtree_control when they are off.
 *
 * Limits, as Mesos sets them: cpu.shares = 1024 * cpus, at least 2 (v2 cpu.weight converted from
 * the shares as systemd and the kernel do: 1 + ((shares - 2) * 9999) / 262142); with cfs_quota, a
 * hard cap of cpus * 100 ms per 100 ms period, at least 1 ms (v1 cpu.cfs_quota_us, v2 cpu.max);
 * memory: max(mem_bytes, 32 MiB) as the hard limit (v1 memory.limit_in_bytes and, where swap is
 * accounted, memory.memsw.limit_in_bytes, so no swap; v2 memory.max and memory.swap.max 0) and
 * the soft one (v1 memory.soft_limit_in_bytes, v2 memory.low). cgroups_update() raises the hard
 * memory limit but never lowers it (lowering below the usage would OOM-kill the container): as in
 * Mesos, a smaller memory only lowers the soft limit.
 *
 * A process joins a container by writing its pid into each of cgroups_procs_files():
 * actor_subprocess_spawn() does it between its clone and exec, so that an executor starts inside
 * its cgroups; its children inherit them.
 *
 * Threads and blocking: plain blocking calls on small files of cgroupfs (microseconds each),
 * meant for the agent actor that owns the cgroups_t; a cgroups_t is not thread-safe.
 * cgroups_destroy() and cgroups_purge() also wait for killed processes to be gone (milliseconds,
 * at most destroy_timeout_ms).
 *
 * Fake trees: a root that is not on a cgroup filesystem but holds the hierarchy's files
 * (cgroup.controllers for v2, cgroup.procs in each v1 hierarchy) is taken for an imitation of
 * cgroupfs, which is how the tests drive v2 on machines without its controllers: control files
 * are then created when written, destroying a cgroup also removes the files in it, and a cgroup
 * whose cgroup.procs lists a process cannot be removed (the kernel's EBUSY).
 *
 * Errors are actor_err_t with a message in err (err_len bytes, always terminated; err may be
 * NULL): ACTOR_EINVAL for bad options, ids or values; ACTOR_ENOENT for a missing hierarchy,
 * controller or container; ACTOR_EEXIST; ACTOR_ETIMEDOUT when processes outlive a destroy;
 * ACTOR_ESYSTEM for a failed system call (with the file and reason in the message); ACTOR_ENOMEM.
 */
#ifndef SLAVE_CONTAINERIZER_CGROUPS_H
#define SLAVE_CONTAINERIZER_CGROUPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "actor/error.h"
#include "slave/containerizer/isolation.h"

typedef enum cgroups_version {
    CGROUPS_DETECT = 0, /* v2 if the unified mount has the cpu and memory controllers, else v1 */
    CGROUPS_V1 = 1,
    CGROUPS_V2 = 2,
} cgroups_version_t;

/* Mesos's MIN_MEMORY: the smallest hard memory limit given to a container. */
#define CGROUPS_MIN_MEMORY ((uint64_t)32 * 1024 * 1024)
/* Default bound on cgroups_destroy()'s wait for the killed processes. */
#define CGROUPS_DESTROY_TIMEOUT_MS 10000

typedef struct cgroups cgroups_t;

typedef struct cgroups_options {
    cgroups_version_t version; /* CGROUPS_DETECT (0) detects */
    /* v1: the directory holding the hierarchies; v2: the unified mount, or a directory whose
     * "unified" subdirectory is it. NULL = "/sys/fs/cgroup". Detection looks for a v2 mount at
     * root itself (a pure v2 host) and at root/unified (a hybrid one). */
    const char *root;
    /* The agent's own subtree, relative: one or more names of letters, digits, '_', '-', '.'
     * (not leading) separated by '/', e.g. "mesos-agent-5051". Required. */
    const char *subtree;
    bool cpu;                    /* cgroups/cpu: shares (and quota) */
    bool mem;                    /* cgroups/mem: memory limits */
    bool cfs_quota;              /* --cgroups_enable_cfs: a hard CPU cap; default shares only */
    unsigned destroy_timeout_ms; /* 0 = CGROUPS_DESTROY_TIMEOUT_MS */
} cgroups_options_t;

/* Finds the hierarchies (detecting the version if asked), checks that the controllers asked for
 * are there, and creates the agent's subtree in each hierarchy (existing ones are kept: an agent
 * that restarts finds its containers there). *out receives the handle. Errors: ACTOR_EINVAL (no
 * or a bad subtree), ACTOR_ENOENT (a hierarchy or controller is missing: "cgroup v2 at
 * /sys/fs/cgroup/unified has no memory controller (cgroup.controllers: hugetlb)"),
 * ACTOR_ESYSTEM, ACTOR_ENOMEM. */
actor_err_t cgroups_open(const cgroups_options_t *opts, cgroups_t **out, char *err, size_t err_len);

/* Frees the handle. Containers and the subtree stay (use cgroups_purge() to remove them).
 * Accepts NULL. Cannot fail. */
void cgroups_close(cgroups_t *cg);

/* The version in use (never CGROUPS_DETECT). Cannot fail. */
cgroups_version_t cgroups_version(const cgroups_t *cg);

/* Creates the container's cgroups and sets its limits. container_id: letters, digits, '_', '-',
 * '.' (not leading), at most 128 characters. cpus >= 0 and mem_bytes are the container's
 * resources (ignored unless the cpu or mem controller is on). A subtree removed since
 * cgroups_open() (by cgroups_purge(), say) is made again. Errors: ACTOR_EINVAL (bad id or cpus),
 * ACTOR_EEXIST (it exists in some hierarchy), ACTOR_ESYSTEM; on error nothing is left behind. */
actor_err_t cgroups_create(cgroups_t *cg, const char *container_id, double cpus, uint64_t mem_bytes,
                           char *err, size_t err_len);

/* Sets the limits of an existing container for new resources (the hard memory limit only
 * grows; see above). Errors: ACTOR_EINVAL, ACTOR_ENOENT (no such container), ACTOR_ESYSTEM. */
actor_err_t cgroups_update(cgroups_t *cg, const char *container_id, double cpus, uint64_t mem_bytes,
                           char *err, size_t err_len);

/* The cgroup.procs files (absolute paths, one per hierarchy) that a process is written into to
 * join the container, for actor_subprocess_options_t.cgroup_procs. Stores up to max of them in
 * files and returns how many there are (0 for an invalid id). The strings belong to cg and stay
 * valid until the next cgroups_procs_files() or cgroups_close(). Cannot fail otherwise. */
size_t cgroups_procs_files(cgroups_t *cg, const char *container_id, const char **files, size_t max);

/* Reads the container's usage into *usage (zeroed first): CPU times, throttling and cpus_limit
 * with cpu; memory figures and limit with mem; processes and threads always. Errors:
 * ACTOR_EINVAL, ACTOR_ENOENT (no such container), ACTOR_ESYSTEM (a file did not parse). */
actor_err_t cgroups_usage(cgroups_t *cg, const char *container_id, container_usage_t *usage,
                          char *err, size_t err_len);

/* Sets *killed to whether the kernel's OOM killer killed a process of the container because the
 * container reached its memory limit: v1 memory.oom_control's oom_kill count, with the limit
 * reached (memory.failcnt, or memory.max_usage_in_bytes at memory.limit_in_bytes); before
 * kernel 4.13, which lacks the count, whether it is under_oom now; v2 memory.events' oom_kill
 * with a non-zero oom. Always false without the mem controller. Errors: ACTOR_EINVAL,
 * ACTOR_ENOENT (no such container), ACTOR_ESYSTEM. */
actor_err_t cgroups_oom_killed(cgroups_t *cg, const char *container_id, bool *killed, char *err,
                               size_t err_len);

/* Kills every process of the container and removes its cgroups. A container with no process
 * left (its executor exited and was reaped) is only removed: no freeze, no signal. Otherwise,
 * v1: freeze, SIGKILL every process, thaw, until none is left (the freezer stops them from
 * forking or exiting meanwhile, so no pid is reused under us); v2: cgroup.kill, or the same
 * loop with cgroup.freeze on kernels before 5.14. Also removes what a create interrupted by a
 * crash left in some hierarchies only.
 * Errors: ACTOR_EINVAL, ACTOR_ENOENT (the container exists in no hierarchy: nothing to do),
 * ACTOR_ETIMEDOUT (processes still there after destroy_timeout_ms; its cgroups stay and a later
 * call may finish), ACTOR_ESYSTEM. */
actor_err_t cgroups_destroy(cgroups_t *cg, const char *container_id, char *err, size_t err_len);

/* The ids of the containers under the agent's subtree, in any hierarchy, sorted and without
 * duplicates (for recovery: the agent destroys those it does not know). *ids (NULL when count
 * is 0) is freed with cgroups_list_free(). Directories whose names are not valid ids are
 * skipped. Errors: ACTOR_ESYSTEM, ACTOR_ENOMEM; on error *ids is NULL and *count 0. */
actor_err_t cgroups_list(cgroups_t *cg, char ***ids, size_t *count, char *err, size_t err_len);
void cgroups_list_free(char **ids, size_t count);

/* Destroys every container of the subtree and removes the subtree itself (its directories that
 * are then empty: a parent shared with another agent's subtree stays), for an agent that shuts
 * down for good, and for tests. The handle stays usable: cgroups_create() makes the subtree
 * again. Errors: those of cgroups_destroy() and cgroups_list(); it goes on past a container it
 * could not destroy and reports the first error. */
actor_err_t cgroups_purge(cgroups_t *cg, char *err, size_t err_len);

#endif
