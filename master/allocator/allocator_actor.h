/*
 * allocator_actor.h: the allocator as its own actor, as Mesos runs its allocator process beside
 * the master.
 *
 * The master spawns it with allocator_actor_spawn() and changes its state only through the
 * calls below, each of which copies its arguments and dispatches them to the actor
 * (fire-and-forget, in call order, so a call made after another is applied after it). The actor
 * runs a cycle every `interval` seconds on the runtime clock (clock.h, so tests drive it by
 * advancing a paused clock), and also soon after any call that may let it offer something
 * (resources recovered, an agent or framework added or activated, a revive): such calls mark
 * the actor dirty and the cycle runs once the calls already queued are applied, so a burst of
 * declines costs one cycle, not one each.
 *
 * Each cycle's grants are delivered to the master in one batch: `offer` runs inside the master
 * actor (through actor_dispatch) with the grants, a heap allocator_grants_t which it then owns
 * and frees with allocator_grants_free(grants) and free(grants). If the master is gone the
 * grants are freed without calling `offer`. The master must cope with grants for frameworks or
 * agents it removed meanwhile: it gives those back with allocator_actor_recover(), as Mesos's
 * master does.
 *
 * Periodic cycles skip themselves when allocator_pending() says nothing could be offered, so
 * an idle cluster costs a timer per interval. An interval of 0 or less means 1 second (Mesos's
 * default). Calls that mark the actor dirty: add, activate, update and remove framework,
 * revive, add and activate agent, recover, update weight, allocate now.
 */
#ifndef MASTER_ALLOCATOR_ALLOCATOR_ACTOR_H
#define MASTER_ALLOCATOR_ALLOCATOR_ACTOR_H

#include "actor/actor.h"
#include "master/allocator/allocator.h"

/* Runs inside `master` (self and state are the master's, never NULL). grants, and the struct
 * itself, are the master's to free; never empty: a cycle without grants is not delivered. */
typedef void (*allocator_offer_fn)(actor_t *self, void *state, allocator_grants_t *grants);

typedef struct allocator_actor_options {
    actor_pid_t master;       /* where grants go */
    allocator_offer_fn offer; /* runs in the master */
    double interval;          /* seconds between periodic cycles (--allocation_interval) */
} allocator_actor_options_t;

/* Spawns the allocator actor (id "allocator", or "allocator(N)" if taken); *pid receives it.
 * ACTOR_EINVAL (NULL opts, offer or pid), ACTOR_ENOMEM, or actor_spawn's errors. */
actor_err_t allocator_actor_spawn(const allocator_actor_options_t *opts, actor_pid_t *pid);

/* Each call below mirrors the allocator.h function of the same name; arguments are copied before
 * it returns. The only error is ACTOR_ENOMEM or ACTOR_ENOENT (the actor is gone); errors of the
 * operation itself (an unknown id) are logged by the actor. */
actor_err_t allocator_actor_add_framework(const actor_pid_t *alloc, const char *framework_id,
                                          const char *const *roles, size_t role_count,
                                          const char *const *suppressed_roles,
                                          size_t suppressed_count, const allocator_used_t *used,
                                          size_t used_count);
actor_err_t allocator_actor_remove_framework(const actor_pid_t *alloc, const char *framework_id);
actor_err_t allocator_actor_activate_framework(const actor_pid_t *alloc, const char *framework_id);
actor_err_t allocator_actor_deactivate_framework(const actor_pid_t *alloc,
                                                 const char *framework_id);
actor_err_t allocator_actor_update_framework(const actor_pid_t *alloc, const char *framework_id,
                                             const char *const *roles, size_t role_count);
actor_err_t allocator_actor_suppress(const actor_pid_t *alloc, const char *framework_id,
                                     const char *role);
actor_err_t allocator_actor_revive(const actor_pid_t *alloc, const char *framework_id,
                                   const char *role);
actor_err_t allocator_actor_add_agent(const actor_pid_t *alloc, const char *agent_id,
                                      const resources_t *total, const allocator_used_t *used,
                                      size_t used_count);
actor_err_t allocator_actor_add_used(const actor_pid_t *alloc, const char *agent_id,
                                     const allocator_used_t *used, size_t used_count);
actor_err_t allocator_actor_remove_agent(const actor_pid_t *alloc, const char *agent_id);
actor_err_t allocator_actor_activate_agent(const actor_pid_t *alloc, const char *agent_id);
actor_err_t allocator_actor_deactivate_agent(const actor_pid_t *alloc, const char *agent_id);
/* Time for the filter is the actor's clock when it applies the call. A filter (refuse_seconds
 * > 0) lasts at least one allocation interval, as Mesos makes it, so that it outlives the next
 * periodic cycle. */
actor_err_t allocator_actor_recover(const actor_pid_t *alloc, const char *framework_id,
                                    const char *agent_id, const resources_t *resources,
                                    double refuse_seconds);
actor_err_t allocator_actor_update_weight(const actor_pid_t *alloc, const char *role,
                                          double weight);

/* Asks for a cycle as soon as the calls queued before it are applied (tests; the master's
 * /allocator endpoints do not exist). */
actor_err_t allocator_actor_allocate_now(const actor_pid_t *alloc);

#endif
