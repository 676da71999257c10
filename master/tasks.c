/*
 * tasks.c: tasks: their bookkeeping (active, completed, unreachable), status updates from
 * agents and acknowledgements from frameworks, KILL, and reconciliation.
 */
#include <stdlib.h>
#include <string.h>

#include <utlist.h>

#include "actor/log.h"
#include "actor/pbcopy.h"
#include "master/master_int.h"

#define MAX_STATUS_HISTORY 32

bool master_state_terminal(int state)
{
    switch (state) {
    case MESOS__TASK_STATE__TASK_FINISHED:
    case MESOS__TASK_STATE__TASK_FAILED:
    case MESOS__TASK_STATE__TASK_KILLED:
    case MESOS__TASK_STATE__TASK_ERROR:
    case MESOS__TASK_STATE__TASK_LOST:
    case MESOS__TASK_STATE__TASK_DROPPED:
    case MESOS__TASK_STATE__TASK_GONE:
    case MESOS__TASK_STATE__TASK_GONE_BY_OPERATOR:
        return true;
    default:
        return false;
    }
}

const char *master_state_name(int state)
{
    const ProtobufCEnumValue *v =
        protobuf_c_enum_descriptor_get_value(&mesos__task_state__descriptor, state);
    return v != NULL ? v->name : "TASK_UNKNOWN";
}

/* ---- bookkeeping ---- */

void master_task_free(master_task_t *task)
{
    free(task->id);
    free(task->name);
    free(task->executor_id);
    free(task->agent_id);
    resources_fini(&task->resources);
    if (task->status != NULL)
        mesos__task_status__free_unpacked(task->status, NULL);
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
    master_status_entry_t *grown =
        realloc(task->statuses, (task->status_count + 1) * sizeof(*task->statuses));
    if (grown == NULL)
        return;
    task->statuses = grown;
    task->statuses[task->status_count++] = (master_status_entry_t){
        .state = state, .timestamp = timestamp, .has_healthy = has_healthy, .healthy = healthy};
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
    task->extra = malloc(len);
    if (task->extra != NULL) {
        mesos__task__pack(&extra, task->extra);
        task->extra_len = len;
    }
}

static master_task_t *task_new(master_framework_t *fw, master_agent_t *agent, const char *id,
                               const char *name, const char *executor_id,
                               Mesos__Resource *const *res, size_t res_count, int state)
{
    master_task_t *task = calloc(1, sizeof(*task));
    if (task == NULL)
        return NULL;
    resources_init(&task->resources);
    task->id = strdup(id);
    task->name = strdup(name != NULL ? name : "");
    task->agent_id = strdup(agent->id);
    task->executor_id = executor_id != NULL ? strdup(executor_id) : NULL;
    if (task->id == NULL || task->name == NULL || task->agent_id == NULL ||
        (executor_id != NULL && task->executor_id == NULL) ||
        resources_from_proto(&task->resources, res, res_count, NULL, 0) != ACTOR_OK) {
        master_task_free(task);
        return NULL;
    }
    task->framework = fw;
    task->agent = agent;
    task->state = state;
    history_append(task, state, master_now(), false, false);
    HASH_ADD_KEYPTR(hh, fw->tasks, task->id, strlen(task->id), task);
    DL_APPEND2(agent->tasks, task, agent_prev, agent_next);
    agent->task_count++;
    if (!master_state_terminal(state)) {
        resources_add(&agent->used, &task->resources);
        resources_add(&fw->used, &task->resources);
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
        task->status = PB_COPY(Mesos__TaskStatus, t->statuses[t->n_statuses - 1]);
    return task;
}

/* ---- state changes ---- */

void master_task_update(actor_t *self, master_t *m, master_task_t *task,
                        const Mesos__TaskStatus *status)
{
    (void)self;
    bool was_terminal = master_state_terminal(task->state);
    Mesos__TaskStatus *copy = PB_COPY(Mesos__TaskStatus, status);
    if (copy != NULL) {
        if (task->status != NULL)
            mesos__task_status__free_unpacked(task->status, NULL);
        task->status = copy;
    }
    task->state = status->state;
    history_append(task, status->state, status->has_timestamp ? status->timestamp : master_now(),
                   status->has_healthy, status->healthy);
    if (!was_terminal && master_state_terminal(task->state)) {
        m->counters.tasks_by_state[task->state & 15]++;
        if (task->agent != NULL) {
            resources_subtract(&task->agent->used, &task->resources);
            resources_subtract(&task->framework->used, &task->resources);
            allocator_actor_recover(&m->allocator, task->framework->id, task->agent->id,
                                    &task->resources, 0);
        }
    }
}

void master_task_transition(actor_t *self, master_t *m, master_task_t *task, int state, int reason,
                            const char *message, bool tell)
{
    double now = master_now();
    Mesos__TaskStatus status = MESOS__TASK_STATUS__INIT;
    Mesos__TaskID tid = MESOS__TASK_ID__INIT;
    Mesos__AgentID aid = MESOS__AGENT_ID__INIT;
    Mesos__TimeInfo when = MESOS__TIME_INFO__INIT;
    tid.value = task->id;
    aid.value = task->agent_id;
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
            resources_subtract(&task->agent->used, &task->resources);
            resources_subtract(&fw->used, &task->resources);
        }
        DL_DELETE2(task->agent->tasks, task, agent_prev, agent_next);
        task->agent->task_count--;
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
        LOG_WARNING("Framework %s acknowledged an update of task %s on unknown agent %s", fw->id,
                    ack->task_id->value, ack->agent_id->value);
        return;
    }
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
