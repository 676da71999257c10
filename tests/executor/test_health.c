/* Health checks in the command executor (slave/executor/health.c): the real mesos-executor runs
 * a task whose TaskInfo carries a COMMAND HealthCheck, and an agent in this process ("slave(1)",
 * on a runtime with a transport on 127.0.0.1) registers it, acknowledges its status updates and
 * records them with the time they came. Checks use fractions of a second, so each test takes
 * well under two seconds of real time; waits poll with a deadline.
 *
 * This process is a child subreaper: the tasks and check commands the executor leaves behind
 * (in their own sessions) are ours to kill and reap in teardown. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <jansson.h>

#include "actor/actor.h"
#include "actor/pbjson.h"
#include "internal.pb-c.h"
#include "mesos.pb-c.h"
#include "proto/task_states.h"

#define DEADLINE_MS   10000
#define TASK          "task-1"
#define RUNNING       MESOS__TASK_STATE__TASK_RUNNING
#define HEALTH_REASON MESOS__TASK_STATUS__REASON__REASON_TASK_HEALTH_CHECK_STATUS_UPDATED

extern char **environ;

/* ---- the agent: registers the executor, acknowledges and records its updates ---- */

typedef struct seen_update {
    Mesos__TaskState state;
    int healthy; /* -1: unset */
    bool health_reason;
    char message[160];
    double at; /* monotonic seconds when it came */
} seen_update_t;

static struct {
    pthread_mutex_t lock;
    pthread_cond_t changed;
    seen_update_t updates[64];
    size_t count;
    actor_pid_t executor;
    bool registered;
} agent = {.lock = PTHREAD_MUTEX_INITIALIZER, .changed = PTHREAD_COND_INITIALIZER};

static uint16_t agent_port;
static actor_pid_t agent_pid;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Sends the message of type desc that json describes (stolen) from the agent to `to`. */
static void send_json(actor_t *self, const actor_pid_t *to, const ProtobufCMessageDescriptor *desc,
                      json_t *json)
{
    ProtobufCMessage *msg = NULL;
    char err[256];
    if (json == NULL || pbjson_to_message(desc, json, &msg, err, sizeof(err)) != ACTOR_OK)
        abort(); /* a bug in this test; not a cmocka assert: this may run on a worker thread */
    actor_send(self, to, msg);
    protobuf_c_message_free_unpacked(msg, NULL);
    json_decref(json);
}

static json_t *framework_json(void)
{
    return json_pack("{s:{s:s},s:s,s:s}", "id", "value", "fw", "user", "nobody", "name", "health");
}

static void on_register(actor_t *self, void *state, const actor_pid_t *from,
                        const ProtobufCMessage *msg)
{
    (void)state, (void)msg;
    send_json(self, from, &mesos__internal__executor_registered_message__descriptor,
              json_pack("{s:{s:{s:s}},s:{s:s},s:o,s:{s:s},s:{s:s,s:{s:s}}}", "executor_info",
                        "executor_id", "value", "ex", "framework_id", "value", "fw",
                        "framework_info", framework_json(), "agent_id", "value", "a1", "agent_info",
                        "hostname", "localhost", "id", "value", "a1"));
    pthread_mutex_lock(&agent.lock);
    agent.executor = *from;
    agent.registered = true;
    pthread_cond_broadcast(&agent.changed);
    pthread_mutex_unlock(&agent.lock);
}

static void on_update(actor_t *self, void *state, const actor_pid_t *from,
                      const ProtobufCMessage *msg)
{
    (void)state;
    const Mesos__Internal__StatusUpdate *u =
        ((const Mesos__Internal__StatusUpdateMessage *)msg)->update;
    const Mesos__TaskStatus *s = u->status;
    pthread_mutex_lock(&agent.lock);
    if (agent.count < sizeof(agent.updates) / sizeof(agent.updates[0])) {
        seen_update_t *seen = &agent.updates[agent.count++];
        seen->state = s->state;
        seen->healthy = s->has_healthy ? s->healthy : -1;
        seen->health_reason = s->has_reason && s->reason == HEALTH_REASON;
        snprintf(seen->message, sizeof(seen->message), "%s", s->message ? s->message : "");
        seen->at = now_s();
    }
    pthread_cond_broadcast(&agent.changed);
    pthread_mutex_unlock(&agent.lock);
    Mesos__Internal__StatusUpdateAcknowledgementMessage ack =
        MESOS__INTERNAL__STATUS_UPDATE_ACKNOWLEDGEMENT_MESSAGE__INIT;
    ack.agent_id = u->agent_id;
    ack.framework_id = u->framework_id;
    ack.task_id = s->task_id;
    ack.uuid = u->uuid;
    actor_send(self, from, &ack.base);
}

static const actor_handler_t agent_handlers[] = {
    {&mesos__internal__register_executor_message__descriptor, on_register},
    {&mesos__internal__status_update_message__descriptor, on_update},
};

static const actor_ops_t agent_ops = {
    .name = "slave", .handlers = agent_handlers, .handler_count = 2};

typedef struct outgoing {
    const ProtobufCMessageDescriptor *desc;
    json_t *json;
} outgoing_t;

static void send_outgoing(actor_t *self, void *state, void *arg)
{
    (void)state;
    outgoing_t *out = arg;
    pthread_mutex_lock(&agent.lock);
    actor_pid_t to = agent.executor;
    pthread_mutex_unlock(&agent.lock);
    if (self != NULL)
        send_json(self, &to, out->desc, out->json);
    else
        json_decref(out->json);
    free(out);
}

/* Sends the message json describes (stolen) from the agent to the executor. */
static void to_executor(const ProtobufCMessageDescriptor *desc, json_t *json)
{
    outgoing_t *out = malloc(sizeof(*out));
    assert_non_null(out);
    assert_non_null(json);
    *out = (outgoing_t){desc, json};
    assert_int_equal(actor_dispatch(&agent_pid, send_outgoing, out), ACTOR_OK);
}

/* Waits until n updates came; returns a copy of the n-th (from 1). */
static seen_update_t update_n(size_t n)
{
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += DEADLINE_MS / 1000;
    pthread_mutex_lock(&agent.lock);
    while (agent.count < n && pthread_cond_timedwait(&agent.changed, &agent.lock, &deadline) == 0)
        ;
    size_t count = agent.count;
    seen_update_t u = count >= n ? agent.updates[n - 1] : (seen_update_t){0};
    pthread_mutex_unlock(&agent.lock);
    if (count < n)
        fail_msg("%zu status updates came, expected at least %zu", count, n);
    return u;
}

static size_t update_count(void)
{
    pthread_mutex_lock(&agent.lock);
    size_t n = agent.count;
    pthread_mutex_unlock(&agent.lock);
    return n;
}

static void expect_health(size_t n, bool healthy)
{
    seen_update_t u = update_n(n);
    assert_string_equal(mesos_task_state_name(u.state), "TASK_RUNNING");
    assert_int_equal(u.healthy, healthy);
    assert_true(u.health_reason);
}

static void expect_terminal(size_t n, const char *state, int healthy, const char *message)
{
    seen_update_t u = update_n(n);
    assert_string_equal(mesos_task_state_name(u.state), state);
    assert_int_equal(u.healthy, healthy);
    assert_false(u.health_reason);
    assert_string_equal(u.message, message);
}

/* ---- the executor and its task ---- */

static char sandbox[64];
static pid_t executor;

/* Starts mesos-executor in the sandbox (its own session, its output in the sandbox's stdout and
 * stderr files) and waits for its registration. */
static void start_executor(void)
{
    const char *dir = getenv("MESOS_TEST_BIN_DIR");
    assert_non_null(dir);
    char program[512], agent_var[64], dir_var[96], sandbox_var[96];
    snprintf(program, sizeof(program), "%s/mesos-executor", dir);
    snprintf(agent_var, sizeof(agent_var), "MESOS_AGENT_PID=slave(1)@127.0.0.1:%u", agent_port);
    snprintf(dir_var, sizeof(dir_var), "MESOS_DIRECTORY=%s", sandbox);
    snprintf(sandbox_var, sizeof(sandbox_var), "MESOS_SANDBOX=%s", sandbox);
    char *envp[] = {agent_var,
                    dir_var,
                    sandbox_var,
                    "MESOS_FRAMEWORK_ID=fw",
                    "MESOS_EXECUTOR_ID=ex",
                    "MESOS_AGENT_ID=a1",
                    "PATH=/usr/local/bin:/usr/bin:/bin",
                    NULL};
    char *argv[] = {"mesos-executor", NULL};
    posix_spawn_file_actions_t actions;
    posix_spawnattr_t attr;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addchdir_np(&actions, sandbox);
    posix_spawn_file_actions_addopen(&actions, 1, "stdout", O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_addopen(&actions, 2, "stderr", O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawnattr_init(&attr);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID);
    int rc = posix_spawn(&executor, program, &actions, &attr, argv, envp);
    posix_spawnattr_destroy(&attr);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0)
        fail_msg("Cannot start %s: %s", program, strerror(rc));
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += DEADLINE_MS / 1000;
    pthread_mutex_lock(&agent.lock);
    while (!agent.registered && pthread_cond_timedwait(&agent.changed, &agent.lock, &deadline) == 0)
        ;
    bool registered = agent.registered;
    pthread_mutex_unlock(&agent.lock);
    assert_true(registered);
}

typedef struct check_spec {
    const char *type; /* "COMMAND", "TCP" */
    const char *command;
    double delay, interval, timeout, grace;
    uint32_t failures;
    const char *check_env; /* "NAME=value" for the check's command, or NULL */
} check_spec_t;

/* The HealthCheck of spec, as JSON. */
static json_t *check_json(const check_spec_t *spec)
{
    json_t *check =
        json_pack("{s:s,s:f,s:f,s:f,s:f,s:i}", "type", spec->type, "delay_seconds", spec->delay,
                  "interval_seconds", spec->interval, "timeout_seconds", spec->timeout,
                  "grace_period_seconds", spec->grace, "consecutive_failures", (int)spec->failures);
    if (strcmp(spec->type, "TCP") == 0)
        json_object_set_new(check, "tcp", json_pack("{s:i}", "port", 1));
    if (spec->command == NULL)
        return check;
    json_t *command = json_pack("{s:s}", "value", spec->command);
    if (spec->check_env != NULL) {
        const char *eq = strchr(spec->check_env, '=');
        json_object_set_new(command, "environment",
                            json_pack("{s:[{s:s%,s:s}]}", "variables", "name", spec->check_env,
                                      (size_t)(eq - spec->check_env), "value", eq + 1));
    }
    json_object_set_new(check, "command", command);
    return check;
}

/* Sends the task `command` (with FOO=bar in its environment) and its health check; waits for
 * TASK_STARTING and TASK_RUNNING. */
static void run_task(const char *command, const check_spec_t *spec)
{
    json_t *task = json_pack("{s:s,s:{s:s},s:{s:s},s:{s:s,s:{s:[{s:s,s:s}]}},s:o}", "name", TASK,
                             "task_id", "value", TASK, "agent_id", "value", "a1", "command",
                             "value", command, "environment", "variables", "name", "FOO", "value",
                             "bar", "health_check", check_json(spec));
    to_executor(&mesos__internal__run_task_message__descriptor,
                json_pack("{s:o,s:{s:s},s:o}", "framework", framework_json(), "framework_id",
                          "value", "fw", "task", task));
    assert_string_equal(mesos_task_state_name(update_n(1).state), "TASK_STARTING");
    seen_update_t running = update_n(2);
    assert_string_equal(mesos_task_state_name(running.state), "TASK_RUNNING");
    assert_int_equal(running.healthy, -1);
}

static void kill_task(void)
{
    to_executor(
        &mesos__internal__kill_task_message__descriptor,
        json_pack("{s:{s:s},s:{s:s}}", "task_id", "value", TASK, "framework_id", "value", "fw"));
}

/* Waits for the executor to exit 0 (it does once its terminal update was acknowledged). */
static void expect_executor_exit(void)
{
    int status = -1;
    for (int i = 0; i < DEADLINE_MS && executor > 0; i++) {
        if (waitpid(executor, &status, WNOHANG) == executor) {
            executor = 0;
            break;
        }
        struct timespec ms = {0, 1000000};
        nanosleep(&ms, NULL);
    }
    assert_int_equal(executor, 0);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* Reads the sandbox file `name` into buf (NUL-terminated, "" when missing); returns buf. */
static char *slurp(const char *name, char *buf, size_t len)
{
    char path[160];
    snprintf(path, sizeof(path), "%s/%s", sandbox, name);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    size_t used = 0;
    for (ssize_t n = 1; fd >= 0 && n > 0 && used<len - 1; used += n> 0 ? (size_t)n : 0)
        n = read(fd, buf + used, len - 1 - used);
    if (fd >= 0)
        close(fd);
    buf[used] = '\0';
    return buf;
}

/* Whether the executor logged text (its stderr is in the sandbox). */
static bool logged(const char *text)
{
    static char log[65536];
    return strstr(slurp("stderr", log, sizeof(log)), text) != NULL;
}

static void sandbox_touch(const char *name, bool present)
{
    char path[160];
    snprintf(path, sizeof(path), "%s/%s", sandbox, name);
    if (!present) {
        assert_int_equal(unlink(path), 0);
        return;
    }
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fclose(f);
}

/* Settles real time: lets the executor do what it would. */
static void pause_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* ---- fixtures ---- */

/* This process's children: what /proc says each process's parent is. */
static size_t list_children(pid_t *out, size_t cap)
{
    size_t n = 0;
    DIR *proc = opendir("/proc");
    for (struct dirent *e = proc ? readdir(proc) : NULL; e != NULL; e = readdir(proc)) {
        char path[300], line[128];
        snprintf(path, sizeof(path), "/proc/%s/status", e->d_name);
        FILE *f = isdigit((unsigned char)e->d_name[0]) ? fopen(path, "r") : NULL;
        int ppid = -1;
        while (f != NULL && fgets(line, sizeof(line), f) != NULL && ppid < 0)
            sscanf(line, "PPid: %d", &ppid);
        if (f != NULL)
            fclose(f);
        if (ppid == getpid() && n < cap)
            out[n++] = (pid_t)atoi(e->d_name);
    }
    if (proc != NULL)
        closedir(proc);
    return n;
}

/* Kills and reaps whatever children are left: executors, and the tasks and checks they left to
 * this subreaper. */
static void reap_all(void)
{
    pid_t children[64];
    for (int round = 0; round < DEADLINE_MS; round++) {
        size_t n = list_children(children, 64);
        if (n == 0)
            return;
        for (size_t i = 0; i < n; i++) {
            kill(-children[i], SIGKILL); /* each leads its own session */
            kill(children[i], SIGKILL);
        }
        while (waitpid(-1, NULL, WNOHANG) > 0)
            ;
        pause_ms(1);
    }
}

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

static int group_setup(void **unused)
{
    (void)unused;
    return prctl(PR_SET_CHILD_SUBREAPER, 1);
}

static int setup(void **unused)
{
    (void)unused;
    snprintf(sandbox, sizeof(sandbox), "/tmp/test_health.XXXXXX");
    if (mkdtemp(sandbox) == NULL)
        return -1;
    agent.count = 0;
    agent.registered = false;
    executor = 0;
    actor_runtime_options_t opts;
    actor_runtime_options_init(&opts);
    opts.workers = 1;
    opts.ip = "127.0.0.1";
    opts.port = 0;
    if (actor_runtime_start(&opts) != ACTOR_OK)
        return -1;
    uint32_t ip;
    actor_runtime_address(&ip, &agent_port);
    return actor_spawn(&agent_ops, "slave(1)", NULL, &agent_pid) == ACTOR_OK ? 0 : -1;
}

static int teardown(void **unused)
{
    (void)unused;
    static char log[65536];
    if (executor > 0) /* a failed test: show what the executor said */
        fprintf(stderr, "mesos-executor's stderr:\n%s\n", slurp("stderr", log, sizeof(log)));
    reap_all();
    actor_runtime_stop();
    return nftw(sandbox, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
}

/* ---- tests ---- */

/* `exit 0`: one healthy update, on the first success only. */
static void test_healthy(void **unused)
{
    (void)unused;
    start_executor();
    run_task("sleep 60", &(check_spec_t){"COMMAND", "exit 0", 0, 0.05, 5, 0, 3, NULL});
    expect_health(3, true);
    pause_ms(300); /* several more successes */
    assert_int_equal(update_count(), 3);
    kill_task();
    expect_terminal(4, "TASK_KILLED", -1, "Command terminated with signal Terminated");
    expect_executor_exit();
}

/* `exit 1`: unhealthy on each failure, killed at the consecutive_failures-th, and the terminal
 * update says unhealthy. */
static void test_unhealthy_is_killed(void **unused)
{
    (void)unused;
    start_executor();
    run_task("sleep 60", &(check_spec_t){"COMMAND", "exit 1", 0, 0.05, 5, 0, 3, NULL});
    expect_health(3, false);
    expect_health(4, false);
    expect_health(5, false);
    expect_terminal(6, "TASK_KILLED", 0, "Command terminated with signal Terminated");
    expect_executor_exit();
    assert_int_equal(update_count(), 6);
    assert_true(logged("Health check of task task-1 failed 3 times consecutively: COMMAND "
                       "health check failed: Command returned exited with status 1"));
}

/* A check that outlives its timeout is killed and counts as failed. */
static void test_timeout(void **unused)
{
    (void)unused;
    start_executor();
    double t0 = now_s();
    run_task("sleep 60", &(check_spec_t){"COMMAND", "echo $$ > check.pid; exec sleep 30", 0, 0.05,
                                         0.2, 0, 1, NULL});
    expect_health(3, false);
    expect_terminal(4, "TASK_KILLED", 0, "Command terminated with signal Terminated");
    assert_true(now_s() - t0 < 5);
    assert_true(logged("Command has not returned after 200ms; aborting"));
    char pid_text[32];
    pid_t check = (pid_t)atoi(slurp("check.pid", pid_text, sizeof(pid_text)));
    assert_true(check > 0);
    expect_executor_exit(); /* the executor reaped its check before it exited */
    assert_int_equal(kill(check, 0), -1);
    assert_int_equal(errno, ESRCH);
}

/* Failures within the grace period, before any success, are not reported. */
static void test_grace_period(void **unused)
{
    (void)unused;
    start_executor();
    run_task("sleep 60", &(check_spec_t){"COMMAND", "exit 1", 0, 0.05, 5, 0.5, 1, NULL});
    double running = update_n(2).at;
    seen_update_t first = update_n(3);
    assert_true(first.at - running >= 0.45);
    expect_health(3, false);
    expect_terminal(4, "TASK_KILLED", 0, "Command terminated with signal Terminated");
    expect_executor_exit();
    assert_true(logged("still in its grace period"));
}

/* A success ends the grace period early: the next failure counts at once. */
static void test_success_ends_grace(void **unused)
{
    (void)unused;
    start_executor();
    run_task("sleep 60", &(check_spec_t){"COMMAND", "test -e ready", 0, 0.05, 5, 60, 1, NULL});
    pause_ms(200); /* failures in the grace period: nothing */
    assert_int_equal(update_count(), 2);
    sandbox_touch("ready", true);
    expect_health(3, true);
    sandbox_touch("ready", false);
    expect_health(4, false);
    expect_terminal(5, "TASK_KILLED", 0, "Command terminated with signal Terminated");
    expect_executor_exit();
}

/* Healthy again after failures: one healthy update, then quiet. */
static void test_recovery(void **unused)
{
    (void)unused;
    start_executor();
    run_task("sleep 60", &(check_spec_t){"COMMAND", "test -e ok", 0, 0.05, 5, 0, 100, NULL});
    expect_health(3, false);
    expect_health(4, false);
    sandbox_touch("ok", true);
    size_t n = 5;
    for (seen_update_t u = update_n(n); u.healthy == 0; u = update_n(++n))
        ; /* failures that ran before the file came */
    expect_health(n, true);
    pause_ms(200);
    assert_int_equal(update_count(), n);
    kill_task();
    expect_terminal(n + 1, "TASK_KILLED", -1, "Command terminated with signal Terminated");
    expect_executor_exit();
}

/* The check runs in the sandbox with the task's environment and its own variables. */
static void test_environment_and_delay(void **unused)
{
    (void)unused;
    start_executor();
    char command[256];
    snprintf(command, sizeof(command),
             "test \"$FOO\" = bar && test \"$BAZ\" = qux && test \"$MESOS_TASK_ID\" = task-1 && "
             "test \"$(pwd)\" = %s",
             sandbox);
    run_task("sleep 60", &(check_spec_t){"COMMAND", command, 0.4, 0.05, 5, 0, 1, "BAZ=qux"});
    double running = update_n(2).at;
    expect_health(3, true);
    assert_true(update_n(3).at - running >= 0.35); /* delay_seconds */
    kill_task();
    expect_terminal(4, "TASK_KILLED", -1, "Command terminated with signal Terminated");
    expect_executor_exit();
}

/* A task that ends stops its checks: its terminal update is the last. */
static void test_task_end_stops_checks(void **unused)
{
    (void)unused;
    start_executor();
    run_task("sleep 0.3",
             &(check_spec_t){"COMMAND", "sleep 0.02; exit 1", 0, 0.01, 5, 0, 1000, NULL});
    seen_update_t u;
    size_t n = 3;
    for (u = update_n(n); u.state == RUNNING; u = update_n(++n))
        assert_int_equal(u.healthy, 0);
    expect_terminal(n, "TASK_FINISHED", -1, "Command exited with status 0");
    expect_executor_exit();
    assert_int_equal(update_count(), n);
}

/* As Mesos: a check the executor cannot run is logged; the task runs unchecked. */
static void test_unsupported_check(void **unused)
{
    (void)unused;
    start_executor();
    run_task("sleep 0.2", &(check_spec_t){"TCP", NULL, 0, 0.05, 5, 0, 1, NULL});
    expect_terminal(3, "TASK_FINISHED", -1, "Command exited with status 0");
    expect_executor_exit();
    assert_true(logged("Failed to create health checker: TCP health checks are not "
                       "supported by this executor"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_healthy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unhealthy_is_killed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_timeout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_grace_period, setup, teardown),
        cmocka_unit_test_setup_teardown(test_success_ends_grace, setup, teardown),
        cmocka_unit_test_setup_teardown(test_recovery, setup, teardown),
        cmocka_unit_test_setup_teardown(test_environment_and_delay, setup, teardown),
        cmocka_unit_test_setup_teardown(test_task_end_stops_checks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unsupported_check, setup, teardown),
    };
    return cmocka_run_group_tests(tests, group_setup, NULL);
}
