/*
 * quantity.c: scalar quantities and dominant shares. A share is the largest, over the scalar
 * names with a non-zero cluster total, of allocated / total (Mesos's DRFSorter::calculateShare);
 * ranges and sets (ports) never count. Scalar names are interned into small ids on first sight,
 * so a quantity is a fixed vector and a share a handful of multiplications.
 */
#include <stdlib.h>
#include <string.h>

#include "master/allocator/allocator_int.h"

void qty_add(qty_t *a, const qty_t *b, int sign)
{
    for (int i = 0; i < ALLOC_SCALARS_MAX; i++)
        a->v[i] += sign * b->v[i];
}

int scalar_find(const allocator_t *a, const char *name)
{
    for (int i = 0; i < a->scalar_count; i++)
        if (strcmp(a->scalar_names[i], name) == 0)
            return i;
    return -1;
}

int scalar_intern(allocator_t *a, const char *name)
{
    int id = scalar_find(a, name);
    if (id >= 0 || a->scalar_count == ALLOC_SCALARS_MAX)
        return id;
    char *copy = strdup(name);
    if (copy == NULL)
        return -1;
    a->scalar_names[a->scalar_count] = copy;
    return a->scalar_count++;
}

/* A name that cannot be interned (too many names, or out of memory) is left out of every
 * quantity alike, so sums and differences stay consistent. */
void qty_of(allocator_t *a, const resources_t *r, qty_t *out)
{
    memset(out, 0, sizeof(*out));
    for (size_t i = 0; i < r->count; i++) {
        const resources_entry_t *e = &r->entries[i];
        if (e->type != RESOURCES_SCALAR)
            continue;
        int id = scalar_intern(a, e->name);
        if (id >= 0)
            out->v[id] += e->scalar;
    }
}

double qty_share(const allocator_t *a, const qty_t *q)
{
    double share = 0.0;
    for (int i = 0; i < a->scalar_count; i++) {
        double s = (double)q->v[i] * a->inv_total[i];
        if (s > share)
            share = s;
    }
    return share;
}

bool qty_allocatable(const qty_t *q)
{
    return q->v[SCALAR_CPUS] >= ALLOC_MIN_CPUS || q->v[SCALAR_MEM] >= ALLOC_MIN_MEM;
}

void totals_change(allocator_t *a, const qty_t *q, int sign)
{
    qty_add(&a->total, q, sign);
    for (int i = 0; i < ALLOC_SCALARS_MAX; i++)
        a->inv_total[i] = a->total.v[i] > 0 ? 1.0 / (double)a->total.v[i] : 0.0;
    a->shares_stale = true;
}
