/*
 * app.c: the app's lifecycle (defaults, copy, free), building an app from a create or a partial
 * update, the scale-or-restart decision and Marathon's timestamps.
 *
 * A partial update works as Marathon's AppUpdate does (raml/AppConversion.scala,
 * appUpdateRamlReader): the stored app is written out in its canonical JSON, each field present
 * in the update replaces the stored one, and the result is read and validated as a whole app.
 * Errors therefore carry the same paths as for a create.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "frameworks/marathon/app_int.h"

bool app_strdup(const char *in, char **out)
{
    *out = NULL;
    if (in == NULL)
        return true;
    *out = strdup(in);
    return *out != NULL;
}

void app_set_defaults(marathon_app_t *app)
{
    *app = (marathon_app_t){
        .cpus = 1,
        .mem = 128,
        .disk = 0,
        .instances = 1,
        .minimum_health_capacity = 1.0,
        .maximum_over_capacity = 1.0,
        .backoff_seconds = 1,
        .backoff_factor = 1.15,
        .max_launch_delay_seconds = 300,
        .kill_selection = MARATHON_KILL_YOUNGEST_FIRST,
    };
}

static void free_strings(char **strings, size_t n)
{
    for (size_t i = 0; strings != NULL && i < n; i++)
        free(strings[i]);
    free(strings);
}

void app_clear(marathon_app_t *app)
{
    free(app->id);
    free(app->cmd);
    free_strings(app->args, app->args_count);
    for (size_t i = 0; i < app->fetch_count; i++) {
        free(app->fetch[i].uri);
        free(app->fetch[i].dest_path);
    }
    free(app->fetch);
    json_decref(app->env);
    json_decref(app->labels);
    free(app->user);
    for (size_t i = 0; i < app->constraint_count; i++) {
        free(app->constraints[i].field);
        free(app->constraints[i].value);
    }
    free(app->constraints);
    for (size_t i = 0; i < app->port_definition_count; i++) {
        free(app->port_definitions[i].protocol);
        free(app->port_definitions[i].name);
        json_decref(app->port_definitions[i].labels);
    }
    free(app->port_definitions);
    for (size_t i = 0; i < app->health_check_count; i++) {
        free(app->health_checks[i].path);
        free(app->health_checks[i].command);
    }
    free(app->health_checks);
    free_strings(app->dependencies, app->dependency_count);
    free(app->version);
    free(app->last_scaling_at);
    free(app->last_config_change_at);
    json_decref(app->extra);
    memset(app, 0, sizeof(*app));
}

void marathon_app_free(marathon_app_t *app)
{
    if (app == NULL)
        return;
    app_clear(app);
    free(app);
}

/* --- copy ---------------------------------------------------------------------------------
 * Each element is first copied whole (its scalars), its pointers cleared, and counted, before
 * its strings and JSON are duplicated: on a failure app_clear() frees exactly what the copy
 * owns. */

#define NO_JSON SIZE_MAX

/* Where the owned pointers of one kind of element sit. */
typedef struct element_layout {
    size_t size;
    size_t strings[2]; /* offsets of char * fields */
    size_t string_count;
    size_t json; /* offset of a json_t * field, or NO_JSON */
} element_layout_t;

static const element_layout_t string_layout = {sizeof(char *), {0}, 1, NO_JSON};
static const element_layout_t fetch_layout = {
    sizeof(marathon_fetch_t),
    {offsetof(marathon_fetch_t, uri), offsetof(marathon_fetch_t, dest_path)},
    2,
    NO_JSON};
static const element_layout_t constraint_layout = {
    sizeof(marathon_constraint_t),
    {offsetof(marathon_constraint_t, field), offsetof(marathon_constraint_t, value)},
    2,
    NO_JSON};
static const element_layout_t port_layout = {
    sizeof(marathon_port_definition_t),
    {offsetof(marathon_port_definition_t, protocol), offsetof(marathon_port_definition_t, name)},
    2,
    offsetof(marathon_port_definition_t, labels)};
static const element_layout_t health_layout = {
    sizeof(marathon_health_check_t),
    {offsetof(marathon_health_check_t, path), offsetof(marathon_health_check_t, command)},
    2,
    NO_JSON};

static bool copy_json(const json_t *in, json_t **out)
{
    *out = in == NULL ? NULL : json_deep_copy(in);
    return in == NULL || *out != NULL;
}

/* Copies n elements laid out as layout says; *count counts those the copy owns. Does nothing
 * (NULL) once *ok is false, and sets it to false when out of memory. */
static void *copy_elements(const void *in, size_t n, const element_layout_t *layout, size_t *count,
                           bool *ok)
{
    char *block = *ok && in != NULL ? calloc(n + 1, layout->size) : NULL;
    *ok = *ok && (in == NULL || block != NULL);
    for (size_t i = 0; block != NULL && *ok && i < n; i++) {
        char *to = block + i * layout->size;
        const char *from = (const char *)in + i * layout->size;
        memcpy(to, from, layout->size);
        for (size_t k = 0; k < layout->string_count; k++)
            *(char **)(to + layout->strings[k]) = NULL;
        if (layout->json != NO_JSON)
            *(json_t **)(to + layout->json) = NULL;
        (*count)++;
        for (size_t k = 0; *ok && k < layout->string_count; k++)
            *ok = app_strdup(*(char *const *)(from + layout->strings[k]),
                             (char **)(to + layout->strings[k]));
        if (*ok && layout->json != NO_JSON)
            *ok =
                copy_json(*(json_t *const *)(from + layout->json), (json_t **)(to + layout->json));
    }
    return block;
}

marathon_app_t *marathon_app_copy(const marathon_app_t *app)
{
    marathon_app_t *copy = malloc(sizeof(*copy));
    if (copy == NULL)
        return NULL;
    *copy = *app; /* the scalars; every pointer is cleared, then replaced by an owned one */
    copy->id = copy->cmd = copy->user = NULL;
    copy->version = copy->last_scaling_at = copy->last_config_change_at = NULL;
    copy->env = copy->labels = copy->extra = NULL;
    copy->args_count = copy->dependency_count = copy->fetch_count = copy->constraint_count = 0;
    copy->port_definition_count = copy->health_check_count = 0;
    bool ok = true;
    copy->args = copy_elements(app->args, app->args_count, &string_layout, &copy->args_count, &ok);
    copy->fetch =
        copy_elements(app->fetch, app->fetch_count, &fetch_layout, &copy->fetch_count, &ok);
    copy->constraints = copy_elements(app->constraints, app->constraint_count, &constraint_layout,
                                      &copy->constraint_count, &ok);
    copy->port_definitions = copy_elements(app->port_definitions, app->port_definition_count,
                                           &port_layout, &copy->port_definition_count, &ok);
    copy->health_checks = copy_elements(app->health_checks, app->health_check_count, &health_layout,
                                        &copy->health_check_count, &ok);
    copy->dependencies = copy_elements(app->dependencies, app->dependency_count, &string_layout,
                                       &copy->dependency_count, &ok);
    ok = ok && app_strdup(app->id, &copy->id) && app_strdup(app->cmd, &copy->cmd) &&
         copy_json(app->env, &copy->env) && copy_json(app->labels, &copy->labels) &&
         app_strdup(app->user, &copy->user) && app_strdup(app->version, &copy->version) &&
         app_strdup(app->last_scaling_at, &copy->last_scaling_at) &&
         app_strdup(app->last_config_change_at, &copy->last_config_change_at) &&
         copy_json(app->extra, &copy->extra);
    if (!ok) {
        marathon_app_free(copy);
        return NULL;
    }
    return copy;
}

/* --- building ----------------------------------------------------------------------------- */

/* Reads json as a whole app; stored also reads the version fields. */
static actor_err_t build(const json_t *json, const char *id_hint, bool stored, marathon_app_t **out,
                         json_t **details)
{
    app_ctx_t ctx = {.schema = json_array(), .invalid = json_array()};
    marathon_app_t *app = calloc(1, sizeof(*app));
    actor_err_t err = ACTOR_ENOMEM;
    if (ctx.schema == NULL || ctx.invalid == NULL || app == NULL)
        goto done;
    app_set_defaults(app);
    if (!json_is_object(json))
        app_schema_error(&ctx, "/", "error.expected.jsobject");
    else
        app_read(&ctx, json, id_hint, app);
    if (stored && json_is_object(json))
        app_read_version(&ctx, json, app);
    if (json_array_size(ctx.schema) == 0)
        app_validate(&ctx, app);
    if (ctx.nomem)
        goto done;
    json_t **errors = json_array_size(ctx.schema) > 0    ? &ctx.schema
                      : json_array_size(ctx.invalid) > 0 ? &ctx.invalid
                                                         : NULL;
    if (errors != NULL) {
        *details = *errors;
        *errors = NULL;
        err = ACTOR_EINVAL;
        goto done;
    }
    *out = app;
    app = NULL;
    err = ACTOR_OK;
done:
    marathon_app_free(app);
    json_decref(ctx.schema);
    json_decref(ctx.invalid);
    return err;
}

/* Whether json sets key to something other than null. */
static bool has(const json_t *json, const char *key)
{
    const json_t *v = json_object_get(json, key);
    return v != NULL && !json_is_null(v);
}

const char *marathon_app_rollback_version(const json_t *json)
{
    const char *key;
    json_t *value;
    if (!json_is_string(json_object_get(json, "version")))
        return NULL;
    json_object_foreach((json_t *)json, key, value)
    {
        if (!json_is_null(value) && strcmp(key, "version") != 0 && strcmp(key, "id") != 0)
            return NULL;
    }
    return json_string_value(json_object_get(json, "version"));
}

/* The stored app's canonical JSON with the update's fields laid over it. */
static json_t *merge_update(const json_t *update, const marathon_app_t *base)
{
    json_t *merged = marathon_app_to_json(base);
    if (merged == NULL)
        return NULL;
    json_object_del(merged, "version");
    json_object_del(merged, "versionInfo");
    if (json_array_size(json_object_get(update, "uris")) > 0)
        json_object_del(merged, "fetch"); /* `uris` given: they become the new fetch */
    if (has(update, "ports"))
        json_object_del(merged, "portDefinitions");
    const char *key;
    json_t *value;
    json_object_foreach((json_t *)update, key, value)
    {
        if (json_is_null(value) || strcmp(key, "id") == 0 || strcmp(key, "versionInfo") == 0)
            continue;
        if (json_object_set(merged, key, value) != 0) {
            json_decref(merged);
            return NULL;
        }
    }
    return merged;
}

/* An update may name an id (it stays the stored one) but it must be a valid one. */
static actor_err_t check_update_id(const json_t *update, json_t **details)
{
    const json_t *id = json_object_get(update, "id");
    char err[256];
    bool is_root;
    if (id == NULL || json_is_null(id))
        return ACTOR_OK;
    char *normal = json_is_string(id)
                       ? app_id_resolve(json_string_value(id), "/", &is_root, err, sizeof(err))
                       : NULL;
    free(normal);
    if (normal != NULL)
        return ACTOR_OK;
    if (json_is_string(id) && err[0] == '\0')
        return ACTOR_ENOMEM;
    *details = json_pack("[{s:s, s:[s]}]", "path", "/id", "errors",
                         json_is_string(id) ? err : "error.expected.jsstring");
    return *details != NULL ? ACTOR_EINVAL : ACTOR_ENOMEM;
}

static actor_err_t update(const json_t *json, const marathon_app_t *base, marathon_app_t **out,
                          json_t **details)
{
    if (!json_is_object(json)) {
        *details = json_pack("[{s:s, s:[s]}]", "path", "/", "errors", "error.expected.jsobject");
        return *details != NULL ? ACTOR_EINVAL : ACTOR_ENOMEM;
    }
    actor_err_t err = check_update_id(json, details);
    if (err != ACTOR_OK)
        return err;
    if (has(json, "version") && marathon_app_rollback_version(json) == NULL) {
        *details = json_pack("[{s:s, s:[s]}]", "path", "/", "errors",
                             "The 'version' field may only be combined with the 'id' field.");
        return *details != NULL ? ACTOR_EINVAL : ACTOR_ENOMEM;
    }
    if (has(json, "version")) { /* a rollback: the caller redeploys the stored version */
        *out = marathon_app_copy(base);
        return *out != NULL ? ACTOR_OK : ACTOR_ENOMEM;
    }
    json_t *merged = merge_update(json, base);
    if (merged == NULL)
        return ACTOR_ENOMEM;
    err = build(merged, base->id, false, out, details);
    json_decref(merged);
    if (err != ACTOR_OK)
        return err;
    marathon_app_t *app = *out;
    if (!app_strdup(base->version, &app->version) ||
        !app_strdup(base->last_scaling_at, &app->last_scaling_at) ||
        !app_strdup(base->last_config_change_at, &app->last_config_change_at)) {
        marathon_app_free(app);
        *out = NULL;
        return ACTOR_ENOMEM;
    }
    return ACTOR_OK;
}

actor_err_t marathon_app_from_json(const json_t *json, const marathon_app_t *base,
                                   const char *id_hint, marathon_app_t **out, json_t **details)
{
    if (base != NULL)
        return update(json, base, out, details);
    return build(json, id_hint, false, out, details);
}

actor_err_t marathon_app_from_stored_json(const json_t *json, marathon_app_t **out,
                                          json_t **details)
{
    return build(json, NULL, true, out, details);
}

/* --- decisions and timestamps ------------------------------------------------------------- */

bool marathon_app_uses_shell(const marathon_app_t *app)
{
    return app->cmd != NULL && app->args_count == 0;
}

/* The canonical JSON without the fields a scale changes. */
static json_t *config_of(const marathon_app_t *app)
{
    json_t *json = marathon_app_to_json(app);
    json_object_del(json, "instances");
    json_object_del(json, "version");
    json_object_del(json, "versionInfo");
    return json;
}

bool marathon_app_only_scaled(const marathon_app_t *a, const marathon_app_t *b)
{
    json_t *ja = config_of(a), *jb = config_of(b);
    bool same = ja != NULL && jb != NULL && json_equal(ja, jb);
    json_decref(ja);
    json_decref(jb);
    return same; /* out of memory: a restart, the safe answer */
}

void marathon_timestamp(int64_t wall_ns, char *out, size_t len)
{
    int64_t seconds = wall_ns / 1000000000;
    int64_t rest = wall_ns % 1000000000;
    if (rest < 0) { /* before 1970: floor, so that the milliseconds stay positive */
        seconds--;
        rest += 1000000000;
    }
    time_t t = (time_t)seconds;
    struct tm tm;
    char date[24];
    gmtime_r(&t, &tm);
    strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, len, "%s.%03dZ", date, (int)(rest / 1000000));
}
