/*
 * daemon.h: what every daemon's main() does around the runtime (mesos-master, mesos-agent,
 * mesos-local, marathon, and the programs built on the scheduler and executor drivers): stop on
 * SIGINT or SIGTERM, survive peers that hang up (SIGPIPE), and start the runtime with its actor
 * port.
 */
#ifndef ACTOR_DAEMON_H
#define ACTOR_DAEMON_H

#include "actor/actor.h"
#include "actor/error.h"

/* Blocks SIGINT and SIGTERM in the calling thread (before any other thread starts, so they
 * inherit the mask and only actor_daemon_wait or actor_daemon_wait_actor take the signals) and
 * ignores SIGPIPE. For a main() that starts the runtime with options of its own (an executor's
 * actors on its I/O thread); actor_daemon_start does it first. */
void actor_daemon_prepare(void);

/* Where a daemon's actors run: on the runtime's I/O thread (actors_on_io_thread, actor.h) or on
 * worker threads, one per core, as the daemon chooses, unless the environment's
 * LIBPROCESS_NUM_WORKER_THREADS (1..1024, Mesos's variable) asks for that many workers. An
 * invalid value is logged and ignored. Sets opts' workers and actors_on_io_thread. */
void actor_daemon_threads(actor_runtime_options_t *opts, bool actors_on_io_thread);

/* actor_daemon_prepare, then starts the runtime (threads as actor_daemon_threads says) and its
 * transport (on the engine asked for: actor.h) on ip:port advertised as advertise_ip (may be
 * NULL). On failure logs why and returns the error. Call once, from main. */
actor_err_t actor_daemon_start(const char *ip, const char *advertise_ip, int port,
                               actor_transport_engine_t engine, bool actors_on_io_thread);

/* Waits for SIGINT or SIGTERM and returns its number (logged). */
int actor_daemon_wait(void);

/* Blocks until the local actor `pid` has terminated (at once if it is gone), as actor_wait, while
 * the runtime's I/O loop takes SIGINT and SIGTERM sent to the process (through a signalfd):
 * each one is logged and dispatches on_signal(self, state, arg) into the actor, which decides
 * how to end (a driver's stop, an executor's shutdown). A signal that finds the actor gone is
 * dropped; once the call returns, signals stay pending again. As for any dispatch, on_signal runs
 * with self and state NULL if the actor ends before it can run, and it must not free arg (each
 * signal passes the same arg); arg must stay valid while the actor lives.
 *
 * The signals must be blocked in every thread of the process, as actor_daemon_start leaves them.
 * If they cannot be watched (no descriptor left) it logs a warning and only waits. Call from
 * outside any actor, with the runtime running (actor_wait's rules). */
void actor_daemon_wait_actor(const actor_pid_t *pid, actor_call_fn on_signal, void *arg);

#endif
