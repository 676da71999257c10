/*
 * api.h: what the REST API files of Marathon share (api_apps.c, api_misc.c). Internal.
 */
#ifndef FRAMEWORKS_MARATHON_API_H
#define FRAMEWORKS_MARATHON_API_H

#include <jansson.h>

#include "actor/http.h"
#include "frameworks/marathon/marathon_int.h"

/* An app as /v2/apps shows it: its definition, task counts, deployments, lastTaskFailure and,
 * with with_tasks, its tasks. A new reference. */
json_t *marathon_app_info(marathon_t *m, const marathon_app_entry_t *e, bool with_tasks);

/* The request's JSON body; NULL after answering 400 {"message":"Invalid JSON",...}. */
json_t *marathon_api_body(actor_http_request_t *req);

/* /v2/apps and everything under it. */
void marathon_api_apps(actor_t *self, void *state, actor_http_request_t *req);

/* /metrics (Marathon's JSON) and /metrics/prometheus (api_metrics.c). */
void marathon_api_metrics(actor_t *self, void *state, actor_http_request_t *req);

/* GET / and /ui/...: the web UI, compiled in from ui/marathon/ (api_ui.c). */
void marathon_api_ui(actor_t *self, void *state, actor_http_request_t *req);

/* GET /v2/events (events.c). */
void marathon_events_subscribe(marathon_t *m, actor_http_request_t *req);

#endif
