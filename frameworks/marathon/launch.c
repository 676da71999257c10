/*
 * launch.c: Marathon's launch queue. Each app wants its target count of instances of its
 * current version, less what runs, held back while its backoff lasts and, during a restart, by
 * the upgrade strategy's capacity. Each offer is matched against the apps that want instances
 * (constraints, resources, host ports: placement.h); what fits is launched in one ACCEPT per
 * offer, the rest is declined for --decline_offer_duration. When no app wants anything Marathon
 * suppresses offers, and revives them when one does, at most once per
 * --min_revive_offers_interval.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actor/log.h"
#include "actor/pbcopy.h"
#include "frameworks/marathon/marathon_int.h"
#include "frameworks/marathon/offers.h"
#include "frameworks/marathon/placement.h"
#include "frameworks/marathon/plan.h"
#include "proto/task_states.h"

uint32_t marathon_launch_needed(const marathon_t *m, const marathon_app_entry_t *e)
{
    (void)m;
    if (e->deployment != NULL && e->deployment->action == MARATHON_STOP)
        return 0;
    if (marathon_now() < e->delay_until)
        return 0;
    const marathon_app_counts_t *c = marathon_app_counts(e);
    uint32_t target = e->app->instances;
    uint32_t need = target > c->current_active ? target - c->current_active : 0;
    if (need > 0 && c->old_left > 0) {
        /* A restart: the upgrade strategy says how many may start now. */
        marathon_restart_step_t step;
        marathon_app_rollout(e, &step);
        if (step.start < need)
            need = step.start;
    }
    return need;
}

uint32_t marathon_launch_queued(const marathon_app_entry_t *e)
{
    if (e->deployment != NULL && e->deployment->action == MARATHON_STOP)
        return 0;
    uint32_t active = marathon_app_counts(e)->current_active;
    return e->app->instances > active ? e->app->instances - active : 0;
}

/* Keeps an offer summary for each app in the queue, from when it enters until it leaves. */
static void track_queue(marathon_t *m)
{
    for (marathon_app_entry_t *e = m->apps; e != NULL; e = e->hh.next) {
        bool queued = marathon_launch_queued(e) > 0;
        if (queued && e->offer_stats == NULL) {
            e->offer_stats = malloc(sizeof(*e->offer_stats));
            if (e->offer_stats != NULL)
                marathon_offer_stats_init(e->offer_stats, actor_clock_wall());
        } else if (!queued && e->offer_stats != NULL) {
            marathon_offer_stats_fini(e->offer_stats);
            free(e->offer_stats);
            e->offer_stats = NULL;
        }
    }
}

static void revive_later(actor_t *self, void *state, void *arg)
{
    (void)arg;
    if (self == NULL)
        return;
    marathon_t *m = state;
    m->revive_timer = 0;
    marathon_launch_wanted(m);
}

void marathon_launch_wanted(marathon_t *m)
{
    track_queue(m);
    /* Offers may be away for two reasons: suppressed, or declined with a filter. Either way a
     * need brings them back, at most once per --min_revive_offers_interval (5 s) so that needs no
     * offer can meet do not flood the master. */
    if ((!m->suppressed && !m->declined) || m->driver == NULL || m->revive_timer != 0)
        return;
    /* In nanoseconds of the runtime's clock, because wall seconds in a double are coarser
     * (~0.2 us) than a timer: a timer due at the interval's end could fire just before it and
     * hold the revive back once more. */
    int64_t interval = (int64_t)(m->opts.min_revive_offers_interval * (double)ACTOR_NS_PER_SEC);
    int64_t wait = m->last_revive + interval - actor_clock_wall();
    for (marathon_app_entry_t *e = m->apps; e != NULL; e = e->hh.next) {
        if (marathon_launch_needed(m, e) == 0)
            continue;
        if (wait > 0) {
            /* Held back, not dropped: the revive goes out once the interval has passed, as
             * Marathon's ReviveOffersActor delays it (not at the next tick, up to 1 s later). */
            m->revive_timer = actor_delay(m->self, wait, revive_later, NULL);
            return;
        }
        LOG_INFO("Reviving offers: %s wants instances", e->id);
        if (scheduler_driver_revive(m->driver, NULL) == ACTOR_OK)
            m->counters.revive_calls++;
        m->suppressed = false;
        m->declined = false;
        m->last_revive = actor_clock_wall();
        return;
    }
}

/* Where an app's instances run, for its constraints (the hostnames and agents we know). */
static marathon_placed_t *placed_of(const marathon_app_entry_t *e, size_t *count)
{
    marathon_placed_t *placed = calloc(e->instance_count + 1, sizeof(*placed));
    size_t n = 0;
    for (const marathon_instance_t *i = e->instances; placed != NULL && i != NULL;
         i = i->app_next) {
        if (mesos_task_state_terminal(i->state))
            continue;
        if (i->agent != NULL) {
            marathon_placed_from_offer(i->agent, &placed[n]);
        } else {
            placed[n].agent_id = i->agent_id;
            placed[n].hostname = i->host;
        }
        n++;
    }
    *count = n;
    return placed;
}

/* Whether the app's constraints let one more instance run on the offer's agent (without
 * constraints, no need to look where its instances run). */
static bool constraints_allow(const marathon_app_entry_t *e, const Mesos__Offer *offer)
{
    if (e->app->constraint_count == 0)
        return true;
    size_t placed_count = 0;
    marathon_placed_t *placed = placed_of(e, &placed_count);
    bool allowed =
        placed != NULL && marathon_constraints_allow(e->app, offer, placed, placed_count);
    free(placed);
    return allowed;
}

/* The offer without its resources: what constraints look at (agent, hostname, attributes,
 * domain). NULL when out of memory (constraints then see the agent and hostname only). */
static Mesos__Offer *agent_view(const Mesos__Offer *offer)
{
    Mesos__Offer trimmed = *offer;
    trimmed.resources = NULL;
    trimmed.n_resources = 0;
    trimmed.executor_ids = NULL;
    trimmed.n_executor_ids = 0;
    return PB_COPY(Mesos__Offer, &trimmed);
}

/* Launches up to need instances of app e on the offer; adds the TaskInfos to tasks. Returns how
 * many it launched; *rejects gets why the offer did not fit the next one (marathon_reject_t). */
static uint32_t match_app(marathon_t *m, marathon_app_entry_t *e, uint32_t need,
                          const Mesos__Offer *offer, resources_t *remaining,
                          Mesos__TaskInfo ***tasks, size_t *task_count, unsigned *rejects)
{
    uint64_t seed = (uint64_t)(marathon_now() * 1e6);
    uint32_t launched = 0;
    *rejects = 0;
    while (need-- > 0) {
        if (!constraints_allow(e, offer)) {
            *rejects = MARATHON_REJECT_CONSTRAINT;
            return launched;
        }
        marathon_match_t match;
        marathon_match_init(&match);
        char *task_id = NULL;
        Mesos__TaskInfo *info = NULL;
        if (marathon_match(e->app, offer, m->opts.mesos_role, remaining, &seed, &match, rejects) !=
                ACTOR_OK ||
            marathon_task_id_new(e->id, &task_id) != ACTOR_OK ||
            marathon_task_build(e->app, offer, task_id, &match, &info) != ACTOR_OK) {
            free(task_id);
            marathon_match_fini(&match);
            return launched;
        }
        Mesos__TaskInfo **grown = realloc(*tasks, (*task_count + 1) * sizeof(**tasks));
        marathon_instance_t *i =
            grown != NULL
                ? marathon_instance_add(m, e, task_id, offer->agent_id->value, offer->hostname,
                                        match.host_ports, match.host_port_count)
                : NULL;
        if (grown != NULL)
            *tasks = grown;
        if (i == NULL) {
            mesos__task_info__free_unpacked(info, NULL);
        } else {
            (*tasks)[(*task_count)++] = info;
            i->agent = agent_view(offer);
            marathon_store_instance(m, i);
            m->counters.tasks_launched++;
            launched++;
        }
        free(task_id);
        marathon_match_fini(&match);
    }
    return launched;
}

/* Offers app e the offer, and records in its summary whether it used it. */
static void offer_app(marathon_t *m, marathon_app_entry_t *e, const Mesos__Offer *offer,
                      resources_t *remaining, Mesos__TaskInfo ***tasks, size_t *task_count)
{
    uint32_t need = marathon_launch_needed(m, e);
    if (need == 0)
        return;
    unsigned rejects = 0;
    uint32_t launched = match_app(m, e, need, offer, remaining, tasks, task_count, &rejects);
    if (e->offer_stats == NULL)
        return;
    if (launched > 0)
        marathon_offer_stats_used(e->offer_stats, actor_clock_wall());
    else if (marathon_offer_stats_unused(e->offer_stats, offer->agent_id->value, rejects,
                                         actor_clock_wall()) != ACTOR_OK)
        LOG_WARNING("Out of memory keeping the offer summary of %s", e->id);
}

void marathon_launch_offers(marathon_t *m, Mesos__Offer **offers, size_t count)
{
    bool wanted = false;
    for (size_t k = 0; k < count; k++) {
        const Mesos__Offer *offer = offers[k];
        m->counters.offers_received++;
        resources_t remaining;
        resources_init(&remaining);
        char err[256];
        resources_from_proto(&remaining, offer->resources, offer->n_resources, err, sizeof(err));
        Mesos__TaskInfo **tasks = NULL;
        size_t task_count = 0;
        for (marathon_app_entry_t *e = m->apps; e != NULL; e = e->hh.next) {
            offer_app(m, e, offer, &remaining, &tasks, &task_count);
            wanted |= marathon_launch_needed(m, e) > 0;
        }
        resources_fini(&remaining);
        const char *ids[] = {offer->id->value};
        if (task_count > 0) {
            LOG_INFO("Launching %zu tasks on %s", task_count, offer->hostname);
            m->counters.offers_used++;
            if (scheduler_driver_launch(m->driver, ids, 1, tasks, task_count, -1) == ACTOR_OK)
                m->counters.launch_operations++;
        } else {
            m->counters.offers_declined++;
            m->declined = true;
            scheduler_driver_decline(m->driver, ids[0], m->opts.decline_offer_duration);
        }
        for (size_t t = 0; t < task_count; t++)
            mesos__task_info__free_unpacked(tasks[t], NULL);
        free(tasks);
    }
    track_queue(m);
    if (!wanted && !m->suppressed) {
        /* Nothing to launch: stop offers until something changes (a new app, a failure). */
        bool any = false;
        for (marathon_app_entry_t *e = m->apps; e != NULL && !any; e = e->hh.next)
            any = marathon_launch_needed(m, e) > 0 || e->delay_until > marathon_now();
        if (!any) {
            if (scheduler_driver_suppress(m->driver, NULL) == ACTOR_OK)
                m->counters.suppress_calls++;
            m->suppressed = true;
        }
    }
}
