/*
 * support.h: Marathon in an in-process cluster for the tests of tests/marathon/server/: the real
 * master (in-memory registry), agents with simulated containers and Marathon with its scheduler
 * driver, all in the test process with the runtime's clock paused (tests/master/support.h), and
 * Marathon's REST API over real HTTP on 127.0.0.1.
 */
#ifndef TESTS_MARATHON_SERVER_SUPPORT_H
#define TESTS_MARATHON_SERVER_SUPPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "actor/filter.h"
#include "frameworks/marathon/marathon.h"
#include "tests/master/support.h"

#define MCLUSTER_MAX_AGENTS 4

typedef struct mcluster {
    master_pids_t master;
    actor_pid_t agents[MCLUSTER_MAX_AGENTS]; /* agents[0] started by mcluster_new */
    size_t agent_count;
    marathon_server_t *marathon;
    uint16_t port;     /* Marathon's HTTP port */
    char work_dir[64]; /* removed by mcluster_free */
    bool persistent;   /* Marathon keeps its state under work_dir */
} mcluster_t;

/* Starts the runtime, a master, one agent (cpus:4;mem:4096;disk:1024;ports:[31000-32000]) and
 * Marathon (its store in memory, or under work_dir when persistent), and settles. */
mcluster_t *mcluster_new(bool persistent);

/* Starts another agent with the same resources, advertised as hostname (NULL: the IP); returns
 * its index in c->agents. */
size_t mcluster_add_agent(mcluster_t *c, const char *hostname);

/* (Re)starts Marathon on c's master, serving HTTP on a new port (c->port). */
void mcluster_start_marathon(mcluster_t *c);

/* Stops everything mcluster_new and mcluster_add_agent started and removes the work dir. */
void mcluster_free(mcluster_t *c);

/* cmocka setup and teardown: *state is an mcluster_new(false) (or (true)) cluster. */
int mcluster_setup(void **state);
int mcluster_setup_persistent(void **state);
int mcluster_teardown(void **state);

/* An API call; returns the parsed answer (NULL for an empty body) and *status. */
json_t *mcluster_api(mcluster_t *c, const char *method, const char *path, const char *body,
                     int *status);

/* mcluster_api to the Marathon that serves HTTP on port (any in-process one: notify_support.h's
 * too), settling the runtime while it waits. */
json_t *mcluster_api_port(uint16_t port, const char *method, const char *path, const char *body,
                          int *status);

/* A number field of GET /v2/apps/{id}'s app ("tasksRunning"), or -1 when the app is missing. */
int mcluster_app_count(mcluster_t *c, const char *id, const char *field);

/* POSTs an app and requires the 201. */
void mcluster_create_app(mcluster_t *c, const char *json);

/* Lets seconds pass on the paused clock, a second at a time (offers, launches, updates). */
void mcluster_run(double seconds);

/* For a message filter (actor/filter.h): the mesos.scheduler.Call a message carries, unpacked
 * (free with mesos__scheduler__call__free_unpacked), or NULL for any other message. */
Mesos__Scheduler__Call *mcluster_filter_call(const actor_filter_event_t *ev);

#endif
