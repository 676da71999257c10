/* A randomized test of the allocator core against a plain model. Thousands of random operations
 * (cycles, whole and partial declines with and without filters, suppress and revive,
 * deactivation and activation of frameworks and agents, removal and re-adding of both, role
 * updates) with a fixed seed; after each, the core's figures must match the model's: the
 * cluster totals, what is allocated, each framework's dominant share, every grant inside what
 * was free on its agent, reserved resources only to their role or its descendants, no grant to
 * an inactive or suppressed framework, no two grants of one framework apart, and no grant that a
 * live filter of its framework, agent and role contains (Mesos's RefusedOfferFilter; the model
 * knows a filter's role when the framework held the agent for one role only, and clears filters
 * as Mesos does: revive of their role, deactivation, removal, the role dropped).
 * ALLOCATOR_MODEL_SEED=N runs another sequence (the default one is fixed). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "helpers.h"

#define AGENTS     12
#define FRAMEWORKS 6
#define STEPS      4000
#define ROLES      4
#define FILTERS    512

static const char *const agent_text[3] = {
    "cpus:4;mem:1024;disk:100;ports:[31000-31010]",
    "cpus:2;mem:512;cpus(a):2;mem(a):256",
    "cpus:1;mem:2048;cpus(a/b):1;mem(c):64",
};
static const char *const role_names[4] = {"a", "a/b", "c", "*"};

typedef struct model_agent {
    char id[16];
    bool present, active;
    resources_t total;
    resources_t held[FRAMEWORKS];           /* per framework (all roles) */
    resources_t by_role[FRAMEWORKS][ROLES]; /* the same, per role of the grants */
    bool roles_unknown[FRAMEWORKS];         /* a recover spanned roles: by_role is not kept */
    double unknown_until[FRAMEWORKS];       /* filters the model cannot place may live until then */
} model_agent_t;

/* A filter the model knows: framework f refused res on agent i for role r until `expires`. */
typedef struct model_filter {
    bool used;
    int f, i, r;
    double expires;
    resources_t res;
} model_filter_t;

typedef struct model_framework {
    char id[16];
    bool present, active;
    int role[2]; /* indexes in role_names; role[1] < 0 for one role */
    bool suppressed[2];
} model_framework_t;

typedef struct model {
    allocator_t *a;
    model_agent_t agents[AGENTS];
    model_framework_t fws[FRAMEWORKS];
    model_filter_t filters[FILTERS];
    uint64_t rng;
    double now;
    size_t grants, declines, partial; /* how much was exercised */
    size_t filters_set;               /* filters the model knew */
    size_t filters_passed;  /* grants made beside a live filter of theirs (more than refused) */
    size_t filters_blocked; /* takers a known filter kept from what an agent had left */
} model_t;

static uint64_t rnd(model_t *m, uint64_t n)
{
    m->rng ^= m->rng << 13;
    m->rng ^= m->rng >> 7;
    m->rng ^= m->rng << 17;
    return m->rng % n;
}

static int role_index(const char *role)
{
    for (int r = 0; r < ROLES; r++)
        if (strcmp(role_names[r], role) == 0)
            return r;
    fail_msg("unknown role %s", role);
    return -1;
}

/* Forgets the model's filters of framework f (< 0: any), agent i (< 0: any), role r (< 0:
 * any). */
static void filters_clear(model_t *m, int f, int i, int r)
{
    for (int a = 0; a < AGENTS && r < 0; a++)
        for (int g = 0; g < FRAMEWORKS; g++)
            if ((f < 0 || g == f) && (i < 0 || a == i))
                m->agents[a].unknown_until[g] = 0;
    for (int k = 0; k < FILTERS; k++) {
        model_filter_t *x = &m->filters[k];
        if (x->used && (f < 0 || x->f == f) && (i < 0 || x->i == i) && (r < 0 || x->r == r)) {
            resources_fini(&x->res);
            x->used = false;
        }
    }
}

static void filter_note(model_t *m, int f, int i, int r, const resources_t *res, double expires)
{
    for (int k = 0; k < FILTERS; k++) {
        model_filter_t *x = &m->filters[k];
        if (x->used && x->expires <= m->now) {
            resources_fini(&x->res);
            x->used = false;
        }
        if (!x->used) {
            *x = (model_filter_t){.used = true, .f = f, .i = i, .r = r, .expires = expires};
            assert_int_equal(resources_copy(&x->res, res), ACTOR_OK);
            m->filters_set++;
            return;
        }
    }
    fail_msg("the model holds more than %d filters", FILTERS);
}

/* No live filter the model knows contains a grant. */
static void check_filters(model_t *m, int f, int i, int r, const resources_t *granted)
{
    for (int k = 0; k < FILTERS; k++) {
        const model_filter_t *x = &m->filters[k];
        if (!x->used || x->f != f || x->i != i || x->r != r || x->expires <= m->now)
            continue;
        m->filters_passed++;
        assert_false(resources_contains(&x->res, granted));
    }
}

static void held_clear(model_agent_t *ag, int f)
{
    resources_fini(&ag->held[f]);
    for (int r = 0; r < ROLES; r++)
        resources_fini(&ag->by_role[f][r]);
    ag->roles_unknown[f] = false;
}

static void model_add_agent(model_t *m, int i)
{
    model_agent_t *ag = &m->agents[i];
    snprintf(ag->id, sizeof(ag->id), "agent%d", i);
    ag->total = res(agent_text[i % 3]);
    assert_int_equal(allocator_add_agent(m->a, ag->id, &ag->total, NULL, 0), ACTOR_OK);
    ag->present = ag->active = true;
}

static void model_remove_agent(model_t *m, int i)
{
    model_agent_t *ag = &m->agents[i];
    assert_int_equal(allocator_remove_agent(m->a, ag->id), ACTOR_OK);
    resources_fini(&ag->total);
    for (int f = 0; f < FRAMEWORKS; f++)
        held_clear(ag, f);
    filters_clear(m, -1, i, -1);
    ag->present = false;
}

static void model_add_framework(model_t *m, int f)
{
    model_framework_t *fw = &m->fws[f];
    snprintf(fw->id, sizeof(fw->id), "fw%d", f);
    fw->role[0] = (int)rnd(m, 4);
    fw->role[1] = f % 2 ? (fw->role[0] + 1) % 4 : -1;
    const char *roles[2] = {role_names[fw->role[0]],
                            fw->role[1] >= 0 ? role_names[fw->role[1]] : NULL};
    assert_int_equal(
        allocator_add_framework(m->a, fw->id, roles, fw->role[1] >= 0 ? 2 : 1, NULL, 0, NULL, 0),
        ACTOR_OK);
    fw->present = fw->active = true;
    fw->suppressed[0] = fw->suppressed[1] = false;
}

static void model_remove_framework(model_t *m, int f)
{
    assert_int_equal(allocator_remove_framework(m->a, m->fws[f].id), ACTOR_OK);
    for (int i = 0; i < AGENTS; i++)
        held_clear(&m->agents[i], f);
    filters_clear(m, f, -1, -1);
    m->fws[f].present = false;
}

static int framework_index(const char *id)
{
    return atoi(id + 2);
}

static int agent_index(const char *id)
{
    return atoi(id + 5);
}

/* What is free on ag in the model: its total minus everything held. */
static resources_t model_free(const model_agent_t *ag)
{
    resources_t free_res = {0};
    assert_int_equal(resources_copy(&free_res, &ag->total), ACTOR_OK);
    for (int f = 0; f < FRAMEWORKS; f++)
        assert_int_equal(resources_subtract(&free_res, &ag->held[f]), ACTOR_OK);
    return free_res;
}

static bool role_may_use(const char *owner, const char *role)
{
    size_t n = strlen(owner);
    return strcmp(owner, "*") == 0 ||
           (strncmp(owner, role, n) == 0 && (role[n] == '\0' || role[n] == '/'));
}

static int subscribed_index(const model_framework_t *fw, const char *role)
{
    for (int k = 0; k < 2; k++)
        if (fw->role[k] >= 0 && strcmp(role_names[fw->role[k]], role) == 0)
            return k;
    return -1;
}

static void check_grant(model_t *m, const allocator_grant_t *g)
{
    model_framework_t *fw = &m->fws[framework_index(g->framework_id)];
    model_agent_t *ag = &m->agents[agent_index(g->agent_id)];
    assert_true(fw->present && fw->active && ag->present && ag->active);
    int k = subscribed_index(fw, g->role);
    assert_true(k >= 0);
    assert_false(fw->suppressed[k]);
    for (size_t i = 0; i < g->resources.count; i++)
        assert_true(role_may_use(g->resources.entries[i].role, g->role));
    resources_t free_res = model_free(ag);
    assert_true(resources_contains(&free_res, &g->resources));
    resources_fini(&free_res);
    int f = framework_index(g->framework_id), r = role_index(g->role);
    check_filters(m, f, agent_index(g->agent_id), r, &g->resources);
    assert_int_equal(resources_add(&ag->held[f], &g->resources), ACTOR_OK);
    assert_int_equal(resources_add(&ag->by_role[f][r], &g->resources), ACTOR_OK);
}

/* What role r may use of the model's free resources on ag, and whether it passes Mesos's
 * min-allocatable check (cpus:0.01 or mem:32). */
static bool usable_allocatable(const model_agent_t *ag, const char *r, resources_t *usable)
{
    resources_t free_res = model_free(ag);
    resources_init(usable);
    for (size_t k = 0; k < free_res.count; k++) {
        if (role_may_use(free_res.entries[k].role, r)) {
            resources_t one = {&free_res.entries[k], 1};
            assert_int_equal(resources_add(usable, &one), ACTOR_OK);
        }
    }
    resources_fini(&free_res);
    return resources_scalar(usable, "cpus") >= 0.01 || resources_scalar(usable, "mem") >= 32;
}

/* Whether a live filter the model knows holds `offer` for (f, i, r). */
static bool model_filtered(model_t *m, int f, int i, int r, const resources_t *offer)
{
    if (m->agents[i].unknown_until[f] > m->now)
        return true; /* maybe: a filter the model could not place */
    for (int k = 0; k < FILTERS; k++) {
        const model_filter_t *x = &m->filters[k];
        if (x->used && x->f == f && x->i == i && x->r == r && x->expires > m->now &&
            resources_contains(&x->res, offer)) {
            m->filters_blocked++;
            return true;
        }
    }
    return false;
}

/* After a cycle, no active agent keeps resources that an active, unsuppressed framework could
 * take for one of its roles without a filter holding them: a filter that blocks too much, or an
 * agent left asleep, would leave some. */
static void check_no_taker_left(model_t *m)
{
    for (int i = 0; i < AGENTS; i++) {
        const model_agent_t *ag = &m->agents[i];
        for (int f = 0; f < FRAMEWORKS && ag->present && ag->active; f++) {
            const model_framework_t *fw = &m->fws[f];
            for (int k = 0; k < 2 && fw->present && fw->active; k++) {
                if (fw->role[k] < 0 || fw->suppressed[k])
                    continue;
                resources_t usable;
                bool takeable = usable_allocatable(ag, role_names[fw->role[k]], &usable) &&
                                !model_filtered(m, f, i, fw->role[k], &usable);
                resources_fini(&usable);
                if (takeable)
                    fail_msg("%s left resources that %s could take for role %s", ag->id, fw->id,
                             role_names[fw->role[k]]);
            }
        }
    }
}

static void step_cycle(model_t *m)
{
    allocator_grants_t g = cycle(m->a, m->now);
    m->grants += g.count;
    for (size_t i = 0; i < g.count; i++) {
        check_grant(m, &g.items[i]);
        if (i > 0 && strcmp(g.items[i].framework_id, g.items[i - 1].framework_id) != 0)
            for (size_t j = 0; j < i; j++)
                assert_string_not_equal(g.items[j].framework_id, g.items[i].framework_id);
    }
    allocator_grants_free(&g);
    check_no_taker_left(m);
}

/* The model's side of a recover: held shrinks; when the framework held the agent for one role
 * only, the role of a filter is known and the model notes it. */
static void model_recovered(model_t *m, int i, int f, const resources_t *part, double refuse)
{
    model_agent_t *ag = &m->agents[i];
    assert_int_equal(resources_subtract(&ag->held[f], part), ACTOR_OK);
    int held_roles = 0, r = -1;
    for (int k = 0; k < ROLES; k++) {
        if (!resources_empty(&ag->by_role[f][k])) {
            held_roles++;
            r = k;
        }
    }
    if (held_roles != 1 || ag->roles_unknown[f]) {
        ag->roles_unknown[f] = true; /* the core splits it over its records its own way */
        if (refuse > 0 && m->now + refuse > ag->unknown_until[f])
            ag->unknown_until[f] = m->now + refuse;
    } else {
        assert_int_equal(resources_subtract(&ag->by_role[f][r], part), ACTOR_OK);
        if (refuse > 0 && subscribed_index(&m->fws[f], role_names[r]) >= 0)
            filter_note(m, f, i, r, part, m->now + refuse);
    }
    if (resources_empty(&ag->held[f]))
        held_clear(ag, f);
}

/* Gives back all of what a random framework holds on a random agent, or its cpus only. */
static void step_decline(model_t *m)
{
    int i = (int)rnd(m, AGENTS), f = (int)rnd(m, FRAMEWORKS);
    model_agent_t *ag = &m->agents[i];
    for (int k = 0; k < FRAMEWORKS && ag->present && resources_empty(&ag->held[f]); k++)
        f = (f + 1) % FRAMEWORKS; /* a framework that holds something there */
    if (!ag->present || !m->fws[f].present || resources_empty(&ag->held[f]))
        return;
    resources_t part = {0};
    if (rnd(m, 3) == 0) {
        m->partial++;
        for (size_t k = 0; k < ag->held[f].count; k++) {
            resources_entry_t *e = &ag->held[f].entries[k];
            if (strcmp(e->name, "cpus") == 0) {
                resources_t one = {e, 1}; /* a view of one entry */
                assert_int_equal(resources_add(&part, &one), ACTOR_OK);
            }
        }
    } else {
        assert_int_equal(resources_copy(&part, &ag->held[f]), ACTOR_OK);
    }
    double refuse = rnd(m, 2) ? (double)rnd(m, 5) : 0;
    assert_int_equal(allocator_recover(m->a, m->fws[f].id, ag->id, &part, refuse, m->now),
                     ACTOR_OK);
    model_recovered(m, i, f, &part, refuse);
    m->declines++;
    /* More than it holds now is refused and changes nothing. */
    resources_t big = res("cpus:1000");
    assert_int_equal(allocator_recover(m->a, m->fws[f].id, ag->id, &big, 0, m->now), ACTOR_EINVAL);
    resources_fini(&big);
    resources_fini(&part);
}

static void step_framework(model_t *m)
{
    int f = (int)rnd(m, FRAMEWORKS);
    model_framework_t *fw = &m->fws[f];
    if (!fw->present) {
        model_add_framework(m, f);
        return;
    }
    switch (rnd(m, 5)) {
    case 0:
        fw->active = !fw->active;
        assert_int_equal(fw->active ? allocator_activate_framework(m->a, fw->id)
                                    : allocator_deactivate_framework(m->a, fw->id),
                         ACTOR_OK);
        if (!fw->active)
            filters_clear(m, f, -1, -1);
        break;
    case 1: {
        int k = fw->role[1] >= 0 ? (int)rnd(m, 2) : 0;
        fw->suppressed[k] = !fw->suppressed[k];
        const char *role = role_names[fw->role[k]];
        assert_int_equal(fw->suppressed[k] ? allocator_suppress(m->a, fw->id, role)
                                           : allocator_revive(m->a, fw->id, role),
                         ACTOR_OK);
        if (!fw->suppressed[k])
            filters_clear(m, f, -1, fw->role[k]);
        break;
    }
    case 2:
        fw->suppressed[0] = fw->suppressed[1] = false;
        assert_int_equal(allocator_revive(m->a, fw->id, NULL), ACTOR_OK);
        filters_clear(m, f, -1, -1);
        break;
    case 3: {
        /* One role now: what it holds for the old ones stays, under their roles. */
        int r = (int)rnd(m, 4);
        const char *roles[] = {role_names[r]};
        assert_int_equal(allocator_update_framework(m->a, fw->id, roles, 1), ACTOR_OK);
        bool kept = fw->role[0] == r ? fw->suppressed[0] : fw->role[1] == r && fw->suppressed[1];
        for (int k = 0; k < ROLES; k++)
            if (k != r)
                filters_clear(m, f, -1, k); /* the roles dropped lose their filters */
        fw->role[0] = r;
        fw->role[1] = -1;
        fw->suppressed[0] = kept;
        break;
    }
    default:
        model_remove_framework(m, f);
    }
}

static void step_agent(model_t *m)
{
    int i = (int)rnd(m, AGENTS);
    model_agent_t *ag = &m->agents[i];
    if (!ag->present) {
        model_add_agent(m, i);
    } else if (rnd(m, 3) == 0) {
        model_remove_agent(m, i);
    } else {
        ag->active = !ag->active;
        assert_int_equal(ag->active ? allocator_activate_agent(m->a, ag->id)
                                    : allocator_deactivate_agent(m->a, ag->id),
                         ACTOR_OK);
    }
}

static void check_figures(model_t *m)
{
    const char *names[] = {"cpus", "mem"};
    double total[2] = {0}, allocated[2] = {0};
    double held[FRAMEWORKS][2] = {{0}};
    for (int i = 0; i < AGENTS; i++) {
        model_agent_t *ag = &m->agents[i];
        if (!ag->present)
            continue;
        for (int n = 0; n < 2; n++) {
            for (int f = 0; f < FRAMEWORKS; f++) {
                double v = resources_scalar(&ag->held[f], names[n]);
                held[f][n] += v;
                allocated[n] += ag->active ? v : 0;
            }
            total[n] += ag->active ? resources_scalar(&ag->total, names[n]) : 0;
        }
    }
    for (int n = 0; n < 2; n++) {
        assert_true(fabs(allocator_total_scalar(m->a, names[n]) - total[n]) < 1e-9);
        assert_true(fabs(allocator_allocated_scalar(m->a, names[n]) - allocated[n]) < 1e-9);
    }
    for (int f = 0; f < FRAMEWORKS; f++) {
        if (!m->fws[f].present)
            continue;
        double share = 0; /* disk is in the totals too: count it */
        double disk_total = 0, disk_held = 0;
        for (int i = 0; i < AGENTS; i++) {
            model_agent_t *ag = &m->agents[i];
            if (ag->present && ag->active)
                disk_total += resources_scalar(&ag->total, "disk");
            if (ag->present)
                disk_held += resources_scalar(&ag->held[f], "disk");
        }
        for (int n = 0; n < 2; n++)
            if (total[n] > 0 && held[f][n] / total[n] > share)
                share = held[f][n] / total[n];
        if (disk_total > 0 && disk_held / disk_total > share)
            share = disk_held / disk_total;
        assert_true(fabs(allocator_framework_share(m->a, m->fws[f].id) - share) < 1e-9);
    }
}

static void test_random_operations(void **state)
{
    model_t *m = calloc(1, sizeof(*m));
    m->a = *state;
    const char *seed = getenv("ALLOCATOR_MODEL_SEED");
    m->rng =
        seed != NULL ? strtoull(seed, NULL, 10) * 2654435761u + 1 : UINT64_C(88172645463325252);
    for (int i = 0; i < AGENTS; i++)
        model_add_agent(m, i);
    for (int f = 0; f < FRAMEWORKS; f++)
        model_add_framework(m, f);
    for (int step = 0; step < STEPS; step++) {
        m->now += 0.5;
        uint64_t op = rnd(m, 10);
        if (op < 3)
            step_cycle(m);
        else if (op < 7)
            step_decline(m);
        else if (op < 9)
            step_framework(m);
        else
            step_agent(m);
        check_figures(m);
    }
    print_message("grants %zu declines %zu partial %zu filters %zu passed %zu blocked %zu\n",
                  m->grants, m->declines, m->partial, m->filters_set, m->filters_passed,
                  m->filters_blocked);
    if (seed == NULL) /* the default sequence exercises all of it */
        assert_true(m->grants > 1000 && m->declines > 500 && m->partial > 100 &&
                    m->filters_set > 150 && m->filters_passed > 0 && m->filters_blocked > 20);
    /* Everything back: nothing allocated. */
    for (int f = 0; f < FRAMEWORKS; f++)
        if (m->fws[f].present)
            model_remove_framework(m, f);
    assert_true(allocator_allocated_scalar(m->a, "cpus") == 0.0);
    for (int i = 0; i < AGENTS; i++)
        if (m->agents[i].present)
            model_remove_agent(m, i);
    assert_true(allocator_total_scalar(m->a, "cpus") == 0.0);
    filters_clear(m, -1, -1, -1);
    free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_random_operations, core_setup, core_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
