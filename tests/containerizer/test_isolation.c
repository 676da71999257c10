/* Tests of isolation.h: the --isolation flag, table-driven (Mesos's names, aliases, defaults,
 * duplicates, unknown and unsupported isolators). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "slave/containerizer/isolation.h"

typedef struct parse_case {
    const char *value;
    actor_err_t rc;
    bool posix_cpu, posix_mem, cgroups_cpu, cgroups_mem;
    const char *message; /* a substring of the error message */
} parse_case_t;

static const parse_case_t cases[] = {
    {NULL, ACTOR_OK, true, true, false, false, NULL},
    {"", ACTOR_OK, false, false, false, false, NULL},
    {",,", ACTOR_OK, false, false, false, false, NULL},
    {"posix/cpu", ACTOR_OK, true, false, false, false, NULL},
    {"posix/mem", ACTOR_OK, false, true, false, false, NULL},
    {"posix/cpu,posix/mem", ACTOR_OK, true, true, false, false, NULL},
    {"cgroups/cpu,cgroups/mem", ACTOR_OK, false, false, true, true, NULL},
    {"cgroups/mem", ACTOR_OK, false, false, false, true, NULL},
    {"cgroups/cpu,cgroups/mem,filesystem/posix", ACTOR_OK, false, false, true, true, NULL},
    {"filesystem/posix", ACTOR_OK, false, false, false, false, NULL},
    {",posix/cpu,,cgroups/mem,", ACTOR_OK, true, false, false, true, NULL},
    {"process", ACTOR_OK, true, true, false, false, NULL},
    {"cgroups", ACTOR_OK, false, false, true, true, NULL},
    {"cgroups/all", ACTOR_OK, false, false, true, true, NULL},
    {"posix/cpu,cgroups/mem", ACTOR_OK, true, false, false, true, NULL},
    {"posix/cpu,posix/cpu", ACTOR_EINVAL, 0, 0, 0, 0,
     "Duplicate entries found in --isolation flag 'posix/cpu,posix/cpu'"},
    {"cgroups/mem,,cgroups/mem", ACTOR_EINVAL, 0, 0, 0, 0, "Duplicate entries"},
    {"posix/gpu", ACTOR_EINVAL, 0, 0, 0, 0, "Unknown or unsupported isolator 'posix/gpu'"},
    {"posix/cpu,namespaces/pid", ACTOR_EINVAL, 0, 0, 0, 0,
     "Unknown or unsupported isolator 'namespaces/pid' (supported: posix/cpu"},
    {"filesystem/linux", ACTOR_EINVAL, 0, 0, 0, 0, "'filesystem/linux'"},
    {"posix/cpu ", ACTOR_EINVAL, 0, 0, 0, 0, "'posix/cpu '"},
    {"POSIX/CPU", ACTOR_EINVAL, 0, 0, 0, 0, "'POSIX/CPU'"},
    {"cgroups/cpu;cgroups/mem", ACTOR_EINVAL, 0, 0, 0, 0, "'cgroups/cpu;cgroups/mem'"},
    {"cgroups/a-very-long-isolator-name-that-is-longer-than-any-known-name-by-far", ACTOR_EINVAL, 0,
     0, 0, 0, "'cgroups/a-very-long-isolator-name-that-is-longer-than-any-known-name-by-far'"},
};

static void test_parse_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const parse_case_t *c = &cases[i];
        isolation_t iso;
        memset(&iso, 0xff, sizeof(iso));
        char err[256] = "";
        actor_err_t rc = isolation_parse(c->value, &iso, err, sizeof(err));
        print_message("case %zu: '%s' -> %d %s\n", i, c->value ? c->value : "(null)", rc, err);
        assert_int_equal(rc, c->rc);
        assert_int_equal(iso.posix_cpu, c->posix_cpu);
        assert_int_equal(iso.posix_mem, c->posix_mem);
        assert_int_equal(iso.cgroups_cpu, c->cgroups_cpu);
        assert_int_equal(iso.cgroups_mem, c->cgroups_mem);
        assert_int_equal(iso.filesystem_posix, rc == ACTOR_OK);
        if (c->message != NULL)
            assert_non_null(strstr(err, c->message));
    }
}

static void test_parse_error_buffers(void **state)
{
    (void)state;
    isolation_t iso;
    /* A NULL or tiny error buffer is fine: the message is cut, never overflowed. */
    assert_int_equal(isolation_parse("bogus", &iso, NULL, 0), ACTOR_EINVAL);
    char tiny[8];
    memset(tiny, 'x', sizeof(tiny));
    assert_int_equal(isolation_parse("bogus", &iso, tiny, sizeof(tiny)), ACTOR_EINVAL);
    assert_int_equal(tiny[sizeof(tiny) - 1], '\0');
    assert_string_equal(tiny, "Unknown");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_table),
        cmocka_unit_test(test_parse_error_buffers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
