/* Tests of io.h without the rest of the runtime: calls run on the I/O thread, in call order, each
 * exactly once when many threads call at once; a call made from the I/O thread runs after the
 * current one; stopping runs what is queued; a call after stop is refused and never runs; the
 * loop starts again after a stop; a synchronous call has run when it returns; a call in caller
 * storage (actor_io_post) runs like any other and can be posted again once it ran. Waits are
 * bounded (a condition variable with a deadline). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "actor/io.h"

#define THREADS       4
#define CALLS_PER     5000
#define ORDERED_CALLS 1000
#define MAX_CALLS     (THREADS * CALLS_PER)

/* What the calls saw, written on the I/O thread under lock. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static struct {
    int count;            /* calls run */
    int on_loop_thread;   /* calls that found actor_io_is_loop_thread() true */
    int order[MAX_CALLS]; /* args in the order the calls ran */
    int runs[MAX_CALLS];  /* times the call with each arg ran */
    int last[THREADS];    /* last sequence number run per calling thread, -1 for none */
    int out_of_order;     /* calls that ran before an earlier call of the same thread */
} seen;

static int setup(void **unused)
{
    (void)unused;
    memset(&seen, 0, sizeof(seen));
    for (int t = 0; t < THREADS; t++)
        seen.last[t] = -1;
    return actor_io_start(true) == ACTOR_OK ? 0 : -1;
}

static int teardown(void **unused)
{
    (void)unused;
    actor_io_stop();
    return actor_io_loop() == NULL ? 0 : -1; /* the loop is gone */
}

/* Waits up to 10 s for `target` calls to have run; returns how many did. Once it returns target,
 * `seen` may be read without the lock: no call is left to write it. */
static int wait_count(int target)
{
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += 10;
    pthread_mutex_lock(&lock);
    while (seen.count < target && pthread_cond_timedwait(&cv, &lock, &deadline) == 0)
        ;
    int count = seen.count;
    pthread_mutex_unlock(&lock);
    return count;
}

/* arg is a call number: thread * CALLS_PER + sequence. */
static void record(void *arg)
{
    int n = (int)(intptr_t)arg;
    int t = n / CALLS_PER, k = n % CALLS_PER;
    pthread_mutex_lock(&lock);
    if (actor_io_is_loop_thread())
        seen.on_loop_thread++;
    seen.order[seen.count++] = n;
    seen.runs[n]++;
    if (k <= seen.last[t])
        seen.out_of_order++;
    seen.last[t] = k;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&lock);
}

static void *ask_from_thread(void *unused)
{
    (void)unused;
    return actor_io_is_loop_thread() ? (void *)1 : NULL;
}

static void test_calls_run_on_loop_thread(void **unused)
{
    (void)unused;
    assert_non_null(actor_io_loop());
    assert_false(actor_io_is_loop_thread());
    pthread_t t;
    void *answer;
    assert_int_equal(pthread_create(&t, NULL, ask_from_thread, NULL), 0);
    assert_int_equal(pthread_join(t, &answer), 0);
    assert_null(answer);

    assert_int_equal(actor_io_call(record, (void *)0), ACTOR_OK);
    assert_int_equal(wait_count(1), 1);
    assert_int_equal(seen.on_loop_thread, 1);
}

static void test_calls_run_in_call_order(void **unused)
{
    (void)unused;
    for (int i = 0; i < ORDERED_CALLS; i++)
        assert_int_equal(actor_io_call(record, (void *)(intptr_t)i), ACTOR_OK);
    assert_int_equal(wait_count(ORDERED_CALLS), ORDERED_CALLS);
    for (int i = 0; i < ORDERED_CALLS; i++)
        assert_int_equal(seen.order[i], i);
    assert_int_equal(seen.on_loop_thread, ORDERED_CALLS);
}

/* Queues CALLS_PER calls numbered from its thread's base; returns how many were refused. */
static void *call_many(void *base)
{
    intptr_t refused = 0;
    for (int k = 0; k < CALLS_PER; k++) {
        if (actor_io_call(record, (void *)((intptr_t)base + k)) != ACTOR_OK)
            refused++;
    }
    return (void *)refused;
}

static void test_calls_from_many_threads(void **unused)
{
    (void)unused;
    pthread_t threads[THREADS];
    for (int t = 0; t < THREADS; t++)
        assert_int_equal(
            pthread_create(&threads[t], NULL, call_many, (void *)(intptr_t)(t * CALLS_PER)), 0);
    for (int t = 0; t < THREADS; t++) {
        void *refused;
        assert_int_equal(pthread_join(threads[t], &refused), 0);
        assert_null(refused);
    }
    assert_int_equal(wait_count(MAX_CALLS), MAX_CALLS);
    for (int n = 0; n < MAX_CALLS; n++)
        assert_int_equal(seen.runs[n], 1);
    assert_int_equal(seen.out_of_order, 0);
    assert_int_equal(seen.on_loop_thread, MAX_CALLS);
}

/* A call queued from the I/O thread runs after the call that queued it, not inside it. */
static void record_inner(void *unused)
{
    (void)unused;
    record((void *)2);
}

static void record_outer(void *unused)
{
    (void)unused;
    record((void *)0);
    if (actor_io_call(record_inner, NULL) != ACTOR_OK)
        return; /* the count never reaches 3: the test fails */
    record((void *)1);
}

static void test_call_from_loop_thread_runs_later(void **unused)
{
    (void)unused;
    assert_int_equal(actor_io_call(record_outer, NULL), ACTOR_OK);
    assert_int_equal(wait_count(3), 3);
    assert_int_equal(seen.order[0], 0);
    assert_int_equal(seen.order[1], 1);
    assert_int_equal(seen.order[2], 2);
}

static void test_stop_runs_queued_calls(void **unused)
{
    (void)unused;
    for (int i = 0; i < ORDERED_CALLS; i++)
        assert_int_equal(actor_io_call(record, (void *)(intptr_t)i), ACTOR_OK);
    actor_io_stop(); /* joins the thread: every accepted call has run by now */
    assert_null(actor_io_loop());
    assert_int_equal(seen.count, ORDERED_CALLS);
    for (int i = 0; i < ORDERED_CALLS; i++)
        assert_int_equal(seen.order[i], i);
}

static void test_call_after_stop_is_refused(void **unused)
{
    (void)unused;
    actor_io_stop();
    assert_int_equal(actor_io_call(record, (void *)0), ACTOR_ECLOSED);
    actor_io_stop(); /* a second stop is harmless */
    assert_int_equal(actor_io_call(record, (void *)0), ACTOR_ECLOSED);
    assert_int_equal(seen.count, 0); /* the thread is joined: nothing can run them later */
}

static void test_sync_call_has_run_on_return(void **unused)
{
    (void)unused;
    assert_int_equal(actor_io_call_sync(record, (void *)0), ACTOR_OK);
    assert_int_equal(seen.count, 1); /* no wait: it ran before the call returned */
    assert_int_equal(seen.on_loop_thread, 1);
    actor_io_stop();
    assert_int_equal(actor_io_call_sync(record, (void *)1), ACTOR_ECLOSED);
    assert_int_equal(seen.count, 1);
}

static void test_posted_node_runs_and_is_reusable(void **unused)
{
    (void)unused;
    actor_io_node_t node = {.fn = record, .arg = (void *)0};
    for (int i = 0; i < 3; i++) {
        assert_int_equal(actor_io_post(&node), ACTOR_OK);
        assert_int_equal(wait_count(i + 1), i + 1); /* ran: the node is ours again */
    }
    assert_int_equal(seen.runs[0], 3);
    assert_int_equal(seen.on_loop_thread, 3);
    actor_io_stop();
    assert_int_equal(actor_io_post(&node), ACTOR_ECLOSED);
}

static void test_start_again_after_stop(void **unused)
{
    (void)unused;
    actor_io_stop();
    assert_int_equal(actor_io_start(true), ACTOR_OK);
    assert_int_equal(actor_io_call(record, (void *)0), ACTOR_OK);
    assert_int_equal(wait_count(1), 1);
    assert_int_equal(seen.on_loop_thread, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_calls_run_on_loop_thread, setup, teardown),
        cmocka_unit_test_setup_teardown(test_calls_run_in_call_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_calls_from_many_threads, setup, teardown),
        cmocka_unit_test_setup_teardown(test_call_from_loop_thread_runs_later, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stop_runs_queued_calls, setup, teardown),
        cmocka_unit_test_setup_teardown(test_call_after_stop_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_start_again_after_stop, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sync_call_has_run_on_return, setup, teardown),
        cmocka_unit_test_setup_teardown(test_posted_node_runs_and_is_reusable, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
