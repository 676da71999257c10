/*
 * app_info.c: the embeds, task counts and task statistics of Marathon's AppInfo (app_info.h).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "frameworks/marathon/app_info.h"

/* ---- embeds ---- */

static const struct {
    const char *name;
    unsigned bits;
} embed_names[] = {
    {"tasks", MARATHON_EMBED_TASKS},
    {"counts", MARATHON_EMBED_COUNTS},
    {"deployments", MARATHON_EMBED_DEPLOYMENTS},
    {"readiness", MARATHON_EMBED_READINESS},
    {"lastTaskFailure", MARATHON_EMBED_LAST_TASK_FAILURE},
    {"taskStats", MARATHON_EMBED_TASK_STATS},
    {"failures", MARATHON_EMBED_LAST_TASK_FAILURE | MARATHON_EMBED_TASKS}, /* deprecated */
};

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (char)tolower((unsigned char)c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Percent-decodes the n bytes at in into out (room for len), '+' as a space. */
static void decode(const char *in, size_t n, char *out, size_t len)
{
    size_t o = 0;
    for (size_t i = 0; i < n && o + 1 < len; i++) {
        int hi = in[i] == '%' && i + 2 < n ? hex_digit(in[i + 1]) : -1;
        int lo = hi >= 0 ? hex_digit(in[i + 2]) : -1;
        if (hi >= 0 && lo >= 0) {
            out[o++] = (char)(hi * 16 + lo);
            i += 2;
        } else {
            out[o++] = in[i] == '+' ? ' ' : in[i];
        }
    }
    out[o] = '\0';
}

static unsigned embed_bits(const char *value)
{
    if (strncmp(value, "apps.", 5) == 0)
        value += 5;
    else if (strncmp(value, "app.", 4) == 0)
        value += 4;
    for (size_t k = 0; k < sizeof(embed_names) / sizeof(embed_names[0]); k++) {
        if (strcmp(value, embed_names[k].name) == 0)
            return embed_names[k].bits;
    }
    return 0;
}

unsigned marathon_embed_parse(const char *query, bool single)
{
    unsigned bits = MARATHON_EMBED_COUNTS | MARATHON_EMBED_DEPLOYMENTS;
    if (single)
        bits |= MARATHON_EMBED_TASKS | MARATHON_EMBED_LAST_TASK_FAILURE;
    for (const char *p = query; p != NULL && *p != '\0';) {
        const char *end = strchr(p, '&');
        size_t n = end != NULL ? (size_t)(end - p) : strlen(p);
        if (n > 6 && strncmp(p, "embed=", 6) == 0) {
            char value[64];
            decode(p + 6, n - 6, value, sizeof(value));
            bits |= embed_bits(value);
        }
        p = end != NULL ? end + 1 : NULL;
    }
    return bits;
}

/* ---- counts and statistics ---- */

void marathon_task_counts(const marathon_task_stat_t *tasks, size_t count,
                          marathon_task_counts_t *out)
{
    *out = (marathon_task_counts_t){0};
    for (size_t k = 0; k < count; k++) {
        out->staged += tasks[k].staging;
        out->running += tasks[k].running;
        out->healthy += tasks[k].healthy;
        out->unhealthy += tasks[k].unhealthy;
    }
}

static int compare_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Which tasks a group holds. */
typedef enum group {
    GROUP_AFTER_SCALING,
    GROUP_LATEST_CONFIG,
    GROUP_OUTDATED_CONFIG,
    GROUP_TOTAL,
} group_t;

static bool in_group(const marathon_app_t *app, const marathon_task_stat_t *t, group_t g)
{
    const char *config = app->last_config_change_at;
    switch (g) {
    case GROUP_AFTER_SCALING:
        return t->staged_at != NULL && strcmp(t->staged_at, app->last_scaling_at) >= 0;
    case GROUP_LATEST_CONFIG:
        return t->version != NULL && strcmp(t->version, config) >= 0;
    case GROUP_OUTDATED_CONFIG:
        return t->version != NULL && strcmp(t->version, config) < 0;
    case GROUP_TOTAL:
        return true;
    }
    return false;
}

/* {"stats": {...}} of the tasks in group g, or NULL (no task, or out of memory). */
static json_t *group_stats(const marathon_app_t *app, const marathon_task_stat_t *tasks,
                           size_t count, group_t g, double *lives)
{
    marathon_task_counts_t c = {0};
    size_t n = 0, life_count = 0;
    double sum = 0;
    for (size_t k = 0; k < count; k++) {
        if (!in_group(app, &tasks[k], g))
            continue;
        n++;
        c.staged += tasks[k].staging;
        c.running += tasks[k].running;
        c.healthy += tasks[k].healthy;
        c.unhealthy += tasks[k].unhealthy;
        if (tasks[k].has_life_time) {
            lives[life_count++] = tasks[k].life_time;
            sum += tasks[k].life_time;
        }
    }
    if (n == 0)
        return NULL;
    json_t *stats = json_pack("{s:{s:i,s:i,s:i,s:i}}", "counts", "staged", (json_int_t)c.staged,
                              "running", (json_int_t)c.running, "healthy", (json_int_t)c.healthy,
                              "unhealthy", (json_int_t)c.unhealthy);
    if (stats != NULL && life_count > 0) {
        qsort(lives, life_count, sizeof(*lives), compare_double);
        json_object_set_new(stats, "lifeTime",
                            json_pack("{s:f,s:f}", "averageSeconds", sum / (double)life_count,
                                      "medianSeconds", lives[life_count / 2]));
    }
    return stats != NULL ? json_pack("{s:o}", "stats", stats) : NULL;
}

json_t *marathon_task_stats_json(const marathon_app_t *app, const marathon_task_stat_t *tasks,
                                 size_t count)
{
    static const char *const names[] = {"startedAfterLastScaling", "withLatestConfig",
                                        "withOutdatedConfig", "totalSummary"};
    json_t *out = json_object();
    double *lives = calloc(count + 1, sizeof(*lives));
    if (out == NULL || lives == NULL) {
        json_decref(out);
        free(lives);
        return NULL;
    }
    bool versioned = app->last_scaling_at != NULL && app->last_config_change_at != NULL;
    for (group_t g = versioned ? GROUP_AFTER_SCALING : GROUP_TOTAL; g <= GROUP_TOTAL; g++) {
        json_t *stats = group_stats(app, tasks, count, g, lives);
        if (stats != NULL)
            json_object_set_new(out, names[g], stats);
    }
    free(lives);
    return out;
}

actor_err_t marathon_timestamp_parse(const char *text, int64_t *wall_ns)
{
    struct tm tm = {0};
    const char *rest = text != NULL ? strptime(text, "%Y-%m-%dT%H:%M:%S", &tm) : NULL;
    if (rest == NULL)
        return ACTOR_EINVAL;
    int64_t fraction = 0, scale = 1000000000;
    if (*rest == '.') {
        rest++;
        size_t digits = 0;
        while (isdigit((unsigned char)*rest) && digits < 9) {
            scale /= 10;
            fraction += (*rest++ - '0') * scale;
            digits++;
        }
        if (digits == 0)
            return ACTOR_EINVAL;
    }
    if (strcmp(rest, "Z") != 0)
        return ACTOR_EINVAL;
    *wall_ns = (int64_t)timegm(&tm) * 1000000000 + fraction;
    return ACTOR_OK;
}
