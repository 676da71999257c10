/*
 * memory.c: the "memory" backend of the store, for `--registry=in_memory` and tests.
 *
 * The table is an array of entries sorted by key (memcmp order, shorter first on a tie), each
 * entry one allocation holding its key and value. Lookups are binary searches; an insert or a
 * removal moves the pointers after it, O(n), which is cheap for the thousands of keys a test or an
 * in-memory registry holds. A reader-writer lock makes every call safe from any thread.
 *
 * A batch is applied in three steps, so that it is all or nothing without an undo log: check the
 * preconditions, allocate everything the puts need (entries and room in the array), then apply
 * the puts and deletes, which can no longer fail.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_int.h"

typedef struct entry {
    size_t key_len;   /* bytes, 1..STORE_KEY_MAX */
    size_t value_len; /* bytes; the value follows the key in data */
    unsigned char data[];
} entry_t;

typedef struct memory {
    pthread_rwlock_t lock; /* readers: get, scan; writer: apply */
    entry_t **entries;     /* sorted by key, no duplicates */
    size_t count;          /* entries in use */
    size_t capacity;       /* entries allocated */
} memory_t;

static int key_compare(const void *a, size_t a_len, const void *b, size_t b_len)
{
    int c = memcmp(a, b, a_len < b_len ? a_len : b_len);
    if (c != 0)
        return c;
    return (a_len > b_len) - (a_len < b_len);
}

/* Index of the first entry whose key is >= key (count if none). */
static size_t lower_bound(const memory_t *mem, const void *key, size_t key_len)
{
    size_t lo = 0, hi = mem->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const entry_t *e = mem->entries[mid];
        if (key_compare(e->data, e->key_len, key, key_len) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* The entry of key, or NULL; *indexp is where it is or would be inserted. */
static entry_t *find(const memory_t *mem, const void *key, size_t key_len, size_t *indexp)
{
    size_t i = lower_bound(mem, key, key_len);
    *indexp = i;
    if (i == mem->count)
        return NULL;
    entry_t *e = mem->entries[i];
    if (key_compare(e->data, e->key_len, key, key_len) != 0)
        return NULL;
    return e;
}

static actor_err_t memory_open(void **implp, const char *path, const store_options_t *options)
{
    (void)path;
    (void)options;
    memory_t *mem = calloc(1, sizeof(*mem));
    if (mem == NULL)
        return ACTOR_ENOMEM;
    /* Writers first, so that a stream of readers cannot starve the registrar's writes. */
    pthread_rwlockattr_t attr;
    pthread_rwlockattr_init(&attr);
    pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    int rc = pthread_rwlock_init(&mem->lock, &attr);
    pthread_rwlockattr_destroy(&attr);
    if (rc != 0) {
        free(mem);
        return ACTOR_ENOMEM;
    }
    *implp = mem;
    return ACTOR_OK;
}

static void memory_close(void *impl)
{
    memory_t *mem = impl;
    for (size_t i = 0; i < mem->count; i++)
        free(mem->entries[i]);
    free(mem->entries);
    pthread_rwlock_destroy(&mem->lock);
    free(mem);
}

/* A malloc'd copy of e's value, never NULL (an empty value gets one byte); NULL if out of memory.
 */
static void *value_copy(const entry_t *e)
{
    void *copy = malloc(e->value_len > 0 ? e->value_len : 1);
    if (copy != NULL)
        memcpy(copy, e->data + e->key_len, e->value_len);
    return copy;
}

static actor_err_t memory_get(void *impl, const void *key, size_t key_len, void **valuep,
                              size_t *value_lenp)
{
    memory_t *mem = impl;
    actor_err_t err = ACTOR_OK;
    size_t i;
    pthread_rwlock_rdlock(&mem->lock);
    const entry_t *e = find(mem, key, key_len, &i);
    void *copy = e != NULL ? value_copy(e) : NULL;
    if (e == NULL)
        err = ACTOR_ENOENT;
    else if (copy == NULL)
        err = ACTOR_ENOMEM;
    else {
        *valuep = copy;
        *value_lenp = e->value_len;
    }
    pthread_rwlock_unlock(&mem->lock);
    return err;
}

/* ACTOR_OK if every precondition of the batch holds, else ACTOR_EBUSY. */
static actor_err_t check_preconditions(const memory_t *mem, const store_op_t *ops, size_t n_ops)
{
    for (size_t k = 0; k < n_ops; k++) {
        const store_op_t *op = &ops[k];
        if (op->kind != STORE_OP_EXPECT && op->kind != STORE_OP_EXPECT_ABSENT)
            continue;
        size_t i;
        const entry_t *e = find(mem, op->key, op->key_len, &i);
        if (op->kind == STORE_OP_EXPECT_ABSENT) {
            if (e != NULL)
                return ACTOR_EBUSY;
            continue;
        }
        if (e == NULL || e->value_len != op->value_len ||
            (op->value_len > 0 && memcmp(e->data + e->key_len, op->value, op->value_len) != 0))
            return ACTOR_EBUSY;
    }
    return ACTOR_OK;
}

static entry_t *entry_new(const store_op_t *op)
{
    if (op->value_len > SIZE_MAX - sizeof(entry_t) - op->key_len)
        return NULL;
    entry_t *e = malloc(sizeof(*e) + op->key_len + op->value_len);
    if (e == NULL)
        return NULL;
    e->key_len = op->key_len;
    e->value_len = op->value_len;
    memcpy(e->data, op->key, op->key_len);
    if (op->value_len > 0)
        memcpy(e->data + op->key_len, op->value, op->value_len);
    return e;
}

static actor_err_t reserve(memory_t *mem, size_t extra)
{
    if (extra <= mem->capacity - mem->count)
        return ACTOR_OK;
    if (extra > SIZE_MAX / sizeof(*mem->entries) / 2 - mem->count)
        return ACTOR_ENOMEM;
    size_t want = mem->count + extra;
    size_t capacity = mem->capacity > 0 ? mem->capacity : 16;
    while (capacity < want)
        capacity *= 2;
    entry_t **entries = realloc(mem->entries, capacity * sizeof(*entries));
    if (entries == NULL)
        return ACTOR_ENOMEM;
    mem->entries = entries;
    mem->capacity = capacity;
    return ACTOR_OK;
}

/* Allocates into fresh[] one entry per put of the batch, in order; on failure frees them. */
static actor_err_t prepare_puts(const store_op_t *ops, size_t n_ops, entry_t **fresh)
{
    size_t n = 0;
    for (size_t k = 0; k < n_ops; k++) {
        if (ops[k].kind != STORE_OP_PUT)
            continue;
        fresh[n] = entry_new(&ops[k]);
        if (fresh[n] == NULL)
            goto fail_free_fresh;
        n++;
    }
    return ACTOR_OK;

fail_free_fresh:
    while (n > 0)
        free(fresh[--n]);
    return ACTOR_ENOMEM;
}

/* Inserts or replaces e; room in the array is reserved. Cannot fail. */
static void put_entry(memory_t *mem, entry_t *e)
{
    size_t i;
    entry_t *old = find(mem, e->data, e->key_len, &i);
    if (old != NULL) {
        mem->entries[i] = e;
        free(old);
        return;
    }
    memmove(&mem->entries[i + 1], &mem->entries[i], (mem->count - i) * sizeof(*mem->entries));
    mem->entries[i] = e;
    mem->count++;
}

/* Removes key if present. Cannot fail. */
static void delete_key(memory_t *mem, const void *key, size_t key_len)
{
    size_t i;
    entry_t *old = find(mem, key, key_len, &i);
    if (old == NULL)
        return;
    memmove(&mem->entries[i], &mem->entries[i + 1], (mem->count - i - 1) * sizeof(*mem->entries));
    mem->count--;
    free(old);
}

/* Applies the puts (their entries prepared in fresh[], in order) and deletes. Cannot fail. */
static void changes_apply(memory_t *mem, const store_op_t *ops, size_t n_ops, entry_t **fresh)
{
    size_t next = 0;
    for (size_t k = 0; k < n_ops; k++) {
        if (ops[k].kind == STORE_OP_PUT)
            put_entry(mem, fresh[next++]);
        else if (ops[k].kind == STORE_OP_DELETE)
            delete_key(mem, ops[k].key, ops[k].key_len);
    }
}

static actor_err_t memory_apply(void *impl, const store_op_t *ops, size_t n_ops)
{
    memory_t *mem = impl;
    size_t n_puts = 0;
    for (size_t k = 0; k < n_ops; k++)
        n_puts += ops[k].kind == STORE_OP_PUT;
    entry_t **fresh = malloc((n_puts > 0 ? n_puts : 1) * sizeof(*fresh));
    if (fresh == NULL)
        return ACTOR_ENOMEM;
    pthread_rwlock_wrlock(&mem->lock);
    actor_err_t err = check_preconditions(mem, ops, n_ops);
    if (err != ACTOR_OK)
        goto unlock;
    err = reserve(mem, n_puts);
    if (err != ACTOR_OK)
        goto unlock;
    err = prepare_puts(ops, n_ops, fresh);
    if (err != ACTOR_OK)
        goto unlock;
    changes_apply(mem, ops, n_ops, fresh);
unlock:
    pthread_rwlock_unlock(&mem->lock);
    free(fresh);
    return err;
}

static actor_err_t memory_scan(void *impl, const void *prefix, size_t prefix_len, store_scan_fn fn,
                               void *arg)
{
    memory_t *mem = impl;
    pthread_rwlock_rdlock(&mem->lock);
    size_t i = prefix_len > 0 ? lower_bound(mem, prefix, prefix_len) : 0;
    for (; i < mem->count; i++) {
        const entry_t *e = mem->entries[i];
        if (!store_key_has_prefix(e->data, e->key_len, prefix, prefix_len))
            break;
        if (!fn(arg, e->data, e->key_len, e->data + e->key_len, e->value_len))
            break;
    }
    pthread_rwlock_unlock(&mem->lock);
    return ACTOR_OK;
}

const store_backend_t store_memory_backend = {
    .name = "memory",
    .open = memory_open,
    .close = memory_close,
    .get = memory_get,
    .apply = memory_apply,
    .scan = memory_scan,
};
