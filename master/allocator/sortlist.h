/*
 * sortlist.h: an intrusive skip list kept in ascending key order, the allocator's DRF sorter.
 * Each sorted thing (a framework within a role, a role among its siblings) embeds a node; the
 * cycle walks a list from its first node, and an allocation moves one node to its new place in
 * O(log n) expected time, so the order is kept across cycles instead of being sorted each time.
 *
 * Order: by key ascending, then by name (strcmp) when the nodes have one, else by tie. The
 * (key, name or tie) of nodes in one list must be unique, which ids and insertion sequence
 * numbers are. Levels are drawn from a per-list xorshift generator with a fixed seed, so runs
 * are reproducible. Knows nothing about clusters; no allocation; single-threaded.
 */
#ifndef MASTER_ALLOCATOR_SORTLIST_H
#define MASTER_ALLOCATOR_SORTLIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SORTLIST_LEVELS 16 /* enough for millions of nodes at p = 1/4 */

typedef struct sortlist_node {
    double key;       /* primary order, ascending */
    const char *name; /* secondary order when not NULL (borrowed) */
    uint64_t tie;     /* secondary order when name is NULL */
    int level;        /* levels linked; 0 while not in a list */
    struct sortlist_node *next[SORTLIST_LEVELS];
} sortlist_node_t;

typedef struct sortlist {
    sortlist_node_t head; /* sentinel; head.next[0] is the first node */
    int level;            /* highest level in use */
    size_t count;
    uint64_t rng; /* xorshift state for node levels */
} sortlist_t;

/* Makes l empty. Cannot fail. */
void sortlist_init(sortlist_t *l);

/* Links n (its key, name and tie set; not in a list) at its place. Cannot fail. */
void sortlist_insert(sortlist_t *l, sortlist_node_t *n);

/* Unlinks n, which must be in l. Cannot fail. */
void sortlist_remove(sortlist_t *l, sortlist_node_t *n);

/* Gives n (in l) a new key and moves it to its place. Cannot fail. */
void sortlist_rekey(sortlist_t *l, sortlist_node_t *n, double key);

/* Recomputes every node's key with key_of(node, ctx) and re-sorts l, without allocating. */
void sortlist_rebuild(sortlist_t *l, double (*key_of)(const sortlist_node_t *n, void *ctx),
                      void *ctx);

static inline sortlist_node_t *sortlist_first(const sortlist_t *l)
{
    return l->head.next[0];
}

static inline sortlist_node_t *sortlist_next(const sortlist_node_t *n)
{
    return n->next[0];
}

static inline bool sortlist_linked(const sortlist_node_t *n)
{
    return n->level > 0;
}

#endif
