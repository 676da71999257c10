/*
 * plan.c: deployment arithmetic and deployment plans (Marathon's ScalingProposition,
 * TaskReplaceActor and DeploymentPlan). See plan.h.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frameworks/marathon/plan.h"

/* ---- Scale ---- */

void marathon_scale_counts(uint32_t active, uint32_t sentenced, uint32_t scale_to, uint32_t *kill,
                           uint32_t *start)
{
    uint32_t over = active > scale_to ? active - scale_to : 0;
    *kill = over > sentenced ? over : sentenced;
    if (*kill > active)
        *kill = active;
    int64_t s = (int64_t)scale_to - (int64_t)active + (int64_t)*kill;
    *start = s > 0 ? (uint32_t)s : 0;
}

/* ---- Unreachable instances ---- */

marathon_unreachable_phase_t marathon_unreachable_phase(const marathon_app_t *app, double seconds)
{
    if (app->unreachable_disabled)
        return MARATHON_UNREACHABLE_ACTIVE;
    if (seconds >= app->unreachable_expunge_after_seconds)
        return MARATHON_UNREACHABLE_EXPUNGE;
    if (seconds >= app->unreachable_inactive_after_seconds)
        return MARATHON_UNREACHABLE_INACTIVE;
    return MARATHON_UNREACHABLE_ACTIVE;
}

/* ---- Rolling restart ---- */

static double unit_interval(double v)
{
    return isnan(v) ? 1.0 : v < 0 ? 0.0 : v > 1 ? 1.0 : v;
}

static uint32_t sat_sub(uint32_t a, uint32_t b)
{
    return a > b ? a - b : 0;
}

static uint32_t min_u32(uint32_t a, uint32_t b)
{
    return a < b ? a : b;
}

void marathon_restart_compute(uint32_t target, double minimum_health_capacity,
                              double maximum_over_capacity, const marathon_rollout_counts_t *now,
                              marathon_restart_step_t *out)
{
    double mhc = unit_interval(minimum_health_capacity);
    double moc = unit_interval(maximum_over_capacity);
    uint32_t old_healthy = min_u32(now->old_healthy, now->old_active);
    uint32_t healthy = old_healthy + now->new_healthy;
    memset(out, 0, sizeof(*out));
    out->min_healthy = (uint32_t)ceil(target * mhc);
    out->max_capacity = (uint32_t)(target * (1 + moc)); /* Scala's toInt truncates */
    if (out->min_healthy == out->max_capacity && out->max_capacity <= healthy)
        out->max_capacity++; /* one over capacity, so that the restart can start */
    out->kill_unhealthy = now->old_active - old_healthy;
    out->kill_healthy = min_u32(sat_sub(healthy, out->min_healthy), old_healthy);
    out->kill = out->kill_unhealthy + out->kill_healthy;
    uint32_t in_all = now->old_active + now->old_dying + now->new_started;
    out->start = min_u32(sat_sub(target, now->new_started), sat_sub(out->max_capacity, in_all));
}

bool marathon_restart_done(uint32_t target, const marathon_rollout_counts_t *now)
{
    return now->new_healthy >= target && now->old_active == 0 && now->old_dying == 0;
}

/* ---- Deployment plans ---- */

const char *marathon_plan_action_name(marathon_plan_action_type_t type)
{
    switch (type) {
    case MARATHON_PLAN_START:
        return "StartApplication";
    case MARATHON_PLAN_SCALE:
        return "ScaleApplication";
    case MARATHON_PLAN_RESTART:
        return "RestartApplication";
    case MARATHON_PLAN_STOP:
        return "StopApplication";
    }
    return "";
}

void marathon_plan_fini(marathon_plan_t *plan)
{
    for (size_t i = 0; i < plan->step_count; i++)
        free(plan->steps[i].actions);
    free(plan->steps);
    plan->steps = NULL;
    plan->step_count = 0;
}

static const marathon_app_t *app_find(const marathon_app_t *const *apps, size_t n, const char *id)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(apps[i]->id, id) == 0)
            return apps[i];
    return NULL;
}

static bool same_text(const char *a, const char *b)
{
    return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/* The action a target app needs, or -1 when it did not change. */
static int action_for(const marathon_app_t *before, const marathon_app_t *after)
{
    if (before == NULL)
        return MARATHON_PLAN_SCALE;
    if (!marathon_app_only_scaled(before, after) ||
        !same_text(before->last_config_change_at, after->last_config_change_at))
        return MARATHON_PLAN_RESTART;
    return before->instances != after->instances ? MARATHON_PLAN_SCALE : -1;
}

/* Whether dependency `dep` names app `id`: the id itself, or a group above it. */
static bool depends_on(const char *dep, const char *id)
{
    size_t n = strlen(dep);
    while (n > 1 && dep[n - 1] == '/')
        n--;
    if (strncmp(dep, id, n) != 0)
        return false;
    return id[n] == '\0' || id[n] == '/' || (n == 1 && dep[0] == '/');
}

enum { UNSEEN, VISITING, DONE };

typedef struct depth_ctx {
    const marathon_app_t *const *apps;
    size_t n;
    int *state;
    size_t *depth; /* longest dependency path from each app, counting the app */
} depth_ctx_t;

/* The longest dependency path from app i; false on a cycle. Recursion depth is bounded by the
 * number of apps. */
static bool depth_of(depth_ctx_t *c, size_t i)
{
    if (c->state[i] == DONE)
        return true;
    if (c->state[i] == VISITING)
        return false;
    c->state[i] = VISITING;
    size_t longest = 0;
    const marathon_app_t *app = c->apps[i];
    for (size_t d = 0; d < app->dependency_count; d++) {
        for (size_t j = 0; j < c->n; j++) {
            if (app->dependencies[d] == NULL || !depends_on(app->dependencies[d], c->apps[j]->id))
                continue;
            if (!depth_of(c, j))
                return false;
            longest = c->depth[j] > longest ? c->depth[j] : longest;
        }
    }
    c->depth[i] = longest + 1;
    c->state[i] = DONE;
    return true;
}

/* Appends a step (possibly empty: steps without actions are dropped at the end). */
static marathon_plan_step_t *plan_add_step(marathon_plan_t *plan, size_t max_actions)
{
    marathon_plan_step_t *steps = realloc(plan->steps, (plan->step_count + 1) * sizeof(*steps));
    if (steps == NULL)
        return NULL;
    plan->steps = steps;
    marathon_plan_step_t *s = &steps[plan->step_count];
    s->action_count = 0;
    s->actions = calloc(max_actions + 1, sizeof(*s->actions));
    if (s->actions == NULL)
        return NULL;
    plan->step_count++;
    return s;
}

static void step_add(marathon_plan_step_t *s, marathon_plan_action_type_t type,
                     const marathon_app_t *app, uint32_t scale_to)
{
    s->actions[s->action_count++] = (marathon_plan_action_t){type, app, scale_to};
}

static actor_err_t plan_stop_start(marathon_plan_t *out, const marathon_app_t *const *original,
                                   size_t no, const marathon_app_t *const *target, size_t nt)
{
    marathon_plan_step_t *stop = plan_add_step(out, no);
    for (size_t i = 0; stop != NULL && i < no; i++)
        if (app_find(target, nt, original[i]->id) == NULL)
            step_add(stop, MARATHON_PLAN_STOP, original[i], 0);
    marathon_plan_step_t *start = stop != NULL ? plan_add_step(out, nt) : NULL;
    for (size_t i = 0; start != NULL && i < nt; i++)
        if (app_find(original, no, target[i]->id) == NULL)
            step_add(start, MARATHON_PLAN_START, target[i], 0);
    return start != NULL ? ACTOR_OK : ACTOR_ENOMEM;
}

/* One step per dependency depth, shallowest first. */
static actor_err_t plan_layers(marathon_plan_t *out, const marathon_app_t *const *original,
                               size_t no, const marathon_app_t *const *target, size_t nt,
                               const size_t *depth)
{
    size_t max_depth = 0;
    for (size_t i = 0; i < nt; i++)
        max_depth = depth[i] > max_depth ? depth[i] : max_depth;
    for (size_t layer = 1; layer <= max_depth; layer++) {
        marathon_plan_step_t *s = plan_add_step(out, nt);
        if (s == NULL)
            return ACTOR_ENOMEM;
        for (size_t i = 0; i < nt; i++) {
            if (depth[i] != layer)
                continue;
            int action = action_for(app_find(original, no, target[i]->id), target[i]);
            if (action >= 0)
                step_add(s, (marathon_plan_action_type_t)action, target[i],
                         action == MARATHON_PLAN_SCALE ? target[i]->instances : 0);
        }
    }
    return ACTOR_OK;
}

static void plan_drop_empty(marathon_plan_t *plan)
{
    size_t o = 0;
    for (size_t i = 0; i < plan->step_count; i++) {
        if (plan->steps[i].action_count == 0)
            free(plan->steps[i].actions);
        else
            plan->steps[o++] = plan->steps[i];
    }
    plan->step_count = o;
}

static actor_err_t plan_depths(const marathon_app_t *const *target, size_t nt, size_t *depth,
                               char *err, size_t err_len)
{
    int *state = calloc(nt + 1, sizeof(*state));
    if (state == NULL)
        return ACTOR_ENOMEM;
    depth_ctx_t c = {target, nt, state, depth};
    bool ok = true;
    for (size_t i = 0; i < nt && ok; i++)
        ok = depth_of(&c, i);
    free(state);
    if (!ok && err != NULL)
        snprintf(err, err_len, "Dependency graph has cyclic dependencies.");
    return ok ? ACTOR_OK : ACTOR_EINVAL;
}

actor_err_t marathon_plan_build(const marathon_app_t *const *original, size_t original_count,
                                const marathon_app_t *const *target, size_t target_count,
                                marathon_plan_t *out, char *err, size_t err_len)
{
    memset(out, 0, sizeof(*out));
    if (err != NULL && err_len > 0)
        err[0] = '\0';
    size_t *depth = calloc(target_count + 1, sizeof(*depth));
    if (depth == NULL)
        return ACTOR_ENOMEM;
    actor_err_t rc = plan_depths(target, target_count, depth, err, err_len);
    if (rc == ACTOR_OK)
        rc = plan_stop_start(out, original, original_count, target, target_count);
    if (rc == ACTOR_OK)
        rc = plan_layers(out, original, original_count, target, target_count, depth);
    free(depth);
    if (rc != ACTOR_OK) {
        marathon_plan_fini(out);
        return rc;
    }
    plan_drop_empty(out);
    return ACTOR_OK;
}

json_t *marathon_plan_steps_json(const marathon_plan_t *plan)
{
    json_t *steps = json_array();
    for (size_t i = 0; steps != NULL && i < plan->step_count; i++) {
        json_t *actions = json_array();
        for (size_t j = 0; actions != NULL && j < plan->steps[i].action_count; j++) {
            const marathon_plan_action_t *a = &plan->steps[i].actions[j];
            json_t *action = json_pack("{s:s, s:s}", "action", marathon_plan_action_name(a->type),
                                       "app", a->app->id);
            if (action == NULL || json_array_append_new(actions, action) != 0) {
                json_decref(actions);
                actions = NULL;
            }
        }
        if (actions == NULL ||
            json_array_append_new(steps, json_pack("{s:o}", "actions", actions)) != 0) {
            json_decref(steps);
            steps = NULL;
        }
    }
    return steps;
}
