/*
 * fuzz_http_request: arbitrary bytes as HTTP requests.
 *
 * The first input byte steers the run, the rest is what a client sends. The bytes go twice:
 * (1) straight into the request parser, in pieces of 1..16 bytes, checking the invariants of
 * every request it yields and that errors carry 400, 413 or 431; (2) into a real server
 * connection over a socket pair (http_server_adopt), whose callback answers at once, streams,
 * holds the request to answer it later or after the server is gone, or gives an invalid answer,
 * while the client side reads everything and checks that it is HTTP. LeakSanitizer checks that
 * every request, connection and buffer is freed.
 *
 * Control byte: bits 0-3 piece size - 1; bits 4-5 the callback's behaviour; bit 6 half-close
 * after sending; bit 7 close the client before the held requests are answered.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <ev.h>

#include "actor/http_request_parser.h"
#include "actor/http_server.h"
#include "actor/log.h"

#define MAX_HEADER 1024
#define MAX_BODY   2048
#define MAX_HELD   8

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond))                                                                               \
            __builtin_trap();                                                                      \
    } while (0)

/* ---- the parser alone --------------------------------------------------------------------- */

static void check_message(const http_message_t *m)
{
    CHECK(m->method != NULL && m->target != NULL && m->path != NULL && m->query != NULL);
    CHECK(m->body_len <= MAX_BODY);
    CHECK(m->body == NULL ? m->body_len == 0 : m->body[m->body_len] == '\0');
    for (size_t i = 0; i < m->header_count; i++)
        CHECK(m->headers[i].name != NULL && m->headers[i].value != NULL);
    for (size_t i = 0; i < m->param_count; i++)
        CHECK(http_message_param(m, m->params[i].name) != NULL);
    if (m->header_count > 0)
        CHECK(http_message_header(m, m->headers[0].name) != NULL);
}

static void fuzz_parser(const uint8_t *data, size_t size, size_t step)
{
    http_request_parser_t p;
    http_request_parser_init(&p, MAX_HEADER, MAX_BODY);
    size_t at = 0;
    while (at < size) {
        size_t n = size - at < step ? size - at : step, consumed = 0;
        bool complete = false;
        actor_err_t err =
            http_request_parser_feed(&p, (const char *)data + at, n, &consumed, &complete);
        if (err != ACTOR_OK) {
            int status = 0;
            const char *reason = NULL;
            http_request_parser_error(&p, &status, &reason);
            CHECK(status == 400 || status == 413 || status == 431);
            CHECK(reason != NULL);
            break;
        }
        CHECK(consumed <= n && (complete || consumed == n));
        at += consumed;
        (void)http_request_parser_take_continue(&p);
        if (complete) {
            http_message_t msg;
            http_request_parser_take(&p, &msg);
            check_message(&msg);
            http_message_fini(&msg);
        }
    }
    http_request_parser_fini(&p);
}

/* ---- a server connection ------------------------------------------------------------------ */

typedef struct run {
    unsigned behaviour; /* 0 answer, 1 stream, 2 hold, 3 invalid answer */
    http_request_t *held[MAX_HELD];
    bool streaming[MAX_HELD];
    size_t held_count;
    int client;
    size_t received;
    char first[9]; /* the first bytes the client got */
} run_t;

static void answer(http_request_t *req, bool ok_expected)
{
    const char *path = http_request_path(req);
    http_header_t extra = {"X-Path-Length", "1"};
    http_response_t resp = {.status = 200,
                            .content_type = "text/plain",
                            .headers = &extra,
                            .header_count = 1,
                            .body = path,
                            .body_len = strlen(path)};
    actor_err_t err = http_response_send(req, &resp);
    CHECK(!ok_expected || err == ACTOR_OK);
}

static void stream_closed(http_request_t *req, actor_err_t reason, void *arg)
{
    (void)req;
    (void)reason;
    (void)arg;
}

static void stream(run_t *r, http_request_t *req)
{
    http_response_t head = {.status = 200, .body = "first", .body_len = 5};
    if (http_stream_begin(req, &head, stream_closed, r) != ACTOR_OK)
        return;
    size_t len = 0;
    const char *body = http_request_body(req, &len);
    http_stream_write(req, body, len);
    if (r->held_count < MAX_HELD) { /* end it later */
        r->streaming[r->held_count] = true;
        r->held[r->held_count++] = req;
        return;
    }
    http_stream_end(req);
}

static void on_request(http_request_t *req, void *arg)
{
    run_t *r = arg;
    size_t count = 0;
    const http_header_t *headers = http_request_headers(req, &count);
    for (size_t i = 0; i < count; i++)
        CHECK(http_request_header(req, headers[i].name) != NULL);
    (void)http_request_query_param(req, "x");
    CHECK(http_request_connected(req) && http_request_method(req) != NULL);
    if (r->behaviour == 1) {
        stream(r, req);
    } else if (r->behaviour == 2 && r->held_count < MAX_HELD) {
        r->streaming[r->held_count] = false;
        r->held[r->held_count++] = req;
    } else if (r->behaviour == 3) {
        http_response_t bad = {.status = 99};
        CHECK(http_response_send(req, &bad) == ACTOR_EINVAL);
    } else {
        answer(req, true);
    }
}

/* Reads what the server sent and checks that it begins as HTTP. */
static void drain(run_t *r)
{
    char buf[65536];
    ssize_t n;
    while (r->client >= 0 && (n = recv(r->client, buf, sizeof(buf), MSG_DONTWAIT)) > 0) {
        for (ssize_t i = 0; i < n; i++, r->received++) {
            if (r->received < 8)
                r->first[r->received] = buf[i];
        }
        if (r->received >= 8)
            CHECK(memcmp(r->first, "HTTP/1.1", 8) == 0);
    }
}

static void finish_held(run_t *r, size_t i, bool ok_expected)
{
    http_request_t *req = r->held[i];
    r->held[i] = NULL;
    if (req == NULL)
        return;
    if (r->streaming[i])
        http_stream_end(req);
    else
        answer(req, ok_expected);
}

static void spin(struct ev_loop *loop, run_t *r, int rounds)
{
    for (int i = 0; i < rounds; i++) {
        ev_run(loop, EVRUN_NOWAIT);
        drain(r);
    }
}

static void fuzz_server(struct ev_loop *loop, const uint8_t *data, size_t size, uint8_t ctl)
{
    http_server_options_t opts;
    http_server_options_init(&opts);
    opts.max_header_bytes = MAX_HEADER;
    opts.max_body_bytes = MAX_BODY;
    http_server_t *srv = NULL;
    int sv[2];
    CHECK(http_server_new(loop, &opts, &srv) == ACTOR_OK);
    CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) == 0);
    run_t r = {.behaviour = (ctl >> 4) & 3u, .client = sv[1]};
    CHECK(http_server_adopt(srv, sv[0], on_request, &r) == ACTOR_OK);

    size_t step = (size_t)(ctl & 15u) * 64 + 1;
    for (size_t at = 0; at < size; at += step) {
        size_t n = size - at < step ? size - at : step;
        if (send(sv[1], data + at, n, MSG_NOSIGNAL) < 0)
            break;
        spin(loop, &r, 2);
    }
    if (ctl & 0x40)
        shutdown(sv[1], SHUT_WR);
    spin(loop, &r, 2);
    if (ctl & 0x80) {
        close(sv[1]);
        r.client = -1;
        spin(loop, &r, 2);
    }
    for (size_t i = 0; i < r.held_count; i++) {
        finish_held(&r, i, false);
        spin(loop, &r, 2);
    }
    http_server_free(srv);
    if (r.client >= 0)
        close(r.client);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct ev_loop *loop;
    if (loop == NULL) {
        loop = ev_loop_new(EVFLAG_AUTO);
        log_min_level = LOG_LEVEL_FATAL; /* invalid answers are logged at ERROR on purpose */
    }
    if (size < 1)
        return 0;
    uint8_t ctl = data[0];
    fuzz_parser(data + 1, size - 1, (ctl & 15u) + 1);
    fuzz_server(loop, data + 1, size - 1, ctl);
    return 0;
}
