/*
 * frameworks.c: frameworks and their role memberships. A member (framework, role) sits in its
 * role's sorter only while it is offerable (framework active, role not suppressed), so a cycle
 * never steps over frameworks that cannot take anything, and each role knows how many
 * offerable members its subtree has. Anything that makes a member offerable wakes the dormant
 * agents, which were put to sleep for lack of a taker.
 *
 * Ties within a role go by order of addition (fw->seq), which is deterministic and cheaper to
 * compare than ids.
 */
#include <stdlib.h>
#include <string.h>

#include "master/allocator/allocator_int.h"

framework_t *framework_find(const allocator_t *a, const char *id)
{
    return id != NULL ? idmap_get(&a->frameworks, id) : NULL;
}

member_t *member_find(const framework_t *fw, const role_t *r)
{
    for (size_t i = 0; i < fw->member_count; i++)
        if (fw->members[i]->role == r)
            return fw->members[i];
    return NULL;
}

double member_key(const allocator_t *a, const member_t *m)
{
    return qty_share(a, &m->q);
}

void framework_charge(allocator_t *a, framework_t *fw, role_t *role, const qty_t *q, int sign)
{
    qty_add(&fw->q, q, sign);
    member_t *m = member_find(fw, role);
    if (m != NULL) {
        qty_add(&m->q, q, sign);
        if (sortlist_linked(&m->node))
            sortlist_rekey(&role->members, &m->node, member_key(a, m));
    }
    role_charge(a, role, q, sign);
}

/* ---- slots: a framework's name in filter tables ---- */

static actor_err_t slot_take(allocator_t *a, framework_t *fw)
{
    if (a->fw_free_count == 0 && a->fw_slot_count == a->fw_slot_cap) {
        size_t cap = a->fw_slot_cap ? a->fw_slot_cap * 2 : 64;
        framework_t **slots = realloc(a->fw_slots, cap * sizeof(*slots));
        if (slots != NULL)
            a->fw_slots = slots;
        uint32_t *epochs = realloc(a->fw_epochs, cap * sizeof(*epochs));
        if (epochs != NULL)
            a->fw_epochs = epochs;
        uint32_t *free_slots = realloc(a->fw_free, cap * sizeof(*free_slots));
        if (free_slots != NULL)
            a->fw_free = free_slots;
        if (slots == NULL || epochs == NULL || free_slots == NULL)
            return ACTOR_ENOMEM;
        a->fw_slot_cap = cap;
    }
    if (a->fw_free_count > 0) {
        fw->slot = a->fw_free[--a->fw_free_count];
    } else {
        fw->slot = (uint32_t)a->fw_slot_count++;
        a->fw_epochs[fw->slot] = 0;
    }
    a->fw_slots[fw->slot] = fw;
    return ACTOR_OK;
}

/* The slot's filters die with the bump; the next framework in it starts a new epoch. */
static void slot_release(allocator_t *a, framework_t *fw)
{
    a->fw_epochs[fw->slot]++;
    a->fw_slots[fw->slot] = NULL;
    a->fw_free[a->fw_free_count++] = fw->slot;
}

/* ---- members ---- */

/* Puts m in its role's sorter or takes it out, as its state says. True when it became
 * offerable. */
static bool member_sync(allocator_t *a, member_t *m)
{
    bool offerable = m->fw->active && !m->suppressed;
    if (offerable == sortlist_linked(&m->node))
        return false;
    if (offerable) {
        m->node.key = member_key(a, m);
        sortlist_insert(&m->role->members, &m->node);
        role_offerable(m->role, 1);
    } else {
        sortlist_remove(&m->role->members, &m->node);
        role_offerable(m->role, -1);
    }
    return offerable;
}

static actor_err_t member_add(allocator_t *a, framework_t *fw, const char *path, bool suppressed)
{
    member_t **members = realloc(fw->members, (fw->member_count + 1) * sizeof(*members));
    if (members == NULL)
        return ACTOR_ENOMEM;
    fw->members = members;
    member_t *m = calloc(1, sizeof(*m));
    if (m == NULL)
        return ACTOR_ENOMEM;
    if (role_obtain(a, path, &m->role) != ACTOR_OK) {
        free(m);
        return ACTOR_ENOMEM;
    }
    m->fw = fw;
    m->suppressed = suppressed;
    m->uid = ++a->member_uid;
    m->node.tie = fw->seq;
    m->role->member_count++;
    for (record_t *rec = fw->records; rec != NULL; rec = rec->owner_next) {
        if (rec->role != m->role)
            continue;
        qty_t q;
        qty_of(a, &rec->res.r, &q);
        qty_add(&m->q, &q, 1);
    }
    fw->members[fw->member_count++] = m;
    return ACTOR_OK;
}

static void member_remove(allocator_t *a, framework_t *fw, size_t i)
{
    member_t *m = fw->members[i];
    if (sortlist_linked(&m->node)) {
        sortlist_remove(&m->role->members, &m->node);
        role_offerable(m->role, -1);
    }
    m->role->member_count--;
    role_release(a, m->role);
    free(m);
    fw->members[i] = fw->members[--fw->member_count];
}

/* Syncs every member; wakes the dormant agents when one became offerable. */
static void framework_sync(allocator_t *a, framework_t *fw)
{
    bool woke = false;
    for (size_t i = 0; i < fw->member_count; i++)
        woke |= member_sync(a, fw->members[i]);
    if (woke)
        agents_wake_all(a);
}

static bool strings_contain(const char *const *list, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(list[i], s) == 0)
            return true;
    return false;
}

/* Roles of a subscription: at least one, each valid, none twice. */
static bool roles_valid(const char *const *roles, size_t n)
{
    if (roles == NULL || n == 0)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!role_name_valid(roles[i]) || strings_contain(roles, i, roles[i]))
            return false;
    return true;
}

static bool add_args_valid(const char *id, const char *const *roles, size_t role_count,
                           const char *const *suppressed, size_t suppressed_count,
                           const allocator_used_t *used, size_t used_count)
{
    if (id == NULL || id[0] == '\0' || !roles_valid(roles, role_count))
        return false;
    if (suppressed_count > 0 && suppressed == NULL)
        return false;
    for (size_t i = 0; i < suppressed_count; i++)
        if (suppressed[i] == NULL)
            return false;
    if (used_count > 0 && used == NULL)
        return false;
    for (size_t i = 0; i < used_count; i++)
        if (used[i].agent_id == NULL || used[i].resources == NULL || !role_name_valid(used[i].role))
            return false;
    return true;
}

static void framework_dealloc(allocator_t *a, framework_t *fw)
{
    while (fw->member_count > 0)
        member_remove(a, fw, fw->member_count - 1);
    free(fw->members);
    free(fw->id);
    free(fw);
}

/* Takes over the usage that `used` reports on known agents and that no record holds yet. */
static actor_err_t framework_claim(allocator_t *a, framework_t *fw, const allocator_used_t *used,
                                   size_t used_count)
{
    for (size_t i = 0; i < used_count; i++) {
        agent_t *ag = agent_find(a, used[i].agent_id);
        if (ag == NULL || resources_empty(used[i].resources))
            continue;
        role_t *role;
        actor_err_t rc = role_obtain(a, used[i].role, &role);
        if (rc != ACTOR_OK)
            return rc;
        if (record_find(ag, fw->id, role) == NULL) {
            qty_t q;
            qty_of(a, used[i].resources, &q);
            rc = record_new(a, ag, fw, fw->id, role, used[i].resources, &q, 0);
            if (rc == ACTOR_OK)
                rc = resources_subtract(&ag->free, used[i].resources);
            agent_free_changed(a, ag);
        }
        role_release(a, role);
        if (rc != ACTOR_OK)
            return rc;
    }
    return ACTOR_OK;
}

actor_err_t allocator_add_framework(allocator_t *a, const char *framework_id,
                                    const char *const *roles, size_t role_count,
                                    const char *const *suppressed_roles, size_t suppressed_count,
                                    const allocator_used_t *used, size_t used_count)
{
    if (!add_args_valid(framework_id, roles, role_count, suppressed_roles, suppressed_count, used,
                        used_count))
        return ACTOR_EINVAL;
    if (framework_find(a, framework_id) != NULL)
        return ACTOR_EEXIST;
    framework_t *fw = calloc(1, sizeof(*fw));
    if (fw == NULL)
        return ACTOR_ENOMEM;
    fw->id = strdup(framework_id);
    fw->seq = ++a->fw_seq;
    fw->active = true;
    if (fw->id == NULL || slot_take(a, fw) != ACTOR_OK)
        goto fail_free;
    for (size_t i = 0; i < role_count; i++) {
        bool suppressed = strings_contain(suppressed_roles, suppressed_count, roles[i]);
        if (member_add(a, fw, roles[i], suppressed) != ACTOR_OK)
            goto fail_release_slot;
    }
    if (idmap_put(&a->frameworks, fw->id, fw) != ACTOR_OK)
        goto fail_release_slot;
    records_adopt(a, fw);
    actor_err_t rc = framework_claim(a, fw, used, used_count);
    framework_sync(a, fw);
    return rc;

fail_release_slot:
    slot_release(a, fw);
fail_free:
    framework_dealloc(a, fw);
    return ACTOR_ENOMEM;
}

actor_err_t allocator_remove_framework(allocator_t *a, const char *framework_id)
{
    framework_t *fw = framework_find(a, framework_id);
    if (fw == NULL)
        return ACTOR_EINVAL;
    actor_err_t rc = ACTOR_OK;
    while (fw->records != NULL) {
        record_t *rec = fw->records;
        agent_t *ag = rec->agent;
        if (resources_add(&ag->free, &rec->res.r) != ACTOR_OK)
            rc = ACTOR_ENOMEM; /* the agent keeps those resources out of offers */
        record_free(a, rec);
        agent_free_changed(a, ag);
    }
    idmap_remove(&a->frameworks, fw->id);
    slot_release(a, fw);
    framework_dealloc(a, fw);
    return rc;
}

/* Deactivation also clears the framework's filters, as Mesos's deactivateFramework does: a
 * scheduler that fails over starts without its predecessor's refusals. */
static actor_err_t set_active(allocator_t *a, const char *framework_id, bool active)
{
    framework_t *fw = framework_find(a, framework_id);
    if (fw == NULL)
        return ACTOR_EINVAL;
    if (!active)
        a->fw_epochs[fw->slot]++;
    fw->active = active;
    framework_sync(a, fw);
    return ACTOR_OK;
}

actor_err_t allocator_activate_framework(allocator_t *a, const char *framework_id)
{
    return set_active(a, framework_id, true);
}

actor_err_t allocator_deactivate_framework(allocator_t *a, const char *framework_id)
{
    return set_active(a, framework_id, false);
}

actor_err_t allocator_update_framework(allocator_t *a, const char *framework_id,
                                       const char *const *roles, size_t role_count)
{
    framework_t *fw = framework_find(a, framework_id);
    if (fw == NULL || !roles_valid(roles, role_count))
        return ACTOR_EINVAL;
    for (size_t i = 0; i < role_count; i++) {
        role_t *r = role_find(a, roles[i]);
        if ((r == NULL || member_find(fw, r) == NULL) &&
            member_add(a, fw, roles[i], false) != ACTOR_OK)
            return ACTOR_ENOMEM;
    }
    for (size_t i = fw->member_count; i-- > 0;) {
        if (!strings_contain(roles, role_count, fw->members[i]->role->path))
            member_remove(a, fw, i);
    }
    framework_sync(a, fw);
    return ACTOR_OK;
}

/* Sets the suppressed flag of fw's member for role (NULL: all members). */
static actor_err_t set_suppressed(allocator_t *a, framework_t *fw, const char *role, bool value)
{
    if (role != NULL) {
        role_t *r = role_find(a, role);
        member_t *m = r != NULL ? member_find(fw, r) : NULL;
        if (m == NULL)
            return ACTOR_EINVAL;
        m->suppressed = value;
    } else {
        for (size_t i = 0; i < fw->member_count; i++)
            fw->members[i]->suppressed = value;
    }
    framework_sync(a, fw);
    return ACTOR_OK;
}

actor_err_t allocator_suppress(allocator_t *a, const char *framework_id, const char *role)
{
    framework_t *fw = framework_find(a, framework_id);
    if (fw == NULL)
        return ACTOR_EINVAL;
    return set_suppressed(a, fw, role, true);
}

/* Clears the filters of fw's roles (Mesos's reviveRoles): of all of them by bumping the epoch,
 * of one by renewing its member's uid. */
actor_err_t allocator_revive(allocator_t *a, const char *framework_id, const char *role)
{
    framework_t *fw = framework_find(a, framework_id);
    if (fw == NULL)
        return ACTOR_EINVAL;
    actor_err_t rc = set_suppressed(a, fw, role, false);
    if (rc != ACTOR_OK)
        return rc;
    if (role == NULL || fw->member_count == 1)
        a->fw_epochs[fw->slot]++; /* every filter of fw dies */
    else
        member_find(fw, role_find(a, role))->uid = ++a->member_uid;
    agents_wake_all(a);
    return ACTOR_OK;
}

void frameworks_free(allocator_t *a)
{
    size_t pos = 0;
    framework_t *fw;
    while ((fw = idmap_next(&a->frameworks, &pos)) != NULL) {
        for (size_t i = 0; i < fw->member_count; i++)
            free(fw->members[i]);
        free(fw->members);
        free(fw->id);
        free(fw);
    }
    idmap_fini(&a->frameworks);
    free(a->fw_slots);
    free(a->fw_epochs);
    free(a->fw_free);
}
