/* The app list written as text (api_apps.c on jsonbuf.h) is the AppInfo a jansson tree makes:
 * apps with awkward definitions (labels and env with quotes, backslashes, control characters and
 * unicode, args, fetch, several portDefinitions, health checks with results, constraints,
 * unreachableStrategy disabled, upgradeStrategy), an agent whose hostname needs escaping,
 * instances running, a lastTaskFailure and a deployment under way. GET /v2/apps with every embed,
 * GET /v2/apps/{id} and GET /v2/apps/{id}/tasks, parsed, must be json_equal to a reference the
 * test builds inside the Marathon actor from its state with jansson alone: marathon_app_to_json
 * for the definition, the instances' fields for the tasks, marathon_task_stats_json for taskStats
 * (white box: the test reads marathon_int.h's state through actor_dispatch). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "frameworks/marathon/app_info.h"
#include "frameworks/marathon/marathon_int.h"
#include "proto/task_states.h"
#include "tests/marathon/server/support.h"

#define WEIRD_HOST "weird\"host\\\xc3\xa9"

/* ---- the reference: an AppInfo built as a jansson tree, inside the Marathon actor ---- */

static json_t *string_or_null(const char *s)
{
    return s != NULL && s[0] != '\0' ? json_string(s) : json_null();
}

static json_t *health_tree(const marathon_instance_t *i)
{
    json_t *out = json_array();
    for (size_t k = 0; k < i->health_count; k++) {
        const marathon_health_result_t *h = &i->health[k];
        if (!h->has_result)
            continue;
        json_array_append_new(
            out, json_pack("{s:b,s:I,s:o,s:o,s:o,s:o,s:s}", "alive", h->alive,
                           "consecutiveFailures", (json_int_t)h->consecutive_failures,
                           "firstSuccess", string_or_null(h->first_success), "lastSuccess",
                           string_or_null(h->last_success), "lastFailure",
                           string_or_null(h->last_failure), "lastFailureCause",
                           string_or_null(h->last_failure_cause), "instanceId", i->task_id));
    }
    return out;
}

static json_t *task_tree(const marathon_instance_t *i)
{
    json_t *ports = json_array(), *service = json_array();
    for (size_t k = 0; k < i->port_count; k++)
        json_array_append_new(ports, json_integer(i->ports[k]));
    const marathon_app_t *app = i->app->app;
    for (size_t k = 0; k < app->port_definition_count; k++)
        json_array_append_new(service, json_integer(app->port_definitions[k].port));
    int state = i->state == MARATHON_STATE_CREATED ? MESOS__TASK_STATE__TASK_STAGING : i->state;
    return json_pack("{s:s,s:s,s:s,s:s,s:o,s:o,s:s,s:o,s:s,s:s,s:o}", "id", i->task_id, "appId",
                     i->app->id, "host", i->host, "slaveId", i->agent_id, "ports", ports,
                     "servicePorts", service, "stagedAt", i->staged_at, "startedAt",
                     string_or_null(i->started_at), "version", i->version, "state",
                     mesos_task_state_name(state), "healthCheckResults", health_tree(i));
}

/* An instance as app_info.h's counts and statistics define it. */
static marathon_task_stat_t stat_of(const marathon_instance_t *i, int64_t now)
{
    bool any = false, all = true;
    for (size_t k = 0; k < i->health_count; k++) {
        any |= i->health[k].has_result;
        all &= !i->health[k].has_result || i->health[k].alive;
    }
    int64_t started = 0;
    bool life = marathon_timestamp_parse(i->started_at, &started) == ACTOR_OK;
    return (marathon_task_stat_t){
        .staged_at = i->staged_at,
        .version = i->version,
        .staging =
            i->state == MARATHON_STATE_CREATED || i->state == MESOS__TASK_STATE__TASK_STAGING,
        .running = i->state == MESOS__TASK_STATE__TASK_RUNNING,
        .healthy = any && all,
        .unhealthy = any && !all,
        .has_life_time = life,
        .life_time = life ? (double)(now - started) / 1e9 : 0,
    };
}

static json_t *app_tree(const marathon_app_entry_t *e, unsigned embed)
{
    json_t *info = marathon_app_to_json(e->app);
    assert_non_null(info);
    marathon_task_stat_t stats[64];
    size_t n = 0;
    json_t *tasks = json_array();
    for (const marathon_instance_t *i = e->instances; i != NULL; i = i->app_next) {
        assert_true(n < 64);
        stats[n++] = stat_of(i, actor_clock_wall());
        json_array_append_new(tasks, task_tree(i));
    }
    uint32_t staged = 0, running = 0, healthy = 0, unhealthy = 0;
    for (size_t k = 0; k < n; k++) {
        staged += stats[k].staging;
        running += stats[k].running;
        healthy += stats[k].healthy;
        unhealthy += stats[k].unhealthy;
    }
    if (embed & MARATHON_EMBED_COUNTS) {
        json_t *counts = json_pack("{s:I,s:I,s:I,s:I}", "tasksStaged", (json_int_t)staged,
                                   "tasksRunning", (json_int_t)running, "tasksHealthy",
                                   (json_int_t)healthy, "tasksUnhealthy", (json_int_t)unhealthy);
        json_object_update(info, counts);
        json_decref(counts);
    }
    if (embed & MARATHON_EMBED_DEPLOYMENTS)
        json_object_set_new(info, "deployments",
                            e->deployment != NULL ? json_pack("[{s:s}]", "id", e->deployment->id)
                                                  : json_array());
    if (embed & MARATHON_EMBED_READINESS)
        json_object_set_new(info, "readinessCheckResults", json_array());
    if (embed & MARATHON_EMBED_TASKS)
        json_object_set(info, "tasks", tasks);
    if ((embed & MARATHON_EMBED_LAST_TASK_FAILURE) && e->last_task_failure != NULL)
        json_object_set_new(info, "lastTaskFailure", json_deep_copy(e->last_task_failure));
    if (embed & MARATHON_EMBED_TASK_STATS)
        json_object_set_new(info, "taskStats", marathon_task_stats_json(e->app, stats, n));
    json_decref(tasks);
    return info;
}

typedef struct reference {
    const char *app_id; /* NULL: the list */
    unsigned embed;
    bool tasks_only; /* {"tasks": [...]} of the app */
    json_t *out;
} reference_t;

static void build_reference(actor_t *self, void *state, void *arg)
{
    if (self == NULL)
        return;
    marathon_t *m = state;
    reference_t *r = arg;
    if (r->app_id == NULL) {
        json_t *apps = json_array();
        for (const marathon_app_entry_t *e = m->apps; e != NULL; e = e->hh.next)
            json_array_append_new(apps, app_tree(e, r->embed));
        r->out = json_pack("{s:o}", "apps", apps);
        return;
    }
    const marathon_app_entry_t *e = marathon_app_find(m, r->app_id);
    assert_non_null(e);
    if (r->tasks_only) {
        json_t *info = app_tree(e, MARATHON_EMBED_TASKS);
        r->out = json_pack("{s:O}", "tasks", json_object_get(info, "tasks"));
        json_decref(info);
    } else {
        r->out = json_pack("{s:o}", "app", app_tree(e, r->embed));
    }
}

static json_t *reference(mcluster_t *c, const char *app_id, unsigned embed, bool tasks_only)
{
    reference_t r = {.app_id = app_id, .embed = embed, .tasks_only = tasks_only};
    assert_int_equal(actor_dispatch(marathon_server_pid(c->marathon), build_reference, &r),
                     ACTOR_OK);
    actor_settle();
    assert_non_null(r.out);
    return r.out;
}

/* GET path (200) equals the reference. */
static void same_as_reference(mcluster_t *c, const char *path, const char *app_id, unsigned embed,
                              bool tasks_only)
{
    int status = 0;
    json_t *got = mcluster_api(c, "GET", path, NULL, &status);
    assert_int_equal(status, 200);
    json_t *want = reference(c, app_id, embed, tasks_only);
    if (!json_equal(got, want)) {
        char *g = json_dumps(got, JSON_SORT_KEYS | JSON_INDENT(1));
        char *w = json_dumps(want, JSON_SORT_KEYS | JSON_INDENT(1));
        print_error("GET %s:\n%s\nreference:\n%s\n", path, g, w);
        free(g);
        free(w);
        fail_msg("GET %s differs from the jansson reference", path);
    }
    json_decref(got);
    json_decref(want);
}

/* ---- sockets for the health checks: one that accepts (TCP alive), one that refuses ---- */

static int local_socket(bool listening, uint16_t *port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    /* Bound but not listening: connections are refused, and the port stays ours. */
    if (listening)
        assert_int_equal(listen(fd, 16), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    *port = ntohs(a.sin_port);
    return fd;
}

/* The number of health results over the app's tasks, from GET /v2/apps/{id}. */
static size_t health_results(mcluster_t *c, const char *id)
{
    char path[128];
    snprintf(path, sizeof(path), "/v2/apps%s", id);
    int status = 0;
    json_t *j = mcluster_api(c, "GET", path, NULL, &status);
    assert_int_equal(status, 200);
    json_t *tasks = json_object_get(json_object_get(j, "app"), "tasks");
    size_t n = 0;
    for (size_t k = 0; k < json_array_size(tasks); k++)
        n += json_array_size(json_object_get(json_array_get(tasks, k), "healthCheckResults"));
    json_decref(j);
    return n;
}

/* Waits (real time: the probes are real I/O) until the app's tasks have count results. */
static void wait_health_results(mcluster_t *c, const char *id, size_t count)
{
    for (int k = 0; k < 500 && health_results(c, id) < count; k++) {
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    assert_int_equal(health_results(c, id), count);
}

/* ---- the test ---- */

static void create(mcluster_t *c, const char *fmt, ...)
{
    char json[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(json, sizeof(json), fmt, ap);
    va_end(ap);
    mcluster_create_app(c, json);
}

static void test_app_text_equals_tree(void **state)
{
    mcluster_t *c = *state;
    mcluster_add_agent(c, WEIRD_HOST);
    mcluster_add_agent(c, "127.0.0.1"); /* the health-checked app's: probes go to 127.0.0.1 */
    uint16_t alive_port = 0, refused_port = 0;
    int alive_fd = local_socket(true, &alive_port);
    int refused_fd = local_socket(false, &refused_port);

    create(c,
           "{\"id\":\"/text/checked\",\"cmd\":\"sleep 100000 # \\\"quoted\\\" \\\\ \\u00e9\","
           "\"cpus\":0.1,\"mem\":16,\"instances\":2,"
           "\"labels\":{\"q\\\"uote\":\"back\\\\slash\",\"ctl\":\"a\\u0001b\\u001fc\\n\\t\\r\","
           "\"uni\":\"\\u00e9\\u20ac\\ud83d\\ude00\",\"html\":\"</script>\",\"del\":\"\\u007f\"},"
           "\"env\":{\"K_Q\":\"v\\\"\\\\\",\"E\":\"\\u00e9\\u2028\"},"
           "\"portDefinitions\":[{\"port\":0,\"name\":\"http\",\"protocol\":\"tcp\","
           "\"labels\":{\"l\\\"\":\"\\\\\"}},{\"port\":0,\"name\":\"admin\"},"
           "{\"port\":0,\"protocol\":\"udp\"}],"
           "\"fetch\":[{\"uri\":\"http://127.0.0.1:1/a%%22b.tgz\",\"extract\":false,"
           "\"executable\":true,\"cache\":false}],"
           "\"constraints\":[[\"hostname\",\"CLUSTER\",\"127.0.0.1\"]],"
           "\"healthChecks\":[{\"protocol\":\"TCP\",\"port\":%u,\"gracePeriodSeconds\":0,"
           "\"intervalSeconds\":600,\"maxConsecutiveFailures\":0},"
           "{\"protocol\":\"HTTP\",\"path\":\"/h?x=\\\"1\\\"\",\"port\":%u,"
           "\"gracePeriodSeconds\":0,\"intervalSeconds\":600,\"maxConsecutiveFailures\":0}],"
           "\"unreachableStrategy\":\"disabled\","
           "\"upgradeStrategy\":{\"minimumHealthCapacity\":0.5,\"maximumOverCapacity\":0.25}}",
           alive_port, refused_port);
    create(c,
           "{\"id\":\"/text/weird-host\",\"args\":[\"sleep\",\"100000\",\"a\\\"b\\\\c\\u0002\"],"
           "\"cpus\":0.1,\"mem\":16,\"instances\":2,"
           "\"constraints\":[[\"hostname\",\"LIKE\",\"weird.*\"],[\"hostname\",\"MAX_PER\",\"3\"]],"
           "\"labels\":{\"\\u65e5\\u672c\":\"\\ud83d\\ude80 \\\"x\\\"\"},"
           "\"env\":{\"TAB\":\"\\t\"}}");
    create(c, "{\"id\":\"/text/fails\",\"cmd\":\"sleep 1\",\"cpus\":0.1,\"mem\":16,"
              "\"backoffSeconds\":1000}");
    create(c, "{\"id\":\"/text/waiting\",\"cmd\":\"sleep 100000\",\"cpus\":64}"); /* fits nowhere */
    create(c, "{\"id\":\"/text/none\",\"cmd\":\"true\",\"instances\":0,"
              "\"labels\":{\"\\\\\":\"\\\"\"}}");
    mcluster_run(8); /* launched, running; /text/fails' task ended after 1 s */
    wait_health_results(c, "/text/checked", 4);

    assert_int_equal(mcluster_app_count(c, "text/checked", "tasksRunning"), 2);
    assert_int_equal(mcluster_app_count(c, "text/checked", "tasksUnhealthy"), 2);
    assert_int_equal(mcluster_app_count(c, "text/weird-host", "tasksRunning"), 2);
    assert_int_equal(mcluster_app_count(c, "text/fails", "tasksRunning"), 0);

    unsigned all = MARATHON_EMBED_COUNTS | MARATHON_EMBED_DEPLOYMENTS | MARATHON_EMBED_TASKS |
                   MARATHON_EMBED_TASK_STATS | MARATHON_EMBED_LAST_TASK_FAILURE;
    same_as_reference(c,
                      "/v2/apps?embed=apps.tasks&embed=apps.taskStats&embed=apps.lastTaskFailure",
                      NULL, all, false);
    same_as_reference(c, "/v2/apps", NULL, MARATHON_EMBED_COUNTS | MARATHON_EMBED_DEPLOYMENTS,
                      false);
    same_as_reference(c, "/v2/apps?embed=apps.readiness&embed=apps.failures", NULL,
                      MARATHON_EMBED_COUNTS | MARATHON_EMBED_DEPLOYMENTS |
                          MARATHON_EMBED_READINESS | MARATHON_EMBED_TASKS |
                          MARATHON_EMBED_LAST_TASK_FAILURE,
                      false);
    unsigned one = MARATHON_EMBED_COUNTS | MARATHON_EMBED_DEPLOYMENTS | MARATHON_EMBED_TASKS |
                   MARATHON_EMBED_LAST_TASK_FAILURE;
    static const char *const ids[] = {"/text/checked", "/text/weird-host", "/text/fails",
                                      "/text/waiting", "/text/none"};
    for (size_t k = 0; k < sizeof(ids) / sizeof(ids[0]); k++) {
        char path[128];
        snprintf(path, sizeof(path), "/v2/apps%s", ids[k]);
        same_as_reference(c, path, ids[k], one, false);
        snprintf(path, sizeof(path), "/v2/apps%s?embed=app.taskStats", ids[k]);
        same_as_reference(c, path, ids[k], one | MARATHON_EMBED_TASK_STATS, false);
        snprintf(path, sizeof(path), "/v2/apps%s/tasks", ids[k]);
        same_as_reference(c, path, ids[k], 0, true);
    }

    /* The parts the comparison is about are really there. */
    int status = 0;
    json_t *j = mcluster_api(c, "GET", "/v2/apps/text/weird-host", NULL, &status);
    json_t *task = json_array_get(json_object_get(json_object_get(j, "app"), "tasks"), 0);
    assert_string_equal(json_string_value(json_object_get(task, "host")), WEIRD_HOST);
    json_decref(j);
    j = mcluster_api(c, "GET", "/v2/apps/text/fails", NULL, &status);
    assert_non_null(json_object_get(json_object_get(j, "app"), "lastTaskFailure"));
    json_decref(j);
    j = mcluster_api(c, "GET", "/v2/apps/text/waiting", NULL, &status);
    assert_int_equal(json_array_size(json_object_get(json_object_get(j, "app"), "deployments")), 1);
    json_decref(j);
    j = mcluster_api(c, "GET", "/v2/apps/text/checked", NULL, &status);
    task = json_array_get(json_object_get(json_object_get(j, "app"), "tasks"), 0);
    assert_int_equal(json_array_size(json_object_get(task, "ports")), 3);
    assert_string_equal(json_string_value(json_object_get(task, "host")), "127.0.0.1");
    json_decref(j);
    close(alive_fd);
    close(refused_fd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_app_text_equals_tree, mcluster_setup,
                                        mcluster_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
