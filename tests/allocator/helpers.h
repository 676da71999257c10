/* helpers.h: what the allocator core's tests share: building resources and agents from text,
 * running a cycle, finding and declining grants. Header-only (static inline), so each test
 * executable takes what it uses. Include after cmocka.h. */
#ifndef TESTS_ALLOCATOR_HELPERS_H
#define TESTS_ALLOCATOR_HELPERS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "master/allocator/allocator.h"

/* cmocka setup and teardown: *state is a new allocator. */
static inline int core_setup(void **state)
{
    *state = allocator_create();
    return *state != NULL ? 0 : -1;
}

static inline int core_teardown(void **state)
{
    allocator_destroy(*state);
    return 0;
}

static inline resources_t res(const char *text)
{
    resources_t r;
    char err[256];
    if (resources_parse(&r, text, NULL, err, sizeof(err)) != ACTOR_OK)
        fail_msg("parse '%s': %s", text, err);
    return r;
}

static inline void add_agent(allocator_t *a, const char *id, const char *text)
{
    resources_t r = res(text);
    assert_int_equal(allocator_add_agent(a, id, &r, NULL, 0), ACTOR_OK);
    resources_fini(&r);
}

/* Adds agents "agent0" .. "agent<n-1>", each with `text`. */
static inline void add_agents(allocator_t *a, int n, const char *text)
{
    for (int i = 0; i < n; i++) {
        char id[32];
        snprintf(id, sizeof(id), "agent%d", i);
        add_agent(a, id, text);
    }
}

static inline void add_framework(allocator_t *a, const char *id, const char *role)
{
    const char *roles[] = {role};
    assert_int_equal(allocator_add_framework(a, id, roles, 1, NULL, 0, NULL, 0), ACTOR_OK);
}

/* One cycle at `now`; the caller frees the result with allocator_grants_free(). */
static inline allocator_grants_t cycle(allocator_t *a, double now)
{
    allocator_grants_t g = {0};
    assert_int_equal(allocator_allocate(a, now, &g), ACTOR_OK);
    return g;
}

/* The grant of agent_id in g, or NULL. */
static inline const allocator_grant_t *grant_of(const allocator_grants_t *g, const char *agent_id)
{
    for (size_t i = 0; i < g->count; i++)
        if (strcmp(g->items[i].agent_id, agent_id) == 0)
            return &g->items[i];
    return NULL;
}

/* How many grants of g went to framework_id. */
static inline size_t grants_to(const allocator_grants_t *g, const char *framework_id)
{
    size_t n = 0;
    for (size_t i = 0; i < g->count; i++)
        n += strcmp(g->items[i].framework_id, framework_id) == 0;
    return n;
}

static inline void assert_resources(const resources_t *r, const char *text)
{
    resources_t want = res(text);
    char *have = NULL;
    assert_int_equal(resources_format(r, &have), ACTOR_OK);
    if (!resources_equal(r, &want))
        fail_msg("resources are '%s', expected '%s'", have, text);
    free(have);
    resources_fini(&want);
}

/* A cycle at `now` must make exactly one grant: agent_id to framework_id. */
static inline void expect_one(allocator_t *a, double now, const char *framework_id,
                              const char *agent_id)
{
    allocator_grants_t g = cycle(a, now);
    if (g.count != 1)
        fail_msg("expected 1 grant, got %zu", g.count);
    assert_string_equal(g.items[0].framework_id, framework_id);
    assert_string_equal(g.items[0].agent_id, agent_id);
    allocator_grants_free(&g);
}

/* A cycle at `now` must make no grant. */
static inline void expect_none(allocator_t *a, double now)
{
    allocator_grants_t g = cycle(a, now);
    if (g.count != 0)
        fail_msg("expected no grant, got %zu (first: %s on %s)", g.count, g.items[0].framework_id,
                 g.items[0].agent_id);
    allocator_grants_free(&g);
}

/* Gives every grant of g back (refuse_seconds as a DECLINE's filter) and frees g. */
static inline void decline_all(allocator_t *a, allocator_grants_t *g, double refuse, double now)
{
    for (size_t i = 0; i < g->count; i++) {
        const allocator_grant_t *x = &g->items[i];
        assert_int_equal(
            allocator_recover(a, x->framework_id, x->agent_id, &x->resources, refuse, now),
            ACTOR_OK);
    }
    allocator_grants_free(g);
}

/* Framework "f" in role "r" refuses all of agent1 (resources `text`) for refuse seconds at time
 * 0: a cycle at 1 offers nothing. */
static inline void refuse_agent(allocator_t *a, const char *text, double refuse)
{
    add_framework(a, "f", "r");
    add_agent(a, "agent1", text);
    allocator_grants_t g = cycle(a, 0);
    decline_all(a, &g, refuse, 0);
    expect_none(a, 1);
}

#endif
