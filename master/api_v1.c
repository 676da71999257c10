/*
 * api_v1.c: the v1 operator API, POST /api/v1 (also /master/api/v1), as Mesos's
 * Master::Http::api serves it: a mesos.master.Call in the body, as JSON (application/json) or
 * protobuf bytes (application/x-protobuf), answered with a mesos.master.Response in the media
 * type the Accept header prefers (JSON when it allows both or is absent). SUBSCRIBE answers with
 * a stream instead (api_v1_stream.c).
 *
 * Checks, in Mesos's order, each answered with a plain-text message:
 *   405  not a POST (the route table's answer);
 *   400  no Content-Type; a body that does not parse; a call without `type`, or without the
 *        sub-message its type needs ("Expecting 'teardown' to be present");
 *   415  a Content-Type other than the two above;
 *   406  an Accept header that allows neither;
 *   501  UNKNOWN, and calls this master does not implement (maintenance, quota, volumes, ...).
 * Query parameters are ignored (DC/OS's client adds `?_ts=`).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "actor/log.h"
#include "actor/metrics.h"
#include "actor/pbjson.h"
#include "master/api_v1.h"

/* ---- media types ---- */

/* Whether the media type of header value `value` (parameters after ';' ignored) is `type`. */
static bool media_is(const char *value, const char *type)
{
    while (*value == ' ' || *value == '\t')
        value++;
    size_t n = strlen(type);
    if (strncasecmp(value, type, n) != 0)
        return false;
    value += n;
    while (*value == ' ' || *value == '\t')
        value++;
    return *value == '\0' || *value == ';';
}

/* The q parameter of one Accept entry (after its media range); 1 when absent. */
static double accept_q(const char *params, size_t len)
{
    for (size_t i = 0; i + 1 < len; i++) {
        if (params[i] == ';') {
            size_t k = i + 1;
            while (k < len && params[k] == ' ')
                k++;
            if (k + 1 < len && tolower((unsigned char)params[k]) == 'q' && params[k + 1] == '=')
                return strtod(params + k + 2, NULL);
        }
    }
    return 1.0;
}

/* How specifically Accept media range `range` (rlen bytes) names `type`: 2 exactly, 1 as
 * "type/" "*", 0 as "*" "/" "*", -1 not at all. */
static int specificity(const char *range, size_t rlen, const char *type)
{
    size_t major = (size_t)(strchr(type, '/') - type);
    if (rlen == strlen(type) && strncasecmp(range, type, rlen) == 0)
        return 2;
    if (rlen == major + 2 && strncasecmp(range, type, major + 1) == 0 && range[major + 1] == '*')
        return 1;
    return rlen == 3 && strncmp(range,
                                "*"
                                "/"
                                "*",
                                3) == 0
               ? 0
               : -1;
}

/* Whether an Accept header allows `type` (Mesos's Request::acceptsMediaType): no header allows
 * everything; otherwise the most specific entry naming it decides, allowing it unless its q is
 * 0 (RFC 7231: "application/json;q=0, application/" "*" refuses JSON only). */
static bool accepts(const char *header, const char *type)
{
    if (header == NULL)
        return true;
    int best = -1;
    double q = 0;
    for (const char *entry = header; *entry != '\0';) {
        size_t len = strcspn(entry, ",");
        const char *range = entry;
        while (range < entry + len && *range == ' ')
            range++;
        size_t rlen = strcspn(range, ";,");
        while (rlen > 0 && range[rlen - 1] == ' ')
            rlen--;
        int s = specificity(range, rlen, type);
        if (s > best) {
            best = s;
            q = accept_q(entry, len);
        }
        entry += len;
        if (*entry == ',')
            entry++;
    }
    return best >= 0 && q > 0;
}

/* ---- parsing and validation ---- */

static const char *type_name(const Mesos__Master__Call *call)
{
    const ProtobufCEnumValue *v =
        protobuf_c_enum_descriptor_get_value(&mesos__master__call__type__descriptor, call->type);
    return v != NULL ? v->name : NULL;
}

/* Parses the body as Content-Type says; NULL after answering req. */
static Mesos__Master__Call *parse_call(actor_http_request_t *req)
{
    const char *content_type = actor_http_header(req, "Content-Type");
    size_t len;
    const char *body = actor_http_body(req, &len);
    if (content_type == NULL) {
        actor_http_respond_text(req, 400, "Expecting 'Content-Type' to be present");
        return NULL;
    }
    if (media_is(content_type, API_PROTOBUF)) {
        Mesos__Master__Call *call = mesos__master__call__unpack(NULL, len, (const uint8_t *)body);
        if (call == NULL)
            actor_http_respond_text(req, 400, "Failed to parse body into Call protobuf");
        return call;
    }
    if (!media_is(content_type, API_JSON)) {
        actor_http_respond_text(req, 415, "Expecting 'Content-Type' of %s or %s", API_JSON,
                                API_PROTOBUF);
        return NULL;
    }
    json_error_t jerr;
    json_t *json = json_loadb(body, len, JSON_DECODE_ANY, &jerr);
    if (json == NULL) {
        actor_http_respond_text(req, 400, "Failed to parse body into JSON: %s", jerr.text);
        return NULL;
    }
    ProtobufCMessage *msg = NULL;
    char err[256];
    if (!json_is_object(json)) {
        snprintf(err, sizeof(err), "expected a JSON object");
    } else if (pbjson_to_message(&mesos__master__call__descriptor, json, &msg, err, sizeof(err)) !=
               ACTOR_OK) {
        msg = NULL;
    }
    json_decref(json);
    if (msg == NULL)
        actor_http_respond_text(req, 400, "Failed to convert JSON into Call protobuf: %s", err);
    return (Mesos__Master__Call *)msg;
}

/* Mesos's validation::master::call::validate: a type, and the sub-message it names (GET_METRICS
 * needs get_metrics, TEARDOWN teardown: the field named as the type in lower case). NULL when
 * valid, else why (in buf). */
static const char *invalid_call(const Mesos__Master__Call *call, char *buf, size_t len)
{
    const char *name = type_name(call);
    if (!call->has_type || name == NULL)
        return "Expecting 'type' to be present";
    char field[64];
    size_t n = 0;
    for (; name[n] != '\0' && n + 1 < sizeof(field); n++)
        field[n] = (char)tolower((unsigned char)name[n]);
    field[n] = '\0';
    const ProtobufCFieldDescriptor *f =
        protobuf_c_message_descriptor_get_field_by_name(&mesos__master__call__descriptor, field);
    if (f == NULL || f->type != PROTOBUF_C_TYPE_MESSAGE)
        return NULL;
    if (*(void *const *)((const char *)call + f->offset) != NULL)
        return NULL;
    snprintf(buf, len, "Expecting '%s' to be present", field);
    return buf;
}

/* ---- answers ---- */

typedef struct api_call {
    actor_t *self;
    master_t *m;
    actor_http_request_t *req;
    const Mesos__Master__Call *call;
    bool json; /* answer in JSON (else protobuf) */
    pool_t pool;
} api_call_t;

/* Answers with resp, built in c's pool; 503 if building it ran out of memory. */
static void respond(api_call_t *c, Mesos__Master__Response *resp)
{
    char *body = NULL;
    size_t len = 0;
    if (c->pool.failed || api_encode(&resp->base, c->json, &body, &len) != ACTOR_OK) {
        actor_http_respond_text(c->req, 503, "Out of memory");
        return;
    }
    actor_http_respond(c->req, 200, c->json ? API_JSON : API_PROTOBUF, NULL, 0, body, len);
    free(body);
}

static Mesos__Master__Response *response(api_call_t *c, Mesos__Master__Response__Type type)
{
    Mesos__Master__Response *resp = api_message(&c->pool, &mesos__master__response__descriptor);
    if (resp != NULL) {
        resp->has_type = true;
        resp->type = type;
    }
    return resp;
}

static void get_health(api_call_t *c, Mesos__Master__Response *resp)
{
    resp->get_health = api_message(&c->pool, &mesos__master__response__get_health__descriptor);
    if (resp->get_health != NULL)
        resp->get_health->healthy = true;
}

static void get_flags(api_call_t *c, Mesos__Master__Response *resp)
{
    pool_t *pool = &c->pool;
    Mesos__Master__Response__GetFlags *out =
        api_message(pool, &mesos__master__response__get_flags__descriptor);
    size_t n = json_object_size(c->m->flags);
    if (out == NULL || (n > 0 && (out->flags = pool_alloc(pool, n * sizeof(void *))) == NULL))
        return;
    const char *key;
    json_t *value;
    json_object_foreach(c->m->flags, key, value)
    {
        Mesos__Master__Flag *flag = api_message(pool, &mesos__master__flag__descriptor);
        if (flag == NULL)
            return;
        flag->name = (char *)key;
        if (json_is_string(value)) {
            flag->value = (char *)json_string_value(value);
        } else if (!json_is_null(value)) {
            char *text = json_dumps(value, JSON_ENCODE_ANY | JSON_COMPACT);
            flag->value = pool_strdup(pool, text);
            free(text);
        }
        out->flags[out->n_flags++] = flag;
    }
    resp->get_flags = out;
}

static void get_version(api_call_t *c, Mesos__Master__Response *resp)
{
    Mesos__Master__Response__GetVersion *out =
        api_message(&c->pool, &mesos__master__response__get_version__descriptor);
    Mesos__Master__VersionInfo *info =
        api_message(&c->pool, &mesos__master__version_info__descriptor);
    if (out == NULL || info == NULL)
        return;
    info->version = MESOS_VERSION;
    info->build_date = MASTER_BUILD_DATE;
    info->has_build_time = true;
    info->build_time = 0;
    info->build_user = "";
    out->version_info = info;
    resp->get_version = out;
}

static void get_metrics(api_call_t *c, Mesos__Master__Response *resp)
{
    pool_t *pool = &c->pool;
    master_metrics_publish(c->m);
    json_t *snapshot = NULL;
    if (metrics_snapshot_json(metrics_registry_default(), &snapshot) != ACTOR_OK) {
        pool->failed = true;
        return;
    }
    Mesos__Master__Response__GetMetrics *out =
        api_message(pool, &mesos__master__response__get_metrics__descriptor);
    size_t n = json_object_size(snapshot);
    if (out != NULL && (n == 0 || (out->metrics = pool_alloc(pool, n * sizeof(void *))) != NULL)) {
        const char *key;
        json_t *value;
        json_object_foreach(snapshot, key, value)
        {
            Mesos__Master__Metric *metric = api_message(pool, &mesos__master__metric__descriptor);
            if (metric == NULL)
                break;
            metric->name = pool_strdup(pool, key);
            metric->has_value = true;
            metric->value = json_number_value(value);
            out->metrics[out->n_metrics++] = metric;
        }
        resp->get_metrics = out;
    }
    json_decref(snapshot);
}

static void get_roles(api_call_t *c, Mesos__Master__Response *resp)
{
    pool_t *pool = &c->pool;
    master_role_view_t *views;
    size_t count;
    Mesos__Master__Response__GetRoles *out =
        api_message(pool, &mesos__master__response__get_roles__descriptor);
    if (out == NULL || master_roles_collect(c->m, &views, &count) != ACTOR_OK) {
        pool->failed = true;
        return;
    }
    /* Everything the roles hold is copied into the pool: the views go at once. */
    out->roles = pool_alloc(pool, (count + 1) * sizeof(void *));
    for (size_t i = 0; out->roles != NULL && i < count; i++) {
        Mesos__Master__Role *role = api_message(pool, &mesos__master__role__descriptor);
        Mesos__FrameworkID **ids = pool_alloc(pool, (views[i].framework_count + 1) * sizeof(*ids));
        if (role == NULL || ids == NULL)
            break;
        role->name = pool_strdup(pool, views[i].name);
        role->weight = views[i].weight;
        for (size_t k = 0; k < views[i].framework_count; k++)
            ids[k] = views[i].frameworks[k]->info->id;
        role->frameworks = ids;
        role->n_frameworks = views[i].framework_count;
        api_model_resources(pool, &views[i].resources, NULL, &role->resources, &role->n_resources);
        out->roles[out->n_roles++] = role;
    }
    master_roles_free(views, count);
    resp->get_roles = out;
}

static void get_weights(api_call_t *c, Mesos__Master__Response *resp)
{
    pool_t *pool = &c->pool;
    Mesos__Master__Response__GetWeights *out =
        api_message(pool, &mesos__master__response__get_weights__descriptor);
    size_t n = HASH_COUNT(c->m->weights);
    if (out == NULL || (out->weight_infos = pool_alloc(pool, (n + 1) * sizeof(void *))) == NULL)
        return;
    for (master_weight_t *w = c->m->weights; w != NULL; w = w->hh.next) {
        Mesos__WeightInfo *info = api_message(pool, &mesos__weight_info__descriptor);
        if (info == NULL)
            return;
        info->role = w->role;
        info->weight = w->weight;
        out->weight_infos[out->n_weight_infos++] = info;
    }
    resp->get_weights = out;
}

static void get_master(api_call_t *c, Mesos__Master__Response *resp)
{
    Mesos__Master__Response__GetMaster *out =
        api_message(&c->pool, &mesos__master__response__get_master__descriptor);
    if (out == NULL)
        return;
    out->master_info = c->m->info;
    out->has_start_time = out->has_elected_time = true;
    out->start_time = c->m->start_time;
    out->elected_time = c->m->elected_time;
    resp->get_master = out;
}

static void get_state(api_call_t *c, Mesos__Master__Response *resp)
{
    resp->get_state = api_model_state(&c->pool, c->m);
}

static void get_agents(api_call_t *c, Mesos__Master__Response *resp)
{
    resp->get_agents = api_model_agents(&c->pool, c->m);
}

static void get_frameworks(api_call_t *c, Mesos__Master__Response *resp)
{
    resp->get_frameworks = api_model_frameworks(&c->pool, c->m);
}

static void get_executors(api_call_t *c, Mesos__Master__Response *resp)
{
    resp->get_executors = api_model_executors(&c->pool, c->m);
}

static void get_tasks(api_call_t *c, Mesos__Master__Response *resp)
{
    resp->get_tasks = api_model_tasks(&c->pool, c->m);
}

/* The calls answered at once with a Response built from the state: the call, the response's
 * type, and what fills it in. */
static const struct {
    Mesos__Master__Call__Type call;
    Mesos__Master__Response__Type response;
    void (*fill)(api_call_t *c, Mesos__Master__Response *resp);
} queries[] = {
    {MESOS__MASTER__CALL__TYPE__GET_HEALTH, MESOS__MASTER__RESPONSE__TYPE__GET_HEALTH, get_health},
    {MESOS__MASTER__CALL__TYPE__GET_FLAGS, MESOS__MASTER__RESPONSE__TYPE__GET_FLAGS, get_flags},
    {MESOS__MASTER__CALL__TYPE__GET_VERSION, MESOS__MASTER__RESPONSE__TYPE__GET_VERSION,
     get_version},
    {MESOS__MASTER__CALL__TYPE__GET_METRICS, MESOS__MASTER__RESPONSE__TYPE__GET_METRICS,
     get_metrics},
    {MESOS__MASTER__CALL__TYPE__GET_STATE, MESOS__MASTER__RESPONSE__TYPE__GET_STATE, get_state},
    {MESOS__MASTER__CALL__TYPE__GET_AGENTS, MESOS__MASTER__RESPONSE__TYPE__GET_AGENTS, get_agents},
    {MESOS__MASTER__CALL__TYPE__GET_FRAMEWORKS, MESOS__MASTER__RESPONSE__TYPE__GET_FRAMEWORKS,
     get_frameworks},
    {MESOS__MASTER__CALL__TYPE__GET_EXECUTORS, MESOS__MASTER__RESPONSE__TYPE__GET_EXECUTORS,
     get_executors},
    {MESOS__MASTER__CALL__TYPE__GET_TASKS, MESOS__MASTER__RESPONSE__TYPE__GET_TASKS, get_tasks},
    {MESOS__MASTER__CALL__TYPE__GET_ROLES, MESOS__MASTER__RESPONSE__TYPE__GET_ROLES, get_roles},
    {MESOS__MASTER__CALL__TYPE__GET_WEIGHTS, MESOS__MASTER__RESPONSE__TYPE__GET_WEIGHTS,
     get_weights},
    {MESOS__MASTER__CALL__TYPE__GET_MASTER, MESOS__MASTER__RESPONSE__TYPE__GET_MASTER, get_master},
};

/* Answers c if it is one of the queries; false if it is not. */
static bool answer_query(api_call_t *c)
{
    size_t i = 0;
    while (i < sizeof(queries) / sizeof(queries[0]) && queries[i].call != c->call->type)
        i++;
    if (i == sizeof(queries) / sizeof(queries[0]))
        return false;
    Mesos__Master__Response *resp = response(c, queries[i].response);
    if (resp == NULL) {
        actor_http_respond_text(c->req, 503, "Out of memory");
        return true;
    }
    queries[i].fill(c, resp);
    respond(c, resp);
    return true;
}

static void dispatch(api_call_t *c)
{
    const Mesos__Master__Call *call = c->call;
    if (answer_query(c))
        return;
    switch (call->type) {
    case MESOS__MASTER__CALL__TYPE__SUBSCRIBE:
        api_subscribe(c->self, c->m, c->req, c->json);
        break;
    case MESOS__MASTER__CALL__TYPE__UPDATE_WEIGHTS:
        master_weights_update(c->self, c->m, c->req,
                              (const Mesos__WeightInfo *const *)call->update_weights->weight_infos,
                              call->update_weights->n_weight_infos);
        break;
    case MESOS__MASTER__CALL__TYPE__TEARDOWN:
        master_teardown(c->self, c->m, c->req, call->teardown->framework_id->value);
        break;
    case MESOS__MASTER__CALL__TYPE__UNKNOWN:
        actor_http_respond(c->req, 501, "text/plain", NULL, 0, "", 0);
        break;
    default:
        actor_http_respond_text(c->req, 501, "Call type %s is not supported by this master",
                                type_name(call));
        break;
    }
}

void master_handle_api(actor_t *self, void *state, actor_http_request_t *req)
{
    Mesos__Master__Call *call = parse_call(req);
    if (call == NULL)
        return;
    char buf[128];
    const char *why = invalid_call(call, buf, sizeof(buf));
    const char *accept = actor_http_header(req, "Accept");
    if (why != NULL) {
        actor_http_respond_text(req, 400, "Failed to validate master::Call: %s", why);
    } else if (!accepts(accept, API_JSON) && !accepts(accept, API_PROTOBUF)) {
        actor_http_respond_text(req, 406, "Expecting 'Accept' to allow '%s' or '%s'", API_PROTOBUF,
                                API_JSON);
    } else {
        VLOG(1, "Processing call %s from %s", type_name(call), actor_http_peer(req));
        api_call_t c = {
            .self = self, .m = state, .req = req, .call = call, .json = accepts(accept, API_JSON)};
        pool_init(&c.pool);
        dispatch(&c);
        pool_fini(&c.pool);
    }
    protobuf_c_message_free_unpacked(&call->base, NULL);
}
