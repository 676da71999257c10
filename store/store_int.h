/*
 * store_int.h: the backend ops table behind store.h. Private to store/.
 *
 * store.c is the front: it finds the backend by name, checks every argument and limit once, so
 * that both backends refuse the same things, and then calls the backend. A backend may therefore
 * assume what store.c checked:
 *   - key and key_len: key != NULL, 1 <= key_len <= STORE_KEY_MAX;
 *   - values: value_len <= STORE_VALUE_MAX, value != NULL when value_len > 0;
 *   - batches: ops != NULL and n_ops >= 1, each kind valid;
 *   - scans: fn != NULL, prefix != NULL when prefix_len > 0, prefix_len <= STORE_KEY_MAX;
 *   - out-pointers are not NULL.
 * A backend keeps the contracts of store.h otherwise: all-or-nothing batches with preconditions
 * evaluated before any change, preconditions failing with ACTOR_EBUSY, a get returning a malloc'd
 * copy (never NULL), scans in memcmp order (shorter key first on a tie), and the thread rules.
 */
#ifndef STORE_STORE_INT_H
#define STORE_STORE_INT_H

#include <string.h>

#include "store/store.h"

typedef struct store_backend {
    const char *name; /* as passed to store_open() */
    /* Opens the backend's state into *implp. path may be NULL. */
    actor_err_t (*open)(void **implp, const char *path, const store_options_t *options);
    void (*close)(void *impl);
    actor_err_t (*get)(void *impl, const void *key, size_t key_len, void **valuep,
                       size_t *value_lenp);
    actor_err_t (*apply)(void *impl, const store_op_t *ops, size_t n_ops);
    actor_err_t (*scan)(void *impl, const void *prefix, size_t prefix_len, store_scan_fn fn,
                        void *arg);
} store_backend_t;

/* The front's handle: which backend, and its state. */
struct store {
    const store_backend_t *backend; /* never NULL */
    void *impl;                     /* owned by backend, freed by backend->close */
};

extern const store_backend_t store_lmdb_backend;   /* lmdb.c */
extern const store_backend_t store_memory_backend; /* memory.c */

/* True if the key_len bytes at key start with the prefix_len bytes at prefix. */
static inline bool store_key_has_prefix(const void *key, size_t key_len, const void *prefix,
                                        size_t prefix_len)
{
    return key_len >= prefix_len && (prefix_len == 0 || memcmp(key, prefix, prefix_len) == 0);
}

#endif
