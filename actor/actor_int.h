/*
 * actor_int.h: the runtime's private structures, shared by its files and nothing else.
 *
 * Actors live in slots that are never freed while the runtime runs (chunks of SLOT_CHUNK), so a
 * PID's slot hint can be followed without a lock; each spawn into a slot bumps its generation,
 * and every envelope carries the generation it was sent to, so a message for a dead actor that
 * lands in a reused slot is recognised and dropped. The mailbox and the `scheduled` flag belong to
 * the slot and outlive generations: a worker may still be draining a dead generation's strays
 * while the next one is spawned.
 *
 * Scheduling: an actor with mail is `scheduled` (in a run queue or running). Whoever flips
 * `scheduled` from 0 to 1 queues it: into the current worker's LIFO slot (so a ping-pong pair
 * stays on one core, warm in cache, without waking the other), else into the global run queue,
 * waking a sleeping worker only when none is spinning (a cross-core wake-up costs ~30 us here).
 */
#ifndef ACTOR_ACTOR_INT_H
#define ACTOR_ACTOR_INT_H

#include <pthread.h>
#include <stdatomic.h>

#include <uthash.h>

#include "actor/actor.h"
#include "actor/mpsc.h"

#define SLOT_CHUNK      1024
#define SLOT_CHUNKS_MAX 8192 /* 8M actors */

typedef enum envelope_kind {
    ENVELOPE_MESSAGE, /* a packed protobuf message */
    ENVELOPE_CALL,    /* fn(self, state, arg): dispatch and timers */
    ENVELOPE_EXITED,  /* `from` terminated or its connection broke */
    ENVELOPE_INIT,    /* the actor's first event */
} envelope_kind_t;

typedef struct envelope {
    mpsc_node_t node; /* first: mailboxes link envelopes through it */
    envelope_kind_t kind;
    bool block;       /* a fixed ENVELOPE_BLOCK from the cache (envelope.c), not sized to fit */
    uint32_t gen;     /* generation of the receiving actor */
    actor_pid_t from; /* sender; for EXITED the PID that exited */
    const ProtobufCMessageDescriptor *descriptor; /* local messages; NULL from peers */
    const char *type_name;                        /* full protobuf name */
    actor_call_fn fn;                             /* CALL */
    void *arg;                                    /* CALL, INIT */
    size_t len;                                   /* payload bytes in data */
    uint8_t data[];                               /* payload, then the type name for peers */
} envelope_t;

struct actor {
    mpsc_t mailbox;
    _Atomic int scheduled;        /* 1 while queued or running */
    _Atomic uint32_t terminating; /* generation actor_terminate was called for; 0 = none */
    _Atomic int alive;            /* 1 from spawn until fini has run */
    _Atomic uint32_t gen;         /* bumped by each spawn into this slot */
    _Atomic bool overloaded;      /* its last turn ended with mail left: local senders get muted */
    struct actor *runq_next;      /* link in the global run queue (under rt.runq_lock) */
    struct actor *free_next;      /* link in the free-slot list (under rt.lock) */
    uint32_t slot;
    _Atomic bool initialized; /* INIT has run (or there is none); termination waits for it */
    bool http_routes;         /* actor_http_install was called: routes to forget at the end */
    bool warned_unhandled;    /* "no handler" logged once per generation */
    const actor_ops_t *ops;
    void *state;
    actor_pid_t pid;
    pthread_mutex_t link_lock; /* guards linkers: actor_link runs on the linker's thread */
    struct actor *muted;       /* senders parked until this actor drains (scheduler's mute_lock) */
    struct actor *mute_next;   /* link in the list of the actor that muted this one */
    actor_pid_t *linkers;      /* actors to tell when this one terminates */
    size_t linker_count, linker_cap;
    UT_hash_handle hh; /* rt.by_id, keyed by pid.id */
};

typedef struct worker {
    pthread_t thread;
    int index;
    actor_t *lifo;         /* the actor to run next, scheduled by the running one */
    unsigned lifo_streak;  /* consecutive LIFO runs, bounded so the global queue is not starved */
    unsigned turn_sends;   /* messages sent during the running actor's turn */
    unsigned spin_rounds;  /* how long the next spin for work polls (scheduler.c) */
    _Atomic uint64_t sent; /* messages sent from this worker: written by it alone, so that the
                              hot path touches no cache line another core writes */
} worker_t;

typedef struct id_counter {
    char *name;
    uint64_t next;
    UT_hash_handle hh;
} id_counter_t;

typedef struct runtime {
    bool running;
    actor_runtime_options_t opts;
    uint32_t ip; /* advertised address of the actor port; 0 without transport */
    uint16_t port;

    pthread_mutex_t lock; /* slots, registry, free list, id counters */
    uint32_t slot_count;  /* slots ever created */
    actor_t *by_id;       /* live actors by id (uthash) */
    actor_t *free_head, *free_tail;
    id_counter_t *counters;
    pthread_cond_t dead_cv; /* broadcast after each termination */

    pthread_mutex_t runq_lock;
    pthread_cond_t runq_cv; /* sleeping workers wait here */
    pthread_cond_t idle_cv; /* actor_settle waits here for every worker to sleep */
    actor_t *runq_head, *runq_tail;
    _Atomic(actor_t *) runq_peek; /* runq_head as seen by spinning workers without the lock */
    int sleepers;
    _Atomic int spinners;
    bool stopping;
    worker_t *workers;
    int worker_count;
    bool actors_on_io; /* the I/O thread is the one worker (scheduler.c) */

    struct {
        _Atomic uint64_t messages_dropped, messages_unhandled, remote_sent, remote_received,
            remote_bad_messages, actors_spawned, actors_terminated, mutes;
    } stats;

    /* Last, and not cleared at start: the stop empties the chunks it used, and leaving the rest
     * of these 64 KiB untouched spares every process 16 page faults (an executor's start). */
    _Atomic(actor_t *) chunks[SLOT_CHUNKS_MAX];
} runtime_t;

extern runtime_t rt;

/* Whether a and b name the same actor, generation included (a linker respawned under its old id
 * is another actor). */
static inline bool pid_same_actor(const actor_pid_t *a, const actor_pid_t *b)
{
    return actor_pid_equal(a, b) && a->slot == b->slot && a->gen == b->gen;
}

/* runtime.c */
actor_t *rt_slot(uint32_t slot);
actor_t *rt_resolve(const actor_pid_t *pid, uint32_t *gen); /* live local actor or NULL */
bool rt_pid_is_local(const actor_pid_t *pid);
bool rt_has_transport(void); /* false with port < 0: remote PIDs are unreachable */
void rt_finalize(actor_t *a);

/* scheduler.c */
actor_err_t scheduler_start(int workers, bool on_io_thread);
void scheduler_stop(void);
void scheduler_schedule(actor_t *a); /* a->scheduled was just flipped to 1 */
void scheduler_settle(void);
void scheduler_count_sent(void);                      /* one message sent from the calling thread */
void scheduler_sent_to_overloaded(actor_t *receiver); /* mute the running actor after its turn */
void scheduler_unmute_all(actor_t *a); /* a drained or died: its muted senders run again */
uint64_t scheduler_sent_total(void);   /* messages sent, summed over threads */

/* envelope.c */
envelope_t *envelope_new(envelope_kind_t kind, size_t payload_len, size_t extra);
void envelope_free(envelope_t *e);
void envelope_cache_enable(void);  /* the calling thread is a worker: cache its envelopes */
void envelope_cache_flush(void);   /* before a worker thread ends */
void envelope_cache_release(void); /* at runtime stop: frees the shared depot */

/* send.c */
void envelope_discard(envelope_t *e); /* runs a CALL's fn with NULLs, counts drops; frees */
void deliver(actor_t *a, uint32_t gen, envelope_t *e);
void deliver_to_pid(const actor_pid_t *to, envelope_t *e); /* resolves; drops if none */
void deliver_exited(const actor_pid_t *linker, const actor_pid_t *exited);
void handle_envelope(actor_t *a, envelope_t *e);
void route_envelope(const actor_pid_t *to, envelope_t *e); /* local or remote, no filter */

/* filter.c */
bool filter_active(void);
/* Returns true if the filter consumed e (dropped or held). */
bool filter_apply(const actor_pid_t *to, envelope_t *e);

/* clock.c */
actor_err_t clock_start(void);
void clock_stop(void);

/* arena.c: bump allocation for unpacking messages inside handlers */
extern ProtobufCAllocator arena_allocator;
void arena_reset(void);
void arena_release(void); /* frees the calling thread's arena */

#endif
