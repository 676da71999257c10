/*
 * runtime.c: the process's runtime: actor slots, the id registry, spawn and termination, and
 * starting and stopping the threads. See actor_int.h for the slot and generation scheme.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "actor/actor_int.h"
#include "actor/clock.h"
#include "actor/http.h"
#include "actor/io.h"
#include "actor/log.h"
#include "actor/metrics_actor.h"
#include "actor/transport.h"

runtime_t rt;

void actor_runtime_options_init(actor_runtime_options_t *opts)
{
    memset(opts, 0, sizeof(*opts));
    opts->workers = -1;
    opts->port = -1;
}

actor_t *rt_slot(uint32_t slot)
{
    actor_t *chunk = atomic_load_explicit(&rt.chunks[slot / SLOT_CHUNK], memory_order_acquire);
    return chunk ? &chunk[slot % SLOT_CHUNK] : NULL;
}

bool rt_has_transport(void)
{
    return rt.opts.port >= 0;
}

bool rt_pid_is_local(const actor_pid_t *pid)
{
    return (pid->ip == rt.ip && pid->port == rt.port) || (pid->ip == 0 && pid->port == 0);
}

/* Follows the PID's slot hint if it is still right, else looks the id up. */
actor_t *rt_resolve(const actor_pid_t *pid, uint32_t *gen)
{
    if (pid->slot != 0 && pid->slot <= SLOT_CHUNK * SLOT_CHUNKS_MAX) {
        actor_t *a = rt_slot(pid->slot - 1);
        if (a != NULL && atomic_load_explicit(&a->gen, memory_order_acquire) == pid->gen &&
            atomic_load_explicit(&a->alive, memory_order_acquire)) {
            *gen = pid->gen;
            return a;
        }
        return NULL; /* the hinted generation is gone: no lookup can revive it */
    }
    actor_t *a = NULL;
    pthread_mutex_lock(&rt.lock);
    HASH_FIND_STR(rt.by_id, pid->id, a);
    if (a != NULL)
        *gen = atomic_load_explicit(&a->gen, memory_order_relaxed);
    pthread_mutex_unlock(&rt.lock);
    return a;
}

/* Takes a free slot or makes a new one. Called with rt.lock held. */
static actor_t *slot_take(void)
{
    actor_t *a = rt.free_head;
    if (a != NULL) {
        rt.free_head = a->free_next;
        if (rt.free_head == NULL)
            rt.free_tail = NULL;
        return a;
    }
    uint32_t slot = rt.slot_count;
    if (slot / SLOT_CHUNK >= SLOT_CHUNKS_MAX)
        return NULL;
    actor_t *chunk = atomic_load_explicit(&rt.chunks[slot / SLOT_CHUNK], memory_order_relaxed);
    if (slot % SLOT_CHUNK == 0) {
        /* Zeroed pages that nothing touches until their slots are taken: a process with a few
         * actors (an executor) would otherwise fault in and initialise the whole chunk. A slot
         * not yet taken reads as dead (generation 0, not alive) to a PID's slot hint. */
        chunk = calloc(SLOT_CHUNK, sizeof(actor_t));
        if (chunk == NULL)
            return NULL;
        atomic_store_explicit(&rt.chunks[slot / SLOT_CHUNK], chunk, memory_order_release);
    }
    a = &chunk[slot % SLOT_CHUNK];
    mpsc_init(&a->mailbox);
    a->slot = slot;
    pthread_mutex_init(&a->link_lock, NULL);
    rt.slot_count++;
    return a;
}

/* Returns the slot to the tail of the free list, so that reuse comes as late as possible.
 * Called with rt.lock held. */
static void slot_give_back(actor_t *a)
{
    a->free_next = NULL;
    if (rt.free_tail != NULL)
        rt.free_tail->free_next = a;
    else
        rt.free_head = a;
    rt.free_tail = a;
}

/* Writes "name(N)" with the next N for that name. Called with rt.lock held. */
static actor_err_t generate_id(const char *name, char *id, size_t len)
{
    id_counter_t *c = NULL;
    HASH_FIND_STR(rt.counters, name, c);
    if (c == NULL) {
        c = calloc(1, sizeof(*c));
        if (c == NULL || (c->name = strdup(name)) == NULL) {
            free(c);
            return ACTOR_ENOMEM;
        }
        c->next = 1;
        HASH_ADD_KEYPTR(hh, rt.counters, c->name, strlen(c->name), c);
    }
    /* By hand rather than snprintf: spawning is meant to cost about a microsecond. */
    char digits[24];
    size_t nd = 0;
    for (uint64_t v = c->next++; v > 0 || nd == 0; v /= 10)
        digits[nd++] = (char)('0' + v % 10);
    size_t name_len = strlen(name);
    if (name_len + nd + 3 > len)
        return ACTOR_EINVAL;
    memcpy(id, name, name_len);
    char *p = id + name_len;
    *p++ = '(';
    while (nd > 0)
        *p++ = digits[--nd];
    *p++ = ')';
    *p = '\0';
    return ACTOR_OK;
}

/* Claims a slot and an id for a new actor. Called with rt.lock held. */
static actor_err_t register_actor(const actor_ops_t *ops, const char *id, actor_t **out)
{
    char generated[ACTOR_ID_MAX];
    if (id == NULL || id[0] == '\0') {
        actor_err_t err =
            generate_id(ops->name ? ops->name : "actor", generated, sizeof(generated));
        if (err != ACTOR_OK)
            return err;
        id = generated;
    }
    actor_pid_t pid;
    if (actor_pid_make(&pid, id, rt.ip, rt.port) != ACTOR_OK)
        return ACTOR_EINVAL;
    actor_t *existing = NULL;
    HASH_FIND_STR(rt.by_id, pid.id, existing);
    if (existing != NULL)
        return ACTOR_EEXIST;
    actor_t *a = slot_take();
    if (a == NULL)
        return ACTOR_ENOMEM;
    a->pid = pid;
    HASH_ADD_KEYPTR(hh, rt.by_id, a->pid.id, strlen(a->pid.id), a);
    *out = a;
    return ACTOR_OK;
}

actor_err_t actor_spawn(const actor_ops_t *ops, const char *id, void *arg, actor_pid_t *pid)
{
    if (!rt.running)
        return ACTOR_ECLOSED;
    /* Neither a state nor an INIT event when the actor has no use for them. */
    void *state = ops->state_size ? calloc(1, ops->state_size) : NULL;
    envelope_t *init = ops->init ? envelope_new(ENVELOPE_INIT, 0, 0) : NULL;
    if ((ops->state_size && state == NULL) || (ops->init && init == NULL)) {
        free(state);
        if (init != NULL)
            envelope_free(init);
        return ACTOR_ENOMEM;
    }
    actor_t *a = NULL;
    pthread_mutex_lock(&rt.lock);
    actor_err_t err = register_actor(ops, id, &a);
    if (err != ACTOR_OK) {
        pthread_mutex_unlock(&rt.lock);
        free(state);
        if (init != NULL)
            envelope_free(init);
        return err;
    }
    uint32_t gen = atomic_load_explicit(&a->gen, memory_order_relaxed) + 1;
    a->ops = ops;
    a->state = state;
    atomic_store_explicit(&a->initialized, init == NULL, memory_order_relaxed);
    a->http_routes = false;
    a->warned_unhandled = false;
    a->linker_count = 0;
    a->pid.slot = a->slot + 1;
    a->pid.gen = gen;
    atomic_store_explicit(&a->terminating, 0, memory_order_relaxed);
    atomic_store_explicit(&a->gen, gen, memory_order_release);
    atomic_store_explicit(&a->alive, 1, memory_order_release);
    /* INIT goes in before rt.lock is released: a sender resolving the id needs the lock, so its
     * message cannot overtake INIT. (A worker still draining the slot's previous generation
     * sees alive and the new gen, and runs INIT as it should.) */
    if (init != NULL) {
        init->arg = arg;
        init->gen = gen;
        mpsc_push(&a->mailbox, &init->node);
    }
    if (pid != NULL)
        *pid = a->pid;
    pthread_mutex_unlock(&rt.lock);

    atomic_fetch_add_explicit(&rt.stats.actors_spawned, 1, memory_order_relaxed);
    if (init != NULL && atomic_load_explicit(&a->scheduled, memory_order_seq_cst) == 0 &&
        !atomic_exchange_explicit(&a->scheduled, 1, memory_order_acq_rel))
        scheduler_schedule(a);
    return ACTOR_OK;
}

void actor_terminate(const actor_pid_t *pid)
{
    uint32_t gen;
    actor_t *a = rt.running ? rt_resolve(pid, &gen) : NULL;
    if (a == NULL || !rt_pid_is_local(pid))
        return;
    /* The generation, not a flag: a terminate that resolved this slot just before its actor
     * died must not hit the next actor spawned into it. Seq_cst: see run_actor. */
    atomic_store_explicit(&a->terminating, gen, memory_order_seq_cst);
    if (!atomic_exchange_explicit(&a->scheduled, 1, memory_order_acq_rel))
        scheduler_schedule(a);
}

/* Runs on the actor's worker: fini, then the actor is gone for everyone. */
void rt_finalize(actor_t *a)
{
    if (a->ops->fini != NULL)
        a->ops->fini(a, a->state);
    if (a->http_routes)
        actor_http_forget(&a->pid);

    atomic_fetch_add_explicit(&rt.stats.actors_terminated, 1, memory_order_relaxed);
    pthread_mutex_lock(&rt.lock);
    HASH_DELETE(hh, rt.by_id, a);
    atomic_store_explicit(&a->terminating, 0, memory_order_relaxed);
    atomic_store_explicit(&a->alive, 0, memory_order_release);
    pthread_mutex_unlock(&rt.lock);

    scheduler_unmute_all(a); /* nobody waits for a dead actor to drain */
    pthread_mutex_lock(&a->link_lock);
    for (size_t i = 0; i < a->linker_count; i++)
        deliver_exited(&a->linkers[i], &a->pid);
    a->linker_count = 0;
    pthread_mutex_unlock(&a->link_lock);

    free(a->state);
    a->state = NULL;

    pthread_mutex_lock(&rt.lock);
    slot_give_back(a);
    pthread_cond_broadcast(&rt.dead_cv);
    pthread_mutex_unlock(&rt.lock);
}

typedef struct waited {
    actor_t *a;
    uint32_t gen;
} waited_t;

static bool waited_gone(void *arg)
{
    waited_t *w = arg;
    return atomic_load(&w->a->gen) != w->gen || !atomic_load(&w->a->alive);
}

void actor_wait(const actor_pid_t *pid)
{
    uint32_t gen;
    actor_t *a = rt.running ? rt_resolve(pid, &gen) : NULL;
    if (a == NULL)
        return;
    waited_t w = {a, gen};
    if (actor_io_run_until(waited_gone, &w, -1)) /* the loop runs on this thread */
        return;
    if (rt.worker_count == 0) {
        scheduler_settle(); /* the caller is the only thread that runs actors */
        return;
    }
    pthread_mutex_lock(&rt.lock);
    while (!waited_gone(&w))
        pthread_cond_wait(&rt.dead_cv, &rt.lock);
    pthread_mutex_unlock(&rt.lock);
}

const actor_pid_t *actor_self(const actor_t *self)
{
    return &self->pid;
}

void *actor_state(actor_t *self)
{
    return self->state;
}

void actor_runtime_address(uint32_t *ip, uint16_t *port)
{
    *ip = rt.ip;
    *port = rt.port;
}

void actor_settle(void)
{
    scheduler_settle();
}

void actor_runtime_stats(actor_runtime_stats_t *s)
{
    s->messages_sent = scheduler_sent_total();
    s->messages_dropped = atomic_load(&rt.stats.messages_dropped);
    s->messages_unhandled = atomic_load(&rt.stats.messages_unhandled);
    s->remote_sent = atomic_load(&rt.stats.remote_sent);
    s->remote_received = atomic_load(&rt.stats.remote_received);
    s->remote_bad_messages = atomic_load(&rt.stats.remote_bad_messages);
    s->actors_spawned = atomic_load(&rt.stats.actors_spawned);
    s->actors_terminated = atomic_load(&rt.stats.actors_terminated);
    s->mutes = atomic_load(&rt.stats.mutes);
    s->peers = rt.running && rt_has_transport() ? transport_peer_count() : 0;
}

static int default_workers(const actor_runtime_options_t *opts)
{
    if (opts->workers >= 0)
        return opts->workers;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    return cores > 0 ? (int)cores : 1;
}

actor_err_t actor_runtime_start(const actor_runtime_options_t *opts)
{
    if (rt.running)
        return ACTOR_EBUSY;
    memset(&rt, 0, offsetof(runtime_t, chunks));
    rt.opts = *opts;
    if (rt.opts.max_message_bytes == 0)
        rt.opts.max_message_bytes = 64u << 20;
    pthread_mutex_init(&rt.lock, NULL);
    pthread_cond_init(&rt.dead_cv, NULL);

    actor_err_t err = actor_io_start(!(opts->actors_on_io_thread && opts->io_on_caller_thread));
    if (err != ACTOR_OK)
        goto fail;
    if (opts->port >= 0) {
        err = transport_start(opts->transport, opts->ip ? opts->ip : "127.0.0.1",
                              opts->advertise_ip, (uint16_t)opts->port, &rt.ip, &rt.port);
        if (err != ACTOR_OK)
            goto fail_stop_io;
    }
    err = clock_start();
    if (err != ACTOR_OK)
        goto fail_stop_transport;
    /* Workers are counted only when there are some: asking for the cores reads a file, which
     * an executor, started once per task with its actors on the I/O loop, need not pay for. */
    err = scheduler_start(opts->actors_on_io_thread ? 0 : default_workers(opts),
                          opts->actors_on_io_thread);
    if (err != ACTOR_OK)
        goto fail_stop_clock;
    rt.running = true;
    err = metrics_actor_spawn();
    if (err != ACTOR_OK) {
        actor_runtime_stop();
        return err;
    }
    return ACTOR_OK;

fail_stop_clock:
    clock_stop();
fail_stop_transport:
    if (opts->port >= 0)
        transport_stop();
fail_stop_io:
    actor_io_stop();
fail:
    return err;
}

/* Asks every live actor to terminate and waits until all are gone. */
static void terminate_all(void)
{
    for (;;) {
        pthread_mutex_lock(&rt.lock);
        size_t n = HASH_COUNT(rt.by_id);
        actor_pid_t *pids = n ? malloc(n * sizeof(*pids)) : NULL;
        size_t i = 0;
        for (actor_t *a = rt.by_id; a != NULL && pids != NULL; a = a->hh.next)
            pids[i++] = a->pid;
        pthread_mutex_unlock(&rt.lock);
        if (n == 0)
            return;
        for (size_t k = 0; k < i; k++)
            actor_terminate(&pids[k]);
        for (size_t k = 0; k < i; k++)
            actor_wait(&pids[k]);
        free(pids);
        scheduler_settle();
    }
}

/* Frees the slots and whatever strays their mailboxes still hold. */
static void free_slots(void)
{
    for (uint32_t s = 0; s < rt.slot_count; s++) {
        actor_t *a = rt_slot(s);
        envelope_t *e;
        while ((e = (envelope_t *)mpsc_pop(&a->mailbox)) != NULL)
            envelope_discard(e);
        free(a->linkers);
        pthread_mutex_destroy(&a->link_lock);
    }
    for (uint32_t c = 0; c * SLOT_CHUNK < rt.slot_count; c++) {
        free(atomic_load(&rt.chunks[c]));
        atomic_store(&rt.chunks[c], NULL);
    }
    id_counter_t *c, *tmp;
    HASH_ITER(hh, rt.counters, c, tmp)
    {
        HASH_DEL(rt.counters, c);
        free(c->name);
        free(c);
    }
}

void actor_runtime_stop(void)
{
    if (!rt.running)
        return;
    terminate_all();
    /* What the actors queued for peers, their fini's last words included, is written first (for
     * at most a second); then no more remote input, and pending exits go to nobody. */
    if (rt.opts.port >= 0)
        transport_stop();
    clock_stop();
    actor_http_stop();
    actor_io_stop();
    scheduler_settle();
    rt.running = false;
    scheduler_stop();
    free_slots();
    envelope_cache_release();
    arena_release();
    pthread_cond_destroy(&rt.dead_cv);
    pthread_mutex_destroy(&rt.lock);
}
