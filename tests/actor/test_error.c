/* Tests of error.h: every error value has its own non-empty name, and a value outside the enum
 * still gets a printable one. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "actor/error.h"

static void test_ok_is_zero_and_named(void **unused)
{
    (void)unused;
    assert_int_equal(ACTOR_OK, 0);
    assert_string_equal(actor_strerror(ACTOR_OK), "OK");
}

static void test_every_value_has_a_distinct_name(void **unused)
{
    (void)unused;
    for (int i = 0; i < ACTOR_ERR_COUNT; i++) {
        const char *name = actor_strerror((actor_err_t)i);
        assert_non_null(name);
        assert_true(name[0] != '\0');
        assert_string_not_equal(name, "Unknown error");
        for (int j = 0; j < i; j++)
            assert_string_not_equal(name, actor_strerror((actor_err_t)j));
    }
}

static void test_out_of_range_is_unknown(void **unused)
{
    (void)unused;
    assert_string_equal(actor_strerror(ACTOR_ERR_COUNT), "Unknown error");
    assert_string_equal(actor_strerror((actor_err_t)(ACTOR_ERR_COUNT + 1)), "Unknown error");
    assert_string_equal(actor_strerror((actor_err_t)1000), "Unknown error");
    assert_string_equal(actor_strerror((actor_err_t)-1), "Unknown error");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ok_is_zero_and_named),
        cmocka_unit_test(test_every_value_has_a_distinct_name),
        cmocka_unit_test(test_out_of_range_is_unknown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
