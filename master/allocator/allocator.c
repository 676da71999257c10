/*
 * allocator.c: creating and destroying the allocator core, role weights, and the read-only
 * figures (shares and totals). The operations live by subject in frameworks.c, agents.c,
 * records.c (recovery) and cycle.c (allocation); allocator_int.h describes the data model.
 */
#include <math.h>
#include <stdlib.h>

#include "master/allocator/allocator_int.h"

/* The scalar ids of allocator_int.h, interned first in this order. */
static const char *const builtin_scalars[] = {"cpus", "mem", "disk", "gpus"};

allocator_t *allocator_create(void)
{
    allocator_t *a = calloc(1, sizeof(*a));
    if (a == NULL)
        return NULL;
    idmap_init(&a->frameworks);
    idmap_init(&a->agents);
    idmap_init(&a->orphans);
    minheap_init(&a->wakeups);
    a->rng = UINT64_C(0x9E3779B97F4A7C15);
    if (role_tree_new(a) != ACTOR_OK)
        goto fail_destroy;
    for (int i = 0; i < 4; i++)
        if (scalar_intern(a, builtin_scalars[i]) != i)
            goto fail_destroy;
    return a;

fail_destroy:
    allocator_destroy(a);
    return NULL;
}

void allocator_destroy(allocator_t *a)
{
    if (a == NULL)
        return;
    agents_free(a); /* with every record */
    orphans_free(a);
    frameworks_free(a);
    role_tree_free(a);
    for (int i = 0; i < a->scalar_count; i++)
        free(a->scalar_names[i]);
    free(a->grant_fw);
    free(a->staged);
    free(a);
}

actor_err_t allocator_update_weight(allocator_t *a, const char *role, double weight)
{
    if (!role_name_valid(role) || !(weight > 0) || !isfinite(weight))
        return ACTOR_EINVAL;
    role_t *r;
    actor_err_t rc = role_obtain(a, role, &r);
    if (rc != ACTOR_OK)
        return rc;
    role_set_weight(a, r, weight);
    return ACTOR_OK;
}

double allocator_weight(const allocator_t *a, const char *role)
{
    const role_t *r = role != NULL ? role_find(a, role) : NULL;
    return r != NULL ? r->weight : 1.0;
}

double allocator_framework_share(const allocator_t *a, const char *framework_id)
{
    const framework_t *fw = framework_find(a, framework_id);
    return fw != NULL ? qty_share(a, &fw->q) : 0.0;
}

double allocator_total_scalar(const allocator_t *a, const char *name)
{
    int id = name != NULL ? scalar_find(a, name) : -1;
    return id >= 0 ? (double)a->total.v[id] / RESOURCES_SCALAR_UNIT : 0.0;
}

double allocator_allocated_scalar(const allocator_t *a, const char *name)
{
    int id = name != NULL ? scalar_find(a, name) : -1;
    if (id < 0)
        return 0.0;
    return (double)(a->total.v[id] - a->free_active.v[id]) / RESOURCES_SCALAR_UNIT;
}
