/* Tests of rmtree.h: trees with files, empty and unreadable directories and links (whose
 * targets survive), a file, a link or nothing at the root, a deep tree, cancellation, a failure
 * that does not stop the rest, and bad arguments. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "slave/files/rmtree.h"

typedef struct fixture {
    char root[64];
} fixture_t;

static char *join(const fixture_t *fx, const char *name)
{
    static char buf[4][PATH_MAX];
    static int next;
    char *p = buf[next++ % 4];
    snprintf(p, PATH_MAX, "%s/%s", fx->root, name);
    return p;
}

static void touch(const char *path)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "x", 1), 1);
    close(fd);
}

static bool exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

static int setup(void **state)
{
    fixture_t *fx = calloc(1, sizeof(*fx));
    snprintf(fx->root, sizeof(fx->root), "/tmp/rmtree-test-XXXXXX");
    if (mkdtemp(fx->root) == NULL)
        return -1;
    touch(join(fx, "outside"));
    assert_int_equal(mkdir(join(fx, "outdir"), 0755), 0);
    touch(join(fx, "outdir/kept"));
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *fx = *state;
    assert_true(exists(join(fx, "outside")));
    assert_true(exists(join(fx, "outdir/kept")));
    assert_int_equal(rmtree(fx->root, NULL, NULL, NULL, 0), ACTOR_OK);
    assert_false(exists(fx->root));
    free(fx);
    return 0;
}

static void test_tree(void **state)
{
    fixture_t *fx = *state;
    assert_int_equal(mkdir(join(fx, "t"), 0755), 0);
    assert_int_equal(mkdir(join(fx, "t/a"), 0755), 0);
    assert_int_equal(mkdir(join(fx, "t/a/empty"), 0755), 0);
    assert_int_equal(mkdir(join(fx, "t/a/locked"), 0755), 0);
    touch(join(fx, "t/a/locked/f"));
    assert_int_equal(chmod(join(fx, "t/a/locked"), 0), 0); /* only root may enter */
    touch(join(fx, "t/stdout"));
    touch(join(fx, "t/a/.hidden"));
    assert_int_equal(symlink("../../outside", join(fx, "t/a/file_link")), 0);
    assert_int_equal(symlink("../outdir", join(fx, "t/dir_link")), 0);
    assert_int_equal(mkfifo(join(fx, "t/fifo"), 0644), 0);
    char err[256] = "unset";
    actor_err_t rc = rmtree(join(fx, "t"), NULL, NULL, err, sizeof(err));
    if (geteuid() == 0) {
        assert_int_equal(rc, ACTOR_OK);
        assert_string_equal(err, "");
        assert_false(exists(join(fx, "t")));
    } else {
        /* The locked directory stays; everything else goes. */
        assert_int_equal(rc, ACTOR_ESYSTEM);
        assert_non_null(strstr(err, "/t/a/locked"));
        assert_false(exists(join(fx, "t/stdout")));
        chmod(join(fx, "t/a/locked"), 0755);
        assert_int_equal(rmtree(join(fx, "t"), NULL, NULL, NULL, 0), ACTOR_OK);
    }
}

static void test_roots(void **state)
{
    fixture_t *fx = *state;
    /* Nothing there: already removed. */
    assert_int_equal(rmtree(join(fx, "missing"), NULL, NULL, NULL, 0), ACTOR_OK);
    /* A file. */
    touch(join(fx, "file"));
    assert_int_equal(rmtree(join(fx, "file"), NULL, NULL, NULL, 0), ACTOR_OK);
    assert_false(exists(join(fx, "file")));
    /* A link to a directory: the link goes, the directory stays. */
    assert_int_equal(symlink("outdir", join(fx, "link")), 0);
    assert_int_equal(rmtree(join(fx, "link"), NULL, NULL, NULL, 0), ACTOR_OK);
    assert_false(exists(join(fx, "link")));
    /* Trailing slash on a directory. */
    assert_int_equal(mkdir(join(fx, "d"), 0755), 0);
    touch(join(fx, "d/x"));
    assert_int_equal(rmtree(join(fx, "d/"), NULL, NULL, NULL, 0), ACTOR_OK);
    assert_false(exists(join(fx, "d")));
    assert_int_equal(rmtree("", NULL, NULL, NULL, 0), ACTOR_EINVAL);
    assert_int_equal(rmtree(NULL, NULL, NULL, NULL, 0), ACTOR_EINVAL);
}

static void test_deep(void **state)
{
    fixture_t *fx = *state;
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/deep", fx->root);
    assert_int_equal(mkdir(path, 0755), 0);
    int fd = open(path, O_RDONLY | O_DIRECTORY);
    for (int i = 0; i < 300; i++) {
        assert_int_equal(mkdirat(fd, "d", 0755), 0);
        int next = openat(fd, "d", O_RDONLY | O_DIRECTORY);
        close(fd);
        fd = next;
    }
    int f = openat(fd, "leaf", O_WRONLY | O_CREAT, 0644);
    close(f);
    close(fd);
    assert_int_equal(rmtree(path, NULL, NULL, NULL, 0), ACTOR_OK);
    assert_false(exists(path));
}

static bool cancel_after_three(void *arg)
{
    int *calls = arg;
    return ++*calls > 3;
}

static void test_cancel(void **state)
{
    fixture_t *fx = *state;
    assert_int_equal(mkdir(join(fx, "c"), 0755), 0);
    for (int i = 0; i < 10; i++) {
        char name[32];
        snprintf(name, sizeof(name), "c/f%d", i);
        touch(join(fx, name));
    }
    int calls = 0;
    assert_int_equal(rmtree(join(fx, "c"), cancel_after_three, &calls, NULL, 0), ACTOR_ECLOSED);
    assert_true(exists(join(fx, "c")));
    assert_int_equal(calls, 4);
    assert_int_equal(rmtree(join(fx, "c"), NULL, NULL, NULL, 0), ACTOR_OK);
}

static void test_failure_goes_on(void **state)
{
    (void)state;
    /* Nothing in /proc can be unlinked, by root either. */
    char err[256];
    assert_int_equal(rmtree("/proc/self/fdinfo", NULL, NULL, err, sizeof(err)), ACTOR_ESYSTEM);
    assert_non_null(strstr(err, "/proc/self/fdinfo"));
    /* A short buffer is filled as far as it goes. */
    char small[8];
    assert_int_equal(rmtree("/proc/self/fdinfo", NULL, NULL, small, sizeof(small)), ACTOR_ESYSTEM);
    assert_int_equal(strlen(small), sizeof(small) - 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_tree, setup, teardown),
        cmocka_unit_test_setup_teardown(test_roots, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deep, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cancel, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failure_goes_on, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
