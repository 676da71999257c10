/* Tests of agents in the allocator core (agents.c): argument and id errors, usage reported by a
 * (re)registering agent for frameworks known and not yet known, removal freeing allocations and
 * leaving the totals, deactivation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "helpers.h"

static void test_errors(void **state)
{
    allocator_t *a = *state;
    resources_t total = res("cpus:1;mem:128");
    assert_int_equal(allocator_add_agent(a, NULL, &total, NULL, 0), ACTOR_EINVAL);
    assert_int_equal(allocator_add_agent(a, "", &total, NULL, 0), ACTOR_EINVAL);
    assert_int_equal(allocator_add_agent(a, "agent1", NULL, NULL, 0), ACTOR_EINVAL);
    assert_int_equal(allocator_add_agent(a, "agent1", &total, NULL, 1), ACTOR_EINVAL);
    allocator_used_t used = {.framework_id = "f", .role = "bad role", .resources = &total};
    assert_int_equal(allocator_add_agent(a, "agent1", &total, &used, 1), ACTOR_EINVAL);
    used = (allocator_used_t){.framework_id = NULL, .role = "r", .resources = &total};
    assert_int_equal(allocator_add_agent(a, "agent1", &total, &used, 1), ACTOR_EINVAL);
    assert_true(allocator_total_scalar(a, "cpus") == 0.0);

    assert_int_equal(allocator_add_agent(a, "agent1", &total, NULL, 0), ACTOR_OK);
    assert_int_equal(allocator_add_agent(a, "agent1", &total, NULL, 0), ACTOR_EEXIST);
    assert_true(allocator_total_scalar(a, "cpus") == 1.0);
    assert_int_equal(allocator_remove_agent(a, "agent2"), ACTOR_EINVAL);
    assert_int_equal(allocator_activate_agent(a, "agent2"), ACTOR_EINVAL);
    assert_int_equal(allocator_deactivate_agent(a, "agent2"), ACTOR_EINVAL);
    resources_fini(&total);
}

/* Usage of a framework not added yet counts against the agent at once, and in the
 * framework's share once it is added. */
static void test_used_by_unknown_framework(void **state)
{
    allocator_t *a = *state;
    resources_t total = res("cpus:4;mem:1024");
    resources_t held = res("cpus:3;mem:512");
    allocator_used_t used = {.framework_id = "late", .role = "r", .resources = &held};
    assert_int_equal(allocator_add_agent(a, "agent1", &total, &used, 1), ACTOR_OK);
    assert_true(allocator_allocated_scalar(a, "cpus") == 3.0);
    add_framework(a, "other", "r");
    allocator_grants_t g = cycle(a, 0);
    assert_int_equal(g.count, 1);
    assert_resources(&g.items[0].resources, "cpus:1;mem:512");
    allocator_grants_free(&g);
    assert_true(allocator_framework_share(a, "other") == 0.5);

    add_framework(a, "late", "r");
    assert_true(allocator_framework_share(a, "late") == 0.75);
    /* Its usage is its own now: recovering it works and frees it. */
    assert_int_equal(allocator_recover(a, "late", "agent1", &held, 0, 0), ACTOR_OK);
    assert_true(allocator_framework_share(a, "late") == 0.0);
    expect_one(a, 0, "late", "agent1");
    resources_fini(&total);
    resources_fini(&held);
}

/* Usage of a framework that never comes is freed by a recover all the same. */
static void test_used_by_framework_never_added(void **state)
{
    allocator_t *a = *state;
    resources_t total = res("cpus:4;mem:1024");
    resources_t held = res("cpus:4;mem:1024");
    allocator_used_t used = {.framework_id = "gone", .role = "r", .resources = &held};
    assert_int_equal(allocator_add_agent(a, "agent1", &total, &used, 1), ACTOR_OK);
    add_framework(a, "f", "r");
    expect_none(a, 0);
    resources_t more = res("cpus:5");
    assert_int_equal(allocator_recover(a, "gone", "agent1", &more, 0, 0), ACTOR_EINVAL);
    assert_int_equal(allocator_recover(a, "gone", "agent1", &held, 0, 0), ACTOR_OK);
    assert_int_equal(allocator_recover(a, "gone", "agent1", &held, 0, 0), ACTOR_OK); /* ignored */
    expect_one(a, 0, "f", "agent1");
    resources_fini(&total);
    resources_fini(&held);
    resources_fini(&more);
}

static void test_used_by_known_framework(void **state)
{
    allocator_t *a = *state;
    add_framework(a, "f", "r");
    add_framework(a, "g", "r");
    resources_t total = res("cpus:4;mem:1024");
    resources_t held = res("cpus:1;mem:256");
    allocator_used_t used[] = {
        {.framework_id = "f", .role = "r", .resources = &held},
        {.framework_id = "f", .role = "r", .resources = &held}, /* same record, added */
    };
    assert_int_equal(allocator_add_agent(a, "agent1", &total, used, 2), ACTOR_OK);
    assert_true(allocator_framework_share(a, "f") == 0.5);
    expect_one(a, 0, "g", "agent1");
    resources_fini(&total);
    resources_fini(&held);
}

static void test_remove_agent(void **state)
{
    allocator_t *a = *state;
    add_framework(a, "f", "r");
    add_agent(a, "agent1", "cpus:2;mem:256");
    add_agent(a, "agent2", "cpus:2;mem:256");
    allocator_grants_t g = cycle(a, 0);
    assert_int_equal(g.count, 2);
    assert_true(allocator_framework_share(a, "f") == 1.0);
    assert_int_equal(allocator_remove_agent(a, "agent1"), ACTOR_OK);
    assert_true(allocator_total_scalar(a, "cpus") == 2.0);
    assert_true(allocator_allocated_scalar(a, "cpus") == 2.0);
    assert_true(allocator_framework_share(a, "f") == 1.0);
    /* Late declines of what was on it are ignored. */
    const allocator_grant_t *x = grant_of(&g, "agent1");
    assert_int_equal(allocator_recover(a, "f", "agent1", &x->resources, 10, 0), ACTOR_OK);
    x = grant_of(&g, "agent2");
    assert_int_equal(allocator_recover(a, "f", "agent2", &x->resources, 10, 0), ACTOR_OK);
    assert_true(allocator_framework_share(a, "f") == 0.0);
    assert_int_equal(allocator_remove_agent(a, "agent2"), ACTOR_OK);
    assert_true(allocator_total_scalar(a, "cpus") == 0.0);
    assert_false(allocator_pending(a, 100));
    /* The id may come back, without the old filters. */
    add_agent(a, "agent2", "cpus:2;mem:256");
    expect_one(a, 1, "f", "agent2");
    allocator_grants_free(&g);
}

static void test_deactivate_agent(void **state)
{
    allocator_t *a = *state;
    add_framework(a, "f", "r");
    add_agent(a, "agent1", "cpus:2;mem:256");
    add_agent(a, "agent2", "cpus:2;mem:256");
    assert_int_equal(allocator_deactivate_agent(a, "agent1"), ACTOR_OK);
    assert_int_equal(allocator_deactivate_agent(a, "agent1"), ACTOR_OK);
    assert_true(allocator_total_scalar(a, "cpus") == 2.0);
    expect_one(a, 0, "f", "agent2");
    assert_false(allocator_pending(a, 0));
    assert_true(allocator_framework_share(a, "f") == 1.0); /* over active agents */
    assert_int_equal(allocator_activate_agent(a, "agent1"), ACTOR_OK);
    assert_true(allocator_pending(a, 0));
    expect_one(a, 0, "f", "agent1");
    /* A deactivated agent keeps its allocations: they come back to it. */
    assert_int_equal(allocator_deactivate_agent(a, "agent1"), ACTOR_OK);
    resources_t r = res("cpus:2;mem:256");
    assert_int_equal(allocator_recover(a, "f", "agent1", &r, 0, 0), ACTOR_OK);
    assert_false(allocator_pending(a, 0));
    assert_int_equal(allocator_activate_agent(a, "agent1"), ACTOR_OK);
    expect_one(a, 0, "f", "agent1");
    resources_fini(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_errors, core_setup, core_teardown),
        cmocka_unit_test_setup_teardown(test_used_by_unknown_framework, core_setup, core_teardown),
        cmocka_unit_test_setup_teardown(test_used_by_framework_never_added, core_setup,
                                        core_teardown),
        cmocka_unit_test_setup_teardown(test_used_by_known_framework, core_setup, core_teardown),
        cmocka_unit_test_setup_teardown(test_remove_agent, core_setup, core_teardown),
        cmocka_unit_test_setup_teardown(test_deactivate_agent, core_setup, core_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
