/* Tests of fs.c: temporary directories, whole files, and rmtree on a tree with nested
 * directories, names with spaces and '*', and a symbolic link whose target must survive. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/support/fs.h"

static void test_tempdir(void **state)
{
    (void)state;
    char a[64], b[64];
    assert_non_null(support_fs_tempdir(a, sizeof(a), "test_fs"));
    assert_non_null(support_fs_tempdir(b, sizeof(b), "test_fs"));
    assert_int_equal(strncmp(a, "/tmp/test_fs.", 13), 0);
    assert_string_not_equal(a, b);
    struct stat st;
    assert_int_equal(stat(a, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    assert_int_equal(support_fs_rmtree(a), 0);
    assert_int_equal(support_fs_rmtree(b), 0);
    char small[8];
    errno = 0;
    assert_null(support_fs_tempdir(small, sizeof(small), "test_fs"));
    assert_int_equal(errno, ENAMETOOLONG);
}

static void test_read_write(void **state)
{
    (void)state;
    char dir[64], path[128];
    assert_non_null(support_fs_tempdir(dir, sizeof(dir), "test_fs"));
    snprintf(path, sizeof(path), "%s/f", dir);
    assert_true(support_fs_write(path, "one\ntwo\n"));
    char *text = support_fs_read(path);
    assert_string_equal(text, "one\ntwo\n");
    free(text);
    assert_true(support_fs_write(path, "")); /* truncates */
    text = support_fs_read(path);
    assert_string_equal(text, "");
    free(text);
    snprintf(path, sizeof(path), "%s/missing", dir);
    text = support_fs_read(path);
    assert_string_equal(text, "");
    free(text);
    snprintf(path, sizeof(path), "%s/no/such/dir/f", dir);
    assert_false(support_fs_write(path, "x"));
    assert_int_equal(support_fs_rmtree(dir), 0);
}

static void test_rmtree(void **state)
{
    (void)state;
    char dir[64], keep[64], path[256];
    assert_non_null(support_fs_tempdir(dir, sizeof(dir), "test_fs"));
    assert_non_null(support_fs_tempdir(keep, sizeof(keep), "test_fs_keep"));
    snprintf(path, sizeof(path), "%s/kept", keep);
    assert_true(support_fs_write(path, "kept"));
    const char *dirs[] = {"a", "a/b", "a/b/c", "d", "d e"};
    for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
        snprintf(path, sizeof(path), "%s/%s", dir, dirs[i]);
        assert_int_equal(mkdir(path, 0700), 0);
        snprintf(path, sizeof(path), "%s/%s/file *", dir, dirs[i]);
        assert_true(support_fs_write(path, "x"));
    }
    snprintf(path, sizeof(path), "%s/a/b/link", dir);
    assert_int_equal(symlink(keep, path), 0);
    assert_int_equal(support_fs_rmtree(dir), 0);
    struct stat st;
    assert_int_equal(lstat(dir, &st), -1);
    assert_int_equal(errno, ENOENT);
    snprintf(path, sizeof(path), "%s/kept", keep);
    char *text = support_fs_read(path);
    assert_string_equal(text, "kept"); /* the link was removed, not followed */
    free(text);
    assert_int_equal(support_fs_rmtree(dir), 0); /* gone already: not a failure */
    assert_int_equal(support_fs_rmtree(keep), 0);
}

static void test_rmtree_file(void **state)
{
    (void)state;
    char dir[64], path[128];
    assert_non_null(support_fs_tempdir(dir, sizeof(dir), "test_fs"));
    snprintf(path, sizeof(path), "%s/f", dir);
    assert_true(support_fs_write(path, "x"));
    assert_int_equal(support_fs_rmtree(path), 0); /* a plain file is removed too */
    assert_int_equal(access(path, F_OK), -1);
    /* An error is reported: a path through a file. */
    assert_true(support_fs_write(path, "x"));
    snprintf(path, sizeof(path), "%s/f/below", dir);
    errno = 0;
    assert_int_equal(support_fs_rmtree(path), -1);
    assert_int_equal(errno, ENOTDIR);
    assert_int_equal(support_fs_rmtree(dir), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tempdir),
        cmocka_unit_test(test_read_write),
        cmocka_unit_test(test_rmtree),
        cmocka_unit_test(test_rmtree_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
