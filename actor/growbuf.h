/*
 * growbuf.h: growing a byte buffer by doubling, for the runtime's decoders and write queues.
 * Knows nothing about what the bytes are.
 */
#ifndef ACTOR_GROWBUF_H
#define ACTOR_GROWBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>

/* Makes *buf (capacity *cap, len bytes in use) hold at least len + extra bytes, doubling from
 * `initial` (or the current capacity). Returns false when out of memory or when the size would
 * overflow; *buf and *cap are then unchanged. */
static inline bool growbuf_reserve(void **buf, size_t *cap, size_t len, size_t extra,
                                   size_t initial)
{
    if (extra > (size_t)-1 / 2 - len)
        return false;
    if (*cap - len >= extra)
        return true;
    size_t grown_cap = *cap ? *cap : initial;
    while (grown_cap - len < extra)
        grown_cap *= 2;
    void *grown = realloc(*buf, grown_cap);
    if (grown == NULL)
        return false;
    *buf = grown;
    *cap = grown_cap;
    return true;
}

#endif
