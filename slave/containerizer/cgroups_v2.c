/*
 * cgroups_v2.c: cgroup v2, one unified hierarchy.
 *
 * A controller is usable in a cgroup when its parent lists it in cgroup.subtree_control, so the
 * agent turns cpu and memory on ("+cpu +memory") at the anchor and at each directory of its
 * subtree, writing only those that are off. Files: cpu.weight, cpu.max ("QUOTA PERIOD" or
 * "max PERIOD"), cpu.stat (usage and throttling in microseconds), memory.max, memory.low,
 * memory.swap.max, memory.current, memory.swap.current, memory.stat, memory.events (oom,
 * oom_kill), cgroup.kill (5.14), cgroup.freeze and cgroup.events ("frozen 1", 5.2).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <linux/magic.h>

#include "slave/containerizer/cgroups_int.h"

/* Whether the whitespace-separated list text holds word. */
static bool has_word(const char *text, const char *word)
{
    size_t wlen = strlen(word);
    for (const char *p = text; *p != '\0';) {
        p += strspn(p, " \t\n+");
        size_t len = strcspn(p, " \t\n");
        if (len == wlen && strncmp(p, word, len) == 0)
            return true;
        p += len;
    }
    return false;
}

/* The v2 mount under root: root itself (a pure v2 host) or root/unified (a hybrid one). */
static bool find_mount(const char *root, char *mount, size_t len)
{
    snprintf(mount, len, "%s/cgroup.controllers", root);
    if (access(mount, F_OK) == 0) {
        snprintf(mount, len, "%s", root);
        return true;
    }
    snprintf(mount, len, "%s/unified/cgroup.controllers", root);
    if (access(mount, F_OK) == 0) {
        snprintf(mount, len, "%s/unified", root);
        return true;
    }
    return false;
}

static char *read_controllers(const char *mount)
{
    char path[PATH_MAX + 32], *text;
    snprintf(path, sizeof(path), "%s/cgroup.controllers", mount);
    return cz_read_file(path, &text, NULL, NULL, 0) == ACTOR_OK ? text : NULL;
}

bool cg_v2_detect(const char *root)
{
    char mount[PATH_MAX];
    if (!find_mount(root, mount, sizeof(mount)))
        return false;
    if (strcmp(mount, root) == 0)
        return true; /* no v1 beside it */
    char *ctrls = read_controllers(mount);
    bool usable = ctrls != NULL && has_word(ctrls, "cpu") && has_word(ctrls, "memory");
    free(ctrls);
    return usable;
}

/* Checks that the mount offers each controller asked for. */
static actor_err_t check_controllers(const cgroups_t *cg, const char *mount, char *err,
                                     size_t err_len)
{
    char *ctrls = read_controllers(mount);
    if (ctrls == NULL) {
        cz_errorf(err, err_len, "Failed to read %s/cgroup.controllers: %s", mount, strerror(errno));
        return ACTOR_ESYSTEM;
    }
    const char *missing = cg->cpu && !has_word(ctrls, "cpu")      ? "cpu"
                          : cg->mem && !has_word(ctrls, "memory") ? "memory"
                                                                  : NULL;
    if (missing != NULL) {
        ctrls[strcspn(ctrls, "\n")] = '\0';
        cz_errorf(err, err_len, "cgroup v2 at %s has no %s controller (cgroup.controllers: %s)",
                  mount, missing, ctrls);
    }
    free(ctrls);
    return missing != NULL ? ACTOR_ENOENT : ACTOR_OK;
}

static actor_err_t v2_discover(cgroups_t *cg, const char *root, char *err, size_t err_len)
{
    char mount[PATH_MAX];
    if (!find_mount(root, mount, sizeof(mount))) {
        cz_errorf(err, err_len, "No cgroup v2 hierarchy at %s or %s/unified", root, root);
        return ACTOR_ENOENT;
    }
    struct statfs fs;
    if (statfs(mount, &fs) != 0) {
        cz_errorf(err, err_len, "Failed to stat %s: %s", mount, strerror(errno));
        return ACTOR_ESYSTEM;
    }
    actor_err_t rc = check_controllers(cg, mount, err, err_len);
    if (rc != ACTOR_OK)
        return rc;
    unsigned bits = CG_FREEZER | (cg->cpu ? CG_CPU | CG_CPUACCT : 0) | (cg->mem ? CG_MEMORY : 0);
    rc = cg_hierarchy_add(cg, mount, "", bits, fs.f_type != CGROUP2_SUPER_MAGIC);
    if (rc != ACTOR_OK)
        cz_errorf(err, err_len, "Out of memory");
    return rc;
}

/* Turns the controllers in use on in dir's cgroup.subtree_control, writing those that are off. */
static actor_err_t v2_enable(const cgroups_t *cg, const cg_hierarchy_t *h, const char *dir,
                             char *err, size_t err_len)
{
    char path[PATH_MAX + 32], value[32] = "";
    snprintf(path, sizeof(path), "%s/cgroup.subtree_control", dir);
    char *current = NULL;
    actor_err_t rc = cz_read_file(path, &current, NULL, err, err_len);
    if (rc != ACTOR_OK && !(rc == ACTOR_ENOENT && h->plain))
        return rc;
    if (cg->cpu && (current == NULL || !has_word(current, "cpu")))
        strcat(value, "+cpu");
    if (cg->mem && (current == NULL || !has_word(current, "memory")))
        strcat(value, value[0] != '\0' ? " +memory" : "+memory");
    free(current);
    return value[0] != '\0' ? cg_write_path(h->plain, path, value, err, err_len) : ACTOR_OK;
}

static actor_err_t v2_set_cpu(const cg_hierarchy_t *h, const char *id, double cpus, bool quota,
                              char *err, size_t err_len)
{
    actor_err_t rc = cg_writef(h, id, "cpu.weight", err, err_len, "%llu",
                               (unsigned long long)cg_cpu_weight(cpus));
    if (rc != ACTOR_OK)
        return rc;
    if (!quota)
        return cg_writef(h, id, "cpu.max", err, err_len, "max %d", CG_CFS_PERIOD_US);
    return cg_writef(h, id, "cpu.max", err, err_len, "%llu %d",
                     (unsigned long long)cg_cfs_quota_us(cpus), CG_CFS_PERIOD_US);
}

/* memory.low is the soft limit; memory.max only grows after the container's creation. */
static actor_err_t v2_set_mem(const cg_hierarchy_t *h, const char *id, uint64_t mem_bytes,
                              bool create, char *err, size_t err_len)
{
    unsigned long long limit = (unsigned long long)cg_mem_limit(mem_bytes);
    actor_err_t rc = cg_writef(h, id, "memory.low", err, err_len, "%llu", limit);
    if (rc != ACTOR_OK)
        return rc;
    if (!create) {
        uint64_t current;
        rc = cg_read_u64(h, id, "memory.max", &current, err, err_len);
        if (rc != ACTOR_OK || limit <= current)
            return rc;
    }
    rc = cg_writef(h, id, "memory.max", err, err_len, "%llu", limit);
    if (rc == ACTOR_OK && create)
        rc = cg_optional(cg_writef(h, id, "memory.swap.max", err, err_len, "0"));
    return rc;
}

static actor_err_t v2_set_limits(const cgroups_t *cg, const char *id, double cpus,
                                 uint64_t mem_bytes, bool create, char *err, size_t err_len)
{
    actor_err_t rc = ACTOR_OK;
    if (cg->cpu)
        rc = v2_set_cpu(&cg->hier[0], id, cpus, cg->cfs_quota, err, err_len);
    if (rc == ACTOR_OK && cg->mem)
        rc = v2_set_mem(&cg->hier[0], id, mem_bytes, create, err, err_len);
    return rc;
}

/* cpus_limit: the quota of cpu.max when one is set, else from cpu.weight turned back into
 * shares (the conversion loses a little: within 3% of the cpus set). */
static actor_err_t v2_cpus_limit(const cg_hierarchy_t *h, const char *id, double *limit, char *err,
                                 size_t err_len)
{
    char *text;
    actor_err_t rc = cg_read(h, id, "cpu.max", &text, err, err_len);
    if (rc != ACTOR_OK)
        return rc;
    unsigned long long quota, period;
    bool capped = sscanf(text, "%llu %llu", &quota, &period) == 2 && period > 0;
    free(text);
    if (capped) {
        *limit = (double)quota / (double)period;
        return ACTOR_OK;
    }
    uint64_t weight;
    rc = cg_read_u64(h, id, "cpu.weight", &weight, err, err_len);
    if (rc == ACTOR_OK && weight >= 1)
        *limit = (2.0 + (double)(weight - 1) * 262142.0 / 9999.0) / CG_CPU_SHARES_PER_CPU;
    return rc;
}

static actor_err_t v2_usage_cpu(const cg_hierarchy_t *h, const char *id, container_usage_t *u,
                                char *err, size_t err_len)
{
    uint64_t user = 0, system = 0, throttled = 0;
    const char *keys[] = {"user_usec", "system_usec", "nr_periods", "nr_throttled",
                          "throttled_usec"};
    uint64_t *const values[] = {&user, &system, &u->cpus_nr_periods, &u->cpus_nr_throttled,
                                &throttled};
    actor_err_t rc = cg_read_keys(h, id, "cpu.stat", keys, values, 5, err, err_len);
    if (rc == ACTOR_OK)
        rc = v2_cpus_limit(h, id, &u->cpus_limit, err, err_len);
    u->cpus_user_time_secs = (double)user / 1e6;
    u->cpus_system_time_secs = (double)system / 1e6;
    u->cpus_throttled_time_secs = (double)throttled / 1e6;
    return rc;
}

static actor_err_t v2_usage_mem(const cg_hierarchy_t *h, const char *id, container_usage_t *u,
                                char *err, size_t err_len)
{
    actor_err_t rc = cg_read_u64(h, id, "memory.current", &u->mem_total_bytes, err, err_len);
    if (rc == ACTOR_OK)
        rc = cg_read_u64(h, id, "memory.max", &u->mem_limit_bytes, err, err_len);
    if (u->mem_limit_bytes == UINT64_MAX)
        u->mem_limit_bytes = 0;
    const char *keys[] = {"anon", "file", "file_mapped"};
    uint64_t *const values[] = {&u->mem_rss_bytes, &u->mem_cache_bytes, &u->mem_mapped_file_bytes};
    if (rc == ACTOR_OK)
        rc = cg_read_keys(h, id, "memory.stat", keys, values, 3, err, err_len);
    if (rc == ACTOR_OK && cg_exists(h, id, "memory.swap.current"))
        rc = cg_read_u64(h, id, "memory.swap.current", &u->mem_swap_bytes, err, err_len);
    return rc;
}

static actor_err_t v2_usage(const cgroups_t *cg, const char *id, container_usage_t *u, char *err,
                            size_t err_len)
{
    actor_err_t rc = ACTOR_OK;
    if (cg->cpu)
        rc = v2_usage_cpu(&cg->hier[0], id, u, err, err_len);
    if (rc == ACTOR_OK && cg->mem)
        rc = v2_usage_mem(&cg->hier[0], id, u, err, err_len);
    return rc;
}

/* memory.events counts OOM kills of any cause; oom > 0 says the container hit its own limit. */
static actor_err_t v2_oom_killed(const cgroups_t *cg, const char *id, bool *killed, char *err,
                                 size_t err_len)
{
    uint64_t oom = 0, oom_kill = 0;
    const char *keys[] = {"oom", "oom_kill"};
    uint64_t *const values[] = {&oom, &oom_kill};
    actor_err_t rc = cg_read_keys(&cg->hier[0], id, "memory.events", keys, values, 2, err, err_len);
    *killed = rc == ACTOR_OK && oom > 0 && oom_kill > 0;
    return rc;
}

/* Whether cgroup.events says "frozen 1" (or 0). */
static actor_err_t v2_frozen(const cg_hierarchy_t *h, const char *id, bool frozen, bool *reached,
                             char *err, size_t err_len)
{
    uint64_t state = 2;
    const char *keys[] = {"frozen"};
    uint64_t *const values[] = {&state};
    actor_err_t rc = cg_read_keys(h, id, "cgroup.events", keys, values, 1, err, err_len);
    *reached = state == (uint64_t)frozen;
    return rc;
}

static actor_err_t v2_freeze(const cg_hierarchy_t *h, const char *id, bool frozen, char *err,
                             size_t err_len)
{
    actor_err_t rc = cg_writef(h, id, "cgroup.freeze", err, err_len, "%d", frozen);
    return rc == ACTOR_OK ? cg_freeze_wait(h, id, frozen, v2_frozen, err, err_len) : rc;
}

static actor_err_t v2_kill(const cgroups_t *cg, const char *id, const struct timespec *deadline,
                           char *err, size_t err_len)
{
    const cg_hierarchy_t *h = &cg->hier[0];
    if (cg_exists(h, id, "cgroup.kill")) {
        actor_err_t rc = cg_writef(h, id, "cgroup.kill", err, err_len, "1");
        return rc == ACTOR_OK ? cg_wait_empty(cg, id, deadline, err, err_len) : rc;
    }
    bool freezable = cg_exists(h, id, "cgroup.freeze");
    return cg_kill_loop(cg, id, freezable ? v2_freeze : NULL, deadline, err, err_len);
}

const cg_ops_t cg_v2_ops = {
    .threads_file = "cgroup.threads",
    .discover = v2_discover,
    .enable = v2_enable,
    .set_limits = v2_set_limits,
    .usage = v2_usage,
    .oom_killed = v2_oom_killed,
    .kill = v2_kill,
};
