/* executor_messages.c: see executor_messages.h. */
#include "tests/support/executor_messages.h"

void status_ack_init(status_ack_t *ack, const char *agent_id,
                     const Mesos__Internal__StatusUpdate *u)
{
    mesos__agent_id__init(&ack->agent_id);
    mesos__internal__status_update_acknowledgement_message__init(&ack->msg);
    ack->agent_id.value = (char *)agent_id;
    ack->msg.agent_id = &ack->agent_id;
    ack->msg.framework_id = u->framework_id;
    ack->msg.task_id = u->status->task_id;
    ack->msg.uuid = u->uuid;
}
