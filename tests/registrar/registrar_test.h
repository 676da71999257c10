/* registrar_test.h: helpers shared by the registrar's tests: a temporary directory, and agents
 * and masters built in the caller's storage. Include after <cmocka.h>. */
#ifndef TESTS_REGISTRAR_REGISTRAR_TEST_H
#define TESTS_REGISTRAR_REGISTRAR_TEST_H

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "master/registrar/registrar_int.h"

#define TEST_DIR_LEN 64

/* Makes a new directory under /tmp into dir (TEST_DIR_LEN bytes). */
static inline void test_dir_make(char *dir)
{
    snprintf(dir, TEST_DIR_LEN, "/tmp/test_registrar.XXXXXX");
    assert_non_null(mkdtemp(dir));
}

static inline int test_dir_remove_entry(const char *path, const struct stat *st, int flag,
                                        struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static inline void test_dir_remove(const char *dir)
{
    assert_int_equal(nftw(dir, test_dir_remove_entry, 8, FTW_DEPTH | FTW_PHYS), 0);
}

/* An AgentInfo with its id, in the caller's storage (hostname borrowed). */
typedef struct test_agent {
    Mesos__AgentInfo info;
    Mesos__AgentID id;
    char id_text[64];
} test_agent_t;

static inline void test_agent_init(test_agent_t *a, const char *id, const char *hostname)
{
    mesos__agent_info__init(&a->info);
    mesos__agent_id__init(&a->id);
    snprintf(a->id_text, sizeof(a->id_text), "%s", id);
    a->id.value = a->id_text;
    a->info.id = &a->id;
    a->info.hostname = (char *)hostname;
}

/* A WeightInfo for role (borrowed), in the caller's storage. */
static inline void test_weight_init(Mesos__WeightInfo *w, const char *role, double weight)
{
    mesos__weight_info__init(w);
    w->role = (char *)role;
    w->weight = weight;
}

/* A MasterInfo named id, in the caller's storage. */
static inline void test_master_init(Mesos__MasterInfo *m, const char *id)
{
    mesos__master_info__init(m);
    m->id = (char *)id;
    m->ip = 0x0100007f;
    m->port = 5050;
}

/* Opens an "lmdb" store at dir/registry with map_size bytes (0: the default). */
static inline store_t *test_store_open(const char *dir, size_t map_size)
{
    char path[TEST_DIR_LEN + 16];
    snprintf(path, sizeof(path), "%s/registry", dir);
    store_options_t options = {.map_size = map_size};
    store_t *store = NULL;
    assert_int_equal(store_open(&store, "lmdb", path, &options), ACTOR_OK);
    return store;
}

static inline void test_store_put(store_t *store, const char *key, const void *value, size_t len)
{
    assert_int_equal(store_put(store, key, strlen(key), value, len), ACTOR_OK);
}

#endif
