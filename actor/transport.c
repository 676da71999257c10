/*
 * transport.c: outgoing streams to peers (one per peer process, with batching and links) and
 * incoming streams from them (decoded into mailboxes). See transport.h.
 *
 * Outgoing, per peer: IDLE -> (first send or link) dial -> CONNECTED -> (error) CLOSING ->
 * (its in-flight nng operations completed) IDLE. A peer keeps one dial, one send and one receive
 * aio for its whole life; the receive on an outgoing stream exists only to notice the stream
 * breaking, since peers never write on streams they accepted.
 *
 * A relink (transport_relink) makes the stream fresh, because a stream whose packets a partition
 * swallowed holds what it was given until the kernel's next retransmission, which backs off to
 * seconds, while a new stream delivers at once: CONNECTED -> CLOSING without a break (the links
 * stay, what was being written is dropped, the queue stays) -> IDLE -> dial at once, since links
 * wait. A dial in progress is stopped by closing its dialer and started again on a new dialer
 * (`redial`).
 *
 * All callbacks run on nng's threads. Peers live until transport_stop.
 *
 * Stopping flushes first: transport_stop waits, at most FLUSH_TIMEOUT_NS of real time, until
 * every peer's queue has been handed to the kernel (a stream that is closed gracefully keeps
 * delivering what its socket holds after the process exits), because the last messages of a
 * process (a scheduler's TEARDOWN) are sent just before it stops. A peer that cannot be reached
 * drops its queue when its dial fails, so only a peer that accepts but does not read (or a dial
 * that hangs) makes the flush wait for its bound. The wait is on a progress counter that every
 * write, dial and break bumps while a flush is under way.
 */
#include "actor/transport.h"

#include <arpa/inet.h>
#include <errno.h>
#include <nng/nng.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actor/actor_int.h"
#include "actor/filter.h"
#include "actor/frame.h"
#include "actor/growbuf.h"
#include "actor/log.h"

#define PEER_BACKLOG_MAX (256u << 20) /* bytes queued for one peer before sends are dropped */
#define RECV_CHUNK       (256u << 10)
#define FLUSH_TIMEOUT_NS (1000 * 1000 * 1000LL) /* transport_stop waits this long at most */

typedef struct outbuf {
    uint8_t *data;
    size_t len, cap;
    uint64_t count; /* messages in data */
} outbuf_t;

typedef enum peer_state { PEER_IDLE, PEER_CONNECTING, PEER_CONNECTED, PEER_CLOSING } peer_state_t;

typedef struct link {
    actor_pid_t linker, target;
} link_t;

typedef struct peer {
    uint64_t key; /* ip << 16 | port */
    char url[48];
    pthread_mutex_t lock; /* everything below */
    peer_state_t state;
    nng_stream_dialer *dialer;
    nng_stream *stream;
    nng_aio *dial_aio, *send_aio, *recv_aio;
    bool send_busy, recv_busy;
    bool redial; /* a relink closed the dialer of the dial in progress: dial again */
    outbuf_t pending, inflight;
    size_t inflight_done; /* bytes of inflight already written */
    uint8_t probe[64];    /* receive buffer of the break detector */
    link_t *links;
    size_t link_count, link_cap;
    bool warned; /* a failure to reach this peer was logged */
    UT_hash_handle hh;
} peer_t;

typedef struct in_conn {
    nng_stream *stream;
    nng_aio *recv_aio;
    uint8_t *buf;
    frame_decoder_t decoder;
    char remote[64]; /* for logs */
    bool warned;     /* bad input from this stream was logged */
    actor_pid_t from_cache;
    char from_text[FRAME_NAME_MAX + 1];
    struct in_conn *next, *prev;
} in_conn_t;

static struct {
    pthread_mutex_t lock; /* peers, conns */
    peer_t *peers;
    in_conn_t *conns;
    nng_stream_listener *listener;
    nng_aio *accept_aio;
    char self_suffix[32]; /* "@ip:port" of this process, for senders' PIDs */
    bool stopping;
    /* Flushing at stop: progress counts writes, dials and breaks while `flushing` is set. */
    pthread_mutex_t flush_lock; /* progress; taken after a peer's lock, never before */
    pthread_cond_t flush_cv;    /* on CLOCK_MONOTONIC */
    uint64_t progress;
    atomic_bool flushing;
} tp = {.lock = PTHREAD_MUTEX_INITIALIZER, .flush_lock = PTHREAD_MUTEX_INITIALIZER};

static void peer_start_dial(peer_t *p);
static void peer_start_send(peer_t *p);
static void in_conn_start_recv(in_conn_t *c);

/* ---- outgoing ---- */

/* Something changed on a peer's stream: wakes a flush waiting in transport_stop. */
static void flush_progress(void)
{
    if (!atomic_load_explicit(&tp.flushing, memory_order_acquire))
        return;
    pthread_mutex_lock(&tp.flush_lock);
    tp.progress++;
    pthread_cond_broadcast(&tp.flush_cv);
    pthread_mutex_unlock(&tp.flush_lock);
}

static bool outbuf_reserve(outbuf_t *b, size_t more)
{
    void *data = b->data;
    bool ok = growbuf_reserve(&data, &b->cap, b->len, more, 64 * 1024);
    b->data = data;
    return ok;
}

static void outbuf_drop(outbuf_t *b)
{
    atomic_fetch_add_explicit(&rt.stats.messages_dropped, b->count, memory_order_relaxed);
    b->len = 0;
    b->count = 0;
}

static void peer_free(peer_t *p)
{
    nng_aio_free(p->dial_aio);
    nng_aio_free(p->send_aio);
    nng_aio_free(p->recv_aio);
    if (p->stream != NULL)
        nng_stream_free(p->stream);
    nng_stream_dialer_free(p->dialer);
    free(p->pending.data);
    free(p->inflight.data);
    free(p->links);
    pthread_mutex_destroy(&p->lock);
    free(p);
}

static void on_dial(void *arg);
static void on_peer_send(void *arg);
static void on_peer_recv(void *arg);

static peer_t *peer_new(uint32_t ip, uint16_t port)
{
    peer_t *p = calloc(1, sizeof(*p));
    if (p == NULL)
        return NULL;
    p->key = (uint64_t)ip << 16 | port;
    snprintf(p->url, sizeof(p->url), "tcp://%u.%u.%u.%u:%u", ip >> 24, (ip >> 16) & 0xff,
             (ip >> 8) & 0xff, ip & 0xff, port);
    pthread_mutex_init(&p->lock, NULL);
    if (nng_stream_dialer_alloc(&p->dialer, p->url) != 0 ||
        nng_aio_alloc(&p->dial_aio, on_dial, p) != 0 ||
        nng_aio_alloc(&p->send_aio, on_peer_send, p) != 0 ||
        nng_aio_alloc(&p->recv_aio, on_peer_recv, p) != 0) {
        peer_free(p);
        return NULL;
    }
    return p;
}

/* Finds or creates the peer of `to`. Errors: ACTOR_ECLOSED when stopping, ACTOR_ENOMEM. */
static actor_err_t peer_find(const actor_pid_t *to, peer_t **out)
{
    uint64_t key = (uint64_t)to->ip << 16 | to->port;
    peer_t *p = NULL;
    actor_err_t err = ACTOR_ECLOSED;
    pthread_mutex_lock(&tp.lock);
    if (!tp.stopping) {
        HASH_FIND(hh, tp.peers, &key, sizeof(key), p);
        if (p == NULL && (p = peer_new(to->ip, to->port)) != NULL)
            HASH_ADD(hh, tp.peers, key, sizeof(p->key), p);
        err = p != NULL ? ACTOR_OK : ACTOR_ENOMEM;
    }
    pthread_mutex_unlock(&tp.lock);
    *out = p;
    return err;
}

/* peer_find for callers that treat both errors alike: NULL when out of memory or stopping. */
static peer_t *peer_get(const actor_pid_t *to)
{
    peer_t *p;
    peer_find(to, &p);
    return p;
}

/* Tells every linker through this peer, and forgets the links. Called with p->lock held. */
static void peer_notify_links(peer_t *p)
{
    for (size_t i = 0; i < p->link_count; i++)
        deliver_exited(&p->links[i].linker, &p->links[i].target);
    p->link_count = 0;
}

/* Frees a closed stream once no operation uses it; redials if messages wait. Lock held. */
static void peer_maybe_idle(peer_t *p)
{
    if (p->state != PEER_CLOSING || p->send_busy || p->recv_busy)
        return;
    nng_stream_free(p->stream);
    p->stream = NULL;
    p->state = PEER_IDLE;
    if ((p->pending.len > 0 || p->link_count > 0) && !tp.stopping)
        peer_start_dial(p);
}

/* The stream failed: drop what was queued, tell the linkers. Lock held. */
static void peer_break(peer_t *p, const char *why, int rv)
{
    if (p->state != PEER_CONNECTED)
        return;
    if (!tp.stopping)
        LOG_WARNING("Lost the connection to %s: %s (%s)", p->url, why, nng_strerror(rv));
    p->state = PEER_CLOSING;
    nng_stream_close(p->stream);
    outbuf_drop(&p->inflight);
    p->inflight_done = 0; /* the next stream starts from an empty write */
    outbuf_drop(&p->pending);
    peer_notify_links(p);
    peer_maybe_idle(p);
    flush_progress();
}

static void peer_start_dial(peer_t *p)
{
    p->state = PEER_CONNECTING;
    nng_stream_dialer_dial(p->dialer, p->dial_aio);
}

static void peer_start_recv(peer_t *p)
{
    nng_iov iov = {.iov_buf = p->probe, .iov_len = sizeof(p->probe)};
    nng_aio_set_iov(p->recv_aio, 1, &iov);
    p->recv_busy = true;
    nng_stream_recv(p->stream, p->recv_aio);
}

/* Puts the preamble in front of whatever was queued while dialling. */
static bool prepend_preamble(outbuf_t *b)
{
    if (!outbuf_reserve(b, FRAME_PREAMBLE_LEN))
        return false;
    memmove(b->data + FRAME_PREAMBLE_LEN, b->data, b->len);
    memcpy(b->data, FRAME_PREAMBLE, FRAME_PREAMBLE_LEN);
    b->len += FRAME_PREAMBLE_LEN;
    return true;
}

/* Puts a new dialer in place of the one a relink closed. Returns the closed one, for the caller
 * to free once it has released the lock, or NULL when no dialer could be made (the closed one
 * stays: the next dial fails with NNG_ECLOSED and on_dial tries again). Lock held. */
static nng_stream_dialer *dialer_renew(peer_t *p)
{
    nng_stream_dialer *fresh;
    if (nng_stream_dialer_alloc(&fresh, p->url) != 0)
        return NULL;
    nng_stream_dialer *closed = p->dialer;
    p->dialer = fresh;
    return closed;
}

static void on_dial(void *arg)
{
    peer_t *p = arg;
    nng_stream_dialer *closed = NULL;
    pthread_mutex_lock(&p->lock);
    int rv = nng_aio_result(p->dial_aio);
    if ((p->redial || rv == NNG_ECLOSED) && !tp.stopping)
        closed = dialer_renew(p);
    bool redial = p->redial && closed != NULL;
    p->redial = false;
    if (rv != 0 && redial) {
        peer_start_dial(p); /* a relink stopped this dial: the queue and links wait */
    } else if (rv == 0 && !tp.stopping && prepend_preamble(&p->pending)) {
        p->stream = nng_aio_get_output(p->dial_aio, 0);
        nng_stream_set_bool(p->stream, NNG_OPT_TCP_NODELAY, true);
        p->state = PEER_CONNECTED;
        p->warned = false;
        peer_start_recv(p);
        peer_start_send(p);
    } else {
        if (rv == 0)
            nng_stream_free(nng_aio_get_output(p->dial_aio, 0));
        if (!p->warned && !tp.stopping)
            LOG_WARNING("Failed to connect to %s: %s", p->url, rv ? nng_strerror(rv) : "stopping");
        p->warned = true;
        p->state = PEER_IDLE;
        outbuf_drop(&p->pending);
        peer_notify_links(p);
    }
    flush_progress();
    pthread_mutex_unlock(&p->lock);
    if (closed != NULL)
        nng_stream_dialer_free(closed); /* waits only for its aborted connect */
}

/* Writes the rest of inflight, or swaps pending in. Lock held, state CONNECTED. */
static void peer_start_send(peer_t *p)
{
    if (p->inflight_done == p->inflight.len) {
        if (p->pending.len == 0)
            return;
        outbuf_t t = p->inflight;
        p->inflight = p->pending;
        p->pending = t;
        p->pending.len = 0;
        p->pending.count = 0;
        p->inflight_done = 0;
    }
    nng_iov iov = {.iov_buf = p->inflight.data + p->inflight_done,
                   .iov_len = p->inflight.len - p->inflight_done};
    nng_aio_set_iov(p->send_aio, 1, &iov);
    p->send_busy = true;
    nng_stream_send(p->stream, p->send_aio);
}

static void on_peer_send(void *arg)
{
    peer_t *p = arg;
    pthread_mutex_lock(&p->lock);
    p->send_busy = false;
    int rv = nng_aio_result(p->send_aio);
    if (p->state == PEER_CONNECTED && rv != 0) {
        peer_break(p, "write failed", rv);
    } else if (p->state == PEER_CONNECTED) {
        p->inflight_done += nng_aio_count(p->send_aio);
        if (p->inflight_done == p->inflight.len) {
            atomic_fetch_add_explicit(&rt.stats.remote_sent, p->inflight.count,
                                      memory_order_relaxed);
            p->inflight.count = 0;
        }
        peer_start_send(p);
    } else {
        peer_maybe_idle(p);
    }
    flush_progress();
    pthread_mutex_unlock(&p->lock);
}

static void on_peer_recv(void *arg)
{
    peer_t *p = arg;
    pthread_mutex_lock(&p->lock);
    p->recv_busy = false;
    int rv = nng_aio_result(p->recv_aio);
    if (p->state == PEER_CONNECTED && rv == 0)
        peer_start_recv(p); /* peers never write here; ignore stray bytes */
    else if (p->state == PEER_CONNECTED)
        peer_break(p, "closed by peer", rv);
    else
        peer_maybe_idle(p);
    pthread_mutex_unlock(&p->lock);
}

/* Writes the sender's PID text: local senders get the cached "@ip:port" suffix. */
static size_t format_from(const actor_pid_t *from, char *buf, size_t len)
{
    if (from->id[0] == '\0')
        return (size_t)snprintf(buf, len, "anonymous%s", tp.self_suffix);
    if (from->ip == rt.ip && from->port == rt.port)
        return (size_t)snprintf(buf, len, "%s%s", from->id, tp.self_suffix);
    actor_pid_format(from, buf, len);
    return strlen(buf);
}

/* Appends one record to the peer's queue and starts what must start. The payload is written by
 * pack (msg) or copied from data. */
static actor_err_t enqueue(const actor_pid_t *from, const actor_pid_t *to, const char *type,
                           const ProtobufCMessage *msg, const void *data, size_t len)
{
    char from_text[ACTOR_PID_STRLEN + 16];
    size_t from_len = format_from(from, from_text, sizeof(from_text));
    size_t to_len = strlen(to->id), type_len = strlen(type);
    if (type_len == 0 || type_len > FRAME_NAME_MAX || to_len == 0)
        return ACTOR_EINVAL;
    peer_t *p = peer_get(to);
    if (p == NULL)
        return ACTOR_ENOMEM;
    size_t size = frame_record_size(from_len, to_len, type_len, len);

    pthread_mutex_lock(&p->lock);
    if (p->pending.len + size > PEER_BACKLOG_MAX || !outbuf_reserve(&p->pending, size)) {
        pthread_mutex_unlock(&p->lock);
        atomic_fetch_add_explicit(&rt.stats.messages_dropped, 1, memory_order_relaxed);
        return ACTOR_OK; /* the peer is not keeping up: at-most-once allows dropping */
    }
    uint8_t *out = p->pending.data + p->pending.len;
    uint8_t *payload =
        frame_record_write_header(out, from_text, from_len, to->id, to_len, type, type_len, len);
    if (msg != NULL)
        protobuf_c_message_pack(msg, payload);
    else
        memcpy(payload, data, len);
    p->pending.len += size;
    p->pending.count++;
    if (p->state == PEER_IDLE)
        peer_start_dial(p);
    else if (p->state == PEER_CONNECTED && !p->send_busy)
        peer_start_send(p);
    pthread_mutex_unlock(&p->lock);
    return ACTOR_OK;
}

actor_err_t transport_send_message(const actor_pid_t *from, const actor_pid_t *to,
                                   const ProtobufCMessage *msg, size_t packed_len)
{
    return enqueue(from, to, msg->descriptor->name, msg, NULL, packed_len);
}

actor_err_t transport_send_packed(const actor_pid_t *from, const actor_pid_t *to,
                                  const char *type_name, const void *data, size_t len)
{
    return enqueue(from, to, type_name, NULL, data, len);
}

/* Records the link linker -> to on p (unless `once` and it is there already). Lock held.
 * Returns false when out of memory. */
static bool peer_link_add(peer_t *p, const actor_pid_t *linker, const actor_pid_t *to, bool once)
{
    for (size_t i = 0; once && i < p->link_count; i++) {
        if (pid_same_actor(&p->links[i].linker, linker) && actor_pid_equal(&p->links[i].target, to))
            return true;
    }
    if (p->link_count == p->link_cap) {
        size_t cap = p->link_cap ? p->link_cap * 2 : 4;
        link_t *grown = realloc(p->links, cap * sizeof(*grown));
        if (grown == NULL)
            return false;
        p->links = grown;
        p->link_cap = cap;
    }
    p->links[p->link_count++] = (link_t){.linker = *linker, .target = *to};
    return true;
}

void transport_link(const actor_pid_t *linker, const actor_pid_t *to)
{
    peer_t *p = peer_get(to);
    if (p == NULL) {
        deliver_exited(linker, to);
        return;
    }
    pthread_mutex_lock(&p->lock);
    bool ok = peer_link_add(p, linker, to, false);
    if (ok && p->state == PEER_IDLE)
        peer_start_dial(p);
    pthread_mutex_unlock(&p->lock);
    if (!ok)
        deliver_exited(linker, to);
}

/* Closes a connected stream for a relink: unlike peer_break, the links stay (they ride on the
 * next stream) and the queue stays; only what was handed to the stream is dropped. Lock held. */
static void peer_reconnect(peer_t *p)
{
    p->state = PEER_CLOSING;
    nng_stream_close(p->stream);
    outbuf_drop(&p->inflight);
    p->inflight_done = 0;
    peer_maybe_idle(p); /* redials once the stream's operations are done: a link waits */
    flush_progress();
}

actor_err_t transport_relink(const actor_pid_t *linker, const actor_pid_t *to)
{
    peer_t *p;
    actor_err_t err = peer_find(to, &p);
    if (err != ACTOR_OK)
        return err;
    pthread_mutex_lock(&p->lock);
    if (!peer_link_add(p, linker, to, true)) {
        pthread_mutex_unlock(&p->lock);
        return ACTOR_ENOMEM;
    }
    switch (p->state) {
    case PEER_IDLE:
        peer_start_dial(p);
        break;
    case PEER_CONNECTING:
        /* Not nng_aio_cancel: nng's dialer would hand a dial started right after to the
         * cancelled connect's completion, which fails it. Closing the dialer fails this dial,
         * and on_dial dials again on a new dialer. */
        p->redial = true;
        nng_stream_dialer_close(p->dialer);
        break;
    case PEER_CONNECTED:
        peer_reconnect(p);
        break;
    case PEER_CLOSING:
        break; /* a new stream is dialled once the old one's operations are done */
    }
    pthread_mutex_unlock(&p->lock);
    return ACTOR_OK;
}

/* ---- incoming ---- */

static void in_conn_destroy(in_conn_t *c, bool from_own_callback)
{
    nng_stream_free(c->stream);
    if (from_own_callback)
        nng_aio_reap(c->recv_aio); /* nng_aio_free would wait for this very callback */
    else
        nng_aio_free(c->recv_aio);
    frame_decoder_fini(&c->decoder);
    free(c->buf);
    free(c);
}

/* Called from the stream's receive callback when it ends. While the transport stops, the
 * stream belongs to transport_stop, which frees it after stopping its operation. */
static void in_conn_free(in_conn_t *c)
{
    pthread_mutex_lock(&tp.lock);
    bool stopping = tp.stopping;
    if (!stopping) {
        if (c->prev != NULL)
            c->prev->next = c->next;
        else if (tp.conns == c)
            tp.conns = c->next;
        if (c->next != NULL)
            c->next->prev = c->prev;
    }
    pthread_mutex_unlock(&tp.lock);
    if (!stopping)
        in_conn_destroy(c, true);
}

static void bad_input(in_conn_t *c, const char *what)
{
    atomic_fetch_add_explicit(&rt.stats.remote_bad_messages, 1, memory_order_relaxed);
    if (!c->warned)
        LOG_WARNING("Dropping %s from %s (further bad input from it is only counted)", what,
                    c->remote);
    c->warned = true;
}

/* Parses the sender's PID, reusing the previous record's when the text is the same. */
static bool sender_pid(in_conn_t *c, const frame_record_t *r)
{
    if (strlen(c->from_text) == r->from_len && memcmp(c->from_text, r->from, r->from_len) == 0)
        return true;
    char text[FRAME_NAME_MAX + 1];
    memcpy(text, r->from, r->from_len);
    text[r->from_len] = '\0';
    if (actor_pid_parse(text, &c->from_cache) != ACTOR_OK)
        return false;
    memcpy(c->from_text, text, r->from_len + 1);
    return true;
}

static void on_record(const frame_record_t *r, void *arg)
{
    in_conn_t *c = arg;
    if (r->to_len >= ACTOR_ID_MAX || !sender_pid(c, r)) {
        bad_input(c, "a message with a malformed sender or receiver");
        return;
    }
    atomic_fetch_add_explicit(&rt.stats.remote_received, 1, memory_order_relaxed);
    envelope_t *e = envelope_new(ENVELOPE_MESSAGE, r->payload_len, r->type_len + 1);
    if (e == NULL) {
        atomic_fetch_add_explicit(&rt.stats.messages_dropped, 1, memory_order_relaxed);
        return;
    }
    e->from = c->from_cache;
    memcpy(e->data, r->payload, r->payload_len);
    memcpy(e->data + r->payload_len, r->type, r->type_len);
    e->data[r->payload_len + r->type_len] = '\0';
    e->type_name = (const char *)e->data + r->payload_len;

    actor_pid_t to = {.ip = rt.ip, .port = rt.port};
    memcpy(to.id, r->to, r->to_len);
    to.id[r->to_len] = '\0';
    if (filter_active() && filter_apply(&to, e))
        return;
    deliver_to_pid(&to, e);
}

static void on_in_recv(void *arg)
{
    in_conn_t *c = arg;
    int rv = nng_aio_result(c->recv_aio);
    if (rv != 0) {
        if (frame_decoder_partial(&c->decoder) && !tp.stopping)
            bad_input(c, "a truncated message");
        in_conn_free(c);
        return;
    }
    uint64_t oversized = c->decoder.oversized;
    actor_err_t err =
        frame_decoder_feed(&c->decoder, c->buf, nng_aio_count(c->recv_aio), on_record, c);
    if (c->decoder.oversized != oversized)
        bad_input(c, "a message over the size limit");
    if (err != ACTOR_OK) {
        bad_input(c, err == ACTOR_EPROTO ? "garbage" : "input it had no memory for");
        in_conn_free(c);
        return;
    }
    pthread_mutex_lock(&tp.lock);
    bool stopping = tp.stopping;
    pthread_mutex_unlock(&tp.lock);
    if (!stopping) /* else transport_stop owns the stream and frees it */
        in_conn_start_recv(c);
}

static void in_conn_start_recv(in_conn_t *c)
{
    nng_iov iov = {.iov_buf = c->buf, .iov_len = RECV_CHUNK};
    nng_aio_set_iov(c->recv_aio, 1, &iov);
    nng_stream_recv(c->stream, c->recv_aio);
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
static bool accept_backing_off;

static bool accept_failed(int rv)
{
    if (rv == NNG_ECLOSED || rv == NNG_ECANCELED || tp.stopping)
        return true; /* listener closed: nothing more to accept */
    static bool warned;
    if (!warned)
        LOG_WARNING("Failed to accept a connection on the actor port: %s (retrying)",
                    nng_strerror(rv));
    warned = true;
    accept_backing_off = true;
    nng_sleep_aio(100, tp.accept_aio);
    return true;
}

static void on_accept(void *unused)
{
    (void)unused;
    int rv = nng_aio_result(tp.accept_aio);
    if (accept_backing_off) {
        accept_backing_off = false;
        if (rv == 0 && !tp.stopping)
            nng_stream_listener_accept(tp.listener, tp.accept_aio);
        return;
    }
    if (rv != 0 && accept_failed(rv))
        return;
    nng_stream *s = nng_aio_get_output(tp.accept_aio, 0);
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
        describe_remote(s, c->remote, sizeof(c->remote));
        frame_decoder_init(&c->decoder, rt.opts.max_message_bytes + 3 * FRAME_NAME_MAX + 3);
        pthread_mutex_lock(&tp.lock);
        bool stopping = tp.stopping;
        if (!stopping) {
            c->next = tp.conns;
            if (tp.conns != NULL)
                tp.conns->prev = c;
            tp.conns = c;
        }
        pthread_mutex_unlock(&tp.lock);
        if (stopping) {
            in_conn_destroy(c, false);
            return;
        }
        in_conn_start_recv(c);
    }
    nng_stream_listener_accept(tp.listener, tp.accept_aio);
}

/* ---- lifecycle ---- */

static actor_err_t listen_on(const char *bind_ip, uint16_t port, uint16_t *bound)
{
    char url[64];
    snprintf(url, sizeof(url), "tcp://%s:%u", bind_ip, port);
    int rv = nng_stream_listener_alloc(&tp.listener, url);
    if (rv != 0)
        return ACTOR_EINVAL;
    rv = nng_stream_listener_listen(tp.listener);
    if (rv != 0) {
        LOG_ERROR("Failed to listen on %s: %s", url, nng_strerror(rv));
        nng_stream_listener_free(tp.listener);
        return rv == NNG_EADDRINUSE ? ACTOR_EADDRINUSE : ACTOR_ESYSTEM;
    }
    int p = 0;
    nng_stream_listener_get_int(tp.listener, NNG_OPT_TCP_BOUND_PORT, &p);
    *bound = (uint16_t)p;
    return ACTOR_OK;
}

actor_err_t transport_start(const char *bind_ip, const char *advertise_ip, uint16_t port,
                            uint32_t *ip, uint16_t *bound_port)
{
    const char *shown = advertise_ip                      ? advertise_ip
                        : strcmp(bind_ip, "0.0.0.0") == 0 ? "127.0.0.1"
                                                          : bind_ip;
    struct in_addr addr;
    if (inet_pton(AF_INET, shown, &addr) != 1 || inet_pton(AF_INET, bind_ip, &addr) != 1) {
        LOG_ERROR("Invalid actor address '%s'", shown);
        return ACTOR_EINVAL;
    }
    inet_pton(AF_INET, shown, &addr);
    tp.stopping = false;
    actor_err_t err = listen_on(bind_ip, port, bound_port);
    if (err != ACTOR_OK)
        return err;
    if (nng_aio_alloc(&tp.accept_aio, on_accept, NULL) != 0) {
        nng_stream_listener_free(tp.listener);
        return ACTOR_ENOMEM;
    }
    *ip = ntohl(addr.s_addr);
    snprintf(tp.self_suffix, sizeof(tp.self_suffix), "@%s:%u", shown, *bound_port);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&tp.flush_cv, &attr);
    pthread_condattr_destroy(&attr);
    nng_stream_listener_accept(tp.listener, tp.accept_aio);
    return ACTOR_OK;
}

/* Whether some peer still has bytes that were not handed to the kernel. With log set, says which
 * (the flush is giving up on them). */
static bool peers_busy(bool log)
{
    bool busy = false;
    pthread_mutex_lock(&tp.lock);
    for (peer_t *p = tp.peers; p != NULL && (log || !busy); p = p->hh.next) {
        pthread_mutex_lock(&p->lock);
        size_t left = p->pending.len;
        if (p->state == PEER_CONNECTED)
            left += p->inflight.len - p->inflight_done;
        if (left > 0 && log)
            LOG_WARNING("Dropping %zu bytes queued for %s: not written within %lld ms of stopping",
                        left, p->url, FLUSH_TIMEOUT_NS / 1000000);
        busy = busy || left > 0;
        pthread_mutex_unlock(&p->lock);
    }
    pthread_mutex_unlock(&tp.lock);
    return busy;
}

/* Waits until every peer's queue is written, or FLUSH_TIMEOUT_NS of real time passed. */
static void flush_peers(void)
{
    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    int64_t ns = deadline.tv_nsec + FLUSH_TIMEOUT_NS;
    deadline.tv_sec += (time_t)(ns / 1000000000);
    deadline.tv_nsec = (long)(ns % 1000000000);
    atomic_store_explicit(&tp.flushing, true, memory_order_release);
    int rc = 0;
    while (rc == 0) {
        pthread_mutex_lock(&tp.flush_lock);
        uint64_t seen = tp.progress;
        pthread_mutex_unlock(&tp.flush_lock);
        if (!peers_busy(false))
            break;
        pthread_mutex_lock(&tp.flush_lock);
        while (tp.progress == seen && rc == 0)
            rc = pthread_cond_timedwait(&tp.flush_cv, &tp.flush_lock, &deadline);
        pthread_mutex_unlock(&tp.flush_lock);
    }
    if (rc == ETIMEDOUT)
        peers_busy(true);
    atomic_store_explicit(&tp.flushing, false, memory_order_release);
}

void transport_stop(void)
{
    flush_peers();
    pthread_mutex_lock(&tp.lock);
    tp.stopping = true;
    pthread_mutex_unlock(&tp.lock);

    nng_stream_listener_close(tp.listener);
    nng_aio_stop(tp.accept_aio);
    nng_aio_free(tp.accept_aio);
    nng_stream_listener_free(tp.listener);

    /* Incoming streams: close, stop their receive (cancelling it and waiting for a callback in
     * progress, which leaves the stream alone now), free. */
    pthread_mutex_lock(&tp.lock);
    in_conn_t *conns = tp.conns;
    tp.conns = NULL;
    pthread_mutex_unlock(&tp.lock);
    for (in_conn_t *c = conns; c != NULL; c = c->next)
        nng_stream_close(c->stream);
    while (conns != NULL) {
        in_conn_t *next = conns->next;
        nng_aio_stop(conns->recv_aio);
        in_conn_destroy(conns, false);
        conns = next;
    }

    peer_t *p, *tmp;
    HASH_ITER(hh, tp.peers, p, tmp)
    {
        HASH_DEL(tp.peers, p);
        nng_aio_stop(p->dial_aio);
        if (p->stream != NULL)
            nng_stream_close(p->stream);
        nng_aio_stop(p->send_aio);
        nng_aio_stop(p->recv_aio);
        peer_free(p);
    }
    pthread_cond_destroy(&tp.flush_cv);
}
