/*
 * log.h: glog-like logging for every component.
 *
 * A line reads `I1123 21:17:00.123456 4321 master.c:120] master@10.0.0.1:15050: Registered agent`:
 * level letter, month and day, wall-clock time, thread id, source file and line, the current
 * actor's PID (set by the runtime while an actor runs), and the message. Macros check the level
 * before formatting arguments (as Redis's serverLog does), so a disabled VLOG costs one branch.
 * Lines go to stderr by default, written with one write(2) each so threads do not interleave.
 * All functions are thread-safe and may be called from handlers.
 */
#ifndef ACTOR_LOG_H
#define ACTOR_LOG_H

#include <stdarg.h>
#include <stddef.h>

typedef enum log_level {
    LOG_LEVEL_INFO = 0,
    LOG_LEVEL_WARNING = 1,
    LOG_LEVEL_ERROR = 2,
    LOG_LEVEL_FATAL = 3,
} log_level_t;

/* Lines below this level are not written. Default LOG_LEVEL_INFO; MESOS_LOG_LEVEL / --logging_level
 * set it through log_level_parse. */
extern log_level_t log_min_level;
/* VLOG(n) lines are written when n <= log_verbosity (GLOG_v). Default 0. */
extern int log_verbosity;

/* Sets the calling thread's context shown in each line (the runtime passes the running actor's
 * PID string; NULL clears it). The string must outlive its use as context. */
void log_context_set(const char *context);

/* Sets the calling thread's context as a formatter called only when a line is written, so that a
 * context costs nothing until something is logged (the runtime formats the running actor's PID
 * this way). fn NULL clears it. */
typedef void (*log_context_fn)(const void *ctx, char *buf, size_t len);
void log_context_set_fn(log_context_fn fn, const void *ctx);

/* Sends lines to fd instead of stderr (tests capture them through a pipe). */
void log_set_fd(int fd);

/* Parses "INFO", "WARNING", "ERROR" (any case) into *level. Returns 0, or -1 if unknown. */
int log_level_parse(const char *text, log_level_t *level);

/* Formats and writes one line. Use the macros. LOG_LEVEL_FATAL aborts after writing. */
void log_write(log_level_t level, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#define LOG_AT(level, ...)                                                                         \
    do {                                                                                           \
        if ((level) >= log_min_level)                                                              \
            log_write((level), __FILE__, __LINE__, __VA_ARGS__);                                   \
    } while (0)

#define LOG_INFO(...)    LOG_AT(LOG_LEVEL_INFO, __VA_ARGS__)
#define LOG_WARNING(...) LOG_AT(LOG_LEVEL_WARNING, __VA_ARGS__)
#define LOG_ERROR(...)   LOG_AT(LOG_LEVEL_ERROR, __VA_ARGS__)
#define LOG_FATAL(...)   log_write(LOG_LEVEL_FATAL, __FILE__, __LINE__, __VA_ARGS__)
#define VLOG(n, ...)                                                                               \
    do {                                                                                           \
        if ((n) <= log_verbosity && LOG_LEVEL_INFO >= log_min_level)                               \
            log_write(LOG_LEVEL_INFO, __FILE__, __LINE__, __VA_ARGS__);                            \
    } while (0)

/* Asserts our own invariants (never network input or out-of-memory: those are error returns).
 * Prints the expression, file:line and the current actor, then aborts. */
#define ACTOR_ASSERT(expr)                                                                         \
    do {                                                                                           \
        if (!(expr))                                                                               \
            log_write(LOG_LEVEL_FATAL, __FILE__, __LINE__, "Assertion failed: %s", #expr);         \
    } while (0)

#endif
