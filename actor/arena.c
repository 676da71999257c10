/*
 * arena.c: a per-thread bump allocator for decoding messages.
 *
 * A handler borrows its decoded message only for the call, so every piece protobuf-c allocates
 * while unpacking can come from one thread-local block and be released at once by moving a
 * pointer back: no malloc/free per field on the hot path. Messages larger than the block get an
 * overflow block of their own, freed at the next reset.
 */
#include <stdint.h>
#include <stdlib.h>

#include "actor/actor_int.h"

#define ARENA_BLOCK (64 * 1024)

typedef struct overflow {
    struct overflow *next;
    max_align_t data[];
} overflow_t;

typedef struct arena {
    uint8_t *block; /* ARENA_BLOCK bytes, allocated on first use */
    size_t used;
    overflow_t *overflow;
} arena_t;

static _Thread_local arena_t arena;

static void *arena_alloc(void *unused, size_t size)
{
    (void)unused;
    if (size > SIZE_MAX / 2)
        return NULL; /* rounding or the overflow header would wrap */
    size_t rounded = (size + 15) & ~(size_t)15;
    if (arena.block == NULL) {
        arena.block = malloc(ARENA_BLOCK);
        if (arena.block == NULL)
            return NULL;
    }
    if (rounded <= ARENA_BLOCK - arena.used) {
        void *p = arena.block + arena.used;
        arena.used += rounded;
        return p;
    }
    overflow_t *o = malloc(sizeof(*o) + size);
    if (o == NULL)
        return NULL;
    o->next = arena.overflow;
    arena.overflow = o;
    return o->data;
}

static void arena_free(void *unused, void *p)
{
    (void)unused;
    (void)p; /* released in bulk by arena_reset */
}

ProtobufCAllocator arena_allocator = {arena_alloc, arena_free, NULL};

void arena_reset(void)
{
    arena.used = 0;
    while (arena.overflow != NULL) {
        overflow_t *next = arena.overflow->next;
        free(arena.overflow);
        arena.overflow = next;
    }
}

void arena_release(void)
{
    arena_reset();
    free(arena.block);
    arena.block = NULL;
}
