/* Tests of frameworks in the allocator core (frameworks.c): argument and id errors, duplicate
 * adds, deactivation, suppress and revive per role, revive clearing filters, removal freeing
 * the allocation, role updates, and usage passed when a framework is added. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "helpers.h"

static void test_errors(void **state)
{
    allocator_t *a = *state;
    const char *roles[] = {"r", "r"};
    assert_int_equal(allocator_add_framework(a, NULL, roles, 1, NULL, 0, NULL, 0), ACTOR_EINVAL);
    assert_int_equal(allocator_add_framework(a, "", roles, 1, NULL, 0, NULL, 0), ACTOR_EINVAL);
    assert_int_equal(allocator_add_framework(a, "f", roles, 0, NULL, 0, NULL, 0), ACTOR_EINVAL);
    assert_int_equal(allocator_add_framework(a, "f", NULL, 1, NULL, 0, NULL, 0), ACTOR_EINVAL);
    assert_int_equal(allocator_add_framework(a, "f", roles, 2, NULL, 0, NULL, 0), ACTOR_EINVAL);
    static const char *const bad[] = {"",     "/a", "a/",  "a//b", ".",
                                      "a/..", "-a", "a b", "a/*",  "a\tb"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(allocator_add_framework(a, "f", &bad[i], 1, NULL, 0, NULL, 0),
                         ACTOR_EINVAL);
    allocator_used_t used = {.agent_id = "agent1", .role = "r", .resources = NULL};
    assert_int_equal(allocator_add_framework(a, "f", roles, 1, NULL, 0, &used, 1), ACTOR_EINVAL);
    assert_int_equal(allocator_add_framework(a, "f", roles, 1, NULL, 1, NULL, 0), ACTOR_EINVAL);

    add_framework(a, "f", "*");
    assert_int_equal(allocator_add_framework(a, "f", roles, 1, NULL, 0, NULL, 0), ACTOR_EEXIST);
    assert_int_equal(allocator_remove_framework(a, "g"), ACTOR_EINVAL);
    assert_int_equal(allocator_activate_framework(a, "g"), ACTOR_EINVAL);
    assert_int_equal(allocator_deactivate_framework(a, "g"), ACTOR_EINVAL);
    assert_int_equal(allocator_update_framework(a, "g", roles, 1), ACTOR_EINVAL);
    assert_int_equal(allocator_update_framework(a, "f", roles, 0), ACTOR_EINVAL);
    assert_int_equal(allocator_suppress(a, "g", NULL), ACTOR_EINVAL);
    assert_int_equal(allocator_revive(a, "g", NULL), ACTOR_EINVAL);
    assert_int_equal(allocator_suppress(a, "f", "r"), ACTOR_EINVAL); /* not subscribed */
    assert_int_equal(allocator_revive(a, "f", "r"), ACTOR_EINVAL);

    /* Nothing of the failed calls stayed behind: the framework still gets offers. */
    add_agent(a, "agent1", "cpus:1;mem:128");
    expect_one(a, 0, "f", "agent1");
}

static void test_deactivate_keeps_allocation(void **state)
{
    allocator_t *a = *state;
    add_framework(a, "f1", "r");
    add_framework(a, "f2", "r");
    add_agent(a, "agent1", "cpus:1;mem:128");
    expect_one(a, 0, "f1", "agent1");
    double share = allocator_framework_share(a, "f1");
    assert_true(share > 0);
    assert_int_equal(allocator_deactivate_framework(a, "f1"), ACTOR_OK);
    assert_true(allocator_framework_share(a, "f1") == share);
    add_agent(a, "agent2", "cpus:1;mem:128");
    add_agent(a, "agent3", "cpus:1;mem:128");
    allocator_grants_t g = cycle(a, 0);
    assert_int_equal(grants_to(&g, "f2"), 2);
    allocator_grants_free(&g);
    assert_int_equal(allocator_activate_framework(a, "f1"), ACTOR_OK);
    add_agent(a, "agent4", "cpus:1;mem:128");
    expect_one(a, 0, "f1", "agent4");
}

static void test_suppress_revive_per_role(void **state)
{
    allocator_t *a = *state;
    const char *roles[] = {"r1", "r2"};
    assert_int_equal(allocator_add_framework(a, "f", roles, 2, NULL, 0, NULL, 0), ACTOR_OK);
    assert_int_equal(allocator_suppress(a, "f", "r1"), ACTOR_OK);
    add_agent(a, "agent1", "cpus:1;mem:128");
    allocator_grants_t g = cycle(a, 0);
    assert_int_equal(g.count, 1);
    assert_string_equal(g.items[0].role, "r2");
    decline_all(a, &g, 0, 0);

    assert_int_equal(allocator_suppress(a, "f", NULL), ACTOR_OK);
    assert_false(allocator_pending(a, 0));
    expect_none(a, 0);

    assert_int_equal(allocator_revive(a, "f", "r1"), ACTOR_OK);
    g = cycle(a, 0);
    assert_int_equal(g.count, 1);
    assert_string_equal(g.items[0].role, "r1");
    decline_all(a, &g, 0, 0);
    assert_int_equal(allocator_revive(a, "f", NULL), ACTOR_OK);
    g = cycle(a, 0);
    assert_int_equal(g.count, 1);
    allocator_grants_free(&g);
}

static void test_suppressed_at_add(void **state)
{
    allocator_t *a = *state;
    const char *roles[] = {"r1", "r2"};
    const char *suppressed[] = {"r1", "elsewhere"};
    assert_int_equal(allocator_add_framework(a, "f", roles, 2, suppressed, 2, NULL, 0), ACTOR_OK);
    add_agent(a, "agent1", "cpus:1;mem:128");
    allocator_grants_t g = cycle(a, 0);
    assert_int_equal(g.count, 1);
    assert_string_equal(g.items[0].role, "r2");
    allocator_grants_free(&g);
}

static void test_revive_clears_filters(void **state)
{
    allocator_t *a = *state;
    refuse_agent(a, "cpus:1;mem:128", 1000);
    assert_false(allocator_pending(a, 2));
    assert_int_equal(allocator_revive(a, "f", NULL), ACTOR_OK);
    assert_true(allocator_pending(a, 2));
    expect_one(a, 2, "f", "agent1");
}

static void test_remove_frees_allocation(void **state)
{
    allocator_t *a = *state;
    add_framework(a, "f1", "r");
    add_agent(a, "agent1", "cpus:2;mem:256");
    expect_one(a, 0, "f1", "agent1");
    add_framework(a, "f2", "r");
    assert_false(allocator_pending(a, 0));
    assert_true(allocator_allocated_scalar(a, "cpus") == 2.0);
    assert_int_equal(allocator_remove_framework(a, "f1"), ACTOR_OK);
    assert_true(allocator_allocated_scalar(a, "cpus") == 0.0);
    assert_true(allocator_pending(a, 0));
    expect_one(a, 0, "f2", "agent1");
    /* The id may come back as a new framework. */
    add_framework(a, "f1", "r");
    assert_true(allocator_framework_share(a, "f1") == 0.0);
}

static void test_update_roles(void **state)
{
    allocator_t *a = *state;
    add_framework(a, "f", "r1");
    add_agent(a, "agent1", "cpus:1;mem:128");
    allocator_grants_t held = cycle(a, 0);
    assert_string_equal(held.items[0].role, "r1");
    const char *roles[] = {"r2"};
    assert_int_equal(allocator_update_framework(a, "f", roles, 1), ACTOR_OK);
    add_agent(a, "agent2", "cpus:1;mem:128");
    allocator_grants_t g = cycle(a, 0);
    assert_int_equal(g.count, 1);
    assert_string_equal(g.items[0].role, "r2");
    allocator_grants_free(&g);
    /* The r1 allocation kept its role and comes back fine. */
    decline_all(a, &held, 0, 0);
    g = cycle(a, 0);
    assert_int_equal(g.count, 1);
    assert_string_equal(g.items[0].role, "r2");
    allocator_grants_free(&g);
    assert_int_equal(allocator_suppress(a, "f", "r1"), ACTOR_EINVAL);
}

/* Usage reported at (re)subscription counts against the agent and in the share. */
static void test_add_with_used(void **state)
{
    allocator_t *a = *state;
    add_agent(a, "agent1", "cpus:4;mem:1024");
    resources_t used_res = res("cpus:3");
    allocator_used_t used[] = {
        {.agent_id = "agent1", .role = "r", .resources = &used_res},
        {.agent_id = "nowhere", .role = "r", .resources = &used_res}, /* ignored */
    };
    const char *roles[] = {"r"};
    assert_int_equal(allocator_add_framework(a, "f", roles, 1, NULL, 0, used, 2), ACTOR_OK);
    assert_true(allocator_framework_share(a, "f") == 0.75);
    allocator_grants_t g = cycle(a, 0);
    assert_int_equal(g.count, 1);
    assert_resources(&g.items[0].resources, "cpus:1;mem:1024");
    allocator_grants_free(&g);
    assert_int_equal(allocator_recover(a, "f", "agent1", &used_res, 0, 0), ACTOR_OK);
    assert_true(allocator_allocated_scalar(a, "cpus") == 1.0);
    resources_fini(&used_res);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_errors, core_setup, core_teardown),
        cmocka_unit_test_setup_teardown(test_deactivate_keeps_allocation, core_setup,
                                        core_teardown),
        cmocka_unit_test_setup_teardown(test_suppress_revive_per_role, core_setup, core_teardown),
        cmocka_unit_test_setup_teardown(test_suppressed_at_add, core_setup, core_teardown),
        cmocka_unit_test_setup_teardown(test_revive_clears_filters, core_setup, core_teardown),
        cmocka_unit_test_setup_teardown(test_remove_frees_allocation, core_setup, core_teardown),
        cmocka_unit_test_setup_teardown(test_update_roles, core_setup, core_teardown),
        cmocka_unit_test_setup_teardown(test_add_with_used, core_setup, core_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
