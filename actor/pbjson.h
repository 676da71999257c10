/*
 * pbjson.h: protobuf messages to and from JSON, driven by protobuf-c descriptors.
 *
 * This is what stout's JSON::protobuf and protobuf::parse give Mesos: the master's /api/v1 (the
 * v1 operator and scheduler APIs) and Marathon's endpoints render and parse any message through
 * it without per-message code. The mapping is the one Mesos's v1 JSON uses:
 *
 *   - keys are the .proto field names ("framework_id"), a oneof member by its own name;
 *   - only set fields appear: required fields, optional fields whose has_ flag is set or whose
 *     pointer is non-NULL and not the descriptor's default, non-empty repeated fields (as
 *     arrays); proto3 fields without presence appear when not zero or empty;
 *   - enums as their value names ("TASK_RUNNING"), numeric values without a name as numbers;
 *   - 32- and 64-bit integers as JSON integers, except uint64 values above INT64_MAX, which
 *     jansson cannot hold as integers and which are written as decimal strings;
 *   - double and float as reals; NaN and the infinities as "NaN", "Infinity", "-Infinity";
 *   - strings as strings (bytes that are not UTF-8 are replaced by U+FFFD), bytes as base64.
 *
 * Parsing accepts what the rendering produces and what protobuf's JSON mapping allows besides:
 * enums by name or number, integers also as decimal strings or as integral reals (1e3), base64
 * standard or URL-safe with or without padding, null for "not set". It rejects everything else
 * with an error naming the path of the bad field, such as
 * `framework_info.resources[2].scalar.value: expected a number`.
 *
 * All functions are reentrant and keep no state: they may be called from any thread and from
 * handlers. Nothing here blocks.
 */
#ifndef ACTOR_PBJSON_H
#define ACTOR_PBJSON_H

#include <stddef.h>

#include <jansson.h>
#include <protobuf-c/protobuf-c.h>

#include "actor/error.h"

/* Messages nested deeper than this are rejected by the parser, because the conversion recurses
 * once per level and runs on worker threads with bounded stacks. */
#define PBJSON_MAX_DEPTH 100

/* Parser flags (pbjson_opts_t.flags). PBJSON_REJECT_UNKNOWN makes a key that names no field an
 * error instead of being ignored (Mesos ignores them). */
#define PBJSON_REJECT_UNKNOWN 0x1u

typedef struct pbjson_opts {
    unsigned flags;                /* PBJSON_* flags, 0 for Mesos's behaviour */
    ProtobufCAllocator *allocator; /* for every part of the result; NULL = malloc and free */
} pbjson_opts_t;

/* Renders msg as a new JSON object in *out, which the caller owns (json_decref). msg is only
 * read; it need not come from protobuf-c's unpack but must be valid by protobuf_c_message_check
 * (a NULL msg, or a NULL element in a repeated string or message field, is a caller bug and
 * asserts). Returns ACTOR_OK, or ACTOR_ENOMEM when an allocation fails (then *out is untouched
 * and nothing leaks). */
actor_err_t pbjson_from_message(const ProtobufCMessage *msg, json_t **out);

/* Builds a message of type desc from json (neither NULL; json should be an object) into *out
 * with malloc. The caller owns the result and frees it with
 * protobuf_c_message_free_unpacked(msg, NULL): every part is allocated as protobuf-c's unpack
 * allocates it, and unset fields hold the defaults of the generated __init. Unknown keys are
 * ignored. json is only read.
 *
 * Returns ACTOR_OK; ACTOR_EINVAL when json does not describe a valid message (a wrong type, a
 * number out of range, an unknown enum name, invalid base64, a missing required field, two
 * members of one oneof, nesting deeper than PBJSON_MAX_DEPTH); or ACTOR_ENOMEM. On an error
 * *out is untouched, nothing leaks, and errbuf (when errlen > 0) holds a NUL-terminated
 * sentence that starts with the path of the bad field: `resources[2].scalar.value: expected a
 * number`. errbuf may be NULL when errlen is 0. */
actor_err_t pbjson_to_message(const ProtobufCMessageDescriptor *desc, const json_t *json,
                              ProtobufCMessage **out, char *errbuf, size_t errlen);

/* pbjson_to_message with options; opts may be NULL for the defaults. When opts->allocator is
 * set, the result is freed with protobuf_c_message_free_unpacked(msg, opts->allocator). */
actor_err_t pbjson_to_message_ex(const ProtobufCMessageDescriptor *desc, const json_t *json,
                                 const pbjson_opts_t *opts, ProtobufCMessage **out, char *errbuf,
                                 size_t errlen);

#endif
