/*
 * sleepy-framework: the worked example of the framework API (frameworks/scheduler.h; the
 * README's "Writing a framework" walks through it).
 *
 *   sleepy-framework --master=HOST:PORT --tasks=N --duration=SECS [--resources=cpus:0.1;mem:16]
 *                    [--role=*] [--name=sleepy]
 *
 * It launches N tasks of `sleep SECS`, as many on each offer as fit, and exits 0 once all of
 * them have FINISHED; 1, with a summary on stderr, when any failed or was lost. On a terminal it
 * shows its progress. The last line it prints on stdout is one JSON object summarising the run:
 *
 *   {"tasks":20,"finished":20,"failed":0,"seconds":1.52,"tasks_per_second":13.2,
 *    "submit_to_running_p50_ms":2.1,"submit_to_running_p99_ms":4.8}
 *
 * where seconds runs from the driver's start (its first SUBSCRIBE) to the last task's end, and
 * submit-to-running is the time from a task's launch call to its TASK_RUNNING update.
 *
 * Every callback below runs inside the driver's actor, one at a time, so sleepy_t needs no lock;
 * main reads it only after the driver has ended.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "actor/clock.h"
#include "actor/flags.h"
#include "frameworks/scheduler.h"
#include "proto/task_states.h"
#include "resources/resources.h"

#define TASK_ID_PREFIX     "sleepy-"
#define MAX_FAILURES_SHOWN 10

typedef enum task_phase { PENDING, LAUNCHED, RUNNING, DONE } task_phase_t;

/* One launch slot: a TaskInfo and the id string it borrows. */
typedef struct slot {
    scheduler_task_t task;
    size_t index;
    char id[32];
} slot_t;

typedef struct sleepy {
    /* What to run. */
    size_t count;                   /* --tasks */
    char command[64];               /* "sleep SECS" */
    scheduler_resources_t per_task; /* --resources */
    /* Each task i is named "sleepy-i". */
    task_phase_t *phase;
    int64_t *submitted_ns; /* when its launch was sent */
    double *running_ms;    /* submit to TASK_RUNNING; < 0 until then */
    size_t *pending;       /* a stack of the tasks to launch (dropped ones come back) */
    size_t pending_count;
    slot_t *slots; /* scratch for one offer's launches */
    size_t slot_cap;
    bool suppressed; /* nothing left to launch: offers are suppressed */
    /* Outcome. */
    size_t running, finished, failed;
    char failures[MAX_FAILURES_SHOWN][256];
    int64_t start_ns, end_ns, last_progress_ns;
    bool tty;
} sleepy_t;

/* ---- helpers ---- */

/* The index of task "sleepy-i", or count when the id is not one of ours. */
static size_t task_index(const sleepy_t *s, const char *id)
{
    if (strncmp(id, TASK_ID_PREFIX, strlen(TASK_ID_PREFIX)) != 0)
        return s->count;
    char *end = NULL;
    unsigned long long i = strtoull(id + strlen(TASK_ID_PREFIX), &end, 10);
    return *end == '\0' && i < s->count ? (size_t)i : s->count;
}

static void progress(sleepy_t *s, bool force)
{
    int64_t now = actor_clock_now();
    if (!s->tty || (!force && now - s->last_progress_ns < 100 * ACTOR_NS_PER_MS))
        return;
    s->last_progress_ns = now;
    printf("\rsleepy: %zu tasks: %zu to launch, %zu running, %zu finished, %zu failed   ", s->count,
           s->pending_count, s->running, s->finished, s->failed);
    fflush(stdout);
}

/* Makes sure slots holds n entries. */
static bool slots_reserve(sleepy_t *s, size_t n)
{
    if (n <= s->slot_cap)
        return true;
    size_t cap = s->slot_cap ? s->slot_cap * 2 : 64;
    while (cap < n)
        cap *= 2;
    slot_t *grown = realloc(s->slots, cap * sizeof(*grown));
    if (grown == NULL)
        return false;
    s->slots = grown;
    s->slot_cap = cap;
    return true;
}

/* ---- callbacks ---- */

static void on_subscribed(scheduler_driver_t *d, void *user, const char *framework_id,
                          bool resubscribed, const Mesos__MasterInfo *master_info)
{
    (void)master_info;
    sleepy_t *s = user;
    fprintf(stderr, "sleepy: subscribed as framework %s\n", framework_id);
    if (!resubscribed)
        return;
    /* We were away: ask for the state of every task launched and not done (explicit
     * reconciliation); the answers come as updates. */
    const char **ids = calloc(s->count, sizeof(*ids));
    char(*text)[32] = calloc(s->count, sizeof(*text));
    size_t n = 0;
    for (size_t i = 0; ids != NULL && text != NULL && i < s->count; i++) {
        if (s->phase[i] == LAUNCHED || s->phase[i] == RUNNING) {
            snprintf(text[n], sizeof(text[n]), TASK_ID_PREFIX "%zu", i);
            ids[n] = text[n];
            n++;
        }
    }
    if (n > 0)
        scheduler_driver_reconcile(d, ids, NULL, n);
    free(ids);
    free(text);
}

/* Launches as many pending tasks on the offer as its resources hold. Filters of 0 seconds: what
 * this offer leaves unused (or all of it, when no task fits) may be offered again at once, since
 * tasks that finish keep freeing room; the master's default filter would keep the agent's
 * resources from sleepy for 5 seconds. */
static void launch_on(scheduler_driver_t *d, sleepy_t *s, const Mesos__Offer *offer)
{
    resources_t available;
    resources_from_proto(&available, offer->resources, offer->n_resources, NULL, 0);
    size_t n = 0;
    while (s->pending_count > 0 && resources_contains(&available, &s->per_task.set) &&
           slots_reserve(s, n + 1)) {
        size_t i = s->pending[--s->pending_count];
        slot_t *slot = &s->slots[n++];
        slot->index = i;
        snprintf(slot->id, sizeof(slot->id), TASK_ID_PREFIX "%zu", i);
        resources_subtract(&available, &s->per_task.set);
        s->phase[i] = LAUNCHED;
        s->submitted_ns[i] = actor_clock_now();
    }
    resources_fini(&available);
    if (n == 0) {
        scheduler_driver_decline(d, offer->id->value, 0);
        return;
    }
    Mesos__TaskInfo **infos = calloc(n, sizeof(*infos));
    for (size_t k = 0; infos != NULL && k < n; k++) {
        /* Now that slots no longer moves (the TaskInfo points into its slot). */
        slot_t *slot = &s->slots[k];
        scheduler_task_init(&slot->task, slot->id, slot->id, offer->agent_id->value, s->command,
                            s->per_task.items, s->per_task.count);
        infos[k] = &slot->task.info;
    }
    const char *offer_id = offer->id->value;
    if (infos == NULL || scheduler_driver_launch(d, &offer_id, 1, infos, n, 0) != ACTOR_OK) {
        /* Out of memory: the tasks wait for a later offer. */
        fprintf(stderr, "sleepy: cannot launch %zu tasks now\n", n);
        for (size_t k = 0; k < n; k++) {
            s->phase[s->slots[k].index] = PENDING;
            s->pending[s->pending_count++] = s->slots[k].index;
        }
        scheduler_driver_decline(d, offer_id, 0);
    }
    free(infos);
}

static void on_offers(scheduler_driver_t *d, void *user, const Mesos__Offer *const *offers,
                      size_t count)
{
    sleepy_t *s = user;
    for (size_t i = 0; i < count; i++) {
        if (s->pending_count > 0)
            launch_on(d, s, offers[i]);
        else
            scheduler_driver_decline(d, offers[i]->id->value, 3600); /* nothing left to run */
    }
    if (s->pending_count == 0 && !s->suppressed) {
        scheduler_driver_suppress(d, NULL); /* no more offers until a task needs one again */
        s->suppressed = true;
    }
    progress(s, false);
}

/* A task that never reached an agent goes back to the queue. */
static void relaunch(scheduler_driver_t *d, sleepy_t *s, size_t i)
{
    s->phase[i] = PENDING;
    s->pending[s->pending_count++] = i;
    if (s->suppressed) {
        scheduler_driver_revive(d, NULL);
        s->suppressed = false;
    }
}

static void record_failure(sleepy_t *s, const Mesos__TaskStatus *status)
{
    if (s->failed < MAX_FAILURES_SHOWN) {
        const ProtobufCEnumValue *reason =
            status->has_reason ? protobuf_c_enum_descriptor_get_value(
                                     &mesos__task_status__reason__descriptor, status->reason)
                               : NULL;
        char why[128] = "";
        if (reason != NULL)
            snprintf(why, sizeof(why), " (%s)", reason->name);
        snprintf(s->failures[s->failed], sizeof(s->failures[0]), "%s: %s%s%s%s",
                 status->task_id->value, mesos_task_state_name(status->state), why,
                 status->message != NULL ? ": " : "",
                 status->message != NULL ? status->message : "");
    }
    s->failed++;
}

static void on_update(scheduler_driver_t *d, void *user, const Mesos__TaskStatus *status)
{
    sleepy_t *s = user;
    size_t i = task_index(s, status->task_id->value);
    if (i == s->count || s->phase[i] == DONE || s->phase[i] == PENDING)
        return; /* not ours, or already counted, or a stale answer about a relaunched task */
    int state = status->state;
    bool ran = s->phase[i] == RUNNING;
    if (state == MESOS__TASK_STATE__TASK_RUNNING && !ran) {
        s->phase[i] = RUNNING;
        s->running++;
        s->running_ms[i] = (double)(actor_clock_now() - s->submitted_ns[i]) / 1e6;
    } else if (state == MESOS__TASK_STATE__TASK_DROPPED ||
               (state == MESOS__TASK_STATE__TASK_UNKNOWN && !ran)) {
        relaunch(d, s, i); /* the master never had it (or lost it before it ran) */
    } else if (mesos_task_state_terminal(state)) {
        s->phase[i] = DONE;
        s->running -= ran ? 1 : 0;
        if (state == MESOS__TASK_STATE__TASK_FINISHED)
            s->finished++;
        else
            record_failure(s, status);
        if (s->finished + s->failed == s->count) {
            s->end_ns = actor_clock_now();
            scheduler_driver_stop(d, false); /* all done: tear the framework down */
        }
    }
    progress(s, false);
}

/* ---- the summary ---- */

static int compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The p-th percentile (nearest rank) of sorted[0..n), or 0 when n is 0. */
static double percentile(const double *sorted, size_t n, double p)
{
    if (n == 0)
        return 0;
    size_t rank = (size_t)ceil(p / 100.0 * (double)n);
    return sorted[rank == 0 ? 0 : (rank > n ? n - 1 : rank - 1)];
}

static void summarise(const sleepy_t *s)
{
    double *ms = calloc(s->count + 1, sizeof(*ms));
    size_t n = 0;
    for (size_t i = 0; ms != NULL && i < s->count; i++) {
        if (s->running_ms[i] >= 0)
            ms[n++] = s->running_ms[i];
    }
    if (ms != NULL)
        qsort(ms, n, sizeof(*ms), compare_doubles);
    double seconds = (double)(s->end_ns - s->start_ns) / (double)ACTOR_NS_PER_SEC;
    if (s->finished < s->count) {
        fprintf(stderr, "sleepy: %zu of %zu tasks did not finish (%zu failed or lost)\n",
                s->count - s->finished, s->count, s->failed);
        for (size_t i = 0; i < s->failed && i < MAX_FAILURES_SHOWN; i++)
            fprintf(stderr, "  %s\n", s->failures[i]);
    }
    printf("{\"tasks\":%zu,\"finished\":%zu,\"failed\":%zu,\"seconds\":%.3f,"
           "\"tasks_per_second\":%.1f,\"submit_to_running_p50_ms\":%.3f,"
           "\"submit_to_running_p99_ms\":%.3f}\n",
           s->count, s->finished, s->failed, seconds,
           seconds > 0 ? (double)s->finished / seconds : 0.0, percentile(ms, n, 50),
           percentile(ms, n, 99));
    fflush(stdout);
    free(ms);
}

/* ---- main ---- */

static int sleepy_init(sleepy_t *s, uint64_t count, int64_t duration_ns, const char *resources)
{
    char err[256] = "";
    if (scheduler_resources_parse(&s->per_task, resources, err, sizeof(err)) != ACTOR_OK ||
        resources_empty(&s->per_task.set)) {
        fprintf(stderr, "--resources=%s: %s\n", resources, err[0] ? err : "no resources");
        return -1;
    }
    if (count == 0 || count > 100000000) {
        fprintf(stderr, "--tasks must be between 1 and 100000000\n");
        return -1;
    }
    s->count = (size_t)count;
    snprintf(s->command, sizeof(s->command), "sleep %.9g",
             (double)duration_ns / (double)ACTOR_NS_PER_SEC);
    s->phase = calloc(s->count, sizeof(*s->phase));
    s->submitted_ns = calloc(s->count, sizeof(*s->submitted_ns));
    s->running_ms = calloc(s->count, sizeof(*s->running_ms));
    s->pending = calloc(s->count, sizeof(*s->pending));
    if (s->phase == NULL || s->submitted_ns == NULL || s->running_ms == NULL ||
        s->pending == NULL) {
        fprintf(stderr, "sleepy: out of memory\n");
        return -1;
    }
    for (size_t i = 0; i < s->count; i++) {
        s->running_ms[i] = -1;
        s->pending[s->pending_count++] = s->count - 1 - i; /* pops give 0, 1, 2, ... */
    }
    s->tty = isatty(STDOUT_FILENO);
    return 0;
}

static void sleepy_fini(sleepy_t *s)
{
    scheduler_resources_fini(&s->per_task);
    free(s->phase);
    free(s->submitted_ns);
    free(s->running_ms);
    free(s->pending);
    free(s->slots);
}

int main(int argc, char **argv)
{
    char *master = NULL, *resources = NULL, *role = NULL, *name = NULL;
    uint64_t tasks = 0;
    int64_t duration = 0;
    flags_flag_t table[] = {
        FLAGS_STRING("master", &master, NULL, "The master's HTTP address, HOST:PORT"),
        FLAGS_UINT("tasks", &tasks, "10", "How many tasks to run"),
        FLAGS_SECONDS("duration", &duration, "1",
                      "How long each task sleeps: seconds (fractions allowed) or a duration "
                      "such as 500ms"),
        FLAGS_STRING("resources", &resources, "cpus:0.1;mem:16", "Resources of each task"),
        FLAGS_STRING("role", &role, "*", "The framework's role"),
        FLAGS_STRING("name", &name, "sleepy", "The framework's name"),
        FLAGS_END,
    };
    sleepy_t s = {0};
    char err[512];
    int status = 1;
    if (!scheduler_program_flags(table, argc, argv, "sleepy-framework", &status))
        goto out;
    if (sleepy_init(&s, tasks, duration, resources) != 0)
        goto out;

    scheduler_driver_options_t opts;
    scheduler_driver_options_init(&opts);
    opts.master = master;
    opts.name = name;
    opts.role = role;
    /* PARTITION_AWARE: a task on an agent cut off from the master is TASK_UNREACHABLE, not
     * TASK_LOST, and sleepy waits for it to come back instead of counting it failed. */
    opts.capabilities = SCHEDULER_CAP_PARTITION_AWARE | SCHEDULER_CAP_TASK_KILLING_STATE;
    /* The driver itself logs errors from the master and the loss of the master. */
    scheduler_callbacks_t callbacks = {
        .subscribed = on_subscribed,
        .offers = on_offers,
        .update = on_update,
    };
    scheduler_driver_status_t driver_status;
    s.start_ns = actor_clock_now();
    /* Runs until every task ended (on_update stops the driver), an error, or a signal. */
    if (scheduler_run(&opts, &callbacks, &s, &driver_status, err, sizeof(err)) != ACTOR_OK) {
        fprintf(stderr, "%s\n", err);
        goto out;
    }
    if (s.end_ns == 0)
        s.end_ns = actor_clock_now();
    progress(&s, true);
    if (s.tty)
        printf("\n");
    summarise(&s);
    status = s.finished == s.count ? 0 : 1;
out:
    sleepy_fini(&s);
    flags_free(table);
    return status;
}
