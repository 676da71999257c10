/* The agent's containers (slave/containers.c) outside a cluster: agent_make_dirs, which creates
 * every sandbox and the work directory (tests/slave/test_agent_processes.c runs whole containers
 * with real executors). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "slave/agent_int.h"
#include "tests/support/fs.h"

static char root[256];

static int setup(void **unused)
{
    (void)unused;
    return support_fs_tempdir(root, sizeof(root), "test_containers") != NULL ? 0 : -1;
}

static int teardown(void **unused)
{
    (void)unused;
    return support_fs_rmtree(root);
}

static bool is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* A sandbox path below root: several missing levels at once, as for a first executor. */
static void test_creates_every_missing_level(void **unused)
{
    (void)unused;
    char path[512];
    snprintf(path, sizeof(path), "%s/frameworks/f/executors/e/runs/c", root);
    assert_int_equal(agent_make_dirs(path), 0);
    assert_true(is_dir(path));
    /* A second run of the same executor: only the last level is new. */
    snprintf(path, sizeof(path), "%s/frameworks/f/executors/e/runs/d", root);
    assert_int_equal(agent_make_dirs(path), 0);
    assert_true(is_dir(path));
}

static void test_existing_directory_is_fine(void **unused)
{
    (void)unused;
    assert_int_equal(agent_make_dirs(root), 0);
    assert_int_equal(agent_make_dirs("/"), 0);
    char path[512];
    snprintf(path, sizeof(path), "%s/a//b/", root); /* doubled and trailing slashes */
    assert_int_equal(agent_make_dirs(path), 0);
    snprintf(path, sizeof(path), "%s/a/b", root);
    assert_true(is_dir(path));
}

static void test_relative_path(void **unused)
{
    (void)unused;
    char cwd[PATH_MAX];
    assert_non_null(getcwd(cwd, sizeof(cwd)));
    assert_int_equal(chdir(root), 0);
    int rc = agent_make_dirs("x/y");
    assert_int_equal(chdir(cwd), 0);
    assert_int_equal(rc, 0);
    char path[512];
    snprintf(path, sizeof(path), "%s/x/y", root);
    assert_true(is_dir(path));
}

/* Errors come back as errno values, and nothing is created past the failure. */
static void test_errors(void **unused)
{
    (void)unused;
    char file[512], path[512];
    snprintf(file, sizeof(file), "%s/file", root);
    assert_true(support_fs_write(file, "not a directory"));
    snprintf(path, sizeof(path), "%s/file/sub/dir", root);
    assert_int_equal(agent_make_dirs(path), ENOTDIR);
    assert_int_equal(agent_make_dirs(file), ENOTDIR);
    assert_int_equal(agent_make_dirs(""), ENOENT);
    char long_path[5000];
    memset(long_path, 'a', sizeof(long_path) - 1);
    long_path[0] = '/';
    long_path[sizeof(long_path) - 1] = '\0';
    assert_int_equal(agent_make_dirs(long_path), ENAMETOOLONG);
    if (geteuid() != 0) { /* root may write anywhere */
        char locked[512];
        snprintf(locked, sizeof(locked), "%s/locked", root);
        assert_int_equal(mkdir(locked, 0500), 0);
        snprintf(path, sizeof(path), "%s/locked/sub", root);
        assert_int_equal(agent_make_dirs(path), EACCES);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_creates_every_missing_level, setup, teardown),
        cmocka_unit_test_setup_teardown(test_existing_directory_is_fine, setup, teardown),
        cmocka_unit_test_setup_teardown(test_relative_path, setup, teardown),
        cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
