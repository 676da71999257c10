/*
 * Tests of master/http.c's /tasks, on the in-process cluster of support.h, against Mesos's rules
 * (Master::ReadOnlyHandler::tasks): the tasks of active and completed frameworks, running,
 * unreachable and completed alike, sorted by their first status's time (newest first unless
 * order=asc), paged by limit (100) and offset, filtered by framework_id and task_id; numbers
 * that do not parse fall back to the defaults.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "tests/master/support.h"

#define AGENT_RESOURCES "cpus:4;mem:1024;disk:1024;ports:[31000-32000]"
#define EV(t)           MESOS__SCHEDULER__EVENT__TYPE__##t

/* Launches task id (cpus:1;mem:64) on the offer sched received last, which must be new. */
static void launch(cluster_t *c, fake_t *sched, size_t offers_before, const char *id)
{
    assert_true(sched_events(sched, EV(OFFERS)) > offers_before);
    Mesos__Scheduler__Event *ev = sched_last(sched, EV(OFFERS));
    assert_non_null(ev);
    sched_launch(sched, &c->master, ev->offers->offers[0], id, "cpus:1;mem:64");
    mesos__scheduler__event__free_unpacked(ev, NULL);
}

/* GET /tasks with query (may be ""): the ids of the tasks listed, comma-separated, and each
 * task's framework in frameworks (same order) when not NULL. */
static void get_ids(cluster_t *c, const char *path, char *ids, size_t len, char *frameworks,
                    size_t fw_len)
{
    int status = 0;
    char *body = cluster_http(c->port, "GET", path, NULL, &status);
    assert_non_null(body);
    assert_int_equal(status, 200);
    json_t *root = json_loads(body, 0, NULL);
    assert_non_null(root);
    json_t *tasks = json_object_get(root, "tasks");
    assert_true(json_is_array(tasks));
    size_t at = 0, fw_at = 0;
    ids[0] = '\0';
    if (frameworks != NULL)
        frameworks[0] = '\0';
    json_t *task;
    size_t i;
    json_array_foreach(tasks, i, task)
    {
        at += (size_t)snprintf(ids + at, len - at, "%s%s", i > 0 ? "," : "",
                               cluster_json_str(task, "id"));
        if (frameworks != NULL)
            fw_at += (size_t)snprintf(frameworks + fw_at, fw_len - fw_at, "%s%s", i > 0 ? "," : "",
                                      cluster_json_str(task, "framework_id"));
    }
    json_decref(root);
    free(body);
}

static void expect_ids(cluster_t *c, const char *path, const char *want)
{
    char ids[256];
    get_ids(c, path, ids, sizeof(ids), NULL, 0);
    if (strcmp(ids, want) != 0)
        fail_msg("GET %s listed [%s], expected [%s]", path, ids, want);
}

/* The state of task id in GET /tasks?task_id=id. */
static char *task_state(cluster_t *c, const char *id)
{
    char path[128];
    snprintf(path, sizeof(path), "/tasks?task_id=%s", id);
    int status = 0;
    char *body = cluster_http(c->port, "GET", path, NULL, &status);
    assert_non_null(body);
    json_t *root = json_loads(body, 0, NULL);
    free(body);
    char *state = strdup(cluster_json_str(root, "tasks.0.state"));
    json_decref(root);
    return state;
}

/* Framework 1 launches a, then b 6 s later; framework 2 launches c a second after b and is torn
 * down, which kills c; then a finishes. */
typedef struct scene {
    cluster_t *c;
    fake_t *sched2;
    char fw1[128], fw2[128];
} scene_t;

static void make_scene(scene_t *s)
{
    cluster_t *c = s->c;
    sched_subscribe(c->sched, &c->master, NULL, 60, false, false);
    agent_register(c->agent, &c->master, AGENT_RESOURCES);
    cluster_advance(1);
    launch(c, c->sched, 0, "a");
    cluster_advance(6); /* past the 5 s filter on what the launch left */
    launch(c, c->sched, 1, "b");

    s->sched2 = fake_spawn("sched");
    sched_subscribe(s->sched2, &c->master, NULL, 60, false, false);
    cluster_advance(1);
    launch(c, s->sched2, 0, "c");
    Mesos__Scheduler__Call call = MESOS__SCHEDULER__CALL__INIT;
    call.type = MESOS__SCHEDULER__CALL__TYPE__TEARDOWN;
    sched_call(s->sched2, &c->master, &call);

    agent_update(c->agent, &c->master, c->sched->framework_id, "a",
                 MESOS__TASK_STATE__TASK_FINISHED);
    Mesos__Scheduler__Event *ev = sched_last(c->sched, EV(UPDATE));
    sched_acknowledge(c->sched, &c->master, ev->update->status);
    mesos__scheduler__event__free_unpacked(ev, NULL);
    snprintf(s->fw1, sizeof(s->fw1), "%s", c->sched->framework_id);
    snprintf(s->fw2, sizeof(s->fw2), "%s", s->sched2->framework_id);
    c->port = cluster_http_listen(&c->master);
}

static void test_tasks_sorted_newest_first_with_completed_frameworks(void **state)
{
    scene_t s = {.c = *state};
    make_scene(&s);
    cluster_t *c = s.c;
    char ids[256], fws[1024], want[1024];
    get_ids(c, "/tasks", ids, sizeof(ids), fws, sizeof(fws));
    assert_string_equal(ids, "c,b,a");
    snprintf(want, sizeof(want), "%s,%s,%s", s.fw2, s.fw1, s.fw1);
    assert_string_equal(fws, want);
    expect_ids(c, "/tasks?order=asc", "a,b,c");
    expect_ids(c, "/tasks?order=des", "c,b,a");
    expect_ids(c, "/tasks?order=desc", "c,b,a"); /* anything but asc is descending */
    expect_ids(c, "/master/tasks", "c,b,a");
    expect_ids(c, "/tasks.json?order=asc", "a,b,c");
    char *st = task_state(c, "a");
    assert_string_equal(st, "TASK_FINISHED");
    free(st);
    st = task_state(c, "c");
    assert_string_equal(st, "TASK_KILLED");
    free(st);
    fake_stop(s.sched2);
}

/* One GET /tasks and what it must list. */
typedef struct listing {
    int framework;     /* 1 or 2: framework_id= that framework's id first; 0: none */
    const char *query; /* the rest of the query string */
    const char *want;  /* the ids listed, in order */
} listing_t;

static void expect_listings(const scene_t *s, const listing_t *cases, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        char path[512];
        const listing_t *l = &cases[i];
        if (l->framework > 0)
            snprintf(path, sizeof(path), "/tasks?framework_id=%s%s",
                     l->framework == 1 ? s->fw1 : s->fw2, l->query);
        else
            snprintf(path, sizeof(path), "/tasks?%s", l->query);
        expect_ids(s->c, path, l->want);
    }
}

static void test_tasks_paged_and_filtered(void **state)
{
    scene_t s = {.c = *state};
    make_scene(&s);
    static const listing_t cases[] = {
        {0, "limit=2", "c,b"},
        {0, "limit=1&offset=1", "b"},
        {0, "offset=2", "a"},
        {0, "offset=3", ""},
        {0, "limit=0", ""},
        {0, "order=asc&limit=2&offset=1", "b,c"},
        {2, "", "c"}, /* a completed framework's */
        {1, "&order=asc", "a,b"},
        {2, "&task_id=a", ""},
        {0, "task_id=b", "b"},
        {0, "framework_id=nope", ""},
    };
    expect_listings(&s, cases, sizeof(cases) / sizeof(cases[0]));
    fake_stop(s.sched2);
}

/* Numbers are read as Mesos's numify<int> reads them; what does not parse is not given, and a
 * negative number wraps around as Mesos's size_t arithmetic does. */
static void test_tasks_query_numbers(void **state)
{
    scene_t s = {.c = *state};
    make_scene(&s);
    static const listing_t cases[] = {
        {0, "limit=x", "c,b,a"},      {0, "limit=&offset=1", "b,a"},
        {0, "limit=1x", "c,b,a"},     {0, "limit=99999999999", "c,b,a"},
        {0, "limit=0x1", "c"},        {0, "limit=%2B2", "c,b"},
        {0, "limit=+2", "c,b,a"}, /* '+' is a space, and a leading space is not a number */
        {0, "offset=-0x1", ""},       {0, "limit=-1", "c,b,a"},
        {0, "limit=-1&offset=1", ""}, /* offset + limit wraps to 0, as in Mesos */
        {0, "offset=-1", ""},
    };
    expect_listings(&s, cases, sizeof(cases) / sizeof(cases[0]));
    fake_stop(s.sched2);
}

/* A task whose agent became unreachable is still listed, in its place. */
static void test_tasks_lists_unreachable_tasks(void **state)
{
    scene_t s = {.c = *state};
    make_scene(&s);
    cluster_t *c = s.c;
    c->agent->mute_pings = true;
    for (int i = 0; i < 6; i++)
        cluster_advance(15);
    char *st = task_state(c, "b");
    assert_string_equal(st, "TASK_LOST"); /* framework 1 is not partition-aware */
    free(st);
    expect_ids(c, "/tasks", "c,b,a");
    json_t *root = NULL;
    int status = 0;
    char *body = cluster_http(c->port, "GET", "/master/state", NULL, &status);
    root = json_loads(body, 0, NULL);
    free(body);
    assert_string_equal(cluster_json_str(root, "frameworks.0.unreachable_tasks.0.id"), "b");
    json_decref(root);
    fake_stop(s.sched2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_tasks_sorted_newest_first_with_completed_frameworks,
                                        cluster_setup, cluster_teardown),
        cmocka_unit_test_setup_teardown(test_tasks_paged_and_filtered, cluster_setup,
                                        cluster_teardown),
        cmocka_unit_test_setup_teardown(test_tasks_query_numbers, cluster_setup, cluster_teardown),
        cmocka_unit_test_setup_teardown(test_tasks_lists_unreachable_tasks, cluster_setup,
                                        cluster_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
