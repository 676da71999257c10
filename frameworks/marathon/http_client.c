/*
 * http_client.c: outgoing libcurl transfers off the owner's thread; see http_client.h.
 *
 * A transfer travels owner -> I/O thread with actor_io_call and back with actor_dispatch. The
 * client is reference counted: the owner holds a reference until marathon_http_client_free, the
 * I/O side one until it has torn down its multi handle, and each transfer one until it is
 * released; so a transfer whose outcome reaches an owner that freed its client (or is gone) can
 * still tell, and just releases itself.
 */
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>

#include <ev.h>

#include "actor/io.h"
#include "actor/log.h"
#include "frameworks/marathon/http_client.h"

#define DEFAULT_MAX_RUNNING 64

typedef struct transfer {
    marathon_http_client_t *c; /* a reference */
    CURL *easy;
    marathon_http_done_fn done;
    marathon_http_release_fn release;
    void *arg;
    CURLcode result;
    struct transfer *prev, *next; /* the waiting queue or the running list (I/O side) */
} transfer_t;

/* One socket curl asked us to watch. */
typedef struct watcher {
    ev_io io; /* first: libev hands the watcher back through it */
    marathon_http_client_t *c;
    struct watcher *prev, *next;
} watcher_t;

struct marathon_http_client {
    atomic_int refs;
    /* The owner's side. */
    actor_pid_t owner_pid;
    size_t pending; /* started, done not yet run */
    bool closed;    /* marathon_http_client_free ran */
    /* The I/O side. */
    CURLM *multi;
    ev_timer timer; /* curl's timeout */
    size_t max_running, running_count;
    transfer_t *waiting, *waiting_tail;
    transfer_t *running;
    watcher_t *watchers;
    bool no_loop; /* torn down after the loop stopped: no libev calls */
};

static void client_unref(marathon_http_client_t *c)
{
    if (atomic_fetch_sub(&c->refs, 1) != 1)
        return;
    curl_global_cleanup();
    free(c);
}

/* The end of every transfer: the easy handle goes, then the arg, then the reference. */
static void transfer_finish(transfer_t *t)
{
    curl_easy_cleanup(t->easy);
    if (t->release != NULL)
        t->release(t->arg);
    client_unref(t->c);
    free(t);
}

static void running_unlink(marathon_http_client_t *c, transfer_t *t)
{
    if (t->prev != NULL)
        t->prev->next = t->next;
    else
        c->running = t->next;
    if (t->next != NULL)
        t->next->prev = t->prev;
    t->prev = t->next = NULL;
    c->running_count--;
}

/* ---- inside the owner ---- */

static void on_done(actor_t *self, void *state, void *arg)
{
    transfer_t *t = arg;
    marathon_http_client_t *c = t->c;
    if (self != NULL && !c->closed) {
        c->pending--;
        if (t->done != NULL)
            t->done(self, state, t->easy, t->result, t->arg);
    }
    transfer_finish(t);
}

/* ---- the I/O side ---- */

static void io_collect(marathon_http_client_t *c);

static void io_deliver(marathon_http_client_t *c, transfer_t *t)
{
    if (actor_dispatch(&c->owner_pid, on_done, t) != ACTOR_OK)
        transfer_finish(t); /* the owner is gone */
}

static void on_socket_ready(struct ev_loop *loop, ev_io *io, int revents)
{
    (void)loop;
    marathon_http_client_t *c = ((watcher_t *)io)->c; /* the watcher may go in socket_action */
    int flags = 0;
    if (revents & EV_READ)
        flags |= CURL_CSELECT_IN;
    if (revents & EV_WRITE)
        flags |= CURL_CSELECT_OUT;
    int still;
    curl_multi_socket_action(c->multi, io->fd, flags, &still);
    io_collect(c);
}

static void on_timeout(struct ev_loop *loop, ev_timer *timer, int revents)
{
    (void)loop, (void)revents;
    marathon_http_client_t *c = timer->data;
    int still;
    curl_multi_socket_action(c->multi, CURL_SOCKET_TIMEOUT, 0, &still);
    io_collect(c);
}

static void watcher_free(marathon_http_client_t *c, watcher_t *w)
{
    if (!c->no_loop)
        ev_io_stop(actor_io_loop(), &w->io);
    if (w->prev != NULL)
        w->prev->next = w->next;
    else
        c->watchers = w->next;
    if (w->next != NULL)
        w->next->prev = w->prev;
    free(w);
}

static watcher_t *watcher_new(marathon_http_client_t *c, curl_socket_t s)
{
    watcher_t *w = calloc(1, sizeof(*w));
    if (w == NULL)
        return NULL;
    w->c = c;
    w->next = c->watchers;
    if (c->watchers != NULL)
        c->watchers->prev = w;
    c->watchers = w;
    ev_init(&w->io, on_socket_ready);
    curl_multi_assign(c->multi, s, w);
    return w;
}

/* CURLMOPT_SOCKETFUNCTION: what curl wants to hear about socket s. */
static int on_socket(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
    (void)easy;
    marathon_http_client_t *c = userp;
    watcher_t *w = socketp;
    if (what == CURL_POLL_REMOVE) {
        if (w != NULL) {
            curl_multi_assign(c->multi, s, NULL);
            watcher_free(c, w);
        }
        return 0;
    }
    if (c->no_loop)
        return 0;
    if (w == NULL)
        w = watcher_new(c, s);
    if (w == NULL)
        return -1; /* curl fails the transfer */
    ev_io_stop(actor_io_loop(), &w->io);
    int events = 0;
    if (what & CURL_POLL_IN)
        events |= EV_READ;
    if (what & CURL_POLL_OUT)
        events |= EV_WRITE;
    ev_io_set(&w->io, s, events);
    ev_io_start(actor_io_loop(), &w->io);
    return 0;
}

/* CURLMOPT_TIMERFUNCTION: call curl back after ms milliseconds (-1: never). */
static int on_timer_change(CURLM *multi, long ms, void *userp)
{
    (void)multi;
    marathon_http_client_t *c = userp;
    if (c->no_loop)
        return 0;
    ev_timer_stop(actor_io_loop(), &c->timer);
    if (ms >= 0) {
        ev_timer_set(&c->timer, (double)ms / 1000.0, 0.0);
        ev_timer_start(actor_io_loop(), &c->timer);
    }
    return 0;
}

/* Moves waiting transfers to the multi handle while there is room. */
static void io_pump(marathon_http_client_t *c)
{
    while (c->waiting != NULL && c->running_count < c->max_running) {
        transfer_t *t = c->waiting;
        c->waiting = t->next;
        if (c->waiting == NULL)
            c->waiting_tail = NULL;
        t->next = NULL;
        CURLMcode mrc = curl_multi_add_handle(c->multi, t->easy);
        if (mrc != CURLM_OK) {
            LOG_WARNING("Cannot start an outgoing transfer: %s", curl_multi_strerror(mrc));
            t->result = CURLE_OUT_OF_MEMORY;
            io_deliver(c, t);
            continue;
        }
        t->next = c->running;
        if (c->running != NULL)
            c->running->prev = t;
        c->running = t;
        c->running_count++;
    }
}

/* Hands every finished transfer to the owner, then starts what waits. */
static void io_collect(marathon_http_client_t *c)
{
    for (;;) {
        int left;
        CURLMsg *msg = curl_multi_info_read(c->multi, &left);
        if (msg == NULL)
            break;
        if (msg->msg != CURLMSG_DONE)
            continue;
        char *priv = NULL;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &priv);
        transfer_t *t = (transfer_t *)priv;
        t->result = msg->data.result;
        curl_multi_remove_handle(c->multi, t->easy); /* msg is invalid from here */
        running_unlink(c, t);
        io_deliver(c, t);
    }
    io_pump(c);
}

/* actor_io_call: queues a transfer. */
static void io_add(void *arg)
{
    transfer_t *t = arg;
    marathon_http_client_t *c = t->c;
    if (c->waiting_tail != NULL)
        c->waiting_tail->next = t;
    else
        c->waiting = t;
    c->waiting_tail = t;
    io_pump(c);
}

/* actor_io_call (or directly once the loop is gone): abandons every transfer, then releases the
 * multi handle and the I/O side's reference. */
static void io_close(void *arg)
{
    marathon_http_client_t *c = arg;
    while (c->running != NULL) {
        transfer_t *t = c->running;
        running_unlink(c, t);
        curl_multi_remove_handle(c->multi, t->easy);
        transfer_finish(t);
    }
    while (c->waiting != NULL) {
        transfer_t *t = c->waiting;
        c->waiting = t->next;
        transfer_finish(t);
    }
    curl_multi_cleanup(c->multi);
    while (c->watchers != NULL) /* whatever curl did not remove */
        watcher_free(c, c->watchers);
    if (!c->no_loop)
        ev_timer_stop(actor_io_loop(), &c->timer);
    client_unref(c);
}

/* ---- public ---- */

actor_err_t marathon_http_client_new(actor_t *owner, size_t max_running,
                                     marathon_http_client_t **out)
{
    if (owner == NULL || out == NULL)
        return ACTOR_EINVAL;
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return ACTOR_ENOMEM;
    marathon_http_client_t *c = calloc(1, sizeof(*c));
    if (c == NULL)
        goto fail_global;
    c->multi = curl_multi_init();
    if (c->multi == NULL)
        goto fail_free;
    curl_multi_setopt(c->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
    curl_multi_setopt(c->multi, CURLMOPT_SOCKETDATA, c);
    curl_multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION, on_timer_change);
    curl_multi_setopt(c->multi, CURLMOPT_TIMERDATA, c);
    ev_timer_init(&c->timer, on_timeout, 0.0, 0.0);
    c->timer.data = c;
    c->max_running = max_running > 0 ? max_running : DEFAULT_MAX_RUNNING;
    c->owner_pid = *actor_self(owner);
    atomic_init(&c->refs, 2); /* the owner's and the I/O side's */
    *out = c;
    return ACTOR_OK;

fail_free:
    free(c);
fail_global:
    curl_global_cleanup();
    return ACTOR_ENOMEM;
}

void marathon_http_client_free(marathon_http_client_t *c)
{
    if (c == NULL)
        return;
    c->closed = true;
    if (actor_io_call(io_close, c) != ACTOR_OK) {
        if (actor_io_loop() == NULL) { /* the runtime stopped: nothing runs on the loop now */
            c->no_loop = true;
            io_close(c);
        } else {
            LOG_ERROR("Out of memory closing an HTTP client: leaking its transfers");
        }
    }
    client_unref(c);
}

actor_err_t marathon_http_client_start(marathon_http_client_t *c, CURL *easy,
                                       marathon_http_done_fn done, marathon_http_release_fn release,
                                       void *arg)
{
    if (c == NULL || easy == NULL || c->closed)
        return ACTOR_EINVAL;
    transfer_t *t = calloc(1, sizeof(*t));
    if (t == NULL)
        return ACTOR_ENOMEM;
    *t = (transfer_t){.c = c, .easy = easy, .done = done, .release = release, .arg = arg};
    curl_easy_setopt(easy, CURLOPT_PRIVATE, t);
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    atomic_fetch_add(&c->refs, 1);
    actor_err_t rc = actor_io_call(io_add, t);
    if (rc != ACTOR_OK) {
        curl_easy_setopt(easy, CURLOPT_PRIVATE, NULL);
        atomic_fetch_sub(&c->refs, 1); /* the owner still holds one: never the last */
        free(t);
        return rc;
    }
    c->pending++;
    return ACTOR_OK;
}

size_t marathon_http_client_pending(const marathon_http_client_t *c)
{
    return c != NULL ? c->pending : 0;
}
