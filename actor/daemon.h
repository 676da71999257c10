/*
 * daemon.h: what every daemon's main() does around the runtime (mesos-master, mesos-agent,
 * mesos-local, marathon): stop on SIGINT or SIGTERM, survive peers that hang up (SIGPIPE), and
 * start the runtime with its actor port.
 */
#ifndef ACTOR_DAEMON_H
#define ACTOR_DAEMON_H

#include "actor/error.h"

/* Blocks SIGINT and SIGTERM in the calling thread (before the runtime's threads start, so they
 * inherit the mask and only actor_daemon_wait takes the signals), ignores SIGPIPE, and starts the
 * runtime with default workers and its transport on ip:port advertised as advertise_ip (may be
 * NULL). On failure logs why and returns the error. Call once, from main. */
actor_err_t actor_daemon_start(const char *ip, const char *advertise_ip, int port);

/* Waits for SIGINT or SIGTERM and returns its number (logged). */
int actor_daemon_wait(void);

#endif
