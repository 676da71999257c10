/* Tests of app_validate.c and the rules the reader applies: one case per rule, each an app
 * definition that breaks it and the detail Marathon answers with (path and message), including
 * the refusals of what this Marathon cannot honour (Docker containers, non-host networks, GPUs,
 * residency, custom executors, secrets). Then the shape of the details (several at once, one
 * entry per path, schema errors before rule violations, the 422 message), the definitions that
 * must pass, and the number formatting of the messages. Pure computation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "frameworks/marathon/app_int.h"

#define ID_REGEX "must fully match regular expression '" APP_ID_SEGMENT_PATTERN "'"
#define CMD_ARGS "AppDefinition must either contain one of 'cmd' or 'args', and/or a 'container'."
#define PORT_INDEX                                                                                 \
    "Health check port indices must address an element of the ports array or container port "      \
    "mappings."
#define OPERATORS                                                                                  \
    "operator must be one of the following UNIQUE, CLUSTER, GROUP_BY, LIKE, MAX_PER, UNLIKE or IS"

static json_t *parse(const char *text)
{
    json_error_t error;
    json_t *json = json_loads(text, JSON_DECODE_ANY | JSON_ALLOW_NUL, &error);
    if (json == NULL)
        fail_msg("test JSON does not parse: %s: %s", text, error.text);
    return json;
}

static bool has_error(const json_t *details, const char *path, const char *message)
{
    size_t i, j;
    json_t *detail, *error;
    json_array_foreach(details, i, detail)
    {
        if (strcmp(json_string_value(json_object_get(detail, "path")), path) != 0)
            continue;
        json_array_foreach(json_object_get(detail, "errors"), j, error)
        {
            if (strcmp(json_string_value(error), message) == 0)
                return true;
        }
    }
    return false;
}

/* Reads text as a new app; returns the details (NULL when it was accepted). */
static json_t *refuse(const char *text)
{
    json_t *json = parse(text);
    marathon_app_t *app = NULL;
    json_t *details = NULL;
    actor_err_t rc = marathon_app_from_json(json, NULL, NULL, &app, &details);
    json_decref(json);
    marathon_app_free(app);
    assert_true(rc == ACTOR_OK || rc == ACTOR_EINVAL);
    assert_true((rc == ACTOR_OK) == (details == NULL));
    return details;
}

static const struct {
    const char *json;
    const char *path;
    const char *message;
} rules[] = {
    /* id */
    {"{'id': 'a b', 'cmd': 'c'}", "/id", ID_REGEX},
    {"{'id': 'Web', 'cmd': 'c'}", "/id", ID_REGEX},
    {"{'id': '/x/restart', 'cmd': 'c'}", "/id",
     "must not end with any of the following reserved keywords: restart, tasks, versions"},
    {"{'id': '/', 'cmd': 'c'}", "/id", "Path must contain at least one path element"},
    {"{'id': '/', 'cmd': 'c'}", "/", "must not be root"},
    {"{'cmd': 'c'}", "/id", "error.path.missing"},
    {"{'id': 5, 'cmd': 'c'}", "/id", "error.expected.jsstring"},
    {"{'id': 'a\\u0000b', 'cmd': 'c'}", "/id", "must not contain NUL characters"},
    /* cmd and args */
    {"{'id': 'x'}", "/", CMD_ARGS},
    {"{'id': 'x', 'args': []}", "/", CMD_ARGS},
    {"{'id': 'x', 'cmd': ''}", "/", "must not be an empty string"},
    {"{'id': 'x', 'args': [1]}", "/args(0)", "error.expected.jsstring"},
    {"{'id': 'x', 'args': 'a b'}", "/args", "error.expected.jsarray"},
    {"{'id': 'x', 'cmd': ['a']}", "/cmd", "error.expected.jsstring"},
    /* resources and numbers */
    {"{'id': 'x', 'cmd': 'c', 'cpus': -3}", "/cpus", "got -3.0, expected 0.0 or more"},
    {"{'id': 'x', 'cmd': 'c', 'mem': -3.0}", "/mem", "got -3.0, expected 0.0 or more"},
    {"{'id': 'x', 'cmd': 'c', 'disk': -3.5}", "/disk", "got -3.5, expected 0.0 or more"},
    {"{'id': 'x', 'cmd': 'c', 'cpus': 'one'}", "/cpus", "error.expected.jsnumber"},
    {"{'id': 'x', 'cmd': 'c', 'instances': -3}", "/instances", "got -3, expected 0 or more"},
    {"{'id': 'x', 'cmd': 'c', 'instances': 2.5}", "/instances", "error.expected.int"},
    {"{'id': 'x', 'cmd': 'c', 'instances': 4294967296}", "/instances", "error.expected.int"},
    {"{'id': 'x', 'cmd': 'c', 'instances': '2'}", "/instances", "error.expected.jsnumber"},
    {"{'id': 'x', 'cmd': 'c', 'gpus': -1}", "/gpus", "got -1, expected 0 or more"},
    {"{'id': 'x', 'cmd': 'c', 'backoffSeconds': -1}", "/backoffSeconds",
     "got -1, expected 0 or more"},
    {"{'id': 'x', 'cmd': 'c', 'backoffFactor': 0.5}", "/backoffFactor",
     "got 0.5, expected 1.0 or more"},
    {"{'id': 'x', 'cmd': 'c', 'maxLaunchDelaySeconds': -1}", "/maxLaunchDelaySeconds",
     "got -1, expected 0 or more"},
    {"{'id': 'x', 'cmd': 'c', 'taskKillGracePeriodSeconds': -1}", "/taskKillGracePeriodSeconds",
     "got -1, expected 0 or more"},
    {"{'id': 'x', 'cmd': 'c', 'user': 5}", "/user", "error.expected.jsstring"},
    /* upgradeStrategy, unreachableStrategy, killSelection */
    {"{'id': 'x', 'cmd': 'c', 'upgradeStrategy': {'minimumHealthCapacity': 1.2}}",
     "/upgradeStrategy/minimumHealthCapacity", "got 1.2, expected between 0.0 and 1.0"},
    {"{'id': 'x', 'cmd': 'c', 'upgradeStrategy': {'maximumOverCapacity': -1.2}}",
     "/upgradeStrategy/maximumOverCapacity", "got -1.2, expected between 0.0 and 1.0"},
    {"{'id': 'x', 'cmd': 'c', 'upgradeStrategy': 1}", "/upgradeStrategy",
     "error.expected.jsobject"},
    {"{'id': 'x', 'cmd': 'c', 'unreachableStrategy': {'inactiveAfterSeconds': -1}}",
     "/unreachableStrategy/inactiveAfterSeconds", "got -1, expected 0 or more"},
    {"{'id': 'x', 'cmd': 'c', 'unreachableStrategy': {'inactiveAfterSeconds': 600, "
     "'expungeAfterSeconds': 300}}",
     "/unreachableStrategy/inactiveAfterSeconds", "got 600, expected 300 or less"},
    {"{'id': 'x', 'cmd': 'c', 'unreachableStrategy': 'sometimes'}", "/unreachableStrategy",
     "error.unknown.enum.literal"},
    {"{'id': 'x', 'cmd': 'c', 'unreachableStrategy': 5}", "/unreachableStrategy",
     "error.expected.jsobject"},
    {"{'id': 'x', 'cmd': 'c', 'killSelection': 'RANDOM'}", "/killSelection",
     "error.unknown.enum.literal"},
    /* constraints */
    {"{'id': 'x', 'cmd': 'c', 'constraints': [['hostname']]}", "/constraints(0)",
     "Each constraint must have either 2 or 3 fields"},
    {"{'id': 'x', 'cmd': 'c', 'constraints': [['hostname', 'CLUSTER', 'a', 'b']]}",
     "/constraints(0)", "Each constraint must have either 2 or 3 fields"},
    {"{'id': 'x', 'cmd': 'c', 'constraints': [['', 'UNIQUE']]}", "/constraints(0)",
     "missing field for constraint declaration"},
    {"{'id': 'x', 'cmd': 'c', 'constraints': [['hostname', 'NEAR']]}", "/constraints(0)",
     OPERATORS},
    {"{'id': 'x', 'cmd': 'c', 'constraints': [['hostname', 'UNIQUE'], ['a', 'UNIQUE', 'x']]}",
     "/constraints(1)", "UNIQUE does not accept a value"},
    {"{'id': 'x', 'cmd': 'c', 'constraints': [['rack', 'GROUP_BY', 'two']]}", "/constraints(0)",
     "GROUP BY must define an integer value or else no value at all"},
    {"{'id': 'x', 'cmd': 'c', 'constraints': [['rack', 'MAX_PER']]}", "/constraints(0)",
     "MAX_PER requires an integer value"},
    {"{'id': 'x', 'cmd': 'c', 'constraints': [['rack', 'MAX_PER', '1.5']]}", "/constraints(0)",
     "MAX_PER requires an integer value"},
    {"{'id': 'x', 'cmd': 'c', 'constraints': [['rack', 'MAX_PER', '9999999999']]}",
     "/constraints(0)", "MAX_PER requires an integer value"},
    {"{'id': 'x', 'cmd': 'c', 'constraints': [['rack', 'LIKE']]}", "/constraints(0)",
     "LIKE and UNLIKE require a non-empty, regular expression value"},
    {"{'id': 'x', 'cmd': 'c', 'constraints': [['rack', 'UNLIKE', '']]}", "/constraints(0)",
     "LIKE and UNLIKE require a non-empty, regular expression value"},
    {"{'id': 'x', 'cmd': 'c', 'constraints': [['rack', 'LIKE', 'a(']]}", "/constraints(0)",
     "is not a valid regular expression"},
    {"{'id': 'x', 'cmd': 'c', 'constraints': [['rack', 'UNLIKE', '[z-a]']]}", "/constraints(0)",
     "is not a valid regular expression"},
    {"{'id': 'x', 'cmd': 'c', 'constraints': [['rack', 'IS', 'a b']]}", "/constraints(0)",
     "IS only supports Mesos text and float values (see "
     "http://mesos.apache.org/documentation/latest/attributes-resources/)"},
    {"{'id': 'x', 'cmd': 'c', 'constraints': ['hostname']}", "/constraints(0)",
     "error.expected.jsarray"},
    {"{'id': 'x', 'cmd': 'c', 'constraints': [['hostname', 1]]}", "/constraints(0)(1)",
     "error.expected.jsstring"},
    /* health checks */
    {"{'id': 'x', 'cmd': 'c', 'healthChecks': [{'protocol': 'FTP'}]}", "/healthChecks(0)/protocol",
     "error.unknown.enum.literal"},
    {"{'id': 'x', 'cmd': 'c', 'healthChecks': [{'portIndex': 1}]}", "/healthChecks(0)", PORT_INDEX},
    {"{'id': 'x', 'cmd': 'c', 'portDefinitions': [], 'healthChecks': [{'protocol': 'TCP'}]}",
     "/healthChecks(0)", PORT_INDEX},
    {"{'id': 'x', 'cmd': 'c', 'portDefinitions': [], 'healthChecks': [{'protocol': "
     "'MESOS_HTTP'}]}",
     "/healthChecks(0)", PORT_INDEX},
    {"{'id': 'x', 'cmd': 'c', 'healthChecks': [{'protocol': 'COMMAND'}]}",
     "/healthChecks(0)/command", "must be defined for a COMMAND health check"},
    {"{'id': 'x', 'cmd': 'c', 'healthChecks': [{'protocol': 'HTTP', 'command': {'value': 'c'}}]}",
     "/healthChecks(0)/command", "is only allowed with protocol COMMAND"},
    {"{'id': 'x', 'cmd': 'c', 'healthChecks': [{'command': {}}]}", "/healthChecks(0)/command/value",
     "error.path.missing"},
    {"{'id': 'x', 'cmd': 'c', 'healthChecks': [{'protocol': 'MESOS_HTTP'}, {'protocol': "
     "'MESOS_TCP'}]}",
     "/", "AppDefinition can contain at most one Mesos health check"},
    {"{'id': 'x', 'cmd': 'c', 'healthChecks': [{'command': {'value': 'true'}}, {'protocol': "
     "'MESOS_TCP'}]}",
     "/", "AppDefinition can contain at most one Mesos health check"},
    {"{'id': 'x', 'cmd': 'c', 'healthChecks': [{'protocol': 'MESOS_TCP'}]}",
     "/healthChecks(0)/protocol",
     "MESOS_HTTP, MESOS_HTTPS and MESOS_TCP health checks are not supported yet: use HTTP, "
     "HTTPS, TCP (run by Marathon) or COMMAND"},
    {"{'id': 'x', 'cmd': 'c', 'healthChecks': [{'intervalSeconds': -1}]}",
     "/healthChecks(0)/intervalSeconds", "got -1, expected 0 or more"},
    {"{'id': 'x', 'cmd': 'c', 'healthChecks': [{'maxConsecutiveFailures': 'x'}]}",
     "/healthChecks(0)/maxConsecutiveFailures", "error.expected.jsnumber"},
    {"{'id': 'x', 'cmd': 'c', 'healthChecks': [{'ipProtocol': 'IPv6'}]}", "/healthChecks(0)",
     "IPv6 can only be used for container type DOCKER and Mesos http/https/tcp health checks"},
    {"{'id': 'x', 'cmd': 'c', 'healthChecks': [5]}", "/healthChecks(0)", "error.expected.jsobject"},
    /* ports */
    {"{'id': 'x', 'cmd': 'c', 'portDefinitions': [{'name': 'http'}, {'name': 'http'}]}",
     "/portDefinitions", "Port names must be unique."},
    {"{'id': 'x', 'cmd': 'c', 'portDefinitions': [{'port': 8080}, {'port': 8080}]}",
     "/portDefinitions", "Ports must be unique."},
    {"{'id': 'x', 'cmd': 'c', 'portDefinitions': [{'port': 70000}]}", "/portDefinitions(0)/port",
     "got 70000, expected 65535 or less"},
    {"{'id': 'x', 'cmd': 'c', 'portDefinitions': [{'protocol': 'sctp'}]}",
     "/portDefinitions(0)/protocol", "error.unknown.enum.literal"},
    {"{'id': 'x', 'cmd': 'c', 'portDefinitions': [{'labels': {'VIP': 1}}]}",
     "/portDefinitions(0)/labels/VIP", "error.expected.jsstring"},
    {"{'id': 'x', 'cmd': 'c', 'ports': [80, 80]}", "/", "ports must be unique"},
    {"{'id': 'x', 'cmd': 'c', 'ports': [-1]}", "/ports(0)", "got -1, expected 0 or more"},
    {"{'id': 'x', 'cmd': 'c', 'ports': [80], 'portDefinitions': [{'port': 81}]}", "/",
     "cannot specify both ports and port definitions"},
    {"{'id': 'x', 'cmd': 'c', 'ports': [80, 81], 'portDefinitions': [{'port': 80}]}", "/",
     "cannot specify both ports and port definitions"},
    {"{'id': 'x', 'cmd': 'c', 'requirePorts': 'yes'}", "/requirePorts", "error.expected.jsboolean"},
    /* fetch and uris */
    {"{'id': 'x', 'cmd': 'c', 'uris': ['http://a/'], 'fetch': [{'uri': 'http://b/'}]}", "/uris",
     "may not be set in conjunction with fetch"},
    {"{'id': 'x', 'cmd': 'c', 'fetch': [{'uri': ''}]}", "/fetch(0)/uri", "error.minLength"},
    {"{'id': 'x', 'cmd': 'c', 'fetch': [{'uri': 'http://example.com/valid'}, {'uri': "
     "'d://\\nnot-a-uri'}]}",
     "/fetch(1)/uri", "URI has invalid syntax."},
    {"{'id': 'x', 'cmd': 'c', 'fetch': [{'uri': 'http://a/%zz'}]}", "/fetch(0)/uri",
     "URI has invalid syntax."},
    {"{'id': 'x', 'cmd': 'c', 'fetch': [{'uri': '1http://a/'}]}", "/fetch(0)/uri",
     "URI has invalid syntax."},
    {"{'id': 'x', 'cmd': 'c', 'fetch': [{}]}", "/fetch(0)/uri", "error.path.missing"},
    {"{'id': 'x', 'cmd': 'c', 'fetch': [{'uri': 'http://a/', 'extract': 'no'}]}",
     "/fetch(0)/extract", "error.expected.jsboolean"},
    {"{'id': 'x', 'cmd': 'c', 'uris': ['http://a b/']}", "/uris(0)", "URI has invalid syntax."},
    /* env and labels */
    {"{'id': 'x', 'cmd': 'c', 'env': {'A': 1}}", "/env/A", "error.expected.jsstring"},
    {"{'id': 'x', 'cmd': 'c', 'env': {'': 'v'}}", "/env/", "must not be empty"},
    {"{'id': 'x', 'cmd': 'c', 'env': {'DB': {'secret': 'db-password'}}}", "/env",
     "use of secret-references in the environment requires the secrets feature to be enabled"},
    {"{'id': 'x', 'cmd': 'c', 'env': 'A=1'}", "/env", "error.expected.jsobject"},
    {"{'id': 'x', 'cmd': 'c', 'labels': {'a': 1}}", "/labels/a", "error.expected.jsstring"},
    {"{'id': 'x', 'cmd': 'c', 'instances': 2, 'labels': {'MARATHON_SINGLE_INSTANCE_APP': "
     "'true'}}",
     "/", "Single instance app may only have one instance"},
    {"{'id': 'x', 'cmd': 'c', 'labels': {'MARATHON_SINGLE_INSTANCE_APP': 'true'}, "
     "'upgradeStrategy': {'minimumHealthCapacity': 1, 'maximumOverCapacity': 0}}",
     "/upgradeStrategy/minimumHealthCapacity", "got 1.0, expected 0.0"},
    {"{'id': 'x', 'cmd': 'c', 'labels': {'DCOS_MIGRATION_API_VERSION': 'v2'}}", "/",
     "DCOS_PACKAGE_FRAMEWORK_NAME and DCOS_MIGRATION_API_PATH must be defined when using "
     "DCOS_MIGRATION_API_VERSION"},
    /* dependencies */
    {"{'id': 'x', 'cmd': 'c', 'dependencies': ['Bad_dep']}", "/dependencies(0)", ID_REGEX},
    {"{'id': 'x', 'cmd': 'c', 'dependencies': [1]}", "/dependencies(0)", "error.expected.jsstring"},
    /* what this Marathon cannot honour */
    {"{'id': 'x', 'cmd': 'c', 'container': {'type': 'DOCKER', 'docker': {'image': 'nginx'}}}",
     "/container",
     "container: Docker containers are not supported by this Marathon: tasks run under the Mesos "
     "containerizer in the agent's filesystem (use no container, or \"type\": \"MESOS\" without "
     "an image)"},
    {"{'id': 'x', 'container': {'docker': {'image': 'nginx'}}}", "/container",
     "container: Docker containers are not supported by this Marathon: tasks run under the Mesos "
     "containerizer in the agent's filesystem (use no container, or \"type\": \"MESOS\" without "
     "an image)"},
    {"{'id': 'x', 'cmd': 'c', 'container': {'type': 'MESOS', 'docker': {'image': 'nginx'}}}",
     "/container/docker",
     "container: container images are not supported by this Marathon: tasks run in the agent's "
     "filesystem"},
    {"{'id': 'x', 'cmd': 'c', 'container': {'type': 'MESOS', 'appc': {'image': 'x'}}}",
     "/container/appc",
     "container: container images are not supported by this Marathon: tasks run in the agent's "
     "filesystem"},
    {"{'id': 'x', 'cmd': 'c', 'container': {'type': 'MESOS', 'volumes': [{'containerPath': "
     "'/d', 'hostPath': '/d', 'mode': 'RW'}]}}",
     "/container/volumes", "container: volumes are not supported by this Marathon"},
    {"{'id': 'x', 'cmd': 'c', 'container': {'type': 'MESOS', 'portMappings': [{'containerPort': "
     "80}]}}",
     "/", "portMappings are not allowed with host-networking"},
    {"{'id': 'x', 'cmd': 'c', 'container': {'type': 'RKT'}}", "/container/type",
     "error.unknown.enum.literal"},
    {"{'id': 'x', 'cmd': 'c', 'networks': [{'mode': 'container', 'name': 'dcos'}]}",
     "/networks(0)/mode",
     "networks: mode 'container' is not supported by this Marathon: tasks use the agent's "
     "network (only mode 'host' is supported)"},
    {"{'id': 'x', 'cmd': 'c', 'networks': [{'mode': 'host'}, {'mode': 'container/bridge'}]}",
     "/networks(1)/mode",
     "networks: mode 'container/bridge' is not supported by this Marathon: tasks use the "
     "agent's network (only mode 'host' is supported)"},
    {"{'id': 'x', 'cmd': 'c', 'networks': [{'name': 'dcos'}]}", "/networks(0)/mode",
     "networks: mode 'container' (the default) is not supported by this Marathon: tasks use the "
     "agent's network (only mode 'host' is supported)"},
    {"{'id': 'x', 'cmd': 'c', 'networks': [{'mode': 'bridge'}]}", "/networks(0)/mode",
     "error.unknown.enum.literal"},
    {"{'id': 'x', 'cmd': 'c', 'gpus': 1}", "/gpus",
     "gpus: GPU resources are not supported by this Marathon (its agents offer no GPUs); use 0"},
    {"{'id': 'x', 'cmd': 'c', 'residency': {'taskLostBehavior': 'WAIT_FOREVER'}}", "/residency",
     "residency: resident apps (persistent local volumes) are not supported by this Marathon"},
    {"{'id': 'x', 'cmd': 'c', 'ipAddress': {'networkName': 'dcos'}}", "/ipAddress",
     "ipAddress: IP-per-task networking is not supported by this Marathon: tasks use the agent's "
     "network"},
    {"{'id': 'x', 'cmd': 'c', 'executor': '/opt/my-executor'}", "/executor",
     "executor: custom executors are not supported by this Marathon: use \"\" or \"//cmd\" (the "
     "command executor)"},
    {"{'id': 'x', 'cmd': 'c', 'executor': '/test/'}", "/executor",
     "must fully match regular expression '^(//cmd)|(/?[^/]+(/[^/]+)*)|$'"},
    {"{'id': 'x', 'cmd': 'c', 'executor': '/test//path'}", "/executor",
     "must fully match regular expression '^(//cmd)|(/?[^/]+(/[^/]+)*)|$'"},
    {"{'id': 'x', 'cmd': 'c', 'secrets': {'pw': {'source': 'db/pw'}}}", "/secrets",
     "secrets: not supported by this Marathon: it has no secret store (Marathon's feature "
     "'secrets' is not enabled)"},
    /* kept schema fields still have types */
    {"{'id': 'x', 'cmd': 'c', 'acceptedResourceRoles': []}", "/acceptedResourceRoles",
     "must not be empty"},
    {"{'id': 'x', 'cmd': 'c', 'acceptedResourceRoles': [1]}", "/acceptedResourceRoles(0)",
     "error.expected.jsstring"},
    {"{'id': 'x', 'cmd': 'c', 'tty': 'yes'}", "/tty", "error.expected.jsboolean"},
    {"{'id': 'x', 'cmd': 'c', 'role': 5}", "/role", "error.expected.jsstring"},
    {"{'id': 'x', 'cmd': 'c', 'readinessChecks': {}}", "/readinessChecks",
     "error.expected.jsarray"},
    {"{'id': 'x', 'cmd': 'c', 'storeUrls': [5]}", "/storeUrls(0)", "error.expected.jsstring"},
    /* the body itself */
    {"[]", "/", "error.expected.jsobject"},
};

/* Our test JSON uses single quotes for readability. */
static char *quotes(const char *text)
{
    char *out = strdup(text);
    assert_non_null(out);
    for (char *p = out; *p != '\0'; p++)
        if (*p == '\'')
            *p = '"';
    return out;
}

static void test_each_rule(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
        char *text = quotes(rules[i].json);
        json_t *details = refuse(text);
        if (details == NULL)
            fail_msg("accepted: %s", text);
        if (!has_error(details, rules[i].path, rules[i].message)) {
            char *got = json_dumps(details, JSON_COMPACT);
            fail_msg("%s\nwant %s: %s\ngot  %s", text, rules[i].path, rules[i].message, got);
        }
        json_decref(details);
        free(text);
    }
}

static void test_long_uri(void **state)
{
    (void)state;
    char *uri = malloc(1100);
    assert_non_null(uri);
    memset(uri, 'a', 1099);
    memcpy(uri, "http://", 7);
    uri[1025] = '\0';
    json_t *json = json_pack("{s:s, s:s, s:[{s:s}]}", "id", "x", "cmd", "c", "fetch", "uri", uri);
    marathon_app_t *app = NULL;
    json_t *details = NULL;
    assert_int_equal(marathon_app_from_json(json, NULL, NULL, &app, &details), ACTOR_EINVAL);
    assert_true(has_error(details, "/fetch(0)/uri", "error.maxLength"));
    json_decref(details);
    uri[1024] = '\0'; /* exactly 1024: accepted */
    json_object_set_new(json, "fetch", json_pack("[{s:s}]", "uri", uri));
    assert_int_equal(marathon_app_from_json(json, NULL, NULL, &app, &details), ACTOR_OK);
    marathon_app_free(app);
    json_decref(json);
    free(uri);
}

/* Several rules broken at once: one detail per path, each listing its messages. */
static void test_several_details(void **state)
{
    (void)state;
    char *text = quotes("{'id': '/', 'cpus': -1, 'mem': -2, 'constraints': [['a', 'B']]}");
    json_t *details = refuse(text);
    assert_non_null(details);
    assert_int_equal(json_array_size(details), 5); /* /id, /, /cpus, /mem, /constraints(0) */
    assert_true(has_error(details, "/cpus", "got -1.0, expected 0.0 or more"));
    assert_true(has_error(details, "/mem", "got -2.0, expected 0.0 or more"));
    size_t i;
    json_t *detail;
    json_array_foreach(details, i, detail)
    {
        if (strcmp(json_string_value(json_object_get(detail, "path")), "/") == 0) {
            json_t *errors = json_object_get(detail, "errors");
            assert_int_equal(json_array_size(errors), 2);
            assert_true(has_error(details, "/", "must not be root"));
            assert_true(has_error(details, "/", CMD_ARGS));
        }
    }
    assert_string_equal(marathon_app_error_message(details), "Object is not valid");
    json_decref(details);
    free(text);
}

/* A value of the wrong type is reported alone, as Marathon reports "Invalid JSON" before it
 * validates. */
static void test_schema_errors_first(void **state)
{
    (void)state;
    char *text = quotes("{'id': 'x', 'cmd': 'c', 'cpus': 'many', 'mem': -1}");
    json_t *details = refuse(text);
    assert_non_null(details);
    assert_int_equal(json_array_size(details), 1);
    assert_true(has_error(details, "/cpus", "error.expected.jsnumber"));
    assert_string_equal(marathon_app_error_message(details), "Invalid JSON");
    json_decref(details);
    free(text);
}

/* Definitions that must pass: each rule's boundary and the forms Marathon accepts. */
static const char *const accepted[] = {
    "{'id': 'x', 'cmd': 'c'}",
    "{'id': 'x', 'args': ['/bin/sleep', '10']}",
    "{'id': 'x', 'cmd': '/usr/bin/node', 'args': ['web-app.js']}",
    "{'id': 'x', 'cmd': 'c', 'cpus': 0, 'mem': 0, 'disk': 0, 'instances': 0, 'gpus': 0}",
    "{'id': 'x', 'cmd': 'c', 'instances': 2.0, 'backoffFactor': 1}",
    "{'id': 'x', 'cmd': 'c', 'upgradeStrategy': {'minimumHealthCapacity': 0, "
    "'maximumOverCapacity': 1}}",
    "{'id': 'x', 'cmd': 'c', 'unreachableStrategy': 'disabled'}",
    "{'id': 'x', 'cmd': 'c', 'unreachableStrategy': {'inactiveAfterSeconds': 300, "
    "'expungeAfterSeconds': 300}}",
    "{'id': 'x', 'cmd': 'c', 'killSelection': 'oldest_first'}",
    "{'id': 'x', 'cmd': 'c', 'constraints': [['hostname', 'unique'], ['@zone', 'CLUSTER'], "
    "['rack', 'CLUSTER', 'r1'], ['rack', 'GROUP_BY'], ['rack', 'GROUP_BY', '3'], "
    "['rack', 'MAX_PER', '+2'], ['rack', 'LIKE', 'r[0-9]+'], ['rack', 'UNLIKE', 'r(1|2)'], "
    "['size', 'IS', '1.5'], ['os', 'IS']]}",
    "{'id': 'x', 'cmd': 'c', 'healthChecks': [{'protocol': 'http', 'path': '/health'}, "
    "{'protocol': 'TCP', 'portIndex': 0}, {'protocol': 'HTTPS', 'port': 8443}, "
    "{'command': {'value': 'true'}}]}",
    "{'id': 'x', 'cmd': 'c', 'portDefinitions': [], 'healthChecks': [{'protocol': 'COMMAND', "
    "'command': {'value': 'true'}}]}",
    "{'id': 'x', 'cmd': 'c', 'portDefinitions': [{'port': 0}, {'port': 0}, {'port': 80, "
    "'protocol': 'udp,tcp', 'name': 'web', 'labels': {'VIP_0': '1.2.3.4:80'}}]}",
    "{'id': 'x', 'cmd': 'c', 'ports': [0, 0, 8080], 'portDefinitions': [{'port': 0}, {'port': 0},"
    " {'port': 8080}]}",
    "{'id': 'x', 'cmd': 'c', 'uris': ['http://a/', 'file:///tmp/x.tgz'], 'fetch': []}",
    "{'id': 'x', 'cmd': 'c', 'fetch': [{'uri': '/root/file', 'destPath': 'f', 'cache': true}]}",
    "{'id': 'x', 'cmd': 'c', 'env': {'A': '1', 'B': ''}, 'labels': {}}",
    "{'id': 'x', 'cmd': 'c', 'container': {'type': 'MESOS'}}",
    "{'id': 'x', 'cmd': 'c', 'container': {'type': 'mesos', 'volumes': [], 'portMappings': []}}",
    "{'id': 'x', 'cmd': 'c', 'networks': [{'mode': 'host'}]}",
    "{'id': 'x', 'cmd': 'c', 'networks': []}",
    "{'id': 'x', 'cmd': 'c', 'executor': '//cmd'}",
    "{'id': 'x', 'cmd': 'c', 'executor': ''}",
    "{'id': 'x', 'cmd': 'c', 'secrets': {}, 'residency': null, 'ipAddress': null}",
    "{'id': 'x', 'cmd': 'c', 'labels': {'MARATHON_SINGLE_INSTANCE_APP': 'true'}}",
    "{'id': 'x', 'cmd': 'c', 'labels': {'DCOS_MIGRATION_API_VERSION': 'v1', "
    "'DCOS_PACKAGE_FRAMEWORK_NAME': 'f', 'DCOS_MIGRATION_API_PATH': '/p'}}",
    "{'id': 'x', 'cmd': 'c', 'dependencies': ['../y', '/z']}",
    "{'id': 'x', 'cmd': 'c', 'version': 'anything', 'versionInfo': 5, 'unknownField': [1]}",
    "{'id': 'x', 'cmd': null, 'args': ['a'], 'user': null, 'env': null}",
};

static void test_accepted(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(accepted) / sizeof(accepted[0]); i++) {
        char *text = quotes(accepted[i]);
        json_t *details = refuse(text);
        if (details != NULL) {
            char *got = json_dumps(details, JSON_COMPACT);
            fail_msg("refused: %s\n%s", text, got);
        }
        free(text);
    }
}

static void test_format_double(void **state)
{
    (void)state;
    static const struct {
        double value;
        const char *text;
    } cases[] = {
        {-3, "-3.0"},         {1.2, "1.2"},           {0, "0.0"},         {0.5, "0.5"},
        {1.15, "1.15"},       {0.001, "0.001"},       {1e-5, "1.0E-5"},   {123.25, "123.25"},
        {1e7, "1.0E7"},       {9999999, "9999999.0"}, {0.0123, "0.0123"}, {-0.1, "-0.1"},
        {1.5e-10, "1.5E-10"}, {100, "100.0"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char text[40];
        app_format_double(cases[i].value, text, sizeof(text));
        assert_string_equal(text, cases[i].text);
    }
}

static void test_uri_syntax(void **state)
{
    (void)state;
    static const char *const good[] = {"http://example.com/a?b=c#d",
                                       "/root/file",
                                       "file.tgz",
                                       "hdfs://n:8020/p",
                                       "s3a://b/k%20x",
                                       "http://[::1]:8/"};
    static const char *const bad[] = {
        "http://a b", "http://a/\"x\"", "http://a/%2", ":nope",
        "1a://b",     "mailto:",        "a#b#c",       "http://a/{x}"};
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        if (!app_uri_syntax_ok(good[i]))
            fail_msg("refused %s", good[i]);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (app_uri_syntax_ok(bad[i]))
            fail_msg("accepted %s", bad[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_each_rule),       cmocka_unit_test(test_long_uri),
        cmocka_unit_test(test_several_details), cmocka_unit_test(test_schema_errors_first),
        cmocka_unit_test(test_accepted),        cmocka_unit_test(test_format_double),
        cmocka_unit_test(test_uri_syntax),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
