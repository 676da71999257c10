/* The scheduler driver's life (frameworks/scheduler.c) against the real master in one process:
 * subscription and its retries, the error callback and abort, losing the master (link broken,
 * heartbeats missed) and resubscribing as the same framework, failover to a new driver, stop with
 * and without teardown, an orphan framework from a crossed retry, and the helpers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "actor/filter.h"
#include "tests/frameworks/harness.h"

static int setup(void **state)
{
    *state = harness_new();
    return 0;
}

static int teardown(void **state)
{
    harness_free(*state);
    return 0;
}

/* Whether the master's GET /frameworks lists framework id in section ("frameworks" or
 * "completed_frameworks"). */
static bool listed(harness_t *h, const char *section, const char *id)
{
    uint16_t port = cluster_http_listen(&h->master);
    int status = 0;
    char *body = cluster_http(port, "GET", "/frameworks", NULL, &status);
    assert_int_equal(status, 200);
    json_t *root = json_loads(body, 0, NULL);
    free(body);
    assert_non_null(root);
    json_t *list = json_object_get(root, section), *fw;
    size_t i;
    bool found = false;
    json_array_foreach(list, i, fw)
    {
        found = found || strcmp(json_string_value(json_object_get(fw, "id")), id) == 0;
    }
    json_decref(root);
    return found;
}

static void test_subscribes_and_is_offered(void **state)
{
    harness_t *h = *state;
    const Mesos__Offer *offer = harness_offered(h, false);
    assert_int_equal(h->resubscribed, 0);
    assert_true(strlen(h->framework_id) > 0);
    assert_string_equal(offer->framework_id->value, h->framework_id);
    assert_int_equal(scheduler_driver_status(h->d), SCHEDULER_DRIVER_RUNNING);
    assert_true(listed(h, "frameworks", h->framework_id));
}

static void test_subscription_retried_with_backoff(void **state)
{
    harness_t *h = *state;
    type_counter_t counter = {.drop = "mesos.scheduler.Call"};
    harness_count_messages(&counter);
    scheduler_driver_options_t opts;
    harness_options(h, &opts);
    harness_driver_start(h, &opts);
    assert_int_equal(counter.subscribes, 1);
    cluster_advance(1.9);
    assert_int_equal(counter.subscribes, 1);
    cluster_advance(0.2); /* 2 s: the first retry */
    assert_int_equal(counter.subscribes, 2);
    cluster_advance(4); /* then 4 s later */
    assert_int_equal(counter.subscribes, 3);
    cluster_advance(8);
    assert_int_equal(counter.subscribes, 4);
    assert_int_equal(h->subscribed, 0);
    counter.drop = NULL; /* the master hears the next retry */
    cluster_advance(16);
    assert_int_equal(counter.subscribes, 5);
    assert_int_equal(h->subscribed, 1);
    cluster_advance(120); /* no more retries once subscribed */
    assert_int_equal(counter.subscribes, 5);
}

static void test_invalid_framework_info_aborts(void **state)
{
    harness_t *h = *state;
    scheduler_driver_options_t opts;
    harness_options(h, &opts);
    opts.role = "-bad";
    harness_driver_start(h, &opts);
    assert_int_equal(h->errors, 1);
    assert_non_null(strstr(h->error, "'-'"));
    assert_int_equal(h->subscribed, 0);
    assert_int_equal(scheduler_driver_join(h->d), SCHEDULER_DRIVER_ABORTED);
    assert_int_equal(scheduler_driver_decline(h->d, "x", 1), ACTOR_ECLOSED);
    assert_int_equal(scheduler_driver_stop(h->d, false), SCHEDULER_DRIVER_ABORTED);
    cluster_advance(10); /* aborted: no more SUBSCRIBE retries, no more callbacks */
    assert_int_equal(h->errors, 1);

    /* A negative failover timeout is refused by the master too. */
    scheduler_driver_free(h->d);
    h->d = NULL;
    harness_options(h, &opts);
    opts.failover_timeout = -1;
    harness_driver_start(h, &opts);
    assert_int_equal(h->errors, 2);
    assert_non_null(strstr(h->error, "failover_timeout"));
}

static void test_bad_options(void **state)
{
    harness_t *h = *state;
    scheduler_driver_options_t opts;
    scheduler_driver_t *d = NULL;
    harness_options(h, &opts);
    opts.master = NULL;
    assert_int_equal(scheduler_driver_start(&opts, NULL, NULL, &d), ACTOR_EINVAL);
    opts.master = "not-a-master";
    assert_int_equal(scheduler_driver_start(&opts, NULL, NULL, &d), ACTOR_EINVAL);
    harness_options(h, &opts);
    opts.name = NULL;
    assert_int_equal(scheduler_driver_start(&opts, NULL, NULL, &d), ACTOR_EINVAL);
    harness_options(h, &opts);
    opts.role_count = 1;
    assert_int_equal(scheduler_driver_start(&opts, NULL, NULL, &d), ACTOR_EINVAL);
    assert_null(d);
    assert_int_equal(scheduler_driver_start(NULL, NULL, NULL, &d), ACTOR_EINVAL);
}

static void test_master_restart_resubscribes(void **state)
{
    harness_t *h = *state;
    harness_offered(h, false);
    char id[128];
    snprintf(id, sizeof(id), "%s", h->framework_id);
    master_stop(&h->master); /* the link breaks */
    actor_settle();
    assert_int_equal(h->disconnected, 1);
    /* Calls are dropped while disconnected; a launch is answered TASK_LOST by the driver. */
    assert_int_equal(harness_launch(h, harness_last_offer(h), "t1", "sleep 5", "cpus:1"), ACTOR_OK);
    const recorded_update_t *u = harness_last_update(h);
    assert_non_null(u);
    assert_int_equal(u->state, MESOS__TASK_STATE__TASK_LOST);
    assert_int_equal(u->reason, MESOS__TASK_STATUS__REASON__REASON_MASTER_DISCONNECTED);
    assert_int_equal(scheduler_driver_kill(h->d, "t1", NULL), ACTOR_OK);

    master_options_t opts;
    cluster_master_options(&opts, NULL);
    h->master = cluster_master_start(&opts);
    assert_int_equal(h->resubscribed, 0);
    cluster_advance(2); /* the next retry */
    assert_int_equal(h->subscribed, 2);
    assert_int_equal(h->resubscribed, 1);
    assert_string_equal(h->framework_id, id);
    assert_true(listed(h, "frameworks", id));
}

static void test_missed_heartbeats_resubscribe(void **state)
{
    harness_t *h = *state;
    harness_offered(h, false);
    type_counter_t counter = {.drop_events_to_driver = true};
    harness_count_messages(&counter);
    for (int i = 0; i < 5; i++) /* 75 s: five heartbeat intervals */
        cluster_advance(15);
    assert_int_equal(h->disconnected, 0);
    cluster_advance(15);
    assert_int_equal(h->disconnected, 1);
    assert_true(counter.subscribes >= 1);
    counter.drop_events_to_driver = false;
    cluster_advance(2);
    assert_int_equal(h->resubscribed, 1);
    for (int i = 0; i < 10; i++) /* heartbeats flow again: no more disconnections */
        cluster_advance(15);
    assert_int_equal(h->disconnected, 1);
}

static void test_failover_to_new_driver(void **state)
{
    harness_t *h = *state;
    scheduler_driver_options_t opts;
    harness_options(h, &opts);
    opts.failover_timeout = 3600;
    harness_driver_start(h, &opts);
    char id[128];
    snprintf(id, sizeof(id), "%s", h->framework_id);
    assert_int_equal(scheduler_driver_stop(h->d, true), SCHEDULER_DRIVER_STOPPED);
    assert_int_equal(scheduler_driver_join(h->d), SCHEDULER_DRIVER_STOPPED);
    scheduler_driver_free(h->d);
    h->d = NULL;
    assert_true(listed(h, "frameworks", id)); /* kept for its failover timeout */
    assert_false(listed(h, "completed_frameworks", id));

    h->subscribed = 0;
    harness_options(h, &opts);
    opts.failover_timeout = 3600;
    opts.framework_id = id;
    harness_driver_start(h, &opts);
    assert_int_equal(h->subscribed, 1);
    assert_string_equal(h->framework_id, id);
}

static void test_stop_tears_down(void **state)
{
    harness_t *h = *state;
    harness_offered(h, false);
    assert_int_equal(harness_launch(h, harness_last_offer(h), "t1", "sleep 100", "cpus:1"),
                     ACTOR_OK);
    assert_int_equal(harness_updates(h, "t1", MESOS__TASK_STATE__TASK_RUNNING), 1);
    type_counter_t counter = {0};
    harness_count_messages(&counter);
    assert_int_equal(scheduler_driver_teardown(h->d), ACTOR_OK);
    assert_int_equal(scheduler_driver_join(h->d), SCHEDULER_DRIVER_STOPPED);
    assert_int_equal(counter.teardowns, 1);
    assert_int_equal(scheduler_driver_teardown(h->d), ACTOR_ECLOSED);
    assert_int_equal(scheduler_driver_kill(h->d, "t1", NULL), ACTOR_ECLOSED);
    assert_true(listed(h, "completed_frameworks", h->framework_id));
    assert_false(listed(h, "frameworks", h->framework_id));
}

/* Stops the driver from inside the update callback, after the first RUNNING. */
static void stop_on_running(harness_t *h, scheduler_driver_t *d, const Mesos__TaskStatus *s)
{
    (void)h;
    if (s->state == MESOS__TASK_STATE__TASK_RUNNING) {
        assert_int_equal(scheduler_driver_stop(d, false), SCHEDULER_DRIVER_STOPPED);
        assert_int_equal(scheduler_driver_decline(d, "x", 1), ACTOR_ECLOSED);
        assert_int_equal(scheduler_driver_join(d), SCHEDULER_DRIVER_STOPPED); /* no wait */
    }
}

static void test_stop_from_callback(void **state)
{
    harness_t *h = *state;
    harness_offered(h, false);
    h->update_hook = stop_on_running;
    type_counter_t counter = {0};
    harness_count_messages(&counter);
    harness_launch(h, harness_last_offer(h), "t1", "sleep 1", "cpus:1");
    assert_int_equal(h->update_count, 1);
    /* The update was still acknowledged, then the framework torn down. */
    assert_int_equal(counter.acks, 1);
    assert_int_equal(counter.teardowns, 1);
    assert_int_equal(scheduler_driver_join(h->d), SCHEDULER_DRIVER_STOPPED);
    cluster_advance(5);
    assert_int_equal(h->update_count, 1);
}

/* A SUBSCRIBE retry that crosses the first SUBSCRIBED: the master answers it with the same
 * framework (as Mesos matches a resubscription from the same PID), so there is one framework and
 * nothing to tear down. */
static void test_crossed_retry_keeps_one_framework(void **state)
{
    harness_t *h = *state;
    type_counter_t counter = {.hold_subscribed = true};
    harness_count_messages(&counter);
    scheduler_driver_options_t opts;
    harness_options(h, &opts);
    harness_driver_start(h, &opts);
    assert_int_not_equal(counter.held, 0);
    assert_int_equal(h->subscribed, 0);
    cluster_advance(2); /* the retry */
    assert_int_equal(h->subscribed, 1);
    assert_int_equal(actor_filter_release(counter.held), ACTOR_OK);
    actor_settle();
    assert_int_equal(h->subscribed, 1);
    assert_int_equal(counter.teardowns, 0);
    assert_string_equal(counter.held_framework, h->framework_id);
    assert_true(listed(h, "frameworks", h->framework_id));
    harness_agent_start(h, NULL);
    cluster_advance(1);
    assert_true(h->offer_count > 0);
    assert_string_equal(harness_last_offer(h)->framework_id->value, h->framework_id);
}

static void test_master_pid(void **state)
{
    (void)state;
    actor_pid_t pid;
    char err[256], text[ACTOR_PID_STRLEN];
    assert_int_equal(scheduler_master_pid("127.0.0.1:5050", &pid, err, sizeof(err)), ACTOR_OK);
    assert_string_equal(actor_pid_format(&pid, text, sizeof(text)), "master@127.0.0.1:15050");
    assert_int_equal(scheduler_master_pid("localhost:5050", &pid, err, sizeof(err)), ACTOR_OK);
    assert_string_equal(actor_pid_format(&pid, text, sizeof(text)), "master@127.0.0.1:15050");
    assert_int_equal(scheduler_master_pid("master@10.0.0.2:1234", &pid, err, sizeof(err)),
                     ACTOR_OK);
    assert_string_equal(actor_pid_format(&pid, text, sizeof(text)), "master@10.0.0.2:1234");
    const char *bad[] = {NULL,
                         "",
                         "127.0.0.1",
                         "127.0.0.1:",
                         ":5050",
                         "127.0.0.1:99999",
                         "127.0.0.1:-1",
                         "127.0.0.1:50x",
                         "zk://10.0.0.1:2181/mesos",
                         "a@b"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = '\0';
        assert_int_equal(scheduler_master_pid(bad[i], &pid, err, sizeof(err)), ACTOR_EINVAL);
        assert_true(strlen(err) > 0);
    }
}

static void test_task_init(void **state)
{
    (void)state;
    scheduler_task_t task;
    Mesos__Resource r = MESOS__RESOURCE__INIT;
    Mesos__Resource *res[] = {&r};
    scheduler_task_init(&task, "t1", NULL, "agent-1", "echo hi", res, 1);
    assert_string_equal(task.info.name, "t1");
    assert_string_equal(task.info.task_id->value, "t1");
    assert_string_equal(task.info.agent_id->value, "agent-1");
    assert_true(task.info.command->shell);
    assert_string_equal(task.info.command->value, "echo hi");
    assert_int_equal(task.info.n_resources, 1);
    scheduler_task_init(&task, "t2", "named", "a", "true", NULL, 0);
    assert_string_equal(task.info.name, "named");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_subscribes_and_is_offered, setup, teardown),
        cmocka_unit_test_setup_teardown(test_subscription_retried_with_backoff, setup, teardown),
        cmocka_unit_test_setup_teardown(test_invalid_framework_info_aborts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_options, setup, teardown),
        cmocka_unit_test_setup_teardown(test_master_restart_resubscribes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missed_heartbeats_resubscribe, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failover_to_new_driver, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stop_tears_down, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stop_from_callback, setup, teardown),
        cmocka_unit_test_setup_teardown(test_crossed_retry_keeps_one_framework, setup, teardown),
        cmocka_unit_test(test_master_pid),
        cmocka_unit_test(test_task_init),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
