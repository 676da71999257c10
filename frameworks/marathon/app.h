/*
 * app.h: Marathon's app definition (AppDefinition, Marathon 1.10): the C form of the JSON users
 * POST to /v2/apps, its defaults, its validation with Marathon's messages, partial updates, and
 * the canonical JSON Marathon answers with. Pure data code: no actor, no I/O; the REST API, the
 * storage and the scheduler of frameworks/marathon/ all work on marathon_app_t.
 *
 * Fields Marathon's schema has that we do not act on (acceptedResourceRoles, role, executor "" or
 * "//cmd", executorResources, an empty `secrets`, readinessChecks, check, tty, resourceLimits,
 * storeUrls, a MESOS `container` without image, volumes or port mappings) are kept in `extra` and
 * echoed back unchanged. Those that would change where or how a task runs and that we cannot
 * honour are refused with a 422 detail naming the field: a Docker `container` or any container
 * image or volume, `networks` other than host, `ipAddress` (IP per task), `gpus` above 0,
 * `residency`, a custom `executor`, secrets (`secrets` entries and secret references in `env`).
 * Fields outside Marathon's schema are ignored, as Marathon 1.10 ignores them (its generated
 * readers read only the properties of the schema): they are neither stored nor echoed.
 *
 * The command: `cmd` alone runs as `/bin/sh -c <cmd>`; `args` alone is an argv (args[0] is the
 * program), no shell. Marathon refuses `cmd` and `args` together; we accept them (DESIGN.md
 * section 8, the seed's app.json) and run `cmd` as the program with `args` as its arguments:
 * argv = [cmd, args...], no shell. marathon_app_uses_shell() tells the scheduler which form.
 *
 * Numbers: jansson writes reals with 17 significant digits unless told otherwise (1.15 becomes
 * 1.1499999999999999): dump app JSON with MARATHON_APP_JSON_FLAGS to get Marathon's "1.15".
 */
#ifndef FRAMEWORKS_MARATHON_APP_H
#define FRAMEWORKS_MARATHON_APP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "actor/error.h"

/* Flags for json_dumps() of app JSON: compact, reals with 15 significant digits (as typed). */
#define MARATHON_APP_JSON_FLAGS (JSON_COMPACT | JSON_REAL_PRECISION(15))

typedef enum marathon_constraint_op {
    MARATHON_CONSTRAINT_UNIQUE,
    MARATHON_CONSTRAINT_CLUSTER,
    MARATHON_CONSTRAINT_GROUP_BY,
    MARATHON_CONSTRAINT_LIKE,
    MARATHON_CONSTRAINT_UNLIKE,
    MARATHON_CONSTRAINT_MAX_PER,
    MARATHON_CONSTRAINT_IS,
} marathon_constraint_op_t;

typedef struct marathon_constraint {
    char *field; /* "hostname" (also "@hostname"), "@region", "@zone", or an attribute name */
    marathon_constraint_op_t op;
    char *value; /* NULL when absent; LIKE/UNLIKE: a POSIX extended regex, validated as
                  * regcomp("^(value)$", REG_EXTENDED): match the whole value the same way */
} marathon_constraint_t;

typedef struct marathon_fetch {
    char *uri;
    bool extract;    /* default true */
    bool executable; /* default false */
    bool cache;      /* default false */
    char *dest_path; /* NULL when absent */
} marathon_fetch_t;

typedef struct marathon_port_definition {
    uint32_t port;  /* 0 = Marathon assigns a service port */
    char *protocol; /* "tcp" (default), "udp" or "udp,tcp" */
    char *name;     /* NULL when absent; "default" for the implied single port */
    json_t *labels; /* object or NULL */
} marathon_port_definition_t;

typedef enum marathon_health_protocol {
    MARATHON_HEALTH_HTTP,
    MARATHON_HEALTH_HTTPS,
    MARATHON_HEALTH_TCP,
    MARATHON_HEALTH_COMMAND,
    MARATHON_HEALTH_MESOS_HTTP,
    MARATHON_HEALTH_MESOS_HTTPS,
    MARATHON_HEALTH_MESOS_TCP,
} marathon_health_protocol_t;

typedef struct marathon_health_check {
    marathon_health_protocol_t protocol; /* default HTTP */
    char *path;                          /* default "/" (HTTP variants) */
    uint32_t port_index;                 /* default 0 */
    bool has_port;                       /* `port` given: overrides port_index */
    uint32_t port;
    char *command;                     /* COMMAND: command.value */
    uint32_t grace_period_seconds;     /* 300 */
    uint32_t interval_seconds;         /* 60 */
    uint32_t timeout_seconds;          /* 20 */
    uint32_t max_consecutive_failures; /* 3; 0 = never kill */
    uint32_t delay_seconds;            /* 15 */
    bool ignore_http1xx;               /* false */
} marathon_health_check_t;

typedef enum marathon_kill_selection {
    MARATHON_KILL_YOUNGEST_FIRST,
    MARATHON_KILL_OLDEST_FIRST,
} marathon_kill_selection_t;

typedef struct marathon_app {
    char *id;    /* absolute and normalised: "/web-app", "/prod/db" */
    char *cmd;   /* NULL when absent; with args: the program (argv[0]), else a shell line */
    char **args; /* NULL when absent (args_count 0 but present: an empty array) */
    size_t args_count;
    bool has_args;
    double cpus, mem, disk;  /* 1, 128, 0 */
    uint32_t instances;      /* 1 */
    marathon_fetch_t *fetch; /* from `fetch`, or converted from the deprecated `uris` */
    size_t fetch_count;
    json_t *env;    /* object name -> string (secret references stay as objects), or NULL */
    json_t *labels; /* object name -> string, or NULL */
    char *user;     /* NULL when absent */
    marathon_constraint_t *constraints;
    size_t constraint_count;
    marathon_port_definition_t *port_definitions; /* the implied default when omitted */
    size_t port_definition_count;
    bool require_ports; /* false */
    marathon_health_check_t *health_checks;
    size_t health_check_count;
    double minimum_health_capacity;            /* upgradeStrategy, 1.0 */
    double maximum_over_capacity;              /* upgradeStrategy, 1.0 */
    double backoff_seconds;                    /* 1 */
    double backoff_factor;                     /* 1.15 */
    double max_launch_delay_seconds;           /* 300 */
    marathon_kill_selection_t kill_selection;  /* YOUNGEST_FIRST */
    bool unreachable_disabled;                 /* unreachableStrategy "disabled" */
    double unreachable_inactive_after_seconds; /* 0 */
    double unreachable_expunge_after_seconds;  /* 0 */
    bool has_task_kill_grace_period;
    double task_kill_grace_period_seconds;
    char **dependencies; /* absolute ids */
    size_t dependency_count;
    char *version;               /* ISO 8601 timestamp with milliseconds, set by Marathon */
    char *last_scaling_at;       /* versionInfo.lastScalingAt */
    char *last_config_change_at; /* versionInfo.lastConfigChangeAt */
    json_t *extra;               /* other schema fields, stored and echoed back (object, or NULL) */
} marathon_app_t;

/* Validation errors in Marathon's shape: a JSON array of {"path": "/cpus", "errors": [...]},
 * one entry per path (a path with several broken rules lists each message), the `details` of a
 * 422 {"message": marathon_app_error_message(details), "details": [...]}. Paths follow Marathon:
 * "/" for rules on the whole app, "/healthChecks(0)/portIndex" inside arrays, "/env/NAME" inside
 * maps. */

/* Builds an app from a POSTed (or PUT) JSON object. base is NULL to create (every field gets its
 * default); for a partial update (PUT without partialUpdate=false, PATCH) base is the stored app
 * and only the fields present in json change: each present field replaces the stored one whole
 * (Marathon's AppUpdate; `cmd` and `args` separately, so a new `cmd` keeps the stored `args`),
 * `uris` replaces `fetch` and `ports` replaces `portDefinitions`, a JSON null counts as absent,
 * and the id stays the stored one. PUT with partialUpdate=false is a full replacement: the caller
 * passes base NULL (and id_hint) then, and copies the stored version fields if it keeps them.
 * id_hint (may be NULL) is the id from the URL, used when json has none. On ACTOR_OK *out is a
 * new app (version fields copied from base, or NULL); on ACTOR_EINVAL *details is a new array of
 * errors (caller decrefs) and *out is untouched. ACTOR_ENOMEM otherwise. Does not set version:
 * the caller stamps it (`version` and `versionInfo` in json are read-only and ignored, except
 * that an update may combine `version` only with `id`: see marathon_app_rollback_version()). */
actor_err_t marathon_app_from_json(const json_t *json, const marathon_app_t *base,
                                   const char *id_hint, marathon_app_t **out, json_t **details);

/* Like marathon_app_from_json(json, NULL, NULL, ...) for JSON written by marathon_app_to_json()
 * and stored: also reads `version` and `versionInfo` back. */
actor_err_t marathon_app_from_stored_json(const json_t *json, marathon_app_t **out,
                                          json_t **details);

/* The message of a 422 answer with these details: "Invalid JSON" when a value had the wrong
 * JSON type (Play's "error.*" keys), else "Object is not valid". Static string. */
const char *marathon_app_error_message(const json_t *details);

/* A rollback request (`PUT /v2/apps/{id}` with {"version": ts}, optionally with `id`): returns
 * the version string (borrowed from json), else NULL. The caller redeploys the stored version;
 * marathon_app_from_json() with such a body returns a copy of base. */
const char *marathon_app_rollback_version(const json_t *json);

/* Whether the task's command runs through the shell: true for `cmd` alone (`/bin/sh -c cmd`),
 * false when there is an argv (`args` alone: argv = args; `cmd` with non-empty `args`:
 * argv = [cmd, args...]). */
bool marathon_app_uses_shell(const marathon_app_t *app);

/* The canonical JSON of an app, as GET /v2/apps/{id} shows it (Marathon 1.10's AppConversion):
 * every default filled in, `portDefinitions` with their (assigned) ports, `networks:
 * [{"mode":"host"}]`, `upgradeStrategy`, `unreachableStrategy` ("disabled" or the object),
 * `killSelection`, `backoff*`, `requirePorts`, `gpus: 0`, `executor` ("" unless given), `role`
 * ("*" unless given), `fetch` (never `uris` or `ports`), `version` and `versionInfo` when set,
 * `extra` merged back. Empty collections are omitted where Marathon's schema marks them omitEmpty
 * (args, constraints, dependencies, env, fetch, healthChecks, readinessChecks, secrets, storeUrls);
 * `labels` is always shown ({} when empty) and `portDefinitions` too ([] when the app has no
 * ports). A new reference (caller decrefs); NULL only when out of memory. */
json_t *marathon_app_to_json(const marathon_app_t *app);

/* Normalises an app id: relative ids are taken from "/", "." and ".." segments resolved, empty
 * segments and a trailing "/" dropped ("web-app" -> "/web-app", "/a//b/../c/" -> "/a/c"). Returns
 * a heap string, or NULL with a message in err when the id is not valid (Marathon's messages:
 * "must fully match regular expression '...'", "must not end with any of the following reserved
 * keywords: restart, tasks, versions", "Path must contain at least one path element"); NULL with
 * err empty when out of memory. */
char *marathon_app_id_normalize(const char *id, char *err, size_t err_len);

/* Marathon's service ports (AssignDynamicServiceLogic): gives each port definition of app whose
 * port is 0 a service port from [min, max]: first the ports of `before` (the app's previous
 * definition, NULL for a new app) in that range that app no longer names, in order, so that an app
 * whose ports are posted as 0 again keeps them; then the lowest ports of the range that no other
 * app holds (`used`: the service ports of every other app, in any order, 0s ignored), that
 * `before` did not hold and that app does not name. Non-zero ports stay as given (Marathon does
 * not refuse a port another app names: service ports are the user's to keep unique).
 * ACTOR_OK; ACTOR_EADDRINUSE when the range has too few free ports (app unchanged);
 * ACTOR_ENOMEM. */
actor_err_t marathon_app_assign_service_ports(marathon_app_t *app, const marathon_app_t *before,
                                              const uint32_t *used, size_t used_count, uint32_t min,
                                              uint32_t max);

/* Whether two versions differ only in `instances` (a scale, not a restart, as Marathon decides
 * between ScaleApplication and RestartApplication); version fields are not compared. An app that
 * did not change at all also counts as only scaled. */
bool marathon_app_only_scaled(const marathon_app_t *a, const marathon_app_t *b);

/* A deep copy, or NULL when out of memory. */
marathon_app_t *marathon_app_copy(const marathon_app_t *app);

/* Frees an app; NULL is ignored. */
void marathon_app_free(marathon_app_t *app);

/* A timestamp as Marathon writes versions: "2026-11-24T01:02:03.456Z" (UTC, milliseconds).
 * out has at least 32 bytes. */
void marathon_timestamp(int64_t wall_ns, char *out, size_t len);

#endif
