/* The master's framework protocol (master/frameworks.c) in an in-process cluster (support.h):
 * a SUBSCRIBE retried without id from a scheduler that is already subscribed, calls of frameworks
 * the master does not know (dropped, never answered with an ERROR, as Mesos's Master::receive
 * drops them), a scheduler restarted with the PID of a disconnected one, and framework messages
 * both ways: Call.MESSAGE to the agent as a
 * FrameworkToExecutorMessage, an agent's ExecutorToFrameworkMessage to the framework as
 * Event.MESSAGE; and a framework removed while its agent was away, which stays removed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tests/master/support.h"

#define EV(t)           MESOS__SCHEDULER__EVENT__TYPE__##t
#define AGENT_RESOURCES "cpus:4;mem:1024;disk:1024;ports:[31000-32000]"

/* The framework id named by the i-th SUBSCRIBED event of sched (a new string). */
static char *subscribed_id(const fake_t *sched, size_t i)
{
    Mesos__Scheduler__Event *ev = sched_nth(sched, EV(SUBSCRIBED), i);
    assert_non_null(ev);
    char *id = strdup(ev->subscribed->framework_id->value);
    mesos__scheduler__event__free_unpacked(ev, NULL);
    return id;
}

/* The value of a metric of /metrics/snapshot. */
static double metric(cluster_t *c, const char *name)
{
    if (c->port == 0)
        c->port = cluster_http_listen(&c->master);
    cluster_advance(1); /* the master publishes its metrics once a second */
    int status = 0;
    char *body = cluster_http(c->port, "GET", "/metrics/snapshot", NULL, &status);
    assert_non_null(body);
    assert_int_equal(status, 200);
    json_t *j = json_loads(body, 0, NULL);
    assert_non_null(j);
    json_t *v = json_object_get(j, name);
    if (v == NULL)
        fail_msg("no metric %s", name);
    double value = json_number_value(v);
    json_decref(j);
    free(body);
    return value;
}

/* A retried SUBSCRIBE without id (the first SUBSCRIBED crossed it) from the PID of a subscribed
 * framework gets that framework's SUBSCRIBED again: no second framework. */
static void test_subscribe_retry_without_id(void **state)
{
    cluster_t *c = *state;
    sched_subscribe(c->sched, &c->master, NULL, 60, false, false);
    sched_subscribe(c->sched, &c->master, NULL, 60, false, false);
    assert_int_equal(sched_events(c->sched, EV(SUBSCRIBED)), 2);
    char *first = subscribed_id(c->sched, 0), *second = subscribed_id(c->sched, 1);
    assert_string_equal(first, second);
    assert_int_equal(sched_events(c->sched, EV(ERROR)), 0);
    assert_true(metric(c, "master/frameworks_active") == 1.0);

    /* Offers go to that one framework only. */
    agent_register(c->agent, &c->master, AGENT_RESOURCES);
    cluster_advance(1);
    Mesos__Scheduler__Event *ev = sched_last(c->sched, EV(OFFERS));
    assert_non_null(ev);
    assert_string_equal(ev->offers->offers[0]->framework_id->value, first);
    mesos__scheduler__event__free_unpacked(ev, NULL);

    /* Another scheduler without id is a new framework. */
    fake_t *other = fake_spawn("sched");
    sched_subscribe(other, &c->master, NULL, 60, false, false);
    char *third = subscribed_id(other, 0);
    assert_string_not_equal(third, first);
    assert_true(metric(c, "master/frameworks_active") == 2.0);
    fake_stop(other);
    free(first);
    free(second);
    free(third);
}

/* Calls naming a framework the master does not know are dropped with a warning, as Mesos drops
 * them ("Framework cannot be found"): an ERROR would abort the scheduler driver. So are calls
 * from another PID than the framework's. */
static void test_calls_of_unknown_frameworks_are_dropped(void **state)
{
    cluster_t *c = *state;
    snprintf(c->sched->framework_id, sizeof(c->sched->framework_id), "no-such-framework");
    Mesos__Scheduler__Call call = MESOS__SCHEDULER__CALL__INIT;
    call.type = MESOS__SCHEDULER__CALL__TYPE__REVIVE;
    sched_call(c->sched, &c->master, &call);
    call.type = MESOS__SCHEDULER__CALL__TYPE__TEARDOWN;
    sched_call(c->sched, &c->master, &call);
    assert_int_equal(sched_events(c->sched, EV(ERROR)), 0);
    assert_int_equal(c->sched->count, 0);

    /* A subscribed framework's id, used from another scheduler's PID: dropped too. */
    sched_subscribe(c->sched, &c->master, NULL, 60, false, false);
    fake_t *other = fake_spawn("sched");
    snprintf(other->framework_id, sizeof(other->framework_id), "%s", c->sched->framework_id);
    sched_call(other, &c->master, &call); /* a TEARDOWN */
    assert_int_equal(other->count, 0);
    assert_true(metric(c, "master/frameworks_active") == 1.0);
    assert_true(metric(c, "master/invalid_framework_calls") == 3.0);
    fake_stop(other);
}

/* A scheduler process that restarted with the same PID: the master saw the old one go
 * (disconnected), so a SUBSCRIBE without id from that PID is a new framework, not the old one;
 * and a call of the old framework from that PID gets Mesos's "Framework disconnected" ERROR. */
static void test_restarted_scheduler_with_the_same_pid(void **state)
{
    cluster_t *c = *state;
    sched_subscribe(c->sched, &c->master, NULL, 60, false, false);
    char old_id[128], pid_id[ACTOR_ID_MAX];
    snprintf(old_id, sizeof(old_id), "%s", c->sched->framework_id);
    snprintf(pid_id, sizeof(pid_id), "%s", c->sched->pid.id);
    fake_stop(c->sched);
    c->sched = fake_spawn_as("sched", pid_id);
    assert_true(metric(c, "master/frameworks_disconnected") == 1.0);

    snprintf(c->sched->framework_id, sizeof(c->sched->framework_id), "%s", old_id);
    Mesos__Scheduler__Call call = MESOS__SCHEDULER__CALL__INIT;
    call.type = MESOS__SCHEDULER__CALL__TYPE__REVIVE;
    sched_call(c->sched, &c->master, &call);
    assert_int_equal(sched_events(c->sched, EV(ERROR)), 1);
    Mesos__Scheduler__Event *ev = sched_last(c->sched, EV(ERROR));
    assert_string_equal(ev->error->message, "Framework disconnected");
    mesos__scheduler__event__free_unpacked(ev, NULL);

    sched_subscribe(c->sched, &c->master, NULL, 60, false, false);
    char *fresh = subscribed_id(c->sched, 0);
    assert_string_not_equal(fresh, old_id);
    free(fresh);
}

static void send_executor_message(cluster_t *c, const char *framework_id, const char *data)
{
    Mesos__AgentID aid = MESOS__AGENT_ID__INIT;
    Mesos__FrameworkID fid = MESOS__FRAMEWORK_ID__INIT;
    Mesos__ExecutorID eid = MESOS__EXECUTOR_ID__INIT;
    aid.value = c->agent->agent_id;
    fid.value = (char *)framework_id;
    eid.value = "exec1";
    Mesos__Internal__ExecutorToFrameworkMessage msg =
        MESOS__INTERNAL__EXECUTOR_TO_FRAMEWORK_MESSAGE__INIT;
    msg.agent_id = &aid;
    msg.framework_id = &fid;
    msg.executor_id = &eid;
    msg.data.data = (uint8_t *)data;
    msg.data.len = strlen(data);
    fake_send(c->agent, &c->master.master, &msg.base);
}

/* An executor's message reaches its framework through the master as Event.MESSAGE (Mesos's
 * Master::executorMessage); messages of unknown frameworks or from unknown agents are dropped
 * and counted. */
static void test_executor_message_to_framework(void **state)
{
    cluster_t *c = *state;
    sched_subscribe(c->sched, &c->master, NULL, 60, false, false);
    agent_register(c->agent, &c->master, AGENT_RESOURCES);
    send_executor_message(c, c->sched->framework_id, "hello");
    assert_int_equal(sched_events(c->sched, EV(MESSAGE)), 1);
    Mesos__Scheduler__Event *ev = sched_last(c->sched, EV(MESSAGE));
    assert_non_null(ev->message);
    assert_string_equal(ev->message->agent_id->value, c->agent->agent_id);
    assert_string_equal(ev->message->executor_id->value, "exec1");
    assert_int_equal(ev->message->data.len, 5);
    assert_memory_equal(ev->message->data.data, "hello", 5);
    mesos__scheduler__event__free_unpacked(ev, NULL);

    send_executor_message(c, "no-such-framework", "lost");
    fake_t *stranger = fake_spawn("slave");
    snprintf(stranger->agent_id, sizeof(stranger->agent_id), "no-such-agent");
    fake_t *registered = c->agent;
    c->agent = stranger;
    send_executor_message(c, c->sched->framework_id, "lost");
    c->agent = registered;
    fake_stop(stranger);
    assert_int_equal(sched_events(c->sched, EV(MESSAGE)), 1);
    assert_true(metric(c, "master/messages_executor_to_framework") == 3.0);
    assert_true(metric(c, "master/valid_executor_to_framework_messages") == 1.0);
    assert_true(metric(c, "master/invalid_executor_to_framework_messages") == 2.0);
}

/* Call.MESSAGE goes to the agent as a FrameworkToExecutorMessage; to an unknown agent it is
 * dropped and counted. */
static void test_framework_message_to_executor(void **state)
{
    cluster_t *c = *state;
    sched_subscribe(c->sched, &c->master, NULL, 60, false, false);
    agent_register(c->agent, &c->master, AGENT_RESOURCES);
    Mesos__AgentID aid = MESOS__AGENT_ID__INIT;
    Mesos__ExecutorID eid = MESOS__EXECUTOR_ID__INIT;
    aid.value = c->agent->agent_id;
    eid.value = "exec1";
    Mesos__Scheduler__Call__Message message = MESOS__SCHEDULER__CALL__MESSAGE__INIT;
    message.agent_id = &aid;
    message.executor_id = &eid;
    message.data.data = (uint8_t *)"ping";
    message.data.len = 4;
    Mesos__Scheduler__Call call = MESOS__SCHEDULER__CALL__INIT;
    call.type = MESOS__SCHEDULER__CALL__TYPE__MESSAGE;
    call.message = &message;
    sched_call(c->sched, &c->master, &call);
    Mesos__Internal__FrameworkToExecutorMessage *out =
        (Mesos__Internal__FrameworkToExecutorMessage *)fake_get(
            c->agent, &mesos__internal__framework_to_executor_message__descriptor, -1);
    assert_non_null(out);
    assert_string_equal(out->agent_id->value, c->agent->agent_id);
    assert_string_equal(out->framework_id->value, c->sched->framework_id);
    assert_string_equal(out->executor_id->value, "exec1");
    assert_int_equal(out->data.len, 4);
    assert_memory_equal(out->data.data, "ping", 4);
    mesos__internal__framework_to_executor_message__free_unpacked(out, NULL);

    aid.value = "no-such-agent";
    sched_call(c->sched, &c->master, &call);
    assert_int_equal(fake_count(c->agent, "mesos.internal.FrameworkToExecutorMessage"), 1);
    assert_true(metric(c, "master/messages_framework_to_executor") == 2.0);
    assert_true(metric(c, "master/valid_framework_to_executor_messages") == 1.0);
    assert_true(metric(c, "master/invalid_framework_to_executor_messages") == 1.0);
    assert_int_equal(sched_events(c->sched, EV(ERROR)), 0);
}

/* A framework torn down while its agent was away stays removed when the agent comes back
 * reporting its task: the agent is told to shut it down, and the master does not bring it back. */
static void test_removed_framework_stays_removed(void **state)
{
    cluster_t *c = *state;
    sched_subscribe(c->sched, &c->master, NULL, 60, false, false);
    char *fid = strdup(c->sched->framework_id);
    agent_register(c->agent, &c->master, AGENT_RESOURCES);
    Mesos__Scheduler__Call call = MESOS__SCHEDULER__CALL__INIT;
    call.type = MESOS__SCHEDULER__CALL__TYPE__TEARDOWN;
    sched_call(c->sched, &c->master, &call);
    fake_clear(c->agent);
    agent_reregister(c->agent, &c->master, fid, "orphan");
    assert_int_equal(fake_count(c->agent, "mesos.internal.ShutdownFrameworkMessage"), 1);
    c->port = cluster_http_listen(&c->master);
    int status = 0;
    char *body = cluster_http(c->port, "GET", "/frameworks", NULL, &status);
    json_t *j = json_loads(body, 0, NULL);
    json_t *active = json_object_get(j, "frameworks");
    for (size_t i = 0; i < json_array_size(active); i++)
        assert_string_not_equal(json_string_value(json_object_get(json_array_get(active, i), "id")),
                                fid);
    json_decref(j);
    free(body);
    free(fid);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_subscribe_retry_without_id, cluster_setup,
                                        cluster_teardown),
        cmocka_unit_test_setup_teardown(test_calls_of_unknown_frameworks_are_dropped, cluster_setup,
                                        cluster_teardown),
        cmocka_unit_test_setup_teardown(test_restarted_scheduler_with_the_same_pid, cluster_setup,
                                        cluster_teardown),
        cmocka_unit_test_setup_teardown(test_executor_message_to_framework, cluster_setup,
                                        cluster_teardown),
        cmocka_unit_test_setup_teardown(test_framework_message_to_executor, cluster_setup,
                                        cluster_teardown),
        cmocka_unit_test_setup_teardown(test_removed_framework_stays_removed, cluster_setup,
                                        cluster_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
