/*
 * cycle.c: one allocation cycle (Mesos's HierarchicalAllocatorProcess::allocate, without quota).
 *
 * The awake agents are visited in a shuffled order (a xorshift generator with a fixed seed,
 * advanced every cycle: each cycle sees another order, and runs are reproducible). For each
 * agent the role tree is walked depth first in DRF order, skipping subtrees with no offerable
 * member or nothing on the agent they may use; in a role, its members are tried in DRF order
 * and the first one without a live filter on the agent gets everything on the agent the role
 * may use (unreserved resources, and those reserved to the role or an ancestor), if that passes
 * the min-allocatable check. A filter blocks a member only when what it refused on the agent for
 * that role holds all of that (Mesos's RefusedOfferFilter). The grant moves the framework, its role
 * and the role's ancestors to their new places at once, so the next agent sees the new order. What
 * is left (resources reserved to other roles) goes through the walk again; when nobody can take it
 * the agent goes dormant.
 *
 * Each grant owns one block holding its three strings (framework_id points at its start), so a
 * grant is self-contained and allocator_grants_free() frees it without the allocator.
 */
#include <stdlib.h>
#include <string.h>

#include "master/allocator/allocator_int.h"

/* ---- what an agent offers a role ---- */

static bool entry_usable(const resources_entry_t *e, const role_t *r)
{
    return strcmp(e->role, RESOURCES_ROLE_ANY) == 0 || role_covers(e->role, r->path);
}

/* Mesos's min-allocatable check on what r may use of ag's free resources. */
static bool allocatable_for(const agent_t *ag, const role_t *r)
{
    if (ag->free_reserved == 0)
        return qty_allocatable(&ag->free_q);
    qty_t q = {{0}};
    for (size_t i = 0; i < ag->free.count; i++) {
        const resources_entry_t *e = &ag->free.entries[i];
        if (e->type != RESOURCES_SCALAR || !entry_usable(e, r))
            continue;
        if (strcmp(e->name, "cpus") == 0)
            q.v[SCALAR_CPUS] += e->scalar;
        else if (strcmp(e->name, "mem") == 0)
            q.v[SCALAR_MEM] += e->scalar;
    }
    return qty_allocatable(&q);
}

/* Whether r or a role below it may use anything of ag's free resources. */
static bool subtree_may_use(const agent_t *ag, const role_t *r)
{
    if (ag->free_reserved < ag->free.count)
        return true; /* something unreserved */
    for (size_t i = 0; i < ag->free.count; i++) {
        const char *owner = ag->free.entries[i].role;
        if (role_covers(owner, r->path) || role_covers(r->path, owner))
            return true;
    }
    return false;
}

/* Shallow views of ag's free entries that r may use (`usable`) and may not (`other`, when not
 * NULL): arrays of entry copies whose pointers are ag's, for reading only (contains, copy).
 * Free each view's entries with free(). ACTOR_ENOMEM leaves both empty. */
static actor_err_t usable_views(const agent_t *ag, const role_t *r, resources_t *usable,
                                resources_t *other)
{
    size_t n = ag->free.count;
    *usable = (resources_t){malloc(n * sizeof(resources_entry_t)), 0};
    if (other != NULL)
        *other = (resources_t){malloc(n * sizeof(resources_entry_t)), 0};
    if (usable->entries == NULL || (other != NULL && other->entries == NULL)) {
        free(usable->entries);
        *usable = (resources_t){NULL, 0};
        if (other != NULL) {
            free(other->entries);
            *other = (resources_t){NULL, 0};
        }
        return ACTOR_ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        const resources_entry_t *e = &ag->free.entries[i];
        if (entry_usable(e, r))
            usable->entries[usable->count++] = *e;
        else if (other != NULL)
            other->entries[other->count++] = *e;
    }
    return ACTOR_OK;
}

/* Splits ag's free resources into what r may use and the rest (both new copies). */
static actor_err_t split_usable(const agent_t *ag, const role_t *r, resources_t *taken,
                                resources_t *rest)
{
    resources_t use_view, keep_view;
    actor_err_t rc = usable_views(ag, r, &use_view, &keep_view);
    if (rc == ACTOR_OK)
        rc = resources_copy(taken, &use_view);
    if (rc == ACTOR_OK)
        rc = resources_copy(rest, &keep_view);
    free(use_view.entries);
    free(keep_view.entries);
    return rc;
}

/* ---- choosing the framework ---- */

/* What ag would offer a member of one role, for the filter checks of one pick: all of ag's free
 * resources, or, when some are reserved, a view of those the role may use (made on the first
 * check that needs it). */
typedef struct offer_view {
    const resources_t *res; /* NULL until needed */
    resources_t usable;     /* the view's entries are ours */
    filter_memo_t memo;
} offer_view_t;

/* Whether a filter of m holds everything ag would offer m's role. */
static bool member_filtered(const allocator_t *a, const agent_t *ag, const member_t *m, double now,
                            offer_view_t *offer)
{
    uint32_t slot = m->fw->slot, epoch = a->fw_epochs[slot];
    if (offer->res == NULL && ag->free_reserved == 0) {
        offer->res = &ag->free;
    } else if (offer->res == NULL) {
        if (!filter_table_has(&ag->filters, slot, epoch, m->uid, now))
            return false;
        if (usable_views(ag, m->role, &offer->usable, NULL) != ACTOR_OK)
            return true; /* no memory to tell: skip it this cycle rather than offer refusals */
        offer->res = &offer->usable;
    }
    return filter_table_blocks(&ag->filters, slot, epoch, m->uid, now, offer->res, &offer->memo);
}

static member_t *pick_member(const allocator_t *a, const role_t *r, const agent_t *ag, double now)
{
    if (r->members.count == 0 || !allocatable_for(ag, r))
        return NULL;
    offer_view_t offer = {0};
    member_t *picked = NULL;
    for (sortlist_node_t *n = sortlist_first(&r->members); n != NULL; n = sortlist_next(n)) {
        member_t *m = container_of(n, member_t, node);
        if (!member_filtered(a, ag, m, now, &offer)) {
            picked = m;
            break;
        }
    }
    if (offer.usable.entries != NULL)
        free(offer.usable.entries);
    return picked;
}

/* The first member in DRF order under r that may take something of ag. */
static member_t *pick(const allocator_t *a, const role_t *r, const agent_t *ag, double now)
{
    for (sortlist_node_t *n = sortlist_first(&r->children); n != NULL; n = sortlist_next(n)) {
        member_t *m = NULL;
        if (n == &r->self) {
            m = pick_member(a, r, ag, now);
        } else {
            const role_t *child = container_of(n, role_t, entry);
            if (child->offerable > 0 && subtree_may_use(ag, child))
                m = pick(a, child, ag, now);
        }
        if (m != NULL)
            return m;
    }
    return NULL;
}

/* ---- the grants ---- */

/* out->items grows by doubling from 16; its capacity is implied by its count. */
static actor_err_t grants_reserve(allocator_t *a, allocator_grants_t *out, size_t made)
{
    size_t cap = 16;
    while (cap < out->count)
        cap *= 2;
    if (out->count == 0 || out->count == cap) {
        size_t grown = out->count == 0 ? 16 : cap * 2;
        allocator_grant_t *items = realloc(out->items, grown * sizeof(*items));
        if (items == NULL)
            return ACTOR_ENOMEM;
        out->items = items;
    }
    if (made < a->grant_cap)
        return ACTOR_OK;
    size_t grown = a->grant_cap ? a->grant_cap * 2 : 64;
    framework_t **fws = realloc(a->grant_fw, grown * sizeof(*fws));
    if (fws != NULL)
        a->grant_fw = fws;
    allocator_grant_t *staged = realloc(a->staged, grown * sizeof(*staged));
    if (staged != NULL)
        a->staged = staged;
    if (fws == NULL || staged == NULL)
        return ACTOR_ENOMEM;
    a->grant_cap = grown;
    return ACTOR_OK;
}

static char *grant_strings(const framework_t *fw, const agent_t *ag, const role_t *r)
{
    size_t lf = strlen(fw->id) + 1, la = strlen(ag->id) + 1, lr = strlen(r->path) + 1;
    char *s = malloc(lf + la + lr);
    if (s != NULL) {
        memcpy(s, fw->id, lf);
        memcpy(s + lf, ag->id, la);
        memcpy(s + lf + la, r->path, lr);
    }
    return s;
}

/* Gives m everything of ag its role may use, as grant number `made` of this cycle. */
static actor_err_t grant(allocator_t *a, agent_t *ag, member_t *m, allocator_grants_t *out,
                         size_t made)
{
    framework_t *fw = m->fw;
    if (grants_reserve(a, out, made) != ACTOR_OK)
        return ACTOR_ENOMEM;
    char *strings = grant_strings(fw, ag, m->role);
    if (strings == NULL)
        return ACTOR_ENOMEM;
    resources_t taken, rest;
    resources_init(&taken);
    resources_init(&rest);
    qty_t q;
    bool whole = ag->free_reserved == 0;
    actor_err_t rc = whole ? ACTOR_OK : split_usable(ag, m->role, &taken, &rest);
    if (rc == ACTOR_OK) {
        if (whole)
            q = ag->free_q;
        else
            qty_of(a, &taken, &q);
        rc = record_grow(a, ag, fw, fw->id, m->role, whole ? &ag->free : &taken, &q,
                         whole ? ag->free_set_gen : 0);
    }
    if (rc != ACTOR_OK) {
        resources_fini(&taken);
        resources_fini(&rest);
        free(strings);
        return rc;
    }
    if (whole) {
        taken = ag->free; /* moved, not copied */
        resources_init(&ag->free);
    } else {
        resources_fini(&ag->free);
        ag->free = rest;
    }
    agent_free_changed(a, ag);
    size_t lf = strlen(fw->id) + 1, la = strlen(ag->id) + 1;
    out->items[out->count++] = (allocator_grant_t){
        .framework_id = strings,
        .agent_id = strings + lf,
        .role = strings + lf + la,
        .resources = taken,
    };
    a->grant_fw[made] = fw;
    return ACTOR_OK;
}

/* Offers ag until nothing on it finds a taker. */
static actor_err_t visit(allocator_t *a, agent_t *ag, double now, allocator_grants_t *out,
                         size_t *made)
{
    if (ag->filters.min_expires <= now) /* some filter expired: let go of what it held */
        filter_table_next_expiry(&ag->filters, a->fw_epochs, now);
    while (ag->state == AGENT_AWAKE) {
        member_t *m = pick(a, a->root, ag, now);
        if (m == NULL) {
            agent_sleep(a, ag, now);
            break;
        }
        actor_err_t rc = grant(a, ag, m, out, *made);
        if (rc != ACTOR_OK)
            return rc;
        (*made)++;
    }
    return ACTOR_OK;
}

/* Reorders the cycle's n grants (from out->items[start]) so that each framework's are adjacent,
 * frameworks in order of their first grant, grants of one framework in visit order. */
static void group_by_framework(allocator_t *a, allocator_grants_t *out, size_t start, size_t n)
{
    for (size_t k = 0; k < n; k++) {
        framework_t *fw = a->grant_fw[k];
        if (fw->group_cycle != a->cycle) {
            fw->group_cycle = a->cycle;
            fw->group_count = 0;
            fw->group_next = SIZE_MAX;
        }
        fw->group_count++;
    }
    size_t pos = start;
    for (size_t k = 0; k < n; k++) {
        framework_t *fw = a->grant_fw[k];
        if (fw->group_next == SIZE_MAX) {
            fw->group_next = pos;
            pos += fw->group_count;
        }
        a->staged[k] = out->items[start + k];
    }
    for (size_t k = 0; k < n; k++)
        out->items[a->grant_fw[k]->group_next++] = a->staged[k];
}

static uint64_t next_random(uint64_t *state)
{
    uint64_t x = *state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return x * UINT64_C(0x2545F4914F6CDD1D);
}

static void shuffle(uint64_t *rng, agent_t **v, size_t n)
{
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)(next_random(rng) % i);
        agent_t *t = v[i - 1];
        v[i - 1] = v[j];
        v[j] = t;
    }
}

/* Prefetches what visiting visit[i + 2..8] will read, in three stages, because with agents in
 * a shuffled order every one of them is a cache miss otherwise: the agent, then the arrays it
 * points to, then the strings and ranges its free entries point to. */
static void prefetch_ahead(agent_t *const *visit, size_t i, size_t n)
{
    if (i + 8 < n)
        __builtin_prefetch(visit[i + 8]);
    if (i + 4 < n) {
        const agent_t *ag = visit[i + 4];
        __builtin_prefetch(ag->free.entries);
        __builtin_prefetch(ag->filters.entries);
        __builtin_prefetch(ag->records);
    }
    if (i + 2 < n) {
        const agent_t *ag = visit[i + 2];
        for (size_t k = 0; k < ag->free.count && k < 8; k++) {
            __builtin_prefetch(ag->free.entries[k].name);
            __builtin_prefetch(ag->free.entries[k].role);
            __builtin_prefetch(ag->free.entries[k].ranges);
        }
    }
}

actor_err_t allocator_allocate(allocator_t *a, double now, allocator_grants_t *out)
{
    if (a == NULL || out == NULL)
        return ACTOR_EINVAL;
    a->cycle++;
    if (a->shares_stale)
        roles_resort(a);
    agents_wake_due(a, now);
    if (a->root->offerable == 0)
        return ACTOR_OK;
    size_t n = a->awake.count;
    memcpy(a->visit, a->awake.items, n * sizeof(*a->visit));
    shuffle(&a->rng, a->visit, n);
    size_t start = out->count, made = 0;
    actor_err_t rc = ACTOR_OK;
    for (size_t i = 0; i < n && rc == ACTOR_OK; i++) {
        prefetch_ahead(a->visit, i, n);
        rc = visit(a, a->visit[i], now, out, &made);
    }
    group_by_framework(a, out, start, made);
    return rc;
}

bool allocator_pending(const allocator_t *a, double now)
{
    if (a->root->offerable == 0)
        return false;
    if (a->awake.count > 0)
        return true;
    const minheap_node_t *top = minheap_top(&a->wakeups);
    return top != NULL && top->key <= now;
}

void allocator_grants_free(allocator_grants_t *grants)
{
    if (grants == NULL)
        return;
    for (size_t i = 0; i < grants->count; i++) {
        free((char *)grants->items[i].framework_id);
        resources_fini(&grants->items[i].resources);
    }
    free(grants->items);
    grants->items = NULL;
    grants->count = 0;
}
