/*
 * scheduler.c: worker threads, the run queues, and running an actor's mailbox.
 *
 * A worker takes the actor in its LIFO slot (scheduled by the actor it just ran), else the head
 * of the global run queue; with nothing to do it spins briefly, then sleeps on a condition
 * variable. Spinning first matters on this kind of machine: a sleeping thread woken from another
 * core costs ~30 us, more than thousands of messages. A worker runs at most RUN_BATCH events of
 * one actor before putting it back, so one busy actor cannot starve the others.
 *
 * With zero workers, actor_settle() runs the same loop on the calling thread until nothing is
 * runnable: in-process tests get one thread and a deterministic order.
 */
#include <sched.h>
#include <stdlib.h>

#include "actor/actor_int.h"
#include "actor/log.h"

#define RUN_BATCH   4096 /* events of one actor per turn */
#define LIFO_STREAK 64   /* LIFO turns before the global queue gets a look */
#define SPIN_ROUNDS 4000 /* ~20-50 us of polling before a worker sleeps */

static _Thread_local worker_t *current_worker;
static _Thread_local actor_t *current_actor;

actor_t *scheduler_current(void)
{
    return current_actor;
}

static _Atomic uint64_t sent_elsewhere; /* sends from threads that are not workers */

void scheduler_count_sent(void)
{
    worker_t *w = current_worker;
    if (w == NULL) {
        atomic_fetch_add_explicit(&sent_elsewhere, 1, memory_order_relaxed);
        return;
    }
    uint64_t n = atomic_load_explicit(&w->sent, memory_order_relaxed);
    atomic_store_explicit(&w->sent, n + 1, memory_order_relaxed);
}

uint64_t scheduler_sent_total(void)
{
    uint64_t total = atomic_load(&sent_elsewhere);
    for (int i = 0; i < rt.worker_count; i++)
        total += atomic_load(&rt.workers[i].sent);
    return total;
}

static void runq_push_locked(actor_t *a)
{
    a->runq_next = NULL;
    if (rt.runq_tail != NULL)
        rt.runq_tail->runq_next = a;
    else
        rt.runq_head = a;
    rt.runq_tail = a;
    atomic_store_explicit(&rt.runq_peek, rt.runq_head, memory_order_release);
}

static actor_t *runq_pop_locked(void)
{
    actor_t *a = rt.runq_head;
    if (a != NULL) {
        rt.runq_head = a->runq_next;
        if (rt.runq_head == NULL)
            rt.runq_tail = NULL;
        atomic_store_explicit(&rt.runq_peek, rt.runq_head, memory_order_release);
    }
    return a;
}

static void runq_push(actor_t *a)
{
    pthread_mutex_lock(&rt.runq_lock);
    runq_push_locked(a);
    if (rt.sleepers > 0 && atomic_load_explicit(&rt.spinners, memory_order_acquire) == 0)
        pthread_cond_signal(&rt.runq_cv);
    pthread_mutex_unlock(&rt.runq_lock);
}

void scheduler_schedule(actor_t *a)
{
    worker_t *w = current_worker;
    if (w == NULL) {
        runq_push(a);
        return;
    }
    actor_t *previous = w->lifo;
    w->lifo = a;
    if (previous != NULL)
        runq_push(previous);
}

/* Runs up to RUN_BATCH events of a, then unschedules it, or queues it again if mail came in. */
static void format_pid(const void *pid, char *buf, size_t len)
{
    actor_pid_format(pid, buf, len);
}

static void run_actor(actor_t *a)
{
    current_actor = a;
    log_context_set_fn(format_pid, &a->pid);
    for (int i = 0; i < RUN_BATCH; i++) {
        if (a->initialized && atomic_load_explicit(&a->terminating, memory_order_acquire) &&
            atomic_load_explicit(&a->alive, memory_order_acquire))
            rt_finalize(a);
        envelope_t *e = (envelope_t *)mpsc_pop(&a->mailbox);
        if (e == NULL)
            break;
        if (!atomic_load_explicit(&a->alive, memory_order_acquire) ||
            e->gen != atomic_load_explicit(&a->gen, memory_order_acquire))
            envelope_discard(e);
        else
            handle_envelope(a, e);
    }
    log_context_set(NULL);
    current_actor = NULL;

    bool pending_termination =
        a->initialized && atomic_load(&a->terminating) && atomic_load(&a->alive);
    atomic_store_explicit(&a->scheduled, 0, memory_order_seq_cst);
    if ((mpsc_maybe_nonempty(&a->mailbox) || pending_termination) &&
        !atomic_exchange_explicit(&a->scheduled, 1, memory_order_acq_rel))
        scheduler_schedule(a);
}

/* The next actor from the LIFO slot or the global queue, without blocking. */
static actor_t *next_ready(worker_t *w)
{
    actor_t *a = w->lifo;
    if (a != NULL && w->lifo_streak < LIFO_STREAK) {
        w->lifo = NULL;
        w->lifo_streak++;
        return a;
    }
    w->lifo_streak = 0;
    pthread_mutex_lock(&rt.runq_lock);
    if (w->lifo != NULL) {
        runq_push_locked(w->lifo); /* its streak is over: behind whoever waits */
        w->lifo = NULL;
    }
    a = runq_pop_locked();
    pthread_mutex_unlock(&rt.runq_lock);
    return a;
}

/* Polls the global queue for a while; true if something showed up. */
static bool spin_for_work(void)
{
    atomic_fetch_add_explicit(&rt.spinners, 1, memory_order_acq_rel);
    bool found = false;
    for (int i = 0; i < SPIN_ROUNDS && !found; i++) {
        found = atomic_load_explicit(&rt.runq_peek, memory_order_acquire) != NULL;
        __builtin_ia32_pause();
    }
    atomic_fetch_sub_explicit(&rt.spinners, 1, memory_order_acq_rel);
    return found;
}

/* Sleeps until the global queue has an actor; NULL when the scheduler stops. */
static actor_t *sleep_for_work(void)
{
    pthread_mutex_lock(&rt.runq_lock);
    actor_t *a;
    while ((a = runq_pop_locked()) == NULL && !rt.stopping) {
        rt.sleepers++;
        if (rt.sleepers == rt.worker_count)
            pthread_cond_broadcast(&rt.idle_cv);
        pthread_cond_wait(&rt.runq_cv, &rt.runq_lock);
        rt.sleepers--;
    }
    pthread_mutex_unlock(&rt.runq_lock);
    return a;
}

static void *worker_main(void *arg)
{
    worker_t *w = arg;
    current_worker = w;
    for (;;) {
        actor_t *a = next_ready(w);
        if (a == NULL && spin_for_work())
            continue;
        if (a == NULL)
            a = sleep_for_work();
        if (a == NULL)
            break;
        run_actor(a);
    }
    arena_release();
    return NULL;
}

actor_err_t scheduler_start(int workers)
{
    pthread_mutex_init(&rt.runq_lock, NULL);
    pthread_cond_init(&rt.runq_cv, NULL);
    pthread_cond_init(&rt.idle_cv, NULL);
    rt.worker_count = workers;
    rt.workers = workers ? calloc((size_t)workers, sizeof(worker_t)) : NULL;
    if (workers && rt.workers == NULL)
        return ACTOR_ENOMEM;
    for (int i = 0; i < workers; i++) {
        rt.workers[i].index = i;
        if (pthread_create(&rt.workers[i].thread, NULL, worker_main, &rt.workers[i]) != 0) {
            rt.worker_count = i;
            scheduler_stop();
            return ACTOR_ESYSTEM;
        }
    }
    return ACTOR_OK;
}

void scheduler_stop(void)
{
    pthread_mutex_lock(&rt.runq_lock);
    rt.stopping = true;
    pthread_cond_broadcast(&rt.runq_cv);
    pthread_mutex_unlock(&rt.runq_lock);
    for (int i = 0; i < rt.worker_count; i++)
        pthread_join(rt.workers[i].thread, NULL);
    atomic_fetch_add(&sent_elsewhere, scheduler_sent_total() - atomic_load(&sent_elsewhere));
    free(rt.workers);
    rt.workers = NULL;
    rt.worker_count = 0;
    pthread_cond_destroy(&rt.idle_cv);
    pthread_cond_destroy(&rt.runq_cv);
    pthread_mutex_destroy(&rt.runq_lock);
}

/* Without workers: run everything runnable on this thread. */
static void settle_inline(void)
{
    worker_t self = {0};
    worker_t *saved = current_worker;
    current_worker = &self;
    actor_t *a;
    while ((a = next_ready(&self)) != NULL)
        run_actor(a);
    current_worker = saved;
    atomic_fetch_add(&sent_elsewhere, atomic_load(&self.sent));
}

void scheduler_settle(void)
{
    if (rt.worker_count == 0) {
        settle_inline();
        return;
    }
    pthread_mutex_lock(&rt.runq_lock);
    while (rt.runq_head != NULL || rt.sleepers < rt.worker_count)
        pthread_cond_wait(&rt.idle_cv, &rt.runq_lock);
    pthread_mutex_unlock(&rt.runq_lock);
}
