/* Marathon's revives under --min_revive_offers_interval (launch.c's revive_timer), in an
 * in-process cluster (support.h) with the clock paused: a message filter on the scheduler calls
 * records each REVIVE, SUPPRESS and DECLINE Marathon's driver sends, with the paused clock's time
 * of each REVIVE. A need while offers are suppressed revives at once; needs within the interval
 * after that revive, while offers are declined with a filter, are held back, and exactly one
 * REVIVE goes out when the interval ends, none before it, none after once nothing is wanted. A
 * need after the interval revives at once. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "actor/filter.h"
#include "tests/marathon/server/support.h"

#define CALLS_MAX 64
#define INTERVAL  5.0 /* --min_revive_offers_interval's default, which mcluster_new keeps */

typedef struct calls {
    int64_t revive_at[CALLS_MAX]; /* actor_clock_wall() when each REVIVE was sent */
    size_t revives;
    size_t suppresses;
    size_t declines;
} calls_t;

static calls_t calls;

/* Runs on the sending thread (the test's: the runtime has no workers). */
static actor_filter_verdict_t record_calls(const actor_filter_event_t *ev, void *arg)
{
    (void)arg;
    Mesos__Scheduler__Call *call = mcluster_filter_call(ev);
    if (call == NULL)
        return ACTOR_FILTER_PASS;
    if (call->type == MESOS__SCHEDULER__CALL__TYPE__REVIVE && calls.revives < CALLS_MAX)
        calls.revive_at[calls.revives++] = actor_clock_wall();
    if (call->type == MESOS__SCHEDULER__CALL__TYPE__SUPPRESS)
        calls.suppresses++;
    if (call->type == MESOS__SCHEDULER__CALL__TYPE__DECLINE)
        calls.declines++;
    mesos__scheduler__call__free_unpacked(call, NULL);
    return ACTOR_FILTER_PASS;
}

static int setup(void **state)
{
    memset(&calls, 0, sizeof(calls));
    mcluster_setup(state);
    mcluster_run(2); /* the first offers: nothing wanted, offers suppressed */
    actor_filter_install(record_calls, NULL);
    return 0;
}

static void create_small(mcluster_t *c, const char *id)
{
    char json[256];
    snprintf(json, sizeof(json), "{\"id\":\"%s\",\"cmd\":\"sleep 100000\",\"cpus\":0.1,\"mem\":16}",
             id);
    mcluster_create_app(c, json);
}

static double since(int64_t t0)
{
    return (double)(actor_clock_wall() - t0) / (double)ACTOR_NS_PER_SEC;
}

static void test_revive_held_back_until_interval_ends(void **state)
{
    mcluster_t *c = *state;
    assert_int_equal(calls.declines, 0);
    /* Suppressed, nothing revived yet: a need revives at once. This app fits no agent, so the
     * offer that comes is declined with a filter (offers are away again) while it still wants. */
    mcluster_create_app(c,
                        "{\"id\":\"/nowhere\",\"cmd\":\"sleep 100000\",\"cpus\":0.1,"
                        "\"mem\":16,\"constraints\":[[\"hostname\",\"CLUSTER\",\"none.test\"]]}");
    assert_int_equal(calls.revives, 1);
    assert_int_equal(calls.declines, 1); /* the offer the revive brought */
    int64_t t0 = calls.revive_at[0];
    mcluster_run(2);
    assert_int_equal(calls.revives, 1);

    /* Two more needs within the interval: held back, not sent, not lost. */
    create_small(c, "/second");
    assert_int_equal(calls.revives, 1);
    cluster_advance(0.5);
    create_small(c, "/third");
    assert_int_equal(calls.revives, 1);
    while (since(t0) + 0.25 < INTERVAL) {
        cluster_advance(0.25);
        assert_int_equal(calls.revives, 1);
    }
    cluster_advance(0.25); /* the interval ends within this step */
    assert_int_equal(calls.revives, 2);
    double at = (double)(calls.revive_at[1] - t0) / (double)ACTOR_NS_PER_SEC;
    assert_true(at >= INTERVAL && at < INTERVAL + 0.01);

    /* The one revive brings the offer both launch from. */
    mcluster_run(2);
    assert_int_equal(mcluster_app_count(c, "second", "tasksRunning"), 1);
    assert_int_equal(mcluster_app_count(c, "third", "tasksRunning"), 1);
    /* Without the app that wants forever, no revive is held back any more: none goes out. */
    int status = 0;
    json_decref(mcluster_api(c, "DELETE", "/v2/apps/nowhere", NULL, &status));
    assert_int_equal(status, 200);
    mcluster_run(20);
    assert_int_equal(calls.revives, 2);
}

/* A need after the interval has passed revives at once: nothing is held back needlessly. */
static void test_revive_after_interval_is_immediate(void **state)
{
    mcluster_t *c = *state;
    create_small(c, "/first");
    assert_int_equal(calls.revives, 1);
    int64_t t0 = calls.revive_at[0];
    mcluster_run(7); /* launched and suppressed; the interval is over */
    assert_true(since(t0) > INTERVAL);
    assert_int_equal(calls.revives, 1);
    create_small(c, "/second");
    assert_int_equal(calls.revives, 2);
    assert_true(calls.revive_at[1] == actor_clock_wall());
    mcluster_run(3);
    assert_int_equal(mcluster_app_count(c, "second", "tasksRunning"), 1);
    assert_int_equal(calls.revives, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_revive_held_back_until_interval_ends, setup,
                                        mcluster_teardown),
        cmocka_unit_test_setup_teardown(test_revive_after_interval_is_immediate, setup,
                                        mcluster_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
