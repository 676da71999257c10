/*
 * fuzz_pbjson.c: libFuzzer target for actor/pbjson.c.
 *
 * The input is JSON text (jansson's json_loadb, any root type, NUL allowed in strings) parsed
 * into pbjson_test.All, once ignoring and once rejecting unknown keys. Whenever a parse succeeds
 * the message is rendered back and parsed again, and the two messages must pack to the same
 * bytes. An input that starts with a NUL byte, which no JSON text does, is instead protobuf wire
 * data for pbjson_test.All: what unpack accepts must render, and the rendering must parse
 * (strings that are not UTF-8 come back with U+FFFD, so the check compares the second and third
 * generations). Any failed check aborts; the sanitizers catch the rest, including leaks.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actor/pbjson.h"
#include "test_pbjson.pb-c.h"

#define DESC (&pbjson_test__all__descriptor)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_pbjson: %s\n", what);
        abort();
    }
}

static void check_packed_equal(const ProtobufCMessage *a, const ProtobufCMessage *b)
{
    size_t na = protobuf_c_message_get_packed_size(a);
    size_t nb = protobuf_c_message_get_packed_size(b);
    uint8_t *pa, *pb;

    check(na == nb, "round trip changed the packed size");
    pa = malloc(na + 1);
    pb = malloc(nb + 1);
    check(pa != NULL && pb != NULL, "out of memory");
    protobuf_c_message_pack(a, pa);
    protobuf_c_message_pack(b, pb);
    check(memcmp(pa, pb, na) == 0, "round trip changed the packed bytes");
    free(pa);
    free(pb);
}

/* Renders msg and parses the rendering into *out. Returns the parse's result; a rendering
 * may fail to parse only by nesting deeper than the parser allows, which unpack does not
 * limit. */
static actor_err_t reparse(const ProtobufCMessage *msg, ProtobufCMessage **out)
{
    json_t *json = NULL;
    char err[256];
    actor_err_t rc;

    check(pbjson_from_message(msg, &json) == ACTOR_OK, "pbjson_from_message failed");
    rc = pbjson_to_message(msg->descriptor, json, out, err, sizeof(err));
    json_decref(json);
    if (rc == ACTOR_EINVAL && strstr(err, "nested deeper than") != NULL)
        return rc;
    if (rc != ACTOR_OK)
        fprintf(stderr, "fuzz_pbjson: rendering does not parse back: %s\n", err);
    check(rc == ACTOR_OK, "rendering does not parse back");
    return rc;
}

/* Parses json with flags; returns whether it parsed, checking the round trip if it did. */
static int json_case(const json_t *json, unsigned flags)
{
    pbjson_opts_t opts = {flags, NULL};
    ProtobufCMessage *msg = NULL, *again = NULL;
    char err[128];
    actor_err_t rc;

    rc = pbjson_to_message_ex(DESC, json, &opts, &msg, err, sizeof(err));
    if (rc != ACTOR_OK) {
        check(rc == ACTOR_EINVAL, "unexpected error code");
        check(err[0] != '\0' && msg == NULL, "error without a reason, or output touched");
        return 0;
    }
    check(reparse(msg, &again) == ACTOR_OK, "a parsed message nests too deep to parse back");
    check_packed_equal(msg, again);
    protobuf_c_message_free_unpacked(msg, NULL);
    protobuf_c_message_free_unpacked(again, NULL);
    return 1;
}

static void wire_case(const uint8_t *data, size_t size)
{
    ProtobufCMessage *first, *second = NULL, *third = NULL;

    first = protobuf_c_message_unpack(DESC, NULL, size, data);
    if (first == NULL)
        return;
    if (reparse(first, &second) == ACTOR_OK) {
        check(reparse(second, &third) == ACTOR_OK, "a parsed message nests too deep");
        check_packed_equal(second, third);
    }
    protobuf_c_message_free_unpacked(first, NULL);
    protobuf_c_message_free_unpacked(second, NULL);
    protobuf_c_message_free_unpacked(third, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_error_t jerr;
    json_t *json;
    int lenient, strict;

    if (size > 0 && data[0] == 0) {
        wire_case(data + 1, size - 1);
        return 0;
    }
    json = json_loadb((const char *)data, size, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
    if (json == NULL)
        return 0;
    lenient = json_case(json, 0);
    strict = json_case(json, PBJSON_REJECT_UNKNOWN);
    check(lenient || !strict, "accepted with PBJSON_REJECT_UNKNOWN but not without");
    json_decref(json);
    return 0;
}
