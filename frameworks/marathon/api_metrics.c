/*
 * api_metrics.c: Marathon's /metrics (Dropwizard-style JSON, as Marathon 1.7+ serves it:
 * {"version", "gauges": {"marathon.apps.active.gauge": {"value": N}}, "counters": {...}}) and
 * /metrics/prometheus (the same figures in Prometheus text). Computed from Marathon's state and
 * counters (marathon_counters_t) at each request, inside its actor.
 *
 * Names as Marathon 1.10's: the figure's name, its kind ("gauge" or "counter") and its unit if
 * any, joined with dots (marathon.uptime.gauge.seconds). In Prometheus text dots and dashes become
 * underscores, the kind goes, the unit stays and a counter ends in _total:
 * marathon.apps.active.gauge is marathon_apps_active, marathon.uptime.gauge.seconds is
 * marathon_uptime_seconds, marathon.mesos.offers.used.counter is marathon_mesos_offers_used_total.
 *
 * Beyond Marathon's names, the event callbacks (marathon.http.event-callbacks.*) and the alert
 * mails (marathon.alerts.*) have counters of their own.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frameworks/marathon/api.h"
#include "proto/task_states.h"

typedef struct figure {
    const char *name; /* without kind and unit: "marathon.apps.active" */
    const char *unit; /* "seconds", or NULL */
    bool counter;
    const char *help;
} figure_t;

enum {
    F_APPS,
    F_GROUPS,
    F_DEPLOYMENTS,
    F_INSTANCES,
    F_RUNNING,
    F_STAGED,
    F_OVERDUE,
    F_KILLS,
    F_QUEUED,
    F_HTTP_ACTIVE,
    F_STREAMS,
    F_UPTIME,
    F_LEADERSHIP,
    F_LAUNCHED,
    F_OFFERS,
    F_DECLINED,
    F_USED,
    F_LAUNCH_OPS,
    F_UPDATES,
    F_REVIVES,
    F_SUPPRESSES,
    F_DEPLOYMENTS_STARTED,
    F_DISMISSED,
    F_CALLBACKS_DELIVERED,
    F_CALLBACKS_FAILED,
    F_CALLBACKS_DROPPED,
    F_ALERTS_SENT,
    F_ALERTS_FAILED,
    F_ALERTS_HELD_BACK,
    F_COUNT
};

static const figure_t figures[F_COUNT] = {
    [F_APPS] = {"marathon.apps.active", NULL, false, "Apps Marathon runs"},
    [F_GROUPS] = {"marathon.groups.active", NULL, false, "Groups of apps, the root group included"},
    [F_DEPLOYMENTS] = {"marathon.deployments.active", NULL, false, "Deployments under way"},
    [F_INSTANCES] = {"marathon.instances.launched", NULL, false, "Instances Marathon knows"},
    [F_RUNNING] = {"marathon.instances.running", NULL, false, "Instances TASK_RUNNING"},
    [F_STAGED] = {"marathon.instances.staged", NULL, false, "Instances launched, not yet running"},
    [F_OVERDUE] = {"marathon.instances.launch-overdue", NULL, false,
                   "Instances not running within the task launch timeout"},
    [F_KILLS] = {"marathon.instances.inflight-kills", NULL, false,
                 "Instances Marathon asked Mesos to kill that have not ended yet"},
    [F_QUEUED] = {"marathon.launch-queue.size", NULL, false, "Instances waiting to be launched"},
    [F_HTTP_ACTIVE] = {"marathon.http.requests.active", NULL, false,
                       "HTTP requests under way (event streams and answers waiting for storage)"},
    [F_STREAMS] = {"marathon.http.event-streams.active", NULL, false, "Open /v2/events streams"},
    [F_UPTIME] = {"marathon.uptime", "seconds", false, "Seconds since Marathon started"},
    [F_LEADERSHIP] = {"marathon.leadership.duration", "seconds", false,
                      "Seconds since Marathon became the leader"},
    [F_LAUNCHED] = {"marathon.tasks.launched", NULL, true, "Tasks launched since start"},
    [F_OFFERS] = {"marathon.mesos.offers.incoming", NULL, true, "Offers received since start"},
    [F_DECLINED] = {"marathon.mesos.offers.declined", NULL, true, "Offers declined since start"},
    [F_USED] = {"marathon.mesos.offers.used", NULL, true,
                "Offers used to launch tasks since start"},
    [F_LAUNCH_OPS] = {"marathon.mesos.offer-operations.launch", NULL, true,
                      "LAUNCH offer operations since start"},
    [F_UPDATES] = {"marathon.mesos.task-updates", NULL, true, "Task status updates since start"},
    [F_REVIVES] = {"marathon.mesos.calls.revive", NULL, true, "REVIVE calls since start"},
    [F_SUPPRESSES] = {"marathon.mesos.calls.suppress", NULL, true, "SUPPRESS calls since start"},
    [F_DEPLOYMENTS_STARTED] = {"marathon.deployments", NULL, true, "Deployments since start"},
    [F_DISMISSED] = {"marathon.deployments.dismissed", NULL, true,
                     "App changes refused because a deployment locks the app"},
    [F_CALLBACKS_DELIVERED] = {"marathon.http.event-callbacks.delivered", NULL, true,
                               "Events delivered to callback subscribers since start"},
    [F_CALLBACKS_FAILED] = {"marathon.http.event-callbacks.failed", NULL, true,
                            "Failed event deliveries to callback subscribers since start"},
    [F_CALLBACKS_DROPPED] = {"marathon.http.event-callbacks.dropped", NULL, true,
                             "Events callback subscribers lost since start"},
    [F_ALERTS_SENT] = {"marathon.alerts.mails.sent", NULL, true, "Alert mails sent since start"},
    [F_ALERTS_FAILED] = {"marathon.alerts.mails.failed", NULL, true,
                         "Alert mails that could not be sent since start"},
    [F_ALERTS_HELD_BACK] = {"marathon.alerts.held-back", NULL, true,
                            "Alerts held back by the rate limits since start"},
};

/* The root group and every group an app's id names ("/prod/web" is in /prod). */
static double group_count(const marathon_t *m)
{
    json_t *groups = json_object(); /* a set of group ids; out of memory counts fewer */
    for (const marathon_app_entry_t *e = m->apps; e != NULL; e = e->hh.next) {
        for (const char *slash = strchr(e->id + 1, '/'); slash != NULL;
             slash = strchr(slash + 1, '/'))
            json_object_setn_new(groups, e->id, (size_t)(slash - e->id), json_null());
    }
    double count = 1 + (double)json_object_size(groups);
    json_decref(groups);
    return count;
}

static void instance_figures(const marathon_t *m, double *v)
{
    double now = marathon_now();
    for (const marathon_instance_t *i = m->instances; i != NULL; i = i->hh.next) {
        v[F_INSTANCES]++;
        if (mesos_task_state_terminal(i->state))
            continue;
        if (i->state == MESOS__TASK_STATE__TASK_RUNNING)
            v[F_RUNNING]++;
        else
            v[F_STAGED]++;
        if (i->state != MESOS__TASK_STATE__TASK_RUNNING &&
            now - i->staged_time > m->opts.task_launch_timeout)
            v[F_OVERDUE]++;
        if (i->killing)
            v[F_KILLS]++;
    }
}

static void gauge_figures(marathon_t *m, double *v)
{
    instance_figures(m, v);
    for (marathon_app_entry_t *e = m->apps; e != NULL; e = e->hh.next) {
        v[F_APPS]++;
        v[F_QUEUED] += marathon_launch_needed(m, e);
    }
    v[F_GROUPS] = group_count(m);
    v[F_DEPLOYMENTS] = HASH_COUNT(m->deployments);
    for (const marathon_event_stream_t *s = m->streams; s != NULL; s = s->next)
        v[F_STREAMS]++;
    /* The request being answered counts, as Jetty counts it for Marathon. */
    v[F_HTTP_ACTIVE] = 1 + (double)m->answers_held + v[F_STREAMS];
    double now = marathon_now();
    v[F_UPTIME] = now - m->start_time;
    v[F_LEADERSHIP] = now - m->leader_since;
}

static void counter_figures(const marathon_counters_t *c, double *v)
{
    v[F_LAUNCHED] = (double)c->tasks_launched;
    v[F_OFFERS] = (double)c->offers_received;
    v[F_DECLINED] = (double)c->offers_declined;
    v[F_USED] = (double)c->offers_used;
    v[F_LAUNCH_OPS] = (double)c->launch_operations;
    v[F_UPDATES] = (double)c->status_updates;
    v[F_REVIVES] = (double)c->revive_calls;
    v[F_SUPPRESSES] = (double)c->suppress_calls;
    v[F_DEPLOYMENTS_STARTED] = (double)c->deployments;
    v[F_DISMISSED] = (double)c->deployments_dismissed;
    v[F_CALLBACKS_DELIVERED] = (double)c->callbacks_delivered;
    v[F_CALLBACKS_FAILED] = (double)c->callbacks_failed;
    v[F_CALLBACKS_DROPPED] = (double)c->callbacks_dropped;
    v[F_ALERTS_SENT] = (double)c->alerts_sent;
    v[F_ALERTS_FAILED] = (double)c->alerts_failed;
    v[F_ALERTS_HELD_BACK] = (double)c->alerts_held_back;
}

static void values(marathon_t *m, double v[F_COUNT])
{
    memset(v, 0, F_COUNT * sizeof(*v));
    gauge_figures(m, v);
    counter_figures(&m->counters, v);
}

static void on_metrics(actor_t *self, void *state, actor_http_request_t *req)
{
    (void)self;
    double v[F_COUNT];
    values(state, v);
    json_t *gauges = json_object(), *counters = json_object();
    for (size_t k = 0; k < F_COUNT; k++) {
        const figure_t *f = &figures[k];
        char name[128];
        snprintf(name, sizeof(name), "%s.%s%s%s", f->name, f->counter ? "counter" : "gauge",
                 f->unit != NULL ? "." : "", f->unit != NULL ? f->unit : "");
        json_object_set_new(f->counter ? counters : gauges, name,
                            f->counter ? json_pack("{s:I}", "count", (json_int_t)v[k])
                                       : json_pack("{s:f}", "value", v[k]));
    }
    actor_http_respond_json(req, 200,
                            json_pack("{s:s,s:o,s:o,s:{},s:{},s:{}}", "version", "4.0.0", "gauges",
                                      gauges, "counters", counters, "histograms", "meters",
                                      "timers"));
}

/* A figure's Prometheus name: marathon_uptime_seconds, marathon_tasks_launched_total. */
static void prometheus_name(const figure_t *f, char *out, size_t len)
{
    snprintf(out, len, "%s%s%s%s", f->name, f->unit != NULL ? "_" : "",
             f->unit != NULL ? f->unit : "", f->counter ? "_total" : "");
    for (char *p = out; *p != '\0'; p++) {
        if (*p == '.' || *p == '-')
            *p = '_';
    }
}

static void on_prometheus(actor_t *self, void *state, actor_http_request_t *req)
{
    (void)self;
    double v[F_COUNT];
    values(state, v);
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    for (size_t k = 0; f != NULL && k < F_COUNT; k++) {
        char name[128];
        prometheus_name(&figures[k], name, sizeof(name));
        fprintf(f, "# HELP %s %s\n# TYPE %s %s\n%s %.17g\n", name, figures[k].help, name,
                figures[k].counter ? "counter" : "gauge", name, v[k]);
    }
    if (f == NULL || fclose(f) != 0) {
        free(out);
        actor_http_respond_text(req, 503, "Out of memory");
        return;
    }
    actor_http_respond(req, 200, "text/plain; version=0.0.4; charset=utf-8", NULL, 0, out, len);
    free(out);
}

void marathon_api_metrics(actor_t *self, void *state, actor_http_request_t *req)
{
    if (strcmp(actor_http_path(req), "/metrics/prometheus") == 0)
        on_prometheus(self, state, req);
    else
        on_metrics(self, state, req);
}
