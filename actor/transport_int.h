/*
 * transport_int.h: what transport.c (peers, queues, links, decoding, flushing) shares with the
 * two engines that move its bytes (runtime-internal).
 *
 * transport.c owns the peer table and every peer's queue and links; an engine owns the sockets.
 * transport.c calls the engine's hooks with the peer's lock held; the engine calls back into
 * transport.c (the peer_* and in_* functions below) from its own threads, also with the lock
 * held. Engines:
 *   - nng (transport_nng.c): nng's TCP streams, completions on nng's threads. The default.
 *   - loop (transport_loop.c): plain non-blocking sockets on the runtime's I/O thread (io.h).
 *     nng starts a dozen threads at its first use, about 1.7 ms of CPU on this kind of machine;
 *     a process that lives for one task (an executor) spends most of its start-up there.
 * Both write and read the same records (frame.h), so processes on either engine talk.
 */
#ifndef ACTOR_TRANSPORT_INT_H
#define ACTOR_TRANSPORT_INT_H

#include <ev.h>
#include <nng/nng.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uthash.h>

#include "actor/error.h"
#include "actor/frame.h"
#include "actor/io.h"
#include "actor/pid.h"

typedef struct outbuf {
    uint8_t *data;
    size_t len, cap;
    uint64_t count; /* messages in data */
} outbuf_t;

typedef enum peer_state { PEER_IDLE, PEER_CONNECTING, PEER_CONNECTED, PEER_CLOSING } peer_state_t;

typedef struct link {
    actor_pid_t linker, target;
} link_t;

/* The nng engine's part of a peer. */
typedef struct peer_nng {
    nng_stream_dialer *dialer;
    nng_stream *stream;
    nng_aio *dial_aio, *send_aio, *recv_aio;
    bool send_busy, recv_busy;
    bool redial;       /* a relink closed the dialer of the dial in progress: dial again */
    uint8_t probe[64]; /* receive buffer of the break detector */
} peer_nng_t;

/* The loop engine's part of a peer. */
typedef struct peer_loop {
    int fd;               /* -1 when IDLE */
    ev_io watcher;        /* readable: the stream broke; writable: connected, or room to write */
    actor_io_node_t kick; /* the call that makes progress on the I/O thread */
    bool kick_queued;     /* ... is queued there */
    bool fresh_stream;    /* a relink asked for a new stream */
    bool write_blocked;   /* the socket was full: the I/O thread writes when there is room */
} peer_loop_t;

typedef struct peer {
    uint64_t key; /* ip << 16 | port */
    uint32_t ip;
    uint16_t port;
    char url[48];
    pthread_mutex_t lock; /* everything below */
    peer_state_t state;   /* kept by the engine */
    outbuf_t pending, inflight;
    size_t inflight_done; /* bytes of inflight already written */
    link_t *links;
    size_t link_count, link_cap;
    bool warned; /* a failure to reach this peer was logged */
    /* Reclaiming (transport_sweep_idle_peers): callers between finding the peer and being done
     * with it (taken under the table's lock), and whether the last sweep found it idle. */
    atomic_uint refs;
    bool idle_at_last_sweep;
    union {
        peer_nng_t nng;
        peer_loop_t loop;
    } e;
    UT_hash_handle hh;
} peer_t;

/* The decoding side of an incoming stream, embedded in each engine's connection. */
typedef struct in_decoder {
    frame_decoder_t decoder;
    char remote[64]; /* for logs */
    bool warned;     /* bad input from this stream was logged */
    actor_pid_t from_cache;
    char from_text[FRAME_NAME_MAX + 1];
} in_decoder_t;

typedef struct transport_engine {
    const char *name;
    /* Listens on bind_ip:port; *bound receives the port. advertised_ip (host order) is the
     * address PIDs give for this process. Called once, before any other hook. */
    actor_err_t (*listen)(const char *bind_ip, uint32_t advertised_ip, uint16_t port,
                          uint16_t *bound);
    /* A new peer's engine part; false when out of resources. */
    bool (*peer_init)(peer_t *p);
    /* Frees the engine part of a peer that no operation uses any more. May be NULL. */
    void (*peer_fini)(peer_t *p);
    /* Something was queued or a link added: dial if IDLE, write if CONNECTED. Lock held. */
    void (*wake)(peer_t *p);
    /* transport_relink's fresh stream (see transport.h). Lock held. */
    void (*relink)(peer_t *p);
    /* True when the engine holds nothing of an IDLE peer (no socket, no queued call), so that its
     * record may be freed. Lock held. NULL: records are kept (the engine never sweeps). */
    bool (*peer_idle)(const peer_t *p);
    /* Closes the listener and every stream and waits for their operations; the caller frees the
     * peers afterwards. Called once, with transport_is_stopping() true. */
    void (*stop)(void);
} transport_engine_t;

extern const transport_engine_t transport_nng_engine, transport_loop_engine;

/* ---- for the engines: transport.c's side ---- */

bool transport_is_stopping(void);

/* Calls fn on every peer (the table is fixed while stopping). */
void transport_each_peer(void (*fn)(peer_t *p));

/* Frees the records of peers found idle at two sweeps in a row: no stream, nothing queued, no
 * link, no caller using them, and nothing held by the engine. A process meets a new peer for
 * every executor, scheduler or agent it ever talked to, and a record costs a few KB. The engine
 * calls it periodically, never while stopping. */
void transport_sweep_idle_peers(void);

/* Something changed on a peer's stream: wakes a flush waiting in transport_stop. */
void flush_progress(void);

/* The dial succeeded: the preamble goes in front of what was queued, the state is CONNECTED.
 * False when out of memory (the engine closes the new stream and calls peer_dial_failed). */
bool peer_connected(peer_t *p);

/* The dial failed: logged once until the next success; the queue is dropped, linkers told. */
void peer_dial_failed(peer_t *p, const char *why);

/* The connected stream broke: logged, the queue dropped, the linkers told; the state becomes
 * CLOSING for the engine to release the stream. */
void peer_broke(peer_t *p, const char *why, const char *detail);

/* A relink closes a connected stream: what was handed to it is dropped; links and queue stay. */
void peer_drop_inflight(peer_t *p);

/* The bytes to write next (swapping the queue in when the last write is done), or false when
 * there is nothing to write. */
bool peer_next_write(peer_t *p, const uint8_t **data, size_t *len);

/* n more bytes were written. */
void peer_wrote(peer_t *p, size_t n);

/* The engine released the peer's stream (IDLE): the buffers that hold nothing are freed, so that
 * a peer whose process is gone (an executor that exited: an agent meets thousands) keeps only
 * its record, not its two write buffers of 64 KiB or more. They come back with the next send. */
void peer_trim(peer_t *p);

/* Whether an IDLE peer has reason to dial (queued messages or links), unless stopping. */
bool peer_wants_stream(const peer_t *p);

/* Incoming streams: set up (remote names the peer in logs), feed what a read returned (false
 * when the stream must be closed: garbage, or no memory), say it ended, free. */
void in_decoder_init(in_decoder_t *d, const char *remote);
bool in_decoder_feed(in_decoder_t *d, const uint8_t *data, size_t len);
void in_decoder_ended(in_decoder_t *d);
void in_decoder_fini(in_decoder_t *d);

/* Logs a failed accept once per process; later ones are silent. */
void transport_warn_accept(const char *why);

#endif
