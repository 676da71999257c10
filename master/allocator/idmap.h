/*
 * idmap.h: a hash map from NUL-terminated strings to pointers (open addressing, linear probing,
 * backward-shift deletion so that no tombstones build up). The allocator keeps its frameworks,
 * agents and roles in these, keyed by their ids. Knows nothing about clusters; single-threaded.
 *
 * Keys are borrowed: a key must stay valid and unchanged while it is in the map (callers key
 * each object by the id string the object itself owns).
 */
#ifndef MASTER_ALLOCATOR_IDMAP_H
#define MASTER_ALLOCATOR_IDMAP_H

#include <stddef.h>
#include <stdint.h>

#include "actor/error.h"

typedef struct idmap_slot {
    const char *key; /* NULL: empty */
    void *value;
    uint64_t hash; /* of key, so that probing rarely compares strings */
} idmap_slot_t;

typedef struct idmap {
    idmap_slot_t *slots;
    size_t cap;   /* 0 or a power of two */
    size_t count; /* keys in the map; at most 3/4 of cap */
} idmap_t;

/* Makes m empty. Cannot fail. */
void idmap_init(idmap_t *m);

/* Frees the table (not the keys or values). Cannot fail. */
void idmap_fini(idmap_t *m);

/* The value of key, or NULL. */
void *idmap_get(const idmap_t *m, const char *key);

/* Adds key -> value. ACTOR_EEXIST if key is there (nothing changes), ACTOR_ENOMEM. */
actor_err_t idmap_put(idmap_t *m, const char *key, void *value);

/* Removes key; returns its value, or NULL when it was not there. Cannot fail. */
void *idmap_remove(idmap_t *m, const char *key);

/* Iteration: the value of the first used slot at or after *pos, advancing *pos past it; NULL at
 * the end. The map must not change during an iteration. */
void *idmap_next(const idmap_t *m, size_t *pos);

#endif
