/* Tests of wait.c: a wait ends as soon as its condition holds, and at its deadline when it never
 * does. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "tests/support/wait.h"

static bool after_three_calls(void *arg)
{
    int *calls = arg;
    return ++*calls >= 3;
}

static bool never(void *arg)
{
    int *calls = arg;
    ++*calls;
    return false;
}

static void test_until_true(void **state)
{
    (void)state;
    int calls = 0;
    int64_t start = support_now_ms();
    assert_true(support_wait_until(after_three_calls, &calls, 10000, 1));
    assert_int_equal(calls, 3);
    assert_true(support_now_ms() - start < 5000);
}

static void test_deadline(void **state)
{
    (void)state;
    int calls = 0;
    int64_t start = support_now_ms();
    assert_false(support_wait_until(never, &calls, 100, 10));
    int64_t took = support_now_ms() - start;
    assert_true(took >= 100);
    assert_true(calls >= 2);
    calls = 0;
    assert_false(support_wait_until(never, &calls, 0, 10)); /* runs once even without time */
    assert_int_equal(calls, 1);
}

static void test_sleep(void **state)
{
    (void)state;
    int64_t start = support_now_ms();
    support_sleep_ms(30);
    assert_true(support_now_ms() - start >= 30);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_until_true),
        cmocka_unit_test(test_deadline),
        cmocka_unit_test(test_sleep),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
