/*
 * envelope.c: allocating envelopes, with a per-worker cache.
 *
 * A message's envelope is allocated by its sender and freed by its receiver, usually on the other
 * core: with malloc that means a lock on the sender's arena at every free and the two cores
 * fighting over it. Envelopes up to ENVELOPE_BLOCK bytes (every small message) are instead fixed
 * blocks kept in magazines, as Bonwick's allocator does: each worker takes from and returns to its
 * own magazine of MAGAZINE blocks without locks, and trades whole magazines with a shared depot
 * (one lock per MAGAZINE envelopes) when its magazine runs empty or full. Threads that are not
 * workers (nng's, the I/O thread) use malloc and free directly.
 */
#include <stdlib.h>

#include "actor/actor_int.h"

#define ENVELOPE_BLOCK 384 /* bytes of a cached envelope: the header and a small payload */
#define MAGAZINE       64  /* envelopes per magazine */
#define DEPOT_MAX      256 /* full magazines kept in the depot; more are freed */

typedef struct magazine {
    struct magazine *next;
    int count;
    envelope_t *items[MAGAZINE];
} magazine_t;

static _Thread_local bool caching;      /* this thread is a worker */
static _Thread_local magazine_t *local; /* its magazine */

static struct {
    pthread_mutex_t lock;
    magazine_t *full; /* magazines holding MAGAZINE envelopes */
    int full_count;
    magazine_t *empty; /* magazines holding none */
} depot = {.lock = PTHREAD_MUTEX_INITIALIZER};

/* Swaps the (empty) local magazine for a full one from the depot; false if there is none. */
static bool refill(void)
{
    pthread_mutex_lock(&depot.lock);
    magazine_t *m = depot.full;
    if (m != NULL) {
        depot.full = m->next;
        depot.full_count--;
        if (local != NULL) {
            local->next = depot.empty;
            depot.empty = local;
        }
        local = m;
    }
    pthread_mutex_unlock(&depot.lock);
    return m != NULL;
}

static void free_items(magazine_t *m)
{
    for (int i = 0; i < m->count; i++)
        free(m->items[i]);
    m->count = 0;
}

/* Hands the (full) local magazine to the depot and takes an empty one; false without memory. */
static bool spill(void)
{
    pthread_mutex_lock(&depot.lock);
    if (depot.full_count >= DEPOT_MAX) {
        pthread_mutex_unlock(&depot.lock);
        free_items(local); /* enough cached: give memory back */
        return true;
    }
    local->next = depot.full;
    depot.full = local;
    depot.full_count++;
    magazine_t *m = depot.empty;
    if (m != NULL)
        depot.empty = m->next;
    pthread_mutex_unlock(&depot.lock);
    if (m == NULL && (m = malloc(sizeof(*m))) == NULL) {
        local = NULL;
        return false;
    }
    m->count = 0;
    local = m;
    return true;
}

static envelope_t *take_block(void)
{
    if (caching && ((local != NULL && local->count > 0) || refill()))
        return local->items[--local->count];
    return malloc(ENVELOPE_BLOCK);
}

envelope_t *envelope_new(envelope_kind_t kind, size_t payload_len, size_t extra)
{
    size_t size = sizeof(envelope_t) + payload_len + extra;
    bool block = size <= ENVELOPE_BLOCK;
    envelope_t *e = block ? take_block() : malloc(size);
    if (e == NULL)
        return NULL;
    e->block = block;
    e->kind = kind;
    e->gen = 0;
    e->from.id[0] = '\0';
    e->descriptor = NULL;
    e->type_name = NULL;
    e->fn = NULL;
    e->arg = NULL;
    e->len = payload_len;
    return e;
}

void envelope_free(envelope_t *e)
{
    if (!e->block || !caching) {
        free(e);
        return;
    }
    if (local == NULL) {
        local = calloc(1, sizeof(*local));
        if (local == NULL) {
            free(e);
            return;
        }
    }
    if (local->count == MAGAZINE && !spill()) {
        free(e);
        return;
    }
    local->items[local->count++] = e;
}

void envelope_cache_enable(void)
{
    caching = true;
}

void envelope_cache_flush(void)
{
    caching = false;
    if (local == NULL)
        return;
    free_items(local);
    free(local);
    local = NULL;
}

void envelope_cache_release(void)
{
    pthread_mutex_lock(&depot.lock);
    while (depot.full != NULL) {
        magazine_t *m = depot.full;
        depot.full = m->next;
        free_items(m);
        free(m);
    }
    depot.full_count = 0;
    while (depot.empty != NULL) {
        magazine_t *m = depot.empty;
        depot.empty = m->next;
        free(m);
    }
    pthread_mutex_unlock(&depot.lock);
}
