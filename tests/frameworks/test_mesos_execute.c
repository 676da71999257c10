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

static void test_finished(void **state)
{
    e2e_cluster_t *c = *state;
    if (e2e_bin_dir() == NULL)
        skip();
    char *argv[] = {"mesos-execute",
                    c->master_flag,
                    "--name=nap",
                    "--command=sleep 0.1",
                    "--env={\"GREETING\":\"hello\"}",
                    "--uris=http://127.0.0.1:1/a.tgz",
                    "--checkpoint",
                    NULL};
    e2e_run_t run;
    e2e_run(c, argv, 30000, &run);
    if (run.status != 0)
        fprintf(stderr, "mesos-execute's output:\n%s\n%s\n", run.out, run.err);
    assert_int_equal(run.status, 0);
    assert_non_null(strstr(run.out, "Subscribed with ID "));
    assert_non_null(strstr(run.out, "Submitted task 'nap' to agent '"));
    const char *running = strstr(run.out, "Received status update TASK_RUNNING for task 'nap'");
    assert_non_null(running);
    assert_non_null(strstr(running, "Received status update TASK_FINISHED for task 'nap'"));
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
        cmocka_unit_test(test_bad_flags),
    };
    return cmocka_run_group_tests(tests, e2e_setup, e2e_teardown);
}
