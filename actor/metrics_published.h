/*
 * metrics_published.h: a set of gauges whose values an actor publishes.
 *
 * An actor's state belongs to the actor, while /metrics/snapshot renders on another thread. So
 * the actor computes its gauges now and then (the master and the agent once a second) and stores
 * each in an atomic slot; the registry's pull gauges read the slots. A value is at most one
 * publication old, and rendering costs the actor nothing.
 */
#ifndef ACTOR_METRICS_PUBLISHED_H
#define ACTOR_METRICS_PUBLISHED_H

#include <stddef.h>

#include "actor/metrics.h"

typedef struct metrics_published metrics_published_t;

/* One gauge: its Mesos key and help text (static strings). */
typedef struct metrics_published_def {
    const char *key;
    const char *help;
} metrics_published_def_t;

/* Registers count pull gauges in reg, one per def (defs must outlive the set), each reading its
 * slot (0 until set). A key already taken in reg is left out: with several agents in one process
 * (mesos-local) the first publishes. Errors: ACTOR_ENOMEM; *out is then untouched. */
actor_err_t metrics_published_new(metrics_registry_t *reg, const metrics_published_def_t *defs,
                                  size_t count, metrics_published_t **out);

/* Stores the value of gauge index. Thread-safe, lock-free. */
void metrics_published_set(metrics_published_t *p, size_t index, double value);

/* Unregisters the gauges and frees the set; NULL is ignored. */
void metrics_published_free(metrics_published_t *p);

#endif
