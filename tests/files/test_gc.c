/* Tests of gc.h: removals on a paused clock (schedule, advance, the tree is gone), unschedule and
 * reschedule, removals that have started, pruning under disk pressure through an injected
 * disk-usage function, answers inside the scheduling actor, termination, metrics and bad
 * arguments. Removals run on the collector's thread, so a test waits for their answers (with a
 * deadline) instead of settling. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "actor/actor.h"
#include "actor/clock.h"
#include "actor/metrics.h"
#include "slave/files/gc.h"
#include "slave/files/rmtree.h"

#define SEC ACTOR_NS_PER_SEC

/* ---- answers, recorded from whichever thread runs them ---- */

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;

typedef struct recorder {
    int count;
    int values[8];     /* gc_outcome_t, or the unscheduled bool */
    bool in_actor[8];  /* ran with self and state set */
    bool path_gone[8]; /* the recorder's path no longer existed when the answer ran */
    const char *path;  /* may be NULL */
} recorder_t;

static void record(recorder_t *r, int value, bool in_actor)
{
    pthread_mutex_lock(&lock);
    if (r->count < 8) {
        r->values[r->count] = value;
        r->in_actor[r->count] = in_actor;
        r->path_gone[r->count] = r->path != NULL && access(r->path, F_OK) != 0;
    }
    r->count++;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&lock);
}

static void on_done(actor_t *self, void *state, void *arg, gc_outcome_t outcome)
{
    record(arg, (int)outcome, self != NULL && state != NULL);
}

static void on_unscheduled(actor_t *self, void *state, void *arg, bool unscheduled)
{
    record(arg, unscheduled, self != NULL && state != NULL);
}

/* Waits (at most 10 s) until r holds n answers; settles first so that due timers run. */
static void wait_answers(recorder_t *r, int n)
{
    actor_settle();
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += 10;
    pthread_mutex_lock(&lock);
    while (r->count < n && pthread_cond_timedwait(&cv, &lock, &deadline) == 0)
        ;
    int count = r->count;
    pthread_mutex_unlock(&lock);
    assert_int_equal(count, n);
    actor_settle();
}

static int answers(recorder_t *r)
{
    pthread_mutex_lock(&lock);
    int n = r->count;
    pthread_mutex_unlock(&lock);
    return n;
}

/* ---- the disk, as the tests want it ---- */

static struct {
    pthread_mutex_t lock;
    double usage;
    actor_err_t err;
    int calls;
} disk = {PTHREAD_MUTEX_INITIALIZER, 0, ACTOR_OK, 0};

static actor_err_t fake_usage(void *arg, const char *work_dir, double *usage)
{
    assert_ptr_equal(arg, &disk);
    assert_non_null(work_dir);
    pthread_mutex_lock(&disk.lock);
    *usage = disk.usage;
    actor_err_t err = disk.err;
    disk.calls++;
    pthread_mutex_unlock(&disk.lock);
    return err;
}

static void disk_set(double usage, actor_err_t err)
{
    pthread_mutex_lock(&disk.lock);
    disk.usage = usage;
    disk.err = err;
    pthread_mutex_unlock(&disk.lock);
}

/* ---- fixture ---- */

typedef struct fixture {
    char root[64];
    actor_pid_t gc;
    metrics_registry_t *metrics;
} fixture_t;

static void write_file(const char *path, const char *data)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, strlen(data)), (ssize_t)strlen(data));
    close(fd);
}

/* Makes <root>/<name>: files, nested directories and a link to <root>/keep (which must outlive
 * the tree's removal). Returns the tree's path (static buffer per slot). */
static const char *make_tree(fixture_t *fx, const char *name)
{
    static char paths[8][PATH_MAX];
    static int next;
    char *p = paths[next++ % 8];
    snprintf(p, PATH_MAX, "%s/%s", fx->root, name);
    char buf[PATH_MAX + 64];
    assert_int_equal(mkdir(p, 0755), 0);
    snprintf(buf, sizeof(buf), "%s/stdout", p);
    write_file(buf, "output");
    snprintf(buf, sizeof(buf), "%s/a", p);
    assert_int_equal(mkdir(buf, 0755), 0);
    snprintf(buf, sizeof(buf), "%s/a/b", p);
    assert_int_equal(mkdir(buf, 0700), 0);
    snprintf(buf, sizeof(buf), "%s/a/b/file", p);
    write_file(buf, "deep");
    snprintf(buf, sizeof(buf), "%s/a/keep", p);
    assert_int_equal(symlink("../../keep", buf), 0);
    return p;
}

static bool exists(const char *path)
{
    return access(path, F_OK) == 0;
}

static gc_options_t test_options(fixture_t *fx)
{
    gc_options_t opts;
    gc_options_init(&opts);
    opts.work_dir = fx->root;
    opts.gc_delay_ns = 100 * SEC;
    opts.disk_watch_interval_ns = 1 * SEC;
    opts.gc_disk_headroom = 0.0; /* an empty disk then prunes only what is due */
    opts.disk_usage = fake_usage;
    opts.disk_usage_arg = &disk;
    opts.metrics = fx->metrics;
    return opts;
}

static int setup(void **state)
{
    fixture_t *fx = calloc(1, sizeof(*fx));
    snprintf(fx->root, sizeof(fx->root), "/tmp/gc-test-XXXXXX");
    if (mkdtemp(fx->root) == NULL)
        return -1;
    char keep[PATH_MAX];
    snprintf(keep, sizeof(keep), "%s/keep", fx->root);
    write_file(keep, "kept");
    actor_runtime_options_t opts = {.workers = 1, .port = -1}; /* no transport */
    if (actor_runtime_start(&opts) != ACTOR_OK)
        return -1;
    actor_clock_pause();
    if (metrics_registry_new(&fx->metrics) != ACTOR_OK)
        return -1;
    disk_set(0.0, ACTOR_OK);
    disk.calls = 0;
    gc_options_t gopts = test_options(fx);
    if (gc_spawn(&gopts, &fx->gc) != ACTOR_OK)
        return -1;
    actor_settle();
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *fx = *state;
    actor_terminate(&fx->gc);
    actor_wait(&fx->gc);
    actor_runtime_stop();
    metrics_registry_free(fx->metrics);
    char keep[PATH_MAX];
    snprintf(keep, sizeof(keep), "%s/keep", fx->root);
    assert_true(exists(keep)); /* no removal ever followed the links to it */
    assert_int_equal(rmtree(fx->root, NULL, NULL, NULL, 0), ACTOR_OK);
    free(fx);
    return 0;
}

static double metric(fixture_t *fx, const char *key)
{
    json_t *snapshot;
    assert_int_equal(metrics_snapshot_json(fx->metrics, &snapshot), ACTOR_OK);
    json_t *v = json_object_get(snapshot, key);
    assert_non_null(v);
    double value = json_number_value(v);
    json_decref(snapshot);
    return value;
}

/* ---- tests ---- */

static void test_max_allowed_age(void **state)
{
    (void)state;
    assert_int_equal(gc_max_allowed_age(100 * SEC, 0.1, 0.0), 90 * SEC);
    assert_int_equal(gc_max_allowed_age(100 * SEC, 0.1, 0.5), 40 * SEC);
    assert_int_equal(gc_max_allowed_age(100 * SEC, 0.1, 0.9), 0);
    assert_int_equal(gc_max_allowed_age(100 * SEC, 0.1, 0.95), 0);
    assert_int_equal(gc_max_allowed_age(100 * SEC, 0.0, 0.0), 100 * SEC);
    assert_int_equal(gc_max_allowed_age(100 * SEC, 0.0, -1.0), 100 * SEC);
}

static void test_removed_when_due(void **state)
{
    fixture_t *fx = *state;
    const char *tree = make_tree(fx, "run1");
    recorder_t r = {.path = tree};
    assert_int_equal(gc_schedule(NULL, &fx->gc, tree, 10 * SEC, on_done, &r), ACTOR_OK);
    actor_settle();
    assert_int_equal(metric(fx, "gc/path_removals_pending"), 1);
    actor_clock_advance(9 * SEC);
    actor_settle();
    assert_true(exists(tree));
    assert_int_equal(answers(&r), 0);
    actor_clock_advance(1 * SEC);
    wait_answers(&r, 1);
    assert_int_equal(r.values[0], GC_REMOVED);
    assert_false(r.in_actor[0]); /* scheduled from outside any actor */
    assert_true(r.path_gone[0]);
    assert_false(exists(tree));
    assert_int_equal(metric(fx, "gc/path_removals_succeeded"), 1);
    assert_int_equal(metric(fx, "gc/path_removals_failed"), 0);
    assert_int_equal(metric(fx, "gc/path_removals_pending"), 0);
}

static void test_unschedule_keeps(void **state)
{
    fixture_t *fx = *state;
    const char *tree = make_tree(fx, "run1");
    recorder_t done = {0}, undone = {0};
    assert_int_equal(gc_schedule(NULL, &fx->gc, tree, 10 * SEC, on_done, &done), ACTOR_OK);
    /* Trailing and repeated '/' name the same path. */
    char other[PATH_MAX + 8];
    snprintf(other, sizeof(other), "/%s/", tree);
    assert_int_equal(gc_unschedule(NULL, &fx->gc, other, on_unscheduled, &undone), ACTOR_OK);
    wait_answers(&undone, 1);
    assert_int_equal(undone.values[0], true);
    assert_int_equal(answers(&done), 1);
    assert_int_equal(done.values[0], GC_UNSCHEDULED);
    actor_clock_advance(1000 * SEC);
    actor_settle();
    assert_true(exists(tree));
    assert_int_equal(metric(fx, "gc/path_removals_pending"), 0);

    /* Not scheduled (any more): false. */
    recorder_t again = {0};
    assert_int_equal(gc_unschedule(NULL, &fx->gc, tree, on_unscheduled, &again), ACTOR_OK);
    wait_answers(&again, 1);
    assert_int_equal(again.values[0], false);
    /* Without an answer wanted. */
    assert_int_equal(gc_schedule(NULL, &fx->gc, tree, 10 * SEC, NULL, NULL), ACTOR_OK);
    assert_int_equal(gc_unschedule(NULL, &fx->gc, tree, NULL, NULL), ACTOR_OK);
    actor_clock_advance(20 * SEC);
    actor_settle();
    assert_true(exists(tree));
}

static void test_reschedule_replaces(void **state)
{
    fixture_t *fx = *state;
    const char *tree = make_tree(fx, "run1");
    recorder_t first = {0}, second = {.path = tree};
    assert_int_equal(gc_schedule(NULL, &fx->gc, tree, 10 * SEC, on_done, &first), ACTOR_OK);
    actor_settle();
    assert_int_equal(gc_schedule(NULL, &fx->gc, tree, 50 * SEC, on_done, &second), ACTOR_OK);
    wait_answers(&first, 1);
    assert_int_equal(first.values[0], GC_UNSCHEDULED);
    assert_int_equal(metric(fx, "gc/path_removals_pending"), 1);
    actor_clock_advance(10 * SEC);
    actor_settle();
    assert_true(exists(tree));
    actor_clock_advance(40 * SEC);
    wait_answers(&second, 1);
    assert_int_equal(second.values[0], GC_REMOVED);
    assert_false(exists(tree));
}

static void test_due_at_once(void **state)
{
    fixture_t *fx = *state;
    const char *tree = make_tree(fx, "run1");
    recorder_t r = {0};
    assert_int_equal(gc_schedule(NULL, &fx->gc, tree, 0, on_done, &r), ACTOR_OK);
    wait_answers(&r, 1);
    assert_int_equal(r.values[0], GC_REMOVED);
    assert_false(exists(tree));
    /* A negative delay too; a path that does not exist is removed already; so is a file. */
    recorder_t missing = {0}, file = {0};
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/never", fx->root);
    assert_int_equal(gc_schedule(NULL, &fx->gc, path, -5 * SEC, on_done, &missing), ACTOR_OK);
    snprintf(path, sizeof(path), "%s/file", fx->root);
    write_file(path, "x");
    assert_int_equal(gc_schedule(NULL, &fx->gc, path, 0, on_done, &file), ACTOR_OK);
    wait_answers(&missing, 1);
    wait_answers(&file, 1);
    assert_int_equal(missing.values[0], GC_REMOVED);
    assert_int_equal(file.values[0], GC_REMOVED);
    assert_false(exists(path));
}

static void test_disk_pressure(void **state)
{
    fixture_t *fx = *state;
    /* A collector with gc_delay 100 s, headroom 0.1, a watch every second. */
    actor_terminate(&fx->gc);
    actor_wait(&fx->gc);
    gc_options_t opts = test_options(fx);
    opts.gc_disk_headroom = 0.1;
    assert_int_equal(gc_spawn(&opts, &fx->gc), ACTOR_OK);
    pthread_mutex_lock(&disk.lock);
    disk.calls = 0;
    pthread_mutex_unlock(&disk.lock);
    const char *a = make_tree(fx, "a"), *b = make_tree(fx, "b"), *c = make_tree(fx, "c");
    recorder_t ra = {0}, rb = {0}, rc = {0};
    assert_int_equal(gc_schedule(NULL, &fx->gc, a, 100 * SEC, on_done, &ra), ACTOR_OK);
    assert_int_equal(gc_schedule(NULL, &fx->gc, b, 50 * SEC, on_done, &rb), ACTOR_OK);
    assert_int_equal(gc_schedule(NULL, &fx->gc, c, 5 * SEC, on_done, &rc), ACTOR_OK);
    actor_settle();

    /* An empty disk: max age 90 s, so what is due within 10 s goes now (c, due in 4 s). */
    actor_clock_advance(1 * SEC);
    wait_answers(&rc, 1);
    assert_int_equal(rc.values[0], GC_REMOVED);
    assert_false(exists(c));
    assert_true(exists(a) && exists(b));
    assert_int_equal(metric(fx, "slave/executor_directory_max_allowed_age_secs"), 90);

    /* Half full: max age 40 s, due within 60 s goes (b, due in 48 s; not a, in 98 s). */
    disk_set(0.5, ACTOR_OK);
    actor_clock_advance(1 * SEC);
    wait_answers(&rb, 1);
    assert_int_equal(rb.values[0], GC_REMOVED);
    assert_false(exists(b));
    assert_true(exists(a));
    assert_int_equal(answers(&ra), 0);
    assert_int_equal(metric(fx, "slave/executor_directory_max_allowed_age_secs"), 40);

    /* A failing measurement prunes nothing, and the watch goes on. */
    disk_set(0.99, ACTOR_ESYSTEM);
    actor_clock_advance(1 * SEC);
    actor_settle();
    assert_true(exists(a));
    assert_int_equal(answers(&ra), 0);

    /* Past 1 - headroom: max age 0, everything goes. */
    disk_set(0.95, ACTOR_OK);
    actor_clock_advance(1 * SEC);
    wait_answers(&ra, 1);
    assert_int_equal(ra.values[0], GC_REMOVED);
    assert_false(exists(a));
    assert_int_equal(metric(fx, "slave/executor_directory_max_allowed_age_secs"), 0);
    assert_int_equal(metric(fx, "gc/path_removals_succeeded"), 3);
    pthread_mutex_lock(&disk.lock);
    assert_int_equal(disk.calls, 4);
    pthread_mutex_unlock(&disk.lock);
}

static void test_statvfs_default(void **state)
{
    fixture_t *fx = *state;
    /* A second collector measuring the real filesystem, its metrics in their own registry. */
    metrics_registry_t *reg;
    assert_int_equal(metrics_registry_new(&reg), ACTOR_OK);
    gc_options_t opts;
    gc_options_init(&opts);
    opts.work_dir = fx->root;
    opts.metrics = reg;
    actor_pid_t gc;
    assert_int_equal(gc_spawn(&opts, &gc), ACTOR_OK);
    const char *tree = make_tree(fx, "run1");
    /* Due after twice gc_delay: no usage can prune it. */
    assert_int_equal(gc_schedule(NULL, &gc, tree, 2 * GC_DELAY_DEFAULT, NULL, NULL), ACTOR_OK);
    actor_settle();
    actor_clock_advance(GC_DISK_WATCH_INTERVAL_DEFAULT);
    actor_settle();
    json_t *snapshot;
    assert_int_equal(metrics_snapshot_json(reg, &snapshot), ACTOR_OK);
    double age = json_number_value(
        json_object_get(snapshot, "slave/executor_directory_max_allowed_age_secs"));
    json_decref(snapshot);
    assert_true(age >= 0 && age <= 0.9 * (double)GC_DELAY_DEFAULT / 1e9 + 1);
    assert_true(exists(tree));
    actor_terminate(&gc);
    actor_wait(&gc);
    metrics_registry_free(reg);
}

static void test_unschedule_while_removing(void **state)
{
    fixture_t *fx = *state;
    const char *tree = make_tree(fx, "run1");
    recorder_t done = {0}, undone = {.path = tree};
    /* Both requests reach the collector before the removal can report back: the removal has
     * started, so the unschedule answers false, after the tree is gone. */
    assert_int_equal(gc_schedule(NULL, &fx->gc, tree, 0, on_done, &done), ACTOR_OK);
    assert_int_equal(gc_unschedule(NULL, &fx->gc, tree, on_unscheduled, &undone), ACTOR_OK);
    wait_answers(&undone, 1);
    assert_int_equal(undone.values[0], false);
    assert_true(undone.path_gone[0]);
    wait_answers(&done, 1);
    assert_int_equal(done.values[0], GC_REMOVED);
}

static void test_schedule_while_removing(void **state)
{
    fixture_t *fx = *state;
    const char *tree = make_tree(fx, "run1");
    recorder_t first = {0}, second = {0};
    /* A new schedule beside a removal under way stands on its own. */
    assert_int_equal(gc_schedule(NULL, &fx->gc, tree, 0, on_done, &first), ACTOR_OK);
    assert_int_equal(gc_schedule(NULL, &fx->gc, tree, 10 * SEC, on_done, &second), ACTOR_OK);
    wait_answers(&first, 1);
    assert_int_equal(first.values[0], GC_REMOVED);
    assert_int_equal(answers(&second), 0);
    assert_int_equal(metric(fx, "gc/path_removals_pending"), 1);
    make_tree(fx, "run1");
    actor_clock_advance(10 * SEC);
    wait_answers(&second, 1);
    assert_int_equal(second.values[0], GC_REMOVED);
    assert_false(exists(tree));
}

/* ---- an actor that schedules, to see its answers arrive inside it ---- */

typedef struct client {
    int calls;
} client_t;

typedef struct client_job {
    actor_pid_t gc;
    char path[PATH_MAX];
    recorder_t *done, *undone;
} client_job_t;

static void client_schedule(actor_t *self, void *state, void *arg)
{
    (void)state;
    client_job_t *job = arg;
    if (self != NULL) {
        assert_int_equal(gc_schedule(self, &job->gc, job->path, 5 * SEC, on_done, job->done),
                         ACTOR_OK);
        assert_int_equal(
            gc_unschedule(self, &job->gc, "/not/scheduled", on_unscheduled, job->undone), ACTOR_OK);
    }
    free(job);
}

static const actor_ops_t client_ops = {.name = "client", .state_size = sizeof(client_t)};

static void test_answers_in_scheduler(void **state)
{
    fixture_t *fx = *state;
    actor_pid_t client;
    assert_int_equal(actor_spawn(&client_ops, NULL, NULL, &client), ACTOR_OK);
    const char *tree = make_tree(fx, "run1");
    recorder_t done = {0}, undone = {0};
    client_job_t *job = calloc(1, sizeof(*job));
    *job = (client_job_t){.gc = fx->gc, .done = &done, .undone = &undone};
    snprintf(job->path, sizeof(job->path), "%s", tree);
    assert_int_equal(actor_dispatch(&client, client_schedule, job), ACTOR_OK);
    wait_answers(&undone, 1);
    assert_int_equal(undone.values[0], false);
    assert_true(undone.in_actor[0]);
    actor_clock_advance(5 * SEC);
    wait_answers(&done, 1);
    assert_int_equal(done.values[0], GC_REMOVED);
    assert_true(done.in_actor[0]);

    /* The scheduler gone: the answer runs with self and state NULL. */
    const char *tree2 = make_tree(fx, "run2");
    recorder_t orphan = {0};
    job = calloc(1, sizeof(*job));
    *job = (client_job_t){.gc = fx->gc, .done = &orphan, .undone = &undone};
    snprintf(job->path, sizeof(job->path), "%s", tree2);
    assert_int_equal(actor_dispatch(&client, client_schedule, job), ACTOR_OK);
    actor_settle();
    actor_terminate(&client);
    actor_wait(&client);
    actor_clock_advance(5 * SEC);
    wait_answers(&orphan, 1);
    assert_int_equal(orphan.values[0], GC_REMOVED);
    assert_false(orphan.in_actor[0]);
    assert_false(exists(tree2));
}

static void test_terminate_answers_stopped(void **state)
{
    fixture_t *fx = *state;
    const char *tree = make_tree(fx, "run1");
    recorder_t scheduled = {0}, late = {0};
    assert_int_equal(gc_schedule(NULL, &fx->gc, tree, 10 * SEC, on_done, &scheduled), ACTOR_OK);
    actor_settle();
    /* This one may be handled or dropped by the termination: GC_STOPPED either way. */
    assert_int_equal(gc_schedule(NULL, &fx->gc, tree, 20 * SEC, on_done, &late), ACTOR_OK);
    actor_terminate(&fx->gc);
    actor_wait(&fx->gc);
    wait_answers(&scheduled, 1);
    wait_answers(&late, 1);
    assert_true(scheduled.values[0] == GC_STOPPED || scheduled.values[0] == GC_UNSCHEDULED);
    assert_int_equal(late.values[0], GC_STOPPED);
    actor_clock_advance(100 * SEC);
    actor_settle();
    assert_true(exists(tree));
    /* Gone: requests are refused and answer nothing. */
    recorder_t refused = {0};
    assert_int_equal(gc_schedule(NULL, &fx->gc, tree, 0, on_done, &refused), ACTOR_ENOENT);
    assert_int_equal(gc_unschedule(NULL, &fx->gc, tree, on_unscheduled, &refused), ACTOR_ENOENT);
    actor_settle();
    assert_int_equal(answers(&refused), 0);
}

static void test_failed_removal(void **state)
{
    fixture_t *fx = *state;
    /* Nothing in /proc can be unlinked, even by root: a removal that fails, harmlessly. */
    recorder_t r = {0};
    assert_int_equal(gc_schedule(NULL, &fx->gc, "/proc/self/fdinfo", 0, on_done, &r), ACTOR_OK);
    wait_answers(&r, 1);
    assert_int_equal(r.values[0], GC_FAILED);
    assert_int_equal(metric(fx, "gc/path_removals_failed"), 1);
    assert_int_equal(metric(fx, "gc/path_removals_succeeded"), 0);
    assert_int_equal(metric(fx, "gc/path_removals_pending"), 0);
}

static void test_metrics_shared_registry(void **state)
{
    fixture_t *fx = *state;
    /* A second collector on the same registry (a second agent in the process) runs without
     * the keys the first one holds. */
    gc_options_t opts = test_options(fx);
    actor_pid_t gc;
    assert_int_equal(gc_spawn(&opts, &gc), ACTOR_OK);
    const char *tree = make_tree(fx, "run1");
    recorder_t r = {0};
    assert_int_equal(gc_schedule(NULL, &gc, tree, 0, on_done, &r), ACTOR_OK);
    wait_answers(&r, 1);
    assert_int_equal(r.values[0], GC_REMOVED);
    assert_int_equal(metric(fx, "gc/path_removals_succeeded"), 0); /* the first one's */
    actor_terminate(&gc);
    actor_wait(&gc);
    assert_int_equal(metrics_registry_count(fx->metrics), 4);
}

static void test_invalid(void **state)
{
    fixture_t *fx = *state;
    assert_int_equal(gc_schedule(NULL, &fx->gc, "relative/path", 0, NULL, NULL), ACTOR_EINVAL);
    assert_int_equal(gc_schedule(NULL, &fx->gc, "/", 0, NULL, NULL), ACTOR_EINVAL);
    assert_int_equal(gc_schedule(NULL, &fx->gc, "//", 0, NULL, NULL), ACTOR_EINVAL);
    assert_int_equal(gc_schedule(NULL, &fx->gc, "", 0, NULL, NULL), ACTOR_EINVAL);
    assert_int_equal(gc_schedule(NULL, &fx->gc, NULL, 0, NULL, NULL), ACTOR_EINVAL);
    assert_int_equal(gc_schedule(NULL, NULL, "/tmp/x", 0, NULL, NULL), ACTOR_EINVAL);
    assert_int_equal(gc_unschedule(NULL, &fx->gc, "x", NULL, NULL), ACTOR_EINVAL);
    assert_int_equal(gc_unschedule(NULL, NULL, "/tmp/x", NULL, NULL), ACTOR_EINVAL);

    gc_options_t opts = test_options(fx);
    assert_int_equal(gc_spawn(NULL, NULL), ACTOR_EINVAL);
    opts.work_dir = NULL;
    assert_int_equal(gc_spawn(&opts, NULL), ACTOR_EINVAL);
    opts = test_options(fx);
    opts.gc_delay_ns = 0;
    assert_int_equal(gc_spawn(&opts, NULL), ACTOR_EINVAL);
    opts = test_options(fx);
    opts.disk_watch_interval_ns = -1;
    assert_int_equal(gc_spawn(&opts, NULL), ACTOR_EINVAL);
    opts = test_options(fx);
    opts.gc_disk_headroom = 1.5;
    assert_int_equal(gc_spawn(&opts, NULL), ACTOR_EINVAL);
    opts.gc_disk_headroom = NAN;
    assert_int_equal(gc_spawn(&opts, NULL), ACTOR_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_max_allowed_age),
        cmocka_unit_test_setup_teardown(test_removed_when_due, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unschedule_keeps, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reschedule_replaces, setup, teardown),
        cmocka_unit_test_setup_teardown(test_due_at_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_disk_pressure, setup, teardown),
        cmocka_unit_test_setup_teardown(test_statvfs_default, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unschedule_while_removing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_schedule_while_removing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_answers_in_scheduler, setup, teardown),
        cmocka_unit_test_setup_teardown(test_terminate_answers_stopped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failed_removal, setup, teardown),
        cmocka_unit_test_setup_teardown(test_metrics_shared_registry, setup, teardown),
        cmocka_unit_test_setup_teardown(test_invalid, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
