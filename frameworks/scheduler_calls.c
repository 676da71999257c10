/*
 * scheduler_calls.c: the scheduler driver's calls. Each builds its mesos.scheduler.Call on the
 * stack and submits it: inside the driver's actor (from a callback) it is sent at once; from any
 * other thread it is copied and dispatched into the actor, which sends it in arrival order.
 * Either way the actor adds the framework id, or drops the call while not subscribed.
 */
#include <stdlib.h>
#include <string.h>

#include "actor/log.h"
#include "actor/pbcopy.h"
#include "frameworks/scheduler_int.h"

static const char *call_name(const Mesos__Scheduler__Call *call)
{
    const ProtobufCEnumValue *v =
        protobuf_c_enum_descriptor_get_value(&mesos__scheduler__call__type__descriptor, call->type);
    return v != NULL ? v->name : "UNKNOWN";
}

/* A message handed to the actor: a call to send (from outside the actor) or a synthesized
 * update to deliver (as an event of its own, not from inside the call that made it). */
static void message_dispatched(actor_t *self, void *state, void *arg)
{
    ProtobufCMessage *msg = arg;
    if (self != NULL) {
        driver_state_t *st = state;
        scheduler_driver_t *previous = driver_enter(st);
        if (msg->descriptor == &mesos__task_status__descriptor)
            driver_deliver_update(st, (Mesos__TaskStatus *)msg);
        else
            driver_send_call(st, (Mesos__Scheduler__Call *)msg);
        driver_leave(st, previous);
    }
    protobuf_c_message_free_unpacked(msg, NULL);
}

/* As Mesos's driver does for a launch while disconnected: each task is answered by an update
 * from the "master" saying it was dropped, so that the framework can launch it again. */
static void drop_task(driver_state_t *st, const Mesos__TaskInfo *task)
{
    Mesos__TaskStatus status = MESOS__TASK_STATUS__INIT;
    status.task_id = task->task_id;
    status.agent_id = task->agent_id;
    status.state =
        st->partition_aware ? MESOS__TASK_STATE__TASK_DROPPED : MESOS__TASK_STATE__TASK_LOST;
    status.has_source = true;
    status.source = MESOS__TASK_STATUS__SOURCE__SOURCE_MASTER;
    status.has_reason = true;
    status.reason = MESOS__TASK_STATUS__REASON__REASON_MASTER_DISCONNECTED;
    status.message = "Master disconnected";
    status.has_timestamp = true;
    status.timestamp = (double)actor_clock_wall() / (double)ACTOR_NS_PER_SEC;
    Mesos__TaskStatus *copy = PB_COPY(Mesos__TaskStatus, &status);
    if (copy == NULL ||
        actor_dispatch(actor_self(st->self), message_dispatched, copy) != ACTOR_OK) {
        LOG_ERROR("Cannot report task %s as dropped", task->task_id->value);
        if (copy != NULL)
            mesos__task_status__free_unpacked(copy, NULL);
    }
}

static void drop_call(driver_state_t *st, const Mesos__Scheduler__Call *call)
{
    LOG_INFO("Dropping a %s call: not subscribed to the master", call_name(call));
    if (call->type != MESOS__SCHEDULER__CALL__TYPE__ACCEPT || call->accept == NULL)
        return;
    for (size_t i = 0; i < call->accept->n_operations; i++) {
        const Mesos__Offer__Operation *op = call->accept->operations[i];
        for (size_t j = 0; op->launch != NULL && j < op->launch->n_task_infos; j++)
            drop_task(st, op->launch->task_infos[j]);
    }
}

void driver_acknowledgement(Mesos__Scheduler__Call *call, Mesos__Scheduler__Call__Acknowledge *ack,
                            const Mesos__TaskStatus *status)
{
    mesos__scheduler__call__acknowledge__init(ack);
    ack->agent_id = status->agent_id;
    ack->task_id = status->task_id;
    ack->uuid = status->uuid;
    mesos__scheduler__call__init(call);
    call->has_type = true;
    call->type = MESOS__SCHEDULER__CALL__TYPE__ACKNOWLEDGE;
    call->acknowledge = ack;
}

void driver_send_call(driver_state_t *st, Mesos__Scheduler__Call *call)
{
    if (!st->subscribed) {
        drop_call(st, call);
        return;
    }
    Mesos__FrameworkID *given = call->framework_id;
    call->framework_id = st->info->id;
    driver_send_raw(st, call);
    call->framework_id = given;
}

/* Sends call (borrowed) from the driver, from any thread. */
static actor_err_t submit(scheduler_driver_t *d, Mesos__Scheduler__Call *call)
{
    if (d == NULL)
        return ACTOR_EINVAL;
    if (!driver_callbacks_on(d))
        return ACTOR_ECLOSED;
    call->has_type = true;
    if (!protobuf_c_message_check(&call->base)) {
        LOG_WARNING("Refusing a %s call that lacks a required field", call_name(call));
        return ACTOR_EINVAL;
    }
    if (driver_running == d) {
        driver_send_call(d->st, call);
        return ACTOR_OK;
    }
    Mesos__Scheduler__Call *copy = PB_COPY(Mesos__Scheduler__Call, call);
    if (copy == NULL)
        return ACTOR_ENOMEM;
    if (actor_dispatch(&d->pid, message_dispatched, copy) != ACTOR_OK) {
        mesos__scheduler__call__free_unpacked(copy, NULL);
        return ACTOR_ECLOSED;
    }
    return ACTOR_OK;
}

/* Filters with refuse_seconds, or NULL (the master's default) when it is negative. */
static Mesos__Filters *filters_for(Mesos__Filters *filters, double refuse_seconds)
{
    if (refuse_seconds < 0)
        return NULL;
    mesos__filters__init(filters);
    filters->has_refuse_seconds = true;
    filters->refuse_seconds = refuse_seconds;
    return filters;
}

actor_err_t scheduler_driver_accept(scheduler_driver_t *d, const char *const *offer_ids,
                                    size_t offer_count, Mesos__Offer__Operation *const *operations,
                                    size_t operation_count, const Mesos__Filters *filters)
{
    if ((offer_count > 0 && offer_ids == NULL) || (operation_count > 0 && operations == NULL))
        return ACTOR_EINVAL;
    Mesos__OfferID *ids = calloc(offer_count + 1, sizeof(*ids));
    Mesos__OfferID **id_ptrs = calloc(offer_count + 1, sizeof(*id_ptrs));
    actor_err_t err = ids != NULL && id_ptrs != NULL ? ACTOR_OK : ACTOR_ENOMEM;
    for (size_t i = 0; i < offer_count && err == ACTOR_OK; i++) {
        mesos__offer_id__init(&ids[i]);
        ids[i].value = (char *)offer_ids[i];
        id_ptrs[i] = &ids[i];
        if (offer_ids[i] == NULL)
            err = ACTOR_EINVAL;
    }
    for (size_t i = 0; i < operation_count && err == ACTOR_OK; i++) {
        if (operations[i] == NULL)
            err = ACTOR_EINVAL;
    }
    if (err == ACTOR_OK) {
        Mesos__Scheduler__Call__Accept accept = MESOS__SCHEDULER__CALL__ACCEPT__INIT;
        accept.offer_ids = id_ptrs;
        accept.n_offer_ids = offer_count;
        accept.operations = (Mesos__Offer__Operation **)operations;
        accept.n_operations = operation_count;
        accept.filters = (Mesos__Filters *)filters;
        Mesos__Scheduler__Call call = MESOS__SCHEDULER__CALL__INIT;
        call.type = MESOS__SCHEDULER__CALL__TYPE__ACCEPT;
        call.accept = &accept;
        err = submit(d, &call);
    }
    free(ids);
    free(id_ptrs);
    return err;
}

actor_err_t scheduler_driver_launch(scheduler_driver_t *d, const char *const *offer_ids,
                                    size_t offer_count, Mesos__TaskInfo *const *tasks,
                                    size_t task_count, double refuse_seconds)
{
    if (task_count > 0 && tasks == NULL)
        return ACTOR_EINVAL;
    for (size_t i = 0; i < task_count; i++) {
        if (tasks[i] == NULL)
            return ACTOR_EINVAL;
    }
    Mesos__Offer__Operation__Launch launch = MESOS__OFFER__OPERATION__LAUNCH__INIT;
    launch.task_infos = (Mesos__TaskInfo **)tasks;
    launch.n_task_infos = task_count;
    Mesos__Offer__Operation op = MESOS__OFFER__OPERATION__INIT;
    op.has_type = true;
    op.type = MESOS__OFFER__OPERATION__TYPE__LAUNCH;
    op.launch = &launch;
    Mesos__Offer__Operation *ops[] = {&op};
    Mesos__Filters filters;
    return scheduler_driver_accept(d, offer_ids, offer_count, ops, 1,
                                   filters_for(&filters, refuse_seconds));
}

actor_err_t scheduler_driver_decline(scheduler_driver_t *d, const char *offer_id,
                                     double refuse_seconds)
{
    if (offer_id == NULL)
        return ACTOR_EINVAL;
    Mesos__OfferID id = MESOS__OFFER_ID__INIT;
    id.value = (char *)offer_id;
    Mesos__OfferID *ids[] = {&id};
    Mesos__Filters filters;
    Mesos__Scheduler__Call__Decline decline = MESOS__SCHEDULER__CALL__DECLINE__INIT;
    decline.offer_ids = ids;
    decline.n_offer_ids = 1;
    decline.filters = filters_for(&filters, refuse_seconds);
    Mesos__Scheduler__Call call = MESOS__SCHEDULER__CALL__INIT;
    call.type = MESOS__SCHEDULER__CALL__TYPE__DECLINE;
    call.decline = &decline;
    return submit(d, &call);
}

/* REVIVE or SUPPRESS of one role, or of every role. */
static actor_err_t roles_call(scheduler_driver_t *d, const char *role, bool revive)
{
    char *roles[] = {(char *)role};
    size_t count = role != NULL ? 1 : 0;
    Mesos__Scheduler__Call__Revive rev = MESOS__SCHEDULER__CALL__REVIVE__INIT;
    Mesos__Scheduler__Call__Suppress sup = MESOS__SCHEDULER__CALL__SUPPRESS__INIT;
    Mesos__Scheduler__Call call = MESOS__SCHEDULER__CALL__INIT;
    if (revive) {
        rev.roles = roles;
        rev.n_roles = count;
        call.type = MESOS__SCHEDULER__CALL__TYPE__REVIVE;
        call.revive = &rev;
    } else {
        sup.roles = roles;
        sup.n_roles = count;
        call.type = MESOS__SCHEDULER__CALL__TYPE__SUPPRESS;
        call.suppress = &sup;
    }
    return submit(d, &call);
}

actor_err_t scheduler_driver_revive(scheduler_driver_t *d, const char *role)
{
    return roles_call(d, role, true);
}

actor_err_t scheduler_driver_suppress(scheduler_driver_t *d, const char *role)
{
    return roles_call(d, role, false);
}

actor_err_t scheduler_driver_kill(scheduler_driver_t *d, const char *task_id, const char *agent_id)
{
    if (task_id == NULL)
        return ACTOR_EINVAL;
    Mesos__TaskID tid = MESOS__TASK_ID__INIT;
    Mesos__AgentID aid = MESOS__AGENT_ID__INIT;
    tid.value = (char *)task_id;
    aid.value = (char *)agent_id;
    Mesos__Scheduler__Call__Kill kill = MESOS__SCHEDULER__CALL__KILL__INIT;
    kill.task_id = &tid;
    kill.agent_id = agent_id != NULL ? &aid : NULL;
    Mesos__Scheduler__Call call = MESOS__SCHEDULER__CALL__INIT;
    call.type = MESOS__SCHEDULER__CALL__TYPE__KILL;
    call.kill = &kill;
    return submit(d, &call);
}

actor_err_t scheduler_driver_acknowledge(scheduler_driver_t *d, const Mesos__TaskStatus *status)
{
    if (d == NULL || status == NULL || status->task_id == NULL)
        return ACTOR_EINVAL;
    if (d->implicit_acks) {
        LOG_ERROR("Cannot acknowledge an update explicitly: implicit acknowledgements are on");
        return ACTOR_EINVAL;
    }
    if (!status->has_uuid || status->uuid.len == 0)
        return driver_callbacks_on(d) ? ACTOR_OK : ACTOR_ECLOSED; /* the master's own update */
    if (status->agent_id == NULL)
        return ACTOR_EINVAL;
    Mesos__Scheduler__Call__Acknowledge ack;
    Mesos__Scheduler__Call call;
    driver_acknowledgement(&call, &ack, status);
    return submit(d, &call);
}

/* One task of a RECONCILE call, with the ids it points to. */
typedef struct reconcile_entry {
    Mesos__Scheduler__Call__Reconcile__Task task;
    Mesos__TaskID task_id;
    Mesos__AgentID agent_id;
} reconcile_entry_t;

actor_err_t scheduler_driver_reconcile(scheduler_driver_t *d, const char *const *task_ids,
                                       const char *const *agent_ids, size_t count)
{
    if (count > 0 && task_ids == NULL)
        return ACTOR_EINVAL;
    for (size_t i = 0; i < count; i++) {
        if (task_ids[i] == NULL)
            return ACTOR_EINVAL;
    }
    reconcile_entry_t *entries = calloc(count + 1, sizeof(*entries));
    Mesos__Scheduler__Call__Reconcile__Task **tasks = calloc(count + 1, sizeof(*tasks));
    if (entries == NULL || tasks == NULL) {
        free(entries);
        free(tasks);
        return ACTOR_ENOMEM;
    }
    for (size_t i = 0; i < count; i++) {
        reconcile_entry_t *e = &entries[i];
        mesos__scheduler__call__reconcile__task__init(&e->task);
        mesos__task_id__init(&e->task_id);
        e->task_id.value = (char *)task_ids[i];
        e->task.task_id = &e->task_id;
        if (agent_ids != NULL && agent_ids[i] != NULL) {
            mesos__agent_id__init(&e->agent_id);
            e->agent_id.value = (char *)agent_ids[i];
            e->task.agent_id = &e->agent_id;
        }
        tasks[i] = &e->task;
    }
    Mesos__Scheduler__Call__Reconcile reconcile = MESOS__SCHEDULER__CALL__RECONCILE__INIT;
    reconcile.tasks = tasks;
    reconcile.n_tasks = count;
    Mesos__Scheduler__Call call = MESOS__SCHEDULER__CALL__INIT;
    call.type = MESOS__SCHEDULER__CALL__TYPE__RECONCILE;
    call.reconcile = &reconcile;
    actor_err_t err = submit(d, &call);
    free(entries);
    free(tasks);
    return err;
}

actor_err_t scheduler_driver_message(scheduler_driver_t *d, const char *agent_id,
                                     const char *executor_id, const void *data, size_t len)
{
    if (agent_id == NULL || executor_id == NULL || (len > 0 && data == NULL))
        return ACTOR_EINVAL;
    Mesos__AgentID aid = MESOS__AGENT_ID__INIT;
    Mesos__ExecutorID eid = MESOS__EXECUTOR_ID__INIT;
    aid.value = (char *)agent_id;
    eid.value = (char *)executor_id;
    Mesos__Scheduler__Call__Message message = MESOS__SCHEDULER__CALL__MESSAGE__INIT;
    message.agent_id = &aid;
    message.executor_id = &eid;
    message.data.data = len > 0 ? (uint8_t *)data : (uint8_t *)"";
    message.data.len = len;
    Mesos__Scheduler__Call call = MESOS__SCHEDULER__CALL__INIT;
    call.type = MESOS__SCHEDULER__CALL__TYPE__MESSAGE;
    call.message = &message;
    return submit(d, &call);
}

actor_err_t scheduler_driver_teardown(scheduler_driver_t *d)
{
    if (d == NULL)
        return ACTOR_EINVAL;
    if (!driver_callbacks_on(d))
        return ACTOR_ECLOSED;
    scheduler_driver_stop(d, false);
    return ACTOR_OK;
}
