/* Tests of store.h run against both backends, "memory" and "lmdb", so that the two behave the
 * same: every operation, argument checks and limits, all-or-nothing batches with preconditions,
 * prefix scans in key order with their bounds, and readers on other threads seeing whole batches.
 * Each test gets a fresh store; the "lmdb" one lives in a mkdtemp directory under /tmp that the
 * teardown removes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <ftw.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "store/store.h"

typedef struct fixture {
    const char *backend; /* "memory" or "lmdb" */
    char dir[64];        /* mkdtemp directory ("lmdb" only) */
    store_t *store;
} fixture_t;

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    f->backend = *state;
    const char *path = NULL;
    if (strcmp(f->backend, "lmdb") == 0) {
        strcpy(f->dir, "/tmp/test_store.XXXXXX");
        assert_non_null(mkdtemp(f->dir));
        path = f->dir;
    }
    assert_int_equal(store_open(&f->store, f->backend, path, NULL), ACTOR_OK);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    store_close(f->store);
    if (f->dir[0] != '\0')
        assert_int_equal(nftw(f->dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS), 0);
    free(f);
    return 0;
}

static void put(store_t *s, const char *key, const char *value)
{
    assert_int_equal(store_put(s, key, strlen(key), value, strlen(value)), ACTOR_OK);
}

/* Asserts that key holds value (NULL: that key is absent). */
static void assert_stored(store_t *s, const char *key, const char *value)
{
    void *got = NULL;
    size_t len = 0;
    actor_err_t err = store_get(s, key, strlen(key), &got, &len);
    if (value == NULL) {
        assert_int_equal(err, ACTOR_ENOENT);
        assert_null(got);
        return;
    }
    assert_int_equal(err, ACTOR_OK);
    assert_non_null(got);
    assert_int_equal(len, strlen(value));
    assert_memory_equal(got, value, len);
    free(got);
}

static store_op_t op(store_op_kind_t kind, const char *key, const char *value)
{
    return (store_op_t){kind, key, strlen(key), value, value != NULL ? strlen(value) : 0};
}

/* What a scan saw: keys joined with '|', so tests compare one string. */
typedef struct seen {
    char text[4096];
    size_t len;
    int calls;
    int stop_after; /* stop once this many were seen; 0 = never */
} seen_t;

static bool collect(void *arg, const void *key, size_t key_len, const void *value, size_t value_len)
{
    (void)value;
    (void)value_len;
    seen_t *seen = arg;
    assert_true(seen->len + key_len + 2 < sizeof(seen->text));
    if (seen->calls > 0)
        seen->text[seen->len++] = '|';
    memcpy(seen->text + seen->len, key, key_len);
    seen->len += key_len;
    seen->text[seen->len] = '\0';
    seen->calls++;
    return seen->stop_after == 0 || seen->calls < seen->stop_after;
}

static seen_t scan(store_t *s, const void *prefix, size_t prefix_len)
{
    seen_t seen = {.len = 0};
    assert_int_equal(store_scan(s, prefix, prefix_len, collect, &seen), ACTOR_OK);
    return seen;
}

static void test_put_get_overwrite(void **state)
{
    fixture_t *f = *state;
    assert_stored(f->store, "k", NULL);
    put(f->store, "k", "one");
    assert_stored(f->store, "k", "one");
    put(f->store, "k", "a longer second value");
    assert_stored(f->store, "k", "a longer second value");
    put(f->store, "k", "3");
    assert_stored(f->store, "k", "3");
    assert_stored(f->store, "kk", NULL);
    assert_stored(f->store, "j", NULL);
}

static void test_delete(void **state)
{
    fixture_t *f = *state;
    put(f->store, "a", "1");
    put(f->store, "b", "2");
    assert_int_equal(store_delete(f->store, "a", 1), ACTOR_OK);
    assert_stored(f->store, "a", NULL);
    assert_stored(f->store, "b", "2");
    assert_int_equal(store_delete(f->store, "a", 1), ACTOR_OK); /* absent: not an error */
    assert_int_equal(store_delete(f->store, "zzz", 3), ACTOR_OK);
    put(f->store, "a", "again");
    assert_stored(f->store, "a", "again");
}

static void test_binary_keys_and_values(void **state)
{
    fixture_t *f = *state;
    const unsigned char key1[] = {0x00}, key2[] = {0x00, 0x00}, key3[] = {0xff, 0x00, 0x7f};
    const unsigned char value[] = {0x00, 0xff, 0x00, 0x01};
    assert_int_equal(store_put(f->store, key1, 1, value, sizeof(value)), ACTOR_OK);
    assert_int_equal(store_put(f->store, key2, 2, value, 1), ACTOR_OK);
    assert_int_equal(store_put(f->store, key3, 3, value + 1, 3), ACTOR_OK);
    void *got;
    size_t len;
    assert_int_equal(store_get(f->store, key1, 1, &got, &len), ACTOR_OK);
    assert_int_equal(len, sizeof(value));
    assert_memory_equal(got, value, len);
    free(got);
    assert_int_equal(store_get(f->store, key2, 2, &got, &len), ACTOR_OK);
    assert_int_equal(len, 1);
    assert_int_equal(((unsigned char *)got)[0], 0x00);
    free(got);
    assert_int_equal(store_get(f->store, key3, 3, &got, &len), ACTOR_OK);
    assert_int_equal(len, 3);
    assert_memory_equal(got, value + 1, 3);
    free(got);
    assert_int_equal(store_get(f->store, key3, 2, &got, &len), ACTOR_ENOENT);
}

static void test_empty_value_is_not_absence(void **state)
{
    fixture_t *f = *state;
    assert_int_equal(store_put(f->store, "e", 1, NULL, 0), ACTOR_OK);
    void *got = NULL;
    size_t len = 99;
    assert_int_equal(store_get(f->store, "e", 1, &got, &len), ACTOR_OK);
    assert_non_null(got);
    assert_int_equal(len, 0);
    free(got);
    store_op_t absent = op(STORE_OP_EXPECT_ABSENT, "e", NULL);
    assert_int_equal(store_apply(f->store, &absent, 1), ACTOR_EBUSY);
    store_op_t empty[] = {op(STORE_OP_EXPECT, "e", ""), op(STORE_OP_PUT, "e", "full")};
    assert_int_equal(store_apply(f->store, empty, 2), ACTOR_OK);
    assert_stored(f->store, "e", "full");
    assert_int_equal(store_apply(f->store, empty, 2), ACTOR_EBUSY); /* "full" is not "" */
}

static void test_batch_applies_everything(void **state)
{
    fixture_t *f = *state;
    put(f->store, "old", "x");
    store_op_t ops[] = {op(STORE_OP_PUT, "a", "1"), op(STORE_OP_PUT, "b", "2"),
                        op(STORE_OP_DELETE, "old", NULL), op(STORE_OP_PUT, "c", "3")};
    assert_int_equal(store_apply(f->store, ops, 4), ACTOR_OK);
    assert_stored(f->store, "a", "1");
    assert_stored(f->store, "b", "2");
    assert_stored(f->store, "c", "3");
    assert_stored(f->store, "old", NULL);
    assert_int_equal(store_apply(f->store, NULL, 0), ACTOR_OK);
    assert_int_equal(store_apply(f->store, ops, 0), ACTOR_OK);
}

static void test_batch_later_operations_win(void **state)
{
    fixture_t *f = *state;
    store_op_t ops[] = {op(STORE_OP_PUT, "a", "1"),     op(STORE_OP_PUT, "a", "2"),
                        op(STORE_OP_PUT, "b", "1"),     op(STORE_OP_DELETE, "b", NULL),
                        op(STORE_OP_DELETE, "c", NULL), op(STORE_OP_PUT, "c", "3")};
    assert_int_equal(store_apply(f->store, ops, 6), ACTOR_OK);
    assert_stored(f->store, "a", "2");
    assert_stored(f->store, "b", NULL);
    assert_stored(f->store, "c", "3");
}

/* A batch whose precondition fails applies nothing, wherever the precondition sits. */
static void test_failed_precondition_applies_nothing(void **state)
{
    fixture_t *f = *state;
    put(f->store, "a", "1");
    put(f->store, "b", "2");
    store_op_t wrong_value[] = {op(STORE_OP_PUT, "a", "new"), op(STORE_OP_DELETE, "b", NULL),
                                op(STORE_OP_PUT, "c", "3"), op(STORE_OP_EXPECT, "b", "not 2")};
    assert_int_equal(store_apply(f->store, wrong_value, 4), ACTOR_EBUSY);
    store_op_t present[] = {op(STORE_OP_EXPECT_ABSENT, "a", NULL), op(STORE_OP_PUT, "c", "3")};
    assert_int_equal(store_apply(f->store, present, 2), ACTOR_EBUSY);
    store_op_t absent[] = {op(STORE_OP_PUT, "c", "3"), op(STORE_OP_EXPECT, "zz", "1")};
    assert_int_equal(store_apply(f->store, absent, 2), ACTOR_EBUSY);
    store_op_t prefix[] = {op(STORE_OP_EXPECT, "a", "12"), op(STORE_OP_DELETE, "a", NULL)};
    assert_int_equal(store_apply(f->store, prefix, 2), ACTOR_EBUSY);
    store_op_t one_of_two[] = {op(STORE_OP_EXPECT, "a", "1"), op(STORE_OP_EXPECT, "b", "3"),
                               op(STORE_OP_DELETE, "a", NULL)};
    assert_int_equal(store_apply(f->store, one_of_two, 3), ACTOR_EBUSY);
    assert_stored(f->store, "a", "1");
    assert_stored(f->store, "b", "2");
    assert_stored(f->store, "c", NULL);
    assert_int_equal(scan(f->store, NULL, 0).calls, 2);
}

/* Marathon's optimistic update: read, then write only if nobody wrote meanwhile. */
static void test_compare_and_set(void **state)
{
    fixture_t *f = *state;
    store_op_t create[] = {op(STORE_OP_EXPECT_ABSENT, "app", NULL), op(STORE_OP_PUT, "app", "v1")};
    assert_int_equal(store_apply(f->store, create, 2), ACTOR_OK);
    assert_int_equal(store_apply(f->store, create, 2), ACTOR_EBUSY);
    store_op_t update[] = {op(STORE_OP_EXPECT, "app", "v1"), op(STORE_OP_PUT, "app", "v2"),
                           op(STORE_OP_PUT, "app.version", "2")};
    assert_int_equal(store_apply(f->store, update, 3), ACTOR_OK);
    assert_stored(f->store, "app", "v2");
    assert_stored(f->store, "app.version", "2");
    store_op_t stale[] = {op(STORE_OP_EXPECT, "app", "v1"), op(STORE_OP_PUT, "app", "v3")};
    assert_int_equal(store_apply(f->store, stale, 2), ACTOR_EBUSY);
    assert_stored(f->store, "app", "v2");
    store_op_t remove_it[] = {op(STORE_OP_EXPECT, "app", "v2"), op(STORE_OP_DELETE, "app", NULL)};
    assert_int_equal(store_apply(f->store, remove_it, 2), ACTOR_OK);
    assert_stored(f->store, "app", NULL);
}

/* Preconditions see the store before the batch, not the batch's own changes. */
static void test_preconditions_see_the_state_before_the_batch(void **state)
{
    fixture_t *f = *state;
    store_op_t own_put[] = {op(STORE_OP_PUT, "a", "1"), op(STORE_OP_EXPECT, "a", "1")};
    assert_int_equal(store_apply(f->store, own_put, 2), ACTOR_EBUSY);
    assert_stored(f->store, "a", NULL);
    store_op_t before[] = {op(STORE_OP_PUT, "a", "1"), op(STORE_OP_EXPECT_ABSENT, "a", NULL)};
    assert_int_equal(store_apply(f->store, before, 2), ACTOR_OK);
    store_op_t own_delete[] = {op(STORE_OP_DELETE, "a", NULL), op(STORE_OP_EXPECT, "a", "1")};
    assert_int_equal(store_apply(f->store, own_delete, 2), ACTOR_OK);
    assert_stored(f->store, "a", NULL);
}

static void put_keys(store_t *s, const char *const *keys, size_t n)
{
    for (size_t i = 0; i < n; i++)
        put(s, keys[i], "v");
}

/* Prefix "a" includes "a" itself, keys with 0x00 and 0xff after it, and nothing of "b" or "`". */
static void test_scan_prefix_order_and_bounds(void **state)
{
    fixture_t *f = *state;
    static const char *const keys[] = {"b",   "a\xff\xff", "a/2", "`",      "a",    "ab",      "A",
                                       "a/1", "a\xff",     "b/1", "aa\xff", "\xff", "\xff\xff"};
    put_keys(f->store, keys, sizeof(keys) / sizeof(keys[0]));
    put(f->store, "a", "v");
    assert_int_equal(store_put(f->store, "a\0", 2, "v", 1), ACTOR_OK);
    seen_t seen = scan(f->store, "a", 1);
    assert_int_equal(seen.calls, 8);
    assert_memory_equal(seen.text, "a|a\0|a/1|a/2|aa\xff|ab|a\xff|a\xff\xff", seen.len);
    assert_int_equal(seen.len, strlen("a|a") + 1 + strlen("|a/1|a/2|aa\xff|ab|a\xff|a\xff\xff"));
    seen = scan(f->store, "a\xff", 2);
    assert_string_equal(seen.text, "a\xff|a\xff\xff");
    seen = scan(f->store, "\xff", 1);
    assert_string_equal(seen.text, "\xff|\xff\xff");
    seen = scan(f->store, "b", 1);
    assert_string_equal(seen.text, "b|b/1");
    seen = scan(f->store, "a/", 2);
    assert_string_equal(seen.text, "a/1|a/2");
    assert_int_equal(scan(f->store, "a/3", 3).calls, 0);
    assert_int_equal(scan(f->store, "c", 1).calls, 0);
    assert_int_equal(scan(f->store, "0", 1).calls, 0);
    assert_int_equal(scan(f->store, "ab/", 3).calls, 0); /* longer than the key "ab" */
}

static void test_scan_everything_in_key_order(void **state)
{
    fixture_t *f = *state;
    seen_t seen = scan(f->store, NULL, 0);
    assert_int_equal(seen.calls, 0);
    static const char *const keys[] = {"m", "ab", "b", "a", "abc", "\x01", "z", "B"};
    put_keys(f->store, keys, sizeof(keys) / sizeof(keys[0]));
    seen = scan(f->store, NULL, 0);
    assert_string_equal(seen.text, "\x01|B|a|ab|abc|b|m|z");
    seen = scan(f->store, "", 0);
    assert_int_equal(seen.calls, 8);
}

static void test_scan_stops_when_asked(void **state)
{
    fixture_t *f = *state;
    static const char *const keys[] = {"p/1", "p/2", "p/3", "p/4"};
    put_keys(f->store, keys, 4);
    seen_t seen = {.stop_after = 2};
    assert_int_equal(store_scan(f->store, "p/", 2, collect, &seen), ACTOR_OK);
    assert_int_equal(seen.calls, 2);
    assert_string_equal(seen.text, "p/1|p/2");
}

static bool check_value(void *arg, const void *key, size_t key_len, const void *value,
                        size_t value_len)
{
    int *calls = arg;
    (*calls)++;
    /* Values are the key with "=" in front. */
    assert_int_equal(value_len, key_len + 1);
    assert_int_equal(((const char *)value)[0], '=');
    assert_memory_equal((const char *)value + 1, key, key_len);
    return true;
}

static void test_scan_passes_values(void **state)
{
    fixture_t *f = *state;
    put(f->store, "v/a", "=v/a");
    put(f->store, "v/bb", "=v/bb");
    assert_int_equal(store_put(f->store, "v/", 2, "=v/", 3), ACTOR_OK);
    int calls = 0;
    assert_int_equal(store_scan(f->store, "v", 1, check_value, &calls), ACTOR_OK);
    assert_int_equal(calls, 3);
}

static void test_key_and_value_limits(void **state)
{
    fixture_t *f = *state;
    char key[STORE_KEY_MAX + 1];
    memset(key, 'k', sizeof(key));
    key[STORE_KEY_MAX - 1] = '\xff';
    assert_int_equal(store_put(f->store, key, STORE_KEY_MAX, "max", 3), ACTOR_OK);
    void *got;
    size_t len;
    assert_int_equal(store_get(f->store, key, STORE_KEY_MAX, &got, &len), ACTOR_OK);
    free(got);
    assert_int_equal(scan(f->store, key, STORE_KEY_MAX).calls, 1);
    assert_int_equal(store_put(f->store, key, STORE_KEY_MAX + 1, "x", 1), ACTOR_ETOOBIG);
    assert_int_equal(store_get(f->store, key, STORE_KEY_MAX + 1, &got, &len), ACTOR_ETOOBIG);
    assert_int_equal(store_delete(f->store, key, STORE_KEY_MAX + 1), ACTOR_ETOOBIG);
    assert_int_equal(store_scan(f->store, key, STORE_KEY_MAX + 1, collect, NULL), ACTOR_ETOOBIG);
    store_op_t expect = {STORE_OP_EXPECT_ABSENT, key, STORE_KEY_MAX + 1, NULL, 0};
    assert_int_equal(store_apply(f->store, &expect, 1), ACTOR_ETOOBIG);

    char *big = malloc(STORE_VALUE_MAX + 1);
    assert_non_null(big);
    memset(big, 0xab, STORE_VALUE_MAX + 1);
    assert_int_equal(store_put(f->store, "big", 3, big, STORE_VALUE_MAX + 1), ACTOR_ETOOBIG);
    store_op_t expect_big = {STORE_OP_EXPECT, "big", 3, big, STORE_VALUE_MAX + 1};
    assert_int_equal(store_apply(f->store, &expect_big, 1), ACTOR_ETOOBIG);
    assert_int_equal(store_put(f->store, "big", 3, big, STORE_VALUE_MAX), ACTOR_OK);
    assert_int_equal(store_get(f->store, "big", 3, &got, &len), ACTOR_OK);
    assert_int_equal(len, STORE_VALUE_MAX);
    assert_memory_equal(got, big, len);
    free(got);
    free(big);
}

/* A batch with one operation over a limit is refused whole. */
static void test_limit_in_a_batch_applies_nothing(void **state)
{
    fixture_t *f = *state;
    char key[STORE_KEY_MAX + 1];
    memset(key, 'k', sizeof(key));
    store_op_t ops[] = {op(STORE_OP_PUT, "fine", "1"),
                        op(STORE_OP_DELETE, "x", NULL),
                        {STORE_OP_PUT, key, sizeof(key), "v", 1}};
    assert_int_equal(store_apply(f->store, ops, 3), ACTOR_ETOOBIG);
    ops[2] = (store_op_t){STORE_OP_PUT, "", 0, "v", 1};
    assert_int_equal(store_apply(f->store, ops, 3), ACTOR_EINVAL);
    assert_stored(f->store, "fine", NULL);
}

static void test_argument_checks(void **state)
{
    fixture_t *f = *state;
    store_t *s = f->store;
    void *got;
    size_t len;
    assert_int_equal(store_get(NULL, "k", 1, &got, &len), ACTOR_EINVAL);
    assert_int_equal(store_get(s, NULL, 1, &got, &len), ACTOR_EINVAL);
    assert_int_equal(store_get(s, "k", 0, &got, &len), ACTOR_EINVAL);
    assert_int_equal(store_get(s, "k", 1, NULL, &len), ACTOR_EINVAL);
    assert_int_equal(store_get(s, "k", 1, &got, NULL), ACTOR_EINVAL);
    assert_int_equal(store_put(NULL, "k", 1, "v", 1), ACTOR_EINVAL);
    assert_int_equal(store_put(s, "k", 0, "v", 1), ACTOR_EINVAL);
    assert_int_equal(store_put(s, "k", 1, NULL, 1), ACTOR_EINVAL);
    assert_int_equal(store_delete(s, NULL, 0), ACTOR_EINVAL);
    assert_int_equal(store_apply(s, NULL, 1), ACTOR_EINVAL);
    assert_int_equal(store_apply(NULL, NULL, 0), ACTOR_EINVAL);
    store_op_t bad_kind = {(store_op_kind_t)42, "k", 1, NULL, 0};
    assert_int_equal(store_apply(s, &bad_kind, 1), ACTOR_EINVAL);
    store_op_t null_expect = {STORE_OP_EXPECT, "k", 1, NULL, 3};
    assert_int_equal(store_apply(s, &null_expect, 1), ACTOR_EINVAL);
    assert_int_equal(store_scan(NULL, "k", 1, collect, NULL), ACTOR_EINVAL);
    assert_int_equal(store_scan(s, "k", 1, NULL, NULL), ACTOR_EINVAL);
    assert_int_equal(store_scan(s, NULL, 1, collect, NULL), ACTOR_EINVAL);
    assert_int_equal(scan(s, NULL, 0).calls, 0); /* nothing was written */
    store_t *other = NULL;
    assert_int_equal(store_open(&other, "leveldb", f->dir, NULL), ACTOR_EINVAL);
    assert_int_equal(store_open(&other, NULL, f->dir, NULL), ACTOR_EINVAL);
    assert_int_equal(store_open(NULL, f->backend, f->dir, NULL), ACTOR_EINVAL);
    assert_null(other);
    store_close(NULL);
}

/* Checks that a scan visits key/00000, key/<step>, key/<2 step>, ... in that order. */
typedef struct sequence {
    int next; /* number expected next */
    int step;
} sequence_t;

static bool check_sequence(void *arg, const void *key, size_t key_len, const void *value,
                           size_t value_len)
{
    sequence_t *seq = arg;
    char want[16];
    snprintf(want, sizeof(want), "key/%05d", seq->next);
    assert_int_equal(key_len, strlen(want));
    assert_memory_equal(key, want, key_len);
    assert_int_equal(value_len, key_len);
    assert_memory_equal(value, want, value_len);
    seq->next += seq->step;
    return true;
}

/* Keys in a scrambled order, in batches: a scan returns them sorted; deleting every other key
 * leaves the rest. Grows the memory backend's table several times. */
static void test_many_keys(void **state)
{
    fixture_t *f = *state;
    enum { N = 2000, BATCH = 100 };
    static char keys[N][16];
    store_op_t ops[BATCH];
    for (int i = 0; i < N; i++) {
        int k = (int)(((unsigned)i * 7919u) % N); /* 7919 is prime: a permutation of 0..N-1 */
        snprintf(keys[i], sizeof(keys[i]), "key/%05d", k);
        ops[i % BATCH] = op(STORE_OP_PUT, keys[i], keys[i]);
        if (i % BATCH == BATCH - 1)
            assert_int_equal(store_apply(f->store, ops, BATCH), ACTOR_OK);
    }
    sequence_t seq = {0, 1};
    assert_int_equal(store_scan(f->store, "key/", 4, check_sequence, &seq), ACTOR_OK);
    assert_int_equal(seq.next, N);
    for (int i = 0; i < N; i += 2) {
        ops[(i / 2) % BATCH] = op(STORE_OP_DELETE, keys[i], NULL);
        if ((i / 2) % BATCH == BATCH - 1)
            assert_int_equal(store_apply(f->store, ops, BATCH), ACTOR_OK);
    }
    /* keys[i] for even i holds the numbers k = i * 7919 % N: all even numbers, as N is even */
    seq = (sequence_t){1, 2};
    assert_int_equal(store_scan(f->store, NULL, 0, check_sequence, &seq), ACTOR_OK);
    assert_int_equal(seq.next, N + 1);
}

/* A writer applies batches that set c/x and c/y to the same counter; reader threads scanning "c/"
 * must always find the two equal, as a batch is seen whole or not at all. */
enum { READERS = 2, ROUNDS = 200 };

typedef struct race {
    store_t *store;
    atomic_bool done;
    atomic_int scans; /* scans that found both keys */
    atomic_int torn;  /* scans that found one key, or two different values */
} race_t;

typedef struct pair {
    char x[16], y[16];
    int found;
} pair_t;

static bool pair_collect(void *arg, const void *key, size_t key_len, const void *value,
                         size_t value_len)
{
    pair_t *p = arg;
    char *dst = key_len == 3 && memcmp(key, "c/x", 3) == 0 ? p->x : p->y;
    if (value_len >= sizeof(p->x))
        value_len = sizeof(p->x) - 1;
    memcpy(dst, value, value_len);
    dst[value_len] = '\0';
    p->found++;
    return true;
}

static void *race_reader(void *arg)
{
    race_t *race = arg;
    while (!atomic_load(&race->done)) {
        /* No cmocka assertions here: they may only fail on the test's own thread. */
        pair_t p = {.found = 0};
        actor_err_t err = store_scan(race->store, "c/", 2, pair_collect, &p);
        if (err == ACTOR_OK && p.found == 0)
            continue;
        if (err != ACTOR_OK || p.found != 2 || strcmp(p.x, p.y) != 0)
            atomic_fetch_add(&race->torn, 1);
        atomic_fetch_add(&race->scans, 1);
    }
    return NULL;
}

static void test_readers_see_whole_batches(void **state)
{
    fixture_t *f = *state;
    race_t race = {.store = f->store};
    atomic_init(&race.done, false);
    atomic_init(&race.scans, 0);
    atomic_init(&race.torn, 0);
    pthread_t readers[READERS];
    for (int i = 0; i < READERS; i++)
        assert_int_equal(pthread_create(&readers[i], NULL, race_reader, &race), 0);
    for (int round = 0; round < ROUNDS; round++) {
        char value[16];
        snprintf(value, sizeof(value), "%d", round);
        store_op_t ops[] = {op(STORE_OP_PUT, "c/x", value), op(STORE_OP_PUT, "c/y", value)};
        assert_int_equal(store_apply(f->store, ops, 2), ACTOR_OK);
        assert_stored(f->store, "c/x", value);
    }
    /* Stop the readers once they have checked some scans that found the keys. */
    while (atomic_load(&race.scans) < READERS)
        sched_yield();
    atomic_store(&race.done, true);
    for (int i = 0; i < READERS; i++)
        assert_int_equal(pthread_join(readers[i], NULL), 0);
    assert_int_equal(atomic_load(&race.torn), 0);
}

#define STORE_TESTS(backend)                                                                       \
    {                                                                                              \
        T(test_put_get_overwrite, backend), T(test_delete, backend),                               \
            T(test_binary_keys_and_values, backend), T(test_empty_value_is_not_absence, backend),  \
            T(test_batch_applies_everything, backend),                                             \
            T(test_batch_later_operations_win, backend),                                           \
            T(test_failed_precondition_applies_nothing, backend),                                  \
            T(test_compare_and_set, backend),                                                      \
            T(test_preconditions_see_the_state_before_the_batch, backend),                         \
            T(test_scan_prefix_order_and_bounds, backend),                                         \
            T(test_scan_everything_in_key_order, backend), T(test_scan_stops_when_asked, backend), \
            T(test_scan_passes_values, backend), T(test_key_and_value_limits, backend),            \
            T(test_limit_in_a_batch_applies_nothing, backend), T(test_argument_checks, backend),   \
            T(test_many_keys, backend), T(test_readers_see_whole_batches, backend),                \
    }
#define T(fn, backend) cmocka_unit_test_prestate_setup_teardown(fn, setup, teardown, backend)

int main(void)
{
    static char memory[] = "memory", lmdb[] = "lmdb";
    const struct CMUnitTest memory_tests[] = STORE_TESTS(memory);
    const struct CMUnitTest lmdb_tests[] = STORE_TESTS(lmdb);
    int failed = cmocka_run_group_tests_name("memory", memory_tests, NULL, NULL);
    failed += cmocka_run_group_tests_name("lmdb", lmdb_tests, NULL, NULL);
    return failed;
}
