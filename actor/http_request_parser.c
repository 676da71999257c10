/*
 * http_request_parser.c: turns http-parser callbacks into complete requests; see
 * http_request_parser.h.
 *
 * While the header section streams in, the arena only grows, so header slots hold offsets into
 * it (cast to pointers) and become real pointers once the section is complete and the arena is
 * final: a realloc would otherwise move every string seen so far.
 */
#include "actor/http_request_parser.h"

#include "actor/growbuf.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "actor/log.h"

enum { PART_TARGET, PART_NAME, PART_VALUE };

#define ARENA_INITIAL 1024 /* bytes; most requests fit */
#define BODY_INITIAL  4096 /* bytes; grown by doubling up to the announced length */

/* ---- failing ---------------------------------------------------------------------------- */

/* Records the first error; later ones are consequences of it. Returns -1 so that a callback can
 * `return fail(...)` and stop http-parser. */
static int fail(http_request_parser_t *p, actor_err_t err, int status, const char *reason)
{
    if (p->error == ACTOR_OK) {
        p->error = err;
        p->error_status = status;
        p->error_reason = reason;
    }
    return -1;
}

static int fail_nomem(http_request_parser_t *p)
{
    return fail(p, ACTOR_ENOMEM, 500, "Out of memory");
}

/* ---- arena ------------------------------------------------------------------------------ */

static bool arena_reserve(http_message_t *msg, size_t extra)
{
    void *arena = msg->arena;
    bool ok = growbuf_reserve(&arena, &msg->arena_cap, msg->arena_len, extra, ARENA_INITIAL);
    msg->arena = arena;
    return ok;
}

/* Appends len bytes; reserve first. */
static void arena_put(http_message_t *msg, const char *data, size_t len)
{
    memcpy(msg->arena + msg->arena_len, data, len);
    msg->arena_len += len;
}

static bool arena_append(http_message_t *msg, const char *data, size_t len)
{
    if (!arena_reserve(msg, len))
        return false;
    arena_put(msg, data, len);
    return true;
}

static bool arena_terminate(http_message_t *msg)
{
    return arena_append(msg, "", 1);
}

static const char *offset_to_ptr(const http_message_t *msg, const char *offset)
{
    return msg->arena + (uintptr_t)offset;
}

static const char *ptr_from_offset(size_t offset)
{
    return (const char *)(uintptr_t)offset;
}

/* ---- header section --------------------------------------------------------------------- */

static bool headers_add(http_message_t *msg)
{
    if (msg->header_count == msg->header_cap) {
        size_t cap = msg->header_cap ? msg->header_cap * 2 : 16;
        http_header_t *headers = realloc(msg->headers, cap * sizeof(*headers));
        if (headers == NULL)
            return false;
        msg->headers = headers;
        msg->header_cap = cap;
    }
    http_header_t *h = &msg->headers[msg->header_count++];
    h->name = ptr_from_offset(msg->arena_len);
    h->value = NULL; /* no value callback yet */
    return true;
}

/* Ends the string the last data callback was appending: the target, or a header whose value
 * may be missing because http-parser sends no callback for an empty value. */
static bool finish_part(http_message_t *msg, unsigned char part)
{
    if (!arena_terminate(msg))
        return false;
    if (part != PART_NAME)
        return true;
    msg->headers[msg->header_count - 1].value = ptr_from_offset(msg->arena_len);
    return arena_terminate(msg);
}

/* Counts target and header bytes against the 431 limit (trailers included). */
static int count_header_bytes(http_request_parser_t *p, size_t len)
{
    p->header_bytes += len;
    if (p->header_bytes > p->max_header_bytes)
        return fail(p, ACTOR_ETOOBIG, 431, "Request header fields too large");
    return 0;
}

static int on_message_begin(http_parser *hp)
{
    http_request_parser_t *p = hp->data;
    http_message_fini(&p->msg);
    p->in_message = true;
    p->headers_done = false;
    p->part = PART_TARGET;
    p->header_bytes = 0;
    p->continue_wanted = false;
    return 0;
}

static int on_url(http_parser *hp, const char *at, size_t len)
{
    http_request_parser_t *p = hp->data;
    if (count_header_bytes(p, len) != 0)
        return -1;
    return arena_append(&p->msg, at, len) ? 0 : fail_nomem(p);
}

static int on_header_field(http_parser *hp, const char *at, size_t len)
{
    http_request_parser_t *p = hp->data;
    if (count_header_bytes(p, len) != 0)
        return -1;
    if (p->headers_done)
        return 0; /* a trailer: counted, not kept */
    if (p->part != PART_NAME) {
        if (!finish_part(&p->msg, p->part) || !headers_add(&p->msg))
            return fail_nomem(p);
        p->part = PART_NAME;
    }
    return arena_append(&p->msg, at, len) ? 0 : fail_nomem(p);
}

static int on_header_value(http_parser *hp, const char *at, size_t len)
{
    http_request_parser_t *p = hp->data;
    if (count_header_bytes(p, len) != 0)
        return -1;
    if (p->headers_done)
        return 0;
    if (p->part == PART_NAME) {
        if (!arena_terminate(&p->msg))
            return fail_nomem(p);
        p->msg.headers[p->msg.header_count - 1].value = ptr_from_offset(p->msg.arena_len);
        p->part = PART_VALUE;
    }
    return arena_append(&p->msg, at, len) ? 0 : fail_nomem(p);
}

/* ---- percent-decoding ------------------------------------------------------------------- */

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Appends the decoded form of in[0..len) and a NUL to the arena (reserved by the caller: the
 * output is never longer than the input). plus_is_space for query strings (form encoding).
 * Returns false on a malformed escape or an escaped NUL, which a C string cannot carry. */
static bool decode_put(http_message_t *msg, const char *in, size_t len, bool plus_is_space)
{
    char *out = msg->arena + msg->arena_len;
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        char c = in[i];
        if (c == '+' && plus_is_space) {
            c = ' ';
        } else if (c == '%') {
            int hi = i + 2 < len ? hex_value(in[i + 1]) : -1;
            int lo = hi >= 0 ? hex_value(in[i + 2]) : -1;
            if (lo < 0 || (hi == 0 && lo == 0))
                return false;
            c = (char)(hi * 16 + lo);
            i += 2;
        }
        out[n++] = c;
    }
    out[n++] = '\0';
    msg->arena_len += n;
    return true;
}

/* ---- target: path and query ------------------------------------------------------------- */

static bool params_alloc(http_message_t *msg, const char *query, size_t len)
{
    size_t pieces = 1;
    for (size_t i = 0; i < len; i++)
        pieces += query[i] == '&';
    msg->params = malloc(pieces * sizeof(*msg->params));
    if (msg->params == NULL)
        return false;
    msg->param_cap = pieces;
    return true;
}

/* Decodes "a=1&b=x%20y&flag" into params (offsets for now). Returns -1 on a bad escape. */
static int decode_params(http_message_t *msg, const char *query, size_t len)
{
    const char *end = query + len;
    const char *piece = query;
    while (piece < end) {
        const char *amp = memchr(piece, '&', (size_t)(end - piece));
        const char *stop = amp ? amp : end;
        if (stop > piece) {
            const char *eq = memchr(piece, '=', (size_t)(stop - piece));
            const char *name_end = eq ? eq : stop;
            http_header_t *param = &msg->params[msg->param_count++];
            param->name = ptr_from_offset(msg->arena_len);
            if (!decode_put(msg, piece, (size_t)(name_end - piece), true))
                return -1;
            param->value = ptr_from_offset(msg->arena_len);
            const char *value = eq ? eq + 1 : stop;
            if (!decode_put(msg, value, (size_t)(stop - value), true))
                return -1;
        }
        piece = stop + 1;
    }
    return 0;
}

/* Where the path and the query lie in the target; false if the target is not a valid URL. */
static bool split_target(const http_request_parser_t *p, const char *target, size_t len,
                         struct http_parser_url *u)
{
    http_parser_url_init(u);
    return http_parser_parse_url(target, len, p->hp.method == HTTP_CONNECT, u) == 0;
}

/* Appends the decoded path, the raw query and the decoded parameters; all as offsets. */
static int decode_target(http_request_parser_t *p, size_t *path_off, size_t *query_off)
{
    http_message_t *msg = &p->msg;
    const size_t target_len = strlen(msg->arena); /* the target is the arena's first string */
    struct http_parser_url u;
    if (!split_target(p, msg->arena, target_len, &u))
        return fail(p, ACTOR_EPROTO, 400, "Malformed request target");

    size_t path_at = u.field_data[UF_PATH].off, path_len = u.field_data[UF_PATH].len;
    size_t query_at = u.field_data[UF_QUERY].off, query_len = u.field_data[UF_QUERY].len;
    if (!(u.field_set & (1 << UF_QUERY)))
        query_at = query_len = 0;
    if (!arena_reserve(msg, path_len + 4 * query_len + 8))
        return fail_nomem(p);
    if (query_len > 0 && !params_alloc(msg, msg->arena + query_at, query_len))
        return fail_nomem(p);

    /* "http://host" means "/"; a CONNECT target ("host:443") has no path. */
    if (!(u.field_set & (1 << UF_PATH)))
        path_at = path_len = 0;
    const char *no_path = p->hp.method == HTTP_CONNECT ? "" : "/";
    *path_off = msg->arena_len;
    if (path_len == 0)
        arena_put(msg, no_path, strlen(no_path) + 1);
    else if (!decode_put(msg, msg->arena + path_at, path_len, false))
        return fail(p, ACTOR_EPROTO, 400, "Malformed percent-encoding in the path");
    *query_off = msg->arena_len;
    arena_put(msg, msg->arena + query_at, query_len);
    arena_put(msg, "", 1);
    if (decode_params(msg, msg->arena + query_at, query_len) != 0)
        return fail(p, ACTOR_EPROTO, 400, "Malformed percent-encoding in the query string");
    return 0;
}

/* Turns the offsets of the finished header section into pointers. */
static void resolve_pointers(http_message_t *msg, size_t path_off, size_t query_off)
{
    for (size_t i = 0; i < msg->header_count; i++) {
        msg->headers[i].name = offset_to_ptr(msg, msg->headers[i].name);
        msg->headers[i].value = offset_to_ptr(msg, msg->headers[i].value);
    }
    for (size_t i = 0; i < msg->param_count; i++) {
        msg->params[i].name = offset_to_ptr(msg, msg->params[i].name);
        msg->params[i].value = offset_to_ptr(msg, msg->params[i].value);
    }
    msg->target = msg->arena;
    msg->path = msg->arena + path_off;
    msg->query = msg->arena + query_off;
}

/* ---- headers complete, body, message complete ------------------------------------------- */

/* Rejects an announced body over the limit before reading any of it (413), and notes whether
 * the client waits for "100 Continue". */
static int check_body_announced(http_request_parser_t *p)
{
    const http_parser *hp = &p->hp;
    bool chunked = (hp->flags & F_CHUNKED) != 0;
    bool has_length = (hp->flags & F_CONTENTLENGTH) != 0;
    if (!chunked && has_length && hp->content_length > p->max_body_bytes)
        return fail(p, ACTOR_ETOOBIG, 413, "Request body too large");
    const char *expect = http_message_header(&p->msg, "Expect");
    bool has_body = chunked || (has_length && hp->content_length > 0);
    p->continue_wanted = expect != NULL && strcasecmp(expect, "100-continue") == 0 && has_body &&
                         hp->http_major == 1 && hp->http_minor >= 1;
    return 0;
}

static int on_headers_complete(http_parser *hp)
{
    http_request_parser_t *p = hp->data;
    http_message_t *msg = &p->msg;
    if (!finish_part(msg, p->part))
        return fail_nomem(p);
    p->headers_done = true;

    size_t path_off = 0, query_off = 0;
    if (decode_target(p, &path_off, &query_off) != 0)
        return -1;
    resolve_pointers(msg, path_off, query_off);
    msg->method = http_method_str((enum http_method)hp->method);
    msg->is_head = hp->method == HTTP_HEAD;
    msg->http_major = hp->http_major;
    msg->http_minor = hp->http_minor;
    return check_body_announced(p) != 0 ? -1 : 0;
}

/* Grows the body buffer to hold needed bytes. total (0 if unknown) is the announced length plus
 * the NUL: it caps growth, but memory follows the bytes that arrive, because a client that
 * announces 16 MiB and sends nothing must not cost 16 MiB. */
static bool body_reserve(http_message_t *msg, size_t needed, size_t total)
{
    if (needed <= msg->body_cap)
        return true;
    size_t cap = msg->body_cap ? msg->body_cap * 2 : BODY_INITIAL;
    while (cap < needed)
        cap *= 2;
    if (total >= needed && cap > total)
        cap = total;
    char *body = realloc(msg->body, cap);
    if (body == NULL)
        return false;
    msg->body = body;
    msg->body_cap = cap;
    return true;
}

static int on_body(http_parser *hp, const char *at, size_t len)
{
    http_request_parser_t *p = hp->data;
    http_message_t *msg = &p->msg;
    if (len > p->max_body_bytes - msg->body_len)
        return fail(p, ACTOR_ETOOBIG, 413, "Request body too large");
    /* For a Content-Length body http-parser has already subtracted these len bytes. */
    bool sized = (hp->flags & (F_CHUNKED | F_CONTENTLENGTH)) == F_CONTENTLENGTH;
    size_t total = sized ? msg->body_len + len + (size_t)hp->content_length + 1 : 0;
    if (!body_reserve(msg, msg->body_len + len + 1, total))
        return fail_nomem(p);
    memcpy(msg->body + msg->body_len, at, len);
    msg->body_len += len;
    msg->body[msg->body_len] = '\0';
    return 0;
}

static int on_message_complete(http_parser *hp)
{
    http_request_parser_t *p = hp->data;
    p->msg.keep_alive = http_should_keep_alive(hp) != 0;
    p->in_message = false;
    p->complete = true;
    p->continue_wanted = false;
    /* Stop here: the next pipelined request waits until this one is answered. */
    http_parser_pause(hp, 1);
    return 0;
}

static const http_parser_settings settings = {
    .on_message_begin = on_message_begin,
    .on_url = on_url,
    .on_header_field = on_header_field,
    .on_header_value = on_header_value,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};

/* ---- public ----------------------------------------------------------------------------- */

void http_request_parser_init(http_request_parser_t *p, size_t max_header_bytes,
                              size_t max_body_bytes)
{
    memset(p, 0, sizeof(*p));
    http_parser_init(&p->hp, HTTP_REQUEST);
    p->hp.data = p;
    p->max_header_bytes = max_header_bytes;
    p->max_body_bytes = max_body_bytes;
}

void http_request_parser_fini(http_request_parser_t *p)
{
    http_message_fini(&p->msg);
}

/* Maps an http-parser error to the answer; ours (set in a callback) take precedence. */
static actor_err_t parse_failed(http_request_parser_t *p, enum http_errno hpe)
{
    if (hpe == HPE_HEADER_OVERFLOW)
        fail(p, ACTOR_ETOOBIG, 431, "Request header fields too large");
    else if (p->error == ACTOR_OK) {
        snprintf(p->error_text, sizeof(p->error_text), "Malformed request: %s",
                 http_errno_description(hpe));
        fail(p, ACTOR_EPROTO, 400, p->error_text);
    }
    return p->error;
}

actor_err_t http_request_parser_feed(http_request_parser_t *p, const char *data, size_t len,
                                     size_t *consumed, bool *complete)
{
    ACTOR_ASSERT(!p->complete && len > 0);
    *consumed = 0;
    *complete = false;
    if (p->error != ACTOR_OK)
        return p->error;

    size_t n = http_parser_execute(&p->hp, &settings, data, len);
    enum http_errno hpe = HTTP_PARSER_ERRNO(&p->hp);
    if (hpe == HPE_PAUSED && p->complete) {
        http_parser_pause(&p->hp, 0);
    } else if (hpe != HPE_OK) {
        return parse_failed(p, hpe);
    } else if (n != len && !p->complete) {
        /* http-parser stops early only after an upgrade request, which completed it. */
        return parse_failed(p, HPE_UNKNOWN);
    }
    *consumed = n;
    *complete = p->complete;
    return ACTOR_OK;
}

void http_request_parser_take(http_request_parser_t *p, http_message_t *out)
{
    ACTOR_ASSERT(p->complete);
    *out = p->msg;
    memset(&p->msg, 0, sizeof(p->msg));
    p->complete = false;
}

void http_request_parser_error(const http_request_parser_t *p, int *status, const char **reason)
{
    *status = p->error_status;
    *reason = p->error_reason;
}

bool http_request_parser_busy(const http_request_parser_t *p)
{
    return p->in_message;
}

bool http_request_parser_take_continue(http_request_parser_t *p)
{
    bool wanted = p->continue_wanted && p->error == ACTOR_OK;
    p->continue_wanted = false;
    return wanted;
}

void http_message_fini(http_message_t *msg)
{
    free(msg->arena);
    free(msg->headers);
    free(msg->params);
    free(msg->body);
    memset(msg, 0, sizeof(*msg));
}

const char *http_message_header(const http_message_t *msg, const char *name)
{
    for (size_t i = 0; i < msg->header_count; i++) {
        if (strcasecmp(msg->headers[i].name, name) == 0)
            return msg->headers[i].value;
    }
    return NULL;
}

const char *http_message_param(const http_message_t *msg, const char *name)
{
    for (size_t i = 0; i < msg->param_count; i++) {
        if (strcmp(msg->params[i].name, name) == 0)
            return msg->params[i].value;
    }
    return NULL;
}
