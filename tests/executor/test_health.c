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
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "actor/actor.h"
#include "actor/subprocess.h"
#include "internal.pb-c.h"
#include "mesos.pb-c.h"
#include "proto/task_states.h"

#define DEADLINE_MS 10000
#define TASK        "task-1"
#define RUNNING     MESOS__TASK_STATE__TASK_RUNNING
#define HEALTH_REASON                                                                              \
    MESOS__TASK_STATUS__REASON__REASON_TASK_HEALTH_CHECK_STATUS_UPDATED

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

static void on_register(actor_t *self, void *state, const actor_pid_t *from,
                        const ProtobufCMessage *msg)
{
    (void)state, (void)msg;
    Mesos__FrameworkID fid = MESOS__FRAMEWORK_ID__INIT;
    Mesos__FrameworkInfo fw = MESOS__FRAMEWORK_INFO__INIT;
    Mesos__ExecutorID eid = MESOS__EXECUTOR_ID__INIT;
    Mesos__ExecutorInfo info = MESOS__EXECUTOR_INFO__INIT;
    Mesos__AgentID aid = MESOS__AGENT_ID__INIT;
    Mesos__AgentInfo ainfo = MESOS__AGENT_INFO__INIT;
    Mesos__Internal__ExecutorRegisteredMessage reply =
        MESOS__INTERNAL__EXECUTOR_REGISTERED_MESSAGE__INIT;
    fid.value = "fw";
    fw.user = "nobody";
    fw.name = "health";
    fw.id = &fid;
    eid.value = "ex";
    info.executor_id = &eid;
    aid.value = "a1";
    ainfo.hostname = "localhost";
    ainfo.id = &aid;
    reply.executor_info = &info;
    reply.framework_id = &fid;
    reply.framework_info = &fw;
    reply.agent_id = &aid;
    reply.agent_info = &ainfo;
    actor_send(self, from, &reply.base);
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

/* A message for the executor, packed, sent from inside the agent. */
typedef struct outgoing {
    const char *type;
    size_t len;
    uint8_t bytes[];
} outgoing_t;

static void send_from_agent(actor_t *self, void *state, void *arg)
{
    (void)state;
    outgoing_t *out = arg;
    if (self != NULL) {
        pthread_mutex_lock(&agent.lock);
        actor_pid_t to = agent.executor;
        pthread_mutex_unlock(&agent.lock);
        actor_send_packed(self, &to, out->type, out->bytes, out->len);
    }
    free(out);
}

static void to_executor(const ProtobufCMessage *msg)
{
    size_t len = protobuf_c_message_get_packed_size(msg);
    outgoing_t *out = malloc(sizeof(*out) + len);
    assert_non_null(out);
    out->type = msg->descriptor->name;
    out->len = len;
    protobuf_c_message_pack(msg, out->bytes);
    assert_int_equal(actor_dispatch(&agent_pid, send_from_agent, out), ACTOR_OK);
}

/* Waits until n updates came; returns a copy of the n-th (from 1). */
static seen_update_t update_n(size_t n)
{
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += DEADLINE_MS / 1000;
    pthread_mutex_lock(&agent.lock);
    while (agent.count < n &&
           pthread_cond_timedwait(&agent.changed, &agent.lock, &deadline) == 0)
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

static void start_executor(void)
{
    static char vars[7][160];
    snprintf(vars[0], sizeof(vars[0]), "MESOS_AGENT_PID=slave(1)@127.0.0.1:%u", agent_port);
    snprintf(vars[1], sizeof(vars[1]), "MESOS_DIRECTORY=%s", sandbox);
    snprintf(vars[2], sizeof(vars[2]), "MESOS_SANDBOX=%s", sandbox);
    snprintf(vars[3], sizeof(vars[3]), "MESOS_FRAMEWORK_ID=fw");
    snprintf(vars[4], sizeof(vars[4]), "MESOS_EXECUTOR_ID=ex");
    snprintf(vars[5], sizeof(vars[5]), "MESOS_AGENT_ID=a1");
    snprintf(vars[6], sizeof(vars[6]), "PATH=/usr/local/bin:/usr/bin:/bin");
    char *envp[8];
    for (size_t i = 0; i < 7; i++)
        envp[i] = vars[i];
    envp[7] = NULL;
    const char *dir = getenv("MESOS_TEST_BIN_DIR");
    assert_non_null(dir);
    char path[512], out[128], err[128], message[256];
    snprintf(path, sizeof(path), "%s/mesos-executor", dir);
    snprintf(out, sizeof(out), "%s/stdout", sandbox);
    snprintf(err, sizeof(err), "%s/stderr", sandbox);
    char *argv[] = {"mesos-executor", NULL};
    actor_subprocess_options_t o = {.path = path,
                                    .argv = argv,
                                    .envp = envp,
                                    .cwd = sandbox,
                                    .stdout_path = out,
                                    .stderr_path = err,
                                    .new_session = true};
    if (actor_subprocess_spawn(&o, &executor, message, sizeof(message)) != ACTOR_OK)
        fail_msg("Cannot start %s: %s", path, message);
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
    const char *command;
    double delay, interval, timeout, grace;
    uint32_t failures;
    Mesos__HealthCheck__Type type; /* 0: COMMAND */
    const char *check_env;         /* "NAME=value" for the check's command, or NULL */
} check_spec_t;

/* Sends the task `command` (with FOO=bar in its environment) and its health check. */
static void run_task(const char *command, const check_spec_t *spec)
{
    Mesos__TaskID tid = MESOS__TASK_ID__INIT;
    Mesos__AgentID aid = MESOS__AGENT_ID__INIT;
    Mesos__CommandInfo cmd = MESOS__COMMAND_INFO__INIT, check_cmd = MESOS__COMMAND_INFO__INIT;
    Mesos__Environment env = MESOS__ENVIRONMENT__INIT, check_env = MESOS__ENVIRONMENT__INIT;
    Mesos__Environment__Variable foo = MESOS__ENVIRONMENT__VARIABLE__INIT, *foos[] = {&foo};
    Mesos__Environment__Variable extra = MESOS__ENVIRONMENT__VARIABLE__INIT, *extras[] = {&extra};
    Mesos__HealthCheck check = MESOS__HEALTH_CHECK__INIT;
    Mesos__HealthCheck__TCPCheckInfo tcp = MESOS__HEALTH_CHECK__TCPCHECK_INFO__INIT;
    Mesos__TaskInfo task = MESOS__TASK_INFO__INIT;
    Mesos__FrameworkID fid = MESOS__FRAMEWORK_ID__INIT;
    Mesos__FrameworkInfo fw = MESOS__FRAMEWORK_INFO__INIT;
    Mesos__Internal__RunTaskMessage m = MESOS__INTERNAL__RUN_TASK_MESSAGE__INIT;
    char name[64];
    foo.name = "FOO";
    foo.value = "bar";
    env.variables = foos;
    env.n_variables = 1;
    cmd.value = (char *)command;
    cmd.environment = &env;
    check_cmd.value = (char *)spec->command;
    if (spec->check_env != NULL) {
        const char *eq = strchr(spec->check_env, '=');
        snprintf(name, sizeof(name), "%.*s", (int)(eq - spec->check_env), spec->check_env);
        extra.name = name;
        extra.value = (char *)eq + 1;
        check_env.variables = extras;
        check_env.n_variables = 1;
        check_cmd.environment = &check_env;
    }
    check.has_type = true;
    check.type = spec->type != 0 ? spec->type : MESOS__HEALTH_CHECK__TYPE__COMMAND;
    check.command = check.type == MESOS__HEALTH_CHECK__TYPE__COMMAND ? &check_cmd : NULL;
    tcp.port = 1;
    check.tcp = check.type == MESOS__HEALTH_CHECK__TYPE__TCP ? &tcp : NULL;
    check.has_delay_seconds = check.has_interval_seconds = check.has_timeout_seconds = true;
    check.has_grace_period_seconds = check.has_consecutive_failures = true;
    check.delay_seconds = spec->delay;
    check.interval_seconds = spec->interval;
    check.timeout_seconds = spec->timeout;
    check.grace_period_seconds = spec->grace;
    check.consecutive_failures = spec->failures;
    tid.value = TASK;
    aid.value = "a1";
    task.name = TASK;
    task.task_id = &tid;
    task.agent_id = &aid;
    task.command = &cmd;
    task.health_check = &check;
    fid.value = "fw";
    fw.user = "nobody";
    fw.name = "health";
    fw.id = &fid;
    m.framework = &fw;
    m.framework_id = &fid;
    m.task = &task;
    to_executor(&m.base);
    assert_string_equal(mesos_task_state_name(update_n(1).state), "TASK_STARTING");
    seen_update_t running = update_n(2);
    assert_string_equal(mesos_task_state_name(running.state), "TASK_RUNNING");
    assert_int_equal(running.healthy, -1);
}

static void kill_task(void)
{
    Mesos__TaskID tid = MESOS__TASK_ID__INIT;
    Mesos__FrameworkID fid = MESOS__FRAMEWORK_ID__INIT;
    Mesos__Internal__KillTaskMessage m = MESOS__INTERNAL__KILL_TASK_MESSAGE__INIT;
    tid.value = TASK;
    fid.value = "fw";
    m.task_id = &tid;
    m.framework_id = &fid;
    to_executor(&m.base);
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

static const char *sandbox_text(const char *name)
{
    static char text[32768];
    char path[160];
    snprintf(path, sizeof(path), "%s/%s", sandbox, name);
    text[0] = '\0';
    FILE *f = fopen(path, "r");
    if (f != NULL) {
        text[fread(text, 1, sizeof(text) - 1, f)] = '\0';
        fclose(f);
    }
    return text;
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

/* Kills whatever children this process has left (tasks, checks, executors) and reaps them. */
static void reap_all(void)
{
    for (int round = 0; round < DEADLINE_MS; round++) {
        while (waitpid(-1, NULL, WNOHANG) > 0)
            ;
        int left = 0;
        DIR *proc = opendir("/proc");
        struct dirent *e;
        while (proc != NULL && (e = readdir(proc)) != NULL) {
            char path[64], stat[512];
            int pid = atoi(e->d_name);
            snprintf(path, sizeof(path), "/proc/%d/stat", pid);
            FILE *f = pid > 0 ? fopen(path, "r") : NULL;
            if (f == NULL)
                continue;
            stat[fread(stat, 1, sizeof(stat) - 1, f)] = '\0';
            fclose(f);
            const char *end = strrchr(stat, ')');
            int ppid = 0;
            if (end != NULL && sscanf(end + 2, "%*c %d", &ppid) == 1 && ppid == getpid()) {
                kill(-pid, SIGKILL);
                kill(pid, SIGKILL);
                left++;
            }
        }
        if (proc != NULL)
            closedir(proc);
        if (left == 0)
            return;
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
    if (executor > 0)
        fprintf(stderr, "mesos-executor's stderr:\n%s\n", sandbox_text("stderr"));
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
    run_task("sleep 60", &(check_spec_t){"exit 0", 0, 0.05, 5, 0, 3, 0, NULL});
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
    run_task("sleep 60", &(check_spec_t){"exit 1", 0, 0.05, 5, 0, 3, 0, NULL});
    expect_health(3, false);
    expect_health(4, false);
    expect_health(5, false);
    expect_terminal(6, "TASK_KILLED", 0, "Command terminated with signal Terminated");
    expect_executor_exit();
    assert_int_equal(update_count(), 6);
    assert_non_null(strstr(sandbox_text("stderr"),
                           "Health check of task task-1 failed 3 times consecutively: COMMAND "
                           "health check failed: Command returned exited with status 1"));
}

/* A check that outlives its timeout is killed and counts as failed. */
static void test_timeout(void **unused)
{
    (void)unused;
    start_executor();
    double t0 = now_s();
    run_task("sleep 60", &(check_spec_t){"echo $$ > check.pid; exec sleep 30", 0, 0.05, 0.2, 0,
                                         1, 0, NULL});
    expect_health(3, false);
    expect_terminal(4, "TASK_KILLED", 0, "Command terminated with signal Terminated");
    assert_true(now_s() - t0 < 5);
    assert_non_null(strstr(sandbox_text("stderr"),
                           "Command has not returned after 200ms; aborting"));
    pid_t check = (pid_t)atoi(sandbox_text("check.pid"));
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
    run_task("sleep 60", &(check_spec_t){"exit 1", 0, 0.05, 5, 0.5, 1, 0, NULL});
    double running = update_n(2).at;
    seen_update_t first = update_n(3);
    assert_true(first.at - running >= 0.45);
    expect_health(3, false);
    expect_terminal(4, "TASK_KILLED", 0, "Command terminated with signal Terminated");
    expect_executor_exit();
    assert_non_null(strstr(sandbox_text("stderr"), "still in its grace period"));
}

/* A success ends the grace period early: the next failure counts at once. */
static void test_success_ends_grace(void **unused)
{
    (void)unused;
    start_executor();
    run_task("sleep 60", &(check_spec_t){"test -e ready", 0, 0.05, 5, 60, 1, 0, NULL});
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
    run_task("sleep 60", &(check_spec_t){"test -e ok", 0, 0.05, 5, 0, 100, 0, NULL});
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
    run_task("sleep 60", &(check_spec_t){command, 0.4, 0.05, 5, 0, 1, 0, "BAZ=qux"});
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
    run_task("sleep 0.3", &(check_spec_t){"sleep 0.02; exit 1", 0, 0.01, 5, 0, 1000, 0, NULL});
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
    run_task("sleep 0.2", &(check_spec_t){NULL, 0, 0.05, 5, 0, 1, MESOS__HEALTH_CHECK__TYPE__TCP,
                                          NULL});
    expect_terminal(3, "TASK_FINISHED", -1, "Command exited with status 0");
    expect_executor_exit();
    assert_non_null(strstr(sandbox_text("stderr"),
                           "Failed to create health checker: TCP health checks are not "
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
