/*
 * store.h: the embedded key-value store in which the master's registrar and Marathon persist
 * their state.
 *
 * A store maps byte-string keys to byte-string values, kept in key order (bytewise, shorter
 * first on a tie, as memcmp). Two backends sit behind one interface: "lmdb", a directory holding
 * an LMDB environment that survives kill -9 and power loss, and "memory", a process-local table
 * for `--registry=in_memory` and tests. Both check arguments and limits identically, so a test
 * run against "memory" holds for "lmdb".
 *
 * Every change goes through store_apply(): a batch of puts, deletes and preconditions applied
 * all-or-nothing as one transaction and, with "lmdb", made durable (fsync'd) before the call
 * returns. The registrar collects the operations that arrive together into one batch, so that
 * one batch costs one transaction and one sync, as Mesos's registrar does; Marathon makes its
 * optimistic updates conditional with STORE_OP_EXPECT preconditions.
 *
 * Errors are actor_err_t values; with "lmdb" the operating-system or LMDB detail of an
 * ACTOR_ESYSTEM is written to the log. A caller must never ignore a failed store_apply(): the
 * registrar exits on one rather than run on a registry it could not store.
 *
 * Threads: store_get(), store_scan() and store_apply() may be called from any thread, also
 * concurrently on one store; store_open() and store_close() must not overlap any other call on
 * that store. Readers see whole batches only. With "lmdb", readers never wait for the writer
 * (each read is one LMDB read transaction on a snapshot) and writers are serialized by LMDB;
 * with "memory", a reader-writer lock orders them. Every call may block: store_apply() for the
 * sync (milliseconds on a disk), reads for page faults, so only the actor that owns the store
 * (the registrar, Marathon's storage actor) should call it from a handler.
 *
 * A directory must be opened by at most one store_t per process at a time (LMDB's locks are
 * per process); several processes may open it and LMDB serializes their writers.
 */
#ifndef STORE_STORE_H
#define STORE_STORE_H

#include <stdbool.h>
#include <stddef.h>

#include "actor/error.h"

/* Longest key in bytes; longer keys (and scan prefixes) are refused with ACTOR_ETOOBIG. It is
 * LMDB's default mdb_env_get_maxkeysize(), which the "lmdb" backend checks when it opens. */
#define STORE_KEY_MAX 511
/* Largest value in bytes (64 MiB); larger ones are refused with ACTOR_ETOOBIG. With "lmdb" a
 * batch must also fit in what is left of the map (store_options_t.map_size). */
#define STORE_VALUE_MAX ((size_t)64 * 1024 * 1024)
/* Default bound on the size of an "lmdb" database file: 1 GiB. */
#define STORE_MAP_SIZE_DEFAULT ((size_t)1024 * 1024 * 1024)

typedef struct store store_t;

/* Options of store_open(); a NULL options pointer, or a zero field, means the default.
 * map_size bounds an "lmdb" database: the most bytes its file may grow to, rounded up to whole
 * pages, default STORE_MAP_SIZE_DEFAULT. Only address space is reserved, not disk. A database
 * whose data already exceeds map_size opens with a map just large enough for it, so little more
 * fits. "memory" ignores map_size: the heap bounds it. */
typedef struct store_options {
    size_t map_size; /* bytes; 0 = STORE_MAP_SIZE_DEFAULT */
} store_options_t;

typedef enum store_op_kind {
    STORE_OP_PUT,           /* set key to value, replacing any value */
    STORE_OP_DELETE,        /* remove key; removing an absent key is not an error */
    STORE_OP_EXPECT,        /* precondition: key is present and its value equals value */
    STORE_OP_EXPECT_ABSENT, /* precondition: key is absent */
} store_op_kind_t;

/* One operation of a batch. The store only reads it, during the call. */
typedef struct store_op {
    store_op_kind_t kind;
    const void *key;   /* 1..STORE_KEY_MAX bytes */
    size_t key_len;    /* bytes */
    const void *value; /* PUT: the new value; EXPECT: the expected one; else unused. May be NULL
                          when value_len is 0 (an empty value is a value, unlike absence) */
    size_t value_len;  /* bytes, at most STORE_VALUE_MAX */
} store_op_t;

/* Called by store_scan() once per key, in key order. key and value are borrowed from the store
 * until the callback returns: copy what you keep. The callback must not call any store_*
 * function on the same store (the scan holds a read transaction or lock). Returns true to go on,
 * false to stop the scan. */
typedef bool (*store_scan_fn)(void *arg, const void *key, size_t key_len, const void *value,
                              size_t value_len);

/* Opens a store. backend is "lmdb" or "memory". For "lmdb", path is a directory, created with its
 * missing parents (mode 0700) if needed, that holds data.mdb and lock.mdb; "memory" ignores path
 * (may be NULL) and starts empty. options may be NULL. On success *storep owns the store until
 * store_close(); on error *storep is untouched and nothing is left open. Errors: ACTOR_EINVAL
 * (unknown backend, NULL storep, "lmdb" without a path), ACTOR_ENOMEM, ACTOR_ESYSTEM (the
 * directory cannot be created or opened, the database is corrupt or locked: detail in the log). */
actor_err_t store_open(store_t **storep, const char *backend, const char *path,
                       const store_options_t *options);

/* Closes the store and frees it; NULL is ignored. Everything a store_apply() returned ACTOR_OK
 * for is already durable, so close has nothing to flush. No call on the store may be running or
 * start afterwards. Cannot fail. */
void store_close(store_t *store);

/* Copies the value of key into a new buffer: on success *valuep (never NULL, also for an empty
 * value) is the caller's to free() and *value_lenp its length. On error the out-pointers are
 * untouched. Errors: ACTOR_ENOENT (no such key), ACTOR_EINVAL (NULL or empty key, NULL
 * out-pointer), ACTOR_ETOOBIG (key longer than STORE_KEY_MAX), ACTOR_ENOMEM, ACTOR_ESYSTEM. */
actor_err_t store_get(store_t *store, const void *key, size_t key_len, void **valuep,
                      size_t *value_lenp);

/* Applies a batch of n_ops operations as one transaction, all or nothing. Preconditions
 * (STORE_OP_EXPECT, STORE_OP_EXPECT_ABSENT) are all evaluated against the store as it was before
 * the batch, wherever they sit in ops; then puts and deletes are applied in order, so a later
 * operation on a key overrides an earlier one. With "lmdb", on ACTOR_OK the batch is on disk
 * (LMDB's synchronous commit: data and meta page fdatasync'd); a batch of no puts or deletes
 * writes nothing. n_ops 0 is a successful no-op. On any error nothing of the batch is applied,
 * except that after ACTOR_ESYSTEM from a failed sync a later reader may find the batch durable
 * or not: treat ACTOR_ESYSTEM from a write as fatal.
 * Errors: ACTOR_EBUSY (a precondition failed), ACTOR_EINVAL (NULL store, NULL ops with n_ops > 0,
 * unknown kind, empty key, NULL key or value pointer with a non-zero length), ACTOR_ETOOBIG (a key
 * over STORE_KEY_MAX, a value over STORE_VALUE_MAX, or with "lmdb" the map or LMDB's transaction
 * is full; earlier data stays intact), ACTOR_ENOMEM, ACTOR_ESYSTEM (I/O error: detail in the
 * log). Argument errors are found before anything is touched. */
actor_err_t store_apply(store_t *store, const store_op_t *ops, size_t n_ops);

/* Sets key to value as a one-operation batch: store_apply() with one STORE_OP_PUT. */
actor_err_t store_put(store_t *store, const void *key, size_t key_len, const void *value,
                      size_t value_len);

/* Removes key as a one-operation batch: store_apply() with one STORE_OP_DELETE. ACTOR_OK also
 * when the key was absent. */
actor_err_t store_delete(store_t *store, const void *key, size_t key_len);

/* Calls fn(arg, ...) for each key that starts with the prefix_len bytes at prefix, in key order,
 * until fn returns false or the keys run out; a prefix_len of 0 visits every key. The scan sees
 * one consistent snapshot: batches applied meanwhile by other threads are not seen ("lmdb"), or
 * wait for the scan to end ("memory"). Returns ACTOR_OK whether fn stopped the scan or not. If an
 * error is returned, fn was never called, except ACTOR_ESYSTEM from a read failure in the middle
 * of an "lmdb" scan (a corrupt file), after some calls.
 * Errors: ACTOR_EINVAL (NULL store or fn, NULL prefix with prefix_len > 0), ACTOR_ETOOBIG
 * (prefix longer than STORE_KEY_MAX), ACTOR_ESYSTEM. */
actor_err_t store_scan(store_t *store, const void *prefix, size_t prefix_len, store_scan_fn fn,
                       void *arg);

#endif
