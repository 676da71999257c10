/*
 * executor_driver_calls.c: the executor driver's calls and its reliable status updates.
 *
 * A call made inside the driver's actor (from a callback) is handled at once; from any other
 * thread its arguments are copied and dispatched into the actor, which handles them in arrival
 * order. Each update is kept, oldest first, until the agent acknowledges its uuid; while the
 * agent listens the list is sent again on a doubling timer, and a reconnecting agent gets it in
 * the ReregisterExecutorMessage (as Mesos's driver hands it over), along with every task whose
 * terminal update was not acknowledged.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "actor/log.h"
#include "actor/pbcopy.h"
#include "actor/uuid.h"
#include "frameworks/executor_driver_int.h"
#include "proto/task_states.h"

#define UUID_LEN      16
#define STAGING_ERROR "Attempted to send TASK_STAGING status update"

/* ---- the list of unacknowledged updates ---- */

static void update_keep(exec_state_t *st, Mesos__Internal__StatusUpdate *copy)
{
    exec_update_t *item = malloc(sizeof(*item));
    if (item == NULL) {
        LOG_ERROR("Out of memory keeping a status update of task %s: it will not be resent",
                  copy->status->task_id->value);
        mesos__internal__status_update__free_unpacked(copy, NULL);
        return;
    }
    item->update = copy;
    item->next = NULL;
    exec_update_t **tail = &st->updates;
    while (*tail != NULL)
        tail = &(*tail)->next;
    *tail = item;
}

/* Whether the agent can hear us: before registration (the agent is there, we hope), or
 * registered and connected; not while waiting for a restarted agent, nor once it is gone. */
static bool agent_listens(const exec_state_t *st)
{
    return !st->agent_gone && (!st->registered || st->connected);
}

static void send_update(exec_state_t *st, Mesos__Internal__StatusUpdate *u)
{
    Mesos__Internal__StatusUpdateMessage m = MESOS__INTERNAL__STATUS_UPDATE_MESSAGE__INIT;
    char pid[ACTOR_PID_STRLEN];
    m.update = u;
    m.pid = actor_pid_format(actor_self(st->self), pid, sizeof(pid));
    exec_send(st, &m.base);
}

static void resend_tick(actor_t *self, void *state, void *arg);

/* Arms the resend timer when updates wait and the agent listens. */
static void arm_resend(exec_state_t *st)
{
    if (st->update_timer != 0 || st->updates == NULL || !agent_listens(st) || st->stop_pending)
        return;
    st->update_timer = actor_delay(st->self, st->update_retry_ns, resend_tick, NULL);
    if (st->update_timer == 0)
        LOG_ERROR("Out of memory arming the status update retry");
}

static void resend_tick(actor_t *self, void *state, void *arg)
{
    (void)arg;
    if (self == NULL)
        return;
    exec_state_t *st = state;
    st->update_timer = 0;
    if (st->updates == NULL || !agent_listens(st) || st->stop_pending)
        return;
    size_t n = 0;
    for (exec_update_t *u = st->updates; u != NULL; u = u->next, n++)
        send_update(st, u->update);
    LOG_INFO("Resent %zu unacknowledged status update%s", n, n == 1 ? "" : "s");
    st->update_retry_ns = st->update_retry_ns * 2 > st->update_retry_max_ns
                              ? st->update_retry_max_ns
                              : st->update_retry_ns * 2;
    arm_resend(st);
}

void exec_updates_resend(exec_state_t *st)
{
    if (st->update_timer != 0)
        actor_timer_cancel(st->update_timer);
    st->update_timer = 0;
    st->update_retry_ns = st->update_retry_min_ns;
    arm_resend(st);
}

actor_err_t exec_update_send(exec_state_t *st, const Mesos__TaskStatus *status)
{
    Mesos__TaskStatus s = *status; /* shallow: the fields the driver sets are replaced */
    Mesos__ExecutorID eid = MESOS__EXECUTOR_ID__INIT;
    Mesos__FrameworkID fid = MESOS__FRAMEWORK_ID__INIT;
    Mesos__AgentID aid = MESOS__AGENT_ID__INIT;
    Mesos__Internal__StatusUpdate u = MESOS__INTERNAL__STATUS_UPDATE__INIT;
    uint8_t uuid[UUID_LEN];
    actor_uuid_bytes(uuid);
    eid.value = st->executor_id;
    fid.value = st->framework_id;
    aid.value = st->agent_id;
    s.has_source = true;
    s.source = MESOS__TASK_STATUS__SOURCE__SOURCE_EXECUTOR;
    s.has_uuid = u.has_uuid = true;
    s.uuid = u.uuid = (ProtobufCBinaryData){UUID_LEN, uuid};
    s.has_timestamp = true;
    s.timestamp = u.timestamp = (double)actor_clock_wall() / (double)ACTOR_NS_PER_SEC;
    s.executor_id = u.executor_id = &eid;
    s.agent_id = u.agent_id = st->agent_id != NULL ? &aid : NULL;
    u.framework_id = &fid;
    u.status = &s;
    Mesos__Internal__StatusUpdate *copy = PB_COPY(Mesos__Internal__StatusUpdate, &u);
    if (copy == NULL)
        return ACTOR_ENOMEM;
    LOG_INFO("Sending %s of task %s%s%s", mesos_task_state_name(s.state), s.task_id->value,
             s.message != NULL ? ": " : "", s.message != NULL ? s.message : "");
    if (agent_listens(st))
        send_update(st, copy);
    update_keep(st, copy); /* last: it may free copy */
    arm_resend(st);
    return ACTOR_OK;
}

void exec_lists_free(exec_state_t *st)
{
    while (st->updates != NULL) {
        exec_update_t *next = st->updates->next;
        mesos__internal__status_update__free_unpacked(st->updates->update, NULL);
        free(st->updates);
        st->updates = next;
    }
    while (st->tasks != NULL) {
        exec_task_t *next = st->tasks->next;
        mesos__task_info__free_unpacked(st->tasks->info, NULL);
        free(st->tasks);
        st->tasks = next;
    }
}

/* ---- acknowledgements and reregistration ---- */

static void task_forget(exec_state_t *st, const char *task_id)
{
    for (exec_task_t **p = &st->tasks; *p != NULL; p = &(*p)->next) {
        if (strcmp((*p)->info->task_id->value, task_id) == 0) {
            exec_task_t *done = *p;
            *p = done->next;
            mesos__task_info__free_unpacked(done->info, NULL);
            free(done);
            return;
        }
    }
}

static exec_update_t **update_find(exec_state_t *st, ProtobufCBinaryData uuid)
{
    exec_update_t **p = &st->updates;
    while (*p != NULL && !(uuid.len == UUID_LEN && (*p)->update->uuid.len == UUID_LEN &&
                           memcmp((*p)->update->uuid.data, uuid.data, UUID_LEN) == 0))
        p = &(*p)->next;
    return p;
}

void exec_on_ack(actor_t *self, void *state, const actor_pid_t *from, const ProtobufCMessage *msg)
{
    (void)self;
    exec_state_t *st = state;
    const Mesos__Internal__StatusUpdateAcknowledgementMessage *m = (const void *)msg;
    if (!exec_from_agent(st, from, "an acknowledgement") || st->stop_pending)
        return;
    exec_update_t **p = update_find(st, m->uuid);
    if (*p == NULL) {
        VLOG(1, "Ignoring an acknowledgement of an unknown status update of task %s",
             m->task_id->value);
        return;
    }
    exec_update_t *acked = *p;
    *p = acked->next;
    const Mesos__TaskStatus *status = acked->update->status;
    if (mesos_task_state_terminal((int)status->state))
        task_forget(st, status->task_id->value);
    if (st->updates == NULL)
        exec_updates_resend(st); /* nothing left: the timer goes, the backoff starts again */
    executor_driver_t *previous = exec_enter(st);
    executor_driver_t *d = st->d;
    if (exec_callbacks_on(d) && d->cbs.acknowledged != NULL)
        d->cbs.acknowledged(d, d->user, status);
    exec_leave(st, previous);
    mesos__internal__status_update__free_unpacked(acked->update, NULL);
    free(acked);
}

void exec_send_reregister(exec_state_t *st)
{
    size_t n_updates = 0, n_tasks = 0;
    for (exec_update_t *u = st->updates; u != NULL; u = u->next)
        n_updates++;
    for (exec_task_t *t = st->tasks; t != NULL; t = t->next)
        n_tasks++;
    Mesos__Internal__StatusUpdate **updates = calloc(n_updates + 1, sizeof(*updates));
    Mesos__TaskInfo **tasks = calloc(n_tasks + 1, sizeof(*tasks));
    if (updates == NULL || tasks == NULL) {
        LOG_ERROR("Out of memory answering a reconnect request");
        free(updates);
        free(tasks);
        return;
    }
    n_updates = n_tasks = 0;
    for (exec_update_t *u = st->updates; u != NULL; u = u->next)
        updates[n_updates++] = u->update;
    for (exec_task_t *t = st->tasks; t != NULL; t = t->next)
        tasks[n_tasks++] = t->info;
    Mesos__FrameworkID fid = MESOS__FRAMEWORK_ID__INIT;
    Mesos__ExecutorID eid = MESOS__EXECUTOR_ID__INIT;
    Mesos__Internal__ReregisterExecutorMessage r =
        MESOS__INTERNAL__REREGISTER_EXECUTOR_MESSAGE__INIT;
    fid.value = st->framework_id;
    eid.value = st->executor_id;
    r.framework_id = &fid;
    r.executor_id = &eid;
    r.n_tasks = n_tasks;
    r.tasks = tasks;
    r.n_updates = n_updates;
    r.updates = updates;
    exec_send(st, &r.base);
    free(updates);
    free(tasks);
}

/* ---- the calls ---- */

/* As Mesos's driver: an executor may not claim TASK_STAGING, which the agent alone reports. */
static void staging_error(exec_state_t *st)
{
    executor_driver_t *d = st->d;
    LOG_ERROR("Executor is not allowed to send TASK_STAGING status update. Aborting!");
    if (exec_callbacks_on(d) && d->cbs.error != NULL)
        d->cbs.error(d, d->user, STAGING_ERROR);
    exec_abort(st);
}

static void update_dispatched(actor_t *self, void *state, void *arg)
{
    Mesos__TaskStatus *status = arg;
    if (self != NULL) {
        exec_state_t *st = state;
        executor_driver_t *previous = exec_enter(st);
        if (status->state == MESOS__TASK_STATE__TASK_STAGING)
            staging_error(st);
        else if (!st->stop_pending && exec_update_send(st, status) != ACTOR_OK)
            LOG_ERROR("Out of memory sending a status update of task %s", status->task_id->value);
        exec_leave(st, previous);
    }
    mesos__task_status__free_unpacked(status, NULL);
}

actor_err_t executor_driver_send_status_update(executor_driver_t *d,
                                               const Mesos__TaskStatus *status)
{
    if (d == NULL || status == NULL || status->task_id == NULL || status->task_id->value == NULL)
        return ACTOR_EINVAL;
    if (!exec_running(d))
        return ACTOR_ECLOSED;
    bool staging = status->state == MESOS__TASK_STATE__TASK_STAGING;
    if (exec_driver_running == d) {
        if (staging) {
            staging_error(d->st);
            return ACTOR_EINVAL;
        }
        return exec_update_send(d->st, status);
    }
    Mesos__TaskStatus *copy = PB_COPY(Mesos__TaskStatus, status);
    if (copy == NULL)
        return ACTOR_ENOMEM;
    if (actor_dispatch(&d->pid, update_dispatched, copy) != ACTOR_OK) {
        mesos__task_status__free_unpacked(copy, NULL);
        return ACTOR_ECLOSED;
    }
    return staging ? ACTOR_EINVAL : ACTOR_OK;
}

typedef struct message_arg {
    size_t len;
    uint8_t data[];
} message_arg_t;

static void message_send(exec_state_t *st, const void *data, size_t len)
{
    if (st->agent_id == NULL || !agent_listens(st) || st->stop_pending) {
        LOG_WARNING("Dropping a framework message: %s", st->agent_id == NULL
                                                            ? "the agent's id is not known yet"
                                                            : "the agent is not connected");
        return;
    }
    Mesos__AgentID aid = MESOS__AGENT_ID__INIT;
    Mesos__FrameworkID fid = MESOS__FRAMEWORK_ID__INIT;
    Mesos__ExecutorID eid = MESOS__EXECUTOR_ID__INIT;
    Mesos__Internal__ExecutorToFrameworkMessage m =
        MESOS__INTERNAL__EXECUTOR_TO_FRAMEWORK_MESSAGE__INIT;
    aid.value = st->agent_id;
    fid.value = st->framework_id;
    eid.value = st->executor_id;
    m.agent_id = &aid;
    m.framework_id = &fid;
    m.executor_id = &eid;
    m.data = (ProtobufCBinaryData){len, (uint8_t *)data};
    exec_send(st, &m.base);
}

static void message_dispatched(actor_t *self, void *state, void *arg)
{
    message_arg_t *m = arg;
    if (self != NULL)
        message_send(state, m->data, m->len);
    free(m);
}

actor_err_t executor_driver_send_framework_message(executor_driver_t *d, const void *data,
                                                   size_t len)
{
    if (d == NULL || (data == NULL && len > 0))
        return ACTOR_EINVAL;
    if (!exec_running(d))
        return ACTOR_ECLOSED;
    if (exec_driver_running == d) {
        message_send(d->st, data, len);
        return ACTOR_OK;
    }
    message_arg_t *m = malloc(sizeof(*m) + len);
    if (m == NULL)
        return ACTOR_ENOMEM;
    m->len = len;
    if (len > 0)
        memcpy(m->data, data, len);
    if (actor_dispatch(&d->pid, message_dispatched, m) != ACTOR_OK) {
        free(m);
        return ACTOR_ECLOSED;
    }
    return ACTOR_OK;
}
