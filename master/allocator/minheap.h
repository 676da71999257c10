/*
 * minheap.h: an intrusive binary min-heap of nodes keyed by a double, with each node knowing its
 * index so that it can be removed from the middle. The allocator keeps its dormant agents here,
 * keyed by the time their first decline filter expires. Knows nothing about clusters;
 * single-threaded.
 */
#ifndef MASTER_ALLOCATOR_MINHEAP_H
#define MASTER_ALLOCATOR_MINHEAP_H

#include <stdbool.h>
#include <stddef.h>

#include "actor/error.h"

#define MINHEAP_NONE ((size_t)-1)

typedef struct minheap_node {
    double key;
    size_t index; /* position in the heap, MINHEAP_NONE when not in one */
} minheap_node_t;

typedef struct minheap {
    minheap_node_t **items;
    size_t count;
    size_t cap;
} minheap_t;

/* Makes h empty. Cannot fail. */
void minheap_init(minheap_t *h);

/* Frees the array (not the nodes). Cannot fail. */
void minheap_fini(minheap_t *h);

/* Marks n as in no heap. Cannot fail. */
static inline void minheap_node_init(minheap_node_t *n)
{
    n->index = MINHEAP_NONE;
}

static inline bool minheap_contains(const minheap_node_t *n)
{
    return n->index != MINHEAP_NONE;
}

/* Makes room for `count` nodes in all, so that pushes up to that many cannot fail.
 * ACTOR_OK or ACTOR_ENOMEM (h unchanged). */
actor_err_t minheap_reserve(minheap_t *h, size_t count);

/* Adds n (its key set; in no heap). ACTOR_ENOMEM leaves h and n unchanged. */
actor_err_t minheap_push(minheap_t *h, minheap_node_t *n);

/* Removes n, which must be in h. Cannot fail. */
void minheap_remove(minheap_t *h, minheap_node_t *n);

/* The node with the least key, or NULL when h is empty. */
static inline minheap_node_t *minheap_top(const minheap_t *h)
{
    return h->count > 0 ? h->items[0] : NULL;
}

#endif
