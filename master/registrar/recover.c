/*
 * recover.c: registrar_recover(), the start of the registrar (Mesos's Registrar::recover): open
 * the store, read the registry the previous master left, and record the new master in it before
 * the master acts on anything. Runs on the caller's thread, before any actor owns the store.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actor/growbuf.h"
#include "actor/log.h"
#include "master/registrar/registrar_int.h"

typedef struct reader {
    registry_t *registry;
    size_t caps[REGISTRY_KIND_COUNT]; /* bytes allocated for each repeated field */
} reader_t;

static actor_err_t open_store(const char *registry, const char *work_dir,
                              const store_options_t *options, store_t **store)
{
    if (strcmp(registry, "in_memory") == 0)
        return store_open(store, "memory", NULL, NULL);
    if (strcmp(registry, "replicated_log") != 0 && strcmp(registry, "lmdb") != 0)
        return ACTOR_EINVAL;
    if (work_dir == NULL || work_dir[0] == '\0')
        return ACTOR_EINVAL;
    size_t len = strlen(work_dir) + sizeof("/registry");
    char *path = malloc(len);
    if (path == NULL)
        return ACTOR_ENOMEM;
    snprintf(path, len, "%s/registry", work_dir);
    actor_err_t err = store_open(store, "lmdb", path, options);
    if (err != ACTOR_OK)
        LOG_ERROR("Failed to open the registry at %s: %s", path, actor_strerror(err));
    free(path);
    return err;
}

/* An empty registry whose agents, unreachable and gone lists are set, so readers need not test
 * for NULL. */
static actor_err_t registry_new(registry_t **out)
{
    registry_t *r = malloc(sizeof(*r));
    if (r == NULL)
        return ACTOR_ENOMEM;
    mesos__internal__registry__registry__init(r);
    r->agents = malloc(sizeof(*r->agents));
    if (r->agents != NULL)
        mesos__internal__registry__registry__agents__init(r->agents);
    r->unreachable = malloc(sizeof(*r->unreachable));
    if (r->unreachable != NULL)
        mesos__internal__registry__registry__unreachable_agents__init(r->unreachable);
    r->gone = malloc(sizeof(*r->gone));
    if (r->gone != NULL)
        mesos__internal__registry__registry__gone_agents__init(r->gone);
    if (r->agents == NULL || r->unreachable == NULL || r->gone == NULL) {
        mesos__internal__registry__registry__free_unpacked(r, NULL);
        return ACTOR_ENOMEM;
    }
    *out = r;
    return ACTOR_OK;
}

/* Appends item to the repeated field at *arrayp (a pointer to its array of pointers). */
static actor_err_t append(void *arrayp, size_t *count, size_t *cap, void *item)
{
    void ***array = arrayp;
    if (!growbuf_reserve((void **)array, cap, *count * sizeof(void *), sizeof(void *),
                         16 * sizeof(void *)))
        return ACTOR_ENOMEM;
    (*array)[(*count)++] = item;
    return ACTOR_OK;
}

static actor_err_t collect(void *arg, registry_kind_t kind, ProtobufCMessage *msg)
{
    reader_t *reader = arg;
    registry_t *r = reader->registry;
    size_t *cap = &reader->caps[kind];
    actor_err_t err = ACTOR_EINVAL;
    if (kind == REGISTRY_AGENT)
        err = append(&r->agents->agents, &r->agents->n_agents, cap, msg);
    else if (kind == REGISTRY_UNREACHABLE)
        err = append(&r->unreachable->agents, &r->unreachable->n_agents, cap, msg);
    else if (kind == REGISTRY_GONE)
        err = append(&r->gone->agents, &r->gone->n_agents, cap, msg);
    else if (kind == REGISTRY_WEIGHT)
        err = append(&r->weights, &r->n_weights, cap, msg);
    if (err != ACTOR_OK)
        protobuf_c_message_free_unpacked(msg, NULL);
    return err;
}

static actor_err_t read_master(store_t *store, registry_t *registry)
{
    void *value = NULL;
    size_t len = 0;
    const char *key = REGISTRY_KEY_MASTER;
    actor_err_t err = store_get(store, key, strlen(key), &value, &len);
    if (err == ACTOR_ENOENT)
        return ACTOR_OK;
    if (err != ACTOR_OK)
        return err;
    registry->master = (Mesos__Internal__Registry__Registry__Master *)protobuf_c_message_unpack(
        &mesos__internal__registry__registry__master__descriptor, NULL, len, value);
    free(value);
    if (registry->master == NULL) {
        LOG_ERROR("Refusing the registry entry " REGISTRY_KEY_MASTER
                  " because its value does not decode");
        return ACTOR_EPROTO;
    }
    return ACTOR_OK;
}

static actor_err_t read_registry(store_t *store, registry_t **out)
{
    reader_t reader = {0};
    actor_err_t err = registry_new(&reader.registry);
    if (err != ACTOR_OK)
        return err;
    err = read_master(store, reader.registry);
    for (int kind = 0; kind < REGISTRY_KIND_COUNT && err == ACTOR_OK; kind++)
        err = registry_scan(store, (registry_kind_t)kind, collect, &reader);
    if (err != ACTOR_OK) {
        mesos__internal__registry__registry__free_unpacked(reader.registry, NULL);
        return err;
    }
    *out = reader.registry;
    return ACTOR_OK;
}

static actor_err_t write_master(store_t *store, const Mesos__MasterInfo *master)
{
    Mesos__Internal__Registry__Registry__Master entry =
        MESOS__INTERNAL__REGISTRY__REGISTRY__MASTER__INIT;
    entry.info = (Mesos__MasterInfo *)master; /* only read by the packer */
    void *value = NULL;
    size_t len = 0;
    actor_err_t err = registry_pack(&entry.base, &value, &len);
    if (err != ACTOR_OK)
        return err;
    const char *key = REGISTRY_KEY_MASTER;
    err = store_put(store, key, strlen(key), value, len);
    free(value);
    return err;
}

actor_err_t registrar_recover(const char *registry, const char *work_dir,
                              const store_options_t *options, const Mesos__MasterInfo *master,
                              store_t **store, registry_t **previous)
{
    if (registry == NULL || master == NULL || store == NULL || previous == NULL ||
        !protobuf_c_message_check(&master->base))
        return ACTOR_EINVAL;
    store_t *opened = NULL;
    actor_err_t err = open_store(registry, work_dir, options, &opened);
    if (err != ACTOR_OK)
        return err;
    registry_t *read = NULL;
    err = read_registry(opened, &read);
    if (err != ACTOR_OK) {
        LOG_ERROR("Failed to read the registry: %s", actor_strerror(err));
        goto fail_close_store;
    }
    err = write_master(opened, master);
    if (err != ACTOR_OK) {
        LOG_ERROR("Failed to record the master in the registry: %s", actor_strerror(err));
        goto fail_free_registry;
    }
    *store = opened;
    *previous = read;
    return ACTOR_OK;

fail_free_registry:
    mesos__internal__registry__registry__free_unpacked(read, NULL);
fail_close_store:
    store_close(opened);
    return err;
}
