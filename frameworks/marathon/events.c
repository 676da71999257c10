/*
 * events.c: Marathon's event bus on /v2/events, in Marathon's server-sent events format:
 *
 *     event: status_update_event
 *     data: {"eventType":"status_update_event","timestamp":"...","taskId":...}
 *
 * with a blank line after each. `event_type=` (repeatable) filters. A subscriber that reads too
 * slowly is dropped by the HTTP server (its close callback removes it here): Marathon never waits
 * for one. Every event also goes, as the same JSON, to the HTTP callback subscribers
 * (subscriptions.c), and past the alert rules (alerts.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actor/log.h"
#include "frameworks/marathon/marathon_int.h"

static void stream_free(marathon_event_stream_t *s)
{
    for (size_t k = 0; k < s->type_count; k++)
        free(s->types[k]);
    free(s->types);
    free(s);
}

static void unlink_stream(marathon_t *m, actor_http_stream_t *stream)
{
    for (marathon_event_stream_t **p = &m->streams; *p != NULL; p = &(*p)->next) {
        if ((*p)->stream == stream) {
            marathon_event_stream_t *s = *p;
            *p = s->next;
            actor_http_stream_end(s->stream);
            stream_free(s);
            return;
        }
    }
}

static void on_closed(actor_t *self, void *state, actor_http_stream_t *stream)
{
    (void)self;
    unlink_stream(state, stream);
}

static bool wants(const marathon_event_stream_t *s, const char *type)
{
    if (s->type_count == 0)
        return true;
    for (size_t k = 0; k < s->type_count; k++) {
        if (strcmp(s->types[k], type) == 0)
            return true;
    }
    return false;
}

void marathon_event(marathon_t *m, const char *type, json_t *event)
{
    if (event == NULL)
        return;
    marathon_alerts_event(m, type, event);
    bool callbacks = marathon_subscriptions_active(m);
    if (m->streams == NULL && !callbacks) {
        json_decref(event);
        return; /* nobody listens: no event costs anything */
    }
    char now[32];
    marathon_version_now(now);
    json_object_set_new(event, "eventType", json_string(type));
    json_object_set_new(event, "timestamp", json_string(now));
    char *data = json_dumps(event, JSON_COMPACT);
    json_decref(event);
    if (data != NULL && callbacks) /* the same JSON, POSTed to each callback URL */
        marathon_subscriptions_publish(m, data, strlen(data));
    char *frame = NULL;
    int len = data != NULL ? asprintf(&frame, "event: %s\ndata: %s\n\n", type, data) : -1;
    free(data);
    if (len < 0)
        return;
    marathon_event_stream_t *s = m->streams;
    while (s != NULL) {
        marathon_event_stream_t *next = s->next;
        if (wants(s, type) && actor_http_stream_write(s->stream, frame, (size_t)len) != ACTOR_OK)
            unlink_stream(m, s->stream);
        s = next;
    }
    free(frame);
}

/* GET /v2/events: an SSE stream (Marathon insists on Accept: text/event-stream). */
void marathon_events_subscribe(marathon_t *m, actor_http_request_t *req)
{
    const char *accept = actor_http_header(req, "Accept");
    if (accept == NULL || strstr(accept, "text/event-stream") == NULL) {
        actor_http_respond_json(
            req, 406,
            json_pack("{s:s}", "message", "Accept: text/event-stream is required for /v2/events"));
        return;
    }
    marathon_event_stream_t *s = calloc(1, sizeof(*s));
    const char *qs = actor_http_query_string(req);
    /* event_type may repeat: walk the raw query. */
    for (const char *p = qs; s != NULL && p != NULL && *p != '\0';) {
        const char *amp = strchr(p, '&');
        size_t n = amp != NULL ? (size_t)(amp - p) : strlen(p);
        if (n > 11 && strncmp(p, "event_type=", 11) == 0) {
            char **types = realloc(s->types, (s->type_count + 1) * sizeof(*types));
            if (types != NULL) {
                s->types = types;
                s->types[s->type_count] = strndup(p + 11, n - 11);
                if (s->types[s->type_count] != NULL)
                    s->type_count++;
            }
        }
        p = amp != NULL ? amp + 1 : NULL;
    }
    http_header_t headers[] = {{"Cache-Control", "no-cache"}};
    if (s == NULL || actor_http_stream_begin(m->self, req, 200, "text/event-stream", headers, 1,
                                             on_closed, &s->stream) != ACTOR_OK) {
        if (s != NULL)
            stream_free(s);
        return;
    }
    s->next = m->streams;
    m->streams = s;
    /* A comment line opens the stream at once, so that clients see the headers. */
    actor_http_stream_write(s->stream, ":\n\n", 3);
}

void marathon_events_close(marathon_t *m)
{
    while (m->streams != NULL)
        unlink_stream(m, m->streams->stream);
    marathon_subscriptions_close(m);
    marathon_alerts_close(m);
}
