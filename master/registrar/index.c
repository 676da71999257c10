/*
 * index.c: the registrar's index of agent ids (registrar_int.h): a chained hash table from id to
 * state, so that each operation's precondition costs one lookup however large the registry is.
 * The table doubles when it holds as many entries as buckets.
 */
#include <stdlib.h>
#include <string.h>

#include "master/registrar/registrar_int.h"

#define BUCKETS_INITIAL 64

struct agent_entry {
    agent_entry_t *next; /* in its bucket */
    int64_t timestamp;   /* ns since the epoch: when marked unreachable or gone */
    agent_state_t state; /* never AGENT_UNKNOWN */
    char id[];           /* NUL-terminated */
};

/* FNV-1a, 64 bits. */
static uint64_t hash(const char *id)
{
    uint64_t h = UINT64_C(14695981039346656037);
    for (const unsigned char *p = (const unsigned char *)id; *p != '\0'; p++)
        h = (h ^ *p) * UINT64_C(1099511628211);
    return h;
}

static agent_entry_t **slot_of(const agent_index_t *index, const char *id)
{
    agent_entry_t **slot = &index->buckets[hash(id) & (index->bucket_count - 1)];
    while (*slot != NULL && strcmp((*slot)->id, id) != 0)
        slot = &(*slot)->next;
    return slot;
}

void agent_index_init(agent_index_t *index)
{
    memset(index, 0, sizeof(*index));
}

void agent_index_fini(agent_index_t *index)
{
    for (size_t i = 0; i < index->bucket_count; i++) {
        agent_entry_t *e = index->buckets[i];
        while (e != NULL) {
            agent_entry_t *next = e->next;
            free(e);
            e = next;
        }
    }
    free(index->buckets);
    agent_index_init(index);
}

agent_state_t agent_index_get(const agent_index_t *index, const char *id, int64_t *timestamp)
{
    if (index->count == 0)
        return AGENT_UNKNOWN;
    const agent_entry_t *e = *slot_of(index, id);
    if (e == NULL)
        return AGENT_UNKNOWN;
    if (timestamp != NULL)
        *timestamp = e->timestamp;
    return e->state;
}

static actor_err_t grow(agent_index_t *index)
{
    size_t count = index->bucket_count != 0 ? index->bucket_count * 2 : BUCKETS_INITIAL;
    agent_entry_t **buckets = calloc(count, sizeof(*buckets));
    if (buckets == NULL)
        return ACTOR_ENOMEM;
    for (size_t i = 0; i < index->bucket_count; i++) {
        agent_entry_t *e = index->buckets[i];
        while (e != NULL) {
            agent_entry_t *next = e->next;
            agent_entry_t **head = &buckets[hash(e->id) & (count - 1)];
            e->next = *head;
            *head = e;
            e = next;
        }
    }
    free(index->buckets);
    index->buckets = buckets;
    index->bucket_count = count;
    return ACTOR_OK;
}

static void remove_entry(agent_index_t *index, agent_entry_t **slot)
{
    agent_entry_t *e = *slot;
    *slot = e->next;
    free(e);
    index->count--;
}

actor_err_t agent_index_set(agent_index_t *index, const char *id, agent_state_t state,
                            int64_t timestamp)
{
    agent_entry_t **slot = index->bucket_count != 0 ? slot_of(index, id) : NULL;
    if (state == AGENT_UNKNOWN) {
        if (slot != NULL && *slot != NULL)
            remove_entry(index, slot);
        return ACTOR_OK;
    }
    if (slot == NULL || *slot == NULL) {
        if (index->count == index->bucket_count && grow(index) != ACTOR_OK)
            return ACTOR_ENOMEM;
        size_t len = strlen(id) + 1;
        agent_entry_t *e = malloc(sizeof(*e) + len);
        if (e == NULL)
            return ACTOR_ENOMEM;
        memcpy(e->id, id, len);
        slot = &index->buckets[hash(id) & (index->bucket_count - 1)];
        e->next = *slot;
        *slot = e;
        index->count++;
    }
    (*slot)->state = state;
    (*slot)->timestamp = timestamp;
    return ACTOR_OK;
}

void agent_index_remove_if(agent_index_t *index, agent_index_remove_fn fn, void *arg)
{
    for (size_t i = 0; i < index->bucket_count; i++) {
        agent_entry_t **slot = &index->buckets[i];
        while (*slot != NULL) {
            if (fn(arg, (*slot)->id, (*slot)->state, (*slot)->timestamp))
                remove_entry(index, slot);
            else
                slot = &(*slot)->next;
        }
    }
}

static int64_t timestamp_of(registry_kind_t kind, const ProtobufCMessage *msg)
{
    const Mesos__TimeInfo *time = NULL;
    if (kind == REGISTRY_UNREACHABLE)
        time = ((const Mesos__Internal__Registry__Registry__UnreachableAgent *)msg)->timestamp;
    else if (kind == REGISTRY_GONE)
        time = ((const Mesos__Internal__Registry__Registry__GoneAgent *)msg)->timestamp;
    return time != NULL ? time->nanoseconds : 0;
}

static actor_err_t load_entry(void *arg, registry_kind_t kind, ProtobufCMessage *msg)
{
    static const agent_state_t states[] = {
        [REGISTRY_AGENT] = AGENT_ADMITTED,
        [REGISTRY_UNREACHABLE] = AGENT_UNREACHABLE,
        [REGISTRY_GONE] = AGENT_GONE,
    };
    actor_err_t err =
        agent_index_set(arg, registry_entry_name(kind, msg), states[kind], timestamp_of(kind, msg));
    protobuf_c_message_free_unpacked(msg, NULL);
    return err;
}

actor_err_t agent_index_load(agent_index_t *index, store_t *store)
{
    static const registry_kind_t kinds[] = {REGISTRY_AGENT, REGISTRY_UNREACHABLE, REGISTRY_GONE};
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        actor_err_t err = registry_scan(store, kinds[i], load_entry, index);
        if (err != ACTOR_OK)
            return err;
    }
    return ACTOR_OK;
}
