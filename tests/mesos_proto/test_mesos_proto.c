/*
 * test_mesos_proto.c: the protocol definitions in proto/ (mesos.proto, scheduler.proto,
 * executor.proto, internal.proto).
 *
 * Builds realistic messages of each file, packs and unpacks them (the bytes must survive
 * unchanged), renders them to JSON with actor/pbjson.h and parses them back (the same bytes
 * again), and checks the JSON against the shapes of Mesos's v1 API. A few messages are also
 * compared with packed bytes worked out by hand from Mesos's field numbers, and the enums and
 * defaults are checked against Mesos's definitions, so that a renumbered field or a dropped value
 * shows up here rather than as a silent incompatibility.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actor/pbjson.h"
#include "executor.pb-c.h"
#include "internal.pb-c.h"
#include "mesos.pb-c.h"
#include "scheduler.pb-c.h"

/* ---- Helpers ---- */

static json_t *json_parse(const char *text)
{
    json_error_t jerr;
    json_t *json = json_loads(text, JSON_DECODE_ANY, &jerr);

    if (json == NULL)
        fail_msg("bad JSON in the test: %s: %s", jerr.text, text);
    return json;
}

static uint8_t *pack(const ProtobufCMessage *msg, size_t *len)
{
    uint8_t *buf;

    *len = protobuf_c_message_get_packed_size(msg);
    buf = malloc(*len + 1);
    assert_non_null(buf);
    assert_int_equal(protobuf_c_message_pack(msg, buf), *len);
    return buf;
}

static void assert_packed_equal(const ProtobufCMessage *a, const ProtobufCMessage *b)
{
    size_t na, nb;
    uint8_t *pa = pack(a, &na), *pb = pack(b, &nb);

    assert_int_equal(na, nb);
    assert_memory_equal(pa, pb, na);
    free(pa);
    free(pb);
}

/* Compares msg's packed bytes with bytes worked out by hand. */
static void assert_packs_to(const ProtobufCMessage *msg, const uint8_t *want, size_t want_len)
{
    size_t len;
    uint8_t *got = pack(msg, &len);

    assert_int_equal(len, want_len);
    assert_memory_equal(got, want, want_len);
    free(got);
}

/* True when every key of the object want is in got with a matching value, recursively; arrays
 * must have the same length and match element by element; other values must be equal. */
static int json_subset(const json_t *want, const json_t *got)
{
    const char *key;
    json_t *value;
    size_t i;

    if (json_is_object(want)) {
        if (!json_is_object(got))
            return 0;
        json_object_foreach((json_t *)want, key, value)
        {
            if (!json_subset(value, json_object_get(got, key)))
                return 0;
        }
        return 1;
    }
    if (json_is_array(want)) {
        if (!json_is_array(got) || json_array_size(want) != json_array_size(got))
            return 0;
        for (i = 0; i < json_array_size(want); i++) {
            if (!json_subset(json_array_get(want, i), json_array_get(got, i)))
                return 0;
        }
        return 1;
    }
    return got != NULL && json_equal(want, got);
}

/* Checks that json contains the JSON text expected (see json_subset). */
static void assert_json_has(const json_t *json, const char *expected)
{
    json_t *want = json_parse(expected);
    char *text;

    if (!json_subset(want, json)) {
        text = json_dumps(json, JSON_COMPACT | JSON_SORT_KEYS);
        fail_msg("rendered %s, which lacks %s", text, expected);
    }
    json_decref(want);
}

/* Checks that json is exactly the JSON text expected (key order aside). */
static void assert_json_is(const json_t *json, const char *expected)
{
    json_t *want = json_parse(expected);
    char *text;

    if (!json_equal(want, (json_t *)json)) {
        text = json_dumps(json, JSON_COMPACT | JSON_SORT_KEYS);
        fail_msg("rendered %s, expected %s", text, expected);
    }
    json_decref(want);
}

/* Packs msg, unpacks it and packs again: same bytes. Renders msg to JSON, parses that (also
 * through its text) and packs the result: same bytes; renders again: same JSON. Returns the JSON
 * for shape checks; the caller owns it. */
static json_t *round_trip(const ProtobufCMessage *msg)
{
    json_t *json = NULL, *again = NULL, *reloaded;
    ProtobufCMessage *unpacked, *parsed = NULL, *parsed2 = NULL;
    uint8_t *buf;
    size_t len;
    char err[256], *text;

    assert_true(protobuf_c_message_check(msg));
    buf = pack(msg, &len);
    unpacked = protobuf_c_message_unpack(msg->descriptor, NULL, len, buf);
    assert_non_null(unpacked);
    assert_packed_equal(msg, unpacked);

    assert_int_equal(pbjson_from_message(msg, &json), ACTOR_OK);
    if (pbjson_to_message(msg->descriptor, json, &parsed, err, sizeof(err)) != ACTOR_OK)
        fail_msg("parsing the rendering of %s failed: %s", msg->descriptor->name, err);
    assert_packed_equal(msg, parsed);
    assert_int_equal(pbjson_from_message(unpacked, &again), ACTOR_OK);
    assert_true(json_equal(json, again));

    text = json_dumps(json, JSON_COMPACT);
    assert_non_null(text);
    reloaded = json_parse(text);
    if (pbjson_to_message(msg->descriptor, reloaded, &parsed2, err, sizeof(err)) != ACTOR_OK)
        fail_msg("parsing %s failed: %s", text, err);
    assert_packed_equal(msg, parsed2);

    free(text);
    json_decref(reloaded);
    json_decref(again);
    protobuf_c_message_free_unpacked(parsed2, NULL);
    protobuf_c_message_free_unpacked(parsed, NULL);
    protobuf_c_message_free_unpacked(unpacked, NULL);
    free(buf);
    return json;
}

/* Parses JSON text into a message of type desc, failing the test on an error. The caller frees
 * the result with protobuf_c_message_free_unpacked. */
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

/* ---- Shared fixtures: resources as an agent with cpus:0.5;mem:128;ports:[31000-32000] ---- */

typedef struct resources {
    Mesos__Value__Scalar cpus_value, mem_value;
    Mesos__Value__Range port_range;
    Mesos__Value__Range *port_range_list[1];
    Mesos__Value__Ranges ports_value;
    Mesos__Resource cpus, mem, ports;
    Mesos__Resource *list[3];
} resources_t;

static void resources_init(resources_t *r)
{
    *r = (resources_t){
        .cpus_value = MESOS__VALUE__SCALAR__INIT,
        .mem_value = MESOS__VALUE__SCALAR__INIT,
        .port_range = MESOS__VALUE__RANGE__INIT,
        .ports_value = MESOS__VALUE__RANGES__INIT,
        .cpus = MESOS__RESOURCE__INIT,
        .mem = MESOS__RESOURCE__INIT,
        .ports = MESOS__RESOURCE__INIT,
    };
    r->cpus_value.value = 0.5;
    r->cpus.name = "cpus";
    r->cpus.type = MESOS__VALUE__TYPE__SCALAR;
    r->cpus.scalar = &r->cpus_value;
    r->mem_value.value = 128;
    r->mem.name = "mem";
    r->mem.type = MESOS__VALUE__TYPE__SCALAR;
    r->mem.scalar = &r->mem_value;
    r->port_range.begin = 31000;
    r->port_range.end = 32000;
    r->port_range_list[0] = &r->port_range;
    r->ports_value.n_range = 1;
    r->ports_value.range = r->port_range_list;
    r->ports.name = "ports";
    r->ports.type = MESOS__VALUE__TYPE__RANGES;
    r->ports.ranges = &r->ports_value;
    r->list[0] = &r->cpus;
    r->list[1] = &r->mem;
    r->list[2] = &r->ports;
}

#define RESOURCES_JSON                                                                             \
    "[{\"name\": \"cpus\", \"type\": \"SCALAR\", \"scalar\": {\"value\": 0.5}},"                   \
    " {\"name\": \"mem\", \"type\": \"SCALAR\", \"scalar\": {\"value\": 128.0}},"                  \
    " {\"name\": \"ports\", \"type\": \"RANGES\","                                                 \
    "  \"ranges\": {\"range\": [{\"begin\": 31000, \"end\": 32000}]}}]"

/* A framework as Marathon subscribes: a week of failover timeout, checkpointing, partition
 * aware. */
typedef struct framework {
    Mesos__FrameworkInfo info;
    Mesos__FrameworkInfo__Capability caps[3];
    Mesos__FrameworkInfo__Capability *cap_list[3];
    char *roles[1];
} framework_t;

static void framework_init(framework_t *f)
{
    static const Mesos__FrameworkInfo__Capability__Type types[3] = {
        MESOS__FRAMEWORK_INFO__CAPABILITY__TYPE__PARTITION_AWARE,
        MESOS__FRAMEWORK_INFO__CAPABILITY__TYPE__TASK_KILLING_STATE,
        MESOS__FRAMEWORK_INFO__CAPABILITY__TYPE__MULTI_ROLE,
    };
    size_t i;

    f->info = (Mesos__FrameworkInfo)MESOS__FRAMEWORK_INFO__INIT;
    for (i = 0; i < 3; i++) {
        f->caps[i] = (Mesos__FrameworkInfo__Capability)MESOS__FRAMEWORK_INFO__CAPABILITY__INIT;
        f->caps[i].has_type = 1;
        f->caps[i].type = types[i];
        f->cap_list[i] = &f->caps[i];
    }
    f->roles[0] = "marathon";
    f->info.user = "root";
    f->info.name = "marathon";
    f->info.has_failover_timeout = 1;
    f->info.failover_timeout = 604800;
    f->info.has_checkpoint = 1;
    f->info.checkpoint = 1;
    f->info.n_roles = 1;
    f->info.roles = f->roles;
    f->info.hostname = "m1.example.com";
    f->info.principal = "marathon";
    f->info.webui_url = "http://m1.example.com:8080";
    f->info.n_capabilities = 3;
    f->info.capabilities = f->cap_list;
}

#define FRAMEWORK_JSON                                                                             \
    "{\"user\": \"root\", \"name\": \"marathon\", \"failover_timeout\": 604800.0,"                 \
    " \"checkpoint\": true, \"roles\": [\"marathon\"], \"hostname\": \"m1.example.com\","          \
    " \"principal\": \"marathon\", \"webui_url\": \"http://m1.example.com:8080\","                 \
    " \"capabilities\": [{\"type\": \"PARTITION_AWARE\"}, {\"type\": \"TASK_KILLING_STATE\"},"     \
    "  {\"type\": \"MULTI_ROLE\"}]}"

/* ---- mesos.proto ---- */

static void test_framework_info(void **state)
{
    framework_t f;
    json_t *json;
    ProtobufCMessage *parsed;
    Mesos__FrameworkInfo *info;

    (void)state;
    framework_init(&f);
    json = round_trip(&f.info.base);
    /* `role` is at its default ("*") and not rendered, as Mesos omits unset fields. */
    assert_json_is(json, FRAMEWORK_JSON);
    json_decref(json);

    /* A subscription as a v1 client writes it: unset fields take Mesos's defaults. */
    parsed = parse_ok(&mesos__framework_info__descriptor,
                      "{\"user\": \"u\", \"name\": \"n\", \"id\": {\"value\": \"F-1\"}}");
    info = (Mesos__FrameworkInfo *)parsed;
    assert_string_equal(info->id->value, "F-1");
    assert_false(info->has_failover_timeout);
    assert_true(info->failover_timeout == 0.0);
    assert_false(info->checkpoint);
    assert_string_equal(info->role, "*");
    protobuf_c_message_free_unpacked(parsed, NULL);
}

static void test_offer_resources(void **state)
{
    Mesos__Offer offer = MESOS__OFFER__INIT;
    Mesos__OfferID id = MESOS__OFFER_ID__INIT;
    Mesos__FrameworkID fid = MESOS__FRAMEWORK_ID__INIT;
    Mesos__AgentID aid = MESOS__AGENT_ID__INIT;
    Mesos__Attribute rack = MESOS__ATTRIBUTE__INIT;
    Mesos__Value__Text rack_value = MESOS__VALUE__TEXT__INIT;
    Mesos__Attribute *attrs[1] = {&rack};
    resources_t r;
    json_t *json;

    (void)state;
    resources_init(&r);
    id.value = "O-7";
    fid.value = "F-1";
    aid.value = "A-S0";
    rack_value.value = "r1";
    rack.name = "rack";
    rack.type = MESOS__VALUE__TYPE__TEXT;
    rack.text = &rack_value;
    offer.id = &id;
    offer.framework_id = &fid;
    offer.agent_id = &aid;
    offer.hostname = "agent1";
    offer.n_resources = 3;
    offer.resources = r.list;
    offer.n_attributes = 1;
    offer.attributes = attrs;

    json = round_trip(&offer.base);
    assert_json_is(json, "{\"id\": {\"value\": \"O-7\"}, \"framework_id\": {\"value\": \"F-1\"},"
                         " \"agent_id\": {\"value\": \"A-S0\"}, \"hostname\": \"agent1\","
                         " \"resources\": " RESOURCES_JSON ","
                         " \"attributes\": [{\"name\": \"rack\", \"type\": \"TEXT\","
                         "  \"text\": {\"value\": \"r1\"}}]}");
    json_decref(json);
}

/* Mesos's field numbers, checked against bytes worked out by hand: Resource name 1, type 2,
 * scalar 3, ranges 4; Scalar.value 1 (double); Ranges.range 1; Range begin 1, end 2. */
static void test_resource_wire_format(void **state)
{
    static const uint8_t cpus[] = {
        0x0a, 0x04, 'c',  'p',  'u',  's', /* name */
        0x10, 0x00,                        /* type SCALAR (required, so always written) */
        0x1a, 0x09, 0x09, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xe0, 0x3f, /* scalar {0.5} */
    };
    static const uint8_t ports[] = {
        0x0a, 0x05, 'p',  'o',  'r', 't', 's', /* name */
        0x10, 0x01,                            /* type RANGES */
        0x22, 0x0a, 0x0a, 0x08,                /* ranges { range { */
        0x08, 0x98, 0xf2, 0x01,                /* begin 31000 */
        0x10, 0x80, 0xfa, 0x01,                /* end 32000 } } */
    };
    resources_t r;

    (void)state;
    resources_init(&r);
    assert_packs_to(&r.cpus.base, cpus, sizeof(cpus));
    assert_packs_to(&r.ports.base, ports, sizeof(ports));
}

static void test_task_info_command(void **state)
{
    Mesos__TaskInfo task = MESOS__TASK_INFO__INIT;
    Mesos__TaskID tid = MESOS__TASK_ID__INIT;
    Mesos__AgentID aid = MESOS__AGENT_ID__INIT;
    Mesos__CommandInfo cmd = MESOS__COMMAND_INFO__INIT;
    Mesos__CommandInfo__URI uri1 = MESOS__COMMAND_INFO__URI__INIT;
    Mesos__CommandInfo__URI uri2 = MESOS__COMMAND_INFO__URI__INIT;
    Mesos__CommandInfo__URI *uris[2] = {&uri1, &uri2};
    Mesos__Environment env = MESOS__ENVIRONMENT__INIT;
    Mesos__Environment__Variable v1 = MESOS__ENVIRONMENT__VARIABLE__INIT;
    Mesos__Environment__Variable v2 = MESOS__ENVIRONMENT__VARIABLE__INIT;
    Mesos__Environment__Variable *vars[2] = {&v1, &v2};
    Mesos__HealthCheck hc = MESOS__HEALTH_CHECK__INIT;
    Mesos__HealthCheck__HTTPCheckInfo http = MESOS__HEALTH_CHECK__HTTPCHECK_INFO__INIT;
    Mesos__Label label = MESOS__LABEL__INIT;
    Mesos__Label *label_list[1] = {&label};
    Mesos__Labels labels = MESOS__LABELS__INIT;
    resources_t r;
    json_t *json;

    (void)state;
    resources_init(&r);
    uri1.value = "http://repo.example.com/web-app.tgz";
    uri1.has_cache = 1, uri1.cache = 1;
    uri2.value = "http://repo.example.com/run.sh";
    uri2.has_executable = 1, uri2.executable = 1;
    uri2.has_extract = 1, uri2.extract = 0;
    uri2.output_file = "bin/run.sh";
    v1.name = "PORT0", v1.value = "31000";
    v2.name = "MODE", v2.value = "prod";
    v2.has_type = 1, v2.type = MESOS__ENVIRONMENT__VARIABLE__TYPE__VALUE;
    env.n_variables = 2, env.variables = vars;
    cmd.n_uris = 2, cmd.uris = uris;
    cmd.environment = &env;
    cmd.value = "./bin/run.sh --port $PORT0";
    cmd.user = "nobody";
    http.port = 31000, http.path = "/health";
    hc.has_type = 1, hc.type = MESOS__HEALTH_CHECK__TYPE__HTTP;
    hc.http = &http;
    hc.has_interval_seconds = 1, hc.interval_seconds = 5;
    label.key = "owner", label.value = "web";
    labels.n_labels = 1, labels.labels = label_list;
    tid.value = "web-app.1";
    aid.value = "A-S0";
    task.name = "web-app";
    task.task_id = &tid;
    task.agent_id = &aid;
    task.n_resources = 3, task.resources = r.list;
    task.command = &cmd;
    task.health_check = &hc;
    task.labels = &labels;

    json = round_trip(&task.base);
    assert_json_is(
        json, "{\"name\": \"web-app\", \"task_id\": {\"value\": \"web-app.1\"},"
              " \"agent_id\": {\"value\": \"A-S0\"}, \"resources\": " RESOURCES_JSON ","
              " \"command\": {\"uris\": [{\"value\": \"http://repo.example.com/web-app.tgz\","
              "   \"cache\": true},"
              "  {\"value\": \"http://repo.example.com/run.sh\", \"executable\": true,"
              "   \"extract\": false, \"output_file\": \"bin/run.sh\"}],"
              "  \"environment\": {\"variables\": [{\"name\": \"PORT0\", \"value\": \"31000\"},"
              "   {\"name\": \"MODE\", \"type\": \"VALUE\", \"value\": \"prod\"}]},"
              "  \"value\": \"./bin/run.sh --port $PORT0\", \"user\": \"nobody\"},"
              " \"health_check\": {\"type\": \"HTTP\", \"interval_seconds\": 5.0,"
              "  \"http\": {\"port\": 31000, \"path\": \"/health\"}},"
              " \"labels\": {\"labels\": [{\"key\": \"owner\", \"value\": \"web\"}]}}");
    json_decref(json);
}

static void test_task_status_failed(void **state)
{
    static const uint8_t uuid_bytes[16] = {0x6b, 0xa7, 0xb8, 0x10, 0x9d, 0xad, 0x11, 0xd1,
                                           0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8};
    Mesos__TaskStatus st = MESOS__TASK_STATUS__INIT;
    Mesos__TaskID tid = MESOS__TASK_ID__INIT;
    Mesos__AgentID aid = MESOS__AGENT_ID__INIT;
    Mesos__ExecutorID eid = MESOS__EXECUTOR_ID__INIT;
    json_t *json;

    (void)state;
    tid.value = "web-app.1";
    aid.value = "A-S0";
    eid.value = "web-app.1";
    st.task_id = &tid;
    st.state = MESOS__TASK_STATE__TASK_FAILED;
    st.message = "Memory limit exceeded: Requested: 128MB Maximum Used: 129MB";
    st.has_source = 1, st.source = MESOS__TASK_STATUS__SOURCE__SOURCE_AGENT;
    st.has_reason = 1, st.reason = MESOS__TASK_STATUS__REASON__REASON_CONTAINER_LIMITATION_MEMORY;
    st.agent_id = &aid;
    st.executor_id = &eid;
    st.has_timestamp = 1, st.timestamp = 1700000000.25;
    st.has_uuid = 1, st.uuid = (ProtobufCBinaryData){sizeof(uuid_bytes), (uint8_t *)uuid_bytes};

    json = round_trip(&st.base);
    assert_json_has(json, "{\"state\": \"TASK_FAILED\", \"source\": \"SOURCE_AGENT\","
                          " \"reason\": \"REASON_CONTAINER_LIMITATION_MEMORY\","
                          " \"task_id\": {\"value\": \"web-app.1\"},"
                          " \"agent_id\": {\"value\": \"A-S0\"}, \"timestamp\": 1700000000.25,"
                          " \"uuid\": \"a6e4EJ2tEdGAtADAT9QwyA==\"}");
    json_decref(json);
}

/* TaskStatus task_id 1, state 2 (TASK_FAILED = 3), reason 10 (REASON_CONTAINER_LIMITATION_MEMORY
 * = 8), source 9 (SOURCE_AGENT = 1). */
static void test_task_status_wire_format(void **state)
{
    static const uint8_t want[] = {
        0x0a, 0x03, 0x0a, 0x01, 't', /* task_id { value "t" } */
        0x10, 0x03,                  /* state TASK_FAILED */
        0x48, 0x01,                  /* source SOURCE_AGENT */
        0x50, 0x08,                  /* reason REASON_CONTAINER_LIMITATION_MEMORY */
    };
    Mesos__TaskStatus st = MESOS__TASK_STATUS__INIT;
    Mesos__TaskID tid = MESOS__TASK_ID__INIT;

    (void)state;
    tid.value = "t";
    st.task_id = &tid;
    st.state = MESOS__TASK_STATE__TASK_FAILED;
    st.has_source = 1, st.source = MESOS__TASK_STATUS__SOURCE__SOURCE_AGENT;
    st.has_reason = 1, st.reason = MESOS__TASK_STATUS__REASON__REASON_CONTAINER_LIMITATION_MEMORY;
    assert_packs_to(&st.base, want, sizeof(want));
}

/* Every TaskState of Mesos, by name, with Mesos's number. */
static void test_task_state_values(void **state)
{
    static const struct {
        const char *name;
        int value;
    } states[] = {
        {"TASK_STAGING", 6},
        {"TASK_STARTING", 0},
        {"TASK_RUNNING", 1},
        {"TASK_KILLING", 8},
        {"TASK_FINISHED", 2},
        {"TASK_FAILED", 3},
        {"TASK_KILLED", 4},
        {"TASK_ERROR", 7},
        {"TASK_LOST", 5},
        {"TASK_DROPPED", 9},
        {"TASK_UNREACHABLE", 10},
        {"TASK_GONE", 11},
        {"TASK_GONE_BY_OPERATOR", 12},
        {"TASK_UNKNOWN", 13},
    };
    const ProtobufCEnumDescriptor *desc = &mesos__task_state__descriptor;
    const ProtobufCEnumValue *v;
    size_t i;

    (void)state;
    assert_string_equal(desc->name, "mesos.TaskState");
    assert_int_equal(desc->n_values, sizeof(states) / sizeof(states[0]));
    for (i = 0; i < sizeof(states) / sizeof(states[0]); i++) {
        v = protobuf_c_enum_descriptor_get_value_by_name(desc, states[i].name);
        if (v == NULL)
            fail_msg("TaskState has no %s", states[i].name);
        assert_int_equal(v->value, states[i].value);
        assert_string_equal(protobuf_c_enum_descriptor_get_value(desc, v->value)->name,
                            states[i].name);
    }
}

/* Every TaskStatus.Reason of Mesos (1.11), with Mesos's number. */
static void test_task_status_reason_values(void **state)
{
    static const struct {
        const char *name;
        int value;
    } reasons[] = {
        {"REASON_COMMAND_EXECUTOR_FAILED", 0},
        {"REASON_CONTAINER_LAUNCH_FAILED", 21},
        {"REASON_CONTAINER_LIMITATION", 19},
        {"REASON_CONTAINER_LIMITATION_DISK", 20},
        {"REASON_CONTAINER_LIMITATION_MEMORY", 8},
        {"REASON_CONTAINER_PREEMPTED", 17},
        {"REASON_CONTAINER_UPDATE_FAILED", 22},
        {"REASON_MAX_COMPLETION_TIME_REACHED", 33},
        {"REASON_EXECUTOR_REGISTRATION_TIMEOUT", 23},
        {"REASON_EXECUTOR_REREGISTRATION_TIMEOUT", 24},
        {"REASON_EXECUTOR_TERMINATED", 1},
        {"REASON_EXECUTOR_UNREGISTERED", 2},
        {"REASON_FRAMEWORK_REMOVED", 3},
        {"REASON_GC_ERROR", 4},
        {"REASON_INVALID_FRAMEWORKID", 5},
        {"REASON_INVALID_OFFERS", 6},
        {"REASON_IO_SWITCHBOARD_EXITED", 27},
        {"REASON_MASTER_DISCONNECTED", 7},
        {"REASON_RECONCILIATION", 9},
        {"REASON_RESOURCES_UNKNOWN", 18},
        {"REASON_AGENT_DISCONNECTED", 10},
        {"REASON_AGENT_DRAINING", 34},
        {"REASON_AGENT_REMOVED", 11},
        {"REASON_AGENT_REMOVED_BY_OPERATOR", 31},
        {"REASON_AGENT_REREGISTERED", 32},
        {"REASON_AGENT_RESTARTED", 12},
        {"REASON_AGENT_UNKNOWN", 13},
        {"REASON_TASK_KILLED_DURING_LAUNCH", 30},
        {"REASON_TASK_CHECK_STATUS_UPDATED", 28},
        {"REASON_TASK_HEALTH_CHECK_STATUS_UPDATED", 29},
        {"REASON_TASK_GROUP_INVALID", 25},
        {"REASON_TASK_GROUP_UNAUTHORIZED", 26},
        {"REASON_TASK_INVALID", 14},
        {"REASON_TASK_UNAUTHORIZED", 15},
        {"REASON_TASK_UNKNOWN", 16},
    };
    const ProtobufCEnumDescriptor *desc = &mesos__task_status__reason__descriptor;
    const ProtobufCEnumValue *v;
    size_t i;

    (void)state;
    assert_int_equal(desc->n_values, sizeof(reasons) / sizeof(reasons[0]));
    for (i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++) {
        v = protobuf_c_enum_descriptor_get_value_by_name(desc, reasons[i].name);
        if (v == NULL)
            fail_msg("TaskStatus.Reason has no %s", reasons[i].name);
        assert_int_equal(v->value, reasons[i].value);
    }
}

/* Mesos's defaults, on a fresh struct and on a message decoded from empty input. */
static void test_defaults(void **state)
{
    Mesos__Filters filters = MESOS__FILTERS__INIT;
    Mesos__CommandInfo cmd = MESOS__COMMAND_INFO__INIT;
    Mesos__CommandInfo__URI uri = MESOS__COMMAND_INFO__URI__INIT;
    Mesos__HealthCheck hc = MESOS__HEALTH_CHECK__INIT;
    Mesos__MasterInfo master = MESOS__MASTER_INFO__INIT;
    Mesos__AgentInfo agent = MESOS__AGENT_INFO__INIT;
    Mesos__Resource res = MESOS__RESOURCE__INIT;
    Mesos__Environment__Variable var = MESOS__ENVIRONMENT__VARIABLE__INIT;
    Mesos__Filters *unpacked;

    (void)state;
    assert_true(filters.refuse_seconds == 5.0);
    assert_true(cmd.shell);
    assert_true(uri.extract);
    assert_true(hc.delay_seconds == 15.0 && hc.interval_seconds == 10.0);
    assert_true(hc.timeout_seconds == 20.0 && hc.grace_period_seconds == 10.0);
    assert_int_equal(hc.consecutive_failures, 3);
    assert_int_equal(master.port, 5050);
    assert_int_equal(agent.port, 5051);
    assert_string_equal(res.role, "*");
    assert_int_equal(var.type, MESOS__ENVIRONMENT__VARIABLE__TYPE__VALUE);

    unpacked = mesos__filters__unpack(NULL, 0, (const uint8_t *)"");
    assert_non_null(unpacked);
    assert_false(unpacked->has_refuse_seconds);
    assert_true(unpacked->refuse_seconds == 5.0);
    mesos__filters__free_unpacked(unpacked, NULL);
}

/* ---- scheduler.proto ---- */

static void test_scheduler_call_subscribe(void **state)
{
    Mesos__Scheduler__Call call = MESOS__SCHEDULER__CALL__INIT;
    Mesos__Scheduler__Call__Subscribe sub = MESOS__SCHEDULER__CALL__SUBSCRIBE__INIT;
    Mesos__Scheduler__Call *parsed;
    framework_t f;
    json_t *json;

    (void)state;
    framework_init(&f);
    sub.framework_info = &f.info;
    call.has_type = 1, call.type = MESOS__SCHEDULER__CALL__TYPE__SUBSCRIBE;
    call.subscribe = &sub;
    json = round_trip(&call.base);
    assert_json_is(
        json, "{\"type\": \"SUBSCRIBE\", \"subscribe\": {\"framework_info\": " FRAMEWORK_JSON "}}");
    json_decref(json);

    /* The body of a SUBSCRIBE request in Mesos's scheduler HTTP API documentation. */
    parsed = (Mesos__Scheduler__Call *)parse_ok(
        &mesos__scheduler__call__descriptor,
        "{\"type\": \"SUBSCRIBE\", \"subscribe\": {\"framework_info\": {\"user\": \"foo\","
        " \"name\": \"Example HTTP Framework\", \"roles\": [\"test\"],"
        " \"capabilities\": [{\"type\": \"MULTI_ROLE\"}]}}}");
    assert_true(parsed->has_type);
    assert_int_equal(parsed->type, MESOS__SCHEDULER__CALL__TYPE__SUBSCRIBE);
    assert_string_equal(parsed->subscribe->framework_info->name, "Example HTTP Framework");
    assert_int_equal(parsed->subscribe->framework_info->capabilities[0]->type,
                     MESOS__FRAMEWORK_INFO__CAPABILITY__TYPE__MULTI_ROLE);
    assert_null(parsed->framework_id);
    protobuf_c_message_free_unpacked(&parsed->base, NULL);
}

static void test_scheduler_call_accept(void **state)
{
    Mesos__Scheduler__Call call = MESOS__SCHEDULER__CALL__INIT;
    Mesos__Scheduler__Call__Accept accept = MESOS__SCHEDULER__CALL__ACCEPT__INIT;
    Mesos__FrameworkID fid = MESOS__FRAMEWORK_ID__INIT;
    Mesos__OfferID oid = MESOS__OFFER_ID__INIT;
    Mesos__OfferID *oids[1] = {&oid};
    Mesos__Offer__Operation op = MESOS__OFFER__OPERATION__INIT;
    Mesos__Offer__Operation *ops[1] = {&op};
    Mesos__Offer__Operation__Launch launch = MESOS__OFFER__OPERATION__LAUNCH__INIT;
    Mesos__TaskInfo task = MESOS__TASK_INFO__INIT;
    Mesos__TaskInfo *tasks[1] = {&task};
    Mesos__TaskID tid = MESOS__TASK_ID__INIT;
    Mesos__AgentID aid = MESOS__AGENT_ID__INIT;
    Mesos__CommandInfo cmd = MESOS__COMMAND_INFO__INIT;
    Mesos__Filters filters = MESOS__FILTERS__INIT;
    resources_t r;
    json_t *json;

    (void)state;
    resources_init(&r);
    fid.value = "F-1";
    oid.value = "O-7";
    tid.value = "sleepy-1";
    aid.value = "A-S0";
    cmd.value = "sleep 10";
    task.name = "sleepy", task.task_id = &tid, task.agent_id = &aid;
    task.n_resources = 2, task.resources = r.list; /* cpus and mem */
    task.command = &cmd;
    launch.n_task_infos = 1, launch.task_infos = tasks;
    op.has_type = 1, op.type = MESOS__OFFER__OPERATION__TYPE__LAUNCH;
    op.launch = &launch;
    filters.has_refuse_seconds = 1, filters.refuse_seconds = 10;
    accept.n_offer_ids = 1, accept.offer_ids = oids;
    accept.n_operations = 1, accept.operations = ops;
    accept.filters = &filters;
    call.framework_id = &fid;
    call.has_type = 1, call.type = MESOS__SCHEDULER__CALL__TYPE__ACCEPT;
    call.accept = &accept;

    json = round_trip(&call.base);
    assert_json_is(json, "{\"framework_id\": {\"value\": \"F-1\"}, \"type\": \"ACCEPT\","
                         " \"accept\": {\"offer_ids\": [{\"value\": \"O-7\"}],"
                         "  \"operations\": [{\"type\": \"LAUNCH\", \"launch\": {\"task_infos\":"
                         "   [{\"name\": \"sleepy\", \"task_id\": {\"value\": \"sleepy-1\"},"
                         "     \"agent_id\": {\"value\": \"A-S0\"},"
                         "     \"resources\": [{\"name\": \"cpus\", \"type\": \"SCALAR\","
                         "       \"scalar\": {\"value\": 0.5}}, {\"name\": \"mem\","
                         "       \"type\": \"SCALAR\", \"scalar\": {\"value\": 128.0}}],"
                         "     \"command\": {\"value\": \"sleep 10\"}}]}}],"
                         "  \"filters\": {\"refuse_seconds\": 10.0}}}");
    json_decref(json);
}

static void test_scheduler_call_others_parse(void **state)
{
    static const char *const calls[] = {
        "{\"framework_id\": {\"value\": \"F-1\"}, \"type\": \"DECLINE\","
        " \"decline\": {\"offer_ids\": [{\"value\": \"O-1\"}], \"filters\": {\"refuse_seconds\": "
        "5.0}}}",
        "{\"framework_id\": {\"value\": \"F-1\"}, \"type\": \"REVIVE\","
        " \"revive\": {\"roles\": [\"web\"]}}",
        "{\"framework_id\": {\"value\": \"F-1\"}, \"type\": \"SUPPRESS\", \"suppress\": {}}",
        "{\"framework_id\": {\"value\": \"F-1\"}, \"type\": \"KILL\","
        " \"kill\": {\"task_id\": {\"value\": \"t\"}, \"agent_id\": {\"value\": \"A\"}}}",
        "{\"framework_id\": {\"value\": \"F-1\"}, \"type\": \"SHUTDOWN\","
        " \"shutdown\": {\"executor_id\": {\"value\": \"e\"}, \"agent_id\": {\"value\": \"A\"}}}",
        "{\"framework_id\": {\"value\": \"F-1\"}, \"type\": \"ACKNOWLEDGE\","
        " \"acknowledge\": {\"agent_id\": {\"value\": \"A\"}, \"task_id\": {\"value\": \"t\"},"
        "  \"uuid\": \"a6e4EJ2tEdGAtADAT9QwyA==\"}}",
        "{\"framework_id\": {\"value\": \"F-1\"}, \"type\": \"RECONCILE\","
        " \"reconcile\": {\"tasks\": [{\"task_id\": {\"value\": \"t\"}}]}}",
        "{\"framework_id\": {\"value\": \"F-1\"}, \"type\": \"MESSAGE\","
        " \"message\": {\"agent_id\": {\"value\": \"A\"}, \"executor_id\": {\"value\": \"e\"},"
        "  \"data\": \"aGk=\"}}",
        "{\"framework_id\": {\"value\": \"F-1\"}, \"type\": \"REQUEST\","
        " \"request\": {\"requests\": [{\"agent_id\": {\"value\": \"A\"}}]}}",
        "{\"framework_id\": {\"value\": \"F-1\"}, \"type\": \"TEARDOWN\"}",
    };
    ProtobufCMessage *msg;
    json_t *json, *want;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(calls) / sizeof(calls[0]); i++) {
        msg = parse_ok(&mesos__scheduler__call__descriptor, calls[i]);
        json = round_trip(msg);
        want = json_parse(calls[i]);
        if (!json_equal(want, json))
            fail_msg("%s renders as %s", calls[i], json_dumps(json, JSON_COMPACT));
        json_decref(want);
        json_decref(json);
        protobuf_c_message_free_unpacked(msg, NULL);
    }
}

static void test_scheduler_event_update(void **state)
{
    Mesos__Scheduler__Event event = MESOS__SCHEDULER__EVENT__INIT;
    Mesos__Scheduler__Event__Update update = MESOS__SCHEDULER__EVENT__UPDATE__INIT;
    Mesos__TaskStatus st = MESOS__TASK_STATUS__INIT;
    Mesos__TaskID tid = MESOS__TASK_ID__INIT;
    Mesos__AgentID aid = MESOS__AGENT_ID__INIT;
    uint8_t uuid[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
    json_t *json;

    (void)state;
    tid.value = "web-app.1";
    aid.value = "A-S0";
    st.task_id = &tid;
    st.state = MESOS__TASK_STATE__TASK_RUNNING;
    st.has_source = 1, st.source = MESOS__TASK_STATUS__SOURCE__SOURCE_EXECUTOR;
    st.agent_id = &aid;
    st.has_healthy = 1, st.healthy = 1;
    st.has_uuid = 1, st.uuid = (ProtobufCBinaryData){sizeof(uuid), uuid};
    update.status = &st;
    event.has_type = 1, event.type = MESOS__SCHEDULER__EVENT__TYPE__UPDATE;
    event.update = &update;

    json = round_trip(&event.base);
    assert_json_is(json, "{\"type\": \"UPDATE\", \"update\": {\"status\": {"
                         " \"task_id\": {\"value\": \"web-app.1\"}, \"state\": \"TASK_RUNNING\","
                         " \"source\": \"SOURCE_EXECUTOR\", \"agent_id\": {\"value\": \"A-S0\"},"
                         " \"healthy\": true, \"uuid\": \"AQIDBAUGBwgJCgsMDQ4PEA==\"}}}");
    json_decref(json);
}

static void test_scheduler_event_subscribed_and_offers(void **state)
{
    Mesos__Scheduler__Event event = MESOS__SCHEDULER__EVENT__INIT;
    Mesos__Scheduler__Event__Subscribed sub = MESOS__SCHEDULER__EVENT__SUBSCRIBED__INIT;
    Mesos__Scheduler__Event__Offers offers = MESOS__SCHEDULER__EVENT__OFFERS__INIT;
    Mesos__FrameworkID fid = MESOS__FRAMEWORK_ID__INIT;
    Mesos__MasterInfo master = MESOS__MASTER_INFO__INIT;
    Mesos__Address addr = MESOS__ADDRESS__INIT;
    json_t *json;

    (void)state;
    fid.value = "F-1";
    addr.ip = "10.0.0.1", addr.port = 5050;
    master.id = "M-1", master.ip = 0x0100000a, master.port = 5050;
    master.pid = "master@10.0.0.1:15050", master.address = &addr;
    sub.framework_id = &fid;
    sub.has_heartbeat_interval_seconds = 1, sub.heartbeat_interval_seconds = 15;
    sub.master_info = &master;
    event.has_type = 1, event.type = MESOS__SCHEDULER__EVENT__TYPE__SUBSCRIBED;
    event.subscribed = &sub;
    json = round_trip(&event.base);
    assert_json_is(json, "{\"type\": \"SUBSCRIBED\", \"subscribed\": {"
                         " \"framework_id\": {\"value\": \"F-1\"},"
                         " \"heartbeat_interval_seconds\": 15.0, \"master_info\": {\"id\": \"M-1\","
                         "  \"ip\": 16777226, \"port\": 5050, \"pid\": \"master@10.0.0.1:15050\","
                         "  \"address\": {\"ip\": \"10.0.0.1\", \"port\": 5050}}}}");
    json_decref(json);

    /* No offers: `offers` renders as an empty object, as Mesos renders it. */
    event = (Mesos__Scheduler__Event)MESOS__SCHEDULER__EVENT__INIT;
    event.has_type = 1, event.type = MESOS__SCHEDULER__EVENT__TYPE__OFFERS;
    event.offers = &offers;
    json = round_trip(&event.base);
    assert_json_is(json, "{\"type\": \"OFFERS\", \"offers\": {}}");
    json_decref(json);
}

/* ---- executor.proto ---- */

static void test_executor_call_and_event(void **state)
{
    Mesos__Executor__Call call = MESOS__EXECUTOR__CALL__INIT;
    Mesos__Executor__Call__Update update = MESOS__EXECUTOR__CALL__UPDATE__INIT;
    Mesos__Executor__Event event = MESOS__EXECUTOR__EVENT__INIT;
    Mesos__Executor__Event__Kill kill = MESOS__EXECUTOR__EVENT__KILL__INIT;
    Mesos__TaskStatus st = MESOS__TASK_STATUS__INIT;
    Mesos__TaskID tid = MESOS__TASK_ID__INIT;
    Mesos__ExecutorID eid = MESOS__EXECUTOR_ID__INIT;
    Mesos__FrameworkID fid = MESOS__FRAMEWORK_ID__INIT;
    json_t *json;

    (void)state;
    tid.value = "t";
    eid.value = "e";
    fid.value = "F-1";
    st.task_id = &tid;
    st.state = MESOS__TASK_STATE__TASK_FINISHED;
    update.status = &st;
    call.executor_id = &eid, call.framework_id = &fid;
    call.has_type = 1, call.type = MESOS__EXECUTOR__CALL__TYPE__UPDATE;
    call.update = &update;
    json = round_trip(&call.base);
    assert_json_is(json, "{\"executor_id\": {\"value\": \"e\"}, \"framework_id\": {\"value\": "
                         "\"F-1\"}, \"type\": \"UPDATE\", \"update\": {\"status\": {"
                         "\"task_id\": {\"value\": \"t\"}, \"state\": \"TASK_FINISHED\"}}}");
    json_decref(json);

    kill.task_id = &tid;
    event.has_type = 1, event.type = MESOS__EXECUTOR__EVENT__TYPE__KILL;
    event.kill = &kill;
    json = round_trip(&event.base);
    assert_json_is(json, "{\"type\": \"KILL\", \"kill\": {\"task_id\": {\"value\": \"t\"}}}");
    json_decref(json);
}

/* ---- internal.proto ---- */

static void test_internal_register_agent(void **state)
{
    Mesos__Internal__RegisterAgentMessage reg = MESOS__INTERNAL__REGISTER_AGENT_MESSAGE__INIT;
    Mesos__AgentInfo agent = MESOS__AGENT_INFO__INIT;
    Mesos__AgentInfo__Capability cap = MESOS__AGENT_INFO__CAPABILITY__INIT;
    Mesos__AgentInfo__Capability *caps[1] = {&cap};
    Mesos__Attribute zone = MESOS__ATTRIBUTE__INIT;
    Mesos__Value__Text zone_value = MESOS__VALUE__TEXT__INIT;
    Mesos__Attribute *attrs[1] = {&zone};
    resources_t r;
    json_t *json;

    (void)state;
    resources_init(&r);
    zone_value.value = "a";
    zone.name = "zone", zone.type = MESOS__VALUE__TYPE__TEXT, zone.text = &zone_value;
    agent.hostname = "agent1";
    agent.has_port = 1, agent.port = 5051;
    agent.n_resources = 3, agent.resources = r.list;
    agent.n_attributes = 1, agent.attributes = attrs;
    cap.has_type = 1, cap.type = MESOS__AGENT_INFO__CAPABILITY__TYPE__MULTI_ROLE;
    reg.agent = &agent;
    reg.version = "0.1.0";
    reg.n_agent_capabilities = 1, reg.agent_capabilities = caps;

    json = round_trip(&reg.base);
    assert_json_is(json, "{\"agent\": {\"hostname\": \"agent1\", \"port\": 5051,"
                         "  \"resources\": " RESOURCES_JSON ","
                         "  \"attributes\": [{\"name\": \"zone\", \"type\": \"TEXT\","
                         "   \"text\": {\"value\": \"a\"}}]},"
                         " \"version\": \"0.1.0\", \"agent_capabilities\": [{\"type\": "
                         "\"MULTI_ROLE\"}]}");
    json_decref(json);
    assert_string_equal(reg.base.descriptor->name, "mesos.internal.RegisterAgentMessage");
}

/* The replies and the other request/reply pairs: ids and a few fields survive both ways. */
static void test_internal_pairs(void **state)
{
    static const struct {
        const ProtobufCMessageDescriptor *desc;
        const char *json;
    } msgs[] = {
        {&mesos__internal__agent_registered_message__descriptor,
         "{\"agent_id\": {\"value\": \"A-S0\"},"
         " \"connection\": {\"total_ping_timeout_seconds\": 75.0}}"},
        {&mesos__internal__agent_reregistered_message__descriptor,
         "{\"agent_id\": {\"value\": \"A-S0\"}, \"reconciliations\": [{\"framework_id\":"
         " {\"value\": \"F-1\"}, \"statuses\": [{\"task_id\": {\"value\": \"t\"},"
         " \"state\": \"TASK_RUNNING\"}]}]}"},
        {&mesos__internal__ping_agent_message__descriptor, "{\"connected\": true}"},
        {&mesos__internal__pong_agent_message__descriptor, "{}"},
        {&mesos__internal__run_task_message__descriptor,
         "{\"framework_id\": {\"value\": \"F-1\"}, \"framework\": {\"user\": \"root\","
         " \"name\": \"sleepy\", \"id\": {\"value\": \"F-1\"}}, \"task\": {\"name\": \"s\","
         " \"task_id\": {\"value\": \"t\"}, \"agent_id\": {\"value\": \"A-S0\"},"
         " \"command\": {\"value\": \"sleep 1\"}}, \"pid\": \"scheduler(1)@10.0.0.2:15060\","
         " \"launch_executor\": true}"},
        {&mesos__internal__kill_task_message__descriptor,
         "{\"framework_id\": {\"value\": \"F-1\"}, \"task_id\": {\"value\": \"t\"}}"},
        {&mesos__internal__status_update_message__descriptor,
         "{\"update\": {\"framework_id\": {\"value\": \"F-1\"}, \"agent_id\": {\"value\": \"A\"},"
         " \"status\": {\"task_id\": {\"value\": \"t\"}, \"state\": \"TASK_RUNNING\","
         " \"uuid\": \"AQIDBAUGBwgJCgsMDQ4PEA==\"}, \"timestamp\": 1700000000.5},"
         " \"pid\": \"slave(1)@10.0.0.3:15051\"}"},
        {&mesos__internal__status_update_acknowledgement_message__descriptor,
         "{\"agent_id\": {\"value\": \"A\"}, \"framework_id\": {\"value\": \"F-1\"},"
         " \"task_id\": {\"value\": \"t\"}, \"uuid\": \"AQIDBAUGBwgJCgsMDQ4PEA==\"}"},
        {&mesos__internal__shutdown_framework_message__descriptor,
         "{\"framework_id\": {\"value\": \"F-1\"}}"},
        {&mesos__internal__update_framework_message__descriptor,
         "{\"framework_id\": {\"value\": \"F-1\"}, \"pid\": \"\"}"},
        {&mesos__internal__register_executor_message__descriptor,
         "{\"framework_id\": {\"value\": \"F-1\"}, \"executor_id\": {\"value\": \"e\"}}"},
        {&mesos__internal__executor_reregistered_message__descriptor,
         "{\"agent_id\": {\"value\": \"A\"}, \"agent_info\": {\"hostname\": \"h\"}}"},
        {&mesos__internal__shutdown_executor_message__descriptor,
         "{\"executor_id\": {\"value\": \"e\"}, \"framework_id\": {\"value\": \"F-1\"}}"},
    };
    ProtobufCMessage *msg;
    json_t *json, *want;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(msgs) / sizeof(msgs[0]); i++) {
        msg = parse_ok(msgs[i].desc, msgs[i].json);
        json = round_trip(msg);
        want = json_parse(msgs[i].json);
        if (!json_equal(want, json))
            fail_msg("%s renders as %s", msgs[i].json, json_dumps(json, JSON_COMPACT));
        json_decref(want);
        json_decref(json);
        protobuf_c_message_free_unpacked(msg, NULL);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_framework_info),
        cmocka_unit_test(test_offer_resources),
        cmocka_unit_test(test_resource_wire_format),
        cmocka_unit_test(test_task_info_command),
        cmocka_unit_test(test_task_status_failed),
        cmocka_unit_test(test_task_status_wire_format),
        cmocka_unit_test(test_task_state_values),
        cmocka_unit_test(test_task_status_reason_values),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_scheduler_call_subscribe),
        cmocka_unit_test(test_scheduler_call_accept),
        cmocka_unit_test(test_scheduler_call_others_parse),
        cmocka_unit_test(test_scheduler_event_update),
        cmocka_unit_test(test_scheduler_event_subscribed_and_offers),
        cmocka_unit_test(test_executor_call_and_event),
        cmocka_unit_test(test_internal_register_agent),
        cmocka_unit_test(test_internal_pairs),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
