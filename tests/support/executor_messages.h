/*
 * executor_messages.h: messages that a test's fake agent sends an executor, built in caller
 * storage (strings and the update borrowed), so that tests of the executor driver and of
 * mesos-executor build them one way.
 */
#ifndef TESTS_SUPPORT_EXECUTOR_MESSAGES_H
#define TESTS_SUPPORT_EXECUTOR_MESSAGES_H

#include "internal.pb-c.h"

/* The agent's acknowledgement of a status update: send &ack.msg.base. */
typedef struct status_ack {
    Mesos__AgentID agent_id;
    Mesos__Internal__StatusUpdateAcknowledgementMessage msg;
} status_ack_t;

/* Fills *ack to acknowledge u (its framework, task and uuid) from agent agent_id. */
void status_ack_init(status_ack_t *ack, const char *agent_id,
                     const Mesos__Internal__StatusUpdate *u);

#endif
