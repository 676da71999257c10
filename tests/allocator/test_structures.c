/* Tests of the allocator's generic pieces: idmap.h (string map, with removal inside probe
 * clusters), sortlist.h (order, ties, re-keying, rebuilding), minheap.h (order, removal from the
 * middle) and filter_table.h (live, expired and dead filters, growth dropping dead ones, refused
 * resources holding what they contain, several filters per key, shared sets). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "helpers.h"
#include "master/allocator/filter_table.h"
#include "master/allocator/idmap.h"
#include "master/allocator/minheap.h"
#include "master/allocator/sortlist.h"

static void test_idmap(void **unused)
{
    (void)unused;
    enum { N = 2000 };
    static char keys[N][16];
    idmap_t m;
    idmap_init(&m);
    assert_null(idmap_get(&m, "x"));
    assert_null(idmap_remove(&m, "x"));
    for (int i = 0; i < N; i++) {
        snprintf(keys[i], sizeof(keys[i]), "k%d", i);
        assert_int_equal(idmap_put(&m, keys[i], &keys[i]), ACTOR_OK);
    }
    assert_int_equal(idmap_put(&m, "k7", NULL), ACTOR_EEXIST);
    assert_int_equal(m.count, N);
    for (int i = 0; i < N; i += 2)
        assert_ptr_equal(idmap_remove(&m, keys[i]), &keys[i]);
    for (int i = 0; i < N; i++)
        assert_ptr_equal(idmap_get(&m, keys[i]), i % 2 ? (void *)&keys[i] : NULL);
    size_t pos = 0, seen = 0;
    while (idmap_next(&m, &pos) != NULL)
        seen++;
    assert_int_equal(seen, N / 2);
    idmap_fini(&m);
}

typedef struct item {
    sortlist_node_t node;
    double weight;
} item_t;

static double key_times_weight(const sortlist_node_t *n, void *ctx)
{
    (void)ctx;
    return n->key * ((const item_t *)(const void *)n)->weight;
}

static void assert_order(const sortlist_t *l, const uint64_t *ties, size_t n)
{
    size_t i = 0;
    for (sortlist_node_t *x = sortlist_first(l); x != NULL; x = sortlist_next(x), i++) {
        assert_true(i < n);
        assert_int_equal(x->tie, ties[i]);
    }
    assert_int_equal(i, n);
    assert_int_equal(l->count, n);
}

static void test_sortlist(void **unused)
{
    (void)unused;
    item_t items[5] = {0};
    sortlist_t l;
    sortlist_init(&l);
    double keys[5] = {0.5, 0.1, 0.5, 0.0, 0.3};
    for (int i = 0; i < 5; i++) {
        items[i].node.key = keys[i];
        items[i].node.tie = (uint64_t)i;
        items[i].weight = 1.0;
        sortlist_insert(&l, &items[i].node);
        assert_true(sortlist_linked(&items[i].node));
    }
    assert_order(&l, (uint64_t[]){3, 1, 4, 0, 2}, 5); /* equal keys: by tie */
    sortlist_rekey(&l, &items[3].node, 0.4);
    assert_order(&l, (uint64_t[]){1, 4, 3, 0, 2}, 5);
    sortlist_remove(&l, &items[4].node);
    assert_false(sortlist_linked(&items[4].node));
    assert_order(&l, (uint64_t[]){1, 3, 0, 2}, 4);
    items[1].weight = 10.0; /* 0.1 -> 1.0 */
    sortlist_rebuild(&l, key_times_weight, NULL);
    assert_order(&l, (uint64_t[]){3, 0, 2, 1}, 4);

    /* Names order before ties when both nodes have one. */
    sortlist_t named;
    sortlist_init(&named);
    sortlist_node_t b = {.key = 0, .name = "b"}, a = {.key = 0, .name = "a"};
    sortlist_insert(&named, &b);
    sortlist_insert(&named, &a);
    assert_ptr_equal(sortlist_first(&named), &a);
}

static void test_sortlist_many(void **unused)
{
    (void)unused;
    enum { N = 5000 };
    item_t *items = calloc(N, sizeof(*items));
    sortlist_t l;
    sortlist_init(&l);
    for (int i = 0; i < N; i++) {
        items[i].node.key = (double)((i * 7919) % N);
        items[i].node.tie = (uint64_t)i;
        sortlist_insert(&l, &items[i].node);
    }
    for (int i = 0; i < N; i += 3)
        sortlist_rekey(&l, &items[i].node, (double)(N - i));
    for (int i = 1; i < N; i += 5)
        sortlist_remove(&l, &items[i].node);
    size_t n = 0;
    const sortlist_node_t *prev = NULL;
    for (sortlist_node_t *x = sortlist_first(&l); x != NULL; x = sortlist_next(x), n++) {
        if (prev != NULL)
            assert_true(prev->key < x->key || (prev->key == x->key && prev->tie < x->tie));
        prev = x;
    }
    assert_int_equal(n, l.count);
    assert_int_equal(n, N - N / 5);
    free(items);
}

static void test_minheap(void **unused)
{
    (void)unused;
    enum { N = 100 };
    minheap_node_t nodes[N];
    minheap_t h;
    minheap_init(&h);
    for (int i = 0; i < N; i++) {
        minheap_node_init(&nodes[i]);
        nodes[i].key = (double)((i * 37) % N);
        assert_int_equal(minheap_push(&h, &nodes[i]), ACTOR_OK);
    }
    for (int i = 0; i < N; i += 2)
        minheap_remove(&h, &nodes[i]);
    assert_false(minheap_contains(&nodes[0]));
    double last = -1;
    while (minheap_top(&h) != NULL) {
        minheap_node_t *n = minheap_top(&h);
        assert_true(n->key >= last);
        last = n->key;
        minheap_remove(&h, n);
    }
    minheap_fini(&h);
}

/* set_filter: reserve and add a filter of (slot, member 1) on a new set holding `text`. */
static void set_filter(filter_table_t *t, uint32_t slot, uint32_t epoch, double expires,
                       const char *text, const uint32_t *epochs, double now)
{
    resources_t r = res(text);
    filter_set_t *set = filter_table_share(t, &r);
    if (set == NULL) {
        set = filter_set_new();
        assert_non_null(set);
        assert_int_equal(packed_set(&set->res, &r), ACTOR_OK);
    }
    assert_int_equal(filter_table_reserve(t, epochs, now), ACTOR_OK);
    filter_table_add(t, slot, epoch, 1, expires, set, epochs, now);
    resources_fini(&r);
}

/* Whether a filter of (slot, member 1) holds `text` at now. */
static bool blocks(const filter_table_t *t, uint32_t slot, uint32_t epoch, double now,
                   const char *text)
{
    resources_t r = res(text);
    bool b = filter_table_blocks(t, slot, epoch, 1, now, &r, NULL);
    resources_fini(&r);
    return b;
}

static void test_filter_table(void **unused)
{
    (void)unused;
    uint32_t epochs[300] = {0};
    const char *all = "cpus:1;mem:64";
    filter_table_t t;
    filter_table_init(&t);
    assert_false(blocks(&t, 1, 0, 0, all));
    assert_true(isinf(filter_table_next_expiry(&t, epochs, 0)));
    set_filter(&t, 1, 0, 10.0, all, epochs, 0);
    assert_true(blocks(&t, 1, 0, 9.9, all));
    assert_true(filter_table_has(&t, 1, 0, 1, 9.9));
    assert_false(filter_table_has(&t, 1, 0, 2, 9.9)); /* another member: another role */
    assert_false(blocks(&t, 1, 0, 10.0, all));        /* expired */
    assert_false(blocks(&t, 1, 1, 5.0, all));         /* another epoch: revived */
    assert_false(blocks(&t, 2, 0, 5.0, all));
    set_filter(&t, 1, 0, 20.0, all, epochs, 0); /* supersedes: same resources, later */
    assert_true(blocks(&t, 1, 0, 15.0, all));
    assert_int_equal(t.used, 1);

    /* Many filters; the dead ones (epoch bumped) are dropped when the table grows. */
    for (uint32_t s = 2; s < 200; s++)
        set_filter(&t, s, 0, 100.0 + s, all, epochs, 0);
    for (uint32_t s = 2; s < 200; s += 2)
        epochs[s]++;
    assert_int_equal(filter_table_live(&t, epochs, 0), 1 + 99);
    for (uint32_t s = 200; s < 300; s++)
        set_filter(&t, s, 0, 500.0, all, epochs, 0);
    assert_int_equal(filter_table_live(&t, epochs, 0), 200);
    assert_true(t.used < 300);
    assert_true(blocks(&t, 3, 0, 50.0, all));
    assert_false(blocks(&t, 4, epochs[4], 50.0, all)); /* dead */
    /* The lower bound passed: an exact scan finds the first live expiry. */
    assert_true(filter_table_next_expiry(&t, epochs, 21.0) == 103.0);
    /* Every filter refused the same: they share one set, with a reference per entry live at 21
     * (slot 1's expired at 20; the scan above let go of the dead ones' references). */
    uint32_t sharing = 0;
    for (uint32_t i = 0; i < t.cap; i++) {
        if (t.entries[i].set != NULL) {
            assert_ptr_equal(t.entries[i].set, t.last);
            sharing++;
        }
    }
    assert_int_equal(sharing, 199);
    assert_int_equal(t.last->refs, 199 + 1);
    /* All expired: a scan frees the whole table, and the latest set gets a new name. */
    uint32_t gen = t.last_gen;
    assert_true(isinf(filter_table_next_expiry(&t, epochs, 1000.0)));
    assert_int_equal(t.cap, 0);
    assert_null(t.last);
    assert_int_not_equal(t.last_gen, gen);
    filter_table_fini(&t);
}

/* A filter holds what was refused (Mesos's RefusedOfferFilter): an offer it contains is
 * filtered, a bigger one is not. Several filters of one key live side by side, as Mesos keeps a
 * set of them, until a new one contains and outlives an old one. */
static void test_filter_table_resources(void **unused)
{
    (void)unused;
    uint32_t epochs[4] = {0};
    filter_table_t t;
    filter_table_init(&t);
    set_filter(&t, 1, 0, 100.0, "cpus:2;mem:256;ports:[31000-31009]", epochs, 0);
    assert_true(blocks(&t, 1, 0, 1, "cpus:2;mem:256;ports:[31000-31009]"));
    assert_true(blocks(&t, 1, 0, 1, "cpus:1;ports:[31002-31003]"));
    assert_false(blocks(&t, 1, 0, 1, "cpus:3;mem:256"));
    assert_false(blocks(&t, 1, 0, 1, "cpus:1;ports:[31009-31010]"));
    assert_false(blocks(&t, 1, 0, 1, "cpus:1;gpus:1"));

    /* Another refusal of other resources, shorter: both filters hold. */
    set_filter(&t, 1, 0, 50.0, "cpus:4;mem:128", epochs, 1);
    assert_int_equal(t.used, 2);
    assert_true(blocks(&t, 1, 0, 2, "cpus:4"));
    assert_true(blocks(&t, 1, 0, 2, "ports:[31000-31001]"));
    assert_false(blocks(&t, 1, 0, 2, "cpus:4;ports:[31000-31001]"));
    assert_true(blocks(&t, 1, 0, 60, "ports:[31000-31001]"));
    assert_false(blocks(&t, 1, 0, 60, "cpus:4")); /* its filter expired */
    /* A refusal of everything for longer supersedes both (in place: no new entry). */
    set_filter(&t, 1, 0, 200.0, "cpus:4;mem:256;ports:[31000-31009]", epochs, 2);
    assert_int_equal(t.used, 2);
    assert_int_equal(filter_table_live(&t, epochs, 2), 2);
    assert_true(blocks(&t, 1, 0, 150, "cpus:4;ports:[31000-31001]"));

    /* The memo: one containment per set for one offer. */
    resources_t offer = res("cpus:1");
    filter_memo_t memo = {0};
    assert_true(filter_table_blocks(&t, 1, 0, 1, 150, &offer, &memo));
    assert_non_null(memo.set);
    assert_true(memo.contained);
    filter_memo_t wrong = {.set = memo.set, .contained = false}; /* a stale memo is believed */
    assert_false(filter_table_blocks(&t, 1, 0, 1, 150, &offer, &wrong));
    resources_fini(&offer);
    filter_table_fini(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_idmap),         cmocka_unit_test(test_sortlist),
        cmocka_unit_test(test_sortlist_many), cmocka_unit_test(test_minheap),
        cmocka_unit_test(test_filter_table),  cmocka_unit_test(test_filter_table_resources),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
