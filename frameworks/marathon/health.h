/*
 * health.h: Marathon-level health checks (HTTP, HTTPS, TCP), run by Marathon itself against the
 * instances of its apps (Marathon 1.10's core/health: HealthCheckActor, HealthCheckWorker).
 *
 * The Marathon actor owns one checker. For each running instance it calls
 * marathon_health_watch() with the instance's host, host ports and the app's healthChecks; the
 * checker probes each Marathon-level check at once and then every intervalSeconds, and reports
 * every outcome inside the owner actor, with the check's state on that instance as
 * /v2/apps shows it in `healthCheckResults` (Marathon's Health), and what Marathon does with it:
 *
 *   HTTP   GET http://host:port/path: healthy iff the status is in [200, 399] within
 *          timeoutSeconds (the body is not read); a 1xx is discarded when ignoreHttp1xx is set
 *          and unhealthy otherwise. No redirects are followed, no proxy is used.
 *   HTTPS  the same over TLS, certificates not verified (as Marathon); ignoreHttp1xx does not
 *          apply (as Marathon: its HTTPS worker has no such case).
 *   TCP    healthy iff a TCP connection to host:port is established within timeoutSeconds.
 *   port   `port` when the check sets it, else the instance's ports[portIndex].
 *
 * COMMAND and the MESOS_* protocols are Mesos-level: the executor runs them and reports health in
 * status updates; the checker skips them (their indices stay valid, and never get a report).
 *
 * What a result does (HealthCheckActor.handleHealthResult): a success sets firstSuccess (once)
 * and lastSuccess and clears consecutiveFailures; a failure sets lastFailure and its cause and
 * counts one more consecutive failure, unless it comes before the first success and within
 * gracePeriodSeconds of the instance's start, when it is discarded (`counted` false, state
 * unchanged). `alive` is "succeeded since the last failure". A counted failure when the failures
 * before it already reached maxConsecutiveFailures (> 0; 0 never kills) sets `kill`: the owner
 * kills the instance (unless it is unreachable) and publishes unhealthy_instance_kill_event.
 * The owner also publishes failed_health_check_event for each counted failure and
 * health_status_changed_event when `changed`. delaySeconds is not used (Marathon defines it and
 * does not implement it for Marathon-level checks).
 *
 * Nothing blocks the owner: probes run on the runtime's I/O thread (an HTTP client of
 * http_client.h: libcurl's multi interface on the libev loop), at most MARATHON_HEALTH_MAX_RUNNING
 * at a time (the rest wait their turn, their
 * timeouts counted from their start), each on a fresh connection. An instance costs one timer
 * and a small record however many checks it has; a probe costs a libcurl handle while it runs.
 * A check whose previous probe is still running when it falls due skips that round.
 *
 * Time. Intervals are timers of the runtime's clock (actor_delay), so a test with a paused clock
 * triggers each round with actor_clock_advance(); the probes themselves are real network I/O
 * with real timeouts, so a test then polls (actor_settle() and a short sleep, with a deadline)
 * until the reports arrived. Timestamps and the grace period use actor_clock_wall().
 *
 * Every function must be called inside the owner actor (its handlers, init or fini), except
 * marathon_health_new.
 */
#ifndef FRAMEWORKS_MARATHON_HEALTH_H
#define FRAMEWORKS_MARATHON_HEALTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "actor/actor.h"
#include "actor/error.h"
#include "frameworks/marathon/app.h"

/* Probes running at once per checker; the others queue. Keeps file descriptors bounded. */
#define MARATHON_HEALTH_MAX_RUNNING 256

typedef struct marathon_health marathon_health_t;

/* One check's state on one instance (Marathon's Health, `healthCheckResults` entries). */
typedef struct marathon_health_status {
    bool alive;                     /* a success since the last counted failure */
    uint32_t consecutive_failures;  /* counted failures since the last success */
    int64_t first_success;          /* wall-clock ns (actor_clock_wall); 0 = never */
    int64_t last_success;           /* wall-clock ns; 0 = never */
    int64_t last_failure;           /* wall-clock ns; 0 = never */
    const char *last_failure_cause; /* NULL when no failure was counted; borrowed */
} marathon_health_status_t;

/* One probe's outcome, as the owner hears it. Borrowed until the callback returns or calls into
 * the checker (an unwatch frees what status.last_failure_cause points to). */
typedef struct marathon_health_report {
    const char *task_id;
    size_t check_index; /* index in the checks given to marathon_health_watch */
    bool alive;         /* this probe succeeded */
    /* Why it failed, NULL when alive: "500 Internal Server Error" (the status line's code and
     * reason), "Failed to connect to 10.0.0.2:31000: Connection refused", "10.0.0.2:31000 did not
     * answer within 20 seconds", "10.0.0.2:31000 did not accept a connection within 20 seconds",
     * "TLS handshake with 10.0.0.2:31000 failed: ...", "Could not resolve host agent-7",
     * "Health check failed: unable to get the task's effectivePort". */
    const char *cause;
    bool counted; /* it changed `status`; false for a failure in the grace period or a 1xx
                     with ignoreHttp1xx */
    bool changed; /* status.alive differs from before: health_status_changed_event */
    bool kill;    /* the owner should kill the instance for failing health checks */
    marathon_health_status_t status; /* the check's state after this outcome */
} marathon_health_report_t;

/* Told inside the owner actor, once per probe of a watched instance, in the order of the
 * probes of each check. The callback may call any function of this header, marathon_health_free
 * included. */
typedef void (*marathon_health_report_fn)(actor_t *self, void *state,
                                          const marathon_health_report_t *report);

/* Makes a checker for the actor owner (its reports go to fn inside owner). May be called before
 * the owner runs (its pointer is only kept). On ACTOR_OK *out is the checker, which the owner
 * frees with marathon_health_free (in its fini at the latest). Errors: ACTOR_EINVAL (no owner
 * or fn), ACTOR_ENOMEM. */
actor_err_t marathon_health_new(actor_t *owner, marathon_health_report_fn fn,
                                marathon_health_t **out);

/* Stops every check and frees the checker: no report comes afterwards, even for probes under
 * way (they are abandoned on the I/O thread). NULL is allowed. Cannot fail. */
void marathon_health_free(marathon_health_t *h);

/*
 * Starts checking the instance task_id at host (a name or an IP address) with its host ports
 * (ports[i] for portIndex i) and the app's checks (check_count entries; copied, as are the other
 * arguments). started_at is when the instance started running (wall-clock ns, as
 * actor_clock_wall() tells; 0 = now), the start of its grace period. Each Marathon-level check is
 * probed at once, then every intervalSeconds (at least 1 s); each probe may take timeoutSeconds
 * (at least 1 s). A second watch of the same task with the same host, ports and checks changes
 * nothing (started_at 0 keeps the first one's); with anything different it replaces the first
 * registration, states reset and reports of its probes under way dropped. An instance whose
 * checks are all Mesos-level is still recorded (and costs no timer). Errors, with nothing
 * changed: ACTOR_EINVAL (an empty task id or host, ports NULL with port_count > 0, checks NULL
 * with check_count > 0), ACTOR_ENOMEM.
 */
actor_err_t marathon_health_watch(marathon_health_t *h, const char *task_id, const char *host,
                                  const uint32_t *ports, size_t port_count, int64_t started_at,
                                  const marathon_health_check_t *checks, size_t check_count);

/* Stops checking task_id and forgets its states; reports of its probes under way are dropped.
 * An unknown task is ignored. Cannot fail. */
void marathon_health_unwatch(marathon_health_t *h, const char *task_id);

/* The state of check check_index on task_id, or NULL when the task is not watched, the index is
 * out of range or no outcome was counted yet. Borrowed until the next call into the checker or
 * the next report. */
const marathon_health_status_t *marathon_health_status(const marathon_health_t *h,
                                                       const char *task_id, size_t check_index);

/* How many instances are watched. */
size_t marathon_health_count(const marathon_health_t *h);

#endif
