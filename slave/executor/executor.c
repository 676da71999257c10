/*
 * executor.c: the command executor actor (Mesos's src/launcher/executor.cpp on the executor
 * driver of src/exec/exec.cpp); see executor.h for the messages.
 *
 * The agent connection:
 *
 *   registering --ExecutorRegistered--> connected --link broke--> disconnected
 *        |                                  ^                        |  (checkpoint only)
 *        | link broke                       +--ExecutorReregistered--+ <- Reconnect, answered
 *        v                                                           |    with Reregister
 *   agent gone <----------- recovery timeout, or link broke ---------+
 *   (without checkpointing, a connected executor goes there at once)
 *
 * The task: none -> launched -> [killed: SIGTERM sent, SIGKILL timer] -> terminated (its status
 * update sent) -> terminal update acknowledged -> the actor ends. Reaching "agent gone" shuts
 * the executor down: the task is killed as on ShutdownExecutorMessage and the actor ends as soon
 * as the task has, since no acknowledgement can come any more.
 *
 * Every status update is kept, oldest first, until the agent acknowledges it (by uuid), so that a
 * reregistration can hand the unacknowledged ones to a restarted agent.
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "actor/clock.h"
#include "actor/flags.h"
#include "actor/log.h"
#include "actor/pbcopy.h"
#include "actor/subprocess.h"
#include "actor/uuid.h"
#include "internal.pb-c.h"
#include "slave/executor/executor.h"
#include "slave/executor/executor_int.h"
#include "proto/task_states.h"

extern char **environ;

#define REGISTRATION_RETRY_NS  (1 * ACTOR_NS_PER_SEC) /* as Mesos's command executor */
#define TERMINATION_TIMEOUT_NS (3 * ACTOR_NS_PER_SEC) /* exit without the terminal update's ack */
#define SHUTDOWN_BUFFER_NS     (1 * ACTOR_NS_PER_SEC) /* for TASK_KILLED to leave in a shutdown */
#define UUID_LEN               16

typedef struct update {
    Mesos__Internal__StatusUpdate *update; /* a deep copy */
    struct update *next;
} update_t;

typedef struct executor {
    executor_options_t opts;
    int *exit_code; /* the caller's; written once, when the actor ends */
    actor_pid_t agent;
    bool registered;     /* the agent answered a registration once */
    bool connected;      /* the link to the agent stands and the agent knows us */
    bool agent_gone;     /* given up on the agent: nothing will reach it any more */
    bool shutting_down;  /* the task is being killed so that the executor can exit */
    bool done;           /* the actor is ending */
    uint64_t connection; /* bumped by each (re)registration; recovery timers carry it */
    char *agent_id;      /* from the agent's answers, else from the environment; may be NULL */
    Mesos__FrameworkInfo *framework; /* the latest the agent sent */
    Mesos__TaskInfo *task;           /* the one task, once it came */
    bool task_acked;                 /* its terminal update was acknowledged */
    pid_t pid;                       /* the task's process, leader of its own process group */
    bool launched, killed, terminated;
    int64_t kill_started, kill_deadline; /* clock times of the SIGTERM and the SIGKILL due */
    actor_timer_id_t escalation;         /* the SIGKILL timer while a kill is under way */
    update_t *updates;                   /* unacknowledged, oldest first */
    executor_health_t *health;           /* the task's health checker while it checks */
    bool killed_by_health;               /* the kill came from failed health checks */
} executor_t;

typedef struct spawn_args {
    executor_options_t opts;
    int *exit_code;
} spawn_args_t;

/* ---- small helpers ---- */

static const char *task_id_of(const executor_t *ex)
{
    return ex->task != NULL ? ex->task->task_id->value : "";
}

static void set_agent_id(executor_t *ex, const Mesos__AgentID *id)
{
    if (id == NULL || (ex->agent_id != NULL && strcmp(ex->agent_id, id->value) == 0))
        return;
    char *copy = strdup(id->value);
    if (copy == NULL)
        return; /* keep the one we had */
    free(ex->agent_id);
    ex->agent_id = copy;
}

static void remember_framework(executor_t *ex, const Mesos__FrameworkInfo *framework)
{
    Mesos__FrameworkInfo *copy = PB_COPY(Mesos__FrameworkInfo, framework);
    if (copy == NULL)
        return;
    if (ex->framework != NULL)
        protobuf_c_message_free_unpacked(&ex->framework->base, NULL);
    ex->framework = copy;
}

static bool framework_has_killing_state(const executor_t *ex)
{
    for (size_t i = 0; ex->framework != NULL && i < ex->framework->n_capabilities; i++) {
        const Mesos__FrameworkInfo__Capability *c = ex->framework->capabilities[i];
        if (c->has_type && c->type == MESOS__FRAMEWORK_INFO__CAPABILITY__TYPE__TASK_KILLING_STATE)
            return true;
    }
    return false;
}

/* Messages other than ReconnectExecutorMessage count only from the agent we know. */
static bool from_agent(const executor_t *ex, const actor_pid_t *from, const char *what)
{
    if (actor_pid_equal(from, &ex->agent))
        return true;
    char text[ACTOR_PID_STRLEN], agent[ACTOR_PID_STRLEN];
    LOG_WARNING("Ignoring %s from %s because it is not from the agent %s", what,
                actor_pid_format(from, text, sizeof(text)),
                actor_pid_format(&ex->agent, agent, sizeof(agent)));
    return false;
}

/* Signals the task's process group, and the task itself in case it left the group. */
static void signal_task(const executor_t *ex, int sig)
{
    if (ex->pid > 0) {
        kill(-ex->pid, sig);
        kill(ex->pid, sig);
    }
}

/* ---- the end ---- */

static void finish(actor_t *self, executor_t *ex, int code)
{
    if (ex->done)
        return;
    ex->done = true;
    if (ex->launched && !ex->terminated)
        signal_task(ex, SIGKILL); /* a shutdown that gave up waiting */
    *ex->exit_code = code;
    LOG_INFO("Exiting with status %d", code);
    actor_terminate(actor_self(self));
}

/* Ends the executor unless a terminal update still waits for a live agent's acknowledgement. */
static void maybe_finish(actor_t *self, executor_t *ex)
{
    if (ex->terminated && !ex->task_acked && !ex->agent_gone)
        return;
    finish(self, ex, ex->agent_gone ? 1 : 0);
}

static void termination_timeout(actor_t *self, void *state, void *arg)
{
    (void)arg;
    executor_t *ex = state;
    if (self == NULL || ex->done || ex->task_acked)
        return;
    if (ex->registered && !ex->connected && !ex->agent_gone) {
        LOG_INFO("The terminal update of task %s waits for the agent to come back", task_id_of(ex));
        return; /* a reregistration restarts this timer; the recovery timeout ends the wait */
    }
    LOG_WARNING("No acknowledgement of the terminal update of task %s came; exiting anyway",
                task_id_of(ex));
    finish(self, ex, 0);
}

static void start_termination_timer(actor_t *self)
{
    if (actor_delay(self, TERMINATION_TIMEOUT_NS, termination_timeout, NULL) == 0)
        LOG_ERROR("Out of memory arming the termination timer");
}

/* ---- status updates ---- */

static void update_keep(executor_t *ex, const Mesos__Internal__StatusUpdate *u)
{
    update_t *item = malloc(sizeof(*item));
    Mesos__Internal__StatusUpdate *copy = PB_COPY(Mesos__Internal__StatusUpdate, u);
    if (item == NULL || copy == NULL) {
        LOG_ERROR("Out of memory keeping a status update of task %s", u->status->task_id->value);
        free(item);
        if (copy != NULL)
            protobuf_c_message_free_unpacked(&copy->base, NULL);
        return;
    }
    item->update = copy;
    item->next = NULL;
    update_t **tail = &ex->updates;
    while (*tail != NULL)
        tail = &(*tail)->next;
    *tail = item;
}

/* Health fields of an update: healthy set, and the reason Mesos gives health updates. */
typedef struct update_health {
    bool healthy;
    bool health_reason; /* REASON_TASK_HEALTH_CHECK_STATUS_UPDATED */
} update_health_t;

/* Sends (and keeps until acknowledged) an update of task_id, as the executor driver builds it;
 * health (may be NULL) adds the task's health. */
static void send_health_update(actor_t *self, executor_t *ex, const char *task_id,
                               Mesos__TaskState state, const char *message,
                               const update_health_t *health)
{
    Mesos__TaskID tid = MESOS__TASK_ID__INIT;
    Mesos__ExecutorID eid = MESOS__EXECUTOR_ID__INIT;
    Mesos__FrameworkID fid = MESOS__FRAMEWORK_ID__INIT;
    Mesos__AgentID aid = MESOS__AGENT_ID__INIT;
    Mesos__ContainerStatus container = MESOS__CONTAINER_STATUS__INIT;
    Mesos__TaskStatus status = MESOS__TASK_STATUS__INIT;
    Mesos__Internal__StatusUpdate u = MESOS__INTERNAL__STATUS_UPDATE__INIT;
    uint8_t uuid[UUID_LEN];
    actor_uuid_bytes(uuid);
    tid.value = (char *)task_id;
    eid.value = (char *)ex->opts.executor_id;
    fid.value = (char *)ex->opts.framework_id;
    aid.value = ex->agent_id;
    status.task_id = &tid;
    status.state = state;
    status.message = (char *)message;
    status.has_source = true;
    status.source = MESOS__TASK_STATUS__SOURCE__SOURCE_EXECUTOR;
    status.has_uuid = u.has_uuid = true;
    status.uuid = u.uuid = (ProtobufCBinaryData){UUID_LEN, uuid};
    status.has_timestamp = true;
    status.timestamp = u.timestamp = (double)actor_clock_wall() / (double)ACTOR_NS_PER_SEC;
    status.executor_id = u.executor_id = &eid;
    status.agent_id = u.agent_id = ex->agent_id != NULL ? &aid : NULL;
    if (state == MESOS__TASK_STATE__TASK_RUNNING) {
        container.has_executor_pid = true;
        container.executor_pid = (uint32_t)getpid();
        status.container_status = &container;
    }
    if (health != NULL) {
        status.has_healthy = true;
        status.healthy = health->healthy;
        status.has_reason = health->health_reason;
        status.reason = MESOS__TASK_STATUS__REASON__REASON_TASK_HEALTH_CHECK_STATUS_UPDATED;
    }
    u.framework_id = &fid;
    u.status = &status;
    update_keep(ex, &u);
    LOG_INFO("Sending %s of task %s%s%s", mesos_task_state_name(state), task_id,
             message ? ": " : "", message ? message : "");
    if (ex->agent_gone || (ex->registered && !ex->connected))
        return; /* kept for a reregistration, or for nobody */
    Mesos__Internal__StatusUpdateMessage m = MESOS__INTERNAL__STATUS_UPDATE_MESSAGE__INIT;
    char pid[ACTOR_PID_STRLEN];
    m.update = &u;
    m.pid = actor_pid_format(actor_self(self), pid, sizeof(pid));
    actor_send(self, &ex->agent, &m.base);
}

static void send_update(actor_t *self, executor_t *ex, const char *task_id, Mesos__TaskState state,
                        const char *message)
{
    send_health_update(self, ex, task_id, state, message, NULL);
}

/* ---- the task ---- */

static void stop_health(executor_t *ex)
{
    executor_health_stop(ex->health);
    ex->health = NULL;
}

static void escalate(actor_t *self, void *state, void *arg)
{
    (void)arg;
    executor_t *ex = state;
    if (self == NULL)
        return;
    ex->escalation = 0;
    if (ex->terminated)
        return;
    LOG_INFO("Process %d of task %s did not terminate in its grace period: sending SIGKILL",
             (int)ex->pid, task_id_of(ex));
    signal_task(ex, SIGKILL);
}

/* Moves the SIGKILL earlier when a later kill allows less time (never later, as Mesos). */
static void kill_again(actor_t *self, executor_t *ex, int64_t grace_ns)
{
    int64_t deadline = ex->kill_started + grace_ns;
    if (deadline >= ex->kill_deadline)
        return;
    int64_t now = actor_clock_now();
    if (ex->escalation != 0)
        actor_timer_cancel(ex->escalation);
    ex->kill_deadline = deadline;
    ex->escalation = actor_delay(self, deadline > now ? deadline - now : 0, escalate, NULL);
    if (ex->escalation == 0)
        signal_task(ex, SIGKILL);
}

static void kill_task(actor_t *self, executor_t *ex, int64_t grace_ns)
{
    if (!ex->launched || ex->terminated)
        return;
    if (grace_ns < 0)
        grace_ns = 0;
    if (ex->killed) {
        kill_again(self, ex, grace_ns);
        return;
    }
    ex->killed = true;
    stop_health(ex); /* as Mesos: no health updates once the kill began */
    if (framework_has_killing_state(ex))
        send_update(self, ex, task_id_of(ex), MESOS__TASK_STATE__TASK_KILLING, NULL);
    char grace[32];
    flags_duration_format(grace_ns, grace, sizeof(grace));
    LOG_INFO("Sending SIGTERM to the process group of task %s (pid %d); SIGKILL in %s",
             task_id_of(ex), (int)ex->pid, grace);
    signal_task(ex, SIGTERM);
    ex->kill_started = actor_clock_now();
    ex->kill_deadline = ex->kill_started + grace_ns;
    ex->escalation = actor_delay(self, grace_ns, escalate, NULL);
    if (ex->escalation == 0)
        signal_task(ex, SIGKILL);
}

/* The grace period of a kill: the KillTaskMessage's policy, else the task's, else the
 * executor's shutdown grace period. */
static int64_t kill_grace(const executor_t *ex, const Mesos__KillPolicy *override)
{
    if (override != NULL && override->grace_period != NULL)
        return override->grace_period->nanoseconds;
    const Mesos__KillPolicy *policy = ex->task != NULL ? ex->task->kill_policy : NULL;
    if (policy != NULL && policy->grace_period != NULL)
        return policy->grace_period->nanoseconds;
    return ex->opts.shutdown_grace_period_ns;
}

/* The task is over (its process ended, or it never started): report and wind down. */
static void task_terminated(actor_t *self, executor_t *ex, Mesos__TaskState state,
                            const char *message)
{
    ex->terminated = true;
    stop_health(ex);
    /* As Mesos: a task killed for failing health checks ends unhealthy. */
    update_health_t unhealthy = {.healthy = false};
    send_health_update(self, ex, task_id_of(ex), state, message,
                       ex->killed && ex->killed_by_health ? &unhealthy : NULL);
    if (ex->agent_gone)
        finish(self, ex, 1);
    else
        start_termination_timer(self);
}

static void on_task_exit(actor_t *self, void *state, pid_t pid, int status, void *arg)
{
    (void)arg;
    executor_t *ex = state;
    if (self == NULL)
        return;
    if (ex->escalation != 0)
        actor_timer_cancel(ex->escalation);
    ex->escalation = 0;
    Mesos__TaskState task_state;
    char message[160];
    if (status == -1) {
        task_state = MESOS__TASK_STATE__TASK_FAILED;
        snprintf(message, sizeof(message), "Failed to get exit status for Command");
    } else {
        char text[128];
        executor_wait_status_text(status, text, sizeof(text));
        snprintf(message, sizeof(message), "Command %s", text);
        task_state = WIFEXITED(status) && WEXITSTATUS(status) == 0
                         ? MESOS__TASK_STATE__TASK_FINISHED
                     : ex->killed ? MESOS__TASK_STATE__TASK_KILLED
                                  : MESOS__TASK_STATE__TASK_FAILED;
    }
    LOG_INFO("%s (pid: %d)", message, (int)pid);
    if (ex->killed)
        kill(-ex->pid, SIGKILL); /* what the task left behind in its group */
    task_terminated(self, ex, task_state, message);
}

/* Starts the task's process and watches it; on failure *message says why. */
static actor_err_t start_process(actor_t *self, executor_t *ex, char *message, size_t len)
{
    char err[512];
    executor_launch_t launch;
    if (ex->task->command == NULL) {
        snprintf(message, len, "Task %s has no command to run", task_id_of(ex));
        return ACTOR_EINVAL;
    }
    char *const *base = ex->opts.environ != NULL ? ex->opts.environ : environ;
    actor_err_t rc = executor_launch_build(ex->task->command, task_id_of(ex), base,
                                           ex->opts.sandbox, &launch, err, sizeof(err));
    if (rc != ACTOR_OK) {
        snprintf(message, len, "Failed to launch task subprocess: %s", err);
        return rc;
    }
    actor_subprocess_options_t so = {.path = launch.path,
                                     .argv = launch.argv,
                                     .envp = launch.envp,
                                     .cwd = ex->opts.sandbox,
                                     .new_session = true};
    pid_t pid = 0;
    rc = actor_subprocess_spawn(&so, &pid, err, sizeof(err));
    executor_launch_free(&launch);
    if (rc != ACTOR_OK) {
        snprintf(message, len, "Failed to launch task subprocess: %s", err);
        return rc;
    }
    rc = actor_subprocess_watch(actor_self(self), pid, on_task_exit, NULL);
    if (rc != ACTOR_OK) {
        kill(-pid, SIGKILL);
        waitpid(pid, NULL, 0); /* at once: it was just killed */
        snprintf(message, len, "Failed to watch the task's process: %s", actor_strerror(rc));
        return rc;
    }
    ex->pid = pid;
    return ACTOR_OK;
}

/* The health checker's verdicts (Mesos's taskHealthUpdated): a TASK_RUNNING with `healthy`,
 * and a kill when the failures reached the check's limit. */
static void on_health(actor_t *self, void *state, bool healthy, bool kill)
{
    executor_t *ex = state;
    if (self == NULL || ex->killed || ex->terminated)
        return;
    LOG_INFO("Task %s is %s", task_id_of(ex), healthy ? "healthy" : "not healthy");
    update_health_t health = {.healthy = healthy, .health_reason = true};
    send_health_update(self, ex, task_id_of(ex), MESOS__TASK_STATE__TASK_RUNNING, NULL, &health);
    if (kill) {
        ex->killed_by_health = true;
        kill_task(self, ex, kill_grace(ex, NULL));
    }
}

/* As Mesos: a health check that cannot start is logged, and the task runs unchecked. */
static void start_health(actor_t *self, executor_t *ex)
{
    char err[512];
    char *const *base = ex->opts.environ != NULL ? ex->opts.environ : environ;
    if (executor_health_start(self, ex->task->health_check, task_id_of(ex), ex->task->command, base,
                              ex->opts.sandbox, on_health, &ex->health, err,
                              sizeof(err)) != ACTOR_OK)
        LOG_ERROR("Failed to create health checker: %s", err);
}

static void launch(actor_t *self, executor_t *ex, const Mesos__TaskInfo *task)
{
    ex->task = PB_COPY(Mesos__TaskInfo, task);
    if (ex->task == NULL) {
        LOG_ERROR("Out of memory copying task %s", task->task_id->value);
        send_update(self, ex, task->task_id->value, MESOS__TASK_STATE__TASK_FAILED,
                    "The executor ran out of memory");
        return;
    }
    LOG_INFO("Starting task %s", task_id_of(ex));
    send_update(self, ex, task_id_of(ex), MESOS__TASK_STATE__TASK_STARTING, NULL);
    char message[640];
    if (start_process(self, ex, message, sizeof(message)) != ACTOR_OK) {
        task_terminated(self, ex, MESOS__TASK_STATE__TASK_FAILED, message);
        return;
    }
    ex->launched = true;
    LOG_INFO("Forked command at %d", (int)ex->pid);
    send_update(self, ex, task_id_of(ex), MESOS__TASK_STATE__TASK_RUNNING, NULL);
    if (ex->task->health_check != NULL)
        start_health(self, ex);
}

static void shutdown_timeout(actor_t *self, void *state, void *arg)
{
    (void)arg;
    executor_t *ex = state;
    if (self == NULL || ex->done || ex->terminated) /* then the termination timer decides */
        return;
    LOG_WARNING("Task %s did not end within the shutdown grace period; killing it and exiting",
                task_id_of(ex));
    finish(self, ex, 1);
}

/* Kills the task (if it runs) so that the executor can exit, as Mesos's shutdown(); gives up
 * after the shutdown grace period, as the driver's ShutdownProcess does. */
static void shutdown_executor(actor_t *self, executor_t *ex, const char *reason)
{
    if (!ex->shutting_down) {
        ex->shutting_down = true;
        LOG_INFO("Shutting down: %s", reason);
        if (ex->launched && !ex->terminated) {
            /* As Mesos: leave time for TASK_KILLED before the agent destroys the container. */
            int64_t g = ex->opts.shutdown_grace_period_ns;
            kill_task(self, ex, g > 2 * SHUTDOWN_BUFFER_NS ? g - SHUTDOWN_BUFFER_NS : g / 2);
            if (actor_delay(self, g, shutdown_timeout, NULL) == 0)
                LOG_ERROR("Out of memory arming the shutdown timer");
        }
    }
    if (!ex->launched || ex->terminated)
        maybe_finish(self, ex);
}

/* ---- the agent connection ---- */

static void send_register(actor_t *self, executor_t *ex)
{
    Mesos__FrameworkID fid = MESOS__FRAMEWORK_ID__INIT;
    Mesos__ExecutorID eid = MESOS__EXECUTOR_ID__INIT;
    Mesos__Internal__RegisterExecutorMessage m = MESOS__INTERNAL__REGISTER_EXECUTOR_MESSAGE__INIT;
    fid.value = (char *)ex->opts.framework_id;
    eid.value = (char *)ex->opts.executor_id;
    m.framework_id = &fid;
    m.executor_id = &eid;
    actor_send(self, &ex->agent, &m.base);
}

static void registration_retry(actor_t *self, void *state, void *arg)
{
    (void)arg;
    executor_t *ex = state;
    if (self == NULL || ex->registered || ex->agent_gone || ex->done)
        return;
    send_register(self, ex);
    if (actor_delay(self, REGISTRATION_RETRY_NS, registration_retry, NULL) == 0)
        LOG_ERROR("Out of memory arming the registration retry");
}

static void recovery_timeout(actor_t *self, void *state, void *arg)
{
    executor_t *ex = state;
    if (self == NULL || ex->done || ex->connected || (uint64_t)(uintptr_t)arg != ex->connection)
        return;
    char timeout[32];
    flags_duration_format(ex->opts.recovery_timeout_ns, timeout, sizeof(timeout));
    ex->agent_gone = true;
    LOG_INFO("Recovery timeout of %s exceeded", timeout);
    shutdown_executor(self, ex, "the agent did not come back within the recovery timeout");
}

static void executor_exited(actor_t *self, void *state, const actor_pid_t *pid)
{
    executor_t *ex = state;
    if (!actor_pid_equal(pid, &ex->agent) || ex->done || ex->agent_gone)
        return;
    if (ex->opts.checkpoint && ex->connected) {
        char timeout[32];
        flags_duration_format(ex->opts.recovery_timeout_ns, timeout, sizeof(timeout));
        LOG_INFO("Agent exited, but the framework checkpoints: waiting %s for it to reconnect",
                 timeout);
        ex->connected = false;
        if (actor_delay(self, ex->opts.recovery_timeout_ns, recovery_timeout,
                        (void *)(uintptr_t)ex->connection) == 0)
            LOG_ERROR("Out of memory arming the recovery timeout");
        return;
    }
    ex->connected = false;
    ex->agent_gone = true;
    shutdown_executor(self, ex, "the agent exited");
}

/* ---- handlers ---- */

static void executor_on_registered(actor_t *self, void *state, const actor_pid_t *from,
                                   const ProtobufCMessage *msg)
{
    (void)self;
    executor_t *ex = state;
    const Mesos__Internal__ExecutorRegisteredMessage *m = (const void *)msg;
    if (!from_agent(ex, from, "a registration answer") || ex->agent_gone)
        return;
    if (ex->registered) {
        VLOG(1, "Ignoring a repeated registration answer");
        return;
    }
    ex->registered = ex->connected = true;
    ex->connection++;
    set_agent_id(ex, m->agent_id);
    remember_framework(ex, m->framework_info);
    LOG_INFO("Registered with agent %s on %s", m->agent_id->value,
             m->agent_info->hostname ? m->agent_info->hostname : "?");
}

static void executor_on_run_task(actor_t *self, void *state, const actor_pid_t *from,
                                 const ProtobufCMessage *msg)
{
    executor_t *ex = state;
    const Mesos__Internal__RunTaskMessage *m = (const void *)msg;
    if (!from_agent(ex, from, "a task") || ex->done)
        return;
    remember_framework(ex, m->framework);
    if (ex->task != NULL || ex->shutting_down) {
        LOG_WARNING("Refusing task %s: %s", m->task->task_id->value,
                    ex->task != NULL ? "the command executor runs one task" : "shutting down");
        send_update(self, ex, m->task->task_id->value, MESOS__TASK_STATE__TASK_FAILED,
                    ex->task != NULL
                        ? "Attempted to run multiple tasks using a \"command\" executor"
                        : "The executor is shutting down");
        return;
    }
    launch(self, ex, m->task);
}

static void executor_on_kill_task(actor_t *self, void *state, const actor_pid_t *from,
                                  const ProtobufCMessage *msg)
{
    executor_t *ex = state;
    const Mesos__Internal__KillTaskMessage *m = (const void *)msg;
    if (!from_agent(ex, from, "a kill") || ex->done)
        return;
    if (ex->task == NULL || strcmp(m->task_id->value, task_id_of(ex)) != 0) {
        LOG_WARNING("Ignoring a kill of unknown task %s", m->task_id->value);
        return;
    }
    kill_task(self, ex, kill_grace(ex, m->kill_policy));
}

static void executor_on_shutdown(actor_t *self, void *state, const actor_pid_t *from,
                                 const ProtobufCMessage *msg)
{
    (void)msg;
    executor_t *ex = state;
    if (from_agent(ex, from, "a shutdown") && !ex->done)
        shutdown_executor(self, ex, "the agent asked");
}

static void executor_on_ack(actor_t *self, void *state, const actor_pid_t *from,
                            const ProtobufCMessage *msg)
{
    executor_t *ex = state;
    const Mesos__Internal__StatusUpdateAcknowledgementMessage *m = (const void *)msg;
    if (!from_agent(ex, from, "an acknowledgement") || ex->done)
        return;
    update_t **p = &ex->updates;
    while (*p != NULL && !((*p)->update->uuid.len == m->uuid.len && m->uuid.len == UUID_LEN &&
                           memcmp((*p)->update->uuid.data, m->uuid.data, UUID_LEN) == 0))
        p = &(*p)->next;
    if (*p == NULL) {
        LOG_WARNING("Ignoring an acknowledgement of an unknown status update of task %s",
                    m->task_id->value);
        return;
    }
    update_t *acked = *p;
    *p = acked->next;
    const Mesos__TaskStatus *status = acked->update->status;
    if (ex->task != NULL && mesos_task_state_terminal((int)status->state) &&
        strcmp(status->task_id->value, task_id_of(ex)) == 0)
        ex->task_acked = true;
    protobuf_c_message_free_unpacked(&acked->update->base, NULL);
    free(acked);
    if (ex->task_acked && ex->terminated)
        maybe_finish(self, ex);
}

/* Tells the (restarted) agent the task it may not know and every unacknowledged update. */
static void send_reregister(actor_t *self, executor_t *ex)
{
    size_t n = 0;
    for (update_t *u = ex->updates; u != NULL; u = u->next)
        n++;
    Mesos__Internal__StatusUpdate **updates = n ? calloc(n, sizeof(*updates)) : NULL;
    if (n > 0 && updates == NULL) {
        LOG_ERROR("Out of memory answering a reconnect request");
        return;
    }
    n = 0;
    for (update_t *u = ex->updates; u != NULL; u = u->next)
        updates[n++] = u->update;
    Mesos__FrameworkID fid = MESOS__FRAMEWORK_ID__INIT;
    Mesos__ExecutorID eid = MESOS__EXECUTOR_ID__INIT;
    Mesos__Internal__ReregisterExecutorMessage r =
        MESOS__INTERNAL__REREGISTER_EXECUTOR_MESSAGE__INIT;
    fid.value = (char *)ex->opts.framework_id;
    eid.value = (char *)ex->opts.executor_id;
    r.framework_id = &fid;
    r.executor_id = &eid;
    r.n_tasks = ex->task != NULL && !ex->task_acked ? 1 : 0;
    r.tasks = &ex->task;
    r.n_updates = n;
    r.updates = updates;
    actor_send(self, &ex->agent, &r.base);
    free(updates);
}

static void executor_on_reconnect(actor_t *self, void *state, const actor_pid_t *from,
                                  const ProtobufCMessage *msg)
{
    executor_t *ex = state;
    const Mesos__Internal__ReconnectExecutorMessage *m = (const void *)msg;
    char text[ACTOR_PID_STRLEN];
    if (ex->done || ex->agent_gone) {
        LOG_WARNING("Ignoring a reconnect request from %s: the executor is ending",
                    actor_pid_format(from, text, sizeof(text)));
        return;
    }
    LOG_INFO("Received a reconnect request from agent %s at %s", m->agent_id->value,
             actor_pid_format(from, text, sizeof(text)));
    ex->agent = *from; /* as Mesos: the agent is whoever asks, at its new address if it moved */
    actor_link(self, from);
    set_agent_id(ex, m->agent_id);
    send_reregister(self, ex);
}

static void executor_on_reregistered(actor_t *self, void *state, const actor_pid_t *from,
                                     const ProtobufCMessage *msg)
{
    executor_t *ex = state;
    const Mesos__Internal__ExecutorReregisteredMessage *m = (const void *)msg;
    if (!from_agent(ex, from, "a reregistration answer") || ex->done || ex->agent_gone)
        return;
    ex->registered = ex->connected = true;
    ex->connection++;
    set_agent_id(ex, m->agent_id);
    LOG_INFO("Reregistered with agent %s", m->agent_id->value);
    if (ex->terminated && !ex->task_acked)
        start_termination_timer(self);
}

static void executor_on_framework_message(actor_t *self, void *state, const actor_pid_t *from,
                                          const ProtobufCMessage *msg)
{
    (void)self, (void)state, (void)from, (void)msg;
    VLOG(1, "Ignoring a framework message: the command executor takes none");
}

/* ---- lifecycle ---- */

static void executor_init(actor_t *self, void *state, void *arg)
{
    executor_t *ex = state;
    spawn_args_t *a = arg;
    ex->opts = a->opts;
    ex->exit_code = a->exit_code;
    free(a);
    ex->agent = ex->opts.agent;
    ex->agent_id = ex->opts.agent_id != NULL ? strdup(ex->opts.agent_id) : NULL;
    char agent[ACTOR_PID_STRLEN];
    LOG_INFO("Executor %s of framework %s registering with agent %s", ex->opts.executor_id,
             ex->opts.framework_id, actor_pid_format(&ex->agent, agent, sizeof(agent)));
    actor_link(self, &ex->agent);
    send_register(self, ex);
    if (actor_delay(self, REGISTRATION_RETRY_NS, registration_retry, NULL) == 0)
        LOG_ERROR("Out of memory arming the registration retry");
}

static void executor_fini(actor_t *self, void *state)
{
    (void)self;
    executor_t *ex = state;
    stop_health(ex);
    while (ex->updates != NULL) {
        update_t *next = ex->updates->next;
        protobuf_c_message_free_unpacked(&ex->updates->update->base, NULL);
        free(ex->updates);
        ex->updates = next;
    }
    if (ex->task != NULL)
        protobuf_c_message_free_unpacked(&ex->task->base, NULL);
    if (ex->framework != NULL)
        protobuf_c_message_free_unpacked(&ex->framework->base, NULL);
    free(ex->agent_id);
}

static const actor_handler_t executor_handlers[] = {
    {&mesos__internal__executor_registered_message__descriptor, executor_on_registered},
    {&mesos__internal__run_task_message__descriptor, executor_on_run_task},
    {&mesos__internal__kill_task_message__descriptor, executor_on_kill_task},
    {&mesos__internal__shutdown_executor_message__descriptor, executor_on_shutdown},
    {&mesos__internal__status_update_acknowledgement_message__descriptor, executor_on_ack},
    {&mesos__internal__reconnect_executor_message__descriptor, executor_on_reconnect},
    {&mesos__internal__executor_reregistered_message__descriptor, executor_on_reregistered},
    {&mesos__internal__framework_to_executor_message__descriptor, executor_on_framework_message},
};

static const actor_ops_t executor_ops = {
    .name = "executor",
    .state_size = sizeof(executor_t),
    .init = executor_init,
    .fini = executor_fini,
    .exited = executor_exited,
    .handlers = executor_handlers,
    .handler_count = sizeof(executor_handlers) / sizeof(executor_handlers[0]),
};

actor_err_t executor_spawn(const executor_options_t *opts, int *exit_code, actor_pid_t *pid)
{
    spawn_args_t *a = malloc(sizeof(*a));
    if (a == NULL)
        return ACTOR_ENOMEM;
    a->opts = *opts;
    a->exit_code = exit_code;
    *exit_code = 0;
    actor_err_t rc = actor_spawn(&executor_ops, NULL, a, pid);
    if (rc != ACTOR_OK)
        free(a);
    return rc;
}

static void shutdown_in_actor(actor_t *self, void *state, void *arg)
{
    (void)arg;
    if (self != NULL && !((executor_t *)state)->done)
        shutdown_executor(self, state, "signalled");
}

actor_err_t executor_shutdown(const actor_pid_t *pid)
{
    return actor_dispatch(pid, shutdown_in_actor, NULL);
}
