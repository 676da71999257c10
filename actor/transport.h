/*
 * transport.h: messages between processes over TCP streams (runtime-internal).
 *
 * Each process listens on its actor port, through one of two engines (transport_int.h): nng's
 * streams, or plain sockets on the runtime's I/O loop for processes with few peers (agents,
 * executors). To reach a peer, a process dials the peer's actor port once and keeps the stream;
 * messages flow from dialler to acceptor only (libprocess does the same), in the record format
 * of frame.h. Messages queued while a write is in flight (nng) or while the socket is full (the
 * loop engine, which otherwise writes each message from the sending thread at once) go out
 * together in the next write, so under load one operation (~30 us of cross-thread wake-ups on
 * this kind of machine) carries hundreds of messages instead of one.
 *
 * Links to remote actors ride on the outgoing stream: when it breaks (the peer process died or
 * the network failed) or cannot be made, every actor linked through it gets `exited`. A relink
 * replaces a stream that may be stale with a new one, the links carried over.
 */
#ifndef ACTOR_TRANSPORT_H
#define ACTOR_TRANSPORT_H

#include <protobuf-c/protobuf-c.h>

#include "actor/actor.h"
#include "actor/pid.h"

/* Listens on bind_ip:port (0 = any free port) with the engine asked for. *ip and *port receive
 * the advertised address: advertise_ip if given, else bind_ip, else 127.0.0.1 for a wildcard
 * bind. The loop engine needs the I/O thread running. */
actor_err_t transport_start(actor_transport_engine_t engine, const char *bind_ip,
                            const char *advertise_ip, uint16_t port, uint32_t *ip,
                            uint16_t *bound_port);

/* Writes what is queued for peers first, waiting at most a second of real time (a peer that
 * cannot be reached drops its queue at once), then closes every stream and frees everything;
 * what is still unwritten then is dropped. */
void transport_stop(void);

/* The peers the transport keeps a record of now. */
size_t transport_peer_count(void);

/* Queues msg (packed_len bytes once packed) for the peer process of `to`. Thread-safe. A peer
 * that cannot be reached drops the message (counted), as a send to a dead actor does. */
actor_err_t transport_send_message(const actor_pid_t *from, const actor_pid_t *to,
                                   const ProtobufCMessage *msg, size_t packed_len);

/* As transport_send_message, for an already packed message. */
actor_err_t transport_send_packed(const actor_pid_t *from, const actor_pid_t *to,
                                  const char *type_name, const void *data, size_t len);

/* Tells `linker` (a local actor) through `exited` when the stream to `to`'s process breaks or
 * cannot be made. Thread-safe. */
void transport_link(const actor_pid_t *linker, const actor_pid_t *to);

/* Links as transport_link (but not twice: a link linker -> to already there is kept) and makes
 * the stream to `to`'s process fresh: a connected stream is closed without telling its linkers
 * (their links move to the next stream) and what was handed to it is dropped; a dial in progress
 * is restarted; what is queued goes out on the new stream, dialled at once. Thread-safe.
 * Errors: ACTOR_ENOMEM, ACTOR_ECLOSED when stopping (no link is made then). */
actor_err_t transport_relink(const actor_pid_t *linker, const actor_pid_t *to);

#endif
