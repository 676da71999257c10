/* test_metrics.c: the metrics registry (actor/metrics.h): counters and gauges from several
 * threads, pull gauges, timers and their percentiles, names, duplicates, removal, and the
 * /metrics/snapshot JSON and Prometheus text of a known registry. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actor/metrics.h"

#define NS_PER_MS 1000000LL

#define THREADS           8
#define ADDS_PER_THREAD   100000
#define METRICS_PER_CHURN 200

static int setup(void **state)
{
    metrics_registry_t *reg = NULL;
    assert_int_equal(metrics_registry_new(&reg), ACTOR_OK);
    *state = reg;
    return 0;
}

/* Freeing the registry frees whatever a test left in it; ASan reports anything else. */
static int teardown(void **state)
{
    metrics_registry_free(*state);
    return 0;
}

/* The snapshot's value at key, which must be there. */
static double snapshot_get(metrics_registry_t *reg, const char *key)
{
    json_t *snap = NULL;
    assert_int_equal(metrics_snapshot_json(reg, &snap), ACTOR_OK);
    json_t *value = json_object_get(snap, key);
    if (value == NULL)
        fail_msg("no key '%s' in the snapshot", key);
    assert_true(json_is_real(value));
    double result = json_real_value(value);
    json_decref(snap);
    return result;
}

static bool snapshot_has(metrics_registry_t *reg, const char *key)
{
    json_t *snap = NULL;
    assert_int_equal(metrics_snapshot_json(reg, &snap), ACTOR_OK);
    bool has = json_object_get(snap, key) != NULL;
    json_decref(snap);
    return has;
}

static char *prometheus(metrics_registry_t *reg, const char *prefix)
{
    char *text = NULL;
    size_t len = 0;
    assert_int_equal(metrics_prometheus_text(reg, prefix, &text, &len), ACTOR_OK);
    assert_int_equal(len, strlen(text));
    return text;
}

static void test_counter(void **state)
{
    metrics_registry_t *reg = *state;
    metrics_counter_t *c = NULL;
    assert_int_equal(metrics_counter_new(reg, "master/messages_received", NULL, &c), ACTOR_OK);
    assert_int_equal(metrics_counter_value(c), 0);
    metrics_counter_inc(c);
    metrics_counter_add(c, 41);
    assert_int_equal(metrics_counter_value(c), 42);
    assert_true(snapshot_get(reg, "master/messages_received") == 42.0);
    metrics_counter_free(c);
    metrics_counter_free(NULL);
    assert_int_equal(metrics_registry_count(reg), 0);
}

typedef struct hammer {
    metrics_counter_t *counter;
    metrics_gauge_t *gauge;
    metrics_timer_t *timer;
} hammer_t;

static void *hammer_run(void *arg)
{
    hammer_t *h = arg;
    for (int i = 0; i < ADDS_PER_THREAD; i++) {
        metrics_counter_inc(h->counter);
        if (i % 10 == 0) {
            metrics_gauge_add(h->gauge, 1.0);
            metrics_timer_record(h->timer, i);
        }
    }
    return NULL;
}

/* No update is lost when several threads add at once. */
static void test_updates_from_threads(void **state)
{
    metrics_registry_t *reg = *state;
    hammer_t h;
    pthread_t threads[THREADS];
    assert_int_equal(metrics_counter_new(reg, "c", NULL, &h.counter), ACTOR_OK);
    assert_int_equal(metrics_gauge_new(reg, "g", NULL, &h.gauge), ACTOR_OK);
    assert_int_equal(metrics_timer_new(reg, "t", NULL, 0, &h.timer), ACTOR_OK);
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(pthread_create(&threads[i], NULL, hammer_run, &h), 0);
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(pthread_join(threads[i], NULL), 0);
    assert_int_equal(metrics_counter_value(h.counter), THREADS * ADDS_PER_THREAD);
    assert_true(metrics_gauge_value(h.gauge) == THREADS * ADDS_PER_THREAD / 10);
    assert_int_equal(metrics_timer_count(h.timer), THREADS * ADDS_PER_THREAD / 10);
    assert_true(snapshot_get(reg, "t_ms/count") == METRICS_TIMER_WINDOW_DEFAULT);
}

typedef struct churn {
    metrics_registry_t *reg;
    int id;
} churn_t;

/* Creates, updates, renders and frees metrics, racing with the other threads doing the same. */
static void *churn_run(void *arg)
{
    churn_t *c = arg;
    metrics_counter_t *counters[METRICS_PER_CHURN];
    char key[64];
    for (int i = 0; i < METRICS_PER_CHURN; i++) {
        snprintf(key, sizeof(key), "churn/%d/%d", c->id, i);
        assert_int_equal(metrics_counter_new(c->reg, key, NULL, &counters[i]), ACTOR_OK);
        metrics_counter_inc(counters[i]);
    }
    json_t *snap = NULL;
    char *text = NULL;
    size_t len;
    assert_int_equal(metrics_snapshot_json(c->reg, &snap), ACTOR_OK);
    assert_int_equal(metrics_prometheus_text(c->reg, "mesos", &text, &len), ACTOR_OK);
    json_decref(snap);
    free(text);
    for (int i = 0; i < METRICS_PER_CHURN; i++)
        metrics_counter_free(counters[i]);
    return NULL;
}

static void test_create_remove_from_threads(void **state)
{
    metrics_registry_t *reg = *state;
    pthread_t threads[THREADS];
    churn_t churns[THREADS];
    for (int i = 0; i < THREADS; i++) {
        churns[i] = (churn_t){.reg = reg, .id = i};
        assert_int_equal(pthread_create(&threads[i], NULL, churn_run, &churns[i]), 0);
    }
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(pthread_join(threads[i], NULL), 0);
    assert_int_equal(metrics_registry_count(reg), 0);
}

static void test_gauge(void **state)
{
    metrics_registry_t *reg = *state;
    metrics_gauge_t *g = NULL;
    assert_int_equal(metrics_gauge_new(reg, "master/cpus_total", NULL, &g), ACTOR_OK);
    assert_true(metrics_gauge_value(g) == 0.0);
    metrics_gauge_set(g, 4.5);
    assert_true(metrics_gauge_value(g) == 4.5);
    metrics_gauge_add(g, -1.25);
    assert_true(metrics_gauge_value(g) == 3.25);
    assert_true(snapshot_get(reg, "master/cpus_total") == 3.25);
    /* JSON has no NaN: the gauge is left out. */
    metrics_gauge_set(g, NAN);
    assert_false(snapshot_has(reg, "master/cpus_total"));
    metrics_gauge_free(g);
}

typedef struct pulled {
    double value;
    int calls;
    bool fail;
} pulled_t;

static actor_err_t pull(void *arg, double *value)
{
    pulled_t *p = arg;
    p->calls++;
    if (p->fail)
        return ACTOR_EBUSY;
    *value = p->value;
    return ACTOR_OK;
}

static void test_pull_gauge(void **state)
{
    metrics_registry_t *reg = *state;
    pulled_t p = {.value = 0.75};
    metrics_gauge_t *g = NULL;
    assert_int_equal(metrics_gauge_pull_new(reg, "system/load_1min", "Load average", pull, &p, &g),
                     ACTOR_OK);
    assert_int_equal(p.calls, 0); /* evaluated at render time only */
    assert_true(snapshot_get(reg, "system/load_1min") == 0.75);
    assert_int_equal(p.calls, 1);
    p.value = 1.5;
    assert_true(snapshot_get(reg, "system/load_1min") == 1.5);
    assert_true(isnan(metrics_gauge_value(g)));

    char *text = prometheus(reg, "mesos");
    assert_string_equal(text, "# HELP mesos_system_load_1min Load average\n"
                              "# TYPE mesos_system_load_1min gauge\n"
                              "mesos_system_load_1min 1.5\n");
    free(text);

    /* A failing callback leaves the gauge out of both renderings. */
    p.fail = true;
    assert_false(snapshot_has(reg, "system/load_1min"));
    text = prometheus(reg, "mesos");
    assert_string_equal(text, "");
    free(text);

    metrics_gauge_t *none = NULL;
    assert_int_equal(metrics_gauge_pull_new(reg, "x", NULL, NULL, NULL, &none), ACTOR_EINVAL);
    assert_null(none);
    metrics_gauge_free(g);
}

/* 1..100 ms: the percentiles libprocess's linear interpolation gives on these samples. */
static void test_timer_percentiles(void **state)
{
    static const struct {
        const char *key;
        double ms;
    } expected[] = {
        {"allocator/mesos/allocation_run_ms", 100},
        {"allocator/mesos/allocation_run_ms/count", 100},
        {"allocator/mesos/allocation_run_ms/min", 1},
        {"allocator/mesos/allocation_run_ms/max", 100},
        {"allocator/mesos/allocation_run_ms/p50", 50.5},
        {"allocator/mesos/allocation_run_ms/p90", 90.1},
        {"allocator/mesos/allocation_run_ms/p95", 95.05},
        {"allocator/mesos/allocation_run_ms/p99", 99.01},
        {"allocator/mesos/allocation_run_ms/p999", 99.901},
        {"allocator/mesos/allocation_run_ms/p9999", 99.9901},
    };
    metrics_registry_t *reg = *state;
    metrics_timer_t *t = NULL;
    assert_int_equal(metrics_timer_new(reg, "allocator/mesos/allocation_run", NULL, 100, &t),
                     ACTOR_OK);
    metrics_timer_record(t, -5); /* counts as 0, then leaves the window of 100 */
    for (int i = 1; i <= 50; i++)
        metrics_timer_record(t, i * NS_PER_MS);
    for (int i = 99; i >= 51; i--) /* out of order: the statistics sort */
        metrics_timer_record(t, i * NS_PER_MS);
    metrics_timer_record(t, 100 * NS_PER_MS); /* the last */
    for (size_t i = 0; i < sizeof(expected) / sizeof(expected[0]); i++) {
        double got = snapshot_get(reg, expected[i].key);
        if (fabs(got - expected[i].ms) > 1e-9)
            fail_msg("%s: %.17g, expected %.17g", expected[i].key, got, expected[i].ms);
    }
    assert_int_equal(metrics_timer_count(t), 101);
    metrics_timer_free(t);
}

static void test_timer_window_and_few_samples(void **state)
{
    metrics_registry_t *reg = *state;
    metrics_timer_t *t = NULL;
    assert_int_equal(metrics_timer_new(reg, "registrar/state_store", NULL, 4, &t), ACTOR_OK);
    /* No sample: no key at all. */
    assert_false(snapshot_has(reg, "registrar/state_store_ms"));
    /* One sample: the last value, but statistics need two (libprocess). */
    metrics_timer_record(t, 3 * NS_PER_MS);
    assert_true(snapshot_get(reg, "registrar/state_store_ms") == 3.0);
    assert_false(snapshot_has(reg, "registrar/state_store_ms/count"));
    /* The window keeps the last four. */
    for (int i = 1; i <= 10; i++)
        metrics_timer_record(t, i * NS_PER_MS);
    assert_true(snapshot_get(reg, "registrar/state_store_ms/count") == 4.0);
    assert_true(snapshot_get(reg, "registrar/state_store_ms/min") == 7.0);
    assert_true(snapshot_get(reg, "registrar/state_store_ms/max") == 10.0);
    assert_true(snapshot_get(reg, "registrar/state_store_ms/p50") == 8.5);
    assert_int_equal(metrics_timer_count(t), 11);
    metrics_timer_free(t);
}

static void test_names_and_duplicates(void **state)
{
    metrics_registry_t *reg = *state;
    metrics_counter_t *c = NULL, *c2 = NULL;
    metrics_gauge_t *g = NULL;
    metrics_timer_t *t = NULL, *t2 = NULL;
    assert_int_equal(metrics_counter_new(reg, "master/tasks_lost", NULL, &c), ACTOR_OK);
    assert_int_equal(metrics_counter_new(reg, "master/tasks_lost", NULL, &c2), ACTOR_EEXIST);
    assert_int_equal(metrics_gauge_new(reg, "master/tasks_lost", NULL, &g), ACTOR_EEXIST);
    assert_int_equal(metrics_counter_new(reg, "", NULL, &c2), ACTOR_EINVAL);
    assert_int_equal(metrics_counter_new(reg, NULL, NULL, &c2), ACTOR_EINVAL);
    /* A timer's key carries its unit. */
    assert_int_equal(metrics_timer_new(reg, "master/run", NULL, 0, &t), ACTOR_OK);
    assert_int_equal(metrics_gauge_new(reg, "master/run_ms", NULL, &g), ACTOR_EEXIST);
    assert_int_equal(metrics_timer_new(reg, "master/run", NULL, 0, &t2), ACTOR_EEXIST);
    assert_int_equal(metrics_gauge_new(reg, "master/run", NULL, &g), ACTOR_OK);
    assert_null(c2);
    assert_null(t2);
    assert_int_equal(metrics_registry_count(reg), 3);
    /* The same key in another registry is another metric. */
    metrics_registry_t *other = NULL;
    assert_int_equal(metrics_registry_new(&other), ACTOR_OK);
    assert_int_equal(metrics_counter_new(other, "master/tasks_lost", NULL, &c2), ACTOR_OK);
    metrics_counter_inc(c2);
    assert_int_equal(metrics_counter_value(c), 0);
    metrics_registry_free(other);
    metrics_counter_free(c);
    metrics_gauge_free(g);
    metrics_timer_free(t);
}

static void test_removal(void **state)
{
    metrics_registry_t *reg = *state;
    metrics_counter_t *c = NULL;
    metrics_gauge_t *g = NULL;
    metrics_timer_t *t = NULL;
    assert_int_equal(metrics_counter_new(reg, "a", NULL, &c), ACTOR_OK);
    assert_int_equal(metrics_gauge_new(reg, "b", "help", &g), ACTOR_OK);
    assert_int_equal(metrics_timer_new(reg, "c", NULL, 0, &t), ACTOR_OK);
    metrics_timer_record(t, 1);
    assert_int_equal(metrics_registry_count(reg), 3);

    assert_int_equal(metrics_registry_remove(reg, "nope"), ACTOR_ENOENT);
    assert_int_equal(metrics_registry_remove(reg, "c"), ACTOR_ENOENT); /* it is c_ms */
    assert_int_equal(metrics_registry_remove(reg, "c_ms"), ACTOR_OK);
    assert_int_equal(metrics_registry_remove(reg, "c_ms"), ACTOR_ENOENT);
    assert_int_equal(metrics_registry_remove(reg, "b"), ACTOR_OK);
    assert_int_equal(metrics_registry_count(reg), 1);
    assert_false(snapshot_has(reg, "b"));
    /* The key is free again. */
    assert_int_equal(metrics_gauge_new(reg, "b", NULL, &g), ACTOR_OK);
    metrics_gauge_free(g);
    metrics_counter_free(c);
    assert_int_equal(metrics_registry_count(reg), 0);
    /* Metrics still in a registry are freed with it (teardown; ASan checks). */
    assert_int_equal(metrics_counter_new(reg, "left/behind", NULL, &c), ACTOR_OK);
}

/* A registry with one metric of each kind, as the rendering tests use it. */
static void known_registry(metrics_registry_t *reg, pulled_t *p)
{
    metrics_counter_t *c = NULL;
    metrics_gauge_t *g = NULL;
    metrics_timer_t *t = NULL;
    assert_int_equal(metrics_counter_new(reg, "master/messages_received",
                                         "Messages received\\n by the master", &c),
                     ACTOR_OK);
    metrics_counter_add(c, 7);
    assert_int_equal(metrics_counter_new(reg, "master/http_requests_total", NULL, &c), ACTOR_OK);
    metrics_counter_add(c, 3);
    assert_int_equal(metrics_gauge_new(reg, "master/tasks_running", NULL, &g), ACTOR_OK);
    metrics_gauge_set(g, 2);
    assert_int_equal(metrics_gauge_new(reg, "slave/cpus-total", "CPUs\nof the agent", &g),
                     ACTOR_OK);
    metrics_gauge_set(g, 0.5);
    assert_int_equal(metrics_gauge_pull_new(reg, "system/load_1min", NULL, pull, p, &g), ACTOR_OK);
    assert_int_equal(metrics_timer_new(reg, "allocator/allocation_run", "Allocation time", 0, &t),
                     ACTOR_OK);
    metrics_timer_record(t, 2 * NS_PER_MS);
    metrics_timer_record(t, 4 * NS_PER_MS);
    metrics_timer_record(t, 1500000);
    assert_int_equal(metrics_timer_new(reg, "registrar/idle", NULL, 0, &t), ACTOR_OK);
}

static void test_snapshot_json(void **state)
{
    metrics_registry_t *reg = *state;
    pulled_t p = {.value = 0.25};
    known_registry(reg, &p);
    json_t *snap = NULL;
    assert_int_equal(metrics_snapshot_json(reg, &snap), ACTOR_OK);
    char *text = json_dumps(snap, JSON_COMPACT); /* insertion order: must already be sorted */
    assert_string_equal(text, "{"
                              "\"allocator/allocation_run_ms\":1.5,"
                              "\"allocator/allocation_run_ms/count\":3.0,"
                              "\"allocator/allocation_run_ms/max\":4.0,"
                              "\"allocator/allocation_run_ms/min\":1.5,"
                              "\"allocator/allocation_run_ms/p50\":2.0,"
                              "\"allocator/allocation_run_ms/p90\":3.6000000000000001,"
                              "\"allocator/allocation_run_ms/p95\":3.7999999999999998,"
                              "\"allocator/allocation_run_ms/p99\":3.96,"
                              "\"allocator/allocation_run_ms/p999\":3.996,"
                              "\"allocator/allocation_run_ms/p9999\":3.9996,"
                              "\"master/http_requests_total\":3.0,"
                              "\"master/messages_received\":7.0,"
                              "\"master/tasks_running\":2.0,"
                              "\"slave/cpus-total\":0.5,"
                              "\"system/load_1min\":0.25"
                              "}");
    free(text);
    json_decref(snap);
}

static void test_prometheus_text(void **state)
{
    metrics_registry_t *reg = *state;
    pulled_t p = {.value = 0.25};
    known_registry(reg, &p);
    char *text = prometheus(reg, "mesos");
    assert_string_equal(text,
                        "# HELP mesos_allocator_allocation_run_seconds Allocation time\n"
                        "# TYPE mesos_allocator_allocation_run_seconds summary\n"
                        "mesos_allocator_allocation_run_seconds{quantile=\"0.5\"} 0.002\n"
                        "mesos_allocator_allocation_run_seconds{quantile=\"0.9\"} 0.0036\n"
                        "mesos_allocator_allocation_run_seconds{quantile=\"0.95\"} 0.0038\n"
                        "mesos_allocator_allocation_run_seconds{quantile=\"0.99\"} 0.00396\n"
                        "mesos_allocator_allocation_run_seconds{quantile=\"0.999\"} 0.003996\n"
                        "mesos_allocator_allocation_run_seconds{quantile=\"0.9999\"} 0.0039996\n"
                        "mesos_allocator_allocation_run_seconds_sum 0.0075\n"
                        "mesos_allocator_allocation_run_seconds_count 3\n"
                        "# HELP mesos_master_http_requests_total master/http_requests_total\n"
                        "# TYPE mesos_master_http_requests_total counter\n"
                        "mesos_master_http_requests_total 3\n"
                        "# HELP mesos_master_messages_received_total Messages received\\\\n by "
                        "the master\n"
                        "# TYPE mesos_master_messages_received_total counter\n"
                        "mesos_master_messages_received_total 7\n"
                        "# HELP mesos_master_tasks_running master/tasks_running\n"
                        "# TYPE mesos_master_tasks_running gauge\n"
                        "mesos_master_tasks_running 2\n"
                        "# HELP mesos_registrar_idle_seconds registrar/idle_ms\n"
                        "# TYPE mesos_registrar_idle_seconds summary\n"
                        "mesos_registrar_idle_seconds{quantile=\"0.5\"} NaN\n"
                        "mesos_registrar_idle_seconds{quantile=\"0.9\"} NaN\n"
                        "mesos_registrar_idle_seconds{quantile=\"0.95\"} NaN\n"
                        "mesos_registrar_idle_seconds{quantile=\"0.99\"} NaN\n"
                        "mesos_registrar_idle_seconds{quantile=\"0.999\"} NaN\n"
                        "mesos_registrar_idle_seconds{quantile=\"0.9999\"} NaN\n"
                        "mesos_registrar_idle_seconds_sum 0\n"
                        "mesos_registrar_idle_seconds_count 0\n"
                        "# HELP mesos_slave_cpus CPUs\\nof the agent\n"
                        "# TYPE mesos_slave_cpus gauge\n"
                        "mesos_slave_cpus 0.5\n"
                        "# HELP mesos_system_load_1min system/load_1min\n"
                        "# TYPE mesos_system_load_1min gauge\n"
                        "mesos_system_load_1min 0.25\n");
    free(text);
}

static void test_prometheus_names(void **state)
{
    metrics_registry_t *reg = *state;
    metrics_gauge_t *g = NULL;
    metrics_counter_t *c = NULL;
    assert_int_equal(metrics_gauge_new(reg, "1st/value", NULL, &g), ACTOR_OK);
    metrics_gauge_set(g, -INFINITY);
    assert_int_equal(metrics_gauge_new(reg, "a.b:c d", NULL, &g), ACTOR_OK);
    metrics_gauge_set(g, 1e21);
    /* Prometheus keeps _total for counters: a gauge drops it, a counter gets it once. */
    assert_int_equal(metrics_gauge_new(reg, "master/cpus_total", NULL, &g), ACTOR_OK);
    assert_int_equal(metrics_counter_new(reg, "master/x-total", NULL, &c), ACTOR_OK);
    assert_int_equal(metrics_counter_new(reg, "master/subtotal", NULL, &c), ACTOR_OK);
    char *text = prometheus(reg, NULL);
    assert_string_equal(text, "# HELP _1st_value 1st/value\n"
                              "# TYPE _1st_value gauge\n"
                              "_1st_value -Inf\n"
                              "# HELP a_b_c_d a.b:c d\n"
                              "# TYPE a_b_c_d gauge\n"
                              "a_b_c_d 1e+21\n"
                              "# HELP master_cpus master/cpus_total\n"
                              "# TYPE master_cpus gauge\n"
                              "master_cpus 0\n"
                              "# HELP master_subtotal_total master/subtotal\n"
                              "# TYPE master_subtotal_total counter\n"
                              "master_subtotal_total 0\n"
                              "# HELP master_x_total master/x-total\n"
                              "# TYPE master_x_total counter\n"
                              "master_x_total 0\n");
    free(text);
    text = prometheus(reg, "my-app");
    assert_non_null(strstr(text, "\nmy_app_1st_value -Inf\n"));
    assert_non_null(strstr(text, "\nmy_app_master_cpus 0\n"));
    free(text);
}

static void test_default_registry(void **state)
{
    (void)state;
    metrics_registry_t *reg = metrics_registry_default();
    assert_non_null(reg);
    assert_ptr_equal(reg, metrics_registry_default());
    metrics_counter_t *c = NULL;
    assert_int_equal(metrics_counter_new(reg, "system/test_counter", NULL, &c), ACTOR_OK);
    metrics_counter_inc(c);
    assert_true(snapshot_get(reg, "system/test_counter") == 1.0);
    metrics_counter_free(c);
    /* Freeing the default registry empties it and leaves it usable. */
    assert_int_equal(metrics_counter_new(reg, "system/left", NULL, &c), ACTOR_OK);
    metrics_registry_free(reg);
    assert_int_equal(metrics_registry_count(reg), 0);
    assert_int_equal(metrics_counter_new(reg, "system/left", NULL, &c), ACTOR_OK);
    metrics_counter_free(c);
}

static void test_empty_registry(void **state)
{
    metrics_registry_t *reg = *state;
    json_t *snap = NULL;
    assert_int_equal(metrics_snapshot_json(reg, &snap), ACTOR_OK);
    assert_int_equal(json_object_size(snap), 0);
    json_decref(snap);
    char *text = prometheus(reg, "mesos");
    assert_string_equal(text, "");
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_counter, setup, teardown),
        cmocka_unit_test_setup_teardown(test_updates_from_threads, setup, teardown),
        cmocka_unit_test_setup_teardown(test_create_remove_from_threads, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gauge, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pull_gauge, setup, teardown),
        cmocka_unit_test_setup_teardown(test_timer_percentiles, setup, teardown),
        cmocka_unit_test_setup_teardown(test_timer_window_and_few_samples, setup, teardown),
        cmocka_unit_test_setup_teardown(test_names_and_duplicates, setup, teardown),
        cmocka_unit_test_setup_teardown(test_removal, setup, teardown),
        cmocka_unit_test_setup_teardown(test_snapshot_json, setup, teardown),
        cmocka_unit_test_setup_teardown(test_prometheus_text, setup, teardown),
        cmocka_unit_test_setup_teardown(test_prometheus_names, setup, teardown),
        cmocka_unit_test(test_default_registry),
        cmocka_unit_test_setup_teardown(test_empty_registry, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
