/* Tests of backoff.c: the delay after n failures in a row (Marathon's defaults and others, the
 * cap), and the per-app state: deadlines from the last failure, growth, expiry after
 * maxLaunchDelaySeconds without failures, reset by a new configuration but not by a scale. Times
 * are plain nanosecond numbers: no clock is involved. */
#include <math.h>

#include "tests/marathon/scheduling/support.h"

#include "frameworks/marathon/backoff.h"

#define SEC INT64_C(1000000000)

static void test_delay_values(void **state)
{
    (void)state;
    static const struct {
        double backoff, factor, max;
        uint32_t failures;
        double want;
    } cases[] = {
        {1, 1.15, 300, 0, 0},
        {1, 1.15, 300, 1, 1},
        {1, 1.15, 300, 2, 1.15},
        {1, 1.15, 300, 3, 1.3225},
        {1, 1.15, 300, 10, 3.517876},   /* 1.15^9 */
        {1, 1.15, 300, 41, 267.863546}, /* 1.15^40, truncated to ns */
        {1, 1.15, 300, 42, 300},        /* capped */
        {1, 1.15, 300, 4000000000u, 300},
        {2, 2, 3600, 5, 32},
        {2, 2, 20, 5, 20},
        {500, 1.15, 300, 1, 300},    /* the first delay is capped too */
        {0, 1.15, 300, 7, 0},        /* no backoff at all */
        {3, 1, 300, 4000000000u, 3}, /* a factor of 1 keeps it */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        double got = marathon_backoff_delay(cases[i].backoff, cases[i].factor, cases[i].max,
                                            cases[i].failures);
        if (fabs(got - cases[i].want) > 1e-4)
            fail_msg("case %zu: %.9f, want %.9f", i, got, cases[i].want);
    }
}

static void test_failures_and_deadline(void **state)
{
    (void)state;
    test_app_t t;
    test_app_init(&t, "/b");
    marathon_backoff_t b;
    marathon_backoff_init(&b);
    assert_int_equal(marathon_backoff_deadline(&b, &t.app), 0);

    int64_t now = 1000 * SEC;
    marathon_backoff_failure(&b, &t.app, now);
    assert_int_equal(marathon_backoff_deadline(&b, &t.app), now + SEC);
    assert_true(fabs(marathon_backoff_time_left(&b, &t.app, now + SEC / 2) - 0.5) < 1e-9);
    assert_true(marathon_backoff_time_left(&b, &t.app, now + 2 * SEC) == 0);

    /* The next failure multiplies, counted from that failure. */
    now += 10 * SEC;
    marathon_backoff_failure(&b, &t.app, now);
    assert_int_equal(marathon_backoff_deadline(&b, &t.app), now + 1150000000);
    now += 10 * SEC;
    marathon_backoff_failure(&b, &t.app, now);
    assert_int_equal(marathon_backoff_deadline(&b, &t.app), now + 1322500000);

    /* A scale keeps the configuration: the delay stays. */
    t.app.instances = 10;
    t.app.version = t.app.last_scaling_at = (char *)"2026-01-02T04:00:00.000Z";
    assert_int_equal(marathon_backoff_deadline(&b, &t.app), now + 1322500000);
    marathon_backoff_failure(&b, &t.app, now);
    assert_int_equal(marathon_backoff_deadline(&b, &t.app), now + 1520875000);

    /* A new configuration (update or restart) starts over. */
    t.app.last_config_change_at = (char *)"2026-01-02T05:00:00.000Z";
    assert_int_equal(marathon_backoff_deadline(&b, &t.app), 0);
    marathon_backoff_failure(&b, &t.app, now);
    assert_int_equal(marathon_backoff_deadline(&b, &t.app), now + SEC);

    marathon_backoff_reset(&b);
    assert_int_equal(marathon_backoff_deadline(&b, &t.app), 0);
}

static void test_expiry(void **state)
{
    (void)state;
    test_app_t t;
    test_app_init(&t, "/x");
    t.app.max_launch_delay_seconds = 60;
    marathon_backoff_t b;
    marathon_backoff_init(&b);
    assert_false(marathon_backoff_expire(&b, 0));
    int64_t now = 5 * SEC;
    for (int i = 0; i < 3; i++)
        marathon_backoff_failure(&b, &t.app, now);
    /* Not before maxLaunchDelaySeconds have passed since the last failure. */
    assert_false(marathon_backoff_expire(&b, now + 60 * SEC));
    assert_true(marathon_backoff_deadline(&b, &t.app) > now);
    assert_true(marathon_backoff_expire(&b, now + 60 * SEC + 1));
    assert_int_equal(marathon_backoff_deadline(&b, &t.app), 0);
    /* The next failure starts from backoffSeconds again. */
    marathon_backoff_failure(&b, &t.app, now + 100 * SEC);
    assert_int_equal(marathon_backoff_deadline(&b, &t.app), now + 101 * SEC);
}

/* The state follows the formula failure after failure, up to the cap. */
static void test_state_matches_formula(void **state)
{
    (void)state;
    test_app_t t;
    test_app_init(&t, "/f");
    t.app.backoff_seconds = 2;
    t.app.backoff_factor = 1.7;
    t.app.max_launch_delay_seconds = 100;
    marathon_backoff_t b;
    marathon_backoff_init(&b);
    for (uint32_t n = 1; n <= 20; n++) {
        marathon_backoff_failure(&b, &t.app, 0);
        double want = marathon_backoff_delay(2, 1.7, 100, n);
        assert_true(fabs((double)marathon_backoff_deadline(&b, &t.app) / 1e9 - want) < 1e-9);
        assert_true(want <= 100);
    }
    assert_true(fabs(marathon_backoff_time_left(&b, &t.app, 0) - 100) < 1e-9);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_delay_values),
        cmocka_unit_test(test_failures_and_deadline),
        cmocka_unit_test(test_expiry),
        cmocka_unit_test(test_state_matches_formula),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
