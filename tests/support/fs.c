/* fs.c: temporary directories and whole files (fs.h). */
#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/support/fs.h"
#include "tests/support/wait.h"

#define WAIT_STEP_MS 50

char *support_fs_tempdir(char *buf, size_t len, const char *name)
{
    int n = snprintf(buf, len, "/tmp/%s.XXXXXX", name);
    if (n < 0 || (size_t)n >= len) {
        errno = ENAMETOOLONG;
        return NULL;
    }
    return mkdtemp(buf);
}

/* Removes name (relative to the directory dirfd) and everything below it: 0, or the errno of the
 * first failure (everything else is still tried). */
static int remove_at(int dirfd, const char *name)
{
    struct stat st;
    if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
        return errno == ENOENT ? 0 : errno;
    if (!S_ISDIR(st.st_mode))
        return unlinkat(dirfd, name, 0) == 0 || errno == ENOENT ? 0 : errno;
    int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return errno;
    DIR *d = fdopendir(fd);
    if (d == NULL) {
        int err = errno;
        close(fd);
        return err;
    }
    int first = 0;
    for (struct dirent *e = readdir(d); e != NULL; e = readdir(d)) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        int rc = remove_at(fd, e->d_name);
        if (first == 0)
            first = rc;
    }
    closedir(d);
    if (unlinkat(dirfd, name, AT_REMOVEDIR) != 0 && errno != ENOENT && first == 0)
        first = errno;
    return first;
}

int support_fs_rmtree(const char *path)
{
    int rc = remove_at(AT_FDCWD, path);
    if (rc != 0) {
        errno = rc;
        return -1;
    }
    return 0;
}

char *support_fs_read(const char *path)
{
    char *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);
    if (mem == NULL)
        return NULL;
    FILE *f = fopen(path, "r");
    if (f != NULL) {
        char chunk[4096];
        size_t n;
        while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
            fwrite(chunk, 1, n, mem);
        fclose(f);
    }
    if (fclose(mem) != 0) {
        free(text);
        return NULL;
    }
    return text;
}

char *support_fs_read_glob(const char *pattern)
{
    glob_t g;
    char *text = NULL;
    if (glob(pattern, 0, NULL, &g) == 0 && g.gl_pathc == 1)
        text = support_fs_read(g.gl_pathv[0]);
    globfree(&g);
    return text;
}

typedef struct text_wait {
    const char *pattern, *needle;
} text_wait_t;

static bool has_text(void *arg)
{
    const text_wait_t *w = arg;
    char *text = support_fs_read_glob(w->pattern);
    bool found = text != NULL && strstr(text, w->needle) != NULL;
    free(text);
    return found;
}

bool support_fs_wait_text(const char *pattern, const char *needle, int timeout_ms)
{
    text_wait_t w = {pattern, needle};
    return support_wait_until(has_text, &w, timeout_ms, WAIT_STEP_MS);
}

bool support_fs_write(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (f == NULL)
        return false;
    bool ok = fputs(text, f) >= 0;
    if (fclose(f) != 0)
        ok = false;
    return ok;
}
