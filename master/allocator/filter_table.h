/*
 * filter_table.h: the decline filters on one agent, as a small open-addressing table from a
 * framework's slot to (epoch, expiry). A DECLINE with refuse_seconds sets one; the cycle asks,
 * for each candidate framework, whether a live one blocks it.
 *
 * Filters are never removed one by one. A filter is live while its expiry is in the future and
 * its epoch equals the framework slot's current epoch (`epochs[slot]`, kept by the allocator):
 * a revive or the framework's removal bumps that epoch, which kills all of the framework's
 * filters at once, on every agent, in O(1). Dead entries are dropped when the table grows.
 * Each entry is 16 bytes. Single-threaded.
 */
#ifndef MASTER_ALLOCATOR_FILTER_TABLE_H
#define MASTER_ALLOCATOR_FILTER_TABLE_H

#include <stdbool.h>
#include <stdint.h>

#include "actor/error.h"

#define FILTER_EMPTY UINT32_MAX

typedef struct filter_entry {
    uint32_t slot;  /* framework slot, FILTER_EMPTY for a free entry */
    uint32_t epoch; /* the slot's epoch when the filter was set */
    double expires; /* allocator time (seconds) */
} filter_entry_t;

typedef struct filter_table {
    filter_entry_t *entries;
    uint32_t cap;       /* 0 or a power of two */
    uint32_t used;      /* entries taken, live or dead; at most 3/4 of cap */
    int shift;          /* 64 - log2(cap): the hash takes the top bits */
    double min_expires; /* no entry expires before this (a lower bound, maybe stale) */
} filter_table_t;

/* Makes t empty. Cannot fail. */
void filter_table_init(filter_table_t *t);

/* Frees t's entries and leaves it empty. Cannot fail. */
void filter_table_fini(filter_table_t *t);

/* Whether a live filter of the framework in `slot` (current epoch `epoch`) blocks it at `now`. */
bool filter_table_blocks(const filter_table_t *t, uint32_t slot, uint32_t epoch, double now);

/* Sets (or replaces) the filter of `slot` to expire at `expires`. epochs[] and now judge which
 * entries are dead when the table must grow. ACTOR_ENOMEM leaves t unchanged. */
actor_err_t filter_table_set(filter_table_t *t, uint32_t slot, uint32_t epoch, double expires,
                             const uint32_t *epochs, double now);

/* When the first live filter expires (INFINITY when there is none): an exact scan when the
 * table's lower bound has passed, else that bound (which may be early, never late). */
double filter_table_next_expiry(filter_table_t *t, const uint32_t *epochs, double now);

/* Live filters at `now` (a scan; for tests and diagnostics). */
uint32_t filter_table_live(const filter_table_t *t, const uint32_t *epochs, double now);

#endif
