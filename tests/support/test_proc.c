/* Tests of proc.c: a child's streams redirected to files and a descriptor, its environment, its
 * exit status waited for with a deadline, a stop that must escalate to SIGKILL, a binary that
 * does not exist, and processes found and killed by a marker in their environment. Real
 * processes (/bin/sh): waits have deadlines. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/support/fs.h"
#include "tests/support/proc.h"
#include "tests/support/wait.h"

typedef struct fixture {
    char dir[64];
    char path[3][128]; /* in, out, err */
} fixture_t;

static int setup(void **state)
{
    fixture_t *fx = calloc(1, sizeof(*fx));
    assert_non_null(fx);
    assert_non_null(support_fs_tempdir(fx->dir, sizeof(fx->dir), "test_proc"));
    const char *names[] = {"in", "out", "err"};
    for (size_t i = 0; i < 3; i++)
        snprintf(fx->path[i], sizeof(fx->path[i]), "%s/%s", fx->dir, names[i]);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *fx = *state;
    assert_int_equal(support_fs_rmtree(fx->dir), 0);
    free(fx);
    return 0;
}

static void test_streams_and_status(void **state)
{
    fixture_t *fx = *state;
    assert_true(support_fs_write(fx->path[0], "from stdin\n"));
    char *argv[] = {"sh", "-c", "cat; echo \"$GREETING\" >&2; exit 3", NULL};
    char *env[] = {"GREETING=hello", NULL};
    support_proc_io_t io;
    support_proc_io_init(&io);
    io.in = fx->path[0];
    io.out = fx->path[1];
    io.err = fx->path[2];
    io.env = env;
    pid_t pid = 0;
    assert_int_equal(support_proc_spawn("/bin/sh", argv, &io, &pid), 0);
    int status = 0;
    assert_true(support_proc_wait(pid, 10000, &status));
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 3);
    char *out = support_fs_read(fx->path[1]), *err = support_fs_read(fx->path[2]);
    assert_string_equal(out, "from stdin\n");
    assert_string_equal(err, "hello\n");
    free(out);
    free(err);
    /* Not our child any more: "ended", status 0. */
    status = -1;
    assert_true(support_proc_wait(pid, 0, &status));
    assert_int_equal(status, 0);
}

static void test_out_fd(void **state)
{
    fixture_t *fx = *state;
    int fd = open(fx->path[1], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    assert_true(fd >= 0);
    char *argv[] = {"sh", "-c", "echo through-fd", NULL};
    support_proc_io_t io;
    support_proc_io_init(&io);
    io.out_fd = fd;
    io.out = fx->path[2]; /* out_fd wins */
    pid_t pid = 0;
    assert_int_equal(support_proc_spawn("/bin/sh", argv, &io, &pid), 0);
    assert_true(support_proc_wait(pid, 10000, NULL));
    close(fd);
    char *out = support_fs_read(fx->path[1]);
    assert_string_equal(out, "through-fd\n");
    free(out);
    assert_int_equal(access(fx->path[2], F_OK), -1);
}

static void test_missing_binary(void **state)
{
    fixture_t *fx = *state;
    char *argv[] = {"nope", NULL};
    pid_t pid = 0;
    assert_int_equal(support_proc_spawn("/no/such/binary", argv, NULL, &pid), ENOENT);
    int status = 0;
    assert_true(support_proc_wait(pid, 10000, &status)); /* reaped */
    assert_int_equal(WEXITSTATUS(status), 127);
    support_proc_io_t io;
    support_proc_io_init(&io);
    io.in = fx->path[0]; /* does not exist */
    argv[0] = "true";
    assert_int_equal(support_proc_spawn("/bin/true", argv, &io, &pid), ENOENT);
    assert_true(support_proc_wait(pid, 10000, NULL));
}

static void test_wait_deadline_and_stop(void **state)
{
    fixture_t *fx = *state;
    /* A child that ignores SIGTERM: the stop must escalate. */
    char *argv[] = {"sh", "-c", "trap '' TERM; echo ready; exec sleep 30", NULL};
    support_proc_io_t io;
    support_proc_io_init(&io);
    io.out = fx->path[1];
    pid_t pid = 0;
    assert_int_equal(support_proc_spawn("/bin/sh", argv, &io, &pid), 0);
    assert_false(support_proc_wait(pid, 50, NULL));
    for (int64_t end = support_now_ms() + 10000; support_now_ms() < end; support_sleep_ms(10)) {
        char *out = support_fs_read(fx->path[1]);
        bool ready = strstr(out, "ready") != NULL;
        free(out);
        if (ready)
            break;
    }
    int64_t start = support_now_ms();
    int status = support_proc_stop(pid, 200);
    assert_true(support_now_ms() - start >= 200);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGKILL);
    /* A child that obeys SIGTERM ends at once. */
    char *sleeper[] = {"sleep", "30", NULL};
    assert_int_equal(support_proc_spawn("/bin/sleep", sleeper, NULL, &pid), 0);
    status = support_proc_stop(pid, 10000);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGTERM);
}

static bool none_left(void *arg)
{
    pid_t found[4];
    return support_proc_find_env(arg, found, 4) == 0;
}

static void test_find_and_kill_by_environment(void **state)
{
    fixture_t *fx = *state;
    char marker[128], other[128];
    snprintf(marker, sizeof(marker), "TEST_PROC_MARKER=%s", fx->dir);
    snprintf(other, sizeof(other), "TEST_PROC_OTHER=%s", fx->dir);
    char *env[] = {marker, NULL};
    char *argv[] = {"sleep", "30", NULL};
    support_proc_io_t io;
    support_proc_io_init(&io);
    io.env = env;
    pid_t a = 0, b = 0;
    assert_int_equal(support_proc_spawn("/bin/sleep", argv, &io, &a), 0);
    assert_int_equal(support_proc_spawn("/bin/sleep", argv, &io, &b), 0);
    pid_t found[4];
    assert_int_equal(support_proc_find_env(marker, found, 4), 2);
    assert_true((found[0] == a && found[1] == b) || (found[0] == b && found[1] == a));
    assert_int_equal(support_proc_find_env(marker, found, 1), 1); /* at most max */
    assert_int_equal(support_proc_find_env(other, found, 4), 0);
    assert_int_equal(support_proc_find_env(fx->dir, found, 4), 2); /* inside an entry */
    assert_int_equal(support_proc_kill_env(marker), 2);
    int status = 0;
    assert_true(support_proc_wait(a, 10000, &status));
    assert_int_equal(WTERMSIG(status), SIGKILL);
    assert_true(support_proc_wait(b, 10000, &status));
    assert_int_equal(WTERMSIG(status), SIGKILL);
    assert_true(support_wait_until(none_left, marker, 10000, 10));
    assert_int_equal(support_proc_kill_env(marker), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_streams_and_status, setup, teardown),
        cmocka_unit_test_setup_teardown(test_out_fd, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_binary, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wait_deadline_and_stop, setup, teardown),
        cmocka_unit_test_setup_teardown(test_find_and_kill_by_environment, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
