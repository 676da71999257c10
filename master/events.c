/*
 * events.c: what the master sends frameworks: scheduler events, and the status updates it makes
 * itself (for tasks it knows better than any agent can tell: invalid launches, lost agents,
 * reconciliation answers).
 */
#include <string.h>

#include "actor/log.h"
#include "master/master_int.h"

void master_send_event(actor_t *self, master_framework_t *fw, const Mesos__Scheduler__Event *ev)
{
    if (!fw->connected)
        return;
    actor_err_t err = actor_send(self, &fw->pid, &ev->base);
    if (err != ACTOR_OK)
        LOG_WARNING("Cannot send an event to framework %s: %s", fw->id, actor_strerror(err));
}

void master_send_update(actor_t *self, master_framework_t *fw, const char *task_id,
                        const char *agent_id, int state, int reason, const char *message)
{
    Mesos__TaskID tid = MESOS__TASK_ID__INIT;
    Mesos__AgentID aid = MESOS__AGENT_ID__INIT;
    Mesos__TaskStatus status = MESOS__TASK_STATUS__INIT;
    tid.value = (char *)task_id;
    status.task_id = &tid;
    status.state = (Mesos__TaskState)state;
    if (agent_id != NULL) {
        aid.value = (char *)agent_id;
        status.agent_id = &aid;
    }
    status.has_source = true;
    status.source = MESOS__TASK_STATUS__SOURCE__SOURCE_MASTER;
    if (reason >= 0) {
        status.has_reason = true;
        status.reason = (Mesos__TaskStatus__Reason)reason;
    }
    status.message = (char *)message;
    status.has_timestamp = true;
    status.timestamp = master_now();
    master_send_status(self, fw, &status);
}

void master_send_status(actor_t *self, master_framework_t *fw, const Mesos__TaskStatus *status)
{
    Mesos__Scheduler__Event__Update update = MESOS__SCHEDULER__EVENT__UPDATE__INIT;
    update.status = (Mesos__TaskStatus *)status;
    Mesos__Scheduler__Event ev = MESOS__SCHEDULER__EVENT__INIT;
    ev.has_type = true;
    ev.type = MESOS__SCHEDULER__EVENT__TYPE__UPDATE;
    ev.update = &update;
    master_send_event(self, fw, &ev);
}

void master_send_error(actor_t *self, const actor_pid_t *to, const char *message)
{
    Mesos__Scheduler__Event__Error error = MESOS__SCHEDULER__EVENT__ERROR__INIT;
    error.message = (char *)message;
    Mesos__Scheduler__Event ev = MESOS__SCHEDULER__EVENT__INIT;
    ev.has_type = true;
    ev.type = MESOS__SCHEDULER__EVENT__TYPE__ERROR;
    ev.error = &error;
    actor_send(self, to, &ev.base);
}
