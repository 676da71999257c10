/* minheap.c: the textbook array heap, with sift up and down keeping each node's index. */
#include <stdlib.h>

#include "master/allocator/minheap.h"

void minheap_init(minheap_t *h)
{
    h->items = NULL;
    h->count = 0;
    h->cap = 0;
}

void minheap_fini(minheap_t *h)
{
    free(h->items);
    minheap_init(h);
}

static void place(minheap_t *h, size_t i, minheap_node_t *n)
{
    h->items[i] = n;
    n->index = i;
}

static void sift_up(minheap_t *h, size_t i, minheap_node_t *n)
{
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (h->items[parent]->key <= n->key)
            break;
        place(h, i, h->items[parent]);
        i = parent;
    }
    place(h, i, n);
}

static void sift_down(minheap_t *h, size_t i, minheap_node_t *n)
{
    for (;;) {
        size_t child = 2 * i + 1;
        if (child >= h->count)
            break;
        if (child + 1 < h->count && h->items[child + 1]->key < h->items[child]->key)
            child++;
        if (n->key <= h->items[child]->key)
            break;
        place(h, i, h->items[child]);
        i = child;
    }
    place(h, i, n);
}

actor_err_t minheap_reserve(minheap_t *h, size_t count)
{
    if (count <= h->cap)
        return ACTOR_OK;
    size_t cap = h->cap ? h->cap : 64;
    while (cap < count)
        cap *= 2;
    minheap_node_t **items = realloc(h->items, cap * sizeof(*items));
    if (items == NULL)
        return ACTOR_ENOMEM;
    h->items = items;
    h->cap = cap;
    return ACTOR_OK;
}

actor_err_t minheap_push(minheap_t *h, minheap_node_t *n)
{
    if (minheap_reserve(h, h->count + 1) != ACTOR_OK)
        return ACTOR_ENOMEM;
    sift_up(h, h->count++, n);
    return ACTOR_OK;
}

void minheap_remove(minheap_t *h, minheap_node_t *n)
{
    size_t i = n->index;
    minheap_node_t *last = h->items[--h->count];
    n->index = MINHEAP_NONE;
    if (last == n)
        return;
    if (i > 0 && last->key < h->items[(i - 1) / 2]->key)
        sift_up(h, i, last);
    else
        sift_down(h, i, last);
}
