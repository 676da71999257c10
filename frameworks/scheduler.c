/*
 * scheduler.c: the scheduler driver's actor ("scheduler(N)"): start, subscription, the master's
 * events, losing the master, and the end. The calls are in scheduler_calls.c.
 *
 * Protocol (proto/scheduler.proto, as the master's frameworks.c and events.c speak it): the
 * driver sends mesos.scheduler.Call from its own PID and receives mesos.scheduler.Event from the
 * master's PID; events from anyone else are ignored.
 *
 * States:
 *
 *   SUBSCRIBING --SUBSCRIBED--> SUBSCRIBED --link broke / heartbeats missed--> SUBSCRIBING
 *        |  ^ retry after backoff (2s, 4s, ... 1min)                    (calls `disconnected`)
 *        +--+
 *   any --stop / ERROR event--> ended (TEARDOWN first for stop(failover = false) when subscribed)
 *
 * A SUBSCRIBE carries the framework id once the master gave one (or the options named one), so a
 * resubscription is a failover of the same framework. While subscribing, the master may answer
 * the same SUBSCRIBE twice (the first answer crossed a retry): the second is ignored, and an
 * answer naming another framework (a retry without id made the master add a second one) is
 * answered with that framework's TEARDOWN, so that no orphan keeps offers.
 *
 * While not subscribed, events other than SUBSCRIBED and ERROR are ignored (agents resend updates
 * that were not acknowledged), except offers, which are declined so that their resources go back.
 */
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "actor/daemon.h"
#include "actor/log.h"
#include "actor/pbcopy.h"
#include "frameworks/scheduler_int.h"

#define DEFAULT_BACKOFF_NS       (2 * ACTOR_NS_PER_SEC)
#define DEFAULT_BACKOFF_MAX_NS   (60 * ACTOR_NS_PER_SEC)
#define DEFAULT_HEARTBEAT_MISSES 5
#define DEFAULT_HEARTBEAT_S      15.0 /* when SUBSCRIBED does not say */

_Thread_local scheduler_driver_t *driver_running;

void scheduler_driver_options_init(scheduler_driver_options_t *opts)
{
    memset(opts, 0, sizeof(*opts));
    opts->backoff_ns = DEFAULT_BACKOFF_NS;
    opts->backoff_max_ns = DEFAULT_BACKOFF_MAX_NS;
    opts->heartbeat_misses = DEFAULT_HEARTBEAT_MISSES;
}

/* ---- events in and out of the actor ---- */

scheduler_driver_t *driver_enter(driver_state_t *st)
{
    scheduler_driver_t *previous = driver_running;
    driver_running = st->d;
    return previous;
}

static void send_teardown(driver_state_t *st, Mesos__FrameworkID *id)
{
    Mesos__Scheduler__Call call = MESOS__SCHEDULER__CALL__INIT;
    call.has_type = true;
    call.type = MESOS__SCHEDULER__CALL__TYPE__TEARDOWN;
    call.framework_id = id;
    driver_send_raw(st, &call);
}

/* The end of the actor, after the event that asked for it: TEARDOWN for stop(false). */
void driver_leave(driver_state_t *st, scheduler_driver_t *previous)
{
    if (st->stop_pending && !st->ended) {
        st->ended = true;
        actor_timer_disarm(&st->subscribe_timer);
        actor_timer_disarm(&st->heartbeat_timer);
        if (!st->stop_failover && st->subscribed) {
            LOG_INFO("Tearing down framework %s", st->info->id->value);
            send_teardown(st, st->info->id);
        }
        actor_terminate(actor_self(st->self));
    }
    driver_running = previous;
}

void driver_send_raw(driver_state_t *st, const Mesos__Scheduler__Call *call)
{
    actor_err_t err = actor_send(st->self, &st->master, &call->base);
    if (err != ACTOR_OK)
        LOG_WARNING("Cannot send a call to the master: %s", actor_strerror(err));
}

/* ---- subscription ---- */

static void subscribe_tick(actor_t *self, void *state, void *arg);

static void send_subscribe(driver_state_t *st)
{
    Mesos__Scheduler__Call__Subscribe sub = MESOS__SCHEDULER__CALL__SUBSCRIBE__INIT;
    sub.framework_info = st->info;
    Mesos__Scheduler__Call call = MESOS__SCHEDULER__CALL__INIT;
    call.has_type = true;
    call.type = MESOS__SCHEDULER__CALL__TYPE__SUBSCRIBE;
    call.framework_id = st->info->id;
    call.subscribe = &sub;
    driver_send_raw(st, &call);
}

/* One attempt now, then retries with doubling backoff until SUBSCRIBED. */
static void subscribe_start(driver_state_t *st)
{
    actor_timer_disarm(&st->subscribe_timer);
    st->backoff_ns = st->backoff_min_ns;
    send_subscribe(st);
    st->subscribe_timer = actor_delay(st->self, st->backoff_ns, subscribe_tick, NULL);
}

static void subscribe_tick(actor_t *self, void *state, void *arg)
{
    (void)arg;
    if (self == NULL)
        return;
    driver_state_t *st = state;
    st->subscribe_timer = 0;
    if (st->subscribed || st->stop_pending)
        return;
    VLOG(1, "No answer from the master %s yet: subscribing again", st->master.id);
    send_subscribe(st);
    st->backoff_ns =
        st->backoff_ns * 2 > st->backoff_max_ns ? st->backoff_max_ns : st->backoff_ns * 2;
    st->subscribe_timer = actor_delay(self, st->backoff_ns, subscribe_tick, NULL);
}

/* The master is gone (or mute): tell the framework, then subscribe again. */
static void master_lost(driver_state_t *st, const char *why)
{
    if (!st->subscribed)
        return;
    char master[ACTOR_PID_STRLEN];
    LOG_WARNING("Lost the master %s (%s): subscribing again as framework %s",
                actor_pid_format(&st->master, master, sizeof(master)), why, st->info->id->value);
    st->subscribed = false;
    actor_timer_disarm(&st->heartbeat_timer);
    if (driver_callbacks_on(st->d) && st->d->cbs.disconnected != NULL)
        st->d->cbs.disconnected(st->d, st->d->user);
    if (!st->stop_pending)
        subscribe_start(st);
}

/* Runs every heartbeat interval while subscribed. Silence is counted in intervals rather than
 * measured against the clock, so that a clock that jumps (a suspended process, a test advancing
 * a paused clock by minutes) cannot make one late check look like many missed heartbeats. */
static void heartbeat_check(actor_t *self, void *state, void *arg)
{
    (void)arg;
    if (self == NULL)
        return;
    driver_state_t *st = state;
    st->heartbeat_timer = 0;
    if (!st->subscribed)
        return;
    scheduler_driver_t *previous = driver_enter(st);
    if (++st->silent_intervals > st->heartbeat_misses) {
        char why[96];
        snprintf(why, sizeof(why), "no event for %u heartbeat intervals", st->heartbeat_misses);
        master_lost(st, why);
    } else {
        st->heartbeat_timer = actor_delay(self, st->heartbeat_ns, heartbeat_check, NULL);
    }
    driver_leave(st, previous);
}

static actor_err_t set_framework_id(driver_state_t *st, const char *id)
{
    Mesos__FrameworkID *fid = malloc(sizeof(*fid));
    char *value = strdup(id);
    if (fid == NULL || value == NULL) {
        free(fid);
        free(value);
        return ACTOR_ENOMEM;
    }
    mesos__framework_id__init(fid);
    fid->value = value;
    if (st->info->id != NULL)
        mesos__framework_id__free_unpacked(st->info->id, NULL);
    st->info->id = fid;
    return ACTOR_OK;
}

static void on_subscribed(driver_state_t *st, const Mesos__Scheduler__Event__Subscribed *sub)
{
    if (sub == NULL || sub->framework_id == NULL)
        return;
    const char *id = sub->framework_id->value;
    if (st->info->id != NULL && strcmp(st->info->id->value, id) != 0) {
        LOG_WARNING("The master subscribed a second framework %s for this scheduler (framework "
                    "%s): tearing it down",
                    id, st->info->id->value);
        send_teardown(st, sub->framework_id);
        return;
    }
    if (st->subscribed)
        return; /* the answer to a retried SUBSCRIBE */
    if (st->info->id == NULL && set_framework_id(st, id) != ACTOR_OK) {
        LOG_ERROR("Out of memory keeping the framework id %s; subscribing again later", id);
        return;
    }
    st->subscribed = true;
    actor_timer_disarm(&st->subscribe_timer);
    double interval = sub->has_heartbeat_interval_seconds && sub->heartbeat_interval_seconds > 0
                          ? sub->heartbeat_interval_seconds
                          : DEFAULT_HEARTBEAT_S;
    st->heartbeat_ns = (int64_t)(interval * (double)ACTOR_NS_PER_SEC);
    st->silent_intervals = 0;
    st->heartbeat_timer = actor_delay(st->self, st->heartbeat_ns, heartbeat_check, NULL);
    actor_link(st->self, &st->master);
    bool again = st->was_subscribed;
    st->was_subscribed = true;
    LOG_INFO("%s as framework %s", again ? "Resubscribed" : "Subscribed", id);
    if (driver_callbacks_on(st->d) && st->d->cbs.subscribed != NULL)
        st->d->cbs.subscribed(st->d, st->d->user, id, again, sub->master_info);
}

/* ---- the master's other events ---- */

static void decline_all(driver_state_t *st, const Mesos__Scheduler__Event__Offers *offers)
{
    for (size_t i = 0; i < offers->n_offers; i++) {
        Mesos__Scheduler__Call__Decline decline = MESOS__SCHEDULER__CALL__DECLINE__INIT;
        decline.offer_ids = &offers->offers[i]->id;
        decline.n_offer_ids = 1;
        Mesos__Scheduler__Call call = MESOS__SCHEDULER__CALL__INIT;
        call.has_type = true;
        call.type = MESOS__SCHEDULER__CALL__TYPE__DECLINE;
        call.framework_id = offers->offers[i]->framework_id;
        call.decline = &decline;
        driver_send_raw(st, &call);
    }
}

static void on_offers(driver_state_t *st, const Mesos__Scheduler__Event__Offers *offers)
{
    scheduler_driver_t *d = st->d;
    if (offers == NULL || offers->n_offers == 0)
        return;
    if (!st->subscribed || d->cbs.offers == NULL) {
        decline_all(st, offers);
        return;
    }
    /* Offers of another framework (an orphan being torn down) are not ours to use. */
    if (strcmp(offers->offers[0]->framework_id->value, st->info->id->value) != 0)
        return;
    if (driver_callbacks_on(d))
        d->cbs.offers(d, d->user, (const Mesos__Offer *const *)offers->offers, offers->n_offers);
}

void driver_deliver_update(driver_state_t *st, const Mesos__TaskStatus *status)
{
    scheduler_driver_t *d = st->d;
    if (!driver_callbacks_on(d))
        return; /* unacknowledged: the agent resends it to whoever subscribes next */
    if (d->cbs.update != NULL)
        d->cbs.update(d, d->user, status);
    /* As Mesos's driver: acknowledge after the callback, unless it aborted the driver. */
    if (!d->implicit_acks || !status->has_uuid || status->uuid.len == 0 ||
        status->agent_id == NULL || atomic_load(&d->status) == SCHEDULER_DRIVER_ABORTED)
        return;
    Mesos__Scheduler__Call__Acknowledge ack;
    Mesos__Scheduler__Call call;
    driver_acknowledgement(&call, &ack, status);
    driver_send_call(st, &call);
}

static void on_failure(driver_state_t *st, const Mesos__Scheduler__Event__Failure *f)
{
    scheduler_driver_t *d = st->d;
    if (f == NULL || d->cbs.failure == NULL || !driver_callbacks_on(d))
        return;
    d->cbs.failure(d, d->user, f->agent_id != NULL ? f->agent_id->value : NULL,
                   f->executor_id != NULL ? f->executor_id->value : NULL,
                   f->has_status ? f->status : -1);
}

static void on_message(driver_state_t *st, const Mesos__Scheduler__Event__Message *m)
{
    scheduler_driver_t *d = st->d;
    if (m == NULL || d->cbs.message == NULL || !driver_callbacks_on(d))
        return;
    d->cbs.message(d, d->user, m->agent_id->value, m->executor_id->value, m->data.data,
                   m->data.len);
}

/* The master refused us: tell the framework, then abort (no TEARDOWN), as Mesos's driver. */
static void on_error(driver_state_t *st, const Mesos__Scheduler__Event__Error *e)
{
    scheduler_driver_t *d = st->d;
    const char *message = e != NULL && e->message != NULL ? e->message : "(no message)";
    LOG_ERROR("The master sent an error: %s; aborting the driver", message);
    if (!driver_callbacks_on(d))
        return;
    if (d->cbs.error != NULL)
        d->cbs.error(d, d->user, message);
    int expected = SCHEDULER_DRIVER_RUNNING;
    atomic_compare_exchange_strong(&d->status, &expected, SCHEDULER_DRIVER_ABORTED);
    st->stop_pending = true;
    st->stop_failover = true;
}

/* Events other than SUBSCRIBED and ERROR, once subscribed. */
static void on_subscribed_event(driver_state_t *st, const Mesos__Scheduler__Event *ev)
{
    scheduler_driver_t *d = st->d;
    switch (ev->type) {
    case MESOS__SCHEDULER__EVENT__TYPE__RESCIND:
        if (ev->rescind != NULL && d->cbs.rescind != NULL && driver_callbacks_on(d))
            d->cbs.rescind(d, d->user, ev->rescind->offer_id->value);
        break;
    case MESOS__SCHEDULER__EVENT__TYPE__UPDATE:
        if (ev->update != NULL)
            driver_deliver_update(st, ev->update->status);
        break;
    case MESOS__SCHEDULER__EVENT__TYPE__MESSAGE:
        on_message(st, ev->message);
        break;
    case MESOS__SCHEDULER__EVENT__TYPE__FAILURE:
        on_failure(st, ev->failure);
        break;
    case MESOS__SCHEDULER__EVENT__TYPE__HEARTBEAT:
        break; /* resetting silent_intervals is all it is for */
    default:
        VLOG(1, "Ignoring a scheduler event of type %d", (int)ev->type);
        break;
    }
}

static void driver_on_event(actor_t *self, void *state, const actor_pid_t *from,
                            const ProtobufCMessage *msg)
{
    (void)self;
    driver_state_t *st = state;
    const Mesos__Scheduler__Event *ev = (const Mesos__Scheduler__Event *)msg;
    if (!actor_pid_equal(from, &st->master)) {
        char who[ACTOR_PID_STRLEN];
        LOG_WARNING("Ignoring a scheduler event from %s, which is not the master",
                    actor_pid_format(from, who, sizeof(who)));
        return;
    }
    scheduler_driver_t *previous = driver_enter(st);
    st->silent_intervals = 0;
    if (ev->type == MESOS__SCHEDULER__EVENT__TYPE__SUBSCRIBED)
        on_subscribed(st, ev->subscribed);
    else if (ev->type == MESOS__SCHEDULER__EVENT__TYPE__ERROR)
        on_error(st, ev->error);
    else if (ev->type == MESOS__SCHEDULER__EVENT__TYPE__OFFERS)
        on_offers(st, ev->offers);
    else if (st->subscribed)
        on_subscribed_event(st, ev);
    else
        VLOG(1, "Ignoring a scheduler event of type %d: not subscribed", (int)ev->type);
    driver_leave(st, previous);
}

static void driver_exited(actor_t *self, void *state, const actor_pid_t *pid)
{
    (void)self;
    driver_state_t *st = state;
    if (!actor_pid_equal(pid, &st->master))
        return;
    scheduler_driver_t *previous = driver_enter(st);
    master_lost(st, "the link broke");
    driver_leave(st, previous);
}

/* ---- the actor ---- */

typedef struct start_arg {
    scheduler_driver_t *d;
    actor_pid_t master;
    Mesos__FrameworkInfo *info;
    int64_t backoff_ns, backoff_max_ns;
    unsigned heartbeat_misses;
} start_arg_t;

static bool has_capability(const Mesos__FrameworkInfo *info, int type)
{
    for (size_t i = 0; i < info->n_capabilities; i++) {
        if (info->capabilities[i]->has_type && (int)info->capabilities[i]->type == type)
            return true;
    }
    return false;
}

static void driver_init(actor_t *self, void *state, void *arg)
{
    driver_state_t *st = state;
    start_arg_t *a = arg;
    st->d = a->d;
    st->self = self;
    st->master = a->master;
    st->info = a->info;
    st->partition_aware =
        has_capability(st->info, MESOS__FRAMEWORK_INFO__CAPABILITY__TYPE__PARTITION_AWARE);
    st->backoff_min_ns = a->backoff_ns;
    st->backoff_max_ns = a->backoff_max_ns;
    st->heartbeat_misses = a->heartbeat_misses;
    free(a);
    st->d->st = st;
    scheduler_driver_t *previous = driver_enter(st);
    if (driver_callbacks_on(st->d))
        subscribe_start(st);
    driver_leave(st, previous);
}

static void driver_fini(actor_t *self, void *state)
{
    (void)self;
    driver_state_t *st = state;
    actor_timer_disarm(&st->subscribe_timer);
    actor_timer_disarm(&st->heartbeat_timer);
    /* Terminated from outside (the runtime stopping): that is a stop too. */
    int expected = SCHEDULER_DRIVER_RUNNING;
    atomic_compare_exchange_strong(&st->d->status, &expected, SCHEDULER_DRIVER_STOPPED);
    st->d->st = NULL;
    if (st->info != NULL)
        mesos__framework_info__free_unpacked(st->info, NULL);
}

static const actor_handler_t driver_handlers[] = {
    {&mesos__scheduler__event__descriptor, driver_on_event},
};

static const actor_ops_t driver_ops = {
    .name = "scheduler",
    .state_size = sizeof(driver_state_t),
    .init = driver_init,
    .fini = driver_fini,
    .exited = driver_exited,
    .handlers = driver_handlers,
    .handler_count = sizeof(driver_handlers) / sizeof(driver_handlers[0]),
};

/* ---- start ---- */

/* The process's effective user name, as Mesos's driver fills FrameworkInfo.user; "" if none. */
static void effective_user(char *out, size_t len)
{
    struct passwd pw, *found = NULL;
    char buf[1024];
    out[0] = '\0';
    if (getpwuid_r(geteuid(), &pw, buf, sizeof(buf), &found) == 0 && found != NULL)
        snprintf(out, len, "%s", found->pw_name);
}

/* A heap FrameworkInfo from the options (see scheduler_driver_options_t). */
static Mesos__FrameworkInfo *build_info(const scheduler_driver_options_t *o)
{
    Mesos__FrameworkInfo *info;
    if (o->framework_info != NULL) {
        info = PB_COPY(Mesos__FrameworkInfo, o->framework_info);
    } else {
        char user[256];
        if (o->user == NULL)
            effective_user(user, sizeof(user));
        Mesos__FrameworkInfo fi = MESOS__FRAMEWORK_INFO__INIT;
        Mesos__FrameworkInfo__Capability caps[32], *cap_ptrs[32];
        unsigned bits = o->capabilities | (o->role_count > 0 ? SCHEDULER_CAP_MULTI_ROLE : 0);
        for (int type = 1; type < 32; type++) {
            if ((bits & (1u << type)) == 0)
                continue;
            Mesos__FrameworkInfo__Capability *c = &caps[fi.n_capabilities];
            mesos__framework_info__capability__init(c);
            c->has_type = true;
            c->type = (Mesos__FrameworkInfo__Capability__Type)type;
            cap_ptrs[fi.n_capabilities++] = c;
        }
        fi.capabilities = cap_ptrs;
        fi.user = (char *)(o->user != NULL ? o->user : user);
        fi.name = (char *)o->name;
        fi.has_failover_timeout = o->failover_timeout != 0;
        fi.failover_timeout = o->failover_timeout;
        fi.has_checkpoint = true;
        fi.checkpoint = o->checkpoint;
        if (o->role_count > 0) {
            fi.roles = (char **)o->roles;
            fi.n_roles = o->role_count;
        } else if (o->role != NULL) {
            fi.role = (char *)o->role;
        }
        fi.hostname = (char *)o->hostname;
        fi.principal = (char *)o->principal;
        fi.webui_url = (char *)o->webui_url;
        info = PB_COPY(Mesos__FrameworkInfo, &fi);
    }
    return info;
}

static actor_err_t check_options(const scheduler_driver_options_t *o, actor_pid_t *master)
{
    char err[256];
    if (scheduler_master_pid(o->master, master, err, sizeof(err)) != ACTOR_OK) {
        LOG_ERROR("Cannot start the scheduler driver: %s", err);
        return ACTOR_EINVAL;
    }
    const Mesos__FrameworkInfo *fi = o->framework_info;
    if (fi != NULL ? (fi->name == NULL || fi->user == NULL) : (o->name == NULL)) {
        LOG_ERROR("Cannot start the scheduler driver: the framework needs a name (and a user)");
        return ACTOR_EINVAL;
    }
    if (o->role_count > 0 && o->roles == NULL) {
        LOG_ERROR("Cannot start the scheduler driver: role_count without roles");
        return ACTOR_EINVAL;
    }
    for (size_t i = 0; i < o->role_count; i++) {
        if (o->roles[i] == NULL) {
            LOG_ERROR("Cannot start the scheduler driver: a NULL role");
            return ACTOR_EINVAL;
        }
    }
    return ACTOR_OK;
}

static start_arg_t *start_arg_new(const scheduler_driver_options_t *o, scheduler_driver_t *d,
                                  const actor_pid_t *master)
{
    start_arg_t *a = calloc(1, sizeof(*a));
    if (a == NULL)
        return NULL;
    a->d = d;
    a->master = *master;
    a->backoff_ns = o->backoff_ns > 0 ? o->backoff_ns : DEFAULT_BACKOFF_NS;
    a->backoff_max_ns = o->backoff_max_ns >= a->backoff_ns ? o->backoff_max_ns : a->backoff_ns;
    a->heartbeat_misses = o->heartbeat_misses > 0 ? o->heartbeat_misses : DEFAULT_HEARTBEAT_MISSES;
    a->info = build_info(o);
    const char *id = o->framework_id;
    if (a->info != NULL && id != NULL) {
        Mesos__FrameworkID fid = MESOS__FRAMEWORK_ID__INIT;
        fid.value = (char *)id;
        if (a->info->id != NULL)
            mesos__framework_id__free_unpacked(a->info->id, NULL);
        a->info->id = PB_COPY(Mesos__FrameworkID, &fid);
    }
    if (a->info == NULL || (id != NULL && a->info->id == NULL)) {
        if (a->info != NULL)
            mesos__framework_info__free_unpacked(a->info, NULL);
        free(a);
        return NULL;
    }
    return a;
}

actor_err_t scheduler_driver_start(const scheduler_driver_options_t *opts,
                                   const scheduler_callbacks_t *cbs, void *user,
                                   scheduler_driver_t **out)
{
    actor_pid_t master;
    if (opts == NULL || out == NULL)
        return ACTOR_EINVAL;
    actor_err_t err = check_options(opts, &master);
    if (err != ACTOR_OK)
        return err;
    scheduler_driver_t *d = calloc(1, sizeof(*d));
    if (d == NULL)
        return ACTOR_ENOMEM;
    atomic_init(&d->status, SCHEDULER_DRIVER_RUNNING);
    if (cbs != NULL)
        d->cbs = *cbs;
    d->user = user;
    d->implicit_acks = !opts->explicit_acknowledgements;
    start_arg_t *a = start_arg_new(opts, d, &master);
    if (a == NULL) {
        free(d);
        return ACTOR_ENOMEM;
    }
    err = actor_spawn(&driver_ops, opts->id, a, &d->pid);
    if (err != ACTOR_OK) {
        mesos__framework_info__free_unpacked(a->info, NULL);
        free(a);
        free(d);
        return err;
    }
    *out = d;
    return ACTOR_OK;
}

/* ---- stop, status, join ---- */

static void stop_dispatched(actor_t *self, void *state, void *arg)
{
    if (self == NULL)
        return;
    driver_state_t *st = state;
    scheduler_driver_t *previous = driver_enter(st);
    st->stop_pending = true;
    st->stop_failover = arg != NULL;
    driver_leave(st, previous);
}

scheduler_driver_status_t scheduler_driver_stop(scheduler_driver_t *d, bool failover)
{
    int expected = SCHEDULER_DRIVER_RUNNING;
    if (!atomic_compare_exchange_strong(&d->status, &expected, SCHEDULER_DRIVER_STOPPED))
        return (scheduler_driver_status_t)expected;
    if (driver_running == d) {
        d->st->stop_pending = true; /* ended by driver_leave, after the current callback */
        d->st->stop_failover = failover;
    } else {
        /* The actor may be gone already (the runtime stopped): nothing is left to do then. */
        (void)actor_dispatch(&d->pid, stop_dispatched, failover ? (void *)d : NULL);
    }
    return SCHEDULER_DRIVER_STOPPED;
}

scheduler_driver_status_t scheduler_driver_status(const scheduler_driver_t *d)
{
    return (scheduler_driver_status_t)atomic_load(&d->status);
}

scheduler_driver_status_t scheduler_driver_join(scheduler_driver_t *d)
{
    if (driver_running == d) {
        LOG_ERROR("scheduler_driver_join called from the driver's own callback: not waiting");
        return scheduler_driver_status(d);
    }
    actor_wait(&d->pid);
    return scheduler_driver_status(d);
}

/* SIGINT or SIGTERM during scheduler_driver_run: stop without failover, as Mesos's driver. */
static void signalled(actor_t *self, void *state, void *arg)
{
    (void)arg;
    if (self == NULL)
        return;
    LOG_INFO("Stopping the framework on a signal");
    scheduler_driver_stop(((driver_state_t *)state)->d, false); /* a stop_dispatched to come */
}

scheduler_driver_status_t scheduler_driver_run(scheduler_driver_t *d)
{
    if (driver_running != d)
        actor_daemon_wait_actor(&d->pid, signalled, NULL);
    return scheduler_driver_join(d);
}

void scheduler_driver_free(scheduler_driver_t *d)
{
    if (d == NULL)
        return;
    scheduler_driver_stop(d, true);
    scheduler_driver_join(d);
    free(d);
}
