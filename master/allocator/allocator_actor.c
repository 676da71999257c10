/*
 * allocator_actor.c: the allocator actor (allocator_actor.h): its lifecycle, its cycles and the
 * delivery of their grants to the master.
 *
 * Events: a setup call, dispatched right after spawning, hands the actor its allocator core and
 * options (a call, not the init argument, because a dispatched call runs, with self NULL, even
 * if the actor dies first, so nothing leaks). Then the calls of allocator_actor_calls.c, each
 * applying one operation to the core; a periodic tick every `interval`; and a cycle event that
 * a "dirty" call queues behind the calls already queued, at most one at a time.
 *
 * A cycle runs only when allocator_pending() says it could offer something. Its grants go to
 * the master in one dispatch: a heap allocator_grants_t that the master owns. If the master is
 * gone the grants are given back to the core, so its books stay right.
 *
 * Metrics (Mesos's names): allocator/mesos/allocation_runs counts the cycles that ran and
 * allocator/mesos/allocation_run_ms times them. A second allocator in the process (tests) runs
 * without them.
 */
#include <stdlib.h>

#include "actor/clock.h"
#include "actor/log.h"
#include "master/allocator/allocator_actor_int.h"

#define DEFAULT_INTERVAL_NS ACTOR_NS_PER_SEC /* Mesos's --allocation_interval default, 1 secs */

typedef struct setup {
    allocator_t *core;
    allocator_actor_options_t opts;
} setup_t;

typedef struct delivery {
    allocator_offer_fn offer;
    allocator_grants_t *grants;
} delivery_t;

static void allocator_actor_fini(actor_t *self, void *state)
{
    (void)self;
    alloc_actor_t *st = state;
    allocator_destroy(st->core);
    st->core = NULL;
    metrics_counter_free(st->runs);
    metrics_timer_free(st->run_time);
}

static const actor_ops_t allocator_actor_ops = {
    .name = "allocator",
    .state_size = sizeof(alloc_actor_t),
    .fini = allocator_actor_fini,
};

double alloc_actor_now(void)
{
    return (double)actor_clock_now() / (double)ACTOR_NS_PER_SEC;
}

/* Runs in the master: hands it the grants, or frees them when the master is gone. */
static void deliver(actor_t *self, void *state, void *arg)
{
    delivery_t *d = arg;
    allocator_offer_fn offer = d->offer;
    allocator_grants_t *grants = d->grants;
    free(d);
    if (self == NULL) {
        allocator_grants_free(grants);
        free(grants);
        return;
    }
    offer(self, state, grants);
}

/* The master is gone: what the cycle allocated goes back to the core. */
static void take_back(alloc_actor_t *st, allocator_grants_t *grants, double now)
{
    for (size_t i = 0; i < grants->count; i++) {
        const allocator_grant_t *g = &grants->items[i];
        allocator_recover(st->core, g->framework_id, g->agent_id, &g->resources, 0, now);
    }
    allocator_grants_free(grants);
    free(grants);
}

static void run_cycle(alloc_actor_t *st)
{
    double now = alloc_actor_now();
    if (st->core == NULL || !allocator_pending(st->core, now))
        return;
    allocator_grants_t *grants = calloc(1, sizeof(*grants));
    delivery_t *d = malloc(sizeof(*d));
    if (grants == NULL || d == NULL) {
        LOG_ERROR("Skipping an allocation cycle because memory ran out");
        goto fail_free;
    }
    int64_t start = actor_clock_now();
    actor_err_t rc = allocator_allocate(st->core, now, grants);
    if (st->runs != NULL)
        metrics_counter_inc(st->runs);
    if (st->run_time != NULL)
        metrics_timer_record(st->run_time, actor_clock_now() - start);
    if (rc != ACTOR_OK)
        LOG_ERROR("Allocation cycle stopped early: %s", actor_strerror(rc));
    if (grants->count == 0)
        goto fail_free;
    *d = (delivery_t){.offer = st->offer, .grants = grants};
    if (actor_dispatch(&st->master, deliver, d) != ACTOR_OK) {
        LOG_WARNING("Taking back %zu grants because the master %s is gone", grants->count,
                    st->master.id);
        free(d);
        take_back(st, grants, now);
    }
    return;

fail_free:
    free(d);
    free(grants);
}

static void on_cycle(actor_t *self, void *state, void *arg)
{
    (void)arg;
    if (self == NULL)
        return;
    alloc_actor_t *st = state;
    st->cycle_queued = false;
    run_cycle(st);
}

void alloc_actor_dirty(actor_t *self, alloc_actor_t *st)
{
    if (st->cycle_queued)
        return;
    if (actor_dispatch(actor_self(self), on_cycle, NULL) == ACTOR_OK)
        st->cycle_queued = true;
    else
        LOG_ERROR("Cannot queue an allocation cycle; the next periodic one will do");
}

static void on_tick(actor_t *self, void *state, void *arg);

static void arm_tick(actor_t *self, alloc_actor_t *st)
{
    if (actor_delay(self, st->interval_ns, on_tick, NULL) == 0)
        LOG_ERROR("Cannot arm the periodic allocation timer: out of memory");
}

static void on_tick(actor_t *self, void *state, void *arg)
{
    (void)arg;
    if (self == NULL)
        return;
    alloc_actor_t *st = state;
    run_cycle(st);
    arm_tick(self, st);
}

static void add_metrics(alloc_actor_t *st)
{
    metrics_registry_t *reg = metrics_registry_default();
    if (metrics_counter_new(reg, "allocator/mesos/allocation_runs", "Allocation cycles run",
                            &st->runs) != ACTOR_OK ||
        metrics_timer_new(reg, "allocator/mesos/allocation_run", "Time of an allocation cycle", 0,
                          &st->run_time) != ACTOR_OK)
        LOG_INFO("Running without the allocator's metrics: another allocator has them");
}

static void on_setup(actor_t *self, void *state, void *arg)
{
    setup_t *s = arg;
    if (self == NULL) {
        allocator_destroy(s->core);
        free(s);
        return;
    }
    alloc_actor_t *st = state;
    st->core = s->core;
    st->master = s->opts.master;
    st->offer = s->opts.offer;
    st->interval_ns = s->opts.interval > 0 ? (int64_t)(s->opts.interval * (double)ACTOR_NS_PER_SEC)
                                           : DEFAULT_INTERVAL_NS;
    if (st->interval_ns < 1)
        st->interval_ns = 1;
    free(s);
    add_metrics(st);
    arm_tick(self, st);
}

actor_err_t allocator_actor_spawn(const allocator_actor_options_t *opts, actor_pid_t *pid)
{
    if (opts == NULL || opts->offer == NULL || pid == NULL)
        return ACTOR_EINVAL;
    setup_t *s = malloc(sizeof(*s));
    if (s == NULL)
        return ACTOR_ENOMEM;
    s->opts = *opts;
    s->core = allocator_create();
    if (s->core == NULL) {
        free(s);
        return ACTOR_ENOMEM;
    }
    actor_err_t rc = actor_spawn(&allocator_actor_ops, "allocator", NULL, pid);
    if (rc == ACTOR_EEXIST)
        rc = actor_spawn(&allocator_actor_ops, NULL, NULL, pid);
    if (rc == ACTOR_OK) {
        rc = actor_dispatch(pid, on_setup, s);
        if (rc != ACTOR_OK)
            actor_terminate(pid);
    }
    if (rc != ACTOR_OK) {
        allocator_destroy(s->core);
        free(s);
    }
    return rc;
}
