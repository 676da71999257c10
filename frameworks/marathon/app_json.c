/*
 * app_json.c: Marathon's app JSON to marathon_app_t and back.
 *
 * Reading walks the fields of Marathon 1.10's App schema (docs/.../types/app.raml) in a fixed
 * order, checks each value's JSON type (Play's "error.expected.*" keys on a mismatch), applies
 * the field's rules (app_validate.c) with its path, converts the deprecated forms (`uris` to
 * `fetch`, `ports` to `portDefinitions`) and fills defaults. Fields outside the schema are
 * ignored, as Marathon's generated readers ignore them. Schema fields we keep but do not act on
 * go to `extra`; those we cannot honour are refused under their own path.
 *
 * Writing produces the canonical form Marathon answers with (raml/AppConversion.scala), keys in
 * the order of the schema, `extra` merged in at its place.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "frameworks/marathon/app_int.h"

#define PATH_LEN 160 /* our own paths: a field, an index and a nested field */

/* --- reading: values ---------------------------------------------------------------------- */

/* The value at key, or NULL when it is absent or JSON null (Marathon reads null as absent). */
static const json_t *get(const json_t *obj, const char *key)
{
    const json_t *v = json_object_get(obj, key);
    return json_is_null(v) ? NULL : v;
}

/* Formats one of our own paths into out (PATH_LEN bytes); they are short by construction. */
static void pathf(char *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void pathf(char *out, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out, PATH_LEN, fmt, ap);
    va_end(ap);
}

static void join(char *out, const char *base, const char *key)
{
    pathf(out, "%s/%s", base, key);
}

static bool want_string(app_ctx_t *c, const json_t *v, const char *path, const char **out)
{
    if (!json_is_string(v)) {
        app_schema_error(c, path, "error.expected.jsstring");
        return false;
    }
    if (strlen(json_string_value(v)) != json_string_length(v)) {
        app_error_add(c, c->invalid, path, "must not contain NUL characters");
        return false;
    }
    *out = json_string_value(v);
    return true;
}

static bool want_number(app_ctx_t *c, const json_t *v, const char *path, double *out)
{
    if (!json_is_number(v)) {
        app_schema_error(c, path, "error.expected.jsnumber");
        return false;
    }
    *out = json_number_value(v);
    return true;
}

/* An integer of Play's Int (32 bits) or Long (64): 2.0 is one, 2.5 is not. */
static bool want_int(app_ctx_t *c, const json_t *v, const char *path, bool wide, int64_t *out)
{
    double d;
    if (!want_number(c, v, path, &d))
        return false;
    int64_t lo = wide ? INT64_MIN : INT32_MIN, hi = wide ? INT64_MAX : INT32_MAX;
    if (json_is_integer(v) && json_integer_value(v) >= lo && json_integer_value(v) <= hi) {
        *out = json_integer_value(v);
        return true;
    }
    if (json_is_real(v) && d == (double)(int64_t)d && d >= (double)lo && d < (double)hi) {
        *out = (int64_t)d;
        return true;
    }
    app_schema_error(c, path, wide ? "error.expected.long" : "error.expected.int");
    return false;
}

static bool want_type(app_ctx_t *c, const json_t *v, const char *path, json_type type)
{
    static const char *const keys[] = {
        [JSON_OBJECT] = "error.expected.jsobject",
        [JSON_ARRAY] = "error.expected.jsarray",
        [JSON_STRING] = "error.expected.jsstring",
        [JSON_TRUE] = "error.expected.jsboolean",
    };
    bool ok = type == JSON_TRUE ? json_is_boolean(v) : json_typeof(v) == type;
    if (!ok)
        app_schema_error(c, path, keys[type]);
    return ok;
}

/* A literal of an enum, compared case-insensitively as Marathon's generated enums compare. */
static bool want_enum(app_ctx_t *c, const json_t *v, const char *path, const char *const *names,
                      size_t n, int *out)
{
    const char *s = json_string_value(v);
    for (size_t i = 0; s != NULL && i < n; i++) {
        if (names[i] != NULL && strcasecmp(s, names[i]) == 0) {
            *out = (int)i;
            return true;
        }
    }
    app_schema_error(c, path, "error.unknown.enum.literal");
    return false;
}

/* The get_* helpers read obj[key] with its path base/key: true when present and well formed. */
static bool get_string(app_ctx_t *c, const json_t *obj, const char *base, const char *key,
                       const char **out)
{
    char path[PATH_LEN];
    const json_t *v = get(obj, key);
    join(path, base, key);
    return v != NULL && want_string(c, v, path, out);
}

static bool get_bool(app_ctx_t *c, const json_t *obj, const char *base, const char *key, bool *out)
{
    char path[PATH_LEN];
    const json_t *v = get(obj, key);
    join(path, base, key);
    if (v == NULL || !want_type(c, v, path, JSON_TRUE))
        return false;
    *out = json_is_true(v);
    return true;
}

static bool get_typed(app_ctx_t *c, const json_t *obj, const char *base, const char *key,
                      json_type type, const json_t **out)
{
    char path[PATH_LEN];
    *out = get(obj, key);
    join(path, base, key);
    return *out != NULL && want_type(c, *out, path, type);
}

/* A number at least min ("got -3.0, expected 0.0 or more"). */
static bool get_min_double(app_ctx_t *c, const json_t *obj, const char *base, const char *key,
                           double min, double *out)
{
    char path[PATH_LEN];
    const json_t *v = get(obj, key);
    double d;
    join(path, base, key);
    if (v == NULL || !want_number(c, v, path, &d) || !app_check_min_double(c, path, d, min))
        return false;
    *out = d;
    return true;
}

/* An integer in [min, max] ("got -3, expected 0 or more"). */
static bool get_int_range(app_ctx_t *c, const json_t *obj, const char *base, const char *key,
                          int64_t min, int64_t max, int64_t *out)
{
    char path[PATH_LEN];
    const json_t *v = get(obj, key);
    int64_t n;
    join(path, base, key);
    if (v == NULL || !want_int(c, v, path, max > INT32_MAX, &n) ||
        !app_check_min_int(c, path, n, min) || !app_check_max_int(c, path, n, max))
        return false;
    *out = n;
    return true;
}

/* A fraction in [0, 1] ("got 1.2, expected between 0.0 and 1.0"). */
static bool get_number_between(app_ctx_t *c, const json_t *obj, const char *base, const char *key,
                               double *out)
{
    char path[PATH_LEN];
    const json_t *v = get(obj, key);
    double d;
    join(path, base, key);
    if (v == NULL || !want_number(c, v, path, &d) || !app_check_between(c, path, d, 0, 1))
        return false;
    *out = d;
    return true;
}

static bool get_uint32(app_ctx_t *c, const json_t *obj, const char *base, const char *key,
                       uint32_t *out)
{
    int64_t n;
    if (!get_int_range(c, obj, base, key, 0, INT32_MAX, &n))
        return false;
    *out = (uint32_t)n;
    return true;
}

static bool get_enum(app_ctx_t *c, const json_t *obj, const char *base, const char *key,
                     const char *const *names, size_t n, int *out)
{
    char path[PATH_LEN];
    const json_t *v = get(obj, key);
    join(path, base, key);
    return v != NULL && want_enum(c, v, path, names, n, out);
}

static void set_string(app_ctx_t *c, char **field, const char *value)
{
    char *copy = NULL;
    if (!app_strdup(value, &copy)) {
        c->nomem = true;
        return;
    }
    free(*field);
    *field = copy;
}

/* Keeps a schema field we do not act on in app->extra. */
static void keep_extra(app_ctx_t *c, marathon_app_t *app, const char *key, const json_t *value)
{
    if (app->extra == NULL)
        app->extra = json_object();
    json_t *copy = json_deep_copy(value);
    if (app->extra == NULL || json_object_set_new(app->extra, key, copy) != 0)
        c->nomem = true;
}

/* An object whose values are all strings (labels), copied; NULL when empty or malformed. */
static json_t *read_string_map(app_ctx_t *c, const json_t *obj, const char *base)
{
    const char *key;
    json_t *value;
    bool ok = true;
    json_object_foreach((json_t *)obj, key, value)
    {
        char *path = app_path(c, "%s/%s", base, key);
        const char *s;
        ok = path != NULL && want_string(c, value, path, &s) && ok;
        free(path);
    }
    if (!ok || json_object_size(obj) == 0)
        return NULL;
    json_t *copy = json_deep_copy(obj);
    if (copy == NULL)
        c->nomem = true;
    return copy;
}

/* --- reading: fields ---------------------------------------------------------------------- */

static void read_id(app_ctx_t *c, const json_t *json, const char *id_hint, marathon_app_t *app)
{
    const char *id = id_hint;
    if (get(json, "id") != NULL && !get_string(c, json, "", "id", &id))
        return;
    if (id == NULL) {
        app_schema_error(c, "/id", "error.path.missing");
        return;
    }
    char err[256];
    bool is_root;
    char *normal = app_id_resolve(id, "/", &is_root, err, sizeof(err));
    if (normal == NULL && err[0] == '\0')
        c->nomem = true;
    if (normal == NULL && err[0] != '\0')
        app_error_add(c, c->invalid, "/id", "%s", err);
    if (is_root)
        app_error_add(c, c->invalid, "/", "must not be root");
    free(app->id);
    app->id = normal;
}

/* A JSON array of strings as a heap argv; false on a schema error or out of memory. */
static bool read_strings(app_ctx_t *c, const json_t *array, const char *base, char ***out,
                         size_t *count)
{
    size_t n = json_array_size(array), i;
    json_t *v;
    bool ok = true;
    json_array_foreach(array, i, v)
    {
        char path[PATH_LEN];
        const char *s;
        pathf(path, "%s(%zu)", base, i);
        ok = want_string(c, v, path, &s) && ok;
    }
    if (!ok)
        return false;
    char **strings = calloc(n + 1, sizeof(*strings));
    for (i = 0; strings != NULL && i < n; i++) {
        if (!app_strdup(json_string_value(json_array_get(array, i)), &strings[i]))
            break;
    }
    if (strings == NULL || i < n) {
        for (size_t j = 0; strings != NULL && j < i; j++)
            free(strings[j]);
        free(strings);
        c->nomem = true;
        return false;
    }
    *out = strings;
    *count = n;
    return true;
}

static void read_command(app_ctx_t *c, const json_t *json, marathon_app_t *app)
{
    const char *cmd;
    if (get_string(c, json, "", "cmd", &cmd)) {
        if (cmd[0] == '\0')
            app_error_add(c, c->invalid, "/", "must not be an empty string");
        set_string(c, &app->cmd, cmd);
    }
    const json_t *args;
    if (get_typed(c, json, "", "args", JSON_ARRAY, &args) &&
        read_strings(c, args, "/args", &app->args, &app->args_count))
        app->has_args = true;
}

static void read_resources(app_ctx_t *c, const json_t *json, marathon_app_t *app)
{
    get_min_double(c, json, "", "cpus", 0, &app->cpus);
    get_min_double(c, json, "", "mem", 0, &app->mem);
    get_min_double(c, json, "", "disk", 0, &app->disk);
    int64_t n;
    if (get_int_range(c, json, "", "gpus", 0, INT32_MAX, &n) && n > 0)
        app_error_add(c, c->invalid, "/gpus",
                      "gpus: GPU resources are not supported by this Marathon (its agents offer "
                      "no GPUs); use 0");
    get_uint32(c, json, "", "instances", &app->instances);
    if (get_int_range(c, json, "", "backoffSeconds", 0, INT32_MAX, &n))
        app->backoff_seconds = (double)n;
    get_min_double(c, json, "", "backoffFactor", 1.0, &app->backoff_factor);
    if (get_int_range(c, json, "", "maxLaunchDelaySeconds", 0, INT32_MAX, &n))
        app->max_launch_delay_seconds = (double)n;
    if (get_int_range(c, json, "", "taskKillGracePeriodSeconds", 0, INT32_MAX, &n)) {
        app->has_task_kill_grace_period = true;
        app->task_kill_grace_period_seconds = (double)n;
    }
}

/* Marathon's FetchUri.isExtract: the fetcher extracts the archives it knows by name. */
static bool is_archive(const char *uri)
{
    static const char *const suffixes[] = {".tgz", ".tar.gz", ".tbz2", ".tar.bz2",
                                           ".txz", ".tar.xz", ".zip"};
    size_t n = strlen(uri);
    for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
        size_t m = strlen(suffixes[i]);
        if (n >= m && strcmp(uri + n - m, suffixes[i]) == 0)
            return true;
    }
    return false;
}

/* Checks one fetch uri: length (schema, 1..1024) and syntax (rule). */
static bool check_uri(app_ctx_t *c, const char *uri, const char *path)
{
    size_t n = strlen(uri);
    if (n == 0 || n > 1024) {
        app_schema_error(c, path, n == 0 ? "error.minLength" : "error.maxLength");
        return false;
    }
    if (!app_uri_syntax_ok(uri)) {
        app_error_add(c, c->invalid, path, "URI has invalid syntax.");
        return false;
    }
    return true;
}

static void read_fetch_entry(app_ctx_t *c, const json_t *entry, size_t i, marathon_fetch_t *f)
{
    char base[PATH_LEN], path[PATH_LEN];
    const char *s;
    pathf(base, "/fetch(%zu)", i);
    join(path, base, "uri");
    f->extract = true;
    if (!want_type(c, entry, base, JSON_OBJECT))
        return;
    if (get(entry, "uri") == NULL)
        app_schema_error(c, path, "error.path.missing");
    if (get_string(c, entry, base, "uri", &s) && check_uri(c, s, path))
        set_string(c, &f->uri, s);
    get_bool(c, entry, base, "extract", &f->extract);
    get_bool(c, entry, base, "executable", &f->executable);
    get_bool(c, entry, base, "cache", &f->cache);
    if (get_string(c, entry, base, "destPath", &s))
        set_string(c, &f->dest_path, s);
}

static void read_fetch(app_ctx_t *c, const json_t *json, marathon_app_t *app)
{
    const json_t *uris = NULL, *fetch = NULL;
    char **strings = NULL;
    size_t count = 0;
    get_typed(c, json, "", "fetch", JSON_ARRAY, &fetch);
    if (get_typed(c, json, "", "uris", JSON_ARRAY, &uris) &&
        read_strings(c, uris, "/uris", &strings, &count) && count > 0 && json_array_size(fetch) > 0)
        app_error_add(c, c->invalid, "/uris", "may not be set in conjunction with fetch");
    size_t n = count > 0 ? count : json_array_size(fetch);
    if (n > 0)
        app->fetch = calloc(n, sizeof(*app->fetch));
    if (n > 0 && app->fetch == NULL)
        c->nomem = true;
    for (size_t i = 0; app->fetch != NULL && i < n; i++, app->fetch_count++) {
        if (count == 0) {
            read_fetch_entry(c, json_array_get(fetch, i), i, &app->fetch[i]);
            continue;
        }
        char path[PATH_LEN];
        pathf(path, "/uris(%zu)", i);
        check_uri(c, strings[i], path);
        app->fetch[i].uri = strings[i]; /* ownership moves */
        strings[i] = NULL;
        app->fetch[i].extract = is_archive(app->fetch[i].uri);
    }
    for (size_t i = 0; i < count; i++)
        free(strings[i]);
    free(strings);
}

static void read_env(app_ctx_t *c, const json_t *json, marathon_app_t *app)
{
    const json_t *env;
    if (!get_typed(c, json, "", "env", JSON_OBJECT, &env) || json_object_size(env) == 0)
        return;
    const char *key;
    json_t *value;
    bool ok = true, secrets = false;
    json_object_foreach((json_t *)env, key, value)
    {
        char *path = app_path(c, "/env/%s", key);
        const char *s;
        if (path == NULL)
            return;
        bool secret = json_is_object(value) && json_object_get(value, "secret") != NULL;
        if (key[0] == '\0')
            app_error_add(c, c->invalid, path, "must not be empty");
        secrets = secrets || secret; /* {"secret": "name"}: a reference into `secrets` */
        ok = !secret && want_string(c, value, path, &s) && key[0] != '\0' && ok;
        free(path);
    }
    if (secrets) /* Marathon's rule and message, path /env; we have no secret store */
        app_error_add(c, c->invalid, "/env",
                      "use of secret-references in the environment requires the secrets feature "
                      "to be enabled");
    app->env = ok ? json_deep_copy(env) : NULL;
    if (ok && app->env == NULL)
        c->nomem = true;
}

static void read_constraint(app_ctx_t *c, const json_t *entry, size_t i, marathon_app_t *app)
{
    char path[PATH_LEN];
    pathf(path, "/constraints(%zu)", i);
    if (!want_type(c, entry, path, JSON_ARRAY))
        return;
    const char *parts[4] = {0};
    size_t n = json_array_size(entry), j;
    json_t *v;
    bool ok = true;
    json_array_foreach(entry, j, v)
    {
        char sub[PATH_LEN];
        pathf(sub, "%s(%zu)", path, j);
        ok = want_string(c, v, sub, &parts[j < 3 ? j : 3]) && ok;
    }
    marathon_constraint_t parsed;
    if (!ok || !app_constraint_check(c, path, parts, n, &parsed))
        return;
    for (size_t k = 0; k < app->constraint_count; k++) { /* a set in Marathon: drop repeats */
        const marathon_constraint_t *seen = &app->constraints[k];
        if (strcmp(seen->field, parsed.field) == 0 && seen->op == parsed.op &&
            (seen->value == NULL ? parsed.value == NULL
                                 : parsed.value != NULL && strcmp(seen->value, parsed.value) == 0))
            return;
    }
    marathon_constraint_t *out = &app->constraints[app->constraint_count];
    out->op = parsed.op;
    if (!app_strdup(parsed.field, &out->field) || !app_strdup(parsed.value, &out->value)) {
        free(out->field);
        out->field = NULL;
        c->nomem = true;
        return;
    }
    app->constraint_count++;
}

static void read_constraints(app_ctx_t *c, const json_t *json, marathon_app_t *app)
{
    const json_t *constraints;
    if (!get_typed(c, json, "", "constraints", JSON_ARRAY, &constraints) ||
        json_array_size(constraints) == 0)
        return;
    app->constraints = calloc(json_array_size(constraints), sizeof(*app->constraints));
    if (app->constraints == NULL) {
        c->nomem = true;
        return;
    }
    for (size_t i = 0; i < json_array_size(constraints); i++)
        read_constraint(c, json_array_get(constraints, i), i, app);
}

static const char *const port_protocols[] = {"tcp", "udp", "udp,tcp", "tcp,udp"};

static void read_port_definition(app_ctx_t *c, const json_t *entry, size_t i,
                                 marathon_port_definition_t *def)
{
    char base[PATH_LEN];
    pathf(base, "/portDefinitions(%zu)", i);
    int protocol = 0;
    int64_t port;
    const char *name;
    const json_t *labels;
    if (!want_type(c, entry, base, JSON_OBJECT))
        return;
    if (get_int_range(c, entry, base, "port", 0, 65535, &port))
        def->port = (uint32_t)port;
    get_enum(c, entry, base, "protocol", port_protocols, 4, &protocol);
    set_string(c, &def->protocol, port_protocols[protocol]);
    if (get_string(c, entry, base, "name", &name))
        set_string(c, &def->name, name);
    char path[PATH_LEN];
    join(path, base, "labels");
    if (get_typed(c, entry, base, "labels", JSON_OBJECT, &labels))
        def->labels = read_string_map(c, labels, path);
}

/* `ports` (deprecated): port numbers; they become port definitions without names. */
static bool read_ports(app_ctx_t *c, const json_t *ports, uint32_t **out, size_t *count)
{
    size_t n = json_array_size(ports), i;
    json_t *v;
    bool ok = true, unique = true;
    *out = calloc(n + 1, sizeof(**out));
    if (*out == NULL) {
        c->nomem = true;
        return false;
    }
    json_array_foreach(ports, i, v)
    {
        char path[PATH_LEN];
        int64_t port = 0;
        pathf(path, "/ports(%zu)", i);
        ok = want_int(c, v, path, false, &port) && app_check_min_int(c, path, port, 0) &&
             app_check_max_int(c, path, port, 65535) && ok;
        (*out)[i] = (uint32_t)port;
        for (size_t j = 0; ok && j < i; j++)
            unique = unique && ((*out)[j] != (*out)[i] || port == 0);
    }
    if (!unique)
        app_error_add(c, c->invalid, "/", "ports must be unique");
    *count = n;
    return ok && unique;
}

static void read_port_definitions(app_ctx_t *c, const json_t *json, marathon_app_t *app)
{
    const json_t *defs = NULL, *ports = NULL;
    bool has_defs = get_typed(c, json, "", "portDefinitions", JSON_ARRAY, &defs);
    bool has_ports = get_typed(c, json, "", "ports", JSON_ARRAY, &ports);
    uint32_t *numbers = NULL;
    size_t count = 0;
    if (has_ports && !read_ports(c, ports, &numbers, &count))
        has_ports = false;
    size_t n = has_defs ? json_array_size(defs) : has_ports ? count : 1;
    bool mismatch = has_defs && has_ports && count != n;
    app->port_definitions = calloc(n + 1, sizeof(*app->port_definitions));
    if (app->port_definitions == NULL) {
        c->nomem = true;
        n = 0;
    }
    for (size_t i = 0; i < n; i++, app->port_definition_count++) {
        marathon_port_definition_t *def = &app->port_definitions[i];
        if (has_defs) {
            read_port_definition(c, json_array_get(defs, i), i, def);
            mismatch = mismatch || (has_ports && i < count && numbers[i] != def->port);
            continue;
        }
        def->port = has_ports ? numbers[i] : 0;
        set_string(c, &def->protocol, "tcp");
        if (!has_ports) /* Marathon's default: one port named "default" */
            set_string(c, &def->name, "default");
    }
    if (mismatch)
        app_error_add(c, c->invalid, "/", "cannot specify both ports and port definitions");
    free(numbers);
    get_bool(c, json, "", "requirePorts", &app->require_ports);
}

static bool is_http(marathon_health_protocol_t p)
{
    return p == MARATHON_HEALTH_HTTP || p == MARATHON_HEALTH_HTTPS ||
           p == MARATHON_HEALTH_MESOS_HTTP || p == MARATHON_HEALTH_MESOS_HTTPS;
}

/* `command: {"value": ...}`: a COMMAND check's shell line (implies COMMAND when the protocol is
 * not given, as Marathon reads it). */
static void read_health_command(app_ctx_t *c, const json_t *entry, const char *base, bool explicit,
                                marathon_health_check_t *hc)
{
    char path[PATH_LEN], value_path[PATH_LEN];
    const json_t *command;
    const char *value;
    join(path, base, "command");
    join(value_path, path, "value");
    if (get_typed(c, entry, base, "command", JSON_OBJECT, &command)) {
        if (!explicit)
            hc->protocol = MARATHON_HEALTH_COMMAND;
        if (hc->protocol != MARATHON_HEALTH_COMMAND)
            app_error_add(c, c->invalid, path, "is only allowed with protocol COMMAND");
        if (get(command, "value") == NULL)
            app_schema_error(c, value_path, "error.path.missing");
        if (get_string(c, command, path, "value", &value))
            set_string(c, &hc->command, value);
        return;
    }
    if (command == NULL && hc->protocol == MARATHON_HEALTH_COMMAND)
        app_error_add(c, c->invalid, path, "must be defined for a COMMAND health check");
}

static void read_health_check(app_ctx_t *c, const json_t *entry, size_t i,
                              marathon_health_check_t *hc)
{
    static const char *const ip_protocols[] = {"IPv4", "IPv6"};
    char base[PATH_LEN];
    pathf(base, "/healthChecks(%zu)", i);
    *hc = (marathon_health_check_t){.protocol = MARATHON_HEALTH_HTTP,
                                    .grace_period_seconds = 300,
                                    .interval_seconds = 60,
                                    .timeout_seconds = 20,
                                    .max_consecutive_failures = 3,
                                    .delay_seconds = 15};
    if (!want_type(c, entry, base, JSON_OBJECT))
        return;
    int protocol = MARATHON_HEALTH_HTTP, ip = 0;
    bool explicit = get(entry, "protocol") != NULL;
    get_enum(c, entry, base, "protocol", app_health_protocol_names, APP_HEALTH_PROTOCOL_COUNT,
             &protocol);
    hc->protocol = (marathon_health_protocol_t)protocol;
    read_health_command(c, entry, base, explicit, hc);
    const char *path = NULL;
    if (get_string(c, entry, base, "path", &path) || is_http(hc->protocol))
        set_string(c, &hc->path, path != NULL ? path : "/");
    int64_t n;
    if (get_int_range(c, entry, base, "portIndex", 0, 65535, &n))
        hc->port_index = (uint32_t)n;
    if (get_int_range(c, entry, base, "port", 0, 65535, &n)) {
        hc->has_port = true;
        hc->port = (uint32_t)n;
    }
    get_uint32(c, entry, base, "gracePeriodSeconds", &hc->grace_period_seconds);
    get_uint32(c, entry, base, "intervalSeconds", &hc->interval_seconds);
    get_uint32(c, entry, base, "timeoutSeconds", &hc->timeout_seconds);
    get_uint32(c, entry, base, "maxConsecutiveFailures", &hc->max_consecutive_failures);
    get_uint32(c, entry, base, "delaySeconds", &hc->delay_seconds);
    get_bool(c, entry, base, "ignoreHttp1xx", &hc->ignore_http1xx);
    if (get_enum(c, entry, base, "ipProtocol", ip_protocols, 2, &ip) && ip == 1)
        app_error_add(c, c->invalid, base,
                      "IPv6 can only be used for container type DOCKER and Mesos http/https/tcp "
                      "health checks");
}

static void read_health_checks(app_ctx_t *c, const json_t *json, marathon_app_t *app)
{
    const json_t *checks;
    size_t n;
    if (!get_typed(c, json, "", "healthChecks", JSON_ARRAY, &checks) ||
        (n = json_array_size(checks)) == 0)
        return;
    app->health_checks = calloc(n, sizeof(*app->health_checks));
    if (app->health_checks == NULL) {
        c->nomem = true;
        return;
    }
    for (; app->health_check_count < n; app->health_check_count++)
        read_health_check(c, json_array_get(checks, app->health_check_count),
                          app->health_check_count, &app->health_checks[app->health_check_count]);
}

static void read_strategies(app_ctx_t *c, const json_t *json, marathon_app_t *app)
{
    static const char *const kill_selections[] = {
        [MARATHON_KILL_YOUNGEST_FIRST] = "YOUNGEST_FIRST",
        [MARATHON_KILL_OLDEST_FIRST] = "OLDEST_FIRST",
    };
    const char *single =
        json_string_value(json_object_get(app->labels, "MARATHON_SINGLE_INSTANCE_APP"));
    if (single != NULL && strcmp(single, "true") == 0) /* one instance: never two at once */
        app->minimum_health_capacity = app->maximum_over_capacity = 0;
    const json_t *upgrade;
    double d;
    if (get_typed(c, json, "", "upgradeStrategy", JSON_OBJECT, &upgrade)) {
        if (get_number_between(c, upgrade, "/upgradeStrategy", "minimumHealthCapacity", &d))
            app->minimum_health_capacity = d;
        if (get_number_between(c, upgrade, "/upgradeStrategy", "maximumOverCapacity", &d))
            app->maximum_over_capacity = d;
    }
    int kill = 0;
    if (get_enum(c, json, "", "killSelection", kill_selections, 2, &kill))
        app->kill_selection = (marathon_kill_selection_t)kill;
    const json_t *unreachable = get(json, "unreachableStrategy");
    int64_t n;
    if (json_is_string(unreachable)) {
        static const char *const disabled[] = {"disabled"};
        int ignored;
        app->unreachable_disabled =
            want_enum(c, unreachable, "/unreachableStrategy", disabled, 1, &ignored);
    } else if (unreachable != NULL &&
               want_type(c, unreachable, "/unreachableStrategy", JSON_OBJECT)) {
        if (get_int_range(c, unreachable, "/unreachableStrategy", "inactiveAfterSeconds", 0,
                          INT64_MAX, &n))
            app->unreachable_inactive_after_seconds = (double)n;
        if (get_int_range(c, unreachable, "/unreachableStrategy", "expungeAfterSeconds", 0,
                          INT64_MAX, &n))
            app->unreachable_expunge_after_seconds = (double)n;
    }
}

/* Dependencies: ids relative to the app's group, resolved and validated as ids; a set. */
static void read_dependencies(app_ctx_t *c, const json_t *json, marathon_app_t *app)
{
    const json_t *deps;
    char **strings = NULL;
    size_t count = 0;
    if (!get_typed(c, json, "", "dependencies", JSON_ARRAY, &deps) ||
        !read_strings(c, deps, "/dependencies", &strings, &count))
        return;
    char *parent = app->id != NULL ? app_id_parent(app->id) : strdup("/");
    app->dependencies = calloc(count + 1, sizeof(*app->dependencies));
    if (parent == NULL || app->dependencies == NULL)
        c->nomem = true;
    for (size_t i = 0; parent != NULL && app->dependencies != NULL && i < count; i++) {
        char err[256], path[PATH_LEN];
        bool is_root, seen = false;
        char *dep = app_id_resolve(strings[i], parent, &is_root, err, sizeof(err));
        pathf(path, "/dependencies(%zu)", i);
        if (dep == NULL && err[0] == '\0')
            c->nomem = true;
        if (dep == NULL && err[0] != '\0')
            app_error_add(c, c->invalid, path, "%s", err);
        for (size_t j = 0; dep != NULL && j < app->dependency_count; j++)
            seen = seen || strcmp(app->dependencies[j], dep) == 0;
        if (dep != NULL && !seen)
            app->dependencies[app->dependency_count++] = dep;
        else
            free(dep);
    }
    for (size_t i = 0; i < count; i++)
        free(strings[i]);
    free(strings);
    free(parent);
}

/* `networks`: only host networking (the default) can be honoured. */
static void read_networks(app_ctx_t *c, const json_t *json)
{
    static const char *const modes[] = {"container", "container/bridge", "host"};
    const json_t *networks;
    if (!get_typed(c, json, "", "networks", JSON_ARRAY, &networks))
        return;
    for (size_t i = 0; i < json_array_size(networks); i++) {
        char base[PATH_LEN], path[PATH_LEN];
        const json_t *network = json_array_get(networks, i);
        int mode = 0; /* Marathon's default mode is container */
        pathf(base, "/networks(%zu)", i);
        join(path, base, "mode");
        if (!want_type(c, network, base, JSON_OBJECT) ||
            (get(network, "mode") != NULL &&
             !get_enum(c, network, base, "mode", modes, 3, &mode)) ||
            mode == 2)
            continue;
        app_error_add(c, c->invalid, path,
                      "networks: mode '%s'%s is not supported by this Marathon: tasks use the "
                      "agent's network (only mode 'host' is supported)",
                      modes[mode], get(network, "mode") == NULL ? " (the default)" : "");
    }
}

static bool non_empty_array(const json_t *obj, const char *key)
{
    return json_array_size(get(obj, key)) > 0;
}

/* `container`: a MESOS container without image, volumes or port mappings is kept (it changes
 * nothing); anything else would change how the task runs. */
static void read_container(app_ctx_t *c, const json_t *json, marathon_app_t *app)
{
    static const char *const types[] = {"DOCKER", "MESOS"};
    const json_t *container;
    int type = 0; /* Marathon's default type is DOCKER */
    if (!get_typed(c, json, "", "container", JSON_OBJECT, &container) ||
        (get(container, "type") != NULL &&
         !get_enum(c, container, "/container", "type", types, 2, &type)))
        return;
    bool ok = type == 1;
    if (!ok)
        app_error_add(c, c->invalid, "/container",
                      "container: Docker containers are not supported by this Marathon: tasks run "
                      "under the Mesos containerizer in the agent's filesystem (use no container, "
                      "or \"type\": \"MESOS\" without an image)");
    const char *image = get(container, "docker") != NULL ? "/container/docker"
                        : get(container, "appc") != NULL ? "/container/appc"
                                                         : NULL;
    if (ok && image != NULL)
        app_error_add(c, c->invalid, image,
                      "container: container images are not supported by this Marathon: tasks "
                      "run in the agent's filesystem");
    if (ok && non_empty_array(container, "volumes"))
        app_error_add(c, c->invalid, "/container/volumes",
                      "container: volumes are not supported by this Marathon");
    if (ok && non_empty_array(container, "portMappings"))
        app_error_add(c, c->invalid, "/", "portMappings are not allowed with host-networking");
    if (ok && image == NULL && !non_empty_array(container, "volumes") &&
        !non_empty_array(container, "portMappings"))
        keep_extra(c, app, "container", container);
}

/* `executor`: "" and "//cmd" name the command executor; a path names a custom one, which we
 * cannot start. The pattern is Marathon's. */
static void read_executor(app_ctx_t *c, const json_t *json, marathon_app_t *app)
{
    const char *executor;
    if (!get_string(c, json, "", "executor", &executor))
        return;
    if (executor[0] == '\0' || strcmp(executor, "//cmd") == 0) {
        keep_extra(c, app, "executor", get(json, "executor"));
        return;
    }
    const char *p = executor + (executor[0] == '/');
    bool path = *p != '\0' && *p != '/' && p[strlen(p) - 1] != '/' && strstr(p, "//") == NULL;
    if (!path)
        app_error_add(c, c->invalid, "/executor",
                      "must fully match regular expression '^(//cmd)|(/?[^/]+(/[^/]+)*)|$'");
    else
        app_error_add(c, c->invalid, "/executor",
                      "executor: custom executors are not supported by this Marathon: use \"\" or "
                      "\"//cmd\" (the command executor)");
}

static void read_refused(app_ctx_t *c, const json_t *json, marathon_app_t *app)
{
    read_networks(c, json);
    read_container(c, json, app);
    read_executor(c, json, app);
    if (get(json, "residency") != NULL)
        app_error_add(c, c->invalid, "/residency",
                      "residency: resident apps (persistent local volumes) are not supported by "
                      "this Marathon");
    if (get(json, "ipAddress") != NULL)
        app_error_add(c, c->invalid, "/ipAddress",
                      "ipAddress: IP-per-task networking is not supported by this Marathon: tasks "
                      "use the agent's network");
    const json_t *secrets;
    if (get_typed(c, json, "", "secrets", JSON_OBJECT, &secrets) && json_object_size(secrets) > 0)
        app_error_add(c, c->invalid, "/secrets",
                      "secrets: not supported by this Marathon: it has no secret store "
                      "(Marathon's feature 'secrets' is not enabled)");
}

/* Schema fields kept as given (after a type check) and echoed back. */
static void read_extras(app_ctx_t *c, const json_t *json, marathon_app_t *app)
{
    static const struct {
        const char *key;
        json_type type;
    } extras[] = {
        {"check", JSON_OBJECT},          {"executorResources", JSON_OBJECT},
        {"readinessChecks", JSON_ARRAY}, {"resourceLimits", JSON_OBJECT},
        {"role", JSON_STRING},           {"tty", JSON_TRUE},
    };
    const json_t *v;
    for (size_t i = 0; i < sizeof(extras) / sizeof(extras[0]); i++) {
        if (get_typed(c, json, "", extras[i].key, extras[i].type, &v) &&
            !(json_is_array(v) && json_array_size(v) == 0)) /* omitEmpty */
            keep_extra(c, app, extras[i].key, v);
    }
    char **strings = NULL;
    size_t count = 0;
    if (get_typed(c, json, "", "storeUrls", JSON_ARRAY, &v) &&
        read_strings(c, v, "/storeUrls", &strings, &count) && count > 0)
        keep_extra(c, app, "storeUrls", v);
    for (size_t i = 0; i < count; i++)
        free(strings[i]);
    free(strings);
    strings = NULL;
    count = 0;
    if (get_typed(c, json, "", "acceptedResourceRoles", JSON_ARRAY, &v) &&
        read_strings(c, v, "/acceptedResourceRoles", &strings, &count)) {
        if (count == 0)
            app_error_add(c, c->invalid, "/acceptedResourceRoles", "must not be empty");
        else
            keep_extra(c, app, "acceptedResourceRoles", v);
    }
    for (size_t i = 0; i < count; i++)
        free(strings[i]);
    free(strings);
}

void app_read(app_ctx_t *c, const json_t *json, const char *id_hint, marathon_app_t *app)
{
    const json_t *labels;
    const char *user;
    read_id(c, json, id_hint, app);
    read_command(c, json, app);
    read_resources(c, json, app);
    read_fetch(c, json, app);
    read_env(c, json, app);
    if (get_typed(c, json, "", "labels", JSON_OBJECT, &labels))
        app->labels = read_string_map(c, labels, "/labels");
    if (get_string(c, json, "", "user", &user))
        set_string(c, &app->user, user);
    read_constraints(c, json, app);
    read_port_definitions(c, json, app);
    read_health_checks(c, json, app);
    read_strategies(c, json, app);
    read_dependencies(c, json, app);
    read_refused(c, json, app);
    read_extras(c, json, app);
}

void app_read_version(app_ctx_t *c, const json_t *json, marathon_app_t *app)
{
    const char *s;
    const json_t *info;
    if (get_string(c, json, "", "version", &s))
        set_string(c, &app->version, s);
    if (!get_typed(c, json, "", "versionInfo", JSON_OBJECT, &info))
        return;
    if (get_string(c, info, "/versionInfo", "lastScalingAt", &s))
        set_string(c, &app->last_scaling_at, s);
    if (get_string(c, info, "/versionInfo", "lastConfigChangeAt", &s))
        set_string(c, &app->last_config_change_at, s);
}

/* --- writing ------------------------------------------------------------------------------ */

/* A number as Marathon prints it: integral values without a fraction (128, not 128.0). */
static json_t *number(double v)
{
    if (v == (double)(json_int_t)v && v > -9007199254740992.0 && v < 9007199254740992.0)
        return json_integer((json_int_t)v);
    return json_real(v);
}

/* Sets key to value (stolen); false when value is NULL or out of memory. */
static bool put(json_t *obj, const char *key, json_t *value)
{
    return value != NULL && json_object_set_new(obj, key, value) == 0;
}

static bool put_copy(json_t *obj, const char *key, const json_t *value)
{
    return put(obj, key, json_deep_copy(value));
}

/* Returns obj when ok, else releases it and returns NULL. */
static json_t *finish(json_t *obj, bool ok)
{
    if (ok)
        return obj;
    json_decref(obj);
    return NULL;
}

/* Appends value (stolen) to *array; on failure releases the array and sets it to NULL. */
static void append(json_t **array, json_t *value)
{
    if (json_array_append_new(*array, value) != 0) {
        json_decref(*array);
        *array = NULL;
    }
}

static json_t *string_array(char *const *strings, size_t n)
{
    json_t *array = json_array();
    for (size_t i = 0; array != NULL && i < n; i++)
        append(&array, json_string(strings[i]));
    return array;
}

static bool write_args(const marathon_app_t *app, json_t *out, const char *key)
{
    return app->args_count == 0 || put(out, key, string_array(app->args, app->args_count));
}

static bool write_constraints(const marathon_app_t *app, json_t *out, const char *key)
{
    if (app->constraint_count == 0)
        return true;
    json_t *array = json_array();
    for (size_t i = 0; array != NULL && i < app->constraint_count; i++) {
        const marathon_constraint_t *ct = &app->constraints[i];
        char *parts[3] = {ct->field, (char *)app_constraint_op_names[ct->op], ct->value};
        append(&array, string_array(parts, ct->value != NULL ? 3 : 2));
    }
    return put(out, key, array);
}

static bool write_dependencies(const marathon_app_t *app, json_t *out, const char *key)
{
    return app->dependency_count == 0 ||
           put(out, key, string_array(app->dependencies, app->dependency_count));
}

static bool write_env(const marathon_app_t *app, json_t *out, const char *key)
{
    return json_object_size(app->env) == 0 || put_copy(out, key, app->env);
}

static bool write_fetch(const marathon_app_t *app, json_t *out, const char *key)
{
    if (app->fetch_count == 0)
        return true;
    json_t *array = json_array();
    for (size_t i = 0; array != NULL && i < app->fetch_count; i++) {
        const marathon_fetch_t *f = &app->fetch[i];
        json_t *entry = json_pack("{s:s, s:b, s:b, s:b}", "uri", f->uri, "extract", f->extract,
                                  "executable", f->executable, "cache", f->cache);
        append(&array,
               finish(entry, entry != NULL && (f->dest_path == NULL ||
                                               put(entry, "destPath", json_string(f->dest_path)))));
    }
    return put(out, key, array);
}

static bool write_gpus(const marathon_app_t *app, json_t *out, const char *key)
{
    (void)app;
    return put(out, key, json_integer(0));
}

static json_t *health_check_json(const marathon_health_check_t *hc)
{
    json_t *o = json_object();
    bool ok = o != NULL;
    if (hc->protocol == MARATHON_HEALTH_COMMAND)
        ok = ok && put(o, "command", json_pack("{s:s?}", "value", hc->command));
    ok = ok && put(o, "gracePeriodSeconds", json_integer(hc->grace_period_seconds));
    if (hc->protocol == MARATHON_HEALTH_HTTP || hc->protocol == MARATHON_HEALTH_HTTPS)
        ok = ok && put(o, "ignoreHttp1xx", json_boolean(hc->ignore_http1xx));
    ok = ok && put(o, "intervalSeconds", json_integer(hc->interval_seconds)) &&
         put(o, "maxConsecutiveFailures", json_integer(hc->max_consecutive_failures));
    if (is_http(hc->protocol) && hc->path != NULL)
        ok = ok && put(o, "path", json_string(hc->path));
    if (hc->protocol != MARATHON_HEALTH_COMMAND)
        ok = ok && (hc->has_port ? put(o, "port", json_integer(hc->port))
                                 : put(o, "portIndex", json_integer(hc->port_index)));
    ok = ok && put(o, "protocol", json_string(app_health_protocol_names[hc->protocol])) &&
         put(o, "ipProtocol", json_string("IPv4")) &&
         put(o, "timeoutSeconds", json_integer(hc->timeout_seconds)) &&
         put(o, "delaySeconds", json_integer(hc->delay_seconds));
    return finish(o, ok);
}

static bool write_health_checks(const marathon_app_t *app, json_t *out, const char *key)
{
    if (app->health_check_count == 0)
        return true;
    json_t *array = json_array();
    for (size_t i = 0; array != NULL && i < app->health_check_count; i++)
        append(&array, health_check_json(&app->health_checks[i]));
    return put(out, key, array);
}

static bool write_labels(const marathon_app_t *app, json_t *out, const char *key)
{
    return app->labels != NULL ? put_copy(out, key, app->labels) : put(out, key, json_object());
}

static bool write_networks(const marathon_app_t *app, json_t *out, const char *key)
{
    (void)app;
    return put(out, key, json_pack("[{s:s}]", "mode", "host"));
}

static bool write_port_definitions(const marathon_app_t *app, json_t *out, const char *key)
{
    json_t *array = json_array();
    for (size_t i = 0; array != NULL && i < app->port_definition_count; i++) {
        const marathon_port_definition_t *def = &app->port_definitions[i];
        json_t *entry = json_pack("{s:i}", "port", (int)def->port);
        bool ok =
            entry != NULL && (def->name == NULL || put(entry, "name", json_string(def->name)));
        ok = ok &&
             put(entry, "protocol", json_string(def->protocol != NULL ? def->protocol : "tcp"));
        ok = ok && (json_object_size(def->labels) == 0 || put_copy(entry, "labels", def->labels));
        append(&array, finish(entry, ok));
    }
    return put(out, key, array);
}

static bool write_kill_grace(const marathon_app_t *app, json_t *out, const char *key)
{
    return !app->has_task_kill_grace_period ||
           put(out, key, number(app->task_kill_grace_period_seconds));
}

static bool write_upgrade(const marathon_app_t *app, json_t *out, const char *key)
{
    json_t *o = json_object();
    bool ok = o != NULL && put(o, "maximumOverCapacity", number(app->maximum_over_capacity)) &&
              put(o, "minimumHealthCapacity", number(app->minimum_health_capacity));
    return put(out, key, finish(o, ok));
}

static bool write_version_info(const marathon_app_t *app, json_t *out, const char *key)
{
    if (app->last_scaling_at == NULL || app->last_config_change_at == NULL)
        return true;
    return put(out, key,
               json_pack("{s:s, s:s}", "lastScalingAt", app->last_scaling_at, "lastConfigChangeAt",
                         app->last_config_change_at));
}

static bool write_kill_selection(const marathon_app_t *app, json_t *out, const char *key)
{
    return put(out, key,
               json_string(app->kill_selection == MARATHON_KILL_OLDEST_FIRST ? "OLDEST_FIRST"
                                                                             : "YOUNGEST_FIRST"));
}

static bool write_unreachable(const marathon_app_t *app, json_t *out, const char *key)
{
    if (app->unreachable_disabled)
        return put(out, key, json_string("disabled"));
    json_t *o = json_object();
    bool ok = o != NULL &&
              put(o, "inactiveAfterSeconds", number(app->unreachable_inactive_after_seconds)) &&
              put(o, "expungeAfterSeconds", number(app->unreachable_expunge_after_seconds));
    return put(out, key, finish(o, ok));
}

typedef enum writer_kind {
    W_STRING, /* char * at offset, omitted when NULL */
    W_DOUBLE, /* double at offset */
    W_UINT32, /* uint32_t at offset */
    W_BOOL,   /* bool at offset */
    W_FUNC,   /* a function */
    W_EXTRA,  /* from app->extra, else the fallback (a string) when there is one */
} writer_kind_t;

typedef struct writer {
    const char *key;
    writer_kind_t kind;
    size_t offset;
    bool (*write)(const marathon_app_t *app, json_t *out, const char *key);
    const char *fallback;
} writer_t;

#define AT(kind, field) kind, offsetof(marathon_app_t, field), NULL, NULL
#define FN(fn)          W_FUNC, 0, fn, NULL
#define EXTRA(fallback) W_EXTRA, 0, NULL, fallback

/* The App schema's properties in its order: the order of Marathon's answers. */
static const writer_t writers[] = {
    {"id", AT(W_STRING, id)},
    {"acceptedResourceRoles", EXTRA(NULL)},
    {"args", FN(write_args)},
    {"backoffFactor", AT(W_DOUBLE, backoff_factor)},
    {"backoffSeconds", AT(W_DOUBLE, backoff_seconds)},
    {"check", EXTRA(NULL)},
    {"cmd", AT(W_STRING, cmd)},
    {"constraints", FN(write_constraints)},
    {"container", EXTRA(NULL)},
    {"cpus", AT(W_DOUBLE, cpus)},
    {"dependencies", FN(write_dependencies)},
    {"disk", AT(W_DOUBLE, disk)},
    {"env", FN(write_env)},
    {"executor", EXTRA("")},
    {"executorResources", EXTRA(NULL)},
    {"fetch", FN(write_fetch)},
    {"gpus", FN(write_gpus)},
    {"healthChecks", FN(write_health_checks)},
    {"instances", AT(W_UINT32, instances)},
    {"labels", FN(write_labels)},
    {"maxLaunchDelaySeconds", AT(W_DOUBLE, max_launch_delay_seconds)},
    {"mem", AT(W_DOUBLE, mem)},
    {"networks", FN(write_networks)},
    {"portDefinitions", FN(write_port_definitions)},
    {"readinessChecks", EXTRA(NULL)},
    {"requirePorts", AT(W_BOOL, require_ports)},
    {"resourceLimits", EXTRA(NULL)},
    {"role", EXTRA("*")},
    {"storeUrls", EXTRA(NULL)},
    {"taskKillGracePeriodSeconds", FN(write_kill_grace)},
    {"tty", EXTRA(NULL)},
    {"upgradeStrategy", FN(write_upgrade)},
    {"user", AT(W_STRING, user)},
    {"version", AT(W_STRING, version)},
    {"versionInfo", FN(write_version_info)},
    {"killSelection", FN(write_kill_selection)},
    {"unreachableStrategy", FN(write_unreachable)},
};

static bool write_one(const marathon_app_t *app, const writer_t *w, json_t *out)
{
    const char *base = (const char *)app + w->offset;
    const json_t *extra;
    switch (w->kind) {
    case W_STRING:
        return *(char *const *)base == NULL || put(out, w->key, json_string(*(char *const *)base));
    case W_DOUBLE:
        return put(out, w->key, number(*(const double *)base));
    case W_UINT32:
        return put(out, w->key, json_integer(*(const uint32_t *)base));
    case W_BOOL:
        return put(out, w->key, json_boolean(*(const bool *)base));
    case W_FUNC:
        return w->write(app, out, w->key);
    case W_EXTRA:
        extra = json_object_get(app->extra, w->key);
        if (extra != NULL)
            return put_copy(out, w->key, extra);
        return w->fallback == NULL || put(out, w->key, json_string(w->fallback));
    }
    return false;
}

json_t *marathon_app_to_json(const marathon_app_t *app)
{
    json_t *out = json_object();
    bool ok = out != NULL;
    for (size_t i = 0; ok && i < sizeof(writers) / sizeof(writers[0]); i++)
        ok = write_one(app, &writers[i], out);
    const char *key;
    json_t *value;
    json_object_foreach(app->extra, key, value) /* kept fields the table does not place */
    {
        ok = ok && (json_object_get(out, key) != NULL || put_copy(out, key, value));
    }
    return finish(out, ok);
}
