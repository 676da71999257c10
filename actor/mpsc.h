/*
 * mpsc.h: an intrusive multi-producer single-consumer queue (Dmitry Vyukov's non-blocking
 * design), the actors' mailboxes.
 *
 * Producers on any thread push with one atomic exchange; the single consumer pops without
 * atomics on the common path. A pop may see NULL while a producer is half-way through a push:
 * callers use mpsc_maybe_nonempty() to know whether to come back. Knows nothing about actors.
 */
#ifndef ACTOR_MPSC_H
#define ACTOR_MPSC_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct mpsc_node {
    _Atomic(struct mpsc_node *) next;
} mpsc_node_t;

typedef struct mpsc {
    _Atomic(mpsc_node_t *) head; /* producers' end: last pushed node */
    mpsc_node_t *tail;           /* consumer's end: next node to pop, or the stub */
    mpsc_node_t stub;
} mpsc_t;

static inline void mpsc_init(mpsc_t *q)
{
    atomic_store_explicit(&q->stub.next, NULL, memory_order_relaxed);
    atomic_store_explicit(&q->head, &q->stub, memory_order_relaxed);
    q->tail = &q->stub;
}

/* Any thread. */
static inline void mpsc_push(mpsc_t *q, mpsc_node_t *n)
{
    atomic_store_explicit(&n->next, NULL, memory_order_relaxed);
    mpsc_node_t *prev = atomic_exchange_explicit(&q->head, n, memory_order_seq_cst);
    atomic_store_explicit(&prev->next, n, memory_order_release);
}

/* Consumer only. NULL when empty or when a push is in progress. */
static inline mpsc_node_t *mpsc_pop(mpsc_t *q)
{
    mpsc_node_t *tail = q->tail;
    mpsc_node_t *next = atomic_load_explicit(&tail->next, memory_order_acquire);
    if (tail == &q->stub) {
        if (next == NULL)
            return NULL;
        q->tail = next;
        tail = next;
        next = atomic_load_explicit(&next->next, memory_order_acquire);
    }
    if (next != NULL) {
        q->tail = next;
        return tail;
    }
    if (tail != atomic_load_explicit(&q->head, memory_order_acquire))
        return NULL; /* a producer is between its exchange and its link */
    mpsc_push(q, &q->stub);
    next = atomic_load_explicit(&tail->next, memory_order_acquire);
    if (next != NULL) {
        q->tail = next;
        return tail;
    }
    return NULL;
}

/* Consumer only: an element the consumer has not popped yet sits at the tail. */
static inline bool mpsc_tail_pending(const mpsc_t *q)
{
    return q->tail != &q->stub;
}

/* Any thread: a push has begun since the queue was last seen empty (by its consumer). */
static inline bool mpsc_head_pending(mpsc_t *q)
{
    return atomic_load_explicit(&q->head, memory_order_seq_cst) != &q->stub;
}

/* Consumer only: false means no push has begun since the queue was last seen empty. */
static inline bool mpsc_maybe_nonempty(mpsc_t *q)
{
    return mpsc_tail_pending(q) || mpsc_head_pending(q);
}

#endif
