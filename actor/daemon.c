/*
 * daemon.c: signals and runtime start-up for daemons.
 */
#include "actor/daemon.h"

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>

#include "actor/log.h"

#define WAKE_SIGNAL SIGUSR1 /* ends actor_daemon_wait_actor's signal thread */

static sigset_t stop_signals(void)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    return set;
}

void actor_daemon_prepare(void)
{
    sigset_t stop = stop_signals();
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    signal(SIGPIPE, SIG_IGN);
}

actor_err_t actor_daemon_start(const char *ip, const char *advertise_ip, int port,
                               actor_transport_engine_t engine)
{
    actor_daemon_prepare();
    actor_runtime_options_t opts;
    actor_runtime_options_init(&opts);
    opts.transport = engine;
    opts.ip = ip;
    opts.advertise_ip = advertise_ip;
    opts.port = port;
    actor_err_t rc = actor_runtime_start(&opts);
    if (rc != ACTOR_OK)
        LOG_ERROR("Failed to start the actor runtime on %s:%d: %s", ip != NULL ? ip : "127.0.0.1",
                  port, actor_strerror(rc));
    return rc;
}

int actor_daemon_wait(void)
{
    sigset_t stop = stop_signals();
    int sig = 0;
    sigwait(&stop, &sig);
    LOG_INFO("Stopping on signal %d", sig);
    return sig;
}

typedef struct signal_watch {
    actor_pid_t pid; /* the actor the signals go to */
    actor_call_fn on_signal;
    void *arg; /* on_signal's, borrowed */
} signal_watch_t;

/* The stop signals plus the wake-up signal: what the signal thread takes. */
static sigset_t watched_signals(void)
{
    sigset_t set = stop_signals();
    sigaddset(&set, WAKE_SIGNAL);
    return set;
}

static void *signal_thread(void *arg)
{
    const signal_watch_t *w = arg;
    sigset_t set = watched_signals();
    for (;;) {
        int sig = 0;
        if (sigwait(&set, &sig) != 0)
            continue;
        if (sig == WAKE_SIGNAL)
            return NULL;
        char who[ACTOR_PID_STRLEN];
        LOG_INFO("Received signal %d: passing it to %s", sig,
                 actor_pid_format(&w->pid, who, sizeof(who)));
        /* ACTOR_ENOENT: the actor ended already, and there is nothing left to stop. */
        (void)actor_dispatch(&w->pid, w->on_signal, w->arg);
    }
}

void actor_daemon_wait_actor(const actor_pid_t *pid, actor_call_fn on_signal, void *arg)
{
    signal_watch_t w = {.pid = *pid, .on_signal = on_signal, .arg = arg};
    /* The thread inherits a mask with the three signals blocked, so that sigwait takes them and
     * the wake-up signal can never kill the process. */
    sigset_t set = watched_signals(), old;
    pthread_sigmask(SIG_BLOCK, &set, &old);
    pthread_t thread;
    bool started = pthread_create(&thread, NULL, signal_thread, &w) == 0;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (!started)
        LOG_WARNING("Cannot watch for SIGINT and SIGTERM: no thread");
    actor_wait(pid);
    if (started) {
        pthread_kill(thread, WAKE_SIGNAL);
        pthread_join(thread, NULL);
    }
}
