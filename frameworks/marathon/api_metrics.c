/*
 * api_metrics.c: Marathon's /metrics (Dropwizard-style JSON, as Marathon 1.7+ serves it:
 * {"version", "gauges": {"marathon.apps.active.gauge": {"value": N}}, "counters": {...}}) and
 * /metrics/prometheus (the same figures in Prometheus text: dots become underscores and the kind
 * suffix goes, so marathon.apps.active.gauge is marathon_apps_active). Computed from Marathon's
 * state at each request, inside its actor.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frameworks/marathon/api.h"
#include "proto/task_states.h"

typedef struct figure {
    const char *name; /* without the kind suffix: "marathon.apps.active" */
    const char *help;
    bool counter;
    double value;
} figure_t;

enum {
    F_APPS,
    F_DEPLOYMENTS,
    F_INSTANCES,
    F_RUNNING,
    F_STAGED,
    F_QUEUED,
    F_UPTIME,
    F_LAUNCHED,
    F_OFFERS,
    F_DECLINED,
    F_UPDATES,
    F_COUNT
};

static void figures(marathon_t *m, figure_t *f)
{
    static const figure_t names[F_COUNT] = {
        [F_APPS] = {"marathon.apps.active", "Apps Marathon runs", false, 0},
        [F_DEPLOYMENTS] = {"marathon.deployments.active", "Deployments under way", false, 0},
        [F_INSTANCES] = {"marathon.instances.launched", "Instances Marathon knows", false, 0},
        [F_RUNNING] = {"marathon.instances.running", "Instances TASK_RUNNING", false, 0},
        [F_STAGED] = {"marathon.instances.staged", "Instances launched, not yet running", false, 0},
        [F_QUEUED] = {"marathon.launch-queue.size", "Instances waiting to be launched", false, 0},
        [F_UPTIME] = {"marathon.uptime", "Seconds since Marathon started", false, 0},
        [F_LAUNCHED] = {"marathon.tasks.launched", "Tasks launched since start", true, 0},
        [F_OFFERS] = {"marathon.mesos.offers.incoming", "Offers received since start", true, 0},
        [F_DECLINED] = {"marathon.mesos.offers.declined", "Offers declined since start", true, 0},
        [F_UPDATES] = {"marathon.mesos.task-updates", "Task status updates since start", true, 0},
    };
    memcpy(f, names, sizeof(names));
    for (marathon_instance_t *i = m->instances; i != NULL; i = i->hh.next) {
        f[F_INSTANCES].value++;
        if (i->state == MESOS__TASK_STATE__TASK_RUNNING)
            f[F_RUNNING].value++;
        else if (!mesos_task_state_terminal(i->state))
            f[F_STAGED].value++;
    }
    for (marathon_app_entry_t *e = m->apps; e != NULL; e = e->hh.next) {
        f[F_APPS].value++;
        f[F_QUEUED].value += marathon_launch_needed(m, e);
    }
    f[F_DEPLOYMENTS].value = HASH_COUNT(m->deployments);
    f[F_UPTIME].value = marathon_now() - m->start_time;
    f[F_LAUNCHED].value = (double)m->tasks_launched;
    f[F_OFFERS].value = (double)m->offers_received;
    f[F_DECLINED].value = (double)m->offers_declined;
    f[F_UPDATES].value = (double)m->status_updates;
}

static void on_metrics(actor_t *self, void *state, actor_http_request_t *req)
{
    (void)self;
    figure_t f[F_COUNT];
    figures(state, f);
    json_t *gauges = json_object(), *counters = json_object();
    for (size_t k = 0; k < F_COUNT; k++) {
        char name[128];
        snprintf(name, sizeof(name), "%s.%s", f[k].name, f[k].counter ? "counter" : "gauge");
        json_object_set_new(f[k].counter ? counters : gauges, name,
                            f[k].counter ? json_pack("{s:I}", "count", (json_int_t)f[k].value)
                                         : json_pack("{s:f}", "value", f[k].value));
    }
    actor_http_respond_json(req, 200,
                            json_pack("{s:s,s:o,s:o,s:{},s:{},s:{}}", "version", "4.0.0", "gauges",
                                      gauges, "counters", counters, "histograms", "meters",
                                      "timers"));
}

static void on_prometheus(actor_t *self, void *state, actor_http_request_t *req)
{
    (void)self;
    figure_t f[F_COUNT];
    figures(state, f);
    char out[8192]; /* F_COUNT figures of a few hundred bytes at most */
    size_t len = 0;
    for (size_t k = 0; k < F_COUNT && len < sizeof(out); k++) {
        char name[128];
        snprintf(name, sizeof(name), "%s%s", f[k].name, f[k].counter ? "_total" : "");
        for (char *p = name; *p != '\0'; p++) {
            if (*p == '.' || *p == '-')
                *p = '_';
        }
        int n =
            snprintf(out + len, sizeof(out) - len, "# HELP %s %s\n# TYPE %s %s\n%s %.17g\n", name,
                     f[k].help, name, f[k].counter ? "counter" : "gauge", name, f[k].value);
        len += n > 0 ? (size_t)n : 0;
    }
    if (len > sizeof(out))
        len = sizeof(out);
    actor_http_respond(req, 200, "text/plain; version=0.0.4; charset=utf-8", NULL, 0, out, len);
}

void marathon_api_metrics(actor_t *self, void *state, actor_http_request_t *req)
{
    if (strcmp(actor_http_path(req), "/metrics/prometheus") == 0)
        on_prometheus(self, state, req);
    else
        on_metrics(self, state, req);
}
