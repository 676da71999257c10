/* Monitoring end to end: the real mesos-local (a master, one agent and Marathon) in a child
 * process with a Marathon app of two running instances; the master's /metrics, the agent's
 * /slave(1)/metrics and Marathon's /metrics/prometheus pass `promtool check metrics`; the JSON
 * of /metrics/snapshot and Marathon's /metrics carry the names Mesos's and Marathon's users
 * query, with values that match the cluster; monitoring/prometheus.yml and alerts.yml pass
 * `promtool check config` / `check rules`, and every metric the alerts and the Grafana dashboard
 * (monitoring/grafana-dashboard.json) query is one the daemons export.
 *
 * Names Mesos or Marathon document that the daemons do not export yet are printed as notes, not
 * failures (KEY_DOCUMENTED below); the names the dashboard, the alerts and common scripts rely
 * on are required (KEY_REQUIRED). Real processes: the test polls with deadlines. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <cmocka.h>
#include <jansson.h>

#include "tests/support/fs.h"
#include "tests/support/http.h"
#include "tests/support/local.h"

#ifndef MONITORING_DIR
#error "MONITORING_DIR must name the repository's monitoring/ folder"
#endif

#define INSTANCES 2
#define COUNT(a)  (sizeof(a) / sizeof((a)[0]))

typedef struct cluster {
    support_local_t local; /* mesos-local */
    uint16_t master, http; /* the master's port; Marathon's */
    const char *dir;       /* local's work directory, removed at the end */
    char *families;        /* "\nname\n..." of every sample and family scraped */
} cluster_t;

static cluster_t *cluster;

/* ---- HTTP ------------------------------------------------------------------------------------ */

/* GET that must answer 200: the body. */
static char *get(uint16_t port, const char *path)
{
    long status;
    char *text = support_http_text("GET", port, path, NULL, &status);
    if (status != 200)
        fail_msg("GET %s answered %ld: %s", path, status, text ? text : "");
    return text;
}

static json_t *get_json(uint16_t port, const char *path)
{
    char *text = get(port, path);
    json_error_t err;
    json_t *json = json_loads(text, 0, &err);
    if (json == NULL)
        fail_msg("GET %s is not JSON (%s): %s", path, err.text, text);
    free(text);
    return json;
}

/* ---- promtool -------------------------------------------------------------------------------- */

/* Runs `promtool ARGS` (a shell fragment) with TEXT on its standard input when not NULL; prints
 * what it says and returns its exit status. */
static int promtool(const char *args, const char *text)
{
    char input[96] = "/dev/null", cmd[512];
    if (text != NULL) {
        snprintf(input, sizeof(input), "%s/promtool-input", cluster->dir);
        assert_true(support_fs_write(input, text));
    }
    snprintf(cmd, sizeof(cmd), "promtool %s < %s 2>&1", args, input);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    char line[512];
    while (fgets(line, sizeof(line), p) != NULL)
        print_message("promtool %s: %s", args, line);
    int rc = pclose(p);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

/* Adds the names of TEXT's samples and families (`# TYPE name`) to cluster->families. */
static void note_families(const char *text)
{
    size_t have = strlen(cluster->families);
    cluster->families = realloc(cluster->families, have + strlen(text) + 2);
    assert_non_null(cluster->families);
    char *out = cluster->families + have;
    const char *line = text;
    while (*line != '\0') {
        size_t len = strcspn(line, "\n");
        const char *name = strncmp(line, "# TYPE ", 7) == 0 ? line + 7 : line;
        size_t n = *name == '#' ? 0 : strcspn(name, "{ \n");
        memcpy(out, name, n);
        out += n;
        if (n > 0)
            *out++ = '\n';
        line += len + (line[len] == '\n');
    }
    *out = '\0';
}

static bool exported(const char *name)
{
    char needle[160];
    snprintf(needle, sizeof(needle), "\n%s\n", name);
    return strstr(cluster->families, needle) != NULL;
}

/* ---- the cluster ----------------------------------------------------------------------------- */

static bool app_running(json_t *json, void *arg)
{
    (void)arg;
    json_t *running = json_object_get(json_object_get(json, "app"), "tasksRunning");
    return json_integer_value(running) == INSTANCES;
}

/* The master publishes its figures once a second: wait for them to show the app. */
static bool master_counts_tasks(json_t *json, void *arg)
{
    (void)arg;
    return json_number_value(json_object_get(json, "master/tasks_running")) == INSTANCES;
}

static bool master_counts_none(json_t *json, void *arg)
{
    (void)arg;
    return json_number_value(json_object_get(json, "master/tasks_running")) == 0;
}

/* Polls PATH on PORT every 50 ms for up to 30 s until its JSON satisfies DONE. */
static bool poll_json(uint16_t port, const char *path, bool (*done)(json_t *, void *))
{
    return support_http_poll(port, path, done, NULL, 30000);
}

static int setup(void **state)
{
    (void)state;
    if (support_bin_dir() == NULL)
        return 0;
    cluster = calloc(1, sizeof(*cluster));
    assert_non_null(cluster);
    cluster->families = strdup("\n");
    const char *flags[] = {"--switch_user=false", NULL};
    support_local_start(
        &cluster->local,
        &(support_local_options_t){.name = "test_monitoring",
                                   .num_agents = 1,
                                   .marathon = true,
                                   .resources = "cpus:2;mem:1024;disk:1000;ports:[31000-31099]",
                                   .flags = flags});
    cluster->master = cluster->local.port;
    cluster->http = cluster->local.marathon_port;
    cluster->dir = cluster->local.work_dir;
    long status;
    free(support_http_text(
        "POST", cluster->http, "/v2/apps",
        "{\"id\": \"/monitored\", \"cmd\": \"exec sleep 600\", \"cpus\": 0.25, \"mem\": 32,"
        " \"instances\": 2}",
        &status));
    assert_int_equal(status, 201);
    assert_true(poll_json(cluster->http, "/v2/apps/monitored", app_running));
    assert_true(poll_json(cluster->master, "/metrics/snapshot", master_counts_tasks));
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    if (cluster == NULL)
        return 0;
    long status;
    free(support_http_text("DELETE", cluster->http, "/v2/apps/monitored", NULL, &status));
    poll_json(cluster->master, "/metrics/snapshot", master_counts_none);
    bool removed = support_local_stop(&cluster->local);
    free(cluster->families);
    free(cluster);
    cluster = NULL;
    assert_true(removed);
    return 0;
}

/* Skips the calling test when setup found no binaries (run outside ctest). */
static void require_cluster(void)
{
    if (cluster == NULL) {
        print_message("MESOS_TEST_BIN_DIR is not set (run through ctest)\n");
        skip();
    }
}

/* ---- the names users query ------------------------------------------------------------------- */

typedef enum { KEY_REQUIRED, KEY_DOCUMENTED } key_need_t;

typedef struct key {
    const char *name;
    key_need_t need;
} snapshot_key_t;

/* The master's /metrics/snapshot keys of Mesos's docs/monitoring.md. */
static const snapshot_key_t master_keys[] = {
    {"master/cpus_percent", KEY_REQUIRED},
    {"master/cpus_used", KEY_REQUIRED},
    {"master/cpus_total", KEY_REQUIRED},
    {"master/mem_percent", KEY_REQUIRED},
    {"master/mem_used", KEY_REQUIRED},
    {"master/mem_total", KEY_REQUIRED},
    {"master/disk_percent", KEY_REQUIRED},
    {"master/disk_used", KEY_REQUIRED},
    {"master/disk_total", KEY_REQUIRED},
    {"master/elected", KEY_REQUIRED},
    {"master/uptime_secs", KEY_REQUIRED},
    {"master/slaves_active", KEY_REQUIRED},
    {"master/slaves_connected", KEY_REQUIRED},
    {"master/slaves_disconnected", KEY_REQUIRED},
    {"master/slaves_inactive", KEY_REQUIRED},
    {"master/slaves_unreachable", KEY_REQUIRED},
    {"master/slave_registrations", KEY_REQUIRED},
    {"master/slave_reregistrations", KEY_REQUIRED},
    {"master/slave_removals", KEY_REQUIRED},
    {"master/frameworks_active", KEY_REQUIRED},
    {"master/frameworks_connected", KEY_REQUIRED},
    {"master/frameworks_disconnected", KEY_REQUIRED},
    {"master/frameworks_inactive", KEY_REQUIRED},
    {"master/outstanding_offers", KEY_REQUIRED},
    {"master/tasks_staging", KEY_REQUIRED},
    {"master/tasks_starting", KEY_REQUIRED},
    {"master/tasks_running", KEY_REQUIRED},
    {"master/tasks_killing", KEY_REQUIRED},
    {"master/tasks_finished", KEY_REQUIRED},
    {"master/tasks_failed", KEY_REQUIRED},
    {"master/tasks_killed", KEY_REQUIRED},
    {"master/tasks_lost", KEY_REQUIRED},
    {"master/tasks_error", KEY_REQUIRED},
    {"master/tasks_unreachable", KEY_REQUIRED},
    {"master/valid_status_updates", KEY_REQUIRED},
    {"master/invalid_status_updates", KEY_REQUIRED},
    {"master/messages_register_slave", KEY_REQUIRED},
    {"master/messages_status_update", KEY_REQUIRED},
    {"master/recovery_slave_removals", KEY_REQUIRED},
    {"allocator/mesos/allocation_runs", KEY_REQUIRED},
    {"allocator/mesos/allocation_run_ms", KEY_REQUIRED},
    {"registrar/state_store_ms", KEY_REQUIRED},
    {"registrar/queued_operations", KEY_REQUIRED},
    {"master/dropped_messages", KEY_DOCUMENTED},
    {"master/event_queue_messages", KEY_DOCUMENTED},
    {"master/event_queue_dispatches", KEY_DOCUMENTED},
    {"master/event_queue_http_requests", KEY_DOCUMENTED},
    {"master/messages_launch_tasks", KEY_DOCUMENTED},
    {"master/messages_kill_task", KEY_DOCUMENTED},
    {"master/messages_decline_offers", KEY_DOCUMENTED},
    {"master/messages_revive_offers", KEY_DOCUMENTED},
    {"master/messages_reconcile_tasks", KEY_DOCUMENTED},
    {"master/messages_register_framework", KEY_DOCUMENTED},
    {"master/slave_shutdowns_scheduled", KEY_DOCUMENTED},
    {"registrar/state_fetch_ms", KEY_DOCUMENTED},
    {"system/cpus_total", KEY_DOCUMENTED},
    {"system/load_1min", KEY_DOCUMENTED},
    {"system/load_5min", KEY_DOCUMENTED},
    {"system/load_15min", KEY_DOCUMENTED},
    {"system/mem_total_bytes", KEY_DOCUMENTED},
    {"system/mem_free_bytes", KEY_DOCUMENTED},
    {"allocator/mesos/event_queue_dispatches", KEY_DOCUMENTED},
    {"allocator/mesos/resources/cpus/total", KEY_DOCUMENTED},
    {"allocator/mesos/resources/cpus/offered_or_allocated", KEY_DOCUMENTED},
};

/* The agent's. */
static const snapshot_key_t agent_keys[] = {
    {"slave/cpus_percent", KEY_REQUIRED},
    {"slave/cpus_used", KEY_REQUIRED},
    {"slave/cpus_total", KEY_REQUIRED},
    {"slave/mem_percent", KEY_REQUIRED},
    {"slave/mem_used", KEY_REQUIRED},
    {"slave/mem_total", KEY_REQUIRED},
    {"slave/disk_percent", KEY_REQUIRED},
    {"slave/disk_used", KEY_REQUIRED},
    {"slave/disk_total", KEY_REQUIRED},
    {"slave/registered", KEY_REQUIRED},
    {"slave/uptime_secs", KEY_REQUIRED},
    {"slave/frameworks_active", KEY_REQUIRED},
    {"slave/executors_registering", KEY_REQUIRED},
    {"slave/executors_running", KEY_REQUIRED},
    {"slave/executors_terminating", KEY_REQUIRED},
    {"slave/executors_terminated", KEY_REQUIRED},
    {"slave/executor_directory_max_allowed_age_secs", KEY_REQUIRED},
    {"slave/tasks_staging", KEY_REQUIRED},
    {"slave/tasks_starting", KEY_REQUIRED},
    {"slave/tasks_running", KEY_REQUIRED},
    {"slave/tasks_finished", KEY_REQUIRED},
    {"slave/tasks_failed", KEY_REQUIRED},
    {"slave/tasks_killed", KEY_REQUIRED},
    {"slave/tasks_lost", KEY_REQUIRED},
    {"slave/valid_status_updates", KEY_REQUIRED},
    {"slave/invalid_status_updates", KEY_REQUIRED},
    {"slave/recovery_errors", KEY_DOCUMENTED},
    {"slave/container_launch_errors", KEY_DOCUMENTED},
    {"slave/executors_preempted", KEY_DOCUMENTED},
    {"slave/valid_framework_messages", KEY_DOCUMENTED},
    {"slave/invalid_framework_messages", KEY_DOCUMENTED},
    {"containerizer/mesos/container_destroy_errors", KEY_DOCUMENTED},
    {"system/load_1min", KEY_DOCUMENTED},
    {"system/mem_total_bytes", KEY_DOCUMENTED},
};

/* Marathon's /metrics (Marathon 1.7+, its MetricsIntegrationTest), by section. */
static const struct {
    const char *section, *name;
    key_need_t need;
} marathon_keys[] = {
    {"gauges", "marathon.apps.active.gauge", KEY_REQUIRED},
    {"gauges", "marathon.deployments.active.gauge", KEY_REQUIRED},
    {"gauges", "marathon.instances.running.gauge", KEY_REQUIRED},
    {"gauges", "marathon.instances.staged.gauge", KEY_REQUIRED},
    {"counters", "marathon.tasks.launched.counter", KEY_REQUIRED},
    {"counters", "marathon.mesos.offers.incoming.counter", KEY_REQUIRED},
    {"counters", "marathon.mesos.offers.declined.counter", KEY_REQUIRED},
    {"gauges", "marathon.uptime.gauge.seconds", KEY_DOCUMENTED},
    {"gauges", "marathon.groups.active.gauge", KEY_DOCUMENTED},
    {"gauges", "marathon.leadership.duration.gauge.seconds", KEY_DOCUMENTED},
    {"gauges", "marathon.instances.launch-overdue.gauge", KEY_DOCUMENTED},
    {"gauges", "marathon.instances.inflight-kills.gauge", KEY_DOCUMENTED},
    {"gauges", "marathon.http.requests.active.gauge", KEY_DOCUMENTED},
    {"counters", "marathon.deployments.counter", KEY_DOCUMENTED},
    {"counters", "marathon.deployments.dismissed.counter", KEY_DOCUMENTED},
    {"counters", "marathon.mesos.calls.revive.counter", KEY_DOCUMENTED},
    {"counters", "marathon.mesos.calls.suppress.counter", KEY_DOCUMENTED},
    {"counters", "marathon.mesos.offers.used.counter", KEY_DOCUMENTED},
    {"counters", "marathon.mesos.offer-operations.launch.counter", KEY_DOCUMENTED},
};

/* The /metrics/snapshot at PATH, checked against KEYS: required ones must be there; documented
 * ones that are not are printed. */
static json_t *snapshot(const char *path, const snapshot_key_t *keys, size_t n)
{
    json_t *s = get_json(cluster->master, path);
    size_t missing = 0;
    for (size_t k = 0; k < n; k++) {
        if (json_is_number(json_object_get(s, keys[k].name)))
            continue;
        if (keys[k].need == KEY_REQUIRED)
            fail_msg("%s lacks %s", path, keys[k].name);
        print_message("note: %s lacks %s, which Mesos documents\n", path, keys[k].name);
        missing++;
    }
    print_message("note: %zu keys Mesos documents are missing from %s\n", missing, path);
    return s;
}

static double number(json_t *object, const char *key)
{
    json_t *value = json_object_get(object, key);
    if (!json_is_number(value))
        fail_msg("%s is not a number", key);
    return json_number_value(value);
}

/* ---- tests ----------------------------------------------------------------------------------- */

static void test_prometheus_text_passes_promtool(void **state)
{
    (void)state;
    require_cluster();
    const struct {
        uint16_t port;
        const char *path;
    } scrapes[] = {
        {cluster->master, "/metrics"},
        {cluster->master, "/slave(1)/metrics"},
        {cluster->http, "/metrics/prometheus"},
    };
    for (size_t k = 0; k < COUNT(scrapes); k++) {
        char *text = get(scrapes[k].port, scrapes[k].path);
        int rc = promtool("check metrics", text);
        if (rc != 0)
            fail_msg("promtool check metrics exited %d on %s:\n%s", rc, scrapes[k].path, text);
        note_families(text);
        free(text);
    }
    /* The names of the spec, with the cluster's values. */
    assert_true(exported("mesos_master_tasks_running"));
    assert_true(exported("mesos_master_slaves_active"));
    assert_true(exported("mesos_slave_tasks_running"));
    assert_true(exported("marathon_apps_active"));
    char *text = get(cluster->master, "/metrics");
    assert_non_null(strstr(text, "\nmesos_master_tasks_running 2\n"));
    assert_non_null(strstr(text, "\nmesos_master_slaves_active 1\n"));
    free(text);
    text = get(cluster->http, "/metrics/prometheus");
    assert_non_null(strstr(text, "\nmarathon_apps_active 1\n"));
    assert_non_null(strstr(text, "\nmarathon_instances_running 2\n"));
    free(text);
}

static void test_master_snapshot_keys(void **state)
{
    (void)state;
    require_cluster();
    json_t *s = snapshot("/metrics/snapshot", master_keys, COUNT(master_keys));
    assert_true(number(s, "master/slaves_active") == 1);
    assert_true(number(s, "master/frameworks_active") == 1);
    assert_true(number(s, "master/tasks_running") == INSTANCES);
    assert_true(number(s, "master/cpus_total") == 2);
    assert_true(number(s, "master/mem_total") == 1024);
    assert_true(number(s, "master/cpus_used") >= INSTANCES * 0.25);
    assert_true(number(s, "master/cpus_percent") > 0 && number(s, "master/cpus_percent") <= 1);
    assert_true(number(s, "master/elected") == 1);
    json_decref(s);
}

static void test_agent_snapshot_keys(void **state)
{
    (void)state;
    require_cluster();
    json_t *s = snapshot("/slave(1)/metrics/snapshot", agent_keys, COUNT(agent_keys));
    assert_true(number(s, "slave/registered") == 1);
    assert_true(number(s, "slave/tasks_running") == INSTANCES);
    assert_true(number(s, "slave/executors_running") == INSTANCES);
    assert_true(number(s, "slave/cpus_total") == 2);
    assert_true(number(s, "slave/mem_used") > 0);
    json_decref(s);
}

static void test_marathon_metrics_json(void **state)
{
    (void)state;
    require_cluster();
    json_t *m = get_json(cluster->http, "/metrics");
    assert_string_equal(json_string_value(json_object_get(m, "version")), "4.0.0");
    for (size_t k = 0; k < COUNT(marathon_keys); k++) {
        json_t *section = json_object_get(m, marathon_keys[k].section);
        assert_true(json_is_object(section));
        if (json_object_get(section, marathon_keys[k].name) != NULL)
            continue;
        if (marathon_keys[k].need == KEY_REQUIRED)
            fail_msg("Marathon's /metrics lacks %s", marathon_keys[k].name);
        print_message("note: Marathon's /metrics lacks %s, which Marathon has\n",
                      marathon_keys[k].name);
    }
    json_t *gauges = json_object_get(m, "gauges"), *counters = json_object_get(m, "counters");
    assert_true(number(json_object_get(gauges, "marathon.apps.active.gauge"), "value") == 1);
    assert_true(number(json_object_get(gauges, "marathon.instances.running.gauge"), "value") ==
                INSTANCES);
    assert_true(number(json_object_get(counters, "marathon.tasks.launched.counter"), "count") >=
                INSTANCES);
    json_decref(m);
}

/* ---- PromQL: the metric names an expression reads -------------------------------------------- */

/* True for WORD (N bytes) among WORDS (NULL-terminated). */
static bool among(const char *const *words, const char *word, size_t n)
{
    for (const char *const *w = words; *w != NULL; w++) {
        if (strlen(*w) == n && strncmp(*w, word, n) == 0)
            return true;
    }
    return false;
}

/* PromQL's keywords, and those of them followed by a list of labels. */
static const char *const keywords[] = {"and", "or", "unless", "bool", "offset", NULL};
static const char *const label_lists[] = {"by",         "without",     "on", "ignoring",
                                          "group_left", "group_right", NULL};

/* Skips a bracketed group starting at P (one of "{[(\""): returns what follows it. */
static const char *skip_group(const char *p)
{
    char open = *p, close = open == '{' ? '}' : open == '[' ? ']' : open == '(' ? ')' : '"';
    for (p++; *p != '\0' && *p != close; p++) {
        if (*p == '"' && open != '"')
            p = skip_group(p) - 1;
    }
    return *p != '\0' ? p + 1 : p;
}

/* The metric names EXPR reads, into NAMES (at most MAX): identifiers that are not functions
 * (followed by '(') or aggregations (`sum by (x) (...)`), keywords, labels (inside {} or after by,
 * on, ...), strings, ranges or numbers. Returns how many there are. */
static size_t metric_names(const char *expr, char (*names)[128], size_t max)
{
    static const char ident[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_:";
    size_t count = 0;
    const char *p = expr;
    while (*p != '\0') {
        if (*p == '{' || *p == '[' || *p == '"') {
            p = skip_group(p);
            continue;
        }
        if (strchr(ident, *p) == NULL || (*p >= '0' && *p <= '9')) {
            p += (*p >= '0' && *p <= '9') ? strspn(p, "0123456789.eEsmhdwy") : 1; /* 1e3, 5m */
            continue;
        }
        size_t n = strspn(p, ident);
        const char *after = p + n + strspn(p + n, " ");
        if (among(label_lists, p, n) && *after == '(') {
            p = skip_group(after);
            continue;
        }
        bool aggregation = among(label_lists, after, strspn(after, ident)); /* sum by (x) */
        if (*after != '(' && !aggregation && !among(keywords, p, n) && !among(label_lists, p, n) &&
            count < max)
            snprintf(names[count++], sizeof(names[0]), "%.*s", (int)n, p);
        p += n;
    }
    return count;
}

/* Checks that every metric EXPR reads is exported ("up" is Prometheus's own); returns how many
 * metrics it reads. */
static size_t check_expr(const char *where, const char *expr)
{
    char names[16][128];
    size_t n = metric_names(expr, names, 16);
    for (size_t k = 0; k < n; k++) {
        if (strcmp(names[k], "up") != 0 && !exported(names[k]))
            fail_msg("%s reads %s, which no daemon exports (in: %s)", where, names[k], expr);
    }
    return n;
}

/* Writes EXPRS as recording rules and runs `promtool check rules` on them: PromQL syntax. */
static void check_promql(json_t *exprs)
{
    char path[128];
    snprintf(path, sizeof(path), "%s/dashboard-rules.yml", cluster->dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("groups:\n  - name: dashboard\n    rules:\n", f);
    size_t k;
    json_t *expr;
    json_array_foreach(exprs, k, expr)
    {
        char *quoted = json_dumps(expr, JSON_ENCODE_ANY); /* a JSON string is a YAML string */
        fprintf(f, "      - record: dashboard:expr_%zu\n        expr: %s\n", k, quoted);
        free(quoted);
    }
    fclose(f);
    char args[200];
    snprintf(args, sizeof(args), "check rules %s", path);
    assert_int_equal(promtool(args, NULL), 0);
}

/* Collects the expressions of PANELS (rows nest theirs) into EXPRS. */
static void collect_exprs(json_t *panels, json_t *exprs)
{
    size_t k, t;
    json_t *panel, *target;
    json_array_foreach(panels, k, panel)
    {
        collect_exprs(json_object_get(panel, "panels"), exprs);
        json_array_foreach(json_object_get(panel, "targets"), t, target)
        {
            json_t *expr = json_object_get(target, "expr");
            if (!json_is_string(expr))
                fail_msg("panel '%s' has a target without an expr",
                         json_string_value(json_object_get(panel, "title")));
            json_array_append(exprs, expr);
        }
    }
}

static void ensure_families(void)
{
    if (strlen(cluster->families) > 1)
        return;
    const char *paths[] = {"/metrics", "/slave(1)/metrics"};
    for (size_t k = 0; k < 2; k++) {
        char *text = get(cluster->master, paths[k]);
        note_families(text);
        free(text);
    }
    char *text = get(cluster->http, "/metrics/prometheus");
    note_families(text);
    free(text);
}

static void test_prometheus_config_and_alerts(void **state)
{
    (void)state;
    require_cluster();
    ensure_families();
    assert_int_equal(promtool("check config " MONITORING_DIR "/prometheus.yml", NULL), 0);
    assert_int_equal(promtool("check rules " MONITORING_DIR "/alerts.yml", NULL), 0);
    /* The alerts' expressions, read with a line scan: each is one line `expr: ...`. */
    FILE *f = fopen(MONITORING_DIR "/alerts.yml", "r");
    assert_non_null(f);
    char line[512];
    size_t alerts = 0;
    while (fgets(line, sizeof(line), f) != NULL) {
        const char *expr = strstr(line, "expr: ");
        if (expr == NULL)
            continue;
        line[strcspn(line, "\n")] = '\0';
        check_expr("alerts.yml", expr + 6);
        alerts++;
    }
    fclose(f);
    assert_true(alerts >= 10);
}

static void test_grafana_dashboard(void **state)
{
    (void)state;
    require_cluster();
    ensure_families();
    json_error_t err;
    json_t *dash = json_load_file(MONITORING_DIR "/grafana-dashboard.json", 0, &err);
    if (dash == NULL)
        fail_msg("grafana-dashboard.json:%d: %s", err.line, err.text);
    assert_non_null(json_string_value(json_object_get(dash, "title")));
    assert_non_null(json_string_value(json_object_get(dash, "uid")));
    json_t *exprs = json_array();
    collect_exprs(json_object_get(dash, "panels"), exprs);
    assert_true(json_array_size(exprs) >= 20);
    size_t k;
    json_t *expr;
    json_array_foreach(exprs, k, expr)
    {
        assert_true(check_expr("grafana-dashboard.json", json_string_value(expr)) > 0);
    }
    check_promql(exprs);
    json_decref(exprs);
    json_decref(dash);
}

/* The reader of metric names itself, on the shapes the dashboard and the alerts use. */
static void test_promql_metric_names(void **state)
{
    (void)state;
    static const struct {
        const char *expr, *names;
    } cases[] = {
        {"sum(mesos_master_cpus_used{job=\"mesos-master\"})", "mesos_master_cpus_used"},
        {"up{job=\"marathon\"} == 0", "up"},
        {"delta(mesos_master_tasks_lost[5m]) > 1e3", "mesos_master_tasks_lost"},
        {"sum by (instance, job) (rate(a_total{q=\"0.9\",r=\"}\"}[5m]))", "a_total"},
        {"max(a) / on(job) group_left(instance) b unless c offset 5m", "a b c"},
        {"histogram_quantile(0.99, sum without (le) (d_bucket))", "d_bucket"},
        {"vector(1)", ""},
    };
    for (size_t k = 0; k < COUNT(cases); k++) {
        char names[8][128], joined[256] = "";
        size_t n = metric_names(cases[k].expr, names, 8);
        for (size_t i = 0; i < n; i++)
            snprintf(joined + strlen(joined), sizeof(joined) - strlen(joined), "%s%s", i ? " " : "",
                     names[i]);
        assert_string_equal(joined, cases[k].names);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_promql_metric_names),
        cmocka_unit_test(test_prometheus_text_passes_promtool),
        cmocka_unit_test(test_master_snapshot_keys),
        cmocka_unit_test(test_agent_snapshot_keys),
        cmocka_unit_test(test_marathon_metrics_json),
        cmocka_unit_test(test_prometheus_config_and_alerts),
        cmocka_unit_test(test_grafana_dashboard),
    };
    if (system("command -v promtool >/dev/null 2>&1") != 0) {
        fprintf(stderr, "promtool is not installed (apt-get install prometheus)\n");
        return 1;
    }
    return cmocka_run_group_tests(tests, setup, teardown);
}
