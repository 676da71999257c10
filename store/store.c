/*
 * store.c: the front of the key-value store (store.h). It picks the backend by name, checks
 * arguments and limits the same way for every backend, and dispatches through the ops table of
 * store_int.h. It keeps no state of its own beyond the handle.
 */
#include <stdlib.h>
#include <string.h>

#include "store/store_int.h"

static const store_backend_t *const backends[] = {
    &store_lmdb_backend,
    &store_memory_backend,
};

static const store_backend_t *backend_find(const char *name)
{
    for (size_t i = 0; i < sizeof(backends) / sizeof(backends[0]); i++) {
        if (strcmp(backends[i]->name, name) == 0)
            return backends[i];
    }
    return NULL;
}

static actor_err_t key_check(const void *key, size_t key_len)
{
    if (key == NULL || key_len == 0)
        return ACTOR_EINVAL;
    if (key_len > STORE_KEY_MAX)
        return ACTOR_ETOOBIG;
    return ACTOR_OK;
}

static actor_err_t op_check(const store_op_t *op)
{
    actor_err_t err = key_check(op->key, op->key_len);
    if (err != ACTOR_OK)
        return err;
    switch (op->kind) {
    case STORE_OP_PUT:
    case STORE_OP_EXPECT:
        if (op->value == NULL && op->value_len > 0)
            return ACTOR_EINVAL;
        if (op->value_len > STORE_VALUE_MAX)
            return ACTOR_ETOOBIG;
        return ACTOR_OK;
    case STORE_OP_DELETE:
    case STORE_OP_EXPECT_ABSENT:
        return ACTOR_OK;
    }
    return ACTOR_EINVAL; /* a kind outside the enum */
}

actor_err_t store_open(store_t **storep, const char *backend_name, const char *path,
                       const store_options_t *options)
{
    static const store_options_t defaults = {0};
    if (storep == NULL || backend_name == NULL)
        return ACTOR_EINVAL;
    const store_backend_t *backend = backend_find(backend_name);
    if (backend == NULL)
        return ACTOR_EINVAL;
    store_t *store = malloc(sizeof(*store));
    if (store == NULL)
        return ACTOR_ENOMEM;
    store->backend = backend;
    actor_err_t err = backend->open(&store->impl, path, options != NULL ? options : &defaults);
    if (err != ACTOR_OK)
        goto fail_free_store;
    *storep = store;
    return ACTOR_OK;

fail_free_store:
    free(store);
    return err;
}

void store_close(store_t *store)
{
    if (store == NULL)
        return;
    store->backend->close(store->impl);
    free(store);
}

actor_err_t store_get(store_t *store, const void *key, size_t key_len, void **valuep,
                      size_t *value_lenp)
{
    if (store == NULL || valuep == NULL || value_lenp == NULL)
        return ACTOR_EINVAL;
    actor_err_t err = key_check(key, key_len);
    if (err != ACTOR_OK)
        return err;
    return store->backend->get(store->impl, key, key_len, valuep, value_lenp);
}

actor_err_t store_apply(store_t *store, const store_op_t *ops, size_t n_ops)
{
    if (store == NULL || (ops == NULL && n_ops > 0))
        return ACTOR_EINVAL;
    for (size_t i = 0; i < n_ops; i++) {
        actor_err_t err = op_check(&ops[i]);
        if (err != ACTOR_OK)
            return err;
    }
    if (n_ops == 0)
        return ACTOR_OK;
    return store->backend->apply(store->impl, ops, n_ops);
}

actor_err_t store_put(store_t *store, const void *key, size_t key_len, const void *value,
                      size_t value_len)
{
    store_op_t op = {STORE_OP_PUT, key, key_len, value, value_len};
    return store_apply(store, &op, 1);
}

actor_err_t store_delete(store_t *store, const void *key, size_t key_len)
{
    store_op_t op = {STORE_OP_DELETE, key, key_len, NULL, 0};
    return store_apply(store, &op, 1);
}

actor_err_t store_scan(store_t *store, const void *prefix, size_t prefix_len, store_scan_fn fn,
                       void *arg)
{
    if (store == NULL || fn == NULL || (prefix == NULL && prefix_len > 0))
        return ACTOR_EINVAL;
    if (prefix_len > STORE_KEY_MAX)
        return ACTOR_ETOOBIG;
    return store->backend->scan(store->impl, prefix, prefix_len, fn, arg);
}
