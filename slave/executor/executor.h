/*
 * executor.h: the command executor (Mesos's mesos-executor, DESIGN.md section 7).
 *
 * An agent starts one mesos-executor process per command task, in the task's sandbox, with the
 * agent's PID and the ids in its environment. The process runs an actor, "executor(1)", that
 * speaks the executor-driver messages of proto/internal.proto with its agent:
 *
 *   executor -> agent                          agent -> executor
 *   RegisterExecutorMessage (every second      ExecutorRegisteredMessage
 *     until registered)
 *                                              RunTaskMessage: one task
 *   StatusUpdateMessage: TASK_STARTING,        StatusUpdateAcknowledgementMessage, per update
 *     TASK_RUNNING, then the terminal state      (by uuid)
 *                                              KillTaskMessage, ShutdownExecutorMessage
 *   ReregisterExecutorMessage (the task and    ReconnectExecutorMessage (a restarted agent)
 *     every unacknowledged update)             ExecutorReregisteredMessage
 *
 * The task's command runs in its own session (shell form `/bin/sh -c value`, or the argv form),
 * in the sandbox, with this process's environment plus the task's and MESOS_TASK_ID, writing to
 * this process's stdout and stderr (the agent points those at the sandbox's files). Its exit
 * becomes TASK_FINISHED or TASK_FAILED ("Command exited with status 3", "Command terminated with
 * signal Killed"), or TASK_KILLED after a kill: SIGTERM to the task's process group, SIGKILL when
 * the grace period ends. The executor exits once the agent acknowledged the terminal update, or a
 * few seconds after sending it if no acknowledgement comes.
 *
 * The executor links to its agent. When the link breaks, an executor of a checkpointing framework
 * (MESOS_CHECKPOINT=1) that was registered waits up to MESOS_RECOVERY_TIMEOUT for the restarted
 * agent's ReconnectExecutorMessage; any other executor kills its task and exits, as Mesos's
 * driver does.
 */
#ifndef SLAVE_EXECUTOR_EXECUTOR_H
#define SLAVE_EXECUTOR_EXECUTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "actor/actor.h"

typedef struct executor_options {
    actor_pid_t agent;           /* MESOS_AGENT_PID (or MESOS_SLAVE_PID) */
    const char *framework_id;    /* MESOS_FRAMEWORK_ID */
    const char *executor_id;     /* MESOS_EXECUTOR_ID */
    const char *agent_id;        /* MESOS_AGENT_ID (or MESOS_SLAVE_ID); may be NULL: registration
                                    tells it */
    const char *directory;       /* MESOS_DIRECTORY: the sandbox */
    const char *sandbox;         /* MESOS_SANDBOX: the sandbox as the task sees it, its working
                                    directory; MESOS_DIRECTORY when unset */
    bool checkpoint;             /* MESOS_CHECKPOINT=1: survive an agent restart */
    int64_t recovery_timeout_ns; /* MESOS_RECOVERY_TIMEOUT (15mins) */
    int64_t shutdown_grace_period_ns; /* MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD (5secs) */
    char *const *environ;             /* the tasks' base environment; NULL = this process's */
} executor_options_t;

/* Reads the options from an environment (NULL-terminated "NAME=value" strings). The strings in
 * *opts point into env, which must outlive them. Errors: ACTOR_EINVAL with one line in err for a
 * missing or malformed variable ("Expecting 'MESOS_FRAMEWORK_ID' to be set in the
 * environment"). */
actor_err_t executor_options_from_env(executor_options_t *opts, char *const *env, char *err,
                                      size_t err_len);

/* Spawns the executor actor, which registers with opts->agent at once. The runtime must run with
 * a transport. opts is copied, but its strings must outlive the actor. The actor terminates
 * itself when it is done, after writing the process's exit status into *exit_code (0 after a
 * task's terminal update went out, or a shutdown with no task; 1 when it lost its agent, or when
 * a shutdown had to give up waiting); *exit_code must outlive the actor. Errors: those of
 * actor_spawn. */
actor_err_t executor_spawn(const executor_options_t *opts, int *exit_code, actor_pid_t *pid);

/* Asks the executor to shut down as on ShutdownExecutorMessage (kill the task, report, exit);
 * mesos-executor calls it on SIGTERM and SIGINT. Thread-safe. Errors: ACTOR_ENOENT if the actor
 * is gone. */
actor_err_t executor_shutdown(const actor_pid_t *pid);

#endif
