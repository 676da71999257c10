/* Marathon's REST API beyond the basics, in an in-process cluster (support.h) over real HTTP:
 * the embeds of /v2/apps and /v2/apps/{id} (counts, tasks, deployments, lastTaskFailure,
 * taskStats, readiness), service ports assigned from --local_port_min..max and kept across
 * updates and restarts, /v2/queue's offer summaries saying why an app waits, and
 * unreachableStrategy: an agent cut off (its pings dropped) makes its instance unreachable,
 * replaced after inactiveAfterSeconds, and when the agent comes back the surplus goes by
 * killSelection (or, once expunged, the returning task is killed). */
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
#include "tests/marathon/server/support.h"

/* GET path and its status (200 required); the answer. */
static json_t *get(mcluster_t *c, const char *path)
{
    int status = 0;
    json_t *j = mcluster_api(c, "GET", path, NULL, &status);
    assert_int_equal(status, 200);
    return j;
}

static json_t *first_app(json_t *list)
{
    return json_array_get(json_object_get(list, "apps"), 0);
}

/* ---- embeds ---- */

static void test_list_embeds(void **state)
{
    mcluster_t *c = *state;
    mcluster_create_app(c, "{\"id\":\"web\",\"cmd\":\"sleep 100000\",\"cpus\":0.1,\"mem\":16,"
                           "\"instances\":2}");
    mcluster_run(3);
    /* By default the list has counts and deployments only. */
    json_t *j = get(c, "/v2/apps");
    json_t *app = first_app(j);
    assert_int_equal(json_integer_value(json_object_get(app, "tasksRunning")), 2);
    assert_int_equal(json_integer_value(json_object_get(app, "tasksStaged")), 0);
    assert_int_equal(json_integer_value(json_object_get(app, "tasksHealthy")), 0);
    assert_true(json_is_array(json_object_get(app, "deployments")));
    assert_null(json_object_get(app, "tasks"));
    assert_null(json_object_get(app, "taskStats"));
    json_decref(j);

    mcluster_run(10); /* the tasks have lived for a while */
    j = get(c, "/v2/apps?embed=apps.tasks&embed=apps.taskStats&embed=apps.readiness");
    app = first_app(j);
    assert_int_equal(json_array_size(json_object_get(app, "tasks")), 2);
    assert_int_equal(json_array_size(json_object_get(app, "readinessCheckResults")), 0);
    json_t *total = json_object_get(
        json_object_get(json_object_get(app, "taskStats"), "totalSummary"), "stats");
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(total, "counts"), "running")), 2);
    double average =
        json_number_value(json_object_get(json_object_get(total, "lifeTime"), "averageSeconds"));
    assert_true(average >= 10 && average < 20);
    json_t *stats = json_object_get(app, "taskStats");
    assert_non_null(json_object_get(stats, "withLatestConfig"));
    assert_non_null(json_object_get(stats, "startedAfterLastScaling"));
    assert_null(json_object_get(stats, "withOutdatedConfig"));
    json_decref(j);
}

static void test_single_app_embeds(void **state)
{
    mcluster_t *c = *state;
    /* A task of `sleep 1` ends after a second: a failure, lastTaskFailure. */
    mcluster_create_app(c, "{\"id\":\"short\",\"cmd\":\"sleep 1\",\"cpus\":0.1,\"mem\":16,"
                           "\"backoffSeconds\":100}");
    mcluster_run(3);
    json_t *j = get(c, "/v2/apps/short");
    json_t *app = json_object_get(j, "app");
    assert_non_null(json_object_get(app, "tasks"));
    assert_non_null(json_object_get(app, "tasksRunning"));
    assert_non_null(json_object_get(app, "deployments"));
    json_t *failure = json_object_get(app, "lastTaskFailure");
    assert_string_equal(json_string_value(json_object_get(failure, "appId")), "/short");
    assert_string_equal(json_string_value(json_object_get(failure, "state")), "TASK_FINISHED");
    assert_non_null(json_object_get(failure, "slaveId"));
    assert_null(json_object_get(app, "taskStats"));
    json_decref(j);
    j = get(c, "/v2/apps/short?embed=app.taskStats");
    assert_non_null(json_object_get(json_object_get(j, "app"), "taskStats"));
    json_decref(j);
    /* The list shows lastTaskFailure only when asked. */
    j = get(c, "/v2/apps");
    assert_null(json_object_get(first_app(j), "lastTaskFailure"));
    json_decref(j);
    j = get(c, "/v2/apps?embed=apps.lastTaskFailure");
    assert_non_null(json_object_get(first_app(j), "lastTaskFailure"));
    json_decref(j);
}

/* ---- service ports ---- */

static int service_port(mcluster_t *c, const char *id, size_t k)
{
    char path[128];
    snprintf(path, sizeof(path), "/v2/apps/%s", id);
    json_t *j = get(c, path);
    json_t *defs = json_object_get(json_object_get(j, "app"), "portDefinitions");
    int port = (int)json_integer_value(json_object_get(json_array_get(defs, k), "port"));
    json_decref(j);
    return port;
}

static void test_service_ports(void **state)
{
    mcluster_t *c = *state;
    mcluster_create_app(c, "{\"id\":\"a\",\"cmd\":\"sleep 100000\",\"cpus\":0.1,\"mem\":16}");
    mcluster_create_app(c, "{\"id\":\"b\",\"cmd\":\"sleep 100000\",\"cpus\":0.1,\"mem\":16,"
                           "\"portDefinitions\":[{\"port\":0},{\"port\":10002},{\"port\":0}]}");
    assert_int_equal(service_port(c, "a", 0), 10000);
    assert_int_equal(service_port(c, "b", 0), 10001);
    assert_int_equal(service_port(c, "b", 1), 10002);
    assert_int_equal(service_port(c, "b", 2), 10003);
    /* Updates keep them: a partial update, and ports posted as 0 again. */
    int status = 0;
    json_decref(mcluster_api(c, "PUT", "/v2/apps/a", "{\"cmd\":\"sleep 200000\"}", &status));
    assert_int_equal(status, 200);
    assert_int_equal(service_port(c, "a", 0), 10000);
    json_decref(mcluster_api(c, "PUT", "/v2/apps/a?force=true",
                             "{\"portDefinitions\":[{\"port\":0},{\"port\":0}]}", &status));
    assert_int_equal(status, 200);
    assert_int_equal(service_port(c, "a", 0), 10000);
    assert_int_equal(service_port(c, "a", 1), 10004);
    mcluster_run(4);
    /* Tasks carry the service ports beside their host ports. */
    json_t *j = get(c, "/v2/apps/a/tasks");
    json_t *task = json_array_get(json_object_get(j, "tasks"), 0);
    assert_int_equal(json_integer_value(json_array_get(json_object_get(task, "servicePorts"), 1)),
                     10004);
    json_int_t host = json_integer_value(json_array_get(json_object_get(task, "ports"), 0));
    assert_true(host >= 31000 && host <= 32000);
    json_decref(j);
    /* A restarted Marathon keeps them, and hands out the next free one. */
    marathon_stop(c->marathon);
    mcluster_start_marathon(c);
    assert_int_equal(service_port(c, "b", 2), 10003);
    mcluster_create_app(c, "{\"id\":\"d\",\"cmd\":\"sleep 100000\",\"cpus\":0.1,\"mem\":16}");
    assert_int_equal(service_port(c, "d", 0), 10005);
}

/* ---- the queue's offer summaries ---- */

/* The {declined, processed} of reason in the summary `list` of the queued app id. */
static void queue_reason(mcluster_t *c, const char *id, const char *list, const char *reason,
                         int *declined, int *processed)
{
    json_t *j = get(c, "/v2/queue");
    *declined = *processed = -1;
    json_t *queue = json_object_get(j, "queue");
    for (size_t k = 0; k < json_array_size(queue); k++) {
        json_t *item = json_array_get(queue, k);
        const char *app = json_string_value(json_object_get(json_object_get(item, "app"), "id"));
        if (strcmp(app, id) != 0)
            continue;
        assert_non_null(json_object_get(item, "since"));
        json_t *steps = json_object_get(json_object_get(item, "processedOffersSummary"), list);
        for (size_t s = 0; s < json_array_size(steps); s++) {
            json_t *step = json_array_get(steps, s);
            if (strcmp(json_string_value(json_object_get(step, "reason")), reason) == 0) {
                *declined = (int)json_integer_value(json_object_get(step, "declined"));
                *processed = (int)json_integer_value(json_object_get(step, "processed"));
            }
        }
    }
    json_decref(j);
}

static void test_queue_says_why(void **state)
{
    mcluster_t *c = *state;
    /* Host port 5 is not in any offer; 100 GB of memory neither; no agent is called "nowhere". */
    mcluster_create_app(c, "{\"id\":\"ports\",\"cmd\":\"sleep 100000\",\"cpus\":0.1,\"mem\":16,"
                           "\"requirePorts\":true,\"portDefinitions\":[{\"port\":5}]}");
    mcluster_create_app(c, "{\"id\":\"big\",\"cmd\":\"sleep 100000\",\"cpus\":0.1,"
                           "\"mem\":100000}");
    mcluster_create_app(c, "{\"id\":\"pinned\",\"cmd\":\"sleep 100000\",\"cpus\":0.1,\"mem\":16,"
                           "\"constraints\":[[\"hostname\",\"LIKE\",\"nowhere\"]]}");
    mcluster_create_app(c, "{\"id\":\"fits\",\"cmd\":\"sleep 100000\",\"cpus\":0.1,\"mem\":16}");
    mcluster_run(7); /* declined offers come back at the next revive (at most every 5 s) */
    int declined = 0, processed = 0;
    queue_reason(c, "/ports", "rejectSummaryLastOffers", "InsufficientPorts", &declined,
                 &processed);
    assert_int_equal(declined, 1); /* one agent, its last offer */
    assert_int_equal(processed, 1);
    queue_reason(c, "/ports", "rejectSummaryLaunchAttempt", "InsufficientPorts", &declined,
                 &processed);
    assert_true(declined >= 1 && processed == declined);
    queue_reason(c, "/big", "rejectSummaryLastOffers", "InsufficientMemory", &declined, &processed);
    assert_int_equal(declined, 1);
    queue_reason(c, "/pinned", "rejectSummaryLaunchAttempt", "UnfulfilledConstraint", &declined,
                 &processed);
    assert_true(declined >= 1);
    queue_reason(c, "/pinned", "rejectSummaryLaunchAttempt", "InsufficientCpus", &declined,
                 &processed);
    assert_int_equal(declined, 0);
    assert_int_equal(processed, 0); /* all went at the constraint step */
    /* The app that fits is not in the queue. */
    queue_reason(c, "/fits", "rejectSummaryLastOffers", "InsufficientPorts", &declined, &processed);
    assert_int_equal(declined, -1);
    assert_int_equal(mcluster_app_count(c, "fits", "tasksRunning"), 1);
    json_t *j = get(c, "/v2/queue");
    json_t *item = json_array_get(json_object_get(j, "queue"), 0);
    json_t *summary = json_object_get(item, "processedOffersSummary");
    assert_true(json_integer_value(json_object_get(summary, "unusedOffersCount")) >= 1);
    assert_non_null(json_object_get(summary, "lastUnusedOfferAt"));
    assert_int_equal(json_integer_value(json_object_get(item, "count")), 1);
    json_decref(j);
}

/* ---- unreachable instances ---- */

static char cut_agent[ACTOR_ID_MAX]; /* the id of the agent whose link is cut, "" for none */

/* Drops the master's pings to the cut agent and the agent's attempts to come back. */
static actor_filter_verdict_t cut(const actor_filter_event_t *e, void *arg)
{
    (void)arg;
    if (cut_agent[0] == '\0')
        return ACTOR_FILTER_PASS;
    bool to = strcmp(e->to->id, cut_agent) == 0, from = strcmp(e->from->id, cut_agent) == 0;
    if (to && strcmp(e->type_name, "mesos.internal.PingAgentMessage") == 0)
        return ACTOR_FILTER_DROP;
    if (from && (strcmp(e->type_name, "mesos.internal.ReregisterAgentMessage") == 0 ||
                 strcmp(e->type_name, "mesos.internal.RegisterAgentMessage") == 0))
        return ACTOR_FILTER_DROP;
    return ACTOR_FILTER_PASS;
}

/* Requires app /u to have count tasks, running of them TASK_RUNNING, and task_id among them
 * (has 1) or not (has 0); has -1 does not look. */
static void expect_tasks(mcluster_t *c, const char *task_id, size_t count, int has, size_t running)
{
    json_t *j = get(c, "/v2/apps/u/tasks");
    json_t *tasks = json_object_get(j, "tasks");
    int found = 0;
    size_t n = 0;
    for (size_t k = 0; k < json_array_size(tasks); k++) {
        json_t *t = json_array_get(tasks, k);
        found |= strcmp(json_string_value(json_object_get(t, "id")), task_id) == 0;
        n += strcmp(json_string_value(json_object_get(t, "state")), "TASK_RUNNING") == 0;
    }
    assert_int_equal(json_array_size(tasks), count);
    assert_int_equal(n, running);
    if (has >= 0)
        assert_int_equal(found, has);
    json_decref(j);
}

/* An app of one instance on agent 0; a second agent to take its replacement; then agent 0's
 * link cut until its instance is unreachable. Returns the instance's task id in out. */
static void start_and_cut(mcluster_t *c, const char *app_json, char *out, size_t len)
{
    mcluster_create_app(c, app_json);
    mcluster_run(3);
    json_t *j = get(c, "/v2/apps/u/tasks");
    snprintf(
        out, len, "%s",
        json_string_value(json_object_get(json_array_get(json_object_get(j, "tasks"), 0), "id")));
    json_decref(j);
    assert_true(out[0] != '\0');
    mcluster_add_agent(c, "agent-b");
    snprintf(cut_agent, sizeof(cut_agent), "%s", c->agents[0].id);
    actor_filter_install(cut, NULL);
    for (int k = 0; k < 6; k++) /* 5 pings of 15 s missed */
        cluster_advance(15);
}

/* Heals the cut and lets agent 0 reregister with its task. */
static void heal(void)
{
    cut_agent[0] = '\0';
    for (int k = 0; k < 120; k++)
        cluster_advance(5);
    actor_filter_install(NULL, NULL);
}

static void unreachable_then_back(mcluster_t *c, const char *kill_selection, bool original_stays)
{
    char app[512], original[256];
    snprintf(app, sizeof(app),
             "{\"id\":\"u\",\"cmd\":\"sleep 1000000\",\"cpus\":0.1,\"mem\":16,"
             "\"unreachableStrategy\":{\"inactiveAfterSeconds\":120,\"expungeAfterSeconds\":3600},"
             "\"killSelection\":\"%s\"}",
             kill_selection);
    start_and_cut(c, app, original, sizeof(original));
    /* Unreachable but not inactive yet: still counted, nothing replaces it. */
    expect_tasks(c, original, 1, 1, 0);
    json_t *j = get(c, "/v2/apps/u/tasks");
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(json_object_get(j, "tasks"), 0), "state")),
        "TASK_UNREACHABLE");
    json_decref(j);
    /* Past inactiveAfterSeconds: a replacement runs on the other agent. */
    mcluster_run(130);
    expect_tasks(c, original, 2, 1, 1);
    /* The agent comes back with the old task: one of the two goes, by killSelection. */
    heal();
    mcluster_run(5);
    expect_tasks(c, original, 1, original_stays, 1);
    assert_int_equal(mcluster_app_count(c, "u", "tasksRunning"), 1);
}

static void test_unreachable_youngest_first(void **state)
{
    unreachable_then_back(*state, "YOUNGEST_FIRST", true);
}

static void test_unreachable_oldest_first(void **state)
{
    unreachable_then_back(*state, "OLDEST_FIRST", false);
}

/* Marathon's default {0, 0}: replaced and forgotten at once; the old task, back, is killed. */
static void test_unreachable_expunged(void **state)
{
    mcluster_t *c = *state;
    char original[256];
    start_and_cut(c, "{\"id\":\"u\",\"cmd\":\"sleep 1000000\",\"cpus\":0.1,\"mem\":16}", original,
                  sizeof(original));
    mcluster_run(8);
    expect_tasks(c, original, 1, 0, 1);
    heal();
    mcluster_run(5);
    expect_tasks(c, original, 1, 0, 1);
}

/* "disabled": an unreachable instance is never replaced. */
static void test_unreachable_disabled(void **state)
{
    mcluster_t *c = *state;
    char original[256];
    start_and_cut(c,
                  "{\"id\":\"u\",\"cmd\":\"sleep 1000000\",\"cpus\":0.1,\"mem\":16,"
                  "\"unreachableStrategy\":\"disabled\"}",
                  original, sizeof(original));
    mcluster_run(400);
    expect_tasks(c, original, 1, 1, 0);
    heal();
    mcluster_run(5);
    expect_tasks(c, original, 1, 1, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_list_embeds, mcluster_setup, mcluster_teardown),
        cmocka_unit_test_setup_teardown(test_single_app_embeds, mcluster_setup, mcluster_teardown),
        cmocka_unit_test_setup_teardown(test_service_ports, mcluster_setup_persistent,
                                        mcluster_teardown),
        cmocka_unit_test_setup_teardown(test_queue_says_why, mcluster_setup, mcluster_teardown),
        cmocka_unit_test_setup_teardown(test_unreachable_youngest_first, mcluster_setup,
                                        mcluster_teardown),
        cmocka_unit_test_setup_teardown(test_unreachable_oldest_first, mcluster_setup,
                                        mcluster_teardown),
        cmocka_unit_test_setup_teardown(test_unreachable_expunged, mcluster_setup,
                                        mcluster_teardown),
        cmocka_unit_test_setup_teardown(test_unreachable_disabled, mcluster_setup,
                                        mcluster_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
