/* Tests of registrar_recover() (recover.c): an empty registry from either backend, the master
 * recorded durably, NULL, the registry kinds and arguments it refuses, and stored values that do
 * not decode or name another entry than their key (ACTOR_EPROTO, nothing left open). Each test
 * works in its own mkdtemp directory, removed by the teardown. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "registrar_test.h"

static int setup(void **state)
{
    char *dir = malloc(TEST_DIR_LEN);
    assert_non_null(dir);
    test_dir_make(dir);
    *state = dir;
    return 0;
}

static int teardown(void **state)
{
    test_dir_remove(*state);
    free(*state);
    return 0;
}

/* Asserts that the store holds master `id` as the registry's master. */
static void assert_master(store_t *store, const char *id)
{
    void *value = NULL;
    size_t len = 0;
    assert_int_equal(store_get(store, "master", 6, &value, &len), ACTOR_OK);
    Mesos__Internal__Registry__Registry__Master *m =
        (Mesos__Internal__Registry__Registry__Master *)protobuf_c_message_unpack(
            &mesos__internal__registry__registry__master__descriptor, NULL, len, value);
    free(value);
    assert_non_null(m);
    assert_string_equal(m->info->id, id);
    protobuf_c_message_free_unpacked(&m->base, NULL);
}

static void assert_empty(const registry_t *r)
{
    assert_null(r->master);
    assert_non_null(r->agents);
    assert_non_null(r->unreachable);
    assert_non_null(r->gone);
    assert_int_equal(r->agents->n_agents, 0);
    assert_int_equal(r->unreachable->n_agents, 0);
    assert_int_equal(r->gone->n_agents, 0);
    assert_int_equal(r->n_weights, 0);
}

static void recover_empty(const char *kind, const char *work_dir)
{
    Mesos__MasterInfo master;
    test_master_init(&master, "m1");
    store_t *store = NULL;
    registry_t *previous = NULL;
    assert_int_equal(registrar_recover(kind, work_dir, NULL, &master, &store, &previous), ACTOR_OK);
    assert_non_null(store);
    assert_empty(previous);
    assert_master(store, "m1");
    mesos__internal__registry__registry__free_unpacked(previous, NULL);
    store_close(store);
}

static void test_empty_in_memory(void **state)
{
    (void)state;
    recover_empty("in_memory", NULL);
}

static void test_empty_lmdb_and_master_survives(void **state)
{
    char work_dir[TEST_DIR_LEN + 16];
    snprintf(work_dir, sizeof(work_dir), "%s/a/b", (char *)*state); /* created with parents */
    recover_empty("replicated_log", work_dir);
    Mesos__MasterInfo master;
    test_master_init(&master, "m2");
    store_t *store = NULL;
    registry_t *previous = NULL;
    assert_int_equal(registrar_recover("lmdb", work_dir, NULL, &master, &store, &previous),
                     ACTOR_OK);
    assert_non_null(previous->master);
    assert_string_equal(previous->master->info->id, "m1"); /* the one before */
    assert_master(store, "m2");
    mesos__internal__registry__registry__free_unpacked(previous, NULL);
    store_close(store);
}

static void test_refused_arguments(void **state)
{
    const char *dir = *state;
    Mesos__MasterInfo master;
    test_master_init(&master, "m1");
    store_t *store = NULL;
    registry_t *previous = NULL;
    assert_int_equal(registrar_recover("zookeeper", dir, NULL, &master, &store, &previous),
                     ACTOR_EINVAL);
    assert_int_equal(registrar_recover("lmdb", NULL, NULL, &master, &store, &previous),
                     ACTOR_EINVAL);
    assert_int_equal(registrar_recover("lmdb", "", NULL, &master, &store, &previous), ACTOR_EINVAL);
    assert_int_equal(registrar_recover("in_memory", dir, NULL, NULL, &store, &previous),
                     ACTOR_EINVAL);
    master.id = NULL; /* a required field */
    assert_int_equal(registrar_recover("in_memory", dir, NULL, &master, &store, &previous),
                     ACTOR_EINVAL);
    assert_null(store);
    assert_null(previous);
}

/* Stores value at key in dir's registry, then expects recovery to fail with ACTOR_EPROTO. */
static void expect_eproto(const char *dir, const char *key, const void *value, size_t len)
{
    store_t *store = test_store_open(dir, 0);
    test_store_put(store, key, value, len);
    store_close(store);
    Mesos__MasterInfo master;
    test_master_init(&master, "m1");
    registry_t *previous = NULL;
    store = NULL;
    assert_int_equal(registrar_recover("lmdb", dir, NULL, &master, &store, &previous),
                     ACTOR_EPROTO);
    assert_null(store);
    assert_null(previous);
    store = test_store_open(dir, 0); /* closed by the failed recovery: it opens again */
    assert_int_equal(store_delete(store, key, strlen(key)), ACTOR_OK);
    store_close(store);
}

static void test_damaged_values_are_eproto(void **state)
{
    const char *dir = *state;
    const char garbage[] = {(char)0xff, (char)0xff, (char)0xff};
    expect_eproto(dir, "agents/a1", garbage, sizeof(garbage));
    expect_eproto(dir, "master", garbage, sizeof(garbage));
    expect_eproto(dir, "weights/dev", "", 0); /* decodes, but lacks the required info */

    Mesos__WeightInfo weight;
    test_weight_init(&weight, "dev", 2.0);
    Mesos__Internal__Registry__Registry__Weight entry =
        MESOS__INTERNAL__REGISTRY__REGISTRY__WEIGHT__INIT;
    entry.info = &weight;
    void *value = NULL;
    size_t len = 0;
    assert_int_equal(registry_pack(&entry.base, &value, &len), ACTOR_OK);
    expect_eproto(dir, "weights/ops", value, len); /* names another role than its key */
    free(value);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_empty_in_memory, setup, teardown),
        cmocka_unit_test_setup_teardown(test_empty_lmdb_and_master_survives, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refused_arguments, setup, teardown),
        cmocka_unit_test_setup_teardown(test_damaged_values_are_eproto, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
