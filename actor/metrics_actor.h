/*
 * metrics_actor.h: the runtime's `metrics` actor (runtime-internal). actor_runtime_start spawns
 * it, so every process serves /metrics/snapshot and /metrics on each of its HTTP ports.
 */
#ifndef ACTOR_METRICS_ACTOR_H
#define ACTOR_METRICS_ACTOR_H

#include "actor/error.h"
#include "actor/http.h"

/* Spawns the actor with id "metrics". Errors as actor_spawn. */
actor_err_t metrics_actor_spawn(void);

/* The two answers as route handlers any actor may install (the agent serves them under
 * "/slave(N)/metrics/..." too): the snapshot JSON and the Prometheus text of the process's
 * registry. They ignore self and state. */
void metrics_http_snapshot(actor_t *self, void *state, actor_http_request_t *req);
void metrics_http_prometheus(actor_t *self, void *state, actor_http_request_t *req);

#endif
