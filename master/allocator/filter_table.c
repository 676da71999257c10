/*
 * filter_table.c: linear probing on a Fibonacci hash of the framework slot. Entries are only
 * added or overwritten in place; growing rebuilds the table from the live entries alone.
 */
#include <math.h>
#include <stdlib.h>

#include "master/allocator/filter_table.h"

#define FILTER_MIN_CAP 8

void filter_table_init(filter_table_t *t)
{
    t->entries = NULL;
    t->cap = 0;
    t->used = 0;
    t->shift = 64;
    t->min_expires = INFINITY;
}

void filter_table_fini(filter_table_t *t)
{
    free(t->entries);
    filter_table_init(t);
}

static uint32_t bucket(const filter_table_t *t, uint32_t slot)
{
    return (uint32_t)(((uint64_t)slot * UINT64_C(0x9E3779B97F4A7C15)) >> t->shift);
}

static bool live(const filter_entry_t *e, const uint32_t *epochs, double now)
{
    return epochs[e->slot] == e->epoch && e->expires > now;
}

/* The entry of slot, or the free entry where it would go. Needs cap > 0. */
static filter_entry_t *probe(const filter_table_t *t, uint32_t slot)
{
    uint32_t mask = t->cap - 1;
    uint32_t i = bucket(t, slot);
    while (t->entries[i].slot != FILTER_EMPTY && t->entries[i].slot != slot)
        i = (i + 1) & mask;
    return &t->entries[i];
}

bool filter_table_blocks(const filter_table_t *t, uint32_t slot, uint32_t epoch, double now)
{
    if (t->used == 0)
        return false;
    const filter_entry_t *e = probe(t, slot);
    return e->slot == slot && e->epoch == epoch && e->expires > now;
}

/* Rebuilds t with room for the live entries and one more, dropping the dead ones. */
static actor_err_t rebuild(filter_table_t *t, const uint32_t *epochs, double now)
{
    uint32_t keep = filter_table_live(t, epochs, now);
    uint32_t cap = FILTER_MIN_CAP;
    int shift = 64 - 3;
    while ((keep + 1) * 2 > cap) {
        cap *= 2;
        shift--;
    }
    filter_entry_t *entries = malloc(cap * sizeof(*entries));
    if (entries == NULL)
        return ACTOR_ENOMEM;
    filter_table_t grown = {entries, cap, 0, shift, INFINITY};
    for (uint32_t i = 0; i < cap; i++)
        entries[i].slot = FILTER_EMPTY;
    for (uint32_t i = 0; i < t->cap; i++) {
        const filter_entry_t *e = &t->entries[i];
        if (e->slot == FILTER_EMPTY || !live(e, epochs, now))
            continue;
        *probe(&grown, e->slot) = *e;
        grown.used++;
        if (e->expires < grown.min_expires)
            grown.min_expires = e->expires;
    }
    free(t->entries);
    *t = grown;
    return ACTOR_OK;
}

actor_err_t filter_table_set(filter_table_t *t, uint32_t slot, uint32_t epoch, double expires,
                             const uint32_t *epochs, double now)
{
    filter_entry_t *e = t->cap > 0 ? probe(t, slot) : NULL;
    if (e == NULL || e->slot == FILTER_EMPTY) {
        if ((t->used + 1) * 4 > t->cap * 3) {
            if (rebuild(t, epochs, now) != ACTOR_OK)
                return ACTOR_ENOMEM;
        }
        e = probe(t, slot);
        if (e->slot == FILTER_EMPTY)
            t->used++;
    }
    *e = (filter_entry_t){.slot = slot, .epoch = epoch, .expires = expires};
    if (expires < t->min_expires)
        t->min_expires = expires;
    return ACTOR_OK;
}

double filter_table_next_expiry(filter_table_t *t, const uint32_t *epochs, double now)
{
    if (t->min_expires > now)
        return t->min_expires;
    double first = INFINITY;
    for (uint32_t i = 0; i < t->cap; i++) {
        const filter_entry_t *e = &t->entries[i];
        if (e->slot != FILTER_EMPTY && live(e, epochs, now) && e->expires < first)
            first = e->expires;
    }
    t->min_expires = first;
    return first;
}

uint32_t filter_table_live(const filter_table_t *t, const uint32_t *epochs, double now)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < t->cap; i++)
        n += t->entries[i].slot != FILTER_EMPTY && live(&t->entries[i], epochs, now);
    return n;
}
