/* io.c: the I/O thread; see io.h. */
#include "actor/io.h"

#include <ev.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdlib.h>

#include "actor/actor_int.h"
#include "actor/log.h"

typedef actor_io_node_t io_call_t;

static struct {
    struct ev_loop *loop;
    pthread_t thread;
    ev_async wake;          /* new calls queued, or stop requested */
    pthread_mutex_t lock;   /* static: lives as long as the process, so late callers are safe */
    io_call_t *head, *tail; /* guarded by lock */
    bool stopping;          /* guarded by lock */
    bool started;           /* guarded by lock */
    ev_prepare prepare;     /* runs prepare_fn before each wait */
    ev_idle busy;           /* active while prepare_fn has more to do: the loop does not wait */
    bool (*prepare_fn)(void);
    bool on_caller;           /* no thread: the loop runs in actor_io_run_until */
    bool (*until)(void *arg); /* actor_io_run_until's condition while it runs */
    void *until_arg;
} io = {.lock = PTHREAD_MUTEX_INITIALIZER};

static _Thread_local bool on_loop_thread;

/* Takes the queued calls and runs them outside the lock. */
static void run_calls(void)
{
    pthread_mutex_lock(&io.lock);
    io_call_t *c = io.head;
    io.head = io.tail = NULL;
    bool stopping = io.stopping;
    pthread_mutex_unlock(&io.lock);
    while (c != NULL) {
        io_call_t *next = c->next;
        bool heap = c->heap; /* a node in caller storage may be reused once fn runs */
        c->fn(c->arg);
        if (heap)
            free(c);
        c = next;
    }
    if (stopping)
        ev_break(io.loop, EVBREAK_ALL);
}

static void on_wake(struct ev_loop *loop, ev_async *w, int revents)
{
    (void)loop, (void)w, (void)revents;
    run_calls();
}

static void on_prepare(struct ev_loop *loop, ev_prepare *w, int revents)
{
    (void)w, (void)revents;
    if (io.prepare_fn != NULL && io.prepare_fn())
        ev_idle_start(loop, &io.busy);
    else
        ev_idle_stop(loop, &io.busy);
    if (io.until != NULL && io.until(io.until_arg))
        ev_break(loop, EVBREAK_ONE); /* libev looks for a break after the prepare watchers */
}

/* An active idle watcher is what keeps the loop from waiting; it has nothing to do itself. */
static void on_busy(struct ev_loop *loop, ev_idle *w, int revents)
{
    (void)loop, (void)w, (void)revents;
}

static void *io_main(void *unused)
{
    (void)unused;
    on_loop_thread = true;
    log_context_set("io");
    ev_run(io.loop, 0);
    run_calls();     /* calls queued between the break and now still run exactly once */
    arena_release(); /* what handlers decoded here, when actors run on this thread */
    return NULL;
}

static void set_prepare(void *arg)
{
    bool (**fn)(void) = arg;
    io.prepare_fn = *fn;
    if (io.prepare_fn != NULL) {
        ev_prepare_start(io.loop, &io.prepare);
    } else {
        if (!io.on_caller) /* there it also asks actor_io_run_until's condition */
            ev_prepare_stop(io.loop, &io.prepare);
        ev_idle_stop(io.loop, &io.busy);
    }
}

actor_err_t actor_io_set_prepare(bool (*fn)(void))
{
    return actor_io_call_sync(set_prepare, &fn);
}

actor_err_t actor_io_start(bool own_thread)
{
    io.loop = ev_loop_new(EVFLAG_AUTO | EVFLAG_NOSIGMASK);
    if (io.loop == NULL)
        return ACTOR_ESYSTEM;
    io.head = io.tail = NULL;
    io.stopping = false;
    ev_async_init(&io.wake, on_wake);
    ev_async_start(io.loop, &io.wake);
    ev_prepare_init(&io.prepare, on_prepare);
    ev_idle_init(&io.busy, on_busy);
    io.prepare_fn = NULL;
    io.on_caller = !own_thread;
    if (io.on_caller) {
        on_loop_thread = true;
        ev_prepare_start(io.loop, &io.prepare);
    } else if (pthread_create(&io.thread, NULL, io_main, NULL) != 0) {
        ev_loop_destroy(io.loop);
        return ACTOR_ESYSTEM;
    }
    pthread_mutex_lock(&io.lock);
    io.started = true;
    pthread_mutex_unlock(&io.lock);
    return ACTOR_OK;
}

void actor_io_stop(void)
{
    pthread_mutex_lock(&io.lock);
    bool started = io.started;
    io.stopping = true;
    if (started)
        ev_async_send(io.loop, &io.wake);
    pthread_mutex_unlock(&io.lock);
    if (!started)
        return;
    if (io.on_caller) {
        run_calls(); /* what was queued since the loop last ran */
        ev_prepare_stop(io.loop, &io.prepare);
        on_loop_thread = false;
    } else {
        pthread_join(io.thread, NULL);
    }
    /* Callers see `started` false before the loop goes: none can be inside ev_async_send then,
     * since they send while holding the lock. */
    pthread_mutex_lock(&io.lock);
    io.started = false;
    pthread_mutex_unlock(&io.lock);
    ev_async_stop(io.loop, &io.wake);
    ev_loop_destroy(io.loop);
    io.loop = NULL;
}

static void on_until_timeout(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)revents;
    *(bool *)w->data = true;
    ev_break(loop, EVBREAK_ONE);
}

bool actor_io_run_until(bool (*done)(void *arg), void *arg, long long timeout_ns)
{
    if (!io.on_caller || !on_loop_thread)
        return false;
    bool expired = false;
    ev_timer timeout;
    ev_timer_init(&timeout, on_until_timeout, (double)timeout_ns / 1e9, 0);
    timeout.data = &expired;
    if (timeout_ns >= 0) {
        ev_now_update(io.loop);
        ev_timer_start(io.loop, &timeout);
    }
    /* Kept for a wait that a loop callback makes (outside any actor handler, which must not
     * wait): the outer one's condition is asked again once this one returns. */
    bool (*outer)(void *) = io.until;
    void *outer_arg = io.until_arg;
    io.until = done;
    io.until_arg = arg;
    while (!expired && !done(arg)) /* a break may be another wait's */
        ev_run(io.loop, 0);
    io.until = outer;
    io.until_arg = outer_arg;
    ev_timer_stop(io.loop, &timeout);
    return true;
}

struct ev_loop *actor_io_loop(void)
{
    return io.loop;
}

bool actor_io_is_loop_thread(void)
{
    return on_loop_thread;
}

actor_err_t actor_io_call(void (*fn)(void *arg), void *arg)
{
    io_call_t *c = malloc(sizeof(*c));
    if (c == NULL)
        return ACTOR_ENOMEM;
    c->fn = fn;
    c->arg = arg;
    c->heap = true;
    actor_err_t err = actor_io_post(c);
    if (err != ACTOR_OK)
        free(c);
    return err;
}

typedef struct sync_call {
    void (*fn)(void *arg);
    void *arg;
    sem_t done;
} sync_call_t;

static void run_sync_call(void *arg)
{
    sync_call_t *c = arg;
    c->fn(c->arg);
    sem_post(&c->done);
}

actor_err_t actor_io_call_sync(void (*fn)(void *arg), void *arg)
{
    if (actor_io_is_loop_thread()) {
        fn(arg);
        return ACTOR_OK;
    }
    sync_call_t c = {.fn = fn, .arg = arg};
    sem_init(&c.done, 0, 0);
    actor_err_t err = actor_io_call(run_sync_call, &c);
    if (err == ACTOR_OK)
        sem_wait(&c.done);
    sem_destroy(&c.done);
    return err;
}

actor_err_t actor_io_post(actor_io_node_t *c)
{
    c->next = NULL;
    pthread_mutex_lock(&io.lock);
    if (!io.started || io.stopping) {
        pthread_mutex_unlock(&io.lock);
        return ACTOR_ECLOSED;
    }
    if (io.tail != NULL)
        io.tail->next = c;
    else
        io.head = c;
    io.tail = c;
    /* Under the lock, so that actor_io_stop cannot destroy the loop in between. */
    ev_async_send(io.loop, &io.wake);
    pthread_mutex_unlock(&io.lock);
    return ACTOR_OK;
}
