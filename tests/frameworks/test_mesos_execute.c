/* mesos-execute (tools/mesos_execute.c) end to end against mesos-local with simulated agents:
 * a task that finishes (exit 0, each state change printed), a task the master refuses (exit 1
 * with the reason), and bad flags. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tests/frameworks/e2e.h"

/* Runs mesos-execute with argv and checks that task ended TASK_FINISHED, exit status 0. */
static void expect_finished(e2e_cluster_t *c, char *const argv[], const char *task, e2e_run_t *run)
{
    e2e_run(c, argv, 30000, run);
    if (run->status != 0)
        fprintf(stderr, "mesos-execute's output:\n%s\n%s\n", run->out, run->err);
    assert_int_equal(run->status, 0);
    char line[128];
    snprintf(line, sizeof(line), "Received status update TASK_FINISHED for task '%s'", task);
    assert_non_null(strstr(run->out, line));
}

static void test_finished(void **state)
{
    e2e_cluster_t *c = *state;
    if (e2e_bin_dir() == NULL)
        skip();
    char *argv[] = {"mesos-execute",       c->master_flag, "--name=nap",
                    "--command=sleep 0.1", "--checkpoint", NULL};
    e2e_run_t run;
    expect_finished(c, argv, "nap", &run);
    assert_non_null(strstr(run.out, "Subscribed with ID "));
    assert_non_null(strstr(run.out, "Submitted task 'nap' to agent '"));
    const char *running = strstr(run.out, "Received status update TASK_RUNNING for task 'nap'");
    assert_non_null(running);
    assert_non_null(strstr(running, "TASK_FINISHED"));
    e2e_run_free(&run);
}

static void test_refused_task_fails(void **state)
{
    e2e_cluster_t *c = *state;
    if (e2e_bin_dir() == NULL)
        skip();
    /* No resources at all: the master answers TASK_ERROR. */
    char *argv[] = {"mesos-execute",     c->master_flag,       "--name=empty",
                    "--command=sleep 1", "--resources=cpus:0", NULL};
    e2e_run_t run;
    e2e_run(c, argv, 30000, &run);
    assert_int_equal(run.status, 1);
    assert_non_null(strstr(run.out, "Received status update TASK_ERROR for task 'empty'"));
    assert_non_null(strstr(run.out, "  reason: REASON_TASK_INVALID"));
    assert_non_null(strstr(run.out, "  message: 'Task uses no resources'"));
    e2e_run_free(&run);
}

/* A cluster with real executors, for one test. */
static int real_setup(void **state)
{
    e2e_cluster_t *c = calloc(1, sizeof(*c));
    assert_non_null(c);
    *state = c;
    if (e2e_bin_dir() != NULL)
        e2e_cluster_start(c, false);
    return 0;
}

/* With real executors: the URI is fetched and extracted into the sandbox, the environment set;
 * a command that fails gives TASK_FAILED and exit 1. */
static void test_uris_and_env_reach_the_task(void **state)
{
    e2e_cluster_t *c = *state;
    if (e2e_bin_dir() == NULL)
        skip();
    char cmd[512], uris[128];
    snprintf(cmd, sizeof(cmd),
             "mkdir %s/files && echo hi > %s/files/a.txt && tar -C %s/files "
             "-czf %s/b.tgz a.txt",
             c->work_dir, c->work_dir, c->work_dir, c->work_dir);
    assert_int_equal(system(cmd), 0);
    snprintf(uris, sizeof(uris), "--uris=file://%s/b.tgz", c->work_dir);
    char *argv[] = {"mesos-execute",
                    c->master_flag,
                    "--name=fetched",
                    "--command=test \"$GREETING\" = hello && test \"$(cat a.txt)\" = hi",
                    "--env={\"GREETING\":\"hello\"}",
                    uris,
                    NULL};
    e2e_run_t run;
    expect_finished(c, argv, "fetched", &run);
    e2e_run_free(&run);

    char *failing[] = {"mesos-execute", c->master_flag, "--name=failing", "--command=exit 3", NULL};
    e2e_run(c, failing, 30000, &run);
    assert_int_equal(run.status, 1);
    assert_non_null(strstr(run.out, "Received status update TASK_FAILED for task 'failing'"));
    assert_non_null(strstr(run.out, "  message: '"));
    e2e_run_free(&run);
}

static void test_bad_flags(void **state)
{
    e2e_cluster_t *c = *state;
    if (e2e_bin_dir() == NULL)
        skip();
    char *const cases[][5] = {
        {"mesos-execute", c->master_flag, "--command=true", NULL}, /* no --name */
        {"mesos-execute", c->master_flag, "--name=x", NULL},       /* no --command */
        {"mesos-execute", "--name=x", "--command=true", NULL},     /* no --master */
        {"mesos-execute", c->master_flag, "--name=x", "--command=true", "--env=[1]"},
        {"mesos-execute", c->master_flag, "--name=x", "--command=true", "--env={\"K\":1}"},
        {"mesos-execute", c->master_flag, "--name=x", "--command=true", "--resources=mem:x"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *argv[6] = {0};
        memcpy(argv, cases[i], sizeof(cases[i]));
        e2e_run_t run;
        e2e_run(c, argv, 10000, &run);
        assert_int_equal(run.status, 1);
        assert_true(strlen(run.err) > 0);
        e2e_run_free(&run);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_finished),
        cmocka_unit_test(test_refused_task_fails),
        cmocka_unit_test_setup_teardown(test_uris_and_env_reach_the_task, real_setup, e2e_teardown),
        cmocka_unit_test(test_bad_flags),
    };
    return cmocka_run_group_tests(tests, e2e_setup, e2e_teardown);
}
