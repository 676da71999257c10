/* Marathon in an in-process cluster: the real master, an agent with simulated containers, and
 * Marathon with its scheduler driver, all in this process with the runtime's clock paused; the
 * REST API over real HTTP. Apps are created, launched, scaled, replaced after failures and kills,
 * restarted, deleted, validated, and recovered by a restarted Marathon. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "tests/marathon/server/support.h"

static void test_create_launches_instances(void **state)
{
    mcluster_t *c = *state;
    int status = 0;
    json_t *j = mcluster_api(c, "POST", "/v2/apps",
                             "{\"id\":\"web\",\"cmd\":\"sleep 1000\",\"cpus\":0.1,\"mem\":16,"
                             "\"instances\":2}",
                             &status);
    assert_int_equal(status, 201);
    assert_string_equal(json_string_value(json_object_get(j, "id")), "/web");
    assert_true(json_array_size(json_object_get(j, "deployments")) == 1);
    json_decref(j);
    mcluster_run(3);
    assert_int_equal(mcluster_app_count(c, "web", "tasksRunning"), 2);
    j = mcluster_api(c, "GET", "/v2/deployments", NULL, &status);
    assert_int_equal(json_array_size(j), 0); /* the start finished */
    json_decref(j);
    j = mcluster_api(c, "GET", "/v2/tasks", NULL, &status);
    assert_int_equal(json_array_size(json_object_get(j, "tasks")), 2);
    json_decref(j);
}

/* Offers came and went (declined, then suppressed) before the app: its creation revives them. */
static void test_create_after_idle(void **state)
{
    mcluster_t *c = *state;
    mcluster_run(3);
    mcluster_create_app(c, "{\"id\":\"late\",\"cmd\":\"sleep 1000\",\"cpus\":0.1,\"mem\":16}");
    mcluster_run(3);
    assert_int_equal(mcluster_app_count(c, "late", "tasksRunning"), 1);
}

static void test_validation_and_errors(void **state)
{
    mcluster_t *c = *state;
    int status = 0;
    json_t *j = mcluster_api(c, "POST", "/v2/apps", "{\"id\":\"Bad_Id\",\"cmd\":\"x\",\"cpus\":-1}",
                             &status);
    assert_int_equal(status, 422);
    assert_string_equal(json_string_value(json_object_get(j, "message")), "Object is not valid");
    assert_true(json_array_size(json_object_get(j, "details")) >= 2);
    json_decref(j);
    j = mcluster_api(c, "POST", "/v2/apps", "{\"id\":", &status);
    assert_int_equal(status, 400);
    json_decref(j);
    mcluster_create_app(c, "{\"id\":\"dup\",\"cmd\":\"sleep 1000\",\"cpus\":0.1,\"mem\":16}");
    j = mcluster_api(c, "POST", "/v2/apps", "{\"id\":\"dup\",\"cmd\":\"sleep 1000\"}", &status);
    assert_int_equal(status, 409);
    json_decref(j);
    j = mcluster_api(c, "GET", "/v2/apps/nope", NULL, &status);
    assert_int_equal(status, 404);
    assert_string_equal(json_string_value(json_object_get(j, "message")),
                        "App '/nope' does not exist");
    json_decref(j);
    j = mcluster_api(c, "GET", "/v2/nothing", NULL, &status);
    assert_int_equal(status, 404);
    json_decref(j);
}

static void test_scale_and_kill_replaced(void **state)
{
    mcluster_t *c = *state;
    mcluster_create_app(c, "{\"id\":\"web\",\"cmd\":\"sleep 1000\",\"cpus\":0.1,\"mem\":16,"
                           "\"instances\":1}");
    mcluster_run(3);
    int status = 0;
    json_t *j = mcluster_api(c, "PUT", "/v2/apps/web", "{\"instances\":3}", &status);
    assert_int_equal(status, 200);
    assert_non_null(json_object_get(j, "deploymentId"));
    json_decref(j);
    mcluster_run(3);
    assert_int_equal(mcluster_app_count(c, "web", "tasksRunning"), 3);
    j = mcluster_api(c, "GET", "/v2/deployments", NULL, &status);
    assert_int_equal(json_array_size(j), 0); /* a scale replaces nothing: it is done */
    json_decref(j);
    /* Kill one: Marathon replaces it. */
    j = mcluster_api(c, "GET", "/v2/apps/web/tasks", NULL, &status);
    char path[256];
    snprintf(
        path, sizeof(path), "/v2/apps/web/tasks/%s",
        json_string_value(json_object_get(json_array_get(json_object_get(j, "tasks"), 0), "id")));
    json_decref(j);
    j = mcluster_api(c, "DELETE", path, NULL, &status);
    assert_int_equal(status, 200);
    json_decref(j);
    mcluster_run(
        6); /* offers declined meanwhile come back at the next revive (at most every 5 s) */
    assert_int_equal(mcluster_app_count(c, "web", "tasksRunning"), 3);
    /* Scale down. */
    j = mcluster_api(c, "PUT", "/v2/apps/web", "{\"instances\":1}", &status);
    json_decref(j);
    mcluster_run(2);
    assert_int_equal(mcluster_app_count(c, "web", "tasksRunning"), 1);
}

static void test_failed_task_replaced_with_backoff(void **state)
{
    mcluster_t *c = *state;
    /* A simulated task of `sleep 1` finishes after a second: for Marathon, a failure. */
    mcluster_create_app(c, "{\"id\":\"short\",\"cmd\":\"sleep 1\",\"cpus\":0.1,\"mem\":16,"
                           "\"backoffSeconds\":5,\"backoffFactor\":2}");
    mcluster_run(2);
    int status = 0;
    json_t *j = mcluster_api(c, "GET", "/v2/apps/short", NULL, &status);
    json_t *failure = json_object_get(json_object_get(j, "app"), "lastTaskFailure");
    assert_non_null(failure);
    assert_string_equal(json_string_value(json_object_get(failure, "state")), "TASK_FINISHED");
    json_decref(j);
    j = mcluster_api(c, "GET", "/v2/queue", NULL, &status);
    assert_int_equal(json_array_size(json_object_get(j, "queue")), 1); /* backed off */
    json_decref(j);
    mcluster_run(6);
    j = mcluster_api(c, "GET", "/v2/apps/short/tasks", NULL, &status);
    assert_true(json_array_size(json_object_get(j, "tasks")) <= 1);
    json_decref(j);
}

static void test_restart_and_delete(void **state)
{
    mcluster_t *c = *state;
    mcluster_create_app(c, "{\"id\":\"/prod/web\",\"cmd\":\"sleep 1000\",\"cpus\":0.1,\"mem\":16,"
                           "\"instances\":2}");
    mcluster_run(3);
    int status = 0;
    json_t *j = mcluster_api(c, "GET", "/v2/apps/prod/web/versions", NULL, &status);
    assert_int_equal(status, 200);
    assert_int_equal(json_array_size(json_object_get(j, "versions")), 1);
    json_decref(j);
    j = mcluster_api(c, "POST", "/v2/apps/prod/web/restart", NULL, &status);
    assert_int_equal(status, 200);
    json_decref(j);
    mcluster_run(5);
    assert_int_equal(mcluster_app_count(c, "prod/web", "tasksRunning"), 2);
    j = mcluster_api(c, "GET", "/v2/deployments", NULL, &status);
    assert_int_equal(json_array_size(j), 0);
    json_decref(j);
    j = mcluster_api(c, "DELETE", "/v2/apps/prod/web", NULL, &status);
    assert_int_equal(status, 200);
    json_decref(j);
    mcluster_run(2);
    j = mcluster_api(c, "GET", "/v2/apps/prod/web", NULL, &status);
    assert_int_equal(status, 404);
    json_decref(j);
    j = mcluster_api(c, "GET", "/v2/tasks", NULL, &status);
    assert_int_equal(json_array_size(json_object_get(j, "tasks")), 0);
    json_decref(j);
}

/* A TCP health check against a port nothing listens on: the instance is killed as unhealthy and
 * replaced, and the kill counts as a failure. */
static void test_unhealthy_instance_replaced(void **state)
{
    mcluster_t *c = *state;
    mcluster_create_app(
        c, "{\"id\":\"sick\",\"cmd\":\"sleep 1000\",\"cpus\":0.1,\"mem\":16,"
           "\"healthChecks\":[{\"protocol\":\"TCP\",\"gracePeriodSeconds\":0,"
           "\"intervalSeconds\":1,\"timeoutSeconds\":1,\"maxConsecutiveFailures\":1}]}");
    mcluster_run(2);
    int status = 0;
    bool failed = false;
    for (int k = 0; k < 200 && !failed; k++) {
        cluster_advance(1); /* the next round of checks */
        for (int w = 0; w < 20 && !failed; w++) {
            usleep(5000); /* the probes are real connections */
            actor_settle();
            json_t *j = mcluster_api(c, "GET", "/v2/apps/sick", NULL, &status);
            failed = json_object_get(json_object_get(j, "app"), "lastTaskFailure") != NULL;
            json_decref(j);
        }
    }
    assert_true(failed);
    json_t *j = mcluster_api(c, "GET", "/v2/apps/sick", NULL, &status);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "app"), "tasksHealthy")),
                     0);
    json_decref(j);
}

static void test_state_survives_restart(void **state)
{
    mcluster_t *c = *state;
    mcluster_create_app(c, "{\"id\":\"keep\",\"cmd\":\"sleep 1000\",\"cpus\":0.1,\"mem\":16,"
                           "\"instances\":2}");
    mcluster_run(3);
    assert_int_equal(mcluster_app_count(c, "keep", "tasksRunning"), 2);
    marathon_stop(c->marathon);
    mcluster_start_marathon(c);
    mcluster_run(3);
    /* The same two tasks, reconciled: none lost, none doubled. */
    assert_int_equal(mcluster_app_count(c, "keep", "tasksRunning"), 2);
    int status = 0;
    json_t *j = mcluster_api(c, "GET", "/v2/tasks", NULL, &status);
    assert_int_equal(json_array_size(json_object_get(j, "tasks")), 2);
    json_decref(j);
}

/* A gauge's value, or a counter's count, of GET /metrics; fails when it is missing. */
static double metric(json_t *metrics, const char *name)
{
    bool counter = strstr(name, ".counter") != NULL;
    json_t *entry =
        json_object_get(json_object_get(metrics, counter ? "counters" : "gauges"), name);
    json_t *value = json_object_get(entry, counter ? "count" : "value");
    if (!json_is_number(value))
        fail_msg("/metrics lacks %s", name);
    return json_number_value(value);
}

static void test_misc_endpoints(void **state)
{
    mcluster_t *c = *state;
    int status = 0;
    char *text = cluster_http(c->port, "GET", "/ping", NULL, &status);
    assert_int_equal(status, 200);
    free(text);
    json_t *j = mcluster_api(c, "GET", "/v2/info", NULL, &status);
    assert_string_equal(json_string_value(json_object_get(j, "name")), "marathon");
    json_t *config = json_object_get(j, "marathon_config");
    assert_true(json_number_value(json_object_get(config, "min_revive_offers_interval")) == 5000);
    json_decref(j);
    j = mcluster_api(c, "GET", "/v2/leader", NULL, &status);
    assert_non_null(json_object_get(j, "leader"));
    json_decref(j);
    mcluster_create_app(c, "{\"id\":\"m\",\"cmd\":\"sleep 1000\",\"cpus\":0.1,\"mem\":16}");
    /* Too big for the agent: its deployment stays, and locks it. */
    mcluster_create_app(c, "{\"id\":\"/g/big\",\"cmd\":\"sleep 1000\",\"cpus\":64,\"mem\":16}");
    mcluster_run(2);
    j = mcluster_api(c, "PUT", "/v2/apps/g/big", "{\"instances\":2}", &status);
    assert_int_equal(status, 409);
    json_decref(j);
    j = mcluster_api(c, "GET", "/metrics", NULL, &status);
    assert_true(metric(j, "marathon.apps.active.gauge") == 2);
    assert_true(metric(j, "marathon.groups.active.gauge") == 2); /* the root and /g */
    assert_true(metric(j, "marathon.deployments.active.gauge") == 1);
    assert_true(metric(j, "marathon.instances.running.gauge") == 1);
    assert_true(metric(j, "marathon.instances.launch-overdue.gauge") == 0);
    assert_true(metric(j, "marathon.instances.inflight-kills.gauge") == 0);
    assert_true(metric(j, "marathon.http.requests.active.gauge") >= 1); /* this one */
    assert_true(metric(j, "marathon.uptime.gauge.seconds") >= 2);
    assert_true(metric(j, "marathon.leadership.duration.gauge.seconds") >= 2);
    assert_true(metric(j, "marathon.leadership.duration.gauge.seconds") <=
                metric(j, "marathon.uptime.gauge.seconds"));
    assert_true(metric(j, "marathon.deployments.counter") == 2);
    assert_true(metric(j, "marathon.deployments.dismissed.counter") == 1);
    assert_true(metric(j, "marathon.tasks.launched.counter") == 1);
    assert_true(metric(j, "marathon.mesos.offers.used.counter") == 1);
    assert_true(metric(j, "marathon.mesos.offer-operations.launch.counter") == 1);
    assert_true(metric(j, "marathon.mesos.offers.incoming.counter") >= 1);
    assert_true(metric(j, "marathon.mesos.calls.revive.counter") >= 0); /* present */
    assert_true(metric(j, "marathon.mesos.calls.suppress.counter") >= 0);
    assert_true(metric(j, "marathon.http.event-callbacks.delivered.counter") == 0);
    assert_true(metric(j, "marathon.http.event-callbacks.dropped.counter") == 0);
    assert_true(metric(j, "marathon.alerts.mails.sent.counter") == 0);
    assert_null(json_object_get(json_object_get(j, "gauges"), "marathon.uptime.gauge"));
    json_decref(j);
    text = cluster_http(c->port, "GET", "/metrics/prometheus", NULL, &status);
    assert_int_equal(status, 200);
    assert_non_null(strstr(text, "marathon_apps_active 2\n"));
    assert_non_null(strstr(text, "marathon_instances_running 1\n"));
    assert_non_null(strstr(text, "marathon_groups_active 2\n"));
    assert_non_null(strstr(text, "# TYPE marathon_uptime_seconds gauge\n"));
    assert_non_null(strstr(text, "marathon_deployments_total 2\n"));
    assert_non_null(strstr(text, "marathon_deployments_dismissed_total 1\n"));
    assert_non_null(strstr(text, "marathon_mesos_offer_operations_launch_total 1\n"));
    assert_non_null(strstr(text, "# TYPE marathon_http_event_callbacks_delivered_total counter\n"));
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_create_launches_instances, mcluster_setup,
                                        mcluster_teardown),
        cmocka_unit_test_setup_teardown(test_create_after_idle, mcluster_setup, mcluster_teardown),
        cmocka_unit_test_setup_teardown(test_validation_and_errors, mcluster_setup,
                                        mcluster_teardown),
        cmocka_unit_test_setup_teardown(test_scale_and_kill_replaced, mcluster_setup,
                                        mcluster_teardown),
        cmocka_unit_test_setup_teardown(test_failed_task_replaced_with_backoff, mcluster_setup,
                                        mcluster_teardown),
        cmocka_unit_test_setup_teardown(test_restart_and_delete, mcluster_setup, mcluster_teardown),
        cmocka_unit_test_setup_teardown(test_unhealthy_instance_replaced, mcluster_setup,
                                        mcluster_teardown),
        cmocka_unit_test_setup_teardown(test_state_survives_restart, mcluster_setup_persistent,
                                        mcluster_teardown),
        cmocka_unit_test_setup_teardown(test_misc_endpoints, mcluster_setup, mcluster_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
