/*
 * allocator_actor_int.h: what the allocator actor's two files share: its state, kept by
 * allocator_actor.c (lifecycle, cycles, delivery), and the hook through which the dispatched
 * calls of allocator_actor_calls.c ask for a cycle.
 */
#ifndef MASTER_ALLOCATOR_ALLOCATOR_ACTOR_INT_H
#define MASTER_ALLOCATOR_ALLOCATOR_ACTOR_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "actor/metrics.h"
#include "master/allocator/allocator_actor.h"

typedef struct alloc_actor {
    allocator_t *core;         /* NULL until the setup call has run */
    actor_pid_t master;        /* where grants go */
    allocator_offer_fn offer;  /* runs in the master */
    int64_t interval_ns;       /* between periodic cycles */
    bool cycle_queued;         /* a cycle event is in our own mailbox */
    metrics_counter_t *runs;   /* allocator/mesos/allocation_runs: cycles that ran */
    metrics_timer_t *run_time; /* allocator/mesos/allocation_run_ms: one sample per cycle */
} alloc_actor_t;

/* The allocator's time: the runtime clock in seconds. */
double alloc_actor_now(void);

/* Something may be offerable now: queues one cycle behind the events already queued, unless
 * one is queued. Runs inside the actor. */
void alloc_actor_dirty(actor_t *self, alloc_actor_t *st);

#endif
