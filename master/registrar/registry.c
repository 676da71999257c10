/*
 * registry.c: the registry's layout in the store (registrar_int.h): one key per entry, so that an
 * operation on one agent writes one small value, and reading the entries back with the checks
 * that make a damaged store an error (ACTOR_EPROTO) rather than a wrong registry.
 */
#include <stdlib.h>
#include <string.h>

#include "actor/growbuf.h"
#include "actor/log.h"
#include "master/registrar/registrar_int.h"

static const struct {
    const char *prefix;
    const ProtobufCMessageDescriptor *descriptor;
} layout[REGISTRY_KIND_COUNT] = {
    [REGISTRY_AGENT] = {"agents/", &mesos__internal__registry__registry__agent__descriptor},
    [REGISTRY_UNREACHABLE] = {"unreachable/",
                              &mesos__internal__registry__registry__unreachable_agent__descriptor},
    [REGISTRY_GONE] = {"gone/", &mesos__internal__registry__registry__gone_agent__descriptor},
    [REGISTRY_WEIGHT] = {"weights/", &mesos__internal__registry__registry__weight__descriptor},
};

static const char *agent_id_name(const Mesos__AgentID *id)
{
    return id != NULL ? id->value : NULL;
}

const char *registry_entry_name(registry_kind_t kind, const ProtobufCMessage *msg)
{
    switch (kind) {
    case REGISTRY_AGENT: {
        const Mesos__AgentInfo *info =
            ((const Mesos__Internal__Registry__Registry__Agent *)msg)->info;
        return info != NULL ? agent_id_name(info->id) : NULL;
    }
    case REGISTRY_UNREACHABLE:
        return agent_id_name(
            ((const Mesos__Internal__Registry__Registry__UnreachableAgent *)msg)->id);
    case REGISTRY_GONE:
        return agent_id_name(((const Mesos__Internal__Registry__Registry__GoneAgent *)msg)->id);
    case REGISTRY_WEIGHT: {
        const Mesos__WeightInfo *info =
            ((const Mesos__Internal__Registry__Registry__Weight *)msg)->info;
        return info != NULL ? info->role : NULL;
    }
    case REGISTRY_KIND_COUNT:
        break;
    }
    return NULL;
}

typedef struct scan {
    registry_kind_t kind;
    size_t prefix_len;
    registry_visit_fn visit;
    void *arg;
    actor_err_t err; /* the first error; ends the scan */
} scan_t;

static bool scan_entry(void *arg, const void *key, size_t key_len, const void *value,
                       size_t value_len)
{
    scan_t *scan = arg;
    ProtobufCMessage *msg =
        protobuf_c_message_unpack(layout[scan->kind].descriptor, NULL, value_len, value);
    if (msg == NULL) {
        LOG_ERROR("Refusing the registry entry %.*s because its value does not decode",
                  (int)key_len, (const char *)key);
        scan->err = ACTOR_EPROTO;
        return false;
    }
    const char *name = registry_entry_name(scan->kind, msg);
    size_t name_len = key_len - scan->prefix_len;
    if (name == NULL || strlen(name) != name_len ||
        memcmp(name, (const char *)key + scan->prefix_len, name_len) != 0) {
        LOG_ERROR("Refusing the registry entry %.*s because its value names another entry",
                  (int)key_len, (const char *)key);
        protobuf_c_message_free_unpacked(msg, NULL);
        scan->err = ACTOR_EPROTO;
        return false;
    }
    scan->err = scan->visit(scan->arg, scan->kind, msg);
    return scan->err == ACTOR_OK;
}

actor_err_t registry_scan(store_t *store, registry_kind_t kind, registry_visit_fn visit, void *arg)
{
    const char *prefix = layout[kind].prefix;
    scan_t scan = {kind, strlen(prefix), visit, arg, ACTOR_OK};
    actor_err_t err = store_scan(store, prefix, scan.prefix_len, scan_entry, &scan);
    return err != ACTOR_OK ? err : scan.err;
}

actor_err_t registry_pack(const ProtobufCMessage *msg, void **value, size_t *value_len)
{
    if (!protobuf_c_message_check(msg))
        return ACTOR_EINVAL;
    size_t len = protobuf_c_message_get_packed_size(msg);
    if (len > STORE_VALUE_MAX)
        return ACTOR_EINVAL;
    uint8_t *buf = malloc(len > 0 ? len : 1);
    if (buf == NULL)
        return ACTOR_ENOMEM;
    protobuf_c_message_pack(msg, buf);
    *value = buf;
    *value_len = len;
    return ACTOR_OK;
}

void registry_batch_init(registry_batch_t *batch)
{
    memset(batch, 0, sizeof(*batch));
}

void registry_batch_fini(registry_batch_t *batch)
{
    for (size_t i = 0; i < batch->count; i++)
        free((void *)batch->ops[i].key);
    free(batch->ops);
    registry_batch_init(batch);
}

actor_err_t registry_batch_add(registry_batch_t *batch, registry_kind_t kind, const char *name,
                               const void *value, size_t value_len)
{
    size_t used = batch->count * sizeof(store_op_t);
    if (!growbuf_reserve((void **)&batch->ops, &batch->cap, used, sizeof(store_op_t),
                         16 * sizeof(store_op_t)))
        return ACTOR_ENOMEM;
    size_t prefix_len = strlen(layout[kind].prefix);
    size_t name_len = strlen(name);
    char *key = malloc(prefix_len + name_len);
    if (key == NULL)
        return ACTOR_ENOMEM;
    memcpy(key, layout[kind].prefix, prefix_len);
    memcpy(key + prefix_len, name, name_len);
    batch->ops[batch->count++] = (store_op_t){
        .kind = value != NULL ? STORE_OP_PUT : STORE_OP_DELETE,
        .key = key,
        .key_len = prefix_len + name_len,
        .value = value,
        .value_len = value != NULL ? value_len : 0,
    };
    return ACTOR_OK;
}
