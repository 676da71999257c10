/*
 * cgroups.c: the handle of cgroups.h: options, version detection, the agent's subtree in each
 * hierarchy and where it hangs, and the limits computed from resources. The per-container calls
 * are in cgroups_container.c, each version's files in cgroups_v1.c and cgroups_v2.c.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actor/log.h"
#include "slave/containerizer/cgroups_int.h"

#define CGROUPS_ROOT_DEFAULT "/sys/fs/cgroup"
#define SUBTREE_MAX          255

/* A name of the subtree or a container id: letters, digits, '_', '-', '.', not leading '.'. */
static bool valid_component(const char *s, size_t len)
{
    if (len == 0 || s[0] == '.')
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '_' || c == '-' || c == '.';
        if (!ok)
            return false;
    }
    return true;
}

static bool valid_subtree(const char *s)
{
    if (s == NULL || strlen(s) > SUBTREE_MAX)
        return false;
    for (;;) {
        size_t len = strcspn(s, "/");
        if (!valid_component(s, len))
            return false;
        if (s[len] == '\0')
            return true;
        s += len + 1;
    }
}

bool cg_valid_id(const char *id)
{
    return id != NULL && strlen(id) <= CG_ID_MAX && valid_component(id, strlen(id));
}

actor_err_t cg_hierarchy_add(cgroups_t *cg, const char *mount, const char *name,
                             unsigned controllers, bool plain)
{
    if (cg->count == CG_MAX_HIERARCHIES)
        return ACTOR_EINVAL;
    cg_hierarchy_t *h = &cg->hier[cg->count];
    h->mount = strdup(mount);
    if (h->mount == NULL)
        return ACTOR_ENOMEM;
    h->name = name;
    h->controllers = controllers;
    h->plain = plain;
    cg->count++;
    return ACTOR_OK;
}

const cg_hierarchy_t *cg_find(const cgroups_t *cg, unsigned controller)
{
    for (size_t i = 0; i < cg->count; i++) {
        if (cg->hier[i].controllers & controller)
            return &cg->hier[i];
    }
    return NULL;
}

uint64_t cg_cpu_shares(double cpus)
{
    double shares = CG_CPU_SHARES_PER_CPU * cpus;
    if (shares < CG_MIN_CPU_SHARES)
        return CG_MIN_CPU_SHARES;
    return shares > CG_MAX_CPU_SHARES ? CG_MAX_CPU_SHARES : (uint64_t)shares;
}

uint64_t cg_cpu_weight(double cpus)
{
    return 1 + ((cg_cpu_shares(cpus) - 2) * 9999) / 262142;
}

uint64_t cg_cfs_quota_us(double cpus)
{
    double quota = CG_CFS_PERIOD_US * cpus;
    if (quota < CG_MIN_CFS_QUOTA_US)
        return CG_MIN_CFS_QUOTA_US;
    return quota > (double)INT64_MAX ? INT64_MAX : (uint64_t)quota;
}

uint64_t cg_mem_limit(uint64_t mem_bytes)
{
    return mem_bytes < CGROUPS_MIN_MEMORY ? CGROUPS_MIN_MEMORY : mem_bytes;
}

/* Whether the comma-separated list ctrls names controller name. */
static bool lists(const char *ctrls, const char *name)
{
    size_t nlen = strlen(name);
    for (const char *c = ctrls; *c != '\0';) {
        size_t len = strcspn(c, ",");
        if (len == nlen && strncmp(c, name, len) == 0)
            return true;
        c += len + (c[len] == ',');
    }
    return false;
}

/* This process's cgroup in the hierarchy that /proc/self/cgroup calls name (v2: ""), as a path
 * from the hierarchy's root ("/" or "/a/b"); *out is freed by the caller. */
static actor_err_t self_cgroup(const char *name, char **out, char *err, size_t err_len)
{
    char *text, *save = NULL;
    actor_err_t rc = cz_read_file("/proc/self/cgroup", &text, NULL, err, err_len);
    if (rc != ACTOR_OK)
        return rc;
    rc = ACTOR_ENOENT;
    for (char *line = strtok_r(text, "\n", &save); line != NULL && rc == ACTOR_ENOENT;
         line = strtok_r(NULL, "\n", &save)) {
        char *ctrls = strchr(line, ':');
        char *path = ctrls != NULL ? strchr(ctrls + 1, ':') : NULL;
        if (path == NULL)
            continue;
        *path++ = '\0';
        ctrls++;
        bool match = *name == '\0' ? *ctrls == '\0' : lists(ctrls, name);
        if (!match)
            continue;
        *out = strdup(path);
        rc = *out != NULL ? ACTOR_OK : ACTOR_ENOMEM;
    }
    free(text);
    if (rc == ACTOR_ENOENT)
        cz_errorf(err, err_len, "This process is in no cgroup of hierarchy '%s'", name);
    return rc;
}

actor_err_t cg_subtree_ensure(const cgroups_t *cg, const cg_hierarchy_t *h, char *err,
                              size_t err_len)
{
    char dir[PATH_MAX];
    if (snprintf(dir, sizeof(dir), "%s/%s", h->anchor, cg->subtree) >= (int)sizeof(dir)) {
        cz_errorf(err, err_len, "Path too long: %s/%s", h->anchor, cg->subtree);
        return ACTOR_EINVAL;
    }
    size_t end = strlen(h->anchor);
    for (;;) {
        char saved = dir[end];
        dir[end] = '\0';
        actor_err_t rc = end > strlen(h->anchor) ? cg_mkdir(dir, true, err, err_len) : ACTOR_OK;
        if (rc == ACTOR_OK && cg->ops->enable != NULL)
            rc = cg->ops->enable(cg, h, dir, err, err_len);
        dir[end] = saved;
        if (rc != ACTOR_OK)
            return rc;
        if (saved == '\0')
            return ACTOR_OK;
        end += 1 + strcspn(dir + end + 1, "/");
    }
}

static actor_err_t set_anchor(cgroups_t *cg, cg_hierarchy_t *h, const char *anchor)
{
    free(h->anchor);
    free(h->base);
    h->anchor = strdup(anchor);
    size_t len = strlen(anchor) + 1 + strlen(cg->subtree) + 1;
    h->base = malloc(len);
    if (h->anchor == NULL || h->base == NULL)
        return ACTOR_ENOMEM;
    snprintf(h->base, len, "%s/%s", anchor, cg->subtree);
    return ACTOR_OK;
}

/* Places the subtree at the hierarchy's root, or, when that is refused, under this process's own
 * cgroup of the hierarchy. */
static actor_err_t place_subtree(cgroups_t *cg, cg_hierarchy_t *h, char *err, size_t err_len)
{
    actor_err_t rc = set_anchor(cg, h, h->mount);
    if (rc == ACTOR_OK)
        rc = cg_subtree_ensure(cg, h, err, err_len);
    if (rc != ACTOR_ESYSTEM || (errno != EACCES && errno != EPERM && errno != EROFS))
        return rc;
    char *self, anchor[PATH_MAX];
    if (self_cgroup(h->name, &self, NULL, 0) != ACTOR_OK)
        return rc;
    bool same = strcmp(self, "/") == 0;
    int n = snprintf(anchor, sizeof(anchor), "%s%s", h->mount, self);
    free(self);
    if (same || n >= (int)sizeof(anchor))
        return rc;
    LOG_WARNING("Creating cgroup subtree %s under this process's cgroup %s because %s refused it",
                cg->subtree, anchor, h->mount);
    rc = set_anchor(cg, h, anchor);
    return rc == ACTOR_OK ? cg_subtree_ensure(cg, h, err, err_len) : rc;
}

static actor_err_t check_options(const cgroups_options_t *opts, char *err, size_t err_len)
{
    if (opts == NULL || !valid_subtree(opts->subtree)) {
        cz_errorf(err, err_len,
                  "Invalid cgroup subtree '%s': use names of letters, digits, '_', '-' and '.' "
                  "separated by '/'",
                  opts != NULL && opts->subtree != NULL ? opts->subtree : "");
        return ACTOR_EINVAL;
    }
    if (opts->version != CGROUPS_DETECT && opts->version != CGROUPS_V1 &&
        opts->version != CGROUPS_V2) {
        cz_errorf(err, err_len, "Invalid cgroups version %d", (int)opts->version);
        return ACTOR_EINVAL;
    }
    return ACTOR_OK;
}

static actor_err_t alloc_handle(const cgroups_options_t *opts, cgroups_t **out)
{
    cgroups_t *cg = calloc(1, sizeof(*cg));
    if (cg == NULL)
        return ACTOR_ENOMEM;
    *out = cg;
    cg->cpu = opts->cpu;
    cg->mem = opts->mem;
    cg->cfs_quota = opts->cfs_quota;
    cg->destroy_timeout_ms =
        opts->destroy_timeout_ms != 0 ? opts->destroy_timeout_ms : CGROUPS_DESTROY_TIMEOUT_MS;
    cg->subtree = strdup(opts->subtree);
    if (cg->subtree == NULL)
        return ACTOR_ENOMEM;
    for (size_t i = 0; i < CG_MAX_HIERARCHIES; i++) {
        cg->procs[i] = malloc(PATH_MAX);
        if (cg->procs[i] == NULL)
            return ACTOR_ENOMEM;
    }
    return ACTOR_OK;
}

actor_err_t cgroups_open(const cgroups_options_t *opts, cgroups_t **out, char *err, size_t err_len)
{
    *out = NULL;
    actor_err_t rc = check_options(opts, err, err_len);
    if (rc != ACTOR_OK)
        return rc;
    cgroups_t *cg = NULL;
    rc = alloc_handle(opts, &cg);
    if (rc != ACTOR_OK) {
        cz_errorf(err, err_len, "Out of memory");
        goto fail_close;
    }
    const char *root = opts->root != NULL ? opts->root : CGROUPS_ROOT_DEFAULT;
    cg->version = opts->version;
    if (cg->version == CGROUPS_DETECT)
        cg->version = cg_v2_detect(root) ? CGROUPS_V2 : CGROUPS_V1;
    cg->ops = cg->version == CGROUPS_V2 ? &cg_v2_ops : &cg_v1_ops;
    rc = cg->ops->discover(cg, root, err, err_len);
    for (size_t i = 0; i < cg->count && rc == ACTOR_OK; i++)
        rc = place_subtree(cg, &cg->hier[i], err, err_len);
    if (rc != ACTOR_OK)
        goto fail_close;
    for (size_t i = 0; i < cg->count; i++)
        LOG_INFO("Using cgroup %s for containers (cgroup v%d)", cg->hier[i].base, (int)cg->version);
    *out = cg;
    return ACTOR_OK;
fail_close:
    cgroups_close(cg);
    return rc;
}

void cgroups_close(cgroups_t *cg)
{
    if (cg == NULL)
        return;
    for (size_t i = 0; i < CG_MAX_HIERARCHIES; i++) {
        free(cg->hier[i].mount);
        free(cg->hier[i].anchor);
        free(cg->hier[i].base);
        free(cg->procs[i]);
    }
    free(cg->subtree);
    free(cg);
}

cgroups_version_t cgroups_version(const cgroups_t *cg)
{
    return cg->version;
}
