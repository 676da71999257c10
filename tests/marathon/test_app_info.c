/* Tests of app_info.c: which embeds a query asks for (prefixes, repeats, percent-encoding, the
 * defaults of the list and of one app), the task counts, the taskStats groups with their life
 * times (average and upper median), and timestamps read back. Pure computation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "frameworks/marathon/app_info.h"

#define LIST_DEFAULT (MARATHON_EMBED_COUNTS | MARATHON_EMBED_DEPLOYMENTS)
#define ONE_DEFAULT  (LIST_DEFAULT | MARATHON_EMBED_TASKS | MARATHON_EMBED_LAST_TASK_FAILURE)

static void test_embed_parse(void **state)
{
    (void)state;
    assert_int_equal(marathon_embed_parse(NULL, false), LIST_DEFAULT);
    assert_int_equal(marathon_embed_parse("", true), ONE_DEFAULT);
    assert_int_equal(marathon_embed_parse("embed=apps.tasks", false),
                     LIST_DEFAULT | MARATHON_EMBED_TASKS);
    assert_int_equal(
        marathon_embed_parse("id=x&embed=apps.taskStats&embed=app.lastTaskFailure", false),
        LIST_DEFAULT | MARATHON_EMBED_TASK_STATS | MARATHON_EMBED_LAST_TASK_FAILURE);
    assert_int_equal(marathon_embed_parse("embed=readiness&embed=apps%2EtaskStats", false),
                     LIST_DEFAULT | MARATHON_EMBED_READINESS | MARATHON_EMBED_TASK_STATS);
    assert_int_equal(marathon_embed_parse("embed=apps.failures", false),
                     LIST_DEFAULT | MARATHON_EMBED_TASKS | MARATHON_EMBED_LAST_TASK_FAILURE);
    /* Unknown, empty and look-alike parameters change nothing. */
    assert_int_equal(
        marathon_embed_parse("embed=apps.nothing&embed=&xembed=apps.tasks&embed", false),
        LIST_DEFAULT);
    assert_int_equal(marathon_embed_parse("embed=%zz&embed=%4", false), LIST_DEFAULT);
}

static marathon_task_stat_t task(const char *staged_at, const char *version, bool running,
                                 double life)
{
    return (marathon_task_stat_t){.staged_at = staged_at,
                                  .version = version,
                                  .staging = !running,
                                  .running = running,
                                  .has_life_time = life >= 0,
                                  .life_time = life >= 0 ? life : 0};
}

static void test_counts(void **state)
{
    (void)state;
    marathon_task_stat_t t[4] = {
        task("2020-01-01T00:00:00.000Z", "v", true, 10),
        task("2020-01-01T00:00:00.000Z", "v", false, -1),
        task("2020-01-01T00:00:00.000Z", "v", true, 5),
        task("2020-01-01T00:00:00.000Z", "v", false, -1),
    };
    t[0].healthy = true;
    t[2].unhealthy = true;
    t[3].staging = false; /* TASK_STARTING: neither staged nor running */
    marathon_task_counts_t c;
    marathon_task_counts(t, 4, &c);
    assert_int_equal(c.staged, 1);
    assert_int_equal(c.running, 2);
    assert_int_equal(c.healthy, 1);
    assert_int_equal(c.unhealthy, 1);
    marathon_task_counts(NULL, 0, &c);
    assert_int_equal(c.staged + c.running + c.healthy + c.unhealthy, 0);
}

static double number(json_t *j, const char *a, const char *b, const char *c, const char *d)
{
    return json_number_value(
        json_object_get(json_object_get(json_object_get(json_object_get(j, a), b), c), d));
}

static void test_task_stats(void **state)
{
    (void)state;
    marathon_app_t app = {.last_scaling_at = "2020-01-03T00:00:00.000Z",
                          .last_config_change_at = "2020-01-02T00:00:00.000Z"};
    marathon_task_stat_t t[] = {
        task("2020-01-01T00:00:00.000Z", "2020-01-01T00:00:00.000Z", true, 30), /* outdated */
        task("2020-01-02T10:00:00.000Z", "2020-01-02T00:00:00.000Z", true, 20), /* latest */
        task("2020-01-03T00:00:00.000Z", "2020-01-02T00:00:00.000Z", true, 1),  /* after scale */
        task("2020-01-03T01:00:00.000Z", "2020-01-02T00:00:00.000Z", false, -1),
    };
    json_t *j = marathon_task_stats_json(&app, t, 4);
    assert_non_null(j);
    assert_true(number(j, "totalSummary", "stats", "counts", "running") == 3);
    assert_true(number(j, "totalSummary", "stats", "counts", "staged") == 1);
    assert_true(number(j, "totalSummary", "stats", "lifeTime", "averageSeconds") == 17);
    assert_true(number(j, "totalSummary", "stats", "lifeTime", "medianSeconds") == 20);
    assert_true(number(j, "withOutdatedConfig", "stats", "counts", "running") == 1);
    assert_true(number(j, "withLatestConfig", "stats", "counts", "running") == 2);
    assert_true(number(j, "withLatestConfig", "stats", "counts", "staged") == 1);
    /* Upper median of {1, 20}. */
    assert_true(number(j, "withLatestConfig", "stats", "lifeTime", "medianSeconds") == 20);
    assert_true(number(j, "startedAfterLastScaling", "stats", "counts", "running") == 1);
    assert_true(number(j, "startedAfterLastScaling", "stats", "counts", "staged") == 1);
    json_decref(j);

    /* Only tasks that never started: no lifeTime; a group without tasks is left out. */
    j = marathon_task_stats_json(&app, &t[3], 1);
    assert_null(
        json_object_get(json_object_get(json_object_get(j, "totalSummary"), "stats"), "lifeTime"));
    assert_null(json_object_get(j, "withOutdatedConfig"));
    json_decref(j);
    j = marathon_task_stats_json(&app, NULL, 0);
    assert_int_equal(json_object_size(j), 0);
    json_decref(j);

    /* Without versionInfo only the total shows. */
    marathon_app_t bare = {0};
    j = marathon_task_stats_json(&bare, t, 4);
    assert_int_equal(json_object_size(j), 1);
    assert_non_null(json_object_get(j, "totalSummary"));
    json_decref(j);
}

static void test_timestamp_parse(void **state)
{
    (void)state;
    int64_t ns = 0;
    char text[32];
    marathon_timestamp(1700000000123000000LL, text, sizeof(text));
    assert_int_equal(marathon_timestamp_parse(text, &ns), ACTOR_OK);
    assert_true(ns == 1700000000123000000LL);
    assert_int_equal(marathon_timestamp_parse("1970-01-01T00:00:01Z", &ns), ACTOR_OK);
    assert_true(ns == 1000000000LL);
    assert_int_equal(marathon_timestamp_parse("1970-01-01T00:00:00.5Z", &ns), ACTOR_OK);
    assert_true(ns == 500000000LL);
    static const char *const bad[] = {"",
                                      "2020",
                                      "2020-01-01T00:00:00",
                                      "2020-01-01T00:00:00.Z",
                                      "2020-01-01T00:00:00.000+01:00",
                                      "2020-01-01T00:00:00.000Zx"};
    for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++)
        assert_int_equal(marathon_timestamp_parse(bad[k], &ns), ACTOR_EINVAL);
    assert_int_equal(marathon_timestamp_parse(NULL, &ns), ACTOR_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_embed_parse),
        cmocka_unit_test(test_counts),
        cmocka_unit_test(test_task_stats),
        cmocka_unit_test(test_timestamp_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
