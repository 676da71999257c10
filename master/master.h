/*
 * master.h: the Mesos master actor (DESIGN.md section 6).
 *
 * The master keeps the cluster's book: the agents that registered (and their health, by
 * ping/pong), the frameworks that subscribed (and their failover), the offers it made from the
 * allocator's grants, the tasks launched through them and their status updates. It persists what
 * must survive a restart through the registrar, and serves Mesos's HTTP endpoints.
 *
 * Actors: the master spawns, next to itself, the allocator (master/allocator/) and the registrar
 * (master/registrar/), and talks to them by dispatch. Frameworks talk to it with
 * mesos.scheduler.Call messages and get mesos.scheduler.Event messages back; agents with the
 * mesos.internal messages of internal.proto.
 *
 * Use (mesos-master, mesos-local, in-process tests): fill master_options_t (master_options_init
 * gives Mesos's defaults), call master_start() with a running runtime, and later master_stop().
 */
#ifndef MASTER_MASTER_H
#define MASTER_MASTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "actor/actor.h"

typedef struct master_options {
    const char *id;                      /* the master actor's id; NULL = "master" */
    const char *hostname;                /* advertised hostname; NULL = the IP */
    const char *ip;                      /* advertised IP, as text; NULL = the runtime's */
    uint16_t http_port;                  /* the HTTP port users name (5050), shown in MasterInfo */
    const char *registry;                /* "in_memory" or "replicated_log" (the LMDB store) */
    const char *work_dir;                /* where the on-disk registry lives */
    size_t registry_map_size;            /* most bytes the on-disk registry may hold; 0 = the
                                            store's default (1 GiB) */
    int64_t agent_ping_timeout_ns;       /* --agent_ping_timeout (15secs) */
    uint32_t max_agent_ping_timeouts;    /* --max_agent_ping_timeouts (5) */
    int64_t allocation_interval_ns;      /* --allocation_interval (1secs) */
    int64_t agent_reregister_timeout_ns; /* --agent_reregister_timeout (10mins) */
    uint32_t max_completed_frameworks;   /* --max_completed_frameworks (50) */
    uint32_t max_completed_tasks_per_framework;   /* (1000) */
    uint32_t max_unreachable_tasks_per_framework; /* (1000) */
    double heartbeat_interval_seconds;            /* scheduler heartbeats (15) */
    json_t *flags; /* /flags answer: master_start takes a reference of its own; may be NULL */
    /* Called (from the registrar's thread) when the registry cannot be written; it must not
     * return in production. NULL: log and _exit(1), as Mesos's master exits. Tests set it. */
    void (*registry_failed)(actor_err_t err, const char *message);
} master_options_t;

void master_options_init(master_options_t *opts);

/* The actors of one master. */
typedef struct master_pids {
    actor_pid_t master, allocator, registrar;
} master_pids_t;

/* Recovers the registry, spawns the registrar, the allocator and the master; *pids receives
 * them. Errors from the registry (logged): ACTOR_EINVAL, ACTOR_ESYSTEM, ACTOR_EPROTO; ACTOR_EEXIST
 * if the master's id is taken. */
actor_err_t master_start(const master_options_t *opts, master_pids_t *pids);

/* Terminates the master, then its allocator and registrar (which closes the registry), and
 * waits for them. Call from outside any actor. */
void master_stop(const master_pids_t *pids);

#endif
