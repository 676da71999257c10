/*
 * agents.c: agents, their free resources and their state (allocator_int.h): which agents the
 * next cycle visits (AWAKE), which sleep until an event or a filter expiry wakes them
 * (DORMANT), and which have nothing to offer (FULL) or are deactivated (INACTIVE).
 *
 * The awake and dormant sets are arrays with each agent knowing its index, so entering and
 * leaving are O(1); room for every agent is reserved when it is added, so state changes never
 * fail.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "master/allocator/allocator_int.h"

agent_t *agent_find(const allocator_t *a, const char *id)
{
    return id != NULL ? idmap_get(&a->agents, id) : NULL;
}

static void set_leave(agent_set_t *s, agent_t *ag)
{
    agent_t *last = s->items[--s->count];
    s->items[ag->set_index] = last;
    last->set_index = ag->set_index;
}

static void set_enter(agent_set_t *s, agent_t *ag)
{
    ag->set_index = s->count;
    s->items[s->count++] = ag;
}

void agent_set_state(allocator_t *a, agent_t *ag, agent_state_t state)
{
    if (ag->state == state)
        return;
    if (ag->state == AGENT_AWAKE)
        set_leave(&a->awake, ag);
    if (ag->state == AGENT_DORMANT) {
        set_leave(&a->dormant, ag);
        if (minheap_contains(&ag->wake))
            minheap_remove(&a->wakeups, &ag->wake);
    }
    if (state == AGENT_AWAKE)
        set_enter(&a->awake, ag);
    if (state == AGENT_DORMANT)
        set_enter(&a->dormant, ag);
    ag->state = state;
}

/* The state that ag's activity and free resources call for; a dormant agent wakes. */
static void agent_refresh(allocator_t *a, agent_t *ag)
{
    agent_state_t state = !ag->active                  ? AGENT_INACTIVE
                          : resources_empty(&ag->free) ? AGENT_FULL
                                                       : AGENT_AWAKE;
    agent_set_state(a, ag, state);
}

void agent_free_changed(allocator_t *a, agent_t *ag)
{
    qty_t q;
    qty_of(a, &ag->free, &q);
    if (ag->active) {
        qty_add(&a->free_active, &ag->free_q, -1);
        qty_add(&a->free_active, &q, 1);
    }
    ag->free_q = q;
    ag->free_set_gen = 0;
    ag->free_reserved = 0;
    for (size_t i = 0; i < ag->free.count; i++)
        ag->free_reserved += strcmp(ag->free.entries[i].role, RESOURCES_ROLE_ANY) != 0;
    agent_refresh(a, ag);
}

void agent_sleep(allocator_t *a, agent_t *ag, double now)
{
    agent_set_state(a, ag, AGENT_DORMANT);
    double first = filter_table_next_expiry(&ag->filters, a->fw_epochs, now);
    if (isfinite(first)) {
        ag->wake.key = first;
        minheap_push(&a->wakeups, &ag->wake); /* room reserved: cannot fail */
    }
}

void agents_wake_all(allocator_t *a)
{
    while (a->dormant.count > 0)
        agent_set_state(a, a->dormant.items[a->dormant.count - 1], AGENT_AWAKE);
}

void agents_wake_due(allocator_t *a, double now)
{
    minheap_node_t *n;
    while ((n = minheap_top(&a->wakeups)) != NULL && n->key <= now)
        agent_set_state(a, container_of(n, agent_t, wake), AGENT_AWAKE);
}

/* Room for `count` agents in the sets, the wake-up heap and the cycle's visit list. */
static actor_err_t agents_reserve(allocator_t *a, size_t count)
{
    if (count <= a->agent_cap)
        return ACTOR_OK;
    size_t cap = a->agent_cap ? a->agent_cap * 2 : 64;
    agent_t **awake = realloc(a->awake.items, cap * sizeof(*awake));
    if (awake != NULL)
        a->awake.items = awake;
    agent_t **dormant = realloc(a->dormant.items, cap * sizeof(*dormant));
    if (dormant != NULL)
        a->dormant.items = dormant;
    agent_t **visit = realloc(a->visit, cap * sizeof(*visit));
    if (visit != NULL)
        a->visit = visit;
    if (awake == NULL || dormant == NULL || visit == NULL ||
        minheap_reserve(&a->wakeups, cap) != ACTOR_OK)
        return ACTOR_ENOMEM;
    a->agent_cap = cap;
    return ACTOR_OK;
}

static void agent_dealloc(agent_t *ag)
{
    filter_table_fini(&ag->filters);
    resources_fini(&ag->total);
    resources_fini(&ag->free);
    free(ag->id);
    free(ag);
}

static bool used_valid(const allocator_used_t *used, size_t used_count)
{
    if (used_count > 0 && used == NULL)
        return false;
    for (size_t i = 0; i < used_count; i++)
        if (used[i].framework_id == NULL || used[i].framework_id[0] == '\0' ||
            used[i].resources == NULL || !role_name_valid(used[i].role))
            return false;
    return true;
}

/* Records usage reported by a (re)registering agent, for a framework known or not. */
static actor_err_t agent_use(allocator_t *a, agent_t *ag, const allocator_used_t *u)
{
    if (resources_empty(u->resources))
        return ACTOR_OK;
    role_t *role;
    actor_err_t rc = role_obtain(a, u->role, &role);
    if (rc != ACTOR_OK)
        return rc;
    qty_t q;
    qty_of(a, u->resources, &q);
    rc = record_grow(a, ag, framework_find(a, u->framework_id), u->framework_id, role, u->resources,
                     &q, 0);
    if (rc == ACTOR_OK)
        rc = resources_subtract(&ag->free, u->resources);
    role_release(a, role);
    return rc;
}

actor_err_t allocator_add_agent(allocator_t *a, const char *agent_id, const resources_t *total,
                                const allocator_used_t *used, size_t used_count)
{
    if (agent_id == NULL || agent_id[0] == '\0' || total == NULL || !used_valid(used, used_count))
        return ACTOR_EINVAL;
    if (agent_find(a, agent_id) != NULL)
        return ACTOR_EEXIST;
    if (agents_reserve(a, a->agents.count + 1) != ACTOR_OK)
        return ACTOR_ENOMEM;
    agent_t *ag = calloc(1, sizeof(*ag));
    if (ag == NULL)
        return ACTOR_ENOMEM;
    filter_table_init(&ag->filters);
    minheap_node_init(&ag->wake);
    ag->id = strdup(agent_id);
    if (ag->id == NULL || resources_copy(&ag->total, total) != ACTOR_OK ||
        resources_copy(&ag->free, total) != ACTOR_OK ||
        idmap_put(&a->agents, ag->id, ag) != ACTOR_OK) {
        agent_dealloc(ag);
        return ACTOR_ENOMEM;
    }
    actor_err_t rc = ACTOR_OK;
    for (size_t i = 0; i < used_count && rc == ACTOR_OK; i++)
        rc = agent_use(a, ag, &used[i]);
    ag->active = true;
    qty_of(a, &ag->total, &ag->total_q);
    totals_change(a, &ag->total_q, 1);
    agent_free_changed(a, ag);
    return rc;
}

actor_err_t allocator_add_used(allocator_t *a, const char *agent_id, const allocator_used_t *used,
                               size_t used_count)
{
    agent_t *ag = agent_find(a, agent_id);
    if (ag == NULL || !used_valid(used, used_count))
        return ACTOR_EINVAL;
    actor_err_t rc = ACTOR_OK;
    for (size_t i = 0; i < used_count && rc == ACTOR_OK; i++)
        rc = agent_use(a, ag, &used[i]);
    agent_free_changed(a, ag);
    return rc;
}

actor_err_t allocator_remove_agent(allocator_t *a, const char *agent_id)
{
    agent_t *ag = agent_find(a, agent_id);
    if (ag == NULL)
        return ACTOR_EINVAL;
    while (ag->records != NULL)
        record_free(a, ag->records);
    if (ag->active) {
        totals_change(a, &ag->total_q, -1);
        qty_add(&a->free_active, &ag->free_q, -1);
    }
    agent_set_state(a, ag, AGENT_INACTIVE);
    idmap_remove(&a->agents, ag->id);
    agent_dealloc(ag);
    return ACTOR_OK;
}

static actor_err_t set_active(allocator_t *a, const char *agent_id, bool active)
{
    agent_t *ag = agent_find(a, agent_id);
    if (ag == NULL)
        return ACTOR_EINVAL;
    if (ag->active == active)
        return ACTOR_OK;
    int sign = active ? 1 : -1;
    ag->active = active;
    totals_change(a, &ag->total_q, sign);
    qty_add(&a->free_active, &ag->free_q, sign);
    agent_refresh(a, ag);
    return ACTOR_OK;
}

actor_err_t allocator_activate_agent(allocator_t *a, const char *agent_id)
{
    return set_active(a, agent_id, true);
}

actor_err_t allocator_deactivate_agent(allocator_t *a, const char *agent_id)
{
    return set_active(a, agent_id, false);
}

void agents_free(allocator_t *a)
{
    size_t pos = 0;
    agent_t *ag;
    while ((ag = idmap_next(&a->agents, &pos)) != NULL) {
        while (ag->records != NULL) {
            record_t *rec = ag->records;
            ag->records = rec->agent_next;
            packed_fini(&rec->res);
            free(rec);
        }
        agent_dealloc(ag);
    }
    idmap_fini(&a->agents);
    free(a->awake.items);
    free(a->dormant.items);
    free(a->visit);
    minheap_fini(&a->wakeups);
}
