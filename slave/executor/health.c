/*
 * health.c: the command executor's health checking of its task (Mesos's
 * src/checks/health_checker.cpp for a COMMAND HealthCheck); see executor_int.h.
 *
 * After delay_seconds the check command runs in the task's sandbox with the task's environment
 * plus the check's own variables, in its own session; timeout_seconds later (0: never) its
 * process group is killed and the check counts as failed. The next check starts interval_seconds
 * after the previous one ended. Each outcome:
 *
 *   success  reports healthy on the first success and on the first after failures; clears the
 *            consecutive failures
 *   failure  ignored while no check succeeded yet and the grace period (grace_period_seconds
 *            from the start of checking) lasts; otherwise counts one more consecutive failure
 *            and reports unhealthy, asking for a kill once the failures reach
 *            consecutive_failures (so 0 and 1 both kill at the first counted failure)
 *
 * Everything runs inside the executor actor: the timers are actor_delay timers, the check
 * command's exit comes from actor_subprocess_watch. The checker is freed once it is stopped and
 * neither a timer nor the watch of a check command can still call it (`pending`).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "actor/clock.h"
#include "actor/flags.h"
#include "actor/log.h"
#include "actor/subprocess.h"
#include "slave/executor/executor_int.h"

struct executor_health {
    executor_health_fn fn;
    char *task_id;
    char *cwd;
    executor_launch_t launch; /* the check command */
    int64_t delay_ns, interval_ns, grace_ns;
    int64_t timeout_ns;     /* 0: no limit */
    uint32_t max_failures;  /* consecutive_failures: kill at this many */
    uint32_t failures;      /* counted consecutive failures */
    bool initializing;      /* no check succeeded yet */
    int64_t start;          /* clock ns when checking started */
    pid_t pid;              /* the check command under way, 0 when none */
    bool timed_out;         /* the check command was killed for its timeout */
    actor_timer_id_t timer; /* the next check, or the running one's timeout; 0: none */
    int stale_timeouts;     /* timeout calls queued for checks that already ended */
    bool stopped;           /* no more checks, no more callbacks */
    int pending;            /* calls still to come: the timer, the watch, a callback */
};

static void health_free(executor_health_t *h)
{
    executor_launch_free(&h->launch);
    free(h->cwd);
    free(h->task_id);
    free(h);
}

/* Drops one pending call; frees a stopped checker nothing can call any more. */
static void release(executor_health_t *h)
{
    h->pending--;
    if (h->stopped && h->pending == 0)
        health_free(h);
}

static void on_check_due(actor_t *self, void *state, void *arg);

static void schedule(actor_t *self, executor_health_t *h, int64_t ns)
{
    h->timer = actor_delay(self, ns, on_check_due, h);
    if (h->timer == 0) {
        LOG_ERROR("Out of memory scheduling the health check of task %s: checking stops",
                  h->task_id);
        return;
    }
    h->pending++;
}

/* Hands a health status to the executor; false if the executor stopped the checker. */
static bool report(actor_t *self, void *state, executor_health_t *h, bool healthy, bool kill)
{
    h->pending++; /* the callback may stop the checker: keep it until we are out */
    h->fn(self, state, healthy, kill);
    bool stopped = h->stopped;
    release(h);
    return !stopped;
}

static void success(actor_t *self, void *state, executor_health_t *h)
{
    VLOG(1, "COMMAND health check of task %s passed", h->task_id);
    bool tell = h->initializing || h->failures > 0;
    h->initializing = false;
    h->failures = 0;
    if (tell && !report(self, state, h, true, false))
        return;
    schedule(self, h, h->interval_ns);
}

static void failure(actor_t *self, void *state, executor_health_t *h, const char *message)
{
    if (h->initializing && h->grace_ns > 0 && actor_clock_now() - h->start <= h->grace_ns) {
        LOG_INFO("Ignoring failure of the health check of task %s as it is still in its grace "
                 "period: COMMAND health check failed: %s",
                 h->task_id, message);
        schedule(self, h, h->interval_ns);
        return;
    }
    if (h->failures < UINT32_MAX)
        h->failures++;
    LOG_WARNING("Health check of task %s failed %u times consecutively: COMMAND health check "
                "failed: %s",
                h->task_id, h->failures, message);
    if (!report(self, state, h, false, h->failures >= h->max_failures))
        return;
    schedule(self, h, h->interval_ns);
}

static void on_check_exit(actor_t *self, void *state, pid_t pid, int status, void *arg)
{
    (void)pid;
    executor_health_t *h = arg;
    h->pid = 0;
    if (h->timer != 0 && actor_timer_cancel(h->timer))
        h->pending--; /* the timeout's call will not come */
    else if (h->timer != 0)
        h->stale_timeouts++; /* it fired: its call is queued, and must not touch the next check */
    h->timer = 0;
    if (self == NULL || h->stopped) {
        release(h);
        return;
    }
    h->pending--; /* this call; the checker is not stopped, so it stays */
    char text[128], message[256];
    if (h->timed_out) {
        char timeout[32];
        flags_duration_format(h->timeout_ns, timeout, sizeof(timeout));
        snprintf(message, sizeof(message), "Command has not returned after %s; aborting", timeout);
    } else if (status == -1) {
        snprintf(message, sizeof(message), "Failed to reap the command process");
    } else if (status != 0) {
        executor_wait_status_text(status, text, sizeof(text));
        snprintf(message, sizeof(message), "Command returned %s", text);
    } else {
        success(self, state, h);
        return;
    }
    failure(self, state, h, message);
}

static void on_check_timeout(actor_t *self, void *state, void *arg)
{
    (void)state;
    executor_health_t *h = arg;
    if (h->stale_timeouts > 0) {
        h->stale_timeouts--;
        release(h);
        return;
    }
    h->timer = 0;
    if (self != NULL && !h->stopped && h->pid > 0) {
        h->timed_out = true;
        kill(-h->pid, SIGKILL); /* its exit reports the failure */
    }
    release(h);
}

/* Runs the check command; false with a message when it could not start. */
static bool run_check(actor_t *self, executor_health_t *h, char *message, size_t len)
{
    char err[512];
    actor_subprocess_options_t so = {.path = h->launch.path,
                                     .argv = h->launch.argv,
                                     .envp = h->launch.envp,
                                     .cwd = h->cwd,
                                     .stdin_path = "/dev/null",
                                     .new_session = true};
    pid_t pid = 0;
    if (actor_subprocess_spawn(&so, &pid, err, sizeof(err)) != ACTOR_OK) {
        snprintf(message, len, "Failed to create subprocess: %s", err);
        return false;
    }
    actor_err_t rc = actor_subprocess_watch(actor_self(self), pid, on_check_exit, h);
    if (rc != ACTOR_OK) {
        kill(-pid, SIGKILL);
        waitpid(pid, NULL, 0); /* at once: it was just killed */
        snprintf(message, len, "Failed to watch the command process: %s", actor_strerror(rc));
        return false;
    }
    h->pending++;
    h->pid = pid;
    h->timed_out = false;
    if (h->timeout_ns > 0) {
        h->timer = actor_delay(self, h->timeout_ns, on_check_timeout, h);
        if (h->timer != 0)
            h->pending++;
    }
    return true;
}

static void on_check_due(actor_t *self, void *state, void *arg)
{
    executor_health_t *h = arg;
    h->timer = 0;
    if (self == NULL || h->stopped) {
        release(h);
        return;
    }
    h->pending--; /* this call; the checker is not stopped, so it stays */
    char message[640];
    if (!run_check(self, h, message, sizeof(message)))
        failure(self, state, h, message);
}

/* Mesos's validation::healthCheck, for the checks this executor runs. */
static actor_err_t validate(const Mesos__HealthCheck *check, char *err, size_t err_len)
{
    struct {
        bool has;
        double value;
        const char *name;
    } durations[] = {
        {check->has_delay_seconds, check->delay_seconds, "delay_seconds"},
        {check->has_interval_seconds, check->interval_seconds, "interval_seconds"},
        {check->has_timeout_seconds, check->timeout_seconds, "timeout_seconds"},
        {check->has_grace_period_seconds, check->grace_period_seconds, "grace_period_seconds"}};
    if (!check->has_type || check->type == MESOS__HEALTH_CHECK__TYPE__UNKNOWN) {
        snprintf(err, err_len, "HealthCheck must specify 'type'");
        return ACTOR_EINVAL;
    }
    if (check->type != MESOS__HEALTH_CHECK__TYPE__COMMAND) {
        snprintf(err, err_len, "%s health checks are not supported by this executor",
                 check->type == MESOS__HEALTH_CHECK__TYPE__HTTP ? "HTTP" : "TCP");
        return ACTOR_EINVAL;
    }
    if (check->command == NULL) {
        snprintf(err, err_len, "Expecting 'command' to be set for COMMAND health check");
        return ACTOR_EINVAL;
    }
    for (size_t i = 0; i < sizeof(durations) / sizeof(durations[0]); i++) {
        if (durations[i].has && !(durations[i].value >= 0.0 && durations[i].value < 1e9)) {
            snprintf(err, err_len, "Expecting '%s' to be non-negative", durations[i].name);
            return ACTOR_EINVAL;
        }
    }
    return ACTOR_OK;
}

static int64_t seconds_ns(double seconds)
{
    return (int64_t)(seconds * (double)ACTOR_NS_PER_SEC);
}

/* The check command with the task's environment under the check's own variables. */
static actor_err_t build_launch(executor_health_t *h, const Mesos__HealthCheck *check,
                                const Mesos__CommandInfo *task_command, char *const *base,
                                char *err, size_t err_len)
{
    executor_launch_t task;
    char task_err[256];
    actor_err_t rc = executor_launch_build(task_command, h->task_id, base, h->cwd, &task, task_err,
                                           sizeof(task_err));
    if (rc != ACTOR_OK) {
        snprintf(err, err_len, "The task's environment: %s", task_err);
        return rc;
    }
    rc = executor_launch_build(check->command, h->task_id, task.envp, h->cwd, &h->launch, err,
                               err_len);
    executor_launch_free(&task);
    return rc;
}

actor_err_t executor_health_start(actor_t *self, const Mesos__HealthCheck *check,
                                  const char *task_id, const Mesos__CommandInfo *task_command,
                                  char *const *base, const char *cwd, executor_health_fn fn,
                                  executor_health_t **out, char *err, size_t err_len)
{
    err[0] = '\0';
    actor_err_t rc = validate(check, err, err_len);
    if (rc != ACTOR_OK)
        return rc;
    executor_health_t *h = calloc(1, sizeof(*h));
    if (h == NULL)
        goto fail_memory;
    h->task_id = strdup(task_id);
    h->cwd = cwd != NULL ? strdup(cwd) : NULL;
    if (h->task_id == NULL || (cwd != NULL && h->cwd == NULL))
        goto fail_free;
    rc = build_launch(h, check, task_command, base, err, err_len);
    if (rc != ACTOR_OK) {
        health_free(h);
        return rc;
    }
    h->fn = fn;
    h->delay_ns = seconds_ns(check->delay_seconds);
    h->interval_ns = seconds_ns(check->interval_seconds);
    h->timeout_ns = seconds_ns(check->timeout_seconds);
    h->grace_ns = seconds_ns(check->grace_period_seconds);
    h->max_failures = check->consecutive_failures;
    h->initializing = true;
    h->start = actor_clock_now();
    schedule(self, h, h->delay_ns);
    if (h->timer == 0)
        goto fail_free;
    *out = h;
    return ACTOR_OK;

fail_free:
    health_free(h);
fail_memory:
    snprintf(err, err_len, "Out of memory");
    return ACTOR_ENOMEM;
}

void executor_health_stop(executor_health_t *h)
{
    if (h == NULL || h->stopped)
        return;
    h->stopped = true;
    if (h->timer != 0 && actor_timer_cancel(h->timer))
        h->pending--;
    h->timer = 0;
    if (h->pid > 0)
        kill(-h->pid, SIGKILL); /* its watch still comes, and frees the checker */
    if (h->pending == 0)
        health_free(h);
}
