/* util.c: error messages and whole-file reads for the containerizer (containerizer_int.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "slave/containerizer/containerizer_int.h"

void cz_errorf(char *err, size_t err_len, const char *fmt, ...)
{
    if (err == NULL || err_len == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, err_len, fmt, ap);
    va_end(ap);
}

actor_err_t cz_errno(int errnum)
{
    switch (errnum) {
    case ENOENT:
        return ACTOR_ENOENT;
    case EEXIST:
        return ACTOR_EEXIST;
    case ENOMEM:
        return ACTOR_ENOMEM;
    case EBUSY:
        return ACTOR_EBUSY;
    default:
        return ACTOR_ESYSTEM;
    }
}

/* Reads fd to its end into a growing buffer. Returns 0, or -1 with errno set. */
static int read_all(int fd, char **out, size_t *len)
{
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    if (buf == NULL)
        return -1;
    for (;;) {
        if (cap - n < 2) {
            char *bigger = realloc(buf, cap * 2);
            if (bigger == NULL)
                goto fail_free;
            buf = bigger;
            cap *= 2;
        }
        ssize_t got = read(fd, buf + n, cap - n - 1);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0)
            goto fail_free;
        if (got == 0)
            break;
        n += (size_t)got;
    }
    buf[n] = '\0';
    *out = buf;
    *len = n;
    return 0;
fail_free:;
    int saved = errno;
    free(buf);
    errno = saved;
    return -1;
}

actor_err_t cz_read_file(const char *path, char **out, size_t *len, char *err, size_t err_len)
{
    size_t n = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        goto fail;
    if (read_all(fd, out, &n) != 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        goto fail;
    }
    close(fd);
    if (len != NULL)
        *len = n;
    return ACTOR_OK;
fail:;
    int errnum = errno;
    cz_errorf(err, err_len, "Failed to read %s: %s", path, strerror(errnum));
    errno = errnum;
    return cz_errno(errnum);
}

bool cz_key_u64(const char *text, const char *key, uint64_t *value)
{
    size_t klen = strlen(key);
    for (const char *line = text; line != NULL && *line != '\0';) {
        const char *nl = strchr(line, '\n');
        if (strncmp(line, key, klen) == 0 && line[klen] == ' ') {
            const char *v = line + klen + 1;
            if (*v < '0' || *v > '9')
                return false;
            char *end;
            errno = 0;
            unsigned long long n = strtoull(v, &end, 10);
            if (errno != 0 || (*end != '\n' && *end != '\0' && *end != ' '))
                return false;
            *value = n;
            return true;
        }
        line = nl == NULL ? NULL : nl + 1;
    }
    return false;
}
