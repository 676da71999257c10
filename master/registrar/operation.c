/*
 * operation.c: the registrar's operations (registrar.h's registrar_op_kind_t), after Mesos's
 * src/master/registry_operations.cpp. registrar_submit() turns the caller's op into a request
 * that owns a checked copy of everything it needs: the agent id or roles, and the new entry
 * already packed as it will be stored, so that the registrar's own turn does no packing. The
 * registrar then applies the requests of a batch in order: each precondition is evaluated
 * against the index as the earlier requests left it, and the ones that hold add their puts and
 * deletes to the batch.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "master/registrar/registrar_int.h"

/* Time values must fit an int64 of nanoseconds: about 292 years either side of the epoch. */
#define TIMESTAMP_MAX_SECONDS 9.2e9

static bool name_valid(const char *name)
{
    return name != NULL && name[0] != '\0' && strlen(name) <= REGISTRY_NAME_MAX;
}

static actor_err_t copy_name(const char *name, char **out)
{
    if (!name_valid(name))
        return ACTOR_EINVAL;
    *out = strdup(name);
    return *out != NULL ? ACTOR_OK : ACTOR_ENOMEM;
}

static actor_err_t copy_agent(registrar_request_t *r, const Mesos__AgentInfo *agent)
{
    if (agent == NULL || agent->id == NULL)
        return ACTOR_EINVAL;
    Mesos__Internal__Registry__Registry__Agent entry =
        MESOS__INTERNAL__REGISTRY__REGISTRY__AGENT__INIT;
    entry.info = (Mesos__AgentInfo *)agent; /* only read by the packer */
    actor_err_t err = copy_name(agent->id->value, &r->agent_id);
    if (err != ACTOR_OK)
        return err;
    return registry_pack(&entry.base, &r->value, &r->value_len);
}

static actor_err_t copy_timestamp(registrar_request_t *r, double seconds)
{
    if (!isfinite(seconds) || fabs(seconds) > TIMESTAMP_MAX_SECONDS)
        return ACTOR_EINVAL;
    r->timestamp = (int64_t)llround(seconds * 1e9);
    return ACTOR_OK;
}

/* The entry of an agent marked unreachable or gone: its id and the time, packed. */
static actor_err_t copy_marked(registrar_request_t *r, const registrar_op_t *op)
{
    actor_err_t err = copy_name(op->agent_id, &r->agent_id);
    if (err == ACTOR_OK)
        err = copy_timestamp(r, op->timestamp);
    if (err != ACTOR_OK)
        return err;
    Mesos__AgentID id = MESOS__AGENT_ID__INIT;
    id.value = r->agent_id;
    Mesos__TimeInfo time = MESOS__TIME_INFO__INIT;
    time.nanoseconds = r->timestamp;
    if (op->kind == REGISTRAR_MARK_GONE) {
        Mesos__Internal__Registry__Registry__GoneAgent gone =
            MESOS__INTERNAL__REGISTRY__REGISTRY__GONE_AGENT__INIT;
        gone.id = &id;
        gone.timestamp = &time;
        return registry_pack(&gone.base, &r->value, &r->value_len);
    }
    Mesos__Internal__Registry__Registry__UnreachableAgent unreachable =
        MESOS__INTERNAL__REGISTRY__REGISTRY__UNREACHABLE_AGENT__INIT;
    unreachable.id = &id;
    unreachable.timestamp = &time;
    return registry_pack(&unreachable.base, &r->value, &r->value_len);
}

static actor_err_t copy_weight(registrar_weight_t *out, const Mesos__WeightInfo *weight)
{
    if (weight == NULL || !isfinite(weight->weight) || weight->weight <= 0.0)
        return ACTOR_EINVAL;
    actor_err_t err = copy_name(weight->role, &out->role);
    if (err != ACTOR_OK || weight->weight == 1.0)
        return err;
    Mesos__Internal__Registry__Registry__Weight entry =
        MESOS__INTERNAL__REGISTRY__REGISTRY__WEIGHT__INIT;
    entry.info = (Mesos__WeightInfo *)weight; /* only read by the packer */
    return registry_pack(&entry.base, &out->value, &out->value_len);
}

static actor_err_t copy_weights(registrar_request_t *r, const registrar_op_t *op)
{
    if (op->weight_count == 0)
        return ACTOR_OK;
    if (op->weights == NULL)
        return ACTOR_EINVAL;
    r->weights = calloc(op->weight_count, sizeof(*r->weights));
    if (r->weights == NULL)
        return ACTOR_ENOMEM;
    r->weight_count = op->weight_count;
    for (size_t i = 0; i < op->weight_count; i++) {
        actor_err_t err = copy_weight(&r->weights[i], op->weights[i]);
        if (err != ACTOR_OK)
            return err;
    }
    return ACTOR_OK;
}

static actor_err_t copy_op(registrar_request_t *r, const registrar_op_t *op)
{
    switch (op->kind) {
    case REGISTRAR_ADMIT_AGENT:
    case REGISTRAR_UPDATE_AGENT:
    case REGISTRAR_MARK_REACHABLE:
        return copy_agent(r, op->agent);
    case REGISTRAR_MARK_UNREACHABLE:
    case REGISTRAR_MARK_GONE:
        return copy_marked(r, op);
    case REGISTRAR_REMOVE_AGENT:
        return copy_name(op->agent_id, &r->agent_id);
    case REGISTRAR_PRUNE_UNREACHABLE:
        return copy_timestamp(r, op->timestamp);
    case REGISTRAR_UPDATE_WEIGHTS:
        return copy_weights(r, op);
    }
    return ACTOR_EINVAL; /* a kind outside the enum */
}

actor_err_t operation_new(const registrar_op_t *op, registrar_request_t **out)
{
    if (op == NULL)
        return ACTOR_EINVAL;
    registrar_request_t *r = calloc(1, sizeof(*r));
    if (r == NULL)
        return ACTOR_ENOMEM;
    r->kind = op->kind;
    actor_err_t err = copy_op(r, op);
    if (err != ACTOR_OK) {
        operation_free(r);
        return err;
    }
    *out = r;
    return ACTOR_OK;
}

void operation_free(registrar_request_t *r)
{
    if (r == NULL)
        return;
    for (size_t i = 0; i < r->weight_count; i++) {
        free(r->weights[i].role);
        free(r->weights[i].value);
    }
    free(r->weights);
    free(r->agent_id);
    free(r->value);
    free(r);
}

/* ---- preconditions and mutations ---- */

/* Where each state keeps an agent's entry. */
static const registry_kind_t entry_kinds[] = {
    [AGENT_ADMITTED] = REGISTRY_AGENT,
    [AGENT_UNREACHABLE] = REGISTRY_UNREACHABLE,
    [AGENT_GONE] = REGISTRY_GONE,
};

/* The state each agent operation moves its agent to. */
static const agent_state_t targets[] = {
    [REGISTRAR_ADMIT_AGENT] = AGENT_ADMITTED,
    [REGISTRAR_UPDATE_AGENT] = AGENT_ADMITTED,
    [REGISTRAR_MARK_UNREACHABLE] = AGENT_UNREACHABLE,
    [REGISTRAR_MARK_REACHABLE] = AGENT_ADMITTED,
    [REGISTRAR_MARK_GONE] = AGENT_GONE,
    [REGISTRAR_REMOVE_AGENT] = AGENT_UNKNOWN,
};

static bool precondition(registrar_op_kind_t kind, agent_state_t state)
{
    switch (kind) {
    case REGISTRAR_ADMIT_AGENT:
        return state == AGENT_UNKNOWN || state == AGENT_UNREACHABLE;
    case REGISTRAR_MARK_REACHABLE:
        return state == AGENT_UNREACHABLE;
    case REGISTRAR_MARK_GONE:
        return state == AGENT_ADMITTED || state == AGENT_UNREACHABLE;
    default:
        return state == AGENT_ADMITTED;
    }
}

/* Moves the request's agent from state `from` to `to`: deletes the entry it had (unless the new
 * one replaces it), puts the request's value as its new entry, and records `to` in the index. */
static actor_err_t move_agent(registrar_request_t *r, agent_index_t *index, registry_batch_t *batch,
                              agent_state_t from, agent_state_t to)
{
    actor_err_t err = ACTOR_OK;
    if (from != AGENT_UNKNOWN && from != to)
        err = registry_batch_add(batch, entry_kinds[from], r->agent_id, NULL, 0);
    if (err == ACTOR_OK && to != AGENT_UNKNOWN)
        err = registry_batch_add(batch, entry_kinds[to], r->agent_id, r->value, r->value_len);
    if (err == ACTOR_OK)
        err = agent_index_set(index, r->agent_id, to, r->timestamp);
    return err;
}

typedef struct prune {
    int64_t before; /* ns since the epoch */
    registry_batch_t *batch;
    actor_err_t err;
} prune_t;

static bool prune_entry(void *arg, const char *id, agent_state_t state, int64_t timestamp)
{
    prune_t *p = arg;
    if (p->err != ACTOR_OK || state != AGENT_UNREACHABLE || timestamp >= p->before)
        return false;
    p->err = registry_batch_add(p->batch, REGISTRY_UNREACHABLE, id, NULL, 0);
    return p->err == ACTOR_OK;
}

static actor_err_t update_weights(const registrar_request_t *r, registry_batch_t *batch)
{
    for (size_t i = 0; i < r->weight_count; i++) {
        const registrar_weight_t *w = &r->weights[i];
        actor_err_t err =
            registry_batch_add(batch, REGISTRY_WEIGHT, w->role, w->value, w->value_len);
        if (err != ACTOR_OK)
            return err;
    }
    return ACTOR_OK;
}

actor_err_t operation_apply(registrar_request_t *r, agent_index_t *index, registry_batch_t *batch)
{
    r->applied = true;
    if (r->kind == REGISTRAR_PRUNE_UNREACHABLE) {
        prune_t prune = {r->timestamp, batch, ACTOR_OK};
        agent_index_remove_if(index, prune_entry, &prune);
        return prune.err;
    }
    if (r->kind == REGISTRAR_UPDATE_WEIGHTS)
        return update_weights(r, batch);
    agent_state_t state = agent_index_get(index, r->agent_id, NULL);
    r->applied = precondition(r->kind, state);
    if (!r->applied)
        return ACTOR_OK;
    return move_agent(r, index, batch, state, targets[r->kind]);
}
