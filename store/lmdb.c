/*
 * lmdb.c: the "lmdb" backend of the store: one LMDB environment in a directory, its unnamed
 * database holding the keys in LMDB's default (memcmp) order.
 *
 * Durability: the environment is opened with LMDB's default synchronous commits (never
 * MDB_NOSYNC, MDB_NOMETASYNC, MDB_MAPASYNC or MDB_WRITEMAP), so mdb_txn_commit() fdatasyncs the
 * data pages and then the meta page before it returns; a batch is one write transaction, hence one
 * commit. LMDB is copy-on-write and never overwrites live pages, so a crash at any point, kill -9
 * included, leaves the last committed transaction. The directory is fsync'd after the open (and
 * the parent of every directory open creates), so that data.mdb itself survives power loss.
 *
 * Threads: MDB_NOTLS ties a read transaction to its handle rather than to the thread, so reads may
 * come from any thread (the actor runtime moves actors between workers) without using up a
 * reader slot per thread. Each call begins and ends its own transaction. LMDB's writer mutex
 * serializes store_apply() calls, and is robust, so a writer killed mid-transaction does not wedge
 * the next process; stale reader slots of killed processes are cleared at open.
 *
 * Errors: every LMDB or system failure is logged here with its detail (actor_err_t cannot carry
 * it) and mapped to an actor_err_t: MDB_MAP_FULL and MDB_TXN_FULL to ACTOR_ETOOBIG, ENOMEM to
 * ACTOR_ENOMEM, the rest to ACTOR_ESYSTEM.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lmdb.h>

#include "actor/log.h"
#include "store/store_int.h"

typedef struct lmdb {
    MDB_env *env;
    MDB_dbi dbi; /* the unnamed database */
    char *path;  /* the directory, for logs */
} lmdb_t;

static actor_err_t error_map(int rc)
{
    switch (rc) {
    case MDB_SUCCESS:
        return ACTOR_OK;
    case MDB_NOTFOUND:
        return ACTOR_ENOENT;
    case MDB_MAP_FULL:
    case MDB_TXN_FULL:
        return ACTOR_ETOOBIG;
    case ENOMEM:
        return ACTOR_ENOMEM;
    default:
        return ACTOR_ESYSTEM;
    }
}

/* Logs why `what` failed on the store at path and returns the mapped error. */
static actor_err_t fail(const char *path, const char *what, int rc)
{
    LOG_ERROR("Failed to %s the store at %s because of %s", what, path, mdb_strerror(rc));
    return error_map(rc);
}

/* fsyncs a directory so that the entries created in it are durable. Returns 0 or an errno. */
static int dir_sync(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return errno;
    int rc = 0;
    if (fsync(fd) != 0 && errno != EINVAL) /* EINVAL: this file system cannot sync directories */
        rc = errno;
    close(fd);
    return rc;
}

/* fsyncs the directory holding the last component of path (a writable copy). */
static int parent_sync(char *path)
{
    char *slash = strrchr(path, '/');
    if (slash == NULL)
        return dir_sync(".");
    if (slash == path)
        return dir_sync("/");
    *slash = '\0';
    int rc = dir_sync(path);
    *slash = '/';
    return rc;
}

/* Creates the directory path (a writable copy) if missing, syncing its parent. Returns 0 or an
 * errno value. */
static int dir_make(char *path)
{
    if (mkdir(path, 0700) == 0)
        return parent_sync(path);
    return errno == EEXIST ? 0 : errno;
}

/* Creates path (a writable copy) and its missing parents, like mkdir -p. Returns 0 or an errno
 * value; a last component that exists but is not a directory fails later, in mdb_env_open(). */
static int dirs_make(char *path)
{
    size_t len = strlen(path);
    for (size_t i = 1; i <= len; i++) {
        if ((path[i] != '/' && path[i] != '\0') || path[i - 1] == '/')
            continue;
        char saved = path[i];
        path[i] = '\0';
        int rc = dir_make(path);
        path[i] = saved;
        if (rc != 0)
            return rc;
    }
    return 0;
}

static size_t page_round_up(size_t size)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    return size > SIZE_MAX - page ? size : (size + page - 1) / page * page;
}

/* Creates and opens the environment of db->path. On error db->env is left NULL. */
static actor_err_t env_open(lmdb_t *db, size_t map_size)
{
    MDB_env *env;
    int rc = mdb_env_create(&env);
    if (rc != MDB_SUCCESS)
        return fail(db->path, "create an environment for", rc);
    rc = mdb_env_set_mapsize(env, page_round_up(map_size));
    if (rc != MDB_SUCCESS)
        goto fail_close_env;
    rc = mdb_env_open(env, db->path, MDB_NOTLS, 0600);
    if (rc != MDB_SUCCESS)
        goto fail_close_env;
    db->env = env;
    return ACTOR_OK;

fail_close_env:
    mdb_env_close(env);
    return fail(db->path, "open", rc);
}

/* Checks the key size, clears stale readers, opens the unnamed database, syncs the directory. */
static actor_err_t env_prepare(lmdb_t *db)
{
    if (mdb_env_get_maxkeysize(db->env) < STORE_KEY_MAX) {
        LOG_ERROR("Refusing the store at %s because this LMDB allows keys of %d bytes, not %d",
                  db->path, mdb_env_get_maxkeysize(db->env), STORE_KEY_MAX);
        return ACTOR_ESYSTEM;
    }
    int dead;
    int rc = mdb_reader_check(db->env, &dead);
    if (rc != MDB_SUCCESS)
        return fail(db->path, "check the readers of", rc);
    MDB_txn *txn;
    rc = mdb_txn_begin(db->env, NULL, 0, &txn);
    if (rc != MDB_SUCCESS)
        return fail(db->path, "begin a transaction on", rc);
    rc = mdb_dbi_open(txn, NULL, 0, &db->dbi);
    if (rc != MDB_SUCCESS) {
        mdb_txn_abort(txn);
        return fail(db->path, "open the database of", rc);
    }
    rc = mdb_txn_commit(txn);
    if (rc != MDB_SUCCESS)
        return fail(db->path, "commit the database handle of", rc);
    rc = dir_sync(db->path);
    if (rc != 0)
        return fail(db->path, "sync the directory of", rc);
    return ACTOR_OK;
}

static actor_err_t lmdb_open(void **implp, const char *path, const store_options_t *options)
{
    if (path == NULL || path[0] == '\0')
        return ACTOR_EINVAL;
    lmdb_t *db = calloc(1, sizeof(*db));
    if (db == NULL)
        return ACTOR_ENOMEM;
    actor_err_t err = ACTOR_ENOMEM;
    int rc;
    db->path = strdup(path);
    if (db->path == NULL)
        goto fail_free_db;
    rc = dirs_make(db->path);
    if (rc != 0) {
        err = fail(db->path, "create the directory of", rc);
        goto fail_free_path;
    }
    err = env_open(db, options->map_size > 0 ? options->map_size : STORE_MAP_SIZE_DEFAULT);
    if (err != ACTOR_OK)
        goto fail_free_path;
    err = env_prepare(db);
    if (err != ACTOR_OK)
        goto fail_close_env;
    *implp = db;
    return ACTOR_OK;

fail_close_env:
    mdb_env_close(db->env);
fail_free_path:
    free(db->path);
fail_free_db:
    free(db);
    return err;
}

static void lmdb_close(void *impl)
{
    lmdb_t *db = impl;
    mdb_env_close(db->env);
    free(db->path);
    free(db);
}

/* Begins a transaction; adopts a map grown by another process (MDB_MAP_RESIZED) once. */
static int txn_begin(lmdb_t *db, unsigned int flags, MDB_txn **txnp)
{
    int rc = mdb_txn_begin(db->env, NULL, flags, txnp);
    if (rc == MDB_MAP_RESIZED && mdb_env_set_mapsize(db->env, 0) == MDB_SUCCESS)
        rc = mdb_txn_begin(db->env, NULL, flags, txnp);
    return rc;
}

static MDB_val val_of(const void *data, size_t len)
{
    return (MDB_val){.mv_size = len, .mv_data = (void *)data};
}

/* Copies v into a malloc'd buffer, never NULL (an empty value gets one byte). */
static actor_err_t value_copy(const MDB_val *v, void **valuep, size_t *value_lenp)
{
    void *copy = malloc(v->mv_size > 0 ? v->mv_size : 1);
    if (copy == NULL)
        return ACTOR_ENOMEM;
    memcpy(copy, v->mv_data, v->mv_size);
    *valuep = copy;
    *value_lenp = v->mv_size;
    return ACTOR_OK;
}

static actor_err_t lmdb_get(void *impl, const void *key, size_t key_len, void **valuep,
                            size_t *value_lenp)
{
    lmdb_t *db = impl;
    MDB_txn *txn;
    int rc = txn_begin(db, MDB_RDONLY, &txn);
    if (rc != MDB_SUCCESS)
        return fail(db->path, "begin a read transaction on", rc);
    MDB_val k = val_of(key, key_len), v;
    rc = mdb_get(txn, db->dbi, &k, &v);
    actor_err_t err;
    if (rc == MDB_SUCCESS)
        err = value_copy(&v, valuep, value_lenp);
    else if (rc == MDB_NOTFOUND)
        err = ACTOR_ENOENT;
    else
        err = fail(db->path, "read", rc);
    mdb_txn_abort(txn);
    return err;
}

/* True if the precondition op holds given the current value (present or not) of its key. */
static bool precondition_holds(const store_op_t *op, bool present, const MDB_val *v)
{
    if (op->kind == STORE_OP_EXPECT_ABSENT)
        return !present;
    return present && v->mv_size == op->value_len &&
           (v->mv_size == 0 || memcmp(v->mv_data, op->value, v->mv_size) == 0);
}

/* ACTOR_OK if every precondition of the batch holds in txn, ACTOR_EBUSY if one fails, or the
 * (logged) error of a failed read. */
static actor_err_t preconditions_check(lmdb_t *db, MDB_txn *txn, const store_op_t *ops,
                                       size_t n_ops)
{
    for (size_t i = 0; i < n_ops; i++) {
        const store_op_t *op = &ops[i];
        if (op->kind != STORE_OP_EXPECT && op->kind != STORE_OP_EXPECT_ABSENT)
            continue;
        MDB_val k = val_of(op->key, op->key_len), v = {0, NULL};
        int rc = mdb_get(txn, db->dbi, &k, &v);
        if (rc != MDB_SUCCESS && rc != MDB_NOTFOUND)
            return fail(db->path, "read a precondition from", rc);
        if (!precondition_holds(op, rc == MDB_SUCCESS, &v))
            return ACTOR_EBUSY;
    }
    return ACTOR_OK;
}

/* Applies the puts and deletes of the batch to txn, in order. */
static int changes_apply(lmdb_t *db, MDB_txn *txn, const store_op_t *ops, size_t n_ops)
{
    for (size_t i = 0; i < n_ops; i++) {
        const store_op_t *op = &ops[i];
        MDB_val k = val_of(op->key, op->key_len);
        MDB_val v = val_of(op->value, op->value_len);
        int rc = MDB_SUCCESS;
        if (op->kind == STORE_OP_PUT)
            rc = mdb_put(txn, db->dbi, &k, &v, 0);
        else if (op->kind == STORE_OP_DELETE)
            rc = mdb_del(txn, db->dbi, &k, NULL);
        if (rc != MDB_SUCCESS && !(rc == MDB_NOTFOUND && op->kind == STORE_OP_DELETE))
            return rc;
    }
    return MDB_SUCCESS;
}

static actor_err_t lmdb_apply(void *impl, const store_op_t *ops, size_t n_ops)
{
    lmdb_t *db = impl;
    MDB_txn *txn;
    int rc = txn_begin(db, 0, &txn);
    if (rc != MDB_SUCCESS)
        return fail(db->path, "begin a write transaction on", rc);
    actor_err_t err = preconditions_check(db, txn, ops, n_ops);
    if (err != ACTOR_OK)
        goto fail_abort_txn;
    rc = changes_apply(db, txn, ops, n_ops);
    if (rc != MDB_SUCCESS) {
        err = fail(db->path, "apply a batch to", rc);
        goto fail_abort_txn;
    }
    rc = mdb_txn_commit(txn); /* frees txn, also on failure */
    if (rc != MDB_SUCCESS)
        return fail(db->path, "commit a batch to", rc);
    return ACTOR_OK;

fail_abort_txn:
    mdb_txn_abort(txn);
    return err;
}

/* Positions cursor on the first key >= prefix; MDB_NOTFOUND if there is none. */
static int cursor_seek(MDB_cursor *cursor, const void *prefix, size_t prefix_len, MDB_val *k,
                       MDB_val *v)
{
    if (prefix_len == 0)
        return mdb_cursor_get(cursor, k, v, MDB_FIRST);
    *k = val_of(prefix, prefix_len);
    return mdb_cursor_get(cursor, k, v, MDB_SET_RANGE);
}

static actor_err_t lmdb_scan(void *impl, const void *prefix, size_t prefix_len, store_scan_fn fn,
                             void *arg)
{
    lmdb_t *db = impl;
    MDB_txn *txn;
    MDB_cursor *cursor;
    int rc = txn_begin(db, MDB_RDONLY, &txn);
    if (rc != MDB_SUCCESS)
        return fail(db->path, "begin a read transaction on", rc);
    rc = mdb_cursor_open(txn, db->dbi, &cursor);
    if (rc != MDB_SUCCESS)
        goto fail_abort_txn;
    MDB_val k, v;
    rc = cursor_seek(cursor, prefix, prefix_len, &k, &v);
    while (rc == MDB_SUCCESS && store_key_has_prefix(k.mv_data, k.mv_size, prefix, prefix_len) &&
           fn(arg, k.mv_data, k.mv_size, v.mv_data, v.mv_size))
        rc = mdb_cursor_get(cursor, &k, &v, MDB_NEXT);
    mdb_cursor_close(cursor);
    if (rc != MDB_SUCCESS && rc != MDB_NOTFOUND)
        goto fail_abort_txn;
    mdb_txn_abort(txn);
    return ACTOR_OK;

fail_abort_txn:
    mdb_txn_abort(txn);
    return fail(db->path, "scan", rc);
}

const store_backend_t store_lmdb_backend = {
    .name = "lmdb",
    .open = lmdb_open,
    .close = lmdb_close,
    .get = lmdb_get,
    .apply = lmdb_apply,
    .scan = lmdb_scan,
};
