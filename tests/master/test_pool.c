/* The bump allocator of the v1 API's answers (master/pool.c): alignment and zeroing, blocks
 * larger than the default, strings, and deferred clean-ups run newest first by pool_fini. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "master/pool.h"

static void test_alloc_aligned_zeroed(void **state)
{
    (void)state;
    pool_t pool;
    pool_init(&pool);
    for (size_t size = 0; size < 3000; size += 7) {
        unsigned char *p = pool_alloc(&pool, size);
        assert_non_null(p);
        assert_int_equal((uintptr_t)p % _Alignof(max_align_t), 0);
        for (size_t i = 0; i < size; i++)
            assert_int_equal(p[i], 0);
        memset(p, 0xab, size);
    }
    /* Larger than a block: a block of its own, and the current block stays in use. */
    char *before = pool_alloc(&pool, 8);
    char *big = pool_alloc(&pool, 100 * 1024);
    char *after = pool_alloc(&pool, 8);
    assert_non_null(big);
    assert_int_equal(big[100 * 1024 - 1], 0);
    assert_ptr_equal(after, before + _Alignof(max_align_t) *
                                         ((8 + _Alignof(max_align_t) - 1) / _Alignof(max_align_t)));
    assert_false(pool.failed);
    assert_null(pool_alloc(&pool, SIZE_MAX));
    assert_true(pool.failed);
    pool_fini(&pool);
    assert_null(pool.blocks);
    assert_false(pool.failed);
}

static void test_strdup(void **state)
{
    (void)state;
    pool_t pool;
    pool_init(&pool);
    char *s = pool_strdup(&pool, "framework-0001");
    assert_string_equal(s, "framework-0001");
    assert_null(pool_strdup(&pool, NULL));
    pool_fini(&pool);
}

static int order[4];
static int ran;

static void record(void *arg)
{
    order[ran++] = (int)(intptr_t)arg;
}

static void test_defer_runs_newest_first(void **state)
{
    (void)state;
    pool_t pool;
    pool_init(&pool);
    ran = 0;
    for (intptr_t i = 1; i <= 3; i++)
        assert_int_equal(pool_defer(&pool, record, (void *)i), ACTOR_OK);
    assert_int_equal(ran, 0);
    pool_fini(&pool);
    assert_int_equal(ran, 3);
    assert_int_equal(order[0], 3);
    assert_int_equal(order[2], 1);
    /* The pool is reusable after fini. */
    assert_non_null(pool_alloc(&pool, 16));
    pool_fini(&pool);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_alloc_aligned_zeroed),
        cmocka_unit_test(test_strdup),
        cmocka_unit_test(test_defer_runs_newest_first),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
