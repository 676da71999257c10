/*
 * filter.h: a message filter for tests (Mesos's FUTURE_PROTOBUF and DROP_PROTOBUF).
 *
 * One filter per process sees every message as it is sent (local and remote) and as it arrives
 * from a peer, before any mailbox: it may let it pass (observing it), drop it, or hold it for the
 * test to release later. That is how fault tests lose a status update or cut a link.
 */
#ifndef ACTOR_FILTER_H
#define ACTOR_FILTER_H

#include <stddef.h>
#include <stdint.h>

#include "actor/pid.h"

typedef enum actor_filter_verdict {
    ACTOR_FILTER_PASS = 0, /* deliver as usual */
    ACTOR_FILTER_DROP,     /* discard (counted as dropped) */
    ACTOR_FILTER_HOLD,     /* keep it aside until actor_filter_release or actor_filter_discard */
} actor_filter_verdict_t;

typedef struct actor_filter_event {
    const actor_pid_t *from;
    const actor_pid_t *to;
    const char *type_name; /* full protobuf type name */
    const void *data;      /* packed message, borrowed for the call */
    size_t len;
    uint64_t hold_id; /* identifies the message if the filter answers HOLD */
} actor_filter_event_t;

/* Decides the fate of one message. Runs on the sending thread (or the transport's thread for
 * messages from peers); must be thread-safe and must not send messages itself. */
typedef actor_filter_verdict_t (*actor_filter_fn)(const actor_filter_event_t *event, void *arg);

/* Installs fn (NULL removes the filter; held messages stay held). */
void actor_filter_install(actor_filter_fn fn, void *arg);

/* Delivers a held message now. Returns ACTOR_ENOENT if no message is held under that id. */
actor_err_t actor_filter_release(uint64_t hold_id);

/* Discards a held message. Returns ACTOR_ENOENT if no message is held under that id. */
actor_err_t actor_filter_discard(uint64_t hold_id);

/* Discards every held message (test teardown). */
void actor_filter_clear(void);

#endif
