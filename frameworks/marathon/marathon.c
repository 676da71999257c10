/*
 * marathon.c: the Marathon actor: its start (the store recovered, the driver subscribed with the
 * saved framework id, checkpointing on, as Marathon subscribes), the driver's callbacks handed
 * over from the driver's actor, a once-a-second tick (launch timeouts, backoffs that ended,
 * unreachable instances) and periodic reconciliation, and its end.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actor/log.h"
#include "actor/pbcopy.h"
#include "frameworks/marathon/marathon_int.h"
#include "proto/task_states.h"

void marathon_options_init(marathon_options_t *opts)
{
    memset(opts, 0, sizeof(*opts));
    opts->http_port = 8080;
    opts->framework_name = "marathon";
    opts->failover_timeout = 604800;
    opts->mesos_role = "*";
    opts->task_launch_timeout = 300;
    opts->reconciliation_interval = 600;
    opts->decline_offer_duration = 120;
    opts->min_revive_offers_interval = 5;
    opts->local_port_min = 10000;
    opts->local_port_max = 20000;
}

double marathon_now(void)
{
    return (double)actor_clock_wall() / (double)ACTOR_NS_PER_SEC;
}

void marathon_version_now(char out[32])
{
    marathon_timestamp(actor_clock_wall(), out, 32);
}

/* Marathon's --kill_retry_timeout (10 seconds). */
#define KILL_RETRY_SECONDS 10.0

/* ---- reconciliation ---- */

/* Marathon 1.10's reconcileTasks: first explicitly, every task Marathon believes is not
 * terminal (an update acknowledged before its store write was durable and then lost to a crash
 * is answered again: the master still knows the task, or answers TASK_LOST/UNKNOWN for one it
 * forgot), then implicitly, for tasks the master knows and Marathon does not. */
static void reconcile(marathon_t *m)
{
    size_t n = HASH_COUNT(m->instances), k = 0;
    const char **ids = n > 0 ? calloc(n, sizeof(*ids)) : NULL;
    const char **agents = n > 0 ? calloc(n, sizeof(*agents)) : NULL;
    marathon_instance_t *i, *tmp;
    HASH_ITER(hh, m->instances, i, tmp)
    {
        if (ids == NULL || agents == NULL || mesos_task_state_terminal(i->state))
            continue;
        ids[k] = i->task_id;
        agents[k] = i->agent_id != NULL && i->agent_id[0] ? i->agent_id : NULL;
        k++;
    }
    if (k > 0)
        scheduler_driver_reconcile(m->driver, ids, agents, k);
    free(ids);
    free(agents);
    scheduler_driver_reconcile(m->driver, NULL, NULL, 0);
}

/* A kill the master or agent never carried out (sent just before Marathon died, or lost on the
 * way) is sent again, as Marathon's --kill_retry_timeout does: every kill not answered within
 * KILL_RETRY_SECONDS of its last sending (all of them, at once, when all is set: after
 * subscribing, as the kills of the previous run may never have left). */
static void resend_kills(marathon_t *m, bool all)
{
    double now = marathon_now();
    marathon_instance_t *i, *tmp;
    HASH_ITER(hh, m->instances, i, tmp)
    {
        if (!i->killing || mesos_task_state_terminal(i->state) ||
            (!all && now - i->kill_sent < KILL_RETRY_SECONDS))
            continue;
        scheduler_driver_kill(m->driver, i->task_id,
                              i->agent_id != NULL && i->agent_id[0] ? i->agent_id : NULL);
        i->kill_sent = now;
    }
}

/* ---- the driver's callbacks: they run in the driver's actor and hand copies over ---- */

typedef struct handoff {
    enum { H_SUBSCRIBED, H_OFFERS, H_UPDATE, H_DISCONNECTED } kind;
    struct handoff *next; /* while waiting for the driver pointer (set_driver) */
    char *framework_id;
    Mesos__Offer **offers;
    size_t count;
    Mesos__TaskStatus *status;
} handoff_t;

static void handoff_free(handoff_t *h)
{
    for (size_t k = 0; k < h->count; k++)
        mesos__offer__free_unpacked(h->offers[k], NULL);
    free(h->offers);
    if (h->status != NULL)
        mesos__task_status__free_unpacked(h->status, NULL);
    free(h->framework_id);
    free(h);
}

static void on_handoff(actor_t *self, void *state, void *arg)
{
    handoff_t *h = arg;
    if (self == NULL) {
        handoff_free(h);
        return;
    }
    marathon_t *m = state;
    if (m->driver == NULL) {
        /* The driver's first events can overtake set_driver: keep them, in order. */
        handoff_t **tail = (handoff_t **)&m->early_events;
        while (*tail != NULL)
            tail = &(*tail)->next;
        *tail = h;
        return;
    }
    switch (h->kind) {
    case H_SUBSCRIBED:
        if (m->framework_id == NULL || strcmp(m->framework_id, h->framework_id) != 0) {
            free(m->framework_id);
            m->framework_id = strdup(h->framework_id);
            marathon_store_framework_id(m);
        }
        m->subscribed = true;
        m->suppressed = false;
        LOG_INFO("Subscribed as framework %s; reconciling %u tasks", m->framework_id,
                 (unsigned)HASH_COUNT(m->instances));
        reconcile(m);
        resend_kills(m, true);
        break;
    case H_OFFERS:
        marathon_launch_offers(m, h->offers, h->count);
        break;
    case H_UPDATE:
        marathon_instance_update(m, h->status);
        break;
    case H_DISCONNECTED:
        m->subscribed = false;
        break;
    }
    handoff_free(h);
}

struct marathon_server {
    actor_pid_t pid;
    scheduler_driver_t *driver;
};

static void hand_over(marathon_server_t *server, handoff_t *h)
{
    if (h == NULL || actor_dispatch(&server->pid, on_handoff, h) != ACTOR_OK) {
        if (h != NULL)
            handoff_free(h);
        LOG_ERROR("Lost a scheduler event (out of memory)");
    }
}

static void cb_subscribed(scheduler_driver_t *d, void *user, const char *framework_id,
                          bool resubscribed, const Mesos__MasterInfo *master_info)
{
    (void)d, (void)resubscribed, (void)master_info;
    handoff_t *h = calloc(1, sizeof(*h));
    if (h != NULL && (h->framework_id = strdup(framework_id)) == NULL) {
        free(h);
        h = NULL;
    }
    if (h != NULL)
        h->kind = H_SUBSCRIBED;
    hand_over(user, h);
}

static void cb_offers(scheduler_driver_t *d, void *user, const Mesos__Offer *const *offers,
                      size_t count)
{
    (void)d;
    handoff_t *h = calloc(1, sizeof(*h));
    if (h != NULL) {
        h->kind = H_OFFERS;
        h->offers = calloc(count + 1, sizeof(*h->offers));
        for (size_t k = 0; h->offers != NULL && k < count; k++) {
            h->offers[h->count] = PB_COPY(Mesos__Offer, offers[k]);
            if (h->offers[h->count] != NULL)
                h->count++;
        }
    }
    hand_over(user, h);
}

static void cb_update(scheduler_driver_t *d, void *user, const Mesos__TaskStatus *status)
{
    (void)d;
    handoff_t *h = calloc(1, sizeof(*h));
    if (h != NULL) {
        h->kind = H_UPDATE;
        h->status = PB_COPY(Mesos__TaskStatus, status);
        if (h->status == NULL) {
            free(h);
            h = NULL;
        }
    }
    hand_over(user, h);
}

static void cb_disconnected(scheduler_driver_t *d, void *user)
{
    (void)d;
    handoff_t *h = calloc(1, sizeof(*h));
    if (h != NULL)
        h->kind = H_DISCONNECTED;
    hand_over(user, h);
}

static void cb_error(scheduler_driver_t *d, void *user, const char *message)
{
    (void)d, (void)user;
    LOG_ERROR("The master refused Marathon: %s", message);
}

static const scheduler_callbacks_t callbacks = {
    .subscribed = cb_subscribed,
    .offers = cb_offers,
    .update = cb_update,
    .disconnected = cb_disconnected,
    .error = cb_error,
};

/* ---- the tick ---- */

static void tick(actor_t *self, void *state, void *arg)
{
    (void)arg;
    if (self == NULL)
        return;
    marathon_t *m = state;
    double now = marathon_now();
    marathon_instance_t *i, *tmp;
    HASH_ITER(hh, m->instances, i, tmp)
    {
        bool staging = i->state == MARATHON_STATE_CREATED ||
                       i->state == MESOS__TASK_STATE__TASK_STAGING ||
                       i->state == MESOS__TASK_STATE__TASK_STARTING;
        if (staging && !i->killing && now - i->staged_time > m->opts.task_launch_timeout) {
            LOG_WARNING("Task %s did not start within %.0f s: killing it", i->task_id,
                        m->opts.task_launch_timeout);
            marathon_instance_kill(m, i);
        }
    }
    if (m->subscribed && now - m->last_reconciliation > m->opts.reconciliation_interval) {
        m->last_reconciliation = now;
        reconcile(m);
    }
    if (m->subscribed)
        resend_kills(m, false);
    marathon_instances_expunge(m);
    marathon_launch_wanted(m); /* backoffs and unreachable instances' grace end with time */
    m->tick_timer = actor_delay(self, ACTOR_NS_PER_SEC, tick, NULL);
}

/* ---- the actor ---- */

typedef struct start_arg {
    marathon_options_t opts;
    store_t *store;
} start_arg_t;

static void marathon_init(actor_t *self, void *state, void *arg)
{
    marathon_t *m = state;
    start_arg_t *s = arg;
    m->self = self;
    m->opts = s->opts;
    m->store = s->store;
    m->batch = store_batch_new(m->store, self, NULL);
    m->start_time = marathon_now();
    free(s);
    if (marathon_health_new(self, marathon_instance_health, &m->health) != ACTOR_OK)
        LOG_ERROR("Out of memory starting health checks: apps' checks will not run");
    marathon_storage_recover(m);
    /* A recovered deployment whose goal was reached before the crash (say a stop with nothing
     * left running) finishes now rather than waiting for an update that will not come. */
    marathon_deployments_progress(m);
    m->leader_since = marathon_now(); /* elected at start: there is no HA */
    marathon_subscriptions_open(m);
    marathon_alerts_open(m);
    marathon_http_install(m);
    m->tick_timer = actor_delay(self, ACTOR_NS_PER_SEC, tick, NULL);
}

/* The driver starts after the actor (its callbacks need the actor's PID); the actor learns of
 * it here. */
static void set_driver(actor_t *self, void *state, void *arg)
{
    if (self == NULL)
        return;
    marathon_t *m = state;
    m->driver = arg;
    handoff_t *h = m->early_events;
    m->early_events = NULL;
    while (h != NULL) {
        handoff_t *next = h->next;
        on_handoff(self, state, h);
        h = next;
    }
}

#define OPTION_STRINGS 11

/* The options' strings, for copying and freeing them alike. */
static void option_strings(marathon_options_t *o, const char **out[OPTION_STRINGS])
{
    const char **all[OPTION_STRINGS] = {
        &o->master,     &o->hostname,   &o->framework_name,   &o->work_dir,
        &o->mesos_role, &o->mesos_user, &o->event_subscriber, &o->http_endpoints,
        &o->alert_smtp, &o->alert_to,   &o->alert_from,
    };
    memcpy(out, all, sizeof(all));
}

static void free_options(marathon_options_t *o)
{
    const char **strings[OPTION_STRINGS];
    option_strings(o, strings);
    for (size_t k = 0; k < OPTION_STRINGS; k++) {
        free((char *)*strings[k]);
        *strings[k] = NULL;
    }
}

/* Replaces o's strings with copies; false when out of memory (o then holds the copies made and
 * NULL for the others, for free_options). */
static bool copy_options(marathon_options_t *o)
{
    const char **strings[OPTION_STRINGS];
    option_strings(o, strings);
    bool ok = true;
    for (size_t k = 0; k < OPTION_STRINGS; k++) {
        const char *borrowed = *strings[k];
        *strings[k] = ok && borrowed != NULL ? strdup(borrowed) : NULL;
        ok = ok && (borrowed == NULL || *strings[k] != NULL);
    }
    return ok;
}

static void marathon_fini(actor_t *self, void *state)
{
    (void)self;
    marathon_t *m = state;
    actor_timer_disarm(&m->tick_timer);
    actor_timer_disarm(&m->revive_timer);
    marathon_events_close(m);
    marathon_health_free(m->health);
    m->health = NULL;
    marathon_storage_close(m);
    for (handoff_t *h = m->early_events, *next; h != NULL; h = next) {
        next = h->next;
        handoff_free(h);
    }
    marathon_instance_t *i, *itmp;
    HASH_ITER(hh, m->instances, i, itmp) marathon_instance_remove(m, i);
    marathon_deployment_t *d, *dtmp;
    HASH_ITER(hh, m->deployments, d, dtmp)
    {
        HASH_DEL(m->deployments, d);
        marathon_app_free(d->original);
        marathon_app_free(d->target);
        free(d->id);
        free(d->version);
        free(d->app_id);
        free(d);
    }
    marathon_app_entry_t *e, *etmp;
    HASH_ITER(hh, m->apps, e, etmp)
    {
        HASH_DEL(m->apps, e);
        marathon_app_entry_free(e);
    }
    free(m->framework_id);
    free_options(&m->opts);
}

static const actor_ops_t marathon_ops = {
    .name = "marathon",
    .state_size = sizeof(marathon_t),
    .init = marathon_init,
    .fini = marathon_fini,
};

/* The framework id a previous Marathon saved, to fail over to it (NULL: none). */
static char *saved_framework_id(store_t *store)
{
    void *value = NULL;
    size_t len = 0;
    if (store_get(store, "fwid", 4, &value, &len) != ACTOR_OK)
        return NULL;
    char *id = strndup(value, len);
    free(value);
    return id;
}

static actor_err_t start_driver(const marathon_options_t *o, const char *framework_id,
                                marathon_server_t *server)
{
    scheduler_driver_options_t so;
    scheduler_driver_options_init(&so);
    so.master = o->master;
    so.name = o->framework_name;
    so.user = o->mesos_user;
    so.role = o->mesos_role;
    so.hostname = o->hostname;
    so.failover_timeout = o->failover_timeout;
    so.checkpoint = true; /* as Marathon: tasks survive agent restarts */
    so.capabilities = SCHEDULER_CAP_PARTITION_AWARE | SCHEDULER_CAP_TASK_KILLING_STATE;
    so.framework_id = framework_id;
    return scheduler_driver_start(&so, &callbacks, server, &server->driver);
}

actor_err_t marathon_start(const marathon_options_t *opts, marathon_server_t **out, char *err,
                           size_t err_len)
{
    if (opts->master == NULL || *opts->master == '\0') {
        snprintf(err, err_len, "--master is required (HOST:PORT of the Mesos master)");
        return ACTOR_EINVAL;
    }
    actor_err_t rc = marathon_notify_options_check(opts, err, err_len);
    if (rc != ACTOR_OK)
        return rc;
    start_arg_t *s = calloc(1, sizeof(*s));
    marathon_server_t *server = calloc(1, sizeof(*server));
    if (s != NULL)
        s->opts = *opts;
    if (s == NULL || server == NULL || !copy_options(&s->opts)) {
        if (s != NULL)
            free_options(&s->opts);
        free(s);
        free(server);
        return ACTOR_ENOMEM;
    }
    marathon_t probe = {.opts = s->opts};
    rc = marathon_storage_open(&probe, err, err_len);
    s->store = probe.store;
    char *framework_id = rc == ACTOR_OK ? saved_framework_id(s->store) : NULL;
    if (rc == ACTOR_OK)
        rc = actor_spawn(&marathon_ops, "marathon", s, &server->pid);
    if (rc != ACTOR_OK) {
        store_close(s->store);
        free_options(&s->opts);
        free(s);
        free(server);
        free(framework_id);
        return rc;
    }
    rc = start_driver(opts, framework_id, server);
    free(framework_id);
    if (rc != ACTOR_OK) {
        snprintf(err, err_len, "Failed to start the scheduler driver for %s: %s", opts->master,
                 actor_strerror(rc));
        actor_terminate(&server->pid);
        actor_wait(&server->pid);
        free(server);
        return rc;
    }
    actor_dispatch(&server->pid, set_driver, server->driver);
    *out = server;
    return ACTOR_OK;
}

const actor_pid_t *marathon_server_pid(const marathon_server_t *server)
{
    return &server->pid;
}

void marathon_stop(marathon_server_t *server)
{
    if (server == NULL)
        return;
    actor_terminate(&server->pid);
    actor_wait(&server->pid);
    scheduler_driver_free(server->driver); /* fails over: the framework outlives the process */
    free(server);
}
