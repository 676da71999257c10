/*
 * pbcopy.h: deep copies of protobuf-c messages (protobuf-c has no copy function of its own).
 */
#ifndef ACTOR_PBCOPY_H
#define ACTOR_PBCOPY_H

#include <protobuf-c/protobuf-c.h>

/* A deep copy of msg, allocated as protobuf-c's unpack allocates (free it with
 * protobuf_c_message_free_unpacked(copy, NULL)); NULL when out of memory or when msg lacks a
 * required field. msg NULL gives NULL. */
ProtobufCMessage *pb_copy(const ProtobufCMessage *msg);

/* The typed form: PB_COPY(Mesos__AgentInfo, info). */
#define PB_COPY(type, msg) ((type *)pb_copy((msg) != NULL ? &(msg)->base : NULL))

#endif
