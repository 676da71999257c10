/* log.c: formats glog-like lines; see log.h. */
#include "actor/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

log_level_t log_min_level = LOG_LEVEL_INFO;
int log_verbosity = 0;

static int log_fd = 2;
static _Thread_local const char *thread_context;
static _Thread_local log_context_fn thread_context_fn;
static _Thread_local const void *thread_context_arg;

void log_context_set(const char *context)
{
    thread_context = context;
    thread_context_fn = NULL;
}

void log_context_set_fn(log_context_fn fn, const void *ctx)
{
    thread_context = NULL;
    thread_context_fn = fn;
    thread_context_arg = ctx;
}

void log_set_fd(int fd)
{
    log_fd = fd;
}

int log_level_parse(const char *text, log_level_t *level)
{
    static const char *const names[] = {"INFO", "WARNING", "ERROR", "FATAL"};
    for (int i = 0; i < 4; i++) {
        if (strcasecmp(text, names[i]) == 0) {
            *level = (log_level_t)i;
            return 0;
        }
    }
    return -1;
}

/* Drops the directories of a source path: lines name the file only, as glog does. */
static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

void log_write(log_level_t level, const char *file, int line, const char *fmt, ...)
{
    static const char letters[] = "IWEF";
    char buf[4096];
    struct timeval tv;
    struct tm tm;

    char dynamic[256];
    const char *context = thread_context;
    if (thread_context_fn != NULL) {
        thread_context_fn(thread_context_arg, dynamic, sizeof(dynamic));
        context = dynamic;
    }
    gettimeofday(&tv, NULL);
    localtime_r(&tv.tv_sec, &tm);
    int n = snprintf(buf, sizeof(buf), "%c%02d%02d %02d:%02d:%02d.%06ld %ld %s:%d] %s%s",
                     letters[level], tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                     (long)tv.tv_usec, (long)syscall(SYS_gettid), base_name(file), line,
                     context ? context : "", context ? ": " : "");
    if (n < 0)
        n = 0;
    if ((size_t)n >= sizeof(buf) / 2)
        n = (int)(sizeof(buf) / 2); /* an absurdly long context: keep the prefix, cut the rest */

    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(buf + n, sizeof(buf) - (size_t)n - 1, fmt, ap);
    va_end(ap);
    if (m < 0)
        m = 0;
    size_t len = (size_t)n + (size_t)m;
    if (len > sizeof(buf) - 2)
        len = sizeof(buf) - 2; /* truncated: keep the newline */
    buf[len++] = '\n';
    ssize_t ignored = write(log_fd, buf, len);
    (void)ignored;

    if (level == LOG_LEVEL_FATAL)
        abort();
}
