/*
 * actor.h: the actor runtime, our libprocess.
 *
 * Every component (master, allocator, registrar, agent, executor, scheduler, Marathon's parts) is
 * an actor: a table of handlers plus private state, with a mailbox and a PID (`name@ip:port`).
 * An actor handles one event at a time (a message, a dispatched call, a timer, an exit notice of a
 * linked actor), so its state needs no locks; handlers never block.
 *
 * Messages are protobuf-c messages named by their full type name. A send to an actor in the same
 * process packs the message and puts it straight into the receiver's mailbox; a send to another
 * process travels over a TCP stream (nng's, by default) to that process's actor port, with messages
 * that queue up for the same peer packed into one write. Either way the receiver's handler gets the
 * decoded message, borrowed for the duration of the call. `send` is fire-and-forget and
 * at-most-once; order is kept between one sender and one receiver. Sending to a dead or unknown
 * actor is not an error: the message is dropped and counted. Reliability is built above, as Mesos
 * does. Backpressure (as in Pony): an actor that cannot drain its mailbox in one turn is
 * overloaded, and a local actor that sends to it is parked after its current event until the
 * mailbox drains, so a fast local sender cannot grow a slow receiver's mailbox without bound.
 *
 * One process holds one runtime: a few worker threads (about one per core) run actors; an I/O
 * thread runs the HTTP server and the timers; nng's threads (or the I/O thread, with the light
 * engine) feed remote messages into mailboxes.
 * Tests pause the clock (clock.h), filter messages (filter.h) and call actor_settle() to run until
 * every mailbox is empty, instead of sleeping.
 */
#ifndef ACTOR_ACTOR_H
#define ACTOR_ACTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

#include "actor/error.h"
#include "actor/pid.h"

typedef struct actor actor_t;

/* A message handler: `msg` is borrowed until the handler returns; `from` names the sender (its id
 * is empty for a message sent from outside any actor). */
typedef void (*actor_handler_fn)(actor_t *self, void *state, const actor_pid_t *from,
                                 const ProtobufCMessage *msg);

/* A call run inside an actor (actor_dispatch, actor_delay). If the actor is gone before the call
 * can run, fn still runs exactly once, with self and state NULL, so that it can free arg. */
typedef void (*actor_call_fn)(actor_t *self, void *state, void *arg);

typedef struct actor_handler {
    const ProtobufCMessageDescriptor *descriptor; /* the message type this entry handles */
    actor_handler_fn fn;
} actor_handler_t;

/* What an actor is: a table of operations plus the size of its private state, which the runtime
 * allocates zeroed at spawn and frees after fini. */
typedef struct actor_ops {
    const char *name;  /* base of generated ids: "slave" gives "slave(1)", "slave(2)", ... */
    size_t state_size; /* bytes of private state */
    /* First event of the actor, in its own context; arg is actor_spawn's. May be NULL. */
    void (*init)(actor_t *self, void *state, void *arg);
    /* Last event: release what state holds. Pending messages are dropped after it. May be NULL. */
    void (*fini)(actor_t *self, void *state);
    /* A linked actor terminated, or the connection to its process broke. May be NULL. */
    void (*exited)(actor_t *self, void *state, const actor_pid_t *pid);
    const actor_handler_t *handlers; /* messages this actor accepts */
    size_t handler_count;
} actor_ops_t;

/* How the actor port's streams are driven. Both speak the same wire format. */
typedef enum actor_transport_engine {
    ACTOR_TRANSPORT_NNG = 0, /* nng's TCP streams on nng's threads: the default */
    /* Plain sockets on the runtime's I/O thread: no thread of its own. nng starts about a dozen
     * threads at its first use (~1.7 ms of CPU here), which a process living for one task (an
     * executor) cannot amortise. */
    ACTOR_TRANSPORT_IO_LOOP,
} actor_transport_engine_t;

/* Runtime configuration; zero-initialise and set what you need, or use the defaults below. */
typedef struct actor_runtime_options {
    /* Worker threads. 0 = none: the thread calling actor_settle() runs every actor, which makes
     * in-process tests fully deterministic. Negative = one per core. */
    int workers;
    /* Run every actor on the runtime's I/O thread, between its waits for events, instead of on
     * workers (`workers` is then ignored). For a process whose actors mostly wait for its own
     * sockets, children and timers, such as an executor, or whose work is one actor's in order,
     * such as the agent: no worker thread to start, and no wake-up of another thread for each
     * message or event. Handlers must not block for long, since the process's I/O waits
     * meanwhile. */
    bool actors_on_io_thread;
    /* With actors_on_io_thread: no I/O thread either; the loop runs on the thread that starts
     * the runtime, while it waits in actor_wait() and actor_runtime_stop() (and
     * actor_daemon_wait_actor()); actor_settle() there runs the actors that are ready, without
     * waiting for events. For a process whose main thread only waits for its actors (an
     * executor): one thread in all, no hand-off between threads. Work that other threads queue
     * (sends, dispatches) runs when that thread next waits. Only that thread may wait or stop
     * the runtime. */
    bool io_on_caller_thread;
    /* Address of the actor port (TCP). NULL = "127.0.0.1". "0.0.0.0" binds every address and
     * advertises 127.0.0.1 unless advertise_ip is set. */
    const char *ip;
    const char *advertise_ip;
    /* The actor port: > 0 that port, 0 any free port, < 0 no transport (local sends only). */
    int port;
    /* Largest message accepted from or sent to a peer, in bytes. 0 = 64 MiB. */
    size_t max_message_bytes;
    actor_transport_engine_t transport;
} actor_runtime_options_t;

/* Defaults: one worker per core, no transport. */
void actor_runtime_options_init(actor_runtime_options_t *opts);

/* Starts the process's runtime. Errors: ACTOR_EBUSY if already started, ACTOR_EADDRINUSE or
 * ACTOR_ESYSTEM if the actor port cannot be bound, ACTOR_ENOMEM. */
actor_err_t actor_runtime_start(const actor_runtime_options_t *opts);

/* Terminates every actor (running each fini), stops the threads and frees everything. Messages
 * queued for other processes, those sent from fini included, are written first, for at most a
 * second. Call from outside any actor. Safe to call when the runtime is not started. */
void actor_runtime_stop(void);

/* This process's address as PIDs show it: *ip (host byte order) and *port are 0 without
 * transport. */
void actor_runtime_address(uint32_t *ip, uint16_t *port);

/* Creates an actor and schedules its init. id NULL or empty: generated from ops->name ("name(N)").
 * On success *pid (if not NULL) names the actor. Errors: ACTOR_EEXIST if id is taken,
 * ACTOR_EINVAL for an id too long or with '@', ACTOR_ECLOSED if the runtime is not running.
 * Thread-safe; may be called from handlers. */
actor_err_t actor_spawn(const actor_ops_t *ops, const char *id, void *arg, actor_pid_t *pid);

/* Asks the actor to terminate: it finishes the event it is handling, then runs fini; pending
 * messages are dropped. Linked actors get `exited`. Unknown pid: nothing happens. Thread-safe. */
void actor_terminate(const actor_pid_t *pid);

/* Blocks until the actor has terminated (returns at once if it is unknown). Never call it from a
 * handler: it would block a worker. */
void actor_wait(const actor_pid_t *pid);

/* Sends msg (borrowed: packed before the call returns) from self (NULL: from outside any actor)
 * to `to`. Errors only for the sender's own faults: ACTOR_ETOOBIG over max_message_bytes,
 * ACTOR_ENOMEM. A missing receiver is not an error. Thread-safe. */
actor_err_t actor_send(actor_t *self, const actor_pid_t *to, const ProtobufCMessage *msg);

/* Sends an already packed message of type `type_name` (e.g. "mesos.internal.Ping"), as
 * actor_send. data is copied. */
actor_err_t actor_send_packed(actor_t *self, const actor_pid_t *to, const char *type_name,
                              const void *data, size_t len);

/* Runs fn(self, state, arg) inside the local actor `to` as its next event in arrival order.
 * Errors: ACTOR_ENOENT if `to` is not a live local actor (fn never runs; the caller keeps arg).
 * Thread-safe. */
actor_err_t actor_dispatch(const actor_pid_t *to, actor_call_fn fn, void *arg);

/* After this call, self's ops->exited runs once when `to` terminates (local) or when the
 * connection to `to`'s process breaks or cannot be made (remote). If `to` is already gone,
 * exited runs soon. Linking twice to the same PID is allowed and notifies once per link. */
void actor_link(actor_t *self, const actor_pid_t *to);

/* As actor_link, but a link from self to `to` made before is kept rather than doubled, and the
 * connection to a remote `to`'s process is made fresh (libprocess's link(pid, RECONNECT)): the
 * stream to it is closed without telling its linkers (their links carry over to the next stream),
 * what was being written on it is dropped, and what is queued or sent from now on goes out on a
 * new stream dialled at once (a dial in progress starts again). For a caller that has reason to
 * think the stream is stale, as after a partition heals: a stream whose packets were lost keeps
 * what it holds until the kernel's next retransmission, seconds away after a long cut, while a
 * new one delivers at once. Errors: ACTOR_ENOMEM, ACTOR_ECLOSED while the runtime stops; on
 * error no link is made and exited does not run for it. Call it from self's handlers. */
actor_err_t actor_relink(actor_t *self, const actor_pid_t *to);

/* The running actor's PID and private state. */
const actor_pid_t *actor_self(const actor_t *self);
void *actor_state(actor_t *self);

/* Runs until every mailbox is empty and every worker is idle (libprocess's Clock::settle). With
 * workers = 0 the calling thread runs the actors itself. Remote traffic still in flight on the
 * network is not waited for. Call from outside any actor. */
void actor_settle(void);

/* Counters kept by the runtime, also exported as metrics. */
typedef struct actor_runtime_stats {
    uint64_t messages_sent;       /* actor_send calls that queued a message */
    uint64_t messages_dropped;    /* to dead or unknown actors, or filtered out */
    uint64_t messages_unhandled;  /* no handler for the type at the receiver */
    uint64_t remote_sent;         /* messages written to peers */
    uint64_t remote_received;     /* messages read from peers */
    uint64_t remote_bad_messages; /* garbage, truncated or oversized input from peers */
    uint64_t actors_spawned;
    uint64_t actors_terminated;
    uint64_t mutes; /* times a sender was parked because its receiver was overloaded */
    uint64_t peers; /* other processes this one keeps a record of now (idle ones are freed) */
} actor_runtime_stats_t;

void actor_runtime_stats(actor_runtime_stats_t *stats);

#endif
