/*
 * offers.c: the offer summaries of Marathon's launch queue (offers.h).
 */
#include <stdlib.h>
#include <string.h>

#include "frameworks/marathon/app.h"
#include "frameworks/marathon/offers.h"
#include "frameworks/marathon/placement.h"

/* Marathon's funnel, in order, with the reject bit each step stands for (0: never here). */
static const struct {
    const char *name;
    unsigned bit;
} funnel[MARATHON_OFFER_REASON_COUNT] = {
    {"UnfulfilledRole", 0},
    {"UnfulfilledConstraint", MARATHON_REJECT_CONSTRAINT},
    {"NoCorrespondingReservationFound", 0},
    {"AgentMaintenance", 0},
    {"InsufficientCpus", MARATHON_REJECT_CPUS},
    {"InsufficientMemory", MARATHON_REJECT_MEMORY},
    {"InsufficientDisk", MARATHON_REJECT_DISK},
    {"InsufficientGpus", 0},
    {"InsufficientPorts", MARATHON_REJECT_PORTS},
    {"DeclinedScarceResources", 0},
};

/* The funnel step of rejects' first reason, or -1. */
static int first_step(unsigned rejects)
{
    for (int k = 0; k < MARATHON_OFFER_REASON_COUNT; k++) {
        if (funnel[k].bit != 0 && (rejects & funnel[k].bit) != 0)
            return k;
    }
    return -1;
}

const char *marathon_offer_first_reason(unsigned rejects)
{
    int k = first_step(rejects);
    return k >= 0 ? funnel[k].name : NULL;
}

void marathon_offer_stats_init(marathon_offer_stats_t *s, int64_t since_ns)
{
    memset(s, 0, sizeof(*s));
    s->since_ns = since_ns;
}

void marathon_offer_stats_fini(marathon_offer_stats_t *s)
{
    for (size_t k = 0; k < s->last_count; k++)
        free(s->last[k].agent_id);
    free(s->last);
    marathon_offer_stats_init(s, 0);
}

void marathon_offer_stats_used(marathon_offer_stats_t *s, int64_t now_ns)
{
    s->processed++;
    s->last_used_ns = now_ns;
}

/* The entry of agent_id, added when missing; NULL when out of memory. */
static marathon_offer_last_t *last_of(marathon_offer_stats_t *s, const char *agent_id)
{
    for (size_t k = 0; k < s->last_count; k++) {
        if (strcmp(s->last[k].agent_id, agent_id) == 0)
            return &s->last[k];
    }
    marathon_offer_last_t *grown = realloc(s->last, (s->last_count + 1) * sizeof(*grown));
    if (grown == NULL)
        return NULL;
    s->last = grown;
    char *id = strdup(agent_id);
    if (id == NULL)
        return NULL;
    grown[s->last_count] = (marathon_offer_last_t){.agent_id = id};
    return &grown[s->last_count++];
}

actor_err_t marathon_offer_stats_unused(marathon_offer_stats_t *s, const char *agent_id,
                                        unsigned rejects, int64_t now_ns)
{
    s->processed++;
    s->unused++;
    s->last_unused_ns = now_ns;
    int step = first_step(rejects);
    if (step >= 0)
        s->declined[step]++;
    marathon_offer_last_t *last = last_of(s, agent_id != NULL ? agent_id : "");
    if (last == NULL)
        return ACTOR_ENOMEM;
    last->rejects = rejects;
    last->at_ns = now_ns;
    return ACTOR_OK;
}

/* [{"reason", "declined", "processed"}] down the funnel from `processed` offers. */
static json_t *funnel_json(uint64_t processed, const uint64_t *declined)
{
    json_t *steps = json_array();
    for (size_t k = 0; steps != NULL && k < MARATHON_OFFER_REASON_COUNT; k++) {
        if (json_array_append_new(steps, json_pack("{s:s,s:I,s:I}", "reason", funnel[k].name,
                                                   "declined", (json_int_t)declined[k], "processed",
                                                   (json_int_t)processed)) != 0) {
            json_decref(steps);
            return NULL;
        }
        processed -= declined[k] <= processed ? declined[k] : processed;
    }
    return steps;
}

static void set_time(json_t *obj, const char *key, int64_t ns)
{
    char text[32];
    if (ns == 0)
        return;
    marathon_timestamp(ns, text, sizeof(text));
    json_object_set_new(obj, key, json_string(text));
}

json_t *marathon_offer_stats_json(const marathon_offer_stats_t *s)
{
    uint64_t last[MARATHON_OFFER_REASON_COUNT] = {0};
    for (size_t k = 0; k < s->last_count; k++) {
        int step = first_step(s->last[k].rejects);
        if (step >= 0)
            last[step]++;
    }
    json_t *summary = json_pack(
        "{s:I,s:I,s:o,s:o}", "processedOffersCount", (json_int_t)s->processed, "unusedOffersCount",
        (json_int_t)s->unused, "rejectSummaryLastOffers", funnel_json(s->last_count, last),
        "rejectSummaryLaunchAttempt", funnel_json(s->processed, s->declined));
    if (summary == NULL)
        return NULL;
    set_time(summary, "lastUnusedOfferAt", s->last_unused_ns);
    set_time(summary, "lastUsedOfferAt", s->last_used_ns);
    return summary;
}
