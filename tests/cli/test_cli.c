/* The `mesos` command-line tool end to end: a real mesos-local (a master, two agents with real
 * processes under the posix isolation, and Marathon) in a child process, and the real `mesos`
 * binary run against it for every command, its output read back (tables as text, --json
 * parsed). Real processes: it polls with deadlines. Every process it starts is stopped, every
 * file it writes is under one temporary directory that it removes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "tests/support/fs.h"
#include "tests/support/local.h"
#include "tests/support/ports.h"
#include "tests/support/proc.h"
#include "tests/support/run.h"
#include "tests/support/wait.h"

#define MAX_ARGS    16
#define CLI_WAIT_MS 60000 /* the longest a CLI run may take (--wait included) */

typedef struct cluster {
    support_local_t local;
    char cli[4200]; /* the mesos binary */
    char master_arg[64], marathon_arg[64];
} cluster_t;

/* What one run of the CLI did: its exit status (-1 when killed) and its output. */
typedef support_run_t run_t;

static cluster_t *cluster;

static void run_free(run_t *r)
{
    support_run_free(r);
}

static void path_in(char *buf, size_t len, const char *name)
{
    snprintf(buf, len, "%s/%s", cluster->local.work_dir, name);
}

/* Starts the CLI with args (NULL-terminated, after the binary's name), stdout and stderr to
 * cli.out and cli.err of the work directory, stdin from in_file (NULL: /dev/null), environment
 * env (NULL: ours). With addresses, --master and --marathon of the cluster come first. */
static pid_t start_cli(const char *const *args, bool addresses, const char *in_file,
                       char *const *env)
{
    char *argv[MAX_ARGS + 4];
    size_t n = 0;
    argv[n++] = cluster->cli;
    if (addresses) {
        argv[n++] = cluster->master_arg;
        argv[n++] = cluster->marathon_arg;
    }
    for (size_t i = 0; args[i] != NULL && n < MAX_ARGS + 3; i++)
        argv[n++] = (char *)args[i];
    argv[n] = NULL;
    return support_run_start(cluster->local.work_dir, "cli", cluster->cli, argv,
                             in_file != NULL ? in_file : "/dev/null", env);
}

static run_t finish_cli(pid_t pid)
{
    run_t r;
    support_run_finish(cluster->local.work_dir, "cli", pid, CLI_WAIT_MS, &r);
    return r;
}

/* Runs `mesos --master=... --marathon=... first ap...` to its end. */
static run_t run_va(const char *first, va_list ap)
{
    const char *args[MAX_ARGS + 1];
    size_t n = 0;
    for (const char *a = first; a != NULL && n < MAX_ARGS; a = va_arg(ap, const char *))
        args[n++] = a;
    args[n] = NULL;
    return finish_cli(start_cli(args, true, NULL, NULL));
}

/* Runs `mesos --master=... --marathon=... args...` (NULL-terminated) to its end. */
static run_t mesos_run(const char *first, ...)
{
    va_list ap;
    va_start(ap, first);
    run_t r = run_va(first, ap);
    va_end(ap);
    return r;
}

/* Runs a command that must succeed and returns its stdout parsed as JSON. */
static json_t *mesos_json(const char *first, ...)
{
    va_list ap;
    va_start(ap, first);
    run_t r = run_va(first, ap);
    va_end(ap);
    if (r.status != 0)
        print_error("mesos %s failed: %s\n", first, r.err);
    assert_int_equal(r.status, 0);
    json_error_t jerr;
    json_t *j = json_loads(r.out, 0, &jerr);
    if (j == NULL)
        print_error("not JSON (%s): %s\n", jerr.text, r.out);
    assert_non_null(j);
    run_free(&r);
    return j;
}

/* Expects a run to succeed with needle in its stdout. */
static void expect_ok(run_t r, const char *needle)
{
    if (r.status != 0 || strstr(r.out, needle) == NULL)
        print_error("status %d, stdout:\n%s\nstderr:\n%s\n", r.status, r.out, r.err);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, needle));
    run_free(&r);
}

/* Expects a run to fail with needle in its stderr. */
static void expect_fail(run_t r, const char *needle)
{
    if (r.status != 1 || strstr(r.err, needle) == NULL)
        print_error("status %d, stdout:\n%s\nstderr:\n%s\n", r.status, r.out, r.err);
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.err, needle));
    run_free(&r);
}

static void write_file(const char *name, const char *text, char *path, size_t len)
{
    path_in(path, len, name);
    assert_true(support_fs_write(path, text));
}

/* The app's tasksRunning, read through `mesos app show`. */
static int tasks_running(const char *id)
{
    json_t *app = mesos_json("app", "show", id, NULL);
    int n = (int)json_integer_value(json_object_get(app, "tasksRunning"));
    json_decref(app);
    return n;
}

static bool marathon_up(void *arg)
{
    (void)arg;
    run_t r = mesos_run("app", "list", NULL);
    bool up = r.status == 0;
    run_free(&r);
    return up;
}

static int setup(void **state)
{
    (void)state;
    if (support_bin_dir() == NULL)
        return 0;
    cluster = calloc(1, sizeof(*cluster));
    assert_non_null(cluster);
    const char *flags[] = {"--switch_user=false", NULL};
    support_local_start(
        &cluster->local,
        &(support_local_options_t){.name = "test_cli",
                                   .marathon = true,
                                   .resources = "cpus:2;mem:1024;disk:1000;ports:[31000-31100]",
                                   .flags = flags});
    snprintf(cluster->cli, sizeof(cluster->cli), "%s/mesos", cluster->local.bin_dir);
    snprintf(cluster->master_arg, sizeof(cluster->master_arg), "--master=%s",
             cluster->local.master);
    snprintf(cluster->marathon_arg, sizeof(cluster->marathon_arg),
             "--marathon=http://127.0.0.1:%u/", cluster->local.marathon_port);
    assert_true(support_wait_until(marathon_up, NULL, 10000, 50));
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    if (cluster == NULL)
        return 0;
    bool removed = support_local_stop(&cluster->local);
    free(cluster);
    cluster = NULL;
    assert_true(removed);
    return 0;
}

#define NEED_CLUSTER()                                                                             \
    do {                                                                                           \
        if (cluster == NULL) {                                                                     \
            print_message("MESOS_TEST_BIN_DIR is not set (run through ctest)\n");                  \
            skip();                                                                                \
        }                                                                                          \
    } while (0)

/* ---- tests ---- */

static void test_help(void **state)
{
    (void)state;
    NEED_CLUSTER();
    expect_ok(mesos_run("--help", NULL), "app scale ID N");
    expect_ok(mesos_run("app", "scale", "--help", NULL), "--wait");
    expect_ok(mesos_run("task", "log", "-h", NULL), "--follow");
    expect_ok(mesos_run("app", "--help", NULL), "app versions ID");
    expect_fail(mesos_run(NULL), "Usage: mesos");
    expect_fail(mesos_run("nope", NULL), "unknown command 'nope'");
    expect_fail(mesos_run("app", "nope", NULL), "unknown command 'app nope'");
    expect_fail(mesos_run("app", "list", "--follow", NULL), "does not take --follow");
    expect_fail(mesos_run("app", "scale", "/x", NULL), "takes ID N");
    expect_fail(mesos_run("app", "scale", "/x", "two", NULL), "whole number");
    expect_fail(mesos_run("agent", "list", "--bogus", NULL), "unknown option '--bogus'");
    expect_fail(mesos_run("app", "add", "--wait", "--timeout=-3", NULL), "--timeout");
}

static void test_agent_list(void **state)
{
    (void)state;
    NEED_CLUSTER();
    run_t r = mesos_run("agent", "list", NULL);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "Agent ID"));
    assert_non_null(strstr(r.out, "0/2"));
    json_t *agents = mesos_json("agent", "list", "--json", NULL);
    assert_int_equal(json_array_size(agents), 2);
    for (size_t i = 0; i < 2; i++) {
        const char *id = json_string_value(json_object_get(json_array_get(agents, i), "id"));
        assert_non_null(id);
        assert_non_null(strstr(r.out, id)); /* the table shows the same agents */
    }
    json_decref(agents);
    run_free(&r);
    /* The addresses from the environment instead of flags. */
    char master_env[64], marathon_env[64];
    snprintf(master_env, sizeof(master_env), "MESOS_MASTER=127.0.0.1:%u", cluster->local.port);
    snprintf(marathon_env, sizeof(marathon_env), "MARATHON_URL=127.0.0.1:%u",
             cluster->local.marathon_port);
    char *env[] = {master_env, marathon_env, NULL};
    const char *args[] = {"agent", "list", NULL};
    expect_ok(finish_cli(start_cli(args, false, NULL, env)), "Agent ID");
    const char *apps[] = {"app", "list", "--json", NULL};
    expect_ok(finish_cli(start_cli(apps, false, NULL, env)), "[");
}

static void test_framework_list(void **state)
{
    (void)state;
    NEED_CLUSTER();
    expect_ok(mesos_run("framework", "list", NULL), "marathon");
    json_t *frameworks = mesos_json("framework", "list", "--all", "--json", NULL);
    assert_int_equal(json_array_size(frameworks), 1);
    json_t *f = json_array_get(frameworks, 0);
    assert_string_equal(json_string_value(json_object_get(f, "name")), "marathon");
    assert_true(json_is_true(json_object_get(f, "active")));
    json_decref(frameworks);
}

static void test_app_lifecycle(void **state)
{
    (void)state;
    NEED_CLUSTER();
    char file[128];
    write_file("app.json",
               "{\"id\": \"/cli/life\", \"cmd\": \"sleep 600\", \"cpus\": 0.1, \"mem\": 16,"
               " \"instances\": 1}",
               file, sizeof(file));
    run_t r = mesos_run("app", "add", file, "--wait", NULL);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "Created deployment "));
    assert_non_null(strstr(r.out, " finished"));
    run_free(&r);
    assert_int_equal(tasks_running("/cli/life"), 1);
    expect_ok(mesos_run("app", "list", NULL), "/cli/life");
    json_t *apps = mesos_json("app", "list", "--json", NULL);
    assert_int_equal(json_array_size(apps), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(apps, 0), "id")),
                        "/cli/life");
    json_decref(apps);
    /* The task list shows its task, as a table and as JSON. */
    json_t *tasks = mesos_json("task", "list", "--json", NULL);
    assert_int_equal(json_array_size(tasks), 1);
    const char *task_id = json_string_value(json_object_get(json_array_get(tasks, 0), "id"));
    expect_ok(mesos_run("task", "list", NULL), task_id);
    json_decref(tasks);
    /* Scale (ids work without their '/'), restart, versions. */
    expect_ok(mesos_run("app", "scale", "cli/life", "3", "--wait", NULL), " finished");
    assert_int_equal(tasks_running("/cli/life"), 3);
    expect_ok(mesos_run("app", "list", NULL), "3/3");
    expect_ok(mesos_run("app", "restart", "/cli/life", "--wait", NULL), " finished");
    assert_int_equal(tasks_running("/cli/life"), 3);
    json_t *versions = mesos_json("app", "versions", "/cli/life", "--json", NULL);
    assert_true(json_array_size(versions) >= 2); /* the restart made a new version */
    expect_ok(mesos_run("app", "versions", "/cli/life", NULL),
              json_string_value(json_array_get(versions, 0)));
    json_decref(versions);
    /* --json of a write: Marathon's answer. */
    json_t *answer = mesos_json("app", "scale", "/cli/life", "1", "--json", "--wait", NULL);
    assert_non_null(json_object_get(answer, "deploymentId"));
    json_decref(answer);
    assert_int_equal(tasks_running("/cli/life"), 1);
    expect_ok(mesos_run("app", "remove", "/cli/life", "--wait", NULL), " finished");
    expect_fail(mesos_run("app", "show", "/cli/life", NULL), "App '/cli/life' does not exist");
    expect_ok(mesos_run("app", "list", NULL), "There are no apps.");
}

static void test_deployment_list(void **state)
{
    (void)state;
    NEED_CLUSTER();
    /* An app whose third instance fits on neither agent (2 CPUs each): its deployment runs
     * until the app is removed. */
    char file[128];
    write_file("stuck.json",
               "{\"id\": \"/cli/stuck\", \"cmd\": \"sleep 600\", \"cpus\": 1.5, \"mem\": 16,"
               " \"instances\": 3}",
               file, sizeof(file));
    run_t r = mesos_run("app", "add", file, "--wait", "--timeout=1", NULL);
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.err, "still runs after 1 s"));
    char id[128] = "";
    assert_int_equal(sscanf(r.out, "Created deployment %127s", id), 1);
    run_free(&r);
    expect_ok(mesos_run("deployment", "list", NULL), id);
    expect_ok(mesos_run("deployment", "list", NULL), "/cli/stuck");
    expect_ok(mesos_run("app", "list", NULL), "start");
    json_t *deployments = mesos_json("deployment", "list", "--json", NULL);
    assert_int_equal(json_array_size(deployments), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(deployments, 0), "id")),
                        id);
    json_decref(deployments);
    /* Locked by its deployment: Marathon's 409 and message, then --force, once the two
     * instances that fit run (a stop with no instance to kill ends inside Marathon's DELETE
     * handler, which then reads the freed deployment for its answer: a Marathon bug). */
    for (int i = 0; i < 300 && tasks_running("/cli/stuck") != 2; i++)
        usleep(50000);
    assert_int_equal(tasks_running("/cli/stuck"), 2);
    expect_fail(mesos_run("app", "scale", "/cli/stuck", "2", NULL), "answered 409: App is locked");
    expect_ok(mesos_run("app", "remove", "/cli/stuck", "--force", "--wait", NULL), " finished");
    expect_ok(mesos_run("deployment", "list", NULL), "There are no deployments.");
}

/* Waits up to 15 s for needle in the file; true when it came. */
static bool wait_for_text(const char *path, const char *needle)
{
    return support_fs_wait_text(path, needle, 15000);
}

static void test_task_log(void **state)
{
    (void)state;
    NEED_CLUSTER();
    char go[128], app[512], file[128];
    path_in(go, sizeof(go), "go");
    snprintf(app, sizeof(app),
             "{\"id\": \"/cli/log\", \"cpus\": 0.1, \"mem\": 16, \"cmd\": \"echo out-marker; echo "
             "err-marker >&2; while [ ! -e %s ]; do sleep 0.1; done; echo later-marker; sleep "
             "600\"}",
             go);
    write_file("log.json", app, file, sizeof(file));
    expect_ok(mesos_run("app", "add", file, "--wait", NULL), " finished");
    json_t *tasks = mesos_json("task", "list", "--json", NULL), *t;
    char task_id[256] = "";
    size_t i;
    json_array_foreach(tasks, i, t)
    {
        const char *id = json_string_value(json_object_get(t, "id"));
        if (strncmp(id, "cli_log.", 8) == 0)
            snprintf(task_id, sizeof(task_id), "%s", id);
    }
    json_decref(tasks);
    assert_true(task_id[0] != '\0');
    /* The task may have started a moment before its echo ran. */
    char out[128];
    path_in(out, sizeof(out), "cli.out");
    run_t r = {0};
    for (int k = 0; k < 100; k++) {
        r = mesos_run("task", "log", task_id, NULL);
        if (r.status != 0 || strstr(r.out, "out-marker") != NULL)
            break;
        run_free(&r);
        usleep(50000);
    }
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "out-marker\n"));
    assert_null(strstr(r.out, "err-marker"));
    run_free(&r);
    expect_ok(mesos_run("task", "log", task_id, "--stderr", NULL), "err-marker");
    expect_ok(mesos_run("task", "log", "cli_log", NULL), "out-marker"); /* a prefix */
    /* --follow prints what comes later. */
    const char *args[] = {"task", "log", task_id, "--follow", NULL};
    pid_t follow = start_cli(args, true, NULL, NULL);
    assert_true(wait_for_text(out, "out-marker"));
    char *text = support_fs_read(out);
    assert_null(strstr(text, "later-marker"));
    free(text);
    FILE *f = fopen(go, "w");
    assert_non_null(f);
    fclose(f);
    bool later = wait_for_text(out, "later-marker");
    kill(follow, SIGTERM);
    run_t followed = finish_cli(follow);
    run_free(&followed);
    assert_true(later);
    expect_ok(mesos_run("app", "remove", "/cli/log", "--wait", NULL), " finished");
}

static void test_errors(void **state)
{
    (void)state;
    NEED_CLUSTER();
    expect_fail(mesos_run("app", "show", "/nope", NULL),
                "Marathon answered 404: App '/nope' does not exist");
    expect_fail(mesos_run("app", "remove", "/nope", NULL), "App '/nope' does not exist");
    expect_fail(mesos_run("task", "log", "no-such-task", NULL), "no task 'no-such-task'");
    char file[128];
    write_file("bad.json", "{\"id\": \"/bad\",\n \"cmd\": }", file, sizeof(file));
    expect_fail(mesos_run("app", "add", file, NULL), "is not valid JSON");
    expect_fail(mesos_run("app", "add", file, NULL), "line 2");
    write_file("array.json", "[1, 2]", file, sizeof(file));
    const char *from_stdin[] = {"app", "add", NULL};
    expect_fail(finish_cli(start_cli(from_stdin, true, file, NULL)),
                "<stdin>: an app definition is a JSON object");
    write_file("invalid.json", "{\"id\": \"/bad\", \"cmd\": \"true\", \"cpus\": -1}", file,
               sizeof(file));
    run_t r = mesos_run("app", "add", file, NULL);
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.err, "answered 422: Object is not valid"));
    assert_non_null(strstr(r.err, "/cpus"));
    run_free(&r);
    /* Nothing listens on a fresh free port. */
    char master[64];
    snprintf(master, sizeof(master), "--master=127.0.0.1:%u", support_port_free());
    const char *args[] = {master, "agent", "list", NULL};
    expect_fail(finish_cli(start_cli(args, false, NULL, NULL)), "cannot reach the master at");
    const char *zk[] = {"--master=zk://127.0.0.1:2181/mesos", "agent", "list", NULL};
    expect_fail(finish_cli(start_cli(zk, false, NULL, NULL)), "ZooKeeper");
}

/* Reads the pty until the child exits; returns what it wrote (heap). */
static char *read_pty(int master_fd, pid_t child, int *status)
{
    char *text = calloc(1, 1);
    size_t len = 0;
    bool exited = false;
    for (int i = 0; i < 600; i++) {
        struct pollfd p = {master_fd, POLLIN, 0};
        char buf[4096];
        ssize_t n = 0;
        if (poll(&p, 1, 100) > 0 && (n = read(master_fd, buf, sizeof(buf))) > 0) {
            text = realloc(text, len + (size_t)n + 1);
            memcpy(text + len, buf, (size_t)n);
            len += (size_t)n;
            text[len] = '\0';
            continue;
        }
        if (exited)
            break; /* drained */
        exited = waitpid(child, status, WNOHANG) == child;
    }
    return text;
}

static void test_progress_bar(void **state)
{
    (void)state;
    NEED_CLUSTER();
    char file[128];
    write_file("bar.json",
               "{\"id\": \"/cli/bar\", \"cmd\": \"sleep 600\", \"cpus\": 0.1, \"mem\": 16,"
               " \"instances\": 2}",
               file, sizeof(file));
    /* On a terminal: the bar, ending full with the instances wanted. */
    int master_fd, slave_fd;
    assert_int_equal(openpty(&master_fd, &slave_fd, NULL, NULL, NULL), 0);
    char *argv[] = {
        cluster->cli, cluster->master_arg, cluster->marathon_arg, "app", "add", file, "--wait",
        NULL};
    assert_int_equal(fcntl(master_fd, F_SETFD, FD_CLOEXEC), 0); /* the CLI gets the slave only */
    support_proc_io_t io;
    support_proc_io_init(&io);
    io.out_fd = slave_fd;
    pid_t pid;
    assert_int_equal(support_proc_spawn(cluster->cli, argv, &io, &pid), 0);
    int status = -1;
    char *text = read_pty(master_fd, pid, &status);
    close(slave_fd);
    close(master_fd);
    if (strstr(text, "100%") == NULL)
        print_error("terminal output: %s\n", text);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    assert_non_null(strstr(text, "] 100%  step 1/1  instances: 2 running, 2 wanted"));
    assert_non_null(strstr(text, "finished"));
    free(text);
    /* Not a terminal: no bar. */
    run_t r = mesos_run("app", "remove", "/cli/bar", "--wait", NULL);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, " finished"));
    assert_null(strstr(r.out, "instances:"));
    run_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_help),
        cmocka_unit_test(test_agent_list),
        cmocka_unit_test(test_framework_list),
        cmocka_unit_test(test_app_lifecycle),
        cmocka_unit_test(test_deployment_list),
        cmocka_unit_test(test_task_log),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_progress_bar),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
