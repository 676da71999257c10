/*
 * idmap.c: string-keyed open addressing. The table doubles at 3/4 load; removal shifts the
 * following entries of the cluster back (Knuth's algorithm R), so lookups never meet tombstones.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "master/allocator/idmap.h"

#define IDMAP_MIN_CAP 16

/* FNV-1a, 64 bits, then a final mix so that the low bits (the bucket) depend on every byte. */
static uint64_t hash_key(const char *key)
{
    uint64_t h = UINT64_C(14695981039346656037);
    for (const unsigned char *p = (const unsigned char *)key; *p != '\0'; p++) {
        h ^= *p;
        h *= UINT64_C(1099511628211);
    }
    h ^= h >> 32;
    h *= UINT64_C(0x9E3779B97F4A7C15);
    return h ^ (h >> 29);
}

void idmap_init(idmap_t *m)
{
    m->slots = NULL;
    m->cap = 0;
    m->count = 0;
}

void idmap_fini(idmap_t *m)
{
    free(m->slots);
    idmap_init(m);
}

static size_t find_slot(const idmap_t *m, const char *key, uint64_t h)
{
    size_t mask = m->cap - 1;
    size_t i = (size_t)h & mask;
    while (m->slots[i].key != NULL) {
        if (m->slots[i].hash == h && strcmp(m->slots[i].key, key) == 0)
            return i;
        i = (i + 1) & mask;
    }
    return i;
}

void *idmap_get(const idmap_t *m, const char *key)
{
    if (m->count == 0)
        return NULL;
    size_t i = find_slot(m, key, hash_key(key));
    return m->slots[i].key != NULL ? m->slots[i].value : NULL;
}

static actor_err_t grow(idmap_t *m)
{
    size_t cap = m->cap ? m->cap * 2 : IDMAP_MIN_CAP;
    idmap_slot_t *slots = calloc(cap, sizeof(*slots));
    if (slots == NULL)
        return ACTOR_ENOMEM;
    for (size_t i = 0; i < m->cap; i++) {
        if (m->slots[i].key == NULL)
            continue;
        size_t j = (size_t)m->slots[i].hash & (cap - 1);
        while (slots[j].key != NULL)
            j = (j + 1) & (cap - 1);
        slots[j] = m->slots[i];
    }
    free(m->slots);
    m->slots = slots;
    m->cap = cap;
    return ACTOR_OK;
}

actor_err_t idmap_put(idmap_t *m, const char *key, void *value)
{
    uint64_t h = hash_key(key);
    if (m->count > 0 && m->slots[find_slot(m, key, h)].key != NULL)
        return ACTOR_EEXIST;
    if ((m->count + 1) * 4 > m->cap * 3 && grow(m) != ACTOR_OK)
        return ACTOR_ENOMEM;
    size_t i = find_slot(m, key, h);
    m->slots[i] = (idmap_slot_t){.key = key, .value = value, .hash = h};
    m->count++;
    return ACTOR_OK;
}

void *idmap_remove(idmap_t *m, const char *key)
{
    if (m->count == 0)
        return NULL;
    size_t mask = m->cap - 1;
    size_t i = find_slot(m, key, hash_key(key));
    if (m->slots[i].key == NULL)
        return NULL;
    void *value = m->slots[i].value;
    /* Shift back each following entry whose home bucket does not lie in (i, j]. */
    for (size_t j = (i + 1) & mask; m->slots[j].key != NULL; j = (j + 1) & mask) {
        size_t home = (size_t)m->slots[j].hash & mask;
        bool stays = i <= j ? (i < home && home <= j) : (i < home || home <= j);
        if (stays)
            continue;
        m->slots[i] = m->slots[j];
        i = j;
    }
    m->slots[i].key = NULL;
    m->count--;
    return value;
}

void *idmap_next(const idmap_t *m, size_t *pos)
{
    for (; *pos < m->cap; (*pos)++) {
        if (m->slots[*pos].key != NULL)
            return m->slots[(*pos)++].value;
    }
    return NULL;
}
