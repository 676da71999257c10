/* Tests of app.c: partial updates (only the fields present change, `instances` alone is a scale,
 * `uris` and `ports` replace their canonical fields, the id stays, rollback bodies), full
 * replacement, the scale-or-restart decision, deep copies, Marathon's timestamps, and every
 * entry point under failing allocations (jansson's allocator made to fail at each step in turn:
 * ACTOR_ENOMEM or the right answer, never a crash or a leak). Pure computation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "frameworks/marathon/app.h"
#include "tests/marathon/app_test.h"

#define SEED_APP                                                                                   \
    "{\"id\": \"web-app\", \"cpus\": 0.5, \"mem\": 128, \"instances\": 2, \"uris\": "              \
    "[\"http://example.invalid/\"], \"cmd\": \"/usr/bin/node\", \"args\": [\"web-app.js\"]}"

/* Every field set, so that copies and updates walk every branch. */
#define FULL_APP                                                                                   \
    "{\"id\": \"/prod/web\", \"cmd\": \"node\", \"args\": [\"a.js\", \"--x\"], \"cpus\": 0.25, "   \
    "\"mem\": 64, \"disk\": 10, \"instances\": 3, \"fetch\": [{\"uri\": \"http://h/a.js\", "       \
    "\"destPath\": \"a.js\"}, {\"uri\": \"http://h/b.tgz\"}], \"env\": {\"A\": \"1\"}, "           \
    "\"labels\": {\"L\": \"v\"}, \"user\": \"nobody\", \"constraints\": [[\"hostname\", "          \
    "\"UNIQUE\"], [\"rack\", \"MAX_PER\", \"2\"]], \"portDefinitions\": [{\"port\": 0, \"name\": " \
    "\"http\", \"labels\": {\"VIP\": \"x\"}}, {\"port\": 9000, \"protocol\": \"udp\"}], "          \
    "\"requirePorts\": false, \"healthChecks\": [{\"path\": \"/h\", \"portIndex\": 1}, "           \
    "{\"command\": {\"value\": \"true\"}}], \"upgradeStrategy\": {\"minimumHealthCapacity\": "     \
    "0.5, \"maximumOverCapacity\": 0.5}, \"backoffSeconds\": 2, \"backoffFactor\": 2, "            \
    "\"maxLaunchDelaySeconds\": 60, \"killSelection\": \"OLDEST_FIRST\", "                         \
    "\"unreachableStrategy\": {\"inactiveAfterSeconds\": 10, \"expungeAfterSeconds\": 20}, "       \
    "\"taskKillGracePeriodSeconds\": 3, \"dependencies\": [\"db\"], \"tty\": true, "               \
    "\"acceptedResourceRoles\": [\"*\"]}"

static marathon_app_t *create(const char *text)
{
    marathon_app_t *app = app_test_accept(text);
    app->version = strdup("2026-01-01T00:00:00.000Z");
    app->last_scaling_at = strdup("2026-01-01T00:00:00.000Z");
    app->last_config_change_at = strdup("2026-01-01T00:00:00.000Z");
    return app;
}

/* Applies text to base as a partial update; returns the error details or the new app. */
static actor_err_t update(const marathon_app_t *base, const char *text, marathon_app_t **out,
                          json_t **details)
{
    json_t *json = app_test_parse(text);
    *out = NULL;
    *details = NULL;
    actor_err_t rc = marathon_app_from_json(json, base, NULL, out, details);
    json_decref(json);
    return rc;
}

static marathon_app_t *updated(const marathon_app_t *base, const char *text)
{
    marathon_app_t *app;
    json_t *details;
    actor_err_t rc = update(base, text, &app, &details);
    if (rc != ACTOR_OK)
        fail_msg("update %s refused: %s", text,
                 details != NULL ? json_dumps(details, JSON_COMPACT) : actor_strerror(rc));
    return app;
}

static char *dump(const marathon_app_t *app)
{
    json_t *json = marathon_app_to_json(app);
    assert_non_null(json);
    char *text = json_dumps(json, MARATHON_APP_JSON_FLAGS | JSON_SORT_KEYS);
    json_decref(json);
    return text;
}

static void test_scale_only(void **state)
{
    (void)state;
    marathon_app_t *base = create(SEED_APP);
    marathon_app_t *app = updated(base, "{\"instances\": 5}");
    assert_int_equal(app->instances, 5);
    assert_true(marathon_app_only_scaled(base, app));
    assert_string_equal(app->id, "/web-app");
    assert_string_equal(app->cmd, "/usr/bin/node");
    assert_int_equal(app->args_count, 1);
    assert_int_equal(app->fetch_count, 1);
    assert_true(app->cpus == 0.5);
    assert_string_equal(app->version, base->version); /* the caller stamps the new one */
    assert_string_equal(app->last_scaling_at, base->last_scaling_at);
    marathon_app_free(app);
    /* the id may be repeated (or differ: it stays) and null fields count as absent */
    app = updated(base, "{\"id\": \"/other\", \"instances\": 1, \"cmd\": null, \"env\": null}");
    assert_string_equal(app->id, "/web-app");
    assert_string_equal(app->cmd, "/usr/bin/node");
    assert_true(marathon_app_only_scaled(base, app));
    marathon_app_free(app);
    marathon_app_free(base);
}

static void test_config_change(void **state)
{
    (void)state;
    static const char *const changes[] = {
        "{\"cmd\": \"/usr/bin/nodejs\"}",
        "{\"args\": [\"other.js\"]}",
        "{\"cpus\": 1}",
        "{\"env\": {\"A\": \"1\"}}",
        "{\"labels\": {\"a\": \"b\"}}",
        "{\"instances\": 3, \"mem\": 256}",
        "{\"portDefinitions\": []}",
        "{\"upgradeStrategy\": {\"minimumHealthCapacity\": 0.5, \"maximumOverCapacity\": 0}}",
        "{\"tty\": true}",
    };
    marathon_app_t *base = create(SEED_APP);
    for (size_t i = 0; i < sizeof(changes) / sizeof(changes[0]); i++) {
        marathon_app_t *app = updated(base, changes[i]);
        if (marathon_app_only_scaled(base, app))
            fail_msg("%s counted as a scale", changes[i]);
        marathon_app_free(app);
    }
    marathon_app_free(base);
}

static void test_update_replaces_fields(void **state)
{
    (void)state;
    marathon_app_t *base = create(FULL_APP);
    marathon_app_t *app = updated(base, "{\"env\": {\"B\": \"2\"}, \"uris\": [\"http://h/c.zip\"], "
                                        "\"ports\": [0, 0, 0], \"healthChecks\": []}");
    assert_null(json_object_get(app->env, "A")); /* a map is replaced whole */
    assert_string_equal(json_string_value(json_object_get(app->env, "B")), "2");
    assert_int_equal(app->fetch_count, 1);
    assert_string_equal(app->fetch[0].uri, "http://h/c.zip");
    assert_true(app->fetch[0].extract);
    assert_int_equal(app->port_definition_count, 3);
    assert_int_equal(app->health_check_count, 0);
    assert_int_equal(app->constraint_count, 2); /* untouched */
    assert_string_equal(app->dependencies[0], "/prod/db");
    assert_true(json_is_true(json_object_get(app->extra, "tty")));
    marathon_app_free(app);
    /* cmd and args are separate fields: a new cmd keeps the stored args */
    app = updated(base, "{\"cmd\": \"deno\"}");
    assert_string_equal(app->cmd, "deno");
    assert_int_equal(app->args_count, 2);
    marathon_app_free(app);
    marathon_app_free(base);
}

static void test_update_validated_as_a_whole(void **state)
{
    (void)state;
    marathon_app_t *base = create(FULL_APP);
    marathon_app_t *app;
    json_t *details;
    /* dropping the ports orphans the health check's port index */
    assert_int_equal(update(base, "{\"portDefinitions\": []}", &app, &details), ACTOR_EINVAL);
    char *text = json_dumps(details, JSON_COMPACT);
    assert_string_equal(text, "[{\"path\":\"/healthChecks(0)\",\"errors\":[\"Health check port "
                              "indices must address an element of the ports array or container "
                              "port mappings.\"]}]");
    free(text);
    json_decref(details);
    assert_int_equal(
        update(base, "{\"cpus\": -1, \"container\": {\"type\": \"DOCKER\"}}", &app, &details),
        ACTOR_EINVAL);
    assert_int_equal(json_array_size(details), 2);
    assert_null(app);
    json_decref(details);
    assert_int_equal(update(base, "{\"id\": \"Bad Id\"}", &app, &details), ACTOR_EINVAL);
    assert_string_equal(json_string_value(json_object_get(json_array_get(details, 0), "path")),
                        "/id");
    json_decref(details);
    assert_int_equal(update(base, "{\"id\": 7}", &app, &details), ACTOR_EINVAL);
    assert_string_equal(marathon_app_error_message(details), "Invalid JSON");
    json_decref(details);
    assert_int_equal(update(base, "[1]", &app, &details), ACTOR_EINVAL);
    json_decref(details);
    marathon_app_free(base);
}

static void test_rollback(void **state)
{
    (void)state;
    marathon_app_t *base = create(SEED_APP);
    json_t *body =
        app_test_parse("{\"id\": \"/web-app\", \"version\": \"2025-01-01T00:00:00.000Z\"}");
    assert_string_equal(marathon_app_rollback_version(body), "2025-01-01T00:00:00.000Z");
    marathon_app_t *app = NULL;
    json_t *details = NULL;
    assert_int_equal(marathon_app_from_json(body, base, NULL, &app, &details), ACTOR_OK);
    char *a = dump(base), *b = dump(app);
    assert_string_equal(a, b);
    free(a);
    free(b);
    marathon_app_free(app);
    json_decref(body);
    body = app_test_parse("{\"version\": \"2025-01-01T00:00:00.000Z\", \"cmd\": \"x\"}");
    assert_null(marathon_app_rollback_version(body));
    assert_int_equal(marathon_app_from_json(body, base, NULL, &app, &details), ACTOR_EINVAL);
    char *text = json_dumps(details, JSON_COMPACT);
    assert_string_equal(text, "[{\"path\":\"/\",\"errors\":[\"The 'version' field may only be "
                              "combined with the 'id' field.\"]}]");
    free(text);
    json_decref(details);
    json_decref(body);
    body = app_test_parse("{\"instances\": 3}");
    assert_null(marathon_app_rollback_version(body));
    json_decref(body);
    marathon_app_free(base);
}

/* PUT with partialUpdate=false: the caller passes no base, the URL's id as the hint. */
static void test_full_replacement(void **state)
{
    (void)state;
    json_t *body = app_test_parse("{\"cmd\": \"sleep 5\"}");
    marathon_app_t *app = NULL;
    json_t *details = NULL;
    assert_int_equal(marathon_app_from_json(body, NULL, "/web-app", &app, &details), ACTOR_OK);
    assert_string_equal(app->id, "/web-app");
    assert_int_equal(app->instances, 1); /* defaults, not the stored values */
    assert_int_equal(app->fetch_count, 0);
    marathon_app_free(app);
    json_decref(body);
}

static void test_copy(void **state)
{
    (void)state;
    /* The last definition is one string, split over two lines. */
    static const char *const apps[] = {SEED_APP, FULL_APP, "{\"id\": \"x\", \"cmd\": \"c\"}",
                                       ("{\"id\": \"x\", \"args\": [], \"cmd\": \"c\", "
                                        "\"portDefinitions\": []}")};
    for (size_t i = 0; i < sizeof(apps) / sizeof(apps[0]); i++) {
        marathon_app_t *app = create(apps[i]);
        marathon_app_t *copy = marathon_app_copy(app);
        assert_non_null(copy);
        char *a = dump(app), *b = dump(copy);
        assert_string_equal(a, b);
        assert_int_equal(copy->has_args, app->has_args);
        assert_true(copy->args != app->args || app->args == NULL);
        free(a);
        free(b);
        marathon_app_free(app);
        assert_true(copy->instances > 0 && copy->cmd != NULL);
        marathon_app_free(copy);
    }
    marathon_app_free(NULL);
}

static void test_timestamp(void **state)
{
    (void)state;
    static const struct {
        int64_t ns;
        const char *text;
    } cases[] = {
        {0, "1970-01-01T00:00:00.000Z"},
        {1795482123456789012, "2026-11-24T01:02:03.456Z"},
        {999999, "1970-01-01T00:00:00.000Z"},
        {-1, "1969-12-31T23:59:59.999Z"},
        {-1000000000, "1969-12-31T23:59:59.000Z"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char text[32];
        marathon_timestamp(cases[i].ns, text, sizeof(text));
        assert_string_equal(text, cases[i].text);
    }
}

/* --- failing allocations ------------------------------------------------------------------
 * The test binary links with -Wl,--wrap for malloc, calloc, strdup and vasprintf (see
 * CMakeLists.txt): every allocation of the app model and of jansson (linked statically) goes
 * through these, and fails once allocations_left reaches 0. */

static long allocations_left = -1; /* -1: never fail */

static bool allocation_fails(void)
{
    if (allocations_left == 0)
        return true;
    if (allocations_left > 0)
        allocations_left--;
    return false;
}

void *__real_malloc(size_t size);
void *__real_calloc(size_t n, size_t size);
char *__real_strdup(const char *s);
int __real_vasprintf(char **out, const char *fmt, va_list ap);
void *__wrap_malloc(size_t size);
void *__wrap_calloc(size_t n, size_t size);
char *__wrap_strdup(const char *s);
int __wrap_vasprintf(char **out, const char *fmt, va_list ap);

void *__wrap_malloc(size_t size)
{
    return allocation_fails() ? NULL : __real_malloc(size);
}

void *__wrap_calloc(size_t n, size_t size)
{
    return allocation_fails() ? NULL : __real_calloc(n, size);
}

char *__wrap_strdup(const char *s)
{
    return allocation_fails() ? NULL : __real_strdup(s);
}

int __wrap_vasprintf(char **out, const char *fmt, va_list ap)
{
    return allocation_fails() ? -1 : __real_vasprintf(out, fmt, ap);
}

/* Runs every entry point once; returns whether everything succeeded, checking that whatever
 * succeeded gives the same JSON as with memory to spare (want). */
static bool run_all(const json_t *body, const json_t *patch, const char *want)
{
    marathon_app_t *app = NULL, *next = NULL, *copy = NULL;
    json_t *details = NULL, *json = NULL;
    bool done = false;
    actor_err_t rc = marathon_app_from_json(body, NULL, NULL, &app, &details);
    assert_true(rc == ACTOR_OK || rc == ACTOR_ENOMEM);
    if (rc != ACTOR_OK)
        goto out;
    rc = marathon_app_from_json(patch, app, NULL, &next, &details);
    assert_true(rc == ACTOR_OK || rc == ACTOR_ENOMEM);
    if (rc != ACTOR_OK)
        goto out;
    copy = marathon_app_copy(next);
    json = copy != NULL ? marathon_app_to_json(copy) : NULL;
    if (json == NULL)
        goto out;
    long saved = allocations_left;
    allocations_left = -1;
    char *text = json_dumps(json, JSON_COMPACT | JSON_SORT_KEYS);
    allocations_left = saved;
    assert_string_equal(text, want);
    free(text);
    (void)marathon_app_only_scaled(app, next); /* false under failures: a restart, no harm */
    done = true;
out:
    json_decref(json);
    marathon_app_free(app);
    marathon_app_free(next);
    marathon_app_free(copy);
    return done;
}

static void test_out_of_memory_each_step(void **state)
{
    (void)state;
    json_t *body = app_test_parse(FULL_APP);
    json_t *patch =
        app_test_parse("{\"instances\": 4, \"uris\": [\"http://h/x\"], \"ports\": [0, 0]}");
    /* the answer with memory to spare */
    marathon_app_t *app = NULL, *next = NULL;
    json_t *details = NULL;
    assert_int_equal(marathon_app_from_json(body, NULL, NULL, &app, &details), ACTOR_OK);
    assert_int_equal(marathon_app_from_json(patch, app, NULL, &next, &details), ACTOR_OK);
    json_t *json = marathon_app_to_json(next);
    char *want = json_dumps(json, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(json);
    marathon_app_free(app);
    marathon_app_free(next);
    bool done = false;
    long n;
    for (n = 0; !done && n < 100000; n++) {
        allocations_left = n;
        done = run_all(body, patch, want);
    }
    allocations_left = -1;
    assert_true(done);
    print_message("succeeded after %ld failed allocations\n", n - 1);
    assert_true(n > 500); /* the wrappers did fail allocations all along the way */
    free(want);
    json_decref(body);
    json_decref(patch);
}

/* An invalid definition under failing allocations: ENOMEM, or all of its details. */
static void test_out_of_memory_with_errors(void **state)
{
    (void)state;
    json_t *body =
        app_test_parse("{\"id\": \"/\", \"cpus\": -1, \"constraints\": [[\"a\", \"B\"]], "
                       "\"env\": {\"DB\": {\"secret\": \"pw\"}}, \"labels\": {\"k\": 1}}");
    marathon_app_t *app = NULL;
    json_t *details = NULL;
    assert_int_equal(marathon_app_from_json(body, NULL, NULL, &app, &details), ACTOR_EINVAL);
    char *want = json_dumps(details, JSON_COMPACT);
    json_decref(details);
    actor_err_t rc = ACTOR_ENOMEM;
    long n;
    for (n = 0; rc == ACTOR_ENOMEM && n < 100000; n++) {
        details = NULL;
        allocations_left = n;
        rc = marathon_app_from_json(body, NULL, NULL, &app, &details);
        allocations_left = -1;
        assert_true(rc == ACTOR_EINVAL || (rc == ACTOR_ENOMEM && details == NULL));
    }
    char *got = json_dumps(details, JSON_COMPACT);
    assert_string_equal(got, want);
    assert_true(n > 10);
    free(got);
    free(want);
    json_decref(details);
    json_decref(body);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scale_only),
        cmocka_unit_test(test_config_change),
        cmocka_unit_test(test_update_replaces_fields),
        cmocka_unit_test(test_update_validated_as_a_whole),
        cmocka_unit_test(test_rollback),
        cmocka_unit_test(test_full_replacement),
        cmocka_unit_test(test_copy),
        cmocka_unit_test(test_timestamp),
        cmocka_unit_test(test_out_of_memory_each_step),
        cmocka_unit_test(test_out_of_memory_with_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
