/*
 * sortlist.c: Pugh's skip list with p = 1/4. A search keeps, per level, the last node before
 * the target (`prev`), which is where an insert links and a removal unlinks.
 */
#include <string.h>

#include "master/allocator/sortlist.h"

static int compare(const sortlist_node_t *a, const sortlist_node_t *b)
{
    if (a->key != b->key)
        return a->key < b->key ? -1 : 1;
    if (a->name != NULL && b->name != NULL)
        return strcmp(a->name, b->name);
    return (a->tie > b->tie) - (a->tie < b->tie);
}

void sortlist_init(sortlist_t *l)
{
    memset(l, 0, sizeof(*l));
    l->level = 1;
    l->head.level = SORTLIST_LEVELS;
    l->rng = UINT64_C(0x2545F4914F6CDD1D);
}

static int random_level(sortlist_t *l)
{
    uint64_t x = l->rng;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    l->rng = x;
    int level = 1;
    while (level < SORTLIST_LEVELS && (x & 3) == 0) {
        level++;
        x >>= 2;
    }
    return level;
}

/* Fills prev[lvl] with the last node before n at each level in use. */
static void search(sortlist_t *l, const sortlist_node_t *n, sortlist_node_t **prev)
{
    sortlist_node_t *x = &l->head;
    for (int lvl = l->level - 1; lvl >= 0; lvl--) {
        while (x->next[lvl] != NULL && compare(x->next[lvl], n) < 0)
            x = x->next[lvl];
        prev[lvl] = x;
    }
}

void sortlist_insert(sortlist_t *l, sortlist_node_t *n)
{
    sortlist_node_t *prev[SORTLIST_LEVELS];
    int level = random_level(l);
    for (int lvl = l->level; lvl < level; lvl++)
        prev[lvl] = &l->head;
    if (level > l->level)
        l->level = level;
    search(l, n, prev);
    n->level = level;
    for (int lvl = 0; lvl < level; lvl++) {
        n->next[lvl] = prev[lvl]->next[lvl];
        prev[lvl]->next[lvl] = n;
    }
    l->count++;
}

void sortlist_remove(sortlist_t *l, sortlist_node_t *n)
{
    sortlist_node_t *prev[SORTLIST_LEVELS];
    search(l, n, prev);
    for (int lvl = 0; lvl < n->level; lvl++)
        prev[lvl]->next[lvl] = n->next[lvl];
    n->level = 0;
    l->count--;
    while (l->level > 1 && l->head.next[l->level - 1] == NULL)
        l->level--;
}

void sortlist_rekey(sortlist_t *l, sortlist_node_t *n, double key)
{
    if (n->key == key)
        return;
    sortlist_remove(l, n);
    n->key = key;
    sortlist_insert(l, n);
}

void sortlist_rebuild(sortlist_t *l, double (*key_of)(const sortlist_node_t *n, void *ctx),
                      void *ctx)
{
    sortlist_node_t *n = sortlist_first(l);
    uint64_t rng = l->rng;
    sortlist_init(l);
    l->rng = rng;
    while (n != NULL) {
        sortlist_node_t *next = n->next[0];
        n->key = key_of(n, ctx);
        sortlist_insert(l, n);
        n = next;
    }
}
