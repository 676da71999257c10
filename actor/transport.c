/*
 * transport.c: what does not depend on how bytes move: the peers (one per peer process) with
 * their queues, batching and links, the decoding of incoming streams into mailboxes, and the
 * flush at stop. An engine (transport_int.h) moves the bytes. See transport.h.
 *
 * Outgoing, per peer: IDLE -> (first send or link) dial -> CONNECTED -> (error) CLOSING ->
 * (the engine released the stream) IDLE. Messages queued while a write is in flight go out
 * together in the next one (`pending` swaps into `inflight`).
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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actor/actor_int.h"
#include "actor/filter.h"
#include "actor/growbuf.h"
#include "actor/log.h"
#include "actor/transport_int.h"

#define PEER_BACKLOG_MAX (256u << 20) /* bytes queued for one peer before sends are dropped */
#define FLUSH_TIMEOUT_NS (1000 * 1000 * 1000LL) /* transport_stop waits this long at most */

static struct {
    const transport_engine_t *engine;
    /* Held for reading by every call that finds a peer and uses it (a send, a link), for writing
     * by transport_stop while it sets `stopping`: once it is set, no caller can still be using a
     * peer that the stop frees (a send from a plain thread, racing with the stop) or be about
     * to hand an engine work for it. Writers first, so that a stream of sends cannot hold the
     * stop off. Static, never destroyed: a late send after the stop finds `stopping` set. */
    pthread_rwlock_t gate;
    pthread_mutex_t lock; /* peers; stopping changes under it */
    peer_t *peers;
    char self_suffix[32]; /* "@ip:port" of this process, for senders' PIDs */
    atomic_bool stopping; /* read without the lock: engines read it under a peer's lock */
    /* Flushing at stop: progress counts writes, dials and breaks while `flushing` is set. */
    pthread_mutex_t flush_lock; /* progress; taken after a peer's lock, never before */
    pthread_cond_t flush_cv;    /* on CLOCK_MONOTONIC */
    uint64_t progress;
    atomic_bool flushing;
} tp = {.gate = PTHREAD_RWLOCK_WRITER_NONRECURSIVE_INITIALIZER_NP,
        .lock = PTHREAD_MUTEX_INITIALIZER,
        .flush_lock = PTHREAD_MUTEX_INITIALIZER};

bool transport_is_stopping(void)
{
    return atomic_load(&tp.stopping);
}

void transport_each_peer(void (*fn)(peer_t *p))
{
    for (peer_t *p = tp.peers; p != NULL; p = p->hh.next)
        fn(p);
}

/* ---- outgoing ---- */

void flush_progress(void)
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
    if (tp.engine->peer_fini != NULL)
        tp.engine->peer_fini(p);
    free(p->pending.data);
    free(p->inflight.data);
    free(p->links);
    pthread_mutex_destroy(&p->lock);
    free(p);
}

static peer_t *peer_new(uint32_t ip, uint16_t port)
{
    peer_t *p = calloc(1, sizeof(*p));
    if (p == NULL)
        return NULL;
    p->key = (uint64_t)ip << 16 | port;
    p->ip = ip;
    p->port = port;
    snprintf(p->url, sizeof(p->url), "tcp://%u.%u.%u.%u:%u", ip >> 24, (ip >> 16) & 0xff,
             (ip >> 8) & 0xff, ip & 0xff, port);
    pthread_mutex_init(&p->lock, NULL);
    if (!tp.engine->peer_init(p)) {
        pthread_mutex_destroy(&p->lock);
        free(p);
        return NULL;
    }
    return p;
}

/* Finds or creates the peer of `to`, which the caller holds until peer_release. Errors:
 * ACTOR_ECLOSED when stopping, ACTOR_ENOMEM. */
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
        if (p != NULL)
            atomic_fetch_add_explicit(&p->refs, 1, memory_order_relaxed);
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

/* The caller is done with p (its lock released): from now on a sweep may free it. */
static void peer_release(peer_t *p)
{
    atomic_fetch_sub_explicit(&p->refs, 1, memory_order_release);
}

/* Idle: nothing for it to do, and nobody and nothing holding it. Both locks held. */
static bool peer_idle(const peer_t *p)
{
    return atomic_load_explicit(&p->refs, memory_order_acquire) == 0 && p->state == PEER_IDLE &&
           p->pending.len == 0 && p->inflight_done == p->inflight.len && p->link_count == 0 &&
           tp.engine->peer_idle(p);
}

void transport_sweep_idle_peers(void)
{
    if (tp.engine->peer_idle == NULL)
        return;
    pthread_mutex_lock(&tp.lock);
    peer_t *p, *tmp;
    HASH_ITER(hh, tp.peers, p, tmp)
    {
        if (tp.stopping)
            break;
        /* New holders take the table's lock, which is ours: a count of 0 stays 0. */
        if (pthread_mutex_trylock(&p->lock) != 0)
            continue; /* busy: not idle */
        bool idle = peer_idle(p);
        bool reap = idle && p->idle_at_last_sweep;
        p->idle_at_last_sweep = idle;
        if (reap)
            HASH_DEL(tp.peers, p);
        pthread_mutex_unlock(&p->lock);
        if (reap)
            peer_free(p);
    }
    pthread_mutex_unlock(&tp.lock);
}

size_t transport_peer_count(void)
{
    pthread_mutex_lock(&tp.lock);
    size_t n = HASH_COUNT(tp.peers);
    pthread_mutex_unlock(&tp.lock);
    return n;
}

/* Tells every linker through this peer, and forgets the links. */
static void peer_notify_links(peer_t *p)
{
    for (size_t i = 0; i < p->link_count; i++)
        deliver_exited(&p->links[i].linker, &p->links[i].target);
    p->link_count = 0;
}

void peer_trim(peer_t *p)
{
    if (p->pending.len == 0) {
        free(p->pending.data);
        p->pending = (outbuf_t){0};
    }
    if (p->inflight_done == p->inflight.len) {
        free(p->inflight.data);
        p->inflight = (outbuf_t){0};
        p->inflight_done = 0;
    }
}

bool peer_wants_stream(const peer_t *p)
{
    return (p->pending.len > 0 || p->link_count > 0) && !tp.stopping;
}

void peer_broke(peer_t *p, const char *why, const char *detail)
{
    if (!tp.stopping)
        LOG_WARNING("Lost the connection to %s: %s (%s)", p->url, why, detail);
    p->state = PEER_CLOSING;
    outbuf_drop(&p->inflight);
    p->inflight_done = 0; /* the next stream starts from an empty write */
    outbuf_drop(&p->pending);
    peer_notify_links(p);
    flush_progress();
}

void peer_drop_inflight(peer_t *p)
{
    outbuf_drop(&p->inflight);
    p->inflight_done = 0;
    flush_progress();
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

bool peer_connected(peer_t *p)
{
    if (tp.stopping || !prepend_preamble(&p->pending))
        return false;
    p->state = PEER_CONNECTED;
    p->warned = false;
    flush_progress();
    return true;
}

void peer_dial_failed(peer_t *p, const char *why)
{
    if (!p->warned && !tp.stopping)
        LOG_WARNING("Failed to connect to %s: %s", p->url, why);
    p->warned = true;
    p->state = PEER_IDLE;
    outbuf_drop(&p->pending);
    peer_trim(p);
    peer_notify_links(p);
    flush_progress();
}

bool peer_next_write(peer_t *p, const uint8_t **data, size_t *len)
{
    if (p->inflight_done == p->inflight.len) {
        if (p->pending.len == 0)
            return false;
        outbuf_t t = p->inflight;
        p->inflight = p->pending;
        p->pending = t;
        p->pending.len = 0;
        p->pending.count = 0;
        p->inflight_done = 0;
    }
    *data = p->inflight.data + p->inflight_done;
    *len = p->inflight.len - p->inflight_done;
    return true;
}

void peer_wrote(peer_t *p, size_t n)
{
    p->inflight_done += n;
    if (p->inflight_done == p->inflight.len) {
        atomic_fetch_add_explicit(&rt.stats.remote_sent, p->inflight.count, memory_order_relaxed);
        p->inflight.count = 0;
    }
    flush_progress();
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
    pthread_rwlock_rdlock(&tp.gate);
    peer_t *p = peer_get(to);
    if (p == NULL) {
        pthread_rwlock_unlock(&tp.gate);
        return ACTOR_ENOMEM;
    }
    size_t size = frame_record_size(from_len, to_len, type_len, len);

    pthread_mutex_lock(&p->lock);
    if (p->pending.len + size > PEER_BACKLOG_MAX || !outbuf_reserve(&p->pending, size)) {
        pthread_mutex_unlock(&p->lock);
        peer_release(p);
        pthread_rwlock_unlock(&tp.gate);
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
    tp.engine->wake(p);
    pthread_mutex_unlock(&p->lock);
    peer_release(p);
    pthread_rwlock_unlock(&tp.gate);
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
    pthread_rwlock_rdlock(&tp.gate);
    peer_t *p = peer_get(to);
    bool ok = p != NULL;
    if (ok) {
        pthread_mutex_lock(&p->lock);
        ok = peer_link_add(p, linker, to, false);
        if (ok)
            tp.engine->wake(p);
        pthread_mutex_unlock(&p->lock);
        peer_release(p);
    }
    pthread_rwlock_unlock(&tp.gate);
    if (!ok)
        deliver_exited(linker, to);
}

actor_err_t transport_relink(const actor_pid_t *linker, const actor_pid_t *to)
{
    peer_t *p;
    pthread_rwlock_rdlock(&tp.gate);
    actor_err_t err = peer_find(to, &p);
    if (err == ACTOR_OK) {
        pthread_mutex_lock(&p->lock);
        if (peer_link_add(p, linker, to, true))
            tp.engine->relink(p);
        else
            err = ACTOR_ENOMEM;
        pthread_mutex_unlock(&p->lock);
        peer_release(p);
    }
    pthread_rwlock_unlock(&tp.gate);
    return err;
}

/* ---- incoming ---- */

static void bad_input(in_decoder_t *d, const char *what)
{
    atomic_fetch_add_explicit(&rt.stats.remote_bad_messages, 1, memory_order_relaxed);
    if (!d->warned)
        LOG_WARNING("Dropping %s from %s (further bad input from it is only counted)", what,
                    d->remote);
    d->warned = true;
}

/* Parses the sender's PID, reusing the previous record's when the text is the same. */
static bool sender_pid(in_decoder_t *d, const frame_record_t *r)
{
    if (strlen(d->from_text) == r->from_len && memcmp(d->from_text, r->from, r->from_len) == 0)
        return true;
    char text[FRAME_NAME_MAX + 1];
    memcpy(text, r->from, r->from_len);
    text[r->from_len] = '\0';
    if (actor_pid_parse(text, &d->from_cache) != ACTOR_OK)
        return false;
    memcpy(d->from_text, text, r->from_len + 1);
    return true;
}

static void on_record(const frame_record_t *r, void *arg)
{
    in_decoder_t *d = arg;
    if (r->to_len >= ACTOR_ID_MAX || !sender_pid(d, r)) {
        bad_input(d, "a message with a malformed sender or receiver");
        return;
    }
    atomic_fetch_add_explicit(&rt.stats.remote_received, 1, memory_order_relaxed);
    envelope_t *e = envelope_new(ENVELOPE_MESSAGE, r->payload_len, r->type_len + 1);
    if (e == NULL) {
        atomic_fetch_add_explicit(&rt.stats.messages_dropped, 1, memory_order_relaxed);
        return;
    }
    e->from = d->from_cache;
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

void in_decoder_init(in_decoder_t *d, const char *remote)
{
    memset(d, 0, sizeof(*d));
    snprintf(d->remote, sizeof(d->remote), "%s", remote);
    frame_decoder_init(&d->decoder, rt.opts.max_message_bytes + 3 * FRAME_NAME_MAX + 3);
}

bool in_decoder_feed(in_decoder_t *d, const uint8_t *data, size_t len)
{
    uint64_t oversized = d->decoder.oversized;
    actor_err_t err = frame_decoder_feed(&d->decoder, data, len, on_record, d);
    if (d->decoder.oversized != oversized)
        bad_input(d, "a message over the size limit");
    if (err != ACTOR_OK)
        bad_input(d, err == ACTOR_EPROTO ? "garbage" : "input it had no memory for");
    return err == ACTOR_OK;
}

void in_decoder_ended(in_decoder_t *d)
{
    if (frame_decoder_partial(&d->decoder) && !transport_is_stopping())
        bad_input(d, "a truncated message");
}

void in_decoder_fini(in_decoder_t *d)
{
    frame_decoder_fini(&d->decoder);
}

void transport_warn_accept(const char *why)
{
    static atomic_bool warned;
    if (!atomic_exchange(&warned, true))
        LOG_WARNING("Failed to accept a connection on the actor port: %s (retrying)", why);
}

/* ---- lifecycle ---- */

actor_err_t transport_start(actor_transport_engine_t engine, const char *bind_ip,
                            const char *advertise_ip, uint16_t port, uint32_t *ip,
                            uint16_t *bound_port)
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
    tp.engine = engine == ACTOR_TRANSPORT_IO_LOOP ? &transport_loop_engine : &transport_nng_engine;
    tp.stopping = false;
    actor_err_t err = tp.engine->listen(bind_ip, ntohl(addr.s_addr), port, bound_port);
    if (err != ACTOR_OK)
        return err;
    *ip = ntohl(addr.s_addr);
    snprintf(tp.self_suffix, sizeof(tp.self_suffix), "@%s:%u", shown, *bound_port);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&tp.flush_cv, &attr);
    pthread_condattr_destroy(&attr);
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

static bool peers_flushed(void *unused)
{
    (void)unused;
    return !peers_busy(false);
}

/* Waits until every peer's queue is written, or FLUSH_TIMEOUT_NS of real time passed. */
static void flush_peers(void)
{
    if (actor_io_run_until(peers_flushed, NULL, FLUSH_TIMEOUT_NS)) { /* the loop runs here */
        /* What is left is logged. */
        peers_busy(true);
        return;
    }
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
    pthread_rwlock_wrlock(&tp.gate);
    pthread_mutex_lock(&tp.lock);
    tp.stopping = true;
    pthread_mutex_unlock(&tp.lock);
    pthread_rwlock_unlock(&tp.gate);
    tp.engine->stop();
    peer_t *p, *tmp;
    HASH_ITER(hh, tp.peers, p, tmp)
    {
        HASH_DEL(tp.peers, p);
        peer_free(p);
    }
    pthread_cond_destroy(&tp.flush_cv);
}
