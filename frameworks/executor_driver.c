/*
 * executor_driver.c: the executor driver's actor ("executor(N)"): start, registration, the
 * agent's messages, losing the agent, shutdown and the end (Mesos's src/exec/exec.cpp). Status
 * updates and framework messages are in executor_driver_calls.c.
 *
 * The agent connection:
 *
 *   registering --ExecutorRegistered--> connected --link broke--> disconnected
 *     | (RegisterExecutor                   ^                         |  (checkpoint only:
 *     |  every second)                      +--ExecutorReregistered---+   `disconnected`)
 *     | link broke                            <- Reconnect, answered   |
 *     v                                          with Reregister      |
 *   agent gone <------------ recovery timeout, or link broke ---------+
 *   (without checkpointing a connected executor goes there at once; the driver aborts and
 *    calls `shutdown`)
 *
 * Shutdown (ShutdownExecutorMessage, the agent gone, a signal): `shutdown` once, then the
 * shutdown grace period; at its end a driver still running aborts and ends. After `shutdown`
 * new tasks are refused (logged and dropped, as Mesos's aborted driver drops them) while
 * acknowledgements still count, so that the executor can wait for its TASK_KILLED to be safe.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actor/daemon.h"
#include "actor/flags.h"
#include "actor/log.h"
#include "actor/pbcopy.h"
#include "frameworks/executor_driver_int.h"

#define DEFAULT_RECOVERY_TIMEOUT_NS   (15 * 60 * ACTOR_NS_PER_SEC)
#define DEFAULT_SHUTDOWN_GRACE_NS     (5 * ACTOR_NS_PER_SEC)
#define DEFAULT_REGISTRATION_RETRY_NS (1 * ACTOR_NS_PER_SEC)
#define DEFAULT_UPDATE_RETRY_NS       (10 * ACTOR_NS_PER_SEC)
#define DEFAULT_UPDATE_RETRY_MAX_NS   (10 * 60 * ACTOR_NS_PER_SEC)

_Thread_local executor_driver_t *exec_driver_running;

void executor_driver_options_init(executor_driver_options_t *opts)
{
    memset(opts, 0, sizeof(*opts));
    opts->recovery_timeout_ns = DEFAULT_RECOVERY_TIMEOUT_NS;
    opts->shutdown_grace_period_ns = DEFAULT_SHUTDOWN_GRACE_NS;
    opts->registration_retry_ns = DEFAULT_REGISTRATION_RETRY_NS;
    opts->update_retry_ns = DEFAULT_UPDATE_RETRY_NS;
    opts->update_retry_max_ns = DEFAULT_UPDATE_RETRY_MAX_NS;
}

/* ---- events in and out of the actor ---- */

executor_driver_t *exec_enter(exec_state_t *st)
{
    executor_driver_t *previous = exec_driver_running;
    exec_driver_running = st->d;
    return previous;
}

void exec_leave(exec_state_t *st, executor_driver_t *previous)
{
    if (st->stop_pending && !st->ended) {
        st->ended = true;
        actor_timer_disarm(&st->registration_timer);
        actor_timer_disarm(&st->update_timer);
        actor_timer_disarm(&st->shutdown_timer);
        actor_terminate(actor_self(st->self));
    }
    exec_driver_running = previous;
}

void exec_abort(exec_state_t *st)
{
    atomic_store(&st->d->closed, true);
    int expected = EXECUTOR_DRIVER_RUNNING;
    atomic_compare_exchange_strong(&st->d->status, &expected, EXECUTOR_DRIVER_ABORTED);
    st->stop_pending = true;
}

void exec_send(exec_state_t *st, const ProtobufCMessage *msg)
{
    actor_err_t err = actor_send(st->self, &st->agent, msg);
    if (err != ACTOR_OK)
        LOG_WARNING("Cannot send %s to the agent: %s", msg->descriptor->name, actor_strerror(err));
}

bool exec_from_agent(const exec_state_t *st, const actor_pid_t *from, const char *what)
{
    if (actor_pid_equal(from, &st->agent))
        return true;
    char text[ACTOR_PID_STRLEN], agent[ACTOR_PID_STRLEN];
    LOG_WARNING("Ignoring %s from %s because it is not from the agent %s", what,
                actor_pid_format(from, text, sizeof(text)),
                actor_pid_format(&st->agent, agent, sizeof(agent)));
    return false;
}

static void set_agent_id(exec_state_t *st, const Mesos__AgentID *id)
{
    if (id == NULL || (st->agent_id != NULL && strcmp(st->agent_id, id->value) == 0))
        return;
    char *copy = strdup(id->value);
    if (copy == NULL)
        return; /* keep the one we had */
    free(st->agent_id);
    st->agent_id = copy;
}

/* ---- shutdown ---- */

static void shutdown_timeout(actor_t *self, void *state, void *arg)
{
    (void)arg;
    if (self == NULL)
        return;
    exec_state_t *st = state;
    st->shutdown_timer = 0;
    executor_driver_t *previous = exec_enter(st);
    char grace[32];
    flags_duration_format(st->shutdown_grace_ns, grace, sizeof(grace));
    LOG_WARNING("The executor did not stop within the shutdown grace period of %s: aborting the "
                "driver",
                grace);
    exec_abort(st);
    exec_leave(st, previous);
}

/* Inside an event: `shutdown` once (a stop without the callback), and its grace period. */
static void begin_shutdown(exec_state_t *st, const char *reason)
{
    if (st->shutting_down || st->stop_pending)
        return;
    st->shutting_down = true;
    LOG_INFO("Shutting down: %s", reason);
    actor_timer_disarm(&st->registration_timer);
    st->shutdown_timer = actor_delay(st->self, st->shutdown_grace_ns, shutdown_timeout, NULL);
    if (st->shutdown_timer == 0)
        LOG_ERROR("Out of memory arming the shutdown grace period");
    executor_driver_t *d = st->d;
    if (!exec_callbacks_on(d))
        return;
    if (d->cbs.shutdown != NULL)
        d->cbs.shutdown(d, d->user);
    else
        executor_driver_stop(d);
}

/* Nothing can reach the agent any more: abort (callbacks stay on) and shut down. */
static void agent_gone(exec_state_t *st, const char *reason)
{
    st->agent_gone = true;
    st->connected = false;
    actor_timer_disarm(&st->update_timer);
    int expected = EXECUTOR_DRIVER_RUNNING;
    atomic_compare_exchange_strong(&st->d->status, &expected, EXECUTOR_DRIVER_ABORTED);
    begin_shutdown(st, reason);
}

/* ---- registration ---- */

static void send_register(exec_state_t *st)
{
    Mesos__FrameworkID fid = MESOS__FRAMEWORK_ID__INIT;
    Mesos__ExecutorID eid = MESOS__EXECUTOR_ID__INIT;
    Mesos__Internal__RegisterExecutorMessage m = MESOS__INTERNAL__REGISTER_EXECUTOR_MESSAGE__INIT;
    fid.value = st->framework_id;
    eid.value = st->executor_id;
    m.framework_id = &fid;
    m.executor_id = &eid;
    exec_send(st, &m.base);
}

static void registration_tick(actor_t *self, void *state, void *arg)
{
    (void)arg;
    if (self == NULL)
        return;
    exec_state_t *st = state;
    st->registration_timer = 0;
    if (st->registered || st->agent_gone || st->shutting_down || st->stop_pending)
        return;
    VLOG(1, "No answer from the agent yet: registering again");
    send_register(st);
    st->registration_timer = actor_delay(self, st->registration_retry_ns, registration_tick, NULL);
}

static void recovery_timeout(actor_t *self, void *state, void *arg)
{
    if (self == NULL)
        return;
    exec_state_t *st = state;
    if (st->connected || st->agent_gone || (uint64_t)(uintptr_t)arg != st->connection)
        return;
    executor_driver_t *previous = exec_enter(st);
    char timeout[32];
    flags_duration_format(st->recovery_timeout_ns, timeout, sizeof(timeout));
    LOG_INFO("Recovery timeout of %s exceeded", timeout);
    agent_gone(st, "the agent did not come back within the recovery timeout");
    exec_leave(st, previous);
}

static void exec_exited(actor_t *self, void *state, const actor_pid_t *pid)
{
    exec_state_t *st = state;
    if (!actor_pid_equal(pid, &st->agent) || st->agent_gone || st->stop_pending)
        return;
    executor_driver_t *previous = exec_enter(st);
    if (st->checkpoint && st->connected) {
        char timeout[32];
        flags_duration_format(st->recovery_timeout_ns, timeout, sizeof(timeout));
        LOG_INFO("Agent exited, but the framework checkpoints: waiting %s for it to reconnect",
                 timeout);
        st->connected = false;
        st->connection++;
        actor_timer_disarm(&st->update_timer);
        if (actor_delay(self, st->recovery_timeout_ns, recovery_timeout,
                        (void *)(uintptr_t)st->connection) == 0)
            LOG_ERROR("Out of memory arming the recovery timeout");
        if (exec_callbacks_on(st->d) && st->d->cbs.disconnected != NULL)
            st->d->cbs.disconnected(st->d, st->d->user);
    } else {
        agent_gone(st, "the agent exited");
    }
    exec_leave(st, previous);
}

/* ---- the agent's messages ---- */

static void exec_on_registered(actor_t *self, void *state, const actor_pid_t *from,
                               const ProtobufCMessage *msg)
{
    (void)self;
    exec_state_t *st = state;
    const Mesos__Internal__ExecutorRegisteredMessage *m = (const void *)msg;
    if (!exec_from_agent(st, from, "a registration answer") || st->agent_gone)
        return;
    if (st->registered) {
        VLOG(1, "Ignoring a repeated registration answer");
        return;
    }
    executor_driver_t *previous = exec_enter(st);
    st->registered = st->connected = true;
    st->connection++;
    actor_timer_disarm(&st->registration_timer);
    set_agent_id(st, m->agent_id);
    LOG_INFO("Registered with agent %s on %s", m->agent_id->value,
             m->agent_info->hostname != NULL ? m->agent_info->hostname : "?");
    executor_driver_t *d = st->d;
    if (exec_callbacks_on(d) && d->cbs.registered != NULL)
        d->cbs.registered(d, d->user, m->executor_info, m->framework_info, m->agent_info);
    exec_leave(st, previous);
}

static bool task_known(const exec_state_t *st, const char *task_id)
{
    for (const exec_task_t *t = st->tasks; t != NULL; t = t->next)
        if (strcmp(t->info->task_id->value, task_id) == 0)
            return true;
    return false;
}

static bool task_add(exec_state_t *st, const Mesos__TaskInfo *info)
{
    exec_task_t *t = malloc(sizeof(*t));
    Mesos__TaskInfo *copy = PB_COPY(Mesos__TaskInfo, info);
    if (t == NULL || copy == NULL) {
        free(t);
        if (copy != NULL)
            mesos__task_info__free_unpacked(copy, NULL);
        return false;
    }
    t->info = copy;
    t->next = NULL;
    exec_task_t **tail = &st->tasks;
    while (*tail != NULL)
        tail = &(*tail)->next;
    *tail = t;
    return true;
}

static void exec_on_run_task(actor_t *self, void *state, const actor_pid_t *from,
                             const ProtobufCMessage *msg)
{
    (void)self;
    exec_state_t *st = state;
    const Mesos__Internal__RunTaskMessage *m = (const void *)msg;
    const char *id = m->task->task_id->value;
    if (!exec_from_agent(st, from, "a task") || st->stop_pending)
        return;
    if (st->shutting_down || task_known(st, id)) {
        LOG_WARNING("Ignoring task %s: %s", id,
                    st->shutting_down ? "the executor is shutting down" : "a duplicate task id");
        return;
    }
    if (!task_add(st, m->task)) {
        LOG_ERROR("Out of memory keeping task %s: dropping it", id);
        return;
    }
    executor_driver_t *previous = exec_enter(st);
    executor_driver_t *d = st->d;
    if (exec_callbacks_on(d) && d->cbs.launch_task != NULL)
        d->cbs.launch_task(d, d->user, m->task);
    exec_leave(st, previous);
}

static void exec_on_kill_task(actor_t *self, void *state, const actor_pid_t *from,
                              const ProtobufCMessage *msg)
{
    (void)self;
    exec_state_t *st = state;
    const Mesos__Internal__KillTaskMessage *m = (const void *)msg;
    if (!exec_from_agent(st, from, "a kill") || st->stop_pending)
        return;
    executor_driver_t *previous = exec_enter(st);
    executor_driver_t *d = st->d;
    LOG_INFO("Asked to kill task %s", m->task_id->value);
    if (exec_callbacks_on(d) && d->cbs.kill_task != NULL)
        d->cbs.kill_task(d, d->user, m->task_id->value, m->kill_policy);
    exec_leave(st, previous);
}

static void exec_on_framework_message(actor_t *self, void *state, const actor_pid_t *from,
                                      const ProtobufCMessage *msg)
{
    (void)self;
    exec_state_t *st = state;
    const Mesos__Internal__FrameworkToExecutorMessage *m = (const void *)msg;
    if (!exec_from_agent(st, from, "a framework message") || st->stop_pending)
        return;
    executor_driver_t *previous = exec_enter(st);
    executor_driver_t *d = st->d;
    if (exec_callbacks_on(d) && d->cbs.framework_message != NULL)
        d->cbs.framework_message(d, d->user, m->data.data, m->data.len);
    else
        VLOG(1, "Ignoring a framework message: the executor takes none");
    exec_leave(st, previous);
}

static void exec_on_shutdown(actor_t *self, void *state, const actor_pid_t *from,
                             const ProtobufCMessage *msg)
{
    (void)self, (void)msg;
    exec_state_t *st = state;
    if (!exec_from_agent(st, from, "a shutdown"))
        return;
    executor_driver_t *previous = exec_enter(st);
    begin_shutdown(st, "the agent asked");
    exec_leave(st, previous);
}

static void exec_on_reconnect(actor_t *self, void *state, const actor_pid_t *from,
                              const ProtobufCMessage *msg)
{
    exec_state_t *st = state;
    const Mesos__Internal__ReconnectExecutorMessage *m = (const void *)msg;
    char text[ACTOR_PID_STRLEN];
    if (st->agent_gone || st->stop_pending) {
        LOG_WARNING("Ignoring a reconnect request from %s: the executor is ending",
                    actor_pid_format(from, text, sizeof(text)));
        return;
    }
    LOG_INFO("Received a reconnect request from agent %s at %s", m->agent_id->value,
             actor_pid_format(from, text, sizeof(text)));
    st->agent = *from; /* as Mesos: the agent is whoever asks, at its new address if it moved */
    actor_link(self, from);
    set_agent_id(st, m->agent_id);
    exec_send_reregister(st);
}

static void exec_on_reregistered(actor_t *self, void *state, const actor_pid_t *from,
                                 const ProtobufCMessage *msg)
{
    (void)self;
    exec_state_t *st = state;
    const Mesos__Internal__ExecutorReregisteredMessage *m = (const void *)msg;
    if (!exec_from_agent(st, from, "a reregistration answer") || st->agent_gone || st->stop_pending)
        return;
    executor_driver_t *previous = exec_enter(st);
    st->registered = st->connected = true;
    st->connection++;
    set_agent_id(st, m->agent_id);
    LOG_INFO("Reregistered with agent %s", m->agent_id->value);
    exec_updates_resend(st); /* the agent replayed them: this only arms the resend timer */
    executor_driver_t *d = st->d;
    if (exec_callbacks_on(d) && d->cbs.reregistered != NULL)
        d->cbs.reregistered(d, d->user, m->agent_info);
    exec_leave(st, previous);
}

/* ---- the actor ---- */

typedef struct start_arg {
    executor_driver_t *d;
    executor_driver_options_t opts; /* its strings replaced by the copies below */
    char *framework_id, *executor_id, *agent_id;
} start_arg_t;

static void start_arg_free(start_arg_t *a)
{
    free(a->framework_id);
    free(a->executor_id);
    free(a->agent_id);
    free(a);
}

static void exec_init(actor_t *self, void *state, void *arg)
{
    exec_state_t *st = state;
    start_arg_t *a = arg;
    st->d = a->d;
    st->self = self;
    st->agent = a->opts.agent;
    st->framework_id = a->framework_id;
    st->executor_id = a->executor_id;
    st->agent_id = a->agent_id;
    st->checkpoint = a->opts.checkpoint;
    st->recovery_timeout_ns = a->opts.recovery_timeout_ns;
    st->shutdown_grace_ns = a->opts.shutdown_grace_period_ns;
    st->registration_retry_ns = a->opts.registration_retry_ns;
    st->update_retry_min_ns = st->update_retry_ns = a->opts.update_retry_ns;
    st->update_retry_max_ns = a->opts.update_retry_max_ns;
    free(a);
    st->d->st = st;
    char agent[ACTOR_PID_STRLEN];
    LOG_INFO("Executor %s of framework %s registering with agent %s", st->executor_id,
             st->framework_id, actor_pid_format(&st->agent, agent, sizeof(agent)));
    actor_link(self, &st->agent);
    send_register(st);
    st->registration_timer = actor_delay(self, st->registration_retry_ns, registration_tick, NULL);
    if (st->registration_timer == 0)
        LOG_ERROR("Out of memory arming the registration retry");
}

static void exec_fini(actor_t *self, void *state)
{
    (void)self;
    exec_state_t *st = state;
    actor_timer_disarm(&st->registration_timer);
    actor_timer_disarm(&st->update_timer);
    actor_timer_disarm(&st->shutdown_timer);
    /* Terminated from outside (the runtime stopping): that is a stop too. */
    atomic_store(&st->d->closed, true);
    int expected = EXECUTOR_DRIVER_RUNNING;
    atomic_compare_exchange_strong(&st->d->status, &expected, EXECUTOR_DRIVER_STOPPED);
    st->d->st = NULL;
    exec_lists_free(st);
    free(st->framework_id);
    free(st->executor_id);
    free(st->agent_id);
}

static const actor_handler_t exec_handlers[] = {
    {&mesos__internal__executor_registered_message__descriptor, exec_on_registered},
    {&mesos__internal__run_task_message__descriptor, exec_on_run_task},
    {&mesos__internal__kill_task_message__descriptor, exec_on_kill_task},
    {&mesos__internal__framework_to_executor_message__descriptor, exec_on_framework_message},
    {&mesos__internal__shutdown_executor_message__descriptor, exec_on_shutdown},
    {&mesos__internal__status_update_acknowledgement_message__descriptor, exec_on_ack},
    {&mesos__internal__reconnect_executor_message__descriptor, exec_on_reconnect},
    {&mesos__internal__executor_reregistered_message__descriptor, exec_on_reregistered},
};

static const actor_ops_t exec_ops = {
    .name = "executor",
    .state_size = sizeof(exec_state_t),
    .init = exec_init,
    .fini = exec_fini,
    .exited = exec_exited,
    .handlers = exec_handlers,
    .handler_count = sizeof(exec_handlers) / sizeof(exec_handlers[0]),
};

/* ---- start ---- */

static bool check_options(const executor_driver_options_t *o)
{
    const char *missing = o->agent.id[0] == '\0'                                  ? "an agent PID"
                          : o->framework_id == NULL || o->framework_id[0] == '\0' ? "a framework id"
                          : o->executor_id == NULL || o->executor_id[0] == '\0'   ? "an executor id"
                                                                                  : NULL;
    if (missing != NULL) {
        LOG_ERROR("Cannot start the executor driver without %s", missing);
        return false;
    }
    if (o->recovery_timeout_ns < 0 || o->shutdown_grace_period_ns < 0) {
        LOG_ERROR("Cannot start the executor driver with a negative timeout");
        return false;
    }
    return true;
}

static start_arg_t *start_arg_new(const executor_driver_options_t *o, executor_driver_t *d)
{
    start_arg_t *a = calloc(1, sizeof(*a));
    if (a == NULL)
        return NULL;
    a->d = d;
    a->opts = *o;
    if (a->opts.registration_retry_ns <= 0)
        a->opts.registration_retry_ns = DEFAULT_REGISTRATION_RETRY_NS;
    if (a->opts.update_retry_ns <= 0)
        a->opts.update_retry_ns = DEFAULT_UPDATE_RETRY_NS;
    if (a->opts.update_retry_max_ns < a->opts.update_retry_ns)
        a->opts.update_retry_max_ns = a->opts.update_retry_ns;
    a->framework_id = strdup(o->framework_id);
    a->executor_id = strdup(o->executor_id);
    a->agent_id = o->agent_id != NULL && o->agent_id[0] != '\0' ? strdup(o->agent_id) : NULL;
    if (a->framework_id == NULL || a->executor_id == NULL ||
        (o->agent_id != NULL && o->agent_id[0] != '\0' && a->agent_id == NULL)) {
        start_arg_free(a);
        return NULL;
    }
    return a;
}

actor_err_t executor_driver_start(const executor_driver_options_t *opts,
                                  const executor_callbacks_t *cbs, void *user,
                                  executor_driver_t **out)
{
    if (opts == NULL || out == NULL || !check_options(opts))
        return ACTOR_EINVAL;
    executor_driver_t *d = calloc(1, sizeof(*d));
    if (d == NULL)
        return ACTOR_ENOMEM;
    atomic_init(&d->status, EXECUTOR_DRIVER_RUNNING);
    atomic_init(&d->closed, false);
    if (cbs != NULL)
        d->cbs = *cbs;
    d->user = user;
    start_arg_t *a = start_arg_new(opts, d);
    if (a == NULL) {
        free(d);
        return ACTOR_ENOMEM;
    }
    actor_err_t err = actor_spawn(&exec_ops, opts->id, a, &d->pid);
    if (err != ACTOR_OK) {
        start_arg_free(a);
        free(d);
        return err;
    }
    *out = d;
    return ACTOR_OK;
}

/* ---- stop, abort, status, join ---- */

static void stop_dispatched(actor_t *self, void *state, void *arg)
{
    (void)arg;
    if (self == NULL)
        return;
    exec_state_t *st = state;
    executor_driver_t *previous = exec_enter(st);
    st->stop_pending = true;
    exec_leave(st, previous);
}

/* Closes the driver with status `to` (unless it had left RUNNING before) and ends its actor. */
static executor_driver_status_t close_driver(executor_driver_t *d, executor_driver_status_t to)
{
    if (atomic_exchange(&d->closed, true))
        return executor_driver_status(d);
    int expected = EXECUTOR_DRIVER_RUNNING;
    atomic_compare_exchange_strong(&d->status, &expected, (int)to);
    if (exec_driver_running == d)
        d->st->stop_pending = true; /* ended by exec_leave, after the current callback */
    else
        (void)actor_dispatch(&d->pid, stop_dispatched, NULL); /* gone already: nothing to do */
    return executor_driver_status(d);
}

executor_driver_status_t executor_driver_stop(executor_driver_t *d)
{
    return close_driver(d, EXECUTOR_DRIVER_STOPPED);
}

executor_driver_status_t executor_driver_abort(executor_driver_t *d)
{
    return close_driver(d, EXECUTOR_DRIVER_ABORTED);
}

executor_driver_status_t executor_driver_status(const executor_driver_t *d)
{
    return (executor_driver_status_t)atomic_load(&d->status);
}

executor_driver_status_t executor_driver_join(executor_driver_t *d)
{
    if (exec_driver_running == d) {
        LOG_ERROR("executor_driver_join called from the driver's own callback: not waiting");
        return executor_driver_status(d);
    }
    actor_wait(&d->pid);
    return executor_driver_status(d);
}

static void signalled(actor_t *self, void *state, void *arg)
{
    (void)arg;
    if (self == NULL)
        return;
    exec_state_t *st = state;
    executor_driver_t *previous = exec_enter(st);
    begin_shutdown(st, "signalled");
    exec_leave(st, previous);
}

executor_driver_status_t executor_driver_run(executor_driver_t *d)
{
    if (exec_driver_running != d)
        actor_daemon_wait_actor(&d->pid, signalled, NULL);
    return executor_driver_join(d);
}

void executor_driver_free(executor_driver_t *d)
{
    if (d == NULL)
        return;
    executor_driver_stop(d);
    executor_driver_join(d);
    free(d);
}
