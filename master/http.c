/*
 * http.c: the master's classic HTTP endpoints, as Mesos serves them (master/http.cpp): /state,
 * /state-summary, /frameworks, /slaves, /tasks, /roles, /weights, /flags, /health, /version,
 * /teardown, /redirect (the v1 operator API, /api/v1, is in api_v1*.c). Each is also reachable
 * under /master/ (the actor's id). Bad requests get a 4xx with a plain-text message, as Mesos
 * answers.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actor/pbjson.h"
#include "master/http_json.h"
#include "master/master_int.h"
#include "master/registrar/registrar.h"

static json_t *version_json(void)
{
    return json_pack("{s:s, s:s, s:f, s:s}", "version", MESOS_VERSION, "build_date",
                     MASTER_BUILD_DATE, "build_time", 0.0, "build_user", "");
}

static void on_version(actor_t *self, void *state, actor_http_request_t *req)
{
    (void)self, (void)state;
    actor_http_respond_json(req, 200, version_json());
}

static void on_health(actor_t *self, void *state, actor_http_request_t *req)
{
    (void)self, (void)state;
    actor_http_respond(req, 200, "text/plain", NULL, 0, "", 0);
}

static void on_flags(actor_t *self, void *state, actor_http_request_t *req)
{
    (void)self;
    master_t *m = state;
    actor_http_respond_json(req, 200, json_pack("{s:O}", "flags", m->flags));
}

static void on_redirect(actor_t *self, void *state, actor_http_request_t *req)
{
    (void)self;
    master_t *m = state;
    char location[512];
    snprintf(location, sizeof(location), "//%s:%u", m->info->hostname, (unsigned)m->info->port);
    http_header_t header = {"Location", location};
    actor_http_respond(req, 307, "text/plain", &header, 1, "", 0);
}

static json_t *agents_json(master_t *m, bool summary)
{
    json_t *agents = json_array();
    for (master_agent_t *a = m->agents; a != NULL; a = a->hh.next)
        json_array_append_new(agents, master_json_agent(a, summary));
    return agents;
}

static json_t *recovered_json(master_t *m)
{
    json_t *list = json_array();
    for (master_agent_mark_t *r = m->recovered; r != NULL; r = r->hh.next) {
        json_array_append_new(
            list, json_pack("{s:s, s:s}", "id", r->id, "hostname",
                            r->info != NULL && r->info->hostname != NULL ? r->info->hostname : ""));
    }
    return list;
}

static json_t *frameworks_json(master_t *m, bool completed)
{
    json_t *list = json_array();
    if (completed) {
        for (master_framework_t *fw = m->completed_frameworks.head; fw != NULL; fw = fw->ring_next)
            json_array_append_new(list, master_json_framework(fw, true));
    } else {
        for (master_framework_t *fw = m->frameworks; fw != NULL; fw = fw->hh.next)
            json_array_append_new(list, master_json_framework(fw, true));
    }
    return list;
}

static void on_state(actor_t *self, void *state, actor_http_request_t *req)
{
    (void)self;
    master_t *m = state;
    size_t active = 0, inactive = 0;
    for (master_agent_t *a = m->agents; a != NULL; a = a->hh.next) {
        if (a->connected)
            active++;
        else
            inactive++;
    }
    json_t *leader_info = NULL;
    pbjson_from_message(&m->info->base, &leader_info);
    json_t *j = version_json();
    json_t *rest = json_pack(
        "{s:f, s:f, s:s, s:s, s:s, s:s, s:o, s:I, s:I, s:I, s:O, s:o, s:o, s:o, "
        "s:o, s:[], s:[], s:[]}",
        "start_time", m->start_time, "elected_time", m->elected_time, "id", m->id, "pid",
        m->info->pid, "hostname", m->info->hostname, "leader", m->info->pid, "leader_info",
        leader_info != NULL ? leader_info : json_object(), "activated_slaves", (json_int_t)active,
        "deactivated_slaves", (json_int_t)inactive, "unreachable_slaves",
        (json_int_t)HASH_COUNT(m->unreachable), "flags", m->flags, "slaves", agents_json(m, false),
        "recovered_slaves", recovered_json(m), "frameworks", frameworks_json(m, false),
        "completed_frameworks", frameworks_json(m, true), "orphan_tasks", "unregistered_frameworks",
        "capabilities");
    json_object_update(j, rest);
    json_decref(rest);
    actor_http_respond_json(req, 200, j);
}

static void on_state_summary(actor_t *self, void *state, actor_http_request_t *req)
{
    (void)self;
    master_t *m = state;
    json_t *frameworks = json_array();
    for (master_framework_t *fw = m->frameworks; fw != NULL; fw = fw->hh.next) {
        json_t *f = master_json_framework_summary(fw);
        json_t *agents = json_object(); /* a set: agent id -> true */
        for (master_task_t *t = fw->tasks; t != NULL; t = t->hh.next) {
            if (t->agent != NULL)
                json_object_set_new(agents, t->agent->id, json_true());
        }
        json_object_set_new(f, "slave_ids", master_json_keys(agents));
        json_array_append_new(frameworks, f);
    }
    actor_http_respond_json(req, 200,
                            json_pack("{s:s, s:o, s:o}", "hostname", m->info->hostname, "slaves",
                                      agents_json(m, true), "frameworks", frameworks));
}

static void on_frameworks(actor_t *self, void *state, actor_http_request_t *req)
{
    (void)self;
    master_t *m = state;
    const char *only = actor_http_query(req, "framework_id");
    json_t *list = json_array(), *completed = json_array();
    for (master_framework_t *fw = m->frameworks; fw != NULL; fw = fw->hh.next) {
        if (only == NULL || strcmp(only, fw->id) == 0)
            json_array_append_new(list, master_json_framework(fw, true));
    }
    for (master_framework_t *fw = m->completed_frameworks.head; fw != NULL; fw = fw->ring_next) {
        if (only == NULL || strcmp(only, fw->id) == 0)
            json_array_append_new(completed, master_json_framework(fw, true));
    }
    actor_http_respond_json(req, 200,
                            json_pack("{s:o, s:o, s:[]}", "frameworks", list,
                                      "completed_frameworks", completed,
                                      "unregistered_frameworks"));
}

static void on_slaves(actor_t *self, void *state, actor_http_request_t *req)
{
    (void)self;
    master_t *m = state;
    const char *only = actor_http_query(req, "slave_id");
    json_t *agents = json_array();
    for (master_agent_t *a = m->agents; a != NULL; a = a->hh.next) {
        if (only == NULL || strcmp(only, a->id) == 0)
            json_array_append_new(agents, master_json_agent(a, false));
    }
    actor_http_respond_json(
        req, 200, json_pack("{s:o, s:o}", "slaves", agents, "recovered_slaves", recovered_json(m)));
}

/* A query parameter read as stout's numify<int> reads it (Mesos's /tasks parses limit and offset
 * so): decimal with an optional sign, or hexadecimal after "0x" or "-0x", all of the text, within
 * int's range. Anything else is "not given", so its default applies. */
static bool query_int(actor_http_request_t *req, const char *name, int *out)
{
    const char *text = actor_http_query(req, name);
    if (text == NULL || text[0] == '\0' || isspace((unsigned char)text[0]))
        return false;
    const char *digits = text[0] == '-' || text[0] == '+' ? text + 1 : text;
    bool hex = digits[0] == '0' && (digits[1] == 'x' || digits[1] == 'X');
    if (!isxdigit((unsigned char)digits[hex ? 2 : 0]) || (hex && text[0] == '+'))
        return false;
    errno = 0;
    char *end;
    long v = strtol(text, &end, hex ? 16 : 10);
    if (*end != '\0' || errno == ERANGE || v < INT_MIN || v > INT_MAX)
        return false;
    *out = (int)v;
    return true;
}

/* A task of the /tasks listing, with its place in the collection (ties keep that order). */
typedef struct listed_task {
    const master_task_t *task;
    size_t index;
} listed_task_t;

/* Mesos's TaskComparator: by the timestamp of the first status; a task without statuses comes
 * first in ascending order and last in descending order. */
static int compare_tasks(const listed_task_t *a, const listed_task_t *b, bool ascending)
{
    bool a_none = a->task->status_count == 0, b_none = b->task->status_count == 0;
    int c = 0;
    if (a_none || b_none) {
        c = a_none == b_none ? 0 : a_none ? -1 : 1;
    } else {
        double ta = a->task->statuses[0].timestamp, tb = b->task->statuses[0].timestamp;
        c = ta < tb ? -1 : ta > tb ? 1 : 0;
    }
    c = ascending ? c : -c;
    return c != 0 ? c : a->index < b->index ? -1 : a->index > b->index;
}

static int compare_ascending(const void *a, const void *b)
{
    return compare_tasks(a, b, true);
}

static int compare_descending(const void *a, const void *b)
{
    return compare_tasks(a, b, false);
}

static void list_task(const master_task_t *t, const char *task_only, listed_task_t *list,
                      size_t *count)
{
    if (task_only == NULL || strcmp(task_only, t->id) == 0) {
        list[*count] = (listed_task_t){t, *count};
        (*count)++;
    }
}

/* Appends fw's active, unreachable and completed tasks (only task_only when given) to list. */
static void list_framework_tasks(const master_framework_t *fw, const char *task_only,
                                 listed_task_t *list, size_t *count)
{
    for (const master_task_t *t = fw->tasks; t != NULL; t = t->hh.next)
        list_task(t, task_only, list, count);
    for (const master_task_t *t = fw->unreachable_tasks.head; t != NULL; t = t->ring_next)
        list_task(t, task_only, list, count);
    for (const master_task_t *t = fw->completed_tasks.head; t != NULL; t = t->ring_next)
        list_task(t, task_only, list, count);
}

/* The tasks of the active and completed frameworks (only fw_only's when given), sorted; NULL
 * when out of memory. */
static listed_task_t *list_tasks(master_t *m, const char *fw_only, const char *task_only,
                                 bool ascending, size_t *count)
{
    master_framework_t *lists[] = {m->frameworks, m->completed_frameworks.head};
    size_t cap = 0;
    for (size_t l = 0; l < 2; l++) {
        for (master_framework_t *fw = lists[l]; fw != NULL; fw = l ? fw->ring_next : fw->hh.next)
            cap += HASH_COUNT(fw->tasks) + fw->unreachable_tasks.count + fw->completed_tasks.count;
    }
    listed_task_t *list = malloc((cap > 0 ? cap : 1) * sizeof(*list));
    *count = 0;
    if (list == NULL)
        return NULL;
    for (size_t l = 0; l < 2; l++) {
        for (master_framework_t *fw = lists[l]; fw != NULL; fw = l ? fw->ring_next : fw->hh.next) {
            if (fw_only == NULL || strcmp(fw_only, fw->id) == 0)
                list_framework_tasks(fw, task_only, list, count);
        }
    }
    qsort(list, *count, sizeof(*list), ascending ? compare_ascending : compare_descending);
    return list;
}

/* Mesos's /tasks: the tasks of every framework, active or completed (running, unreachable and
 * completed tasks), sorted by their first status's time, newest first unless order=asc, then
 * `limit` (100) of them from `offset` (0). Filters framework_id and task_id select by id.
 * Unparsable numbers fall back to the defaults, and a negative one wraps around as Mesos's
 * size_t does (limit=-1: no limit). */
static void on_tasks(actor_t *self, void *state, actor_http_request_t *req)
{
    (void)self;
    master_t *m = state;
    int value;
    size_t limit = query_int(req, "limit", &value) ? (size_t)value : 100;
    size_t offset = query_int(req, "offset", &value) ? (size_t)value : 0;
    const char *order = actor_http_query(req, "order");
    bool ascending = order != NULL && strcmp(order, "asc") == 0;
    size_t n;
    listed_task_t *list = list_tasks(m, actor_http_query(req, "framework_id"),
                                     actor_http_query(req, "task_id"), ascending, &n);
    if (list == NULL) {
        actor_http_respond_text(req, 500, "Out of memory listing the tasks");
        return;
    }
    json_t *page = json_array();
    size_t end = offset + limit < n ? offset + limit : n; /* wraps as Mesos's std::min does */
    for (size_t i = offset; i < end; i++)
        json_array_append_new(page, master_json_task(list[i].task));
    free(list);
    actor_http_respond_json(req, 200, json_pack("{s:o}", "tasks", page));
}

double master_weight_of(master_t *m, const char *role)
{
    master_weight_t *w = NULL;
    HASH_FIND_STR(m->weights, role, w);
    return w != NULL ? w->weight : 1.0;
}

/* The view of role `name` in roles, added (with m's weight for it) if new; NULL without memory. */
static master_role_view_t *role_view(master_t *m, master_role_view_t **roles, size_t *count,
                                     size_t *cap, const char *name)
{
    for (size_t i = 0; i < *count; i++) {
        if (strcmp((*roles)[i].name, name) == 0)
            return &(*roles)[i];
    }
    if (*count == *cap) {
        size_t grown = *cap ? *cap * 2 : 8;
        master_role_view_t *bigger = realloc(*roles, grown * sizeof(*bigger));
        if (bigger == NULL)
            return NULL;
        *roles = bigger;
        *cap = grown;
    }
    master_role_view_t *r = &(*roles)[(*count)++];
    memset(r, 0, sizeof(*r));
    r->name = name;
    r->weight = master_weight_of(m, name);
    resources_init(&r->resources);
    return r;
}

static actor_err_t role_add_framework(master_role_view_t *r, const master_framework_t *fw)
{
    const master_framework_t **grown =
        realloc(r->frameworks, (r->framework_count + 1) * sizeof(*grown));
    if (grown == NULL)
        return ACTOR_ENOMEM;
    r->frameworks = grown;
    r->frameworks[r->framework_count++] = fw;
    actor_err_t err = resources_add(&r->resources, &fw->used);
    return err == ACTOR_OK ? resources_add(&r->resources, &fw->offered) : err;
}

actor_err_t master_roles_collect(master_t *m, master_role_view_t **out, size_t *count)
{
    master_role_view_t *roles = NULL;
    size_t n = 0, cap = 0;
    actor_err_t err = ACTOR_OK;
    for (master_framework_t *fw = m->frameworks; fw != NULL && err == ACTOR_OK; fw = fw->hh.next) {
        for (size_t i = 0; i < fw->role_count && err == ACTOR_OK; i++) {
            master_role_view_t *r = role_view(m, &roles, &n, &cap, fw->roles[i]);
            err = r != NULL ? role_add_framework(r, fw) : ACTOR_ENOMEM;
        }
    }
    for (master_weight_t *w = m->weights; w != NULL && err == ACTOR_OK; w = w->hh.next) {
        if (role_view(m, &roles, &n, &cap, w->role) == NULL)
            err = ACTOR_ENOMEM;
    }
    if (err != ACTOR_OK) {
        master_roles_free(roles, n);
        return err;
    }
    *out = roles;
    *count = n;
    return ACTOR_OK;
}

void master_roles_free(master_role_view_t *roles, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        free(roles[i].frameworks);
        resources_fini(&roles[i].resources);
    }
    free(roles);
}

static void on_roles(actor_t *self, void *state, actor_http_request_t *req)
{
    (void)self;
    master_t *m = state;
    master_role_view_t *roles;
    size_t count;
    if (master_roles_collect(m, &roles, &count) != ACTOR_OK) {
        actor_http_respond_text(req, 503, "Out of memory");
        return;
    }
    json_t *list = json_array();
    for (size_t i = 0; i < count; i++) {
        json_t *ids = json_array(), *res = NULL;
        for (size_t k = 0; k < roles[i].framework_count; k++)
            json_array_append_new(ids, json_string(roles[i].frameworks[k]->id));
        if (resources_to_json(&roles[i].resources, &res) != ACTOR_OK || res == NULL)
            res = json_object();
        json_array_append_new(list, json_pack("{s:s, s:f, s:o, s:o, s:{}}", "name", roles[i].name,
                                              "weight", roles[i].weight, "frameworks", ids,
                                              "resources", res, "quota"));
    }
    master_roles_free(roles, count);
    actor_http_respond_json(req, 200, json_pack("{s:o}", "roles", list));
}

/* ---- /weights ---- */

typedef struct weights_ctx {
    actor_http_request_t *req;
    size_t count;
    char **roles;
    double *weights;
} weights_ctx_t;

static void weights_ctx_free(weights_ctx_t *ctx)
{
    for (size_t i = 0; ctx->roles != NULL && i < ctx->count; i++)
        free(ctx->roles[i]);
    free(ctx->roles);
    free(ctx->weights);
    free(ctx);
}

static void weight_set(master_t *m, const char *role, double weight)
{
    master_weight_t *w = NULL;
    HASH_FIND_STR(m->weights, role, w);
    if (w == NULL && (w = calloc(1, sizeof(*w))) != NULL) {
        if ((w->role = strdup(role)) == NULL) {
            free(w);
            return;
        }
        HASH_ADD_KEYPTR(hh, m->weights, w->role, strlen(w->role), w);
    }
    if (w != NULL)
        w->weight = weight;
}

static void weights_stored(actor_t *self, void *state, void *arg, bool applied)
{
    weights_ctx_t *ctx = arg;
    if (self != NULL) {
        master_t *m = state;
        for (size_t i = 0; i < ctx->count; i++) {
            weight_set(m, ctx->roles[i], ctx->weights[i]);
            allocator_actor_update_weight(&m->allocator, ctx->roles[i], ctx->weights[i]);
        }
        actor_http_respond(ctx->req, applied ? 200 : 409, "text/plain", NULL, 0, "", 0);
    } else {
        actor_http_respond_text(ctx->req, 503, "The master is gone");
    }
    weights_ctx_free(ctx);
}

/* Checks each weight as Mesos does; NULL, or why the request is refused. */
static const char *weights_invalid(const Mesos__WeightInfo *const *weights, size_t count)
{
    const char *why = NULL;
    for (size_t i = 0; i < count; i++) {
        const char *role = weights[i]->role;
        if (role == NULL || !master_role_valid(role, &why) || strcmp(role, "*") == 0)
            return why != NULL ? why : "Each weight needs a valid 'role' other than '*'";
        if (!isfinite(weights[i]->weight) || weights[i]->weight <= 0)
            return "Weights must be positive numbers";
    }
    return NULL;
}

static weights_ctx_t *weights_ctx_new(actor_http_request_t *req,
                                      const Mesos__WeightInfo *const *weights, size_t count)
{
    weights_ctx_t *ctx = calloc(1, sizeof(*ctx));
    if (ctx == NULL)
        return NULL;
    ctx->req = req;
    ctx->count = count;
    ctx->roles = calloc(count + 1, sizeof(*ctx->roles));
    ctx->weights = calloc(count + 1, sizeof(*ctx->weights));
    bool ok = ctx->roles != NULL && ctx->weights != NULL;
    for (size_t i = 0; ok && i < count; i++) {
        ok = (ctx->roles[i] = strdup(weights[i]->role)) != NULL;
        ctx->weights[i] = weights[i]->weight;
    }
    if (!ok) {
        weights_ctx_free(ctx);
        return NULL;
    }
    return ctx;
}

void master_weights_update(actor_t *self, master_t *m, actor_http_request_t *req,
                           const Mesos__WeightInfo *const *weights, size_t count)
{
    const char *why = weights_invalid(weights, count);
    if (why != NULL) {
        actor_http_respond_text(req, 400, "Invalid weights: %s", why);
        return;
    }
    weights_ctx_t *ctx = weights_ctx_new(req, weights, count);
    if (ctx == NULL) {
        actor_http_respond_text(req, 503, "Out of memory");
        return;
    }
    registrar_op_t op = {
        .kind = REGISTRAR_UPDATE_WEIGHTS, .weights = weights, .weight_count = count};
    if (registrar_submit(self, &m->registrar, &op, weights_stored, ctx) != ACTOR_OK) {
        weights_ctx_free(ctx);
        actor_http_respond_text(req, 503, "The registrar is unavailable");
    }
}

static void put_weights(actor_t *self, master_t *m, actor_http_request_t *req)
{
    json_error_t jerr;
    size_t len;
    const char *body = actor_http_body(req, &len);
    json_t *list = json_loadb(body, len, 0, &jerr);
    if (!json_is_array(list)) {
        json_decref(list);
        actor_http_respond_text(req, 400, "Failed to parse update weights request JSON: %s",
                                list == NULL ? jerr.text : "expected an array");
        return;
    }
    size_t n = json_array_size(list);
    Mesos__WeightInfo *infos = calloc(n + 1, sizeof(*infos));
    const Mesos__WeightInfo **ptrs = calloc(n + 1, sizeof(*ptrs));
    if (infos == NULL || ptrs == NULL) {
        actor_http_respond_text(req, 503, "Out of memory");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        json_t *item = json_array_get(list, i), *weight = json_object_get(item, "weight");
        mesos__weight_info__init(&infos[i]);
        infos[i].role = (char *)json_string_value(json_object_get(item, "role"));
        /* Not a number: NaN, which the check refuses. */
        infos[i].weight = json_is_number(weight) ? json_number_value(weight) : NAN;
        ptrs[i] = &infos[i];
    }
    master_weights_update(self, m, req, ptrs, n);
out:
    free(infos);
    free(ptrs);
    json_decref(list);
}

static void on_weights(actor_t *self, void *state, actor_http_request_t *req)
{
    master_t *m = state;
    if (strcmp(actor_http_method(req), "PUT") == 0) {
        put_weights(self, m, req);
        return;
    }
    json_t *list = json_array();
    for (master_weight_t *w = m->weights; w != NULL; w = w->hh.next)
        json_array_append_new(list, json_pack("{s:s, s:f}", "role", w->role, "weight", w->weight));
    actor_http_respond_json(req, 200, list);
}

/* ---- /teardown ---- */

static void on_teardown(actor_t *self, void *state, actor_http_request_t *req)
{
    master_t *m = state;
    /* Mesos reads frameworkId from the form body (or the query). */
    char id[256] = "";
    const char *q = actor_http_query(req, "frameworkId");
    if (q != NULL) {
        snprintf(id, sizeof(id), "%s", q);
    } else {
        const char *body = actor_http_body(req, NULL);
        const char *p = strstr(body, "frameworkId=");
        if (p != NULL) {
            p += strlen("frameworkId=");
            size_t n = strcspn(p, "&\r\n");
            snprintf(id, sizeof(id), "%.*s", (int)(n < sizeof(id) ? n : sizeof(id) - 1), p);
        }
    }
    if (id[0] == '\0') {
        actor_http_respond_text(req, 400,
                                "Missing 'frameworkId' query parameter in the request "
                                "body");
        return;
    }
    master_teardown(self, m, req, id);
}

void master_teardown(actor_t *self, master_t *m, actor_http_request_t *req, const char *id)
{
    master_framework_t *fw = master_framework_find(m, id);
    if (fw == NULL) {
        actor_http_respond_text(req, 400, "No framework found with specified ID");
        return;
    }
    if (fw->connected)
        master_send_error(self, &fw->pid, "Framework removed");
    master_framework_remove(self, m, fw);
    actor_http_respond(req, 200, "text/plain", NULL, 0, "", 0);
}

const actor_http_route_t master_routes[] = {
    {"/state", "GET", on_state},
    {"/state.json", "GET", on_state},
    {"/state-summary", "GET", on_state_summary},
    {"/frameworks", "GET", on_frameworks},
    {"/slaves", "GET", on_slaves},
    {"/tasks", "GET", on_tasks},
    {"/tasks.json", "GET", on_tasks},
    {"/roles", "GET", on_roles},
    {"/weights", "GET,PUT", on_weights},
    {"/flags", "GET", on_flags},
    {"/health", "GET", on_health},
    {"/version", "GET", on_version},
    {"/teardown", "POST", on_teardown},
    {"/redirect", "GET", on_redirect},
    {"/api/v1", "POST", master_handle_api},
    {"/", "GET", master_http_ui},
    {"/ui/*", "GET", master_http_ui},
};
const size_t master_route_count = sizeof(master_routes) / sizeof(master_routes[0]);
