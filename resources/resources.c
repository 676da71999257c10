/*
 * resources.c: the collection and its arithmetic (Mesos's Resources::add, subtract, contains),
 * and the --resources parser (Resources::fromSimpleString).
 *
 * Invariants of a resources_t, kept by every function here: one entry per (name, role); all
 * entries of a name have one type; no entry is empty; values are normalized (resources.h). So
 * equality and containment compare entries one to one. Changes are made on a copy and swapped
 * in, so that a failed call leaves its target unchanged.
 */
#include <stdlib.h>
#include <string.h>

#include "resources/resources_int.h"

void resources_init(resources_t *r)
{
    r->entries = NULL;
    r->count = 0;
}

static void entry_fini(resources_entry_t *e)
{
    free(e->name);
    free(e->role);
    free(e->ranges);
    for (size_t i = 0; i < e->item_count; i++)
        free(e->items[i]);
    free(e->items);
    memset(e, 0, sizeof(*e));
}

void resources_fini(resources_t *r)
{
    for (size_t i = 0; i < r->count; i++)
        entry_fini(&r->entries[i]);
    free(r->entries);
    resources_init(r);
}

static actor_err_t items_copy(char **src, size_t n, char ***out)
{
    *out = NULL;
    if (n == 0)
        return ACTOR_OK;
    char **items = calloc(n, sizeof(*items));
    if (items == NULL)
        return ACTOR_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        items[i] = strdup(src[i]);
        if (items[i] == NULL) {
            for (size_t k = 0; k < i; k++)
                free(items[k]);
            free(items);
            return ACTOR_ENOMEM;
        }
    }
    *out = items;
    return ACTOR_OK;
}

static actor_err_t entry_copy(resources_entry_t *dst, const resources_entry_t *src)
{
    *dst = *src;
    dst->name = strdup(src->name);
    dst->role = strdup(src->role);
    dst->ranges = NULL;
    dst->items = NULL;
    if (src->range_count > 0) {
        dst->ranges = malloc(src->range_count * sizeof(*dst->ranges));
        if (dst->ranges != NULL)
            memcpy(dst->ranges, src->ranges, src->range_count * sizeof(*dst->ranges));
    }
    actor_err_t rc = items_copy(src->items, src->item_count, &dst->items);
    if (rc != ACTOR_OK || dst->name == NULL || dst->role == NULL ||
        (src->range_count > 0 && dst->ranges == NULL)) {
        dst->item_count = rc == ACTOR_OK ? dst->item_count : 0;
        entry_fini(dst);
        return ACTOR_ENOMEM;
    }
    return ACTOR_OK;
}

actor_err_t resources_copy(resources_t *dst, const resources_t *src)
{
    resources_t tmp;
    resources_init(&tmp);
    if (src->count > 0) {
        tmp.entries = calloc(src->count, sizeof(*tmp.entries));
        if (tmp.entries == NULL)
            return ACTOR_ENOMEM;
    }
    for (size_t i = 0; i < src->count; i++) {
        if (entry_copy(&tmp.entries[i], &src->entries[i]) != ACTOR_OK) {
            resources_fini(&tmp);
            return ACTOR_ENOMEM;
        }
        tmp.count++;
    }
    resources_fini(dst);
    *dst = tmp;
    return ACTOR_OK;
}

static resources_entry_t *find(const resources_t *r, const char *name, const char *role)
{
    for (size_t i = 0; i < r->count; i++)
        if (strcmp(r->entries[i].name, name) == 0 && strcmp(r->entries[i].role, role) == 0)
            return &r->entries[i];
    return NULL;
}

static const resources_entry_t *find_name(const resources_t *r, const char *name)
{
    for (size_t i = 0; i < r->count; i++)
        if (strcmp(r->entries[i].name, name) == 0)
            return &r->entries[i];
    return NULL;
}

static void remove_at(resources_t *r, size_t i)
{
    entry_fini(&r->entries[i]);
    memmove(&r->entries[i], &r->entries[i + 1], (r->count - i - 1) * sizeof(*r->entries));
    r->count--;
}

static bool entry_empty(const resources_entry_t *e)
{
    switch (e->type) {
    case RESOURCES_SCALAR:
        return e->scalar <= 0;
    case RESOURCES_RANGES:
        return e->range_count == 0;
    default:
        return e->item_count == 0;
    }
}

/* *out = a ∪ b or a \ b for sorted unique item lists (borrowed strings copied). */
static actor_err_t items_merge(const resources_entry_t *a, const resources_entry_t *b,
                               bool subtract, char ***out, size_t *nout)
{
    char **r = calloc(a->item_count + b->item_count + 1, sizeof(*r));
    if (r == NULL)
        return ACTOR_ENOMEM;
    size_t i = 0, j = 0, n = 0;
    while (i < a->item_count || (!subtract && j < b->item_count)) {
        int c = i == a->item_count ? 1 : j == b->item_count ? -1 : strcmp(a->items[i], b->items[j]);
        const char *take = c <= 0 ? a->items[i] : b->items[j];
        bool keep = !subtract || c < 0;
        i += c <= 0;
        j += c >= 0;
        if (!keep)
            continue;
        r[n] = strdup(take);
        if (r[n] == NULL)
            goto fail_free;
        n++;
    }
    *out = r;
    *nout = n;
    return ACTOR_OK;
fail_free:
    for (size_t k = 0; k < n; k++)
        free(r[k]);
    free(r);
    return ACTOR_ENOMEM;
}

/* Combines b into a (same name, role and type): a += b, or a -= b when subtract. */
static actor_err_t entry_combine(resources_entry_t *a, const resources_entry_t *b, bool subtract)
{
    if (a->type == RESOURCES_SCALAR) {
        int64_t v;
        if (subtract)
            v = a->scalar - b->scalar; /* both within [0, INT64_MAX] */
        else if (__builtin_add_overflow(a->scalar, b->scalar, &v))
            return ACTOR_ETOOBIG;
        a->scalar = v;
        return ACTOR_OK;
    }
    if (a->type == RESOURCES_RANGES) {
        resources_range_t *r;
        size_t n;
        actor_err_t rc =
            subtract ? ranges_subtract(a->ranges, a->range_count, b->ranges, b->range_count, &r, &n)
                     : ranges_union(a->ranges, a->range_count, b->ranges, b->range_count, &r, &n);
        if (rc != ACTOR_OK)
            return rc;
        free(a->ranges);
        a->ranges = r;
        a->range_count = n;
        return ACTOR_OK;
    }
    char **items;
    size_t n;
    actor_err_t rc = items_merge(a, b, subtract, &items, &n);
    if (rc != ACTOR_OK)
        return rc;
    for (size_t k = 0; k < a->item_count; k++)
        free(a->items[k]);
    free(a->items);
    a->items = items;
    a->item_count = n;
    return ACTOR_OK;
}

static actor_err_t append_copy(resources_t *r, const resources_entry_t *e)
{
    resources_entry_t *grown = realloc(r->entries, (r->count + 1) * sizeof(*grown));
    if (grown == NULL)
        return ACTOR_ENOMEM;
    r->entries = grown;
    actor_err_t rc = entry_copy(&r->entries[r->count], e);
    if (rc == ACTOR_OK)
        r->count++;
    return rc;
}

/* Adds one non-empty entry to r in place; on error r may be partly changed. */
static actor_err_t add_entry(resources_t *r, const resources_entry_t *e)
{
    const resources_entry_t *same_name = find_name(r, e->name);
    if (same_name != NULL && same_name->type != e->type)
        return ACTOR_EINVAL;
    resources_entry_t *a = find(r, e->name, e->role);
    if (a == NULL)
        return append_copy(r, e);
    return entry_combine(a, e, false);
}

actor_err_t resources_add(resources_t *a, const resources_t *b)
{
    resources_t tmp;
    resources_init(&tmp);
    actor_err_t rc = resources_copy(&tmp, a);
    for (size_t i = 0; rc == ACTOR_OK && i < b->count; i++)
        rc = add_entry(&tmp, &b->entries[i]);
    if (rc != ACTOR_OK) {
        resources_fini(&tmp);
        return rc;
    }
    resources_fini(a);
    *a = tmp;
    return ACTOR_OK;
}

actor_err_t resources_subtract(resources_t *a, const resources_t *b)
{
    resources_t tmp;
    resources_init(&tmp);
    actor_err_t rc = resources_copy(&tmp, a);
    for (size_t i = 0; rc == ACTOR_OK && i < b->count; i++) {
        const resources_entry_t *e = &b->entries[i];
        resources_entry_t *x = find(&tmp, e->name, e->role);
        if (x == NULL || x->type != e->type)
            continue;
        rc = entry_combine(x, e, true);
        if (rc == ACTOR_OK && entry_empty(x))
            remove_at(&tmp, (size_t)(x - tmp.entries));
    }
    if (rc != ACTOR_OK) {
        resources_fini(&tmp);
        return rc;
    }
    resources_fini(a);
    *a = tmp;
    return ACTOR_OK;
}

static bool items_contains(const resources_entry_t *a, const resources_entry_t *b)
{
    size_t i = 0;
    for (size_t j = 0; j < b->item_count; j++) {
        while (i < a->item_count && strcmp(a->items[i], b->items[j]) < 0)
            i++;
        if (i == a->item_count || strcmp(a->items[i], b->items[j]) != 0)
            return false;
    }
    return true;
}

static bool entry_contains(const resources_entry_t *a, const resources_entry_t *b)
{
    if (a->type != b->type)
        return false;
    switch (a->type) {
    case RESOURCES_SCALAR:
        return a->scalar >= b->scalar;
    case RESOURCES_RANGES:
        return ranges_contains(a->ranges, a->range_count, b->ranges, b->range_count);
    default:
        return items_contains(a, b);
    }
}

bool resources_contains(const resources_t *a, const resources_t *b)
{
    for (size_t i = 0; i < b->count; i++) {
        const resources_entry_t *x = find(a, b->entries[i].name, b->entries[i].role);
        if (x == NULL || !entry_contains(x, &b->entries[i]))
            return false;
    }
    return true;
}

bool resources_equal(const resources_t *a, const resources_t *b)
{
    return a->count == b->count && resources_contains(a, b) && resources_contains(b, a);
}

bool resources_empty(const resources_t *r)
{
    return r->count == 0;
}

double resources_scalar(const resources_t *r, const char *name)
{
    int64_t sum = 0;
    for (size_t i = 0; i < r->count; i++)
        if (r->entries[i].type == RESOURCES_SCALAR && strcmp(r->entries[i].name, name) == 0)
            sum += r->entries[i].scalar;
    return (double)sum / RESOURCES_SCALAR_UNIT;
}

actor_err_t resources_ranges(const resources_t *r, const char *name, resources_range_t **out,
                             size_t *count)
{
    *out = NULL;
    *count = 0;
    for (size_t i = 0; i < r->count; i++) {
        const resources_entry_t *e = &r->entries[i];
        if (e->type != RESOURCES_RANGES || strcmp(e->name, name) != 0)
            continue;
        resources_range_t *u;
        size_t n;
        if (ranges_union(*out, *count, e->ranges, e->range_count, &u, &n) != ACTOR_OK) {
            free(*out);
            *out = NULL;
            *count = 0;
            return ACTOR_ENOMEM;
        }
        free(*out);
        *out = u;
        *count = n;
    }
    return ACTOR_OK;
}
