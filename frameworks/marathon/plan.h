/*
 * plan.h: the arithmetic of Marathon's deployments (core/deployment of Marathon 1.10): how many
 * instances a scale starts and kills (ScalingProposition), how a rolling restart replaces old
 * instances by new ones within the app's upgradeStrategy (TaskReplaceActor), and the steps of a
 * deployment plan from the apps before and after a change (DeploymentPlan), with the names
 * /v2/deployments shows.
 *
 * Pure decision code for Marathon's deployments (deployments.c): no actor, no I/O, no state of
 * its own beyond the caller-held structs below. Every function may be called from a handler.
 *
 * A rolling restart (RestartApplication), as Marathon's TaskReplaceActor runs it:
 *   minHealthy  = ceil(target × minimumHealthCapacity)
 *   maxCapacity = floor(target × (1 + maximumOverCapacity)), in doubles as Marathon computes it;
 *                 when it equals minHealthy and the healthy instances already fill it (1.0 / 0.0,
 *                 say), one more is allowed so that the restart can start (Marathon's rule for
 *                 apps without persistent volumes)
 * Old instances are killed while the healthy ones (old and new) stay at or above minHealthy:
 * max(0, healthy - minHealthy) of them at the start, then one more each time a new instance
 * becomes healthy (and ready), unhealthy ones first; new instances are launched while old
 * (active and dying) plus new stay within maxCapacity. So never fewer healthy instances than
 * minHealthy (unless there were fewer to begin with, or new ones fail) and never more instances
 * than maxCapacity.
 *
 * The decision here is a function of the counts now, so that it survives a failover and needs no
 * state; it agrees with Marathon's event-driven actor but for one choice: old instances that are
 * not healthy are stopped at once (Marathon lets them run until its kill count reaches them).
 * They do not count toward minHealthy either way, and stopping them frees capacity: this also
 * removes Marathon's stall where a restart with maximumOverCapacity 0 and an unhealthy old
 * instance never gets room to launch.
 */
#ifndef FRAMEWORKS_MARATHON_PLAN_H
#define FRAMEWORKS_MARATHON_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "actor/error.h"
#include "frameworks/marathon/app.h"

/* ---- Scale ---- */

/* ScalingProposition's counts: an app with `active` instances meant to run (goal Running, not
 * UnreachableInactive), `sentenced` of which must go anyway (kill-and-scale, UnreachableInactive),
 * scaled to scale_to: *kill = max(active - scale_to, sentenced) instances to kill (chosen with
 * marathon_select_kill()), *start = scale_to - active + *kill to launch. Cannot fail. */
void marathon_scale_counts(uint32_t active, uint32_t sentenced, uint32_t scale_to, uint32_t *kill,
                           uint32_t *start);

/* ---- Unreachable instances ---- */

/* Where an instance whose agent is unreachable stands under its app's unreachableStrategy
 * (Marathon's UnreachableStrategy): */
typedef enum marathon_unreachable_phase {
    MARATHON_UNREACHABLE_ACTIVE,   /* Unreachable: still counted, nothing replaces it yet */
    MARATHON_UNREACHABLE_INACTIVE, /* UnreachableInactive: not counted, a replacement launches;
                                      kept in case it comes back */
    MARATHON_UNREACHABLE_EXPUNGE,  /* forgotten: killed if it ever comes back */
} marathon_unreachable_phase_t;

/* The phase after `seconds` unreachable: inactive from inactiveAfterSeconds on, expunged from
 * expungeAfterSeconds on (so at once with Marathon's default {0, 0}); always active when the
 * strategy is "disabled". Cannot fail. */
marathon_unreachable_phase_t marathon_unreachable_phase(const marathon_app_t *app, double seconds);

/* ---- Rolling restart ---- */

/* Where a restart stands; "healthy" means running and passing every health check (and ready),
 * or running when the app has no health checks. */
typedef struct marathon_rollout_counts {
    uint32_t old_active;  /* old-version instances still meant to run (not told to stop) */
    uint32_t old_healthy; /* of old_active, healthy */
    uint32_t old_dying;   /* old-version instances told to stop, not terminal yet */
    uint32_t new_started; /* new-version instances meant to run: queued, launched or running */
    uint32_t new_healthy; /* of new_started, healthy */
} marathon_rollout_counts_t;

/* What a restart does now. */
typedef struct marathon_restart_step {
    uint32_t kill_unhealthy; /* old instances that are not healthy to stop now */
    uint32_t kill_healthy;   /* old healthy instances to stop now */
    uint32_t kill;           /* kill_unhealthy + kill_healthy */
    uint32_t start;          /* new instances to launch now */
    uint32_t min_healthy;    /* minHealthy, as above */
    uint32_t max_capacity;   /* maxCapacity, as above (with the one extra when it applies) */
} marathon_restart_step_t;

/* What to kill and launch now in a restart to target instances with the app's upgradeStrategy
 * (each clamped to [0, 1]), given the counts now: the caller stops kill_unhealthy old instances
 * that are not healthy and kill_healthy healthy ones, and launches start new ones; once that is
 * reflected in the counts (stopped ones as old_dying, launched ones in new_started), calling again
 * gives nothing more until an instance changes. Cannot fail. */
void marathon_restart_compute(uint32_t target, double minimum_health_capacity,
                              double maximum_over_capacity, const marathon_rollout_counts_t *now,
                              marathon_restart_step_t *out);

/* Whether the restart is done: target new instances healthy, no old instance left. */
bool marathon_restart_done(uint32_t target, const marathon_rollout_counts_t *now);

/* ---- Deployment plans ---- */

typedef enum marathon_plan_action_type {
    MARATHON_PLAN_START,   /* "StartApplication": a new app, at 0 instances */
    MARATHON_PLAN_SCALE,   /* "ScaleApplication": to scale_to instances */
    MARATHON_PLAN_RESTART, /* "RestartApplication": the new version replaces the instances */
    MARATHON_PLAN_STOP,    /* "StopApplication": the app is gone */
} marathon_plan_action_type_t;

typedef struct marathon_plan_action {
    marathon_plan_action_type_t type;
    const marathon_app_t *app; /* the target app (the original for a stop); borrowed */
    uint32_t scale_to;         /* START: 0; SCALE: the target's instances */
} marathon_plan_action_t;

/* The actions of one step run together; a step starts when the one before is done. */
typedef struct marathon_plan_step {
    marathon_plan_action_t *actions;
    size_t action_count;
} marathon_plan_step_t;

typedef struct marathon_plan {
    marathon_plan_step_t *steps;
    size_t step_count;
} marathon_plan_t;

/*
 * Plans the deployment from the original apps to the target apps (each array by id, ids
 * unique; either may be empty), as Marathon's DeploymentPlan: first a step stopping the apps
 * the target lacks, then a step starting the new apps at 0 instances, then the new and changed
 * apps in layers of their longest dependency chain (an app without dependencies first), so that
 * dependencies are deployed before their dependants: a new app is scaled to its instances, an app
 * whose only change is `instances` is scaled, any other change (or a restart, i.e. a new
 * lastConfigChangeAt) restarts it. A dependency names an app of the target, or a group: every
 * target app under that path. Empty steps are left out. Actions borrow the apps: keep them alive
 * while the plan is used.
 *
 * On ACTOR_OK out (caller storage) holds the plan; release it with marathon_plan_fini().
 * ACTOR_EINVAL with "Dependency graph has cyclic dependencies." in err (err_len bytes; err may be
 * NULL) when the target's dependencies form a cycle; ACTOR_ENOMEM. On error out is empty.
 */
actor_err_t marathon_plan_build(const marathon_app_t *const *original, size_t original_count,
                                const marathon_app_t *const *target, size_t target_count,
                                marathon_plan_t *out, char *err, size_t err_len);

/* Frees what plan holds (not the apps) and leaves it empty. Cannot fail. */
void marathon_plan_fini(marathon_plan_t *plan);

/* Marathon's name of an action type: "StartApplication", "ScaleApplication",
 * "RestartApplication", "StopApplication". Static string. */
const char *marathon_plan_action_name(marathon_plan_action_type_t type);

/* The `steps` of /v2/deployments: [{"actions":[{"action":"ScaleApplication","app":"/x"}]}]. A new
 * reference, NULL when out of memory. */
json_t *marathon_plan_steps_json(const marathon_plan_t *plan);

#endif
