/* Marathon's reconciliation and kill retries (marathon.c), in the in-process cluster of
 * notify_support.h (a fake agent that runs nothing on its own, a persistent store) with the clock
 * paused, watching the calls Marathon's driver sends the master through a message filter:
 *
 *   - after SUBSCRIBED (a restart), an explicit RECONCILE naming each task Marathon believes is
 *     not terminal, with its agent, then an implicit one (no tasks), as Marathon 1.10's
 *     reconcileTasks; and the kills of the previous run sent again at once;
 *   - a kill the agent never answers is sent again KILL_RETRY_SECONDS (10 s) after it was sent,
 *     not before, and again every 10 s until the task ends; then never again. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "actor/filter.h"
#include "tests/marathon/server/notify_support.h"
#include "tests/marathon/server/support.h"

#define CALLS_MAX 64

typedef struct call_seen {
    Mesos__Scheduler__Call__Type type;
    int64_t at;         /* actor_clock_wall() when sent */
    char task[3][128];  /* RECONCILE: its first tasks; KILL: its task in task[0] */
    char agent[3][128]; /* their agents ("" when none) */
    size_t task_count;  /* RECONCILE: how many tasks it names */
} call_seen_t;

static struct {
    call_seen_t calls[CALLS_MAX];
    size_t count;
} seen;

static void keep(const Mesos__Scheduler__Call *call)
{
    if (seen.count == CALLS_MAX)
        return;
    call_seen_t *c = &seen.calls[seen.count++];
    memset(c, 0, sizeof(*c));
    c->type = call->type;
    c->at = actor_clock_wall();
    if (call->type == MESOS__SCHEDULER__CALL__TYPE__KILL && call->kill != NULL) {
        snprintf(c->task[0], sizeof(c->task[0]), "%s", call->kill->task_id->value);
        if (call->kill->agent_id != NULL)
            snprintf(c->agent[0], sizeof(c->agent[0]), "%s", call->kill->agent_id->value);
    }
    if (call->type == MESOS__SCHEDULER__CALL__TYPE__RECONCILE && call->reconcile != NULL) {
        c->task_count = call->reconcile->n_tasks;
        for (size_t k = 0; k < call->reconcile->n_tasks && k < 3; k++) {
            const Mesos__Scheduler__Call__Reconcile__Task *t = call->reconcile->tasks[k];
            snprintf(c->task[k], sizeof(c->task[k]), "%s", t->task_id->value);
            if (t->agent_id != NULL)
                snprintf(c->agent[k], sizeof(c->agent[k]), "%s", t->agent_id->value);
        }
    }
}

/* Keeps Marathon's RECONCILE and KILL calls (the runtime has no workers: this runs on the test's
 * thread). */
static actor_filter_verdict_t record_calls(const actor_filter_event_t *ev, void *arg)
{
    (void)arg;
    Mesos__Scheduler__Call *call = mcluster_filter_call(ev);
    if (call == NULL)
        return ACTOR_FILTER_PASS;
    if (call->type == MESOS__SCHEDULER__CALL__TYPE__RECONCILE ||
        call->type == MESOS__SCHEDULER__CALL__TYPE__KILL)
        keep(call);
    mesos__scheduler__call__free_unpacked(call, NULL);
    return ACTOR_FILTER_PASS;
}

static size_t kills_of(const char *task)
{
    size_t n = 0;
    for (size_t k = 0; k < seen.count; k++)
        n += seen.calls[k].type == MESOS__SCHEDULER__CALL__TYPE__KILL &&
             strcmp(seen.calls[k].task[0], task) == 0;
    return n;
}

/* ---- the fixture: an app of two instances running on the fake agent ---- */

typedef struct fixture {
    notify_cluster_t *c;
    char framework_id[128];
    char tasks[2][128];
} fixture_t;

static int setup(void **state)
{
    memset(&seen, 0, sizeof(seen));
    fixture_t *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    f->c = notify_cluster_new(NULL, true);
    notify_framework_id(f->c, f->framework_id, sizeof(f->framework_id));
    int status = 0;
    json_decref(notify_api(f->c, "POST", "/v2/apps",
                           "{\"id\":\"/rec\",\"cmd\":\"sleep 100000\",\"cpus\":0.1,\"mem\":16,"
                           "\"instances\":2}",
                           &status));
    assert_int_equal(status, 201);
    for (int k = 0; k < 10 && fake_count(f->c->agent, "mesos.internal.RunTaskMessage") < 2; k++)
        cluster_advance(1);
    assert_int_equal(fake_count(f->c->agent, "mesos.internal.RunTaskMessage"), 2);
    for (long k = 0; k < 2; k++) {
        Mesos__Internal__RunTaskMessage *run = (Mesos__Internal__RunTaskMessage *)fake_get(
            f->c->agent, &mesos__internal__run_task_message__descriptor, k);
        assert_non_null(run);
        snprintf(f->tasks[k], sizeof(f->tasks[k]), "%s", run->task->task_id->value);
        protobuf_c_message_free_unpacked(&run->base, NULL);
        agent_update(f->c->agent, &f->c->master, f->framework_id, f->tasks[k],
                     MESOS__TASK_STATE__TASK_RUNNING);
    }
    actor_settle();
    actor_filter_install(record_calls, NULL);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    actor_filter_install(NULL, NULL);
    notify_cluster_free(f->c);
    free(f);
    return 0;
}

/* DELETE /v2/apps/rec/tasks/{task}: Marathon marks it killing and sends a KILL; the fake agent
 * gets the KillTaskMessage and, like a lost message or a dead agent, does nothing. */
static void kill_task(fixture_t *f, const char *task)
{
    char path[256];
    snprintf(path, sizeof(path), "/v2/apps/rec/tasks/%s", task);
    int status = 0;
    json_decref(notify_api(f->c, "DELETE", path, NULL, &status));
    assert_int_equal(status, 200);
    assert_int_equal(kills_of(task), 1);
}

/* ---- tests ---- */

static bool named(const call_seen_t *c, const char *task, const char *agent)
{
    for (size_t k = 0; k < c->task_count && k < 3; k++) {
        if (strcmp(c->task[k], task) == 0)
            return strcmp(c->agent[k], agent) == 0;
    }
    return false;
}

static void test_reconcile_after_subscribed(void **state)
{
    fixture_t *f = *state;
    kill_task(f, f->tasks[1]);
    size_t before = seen.count;
    notify_marathon_restart(f->c);
    /* The new run's first calls: the explicit reconciliation of both tasks (the one being
     * killed is not terminal either), the implicit one, the kill sent again. */
    assert_true(seen.count >= before + 3);
    const call_seen_t *explicit = &seen.calls[before];
    assert_int_equal(explicit->type, MESOS__SCHEDULER__CALL__TYPE__RECONCILE);
    assert_int_equal(explicit->task_count, 2);
    assert_true(named(explicit, f->tasks[0], f->c->agent->agent_id));
    assert_true(named(explicit, f->tasks[1], f->c->agent->agent_id));
    const call_seen_t *implicit = &seen.calls[before + 1];
    assert_int_equal(implicit->type, MESOS__SCHEDULER__CALL__TYPE__RECONCILE);
    assert_int_equal(implicit->task_count, 0);
    const call_seen_t *kill = &seen.calls[before + 2];
    assert_int_equal(kill->type, MESOS__SCHEDULER__CALL__TYPE__KILL);
    assert_string_equal(kill->task[0], f->tasks[1]);
    assert_string_equal(kill->agent[0], f->c->agent->agent_id);
    assert_int_equal(seen.count, before + 3);
    assert_int_equal(kills_of(f->tasks[0]), 0);

    /* A task that ended is not named: after TASK_KILLED (and its replacement's launch) and
     * another restart, the other one and the replacement. */
    agent_update(f->c->agent, &f->c->master, f->framework_id, f->tasks[1],
                 MESOS__TASK_STATE__TASK_KILLED);
    for (int k = 0; k < 10 && fake_count(f->c->agent, "mesos.internal.RunTaskMessage") < 3; k++)
        cluster_advance(1);
    char replacement[128];
    assert_int_equal(fake_count(f->c->agent, "mesos.internal.RunTaskMessage"), 3);
    assert_true(notify_last_task(f->c, replacement, sizeof(replacement)));
    before = seen.count;
    notify_marathon_restart(f->c);
    assert_true(seen.count >= before + 2);
    assert_int_equal(seen.calls[before].type, MESOS__SCHEDULER__CALL__TYPE__RECONCILE);
    assert_int_equal(seen.calls[before].task_count, 2);
    assert_true(named(&seen.calls[before], f->tasks[0], f->c->agent->agent_id));
    assert_true(named(&seen.calls[before], replacement, f->c->agent->agent_id));
    assert_int_equal(seen.calls[before + 1].type, MESOS__SCHEDULER__CALL__TYPE__RECONCILE);
    assert_int_equal(seen.calls[before + 1].task_count, 0);
    assert_int_equal(kills_of(f->tasks[1]), 2); /* at first, at the first restart; not now */
}

static void test_kill_sent_again_after_ten_seconds(void **state)
{
    fixture_t *f = *state;
    cluster_advance(3.5); /* a kill at no particular moment of Marathon's tick */
    kill_task(f, f->tasks[0]);
    int64_t sent = actor_clock_wall();
    /* Nothing for 10 s (ticks once a second), then the retry. */
    while (actor_clock_wall() - sent < 10 * ACTOR_NS_PER_SEC - ACTOR_NS_PER_SEC / 2) {
        cluster_advance(0.5);
        assert_int_equal(kills_of(f->tasks[0]), 1);
    }
    cluster_advance(1.5);
    assert_int_equal(kills_of(f->tasks[0]), 2);
    const call_seen_t *retry = &seen.calls[seen.count - 1];
    assert_int_equal(retry->type, MESOS__SCHEDULER__CALL__TYPE__KILL);
    assert_string_equal(retry->agent[0], f->c->agent->agent_id);
    double after = (double)(retry->at - sent) / (double)ACTOR_NS_PER_SEC;
    assert_true(after >= 10 && after <= 11);
    assert_int_equal(fake_count(f->c->agent, "mesos.internal.KillTaskMessage"), 2);

    /* Every 10 s while it runs; the other task is never killed. */
    cluster_advance(10.5);
    assert_int_equal(kills_of(f->tasks[0]), 3);
    assert_int_equal(kills_of(f->tasks[1]), 0);

    /* Once it ended, never again. */
    agent_update(f->c->agent, &f->c->master, f->framework_id, f->tasks[0],
                 MESOS__TASK_STATE__TASK_KILLED);
    actor_settle();
    for (int k = 0; k < 30; k++)
        cluster_advance(1);
    assert_int_equal(kills_of(f->tasks[0]), 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_reconcile_after_subscribed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kill_sent_again_after_ten_seconds, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
