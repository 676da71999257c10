/* Tests of log.h: the glog-like line (level letter, date and time, thread id, file:line, the
 * thread's context, the message), level gating that skips formatting, VLOG verbosity, level
 * names, truncation of over-long lines, and LOG_FATAL/ACTOR_ASSERT aborting. Lines are captured
 * through a pipe given to log_set_fd; the read end does not block, so a line that was not written
 * reads as nothing instead of hanging the test. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <pthread.h>
#include <regex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "actor/log.h"

typedef struct capture {
    int rd, wr;       /* the pipe: log lines go to wr */
    char text[16384]; /* what the last drain() read, NUL-terminated */
    size_t len;
} capture_t;

static int setup(void **state)
{
    capture_t *c = calloc(1, sizeof(*c));
    int fds[2];
    if (c == NULL || pipe(fds) != 0) {
        free(c);
        return -1;
    }
    c->rd = fds[0];
    c->wr = fds[1];
    fcntl(c->rd, F_SETFL, fcntl(c->rd, F_GETFL) | O_NONBLOCK);
    log_set_fd(c->wr);
    *state = c;
    return 0;
}

static int teardown(void **state)
{
    capture_t *c = *state;
    log_set_fd(2);
    log_min_level = LOG_LEVEL_INFO;
    log_verbosity = 0;
    log_context_set(NULL);
    close(c->rd);
    close(c->wr);
    free(c);
    return 0;
}

/* Reads everything written so far (log_write has returned, so it is all in the pipe). */
static const char *drain(capture_t *c)
{
    c->len = 0;
    for (;;) {
        ssize_t n = read(c->rd, c->text + c->len, sizeof(c->text) - 1 - c->len);
        if (n <= 0) {
            assert_true(n == 0 || errno == EAGAIN);
            break;
        }
        c->len += (size_t)n;
        assert_true(c->len < sizeof(c->text) - 1);
    }
    c->text[c->len] = '\0';
    return c->text;
}

static void assert_matches(const char *text, const char *pattern)
{
    regex_t re;
    assert_int_equal(regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB), 0);
    int rc = regexec(&re, text, 0, NULL, 0);
    regfree(&re);
    if (rc != 0)
        fail_msg("\"%s\" does not match /%s/", text, pattern);
}

static long thread_id(void)
{
    return (long)syscall(SYS_gettid);
}

/* "MMDD HH:MM:SS.uuuuuu", the fixed-width time of a line, which sorts as time does in a year. */
static void stamp(const struct timeval *tv, char out[32])
{
    struct tm tm;
    localtime_r(&tv->tv_sec, &tm);
    snprintf(out, 32, "%02d%02d %02d:%02d:%02d.%06ld", tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
             tm.tm_min, tm.tm_sec, (long)tv->tv_usec);
}

/* The line's time lies between the two readings taken around the call. */
static void assert_time_between(const char *line, const struct timeval *before,
                                const struct timeval *after)
{
    char lo[32], hi[32];
    stamp(before, lo);
    stamp(after, hi);
    size_t w = strlen(lo);
    const char *t = line + 1; /* after the level letter */
    bool in_range = strncmp(lo, hi, w) <= 0
                        ? strncmp(lo, t, w) <= 0 && strncmp(t, hi, w) <= 0
                        : strncmp(lo, t, w) <= 0 || strncmp(t, hi, w) <= 0; /* new year */
    if (!in_range)
        fail_msg("line time %.20s is not within [%s, %s]", t, lo, hi);
}

/* ---- the line ---- */

static void test_line_format(void **state)
{
    capture_t *c = *state;
    log_context_set("master@10.0.0.1:15050");
    struct timeval before, after;
    gettimeofday(&before, NULL);
    int line = __LINE__ + 1;
    LOG_WARNING("Refusing registration of agent at %s because its resources are %s", "10.0.0.2",
                "invalid");
    gettimeofday(&after, NULL);

    const char *out = drain(c);
    char pattern[512];
    snprintf(pattern, sizeof(pattern),
             "^W[01][0-9][0-3][0-9] [0-2][0-9]:[0-5][0-9]:[0-6][0-9]\\.[0-9]{6} %ld "
             "test_log\\.c:%d\\] master@10\\.0\\.0\\.1:15050: Refusing registration of agent at "
             "10\\.0\\.0\\.2 because its resources are invalid\n$",
             thread_id(), line);
    assert_matches(out, pattern);
    assert_time_between(out, &before, &after);
}

static void test_level_letters(void **state)
{
    capture_t *c = *state;
    LOG_INFO("one");
    LOG_WARNING("two");
    LOG_ERROR("three");
    const char *out = drain(c);
    assert_matches(out, "^I[^\n]*\\] one\nW[^\n]*\\] two\nE[^\n]*\\] three\n$");
}

static void test_no_context(void **state)
{
    capture_t *c = *state;
    log_context_set("gone");
    log_context_set(NULL);
    LOG_INFO("plain");
    assert_matches(drain(c), "^I[^\n]* test_log\\.c:[0-9]+\\] plain\n$");
}

typedef struct pid_context {
    int id;
    int calls; /* times the formatter ran */
} pid_context_t;

static void format_context(const void *ctx, char *buf, size_t len)
{
    pid_context_t *p = (pid_context_t *)ctx;
    p->calls++;
    snprintf(buf, len, "worker(%d)@127.0.0.1:5051", p->id);
}

static void test_context_formatter(void **state)
{
    capture_t *c = *state;
    pid_context_t ctx = {.id = 7};
    log_context_set_fn(format_context, &ctx);
    assert_int_equal(ctx.calls, 0);

    LOG_INFO("first");
    assert_int_equal(ctx.calls, 1);
    assert_matches(drain(c), "^I[^\n]*\\] worker\\(7\\)@127\\.0\\.0\\.1:5051: first\n$");

    /* Formatted when written: the line shows the context as it is then. */
    ctx.id = 8;
    LOG_ERROR("second");
    assert_int_equal(ctx.calls, 2);
    assert_matches(drain(c), "^E[^\n]*\\] worker\\(8\\)@127\\.0\\.0\\.1:5051: second\n$");

    /* A line that is not written costs no formatting of the context either. */
    log_min_level = LOG_LEVEL_ERROR;
    LOG_INFO("skipped");
    assert_int_equal(ctx.calls, 2);
    assert_int_equal(strlen(drain(c)), 0);

    /* A plain string replaces the formatter, and clearing removes both. */
    log_min_level = LOG_LEVEL_INFO;
    log_context_set("static");
    LOG_INFO("third");
    assert_int_equal(ctx.calls, 2);
    assert_matches(drain(c), "^I[^\n]*\\] static: third\n$");
    log_context_set_fn(format_context, &ctx);
    log_context_set_fn(NULL, NULL);
    LOG_INFO("fourth");
    assert_int_equal(ctx.calls, 2);
    assert_matches(drain(c), "^I[^\n]*\\] fourth\n$");
}

static long other_thread_id;

static void *log_from_thread(void *unused)
{
    (void)unused;
    other_thread_id = thread_id();
    LOG_INFO("from another thread");
    return NULL;
}

static void test_context_is_per_thread(void **state)
{
    capture_t *c = *state;
    log_context_set("main");
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, log_from_thread, NULL), 0);
    assert_int_equal(pthread_join(t, NULL), 0);
    assert_true(other_thread_id != thread_id());
    char pattern[256];
    snprintf(pattern, sizeof(pattern), "^I[^\n]* %ld test_log\\.c:[0-9]+\\] from another thread\n$",
             other_thread_id);
    assert_matches(drain(c), pattern);
}

/* ---- gating ---- */

static int evaluations;

static int side_effect(void)
{
    return ++evaluations;
}

static void test_level_gating_skips_formatting(void **state)
{
    capture_t *c = *state;
    evaluations = 0;
    log_min_level = LOG_LEVEL_WARNING;
    LOG_INFO("evaluated %d", side_effect());
    assert_int_equal(evaluations, 0);
    assert_int_equal(strlen(drain(c)), 0);

    LOG_WARNING("evaluated %d", side_effect());
    LOG_ERROR("evaluated %d", side_effect());
    assert_int_equal(evaluations, 2);
    assert_matches(drain(c), "^W[^\n]*\\] evaluated 1\nE[^\n]*\\] evaluated 2\n$");

    log_min_level = LOG_LEVEL_ERROR;
    LOG_WARNING("evaluated %d", side_effect());
    assert_int_equal(evaluations, 2);
    assert_int_equal(strlen(drain(c)), 0);
}

static void test_vlog_verbosity(void **state)
{
    capture_t *c = *state;
    evaluations = 0;
    VLOG(1, "v1 %d", side_effect());
    assert_int_equal(evaluations, 0);
    VLOG(0, "v0");
    assert_matches(drain(c), "^I[^\n]*\\] v0\n$");

    log_verbosity = 2;
    VLOG(1, "v1 %d", side_effect());
    VLOG(2, "v2 %d", side_effect());
    VLOG(3, "v3 %d", side_effect());
    assert_int_equal(evaluations, 2);
    assert_matches(drain(c), "^I[^\n]*\\] v1 1\nI[^\n]*\\] v2 2\n$");

    /* VLOG lines are INFO lines: a higher minimum level silences them too, unformatted. */
    log_min_level = LOG_LEVEL_WARNING;
    VLOG(0, "v0 %d", side_effect());
    assert_int_equal(evaluations, 2);
    assert_int_equal(strlen(drain(c)), 0);
}

static void test_level_parse(void **unused)
{
    (void)unused;
    static const struct {
        const char *text;
        log_level_t level;
    } good[] = {
        {"INFO", LOG_LEVEL_INFO},       {"info", LOG_LEVEL_INFO},   {"WARNING", LOG_LEVEL_WARNING},
        {"Warning", LOG_LEVEL_WARNING}, {"ERROR", LOG_LEVEL_ERROR}, {"eRRoR", LOG_LEVEL_ERROR},
    };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        log_level_t level = (log_level_t)99;
        assert_int_equal(log_level_parse(good[i].text, &level), 0);
        assert_int_equal(level, good[i].level);
    }
    static const char *const bad[] = {"", "WARN", "INFO ", " ERROR", "verbose", "0", "INFOX"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        log_level_t level = LOG_LEVEL_ERROR;
        assert_int_equal(log_level_parse(bad[i], &level), -1);
        assert_int_equal(level, LOG_LEVEL_ERROR); /* untouched */
    }
}

/* ---- limits ---- */

static void test_long_line_is_truncated_with_newline(void **state)
{
    capture_t *c = *state;
    size_t big = 10000;
    char *message = malloc(big + 1);
    assert_non_null(message);
    memset(message, 'x', big);
    message[big] = '\0';
    LOG_INFO("%s", message);
    free(message);

    const char *out = drain(c);
    assert_true(c->len > 1024);
    assert_true(c->len <= 4096);
    assert_int_equal(out[c->len - 1], '\n');
    assert_ptr_equal(strchr(out, '\n'), out + c->len - 1); /* one line */
    assert_matches(out, "^I[^\n]* test_log\\.c:[0-9]+\\] x+\n$");

    /* The next line is whole again. */
    LOG_INFO("short");
    assert_matches(drain(c), "^I[^\n]*\\] short\n$");
}

/* Bodies of the children that die; each *_line names the line of its fatal statement. */
static void die_by_fatal(void)
{
    LOG_FATAL("Giving up because %s", "nothing works");
}
static const int fatal_line = __LINE__ - 2;

static void die_by_assert(void)
{
    volatile int two = 2;
    ACTOR_ASSERT(two + two == 5);
}
static const int assert_line = __LINE__ - 2;

/* Runs die in a child (no core file) and checks that it aborted after writing its line. */
static void assert_dies(capture_t *c, void (*die)(void), int line, const char *message)
{
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        struct rlimit no_core = {0, 0};
        setrlimit(RLIMIT_CORE, &no_core);
        signal(SIGABRT, SIG_DFL);
        log_context_set("doomed");
        die();
        _exit(0); /* not reached */
    }
    int status;
    assert_int_equal(waitpid(child, &status, 0), child);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGABRT);

    char pattern[256];
    snprintf(pattern, sizeof(pattern), "^F[^\n]* test_log\\.c:%d\\] doomed: %s\n$", line, message);
    assert_matches(drain(c), pattern);
}

static void test_fatal_and_assert_abort(void **state)
{
    assert_dies(*state, die_by_fatal, fatal_line, "Giving up because nothing works");
    assert_dies(*state, die_by_assert, assert_line, "Assertion failed: two \\+ two == 5");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_line_format, setup, teardown),
        cmocka_unit_test_setup_teardown(test_level_letters, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_context, setup, teardown),
        cmocka_unit_test_setup_teardown(test_context_formatter, setup, teardown),
        cmocka_unit_test_setup_teardown(test_context_is_per_thread, setup, teardown),
        cmocka_unit_test_setup_teardown(test_level_gating_skips_formatting, setup, teardown),
        cmocka_unit_test_setup_teardown(test_vlog_verbosity, setup, teardown),
        cmocka_unit_test(test_level_parse),
        cmocka_unit_test_setup_teardown(test_long_line_is_truncated_with_newline, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fatal_and_assert_abort, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
