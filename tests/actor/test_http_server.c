/*
 * Tests of actor/http_server.c over real sockets on 127.0.0.1.
 *
 * The test's clients are non-blocking sockets watched by the same libev loop as the server, so
 * run_until() can run the loop one iteration at a time (EVRUN_ONCE) until a condition holds; a
 * repeating guard timer makes every iteration return within GUARD_S and bounds each wait to
 * MAX_ITERATIONS iterations. Nothing sleeps. Responses are parsed with http-parser.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <ev.h>
#include <http_parser.h>

#include "actor/http_server.h"

#define GUARD_S        0.005
#define MAX_ITERATIONS 2000
#define MAX_HELD       16
#define MAX_RESPONSES  16
#define CLIENT_BUF     (4 << 20)

/* ---- fixture: loop, server and what the callbacks saw -------------------------------------- */

enum mode { MODE_ECHO, MODE_HOLD, MODE_STREAM, MODE_INVALID };

typedef struct seen {
    char method[16];
    char path[256];
    char query[256];
    char body[4096];
    size_t body_len;
    char peer[64];
    bool keep_alive;
} seen_t;

typedef struct fixture {
    struct ev_loop *loop;
    ev_timer guard;
    http_server_t *srv;
    http_server_options_t opts;
    uint16_t port;
    enum mode mode;
    size_t requests;       /* callback calls */
    seen_t seen[MAX_HELD]; /* the first MAX_HELD requests */
    http_request_t *held[MAX_HELD];
    size_t held_count;
    size_t closes; /* stream close callback calls */
    actor_err_t close_reason;
} fixture_t;

static void guard_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop;
    (void)w;
    (void)revents;
}

static void record(fixture_t *f, http_request_t *req)
{
    if (f->requests >= MAX_HELD)
        return;
    seen_t *s = &f->seen[f->requests];
    snprintf(s->method, sizeof(s->method), "%s", http_request_method(req));
    snprintf(s->path, sizeof(s->path), "%s", http_request_path(req));
    snprintf(s->query, sizeof(s->query), "%s", http_request_query(req));
    const char *body = http_request_body(req, &s->body_len);
    memcpy(s->body, body, s->body_len < sizeof(s->body) ? s->body_len : sizeof(s->body) - 1);
    snprintf(s->peer, sizeof(s->peer), "%s", http_request_peer(req));
    s->keep_alive = http_request_keep_alive(req);
}

static void stream_closed(http_request_t *req, actor_err_t reason, void *arg)
{
    (void)req;
    fixture_t *f = arg;
    f->closes++;
    f->close_reason = reason;
}

/* Answers with the decoded path as the body, so tests can check order. */
static actor_err_t answer_path(http_request_t *req)
{
    const char *path = http_request_path(req);
    http_response_t resp = {
        .status = 200, .content_type = "text/plain", .body = path, .body_len = strlen(path)};
    return http_response_send(req, &resp);
}

static void on_request(http_request_t *req, void *arg)
{
    fixture_t *f = arg;
    record(f, req);
    f->requests++;
    if (f->mode == MODE_ECHO) {
        assert_int_equal(answer_path(req), ACTOR_OK);
        return;
    }
    if (f->mode == MODE_STREAM) {
        http_response_t head = {.status = 200, .content_type = "text/event-stream"};
        assert_int_equal(http_stream_begin(req, &head, stream_closed, f), ACTOR_OK);
    } else if (f->mode == MODE_INVALID) {
        http_header_t bad = {"Bad Name", "x"};
        http_response_t resp = {.status = 200, .headers = &bad, .header_count = 1};
        assert_int_equal(http_response_send(req, &resp), ACTOR_EINVAL);
        return;
    }
    assert_true(f->held_count < MAX_HELD);
    f->held[f->held_count++] = req;
}

static void server_start(fixture_t *f)
{
    assert_int_equal(http_server_new(f->loop, &f->opts, &f->srv), ACTOR_OK);
    assert_int_equal(http_server_listen(f->srv, "127.0.0.1", 0, on_request, f, &f->port), ACTOR_OK);
    assert_true(f->port > 0);
}

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof(*f));
    f->loop = ev_loop_new(EVFLAG_AUTO);
    ev_timer_init(&f->guard, guard_cb, GUARD_S, GUARD_S);
    ev_timer_start(f->loop, &f->guard);
    http_server_options_init(&f->opts);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    http_server_free(f->srv);
    /* Requests still held are answered now: ECLOSED, and the handles are freed. */
    for (size_t i = 0; i < f->held_count; i++) {
        if (f->held[i] == NULL)
            continue;
        if (f->mode == MODE_STREAM)
            assert_int_equal(http_stream_end(f->held[i]), ACTOR_ECLOSED);
        else
            assert_int_equal(answer_path(f->held[i]), ACTOR_ECLOSED);
    }
    ev_timer_stop(f->loop, &f->guard);
    ev_loop_destroy(f->loop);
    free(f);
    return 0;
}

typedef bool (*cond_t)(void *ctx);

static bool run_until(fixture_t *f, cond_t cond, void *ctx)
{
    for (int i = 0; i < MAX_ITERATIONS && !cond(ctx); i++)
        ev_run(f->loop, EVRUN_ONCE);
    return cond(ctx);
}

static void run_iterations(fixture_t *f, int n)
{
    for (int i = 0; i < n; i++)
        ev_run(f->loop, EVRUN_ONCE);
}

/* ---- client ------------------------------------------------------------------------------- */

typedef struct response {
    int status;
    char headers[2048]; /* "name: value\n" lines, names lower case */
    char *body;
    size_t body_len;
    bool complete;
} response_t;

typedef struct client {
    fixture_t *f;
    int fd;
    ev_io io;
    char *buf; /* everything received */
    size_t len;
    bool eof;   /* orderly close by the server */
    bool reset; /* read error */
    response_t responses[MAX_RESPONSES];
    size_t complete; /* complete responses in buf */
} client_t;

static void client_read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
    (void)revents;
    client_t *cl = w->data;
    ssize_t n = recv(cl->fd, cl->buf + cl->len, CLIENT_BUF - cl->len, 0);
    if (n > 0) {
        cl->len += (size_t)n;
    } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
        cl->eof = n == 0;
        cl->reset = n < 0;
        ev_io_stop(loop, w);
    }
}

static client_t *client_new_on(fixture_t *f, uint16_t port, int rcvbuf)
{
    client_t *cl = calloc(1, sizeof(*cl));
    cl->f = f;
    cl->buf = malloc(CLIENT_BUF);
    cl->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    assert_true(cl->fd >= 0);
    if (rcvbuf > 0)
        setsockopt(cl->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int rc = connect(cl->fd, (struct sockaddr *)&sa, sizeof(sa));
    cl->reset = rc != 0 && errno == ECONNREFUSED;
    assert_true(rc == 0 || errno == EINPROGRESS || cl->reset);
    ev_io_init(&cl->io, client_read_cb, cl->fd, EV_READ);
    cl->io.data = cl;
    ev_io_start(f->loop, &cl->io);
    return cl;
}

static client_t *client_new(fixture_t *f)
{
    return client_new_on(f, f->port, 0);
}

static void client_free(client_t *cl)
{
    ev_io_stop(cl->f->loop, &cl->io);
    if (cl->fd >= 0)
        close(cl->fd);
    for (size_t i = 0; i < MAX_RESPONSES; i++)
        free(cl->responses[i].body);
    free(cl->buf);
    free(cl);
}

static void client_close(client_t *cl)
{
    ev_io_stop(cl->f->loop, &cl->io);
    close(cl->fd);
    cl->fd = -1;
}

/* Sends everything, running the loop while the socket is full. Returns false if the server
 * closed the connection first. */
static bool client_send_n(client_t *cl, const void *data, size_t len)
{
    size_t at = 0;
    for (int i = 0; at < len && i < 100000; i++) {
        ssize_t n = send(cl->fd, (const char *)data + at, len - at, MSG_NOSIGNAL);
        if (n > 0)
            at += (size_t)n;
        else if (errno == EAGAIN || errno == EINPROGRESS || errno == ENOTCONN)
            ev_run(cl->f->loop, EVRUN_NOWAIT);
        else
            return false;
    }
    return at == len;
}

static void client_send(client_t *cl, const char *text)
{
    assert_true(client_send_n(cl, text, strlen(text)));
}

/* ---- parsing what the client received ----------------------------------------------------- */

typedef struct parse_state {
    client_t *cl;
    size_t index;
    bool in_value;
} parse_state_t;

static response_t *current(parse_state_t *ps)
{
    return &ps->cl->responses[ps->index];
}

static int on_resp_begin(http_parser *hp)
{
    parse_state_t *ps = hp->data;
    response_t *r = current(ps);
    free(r->body);
    memset(r, 0, sizeof(*r));
    return 0;
}

static void append_header(response_t *r, const char *at, size_t len, bool lower)
{
    size_t used = strlen(r->headers);
    for (size_t i = 0; i < len && used + 2 < sizeof(r->headers); i++)
        r->headers[used++] = lower ? (char)tolower((unsigned char)at[i]) : at[i];
    r->headers[used] = '\0';
}

static int on_resp_field(http_parser *hp, const char *at, size_t len)
{
    parse_state_t *ps = hp->data;
    if (ps->in_value)
        append_header(current(ps), "\n", 1, false);
    ps->in_value = false;
    append_header(current(ps), at, len, true);
    return 0;
}

static int on_resp_value(http_parser *hp, const char *at, size_t len)
{
    parse_state_t *ps = hp->data;
    if (!ps->in_value)
        append_header(current(ps), ": ", 2, false);
    ps->in_value = true;
    append_header(current(ps), at, len, false);
    return 0;
}

static int on_resp_headers_complete(http_parser *hp)
{
    parse_state_t *ps = hp->data;
    if (ps->in_value)
        append_header(current(ps), "\n", 1, false);
    ps->in_value = false;
    current(ps)->status = (int)hp->status_code;
    return 0;
}

static int on_resp_body(http_parser *hp, const char *at, size_t len)
{
    response_t *r = current(hp->data);
    r->body = realloc(r->body, r->body_len + len + 1);
    memcpy(r->body + r->body_len, at, len);
    r->body_len += len;
    r->body[r->body_len] = '\0';
    return 0;
}

static int on_resp_complete(http_parser *hp)
{
    parse_state_t *ps = hp->data;
    current(ps)->complete = true;
    if (ps->index + 1 < MAX_RESPONSES)
        ps->index++;
    return 0;
}

/* Parses everything received so far; interim "100 Continue" answers are skipped. */
static size_t client_parse(client_t *cl)
{
    static const http_parser_settings settings = {
        .on_message_begin = on_resp_begin,
        .on_header_field = on_resp_field,
        .on_header_value = on_resp_value,
        .on_headers_complete = on_resp_headers_complete,
        .on_body = on_resp_body,
        .on_message_complete = on_resp_complete,
    };
    const char *data = cl->buf;
    size_t len = cl->len;
    const char *cont = "HTTP/1.1 100 Continue\r\n\r\n";
    while (len >= strlen(cont) && memcmp(data, cont, strlen(cont)) == 0) {
        data += strlen(cont);
        len -= strlen(cont);
    }
    http_parser hp;
    http_parser_init(&hp, HTTP_RESPONSE);
    parse_state_t ps = {.cl = cl};
    hp.data = &ps;
    http_parser_execute(&hp, &settings, data, len);
    if (cl->eof && HTTP_PARSER_ERRNO(&hp) == HPE_OK)
        http_parser_execute(&hp, &settings, NULL, 0);
    cl->complete = 0;
    while (cl->complete < MAX_RESPONSES && cl->responses[cl->complete].complete)
        cl->complete++;
    return cl->complete;
}

typedef struct want {
    client_t *cl;
    size_t n;
} want_t;

static bool has_responses(void *ctx)
{
    want_t *w = ctx;
    return client_parse(w->cl) >= w->n;
}

/* Runs the loop until cl has n complete responses. */
static void wait_responses(client_t *cl, size_t n)
{
    want_t w = {cl, n};
    assert_true(run_until(cl->f, has_responses, &w));
}

static bool is_closed(void *ctx)
{
    client_t *cl = ctx;
    return cl->eof || cl->reset;
}

static void wait_closed(client_t *cl)
{
    assert_true(run_until(cl->f, is_closed, cl));
}

static bool has_text(void *ctx)
{
    want_t *w = ctx;
    return w->cl->len >= w->n;
}

static void wait_bytes(client_t *cl, size_t n)
{
    want_t w = {cl, n};
    assert_true(run_until(cl->f, has_text, &w));
}

typedef struct count_want {
    size_t *counter;
    size_t n;
} count_want_t;

static bool count_reached(void *ctx)
{
    count_want_t *w = ctx;
    return *w->counter >= w->n;
}

static void wait_count(fixture_t *f, size_t *counter, size_t n)
{
    count_want_t w = {counter, n};
    assert_true(run_until(f, count_reached, &w));
}

static bool no_connections(void *ctx)
{
    fixture_t *f = ctx;
    return http_server_connection_count(f->srv) == 0;
}

/* The value of header name (lower case) in r, copied to a static buffer, or NULL. */
static const char *header_of(const response_t *r, const char *name)
{
    static char value[256];
    char key[64];
    snprintf(key, sizeof(key), "%s: ", name);
    const char *at = strstr(r->headers, key);
    if (at == NULL)
        return NULL;
    at += strlen(key);
    size_t n = strcspn(at, "\n");
    snprintf(value, sizeof(value), "%.*s", (int)n, at);
    return value;
}

/* ---- tests: requests and answers ---------------------------------------------------------- */

static void test_get(void **state)
{
    fixture_t *f = *state;
    f->mode = MODE_HOLD;
    server_start(f);
    client_t *cl = client_new(f);
    client_send(cl, "GET /hello%20world?x=1&y=a+b%21&flag HTTP/1.1\r\nHost: t\r\n"
                    "X-Custom: Value\r\n\r\n");
    wait_count(f, &f->held_count, 1);
    http_request_t *req = f->held[0];
    assert_string_equal(http_request_method(req), "GET");
    assert_string_equal(http_request_path(req), "/hello world");
    assert_string_equal(http_request_target(req), "/hello%20world?x=1&y=a+b%21&flag");
    assert_string_equal(http_request_query(req), "x=1&y=a+b%21&flag");
    assert_string_equal(http_request_query_param(req, "y"), "a b!");
    assert_string_equal(http_request_query_param(req, "flag"), "");
    assert_null(http_request_query_param(req, "z"));
    assert_string_equal(http_request_header(req, "x-custom"), "Value");
    size_t count = 0;
    const http_header_t *headers = http_request_headers(req, &count);
    assert_int_equal(count, 2);
    assert_string_equal(headers[0].name, "Host");
    assert_true(strncmp(http_request_peer(req), "127.0.0.1:", 10) == 0);
    assert_int_equal(http_request_peer_addr(req)->ss_family, AF_INET);
    assert_true(http_request_keep_alive(req));
    assert_true(http_request_connected(req));
    size_t len = 1;
    assert_string_equal(http_request_body(req, &len), "");
    assert_int_equal(len, 0);
    f->held[0] = NULL;
    assert_int_equal(answer_path(req), ACTOR_OK);
    wait_responses(cl, 1);
    assert_int_equal(cl->responses[0].status, 200);
    assert_string_equal(cl->responses[0].body, "/hello world");
    assert_string_equal(header_of(&cl->responses[0], "content-length"), "12");
    assert_string_equal(header_of(&cl->responses[0], "content-type"), "text/plain");
    assert_non_null(header_of(&cl->responses[0], "date"));
    client_free(cl);
}

static void test_post(void **state)
{
    fixture_t *f = *state;
    f->mode = MODE_HOLD;
    server_start(f);
    client_t *cl = client_new(f);
    client_send(cl, "POST /submit HTTP/1.1\r\nContent-Length: 7\r\n\r\npayload");
    wait_count(f, &f->held_count, 1);
    assert_string_equal(f->seen[0].method, "POST");
    assert_string_equal(f->seen[0].body, "payload");
    assert_int_equal(f->seen[0].body_len, 7);
    http_request_t *req = f->held[0];
    f->held[0] = NULL;
    size_t body_len = 0;
    const char *body = http_request_body(req, &body_len);
    http_header_t extra = {"Location", "/submit/1"};
    http_response_t resp = {
        .status = 201, .headers = &extra, .header_count = 1, .body = body, .body_len = body_len};
    assert_int_equal(http_response_send(req, &resp), ACTOR_OK);
    wait_responses(cl, 1);
    assert_int_equal(cl->responses[0].status, 201);
    assert_string_equal(cl->responses[0].body, "payload");
    assert_string_equal(header_of(&cl->responses[0], "location"), "/submit/1");
    assert_null(header_of(&cl->responses[0], "content-type"));
    client_free(cl);
}

static void test_keep_alive_several_requests(void **state)
{
    fixture_t *f = *state;
    server_start(f);
    client_t *cl = client_new(f);
    const char *paths[] = {"/a", "/b", "/c"};
    for (size_t i = 0; i < 3; i++) {
        char req[64];
        snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: t\r\n\r\n", paths[i]);
        client_send(cl, req);
        wait_responses(cl, i + 1);
        assert_string_equal(cl->responses[i].body, paths[i]);
        assert_null(header_of(&cl->responses[i], "connection"));
    }
    assert_int_equal(http_server_connection_count(f->srv), 1);
    assert_false(cl->eof);
    client_free(cl);
}

/* Held answers: request N+1 reaches the callback only once N is answered. */
static void test_pipelining_order(void **state)
{
    fixture_t *f = *state;
    f->mode = MODE_HOLD;
    server_start(f);
    client_t *cl = client_new(f);
    client_send(cl, "GET /one HTTP/1.1\r\n\r\nGET /two HTTP/1.1\r\n\r\n"
                    "POST /three HTTP/1.1\r\nContent-Length: 1\r\n\r\nx");
    for (size_t i = 0; i < 3; i++) {
        wait_count(f, &f->held_count, i + 1);
        run_iterations(f, 5);
        assert_int_equal(f->held_count, i + 1); /* nothing further was parsed */
        http_request_t *req = f->held[i];
        f->held[i] = NULL;
        assert_int_equal(answer_path(req), ACTOR_OK);
    }
    wait_responses(cl, 3);
    assert_string_equal(cl->responses[0].body, "/one");
    assert_string_equal(cl->responses[1].body, "/two");
    assert_string_equal(cl->responses[2].body, "/three");
    assert_string_equal(f->seen[2].body, "x");
    client_free(cl);
}

/* Answers given inside the callback: many pipelined requests in one write. */
static void test_pipelining_answered_at_once(void **state)
{
    fixture_t *f = *state;
    server_start(f);
    client_t *cl = client_new(f);
    char all[1024] = "";
    for (int i = 0; i < 10; i++) {
        char one[64];
        snprintf(one, sizeof(one), "GET /%d HTTP/1.1\r\n\r\n", i);
        strcat(all, one);
    }
    client_send(cl, all);
    wait_responses(cl, 10);
    for (int i = 0; i < 10; i++) {
        char path[8];
        snprintf(path, sizeof(path), "/%d", i);
        assert_string_equal(cl->responses[i].body, path);
    }
    client_free(cl);
}

static void test_chunked_request_body(void **state)
{
    fixture_t *f = *state;
    server_start(f);
    client_t *cl = client_new(f);
    const char *req = "POST /chunks HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                      "4\r\nWiki\r\n5\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\n\r\n";
    /* One byte at a time, with loop iterations between: partial reads everywhere. */
    for (size_t i = 0; i < strlen(req); i++) {
        assert_true(client_send_n(cl, req + i, 1));
        ev_run(f->loop, EVRUN_NOWAIT);
    }
    wait_responses(cl, 1);
    assert_string_equal(f->seen[0].body, "Wikipedia in\r\n\r\nchunks.");
    assert_int_equal(f->seen[0].body_len, 23);
    client_free(cl);
}

static void test_chunked_streaming_response(void **state)
{
    fixture_t *f = *state;
    f->mode = MODE_STREAM;
    server_start(f);
    client_t *cl = client_new(f);
    client_send(cl, "GET /events HTTP/1.1\r\n\r\n");
    wait_count(f, &f->held_count, 1);
    http_request_t *stream = f->held[0];
    assert_int_equal(http_stream_write(stream, "data: 1\n\n", 9), ACTOR_OK);
    wait_bytes(cl, 1);
    client_parse(cl);
    assert_false(cl->responses[0].complete);
    assert_int_equal(http_stream_write(stream, "", 0), ACTOR_OK);
    assert_int_equal(http_stream_write(stream, "data: 2\n\n", 9), ACTOR_OK);
    f->held[0] = NULL;
    assert_int_equal(http_stream_end(stream), ACTOR_OK);
    assert_int_equal(f->closes, 1);
    assert_int_equal(f->close_reason, ACTOR_OK);
    wait_responses(cl, 1);
    assert_string_equal(header_of(&cl->responses[0], "transfer-encoding"), "chunked");
    assert_string_equal(header_of(&cl->responses[0], "content-type"), "text/event-stream");
    assert_string_equal(cl->responses[0].body, "data: 1\n\ndata: 2\n\n");
    assert_non_null(strstr(cl->buf, "\r\n9\r\ndata: 1\n\n\r\n"));

    /* The connection carries on after the stream. */
    client_send(cl, "GET /again HTTP/1.1\r\n\r\n");
    wait_count(f, &f->held_count, 2);
    stream = f->held[1];
    f->held[1] = NULL;
    assert_int_equal(http_stream_end(stream), ACTOR_OK);
    wait_responses(cl, 2);
    assert_int_equal(cl->responses[1].body_len, 0);
    assert_int_equal(f->closes, 2);
    client_free(cl);
}

static void test_answer_after_callback_returned(void **state)
{
    fixture_t *f = *state;
    f->mode = MODE_HOLD;
    server_start(f);
    client_t *cl = client_new(f);
    client_send(cl, "GET /later HTTP/1.1\r\n\r\n");
    wait_count(f, &f->held_count, 1);
    run_iterations(f, 10);
    assert_int_equal(cl->len, 0);
    http_request_t *req = f->held[0];
    f->held[0] = NULL;
    assert_int_equal(answer_path(req), ACTOR_OK);
    wait_responses(cl, 1);
    assert_string_equal(cl->responses[0].body, "/later");
    client_free(cl);
}

static void test_answer_after_client_closed(void **state)
{
    fixture_t *f = *state;
    f->mode = MODE_HOLD;
    server_start(f);
    client_t *cl = client_new(f);
    client_send(cl, "GET /gone HTTP/1.1\r\n\r\nGET /never HTTP/1.1\r\n\r\n");
    wait_count(f, &f->held_count, 1);
    /* A reset (not a half-close) tells the server at once that the client is gone. */
    struct linger lg = {.l_onoff = 1, .l_linger = 0};
    setsockopt(cl->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
    client_close(cl);
    assert_true(run_until(f, no_connections, f));
    http_request_t *req = f->held[0];
    f->held[0] = NULL;
    assert_false(http_request_connected(req));
    assert_string_equal(http_request_path(req), "/gone"); /* still readable */
    char *body = malloc(10000);
    memset(body, 'z', 10000);
    http_response_t resp = {.status = 200};
    assert_int_equal(http_response_send_owned(req, &resp, body, 10000), ACTOR_ECLOSED);
    free(body); /* not taken on error */
    assert_int_equal(f->requests, 1);
    client_free(cl);
}

static void test_owned_body(void **state)
{
    fixture_t *f = *state;
    f->mode = MODE_HOLD;
    server_start(f);
    client_t *cl = client_new(f);
    client_send(cl, "GET /big HTTP/1.1\r\n\r\n");
    wait_count(f, &f->held_count, 1);
    size_t len = 300000;
    char *body = malloc(len);
    for (size_t i = 0; i < len; i++)
        body[i] = (char)('a' + i % 26);
    http_request_t *req = f->held[0];
    f->held[0] = NULL;
    http_response_t resp = {.status = 200, .content_type = "application/octet-stream"};
    assert_int_equal(http_response_send_owned(req, &resp, body, len), ACTOR_OK);
    wait_responses(cl, 1);
    assert_int_equal(cl->responses[0].body_len, len);
    for (size_t i = 0; i < len; i += 997)
        assert_int_equal(cl->responses[0].body[i], 'a' + i % 26);
    client_free(cl);
}

static void test_head_has_no_body(void **state)
{
    fixture_t *f = *state;
    server_start(f);
    client_t *cl = client_new(f);
    client_send(cl, "HEAD /abcde HTTP/1.1\r\n\r\n");
    wait_bytes(cl, 10);
    run_iterations(f, 10); /* anything more would arrive now */
    cl->buf[cl->len] = '\0';
    assert_non_null(strstr(cl->buf, "Content-Length: 6\r\n"));
    assert_true(cl->len > 4 && memcmp(cl->buf + cl->len - 4, "\r\n\r\n", 4) == 0);
    client_free(cl);
}

static void test_invalid_answer_becomes_500(void **state)
{
    fixture_t *f = *state;
    f->mode = MODE_INVALID;
    server_start(f);
    client_t *cl = client_new(f);
    client_send(cl, "GET /x HTTP/1.1\r\n\r\nGET /y HTTP/1.1\r\n\r\n");
    wait_responses(cl, 2);
    assert_int_equal(cl->responses[0].status, 500);
    assert_int_equal(cl->responses[1].status, 500);
    assert_false(cl->eof);
    client_free(cl);
}

static void test_http10_rules(void **state)
{
    fixture_t *f = *state;
    server_start(f);
    client_t *cl = client_new(f);
    client_send(cl, "GET /old HTTP/1.0\r\n\r\n");
    wait_responses(cl, 1);
    assert_string_equal(header_of(&cl->responses[0], "connection"), "close");
    wait_closed(cl);
    assert_true(cl->eof);
    client_free(cl);

    cl = client_new(f);
    client_send(cl, "GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    wait_responses(cl, 1);
    assert_string_equal(header_of(&cl->responses[0], "connection"), "keep-alive");
    client_send(cl, "GET /b HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    wait_responses(cl, 2);
    assert_string_equal(cl->responses[1].body, "/b");
    client_free(cl);
}

static void test_connection_close_request(void **state)
{
    fixture_t *f = *state;
    server_start(f);
    client_t *cl = client_new(f);
    client_send(cl, "GET /bye HTTP/1.1\r\nConnection: close\r\n\r\nGET /ignored HTTP/1.1\r\n\r\n");
    wait_closed(cl);
    assert_int_equal(client_parse(cl), 1);
    assert_string_equal(header_of(&cl->responses[0], "connection"), "close");
    assert_int_equal(f->requests, 1);
    client_close(cl); /* ends the server's lingering */
    assert_true(run_until(f, no_connections, f));
    client_free(cl);
}

/* A client that half-closes after its request still gets the answer. */
static void test_half_close(void **state)
{
    fixture_t *f = *state;
    f->mode = MODE_HOLD;
    server_start(f);
    client_t *cl = client_new(f);
    client_send(cl, "GET /half HTTP/1.1\r\n\r\n");
    shutdown(cl->fd, SHUT_WR);
    wait_count(f, &f->held_count, 1);
    run_iterations(f, 5);
    http_request_t *req = f->held[0];
    f->held[0] = NULL;
    assert_int_equal(answer_path(req), ACTOR_OK);
    wait_closed(cl);
    assert_int_equal(client_parse(cl), 1);
    assert_string_equal(cl->responses[0].body, "/half");
    client_free(cl);
}

static void test_expect_continue(void **state)
{
    fixture_t *f = *state;
    server_start(f);
    client_t *cl = client_new(f);
    client_send(cl, "PUT /up HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n");
    wait_bytes(cl, 25);
    assert_memory_equal(cl->buf, "HTTP/1.1 100 Continue\r\n\r\n", 25);
    client_send(cl, "hello");
    wait_responses(cl, 1);
    assert_int_equal(cl->responses[0].status, 200);
    assert_string_equal(f->seen[0].body, "hello");
    client_free(cl);
}

/* ---- tests: errors the server answers itself ---------------------------------------------- */

static void expect_error(fixture_t *f, const char *request, int status, const char *text)
{
    client_t *cl = client_new(f);
    client_send_n(cl, request, strlen(request)); /* the server may close before the end */
    wait_closed(cl);
    assert_int_equal(client_parse(cl), 1);
    assert_int_equal(cl->responses[0].status, status);
    assert_string_equal(header_of(&cl->responses[0], "connection"), "close");
    assert_non_null(strstr(cl->responses[0].body, text));
    assert_int_equal(f->requests, 0);
    client_free(cl);
}

static void test_bad_request_400(void **state)
{
    fixture_t *f = *state;
    server_start(f);
    expect_error(f, "GET / HTTP/1.1\r\nBad Header\r\n\r\n", 400,
                 "Malformed request: invalid character in header");
    expect_error(f, "GET /%zz HTTP/1.1\r\n\r\n", 400, "percent-encoding");
    expect_error(f, "\x01\x02\x03\r\n\r\n", 400, "invalid HTTP method");
}

static void test_body_too_large_413(void **state)
{
    fixture_t *f = *state;
    f->opts.max_body_bytes = 1024;
    server_start(f);
    expect_error(f, "POST / HTTP/1.1\r\nContent-Length: 1025\r\n\r\n", 413, "too large");

    /* A chunked body is counted as it streams. */
    char *req = malloc(8192);
    strcpy(req, "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n");
    for (int i = 0; i < 6; i++) {
        strcat(req, "100\r\n");
        size_t at = strlen(req);
        memset(req + at, 'q', 256);
        strcpy(req + at + 256, "\r\n");
    }
    strcat(req, "0\r\n\r\n");
    expect_error(f, req, 413, "too large");
    free(req);
}

static void test_headers_too_large_431(void **state)
{
    fixture_t *f = *state;
    f->opts.max_header_bytes = 1024;
    server_start(f);
    char req[4096];
    int n = snprintf(req, sizeof(req), "GET / HTTP/1.1\r\nX-Big: ");
    memset(req + n, 'h', 2000);
    strcpy(req + n + 2000, "\r\n\r\n");
    expect_error(f, req, 431, "too large");
}

static void test_request_timeout_408(void **state)
{
    fixture_t *f = *state;
    f->opts.request_timeout_ms = 30;
    server_start(f);
    client_t *cl = client_new(f);
    client_send(cl, "GET /slow HTTP/1.1\r\nHost: x\r\n"); /* and then nothing */
    wait_closed(cl);
    assert_int_equal(client_parse(cl), 1);
    assert_int_equal(cl->responses[0].status, 408);
    assert_string_equal(header_of(&cl->responses[0], "connection"), "close");
    assert_int_equal(f->requests, 0);
    client_close(cl);
    assert_true(run_until(f, no_connections, f));
    client_free(cl);
}

/* An idle keep-alive connection is closed without a word. */
static void test_idle_timeout(void **state)
{
    fixture_t *f = *state;
    f->opts.idle_timeout_ms = 30;
    server_start(f);
    client_t *cl = client_new(f);
    client_send(cl, "GET /x HTTP/1.1\r\n\r\n");
    wait_responses(cl, 1);
    size_t len = cl->len;
    wait_closed(cl);
    assert_true(cl->eof);
    assert_int_equal(cl->len, len);
    assert_true(run_until(f, no_connections, f));
    client_free(cl);
}

/* A client that stops reading a large answer is dropped after write_timeout_ms. */
static void test_write_timeout(void **state)
{
    fixture_t *f = *state;
    f->mode = MODE_HOLD;
    f->opts.write_timeout_ms = 30;
    server_start(f);
    client_t *cl = client_new_on(f, f->port, 4096);
    client_send(cl, "GET /big HTTP/1.1\r\n\r\n");
    wait_count(f, &f->held_count, 1);
    ev_io_stop(f->loop, &cl->io); /* read nothing */
    size_t len = 32 << 20;
    char *body = calloc(1, len);
    http_request_t *req = f->held[0];
    f->held[0] = NULL;
    http_response_t resp = {.status = 200};
    assert_int_equal(http_response_send_owned(req, &resp, body, len), ACTOR_OK);
    assert_true(run_until(f, no_connections, f));
    client_free(cl);
}

/* ---- tests: streams ----------------------------------------------------------------------- */

static void test_stream_close_callback(void **state)
{
    fixture_t *f = *state;
    f->mode = MODE_STREAM;
    server_start(f);
    client_t *cl = client_new(f);
    client_send(cl, "GET /events HTTP/1.1\r\n\r\n");
    wait_count(f, &f->held_count, 1);
    http_request_t *stream = f->held[0];
    assert_int_equal(http_stream_write(stream, "x", 1), ACTOR_OK);
    wait_bytes(cl, 1);
    client_close(cl);
    wait_count(f, &f->closes, 1);
    assert_int_equal(f->close_reason, ACTOR_ECLOSED);
    assert_false(http_request_connected(stream));
    assert_int_equal(http_stream_write(stream, "y", 1), ACTOR_ECLOSED);
    f->held[0] = NULL;
    assert_int_equal(http_stream_end(stream), ACTOR_ECLOSED);
    assert_int_equal(f->closes, 1);
    client_free(cl);
}

/* A stream whose client reads nothing is dropped once max_stream_backlog bytes wait. */
static void test_stream_slow_reader_dropped(void **state)
{
    fixture_t *f = *state;
    f->mode = MODE_STREAM;
    f->opts.max_stream_backlog = 64 * 1024;
    server_start(f);
    client_t *cl = client_new_on(f, f->port, 4096);
    client_send(cl, "GET /events HTTP/1.1\r\n\r\n");
    wait_count(f, &f->held_count, 1);
    ev_io_stop(f->loop, &cl->io);
    http_request_t *stream = f->held[0];
    static char chunk[16384];
    actor_err_t err = ACTOR_OK;
    for (int i = 0; i < 10000 && err == ACTOR_OK; i++) {
        err = http_stream_write(stream, chunk, sizeof(chunk));
        ev_run(f->loop, EVRUN_NOWAIT);
    }
    assert_int_equal(err, ACTOR_ETOOBIG);
    assert_int_equal(http_stream_write(stream, chunk, 1), ACTOR_ECLOSED);
    wait_count(f, &f->closes, 1);
    assert_int_equal(f->close_reason, ACTOR_ETOOBIG);
    f->held[0] = NULL;
    assert_int_equal(http_stream_end(stream), ACTOR_ECLOSED);
    client_free(cl);
}

/* An HTTP/1.0 client gets the stream raw, ended by the close. */
static void test_stream_to_http10(void **state)
{
    fixture_t *f = *state;
    f->mode = MODE_STREAM;
    server_start(f);
    client_t *cl = client_new(f);
    client_send(cl, "GET /events HTTP/1.0\r\n\r\n");
    wait_count(f, &f->held_count, 1);
    http_request_t *stream = f->held[0];
    f->held[0] = NULL;
    assert_int_equal(http_stream_write(stream, "abc", 3), ACTOR_OK);
    assert_int_equal(http_stream_end(stream), ACTOR_OK);
    wait_closed(cl);
    assert_int_equal(client_parse(cl), 1);
    assert_null(header_of(&cl->responses[0], "transfer-encoding"));
    assert_string_equal(cl->responses[0].body, "abc");
    client_free(cl);
}

/* ---- tests: server, listeners, connections ------------------------------------------------ */

static void on_request_b(http_request_t *req, void *arg)
{
    size_t *count = arg;
    (*count)++;
    http_response_t resp = {.status = 202, .body = "b", .body_len = 1};
    assert_int_equal(http_response_send(req, &resp), ACTOR_OK);
}

static void test_several_listeners(void **state)
{
    fixture_t *f = *state;
    server_start(f);
    size_t b_count = 0;
    uint16_t port_b = 0;
    assert_int_equal(http_server_listen(f->srv, "127.0.0.1", 0, on_request_b, &b_count, &port_b),
                     ACTOR_OK);
    assert_true(port_b != f->port);
    client_t *a = client_new(f);
    client_t *b = client_new_on(f, port_b, 0);
    client_send(a, "GET /a HTTP/1.1\r\n\r\n");
    client_send(b, "GET /b HTTP/1.1\r\n\r\n");
    wait_responses(a, 1);
    wait_responses(b, 1);
    assert_int_equal(a->responses[0].status, 200);
    assert_int_equal(b->responses[0].status, 202);
    assert_int_equal(f->requests, 1);
    assert_int_equal(b_count, 1);

    /* Unlistening closes that port's connections and leaves the other port alone. */
    assert_int_equal(http_server_unlisten(f->srv, port_b), ACTOR_OK);
    assert_int_equal(http_server_unlisten(f->srv, port_b), ACTOR_ENOENT);
    wait_closed(b);
    client_send(a, "GET /a2 HTTP/1.1\r\n\r\n");
    wait_responses(a, 2);
    client_t *again = client_new_on(f, port_b, 0);
    wait_closed(again); /* refused */
    assert_true(again->reset);
    assert_int_equal(b_count, 1);
    client_free(again);
    client_free(a);
    client_free(b);
}

static void test_listen_errors(void **state)
{
    fixture_t *f = *state;
    server_start(f);
    uint16_t port = 0;
    assert_int_equal(http_server_listen(f->srv, "not-an-ip", 0, on_request, f, &port),
                     ACTOR_EINVAL);
    assert_int_equal(http_server_listen(f->srv, "127.0.0.1", f->port, on_request, f, &port),
                     ACTOR_EADDRINUSE);
    assert_int_equal(http_server_listen(f->srv, "127.0.0.1", 0, NULL, f, &port), ACTOR_EINVAL);
    http_server_options_t bad = f->opts;
    bad.max_body_bytes = 0;
    http_server_t *srv = NULL;
    assert_int_equal(http_server_new(f->loop, &bad, &srv), ACTOR_EINVAL);
}

static void test_max_connections(void **state)
{
    fixture_t *f = *state;
    f->opts.max_connections = 1;
    server_start(f);
    client_t *a = client_new(f);
    client_send(a, "GET /a HTTP/1.1\r\n\r\n");
    wait_responses(a, 1);
    client_t *b = client_new(f);
    client_send(b, "GET /b HTTP/1.1\r\n\r\n");
    run_iterations(f, 20);
    assert_int_equal(b->len, 0); /* waiting in the backlog */
    assert_int_equal(http_server_connection_count(f->srv), 1);
    client_close(a);
    wait_responses(b, 1);
    assert_string_equal(b->responses[0].body, "/b");
    client_free(a);
    client_free(b);
}

/* Freeing the server tells streams and leaves unanswered requests answerable (ECLOSED). */
static void test_free_with_pending_requests(void **state)
{
    fixture_t *f = *state;
    f->mode = MODE_STREAM;
    server_start(f);
    client_t *a = client_new(f);
    client_t *b = client_new(f);
    client_send(a, "GET /s1 HTTP/1.1\r\n\r\n");
    client_send(b, "GET /s2 HTTP/1.1\r\n\r\n");
    wait_count(f, &f->held_count, 2);
    http_server_free(f->srv);
    f->srv = NULL;
    assert_int_equal(f->closes, 2);
    assert_int_equal(f->close_reason, ACTOR_ECLOSED);
    /* teardown ends both streams and expects ECLOSED */
    wait_closed(a);
    wait_closed(b);
    client_free(a);
    client_free(b);
}

/* Running out of file descriptors pauses accepting; a retry timer resumes it. */
static void test_accept_without_file_descriptors(void **state)
{
    fixture_t *f = *state;
    server_start(f);
    client_t *cl = client_new(f);
    client_send(cl, "GET /later HTTP/1.1\r\n\r\n");
    struct rlimit old;
    assert_int_equal(getrlimit(RLIMIT_NOFILE, &old), 0);
    int lowest_free = dup(0);
    close(lowest_free);
    struct rlimit low = {.rlim_cur = (rlim_t)lowest_free, .rlim_max = old.rlim_max};
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
    run_iterations(f, 5);
    assert_int_equal(http_server_connection_count(f->srv), 0);
    assert_int_equal(cl->len, 0);
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &old), 0);
    wait_responses(cl, 1);
    assert_string_equal(cl->responses[0].body, "/later");
    client_free(cl);
}

static void test_adopt_socket_pair(void **state)
{
    fixture_t *f = *state;
    server_start(f);
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    assert_int_equal(http_server_adopt(f->srv, sv[0], on_request, f), ACTOR_OK);
    client_t *cl = calloc(1, sizeof(*cl));
    cl->f = f;
    cl->buf = malloc(CLIENT_BUF);
    cl->fd = sv[1];
    fcntl(cl->fd, F_SETFL, O_NONBLOCK);
    ev_io_init(&cl->io, client_read_cb, cl->fd, EV_READ);
    cl->io.data = cl;
    ev_io_start(f->loop, &cl->io);
    client_send(cl, "GET /pair HTTP/1.1\r\n\r\n");
    wait_responses(cl, 1);
    assert_string_equal(cl->responses[0].body, "/pair");
    assert_string_equal(f->seen[0].peer, "local");
    client_free(cl);
    assert_true(run_until(f, no_connections, f));
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_get),
        T(test_post),
        T(test_keep_alive_several_requests),
        T(test_pipelining_order),
        T(test_pipelining_answered_at_once),
        T(test_chunked_request_body),
        T(test_chunked_streaming_response),
        T(test_answer_after_callback_returned),
        T(test_answer_after_client_closed),
        T(test_owned_body),
        T(test_head_has_no_body),
        T(test_invalid_answer_becomes_500),
        T(test_http10_rules),
        T(test_connection_close_request),
        T(test_half_close),
        T(test_expect_continue),
        T(test_bad_request_400),
        T(test_body_too_large_413),
        T(test_headers_too_large_431),
        T(test_request_timeout_408),
        T(test_idle_timeout),
        T(test_write_timeout),
        T(test_stream_close_callback),
        T(test_stream_slow_reader_dropped),
        T(test_stream_to_http10),
        T(test_several_listeners),
        T(test_listen_errors),
        T(test_max_connections),
        T(test_free_with_pending_requests),
        T(test_accept_without_file_descriptors),
        T(test_adopt_socket_pair),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
