/* Tests of mpsc.h: FIFO order for one producer, nothing lost or duplicated with several. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>
#include <stdlib.h>

#include <cmocka.h>

#include "actor/mpsc.h"

typedef struct item {
    mpsc_node_t node;
    int producer;
    int seq;
} item_t;

static void test_fifo(void **unused)
{
    (void)unused;
    mpsc_t q;
    mpsc_init(&q);
    assert_null(mpsc_pop(&q));
    assert_false(mpsc_maybe_nonempty(&q));
    item_t items[10];
    for (int i = 0; i < 10; i++) {
        items[i].seq = i;
        mpsc_push(&q, &items[i].node);
    }
    assert_true(mpsc_maybe_nonempty(&q));
    for (int i = 0; i < 10; i++) {
        item_t *it = (item_t *)mpsc_pop(&q);
        assert_non_null(it);
        assert_int_equal(it->seq, i);
    }
    assert_null(mpsc_pop(&q));
    assert_false(mpsc_maybe_nonempty(&q));
}

#define PRODUCERS    3
#define PER_PRODUCER 200000

typedef struct producer_arg {
    mpsc_t *q;
    item_t *items;
    int id;
} producer_arg_t;

static void *produce(void *arg)
{
    producer_arg_t *p = arg;
    for (int i = 0; i < PER_PRODUCER; i++) {
        p->items[i].producer = p->id;
        p->items[i].seq = i;
        mpsc_push(p->q, &p->items[i].node);
    }
    return NULL;
}

static void test_concurrent_producers(void **unused)
{
    (void)unused;
    mpsc_t q;
    mpsc_init(&q);
    pthread_t threads[PRODUCERS];
    producer_arg_t args[PRODUCERS];
    for (int i = 0; i < PRODUCERS; i++) {
        args[i] = (producer_arg_t){&q, calloc(PER_PRODUCER, sizeof(item_t)), i};
        pthread_create(&threads[i], NULL, produce, &args[i]);
    }
    int next[PRODUCERS] = {0};
    int received = 0;
    while (received < PRODUCERS * PER_PRODUCER) {
        item_t *it = (item_t *)mpsc_pop(&q);
        if (it == NULL)
            continue;
        assert_int_equal(it->seq, next[it->producer]); /* per-producer order kept */
        next[it->producer]++;
        received++;
    }
    for (int i = 0; i < PRODUCERS; i++) {
        pthread_join(threads[i], NULL);
        free(args[i].items);
    }
    assert_null(mpsc_pop(&q));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fifo),
        cmocka_unit_test(test_concurrent_producers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
