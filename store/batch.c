/*
 * batch.c: gathering an actor's store writes into one transaction per burst.
 */
#include "store/batch.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "actor/log.h"

typedef struct deferred {
    void (*fn)(void *arg);
    void *arg;
    struct deferred *next;
} deferred_t;

struct store_batch {
    store_t *store;
    actor_t *owner;
    store_batch_failed_fn failed;
    store_op_t *ops;
    size_t count, cap;
    bool scheduled;
    deferred_t *head, *tail;
};

store_batch_t *store_batch_new(store_t *store, actor_t *owner, store_batch_failed_fn failed)
{
    store_batch_t *b = calloc(1, sizeof(*b));
    if (b != NULL) {
        b->store = store;
        b->owner = owner;
        b->failed = failed;
    }
    return b;
}

static void flush_call(actor_t *self, void *state, void *arg)
{
    (void)state;
    if (self != NULL)
        store_batch_flush(arg);
}

static void add(store_batch_t *b, store_op_kind_t kind, char *key, void *value, size_t len)
{
    if (key == NULL) {
        free(value);
        LOG_ERROR("Out of memory building a store key");
        return;
    }
    if (b->count == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 16;
        store_op_t *ops = realloc(b->ops, cap * sizeof(*ops));
        if (ops == NULL) {
            free(key);
            free(value);
            LOG_ERROR("Out of memory batching a store write");
            return;
        }
        b->ops = ops;
        b->cap = cap;
    }
    b->ops[b->count++] = (store_op_t){
        .kind = kind, .key = key, .key_len = strlen(key), .value = value, .value_len = len};
    if (!b->scheduled && actor_dispatch(actor_self(b->owner), flush_call, b) == ACTOR_OK)
        b->scheduled = true;
}

void store_batch_put(store_batch_t *b, char *key, void *value, size_t len)
{
    add(b, STORE_OP_PUT, key, value, len);
}

void store_batch_put_message(store_batch_t *b, char *key, const ProtobufCMessage *msg)
{
    size_t len = protobuf_c_message_get_packed_size(msg);
    uint8_t *buf = malloc(len ? len : 1);
    if (buf == NULL) {
        free(key);
        LOG_ERROR("Out of memory packing a store record");
        return;
    }
    protobuf_c_message_pack(msg, buf);
    add(b, STORE_OP_PUT, key, buf, len);
}

void store_batch_put_text(store_batch_t *b, char *key, const char *text)
{
    char *copy = strdup(text);
    if (copy == NULL) {
        free(key);
        LOG_ERROR("Out of memory copying a store record");
        return;
    }
    add(b, STORE_OP_PUT, key, copy, strlen(copy));
}

void store_batch_delete(store_batch_t *b, char *key)
{
    add(b, STORE_OP_DELETE, key, NULL, 0);
}

void store_batch_after(store_batch_t *b, void (*fn)(void *arg), void *arg)
{
    deferred_t *d = NULL;
    if ((b->count == 0 && !b->scheduled) || (d = malloc(sizeof(*d))) == NULL) {
        fn(arg); /* nothing waits to be written (or no memory to wait with) */
        return;
    }
    *d = (deferred_t){.fn = fn, .arg = arg};
    if (b->tail != NULL)
        b->tail->next = d;
    else
        b->head = d;
    b->tail = d;
}

void store_batch_flush(store_batch_t *b)
{
    b->scheduled = false;
    if (b->count > 0) {
        actor_err_t rc = store_apply(b->store, b->ops, b->count);
        if (rc != ACTOR_OK) {
            if (b->failed != NULL) {
                b->failed(rc);
            } else {
                /* Running on would break the promise that what was acknowledged survives a
                 * restart. */
                LOG_ERROR("Failed to write to the store: %s; exiting", actor_strerror(rc));
                _exit(1);
            }
        }
        for (size_t i = 0; i < b->count; i++) {
            free((void *)b->ops[i].key);
            free((void *)b->ops[i].value);
        }
        b->count = 0;
    }
    deferred_t *d = b->head;
    b->head = b->tail = NULL;
    while (d != NULL) {
        deferred_t *next = d->next;
        d->fn(d->arg);
        free(d);
        d = next;
    }
}

void store_batch_free(store_batch_t *b)
{
    if (b == NULL)
        return;
    store_batch_flush(b);
    free(b->ops);
    free(b);
}
