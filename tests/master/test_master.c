/* The master in an in-process cluster (support.h): frameworks subscribing and failing over,
 * agents registering, offers, launches and their validation, status updates and
 * acknowledgements, kills, reconciliation, unreachable agents, a master restarted from its
 * registry. Every test runs without workers and with the clock paused: time moves only through
 * cluster_advance(). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "actor/filter.h"
#include "tests/master/support.h"

#define EV(t)           MESOS__SCHEDULER__EVENT__TYPE__##t
#define AGENT_RESOURCES "cpus:4;mem:1024;disk:1024;ports:[31000-32000]"

/* Subscribes the scheduler, registers the agent and returns the first offer. */
static Mesos__Offer *first_offer(cluster_t *c, bool partition_aware, Mesos__Scheduler__Event **ev)
{
    sched_subscribe(c->sched, &c->master, NULL, 60, partition_aware, false);
    assert_int_equal(sched_events(c->sched, EV(SUBSCRIBED)), 1);
    assert_true(strlen(c->sched->framework_id) > 0);
    agent_register(c->agent, &c->master, AGENT_RESOURCES);
    assert_true(strlen(c->agent->agent_id) > 0);
    cluster_advance(1);
    *ev = sched_last(c->sched, EV(OFFERS));
    assert_non_null(*ev);
    assert_int_equal((*ev)->offers->n_offers, 1);
    return (*ev)->offers->offers[0];
}

static void test_subscribe_register_offer(void **state)
{
    cluster_t *c = *state;
    Mesos__Scheduler__Event *ev;
    Mesos__Offer *offer = first_offer(c, false, &ev);
    assert_string_equal(offer->agent_id->value, c->agent->agent_id);
    assert_string_equal(offer->framework_id->value, c->sched->framework_id);
    assert_string_equal(offer->hostname, "agent.test");
    double cpus = 0;
    for (size_t i = 0; i < offer->n_resources; i++) {
        if (strcmp(offer->resources[i]->name, "cpus") == 0)
            cpus = offer->resources[i]->scalar->value;
    }
    assert_true(cpus == 4.0);
    mesos__scheduler__event__free_unpacked(ev, NULL);
    /* A retried SUBSCRIBE from the same scheduler is answered again, not added twice. */
    sched_subscribe(c->sched, &c->master, c->sched->framework_id, 60, false, false);
    assert_int_equal(sched_events(c->sched, EV(SUBSCRIBED)), 2);
}

static void test_launch_update_acknowledge(void **state)
{
    cluster_t *c = *state;
    Mesos__Scheduler__Event *ev;
    Mesos__Offer *offer = first_offer(c, false, &ev);
    sched_launch(c->sched, &c->master, offer, "t1", "cpus:1;mem:128");
    mesos__scheduler__event__free_unpacked(ev, NULL);
    Mesos__Internal__RunTaskMessage *run = (Mesos__Internal__RunTaskMessage *)fake_get(
        c->agent, &mesos__internal__run_task_message__descriptor, -1);
    assert_non_null(run);
    assert_string_equal(run->task->task_id->value, "t1");
    assert_string_equal(run->framework->id->value, c->sched->framework_id);
    mesos__internal__run_task_message__free_unpacked(run, NULL);

    agent_update(c->agent, &c->master, c->sched->framework_id, "t1",
                 MESOS__TASK_STATE__TASK_RUNNING);
    ev = sched_last(c->sched, EV(UPDATE));
    assert_non_null(ev);
    assert_int_equal(ev->update->status->state, MESOS__TASK_STATE__TASK_RUNNING);
    sched_acknowledge(c->sched, &c->master, ev->update->status);
    mesos__scheduler__event__free_unpacked(ev, NULL);
    assert_int_equal(fake_count(c->agent, "mesos.internal.StatusUpdateAcknowledgementMessage"), 1);

    /* The rest of the agent (3 cpus) is offered again, the task's cpu is not. */
    cluster_advance(6);
    ev = sched_last(c->sched, EV(OFFERS));
    assert_non_null(ev);
    for (size_t i = 0; i < ev->offers->offers[0]->n_resources; i++) {
        Mesos__Resource *r = ev->offers->offers[0]->resources[i];
        if (strcmp(r->name, "cpus") == 0)
            assert_true(r->scalar->value == 3.0);
    }
    mesos__scheduler__event__free_unpacked(ev, NULL);

    agent_update(c->agent, &c->master, c->sched->framework_id, "t1",
                 MESOS__TASK_STATE__TASK_FINISHED);
    ev = sched_last(c->sched, EV(UPDATE));
    assert_int_equal(ev->update->status->state, MESOS__TASK_STATE__TASK_FINISHED);
    sched_acknowledge(c->sched, &c->master, ev->update->status);
    mesos__scheduler__event__free_unpacked(ev, NULL);
    assert_int_equal(fake_count(c->agent, "mesos.internal.StatusUpdateAcknowledgementMessage"), 2);

    /* Reconciling a finished, acknowledged task: the master no longer knows it. */
    Mesos__TaskID tid = MESOS__TASK_ID__INIT;
    tid.value = "t1";
    Mesos__Scheduler__Call__Reconcile__Task rt = MESOS__SCHEDULER__CALL__RECONCILE__TASK__INIT;
    rt.task_id = &tid;
    Mesos__Scheduler__Call__Reconcile__Task *rts[] = {&rt};
    Mesos__Scheduler__Call__Reconcile rec = MESOS__SCHEDULER__CALL__RECONCILE__INIT;
    rec.tasks = rts;
    rec.n_tasks = 1;
    Mesos__Scheduler__Call call = MESOS__SCHEDULER__CALL__INIT;
    call.type = MESOS__SCHEDULER__CALL__TYPE__RECONCILE;
    call.reconcile = &rec;
    sched_call(c->sched, &c->master, &call);
    ev = sched_last(c->sched, EV(UPDATE));
    assert_int_equal(ev->update->status->state, MESOS__TASK_STATE__TASK_LOST);
    assert_int_equal(ev->update->status->reason, MESOS__TASK_STATUS__REASON__REASON_RECONCILIATION);
    mesos__scheduler__event__free_unpacked(ev, NULL);
}

static void test_invalid_launches(void **state)
{
    cluster_t *c = *state;
    Mesos__Scheduler__Event *ev;
    Mesos__Offer *offer = first_offer(c, false, &ev);
    /* More than the offer holds: TASK_ERROR, nothing sent to the agent. */
    sched_launch(c->sched, &c->master, offer, "big", "cpus:8;mem:128");
    Mesos__Scheduler__Event *up = sched_last(c->sched, EV(UPDATE));
    assert_non_null(up);
    assert_int_equal(up->update->status->state, MESOS__TASK_STATE__TASK_ERROR);
    assert_int_equal(up->update->status->reason, MESOS__TASK_STATUS__REASON__REASON_TASK_INVALID);
    assert_non_null(strstr(up->update->status->message, "more resources"));
    mesos__scheduler__event__free_unpacked(up, NULL);
    assert_int_equal(fake_count(c->agent, "mesos.internal.RunTaskMessage"), 0);

    /* The offer was used up: accepting it again names an invalid offer. */
    sched_launch(c->sched, &c->master, offer, "again", "cpus:1;mem:128");
    up = sched_last(c->sched, EV(UPDATE));
    assert_int_equal(up->update->status->state, MESOS__TASK_STATE__TASK_LOST);
    assert_int_equal(up->update->status->reason, MESOS__TASK_STATUS__REASON__REASON_INVALID_OFFERS);
    mesos__scheduler__event__free_unpacked(up, NULL);
    mesos__scheduler__event__free_unpacked(ev, NULL);

    /* A duplicate task id on a fresh offer. */
    cluster_advance(6);
    ev = sched_last(c->sched, EV(OFFERS));
    assert_non_null(ev);
    sched_launch(c->sched, &c->master, ev->offers->offers[0], "dup", "cpus:1;mem:64");
    mesos__scheduler__event__free_unpacked(ev, NULL);
    cluster_advance(6);
    ev = sched_last(c->sched, EV(OFFERS));
    assert_non_null(ev);
    sched_launch(c->sched, &c->master, ev->offers->offers[0], "dup", "cpus:1;mem:64");
    mesos__scheduler__event__free_unpacked(ev, NULL);
    up = sched_last(c->sched, EV(UPDATE));
    assert_int_equal(up->update->status->state, MESOS__TASK_STATE__TASK_ERROR);
    assert_string_equal(up->update->status->message, "Task has duplicate ID");
    mesos__scheduler__event__free_unpacked(up, NULL);
    assert_int_equal(fake_count(c->agent, "mesos.internal.RunTaskMessage"), 1);
}

static void test_decline_filter(void **state)
{
    cluster_t *c = *state;
    Mesos__Scheduler__Event *ev;
    Mesos__Offer *offer = first_offer(c, false, &ev);
    sched_decline(c->sched, &c->master, offer, 30);
    mesos__scheduler__event__free_unpacked(ev, NULL);
    size_t offers = sched_events(c->sched, EV(OFFERS));
    cluster_advance(10);
    assert_int_equal(sched_events(c->sched, EV(OFFERS)), offers);
    cluster_advance(25);
    assert_int_equal(sched_events(c->sched, EV(OFFERS)), offers + 1);
}

/* The cpus of an offer. */
static double offer_cpus(const Mesos__Offer *offer)
{
    for (size_t i = 0; i < offer->n_resources; i++) {
        if (strcmp(offer->resources[i]->name, "cpus") == 0)
            return offer->resources[i]->scalar->value;
    }
    return 0;
}

/* A DECLINE's filter holds the refused resources, as Mesos's RefusedOfferFilter does: while the
 * agent has no more than that, no offer; once a task ends, its resources and the refused ones
 * are offered together at the next allocation, long before the filter expires. */
static void test_decline_filter_holds_resources(void **state)
{
    cluster_t *c = *state;
    Mesos__Scheduler__Event *ev;
    Mesos__Offer *offer = first_offer(c, false, &ev);
    sched_launch(c->sched, &c->master, offer, "t1", "cpus:1;mem:128");
    mesos__scheduler__event__free_unpacked(ev, NULL);
    agent_update(c->agent, &c->master, c->sched->framework_id, "t1",
                 MESOS__TASK_STATE__TASK_RUNNING);
    cluster_advance(6); /* the accept's default filter (5 s) on the rest has expired */
    ev = sched_last(c->sched, EV(OFFERS));
    assert_non_null(ev);
    assert_true(offer_cpus(ev->offers->offers[0]) == 3.0);
    sched_decline(c->sched, &c->master, ev->offers->offers[0], 300);
    mesos__scheduler__event__free_unpacked(ev, NULL);
    size_t offers = sched_events(c->sched, EV(OFFERS));
    cluster_advance(30);
    assert_int_equal(sched_events(c->sched, EV(OFFERS)), offers);

    agent_update(c->agent, &c->master, c->sched->framework_id, "t1",
                 MESOS__TASK_STATE__TASK_FINISHED);
    cluster_advance(1);
    assert_int_equal(sched_events(c->sched, EV(OFFERS)), offers + 1);
    ev = sched_last(c->sched, EV(OFFERS));
    assert_true(offer_cpus(ev->offers->offers[0]) == 4.0);
    mesos__scheduler__event__free_unpacked(ev, NULL);
}

/* Mesos's bounds on Filters.refuse_seconds: a negative value means the default (5 s). */
static void test_decline_negative_refuse_seconds(void **state)
{
    cluster_t *c = *state;
    Mesos__Scheduler__Event *ev;
    Mesos__Offer *offer = first_offer(c, false, &ev);
    sched_decline(c->sched, &c->master, offer, -1);
    mesos__scheduler__event__free_unpacked(ev, NULL);
    size_t offers = sched_events(c->sched, EV(OFFERS));
    cluster_advance(4);
    assert_int_equal(sched_events(c->sched, EV(OFFERS)), offers);
    cluster_advance(2);
    assert_int_equal(sched_events(c->sched, EV(OFFERS)), offers + 1);
}

static void test_agent_unreachable_and_back(void **state)
{
    cluster_t *c = *state;
    Mesos__Scheduler__Event *ev;
    Mesos__Offer *offer = first_offer(c, true, &ev);
    sched_launch(c->sched, &c->master, offer, "t1", "cpus:1;mem:128");
    mesos__scheduler__event__free_unpacked(ev, NULL);
    agent_update(c->agent, &c->master, c->sched->framework_id, "t1",
                 MESOS__TASK_STATE__TASK_RUNNING);

    /* The agent stops answering: after 5 missed pings of 15 s it is unreachable. */
    c->agent->mute_pings = true;
    for (int i = 0; i < 6; i++)
        cluster_advance(15);
    ev = sched_last(c->sched, EV(UPDATE));
    assert_int_equal(ev->update->status->state, MESOS__TASK_STATE__TASK_UNREACHABLE);
    mesos__scheduler__event__free_unpacked(ev, NULL);
    assert_true(sched_events(c->sched, EV(FAILURE)) >= 1);

    /* It comes back, reporting the task: the framework hears the task is running again. */
    c->agent->mute_pings = false;
    agent_reregister(c->agent, &c->master, c->sched->framework_id, "t1");
    assert_int_equal(fake_count(c->agent, "mesos.internal.AgentReregisteredMessage"), 1);
    ev = sched_last(c->sched, EV(UPDATE));
    assert_int_equal(ev->update->status->state, MESOS__TASK_STATE__TASK_RUNNING);
    assert_int_equal(ev->update->status->reason,
                     MESOS__TASK_STATUS__REASON__REASON_AGENT_REREGISTERED);
    mesos__scheduler__event__free_unpacked(ev, NULL);
}

static void test_lost_agent_non_partition_aware(void **state)
{
    cluster_t *c = *state;
    Mesos__Scheduler__Event *ev;
    Mesos__Offer *offer = first_offer(c, false, &ev);
    sched_launch(c->sched, &c->master, offer, "t1", "cpus:1;mem:128");
    mesos__scheduler__event__free_unpacked(ev, NULL);
    c->agent->mute_pings = true;
    for (int i = 0; i < 6; i++)
        cluster_advance(15);
    ev = sched_last(c->sched, EV(UPDATE));
    assert_int_equal(ev->update->status->state, MESOS__TASK_STATE__TASK_LOST);
    mesos__scheduler__event__free_unpacked(ev, NULL);
}

static void test_framework_failover(void **state)
{
    cluster_t *c = *state;
    Mesos__Scheduler__Event *ev;
    Mesos__Offer *offer = first_offer(c, false, &ev);
    sched_launch(c->sched, &c->master, offer, "t1", "cpus:1;mem:128");
    mesos__scheduler__event__free_unpacked(ev, NULL);
    char id[128];
    snprintf(id, sizeof(id), "%s", c->sched->framework_id);

    /* The scheduler goes away and a new one resubscribes within the timeout (60 s). */
    fake_stop(c->sched);
    cluster_advance(30);
    c->sched = fake_spawn("sched");
    sched_subscribe(c->sched, &c->master, id, 60, false, false);
    assert_string_equal(c->sched->framework_id, id);
    cluster_advance(60);
    assert_int_equal(fake_count(c->agent, "mesos.internal.ShutdownFrameworkMessage"), 0);

    /* Gone again, past the timeout: removed, its executors shut down, its id refused. */
    fake_stop(c->sched);
    cluster_advance(61);
    assert_int_equal(fake_count(c->agent, "mesos.internal.ShutdownFrameworkMessage"), 1);
    c->sched = fake_spawn("sched");
    sched_subscribe(c->sched, &c->master, id, 60, false, false);
    ev = sched_last(c->sched, EV(ERROR));
    assert_non_null(ev);
    assert_string_equal(ev->error->message, "Framework has been removed");
    mesos__scheduler__event__free_unpacked(ev, NULL);
}

/* A scheduler that fails over does not inherit its predecessor's suppression (as Mesos's
 * updateFramework sets the suppressed roles to those the new SUBSCRIBE names): it gets offers. */
static void test_failover_clears_suppression(void **state)
{
    cluster_t *c = *state;
    Mesos__Scheduler__Event *ev;
    first_offer(c, false, &ev);
    sched_decline(c->sched, &c->master, ev->offers->offers[0], 0);
    mesos__scheduler__event__free_unpacked(ev, NULL);
    Mesos__Scheduler__Call call = MESOS__SCHEDULER__CALL__INIT;
    call.type = MESOS__SCHEDULER__CALL__TYPE__SUPPRESS;
    sched_call(c->sched, &c->master, &call);
    cluster_advance(2);
    size_t offers = sched_events(c->sched, EV(OFFERS));
    cluster_advance(2);
    assert_int_equal(sched_events(c->sched, EV(OFFERS)), offers); /* suppressed: none */

    char id[128];
    snprintf(id, sizeof(id), "%s", c->sched->framework_id);
    fake_stop(c->sched);
    c->sched = fake_spawn("sched");
    sched_subscribe(c->sched, &c->master, id, 60, false, false);
    cluster_advance(2);
    assert_true(sched_events(c->sched, EV(OFFERS)) >= 1);
}

static void test_kill_and_teardown(void **state)
{
    cluster_t *c = *state;
    Mesos__Scheduler__Event *ev;
    Mesos__Offer *offer = first_offer(c, false, &ev);
    sched_launch(c->sched, &c->master, offer, "t1", "cpus:1;mem:128");
    mesos__scheduler__event__free_unpacked(ev, NULL);
    Mesos__TaskID tid = MESOS__TASK_ID__INIT;
    tid.value = "t1";
    Mesos__Scheduler__Call__Kill kill = MESOS__SCHEDULER__CALL__KILL__INIT;
    kill.task_id = &tid;
    Mesos__Scheduler__Call call = MESOS__SCHEDULER__CALL__INIT;
    call.type = MESOS__SCHEDULER__CALL__TYPE__KILL;
    call.kill = &kill;
    sched_call(c->sched, &c->master, &call);
    assert_int_equal(fake_count(c->agent, "mesos.internal.KillTaskMessage"), 1);
    /* Killing an unknown task answers at once. */
    tid.value = "nope";
    sched_call(c->sched, &c->master, &call);
    ev = sched_last(c->sched, EV(UPDATE));
    assert_int_equal(ev->update->status->state, MESOS__TASK_STATE__TASK_LOST);
    mesos__scheduler__event__free_unpacked(ev, NULL);

    Mesos__Scheduler__Call teardown = MESOS__SCHEDULER__CALL__INIT;
    teardown.type = MESOS__SCHEDULER__CALL__TYPE__TEARDOWN;
    sched_call(c->sched, &c->master, &teardown);
    assert_int_equal(fake_count(c->agent, "mesos.internal.ShutdownFrameworkMessage"), 1);
}

static actor_filter_verdict_t drop_run_task(const actor_filter_event_t *event, void *arg)
{
    (void)arg;
    return strcmp(event->type_name, "mesos.internal.RunTaskMessage") == 0 ? ACTOR_FILTER_DROP
                                                                          : ACTOR_FILTER_PASS;
}

static void test_lost_run_task_reconciled_by_agent(void **state)
{
    cluster_t *c = *state;
    Mesos__Scheduler__Event *ev;
    Mesos__Offer *offer = first_offer(c, false, &ev);
    actor_filter_install(drop_run_task, NULL);
    sched_launch(c->sched, &c->master, offer, "t1", "cpus:1;mem:128");
    actor_filter_install(NULL, NULL);
    mesos__scheduler__event__free_unpacked(ev, NULL);
    assert_int_equal(fake_count(c->agent, "mesos.internal.RunTaskMessage"), 0);

    /* The agent reregisters without the task: the master asks it about t1. */
    agent_reregister(c->agent, &c->master, c->sched->framework_id, NULL);
    Mesos__Internal__AgentReregisteredMessage *reply =
        (Mesos__Internal__AgentReregisteredMessage *)fake_get(
            c->agent, &mesos__internal__agent_reregistered_message__descriptor, -1);
    assert_non_null(reply);
    assert_int_equal(reply->n_reconciliations, 1);
    assert_int_equal(reply->reconciliations[0]->n_statuses, 1);
    assert_string_equal(reply->reconciliations[0]->statuses[0]->task_id->value, "t1");
    mesos__internal__agent_reregistered_message__free_unpacked(reply, NULL);

    /* The agent answers TASK_DROPPED, which reaches the framework. */
    agent_update(c->agent, &c->master, c->sched->framework_id, "t1",
                 MESOS__TASK_STATE__TASK_DROPPED);
    ev = sched_last(c->sched, EV(UPDATE));
    assert_int_equal(ev->update->status->state, MESOS__TASK_STATE__TASK_DROPPED);
    mesos__scheduler__event__free_unpacked(ev, NULL);
}

static void test_state_endpoint(void **state)
{
    cluster_t *c = *state;
    Mesos__Scheduler__Event *ev;
    Mesos__Offer *offer = first_offer(c, false, &ev);
    sched_launch(c->sched, &c->master, offer, "t1", "cpus:1;mem:128");
    mesos__scheduler__event__free_unpacked(ev, NULL);
    uint16_t port = cluster_http_listen(&c->master);
    int status = 0;
    char *body = cluster_http(port, "GET", "/master/state", NULL, &status);
    assert_non_null(body);
    assert_int_equal(status, 200);
    json_error_t err;
    json_t *j = json_loads(body, 0, &err);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "version")), MESOS_VERSION);
    assert_int_equal(json_integer_value(json_object_get(j, "activated_slaves")), 1);
    json_t *agent = json_array_get(json_object_get(j, "slaves"), 0);
    assert_string_equal(json_string_value(json_object_get(agent, "id")), c->agent->agent_id);
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(agent, "resources"), "ports")),
        "[31000-32000]");
    json_t *fw = json_array_get(json_object_get(j, "frameworks"), 0);
    json_t *task = json_array_get(json_object_get(fw, "tasks"), 0);
    assert_string_equal(json_string_value(json_object_get(task, "state")), "TASK_STAGING");
    assert_string_equal(json_string_value(json_object_get(task, "slave_id")), c->agent->agent_id);
    json_decref(j);
    free(body);

    body = cluster_http(port, "GET", "/tasks?limit=x", NULL, &status); /* Mesos: the default */
    assert_int_equal(status, 200);
    j = json_loads(body, 0, &err);
    assert_int_equal(json_array_size(json_object_get(j, "tasks")), 1);
    json_decref(j);
    free(body);
    body = cluster_http(port, "POST", "/teardown", "frameworkId=nope", &status);
    assert_int_equal(status, 400);
    assert_string_equal(body, "No framework found with specified ID");
    free(body);
    body = cluster_http(port, "GET", "/flags", NULL, &status);
    assert_int_equal(status, 200);
    j = json_loads(body, 0, &err);
    assert_string_equal(json_string_value(json_object_get(json_object_get(j, "flags"), "registry")),
                        "in_memory");
    json_decref(j);
    free(body);
    body = cluster_http(port, "GET", "/health", NULL, &status);
    assert_int_equal(status, 200);
    free(body);
}

/* A known agent reregisters reporting a task the master does not know (t9): the master adds it,
 * takes back the agent's outstanding offer, and the allocator counts t9's resources as used, so
 * the next offer holds what is left; when t9 ends they are offered again. */
static void test_forgotten_task_counts_against_its_agent(void **state)
{
    cluster_t *c = *state;
    Mesos__Scheduler__Event *ev;
    first_offer(c, false, &ev);
    mesos__scheduler__event__free_unpacked(ev, NULL);
    agent_reregister_with(c->agent, &c->master, c->sched->framework_id, "t9", "cpus:1;mem:128");
    assert_int_equal(fake_count(c->agent, "mesos.internal.AgentReregisteredMessage"), 1);
    assert_int_equal(sched_events(c->sched, EV(RESCIND)), 1);

    cluster_advance(1);
    ev = sched_last(c->sched, EV(OFFERS));
    assert_int_equal(sched_events(c->sched, EV(OFFERS)), 2);
    Mesos__Offer *offer = ev->offers->offers[0];
    for (size_t i = 0; i < offer->n_resources; i++) {
        if (strcmp(offer->resources[i]->name, "cpus") == 0)
            assert_true(offer->resources[i]->scalar->value == 3.0);
        if (strcmp(offer->resources[i]->name, "mem") == 0)
            assert_true(offer->resources[i]->scalar->value == 1024.0 - 128.0);
    }
    uint16_t port = cluster_http_listen(&c->master);
    int status = 0;
    char *body = cluster_http(port, "GET", "/slaves", NULL, &status);
    json_t *j = json_loads(body, 0, NULL);
    free(body);
    json_t *used =
        json_object_get(json_array_get(json_object_get(j, "slaves"), 0), "used_resources");
    assert_true(json_number_value(json_object_get(used, "cpus")) == 1.0);
    json_decref(j);

    /* t9 finishes: its cpu comes back to the allocator and is offered again, while the
     * framework still holds the other three. */
    mesos__scheduler__event__free_unpacked(ev, NULL);
    agent_update(c->agent, &c->master, c->sched->framework_id, "t9",
                 MESOS__TASK_STATE__TASK_FINISHED);
    cluster_advance(1);
    ev = sched_last(c->sched, EV(OFFERS));
    assert_int_equal(sched_events(c->sched, EV(OFFERS)), 3);
    for (size_t i = 0; i < ev->offers->offers[0]->n_resources; i++) {
        Mesos__Resource *r = ev->offers->offers[0]->resources[i];
        if (strcmp(r->name, "cpus") == 0)
            assert_true(r->scalar->value == 1.0);
    }
    mesos__scheduler__event__free_unpacked(ev, NULL);
}

/* Every classic endpoint answers under /master/ too, and the metrics endpoints serve Mesos's
 * keys on the master's port. */
static void test_endpoints_and_metrics(void **state)
{
    cluster_t *c = *state;
    sched_subscribe(c->sched, &c->master, NULL, 60, false, false);
    agent_register(c->agent, &c->master, AGENT_RESOURCES);
    uint16_t port = cluster_http_listen(&c->master);
    static const char *const paths[] = {
        "/master/state",  "/master/state-summary", "/master/frameworks", "/master/slaves",
        "/master/tasks",  "/master/roles",         "/master/weights",    "/master/flags",
        "/master/health", "/master/version",       "/state.json",        "/metrics/snapshot",
        "/metrics",
    };
    int status = 0;
    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        char *body = cluster_http(port, "GET", paths[i], NULL, &status);
        if (status != 200)
            fail_msg("%s answered %d", paths[i], status);
        free(body);
    }
    char *body = cluster_http(port, "GET", "/master/redirect", NULL, &status);
    assert_int_equal(status, 307);
    free(body);

    cluster_advance(1); /* the master publishes its gauges every second */
    body = cluster_http(port, "GET", "/metrics/snapshot", NULL, &status);
    json_t *j = json_loads(body, 0, NULL);
    free(body);
    static const char *const keys[] = {
        "master/uptime_secs",          "master/elected",
        "master/slaves_active",        "master/slaves_connected",
        "master/frameworks_active",    "master/tasks_running",
        "master/cpus_total",           "master/mem_percent",
        "master/outstanding_offers",   "master/valid_framework_calls",
        "master/slave_registrations",  "master/messages_register_slave",
        "registrar/queued_operations", "allocator/mesos/allocation_runs",
    };
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        if (!json_is_number(json_object_get(j, keys[i])))
            fail_msg("/metrics/snapshot lacks %s", keys[i]);
    }
    assert_true(json_number_value(json_object_get(j, "master/slaves_active")) == 1.0);
    assert_true(json_number_value(json_object_get(j, "master/cpus_total")) == 4.0);
    json_decref(j);
    body = cluster_http(port, "GET", "/metrics", NULL, &status);
    assert_non_null(strstr(body, "\nmesos_master_slaves_active 1"));
    assert_non_null(strstr(body, "# TYPE mesos_master_tasks_running gauge"));
    free(body);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_subscribe_register_offer, cluster_setup,
                                        cluster_teardown),
        cmocka_unit_test_setup_teardown(test_launch_update_acknowledge, cluster_setup,
                                        cluster_teardown),
        cmocka_unit_test_setup_teardown(test_invalid_launches, cluster_setup, cluster_teardown),
        cmocka_unit_test_setup_teardown(test_decline_filter, cluster_setup, cluster_teardown),
        cmocka_unit_test_setup_teardown(test_decline_filter_holds_resources, cluster_setup,
                                        cluster_teardown),
        cmocka_unit_test_setup_teardown(test_decline_negative_refuse_seconds, cluster_setup,
                                        cluster_teardown),
        cmocka_unit_test_setup_teardown(test_agent_unreachable_and_back, cluster_setup,
                                        cluster_teardown),
        cmocka_unit_test_setup_teardown(test_lost_agent_non_partition_aware, cluster_setup,
                                        cluster_teardown),
        cmocka_unit_test_setup_teardown(test_framework_failover, cluster_setup, cluster_teardown),
        cmocka_unit_test_setup_teardown(test_failover_clears_suppression, cluster_setup,
                                        cluster_teardown),
        cmocka_unit_test_setup_teardown(test_kill_and_teardown, cluster_setup, cluster_teardown),
        cmocka_unit_test_setup_teardown(test_lost_run_task_reconciled_by_agent, cluster_setup,
                                        cluster_teardown),
        cmocka_unit_test_setup_teardown(test_state_endpoint, cluster_setup, cluster_teardown),
        cmocka_unit_test_setup_teardown(test_forgotten_task_counts_against_its_agent, cluster_setup,
                                        cluster_teardown),
        cmocka_unit_test_setup_teardown(test_endpoints_and_metrics, cluster_setup,
                                        cluster_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
