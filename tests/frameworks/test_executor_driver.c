/* In-process tests of the executor driver (frameworks/executor_driver*.c): the runtime without
 * workers and the clock paused (tests/master/support.h), a fake agent actor, "slave(1)", that
 * records what the driver sends it and sends what the test tells it to, and callbacks that
 * record what they receive. A lost message is a message filter's drop; an agent restart is the
 * fake terminated (the driver's link breaks) and spawned again under the same id. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "actor/filter.h"
#include "actor/pbcopy.h"
#include "frameworks/executor_driver.h"
#include "internal.pb-c.h"
#include "proto/task_states.h"
#include "tests/support/executor_messages.h"
#include "tests/master/support.h"

#define FRAMEWORK_ID "fw-1"
#define EXECUTOR_ID  "ex-1"
#define AGENT_ID     "agent-1"
#define STATE(s)     MESOS__TASK_STATE__TASK_##s

/* ---- the fake agent ---- */

typedef struct agent {
    actor_pid_t pid;
    fake_message_t *messages;
    size_t count, cap;
} agent_t;

static void agent_record(actor_t *self, void *state, const actor_pid_t *from,
                         const ProtobufCMessage *msg)
{
    (void)self;
    agent_t *a = *(agent_t **)state;
    if (a->count == a->cap) {
        a->cap = a->cap ? 2 * a->cap : 16;
        a->messages = realloc(a->messages, a->cap * sizeof(*a->messages));
        assert_non_null(a->messages);
    }
    fake_message_t *m = &a->messages[a->count++];
    snprintf(m->type, sizeof(m->type), "%s", msg->descriptor->name);
    m->len = protobuf_c_message_get_packed_size(msg);
    m->data = malloc(m->len + 1);
    assert_non_null(m->data);
    protobuf_c_message_pack(msg, m->data);
    m->from = *from;
}

static void agent_init(actor_t *self, void *state, void *arg)
{
    (void)self;
    *(agent_t **)state = arg;
}

static const actor_handler_t agent_handlers[] = {
    {&mesos__internal__register_executor_message__descriptor, agent_record},
    {&mesos__internal__status_update_message__descriptor, agent_record},
    {&mesos__internal__reregister_executor_message__descriptor, agent_record},
    {&mesos__internal__executor_to_framework_message__descriptor, agent_record},
};

static const actor_ops_t agent_ops = {.name = "slave",
                                      .state_size = sizeof(agent_t *),
                                      .init = agent_init,
                                      .handlers = agent_handlers,
                                      .handler_count = 4};

static agent_t *agent_spawn(void)
{
    agent_t *a = calloc(1, sizeof(*a));
    assert_non_null(a);
    assert_int_equal(actor_spawn(&agent_ops, "slave(1)", a, &a->pid), ACTOR_OK);
    actor_settle();
    return a;
}

static void agent_stop(agent_t *a)
{
    if (a == NULL)
        return;
    actor_terminate(&a->pid);
    actor_settle();
    for (size_t i = 0; i < a->count; i++)
        free(a->messages[i].data);
    free(a->messages);
    free(a);
}

static size_t agent_count(const agent_t *a, const ProtobufCMessageDescriptor *desc)
{
    size_t n = 0;
    for (size_t i = 0; i < a->count; i++)
        n += strcmp(a->messages[i].type, desc->name) == 0;
    return n;
}

/* The i-th (from 0; -1 = the last) message of desc, unpacked; free with free_message. */
static void *agent_get(const agent_t *a, const ProtobufCMessageDescriptor *desc, long i)
{
    long n = (long)agent_count(a, desc), seen = 0;
    if (i < 0)
        i += n;
    for (size_t k = 0; k < a->count; k++) {
        const fake_message_t *m = &a->messages[k];
        if (strcmp(m->type, desc->name) == 0 && seen++ == i) {
            void *msg = protobuf_c_message_unpack(desc, NULL, m->len, m->data);
            assert_non_null(msg);
            return msg;
        }
    }
    fail_msg("no message %ld of %s", i, desc->name);
    return NULL;
}

static void free_message(void *m)
{
    protobuf_c_message_free_unpacked(m, NULL);
}

typedef struct packed {
    const actor_pid_t *to;
    uint8_t *data;
    size_t len;
    const char *type;
} packed_t;

static void send_in(actor_t *self, void *state, void *arg)
{
    (void)state;
    packed_t *p = arg;
    if (self != NULL)
        actor_send_packed(self, p->to, p->type, p->data, p->len);
}

/* Sends msg from actor `from` (the agent, or a stranger) to `to`, and settles. */
static void send_from(const actor_pid_t *from, const actor_pid_t *to, const ProtobufCMessage *msg)
{
    packed_t p = {.to = to, .len = protobuf_c_message_get_packed_size(msg)};
    p.type = msg->descriptor->name;
    p.data = malloc(p.len + 1);
    assert_non_null(p.data);
    protobuf_c_message_pack(msg, p.data);
    assert_int_equal(actor_dispatch(from, send_in, &p), ACTOR_OK);
    actor_settle();
    free(p.data);
}

/* ---- what the callbacks saw ---- */

static struct {
    size_t registered, reregistered, disconnected, shutdowns, errors, acks;
    char framework_name[64];
    char launched[4][32];
    size_t launches;
    char killed[32];
    int64_t kill_grace_ns; /* -1: no policy */
    char message[64];
    char error[128];
    int acked_state;
    /* Behaviour. */
    bool stop_on_shutdown;
    bool running_on_launch; /* send TASK_RUNNING from launch_task */
    actor_err_t launch_rc;  /* what that send returned */
} seen;

static void on_registered(executor_driver_t *d, void *user, const Mesos__ExecutorInfo *executor,
                          const Mesos__FrameworkInfo *framework, const Mesos__AgentInfo *agent)
{
    (void)d, (void)user, (void)agent;
    assert_string_equal(executor->executor_id->value, EXECUTOR_ID);
    seen.registered++;
    snprintf(seen.framework_name, sizeof(seen.framework_name), "%s", framework->name);
}

static void on_reregistered(executor_driver_t *d, void *user, const Mesos__AgentInfo *agent)
{
    (void)d, (void)user, (void)agent;
    seen.reregistered++;
}

static void on_disconnected(executor_driver_t *d, void *user)
{
    (void)d, (void)user;
    seen.disconnected++;
}

static actor_err_t send_state(executor_driver_t *d, const char *task_id, Mesos__TaskState state)
{
    Mesos__TaskID tid = MESOS__TASK_ID__INIT;
    Mesos__TaskStatus status = MESOS__TASK_STATUS__INIT;
    tid.value = (char *)task_id;
    status.task_id = &tid;
    status.state = state;
    status.message = "from the test";
    return executor_driver_send_status_update(d, &status);
}

static void on_launch(executor_driver_t *d, void *user, const Mesos__TaskInfo *task)
{
    (void)user;
    if (seen.launches < 4)
        snprintf(seen.launched[seen.launches], 32, "%s", task->task_id->value);
    seen.launches++;
    if (seen.running_on_launch)
        seen.launch_rc = send_state(d, task->task_id->value, STATE(RUNNING));
}

static void on_kill(executor_driver_t *d, void *user, const char *task_id,
                    const Mesos__KillPolicy *policy)
{
    (void)d, (void)user;
    snprintf(seen.killed, sizeof(seen.killed), "%s", task_id);
    seen.kill_grace_ns =
        policy != NULL && policy->grace_period != NULL ? policy->grace_period->nanoseconds : -1;
}

static void on_message(executor_driver_t *d, void *user, const uint8_t *data, size_t len)
{
    (void)user;
    snprintf(seen.message, sizeof(seen.message), "%.*s", (int)len, (const char *)data);
    executor_driver_send_framework_message(d, "pong", 4);
}

static void on_shutdown(executor_driver_t *d, void *user)
{
    (void)user;
    seen.shutdowns++;
    if (seen.stop_on_shutdown)
        executor_driver_stop(d);
}

static void on_acknowledged(executor_driver_t *d, void *user, const Mesos__TaskStatus *status)
{
    (void)d, (void)user;
    seen.acks++;
    seen.acked_state = (int)status->state;
}

static void on_error(executor_driver_t *d, void *user, const char *message)
{
    (void)d, (void)user;
    seen.errors++;
    snprintf(seen.error, sizeof(seen.error), "%s", message);
}

static const executor_callbacks_t callbacks = {
    .registered = on_registered,
    .reregistered = on_reregistered,
    .disconnected = on_disconnected,
    .launch_task = on_launch,
    .kill_task = on_kill,
    .framework_message = on_message,
    .shutdown = on_shutdown,
    .acknowledged = on_acknowledged,
    .error = on_error,
};

/* ---- fixtures ---- */

typedef struct fixture {
    agent_t *agent;
    executor_driver_t *d;
    actor_pid_t driver; /* the driver's PID: its first RegisterExecutorMessage's sender */
    executor_driver_options_t opts;
} fixture_t;

static int setup(void **state)
{
    cluster_runtime_start();
    memset(&seen, 0, sizeof(seen));
    fixture_t *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    f->agent = agent_spawn();
    executor_driver_options_init(&f->opts);
    f->opts.agent = f->agent->pid;
    f->opts.framework_id = FRAMEWORK_ID;
    f->opts.executor_id = EXECUTOR_ID;
    f->opts.directory = "/nonexistent";
    f->opts.recovery_timeout_ns = 60 * ACTOR_NS_PER_SEC;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    actor_filter_install(NULL, NULL);
    actor_filter_clear();
    if (f->d != NULL) {
        executor_driver_stop(f->d);
        actor_settle(); /* no workers: the stop runs here, so that free's join returns */
        executor_driver_free(f->d);
    }
    agent_stop(f->agent);
    cluster_runtime_stop();
    free(f);
    return 0;
}

static void driver_start(fixture_t *f)
{
    assert_int_equal(executor_driver_start(&f->opts, &callbacks, NULL, &f->d), ACTOR_OK);
    actor_settle();
    assert_true(f->agent->count > 0);
    f->driver = f->agent->messages[0].from;
}

static void answer_registration(fixture_t *f)
{
    Mesos__ExecutorID eid = MESOS__EXECUTOR_ID__INIT;
    Mesos__ExecutorInfo info = MESOS__EXECUTOR_INFO__INIT;
    Mesos__FrameworkID fid = MESOS__FRAMEWORK_ID__INIT;
    Mesos__FrameworkInfo fw = MESOS__FRAMEWORK_INFO__INIT;
    Mesos__AgentID aid = MESOS__AGENT_ID__INIT;
    Mesos__AgentInfo agent = MESOS__AGENT_INFO__INIT;
    Mesos__Internal__ExecutorRegisteredMessage m =
        MESOS__INTERNAL__EXECUTOR_REGISTERED_MESSAGE__INIT;
    eid.value = EXECUTOR_ID;
    info.executor_id = &eid;
    fid.value = FRAMEWORK_ID;
    fw.user = "root";
    fw.name = "test-framework";
    fw.id = &fid;
    aid.value = AGENT_ID;
    agent.hostname = "agent.test";
    m.executor_info = &info;
    m.framework_id = &fid;
    m.framework_info = &fw;
    m.agent_id = &aid;
    m.agent_info = &agent;
    send_from(&f->agent->pid, &f->driver, &m.base);
}

static void run_task(fixture_t *f, const actor_pid_t *from, const char *task_id)
{
    Mesos__TaskID tid = MESOS__TASK_ID__INIT;
    Mesos__AgentID aid = MESOS__AGENT_ID__INIT;
    Mesos__CommandInfo cmd = MESOS__COMMAND_INFO__INIT;
    Mesos__TaskInfo task = MESOS__TASK_INFO__INIT;
    Mesos__FrameworkID fid = MESOS__FRAMEWORK_ID__INIT;
    Mesos__FrameworkInfo fw = MESOS__FRAMEWORK_INFO__INIT;
    Mesos__Internal__RunTaskMessage m = MESOS__INTERNAL__RUN_TASK_MESSAGE__INIT;
    tid.value = (char *)task_id;
    aid.value = AGENT_ID;
    cmd.value = "true";
    task.name = (char *)task_id;
    task.task_id = &tid;
    task.agent_id = &aid;
    task.command = &cmd;
    fid.value = FRAMEWORK_ID;
    fw.user = "root";
    fw.name = "test-framework";
    fw.id = &fid;
    m.framework = &fw;
    m.framework_id = &fid;
    m.task = &task;
    send_from(from, &f->driver, &m.base);
}

/* A driver registered with the agent, running task-1 (TASK_RUNNING sent, not acknowledged). */
static void start_running(fixture_t *f)
{
    driver_start(f);
    assert_int_equal(agent_count(f->agent, &mesos__internal__register_executor_message__descriptor),
                     1);
    answer_registration(f);
    assert_int_equal(seen.registered, 1);
    seen.running_on_launch = true;
    run_task(f, &f->agent->pid, "task-1");
    assert_int_equal(seen.launches, 1);
    assert_int_equal(seen.launch_rc, ACTOR_OK);
}

static void acknowledge(fixture_t *f, const Mesos__Internal__StatusUpdate *u)
{
    status_ack_t ack;
    status_ack_init(&ack, AGENT_ID, u);
    send_from(&f->agent->pid, &f->driver, &ack.msg.base);
}

/* The i-th status update the agent received (from 0; -1 = the last). */
static Mesos__Internal__StatusUpdateMessage *update_at(const fixture_t *f, long i)
{
    return agent_get(f->agent, &mesos__internal__status_update_message__descriptor, i);
}

static size_t update_count(const fixture_t *f)
{
    return agent_count(f->agent, &mesos__internal__status_update_message__descriptor);
}

/* ---- tests ---- */

static void test_bad_options(void **state)
{
    fixture_t *f = *state;
    executor_driver_t *d = NULL;
    f->opts.framework_id = NULL;
    assert_int_equal(executor_driver_start(&f->opts, &callbacks, NULL, &d), ACTOR_EINVAL);
    f->opts.framework_id = FRAMEWORK_ID;
    f->opts.executor_id = "";
    assert_int_equal(executor_driver_start(&f->opts, &callbacks, NULL, &d), ACTOR_EINVAL);
    f->opts.executor_id = EXECUTOR_ID;
    memset(&f->opts.agent, 0, sizeof(f->opts.agent));
    assert_int_equal(executor_driver_start(&f->opts, &callbacks, NULL, &d), ACTOR_EINVAL);
    assert_null(d);
    actor_settle();
    assert_int_equal(f->agent->count, 0);
}

/* Registration (retried until answered), a task, its update as the driver builds it, and the
 * acknowledgement. */
static void test_register_launch_update_ack(void **state)
{
    fixture_t *f = *state;
    driver_start(f);
    cluster_advance(1.0);
    assert_int_equal(agent_count(f->agent, &mesos__internal__register_executor_message__descriptor),
                     2);
    Mesos__Internal__RegisterExecutorMessage *r =
        agent_get(f->agent, &mesos__internal__register_executor_message__descriptor, 0);
    assert_string_equal(r->framework_id->value, FRAMEWORK_ID);
    assert_string_equal(r->executor_id->value, EXECUTOR_ID);
    free_message(r);
    answer_registration(f);
    answer_registration(f); /* the answer to the retry: ignored */
    assert_int_equal(seen.registered, 1);
    assert_string_equal(seen.framework_name, "test-framework");
    cluster_advance(5.0);
    assert_int_equal(agent_count(f->agent, &mesos__internal__register_executor_message__descriptor),
                     2);

    seen.running_on_launch = true;
    run_task(f, &f->agent->pid, "task-1");
    assert_string_equal(seen.launched[0], "task-1");
    run_task(f, &f->agent->pid, "task-1"); /* a duplicate id: dropped */
    assert_int_equal(seen.launches, 1);
    assert_int_equal(update_count(f), 1);
    Mesos__Internal__StatusUpdateMessage *m = update_at(f, 0);
    const Mesos__Internal__StatusUpdate *u = m->update;
    assert_string_equal(u->framework_id->value, FRAMEWORK_ID);
    assert_string_equal(u->executor_id->value, EXECUTOR_ID);
    assert_string_equal(u->agent_id->value, AGENT_ID);
    assert_int_equal(u->status->state, STATE(RUNNING));
    assert_string_equal(u->status->message, "from the test");
    assert_string_equal(u->status->executor_id->value, EXECUTOR_ID);
    assert_string_equal(u->status->agent_id->value, AGENT_ID);
    assert_int_equal(u->status->source, MESOS__TASK_STATUS__SOURCE__SOURCE_EXECUTOR);
    assert_int_equal(u->uuid.len, 16);
    assert_memory_equal(u->uuid.data, u->status->uuid.data, 16);
    assert_true(u->timestamp == u->status->timestamp);
    char pid[ACTOR_PID_STRLEN];
    assert_string_equal(m->pid, actor_pid_format(&f->driver, pid, sizeof(pid)));
    acknowledge(f, u);
    assert_int_equal(seen.acks, 1);
    assert_int_equal(seen.acked_state, STATE(RUNNING));
    acknowledge(f, u); /* a duplicate acknowledgement: nothing */
    assert_int_equal(seen.acks, 1);
    free_message(m);
    cluster_advance(60.0); /* acknowledged: never resent */
    assert_int_equal(update_count(f), 1);
}

/* An update the agent does not acknowledge is sent again after 10 s, then 20 s, with the later
 * updates behind it in order; an update lost on the way gets there the same way. */
static void test_unacknowledged_update_is_resent(void **state)
{
    fixture_t *f = *state;
    start_running(f);
    assert_int_equal(send_state(f->d, "task-1", STATE(FINISHED)), ACTOR_OK); /* from outside */
    actor_settle();
    assert_int_equal(update_count(f), 2);
    cluster_advance(9.0);
    assert_int_equal(update_count(f), 2);
    cluster_advance(1.0);
    assert_int_equal(update_count(f), 4);
    for (long i = 0; i < 2; i++) {
        Mesos__Internal__StatusUpdateMessage *first = update_at(f, i);
        Mesos__Internal__StatusUpdateMessage *again = update_at(f, i + 2);
        assert_memory_equal(first->update->uuid.data, again->update->uuid.data, 16);
        assert_int_equal(again->update->status->state, i == 0 ? STATE(RUNNING) : STATE(FINISHED));
        free_message(first);
        free_message(again);
    }
    cluster_advance(19.0);
    assert_int_equal(update_count(f), 4);
    cluster_advance(1.0);
    assert_int_equal(update_count(f), 6);

    /* Acknowledged: no more resends. */
    for (long i = 4; i < 6; i++) {
        Mesos__Internal__StatusUpdateMessage *m = update_at(f, i);
        acknowledge(f, m->update);
        free_message(m);
    }
    assert_int_equal(seen.acks, 2);
    assert_int_equal(seen.acked_state, STATE(FINISHED));
    cluster_advance(600.0);
    assert_int_equal(update_count(f), 6);
}

static actor_filter_verdict_t drop_updates(const actor_filter_event_t *ev, void *arg)
{
    size_t *dropped = arg;
    if (strcmp(ev->type_name, mesos__internal__status_update_message__descriptor.name) != 0 ||
        *dropped > 0)
        return ACTOR_FILTER_PASS;
    (*dropped)++;
    return ACTOR_FILTER_DROP;
}

static void test_lost_update_arrives_later(void **state)
{
    fixture_t *f = *state;
    size_t dropped = 0;
    actor_filter_install(drop_updates, &dropped);
    start_running(f);
    assert_int_equal(dropped, 1);
    assert_int_equal(update_count(f), 0);
    cluster_advance(10.0);
    assert_int_equal(update_count(f), 1);
    Mesos__Internal__StatusUpdateMessage *m = update_at(f, 0);
    assert_int_equal(m->update->status->state, STATE(RUNNING));
    acknowledge(f, m->update);
    free_message(m);
    assert_int_equal(seen.acks, 1);
}

/* KillTaskMessage becomes kill_task with its policy; messages from anyone but the agent are
 * ignored. */
static void test_kill_calls_kill_task(void **state)
{
    fixture_t *f = *state;
    start_running(f);
    Mesos__TaskID tid = MESOS__TASK_ID__INIT;
    Mesos__FrameworkID fid = MESOS__FRAMEWORK_ID__INIT;
    Mesos__DurationInfo grace = MESOS__DURATION_INFO__INIT;
    Mesos__KillPolicy policy = MESOS__KILL_POLICY__INIT;
    Mesos__Internal__KillTaskMessage kill = MESOS__INTERNAL__KILL_TASK_MESSAGE__INIT;
    tid.value = "task-1";
    fid.value = FRAMEWORK_ID;
    grace.nanoseconds = 2 * ACTOR_NS_PER_SEC;
    policy.grace_period = &grace;
    kill.task_id = &tid;
    kill.framework_id = &fid;
    kill.kill_policy = &policy;

    fake_t *stranger = fake_spawn_as("sched", "stranger(1)");
    send_from(&stranger->pid, &f->driver, &kill.base);
    run_task(f, &stranger->pid, "task-2");
    fake_stop(stranger);
    assert_string_equal(seen.killed, "");
    assert_int_equal(seen.launches, 1);

    send_from(&f->agent->pid, &f->driver, &kill.base);
    assert_string_equal(seen.killed, "task-1");
    assert_int_equal(seen.kill_grace_ns, 2 * ACTOR_NS_PER_SEC);
    kill.kill_policy = NULL;
    send_from(&f->agent->pid, &f->driver, &kill.base);
    assert_int_equal(seen.kill_grace_ns, -1);
}

static void send_shutdown(fixture_t *f)
{
    Mesos__Internal__ShutdownExecutorMessage shutdown =
        MESOS__INTERNAL__SHUTDOWN_EXECUTOR_MESSAGE__INIT;
    send_from(&f->agent->pid, &f->driver, &shutdown.base);
}

/* ShutdownExecutorMessage calls shutdown once; an executor that stops ends the driver. */
static void test_shutdown_calls_shutdown(void **state)
{
    fixture_t *f = *state;
    start_running(f);
    seen.stop_on_shutdown = true;
    send_shutdown(f);
    assert_int_equal(seen.shutdowns, 1);
    assert_int_equal(executor_driver_status(f->d), EXECUTOR_DRIVER_STOPPED);
    assert_int_equal(executor_driver_join(f->d), EXECUTOR_DRIVER_STOPPED);
    assert_int_equal(send_state(f->d, "task-1", STATE(KILLED)), ACTOR_ECLOSED);
}

/* An executor that does not stop within the shutdown grace period: the driver aborts and ends;
 * new tasks are refused meanwhile, acknowledgements still count. */
static void test_shutdown_grace_period_aborts(void **state)
{
    fixture_t *f = *state;
    f->opts.shutdown_grace_period_ns = 3 * ACTOR_NS_PER_SEC;
    start_running(f);
    send_shutdown(f);
    send_shutdown(f);
    assert_int_equal(seen.shutdowns, 1);
    run_task(f, &f->agent->pid, "task-2");
    assert_int_equal(seen.launches, 1);
    Mesos__Internal__StatusUpdateMessage *m = update_at(f, 0);
    acknowledge(f, m->update);
    free_message(m);
    assert_int_equal(seen.acks, 1);
    cluster_advance(2.9);
    assert_int_equal(executor_driver_status(f->d), EXECUTOR_DRIVER_RUNNING);
    cluster_advance(0.1);
    assert_int_equal(executor_driver_status(f->d), EXECUTOR_DRIVER_ABORTED);
    assert_int_equal(executor_driver_join(f->d), EXECUTOR_DRIVER_ABORTED);
    assert_int_equal(executor_driver_stop(f->d), EXECUTOR_DRIVER_ABORTED);
}

static void reconnect(fixture_t *f)
{
    Mesos__AgentID aid = MESOS__AGENT_ID__INIT;
    Mesos__Internal__ReconnectExecutorMessage m = MESOS__INTERNAL__RECONNECT_EXECUTOR_MESSAGE__INIT;
    aid.value = AGENT_ID;
    m.agent_id = &aid;
    send_from(&f->agent->pid, &f->driver, &m.base);
}

static void answer_reregistration(fixture_t *f)
{
    Mesos__AgentID aid = MESOS__AGENT_ID__INIT;
    Mesos__AgentInfo agent = MESOS__AGENT_INFO__INIT;
    Mesos__Internal__ExecutorReregisteredMessage m =
        MESOS__INTERNAL__EXECUTOR_REREGISTERED_MESSAGE__INIT;
    aid.value = AGENT_ID;
    agent.hostname = "agent.test";
    m.agent_id = &aid;
    m.agent_info = &agent;
    send_from(&f->agent->pid, &f->driver, &m.base);
}

/* The agent restarts (checkpointing framework): `disconnected`, updates kept meanwhile, then a
 * reregistration handing over the unfinished tasks and every unacknowledged update in order;
 * after it the resends go on. */
static void test_agent_restart_reregisters_and_resends(void **state)
{
    fixture_t *f = *state;
    f->opts.checkpoint = true;
    start_running(f);
    seen.running_on_launch = false;
    run_task(f, &f->agent->pid, "task-2");
    Mesos__Internal__StatusUpdateMessage *running = update_at(f, 0);
    assert_int_equal(send_state(f->d, "task-2", STATE(FINISHED)), ACTOR_OK);
    actor_settle();
    Mesos__Internal__StatusUpdateMessage *finished = update_at(f, 1);
    acknowledge(f, finished->update); /* task-2 is done */

    agent_stop(f->agent); /* the link breaks */
    f->agent = NULL;
    assert_int_equal(seen.disconnected, 1);
    assert_int_equal(seen.shutdowns, 0);
    assert_int_equal(send_state(f->d, "task-1", STATE(FAILED)), ACTOR_OK);
    actor_settle();
    cluster_advance(30.0); /* no resends while the agent is away */

    f->agent = agent_spawn();
    reconnect(f);
    assert_int_equal(
        agent_count(f->agent, &mesos__internal__reregister_executor_message__descriptor), 1);
    Mesos__Internal__ReregisterExecutorMessage *r =
        agent_get(f->agent, &mesos__internal__reregister_executor_message__descriptor, 0);
    assert_string_equal(r->executor_id->value, EXECUTOR_ID);
    assert_string_equal(r->framework_id->value, FRAMEWORK_ID);
    assert_int_equal(r->n_tasks, 1);
    assert_string_equal(r->tasks[0]->task_id->value, "task-1");
    assert_int_equal(r->n_updates, 2);
    assert_memory_equal(r->updates[0]->uuid.data, running->update->uuid.data, 16);
    assert_int_equal(r->updates[1]->status->state, STATE(FAILED));
    assert_int_equal(update_count(f), 0); /* the agent replays those in the message */
    answer_reregistration(f);
    assert_int_equal(seen.reregistered, 1);
    cluster_advance(10.0);
    assert_int_equal(update_count(f), 2);
    Mesos__Internal__StatusUpdateMessage *again = update_at(f, 0);
    assert_memory_equal(again->update->uuid.data, running->update->uuid.data, 16);
    free_message(again);
    free_message(r);
    free_message(running);
    free_message(finished);
    assert_int_equal(executor_driver_status(f->d), EXECUTOR_DRIVER_RUNNING);
}

/* No agent comes back within the recovery timeout: the driver aborts and calls shutdown. */
static void test_recovery_timeout_shuts_down(void **state)
{
    fixture_t *f = *state;
    f->opts.checkpoint = true;
    start_running(f);
    agent_stop(f->agent);
    f->agent = NULL;
    assert_int_equal(seen.disconnected, 1);
    cluster_advance(59.0);
    assert_int_equal(seen.shutdowns, 0);
    cluster_advance(1.0);
    assert_int_equal(seen.shutdowns, 1);
    assert_int_equal(executor_driver_status(f->d), EXECUTOR_DRIVER_ABORTED);
    assert_int_equal(send_state(f->d, "task-1", STATE(KILLED)), ACTOR_ECLOSED);
    assert_int_equal(executor_driver_stop(f->d), EXECUTOR_DRIVER_ABORTED);
    actor_settle();
    assert_int_equal(executor_driver_join(f->d), EXECUTOR_DRIVER_ABORTED);
}

/* Without checkpointing, losing the agent is the end at once. */
static void test_agent_gone_without_checkpoint(void **state)
{
    fixture_t *f = *state;
    start_running(f);
    agent_stop(f->agent);
    f->agent = NULL;
    assert_int_equal(seen.disconnected, 0);
    assert_int_equal(seen.shutdowns, 1);
    assert_int_equal(executor_driver_status(f->d), EXECUTOR_DRIVER_ABORTED);
    cluster_advance(5.0); /* the grace period: the executor did not stop, the driver ends */
    assert_int_equal(executor_driver_join(f->d), EXECUTOR_DRIVER_ABORTED);
}

static void test_framework_messages(void **state)
{
    fixture_t *f = *state;
    start_running(f);
    Mesos__AgentID aid = MESOS__AGENT_ID__INIT;
    Mesos__FrameworkID fid = MESOS__FRAMEWORK_ID__INIT;
    Mesos__ExecutorID eid = MESOS__EXECUTOR_ID__INIT;
    Mesos__Internal__FrameworkToExecutorMessage m =
        MESOS__INTERNAL__FRAMEWORK_TO_EXECUTOR_MESSAGE__INIT;
    aid.value = AGENT_ID;
    fid.value = FRAMEWORK_ID;
    eid.value = EXECUTOR_ID;
    m.agent_id = &aid;
    m.framework_id = &fid;
    m.executor_id = &eid;
    m.data = (ProtobufCBinaryData){4, (uint8_t *)"ping"};
    send_from(&f->agent->pid, &f->driver, &m.base);
    assert_string_equal(seen.message, "ping");
    assert_int_equal(executor_driver_send_framework_message(f->d, "more", 4), ACTOR_OK);
    actor_settle();
    const ProtobufCMessageDescriptor *desc =
        &mesos__internal__executor_to_framework_message__descriptor;
    assert_int_equal(agent_count(f->agent, desc), 2);
    const char *expect[] = {"pong", "more"};
    for (long i = 0; i < 2; i++) {
        Mesos__Internal__ExecutorToFrameworkMessage *out = agent_get(f->agent, desc, i);
        assert_string_equal(out->agent_id->value, AGENT_ID);
        assert_string_equal(out->framework_id->value, FRAMEWORK_ID);
        assert_string_equal(out->executor_id->value, EXECUTOR_ID);
        assert_int_equal(out->data.len, 4);
        assert_memory_equal(out->data.data, expect[i], 4);
        free_message(out);
    }
    assert_int_equal(executor_driver_send_framework_message(f->d, NULL, 1), ACTOR_EINVAL);
}

/* TASK_STAGING is the agent's to send: the driver refuses it and aborts, through `error`. */
static void test_staging_update_aborts(void **state)
{
    fixture_t *f = *state;
    start_running(f);
    assert_int_equal(send_state(f->d, "task-1", STATE(STAGING)), ACTOR_EINVAL);
    actor_settle();
    assert_int_equal(seen.errors, 1);
    assert_string_equal(seen.error, "Attempted to send TASK_STAGING status update");
    assert_int_equal(executor_driver_status(f->d), EXECUTOR_DRIVER_ABORTED);
    assert_int_equal(update_count(f), 1);
    Mesos__TaskStatus no_id = MESOS__TASK_STATUS__INIT;
    assert_int_equal(executor_driver_send_status_update(f->d, &no_id), ACTOR_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_bad_options, setup, teardown),
        cmocka_unit_test_setup_teardown(test_register_launch_update_ack, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unacknowledged_update_is_resent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lost_update_arrives_later, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kill_calls_kill_task, setup, teardown),
        cmocka_unit_test_setup_teardown(test_shutdown_calls_shutdown, setup, teardown),
        cmocka_unit_test_setup_teardown(test_shutdown_grace_period_aborts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_agent_restart_reregisters_and_resends, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_recovery_timeout_shuts_down, setup, teardown),
        cmocka_unit_test_setup_teardown(test_agent_gone_without_checkpoint, setup, teardown),
        cmocka_unit_test_setup_teardown(test_framework_messages, setup, teardown),
        cmocka_unit_test_setup_teardown(test_staging_update_aborts, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
