/*
 * notify_support.h: the in-process cluster that the tests of Marathon's event callbacks
 * (test_subscriptions.c) and alert mails (test_alerts.c) share: the runtime without workers and
 * with its clock paused, the real master with an in-memory registry, a fake agent (support.h)
 * whose tasks the test drives with status updates, and Marathon with the options the test gives,
 * its REST API served on a free port of 127.0.0.1.
 */
#ifndef TESTS_MARATHON_SERVER_NOTIFY_SUPPORT_H
#define TESTS_MARATHON_SERVER_NOTIFY_SUPPORT_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "frameworks/marathon/marathon.h"
#include "tests/master/support.h"

typedef struct notify_cluster {
    master_pids_t master;
    fake_t *agent; /* registered with cpus:4;mem:4096;ports:[31000-32000] */
    marathon_server_t *marathon;
    marathon_options_t opts; /* what Marathon runs with (work_dir set when persistent) */
    uint16_t port;           /* Marathon's REST API */
    char work_dir[64];       /* removed at the end */
    char master_pid[ACTOR_PID_STRLEN];
    char state_dir[128];
    bool persistent;
} notify_cluster_t;

/* Starts the cluster; Marathon gets opts (NULL: the defaults), its master and, when persistent,
 * a work_dir under the cluster's directory. The strings of opts must outlive the cluster. */
notify_cluster_t *notify_cluster_new(const marathon_options_t *opts, bool persistent);
/* notify_cluster_new in two steps: everything but Marathon, then Marathon (for a test that
 * needs the runtime running to make Marathon's options). */
notify_cluster_t *notify_cluster_prepare(bool persistent);
/* notify_cluster_prepare with the fake agent advertised as hostname (notify_cluster_prepare's is
 * "agent.test"): "127.0.0.1" lets Marathon's health checks probe the test's own sockets without a
 * name lookup. */
notify_cluster_t *notify_cluster_prepare_host(bool persistent, const char *hostname);
void notify_marathon_start(notify_cluster_t *c, const marathon_options_t *opts);
/* Stops everything and removes the cluster's directory. */
void notify_cluster_free(notify_cluster_t *c);
/* Stops Marathon and starts it again with the same options (and store, when persistent). */
void notify_marathon_restart(notify_cluster_t *c);

/* A REST call to Marathon: the parsed answer (NULL for an empty one) and *status. */
json_t *notify_api(notify_cluster_t *c, const char *method, const char *path, const char *body,
                   int *status);

/* Settles the runtime until cond(arg) holds, sleeping a little between rounds because the
 * callbacks and mails are real network I/O; false after timeout_ms of wall time. */
bool notify_wait(bool (*cond)(void *arg), void *arg, int timeout_ms);
/* Settles the runtime for about ms of wall time (to show that something does not happen). */
void notify_idle(int ms);

/* The newest task Marathon launched on the fake agent (its RunTaskMessage), in id (id_len
 * bytes); false if none came. */
bool notify_last_task(notify_cluster_t *c, char *id, size_t id_len);
/* Marathon's framework id (from /v2/info) into id. */
void notify_framework_id(notify_cluster_t *c, char *id, size_t id_len);

#endif
