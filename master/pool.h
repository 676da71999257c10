/*
 * pool.h: a bump allocator for short-lived object graphs, such as the messages the master builds
 * to answer one v1 API call (api_v1_model.c) and frees right after rendering them.
 *
 * Allocations come from a chain of blocks and are released together by pool_fini(); there is no
 * per-allocation free. What was allocated elsewhere but belongs to the graph (protobuf arrays
 * made by other modules) is handed over with pool_defer(), whose function pool_fini() runs.
 * Knows nothing of the master. Not thread-safe: one owner at a time.
 */
#ifndef MASTER_POOL_H
#define MASTER_POOL_H

#include <stdbool.h>
#include <stddef.h>

#include "actor/error.h"

typedef struct pool_block pool_block_t;
typedef struct pool_cleanup pool_cleanup_t;

typedef struct pool {
    pool_block_t *blocks;     /* the current block first */
    size_t used;              /* bytes used of the current block */
    pool_cleanup_t *cleanups; /* run by pool_fini, newest first */
    bool failed;              /* an allocation failed since pool_init */
} pool_t;

/* Makes p empty; allocates nothing yet. Cannot fail. */
void pool_init(pool_t *p);

/* Runs the deferred functions (newest first) and frees every block; p is empty again. */
void pool_fini(pool_t *p);

/* size zeroed bytes, aligned for any type, valid until pool_fini; NULL when memory runs out
 * (p->failed is then set, so that a builder may check once at the end). */
void *pool_alloc(pool_t *p, size_t size);

/* A copy of s (NULL for NULL) in the pool. */
char *pool_strdup(pool_t *p, const char *s);

/* Has pool_fini call fn(arg). ACTOR_OK, or ACTOR_ENOMEM: fn(arg) then runs at once, so that
 * nothing handed over leaks, and p->failed is set. */
actor_err_t pool_defer(pool_t *p, void (*fn)(void *arg), void *arg);

#endif
