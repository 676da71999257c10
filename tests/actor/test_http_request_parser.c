/* Tests of actor/http_request_parser.c: requests fed in pieces, decoding, limits, errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "actor/http_request_parser.h"

#define MAX_HEADER 4096
#define MAX_BODY   1024

typedef struct fixture {
    http_request_parser_t parser;
    http_message_t msg;
} fixture_t;

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof(*f));
    http_request_parser_init(&f->parser, MAX_HEADER, MAX_BODY);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    http_message_fini(&f->msg);
    http_request_parser_fini(&f->parser);
    free(f);
    return 0;
}

/* Feeds text in pieces of step bytes until a request completes; returns the bytes consumed, or
 * leaves the error in *err. */
static size_t feed(fixture_t *f, const char *text, size_t len, size_t step, actor_err_t *err)
{
    size_t at = 0;
    *err = ACTOR_OK;
    while (at < len) {
        size_t n = len - at < step ? len - at : step, consumed = 0;
        bool complete = false;
        *err = http_request_parser_feed(&f->parser, text + at, n, &consumed, &complete);
        if (*err != ACTOR_OK)
            return at;
        at += consumed;
        if (complete) {
            http_message_fini(&f->msg);
            http_request_parser_take(&f->parser, &f->msg);
            return at;
        }
    }
    return at;
}

/* Feeds a whole request and expects it to complete. */
static void parse_ok(fixture_t *f, const char *text, size_t step)
{
    actor_err_t err;
    size_t used = feed(f, text, strlen(text), step, &err);
    assert_int_equal(err, ACTOR_OK);
    assert_int_equal(used, strlen(text));
    assert_non_null(f->msg.method);
}

static void parse_fails(fixture_t *f, const char *text, actor_err_t expected, int status)
{
    actor_err_t err;
    feed(f, text, strlen(text), strlen(text), &err);
    assert_int_equal(err, expected);
    int got = 0;
    const char *reason = NULL;
    http_request_parser_error(&f->parser, &got, &reason);
    assert_int_equal(got, status);
    assert_non_null(reason);
}

static const char complex_request[] =
    "POST /apps/my%20app/tasks?force=true&name=a+b%2Bc&flag&&empty= HTTP/1.1\r\n"
    "Host: example.com\r\n"
    "Content-Type: application/json\r\n"
    "X-Empty:\r\n"
    "x-twice: one\r\n"
    "X-Twice: two\r\n"
    "Transfer-Encoding: chunked\r\n"
    "\r\n"
    "4\r\n{\"a\"\r\n"
    "3;ext=1\r\n:1}\r\n"
    "0\r\n"
    "X-Trailer: ignored\r\n"
    "\r\n";

static void check_complex(const http_message_t *m)
{
    assert_string_equal(m->method, "POST");
    assert_string_equal(m->target, "/apps/my%20app/tasks?force=true&name=a+b%2Bc&flag&&empty=");
    assert_string_equal(m->path, "/apps/my app/tasks");
    assert_string_equal(m->query, "force=true&name=a+b%2Bc&flag&&empty=");
    assert_string_equal(http_message_param(m, "force"), "true");
    assert_string_equal(http_message_param(m, "name"), "a b+c");
    assert_string_equal(http_message_param(m, "flag"), "");
    assert_string_equal(http_message_param(m, "empty"), "");
    assert_null(http_message_param(m, "missing"));
    assert_int_equal(m->param_count, 4);
    assert_string_equal(http_message_header(m, "content-type"), "application/json");
    assert_string_equal(http_message_header(m, "X-EMPTY"), "");
    assert_string_equal(http_message_header(m, "X-Twice"), "one");
    assert_null(http_message_header(m, "X-Trailer"));
    assert_int_equal(m->header_count, 6);
    assert_int_equal(m->body_len, 7);
    assert_string_equal(m->body, "{\"a\":1}");
    assert_true(m->keep_alive);
    assert_false(m->is_head);
}

static void test_whole_request(void **state)
{
    fixture_t *f = *state;
    parse_ok(f, complex_request, sizeof(complex_request));
    check_complex(&f->msg);
}

/* Every split of the bytes must give the same request: reads return arbitrary pieces. */
static void test_byte_by_byte(void **state)
{
    fixture_t *f = *state;
    for (size_t step = 1; step < 12; step++) {
        parse_ok(f, complex_request, step);
        check_complex(&f->msg);
    }
}

static void test_simple_get(void **state)
{
    fixture_t *f = *state;
    parse_ok(f, "GET / HTTP/1.1\r\n\r\n", 100);
    assert_string_equal(f->msg.method, "GET");
    assert_string_equal(f->msg.path, "/");
    assert_string_equal(f->msg.query, "");
    assert_int_equal(f->msg.header_count, 0);
    assert_int_equal(f->msg.param_count, 0);
    assert_null(f->msg.body);
    assert_int_equal(f->msg.body_len, 0);
    assert_false(http_request_parser_busy(&f->parser));
}

/* Feeding stops after each request, so pipelined requests come out one at a time. */
static void test_pipelined_requests_one_at_a_time(void **state)
{
    fixture_t *f = *state;
    const char *two = "GET /one HTTP/1.1\r\n\r\nPOST /two HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc";
    actor_err_t err;
    size_t used = feed(f, two, strlen(two), strlen(two), &err);
    assert_int_equal(err, ACTOR_OK);
    assert_int_equal(used, strlen("GET /one HTTP/1.1\r\n\r\n"));
    assert_string_equal(f->msg.path, "/one");
    size_t rest = feed(f, two + used, strlen(two) - used, 1000, &err);
    assert_int_equal(err, ACTOR_OK);
    assert_int_equal(used + rest, strlen(two));
    assert_string_equal(f->msg.path, "/two");
    assert_string_equal(f->msg.body, "abc");
}

static void test_busy_while_partial(void **state)
{
    fixture_t *f = *state;
    actor_err_t err;
    feed(f, "\r\nGET / HT", 10, 10, &err);
    assert_int_equal(err, ACTOR_OK);
    assert_true(http_request_parser_busy(&f->parser));
    feed(f, "TP/1.1\r\n\r\n", 10, 10, &err);
    assert_false(http_request_parser_busy(&f->parser));
    assert_string_equal(f->msg.path, "/");
}

static void test_targets(void **state)
{
    fixture_t *f = *state;
    parse_ok(f, "GET http://example.com/x%2Fy?a=1 HTTP/1.1\r\n\r\n", 100);
    assert_string_equal(f->msg.path, "/x/y");
    assert_string_equal(http_message_param(&f->msg, "a"), "1");
    parse_ok(f, "GET http://example.com HTTP/1.1\r\n\r\n", 100);
    assert_string_equal(f->msg.path, "/");
    parse_ok(f, "OPTIONS * HTTP/1.1\r\n\r\n", 100);
    assert_string_equal(f->msg.path, "*");
    parse_ok(f, "GET /a?b=c#frag HTTP/1.1\r\n\r\n", 100);
    assert_string_equal(f->msg.path, "/a");
    assert_string_equal(f->msg.query, "b=c");
    parse_ok(f, "GET /slave%281%29/state HTTP/1.1\r\n\r\n", 100);
    assert_string_equal(f->msg.path, "/slave(1)/state");
}

static void test_connect_has_no_path(void **state)
{
    fixture_t *f = *state;
    parse_ok(f, "CONNECT example.com:443 HTTP/1.1\r\n\r\n", 100);
    assert_string_equal(f->msg.method, "CONNECT");
    assert_string_equal(f->msg.path, "");
}

static void test_bad_percent_in_path(void **state)
{
    parse_fails(*state, "GET /a%zz HTTP/1.1\r\n\r\n", ACTOR_EPROTO, 400);
}

static void test_escaped_nul_in_path(void **state)
{
    parse_fails(*state, "GET /a%00b HTTP/1.1\r\n\r\n", ACTOR_EPROTO, 400);
}

static void test_bad_percent_in_query(void **state)
{
    parse_fails(*state, "GET /a?x=%4 HTTP/1.1\r\n\r\n", ACTOR_EPROTO, 400);
}

static void test_malformed_request_line(void **state)
{
    parse_fails(*state, "HELLO\r\n\r\n", ACTOR_EPROTO, 400);
}

static void test_bad_header(void **state)
{
    parse_fails(*state, "GET / HTTP/1.1\r\nNo colon here\r\n\r\n", ACTOR_EPROTO, 400);
}

/* Both framings at once is how requests are smuggled past proxies. */
static void test_length_and_chunked_rejected(void **state)
{
    parse_fails(*state,
                "POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
                ACTOR_EPROTO, 400);
}

static void test_errors_are_sticky(void **state)
{
    fixture_t *f = *state;
    parse_fails(f, "BAD\r\n\r\n", ACTOR_EPROTO, 400);
    size_t consumed = 1;
    bool complete = true;
    assert_int_equal(
        http_request_parser_feed(&f->parser, "GET / HTTP/1.1\r\n\r\n", 18, &consumed, &complete),
        ACTOR_EPROTO);
    assert_int_equal(consumed, 0);
    assert_false(complete);
}

static void test_headers_too_large(void **state)
{
    fixture_t *f = *state;
    char *text = malloc(MAX_HEADER + 100);
    int n = snprintf(text, 64, "GET / HTTP/1.1\r\nX-Big: ");
    memset(text + n, 'a', MAX_HEADER);
    strcpy(text + n + MAX_HEADER, "\r\n\r\n");
    parse_fails(f, text, ACTOR_ETOOBIG, 431);
    free(text);
}

/* http-parser's own cap (80 KiB) answers 431 too when our limit is set above it. */
static void test_headers_over_http_parser_cap(void **state)
{
    fixture_t *f = *state;
    http_request_parser_fini(&f->parser);
    http_request_parser_init(&f->parser, 1 << 20, MAX_BODY);
    size_t big = 100 * 1024;
    char *text = malloc(big + 100);
    int n = snprintf(text, 64, "GET / HTTP/1.1\r\nX-Big: ");
    memset(text + n, 'a', big);
    strcpy(text + n + big, "\r\n\r\n");
    parse_fails(f, text, ACTOR_ETOOBIG, 431);
    free(text);
}

/* An announced body over the limit is refused before any of it arrives. */
static void test_content_length_too_large(void **state)
{
    parse_fails(*state, "POST / HTTP/1.1\r\nContent-Length: 1025\r\n\r\n", ACTOR_ETOOBIG, 413);
}

static void test_chunked_body_too_large(void **state)
{
    fixture_t *f = *state;
    const char *head = "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n";
    actor_err_t err;
    feed(f, head, strlen(head), 100, &err);
    assert_int_equal(err, ACTOR_OK);
    char chunk[600];
    memset(chunk, 'x', sizeof(chunk));
    const char *size_line = "258\r\n"; /* 600 */
    feed(f, size_line, strlen(size_line), 100, &err);
    feed(f, chunk, sizeof(chunk), sizeof(chunk), &err);
    feed(f, "\r\n", 2, 2, &err);
    assert_int_equal(err, ACTOR_OK);
    feed(f, size_line, strlen(size_line), 100, &err);
    feed(f, chunk, sizeof(chunk), sizeof(chunk), &err);
    assert_int_equal(err, ACTOR_ETOOBIG);
    int status = 0;
    const char *reason = NULL;
    http_request_parser_error(&f->parser, &status, &reason);
    assert_int_equal(status, 413);
}

static void test_body_at_limit(void **state)
{
    fixture_t *f = *state;
    char *text = malloc(MAX_BODY + 100);
    int n = snprintf(text, 100, "PUT /x HTTP/1.1\r\nContent-Length: %d\r\n\r\n", MAX_BODY);
    memset(text + n, 'b', MAX_BODY);
    text[n + MAX_BODY] = '\0';
    parse_ok(f, text, 333);
    assert_int_equal(f->msg.body_len, MAX_BODY);
    assert_int_equal(strlen(f->msg.body), MAX_BODY);
    free(text);
}

static void test_keep_alive_rules(void **state)
{
    fixture_t *f = *state;
    parse_ok(f, "GET / HTTP/1.1\r\n\r\n", 100);
    assert_true(f->msg.keep_alive);
    http_request_parser_fini(&f->parser);
    http_request_parser_init(&f->parser, MAX_HEADER, MAX_BODY);
    parse_ok(f, "GET / HTTP/1.1\r\nConnection: close\r\n\r\n", 100);
    assert_false(f->msg.keep_alive);
    http_request_parser_fini(&f->parser);
    http_request_parser_init(&f->parser, MAX_HEADER, MAX_BODY);
    parse_ok(f, "GET / HTTP/1.0\r\n\r\n", 100);
    assert_false(f->msg.keep_alive);
    assert_int_equal(f->msg.http_minor, 0);
    http_request_parser_fini(&f->parser);
    http_request_parser_init(&f->parser, MAX_HEADER, MAX_BODY);
    parse_ok(f, "HEAD / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", 100);
    assert_true(f->msg.keep_alive);
    assert_true(f->msg.is_head);
}

static void test_expect_continue(void **state)
{
    fixture_t *f = *state;
    const char *head = "POST / HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n";
    actor_err_t err;
    feed(f, head, strlen(head), 100, &err);
    assert_int_equal(err, ACTOR_OK);
    assert_true(http_request_parser_take_continue(&f->parser));
    assert_false(http_request_parser_take_continue(&f->parser));
    feed(f, "ok", 2, 2, &err);
    assert_string_equal(f->msg.body, "ok");
}

/* No "100 Continue" once the body has arrived with the headers. */
static void test_expect_continue_body_already_sent(void **state)
{
    fixture_t *f = *state;
    parse_ok(f, "POST / HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nok", 1000);
    assert_false(http_request_parser_take_continue(&f->parser));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_whole_request, setup, teardown),
        cmocka_unit_test_setup_teardown(test_byte_by_byte, setup, teardown),
        cmocka_unit_test_setup_teardown(test_simple_get, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pipelined_requests_one_at_a_time, setup, teardown),
        cmocka_unit_test_setup_teardown(test_busy_while_partial, setup, teardown),
        cmocka_unit_test_setup_teardown(test_targets, setup, teardown),
        cmocka_unit_test_setup_teardown(test_connect_has_no_path, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_percent_in_path, setup, teardown),
        cmocka_unit_test_setup_teardown(test_escaped_nul_in_path, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_percent_in_query, setup, teardown),
        cmocka_unit_test_setup_teardown(test_malformed_request_line, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_header, setup, teardown),
        cmocka_unit_test_setup_teardown(test_length_and_chunked_rejected, setup, teardown),
        cmocka_unit_test_setup_teardown(test_errors_are_sticky, setup, teardown),
        cmocka_unit_test_setup_teardown(test_headers_too_large, setup, teardown),
        cmocka_unit_test_setup_teardown(test_headers_over_http_parser_cap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_content_length_too_large, setup, teardown),
        cmocka_unit_test_setup_teardown(test_chunked_body_too_large, setup, teardown),
        cmocka_unit_test_setup_teardown(test_body_at_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_keep_alive_rules, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expect_continue, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expect_continue_body_already_sent, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
