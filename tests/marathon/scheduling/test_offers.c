/* Tests of offers.c: the processedOffersSummary of /v2/queue. Offers used and declined are
 * counted; a declined offer counts under the first reason of Marathon's funnel; the summary of
 * the last offers keeps one (the latest) per agent; the funnel's `processed` shrinks by what
 * earlier steps declined. Pure computation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "frameworks/marathon/offers.h"
#include "frameworks/marathon/placement.h"

#define NS 1000000000LL

/* Requires the step of reason in a summary list to show declined and processed. */
static void expect_step(json_t *steps, const char *reason, int declined, int processed)
{
    for (size_t k = 0; k < json_array_size(steps); k++) {
        json_t *s = json_array_get(steps, k);
        if (strcmp(json_string_value(json_object_get(s, "reason")), reason) == 0) {
            assert_int_equal(json_integer_value(json_object_get(s, "declined")), declined);
            assert_int_equal(json_integer_value(json_object_get(s, "processed")), processed);
            return;
        }
    }
    fail_msg("no step %s", reason);
}

static void test_first_reason(void **state)
{
    (void)state;
    assert_null(marathon_offer_first_reason(0));
    assert_string_equal(marathon_offer_first_reason(MARATHON_REJECT_PORTS), "InsufficientPorts");
    assert_string_equal(marathon_offer_first_reason(MARATHON_REJECT_PORTS | MARATHON_REJECT_MEMORY),
                        "InsufficientMemory");
    assert_string_equal(marathon_offer_first_reason(MARATHON_REJECT_CPUS | MARATHON_REJECT_MEMORY |
                                                    MARATHON_REJECT_CONSTRAINT),
                        "UnfulfilledConstraint");
    assert_string_equal(marathon_offer_first_reason(MARATHON_REJECT_DISK), "InsufficientDisk");
}

static void test_summary(void **state)
{
    (void)state;
    marathon_offer_stats_t s;
    marathon_offer_stats_init(&s, 1 * NS);
    json_t *j = marathon_offer_stats_json(&s);
    assert_int_equal(json_integer_value(json_object_get(j, "processedOffersCount")), 0);
    assert_null(json_object_get(j, "lastUsedOfferAt"));
    assert_null(json_object_get(j, "lastUnusedOfferAt"));
    assert_int_equal(json_array_size(json_object_get(j, "rejectSummaryLastOffers")),
                     MARATHON_OFFER_REASON_COUNT);
    json_decref(j);

    /* Agent a: no ports, then no memory; agent b: no ports twice; one offer used. */
    assert_int_equal(marathon_offer_stats_unused(&s, "a", MARATHON_REJECT_PORTS, 2 * NS), ACTOR_OK);
    assert_int_equal(marathon_offer_stats_unused(&s, "b", MARATHON_REJECT_PORTS, 3 * NS), ACTOR_OK);
    assert_int_equal(marathon_offer_stats_unused(
                         &s, "a", MARATHON_REJECT_MEMORY | MARATHON_REJECT_PORTS, 4 * NS),
                     ACTOR_OK);
    marathon_offer_stats_used(&s, 5 * NS);
    assert_int_equal(marathon_offer_stats_unused(&s, "b", 0, 6 * NS), ACTOR_OK);
    j = marathon_offer_stats_json(&s);
    assert_int_equal(json_integer_value(json_object_get(j, "processedOffersCount")), 5);
    assert_int_equal(json_integer_value(json_object_get(j, "unusedOffersCount")), 4);
    assert_string_equal(json_string_value(json_object_get(j, "lastUsedOfferAt")),
                        "1970-01-01T00:00:05.000Z");
    assert_string_equal(json_string_value(json_object_get(j, "lastUnusedOfferAt")),
                        "1970-01-01T00:00:06.000Z");
    json_t *attempt = json_object_get(j, "rejectSummaryLaunchAttempt");
    expect_step(attempt, "UnfulfilledRole", 0, 5);
    expect_step(attempt, "InsufficientMemory", 1, 5);
    expect_step(attempt, "InsufficientPorts", 2, 4); /* one went at InsufficientMemory */
    expect_step(attempt, "DeclinedScarceResources", 0, 2);
    /* The last offers: a's (memory) and b's (no reason). */
    json_t *last = json_object_get(j, "rejectSummaryLastOffers");
    expect_step(last, "InsufficientMemory", 1, 2);
    expect_step(last, "InsufficientPorts", 0, 1);
    json_decref(j);
    marathon_offer_stats_fini(&s);
    assert_int_equal(s.last_count, 0);
    marathon_offer_stats_fini(&s); /* twice is harmless */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_first_reason),
        cmocka_unit_test(test_summary),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
