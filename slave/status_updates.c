/*
 * status_updates.c: the agent's status update manager (Mesos's TaskStatusUpdateManager).
 *
 * Each task has a stream: its updates in the order they were made. The oldest unacknowledged
 * update is in flight to the master, resent with doubling backoff (10 s up to 10 min, as Mesos)
 * until the framework's acknowledgement comes back; then the next one goes. Duplicates (an
 * executor resending an update after reconnecting) are acknowledged again and dropped. Once a
 * terminal update is acknowledged the task is completed and the stream is gone.
 *
 * For a framework that checkpoints, each update is written to the agent's checkpoints before the
 * executor hears it was received and before it goes to the master (durable means fsync'd; the
 * updates of a burst share one write, checkpoint.c), and its record is deleted once the framework
 * acknowledged it, so a restarted agent resends exactly the unacknowledged ones.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actor/log.h"
#include "actor/pbcopy.h"
#include "proto/task_states.h"
#include "slave/agent_int.h"

#define RETRY_MIN_NS (10 * ACTOR_NS_PER_SEC)
#define RETRY_MAX_NS (600 * ACTOR_NS_PER_SEC)

/* A retry timer's argument: the stream's key and the send it was armed for. A stream whose
 * head moved on has a new sequence, so the old timer does nothing. */
typedef struct retry_arg {
    uint64_t seq;
    char key[];
} retry_arg_t;

static agent_stream_t *stream_find(agent_t *a, const char *framework_id, const char *task_id)
{
    char key[1024];
    snprintf(key, sizeof(key), "%s/%s", framework_id, task_id);
    agent_stream_t *s = NULL;
    HASH_FIND_STR(a->streams, key, s);
    return s;
}

static void stream_free(agent_stream_t *s)
{
    agent_update_t *u = s->head;
    while (u != NULL) {
        agent_update_t *next = u->next;
        mesos__internal__status_update__free_unpacked(u->update, NULL);
        free(u);
        u = next;
    }
    for (size_t i = 0; i < s->seen_count; i++)
        free(s->seen[i]);
    free(s->seen);
    free(s->key);
    free(s->framework_id);
    free(s->task_id);
    free(s);
}

static agent_stream_t *stream_add(agent_t *a, const char *framework_id, const char *task_id)
{
    agent_framework_t *f = agent_framework_find(a, framework_id);
    agent_stream_t *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return NULL;
    s->framework_id = strdup(framework_id);
    s->task_id = strdup(task_id);
    if (asprintf(&s->key, "%s/%s", framework_id, task_id) < 0)
        s->key = NULL;
    if (s->framework_id == NULL || s->task_id == NULL || s->key == NULL) {
        stream_free(s);
        return NULL;
    }
    s->checkpoint = f != NULL && agent_framework_checkpoints(f);
    HASH_ADD_KEYPTR(hh, a->streams, s->key, strlen(s->key), s);
    return s;
}

static char *update_key(const agent_stream_t *s, uint64_t seq)
{
    char seq_text[24];
    snprintf(seq_text, sizeof(seq_text), "%016llx", (unsigned long long)seq);
    return agent_checkpoint_key("upd", s->framework_id, s->task_id, seq_text);
}

static bool uuid_seen(const agent_stream_t *s, const ProtobufCBinaryData *uuid)
{
    for (size_t i = 0; i < s->seen_count; i++) {
        if (memcmp(s->seen[i], uuid->data, 16) == 0)
            return true;
    }
    return false;
}

static void retry_tick(actor_t *self, void *state, void *arg);

/* Sends the stream's head to the master and arms its retry. */
static void forward_head(agent_t *a, agent_stream_t *s)
{
    if (s->head == NULL || !s->head->durable)
        return;
    Mesos__Internal__StatusUpdate *u = s->head->update;
    /* The master learns the task's newest state even while older updates wait for acks. */
    u->has_latest_state = true;
    u->latest_state = s->tail->update->status->state;
    char pid[ACTOR_PID_STRLEN];
    actor_pid_format(actor_self(a->self), pid, sizeof(pid));
    Mesos__Internal__StatusUpdateMessage m = MESOS__INTERNAL__STATUS_UPDATE_MESSAGE__INIT;
    m.update = u;
    m.pid = pid;
    agent_send_master(a, &m.base);
    retry_arg_t *r = malloc(sizeof(*r) + strlen(s->key) + 1);
    if (r == NULL)
        return;
    r->seq = ++s->seq;
    strcpy(r->key, s->key);
    if (actor_delay(a->self, s->backoff_ns, retry_tick, r) == 0)
        free(r);
}

static void retry_tick(actor_t *self, void *state, void *arg)
{
    retry_arg_t *r = arg;
    if (self != NULL) {
        agent_t *a = state;
        agent_stream_t *s = NULL;
        HASH_FIND_STR(a->streams, r->key, s);
        if (s != NULL && s->seq == r->seq && s->head != NULL) {
            s->backoff_ns = s->backoff_ns * 2 > RETRY_MAX_NS ? RETRY_MAX_NS : s->backoff_ns * 2;
            forward_head(a, s);
        }
    }
    free(r);
}

static void acknowledge_executor(agent_t *a, const actor_pid_t *to,
                                 const Mesos__Internal__StatusUpdate *u)
{
    Mesos__AgentID aid = MESOS__AGENT_ID__INIT;
    aid.value = a->agent_id != NULL ? a->agent_id : "";
    Mesos__Internal__StatusUpdateAcknowledgementMessage ack =
        MESOS__INTERNAL__STATUS_UPDATE_ACKNOWLEDGEMENT_MESSAGE__INIT;
    ack.agent_id = &aid;
    ack.framework_id = u->framework_id;
    ack.task_id = u->status->task_id;
    ack.uuid = u->status->uuid;
    actor_send(a->self, to, &ack.base);
}

static bool update_valid(const Mesos__Internal__StatusUpdate *u)
{
    return u != NULL && u->framework_id != NULL && u->framework_id->value != NULL &&
           u->status != NULL && u->status->task_id != NULL && u->status->task_id->value != NULL &&
           u->status->has_uuid && u->status->uuid.len == 16;
}

/* What waits for an update to be durable: the executor's acknowledgement and the forward. */
typedef struct durable_arg {
    agent_t *agent;
    char *key; /* the stream's */
    uint64_t seq;
    bool ack;
    actor_pid_t ack_to;
} durable_arg_t;

static void update_durable(void *arg)
{
    durable_arg_t *d = arg;
    agent_t *a = d->agent;
    agent_stream_t *s = NULL;
    HASH_FIND_STR(a->streams, d->key, s);
    agent_update_t *node = s != NULL ? s->head : NULL;
    while (node != NULL && node->seq != d->seq)
        node = node->next;
    if (node != NULL) {
        node->durable = true;
        if (d->ack)
            acknowledge_executor(a, &d->ack_to, node->update);
        if (node == s->head) {
            s->backoff_ns = RETRY_MIN_NS;
            forward_head(a, s);
        }
    }
    free(d->key);
    free(d);
}

/* Appends an update to its stream; false when out of memory. */
static bool stream_append(agent_stream_t *s, Mesos__Internal__StatusUpdate *copy, uint64_t seq,
                          bool durable)
{
    agent_update_t *node = calloc(1, sizeof(*node));
    uint8_t *uuid = malloc(16);
    uint8_t **seen = realloc(s->seen, (s->seen_count + 1) * sizeof(*seen));
    if (seen != NULL)
        s->seen = seen;
    if (node == NULL || uuid == NULL || seen == NULL) {
        free(node);
        free(uuid);
        return false;
    }
    memcpy(uuid, copy->status->uuid.data, 16);
    s->seen[s->seen_count++] = uuid;
    node->update = copy;
    node->seq = seq;
    node->durable = durable;
    if (s->head == NULL)
        s->head = node;
    else
        s->tail->next = node;
    s->tail = node;
    if (seq >= s->next_seq)
        s->next_seq = seq + 1;
    s->terminal = mesos_task_state_terminal(copy->status->state);
    return true;
}

void agent_update_received(agent_t *a, const Mesos__Internal__StatusUpdate *update,
                           const actor_pid_t *ack_to)
{
    if (!update_valid(update)) {
        a->invalid_status_updates++;
        LOG_WARNING("Dropping a status update without framework id, task id or uuid");
        return;
    }
    const char *fid = update->framework_id->value, *tid = update->status->task_id->value;
    agent_framework_t *f = agent_framework_find(a, fid);
    if (f != NULL && f->shut_down) {
        /* The framework is gone: the task's state still changes here, but nobody will
         * acknowledge its updates, so none is kept or sent. */
        agent_executor_t *e = agent_executor_of_task(a, fid, tid);
        if (ack_to != NULL)
            acknowledge_executor(a, ack_to, update);
        if (e != NULL) {
            agent_task_update_state(a, e, update->status);
            if (mesos_task_state_terminal(update->status->state))
                agent_task_completed(a, fid, tid);
        }
        return;
    }
    agent_stream_t *s = stream_find(a, fid, tid);
    if (s != NULL && uuid_seen(s, &update->status->uuid)) {
        if (ack_to != NULL)
            acknowledge_executor(a, ack_to, update);
        return;
    }
    if (s != NULL && s->terminal) {
        LOG_WARNING("Dropping a %s update for task %s after its terminal update",
                    mesos_task_state_name(update->status->state), tid);
        a->invalid_status_updates++;
        if (ack_to != NULL)
            acknowledge_executor(a, ack_to, update);
        return;
    }
    Mesos__Internal__StatusUpdate *copy = PB_COPY(Mesos__Internal__StatusUpdate, update);
    if (copy == NULL || (s == NULL && (s = stream_add(a, fid, tid)) == NULL))
        goto oom;
    Mesos__TaskStatus *status = copy->status;
    if (status->agent_id == NULL && a->info->id != NULL)
        status->agent_id = PB_COPY(Mesos__AgentID, a->info->id);
    agent_executor_t *e = agent_executor_of_task(a, fid, tid);
    if (e != NULL && ack_to != NULL && status->state == MESOS__TASK_STATE__TASK_FAILED)
        agent_container_adjust_status(a, e, status);
    bool idle = s->head == NULL;
    uint64_t seq = s->next_seq;
    if (!stream_append(s, copy, seq, !s->checkpoint))
        goto oom;
    if (e != NULL)
        agent_task_update_state(a, e, status);
    a->valid_status_updates++;
    if (!s->checkpoint) {
        if (ack_to != NULL)
            acknowledge_executor(a, ack_to, update);
        if (idle) {
            s->backoff_ns = RETRY_MIN_NS;
            forward_head(a, s);
        }
        return;
    }
    store_batch_put_message(a->batch, update_key(s, seq), &copy->base);
    durable_arg_t *d = calloc(1, sizeof(*d));
    if (d == NULL || (d->key = strdup(s->key)) == NULL) {
        free(d);
        goto oom;
    }
    d->agent = a;
    d->seq = seq;
    d->ack = ack_to != NULL;
    if (ack_to != NULL)
        d->ack_to = *ack_to;
    store_batch_after(a->batch, update_durable, d);
    return;
oom:
    if (copy != NULL && (s == NULL || s->tail == NULL || s->tail->update != copy))
        mesos__internal__status_update__free_unpacked(copy, NULL);
    LOG_ERROR("Out of memory recording a status update of task %s", tid);
}

void agent_updates_recover(agent_t *a, Mesos__Internal__StatusUpdate *update, uint64_t seq)
{
    const char *fid = update->framework_id->value, *tid = update->status->task_id->value;
    agent_stream_t *s = stream_find(a, fid, tid);
    if ((s == NULL && (s = stream_add(a, fid, tid)) == NULL) ||
        !stream_append(s, update, seq, true)) {
        mesos__internal__status_update__free_unpacked(update, NULL);
        LOG_ERROR("Out of memory recovering a status update of task %s", tid);
        return;
    }
    s->backoff_ns = RETRY_MIN_NS;
}

void agent_on_status_update(actor_t *self, void *state, const actor_pid_t *from,
                            const ProtobufCMessage *msg)
{
    (void)self;
    agent_t *a = state;
    const Mesos__Internal__StatusUpdateMessage *m =
        (const Mesos__Internal__StatusUpdateMessage *)msg;
    agent_update_received(a, m->update, from);
}

void agent_on_status_update_ack(actor_t *self, void *state, const actor_pid_t *from,
                                const ProtobufCMessage *msg)
{
    (void)self;
    agent_t *a = state;
    const Mesos__Internal__StatusUpdateAcknowledgementMessage *m =
        (const Mesos__Internal__StatusUpdateAcknowledgementMessage *)msg;
    if (!actor_pid_equal(from, &a->master) || m->framework_id == NULL || m->task_id == NULL)
        return;
    agent_stream_t *s = stream_find(a, m->framework_id->value, m->task_id->value);
    if (s == NULL || s->head == NULL || m->uuid.len != 16 ||
        memcmp(s->head->update->status->uuid.data, m->uuid.data, 16) != 0)
        return; /* a duplicate or late acknowledgement */
    agent_update_t *done = s->head;
    if (s->checkpoint)
        store_batch_delete(a->batch, update_key(s, done->seq));
    s->head = done->next;
    if (s->head == NULL)
        s->tail = NULL;
    bool terminal = mesos_task_state_terminal(done->update->status->state);
    mesos__internal__status_update__free_unpacked(done->update, NULL);
    free(done);
    s->seq++; /* the retry armed for the acknowledged update does nothing */
    if (s->head != NULL) {
        s->backoff_ns = RETRY_MIN_NS;
        forward_head(a, s);
        return;
    }
    if (!terminal)
        return;
    char *fid = strdup(s->framework_id), *tid = strdup(s->task_id);
    HASH_DEL(a->streams, s);
    stream_free(s);
    if (fid != NULL && tid != NULL)
        agent_task_completed(a, fid, tid);
    free(fid);
    free(tid);
}

void agent_updates_drop_framework(agent_t *a, const char *framework_id)
{
    agent_stream_t *s, *tmp;
    HASH_ITER(hh, a->streams, s, tmp)
    {
        if (strcmp(s->framework_id, framework_id) != 0)
            continue;
        if (s->checkpoint) {
            for (agent_update_t *u = s->head; u != NULL; u = u->next)
                store_batch_delete(a->batch, update_key(s, u->seq));
        }
        HASH_DEL(a->streams, s);
        stream_free(s);
    }
}

void agent_updates_resend(agent_t *a)
{
    for (agent_stream_t *s = a->streams; s != NULL; s = s->hh.next) {
        if (s->head != NULL) {
            s->backoff_ns = RETRY_MIN_NS;
            forward_head(a, s);
        }
    }
}

void agent_updates_free(agent_t *a)
{
    agent_stream_t *s, *tmp;
    HASH_ITER(hh, a->streams, s, tmp)
    {
        HASH_DEL(a->streams, s);
        stream_free(s);
    }
}
