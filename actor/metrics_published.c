/*
 * metrics_published.c: pull gauges over atomic slots.
 */
#include "actor/metrics_published.h"

#include <stdatomic.h>
#include <stdlib.h>

struct metrics_published {
    size_t count;
    metrics_gauge_t **gauges; /* NULL where the key was taken */
    _Atomic double *values;
};

static actor_err_t pull(void *arg, double *value)
{
    const _Atomic double *slot = arg;
    *value = atomic_load_explicit(slot, memory_order_relaxed);
    return ACTOR_OK;
}

actor_err_t metrics_published_new(metrics_registry_t *reg, const metrics_published_def_t *defs,
                                  size_t count, metrics_published_t **out)
{
    metrics_published_t *p = calloc(1, sizeof(*p));
    if (p == NULL)
        return ACTOR_ENOMEM;
    p->count = count;
    p->gauges = calloc(count ? count : 1, sizeof(*p->gauges));
    p->values = calloc(count ? count : 1, sizeof(*p->values));
    if (p->gauges == NULL || p->values == NULL) {
        metrics_published_free(p);
        return ACTOR_ENOMEM;
    }
    for (size_t i = 0; i < count; i++) {
        atomic_init(&p->values[i], 0.0);
        actor_err_t rc = metrics_gauge_pull_new(reg, defs[i].key, defs[i].help, pull,
                                                (void *)&p->values[i], &p->gauges[i]);
        if (rc == ACTOR_ENOMEM) {
            metrics_published_free(p);
            return rc;
        }
        if (rc != ACTOR_OK)
            p->gauges[i] = NULL; /* taken by another publisher */
    }
    *out = p;
    return ACTOR_OK;
}

void metrics_published_set(metrics_published_t *p, size_t index, double value)
{
    if (p != NULL && index < p->count)
        atomic_store_explicit(&p->values[index], value, memory_order_relaxed);
}

void metrics_published_free(metrics_published_t *p)
{
    if (p == NULL)
        return;
    for (size_t i = 0; p->gauges != NULL && i < p->count; i++)
        metrics_gauge_free(p->gauges[i]);
    free(p->gauges);
    free((void *)p->values);
    free(p);
}
