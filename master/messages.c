/*
 * messages.c: framework messages, opaque bytes between a scheduler and its executors, forwarded
 * by the master without reliability (Mesos's Master::message and Master::executorMessage):
 *
 *   scheduler --Call.MESSAGE--> master --FrameworkToExecutorMessage--> agent --> executor
 *   executor --> agent --ExecutorToFrameworkMessage--> master --Event.MESSAGE--> scheduler
 *
 * A message the master cannot forward (an unknown or disconnected agent or framework) is dropped
 * with a warning and counted, as Mesos counts it (master/invalid_framework_to_executor_messages,
 * master/invalid_executor_to_framework_messages).
 */
#include "actor/log.h"
#include "master/master_int.h"

void master_handle_message(actor_t *self, master_t *m, master_framework_t *fw,
                           const Mesos__Scheduler__Call__Message *message)
{
    m->counters.messages_framework_to_executor++;
    const char *agent_id = message->agent_id != NULL ? message->agent_id->value : NULL;
    master_agent_t *agent = master_agent_find(m, agent_id);
    if (agent == NULL || !agent->connected || message->executor_id == NULL) {
        m->counters.invalid_framework_to_executor_messages++;
        LOG_WARNING("Cannot send a framework message of framework %s to agent %s because the "
                    "agent is %s",
                    fw->id, agent_id != NULL ? agent_id : "(none)",
                    agent == NULL ? "not registered" : "disconnected");
        return;
    }
    Mesos__Internal__FrameworkToExecutorMessage msg =
        MESOS__INTERNAL__FRAMEWORK_TO_EXECUTOR_MESSAGE__INIT;
    msg.agent_id = message->agent_id;
    msg.framework_id = fw->info->id;
    msg.executor_id = message->executor_id;
    msg.data = message->data;
    actor_send(self, &agent->pid, &msg.base);
    m->counters.valid_framework_to_executor_messages++;
}

/* Why an executor's message cannot go on to its framework, or NULL when it can. */
static const char *executor_message_refusal(master_t *m,
                                            const Mesos__Internal__ExecutorToFrameworkMessage *in,
                                            master_framework_t **fw)
{
    *fw = NULL;
    if (in->agent_id == NULL || in->framework_id == NULL || in->executor_id == NULL)
        return "it lacks its agent, framework or executor id";
    if (master_agent_find(m, in->agent_id->value) == NULL)
        return "the agent is not registered";
    *fw = master_framework_find(m, in->framework_id->value);
    if (*fw == NULL)
        return "the framework is unknown";
    if (!(*fw)->connected)
        return "the framework is disconnected";
    return NULL;
}

void master_handle_executor_message(actor_t *self, void *state, const actor_pid_t *from,
                                    const ProtobufCMessage *msg)
{
    master_t *m = state;
    const Mesos__Internal__ExecutorToFrameworkMessage *in =
        (const Mesos__Internal__ExecutorToFrameworkMessage *)msg;
    m->counters.messages_executor_to_framework++;
    master_framework_t *fw;
    const char *why = executor_message_refusal(m, in, &fw);
    if (why != NULL) {
        m->counters.invalid_executor_to_framework_messages++;
        LOG_WARNING("Not forwarding a message of executor %s of framework %s from %s because %s",
                    in->executor_id != NULL ? in->executor_id->value : "(none)",
                    in->framework_id != NULL ? in->framework_id->value : "(none)", from->id, why);
        return;
    }
    Mesos__Scheduler__Event__Message message = MESOS__SCHEDULER__EVENT__MESSAGE__INIT;
    message.agent_id = in->agent_id;
    message.executor_id = in->executor_id;
    message.data = in->data;
    Mesos__Scheduler__Event ev = MESOS__SCHEDULER__EVENT__INIT;
    ev.has_type = true;
    ev.type = MESOS__SCHEDULER__EVENT__TYPE__MESSAGE;
    ev.message = &message;
    master_send_event(self, fw, &ev);
    m->counters.valid_executor_to_framework_messages++;
}
