/*
 * pool.c: blocks of POOL_BLOCK bytes (or one of its own for a larger allocation), each with a
 * header linking it to the previous one. Allocations are rounded up to max_align_t.
 */
#include <stdalign.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "master/pool.h"

#define POOL_BLOCK (16 * 1024)

struct pool_block {
    pool_block_t *next;
    size_t size; /* bytes of data */
    max_align_t data[];
};

struct pool_cleanup {
    pool_cleanup_t *next;
    void (*fn)(void *arg);
    void *arg;
};

void pool_init(pool_t *p)
{
    memset(p, 0, sizeof(*p));
}

void pool_fini(pool_t *p)
{
    while (p->cleanups != NULL) {
        pool_cleanup_t *c = p->cleanups;
        p->cleanups = c->next;
        c->fn(c->arg); /* c itself lives in a block */
    }
    while (p->blocks != NULL) {
        pool_block_t *b = p->blocks;
        p->blocks = b->next;
        free(b);
    }
    pool_init(p);
}

void *pool_alloc(pool_t *p, size_t size)
{
    const size_t align = alignof(max_align_t);
    if (size > SIZE_MAX / 2) {
        p->failed = true;
        return NULL;
    }
    size = (size + align - 1) / align * align;
    if (size == 0)
        size = align;
    if (p->blocks == NULL || size > p->blocks->size - p->used) {
        size_t data = size > POOL_BLOCK ? size : POOL_BLOCK;
        pool_block_t *b = malloc(sizeof(*b) + data);
        if (b == NULL) {
            p->failed = true;
            return NULL;
        }
        b->size = data;
        if (size > POOL_BLOCK && p->blocks != NULL) {
            /* A large allocation gets its own block behind the current one, which stays in use. */
            b->next = p->blocks->next;
            p->blocks->next = b;
            return memset(b->data, 0, size);
        }
        b->next = p->blocks;
        p->blocks = b;
        p->used = 0;
    }
    void *at = (char *)p->blocks->data + p->used;
    p->used += size;
    return memset(at, 0, size);
}

char *pool_strdup(pool_t *p, const char *s)
{
    if (s == NULL)
        return NULL;
    size_t n = strlen(s) + 1;
    char *copy = pool_alloc(p, n);
    return copy != NULL ? memcpy(copy, s, n) : NULL;
}

actor_err_t pool_defer(pool_t *p, void (*fn)(void *arg), void *arg)
{
    pool_cleanup_t *c = pool_alloc(p, sizeof(*c));
    if (c == NULL) {
        fn(arg);
        return ACTOR_ENOMEM;
    }
    c->fn = fn;
    c->arg = arg;
    c->next = p->cleanups;
    p->cleanups = c;
    return ACTOR_OK;
}
