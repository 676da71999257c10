/* The agent's task bookkeeping (slave/tasks.c) against a fake master: the agent runs simulated
 * containers in this process (the runtime without workers, the clock paused) and a test actor
 * plays the master, so that it can send RunTask, KillTask, acknowledgements, ShutdownFramework
 * and reconciliations directly and see every status update and reregistration the agent sends.
 *
 * What is checked is that the agent finds each task (its framework's index of tasks by id) at
 * every step of its life across many executors: while running, killed, finished but not yet
 * acknowledged, acknowledged (gone: a kill or a reconciliation names it unknown), launched again
 * under the same id, and after its framework is shut down. A stale index entry would be a
 * use-after-free, which the ASan build of this test catches. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "actor/actor.h"
#include "actor/clock.h"
#include "actor/pbcopy.h"
#include "internal.pb-c.h"
#include "slave/agent.h"
#include "tests/master/support.h"
#include "tests/support/executor_messages.h"
#include "tests/support/fs.h"

#define AGENT_ID "S0"
#define ST(s)    MESOS__TASK_STATE__TASK_##s

/* ---- the fake master ---- */

typedef struct fake_master {
    actor_pid_t pid;
    actor_pid_t agent;
    Mesos__Internal__StatusUpdate **updates; /* every update received, in order (owned) */
    size_t count, cap;
    size_t acked;        /* updates[0..acked) were acknowledged */
    size_t reregistered; /* ReregisterAgentMessages received */
    size_t tasks;        /* tasks reported by the last one */
    /* Sent with the next AgentReregisteredMessage (borrowed), or NULL. */
    Mesos__Internal__ReconcileTasksMessage *reconcile;
} fake_master_t;

static void reply(actor_t *self, const actor_pid_t *to, const ProtobufCMessage *msg)
{
    assert_int_equal(actor_send(self, to, msg), ACTOR_OK);
}

static void on_register(actor_t *self, void *state, const actor_pid_t *from,
                        const ProtobufCMessage *msg)
{
    (void)msg;
    fake_master_t *m = *(fake_master_t **)state;
    m->agent = *from;
    Mesos__AgentID aid = MESOS__AGENT_ID__INIT;
    aid.value = AGENT_ID;
    Mesos__Internal__MasterAgentConnection conn = MESOS__INTERNAL__MASTER_AGENT_CONNECTION__INIT;
    conn.has_total_ping_timeout_seconds = true;
    conn.total_ping_timeout_seconds = 1000;
    Mesos__Internal__AgentRegisteredMessage r = MESOS__INTERNAL__AGENT_REGISTERED_MESSAGE__INIT;
    r.agent_id = &aid;
    r.connection = &conn;
    reply(self, from, &r.base);
}

static void on_reregister(actor_t *self, void *state, const actor_pid_t *from,
                          const ProtobufCMessage *msg)
{
    fake_master_t *m = *(fake_master_t **)state;
    m->reregistered++;
    m->tasks = ((const Mesos__Internal__ReregisterAgentMessage *)msg)->n_tasks;
    Mesos__AgentID aid = MESOS__AGENT_ID__INIT;
    aid.value = AGENT_ID;
    Mesos__Internal__AgentReregisteredMessage r = MESOS__INTERNAL__AGENT_REREGISTERED_MESSAGE__INIT;
    r.agent_id = &aid;
    if (m->reconcile != NULL) {
        r.reconciliations = &m->reconcile;
        r.n_reconciliations = 1;
    }
    reply(self, from, &r.base);
}

static void on_update(actor_t *self, void *state, const actor_pid_t *from,
                      const ProtobufCMessage *msg)
{
    (void)self, (void)from;
    fake_master_t *m = *(fake_master_t **)state;
    if (m->count == m->cap) {
        m->cap = m->cap ? m->cap * 2 : 64;
        m->updates = realloc(m->updates, m->cap * sizeof(*m->updates));
        assert_non_null(m->updates);
    }
    const Mesos__Internal__StatusUpdateMessage *u =
        (const Mesos__Internal__StatusUpdateMessage *)msg;
    m->updates[m->count] = PB_COPY(Mesos__Internal__StatusUpdate, u->update);
    assert_non_null(m->updates[m->count++]);
}

static void on_ignored(actor_t *self, void *state, const actor_pid_t *from,
                       const ProtobufCMessage *msg)
{
    (void)self, (void)state, (void)from, (void)msg;
}

static void fake_master_init(actor_t *self, void *state, void *arg)
{
    (void)self;
    *(fake_master_t **)state = arg;
}

static const actor_handler_t fake_master_handlers[] = {
    {&mesos__internal__register_agent_message__descriptor, on_register},
    {&mesos__internal__reregister_agent_message__descriptor, on_reregister},
    {&mesos__internal__status_update_message__descriptor, on_update},
    {&mesos__internal__pong_agent_message__descriptor, on_ignored},
    {&mesos__internal__exited_executor_message__descriptor, on_ignored},
    /* For the updates it sends as an executor would. */
    {&mesos__internal__status_update_acknowledgement_message__descriptor, on_ignored},
};

static const actor_ops_t fake_master_ops = {
    .name = "master",
    .state_size = sizeof(fake_master_t *),
    .init = fake_master_init,
    .handlers = fake_master_handlers,
    .handler_count = sizeof(fake_master_handlers) / sizeof(fake_master_handlers[0]),
};

/* Sends msg from the fake master to the agent and settles. fake_send (tests/master/support.h)
 * runs the send inside the actor its fake_t names, which needs only the actor's PID. */
static void master_send(fake_master_t *m, const ProtobufCMessage *msg)
{
    fake_t sender = {.pid = m->pid};
    fake_send(&sender, &m->agent, msg);
}

/* ---- fixture ---- */

typedef struct fixture {
    fake_master_t master;
    actor_pid_t agent;
    char work_dir[64];
} fixture_t;

static int setup(void **state)
{
    cluster_runtime_start();
    fixture_t *fx = calloc(1, sizeof(*fx));
    assert_non_null(fx);
    assert_int_equal(actor_spawn(&fake_master_ops, NULL, &fx->master, &fx->master.pid), ACTOR_OK);
    assert_non_null(support_fs_tempdir(fx->work_dir, sizeof(fx->work_dir), "test_tasks"));
    agent_options_t o;
    agent_options_init(&o);
    char master[ACTOR_PID_STRLEN], err[256] = "";
    actor_pid_format(&fx->master.pid, master, sizeof(master));
    o.master = master;
    o.work_dir = fx->work_dir;
    o.resources = "cpus:64;mem:65536;disk:1024;ports:[31000-32000]";
    o.simulated = true;
    assert_int_equal(agent_start(&o, &fx->agent, err, sizeof(err)), ACTOR_OK);
    actor_settle();
    assert_true(actor_pid_equal(&fx->master.agent, &fx->agent)); /* registered */
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *fx = *state;
    agent_stop(&fx->agent);
    actor_terminate(&fx->master.pid);
    actor_settle();
    for (size_t i = 0; i < fx->master.count; i++)
        mesos__internal__status_update__free_unpacked(fx->master.updates[i], NULL);
    free(fx->master.updates);
    cluster_runtime_stop();
    assert_int_equal(support_fs_rmtree(fx->work_dir), 0);
    free(fx);
    return 0;
}

/* ---- what the master says ---- */

/* A task's ids in protobuf form (the strings borrowed). */
typedef struct task_ids {
    Mesos__FrameworkID framework;
    Mesos__TaskID task;
    Mesos__AgentID agent;
} task_ids_t;

static void task_ids_init(task_ids_t *ids, const char *framework_id, const char *task_id)
{
    mesos__framework_id__init(&ids->framework);
    mesos__task_id__init(&ids->task);
    mesos__agent_id__init(&ids->agent);
    ids->framework.value = (char *)framework_id;
    ids->task.value = (char *)task_id;
    ids->agent.value = AGENT_ID;
}

/* Launches task_id of framework_id running `command` (a `sleep N` finishes after N seconds in
 * a simulated container), under executor_id, or the command executor when it is NULL. */
static void run_task(fixture_t *fx, const char *framework_id, const char *task_id,
                     const char *executor_id, const char *command)
{
    task_ids_t ids;
    task_ids_init(&ids, framework_id, task_id);
    Mesos__FrameworkInfo fw = MESOS__FRAMEWORK_INFO__INIT;
    fw.id = &ids.framework;
    fw.user = "nobody";
    fw.name = "test";
    fw.has_checkpoint = true;
    fw.checkpoint = true;
    Mesos__CommandInfo cmd = MESOS__COMMAND_INFO__INIT;
    cmd.value = (char *)command;
    Mesos__ExecutorID eid = MESOS__EXECUTOR_ID__INIT;
    eid.value = (char *)executor_id;
    Mesos__ExecutorInfo executor = MESOS__EXECUTOR_INFO__INIT;
    executor.executor_id = &eid;
    executor.framework_id = &ids.framework;
    executor.command = &cmd;
    Mesos__TaskInfo task = MESOS__TASK_INFO__INIT;
    task.name = (char *)task_id;
    task.task_id = &ids.task;
    task.agent_id = &ids.agent;
    if (executor_id != NULL)
        task.executor = &executor;
    else
        task.command = &cmd;
    Mesos__Internal__RunTaskMessage run = MESOS__INTERNAL__RUN_TASK_MESSAGE__INIT;
    run.framework = &fw;
    run.framework_id = &ids.framework;
    run.task = &task;
    run.pid = "";
    master_send(&fx->master, &run.base);
}

static void kill_task(fixture_t *fx, const char *framework_id, const char *task_id)
{
    task_ids_t ids;
    task_ids_init(&ids, framework_id, task_id);
    Mesos__Internal__KillTaskMessage kill = MESOS__INTERNAL__KILL_TASK_MESSAGE__INIT;
    kill.framework_id = &ids.framework;
    kill.task_id = &ids.task;
    master_send(&fx->master, &kill.base);
}

static void shutdown_framework(fixture_t *fx, const char *framework_id)
{
    task_ids_t ids;
    task_ids_init(&ids, framework_id, NULL);
    Mesos__Internal__ShutdownFrameworkMessage m = MESOS__INTERNAL__SHUTDOWN_FRAMEWORK_MESSAGE__INIT;
    m.framework_id = &ids.framework;
    master_send(&fx->master, &m.base);
}

/* A status update of a task from its executor (played by the fake master: the agent takes
 * updates from any sender and acknowledges them to it). */
static void executor_update(fixture_t *fx, const char *framework_id, const char *task_id,
                            Mesos__TaskState state)
{
    static uint8_t seq;
    uint8_t uuid[16] = {0xee, ++seq};
    task_ids_t ids;
    task_ids_init(&ids, framework_id, task_id);
    Mesos__TaskStatus status = MESOS__TASK_STATUS__INIT;
    status.task_id = &ids.task;
    status.state = state;
    status.has_uuid = true;
    status.uuid.data = uuid;
    status.uuid.len = sizeof(uuid);
    Mesos__Internal__StatusUpdate update = MESOS__INTERNAL__STATUS_UPDATE__INIT;
    update.framework_id = &ids.framework;
    update.status = &status;
    update.has_uuid = true;
    update.uuid = status.uuid;
    Mesos__Internal__StatusUpdateMessage m = MESOS__INTERNAL__STATUS_UPDATE_MESSAGE__INIT;
    m.update = &update;
    master_send(&fx->master, &m.base);
}

/* Acknowledges the i-th update received. */
static void ack(fixture_t *fx, size_t i)
{
    status_ack_t a;
    status_ack_init(&a, AGENT_ID, fx->master.updates[i]);
    master_send(&fx->master, &a.msg.base);
}

/* Acknowledges every update received so far, in order (each acknowledgement lets the agent
 * send the next update of that task, which the same loop acknowledges). */
static void ack_all(fixture_t *fx)
{
    while (fx->master.acked < fx->master.count)
        ack(fx, fx->master.acked++);
}

/* The agent reregisters (a ping says it is disconnected) and reports its tasks; with
 * reconcile, the master's reply asks about those statuses. Returns the tasks reported. */
static size_t reregister(fixture_t *fx, Mesos__Internal__ReconcileTasksMessage *reconcile)
{
    size_t before = fx->master.reregistered;
    fx->master.reconcile = reconcile;
    Mesos__Internal__PingAgentMessage ping = MESOS__INTERNAL__PING_AGENT_MESSAGE__INIT;
    ping.connected = false;
    master_send(&fx->master, &ping.base);
    fx->master.reconcile = NULL;
    assert_int_equal(fx->master.reregistered, before + 1);
    return fx->master.tasks;
}

/* ---- what the agent says ---- */

/* Updates received from index `from` on about task_id of framework_id. */
static size_t updates_since(const fixture_t *fx, size_t from, const char *framework_id,
                            const char *task_id)
{
    size_t n = 0;
    for (size_t i = from; i < fx->master.count; i++) {
        const Mesos__Internal__StatusUpdate *u = fx->master.updates[i];
        n += strcmp(u->framework_id->value, framework_id) == 0 &&
             strcmp(u->status->task_id->value, task_id) == 0;
    }
    return n;
}

/* The last update received about task_id of framework_id (NULL if none). */
static const Mesos__TaskStatus *last_status(const fixture_t *fx, const char *framework_id,
                                            const char *task_id)
{
    for (size_t i = fx->master.count; i-- > 0;) {
        const Mesos__Internal__StatusUpdate *u = fx->master.updates[i];
        if (strcmp(u->framework_id->value, framework_id) == 0 &&
            strcmp(u->status->task_id->value, task_id) == 0)
            return u->status;
    }
    return NULL;
}

static int last_state(const fixture_t *fx, const char *framework_id, const char *task_id)
{
    const Mesos__TaskStatus *s = last_status(fx, framework_id, task_id);
    return s != NULL ? (int)s->state : -1;
}

/* ---- tests ---- */

/* Runs task_id (`sleep 1000`), sees it run while the agent holds `tasks` tasks, kills it and
 * acknowledges both updates: it is found at each step. */
static void run_and_kill(fixture_t *fx, const char *framework_id, const char *task_id,
                         const char *executor_id, size_t tasks)
{
    run_task(fx, framework_id, task_id, executor_id, "sleep 1000");
    assert_int_equal(last_state(fx, framework_id, task_id), ST(RUNNING));
    ack_all(fx);
    assert_int_equal(reregister(fx, NULL), tasks);
    kill_task(fx, framework_id, task_id);
    assert_int_equal(last_state(fx, framework_id, task_id), ST(KILLED));
    ack_all(fx);
}

#define TASKS 150

static const char *task_name(int i)
{
    static char names[TASKS][16];
    snprintf(names[i], sizeof(names[i]), "t%03d", i);
    return names[i];
}

/* TASKS command tasks, hence TASKS executors in one framework: a third finish (sleep 5), a
 * third are killed, a third keep running; each is found (or known gone) at every step. */
static void test_tasks_found_across_many_executors(void **state)
{
    fixture_t *fx = *state;
    for (int i = 0; i < TASKS; i++)
        run_task(fx, "F0", task_name(i), NULL, i % 3 == 0 ? "sleep 5" : "sleep 1000");
    for (int i = 0; i < TASKS; i++)
        assert_int_equal(last_state(fx, "F0", task_name(i)), ST(RUNNING));
    ack_all(fx);
    for (int i = 1; i < TASKS; i += 3)
        kill_task(fx, "F0", task_name(i));
    for (int i = 1; i < TASKS; i += 3)
        assert_int_equal(last_state(fx, "F0", task_name(i)), ST(KILLED));
    ack_all(fx); /* the killed tasks are completed: gone from the index */
    actor_clock_advance(6 * ACTOR_NS_PER_SEC);
    actor_settle();
    for (int i = 0; i < TASKS; i += 3)
        assert_int_equal(last_state(fx, "F0", task_name(i)), ST(FINISHED));
    /* Not acknowledged yet: the finished tasks are still on the agent, the killed are not. */
    assert_int_equal(reregister(fx, NULL), TASKS / 3 * 2);
    size_t mark = fx->master.count;
    kill_task(fx, "F0", task_name(0)); /* terminal: nothing to do */
    assert_int_equal(updates_since(fx, mark, "F0", task_name(0)), 0);
    kill_task(fx, "F0", task_name(1)); /* completed: unknown */
    assert_int_equal(updates_since(fx, mark, "F0", task_name(1)), 1);
    assert_int_equal(last_state(fx, "F0", task_name(1)), ST(LOST));
    assert_int_equal(last_status(fx, "F0", task_name(1))->reason,
                     MESOS__TASK_STATUS__REASON__REASON_TASK_UNKNOWN);
    kill_task(fx, "F0", "never-launched");
    assert_int_equal(last_state(fx, "F0", "never-launched"), ST(LOST));
    ack_all(fx);
    assert_int_equal(reregister(fx, NULL), TASKS / 3);
    /* Running ones are still found: killing the last one works. */
    kill_task(fx, "F0", task_name(TASKS - 1));
    assert_int_equal(last_state(fx, "F0", task_name(TASKS - 1)), ST(KILLED));
    ack_all(fx);
    assert_int_equal(reregister(fx, NULL), TASKS / 3 - 1);
}

/* The master asks about tasks: only those the agent does not have are answered, as lost. */
static void test_reconciliation_names_only_unknown_tasks(void **state)
{
    fixture_t *fx = *state;
    for (int i = 0; i < 20; i++)
        run_task(fx, "F0", task_name(i), NULL, i < 10 ? "sleep 5" : "sleep 1000");
    ack_all(fx);
    actor_clock_advance(6 * ACTOR_NS_PER_SEC);
    actor_settle();
    /* t000..t004 acknowledged (gone), t005..t009 finished and waiting for acknowledgements. */
    fake_master_t *m = &fx->master;
    size_t finished = m->count;
    for (size_t i = m->acked; i < finished; i++) {
        if (strcmp(m->updates[i]->status->task_id->value, task_name(5)) < 0)
            ack(fx, i);
    }
    m->acked = finished;
    Mesos__TaskStatus statuses[22], *ptrs[22];
    Mesos__TaskID ids[22];
    for (int i = 0; i < 22; i++) {
        mesos__task_id__init(&ids[i]);
        ids[i].value = i < 20 ? (char *)task_name(i) : i == 20 ? "ghost" : "phantom";
        mesos__task_status__init(&statuses[i]);
        statuses[i].task_id = &ids[i];
        statuses[i].state = ST(RUNNING);
        ptrs[i] = &statuses[i];
    }
    Mesos__FrameworkID fid = MESOS__FRAMEWORK_ID__INIT;
    fid.value = "F0";
    Mesos__Internal__ReconcileTasksMessage r = MESOS__INTERNAL__RECONCILE_TASKS_MESSAGE__INIT;
    r.framework_id = &fid;
    r.statuses = ptrs;
    r.n_statuses = 22;
    size_t mark = m->count;
    assert_int_equal(reregister(fx, &r), 15);
    for (int i = 0; i < 5; i++) {
        assert_int_equal(updates_since(fx, mark, "F0", task_name(i)), 1);
        assert_int_equal(last_state(fx, "F0", task_name(i)), ST(LOST));
        assert_int_equal(last_status(fx, "F0", task_name(i))->reason,
                         MESOS__TASK_STATUS__REASON__REASON_RECONCILIATION);
    }
    /* Known, so not answered (their FINISHED is only sent again, as after any reregistration). */
    for (int i = 5; i < 10; i++)
        assert_int_equal(last_state(fx, "F0", task_name(i)), ST(FINISHED));
    for (int i = 10; i < 20; i++)
        assert_int_equal(updates_since(fx, mark, "F0", task_name(i)), 0);
    assert_int_equal(last_state(fx, "F0", "ghost"), ST(LOST));
    assert_int_equal(last_state(fx, "F0", "phantom"), ST(LOST));
    ack_all(fx);
    assert_int_equal(reregister(fx, NULL), 10);
}

/* A task id is the framework's: a second RunTask of a live id is ignored even when it names
 * another executor, while the same id in another framework is another task. */
static void test_task_ids_are_per_framework(void **state)
{
    fixture_t *fx = *state;
    run_task(fx, "F0", "web", "ex1", "sleep 1000");
    run_task(fx, "F1", "web", "ex1", "sleep 1000");
    assert_int_equal(last_state(fx, "F0", "web"), ST(RUNNING));
    assert_int_equal(last_state(fx, "F1", "web"), ST(RUNNING));
    size_t mark = fx->master.count;
    run_task(fx, "F0", "web", "ex2", "sleep 1000"); /* a resent launch */
    run_task(fx, "F0", "web", NULL, "sleep 1000");
    assert_int_equal(updates_since(fx, mark, "F0", "web"), 0);
    ack_all(fx);
    assert_int_equal(reregister(fx, NULL), 2);
    kill_task(fx, "F1", "web");
    assert_int_equal(last_state(fx, "F1", "web"), ST(KILLED));
    assert_int_equal(last_state(fx, "F0", "web"), ST(RUNNING));
    ack_all(fx);
    /* Completed: the id may be used again, and the new task is found. */
    run_and_kill(fx, "F1", "web", "ex1", 2);
}

/* Many tasks in one executor: each is found, and the executor ends with its last one. */
static void test_many_tasks_in_one_executor(void **state)
{
    fixture_t *fx = *state;
    for (int i = 0; i < 60; i++)
        run_task(fx, "F0", task_name(i), "shared", "sleep 1000");
    ack_all(fx);
    for (int i = 0; i < 60; i++) {
        if (i % 2 == 0)
            executor_update(fx, "F0", task_name(i), ST(FINISHED));
        else
            kill_task(fx, "F0", task_name(i));
    }
    for (int i = 0; i < 60; i++)
        assert_int_equal(last_state(fx, "F0", task_name(i)),
                         i % 2 == 0 ? ST(FINISHED) : ST(KILLED));
    assert_int_equal(reregister(fx, NULL), 60);
    ack_all(fx);
    assert_int_equal(reregister(fx, NULL), 0);
    /* The executor is gone with its last task: a task for it starts a new one, found too. */
    run_and_kill(fx, "F0", task_name(0), "shared", 1);
    assert_int_equal(reregister(fx, NULL), 0);
}

/* ShutdownFramework: terminated tasks waiting for acknowledgements are completed at once, the
 * running ones killed and completed, and the framework's index is empty when it is freed. A
 * framework whose executors all ended comes back with its next task. */
static void test_framework_shutdown_and_return(void **state)
{
    fixture_t *fx = *state;
    for (int i = 0; i < 30; i++)
        run_task(fx, "F0", task_name(i), i < 10 ? "shared" : NULL,
                 i % 3 == 0 ? "sleep 5" : "sleep 1000");
    run_task(fx, "F1", "u1", NULL, "sleep 5");
    ack_all(fx);
    actor_clock_advance(6 * ACTOR_NS_PER_SEC);
    actor_settle();
    assert_int_equal(reregister(fx, NULL), 31);
    shutdown_framework(fx, "F0");
    size_t mark = fx->master.count;
    kill_task(fx, "F0", task_name(1));
    assert_int_equal(updates_since(fx, mark, "F0", task_name(1)), 1);
    assert_int_equal(last_state(fx, "F0", task_name(1)), ST(LOST)); /* unknown now */
    ack_all(fx);
    assert_int_equal(reregister(fx, NULL), 0); /* F1's u1 finished and was acknowledged */
    run_and_kill(fx, "F1", "u2", NULL, 1);     /* F1 comes back from the completed ones */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_tasks_found_across_many_executors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reconciliation_names_only_unknown_tasks, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_task_ids_are_per_framework, setup, teardown),
        cmocka_unit_test_setup_teardown(test_many_tasks_in_one_executor, setup, teardown),
        cmocka_unit_test_setup_teardown(test_framework_shutdown_and_return, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
