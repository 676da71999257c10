/*
 * cgroups_container.c: the per-container calls of cgroups.h, common to both versions: create
 * (all hierarchies or none), update, the procs files, usage, OOM, destroy (kill, then remove),
 * list and purge; and the freeze-kill-thaw loop that v1 and old v2 kernels share.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "actor/log.h"
#include "slave/containerizer/cgroups_int.h"

static actor_err_t check_id(const char *id, char *err, size_t err_len)
{
    if (cg_valid_id(id))
        return ACTOR_OK;
    cz_errorf(err, err_len,
              "Invalid container id '%.*s': use at most %d letters, digits, '_', '-' and '.' "
              "(not leading)",
              CG_ID_MAX, id != NULL ? id : "", CG_ID_MAX);
    return ACTOR_EINVAL;
}

static actor_err_t check_cpus(double cpus, char *err, size_t err_len)
{
    if (isfinite(cpus) && cpus >= 0)
        return ACTOR_OK;
    cz_errorf(err, err_len, "Invalid cpus %g: must be a finite number >= 0", cpus);
    return ACTOR_EINVAL;
}

/* The message for a container found in no hierarchy (or missing from one it must be in). */
static actor_err_t no_container(const cgroups_t *cg, const char *id, char *err, size_t err_len)
{
    cz_errorf(err, err_len, "No container '%s' in cgroup %s", id, cg->hier[0].base);
    return ACTOR_ENOENT;
}

/* How many hierarchies hold the container's cgroup. */
static size_t present_in(const cgroups_t *cg, const char *id)
{
    size_t n = 0;
    for (size_t i = 0; i < cg->count; i++)
        n += cg_exists(&cg->hier[i], id, NULL);
    return n;
}

/* ACTOR_OK when the container exists in every hierarchy, else ACTOR_ENOENT with a message. */
static actor_err_t check_present(const cgroups_t *cg, const char *id, char *err, size_t err_len)
{
    actor_err_t rc = check_id(id, err, err_len);
    if (rc != ACTOR_OK)
        return rc;
    return present_in(cg, id) == cg->count ? ACTOR_OK : no_container(cg, id, err, err_len);
}

/* Removes the container's cgroup from the first n hierarchies, retrying while the kernel still
 * reports it busy (its last processes being released) until deadline. */
static actor_err_t remove_cgroups(const cgroups_t *cg, const char *id, size_t n,
                                  const struct timespec *deadline, char *err, size_t err_len)
{
    for (size_t i = 0; i < n; i++) {
        char path[PATH_MAX];
        if (!cg_path(path, sizeof(path), &cg->hier[i], id, NULL, err, err_len))
            return ACTOR_EINVAL;
        unsigned delay = 0;
        actor_err_t rc;
        while ((rc = cg_rmdir(cg->hier[i].plain, path, err, err_len)) == ACTOR_EBUSY &&
               !cg_expired(deadline))
            cg_pause(&delay);
        if (rc != ACTOR_OK && rc != ACTOR_ENOENT)
            return rc;
    }
    return ACTOR_OK;
}

/* Makes the container's cgroup in every hierarchy (one mkdir each: an existing one is
 * ACTOR_EEXIST) and writes its limits; on error removes what it made. ACTOR_ENOENT means the
 * subtree (or, v2, a controller in it) is gone. */
static actor_err_t create_once(cgroups_t *cg, const char *id, double cpus, uint64_t mem_bytes,
                               char *err, size_t err_len)
{
    actor_err_t rc = ACTOR_OK;
    size_t made = 0;
    for (; made < cg->count && rc == ACTOR_OK; made++) {
        char path[PATH_MAX];
        rc = cg_path(path, sizeof(path), &cg->hier[made], id, NULL, err, err_len)
                 ? cg_mkdir(path, false, err, err_len)
                 : ACTOR_EINVAL;
    }
    if (rc != ACTOR_OK)
        made--; /* the last one failed: not ours to remove */
    else
        rc = cg->ops->set_limits(cg, id, cpus, mem_bytes, true, err, err_len);
    if (rc != ACTOR_OK) {
        struct timespec deadline;
        cg_deadline(&deadline, cg->destroy_timeout_ms);
        remove_cgroups(cg, id, made, &deadline, NULL, 0);
    }
    return rc;
}

/* The subtree is made by cgroups_open(), so a create costs one mkdir per hierarchy; only when
 * the subtree turns out to be gone (a purge, an operator) is it made again, and the create
 * retried once. */
actor_err_t cgroups_create(cgroups_t *cg, const char *container_id, double cpus, uint64_t mem_bytes,
                           char *err, size_t err_len)
{
    actor_err_t rc = check_id(container_id, err, err_len);
    if (rc == ACTOR_OK)
        rc = check_cpus(cpus, err, err_len);
    if (rc == ACTOR_OK)
        rc = create_once(cg, container_id, cpus, mem_bytes, err, err_len);
    if (rc == ACTOR_ENOENT) {
        rc = ACTOR_OK;
        for (size_t i = 0; i < cg->count && rc == ACTOR_OK; i++)
            rc = cg_subtree_ensure(cg, &cg->hier[i], err, err_len);
        if (rc == ACTOR_OK)
            rc = create_once(cg, container_id, cpus, mem_bytes, err, err_len);
    }
    if (rc == ACTOR_EEXIST)
        cz_errorf(err, err_len, "Container '%s' exists already in cgroup %s", container_id,
                  cg->hier[0].base);
    return rc;
}

actor_err_t cgroups_update(cgroups_t *cg, const char *container_id, double cpus, uint64_t mem_bytes,
                           char *err, size_t err_len)
{
    actor_err_t rc = check_present(cg, container_id, err, err_len);
    if (rc == ACTOR_OK)
        rc = check_cpus(cpus, err, err_len);
    if (rc == ACTOR_OK)
        rc = cg->ops->set_limits(cg, container_id, cpus, mem_bytes, false, err, err_len);
    return rc;
}

size_t cgroups_procs_files(cgroups_t *cg, const char *container_id, const char **files, size_t max)
{
    if (!cg_valid_id(container_id))
        return 0;
    for (size_t i = 0; i < cg->count; i++) {
        if (!cg_path(cg->procs[i], PATH_MAX, &cg->hier[i], container_id, "cgroup.procs", NULL, 0))
            return 0;
        if (i < max)
            files[i] = cg->procs[i];
    }
    return cg->count;
}

actor_err_t cgroups_usage(cgroups_t *cg, const char *container_id, container_usage_t *usage,
                          char *err, size_t err_len)
{
    memset(usage, 0, sizeof(*usage));
    actor_err_t rc = check_present(cg, container_id, err, err_len);
    if (rc == ACTOR_OK)
        rc = cg->ops->usage(cg, container_id, usage, err, err_len);
    if (rc == ACTOR_OK)
        rc = cg_count_lines(&cg->hier[0], container_id, "cgroup.procs", &usage->processes, err,
                            err_len);
    if (rc == ACTOR_OK)
        rc = cg_count_lines(&cg->hier[0], container_id, cg->ops->threads_file, &usage->threads, err,
                            err_len);
    return rc;
}

actor_err_t cgroups_oom_killed(cgroups_t *cg, const char *container_id, bool *killed, char *err,
                               size_t err_len)
{
    *killed = false;
    if (!cg->mem)
        return check_present(cg, container_id, err, err_len);
    /* Asked at every executor's exit: the memory files answer whether the container exists. */
    actor_err_t rc = check_id(container_id, err, err_len);
    if (rc == ACTOR_OK)
        rc = cg->ops->oom_killed(cg, container_id, killed, err, err_len);
    return rc == ACTOR_ENOENT ? no_container(cg, container_id, err, err_len) : rc;
}

actor_err_t cg_wait_empty(const cgroups_t *cg, const char *id, const struct timespec *deadline,
                          char *err, size_t err_len)
{
    unsigned delay = 0;
    for (;;) {
        pid_t *pids;
        size_t n;
        actor_err_t rc = cg_pids(cg, id, &pids, &n, err, err_len);
        free(pids);
        if (rc != ACTOR_OK || n == 0)
            return rc;
        if (cg_expired(deadline)) {
            cz_errorf(err, err_len, "%zu process(es) of container '%s' still alive", n, id);
            return ACTOR_ETIMEDOUT;
        }
        cg_pause(&delay);
    }
}

actor_err_t cg_freeze_wait(const cg_hierarchy_t *h, const char *id, bool frozen,
                           cg_frozen_fn reached, char *err, size_t err_len)
{
    struct timespec deadline;
    cg_deadline(&deadline, CG_FREEZE_TIMEOUT_MS);
    unsigned delay = 0;
    for (;;) {
        bool done = false;
        actor_err_t rc = reached(h, id, frozen, &done, err, err_len);
        if (rc != ACTOR_OK || done)
            return rc;
        if (cg_expired(&deadline)) {
            cz_errorf(err, err_len, "Container '%s' did not %s in time", id,
                      frozen ? "freeze" : "thaw");
            return ACTOR_ETIMEDOUT;
        }
        cg_pause(&delay);
    }
}

/* SIGKILLs the container's processes; *count receives how many there were. */
static actor_err_t kill_all(const cgroups_t *cg, const char *id, size_t *count, char *err,
                            size_t err_len)
{
    pid_t *pids;
    actor_err_t rc = cg_pids(cg, id, &pids, count, err, err_len);
    for (size_t i = 0; rc == ACTOR_OK && i < *count && !cg->hier[0].plain; i++)
        kill(pids[i], SIGKILL);
    free(pids);
    return rc;
}

actor_err_t cg_kill_loop(const cgroups_t *cg, const char *id, cg_freeze_fn freeze,
                         const struct timespec *deadline, char *err, size_t err_len)
{
    const cg_hierarchy_t *fz = freeze != NULL ? cg_find(cg, CG_FREEZER) : NULL;
    for (;;) {
        /* A cgroup that does not freeze in time (a process in uninterruptible sleep) is killed
         * all the same; the next round freezes it again. */
        if (fz != NULL)
            freeze(fz, id, true, NULL, 0);
        size_t n = 0;
        actor_err_t rc = kill_all(cg, id, &n, err, err_len);
        if (fz != NULL) {
            actor_err_t thaw = freeze(fz, id, false, err, err_len);
            rc = rc != ACTOR_OK ? rc : thaw;
        }
        if (rc != ACTOR_OK || n == 0)
            return rc;
        struct timespec round;
        cg_deadline(&round, CG_FREEZE_TIMEOUT_MS);
        bool last = cg_expired(deadline);
        rc = cg_wait_empty(cg, id, last ? deadline : &round, err, err_len);
        if (rc != ACTOR_ETIMEDOUT || last)
            return rc;
    }
}

/* Removes the container's cgroups while none holds a process: the kernel refuses to remove a
 * cgroup that does (EBUSY), so a container whose processes are all gone, the usual case once
 * its executor has been reaped, is destroyed with one rmdir per hierarchy and no freeze. The
 * freezer's cgroup goes last, so that it is still there to freeze what another one holds.
 * *found counts the hierarchies the container was in, up to the first busy one (*busy). */
static actor_err_t remove_idle(const cgroups_t *cg, const char *id, size_t *found, bool *busy,
                               char *err, size_t err_len)
{
    const cg_hierarchy_t *fz = cg_find(cg, CG_FREEZER), *order[CG_MAX_HIERARCHIES];
    size_t n = 0;
    for (size_t i = 0; i < cg->count; i++) {
        if (&cg->hier[i] != fz)
            order[n++] = &cg->hier[i];
    }
    if (fz != NULL)
        order[n++] = fz;
    *found = 0;
    *busy = false;
    for (size_t k = 0; k < n; k++) {
        const cg_hierarchy_t *h = order[k];
        char path[PATH_MAX];
        if (!cg_path(path, sizeof(path), h, id, NULL, err, err_len))
            return ACTOR_EINVAL;
        actor_err_t rc = cg_rmdir(h->plain, path, err, err_len);
        if (rc == ACTOR_ENOENT)
            continue;
        (*found)++;
        if (rc == ACTOR_EBUSY)
            *busy = true;
        if (rc != ACTOR_OK)
            return rc == ACTOR_EBUSY ? ACTOR_OK : rc;
    }
    return ACTOR_OK;
}

actor_err_t cgroups_destroy(cgroups_t *cg, const char *container_id, char *err, size_t err_len)
{
    actor_err_t rc = check_id(container_id, err, err_len);
    size_t found = 0;
    bool busy = false;
    if (rc == ACTOR_OK)
        rc = remove_idle(cg, container_id, &found, &busy, err, err_len);
    if (rc != ACTOR_OK || !busy)
        return rc != ACTOR_OK || found > 0 ? rc : no_container(cg, container_id, err, err_len);
    struct timespec deadline;
    cg_deadline(&deadline, cg->destroy_timeout_ms);
    rc = cg->ops->kill(cg, container_id, &deadline, err, err_len);
    if (rc == ACTOR_ETIMEDOUT)
        LOG_WARNING("Failed to destroy container %s: %s", container_id, err != NULL ? err : "");
    if (rc == ACTOR_OK)
        rc = remove_cgroups(cg, container_id, cg->count, &deadline, err, err_len);
    return rc;
}

/* Whether a directory entry is a directory (file systems that do not fill d_type are asked). */
static bool is_dir(DIR *dir, const struct dirent *de)
{
    struct stat st;
    if (de->d_type != DT_UNKNOWN)
        return de->d_type == DT_DIR;
    return fstatat(dirfd(dir), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
}

/* The names of the valid ids among base's subdirectories, appended to *ids. */
static actor_err_t list_dir(const char *base, char ***ids, size_t *count, size_t *cap, char *err,
                            size_t err_len)
{
    DIR *dir = opendir(base);
    if (dir == NULL && errno == ENOENT)
        return ACTOR_OK; /* the subtree was purged */
    if (dir == NULL) {
        cz_errorf(err, err_len, "Failed to list %s: %s", base, strerror(errno));
        return ACTOR_ESYSTEM;
    }
    actor_err_t rc = ACTOR_OK;
    struct dirent *de;
    while (rc == ACTOR_OK && (de = readdir(dir)) != NULL) {
        if (!is_dir(dir, de) || !cg_valid_id(de->d_name))
            continue;
        if (*count == *cap) {
            size_t ncap = *cap == 0 ? 16 : *cap * 2;
            char **bigger = realloc(*ids, ncap * sizeof(**ids));
            if (bigger == NULL)
                break;
            *ids = bigger;
            *cap = ncap;
        }
        (*ids)[*count] = strdup(de->d_name);
        if ((*ids)[*count] == NULL)
            break;
        (*count)++;
    }
    if (de != NULL) {
        cz_errorf(err, err_len, "Out of memory");
        rc = ACTOR_ENOMEM;
    }
    closedir(dir);
    return rc;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

actor_err_t cgroups_list(cgroups_t *cg, char ***ids, size_t *count, char *err, size_t err_len)
{
    size_t n = 0, cap = 0;
    char **names = NULL;
    for (size_t i = 0; i < cg->count; i++) {
        actor_err_t rc = list_dir(cg->hier[i].base, &names, &n, &cap, err, err_len);
        if (rc != ACTOR_OK) {
            cgroups_list_free(names, n);
            *ids = NULL;
            *count = 0;
            return rc;
        }
    }
    if (n > 0)
        qsort(names, n, sizeof(*names), by_name);
    size_t kept = 0;
    for (size_t i = 0; i < n; i++) {
        if (kept > 0 && strcmp(names[kept - 1], names[i]) == 0)
            free(names[i]);
        else
            names[kept++] = names[i];
    }
    *ids = kept > 0 ? names : NULL;
    if (kept == 0)
        free(names);
    *count = kept;
    return ACTOR_OK;
}

void cgroups_list_free(char **ids, size_t count)
{
    for (size_t i = 0; i < count; i++)
        free(ids[i]);
    free(ids);
}

/* Removes the subtree's directories of h from the base up to (not including) the anchor,
 * stopping at the first that is not empty (shared with another agent's subtree). */
static actor_err_t remove_subtree(const cg_hierarchy_t *h, char *err, size_t err_len)
{
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s", h->base);
    size_t anchor_len = strlen(h->anchor);
    while (strlen(path) > anchor_len) {
        actor_err_t rc = cg_rmdir(h->plain, path, err, err_len);
        if (rc == ACTOR_EBUSY)
            return ACTOR_OK;
        if (rc != ACTOR_OK && rc != ACTOR_ENOENT)
            return rc;
        *strrchr(path, '/') = '\0';
    }
    return ACTOR_OK;
}

actor_err_t cgroups_purge(cgroups_t *cg, char *err, size_t err_len)
{
    char **ids;
    size_t n;
    actor_err_t first = cgroups_list(cg, &ids, &n, err, err_len);
    if (first != ACTOR_OK)
        return first;
    for (size_t i = 0; i < n; i++) {
        char *e = first == ACTOR_OK ? err : NULL;
        actor_err_t rc = cgroups_destroy(cg, ids[i], e, e != NULL ? err_len : 0);
        if (rc != ACTOR_OK && rc != ACTOR_ENOENT && first == ACTOR_OK)
            first = rc;
    }
    cgroups_list_free(ids, n);
    for (size_t i = 0; i < cg->count; i++) {
        char *e = first == ACTOR_OK ? err : NULL;
        actor_err_t rc = remove_subtree(&cg->hier[i], e, e != NULL ? err_len : 0);
        if (rc != ACTOR_OK && first == ACTOR_OK)
            first = rc;
    }
    return first;
}
