/* Tests of pid.h: parsing, printing, equality. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "actor/pid.h"

static void test_round_trip(void **unused)
{
    (void)unused;
    actor_pid_t pid;
    char buf[ACTOR_PID_STRLEN];
    assert_int_equal(actor_pid_parse("slave(1)@10.0.0.2:15051", &pid), ACTOR_OK);
    assert_string_equal(pid.id, "slave(1)");
    assert_int_equal(pid.ip, 0x0a000002);
    assert_int_equal(pid.port, 15051);
    assert_int_equal(pid.slot, 0);
    assert_string_equal(actor_pid_format(&pid, buf, sizeof(buf)), "slave(1)@10.0.0.2:15051");
}

static void test_invalid(void **unused)
{
    (void)unused;
    static const char *const bad[] = {
        "",          "master",   "@1.2.3.4:5",   "m@1.2.3.4",     "m@1.2.3.4:",   "m@1.2.3.4:65536",
        "m@1.2.3:5", "m@host:5", "m@1.2.3.4:5x", "m m@1.2.3.4:5", "m@1.2.3.4:-1", "m@1.2.3.4:+5",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        actor_pid_t pid;
        assert_int_equal(actor_pid_parse(bad[i], &pid), ACTOR_EINVAL);
    }
    char long_id[ACTOR_ID_MAX + 20];
    memset(long_id, 'a', ACTOR_ID_MAX);
    strcpy(long_id + ACTOR_ID_MAX, "@1.2.3.4:5");
    actor_pid_t pid;
    assert_int_equal(actor_pid_parse(long_id, &pid), ACTOR_EINVAL);
    assert_int_equal(actor_pid_make(&pid, "a@b", 1, 2), ACTOR_EINVAL);
}

static void test_equality_ignores_hints(void **unused)
{
    (void)unused;
    actor_pid_t a, b;
    assert_int_equal(actor_pid_make(&a, "master", 0x7f000001, 15050), ACTOR_OK);
    assert_int_equal(actor_pid_parse("master@127.0.0.1:15050", &b), ACTOR_OK);
    a.slot = 4;
    a.gen = 9;
    assert_true(actor_pid_equal(&a, &b));
    b.port = 15051;
    assert_false(actor_pid_equal(&a, &b));
    assert_false(actor_pid_is_none(&a));
    actor_pid_t none = {0};
    assert_true(actor_pid_is_none(&none));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_invalid),
        cmocka_unit_test(test_equality_ignores_hints),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
