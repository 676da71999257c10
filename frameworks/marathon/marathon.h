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
    double min_revive_offers_interval;       /* --min_revive_offers_interval, seconds (5): the least
                                                time between two revives of offers; 0: no limit */
    uint32_t local_port_min, local_port_max; /* service ports (10000, 20000) */

    /* ---- event callbacks and alerts (subscriptions.c, alerts.c) ----
     * Zero numbers mean the defaults named here, so options from marathon_options_init work
     * unchanged. */
    const char *event_subscriber; /* --event_subscriber: NULL or "http_callback" (subscriptions
                                     are always on; the flag is accepted as Marathon 1.4's) */
    const char *http_endpoints;   /* --http_endpoints: callback URLs subscribed at start,
                                     comma-separated (NULL: none) */
    double http_event_callback_timeout;        /* seconds a callback may take (0: 10, as Marathon's
                                                  --http_event_callback_slow_consumer_timeout) */
    uint32_t http_event_callback_queue;        /* events queued per subscriber, oldest dropped when
                                                  full (0: 1024) */
    uint32_t http_event_callback_max_failures; /* consecutive failed deliveries after which a
                                                  subscriber is dropped (0: 10) */
    const char *alert_smtp;        /* --alert_smtp: smtp://HOST:PORT (or smtps://); NULL: no mail */
    const char *alert_to;          /* --alert_to: recipients, comma-separated */
    const char *alert_from;        /* --alert_from (NULL: marathon@<hostname>) */
    double alert_interval;         /* seconds between two mails about one app (0: 300) */
    uint32_t alert_max_per_minute; /* mails per minute over all apps (0: 10) */
} marathon_options_t;

/* Fills opts with Marathon's defaults. Cannot fail. */
void marathon_options_init(marathon_options_t *opts);

/* Checks the event callback and alert options (http_endpoints, alert_smtp, alert_to,
 * alert_from): ACTOR_OK, or ACTOR_EINVAL with a one-line message in err naming the flag. Cannot
 * block. */
actor_err_t marathon_notify_options_check(const marathon_options_t *opts, char *err,
                                          size_t err_len);

/* A running Marathon: its actor and its scheduler driver. */
typedef struct marathon_server marathon_server_t;

/* Starts Marathon: opens (and recovers) the store, spawns the actor with its HTTP routes
 * ("/v2/...", "/ping", ...), its event subscribers and alert mails, and starts the scheduler
 * driver with the saved framework id. opts is copied (its strings too): the caller keeps it.
 * Serve it with actor_http_listen(ip, port, marathon_server_pid(*out)->id, NULL). Errors:
 * ACTOR_EINVAL with a message in err (no --master, bad event or alert options as
 * marathon_notify_options_check tells, an unusable work_dir), ACTOR_ENOMEM, ACTOR_ECLOSED. Call
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
