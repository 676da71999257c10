/* Tests of the allocation cycle (cycle.c): DRF order across roles and within a role, weights,
 * hierarchical roles whose shares include their sub-roles, reservations offered only to their
 * role and its descendants, the min-allocatable check, grants grouped by framework, and
 * allocator_pending(). Pure computation on the core: no runtime. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "helpers.h"

/* Mesos's HierarchicalAllocatorTest.UnreservedDRF, step by step. */
static void test_drf_lower_share_first(void **state)
{
    allocator_t *a = *state;
    add_agent(a, "agent1", "cpus:2;mem:1024");
    add_framework(a, "framework1", "role1");
    expect_one(a, 0, "framework1", "agent1");

    /* role1 has 2 of 3 cpus; role2 none: agent2 goes to role2. */
    add_framework(a, "framework2", "role2");
    add_agent(a, "agent2", "cpus:1;mem:512");
    expect_one(a, 0, "framework2", "agent2");

    /* role1 = 2/6 cpus, role2 = 1/6: role2 again. */
    add_agent(a, "agent3", "cpus:3;mem:2048");
    expect_one(a, 0, "framework2", "agent3");

    /* role1 = 0.2 < role2 = 0.4, and within role1 framework3 (nothing yet) before framework1. */
    add_framework(a, "framework3", "role1");
    add_agent(a, "agent4", "cpus:4;mem:4096");
    expect_one(a, 0, "framework3", "agent4");

    /* framework4 holds nothing, but its role (0.63) is above role2 (0.36). */
    add_framework(a, "framework4", "role1");
    add_agent(a, "agent5", "cpus:1;mem:512");
    expect_one(a, 0, "framework2", "agent5");
    assert_true(allocator_framework_share(a, "framework4") == 0.0);
    assert_true(allocator_framework_share(a, "framework2") > 0.4);
}

/* Within a role: the lower share first, equal shares in order of addition. */
static void test_drf_within_role(void **state)
{
    allocator_t *a = *state;
    add_framework(a, "b", "web");
    add_framework(a, "a", "web");
    add_agent(a, "agent1", "cpus:2;mem:1024");
    expect_one(a, 0, "b", "agent1"); /* tie: "b" was added first */
    add_agent(a, "agent2", "cpus:1;mem:512");
    expect_one(a, 0, "a", "agent2");
    add_agent(a, "agent3", "cpus:1;mem:512");
    expect_one(a, 0, "a", "agent3"); /* a holds 1/4 of the cpus, b 2/4 */
}

/* Six equal agents split 3:3 between two roles, then 2:4 with weights 1:2. */
static void test_weights(void **state)
{
    allocator_t *a = *state;
    add_agents(a, 6, "cpus:2;mem:1024");
    add_framework(a, "framework1", "role1");
    add_framework(a, "framework2", "role2");
    allocator_grants_t g = cycle(a, 0);
    assert_int_equal(g.count, 6);
    assert_int_equal(grants_to(&g, "framework1"), 3);
    assert_int_equal(grants_to(&g, "framework2"), 3);
    decline_all(a, &g, 0, 0);

    assert_true(allocator_weight(a, "role2") == 1.0);
    assert_int_equal(allocator_update_weight(a, "role2", 2.0), ACTOR_OK);
    assert_true(allocator_weight(a, "role2") == 2.0);
    g = cycle(a, 0);
    assert_int_equal(grants_to(&g, "framework1"), 2);
    assert_int_equal(grants_to(&g, "framework2"), 4);
    decline_all(a, &g, 0, 0);

    /* A weight for a role without frameworks yet, then a framework in it. */
    assert_int_equal(allocator_update_weight(a, "role3", 3.0), ACTOR_OK);
    add_framework(a, "framework3", "role3");
    g = cycle(a, 0);
    assert_int_equal(grants_to(&g, "framework1"), 1);
    assert_int_equal(grants_to(&g, "framework2"), 2);
    assert_int_equal(grants_to(&g, "framework3"), 3);
    allocator_grants_free(&g);

    assert_int_equal(allocator_update_weight(a, "role1", 0), ACTOR_EINVAL);
    assert_int_equal(allocator_update_weight(a, "role1", -1), ACTOR_EINVAL);
    assert_int_equal(allocator_update_weight(a, "role1", 1.0 / 0.0), ACTOR_EINVAL);
    assert_int_equal(allocator_update_weight(a, "bad role", 1), ACTOR_EINVAL);
    assert_true(allocator_weight(a, "unknown") == 1.0);
}

/* "eng" counts what "eng/web" holds: four equal agents go eng, ops, eng/web, ops. */
static void test_hierarchical_share_includes_subroles(void **state)
{
    allocator_t *a = *state;
    add_framework(a, "eng-fw", "eng");
    add_framework(a, "web-fw", "eng/web");
    add_framework(a, "ops-fw", "ops");
    add_agents(a, 4, "cpus:1;mem:256");
    allocator_grants_t g = cycle(a, 0);
    assert_int_equal(g.count, 4);
    assert_int_equal(grants_to(&g, "eng-fw"), 1);
    assert_int_equal(grants_to(&g, "web-fw"), 1);
    assert_int_equal(grants_to(&g, "ops-fw"), 2);
    for (size_t i = 0; i < g.count; i++) {
        const char *want = g.items[i].framework_id[0] == 'w'   ? "eng/web"
                           : g.items[i].framework_id[0] == 'e' ? "eng"
                                                               : "ops";
        assert_string_equal(g.items[i].role, want);
    }
    allocator_grants_free(&g);
}

/* A child role and its parent: the child's allocation counts against the parent's siblings
 * but, among the parent's children, only against the child. */
static void test_hierarchical_parent_child(void **state)
{
    allocator_t *a = *state;
    add_framework(a, "deep", "a/b/c");
    add_framework(a, "top", "z");
    add_agent(a, "agent1", "cpus:4;mem:1024");
    expect_one(a, 0, "deep", "agent1"); /* "a" < "z" on a tie */
    add_agent(a, "agent2", "cpus:4;mem:1024");
    expect_one(a, 0, "top", "agent2");
    add_framework(a, "mid", "a/b");
    add_agent(a, "agent3", "cpus:4;mem:1024");
    expect_one(a, 0, "mid", "agent3"); /* a = z, then in a/b: self (0) before a/b/c */
    add_agent(a, "agent4", "cpus:4;mem:1024");
    expect_one(a, 0, "top", "agent4"); /* a holds 2 agents, z 1 */
}

static void test_reservations_only_to_role(void **state)
{
    allocator_t *a = *state;
    add_framework(a, "other", "role2");
    add_agent(a, "agent1", "cpus:1;mem:512;cpus(role1):2;mem(role1):1024");
    allocator_grants_t g = cycle(a, 0);
    assert_int_equal(g.count, 1);
    assert_string_equal(g.items[0].framework_id, "other");
    assert_resources(&g.items[0].resources, "cpus:1;mem:512");
    allocator_grants_free(&g);
    assert_false(allocator_pending(a, 0)); /* role1's part waits for role1 */

    add_framework(a, "prefix", "role1x"); /* not a descendant of role1 */
    expect_none(a, 0);
    add_framework(a, "child", "role1/sub"); /* a descendant: may use role1's */
    g = cycle(a, 0);
    assert_int_equal(g.count, 1);
    assert_string_equal(g.items[0].framework_id, "child");
    assert_string_equal(g.items[0].role, "role1/sub");
    assert_resources(&g.items[0].resources, "cpus(role1):2;mem(role1):1024");
    allocator_grants_free(&g);
}

/* One agent, two grants in one cycle: unreserved to role1, role2's reservation to role2. */
static void test_reservations_split_agent(void **state)
{
    allocator_t *a = *state;
    add_framework(a, "f1", "role1");
    add_framework(a, "f2", "role2");
    add_agent(a, "agent1", "cpus:1;mem:512;cpus(role2):2;mem(role2):64");
    allocator_grants_t g = cycle(a, 0);
    assert_int_equal(g.count, 2);
    for (size_t i = 0; i < g.count; i++) {
        if (strcmp(g.items[i].framework_id, "f1") == 0)
            assert_resources(&g.items[i].resources, "cpus:1;mem:512");
        else
            assert_resources(&g.items[i].resources, "cpus(role2):2;mem(role2):64");
    }
    allocator_grants_free(&g);
    assert_true(allocator_allocated_scalar(a, "cpus") == 3.0);
}

static void test_min_allocatable(void **state)
{
    allocator_t *a = *state;
    add_framework(a, "f", "r");
    add_agent(a, "tiny", "cpus:0.005;mem:31;disk:1000;ports:[1-10]");
    add_agent(a, "disk-only", "disk:4096");
    expect_none(a, 0);
    assert_false(allocator_pending(a, 0));
    add_agent(a, "cpu", "cpus:0.01");
    expect_one(a, 0, "f", "cpu");
    add_agent(a, "mem", "mem:32");
    expect_one(a, 0, "f", "mem");
}

static void test_grants_grouped_by_framework(void **state)
{
    allocator_t *a = *state;
    add_framework(a, "f1", "r");
    add_framework(a, "f2", "r");
    add_framework(a, "f3", "r");
    add_agents(a, 30, "cpus:1;mem:128");
    allocator_grants_t g = cycle(a, 0);
    assert_int_equal(g.count, 30);
    for (size_t i = 1; i < g.count; i++) {
        if (strcmp(g.items[i].framework_id, g.items[i - 1].framework_id) == 0)
            continue;
        for (size_t j = 0; j < i; j++) /* a new framework: never seen before */
            assert_string_not_equal(g.items[j].framework_id, g.items[i].framework_id);
    }
    assert_int_equal(grants_to(&g, "f1"), 10);
    assert_int_equal(grants_to(&g, "f2"), 10);
    /* Appending to earlier grants keeps them. */
    decline_all(a, &g, 0, 0);
    g = cycle(a, 0);
    allocator_grants_t more = g;
    expect_none(a, 0);
    add_agent(a, "late", "cpus:1;mem:128");
    assert_int_equal(allocator_allocate(a, 0, &more), ACTOR_OK);
    assert_int_equal(more.count, 31);
    assert_string_equal(more.items[30].agent_id, "late");
    allocator_grants_free(&more);
}

static void test_pending(void **state)
{
    allocator_t *a = *state;
    assert_false(allocator_pending(a, 0));
    add_agent(a, "agent1", "cpus:1;mem:128");
    assert_false(allocator_pending(a, 0)); /* nobody to offer to */
    add_framework(a, "f", "r");
    assert_true(allocator_pending(a, 0));
    allocator_grants_t g = cycle(a, 0);
    assert_false(allocator_pending(a, 0));
    decline_all(a, &g, 0, 0);
    assert_true(allocator_pending(a, 0));
    assert_int_equal(allocator_deactivate_framework(a, "f"), ACTOR_OK);
    assert_false(allocator_pending(a, 0));
    assert_int_equal(allocator_activate_framework(a, "f"), ACTOR_OK);
    assert_true(allocator_pending(a, 0));
}

/* A declined agent sleeps until its filter expires, then is offered again. */
static void test_dormant_wakes_on_filter_expiry(void **state)
{
    allocator_t *a = *state;
    add_framework(a, "f", "r");
    add_agent(a, "agent1", "cpus:1;mem:128");
    allocator_grants_t g = cycle(a, 0);
    decline_all(a, &g, 10, 0);            /* filtered until 10 */
    assert_true(allocator_pending(a, 1)); /* resources came back: one visit to learn the filter */
    expect_none(a, 1);
    assert_false(allocator_pending(a, 5)); /* dormant */
    expect_none(a, 5);
    assert_false(allocator_pending(a, 9.99));
    assert_true(allocator_pending(a, 10));
    expect_one(a, 10, "f", "agent1");
}

static void test_totals_and_shares(void **state)
{
    allocator_t *a = *state;
    add_agent(a, "agent1", "cpus:2;mem:1024;gpus:1");
    add_agent(a, "agent2", "cpus:2;mem:1024");
    add_framework(a, "f", "r");
    assert_true(allocator_total_scalar(a, "cpus") == 4.0);
    assert_true(allocator_total_scalar(a, "gpus") == 1.0);
    assert_true(allocator_total_scalar(a, "nothing") == 0.0);
    assert_true(allocator_allocated_scalar(a, "nothing") == 0.0);
    allocator_grants_t g = cycle(a, 0);
    assert_int_equal(g.count, 2);
    assert_true(allocator_allocated_scalar(a, "mem") == 2048.0);
    assert_true(allocator_framework_share(a, "f") == 1.0);
    assert_true(allocator_framework_share(a, "unknown") == 0.0);
    decline_all(a, &g, 0, 0);
    assert_true(allocator_allocated_scalar(a, "cpus") == 0.0);
    assert_true(allocator_framework_share(a, "f") == 0.0);
    assert_int_equal(allocator_allocate(a, 0, NULL), ACTOR_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_drf_lower_share_first, core_setup, core_teardown),
        cmocka_unit_test_setup_teardown(test_drf_within_role, core_setup, core_teardown),
        cmocka_unit_test_setup_teardown(test_weights, core_setup, core_teardown),
        cmocka_unit_test_setup_teardown(test_hierarchical_share_includes_subroles, core_setup,
                                        core_teardown),
        cmocka_unit_test_setup_teardown(test_hierarchical_parent_child, core_setup, core_teardown),
        cmocka_unit_test_setup_teardown(test_reservations_only_to_role, core_setup, core_teardown),
        cmocka_unit_test_setup_teardown(test_reservations_split_agent, core_setup, core_teardown),
        cmocka_unit_test_setup_teardown(test_min_allocatable, core_setup, core_teardown),
        cmocka_unit_test_setup_teardown(test_grants_grouped_by_framework, core_setup,
                                        core_teardown),
        cmocka_unit_test_setup_teardown(test_pending, core_setup, core_teardown),
        cmocka_unit_test_setup_teardown(test_dormant_wakes_on_filter_expiry, core_setup,
                                        core_teardown),
        cmocka_unit_test_setup_teardown(test_totals_and_shares, core_setup, core_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
