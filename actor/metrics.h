/*
 * metrics.h: a registry of named metrics, as libprocess's process::metrics gives Mesos, rendered
 * as Mesos's `/metrics/snapshot` JSON and as Prometheus text for `/metrics`.
 *
 * Components create their metrics when they start and free them when they stop. A metric is named
 * by its Mesos key (`master/tasks_running`, `slave/cpus_total`, `system/load_1min`), unique within
 * a registry. Kinds:
 *   - counter: a uint64 that only grows (`master/messages_received`);
 *   - gauge: a double set by its owner (push) or computed at render time by a callback (pull);
 *   - timer: durations in nanoseconds. As libprocess's Timer<Milliseconds> does, the key gets the
 *     suffix `_ms`, and a snapshot shows the last duration as `<name>_ms` and statistics over a
 *     window of recent samples as `<name>_ms/count`, `/min`, `/max`, `/p50`, `/p90`, `/p95`,
 *     `/p99`, `/p999`, `/p9999` (all in milliseconds; the statistics once the window holds two
 *     samples, percentiles by linear interpolation, as libprocess computes them).
 *
 * Thread-safety: every function may be called from any thread and from handlers. Creating,
 * removing and rendering take the registry's mutex; counter and gauge updates are lock-free
 * atomics, and a timer sample takes only that timer's own short lock. A metric handle is valid
 * until it is freed (or removed by name, or its registry is freed); freeing it while another thread
 * still updates it is the caller's bug, as with any free. Pull gauge callbacks run on the rendering
 * thread with the registry locked: they must read thread-safe data and must not call this module.
 */
#ifndef ACTOR_METRICS_H
#define ACTOR_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "actor/error.h"

typedef struct metrics_registry metrics_registry_t;
typedef struct metrics_counter metrics_counter_t;
typedef struct metrics_gauge metrics_gauge_t;
typedef struct metrics_timer metrics_timer_t;

/* Computes a pull gauge's value at render time into *value. Return ACTOR_OK, or any error to
 * leave the gauge out of this rendering (as Mesos leaves out a gauge whose future failed). */
typedef actor_err_t (*metrics_pull_fn)(void *arg, double *value);

/* Samples a timer keeps for its statistics when created with window 0 (libprocess's TimeSeries
 * holds 1000 too). */
#define METRICS_TIMER_WINDOW_DEFAULT 1000

/* ---- registries ---- */

/* Creates an empty registry into *out; free it with metrics_registry_free. Returns ACTOR_OK or
 * ACTOR_ENOMEM. */
actor_err_t metrics_registry_new(metrics_registry_t **out);

/* Frees reg and every metric still in it (their handles become invalid). NULL is allowed. Must
 * not race with other calls on reg. Cannot fail. For metrics_registry_default(), frees its
 * metrics and leaves the (static) registry empty and usable. */
void metrics_registry_free(metrics_registry_t *reg);

/* Returns the process-wide registry that the runtime's /metrics endpoints render (the module's
 * one global). Never NULL; lives until the process exits. */
metrics_registry_t *metrics_registry_default(void);

/* Number of metrics in reg (a timer counts once). */
size_t metrics_registry_count(metrics_registry_t *reg);

/* Removes the metric whose key is key (a timer's key ends in `_ms`) and frees it; its handle
 * becomes invalid. Returns ACTOR_OK or ACTOR_ENOENT. */
actor_err_t metrics_registry_remove(metrics_registry_t *reg, const char *key);

/* ---- counters ---- */

/*
 * Creates a counter at 0 named key in reg; *out is valid until metrics_counter_free. help is an
 * optional sentence for Prometheus's `# HELP` (copied; NULL: the key is used). Returns ACTOR_OK,
 * ACTOR_EEXIST if reg already has key, ACTOR_EINVAL for an empty key, or ACTOR_ENOMEM.
 */
actor_err_t metrics_counter_new(metrics_registry_t *reg, const char *key, const char *help,
                                metrics_counter_t **out);

/* Removes the counter from its registry and frees it. NULL is allowed. Cannot fail. */
void metrics_counter_free(metrics_counter_t *counter);

/* Adds n (relaxed atomic, lock-free). Cannot fail. */
void metrics_counter_add(metrics_counter_t *counter, uint64_t n);

/* Adds 1. Cannot fail. */
void metrics_counter_inc(metrics_counter_t *counter);

/* Returns the current count. */
uint64_t metrics_counter_value(const metrics_counter_t *counter);

/* ---- gauges ---- */

/* Creates a push gauge at 0.0 named key; otherwise as metrics_counter_new. */
actor_err_t metrics_gauge_new(metrics_registry_t *reg, const char *key, const char *help,
                              metrics_gauge_t **out);

/*
 * Creates a pull gauge named key whose value fn(arg) computes at every rendering (libprocess's
 * PullGauge). arg is borrowed and must outlive the gauge. metrics_gauge_set and _add must not be
 * used on it. Errors as metrics_counter_new.
 */
actor_err_t metrics_gauge_pull_new(metrics_registry_t *reg, const char *key, const char *help,
                                   metrics_pull_fn fn, void *arg, metrics_gauge_t **out);

/* Removes the gauge (push or pull) from its registry and frees it. NULL is allowed. */
void metrics_gauge_free(metrics_gauge_t *gauge);

/* Sets a push gauge (atomic store, lock-free). Cannot fail. */
void metrics_gauge_set(metrics_gauge_t *gauge, double value);

/* Adds delta (negative to subtract) to a push gauge (atomic compare-and-swap loop). */
void metrics_gauge_add(metrics_gauge_t *gauge, double delta);

/* Returns a push gauge's value (for a pull gauge, NaN: its value exists only at render time). */
double metrics_gauge_value(const metrics_gauge_t *gauge);

/* ---- timers ---- */

/*
 * Creates a timer registered as `<name>_ms` (name like `allocator/mesos/allocation_run`), keeping
 * the last `window` samples for statistics (0: METRICS_TIMER_WINDOW_DEFAULT). Errors as
 * metrics_counter_new (ACTOR_EEXIST if `<name>_ms` is taken).
 */
actor_err_t metrics_timer_new(metrics_registry_t *reg, const char *name, const char *help,
                              size_t window, metrics_timer_t **out);

/* Removes the timer from its registry and frees it. NULL is allowed. */
void metrics_timer_free(metrics_timer_t *timer);

/* Records one duration in nanoseconds (negative counts as 0: a clock step is not a duration).
 * Takes the timer's own lock briefly. Cannot fail. */
void metrics_timer_record(metrics_timer_t *timer, int64_t ns);

/* Returns the number of durations recorded since creation. */
uint64_t metrics_timer_count(metrics_timer_t *timer);

/* ---- rendering ---- */

/*
 * Renders every metric as Mesos's /metrics/snapshot: a flat object `{"key": number, ...}` with keys
 * in ascending byte order (jansson keeps insertion order) and every value a JSON real (Mesos
 * renders doubles: `1.0`). A timer without samples and a failing pull gauge are left out. On
 * ACTOR_OK the caller owns *out (json_decref). Returns ACTOR_ENOMEM.
 */
actor_err_t metrics_snapshot_json(metrics_registry_t *reg, json_t **out);

/*
 * Renders every metric in the Prometheus text exposition format 0.0.4, passing `promtool check
 * metrics`. A metric's name is prefix, '_', then its key with every byte outside [a-zA-Z0-9_] made
 * '_' (prefix "mesos", key master/tasks_running: mesos_master_tasks_running); NULL or "" prefix:
 * the key alone. Each family has `# HELP` (the metric's help, else its key) and `# TYPE`:
 * counters are `counter` named with a `_total` suffix; gauges `gauge`, named without a trailing
 * `_total` (Prometheus keeps it for counters: master/cpus_total is mesos_master_cpus, its # HELP
 * the full key unless the metric has help); a timer `<name>_ms` is a
 * `summary` named `<name>_seconds` with quantiles 0.5 .. 0.9999 over its window (NaN when empty),
 * `_sum` and `_count` over all samples, in seconds. Keys that give the same name (`a/b` and
 * `a_b`, or gauges `x` and `x_total`) would repeat a family: keep them distinct.
 *
 * On ACTOR_OK, *out is a NUL-terminated heap string the caller frees with free(), *len its length.
 * Returns ACTOR_ENOMEM.
 */
actor_err_t metrics_prometheus_text(metrics_registry_t *reg, const char *prefix, char **out,
                                    size_t *len);

#endif
