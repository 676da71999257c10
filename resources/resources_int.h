/*
 * resources_int.h: what the files of resources/ share and nobody else includes: a growable
 * string, range-list operations, and the parser of one Mesos value (Mesos's
 * internal::values::parse in src/common/values.cpp), used by both --resources and --attributes.
 */
#ifndef RESOURCES_RESOURCES_INT_H
#define RESOURCES_RESOURCES_INT_H

#include <stdarg.h>

#include "resources/resources.h"

/* A growable string; after an allocation failure it stays failed and ignores appends. */
typedef struct strbuf {
    char *s;    /* NUL-terminated, or NULL before the first append */
    size_t len; /* bytes before the NUL */
    size_t cap; /* bytes allocated */
    bool oom;   /* an append failed */
} strbuf_t;

void strbuf_printf(strbuf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Hands over the string ("" when nothing was appended): ACTOR_OK or ACTOR_ENOMEM (freed then). */
actor_err_t strbuf_finish(strbuf_t *b, char **out);

/* Sorts and coalesces r[0..*n) in place (overlapping and adjacent ranges merge). */
void ranges_normalize(resources_range_t *r, size_t *n);
/* *out = a ∪ b (normalized inputs; new array, NULL when empty). ACTOR_OK or ACTOR_ENOMEM. */
actor_err_t ranges_union(const resources_range_t *a, size_t na, const resources_range_t *b,
                         size_t nb, resources_range_t **out, size_t *nout);
/* *out = a \ b (normalized inputs; new array, NULL when empty). ACTOR_OK or ACTOR_ENOMEM. */
actor_err_t ranges_subtract(const resources_range_t *a, size_t na, const resources_range_t *b,
                            size_t nb, resources_range_t **out, size_t *nout);
/* True when b ⊆ a (normalized inputs). */
bool ranges_contains(const resources_range_t *a, size_t na, const resources_range_t *b, size_t nb);
/* Appends "[a-b<sep>c-d]". */
void ranges_format(strbuf_t *b, const resources_range_t *r, size_t n, const char *sep);

/* One parsed value. */
typedef struct value {
    resources_type_t type;
    double scalar;             /* SCALAR */
    resources_range_t *ranges; /* RANGES: normalized */
    size_t range_count;
    char **items; /* SET: in text order, may repeat */
    size_t item_count;
    char *text; /* TEXT: the value with spaces removed */
} value_t;

/* Parses one value as Mesos does: spaces are removed, then `[..]` is RANGES, `{..}` a SET, a
 * number a SCALAR and anything else TEXT. ACTOR_EINVAL with the reason in detail, or
 * ACTOR_ENOMEM. out is cleared on error; release it with value_fini() on success. */
actor_err_t value_parse(const char *text, value_t *out, char *detail, size_t detail_len);
void value_fini(value_t *v);

/* Scalar thousandths from a double, or ACTOR_EINVAL (with detail) when negative, not finite or
 * too large to hold. */
actor_err_t scalar_to_fixed(double v, int64_t *out, char *detail, size_t detail_len);
/* Appends the shortest decimal form of thousandths m ("4", "0.5", "1.125"). */
void scalar_format(strbuf_t *b, int64_t m);

/* Writes the formatted message to err when err is not NULL; always terminates it. */
/* Trims leading and trailing white space of s in place; returns the first kept byte. */
char *text_trim(char *s);

void set_error(char *err, size_t err_len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
