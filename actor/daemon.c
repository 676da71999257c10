/*
 * daemon.c: signals and runtime start-up for daemons.
 */
#include "actor/daemon.h"

#include <errno.h>
#include <ev.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "actor/io.h"
#include "actor/log.h"

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

/* libprocess's limit for LIBPROCESS_NUM_WORKER_THREADS. */
#define WORKER_THREADS_MAX 1024

void actor_daemon_threads(actor_runtime_options_t *opts, bool actors_on_io_thread)
{
    opts->actors_on_io_thread = actors_on_io_thread;
    const char *value = getenv("LIBPROCESS_NUM_WORKER_THREADS");
    if (value == NULL)
        return;
    char *end;
    errno = 0;
    long n = strtol(value, &end, 10);
    if (errno != 0 || end == value || *end != '\0' || n < 1 || n > WORKER_THREADS_MAX) {
        LOG_WARNING("Ignoring invalid value '%s' for LIBPROCESS_NUM_WORKER_THREADS (1 to %d): "
                    "the actors run %s",
                    value, WORKER_THREADS_MAX,
                    actors_on_io_thread ? "on the I/O thread" : "on one worker thread per core");
        return;
    }
    opts->workers = (int)n;
    opts->actors_on_io_thread = false;
}

actor_err_t actor_daemon_start(const char *ip, const char *advertise_ip, int port,
                               actor_transport_engine_t engine, bool actors_on_io_thread)
{
    actor_daemon_prepare();
    actor_runtime_options_t opts;
    actor_runtime_options_init(&opts);
    actor_daemon_threads(&opts, actors_on_io_thread);
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

/* The signals of one actor_daemon_wait_actor, read from a signalfd on the I/O loop. */
typedef struct signal_watch {
    ev_io io; /* first: the libev callback gets the watch back from it */
    int fd;
    actor_pid_t pid; /* the actor the signals go to */
    actor_call_fn on_signal;
    void *arg; /* on_signal's, borrowed */
} signal_watch_t;

static void on_signals(struct ev_loop *loop, ev_io *io, int revents)
{
    (void)loop, (void)revents;
    signal_watch_t *w = (signal_watch_t *)io;
    struct signalfd_siginfo info;
    while (read(w->fd, &info, sizeof(info)) == (ssize_t)sizeof(info)) {
        char who[ACTOR_PID_STRLEN];
        LOG_INFO("Received signal %u: passing it to %s", info.ssi_signo,
                 actor_pid_format(&w->pid, who, sizeof(who)));
        /* ACTOR_ENOENT: the actor ended already, and there is nothing left to stop. */
        (void)actor_dispatch(&w->pid, w->on_signal, w->arg);
    }
}

static void watch_start(void *arg)
{
    signal_watch_t *w = arg;
    ev_io_init(&w->io, on_signals, w->fd, EV_READ);
    ev_io_start(actor_io_loop(), &w->io);
}

static void watch_stop(void *arg)
{
    signal_watch_t *w = arg;
    ev_io_stop(actor_io_loop(), &w->io);
}

/* No thread of its own: a daemon that lives for one task (an executor) would pay for starting,
 * waking and joining it; the runtime's I/O loop reads the signals instead. */
void actor_daemon_wait_actor(const actor_pid_t *pid, actor_call_fn on_signal, void *arg)
{
    signal_watch_t w = {.pid = *pid, .on_signal = on_signal, .arg = arg};
    sigset_t set = stop_signals();
    w.fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    bool watching = w.fd >= 0 && actor_io_call_sync(watch_start, &w) == ACTOR_OK;
    if (!watching)
        LOG_WARNING("Cannot watch for SIGINT and SIGTERM: %s",
                    w.fd < 0 ? strerror(errno) : "the runtime is not running");
    actor_wait(pid);
    if (watching)
        (void)actor_io_call_sync(watch_stop, &w);
    if (w.fd >= 0)
        close(w.fd);
}
