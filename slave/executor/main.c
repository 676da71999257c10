/*
 * mesos-executor: the command executor (executor.h). The agent starts it in the task's sandbox
 * with MESOS_AGENT_PID, MESOS_FRAMEWORK_ID, MESOS_EXECUTOR_ID, MESOS_DIRECTORY and the rest of
 * Mesos's executor environment (read by the executor driver); it serves actor messages on the
 * agent's IP, on any free port. SIGTERM or SIGINT shuts it down as ShutdownExecutorMessage does
 * (the task is killed first).
 */
#include <stdio.h>

#include "actor/flags.h"
#include "actor/forkserver.h"
#include "actor/log.h"
#include "slave/executor/executor.h"

extern char **environ;

static int parse_flags(int argc, char **argv)
{
    char *launcher_dir = NULL;
    flags_flag_t table[] = {
        FLAGS_STRING("launcher_dir", &launcher_dir, NULL,
                     "Directory of the Mesos binaries (accepted as Mesos's agent passes it; "
                     "unused)"),
        FLAGS_END,
    };
    flags_options_t fo = {.env_prefix = NULL};
    flags_result_t result;
    int rc = -1;
    if (flags_parse(table, argc, argv, &fo, &result) != ACTOR_OK) {
        fprintf(stderr, "%s\n", result.error);
        rc = 1;
    } else if (result.help) {
        flags_usage_write(table, "mesos-executor", stdout);
        printf("The agent passes everything else in the environment: MESOS_AGENT_PID, "
               "MESOS_FRAMEWORK_ID,\nMESOS_EXECUTOR_ID, MESOS_DIRECTORY, MESOS_SANDBOX, "
               "MESOS_CHECKPOINT, MESOS_RECOVERY_TIMEOUT,\n"
               "MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD, MESOS_AGENT_ID.\n");
        rc = 0;
    }
    flags_free(table);
    return rc;
}

static int executor_main(int argc, char **argv)
{
    int rc = parse_flags(argc, argv);
    if (rc >= 0)
        return rc;
    executor_options_t opts = {.environ = environ};
    executor_driver_options_init(&opts.driver);
    char err[512];
    if (executor_driver_options_from_env(&opts.driver, environ, err, sizeof(err)) != ACTOR_OK ||
        executor_driver_runtime_start(&opts.driver, err, sizeof(err)) != ACTOR_OK) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    int exit_code = executor_run(&opts);
    actor_runtime_stop();
    return exit_code;
}

/* An agent forks its command executors from a waiting copy (forkserver.h): one per task saves
 * the execve and the C library's start-up. */
int main(int argc, char **argv)
{
    actor_forkserver_main(executor_main);
    return executor_main(argc, argv);
}
