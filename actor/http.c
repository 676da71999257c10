/*
 * http.c: routing HTTP requests into actors and carrying their answers back; see http.h.
 *
 * The server (http_server.c) lives on the I/O thread. A request is looked up there in the route
 * table (guarded by a mutex, since actors install routes from worker threads), then dispatched
 * into its actor. The handler reads the request from its worker: the server leaves a request
 * untouched between its callback and its answer (it parses nothing more on that connection until
 * then). Answers travel back through actor_io_call.
 */
#include "actor/http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actor/actor_int.h"
#include "actor/io.h"
#include "actor/log.h"

struct actor_http_request {
    http_request_t *req; /* I/O-thread object, read-only until answered */
    const char *path;    /* below the actor */
    actor_http_handler_fn fn;
};

typedef struct route_entry {
    char id[ACTOR_ID_MAX];
    actor_pid_t pid;
    const actor_http_route_t *routes;
    size_t count;
    UT_hash_handle hh;
} route_entry_t;

typedef struct listener {
    uint16_t port;
    char root[ACTOR_ID_MAX]; /* "" for none */
    struct listener *next;
} listener_t;

static struct {
    pthread_mutex_t lock; /* routes */
    route_entry_t *routes;
    http_server_t *server; /* I/O thread only */
    listener_t *listeners; /* I/O thread only */
} web = {.lock = PTHREAD_MUTEX_INITIALIZER};

/* ---- routing (I/O thread) ---- */

static bool route_matches(const actor_http_route_t *r, const char *path)
{
    size_t n = strlen(r->path);
    if (n > 0 && r->path[n - 1] == '*')
        return strncmp(r->path, path, n - 1) == 0;
    return strcmp(r->path, path) == 0;
}

/* The longest matching route of e for path, or NULL; the "*" fallback only when allowed. */
static const actor_http_route_t *find_route(const route_entry_t *e, const char *path, bool fallback)
{
    const actor_http_route_t *best = NULL;
    for (size_t i = 0; i < e->count; i++) {
        const actor_http_route_t *r = &e->routes[i];
        if (strcmp(r->path, "*") == 0 && !fallback)
            continue;
        if (route_matches(r, path) && (best == NULL || strlen(r->path) > strlen(best->path)))
            best = r;
    }
    return best;
}

static bool method_allowed(const char *methods, const char *method)
{
    if (methods == NULL)
        return true;
    size_t n = strlen(method);
    for (const char *p = methods; (p = strstr(p, method)) != NULL; p += n) {
        if ((p == methods || p[-1] == ',') && (p[n] == '\0' || p[n] == ','))
            return true;
    }
    return strcmp(method, "HEAD") == 0 && method_allowed(methods, "GET");
}

static void answer_plain(http_request_t *req, int status, const char *text,
                         const http_header_t *headers, size_t header_count)
{
    http_response_t resp = {.status = status,
                            .content_type = "text/plain; charset=utf-8",
                            .headers = headers,
                            .header_count = header_count,
                            .body = text,
                            .body_len = strlen(text)};
    http_response_send(req, &resp);
}

typedef struct match {
    actor_pid_t pid;
    const actor_http_route_t *route;
    const char *path;
} match_t;

/* Resolves path to an actor and route. Called with web.lock held. */
static bool resolve(const listener_t *l, const char *path, match_t *m)
{
    route_entry_t *root = NULL, *named = NULL;
    if (l->root[0] != '\0')
        HASH_FIND_STR(web.routes, l->root, root);
    if (root != NULL && (m->route = find_route(root, path, false)) != NULL) {
        m->pid = root->pid;
        m->path = path;
        return true;
    }
    const char *seg = path + 1, *end = strchr(seg, '/');
    size_t len = end ? (size_t)(end - seg) : strlen(seg);
    char id[ACTOR_ID_MAX];
    if (len > 0 && len < sizeof(id)) {
        memcpy(id, seg, len);
        id[len] = '\0';
        HASH_FIND_STR(web.routes, id, named);
    }
    const char *below = end ? end : "/";
    if (named != NULL && (m->route = find_route(named, below, false)) != NULL) {
        m->pid = named->pid;
        m->path = below;
        return true;
    }
    if (root != NULL && (m->route = find_route(root, path, true)) != NULL) {
        m->pid = root->pid;
        m->path = path;
        return true;
    }
    return false;
}

static void call_handler(actor_t *self, void *state, void *arg)
{
    actor_http_request_t *r = arg;
    if (self == NULL) {
        actor_http_respond_text(r, 503, "The actor serving this endpoint terminated");
        return;
    }
    r->fn(self, state, r);
}

static void on_request(http_request_t *req, void *arg)
{
    const listener_t *l = arg;
    const char *path = http_request_path(req);
    match_t m;
    pthread_mutex_lock(&web.lock);
    bool found = path[0] == '/' && resolve(l, path, &m);
    pthread_mutex_unlock(&web.lock);
    if (!found) {
        answer_plain(req, 404, "No endpoint at this path\n", NULL, 0);
        return;
    }
    if (!method_allowed(m.route->methods, http_request_method(req))) {
        http_header_t allow = {"Allow", m.route->methods};
        char text[160];
        snprintf(text, sizeof(text), "Expecting one of { %s }, but received '%s'\n",
                 m.route->methods, http_request_method(req));
        answer_plain(req, 405, text, &allow, 1);
        return;
    }
    actor_http_request_t *r = malloc(sizeof(*r));
    if (r == NULL) {
        answer_plain(req, 503, "Out of memory\n", NULL, 0);
        return;
    }
    *r = (actor_http_request_t){req, m.path, m.route->fn};
    if (actor_dispatch(&m.pid, call_handler, r) != ACTOR_OK) {
        free(r);
        answer_plain(req, 503, "The actor serving this endpoint is gone\n", NULL, 0);
    }
}

/* ---- listening ---- */

typedef struct listen_call {
    const char *ip;
    uint16_t port;
    const char *root;
    uint16_t bound;
    actor_err_t err;
} listen_call_t;

static void listen_on_io(void *arg)
{
    listen_call_t *c = arg;
    c->err = ACTOR_OK;
    if (web.server == NULL)
        c->err = http_server_new(actor_io_loop(), NULL, &web.server);
    listener_t *l = c->err == ACTOR_OK ? calloc(1, sizeof(*l)) : NULL;
    if (c->err == ACTOR_OK && l == NULL)
        c->err = ACTOR_ENOMEM;
    if (c->err != ACTOR_OK)
        return;
    snprintf(l->root, sizeof(l->root), "%s", c->root ? c->root : "");
    c->err = http_server_listen(web.server, c->ip, c->port, on_request, l, &c->bound);
    if (c->err != ACTOR_OK) {
        free(l);
        return;
    }
    l->port = c->bound;
    l->next = web.listeners;
    web.listeners = l;
}

actor_err_t actor_http_listen(const char *ip, uint16_t port, const char *root_id, uint16_t *bound)
{
    if (!rt.running)
        return ACTOR_ECLOSED;
    listen_call_t c = {ip, port, root_id, 0, ACTOR_OK};
    actor_err_t err = actor_io_call_sync(listen_on_io, &c);
    if (err != ACTOR_OK)
        return err;
    if (c.err == ACTOR_OK && bound != NULL)
        *bound = c.bound;
    return c.err;
}

static void stop_on_io(void *unused)
{
    (void)unused;
    if (web.server != NULL)
        http_server_free(web.server);
    web.server = NULL;
    while (web.listeners != NULL) {
        listener_t *next = web.listeners->next;
        free(web.listeners);
        web.listeners = next;
    }
}

void actor_http_stop(void)
{
    actor_io_call_sync(stop_on_io, NULL);
    pthread_mutex_lock(&web.lock);
    route_entry_t *e, *tmp;
    HASH_ITER(hh, web.routes, e, tmp)
    {
        HASH_DEL(web.routes, e);
        free(e);
    }
    pthread_mutex_unlock(&web.lock);
}

/* ---- routes ---- */

actor_err_t actor_http_install(actor_t *self, const actor_http_route_t *routes, size_t count)
{
    const actor_pid_t *pid = actor_self(self);
    pthread_mutex_lock(&web.lock);
    route_entry_t *e = NULL;
    HASH_FIND_STR(web.routes, pid->id, e);
    if (e == NULL) {
        e = calloc(1, sizeof(*e));
        if (e == NULL) {
            pthread_mutex_unlock(&web.lock);
            return ACTOR_ENOMEM;
        }
        memcpy(e->id, pid->id, sizeof(e->id));
        HASH_ADD_STR(web.routes, id, e);
    }
    e->pid = *pid;
    e->routes = routes;
    e->count = count;
    pthread_mutex_unlock(&web.lock);
    self->http_routes = true;
    return ACTOR_OK;
}

void actor_http_forget(const actor_pid_t *pid)
{
    pthread_mutex_lock(&web.lock);
    route_entry_t *e = NULL;
    HASH_FIND_STR(web.routes, pid->id, e);
    if (e != NULL && e->pid.gen == pid->gen && e->pid.slot == pid->slot) {
        HASH_DEL(web.routes, e);
        free(e);
    }
    pthread_mutex_unlock(&web.lock);
}

/* ---- reading the request ---- */

const char *actor_http_method(const actor_http_request_t *req)
{
    return http_request_method(req->req);
}

const char *actor_http_path(const actor_http_request_t *req)
{
    return req->path;
}

const char *actor_http_query(const actor_http_request_t *req, const char *name)
{
    return http_request_query_param(req->req, name);
}

const char *actor_http_query_string(const actor_http_request_t *req)
{
    return http_request_query(req->req);
}

const char *actor_http_header(const actor_http_request_t *req, const char *name)
{
    return http_request_header(req->req, name);
}

const char *actor_http_body(const actor_http_request_t *req, size_t *len)
{
    return http_request_body(req->req, len);
}

const char *actor_http_peer(const actor_http_request_t *req)
{
    return http_request_peer(req->req);
}

/* ---- answers ---- */

/* An answer carried to the I/O thread: everything copied into one allocation but the body. */
typedef struct answer {
    http_request_t *req;
    http_response_t resp;
    void *body; /* malloc'd, handed to the server */
    http_header_t headers[];
} answer_t;

static char *copy_string(char **cursor, const char *s)
{
    if (s == NULL)
        return NULL;
    size_t n = strlen(s) + 1;
    char *out = memcpy(*cursor, s, n);
    *cursor += n;
    return out;
}

/* Copies status, content type and headers (not the body) for the trip to the I/O thread. */
static answer_t *answer_new(http_request_t *req, int status, const char *content_type,
                            const http_header_t *headers, size_t header_count)
{
    size_t strings = content_type ? strlen(content_type) + 1 : 0;
    for (size_t i = 0; i < header_count; i++)
        strings += strlen(headers[i].name) + strlen(headers[i].value) + 2;
    answer_t *a = malloc(sizeof(*a) + header_count * sizeof(http_header_t) + strings);
    if (a == NULL)
        return NULL;
    char *cursor = (char *)&a->headers[header_count];
    a->req = req;
    a->body = NULL;
    a->resp = (http_response_t){.status = status,
                                .content_type = copy_string(&cursor, content_type),
                                .headers = a->headers,
                                .header_count = header_count};
    for (size_t i = 0; i < header_count; i++) {
        a->headers[i].name = copy_string(&cursor, headers[i].name);
        a->headers[i].value = copy_string(&cursor, headers[i].value);
    }
    return a;
}

static void send_on_io(void *arg)
{
    answer_t *a = arg;
    if (http_response_send_owned(a->req, &a->resp, a->body, a->resp.body_len) != ACTOR_OK)
        free(a->body);
    free(a);
}

/* Answers without a body copy: takes body (malloc'd) in all cases. */
static actor_err_t respond_owned(actor_http_request_t *req, int status, const char *content_type,
                                 const http_header_t *headers, size_t header_count, void *body,
                                 size_t len)
{
    answer_t *a = answer_new(req->req, status, content_type, headers, header_count);
    free(req);
    if (a == NULL) {
        free(body);
        LOG_ERROR("Out of memory answering an HTTP request; its client will time out");
        return ACTOR_ENOMEM;
    }
    a->body = body;
    a->resp.body_len = len;
    actor_err_t err = actor_io_call(send_on_io, a);
    if (err != ACTOR_OK) {
        free(body);
        free(a);
    }
    return err;
}

actor_err_t actor_http_respond(actor_http_request_t *req, int status, const char *content_type,
                               const http_header_t *headers, size_t header_count, const void *body,
                               size_t len)
{
    void *copy = malloc(len ? len : 1);
    if (copy == NULL) {
        free(req);
        return ACTOR_ENOMEM;
    }
    memcpy(copy, body, len);
    return respond_owned(req, status, content_type, headers, header_count, copy, len);
}

/* A JSONP callback name: letters, digits, '_', '$' and '.', so that it cannot inject script. */
static bool jsonp_callback_valid(const char *name)
{
    if (name[0] == '\0')
        return false;
    for (const char *p = name; *p != '\0'; p++) {
        bool ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                  (*p >= '0' && *p <= '9') || *p == '_' || *p == '$' || *p == '.';
        if (!ok)
            return false;
    }
    return true;
}

static actor_err_t respond_out_of_memory(actor_http_request_t *req)
{
    char *oom = strdup("Out of memory\n");
    return respond_owned(req, 500, "text/plain", NULL, 0, oom, oom ? strlen(oom) : 0);
}

actor_err_t actor_http_respond_json(actor_http_request_t *req, int status, json_t *json)
{
    /* As libprocess's OK(json, jsonp): only a 200 is wrapped; errors stay plain. */
    const char *callback = status == 200 ? actor_http_query(req, "jsonp") : NULL;
    if (callback != NULL && !jsonp_callback_valid(callback)) {
        json_decref(json);
        return actor_http_respond_text(req, 400, "Invalid 'jsonp' callback name '%s'.\n", callback);
    }
    /* 15 significant digits: 0.1 stays 0.1 (Mesos's and Marathon's own output), where the
     * shortest exact form of the double would be 0.10000000000000001. */
    char *text = json_dumps(json, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(15));
    json_decref(json);
    if (text == NULL)
        return respond_out_of_memory(req);
    if (callback == NULL)
        return respond_owned(req, status, "application/json", NULL, 0, text, strlen(text));
    char *body = NULL;
    int n = asprintf(&body, "%s(%s);", callback, text);
    free(text);
    if (n < 0)
        return respond_out_of_memory(req);
    return respond_owned(req, status, "text/javascript", NULL, 0, body, (size_t)n);
}

actor_err_t actor_http_respond_text(actor_http_request_t *req, int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *text = NULL;
    int n = vasprintf(&text, fmt, ap);
    va_end(ap);
    if (n < 0)
        return respond_owned(req, 500, "text/plain", NULL, 0, NULL, 0);
    return respond_owned(req, status, "text/plain; charset=utf-8", NULL, 0, text, (size_t)n);
}

/* ---- streams ---- */

/* Shared by the owning actor and the I/O thread; freed when both let go. */
struct actor_http_stream {
    _Atomic int refs;
    _Atomic bool closed; /* the client is gone: writes are refused */
    _Atomic bool ended;  /* the owner called end: no close notice any more */
    http_request_t *req; /* I/O thread only */
    actor_pid_t owner;
    actor_http_stream_closed_fn closed_fn;
};

typedef struct chunk {
    actor_http_stream_t *stream;
    size_t len;
    char data[];
} chunk_t;

static void stream_unref(actor_http_stream_t *s)
{
    if (atomic_fetch_sub(&s->refs, 1) == 1)
        free(s);
}

static void notify_closed(actor_t *self, void *state, void *arg)
{
    actor_http_stream_t *s = arg;
    if (self != NULL && !atomic_load(&s->ended) && s->closed_fn != NULL)
        s->closed_fn(self, state, s);
    stream_unref(s);
}

static void on_stream_close(http_request_t *req, actor_err_t reason, void *arg)
{
    (void)req;
    actor_http_stream_t *s = arg;
    atomic_store(&s->closed, true);
    if (reason == ACTOR_OK)
        return; /* from inside http_stream_end: the owner ended it */
    atomic_fetch_add(&s->refs, 1);
    if (actor_dispatch(&s->owner, notify_closed, s) != ACTOR_OK)
        stream_unref(s);
}

static void begin_on_io(void *arg)
{
    answer_t *a = arg;
    actor_http_stream_t *s = a->body;
    a->body = NULL;
    if (http_stream_begin(a->req, &a->resp, on_stream_close, s) != ACTOR_OK) {
        atomic_store(&s->closed, true);
        s->req = NULL;
        stream_unref(s); /* the I/O side's reference: nothing to end there */
    }
    free(a);
}

actor_err_t actor_http_stream_begin(actor_t *self, actor_http_request_t *req, int status,
                                    const char *content_type, const http_header_t *headers,
                                    size_t header_count, actor_http_stream_closed_fn closed,
                                    actor_http_stream_t **stream)
{
    actor_http_stream_t *s = calloc(1, sizeof(*s));
    answer_t *a = s ? answer_new(req->req, status, content_type, headers, header_count) : NULL;
    if (a == NULL) {
        free(s);
        respond_owned(req, 500, "text/plain", NULL, 0, NULL, 0);
        return ACTOR_ENOMEM;
    }
    free(req);
    atomic_init(&s->refs, 2); /* the owner's and the I/O thread's */
    s->req = a->req;
    s->owner = *actor_self(self);
    s->closed_fn = closed;
    a->body = s; /* carried, not a body */
    if (actor_io_call(begin_on_io, a) != ACTOR_OK) {
        free(a);
        free(s);
        return ACTOR_ECLOSED;
    }
    *stream = s;
    return ACTOR_OK;
}

static void write_on_io(void *arg)
{
    chunk_t *c = arg;
    actor_http_stream_t *s = c->stream;
    if (s->req != NULL && !atomic_load(&s->closed) &&
        http_stream_write(s->req, c->data, c->len) != ACTOR_OK)
        atomic_store(&s->closed, true);
    stream_unref(s);
    free(c);
}

actor_err_t actor_http_stream_write(actor_http_stream_t *s, const void *data, size_t len)
{
    if (atomic_load(&s->closed))
        return ACTOR_ECLOSED;
    chunk_t *c = malloc(sizeof(*c) + len);
    if (c == NULL)
        return ACTOR_ENOMEM;
    c->stream = s;
    c->len = len;
    memcpy(c->data, data, len);
    atomic_fetch_add(&s->refs, 1);
    if (actor_io_call(write_on_io, c) != ACTOR_OK) {
        atomic_fetch_sub(&s->refs, 1);
        free(c);
        return ACTOR_ECLOSED;
    }
    return ACTOR_OK;
}

static void end_on_io(void *arg)
{
    actor_http_stream_t *s = arg;
    if (s->req != NULL) {
        http_stream_end(s->req);
        s->req = NULL;
        stream_unref(s); /* the I/O side's reference */
    }
    stream_unref(s); /* the owner's */
}

void actor_http_stream_end(actor_http_stream_t *s)
{
    atomic_store(&s->ended, true);
    if (actor_io_call(end_on_io, s) == ACTOR_OK)
        return;
    /* The loop is gone (the runtime is stopping): nobody else can touch s->req now. */
    if (s->req != NULL)
        stream_unref(s);
    stream_unref(s);
}
