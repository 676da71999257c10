/* The executor driver end to end: mesos-local with real containers (posix) in a child process,
 * and in this process a scheduler on the scheduler driver that launches a task whose
 * ExecutorInfo runs the example custom executor, build/bin/test-executor. The task must go
 * TASK_RUNNING then TASK_FINISHED (sent by test-executor through its driver and the agent); a
 * framework message to the executor comes back (test-executor echoes it); tearing the framework
 * down makes the agent shut the executor down, which test-executor writes in its sandbox's
 * stdout before it exits. Waits poll with a deadline. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "frameworks/scheduler.h"
#include "proto/task_states.h"
#include "tests/frameworks/e2e.h"
#include "tests/support/fs.h"
#include "tests/support/wait.h"

#define WAIT_MS 30000

static struct {
    pthread_mutex_t lock;
    bool launched;
    int states[8]; /* the task's states, in order */
    size_t state_count;
    char agent_id[128];
    char echo[32];
    char executor_path[4200];
} rec = {.lock = PTHREAD_MUTEX_INITIALIZER};

static scheduler_resources_t task_res, executor_res;

static void launch_on(scheduler_driver_t *d, const Mesos__Offer *offer)
{
    scheduler_task_t task;
    scheduler_task_init(&task, "task-1", "custom", offer->agent_id->value, NULL, task_res.items,
                        task_res.count);
    Mesos__ExecutorID eid = MESOS__EXECUTOR_ID__INIT;
    Mesos__CommandInfo cmd = MESOS__COMMAND_INFO__INIT;
    Mesos__ExecutorInfo executor = MESOS__EXECUTOR_INFO__INIT;
    eid.value = "test-executor";
    cmd.value = rec.executor_path;
    executor.executor_id = &eid;
    executor.name = "Test Executor (C)";
    executor.command = &cmd;
    executor.resources = executor_res.items;
    executor.n_resources = executor_res.count;
    task.info.command = NULL; /* the executor runs the task */
    task.info.executor = &executor;
    Mesos__TaskInfo *tasks[] = {&task.info};
    const char *ids[] = {offer->id->value};
    assert_int_equal(scheduler_driver_launch(d, ids, 1, tasks, 1, -1), ACTOR_OK);
}

static void on_offers(scheduler_driver_t *d, void *user, const Mesos__Offer *const *offers,
                      size_t count)
{
    (void)user;
    for (size_t i = 0; i < count; i++) {
        pthread_mutex_lock(&rec.lock);
        bool first = !rec.launched;
        rec.launched = true;
        pthread_mutex_unlock(&rec.lock);
        if (first)
            launch_on(d, offers[i]);
        else
            scheduler_driver_decline(d, offers[i]->id->value, 3600);
    }
}

static void on_update(scheduler_driver_t *d, void *user, const Mesos__TaskStatus *status)
{
    (void)user;
    pthread_mutex_lock(&rec.lock);
    if (rec.state_count < 8)
        rec.states[rec.state_count++] = (int)status->state;
    if (status->agent_id != NULL)
        snprintf(rec.agent_id, sizeof(rec.agent_id), "%s", status->agent_id->value);
    pthread_mutex_unlock(&rec.lock);
    if (status->state == MESOS__TASK_STATE__TASK_FINISHED)
        scheduler_driver_message(d, status->agent_id->value, "test-executor", "ping", 4);
}

static void on_message(scheduler_driver_t *d, void *user, const char *agent_id,
                       const char *executor_id, const uint8_t *data, size_t len)
{
    (void)d, (void)user, (void)agent_id;
    pthread_mutex_lock(&rec.lock);
    snprintf(rec.echo, sizeof(rec.echo), "%s:%.*s", executor_id, (int)len, (const char *)data);
    pthread_mutex_unlock(&rec.lock);
}

static bool echo_came(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&rec.lock);
    bool done = rec.echo[0] != '\0';
    pthread_mutex_unlock(&rec.lock);
    return done;
}

/* Polls (20 ms steps) until the echo came back. */
static bool wait_echo(void)
{
    return support_wait_until(echo_came, NULL, WAIT_MS, 20);
}

/* Polls until the file matching pattern contains needle. */
static bool wait_glob_contains(const char *pattern, const char *needle)
{
    return support_fs_wait_text(pattern, needle, WAIT_MS);
}

static void test_custom_executor_runs_a_task(void **state)
{
    e2e_cluster_t *c = *state;
    if (e2e_bin_dir() == NULL)
        skip();
    snprintf(rec.executor_path, sizeof(rec.executor_path), "%s/test-executor", c->bin_dir);
    char err[256];
    assert_int_equal(scheduler_resources_parse(&task_res, "cpus:0.5;mem:64", err, sizeof(err)),
                     ACTOR_OK);
    assert_int_equal(scheduler_resources_parse(&executor_res, "cpus:0.1;mem:32", err, sizeof(err)),
                     ACTOR_OK);
    assert_int_equal(scheduler_runtime_start(c->master, "127.0.0.1", err, sizeof(err)), ACTOR_OK);
    scheduler_driver_options_t opts;
    scheduler_driver_options_init(&opts);
    opts.master = c->master;
    opts.name = "e2e-executor";
    scheduler_callbacks_t cbs = {.offers = on_offers, .update = on_update, .message = on_message};
    scheduler_driver_t *d = NULL;
    assert_int_equal(scheduler_driver_start(&opts, &cbs, NULL, &d), ACTOR_OK);

    bool echoed = wait_echo();
    pthread_mutex_lock(&rec.lock);
    size_t n = rec.state_count;
    int states[8];
    memcpy(states, rec.states, sizeof(states));
    char echo[32];
    snprintf(echo, sizeof(echo), "%s", rec.echo);
    pthread_mutex_unlock(&rec.lock);
    if (!echoed)
        fprintf(stderr, "%zu updates; the last %s\n", n,
                n > 0 ? mesos_task_state_name(states[n - 1]) : "-");
    assert_true(echoed);
    assert_int_equal(n, 2);
    assert_string_equal(mesos_task_state_name(states[0]), "TASK_RUNNING");
    assert_string_equal(mesos_task_state_name(states[1]), "TASK_FINISHED");
    assert_string_equal(echo, "test-executor:ping");

    /* The executor's sandbox shows it registered; a teardown shuts it down. */
    char pattern[256];
    snprintf(pattern, sizeof(pattern),
             "%s/agents/*/slaves/*/frameworks/*/executors/test-executor/runs/*/stdout",
             c->work_dir);
    assert_true(wait_glob_contains(
        pattern, "Registered executor test-executor of framework e2e-executor on "));
    assert_int_equal(scheduler_driver_stop(d, false), SCHEDULER_DRIVER_STOPPED);
    assert_int_equal(scheduler_driver_join(d), SCHEDULER_DRIVER_STOPPED);
    scheduler_driver_free(d);
    assert_true(wait_glob_contains(pattern, "Finishing task task-1\nShutting down\n"));
    actor_runtime_stop();
    scheduler_resources_fini(&task_res);
    scheduler_resources_fini(&executor_res);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_custom_executor_runs_a_task, e2e_setup_real,
                                        e2e_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
