/*
 * batch.h: group commit for an actor that owns a store: the changes it makes while handling a
 * burst of messages are gathered and written with one store_apply (one fsync), and what must wait
 * until they are durable (an acknowledgement, an HTTP answer) runs right after.
 *
 * The write is dispatched to the owning actor itself when the first change of a batch arrives,
 * so it runs after the messages already in the mailbox: those that arrived together share it.
 * Used by the agent's checkpoints and Marathon's state. A failed write is fatal, as for the
 * registrar: the owner's `failed` hook runs (default: log and exit 1).
 */
#ifndef STORE_BATCH_H
#define STORE_BATCH_H

#include <stddef.h>

#include <protobuf-c/protobuf-c.h>

#include "actor/actor.h"
#include "store/store.h"

typedef struct store_batch store_batch_t;

/* Called when a batch could not be written; NULL = log and _exit(1). */
typedef void (*store_batch_failed_fn)(actor_err_t err);

/* A batch writer for store, used only inside the actor owner (which must outlive it). Returns
 * NULL when out of memory. */
store_batch_t *store_batch_new(store_t *store, actor_t *owner, store_batch_failed_fn failed);

/* Writes what is pending, runs what waits, and frees the batch writer. NULL is ignored. Call it
 * from the owner's fini (a flush already dispatched then finds the owner gone and does nothing). */
void store_batch_free(store_batch_t *b);

/* Queues a put of value (len bytes) at key; both are taken over (freed after the write). */
void store_batch_put(store_batch_t *b, char *key, void *value, size_t len);

/* Queues a put of msg, packed now, at key (taken over). */
void store_batch_put_message(store_batch_t *b, char *key, const ProtobufCMessage *msg);

/* Queues a put of text (copied) at key (taken over). */
void store_batch_put_text(store_batch_t *b, char *key, const char *text);

/* Queues a delete of key (taken over). */
void store_batch_delete(store_batch_t *b, char *key);

/* Runs fn(arg) once everything queued so far is durable: at once when nothing is pending. */
void store_batch_after(store_batch_t *b, void (*fn)(void *arg), void *arg);

/* Writes the batch now and runs what waited for it. */
void store_batch_flush(store_batch_t *b);

#endif
