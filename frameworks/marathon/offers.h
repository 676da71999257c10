/*
 * offers.h: what the offers did for an app waiting in Marathon's launch queue, the
 * `processedOffersSummary` of /v2/queue (Marathon 1.10's OfferMatchStatistics and
 * QueueInfoConversion), so that a user whose app waits can see why: no agent with enough memory,
 * no free ports, a constraint no agent meets.
 *
 * For each offer an app looks at while it wants instances, the launch queue (launch.c) records
 * either a use (at least one instance launched on it) or a decline with its reasons
 * (placement.h's marathon_reject_t bits). A declined offer counts under its first reason in
 * Marathon's funnel (UnfulfilledRole, UnfulfilledConstraint, NoCorrespondingReservationFound,
 * AgentMaintenance, InsufficientCpus, InsufficientMemory, InsufficientDisk, InsufficientGpus,
 * InsufficientPorts, DeclinedScarceResources): `rejectSummaryLaunchAttempt` adds up every
 * offer since the app entered the queue, `rejectSummaryLastOffers` only the last declined offer of
 * each agent. Each lists every reason of the funnel in order as {"reason", "declined",
 * "processed"}, where processed is what reached that step of the funnel (the offers, less those
 * declined at earlier steps).
 *
 * Pure data: no actor, no I/O; the caller keeps one per queued app and drops it when the app
 * leaves the queue (Marathon's LaunchFinished). Not thread-safe (one owner).
 */
#ifndef FRAMEWORKS_MARATHON_OFFERS_H
#define FRAMEWORKS_MARATHON_OFFERS_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "actor/error.h"

#define MARATHON_OFFER_REASON_COUNT 10 /* the reasons of Marathon's funnel */

/* The last declined offer of one agent. */
typedef struct marathon_offer_last {
    char *agent_id;
    unsigned rejects; /* marathon_reject_t bits */
    int64_t at_ns;    /* wall time */
} marathon_offer_last_t;

typedef struct marathon_offer_stats {
    int64_t since_ns;       /* when the app entered the queue (the queue's `since`) */
    uint64_t processed;     /* offers looked at */
    uint64_t unused;        /* of them declined */
    int64_t last_used_ns;   /* 0: none yet */
    int64_t last_unused_ns; /* 0: none yet */
    uint64_t declined[MARATHON_OFFER_REASON_COUNT]; /* by first funnel reason, since since_ns */
    marathon_offer_last_t *last;                    /* one per agent that declined */
    size_t last_count;
} marathon_offer_stats_t;

/* Makes s empty, entered the queue at since_ns. Cannot fail. */
void marathon_offer_stats_init(marathon_offer_stats_t *s, int64_t since_ns);

/* Frees what s holds and leaves it empty. Cannot fail. */
void marathon_offer_stats_fini(marathon_offer_stats_t *s);

/* An offer launched at least one instance of the app. Cannot fail. */
void marathon_offer_stats_used(marathon_offer_stats_t *s, int64_t now_ns);

/* An offer of agent_id fit no instance of the app, for the reasons in rejects (marathon_reject_t
 * bits; 0 counts the offer as declined without a reason, as Marathon does for a NoMatch without
 * reasons). ACTOR_OK; ACTOR_ENOMEM when the agent's entry could not be kept (the counts are kept
 * all the same). */
actor_err_t marathon_offer_stats_unused(marathon_offer_stats_t *s, const char *agent_id,
                                        unsigned rejects, int64_t now_ns);

/* Marathon's name of the first reason of rejects in the funnel ("InsufficientPorts"), or NULL
 * when rejects has none. */
const char *marathon_offer_first_reason(unsigned rejects);

/* The `processedOffersSummary` object: processedOffersCount, unusedOffersCount,
 * lastUnusedOfferAt and lastUsedOfferAt (left out while none), rejectSummaryLastOffers and
 * rejectSummaryLaunchAttempt. A new object; NULL when out of memory. */
json_t *marathon_offer_stats_json(const marathon_offer_stats_t *s);

#endif
