/*
 * api_misc.c: the rest of Marathon's REST API v2: /v2/tasks (and /v2/tasks/delete),
 * /v2/deployments, /v2/queue, /v2/info, /v2/leader, /v2/events, /ping, and Marathon's
 * JSON 404 for anything else. Also the route table.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frameworks/marathon/api.h"
#include "frameworks/marathon/offers.h"
#include "proto/task_states.h"

static bool state_wanted(actor_http_request_t *req, const marathon_instance_t *i)
{
    const char *status = actor_http_query(req, "status");
    if (status == NULL)
        status = actor_http_query(req, "status[]");
    if (status == NULL)
        return true;
    int s = i->state == MARATHON_STATE_CREATED ? MESOS__TASK_STATE__TASK_STAGING : i->state;
    if (strcmp(status, "running") == 0)
        return s == MESOS__TASK_STATE__TASK_RUNNING;
    if (strcmp(status, "staging") == 0)
        return s == MESOS__TASK_STATE__TASK_STAGING || s == MESOS__TASK_STATE__TASK_STARTING;
    return true;
}

static void on_tasks(actor_t *self, void *state, actor_http_request_t *req)
{
    (void)self;
    marathon_t *m = state;
    json_t *tasks = json_array();
    for (marathon_instance_t *i = m->instances; i != NULL; i = i->hh.next) {
        if (state_wanted(req, i))
            json_array_append_new(tasks, marathon_instance_json(m, i));
    }
    actor_http_respond_json(req, 200, json_pack("{s:o}", "tasks", tasks));
}

/* POST /v2/tasks/delete {"ids": [...]}: kills the listed tasks (unknown ids are ignored). */
static void on_tasks_delete(actor_t *self, void *state, actor_http_request_t *req)
{
    (void)self;
    marathon_t *m = state;
    json_t *body = marathon_api_body(req);
    if (body == NULL)
        return;
    json_t *ids = json_object_get(body, "ids"), *killed = json_array();
    for (size_t k = 0; k < json_array_size(ids); k++) {
        const char *id = json_string_value(json_array_get(ids, k));
        marathon_instance_t *i = id != NULL ? marathon_instance_find(m, id) : NULL;
        if (i == NULL)
            continue;
        json_array_append_new(killed, marathon_instance_json(m, i));
        marathon_instance_kill(m, i);
    }
    json_decref(body);
    actor_http_respond_json(req, 200, json_pack("{s:o}", "tasks", killed));
}

static void on_deployments(actor_t *self, void *state, actor_http_request_t *req)
{
    (void)self;
    marathon_t *m = state;
    const char *path = actor_http_path(req);
    if (strcmp(actor_http_method(req), "GET") == 0) {
        json_t *arr = json_array();
        for (marathon_deployment_t *d = m->deployments; d != NULL; d = d->hh.next)
            json_array_append_new(arr, marathon_deployment_json(d));
        actor_http_respond_json(req, 200, arr);
        return;
    }
    const char *id = strncmp(path, "/v2/deployments/", 16) == 0 ? path + 16 : "";
    marathon_deployment_t *d = NULL;
    HASH_FIND_STR(m->deployments, id, d);
    if (d == NULL) {
        actor_http_respond_json(
            req, 404, json_pack("{s:s++}", "message", "DeploymentPlan ", id, " does not exist"));
        return;
    }
    const char *force = actor_http_query(req, "force");
    if (force != NULL && strcmp(force, "true") == 0) {
        marathon_deployment_cancel(m, d, false);
        actor_http_respond(req, 202, "application/json", NULL, 0, "", 0);
        return;
    }
    marathon_deployment_t *revert = marathon_deployment_cancel(m, d, true);
    if (revert == NULL) {
        actor_http_respond_json(req, 503, json_pack("{s:s}", "message", "Out of memory"));
        return;
    }
    actor_http_respond_json(
        req, 200, json_pack("{s:s,s:s}", "deploymentId", revert->id, "version", revert->version));
}

/* One app of /v2/queue: what it waits for, its backoff, since when, and what the offers did. */
static json_t *queue_item(marathon_t *m, const marathon_app_entry_t *e, uint32_t count)
{
    double now = marathon_now();
    double left = e->delay_until > now ? e->delay_until - now : 0;
    marathon_offer_stats_t none;
    marathon_offer_stats_init(&none, actor_clock_wall()); /* it entered the queue just now */
    const marathon_offer_stats_t *stats = e->offer_stats != NULL ? e->offer_stats : &none;
    char since[32];
    marathon_timestamp(stats->since_ns, since, sizeof(since));
    return json_pack("{s:i,s:{s:i,s:b},s:s,s:o,s:s,s:o}", "count", (int)count, "delay",
                     "timeLeftSeconds", (int)(left + 0.999), "overdue", left == 0, "since", since,
                     "processedOffersSummary", marathon_offer_stats_json(stats), "role",
                     m->opts.mesos_role, "app", marathon_app_to_json(e->app));
}

static void on_queue(actor_t *self, void *state, actor_http_request_t *req)
{
    (void)self;
    marathon_t *m = state;
    const char *path = actor_http_path(req);
    if (strcmp(actor_http_method(req), "DELETE") == 0) {
        /* DELETE /v2/queue/{app id}/delay: the app's backoff ends now. */
        char id[512];
        const char *start = path + strlen("/v2/queue");
        const char *end = strstr(start, "/delay");
        snprintf(id, sizeof(id), "%.*s", end != NULL ? (int)(end - start) : 0, start);
        marathon_app_entry_t *e = marathon_app_find(m, id);
        if (end == NULL || e == NULL || e->delay_until <= marathon_now()) {
            actor_http_respond_json(
                req, 404,
                json_pack("{s:s++}", "message", "Application ", id, " not found in tasks queue."));
            return;
        }
        e->delay_until = 0;
        e->failures = 0;
        marathon_launch_wanted(m);
        actor_http_respond(req, 204, "application/json", NULL, 0, "", 0);
        return;
    }
    json_t *queue = json_array();
    for (marathon_app_entry_t *e = m->apps; e != NULL; e = e->hh.next) {
        uint32_t count = marathon_launch_queued(e);
        if (count > 0)
            json_array_append_new(queue, queue_item(m, e, count));
    }
    actor_http_respond_json(req, 200, json_pack("{s:o}", "queue", queue));
}

static void leader_text(marathon_t *m, char *out, size_t len)
{
    snprintf(out, len, "%s:%u", m->opts.hostname ? m->opts.hostname : "127.0.0.1",
             (unsigned)m->opts.http_port);
}

static void on_info(actor_t *self, void *state, actor_http_request_t *req)
{
    (void)self;
    marathon_t *m = state;
    char leader[300];
    leader_text(m, leader, sizeof(leader));
    json_t *config = json_pack(
        "{s:s,s:f,s:s,s:b,s:s,s:i,s:i,s:s,s:f,s:f,s:f}", "master", m->opts.master,
        "failover_timeout", m->opts.failover_timeout, "framework_name", m->opts.framework_name,
        "ha", false, "hostname", m->opts.hostname ? m->opts.hostname : "127.0.0.1",
        "local_port_min", (int)m->opts.local_port_min, "local_port_max",
        (int)m->opts.local_port_max, "mesos_role", m->opts.mesos_role, "task_launch_timeout",
        m->opts.task_launch_timeout * 1000, "decline_offer_duration",
        m->opts.decline_offer_duration * 1000, "min_revive_offers_interval",
        m->opts.min_revive_offers_interval * 1000);
    actor_http_respond_json(
        req, 200,
        json_pack("{s:s,s:s,s:s,s:b,s:s,s:o,s:o,s:{s:i}}", "name", "marathon", "version", "1.10.0",
                  "buildref", "mesos-c", "elected", true, "leader", leader, "frameworkId",
                  m->framework_id ? json_string(m->framework_id) : json_null(), "marathon_config",
                  config, "http_config", "http_port", (int)m->opts.http_port));
}

static void on_leader(actor_t *self, void *state, actor_http_request_t *req)
{
    (void)self;
    char leader[300];
    leader_text(state, leader, sizeof(leader));
    actor_http_respond_json(req, 200, json_pack("{s:s}", "leader", leader));
}

static void on_ping(actor_t *self, void *state, actor_http_request_t *req)
{
    (void)self, (void)state;
    const char *accept = actor_http_header(req, "Accept");
    if (accept != NULL && strstr(accept, "application/json") != NULL)
        actor_http_respond(req, 200, "application/json", NULL, 0, "\"pong\"", 6);
    else
        actor_http_respond(req, 200, "text/plain", NULL, 0, "pong", 4);
}

static void on_events(actor_t *self, void *state, actor_http_request_t *req)
{
    (void)self;
    marathon_events_subscribe(state, req);
}

static void on_unknown(actor_t *self, void *state, actor_http_request_t *req)
{
    (void)self, (void)state;
    actor_http_respond_json(req, 404, json_pack("{s:s}", "message", "URI not found"));
}

static const actor_http_route_t routes[] = {
    {"/v2/apps", "GET,POST", marathon_api_apps},
    {"/v2/apps/*", "GET,POST,PUT,PATCH,DELETE", marathon_api_apps},
    {"/v2/tasks", "GET", on_tasks},
    {"/v2/tasks/delete", "POST", on_tasks_delete},
    {"/v2/deployments", "GET", on_deployments},
    {"/v2/deployments/*", "DELETE", on_deployments},
    {"/v2/queue", "GET", on_queue},
    {"/v2/queue/*", "DELETE", on_queue},
    {"/v2/info", "GET", on_info},
    {"/v2/leader", "GET", on_leader},
    {"/v2/events", "GET", on_events},
    {"/v2/eventSubscriptions", "GET,POST,DELETE", marathon_api_event_subscriptions},
    {"/ping", "GET", on_ping},
    {"/metrics", "GET", marathon_api_metrics},
    {"/metrics/prometheus", "GET", marathon_api_metrics},
    {"/", "GET", marathon_api_ui},
    {"/ui/*", "GET", marathon_api_ui},
    {"*", NULL, on_unknown},
};

void marathon_http_install(marathon_t *m)
{
    actor_http_install(m->self, routes, sizeof(routes) / sizeof(routes[0]));
}
