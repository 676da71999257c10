/*
 * deployments.c: every app write is a deployment (Marathon's DeploymentPlan with one step):
 * StartApplication, ScaleApplication, RestartApplication or StopApplication. While it runs it
 * locks its app (a second write answers 409 unless forced). It progresses as instances change and
 * finishes when the app reached its goal: the target count of the new version, all healthy, no
 * old instance left (a stop: no instance left, and the app is gone).
 *
 * A restart replaces instances by the app's upgradeStrategy: never fewer healthy instances than
 * ceil(instances x minimumHealthCapacity), never more in all than
 * instances + floor(instances x maximumOverCapacity) (plan.h has the arithmetic).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actor/log.h"
#include "actor/uuid.h"
#include "frameworks/marathon/marathon_int.h"
#include "frameworks/marathon/offers.h"
#include "frameworks/marathon/plan.h"
#include "proto/task_states.h"

const char *marathon_action_name(marathon_action_t a)
{
    switch (a) {
    case MARATHON_START:
        return "StartApplication";
    case MARATHON_SCALE:
        return "ScaleApplication";
    case MARATHON_RESTART:
        return "RestartApplication";
    case MARATHON_STOP:
        return "StopApplication";
    }
    return "Unknown";
}

json_t *marathon_deployment_json(const marathon_deployment_t *d)
{
    json_t *action =
        json_pack("{s:s,s:s}", "action", marathon_action_name(d->action), "app", d->app_id);
    json_t *current = json_pack("{s:s,s:s,s:[]}", "action", marathon_action_name(d->action), "app",
                                d->app_id, "readinessCheckResults");
    return json_pack("{s:s,s:s,s:[s],s:[],s:[{s:[o]}],s:[o],s:i,s:i}", "id", d->id, "version",
                     d->version, "affectedApps", d->app_id, "affectedPods", "steps", "actions",
                     action, "currentActions", current, "currentStep", 1, "totalSteps", 1);
}

static void deployment_free(marathon_deployment_t *d)
{
    marathon_app_free(d->original);
    marathon_app_free(d->target);
    free(d->id);
    free(d->version);
    free(d->app_id);
    free(d);
}

static void add_version(marathon_app_entry_t *e, const char *version)
{
    for (size_t k = 0; k < e->version_count; k++) {
        if (strcmp(e->versions[k], version) == 0)
            return;
    }
    char **v = realloc(e->versions, (e->version_count + 1) * sizeof(*v));
    if (v == NULL)
        return;
    e->versions = v;
    if ((v[e->version_count] = strdup(version)) != NULL)
        e->version_count++;
}

void marathon_app_entry_free(marathon_app_entry_t *e)
{
    if (e->offer_stats != NULL)
        marathon_offer_stats_fini(e->offer_stats);
    free(e->offer_stats);
    marathon_app_free(e->app);
    free(e->app_text);
    for (size_t k = 0; k < e->version_count; k++)
        free(e->versions[k]);
    free(e->versions);
    json_decref(e->last_task_failure);
    free(e->id);
    free(e);
}

/* Sets an app's current definition (a copy of app), creating its entry for a new app. */
static marathon_app_entry_t *set_app(marathon_t *m, const marathon_app_t *app)
{
    marathon_app_entry_t *e = marathon_app_find(m, app->id);
    marathon_app_t *copy = marathon_app_copy(app);
    if (copy == NULL)
        return NULL;
    if (e == NULL) {
        if ((e = calloc(1, sizeof(*e))) == NULL || (e->id = strdup(app->id)) == NULL) {
            free(e);
            marathon_app_free(copy);
            return NULL;
        }
        HASH_ADD_KEYPTR(hh, m->apps, e->id, strlen(e->id), e);
    }
    bool new_version = e->app == NULL || !marathon_app_only_scaled(e->app, copy);
    marathon_app_free(e->app);
    e->app = copy;
    free(e->app_text);
    e->app_text = NULL;
    marathon_app_changed(e);
    if (new_version) {
        /* A new version starts without the old one's backoff. */
        e->failures = 0;
        e->delay_until = 0;
    }
    add_version(e, copy->version);
    marathon_store_app(m, e);
    return e;
}

static json_t *plan_event(const marathon_deployment_t *d, const char *type_field)
{
    json_t *plan = marathon_deployment_json(d);
    json_t *step = json_pack("{s:[{s:s,s:s}]}", "actions", "action",
                             marathon_action_name(d->action), "app", d->app_id);
    json_t *ev = json_pack("{s:o,s:o}", "plan", plan, type_field, step);
    return ev;
}

static void progress_soon(actor_t *self, void *state, void *arg)
{
    (void)arg;
    if (self == NULL)
        return;
    marathon_deployments_progress(state);
    marathon_launch_wanted(state);
}

marathon_deployment_t *marathon_deploy(marathon_t *m, marathon_app_t *original,
                                       marathon_app_t *target, marathon_action_t action)
{
    marathon_deployment_t *d = calloc(1, sizeof(*d));
    char id[ACTOR_UUID_TEXT_LEN], now[32];
    actor_uuid_text(id);
    marathon_version_now(now);
    const marathon_app_t *app = target != NULL ? target : original;
    if (d == NULL || (d->id = strdup(id)) == NULL ||
        (d->version = strdup(target != NULL && target->version ? target->version : now)) == NULL ||
        (d->app_id = strdup(app->id)) == NULL) {
        if (d != NULL) {
            free(d->id);
            free(d->version);
            free(d);
        }
        marathon_app_free(original);
        marathon_app_free(target);
        return NULL;
    }
    d->action = action;
    d->original = original;
    d->target = target;
    marathon_app_entry_t *e = target != NULL ? set_app(m, target) : marathon_app_find(m, app->id);
    if (e == NULL) {
        deployment_free(d);
        return NULL;
    }
    if (e->deployment != NULL) {
        /* Forced over a running deployment: that one stops where it is, as Marathon's does. */
        marathon_deployment_cancel(m, e->deployment, false);
    }
    e->deployment = d;
    m->counters.deployments++;
    HASH_ADD_KEYPTR(hh, m->deployments, d->id, strlen(d->id), d);
    marathon_store_deployment(m, d);
    marathon_event(m, "deployment_info", plan_event(d, "currentStep"));
    LOG_INFO("Deployment %s: %s %s", d->id, marathon_action_name(action), d->app_id);
    if (action == MARATHON_STOP) {
        for (marathon_instance_t *i = e->instances; i != NULL; i = i->app_next)
            marathon_instance_kill(m, i);
    }
    /* Progress right after this handler, not now: a deployment with nothing to do finishes (and
     * is freed) at once, and the caller still answers with its id. */
    if (actor_dispatch(actor_self(m->self), progress_soon, NULL) != ACTOR_OK)
        LOG_ERROR("Out of memory: deployment %s progresses with the next change", d->id);
    return d;
}

static void finish(marathon_t *m, marathon_deployment_t *d, bool success)
{
    marathon_app_entry_t *e = marathon_app_find(m, d->app_id);
    if (e != NULL && e->deployment == d)
        e->deployment = NULL;
    /* Each deployment is one step (one app's action): the step ends with the plan. */
    marathon_event(m, success ? "deployment_step_success" : "deployment_step_failure",
                   plan_event(d, "currentStep"));
    marathon_event(m, success ? "deployment_success" : "deployment_failed",
                   json_pack("{s:s,s:o}", "id", d->id, "plan", marathon_deployment_json(d)));
    HASH_DEL(m->deployments, d);
    marathon_store_deployment_delete(m, d->id);
    LOG_INFO("Deployment %s %s", d->id, success ? "finished" : "stopped");
    deployment_free(d);
}

marathon_deployment_t *marathon_deployment_cancel(marathon_t *m, marathon_deployment_t *d,
                                                  bool revert)
{
    marathon_app_t *original = d->original, *target = d->target;
    marathon_action_t action = d->action;
    d->original = d->target = NULL;
    finish(m, d, false);
    if (!revert) {
        marathon_app_free(original);
        marathon_app_free(target);
        return NULL;
    }
    /* Going back: to the original definition, or away for an app the deployment started. */
    char now[32];
    marathon_version_now(now);
    if (original == NULL)
        return marathon_deploy(m, target, NULL, MARATHON_STOP);
    marathon_app_free(target);
    if (action == MARATHON_STOP)
        return marathon_deploy(m, NULL, original, MARATHON_START);
    free(original->version);
    original->version = strdup(now);
    return marathon_deploy(m, NULL, original, MARATHON_RESTART);
}

/* Picks up to n instances to kill among those `pick` accepts, youngest or oldest first as the
 * app's killSelection says, those not running or not healthy first (they cost least to drop, and
 * a restart's health floor counts only healthy ones). */
static void kill_some(marathon_t *m, marathon_app_entry_t *e, uint32_t n,
                      bool (*pick)(const marathon_instance_t *i, const char *version),
                      const char *version)
{
    while (n-- > 0) {
        marathon_instance_t *best = NULL;
        for (marathon_instance_t *i = e->instances; i != NULL; i = i->app_next) {
            if (i->killing || mesos_task_state_terminal(i->state) ||
                marathon_instance_inactive(i) || !pick(i, version))
                continue;
            /* Not running yet, then unhealthy, then healthy: the cheapest losses first. */
            bool running =
                i->state == MESOS__TASK_STATE__TASK_RUNNING && marathon_instance_healthy(i);
            bool best_running = best != NULL && best->state == MESOS__TASK_STATE__TASK_RUNNING &&
                                marathon_instance_healthy(best);
            bool younger = best != NULL && i->staged_time > best->staged_time;
            bool wanted =
                e->app->kill_selection == MARATHON_KILL_YOUNGEST_FIRST ? younger : !younger;
            if (best == NULL || (best_running && !running) || (running == best_running && wanted))
                best = i;
        }
        if (best == NULL)
            return;
        marathon_instance_kill(m, best);
    }
}

static bool any_version(const marathon_instance_t *i, const char *version)
{
    (void)i, (void)version;
    return true;
}

void marathon_app_scale_check(marathon_t *m, marathon_app_entry_t *e)
{
    if (e->deployment != NULL)
        return; /* the deployment decides what runs */
    uint32_t active = marathon_app_active(e, NULL);
    if (active <= e->app->instances)
        return;
    LOG_INFO("%s runs %u instances of %u: killing the surplus", e->id, active, e->app->instances);
    kill_some(m, e, active - e->app->instances, any_version, NULL);
}

static bool other_version(const marathon_instance_t *i, const char *version)
{
    return strcmp(i->version, version) != 0;
}

void marathon_app_rollout(const marathon_app_entry_t *e, marathon_restart_step_t *step)
{
    marathon_rollout_counts_t now = marathon_app_counts(e)->rollout;
    marathon_restart_compute(e->app->instances, e->app->minimum_health_capacity,
                             e->app->maximum_over_capacity, &now, step);
}

/* Whether an app has reached its definition: the target count of its version, all healthy, and
 * nothing else left running. */
static bool reached(const marathon_app_entry_t *e)
{
    const marathon_app_counts_t *c = marathon_app_counts(e);
    return c->stale == 0 && c->current_active == e->app->instances &&
           c->current_healthy == e->app->instances;
}

static bool progress_one(marathon_t *m, marathon_deployment_t *d)
{
    marathon_app_entry_t *e = marathon_app_find(m, d->app_id);
    if (d->action == MARATHON_STOP) {
        if (e != NULL && e->instance_count > 0)
            return false;
        if (e != NULL) {
            marathon_store_app_delete(m, e->id);
            HASH_DEL(m->apps, e);
            marathon_app_entry_free(e);
        }
        marathon_event(m, "app_terminated_event", json_pack("{s:s}", "appId", d->app_id));
        return true;
    }
    if (e == NULL)
        return true;
    const char *v = marathon_app_config(e->app);
    uint32_t target = e->app->instances;
    const marathon_app_counts_t *c = marathon_app_counts(e);
    uint32_t active = c->active, new_active = c->current_active;
    if (new_active > target) /* scaled down: the surplus goes */
        kill_some(m, e, new_active - target, any_version, NULL);
    if (active > new_active) {
        marathon_restart_step_t step;
        marathon_app_rollout(e, &step);
        kill_some(m, e, step.kill, other_version, v);
    }
    return reached(e);
}

void marathon_deployment_progress_app(marathon_t *m, marathon_app_entry_t *e)
{
    marathon_deployment_t *d = e->deployment;
    if (d != NULL && progress_one(m, d))
        finish(m, d, true);
}

void marathon_deployments_progress(marathon_t *m)
{
    marathon_deployment_t *d, *tmp;
    HASH_ITER(hh, m->deployments, d, tmp)
    {
        if (progress_one(m, d))
            finish(m, d, true);
    }
}
