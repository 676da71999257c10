/*
 * cgroupfs.c: control files and directories of cgroups (cgroups_int.h).
 *
 * Every control file is small and read or written whole with one system call each way, as the
 * kernel expects (a write is one value; a short write is an error). In a fake tree (plain) a
 * write creates the file and a directory's files are removed with it, which cgroupfs does itself.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "slave/containerizer/cgroups_int.h"

bool cg_path(char *buf, size_t len, const cg_hierarchy_t *h, const char *id, const char *file,
             char *err, size_t err_len)
{
    int n = snprintf(buf, len, "%s%s%s%s%s", h->base, id != NULL ? "/" : "", id != NULL ? id : "",
                     file != NULL ? "/" : "", file != NULL ? file : "");
    if (n < 0 || (size_t)n >= len) {
        cz_errorf(err, err_len, "Path too long under %s", h->base);
        return false;
    }
    return true;
}

actor_err_t cg_write_path(bool plain, const char *path, const char *value, char *err,
                          size_t err_len)
{
    int flags = O_WRONLY | O_CLOEXEC | (plain ? O_CREAT | O_TRUNC : 0);
    int fd = open(path, flags, 0644);
    size_t len = strlen(value);
    ssize_t wrote = -1;
    if (fd >= 0) {
        do
            wrote = write(fd, value, len);
        while (wrote < 0 && errno == EINTR);
        int saved = errno;
        close(fd);
        errno = saved;
    }
    if (wrote == (ssize_t)len)
        return ACTOR_OK;
    int errnum = wrote < 0 ? errno : EIO;
    cz_errorf(err, err_len, "Failed to write '%s' to %s: %s", value, path, strerror(errnum));
    errno = errnum;
    return cz_errno(errnum);
}

actor_err_t cg_writef(const cg_hierarchy_t *h, const char *id, const char *file, char *err,
                      size_t err_len, const char *fmt, ...)
{
    char path[PATH_MAX], value[64];
    if (!cg_path(path, sizeof(path), h, id, file, err, err_len))
        return ACTOR_EINVAL;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(value, sizeof(value), fmt, ap);
    va_end(ap);
    return cg_write_path(h->plain, path, value, err, err_len);
}

actor_err_t cg_optional(actor_err_t rc)
{
    return rc == ACTOR_ENOENT ? ACTOR_OK : rc;
}

actor_err_t cg_read(const cg_hierarchy_t *h, const char *id, const char *file, char **out,
                    char *err, size_t err_len)
{
    char path[PATH_MAX];
    if (!cg_path(path, sizeof(path), h, id, file, err, err_len))
        return ACTOR_EINVAL;
    return cz_read_file(path, out, NULL, err, err_len);
}

/* The message for a control file whose content is not what the kernel writes. */
static actor_err_t bad_content(const cg_hierarchy_t *h, const char *id, const char *file,
                               const char *text, char *err, size_t err_len)
{
    char path[PATH_MAX];
    if (cg_path(path, sizeof(path), h, id, file, err, err_len))
        cz_errorf(err, err_len, "Unexpected content in %s: '%.32s'", path, text);
    return ACTOR_ESYSTEM;
}

/* Parses one decimal number, signed or not, followed by at most a newline. */
static bool parse_number(const char *text, bool is_signed, uint64_t *value)
{
    char *end;
    errno = 0;
    if (is_signed)
        *value = (uint64_t)strtoll(text, &end, 10);
    else if (text[0] >= '0' && text[0] <= '9')
        *value = strtoull(text, &end, 10);
    else
        return false;
    return errno == 0 && end != text && (*end == '\n' || *end == '\0');
}

/* Reads a control file holding one number, or "max" (UINT64_MAX). */
static actor_err_t read_number(const cg_hierarchy_t *h, const char *id, const char *file,
                               bool is_signed, uint64_t *value, char *err, size_t err_len)
{
    char *text;
    actor_err_t rc = cg_read(h, id, file, &text, err, err_len);
    if (rc != ACTOR_OK)
        return rc;
    if (strcmp(text, "max\n") == 0 || strcmp(text, "max") == 0)
        *value = UINT64_MAX;
    else if (!parse_number(text, is_signed, value))
        rc = bad_content(h, id, file, text, err, err_len);
    free(text);
    return rc;
}

actor_err_t cg_read_u64(const cg_hierarchy_t *h, const char *id, const char *file, uint64_t *value,
                        char *err, size_t err_len)
{
    return read_number(h, id, file, false, value, err, err_len);
}

actor_err_t cg_read_i64(const cg_hierarchy_t *h, const char *id, const char *file, int64_t *value,
                        char *err, size_t err_len)
{
    uint64_t v = 0;
    actor_err_t rc = read_number(h, id, file, true, &v, err, err_len);
    *value = (int64_t)v;
    return rc;
}

actor_err_t cg_read_keys(const cg_hierarchy_t *h, const char *id, const char *file,
                         const char *const *keys, uint64_t *const *values, size_t n, char *err,
                         size_t err_len)
{
    char *text;
    actor_err_t rc = cg_read(h, id, file, &text, err, err_len);
    if (rc != ACTOR_OK)
        return rc;
    for (size_t i = 0; i < n; i++)
        cz_key_u64(text, keys[i], values[i]);
    free(text);
    return ACTOR_OK;
}

bool cg_exists(const cg_hierarchy_t *h, const char *id, const char *file)
{
    char path[PATH_MAX];
    return cg_path(path, sizeof(path), h, id, file, NULL, 0) && access(path, F_OK) == 0;
}

actor_err_t cg_count_lines(const cg_hierarchy_t *h, const char *id, const char *file,
                           uint32_t *count, char *err, size_t err_len)
{
    char *text;
    *count = 0;
    actor_err_t rc = cg_read(h, id, file, &text, err, err_len);
    if (rc == ACTOR_ENOENT)
        return ACTOR_OK;
    if (rc != ACTOR_OK)
        return rc;
    for (const char *p = text; *p != '\0'; p++) {
        if (*p == '\n' || p[1] == '\0')
            (*count)++;
    }
    free(text);
    return ACTOR_OK;
}

/* Appends the pids listed in text that pids does not hold yet. */
static actor_err_t add_pids(const char *text, pid_t **pids, size_t *count, size_t *cap)
{
    for (const char *p = text; *p != '\0';) {
        char *end;
        long v = strtol(p, &end, 10);
        if (end == p) {
            p++;
            continue;
        }
        p = end;
        bool dup = false;
        for (size_t i = 0; i < *count && !dup; i++)
            dup = (*pids)[i] == (pid_t)v;
        if (dup || v <= 0)
            continue;
        if (*count == *cap) {
            size_t ncap = *cap == 0 ? 16 : *cap * 2;
            pid_t *bigger = realloc(*pids, ncap * sizeof(**pids));
            if (bigger == NULL)
                return ACTOR_ENOMEM;
            *pids = bigger;
            *cap = ncap;
        }
        (*pids)[(*count)++] = (pid_t)v;
    }
    return ACTOR_OK;
}

actor_err_t cg_pids(const cgroups_t *cg, const char *id, pid_t **pids, size_t *count, char *err,
                    size_t err_len)
{
    size_t cap = 0;
    *pids = NULL;
    *count = 0;
    for (size_t i = 0; i < cg->count; i++) {
        char *text;
        actor_err_t rc = cg_read(&cg->hier[i], id, "cgroup.procs", &text, err, err_len);
        if (rc == ACTOR_ENOENT)
            continue;
        if (rc == ACTOR_OK) {
            rc = add_pids(text, pids, count, &cap);
            free(text);
        }
        if (rc != ACTOR_OK) {
            free(*pids);
            *pids = NULL;
            *count = 0;
            return rc;
        }
    }
    return ACTOR_OK;
}

actor_err_t cg_mkdir(const char *path, bool exist_ok, char *err, size_t err_len)
{
    if (mkdir(path, 0755) == 0 || (exist_ok && errno == EEXIST))
        return ACTOR_OK;
    int errnum = errno;
    cz_errorf(err, err_len, "Failed to create %s: %s", path, strerror(errnum));
    errno = errnum;
    return cz_errno(errnum);
}

/* Whether a fake tree's cgroup lists a process in its cgroup.procs: the kernel refuses to
 * remove such a cgroup, and so does cg_rmdir(). */
static bool plain_busy(const char *path)
{
    char procs[PATH_MAX], *text;
    if (snprintf(procs, sizeof(procs), "%s/cgroup.procs", path) >= (int)sizeof(procs) ||
        cz_read_file(procs, &text, NULL, NULL, 0) != ACTOR_OK)
        return false;
    bool busy = text[strspn(text, " \n")] != '\0';
    free(text);
    return busy;
}

/* A fake tree's directory: removes its files (the kernel's, which cgroupfs removes with the
 * directory), unless it has a subdirectory (a cgroup that is not ours to empty), which rmdir
 * then reports. */
static void remove_plain_files(const char *path)
{
    DIR *dir = opendir(path);
    if (dir == NULL)
        return;
    bool has_subdir = false;
    struct dirent *de;
    while (!has_subdir && (de = readdir(dir)) != NULL)
        has_subdir =
            de->d_type == DT_DIR && strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0;
    rewinddir(dir);
    while (!has_subdir && (de = readdir(dir)) != NULL) {
        if (de->d_type == DT_REG || de->d_type == DT_LNK)
            unlinkat(dirfd(dir), de->d_name, 0);
    }
    closedir(dir);
}

actor_err_t cg_rmdir(bool plain, const char *path, char *err, size_t err_len)
{
    int errnum = EBUSY;
    if (!plain || !plain_busy(path)) {
        if (plain)
            remove_plain_files(path);
        if (rmdir(path) == 0)
            return ACTOR_OK;
        errnum = errno;
    }
    cz_errorf(err, err_len, "Failed to remove %s: %s", path, strerror(errnum));
    errno = errnum;
    return errnum == ENOTEMPTY ? ACTOR_EBUSY : cz_errno(errnum);
}

void cg_deadline(struct timespec *deadline, unsigned ms)
{
    clock_gettime(CLOCK_MONOTONIC, deadline);
    deadline->tv_sec += ms / 1000;
    deadline->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (deadline->tv_nsec >= 1000000000L) {
        deadline->tv_sec++;
        deadline->tv_nsec -= 1000000000L;
    }
}

bool cg_expired(const struct timespec *deadline)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return now.tv_sec > deadline->tv_sec ||
           (now.tv_sec == deadline->tv_sec && now.tv_nsec >= deadline->tv_nsec);
}

void cg_pause(unsigned *delay_us)
{
    if (*delay_us == 0)
        *delay_us = 1000;
    struct timespec ts = {.tv_sec = 0, .tv_nsec = (long)*delay_us * 1000L};
    nanosleep(&ts, NULL);
    if (*delay_us < 16000)
        *delay_us *= 2;
}
