/* Tests of the registrar's index of agents (index.c): lookups, replacement and removal, growth
 * past many doublings, removal while iterating, and loading from the store's entries, where a
 * damaged entry is ACTOR_EPROTO. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "registrar_test.h"

static void test_set_get_remove(void **unused)
{
    (void)unused;
    agent_index_t index;
    agent_index_init(&index);
    assert_int_equal(agent_index_get(&index, "a", NULL), AGENT_UNKNOWN);
    assert_int_equal(agent_index_set(&index, "a", AGENT_ADMITTED, 0), ACTOR_OK);
    assert_int_equal(agent_index_set(&index, "b", AGENT_UNREACHABLE, 42), ACTOR_OK);
    int64_t ts = 0;
    assert_int_equal(agent_index_get(&index, "a", NULL), AGENT_ADMITTED);
    assert_int_equal(agent_index_get(&index, "b", &ts), AGENT_UNREACHABLE);
    assert_int_equal(ts, 42);
    assert_int_equal(agent_index_set(&index, "b", AGENT_GONE, 7), ACTOR_OK);
    assert_int_equal(agent_index_get(&index, "b", &ts), AGENT_GONE);
    assert_int_equal(ts, 7);
    assert_int_equal(index.count, 2);
    assert_int_equal(agent_index_set(&index, "a", AGENT_UNKNOWN, 0), ACTOR_OK);
    assert_int_equal(agent_index_set(&index, "never", AGENT_UNKNOWN, 0), ACTOR_OK);
    assert_int_equal(agent_index_get(&index, "a", NULL), AGENT_UNKNOWN);
    assert_int_equal(index.count, 1);
    agent_index_fini(&index);
    assert_int_equal(index.count, 0);
}

/* Removes the entries whose timestamp is odd, and counts the visits. */
static bool remove_odd(void *arg, const char *id, agent_state_t state, int64_t timestamp)
{
    (void)id, (void)state;
    (*(int *)arg)++;
    return timestamp % 2 != 0;
}

static void test_growth_and_remove_if(void **unused)
{
    (void)unused;
    enum { N = 10000 };
    agent_index_t index;
    agent_index_init(&index);
    char id[32];
    for (int i = 0; i < N; i++) {
        snprintf(id, sizeof(id), "agent-%d", i);
        assert_int_equal(agent_index_set(&index, id, AGENT_UNREACHABLE, i), ACTOR_OK);
    }
    assert_int_equal(index.count, N);
    assert_true(index.bucket_count >= N);
    int visits = 0;
    agent_index_remove_if(&index, remove_odd, &visits);
    assert_int_equal(visits, N);
    assert_int_equal(index.count, N / 2);
    for (int i = 0; i < N; i++) {
        snprintf(id, sizeof(id), "agent-%d", i);
        int64_t ts = -1;
        agent_state_t state = agent_index_get(&index, id, &ts);
        assert_int_equal(state, i % 2 != 0 ? AGENT_UNKNOWN : AGENT_UNREACHABLE);
        if (state != AGENT_UNKNOWN)
            assert_int_equal(ts, i);
    }
    agent_index_fini(&index);
}

/* Writes one entry of each kind through the registry's layout and loads them. */
static void test_load_from_store(void **unused)
{
    (void)unused;
    store_t *store = NULL;
    assert_int_equal(store_open(&store, "memory", NULL, NULL), ACTOR_OK);
    Mesos__AgentID id = MESOS__AGENT_ID__INIT;
    Mesos__TimeInfo time = MESOS__TIME_INFO__INIT;
    time.nanoseconds = 99;
    Mesos__Internal__Registry__Registry__UnreachableAgent unreachable =
        MESOS__INTERNAL__REGISTRY__REGISTRY__UNREACHABLE_AGENT__INIT;
    unreachable.id = &id;
    unreachable.timestamp = &time;
    id.value = "u1";
    void *value = NULL;
    size_t len = 0;
    assert_int_equal(registry_pack(&unreachable.base, &value, &len), ACTOR_OK);
    test_agent_t agent;
    test_agent_init(&agent, "a1", "host1");
    Mesos__Internal__Registry__Registry__Agent admitted =
        MESOS__INTERNAL__REGISTRY__REGISTRY__AGENT__INIT;
    admitted.info = &agent.info;
    void *agent_value = NULL;
    size_t agent_len = 0;
    assert_int_equal(registry_pack(&admitted.base, &agent_value, &agent_len), ACTOR_OK);

    registry_batch_t batch;
    registry_batch_init(&batch);
    assert_int_equal(registry_batch_add(&batch, REGISTRY_UNREACHABLE, "u1", value, len), ACTOR_OK);
    assert_int_equal(registry_batch_add(&batch, REGISTRY_AGENT, "a1", agent_value, agent_len),
                     ACTOR_OK);
    assert_int_equal(store_apply(store, batch.ops, batch.count), ACTOR_OK);
    registry_batch_fini(&batch);

    agent_index_t index;
    agent_index_init(&index);
    assert_int_equal(agent_index_load(&index, store), ACTOR_OK);
    int64_t ts = 0;
    assert_int_equal(agent_index_get(&index, "u1", &ts), AGENT_UNREACHABLE);
    assert_int_equal(ts, 99);
    assert_int_equal(agent_index_get(&index, "a1", NULL), AGENT_ADMITTED);
    agent_index_fini(&index);

    /* The entry at "gone/x" holds an unreachable agent's value naming "u1": damaged. */
    test_store_put(store, "gone/x", value, len);
    agent_index_init(&index);
    assert_int_equal(agent_index_load(&index, store), ACTOR_EPROTO);
    agent_index_fini(&index);
    free(value);
    free(agent_value);
    store_close(store);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_set_get_remove),
        cmocka_unit_test(test_growth_and_remove_if),
        cmocka_unit_test(test_load_from_store),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
