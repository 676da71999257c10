/*
 * http.h: HTTP endpoints of actors (libprocess's `route`), on the runtime's HTTP server.
 *
 * A process serves HTTP on any number of ports (actor_http_listen), each with a root actor. An
 * actor installs a table of routes; each is reachable on every port as "/<actor id><path>"
 * ("/master/state", "/slave(1)/state", "/metrics/snapshot"), and on the ports whose root it is
 * also as "<path>" ("/state"). A request goes to the root's route for its full path if there is
 * one, else to the actor named by its first segment, else to the root's "*" route if it has one
 * (Marathon answers its own JSON 404s), else it gets a plain-text 404. A route whose method list
 * does not include the request's method gets a 405 naming the allowed ones.
 *
 * A handler runs inside its actor, like a message handler, and answers the request then or
 * later (after asking other actors) with one of the actor_http_respond* calls; every request must
 * be answered exactly once. Streaming answers (server-sent events, RecordIO) stay open until the
 * actor ends them or the client goes away, which the actor hears through its close callback.
 */
#ifndef ACTOR_HTTP_H
#define ACTOR_HTTP_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "actor/actor.h"
#include "actor/http_server.h"

typedef struct actor_http_request actor_http_request_t;
typedef struct actor_http_stream actor_http_stream_t;

typedef void (*actor_http_handler_fn)(actor_t *self, void *state, actor_http_request_t *req);

typedef struct actor_http_route {
    /* "/state"; a trailing '*' matches a prefix ("/v2/apps/" then anything); "*" alone matches
     * whatever nothing else does. */
    const char *path;
    const char *methods; /* "GET,POST"; NULL for any method */
    actor_http_handler_fn fn;
} actor_http_route_t;

/* Serves HTTP on ip:port (0: any free port; *bound receives the port, may be NULL) with the
 * actor root_id (may be NULL) at "/". Call from outside the actor handlers or from one; blocks
 * until the port is bound. Errors: ACTOR_EADDRINUSE, ACTOR_EINVAL, ACTOR_ENOMEM, ACTOR_ESYSTEM,
 * ACTOR_ECLOSED when the runtime is not running. */
actor_err_t actor_http_listen(const char *ip, uint16_t port, const char *root_id, uint16_t *bound);

/* Installs self's routes (routes must stay valid while self lives: use a static table). Called
 * again, it replaces the table. The routes go away when self terminates. ACTOR_ENOMEM. */
actor_err_t actor_http_install(actor_t *self, const actor_http_route_t *routes, size_t count);

/* ---- the request, read-only, valid until answered ---- */

const char *actor_http_method(const actor_http_request_t *req);
/* The path below the actor ("/state" for "/master/state"), percent-decoded. */
const char *actor_http_path(const actor_http_request_t *req);
/* The query parameter `name` (decoded), "" for a bare name, NULL if absent. */
const char *actor_http_query(const actor_http_request_t *req, const char *name);
/* The raw query string without '?'. */
const char *actor_http_query_string(const actor_http_request_t *req);
/* The header `name` (case-insensitive) or NULL. */
const char *actor_http_header(const actor_http_request_t *req, const char *name);
/* The body, NUL-terminated; *len (may be NULL) receives its length. */
const char *actor_http_body(const actor_http_request_t *req, size_t *len);
/* The client's address, "ip:port". */
const char *actor_http_peer(const actor_http_request_t *req);

/* ---- answers: each frees req, whatever it returns; errors only mean the client is gone ---- */

/* Answers with a body (copied). extra headers may be NULL. */
actor_err_t actor_http_respond(actor_http_request_t *req, int status, const char *content_type,
                               const http_header_t *headers, size_t header_count, const void *body,
                               size_t len);

/* Answers with json rendered compactly (the reference is stolen) as application/json. A 200 to
 * a request with the query parameter `jsonp=<callback>` is JSONP instead, as every JSON endpoint
 * of Mesos's daemons answers it (libprocess's OK(json, jsonp)): `<callback>(<json>);` as
 * text/javascript, for pages of another origin (the master's UI reading an agent's /state); a
 * callback name other than letters, digits, '_', '$' and '.' gets a 400 instead. Other statuses
 * ignore `jsonp`. */
actor_err_t actor_http_respond_json(actor_http_request_t *req, int status, json_t *json);

/* Answers with a formatted text/plain body, as Mesos's daemons answer errors. */
actor_err_t actor_http_respond_text(actor_http_request_t *req, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ---- streams ---- */

/* Told inside the owning actor when a stream's client went away (or read too slowly); the owner
 * still calls actor_http_stream_end. */
typedef void (*actor_http_stream_closed_fn)(actor_t *self, void *state,
                                            actor_http_stream_t *stream);

/* Starts a chunked answer (status, content type, extra headers) owned by self; req is consumed.
 * On success *stream receives the stream. Errors: ACTOR_ENOMEM (req is then answered 500). */
actor_err_t actor_http_stream_begin(actor_t *self, actor_http_request_t *req, int status,
                                    const char *content_type, const http_header_t *headers,
                                    size_t header_count, actor_http_stream_closed_fn closed,
                                    actor_http_stream_t **stream);

/* Queues len bytes as one chunk (copied). ACTOR_ECLOSED once the client is gone. */
actor_err_t actor_http_stream_write(actor_http_stream_t *stream, const void *data, size_t len);

/* Ends the stream and releases it; the owner must not use it afterwards. */
void actor_http_stream_end(actor_http_stream_t *stream);

/* ---- runtime-internal ---- */

/* Forgets the routes of an actor that terminated. */
void actor_http_forget(const actor_pid_t *pid);

/* Closes every port and connection (before the I/O thread stops). */
void actor_http_stop(void);

#endif
