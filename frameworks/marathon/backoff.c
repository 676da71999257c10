/*
 * backoff.c: the launch delay after failed tasks (Marathon's RateLimiter). See backoff.h.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "frameworks/marathon/backoff.h"

/* Seconds to nanoseconds, saturated; negative or NaN is 0. */
static int64_t seconds_ns(double s)
{
    if (!(s > 0))
        return 0;
    if (s >= 9.2e9)
        return INT64_MAX;
    return (int64_t)llround(s * 1e9);
}

/* The configuration a delay belongs to: Marathon keys delays by lastConfigChangeVersion. */
static const char *config_of(const marathon_app_t *app)
{
    if (app->last_config_change_at != NULL)
        return app->last_config_change_at;
    return app->version != NULL ? app->version : "";
}

static int64_t first_delay(const marathon_app_t *app)
{
    int64_t backoff = seconds_ns(app->backoff_seconds);
    int64_t max = seconds_ns(app->max_launch_delay_seconds);
    return backoff < max ? backoff : max;
}

/* Delay.increased: the delay times the factor (Java's toLong truncation), at most max. */
static int64_t increased(int64_t delay_ns, double factor, int64_t max_ns)
{
    double next = (double)delay_ns * (isfinite(factor) && factor > 0 ? factor : 1.0);
    if (!(next < (double)max_ns))
        return max_ns;
    return (int64_t)next;
}

void marathon_backoff_init(marathon_backoff_t *b)
{
    memset(b, 0, sizeof(*b));
}

void marathon_backoff_failure(marathon_backoff_t *b, const marathon_app_t *app, int64_t now_ns)
{
    const char *config = config_of(app);
    int64_t max = seconds_ns(app->max_launch_delay_seconds);
    if (b->active && strncmp(b->config, config, sizeof(b->config) - 1) == 0)
        b->delay_ns = increased(b->delay_ns, app->backoff_factor, max);
    else
        b->delay_ns = first_delay(app);
    b->active = true;
    b->reference_ns = now_ns;
    b->max_ns = max;
    snprintf(b->config, sizeof(b->config), "%s", config);
}

void marathon_backoff_reset(marathon_backoff_t *b)
{
    marathon_backoff_init(b);
}

bool marathon_backoff_expire(marathon_backoff_t *b, int64_t now_ns)
{
    if (!b->active || now_ns - b->reference_ns <= b->max_ns)
        return false;
    marathon_backoff_reset(b);
    return true;
}

int64_t marathon_backoff_deadline(const marathon_backoff_t *b, const marathon_app_t *app)
{
    if (!b->active || strncmp(b->config, config_of(app), sizeof(b->config) - 1) != 0)
        return 0;
    return b->delay_ns > INT64_MAX - b->reference_ns ? INT64_MAX : b->reference_ns + b->delay_ns;
}

double marathon_backoff_time_left(const marathon_backoff_t *b, const marathon_app_t *app,
                                  int64_t now_ns)
{
    int64_t deadline = marathon_backoff_deadline(b, app);
    return deadline > now_ns ? (double)(deadline - now_ns) / 1e9 : 0.0;
}

double marathon_backoff_delay(double backoff_seconds, double backoff_factor,
                              double max_launch_delay_seconds, uint32_t failures)
{
    if (failures == 0)
        return 0;
    int64_t max = seconds_ns(max_launch_delay_seconds), delay = seconds_ns(backoff_seconds);
    delay = delay < max ? delay : max;
    for (uint32_t i = 1; i < failures; i++) {
        int64_t next = increased(delay, backoff_factor, max);
        if (next == delay)
            break; /* at the cap, or a factor of 1 */
        delay = next;
    }
    return (double)delay / 1e9;
}
