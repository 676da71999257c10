/*
 * filter_table.h: the offer filters on one agent, Mesos's RefusedOfferFilter: what a framework
 * refused there for one of its roles, and until when. A DECLINE (or the unused part of an
 * ACCEPT) with refuse_seconds sets one; the cycle asks, for each candidate framework, whether a
 * live filter holds everything the agent would offer it (Mesos's `filter(resources)` is
 * `resources ⊆ refused`), so resources freed after the refusal are offered at once.
 *
 * Keys. A filter belongs to a framework's slot (its hash key, and the index of its epoch in
 * `epochs[]`, kept by the allocator) and to a member id (the framework in one role; the
 * allocator renews a member's id when that one role is revived). A filter is live while its
 * expiry is in the future and its epoch equals epochs[slot]: a revive of all roles, a
 * deactivation or the framework's removal bumps the epoch, which kills all of the framework's
 * filters at once, on every agent, in O(1). Like Mesos's set of filters per (framework, role,
 * agent), a key may hold several filters; a new filter replaces one of its key that it contains
 * and outlives, else it reuses a dead entry on its probe path, else it takes a free one. Dead
 * entries are dropped when the table grows. Filters of a member id that was renewed or whose
 * member is gone match nothing any more, and stay until they expire (the allocator bumps the
 * epoch instead whenever that clears all of a framework's filters).
 *
 * Resources. Each filter points to a filter_set_t, a reference-counted packed copy of what was
 * refused. A new filter whose resources equal the table's latest set shares it, so an idle agent
 * declined by framework after framework holds one copy, and a check against it is made once per
 * visit (filter_memo_t). `last_gen` names the latest set, so that the allocator can remember
 * that some resources are exactly that set's (the agent's free resources after a refusal, the
 * record of the grant made of them) and share it again without comparing.
 *
 * Entries are 32 bytes, open addressing with linear probing on a Fibonacci hash of the slot;
 * entries are never deleted one by one, so no probe path is ever cut. Single-threaded.
 */
#ifndef MASTER_ALLOCATOR_FILTER_TABLE_H
#define MASTER_ALLOCATOR_FILTER_TABLE_H

#include <stdbool.h>
#include <stdint.h>

#include "actor/error.h"
#include "master/allocator/packed.h"

#define FILTER_EMPTY UINT32_MAX

/* Refused resources, shared by the filters that refused the same. */
typedef struct filter_set {
    uint32_t refs;
    packed_t res; /* as the grant offered them (unallocated) */
} filter_set_t;

typedef struct filter_entry {
    uint32_t slot;     /* framework slot, FILTER_EMPTY for a free entry */
    uint32_t epoch;    /* the slot's epoch when the filter was set */
    uint32_t member;   /* the member (framework and role) it filters */
    double expires;    /* allocator time (seconds) */
    filter_set_t *set; /* one reference; NULL in a free entry */
} filter_entry_t;

typedef struct filter_table {
    filter_entry_t *entries;
    uint32_t cap;       /* 0 or a power of two */
    uint32_t used;      /* entries taken, live or dead; at most 3/4 of cap */
    int shift;          /* 64 - log2(cap): the hash takes the top bits */
    double min_expires; /* no entry expires before this (a lower bound, maybe stale) */
    filter_set_t *last; /* one reference to the latest filter's set, or NULL */
    uint32_t last_gen;  /* changes whenever `last` does; 0 only before the first */
} filter_table_t;

/* What filter_table_blocks found for one offer: the last set checked and whether it held the
 * offer. Zero it before the first call for an offer. */
typedef struct filter_memo {
    const filter_set_t *set;
    bool contained;
} filter_memo_t;

/* A new set holding nothing yet (fill res with packed_set, or move a packed block in), with one
 * reference; NULL when out of memory. */
filter_set_t *filter_set_new(void);

/* Drops one reference to s; the last frees it. NULL is ignored. */
void filter_set_release(filter_set_t *s);

/* Makes t empty. Cannot fail. */
void filter_table_init(filter_table_t *t);

/* Frees t's entries and their sets' references and leaves it empty. Cannot fail. */
void filter_table_fini(filter_table_t *t);

/* Whether a live filter of (slot, member) exists at `now`. */
bool filter_table_has(const filter_table_t *t, uint32_t slot, uint32_t epoch, uint32_t member,
                      double now);

/* Whether a live filter of (slot, member) holds all of `offer` at `now`. memo (may be NULL)
 * remembers the last containment computed for this same offer. */
bool filter_table_blocks(const filter_table_t *t, uint32_t slot, uint32_t epoch, uint32_t member,
                         double now, const resources_t *offer, filter_memo_t *memo);

/* The table's latest set, with a new reference for the caller, when it holds exactly `res`;
 * else NULL. */
filter_set_t *filter_table_share(filter_table_t *t, const resources_t *res);

/* Makes room for one more entry (growing drops the dead ones, judged by epochs[] and now).
 * ACTOR_ENOMEM leaves t unchanged. */
actor_err_t filter_table_reserve(filter_table_t *t, const uint32_t *epochs, double now);

/* Adds a filter of (slot, member) until `expires` on `set`, taking the caller's reference.
 * Needs a filter_table_reserve() since the last add. Cannot fail. */
void filter_table_add(filter_table_t *t, uint32_t slot, uint32_t epoch, uint32_t member,
                      double expires, filter_set_t *set, const uint32_t *epochs, double now);

/* When the first live filter expires (INFINITY when there is none): the table's lower bound
 * (which may be early, never late) while it is in the future; once it has passed, an exact scan
 * that also frees what dead filters hold (all of the table when no filter is live). */
double filter_table_next_expiry(filter_table_t *t, const uint32_t *epochs, double now);

/* Live filters at `now` (a scan; for tests and diagnostics). */
uint32_t filter_table_live(const filter_table_t *t, const uint32_t *epochs, double now);

#endif
