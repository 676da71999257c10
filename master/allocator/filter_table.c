/*
 * filter_table.c: linear probing on a Fibonacci hash of the framework slot. Entries are only
 * added or overwritten in place, so every entry of a slot lies between its bucket and the next
 * free entry; growing rebuilds the table from the live entries alone.
 */
#include <math.h>
#include <stdlib.h>

#include "master/allocator/filter_table.h"

#define FILTER_MIN_CAP 8

filter_set_t *filter_set_new(void)
{
    filter_set_t *s = malloc(sizeof(*s));
    if (s != NULL) {
        s->refs = 1;
        packed_init(&s->res);
    }
    return s;
}

void filter_set_release(filter_set_t *s)
{
    if (s == NULL || --s->refs > 0)
        return;
    packed_fini(&s->res);
    free(s);
}

void filter_table_init(filter_table_t *t)
{
    t->entries = NULL;
    t->cap = 0;
    t->used = 0;
    t->shift = 64;
    t->min_expires = INFINITY;
    t->last = NULL;
    t->last_gen = 0;
}

void filter_table_fini(filter_table_t *t)
{
    for (uint32_t i = 0; i < t->cap; i++)
        filter_set_release(t->entries[i].set);
    filter_set_release(t->last);
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

/* Whether e is a live filter of (slot, member) at now, the slot's epoch being `epoch`. */
static bool matches(const filter_entry_t *e, uint32_t slot, uint32_t epoch, uint32_t member,
                    double now)
{
    return e->slot == slot && e->member == member && e->epoch == epoch && e->expires > now;
}

bool filter_table_has(const filter_table_t *t, uint32_t slot, uint32_t epoch, uint32_t member,
                      double now)
{
    if (t->used == 0)
        return false;
    uint32_t mask = t->cap - 1;
    for (uint32_t i = bucket(t, slot); t->entries[i].slot != FILTER_EMPTY; i = (i + 1) & mask) {
        if (matches(&t->entries[i], slot, epoch, member, now))
            return true;
    }
    return false;
}

static bool set_holds(const filter_set_t *s, const resources_t *offer, filter_memo_t *memo)
{
    if (memo != NULL && memo->set == s)
        return memo->contained;
    /* Equal is the common case (an idle agent offering again what was refused), and cheap. */
    bool contained = packed_equal(&s->res.r, offer) || resources_contains(&s->res.r, offer);
    if (memo != NULL)
        *memo = (filter_memo_t){.set = s, .contained = contained};
    return contained;
}

bool filter_table_blocks(const filter_table_t *t, uint32_t slot, uint32_t epoch, uint32_t member,
                         double now, const resources_t *offer, filter_memo_t *memo)
{
    if (t->used == 0)
        return false;
    uint32_t mask = t->cap - 1;
    for (uint32_t i = bucket(t, slot); t->entries[i].slot != FILTER_EMPTY; i = (i + 1) & mask) {
        const filter_entry_t *e = &t->entries[i];
        if (matches(e, slot, epoch, member, now) && set_holds(e->set, offer, memo))
            return true;
    }
    return false;
}

filter_set_t *filter_table_share(filter_table_t *t, const resources_t *res)
{
    if (t->last == NULL || !packed_equal(&t->last->res.r, res))
        return NULL;
    t->last->refs++;
    return t->last;
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
    filter_table_t grown = {entries, cap, 0, shift, INFINITY, t->last, t->last_gen};
    for (uint32_t i = 0; i < cap; i++)
        entries[i] = (filter_entry_t){.slot = FILTER_EMPTY};
    uint32_t mask = cap - 1;
    for (uint32_t i = 0; i < t->cap; i++) {
        filter_entry_t *e = &t->entries[i];
        if (e->slot == FILTER_EMPTY)
            continue;
        if (!live(e, epochs, now)) {
            filter_set_release(e->set);
            continue;
        }
        uint32_t k = bucket(&grown, e->slot);
        while (entries[k].slot != FILTER_EMPTY)
            k = (k + 1) & mask;
        entries[k] = *e;
        grown.used++;
        if (e->expires < grown.min_expires)
            grown.min_expires = e->expires;
    }
    free(t->entries);
    *t = grown;
    return ACTOR_OK;
}

actor_err_t filter_table_reserve(filter_table_t *t, const uint32_t *epochs, double now)
{
    if ((t->used + 1) * 4 <= t->cap * 3)
        return ACTOR_OK;
    return rebuild(t, epochs, now);
}

/* Whether a new filter (set, expires) makes the live entry e of its key redundant: it refuses
 * at least as much, for at least as long. */
static bool supersedes(const filter_set_t *set, double expires, const filter_entry_t *e)
{
    return expires >= e->expires &&
           (set == e->set || resources_contains(&set->res.r, &e->set->res.r));
}

/* Where a new filter of (slot, member) goes: an entry of its key that it supersedes, else the
 * first dead entry on its probe path, else the free entry ending the path. */
static filter_entry_t *place(filter_table_t *t, uint32_t slot, uint32_t member, double expires,
                             const filter_set_t *set, const uint32_t *epochs, double now)
{
    uint32_t mask = t->cap - 1;
    filter_entry_t *dead = NULL;
    uint32_t i = bucket(t, slot);
    for (; t->entries[i].slot != FILTER_EMPTY; i = (i + 1) & mask) {
        filter_entry_t *e = &t->entries[i];
        if (!live(e, epochs, now)) {
            if (dead == NULL)
                dead = e;
        } else if (e->slot == slot && e->member == member && supersedes(set, expires, e)) {
            return e;
        }
    }
    return dead != NULL ? dead : &t->entries[i];
}

void filter_table_add(filter_table_t *t, uint32_t slot, uint32_t epoch, uint32_t member,
                      double expires, filter_set_t *set, const uint32_t *epochs, double now)
{
    filter_entry_t *e = place(t, slot, member, expires, set, epochs, now);
    if (e->slot == FILTER_EMPTY)
        t->used++;
    filter_set_release(e->set);
    *e = (filter_entry_t){
        .slot = slot, .epoch = epoch, .member = member, .expires = expires, .set = set};
    if (expires < t->min_expires)
        t->min_expires = expires;
    if (t->last != set) {
        filter_set_release(t->last);
        set->refs++;
        t->last = set;
        if (++t->last_gen == 0)
            t->last_gen = 1;
    }
}

/* Lets go of what dead filters hold: their sets (the entries stay, dead, so that no probe path
 * is cut), or the whole table when nothing is live, so that an agent whose filters all expired
 * keeps no memory for them. Recomputes min_expires exactly. */
static void prune(filter_table_t *t, const uint32_t *epochs, double now)
{
    double first = INFINITY;
    uint32_t alive = 0;
    for (uint32_t i = 0; i < t->cap; i++) {
        filter_entry_t *e = &t->entries[i];
        if (e->slot == FILTER_EMPTY)
            continue;
        if (!live(e, epochs, now)) {
            filter_set_release(e->set);
            e->set = NULL;
            continue;
        }
        alive++;
        if (e->expires < first)
            first = e->expires;
    }
    if (alive == 0 && t->cap > 0) {
        uint32_t gen = t->last_gen + 1 == 0 ? 1 : t->last_gen + 1; /* last goes: a new name */
        filter_table_fini(t);
        t->last_gen = gen;
    }
    t->min_expires = first;
}

double filter_table_next_expiry(filter_table_t *t, const uint32_t *epochs, double now)
{
    if (t->min_expires <= now)
        prune(t, epochs, now);
    return t->min_expires;
}

uint32_t filter_table_live(const filter_table_t *t, const uint32_t *epochs, double now)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < t->cap; i++)
        n += t->entries[i].slot != FILTER_EMPTY && live(&t->entries[i], epochs, now);
    return n;
}
