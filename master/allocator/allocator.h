/*
 * allocator.h: the master's resource allocator, Mesos's HierarchicalDRFAllocator in C.
 *
 * Two layers, so that the arithmetic can be benchmarked and unit-tested without a runtime:
 *
 *  - allocator_t, the core: a single-threaded data structure that knows every agent's total and
 *    allocated resources, every framework with its roles, the roles' weights, the decline
 *    filters and the suppressed roles, and computes one allocation cycle on demand. Time is a
 *    parameter (`now`, seconds on any monotonic scale), never read from a clock.
 *  - allocator_actor.h, the actor the master talks to: it owns an allocator_t, runs a cycle every
 *    --allocation_interval and soon after resources come back, and hands each cycle's offers to
 *    the master in one batch.
 *
 * Allocation, as Mesos's hierarchical DRF: in a cycle every agent with unallocated resources is
 * visited (in a shuffled order, so that no agent is always first); for each, the roles that may
 * use its resources are taken in DRF order (the role tree is walked level by level: "eng/web" is
 * a child of "eng"; siblings are ordered by weighted dominant share, least first), and within the
 * role its active frameworks in DRF order. The first framework that has not suppressed the role
 * and has no live filter holding what the agent would offer it (below) gets all of the agent's
 * unallocated resources that the role may use (unreserved ones, and those reserved to the role or
 * to an ancestor of it). Its
 * share grows at once, so the next agent sees the new order. A share is the largest, over the
 * scalar resource names (cpus, mem, disk, gpus, ...), of allocated / cluster total, divided by
 * the role's weight (default 1.0) for roles; frameworks within a role are not weighted.
 *
 * Offer filters, as Mesos's RefusedOfferFilter: resources given back with refuse_seconds (a
 * DECLINE, or what an ACCEPT left unused) are refused by that framework, for the role they were
 * allocated for, on that agent, until the filter expires. A later offer of the agent to the
 * framework in that role is filtered only if the refused resources contain everything it would
 * hold, so what is freed meanwhile (a task finished) is offered at once. A framework may hold
 * several filters per agent and role; a revive clears those of its roles, a deactivation all.
 *
 * Incremental: a cycle only visits agents that have unallocated resources and that some
 * framework could take; an agent that every framework has filtered stays dormant until a filter
 * on it expires, a framework is added, activated or revives, or its resources change. Sorting
 * state is kept across cycles and updated per change, never rebuilt per cycle.
 *
 * Ids (framework ids, agent ids, roles) are NUL-terminated strings copied by the allocator.
 * Errors are actor_err_t: ACTOR_EINVAL for an unknown id or bad argument (the allocator is left
 * unchanged), ACTOR_EEXIST for an id added twice, ACTOR_ENOMEM (the call may then be partly
 * applied; the allocator stays consistent).
 *
 * Details, as Mesos does them:
 *  - Roles are validated as Mesos's roles::validate does ("*", or '/'-separated names without
 *    empty, ".", ".." or '-'-leading components, white space or '*').
 *  - Within a role, frameworks with equal shares are ordered by when they were added.
 *  - Min allocatable: an offer must hold cpus >= 0.01 or mem >= 32 (MB), Mesos's default
 *    --min_allocatable_resources "cpus:0.01|mem:32"; an agent with less free stays dormant.
 *  - Cluster totals, for shares and for allocator_total_scalar(), count active agents only.
 *  - At most 16 distinct scalar names count in shares (cpus, mem, disk and gpus come first).
 *  - The cycle's agent order is shuffled by a generator with a fixed seed: reproducible runs,
 *    another order each cycle.
 */
#ifndef MASTER_ALLOCATOR_ALLOCATOR_H
#define MASTER_ALLOCATOR_ALLOCATOR_H

#include <stdbool.h>
#include <stddef.h>

#include "actor/error.h"
#include "resources/resources.h"

typedef struct allocator allocator_t;

/* One offer decided by a cycle: all the unallocated resources of `agent_id` that `role` may
 * use, now allocated to `framework_id`. A grant owns its strings (one block starting at
 * framework_id) and resources, so it stays valid whatever happens to the allocator. */
typedef struct allocator_grant {
    const char *framework_id;
    const char *agent_id;
    const char *role;
    resources_t resources;
} allocator_grant_t;

/* A cycle's result, grouped by framework (grants of one framework are adjacent). Owned by the
 * caller of allocator_allocate(); free with allocator_grants_free(). Only allocator_allocate()
 * fills one (its array grows by doubling, with the capacity implied by count). */
typedef struct allocator_grants {
    allocator_grant_t *items;
    size_t count;
} allocator_grants_t;

/* Frees every grant's strings and resources and the array, and leaves *grants empty
 * ({NULL, 0}); the struct itself is the caller's (it may be on the stack). NULL is ignored. */
void allocator_grants_free(allocator_grants_t *grants);

allocator_t *allocator_create(void);
void allocator_destroy(allocator_t *a);

/* ---- frameworks ---- */

/* Usage already in place when a framework or an agent is added (after a master failover the
 * agents report it): `resources` held by framework_id on agent_id, allocated for `role`. */
typedef struct allocator_used {
    const char *framework_id; /* allocator_add_agent: whose usage this is */
    const char *agent_id;     /* allocator_add_framework: where it is used */
    const char *role;
    const resources_t *resources;
} allocator_used_t;

/* Adds an active framework subscribed to `roles` (role_count >= 1, no role twice). `used` lists
 * what it already holds per agent (framework_id is not read); may be NULL with used_count 0.
 * Usage on agents not added is ignored; usage that the agent's own report (allocator_add_agent)
 * already recorded for this framework and role is kept as the agent reported it. Its roles
 * start unsuppressed unless listed in `suppressed_roles` (other names there are ignored). */
actor_err_t allocator_add_framework(allocator_t *a, const char *framework_id,
                                    const char *const *roles, size_t role_count,
                                    const char *const *suppressed_roles, size_t suppressed_count,
                                    const allocator_used_t *used, size_t used_count);

/* Removes a framework: what it was allocated becomes free, its filters go. */
actor_err_t allocator_remove_framework(allocator_t *a, const char *framework_id);

/* A deactivated framework keeps its allocation but gets no offers (a disconnected scheduler),
 * and its filters are cleared, as Mesos clears them; activation makes it offerable again. */
actor_err_t allocator_activate_framework(allocator_t *a, const char *framework_id);
actor_err_t allocator_deactivate_framework(allocator_t *a, const char *framework_id);

/* Changes a framework's roles (a resubscription with another FrameworkInfo). Allocations keep
 * their roles. */
actor_err_t allocator_update_framework(allocator_t *a, const char *framework_id,
                                       const char *const *roles, size_t role_count);

/* SUPPRESS: no offers for `role` (NULL: every role of the framework) until revived. A role the
 * framework is not subscribed to is an ACTOR_EINVAL (also for revive). */
actor_err_t allocator_suppress(allocator_t *a, const char *framework_id, const char *role);

/* REVIVE: offers again for `role` (NULL: every role), and the framework's filters for that role
 * (or all of them) are cleared, as Mesos's reviveRoles does. */
actor_err_t allocator_revive(allocator_t *a, const char *framework_id, const char *role);

/* ---- agents ---- */

/* Adds an active agent with its total resources and what is already in use on it (from its
 * reregistration); `used` entries name frameworks (agent_id is not read), which need not be
 * known yet: their usage counts against the agent at once, and in the framework's share once
 * it is added. A later allocator_recover() of such usage frees it even if the framework never
 * comes. */
actor_err_t allocator_add_agent(allocator_t *a, const char *agent_id, const resources_t *total,
                                const allocator_used_t *used, size_t used_count);

/* Usage that appeared on an agent already added (tasks a reregistering agent reports that the
 * master did not know): as the `used` of allocator_add_agent, it counts against the agent's free
 * resources at once, and in each framework's share once the framework is known. Usage beyond
 * what is free still counts (the agent's report is the truth); the caller rescinds the agent's
 * offers first so that nothing is offered twice. ACTOR_EINVAL for an unknown agent or a bad
 * entry (nothing changes). */
actor_err_t allocator_add_used(allocator_t *a, const char *agent_id, const allocator_used_t *used,
                               size_t used_count);

/* Removes an agent (gone or unreachable): its resources leave the pool, allocations on it are
 * forgotten, filters naming it are dropped. */
actor_err_t allocator_remove_agent(allocator_t *a, const char *agent_id);

/* A deactivated agent keeps its allocations but nothing on it is offered (Mesos deactivates an
 * agent while it is disconnected). */
actor_err_t allocator_activate_agent(allocator_t *a, const char *agent_id);
actor_err_t allocator_deactivate_agent(allocator_t *a, const char *agent_id);

/* ---- resources coming back ---- */

/* Resources allocated to framework_id on agent_id are free again: an offer declined, rescinded
 * or partly used, a task finished. With refuse_seconds > 0 (a DECLINE's filter) the framework
 * refuses them, for the role they were allocated for, until now + refuse_seconds: it gets no offer
 * of that agent for that role that they contain, unless it revives (above). 0 or less adds no
 * filter. Resources not allocated to the framework there are an ACTOR_EINVAL (nothing changes).
 * An unknown framework or agent is ignored (it may have been removed meanwhile). */
actor_err_t allocator_recover(allocator_t *a, const char *framework_id, const char *agent_id,
                              const resources_t *resources, double refuse_seconds, double now);

/* ---- roles ---- */

/* Sets the weight of a role (> 0; 1.0 is the default). Does not need the role to have
 * frameworks yet. */
actor_err_t allocator_update_weight(allocator_t *a, const char *role, double weight);

/* The weight of role (1.0 if never set). */
double allocator_weight(const allocator_t *a, const char *role);

/* ---- cycles ---- */

/* Runs one allocation cycle at time `now` and appends its offers to *out (which must be
 * zero-initialized or hold earlier grants of allocator_allocate()); out->count grows by the
 * number of grants made. ACTOR_OK, ACTOR_EINVAL (NULL argument) or ACTOR_ENOMEM (the grants
 * made until then are in *out and allocated). */
actor_err_t allocator_allocate(allocator_t *a, double now, allocator_grants_t *out);

/* Whether a cycle now could make any offer (some active agent has free resources that some
 * active, unsuppressed, unfiltered framework may take). Cheap: used to skip idle cycles. */
bool allocator_pending(const allocator_t *a, double now);

/* ---- reading ---- */

/* The framework's dominant share over all its roles (0 for an unknown framework), unweighted. */
double allocator_framework_share(const allocator_t *a, const char *framework_id);

/* Cluster totals and allocated amounts of a scalar resource ("cpus"), for metrics; both over
 * active agents. */
double allocator_total_scalar(const allocator_t *a, const char *name);
double allocator_allocated_scalar(const allocator_t *a, const char *name);

#endif
