/*
 * app_validate.c: the rules of Marathon 1.10's app validation and their messages
 * (api/v2/validation/AppValidation.scala, SchedulingValidation.scala, state/PathId.scala, with
 * accord's wording for ranges: "got -3.0, expected 0.0 or more"), and the error details they
 * produce, grouped by JSON path as Marathon's `failureWrites` groups them.
 *
 * The field-level rules are called by the reader (app_json.c) while it walks the JSON, because
 * their paths name array elements and map keys; the rules that relate several fields run here
 * over the finished app (app_validate()).
 */
#include <math.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "frameworks/marathon/app_int.h"

/* --- error details ------------------------------------------------------------------------ */

static json_t *detail_for(json_t *details, const char *path)
{
    size_t i;
    json_t *detail;
    json_array_foreach(details, i, detail)
    {
        if (strcmp(json_string_value(json_object_get(detail, "path")), path) == 0)
            return json_object_get(detail, "errors");
    }
    json_t *errors = json_array();
    detail = json_pack("{s:s, s:o}", "path", path, "errors", errors);
    if (detail == NULL || json_array_append_new(details, detail) != 0)
        return NULL;
    return errors;
}

void app_error_add(app_ctx_t *ctx, json_t *details, const char *path, const char *fmt, ...)
{
    char *message = NULL;
    va_list ap;
    va_start(ap, fmt);
    int n = vasprintf(&message, fmt, ap);
    va_end(ap);
    json_t *errors = n < 0 ? NULL : detail_for(details, path);
    if (errors == NULL || json_array_append_new(errors, json_string(message)) != 0)
        ctx->nomem = true;
    free(n < 0 ? NULL : message);
}

char *app_path(app_ctx_t *ctx, const char *fmt, ...)
{
    char *path = NULL;
    va_list ap;
    va_start(ap, fmt);
    int n = vasprintf(&path, fmt, ap);
    va_end(ap);
    if (n < 0) {
        ctx->nomem = true;
        return NULL;
    }
    return path;
}

void app_schema_error(app_ctx_t *ctx, const char *path, const char *key)
{
    app_error_add(ctx, ctx->schema, path, "%s", key);
}

const char *marathon_app_error_message(const json_t *details)
{
    size_t i, j;
    json_t *detail, *error;
    json_array_foreach(details, i, detail)
    {
        json_array_foreach(json_object_get(detail, "errors"), j, error)
        {
            const char *text = json_string_value(error);
            if (text != NULL && strncmp(text, "error.", 6) == 0)
                return "Invalid JSON";
        }
    }
    return "Object is not valid";
}

/* --- numbers in Scala's words ------------------------------------------------------------- */

void app_format_double(double value, char *out, size_t len)
{
    if (value == 0 || !isfinite(value)) {
        snprintf(out, len, "%s", value == 0 ? (signbit(value) ? "-0.0" : "0.0") : "NaN");
        return;
    }
    /* The shortest mantissa that reads back as value, as Java prints doubles. */
    char sci[40];
    for (int precision = 1; precision <= 17; precision++) {
        snprintf(sci, sizeof(sci), "%.*e", precision - 1, value);
        if (strtod(sci, NULL) == value)
            break;
    }
    char digits[24];
    size_t nd = 0;
    const char *p = sci + (sci[0] == '-');
    for (; *p != 'e'; p++)
        if (*p != '.')
            digits[nd++] = *p;
    digits[nd] = '\0';
    int exp = atoi(p + 1);
    double mag = fabs(value);
    char text[64];
    size_t w = 0;
    if (value < 0)
        text[w++] = '-';
    if (mag < 1e-3 || mag >= 1e7) {
        snprintf(text + w, sizeof(text) - w, "%c.%sE%d", digits[0], nd > 1 ? digits + 1 : "0", exp);
    } else if (exp < 0) { /* 0.00ddd */
        text[w++] = '0';
        text[w++] = '.';
        for (int i = 0; i < -exp - 1; i++)
            text[w++] = '0';
        snprintf(text + w, sizeof(text) - w, "%s", digits);
    } else { /* ddd.ddd, at least one digit after the point */
        for (int i = 0; i <= exp; i++)
            text[w++] = (size_t)i < nd ? digits[i] : '0';
        text[w++] = '.';
        snprintf(text + w, sizeof(text) - w, "%s", (size_t)exp + 1 < nd ? digits + exp + 1 : "0");
    }
    snprintf(out, len, "%s", text);
}

bool app_check_min_double(app_ctx_t *ctx, const char *path, double value, double min)
{
    if (value >= min)
        return true;
    char got[40], want[40];
    app_format_double(value, got, sizeof(got));
    app_format_double(min, want, sizeof(want));
    app_error_add(ctx, ctx->invalid, path, "got %s, expected %s or more", got, want);
    return false;
}

bool app_check_min_int(app_ctx_t *ctx, const char *path, int64_t value, int64_t min)
{
    if (value >= min)
        return true;
    app_error_add(ctx, ctx->invalid, path, "got %lld, expected %lld or more", (long long)value,
                  (long long)min);
    return false;
}

bool app_check_max_int(app_ctx_t *ctx, const char *path, int64_t value, int64_t max)
{
    if (value <= max)
        return true;
    app_error_add(ctx, ctx->invalid, path, "got %lld, expected %lld or less", (long long)value,
                  (long long)max);
    return false;
}

bool app_check_between(app_ctx_t *ctx, const char *path, double value, double lo, double hi)
{
    if (value >= lo && value <= hi)
        return true;
    char got[40], low[40], high[40];
    app_format_double(value, got, sizeof(got));
    app_format_double(lo, low, sizeof(low));
    app_format_double(hi, high, sizeof(high));
    app_error_add(ctx, ctx->invalid, path, "got %s, expected between %s and %s", got, low, high);
    return false;
}

/* --- constraints -------------------------------------------------------------------------- */

const char *const app_constraint_op_names[APP_CONSTRAINT_OP_COUNT] = {
    [MARATHON_CONSTRAINT_UNIQUE] = "UNIQUE",
    [MARATHON_CONSTRAINT_CLUSTER] = "CLUSTER",
    [MARATHON_CONSTRAINT_GROUP_BY] = "GROUP_BY",
    [MARATHON_CONSTRAINT_LIKE] = "LIKE",
    [MARATHON_CONSTRAINT_UNLIKE] = "UNLIKE",
    [MARATHON_CONSTRAINT_MAX_PER] = "MAX_PER",
    [MARATHON_CONSTRAINT_IS] = "IS",
};

/* Java's Integer.parseInt: an optional sign, decimal digits, within 32 bits. */
static bool is_int32(const char *s)
{
    const char *p = s + (s[0] == '+' || s[0] == '-');
    if (*p == '\0' || strspn(p, "0123456789") != strlen(p))
        return false;
    long long v = strtoll(s, NULL, 10);
    return v >= INT32_MIN && v <= INT32_MAX;
}

/* Compiles the value as the matcher uses it: anchored, POSIX extended. */
static bool regex_ok(app_ctx_t *ctx, const char *value)
{
    size_t n = strlen(value);
    char *anchored = malloc(n + 5);
    if (anchored == NULL) {
        ctx->nomem = true;
        return true;
    }
    snprintf(anchored, n + 5, "^(%s)$", value);
    regex_t re;
    int rc = regcomp(&re, anchored, REG_EXTENDED | REG_NOSUB);
    if (rc == 0)
        regfree(&re);
    free(anchored);
    return rc == 0;
}

/* The value rule of each operator; NULL when value passes. */
static const char *constraint_value_error(app_ctx_t *ctx, marathon_constraint_op_t op,
                                          const char *value)
{
    switch (op) {
    case MARATHON_CONSTRAINT_UNIQUE:
        return value != NULL ? "UNIQUE does not accept a value" : NULL;
    case MARATHON_CONSTRAINT_CLUSTER:
        return NULL;
    case MARATHON_CONSTRAINT_GROUP_BY:
        return value != NULL && !is_int32(value)
                   ? "GROUP BY must define an integer value or else no value at all"
                   : NULL;
    case MARATHON_CONSTRAINT_MAX_PER:
        return value == NULL || !is_int32(value) ? "MAX_PER requires an integer value" : NULL;
    case MARATHON_CONSTRAINT_LIKE:
    case MARATHON_CONSTRAINT_UNLIKE:
        if (value == NULL || value[0] == '\0')
            return "LIKE and UNLIKE require a non-empty, regular expression value";
        return regex_ok(ctx, value) ? NULL : "is not a valid regular expression";
    case MARATHON_CONSTRAINT_IS:
        return value != NULL && strspn(value, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                              "0123456789_/.-") != strlen(value)
                   ? "IS only supports Mesos text and float values (see "
                     "http://mesos.apache.org/documentation/latest/attributes-resources/)"
                   : NULL;
    }
    return NULL;
}

bool app_constraint_check(app_ctx_t *ctx, const char *path, const char *const *parts, size_t n,
                          marathon_constraint_t *out)
{
    const char *error = NULL;
    int op = -1;
    if (n < 2 || n > 3) {
        error = "Each constraint must have either 2 or 3 fields";
    } else if (parts[0][0] == '\0') {
        error = "missing field for constraint declaration";
    } else {
        for (size_t i = 0; i < APP_CONSTRAINT_OP_COUNT; i++)
            if (strcasecmp(parts[1], app_constraint_op_names[i]) == 0)
                op = (int)i;
        error = op < 0 ? "operator must be one of the following UNIQUE, CLUSTER, GROUP_BY, LIKE, "
                         "MAX_PER, UNLIKE or IS"
                       : constraint_value_error(ctx, (marathon_constraint_op_t)op,
                                                n == 3 ? parts[2] : NULL);
    }
    if (error != NULL) {
        app_error_add(ctx, ctx->invalid, path, "%s", error);
        return false;
    }
    out->field = (char *)parts[0];
    out->op = (marathon_constraint_op_t)op;
    out->value = n == 3 ? (char *)parts[2] : NULL;
    return true;
}

/* --- URIs --------------------------------------------------------------------------------- */

static bool is_hex(char ch)
{
    return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F');
}

/* The scheme ends at the first ':' before any '/', '?' or '#'; it must be a letter followed by
 * letters, digits, '+', '-' or '.', and an opaque part after it must not be empty. */
static bool scheme_ok(const char *uri)
{
    size_t n = strcspn(uri, ":/?#");
    if (uri[n] != ':')
        return true;
    if (n == 0 || !((uri[0] | 0x20) >= 'a' && (uri[0] | 0x20) <= 'z'))
        return false;
    for (size_t i = 1; i < n; i++) {
        char ch = uri[i];
        if (!((ch | 0x20) >= 'a' && (ch | 0x20) <= 'z') && !(ch >= '0' && ch <= '9') && ch != '+' &&
            ch != '-' && ch != '.')
            return false;
    }
    return uri[n + 1] != '\0';
}

bool app_uri_syntax_ok(const char *uri)
{
    bool fragment = false;
    for (const unsigned char *p = (const unsigned char *)uri; *p != '\0'; p++) {
        if (*p <= 0x20 || *p == 0x7f || strchr("\"<>\\^`{|}", *p) != NULL)
            return false;
        if (*p == '%' && !(is_hex((char)p[1]) && is_hex((char)p[2])))
            return false;
        if (*p == '#') {
            if (fragment)
                return false;
            fragment = true;
        }
    }
    return scheme_ok(uri);
}

/* --- rules over the whole app --------------------------------------------------------------- */

const char *const app_health_protocol_names[APP_HEALTH_PROTOCOL_COUNT] = {
    [MARATHON_HEALTH_HTTP] = "HTTP",
    [MARATHON_HEALTH_HTTPS] = "HTTPS",
    [MARATHON_HEALTH_TCP] = "TCP",
    [MARATHON_HEALTH_COMMAND] = "COMMAND",
    [MARATHON_HEALTH_MESOS_HTTP] = "MESOS_HTTP",
    [MARATHON_HEALTH_MESOS_HTTPS] = "MESOS_HTTPS",
    [MARATHON_HEALTH_MESOS_TCP] = "MESOS_TCP",
};

static void validate_command(app_ctx_t *ctx, const marathon_app_t *app)
{
    bool cmd = app->cmd != NULL && app->cmd[0] != '\0';
    if (!cmd && app->args_count == 0)
        app_error_add(ctx, ctx->invalid, "/",
                      "AppDefinition must either contain one of 'cmd' or 'args', and/or a "
                      "'container'.");
}

static void validate_port_definitions(app_ctx_t *ctx, const marathon_app_t *app)
{
    bool names_clash = false, ports_clash = false;
    const marathon_port_definition_t *defs = app->port_definitions;
    for (size_t i = 0; i < app->port_definition_count; i++) {
        for (size_t j = i + 1; j < app->port_definition_count; j++) {
            if (defs[i].name != NULL && defs[j].name != NULL &&
                strcmp(defs[i].name, defs[j].name) == 0)
                names_clash = true;
            if (defs[i].port != 0 && defs[i].port == defs[j].port)
                ports_clash = true;
        }
    }
    if (names_clash)
        app_error_add(ctx, ctx->invalid, "/portDefinitions", "Port names must be unique.");
    if (ports_clash)
        app_error_add(ctx, ctx->invalid, "/portDefinitions", "Ports must be unique.");
}

static void validate_health_checks(app_ctx_t *ctx, const marathon_app_t *app)
{
    size_t mesos_checks = 0;
    for (size_t i = 0; i < app->health_check_count; i++) {
        const marathon_health_check_t *hc = &app->health_checks[i];
        if (hc->protocol == MARATHON_HEALTH_COMMAND || hc->protocol >= MARATHON_HEALTH_MESOS_HTTP)
            mesos_checks++;
        if (hc->protocol >= MARATHON_HEALTH_MESOS_HTTP) {
            /* The agent's command executor runs COMMAND checks only: refused rather than a
             * check that would silently never run. */
            char *where = app_path(ctx, "/healthChecks(%zu)/protocol", i);
            if (where != NULL)
                app_error_add(ctx, ctx->invalid, where,
                              "MESOS_HTTP, MESOS_HTTPS and MESOS_TCP health checks are not "
                              "supported yet: use HTTP, HTTPS, TCP (run by Marathon) or COMMAND");
            free(where);
        }
        if (hc->protocol == MARATHON_HEALTH_COMMAND || hc->has_port ||
            hc->port_index < app->port_definition_count)
            continue;
        char *path = app_path(ctx, "/healthChecks(%zu)", i);
        if (path != NULL)
            app_error_add(ctx, ctx->invalid, path,
                          "Health check port indices must address an element of the ports array "
                          "or container port mappings.");
        free(path);
    }
    if (mesos_checks > 1)
        app_error_add(ctx, ctx->invalid, "/",
                      "AppDefinition can contain at most one Mesos health check");
}

static const char *label(const marathon_app_t *app, const char *name)
{
    return app->labels == NULL ? NULL : json_string_value(json_object_get(app->labels, name));
}

/* accord's `should be == 0.0` */
static void check_zero(app_ctx_t *ctx, const char *path, double value)
{
    char got[40];
    app_format_double(value, got, sizeof(got));
    if (value != 0)
        app_error_add(ctx, ctx->invalid, path, "got %s, expected 0.0", got);
}

static void validate_labels(app_ctx_t *ctx, const marathon_app_t *app)
{
    const char *single = label(app, "MARATHON_SINGLE_INSTANCE_APP");
    if (single != NULL && strcmp(single, "true") == 0) {
        if (app->instances > 1)
            app_error_add(ctx, ctx->invalid, "/", "Single instance app may only have one instance");
        check_zero(ctx, "/upgradeStrategy/minimumHealthCapacity", app->minimum_health_capacity);
        check_zero(ctx, "/upgradeStrategy/maximumOverCapacity", app->maximum_over_capacity);
    }
    const char *version = label(app, "DCOS_MIGRATION_API_VERSION");
    const char *framework = label(app, "DCOS_PACKAGE_FRAMEWORK_NAME");
    const char *api_path = label(app, "DCOS_MIGRATION_API_PATH");
    if (version != NULL && version[0] != '\0' &&
        (strcmp(version, "v1") != 0 || framework == NULL || framework[0] == '\0' ||
         api_path == NULL || api_path[0] == '\0'))
        app_error_add(ctx, ctx->invalid, "/",
                      "DCOS_PACKAGE_FRAMEWORK_NAME and DCOS_MIGRATION_API_PATH must be defined "
                      "when using DCOS_MIGRATION_API_VERSION");
}

void app_validate(app_ctx_t *ctx, const marathon_app_t *app)
{
    validate_command(ctx, app);
    validate_port_definitions(ctx, app);
    validate_health_checks(ctx, app);
    validate_labels(ctx, app);
    if (!app->unreachable_disabled)
        app_check_max_int(ctx, "/unreachableStrategy/inactiveAfterSeconds",
                          (int64_t)app->unreachable_inactive_after_seconds,
                          (int64_t)app->unreachable_expunge_after_seconds);
}
