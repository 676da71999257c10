/* Marathon's rolling restart and health checks end to end, with real processes: mesos-local (a
 * master, one agent with the posix containerizer, and Marathon) in a child process; each task
 * is a tiny HTTP server (python3 -m http.server on $PORT0) that Marathon probes itself.
 *
 * - A restart of 4 instances with upgradeStrategy {minimumHealthCapacity 0.5,
 *   maximumOverCapacity 0.25} is sampled every 50 ms while it runs: never fewer than
 *   ceil(4 x 0.5) = 2 healthy instances, never more than 4 + floor(4 x 0.25) = 5 instances (as
 *   Marathon lists them, and as real processes found in /proc by their MESOS_TASK_ID); at the
 *   end 4 new instances of the new version, all healthy.
 * - An app whose check path answers 404 has its instance killed (unhealthy_instance_kill_event
 *   on /v2/events) and replaced, with the kill as its lastTaskFailure.
 *
 * Real processes: it polls with deadlines (tests/support/ starts and stops them). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <jansson.h>

#include "tests/support/http.h"
#include "tests/support/local.h"
#include "tests/support/proc.h"
#include "tests/support/wait.h"

#define APP_INSTANCES 4
#define MIN_HEALTHY   2 /* ceil(4 x 0.5) */
#define MAX_CAPACITY  5 /* 4 + floor(4 x 0.25) */
#define MAX_TASKS     64
#define TASK_ID_MAX   128

/* The task: an HTTP server on the loopback only, serving its sandbox. */
#define SERVER_CMD "exec python3 -m http.server $PORT0 --bind 127.0.0.1"

/* ---- Marathon's view of an app ---- */

static bool terminal(const char *state)
{
    static const char *const states[] = {"TASK_FINISHED", "TASK_FAILED",          "TASK_KILLED",
                                         "TASK_LOST",     "TASK_ERROR",           "TASK_DROPPED",
                                         "TASK_GONE",     "TASK_GONE_BY_OPERATOR"};
    for (size_t k = 0; k < sizeof(states) / sizeof(states[0]); k++) {
        if (strcmp(state, states[k]) == 0)
            return true;
    }
    return false;
}

/* Running, with results for its checks, every one alive. */
static bool task_healthy(const json_t *task)
{
    const char *state = json_string_value(json_object_get(task, "state"));
    const json_t *results = json_object_get(task, "healthCheckResults");
    if (state == NULL || strcmp(state, "TASK_RUNNING") != 0 || json_array_size(results) == 0)
        return false;
    size_t k;
    const json_t *r;
    json_array_foreach(results, k, r)
    {
        if (!json_is_true(json_object_get(r, "alive")))
            return false;
    }
    return true;
}

typedef struct app_view {
    long status;
    int active;      /* tasks not terminal */
    int healthy;     /* of those, healthy */
    int new_version; /* of those, of `version` */
    int deployments; /* deployments of the app in progress */
    json_t *app;     /* the answer's "app" (owned) */
} app_view_t;

/* GET /v2/apps/{id}?embed=app.tasks, counted against `version` (NULL: none is new). */
static void app_get(const support_local_t *c, const char *id, const char *version, app_view_t *v)
{
    char path[256];
    snprintf(path, sizeof(path), "/v2/apps/%s?embed=app.tasks&embed=app.lastTaskFailure", id);
    memset(v, 0, sizeof(*v));
    json_t *j = support_http_json("GET", c->marathon_port, path, NULL, &v->status);
    v->app = json_incref(json_object_get(j, "app"));
    json_decref(j);
    v->deployments = (int)json_array_size(json_object_get(v->app, "deployments"));
    size_t k;
    json_t *t;
    json_array_foreach(json_object_get(v->app, "tasks"), k, t)
    {
        const char *state = json_string_value(json_object_get(t, "state"));
        const char *tv = json_string_value(json_object_get(t, "version"));
        if (state == NULL || terminal(state))
            continue;
        v->active++;
        v->healthy += task_healthy(t);
        v->new_version += version != NULL && tv != NULL && strcmp(tv, version) == 0;
    }
}

static void app_view_fini(app_view_t *v)
{
    json_decref(v->app);
    v->app = NULL;
}

typedef struct settle_arg {
    const support_local_t *c;
    const char *id;
    int want; /* healthy tasks, and no other, and no deployment */
} settle_arg_t;

static bool settled(void *arg)
{
    const settle_arg_t *a = arg;
    app_view_t v;
    app_get(a->c, a->id, NULL, &v);
    bool done =
        v.status == 200 && v.deployments == 0 && v.active == a->want && v.healthy == a->want;
    app_view_fini(&v);
    return done;
}

/* The ids of the app's tasks, as Marathon lists them. */
static size_t task_ids(const json_t *app, char ids[][TASK_ID_MAX], size_t max)
{
    size_t n = 0, k;
    json_t *t;
    json_array_foreach(json_object_get(app, "tasks"), k, t)
    {
        if (n < max)
            snprintf(ids[n++], TASK_ID_MAX, "%s", json_string_value(json_object_get(t, "id")));
    }
    return n;
}

static bool contains_id(char ids[][TASK_ID_MAX], size_t n, const char *id)
{
    for (size_t k = 0; k < n; k++) {
        if (strcmp(ids[k], id) == 0)
            return true;
    }
    return false;
}

/* The value of the environment variable `name` of process pid, into out; false when the process
 * has none or its environment cannot be read. */
static bool env_value(pid_t pid, const char *name, char *out, size_t size)
{
    char path[64];
    static char env[65536];
    snprintf(path, sizeof(path), "/proc/%d/environ", (int)pid);
    FILE *file = fopen(path, "r");
    if (file == NULL)
        return false;
    size_t len = fread(env, 1, sizeof(env) - 1, file), n = strlen(name);
    fclose(file);
    env[len] = '\0';
    for (size_t at = 0; at < len; at += strlen(env + at) + 1) {
        if (strncmp(env + at, name, n) == 0 && env[at + n] == '=') {
            snprintf(out, size, "%s", env + at + n + 1);
            return true;
        }
    }
    return false;
}

/* The distinct task ids of the app's live processes in this cluster (their sandbox is under its
 * work directory: other tests on the machine may run apps of the same name), into ids (a task
 * whose command starts helpers, as a python3 shim does, counts once). */
static size_t app_processes(const support_local_t *c, const char *app_id, char ids[][TASK_ID_MAX],
                            size_t max)
{
    char needle[64], task[TASK_ID_MAX], sandbox[512];
    pid_t pids[MAX_TASKS];
    snprintf(needle, sizeof(needle), "MARATHON_APP_ID=%s", app_id);
    size_t found = support_proc_find_env(needle, pids, MAX_TASKS), n = 0;
    for (size_t k = 0; k < found; k++) {
        if (env_value(pids[k], "MESOS_SANDBOX", sandbox, sizeof(sandbox)) &&
            strncmp(sandbox, c->work_dir, strlen(c->work_dir)) == 0 &&
            env_value(pids[k], "MESOS_TASK_ID", task, sizeof(task)) && !contains_id(ids, n, task) &&
            n < max)
            snprintf(ids[n++], TASK_ID_MAX, "%s", task);
    }
    return n;
}

typedef struct gone_arg {
    const support_local_t *c;
    const char *app_id;
} gone_arg_t;

static bool no_processes(void *arg)
{
    const gone_arg_t *a = arg;
    char ids[MAX_TASKS][TASK_ID_MAX];
    return app_processes(a->c, a->app_id, ids, MAX_TASKS) == 0;
}

/* Destroys an app and waits until its processes are gone. */
static void app_destroy(const support_local_t *c, const char *id, const char *app_id)
{
    char path[128];
    long status = 0;
    snprintf(path, sizeof(path), "/v2/apps/%s", id);
    json_decref(support_http_json("DELETE", c->marathon_port, path, NULL, &status));
    assert_int_equal(status, 200);
    gone_arg_t gone = {c, app_id};
    assert_true(support_wait_until(no_processes, &gone, 20000, 100));
}

static void app_post(const support_local_t *c, const char *json)
{
    long status = 0;
    json_t *j = support_http_json("POST", c->marathon_port, "/v2/apps", json, &status);
    if (status != 201)
        print_message("POST /v2/apps answered %ld\n", status);
    assert_int_equal(status, 201);
    json_decref(j);
}

/* ---- Cluster: one agent with room for the 4 instances, the restart's 5th and spare ---- */

static int cluster_start(void **state)
{
    if (support_bin_dir() == NULL) {
        *state = NULL;
        return 0;
    }
    support_local_t *c = calloc(1, sizeof(*c));
    *state = c;
    static const char *const flags[] = {"--switch_user=false", NULL};
    support_local_options_t opts;
    support_local_options_init(&opts);
    opts.name = "test_rolling";
    opts.num_agents = 1;
    opts.marathon = true;
    opts.resources = "cpus:4;mem:4096;disk:1000;ports:[31000-31099]";
    opts.flags = flags;
    support_local_start(c, &opts);
    return 0;
}

static int cluster_stop(void **state)
{
    support_local_t *c = *state;
    if (c == NULL)
        return 0;
    bool removed = support_local_stop(c);
    free(c);
    return removed ? 0 : -1;
}

static support_local_t *cluster_of(void **state)
{
    support_local_t *c = *state;
    if (c == NULL) {
        print_message("MESOS_TEST_BIN_DIR is not set (run through ctest)\n");
        skip();
    }
    return c;
}

/* ---- Tests ---- */

typedef struct restart_watch {
    int max_active;  /* most instances seen, in Marathon's view or as processes */
    int min_healthy; /* fewest healthy instances seen */
    int samples;
    bool mixed; /* a sample had old and new instances together */
    bool done;  /* the deployment is over */
} restart_watch_t;

/* One sample of the restart: the limits hold, in Marathon's view and in the processes. */
static void sample_restart(const support_local_t *c, const char *version, restart_watch_t *w)
{
    app_view_t v;
    app_get(c, "rolling", version, &v);
    char ids[MAX_TASKS][TASK_ID_MAX];
    int procs = (int)app_processes(c, "/rolling", ids, MAX_TASKS);
    assert_int_equal(v.status, 200);
    if (v.healthy < MIN_HEALTHY || v.active > MAX_CAPACITY || procs > MAX_CAPACITY)
        print_message("healthy %d, active %d, processes %d\n", v.healthy, v.active, procs);
    assert_true(v.healthy >= MIN_HEALTHY);
    assert_true(v.active <= MAX_CAPACITY);
    assert_true(procs <= MAX_CAPACITY);
    w->max_active = v.active > w->max_active ? v.active : w->max_active;
    w->max_active = procs > w->max_active ? procs : w->max_active;
    w->min_healthy = v.healthy < w->min_healthy ? v.healthy : w->min_healthy;
    w->mixed = w->mixed || (v.new_version > 0 && v.new_version < v.active);
    w->done = v.deployments == 0;
    w->samples++;
    app_view_fini(&v);
}

static void test_rolling_restart_keeps_health_floor(void **state)
{
    support_local_t *c = cluster_of(state);
    app_post(c, "{\"id\": \"rolling\", \"cmd\": \"" SERVER_CMD "\", \"cpus\": 0.1, \"mem\": 32,"
                " \"instances\": 4, \"portDefinitions\": [{\"port\": 0}],"
                " \"healthChecks\": [{\"protocol\": \"HTTP\", \"path\": \"/\", \"portIndex\": 0,"
                " \"gracePeriodSeconds\": 30, \"intervalSeconds\": 1, \"timeoutSeconds\": 2,"
                " \"maxConsecutiveFailures\": 3}],"
                " \"upgradeStrategy\": {\"minimumHealthCapacity\": 0.5,"
                " \"maximumOverCapacity\": 0.25}}");
    settle_arg_t all = {c, "rolling", APP_INSTANCES};
    assert_true(support_wait_until(settled, &all, 40000, 100));
    app_view_t before;
    app_get(c, "rolling", NULL, &before);
    char old_ids[MAX_TASKS][TASK_ID_MAX];
    size_t old_count = task_ids(before.app, old_ids, MAX_TASKS);
    app_view_fini(&before);
    assert_int_equal(old_count, APP_INSTANCES);

    long status = 0;
    json_t *r =
        support_http_json("POST", c->marathon_port, "/v2/apps/rolling/restart", "", &status);
    assert_int_equal(status, 200);
    char version[64];
    snprintf(version, sizeof(version), "%s", json_string_value(json_object_get(r, "version")));
    json_decref(r);
    assert_true(version[0] != '\0');

    restart_watch_t w = {.min_healthy = APP_INSTANCES};
    int64_t deadline = support_now_ms() + 45000;
    while (!w.done && support_now_ms() < deadline) {
        sample_restart(c, version, &w);
        support_sleep_ms(50);
    }
    print_message("restart: %d samples, at most %d instances, at least %d healthy\n", w.samples,
                  w.max_active, w.min_healthy);
    assert_true(w.done);
    assert_true(w.mixed); /* sampled while old and new instances ran together */

    /* All 4 new: of the new version, healthy, none of the old ids, and the only processes. */
    app_view_t after;
    app_get(c, "rolling", version, &after);
    assert_int_equal(after.active, APP_INSTANCES);
    assert_int_equal(after.healthy, APP_INSTANCES);
    assert_int_equal(after.new_version, APP_INSTANCES);
    char new_ids[MAX_TASKS][TASK_ID_MAX];
    size_t new_count = task_ids(after.app, new_ids, MAX_TASKS);
    app_view_fini(&after);
    assert_int_equal(new_count, APP_INSTANCES);
    char live[MAX_TASKS][TASK_ID_MAX];
    assert_int_equal(app_processes(c, "/rolling", live, MAX_TASKS), APP_INSTANCES);
    for (size_t k = 0; k < new_count; k++) {
        assert_false(contains_id(old_ids, old_count, new_ids[k]));
        assert_true(contains_id(live, APP_INSTANCES, new_ids[k]));
    }
    app_destroy(c, "rolling", "/rolling");
}

/* ---- /v2/events, read without blocking ---- */

#define EVENTS_MAX 65536

typedef struct event_stream {
    CURLM *multi;
    CURL *easy;
    struct curl_slist *headers;
    char text[EVENTS_MAX]; /* what arrived, NUL-terminated; the rest is dropped when full */
    size_t len;
} event_stream_t;

static size_t events_on_data(char *data, size_t size, size_t n, void *arg)
{
    event_stream_t *es = arg;
    size_t room = EVENTS_MAX - 1 - es->len, take = size * n < room ? size * n : room;
    memcpy(es->text + es->len, data, take);
    es->len += take;
    es->text[es->len] = '\0';
    return size * n;
}

static event_stream_t *events_open(uint16_t port, const char *query)
{
    char url[256];
    snprintf(url, sizeof(url), "http://127.0.0.1:%u/v2/events?%s", port, query);
    event_stream_t *es = calloc(1, sizeof(*es));
    assert_non_null(es);
    es->multi = curl_multi_init();
    es->easy = curl_easy_init();
    es->headers = curl_slist_append(NULL, "Accept: text/event-stream");
    curl_easy_setopt(es->easy, CURLOPT_URL, url);
    curl_easy_setopt(es->easy, CURLOPT_HTTPHEADER, es->headers);
    curl_easy_setopt(es->easy, CURLOPT_WRITEFUNCTION, events_on_data);
    curl_easy_setopt(es->easy, CURLOPT_WRITEDATA, es);
    curl_multi_add_handle(es->multi, es->easy);
    return es;
}

/* Reads what arrived (waiting up to 20 ms); the text so far. */
static const char *events_pump(event_stream_t *es)
{
    int running = 0;
    curl_multi_wait(es->multi, NULL, 0, 20, NULL);
    curl_multi_perform(es->multi, &running);
    return es->text;
}

static void events_close(event_stream_t *es)
{
    curl_multi_remove_handle(es->multi, es->easy);
    curl_easy_cleanup(es->easy);
    curl_multi_cleanup(es->multi);
    curl_slist_free_all(es->headers);
    free(es);
}

/* Pumps the stream until its text contains needle or timeout_ms passed. */
static bool events_wait(event_stream_t *es, const char *needle, int timeout_ms)
{
    int64_t deadline = support_now_ms() + timeout_ms;
    while (strstr(events_pump(es), needle) == NULL) {
        if (support_now_ms() >= deadline)
            return false;
    }
    return true;
}

typedef struct one_task {
    const support_local_t *c;
    const char *id;     /* the app */
    const char *not_id; /* a task id that does not count ("" for none) */
    char out[TASK_ID_MAX];
} one_task_t;

/* The app runs exactly one task, TASK_RUNNING, other than not_id: its id into out. */
static bool one_task_running(void *arg)
{
    one_task_t *a = arg;
    app_view_t v;
    app_get(a->c, a->id, NULL, &v);
    const json_t *tasks = json_object_get(v.app, "tasks");
    const json_t *t = json_array_get(tasks, 0);
    const char *state = json_string_value(json_object_get(t, "state"));
    const char *tid = json_string_value(json_object_get(t, "id"));
    bool one = json_array_size(tasks) == 1 && state != NULL && tid != NULL &&
               strcmp(state, "TASK_RUNNING") == 0 && strcmp(tid, a->not_id) != 0;
    snprintf(a->out, sizeof(a->out), "%s", one ? tid : "");
    app_view_fini(&v);
    return one;
}

static void test_failing_check_kills_and_replaces(void **state)
{
    support_local_t *c = cluster_of(state);
    event_stream_t *es = events_open(c->marathon_port, "event_type=unhealthy_instance_kill_event");
    /* The subscription is in once the stream's headers arrived. */
    long code = 0;
    int64_t deadline = support_now_ms() + 10000;
    while (code == 0 && support_now_ms() < deadline) {
        events_pump(es);
        curl_easy_getinfo(es->easy, CURLINFO_RESPONSE_CODE, &code);
    }
    assert_int_equal(code, 200);
    app_post(c, "{\"id\": \"sick\", \"cmd\": \"" SERVER_CMD "\", \"cpus\": 0.1, \"mem\": 32,"
                " \"instances\": 1, \"portDefinitions\": [{\"port\": 0}],"
                " \"healthChecks\": [{\"protocol\": \"HTTP\", \"path\": \"/no-such-page\","
                " \"portIndex\": 0, \"gracePeriodSeconds\": 0, \"intervalSeconds\": 1,"
                " \"timeoutSeconds\": 2, \"maxConsecutiveFailures\": 2}]}");
    one_task_t first = {c, "sick", "", ""};
    assert_true(support_wait_until(one_task_running, &first, 30000, 100));

    /* Killed for failing its check: the event names it and its 404, another task replaces it. */
    char needle[TASK_ID_MAX + 16];
    snprintf(needle, sizeof(needle), "\"taskId\":\"%s\"", first.out);
    bool killed = events_wait(es, needle, 30000);
    if (!killed)
        print_message("events so far: %s\n", es->text);
    assert_true(killed);
    assert_non_null(strstr(es->text, "\"eventType\":\"unhealthy_instance_kill_event\""));
    assert_non_null(strstr(es->text, "404"));
    events_close(es);
    one_task_t second = {c, "sick", first.out, ""};
    assert_true(support_wait_until(one_task_running, &second, 30000, 100));

    /* The kill is the app's lastTaskFailure: the first task's, or already the replacement's
     * (it fails its check too). */
    app_view_t v;
    app_get(c, "sick", NULL, &v);
    const json_t *failure = json_object_get(v.app, "lastTaskFailure");
    assert_non_null(failure);
    assert_string_equal(json_string_value(json_object_get(failure, "state")), "TASK_KILLED");
    const char *failed = json_string_value(json_object_get(failure, "taskId"));
    assert_non_null(failed);
    assert_true(strcmp(failed, first.out) == 0 || strcmp(failed, second.out) == 0);
    app_view_fini(&v);
    app_destroy(c, "sick", "/sick");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rolling_restart_keeps_health_floor),
        cmocka_unit_test(test_failing_check_kills_and_replaces),
    };
    curl_global_init(CURL_GLOBAL_DEFAULT);
    int failed = cmocka_run_group_tests(tests, cluster_start, cluster_stop);
    curl_global_cleanup();
    return failed;
}
