/* The seed's scenario end to end, with real processes: mesos-local (a master, two agents and
 * Marathon) in a child process; this process serves the app's script over HTTP; the app is
 * POSTed as the seed's app.json is (`cmd` the program, `args` its arguments, `uris` fetched into
 * the sandbox); both instances run the fetched script; a killed task process is replaced; the
 * app scales and is destroyed. The seed runs node; this test runs the same shape with /bin/sh so
 * that it needs nothing beyond the build. Real processes: it polls with deadlines. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>

#include <cmocka.h>
#include <jansson.h>

#include "actor/http.h"
#include "tests/support/http.h"
#include "tests/support/local.h"
#include "tests/support/proc.h"
#include "tests/support/wait.h"
#include "tests/support/web.h"

#define SCRIPT  "echo seed-app-started; exec sleep 600\n"
#define APP_ENV "MARATHON_APP_ID=/web-app"

typedef struct seed {
    support_local_t local;
    support_web_t *web; /* serves the app's script */
    int want;           /* the running tasks wait_running waits for */
} seed_t;

static void on_script(actor_t *self, void *state, actor_http_request_t *req)
{
    (void)self, (void)state;
    actor_http_respond(req, 200, "text/plain", NULL, 0, SCRIPT, strlen(SCRIPT));
}

static const actor_http_route_t web_routes[] = {{"/web-app.sh", "GET", on_script}};

static void web_init(actor_t *self, void *state, void *arg)
{
    (void)state, (void)arg;
    actor_http_install(self, web_routes, 1);
}

static const actor_ops_t web_ops = {.name = "web", .init = web_init};

/* A Marathon API call: the parsed answer (NULL when empty) and the status. */
static json_t *api(seed_t *s, const char *method, const char *path, const char *body, long *status)
{
    return support_http_json(method, s->local.marathon_port, path, body, status);
}

static int running(seed_t *s)
{
    long status = 0;
    json_t *j = api(s, "GET", "/v2/apps/web-app", NULL, &status);
    int n =
        status == 200
            ? (int)json_integer_value(json_object_get(json_object_get(j, "app"), "tasksRunning"))
            : -1;
    json_decref(j);
    return n;
}

static bool running_is_want(void *arg)
{
    seed_t *s = arg;
    return running(s) == s->want;
}

/* Marathon heard of a failed task: the app has a lastTaskFailure. */
static bool app_failed_once(void *arg)
{
    long status = 0;
    json_t *j = api(arg, "GET", "/v2/apps/web-app", NULL, &status);
    bool failed = json_object_get(json_object_get(j, "app"), "lastTaskFailure") != NULL;
    json_decref(j);
    return failed;
}

/* Waits up to 30 s for the app to have `want` running tasks (-1: for it to be gone). */
static bool wait_running(seed_t *s, int want)
{
    s->want = want;
    return support_wait_until(running_is_want, s, 30000, 50);
}

static bool app_processes_gone(void *arg)
{
    (void)arg;
    pid_t tasks[8];
    return support_proc_find_env(APP_ENV, tasks, 8) == 0;
}

static int setup(void **state)
{
    if (support_bin_dir() == NULL) {
        *state = NULL;
        return 0;
    }
    seed_t *s = calloc(1, sizeof(*s));
    assert_non_null(s);
    s->web = support_web_start(&web_ops, "web", false);
    assert_non_null(s->web);
    const char *flags[] = {"--switch_user=false", NULL};
    support_local_start(&s->local, &(support_local_options_t){
                                       .name = "test_seed",
                                       .marathon = true,
                                       .resources = "cpus:2;mem:2048;disk:1000;ports:[31000-31100]",
                                       .flags = flags});
    *state = s;
    return 0;
}

static int teardown(void **state)
{
    seed_t *s = *state;
    if (s == NULL)
        return 0;
    bool removed = support_local_stop(&s->local);
    support_web_stop(s->web);
    free(s);
    assert_true(removed);
    return 0;
}

static void test_seed_app(void **state)
{
    seed_t *s = *state;
    if (s == NULL) {
        print_message("MESOS_TEST_BIN_DIR is not set (run through ctest)\n");
        skip();
    }
    char app[512];
    snprintf(app, sizeof(app),
             "{\"id\": \"web-app\", \"cpus\": 0.5, \"mem\": 128, \"instances\": 2,"
             " \"uris\": [\"http://127.0.0.1:%u/web/web-app.sh\"],"
             " \"cmd\": \"/bin/sh\", \"args\": [\"web-app.sh\"]}",
             s->web->port);
    long status = 0;
    json_t *j = api(s, "POST", "/v2/apps", app, &status);
    assert_int_equal(status, 201);
    json_decref(j);
    assert_true(wait_running(s, 2));
    /* The fetched script runs in each sandbox. */
    char cmd[256];
    snprintf(cmd, sizeof(cmd),
             "cat %s/agents/*/slaves/*/frameworks/*/executors/*/runs/*/stdout "
             "| grep -c seed-app-started",
             s->local.work_dir);
    FILE *p = popen(cmd, "r");
    int started = 0;
    assert_int_equal(fscanf(p, "%d", &started), 1);
    pclose(p);
    assert_int_equal(started, 2);
    /* Kill one task's process: Marathon replaces it. */
    pid_t tasks[8];
    assert_true(support_proc_find_env(APP_ENV, tasks, 8) >= 2);
    kill(tasks[0], SIGKILL);
    assert_true(support_wait_until(app_failed_once, s, 30000, 50)); /* Marathon heard of it */
    assert_true(wait_running(s, 2));
    /* Scale, then destroy. */
    json_decref(api(s, "PUT", "/v2/apps/web-app", "{\"instances\": 3}", &status));
    assert_int_equal(status, 200);
    assert_true(wait_running(s, 3));
    json_decref(api(s, "DELETE", "/v2/apps/web-app", NULL, &status));
    assert_int_equal(status, 200);
    assert_true(wait_running(s, -1));
    support_wait_until(app_processes_gone, NULL, 10000, 50);
    assert_int_equal(support_proc_find_env(APP_ENV, tasks, 8), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_seed_app, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
