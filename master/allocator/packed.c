/*
 * packed.c: the block is laid out as [entries][ranges][item pointers][strings], each part
 * aligned for its type, so one malloc holds everything and one free releases it.
 */
#include <stdalign.h>
#include <stdlib.h>
#include <string.h>

#include "master/allocator/packed.h"

void packed_init(packed_t *p)
{
    resources_init(&p->r);
}

void packed_fini(packed_t *p)
{
    free(p->r.entries);
    resources_init(&p->r);
}

static size_t align_up(size_t n, size_t a)
{
    return (n + a - 1) / a * a;
}

/* Bytes of src's ranges, item pointers and strings. */
static void measure(const resources_t *src, size_t *ranges, size_t *items, size_t *strings)
{
    *ranges = *items = *strings = 0;
    for (size_t i = 0; i < src->count; i++) {
        const resources_entry_t *e = &src->entries[i];
        *ranges += e->range_count * sizeof(*e->ranges);
        *items += e->item_count * sizeof(*e->items);
        *strings += strlen(e->name) + strlen(e->role) + 2;
        for (size_t k = 0; k < e->item_count; k++)
            *strings += strlen(e->items[k]) + 1;
    }
}

static char *put_string(char **cursor, const char *s)
{
    size_t n = strlen(s) + 1;
    char *at = memcpy(*cursor, s, n);
    *cursor += n;
    return at;
}

actor_err_t packed_set(packed_t *p, const resources_t *src)
{
    if (src->count == 0) {
        packed_fini(p);
        return ACTOR_OK;
    }
    size_t ranges, items, strings;
    measure(src, &ranges, &items, &strings);
    size_t at_ranges = align_up(src->count * sizeof(resources_entry_t), alignof(resources_range_t));
    size_t at_items = align_up(at_ranges + ranges, alignof(char *));
    size_t at_strings = at_items + items;
    char *block = malloc(at_strings + strings);
    if (block == NULL)
        return ACTOR_ENOMEM;
    resources_entry_t *entries = (resources_entry_t *)(void *)block;
    resources_range_t *range_at = (resources_range_t *)(void *)(block + at_ranges);
    char **item_at = (char **)(void *)(block + at_items);
    char *string_at = block + at_strings;
    for (size_t i = 0; i < src->count; i++) {
        const resources_entry_t *e = &src->entries[i];
        entries[i] = *e;
        entries[i].name = put_string(&string_at, e->name);
        entries[i].role = put_string(&string_at, e->role);
        entries[i].ranges = NULL;
        if (e->range_count > 0) {
            entries[i].ranges = memcpy(range_at, e->ranges, e->range_count * sizeof(*e->ranges));
            range_at += e->range_count;
        }
        entries[i].items = e->item_count > 0 ? item_at : NULL;
        for (size_t k = 0; k < e->item_count; k++)
            *item_at++ = put_string(&string_at, e->items[k]);
    }
    free(p->r.entries);
    p->r.entries = entries;
    p->r.count = src->count;
    return ACTOR_OK;
}

static bool same_string(const char *a, const char *b)
{
    return a == b || strcmp(a, b) == 0;
}

/* Whether two entries of the same name and role hold the same. Normalized values (ranges sorted
 * and coalesced, set items sorted and unique) are equal exactly when they are identical. */
static bool entry_same(const resources_entry_t *x, const resources_entry_t *y)
{
    if (x->type != y->type || x->scalar != y->scalar || x->range_count != y->range_count ||
        x->item_count != y->item_count)
        return false;
    if (x->range_count > 0 && memcmp(x->ranges, y->ranges, x->range_count * sizeof(*x->ranges)))
        return false;
    for (size_t k = 0; k < x->item_count; k++)
        if (!same_string(x->items[k], y->items[k]))
            return false;
    return true;
}

bool packed_equal(const resources_t *a, const resources_t *b)
{
    if (a->count != b->count)
        return false;
    for (size_t i = 0; i < a->count; i++) {
        const resources_entry_t *x = &a->entries[i], *y = &b->entries[i];
        if (!same_string(x->name, y->name) || !same_string(x->role, y->role))
            return resources_equal(a, b); /* another order: the general way */
        if (!entry_same(x, y))
            return false;
    }
    return true;
}
