/*
 * executor.h: the command executor (Mesos's mesos-executor, DESIGN.md section 7), a user of the
 * executor driver (frameworks/executor_driver.h) as Mesos's is of its driver.
 *
 * An agent starts one mesos-executor process per command task, in the task's sandbox, with the
 * agent's PID and the ids in its environment. The driver registers with the agent (retrying
 * every second), keeps every status update until the agent acknowledges it, and reregisters
 * with a restarted agent; the command executor is an actor of its own, "command_executor(1)",
 * that the driver's callbacks hand their events to and that runs the one task:
 *
 *   launch_task: TASK_STARTING, the command started, TASK_RUNNING (then health checks, if the
 *     task has a COMMAND HealthCheck: TASK_RUNNING updates with `healthy`)
 *   the command exits: TASK_FINISHED or TASK_FAILED ("Command exited with status 3", "Command
 *     terminated with signal Killed"), or TASK_KILLED after a kill
 *   kill_task: TASK_KILLING (for frameworks with TASK_KILLING_STATE), SIGTERM to the task's
 *     process group, SIGKILL when the grace period ends (the kill's policy, else the task's,
 *     else MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD)
 *   a second task: TASK_FAILED, the command executor runs one
 *   shutdown (the agent asked, SIGTERM or SIGINT, or the agent is gone): the task is killed as
 *     above, leaving a second of the shutdown grace period for TASK_KILLED to leave
 *
 * The task's command runs in its own session (shell form `/bin/sh -c value`, or the argv form),
 * in the sandbox, with this process's environment plus the task's and MESOS_TASK_ID, writing to
 * this process's stdout and stderr (the agent points those at the sandbox's files). The executor
 * exits once the agent acknowledged the terminal update, or a few seconds after sending it if no
 * acknowledgement comes (while the driver waits for a restarted agent, the wait lasts until the
 * agent is back or the recovery timeout ends it).
 */
#ifndef SLAVE_EXECUTOR_EXECUTOR_H
#define SLAVE_EXECUTOR_EXECUTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "actor/actor.h"
#include "frameworks/executor_driver.h"

typedef struct executor_options {
    executor_driver_options_t driver; /* executor_driver_options_from_env */
    char *const *environ;             /* the task's base environment; NULL = this process's */
} executor_options_t;

/*
 * Runs the command executor until it is done: spawns its actor, which starts the driver with
 * opts->driver; waits for both, SIGTERM and SIGINT shutting the executor down as
 * ShutdownExecutorMessage does (they must be blocked in every thread:
 * executor_driver_runtime_start does that). The runtime must run with a transport; opts and
 * its strings must outlive the call. Returns the process's exit status: 0 after the task's
 * terminal update went out (acknowledged, or after waiting a few seconds for it) or a shutdown
 * with no task; 1 when the agent was lost, when a shutdown ran out of its grace period, or when
 * the executor could not start (logged). Not from an actor's handler: it blocks.
 */
int executor_run(const executor_options_t *opts);

#endif
