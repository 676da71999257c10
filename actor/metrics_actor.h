/*
 * metrics_actor.h: the runtime's `metrics` actor (runtime-internal). actor_runtime_start spawns
 * it, so every process serves /metrics/snapshot and /metrics on each of its HTTP ports.
 */
#ifndef ACTOR_METRICS_ACTOR_H
#define ACTOR_METRICS_ACTOR_H

#include "actor/error.h"

/* Spawns the actor with id "metrics". Errors as actor_spawn. */
actor_err_t metrics_actor_spawn(void);

#endif
