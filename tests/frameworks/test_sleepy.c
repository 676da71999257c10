/* sleepy-framework (frameworks/sleepy/sleepy.c) end to end: mesos-local with two simulated
 * agents in a child process, sleepy run against it; its exit status and the JSON summary it
 * prints last. Also its answers to bad flags. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "tests/frameworks/e2e.h"

/* Runs sleepy with argv, expecting exit 0 and all `tasks` finished: the summary (json_decref). */
static json_t *run_sleepy(e2e_cluster_t *c, char *const argv[], json_int_t tasks)
{
    e2e_run_t run;
    e2e_run(c, argv, 60000, &run);
    if (run.status != 0)
        fprintf(stderr, "sleepy's stderr:\n%s\n", run.err);
    assert_int_equal(run.status, 0);
    char *line = e2e_last_line(run.out);
    assert_non_null(line);
    json_t *summary = json_loads(line, 0, NULL);
    free(line);
    e2e_run_free(&run);
    assert_non_null(summary);
    assert_int_equal(json_integer_value(json_object_get(summary, "tasks")), tasks);
    assert_int_equal(json_integer_value(json_object_get(summary, "finished")), tasks);
    assert_int_equal(json_integer_value(json_object_get(summary, "failed")), 0);
    return summary;
}

static void test_twenty_tasks(void **state)
{
    e2e_cluster_t *c = *state;
    if (e2e_bin_dir() == NULL)
        skip();
    char *argv[] = {"sleepy-framework", c->master_flag, "--tasks=20", "--duration=0.1", NULL};
    json_t *summary = run_sleepy(c, argv, 20);
    double seconds = json_number_value(json_object_get(summary, "seconds"));
    assert_true(seconds >= 0.1 && seconds < 60);
    assert_true(json_number_value(json_object_get(summary, "tasks_per_second")) > 0);
    double p50 = json_number_value(json_object_get(summary, "submit_to_running_p50_ms"));
    double p99 = json_number_value(json_object_get(summary, "submit_to_running_p99_ms"));
    assert_true(p50 > 0 && p50 <= p99);
    json_decref(summary);
}

static void test_duration_as_mesos_duration(void **state)
{
    e2e_cluster_t *c = *state;
    if (e2e_bin_dir() == NULL)
        skip();
    char *argv[] = {"sleepy-framework",          c->master_flag,     "--tasks=3", "--duration=50ms",
                    "--resources=cpus:1;mem:32", "--name=sleepy-ms", NULL};
    json_decref(run_sleepy(c, argv, 3));
}

/* Hundreds of tasks on one offer. */
static void test_many_tasks_per_offer(void **state)
{
    e2e_cluster_t *c = *state;
    if (e2e_bin_dir() == NULL)
        skip();
    char *argv[] = {"sleepy-framework",
                    c->master_flag,
                    "--tasks=300",
                    "--duration=0",
                    "--resources=cpus:0.01;mem:1",
                    NULL};
    json_decref(run_sleepy(c, argv, 300));
}

/* Whether the master lists framework `name` as completed with `killed` tasks TASK_KILLED, within
 * 10 s. */
static bool torn_down(e2e_cluster_t *c, const char *name, json_int_t killed)
{
    for (int tries = 0; tries < 200; tries++) {
        char *body = e2e_get(c, "/frameworks");
        json_t *root = body != NULL ? json_loads(body, 0, NULL) : NULL;
        free(body);
        json_t *fw;
        size_t i;
        bool found = false;
        json_array_foreach(json_object_get(root, "completed_frameworks"), i, fw)
        {
            found = found || (strcmp(json_string_value(json_object_get(fw, "name")), name) == 0 &&
                              json_integer_value(json_object_get(fw, "TASK_KILLED")) == killed);
        }
        json_decref(root);
        if (found)
            return true;
        usleep(50000);
    }
    return false;
}

/* SIGTERM tears the framework down (its tasks are killed) and sleepy reports what it did. */
static void test_sigterm_tears_down(void **state)
{
    e2e_cluster_t *c = *state;
    if (e2e_bin_dir() == NULL)
        skip();
    char *argv[] = {"sleepy-framework", c->master_flag,       "--tasks=5",
                    "--duration=1000",  "--name=sleepy-term", NULL};
    pid_t pid = e2e_start(c, argv);
    bool running = e2e_poll(c, "/state-summary", "\"TASK_RUNNING\":5", 1, 10000);
    kill(pid, SIGTERM);
    e2e_run_t run;
    e2e_finish(c, pid, argv[0], 10000, &run);
    assert_true(running);
    assert_int_equal(run.status, 1);
    char *line = e2e_last_line(run.out);
    assert_non_null(line);
    assert_non_null(strstr(line, "\"tasks\":5,\"finished\":0,"));
    assert_non_null(strstr(run.err, "5 of 5 tasks did not finish"));
    free(line);
    e2e_run_free(&run);
    /* The master forgot the framework and killed its tasks. */
    assert_true(torn_down(c, "sleepy-term", 5));
}

static void test_bad_flags(void **state)
{
    e2e_cluster_t *c = *state;
    if (e2e_bin_dir() == NULL)
        skip();
    char *const cases[][4] = {
        {"sleepy-framework", "--tasks=5", NULL}, /* no --master */
        {"sleepy-framework", c->master_flag, "--tasks=0", NULL},
        {"sleepy-framework", c->master_flag, "--resources=cpus:lots", NULL},
        {"sleepy-framework", c->master_flag, "--duration=soon", NULL},
        {"sleepy-framework", "--master=127.0.0.1", NULL},
        {"sleepy-framework", c->master_flag, "--no-such-flag=1", NULL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        e2e_run_t run;
        e2e_run(c, cases[i], 10000, &run);
        assert_int_equal(run.status, 1);
        assert_true(strlen(run.err) > 0);
        e2e_run_free(&run);
    }
    char *help[] = {"sleepy-framework", "--help", NULL};
    e2e_run_t run;
    e2e_run(c, help, 10000, &run);
    assert_int_equal(run.status, 0);
    assert_non_null(strstr(run.out, "--duration"));
    e2e_run_free(&run);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_twenty_tasks),
        cmocka_unit_test(test_duration_as_mesos_duration),
        cmocka_unit_test(test_many_tasks_per_offer),
        cmocka_unit_test(test_sigterm_tears_down),
        cmocka_unit_test(test_bad_flags),
    };
    return cmocka_run_group_tests(tests, e2e_setup, e2e_teardown);
}
