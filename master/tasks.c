/*
 * tasks.c: tasks: their bookkeeping (active, completed, unreachable), status updates from
 * agents and acknowledgements from frameworks, KILL, and reconciliation.
 */
#include <stdlib.h>
#include <string.h>

#include <utlist.h>

#include "actor/log.h"
#include "master/master_int.h"
#include "proto/task_states.h"

#define MAX_STATUS_HISTORY 32

bool master_state_terminal(int state)
{
    return mesos_task_state_terminal(state);
}

const char *master_state_name(int state)
{
    return mesos_task_state_name(state);
}

/* ---- bookkeeping ---- */

void master_task_free(master_task_t *task)
{
    if (task->agent_id_owned)
        free((char *)task->agent_id);
    packed_fini(&task->resources);
    free(task->status);
    free(task->statuses);
    free(task->extra);
    free(task);
}

void master_ring_push(master_task_ring_t *ring, master_task_t *task)
{
    DL_APPEND2(ring->head, task, ring_prev, ring_next);
    if (++ring->count > ring->limit) {
        master_task_t *oldest = ring->head;
        DL_DELETE2(ring->head, oldest, ring_prev, ring_next);
        ring->count--;
        master_task_free(oldest);
    }
}

void master_ring_clear(master_task_ring_t *ring)
{
    while (ring->head != NULL) {
        master_task_t *task = ring->head;
        DL_DELETE2(ring->head, task, ring_prev, ring_next);
        master_task_free(task);
    }
    ring->count = 0;
}

static void history_append(master_task_t *task, int state, double timestamp, bool has_healthy,
                           bool healthy)
{
    if (task->status_count > 0) {
        master_status_entry_t *last = &task->statuses[task->status_count - 1];
        if (last->state == state && last->has_healthy == has_healthy && last->healthy == healthy)
            return;
    }
    if (task->status_count == MAX_STATUS_HISTORY) {
        memmove(task->statuses, task->statuses + 1,
                (MAX_STATUS_HISTORY - 1) * sizeof(*task->statuses));
        task->status_count--;
    }
    /* Room for two entries from the start (staging, then running: most tasks need no more),
     * then exactly as many as there are. */
    size_t count = task->status_count;
    size_t room = task->statuses == NULL ? 0 : count < 2 ? 2 : count;
    if (count + 1 > room) {
        size_t want = count + 1 < 2 ? 2 : count + 1;
        master_status_entry_t *grown = realloc(task->statuses, want * sizeof(*task->statuses));
        if (grown == NULL)
            return;
        task->statuses = grown;
    }
    task->statuses[task->status_count++] = (master_status_entry_t){.timestamp = timestamp,
                                                                   .state = (uint8_t)state,
                                                                   .has_healthy = has_healthy,
                                                                   .healthy = healthy};
}

/* Keeps status as the task's latest, packed without what the master need not keep: the data
 * (Mesos drops it too) and the ids the task knows. */
static void keep_status(master_task_t *task, const Mesos__TaskStatus *status)
{
    Mesos__TaskStatus trimmed = *status;
    Mesos__TaskID tid = MESOS__TASK_ID__INIT;
    tid.value = "";
    trimmed.task_id = &tid;
    trimmed.agent_id = NULL;
    trimmed.has_data = false;
    size_t len = mesos__task_status__get_packed_size(&trimmed);
    uint8_t *packed = len <= UINT32_MAX ? malloc(len) : NULL;
    if (packed == NULL)
        return; /* the previous status stays */
    mesos__task_status__pack(&trimmed, packed);
    free(task->status);
    task->status = packed;
    task->status_len = (uint32_t)len;
}

/* Packs the TaskInfo fields /state shows that most tasks lack, so that those tasks pay nothing
 * for them. */
static void keep_extra(master_task_t *task, Mesos__Labels *labels, Mesos__DiscoveryInfo *discovery,
                       Mesos__HealthCheck *health_check, Mesos__KillPolicy *kill_policy, char *user)
{
    if (labels == NULL && discovery == NULL && health_check == NULL && kill_policy == NULL &&
        user == NULL)
        return;
    Mesos__Task extra = MESOS__TASK__INIT;
    Mesos__TaskID tid = MESOS__TASK_ID__INIT;
    Mesos__FrameworkID fid = MESOS__FRAMEWORK_ID__INIT;
    Mesos__AgentID aid = MESOS__AGENT_ID__INIT;
    tid.value = fid.value = aid.value = "";
    extra.name = "";
    extra.task_id = &tid;
    extra.framework_id = &fid;
    extra.agent_id = &aid;
    extra.labels = labels;
    extra.discovery = discovery;
    extra.health_check = health_check;
    extra.kill_policy = kill_policy;
    extra.user = user;
    size_t len = mesos__task__get_packed_size(&extra);
    task->extra = len <= UINT32_MAX ? malloc(len) : NULL;
    if (task->extra != NULL) {
        mesos__task__pack(&extra, task->extra);
        task->extra_len = (uint32_t)len;
    }
}

/* A task struct with its strings after it, in one block. */
static master_task_t *task_alloc(const char *id, const char *name, const char *executor_id)
{
    size_t id_len = strlen(id) + 1, name_len = strlen(name) + 1;
    size_t exec_len = executor_id != NULL ? strlen(executor_id) + 1 : 0;
    master_task_t *task = calloc(1, sizeof(*task) + id_len + name_len + exec_len);
    if (task == NULL)
        return NULL;
    char *at = (char *)(task + 1);
    task->id = memcpy(at, id, id_len);
    task->name = memcpy(at + id_len, name, name_len);
    if (executor_id != NULL)
        task->executor_id = memcpy(at + id_len + name_len, executor_id, exec_len);
    packed_init(&task->resources);
    return task;
}

static master_task_t *task_new(master_framework_t *fw, master_agent_t *agent, const char *id,
                               const char *name, const char *executor_id,
                               Mesos__Resource *const *res, size_t res_count, int state)
{
    master_task_t *task = task_alloc(id, name != NULL ? name : "", executor_id);
    resources_t r;
    if (task == NULL || resources_from_proto(&r, res, res_count, NULL, 0) != ACTOR_OK) {
        free(task);
        return NULL;
    }
    actor_err_t err = packed_set(&task->resources, &r);
    resources_fini(&r);
    if (err != ACTOR_OK) {
        master_task_free(task);
        return NULL;
    }
    task->framework = fw;
    task->agent = agent;
    task->agent_id = agent->id;
    task->state = (uint8_t)state;
    history_append(task, state, master_now(), false, false);
    HASH_ADD_KEYPTR(hh, fw->tasks, task->id, strlen(task->id), task);
    DL_APPEND2(agent->tasks, task, agent_prev, agent_next);
    agent->task_count++;
    if (!master_state_terminal(state)) {
        resources_add(&agent->used, &task->resources.r);
        resources_add(&fw->used, &task->resources.r);
    }
    return task;
}

master_task_t *master_task_add(master_framework_t *fw, master_agent_t *agent,
                               const Mesos__TaskInfo *info, int state)
{
    master_task_t *task =
        task_new(fw, agent, info->task_id->value, info->name,
                 info->executor != NULL ? info->executor->executor_id->value : NULL,
                 info->resources, info->n_resources, state);
    if (task != NULL)
        keep_extra(task, info->labels, info->discovery, info->health_check, info->kill_policy,
                   info->command != NULL ? info->command->user : NULL);
    return task;
}

master_task_t *master_task_add_reported(master_framework_t *fw, master_agent_t *agent,
                                        const Mesos__Task *t)
{
    master_task_t *task = task_new(fw, agent, t->task_id->value, t->name,
                                   t->executor_id != NULL ? t->executor_id->value : NULL,
                                   t->resources, t->n_resources, t->state);
    if (task == NULL)
        return NULL;
    keep_extra(task, t->labels, t->discovery, t->health_check, t->kill_policy, t->user);
    if (t->n_statuses > 0)
        keep_status(task, t->statuses[t->n_statuses - 1]);
    return task;
}

/* ---- state changes ---- */

void master_task_update(actor_t *self, master_t *m, master_task_t *task,
                        const Mesos__TaskStatus *status)
{
    (void)self;
    int previous = task->state;
    bool was_terminal = master_state_terminal(task->state);
    keep_status(task, status);
    task->state = (uint8_t)status->state;
    history_append(task, status->state, status->has_timestamp ? status->timestamp : master_now(),
                   status->has_healthy, status->healthy);
    if (!was_terminal && master_state_terminal(task->state)) {
        m->counters.tasks_by_state[task->state & 15]++;
        if (task->agent != NULL) {
            resources_subtract(&task->agent->used, &task->resources.r);
            resources_subtract(&task->framework->used, &task->resources.r);
            allocator_actor_recover(&m->allocator, task->framework->id, task->agent->id,
                                    &task->resources.r, 0);
        }
    }
    if (task->state != previous)
        master_event_task_updated(m, task, status);
}

void master_task_transition(actor_t *self, master_t *m, master_task_t *task, int state, int reason,
                            const char *message, bool tell)
{
    double now = master_now();
    Mesos__TaskStatus status = MESOS__TASK_STATUS__INIT;
    Mesos__TaskID tid = MESOS__TASK_ID__INIT;
    Mesos__AgentID aid = MESOS__AGENT_ID__INIT;
    Mesos__TimeInfo when = MESOS__TIME_INFO__INIT;
    tid.value = (char *)task->id;
    aid.value = (char *)task->agent_id;
    status.task_id = &tid;
    status.agent_id = &aid;
    status.state = (Mesos__TaskState)state;
    status.has_reason = true;
    status.reason = (Mesos__TaskStatus__Reason)reason;
    status.has_source = true;
    status.source = MESOS__TASK_STATUS__SOURCE__SOURCE_MASTER;
    status.has_timestamp = true;
    status.timestamp = now;
    status.message = (char *)message;
    if (state == MESOS__TASK_STATE__TASK_UNREACHABLE) {
        when.nanoseconds = (int64_t)(now * 1e9);
        status.unreachable_time = &when;
        task->unreachable_time = now;
    }
    master_task_update(self, m, task, &status);
    if (tell)
        master_send_status(self, task->framework, &status);
}

void master_task_retire(master_task_t *task, bool unreachable)
{
    master_framework_t *fw = task->framework;
    HASH_DEL(fw->tasks, task);
    if (task->agent != NULL) {
        if (!master_state_terminal(task->state)) {
            resources_subtract(&task->agent->used, &task->resources.r);
            resources_subtract(&fw->used, &task->resources.r);
        }
        DL_DELETE2(task->agent->tasks, task, agent_prev, agent_next);
        task->agent->task_count--;
        /* The agent may go before the task does: keep its id. */
        char *id = strdup(task->agent->id);
        task->agent_id = id != NULL ? id : "";
        task->agent_id_owned = id != NULL;
        task->agent = NULL;
    }
    master_ring_push(unreachable ? &fw->unreachable_tasks : &fw->completed_tasks, task);
}

/* ---- status updates ---- */

void master_handle_status_update(actor_t *self, void *state, const actor_pid_t *from,
                                 const ProtobufCMessage *msg)
{
    master_t *m = state;
    const Mesos__Internal__StatusUpdate *update =
        ((const Mesos__Internal__StatusUpdateMessage *)msg)->update;
    m->counters.messages_status_update++;
    master_agent_t *agent = master_agent_find_pid(m, from);
    master_framework_t *fw = master_framework_find(m, update->framework_id->value);
    if (agent == NULL || fw == NULL || agent->removing) {
        m->counters.invalid_status_updates++;
        LOG_WARNING("Ignoring a status update for task %s of framework %s from %s: %s",
                    update->status->task_id->value, update->framework_id->value, from->id,
                    agent == NULL ? "unknown agent"
                    : fw == NULL  ? "unknown framework"
                                  : "agent being removed");
        return;
    }
    m->counters.valid_status_updates++;
    Mesos__TaskStatus status = *update->status;
    Mesos__AgentID aid = MESOS__AGENT_ID__INIT;
    if (status.agent_id == NULL) {
        aid.value = agent->id;
        status.agent_id = &aid;
    }
    if (status.uuid.data == NULL && update->has_uuid) {
        status.has_uuid = true;
        status.uuid = update->uuid;
    }
    master_task_t *task = NULL;
    HASH_FIND_STR(fw->tasks, status.task_id->value, task);
    if (task != NULL) {
        Mesos__TaskStatus latest = status;
        if (update->has_latest_state)
            latest.state = update->latest_state;
        master_task_update(self, m, task, &latest);
        task->status_update_state = status.state;
        task->status_update_uuid_len = 0;
        if (status.has_uuid && status.uuid.len <= sizeof(task->status_update_uuid)) {
            memcpy(task->status_update_uuid, status.uuid.data, status.uuid.len);
            task->status_update_uuid_len = status.uuid.len;
        }
    }
    master_send_status(self, fw, &status);
}

void master_handle_exited_executor(actor_t *self, void *state, const actor_pid_t *from,
                                   const ProtobufCMessage *msg)
{
    master_t *m = state;
    const Mesos__Internal__ExitedExecutorMessage *ex =
        (const Mesos__Internal__ExitedExecutorMessage *)msg;
    master_agent_t *agent = master_agent_find_pid(m, from);
    master_framework_t *fw = master_framework_find(m, ex->framework_id->value);
    if (agent == NULL || fw == NULL)
        return;
    Mesos__Scheduler__Event__Failure failure = MESOS__SCHEDULER__EVENT__FAILURE__INIT;
    failure.agent_id = ex->agent_id;
    failure.executor_id = ex->executor_id;
    failure.has_status = true;
    failure.status = ex->status;
    Mesos__Scheduler__Event ev = MESOS__SCHEDULER__EVENT__INIT;
    ev.has_type = true;
    ev.type = MESOS__SCHEDULER__EVENT__TYPE__FAILURE;
    ev.failure = &failure;
    master_send_event(self, fw, &ev);
}

void master_handle_acknowledge(actor_t *self, master_t *m, master_framework_t *fw,
                               const Mesos__Scheduler__Call__Acknowledge *ack)
{
    master_agent_t *agent = master_agent_find(m, ack->agent_id->value);
    if (agent == NULL) {
        m->counters.invalid_acknowledgements++;
        LOG_WARNING("Framework %s acknowledged an update of task %s on unknown agent %s", fw->id,
                    ack->task_id->value, ack->agent_id->value);
        return;
    }
    m->counters.valid_acknowledgements++;
    Mesos__Internal__StatusUpdateAcknowledgementMessage msg =
        MESOS__INTERNAL__STATUS_UPDATE_ACKNOWLEDGEMENT_MESSAGE__INIT;
    msg.agent_id = ack->agent_id;
    msg.framework_id = fw->info->id;
    msg.task_id = ack->task_id;
    msg.uuid = ack->uuid;
    if (agent->connected)
        actor_send(self, &agent->pid, &msg.base);
    master_task_t *task = NULL;
    HASH_FIND_STR(fw->tasks, ack->task_id->value, task);
    if (task != NULL && master_state_terminal(task->status_update_state) &&
        task->status_update_uuid_len == ack->uuid.len &&
        memcmp(task->status_update_uuid, ack->uuid.data, ack->uuid.len) == 0)
        master_task_retire(task, false);
}

/* ---- KILL ---- */

void master_handle_kill(actor_t *self, master_t *m, master_framework_t *fw,
                        const Mesos__Scheduler__Call__Kill *kill)
{
    master_task_t *task = NULL;
    HASH_FIND_STR(fw->tasks, kill->task_id->value, task);
    master_agent_t *agent =
        task != NULL ? task->agent
                     : master_agent_find(m, kill->agent_id != NULL ? kill->agent_id->value : NULL);
    if (agent == NULL) {
        int state =
            fw->partition_aware ? MESOS__TASK_STATE__TASK_UNKNOWN : MESOS__TASK_STATE__TASK_LOST;
        master_send_update(self, fw, kill->task_id->value,
                           kill->agent_id != NULL ? kill->agent_id->value : NULL, state,
                           MESOS__TASK_STATUS__REASON__REASON_RECONCILIATION,
                           "Attempted to kill an unknown task");
        return;
    }
    Mesos__Internal__KillTaskMessage msg = MESOS__INTERNAL__KILL_TASK_MESSAGE__INIT;
    msg.framework_id = fw->info->id;
    msg.task_id = kill->task_id;
    msg.kill_policy = kill->kill_policy;
    if (agent->connected)
        actor_send(self, &agent->pid, &msg.base);
}

/* ---- reconciliation ---- */

static void reconcile_answer(actor_t *self, master_framework_t *fw, master_task_t *task)
{
    int state = task->state;
    if (task->unreachable_time > 0 && !fw->partition_aware)
        state = MESOS__TASK_STATE__TASK_LOST;
    master_send_update(self, fw, task->id, task->agent_id, state,
                       MESOS__TASK_STATUS__REASON__REASON_RECONCILIATION,
                       "Reconciliation: latest task state");
}

static master_task_t *ring_find(master_task_ring_t *ring, const char *id)
{
    for (master_task_t *t = ring->head; t != NULL; t = t->ring_next) {
        if (strcmp(t->id, id) == 0)
            return t;
    }
    return NULL;
}

void master_handle_reconcile(actor_t *self, master_t *m, master_framework_t *fw,
                             const Mesos__Scheduler__Call__Reconcile *reconcile)
{
    if (reconcile->n_tasks == 0) {
        for (master_task_t *t = fw->tasks; t != NULL; t = t->hh.next)
            reconcile_answer(self, fw, t);
        for (master_task_t *t = fw->unreachable_tasks.head; t != NULL; t = t->ring_next)
            reconcile_answer(self, fw, t);
        return;
    }
    for (size_t i = 0; i < reconcile->n_tasks; i++) {
        const Mesos__Scheduler__Call__Reconcile__Task *rt = reconcile->tasks[i];
        const char *id = rt->task_id->value;
        const char *agent_id = rt->agent_id != NULL ? rt->agent_id->value : NULL;
        master_task_t *task = NULL;
        HASH_FIND_STR(fw->tasks, id, task);
        if (task == NULL)
            task = ring_find(&fw->unreachable_tasks, id);
        if (task != NULL) {
            reconcile_answer(self, fw, task);
            continue;
        }
        /* Unknown to the master. While an agent the registry remembers has not reregistered,
         * its tasks are not known yet: say nothing, as Mesos does. */
        master_agent_mark_t *mark = NULL;
        if (agent_id != NULL)
            HASH_FIND_STR(m->recovered, agent_id, mark);
        if (mark != NULL)
            continue;
        master_agent_mark_t *unreachable = NULL, *gone = NULL;
        if (agent_id != NULL) {
            HASH_FIND_STR(m->unreachable, agent_id, unreachable);
            HASH_FIND_STR(m->gone, agent_id, gone);
        }
        int state = unreachable != NULL ? MESOS__TASK_STATE__TASK_UNREACHABLE
                    : gone != NULL      ? MESOS__TASK_STATE__TASK_GONE
                                        : MESOS__TASK_STATE__TASK_UNKNOWN;
        if (!fw->partition_aware)
            state = MESOS__TASK_STATE__TASK_LOST;
        master_send_update(self, fw, id, agent_id, state,
                           MESOS__TASK_STATUS__REASON__REASON_RECONCILIATION,
                           "Reconciliation: task is unknown");
    }
}
