/*
 * placement.h: where and how Marathon runs an app's instances (Marathon 1.10): placement
 * constraints against an offer and the instances already placed (mesos/Constraints.scala), the
 * choice of instances to kill when scaling down (ScalingProposition and
 * Constraints.selectInstancesToKill), matching an app's resources and host ports against what is
 * left of an offer (ResourceMatcher, PortsMatcher), and the Mesos TaskInfo of a launch
 * (TaskBuilder, EnvironmentHelper, PortDiscovery, the Mesos health checks).
 *
 * Pure decision code used by Marathon's launch queue and deployments (launch.c, deployments.c):
 * no actor, no I/O, no global state. Every function may be called from a handler and none
 * blocks. Apps are read, never changed or kept; offers and placements are borrowed for the call.
 *
 * Constraint semantics, exactly as Marathon's:
 *   - The field is `hostname` (or `@hostname`), `@region` or `@zone` (the offer's fault domain;
 *     an agent without one has no value), or an agent attribute. An attribute's value is its text,
 *     a scalar as Java's NumberFormat writes it (at most 3 decimals, half-even, trailing zeros
 *     dropped, thousands grouped: 1234.5 is "1,234.5"), ranges as "[1-4,6-8]" and a set as
 *     "{a,b}" (sorted). The first attribute of that name counts.
 *   - A value the offer lacks rejects the offer, except for UNLIKE, which accepts it.
 *   - UNIQUE: no placed instance has the offer's value. CLUSTER with a value: the offer's value
 *     is it; without one: the offer's value is the first placed instance's (any when none).
 *     GROUP_BY [n]: a value nobody uses is always fine; a used one only when at least n values are
 *     in use (n absent: 0) and its count is the smallest (instances without a value form a group
 *     of their own, as in Marathon). MAX_PER n: fewer than n placed instances share the offer's
 *     value. LIKE / UNLIKE: the whole value matches (does not match) the regular expression,
 *     which is POSIX extended with Java's \d and \D and (?:...) understood; an expression that
 *     does not compile rejects. IS: the value equals the constraint's; a scalar attribute
 *     compares at 3 decimals ("0.8001" IS level 0.8).
 */
#ifndef FRAMEWORKS_MARATHON_PLACEMENT_H
#define FRAMEWORKS_MARATHON_PLACEMENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "actor/error.h"
#include "frameworks/marathon/app.h"
#include "mesos.pb-c.h"
#include "resources/resources.h"

/* ---- Constraints ---- */

/* Where one instance of the app runs, as constraints see it. A view: every pointer is borrowed
 * and only read during the call. An instance not yet placed has hostname NULL (no value for any
 * field). */
typedef struct marathon_placed {
    const char *agent_id;
    const char *hostname;
    Mesos__Attribute *const *attributes; /* the agent's attributes */
    size_t attribute_count;
    const char *region; /* the agent's fault domain, NULL when it has none */
    const char *zone;
} marathon_placed_t;

/* Fills out with a view of the agent an offer comes from (borrowing the offer's strings). */
void marathon_placed_from_offer(const Mesos__Offer *offer, marathon_placed_t *out);

/* Whether an offer satisfies every constraint of app, given where the app's current instances
 * run (placed[0] is "the first task" of an empty CLUSTER). Regular expressions are compiled once
 * per call. Out of memory counts as a rejection. */
bool marathon_constraints_allow(const marathon_app_t *app, const Mesos__Offer *offer,
                                const marathon_placed_t *placed, size_t placed_count);

/* Whether an offer satisfies one constraint. */
bool marathon_constraint_allows(const marathon_constraint_t *constraint, const Mesos__Offer *offer,
                                const marathon_placed_t *placed, size_t placed_count);

/* ---- Scale-down: which instances to kill ---- */

/* The condition of an instance, in the order Marathon kills them (first killed first). */
typedef enum marathon_condition {
    MARATHON_CONDITION_SCHEDULED,   /* not launched yet: costs nothing to drop */
    MARATHON_CONDITION_UNREACHABLE, /* its agent is away */
    MARATHON_CONDITION_STAGING,
    MARATHON_CONDITION_STARTING,
    MARATHON_CONDITION_RUNNING,
    MARATHON_CONDITION_OTHER, /* killing, unknown, ...: last, as in Marathon */
} marathon_condition_t;

typedef enum marathon_instance_health {
    MARATHON_INSTANCE_HEALTH_UNKNOWN, /* no health checks, or no result yet */
    MARATHON_INSTANCE_HEALTH_HEALTHY,
    MARATHON_INSTANCE_HEALTH_UNHEALTHY,
} marathon_instance_health_t;

/* One instance the app keeps running (goal Running), as the kill selection sees it. */
typedef struct marathon_kill_candidate {
    marathon_condition_t condition;
    marathon_instance_health_t health;
    int64_t since_ns; /* staged time when staging, else started time; <= 0 unknown */
    bool sentenced;   /* chosen to die already (kill-and-scale, UnreachableInactive) */
    marathon_placed_t placed;
} marathon_kill_candidate_t;

/*
 * Chooses kill_count of the count candidates to kill, as Marathon's ScalingProposition orders
 * them: the sentenced first; then those whose removal keeps every GROUP_BY constraint of app
 * balanced (Constraints.selectInstancesToKill); then the rest by condition (scheduled,
 * unreachable, staging, starting, running and unhealthy, running, other), ties broken by the
 * app's killSelection on since_ns (YOUNGEST_FIRST: the latest first; unknown times first).
 * Marathon does not look at health; we rank known-unhealthy running instances before the others,
 * as its ScalingProposition's comment intends. out (room for kill_count) receives indexes into
 * candidates in kill order; *out_count = min(kill_count, count). ACTOR_OK or ACTOR_ENOMEM.
 */
actor_err_t marathon_select_kill(const marathon_app_t *app,
                                 const marathon_kill_candidate_t *candidates, size_t count,
                                 size_t kill_count, size_t *out, size_t *out_count);

/* ---- Resource matching ---- */

/* Why an offer does not fit (bits of marathon_match()'s *rejects), named as Marathon's
 * NoOfferMatchReason in /v2/queue. */
typedef enum marathon_reject {
    MARATHON_REJECT_CPUS = 1 << 0,       /* "InsufficientCpus" */
    MARATHON_REJECT_MEMORY = 1 << 1,     /* "InsufficientMemory" */
    MARATHON_REJECT_DISK = 1 << 2,       /* "InsufficientDisk" */
    MARATHON_REJECT_PORTS = 1 << 3,      /* "InsufficientPorts" */
    MARATHON_REJECT_CONSTRAINT = 1 << 4, /* "UnfulfilledConstraint" (marathon_constraints_allow) */
} marathon_reject_t;

/* Marathon's name of one reason bit; "" for anything else. */
const char *marathon_reject_name(marathon_reject_t reason);

/* What one task takes from an offer. Caller storage: init/fini. */
typedef struct marathon_match {
    resources_t resources;   /* cpus, mem, disk (when > 0) and ports, by role */
    Mesos__Resource **items; /* the same as TaskInfo.resources: new messages, owned */
    size_t item_count;
    uint32_t *host_ports; /* one per port definition of the app, in order */
    size_t host_port_count;
} marathon_match_t;

/* Makes m empty. Cannot fail. */
void marathon_match_init(marathon_match_t *m);

/* Frees what m holds and leaves it empty. Cannot fail. */
void marathon_match_fini(marathon_match_t *m);

/*
 * Whether the remaining part of an offer (initialized by the caller from the offer's resources,
 * less what earlier tasks of the same offer took) holds the app's cpus, mem and disk (disk only
 * when > 0, as Marathon) and its ports. Only resources of role "*" or of `role` (the framework's
 * role; NULL means "*") are used, the framework's own role first. Ports: with requirePorts, the
 * port definitions' numbers exactly (a 0 is picked like a dynamic one); otherwise one free port of
 * the offer's `ports` ranges per port definition, at random when seed is not NULL (as Marathon
 * picks them; *seed is a caller-held xorshift state, advanced) or lowest first when it is NULL.
 *
 * On ACTOR_OK out (initialized) holds what the task takes, with the offer's allocation_info on
 * each item, and it is subtracted from remaining. ACTOR_ENOENT: the offer does not fit; *rejects
 * (may be NULL) gets every reason bit, out stays empty and remaining unchanged. ACTOR_EINVAL: the
 * app asks for a negative or non-finite amount. ACTOR_ENOMEM.
 */
actor_err_t marathon_match(const marathon_app_t *app, const Mesos__Offer *offer, const char *role,
                           resources_t *remaining, uint64_t *seed, marathon_match_t *out,
                           unsigned *rejects);

/* ---- Tasks ---- */

/* A new task id as Marathon's legacy form: the app id without its leading '/', each '/' as '_',
 * '.', a random UUID ("/prod/web" -> "prod_web.5f0d6a4e-..."). *out is a new string. ACTOR_OK,
 * ACTOR_EINVAL (app_id NULL or not absolute) or ACTOR_ENOMEM. */
actor_err_t marathon_task_id_new(const char *app_id, char **out);

/* The app id a task id was made for ("prod_web.5f0d..." -> "/prod/web"), as a new string.
 * ACTOR_EINVAL when task_id has no '.' with text on both sides; ACTOR_ENOMEM. */
actor_err_t marathon_task_id_app(const char *task_id, char **out);

/* The Mesos task name of an app: its id's segments reversed and joined by '.' ("/prod/web" ->
 * "web.prod"), a valid hostname for service discovery. A new string, or NULL (out of memory). */
char *marathon_task_name(const char *app_id);

/*
 * Builds the TaskInfo launching one instance of app on the offer's agent with the resources of
 * match (copied), as Marathon's TaskBuilder does for the command executor:
 *   - name: marathon_task_name(); task_id, agent_id from the offer; labels: the app's labels;
 *   - command: `cmd` alone as a shell line; `args` alone as argv (shell false, value args[0]);
 *     `cmd` with `args` (the seed's app.json) as value cmd, shell false, argv [cmd, args...];
 *     uris from `fetch` (extract, executable, cache, output_file from destPath); user;
 *   - environment (later entries win, the app's `env` last): MESOS_TASK_ID, MARATHON_APP_ID,
 *     MARATHON_APP_VERSION, MARATHON_APP_RESOURCE_CPUS/MEM/DISK (Java's Double.toString: "0.5",
 *     "128.0") and _GPUS ("0"), MARATHON_APP_ENFORCE_GROUP_ROLE=FALSE, MARATHON_APP_LABELS (the
 *     escaped label names, space separated) and MARATHON_APP_LABEL_<NAME> (name with each run of
 *     characters outside [A-Za-z0-9_] as '_', upper-cased; labels whose name has 493 characters
 *     or more or whose value 512 or more are left out), PORT0..n, PORT_<port> (the declared port,
 *     or the host port for a 0), PORT_<NAME> (upper-cased port names), PORT, PORTS, HOST; no
 *     MARATHON_APP_DOCKER_IMAGE (no containers);
 *   - discovery: name as the task's, visibility FRAMEWORK, one Port per port definition and
 *     protocol ("udp,tcp" gives two) with the host port, the definition's name and labels;
 *   - kill_policy from taskKillGracePeriodSeconds;
 *   - health_check from the first COMMAND, MESOS_HTTP(S) or MESOS_TCP check (Marathon-level
 *     HTTP/HTTPS/TCP checks run in Marathon): delay, interval, timeout, consecutive failures and
 *     grace period in seconds; COMMAND as a shell CommandInfo; HTTP with scheme, path and port;
 *     TCP with port; the port is `port` or the host port at portIndex (left out, like Marathon,
 *     when neither resolves).
 * match->host_port_count must equal the app's port definition count (ACTOR_EINVAL otherwise).
 * On ACTOR_OK *out is a new message: free it with mesos__task_info__free_unpacked(*out, NULL).
 * ACTOR_ENOMEM otherwise (nothing to free).
 */
actor_err_t marathon_task_build(const marathon_app_t *app, const Mesos__Offer *offer,
                                const char *task_id, const marathon_match_t *match,
                                Mesos__TaskInfo **out);

#endif
