/* Tests of posix.h: usage of a real process tree from /proc. The test starts `sh` with two
 * children (one busy, one sleeping) in a tree of its own, measures it, and kills and reaps
 * everything it started. Multi-process, so it polls with a deadline. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "slave/containerizer/posix.h"

extern char **environ;

/* Starts `sh -c script` as the leader of a new process group. */
static pid_t spawn_sh(const char *script)
{
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
    posix_spawnattr_setpgroup(&attr, 0);
    char *argv[] = {"sh", "-c", (char *)script, NULL};
    pid_t pid;
    assert_int_equal(posix_spawn(&pid, "/bin/sh", NULL, &attr, argv, environ), 0);
    posix_spawnattr_destroy(&attr);
    return pid;
}

static void kill_tree(pid_t pid)
{
    kill(-pid, SIGKILL);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
}

static double now_secs(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Polls the tree's usage until it has `processes` processes and at least min_cpu seconds of user
 * time, or 10 seconds pass. */
static void wait_usage(pid_t pid, uint32_t processes, double min_cpu, container_usage_t *u)
{
    double deadline = now_secs() + 10;
    for (;;) {
        char err[256];
        assert_int_equal(posix_usage(pid, u, err, sizeof(err)), ACTOR_OK);
        if ((u->processes == processes && u->cpus_user_time_secs >= min_cpu) ||
            now_secs() > deadline)
            return;
        struct timespec ts = {0, 5 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
}

static void test_usage_of_tree(void **state)
{
    (void)state;
    /* sh, a busy subshell, and a sleep: three processes, CPU time accruing. */
    pid_t pid = spawn_sh("(while :; do :; done) & sleep 30 & wait");
    container_usage_t u;
    wait_usage(pid, 3, 0.05, &u);
    kill_tree(pid);
    assert_int_equal(u.processes, 3);
    assert_true(u.threads >= 3);
    assert_true(u.cpus_user_time_secs >= 0.05);
    assert_true(u.cpus_user_time_secs < 60);
    assert_true(u.cpus_system_time_secs >= 0);
    assert_true(u.mem_rss_bytes > 100 * 1024); /* three processes' resident pages */
    assert_true(u.mem_rss_bytes < (uint64_t)1 << 30);
    assert_int_equal(u.mem_total_bytes, 0); /* not measured by posix */
    assert_int_equal(u.mem_limit_bytes, 0);
}

static void test_usage_excludes_other_trees(void **state)
{
    (void)state;
    pid_t a = spawn_sh("sleep 30 & sleep 30 & wait");
    pid_t b = spawn_sh("sleep 30 & wait");
    container_usage_t ua, ub;
    wait_usage(a, 3, 0, &ua);
    wait_usage(b, 2, 0, &ub);
    kill_tree(a);
    kill_tree(b);
    assert_int_equal(ua.processes, 3);
    assert_int_equal(ub.processes, 2);
}

static void test_usage_of_self_has_one_process(void **state)
{
    (void)state;
    container_usage_t u;
    assert_int_equal(posix_usage(getpid(), &u, NULL, 0), ACTOR_OK);
    assert_int_equal(u.processes, 1); /* this test has no children now */
    assert_true(u.mem_rss_bytes > 0);
}

static void test_usage_errors(void **state)
{
    (void)state;
    container_usage_t u;
    char err[128];
    assert_int_equal(posix_usage(0, &u, err, sizeof(err)), ACTOR_EINVAL);
    assert_string_equal(err, "Invalid process id 0");
    assert_int_equal(posix_usage(-5, &u, err, sizeof(err)), ACTOR_EINVAL);
    /* A process that exited and was reaped is gone. */
    pid_t pid = spawn_sh("exit 0");
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_int_equal(posix_usage(pid, &u, err, sizeof(err)), ACTOR_ENOENT);
    char expected[64];
    snprintf(expected, sizeof(expected), "No process %d", (int)pid);
    assert_string_equal(err, expected);
    assert_int_equal(u.processes, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_usage_of_tree),
        cmocka_unit_test(test_usage_excludes_other_trees),
        cmocka_unit_test(test_usage_of_self_has_one_process),
        cmocka_unit_test(test_usage_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
