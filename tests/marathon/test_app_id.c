/* Tests of app_id.c: Marathon's path ids. Good ids and their normal form (relative ids from the
 * root, ".", ".." and repeated slashes resolved), bad ids with Marathon's messages, resolving
 * against a group (dependencies) and the parent of an id. Pure computation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "frameworks/marathon/app_int.h"

#define REGEX_MESSAGE "must fully match regular expression '" APP_ID_SEGMENT_PATTERN "'"
#define RESERVED_MESSAGE                                                                           \
    "must not end with any of the following reserved keywords: restart, tasks, versions"
#define EMPTY_MESSAGE "Path must contain at least one path element"

static const struct {
    const char *in;
    const char *out;
} good[] = {
    {"web-app", "/web-app"},
    {"/web-app", "/web-app"},
    {"/prod/db", "/prod/db"},
    {"prod/db/", "/prod/db"},
    {"//prod///db//", "/prod/db"},
    {"/a/./b", "/a/b"},
    {"/a/b/../c", "/a/c"},
    {"/../../a", "/a"},
    {"a.b.c", "/a.b.c"},
    {"0", "/0"},
    {"a-b-9", "/a-b-9"},
    {"/prod/restart/x", "/prod/restart/x"}, /* reserved words may name groups */
    {"/x/tasks-a", "/x/tasks-a"},
};

static void test_good(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        char err[256] = "unset";
        char *id = marathon_app_id_normalize(good[i].in, err, sizeof(err));
        if (id == NULL)
            fail_msg("'%s' refused: %s", good[i].in, err);
        assert_string_equal(id, good[i].out);
        free(id);
    }
}

static const struct {
    const char *in;
    const char *message;
} bad[] = {
    {"a b", REGEX_MESSAGE},
    {"a#$%^&*b", REGEX_MESSAGE},
    {"-dash-disallowed-at-start", REGEX_MESSAGE},
    {"dash-disallowed-at-end-", REGEX_MESSAGE},
    {"uppercaseLettersNoGood", REGEX_MESSAGE},
    {"under_score", REGEX_MESSAGE},
    {"/prod/a..b", REGEX_MESSAGE},
    {"/prod/.a", REGEX_MESSAGE},
    {"/prod/a.", REGEX_MESSAGE},
    {"/prod/a.-b", REGEX_MESSAGE},
    {"/prod/restart", RESERVED_MESSAGE},
    {"tasks", RESERVED_MESSAGE},
    {"/a/versions/", RESERVED_MESSAGE},
    {"/", EMPTY_MESSAGE},
    {"", EMPTY_MESSAGE},
    {"/a/..", EMPTY_MESSAGE},
    {"./", EMPTY_MESSAGE},
};

static void test_bad(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char err[512] = "";
        char *id = marathon_app_id_normalize(bad[i].in, err, sizeof(err));
        if (id != NULL)
            fail_msg("'%s' accepted as %s", bad[i].in, id);
        assert_string_equal(err, bad[i].message);
    }
}

static void test_root_flag(void **state)
{
    (void)state;
    char err[256];
    bool is_root = false;
    assert_null(app_id_resolve("/a/../", "/", &is_root, err, sizeof(err)));
    assert_true(is_root);
    assert_null(app_id_resolve("A", "/", &is_root, err, sizeof(err)));
    assert_false(is_root);
}

static void test_resolve_against_group(void **state)
{
    (void)state;
    static const struct {
        const char *id, *base, *out;
    } cases[] = {
        {"db", "/prod", "/prod/db"},
        {"../shared/db", "/prod/web", "/prod/shared/db"},
        {"/other", "/prod", "/other"},
        {"./cache", "/", "/cache"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char err[256];
        bool is_root;
        char *id = app_id_resolve(cases[i].id, cases[i].base, &is_root, err, sizeof(err));
        assert_non_null(id);
        assert_string_equal(id, cases[i].out);
        free(id);
    }
}

static void test_parent(void **state)
{
    (void)state;
    static const char *const cases[][2] = {{"/a/b/c", "/a/b"}, {"/a", "/"}, {"/", "/"}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *parent = app_id_parent(cases[i][0]);
        assert_string_equal(parent, cases[i][1]);
        free(parent);
    }
}

static void test_short_error_buffer(void **state)
{
    (void)state;
    char err[8];
    assert_null(marathon_app_id_normalize("A", err, sizeof(err)));
    assert_int_equal(strlen(err), sizeof(err) - 1); /* truncated, terminated */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good),      cmocka_unit_test(test_bad),
        cmocka_unit_test(test_root_flag), cmocka_unit_test(test_resolve_against_group),
        cmocka_unit_test(test_parent),    cmocka_unit_test(test_short_error_buffer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
