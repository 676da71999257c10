/*
 * marathon.h: Marathon, the framework that keeps users' apps running (DESIGN.md section 8,
 * issue 6), as an actor: it subscribes to the master through the scheduler driver, serves
 * Marathon's REST API v2 on its HTTP port, persists its state in the key-value store (store.h)
 * and launches, replaces, scales and restarts apps' instances.
 *
 * Used by the `marathon` binary and by mesos-local (--marathon_port). Start the actor runtime
 * first.
 */
#ifndef FRAMEWORKS_MARATHON_MARATHON_H
#define FRAMEWORKS_MARATHON_MARATHON_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "actor/actor.h"

typedef struct marathon_options {
    const char *master;             /* --master: HOST:PORT of the master, or its PID */
    const char *hostname;           /* --hostname: advertised (default: the runtime's IP) */
    uint16_t http_port;             /* --http_port (8080): for /v2/info, /v2/leader */
    const char *framework_name;     /* --framework_name ("marathon") */
    double failover_timeout;        /* --failover_timeout, seconds (604800, a week, as Marathon) */
    const char *work_dir;           /* --work_dir: the store (LMDB); NULL = in memory */
    const char *mesos_role;         /* --mesos_role ("*") */
    const char *mesos_user;         /* --mesos_user: tasks' default user (NULL: the framework's) */
    double task_launch_timeout;     /* seconds a task may stay staging before it is killed (300) */
    double reconciliation_interval; /* seconds between implicit reconciliations (600) */
    double decline_offer_duration;  /* --decline_offer_duration, seconds (120) */
    uint32_t local_port_min, local_port_max; /* service ports (10000, 20000) */
} marathon_options_t;

/* Fills opts with Marathon's defaults. Cannot fail. */
void marathon_options_init(marathon_options_t *opts);

/* A running Marathon: its actor and its scheduler driver. */
typedef struct marathon_server marathon_server_t;

/* Starts Marathon: opens (and recovers) the store, spawns the actor with its HTTP routes
 * ("/v2/...", "/ping", ...) and starts the scheduler driver with the saved framework id. Serve
 * it with actor_http_listen(ip, port, marathon_server_pid(*out)->id, NULL). Errors: ACTOR_EINVAL
 * with a message in err (no --master, an unusable work_dir), ACTOR_ENOMEM, ACTOR_ECLOSED. Call
 * from outside actors. */
actor_err_t marathon_start(const marathon_options_t *opts, marathon_server_t **out, char *err,
                           size_t err_len);

/* The Marathon actor's PID. */
const actor_pid_t *marathon_server_pid(const marathon_server_t *server);

/* Stops Marathon and frees server: the driver fails over (the framework and its tasks stay with
 * the master for failover_timeout, as when Marathon's process exits), then the actor ends. Call
 * from outside actors. NULL is ignored. */
void marathon_stop(marathon_server_t *server);

#endif
