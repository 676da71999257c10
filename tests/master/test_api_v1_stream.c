/* The operator API's SUBSCRIBE stream (api_v1_stream.c) on an in-process cluster (support.h):
 * SUBSCRIBED with the state first, then the events of frameworks, agents and tasks as they
 * change, HEARTBEAT every 15 s of the paused clock, the protobuf form, and subscribers that go
 * away being dropped. Records are read off a real HTTP connection. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "master.pb-c.h"
#include "tests/master/support.h"

#define EV(t)      MESOS__SCHEDULER__EVENT__TYPE__##t
#define JSON_H     "Content-Type: application/json\r\n"
#define SUBSCRIBE  "{\"type\":\"SUBSCRIBE\"}"
#define WAIT_MS    10000 /* wall time for a record that must come */
#define SILENCE_MS 200   /* wall time to watch for a record that must not come */

static int setup(void **state)
{
    cluster_t *c = cluster_new();
    c->port = cluster_http_listen(&c->master);
    *state = c;
    return 0;
}

static int teardown(void **state)
{
    cluster_free(*state);
    return 0;
}

/* The next JSON record, which must be an event of `type`. */
static json_t *next_event(cluster_stream_t *s, const char *type)
{
    size_t len;
    char *rec = cluster_stream_record(s, WAIT_MS, &len);
    if (rec == NULL)
        fail_msg("no %s event came", type);
    json_t *j = json_loads(rec, 0, NULL);
    if (j == NULL || strcmp(json_string_value(json_object_get(j, "type")), type) != 0)
        fail_msg("expected a %s event, got %s", type, rec);
    free(rec);
    return j;
}

static void no_event(cluster_stream_t *s)
{
    size_t len;
    char *rec = cluster_stream_record(s, SILENCE_MS, &len);
    if (rec != NULL)
        fail_msg("unexpected event %s", rec);
}

static void test_events_json(void **state)
{
    cluster_t *c = *state;
    cluster_stream_t *s =
        cluster_stream_open(c->port, "/api/v1", JSON_H, SUBSCRIBE, strlen(SUBSCRIBE));
    json_t *j = next_event(s, "SUBSCRIBED");
    assert_true(json_number_value(cluster_json_path(j, "subscribed.heartbeat_interval_seconds")) ==
                15.0);
    assert_non_null(cluster_json_path(j, "subscribed.get_state.get_agents"));
    json_decref(j);
    assert_int_equal(atoi(cluster_stream_headers(s) + 9), 200);
    char *type = cluster_header(cluster_stream_headers(s), "Content-Type");
    assert_string_equal(type, "application/json");
    free(type);

    sched_subscribe(c->sched, &c->master, NULL, 60, false, false);
    j = next_event(s, "FRAMEWORK_ADDED");
    assert_string_equal(cluster_json_str(j, "framework_added.framework.framework_info.id.value"),
                        c->sched->framework_id);
    assert_true(json_is_true(cluster_json_path(j, "framework_added.framework.connected")));
    json_decref(j);

    agent_register(c->agent, &c->master, "cpus:2;mem:512");
    j = next_event(s, "AGENT_ADDED");
    assert_string_equal(cluster_json_str(j, "agent_added.agent.agent_info.id.value"),
                        c->agent->agent_id);
    json_decref(j);

    cluster_advance(1);
    Mesos__Scheduler__Event *ev = sched_last(c->sched, EV(OFFERS));
    assert_non_null(ev);
    sched_launch(c->sched, &c->master, ev->offers->offers[0], "t1", "cpus:1;mem:64");
    mesos__scheduler__event__free_unpacked(ev, NULL);
    j = next_event(s, "TASK_ADDED");
    assert_string_equal(cluster_json_str(j, "task_added.task.task_id.value"), "t1");
    assert_string_equal(cluster_json_str(j, "task_added.task.state"), "TASK_STAGING");
    json_decref(j);

    agent_update(c->agent, &c->master, c->sched->framework_id, "t1",
                 MESOS__TASK_STATE__TASK_RUNNING);
    j = next_event(s, "TASK_UPDATED");
    assert_string_equal(cluster_json_str(j, "task_updated.state"), "TASK_RUNNING");
    assert_string_equal(cluster_json_str(j, "task_updated.status.task_id.value"), "t1");
    assert_string_equal(cluster_json_str(j, "task_updated.framework_id.value"),
                        c->sched->framework_id);
    json_decref(j);
    /* A repeated update that changes nothing is no event. */
    agent_update(c->agent, &c->master, c->sched->framework_id, "t1",
                 MESOS__TASK_STATE__TASK_RUNNING);
    no_event(s);

    /* The scheduler fails over: FRAMEWORK_UPDATED. */
    char id[128];
    snprintf(id, sizeof(id), "%s", c->sched->framework_id);
    fake_stop(c->sched);
    c->sched = fake_spawn("sched");
    sched_subscribe(c->sched, &c->master, id, 60, false, false);
    j = next_event(s, "FRAMEWORK_UPDATED");
    assert_string_equal(cluster_json_str(j, "framework_updated.framework.framework_info.id.value"),
                        id);
    json_decref(j);

    /* Torn down: its task is killed, then the framework goes. */
    Mesos__Scheduler__Call call = MESOS__SCHEDULER__CALL__INIT;
    call.type = MESOS__SCHEDULER__CALL__TYPE__TEARDOWN;
    sched_call(c->sched, &c->master, &call);
    j = next_event(s, "TASK_UPDATED");
    assert_string_equal(cluster_json_str(j, "task_updated.state"), "TASK_KILLED");
    json_decref(j);
    j = next_event(s, "FRAMEWORK_REMOVED");
    assert_string_equal(cluster_json_str(j, "framework_removed.framework_info.id.value"), id);
    json_decref(j);

    /* The agent leaves. */
    Mesos__Internal__UnregisterAgentMessage un = MESOS__INTERNAL__UNREGISTER_AGENT_MESSAGE__INIT;
    Mesos__AgentID aid = MESOS__AGENT_ID__INIT;
    aid.value = c->agent->agent_id;
    un.agent_id = &aid;
    fake_send(c->agent, &c->master.master, &un.base);
    j = next_event(s, "AGENT_REMOVED");
    assert_string_equal(cluster_json_str(j, "agent_removed.agent_id.value"), c->agent->agent_id);
    json_decref(j);
    cluster_stream_close(s);
}

static void test_heartbeats(void **state)
{
    cluster_t *c = *state;
    cluster_stream_t *s =
        cluster_stream_open(c->port, "/master/api/v1?_ts=1", JSON_H, SUBSCRIBE, strlen(SUBSCRIBE));
    json_decref(next_event(s, "SUBSCRIBED"));
    cluster_advance(14);
    no_event(s);
    cluster_advance(1);
    json_decref(next_event(s, "HEARTBEAT"));
    cluster_advance(15);
    json_decref(next_event(s, "HEARTBEAT"));
    cluster_stream_close(s);
}

static void test_protobuf_records(void **state)
{
    cluster_t *c = *state;
    Mesos__Master__Call call = MESOS__MASTER__CALL__INIT;
    call.has_type = true;
    call.type = MESOS__MASTER__CALL__TYPE__SUBSCRIBE;
    uint8_t buf[8];
    size_t n = mesos__master__call__pack(&call, buf);
    cluster_stream_t *s = cluster_stream_open(
        c->port, "/api/v1",
        "Content-Type: application/x-protobuf\r\nAccept: application/x-protobuf\r\n", buf, n);
    size_t len;
    char *rec = cluster_stream_record(s, WAIT_MS, &len);
    assert_non_null(rec);
    Mesos__Master__Event *ev = mesos__master__event__unpack(NULL, len, (uint8_t *)rec);
    assert_non_null(ev);
    assert_int_equal(ev->type, MESOS__MASTER__EVENT__TYPE__SUBSCRIBED);
    assert_non_null(ev->subscribed->get_state);
    mesos__master__event__free_unpacked(ev, NULL);
    free(rec);
    char *type = cluster_header(cluster_stream_headers(s), "Content-Type");
    assert_string_equal(type, "application/x-protobuf");
    free(type);

    agent_register(c->agent, &c->master, "cpus:2;mem:512");
    rec = cluster_stream_record(s, WAIT_MS, &len);
    assert_non_null(rec);
    ev = mesos__master__event__unpack(NULL, len, (uint8_t *)rec);
    assert_non_null(ev);
    assert_int_equal(ev->type, MESOS__MASTER__EVENT__TYPE__AGENT_ADDED);
    assert_string_equal(ev->agent_added->agent->agent_info->hostname, "agent.test");
    mesos__master__event__free_unpacked(ev, NULL);
    free(rec);
    cluster_stream_close(s);
}

/* master/operator_event_stream_subscribers, through GET_METRICS. */
static double subscribers(cluster_t *c)
{
    const char *body = "{\"type\":\"GET_METRICS\",\"get_metrics\":{}}";
    cluster_response_t r;
    assert_true(cluster_request(c->port, "POST", "/api/v1", JSON_H, body, strlen(body), &r));
    json_t *j = json_loads(r.body, 0, NULL);
    cluster_response_free(&r);
    double value = -1;
    size_t i;
    json_t *m;
    json_array_foreach(cluster_json_path(j, "get_metrics.metrics"), i, m)
    {
        if (strcmp(cluster_json_str(m, "name"), "master/operator_event_stream_subscribers") == 0)
            value = json_number_value(cluster_json_path(m, "value"));
    }
    json_decref(j);
    return value;
}

static void test_gone_subscribers_are_dropped(void **state)
{
    cluster_t *c = *state;
    cluster_stream_t *gone =
        cluster_stream_open(c->port, "/api/v1", JSON_H, SUBSCRIBE, strlen(SUBSCRIBE));
    cluster_stream_t *stays =
        cluster_stream_open(c->port, "/api/v1", JSON_H, SUBSCRIBE, strlen(SUBSCRIBE));
    json_decref(next_event(gone, "SUBSCRIBED"));
    json_decref(next_event(stays, "SUBSCRIBED"));
    assert_true(subscribers(c) == 2.0);
    cluster_stream_close(gone);
    /* The runtime notices the closed connection on its I/O thread, then tells the master. */
    for (int i = 0; i < 1000 && subscribers(c) != 1.0; i++)
        actor_settle();
    assert_true(subscribers(c) == 1.0);
    agent_register(c->agent, &c->master, "cpus:2;mem:512");
    json_decref(next_event(stays, "AGENT_ADDED"));
    cluster_stream_close(stays);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_events_json, setup, teardown),
        cmocka_unit_test_setup_teardown(test_heartbeats, setup, teardown),
        cmocka_unit_test_setup_teardown(test_protobuf_records, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gone_subscribers_are_dropped, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
