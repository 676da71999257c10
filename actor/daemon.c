/*
 * daemon.c: signals and runtime start-up for daemons.
 */
#include "actor/daemon.h"

#include <pthread.h>
#include <signal.h>

#include "actor/actor.h"
#include "actor/log.h"

static sigset_t stop_signals(void)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    return set;
}

actor_err_t actor_daemon_start(const char *ip, const char *advertise_ip, int port)
{
    sigset_t stop = stop_signals();
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    signal(SIGPIPE, SIG_IGN);
    actor_runtime_options_t opts;
    actor_runtime_options_init(&opts);
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
