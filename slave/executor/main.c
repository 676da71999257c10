/*
 * mesos-executor: the command executor (executor.h). The agent starts it in the task's sandbox
 * with MESOS_AGENT_PID, MESOS_FRAMEWORK_ID, MESOS_EXECUTOR_ID, MESOS_DIRECTORY and the rest of
 * Mesos's executor environment; it serves actor messages on the agent's IP, on any free port.
 * SIGTERM or SIGINT shuts it down as ShutdownExecutorMessage does (the task is killed first).
 */
#include <arpa/inet.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "actor/flags.h"
#include "actor/log.h"
#include "slave/executor/executor.h"

extern char **environ;

static struct {
    pthread_mutex_t lock;
    bool stopping; /* the runtime is going: no more dispatches */
    actor_pid_t executor;
    sigset_t signals;
} sig = {.lock = PTHREAD_MUTEX_INITIALIZER};

/* Turns SIGTERM and SIGINT (blocked in every thread) into a shutdown of the executor. */
static void *signal_main(void *unused)
{
    (void)unused;
    for (;;) {
        int signo = 0;
        if (sigwait(&sig.signals, &signo) != 0)
            continue;
        pthread_mutex_lock(&sig.lock);
        if (!sig.stopping) {
            LOG_INFO("Received signal %d", signo);
            executor_shutdown(&sig.executor);
        }
        pthread_mutex_unlock(&sig.lock);
    }
    return NULL;
}

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

int main(int argc, char **argv)
{
    int rc = parse_flags(argc, argv);
    if (rc >= 0)
        return rc;
    executor_options_t opts;
    char err[512];
    if (executor_options_from_env(&opts, environ, err, sizeof(err)) != ACTOR_OK) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }

    sigemptyset(&sig.signals);
    sigaddset(&sig.signals, SIGTERM);
    sigaddset(&sig.signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &sig.signals, NULL);
    signal(SIGPIPE, SIG_IGN);

    char ip[INET_ADDRSTRLEN];
    struct in_addr addr = {.s_addr = htonl(opts.agent.ip)};
    inet_ntop(AF_INET, &addr, ip, sizeof(ip));
    actor_runtime_options_t ropts;
    actor_runtime_options_init(&ropts);
    ropts.ip = ip;
    ropts.port = 0;
    ropts.workers = 1;
    actor_err_t err_code = actor_runtime_start(&ropts);
    if (err_code != ACTOR_OK) {
        fprintf(stderr, "Failed to start the actor runtime on %s: %s\n", ip,
                actor_strerror(err_code));
        return 1;
    }
    int exit_code = 0;
    err_code = executor_spawn(&opts, &exit_code, &sig.executor);
    if (err_code != ACTOR_OK) {
        fprintf(stderr, "Failed to start the executor: %s\n", actor_strerror(err_code));
        actor_runtime_stop();
        return 1;
    }
    pthread_t thread;
    if (pthread_create(&thread, NULL, signal_main, NULL) == 0)
        pthread_detach(thread);
    else
        LOG_WARNING("Cannot start the signal thread: SIGTERM will not shut the executor down");
    actor_wait(&sig.executor);
    pthread_mutex_lock(&sig.lock);
    sig.stopping = true;
    pthread_mutex_unlock(&sig.lock);
    actor_runtime_stop();
    return exit_code;
}
