/*
 * packed.h: a resources_t held in one heap block (its entries, then their ranges, set items
 * and strings), for values that are written once and read often: the allocator's allocation
 * records, one per grant. A copy costs one malloc instead of a few per entry, which is most of
 * what a grant costs otherwise.
 *
 * The view (`r`) is an ordinary, normalized resources_t for every read-only function of
 * resources.h (contains, equal, scalar, as the `b` of add and subtract); it must never be
 * given to a function that changes or frees a resources_t. Change it only with packed_set().
 */
#ifndef MASTER_ALLOCATOR_PACKED_H
#define MASTER_ALLOCATOR_PACKED_H

#include "actor/error.h"
#include "resources/resources.h"

typedef struct packed {
    resources_t r; /* r.entries is the block; NULL when empty */
} packed_t;

/* Makes p empty. Cannot fail. */
void packed_init(packed_t *p);

/* Frees p's block and leaves it empty. Cannot fail. */
void packed_fini(packed_t *p);

/* Replaces p's contents with a copy of src. ACTOR_OK or ACTOR_ENOMEM (p unchanged). */
actor_err_t packed_set(packed_t *p, const resources_t *src);

/* resources_equal(a, b), fast when a and b list their entries in the same order, as a packed
 * copy and its source do (a grant, the record it went into, the filter that refused it): then
 * entries are compared pairwise, without looking any up. Cannot fail. */
bool packed_equal(const resources_t *a, const resources_t *b);

#endif
