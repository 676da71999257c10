/*
 * api_v1_stream.c: SUBSCRIBE on /api/v1, Mesos's operator event stream (Master::subscribe and
 * Master::Subscribers).
 *
 * A subscriber is an open chunked HTTP answer whose Content-Type is the media type it accepted
 * (application/json or application/x-protobuf, as Mesos sets it), carrying RecordIO records:
 * each Event encoded alone, preceded by its length in bytes in decimal and a newline. The first
 * record is SUBSCRIBED with the whole state (GET_STATE) and the heartbeat interval; then the
 * master's files call master_event_*() where frameworks, agents and tasks change, and each
 * subscriber gets a HEARTBEAT every heartbeat interval (15 s), the first one interval after it
 * subscribed, as Mesos's heartbeater does.
 *
 * An event is built and encoded once per media type in use, and only when someone listens: with
 * no subscriber each master_event_*() returns at its first test. A subscriber whose client went
 * away (or reads too slowly for the runtime's stream buffer) is dropped; beyond
 * MAX_SUBSCRIBERS the oldest is dropped (Mesos's --max_operator_event_stream_subscribers).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <utlist.h>

#include "actor/log.h"
#include "master/api_v1.h"

#define MAX_SUBSCRIBERS 1000

struct master_subscriber {
    actor_http_stream_t *stream; /* owned: ended when the subscriber goes */
    bool json;                   /* records are JSON (else protobuf) */
    uint64_t id;                 /* the heartbeat timer's argument: a timer that fired before
                                    the subscriber went finds no subscriber by it */
    actor_timer_id_t heartbeat;  /* the next HEARTBEAT; 0 when none is armed */
    master_subscriber_t *prev, *next;
};

static void subscriber_remove(master_t *m, master_subscriber_t *sub)
{
    DL_DELETE(m->subscribers, sub);
    m->subscriber_count--;
    if (sub->heartbeat != 0)
        actor_timer_cancel(sub->heartbeat);
    actor_http_stream_end(sub->stream);
    free(sub);
}

void master_subscribers_close(master_t *m)
{
    while (m->subscribers != NULL)
        subscriber_remove(m, m->subscribers);
}

/* One RecordIO record holding ev encoded for json or protobuf, in a new buffer. */
static char *record(const Mesos__Master__Event *ev, bool json, size_t *len)
{
    char *data = NULL;
    size_t n = 0;
    if (api_encode(&ev->base, json, &data, &n) != ACTOR_OK)
        return NULL;
    char header[24];
    int h = snprintf(header, sizeof(header), "%zu\n", n);
    char *rec = malloc((size_t)h + n);
    if (rec != NULL) {
        memcpy(rec, header, (size_t)h);
        memcpy(rec + h, data, n);
        *len = (size_t)h + n;
    }
    free(data);
    return rec;
}

/* Sends ev to every subscriber, dropping those that are gone. */
static void broadcast(master_t *m, const Mesos__Master__Event *ev)
{
    char *records[2] = {NULL, NULL}; /* protobuf, JSON */
    size_t lens[2] = {0, 0};
    bool encoded[2] = {false, false};
    master_subscriber_t *sub, *tmp;
    DL_FOREACH_SAFE(m->subscribers, sub, tmp)
    {
        int k = sub->json;
        if (!encoded[k]) {
            encoded[k] = true;
            records[k] = record(ev, sub->json, &lens[k]);
            if (records[k] == NULL)
                LOG_WARNING("Cannot encode an operator event: out of memory");
        }
        if (records[k] != NULL &&
            actor_http_stream_write(sub->stream, records[k], lens[k]) == ACTOR_ECLOSED)
            subscriber_remove(m, sub);
    }
    free(records[0]);
    free(records[1]);
}

static Mesos__Master__Event *event_new(pool_t *pool, Mesos__Master__Event__Type type)
{
    Mesos__Master__Event *ev = api_message(pool, &mesos__master__event__descriptor);
    if (ev != NULL) {
        ev->has_type = true;
        ev->type = type;
    }
    return ev;
}

/* Sends the event built in pool (unless building it failed), then frees the pool. */
static void event_send(master_t *m, pool_t *pool, const Mesos__Master__Event *ev)
{
    if (ev == NULL || pool->failed)
        LOG_WARNING("Cannot build an operator event: out of memory");
    else
        broadcast(m, ev);
    pool_fini(pool);
}

/* ---- heartbeats ---- */

static void heartbeat_arm(actor_t *self, master_t *m, master_subscriber_t *sub);

static void heartbeat_tick(actor_t *self, void *state, void *arg)
{
    if (self == NULL)
        return; /* the master is gone; its fini freed the subscriber */
    master_t *m = state;
    master_subscriber_t *sub;
    DL_FOREACH(m->subscribers, sub)
    {
        if (sub->id == (uint64_t)(uintptr_t)arg)
            break;
    }
    if (sub == NULL)
        return; /* it went after this heartbeat fell due */
    sub->heartbeat = 0;
    Mesos__Master__Event ev = MESOS__MASTER__EVENT__INIT;
    ev.has_type = true;
    ev.type = MESOS__MASTER__EVENT__TYPE__HEARTBEAT;
    size_t len = 0;
    char *rec = record(&ev, sub->json, &len);
    actor_err_t err = rec != NULL ? actor_http_stream_write(sub->stream, rec, len) : ACTOR_ENOMEM;
    free(rec);
    if (err == ACTOR_ECLOSED) {
        subscriber_remove(m, sub);
        return;
    }
    heartbeat_arm(self, m, sub);
}

static void heartbeat_arm(actor_t *self, master_t *m, master_subscriber_t *sub)
{
    int64_t ns = (int64_t)(m->opts.heartbeat_interval_seconds * (double)ACTOR_NS_PER_SEC);
    sub->heartbeat = actor_delay(self, ns, heartbeat_tick, (void *)(uintptr_t)sub->id);
    if (sub->heartbeat == 0)
        LOG_WARNING("Cannot arm an operator event subscriber's heartbeat: out of memory");
}

/* ---- SUBSCRIBE ---- */

static void on_closed(actor_t *self, void *state, actor_http_stream_t *stream)
{
    (void)self;
    master_t *m = state;
    master_subscriber_t *sub;
    DL_FOREACH(m->subscribers, sub)
    {
        if (sub->stream == stream) {
            LOG_INFO("Removing an operator event subscriber: its connection closed");
            subscriber_remove(m, sub);
            return;
        }
    }
}

/* The SUBSCRIBED record: the whole state and the heartbeat interval. */
static char *subscribed_record(master_t *m, bool json, size_t *len)
{
    pool_t pool;
    pool_init(&pool);
    Mesos__Master__Event *ev = event_new(&pool, MESOS__MASTER__EVENT__TYPE__SUBSCRIBED);
    Mesos__Master__Event__Subscribed *subscribed =
        api_message(&pool, &mesos__master__event__subscribed__descriptor);
    char *rec = NULL;
    if (ev != NULL && subscribed != NULL) {
        subscribed->get_state = api_model_state(&pool, m);
        subscribed->has_heartbeat_interval_seconds = true;
        subscribed->heartbeat_interval_seconds = m->opts.heartbeat_interval_seconds;
        ev->subscribed = subscribed;
        if (!pool.failed)
            rec = record(ev, json, len);
    }
    pool_fini(&pool);
    return rec;
}

void api_subscribe(actor_t *self, master_t *m, actor_http_request_t *req, bool json)
{
    size_t len = 0;
    char *rec = subscribed_record(m, json, &len);
    master_subscriber_t *sub = rec != NULL ? calloc(1, sizeof(*sub)) : NULL;
    if (sub == NULL) {
        free(rec);
        actor_http_respond_text(req, 503, "Out of memory");
        return;
    }
    if (actor_http_stream_begin(self, req, 200, json ? API_JSON : API_PROTOBUF, NULL, 0, on_closed,
                                &sub->stream) != ACTOR_OK) {
        free(rec);
        free(sub);
        return;
    }
    if (m->subscriber_count == MAX_SUBSCRIBERS) {
        LOG_WARNING("Dropping the oldest operator event subscriber: %d are subscribed",
                    MAX_SUBSCRIBERS);
        subscriber_remove(m, m->subscribers);
    }
    sub->json = json;
    sub->id = ++m->next_subscriber;
    DL_APPEND(m->subscribers, sub);
    m->subscriber_count++;
    actor_err_t err = actor_http_stream_write(sub->stream, rec, len);
    free(rec);
    if (err != ACTOR_OK) {
        subscriber_remove(m, sub);
        return;
    }
    heartbeat_arm(self, m, sub);
    LOG_INFO("Added an operator event subscriber (%s); %zu subscribed",
             json ? API_JSON : API_PROTOBUF, m->subscriber_count);
}

/* ---- events ---- */

void master_event_task_added(master_t *m, const master_task_t *task)
{
    if (m->subscribers == NULL)
        return;
    pool_t pool;
    pool_init(&pool);
    Mesos__Master__Event *ev = event_new(&pool, MESOS__MASTER__EVENT__TYPE__TASK_ADDED);
    Mesos__Master__Event__TaskAdded *added =
        api_message(&pool, &mesos__master__event__task_added__descriptor);
    if (ev != NULL && added != NULL) {
        added->task = api_model_task(&pool, task);
        ev->task_added = added;
    }
    event_send(m, &pool, ev);
}

void master_event_task_updated(master_t *m, const master_task_t *task,
                               const Mesos__TaskStatus *status)
{
    if (m->subscribers == NULL)
        return;
    pool_t pool;
    pool_init(&pool);
    Mesos__Master__Event *ev = event_new(&pool, MESOS__MASTER__EVENT__TYPE__TASK_UPDATED);
    Mesos__Master__Event__TaskUpdated *updated =
        api_message(&pool, &mesos__master__event__task_updated__descriptor);
    if (ev != NULL && updated != NULL) {
        updated->framework_id = task->framework->info->id;
        updated->status = (Mesos__TaskStatus *)status;
        updated->state = (Mesos__TaskState)task->state;
        ev->task_updated = updated;
    }
    event_send(m, &pool, ev);
}

void master_event_agent_added(master_t *m, const master_agent_t *agent)
{
    if (m->subscribers == NULL)
        return;
    pool_t pool;
    pool_init(&pool);
    Mesos__Master__Event *ev = event_new(&pool, MESOS__MASTER__EVENT__TYPE__AGENT_ADDED);
    Mesos__Master__Event__AgentAdded *added =
        api_message(&pool, &mesos__master__event__agent_added__descriptor);
    if (ev != NULL && added != NULL) {
        added->agent = api_model_agent(&pool, agent);
        ev->agent_added = added;
    }
    event_send(m, &pool, ev);
}

void master_event_agent_removed(master_t *m, const char *agent_id)
{
    if (m->subscribers == NULL)
        return;
    Mesos__AgentID aid = MESOS__AGENT_ID__INIT;
    aid.value = (char *)agent_id;
    Mesos__Master__Event__AgentRemoved removed = MESOS__MASTER__EVENT__AGENT_REMOVED__INIT;
    removed.agent_id = &aid;
    Mesos__Master__Event ev = MESOS__MASTER__EVENT__INIT;
    ev.has_type = true;
    ev.type = MESOS__MASTER__EVENT__TYPE__AGENT_REMOVED;
    ev.agent_removed = &removed;
    broadcast(m, &ev);
}

/* FRAMEWORK_ADDED or FRAMEWORK_UPDATED, which carry the same model. */
static void framework_event(master_t *m, const master_framework_t *fw, bool added)
{
    if (m->subscribers == NULL)
        return;
    pool_t pool;
    pool_init(&pool);
    Mesos__Master__Event *ev =
        event_new(&pool, added ? MESOS__MASTER__EVENT__TYPE__FRAMEWORK_ADDED
                               : MESOS__MASTER__EVENT__TYPE__FRAMEWORK_UPDATED);
    Mesos__Master__Response__GetFrameworks__Framework *model = api_model_framework(&pool, fw);
    if (ev != NULL && added) {
        ev->framework_added =
            api_message(&pool, &mesos__master__event__framework_added__descriptor);
        if (ev->framework_added != NULL)
            ev->framework_added->framework = model;
    } else if (ev != NULL) {
        ev->framework_updated =
            api_message(&pool, &mesos__master__event__framework_updated__descriptor);
        if (ev->framework_updated != NULL)
            ev->framework_updated->framework = model;
    }
    event_send(m, &pool, ev);
}

void master_event_framework_added(master_t *m, const master_framework_t *fw)
{
    framework_event(m, fw, true);
}

void master_event_framework_updated(master_t *m, const master_framework_t *fw)
{
    framework_event(m, fw, false);
}

void master_event_framework_removed(master_t *m, const master_framework_t *fw)
{
    if (m->subscribers == NULL)
        return;
    Mesos__Master__Event__FrameworkRemoved removed = MESOS__MASTER__EVENT__FRAMEWORK_REMOVED__INIT;
    removed.framework_info = fw->info;
    Mesos__Master__Event ev = MESOS__MASTER__EVENT__INIT;
    ev.has_type = true;
    ev.type = MESOS__MASTER__EVENT__TYPE__FRAMEWORK_REMOVED;
    ev.framework_removed = &removed;
    broadcast(m, &ev);
}
