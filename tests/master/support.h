/*
 * support.h: an in-process cluster for the master's tests (Mesos's MesosTest with its
 * MockScheduler and a fake agent): the runtime without workers (every actor runs inside
 * actor_settle, deterministically), the clock paused, an in-memory or LMDB registry, and two
 * kinds of fake actors that record every message they receive:
 *
 *   - a scheduler ("sched(N)") that sends mesos.scheduler.Call from its own PID;
 *   - an agent ("slave(N)") that registers, answers pings unless told not to, and sends status
 *     updates.
 *
 * The recorded messages stay packed (type name + bytes) so that tests can count them by type and
 * unpack the ones they look at.
 */
#ifndef TESTS_MASTER_SUPPORT_H
#define TESTS_MASTER_SUPPORT_H

#include <stdbool.h>
#include <stddef.h>

#include "actor/actor.h"
#include "actor/clock.h"
#include "internal.pb-c.h"
#include "master/master.h"
#include "mesos.pb-c.h"
#include "scheduler.pb-c.h"

typedef struct fake_message {
    char type[128];
    uint8_t *data;
    size_t len;
    actor_pid_t from;
} fake_message_t;

typedef struct fake {
    actor_pid_t pid;
    fake_message_t *messages;
    size_t count, cap;
    bool mute_pings;        /* agent: do not answer pings */
    char agent_id[128];     /* agent: the id from AgentRegistered */
    char framework_id[128]; /* scheduler: the id from SUBSCRIBED */
} fake_t;

/* Starts the runtime (no workers, clock paused). */
void cluster_runtime_start(void);
void cluster_runtime_stop(void);

/* Options for a test master: in-memory registry unless work_dir is set, Mesos's defaults
 * otherwise. */
void cluster_master_options(master_options_t *opts, const char *work_dir);
master_pids_t cluster_master_start(const master_options_t *opts);

fake_t *fake_spawn(const char *name);
void fake_stop(fake_t *fake);

/* Sends msg from inside the fake actor. */
void fake_send(fake_t *fake, const actor_pid_t *to, const ProtobufCMessage *msg);

/* The number of messages of type (full name, e.g. "mesos.scheduler.Event") received. */
size_t fake_count(const fake_t *fake, const char *type);
/* The i-th (from 0) message of type, unpacked (free with protobuf_c_message_free_unpacked), or
 * NULL. i < 0 counts from the end (-1 = the last). */
ProtobufCMessage *fake_get(const fake_t *fake, const ProtobufCMessageDescriptor *desc, long i);
void fake_clear(fake_t *fake);

/* Scheduler events of one type received so far; the last one unpacked (or NULL). */
size_t sched_events(const fake_t *sched, Mesos__Scheduler__Event__Type type);
Mesos__Scheduler__Event *sched_last(const fake_t *sched, Mesos__Scheduler__Event__Type type);

/* Subscribes (framework_id NULL: new) and settles; stores the id in sched->framework_id. */
void sched_subscribe(fake_t *sched, const master_pids_t *master, const char *framework_id,
                     double failover_timeout, bool partition_aware, bool checkpoint);
/* Sends a call of the framework (framework_id filled in) and settles. */
void sched_call(fake_t *sched, const master_pids_t *master, Mesos__Scheduler__Call *call);
/* Launches one `sleep` task named task_id on the offer with the given resources text. */
void sched_launch(fake_t *sched, const master_pids_t *master, const Mesos__Offer *offer,
                  const char *task_id, const char *resources);
void sched_decline(fake_t *sched, const master_pids_t *master, const Mesos__Offer *offer,
                   double refuse_seconds);
void sched_acknowledge(fake_t *sched, const master_pids_t *master, const Mesos__TaskStatus *s);

/* Registers an agent with resources text and settles; stores its id. */
void agent_register(fake_t *agent, const master_pids_t *master, const char *resources);
/* Reregisters the agent (its id set) reporting one RUNNING task of framework_id, or none when
 * task_id is NULL, and settles. */
void agent_reregister(fake_t *agent, const master_pids_t *master, const char *framework_id,
                      const char *task_id);
/* Sends a status update of task (uuid made from the state) and settles. */
void agent_update(fake_t *agent, const master_pids_t *master, const char *framework_id,
                  const char *task_id, Mesos__TaskState state);

/* Moves the paused clock and runs everything that fell due. */
void cluster_advance(double seconds);

/* GET path on the master's HTTP port (started by cluster_http_listen) while settling; returns
 * the body (caller frees) and *status, or NULL after 10 s. */
uint16_t cluster_http_listen(const master_pids_t *master);
char *cluster_http(uint16_t port, const char *method, const char *path, const char *body,
                   int *status);

#endif
