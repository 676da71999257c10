/*
 * jsonbuf.h: writing JSON text straight into a growing buffer, for answers too large to build
 * as a jansson tree first (GET /v2/apps with 10,000 tasks embedded: a tree of ~100,000 nodes
 * allocated, dumped and freed per request). The text is byte for byte what jansson's json_dumps
 * writes with JSON_COMPACT: the same string escapes, integers in decimal, and any json_t
 * (dumped with the flags given) may be spliced in. Knows nothing about Marathon; header only.
 *
 * Out of memory is sticky: the first failed append sets `failed`, later appends do nothing, and
 * the owner checks it once at the end. Nothing here blocks; usable from any handler.
 */
#ifndef FRAMEWORKS_MARATHON_JSONBUF_H
#define FRAMEWORKS_MARATHON_JSONBUF_H

#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "actor/growbuf.h"

typedef struct jsonbuf {
    char *data;  /* the text (not NUL-terminated); owned, freed by jsonbuf_fini */
    size_t len;  /* bytes written */
    size_t cap;  /* bytes allocated */
    bool failed; /* an append ran out of memory: the text is incomplete */
} jsonbuf_t;

/* Starts an empty buffer with room for about `hint` bytes (0: grows from 4 KiB on first use).
 * Cannot fail: a failed reservation only sets `failed` early. */
static inline void jsonbuf_init(jsonbuf_t *b, size_t hint)
{
    *b = (jsonbuf_t){0};
    if (hint > 0 && !growbuf_reserve((void **)&b->data, &b->cap, 0, hint, hint))
        b->failed = true;
}

/* Frees the text. */
static inline void jsonbuf_fini(jsonbuf_t *b)
{
    free(b->data);
    *b = (jsonbuf_t){0};
}

/* Appends len raw bytes (already JSON). */
static inline void jsonbuf_append(jsonbuf_t *b, const char *data, size_t len)
{
    if (b->failed || !growbuf_reserve((void **)&b->data, &b->cap, b->len, len, 4096)) {
        b->failed = true;
        return;
    }
    memcpy(b->data + b->len, data, len);
    b->len += len;
}

/* Appends a NUL-terminated raw text (punctuation, keys: `,"appId":`). */
static inline void jsonbuf_raw(jsonbuf_t *b, const char *text)
{
    jsonbuf_append(b, text, strlen(text));
}

/* Appends s as a JSON string, escaped as jansson escapes (\" \\ \b \f \n \r \t, other control
 * characters as \u00XX, '/' and non-ASCII bytes as they are); NULL appends null. */
static inline void jsonbuf_string(jsonbuf_t *b, const char *s)
{
    if (s == NULL) {
        jsonbuf_append(b, "null", 4);
        return;
    }
    jsonbuf_append(b, "\"", 1);
    const char *run = s;
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
        if (*p >= 0x20 && *p != '"' && *p != '\\')
            continue;
        jsonbuf_append(b, run, (size_t)((const char *)p - run));
        char esc[8];
        const char *named = *p == '"'    ? "\\\""
                            : *p == '\\' ? "\\\\"
                            : *p == '\b' ? "\\b"
                            : *p == '\f' ? "\\f"
                            : *p == '\n' ? "\\n"
                            : *p == '\r' ? "\\r"
                            : *p == '\t' ? "\\t"
                                         : NULL;
        if (named == NULL)
            snprintf(esc, sizeof(esc), "\\u%04X", (unsigned)*p);
        jsonbuf_raw(b, named != NULL ? named : esc);
        run = (const char *)p + 1;
    }
    jsonbuf_raw(b, run);
    jsonbuf_append(b, "\"", 1);
}

/* Appends an integer. */
static inline void jsonbuf_int(jsonbuf_t *b, int64_t v)
{
    char text[24];
    int n = snprintf(text, sizeof(text), "%" PRId64, v);
    jsonbuf_append(b, text, (size_t)n);
}

/* Appends true or false. */
static inline void jsonbuf_bool(jsonbuf_t *b, bool v)
{
    jsonbuf_raw(b, v ? "true" : "false");
}

static inline int jsonbuf_dump_part(const char *buffer, size_t size, void *data)
{
    jsonbuf_t *b = data;
    jsonbuf_append(b, buffer, size);
    return b->failed ? -1 : 0;
}

/* Appends json (borrowed) as json_dumps(json, flags) writes it; NULL appends null. */
static inline void jsonbuf_json(jsonbuf_t *b, const json_t *json, size_t flags)
{
    if (json == NULL) {
        jsonbuf_append(b, "null", 4);
        return;
    }
    if (json_dump_callback(json, jsonbuf_dump_part, b, flags | JSON_ENCODE_ANY) != 0)
        b->failed = true;
}

#endif
