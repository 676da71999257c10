/*
 * gc.h: the agent's garbage collector, Mesos's GarbageCollector (src/slave/gc.cpp) with the
 * agent's disk watch (Slave::checkDiskUsage) folded in.
 *
 * The agent schedules the sandbox of each finished executor run (and, later, of executors and
 * frameworks) for removal gc_delay after its last change: gc_schedule(path, delay). When the
 * delay has passed, the collector removes the tree on a removal thread of its own (rmtree.h), so
 * that a large tree never holds up the actor, and tells the scheduler through its callback. A
 * path can be taken back with gc_unschedule() (the agent does so when a framework it had given
 * up on comes back); a path whose removal has started can no longer be saved: its unschedule
 * answers false once the removal is over, so that the caller may re-create it safely.
 *
 * Disk pressure, as Mesos's agent: every disk_watch_interval the collector measures how full the
 * work directory's filesystem is (statvfs, or the options' disk_usage function), computes the
 * largest age a sandbox may reach, gc_max_allowed_age(gc_delay, gc_disk_headroom, usage) =
 * gc_delay * max(0, 1 - headroom - usage), and removes at once every path due within
 * gc_delay - that age. With a path scheduled gc_delay after its last change, that removes the
 * paths older than the allowed age: none on an empty disk but those within headroom * gc_delay
 * of their time, everything once usage reaches 1 - headroom.
 *
 * Times are on the runtime's clock (clock.h), so tests pause it and advance it. Metrics, when
 * the options name a registry: gc/path_removals_succeeded, gc/path_removals_failed,
 * gc/path_removals_pending (Mesos's names) and slave/executor_directory_max_allowed_age_secs
 * (an agent metric in Mesos, computed here because the disk watch lives here).
 */
#ifndef SLAVE_FILES_GC_H
#define SLAVE_FILES_GC_H

#include <stdbool.h>
#include <stdint.h>

#include "actor/actor.h"
#include "actor/metrics.h"

/* Mesos's defaults: --gc_delay=1weeks, --disk_watch_interval=1mins, --gc_disk_headroom=0.1. */
#define GC_DELAY_DEFAULT               (INT64_C(7) * 24 * 3600 * INT64_C(1000000000))
#define GC_DISK_WATCH_INTERVAL_DEFAULT (INT64_C(60) * INT64_C(1000000000))
#define GC_DISK_HEADROOM_DEFAULT       0.1

/* Measures how full the filesystem of work_dir is, as a fraction in [0, 1], into *usage. Runs
 * inside the collector; must not block for long. Returns ACTOR_OK or an error (logged; that
 * watch is skipped). */
typedef actor_err_t (*gc_disk_usage_fn)(void *arg, const char *work_dir, double *usage);

typedef struct gc_options {
    const char *work_dir;           /* the filesystem watched (copied); required */
    int64_t gc_delay_ns;            /* > 0 */
    int64_t disk_watch_interval_ns; /* > 0 */
    double gc_disk_headroom;        /* in [0, 1] */
    gc_disk_usage_fn disk_usage;    /* NULL: statvfs, (blocks - free blocks) / blocks */
    void *disk_usage_arg;           /* borrowed; must outlive the collector */
    metrics_registry_t *metrics;    /* NULL: none; a key already taken there (several agents
                                       in one process) is skipped: the first collector's stays */
} gc_options_t;

/* Fills *opts with Mesos's defaults and no work_dir. Cannot fail. */
void gc_options_init(gc_options_t *opts);

/* Mesos's Slave::age(): gc_delay * max(0, 1 - headroom - usage), in nanoseconds. Pure. */
int64_t gc_max_allowed_age(int64_t gc_delay_ns, double headroom, double usage);

/* Spawns a collector ("__gc__(N)"), which starts watching the disk one interval from now. On
 * success *pid (may be NULL) names it; terminate it with actor_terminate() (a removal under
 * way is stopped between two entries, and pending callbacks get GC_STOPPED). Errors:
 * ACTOR_EINVAL (no opts or work_dir; a delay or interval that is not positive; a headroom
 * outside [0, 1]), ACTOR_ENOMEM, and actor_spawn()'s. */
actor_err_t gc_spawn(const gc_options_t *opts, actor_pid_t *pid);

/* How a scheduled removal ended. */
typedef enum gc_outcome {
    GC_REMOVED,     /* the path is gone (or was already) */
    GC_FAILED,      /* some of it could not be removed (logged with the first failure) */
    GC_UNSCHEDULED, /* gc_unschedule() took it back, or a later gc_schedule() of the same path
                       replaced this one */
    GC_STOPPED,     /* the collector terminated first */
} gc_outcome_t;

/* The answer to gc_schedule(): runs exactly once, inside the scheduling actor. It runs with
 * self and state NULL instead when the scheduler is gone by then, or when it scheduled from
 * outside any actor (in a worker of the collector then: keep it short and thread-safe). */
typedef void (*gc_done_fn)(actor_t *self, void *state, void *arg, gc_outcome_t outcome);

/* Schedules the removal of path (absolute; not "/") delay_ns from now (<= 0: at once), from
 * inside actor self (NULL from outside any actor). A path already scheduled is rescheduled:
 * its earlier callback gets GC_UNSCHEDULED. done may be NULL. Does not block; thread-safe.
 * Errors: ACTOR_EINVAL (gc or path NULL, a relative path, "/"), ACTOR_ENOMEM, ACTOR_ENOENT (no
 * such collector); done never runs then and the caller keeps arg. */
actor_err_t gc_schedule(actor_t *self, const actor_pid_t *gc, const char *path, int64_t delay_ns,
                        gc_done_fn done, void *arg);

/* The answer to gc_unschedule(): unscheduled is true if the path was scheduled and will not be
 * removed; false if it was not scheduled, or if its removal had started (the answer then comes
 * once that removal is over). Runs as gc_done_fn does; with unscheduled false and self and state
 * NULL when the collector terminated first. */
typedef void (*gc_unscheduled_fn)(actor_t *self, void *state, void *arg, bool unscheduled);

/* Takes path back from the collector. done may be NULL. Errors as gc_schedule. */
actor_err_t gc_unschedule(actor_t *self, const actor_pid_t *gc, const char *path,
                          gc_unscheduled_fn done, void *arg);

#endif
