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
/* fake_spawn with the actor id `id` (the PID of an earlier fake, to play a restarted process). */
fake_t *fake_spawn_as(const char *name, const char *id);
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
/* Launches task (a full TaskInfo, agent_id set) on the offer. */
void sched_launch_task(fake_t *sched, const master_pids_t *master, const Mesos__Offer *offer,
                       const Mesos__TaskInfo *task);
/* The i-th (from 0) scheduler event of a type, unpacked (caller frees), or NULL. */
Mesos__Scheduler__Event *sched_nth(const fake_t *sched, Mesos__Scheduler__Event__Type type,
                                   size_t i);
void sched_decline(fake_t *sched, const master_pids_t *master, const Mesos__Offer *offer,
                   double refuse_seconds);
void sched_acknowledge(fake_t *sched, const master_pids_t *master, const Mesos__TaskStatus *s);

/* Registers an agent with resources text and settles; stores its id. */
void agent_register(fake_t *agent, const master_pids_t *master, const char *resources);
/* agent_register with the host name the agent advertises (agent_register's is "agent.test"). */
void agent_register_as(fake_t *agent, const master_pids_t *master, const char *hostname,
                       const char *resources);
/* Reregisters the agent (its id set) reporting one RUNNING task of framework_id, or none when
 * task_id is NULL, and settles. */
void agent_reregister(fake_t *agent, const master_pids_t *master, const char *framework_id,
                      const char *task_id);
/* agent_reregister with the task's resources as text (NULL: none). */
void agent_reregister_with(fake_t *agent, const master_pids_t *master, const char *framework_id,
                           const char *task_id, const char *task_resources);
/* Sends a status update of task (uuid made from the state) and settles. */
void agent_update(fake_t *agent, const master_pids_t *master, const char *framework_id,
                  const char *task_id, Mesos__TaskState state);

/* The usual fixture: the runtime, a master with the in-memory registry, a scheduler and an agent
 * spawned (neither subscribed nor registered yet); port is 0 until the test listens. */
typedef struct cluster {
    master_pids_t master;
    fake_t *sched;
    fake_t *agent;
    uint16_t port;
} cluster_t;
cluster_t *cluster_new(void);
/* Stops everything cluster_new started, and removes any message filter. */
void cluster_free(cluster_t *c);
/* cmocka setup and teardown: *state is a cluster_new() cluster. */
int cluster_setup(void **state);
int cluster_teardown(void **state);

/* Moves the paused clock and runs everything that fell due. */
void cluster_advance(double seconds);

/* Serves the master's HTTP endpoints on a free port of 127.0.0.1 (the master its root). */
uint16_t cluster_http_listen(const master_pids_t *master);

/* A request on the master's HTTP port (from cluster_http_listen) while settling: method and path,
 * extra header lines (each ending "\r\n"; NULL for none) and a body of len bytes. Fills *out
 * (free with cluster_response_free) and returns true, or false after 10 s without an answer. */
typedef struct cluster_response {
    int status;
    char *headers; /* the status line and header lines */
    char *body;    /* NUL-terminated; len bytes */
    size_t len;
} cluster_response_t;
bool cluster_request(uint16_t port, const char *method, const char *path, const char *headers,
                     const void *body, size_t len, cluster_response_t *out);
void cluster_response_free(cluster_response_t *r);
/* The value of header `name` in a header block (a new string), or NULL. */
char *cluster_header(const char *headers, const char *name);

/* The member of j at a dotted path of keys and array indices ("get_tasks.tasks.0.state"), or
 * NULL; the string there, or NULL. */
json_t *cluster_json_path(json_t *j, const char *keys);
const char *cluster_json_str(json_t *j, const char *keys);

/* cluster_request with a JSON Content-Type and a text body (may be NULL); returns the body
 * (caller frees) and *status, or NULL after 10 s. */
char *cluster_http(uint16_t port, const char *method, const char *path, const char *body,
                   int *status);

/* A streaming answer (the operator API's SUBSCRIBE): POSTs the request and reads the chunked
 * answer's RecordIO records as they come. */
typedef struct cluster_stream cluster_stream_t;
cluster_stream_t *cluster_stream_open(uint16_t port, const char *path, const char *headers,
                                      const void *body, size_t len);
/* The next record (a new NUL-terminated buffer of *len bytes), settling the runtime while it
 * waits up to timeout_ms of wall time; NULL if none came (or the stream ended). */
char *cluster_stream_record(cluster_stream_t *s, int timeout_ms, size_t *len);
/* The answer's status line and headers once they arrived (NULL before). */
const char *cluster_stream_headers(cluster_stream_t *s);
/* Closes the connection and frees s. */
void cluster_stream_close(cluster_stream_t *s);

#endif
