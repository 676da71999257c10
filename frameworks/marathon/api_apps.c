/*
 * api_apps.c: /v2/apps and its children, in Marathon's shapes: list, create (201 with Location
 * and Marathon-Deployment-Id), get, update (PUT merges by default, PATCH never creates),
 * delete, restart, tasks (list, kill one or all, with scale), versions and rollback. Every write
 * answers once what it changed is durable.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actor/log.h"
#include "frameworks/marathon/api.h"
#include "frameworks/marathon/app_info.h"
#include "frameworks/marathon/jsonbuf.h"
#include "frameworks/marathon/marathon_int.h"
#include "proto/task_states.h"

/* ---- AppInfo ---- */

/* An instance as the counts and statistics see it (strings borrowed from i); its life time only
 * with life (a timestamp to parse). */
static void task_stat(const marathon_instance_t *i, int64_t now_ns, bool life,
                      marathon_task_stat_t *out)
{
    bool any = false, all_alive = true;
    for (size_t k = 0; k < i->health_count; k++) {
        if (i->health[k].has_result) {
            any = true;
            all_alive &= i->health[k].alive;
        }
    }
    int64_t started = 0;
    *out = (marathon_task_stat_t){
        .staged_at = i->staged_at,
        .version = i->version,
        .staging =
            i->state == MARATHON_STATE_CREATED || i->state == MESOS__TASK_STATE__TASK_STAGING,
        .running = i->state == MESOS__TASK_STATE__TASK_RUNNING,
        .healthy = any && all_alive,
        .unhealthy = any && !all_alive,
        .has_life_time = life && marathon_timestamp_parse(i->started_at, &started) == ACTOR_OK,
    };
    if (out->has_life_time)
        out->life_time = (double)(now_ns - started) / 1e9;
}

/* Appends the app's definition without its closing brace: made once per definition and kept
 * in the entry (a cache, so the entry is not otherwise changed). */
static void definition_text(const marathon_app_entry_t *app, jsonbuf_t *b)
{
    marathon_app_entry_t *e = (marathon_app_entry_t *)app;
    if (e->app_text == NULL) {
        json_t *json = marathon_app_to_json(e->app);
        char *text = json != NULL ? json_dumps(json, MARATHON_APP_JSON_FLAGS) : NULL;
        json_decref(json);
        size_t len = text != NULL ? strlen(text) : 0;
        if (len < 2 || text[len - 1] != '}') {
            free(text);
            b->failed = true;
            return;
        }
        e->app_text = text;
        e->app_text_len = len - 1;
    }
    jsonbuf_append(b, e->app_text, e->app_text_len);
}

static void counts_text(const marathon_task_stat_t *stats, size_t n, jsonbuf_t *b)
{
    marathon_task_counts_t c;
    marathon_task_counts(stats, n, &c);
    jsonbuf_raw(b, ",\"tasksStaged\":");
    jsonbuf_int(b, c.staged);
    jsonbuf_raw(b, ",\"tasksRunning\":");
    jsonbuf_int(b, c.running);
    jsonbuf_raw(b, ",\"tasksHealthy\":");
    jsonbuf_int(b, c.healthy);
    jsonbuf_raw(b, ",\"tasksUnhealthy\":");
    jsonbuf_int(b, c.unhealthy);
}

/* Appends key and the app's tasks as an array. */
static void tasks_text(const marathon_app_entry_t *e, const char *key, jsonbuf_t *b)
{
    jsonbuf_raw(b, key);
    jsonbuf_raw(b, "[");
    for (const marathon_instance_t *i = e->instances; i != NULL; i = i->app_next) {
        marathon_instance_text(b, i);
        jsonbuf_raw(b, i->app_next != NULL ? "," : "");
    }
    jsonbuf_raw(b, "]");
}

/* Appends json (stolen) under key; NULL (out of memory) fails the text. */
static void json_text(jsonbuf_t *b, const char *key, json_t *json)
{
    if (json == NULL) {
        b->failed = true;
        return;
    }
    jsonbuf_raw(b, key);
    jsonbuf_json(b, json, MARATHON_APP_JSON_FLAGS);
    json_decref(json);
}

/* Appends the app with the parts `embed` (marathon_embed_t bits) asks for, in Marathon's order,
 * as the JSON text an AppInfo is: the answer is assembled from text, not a tree per request. */
static void app_info_text(marathon_t *m, const marathon_app_entry_t *e, unsigned embed,
                          jsonbuf_t *b)
{
    (void)m;
    definition_text(e, b);
    marathon_task_stat_t *stats = NULL;
    size_t n = 0;
    if (embed & (MARATHON_EMBED_COUNTS | MARATHON_EMBED_TASK_STATS)) {
        bool life = embed & MARATHON_EMBED_TASK_STATS;
        int64_t now = actor_clock_wall();
        if ((stats = calloc(e->instance_count + 1, sizeof(*stats))) == NULL) {
            b->failed = true;
            return;
        }
        for (const marathon_instance_t *i = e->instances; i != NULL; i = i->app_next)
            task_stat(i, now, life, &stats[n++]);
    }
    if (embed & MARATHON_EMBED_COUNTS)
        counts_text(stats, n, b);
    if (embed & MARATHON_EMBED_DEPLOYMENTS) {
        jsonbuf_raw(b, e->deployment != NULL ? ",\"deployments\":[{\"id\":" : ",\"deployments\":[");
        if (e->deployment != NULL) {
            jsonbuf_string(b, e->deployment->id);
            jsonbuf_raw(b, "}");
        }
        jsonbuf_raw(b, "]");
    }
    if (embed & MARATHON_EMBED_READINESS) /* no readiness checks run: never a result */
        jsonbuf_raw(b, ",\"readinessCheckResults\":[]");
    if (embed & MARATHON_EMBED_TASKS)
        tasks_text(e, ",\"tasks\":", b);
    if ((embed & MARATHON_EMBED_LAST_TASK_FAILURE) && e->last_task_failure != NULL)
        json_text(b, ",\"lastTaskFailure\":", json_incref(e->last_task_failure));
    if (embed & MARATHON_EMBED_TASK_STATS)
        json_text(b, ",\"taskStats\":", marathon_task_stats_json(e->app, stats, n));
    jsonbuf_raw(b, "}");
    free(stats);
}

json_t *marathon_app_info(marathon_t *m, const marathon_app_entry_t *e, bool with_tasks)
{
    jsonbuf_t b;
    jsonbuf_init(&b, 4096);
    app_info_text(m, e,
                  MARATHON_EMBED_COUNTS | MARATHON_EMBED_DEPLOYMENTS |
                      (with_tasks ? MARATHON_EMBED_TASKS | MARATHON_EMBED_LAST_TASK_FAILURE : 0),
                  &b);
    json_t *json = b.failed ? NULL : json_loadb(b.data, b.len, 0, NULL);
    jsonbuf_fini(&b);
    return json;
}

/* Answers 200 with the text in b (JSON; freed here), or as JSONP when the request asks for it
 * (actor_http_respond_json knows how: the text goes through a tree then). */
static void respond_text(actor_http_request_t *req, jsonbuf_t *b)
{
    if (b->failed) {
        actor_http_respond_json(req, 503, json_pack("{s:s}", "message", "Out of memory"));
    } else if (actor_http_query(req, "jsonp") != NULL) {
        json_t *json = json_loadb(b->data, b->len, 0, NULL);
        if (json != NULL)
            actor_http_respond_json(req, 200, json);
        else
            actor_http_respond_json(req, 503, json_pack("{s:s}", "message", "Out of memory"));
    } else {
        actor_http_respond(req, 200, "application/json", NULL, 0, b->data, b->len);
    }
    jsonbuf_fini(b);
}

/* ---- answering after the write is durable ---- */

typedef struct answer {
    actor_http_request_t *req;
    int status;
    json_t *body;
    char location[512];
    char deployment_id[64];
} answer_t;

static void send_answer(marathon_t *m, void *arg)
{
    (void)m;
    answer_t *a = arg;
    http_header_t headers[2];
    size_t n = 0;
    if (a->location[0] != '\0')
        headers[n++] = (http_header_t){"Location", a->location};
    if (a->deployment_id[0] != '\0')
        headers[n++] = (http_header_t){"Marathon-Deployment-Id", a->deployment_id};
    char *text = json_dumps(a->body, MARATHON_APP_JSON_FLAGS);
    json_decref(a->body);
    actor_http_respond(a->req, a->status, "application/json", headers, n, text ? text : "{}",
                       text ? strlen(text) : 2);
    free(text);
    free(a);
}

/* Answers once durable: body is stolen; location and deployment id may be NULL. */
static void answer_durable(marathon_t *m, actor_http_request_t *req, int status, json_t *body,
                           const char *location, const marathon_deployment_t *d)
{
    answer_t *a = calloc(1, sizeof(*a));
    if (a == NULL) {
        json_decref(body);
        actor_http_respond_json(req, 503, json_pack("{s:s}", "message", "Out of memory"));
        return;
    }
    a->req = req;
    a->status = status;
    a->body = body;
    if (location != NULL)
        snprintf(a->location, sizeof(a->location), "%s", location);
    if (d != NULL)
        snprintf(a->deployment_id, sizeof(a->deployment_id), "%s", d->id);
    marathon_after_durable(m, send_answer, a);
}

static json_t *deployment_result(const marathon_deployment_t *d)
{
    return json_pack("{s:s,s:s}", "deploymentId", d->id, "version", d->version);
}

static void not_found(actor_http_request_t *req, const char *id)
{
    actor_http_respond_json(req, 404,
                            json_pack("{s:s++}", "message", "App '", id, "' does not exist"));
}

/* Refuses an app write because a deployment locks the app (Marathon counts it as dismissed). */
static void locked(marathon_t *m, actor_http_request_t *req, const marathon_deployment_t *d)
{
    m->counters.deployments_dismissed++;
    char message[256];
    snprintf(message, sizeof(message),
             "App is locked by one or more deployments. Override with the option "
             "'?force=true'. View details at '/v2/deployments/%s'.",
             d->id);
    actor_http_respond_json(
        req, 409, json_pack("{s:s,s:[{s:s}]}", "message", message, "deployments", "id", d->id));
}

/* ---- writes ---- */

/* Stamps a new version: a scale changes lastScalingAt only, anything else both. */
static void stamp(marathon_app_t *app, const marathon_app_t *before, bool scale_only)
{
    char now[32];
    marathon_version_now(now);
    free(app->version);
    free(app->last_scaling_at);
    free(app->last_config_change_at);
    app->version = strdup(now);
    app->last_scaling_at = strdup(now);
    app->last_config_change_at =
        strdup(scale_only && before && before->last_config_change_at ? before->last_config_change_at
                                                                     : now);
}

/* Gives the port definitions of app with port 0 their service ports (before: the app's current
 * definition, or NULL). Answers and frees app, and returns false, when that fails. */
static bool assign_service_ports(marathon_t *m, actor_http_request_t *req, marathon_app_t *app,
                                 const marathon_app_t *before)
{
    size_t n = 0, cap = 0;
    for (const marathon_app_entry_t *e = m->apps; e != NULL; e = e->hh.next)
        cap += e->app->port_definition_count;
    uint32_t *used = calloc(cap + 1, sizeof(*used));
    for (const marathon_app_entry_t *e = m->apps; used != NULL && e != NULL; e = e->hh.next) {
        for (size_t k = 0; strcmp(e->id, app->id) != 0 && k < e->app->port_definition_count; k++)
            used[n++] = e->app->port_definitions[k].port;
    }
    uint32_t min = m->opts.local_port_min, max = m->opts.local_port_max;
    actor_err_t rc = used != NULL
                         ? marathon_app_assign_service_ports(app, before, used, n, min, max)
                         : ACTOR_ENOMEM;
    free(used);
    if (rc == ACTOR_OK)
        return true;
    char message[128];
    snprintf(message, sizeof(message), "All ports in the range [%u-%u] are already in use",
             (unsigned)min, (unsigned)max);
    actor_http_respond_json(
        req, rc == ACTOR_EADDRINUSE ? 500 : 503,
        json_pack("{s:s}", "message", rc == ACTOR_EADDRINUSE ? message : "Out of memory"));
    marathon_app_free(app);
    return false;
}

static void create(marathon_t *m, actor_http_request_t *req, marathon_app_t *app)
{
    if (!assign_service_ports(m, req, app, NULL))
        return;
    stamp(app, NULL, false);
    json_t *body = NULL;
    char location[512];
    snprintf(location, sizeof(location), "/v2/apps%s", app->id);
    marathon_deployment_t *d = marathon_deploy(m, NULL, app, MARATHON_START);
    marathon_app_entry_t *e = d != NULL ? marathon_app_find(m, d->app_id) : NULL;
    if (e == NULL) {
        actor_http_respond_json(req, 503, json_pack("{s:s}", "message", "Out of memory"));
        return;
    }
    body = marathon_app_info(m, e, false);
    marathon_event(m, "api_post_event",
                   json_pack("{s:s,s:s,s:O}", "clientIp", actor_http_peer(req), "uri", location,
                             "appDefinition", body));
    answer_durable(m, req, 201, body, location, d);
}

/* Parses a JSON body; answers 400 in Marathon's shape when it does not parse. */
json_t *marathon_api_body(actor_http_request_t *req)
{
    size_t len = 0;
    const char *text = actor_http_body(req, &len);
    json_error_t error;
    json_t *json = json_loadb(text, len, 0, &error);
    if (json == NULL)
        actor_http_respond_json(
            req, 400, json_pack("{s:s,s:s}", "message", "Invalid JSON", "details", error.text));
    return json;
}

static bool flag(actor_http_request_t *req, const char *name, bool dflt)
{
    const char *v = actor_http_query(req, name);
    if (v == NULL)
        return dflt;
    return strcmp(v, "false") != 0 && strcmp(v, "0") != 0;
}

static void post_apps(marathon_t *m, actor_http_request_t *req)
{
    json_t *json = marathon_api_body(req);
    if (json == NULL)
        return;
    marathon_app_t *app = NULL;
    json_t *details = NULL;
    actor_err_t rc = marathon_app_from_json(json, NULL, NULL, &app, &details);
    json_decref(json);
    if (rc == ACTOR_EINVAL) {
        actor_http_respond_json(req, 422,
                                json_pack("{s:s,s:o}", "message",
                                          marathon_app_error_message(details), "details", details));
        return;
    }
    if (rc != ACTOR_OK) {
        actor_http_respond_json(req, 503, json_pack("{s:s}", "message", "Out of memory"));
        return;
    }
    if (marathon_app_find(m, app->id) != NULL) {
        actor_http_respond_json(
            req, 409,
            json_pack("{s:s++}", "message", "An app with id [", app->id, "] already exists."));
        marathon_app_free(app);
        return;
    }
    create(m, req, app);
}

/* PUT (partial unless partialUpdate=false; creates a missing app) and PATCH (never creates). */
static void update_app(marathon_t *m, actor_http_request_t *req, const char *id, bool patch)
{
    json_t *json = marathon_api_body(req);
    if (json == NULL)
        return;
    marathon_app_entry_t *e = marathon_app_find(m, id);
    if (e == NULL && patch) {
        json_decref(json);
        not_found(req, id);
        return;
    }
    if (e != NULL && e->deployment != NULL && !flag(req, "force", false)) {
        json_decref(json);
        locked(m, req, e->deployment);
        return;
    }
    marathon_app_t *app = NULL;
    const char *rollback = marathon_app_rollback_version(json);
    if (e != NULL && rollback != NULL) {
        /* {"version": ts}: deploy a stored version again. */
        app = marathon_store_app_version(m, id, rollback);
        json_decref(json);
        if (app == NULL) {
            actor_http_respond_json(req, 404,
                                    json_pack("{s:s+++}", "message", "App '", id,
                                              "' does not exist in version ", rollback));
            return;
        }
    } else {
        json_t *details = NULL;
        bool partial = patch || flag(req, "partialUpdate", true);
        actor_err_t rc =
            marathon_app_from_json(json, e != NULL && partial ? e->app : NULL, id, &app, &details);
        json_decref(json);
        if (rc != ACTOR_OK) {
            actor_http_respond_json(
                req, details ? 422 : 503,
                json_pack("{s:s,s:o}", "message",
                          details ? marathon_app_error_message(details) : "Out of memory",
                          "details", details ? details : json_array()));
            return;
        }
    }
    if (e == NULL) {
        create(m, req, app);
        return;
    }
    if (!assign_service_ports(m, req, app, e->app))
        return;
    bool scale = marathon_app_only_scaled(e->app, app);
    stamp(app, e->app, scale);
    marathon_deployment_t *d = marathon_deploy(m, marathon_app_copy(e->app), app,
                                               scale ? MARATHON_SCALE : MARATHON_RESTART);
    if (d == NULL) {
        actor_http_respond_json(req, 503, json_pack("{s:s}", "message", "Out of memory"));
        return;
    }
    answer_durable(m, req, 200, deployment_result(d), NULL, d);
}

static void delete_app(marathon_t *m, actor_http_request_t *req, marathon_app_entry_t *e)
{
    if (e->deployment != NULL && !flag(req, "force", true)) {
        locked(m, req, e->deployment);
        return;
    }
    marathon_deployment_t *d = marathon_deploy(m, marathon_app_copy(e->app), NULL, MARATHON_STOP);
    if (d == NULL) {
        actor_http_respond_json(req, 503, json_pack("{s:s}", "message", "Out of memory"));
        return;
    }
    answer_durable(m, req, 200, deployment_result(d), NULL, d);
}

static void restart_app(marathon_t *m, actor_http_request_t *req, marathon_app_entry_t *e)
{
    if (e->deployment != NULL && !flag(req, "force", false)) {
        locked(m, req, e->deployment);
        return;
    }
    marathon_app_t *app = marathon_app_copy(e->app);
    if (app != NULL)
        stamp(app, e->app, false);
    marathon_deployment_t *d =
        app != NULL ? marathon_deploy(m, marathon_app_copy(e->app), app, MARATHON_RESTART) : NULL;
    if (d == NULL) {
        actor_http_respond_json(req, 503, json_pack("{s:s}", "message", "Out of memory"));
        return;
    }
    answer_durable(m, req, 200, deployment_result(d), NULL, d);
}

/* ---- tasks of an app ---- */

static void kill_tasks(marathon_t *m, actor_http_request_t *req, marathon_app_entry_t *e,
                       const char *task_id)
{
    const char *host = actor_http_query(req, "host");
    bool scale = flag(req, "scale", false);
    if (scale && flag(req, "wipe", false)) {
        actor_http_respond_json(
            req, 400,
            json_pack("{s:s}", "message", "You cannot use scale and wipe at the same time."));
        return;
    }
    json_t *killed = json_array();
    uint32_t count = 0;
    for (marathon_instance_t *i = e->instances; i != NULL; i = i->app_next) {
        if (task_id != NULL && strcmp(i->task_id, task_id) != 0)
            continue;
        if (host != NULL && strcmp(host, "*") != 0 && strcmp(host, i->host) != 0)
            continue;
        json_array_append_new(killed, marathon_instance_json(m, i));
        marathon_instance_kill(m, i);
        count++;
    }
    if (task_id != NULL && count == 0) {
        json_decref(killed);
        actor_http_respond_json(
            req, 404, json_pack("{s:s++}", "message", "Task '", task_id, "' does not exist"));
        return;
    }
    if (scale) {
        json_decref(killed);
        marathon_app_t *app = marathon_app_copy(e->app);
        if (app != NULL) {
            app->instances = app->instances > count ? app->instances - count : 0;
            stamp(app, e->app, true);
        }
        marathon_deployment_t *d =
            app != NULL ? marathon_deploy(m, marathon_app_copy(e->app), app, MARATHON_SCALE) : NULL;
        if (d == NULL) {
            actor_http_respond_json(req, 503, json_pack("{s:s}", "message", "Out of memory"));
            return;
        }
        answer_durable(m, req, 200, deployment_result(d), NULL, d);
        return;
    }
    json_t *body = task_id != NULL ? json_pack("{s:O}", "task", json_array_get(killed, 0))
                                   : json_pack("{s:O}", "tasks", killed);
    json_decref(killed);
    answer_durable(m, req, 200, body, NULL, NULL);
}

/* ---- routing ---- */

/* Splits "/v2/apps/<id>[/restart|/tasks[/<task>]|/versions[/<ts>]]" into the app id and the
 * part after it. App ids never end in restart, tasks or versions (Marathon reserves them). */
static void split_path(const char *path, char *id, size_t id_len, const char **rest)
{
    const char *p = path + strlen("/v2/apps");
    static const char *const suffixes[] = {"/restart", "/tasks", "/versions"};
    const char *cut = NULL;
    for (size_t k = 0; k < 3; k++) {
        const char *hit = strstr(p, suffixes[k]);
        size_t n = strlen(suffixes[k]);
        while (hit != NULL && hit[n] != '\0' && hit[n] != '/')
            hit = strstr(hit + 1, suffixes[k]);
        if (hit != NULL && (cut == NULL || hit < cut))
            cut = hit;
    }
    size_t n = cut != NULL ? (size_t)(cut - p) : strlen(p);
    while (n > 1 && p[n - 1] == '/')
        n--;
    snprintf(id, id_len, "%.*s", (int)n, p);
    *rest = cut != NULL ? cut : "";
}

/* GET /v2/apps: every app (or those whose id or cmd contains the `id` or `cmd` parameter),
 * written into a buffer sized from the last answer. */
static void list_apps(marathon_t *m, actor_http_request_t *req)
{
    const char *filter_id = actor_http_query(req, "id");
    const char *filter_cmd = actor_http_query(req, "cmd");
    unsigned embed = marathon_embed_parse(actor_http_query_string(req), false);
    jsonbuf_t b;
    jsonbuf_init(&b, m->apps_text_len + m->apps_text_len / 8 + 4096);
    jsonbuf_raw(&b, "{\"apps\":[");
    bool first = true;
    for (marathon_app_entry_t *e = m->apps; e != NULL; e = e->hh.next) {
        if (filter_id != NULL && strstr(e->id, filter_id) == NULL)
            continue;
        if (filter_cmd != NULL &&
            (e->app->cmd == NULL || strcasestr(e->app->cmd, filter_cmd) == NULL))
            continue;
        jsonbuf_raw(&b, first ? "" : ",");
        first = false;
        app_info_text(m, e, embed, &b);
    }
    jsonbuf_raw(&b, "]}");
    m->apps_text_len = b.len;
    respond_text(req, &b);
}

void marathon_api_apps(actor_t *self, void *state, actor_http_request_t *req)
{
    (void)self;
    marathon_t *m = state;
    const char *method = actor_http_method(req);
    const char *path = actor_http_path(req);
    if (strcmp(path, "/v2/apps") == 0 || strcmp(path, "/v2/apps/") == 0) {
        if (strcmp(method, "POST") == 0) {
            post_apps(m, req);
            return;
        }
        list_apps(m, req);
        return;
    }
    char id[512];
    const char *rest = "";
    split_path(path, id, sizeof(id), &rest);
    char *normal = marathon_app_id_normalize(id, (char[256]){0}, 256);
    marathon_app_entry_t *e = normal != NULL ? marathon_app_find(m, normal) : NULL;
    const char *shown = normal != NULL ? normal : id;
    if (*rest == '\0' && (strcmp(method, "PUT") == 0 || strcmp(method, "PATCH") == 0)) {
        update_app(m, req, shown, strcmp(method, "PATCH") == 0);
    } else if (e == NULL) {
        not_found(req, shown);
    } else if (*rest == '\0' && strcmp(method, "GET") == 0) {
        jsonbuf_t b;
        jsonbuf_init(&b, 4096);
        jsonbuf_raw(&b, "{\"app\":");
        app_info_text(m, e, marathon_embed_parse(actor_http_query_string(req), true), &b);
        jsonbuf_raw(&b, "}");
        respond_text(req, &b);
    } else if (*rest == '\0' && strcmp(method, "DELETE") == 0) {
        delete_app(m, req, e);
    } else if (strcmp(rest, "/restart") == 0 && strcmp(method, "POST") == 0) {
        restart_app(m, req, e);
    } else if (strcmp(rest, "/tasks") == 0 && strcmp(method, "GET") == 0) {
        jsonbuf_t b;
        jsonbuf_init(&b, 512 * e->instance_count + 64);
        tasks_text(e, "{\"tasks\":", &b);
        jsonbuf_raw(&b, "}");
        respond_text(req, &b);
    } else if (strncmp(rest, "/tasks", 6) == 0 && strcmp(method, "DELETE") == 0) {
        kill_tasks(m, req, e, rest[6] == '/' && rest[7] != '\0' ? rest + 7 : NULL);
    } else if (strcmp(rest, "/versions") == 0 && strcmp(method, "GET") == 0) {
        json_t *versions = json_array();
        for (size_t k = e->version_count; k-- > 0;)
            json_array_append_new(versions, json_string(e->versions[k]));
        actor_http_respond_json(req, 200, json_pack("{s:o}", "versions", versions));
    } else if (strncmp(rest, "/versions/", 10) == 0 && strcmp(method, "GET") == 0) {
        marathon_app_t *app = marathon_store_app_version(m, e->id, rest + 10);
        if (app == NULL)
            actor_http_respond_json(req, 404,
                                    json_pack("{s:s+++}", "message", "App '", e->id,
                                              "' does not exist in version ", rest + 10));
        else
            actor_http_respond_json(req, 200, marathon_app_to_json(app));
        marathon_app_free(app);
    } else {
        actor_http_respond_json(req, 405,
                                json_pack("{s:s}", "message", "HTTP 405 Method Not Allowed"));
    }
    free(normal);
}
