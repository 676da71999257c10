/* Tests of plan.c: scale counts, the rolling-restart arithmetic (tables of strategies and
 * states, then simulated rollouts checking at every step that the healthy instances never drop
 * below the minimum and that all instances never exceed the maximum), and deployment plans
 * (start, scale, restart, stop, dependency order, cycles, the JSON of the steps). */
#include <math.h>
#include <stdio.h>

#define TEST_FAIL_ALLOCATIONS
#include "tests/marathon/scheduling/support.h"

#include "frameworks/marathon/plan.h"

/* ---- Scale ---- */

static void test_scale_counts(void **state)
{
    (void)state;
    static const struct {
        uint32_t active, sentenced, scale_to, kill, start;
    } cases[] = {
        {3, 0, 5, 0, 2}, {5, 0, 3, 2, 0}, {3, 1, 3, 1, 1}, {3, 2, 2, 2, 1}, {0, 0, 0, 0, 0},
        {5, 4, 3, 4, 2}, {0, 0, 4, 0, 4}, {4, 0, 0, 4, 0}, {2, 5, 2, 2, 2}, /* more sentenced than
                                                                               there are: all of
                                                                               them */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint32_t kill, start;
        marathon_scale_counts(cases[i].active, cases[i].sentenced, cases[i].scale_to, &kill,
                              &start);
        if (kill != cases[i].kill || start != cases[i].start)
            fail_msg("case %zu: kill %u start %u, want %u %u", i, kill, start, cases[i].kill,
                     cases[i].start);
    }
}

/* ---- Rolling restart: one decision ---- */

/* unreachableStrategy: active until inactiveAfterSeconds, then inactive (replaced), then expunged
 * from expungeAfterSeconds; Marathon's default {0, 0} at once; "disabled" never. */
static void test_unreachable_phase(void **state)
{
    (void)state;
    marathon_app_t app = {.unreachable_inactive_after_seconds = 60,
                          .unreachable_expunge_after_seconds = 300};
    assert_int_equal(marathon_unreachable_phase(&app, 0), MARATHON_UNREACHABLE_ACTIVE);
    assert_int_equal(marathon_unreachable_phase(&app, 59.9), MARATHON_UNREACHABLE_ACTIVE);
    assert_int_equal(marathon_unreachable_phase(&app, 60), MARATHON_UNREACHABLE_INACTIVE);
    assert_int_equal(marathon_unreachable_phase(&app, 299), MARATHON_UNREACHABLE_INACTIVE);
    assert_int_equal(marathon_unreachable_phase(&app, 300), MARATHON_UNREACHABLE_EXPUNGE);
    app.unreachable_inactive_after_seconds = app.unreachable_expunge_after_seconds = 0;
    assert_int_equal(marathon_unreachable_phase(&app, 0), MARATHON_UNREACHABLE_EXPUNGE);
    app.unreachable_disabled = true;
    assert_int_equal(marathon_unreachable_phase(&app, 1e9), MARATHON_UNREACHABLE_ACTIVE);
}

static void test_restart_table(void **state)
{
    (void)state;
    static const struct {
        uint32_t target;
        double mhc, moc;
        marathon_rollout_counts_t now;
        uint32_t min, max, kill_unhealthy, kill_healthy, start;
    } cases[] = {
        /* 1.0 / 0.0: one over capacity so that it can start. */
        {3, 1, 0, {3, 3, 0, 0, 0}, 3, 4, 0, 0, 1},
        {3, 1, 0, {3, 3, 0, 1, 1}, 3, 4, 0, 1, 0},
        {3, 1, 0, {2, 2, 1, 1, 1}, 3, 4, 0, 0, 0},
        {3, 1, 0, {2, 2, 0, 1, 1}, 3, 4, 0, 0, 1},
        {1, 1, 0, {1, 1, 0, 0, 0}, 1, 2, 0, 0, 1},
        /* The docs' example: 3 instances, 0.7 -> ceil(2.1) = 3 stay until new ones are healthy. */
        {3, 0.7, 1, {3, 3, 0, 0, 0}, 3, 6, 0, 0, 3},
        {10, 0.5, 0.2, {10, 10, 0, 0, 0}, 5, 12, 0, 5, 2},
        {10, 0.5, 0.2, {5, 5, 5, 2, 0}, 5, 12, 0, 0, 0},
        {4, 0, 0, {4, 4, 0, 0, 0}, 0, 4, 0, 4, 0},
        {3, 0.34, 0.1, {3, 3, 0, 0, 0}, 2, 3, 0, 1, 0}, /* 3 × 1.1 = 3.3000000000000003 */
        /* Unhealthy old instances go at once; no extra capacity then (not all healthy). */
        {3, 1, 0, {3, 2, 0, 0, 0}, 3, 3, 1, 0, 0},
        {3, 1, 0, {2, 2, 0, 0, 0}, 3, 3, 0, 0, 1},
        /* A restart that also scales down. */
        {2, 1, 0, {5, 5, 0, 0, 0}, 2, 3, 0, 3, 0},
        {0, 1, 1, {3, 3, 0, 0, 0}, 0, 1, 0, 3, 0},
        /* Out-of-range strategies are clamped to [0, 1]. */
        {4, 2, -1, {4, 4, 0, 0, 0}, 4, 5, 0, 0, 1},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        marathon_restart_step_t s;
        marathon_restart_compute(cases[i].target, cases[i].mhc, cases[i].moc, &cases[i].now, &s);
        if (s.min_healthy != cases[i].min || s.max_capacity != cases[i].max ||
            s.kill_unhealthy != cases[i].kill_unhealthy ||
            s.kill_healthy != cases[i].kill_healthy || s.start != cases[i].start ||
            s.kill != s.kill_unhealthy + s.kill_healthy)
            fail_msg("case %zu: min %u max %u kill %u+%u start %u", i, s.min_healthy,
                     s.max_capacity, s.kill_unhealthy, s.kill_healthy, s.start);
    }
}

/* ---- Rolling restart: simulated rollouts ---- */

/* The world of a simulated restart. */
typedef struct world {
    uint32_t old_healthy, old_unhealthy, dying, new_starting, new_healthy;
} world_t;

static marathon_rollout_counts_t counts_of(const world_t *w)
{
    return (marathon_rollout_counts_t){w->old_healthy + w->old_unhealthy, w->old_healthy, w->dying,
                                       w->new_starting + w->new_healthy, w->new_healthy};
}

static uint32_t healthy_of(const world_t *w)
{
    return w->old_healthy + w->new_healthy;
}

static uint32_t all_of(const world_t *w)
{
    return w->old_healthy + w->old_unhealthy + w->dying + w->new_starting + w->new_healthy;
}

typedef struct rollout {
    uint32_t target;
    double mhc, moc;
    world_t start;
    int order; /* which event comes first when both can: 0 new healthy, 1 old gone */
} rollout_t;

static void fail_rollout(const rollout_t *r, int round, const char *what)
{
    fail_msg("target %u, %.2f/%.2f, start old %u+%u new %u+%u, order %d, round %d: %s", r->target,
             r->mhc, r->moc, r->start.old_healthy, r->start.old_unhealthy, r->start.new_starting,
             r->start.new_healthy, r->order, round, what);
}

/* One step of the deployment: apply what marathon_restart_compute says, check the invariants. */
static void rollout_apply(const rollout_t *r, world_t *w, uint32_t min_floor, uint32_t max_ceiling,
                          int round)
{
    marathon_rollout_counts_t c = counts_of(w);
    marathon_restart_step_t s;
    marathon_restart_compute(r->target, r->mhc, r->moc, &c, &s);
    if (s.kill_unhealthy > w->old_unhealthy || s.kill_healthy > w->old_healthy)
        fail_rollout(r, round, "kills more than there are");
    w->old_unhealthy -= s.kill_unhealthy;
    w->old_healthy -= s.kill_healthy;
    w->dying += s.kill;
    w->new_starting += s.start;
    if (healthy_of(w) < min_floor)
        fail_rollout(r, round, "below the minimum of healthy instances");
    if (all_of(w) > max_ceiling)
        fail_rollout(r, round, "above the maximum of instances");
    c = counts_of(w); /* asking again changes nothing */
    marathon_restart_compute(r->target, r->mhc, r->moc, &c, &s);
    if (s.kill != 0 || s.start != 0)
        fail_rollout(r, round, "a second decision without a change");
}

/* One event of the world: a dying old instance ends, or a new one turns healthy. */
static bool rollout_event(const rollout_t *r, world_t *w, int round)
{
    bool dying_first = (round + r->order) % 2 == 1;
    if (w->dying > 0 && (dying_first || w->new_starting == 0)) {
        w->dying--;
        return true;
    }
    if (w->new_starting > 0) {
        w->new_starting--;
        w->new_healthy++;
        return true;
    }
    if (w->dying > 0) {
        w->dying--;
        return true;
    }
    return false;
}

static void rollout_run(const rollout_t *r)
{
    world_t w = r->start;
    uint32_t min_healthy = (uint32_t)ceil(r->target * r->mhc);
    uint32_t max = (uint32_t)(r->target * (1 + r->moc));
    uint32_t max_ceiling = max + (min_healthy == max ? 1 : 0);
    uint32_t min_floor = healthy_of(&w) < min_healthy ? healthy_of(&w) : min_healthy;
    if (all_of(&w) > max_ceiling)
        max_ceiling = all_of(&w); /* more than the maximum to begin with: it only shrinks */
    for (int round = 0; round < 200; round++) {
        rollout_apply(r, &w, min_floor, max_ceiling, round);
        marathon_rollout_counts_t c = counts_of(&w);
        if (marathon_restart_done(r->target, &c)) {
            assert_int_equal(all_of(&w), r->target);
            return;
        }
        if (!rollout_event(r, &w, round))
            fail_rollout(r, round, "stuck: nothing left to happen");
    }
    fail_rollout(r, 200, "not done after 200 rounds");
}

static void test_restart_rollouts(void **state)
{
    (void)state;
    static const double strategies[][2] = {
        {1, 0}, {1, 1}, {0.5, 0}, {0.5, 0.5}, {0, 0}, {0, 1}, {0.7, 0.3}, {0.34, 0.1}, {0.9, 0.05},
    };
    static const uint32_t targets[] = {1, 2, 3, 5, 10};
    size_t runs = 0;
    for (size_t s = 0; s < sizeof(strategies) / sizeof(strategies[0]); s++) {
        for (size_t t = 0; t < sizeof(targets) / sizeof(targets[0]); t++) {
            uint32_t n = targets[t];
            const world_t starts[] = {
                {n, 0, 0, 0, 0},                 /* all old healthy */
                {n - 1, 1, 0, 0, 0},             /* one old unhealthy */
                {n + 2, 0, 0, 0, 0},             /* more old than the target */
                {n > 1 ? n - 1 : 0, 0, 0, 0, 0}, /* one old missing */
                {n > 1 ? n - 1 : 0, 0, 0, 0, 1}, /* resumed: one new already healthy */
                {n, 0, 1, 1, 0},                 /* resumed: an old dying, a new starting */
            };
            for (size_t k = 0; k < sizeof(starts) / sizeof(starts[0]); k++) {
                for (int order = 0; order < 2; order++) {
                    rollout_t r = {n, strategies[s][0], strategies[s][1], starts[k], order};
                    rollout_run(&r);
                    runs++;
                }
            }
        }
    }
    assert_int_equal(runs, 9 * 5 * 6 * 2);
}

static void test_restart_done(void **state)
{
    (void)state;
    marathon_rollout_counts_t c = {0, 0, 0, 3, 3};
    assert_true(marathon_restart_done(3, &c));
    c.old_dying = 1;
    assert_false(marathon_restart_done(3, &c));
    c = (marathon_rollout_counts_t){1, 1, 0, 3, 3};
    assert_false(marathon_restart_done(3, &c));
    c = (marathon_rollout_counts_t){0, 0, 0, 3, 2};
    assert_false(marathon_restart_done(3, &c));
    c = (marathon_rollout_counts_t){0, 0, 0, 0, 0};
    assert_true(marathon_restart_done(0, &c));
}

/* ---- Deployment plans ---- */

/* A plan as text: steps separated by " | ", actions by ", ": "Scale /a 2 | Restart /b". */
static void plan_text(const marathon_plan_t *plan, char *out, size_t len)
{
    size_t o = 0;
    out[0] = '\0';
    for (size_t i = 0; i < plan->step_count; i++) {
        assert_true(plan->steps[i].action_count > 0);
        for (size_t j = 0; j < plan->steps[i].action_count; j++) {
            const marathon_plan_action_t *a = &plan->steps[i].actions[j];
            o += (size_t)snprintf(out + o, len - o, "%s%s %s",
                                  j > 0   ? ", "
                                  : i > 0 ? " | "
                                          : "",
                                  marathon_plan_action_name(a->type), a->app->id);
            if (a->type == MARATHON_PLAN_SCALE || a->type == MARATHON_PLAN_START)
                o += (size_t)snprintf(out + o, len - o, " %u", a->scale_to);
        }
    }
}

static void assert_plan(const marathon_app_t *const *from, size_t nf,
                        const marathon_app_t *const *to, size_t nt, const char *want)
{
    marathon_plan_t plan;
    char err[128], text[1024];
    actor_err_t rc = marathon_plan_build(from, nf, to, nt, &plan, err, sizeof(err));
    if (rc != ACTOR_OK)
        fail_msg("plan: %s (%s)", actor_strerror(rc), err);
    plan_text(&plan, text, sizeof(text));
    assert_string_equal(text, want);
    marathon_plan_fini(&plan);
}

static void test_plan_single_app(void **state)
{
    (void)state;
    test_app_t a, scaled, changed, restarted, same;
    test_app_init(&a, "/a");
    a.app.cmd = (char *)"sleep 100";
    a.app.instances = 2;
    scaled = a;
    scaled.app.instances = 5;
    scaled.app.version = scaled.app.last_scaling_at = (char *)"2026-01-02T03:05:00.000Z";
    changed = a;
    changed.app.cmd = (char *)"sleep 200";
    changed.app.version = changed.app.last_config_change_at = (char *)"2026-01-02T03:05:00.000Z";
    restarted = a;
    restarted.app.version = restarted.app.last_config_change_at =
        (char *)"2026-01-02T03:06:00.000Z";
    same = a; /* the copies share a's port definitions: equal */
    const marathon_app_t *before[] = {&a.app}, *after_scale[] = {&scaled.app},
                         *after_change[] = {&changed.app}, *after_restart[] = {&restarted.app},
                         *after_same[] = {&same.app};
    assert_plan(NULL, 0, before, 1, "StartApplication /a 0 | ScaleApplication /a 2");
    assert_plan(before, 1, NULL, 0, "StopApplication /a");
    assert_plan(before, 1, after_scale, 1, "ScaleApplication /a 5");
    assert_plan(before, 1, after_change, 1, "RestartApplication /a");
    assert_plan(before, 1, after_restart, 1, "RestartApplication /a");
    assert_plan(before, 1, after_same, 1, "");
    /* A config change with a new count is a restart to the new count. */
    changed.app.instances = 7;
    assert_plan(before, 1, after_change, 1, "RestartApplication /a");
}

static void test_plan_dependencies(void **state)
{
    (void)state;
    test_app_t db, api, web, cache, gone, queue, cache2;
    test_app_init(&db, "/backend/db");
    test_app_init(&queue, "/backend/queue");
    test_app_init(&api, "/api");
    test_app_init(&web, "/web");
    test_app_init(&cache, "/cache");
    test_app_init(&gone, "/gone");
    char *api_deps[] = {(char *)"/backend"}; /* a group: every app under it */
    char *web_deps[] = {(char *)"/api", (char *)"/cache", (char *)"/unknown"};
    char *queue_deps[] = {(char *)"/backend/db"};
    api.app.dependencies = api_deps;
    api.app.dependency_count = 1;
    web.app.dependencies = web_deps;
    web.app.dependency_count = 3;
    queue.app.dependencies = queue_deps;
    queue.app.dependency_count = 1;
    const marathon_app_t *from[] = {&gone.app, &cache.app};
    const marathon_app_t *to[] = {&web.app, &api.app, &cache.app, &queue.app, &db.app};
    assert_plan(from, 2, to, 5,
                "StopApplication /gone | StartApplication /web 0, StartApplication /api 0, "
                "StartApplication /backend/queue 0, StartApplication /backend/db 0 | "
                "ScaleApplication /backend/db 1 | ScaleApplication /backend/queue 1 | "
                "ScaleApplication /api 1 | ScaleApplication /web 1");
    /* A changed app without dependencies joins the first layer. */
    cache2 = cache;
    cache2.app.cmd = (char *)"new";
    to[2] = &cache2.app;
    assert_plan(from, 2, to, 5,
                "StopApplication /gone | StartApplication /web 0, StartApplication /api 0, "
                "StartApplication /backend/queue 0, StartApplication /backend/db 0 | "
                "RestartApplication /cache, ScaleApplication /backend/db 1 | "
                "ScaleApplication /backend/queue 1 | ScaleApplication /api 1 | "
                "ScaleApplication /web 1");
    /* Only the changed apps have actions, still in dependency order. */
    const marathon_app_t *now[] = {&web.app, &api.app, &cache.app, &queue.app, &db.app};
    assert_plan(now, 5, to, 5, "RestartApplication /cache");
}

static void test_plan_cycles(void **state)
{
    (void)state;
    test_app_t a, b, c;
    test_app_init(&a, "/a");
    test_app_init(&b, "/b");
    test_app_init(&c, "/g/c");
    char *a_deps[] = {(char *)"/b"}, *b_deps[] = {(char *)"/a"}, *c_deps[] = {(char *)"/g"};
    a.app.dependencies = a_deps;
    a.app.dependency_count = 1;
    b.app.dependencies = b_deps;
    b.app.dependency_count = 1;
    const marathon_app_t *to[] = {&a.app, &b.app};
    marathon_plan_t plan;
    char err[128];
    assert_int_equal(marathon_plan_build(NULL, 0, to, 2, &plan, err, sizeof(err)), ACTOR_EINVAL);
    assert_string_equal(err, "Dependency graph has cyclic dependencies.");
    assert_int_equal(plan.step_count, 0);
    /* An app depending on its own group depends on itself. */
    c.app.dependencies = c_deps;
    c.app.dependency_count = 1;
    const marathon_app_t *self[] = {&c.app};
    assert_int_equal(marathon_plan_build(NULL, 0, self, 1, &plan, NULL, 0), ACTOR_EINVAL);
    /* A chain is fine. */
    b.app.dependency_count = 0;
    assert_plan(NULL, 0, to, 2,
                "StartApplication /a 0, StartApplication /b 0 | ScaleApplication /b 1 | "
                "ScaleApplication /a 1");
}

static void test_plan_json(void **state)
{
    (void)state;
    test_app_t a;
    test_app_init(&a, "/a");
    const marathon_app_t *to[] = {&a.app};
    marathon_plan_t plan;
    assert_int_equal(marathon_plan_build(NULL, 0, to, 1, &plan, NULL, 0), ACTOR_OK);
    json_t *steps = marathon_plan_steps_json(&plan);
    char *text = json_dumps(steps, JSON_COMPACT);
    assert_string_equal(text, "[{\"actions\":[{\"action\":\"StartApplication\",\"app\":\"/a\"}]},"
                              "{\"actions\":[{\"action\":\"ScaleApplication\",\"app\":\"/a\"}]}]");
    free(text);
    json_decref(steps);
    marathon_plan_fini(&plan);
    assert_string_equal(marathon_plan_action_name(MARATHON_PLAN_STOP), "StopApplication");
    assert_string_equal(marathon_plan_action_name(MARATHON_PLAN_RESTART), "RestartApplication");
    marathon_plan_t empty;
    assert_int_equal(marathon_plan_build(NULL, 0, NULL, 0, &empty, NULL, 0), ACTOR_OK);
    assert_int_equal(empty.step_count, 0);
    steps = marathon_plan_steps_json(&empty);
    assert_int_equal(json_array_size(steps), 0);
    json_decref(steps);
    marathon_plan_fini(&empty);
}

/* A plan with dependencies and its JSON under failing allocations: ENOMEM (or NULL), or the
 * same plan as with memory to spare. */
static void test_out_of_memory(void **state)
{
    (void)state;
    test_app_t a, b, c;
    test_app_init(&a, "/a");
    test_app_init(&b, "/b");
    test_app_init(&c, "/c");
    char *a_deps[] = {(char *)"/b"};
    a.app.dependencies = a_deps;
    a.app.dependency_count = 1;
    const marathon_app_t *from[] = {&c.app}, *to[] = {&a.app, &b.app};
    marathon_plan_t plan;
    assert_int_equal(marathon_plan_build(from, 1, to, 2, &plan, NULL, 0), ACTOR_OK);
    json_t *steps = marathon_plan_steps_json(&plan);
    char *want = json_dumps(steps, JSON_COMPACT);
    json_decref(steps);
    marathon_plan_fini(&plan);
    long n;
    char *got = NULL;
    for (n = 0; n < 10000 && got == NULL; n++) {
        test_allocations_left = n;
        actor_err_t rc = marathon_plan_build(from, 1, to, 2, &plan, NULL, 0);
        steps = rc == ACTOR_OK ? marathon_plan_steps_json(&plan) : NULL;
        test_allocations_left = -1;
        assert_true(rc == ACTOR_OK || rc == ACTOR_ENOMEM);
        if (steps != NULL)
            got = json_dumps(steps, JSON_COMPACT);
        json_decref(steps);
        marathon_plan_fini(&plan);
    }
    assert_true(n > 10);
    assert_string_equal(got, want);
    free(got);
    free(want);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scale_counts),     cmocka_unit_test(test_restart_table),
        cmocka_unit_test(test_restart_rollouts), cmocka_unit_test(test_restart_done),
        cmocka_unit_test(test_plan_single_app),  cmocka_unit_test(test_plan_dependencies),
        cmocka_unit_test(test_plan_cycles),      cmocka_unit_test(test_plan_json),
        cmocka_unit_test(test_out_of_memory),    cmocka_unit_test(test_unreachable_phase),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
