/*
 * gc.c: the garbage collector actor (gc.h), Mesos's GarbageCollectorProcess.
 *
 * Protocol: gc_schedule() and gc_unschedule() dispatch a request carrying the path and, when
 * the caller wants an answer, a preallocated answer_t naming the caller's actor. Each path is in
 * one of two places:
 *
 *   scheduled (table by path, with a timer at its due time)
 *       --timer, or a disk-pressure prune, or a delay <= 0-->
 *   removing (list, with a job on the removal thread's queue)
 *       --job done (dispatched back)--> answered and forgotten
 *
 * A scheduled path can be unscheduled or rescheduled (its earlier answer is GC_UNSCHEDULED); a
 * removing one cannot: an unschedule waits on it and answers false when it is over, and a new
 * schedule of the same path makes a new scheduled entry beside it.
 *
 * Timers carry a ticket (entry_t pointer, cleared when the timer is cancelled too late to stop
 * its call), so a call that was already queued when its entry went away finds nothing to do.
 *
 * The removal thread: started when a job is queued and none is running, it takes jobs until the
 * queue is empty and exits (so an idle collector holds no thread: mesos-local runs thousands of
 * agents). Each job's path is removed with rmtree() and the job is dispatched back with the
 * result. The thread shares only the queue (under its mutex) and the stop flag with the actor;
 * fini sets the flag, which stops a removal between two entries, and joins it.
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>

#include <uthash.h>
#include <utlist.h>

#include "actor/clock.h"
#include "actor/log.h"
#include "slave/files/gc.h"
#include "slave/files/rmtree.h"

/* An answer owed to a caller of gc_schedule() or gc_unschedule(). */
typedef struct answer {
    struct answer *next;           /* in an entry's waiters */
    actor_pid_t owner;             /* where it runs; none: in the collector, self NULL */
    gc_done_fn done;               /* for gc_schedule() */
    gc_unscheduled_fn unscheduled; /* for gc_unschedule() */
    void *arg;
    int value; /* gc_outcome_t, or the bool for unscheduled */
} answer_t;

typedef struct ticket ticket_t;

typedef struct entry {
    char *path;
    int64_t due;            /* runtime clock, ns */
    ticket_t *ticket;       /* argument of the pending timer, or NULL */
    actor_timer_id_t timer; /* valid while ticket is set */
    bool removing;          /* in gc->removing, not in gc->scheduled */
    answer_t *scheduled_by; /* gc_schedule()'s answer, or NULL */
    answer_t *waiters;      /* gc_unschedule()s waiting for the removal */
    UT_hash_handle hh;      /* gc->scheduled, by path */
    struct entry *prev;     /* gc->removing */
    struct entry *next;
} entry_t;

struct ticket {
    entry_t *entry; /* NULL once the timer no longer concerns it */
};

typedef struct job {
    struct job *next;
    entry_t *entry;     /* a token for the actor; never read by the thread */
    actor_pid_t gc;     /* where the result goes */
    actor_err_t result; /* rmtree()'s */
    char err[256];      /* its first failure */
    char path[];
} job_t;

typedef struct worker {
    pthread_mutex_t lock; /* head, tail, running */
    job_t *head;
    job_t **tail;
    bool running;  /* a thread is draining the queue */
    bool joinable; /* actor only: thread was started and not yet joined */
    pthread_t thread;
    atomic_bool stop; /* set by fini: drop what is left */
} worker_t;

typedef struct gc {
    char *work_dir;
    int64_t gc_delay;
    int64_t watch_interval;
    double headroom;
    gc_disk_usage_fn disk_usage;
    void *disk_usage_arg;
    actor_timer_id_t watch_timer;
    entry_t *scheduled; /* uthash by path */
    entry_t *removing;  /* utlist, in the order removals started */
    size_t removing_count;
    worker_t worker;
    metrics_counter_t *succeeded; /* gc/path_removals_succeeded */
    metrics_counter_t *failed;    /* gc/path_removals_failed */
    metrics_gauge_t *pending;     /* gc/path_removals_pending */
    metrics_gauge_t *max_age;     /* slave/executor_directory_max_allowed_age_secs */
} gc_t;

void gc_options_init(gc_options_t *opts)
{
    *opts = (gc_options_t){.gc_delay_ns = GC_DELAY_DEFAULT,
                           .disk_watch_interval_ns = GC_DISK_WATCH_INTERVAL_DEFAULT,
                           .gc_disk_headroom = GC_DISK_HEADROOM_DEFAULT};
}

int64_t gc_max_allowed_age(int64_t gc_delay_ns, double headroom, double usage)
{
    double fraction = 1.0 - headroom - usage;
    if (!(fraction > 0.0))
        return 0;
    if (fraction > 1.0)
        fraction = 1.0;
    return (int64_t)((double)gc_delay_ns * fraction);
}

/* ---- answers ---- */

static void run_answer(actor_t *self, void *state, void *arg)
{
    answer_t *a = arg;
    if (a->done != NULL)
        a->done(self, state, a->arg, (gc_outcome_t)a->value);
    else
        a->unscheduled(self, state, a->arg, a->value != 0);
    free(a);
}

/* Sends the answer (taken; NULL: nothing to answer) to its owner, or runs it here with self
 * NULL when it has none or the owner is gone. */
static void answer_send(answer_t *a, int value)
{
    if (a == NULL)
        return;
    a->value = value;
    if (actor_pid_is_none(&a->owner) || actor_dispatch(&a->owner, run_answer, a) != ACTOR_OK)
        run_answer(NULL, NULL, a);
}

/* ---- metrics ---- */

static void update_pending(gc_t *gc)
{
    if (gc->pending != NULL)
        metrics_gauge_set(gc->pending, (double)(HASH_COUNT(gc->scheduled) + gc->removing_count));
}

static void metrics_start(gc_t *gc, metrics_registry_t *reg)
{
    struct {
        const char *key;
        void **out;
        bool counter;
    } metrics[] = {
        {"gc/path_removals_succeeded", (void **)&gc->succeeded, true},
        {"gc/path_removals_failed", (void **)&gc->failed, true},
        {"gc/path_removals_pending", (void **)&gc->pending, false},
        {"slave/executor_directory_max_allowed_age_secs", (void **)&gc->max_age, false},
    };
    for (size_t i = 0; reg != NULL && i < sizeof(metrics) / sizeof(metrics[0]); i++) {
        actor_err_t err =
            metrics[i].counter
                ? metrics_counter_new(reg, metrics[i].key, NULL,
                                      (metrics_counter_t **)metrics[i].out)
                : metrics_gauge_new(reg, metrics[i].key, NULL, (metrics_gauge_t **)metrics[i].out);
        if (err != ACTOR_OK) /* VLOG: mesos-local's thousands of agents share one registry */
            VLOG(1, "Not publishing metric %s: %s", metrics[i].key, actor_strerror(err));
    }
    if (gc->max_age != NULL)
        metrics_gauge_set(gc->max_age,
                          (double)gc_max_allowed_age(gc->gc_delay, gc->headroom, 0.0) / 1e9);
}

static void metrics_stop(gc_t *gc)
{
    metrics_counter_free(gc->succeeded);
    metrics_counter_free(gc->failed);
    metrics_gauge_free(gc->pending);
    metrics_gauge_free(gc->max_age);
}

/* ---- the removal thread ---- */

static bool stopping(void *arg)
{
    return atomic_load(&((worker_t *)arg)->stop);
}

static void on_removed(actor_t *self, void *state, void *arg);

static void *worker_main(void *arg)
{
    worker_t *w = arg;
    for (;;) {
        pthread_mutex_lock(&w->lock);
        job_t *job = w->head;
        if (job == NULL) {
            w->running = false;
            pthread_mutex_unlock(&w->lock);
            return NULL;
        }
        w->head = job->next;
        if (w->head == NULL)
            w->tail = &w->head;
        pthread_mutex_unlock(&w->lock);
        if (atomic_load(&w->stop)) {
            free(job);
            continue;
        }
        job->result = rmtree(job->path, stopping, w, job->err, sizeof(job->err));
        if (actor_dispatch(&job->gc, on_removed, job) != ACTOR_OK)
            free(job);
    }
}

static void worker_join(worker_t *w)
{
    if (w->joinable)
        pthread_join(w->thread, NULL);
    w->joinable = false;
}

/* Queues job (taken) and makes sure a thread drains the queue. Returns false, with the job
 * still queued, only if no thread could be started (the caller then fails the queue). */
static bool worker_push(worker_t *w, job_t *job)
{
    pthread_mutex_lock(&w->lock);
    job->next = NULL;
    *w->tail = job;
    w->tail = &job->next;
    bool start = !w->running;
    w->running = true;
    pthread_mutex_unlock(&w->lock);
    if (!start)
        return true;
    worker_join(w); /* the previous thread, which has left its loop */
    if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
        w->running = false; /* no thread exists now: no lock needed */
        return false;
    }
    w->joinable = true;
    return true;
}

/* ---- entries ---- */

static void entry_free(entry_t *e)
{
    free(e->path);
    free(e);
}

static void on_due(actor_t *self, void *state, void *arg);

/* Cancels e's timer; a call already on its way will find its ticket empty. */
static void timer_cancel(entry_t *e)
{
    if (e->ticket == NULL)
        return;
    if (actor_timer_cancel(e->timer))
        free(e->ticket);
    else
        e->ticket->entry = NULL;
    e->ticket = NULL;
}

static void finish(gc_t *gc, entry_t *e, gc_outcome_t outcome);

/* Moves e from scheduled to removing and queues its job. */
static void removal_start(actor_t *self, gc_t *gc, entry_t *e)
{
    timer_cancel(e);
    HASH_DEL(gc->scheduled, e);
    e->removing = true;
    DL_APPEND(gc->removing, e);
    gc->removing_count++;
    size_t len = strlen(e->path) + 1;
    job_t *job = malloc(sizeof(*job) + len);
    if (job == NULL) {
        LOG_ERROR("Failed to delete '%s': out of memory", e->path);
        finish(gc, e, GC_FAILED);
        return;
    }
    *job = (job_t){.entry = e, .gc = *actor_self(self)};
    memcpy(job->path, e->path, len);
    LOG_INFO("Deleting %s", e->path);
    if (worker_push(&gc->worker, job))
        return;
    LOG_ERROR("Failed to start the removal thread; failing the removals queued");
    pthread_mutex_lock(&gc->worker.lock);
    job_t *queued = gc->worker.head;
    gc->worker.head = NULL;
    gc->worker.tail = &gc->worker.head;
    pthread_mutex_unlock(&gc->worker.lock);
    while (queued != NULL) {
        job_t *next = queued->next;
        finish(gc, queued->entry, GC_FAILED);
        free(queued);
        queued = next;
    }
}

/* Arms e's timer for its due time; without memory for one, removes it now. */
static void timer_arm(actor_t *self, gc_t *gc, entry_t *e)
{
    ticket_t *t = malloc(sizeof(*t));
    actor_timer_id_t id = 0;
    if (t != NULL) {
        t->entry = e;
        id = actor_delay(self, e->due - actor_clock_now(), on_due, t);
    }
    if (id == 0) {
        free(t);
        LOG_ERROR("Out of memory arming the timer of '%s'; deleting it now", e->path);
        removal_start(self, gc, e);
        return;
    }
    e->ticket = t;
    e->timer = id;
}

static void on_due(actor_t *self, void *state, void *arg)
{
    ticket_t *t = arg;
    entry_t *e = t->entry;
    free(t);
    if (self == NULL || e == NULL)
        return;
    e->ticket = NULL;
    removal_start(self, state, e);
}

/* A removing entry is over: answer everyone and forget it. */
static void finish(gc_t *gc, entry_t *e, gc_outcome_t outcome)
{
    DL_DELETE(gc->removing, e);
    gc->removing_count--;
    answer_send(e->scheduled_by, outcome);
    while (e->waiters != NULL) {
        answer_t *w = e->waiters;
        e->waiters = w->next;
        answer_send(w, false);
    }
    entry_free(e);
    update_pending(gc);
}

static void on_removed(actor_t *self, void *state, void *arg)
{
    job_t *job = arg;
    gc_t *gc = state;
    if (self == NULL) {
        free(job); /* the collector is gone, and its entries with it */
        return;
    }
    if (job->result == ACTOR_OK) {
        LOG_INFO("Deleted '%s'", job->path);
        if (gc->succeeded != NULL)
            metrics_counter_inc(gc->succeeded);
    } else {
        LOG_WARNING("Failed to delete '%s': %s", job->path,
                    job->err[0] ? job->err : actor_strerror(job->result));
        if (gc->failed != NULL)
            metrics_counter_inc(gc->failed);
    }
    finish(gc, job->entry, job->result == ACTOR_OK ? GC_REMOVED : GC_FAILED);
    free(job);
}

/* ---- requests ---- */

typedef enum request_kind {
    REQUEST_SCHEDULE,
    REQUEST_UNSCHEDULE,
} request_kind_t;

typedef struct request {
    request_kind_t kind;
    int64_t delay;    /* REQUEST_SCHEDULE */
    answer_t *answer; /* NULL: no answer wanted */
    char path[];      /* normalised */
} request_t;

static entry_t *find_removing(gc_t *gc, const char *path)
{
    for (entry_t *e = gc->removing; e != NULL; e = e->next) {
        if (strcmp(e->path, path) == 0)
            return e;
    }
    return NULL;
}

static void schedule(actor_t *self, gc_t *gc, request_t *r)
{
    entry_t *e = NULL;
    HASH_FIND_STR(gc->scheduled, r->path, e);
    if (e != NULL) {
        timer_cancel(e);
        answer_send(e->scheduled_by, GC_UNSCHEDULED);
    } else {
        e = calloc(1, sizeof(*e));
        char *path = e != NULL ? strdup(r->path) : NULL;
        if (path == NULL) {
            free(e);
            LOG_ERROR("Out of memory scheduling '%s' for gc", r->path);
            answer_send(r->answer, GC_FAILED);
            return;
        }
        e->path = path;
        HASH_ADD_KEYPTR(hh, gc->scheduled, e->path, strlen(e->path), e);
    }
    e->scheduled_by = r->answer;
    int64_t delay = r->delay > 0 ? r->delay : 0;
    e->due = actor_clock_now() + delay;
    VLOG(1, "Scheduling '%s' for gc %.6gsecs in the future", e->path, (double)delay / 1e9);
    update_pending(gc);
    if (delay == 0)
        removal_start(self, gc, e);
    else
        timer_arm(self, gc, e);
}

static void unschedule(gc_t *gc, request_t *r)
{
    VLOG(1, "Unscheduling '%s' from gc", r->path);
    entry_t *e = NULL;
    HASH_FIND_STR(gc->scheduled, r->path, e);
    if (e != NULL) {
        timer_cancel(e);
        HASH_DEL(gc->scheduled, e);
        answer_send(e->scheduled_by, GC_UNSCHEDULED);
        entry_free(e);
        update_pending(gc);
        answer_send(r->answer, true);
        return;
    }
    e = find_removing(gc, r->path);
    if (e != NULL && r->answer != NULL) {
        r->answer->next = e->waiters;
        e->waiters = r->answer;
        return;
    }
    answer_send(r->answer, false);
}

static void on_request(actor_t *self, void *state, void *arg)
{
    request_t *r = arg;
    if (self == NULL)
        answer_send(r->answer, r->kind == REQUEST_SCHEDULE ? (int)GC_STOPPED : false);
    else if (r->kind == REQUEST_SCHEDULE)
        schedule(self, state, r);
    else
        unschedule(state, r);
    free(r);
}

/* A malloc'd copy of path without repeated or trailing '/', or NULL when it is not absolute,
 * is "/", or memory is short (*err says which). */
static char *normalize(const char *path, actor_err_t *err)
{
    *err = ACTOR_EINVAL;
    if (path == NULL || path[0] != '/')
        return NULL;
    char *out = malloc(strlen(path) + 1);
    if (out == NULL) {
        *err = ACTOR_ENOMEM;
        return NULL;
    }
    size_t n = 0;
    for (const char *p = path; *p != '\0'; p++) {
        if (!(*p == '/' && n > 0 && out[n - 1] == '/'))
            out[n++] = *p;
    }
    while (n > 1 && out[n - 1] == '/')
        n--;
    out[n] = '\0';
    if (n == 1) {
        free(out);
        return NULL;
    }
    *err = ACTOR_OK;
    return out;
}

static actor_err_t request_send(actor_t *self, const actor_pid_t *gc, request_kind_t kind,
                                const char *path, int64_t delay, gc_done_fn done,
                                gc_unscheduled_fn unscheduled, void *arg)
{
    actor_err_t err = ACTOR_EINVAL;
    char *clean = gc != NULL ? normalize(path, &err) : NULL;
    if (clean == NULL)
        return err;
    size_t len = strlen(clean) + 1;
    request_t *r = malloc(sizeof(*r) + len);
    answer_t *a = done != NULL || unscheduled != NULL ? calloc(1, sizeof(*a)) : NULL;
    if (r == NULL || (a == NULL && (done != NULL || unscheduled != NULL))) {
        free(clean);
        free(r);
        free(a);
        return ACTOR_ENOMEM;
    }
    if (a != NULL) {
        *a = (answer_t){.done = done, .unscheduled = unscheduled, .arg = arg};
        if (self != NULL)
            a->owner = *actor_self(self);
    }
    *r = (request_t){.kind = kind, .delay = delay, .answer = a};
    memcpy(r->path, clean, len);
    free(clean);
    err = actor_dispatch(gc, on_request, r);
    if (err != ACTOR_OK) {
        free(a);
        free(r);
    }
    return err;
}

actor_err_t gc_schedule(actor_t *self, const actor_pid_t *gc, const char *path, int64_t delay_ns,
                        gc_done_fn done, void *arg)
{
    return request_send(self, gc, REQUEST_SCHEDULE, path, delay_ns, done, NULL, arg);
}

actor_err_t gc_unschedule(actor_t *self, const actor_pid_t *gc, const char *path,
                          gc_unscheduled_fn done, void *arg)
{
    return request_send(self, gc, REQUEST_UNSCHEDULE, path, 0, NULL, done, arg);
}

/* ---- the disk watch ---- */

static actor_err_t statvfs_usage(void *arg, const char *work_dir, double *usage)
{
    (void)arg;
    struct statvfs buf;
    if (statvfs(work_dir, &buf) != 0) {
        LOG_WARNING("Failed to get the disk usage of '%s': %s", work_dir, strerror(errno));
        return ACTOR_ESYSTEM;
    }
    if (buf.f_blocks == 0)
        return ACTOR_EINVAL;
    *usage = (double)(buf.f_blocks - buf.f_bfree) / (double)buf.f_blocks;
    return ACTOR_OK;
}

/* Removes now every scheduled path due within `within` (Mesos's GarbageCollector::prune). */
static void prune(actor_t *self, gc_t *gc, int64_t within)
{
    int64_t now = actor_clock_now();
    entry_t *e, *tmp;
    HASH_ITER(hh, gc->scheduled, e, tmp)
    {
        if (e->due - now <= within) {
            LOG_INFO("Pruning '%s' with remaining removal time %.6gsecs", e->path,
                     (double)(e->due - now) / 1e9);
            removal_start(self, gc, e);
        }
    }
}

static void on_watch(actor_t *self, void *state, void *arg)
{
    (void)arg;
    gc_t *gc = state;
    if (self == NULL)
        return;
    double usage = 0;
    actor_err_t err = gc->disk_usage(gc->disk_usage_arg, gc->work_dir, &usage);
    if (err != ACTOR_OK || !isfinite(usage)) {
        LOG_ERROR("Failed to get disk usage of '%s': %s", gc->work_dir,
                  err != ACTOR_OK ? actor_strerror(err) : "not a number");
    } else {
        int64_t age = gc_max_allowed_age(gc->gc_delay, gc->headroom, usage);
        VLOG(1, "Current disk usage %.2f%%. Max allowed age: %.6gsecs", usage * 100,
             (double)age / 1e9);
        if (gc->max_age != NULL)
            metrics_gauge_set(gc->max_age, (double)age / 1e9);
        /* Paths are scheduled gc_delay after their last change, so those due within
         * gc_delay - age are at least age old. */
        prune(self, gc, gc->gc_delay - age);
    }
    gc->watch_timer = actor_delay(self, gc->watch_interval, on_watch, NULL);
    if (gc->watch_timer == 0)
        LOG_ERROR("Out of memory re-arming the disk watch; it stops");
}

/* ---- the actor ---- */

static void gc_init(actor_t *self, void *state, void *arg)
{
    gc_t *gc = state;
    gc_options_t *opts = arg;
    gc->work_dir = (char *)opts->work_dir; /* copied by gc_spawn, owned from here on */
    gc->gc_delay = opts->gc_delay_ns;
    gc->watch_interval = opts->disk_watch_interval_ns;
    gc->headroom = opts->gc_disk_headroom;
    gc->disk_usage = opts->disk_usage != NULL ? opts->disk_usage : statvfs_usage;
    gc->disk_usage_arg = opts->disk_usage_arg;
    pthread_mutex_init(&gc->worker.lock, NULL);
    gc->worker.tail = &gc->worker.head;
    metrics_start(gc, opts->metrics);
    free(opts);
    gc->watch_timer = actor_delay(self, gc->watch_interval, on_watch, NULL);
    if (gc->watch_timer == 0)
        LOG_ERROR("Out of memory arming the disk watch; paths are removed only when due");
}

static void gc_fini(actor_t *self, void *state)
{
    (void)self;
    gc_t *gc = state;
    atomic_store(&gc->worker.stop, true);
    worker_join(&gc->worker);
    if (gc->watch_timer != 0)
        actor_timer_cancel(gc->watch_timer);
    entry_t *e, *tmp;
    HASH_ITER(hh, gc->scheduled, e, tmp)
    {
        timer_cancel(e);
        HASH_DEL(gc->scheduled, e);
        answer_send(e->scheduled_by, GC_STOPPED);
        entry_free(e);
    }
    while (gc->removing != NULL)
        finish(gc, gc->removing, GC_STOPPED);
    metrics_stop(gc);
    pthread_mutex_destroy(&gc->worker.lock);
    free(gc->work_dir);
}

static const actor_ops_t gc_ops = {
    .name = "__gc__",
    .state_size = sizeof(gc_t),
    .init = gc_init,
    .fini = gc_fini,
};

actor_err_t gc_spawn(const gc_options_t *opts, actor_pid_t *pid)
{
    if (opts == NULL || opts->work_dir == NULL || opts->work_dir[0] == '\0' ||
        opts->gc_delay_ns <= 0 || opts->disk_watch_interval_ns <= 0 ||
        !(opts->gc_disk_headroom >= 0.0 && opts->gc_disk_headroom <= 1.0))
        return ACTOR_EINVAL;
    gc_options_t *copy = malloc(sizeof(*copy));
    char *work_dir = strdup(opts->work_dir);
    if (copy == NULL || work_dir == NULL) {
        free(copy);
        free(work_dir);
        return ACTOR_ENOMEM;
    }
    *copy = *opts;
    copy->work_dir = work_dir;
    actor_err_t err = actor_spawn(&gc_ops, NULL, copy, pid);
    if (err != ACTOR_OK) {
        free(copy);
        free(work_dir);
    }
    return err;
}
