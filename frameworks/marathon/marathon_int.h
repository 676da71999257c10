/*
 * marathon_int.h: Marathon's state and the functions its files share. Not for use outside
 * frameworks/marathon/ (tests use the REST API and the public header).
 *
 * One actor owns everything: the apps with their versions, the instances (one Mesos task each),
 * the deployments, the launch queue and the event subscribers. The scheduler driver's callbacks
 * run in the driver's own actor and hand copies of offers and updates to this one.
 *
 * Files:
 *   marathon.c     the actor: start, stop, the driver's callbacks, periodic reconciliation
 *   storage.c      persistence in the key-value store, batched (one fsync per burst), recovery
 *   instances.c    instances and their status updates, failures and backoff, kills
 *   launch.c       the launch queue: matching offers, launching, declining, revive/suppress
 *   deployments.c  deployment plans: creating, progressing, finishing, cancelling
 *   events.c       the event bus: /v2/events (server-sent events) and event JSON
 *   subscriptions.c  HTTP callback subscribers of the event bus (/v2/eventSubscriptions)
 *   alerts.c       alert mails about failures, rate limited
 *   api_*.c        the REST API v2 routes (api_metrics.c: /metrics from marathon_counters_t)
 */
#ifndef FRAMEWORKS_MARATHON_MARATHON_INT_H
#define FRAMEWORKS_MARATHON_MARATHON_INT_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>
#include <uthash.h>

#include "actor/actor.h"
#include "actor/clock.h"
#include "actor/http.h"
#include "frameworks/marathon/app.h"
#include "frameworks/marathon/health.h"
#include "frameworks/marathon/marathon.h"
#include "frameworks/marathon/plan.h"
#include "frameworks/scheduler.h"
#include "mesos.pb-c.h"
#include "store/batch.h"
#include "store/store.h"

typedef struct marathon marathon_t;
typedef struct marathon_app_entry marathon_app_entry_t;
typedef struct marathon_deployment marathon_deployment_t;
struct jsonbuf; /* jsonbuf.h */

/* A Mesos state Marathon shows before the first update: the task was sent, nothing heard. */
#define MARATHON_STATE_CREATED (-1)

/* One health check's results on one instance, as /v2/apps shows `healthCheckResults`. */
typedef struct marathon_health_result {
    bool alive;
    bool has_result; /* any result yet */
    uint32_t consecutive_failures;
    char first_success[32], last_success[32], last_failure[32]; /* "" when none */
    char *last_failure_cause;
} marathon_health_result_t;

typedef struct marathon_instance {
    char *task_id;
    marathon_app_entry_t *app;
    char *version; /* the app configuration it runs (marathon_app_config) */
    char *agent_id;
    char *host;
    uint32_t *ports; /* host ports */
    size_t port_count;
    int state; /* Mesos__TaskState, or MARATHON_STATE_CREATED */
    char staged_at[32], started_at[32];
    double staged_time; /* wall seconds, for the launch timeout */
    bool killing;       /* Marathon asked to kill it (not a failure when it dies) */
    double kill_sent;   /* wall seconds the kill last went to Mesos; 0: not in this run */
    bool unhealthy;     /* killed for failing its health checks: that counts as a failure */
    bool watched;       /* its Marathon-level health checks run */
    bool unreachable;   /* TASK_UNREACHABLE (or LOST) while its agent is away */
    double unreachable_since;
    marathon_health_result_t *health; /* one per app health check (of its version) */
    Mesos__Offer *agent;              /* its agent as the offer described it (attributes,
                                         domain; resources dropped), for constraints; NULL for
                                         an instance recovered from storage */
    size_t health_count;
    UT_hash_handle hh;                             /* marathon->instances, by task id */
    struct marathon_instance *app_prev, *app_next; /* app->instances */
} marathon_instance_t;

/* An app's instances summed up in one pass (instances.c) for the launch queue and its deployment,
 * kept until one of them or the app's definition changes (marathon_app_changed): a status update
 * then costs a pass over its own app's instances, not several over every app's. */
typedef struct marathon_app_counts {
    uint32_t active;          /* not terminal, not being killed, not inactive: any version */
    uint32_t current_active;  /* of those, running the current configuration */
    uint32_t current_healthy; /* healthy instances of the current configuration */
    uint32_t old_left;        /* instances of another configuration not terminal yet */
    uint32_t stale;           /* of another configuration or being killed (any state) */
    marathon_rollout_counts_t rollout; /* what a restart's step looks at (plan.h) */
} marathon_app_counts_t;

struct marathon_app_entry {
    char *id;
    marathon_app_t *app; /* the current (target) definition */
    char **versions;     /* stored versions, oldest first (definitions in the store) */
    size_t version_count;
    marathon_instance_t *instances;
    size_t instance_count;
    /* Launch queue state. */
    uint32_t failures;                 /* consecutive task failures of the current version */
    double delay_until;                /* wall seconds: no launch before (backoff) */
    json_t *last_task_failure;         /* lastTaskFailure, or NULL */
    marathon_deployment_t *deployment; /* the deployment that locks it, or NULL */
    /* launch.c: the offers seen while it waits in the queue (offers.h); NULL when not queued */
    struct marathon_offer_stats *offer_stats;
    char *app_text; /* app as JSON text without its closing brace, made when first listed
                       and dropped when app changes (api_apps.c), or NULL */
    size_t app_text_len;
    marathon_app_counts_t counts; /* valid while counts_valid (instances.c) */
    bool counts_valid;            /* false: recount before use */
    UT_hash_handle hh;            /* marathon->apps */
};

typedef enum marathon_action {
    MARATHON_START,   /* StartApplication: a new app */
    MARATHON_SCALE,   /* ScaleApplication: only `instances` changed */
    MARATHON_RESTART, /* RestartApplication: a new version replaces the instances */
    MARATHON_STOP,    /* StopApplication: the app is deleted */
} marathon_action_t;

struct marathon_deployment {
    char *id;
    char *version;
    char *app_id;
    marathon_action_t action;
    marathon_app_t *original; /* the app before (NULL for a start): what a revert goes back to */
    marathon_app_t *target;   /* the app after (NULL for a stop) */
    UT_hash_handle hh;        /* marathon->deployments */
};

typedef struct marathon_event_stream {
    actor_http_stream_t *stream;
    char **types; /* event_type filters; none = every event */
    size_t type_count;
    struct marathon_event_stream *next;
} marathon_event_stream_t;

/* What /metrics counts (api_metrics.c), since this Marathon started: each is counted where the
 * event happens. */
typedef struct marathon_counters {
    uint64_t tasks_launched;        /* TaskInfos sent to the master */
    uint64_t offers_received;       /* offers from the master */
    uint64_t offers_declined;       /* offers declined (nothing fit or nothing was wanted) */
    uint64_t offers_used;           /* offers accepted with tasks */
    uint64_t launch_operations;     /* LAUNCH offer operations (one per used offer) */
    uint64_t status_updates;        /* task status updates */
    uint64_t revive_calls;          /* REVIVE calls to the master */
    uint64_t suppress_calls;        /* SUPPRESS calls to the master */
    uint64_t deployments;           /* deployments started (reverts included) */
    uint64_t deployments_dismissed; /* app writes refused because a deployment locks the app */
    uint64_t callbacks_delivered;   /* events POSTed to callback subscribers (2xx answers) */
    uint64_t callbacks_failed;      /* failed POSTs (each retry counts) */
    uint64_t callbacks_dropped;     /* events a callback subscriber lost: its queue overflowed,
                                       or it was dropped with events queued */
    uint64_t alerts_sent;           /* alert mails the SMTP server took */
    uint64_t alerts_failed;         /* alert mails that could not be sent */
    uint64_t alerts_held_back;      /* alerts held back by the rate limits (digested later) */
} marathon_counters_t;

struct marathon {
    marathon_options_t opts; /* strings owned */
    actor_t *self;
    scheduler_driver_t *driver; /* NULL until marathon_start hands it over */
    void *early_events;         /* driver events that came before it (marathon.c) */
    char *framework_id;         /* NULL until subscribed */
    bool subscribed;
    bool suppressed;               /* offers suppressed */
    bool declined;                 /* offers declined with a filter since the last revive */
    int64_t last_revive;           /* actor_clock_wall() ns of the last revive; 0: none */
    actor_timer_id_t revive_timer; /* a revive held back by the interval, or 0 (launch.c) */
    double last_reconciliation;    /* wall seconds of the last periodic reconciliation */
    store_t *store;
    double start_time;   /* wall seconds */
    double leader_since; /* wall seconds: leadership starts once the state is recovered */
    size_t answers_held; /* HTTP answers waiting for their writes to be durable */
    marathon_app_entry_t *apps;
    marathon_instance_t *instances;
    marathon_deployment_t *deployments;
    marathon_event_stream_t *streams;
    store_batch_t *batch;      /* storage.c */
    marathon_health_t *health; /* Marathon-level health checks (health.h) */
    actor_timer_id_t tick_timer;
    marathon_counters_t counters; /* for /metrics */
    size_t apps_text_len;         /* the last GET /v2/apps answer's size: the next one's buffer */
    /* ---- event callbacks and alerts: opened at start, freed by marathon_events_close ---- */
    struct marathon_subscriptions *subscriptions; /* subscriptions.c; NULL: out of memory */
    struct marathon_alerts *alerts;               /* alerts.c; NULL: alerts off */
};

/* The configuration an instance runs: the app's lastConfigChangeAt (a scale makes a new version
 * but not a new configuration, so it replaces nothing). Instances record it as their version. */
static inline const char *marathon_app_config(const marathon_app_t *app)
{
    return app->last_config_change_at != NULL ? app->last_config_change_at
           : app->version != NULL             ? app->version
                                              : "";
}

/* ---- marathon.c ---- */
double marathon_now(void);
/* The current time as a version string. */
void marathon_version_now(char out[32]);

/* ---- storage.c ---- */
actor_err_t marathon_storage_open(marathon_t *m, char *err, size_t err_len);
/* Loads framework id, apps, versions, instances and deployments into m. */
void marathon_storage_recover(marathon_t *m);
void marathon_storage_close(marathon_t *m);
/* Queue writes into the batch (durable once the batch is flushed). */
void marathon_store_framework_id(marathon_t *m);
void marathon_store_app(marathon_t *m, marathon_app_entry_t *e); /* current + its version */
void marathon_store_app_delete(marathon_t *m, const char *app_id);
void marathon_store_instance(marathon_t *m, marathon_instance_t *i);
void marathon_store_instance_delete(marathon_t *m, const char *task_id);
void marathon_store_deployment(marathon_t *m, marathon_deployment_t *d);
void marathon_store_deployment_delete(marathon_t *m, const char *id);
/* The stored definition of an app at a version (a new app, caller frees), or NULL. */
marathon_app_t *marathon_store_app_version(marathon_t *m, const char *app_id, const char *version);
/* Runs fn(m, arg) once everything queued so far is durable (HTTP answers wait for this). */
void marathon_after_durable(marathon_t *m, void (*fn)(marathon_t *m, void *arg), void *arg);

/* ---- instances.c ---- */
marathon_app_entry_t *marathon_app_find(marathon_t *m, const char *id);
marathon_instance_t *marathon_instance_find(marathon_t *m, const char *task_id);
marathon_instance_t *marathon_instance_add(marathon_t *m, marathon_app_entry_t *e,
                                           const char *task_id, const char *agent_id,
                                           const char *host, const uint32_t *ports,
                                           size_t port_count);
void marathon_instance_remove(marathon_t *m, marathon_instance_t *i);
/* A status update from the driver (a copy, owned by the call). */
void marathon_instance_update(marathon_t *m, const Mesos__TaskStatus *status);
/* Asks Mesos to kill an instance (once; it is not counted as a failure when it ends). */
void marathon_instance_kill(marathon_t *m, marathon_instance_t *i);
/* Tells that an app's instances or definition changed: its counts are made again when next
 * needed. Whoever sets an instance's state, killing, health or unreachable flag, or the app's
 * definition, calls it (marathon_instance_add and _remove do). */
void marathon_app_changed(marathon_app_entry_t *e);
/* The app's counts (recounted when stale); borrowed until its next change. */
const marathon_app_counts_t *marathon_app_counts(const marathon_app_entry_t *e);
/* Instances that count toward an app's target: not terminal and not being killed. */
uint32_t marathon_app_active(const marathon_app_entry_t *e, const char *version);
/* Healthy instances of a version (RUNNING, and every health check alive; without checks,
 * RUNNING counts as healthy). */
uint32_t marathon_app_healthy(const marathon_app_entry_t *e, const char *version);
/* Unreachable past its app's inactiveAfterSeconds (UnreachableInactive): no longer counted, a
 * replacement launches. */
bool marathon_instance_inactive(const marathon_instance_t *i);
/* Once a tick: expunges unreachable instances past expungeAfterSeconds and those Marathon
 * killed while unreachable (the kill cannot reach them). */
void marathon_instances_expunge(marathon_t *m);
/* RUNNING, not being killed, and every health check alive. */
bool marathon_instance_healthy(const marathon_instance_t *i);
/* The Task JSON of /v2/tasks and /v2/apps/{id}/tasks. */
json_t *marathon_instance_json(marathon_t *m, const marathon_instance_t *i);
/* The same as text, appended to b (jsonbuf.h): what lists of many tasks are made of. */
void marathon_instance_text(struct jsonbuf *b, const marathon_instance_t *i);
/* A health check's result (health.h's report), inside the actor. */
void marathon_instance_health(actor_t *self, void *state, const marathon_health_report_t *report);
/* Records a failure for backoff and lastTaskFailure. */
void marathon_app_failure(marathon_t *m, marathon_app_entry_t *e, const marathon_instance_t *i,
                          const Mesos__TaskStatus *status);

/* ---- launch.c ---- */
/* Offers from the driver (copies, owned by the call). */
void marathon_launch_offers(marathon_t *m, Mesos__Offer **offers, size_t count);
/* Something may need launching (a new app, a scale, a failure): revive offers if suppressed. */
void marathon_launch_wanted(marathon_t *m);
/* How many more instances of the current version an app wants launched now. */
uint32_t marathon_launch_needed(const marathon_t *m, const marathon_app_entry_t *e);
/* How many instances of its current version an app still waits for (the /v2/queue `count`). */
uint32_t marathon_launch_queued(const marathon_app_entry_t *e);

/* ---- deployments.c ---- */
/* Creates the deployment for an app write (original NULL: start; target NULL: stop) and applies
 * it: stores the app, kills or launches as needed, and progresses it right after the current
 * handler. Returns the deployment (owned by m; valid until the handler returns). */
marathon_deployment_t *marathon_deploy(marathon_t *m, marathon_app_t *original,
                                       marathon_app_t *target, marathon_action_t action);
/* Advances every deployment after instances changed: kills old instances that new healthy
 * ones replace, finishes the deployments whose apps reached their goal. */
void marathon_deployments_progress(marathon_t *m);
/* The same for the deployment of one app only (each deployment covers one app), after its
 * instances changed. May free e (a stop that finished): the caller must not use it after. */
void marathon_deployment_progress_app(marathon_t *m, marathon_app_entry_t *e);
/* A restart's next step for an app: how many old instances to kill and new ones to start now
 * under its upgradeStrategy (plan.h's arithmetic on the app's instance counts). */
void marathon_app_rollout(const marathon_app_entry_t *e, marathon_restart_step_t *step);
/* Marathon's scale check for an app no deployment holds: kills what runs beyond its instances
 * (an unreachable instance that came back after its replacement), by its killSelection. */
void marathon_app_scale_check(marathon_t *m, marathon_app_entry_t *e);
/* Frees an app's entry (not removing it from m->apps). */
void marathon_app_entry_free(marathon_app_entry_t *e);
/* Cancels a deployment: with revert, a new deployment goes back to the original. */
marathon_deployment_t *marathon_deployment_cancel(marathon_t *m, marathon_deployment_t *d,
                                                  bool revert);
json_t *marathon_deployment_json(const marathon_deployment_t *d);
const char *marathon_action_name(marathon_action_t a);

/* ---- events.c ---- */
/* Publishes an event (its eventType and timestamp added here) to /v2/events subscribers;
 * the reference is stolen. */
void marathon_event(marathon_t *m, const char *type, json_t *event);
void marathon_events_close(marathon_t *m);

/* ---- subscriptions.c: HTTP callback subscriptions (/v2/eventSubscriptions) ---- */
/* Loads the stored subscribers and subscribes --http_endpoints' URLs; at start, once the store
 * is open. Out of memory is logged: events then go to no callback. */
void marathon_subscriptions_open(marathon_t *m);
/* True when some callback subscriber wants events. */
bool marathon_subscriptions_active(const marathon_t *m);
/* Queues an event (its JSON, len bytes, copied) for every subscriber; never blocks. */
void marathon_subscriptions_publish(marathon_t *m, const char *json, size_t len);
/* Stops deliveries under way and frees the subscribers (they stay stored). */
void marathon_subscriptions_close(marathon_t *m);
/* Checks a callback URL (http or https, a host, at most 500 bytes): true, or false with the
 * reason in err ("must be an http or https URL", ...). */
bool marathon_callback_url_check(const char *url, char *err, size_t err_len);
/* GET, POST and DELETE /v2/eventSubscriptions. */
void marathon_api_event_subscriptions(actor_t *self, void *state, actor_http_request_t *req);

/* ---- alerts.c: alert mails (--alert_smtp) ---- */
/* Starts alert mails when --alert_smtp is set (the options checked by marathon_start); at start.
 * Out of memory is logged: no mail is then sent. */
void marathon_alerts_open(marathon_t *m);
/* Looks at an event (borrowed, before eventType is added) and mails an alert for a failed task,
 * an unhealthy instance killed or a failed deployment, within the rate limits. */
void marathon_alerts_event(marathon_t *m, const char *type, const json_t *event);
/* Abandons mails under way and frees the alert state. */
void marathon_alerts_close(marathon_t *m);

/* ---- api_*.c ---- */
void marathon_http_install(marathon_t *m);

#endif
