/*
 * cgroups_v1.c: cgroup v1, one mount per controller (or per group of co-mounted controllers)
 * under the root directory: <root>/cpu, <root>/cpuacct, <root>/memory, <root>/freezer.
 *
 * Files: cpu.shares, cpu.cfs_period_us, cpu.cfs_quota_us and cpu.stat (throttling) in cpu;
 * cpuacct.stat (user and system time in USER_HZ ticks) in cpuacct; memory.limit_in_bytes,
 * memory.memsw.limit_in_bytes (when swap is accounted), memory.soft_limit_in_bytes,
 * memory.usage_in_bytes, memory.max_usage_in_bytes, memory.stat (total_* are hierarchical),
 * memory.failcnt and memory.oom_control in memory; freezer.state (THAWED, FREEZING, FROZEN) in
 * freezer.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <linux/magic.h>

#include "slave/containerizer/cgroups_int.h"

/* memory.limit_in_bytes of an unlimited cgroup is PAGE_COUNTER_MAX pages: anything this large
 * means no limit. */
#define V1_UNLIMITED ((uint64_t)1 << 62)

typedef struct v1_controller {
    const char *name;  /* the mount's directory name and the /proc/self/cgroup name */
    unsigned bit;      /* CG_* */
    const char *probe; /* a file the controller puts in the hierarchy's root */
} v1_controller_t;

static const v1_controller_t v1_controllers[] = {
    {"cpu", CG_CPU, "cpu.shares"},
    {"cpuacct", CG_CPUACCT, "cpuacct.stat"},
    {"memory", CG_MEMORY, "memory.limit_in_bytes"},
    {"freezer", CG_FREEZER, NULL},
};

/* Joins ctl's bit to an earlier hierarchy on the same mount (co-mounted controllers). */
static bool join_comounted(cgroups_t *cg, const struct stat *st, unsigned bit)
{
    for (size_t i = 0; i < cg->count; i++) {
        struct stat other;
        if (stat(cg->hier[i].mount, &other) == 0 && other.st_dev == st->st_dev &&
            other.st_ino == st->st_ino) {
            cg->hier[i].controllers |= bit;
            return true;
        }
    }
    return false;
}

/* Adds the hierarchy of one controller: <root>/<name>, a cgroup mount (or a fake tree's
 * directory holding cgroup.procs). A missing optional one is skipped. */
static actor_err_t add_controller(cgroups_t *cg, const char *root, const v1_controller_t *ctl,
                                  bool required, char *err, size_t err_len)
{
    char dir[PATH_MAX], probe[PATH_MAX + 64];
    snprintf(dir, sizeof(dir), "%s/%s", root, ctl->name);
    struct stat st;
    struct statfs fs;
    if (stat(dir, &st) != 0 || statfs(dir, &fs) != 0) {
        if (!required)
            return ACTOR_OK;
        cz_errorf(err, err_len, "No cgroup v1 hierarchy for '%s' at %s: %s", ctl->name, dir,
                  strerror(errno));
        return ACTOR_ENOENT;
    }
    bool plain = fs.f_type != CGROUP_SUPER_MAGIC;
    snprintf(probe, sizeof(probe), "%s/%s", dir, plain ? "cgroup.procs" : ctl->probe);
    if ((plain || ctl->probe != NULL) && access(probe, F_OK) != 0) {
        if (!required)
            return ACTOR_OK;
        cz_errorf(err, err_len, "%s is not a cgroup v1 hierarchy with the '%s' controller", dir,
                  ctl->name);
        return ACTOR_ENOENT;
    }
    if (join_comounted(cg, &st, ctl->bit))
        return ACTOR_OK;
    actor_err_t rc = cg_hierarchy_add(cg, dir, ctl->name, ctl->bit, plain);
    if (rc != ACTOR_OK)
        cz_errorf(err, err_len, "Out of memory");
    return rc;
}

static actor_err_t v1_discover(cgroups_t *cg, const char *root, char *err, size_t err_len)
{
    bool wanted[] = {cg->cpu, cg->cpu, cg->mem, false};
    actor_err_t rc = ACTOR_OK;
    for (size_t i = 0; i < 4 && rc == ACTOR_OK; i++) {
        bool optional = v1_controllers[i].bit == CG_FREEZER;
        if (wanted[i] || optional)
            rc = add_controller(cg, root, &v1_controllers[i], wanted[i], err, err_len);
    }
    if (rc == ACTOR_OK && cg->count == 0) {
        cz_errorf(err, err_len, "No cgroup v1 hierarchy to use under %s (cpu, memory, freezer)",
                  root);
        rc = ACTOR_ENOENT;
    }
    return rc;
}

/* Without cfs_quota, no quota (-1): what the kernel gives a new cgroup already, so only a fake
 * tree's is written at creation. */
static actor_err_t v1_set_cpu(const cgroups_t *cg, const char *id, double cpus, bool create,
                              char *err, size_t err_len)
{
    const cg_hierarchy_t *h = cg_find(cg, CG_CPU);
    actor_err_t rc = cg_writef(h, id, "cpu.shares", err, err_len, "%llu",
                               (unsigned long long)cg_cpu_shares(cpus));
    if (rc != ACTOR_OK)
        return rc;
    if (!cg->cfs_quota && create && !h->plain)
        return ACTOR_OK;
    if (!cg->cfs_quota)
        return cg_writef(h, id, "cpu.cfs_quota_us", err, err_len, "-1");
    rc = cg_writef(h, id, "cpu.cfs_period_us", err, err_len, "%d", CG_CFS_PERIOD_US);
    if (rc != ACTOR_OK)
        return rc;
    return cg_writef(h, id, "cpu.cfs_quota_us", err, err_len, "%llu",
                     (unsigned long long)cg_cfs_quota_us(cpus));
}

/* Sets the hard limit, keeping memsw >= the memory limit at every step as the kernel requires:
 * memsw last when lowering from the current limit, first when raising. */
static actor_err_t v1_set_hard(const cg_hierarchy_t *h, const char *id, uint64_t limit,
                               bool lowering, char *err, size_t err_len)
{
    const char *mem = "memory.limit_in_bytes", *memsw = "memory.memsw.limit_in_bytes";
    unsigned long long v = (unsigned long long)limit;
    actor_err_t rc = lowering ? cg_writef(h, id, mem, err, err_len, "%llu", v)
                              : cg_optional(cg_writef(h, id, memsw, err, err_len, "%llu", v));
    if (rc != ACTOR_OK)
        return rc;
    return lowering ? cg_optional(cg_writef(h, id, memsw, err, err_len, "%llu", v))
                    : cg_writef(h, id, mem, err, err_len, "%llu", v);
}

static actor_err_t v1_set_mem(const cgroups_t *cg, const char *id, uint64_t mem_bytes, bool create,
                              char *err, size_t err_len)
{
    const cg_hierarchy_t *h = cg_find(cg, CG_MEMORY);
    uint64_t limit = cg_mem_limit(mem_bytes);
    actor_err_t rc = cg_writef(h, id, "memory.soft_limit_in_bytes", err, err_len, "%llu",
                               (unsigned long long)limit);
    if (rc != ACTOR_OK)
        return rc;
    if (create) /* from unlimited */
        return v1_set_hard(h, id, limit, true, err, err_len);
    uint64_t current;
    rc = cg_read_u64(h, id, "memory.limit_in_bytes", &current, err, err_len);
    if (rc != ACTOR_OK || limit <= current)
        return rc;
    return v1_set_hard(h, id, limit, false, err, err_len);
}

static actor_err_t v1_set_limits(const cgroups_t *cg, const char *id, double cpus,
                                 uint64_t mem_bytes, bool create, char *err, size_t err_len)
{
    actor_err_t rc = ACTOR_OK;
    if (cg->cpu)
        rc = v1_set_cpu(cg, id, cpus, create, err, err_len);
    if (rc == ACTOR_OK && cg->mem)
        rc = v1_set_mem(cg, id, mem_bytes, create, err, err_len);
    return rc;
}

/* cpus_limit: the CFS quota when one is set, else the shares. */
static actor_err_t v1_cpus_limit(const cg_hierarchy_t *h, const char *id, double *limit, char *err,
                                 size_t err_len)
{
    int64_t quota;
    uint64_t period, shares;
    actor_err_t rc = cg_read_i64(h, id, "cpu.cfs_quota_us", &quota, err, err_len);
    if (rc == ACTOR_OK && quota > 0) {
        rc = cg_read_u64(h, id, "cpu.cfs_period_us", &period, err, err_len);
        *limit = rc == ACTOR_OK && period > 0 ? (double)quota / (double)period : 0;
        return rc;
    }
    if (rc == ACTOR_OK)
        rc = cg_read_u64(h, id, "cpu.shares", &shares, err, err_len);
    if (rc == ACTOR_OK)
        *limit = (double)shares / CG_CPU_SHARES_PER_CPU;
    return rc;
}

static actor_err_t v1_usage_cpu(const cgroups_t *cg, const char *id, container_usage_t *u,
                                char *err, size_t err_len)
{
    uint64_t user = 0, system = 0, throttled_ns = 0;
    const char *acct_keys[] = {"user", "system"};
    uint64_t *const acct_values[] = {&user, &system};
    actor_err_t rc = cg_read_keys(cg_find(cg, CG_CPUACCT), id, "cpuacct.stat", acct_keys,
                                  acct_values, 2, err, err_len);
    const char *stat_keys[] = {"nr_periods", "nr_throttled", "throttled_time"};
    uint64_t *const stat_values[] = {&u->cpus_nr_periods, &u->cpus_nr_throttled, &throttled_ns};
    const cg_hierarchy_t *h = cg_find(cg, CG_CPU);
    if (rc == ACTOR_OK)
        rc = cg_read_keys(h, id, "cpu.stat", stat_keys, stat_values, 3, err, err_len);
    if (rc == ACTOR_OK)
        rc = v1_cpus_limit(h, id, &u->cpus_limit, err, err_len);
    double hz = (double)sysconf(_SC_CLK_TCK);
    u->cpus_user_time_secs = (double)user / hz;
    u->cpus_system_time_secs = (double)system / hz;
    u->cpus_throttled_time_secs = (double)throttled_ns / 1e9;
    return rc;
}

static actor_err_t v1_usage_mem(const cgroups_t *cg, const char *id, container_usage_t *u,
                                char *err, size_t err_len)
{
    const cg_hierarchy_t *h = cg_find(cg, CG_MEMORY);
    actor_err_t rc = cg_read_u64(h, id, "memory.usage_in_bytes", &u->mem_total_bytes, err, err_len);
    if (rc == ACTOR_OK)
        rc = cg_read_u64(h, id, "memory.limit_in_bytes", &u->mem_limit_bytes, err, err_len);
    if (u->mem_limit_bytes >= V1_UNLIMITED)
        u->mem_limit_bytes = 0;
    const char *keys[] = {"total_rss", "total_cache", "total_swap", "total_mapped_file"};
    uint64_t *const values[] = {&u->mem_rss_bytes, &u->mem_cache_bytes, &u->mem_swap_bytes,
                                &u->mem_mapped_file_bytes};
    if (rc == ACTOR_OK)
        rc = cg_read_keys(h, id, "memory.stat", keys, values, 4, err, err_len);
    return rc;
}

static actor_err_t v1_usage(const cgroups_t *cg, const char *id, container_usage_t *u, char *err,
                            size_t err_len)
{
    actor_err_t rc = ACTOR_OK;
    if (cg->cpu)
        rc = v1_usage_cpu(cg, id, u, err, err_len);
    if (rc == ACTOR_OK && cg->mem)
        rc = v1_usage_mem(cg, id, u, err, err_len);
    return rc;
}

/* oom_kill counts every OOM kill of the container's processes, the global OOM killer's too; the
 * container's own limit was the cause if it was reached: memory.failcnt, or on kernels that no
 * longer count failures there (6.x), a peak usage at the limit. */
static actor_err_t v1_oom_killed(const cgroups_t *cg, const char *id, bool *killed, char *err,
                                 size_t err_len)
{
    const cg_hierarchy_t *h = cg_find(cg, CG_MEMORY);
    const uint64_t unset = UINT64_MAX;
    uint64_t under_oom = 0, oom_kill = unset, failcnt = 0, peak = 0, limit = unset;
    const char *keys[] = {"under_oom", "oom_kill"};
    uint64_t *const values[] = {&under_oom, &oom_kill};
    actor_err_t rc = cg_read_keys(h, id, "memory.oom_control", keys, values, 2, err, err_len);
    if (rc != ACTOR_OK)
        return rc;
    if (oom_kill == unset) { /* before 4.13 */
        *killed = under_oom == 1;
        return ACTOR_OK;
    }
    if (oom_kill == 0)
        return ACTOR_OK;
    rc = cg_read_u64(h, id, "memory.failcnt", &failcnt, err, err_len);
    if (rc == ACTOR_OK && failcnt == 0)
        rc = cg_read_u64(h, id, "memory.max_usage_in_bytes", &peak, err, err_len);
    if (rc == ACTOR_OK && failcnt == 0)
        rc = cg_read_u64(h, id, "memory.limit_in_bytes", &limit, err, err_len);
    *killed = rc == ACTOR_OK && (failcnt > 0 || peak >= limit);
    return rc;
}

/* Whether freezer.state reads FROZEN (it reads FREEZING on the way) or THAWED. */
static actor_err_t v1_frozen(const cg_hierarchy_t *h, const char *id, bool frozen, bool *reached,
                             char *err, size_t err_len)
{
    char *text;
    actor_err_t rc = cg_read(h, id, "freezer.state", &text, err, err_len);
    if (rc != ACTOR_OK)
        return rc;
    const char *state = frozen ? "FROZEN" : "THAWED";
    *reached = strncmp(text, state, strlen(state)) == 0;
    free(text);
    return ACTOR_OK;
}

static actor_err_t v1_freeze(const cg_hierarchy_t *h, const char *id, bool frozen, char *err,
                             size_t err_len)
{
    actor_err_t rc =
        cg_writef(h, id, "freezer.state", err, err_len, "%s", frozen ? "FROZEN" : "THAWED");
    return rc == ACTOR_OK ? cg_freeze_wait(h, id, frozen, v1_frozen, err, err_len) : rc;
}

static actor_err_t v1_kill(const cgroups_t *cg, const char *id, const struct timespec *deadline,
                           char *err, size_t err_len)
{
    return cg_kill_loop(cg, id, cg_find(cg, CG_FREEZER) != NULL ? v1_freeze : NULL, deadline, err,
                        err_len);
}

const cg_ops_t cg_v1_ops = {
    .threads_file = "tasks",
    .discover = v1_discover,
    .enable = NULL,
    .set_limits = v1_set_limits,
    .usage = v1_usage,
    .oom_killed = v1_oom_killed,
    .kill = v1_kill,
};
