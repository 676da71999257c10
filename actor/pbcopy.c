/*
 * pbcopy.c: deep copies by packing and unpacking: protobuf-c knows how to do both for every
 * message type, and a copy is rare enough (a framework subscribing, an agent registering) that
 * the round trip costs nothing that matters.
 */
#include <stdint.h>
#include <stdlib.h>

#include "actor/pbcopy.h"

ProtobufCMessage *pb_copy(const ProtobufCMessage *msg)
{
    if (msg == NULL)
        return NULL;
    size_t len = protobuf_c_message_get_packed_size(msg);
    uint8_t stack[1024];
    uint8_t *buf = len <= sizeof(stack) ? stack : malloc(len);
    if (buf == NULL)
        return NULL;
    protobuf_c_message_pack(msg, buf);
    ProtobufCMessage *copy = protobuf_c_message_unpack(msg->descriptor, NULL, len, buf);
    if (buf != stack)
        free(buf);
    return copy;
}
