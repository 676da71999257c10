/* Tests of http.h: routes of actors on a real port, root routes, 404/405, JSONP, answers given
 * later, streams and their close notice, routes going away with their actor. The client is a
 * blocking socket with a receive timeout, so a missing answer fails the test instead of hanging
 * it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <arpa/inet.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "actor/actor.h"
#include "actor/http.h"

/* ---- the actor under test ---- */

typedef struct web {
    actor_http_request_t *parked; /* answered later by call_answer_parked */
    actor_http_stream_t *stream;
} web_t;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int stream_closed_notices;

static void on_state(actor_t *self, void *state, actor_http_request_t *req)
{
    (void)self, (void)state;
    const char *q = actor_http_query(req, "q");
    actor_http_respond_text(req, 200, "state of %s path=%s q=%s", actor_self(self)->id,
                            actor_http_path(req), q ? q : "-");
}

static void on_echo(actor_t *self, void *state, actor_http_request_t *req)
{
    (void)self, (void)state;
    size_t len;
    const char *body = actor_http_body(req, &len);
    json_t *j = json_pack("{s:s, s:s#}", "method", actor_http_method(req), "body", body, len);
    actor_http_respond_json(req, 201, j);
}

static int parked_requests;

static void on_park(actor_t *self, void *state, actor_http_request_t *req)
{
    (void)self;
    ((web_t *)state)->parked = req;
    pthread_mutex_lock(&lock);
    parked_requests++;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&lock);
}

/* Waits up to 10 s for *counter to become non-zero. */
static int wait_nonzero(const int *counter)
{
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += 10;
    pthread_mutex_lock(&lock);
    while (*counter == 0 && pthread_cond_timedwait(&cv, &lock, &deadline) == 0)
        ;
    int value = *counter;
    pthread_mutex_unlock(&lock);
    return value;
}

static void on_closed(actor_t *self, void *state, actor_http_stream_t *stream)
{
    (void)self;
    web_t *w = state;
    actor_http_stream_end(stream);
    w->stream = NULL;
    pthread_mutex_lock(&lock);
    stream_closed_notices++;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&lock);
}

static void on_events(actor_t *self, void *state, actor_http_request_t *req)
{
    web_t *w = state;
    assert_int_equal(actor_http_stream_begin(self, req, 200, "text/event-stream", NULL, 0,
                                             on_closed, &w->stream),
                     ACTOR_OK);
    actor_http_stream_write(w->stream, "data: one\n\n", 11);
}

static void on_fallback(actor_t *self, void *state, actor_http_request_t *req)
{
    (void)self, (void)state;
    actor_http_respond_json(req, 404, json_pack("{s:s}", "message", "not here"));
}

static void on_json(actor_t *self, void *state, actor_http_request_t *req)
{
    (void)self, (void)state;
    actor_http_respond_json(req, 200, json_pack("{s:i}", "a", 1));
}

static const actor_http_route_t web_routes[] = {
    {"/state", "GET", on_state},   {"/echo", "POST,PUT", on_echo}, {"/park", NULL, on_park},
    {"/events", "GET", on_events}, {"/apps/*", "GET", on_state},   {"/json", "GET", on_json},
};

static const actor_http_route_t root_routes[] = {
    {"/state", "GET", on_state},
    {"*", NULL, on_fallback},
};

static void web_init(actor_t *self, void *state, void *arg)
{
    (void)state;
    bool root = arg != NULL;
    actor_http_install(self, root ? root_routes : web_routes, root ? 2 : 6);
}

static const actor_ops_t web_ops = {.name = "web", .state_size = sizeof(web_t), .init = web_init};

static void call_answer_parked(actor_t *self, void *state, void *arg)
{
    (void)self, (void)arg;
    web_t *w = state;
    actor_http_respond_text(w->parked, 202, "late answer");
    w->parked = NULL;
}

static void call_write_event(actor_t *self, void *state, void *arg)
{
    (void)self;
    web_t *w = state;
    if (w->stream != NULL)
        actor_http_stream_write(w->stream, arg, strlen(arg));
}

/* ---- a tiny blocking client ---- */

static int connect_to(uint16_t port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct timeval tv = {.tv_sec = 10};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    return fd;
}

/* Reads until `want` appears (or 10 s pass); returns what was read (static buffer). */
static const char *read_until(int fd, const char *want)
{
    static char buf[8192];
    size_t len = 0;
    buf[0] = '\0';
    while (strstr(buf, want) == NULL && len < sizeof(buf) - 1) {
        ssize_t n = recv(fd, buf + len, sizeof(buf) - 1 - len, 0);
        if (n <= 0)
            break;
        len += (size_t)n;
        buf[len] = '\0';
    }
    return buf;
}

/* Sends one request and returns the whole answer (headers and body, up to `until`). */
static const char *exchange(uint16_t port, const char *request, const char *until)
{
    int fd = connect_to(port);
    assert_int_equal(send(fd, request, strlen(request), 0), (ssize_t)strlen(request));
    const char *answer = read_until(fd, until);
    close(fd);
    return answer;
}

typedef struct fixture {
    uint16_t port;
    actor_pid_t named, root;
} fixture_t;

static int setup(void **state)
{
    fixture_t *fx = calloc(1, sizeof(*fx));
    actor_runtime_options_t opts;
    actor_runtime_options_init(&opts);
    opts.workers = 1;
    if (actor_runtime_start(&opts) != ACTOR_OK)
        return -1;
    actor_spawn(&web_ops, "thing", NULL, &fx->named);
    actor_spawn(&web_ops, "boss", (void *)1, &fx->root);
    actor_settle();
    if (actor_http_listen("127.0.0.1", 0, "boss", &fx->port) != ACTOR_OK)
        return -1;
    stream_closed_notices = 0;
    parked_requests = 0;
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    actor_runtime_stop();
    free(*state);
    return 0;
}

static void test_routes(void **state)
{
    fixture_t *fx = *state;
    const char *a =
        exchange(fx->port, "GET /thing/state?q=a%20b HTTP/1.1\r\nHost: x\r\n\r\n", "q=a b");
    assert_non_null(strstr(a, "HTTP/1.1 200"));
    assert_non_null(strstr(a, "state of thing path=/state q=a b"));

    a = exchange(fx->port, "GET /state HTTP/1.1\r\n\r\n", "q=-");
    assert_non_null(strstr(a, "state of boss path=/state"));

    a = exchange(fx->port, "GET /thing/apps/my/app HTTP/1.1\r\n\r\n", "q=-");
    assert_non_null(strstr(a, "path=/apps/my/app"));

    a = exchange(fx->port, "POST /thing/echo HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello", "}");
    assert_non_null(strstr(a, "HTTP/1.1 201"));
    assert_non_null(strstr(a, "{\"method\":\"POST\",\"body\":\"hello\"}"));

    a = exchange(fx->port, "DELETE /thing/echo HTTP/1.1\r\n\r\n", "DELETE'");
    assert_non_null(strstr(a, "HTTP/1.1 405"));
    assert_non_null(strstr(a, "Allow: POST,PUT"));

    /* Unmatched: the root's "*" route answers; an unknown actor segment too. */
    a = exchange(fx->port, "GET /nothing HTTP/1.1\r\n\r\n", "}");
    assert_non_null(strstr(a, "HTTP/1.1 404"));
    assert_non_null(strstr(a, "not here"));
}

static void test_jsonp(void **state)
{
    fixture_t *fx = *state;
    const char *a = exchange(fx->port, "GET /thing/json HTTP/1.1\r\n\r\n", "}");
    assert_non_null(strstr(a, "Content-Type: application/json"));
    assert_non_null(strstr(a, "\r\n\r\n{\"a\":1}"));

    a = exchange(fx->port, "GET /thing/json?jsonp=ui.cb_1$ HTTP/1.1\r\n\r\n", ");");
    assert_non_null(strstr(a, "HTTP/1.1 200"));
    assert_non_null(strstr(a, "Content-Type: text/javascript"));
    assert_non_null(strstr(a, "\r\n\r\nui.cb_1$({\"a\":1});"));

    /* A name that could carry script is refused, and so is an empty one. */
    a = exchange(fx->port, "GET /thing/json?jsonp=alert%281%29 HTTP/1.1\r\n\r\n", "'.\n");
    assert_non_null(strstr(a, "HTTP/1.1 400"));
    assert_non_null(strstr(a, "Content-Type: text/plain"));
    assert_non_null(strstr(a, "Invalid 'jsonp' callback name 'alert(1)'.\n"));
    a = exchange(fx->port, "GET /thing/json?jsonp= HTTP/1.1\r\n\r\n", "'.\n");
    assert_non_null(strstr(a, "HTTP/1.1 400"));

    /* As libprocess: only a 200 is wrapped. */
    a = exchange(fx->port, "POST /thing/echo?jsonp=cb HTTP/1.1\r\nContent-Length: 2\r\n\r\nhi",
                 "}");
    assert_non_null(strstr(a, "HTTP/1.1 201"));
    assert_non_null(strstr(a, "Content-Type: application/json"));
    a = exchange(fx->port, "GET /nothing?jsonp=alert%281%29 HTTP/1.1\r\n\r\n", "}");
    assert_non_null(strstr(a, "HTTP/1.1 404"));
    assert_non_null(strstr(a, "\r\n\r\n{\"message\":\"not here\"}"));
}

static void test_plain_404_without_root(void **state)
{
    (void)state;
    uint16_t port;
    assert_int_equal(actor_http_listen("127.0.0.1", 0, NULL, &port), ACTOR_OK);
    const char *a = exchange(port, "GET /state HTTP/1.1\r\n\r\n", "path\n");
    assert_non_null(strstr(a, "HTTP/1.1 404"));
    a = exchange(port, "GET /thing/state HTTP/1.1\r\n\r\n", "q=-");
    assert_non_null(strstr(a, "state of thing"));
}

static void test_answer_later(void **state)
{
    fixture_t *fx = *state;
    int fd = connect_to(fx->port);
    const char *req = "GET /thing/park HTTP/1.1\r\n\r\n";
    send(fd, req, strlen(req), 0);
    assert_int_equal(wait_nonzero(&parked_requests), 1);
    actor_dispatch(&fx->named, call_answer_parked, NULL);
    const char *a = read_until(fd, "late answer");
    assert_non_null(strstr(a, "HTTP/1.1 202"));
    close(fd);
}

static void test_stream_and_close_notice(void **state)
{
    fixture_t *fx = *state;
    int fd = connect_to(fx->port);
    const char *req = "GET /thing/events HTTP/1.1\r\n\r\n";
    send(fd, req, strlen(req), 0);
    const char *a = read_until(fd, "data: one");
    assert_non_null(strstr(a, "Transfer-Encoding: chunked"));
    actor_dispatch(&fx->named, call_write_event, "data: two\n\n");
    a = read_until(fd, "data: two");
    assert_non_null(strstr(a, "data: two"));
    close(fd);
    assert_int_equal(wait_nonzero(&stream_closed_notices), 1);
}

static void test_routes_go_with_their_actor(void **state)
{
    fixture_t *fx = *state;
    actor_terminate(&fx->named);
    actor_wait(&fx->named);
    const char *a = exchange(fx->port, "GET /thing/state HTTP/1.1\r\n\r\n", "}");
    assert_non_null(strstr(a, "HTTP/1.1 404")); /* from the root's fallback */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_routes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_jsonp, setup, teardown),
        cmocka_unit_test_setup_teardown(test_plain_404_without_root, setup, teardown),
        cmocka_unit_test_setup_teardown(test_answer_later, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stream_and_close_notice, setup, teardown),
        cmocka_unit_test_setup_teardown(test_routes_go_with_their_actor, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
