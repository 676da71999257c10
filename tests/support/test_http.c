/* Tests of http.c and web.c: an actor's endpoints on a free port (web.c), asked through the
 * client: status and body as text and JSON, the method and body sent, a body that is not JSON,
 * no answer at all (status 0), and a poll that ends when the JSON satisfies its condition. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "actor/http.h"
#include "tests/support/http.h"
#include "tests/support/ports.h"
#include "tests/support/web.h"

typedef struct counter {
    int hits; /* requests of /count so far */
} counter_t;

static void on_echo(actor_t *self, void *state, actor_http_request_t *req)
{
    (void)self, (void)state;
    size_t len = 0;
    const char *body = actor_http_body(req, &len);
    json_t *answer = json_pack("{s:s, s:s%}", "method", actor_http_method(req), "body", body, len);
    actor_http_respond_json(req, 201, answer);
}

static void on_text(actor_t *self, void *state, actor_http_request_t *req)
{
    (void)self, (void)state;
    actor_http_respond(req, 200, "text/plain", NULL, 0, "not json", 8);
}

static void on_count(actor_t *self, void *state, actor_http_request_t *req)
{
    (void)self;
    counter_t *c = state;
    actor_http_respond_json(req, 200, json_pack("{s:i}", "hits", ++c->hits));
}

static const actor_http_route_t routes[] = {
    {"/echo", NULL, on_echo},
    {"/text", "GET", on_text},
    {"/count", "GET", on_count},
};

static void web_init(actor_t *self, void *state, void *arg)
{
    (void)state, (void)arg;
    actor_http_install(self, routes, sizeof(routes) / sizeof(routes[0]));
}

static const actor_ops_t web_ops = {
    .name = "web", .state_size = sizeof(counter_t), .init = web_init};

static void test_json_and_text(void **state)
{
    support_web_t *fx = *state;
    long status = 0;
    json_t *j = support_http_json("PUT", fx->port, "/echo", "{\"a\": 1}", &status);
    assert_int_equal(status, 201);
    assert_string_equal(json_string_value(json_object_get(j, "method")), "PUT");
    assert_string_equal(json_string_value(json_object_get(j, "body")), "{\"a\": 1}");
    json_decref(j);
    char *text = support_http_text("GET", fx->port, "/text", NULL, &status);
    assert_int_equal(status, 200);
    assert_string_equal(text, "not json");
    free(text);
    assert_null(support_http_json("GET", fx->port, "/text", NULL, &status));
    assert_int_equal(status, 200);
    /* No such route: the runtime's 404. */
    json_decref(support_http_json("GET", fx->port, "/missing", NULL, &status));
    assert_int_equal(status, 404);
}

static void test_no_answer(void **state)
{
    (void)state;
    long status = -1;
    uint16_t nobody = support_port_free();
    assert_null(support_http_text("GET", nobody, "/", NULL, &status));
    assert_int_equal(status, 0);
}

static bool hits_reach(json_t *json, void *arg)
{
    return json_integer_value(json_object_get(json, "hits")) >= *(int *)arg;
}

static void test_poll(void **state)
{
    support_web_t *fx = *state;
    int want = 3;
    assert_true(support_http_poll(fx->port, "/count", hits_reach, &want, 10000));
    want = 1000000;
    assert_false(support_http_poll(fx->port, "/count", hits_reach, &want, 120));
    assert_false(support_http_poll(fx->port, "/text", hits_reach, &want, 0)); /* not JSON */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_prestate_setup_teardown(test_json_and_text, support_web_setup,
                                                 support_web_teardown, (void *)&web_ops),
        cmocka_unit_test(test_no_answer),
        cmocka_unit_test_prestate_setup_teardown(test_poll, support_web_setup, support_web_teardown,
                                                 (void *)&web_ops),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
