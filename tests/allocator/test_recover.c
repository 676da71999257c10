/* Tests of allocator_recover (records.c): validation (more than allocated, another framework's,
 * unknown ids, bad arguments) leaving the state unchanged, partial recovery, decline filters
 * keeping what was refused from the declining framework until they expire (Mesos's
 * RefusedOfferFilter: an offer is filtered only when the refused resources contain it, so what
 * is freed later is offered at once), filters per role, cleared by a revive of their role or a
 * deactivation, and recovery across the several roles a framework holds an agent for. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "helpers.h"

static void test_validation(void **state)
{
    allocator_t *a = *state;
    add_framework(a, "f", "r");
    add_framework(a, "g", "r");
    add_agent(a, "agent1", "cpus:2;mem:256;ports:[31000-31010]");
    expect_one(a, 0, "f", "agent1");
    double share = allocator_framework_share(a, "f");

    resources_t more = res("cpus:3");
    resources_t ports = res("ports:[30000-30001]");
    resources_t some = res("cpus:1;ports:[31005-31006]");
    assert_int_equal(allocator_recover(a, "f", "agent1", &more, 0, 0), ACTOR_EINVAL);
    assert_int_equal(allocator_recover(a, "f", "agent1", &ports, 0, 0), ACTOR_EINVAL);
    assert_int_equal(allocator_recover(a, "g", "agent1", &some, 0, 0), ACTOR_EINVAL);
    assert_int_equal(allocator_recover(a, NULL, "agent1", &some, 0, 0), ACTOR_EINVAL);
    assert_int_equal(allocator_recover(a, "f", NULL, &some, 0, 0), ACTOR_EINVAL);
    assert_int_equal(allocator_recover(a, "f", "agent1", NULL, 0, 0), ACTOR_EINVAL);
    assert_int_equal(allocator_recover(a, "f", "agent1", &some, NAN, 0), ACTOR_EINVAL);
    assert_int_equal(allocator_recover(a, "f", "nowhere", &some, 0, 0), ACTOR_OK);
    assert_int_equal(allocator_recover(a, "nobody", "agent1", &some, 0, 0), ACTOR_OK);
    /* Unchanged: same share, nothing free, no filter. */
    assert_true(allocator_framework_share(a, "f") == share);
    assert_true(allocator_allocated_scalar(a, "cpus") == 2.0);
    assert_false(allocator_pending(a, 0));

    /* Part of it: the rest stays f's; g gets the part (f is filtered). */
    assert_int_equal(allocator_recover(a, "f", "agent1", &some, 5, 0), ACTOR_OK);
    assert_true(allocator_allocated_scalar(a, "cpus") == 1.0);
    allocator_grants_t g = cycle(a, 0);
    assert_int_equal(g.count, 1);
    assert_string_equal(g.items[0].framework_id, "g");
    assert_resources(&g.items[0].resources, "cpus:1;ports:[31005-31006]");
    allocator_grants_free(&g);
    resources_fini(&more);
    resources_fini(&ports);
    resources_fini(&some);
}

/* Mesos's OfferFilter: a declined agent goes to the other framework until the filter expires. */
static void test_filter_until_expiry(void **state)
{
    allocator_t *a = *state;
    add_framework(a, "f1", "r");
    add_framework(a, "f2", "r");
    add_agent(a, "agent1", "cpus:1;mem:128");
    allocator_grants_t g = cycle(a, 0);
    assert_string_equal(g.items[0].framework_id, "f1");
    decline_all(a, &g, 5, 0); /* f1 refuses agent1 until 5 */
    g = cycle(a, 1);
    assert_string_equal(g.items[0].framework_id, "f2");
    decline_all(a, &g, 0, 1); /* no filter */
    expect_one(a, 2, "f2", "agent1");
    resources_t r = res("cpus:1;mem:128");
    assert_int_equal(allocator_recover(a, "f2", "agent1", &r, 0, 4), ACTOR_OK);
    expect_one(a, 5, "f1", "agent1"); /* expired: f1 is first again */
    /* refuse_seconds 0 or less adds no filter. */
    assert_int_equal(allocator_recover(a, "f1", "agent1", &r, -1, 6), ACTOR_OK);
    expect_one(a, 6, "f1", "agent1");
    resources_fini(&r);
}

/* The filter holds what was refused, not the agent: while the agent offers no more than that,
 * the framework is filtered; once a task's resources come back the whole agent is offered to it
 * at once, filter or not. */
static void test_filter_holds_refused_resources(void **state)
{
    allocator_t *a = *state;
    add_framework(a, "f", "r");
    add_agent(a, "agent1", "cpus:4;mem:1024");
    allocator_grants_t g = cycle(a, 0);
    assert_int_equal(g.count, 1);
    allocator_grants_free(&g);
    /* f launches a task of cpus:1;mem:128 and declines the rest for 5 s. */
    resources_t rest = res("cpus:3;mem:896");
    resources_t task = res("cpus:1;mem:128");
    assert_int_equal(allocator_recover(a, "f", "agent1", &rest, 5, 0), ACTOR_OK);
    expect_none(a, 1); /* the agent offers exactly what f refused */
    assert_false(allocator_pending(a, 1));
    /* The task finishes: the agent has more than f refused, so f gets all of it now. */
    assert_int_equal(allocator_recover(a, "f", "agent1", &task, 0, 2), ACTOR_OK);
    assert_true(allocator_pending(a, 2));
    g = cycle(a, 2);
    assert_int_equal(g.count, 1);
    assert_string_equal(g.items[0].framework_id, "f");
    assert_resources(&g.items[0].resources, "cpus:4;mem:1024");
    /* Declined whole, it is filtered again until the filter expires. */
    decline_all(a, &g, 5, 2);
    expect_none(a, 3);
    expect_one(a, 7, "f", "agent1");
    resources_fini(&rest);
    resources_fini(&task);
}

/* Less than what was refused is filtered too (the refused resources contain it), and another
 * framework takes it meanwhile. */
static void test_filter_blocks_what_it_contains(void **state)
{
    allocator_t *a = *state;
    add_framework(a, "f", "r");
    add_agent(a, "agent1", "cpus:2;mem:256");
    expect_one(a, 0, "f", "agent1");
    resources_t all = res("cpus:2;mem:256");
    resources_t half = res("cpus:1;mem:128");
    assert_int_equal(allocator_recover(a, "f", "agent1", &all, 100, 0), ACTOR_OK);
    add_framework(a, "g", "r");
    allocator_grants_t g = cycle(a, 1);
    assert_int_equal(g.count, 1);
    assert_string_equal(g.items[0].framework_id, "g");
    allocator_grants_free(&g);
    /* g keeps half and gives the other half back without a filter: f refused more than that. */
    assert_int_equal(allocator_recover(a, "g", "agent1", &half, 0, 2), ACTOR_OK);
    expect_one(a, 2, "g", "agent1");
    resources_fini(&all);
    resources_fini(&half);
}

/* Mesos keeps filters per role: a framework that refused an agent for one role is still offered
 * it for its other role. */
static void test_filters_per_role(void **state)
{
    allocator_t *a = *state;
    const char *roles[] = {"r1", "r2"};
    assert_int_equal(allocator_add_framework(a, "f", roles, 2, NULL, 0, NULL, 0), ACTOR_OK);
    add_agent(a, "agent1", "cpus:1;mem:64");
    allocator_grants_t g = cycle(a, 0);
    assert_int_equal(g.count, 1);
    char first[8];
    snprintf(first, sizeof(first), "%s", g.items[0].role);
    decline_all(a, &g, 100, 0);
    g = cycle(a, 1);
    assert_int_equal(g.count, 1);
    assert_string_equal(g.items[0].framework_id, "f");
    assert_string_not_equal(g.items[0].role, first);
    decline_all(a, &g, 100, 1); /* now refused for both roles */
    expect_none(a, 2);
}

/* A revive of one role clears that role's filters only (Mesos's reviveRoles); a revive of all
 * roles clears them all. */
static void test_revive_clears_its_roles_filters(void **state)
{
    allocator_t *a = *state;
    const char *roles[] = {"r1", "r2"};
    assert_int_equal(allocator_add_framework(a, "f", roles, 2, NULL, 0, NULL, 0), ACTOR_OK);
    add_agent(a, "agent1", "cpus(r1):1;mem(r1):64;cpus(r2):1;mem(r2):64");
    allocator_grants_t g = cycle(a, 0);
    assert_int_equal(g.count, 2);
    decline_all(a, &g, 100, 0);
    expect_none(a, 1);
    assert_int_equal(allocator_revive(a, "f", "r1"), ACTOR_OK);
    g = cycle(a, 2);
    assert_int_equal(g.count, 1);
    assert_string_equal(g.items[0].role, "r1");
    decline_all(a, &g, 100, 2);
    expect_none(a, 3);
    assert_int_equal(allocator_revive(a, "f", NULL), ACTOR_OK);
    g = cycle(a, 4);
    assert_int_equal(g.count, 2);
    allocator_grants_free(&g);
}

/* Deactivating a framework clears its filters, as Mesos's deactivateFramework does: a scheduler
 * that fails over starts without its predecessor's refusals. */
static void test_deactivation_clears_filters(void **state)
{
    allocator_t *a = *state;
    refuse_agent(a, "cpus:1;mem:64", 100);
    assert_int_equal(allocator_deactivate_framework(a, "f"), ACTOR_OK);
    assert_int_equal(allocator_activate_framework(a, "f"), ACTOR_OK);
    expect_one(a, 2, "f", "agent1");
}

/* Every framework declines: the agent sleeps, and wakes when the first filter expires. */
static void test_all_filtered(void **state)
{
    allocator_t *a = *state;
    add_framework(a, "f1", "r");
    add_framework(a, "f2", "r");
    add_agent(a, "agent1", "cpus:1;mem:128");
    allocator_grants_t g = cycle(a, 0);
    decline_all(a, &g, 30, 0);
    g = cycle(a, 0);
    decline_all(a, &g, 20, 0);
    expect_none(a, 0);
    assert_false(allocator_pending(a, 19));
    assert_true(allocator_pending(a, 20));
    expect_one(a, 20, "f2", "agent1");
}

/* A framework holding an agent for two roles gives it back in one recover. */
static void test_recover_across_roles(void **state)
{
    allocator_t *a = *state;
    const char *roles[] = {"r1", "r2"};
    assert_int_equal(allocator_add_framework(a, "f", roles, 2, NULL, 0, NULL, 0), ACTOR_OK);
    add_agent(a, "agent1", "cpus(r1):1;cpus(r2):1;mem:64");
    allocator_grants_t g = cycle(a, 0);
    assert_int_equal(g.count, 2);
    assert_string_equal(g.items[0].framework_id, "f");
    assert_string_equal(g.items[1].framework_id, "f");
    allocator_grants_free(&g);
    assert_true(allocator_allocated_scalar(a, "cpus") == 2.0);
    resources_t too_much = res("cpus(r1):1;cpus(r2):2;mem:64");
    resources_t all = res("cpus(r1):1;cpus(r2):1;mem:64");
    assert_int_equal(allocator_recover(a, "f", "agent1", &too_much, 0, 0), ACTOR_EINVAL);
    assert_int_equal(allocator_recover(a, "f", "agent1", &all, 0, 0), ACTOR_OK);
    assert_true(allocator_allocated_scalar(a, "cpus") == 0.0);
    assert_true(allocator_allocated_scalar(a, "mem") == 0.0);
    assert_true(allocator_framework_share(a, "f") == 0.0);
    assert_int_equal(allocator_recover(a, "f", "agent1", &all, 0, 0), ACTOR_EINVAL);
    resources_fini(&too_much);
    resources_fini(&all);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_validation, core_setup, core_teardown),
        cmocka_unit_test_setup_teardown(test_filter_until_expiry, core_setup, core_teardown),
        cmocka_unit_test_setup_teardown(test_all_filtered, core_setup, core_teardown),
        cmocka_unit_test_setup_teardown(test_filter_holds_refused_resources, core_setup,
                                        core_teardown),
        cmocka_unit_test_setup_teardown(test_filter_blocks_what_it_contains, core_setup,
                                        core_teardown),
        cmocka_unit_test_setup_teardown(test_filters_per_role, core_setup, core_teardown),
        cmocka_unit_test_setup_teardown(test_revive_clears_its_roles_filters, core_setup,
                                        core_teardown),
        cmocka_unit_test_setup_teardown(test_deactivation_clears_filters, core_setup,
                                        core_teardown),
        cmocka_unit_test_setup_teardown(test_recover_across_roles, core_setup, core_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
