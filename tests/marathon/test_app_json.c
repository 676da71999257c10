/* Tests of app_json.c: Marathon's defaults, the canonical JSON Marathon answers with (key order,
 * omitted empty collections, `fetch` for `uris`, port definitions for `ports`), the seed's
 * app.json, round trips (to_json(from_json(x)) is a fixed point), the stored form with its
 * version, and the schema fields kept in `extra` and echoed back. Pure computation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "frameworks/marathon/app.h"
#include "tests/marathon/app_test.h"

/* The seed's app.json, with its placeholder URI made concrete. */
#define SEED_APP                                                                                   \
    "{\"id\": \"web-app\", \"cpus\": 0.5, \"mem\": 128, \"instances\": 2, \"uris\": "              \
    "[\"http://example.invalid/\"], \"cmd\": \"/usr/bin/node\", \"args\": [\"web-app.js\"]}"

static char *dump(const marathon_app_t *app)
{
    json_t *json = marathon_app_to_json(app);
    assert_non_null(json);
    char *text = json_dumps(json, MARATHON_APP_JSON_FLAGS);
    json_decref(json);
    assert_non_null(text);
    return text;
}

static void test_defaults(void **state)
{
    (void)state;
    marathon_app_t *app = app_test_accept("{\"id\": \"x\", \"cmd\": \"sleep 1\"}");
    assert_string_equal(app->id, "/x");
    assert_string_equal(app->cmd, "sleep 1");
    assert_false(app->has_args);
    assert_true(app->cpus == 1 && app->mem == 128 && app->disk == 0);
    assert_int_equal(app->instances, 1);
    assert_true(app->backoff_seconds == 1 && app->backoff_factor == 1.15);
    assert_true(app->max_launch_delay_seconds == 300);
    assert_true(app->minimum_health_capacity == 1.0 && app->maximum_over_capacity == 1.0);
    assert_false(app->unreachable_disabled);
    assert_true(app->unreachable_inactive_after_seconds == 0);
    assert_true(app->unreachable_expunge_after_seconds == 0);
    assert_int_equal(app->kill_selection, MARATHON_KILL_YOUNGEST_FIRST);
    assert_false(app->require_ports);
    assert_false(app->has_task_kill_grace_period);
    assert_int_equal(app->port_definition_count, 1);
    assert_int_equal(app->port_definitions[0].port, 0);
    assert_string_equal(app->port_definitions[0].name, "default");
    assert_string_equal(app->port_definitions[0].protocol, "tcp");
    assert_int_equal(app->fetch_count + app->constraint_count + app->health_check_count +
                         app->dependency_count,
                     0);
    assert_null(app->env);
    assert_null(app->labels);
    assert_null(app->user);
    assert_null(app->version);
    assert_null(app->extra);
    marathon_app_free(app);
}

static void test_health_check_defaults(void **state)
{
    (void)state;
    marathon_app_t *app =
        app_test_accept("{\"id\": \"x\", \"cmd\": \"c\", \"healthChecks\": [{}, "
                        "{\"protocol\": \"COMMAND\", \"command\": {\"value\": \"true\"}}, "
                        "{\"protocol\": \"TCP\", \"port\": 81}]}");
    assert_int_equal(app->health_check_count, 3);
    const marathon_health_check_t *hc = &app->health_checks[0];
    assert_int_equal(hc->protocol, MARATHON_HEALTH_HTTP);
    assert_string_equal(hc->path, "/");
    assert_int_equal(hc->port_index, 0);
    assert_false(hc->has_port);
    assert_int_equal(hc->grace_period_seconds, 300);
    assert_int_equal(hc->interval_seconds, 60);
    assert_int_equal(hc->timeout_seconds, 20);
    assert_int_equal(hc->max_consecutive_failures, 3);
    assert_int_equal(hc->delay_seconds, 15);
    assert_false(hc->ignore_http1xx);
    assert_null(hc->command);
    hc = &app->health_checks[1];
    assert_int_equal(hc->protocol, MARATHON_HEALTH_COMMAND);
    assert_string_equal(hc->command, "true");
    assert_null(hc->path);
    hc = &app->health_checks[2];
    assert_int_equal(hc->protocol, MARATHON_HEALTH_TCP);
    assert_true(hc->has_port);
    assert_int_equal(hc->port, 81);
    marathon_app_free(app);
}

/* Marathon's documented minimal app (docs/articles/examples/requests/app-simple.json) and the
 * canonical form it answers with: defaults filled in, schema order, empty collections omitted
 * except labels. */
static void test_canonical_form(void **state)
{
    (void)state;
    marathon_app_t *app = app_test_accept(
        "{\"id\":\"/simple\",\"cmd\":\"sleep 1000\",\"cpus\":0.1,\"mem\":16,\"instances\":2}");
    char *text = dump(app);
    assert_string_equal(
        text, "{\"id\":\"/simple\",\"backoffFactor\":1.15,\"backoffSeconds\":1,\"cmd\":\"sleep "
              "1000\",\"cpus\":0.1,\"disk\":0,\"executor\":\"\",\"gpus\":0,\"instances\":2,"
              "\"labels\":{},\"maxLaunchDelaySeconds\":300,\"mem\":16,\"networks\":[{\"mode\":"
              "\"host\"}],\"portDefinitions\":[{\"port\":0,\"name\":\"default\",\"protocol\":"
              "\"tcp\"}],\"requirePorts\":false,\"role\":\"*\",\"upgradeStrategy\":{"
              "\"maximumOverCapacity\":1,\"minimumHealthCapacity\":1},\"killSelection\":"
              "\"YOUNGEST_FIRST\",\"unreachableStrategy\":{\"inactiveAfterSeconds\":0,"
              "\"expungeAfterSeconds\":0}}");
    free(text);
    marathon_app_free(app);
}

/* The seed's example: cmd with args (our extension), uris converted to fetch. */
static void test_seed_app(void **state)
{
    (void)state;
    marathon_app_t *app = app_test_accept(SEED_APP);
    assert_string_equal(app->id, "/web-app");
    assert_true(app->cpus == 0.5 && app->mem == 128);
    assert_int_equal(app->instances, 2);
    assert_string_equal(app->cmd, "/usr/bin/node");
    assert_true(app->has_args);
    assert_int_equal(app->args_count, 1);
    assert_string_equal(app->args[0], "web-app.js");
    assert_false(marathon_app_uses_shell(app));
    assert_int_equal(app->fetch_count, 1);
    assert_string_equal(app->fetch[0].uri, "http://example.invalid/");
    assert_false(app->fetch[0].extract); /* not an archive name */
    assert_false(app->fetch[0].executable);
    assert_false(app->fetch[0].cache);
    json_t *json = marathon_app_to_json(app);
    assert_null(json_object_get(json, "uris"));
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(json_object_get(json, "fetch"), 0), "uri")),
                        "http://example.invalid/");
    assert_string_equal(json_string_value(json_array_get(json_object_get(json, "args"), 0)),
                        "web-app.js");
    json_decref(json);
    marathon_app_free(app);
}

static void test_uses_shell(void **state)
{
    (void)state;
    marathon_app_t *app = app_test_accept("{\"id\": \"x\", \"cmd\": \"sleep 1\"}");
    assert_true(marathon_app_uses_shell(app));
    marathon_app_free(app);
    app = app_test_accept("{\"id\": \"x\", \"args\": [\"/bin/sleep\", \"1\"]}");
    assert_false(marathon_app_uses_shell(app));
    marathon_app_free(app);
    app = app_test_accept("{\"id\": \"x\", \"cmd\": \"sleep 1\", \"args\": []}");
    assert_true(marathon_app_uses_shell(app)); /* empty args: the shell form */
    marathon_app_free(app);
}

static void test_uris_extract_archives(void **state)
{
    (void)state;
    marathon_app_t *app =
        app_test_accept("{\"id\": \"x\", \"cmd\": \"c\", \"uris\": [\"http://h/a.tgz\", "
                        "\"http://h/b.tar.gz\", \"http://h/c.zip\", \"http://h/d.txt\", "
                        "\"http://h/e.tar.xz\", \"http://h/f.tbz2\"]}");
    assert_int_equal(app->fetch_count, 6);
    static const bool extract[] = {true, true, true, false, true, true};
    for (size_t i = 0; i < 6; i++)
        assert_int_equal(app->fetch[i].extract, extract[i]);
    marathon_app_free(app);
}

static void test_fetch_fields(void **state)
{
    (void)state;
    marathon_app_t *app = app_test_accept(
        "{\"id\": \"x\", \"cmd\": \"c\", \"fetch\": [{\"uri\": \"http://h/run.sh\", "
        "\"executable\": "
        "true, \"extract\": false, \"cache\": true, \"destPath\": \"bin/run.sh\"}, {\"uri\": "
        "\"/tmp/a.tgz\"}]}");
    assert_int_equal(app->fetch_count, 2);
    assert_true(app->fetch[0].executable && app->fetch[0].cache && !app->fetch[0].extract);
    assert_string_equal(app->fetch[0].dest_path, "bin/run.sh");
    assert_true(app->fetch[1].extract); /* fetch's own default */
    assert_null(app->fetch[1].dest_path);
    char *text = dump(app);
    assert_non_null(strstr(text, "\"fetch\":[{\"uri\":\"http://h/run.sh\",\"extract\":false,"
                                 "\"executable\":true,\"cache\":true,\"destPath\":\"bin/run.sh\"},"
                                 "{\"uri\":\"/tmp/a.tgz\",\"extract\":true,\"executable\":false,"
                                 "\"cache\":false}]"));
    free(text);
    marathon_app_free(app);
}

static void test_ports_to_port_definitions(void **state)
{
    (void)state;
    marathon_app_t *app = app_test_accept("{\"id\": \"x\", \"cmd\": \"c\", \"ports\": [0, 8080]}");
    assert_int_equal(app->port_definition_count, 2);
    assert_int_equal(app->port_definitions[1].port, 8080);
    assert_null(app->port_definitions[0].name);
    char *text = dump(app);
    assert_null(strstr(text, "\"ports\""));
    assert_non_null(strstr(text, "\"portDefinitions\":[{\"port\":0,\"protocol\":\"tcp\"},"
                                 "{\"port\":8080,\"protocol\":\"tcp\"}]"));
    free(text);
    marathon_app_free(app);
    app = app_test_accept("{\"id\": \"x\", \"cmd\": \"c\", \"portDefinitions\": []}");
    assert_int_equal(app->port_definition_count, 0);
    text = dump(app);
    assert_non_null(strstr(text, "\"portDefinitions\":[]"));
    free(text);
    marathon_app_free(app);
}

static void test_constraints_and_dependencies(void **state)
{
    (void)state;
    marathon_app_t *app = app_test_accept(
        "{\"id\": \"/prod/web\", \"cmd\": \"c\", \"constraints\": [[\"hostname\", \"unique\"], "
        "[\"hostname\", \"UNIQUE\"], [\"rack\", \"group_by\", \"2\"], [\"rack\", \"LIKE\", "
        "\"r[12]\"]], \"dependencies\": [\"db\", \"../shared/cache\", \"/abs\", \"./db\"]}");
    assert_int_equal(app->constraint_count, 3); /* a set, as in Marathon */
    assert_int_equal(app->constraints[0].op, MARATHON_CONSTRAINT_UNIQUE);
    assert_null(app->constraints[0].value);
    assert_int_equal(app->constraints[1].op, MARATHON_CONSTRAINT_GROUP_BY);
    assert_string_equal(app->constraints[1].value, "2");
    assert_int_equal(app->dependency_count, 3);
    assert_string_equal(app->dependencies[0], "/prod/db");
    assert_string_equal(app->dependencies[1], "/shared/cache");
    assert_string_equal(app->dependencies[2], "/abs");
    char *text = dump(app);
    assert_non_null(strstr(text, "\"constraints\":[[\"hostname\",\"UNIQUE\"],[\"rack\","
                                 "\"GROUP_BY\",\"2\"],[\"rack\",\"LIKE\",\"r[12]\"]]"));
    assert_non_null(strstr(text, "\"dependencies\":[\"/prod/db\",\"/shared/cache\",\"/abs\"]"));
    free(text);
    marathon_app_free(app);
}

static void test_health_check_output(void **state)
{
    (void)state;
    marathon_app_t *app =
        app_test_accept("{\"id\": \"x\", \"cmd\": \"c\", \"healthChecks\": [{\"path\": \"/ping\", "
                        "\"ignoreHttp1xx\": true}, {\"command\": {\"value\": \"test -f ok\"}, "
                        "\"maxConsecutiveFailures\": "
                        "0}]}");
    char *text = dump(app);
    assert_non_null(strstr(
        text, "\"healthChecks\":[{\"gracePeriodSeconds\":300,\"ignoreHttp1xx\":true,"
              "\"intervalSeconds\":60,\"maxConsecutiveFailures\":3,\"path\":\"/ping\","
              "\"portIndex\":0,\"protocol\":\"HTTP\",\"ipProtocol\":\"IPv4\",\"timeoutSeconds\":"
              "20,\"delaySeconds\":15},{\"command\":{\"value\":\"test -f ok\"},"
              "\"gracePeriodSeconds\":300,\"intervalSeconds\":60,\"maxConsecutiveFailures\":0,"
              "\"protocol\":\"COMMAND\",\"ipProtocol\":\"IPv4\",\"timeoutSeconds\":20,"
              "\"delaySeconds\":15}]"));
    free(text);
    marathon_app_free(app);
}

static void test_strategies_output(void **state)
{
    (void)state;
    marathon_app_t *app = app_test_accept(
        "{\"id\": \"x\", \"cmd\": \"c\", \"unreachableStrategy\": \"disabled\", "
        "\"killSelection\": \"OLDEST_FIRST\", \"upgradeStrategy\": "
        "{\"minimumHealthCapacity\": 0.5, \"maximumOverCapacity\": 0.25}, "
        "\"taskKillGracePeriodSeconds\": 30, \"backoffFactor\": 2, \"user\": \"nobody\"}");
    assert_true(app->unreachable_disabled);
    assert_true(app->has_task_kill_grace_period && app->task_kill_grace_period_seconds == 30);
    char *text = dump(app);
    assert_non_null(strstr(text, "\"unreachableStrategy\":\"disabled\""));
    assert_non_null(strstr(text, "\"killSelection\":\"OLDEST_FIRST\""));
    assert_non_null(strstr(text, "\"upgradeStrategy\":{\"maximumOverCapacity\":0.25,"
                                 "\"minimumHealthCapacity\":0.5}"));
    assert_non_null(strstr(text, "\"taskKillGracePeriodSeconds\":30"));
    assert_non_null(strstr(text, "\"backoffFactor\":2,"));
    assert_non_null(strstr(text, "\"user\":\"nobody\""));
    free(text);
    marathon_app_free(app);
    /* A single-instance app never runs two at once: its default upgrade strategy is (0, 0). */
    app = app_test_accept("{\"id\": \"x\", \"cmd\": \"c\", \"labels\": "
                          "{\"MARATHON_SINGLE_INSTANCE_APP\": \"true\"}}");
    assert_true(app->minimum_health_capacity == 0 && app->maximum_over_capacity == 0);
    marathon_app_free(app);
}

/* Schema fields we do not act on come back as they were given; fields outside the schema are
 * dropped, as Marathon drops them. */
static void test_extra_fields_echoed(void **state)
{
    (void)state;
    static const char *const kept[] = {
        "\"acceptedResourceRoles\":[\"*\",\"public\"]",
        "\"check\":{\"http\":{\"portIndex\":0,\"path\":\"/\"}}",
        "\"container\":{\"type\":\"MESOS\",\"linuxInfo\":{\"seccomp\":{\"unconfined\":true}}}",
        "\"executor\":\"//cmd\"",
        "\"executorResources\":{\"cpus\":0.1,\"mem\":32}",
        "\"readinessChecks\":[{\"name\":\"ready\",\"protocol\":\"HTTP\",\"path\":\"/r\"}]",
        "\"resourceLimits\":{\"cpus\":\"unlimited\",\"mem\":256}",
        "\"role\":\"web\"",
        "\"storeUrls\":[\"http://h/s\"]",
        "\"tty\":true",
    };
    char body[4096] = "{\"id\":\"x\",\"cmd\":\"c\",\"unknownField\":{\"a\":1}";
    for (size_t i = 0; i < sizeof(kept) / sizeof(kept[0]); i++) {
        strcat(body, ",");
        strcat(body, kept[i]);
    }
    strcat(body, "}");
    marathon_app_t *app = app_test_accept(body);
    char *text = dump(app);
    for (size_t i = 0; i < sizeof(kept) / sizeof(kept[0]); i++)
        if (strstr(text, kept[i]) == NULL)
            fail_msg("%s missing from %s", kept[i], text);
    assert_null(strstr(text, "unknownField"));
    free(text);
    marathon_app_free(app);
}

static void test_env_and_labels(void **state)
{
    (void)state;
    marathon_app_t *app =
        app_test_accept("{\"id\": \"x\", \"cmd\": \"c\", \"env\": {\"B\": \"2\", \"A\": "
                        "\"1\"}, \"labels\": {\"HAPROXY_GROUP\": \"external\"}}");
    assert_string_equal(json_string_value(json_object_get(app->env, "A")), "1");
    char *text = dump(app);
    assert_non_null(strstr(text, "\"env\":{\"B\":\"2\",\"A\":\"1\"}"));
    assert_non_null(strstr(text, "\"labels\":{\"HAPROXY_GROUP\":\"external\"}"));
    free(text);
    marathon_app_free(app);
}

/* to_json(from_json(x)) read again gives the same JSON. */
static const char *const round_trips[] = {
    SEED_APP,
    "{\"id\": \"/simple\", \"cmd\": \"sleep 1000\", \"cpus\": 0.1, \"mem\": 16, \"instances\": 2}",
    "{\"id\": \"/prod/product/my-app\", \"cmd\": \"sleep 30\", \"user\": \"nobody\", \"env\": "
    "{\"key1\": \"value1\", \"key2\": \"value2\"}, \"instances\": 5, \"cpus\": 5.0, \"mem\": 55.0, "
    "\"disk\": 550.0, \"constraints\": [[\"attribute\", \"GROUP_BY\", \"1\"]], "
    "\"portDefinitions\": [{\"port\": 9001}, {\"port\": 9002, \"name\": \"admin\", \"protocol\": "
    "\"udp\", \"labels\": {\"a\": \"b\"}}], \"requirePorts\": true, \"backoffSeconds\": 5, "
    "\"backoffFactor\": 1.5, \"maxLaunchDelaySeconds\": 180, \"healthChecks\": [{\"protocol\": "
    "\"HTTP\", \"portIndex\": 1, \"path\": \"/h\"}, {\"protocol\": \"COMMAND\", \"command\": "
    "{\"value\": \"true\"}}], "
    "\"dependencies\": [\"/prod/product/backend\"], \"upgradeStrategy\": "
    "{\"minimumHealthCapacity\": 0.75, \"maximumOverCapacity\": 1.0}, \"labels\": {\"x\": \"y\"}, "
    "\"fetch\": [{\"uri\": \"http://h/a.zip\", \"destPath\": \"a\"}], \"killSelection\": "
    "\"OLDEST_FIRST\", \"unreachableStrategy\": {\"inactiveAfterSeconds\": 30, "
    "\"expungeAfterSeconds\": 60}, \"taskKillGracePeriodSeconds\": 5, \"tty\": false, \"role\": "
    "\"*\", \"container\": {\"type\": \"MESOS\"}}",
    ("{\"id\": \"x\", \"args\": [\"/bin/sh\", \"-c\", \"exit 0\"], \"portDefinitions\": [], "
     "\"unreachableStrategy\": \"disabled\", \"instances\": 0}"),
};

static void test_round_trips(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(round_trips) / sizeof(round_trips[0]); i++) {
        marathon_app_t *first = app_test_accept(round_trips[i]);
        char *once = dump(first);
        marathon_app_t *second = app_test_accept(once);
        char *twice = dump(second);
        assert_string_equal(once, twice);
        free(once);
        free(twice);
        marathon_app_free(first);
        marathon_app_free(second);
    }
}

/* The stored form keeps the version fields; a create ignores them. */
static void test_stored_form(void **state)
{
    (void)state;
    marathon_app_t *app = app_test_accept(SEED_APP);
    app->version = strdup("2026-11-24T01:02:03.456Z");
    app->last_scaling_at = strdup("2026-11-24T01:02:03.456Z");
    app->last_config_change_at = strdup("2026-11-23T00:00:00.000Z");
    json_t *json = marathon_app_to_json(app);
    assert_string_equal(json_string_value(json_object_get(json, "version")),
                        "2026-11-24T01:02:03.456Z");
    assert_string_equal(json_string_value(json_object_get(json_object_get(json, "versionInfo"),
                                                          "lastConfigChangeAt")),
                        "2026-11-23T00:00:00.000Z");
    marathon_app_t *restored = NULL, *created = NULL;
    json_t *details = NULL;
    assert_int_equal(marathon_app_from_stored_json(json, &restored, &details), ACTOR_OK);
    assert_string_equal(restored->version, app->version);
    assert_string_equal(restored->last_scaling_at, app->last_scaling_at);
    assert_string_equal(restored->last_config_change_at, app->last_config_change_at);
    char *a = dump(app), *b = dump(restored);
    assert_string_equal(a, b);
    assert_int_equal(marathon_app_from_json(json, NULL, NULL, &created, &details), ACTOR_OK);
    assert_null(created->version);
    assert_null(created->last_scaling_at);
    free(a);
    free(b);
    json_decref(json);
    marathon_app_free(app);
    marathon_app_free(restored);
    marathon_app_free(created);
}

static void test_id_hint(void **state)
{
    (void)state;
    json_t *json = app_test_parse("{\"cmd\": \"c\"}");
    marathon_app_t *app = NULL;
    json_t *details = NULL;
    assert_int_equal(marathon_app_from_json(json, NULL, "/prod/web", &app, &details), ACTOR_OK);
    assert_string_equal(app->id, "/prod/web");
    marathon_app_free(app);
    json_object_set_new(json, "id", json_string("other"));
    assert_int_equal(marathon_app_from_json(json, NULL, "/prod/web", &app, &details), ACTOR_OK);
    assert_string_equal(app->id, "/other"); /* the body's id wins */
    marathon_app_free(app);
    json_decref(json);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_health_check_defaults),
        cmocka_unit_test(test_canonical_form),
        cmocka_unit_test(test_seed_app),
        cmocka_unit_test(test_uses_shell),
        cmocka_unit_test(test_uris_extract_archives),
        cmocka_unit_test(test_fetch_fields),
        cmocka_unit_test(test_ports_to_port_definitions),
        cmocka_unit_test(test_constraints_and_dependencies),
        cmocka_unit_test(test_health_check_output),
        cmocka_unit_test(test_strategies_output),
        cmocka_unit_test(test_extra_fields_echoed),
        cmocka_unit_test(test_env_and_labels),
        cmocka_unit_test(test_round_trips),
        cmocka_unit_test(test_stored_form),
        cmocka_unit_test(test_id_hint),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
