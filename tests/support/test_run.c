/* Tests of run.c: a program's status and output captured in files of a directory, its stdin and
 * environment, and a run past its deadline stopped and reported as killed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/support/fs.h"
#include "tests/support/run.h"

static int setup(void **state)
{
    char *dir = calloc(1, 64);
    assert_non_null(dir);
    assert_non_null(support_fs_tempdir(dir, 64, "test_run"));
    *state = dir;
    return 0;
}

static int teardown(void **state)
{
    assert_int_equal(support_fs_rmtree(*state), 0);
    free(*state);
    return 0;
}

static void test_output_and_status(void **state)
{
    const char *dir = *state;
    char in[128];
    snprintf(in, sizeof(in), "%s/input", dir);
    assert_true(support_fs_write(in, "typed\n"));
    char *argv[] = {"sh", "-c", "cat; echo \"$WHO\"; echo oops >&2; exit 2", NULL};
    char *env[] = {"WHO=me", NULL};
    support_run_t run;
    support_run_finish(dir, "sh", support_run_start(dir, "sh", "/bin/sh", argv, in, env), 10000,
                       &run);
    assert_int_equal(run.status, 2);
    assert_string_equal(run.out, "typed\nme\n");
    assert_string_equal(run.err, "oops\n");
    support_run_free(&run);
    assert_null(run.out);
    char out[128];
    snprintf(out, sizeof(out), "%s/sh.out", dir);
    assert_int_equal(access(out, F_OK), 0); /* the files stay for the test to read */
}

static void test_deadline(void **state)
{
    const char *dir = *state;
    char *argv[] = {"sh", "-c", "echo started; exec sleep 30", NULL};
    pid_t pid = support_run_start(dir, "slow", "/bin/sh", argv, "/dev/null", NULL);
    support_run_t run;
    support_run_finish(dir, "slow", pid, 300, &run);
    assert_int_equal(run.status, -1);
    support_run_free(&run);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_output_and_status, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deadline, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
