/*
 * rmtree.c: removing a directory tree without following links (rmtree.h).
 *
 * Depth first: each directory is opened with openat(O_NOFOLLOW | O_DIRECTORY) relative to its
 * parent's descriptor, its entries are unlinked (or, for directories, emptied and then removed
 * with AT_REMOVEDIR) relative to that descriptor. Paths are kept only to name failures.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "slave/files/rmtree.h"

typedef struct walk {
    rmtree_cancel_fn cancel;
    void *arg;
    char *err; /* the first failure, if the caller wants it */
    size_t err_len;
    bool failed;
    bool cancelled;
} walk_t;

/* Records the first failure: "<what> <dir>/<name>: <strerror(e)>" (dir is "" for the root). */
static void fail(walk_t *w, const char *what, const char *dir, const char *name, int e)
{
    if (!w->failed && w->err != NULL && w->err_len > 0)
        snprintf(w->err, w->err_len, "%s %s%s%s: %s", what, dir, dir[0] ? "/" : "", name,
                 strerror(e));
    w->failed = true;
}

static void remove_at(walk_t *w, int parent, const char *dir, const char *name);

/* Removes every entry of the directory open as fd (taken), whose path is dir. */
static void empty_dir(walk_t *w, int fd, const char *dir)
{
    DIR *d = fdopendir(fd);
    if (d == NULL) {
        fail(w, "opendir", dir, "", errno);
        close(fd);
        return;
    }
    struct dirent *e;
    while (!w->cancelled && (e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if (w->cancel != NULL && w->cancel(w->arg)) {
            w->cancelled = true;
            break;
        }
        remove_at(w, dirfd(d), dir, e->d_name);
    }
    closedir(d);
}

/* Removes name in the directory parent (whose path is dir; "" with AT_FDCWD for the root),
 * recursively if it is a directory. */
static void remove_at(walk_t *w, int parent, const char *dir, const char *name)
{
    if (unlinkat(parent, name, 0) == 0 || errno == ENOENT)
        return;
    int unlink_errno = errno;
    int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        /* Not a directory (or not one we may open): the unlink's failure is the reason. */
        fail(w, "unlink", dir, name, errno == ENOTDIR || errno == ELOOP ? unlink_errno : errno);
        return;
    }
    char *path = NULL;
    if (asprintf(&path, "%s%s%s", dir, dir[0] ? "/" : "", name) < 0) {
        fail(w, "remove", dir, name, ENOMEM);
        close(fd);
        return;
    }
    empty_dir(w, fd, path);
    free(path);
    if (!w->cancelled && unlinkat(parent, name, AT_REMOVEDIR) != 0 && errno != ENOENT)
        fail(w, "rmdir", dir, name, errno);
}

actor_err_t rmtree(const char *path, rmtree_cancel_fn cancel, void *arg, char *err, size_t err_len)
{
    if (path == NULL || path[0] == '\0')
        return ACTOR_EINVAL;
    walk_t w = {.cancel = cancel, .arg = arg, .err = err, .err_len = err_len};
    if (err != NULL && err_len > 0)
        err[0] = '\0';
    /* The root goes through the same steps, relative to the current directory. */
    remove_at(&w, AT_FDCWD, "", path);
    if (w.cancelled)
        return ACTOR_ECLOSED;
    return w.failed ? ACTOR_ESYSTEM : ACTOR_OK;
}
