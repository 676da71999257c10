/*
 * task_states.h: facts about Mesos's TaskState that the master, the agent and frameworks share.
 */
#ifndef PROTO_TASK_STATES_H
#define PROTO_TASK_STATES_H

#include <stdbool.h>

#include "mesos.pb-c.h"

/* Whether a task in this state is done for good: its resources are free. TASK_LOST counts, as
 * in Mesos (a lost task may still come back, but frameworks treat it as gone). */
static inline bool mesos_task_state_terminal(int state)
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

/* "TASK_RUNNING", or "TASK_UNKNOWN" for a value outside the enum. */
static inline const char *mesos_task_state_name(int state)
{
    const ProtobufCEnumValue *v =
        protobuf_c_enum_descriptor_get_value(&mesos__task_state__descriptor, state);
    return v != NULL ? v->name : "TASK_UNKNOWN";
}

#endif
