/*
 * instances.c: an app's instances (one Mesos task each) and what their status updates mean to
 * Marathon: a task that ends is forgotten, and, unless Marathon killed it, counts as a failure
 * that backs the app's launches off (backoffSeconds x backoffFactor^n, capped at
 * maxLaunchDelaySeconds) and becomes its lastTaskFailure; the launch queue then replaces it.
 *
 * An instance whose agent is away (TASK_UNREACHABLE) follows its app's unreachableStrategy: it
 * still counts until inactiveAfterSeconds, then no longer does (UnreachableInactive: the launch
 * queue replaces it), and after expungeAfterSeconds it is forgotten (a task Marathon does not know
 * is killed when it shows up again). One that comes back in time counts again, and Marathon's scale
 * check kills what now runs beyond the app's instances, by its killSelection. Its health checks
 * pause meanwhile, as Marathon does not judge unreachable instances by them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <utlist.h>

#include "actor/log.h"
#include "frameworks/marathon/backoff.h"
#include "frameworks/marathon/jsonbuf.h"
#include "frameworks/marathon/marathon_int.h"
#include "frameworks/marathon/plan.h"
#include "proto/task_states.h"

marathon_app_entry_t *marathon_app_find(marathon_t *m, const char *id)
{
    marathon_app_entry_t *e = NULL;
    HASH_FIND_STR(m->apps, id, e);
    return e;
}

marathon_instance_t *marathon_instance_find(marathon_t *m, const char *task_id)
{
    marathon_instance_t *i = NULL;
    HASH_FIND_STR(m->instances, task_id, i);
    return i;
}

marathon_instance_t *marathon_instance_add(marathon_t *m, marathon_app_entry_t *e,
                                           const char *task_id, const char *agent_id,
                                           const char *host, const uint32_t *ports,
                                           size_t port_count)
{
    if (task_id == NULL || marathon_instance_find(m, task_id) != NULL)
        return NULL;
    marathon_instance_t *i = calloc(1, sizeof(*i));
    if (i == NULL)
        return NULL;
    i->task_id = strdup(task_id);
    i->app = e;
    i->version = strdup(marathon_app_config(e->app));
    i->agent_id = strdup(agent_id ? agent_id : "");
    i->host = strdup(host ? host : "");
    i->ports = calloc(port_count + 1, sizeof(*i->ports));
    i->state = MARATHON_STATE_CREATED;
    i->staged_time = marathon_now();
    marathon_version_now(i->staged_at);
    i->health_count = e->app->health_check_count;
    i->health = calloc(i->health_count + 1, sizeof(*i->health));
    if (i->task_id == NULL || i->version == NULL || i->agent_id == NULL || i->host == NULL ||
        i->ports == NULL || i->health == NULL) {
        free(i->task_id);
        free(i->version);
        free(i->agent_id);
        free(i->host);
        free(i->ports);
        free(i->health);
        free(i);
        return NULL;
    }
    if (port_count > 0)
        memcpy(i->ports, ports, port_count * sizeof(*ports));
    i->port_count = port_count;
    HASH_ADD_KEYPTR(hh, m->instances, i->task_id, strlen(i->task_id), i);
    DL_APPEND2(e->instances, i, app_prev, app_next);
    e->instance_count++;
    marathon_app_changed(e);
    return i;
}

void marathon_instance_remove(marathon_t *m, marathon_instance_t *i)
{
    if (i->watched && m->health != NULL)
        marathon_health_unwatch(m->health, i->task_id);
    HASH_DEL(m->instances, i);
    DL_DELETE2(i->app->instances, i, app_prev, app_next);
    i->app->instance_count--;
    marathon_app_changed(i->app);
    for (size_t k = 0; k < i->health_count; k++)
        free(i->health[k].last_failure_cause);
    free(i->health);
    if (i->agent != NULL)
        mesos__offer__free_unpacked(i->agent, NULL);
    free(i->task_id);
    free(i->version);
    free(i->agent_id);
    free(i->host);
    free(i->ports);
    free(i);
}

bool marathon_instance_inactive(const marathon_instance_t *i)
{
    return i->unreachable &&
           marathon_unreachable_phase(i->app->app, marathon_now() - i->unreachable_since) !=
               MARATHON_UNREACHABLE_ACTIVE;
}

static bool counts(const marathon_instance_t *i, const char *version)
{
    return !i->killing && !mesos_task_state_terminal(i->state) && !marathon_instance_inactive(i) &&
           (version == NULL || strcmp(i->version, version) == 0);
}

bool marathon_instance_healthy(const marathon_instance_t *i)
{
    if (i->state != MESOS__TASK_STATE__TASK_RUNNING || i->killing)
        return false;
    for (size_t k = 0; k < i->health_count; k++) {
        if (!i->health[k].alive)
            return false;
    }
    return true;
}

void marathon_app_changed(marathon_app_entry_t *e)
{
    e->counts_valid = false;
}

/* Adds one instance to an app's counts (v: the app's current configuration). */
static void count_one(const marathon_instance_t *i, const char *v, marathon_app_counts_t *c)
{
    bool current = strcmp(i->version, v) == 0;
    bool terminal = mesos_task_state_terminal(i->state);
    bool healthy = marathon_instance_healthy(i);
    if (counts(i, NULL)) {
        c->active++;
        c->current_active += current;
    }
    c->current_healthy += healthy && current;
    c->stale += !current || i->killing;
    c->old_left += !current && !terminal;
    if (terminal)
        return;
    marathon_rollout_counts_t *r = &c->rollout;
    if (current && !i->killing) {
        r->new_started++;
        r->new_healthy += healthy;
    } else if (!current && i->killing) {
        r->old_dying++;
    } else if (!current) {
        r->old_active++;
        r->old_healthy += healthy;
    }
}

const marathon_app_counts_t *marathon_app_counts(const marathon_app_entry_t *app)
{
    /* The counts are a cache: filling them in does not change the app. */
    marathon_app_entry_t *e = (marathon_app_entry_t *)app;
    if (e->counts_valid)
        return &e->counts;
    const char *v = marathon_app_config(e->app);
    bool timed = false;
    e->counts = (marathon_app_counts_t){0};
    for (const marathon_instance_t *i = e->instances; i != NULL; i = i->app_next) {
        count_one(i, v, &e->counts);
        timed |= i->unreachable;
    }
    /* An unreachable instance turns inactive with time: such an app is counted every time. */
    e->counts_valid = !timed;
    return &e->counts;
}

/* Whether version is the app's current configuration (NULL: any version). */
static bool is_current(const marathon_app_entry_t *e, const char *version)
{
    return strcmp(version, marathon_app_config(e->app)) == 0;
}

uint32_t marathon_app_active(const marathon_app_entry_t *e, const char *version)
{
    if (version == NULL)
        return marathon_app_counts(e)->active;
    if (is_current(e, version))
        return marathon_app_counts(e)->current_active;
    uint32_t n = 0;
    for (const marathon_instance_t *i = e->instances; i != NULL; i = i->app_next)
        n += counts(i, version);
    return n;
}

uint32_t marathon_app_healthy(const marathon_app_entry_t *e, const char *version)
{
    if (version != NULL && is_current(e, version))
        return marathon_app_counts(e)->current_healthy;
    uint32_t n = 0;
    for (const marathon_instance_t *i = e->instances; i != NULL; i = i->app_next)
        n += marathon_instance_healthy(i) && (version == NULL || strcmp(i->version, version) == 0);
    return n;
}

void marathon_instance_kill(marathon_t *m, marathon_instance_t *i)
{
    if (!i->killing) {
        i->killing = true;
        marathon_app_changed(i->app);
        marathon_store_instance(m, i);
    }
    if (m->driver != NULL) {
        scheduler_driver_kill(m->driver, i->task_id, i->agent_id[0] ? i->agent_id : NULL);
        i->kill_sent = marathon_now();
    }
}

void marathon_app_failure(marathon_t *m, marathon_app_entry_t *e, const marathon_instance_t *i,
                          const Mesos__TaskStatus *status)
{
    (void)m;
    e->failures++;
    double delay = marathon_backoff_delay(e->app->backoff_seconds, e->app->backoff_factor,
                                          e->app->max_launch_delay_seconds, e->failures);
    e->delay_until = marathon_now() + delay;
    char now[32];
    marathon_version_now(now);
    json_decref(e->last_task_failure);
    e->last_task_failure = json_pack(
        "{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "appId", e->id, "host", i->host, "message",
        status->message ? status->message : "", "state", mesos_task_state_name(status->state),
        "taskId", i->task_id, "timestamp", now, "version", i->version, "slaveId", i->agent_id);
    LOG_INFO("Task %s of %s failed (%s); next launch in %.1f s", i->task_id, e->id,
             mesos_task_state_name(status->state), delay);
}

/* A health result's time, or null when there is none. */
static void time_or_null(jsonbuf_t *b, const char *key, const char *time)
{
    jsonbuf_raw(b, key);
    jsonbuf_string(b, time[0] != '\0' ? time : NULL);
}

static void health_text(jsonbuf_t *b, const marathon_instance_t *i)
{
    bool first = true;
    jsonbuf_raw(b, "[");
    for (size_t k = 0; k < i->health_count; k++) {
        const marathon_health_result_t *h = &i->health[k];
        if (!h->has_result)
            continue;
        jsonbuf_raw(b, first ? "{\"alive\":" : ",{\"alive\":");
        first = false;
        jsonbuf_bool(b, h->alive);
        jsonbuf_raw(b, ",\"consecutiveFailures\":");
        jsonbuf_int(b, (int)h->consecutive_failures);
        time_or_null(b, ",\"firstSuccess\":", h->first_success);
        time_or_null(b, ",\"lastSuccess\":", h->last_success);
        time_or_null(b, ",\"lastFailure\":", h->last_failure);
        jsonbuf_raw(b, ",\"lastFailureCause\":");
        jsonbuf_string(b, h->last_failure_cause);
        jsonbuf_raw(b, ",\"instanceId\":");
        jsonbuf_string(b, i->task_id);
        jsonbuf_raw(b, "}");
    }
    jsonbuf_raw(b, "]");
}

/* `,"ports":[...],"servicePorts":[...]`: its host ports and its app's service ports. */
static void ports_text(jsonbuf_t *b, const marathon_instance_t *i)
{
    jsonbuf_raw(b, ",\"ports\":[");
    for (size_t k = 0; k < i->port_count; k++) {
        jsonbuf_raw(b, k > 0 ? "," : "");
        jsonbuf_int(b, i->ports[k]);
    }
    jsonbuf_raw(b, "],\"servicePorts\":[");
    const marathon_app_t *app = i->app->app;
    for (size_t k = 0; k < app->port_definition_count; k++) {
        jsonbuf_raw(b, k > 0 ? "," : "");
        jsonbuf_int(b, app->port_definitions[k].port);
    }
    jsonbuf_raw(b, "]");
}

void marathon_instance_text(jsonbuf_t *b, const marathon_instance_t *i)
{
    int state = i->state == MARATHON_STATE_CREATED ? MESOS__TASK_STATE__TASK_STAGING : i->state;
    jsonbuf_raw(b, "{\"id\":");
    jsonbuf_string(b, i->task_id);
    jsonbuf_raw(b, ",\"appId\":");
    jsonbuf_string(b, i->app->id);
    jsonbuf_raw(b, ",\"host\":");
    jsonbuf_string(b, i->host);
    jsonbuf_raw(b, ",\"slaveId\":");
    jsonbuf_string(b, i->agent_id);
    ports_text(b, i);
    jsonbuf_raw(b, ",\"stagedAt\":");
    jsonbuf_string(b, i->staged_at);
    time_or_null(b, ",\"startedAt\":", i->started_at);
    jsonbuf_raw(b, ",\"version\":");
    jsonbuf_string(b, i->version);
    jsonbuf_raw(b, ",\"state\":");
    jsonbuf_string(b, mesos_task_state_name(state));
    jsonbuf_raw(b, ",\"healthCheckResults\":");
    health_text(b, i);
    jsonbuf_raw(b, "}");
}

json_t *marathon_instance_json(marathon_t *m, const marathon_instance_t *i)
{
    (void)m;
    jsonbuf_t b;
    jsonbuf_init(&b, 512);
    marathon_instance_text(&b, i);
    json_t *json = b.failed ? NULL : json_loadb(b.data, b.len, 0, NULL);
    jsonbuf_fini(&b);
    return json;
}

static json_t *status_event(const marathon_instance_t *i, const Mesos__TaskStatus *status)
{
    json_t *ports = json_array();
    for (size_t k = 0; k < i->port_count; k++)
        json_array_append_new(ports, json_integer(i->ports[k]));
    return json_pack("{s:s,s:s,s:s,s:s,s:s,s:o,s:s,s:s}", "slaveId", i->agent_id, "taskId",
                     i->task_id, "taskStatus", mesos_task_state_name(status->state), "message",
                     status->message ? status->message : "", "appId", i->app->id, "ports", ports,
                     "host", i->host, "version", i->version);
}

/* Marathon's instance condition for a task state (core/condition/Condition.scala). */
static const char *instance_condition(const marathon_instance_t *i, int state)
{
    if (i->unreachable)
        return marathon_instance_inactive(i) ? "UnreachableInactive" : "Unreachable";
    switch (state) {
    case MESOS__TASK_STATE__TASK_STAGING:
        return "Staging";
    case MESOS__TASK_STATE__TASK_STARTING:
        return "Starting";
    case MESOS__TASK_STATE__TASK_RUNNING:
        return "Running";
    case MESOS__TASK_STATE__TASK_KILLING:
        return "Killing";
    case MESOS__TASK_STATE__TASK_FINISHED:
        return "Finished";
    case MESOS__TASK_STATE__TASK_FAILED:
        return "Failed";
    case MESOS__TASK_STATE__TASK_KILLED:
        return "Killed";
    case MESOS__TASK_STATE__TASK_ERROR:
        return "Error";
    case MESOS__TASK_STATE__TASK_DROPPED:
        return "Dropped";
    case MESOS__TASK_STATE__TASK_GONE:
        return "Gone";
    case MESOS__TASK_STATE__TASK_GONE_BY_OPERATOR:
        return "GoneByOperator";
    case MESOS__TASK_STATE__TASK_UNREACHABLE:
    case MESOS__TASK_STATE__TASK_LOST:
        return "Unreachable";
    case MESOS__TASK_STATE__TASK_UNKNOWN:
        return "Unknown";
    default:
        return "Provisioned";
    }
}

/* instance_changed_event: Marathon's instance ids are its task ids here (one task each). */
static json_t *instance_event(const marathon_instance_t *i, int state)
{
    return json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "instanceId", i->task_id, "condition",
                     instance_condition(i, state), "runSpecId", i->app->id, "agentId", i->agent_id,
                     "host", i->host, "runSpecVersion", i->version);
}

/* Marks an instance unreachable (its agent is away) or reachable again. Marathon does not judge
 * an unreachable instance by its health checks: they stop until it runs again. */
static void set_unreachable(marathon_t *m, marathon_instance_t *i, bool unreachable)
{
    if (unreachable && !i->unreachable) {
        i->unreachable_since = marathon_now();
        LOG_INFO("Task %s of %s is unreachable", i->task_id, i->app->id);
        if (i->watched && m->health != NULL)
            marathon_health_unwatch(m->health, i->task_id);
        i->watched = false;
    }
    if (!unreachable)
        i->unreachable_since = 0;
    if (i->unreachable != unreachable)
        marathon_app_changed(i->app);
    i->unreachable = unreachable;
}

void marathon_instances_expunge(marathon_t *m)
{
    double now = marathon_now();
    bool changed = false;
    marathon_instance_t *i, *tmp;
    HASH_ITER(hh, m->instances, i, tmp)
    {
        if (!i->unreachable)
            continue;
        marathon_unreachable_phase_t phase =
            marathon_unreachable_phase(i->app->app, now - i->unreachable_since);
        if (phase != MARATHON_UNREACHABLE_EXPUNGE && !i->killing)
            continue;
        LOG_INFO("Expunging unreachable task %s of %s (%s)", i->task_id, i->app->id,
                 i->killing ? "killed" : "past expungeAfterSeconds");
        marathon_store_instance_delete(m, i->task_id);
        marathon_instance_remove(m, i);
        changed = true;
    }
    if (changed) {
        marathon_deployments_progress(m);
        marathon_launch_wanted(m);
    }
}

void marathon_instance_update(marathon_t *m, const Mesos__TaskStatus *status)
{
    m->counters.status_updates++;
    marathon_instance_t *i = marathon_instance_find(m, status->task_id->value);
    if (i == NULL) {
        /* A task Marathon does not know (an app deleted while Marathon was away, a duplicate
         * launch): it must not run, as Marathon kills unknown tasks. */
        if (!mesos_task_state_terminal(status->state) && m->driver != NULL) {
            LOG_INFO("Killing unknown task %s", status->task_id->value);
            scheduler_driver_kill(m->driver, status->task_id->value,
                                  status->agent_id ? status->agent_id->value : NULL);
        }
        return;
    }
    int old = i->state;
    i->state = status->state;
    marathon_app_changed(i->app); /* its state, and maybe its health */
    if (status->state == MESOS__TASK_STATE__TASK_RUNNING && i->started_at[0] == '\0')
        marathon_version_now(i->started_at);
    if (status->state == MESOS__TASK_STATE__TASK_RUNNING && !i->watched) {
        /* Also after a Marathon restart: its recovered instances are watched again. */
        if (m->health != NULL && i->app->app->health_check_count > 0 &&
            marathon_health_watch(m->health, i->task_id, i->host, i->ports, i->port_count,
                                  actor_clock_wall(), i->app->app->health_checks,
                                  i->app->app->health_check_count) == ACTOR_OK)
            i->watched = true;
    }
    bool was_unreachable = i->unreachable;
    set_unreachable(m, i, status->state == MESOS__TASK_STATE__TASK_UNREACHABLE);
    if (status->has_healthy && i->health_count > 0) {
        /* A Mesos-level (COMMAND) check reported by the executor. */
        marathon_health_result_t *h = &i->health[0];
        h->has_result = true;
        h->alive = status->healthy;
        char now[32];
        marathon_version_now(now);
        if (status->healthy) {
            if (h->first_success[0] == '\0')
                snprintf(h->first_success, sizeof(h->first_success), "%s", now);
            snprintf(h->last_success, sizeof(h->last_success), "%s", now);
            h->consecutive_failures = 0;
        } else {
            snprintf(h->last_failure, sizeof(h->last_failure), "%s", now);
            h->consecutive_failures++;
        }
    }
    if (old != (int)status->state) {
        marathon_event(m, "instance_changed_event", instance_event(i, status->state));
        marathon_event(m, "status_update_event", status_event(i, status));
    }
    marathon_app_entry_t *e = i->app;
    if (!mesos_task_state_terminal(status->state)) {
        if (status->state == MESOS__TASK_STATE__TASK_RUNNING &&
            strcmp(i->version, marathon_app_config(e->app)) == 0)
            e->failures = 0; /* a healthy start resets the backoff, as a new version does */
        marathon_store_instance(m, i);
        if (was_unreachable && !i->unreachable) {
            LOG_INFO("Task %s of %s is reachable again", i->task_id, e->id);
            marathon_app_scale_check(m, e);
        }
        marathon_deployment_progress_app(m, e);
        if (i->unreachable)
            marathon_launch_wanted(m); /* a replacement, once it is inactive */
        return;
    }
    /* Whatever ends a task Marathon did not kill (an app's task is meant to run forever)
     * backs the app off before it is replaced. */
    if (!i->killing || i->unhealthy)
        marathon_app_failure(m, e, i, status);
    marathon_store_instance_delete(m, i->task_id);
    marathon_instance_remove(m, i);
    marathon_deployment_progress_app(m, e); /* may free e */
    marathon_launch_wanted(m);
}

/* ---- Marathon-level health checks ---- */

static void copy_time(char *out, size_t len, int64_t wall_ns)
{
    if (wall_ns > 0)
        marathon_timestamp(wall_ns, out, len);
    else
        out[0] = '\0';
}

void marathon_instance_health(actor_t *self, void *state, const marathon_health_report_t *r)
{
    (void)self;
    marathon_t *m = state;
    marathon_instance_t *i = marathon_instance_find(m, r->task_id);
    if (i == NULL || r->check_index >= i->health_count)
        return;
    marathon_health_result_t *h = &i->health[r->check_index];
    h->has_result = true;
    h->alive = r->status.alive;
    h->consecutive_failures = r->status.consecutive_failures;
    copy_time(h->first_success, sizeof(h->first_success), r->status.first_success);
    copy_time(h->last_success, sizeof(h->last_success), r->status.last_success);
    copy_time(h->last_failure, sizeof(h->last_failure), r->status.last_failure);
    free(h->last_failure_cause);
    h->last_failure_cause =
        r->status.last_failure_cause ? strdup(r->status.last_failure_cause) : NULL;
    marathon_app_changed(i->app);
    if (r->counted)
        marathon_event(m, "failed_health_check_event",
                       json_pack("{s:s,s:s,s:s}", "appId", i->app->id, "taskId", i->task_id,
                                 "instanceId", i->task_id));
    if (r->changed)
        marathon_event(m, "health_status_changed_event",
                       json_pack("{s:s,s:s,s:s,s:s,s:b}", "appId", i->app->id, "taskId", i->task_id,
                                 "instanceId", i->task_id, "version", i->version, "alive",
                                 r->status.alive));
    if (r->kill && !i->killing) {
        marathon_event(m, "unhealthy_instance_kill_event",
                       json_pack("{s:s,s:s,s:s,s:s,s:s}", "appId", i->app->id, "taskId", i->task_id,
                                 "instanceId", i->task_id, "version", i->version, "reason",
                                 r->cause ? r->cause : ""));
        LOG_INFO("Killing unhealthy task %s of %s", i->task_id, i->app->id);
        i->unhealthy = true; /* its end counts as a failure: backoff, as in Marathon */
        marathon_instance_kill(m, i);
    }
    marathon_deployment_progress_app(m, i->app);
}
