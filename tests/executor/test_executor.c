/* Multi-process tests of mesos-executor (executor.c): this process runs a runtime with a
 * transport on 127.0.0.1 and a fake agent actor, "slave(1)", that records what the executor
 * sends and answers as an agent would (registration, acknowledgements, reregistration); each
 * test starts the real build/bin/mesos-executor in a fresh sandbox with Mesos's executor
 * environment. An agent restart is the whole runtime stopped and started again on the same
 * port, with a new "slave(1)".
 *
 * Waits poll with a deadline: the fake agent signals a condition variable for each message, and
 * the executor's exit is a pidfd with a poll timeout. This process is a child subreaper, so that
 * whatever a failed test leaves behind (tasks in their own sessions) is ours to kill and reap in
 * teardown. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "actor/actor.h"
#include "actor/subprocess.h"
#include "internal.pb-c.h"
#include "mesos.pb-c.h"
#include "proto/task_states.h"
#include "tests/support/executor_messages.h"

#define WAIT_MS       10000
#define FRAMEWORK_ID  "fw-1"
#define EXECUTOR_ID   "ex-1"
#define AGENT_ID      "agent-1"
#define KILLING_STATE MESOS__FRAMEWORK_INFO__CAPABILITY__TYPE__TASK_KILLING_STATE
#define STATE(s)      MESOS__TASK_STATE__TASK_##s

extern char **environ;

/* ---- the fake agent ---- */

typedef struct record {
    char type[96];
    uint8_t *data;
    size_t len;
} record_t;

static struct {
    pthread_mutex_t lock; /* everything below */
    pthread_cond_t cv;    /* a message was recorded */
    record_t *records;
    size_t count, cap;
    actor_pid_t executor; /* the sender of the first RegisterExecutorMessage */
    bool answer_register; /* answer RegisterExecutorMessage */
    bool auto_ack;        /* acknowledge every status update */
    bool killing_state;   /* the framework has TASK_KILLING_STATE */
} fake = {.lock = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};

static actor_pid_t agent_pid;
static uint16_t agent_port;

static void fake_set(bool answer_register, bool auto_ack, bool killing_state)
{
    pthread_mutex_lock(&fake.lock);
    fake.answer_register = answer_register;
    fake.auto_ack = auto_ack;
    fake.killing_state = killing_state;
    pthread_mutex_unlock(&fake.lock);
}

static void fill_framework(Mesos__FrameworkInfo *fw, Mesos__FrameworkID *id,
                           Mesos__FrameworkInfo__Capability *cap,
                           Mesos__FrameworkInfo__Capability **caps)
{
    id->value = FRAMEWORK_ID;
    fw->user = "root";
    fw->name = "test";
    fw->id = id;
    cap->has_type = true;
    cap->type = KILLING_STATE;
    caps[0] = cap;
    fw->capabilities = caps;
    fw->n_capabilities = fake.killing_state ? 1 : 0;
}

static void answer_register(actor_t *self, const actor_pid_t *to)
{
    Mesos__ExecutorID eid = MESOS__EXECUTOR_ID__INIT;
    Mesos__ExecutorInfo info = MESOS__EXECUTOR_INFO__INIT;
    Mesos__FrameworkID fid = MESOS__FRAMEWORK_ID__INIT;
    Mesos__FrameworkInfo fw = MESOS__FRAMEWORK_INFO__INIT;
    Mesos__FrameworkInfo__Capability cap = MESOS__FRAMEWORK_INFO__CAPABILITY__INIT, *caps[1];
    Mesos__AgentID aid = MESOS__AGENT_ID__INIT;
    Mesos__AgentInfo agent = MESOS__AGENT_INFO__INIT;
    Mesos__Internal__ExecutorRegisteredMessage m =
        MESOS__INTERNAL__EXECUTOR_REGISTERED_MESSAGE__INIT;
    eid.value = EXECUTOR_ID;
    info.executor_id = &eid;
    fill_framework(&fw, &fid, &cap, caps);
    aid.value = AGENT_ID;
    agent.hostname = "agent.test";
    agent.id = &aid;
    m.executor_info = &info;
    m.framework_id = &fid;
    m.framework_info = &fw;
    m.agent_id = &aid;
    m.agent_info = &agent;
    actor_send(self, to, &m.base);
}

static void acknowledge(actor_t *self, const actor_pid_t *to,
                        const Mesos__Internal__StatusUpdate *u)
{
    status_ack_t ack;
    status_ack_init(&ack, AGENT_ID, u);
    actor_send(self, to, &ack.msg.base);
}

static void answer_reregister(actor_t *self, const actor_pid_t *to,
                              const Mesos__Internal__ReregisterExecutorMessage *m, bool ack)
{
    Mesos__AgentID aid = MESOS__AGENT_ID__INIT;
    Mesos__AgentInfo agent = MESOS__AGENT_INFO__INIT;
    Mesos__Internal__ExecutorReregisteredMessage r =
        MESOS__INTERNAL__EXECUTOR_REREGISTERED_MESSAGE__INIT;
    aid.value = AGENT_ID;
    agent.hostname = "agent.test";
    r.agent_id = &aid;
    r.agent_info = &agent;
    actor_send(self, to, &r.base);
    for (size_t i = 0; ack && i < m->n_updates; i++)
        acknowledge(self, to, m->updates[i]);
}

static void fake_on_any(actor_t *self, void *state, const actor_pid_t *from,
                        const ProtobufCMessage *msg)
{
    (void)state;
    pthread_mutex_lock(&fake.lock);
    if (fake.count == fake.cap) {
        fake.cap = fake.cap ? 2 * fake.cap : 32;
        fake.records = realloc(fake.records, fake.cap * sizeof(*fake.records));
        if (fake.records == NULL)
            abort(); /* not a cmocka assert: this runs on a worker thread */
    }
    record_t *r = &fake.records[fake.count++];
    snprintf(r->type, sizeof(r->type), "%s", msg->descriptor->name);
    r->len = protobuf_c_message_get_packed_size(msg);
    r->data = malloc(r->len + 1);
    protobuf_c_message_pack(msg, r->data);
    bool registering = msg->descriptor == &mesos__internal__register_executor_message__descriptor;
    if (registering)
        fake.executor = *from;
    bool answer = fake.answer_register, ack = fake.auto_ack;
    pthread_cond_broadcast(&fake.cv);
    pthread_mutex_unlock(&fake.lock);

    if (registering && answer)
        answer_register(self, from);
    if (msg->descriptor == &mesos__internal__status_update_message__descriptor && ack)
        acknowledge(self, from, ((const Mesos__Internal__StatusUpdateMessage *)msg)->update);
    if (msg->descriptor == &mesos__internal__reregister_executor_message__descriptor)
        answer_reregister(self, from, (const void *)msg, ack);
}

static const actor_handler_t fake_handlers[] = {
    {&mesos__internal__register_executor_message__descriptor, fake_on_any},
    {&mesos__internal__status_update_message__descriptor, fake_on_any},
    {&mesos__internal__reregister_executor_message__descriptor, fake_on_any},
};

static const actor_ops_t fake_ops = {
    .name = "slave", .handlers = fake_handlers, .handler_count = 3};

/* Starts the runtime on port (0 = any) and spawns "slave(1)". */
static void agent_start(uint16_t port)
{
    actor_runtime_options_t opts;
    actor_runtime_options_init(&opts);
    opts.workers = 1;
    opts.ip = "127.0.0.1";
    opts.port = port;
    assert_int_equal(actor_runtime_start(&opts), ACTOR_OK);
    uint32_t ip;
    actor_runtime_address(&ip, &agent_port);
    assert_int_equal(actor_spawn(&fake_ops, "slave(1)", NULL, &agent_pid), ACTOR_OK);
}

typedef struct packed {
    const char *type;
    size_t len;
    uint8_t data[];
} packed_t;

static void send_in_agent(actor_t *self, void *state, void *arg)
{
    (void)state;
    packed_t *p = arg;
    if (self != NULL) {
        pthread_mutex_lock(&fake.lock);
        actor_pid_t to = fake.executor;
        pthread_mutex_unlock(&fake.lock);
        actor_send_packed(self, &to, p->type, p->data, p->len);
    }
    free(p);
}

/* Sends msg from the fake agent to the executor. */
static void agent_send(const ProtobufCMessage *msg)
{
    size_t len = protobuf_c_message_get_packed_size(msg);
    packed_t *p = malloc(sizeof(*p) + len);
    assert_non_null(p);
    p->type = msg->descriptor->name;
    p->len = len;
    protobuf_c_message_pack(msg, p->data);
    assert_int_equal(actor_dispatch(&agent_pid, send_in_agent, p), ACTOR_OK);
}

static size_t count_locked(const ProtobufCMessageDescriptor *desc)
{
    size_t n = 0;
    for (size_t i = 0; i < fake.count; i++)
        n += strcmp(fake.records[i].type, desc->name) == 0;
    return n;
}

static void deadline_in(struct timespec *deadline, int ms)
{
    clock_gettime(CLOCK_REALTIME, deadline);
    deadline->tv_sec += ms / 1000;
    deadline->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (deadline->tv_nsec >= 1000000000L) {
        deadline->tv_sec++;
        deadline->tv_nsec -= 1000000000L;
    }
}

/* Waits until n messages of desc were received; returns how many were. */
static size_t wait_count(const ProtobufCMessageDescriptor *desc, size_t n)
{
    struct timespec deadline;
    deadline_in(&deadline, WAIT_MS);
    pthread_mutex_lock(&fake.lock);
    size_t count;
    while ((count = count_locked(desc)) < n &&
           pthread_cond_timedwait(&fake.cv, &fake.lock, &deadline) == 0)
        ;
    pthread_mutex_unlock(&fake.lock);
    return count;
}

/* The i-th message of desc (from 0; -1 = the last), unpacked; free with free_message. */
static void *get_message(const ProtobufCMessageDescriptor *desc, long i)
{
    pthread_mutex_lock(&fake.lock);
    long n = (long)count_locked(desc), seen = 0;
    if (i < 0)
        i += n;
    ProtobufCMessage *m = NULL;
    for (size_t k = 0; k < fake.count && m == NULL; k++) {
        record_t *r = &fake.records[k];
        if (strcmp(r->type, desc->name) == 0 && seen++ == i)
            m = protobuf_c_message_unpack(desc, NULL, r->len, r->data);
    }
    pthread_mutex_unlock(&fake.lock);
    assert_non_null(m);
    return m;
}

static void free_message(void *m)
{
    protobuf_c_message_free_unpacked(m, NULL);
}

/* Waits for the n-th (from 1) status update and returns it unpacked. */
static Mesos__Internal__StatusUpdateMessage *wait_update(size_t n)
{
    assert_true(wait_count(&mesos__internal__status_update_message__descriptor, n) >= n);
    return get_message(&mesos__internal__status_update_message__descriptor, (long)n - 1);
}

/* Waits for the n-th (from 1) update and checks its state and, unless NULL, its message. */
static void expect_update(size_t n, Mesos__TaskState state, const char *message)
{
    Mesos__Internal__StatusUpdateMessage *m = wait_update(n);
    assert_string_equal(mesos_task_state_name(m->update->status->state),
                        mesos_task_state_name(state));
    if (message != NULL)
        assert_string_equal(m->update->status->message ? m->update->status->message : "", message);
    free_message(m);
}

/* Checks the first updates: STARTING, RUNNING (unless the launch failed), then `last` with its
 * message. */
static void expect_run(Mesos__TaskState last, const char *message)
{
    expect_update(1, STATE(STARTING), NULL);
    bool launched = strncmp(message, "Failed to launch", 16) != 0;
    if (launched)
        expect_update(2, STATE(RUNNING), NULL);
    expect_update(launched ? 3 : 2, last, message);
}

/* ---- the executor process ---- */

static char sandbox[64];
static pid_t executor_pid; /* 0 when none runs */

/* True if extra ("NAME=value" strings) sets the variable of var. */
static bool overridden(const char *var, const char *const *extra)
{
    size_t n = (size_t)(strchr(var, '=') - var) + 1;
    for (size_t i = 0; extra != NULL && extra[i] != NULL; i++)
        if (strncmp(extra[i], var, n) == 0)
            return true;
    return false;
}

/* Extra environment of the next executor: "NAME=value" strings, NULL-terminated. */
static pid_t executor_start(const char *const *extra)
{
    char *envp[256];
    size_t n = 0;
    for (size_t i = 0; environ[i] != NULL && n < 200; i++)
        if (strncmp(environ[i], "MESOS_", 6) != 0 || strncmp(environ[i], "MESOS_TEST_", 11) == 0)
            envp[n++] = environ[i];
    static char vars[6][160];
    snprintf(vars[0], sizeof(vars[0]), "MESOS_AGENT_PID=slave(1)@127.0.0.1:%u", agent_port);
    snprintf(vars[1], sizeof(vars[1]), "MESOS_DIRECTORY=%s", sandbox);
    snprintf(vars[2], sizeof(vars[2]), "MESOS_SANDBOX=%s", sandbox);
    snprintf(vars[3], sizeof(vars[3]), "MESOS_FRAMEWORK_ID=%s", FRAMEWORK_ID);
    snprintf(vars[4], sizeof(vars[4]), "MESOS_EXECUTOR_ID=%s", EXECUTOR_ID);
    snprintf(vars[5], sizeof(vars[5]), "MESOS_AGENT_ID=%s", AGENT_ID);
    for (size_t i = 0; i < 6; i++)
        if (!overridden(vars[i], extra))
            envp[n++] = vars[i];
    for (size_t i = 0; extra != NULL && extra[i] != NULL && n < 254; i++)
        envp[n++] = (char *)extra[i];
    envp[n] = NULL;

    const char *bin = getenv("MESOS_TEST_BIN_DIR");
    assert_non_null(bin);
    char path[512], out[128], err[128];
    snprintf(path, sizeof(path), "%s/mesos-executor", bin);
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
    char message[256];
    if (actor_subprocess_spawn(&o, &executor_pid, message, sizeof(message)) != ACTOR_OK)
        fail_msg("Cannot start %s: %s", path, message);
    return executor_pid;
}

/* Waits for the executor to exit; returns its wait status, or -1 if it still runs. */
static int executor_wait(int ms)
{
    int fd = (int)syscall(SYS_pidfd_open, executor_pid, 0);
    assert_true(fd >= 0);
    struct pollfd p = {.fd = fd, .events = POLLIN};
    int ready = poll(&p, 1, ms);
    close(fd);
    if (ready <= 0)
        return -1;
    int status;
    assert_int_equal(waitpid(executor_pid, &status, 0), executor_pid);
    executor_pid = 0;
    return status;
}

static void expect_exit(int code)
{
    int status = executor_wait(WAIT_MS);
    if (status == -1)
        fail_msg("mesos-executor did not exit");
    if (!WIFEXITED(status) || WEXITSTATUS(status) != code)
        fail_msg("mesos-executor ended with wait status 0x%x, expected exit %d", status, code);
}

/* The whole content of a file in the sandbox (static buffer; "" if missing). */
static const char *sandbox_file(const char *name)
{
    static char buf[16384];
    char path[160];
    snprintf(path, sizeof(path), "%s/%s", sandbox, name);
    buf[0] = '\0';
    FILE *f = fopen(path, "r");
    if (f != NULL) {
        size_t n = fread(buf, 1, sizeof(buf) - 1, f);
        buf[n] = '\0';
        fclose(f);
    }
    return buf;
}

/* Polls (1 ms steps) until the sandbox file holds text. */
static bool wait_file_contains(const char *name, const char *text)
{
    for (int i = 0; i < WAIT_MS; i++) {
        if (strstr(sandbox_file(name), text) != NULL)
            return true;
        struct timespec ms = {0, 1000000};
        nanosleep(&ms, NULL);
    }
    return false;
}

/* Signals every child of this process (tasks orphaned by a failed test come here); returns
 * how many there were. */
static int kill_children(void)
{
    int found = 0;
    DIR *d = opendir("/proc");
    struct dirent *e;
    while (d != NULL && (e = readdir(d)) != NULL) {
        pid_t pid = (pid_t)atoi(e->d_name);
        char path[64], buf[512];
        snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
        FILE *f = pid > 0 ? fopen(path, "r") : NULL;
        if (f == NULL)
            continue;
        size_t n = fread(buf, 1, sizeof(buf) - 1, f);
        fclose(f);
        buf[n] = '\0';
        const char *paren = strrchr(buf, ')');
        int ppid = 0;
        if (paren != NULL && sscanf(paren + 2, "%*c %d", &ppid) == 1 && ppid == getpid()) {
            kill(-pid, SIGKILL);
            kill(pid, SIGKILL);
            found++;
        }
    }
    if (d != NULL)
        closedir(d);
    return found;
}

/* Kills and reaps every child, polling (1 ms steps) until none is left. */
static void reap_children(void)
{
    for (int i = 0; i < WAIT_MS; i++) {
        while (waitpid(-1, NULL, WNOHANG) > 0)
            ;
        if (kill_children() == 0)
            return;
        struct timespec ms = {0, 1000000};
        nanosleep(&ms, NULL);
    }
}

/* ---- tasks ---- */

typedef struct task_spec {
    const char *id;
    const char *value;
    bool argv_form;
    const char *const *arguments; /* NULL-terminated */
    const char *const *env;       /* "NAME=value" pairs, NULL-terminated */
    int64_t grace_ns;             /* kill policy; 0 = none */
} task_spec_t;

static void run_task(const task_spec_t *spec)
{
    Mesos__TaskID tid = MESOS__TASK_ID__INIT;
    Mesos__AgentID aid = MESOS__AGENT_ID__INIT;
    Mesos__CommandInfo cmd = MESOS__COMMAND_INFO__INIT;
    Mesos__Environment env = MESOS__ENVIRONMENT__INIT;
    Mesos__Environment__Variable vars[8], *var_ptrs[8];
    Mesos__TaskInfo task = MESOS__TASK_INFO__INIT;
    Mesos__DurationInfo grace = MESOS__DURATION_INFO__INIT;
    Mesos__KillPolicy policy = MESOS__KILL_POLICY__INIT;
    Mesos__FrameworkID fid = MESOS__FRAMEWORK_ID__INIT;
    Mesos__FrameworkInfo fw = MESOS__FRAMEWORK_INFO__INIT;
    Mesos__FrameworkInfo__Capability cap = MESOS__FRAMEWORK_INFO__CAPABILITY__INIT, *caps[1];
    Mesos__Internal__RunTaskMessage m = MESOS__INTERNAL__RUN_TASK_MESSAGE__INIT;
    char names[8][64];
    tid.value = (char *)spec->id;
    aid.value = AGENT_ID;
    cmd.value = (char *)spec->value;
    cmd.has_shell = spec->argv_form;
    cmd.shell = !spec->argv_form;
    for (size_t i = 0; spec->arguments != NULL && spec->arguments[i] != NULL; i++)
        cmd.n_arguments++;
    cmd.arguments = (char **)spec->arguments;
    for (size_t i = 0; spec->env != NULL && spec->env[i] != NULL && i < 8; i++) {
        mesos__environment__variable__init(&vars[i]);
        const char *eq = strchr(spec->env[i], '=');
        snprintf(names[i], sizeof(names[i]), "%.*s", (int)(eq - spec->env[i]), spec->env[i]);
        vars[i].name = names[i];
        vars[i].value = (char *)eq + 1;
        var_ptrs[env.n_variables++] = &vars[i];
    }
    env.variables = var_ptrs;
    cmd.environment = env.n_variables ? &env : NULL;
    task.name = (char *)spec->id;
    task.task_id = &tid;
    task.agent_id = &aid;
    task.command = &cmd;
    if (spec->grace_ns > 0) {
        grace.nanoseconds = spec->grace_ns;
        policy.grace_period = &grace;
        task.kill_policy = &policy;
    }
    fill_framework(&fw, &fid, &cap, caps);
    m.framework = &fw;
    m.framework_id = &fid;
    m.task = &task;
    agent_send(&m.base);
}

static void kill_task(const char *id, int64_t grace_ns)
{
    Mesos__TaskID tid = MESOS__TASK_ID__INIT;
    Mesos__FrameworkID fid = MESOS__FRAMEWORK_ID__INIT;
    Mesos__DurationInfo grace = MESOS__DURATION_INFO__INIT;
    Mesos__KillPolicy policy = MESOS__KILL_POLICY__INIT;
    Mesos__Internal__KillTaskMessage m = MESOS__INTERNAL__KILL_TASK_MESSAGE__INIT;
    tid.value = (char *)id;
    fid.value = FRAMEWORK_ID;
    m.task_id = &tid;
    m.framework_id = &fid;
    if (grace_ns > 0) {
        grace.nanoseconds = grace_ns;
        policy.grace_period = &grace;
        m.kill_policy = &policy;
    }
    agent_send(&m.base);
}

/* Starts an executor and waits for its registration. */
static void start_registered(const char *const *extra)
{
    executor_start(extra);
    assert_true(wait_count(&mesos__internal__register_executor_message__descriptor, 1) >= 1);
}

/* Starts an executor, sends it the task and waits for TASK_RUNNING. */
static void start_running(const char *const *extra, const task_spec_t *spec)
{
    start_registered(extra);
    run_task(spec);
    expect_update(1, STATE(STARTING), NULL);
    expect_update(2, STATE(RUNNING), NULL);
}

/* ---- fixtures ---- */

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

static int group_setup(void **unused)
{
    (void)unused;
    return prctl(PR_SET_CHILD_SUBREAPER, 1) == 0 ? 0 : -1;
}

static int setup(void **unused)
{
    (void)unused;
    fake_set(true, true, false);
    snprintf(sandbox, sizeof(sandbox), "/tmp/test_executor.XXXXXX");
    if (mkdtemp(sandbox) == NULL)
        return -1;
    executor_pid = 0;
    agent_start(0);
    return 0;
}

static int teardown(void **unused)
{
    (void)unused;
    if (executor_pid > 0) { /* a failed test: show what the executor said */
        kill(-executor_pid, SIGKILL);
        fprintf(stderr, "mesos-executor's stderr:\n%s\n", sandbox_file("stderr"));
    }
    reap_children();
    actor_runtime_stop();
    pthread_mutex_lock(&fake.lock);
    for (size_t i = 0; i < fake.count; i++)
        free(fake.records[i].data);
    free(fake.records);
    fake.records = NULL;
    fake.count = fake.cap = 0;
    pthread_mutex_unlock(&fake.lock);
    return nftw(sandbox, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
}

/* ---- tests ---- */

static void test_bad_environment(void **unused)
{
    (void)unused;
    const char *no_framework[] = {"MESOS_FRAMEWORK_ID=", NULL};
    executor_start(no_framework);
    expect_exit(1);
    assert_string_equal(sandbox_file("stderr"),
                        "Expecting 'MESOS_FRAMEWORK_ID' to be set in the environment\n");
    char path[128];
    snprintf(path, sizeof(path), "%s/stderr", sandbox);
    assert_int_equal(truncate(path, 0), 0);
    const char *bad_pid[] = {"MESOS_AGENT_PID=slave(1)@nowhere", NULL};
    executor_start(bad_pid);
    expect_exit(1);
    assert_string_equal(sandbox_file("stderr"),
                        "Failed to parse MESOS_AGENT_PID 'slave(1)@nowhere': expected a PID such "
                        "as slave(1)@127.0.0.1:5051\n");
}

/* No agent listens at the PID: the link fails and the executor exits at once. */
static void test_agent_unreachable(void **unused)
{
    (void)unused;
    actor_runtime_stop();
    executor_start(NULL); /* agent_port is free now */
    expect_exit(1);
    assert_non_null(strstr(sandbox_file("stderr"), "Shutting down: the agent exited"));
    agent_start(0);
}

static void test_registration_is_retried(void **unused)
{
    (void)unused;
    fake_set(false, true, false);
    executor_start(NULL);
    assert_true(wait_count(&mesos__internal__register_executor_message__descriptor, 2) >= 2);
    Mesos__Internal__RegisterExecutorMessage *r =
        get_message(&mesos__internal__register_executor_message__descriptor, 0);
    assert_string_equal(r->framework_id->value, FRAMEWORK_ID);
    assert_string_equal(r->executor_id->value, EXECUTOR_ID);
    free_message(r);
    fake_set(true, true, false);
    assert_true(wait_count(&mesos__internal__register_executor_message__descriptor, 3) >= 3);

    /* Registered and without a task: a shutdown ends it at once. */
    Mesos__Internal__ShutdownExecutorMessage shutdown =
        MESOS__INTERNAL__SHUTDOWN_EXECUTOR_MESSAGE__INIT;
    agent_send(&shutdown.base);
    expect_exit(0);
}

/* An update as the executor driver builds it. */
static void check_update_fields(const Mesos__Internal__StatusUpdateMessage *m)
{
    const Mesos__Internal__StatusUpdate *u = m->update;
    assert_string_equal(u->framework_id->value, FRAMEWORK_ID);
    assert_string_equal(u->executor_id->value, EXECUTOR_ID);
    assert_string_equal(u->agent_id->value, AGENT_ID);
    assert_string_equal(u->status->task_id->value, "task-1");
    assert_string_equal(u->status->executor_id->value, EXECUTOR_ID);
    assert_string_equal(u->status->agent_id->value, AGENT_ID);
    assert_int_equal(u->status->source, MESOS__TASK_STATUS__SOURCE__SOURCE_EXECUTOR);
    assert_int_equal(u->status->uuid.len, 16);
    assert_int_equal(u->uuid.len, 16);
    assert_memory_equal(u->uuid.data, u->status->uuid.data, 16);
    assert_true(u->timestamp > 1.6e9 && u->status->timestamp == u->timestamp);
    char pid_text[ACTOR_PID_STRLEN];
    pthread_mutex_lock(&fake.lock);
    actor_pid_format(&fake.executor, pid_text, sizeof(pid_text));
    pthread_mutex_unlock(&fake.lock);
    assert_string_equal(m->pid, pid_text);
}

static void test_command_finishes(void **unused)
{
    (void)unused;
    start_registered(NULL);
    run_task(&(task_spec_t){.id = "task-1", .value = "echo hi; pwd"});
    expect_run(STATE(FINISHED), "Command exited with status 0");
    uint8_t uuids[3][16];
    for (size_t i = 0; i < 3; i++) {
        Mesos__Internal__StatusUpdateMessage *m = wait_update(i + 1);
        check_update_fields(m);
        memcpy(uuids[i], m->update->uuid.data, 16);
        const Mesos__ContainerStatus *container = m->update->status->container_status;
        if (i == 1) /* TASK_RUNNING names the executor's process */
            assert_int_equal(container->executor_pid, executor_pid);
        else
            assert_null(container);
        free_message(m);
    }
    assert_memory_not_equal(uuids[0], uuids[1], 16);
    assert_memory_not_equal(uuids[1], uuids[2], 16);
    expect_exit(0); /* the terminal update was acknowledged */
    char expect[128];
    snprintf(expect, sizeof(expect), "hi\n%s\n", sandbox);
    assert_string_equal(sandbox_file("stdout"), expect);
}

static void test_exit_status_fails_the_task(void **unused)
{
    (void)unused;
    start_registered(NULL);
    run_task(&(task_spec_t){.id = "task-1", .value = "echo bye >&2; exit 3"});
    expect_run(STATE(FAILED), "Command exited with status 3");
    expect_exit(0);
    assert_non_null(strstr(sandbox_file("stderr"), "bye\n"));
}

/* The argv form runs the program found in PATH with exactly its arguments: no shell. */
static void test_argv_form(void **unused)
{
    (void)unused;
    start_registered(NULL);
    const char *args[] = {"printf", "%s|%s\\n", "a b", "$HOME", NULL};
    run_task(
        &(task_spec_t){.id = "task-1", .value = "printf", .argv_form = true, .arguments = args});
    expect_run(STATE(FINISHED), "Command exited with status 0");
    expect_exit(0);
    assert_string_equal(sandbox_file("stdout"), "a b|$HOME\n");
}

/* The task sees the executor's environment, the task's variables over it, and MESOS_TASK_ID. */
static void test_environment(void **unused)
{
    (void)unused;
    const char *extra[] = {"TEST_SHARED=from-executor", "TEST_KEPT=kept", NULL};
    start_registered(extra);
    const char *env[] = {"TEST_SHARED=from-task", "TEST_NEW=new value", NULL};
    const char *args[] = {"env", NULL};
    run_task(&(task_spec_t){
        .id = "task-1", .value = "env", .argv_form = true, .arguments = args, .env = env});
    expect_run(STATE(FINISHED), "Command exited with status 0");
    expect_exit(0);
    char out[16384 + 2];
    snprintf(out, sizeof(out), "\n%s", sandbox_file("stdout")); /* each line after a newline */
    assert_non_null(strstr(out, "\nTEST_SHARED=from-task\n"));
    assert_null(strstr(out, "from-executor"));
    assert_non_null(strstr(out, "\nTEST_KEPT=kept\n"));
    assert_non_null(strstr(out, "\nTEST_NEW=new value\n"));
    assert_non_null(strstr(out, "\nMESOS_TASK_ID=task-1\n"));
    assert_non_null(strstr(out, "\nMESOS_EXECUTOR_ID=" EXECUTOR_ID "\n"));
}

static void test_missing_program(void **unused)
{
    (void)unused;
    start_registered(NULL);
    run_task(&(task_spec_t){.id = "task-1", .value = "no-such-program-xyz", .argv_form = true});
    Mesos__Internal__StatusUpdateMessage *failed = wait_update(2);
    assert_non_null(strstr(failed->update->status->message,
                           "Failed to launch task subprocess: 'no-such-program-xyz' was not "
                           "found in PATH"));
    free_message(failed);
    expect_update(1, STATE(STARTING), NULL);
    expect_update(2, STATE(FAILED), NULL);
    expect_exit(0);
}

static void test_missing_program_in_shell(void **unused)
{
    (void)unused;
    start_registered(NULL);
    run_task(&(task_spec_t){.id = "task-1", .value = "no-such-program-xyz"});
    expect_run(STATE(FAILED), "Command exited with status 127");
    expect_exit(0);
}

/* A kill: TASK_KILLING for a framework that knows it, SIGTERM, TASK_KILLED. A second task is
 * refused while the first runs, and a kill of a task the executor does not run is ignored. */
static void test_kill(void **unused)
{
    (void)unused;
    fake_set(true, true, true);
    start_running(NULL, &(task_spec_t){.id = "task-1", .value = "sleep 30"});
    run_task(&(task_spec_t){.id = "task-2", .value = "true"});
    Mesos__Internal__StatusUpdateMessage *refused = wait_update(3);
    assert_string_equal(refused->update->status->task_id->value, "task-2");
    free_message(refused);
    expect_update(3, STATE(FAILED), "Attempted to run multiple tasks using a \"command\" executor");
    kill_task("task-unknown", 0);
    kill_task("task-1", 0);
    expect_update(4, STATE(KILLING), NULL);
    expect_update(5, STATE(KILLED), "Command terminated with signal Terminated");
    expect_exit(0);
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A task that ignores SIGTERM gets SIGKILL when the kill's grace period ends. */
static void test_kill_escalates_to_sigkill(void **unused)
{
    (void)unused;
    start_running(NULL, &(task_spec_t){.id = "task-1",
                                       .value = "trap '' TERM; echo ready > ready.tmp; "
                                                "mv ready.tmp ready; while :; do sleep 1; done",
                                       .grace_ns = 20 * 1000000000LL});
    assert_true(wait_file_contains("ready", "ready"));
    int64_t start = now_ms();
    kill_task("task-1", 300 * 1000000LL); /* overrides the task's 20 s */
    expect_update(3, STATE(KILLED), "Command terminated with signal Killed");
    int64_t elapsed = now_ms() - start;
    assert_true(elapsed >= 300 && elapsed < 5000);
    expect_exit(0);
}

/* ShutdownExecutorMessage kills the task (no TASK_KILLING without the capability) and ends the
 * executor; so does SIGTERM to the executor. */
static void test_shutdown(void **unused)
{
    (void)unused;
    const char *extra[] = {"MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD=3secs", NULL};
    start_running(extra, &(task_spec_t){.id = "task-1", .value = "sleep 30"});
    Mesos__Internal__ShutdownExecutorMessage shutdown =
        MESOS__INTERNAL__SHUTDOWN_EXECUTOR_MESSAGE__INIT;
    agent_send(&shutdown.base);
    expect_update(3, STATE(KILLED), "Command terminated with signal Terminated");
    expect_exit(0);
}

static void test_sigterm_shuts_down(void **unused)
{
    (void)unused;
    start_running(NULL, &(task_spec_t){.id = "task-1", .value = "sleep 30"});
    assert_int_equal(kill(executor_pid, SIGTERM), 0);
    expect_update(3, STATE(KILLED), "Command terminated with signal Terminated");
    expect_exit(0);
}

/* Without an acknowledgement of the terminal update the executor still exits, a few seconds
 * later. */
static void test_exits_without_terminal_ack(void **unused)
{
    (void)unused;
    fake_set(true, false, false);
    start_registered(NULL);
    run_task(&(task_spec_t){.id = "task-1", .value = "true"});
    expect_run(STATE(FINISHED), "Command exited with status 0");
    assert_int_equal(executor_wait(1000), -1); /* still waiting for the ack */
    expect_exit(0);
}

/* Reads the pid a task wrote into the sandbox file "pid". */
static pid_t task_pid(void)
{
    assert_true(wait_file_contains("pid", "\n"));
    return (pid_t)atoi(sandbox_file("pid"));
}

/* True once pid is gone: reaped by the executor, or (orphaned to this subreaper) by us. */
static bool task_gone(pid_t pid)
{
    waitpid(pid, NULL, WNOHANG);
    return kill(pid, 0) != 0 && errno == ESRCH;
}

#define PID_AND_SLEEP "echo $$ > pid.tmp; mv pid.tmp pid; exec sleep 30"

static void check_reregistration(const uint8_t starting_uuid[16], const uint8_t running_uuid[16])
{
    assert_true(wait_count(&mesos__internal__reregister_executor_message__descriptor, 1) >= 1);
    Mesos__Internal__ReregisterExecutorMessage *r =
        get_message(&mesos__internal__reregister_executor_message__descriptor, 0);
    assert_string_equal(r->executor_id->value, EXECUTOR_ID);
    assert_string_equal(r->framework_id->value, FRAMEWORK_ID);
    assert_int_equal(r->n_tasks, 1);
    assert_string_equal(r->tasks[0]->task_id->value, "task-1");
    assert_int_equal(r->n_updates, 2);
    assert_int_equal(r->updates[0]->status->state, STATE(STARTING));
    assert_memory_equal(r->updates[0]->uuid.data, starting_uuid, 16);
    assert_int_equal(r->updates[1]->status->state, STATE(RUNNING));
    assert_memory_equal(r->updates[1]->uuid.data, running_uuid, 16);
    free_message(r);
}

/* The agent restarts at the same address: the executor of a checkpointing framework answers its
 * ReconnectExecutorMessage with the task and every unacknowledged update, and carries on. */
static void test_agent_restart_reregisters(void **unused)
{
    (void)unused;
    fake_set(true, false, false);
    const char *extra[] = {"MESOS_CHECKPOINT=1", "MESOS_RECOVERY_TIMEOUT=20secs", NULL};
    start_running(extra, &(task_spec_t){.id = "task-1", .value = PID_AND_SLEEP});
    uint8_t uuids[2][16];
    for (size_t i = 0; i < 2; i++) {
        Mesos__Internal__StatusUpdateMessage *m = wait_update(i + 1);
        memcpy(uuids[i], m->update->uuid.data, 16);
        free_message(m);
    }
    pid_t task = task_pid();

    uint16_t port = agent_port;
    actor_runtime_stop(); /* the agent goes away */
    assert_true(wait_file_contains("stderr", "waiting 20secs for it to reconnect"));
    agent_start(port);
    fake_set(true, true, false);
    Mesos__AgentID aid = MESOS__AGENT_ID__INIT;
    Mesos__Internal__ReconnectExecutorMessage reconnect =
        MESOS__INTERNAL__RECONNECT_EXECUTOR_MESSAGE__INIT;
    aid.value = AGENT_ID;
    reconnect.agent_id = &aid;
    agent_send(&reconnect.base);
    check_reregistration(uuids[0], uuids[1]);
    assert_false(task_gone(task));

    /* Carries on with the new agent. */
    kill_task("task-1", 0);
    expect_update(3, STATE(KILLED), "Command terminated with signal Terminated");
    expect_exit(0);
    assert_true(task_gone(task));
}

/* The scheduling policy of thread tid of pid (field 41 of its stat file) and its name; -1 if it
 * is gone. */
static int thread_policy(pid_t pid, const char *tid, char *comm, size_t comm_len)
{
    char path[128], buf[1024];
    snprintf(path, sizeof(path), "/proc/%d/task/%s/stat", (int)pid, tid);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return -1;
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *open = strchr(buf, '('), *close = strrchr(buf, ')');
    if (open == NULL || close == NULL || close < open)
        return -1;
    snprintf(comm, comm_len, "%.*s", (int)(close - open - 1), open + 1);
    char *field = close + 2; /* field 3, the state */
    for (int i = 3; i < 41 && field != NULL; i++) {
        field = strchr(field, ' ');
        field = field != NULL ? field + 1 : NULL;
    }
    return field != NULL ? atoi(field) : -1;
}

/* The executor's runtime is light: its streams, its actors and its signals all run on the
 * runtime's I/O loop, and that loop on its main thread (no nng thread, no worker, no I/O
 * thread), so it has one thread, SCHED_OTHER, as is its task. */
static void test_threads(void **unused)
{
    (void)unused;
    start_running(NULL, &(task_spec_t){.id = "task-1", .value = PID_AND_SLEEP});
    pid_t task = task_pid();
    char dir[64], comm[64];
    snprintf(dir, sizeof(dir), "/proc/%d/task", (int)executor_pid);
    DIR *d = opendir(dir);
    assert_non_null(d);
    int threads = 0;
    struct dirent *ent;
    while ((ent = readdir(d)) != NULL) {
        if (ent->d_name[0] == '.')
            continue;
        int policy = thread_policy(executor_pid, ent->d_name, comm, sizeof(comm));
        if (policy < 0)
            continue;
        if (strncmp(comm, "nng:", 4) == 0)
            fail_msg("Thread %s of the executor is nng's (%s)", ent->d_name, comm);
        if (policy != SCHED_OTHER)
            fail_msg("Thread %s (%s) of the executor has policy %d", ent->d_name, comm, policy);
        threads++;
    }
    closedir(d);
    assert_int_equal(threads, 1);
    char tid[16];
    snprintf(tid, sizeof(tid), "%d", (int)task);
    assert_int_equal(thread_policy(task, tid, comm, sizeof(comm)), SCHED_OTHER);
    kill_task("task-1", 0);
    expect_update(3, STATE(KILLED), "Command terminated with signal Terminated");
    expect_exit(0);
}

/* No agent comes back within the recovery timeout: the task is killed, the executor exits. */
static void test_recovery_timeout(void **unused)
{
    (void)unused;
    const char *extra[] = {"MESOS_CHECKPOINT=1", "MESOS_RECOVERY_TIMEOUT=500ms", NULL};
    start_running(extra, &(task_spec_t){.id = "task-1", .value = PID_AND_SLEEP});
    pid_t task = task_pid();
    actor_runtime_stop();
    expect_exit(1);
    assert_true(task_gone(task));
    assert_non_null(strstr(sandbox_file("stderr"), "Recovery timeout of 500ms exceeded"));
}

/* Without checkpointing, losing the agent ends the task and the executor at once. */
static void test_agent_gone_without_checkpoint(void **unused)
{
    (void)unused;
    const char *extra[] = {"MESOS_CHECKPOINT=0", NULL};
    start_running(extra, &(task_spec_t){.id = "task-1", .value = PID_AND_SLEEP});
    pid_t task = task_pid();
    actor_runtime_stop();
    expect_exit(1);
    assert_true(task_gone(task));
    assert_non_null(strstr(sandbox_file("stderr"), "Shutting down: the agent exited"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_bad_environment, setup, teardown),
        cmocka_unit_test_setup_teardown(test_agent_unreachable, setup, teardown),
        cmocka_unit_test_setup_teardown(test_registration_is_retried, setup, teardown),
        cmocka_unit_test_setup_teardown(test_command_finishes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_exit_status_fails_the_task, setup, teardown),
        cmocka_unit_test_setup_teardown(test_argv_form, setup, teardown),
        cmocka_unit_test_setup_teardown(test_environment, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_program, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_program_in_shell, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kill, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kill_escalates_to_sigkill, setup, teardown),
        cmocka_unit_test_setup_teardown(test_shutdown, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sigterm_shuts_down, setup, teardown),
        cmocka_unit_test_setup_teardown(test_exits_without_terminal_ack, setup, teardown),
        cmocka_unit_test_setup_teardown(test_agent_restart_reregisters, setup, teardown),
        cmocka_unit_test_setup_teardown(test_recovery_timeout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_agent_gone_without_checkpoint, setup, teardown),
        cmocka_unit_test_setup_teardown(test_threads, setup, teardown),
    };
    return cmocka_run_group_tests(tests, group_setup, NULL);
}
