/*
 * backoff.h: the launch delay after failed tasks (Marathon 1.10's RateLimiter,
 * core/launchqueue/impl/RateLimiter.scala): one delay per app and configuration.
 *
 * The first failure delays launches by backoffSeconds (at most maxLaunchDelaySeconds); each
 * further failure multiplies the current delay by backoffFactor (in nanoseconds, truncated, as
 * Marathon computes it), capped at maxLaunchDelaySeconds. So the n-th failure in a row gives
 * min(backoffSeconds × backoffFactor^(n-1), maxLaunchDelaySeconds). The delay runs from the last
 * failure. It is reset by a new configuration (a change of lastConfigChangeAt: a restart or a
 * config update, not a scale), by DELETE /v2/queue/{id}/delay, at the start of a restart, and
 * once maxLaunchDelaySeconds have passed since the last failure without another one.
 *
 * Failures are what Marathon counts: FAILED, FINISHED, ERROR-type terminations and kills for
 * failed health checks, not TASK_KILLED; the caller decides. Times are nanoseconds on the
 * caller's clock (actor/clock.h), so tests drive them with the paused clock. Pure code: the
 * state is a caller-held struct, no function blocks or fails.
 */
#ifndef FRAMEWORKS_MARATHON_BACKOFF_H
#define FRAMEWORKS_MARATHON_BACKOFF_H

#include <stdbool.h>
#include <stdint.h>

#include "frameworks/marathon/app.h"

typedef struct marathon_backoff {
    bool active;          /* a delay is in force */
    int64_t reference_ns; /* the last failure */
    int64_t delay_ns;     /* the current delay, from reference_ns */
    int64_t max_ns;       /* maxLaunchDelaySeconds of the configuration that failed */
    char config[64];      /* the configuration it belongs to (lastConfigChangeAt, or version) */
} marathon_backoff_t;

/* No delay. Cannot fail. */
void marathon_backoff_init(marathon_backoff_t *b);

/* Records a failure of app's current configuration at now_ns (RateLimiter.addDelay): the first
 * failure of a configuration starts at min(backoffSeconds, maxLaunchDelaySeconds), the next ones
 * multiply by backoffFactor up to maxLaunchDelaySeconds. */
void marathon_backoff_failure(marathon_backoff_t *b, const marathon_app_t *app, int64_t now_ns);

/* Forgets the delay (DELETE /v2/queue/{id}/delay, a restart). */
void marathon_backoff_reset(marathon_backoff_t *b);

/* Forgets the delay when maxLaunchDelaySeconds have passed since the last failure
 * (RateLimiter.cleanUpOverdueDelays, which Marathon runs periodically); returns whether it did. */
bool marathon_backoff_expire(marathon_backoff_t *b, int64_t now_ns);

/* When app's instances may launch again: the last failure plus the delay; 0 (at once) when no
 * delay is in force for app's current configuration. */
int64_t marathon_backoff_deadline(const marathon_backoff_t *b, const marathon_app_t *app);

/* Seconds left before launches resume (0 when overdue), for /v2/queue's
 * delay.timeLeftSeconds; `overdue` there is marathon_backoff_deadline() <= now. */
double marathon_backoff_time_left(const marathon_backoff_t *b, const marathon_app_t *app,
                                  int64_t now_ns);

/* The delay in seconds after `failures` failures in a row (0 for none) of an app with these
 * backoffSeconds, backoffFactor and maxLaunchDelaySeconds, by the rule above (computed in
 * nanoseconds as Marathon does). Cannot fail. */
double marathon_backoff_delay(double backoff_seconds, double backoff_factor,
                              double max_launch_delay_seconds, uint32_t failures);

#endif
