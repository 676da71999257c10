/*
 * registrar_int.h: the registrar's private parts, shared by its files and its tests.
 *
 *  - registry.c: the registry's layout in the store. Each entry is a key of its own, a prefix and
 *    a name: "agents/<agent id>" (Registry.Agent), "unreachable/<agent id>"
 *    (Registry.UnreachableAgent), "gone/<agent id>" (Registry.GoneAgent), "weights/<role>"
 *    (Registry.Weight), and "master" (Registry.Master). It reads the entries back, checking that
 *    each value decodes and names what its key says, and builds the store batches that change
 *    them.
 *  - index.c: the registrar's in-memory index of agent ids (admitted, unreachable with its time,
 *    gone), against which preconditions are checked without reading the store.
 *  - operation.c: an operation as the registrar queues it (a checked, packed copy of the
 *    caller's registrar_op_t), and its precondition and mutation.
 *  - recover.c: registrar_recover().
 *  - registrar.c: the actor.
 */
#ifndef MASTER_REGISTRAR_REGISTRAR_INT_H
#define MASTER_REGISTRAR_REGISTRAR_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "master/registrar/registrar.h"

typedef Mesos__Internal__Registry__Registry registry_t;

/* ---- registry.c: the layout ---- */

#define REGISTRY_KEY_MASTER "master"

/* The kinds of entry stored one per key under a prefix. */
typedef enum registry_kind {
    REGISTRY_AGENT,       /* "agents/<id>": Registry.Agent */
    REGISTRY_UNREACHABLE, /* "unreachable/<id>": Registry.UnreachableAgent */
    REGISTRY_GONE,        /* "gone/<id>": Registry.GoneAgent */
    REGISTRY_WEIGHT,      /* "weights/<role>": Registry.Weight */
    REGISTRY_KIND_COUNT
} registry_kind_t;

/* Longest name (agent id or role) in bytes, so that every prefix plus the name fits in
 * STORE_KEY_MAX. */
#define REGISTRY_NAME_MAX (STORE_KEY_MAX - sizeof("unreachable/") + 1)

/* Called by registry_scan() with each entry, decoded and checked; takes ownership of msg (free
 * with protobuf_c_message_free_unpacked(msg, NULL)) whatever it returns. Returns ACTOR_OK to go
 * on, or an error that ends the scan and is returned by it. */
typedef actor_err_t (*registry_visit_fn)(void *arg, registry_kind_t kind, ProtobufCMessage *msg);

/* Visits every entry of `kind` in key order. Errors: ACTOR_EPROTO (a value that does not decode
 * or names another entry than its key), the store's errors, and the visitor's. */
actor_err_t registry_scan(store_t *store, registry_kind_t kind, registry_visit_fn visit, void *arg);

/* The name an entry's value carries (agent id, role); NULL if it has none. */
const char *registry_entry_name(registry_kind_t kind, const ProtobufCMessage *msg);

/* Packs msg into a new buffer *value (the caller frees it) after checking that every required
 * field is set, so that what is stored decodes again. Errors: ACTOR_EINVAL (a required field is
 * missing, or the value is over STORE_VALUE_MAX), ACTOR_ENOMEM. */
actor_err_t registry_pack(const ProtobufCMessage *msg, void **value, size_t *value_len);

/* A batch of puts and deletes being built for one store_apply(). Keys are the batch's; values
 * are borrowed and must outlive the store_apply(). */
typedef struct registry_batch {
    store_op_t *ops;
    size_t count;
    size_t cap; /* bytes allocated at ops */
} registry_batch_t;

void registry_batch_init(registry_batch_t *batch);
void registry_batch_fini(registry_batch_t *batch);

/* Adds a put of value (borrowed) at the key of entry `name` of `kind`. value NULL: a delete.
 * Errors: ACTOR_ENOMEM (the batch is unchanged). */
actor_err_t registry_batch_add(registry_batch_t *batch, registry_kind_t kind, const char *name,
                               const void *value, size_t value_len);

/* ---- index.c: the agents' states ---- */

typedef enum agent_state {
    AGENT_UNKNOWN = 0, /* not in the registry (never admitted, removed, or pruned) */
    AGENT_ADMITTED,
    AGENT_UNREACHABLE,
    AGENT_GONE,
} agent_state_t;

typedef struct agent_entry agent_entry_t;

/* A hash table from agent id to state; one per registrar, touched only by its actor. */
typedef struct agent_index {
    agent_entry_t **buckets;
    size_t bucket_count; /* 0 or a power of two */
    size_t count;        /* entries, never above bucket_count */
} agent_index_t;

/* Starts an empty index. Cannot fail: buckets are allocated by the first set. */
void agent_index_init(agent_index_t *index);
void agent_index_fini(agent_index_t *index);

/* The state of id (AGENT_UNKNOWN if absent); *timestamp (if not NULL) gets the time it was
 * marked unreachable or gone, in nanoseconds since the epoch. */
agent_state_t agent_index_get(const agent_index_t *index, const char *id, int64_t *timestamp);

/* Sets the state of id; AGENT_UNKNOWN removes it. Errors: ACTOR_ENOMEM (index unchanged). */
actor_err_t agent_index_set(agent_index_t *index, const char *id, agent_state_t state,
                            int64_t timestamp);

/* Calls fn for each entry, in no particular order, and removes those it returns true for. fn
 * must not touch the index. */
typedef bool (*agent_index_remove_fn)(void *arg, const char *id, agent_state_t state,
                                      int64_t timestamp);
void agent_index_remove_if(agent_index_t *index, agent_index_remove_fn fn, void *arg);

/* Fills the index from the agents', unreachable and gone entries of store. Errors as
 * registry_scan(). */
actor_err_t agent_index_load(agent_index_t *index, store_t *store);

/* ---- operation.c: queued operations ---- */

typedef struct registrar_weight {
    char *role;
    void *value; /* packed Registry.Weight; NULL for weight 1.0, which deletes the entry */
    size_t value_len;
} registrar_weight_t;

/* A submitted operation, owned by the registrar from registrar_submit() until answered. */
typedef struct registrar_request {
    struct registrar_request *next; /* in the registrar's pending list, in arrival order */
    registrar_op_kind_t kind;
    char *agent_id;    /* every kind but PRUNE and UPDATE_WEIGHTS */
    void *value;       /* the agent's new entry, packed: Registry.Agent (ADMIT, UPDATE,
                          MARK_REACHABLE), UnreachableAgent, GoneAgent; NULL for REMOVE */
    size_t value_len;  /* bytes at value */
    int64_t timestamp; /* nanoseconds since the epoch: MARK_UNREACHABLE, MARK_GONE, PRUNE */
    registrar_weight_t *weights;
    size_t weight_count;
    bool applied; /* the answer, set by operation_apply() */
    actor_pid_t submitter;
    registrar_done_fn done;
    void *arg;
} registrar_request_t;

/* Checks op and copies it into a new request. Errors: ACTOR_EINVAL (op lacks what its kind
 * needs, a name is empty or over REGISTRY_NAME_MAX, a timestamp or weight is not a finite
 * number, a message lacks a required field), ACTOR_ENOMEM. */
actor_err_t operation_new(const registrar_op_t *op, registrar_request_t **out);

/* Frees the request (not its arg). NULL is ignored. */
void operation_free(registrar_request_t *request);

/* Evaluates the request's precondition against index; if it holds, adds its puts and deletes to
 * batch and updates index as the batch will leave the store. Sets request->applied. Errors:
 * ACTOR_ENOMEM, after which index and batch may hold part of the operation. */
actor_err_t operation_apply(registrar_request_t *request, agent_index_t *index,
                            registry_batch_t *batch);

#endif
