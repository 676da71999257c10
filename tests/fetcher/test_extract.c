/*
 * Tests of slave/fetcher/extract.c: archives made by the test with libarchive's write API,
 * unpacked into a scratch directory; every format the fetcher names, and the entries it must
 * refuse (leaving the directory, through a symbolic link, device-like files, garbage).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "slave/fetcher/fetcher_int.h"
#include "tests/fetcher/support.h"

typedef struct fixture {
    char *root; /* holds the archives, "dest" and "outside" */
    char *dest;
    char *outside;
    fetcher_owner_t owner;
    char why[1024];
} fixture_t;

static const test_entry_t app[] = {
    {.path = "app", .dir = true},
    {.path = "app/run.sh", .content = "#!/bin/sh\necho hi\n", .mode = 0755},
    {.path = "app/data.txt", .content = "data\n"},
    {.path = "app/link", .symlink = "data.txt"},
    {.path = "app/hard", .hardlink = "app/data.txt"},
    {.path = "top.txt", .content = "top\n"},
};

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof(*f));
    f->root = test_mkdtemp();
    f->dest = test_join(f->root, "dest");
    f->outside = test_join(f->root, "outside");
    assert_int_equal(mkdir(f->dest, 0755), 0);
    assert_int_equal(mkdir(f->outside, 0755), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    test_rmtree(f->root);
    free(f->root);
    free(f->dest);
    free(f->outside);
    free(f);
    return 0;
}

/* Builds the archive as root/name and extracts it into dest. */
static actor_err_t unpack(fixture_t *f, const char *format, const char *name,
                          const test_entry_t *entries, size_t count)
{
    void *data;
    size_t len;
    test_archive(format, entries, count, &data, &len);
    char *path = test_join(f->root, name);
    test_write_file(path, data, len);
    free(data);
    int fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    actor_err_t err = fetcher_extract(fd, path, f->dest, &f->owner, f->why, sizeof(f->why));
    close(fd);
    free(path);
    return err;
}

static void assert_file(const fixture_t *f, const char *name, const char *content)
{
    test_assert_file(f->dest, name, content, strlen(content));
}

static mode_t mode_of(const fixture_t *f, const char *name)
{
    return test_mode(f->dest, name);
}

static void assert_app(const fixture_t *f, bool hardlink)
{
    assert_file(f, "app/run.sh", "#!/bin/sh\necho hi\n");
    assert_file(f, "app/data.txt", "data\n");
    assert_file(f, "app/link", "data\n");
    if (hardlink) /* zip has no hard links */
        assert_file(f, "app/hard", "data\n");
    assert_file(f, "top.txt", "top\n");
    assert_true(S_ISLNK(mode_of(f, "app/link")));
    assert_true(mode_of(f, "app/run.sh") & S_IXUSR);
    assert_false(mode_of(f, "app/data.txt") & S_IXUSR);
}

static void test_kind_by_name(void **state)
{
    (void)state;
    const char *trees[] = {"a.tar",    "a.tar.gz", "a.tgz", "a.tar.bz2", "a.tbz2",
                           "a.tar.xz", "a.txz",    "a.zip", "/x/y/a.zip"};
    for (size_t i = 0; i < sizeof(trees) / sizeof(trees[0]); i++)
        assert_int_equal(fetcher_archive_kind(trees[i]), FETCHER_ARCHIVE_TREE);
    assert_int_equal(fetcher_archive_kind("a.gz"), FETCHER_ARCHIVE_GZIP);
    const char *plain[] = {"a.js", "tar", ".zip", "a.tar.gz.txt", "a.gzip", "zip", ".gz"};
    for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++)
        assert_int_equal(fetcher_archive_kind(plain[i]), FETCHER_ARCHIVE_NONE);
}

static void test_extract_formats(void **state)
{
    fixture_t *f = *state;
    const char *formats[][2] = {
        {"tar.gz", "a.tar.gz"}, {"tar.gz", "a.tgz"}, {"tar", "a.tar"}, {"tar.bz2", "a.tar.bz2"},
        {"tar.xz", "a.tar.xz"}, {"tar.xz", "a.txz"}, {"zip", "a.zip"}};
    for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
        assert_int_equal(unpack(f, formats[i][0], formats[i][1], app, 6), ACTOR_OK);
        assert_app(f, strcmp(formats[i][0], "zip") != 0);
        test_rmtree(f->dest);
        assert_int_equal(mkdir(f->dest, 0755), 0);
    }
}

static void test_extract_strips_setuid(void **state)
{
    fixture_t *f = *state;
    const test_entry_t suid[] = {{.path = "su", .content = "x", .mode = 04755}};
    assert_int_equal(unpack(f, "tar", "s.tar", suid, 1), ACTOR_OK);
    assert_false(mode_of(f, "su") & (S_ISUID | S_ISGID));
}

static void test_extract_gzip(void **state)
{
    fixture_t *f = *state;
    const test_entry_t one[] = {{.path = "notes.txt", .content = "plain text\n"}};
    assert_int_equal(unpack(f, "gz", "notes.txt.gz", one, 1), ACTOR_OK);
    assert_file(f, "notes.txt", "plain text\n");
    assert_int_equal(test_count_entries(f->dest), 1);
}

static void test_extract_gzip_refuses_plain_data(void **state)
{
    fixture_t *f = *state;
    char *path = test_join(f->root, "fake.gz");
    test_write_file(path, "not compressed", 14);
    int fd = open(path, O_RDONLY);
    assert_int_equal(fetcher_extract(fd, path, f->dest, &f->owner, f->why, sizeof(f->why)),
                     ACTOR_EINVAL);
    close(fd);
    assert_non_null(strstr(f->why, "not in gzip format"));
    assert_int_equal(test_count_entries(f->dest), 0);
    free(path);
}

static void test_extract_refuses_dotdot(void **state)
{
    fixture_t *f = *state;
    const test_entry_t evil[] = {{.path = "ok.txt", .content = "ok"},
                                 {.path = "../outside/evil.txt", .content = "evil"}};
    assert_int_equal(unpack(f, "tar.gz", "evil.tar.gz", evil, 2), ACTOR_EINVAL);
    char expect[2048];
    snprintf(expect, sizeof(expect),
             "Failed to extract archive '%s/evil.tar.gz' to '%s': refusing entry "
             "'../outside/evil.txt', which leaves the directory",
             f->root, f->dest);
    assert_string_equal(f->why, expect);
    assert_int_equal(test_count_entries(f->outside), 0);
}

static void test_extract_refuses_absolute(void **state)
{
    fixture_t *f = *state;
    char *abs = test_join(f->outside, "abs.txt");
    const test_entry_t evil[] = {{.path = abs, .content = "evil"}};
    assert_int_equal(unpack(f, "zip", "abs.zip", evil, 1), ACTOR_EINVAL);
    assert_non_null(strstr(f->why, "which leaves the directory"));
    assert_int_equal(test_count_entries(f->outside), 0);
    free(abs);
}

static void test_extract_refuses_path_through_symlink(void **state)
{
    fixture_t *f = *state;
    const test_entry_t evil[] = {{.path = "escape", .symlink = f->outside},
                                 {.path = "escape/planted.txt", .content = "evil"}};
    assert_int_equal(unpack(f, "tar", "link.tar", evil, 2), ACTOR_ESYSTEM);
    assert_non_null(strstr(f->why, "Failed to extract archive"));
    assert_int_equal(test_count_entries(f->outside), 0);
}

static void test_extract_refuses_hardlink_outside(void **state)
{
    fixture_t *f = *state;
    const test_entry_t evil[] = {{.path = "h", .hardlink = "../outside/x"}};
    assert_int_equal(unpack(f, "tar", "hard.tar", evil, 1), ACTOR_EINVAL);
    assert_non_null(strstr(f->why, "refusing entry '../outside/x'"));
}

static void test_extract_refuses_fifo(void **state)
{
    fixture_t *f = *state;
    const test_entry_t odd[] = {{.path = "pipe", .fifo = true}};
    assert_int_equal(unpack(f, "tar", "fifo.tar", odd, 1), ACTOR_EINVAL);
    assert_non_null(strstr(f->why, "refusing entry 'pipe', which is not a file"));
    assert_int_equal(test_count_entries(f->dest), 0);
}

static void test_extract_garbage(void **state)
{
    fixture_t *f = *state;
    char *path = test_join(f->root, "junk.tar.gz");
    test_write_file(path, "this is no archive at all, just some words", 42);
    int fd = open(path, O_RDONLY);
    assert_int_equal(fetcher_extract(fd, path, f->dest, &f->owner, f->why, sizeof(f->why)),
                     ACTOR_ESYSTEM);
    close(fd);
    assert_non_null(strstr(f->why, "Failed to extract archive '"));
    free(path);
}

static void test_extract_truncated(void **state)
{
    fixture_t *f = *state;
    void *data;
    size_t len;
    test_archive("tar.gz", app, 6, &data, &len);
    char *path = test_join(f->root, "cut.tar.gz");
    test_write_file(path, data, len / 2);
    free(data);
    int fd = open(path, O_RDONLY);
    assert_int_equal(fetcher_extract(fd, path, f->dest, &f->owner, f->why, sizeof(f->why)),
                     ACTOR_ESYSTEM);
    close(fd);
    free(path);
}

static void test_extract_missing_dest(void **state)
{
    fixture_t *f = *state;
    test_rmtree(f->dest);
    assert_int_equal(unpack(f, "tar", "a.tar", app, 6), ACTOR_ESYSTEM);
    assert_non_null(strstr(f->why, "No such file or directory"));
    assert_int_equal(mkdir(f->dest, 0755), 0);
}

static void test_extract_chowns_entries(void **state)
{
    fixture_t *f = *state;
    struct passwd *pw = getpwnam("nobody");
    if (geteuid() != 0 || pw == NULL)
        skip();
    f->owner = (fetcher_owner_t){.set = true, .uid = pw->pw_uid, .gid = pw->pw_gid};
    assert_int_equal(unpack(f, "tar.gz", "a.tar.gz", app, 6), ACTOR_OK);
    const char *names[] = {"app", "app/run.sh", "app/data.txt", "app/link", "top.txt"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        char *path = test_join(f->dest, names[i]);
        struct stat st;
        assert_int_equal(lstat(path, &st), 0);
        assert_int_equal(st.st_uid, pw->pw_uid);
        assert_int_equal(st.st_gid, pw->pw_gid);
        free(path);
    }
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kind_by_name),
        T(test_extract_formats),
        T(test_extract_strips_setuid),
        T(test_extract_gzip),
        T(test_extract_gzip_refuses_plain_data),
        T(test_extract_refuses_dotdot),
        T(test_extract_refuses_absolute),
        T(test_extract_refuses_path_through_symlink),
        T(test_extract_refuses_hardlink_outside),
        T(test_extract_refuses_fifo),
        T(test_extract_garbage),
        T(test_extract_truncated),
        T(test_extract_missing_dest),
        T(test_extract_chowns_entries),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
