/*
 * transport_nng.c: the transport's default engine, on nng's TCP streams (transport_int.h).
 *
 * A peer keeps one dial, one send and one receive aio for its whole life; the receive on an
 * outgoing stream exists only to notice the stream breaking, since peers never write on streams
 * they accepted. A stream that broke or was closed stays CLOSING until its in-flight operations
 * completed, then the peer is IDLE again (and dials at once if messages or links wait).
 *
 * A relink of a CONNECTED peer closes its stream without a break (links and queue stay). A dial
 * in progress is stopped by closing its dialer and started again on a new dialer (`redial`):
 * not nng_aio_cancel, since nng's dialer would hand a dial started right after to the cancelled
 * connect's completion, which fails it.
 *
 * All callbacks run on nng's threads.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actor/actor_int.h"
#include "actor/log.h"
#include "actor/transport_int.h"

#define RECV_CHUNK (256u << 10) /* bytes read from an incoming stream at a time */

typedef struct in_conn {
    nng_stream *stream;
    nng_aio *recv_aio;
    uint8_t *buf;
    in_decoder_t in;
    struct in_conn *next, *prev;
} in_conn_t;

static struct {
    pthread_mutex_t lock; /* conns */
    in_conn_t *conns;
    nng_stream_listener *listener;
    nng_aio *accept_aio;
    bool accept_backing_off; /* after a failed accept, accept_aio is a pause */
} ng = {.lock = PTHREAD_MUTEX_INITIALIZER};

static void peer_start_send(peer_t *p);

/* ---- outgoing ---- */

static void on_dial(void *arg);
static void on_peer_send(void *arg);
static void on_peer_recv(void *arg);

static void engine_peer_fini(peer_t *p)
{
    peer_nng_t *n = &p->e.nng;
    nng_aio_free(n->dial_aio);
    nng_aio_free(n->send_aio);
    nng_aio_free(n->recv_aio);
    if (n->stream != NULL)
        nng_stream_free(n->stream);
    nng_stream_dialer_free(n->dialer);
}

static bool engine_peer_init(peer_t *p)
{
    peer_nng_t *n = &p->e.nng;
    if (nng_stream_dialer_alloc(&n->dialer, p->url) != 0 ||
        nng_aio_alloc(&n->dial_aio, on_dial, p) != 0 ||
        nng_aio_alloc(&n->send_aio, on_peer_send, p) != 0 ||
        nng_aio_alloc(&n->recv_aio, on_peer_recv, p) != 0) {
        engine_peer_fini(p);
        return false;
    }
    return true;
}

static void peer_start_dial(peer_t *p)
{
    p->state = PEER_CONNECTING;
    nng_stream_dialer_dial(p->e.nng.dialer, p->e.nng.dial_aio);
}

/* Frees a closed stream once no operation uses it; redials if messages wait. Lock held. */
static void peer_maybe_idle(peer_t *p)
{
    peer_nng_t *n = &p->e.nng;
    if (p->state != PEER_CLOSING || n->send_busy || n->recv_busy)
        return;
    nng_stream_free(n->stream);
    n->stream = NULL;
    p->state = PEER_IDLE;
    peer_trim(p);
    if (peer_wants_stream(p))
        peer_start_dial(p);
}

/* The stream failed: drop what was queued, tell the linkers. Lock held. */
static void peer_break(peer_t *p, const char *why, int rv)
{
    if (p->state != PEER_CONNECTED)
        return;
    peer_broke(p, why, nng_strerror(rv));
    nng_stream_close(p->e.nng.stream);
    peer_maybe_idle(p);
}

static void peer_start_recv(peer_t *p)
{
    peer_nng_t *n = &p->e.nng;
    nng_iov iov = {.iov_buf = n->probe, .iov_len = sizeof(n->probe)};
    nng_aio_set_iov(n->recv_aio, 1, &iov);
    n->recv_busy = true;
    nng_stream_recv(n->stream, n->recv_aio);
}

/* Puts a new dialer in place of the one a relink closed. Returns the closed one, for the caller
 * to free once it has released the lock, or NULL when no dialer could be made (the closed one
 * stays: the next dial fails with NNG_ECLOSED and on_dial tries again). Lock held. */
static nng_stream_dialer *dialer_renew(peer_t *p)
{
    nng_stream_dialer *fresh;
    if (nng_stream_dialer_alloc(&fresh, p->url) != 0)
        return NULL;
    nng_stream_dialer *closed = p->e.nng.dialer;
    p->e.nng.dialer = fresh;
    return closed;
}

static void on_dial(void *arg)
{
    peer_t *p = arg;
    peer_nng_t *n = &p->e.nng;
    nng_stream_dialer *closed = NULL;
    pthread_mutex_lock(&p->lock);
    bool stopping = transport_is_stopping();
    int rv = nng_aio_result(n->dial_aio);
    if ((n->redial || rv == NNG_ECLOSED) && !stopping)
        closed = dialer_renew(p);
    bool redial = n->redial && closed != NULL;
    n->redial = false;
    if (rv != 0 && redial) {
        peer_start_dial(p); /* a relink stopped this dial: the queue and links wait */
    } else if (rv == 0 && peer_connected(p)) {
        n->stream = nng_aio_get_output(n->dial_aio, 0);
        nng_stream_set_bool(n->stream, NNG_OPT_TCP_NODELAY, true);
        peer_start_recv(p);
        peer_start_send(p);
    } else {
        if (rv == 0)
            nng_stream_free(nng_aio_get_output(n->dial_aio, 0));
        peer_dial_failed(p, rv ? nng_strerror(rv) : stopping ? "stopping" : "out of memory");
    }
    pthread_mutex_unlock(&p->lock);
    if (closed != NULL)
        nng_stream_dialer_free(closed); /* waits only for its aborted connect */
}

/* Writes the rest of inflight, or swaps pending in. Lock held, state CONNECTED. */
static void peer_start_send(peer_t *p)
{
    const uint8_t *data;
    size_t len;
    if (!peer_next_write(p, &data, &len))
        return;
    nng_iov iov = {.iov_buf = (void *)data, .iov_len = len};
    nng_aio_set_iov(p->e.nng.send_aio, 1, &iov);
    p->e.nng.send_busy = true;
    nng_stream_send(p->e.nng.stream, p->e.nng.send_aio);
}

static void on_peer_send(void *arg)
{
    peer_t *p = arg;
    pthread_mutex_lock(&p->lock);
    p->e.nng.send_busy = false;
    int rv = nng_aio_result(p->e.nng.send_aio);
    if (p->state == PEER_CONNECTED && rv != 0) {
        peer_break(p, "write failed", rv);
    } else if (p->state == PEER_CONNECTED) {
        peer_wrote(p, nng_aio_count(p->e.nng.send_aio));
        peer_start_send(p);
    } else {
        peer_maybe_idle(p);
        flush_progress();
    }
    pthread_mutex_unlock(&p->lock);
}

static void on_peer_recv(void *arg)
{
    peer_t *p = arg;
    pthread_mutex_lock(&p->lock);
    p->e.nng.recv_busy = false;
    int rv = nng_aio_result(p->e.nng.recv_aio);
    if (p->state == PEER_CONNECTED && rv == 0)
        peer_start_recv(p); /* peers never write here; ignore stray bytes */
    else if (p->state == PEER_CONNECTED)
        peer_break(p, "closed by peer", rv);
    else
        peer_maybe_idle(p);
    pthread_mutex_unlock(&p->lock);
}

static void engine_wake(peer_t *p)
{
    if (p->state == PEER_IDLE)
        peer_start_dial(p);
    else if (p->state == PEER_CONNECTED && !p->e.nng.send_busy)
        peer_start_send(p);
}

static void engine_relink(peer_t *p)
{
    switch (p->state) {
    case PEER_IDLE:
        peer_start_dial(p);
        break;
    case PEER_CONNECTING:
        p->e.nng.redial = true;
        nng_stream_dialer_close(p->e.nng.dialer);
        break;
    case PEER_CONNECTED:
        p->state = PEER_CLOSING;
        nng_stream_close(p->e.nng.stream);
        peer_drop_inflight(p);
        peer_maybe_idle(p); /* redials once the stream's operations are done: a link waits */
        break;
    case PEER_CLOSING:
        break; /* a new stream is dialled once the old one's operations are done */
    }
}

/* ---- incoming ---- */

static void in_conn_destroy(in_conn_t *c, bool from_own_callback)
{
    nng_stream_free(c->stream);
    if (from_own_callback)
        nng_aio_reap(c->recv_aio); /* nng_aio_free would wait for this very callback */
    else
        nng_aio_free(c->recv_aio);
    in_decoder_fini(&c->in);
    free(c->buf);
    free(c);
}

/* Called from the stream's receive callback when it ends. While the transport stops, the
 * stream belongs to engine_stop, which frees it after stopping its operation. */
static void in_conn_free(in_conn_t *c)
{
    pthread_mutex_lock(&ng.lock);
    bool stopping = transport_is_stopping();
    if (!stopping) {
        if (c->prev != NULL)
            c->prev->next = c->next;
        else if (ng.conns == c)
            ng.conns = c->next;
        if (c->next != NULL)
            c->next->prev = c->prev;
    }
    pthread_mutex_unlock(&ng.lock);
    if (!stopping)
        in_conn_destroy(c, true);
}

static void in_conn_start_recv(in_conn_t *c)
{
    nng_iov iov = {.iov_buf = c->buf, .iov_len = RECV_CHUNK};
    nng_aio_set_iov(c->recv_aio, 1, &iov);
    nng_stream_recv(c->stream, c->recv_aio);
}

static void on_in_recv(void *arg)
{
    in_conn_t *c = arg;
    int rv = nng_aio_result(c->recv_aio);
    if (rv != 0) {
        in_decoder_ended(&c->in);
        in_conn_free(c);
        return;
    }
    if (!in_decoder_feed(&c->in, c->buf, nng_aio_count(c->recv_aio))) {
        in_conn_free(c);
        return;
    }
    pthread_mutex_lock(&ng.lock);
    bool stopping = transport_is_stopping();
    pthread_mutex_unlock(&ng.lock);
    if (!stopping) /* else engine_stop owns the stream and frees it */
        in_conn_start_recv(c);
}

static void describe_remote(nng_stream *s, char *buf, size_t len)
{
    nng_sockaddr sa;
    if (nng_stream_get_addr(s, NNG_OPT_REMADDR, &sa) == 0 && sa.s_family == NNG_AF_INET) {
        uint32_t ip = ntohl(sa.s_in.sa_addr);
        snprintf(buf, len, "%u.%u.%u.%u:%u", ip >> 24, (ip >> 16) & 0xff, (ip >> 8) & 0xff,
                 ip & 0xff, ntohs(sa.s_in.sa_port));
    } else {
        snprintf(buf, len, "a peer");
    }
}

/* After a failed accept (out of file descriptors, say), the listener waits a little and tries
 * again, rather than going deaf for good or spinning. */
static bool accept_failed(int rv)
{
    if (rv == NNG_ECLOSED || rv == NNG_ECANCELED || transport_is_stopping())
        return true; /* listener closed: nothing more to accept */
    transport_warn_accept(nng_strerror(rv));
    ng.accept_backing_off = true;
    nng_sleep_aio(100, ng.accept_aio);
    return true;
}

static void on_accept(void *unused)
{
    (void)unused;
    int rv = nng_aio_result(ng.accept_aio);
    if (ng.accept_backing_off) {
        ng.accept_backing_off = false;
        if (rv == 0 && !transport_is_stopping())
            nng_stream_listener_accept(ng.listener, ng.accept_aio);
        return;
    }
    if (rv != 0 && accept_failed(rv))
        return;
    nng_stream *s = nng_aio_get_output(ng.accept_aio, 0);
    in_conn_t *c = calloc(1, sizeof(*c));
    if (c == NULL || (c->buf = malloc(RECV_CHUNK)) == NULL ||
        nng_aio_alloc(&c->recv_aio, on_in_recv, c) != 0) {
        LOG_ERROR("Out of memory accepting a connection");
        nng_stream_free(s);
        if (c != NULL)
            free(c->buf);
        free(c);
    } else {
        c->stream = s;
        char remote[64];
        describe_remote(s, remote, sizeof(remote));
        in_decoder_init(&c->in, remote);
        pthread_mutex_lock(&ng.lock);
        bool stopping = transport_is_stopping();
        if (!stopping) {
            c->next = ng.conns;
            if (ng.conns != NULL)
                ng.conns->prev = c;
            ng.conns = c;
        }
        pthread_mutex_unlock(&ng.lock);
        if (stopping) {
            in_conn_destroy(c, false);
            return;
        }
        in_conn_start_recv(c);
    }
    nng_stream_listener_accept(ng.listener, ng.accept_aio);
}

/* ---- lifecycle ---- */

static actor_err_t engine_listen(const char *bind_ip, uint32_t advertised_ip, uint16_t port,
                                 uint16_t *bound)
{
    (void)advertised_ip;
    char url[64];
    snprintf(url, sizeof(url), "tcp://%s:%u", bind_ip, port);
    int rv = nng_stream_listener_alloc(&ng.listener, url);
    if (rv != 0)
        return ACTOR_EINVAL;
    rv = nng_stream_listener_listen(ng.listener);
    if (rv != 0) {
        LOG_ERROR("Failed to listen on %s: %s", url, nng_strerror(rv));
        nng_stream_listener_free(ng.listener);
        return rv == NNG_EADDRINUSE ? ACTOR_EADDRINUSE : ACTOR_ESYSTEM;
    }
    int p = 0;
    nng_stream_listener_get_int(ng.listener, NNG_OPT_TCP_BOUND_PORT, &p);
    *bound = (uint16_t)p;
    ng.accept_backing_off = false;
    if (nng_aio_alloc(&ng.accept_aio, on_accept, NULL) != 0) {
        nng_stream_listener_free(ng.listener);
        return ACTOR_ENOMEM;
    }
    nng_stream_listener_accept(ng.listener, ng.accept_aio);
    return ACTOR_OK;
}

static void peer_stop(peer_t *p)
{
    peer_nng_t *n = &p->e.nng;
    nng_aio_stop(n->dial_aio);
    if (n->stream != NULL)
        nng_stream_close(n->stream);
    nng_aio_stop(n->send_aio);
    nng_aio_stop(n->recv_aio);
}

static void engine_stop(void)
{
    nng_stream_listener_close(ng.listener);
    nng_aio_stop(ng.accept_aio);
    nng_aio_free(ng.accept_aio);
    nng_stream_listener_free(ng.listener);

    /* Incoming streams: close, stop their receive (cancelling it and waiting for a callback in
     * progress, which leaves the stream alone now), free. */
    pthread_mutex_lock(&ng.lock);
    in_conn_t *conns = ng.conns;
    ng.conns = NULL;
    pthread_mutex_unlock(&ng.lock);
    for (in_conn_t *c = conns; c != NULL; c = c->next)
        nng_stream_close(c->stream);
    while (conns != NULL) {
        in_conn_t *next = conns->next;
        nng_aio_stop(conns->recv_aio);
        in_conn_destroy(conns, false);
        conns = next;
    }
    transport_each_peer(peer_stop);
}

const transport_engine_t transport_nng_engine = {
    .name = "nng",
    .listen = engine_listen,
    .peer_init = engine_peer_init,
    .peer_fini = engine_peer_fini,
    .wake = engine_wake,
    .relink = engine_relink,
    .stop = engine_stop,
};
