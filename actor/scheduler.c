/*
 * scheduler.c: worker threads, the run queues, and running an actor's mailbox.
 *
 * A worker takes the actor in its LIFO slot (scheduled by the actor it just ran), else the head
 * of the global run queue; with nothing to do it spins briefly, then sleeps on a condition
 * variable. Spinning first matters on this kind of machine: a sleeping thread woken from another
 * core costs ~30 us, more than thousands of messages. A worker runs at most RUN_BATCH events of
 * one actor before putting it back, so one busy actor cannot starve the others.
 *
 * Backpressure, as Pony's runtime does it: an actor whose turn ends with mail left is overloaded
 * until it drains its mailbox; a local actor that sent to an overloaded one is muted at the end of
 * its turn (parked, still `scheduled`, in no queue) and queued again when the receiver drains.
 * An actor that others wait on is never muted, so the waits cannot form a cycle: the edge that
 * would close one would mute an actor that already has a waiter. Without backpressure two senders
 * on two cores outrun one receiver and its mailbox grows without bound.
 *
 * With zero workers, actor_settle() runs the same loop on the calling thread until nothing is
 * runnable: in-process tests get one thread and a deterministic order.
 *
 * With actors on the I/O thread (actors_on_io_thread), that thread is the only worker: before
 * each wait for events its loop runs what is ready (IO_TURNS turns, then it only polls until the
 * rest is done), and a thread that queues an actor wakes the loop once (io_kick). What the loop's
 * own callbacks queue (messages read from sockets, exits, timers) runs in the same iteration,
 * with no other thread involved.
 */
#include <sched.h>
#include <stdlib.h>

#include "actor/actor_int.h"
#include "actor/io.h"
#include "actor/log.h"

#define RUN_BATCH   4096 /* events of one actor per turn */
#define SEND_BUDGET 1024 /* messages one actor may send per turn before others get a go */
#define LIFO_STREAK 64   /* LIFO turns before the global queue gets a look */
#define SPIN_ROUNDS 4000 /* ~20-50 us of polling before a worker sleeps, at most */
#define SPIN_MIN    64   /* the least a worker polls, so that it can learn spinning pays again */
#define IO_TURNS    64   /* actor turns on the I/O thread per loop iteration */

static _Thread_local worker_t *current_worker;
static _Thread_local actor_t *current_actor;
static _Thread_local actor_t *muted_by; /* overloaded receiver the running actor sent to */
/* Guards every actor's `muted` list and the clearing of `overloaded`: muting happens only under
 * overload, and one lock keeps the no-cycle rule simple to check. */
static pthread_mutex_t mute_lock = PTHREAD_MUTEX_INITIALIZER;

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
    w->turn_sends++;
}

uint64_t scheduler_sent_total(void)
{
    uint64_t total = atomic_load(&sent_elsewhere);
    for (int i = 0; i < rt.worker_count; i++)
        total += atomic_load(&rt.workers[i].sent);
    return total;
}

void scheduler_sent_to_overloaded(actor_t *receiver)
{
    /* Not a dead actor's last words (exit notices sent from rt_finalize): its slot must not be
     * parked, or the next actor spawned into it would wait for the receiver to drain. */
    if (current_actor != NULL && current_actor != receiver &&
        atomic_load_explicit(&current_actor->alive, memory_order_relaxed))
        muted_by = receiver;
}

/* Parks a (at the end of its turn, still `scheduled`) until m drains; false if m already has. */
static bool mute(actor_t *a, actor_t *m)
{
    bool muted = false;
    pthread_mutex_lock(&mute_lock);
    if (a->muted == NULL && atomic_load_explicit(&m->overloaded, memory_order_acquire)) {
        a->mute_next = m->muted;
        m->muted = a;
        muted = true;
        atomic_fetch_add_explicit(&rt.stats.mutes, 1, memory_order_relaxed);
    }
    pthread_mutex_unlock(&mute_lock);
    return muted;
}

static void runq_push(actor_t *a);

void scheduler_unmute_all(actor_t *a)
{
    pthread_mutex_lock(&mute_lock);
    atomic_store_explicit(&a->overloaded, false, memory_order_release);
    actor_t *list = a->muted;
    a->muted = NULL;
    pthread_mutex_unlock(&mute_lock);
    while (list != NULL) {
        actor_t *next = list->mute_next;
        runq_push(list);
        list = next;
    }
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

/* ---- actors on the I/O thread: waking its loop ---- */

static actor_io_node_t io_kick;
static atomic_bool io_kick_posted; /* io_kick is queued and has not run yet */

static void io_kicked(void *unused)
{
    (void)unused;
    atomic_store_explicit(&io_kick_posted, false, memory_order_release);
}

/* The loop runs what is ready before it next waits: a wake-up is needed only from elsewhere,
 * and one queued is enough (it is cleared before the loop next runs the queue). */
static void io_kick_loop(void)
{
    if (actor_io_is_loop_thread() ||
        atomic_exchange_explicit(&io_kick_posted, true, memory_order_acq_rel))
        return;
    io_kick.fn = io_kicked;
    io_kick.arg = NULL;
    if (actor_io_post(&io_kick) != ACTOR_OK) /* stopped: actor_settle runs what is left */
        atomic_store_explicit(&io_kick_posted, false, memory_order_release);
}

static void runq_push(actor_t *a)
{
    pthread_mutex_lock(&rt.runq_lock);
    runq_push_locked(a);
    bool kick = rt.actors_on_io;
    if (!kick && rt.sleepers > 0 && atomic_load_explicit(&rt.spinners, memory_order_acquire) == 0)
        pthread_cond_signal(&rt.runq_cv);
    pthread_mutex_unlock(&rt.runq_lock);
    if (kick)
        io_kick_loop();
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

/* True when the running generation was asked to terminate and its INIT has run. alive is read
 * first: once it reads 1, gen is at least the generation that set it, so a terminate meant for an
 * earlier generation of the slot never matches. */
static bool termination_due(actor_t *a)
{
    if (!atomic_load_explicit(&a->alive, memory_order_seq_cst))
        return false;
    uint32_t gen = atomic_load_explicit(&a->gen, memory_order_seq_cst);
    return atomic_load_explicit(&a->terminating, memory_order_seq_cst) == gen &&
           atomic_load_explicit(&a->initialized, memory_order_acquire);
}

static void run_actor(actor_t *a)
{
    current_actor = a;
    log_context_set_fn(format_pid, &a->pid);
    bool drained = false;
    muted_by = NULL;
    worker_t *w = current_worker;
    w->turn_sends = 0;
    /* The turn ends when the mailbox is empty, after RUN_BATCH events or SEND_BUDGET sends (a
     * sender that keeps dispatching to itself would otherwise hold its worker, and the receivers
     * it woke, indefinitely), or as soon as the actor has sent to an overloaded one. */
    for (int i = 0; i < RUN_BATCH && muted_by == NULL && w->turn_sends < SEND_BUDGET; i++) {
        if (termination_due(a))
            rt_finalize(a);
        envelope_t *e = (envelope_t *)mpsc_pop(&a->mailbox);
        if (e == NULL) {
            drained = !mpsc_maybe_nonempty(&a->mailbox); /* not a push caught half-way */
            break;
        }
        if (!atomic_load_explicit(&a->alive, memory_order_acquire) ||
            e->gen != atomic_load_explicit(&a->gen, memory_order_acquire))
            envelope_discard(e);
        else
            handle_envelope(a, e);
    }
    log_context_set(NULL);
    current_actor = NULL;
    actor_t *m = muted_by;
    muted_by = NULL;
    if (drained && atomic_load_explicit(&a->overloaded, memory_order_relaxed))
        scheduler_unmute_all(a);
    else if (!drained && m == NULL && w->turn_sends < SEND_BUDGET)
        atomic_store_explicit(&a->overloaded, true, memory_order_release);
    if (m != NULL && mute(a, m))
        return;

    /* Clear `scheduled`, then look again: a sender or actor_terminate that saw it set did not
     * queue the actor, so whatever it left (mail, or a termination request, perhaps for the
     * next generation in this slot) must be noticed here. Both sides are seq_cst: either they
     * see 0 and queue the actor, or this check sees their write. */
    bool tail_pending = mpsc_tail_pending(&a->mailbox); /* ours to read until `scheduled` is 0 */
    atomic_store_explicit(&a->scheduled, 0, memory_order_seq_cst);
    bool pending_termination = termination_due(a);
    if ((tail_pending || mpsc_head_pending(&a->mailbox) || pending_termination) &&
        !atomic_exchange_explicit(&a->scheduled, 1, memory_order_acq_rel))
        runq_push(a);
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

/* Polls the global queue for a while; true if something showed up. How long adapts: a spin
 * that finds work sets the worker's next one back to SPIN_ROUNDS, one that finds none halves it
 * (down to SPIN_MIN). Spinning saves a sleeping worker's wake-up (~30 us across cores here) when
 * messages come back to back; when they come farther apart than a spin, as when the process
 * shares the cores with many others (an agent starting executors), it only burns a core they
 * need. */
static bool spin_for_work(worker_t *w)
{
    atomic_fetch_add_explicit(&rt.spinners, 1, memory_order_acq_rel);
    bool found = false;
    for (unsigned i = 0; i < w->spin_rounds && !found; i++) {
        found = atomic_load_explicit(&rt.runq_peek, memory_order_acquire) != NULL;
        __builtin_ia32_pause();
    }
    atomic_fetch_sub_explicit(&rt.spinners, 1, memory_order_acq_rel);
    w->spin_rounds = found                           ? SPIN_ROUNDS
                     : w->spin_rounds / 2 > SPIN_MIN ? w->spin_rounds / 2
                                                     : SPIN_MIN;
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
    envelope_cache_enable();
    for (;;) {
        actor_t *a = next_ready(w);
        /* A lone worker does not spin: the work it waits for comes from threads that need the
         * core it would burn (the I/O thread; on a one-core machine, everything), and an
         * executor's lone worker idles almost always. */
        if (a == NULL && rt.worker_count > 1 && spin_for_work(w))
            continue;
        if (a == NULL)
            a = sleep_for_work();
        if (a == NULL)
            break;
        run_actor(a);
    }
    envelope_cache_flush();
    arena_release();
    return NULL;
}

/* The I/O loop's turn as the worker, before it waits: true while actors are still ready. */
static bool run_on_io(void)
{
    worker_t *w = &rt.workers[0];
    if (w->lifo == NULL && atomic_load_explicit(&rt.runq_peek, memory_order_acquire) == NULL)
        return false;
    current_worker = w;
    envelope_cache_enable();
    actor_t *a;
    for (int turns = 0; turns < IO_TURNS && (a = next_ready(w)) != NULL; turns++)
        run_actor(a);
    envelope_cache_flush();
    current_worker = NULL;
    return w->lifo != NULL || atomic_load_explicit(&rt.runq_peek, memory_order_acquire) != NULL;
}

static actor_err_t start_on_io(void)
{
    rt.worker_count = 1;
    rt.workers = calloc(1, sizeof(worker_t));
    if (rt.workers == NULL)
        return ACTOR_ENOMEM;
    rt.actors_on_io = true;
    atomic_store(&io_kick_posted, false);
    actor_err_t err = actor_io_set_prepare(run_on_io);
    if (err != ACTOR_OK)
        scheduler_stop();
    return err;
}

actor_err_t scheduler_start(int workers, bool on_io_thread)
{
    pthread_mutex_init(&rt.runq_lock, NULL);
    pthread_cond_init(&rt.runq_cv, NULL);
    pthread_cond_init(&rt.idle_cv, NULL);
    if (on_io_thread)
        return start_on_io();
    rt.worker_count = workers;
    rt.workers = workers ? calloc((size_t)workers, sizeof(worker_t)) : NULL;
    if (workers && rt.workers == NULL)
        return ACTOR_ENOMEM;
    for (int i = 0; i < workers; i++) {
        rt.workers[i].index = i;
        rt.workers[i].spin_rounds = SPIN_ROUNDS;
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
    for (int i = 0; i < rt.worker_count && !rt.actors_on_io; i++)
        pthread_join(rt.workers[i].thread, NULL);
    rt.actors_on_io = false;
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
    envelope_cache_enable();
    actor_t *a;
    while ((a = next_ready(&self)) != NULL)
        run_actor(a);
    envelope_cache_flush();
    current_worker = saved;
    atomic_fetch_add(&sent_elsewhere, atomic_load(&self.sent));
}

static void settle_on_io(void *unused)
{
    (void)unused;
    while (run_on_io())
        ;
}

void scheduler_settle(void)
{
    /* On the I/O thread's loop while it runs; once it stopped, what is left runs here. */
    if (rt.worker_count == 0 ||
        (rt.actors_on_io && actor_io_call_sync(settle_on_io, NULL) != ACTOR_OK)) {
        settle_inline();
        return;
    }
    if (rt.actors_on_io)
        return;
    pthread_mutex_lock(&rt.runq_lock);
    while (rt.runq_head != NULL || rt.sleepers < rt.worker_count)
        pthread_cond_wait(&rt.idle_cv, &rt.runq_lock);
    pthread_mutex_unlock(&rt.runq_lock);
}
