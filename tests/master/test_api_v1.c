/* The v1 operator API's calls (api_v1.c, api_v1_model.c) over HTTP on an in-process cluster
 * (support.h): every GET_* call in JSON and protobuf, UPDATE_WEIGHTS and TEARDOWN, content
 * negotiation, ignored query strings, /master/api/v1, and the 4xx and 5xx answers Mesos gives to
 * bad requests. The clock is paused; only HTTP waits on the wall clock. */
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

#define EV(t)  MESOS__SCHEDULER__EVENT__TYPE__##t
#define JSON_H "Content-Type: application/json\r\n"
#define PB_H   "Content-Type: application/x-protobuf\r\n"

/* A framework with one staging task on one agent. */
static int setup(void **state)
{
    cluster_t *c = cluster_new();
    c->port = cluster_http_listen(&c->master);
    sched_subscribe(c->sched, &c->master, NULL, 60, false, false);
    agent_register(c->agent, &c->master, "cpus:4;mem:1024;ports:[31000-32000]");
    cluster_advance(1);
    Mesos__Scheduler__Event *ev = sched_last(c->sched, EV(OFFERS));
    assert_non_null(ev);
    sched_launch(c->sched, &c->master, ev->offers->offers[0], "t1", "cpus:1;mem:128");
    mesos__scheduler__event__free_unpacked(ev, NULL);
    *state = c;
    return 0;
}

static int teardown(void **state)
{
    cluster_free(*state);
    return 0;
}

/* POSTs a JSON call to /api/v1 and returns the parsed JSON answer (asserting 200 and its
 * Content-Type). */
static json_t *call_json(cluster_t *c, const char *body)
{
    cluster_response_t r;
    assert_true(cluster_request(c->port, "POST", "/api/v1", JSON_H, body, strlen(body), &r));
    if (r.status != 200)
        fail_msg("%s answered %d: %s", body, r.status, r.body);
    char *type = cluster_header(r.headers, "Content-Type");
    assert_string_equal(type, "application/json");
    free(type);
    json_error_t err;
    json_t *j = json_loads(r.body, 0, &err);
    assert_non_null(j);
    cluster_response_free(&r);
    return j;
}

/* POSTs body with the given header lines; returns the status, and the body in *text (freed by
 * the caller) when text is not NULL. */
static int call_raw(cluster_t *c, const char *path, const char *headers, const void *body,
                    size_t len, char **text)
{
    cluster_response_t r;
    assert_true(cluster_request(c->port, "POST", path, headers, body, len, &r));
    int status = r.status;
    if (text != NULL) {
        *text = r.body;
        r.body = NULL;
    }
    cluster_response_free(&r);
    return status;
}

static void test_health_version_flags_master(void **state)
{
    cluster_t *c = *state;
    json_t *j = call_json(c, "{\"type\":\"GET_HEALTH\"}");
    assert_string_equal(cluster_json_str(j, "type"), "GET_HEALTH");
    assert_true(json_is_true(cluster_json_path(j, "get_health.healthy")));
    json_decref(j);

    j = call_json(c, "{\"type\":\"GET_VERSION\"}");
    assert_string_equal(cluster_json_str(j, "get_version.version_info.version"), MESOS_VERSION);
    json_decref(j);

    j = call_json(c, "{\"type\":\"GET_FLAGS\"}");
    json_t *flag = cluster_json_path(j, "get_flags.flags.0");
    assert_string_equal(cluster_json_str(flag, "name"), "registry");
    assert_string_equal(cluster_json_str(flag, "value"), "in_memory");
    json_decref(j);

    j = call_json(c, "{\"type\":\"GET_MASTER\"}");
    assert_string_equal(cluster_json_str(j, "get_master.master_info.hostname"), "master.test");
    assert_true(json_number_value(cluster_json_path(j, "get_master.start_time")) > 0);
    json_decref(j);
}

static void test_metrics(void **state)
{
    cluster_t *c = *state;
    json_t *j = call_json(c, "{\"type\":\"GET_METRICS\",\"get_metrics\":{}}");
    json_t *metrics = cluster_json_path(j, "get_metrics.metrics");
    bool agents = false, runs = false;
    size_t i;
    json_t *m;
    json_array_foreach(metrics, i, m)
    {
        if (strcmp(cluster_json_str(m, "name"), "master/slaves_active") == 0) {
            agents = true;
            assert_true(json_number_value(cluster_json_path(m, "value")) == 1.0);
        }
        runs = runs || strcmp(cluster_json_str(m, "name"), "allocator/mesos/allocation_runs") == 0;
    }
    assert_true(agents);
    assert_true(runs);
    json_decref(j);
}

static void test_state_agents_frameworks_tasks(void **state)
{
    cluster_t *c = *state;
    json_t *j = call_json(c, "{\"type\":\"GET_STATE\"}");
    assert_string_equal(cluster_json_str(j, "type"), "GET_STATE");
    json_t *task = cluster_json_path(j, "get_state.get_tasks.tasks.0");
    assert_string_equal(cluster_json_str(task, "task_id.value"), "t1");
    assert_string_equal(cluster_json_str(task, "state"), "TASK_STAGING");
    assert_string_equal(cluster_json_str(task, "agent_id.value"), c->agent->agent_id);
    assert_string_equal(cluster_json_str(task, "framework_id.value"), c->sched->framework_id);
    assert_string_equal(cluster_json_str(task, "resources.0.name"), "cpus");
    assert_string_equal(cluster_json_str(task, "statuses.0.state"), "TASK_STAGING");
    json_t *agent = cluster_json_path(j, "get_state.get_agents.agents.0");
    assert_string_equal(cluster_json_str(agent, "agent_info.id.value"), c->agent->agent_id);
    assert_string_equal(cluster_json_str(agent, "agent_info.hostname"), "agent.test");
    assert_true(json_is_true(cluster_json_path(agent, "active")));
    assert_string_equal(cluster_json_str(agent, "version"), MESOS_VERSION);
    assert_string_equal(cluster_json_str(agent, "total_resources.2.name"), "ports");
    assert_int_equal(
        json_integer_value(cluster_json_path(agent, "total_resources.2.ranges.range.0.begin")),
        31000);
    json_t *fw = cluster_json_path(j, "get_state.get_frameworks.frameworks.0");
    assert_string_equal(cluster_json_str(fw, "framework_info.id.value"), c->sched->framework_id);
    assert_true(json_is_true(cluster_json_path(fw, "connected")));
    assert_true(json_is_false(cluster_json_path(fw, "recovered")));
    assert_string_equal(cluster_json_str(fw, "allocated_resources.0.allocation_info.role"), "*");
    assert_non_null(cluster_json_path(j, "get_state.get_executors"));
    json_decref(j);

    /* The parts alone, one of them through /master/api/v1 and one with DC/OS's ?_ts=. */
    char *text = NULL;
    const char *body = "{\"type\":\"GET_TASKS\"}";
    assert_int_equal(call_raw(c, "/master/api/v1", JSON_H, body, strlen(body), &text), 200);
    j = json_loads(text, 0, NULL);
    free(text);
    assert_string_equal(cluster_json_str(j, "get_tasks.tasks.0.task_id.value"), "t1");
    json_decref(j);
    body = "{\"type\":\"GET_AGENTS\"}";
    assert_int_equal(call_raw(c, "/api/v1?_ts=1712345678", JSON_H, body, strlen(body), &text), 200);
    j = json_loads(text, 0, NULL);
    free(text);
    assert_int_equal(json_array_size(cluster_json_path(j, "get_agents.agents")), 1);
    json_decref(j);
    j = call_json(c, "{\"type\":\"GET_FRAMEWORKS\"}");
    assert_int_equal(json_array_size(cluster_json_path(j, "get_frameworks.frameworks")), 1);
    json_decref(j);
    j = call_json(c, "{\"type\":\"GET_EXECUTORS\"}");
    assert_string_equal(cluster_json_str(j, "type"), "GET_EXECUTORS");
    json_decref(j);
}

static void test_protobuf(void **state)
{
    cluster_t *c = *state;
    Mesos__Master__Call call = MESOS__MASTER__CALL__INIT;
    call.has_type = true;
    call.type = MESOS__MASTER__CALL__TYPE__GET_STATE;
    uint8_t buf[16];
    size_t len = mesos__master__call__pack(&call, buf);

    /* Protobuf in, protobuf out. */
    cluster_response_t r;
    assert_true(cluster_request(c->port, "POST", "/api/v1",
                                PB_H "Accept: application/x-protobuf\r\n", buf, len, &r));
    assert_int_equal(r.status, 200);
    char *type = cluster_header(r.headers, "Content-Type");
    assert_string_equal(type, "application/x-protobuf");
    free(type);
    Mesos__Master__Response *resp =
        mesos__master__response__unpack(NULL, r.len, (const uint8_t *)r.body);
    assert_non_null(resp);
    assert_int_equal(resp->type, MESOS__MASTER__RESPONSE__TYPE__GET_STATE);
    assert_int_equal(resp->get_state->get_agents->n_agents, 1);
    assert_string_equal(resp->get_state->get_tasks->tasks[0]->task_id->value, "t1");
    mesos__master__response__free_unpacked(resp, NULL);
    cluster_response_free(&r);

    /* Protobuf in, no Accept: JSON out. JSON in, JSON refused by q=0: protobuf out. */
    char *text = NULL;
    assert_int_equal(call_raw(c, "/api/v1", PB_H, buf, len, &text), 200);
    assert_int_equal(text[0], '{');
    free(text);
    const char *body = "{\"type\":\"GET_HEALTH\"}";
    assert_true(cluster_request(c->port, "POST", "/api/v1",
                                JSON_H "Accept: application/json;q=0, application/*\r\n", body,
                                strlen(body), &r));
    assert_int_equal(r.status, 200);
    resp = mesos__master__response__unpack(NULL, r.len, (const uint8_t *)r.body);
    assert_non_null(resp);
    assert_true(resp->get_health->healthy);
    mesos__master__response__free_unpacked(resp, NULL);
    cluster_response_free(&r);
}

/* Asserts that body (JSON unless headers say otherwise) gets `status` and a text starting with
 * `prefix`. */
static void expect(cluster_t *c, const char *headers, const char *body, int status,
                   const char *prefix)
{
    char *text = NULL;
    int got = call_raw(c, "/api/v1", headers, body, strlen(body), &text);
    if (got != status || strncmp(text, prefix, strlen(prefix)) != 0)
        fail_msg("%s: expected %d '%s...', got %d '%s'", body, status, prefix, got, text);
    free(text);
}

static void test_bad_requests(void **state)
{
    cluster_t *c = *state;
    int status = 0;
    char *text = cluster_http(c->port, "GET", "/api/v1", NULL, &status);
    assert_int_equal(status, 405);
    free(text);
    expect(c, NULL, "{\"type\":\"GET_HEALTH\"}", 400, "Expecting 'Content-Type' to be present");
    expect(c, "Content-Type: text/plain\r\n", "{}", 415,
           "Expecting 'Content-Type' of application/json or application/x-protobuf");
    expect(c, JSON_H, "{\"type\":", 400, "Failed to parse body into JSON: ");
    expect(c, JSON_H, "{\"type\":\"GET_EVERYTHING\"}", 400,
           "Failed to convert JSON into Call protobuf: type");
    expect(c, JSON_H, "[1]", 400, "Failed to convert JSON into Call protobuf: ");
    expect(c, JSON_H, "{}", 400, "Failed to validate master::Call: Expecting 'type' to be present");
    expect(c, JSON_H, "{\"type\":\"TEARDOWN\"}", 400,
           "Failed to validate master::Call: Expecting 'teardown' to be present");
    expect(c, JSON_H, "{\"type\":\"GET_METRICS\"}", 400,
           "Failed to validate master::Call: Expecting 'get_metrics' to be present");
    expect(c, JSON_H, "{\"type\":\"TEARDOWN\",\"teardown\":{}}", 400,
           "Failed to convert JSON into Call protobuf: teardown.framework_id");
    expect(c, PB_H, "\x08", 400, "Failed to parse body into Call protobuf");
    expect(c, JSON_H "Accept: text/html\r\n", "{\"type\":\"GET_HEALTH\"}", 406,
           "Expecting 'Accept' to allow 'application/x-protobuf' or 'application/json'");
    expect(c, JSON_H, "{\"type\":\"UNKNOWN\"}", 501, "");
    expect(c, JSON_H, "{\"type\":\"GET_LOGGING_LEVEL\"}", 501,
           "Call type GET_LOGGING_LEVEL is not supported by this master");
    /* A protobuf type number that names no call reads as a call without a type, as in Mesos. */
    expect(c, PB_H, "\x08\x63", 400,
           "Failed to validate master::Call: Expecting 'type' to be present");
    /* Unknown keys are ignored, as Mesos ignores them. */
    expect(c, JSON_H, "{\"type\":\"GET_HEALTH\",\"extra\":1}", 200, "{");
}

static void test_weights_roles_teardown(void **state)
{
    cluster_t *c = *state;
    const char *update =
        "{\"type\":\"UPDATE_WEIGHTS\",\"update_weights\":{\"weight_infos\":[{\"role\":\"eng\","
        "\"weight\":2.5}]}}";
    expect(c, JSON_H, update, 200, "");
    json_t *j = call_json(c, "{\"type\":\"GET_WEIGHTS\"}");
    assert_string_equal(cluster_json_str(j, "get_weights.weight_infos.0.role"), "eng");
    assert_true(json_number_value(cluster_json_path(j, "get_weights.weight_infos.0.weight")) ==
                2.5);
    json_decref(j);
    expect(c, JSON_H,
           "{\"type\":\"UPDATE_WEIGHTS\",\"update_weights\":{\"weight_infos\":[{\"role\":\"eng\","
           "\"weight\":-1}]}}",
           400, "Invalid weights: Weights must be positive numbers");

    j = call_json(c, "{\"type\":\"GET_ROLES\"}");
    json_t *roles = cluster_json_path(j, "get_roles.roles");
    assert_int_equal(json_array_size(roles), 2);
    assert_string_equal(cluster_json_str(roles, "0.name"), "*");
    assert_string_equal(cluster_json_str(roles, "0.frameworks.0.value"), c->sched->framework_id);
    assert_string_equal(cluster_json_str(roles, "1.name"), "eng");
    assert_true(json_number_value(cluster_json_path(roles, "1.weight")) == 2.5);
    json_decref(j);

    expect(c, JSON_H, "{\"type\":\"TEARDOWN\",\"teardown\":{\"framework_id\":{\"value\":\"x\"}}}",
           400, "No framework found with specified ID");
    char body[512];
    snprintf(body, sizeof(body),
             "{\"type\":\"TEARDOWN\",\"teardown\":{\"framework_id\":{\"value\":\"%s\"}}}",
             c->sched->framework_id);
    expect(c, JSON_H, body, 200, "");
    assert_int_equal(fake_count(c->agent, "mesos.internal.ShutdownFrameworkMessage"), 1);
    j = call_json(c, "{\"type\":\"GET_FRAMEWORKS\"}");
    assert_int_equal(json_array_size(cluster_json_path(j, "get_frameworks.frameworks")), 0);
    json_t *done = cluster_json_path(j, "get_frameworks.completed_frameworks.0");
    assert_string_equal(cluster_json_str(done, "framework_info.id.value"), c->sched->framework_id);
    assert_non_null(cluster_json_path(done, "unregistered_time.nanoseconds"));
    json_decref(j);
    j = call_json(c, "{\"type\":\"GET_TASKS\"}");
    assert_string_equal(cluster_json_str(j, "get_tasks.completed_tasks.0.state"), "TASK_KILLED");
    json_decref(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_health_version_flags_master, setup, teardown),
        cmocka_unit_test_setup_teardown(test_metrics, setup, teardown),
        cmocka_unit_test_setup_teardown(test_state_agents_frameworks_tasks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_protobuf, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_requests, setup, teardown),
        cmocka_unit_test_setup_teardown(test_weights_roles_teardown, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
