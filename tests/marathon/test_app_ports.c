/* Tests of app_ports.c: service ports for port definitions posted as 0, as Marathon assigns them:
 * the lowest free ports of the range, other apps' ports skipped, an app keeping its ports when
 * they are posted as 0 again, given ports kept, and a range that is used up. Pure computation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "frameworks/marathon/app.h"

static marathon_app_t *app_with_ports(const char *ports)
{
    char text[256];
    snprintf(text, sizeof(text), "{\"id\": \"x\", \"cmd\": \"c\", \"portDefinitions\": %s}", ports);
    json_t *json = json_loads(text, 0, NULL);
    assert_non_null(json);
    marathon_app_t *app = NULL;
    json_t *details = NULL;
    assert_int_equal(marathon_app_from_json(json, NULL, NULL, &app, &details), ACTOR_OK);
    json_decref(json);
    return app;
}

static uint32_t port(const marathon_app_t *app, size_t k)
{
    return app->port_definitions[k].port;
}

/* Assigns app's ports in [min, max] with nothing else used and requires the ports want (n of
 * them); frees app. */
static void expect_assigned(marathon_app_t *app, const marathon_app_t *before, uint32_t min,
                            uint32_t max, const uint32_t *want, size_t n)
{
    assert_int_equal(marathon_app_assign_service_ports(app, before, NULL, 0, min, max), ACTOR_OK);
    assert_int_equal(app->port_definition_count, n);
    for (size_t k = 0; k < n; k++)
        assert_int_equal(port(app, k), want[k]);
    marathon_app_free(app);
}

static void test_lowest_free_ports(void **state)
{
    (void)state;
    marathon_app_t *app = app_with_ports("[{\"port\": 0}, {\"port\": 0}, {\"port\": 10001}]");
    const uint32_t used[] = {10003, 0, 10000};
    assert_int_equal(marathon_app_assign_service_ports(app, NULL, used, 3, 10000, 20000), ACTOR_OK);
    /* 10000 is another app's, 10001 the app's own, 10003 another's. */
    assert_int_equal(port(app, 0), 10002);
    assert_int_equal(port(app, 1), 10004);
    assert_int_equal(port(app, 2), 10001);
    marathon_app_free(app);

    /* The implied default port definition gets one too. */
    json_t *json = json_loads("{\"id\": \"y\", \"cmd\": \"c\"}", 0, NULL);
    json_t *details = NULL;
    assert_int_equal(marathon_app_from_json(json, NULL, NULL, &app, &details), ACTOR_OK);
    json_decref(json);
    assert_int_equal(marathon_app_assign_service_ports(app, NULL, NULL, 0, 10000, 20000), ACTOR_OK);
    assert_int_equal(port(app, 0), 10000);
    marathon_app_free(app);
}

static void test_keeps_ports_across_updates(void **state)
{
    (void)state;
    marathon_app_t *before = app_with_ports("[{\"port\": 10005}, {\"port\": 10007}]");
    expect_assigned(app_with_ports("[{\"port\": 0}, {\"port\": 0}, {\"port\": 0}]"), before, 10000,
                    20000, (const uint32_t[]){10005, 10007, 10000}, 3);
    /* A port the new definition names itself is not handed out again; ports of before outside
     * the range are not reused. */
    expect_assigned(app_with_ports("[{\"port\": 10007}, {\"port\": 0}]"), before, 10000, 20000,
                    (const uint32_t[]){10007, 10005}, 2);
    expect_assigned(app_with_ports("[{\"port\": 0}]"), before, 11000, 11010,
                    (const uint32_t[]){11000}, 1);
    marathon_app_free(before);
}

static void test_range_used_up(void **state)
{
    (void)state;
    marathon_app_t *app = app_with_ports("[{\"port\": 0}, {\"port\": 0}]");
    const uint32_t used[] = {5000, 5002};
    assert_int_equal(marathon_app_assign_service_ports(app, NULL, used, 2, 5000, 5002),
                     ACTOR_EADDRINUSE);
    assert_int_equal(port(app, 0), 0); /* unchanged */
    assert_int_equal(port(app, 1), 0);
    /* The range is inclusive: with 5003 there is room. */
    assert_int_equal(marathon_app_assign_service_ports(app, NULL, used, 2, 5000, 5003), ACTOR_OK);
    assert_int_equal(port(app, 0), 5001);
    assert_int_equal(port(app, 1), 5003);
    marathon_app_free(app);

    /* The top of the port space does not wrap around. */
    expect_assigned(app_with_ports("[{\"port\": 0}, {\"port\": 0}]"), NULL, UINT32_MAX - 1,
                    UINT32_MAX, (const uint32_t[]){UINT32_MAX - 1, UINT32_MAX}, 2);
    expect_assigned(app_with_ports("[]"), NULL, 1, 0, NULL, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lowest_free_ports),
        cmocka_unit_test(test_keeps_ports_across_updates),
        cmocka_unit_test(test_range_used_up),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
