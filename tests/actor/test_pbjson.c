/*
 * test_pbjson.c: protobuf-c messages to and from JSON (actor/pbjson.c).
 *
 * Rendering is checked against literal JSON, parsing against the C structs and against literal
 * error texts, and both together by round trips (message -> JSON -> message gives the same
 * packed bytes) over hand-picked extremes and a few hundred messages filled at random from the
 * descriptors with a fixed seed. Allocation failures are made to happen at every allocation of
 * both directions, and the allocations of a parsed message are compared with protobuf-c's
 * unpack of the same message, so that free_unpacked is known to fit.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actor/pbjson.h"
#include "test_pbjson.pb-c.h"

#define ALL_DESC (&pbjson_test__all__descriptor)

/* ---- Helpers ---- */

static json_t *json_parse(const char *text)
{
    json_error_t jerr;
    json_t *json = json_loads(text, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);

    if (json == NULL)
        fail_msg("bad JSON in the test: %s: %s", jerr.text, text);
    return json;
}

/* Renders msg and compares it with the JSON text expected (order-insensitive). */
static void assert_renders(const ProtobufCMessage *msg, const char *expected)
{
    json_t *want = json_parse(expected), *got = NULL;
    char *text;

    assert_int_equal(pbjson_from_message(msg, &got), ACTOR_OK);
    if (!json_equal(got, want)) {
        text = json_dumps(got, JSON_COMPACT | JSON_SORT_KEYS);
        fail_msg("rendered %s, expected %s", text, expected);
    }
    json_decref(got);
    json_decref(want);
}

/* Parses text into a message of type desc, failing the test on an error. */
static ProtobufCMessage *parse_ok(const ProtobufCMessageDescriptor *desc, const char *text)
{
    json_t *json = json_parse(text);
    ProtobufCMessage *msg = NULL;
    char err[256];

    if (pbjson_to_message(desc, json, &msg, err, sizeof(err)) != ACTOR_OK)
        fail_msg("parsing %s failed: %s", text, err);
    json_decref(json);
    return msg;
}

/* Parses text with flags, expecting ACTOR_EINVAL with exactly the error text expected. */
static void parse_fails(const ProtobufCMessageDescriptor *desc, unsigned flags, const char *text,
                        const char *expected)
{
    pbjson_opts_t opts = {flags, NULL};
    ProtobufCMessage *sentinel = (ProtobufCMessage *)&opts, *msg = sentinel;
    json_t *json = json_parse(text);
    char err[256];

    assert_int_equal(pbjson_to_message_ex(desc, json, &opts, &msg, err, sizeof(err)), ACTOR_EINVAL);
    assert_ptr_equal(msg, sentinel); /* untouched */
    if (strcmp(err, expected) != 0)
        fail_msg("parsing %s: error \"%s\", expected \"%s\"", text, err, expected);
    json_decref(json);
}

static void assert_packed_equal(const ProtobufCMessage *a, const ProtobufCMessage *b)
{
    size_t na = protobuf_c_message_get_packed_size(a);
    size_t nb = protobuf_c_message_get_packed_size(b);
    uint8_t *pa = malloc(na + 1), *pb = malloc(nb + 1);

    assert_non_null(pa);
    assert_non_null(pb);
    protobuf_c_message_pack(a, pa);
    protobuf_c_message_pack(b, pb);
    assert_int_equal(na, nb);
    assert_memory_equal(pa, pb, na);
    free(pa);
    free(pb);
}

/* msg -> JSON -> msg, both in memory and through JSON text, must give the same bytes, and the
 * second rendering the same JSON. */
static void assert_round_trip(const ProtobufCMessage *msg)
{
    json_t *json = NULL, *reloaded, *again = NULL;
    ProtobufCMessage *back = NULL, *back2 = NULL;
    char err[256], *text;

    assert_int_equal(pbjson_from_message(msg, &json), ACTOR_OK);
    text = json_dumps(json, JSON_COMPACT | JSON_ENCODE_ANY);
    assert_non_null(text);
    if (pbjson_to_message(msg->descriptor, json, &back, err, sizeof(err)) != ACTOR_OK)
        fail_msg("round trip of %s failed: %s", text, err);
    assert_packed_equal(msg, back);
    assert_int_equal(pbjson_from_message(back, &again), ACTOR_OK);
    assert_true(json_equal(json, again));

    reloaded = json_parse(text);
    if (pbjson_to_message(msg->descriptor, reloaded, &back2, err, sizeof(err)) != ACTOR_OK)
        fail_msg("round trip of %s through text failed: %s", text, err);
    assert_packed_equal(msg, back2);

    protobuf_c_message_free_unpacked(back, NULL);
    protobuf_c_message_free_unpacked(back2, NULL);
    json_decref(json);
    json_decref(again);
    json_decref(reloaded);
    free(text);
}

/* ---- Rendering ---- */

static void test_render_empty_omits_unset_and_defaults(void **state)
{
    PbjsonTest__All all = PBJSON_TEST__ALL__INIT;

    (void)state;
    /* d_string points at its default and the has_ flags are clear: nothing is set. */
    assert_renders(&all.base, "{}");
}

static void test_render_scalars(void **state)
{
    PbjsonTest__All all = PBJSON_TEST__ALL__INIT;
    PbjsonTest__Inner inner = PBJSON_TEST__INNER__INIT;
    uint8_t bytes[] = {0x00, 0xff, 0x10, 0x80};

    (void)state;
    all.has_f_int32 = 1, all.f_int32 = INT32_MIN;
    all.has_f_int64 = 1, all.f_int64 = INT64_MIN;
    all.has_f_uint32 = 1, all.f_uint32 = UINT32_MAX;
    all.has_f_uint64 = 1, all.f_uint64 = UINT64_MAX;
    all.has_f_sint32 = 1, all.f_sint32 = -5;
    all.has_f_sint64 = 1, all.f_sint64 = INT64_MAX;
    all.has_f_fixed32 = 1, all.f_fixed32 = 7;
    all.has_f_fixed64 = 1, all.f_fixed64 = (uint64_t)INT64_MAX;
    all.has_f_sfixed32 = 1, all.f_sfixed32 = -9;
    all.has_f_sfixed64 = 1, all.f_sfixed64 = -10;
    all.has_f_double = 1, all.f_double = 1.5;
    all.has_f_float = 1, all.f_float = 0.25f;
    all.has_f_bool = 1, all.f_bool = 0;
    all.f_string = "h\xC3\xA9llo \"q\"";
    all.has_f_bytes = 1, all.f_bytes = (ProtobufCBinaryData){sizeof(bytes), bytes};
    all.has_f_enum = 1, all.f_enum = PBJSON_TEST__COLOR__GREEN;
    inner.id = 3;
    all.f_message = &inner;
    assert_renders(&all.base, "{\"f_int32\": -2147483648, \"f_int64\": -9223372036854775808,"
                              " \"f_uint32\": 4294967295, \"f_uint64\": \"18446744073709551615\","
                              " \"f_sint32\": -5, \"f_sint64\": 9223372036854775807,"
                              " \"f_fixed32\": 7, \"f_fixed64\": 9223372036854775807,"
                              " \"f_sfixed32\": -9, \"f_sfixed64\": -10, \"f_double\": 1.5,"
                              " \"f_float\": 0.25, \"f_bool\": false,"
                              " \"f_string\": \"h\\u00e9llo \\\"q\\\"\", \"f_bytes\": \"AP8QgA==\","
                              " \"f_enum\": \"GREEN\", \"f_message\": {\"id\": 3}}");
}

static void test_render_repeated_and_empty_repeated(void **state)
{
    PbjsonTest__All all = PBJSON_TEST__ALL__INIT;
    PbjsonTest__Inner a = PBJSON_TEST__INNER__INIT, b = PBJSON_TEST__INNER__INIT;
    PbjsonTest__Inner *msgs[] = {&a, &b};
    int32_t ints[] = {1, -2, 3};
    uint64_t u64s[] = {0, UINT64_MAX};
    char *strs[] = {"x", ""};
    PbjsonTest__Color colors[] = {PBJSON_TEST__COLOR__BLUE, (PbjsonTest__Color)99};
    ProtobufCBinaryData bins[] = {{0, NULL}, {1, (uint8_t *)"a"}, {2, (uint8_t *)"ab"}};
    protobuf_c_boolean bools[] = {1, 0};
    double doubles[] = {-0.5, 1e300};

    (void)state;
    a.id = 1;
    b.id = 2;
    b.label = "two";
    all.n_r_int32 = 3, all.r_int32 = ints;
    all.n_r_uint64 = 2, all.r_uint64 = u64s;
    all.n_r_string = 2, all.r_string = strs;
    all.n_r_enum = 2, all.r_enum = colors;
    all.n_r_bytes = 3, all.r_bytes = bins;
    all.n_r_bool = 2, all.r_bool = bools;
    all.n_r_double = 2, all.r_double = doubles;
    all.n_r_message = 2, all.r_message = msgs;
    all.n_r_packed = 0, all.r_packed = ints; /* count 0: omitted, as Mesos omits it */
    assert_renders(&all.base,
                   "{\"r_int32\": [1, -2, 3],"
                   " \"r_uint64\": [0, \"18446744073709551615\"],"
                   " \"r_double\": [-0.5, 1e300], \"r_bool\": [true, false],"
                   " \"r_string\": [\"x\", \"\"], \"r_bytes\": [\"\", \"YQ==\", \"YWI=\"],"
                   " \"r_enum\": [\"BLUE\", 99],"
                   " \"r_message\": [{\"id\": 1}, {\"id\": 2, \"label\": \"two\"}]}");
}

static void test_render_defaults_when_set(void **state)
{
    PbjsonTest__All all = PBJSON_TEST__ALL__INIT;

    (void)state;
    /* A set field shows even when it holds its default value; only its has_ flag counts. */
    all.has_d_int32 = 1;
    all.has_d_enum = 1;
    all.d_string = "hello"; /* equal to the default, but not the default's pointer */
    assert_renders(&all.base, "{\"d_int32\": -7, \"d_string\": \"hello\", \"d_enum\": \"BLUE\"}");
}

static void test_render_oneof_members(void **state)
{
    PbjsonTest__All all = PBJSON_TEST__ALL__INIT;
    PbjsonTest__Inner inner = PBJSON_TEST__INNER__INIT;

    (void)state;
    all.choice_case = PBJSON_TEST__ALL__CHOICE_O_ENUM;
    all.o_enum = PBJSON_TEST__COLOR__RED; /* zero, yet selected: shown */
    assert_renders(&all.base, "{\"o_enum\": \"RED\"}");
    all.choice_case = PBJSON_TEST__ALL__CHOICE_O_STRING;
    all.o_string = "s";
    assert_renders(&all.base, "{\"o_string\": \"s\"}");
    all.choice_case = PBJSON_TEST__ALL__CHOICE_O_MESSAGE;
    inner.id = 4;
    all.o_message = &inner;
    assert_renders(&all.base, "{\"o_message\": {\"id\": 4}}");
    all.choice_case = PBJSON_TEST__ALL__CHOICE__NOT_SET;
    assert_renders(&all.base, "{}");
}

static void test_render_special_doubles(void **state)
{
    PbjsonTest__All all = PBJSON_TEST__ALL__INIT;
    double doubles[] = {NAN, INFINITY, -INFINITY, -0.0, 3.0};
    float floats[] = {NAN, -INFINITY, FLT_MAX};

    (void)state;
    all.n_r_double = 5, all.r_double = doubles;
    all.n_r_float = 3, all.r_float = floats;
    assert_renders(&all.base, "{\"r_double\": [\"NaN\", \"Infinity\", \"-Infinity\", -0.0, 3.0],"
                              " \"r_float\": [\"NaN\", \"-Infinity\", 3.4028234663852886e38]}");
}

static void test_render_invalid_utf8_is_replaced(void **state)
{
    PbjsonTest__All all = PBJSON_TEST__ALL__INIT;
    char *strs[] = {"a\377b",   "\xC3",         "\xED\xA0\x80",     "\xF0\x9D\x84\x9E ok",
                    "\xC0\xAF", "\xE0\x80\x80", "\xF4\x90\x80\x80", "\xE2\x82x"};

    (void)state;
    all.n_r_string = 8, all.r_string = strs;
    /* One U+FFFD per byte that starts no valid sequence: a lone lead byte, a UTF-16 surrogate,
     * overlong forms, a code point above U+10FFFF, a sequence cut short. */
    assert_renders(&all.base, "{\"r_string\": [\"a\\ufffdb\", \"\\ufffd\","
                              " \"\\ufffd\\ufffd\\ufffd\", \"\\ud834\\udd1e ok\","
                              " \"\\ufffd\\ufffd\", \"\\ufffd\\ufffd\\ufffd\","
                              " \"\\ufffd\\ufffd\\ufffd\\ufffd\", \"\\ufffd\\ufffdx\"]}");
}

static void test_render_base64_lengths(void **state)
{
    PbjsonTest__All all = PBJSON_TEST__ALL__INIT;
    ProtobufCBinaryData bins[] = {{1, (uint8_t *)"f"},           {2, (uint8_t *)"fo"},
                                  {3, (uint8_t *)"foo"},         {4, (uint8_t *)"foob"},
                                  {5, (uint8_t *)"fooba"},       {6, (uint8_t *)"foobar"},
                                  {3, (uint8_t *)"\xfb\xff\xbf"}};

    (void)state;
    all.n_r_bytes = 7, all.r_bytes = bins;
    /* RFC 4648 section 10's vectors, and one that needs '+' and '/'. */
    assert_renders(&all.base, "{\"r_bytes\": [\"Zg==\", \"Zm8=\", \"Zm9v\", \"Zm9vYg==\","
                              " \"Zm9vYmE=\", \"Zm9vYmFy\", \"+/+/\"]}");
}

static void test_render_mesos_shape(void **state)
{
    PbjsonTest__Subscribe sub = PBJSON_TEST__SUBSCRIBE__INIT;
    PbjsonTest__FrameworkInfo info = PBJSON_TEST__FRAMEWORK_INFO__INIT;
    PbjsonTest__FrameworkID id = PBJSON_TEST__FRAMEWORK_ID__INIT;
    PbjsonTest__Resource cpus = PBJSON_TEST__RESOURCE__INIT;
    PbjsonTest__Value__Scalar scalar = PBJSON_TEST__VALUE__SCALAR__INIT;
    PbjsonTest__Resource *resources[] = {&cpus};
    json_t *json = NULL;
    char *text;

    (void)state;
    info.user = "root";
    info.name = "marathon";
    id.value = "f-1";
    info.id = &id;
    info.has_failover_timeout = 1, info.failover_timeout = 604800;
    info.has_checkpoint = 1, info.checkpoint = 1;
    cpus.name = "cpus";
    cpus.type = PBJSON_TEST__VALUE__TYPE__SCALAR;
    scalar.value = 0.1;
    cpus.scalar = &scalar;
    info.n_resources = 1, info.resources = resources;
    sub.framework_info = &info;
    /* Keys come in field-number order, as Mesos's JSON::protobuf writes them. */
    assert_int_equal(pbjson_from_message(&sub.base, &json), ACTOR_OK);
    text = json_dumps(json, JSON_COMPACT);
    assert_string_equal(text, "{\"framework_info\":{\"user\":\"root\",\"name\":\"marathon\","
                              "\"id\":{\"value\":\"f-1\"},\"failover_timeout\":604800.0,"
                              "\"checkpoint\":true,\"resources\":[{\"name\":\"cpus\","
                              "\"type\":\"SCALAR\",\"scalar\":{\"value\":0.10000000000000001}}]}}");
    free(text);
    json_decref(json);
}

/* proto3 fields without presence (PROTOBUF_C_LABEL_NONE) show when not zero or empty. The test
 * schema is proto2, so a copy of All's descriptor relabels four of its fields. */
static void test_render_proto3_fields_without_presence(void **state)
{
    const ProtobufCMessageDescriptor *orig = ALL_DESC;
    ProtobufCMessageDescriptor desc = *orig;
    ProtobufCFieldDescriptor *fields = malloc(orig->n_fields * sizeof(*fields));
    PbjsonTest__All all = PBJSON_TEST__ALL__INIT;
    unsigned i;

    (void)state;
    assert_non_null(fields);
    memcpy(fields, orig->fields, orig->n_fields * sizeof(*fields));
    for (i = 0; i < orig->n_fields; i++) {
        if (strcmp(fields[i].name, "f_int32") == 0 || strcmp(fields[i].name, "f_double") == 0 ||
            strcmp(fields[i].name, "f_string") == 0 || strcmp(fields[i].name, "f_bytes") == 0)
            fields[i].label = PROTOBUF_C_LABEL_NONE;
    }
    desc.fields = fields;
    all.base.descriptor = &desc;
    all.f_string = "";
    assert_renders(&all.base, "{}");
    all.f_int32 = -1;
    all.f_double = 0.5;
    all.f_string = "s";
    all.f_bytes = (ProtobufCBinaryData){1, (uint8_t *)"a"};
    assert_renders(&all.base, "{\"f_int32\": -1, \"f_double\": 0.5, \"f_string\": \"s\","
                              " \"f_bytes\": \"YQ==\"}");
    free(fields);
}

/* ---- Parsing ---- */

static void test_parse_every_type(void **state)
{
    PbjsonTest__All *all;

    (void)state;
    all = (PbjsonTest__All *)parse_ok(
        ALL_DESC, "{\"f_int32\": -1, \"f_int64\": \"-9223372036854775808\", \"f_uint32\": 1e3,"
                  " \"f_uint64\": \"18446744073709551615\", \"f_sint32\": \"-7\","
                  " \"f_sint64\": 9223372036854775807, \"f_fixed32\": 4294967295,"
                  " \"f_fixed64\": 2.0, \"f_sfixed32\": -2147483648, \"f_sfixed64\": -3,"
                  " \"f_double\": 2, \"f_float\": -1.5, \"f_bool\": true, \"f_string\": \"\","
                  " \"f_bytes\": \"AQID\", \"f_enum\": \"BLUE\", \"f_message\": {\"id\": 8},"
                  " \"r_int32\": [], \"r_sint64\": [1, \"2\"], \"r_string\": [\"a\", \"b\"],"
                  " \"r_message\": [{\"id\": 1, \"children\": [{\"id\": 2}]}], \"o_bytes\": \"\"}");
    assert_true(all->has_f_int32 && all->f_int32 == -1);
    assert_true(all->has_f_int64 && all->f_int64 == INT64_MIN);
    assert_true(all->has_f_uint32 && all->f_uint32 == 1000);
    assert_true(all->has_f_uint64 && all->f_uint64 == UINT64_MAX);
    assert_true(all->has_f_sint32 && all->f_sint32 == -7);
    assert_true(all->has_f_sint64 && all->f_sint64 == INT64_MAX);
    assert_true(all->has_f_fixed32 && all->f_fixed32 == UINT32_MAX);
    assert_true(all->has_f_fixed64 && all->f_fixed64 == 2);
    assert_true(all->has_f_sfixed32 && all->f_sfixed32 == INT32_MIN);
    assert_true(all->has_f_sfixed64 && all->f_sfixed64 == -3);
    assert_true(all->has_f_double && all->f_double == 2.0);
    assert_true(all->has_f_float && all->f_float == -1.5f);
    assert_true(all->has_f_bool && all->f_bool);
    assert_string_equal(all->f_string, "");
    assert_true(all->has_f_bytes && all->f_bytes.len == 3);
    assert_memory_equal(all->f_bytes.data, "\x01\x02\x03", 3);
    assert_true(all->has_f_enum && all->f_enum == PBJSON_TEST__COLOR__BLUE);
    assert_int_equal(all->f_message->id, 8);
    assert_int_equal(all->n_r_int32, 0);
    assert_null(all->r_int32);
    assert_int_equal(all->n_r_sint64, 2);
    assert_int_equal(all->r_sint64[1], 2);
    assert_int_equal(all->n_r_string, 2);
    assert_string_equal(all->r_string[1], "b");
    assert_int_equal(all->r_message[0]->children[0]->id, 2);
    assert_int_equal(all->choice_case, PBJSON_TEST__ALL__CHOICE_O_BYTES);
    assert_int_equal(all->o_bytes.len, 0);
    assert_null(all->o_bytes.data); /* as protobuf-c's unpack leaves empty bytes */
    protobuf_c_message_free_unpacked(&all->base, NULL);
}

static void test_parse_leaves_defaults(void **state)
{
    PbjsonTest__All *all;

    (void)state;
    all = (PbjsonTest__All *)parse_ok(ALL_DESC, "{}");
    assert_false(all->has_d_int32);
    assert_int_equal(all->d_int32, -7);
    assert_true(all->d_uint64 == UINT64_MAX);
    assert_true(all->d_double == 2.5);
    assert_true(all->d_bool);
    assert_int_equal(all->d_enum, PBJSON_TEST__COLOR__BLUE);
    /* The descriptor's own default, which free_unpacked knows not to free. */
    assert_ptr_equal(all->d_string, pbjson_test__all__d_string__default_value);
    assert_ptr_equal(all->d_bytes.data, pbjson_test__all__d_bytes__default_value_data);
    assert_null(all->f_string);
    assert_int_equal(all->choice_case, PBJSON_TEST__ALL__CHOICE__NOT_SET);
    protobuf_c_message_free_unpacked(&all->base, NULL);

    all = (PbjsonTest__All *)parse_ok(ALL_DESC, "{\"d_string\": \"hello\", \"d_bytes\": \"AQI=\"}");
    assert_ptr_not_equal(all->d_string, pbjson_test__all__d_string__default_value);
    assert_string_equal(all->d_string, "hello");
    assert_true(all->has_d_bytes);
    assert_ptr_not_equal(all->d_bytes.data, pbjson_test__all__d_bytes__default_value_data);
    assert_renders(&all->base, "{\"d_string\": \"hello\", \"d_bytes\": \"AQI=\"}");
    protobuf_c_message_free_unpacked(&all->base, NULL);
}

static void test_parse_enum_by_name_or_number(void **state)
{
    PbjsonTest__All *all;

    (void)state;
    all = (PbjsonTest__All *)parse_ok(
        ALL_DESC, "{\"f_enum\": 2, \"r_enum\": [\"GREEN\", 0, 42, -3], \"o_enum\": \"BLUE\"}");
    assert_int_equal(all->f_enum, PBJSON_TEST__COLOR__BLUE);
    assert_int_equal(all->n_r_enum, 4);
    assert_int_equal(all->r_enum[0], PBJSON_TEST__COLOR__GREEN);
    assert_int_equal(all->r_enum[2], 42); /* unknown numbers are kept, as unpack keeps them */
    assert_int_equal((int32_t)all->r_enum[3], -3);
    assert_int_equal(all->choice_case, PBJSON_TEST__ALL__CHOICE_O_ENUM);
    assert_int_equal(all->o_enum, PBJSON_TEST__COLOR__BLUE);
    assert_renders(&all->base, "{\"f_enum\": \"BLUE\", \"r_enum\": [\"GREEN\", \"RED\", 42, -3],"
                               " \"o_enum\": \"BLUE\"}");
    protobuf_c_message_free_unpacked(&all->base, NULL);
}

static void test_parse_special_doubles_and_base64_forms(void **state)
{
    PbjsonTest__All *all;

    (void)state;
    all = (PbjsonTest__All *)parse_ok(
        ALL_DESC, "{\"r_double\": [\"NaN\", \"Infinity\", \"-Infinity\", -0.0, 1e-320],"
                  " \"r_float\": [\"NaN\", 3.4028234663852886e38, 1e-50],"
                  " \"r_bytes\": [\"+/+/\", \"-_-_\", \"Zm8\", \"Zm8=\", \"Zg\", \"Zg==\", \"\"]}");
    assert_true(isnan(all->r_double[0]));
    assert_true(isinf(all->r_double[1]) && all->r_double[1] > 0);
    assert_true(isinf(all->r_double[2]) && all->r_double[2] < 0);
    assert_true(all->r_double[3] == 0 && signbit(all->r_double[3]));
    assert_true(all->r_double[4] > 0); /* subnormal */
    assert_true(isnan(all->r_float[0]));
    assert_true(all->r_float[1] == FLT_MAX);
    assert_true(all->r_float[2] == 0); /* underflow is rounding, not an error */
    assert_int_equal(all->r_bytes[0].len, 3);
    assert_memory_equal(all->r_bytes[0].data, "\xfb\xff\xbf", 3);
    assert_memory_equal(all->r_bytes[1].data, "\xfb\xff\xbf", 3); /* URL-safe alphabet */
    assert_int_equal(all->r_bytes[2].len, 2);
    assert_memory_equal(all->r_bytes[2].data, "fo", 2);
    assert_int_equal(all->r_bytes[3].len, 2);
    assert_int_equal(all->r_bytes[4].len, 1);
    assert_int_equal(all->r_bytes[5].len, 1);
    assert_int_equal(all->r_bytes[6].len, 0);
    assert_null(all->r_bytes[6].data);
    protobuf_c_message_free_unpacked(&all->base, NULL);
}

static void test_parse_null_means_unset(void **state)
{
    PbjsonTest__All *all;

    (void)state;
    all = (PbjsonTest__All *)parse_ok(
        ALL_DESC, "{\"f_int32\": null, \"f_message\": null, \"o_string\": null, \"o_int32\": 4}");
    assert_false(all->has_f_int32);
    assert_null(all->f_message);
    assert_int_equal(all->choice_case, PBJSON_TEST__ALL__CHOICE_O_INT32);
    protobuf_c_message_free_unpacked(&all->base, NULL);
    parse_fails(ALL_DESC, 0, "{\"f_message\": {\"id\": null}}",
                "f_message.id: missing required field");
}

static void test_parse_unknown_keys(void **state)
{
    const char *text = "{\"f_int32\": 1, \"bogus\": [1, {}], \"f_message\": {\"id\": 1, \"x\": 2}}";
    pbjson_opts_t opts = {PBJSON_REJECT_UNKNOWN, NULL};
    ProtobufCMessage *msg;
    PbjsonTest__All *all;
    char err[64];
    json_t *json;

    (void)state;
    all = (PbjsonTest__All *)parse_ok(ALL_DESC, text); /* ignored, as Mesos ignores them */
    assert_int_equal(all->f_int32, 1);
    protobuf_c_message_free_unpacked(&all->base, NULL);
    parse_fails(ALL_DESC, PBJSON_REJECT_UNKNOWN, text, "bogus: unknown field");
    parse_fails(ALL_DESC, PBJSON_REJECT_UNKNOWN, "{\"f_message\": {\"id\": 1, \"x\": 2}}",
                "f_message.x: unknown field");
    /* A key with a NUL byte (only made through the API: jansson's parser refuses them) never
     * matches a field, even one its prefix names. */
    json = json_object();
    assert_int_equal(json_object_setn_new(json, "f_int32\0x", 9, json_integer(1)), 0);
    msg = (ProtobufCMessage *)&opts;
    assert_int_equal(pbjson_to_message_ex(ALL_DESC, json, &opts, &msg, err, sizeof(err)),
                     ACTOR_EINVAL);
    assert_string_equal(err, "f_int32: unknown field");
    assert_ptr_equal(msg, (ProtobufCMessage *)&opts);
    json_decref(json);
}

/* Each input and the exact error it must produce. */
static const struct {
    const char *json;
    const char *error;
} BAD_INPUTS[] = {
    {"[]", "expected an object"},
    {"\"x\"", "expected an object"},
    {"5", "expected an object"},
    {"null", "expected an object"},
    {"{\"f_int32\": 3.5}", "f_int32: expected an integer, got 3.5"},
    {"{\"f_int32\": 1e20}", "f_int32: out of range for int32"},
    {"{\"f_int32\": 2147483648}", "f_int32: out of range for int32"},
    {"{\"f_sint32\": -2147483649}", "f_sint32: out of range for sint32"},
    {"{\"f_int32\": \"x\"}", "f_int32: expected an integer"},
    {"{\"f_int32\": true}", "f_int32: expected an integer"},
    {"{\"f_int32\": [1]}", "f_int32: expected an integer"},
    {"{\"f_uint32\": -1}", "f_uint32: out of range for uint32"},
    {"{\"f_fixed32\": 4294967296}", "f_fixed32: out of range for fixed32"},
    {"{\"f_uint64\": -1}", "f_uint64: out of range for uint64"},
    {"{\"f_uint64\": \"-1\"}", "f_uint64: out of range for uint64"},
    {"{\"f_uint64\": -1.0}", "f_uint64: out of range for uint64"},
    {"{\"f_fixed64\": \"18446744073709551616\"}", "f_fixed64: out of range for fixed64"},
    {"{\"f_uint64\": 1.8446744073709552e19}", "f_uint64: out of range for uint64"},
    {"{\"f_int64\": \"9223372036854775808\"}", "f_int64: out of range for int64"},
    {"{\"f_int64\": \"-9223372036854775809\"}", "f_int64: out of range for int64"},
    {"{\"f_sfixed64\": 9.3e18}", "f_sfixed64: out of range for sfixed64"},
    {"{\"f_int64\": \"12a\"}", "f_int64: expected an integer"},
    {"{\"f_int64\": \" 1\"}", "f_int64: expected an integer"},
    {"{\"f_int64\": \"+1\"}", "f_int64: expected an integer"},
    {"{\"f_int64\": \"\"}", "f_int64: expected an integer"},
    {"{\"f_int64\": \"-\"}", "f_int64: expected an integer"},
    {"{\"f_int64\": \"1\\u00002\"}", "f_int64: expected an integer"},
    {"{\"f_bool\": 1}", "f_bool: expected true or false"},
    {"{\"f_bool\": \"true\"}", "f_bool: expected true or false"},
    {"{\"f_double\": \"1.5\"}", "f_double: expected a number"},
    {"{\"f_double\": \"nan\"}", "f_double: expected a number"},
    {"{\"f_double\": {}}", "f_double: expected a number"},
    {"{\"f_float\": 1e39}", "f_float: out of range for float"},
    {"{\"f_float\": -3.5e38}", "f_float: out of range for float"},
    {"{\"f_string\": 5}", "f_string: expected a string"},
    {"{\"f_string\": \"a\\u0000b\"}", "f_string: strings may not contain NUL characters"},
    {"{\"f_bytes\": 5}", "f_bytes: expected a base64 string"},
    {"{\"f_bytes\": \"!!!!\"}", "f_bytes: invalid base64"},
    {"{\"f_bytes\": \"Zg=\"}", "f_bytes: invalid base64"},
    {"{\"f_bytes\": \"Z\"}", "f_bytes: invalid base64"},
    {"{\"f_bytes\": \"Z===\"}", "f_bytes: invalid base64"},
    {"{\"f_bytes\": \"Zg==Zg==\"}", "f_bytes: invalid base64"},
    {"{\"f_bytes\": \"Zm 9v\"}", "f_bytes: invalid base64"},
    {"{\"f_enum\": \"PURPLE\"}", "f_enum: unknown value 'PURPLE' for enum pbjson_test.Color"},
    {"{\"f_enum\": \"blue\"}", "f_enum: unknown value 'blue' for enum pbjson_test.Color"},
    {"{\"f_enum\": 2147483648}", "f_enum: out of range for enum"},
    {"{\"f_enum\": 1.5}", "f_enum: expected an integer, got 1.5"},
    {"{\"f_enum\": true}", "f_enum: expected an enum name or number"},
    {"{\"f_message\": []}", "f_message: expected an object"},
    {"{\"f_message\": {}}", "f_message.id: missing required field"},
    {"{\"r_int32\": 1}", "r_int32: expected an array"},
    {"{\"r_int32\": {}}", "r_int32: expected an array"},
    {"{\"r_int32\": [1, null]}", "r_int32[1]: expected an integer"},
    {"{\"r_string\": [\"a\", \"b\", 3]}", "r_string[2]: expected a string"},
    {"{\"r_message\": [{\"id\": 1}, {\"id\": 2, \"children\": [{\"id\": \"x\"}]}]}",
     "r_message[1].children[0].id: expected an integer"},
    {"{\"o_int32\": 1, \"o_string\": \"x\"}",
     "o_string: only one member of a oneof may be set, and 'o_int32' is set too"},
    {"{\"o_message\": {\"id\": 1}, \"o_bytes\": \"\"}",
     "o_bytes: only one member of a oneof may be set, and 'o_message' is set too"},
    {"{\"req\": {\"q_int32\": 1, \"q_uint64\": 2, \"q_double\": 3, \"q_bool\": true,"
     " \"q_string\": \"s\", \"q_enum\": \"RED\", \"q_message\": {\"id\": 1}}}",
     "req.q_bytes: missing required field"},
    {"{\"req\": {\"q_int32\": 1, \"q_uint64\": 2, \"q_double\": 3, \"q_bool\": true,"
     " \"q_string\": \"s\", \"q_bytes\": \"\", \"q_enum\": \"RED\"}}",
     "req.q_message: missing required field"},
};

static void test_parse_rejects_bad_input(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(BAD_INPUTS) / sizeof(BAD_INPUTS[0]); i++)
        parse_fails(ALL_DESC, 0, BAD_INPUTS[i].json, BAD_INPUTS[i].error);
}

static void test_parse_error_names_mesos_path(void **state)
{
    (void)state;
    parse_fails(&pbjson_test__subscribe__descriptor, 0,
                "{\"framework_info\": {\"user\": \"u\", \"name\": \"n\", \"resources\": ["
                "{\"name\": \"cpus\", \"type\": \"SCALAR\", \"scalar\": {\"value\": 1}},"
                "{\"name\": \"mem\", \"type\": 0, \"scalar\": {\"value\": 128.5}},"
                "{\"name\": \"disk\", \"type\": \"SCALAR\", \"scalar\": {\"value\": \"lots\"}}]}}",
                "framework_info.resources[2].scalar.value: expected a number");
    parse_fails(&pbjson_test__subscribe__descriptor, 0, "{\"framework_info\": {\"user\": \"u\"}}",
                "framework_info.name: missing required field");
    parse_fails(&pbjson_test__subscribe__descriptor, 0, "{}",
                "framework_info: missing required field");
}

static void test_parse_error_buffer_sizes(void **state)
{
    json_t *json = json_parse("{\"r_message\": [{\"id\": \"x\"}]}");
    ProtobufCMessage *msg = NULL;
    char err[16];

    (void)state;
    /* No buffer at all. */
    assert_int_equal(pbjson_to_message(ALL_DESC, json, &msg, NULL, 0), ACTOR_EINVAL);
    /* A small one keeps the reason whole and gives up the path. */
    memset(err, 'z', sizeof(err));
    assert_int_equal(pbjson_to_message(ALL_DESC, json, &msg, err, sizeof(err)), ACTOR_EINVAL);
    assert_string_equal(err, "expected an int");
    assert_null(msg);
    json_decref(json);
}

/* Builds {"id": 0, "children": [ ... ]} nested depth messages deep. */
static json_t *deep_inner(int depth)
{
    json_t *root = json_pack("{s:i}", "id", 0), *cur = root, *child;
    int i;

    for (i = 1; i < depth; i++) {
        child = json_pack("{s:i}", "id", i);
        json_object_set_new(cur, "children", json_pack("[o]", child));
        cur = child;
    }
    return root;
}

static void test_parse_depth_limit(void **state)
{
    json_t *ok = deep_inner(PBJSON_MAX_DEPTH), *deep = deep_inner(PBJSON_MAX_DEPTH + 1);
    ProtobufCMessage *msg = NULL;
    char err[128];
    const char *reason = ": messages nested deeper than 100 levels";

    (void)state;
    assert_int_equal(pbjson_to_message(&pbjson_test__inner__descriptor, ok, &msg, err, sizeof(err)),
                     ACTOR_OK);
    assert_round_trip(msg);
    protobuf_c_message_free_unpacked(msg, NULL);
    msg = NULL;
    assert_int_equal(
        pbjson_to_message(&pbjson_test__inner__descriptor, deep, &msg, err, sizeof(err)),
        ACTOR_EINVAL);
    assert_null(msg);
    /* The path is longer than the buffer: its start stays, marked "...", and so does the reason. */
    assert_int_equal(strncmp(err, "children[0].children[0].", 24), 0);
    assert_string_equal(err + strlen(err) - strlen(reason) - 3,
                        "...: messages nested deeper than 100 levels");
    json_decref(ok);
    json_decref(deep);
}

/* ---- Round trips ---- */

static void test_round_trip_extremes(void **state)
{
    PbjsonTest__All all = PBJSON_TEST__ALL__INIT;
    PbjsonTest__Required req = PBJSON_TEST__REQUIRED__INIT;
    PbjsonTest__Inner inner = PBJSON_TEST__INNER__INIT;
    int64_t i64s[] = {INT64_MIN, -1, 0, INT64_MAX};
    uint64_t u64s[] = {0, (uint64_t)INT64_MAX, (uint64_t)INT64_MAX + 1, UINT64_MAX};
    int32_t i32s[] = {INT32_MIN, -1, 0, INT32_MAX};
    uint32_t u32s[] = {0, UINT32_MAX};
    double doubles[] = {NAN, INFINITY, -INFINITY, -0.0, 0.1, DBL_MAX, DBL_MIN, 4.9e-324, 1e21};
    float floats[] = {NAN, INFINITY, -0.0f, 0.1f, FLT_MAX, FLT_MIN, 1e-45f, 16777217.0f};
    uint8_t all_bytes[256];
    ProtobufCBinaryData bins[] = {{0, NULL}, {sizeof(all_bytes), all_bytes}};
    char *strs[] = {"", "\x01\x1f\"\\/", "\xE2\x82\xAC\xF0\x9F\x98\x80", "\x7f"};
    PbjsonTest__Color colors[] = {0, 1, 2, (PbjsonTest__Color)INT32_MIN,
                                  (PbjsonTest__Color)INT32_MAX};
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(all_bytes); i++)
        all_bytes[i] = (uint8_t)i;
    all.n_r_int64 = all.n_r_sint64 = all.n_r_sfixed64 = 4;
    all.r_int64 = all.r_sint64 = all.r_sfixed64 = i64s;
    all.n_r_uint64 = all.n_r_fixed64 = 4;
    all.r_uint64 = all.r_fixed64 = u64s;
    all.n_r_int32 = all.n_r_sint32 = all.n_r_sfixed32 = all.n_r_packed = 4;
    all.r_int32 = all.r_sint32 = all.r_sfixed32 = all.r_packed = i32s;
    all.n_r_uint32 = all.n_r_fixed32 = 2;
    all.r_uint32 = all.r_fixed32 = u32s;
    all.n_r_double = sizeof(doubles) / sizeof(doubles[0]), all.r_double = doubles;
    all.n_r_float = sizeof(floats) / sizeof(floats[0]), all.r_float = floats;
    all.n_r_bytes = 2, all.r_bytes = bins;
    all.n_r_string = 4, all.r_string = strs;
    all.n_r_enum = 5, all.r_enum = colors;
    all.has_d_uint64 = 1, all.d_uint64 = UINT64_MAX;
    all.has_d_float = 1, all.d_float = -0.5f;
    all.d_string = "hello";
    inner.id = -1;
    inner.label = "";
    req.q_string = "";
    req.q_uint64 = UINT64_MAX;
    req.q_double = -0.0;
    req.q_enum = (PbjsonTest__Color)7;
    req.q_message = &inner;
    all.req = &req;
    all.choice_case = PBJSON_TEST__ALL__CHOICE_O_MESSAGE;
    all.o_message = &inner;
    assert_round_trip(&all.base);
}

/* xorshift64*: a fixed-seed generator, so that the random messages are the same every run. */
static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static uint64_t rng_next(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 2685821657736338717ull;
}

static void *test_malloc_or_fail(size_t size)
{
    void *p = malloc(size);

    assert_non_null(p);
    return p;
}

/* A string of pieces chosen to need JSON escapes and multi-byte UTF-8. */
static char *random_string(void)
{
    static const char *const pieces[] = {
        "a",  "Z",    "0", " ",        "\"",           "\\",
        "\n", "\x01", "/", "\xC3\xA9", "\xE2\x82\xAC", "\xF0\x9D\x84\x9E"};
    size_t n = rng_next() % 6, i;
    char *s = test_malloc_or_fail(4 * 6 + 1);

    s[0] = '\0';
    for (i = 0; i < n; i++)
        strcat(s, pieces[rng_next() % (sizeof(pieces) / sizeof(pieces[0]))]);
    return s;
}

/* A number biased towards the edges of its type. */
static uint64_t random_bits(void)
{
    static const uint64_t edges[] = {0,
                                     1,
                                     UINT64_MAX,
                                     0x7FFFFFFFull,
                                     0x80000000ull,
                                     0xFFFFFFFFull,
                                     (uint64_t)INT64_MAX,
                                     (uint64_t)INT64_MAX + 1};
    uint64_t r = rng_next();

    return r % 3 == 0 ? edges[r / 3 % (sizeof(edges) / sizeof(edges[0]))] : rng_next();
}

static ProtobufCMessage *random_message(const ProtobufCMessageDescriptor *desc, int depth);

/* Fills the value at dst (allocated as protobuf-c's unpack allocates it). */
static void random_value(const ProtobufCFieldDescriptor *f, void *dst, int depth)
{
    uint64_t bits = random_bits();
    uint32_t bits32 = (uint32_t)bits;
    ProtobufCBinaryData *bd = dst;
    size_t i;

    switch (f->type) {
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        memcpy(dst, &bits, sizeof(bits));
        break;
    case PROTOBUF_C_TYPE_DOUBLE:
        memcpy(dst, &bits, sizeof(bits));
        if (isnan(*(double *)dst))
            *(double *)dst = NAN; /* JSON has one NaN */
        break;
    case PROTOBUF_C_TYPE_FLOAT:
        memcpy(dst, &bits32, sizeof(bits32));
        if (isnan(*(float *)dst))
            *(float *)dst = NAN;
        break;
    case PROTOBUF_C_TYPE_BOOL:
        *(protobuf_c_boolean *)dst = bits & 1;
        break;
    case PROTOBUF_C_TYPE_ENUM:
        *(int32_t *)dst = bits % 4 == 0 ? (int32_t)bits32 : (int32_t)(bits % 3);
        break;
    case PROTOBUF_C_TYPE_STRING:
        *(char **)dst = random_string();
        break;
    case PROTOBUF_C_TYPE_BYTES:
        bd->len = bits % 6;
        bd->data = bd->len > 0 ? test_malloc_or_fail(bd->len) : NULL;
        for (i = 0; i < bd->len; i++)
            bd->data[i] = (uint8_t)rng_next();
        break;
    case PROTOBUF_C_TYPE_MESSAGE:
        *(ProtobufCMessage **)dst = random_message(f->descriptor, depth + 1);
        break;
    default: /* 32-bit integers */
        memcpy(dst, &bits32, sizeof(bits32));
        break;
    }
}

static size_t elt_size(ProtobufCType type)
{
    switch (type) {
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
    case PROTOBUF_C_TYPE_DOUBLE:
        return 8;
    case PROTOBUF_C_TYPE_STRING:
        return sizeof(char *);
    case PROTOBUF_C_TYPE_BYTES:
        return sizeof(ProtobufCBinaryData);
    case PROTOBUF_C_TYPE_MESSAGE:
        return sizeof(ProtobufCMessage *);
    default:
        return 4;
    }
}

static void random_field(ProtobufCMessage *msg, const ProtobufCFieldDescriptor *f, int depth)
{
    char *member = (char *)msg + f->offset;
    void *quantifier = (char *)msg + f->quantifier_offset;
    size_t n, i;
    char *arr;

    if (f->label == PROTOBUF_C_LABEL_REPEATED) {
        n = f->type == PROTOBUF_C_TYPE_MESSAGE && depth >= 3 ? 0 : rng_next() % 4;
        arr = n > 0 ? test_malloc_or_fail(n * elt_size(f->type)) : NULL;
        for (i = 0; i < n; i++)
            random_value(f, arr + i * elt_size(f->type), depth);
        *(char **)member = arr;
        *(size_t *)quantifier = n;
        return;
    }
    if (f->label != PROTOBUF_C_LABEL_REQUIRED) {
        if (rng_next() % 2 == 0 || (f->type == PROTOBUF_C_TYPE_MESSAGE && depth >= 3))
            return;
        if ((f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) && *(uint32_t *)quantifier != 0)
            return;
    }
    random_value(f, member, depth);
    if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
        *(uint32_t *)quantifier = f->id;
    else if (f->label == PROTOBUF_C_LABEL_OPTIONAL && f->type != PROTOBUF_C_TYPE_MESSAGE &&
             f->type != PROTOBUF_C_TYPE_STRING)
        *(protobuf_c_boolean *)quantifier = 1;
}

static ProtobufCMessage *random_message(const ProtobufCMessageDescriptor *desc, int depth)
{
    ProtobufCMessage *msg = test_malloc_or_fail(desc->sizeof_message);
    unsigned i;

    protobuf_c_message_init(desc, msg);
    for (i = 0; i < desc->n_fields; i++)
        random_field(msg, &desc->fields[i], depth);
    return msg;
}

static void test_round_trip_random_messages(void **state)
{
    const ProtobufCMessageDescriptor *descs[] = {ALL_DESC, &pbjson_test__required__descriptor,
                                                 &pbjson_test__subscribe__descriptor};
    ProtobufCMessage *msg;
    int i;

    (void)state;
    for (i = 0; i < 600; i++) {
        msg = random_message(descs[i % 3], 0);
        assert_true(protobuf_c_message_check(msg));
        assert_round_trip(msg);
        protobuf_c_message_free_unpacked(msg, NULL);
    }
}

static void test_round_trip_json_documents(void **state)
{
    static const char *const docs[] = {
        "{\"framework_info\":{\"user\":\"root\",\"name\":\"marathon\",\"id\":{\"value\":\"x\"},"
        "\"failover_timeout\":604800.0,\"checkpoint\":true,\"resources\":[{\"name\":\"ports\","
        "\"type\":\"RANGES\"},{\"name\":\"cpus\",\"type\":\"SCALAR\",\"scalar\":{\"value\":0.5}}]}"
        "}",
        "{\"framework_info\":{\"user\":\"\",\"name\":\"\\u0001\\u00e9\"}}",
    };
    json_t *json, *back = NULL;
    ProtobufCMessage *msg;
    size_t i;

    (void)state;
    /* Canonical JSON (as rendered) survives JSON -> message -> JSON unchanged. */
    for (i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
        json = json_parse(docs[i]);
        msg = parse_ok(&pbjson_test__subscribe__descriptor, docs[i]);
        assert_int_equal(pbjson_from_message(msg, &back), ACTOR_OK);
        assert_true(json_equal(json, back));
        json_decref(back);
        json_decref(json);
        protobuf_c_message_free_unpacked(msg, NULL);
    }
}

/* ---- Allocation failures ---- */

/* Counts live allocations and fails the one after `budget` successes. */
typedef struct fault {
    size_t budget; /* allocations left before one fails */
    long live;     /* allocated and not yet freed */
} fault_t;

static fault_t jansson_fault;

static void *fault_jansson_malloc(size_t size)
{
    if (jansson_fault.budget == 0)
        return NULL;
    jansson_fault.budget--;
    jansson_fault.live++;
    return malloc(size);
}

static void fault_jansson_free(void *p)
{
    if (p != NULL)
        jansson_fault.live--;
    free(p);
}

static void *fault_pb_alloc(void *data, size_t size)
{
    fault_t *fault = data;

    if (fault->budget == 0)
        return NULL;
    fault->budget--;
    fault->live++;
    return malloc(size);
}

static void fault_pb_free(void *data, void *p)
{
    fault_t *fault = data;

    if (p != NULL)
        fault->live--;
    free(p);
}

static const char FAULT_DOC[] =
    "{\"f_string\": \"s\", \"f_bytes\": \"AQI=\", \"f_message\": {\"id\": 1, \"label\": \"l\"},"
    " \"r_string\": [\"a\", \"\", \"c\"], \"r_bytes\": [\"\", \"AA==\"], \"r_int64\": [1, 2],"
    " \"r_message\": [{\"id\": 1, \"children\": [{\"id\": 2}]}, {\"id\": 3}], \"r_enum\": [1],"
    " \"o_message\": {\"id\": 9, \"label\": \"o\"}, \"d_string\": \"d\", \"f_double\": \"NaN\","
    " \"r_double\": [1.5, 2], \"f_uint64\": \"18446744073709551615\", \"f_enum\": 42,"
    " \"req\": {\"q_int32\": 1, \"q_uint64\": 2, \"q_double\": 3, \"q_bool\": true,"
    "  \"q_string\": \"s\", \"q_bytes\": \"AQ==\", \"q_enum\": \"RED\", \"q_message\": {\"id\": "
    "1}}}";

static void test_from_message_out_of_memory(void **state)
{
    ProtobufCMessage *msg = parse_ok(ALL_DESC, FAULT_DOC);
    json_t *json = NULL, *sentinel = json_null();
    size_t budget;
    actor_err_t err = ACTOR_ENOMEM;

    (void)state;
    json_set_alloc_funcs(fault_jansson_malloc, fault_jansson_free);
    for (budget = 0; err != ACTOR_OK && budget < 10000; budget++) {
        jansson_fault = (fault_t){budget, 0};
        json = sentinel;
        err = pbjson_from_message(msg, &json);
        if (err != ACTOR_OK) {
            assert_int_equal(err, ACTOR_ENOMEM);
            assert_ptr_equal(json, sentinel);
            assert_int_equal(jansson_fault.live, 0);
        }
    }
    assert_int_equal(err, ACTOR_OK);
    assert_true(budget > 20); /* every object, array and value was made to fail once */
    json_decref(json);
    assert_int_equal(jansson_fault.live, 0);
    json_set_alloc_funcs(malloc, free);
    protobuf_c_message_free_unpacked(msg, NULL);
}

static void test_to_message_out_of_memory(void **state)
{
    json_t *json = json_parse(FAULT_DOC);
    fault_t fault = {0, 0};
    ProtobufCAllocator allocator = {fault_pb_alloc, fault_pb_free, &fault};
    pbjson_opts_t opts = {0, &allocator};
    ProtobufCMessage *sentinel = (ProtobufCMessage *)&fault, *msg = sentinel;
    size_t budget;
    actor_err_t err = ACTOR_ENOMEM;
    char errbuf[64];

    (void)state;
    for (budget = 0; err != ACTOR_OK && budget < 10000; budget++) {
        fault = (fault_t){budget, 0};
        err = pbjson_to_message_ex(ALL_DESC, json, &opts, &msg, errbuf, sizeof(errbuf));
        if (err != ACTOR_OK) {
            assert_int_equal(err, ACTOR_ENOMEM);
            assert_string_equal(errbuf, "out of memory");
            assert_ptr_equal(msg, sentinel);
            assert_int_equal(fault.live, 0);
        }
    }
    assert_int_equal(err, ACTOR_OK);
    assert_true(budget > 20);
    protobuf_c_message_free_unpacked(msg, &allocator);
    assert_int_equal(fault.live, 0);
    json_decref(json);
}

/* A parsed message holds exactly the allocations protobuf-c's unpack of it would hold, so that
 * free_unpacked (which mirrors unpack) releases it with nothing left over or freed twice. */
static void test_to_message_allocates_like_unpack(void **state)
{
    json_t *json = json_parse(FAULT_DOC);
    fault_t ours = {SIZE_MAX, 0}, theirs = {SIZE_MAX, 0};
    ProtobufCAllocator our_alloc = {fault_pb_alloc, fault_pb_free, &ours};
    ProtobufCAllocator their_alloc = {fault_pb_alloc, fault_pb_free, &theirs};
    pbjson_opts_t opts = {0, &our_alloc};
    ProtobufCMessage *msg = NULL, *unpacked;
    size_t len;
    uint8_t *packed;

    (void)state;
    assert_int_equal(pbjson_to_message_ex(ALL_DESC, json, &opts, &msg, NULL, 0), ACTOR_OK);
    len = protobuf_c_message_get_packed_size(msg);
    packed = test_malloc_or_fail(len);
    protobuf_c_message_pack(msg, packed);
    unpacked = protobuf_c_message_unpack(ALL_DESC, &their_alloc, len, packed);
    assert_non_null(unpacked);
    assert_int_equal(ours.live, theirs.live);
    protobuf_c_message_free_unpacked(msg, &our_alloc);
    protobuf_c_message_free_unpacked(unpacked, &their_alloc);
    assert_int_equal(ours.live, 0);
    assert_int_equal(theirs.live, 0);
    free(packed);
    json_decref(json);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_render_empty_omits_unset_and_defaults),
        cmocka_unit_test(test_render_scalars),
        cmocka_unit_test(test_render_repeated_and_empty_repeated),
        cmocka_unit_test(test_render_defaults_when_set),
        cmocka_unit_test(test_render_oneof_members),
        cmocka_unit_test(test_render_special_doubles),
        cmocka_unit_test(test_render_invalid_utf8_is_replaced),
        cmocka_unit_test(test_render_base64_lengths),
        cmocka_unit_test(test_render_mesos_shape),
        cmocka_unit_test(test_render_proto3_fields_without_presence),
        cmocka_unit_test(test_parse_every_type),
        cmocka_unit_test(test_parse_leaves_defaults),
        cmocka_unit_test(test_parse_enum_by_name_or_number),
        cmocka_unit_test(test_parse_special_doubles_and_base64_forms),
        cmocka_unit_test(test_parse_null_means_unset),
        cmocka_unit_test(test_parse_unknown_keys),
        cmocka_unit_test(test_parse_rejects_bad_input),
        cmocka_unit_test(test_parse_error_names_mesos_path),
        cmocka_unit_test(test_parse_error_buffer_sizes),
        cmocka_unit_test(test_parse_depth_limit),
        cmocka_unit_test(test_round_trip_extremes),
        cmocka_unit_test(test_round_trip_random_messages),
        cmocka_unit_test(test_round_trip_json_documents),
        cmocka_unit_test(test_from_message_out_of_memory),
        cmocka_unit_test(test_to_message_out_of_memory),
        cmocka_unit_test(test_to_message_allocates_like_unpack),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
