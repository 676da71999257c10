/*
 * clock.c: the runtime's clock and timers; see clock.h.
 *
 * Timers sit in a binary min-heap on deadline (with an id index for cancel). In real time one
 * libev timer on the I/O thread is armed for the earliest deadline; it is re-armed through
 * actor_io_call only when a new timer becomes the earliest, so most actor_delay calls cost a lock
 * and a heap push. A due timer becomes a CALL envelope in its actor's mailbox.
 */
#include <ev.h>
#include <stdlib.h>
#include <time.h>

#include "actor/actor_int.h"
#include "actor/clock.h"
#include "actor/io.h"
#include "actor/log.h"

typedef struct timer {
    actor_timer_id_t id;
    int64_t deadline;
    actor_pid_t target;
    actor_call_fn fn;
    void *arg;
    size_t index; /* position in the heap */
    UT_hash_handle hh;
} clock_timer_t;

static struct {
    pthread_mutex_t lock; /* everything below */
    bool paused;
    int64_t paused_at; /* the clock's value while paused */
    int64_t offset;    /* added to CLOCK_MONOTONIC while running */
    int64_t wall_skew; /* CLOCK_REALTIME - clock value, frozen while paused */
    clock_timer_t **heap;
    size_t count, cap;
    clock_timer_t *by_id;
    actor_timer_id_t next_id;
    int64_t armed;    /* deadline the libev timer is armed for; INT64_MAX = none */
    ev_timer watcher; /* I/O thread only */
} clk = {.lock = PTHREAD_MUTEX_INITIALIZER, .armed = INT64_MAX};

static int64_t real_ns(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * ACTOR_NS_PER_SEC + ts.tv_nsec;
}

static int64_t now_locked(void)
{
    return clk.paused ? clk.paused_at : real_ns(CLOCK_MONOTONIC) + clk.offset;
}

int64_t actor_clock_now(void)
{
    pthread_mutex_lock(&clk.lock);
    int64_t now = now_locked();
    pthread_mutex_unlock(&clk.lock);
    return now;
}

int64_t actor_clock_wall(void)
{
    pthread_mutex_lock(&clk.lock);
    int64_t wall =
        clk.paused ? clk.wall_skew + clk.paused_at
                   : real_ns(CLOCK_REALTIME) - real_ns(CLOCK_MONOTONIC) + now_locked() - clk.offset;
    pthread_mutex_unlock(&clk.lock);
    return wall;
}

/* ---- heap ---- */

static void heap_place(size_t i, clock_timer_t *t)
{
    clk.heap[i] = t;
    t->index = i;
}

static void heap_up(size_t i)
{
    clock_timer_t *t = clk.heap[i];
    while (i > 0 && clk.heap[(i - 1) / 2]->deadline > t->deadline) {
        heap_place(i, clk.heap[(i - 1) / 2]);
        i = (i - 1) / 2;
    }
    heap_place(i, t);
}

static void heap_down(size_t i)
{
    clock_timer_t *t = clk.heap[i];
    for (;;) {
        size_t child = 2 * i + 1;
        if (child >= clk.count)
            break;
        if (child + 1 < clk.count && clk.heap[child + 1]->deadline < clk.heap[child]->deadline)
            child++;
        if (clk.heap[child]->deadline >= t->deadline)
            break;
        heap_place(i, clk.heap[child]);
        i = child;
    }
    heap_place(i, t);
}

static bool heap_push(clock_timer_t *t)
{
    if (clk.count == clk.cap) {
        size_t cap = clk.cap ? clk.cap * 2 : 64;
        clock_timer_t **grown = realloc(clk.heap, cap * sizeof(*grown));
        if (grown == NULL)
            return false;
        clk.heap = grown;
        clk.cap = cap;
    }
    clk.heap[clk.count++] = t;
    heap_up(clk.count - 1);
    return true;
}

static void heap_remove(clock_timer_t *t)
{
    size_t i = t->index;
    clock_timer_t *last = clk.heap[--clk.count];
    if (i == clk.count)
        return;
    heap_place(i, last);
    heap_up(i);
    heap_down(last->index);
}

/* ---- firing ---- */

/* Takes every timer due at `now` out of the heap, earliest first, as a linked list. */
static clock_timer_t *take_due_locked(int64_t now)
{
    clock_timer_t *first = NULL, **tail = &first;
    while (clk.count > 0 && clk.heap[0]->deadline <= now) {
        clock_timer_t *t = clk.heap[0];
        heap_remove(t);
        HASH_DEL(clk.by_id, t);
        t->hh.next = NULL;
        *tail = t;
        tail = (clock_timer_t **)&t->hh.next;
    }
    return first;
}

static void fire(clock_timer_t *list)
{
    while (list != NULL) {
        clock_timer_t *next = list->hh.next;
        envelope_t *e = envelope_new(ENVELOPE_CALL, 0, 0);
        if (e == NULL) {
            LOG_ERROR("Out of memory firing a timer of %s", list->target.id);
            list->fn(NULL, NULL, list->arg);
        } else {
            e->fn = list->fn;
            e->arg = list->arg;
            deliver_to_pid(&list->target, e);
        }
        free(list);
        list = next;
    }
}

static void arm_on_io_thread(void *unused);

/* Asks the I/O thread to re-arm if the earliest deadline moved before the armed one. */
static void request_arm_locked(void)
{
    if (clk.paused || clk.count == 0 || clk.heap[0]->deadline >= clk.armed)
        return;
    clk.armed = clk.heap[0]->deadline;
    if (actor_io_call(arm_on_io_thread, NULL) != ACTOR_OK)
        clk.armed = INT64_MAX;
}

static void arm_on_io_thread(void *unused)
{
    (void)unused;
    struct ev_loop *loop = actor_io_loop();
    pthread_mutex_lock(&clk.lock);
    ev_timer_stop(loop, &clk.watcher);
    if (!clk.paused && clk.count > 0) {
        int64_t wait = clk.heap[0]->deadline - now_locked();
        clk.armed = clk.heap[0]->deadline;
        ev_timer_set(&clk.watcher, wait > 0 ? (double)wait / 1e9 : 0.0, 0.0);
        ev_timer_start(loop, &clk.watcher);
    } else {
        clk.armed = INT64_MAX;
    }
    pthread_mutex_unlock(&clk.lock);
}

static void on_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop, (void)w, (void)revents;
    pthread_mutex_lock(&clk.lock);
    clock_timer_t *due = clk.paused ? NULL : take_due_locked(now_locked());
    clk.armed = INT64_MAX;
    pthread_mutex_unlock(&clk.lock);
    fire(due);
    arm_on_io_thread(NULL);
}

/* ---- public ---- */

actor_timer_id_t actor_delay(actor_t *self, int64_t ns, actor_call_fn fn, void *arg)
{
    clock_timer_t *t = malloc(sizeof(*t));
    if (t == NULL)
        return 0;
    t->target = self->pid;
    t->fn = fn;
    t->arg = arg;
    pthread_mutex_lock(&clk.lock);
    t->id = ++clk.next_id;
    t->deadline = now_locked() + (ns > 0 ? ns : 0);
    if (!heap_push(t)) {
        pthread_mutex_unlock(&clk.lock);
        free(t);
        return 0;
    }
    HASH_ADD(hh, clk.by_id, id, sizeof(t->id), t);
    request_arm_locked();
    actor_timer_id_t id = t->id;
    pthread_mutex_unlock(&clk.lock);
    return id;
}

bool actor_timer_cancel(actor_timer_id_t id)
{
    clock_timer_t *t = NULL;
    pthread_mutex_lock(&clk.lock);
    HASH_FIND(hh, clk.by_id, &id, sizeof(id), t);
    if (t != NULL) {
        heap_remove(t);
        HASH_DEL(clk.by_id, t);
    }
    pthread_mutex_unlock(&clk.lock);
    free(t);
    return t != NULL;
}

bool actor_timer_disarm(actor_timer_id_t *timer)
{
    bool cancelled = *timer != 0 && actor_timer_cancel(*timer);
    *timer = 0;
    return cancelled;
}

void actor_clock_pause(void)
{
    pthread_mutex_lock(&clk.lock);
    if (!clk.paused) {
        clk.paused_at = now_locked();
        clk.wall_skew = real_ns(CLOCK_REALTIME) - clk.paused_at;
        clk.paused = true;
    }
    pthread_mutex_unlock(&clk.lock);
}

void actor_clock_resume(void)
{
    pthread_mutex_lock(&clk.lock);
    if (clk.paused) {
        clk.offset = clk.paused_at - real_ns(CLOCK_MONOTONIC);
        clk.paused = false;
        clk.armed = INT64_MAX;
        request_arm_locked();
    }
    pthread_mutex_unlock(&clk.lock);
}

bool actor_clock_paused(void)
{
    pthread_mutex_lock(&clk.lock);
    bool paused = clk.paused;
    pthread_mutex_unlock(&clk.lock);
    return paused;
}

void actor_clock_advance(int64_t ns)
{
    pthread_mutex_lock(&clk.lock);
    if (!clk.paused || ns < 0) {
        pthread_mutex_unlock(&clk.lock);
        return;
    }
    clk.paused_at += ns;
    clock_timer_t *due = take_due_locked(clk.paused_at);
    pthread_mutex_unlock(&clk.lock);
    fire(due);
}

actor_err_t clock_start(void)
{
    ev_timer_init(&clk.watcher, on_timer, 0.0, 0.0);
    pthread_mutex_lock(&clk.lock);
    clk.armed = INT64_MAX;
    request_arm_locked();
    pthread_mutex_unlock(&clk.lock);
    return ACTOR_OK;
}

static void disarm_on_io_thread(void *unused)
{
    (void)unused;
    ev_timer_stop(actor_io_loop(), &clk.watcher);
}

/* Cancels every timer, letting each fn free its arg, and disarms the libev timer. */
void clock_stop(void)
{
    /* Runs before the runtime joins the I/O thread; if the loop is gone, so is the watcher. */
    (void)actor_io_call(disarm_on_io_thread, NULL);
    pthread_mutex_lock(&clk.lock);
    clock_timer_t *all = take_due_locked(INT64_MAX);
    clk.count = 0;
    free(clk.heap);
    clk.heap = NULL;
    clk.cap = 0;
    clk.armed = INT64_MAX;
    pthread_mutex_unlock(&clk.lock);
    while (all != NULL) {
        clock_timer_t *next = all->hh.next;
        all->fn(NULL, NULL, all->arg);
        free(all);
        all = next;
    }
}
