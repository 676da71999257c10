/*
 * fsutil.c: the fetcher's small file helpers and reason strings (fetcher_int.h).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "slave/fetcher/fetcher_int.h"

#define COPY_CHUNK    (64 * 1024)
#define TMPFILE_TRIES 100

actor_err_t fetcher_fail(char *why, size_t why_len, actor_err_t err, const char *fmt, ...)
{
    if (why_len > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(why, why_len, fmt, ap);
        va_end(ap);
    }
    return err;
}

actor_err_t fetcher_fail_errno(char *why, size_t why_len, const char *what, const char *path)
{
    int saved = errno;
    actor_err_t err = ACTOR_ESYSTEM;
    if (saved == ENOENT)
        err = ACTOR_ENOENT;
    else if (saved == ENOMEM)
        err = ACTOR_ENOMEM;
    return fetcher_fail(why, why_len, err, "%s '%s': %s", what, path, strerror(saved));
}

int fetcher_write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

actor_err_t fetcher_copy_fd(int in, int out, const char *src, const char *dst, char *why,
                            size_t why_len)
{
    char chunk[COPY_CHUNK];
    size_t chunk_len = sizeof(chunk);
    for (;;) {
        ssize_t n = read(in, chunk, chunk_len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return fetcher_fail_errno(why, why_len, "Failed to read", src);
        if (n == 0)
            return ACTOR_OK;
        if (fetcher_write_all(out, chunk, (size_t)n) != 0)
            return fetcher_fail_errno(why, why_len, "Failed to write", dst);
    }
}

void fetcher_random_hex(char *out, size_t len)
{
    static const char digits[] = "0123456789abcdef";
    unsigned char bytes[64];
    size_t need = (len + 1) / 2;
    if (need > sizeof(bytes))
        need = sizeof(bytes);
    if (getrandom(bytes, need, GRND_NONBLOCK) != (ssize_t)need) {
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        unsigned long seed = (unsigned long)now.tv_nsec ^ ((unsigned long)getpid() << 16) ^
                             (unsigned long)now.tv_sec;
        for (size_t i = 0; i < need; i++) {
            seed = seed * 6364136223846793005ul + 1442695040888963407ul;
            bytes[i] = (unsigned char)(seed >> 33);
        }
    }
    size_t i = 0;
    for (; i < len && i / 2 < need; i++)
        out[i] = digits[(i % 2 == 0 ? bytes[i / 2] >> 4 : bytes[i / 2]) & 0xf];
    out[i] = '\0';
}

actor_err_t fetcher_tmpfile(int dirfd, const char *dir, int *fd, char *name, size_t name_len,
                            char *why, size_t why_len)
{
    for (int tries = 0; tries < TMPFILE_TRIES; tries++) {
        char hex[13];
        fetcher_random_hex(hex, 12);
        snprintf(name, name_len, ".fetch-%s", hex);
        int f = openat(dirfd, name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (f >= 0) {
            *fd = f;
            return ACTOR_OK;
        }
        if (errno != EEXIST)
            return fetcher_fail_errno(why, why_len, "Failed to create a file in", dir);
    }
    return fetcher_fail(why, why_len, ACTOR_ESYSTEM, "Failed to create a file in '%s'", dir);
}

int fetcher_remove_flat_dir(int dirfd, const char *name)
{
    int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return -1;
    DIR *d = fdopendir(fd);
    if (d == NULL) {
        close(fd);
        return -1;
    }
    for (struct dirent *de = readdir(d); de != NULL; de = readdir(d)) {
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
            unlinkat(fd, de->d_name, 0);
    }
    closedir(d);
    return unlinkat(dirfd, name, AT_REMOVEDIR);
}

bool fetcher_has_control(const char *s)
{
    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;
        if (c < 0x20 || c == 0x7f)
            return true;
    }
    return false;
}
