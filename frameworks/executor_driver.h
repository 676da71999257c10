/*
 * executor_driver.h: the executor driver, what a custom executor is written against (Mesos's
 * MesosExecutorDriver, in C). DESIGN.md section 8. The command executor, mesos-executor
 * (slave/executor/), is built on it; frameworks/examples/test_executor.c is a complete custom
 * executor in a page.
 *
 * What an executor is. A framework that wants more than a shell command per task names an
 * executor in its tasks: TaskInfo.executor, an ExecutorInfo whose CommandInfo starts the
 * executor's program (with `executor_id`, and resources of its own). The agent starts that
 * program once, in a sandbox, the first time a task names the executor, with Mesos's executor
 * environment (MESOS_AGENT_PID, MESOS_FRAMEWORK_ID, MESOS_EXECUTOR_ID, MESOS_DIRECTORY, ...);
 * later tasks naming the same executor id go to the same process. The program starts a driver,
 * which registers with the agent and turns what the agent sends into callbacks: a task to run
 * (launch_task), a task to kill (kill_task), a message from the scheduler (framework_message),
 * the order to go (shutdown). The executor reports each task's progress with
 * executor_driver_send_status_update: TASK_RUNNING, then a terminal state (TASK_FINISHED,
 * TASK_FAILED, TASK_KILLED, ...); the agent forwards them to the scheduler. An executor that
 * has nothing to run keeps running until the agent shuts it down (when the framework ends, or
 * the scheduler kills it): it does not exit on its own when its tasks end.
 *
 * A minimal executor (frameworks/examples/test_executor.c is this with two more callbacks):
 *
 *     static void on_launch(executor_driver_t *d, void *user, const Mesos__TaskInfo *task)
 *     {
 *         Mesos__TaskStatus status = MESOS__TASK_STATUS__INIT;
 *         status.task_id = task->task_id;
 *         status.state = MESOS__TASK_STATE__TASK_RUNNING;
 *         executor_driver_send_status_update(d, &status);
 *         // ... do the work: here, none ...
 *         status.state = MESOS__TASK_STATE__TASK_FINISHED;
 *         executor_driver_send_status_update(d, &status);
 *     }
 *     static void on_shutdown(executor_driver_t *d, void *user)
 *     {
 *         executor_driver_stop(d);   // nothing of ours runs: we can go at once
 *     }
 *     int main(void)
 *     {
 *         executor_callbacks_t cbs = {.launch_task = on_launch, .shutdown = on_shutdown};
 *         executor_driver_status_t status;
 *         char err[256];
 *         if (executor_driver_main(&cbs, NULL, &status, err, sizeof(err)) != ACTOR_OK) {
 *             fprintf(stderr, "%s\n", err);   // not started by an agent, say
 *             return 1;
 *         }
 *         return status == EXECUTOR_DRIVER_STOPPED ? 0 : 1;
 *     }
 *
 * executor_driver_main is executor_driver_options_from_env, executor_driver_runtime_start,
 * executor_driver_start, executor_driver_run, executor_driver_free and actor_runtime_stop in one
 * call; a program that hosts other actors makes those calls itself.
 *
 * The protocol (proto/internal.proto), for the curious: RegisterExecutorMessage, retried every
 * second until ExecutorRegisteredMessage; then RunTaskMessage, KillTaskMessage,
 * FrameworkToExecutorMessage and ShutdownExecutorMessage from the agent, StatusUpdateMessage
 * (answered by StatusUpdateAcknowledgementMessage) and ExecutorToFrameworkMessage to it; after
 * an agent restart, ReconnectExecutorMessage, answered by ReregisterExecutorMessage, answered by
 * ExecutorReregisteredMessage. Messages from anyone but the agent are ignored.
 *
 * Status updates are reliable. The driver gives each update a uuid, a timestamp, the executor's
 * and agent's ids and SOURCE_EXECUTOR, sends it, and keeps it until the agent acknowledges that
 * uuid (which it does once the update is durable: the scheduler will get it even if the agent
 * restarts). Unacknowledged updates are sent again, oldest first (so each task's updates keep
 * their order), every update_retry (10 s, doubling up to 10 min), and handed to a restarted
 * agent when the driver reregisters. An executor may send a task's updates one after the other
 * without waiting; the `acknowledged` callback tells when each one is safe. Acknowledged
 * terminal updates also end the driver's record of their task.
 *
 * Losing the agent. The driver links to the agent. When the link breaks, the executor of a
 * framework that checkpoints (MESOS_CHECKPOINT=1) that had registered is told `disconnected` and
 * the driver waits up to MESOS_RECOVERY_TIMEOUT for the restarted agent's reconnect request:
 * meanwhile updates are kept, not sent; the tasks go on. When the agent comes back the driver
 * reregisters (with its unfinished tasks and every unacknowledged update) and calls
 * `reregistered`. Otherwise (no checkpointing, never registered, or the recovery timeout passed)
 * the agent is gone for good: the driver aborts (its status becomes EXECUTOR_DRIVER_ABORTED, no
 * more updates go out) and calls `shutdown`, as Mesos's driver does.
 *
 * Shutting down. `shutdown` comes when the agent sends ShutdownExecutorMessage, when the agent is
 * gone (above), or when executor_driver_run receives SIGTERM or SIGINT. The executor then kills
 * its tasks, sends their terminal updates (TASK_KILLED) and calls executor_driver_stop. If it has
 * not stopped the driver within MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD (5 s by default), the driver
 * aborts and ends by itself (join returns EXECUTOR_DRIVER_ABORTED), so that the program can exit:
 * it should then kill whatever it still runs. The agent kills the executor's processes soon after.
 *
 * Threads. Callbacks run inside the driver's actor, one at a time, never concurrently with each
 * other, so the executor's state needs no lock if only callbacks touch it. They must not block
 * (run a task's work in a thread or a process of its own). Every call may be made from a
 * callback, where it is sent at once, or from any other thread (an actor of the program, a worker
 * thread), where it is copied and handed to the driver's actor; either way calls from one thread
 * are sent in the order they were made.
 *
 * Errors are actor_err_t (actor/error.h): ACTOR_OK when the call was taken, ACTOR_EINVAL for
 * malformed arguments (a NULL task id, a TASK_STAGING update), ACTOR_ECLOSED once the driver
 * stopped or aborted, ACTOR_ENOMEM.
 */
#ifndef FRAMEWORKS_EXECUTOR_DRIVER_H
#define FRAMEWORKS_EXECUTOR_DRIVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "actor/actor.h"
#include "mesos.pb-c.h"

typedef struct executor_driver executor_driver_t;

typedef struct executor_driver_options {
    actor_pid_t agent;        /* MESOS_AGENT_PID (or MESOS_SLAVE_PID). Required. */
    const char *framework_id; /* MESOS_FRAMEWORK_ID. Required. */
    const char *executor_id;  /* MESOS_EXECUTOR_ID. Required. */
    const char *agent_id;     /* MESOS_AGENT_ID (or MESOS_SLAVE_ID); NULL: registration tells */
    /* For the executor's own use (the driver does not read them): */
    const char *directory;       /* MESOS_DIRECTORY: the sandbox on the agent's file system */
    const char *sandbox;         /* MESOS_SANDBOX: the sandbox as the executor sees it (its working
                                    directory); MESOS_DIRECTORY when unset */
    bool checkpoint;             /* MESOS_CHECKPOINT=1: wait for a restarted agent (false) */
    int64_t recovery_timeout_ns; /* MESOS_RECOVERY_TIMEOUT: how long (15mins) */
    int64_t shutdown_grace_period_ns; /* MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD (5secs) */
    int64_t registration_retry_ns;    /* RegisterExecutorMessage again after this (1 s) */
    int64_t update_retry_ns;          /* unacknowledged updates sent again after this (10 s), */
    int64_t update_retry_max_ns;      /* doubling up to this (10 min) */
    const char *id;                   /* the driver actor's id; NULL = the next "executor(N)" */
} executor_driver_options_t;

/* Fills opts with the defaults above (everything else zero/NULL). Cannot fail. */
void executor_driver_options_init(executor_driver_options_t *opts);

/*
 * Fills opts (executor_driver_options_init first) from an environment: NULL-terminated
 * "NAME=value" strings, usually `environ`. The strings in *opts point into env, which must
 * outlive them. Errors: ACTOR_EINVAL with one line in err for a missing or malformed variable
 * ("Expecting 'MESOS_FRAMEWORK_ID' to be set in the environment", "Failed to parse
 * MESOS_RECOVERY_TIMEOUT '5 parsecs': ..."). Thread-safe.
 */
actor_err_t executor_driver_options_from_env(executor_driver_options_t *opts, char *const *env,
                                             char *err, size_t err_len);

/*
 * What the executor implements. Any member may be NULL: the event is then ignored (a NULL
 * shutdown stops the driver at once). Every callback runs inside the driver's actor and borrows
 * its arguments until it returns (copy what you keep: actor/pbcopy.h). `user` is
 * executor_driver_start's. From a callback any driver call may be made, executor_driver_stop
 * included, after which no further callback runs.
 */
typedef struct executor_callbacks {
    /* Registered with the agent: what the agent knows of this executor, its framework and
     * itself. Comes once, before any launch_task. */
    void (*registered)(executor_driver_t *d, void *user, const Mesos__ExecutorInfo *executor,
                       const Mesos__FrameworkInfo *framework, const Mesos__AgentInfo *agent);
    /* Registered again with a restarted agent (checkpointing frameworks only). */
    void (*reregistered)(executor_driver_t *d, void *user, const Mesos__AgentInfo *agent);
    /* The agent went away; the driver waits for it to come back (see "Losing the agent"). */
    void (*disconnected)(executor_driver_t *d, void *user);
    /* Run this task (its id is new to this executor). Answer with status updates. */
    void (*launch_task)(executor_driver_t *d, void *user, const Mesos__TaskInfo *task);
    /* Kill this task and answer TASK_KILLED (TASK_KILLING first if the framework has the
     * TASK_KILLING_STATE capability). kill_policy, when not NULL, overrides the task's own
     * (its grace_period: how long the task may take to end before it is killed hard). The id
     * may name a task this executor does not run (or no longer runs): ignore it then. */
    void (*kill_task)(executor_driver_t *d, void *user, const char *task_id,
                      const Mesos__KillPolicy *kill_policy);
    /* A message from the scheduler (scheduler_driver_message): unreliable, as in Mesos. */
    void (*framework_message)(executor_driver_t *d, void *user, const uint8_t *data, size_t len);
    /* Kill every task, report them, then executor_driver_stop (see "Shutting down"). */
    void (*shutdown)(executor_driver_t *d, void *user);
    /* The agent acknowledged an update: it is durable, and will reach the scheduler. status is
     * the update as sent (uuid included). */
    void (*acknowledged)(executor_driver_t *d, void *user, const Mesos__TaskStatus *status);
    /* An unrecoverable error (such as an update in TASK_STAGING, which only the agent may
     * send). The driver has aborted when this returns. */
    void (*error)(executor_driver_t *d, void *user, const char *message);
} executor_callbacks_t;

typedef enum executor_driver_status {
    EXECUTOR_DRIVER_RUNNING = 1, /* started: registering, registered or waiting for the agent */
    EXECUTOR_DRIVER_STOPPED,     /* executor_driver_stop was called */
    EXECUTOR_DRIVER_ABORTED,     /* the agent is gone, an error, or executor_driver_abort */
} executor_driver_status_t;

/*
 * Starts a driver: checks the options, spawns its actor, which registers with opts->agent at
 * once. The runtime must be running with a transport (executor_driver_runtime_start). opts and
 * the strings it points to are copied; cbs is copied; user is passed to every callback. On
 * ACTOR_OK *out is the driver (release it with executor_driver_free). Errors: ACTOR_EINVAL (no
 * agent, framework or executor id; logged), ACTOR_ENOMEM, ACTOR_EEXIST (id taken), ACTOR_ECLOSED
 * (runtime not running). On error no callback ever runs. Thread-safe.
 */
actor_err_t executor_driver_start(const executor_driver_options_t *opts,
                                  const executor_callbacks_t *cbs, void *user,
                                  executor_driver_t **out);

/* Stops the driver: its actor ends after the current event; updates not yet acknowledged are
 * forgotten (send the terminal ones and wait for `acknowledged` first to be sure they arrive).
 * No callback starts after stop returns (one running on another thread may finish; join waits
 * for it). Returns the status after the call: STOPPED, or ABORTED if it had aborted before.
 * Thread-safe; may be called from callbacks; idempotent. */
executor_driver_status_t executor_driver_stop(executor_driver_t *d);

/* As stop, but the status becomes ABORTED (unless it had stopped before). Thread-safe; may be
 * called from callbacks; idempotent. */
executor_driver_status_t executor_driver_abort(executor_driver_t *d);

/* The driver's status now. Thread-safe. */
executor_driver_status_t executor_driver_status(const executor_driver_t *d);

/* Blocks until the driver's actor has ended (after stop, abort, or a shutdown grace period that
 * ran out), then returns the final status. Never from a callback or another actor's handler (it
 * would block a worker): from a callback it logs an error and returns at once. */
executor_driver_status_t executor_driver_join(executor_driver_t *d);

/* join, except that SIGINT or SIGTERM meanwhile shut the executor down as the agent would
 * (`shutdown`, then the grace period). Those signals must be blocked in every thread
 * (executor_driver_runtime_start does that). Not from a callback. */
executor_driver_status_t executor_driver_run(executor_driver_t *d);

/* Stops the driver if it still runs, joins it and frees it. d NULL: nothing. Not from a
 * callback. */
void executor_driver_free(executor_driver_t *d);

/* ---- calls (see the header comment for threads and errors) ---- */

/*
 * Sends a task's status update (see "Status updates are reliable"). status is borrowed: the
 * driver copies what it sends. task_id and state are required; message, reason, data, labels,
 * healthy, container_status and the rest are the executor's to set and reach the scheduler as
 * they are; uuid, timestamp, executor_id, agent_id and source are set by the driver. Errors:
 * ACTOR_EINVAL (no task id; TASK_STAGING, which also aborts the driver through `error`, as
 * Mesos's driver does), ACTOR_ECLOSED, ACTOR_ENOMEM.
 */
actor_err_t executor_driver_send_status_update(executor_driver_t *d,
                                               const Mesos__TaskStatus *status);

/* Sends data (copied) to the scheduler, which gets it in its `message` callback. Unreliable, as
 * in Mesos: dropped while the agent is away or before the agent id is known (logged). */
actor_err_t executor_driver_send_framework_message(executor_driver_t *d, const void *data,
                                                   size_t len);

/* ---- helpers for executor programs ---- */

/*
 * Starts this process's actor runtime for an executor whose agent is opts->agent, as
 * actor_daemon_start (actor/daemon.h) does but with the actors on the I/O loop and that loop on
 * the calling thread (actors_on_io_thread and io_on_caller_thread, actor.h: no worker, no I/O
 * thread; the loop runs while that thread waits in executor_driver_run, executor_driver_join,
 * actor_wait or actor_runtime_stop, so it must not block otherwise), one malloc
 * arena and the light transport engine
 * (ACTOR_TRANSPORT_IO_LOOP, actor.h: no nng threads): the transport on the agent's IP address
 * (the agent must reach the executor back) on any free port; SIGINT and SIGTERM blocked in the
 * calling thread first (so every runtime thread inherits the mask and executor_driver_run
 * receives them); SIGPIPE ignored. Call from main before any other thread exists. Errors
 * (message in err): those of actor_runtime_start.
 */
actor_err_t executor_driver_runtime_start(const executor_driver_options_t *opts, char *err,
                                          size_t err_len);

/*
 * Runs an executor program's driver from start to end: the options from this process's
 * environment, the runtime (executor_driver_runtime_start), the driver, executor_driver_run, free,
 * and the runtime stopped. Call from main before any other thread exists. On ACTOR_OK *status is
 * the driver's final status. Otherwise (an environment that is not an agent's, a runtime or
 * driver that could not start) err holds a one-line message and no callback ran.
 */
actor_err_t executor_driver_main(const executor_callbacks_t *cbs, void *user,
                                 executor_driver_status_t *status, char *err, size_t err_len);

#endif
