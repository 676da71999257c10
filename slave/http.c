/*
 * http.c: the agent's HTTP endpoints, in Mesos's v0 JSON shapes: /state (/state.json), /flags,
 * /health, /monitor/statistics (/monitor/statistics.json). Served under the agent's id
 * ("/slave(1)/state") on every port, and at "/state" on a port whose root the agent is.
 */
#include <stdlib.h>
#include <string.h>

#include "actor/http.h"
#include "actor/metrics_actor.h"
#include "actor/pbjson.h"
#include "proto/task_states.h"
#include "slave/agent_int.h"

static json_t *resources_json(const resources_t *r)
{
    json_t *j = NULL;
    if (resources_to_json(r, &j) != ACTOR_OK)
        return json_object();
    return j;
}

static json_t *task_json(agent_t *a, const agent_executor_t *e, const agent_task_t *t)
{
    json_t *statuses = json_array();
    if (t->status != NULL) {
        json_t *s = json_pack("{s:s,s:f}", "state", mesos_task_state_name(t->status->state),
                              "timestamp", t->status->timestamp);
        json_array_append_new(statuses, s);
    }
    return json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:o,s:o}", "id", t->id, "name",
                     t->info->name != NULL ? t->info->name : "", "framework_id", e->framework->id,
                     "executor_id", e->command_executor ? "" : e->id, "slave_id",
                     a->agent_id != NULL ? a->agent_id : "", "state",
                     mesos_task_state_name(t->state), "resources", resources_json(&t->resources),
                     "statuses", statuses);
}

static json_t *tasks_json(agent_t *a, const agent_executor_t *e, const agent_task_t *table)
{
    json_t *arr = json_array();
    for (const agent_task_t *t = table; t != NULL; t = t->hh.next)
        json_array_append_new(arr, task_json(a, e, t));
    return arr;
}

static json_t *executor_json(agent_t *a, const agent_executor_t *e)
{
    json_t *completed = json_array();
    for (const agent_task_t *t = e->completed; t != NULL; t = t->next)
        json_array_append_new(completed, task_json(a, e, t));
    json_t *terminated = tasks_json(a, e, e->terminated);
    json_array_extend(completed, terminated);
    json_decref(terminated);
    return json_pack("{s:s,s:s,s:s,s:s,s:s,s:o,s:o,s:o,s:o}", "id", e->id, "name",
                     e->info->name != NULL ? e->info->name : "", "source",
                     e->info->source != NULL ? e->info->source : "", "container", e->container_id,
                     "directory", e->directory, "resources", resources_json(&e->resources), "tasks",
                     tasks_json(a, e, e->launched), "queued_tasks", tasks_json(a, e, e->queued),
                     "completed_tasks", completed);
}

static json_t *framework_json(agent_t *a, const agent_framework_t *f)
{
    json_t *executors = json_array(), *completed = json_array();
    for (const agent_executor_t *e = f->executors; e != NULL; e = e->hh.next)
        json_array_append_new(executors, executor_json(a, e));
    for (const agent_executor_t *e = f->completed_executors; e != NULL; e = e->next)
        json_array_append_new(completed, executor_json(a, e));
    const Mesos__FrameworkInfo *i = f->info;
    return json_pack("{s:s,s:s,s:s,s:f,s:b,s:s,s:s,s:o,s:o}", "id", f->id, "name",
                     i->name != NULL ? i->name : "", "user", i->user != NULL ? i->user : "",
                     "failover_timeout", i->has_failover_timeout ? i->failover_timeout : 0.0,
                     "checkpoint", i->has_checkpoint && i->checkpoint, "role",
                     i->role != NULL ? i->role : "*", "hostname",
                     i->hostname != NULL ? i->hostname : "", "executors", executors,
                     "completed_executors", completed);
}

static json_t *state_json(agent_t *a)
{
    json_t *frameworks = json_array(), *completed = json_array();
    for (const agent_framework_t *f = a->frameworks; f != NULL; f = f->hh.next)
        json_array_append_new(frameworks, framework_json(a, f));
    for (const agent_framework_t *f = a->completed_frameworks; f != NULL; f = f->hh.next)
        json_array_append_new(completed, framework_json(a, f));
    json_t *attributes = json_object();
    resources_attributes_t attrs;
    resources_attributes_init(&attrs);
    char err[256];
    if (a->opts.attributes != NULL &&
        resources_attributes_parse(&attrs, a->opts.attributes, err, sizeof(err)) == ACTOR_OK) {
        json_decref(attributes);
        if (resources_attributes_to_json(&attrs, &attributes) != ACTOR_OK)
            attributes = json_object();
    }
    resources_attributes_fini(&attrs);
    char pid[ACTOR_PID_STRLEN];
    actor_pid_format(actor_self(a->self), pid, sizeof(pid));
    char master[ACTOR_PID_STRLEN];
    actor_pid_format(&a->master, master, sizeof(master));
    json_t *state = json_pack(
        "{s:s,s:s,s:f,s:s,s:s,s:i,s:o,s:o,s:o,s:s,s:O,s:o,s:o}", "version", MESOS_VERSION, "id",
        a->agent_id != NULL ? a->agent_id : "", "start_time", a->start_time, "pid", pid, "hostname",
        a->info->hostname, "port", (int)a->opts.http_port, "resources", resources_json(&a->total),
        "used_resources", resources_json(&a->used), "attributes", attributes, "master_pid", master,
        "flags", a->flags != NULL ? a->flags : json_null(), "frameworks", frameworks,
        "completed_frameworks", completed);
    /* As Mesos's agent: the master's host only while registered with it. */
    if (state != NULL && a->state == AGENT_RUNNING) {
        char *host = strchr(master, '@');
        char *colon = host != NULL ? strrchr(host, ':') : NULL;
        if (colon != NULL)
            *colon = '\0';
        json_object_set_new(state, "master_hostname", json_string(host != NULL ? host + 1 : ""));
    }
    return state;
}

static void on_state(actor_t *self, void *state, actor_http_request_t *req)
{
    (void)self;
    actor_http_respond_json(req, 200, state_json(state));
}

static void on_flags(actor_t *self, void *state, actor_http_request_t *req)
{
    (void)self;
    agent_t *a = state;
    actor_http_respond_json(req, 200,
                            json_pack("{s:O}", "flags", a->flags ? a->flags : json_object()));
}

static void on_health(actor_t *self, void *state, actor_http_request_t *req)
{
    (void)self, (void)state;
    actor_http_respond(req, 200, "text/plain", NULL, 0, "", 0);
}

static json_t *usage_json(const container_usage_t *u)
{
    return json_pack(
        "{s:f,s:f,s:f,s:f,s:I,s:I,s:I,s:I,s:i}", "timestamp", agent_now(), "cpus_user_time_secs",
        u->cpus_user_time_secs, "cpus_system_time_secs", u->cpus_system_time_secs, "cpus_limit",
        u->cpus_limit, "mem_rss_bytes", (json_int_t)u->mem_rss_bytes, "mem_total_bytes",
        (json_int_t)u->mem_total_bytes, "mem_limit_bytes", (json_int_t)u->mem_limit_bytes,
        "mem_cache_bytes", (json_int_t)u->mem_cache_bytes, "processes", (int)u->processes);
}

static void on_statistics(actor_t *self, void *state, actor_http_request_t *req)
{
    (void)self;
    agent_t *a = state;
    json_t *arr = json_array();
    for (agent_framework_t *f = a->frameworks; f != NULL; f = f->hh.next) {
        for (agent_executor_t *e = f->executors; e != NULL; e = e->hh.next) {
            container_usage_t u;
            memset(&u, 0, sizeof(u));
            if (e->state == EXECUTOR_TERMINATED || !agent_container_usage(a, e, &u))
                continue;
            if (u.cpus_limit == 0)
                u.cpus_limit = resources_scalar(&e->resources, "cpus");
            if (u.mem_limit_bytes == 0)
                u.mem_limit_bytes = (uint64_t)(resources_scalar(&e->resources, "mem") * 1048576);
            json_array_append_new(
                arr, json_pack("{s:s,s:s,s:s,s:s,s:o}", "executor_id", e->id, "executor_name",
                               e->info->name != NULL ? e->info->name : "", "framework_id", f->id,
                               "source", e->info->source != NULL ? e->info->source : "",
                               "statistics", usage_json(&u)));
        }
    }
    actor_http_respond_json(req, 200, arr);
}

static const actor_http_route_t routes[] = {
    {"/state", "GET", on_state},
    {"/state.json", "GET", on_state},
    {"/flags", "GET", on_flags},
    {"/health", "GET", on_health},
    {"/monitor/statistics", "GET", on_statistics},
    {"/monitor/statistics.json", "GET", on_statistics},
    {"/metrics/snapshot", "GET", metrics_http_snapshot},
    {"/metrics", "GET", metrics_http_prometheus},
};

void agent_http_install(agent_t *a)
{
    actor_http_install(a->self, routes, sizeof(routes) / sizeof(routes[0]));
}
