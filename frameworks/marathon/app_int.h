/*
 * app_int.h: the internals shared by the app model's files: app.c (lifecycle, partial updates,
 * timestamps), app_json.c (reading and writing Marathon's JSON), app_validate.c (the rules and
 * their messages) and app_id.c (path ids).
 *
 * Reading an app definition collects two kinds of errors, as Marathon does: schema errors (a
 * value of the wrong JSON type, an unknown enum literal, a missing id), which Marathon reports as
 * "Invalid JSON" with Play's keys ("error.expected.jsnumber"), and rule violations ("got -3.0,
 * expected 0.0 or more"), reported as "Object is not valid". Schema errors win: when there are
 * any, the rule violations are not reported (Marathon validates only what parsed).
 */
#ifndef FRAMEWORKS_MARATHON_APP_INT_H
#define FRAMEWORKS_MARATHON_APP_INT_H

#include "frameworks/marathon/app.h"

/* Marathon's segment rule for path ids (state/PathId.scala), quoted in its message. */
#define APP_ID_SEGMENT_PATTERN                                                                     \
    "^(([a-z0-9]|[a-z0-9][a-z0-9\\-]*[a-z0-9])\\.)*([a-z0-9]|[a-z0-9][a-z0-9\\-]*[a-z0-9])|(\\.|"  \
    "\\.\\.)$"

/* Where errors of one read go. */
typedef struct app_ctx {
    json_t *schema;  /* details of schema errors (array), "Invalid JSON" */
    json_t *invalid; /* details of rule violations (array), "Object is not valid" */
    bool nomem;      /* an allocation failed: the answer is ACTOR_ENOMEM */
} app_ctx_t;

/* --- app_validate.c: errors, field rules, cross-field rules ---------------------------------- */

/* Adds a message under path to details, grouped by path as Marathon groups them. Sets
 * ctx->nomem when out of memory. */
void app_error_add(app_ctx_t *ctx, json_t *details, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Formats a path ("/healthChecks(%zu)/port"); NULL (and ctx->nomem) when out of memory. */
char *app_path(app_ctx_t *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A schema error (Play's key) under path. */
void app_schema_error(app_ctx_t *ctx, const char *path, const char *key);

/* A number in Scala's Double.toString form ("-3.0", "1.2", "1.0E-5"), for messages. */
void app_format_double(double value, char *out, size_t len);

/* Range rules in accord's words; each reports under path and returns whether value passed. */
bool app_check_min_double(app_ctx_t *ctx, const char *path, double value, double min);
bool app_check_min_int(app_ctx_t *ctx, const char *path, int64_t value, int64_t min);
bool app_check_max_int(app_ctx_t *ctx, const char *path, int64_t value, int64_t max);
bool app_check_between(app_ctx_t *ctx, const char *path, double value, double lo, double hi);

/* Checks one constraint's strings (2 or 3 of them) under path; on success fills *out (field and
 * value borrowed from the arguments, op parsed case-insensitively). */
bool app_constraint_check(app_ctx_t *ctx, const char *path, const char *const *parts, size_t n,
                          marathon_constraint_t *out);

/* Whether uri passes java.net.URI's syntax check closely enough for Marathon's
 * "URI has invalid syntax." rule. */
bool app_uri_syntax_ok(const char *uri);

/* The rules that look at the whole app once every field has been read (cmd/args, ports and
 * health checks, single-instance label, migration labels). */
void app_validate(app_ctx_t *ctx, const marathon_app_t *app);

/* Canonical names, indexed by marathon_health_protocol_t and marathon_constraint_op_t. */
#define APP_HEALTH_PROTOCOL_COUNT 7
#define APP_CONSTRAINT_OP_COUNT   7
extern const char *const app_health_protocol_names[APP_HEALTH_PROTOCOL_COUNT];
extern const char *const app_constraint_op_names[APP_CONSTRAINT_OP_COUNT];

/* --- app_id.c ------------------------------------------------------------------------------ */

/* Resolves id against base (an absolute normalised id, "/" for the root), validates it and
 * returns it as a heap string. On a violation returns NULL with Marathon's message in err; the
 * id that resolves to the root also sets *is_root. NULL with err empty means out of memory. */
char *app_id_resolve(const char *id, const char *base, bool *is_root, char *err, size_t err_len);

/* The parent of an absolute normalised id ("/a/b" -> "/a", "/a" -> "/"), a heap string. */
char *app_id_parent(const char *id);

/* --- app_json.c ---------------------------------------------------------------------------- */

/* Reads a complete app definition (a create, or a partial update merged over the stored app)
 * into app, which holds the defaults on entry. id_hint is used when json has no id. */
void app_read(app_ctx_t *ctx, const json_t *json, const char *id_hint, marathon_app_t *app);

/* Reads version and versionInfo (stored form). */
void app_read_version(app_ctx_t *ctx, const json_t *json, marathon_app_t *app);

/* --- app.c --------------------------------------------------------------------------------- */

/* Sets every field to Marathon's default (an app with no id). */
void app_set_defaults(marathon_app_t *app);

/* Frees what app owns and leaves it zeroed. */
void app_clear(marathon_app_t *app);

/* strdup that accepts NULL. Returns false when out of memory. */
bool app_strdup(const char *in, char **out);

#endif
