/*
 * executor.c: the command executor (Mesos's src/launcher/executor.cpp) on the executor driver;
 * see executor.h for what it does.
 *
 * Two actors: the driver's ("executor(1)"), which speaks with the agent, and this one
 * ("command_executor(1)"), which runs the task. The driver's callbacks copy what they are given
 * into an event and dispatch it here, so that the task's state, its timers, its process watch
 * and its health checker all live in one actor; the calls back into the driver (updates, stop)
 * are dispatched to it in the order they are made.
 *
 * The task: none -> launched -> [killed: SIGTERM sent, SIGKILL timer] -> terminated (its status
 * update sent) -> terminal update acknowledged -> done: the driver is stopped and the actor ends.
 * A shutdown kills the task as a kill does; the executor ends as soon as the task has when the
 * agent is gone (no acknowledgement can come any more). When the driver ends first (a shutdown
 * whose grace period ran out) the task is killed hard and the executor ends.
 */
#include <semaphore.h>
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
#include "proto/task_states.h"
#include "slave/executor/executor.h"
#include "slave/executor/executor_int.h"

extern char **environ;

#define TERMINATION_TIMEOUT_NS (3 * ACTOR_NS_PER_SEC) /* exit without the terminal update's ack */
#define SHUTDOWN_BUFFER_NS     (1 * ACTOR_NS_PER_SEC) /* for TASK_KILLED to leave in a shutdown */

/* What executor_run shares with the actor and the driver's callbacks; on executor_run's stack,
 * which outlives both. */
typedef struct run {
    actor_pid_t actor;         /* the command executor */
    executor_driver_t *driver; /* set by the actor's init before it posts `started` */
    sem_t started;             /* posted once the driver started, or could not */
    int exit_code;             /* written once, when the actor ends */
} run_t;

typedef struct executor {
    executor_options_t opts;
    run_t *run;
    executor_driver_t *driver;
    bool disconnected;               /* the driver waits for a restarted agent */
    bool agent_gone;                 /* the driver gave up on the agent */
    bool shutting_down;              /* the task is being killed so that the executor can exit */
    bool done;                       /* the actor is ending */
    Mesos__FrameworkInfo *framework; /* from the registration */
    Mesos__TaskInfo *task;           /* the one task, once it came */
    bool task_acked;                 /* its terminal update was acknowledged */
    pid_t pid;                       /* the task's process, leader of its own process group */
    bool launched, killed, terminated;
    int64_t kill_started, kill_deadline; /* clock times of the SIGTERM and the SIGKILL due */
    actor_timer_id_t escalation;         /* the SIGKILL timer while a kill is under way */
    executor_health_t *health;           /* the task's health checker while it checks */
    bool killed_by_health;               /* the kill came from failed health checks */
} executor_t;

/* ---- small helpers ---- */

static const char *task_id_of(const executor_t *ex)
{
    return ex->task != NULL ? ex->task->task_id->value : "";
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
    ex->run->exit_code = code;
    LOG_INFO("Exiting with status %d", code);
    executor_driver_stop(ex->driver);
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
    if (ex->disconnected && !ex->agent_gone) {
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

/* Health fields of an update: healthy set, and the reason Mesos gives health updates. */
typedef struct update_health {
    bool healthy;
    bool health_reason; /* REASON_TASK_HEALTH_CHECK_STATUS_UPDATED */
} update_health_t;

/* Sends an update of task_id through the driver (which makes it reliable); health (may be NULL)
 * adds the task's health. TASK_RUNNING names this process, as Mesos's command executor does. */
static void send_update_full(executor_t *ex, const char *task_id, Mesos__TaskState state,
                             const char *message, const update_health_t *health)
{
    Mesos__TaskID tid = MESOS__TASK_ID__INIT;
    Mesos__ContainerStatus container = MESOS__CONTAINER_STATUS__INIT;
    Mesos__TaskStatus status = MESOS__TASK_STATUS__INIT;
    tid.value = (char *)task_id;
    status.task_id = &tid;
    status.state = state;
    status.message = (char *)message;
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
    actor_err_t rc = executor_driver_send_status_update(ex->driver, &status);
    if (rc != ACTOR_OK)
        LOG_WARNING("Not sending %s of task %s: %s", mesos_task_state_name(state), task_id,
                    rc == ACTOR_ECLOSED ? "the agent is gone" : actor_strerror(rc));
}

static void send_update(executor_t *ex, const char *task_id, Mesos__TaskState state,
                        const char *message)
{
    send_update_full(ex, task_id, state, message, NULL);
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
        send_update(ex, task_id_of(ex), MESOS__TASK_STATE__TASK_KILLING, NULL);
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
    return ex->opts.driver.shutdown_grace_period_ns;
}

/* The task is over (its process ended, or it never started): report and wind down. */
static void task_terminated(actor_t *self, executor_t *ex, Mesos__TaskState state,
                            const char *message)
{
    ex->terminated = true;
    stop_health(ex);
    /* As Mesos: a task killed for failing health checks ends unhealthy. */
    update_health_t unhealthy = {.healthy = false};
    send_update_full(ex, task_id_of(ex), state, message,
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
                                           ex->opts.driver.sandbox, &launch, err, sizeof(err));
    if (rc != ACTOR_OK) {
        snprintf(message, len, "Failed to launch task subprocess: %s", err);
        return rc;
    }
    actor_subprocess_options_t so = {.path = launch.path,
                                     .argv = launch.argv,
                                     .envp = launch.envp,
                                     .cwd = ex->opts.driver.sandbox,
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
    send_update_full(ex, task_id_of(ex), MESOS__TASK_STATE__TASK_RUNNING, NULL, &health);
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
                              ex->opts.driver.sandbox, on_health, &ex->health, err,
                              sizeof(err)) != ACTOR_OK)
        LOG_ERROR("Failed to create health checker: %s", err);
}

static void launch(actor_t *self, executor_t *ex, Mesos__TaskInfo *task)
{
    if (ex->task != NULL || ex->shutting_down) {
        LOG_WARNING("Refusing task %s: %s", task->task_id->value,
                    ex->task != NULL ? "the command executor runs one task" : "shutting down");
        send_update(ex, task->task_id->value, MESOS__TASK_STATE__TASK_FAILED,
                    ex->task != NULL
                        ? "Attempted to run multiple tasks using a \"command\" executor"
                        : "The executor is shutting down");
        mesos__task_info__free_unpacked(task, NULL);
        return;
    }
    ex->task = task; /* the event's copy, ours now */
    LOG_INFO("Starting task %s", task_id_of(ex));
    send_update(ex, task_id_of(ex), MESOS__TASK_STATE__TASK_STARTING, NULL);
    char message[640];
    if (start_process(self, ex, message, sizeof(message)) != ACTOR_OK) {
        task_terminated(self, ex, MESOS__TASK_STATE__TASK_FAILED, message);
        return;
    }
    ex->launched = true;
    LOG_INFO("Forked command at %d", (int)ex->pid);
    send_update(ex, task_id_of(ex), MESOS__TASK_STATE__TASK_RUNNING, NULL);
    if (ex->task->health_check != NULL)
        start_health(self, ex);
}

/* Kills the task (if it runs) so that the executor can exit, as Mesos's shutdown(); the driver
 * ends the wait when the shutdown grace period is over (EVENT_DRIVER_ENDED). */
static void shutdown_executor(actor_t *self, executor_t *ex)
{
    if (!ex->shutting_down) {
        ex->shutting_down = true;
        if (ex->launched && !ex->terminated) {
            /* As Mesos: leave time for TASK_KILLED before the agent destroys the container. */
            int64_t g = ex->opts.driver.shutdown_grace_period_ns;
            kill_task(self, ex, g > 2 * SHUTDOWN_BUFFER_NS ? g - SHUTDOWN_BUFFER_NS : g / 2);
        }
    }
    if (!ex->launched || ex->terminated)
        maybe_finish(self, ex);
}

/* ---- the driver's events, handed over by its callbacks ---- */

typedef enum event_kind {
    EVENT_REGISTERED,   /* msg: the FrameworkInfo */
    EVENT_DISCONNECTED, /* the driver waits for a restarted agent */
    EVENT_REREGISTERED,
    EVENT_LAUNCH, /* msg: the TaskInfo */
    EVENT_KILL,   /* task_id; msg: the KillPolicy or NULL */
    EVENT_SHUTDOWN,
    EVENT_ACKNOWLEDGED, /* msg: the TaskStatus */
    EVENT_DRIVER_ENDED, /* executor_run's: the driver's actor is gone */
} event_kind_t;

typedef struct event {
    event_kind_t kind;
    ProtobufCMessage *msg; /* a copy, owned by the event (or NULL) */
    char *task_id;         /* owned; EVENT_KILL only */
} event_t;

static void event_free(event_t *ev)
{
    if (ev->msg != NULL)
        protobuf_c_message_free_unpacked(ev->msg, NULL);
    free(ev->task_id);
    free(ev);
}

static void on_acknowledged(actor_t *self, executor_t *ex, const Mesos__TaskStatus *status)
{
    if (ex->task == NULL || !mesos_task_state_terminal((int)status->state) ||
        strcmp(status->task_id->value, task_id_of(ex)) != 0)
        return;
    ex->task_acked = true;
    if (ex->terminated)
        maybe_finish(self, ex);
}

static void on_kill(actor_t *self, executor_t *ex, const char *task_id,
                    const Mesos__KillPolicy *policy)
{
    if (ex->task == NULL || strcmp(task_id, task_id_of(ex)) != 0) {
        LOG_WARNING("Ignoring a kill of unknown task %s", task_id);
        return;
    }
    kill_task(self, ex, kill_grace(ex, policy));
}

static void on_driver_ended(actor_t *self, executor_t *ex)
{
    if (ex->launched && !ex->terminated)
        LOG_WARNING("Task %s did not end within the shutdown grace period; killing it and exiting",
                    task_id_of(ex));
    finish(self, ex, 1);
}

static void handle_event(actor_t *self, executor_t *ex, event_t *ev)
{
    switch (ev->kind) {
    case EVENT_REGISTERED:
        ex->framework = (Mesos__FrameworkInfo *)ev->msg;
        ev->msg = NULL;
        break;
    case EVENT_DISCONNECTED:
        ex->disconnected = true;
        break;
    case EVENT_REREGISTERED:
        ex->disconnected = false;
        if (ex->terminated && !ex->task_acked)
            start_termination_timer(self);
        break;
    case EVENT_LAUNCH:
        launch(self, ex, (Mesos__TaskInfo *)ev->msg);
        ev->msg = NULL;
        break;
    case EVENT_KILL:
        on_kill(self, ex, ev->task_id, (const Mesos__KillPolicy *)ev->msg);
        break;
    case EVENT_SHUTDOWN:
        ex->agent_gone = executor_driver_status(ex->driver) == EXECUTOR_DRIVER_ABORTED;
        shutdown_executor(self, ex);
        break;
    case EVENT_ACKNOWLEDGED:
        on_acknowledged(self, ex, (const Mesos__TaskStatus *)ev->msg);
        break;
    case EVENT_DRIVER_ENDED:
        on_driver_ended(self, ex);
        break;
    }
}

static void event_dispatched(actor_t *self, void *state, void *arg)
{
    event_t *ev = arg;
    executor_t *ex = state;
    if (self != NULL && !ex->done)
        handle_event(self, ex, ev);
    event_free(ev);
}

/* Hands an event to the actor; msg (a copy, may be NULL) is the event's from now on. */
static void post(run_t *run, event_kind_t kind, ProtobufCMessage *msg, const char *task_id)
{
    event_t *ev = calloc(1, sizeof(*ev));
    char *id = task_id != NULL ? strdup(task_id) : NULL;
    if (ev == NULL || (task_id != NULL && id == NULL)) {
        LOG_ERROR("Out of memory handing an event to the command executor");
        free(ev);
        free(id);
        if (msg != NULL)
            protobuf_c_message_free_unpacked(msg, NULL);
        return;
    }
    ev->kind = kind;
    ev->msg = msg;
    ev->task_id = id;
    if (actor_dispatch(&run->actor, event_dispatched, ev) != ACTOR_OK)
        event_free(ev); /* the executor has ended */
}

/* post with a copy of msg (borrowed), which the event needs. */
static void post_copy(run_t *run, event_kind_t kind, const ProtobufCMessage *msg)
{
    ProtobufCMessage *copy = pb_copy(msg);
    if (copy == NULL) {
        LOG_ERROR("Out of memory copying a %s for the command executor", msg->descriptor->name);
        return;
    }
    post(run, kind, copy, NULL);
}

/* The driver's callbacks: each copies what it is given and posts it. */

static void cb_registered(executor_driver_t *d, void *user, const Mesos__ExecutorInfo *executor,
                          const Mesos__FrameworkInfo *framework, const Mesos__AgentInfo *agent)
{
    (void)d, (void)executor, (void)agent;
    post_copy(user, EVENT_REGISTERED, &framework->base);
}

static void cb_reregistered(executor_driver_t *d, void *user, const Mesos__AgentInfo *agent)
{
    (void)d, (void)agent;
    post(user, EVENT_REREGISTERED, NULL, NULL);
}

static void cb_disconnected(executor_driver_t *d, void *user)
{
    (void)d;
    post(user, EVENT_DISCONNECTED, NULL, NULL);
}

static void cb_launch_task(executor_driver_t *d, void *user, const Mesos__TaskInfo *task)
{
    (void)d;
    post_copy(user, EVENT_LAUNCH, &task->base);
}

static void cb_kill_task(executor_driver_t *d, void *user, const char *task_id,
                         const Mesos__KillPolicy *kill_policy)
{
    (void)d;
    ProtobufCMessage *policy = kill_policy != NULL ? pb_copy(&kill_policy->base) : NULL;
    if (kill_policy != NULL && policy == NULL)
        LOG_ERROR("Out of memory copying the kill policy of task %s: using the task's", task_id);
    post(user, EVENT_KILL, policy, task_id);
}

static void cb_shutdown(executor_driver_t *d, void *user)
{
    (void)d;
    post(user, EVENT_SHUTDOWN, NULL, NULL);
}

static void cb_acknowledged(executor_driver_t *d, void *user, const Mesos__TaskStatus *status)
{
    (void)d;
    post_copy(user, EVENT_ACKNOWLEDGED, &status->base);
}

static void cb_error(executor_driver_t *d, void *user, const char *message)
{
    (void)d, (void)user;
    LOG_ERROR("The executor driver failed: %s", message);
}

static const executor_callbacks_t callbacks = {
    .registered = cb_registered,
    .reregistered = cb_reregistered,
    .disconnected = cb_disconnected,
    .launch_task = cb_launch_task,
    .kill_task = cb_kill_task,
    .shutdown = cb_shutdown,
    .acknowledged = cb_acknowledged,
    .error = cb_error,
};

/* ---- lifecycle ---- */

typedef struct spawn_args {
    executor_options_t opts;
    run_t *run;
} spawn_args_t;

static void executor_init(actor_t *self, void *state, void *arg)
{
    executor_t *ex = state;
    spawn_args_t *a = arg;
    ex->opts = a->opts;
    ex->run = a->run;
    free(a);
    ex->run->actor = *actor_self(self); /* before any callback can post to it */
    actor_err_t rc = executor_driver_start(&ex->opts.driver, &callbacks, ex->run, &ex->driver);
    if (rc != ACTOR_OK) {
        LOG_ERROR("Failed to start the executor driver: %s", actor_strerror(rc));
        ex->done = true;
        ex->run->exit_code = 1;
        actor_terminate(actor_self(self));
    }
    /* executor_run reads these after the semaphore: no callback has run yet that needs them. */
    ex->run->driver = ex->driver;
    sem_post(&ex->run->started);
}

static void executor_fini(actor_t *self, void *state)
{
    (void)self;
    executor_t *ex = state;
    stop_health(ex);
    if (ex->task != NULL)
        mesos__task_info__free_unpacked(ex->task, NULL);
    if (ex->framework != NULL)
        mesos__framework_info__free_unpacked(ex->framework, NULL);
}

static const actor_ops_t executor_ops = {
    .name = "command_executor",
    .state_size = sizeof(executor_t),
    .init = executor_init,
    .fini = executor_fini,
};

int executor_run(const executor_options_t *opts)
{
    run_t run = {.exit_code = 0};
    if (sem_init(&run.started, 0, 0) != 0) {
        LOG_ERROR("Cannot start the command executor: no semaphore");
        return 1;
    }
    spawn_args_t *a = malloc(sizeof(*a));
    actor_err_t rc = a != NULL ? ACTOR_OK : ACTOR_ENOMEM;
    if (rc == ACTOR_OK) {
        a->opts = *opts;
        a->run = &run;
        rc = actor_spawn(&executor_ops, NULL, a, NULL);
    }
    if (rc != ACTOR_OK) {
        LOG_ERROR("Cannot start the command executor: %s", actor_strerror(rc));
        free(a);
        sem_destroy(&run.started);
        return 1;
    }
    actor_settle(); /* runs its init here when the I/O loop runs on this thread */
    while (sem_wait(&run.started) != 0)
        ; /* EINTR */
    if (run.driver != NULL) {
        executor_driver_run(run.driver);
        /* Ended by the executor (a no-op then), or by a shutdown's grace period. */
        post(&run, EVENT_DRIVER_ENDED, NULL, NULL);
    }
    actor_wait(&run.actor); /* set by the actor's init, which the semaphore waited for */
    executor_driver_free(run.driver);
    sem_destroy(&run.started);
    return run.exit_code;
}
