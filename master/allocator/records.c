/*
 * records.c: allocation records (what a framework holds on an agent for a role) and their
 * recovery. A record is charged to its framework, member and role while the framework is
 * known; usage an agent reports for a framework not added yet waits in an orphan_t and is
 * charged when the framework is added (Mesos's addSlave/addFramework split).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "master/allocator/allocator_int.h"

record_t *record_find(const agent_t *ag, const char *fid, const role_t *role)
{
    for (record_t *rec = ag->records; rec != NULL; rec = rec->agent_next)
        if (rec->role == role && strcmp(rec->fid, fid) == 0)
            return rec;
    return NULL;
}

static void owner_link(record_t *rec, record_t **head)
{
    rec->owner_head = head;
    rec->owner_prev = NULL;
    rec->owner_next = *head;
    if (*head != NULL)
        (*head)->owner_prev = rec;
    *head = rec;
}

static void owner_unlink(record_t *rec)
{
    if (rec->owner_prev != NULL)
        rec->owner_prev->owner_next = rec->owner_next;
    else
        *rec->owner_head = rec->owner_next;
    if (rec->owner_next != NULL)
        rec->owner_next->owner_prev = rec->owner_prev;
}

static void orphan_release(allocator_t *a, orphan_t *o)
{
    if (o->records != NULL)
        return;
    idmap_remove(&a->orphans, o->fid);
    free(o->fid);
    free(o);
}

static actor_err_t orphan_obtain(allocator_t *a, const char *fid, orphan_t **out)
{
    *out = idmap_get(&a->orphans, fid);
    if (*out != NULL)
        return ACTOR_OK;
    orphan_t *o = calloc(1, sizeof(*o));
    if (o == NULL)
        return ACTOR_ENOMEM;
    o->fid = strdup(fid);
    if (o->fid == NULL || idmap_put(&a->orphans, o->fid, o) != ACTOR_OK) {
        free(o->fid);
        free(o);
        return ACTOR_ENOMEM;
    }
    *out = o;
    return ACTOR_OK;
}

actor_err_t record_new(allocator_t *a, agent_t *ag, framework_t *fw, const char *fid, role_t *role,
                       const resources_t *res, const qty_t *q, uint32_t set_gen)
{
    record_t *rec = calloc(1, sizeof(*rec));
    if (rec == NULL)
        return ACTOR_ENOMEM;
    orphan_t *o = NULL;
    packed_init(&rec->res);
    if (packed_set(&rec->res, res) != ACTOR_OK ||
        (fw == NULL && orphan_obtain(a, fid, &o) != ACTOR_OK)) {
        packed_fini(&rec->res);
        free(rec);
        return ACTOR_ENOMEM;
    }
    rec->fw = fw;
    rec->role = role;
    rec->agent = ag;
    rec->set_gen = set_gen;
    rec->agent_next = ag->records;
    ag->records = rec;
    role->record_count++;
    if (fw != NULL) {
        rec->fid = fw->id;
        owner_link(rec, &fw->records);
        framework_charge(a, fw, role, q, 1);
    } else {
        rec->fid = o->fid;
        owner_link(rec, &o->records);
    }
    return ACTOR_OK;
}

/* rec's resources become theirs plus res (or minus res, when subtract). On error rec is
 * unchanged. */
static actor_err_t record_rewrite(record_t *rec, const resources_t *res, bool subtract)
{
    resources_t next;
    resources_init(&next);
    actor_err_t rc = resources_copy(&next, &rec->res.r);
    if (rc == ACTOR_OK)
        rc = subtract ? resources_subtract(&next, res) : resources_add(&next, res);
    if (rc == ACTOR_OK)
        rc = packed_set(&rec->res, &next);
    if (rc == ACTOR_OK)
        rec->set_gen = 0;
    resources_fini(&next);
    return rc;
}

actor_err_t record_grow(allocator_t *a, agent_t *ag, framework_t *fw, const char *fid, role_t *role,
                        const resources_t *res, const qty_t *q, uint32_t set_gen)
{
    record_t *rec = record_find(ag, fid, role);
    if (rec == NULL)
        return record_new(a, ag, fw, fid, role, res, q, set_gen);
    actor_err_t rc = record_rewrite(rec, res, false);
    if (rc == ACTOR_OK && rec->fw != NULL)
        framework_charge(a, rec->fw, role, q, 1);
    return rc;
}

void record_free(allocator_t *a, record_t *rec)
{
    if (rec->fw != NULL) {
        qty_t q;
        qty_of(a, &rec->res.r, &q);
        framework_charge(a, rec->fw, rec->role, &q, -1);
        owner_unlink(rec);
    } else {
        orphan_t *o = idmap_get(&a->orphans, rec->fid);
        owner_unlink(rec);
        orphan_release(a, o);
    }
    record_t **p = &rec->agent->records;
    while (*p != rec)
        p = &(*p)->agent_next;
    *p = rec->agent_next;
    rec->role->record_count--;
    role_release(a, rec->role);
    packed_fini(&rec->res);
    free(rec);
}

void records_adopt(allocator_t *a, framework_t *fw)
{
    orphan_t *o = idmap_get(&a->orphans, fw->id);
    if (o == NULL)
        return;
    while (o->records != NULL) {
        record_t *rec = o->records;
        owner_unlink(rec);
        rec->fw = fw;
        rec->fid = fw->id;
        owner_link(rec, &fw->records);
        qty_t q;
        qty_of(a, &rec->res.r, &q);
        framework_charge(a, fw, rec->role, &q, 1);
    }
    orphan_release(a, o);
}

void orphans_free(allocator_t *a)
{
    size_t pos = 0;
    orphan_t *o;
    while ((o = idmap_next(&a->orphans, &pos)) != NULL) {
        free(o->fid);
        free(o);
    }
    idmap_fini(&a->orphans);
}

/* ---- recovery ---- */

/* How many records fid has on ag; *first is the first of them. */
static size_t records_of(const agent_t *ag, const char *fid, record_t **first)
{
    size_t n = 0;
    *first = NULL;
    for (record_t *rec = ag->records; rec != NULL; rec = rec->agent_next) {
        if (strcmp(rec->fid, fid) != 0)
            continue;
        if (n++ == 0)
            *first = rec;
    }
    return n;
}

/* Whether fid's records on ag, over all roles, hold res. */
static actor_err_t records_cover(const agent_t *ag, const char *fid, const resources_t *res,
                                 bool *covered)
{
    resources_t sum;
    resources_init(&sum);
    actor_err_t rc = ACTOR_OK;
    for (record_t *rec = ag->records; rec != NULL && rc == ACTOR_OK; rec = rec->agent_next)
        if (strcmp(rec->fid, fid) == 0)
            rc = resources_add(&sum, &rec->res.r);
    *covered = rc == ACTOR_OK && resources_contains(&sum, res);
    resources_fini(&sum);
    return rc;
}

/* Takes res, which rec holds, out of rec, uncharging its framework; frees rec when empty. When
 * res is all of rec (`whole`: a whole offer declined, no copy at all), rec's block moves to
 * *keep if keep is not NULL, else it is freed. */
static actor_err_t record_shrink(allocator_t *a, record_t *rec, const resources_t *res, bool whole,
                                 packed_t *keep)
{
    if (whole && keep != NULL) {
        packed_fini(keep);
        *keep = rec->res;
        packed_init(&rec->res);
    } else if (whole) {
        packed_fini(&rec->res);
    } else {
        actor_err_t rc = record_rewrite(rec, res, true);
        if (rc != ACTOR_OK)
            return rc;
    }
    if (rec->fw != NULL) {
        qty_t q;
        qty_of(a, res, &q);
        framework_charge(a, rec->fw, rec->role, &q, -1);
    }
    if (resources_empty(&rec->res.r))
        record_free(a, rec);
    return ACTOR_OK;
}

/* ---- filters ---- */

/* The member a filter of refuse_seconds on resources held for `role` belongs to, or NULL when
 * there is to be no filter (none asked, or fw no longer in that role). */
static member_t *filter_owner(const framework_t *fw, const role_t *role, double refuse_seconds)
{
    return fw != NULL && refuse_seconds > 0 ? member_find(fw, role) : NULL;
}

/* A set for a filter of res, all of rec when `whole`, on ag: the agent's latest set when it holds
 * the same (known from rec's set_gen without comparing, when rec was granted from exactly that
 * set), else a new one holding a copy of res, or nothing yet when `whole` (the caller moves rec's
 * block in). */
static actor_err_t filter_set_for(agent_t *ag, const record_t *rec, const resources_t *res,
                                  bool whole, filter_set_t **out)
{
    filter_table_t *t = &ag->filters;
    if (whole && rec->set_gen != 0 && rec->set_gen == t->last_gen) {
        *out = t->last;
        (*out)->refs++;
        return ACTOR_OK;
    }
    *out = filter_table_share(t, res);
    if (*out != NULL)
        return ACTOR_OK;
    *out = filter_set_new();
    if (*out == NULL)
        return ACTOR_ENOMEM;
    if (!whole && packed_set(&(*out)->res, res) != ACTOR_OK) {
        filter_set_release(*out);
        *out = NULL;
        return ACTOR_ENOMEM;
    }
    return ACTOR_OK;
}

static void filter_add(allocator_t *a, agent_t *ag, const member_t *m, filter_set_t *set,
                       double refuse_seconds, double now)
{
    uint32_t slot = m->fw->slot;
    filter_table_add(&ag->filters, slot, a->fw_epochs[slot], m->uid, now + refuse_seconds, set,
                     a->fw_epochs, now);
}

/* Takes res out of rec, one of fid's records on ag, and filters it for rec's role (*filtered, if
 * filtered is not NULL, says whether it did: then the agent's latest filter set is exactly res).
 * Everything that can fail is done before the state changes. */
static actor_err_t recover_from(allocator_t *a, agent_t *ag, framework_t *fw, record_t *rec,
                                const resources_t *res, double refuse_seconds, double now,
                                bool *filtered)
{
    bool whole = packed_equal(&rec->res.r, res);
    member_t *m = filter_owner(fw, rec->role, refuse_seconds);
    filter_set_t *set = NULL;
    actor_err_t rc = ACTOR_OK;
    if (filtered != NULL)
        *filtered = false;
    if (m != NULL) {
        rc = filter_set_for(ag, rec, res, whole, &set);
        if (rc == ACTOR_OK)
            rc = filter_table_reserve(&ag->filters, a->fw_epochs, now);
    }
    bool steal = set != NULL && resources_empty(&set->res.r);
    if (rc == ACTOR_OK)
        rc = record_shrink(a, rec, res, whole, steal ? &set->res : NULL);
    if (rc != ACTOR_OK) {
        filter_set_release(set);
        return rc;
    }
    if (m != NULL)
        filter_add(a, ag, m, set, refuse_seconds, now);
    if (filtered != NULL)
        *filtered = m != NULL;
    return ACTOR_OK;
}

/* Takes what `rest` names out of rec, and out of rest, and filters that part for rec's role: the
 * part is rest ∩ rec, computed as rest - (rest - rec). */
static actor_err_t record_take(allocator_t *a, record_t *rec, resources_t *rest,
                               double refuse_seconds, double now)
{
    resources_t outside, part;
    resources_init(&outside);
    resources_init(&part);
    actor_err_t rc = resources_copy(&outside, rest);
    if (rc == ACTOR_OK)
        rc = resources_subtract(&outside, &rec->res.r);
    if (rc == ACTOR_OK)
        rc = resources_copy(&part, rest);
    if (rc == ACTOR_OK)
        rc = resources_subtract(&part, &outside);
    if (rc == ACTOR_OK && !resources_empty(&part))
        rc = recover_from(a, rec->agent, rec->fw, rec, &part, refuse_seconds, now, NULL);
    if (rc == ACTOR_OK) {
        resources_fini(rest);
        *rest = outside;
        resources_init(&outside);
    }
    resources_fini(&outside);
    resources_fini(&part);
    return rc;
}

/* Takes res out of fid's several records on ag, which together hold it; each role's part is
 * filtered for that role. */
static actor_err_t records_shrink(allocator_t *a, agent_t *ag, const char *fid,
                                  const resources_t *res, double refuse_seconds, double now)
{
    resources_t rest;
    resources_init(&rest);
    actor_err_t rc = resources_copy(&rest, res);
    record_t *rec = ag->records;
    while (rc == ACTOR_OK && rec != NULL && !resources_empty(&rest)) {
        record_t *next = rec->agent_next;
        if (strcmp(rec->fid, fid) == 0)
            rc = record_take(a, rec, &rest, refuse_seconds, now);
        rec = next;
    }
    resources_fini(&rest);
    return rc;
}

actor_err_t allocator_recover(allocator_t *a, const char *framework_id, const char *agent_id,
                              const resources_t *resources, double refuse_seconds, double now)
{
    if (framework_id == NULL || agent_id == NULL || resources == NULL || isnan(refuse_seconds))
        return ACTOR_EINVAL;
    agent_t *ag = agent_find(a, agent_id);
    framework_t *fw = framework_find(a, framework_id);
    if (ag == NULL || resources_empty(resources))
        return ACTOR_OK;
    record_t *first;
    size_t records = records_of(ag, framework_id, &first);
    if (records == 0 && fw == NULL)
        return ACTOR_OK; /* a framework removed meanwhile */
    bool covered = records == 1 && resources_contains(&first->res.r, resources);
    actor_err_t rc = ACTOR_OK;
    if (records > 1)
        rc = records_cover(ag, framework_id, resources, &covered);
    if (rc != ACTOR_OK)
        return rc;
    if (!covered)
        return ACTOR_EINVAL;
    bool filtered = false, was_empty = resources_empty(&ag->free);
    rc = records == 1 ? recover_from(a, ag, fw, first, resources, refuse_seconds, now, &filtered)
                      : records_shrink(a, ag, framework_id, resources, refuse_seconds, now);
    if (rc == ACTOR_OK)
        rc = resources_add(&ag->free, resources);
    agent_free_changed(a, ag);
    if (rc == ACTOR_OK && filtered && was_empty)
        ag->free_set_gen = ag->filters.last_gen; /* free is what was refused, and nothing else */
    return rc;
}
