/*
 * app_info.h: what Marathon 1.10 adds to an app definition when it shows it (AppInfo): which
 * embeds a request asks for (InfoEmbedResolver), the task counts (`tasksStaged`, `tasksRunning`,
 * `tasksHealthy`, `tasksUnhealthy`: TaskCounts) and the task statistics of `embed=app.taskStats`
 * (TaskStatsByVersion, TaskLifeTime). Pure code on the app model: the REST API (api_apps.c)
 * describes each instance as a marathon_task_stat_t and gets numbers and JSON back. No actor, no
 * I/O; every function may be called from a handler.
 *
 * Embeds, as Marathon's AppsResource resolves them: `embed` may repeat; each value is taken with
 * or without its "app." / "apps." prefix (`apps.tasks`, `app.tasks`, `tasks`); `counts`,
 * `deployments`, `readiness`, `lastTaskFailure`, `taskStats` and `tasks` name one part each, the
 * deprecated `failures` means lastTaskFailure and tasks; unknown values are ignored. The list
 * (GET /v2/apps) always embeds counts and deployments, one app (GET /v2/apps/{id}) always counts,
 * deployments, tasks and lastTaskFailure (Marathon keeps them "for compatibility").
 *
 * Counts, as TaskForStatistics: staged = no state yet or TASK_STAGING (TASK_STARTING counts as
 * neither staged nor running, as in Marathon), running = TASK_RUNNING, healthy = at least one
 * health result and all of them alive, unhealthy = some result not alive.
 */
#ifndef FRAMEWORKS_MARATHON_APP_INFO_H
#define FRAMEWORKS_MARATHON_APP_INFO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "frameworks/marathon/app.h"

/* The parts of an AppInfo (bits). */
typedef enum marathon_embed {
    MARATHON_EMBED_TASKS = 1 << 0,
    MARATHON_EMBED_COUNTS = 1 << 1,
    MARATHON_EMBED_DEPLOYMENTS = 1 << 2,
    MARATHON_EMBED_READINESS = 1 << 3,
    MARATHON_EMBED_LAST_TASK_FAILURE = 1 << 4,
    MARATHON_EMBED_TASK_STATS = 1 << 5,
} marathon_embed_t;

/* The embeds a query string (without '?', may be NULL) asks for, with the defaults above for the
 * list (single false) or one app (single true). Values may be percent-encoded. Cannot fail. */
unsigned marathon_embed_parse(const char *query, bool single);

/* One task as the counts and statistics see it. */
typedef struct marathon_task_stat {
    const char *staged_at; /* when it was launched (a version timestamp); compared with the
                            * app's versionInfo: "started after the last scaling" */
    const char *version;   /* the configuration it runs (lastConfigChangeAt when launched) */
    bool staging;          /* no state yet, or TASK_STAGING */
    bool running;          /* TASK_RUNNING */
    bool healthy;          /* health results, all alive */
    bool unhealthy;        /* some health result not alive */
    bool has_life_time;    /* it has started (TASK_RUNNING was seen) */
    double life_time;      /* seconds since it started */
} marathon_task_stat_t;

typedef struct marathon_task_counts {
    uint32_t staged, running, healthy, unhealthy;
} marathon_task_counts_t;

/* Adds up count tasks. Cannot fail. */
void marathon_task_counts(const marathon_task_stat_t *tasks, size_t count,
                          marathon_task_counts_t *out);

/* The `taskStats` object of an app: `startedAfterLastScaling` (tasks staged at or after
 * versionInfo.lastScalingAt), `withLatestConfig` (running the app's current configuration),
 * `withOutdatedConfig` (an older one) and `totalSummary` (all), each as {"stats": {"counts":
 * {"staged", "running", "healthy", "unhealthy"}, "lifeTime": {"averageSeconds",
 * "medianSeconds"}}}, a group left out when it has no task and `lifeTime` when none of its tasks
 * started (the median is the upper one, as Marathon's). The version groups need the app's
 * versionInfo; without it only totalSummary shows. A new object; NULL when out of memory. */
json_t *marathon_task_stats_json(const marathon_app_t *app, const marathon_task_stat_t *tasks,
                                 size_t count);

/* Parses a timestamp as marathon_timestamp() writes it ("2026-11-24T01:02:03.456Z"; the
 * fraction may have 0 to 9 digits, or be absent) into nanoseconds since the epoch. ACTOR_EINVAL
 * when text is not one. */
actor_err_t marathon_timestamp_parse(const char *text, int64_t *wall_ns);

#endif
