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
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <jansson.h>

#include "actor/http.h"

extern char **environ;

#define SCRIPT "echo seed-app-started; exec sleep 600\n"

typedef struct seed {
    pid_t local;
    uint16_t master_port, marathon_port, web_port;
    char work_dir[64];
    actor_pid_t web;
} seed_t;

/* A port whose neighbour 10000 above is free too (mesos-local's actor ports). */
static uint16_t free_port(void)
{
    for (int attempt = 0; attempt < 50; attempt++) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        socklen_t len = sizeof(sa);
        bind(fd, (struct sockaddr *)&sa, sizeof(sa));
        getsockname(fd, (struct sockaddr *)&sa, &len);
        close(fd);
        uint16_t port = ntohs(sa.sin_port);
        if (port < 20000 || port > 55000)
            continue;
        int fd2 = socket(AF_INET, SOCK_STREAM, 0);
        sa.sin_port = htons((uint16_t)(port + 10000));
        bool ok = bind(fd2, (struct sockaddr *)&sa, sizeof(sa)) == 0;
        close(fd2);
        if (ok)
            return port;
    }
    fail_msg("no free port pair");
    return 0;
}

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

static size_t collect(char *data, size_t size, size_t n, void *arg)
{
    char **buf = arg;
    size_t old = *buf ? strlen(*buf) : 0;
    char *grown = realloc(*buf, old + size * n + 1);
    memcpy(grown + old, data, size * n);
    grown[old + size * n] = '\0';
    *buf = grown;
    return size * n;
}

/* A Marathon API call: the parsed answer (NULL when empty) and the status. */
static json_t *api(seed_t *s, const char *method, const char *path, const char *body, long *status)
{
    char url[256], *text = NULL;
    snprintf(url, sizeof(url), "http://127.0.0.1:%u%s", s->marathon_port, path);
    CURL *curl = curl_easy_init();
    struct curl_slist *headers = curl_slist_append(NULL, "Content-Type: application/json");
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 10L);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &text);
    if (body != NULL)
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
    *status = 0;
    if (curl_easy_perform(curl) == CURLE_OK)
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, status);
    curl_slist_free_all(headers);
    curl_easy_cleanup(curl);
    json_t *json = text != NULL ? json_loads(text, 0, NULL) : NULL;
    free(text);
    return json;
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

/* Waits up to 30 s for the app to have `want` running tasks (-1: for it to be gone). */
static bool wait_running(seed_t *s, int want)
{
    for (int i = 0; i < 600; i++) {
        if (running(s) == want)
            return true;
        usleep(50000);
    }
    return false;
}

/* The pids of the processes whose environment holds `needle`. */
static size_t find_processes(const char *needle, pid_t *out, size_t max)
{
    DIR *d = opendir("/proc");
    struct dirent *ent;
    size_t n = 0;
    while (d != NULL && (ent = readdir(d)) != NULL && n < max) {
        pid_t pid = (pid_t)atoi(ent->d_name);
        char path[64], buf[16384];
        if (pid <= 0)
            continue;
        snprintf(path, sizeof(path), "/proc/%d/environ", (int)pid);
        FILE *f = fopen(path, "r");
        if (f == NULL)
            continue;
        size_t len = fread(buf, 1, sizeof(buf) - 1, f);
        fclose(f);
        buf[len] = '\0';
        for (size_t k = 0; k < len; k += strlen(buf + k) + 1) {
            if (strstr(buf + k, needle) != NULL) {
                out[n++] = pid;
                break;
            }
        }
    }
    if (d != NULL)
        closedir(d);
    return n;
}

static int setup(void **state)
{
    const char *bin = getenv("MESOS_TEST_BIN_DIR");
    if (bin == NULL) {
        *state = NULL;
        return 0;
    }
    seed_t *s = calloc(1, sizeof(*s));
    actor_runtime_options_t ro;
    actor_runtime_options_init(&ro);
    ro.port = -1;
    assert_int_equal(actor_runtime_start(&ro), ACTOR_OK);
    assert_int_equal(actor_spawn(&web_ops, "web", NULL, &s->web), ACTOR_OK);
    assert_int_equal(actor_http_listen("127.0.0.1", 0, NULL, &s->web_port), ACTOR_OK);
    snprintf(s->work_dir, sizeof(s->work_dir), "/tmp/test_seed.XXXXXX");
    assert_non_null(mkdtemp(s->work_dir));
    s->master_port = free_port();
    s->marathon_port = free_port();
    char path[4200], a_port[32], a_marathon[32], a_work[96];
    snprintf(path, sizeof(path), "%s/mesos-local", bin);
    snprintf(a_port, sizeof(a_port), "--port=%u", s->master_port);
    snprintf(a_marathon, sizeof(a_marathon), "--marathon_port=%u", s->marathon_port);
    snprintf(a_work, sizeof(a_work), "--work_dir=%s", s->work_dir);
    char *argv[] = {path,
                    a_port,
                    a_marathon,
                    a_work,
                    "--resources=cpus:2;mem:2048;disk:1000;ports:[31000-31100]",
                    "--switch_user=false",
                    NULL};
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    char log[128];
    snprintf(log, sizeof(log), "%s/mesos-local.log", s->work_dir);
    posix_spawn_file_actions_addopen(&fa, 2, log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_int_equal(posix_spawn(&s->local, path, &fa, NULL, argv, environ), 0);
    posix_spawn_file_actions_destroy(&fa);
    /* Marathon answers once it is up. */
    long status = 0;
    for (int i = 0; i < 200 && status != 200; i++) {
        json_decref(api(s, "GET", "/v2/info", NULL, &status));
        if (status != 200)
            usleep(50000);
    }
    assert_int_equal(status, 200);
    *state = s;
    return 0;
}

static int teardown(void **state)
{
    seed_t *s = *state;
    if (s == NULL)
        return 0;
    kill(s->local, SIGTERM);
    waitpid(s->local, NULL, 0);
    pid_t left[64];
    size_t n = find_processes(s->work_dir, left, 64); /* MESOS_SANDBOX names it */
    for (size_t k = 0; k < n; k++)
        kill(left[k], SIGKILL);
    actor_terminate(&s->web);
    actor_runtime_stop();
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", s->work_dir);
    assert_int_equal(system(cmd), 0);
    free(s);
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
             s->web_port);
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
             s->work_dir);
    FILE *p = popen(cmd, "r");
    int started = 0;
    assert_int_equal(fscanf(p, "%d", &started), 1);
    pclose(p);
    assert_int_equal(started, 2);
    /* Kill one task's process: Marathon replaces it. */
    pid_t tasks[8];
    assert_true(find_processes("MARATHON_APP_ID=/web-app", tasks, 8) >= 2);
    kill(tasks[0], SIGKILL);
    for (int i = 0; i < 600 && running(s) == 2; i++)
        usleep(20000); /* until Marathon hears of it */
    assert_true(wait_running(s, 2));
    j = api(s, "GET", "/v2/apps/web-app", NULL, &status);
    assert_non_null(json_object_get(json_object_get(j, "app"), "lastTaskFailure"));
    json_decref(j);
    /* Scale, then destroy. */
    json_decref(api(s, "PUT", "/v2/apps/web-app", "{\"instances\": 3}", &status));
    assert_int_equal(status, 200);
    assert_true(wait_running(s, 3));
    json_decref(api(s, "DELETE", "/v2/apps/web-app", NULL, &status));
    assert_int_equal(status, 200);
    assert_true(wait_running(s, -1));
    for (int i = 0; i < 200 && find_processes("MARATHON_APP_ID=/web-app", tasks, 8) > 0; i++)
        usleep(50000);
    assert_int_equal(find_processes("MARATHON_APP_ID=/web-app", tasks, 8), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_seed_app, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
