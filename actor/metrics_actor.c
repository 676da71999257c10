/*
 * metrics_actor.c: the runtime's `metrics` actor, as libprocess's MetricsProcess. It serves the
 * process-wide registry on every HTTP port: `/metrics/snapshot` as Mesos's JSON and `/metrics`
 * as Prometheus text (names prefixed `mesos_`). It also publishes the runtime's own counters
 * under `actor/...`, computed when rendered.
 */
#include <stdlib.h>

#include "actor/actor_int.h"
#include "actor/http.h"
#include "actor/log.h"
#include "actor/metrics.h"
#include "actor/metrics_actor.h"

#define RUNTIME_GAUGES 11

typedef struct metrics_actor {
    metrics_gauge_t *gauges[RUNTIME_GAUGES];
} metrics_actor_t;

/* Each gauge reads one field of a fresh stats snapshot; arg is the field's offset. */
static actor_err_t pull_stat(void *arg, double *value)
{
    actor_runtime_stats_t s;
    actor_runtime_stats(&s);
    *value = (double)*(const uint64_t *)((const char *)&s + (size_t)arg);
    return ACTOR_OK;
}

static actor_err_t pull_live(void *arg, double *value)
{
    (void)arg;
    actor_runtime_stats_t s;
    actor_runtime_stats(&s);
    *value = (double)(s.actors_spawned - s.actors_terminated);
    return ACTOR_OK;
}

static const struct {
    const char *key;
    size_t offset;
    const char *help;
} runtime_gauges[RUNTIME_GAUGES - 1] = {
    {"actor/messages_sent", offsetof(actor_runtime_stats_t, messages_sent),
     "Messages sent by actors of this process"},
    {"actor/messages_dropped", offsetof(actor_runtime_stats_t, messages_dropped),
     "Messages dropped: receiver gone, peer unreachable, or filtered"},
    {"actor/messages_unhandled", offsetof(actor_runtime_stats_t, messages_unhandled),
     "Messages of a type their receiver has no handler for"},
    {"actor/remote_messages_sent", offsetof(actor_runtime_stats_t, remote_sent),
     "Messages written to other processes"},
    {"actor/remote_messages_received", offsetof(actor_runtime_stats_t, remote_received),
     "Messages read from other processes"},
    {"actor/remote_bad_messages", offsetof(actor_runtime_stats_t, remote_bad_messages),
     "Garbage, truncated, oversized or undecodable messages dropped"},
    {"actor/actors_spawned", offsetof(actor_runtime_stats_t, actors_spawned),
     "Actors spawned since start"},
    {"actor/actors_terminated", offsetof(actor_runtime_stats_t, actors_terminated),
     "Actors terminated since start"},
    {"actor/mutes", offsetof(actor_runtime_stats_t, mutes),
     "Times a sender was parked until an overloaded receiver drained (backpressure)"},
    {"actor/peers", offsetof(actor_runtime_stats_t, peers),
     "Other processes this one keeps a record of (streams, queues, links)"},
};

void metrics_http_snapshot(actor_t *self, void *state, actor_http_request_t *req)
{
    (void)self, (void)state;
    json_t *snapshot = NULL;
    if (metrics_snapshot_json(metrics_registry_default(), &snapshot) != ACTOR_OK) {
        actor_http_respond_text(req, 503, "Out of memory rendering metrics");
        return;
    }
    actor_http_respond_json(req, 200, snapshot);
}

void metrics_http_prometheus(actor_t *self, void *state, actor_http_request_t *req)
{
    (void)self, (void)state;
    char *text = NULL;
    size_t len = 0;
    if (metrics_prometheus_text(metrics_registry_default(), "mesos", &text, &len) != ACTOR_OK) {
        actor_http_respond_text(req, 503, "Out of memory rendering metrics");
        return;
    }
    actor_http_respond(req, 200, "text/plain; version=0.0.4; charset=utf-8", NULL, 0, text, len);
    free(text);
}

static const actor_http_route_t routes[] = {
    {"/snapshot", "GET", metrics_http_snapshot},
    {"/", "GET", metrics_http_prometheus},
};

static void metrics_init(actor_t *self, void *state, void *arg)
{
    (void)arg;
    metrics_actor_t *m = state;
    metrics_registry_t *reg = metrics_registry_default();
    for (size_t i = 0; i < RUNTIME_GAUGES - 1; i++) {
        if (metrics_gauge_pull_new(reg, runtime_gauges[i].key, runtime_gauges[i].help, pull_stat,
                                   (void *)runtime_gauges[i].offset, &m->gauges[i]) != ACTOR_OK)
            LOG_WARNING("Failed to add metric %s", runtime_gauges[i].key);
    }
    if (metrics_gauge_pull_new(reg, "actor/actors_live", "Actors alive now", pull_live, NULL,
                               &m->gauges[RUNTIME_GAUGES - 1]) != ACTOR_OK)
        LOG_WARNING("Failed to add metric actor/actors_live");
    if (actor_http_install(self, routes, sizeof(routes) / sizeof(routes[0])) != ACTOR_OK)
        LOG_ERROR("Failed to install the /metrics endpoints");
}

static void metrics_fini(actor_t *self, void *state)
{
    (void)self;
    metrics_actor_t *m = state;
    for (size_t i = 0; i < RUNTIME_GAUGES; i++)
        metrics_gauge_free(m->gauges[i]);
}

static const actor_ops_t metrics_ops = {
    .name = "metrics",
    .state_size = sizeof(metrics_actor_t),
    .init = metrics_init,
    .fini = metrics_fini,
};

actor_err_t metrics_actor_spawn(void)
{
    return actor_spawn(&metrics_ops, "metrics", NULL, NULL);
}
