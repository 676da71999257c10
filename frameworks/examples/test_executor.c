/*
 * test-executor: the smallest useful custom executor (Mesos's src/examples/test_executor.cpp),
 * on the executor driver (frameworks/executor_driver.h). A scheduler launches it by giving its
 * tasks an ExecutorInfo whose command runs this program; the agent starts it once per executor
 * id with Mesos's executor environment.
 *
 * Each task it is given goes TASK_RUNNING, then TASK_FINISHED at once (the place where a real
 * executor would do the work). Framework messages are sent back to the scheduler as they came
 * (an echo, for tests). When the agent shuts it down it stops and exits 0; it exits 1 when the
 * driver aborted (the agent went away for good) and when it was not started by an agent.
 */
#include <stdio.h>

#include "frameworks/executor_driver.h"

static void on_registered(executor_driver_t *d, void *user, const Mesos__ExecutorInfo *executor,
                          const Mesos__FrameworkInfo *framework, const Mesos__AgentInfo *agent)
{
    (void)d, (void)user;
    printf("Registered executor %s of framework %s on %s\n", executor->executor_id->value,
           framework->name, agent->hostname);
    fflush(stdout);
}

static void send_state(executor_driver_t *d, const Mesos__TaskInfo *task, Mesos__TaskState state,
                       const char *message)
{
    Mesos__TaskStatus status = MESOS__TASK_STATUS__INIT;
    status.task_id = task->task_id;
    status.state = state;
    status.message = (char *)message;
    actor_err_t rc = executor_driver_send_status_update(d, &status);
    if (rc != ACTOR_OK)
        fprintf(stderr, "Cannot send an update of task %s: %s\n", task->task_id->value,
                actor_strerror(rc));
}

static void on_launch(executor_driver_t *d, void *user, const Mesos__TaskInfo *task)
{
    (void)user;
    printf("Starting task %s\n", task->task_id->value);
    send_state(d, task, MESOS__TASK_STATE__TASK_RUNNING, NULL);
    /* This is where one would perform the requested task. */
    printf("Finishing task %s\n", task->task_id->value);
    fflush(stdout);
    send_state(d, task, MESOS__TASK_STATE__TASK_FINISHED, "Finished by test-executor");
}

static void on_message(executor_driver_t *d, void *user, const uint8_t *data, size_t len)
{
    (void)user;
    executor_driver_send_framework_message(d, data, len);
}

static void on_shutdown(executor_driver_t *d, void *user)
{
    (void)user;
    printf("Shutting down\n");
    fflush(stdout);
    executor_driver_stop(d); /* every task has finished already */
}

int main(void)
{
    executor_callbacks_t cbs = {.registered = on_registered,
                                .launch_task = on_launch,
                                .framework_message = on_message,
                                .shutdown = on_shutdown};
    executor_driver_status_t status;
    char err[512];
    if (executor_driver_main(&cbs, NULL, &status, err, sizeof(err)) != ACTOR_OK) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    return status == EXECUTOR_DRIVER_STOPPED ? 0 : 1;
}
