/* Tests of command.c: shell and argv forms, the PATH search (execvp's rules, relative entries
 * from the sandbox, non-executable fallbacks), the task's environment over the executor's, bad
 * commands, and the wait status texts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "slave/executor/executor_int.h"

static char dir[64];
static char err[256]; /* the last error message */

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

static int setup(void **unused)
{
    (void)unused;
    snprintf(dir, sizeof(dir), "/tmp/test_command.XXXXXX");
    return mkdtemp(dir) != NULL ? 0 : -1;
}

static int teardown(void **unused)
{
    (void)unused;
    return nftw(dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
}

static void make_file(const char *rel, mode_t mode)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/%s", dir, rel);
    char *slash = strrchr(path, '/');
    *slash = '\0';
    mkdir(path, 0755);
    *slash = '/';
    int fd = open(path, O_CREAT | O_WRONLY, mode);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(chmod(path, mode), 0);
}

static size_t count(char **v)
{
    size_t n = 0;
    while (v[n] != NULL)
        n++;
    return n;
}

static void test_shell_form(void **unused)
{
    (void)unused;
    Mesos__CommandInfo cmd = MESOS__COMMAND_INFO__INIT;
    cmd.value = "echo hi | wc -c";
    char *base[] = {"PATH=/bin", "HOME=/root", NULL};
    executor_launch_t l;
    assert_int_equal(executor_launch_build(&cmd, "t1", base, dir, &l, err, sizeof(err)), ACTOR_OK);
    assert_string_equal(l.path, "/bin/sh");
    assert_int_equal(count(l.argv), 3);
    assert_string_equal(l.argv[0], "sh");
    assert_string_equal(l.argv[1], "-c");
    assert_string_equal(l.argv[2], "echo hi | wc -c");
    assert_int_equal(count(l.envp), 3);
    assert_string_equal(l.envp[0], "PATH=/bin");
    assert_string_equal(l.envp[1], "HOME=/root");
    assert_string_equal(l.envp[2], "MESOS_TASK_ID=t1");
    executor_launch_free(&l);

    cmd.has_shell = true; /* explicitly true: the same */
    cmd.shell = true;
    assert_int_equal(executor_launch_build(&cmd, "t1", NULL, dir, &l, err, sizeof(err)), ACTOR_OK);
    assert_string_equal(l.path, "/bin/sh");
    assert_int_equal(count(l.envp), 1);
    executor_launch_free(&l);
}

static void test_argv_form_and_path_search(void **unused)
{
    (void)unused;
    make_file("a/tool", 0644); /* found first, but not executable */
    make_file("b/tool", 0755);
    make_file("c/tool", 0755);
    char path_var[256];
    snprintf(path_var, sizeof(path_var), "PATH=%s/a:%s/b:%s/c", dir, dir, dir);
    char *base[] = {path_var, NULL};
    char *args[] = {"tool", "--flag", "a b"};
    Mesos__CommandInfo cmd = MESOS__COMMAND_INFO__INIT;
    cmd.has_shell = true;
    cmd.shell = false;
    cmd.value = "tool";
    cmd.arguments = args;
    cmd.n_arguments = 3;
    executor_launch_t l;
    assert_int_equal(executor_launch_build(&cmd, "t", base, dir, &l, err, sizeof(err)), ACTOR_OK);
    char expect[256];
    snprintf(expect, sizeof(expect), "%s/b/tool", dir);
    assert_string_equal(l.path, expect);
    assert_int_equal(count(l.argv), 3);
    assert_string_equal(l.argv[2], "a b");
    executor_launch_free(&l);

    /* Only the non-executable one: it is taken, so that execve says why it cannot run. */
    snprintf(path_var, sizeof(path_var), "PATH=/nonexistent:%s/a", dir);
    assert_int_equal(executor_launch_build(&cmd, "t", base, dir, &l, err, sizeof(err)), ACTOR_OK);
    snprintf(expect, sizeof(expect), "%s/a/tool", dir);
    assert_string_equal(l.path, expect);
    executor_launch_free(&l);

    /* Relative and empty entries are the sandbox's. */
    snprintf(path_var, sizeof(path_var), "PATH=/nonexistent:c");
    assert_int_equal(executor_launch_build(&cmd, "t", base, dir, &l, err, sizeof(err)), ACTOR_OK);
    snprintf(expect, sizeof(expect), "%s/c/tool", dir);
    assert_string_equal(l.path, expect);
    executor_launch_free(&l);
    make_file("tool", 0755);
    snprintf(path_var, sizeof(path_var), "PATH=/nonexistent::%s/c", dir);
    assert_int_equal(executor_launch_build(&cmd, "t", base, dir, &l, err, sizeof(err)), ACTOR_OK);
    snprintf(expect, sizeof(expect), "%s/tool", dir);
    assert_string_equal(l.path, expect);
    executor_launch_free(&l);

    /* A name with a slash is not searched; no arguments give argv = {value}. */
    cmd.value = "./tool";
    cmd.n_arguments = 0;
    assert_int_equal(executor_launch_build(&cmd, "t", base, dir, &l, err, sizeof(err)), ACTOR_OK);
    assert_string_equal(l.path, "./tool");
    assert_int_equal(count(l.argv), 1);
    assert_string_equal(l.argv[0], "./tool");
    executor_launch_free(&l);
}

/* The task's PATH, not the executor's, is searched; without one, the default. */
static void test_task_path_wins(void **unused)
{
    (void)unused;
    make_file("bin/only-here", 0755);
    char task_path[128];
    snprintf(task_path, sizeof(task_path), "%s/bin", dir);
    Mesos__Environment__Variable var = MESOS__ENVIRONMENT__VARIABLE__INIT, *vars[] = {&var};
    Mesos__Environment env = MESOS__ENVIRONMENT__INIT;
    var.name = "PATH";
    var.value = task_path;
    env.variables = vars;
    env.n_variables = 1;
    Mesos__CommandInfo cmd = MESOS__COMMAND_INFO__INIT;
    cmd.has_shell = true;
    cmd.shell = false;
    cmd.value = "only-here";
    cmd.environment = &env;
    char *base[] = {"PATH=/bin", NULL};
    executor_launch_t l;
    assert_int_equal(executor_launch_build(&cmd, "t", base, dir, &l, err, sizeof(err)), ACTOR_OK);
    executor_launch_free(&l);

    cmd.environment = NULL;
    cmd.value = "sh";
    assert_int_equal(executor_launch_build(&cmd, "t", NULL, dir, &l, err, sizeof(err)), ACTOR_OK);
    assert_true(strcmp(l.path, "/usr/bin/sh") == 0 || strcmp(l.path, "/bin/sh") == 0);
    executor_launch_free(&l);
}

static void test_environment_overrides(void **unused)
{
    (void)unused;
    Mesos__Environment__Variable a = MESOS__ENVIRONMENT__VARIABLE__INIT;
    Mesos__Environment__Variable b = MESOS__ENVIRONMENT__VARIABLE__INIT;
    Mesos__Environment__Variable *vars[] = {&a, &b};
    Mesos__Environment env = MESOS__ENVIRONMENT__INIT;
    a.name = "SHARED";
    a.value = "task";
    b.name = "EMPTY"; /* no value: empty */
    env.variables = vars;
    env.n_variables = 2;
    Mesos__CommandInfo cmd = MESOS__COMMAND_INFO__INIT;
    cmd.value = "true";
    cmd.environment = &env;
    char *base[] = {"SHARED=executor", "SHAREDX=kept", "MESOS_TASK_ID=stale", "OTHER=1", NULL};
    executor_launch_t l;
    assert_int_equal(executor_launch_build(&cmd, "t9", base, dir, &l, err, sizeof(err)), ACTOR_OK);
    assert_int_equal(count(l.envp), 5);
    assert_string_equal(l.envp[0], "SHAREDX=kept");
    assert_string_equal(l.envp[1], "OTHER=1");
    assert_string_equal(l.envp[2], "SHARED=task");
    assert_string_equal(l.envp[3], "EMPTY=");
    assert_string_equal(l.envp[4], "MESOS_TASK_ID=t9");
    executor_launch_free(&l);
}

static void expect_error(const Mesos__CommandInfo *cmd, char **base, actor_err_t code,
                         const char *message)
{
    executor_launch_t l;
    assert_int_equal(executor_launch_build(cmd, "t", base, dir, &l, err, sizeof(err)), code);
    assert_string_equal(err, message);
    assert_null(l.path);
    assert_null(l.argv);
    assert_null(l.envp);
}

static void test_bad_commands(void **unused)
{
    (void)unused;
    Mesos__CommandInfo cmd = MESOS__COMMAND_INFO__INIT;
    expect_error(&cmd, NULL, ACTOR_EINVAL, "The task's command has no value");
    expect_error(NULL, NULL, ACTOR_EINVAL, "The task's command has no value");
    cmd.value = "";
    expect_error(&cmd, NULL, ACTOR_EINVAL, "The task's command has no value");

    cmd.value = "nope-not-here";
    cmd.has_shell = true;
    cmd.shell = false;
    char *base[] = {"PATH=/nonexistent:/also-not", NULL};
    expect_error(&cmd, base, ACTOR_ENOENT,
                 "'nope-not-here' was not found in PATH (/nonexistent:/also-not)");

    Mesos__Environment__Variable v = MESOS__ENVIRONMENT__VARIABLE__INIT, *vars[] = {&v};
    Mesos__Environment env = MESOS__ENVIRONMENT__INIT;
    env.variables = vars;
    env.n_variables = 1;
    cmd.environment = &env;
    cmd.value = "true";
    v.name = "A=B";
    expect_error(&cmd, NULL, ACTOR_EINVAL, "Invalid environment variable name 'A=B'");
    v.name = "";
    expect_error(&cmd, NULL, ACTOR_EINVAL, "Invalid environment variable name ''");
    v.name = "TOKEN";
    v.has_type = true;
    v.type = MESOS__ENVIRONMENT__VARIABLE__TYPE__SECRET;
    expect_error(&cmd, NULL, ACTOR_EINVAL,
                 "Environment variable 'TOKEN' is a secret, which is not supported");
}

static void test_wait_status_text(void **unused)
{
    (void)unused;
    char buf[64];
    executor_wait_status_text(0, buf, sizeof(buf));
    assert_string_equal(buf, "exited with status 0");
    executor_wait_status_text(127 << 8, buf, sizeof(buf));
    assert_string_equal(buf, "exited with status 127");
    executor_wait_status_text(SIGKILL, buf, sizeof(buf));
    assert_string_equal(buf, "terminated with signal Killed");
    executor_wait_status_text(SIGTERM, buf, sizeof(buf));
    assert_string_equal(buf, "terminated with signal Terminated");
    executor_wait_status_text(SIGSEGV | 0x80, buf, sizeof(buf)); /* with a core dump */
    assert_string_equal(buf, "terminated with signal Segmentation fault");
    executor_wait_status_text(0x7f | (SIGSTOP << 8), buf, sizeof(buf));
    assert_string_equal(buf, "ended with wait status 4991");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_shell_form, setup, teardown),
        cmocka_unit_test_setup_teardown(test_argv_form_and_path_search, setup, teardown),
        cmocka_unit_test_setup_teardown(test_task_path_wins, setup, teardown),
        cmocka_unit_test_setup_teardown(test_environment_overrides, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_commands, setup, teardown),
        cmocka_unit_test(test_wait_status_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
