/*
 * allocator_actor_calls.c: the allocator_actor_* calls. Each copies its arguments into one
 * heap call_t (strings, lists, resources: nothing of the caller's is kept) and dispatches it to
 * the actor, where apply() runs the allocator.h function of the same name, logs its error if
 * any, and asks for a cycle when the operation may make something offerable. A call the actor
 * never runs (it died) is freed unapplied.
 */
#include <stdlib.h>
#include <string.h>

#include "actor/clock.h"
#include "actor/log.h"
#include "master/allocator/allocator_actor_int.h"

typedef enum call_kind {
    CALL_ADD_FRAMEWORK,
    CALL_REMOVE_FRAMEWORK,
    CALL_ACTIVATE_FRAMEWORK,
    CALL_DEACTIVATE_FRAMEWORK,
    CALL_UPDATE_FRAMEWORK,
    CALL_SUPPRESS,
    CALL_REVIVE,
    CALL_ADD_AGENT,
    CALL_ADD_USED,
    CALL_REMOVE_AGENT,
    CALL_ACTIVATE_AGENT,
    CALL_DEACTIVATE_AGENT,
    CALL_RECOVER,
    CALL_UPDATE_WEIGHT,
    CALL_ALLOCATE_NOW,
} call_kind_t;

/* Names for logs, and whether the call may make something offerable (then a cycle follows). */
static const struct {
    const char *name;
    bool dirty;
} call_info[] = {
    [CALL_ADD_FRAMEWORK] = {"add framework", true},
    [CALL_REMOVE_FRAMEWORK] = {"remove framework", true},
    [CALL_ACTIVATE_FRAMEWORK] = {"activate framework", true},
    [CALL_DEACTIVATE_FRAMEWORK] = {"deactivate framework", false},
    [CALL_UPDATE_FRAMEWORK] = {"update framework", true},
    [CALL_SUPPRESS] = {"suppress offers of framework", false},
    [CALL_REVIVE] = {"revive offers of framework", true},
    [CALL_ADD_AGENT] = {"add agent", true},
    [CALL_ADD_USED] = {"add the usage reported by agent", false},
    [CALL_REMOVE_AGENT] = {"remove agent", false},
    [CALL_ACTIVATE_AGENT] = {"activate agent", true},
    [CALL_DEACTIVATE_AGENT] = {"deactivate agent", false},
    [CALL_RECOVER] = {"recover resources of framework", true},
    [CALL_UPDATE_WEIGHT] = {"update the weight of role", true},
    [CALL_ALLOCATE_NOW] = {"allocate", true},
};

typedef struct call {
    call_kind_t kind;
    char *framework_id;
    char *agent_id;
    char *role;
    char **roles;
    size_t role_count;
    char **suppressed;
    size_t suppressed_count;
    allocator_used_t *used; /* its strings and resources are the call's */
    resources_t *used_res;
    size_t used_count;
    resources_t resources; /* an agent's total, or what is recovered */
    bool has_resources;    /* false: the caller passed NULL */
    double number;         /* refuse_seconds or weight */
} call_t;

static void strings_free(char **list, size_t n)
{
    for (size_t i = 0; list != NULL && i < n; i++)
        free(list[i]);
    free(list);
}

static void call_free(call_t *c)
{
    free(c->framework_id);
    free(c->agent_id);
    free(c->role);
    strings_free(c->roles, c->role_count);
    strings_free(c->suppressed, c->suppressed_count);
    for (size_t i = 0; c->used != NULL && i < c->used_count; i++) {
        free((char *)c->used[i].framework_id);
        free((char *)c->used[i].agent_id);
        free((char *)c->used[i].role);
        resources_fini(&c->used_res[i]);
    }
    free(c->used);
    free(c->used_res);
    resources_fini(&c->resources);
    free(c);
}

/* ---- copying arguments; each sets *ok to false when memory runs out ---- */

static char *dup_string(const char *s, bool *ok)
{
    if (s == NULL)
        return NULL;
    char *copy = strdup(s);
    *ok &= copy != NULL;
    return copy;
}

static char **dup_strings(const char *const *list, size_t n, bool *ok)
{
    if (list == NULL || n == 0)
        return NULL;
    char **copy = calloc(n, sizeof(*copy));
    *ok &= copy != NULL;
    for (size_t i = 0; copy != NULL && i < n; i++)
        copy[i] = dup_string(list[i], ok);
    return copy;
}

static void dup_used(call_t *c, const allocator_used_t *used, size_t n, bool *ok)
{
    if (used == NULL || n == 0)
        return;
    c->used = calloc(n, sizeof(*c->used));
    c->used_res = calloc(n, sizeof(*c->used_res));
    if (c->used == NULL || c->used_res == NULL) {
        *ok = false;
        return;
    }
    c->used_count = n;
    for (size_t i = 0; i < n; i++) {
        c->used[i].framework_id = dup_string(used[i].framework_id, ok);
        c->used[i].agent_id = dup_string(used[i].agent_id, ok);
        c->used[i].role = dup_string(used[i].role, ok);
        if (used[i].resources != NULL) {
            *ok &= resources_copy(&c->used_res[i], used[i].resources) == ACTOR_OK;
            c->used[i].resources = &c->used_res[i];
        }
    }
}

static call_t *call_new(call_kind_t kind, const char *framework_id, const char *agent_id,
                        const char *role, bool *ok)
{
    call_t *c = calloc(1, sizeof(*c));
    if (c == NULL) {
        *ok = false;
        return NULL;
    }
    c->kind = kind;
    resources_init(&c->resources);
    c->framework_id = dup_string(framework_id, ok);
    c->agent_id = dup_string(agent_id, ok);
    c->role = dup_string(role, ok);
    return c;
}

/* ---- in the actor ---- */

static actor_err_t apply_framework_call(allocator_t *a, const call_t *c)
{
    switch (c->kind) {
    case CALL_ADD_FRAMEWORK:
        return allocator_add_framework(a, c->framework_id, (const char *const *)c->roles,
                                       c->role_count, (const char *const *)c->suppressed,
                                       c->suppressed_count, c->used, c->used_count);
    case CALL_REMOVE_FRAMEWORK:
        return allocator_remove_framework(a, c->framework_id);
    case CALL_ACTIVATE_FRAMEWORK:
        return allocator_activate_framework(a, c->framework_id);
    case CALL_DEACTIVATE_FRAMEWORK:
        return allocator_deactivate_framework(a, c->framework_id);
    case CALL_UPDATE_FRAMEWORK:
        return allocator_update_framework(a, c->framework_id, (const char *const *)c->roles,
                                          c->role_count);
    case CALL_SUPPRESS:
        return allocator_suppress(a, c->framework_id, c->role);
    default:
        return allocator_revive(a, c->framework_id, c->role);
    }
}

static actor_err_t apply_agent_call(allocator_t *a, const call_t *c, double now)
{
    switch (c->kind) {
    case CALL_ADD_AGENT:
        return allocator_add_agent(a, c->agent_id, c->has_resources ? &c->resources : NULL, c->used,
                                   c->used_count);
    case CALL_ADD_USED:
        return allocator_add_used(a, c->agent_id, c->used, c->used_count);
    case CALL_REMOVE_AGENT:
        return allocator_remove_agent(a, c->agent_id);
    case CALL_ACTIVATE_AGENT:
        return allocator_activate_agent(a, c->agent_id);
    case CALL_DEACTIVATE_AGENT:
        return allocator_deactivate_agent(a, c->agent_id);
    case CALL_RECOVER:
        return allocator_recover(a, c->framework_id, c->agent_id,
                                 c->has_resources ? &c->resources : NULL, c->number, now);
    case CALL_UPDATE_WEIGHT:
        return allocator_update_weight(a, c->role, c->number);
    default:
        return ACTOR_OK;
    }
}

static void apply(actor_t *self, void *state, void *arg)
{
    call_t *c = arg;
    alloc_actor_t *st = state;
    if (self == NULL || st->core == NULL) {
        call_free(c);
        return;
    }
    /* A filter outlives the next periodic cycle, as Mesos makes it (MESOS-4302): it lasts at
     * least one allocation interval. */
    double interval = (double)st->interval_ns / (double)ACTOR_NS_PER_SEC;
    if (c->kind == CALL_RECOVER && c->number > 0 && c->number < interval)
        c->number = interval;
    actor_err_t rc = c->kind <= CALL_REVIVE ? apply_framework_call(st->core, c)
                                            : apply_agent_call(st->core, c, alloc_actor_now());
    if (rc != ACTOR_OK) {
        const char *id = c->kind == CALL_UPDATE_WEIGHT ? c->role
                         : c->framework_id != NULL     ? c->framework_id
                                                       : c->agent_id;
        LOG_WARNING("Failed to %s %s: %s", call_info[c->kind].name, id != NULL ? id : "(none)",
                    actor_strerror(rc));
    }
    if (call_info[c->kind].dirty)
        alloc_actor_dirty(self, st);
    call_free(c);
}

/* Sends c to the actor, or frees it: ACTOR_ENOMEM when copying failed (!ok), ACTOR_ENOENT when
 * the actor is gone. */
static actor_err_t send_call(const actor_pid_t *alloc, call_t *c, bool ok)
{
    if (c == NULL)
        return ACTOR_ENOMEM;
    actor_err_t rc = !ok ? ACTOR_ENOMEM : alloc == NULL ? ACTOR_ENOENT : ACTOR_OK;
    if (rc == ACTOR_OK)
        rc = actor_dispatch(alloc, apply, c);
    if (rc != ACTOR_OK)
        call_free(c);
    return rc;
}

static actor_err_t simple_call(const actor_pid_t *alloc, call_kind_t kind, const char *framework_id,
                               const char *agent_id, const char *role)
{
    bool ok = true;
    call_t *c = call_new(kind, framework_id, agent_id, role, &ok);
    return send_call(alloc, c, ok);
}

/* ---- the calls ---- */

actor_err_t allocator_actor_add_framework(const actor_pid_t *alloc, const char *framework_id,
                                          const char *const *roles, size_t role_count,
                                          const char *const *suppressed_roles,
                                          size_t suppressed_count, const allocator_used_t *used,
                                          size_t used_count)
{
    bool ok = true;
    call_t *c = call_new(CALL_ADD_FRAMEWORK, framework_id, NULL, NULL, &ok);
    if (c != NULL) {
        c->roles = dup_strings(roles, role_count, &ok);
        c->role_count = c->roles != NULL ? role_count : 0;
        c->suppressed = dup_strings(suppressed_roles, suppressed_count, &ok);
        c->suppressed_count = c->suppressed != NULL ? suppressed_count : 0;
        dup_used(c, used, used_count, &ok);
    }
    return send_call(alloc, c, ok);
}

actor_err_t allocator_actor_remove_framework(const actor_pid_t *alloc, const char *framework_id)
{
    return simple_call(alloc, CALL_REMOVE_FRAMEWORK, framework_id, NULL, NULL);
}

actor_err_t allocator_actor_activate_framework(const actor_pid_t *alloc, const char *framework_id)
{
    return simple_call(alloc, CALL_ACTIVATE_FRAMEWORK, framework_id, NULL, NULL);
}

actor_err_t allocator_actor_deactivate_framework(const actor_pid_t *alloc, const char *framework_id)
{
    return simple_call(alloc, CALL_DEACTIVATE_FRAMEWORK, framework_id, NULL, NULL);
}

actor_err_t allocator_actor_update_framework(const actor_pid_t *alloc, const char *framework_id,
                                             const char *const *roles, size_t role_count)
{
    bool ok = true;
    call_t *c = call_new(CALL_UPDATE_FRAMEWORK, framework_id, NULL, NULL, &ok);
    if (c != NULL) {
        c->roles = dup_strings(roles, role_count, &ok);
        c->role_count = c->roles != NULL ? role_count : 0;
    }
    return send_call(alloc, c, ok);
}

actor_err_t allocator_actor_suppress(const actor_pid_t *alloc, const char *framework_id,
                                     const char *role)
{
    return simple_call(alloc, CALL_SUPPRESS, framework_id, NULL, role);
}

actor_err_t allocator_actor_revive(const actor_pid_t *alloc, const char *framework_id,
                                   const char *role)
{
    return simple_call(alloc, CALL_REVIVE, framework_id, NULL, role);
}

actor_err_t allocator_actor_add_agent(const actor_pid_t *alloc, const char *agent_id,
                                      const resources_t *total, const allocator_used_t *used,
                                      size_t used_count)
{
    bool ok = true;
    call_t *c = call_new(CALL_ADD_AGENT, NULL, agent_id, NULL, &ok);
    if (c != NULL) {
        c->has_resources = total != NULL;
        if (total != NULL)
            ok &= resources_copy(&c->resources, total) == ACTOR_OK;
        dup_used(c, used, used_count, &ok);
    }
    return send_call(alloc, c, ok);
}

actor_err_t allocator_actor_add_used(const actor_pid_t *alloc, const char *agent_id,
                                     const allocator_used_t *used, size_t used_count)
{
    bool ok = true;
    call_t *c = call_new(CALL_ADD_USED, NULL, agent_id, NULL, &ok);
    if (c != NULL)
        dup_used(c, used, used_count, &ok);
    return send_call(alloc, c, ok);
}

actor_err_t allocator_actor_remove_agent(const actor_pid_t *alloc, const char *agent_id)
{
    return simple_call(alloc, CALL_REMOVE_AGENT, NULL, agent_id, NULL);
}

actor_err_t allocator_actor_activate_agent(const actor_pid_t *alloc, const char *agent_id)
{
    return simple_call(alloc, CALL_ACTIVATE_AGENT, NULL, agent_id, NULL);
}

actor_err_t allocator_actor_deactivate_agent(const actor_pid_t *alloc, const char *agent_id)
{
    return simple_call(alloc, CALL_DEACTIVATE_AGENT, NULL, agent_id, NULL);
}

actor_err_t allocator_actor_recover(const actor_pid_t *alloc, const char *framework_id,
                                    const char *agent_id, const resources_t *resources,
                                    double refuse_seconds)
{
    bool ok = true;
    call_t *c = call_new(CALL_RECOVER, framework_id, agent_id, NULL, &ok);
    if (c != NULL) {
        c->has_resources = resources != NULL;
        if (resources != NULL)
            ok &= resources_copy(&c->resources, resources) == ACTOR_OK;
        c->number = refuse_seconds;
    }
    return send_call(alloc, c, ok);
}

actor_err_t allocator_actor_update_weight(const actor_pid_t *alloc, const char *role, double weight)
{
    bool ok = true;
    call_t *c = call_new(CALL_UPDATE_WEIGHT, NULL, NULL, role, &ok);
    if (c != NULL)
        c->number = weight;
    return send_call(alloc, c, ok);
}

actor_err_t allocator_actor_allocate_now(const actor_pid_t *alloc)
{
    return simple_call(alloc, CALL_ALLOCATE_NOW, NULL, NULL, NULL);
}
