/* Tests of the allocator actor (allocator_actor.c, allocator_actor_calls.c) on a deterministic
 * runtime (no workers, paused clock): grants delivered to a master actor in one batch per
 * cycle, a burst of declines costing one cycle, periodic cycles on clock advances, filters lasting
 * at least an interval, idle cycles skipped, the generated id when "allocator" is taken, calls to a
 * dead allocator, and a cycle whose master is gone. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "actor/actor.h"
#include "actor/clock.h"
#include "master/allocator/allocator_actor.h"

/* A stand-in master: counts deliveries and keeps the grants of the last one. */
typedef struct fake_master {
    int deliveries;
    size_t grants;            /* over all deliveries */
    allocator_grants_t *last; /* the last delivery, owned */
} fake_master_t;

static void fake_master_fini(actor_t *self, void *state)
{
    (void)self;
    fake_master_t *m = state;
    if (m->last != NULL) {
        allocator_grants_free(m->last);
        free(m->last);
    }
}

static const actor_ops_t fake_master_ops = {
    .name = "master",
    .state_size = sizeof(fake_master_t),
    .fini = fake_master_fini,
};

static void fake_offer(actor_t *self, void *state, allocator_grants_t *grants)
{
    assert_non_null(self);
    fake_master_t *m = state;
    assert_true(grants->count > 0);
    m->deliveries++;
    m->grants += grants->count;
    if (m->last != NULL) {
        allocator_grants_free(m->last);
        free(m->last);
    }
    m->last = grants;
}

static void call_peek(actor_t *self, void *state, void *arg)
{
    if (self != NULL)
        *(fake_master_t *)arg = *(fake_master_t *)state;
}

static fake_master_t peek(const actor_pid_t *master)
{
    fake_master_t copy = {0};
    actor_dispatch(master, call_peek, &copy);
    actor_settle();
    return copy;
}

typedef struct fixture {
    actor_pid_t master;
    actor_pid_t alloc;
} fixture_t;

static int setup(void **state)
{
    actor_runtime_options_t opts;
    actor_runtime_options_init(&opts);
    opts.workers = 0;
    opts.port = -1;
    if (actor_runtime_start(&opts) != ACTOR_OK)
        return -1;
    actor_clock_pause();
    fixture_t *f = calloc(1, sizeof(*f));
    if (actor_spawn(&fake_master_ops, NULL, NULL, &f->master) != ACTOR_OK)
        return -1;
    allocator_actor_options_t aopts = {.master = f->master, .offer = fake_offer, .interval = 1.0};
    if (allocator_actor_spawn(&aopts, &f->alloc) != ACTOR_OK)
        return -1;
    actor_settle();
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    actor_clock_resume();
    actor_runtime_stop();
    free(*state);
    return 0;
}

static void add_agent(const actor_pid_t *alloc, const char *id, const char *text)
{
    resources_t r;
    assert_int_equal(resources_parse(&r, text, NULL, NULL, 0), ACTOR_OK);
    assert_int_equal(allocator_actor_add_agent(alloc, id, &r, NULL, 0), ACTOR_OK);
    resources_fini(&r); /* the call copied it */
}

static void add_framework(const actor_pid_t *alloc, const char *id)
{
    const char *roles[] = {"r"};
    assert_int_equal(allocator_actor_add_framework(alloc, id, roles, 1, NULL, 0, NULL, 0),
                     ACTOR_OK);
}

static void test_spawn_id(void **state)
{
    fixture_t *f = *state;
    assert_string_equal(f->alloc.id, "allocator");
    allocator_actor_options_t aopts = {.master = f->master, .offer = fake_offer, .interval = 1.0};
    actor_pid_t second;
    assert_int_equal(allocator_actor_spawn(&aopts, &second), ACTOR_OK);
    assert_true(strncmp(second.id, "allocator(", 10) == 0);
    assert_int_equal(allocator_actor_spawn(NULL, &second), ACTOR_EINVAL);
    actor_settle();
}

static void test_grants_delivered(void **state)
{
    fixture_t *f = *state;
    add_agent(&f->alloc, "agent1", "cpus:2;mem:1024");
    add_framework(&f->alloc, "f1");
    actor_settle();
    fake_master_t m = peek(&f->master);
    assert_int_equal(m.deliveries, 1);
    assert_int_equal(m.last->count, 1);
    assert_string_equal(m.last->items[0].framework_id, "f1");
    assert_string_equal(m.last->items[0].agent_id, "agent1");
    assert_string_equal(m.last->items[0].role, "r");
    /* Nothing more to offer: periodic cycles deliver nothing. */
    actor_clock_advance(5 * ACTOR_NS_PER_SEC);
    actor_settle();
    assert_int_equal(peek(&f->master).deliveries, 1);
}

/* Twenty declines queued at once cost one cycle and one delivery. */
static void test_burst_of_recovers_is_one_cycle(void **state)
{
    fixture_t *f = *state;
    enum { N = 20 };
    for (int i = 0; i < N; i++) {
        char id[16];
        snprintf(id, sizeof(id), "agent%d", i);
        add_agent(&f->alloc, id, "cpus:1;mem:128");
    }
    add_framework(&f->alloc, "f1");
    actor_settle();
    fake_master_t m = peek(&f->master);
    assert_int_equal(m.deliveries, 1);
    assert_int_equal(m.grants, N);
    /* Decline them all (copies: the master's grants are freed at the next delivery). */
    resources_t r;
    assert_int_equal(resources_parse(&r, "cpus:1;mem:128", NULL, NULL, 0), ACTOR_OK);
    for (int i = 0; i < N; i++) {
        char id[16];
        snprintf(id, sizeof(id), "agent%d", i);
        assert_int_equal(allocator_actor_recover(&f->alloc, "f1", id, &r, 0), ACTOR_OK);
    }
    resources_fini(&r);
    actor_settle();
    m = peek(&f->master);
    assert_int_equal(m.deliveries, 2);
    assert_int_equal(m.grants, 2 * N);
    assert_int_equal(m.last->count, N);
}

/* agent1 is offered to f1, which declines it with a filter of refuse seconds. */
static void offer_and_decline(fixture_t *f, double refuse)
{
    add_agent(&f->alloc, "agent1", "cpus:1;mem:128");
    add_framework(&f->alloc, "f1");
    actor_settle();
    assert_int_equal(peek(&f->master).deliveries, 1);
    resources_t r;
    assert_int_equal(resources_parse(&r, "cpus:1;mem:128", NULL, NULL, 0), ACTOR_OK);
    assert_int_equal(allocator_actor_recover(&f->alloc, "f1", "agent1", &r, refuse), ACTOR_OK);
    resources_fini(&r);
    actor_settle();
}

/* A declined agent comes back through the periodic cycle once its filter expired. */
static void test_periodic_cycle(void **state)
{
    fixture_t *f = *state;
    offer_and_decline(f, 3.5);
    assert_int_equal(peek(&f->master).deliveries, 1); /* filtered */
    for (int s = 1; s <= 3; s++) {
        actor_clock_advance(ACTOR_NS_PER_SEC);
        actor_settle();
        assert_int_equal(peek(&f->master).deliveries, 1);
    }
    actor_clock_advance(ACTOR_NS_PER_SEC); /* the tick at 4 s, past the filter */
    actor_settle();
    assert_int_equal(peek(&f->master).deliveries, 2);
}

/* A filter lasts at least one allocation interval, as Mesos makes it (MESOS-4302): a filter of
 * 0.25 s still holds when another event runs a cycle half a second later. */
static void test_filter_lasts_an_interval(void **state)
{
    fixture_t *f = *state;
    offer_and_decline(f, 0.25);
    actor_clock_advance(ACTOR_NS_PER_SEC / 2);
    add_agent(&f->alloc, "agent2", "cpus:1;mem:128");
    actor_settle();
    fake_master_t m = peek(&f->master);
    assert_int_equal(m.deliveries, 2);
    assert_int_equal(m.last->count, 1);
    assert_string_equal(m.last->items[0].agent_id, "agent2");
    actor_clock_advance(ACTOR_NS_PER_SEC / 2); /* the tick at 1 s: the filter has expired */
    actor_settle();
    m = peek(&f->master);
    assert_int_equal(m.deliveries, 3);
    assert_string_equal(m.last->items[0].agent_id, "agent1");
}

/* Revive and update_weight make a cycle; allocate_now with nothing to offer delivers nothing. */
static void test_dirty_calls(void **state)
{
    fixture_t *f = *state;
    assert_int_equal(allocator_actor_allocate_now(&f->alloc), ACTOR_OK);
    actor_settle();
    assert_int_equal(peek(&f->master).deliveries, 0);
    add_agent(&f->alloc, "agent1", "cpus:1;mem:128");
    add_framework(&f->alloc, "f1");
    assert_int_equal(allocator_actor_suppress(&f->alloc, "f1", NULL), ACTOR_OK);
    actor_settle();
    assert_int_equal(peek(&f->master).deliveries, 0);
    assert_int_equal(allocator_actor_revive(&f->alloc, "f1", NULL), ACTOR_OK);
    actor_settle();
    assert_int_equal(peek(&f->master).deliveries, 1);
    /* Errors of the operations are logged, not returned. */
    assert_int_equal(allocator_actor_remove_framework(&f->alloc, "unknown"), ACTOR_OK);
    assert_int_equal(allocator_actor_update_weight(&f->alloc, "r", 2.0), ACTOR_OK);
    assert_int_equal(allocator_actor_update_framework(&f->alloc, "f1", NULL, 0), ACTOR_OK);
    assert_int_equal(allocator_actor_deactivate_framework(&f->alloc, "f1"), ACTOR_OK);
    assert_int_equal(allocator_actor_activate_framework(&f->alloc, "f1"), ACTOR_OK);
    assert_int_equal(allocator_actor_deactivate_agent(&f->alloc, "agent1"), ACTOR_OK);
    assert_int_equal(allocator_actor_activate_agent(&f->alloc, "agent1"), ACTOR_OK);
    assert_int_equal(allocator_actor_remove_agent(&f->alloc, "agent1"), ACTOR_OK);
    actor_settle();
    assert_int_equal(peek(&f->master).deliveries, 1);
}

/* Usage passed through the actor's calls is copied and counted. */
static void test_used_through_calls(void **state)
{
    fixture_t *f = *state;
    resources_t total, held;
    assert_int_equal(resources_parse(&total, "cpus:4;mem:1024", NULL, NULL, 0), ACTOR_OK);
    assert_int_equal(resources_parse(&held, "cpus:3", NULL, NULL, 0), ACTOR_OK);
    allocator_used_t used = {
        .framework_id = "f1", .agent_id = "agent1", .role = "r", .resources = &held};
    assert_int_equal(allocator_actor_add_agent(&f->alloc, "agent1", &total, &used, 1), ACTOR_OK);
    const char *roles[] = {"r"};
    assert_int_equal(allocator_actor_add_framework(&f->alloc, "f1", roles, 1, roles, 0, &used, 1),
                     ACTOR_OK);
    resources_fini(&total);
    resources_fini(&held);
    actor_settle();
    fake_master_t m = peek(&f->master);
    assert_int_equal(m.deliveries, 1);
    resources_t rest;
    assert_int_equal(resources_parse(&rest, "cpus:1;mem:1024", NULL, NULL, 0), ACTOR_OK);
    assert_true(resources_equal(&m.last->items[0].resources, &rest));
    resources_fini(&rest);
}

static void test_allocator_gone(void **state)
{
    fixture_t *f = *state;
    actor_terminate(&f->alloc);
    actor_wait(&f->alloc);
    assert_int_equal(allocator_actor_remove_agent(&f->alloc, "agent1"), ACTOR_ENOENT);
    const char *roles[] = {"r"};
    assert_int_equal(allocator_actor_add_framework(&f->alloc, "f1", roles, 1, NULL, 0, NULL, 0),
                     ACTOR_ENOENT);
    assert_int_equal(allocator_actor_allocate_now(NULL), ACTOR_ENOENT);
}

/* The master is gone when a cycle delivers: the grants go back, nothing leaks. */
static void test_master_gone(void **state)
{
    fixture_t *f = *state;
    actor_terminate(&f->master);
    actor_wait(&f->master);
    add_agent(&f->alloc, "agent1", "cpus:1;mem:128");
    add_framework(&f->alloc, "f1");
    actor_settle();
    actor_clock_advance(2 * ACTOR_NS_PER_SEC); /* offered again, and taken back again */
    actor_settle();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_spawn_id, setup, teardown),
        cmocka_unit_test_setup_teardown(test_grants_delivered, setup, teardown),
        cmocka_unit_test_setup_teardown(test_burst_of_recovers_is_one_cycle, setup, teardown),
        cmocka_unit_test_setup_teardown(test_periodic_cycle, setup, teardown),
        cmocka_unit_test_setup_teardown(test_filter_lasts_an_interval, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dirty_calls, setup, teardown),
        cmocka_unit_test_setup_teardown(test_used_through_calls, setup, teardown),
        cmocka_unit_test_setup_teardown(test_allocator_gone, setup, teardown),
        cmocka_unit_test_setup_teardown(test_master_gone, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
