/* Tests of envelope.c: small and large envelopes, the per-worker cache and its depot, across
 * threads as senders and receivers use it (one allocates, the other frees). Run under ASan, the
 * absence of leaks and double frees is part of the check. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "actor/actor_int.h"

static void test_sizes_and_fields(void **unused)
{
    (void)unused;
    envelope_t *small = envelope_new(ENVELOPE_MESSAGE, 16, 8);
    envelope_t *large = envelope_new(ENVELOPE_MESSAGE, 100000, 0);
    assert_non_null(small);
    assert_non_null(large);
    assert_true(small->block);
    assert_false(large->block);
    assert_int_equal(small->len, 16);
    assert_int_equal(small->gen, 0);
    assert_null(small->fn);
    assert_string_equal(small->from.id, "");
    memset(small->data, 0xab, 24); /* the payload and extra fit */
    memset(large->data, 0xcd, 100000);
    envelope_free(small);
    envelope_free(large);
}

static void test_cache_reuses_blocks_on_a_worker(void **unused)
{
    (void)unused;
    envelope_cache_enable();
    envelope_t *a = envelope_new(ENVELOPE_CALL, 0, 0);
    envelope_free(a);
    envelope_t *b = envelope_new(ENVELOPE_CALL, 0, 0);
    assert_ptr_equal(a, b); /* straight back from this thread's magazine */
    envelope_free(b);
    /* More than a magazine's worth goes through the depot and comes back. */
    enum { N = 1000 };
    envelope_t *many[N];
    for (int i = 0; i < N; i++)
        many[i] = envelope_new(ENVELOPE_MESSAGE, 32, 0);
    for (int i = 0; i < N; i++)
        envelope_free(many[i]);
    for (int i = 0; i < N; i++)
        many[i] = envelope_new(ENVELOPE_MESSAGE, 32, 0);
    for (int i = 0; i < N; i++)
        envelope_free(many[i]);
    envelope_cache_flush();
    envelope_cache_release();
}

/* A "sender" thread allocates, a "receiver" thread frees, both caching, as two workers do. */
#define HANDOFF 200000

typedef struct handoff {
    pthread_mutex_t lock;
    pthread_cond_t cv;
    envelope_t *slot[256];
    int head, tail;   /* ring of envelopes in flight */
    int out_of_order; /* counted by the receiver: cmocka asserts belong to the test's thread */
} handoff_t;

static void *sender(void *arg)
{
    handoff_t *h = arg;
    envelope_cache_enable();
    for (int i = 0; i < HANDOFF; i++) {
        envelope_t *e = envelope_new(ENVELOPE_MESSAGE, 8, 0);
        memcpy(e->data, &i, sizeof(i));
        pthread_mutex_lock(&h->lock);
        while (h->head - h->tail == 256)
            pthread_cond_wait(&h->cv, &h->lock);
        h->slot[h->head++ % 256] = e;
        pthread_cond_broadcast(&h->cv);
        pthread_mutex_unlock(&h->lock);
    }
    envelope_cache_flush();
    return NULL;
}

static void *receiver(void *arg)
{
    handoff_t *h = arg;
    envelope_cache_enable();
    for (int i = 0; i < HANDOFF; i++) {
        pthread_mutex_lock(&h->lock);
        while (h->head == h->tail)
            pthread_cond_wait(&h->cv, &h->lock);
        envelope_t *e = h->slot[h->tail++ % 256];
        pthread_cond_broadcast(&h->cv);
        pthread_mutex_unlock(&h->lock);
        int seen;
        memcpy(&seen, e->data, sizeof(seen));
        if (seen != i)
            h->out_of_order++;
        envelope_free(e);
    }
    envelope_cache_flush();
    return NULL;
}

static void test_cross_thread_handoff(void **unused)
{
    (void)unused;
    handoff_t h = {.lock = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};
    pthread_t s, r;
    pthread_create(&s, NULL, sender, &h);
    pthread_create(&r, NULL, receiver, &h);
    pthread_join(s, NULL);
    pthread_join(r, NULL);
    assert_int_equal(h.out_of_order, 0);
    envelope_cache_release();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sizes_and_fields),
        cmocka_unit_test(test_cache_reuses_blocks_on_a_worker),
        cmocka_unit_test(test_cross_thread_handoff),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
