/* Marathon killed with SIGKILL in the middle of deployments and started again on the same
 * --work_dir, end to end with real processes: mesos-local runs the master and one agent (posix
 * containerizer) and the real `marathon` binary runs apart.
 *
 * The agent has 12 ports. An app "hold" of 3 instances takes 3 ports each, so that "main", 6
 * instances of one port, can start only 3: its deployment waits for resources, deterministically.
 * Marathon is killed then and restarted: it must resubscribe with the same framework id (the
 * master lists one framework, that one, active), find its 3 + 3 running tasks again (no
 * relaunch) and keep the deployment. Then "main" is scaled to 9 and Marathon killed again as soon
 * as the API accepted it: the restarted one keeps the new target and its deployment. Once "hold"
 * is scaled to 0 the deployment finishes. Each time the apps run exactly their instances: the
 * same ids in Marathon, in the master and as real processes (found in /proc by MARATHON_APP_ID
 * and MESOS_TASK_ID in their environment), none lost (every earlier id is still there), none
 * doubled (3 ports stay free for a doubled launch to show). Real processes: it polls with
 * deadlines.
 *
 * Then Marathon is killed right after "hold" is scaled to 0 (kills stored, perhaps not sent or
 * not done: the restarted one sends them again and reconciles its tasks explicitly), and once
 * more while idle with its offers suppressed (the new scheduler must not inherit the old one's
 * suppression: a scale-up launches). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/types.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "tests/support/fs.h"
#include "tests/support/http.h"
#include "tests/support/local.h"
#include "tests/support/ports.h"
#include "tests/support/proc.h"
#include "tests/support/wait.h"

#define MAX_TASKS   32
#define TASK_ID_MAX 128
#define DEADLINE_MS 30000

typedef struct failover {
    support_local_t local;  /* master and agent */
    pid_t marathon;         /* the marathon process; 0 when not running */
    unsigned starts;        /* marathon processes started so far (names their logs) */
    uint16_t marathon_port; /* its --http_port (its actor port is 10000 above) */
    char framework_id[128]; /* Marathon's framework id, from the first start */
    char marathon_dir[96];  /* its --work_dir */
} failover_t;

typedef struct id_set {
    char ids[MAX_TASKS][TASK_ID_MAX];
    size_t count;
} id_set_t;

static void id_set_add(id_set_t *s, const char *id)
{
    for (size_t k = 0; k < s->count; k++) {
        if (strcmp(s->ids[k], id) == 0)
            return;
    }
    if (s->count < MAX_TASKS)
        snprintf(s->ids[s->count++], TASK_ID_MAX, "%s", id);
}

static bool id_set_has(const id_set_t *s, const char *id)
{
    for (size_t k = 0; k < s->count; k++) {
        if (strcmp(s->ids[k], id) == 0)
            return true;
    }
    return false;
}

/* Every id of `sub` is in `super`. */
static bool id_set_within(const id_set_t *sub, const id_set_t *super)
{
    for (size_t k = 0; k < sub->count; k++) {
        if (!id_set_has(super, sub->ids[k]))
            return false;
    }
    return true;
}

static bool id_set_equal(const id_set_t *a, const id_set_t *b)
{
    return a->count == b->count && id_set_within(a, b);
}

/* ---- marathon, the process ---- */

static void marathon_start(failover_t *f)
{
    char path[4200], master[64], port[32], work[128], err[128];
    snprintf(path, sizeof(path), "%s/marathon", f->local.bin_dir);
    snprintf(master, sizeof(master), "%s", f->local.master_flag);
    snprintf(port, sizeof(port), "--http_port=%u", f->marathon_port);
    snprintf(work, sizeof(work), "--work_dir=%s", f->marathon_dir);
    snprintf(err, sizeof(err), "%s/marathon.%u.err", f->local.work_dir, ++f->starts);
    char *argv[] = {"marathon", master, port, work, NULL};
    support_proc_io_t io;
    support_proc_io_init(&io);
    io.err = err;
    assert_int_equal(support_proc_spawn(path, argv, &io, &f->marathon), 0);
    long status = 0;
    int64_t deadline = support_now_ms() + DEADLINE_MS;
    do {
        free(support_http_text("GET", f->marathon_port, "/ping", NULL, &status));
        if (status != 200)
            support_sleep_ms(50);
    } while (status != 200 && support_now_ms() < deadline);
    assert_int_equal(status, 200);
}

static void marathon_kill9(failover_t *f)
{
    assert_int_equal(kill(f->marathon, SIGKILL), 0);
    assert_true(support_proc_wait(f->marathon, 10000, NULL));
    f->marathon = 0;
}

/* Marathon's framework id as /v2/info gives it, "" until it subscribed. */
static void marathon_framework_id(failover_t *f, char *out, size_t size)
{
    long status = 0;
    json_t *info = support_http_json("GET", f->marathon_port, "/v2/info", NULL, &status);
    const char *id = json_string_value(json_object_get(info, "frameworkId"));
    snprintf(out, size, "%s", status == 200 && id != NULL ? id : "");
    json_decref(info);
}

/* ---- What the master, Marathon and /proc say ---- */

typedef struct master_view {
    size_t frameworks; /* frameworks the master has (not completed) */
    bool active;       /* the one named by framework_id is active */
    bool known;        /* the one named by framework_id is there */
} master_view_t;

static void master_frameworks(failover_t *f, master_view_t *v)
{
    long status = 0;
    json_t *j = support_http_json("GET", f->local.port, "/frameworks", NULL, &status);
    memset(v, 0, sizeof(*v));
    const json_t *list = json_object_get(j, "frameworks");
    v->frameworks = json_array_size(list);
    size_t k;
    json_t *fw;
    json_array_foreach(list, k, fw)
    {
        const char *id = json_string_value(json_object_get(fw, "id"));
        if (id != NULL && strcmp(id, f->framework_id) == 0) {
            v->known = true;
            v->active = json_is_true(json_object_get(fw, "active"));
        }
    }
    json_decref(j);
}

/* The master's TASK_RUNNING tasks of the app whose ids start with `prefix` ("main."). */
static void master_running(failover_t *f, const char *prefix, id_set_t *out)
{
    long status = 0;
    json_t *j = support_http_json("GET", f->local.port, "/tasks?limit=1000", NULL, &status);
    memset(out, 0, sizeof(*out));
    size_t k;
    json_t *t;
    json_array_foreach(json_object_get(j, "tasks"), k, t)
    {
        const char *id = json_string_value(json_object_get(t, "id"));
        const char *state = json_string_value(json_object_get(t, "state"));
        if (id != NULL && state != NULL && strncmp(id, prefix, strlen(prefix)) == 0 &&
            strcmp(state, "TASK_RUNNING") == 0)
            id_set_add(out, id);
    }
    json_decref(j);
}

typedef struct app_view {
    long status;
    id_set_t running;   /* tasks in TASK_RUNNING */
    size_t tasks;       /* tasks listed, whatever their state */
    size_t deployments; /* the app's deployments in progress */
    int instances;      /* the app's target */
} app_view_t;

static void app_get(failover_t *f, const char *id, app_view_t *v)
{
    char path[128];
    snprintf(path, sizeof(path), "/v2/apps/%s?embed=app.tasks", id);
    memset(v, 0, sizeof(*v));
    json_t *j = support_http_json("GET", f->marathon_port, path, NULL, &v->status);
    const json_t *app = json_object_get(j, "app");
    v->deployments = json_array_size(json_object_get(app, "deployments"));
    v->instances = (int)json_integer_value(json_object_get(app, "instances"));
    const json_t *tasks = json_object_get(app, "tasks");
    v->tasks = json_array_size(tasks);
    size_t k;
    json_t *t;
    json_array_foreach(tasks, k, t)
    {
        const char *tid = json_string_value(json_object_get(t, "id"));
        const char *state = json_string_value(json_object_get(t, "state"));
        if (tid != NULL && state != NULL && strcmp(state, "TASK_RUNNING") == 0)
            id_set_add(&v->running, tid);
    }
    json_decref(j);
}

/* The live processes of this cluster (their sandbox is under its work directory: other tests
 * on the machine may run apps of the same name) whose environment says MARATHON_APP_ID=app_id
 * ("/main"): each task is one (its shell execs sleep). */
static size_t app_processes(const failover_t *f, const char *app_id)
{
    char needle[64];
    pid_t ours[MAX_TASKS * 4], app[MAX_TASKS * 2];
    snprintf(needle, sizeof(needle), "MARATHON_APP_ID=%s", app_id);
    size_t n_ours = support_proc_find_env(f->local.work_dir, ours, MAX_TASKS * 4);
    size_t n_app = support_proc_find_env(needle, app, MAX_TASKS * 2), n = 0;
    for (size_t i = 0; i < n_app; i++) {
        for (size_t k = 0; k < n_ours; k++)
            n += app[i] == ours[k];
    }
    return n;
}

/* The app's processes are exactly the tasks `ids`: one process each, and no other. */
static bool processes_are(const failover_t *f, const char *app_id, const id_set_t *ids)
{
    for (size_t k = 0; k < ids->count; k++) {
        char needle[TASK_ID_MAX + 16];
        pid_t pids[2];
        snprintf(needle, sizeof(needle), "MESOS_TASK_ID=%s", ids->ids[k]);
        if (support_proc_find_env(needle, pids, 2) != 1)
            return false;
    }
    return app_processes(f, app_id) == ids->count;
}

/* ---- Waits ---- */

typedef struct gone_arg {
    const failover_t *f;
    const char *app_id;
} gone_arg_t;

static bool no_processes(void *arg)
{
    const gone_arg_t *a = arg;
    return app_processes(a->f, a->app_id) == 0;
}

/* Waits until the app has no process left. */
static void wait_no_processes(const failover_t *f, const char *app_id)
{
    gone_arg_t a = {f, app_id};
    assert_true(support_wait_until(no_processes, &a, DEADLINE_MS, 20));
}

typedef struct settle_arg {
    failover_t *f;
    const char *id;
    size_t running; /* wanted TASK_RUNNING tasks */
    bool finished;  /* and no deployment left */
} settle_arg_t;

static bool settled(void *arg)
{
    settle_arg_t *a = arg;
    app_view_t v;
    app_get(a->f, a->id, &v);
    return v.status == 200 && v.running.count == a->running && v.tasks == a->running &&
           (!a->finished || v.deployments == 0);
}

static void wait_app(failover_t *f, const char *id, size_t running, bool finished)
{
    settle_arg_t a = {f, id, running, finished};
    if (!support_wait_until(settled, &a, DEADLINE_MS, 100)) {
        app_view_t v;
        app_get(f, id, &v);
        char path[128];
        snprintf(path, sizeof(path), "%s/marathon.%u.err", f->local.work_dir, f->starts);
        char *log = support_fs_read(path);
        size_t len = log != NULL ? strlen(log) : 0;
        print_message("marathon's log ends with:\n%s\n",
                      log != NULL ? log + (len > 4000 ? len - 4000 : 0) : "");
        free(log);
        fail_msg("%s: %zu running of %zu tasks, %zu deployments; wanted %zu running%s", id,
                 v.running.count, v.tasks, v.deployments, running, finished ? ", done" : "");
    }
}

static bool resubscribed(void *arg)
{
    failover_t *f = arg;
    master_view_t v;
    master_frameworks(f, &v);
    return v.frameworks == 1 && v.known && v.active;
}

static bool deactivated(void *arg)
{
    failover_t *f = arg;
    master_view_t v;
    master_frameworks(f, &v);
    return v.known && !v.active;
}

/* Kills Marathon, checks that the master saw it go, starts it again and waits until it is the
 * same framework again, the master's only one, active. */
static void marathon_failover(failover_t *f)
{
    marathon_kill9(f);
    assert_true(support_wait_until(deactivated, f, DEADLINE_MS, 50));
    marathon_start(f);
    assert_true(support_wait_until(resubscribed, f, DEADLINE_MS, 50));
    char id[128] = "";
    int64_t deadline = support_now_ms() + DEADLINE_MS;
    while (id[0] == '\0' && support_now_ms() < deadline) {
        marathon_framework_id(f, id, sizeof(id));
        if (id[0] == '\0')
            support_sleep_ms(50);
    }
    assert_string_equal(id, f->framework_id);
}

/* The app runs `running` instances in every view, the same ids everywhere, and keeps doing so
 * for a few allocation rounds (a doubled launch would show). Returns the ids. */
static void check_exact(failover_t *f, const char *id, const char *app_id, size_t running,
                        id_set_t *out)
{
    char prefix[64];
    snprintf(prefix, sizeof(prefix), "%s.", id);
    for (int round = 0; round < 4; round++) {
        app_view_t v;
        app_get(f, id, &v);
        id_set_t master;
        master_running(f, prefix, &master);
        size_t procs = app_processes(f, app_id);
        if (v.running.count != running || !id_set_equal(&v.running, &master) ||
            !processes_are(f, app_id, &v.running))
            fail_msg("%s: Marathon runs %zu, the master %zu, processes %zu; wanted %zu", id,
                     v.running.count, master.count, procs, running);
        assert_int_equal(v.tasks, running);
        *out = v.running;
        support_sleep_ms(500);
    }
}

static void api(failover_t *f, const char *method, const char *path, const char *body, long want)
{
    long status = 0;
    json_t *j = support_http_json(method, f->marathon_port, path, body, &status);
    if (status != want)
        print_message("%s %s answered %ld\n", method, path, status);
    assert_int_equal(status, want);
    json_decref(j);
}

/* ---- Fixture ---- */

static int setup(void **state)
{
    if (support_bin_dir() == NULL) {
        *state = NULL;
        return 0;
    }
    failover_t *f = calloc(1, sizeof(*f));
    *state = f;
    static const char *const flags[] = {"--switch_user=false", NULL};
    support_local_options_t opts;
    support_local_options_init(&opts);
    opts.name = "test_failover";
    opts.num_agents = 1;
    opts.resources = "cpus:4;mem:4096;disk:1000;ports:[31000-31011]";
    opts.flags = flags;
    support_local_start(&f->local, &opts);
    f->marathon_port = support_port_pair();
    snprintf(f->marathon_dir, sizeof(f->marathon_dir), "%s/marathon", f->local.work_dir);
    marathon_start(f);
    return 0;
}

static int teardown(void **state)
{
    failover_t *f = *state;
    if (f == NULL)
        return 0;
    if (f->marathon > 0)
        support_proc_stop(f->marathon, 10000);
    bool removed = support_local_stop(&f->local);
    free(f);
    return removed ? 0 : -1;
}

/* ---- The test ---- */

static void test_kill9_mid_deployment(void **state)
{
    failover_t *f = *state;
    if (f == NULL) {
        print_message("MESOS_TEST_BIN_DIR is not set (run through ctest)\n");
        skip();
    }
    /* "hold" takes 9 of the 12 ports; "main" starts 3 of its 6 and waits for ports. */
    api(f, "POST", "/v2/apps",
        "{\"id\": \"hold\", \"cmd\": \"exec sleep 600\", \"cpus\": 0.1, \"mem\": 16,"
        " \"instances\": 3, \"portDefinitions\": [{\"port\": 0}, {\"port\": 0}, {\"port\": 0}]}",
        201);
    wait_app(f, "hold", 3, true);
    int64_t deadline = support_now_ms() + DEADLINE_MS;
    while (f->framework_id[0] == '\0' && support_now_ms() < deadline) {
        marathon_framework_id(f, f->framework_id, sizeof(f->framework_id));
        if (f->framework_id[0] == '\0')
            support_sleep_ms(50);
    }
    assert_true(f->framework_id[0] != '\0');
    api(f, "POST", "/v2/apps",
        "{\"id\": \"main\", \"cmd\": \"exec sleep 600\", \"cpus\": 0.1, \"mem\": 16,"
        " \"instances\": 6, \"portDefinitions\": [{\"port\": 0}]}",
        201);
    wait_app(f, "main", 3, false);
    app_view_t before;
    app_get(f, "main", &before);
    assert_int_equal(before.deployments, 1);
    id_set_t hold_ids, main_ids;
    check_exact(f, "hold", "/hold", 3, &hold_ids);
    check_exact(f, "main", "/main", 3, &main_ids);

    /* Kill 1: the deployment is stuck on resources. */
    marathon_failover(f);
    app_view_t after;
    app_get(f, "main", &after);
    assert_int_equal(after.deployments, 1); /* kept */
    id_set_t ids;
    check_exact(f, "hold", "/hold", 3, &ids);
    assert_true(id_set_equal(&ids, &hold_ids));
    check_exact(f, "main", "/main", 3, &ids);
    assert_true(id_set_equal(&ids, &main_ids));

    /* Kill 2: as soon as a scale-up of the waiting app to 9 is accepted (durable; force, as
     * the app is locked by its deployment), before any of its launches can happen. */
    api(f, "PUT", "/v2/apps/main?force=true", "{\"instances\": 9}", 200);
    marathon_failover(f);
    app_get(f, "main", &after);
    assert_int_equal(after.instances, 9);
    assert_int_equal(after.deployments, 1);
    check_exact(f, "main", "/main", 3, &ids);
    assert_true(id_set_equal(&ids, &main_ids));

    /* Kill 3: as soon as "hold" is scaled to 0, with its kills stored but perhaps not sent or
     * not carried out. The restarted Marathon sends them again and reconciles its tasks
     * explicitly; freeing the ports lets the resumed deployment finish: the 3 kept and 6 more,
     * with 3 ports to spare for a doubled launch to show. */
    api(f, "PUT", "/v2/apps/hold", "{\"instances\": 0}", 200);
    marathon_failover(f);
    wait_app(f, "hold", 0, true);
    wait_app(f, "main", 9, true);
    check_exact(f, "hold", "/hold", 0, &ids);
    check_exact(f, "main", "/main", 9, &ids);
    assert_true(id_set_within(&main_ids, &ids));

    /* Kill 4: Marathon idle, its offers suppressed. The restarted one is not left suppressed by
     * its predecessor: a scale-up launches. */
    marathon_failover(f);
    api(f, "PUT", "/v2/apps/main", "{\"instances\": 10}", 200);
    wait_app(f, "main", 10, true);
    id_set_t ten;
    check_exact(f, "main", "/main", 10, &ten);
    assert_true(id_set_within(&ids, &ten));

    /* Destroyed, nothing of it is left. */
    api(f, "DELETE", "/v2/apps/main", NULL, 200);
    wait_no_processes(f, "/main");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_kill9_mid_deployment, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
