/* The scheduler driver's calls (frameworks/scheduler_calls.c) against the real master and a
 * simulated agent in one process: launch from a callback and from outside, updates with
 * implicit and explicit acknowledgements, decline with filters, suppress and revive, kill,
 * reconciliation, rescinded offers, lost agents, and the master's answers to bad input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "resources/resources.h"
#include "tests/frameworks/harness.h"

#define STATE(s)  MESOS__TASK_STATE__TASK_##s
#define REASON(r) MESOS__TASK_STATUS__REASON__REASON_##r

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

/* Launches "cb-<n>" (sleep 2, cpus:1) on each offer, from inside the offers callback. */
static void launch_in_callback(harness_t *h, scheduler_driver_t *d,
                               const Mesos__Offer *const *offers, size_t count)
{
    resources_t res;
    Mesos__Resource **proto = NULL;
    size_t n = 0;
    assert_int_equal(resources_parse(&res, "cpus:1;mem:64", NULL, NULL, 0), ACTOR_OK);
    assert_int_equal(resources_to_proto(&res, &proto, &n), ACTOR_OK);
    for (size_t i = 0; i < count; i++) {
        char id[32];
        snprintf(id, sizeof(id), "cb-%zu", h->offer_count - count + i);
        scheduler_task_t task;
        scheduler_task_init(&task, id, NULL, offers[i]->agent_id->value, "sleep 2", proto, n);
        Mesos__TaskInfo *tasks[] = {&task.info};
        const char *ids[] = {offers[i]->id->value};
        assert_int_equal(scheduler_driver_launch(d, ids, 1, tasks, 1, -1), ACTOR_OK);
    }
    resources_proto_free(proto, n);
    resources_fini(&res);
}

static void test_launch_from_callback_with_implicit_acks(void **state)
{
    harness_t *h = *state;
    type_counter_t counter = {0};
    harness_count_messages(&counter);
    h->offers_hook = launch_in_callback;
    harness_offered(h, false);
    assert_int_equal(harness_updates(h, "cb-0", STATE(RUNNING)), 1);
    assert_true(harness_last_update(h)->has_uuid);
    assert_int_equal(counter.acks, 1);
    h->offers_hook = NULL;
    cluster_advance(2); /* `sleep 2` ends */
    assert_int_equal(harness_updates(h, "cb-0", STATE(FINISHED)), 1);
    assert_int_equal(counter.acks, 2);
    size_t sent = counter.updates_from_agents;
    cluster_advance(60); /* acknowledged: the agent resends nothing */
    assert_int_equal(counter.updates_from_agents, sent);
    assert_int_equal(harness_updates(h, "cb-0", STATE(FINISHED)), 1);
}

/* A driver with explicit acknowledgements, subscribed and offered an agent. */
static void offered_explicit(harness_t *h)
{
    scheduler_driver_options_t opts;
    harness_options(h, &opts);
    opts.explicit_acknowledgements = true;
    harness_offered_with(h, &opts);
}

static void test_explicit_acknowledgements(void **state)
{
    harness_t *h = *state;
    offered_explicit(h);
    type_counter_t counter = {0};
    harness_count_messages(&counter);
    assert_int_equal(harness_launch(h, harness_last_offer(h), "t1", "sleep 1000", "cpus:1"),
                     ACTOR_OK);
    assert_int_equal(harness_updates(h, "t1", STATE(RUNNING)), 1);
    assert_int_equal(counter.acks, 0);
    cluster_advance(10); /* unacknowledged: the agent resends it */
    assert_int_equal(harness_updates(h, "t1", STATE(RUNNING)), 2);

    Mesos__TaskStatus status = MESOS__TASK_STATUS__INIT;
    Mesos__TaskID tid = MESOS__TASK_ID__INIT;
    Mesos__AgentID aid = MESOS__AGENT_ID__INIT;
    tid.value = "t1";
    status.task_id = &tid;
    assert_int_equal(scheduler_driver_acknowledge(h->d, &status), ACTOR_OK); /* no uuid: none */
    actor_settle();
    assert_int_equal(counter.acks, 0);
    /* With a uuid and an agent, an ACKNOWLEDGE call goes to the master (the agent checks the
     * uuid: test_explicit_acknowledgement_stops_resends acknowledges the real one). */
    aid.value = h->updates[h->update_count - 1].agent_id;
    status.agent_id = &aid;
    uint8_t wrong[16] = {0};
    status.has_uuid = true;
    status.uuid.data = wrong;
    status.uuid.len = sizeof(wrong);
    assert_int_equal(scheduler_driver_acknowledge(h->d, &status), ACTOR_OK);
    actor_settle();
    assert_int_equal(counter.acks, 1);
    status.agent_id = NULL;
    assert_int_equal(scheduler_driver_acknowledge(h->d, &status), ACTOR_EINVAL);
    assert_int_equal(scheduler_driver_acknowledge(h->d, NULL), ACTOR_EINVAL);
}

/* Acknowledges every update explicitly from inside the callback. */
static void ack_in_callback(harness_t *h, scheduler_driver_t *d, const Mesos__TaskStatus *s)
{
    (void)h;
    assert_int_equal(scheduler_driver_acknowledge(d, s), ACTOR_OK);
}

static void test_explicit_acknowledgement_stops_resends(void **state)
{
    harness_t *h = *state;
    offered_explicit(h);
    h->update_hook = ack_in_callback;
    harness_launch(h, harness_last_offer(h), "t1", "sleep 1000", "cpus:1");
    assert_int_equal(harness_updates(h, "t1", STATE(RUNNING)), 1);
    cluster_advance(60);
    assert_int_equal(harness_updates(h, "t1", STATE(RUNNING)), 1);
}

static void test_acknowledge_refused_with_implicit(void **state)
{
    harness_t *h = *state;
    harness_offered(h, false);
    Mesos__TaskStatus status = MESOS__TASK_STATUS__INIT;
    Mesos__TaskID tid = MESOS__TASK_ID__INIT;
    tid.value = "t1";
    status.task_id = &tid;
    assert_int_equal(scheduler_driver_acknowledge(h->d, &status), ACTOR_EINVAL);
}

static void test_decline_with_filter_and_revive(void **state)
{
    harness_t *h = *state;
    const Mesos__Offer *offer = harness_offered(h, false);
    assert_int_equal(scheduler_driver_decline(h->d, offer->id->value, 100), ACTOR_OK);
    actor_settle();
    size_t offers = h->offer_count;
    for (int i = 0; i < 10; i++) /* 50 s: still filtered */
        cluster_advance(5);
    assert_int_equal(h->offer_count, offers);
    assert_int_equal(scheduler_driver_revive(h->d, NULL), ACTOR_OK);
    cluster_advance(1);
    assert_int_equal(h->offer_count, offers + 1);

    /* The default filter is 5 seconds. */
    offer = harness_last_offer(h);
    assert_int_equal(scheduler_driver_decline(h->d, offer->id->value, -1), ACTOR_OK);
    for (int i = 0; i < 4; i++) /* one allocation cycle a second */
        cluster_advance(1);
    assert_int_equal(h->offer_count, offers + 1);
    for (int i = 0; i < 3; i++)
        cluster_advance(1);
    assert_int_equal(h->offer_count, offers + 2);
    assert_int_equal(scheduler_driver_decline(h->d, NULL, 1), ACTOR_EINVAL);
}

static void test_suppress_and_revive(void **state)
{
    harness_t *h = *state;
    const Mesos__Offer *offer = harness_offered(h, false);
    assert_int_equal(scheduler_driver_suppress(h->d, NULL), ACTOR_OK);
    assert_int_equal(scheduler_driver_decline(h->d, offer->id->value, 0), ACTOR_OK);
    actor_settle();
    size_t offers = h->offer_count;
    for (int i = 0; i < 5; i++)
        cluster_advance(5);
    assert_int_equal(h->offer_count, offers);
    assert_int_equal(scheduler_driver_revive(h->d, "*"), ACTOR_OK);
    cluster_advance(1);
    assert_int_equal(h->offer_count, offers + 1);
}

static void test_kill(void **state)
{
    harness_t *h = *state;
    harness_offered(h, false);
    harness_launch(h, harness_last_offer(h), "t1", "sleep 1000", "cpus:1");
    assert_int_equal(harness_updates(h, "t1", STATE(RUNNING)), 1);
    assert_int_equal(scheduler_driver_kill(h->d, "t1", NULL), ACTOR_OK);
    actor_settle();
    assert_int_equal(harness_updates(h, "t1", STATE(KILLED)), 1);

    /* An unknown task is answered: TASK_LOST without PARTITION_AWARE. */
    assert_int_equal(scheduler_driver_kill(h->d, "nope", "no-such-agent"), ACTOR_OK);
    actor_settle();
    const recorded_update_t *u = harness_last_update(h);
    assert_string_equal(u->task_id, "nope");
    assert_int_equal(u->state, STATE(LOST));
    assert_int_equal(u->reason, REASON(RECONCILIATION));
    assert_int_equal(scheduler_driver_kill(h->d, NULL, NULL), ACTOR_EINVAL);
}

static void test_kill_unknown_partition_aware(void **state)
{
    harness_t *h = *state;
    harness_offered(h, true);
    assert_int_equal(scheduler_driver_kill(h->d, "nope", NULL), ACTOR_OK);
    actor_settle();
    assert_int_equal(harness_last_update(h)->state, STATE(UNKNOWN));
}

static void test_reconcile(void **state)
{
    harness_t *h = *state;
    harness_offered(h, false);
    harness_launch(h, harness_last_offer(h), "t1", "sleep 1000", "cpus:1");
    size_t before = h->update_count;
    const char *ids[] = {"t1", "ghost"};
    const char *agents[] = {h->updates[0].agent_id, NULL};
    assert_int_equal(scheduler_driver_reconcile(h->d, ids, agents, 2), ACTOR_OK);
    actor_settle();
    assert_int_equal(h->update_count, before + 2);
    assert_string_equal(h->updates[before].task_id, "t1");
    assert_int_equal(h->updates[before].state, STATE(RUNNING));
    assert_int_equal(h->updates[before].reason, REASON(RECONCILIATION));
    assert_false(h->updates[before].has_uuid);
    assert_string_equal(h->updates[before + 1].task_id, "ghost");
    assert_int_equal(h->updates[before + 1].state, STATE(LOST));

    /* Implicit: every task the master knows. */
    assert_int_equal(scheduler_driver_reconcile(h->d, NULL, NULL, 0), ACTOR_OK);
    actor_settle();
    assert_int_equal(h->update_count, before + 3);
    assert_string_equal(harness_last_update(h)->task_id, "t1");
    const char *null_id[] = {NULL};
    assert_int_equal(scheduler_driver_reconcile(h->d, null_id, NULL, 1), ACTOR_EINVAL);
    assert_int_equal(scheduler_driver_reconcile(h->d, NULL, NULL, 3), ACTOR_EINVAL);
}

static void test_launch_beyond_offer_is_task_error(void **state)
{
    harness_t *h = *state;
    harness_offered(h, false);
    assert_int_equal(harness_launch(h, harness_last_offer(h), "big", "sleep 1", "cpus:64"),
                     ACTOR_OK);
    const recorded_update_t *u = harness_last_update(h);
    assert_non_null(u);
    assert_string_equal(u->task_id, "big");
    assert_int_equal(u->state, STATE(ERROR));
    assert_int_equal(u->reason, REASON(TASK_INVALID));
    assert_non_null(strstr(u->message, "more resources"));
}

static void test_launch_on_used_offer_is_lost(void **state)
{
    harness_t *h = *state;
    const Mesos__Offer *offer = harness_offered(h, false);
    harness_launch(h, offer, "t1", "sleep 1000", "cpus:1");
    assert_int_equal(harness_updates(h, "t1", STATE(RUNNING)), 1);
    harness_launch(h, offer, "t2", "sleep 1000", "cpus:1"); /* the offer is gone */
    const recorded_update_t *u = harness_last_update(h);
    assert_string_equal(u->task_id, "t2");
    assert_int_equal(u->state, STATE(LOST));
    assert_int_equal(u->reason, REASON(INVALID_OFFERS));
}

static void test_duplicate_task_id(void **state)
{
    harness_t *h = *state;
    const Mesos__Offer *offer = harness_offered(h, true);
    harness_launch(h, offer, "t1", "sleep 1000", "cpus:1");
    cluster_advance(6); /* the rest of the agent is offered again */
    offer = harness_last_offer(h);
    harness_launch(h, offer, "t1", "sleep 1000", "cpus:1");
    const recorded_update_t *u = harness_last_update(h);
    assert_int_equal(u->state, STATE(ERROR));
    assert_non_null(strstr(u->message, "duplicate"));
}

static void test_bad_task_info_refused(void **state)
{
    harness_t *h = *state;
    const Mesos__Offer *offer = harness_offered(h, false);
    scheduler_task_t task;
    scheduler_task_init(&task, "t1", NULL, offer->agent_id->value, "true", NULL, 0);
    task.info.name = NULL; /* a required field */
    Mesos__TaskInfo *tasks[] = {&task.info};
    const char *ids[] = {offer->id->value};
    assert_int_equal(scheduler_driver_launch(h->d, ids, 1, tasks, 1, -1), ACTOR_EINVAL);
    Mesos__TaskInfo *none[] = {NULL};
    assert_int_equal(scheduler_driver_launch(h->d, ids, 1, none, 1, -1), ACTOR_EINVAL);
    const char *null_ids[] = {NULL};
    task.info.name = "t1";
    assert_int_equal(scheduler_driver_launch(h->d, null_ids, 1, tasks, 1, -1), ACTOR_EINVAL);
    assert_int_equal(scheduler_driver_launch(h->d, NULL, 1, tasks, 1, -1), ACTOR_EINVAL);
    assert_int_equal(scheduler_driver_message(h->d, NULL, "e", "x", 1), ACTOR_EINVAL);
    assert_int_equal(scheduler_driver_launch(NULL, ids, 1, tasks, 1, -1), ACTOR_EINVAL);
    /* A command without a value is the master's to refuse. */
    task.command.value = "";
    assert_int_equal(scheduler_driver_launch(h->d, ids, 1, tasks, 1, -1), ACTOR_OK);
    actor_settle();
    assert_int_equal(harness_last_update(h)->state, STATE(ERROR));
}

static void test_agent_lost(void **state)
{
    harness_t *h = *state;
    harness_offered(h, false);
    harness_launch(h, harness_last_offer(h), "t1", "sleep 1000", "cpus:1");
    cluster_advance(6); /* the rest of the agent is offered again */
    assert_int_equal(h->rescinds, 0);
    harness_agent_stop(h); /* its link breaks: its offer is rescinded, its task lost */
    assert_int_equal(h->rescinds, 1);
    assert_int_equal(harness_updates(h, "t1", STATE(LOST)), 1);
    for (int i = 0; i < 12; i++) /* 5 missed pings of 15 s: the agent is removed */
        cluster_advance(10);
    assert_int_equal(h->failures, 1);
    assert_string_equal(h->failure_agent, h->updates[0].agent_id);
}

static void test_message_to_executor(void **state)
{
    harness_t *h = *state;
    harness_offered(h, false);
    assert_int_equal(scheduler_driver_message(h->d, harness_last_offer(h)->agent_id->value,
                                              "some-executor", "hello", 5),
                     ACTOR_OK);
    assert_int_equal(scheduler_driver_message(h->d, "a", "e", NULL, 0), ACTOR_OK);
    actor_settle();
    assert_int_equal(h->errors, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_launch_from_callback_with_implicit_acks, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_explicit_acknowledgements, setup, teardown),
        cmocka_unit_test_setup_teardown(test_explicit_acknowledgement_stops_resends, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_acknowledge_refused_with_implicit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_decline_with_filter_and_revive, setup, teardown),
        cmocka_unit_test_setup_teardown(test_suppress_and_revive, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kill, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kill_unknown_partition_aware, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reconcile, setup, teardown),
        cmocka_unit_test_setup_teardown(test_launch_beyond_offer_is_task_error, setup, teardown),
        cmocka_unit_test_setup_teardown(test_launch_on_used_offer_is_lost, setup, teardown),
        cmocka_unit_test_setup_teardown(test_duplicate_task_id, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_task_info_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_agent_lost, setup, teardown),
        cmocka_unit_test_setup_teardown(test_message_to_executor, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
