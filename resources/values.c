/*
 * values.c: the pieces under both resources and attributes: strings, range lists, scalars in
 * fixed point, and the parser of one value in Mesos's text syntax.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "resources/resources_int.h"

void set_error(char *err, size_t err_len, const char *fmt, ...)
{
    if (err == NULL || err_len == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, err_len, fmt, ap);
    va_end(ap);
}

void strbuf_printf(strbuf_t *b, const char *fmt, ...)
{
    if (b->oom)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->oom = true;
        return;
    }
    size_t need = b->len + (size_t)n + 1;
    if (need > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < need)
            cap *= 2;
        char *s = realloc(b->s, cap);
        if (s == NULL) {
            b->oom = true;
            return;
        }
        b->s = s;
        b->cap = cap;
    }
    va_start(ap, fmt);
    vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

actor_err_t strbuf_finish(strbuf_t *b, char **out)
{
    if (!b->oom && b->s == NULL)
        b->s = strdup("");
    if (b->oom || b->s == NULL) {
        free(b->s);
        *b = (strbuf_t){0};
        return ACTOR_ENOMEM;
    }
    *out = b->s;
    *b = (strbuf_t){0};
    return ACTOR_OK;
}

static int range_cmp(const void *x, const void *y)
{
    const resources_range_t *a = x, *b = y;
    if (a->begin != b->begin)
        return a->begin < b->begin ? -1 : 1;
    return (a->end > b->end) - (a->end < b->end);
}

void ranges_normalize(resources_range_t *r, size_t *n)
{
    if (*n == 0)
        return;
    qsort(r, *n, sizeof(*r), range_cmp);
    size_t w = 0;
    for (size_t i = 1; i < *n; i++) {
        /* Merge when overlapping or adjacent; end + 1 cannot overflow once end < begin. */
        if (r[w].end == UINT64_MAX || r[i].begin <= r[w].end + 1) {
            if (r[i].end > r[w].end)
                r[w].end = r[i].end;
        } else {
            r[++w] = r[i];
        }
    }
    *n = w + 1;
}

actor_err_t ranges_union(const resources_range_t *a, size_t na, const resources_range_t *b,
                         size_t nb, resources_range_t **out, size_t *nout)
{
    *out = NULL;
    *nout = 0;
    if (na + nb == 0)
        return ACTOR_OK;
    resources_range_t *r = malloc((na + nb) * sizeof(*r));
    if (r == NULL)
        return ACTOR_ENOMEM;
    if (na > 0)
        memcpy(r, a, na * sizeof(*r));
    if (nb > 0)
        memcpy(r + na, b, nb * sizeof(*r));
    size_t n = na + nb;
    ranges_normalize(r, &n);
    *out = r;
    *nout = n;
    return ACTOR_OK;
}

actor_err_t ranges_subtract(const resources_range_t *a, size_t na, const resources_range_t *b,
                            size_t nb, resources_range_t **out, size_t *nout)
{
    *out = NULL;
    *nout = 0;
    /* Each range of b splits at most one range of a in two: na + nb pieces at most. */
    resources_range_t *r = malloc((na + nb + 1) * sizeof(*r));
    if (r == NULL)
        return ACTOR_ENOMEM;
    size_t n = 0, j = 0;
    for (size_t i = 0; i < na; i++) {
        resources_range_t cur = a[i];
        bool alive = true;
        while (j < nb && b[j].end < cur.begin)
            j++;
        for (size_t k = j; alive && k < nb && b[k].begin <= cur.end; k++) {
            if (b[k].begin > cur.begin)
                r[n++] = (resources_range_t){cur.begin, b[k].begin - 1};
            if (b[k].end >= cur.end)
                alive = false;
            else
                cur.begin = b[k].end + 1;
        }
        if (alive)
            r[n++] = cur;
    }
    if (n == 0) {
        free(r);
        return ACTOR_OK;
    }
    *out = r;
    *nout = n;
    return ACTOR_OK;
}

bool ranges_contains(const resources_range_t *a, size_t na, const resources_range_t *b, size_t nb)
{
    size_t i = 0;
    for (size_t j = 0; j < nb; j++) {
        while (i < na && a[i].end < b[j].begin)
            i++;
        if (i == na || a[i].begin > b[j].begin || a[i].end < b[j].end)
            return false;
    }
    return true;
}

void ranges_format(strbuf_t *b, const resources_range_t *r, size_t n, const char *sep)
{
    strbuf_printf(b, "[");
    for (size_t i = 0; i < n; i++)
        strbuf_printf(b, "%s%llu-%llu", i ? sep : "", (unsigned long long)r[i].begin,
                      (unsigned long long)r[i].end);
    strbuf_printf(b, "]");
}

actor_err_t scalar_to_fixed(double v, int64_t *out, char *detail, size_t detail_len)
{
    if (isnan(v)) {
        set_error(detail, detail_len, "NaN not supported");
        return ACTOR_EINVAL;
    }
    if (isinf(v)) {
        set_error(detail, detail_len, "Infinite values not supported");
        return ACTOR_EINVAL;
    }
    if (v < 0) {
        set_error(detail, detail_len, "Invalid scalar resource: value < 0");
        return ACTOR_EINVAL;
    }
    /* 1e15 whole units leaves room for thousands of sums before int64 thousandths overflow. */
    if (v > 1e15) {
        set_error(detail, detail_len, "Invalid scalar resource: value too large");
        return ACTOR_EINVAL;
    }
    *out = llround(v * RESOURCES_SCALAR_UNIT);
    return ACTOR_OK;
}

void scalar_format(strbuf_t *b, int64_t m)
{
    int64_t whole = m / RESOURCES_SCALAR_UNIT, frac = m % RESOURCES_SCALAR_UNIT;
    if (frac < 0)
        frac = -frac;
    if (frac == 0) {
        strbuf_printf(b, "%lld", (long long)whole);
        return;
    }
    char digits[8];
    snprintf(digits, sizeof(digits), "%03lld", (long long)frac);
    for (size_t k = strlen(digits); k > 0 && digits[k - 1] == '0'; k--)
        digits[k - 1] = '\0';
    strbuf_printf(b, "%s%lld.%s", m < 0 && whole == 0 ? "-" : "", (long long)whole, digits);
}

void value_fini(value_t *v)
{
    free(v->ranges);
    for (size_t i = 0; i < v->item_count; i++)
        free(v->items[i]);
    free(v->items);
    free(v->text);
    *v = (value_t){0};
}

/* Mesos's strings::checkBracketsMatching: every close follows its open, none left open. */
static bool brackets_match(const char *s, char open, char close)
{
    long depth = 0;
    for (; *s; s++) {
        if (*s == open)
            depth++;
        else if (*s == close && --depth < 0)
            return false;
    }
    return depth == 0;
}

/* Splits s (modified) at any of delims, dropping empty tokens (Mesos's strings::tokenize);
 * tok must have room for strlen(s) / 2 + 1 tokens. Returns the number of tokens. */
static size_t tokenize(char *s, const char *delims, char **tok)
{
    size_t n = 0;
    for (char *save = NULL, *t = strtok_r(s, delims, &save); t; t = strtok_r(NULL, delims, &save))
        tok[n++] = t;
    return n;
}

static bool parse_u64(const char *s, uint64_t *out)
{
    if (!isdigit((unsigned char)*s))
        return false;
    errno = 0;
    char *end = NULL;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || *end != '\0')
        return false;
    *out = v;
    return true;
}

static actor_err_t check_range(char **tok, resources_range_t *r, char *detail, size_t detail_len)
{
    const char *bad = NULL;
    if (!parse_u64(tok[0], &r->begin))
        bad = tok[0];
    else if (!parse_u64(tok[1], &r->end))
        bad = tok[1];
    if (bad != NULL) {
        set_error(detail, detail_len, "Expecting non-negative integers in '%s'", bad);
        return ACTOR_EINVAL;
    }
    if (r->begin > r->end) {
        set_error(detail, detail_len, "Invalid ranges resource: begin > end");
        return ACTOR_EINVAL;
    }
    return ACTOR_OK;
}

/* s is "[...]" with spaces removed; tok has room for its tokens. */
static actor_err_t parse_ranges(char *s, char **tok, value_t *out, char *detail, size_t detail_len)
{
    size_t n = tokenize(s, "[]-,\n", tok);
    if (n % 2 != 0) {
        set_error(detail, detail_len, "Expecting one or more \"ranges\"");
        return ACTOR_EINVAL;
    }
    out->type = RESOURCES_RANGES;
    if (n == 0)
        return ACTOR_OK;
    out->ranges = malloc(n / 2 * sizeof(*out->ranges));
    if (out->ranges == NULL)
        return ACTOR_ENOMEM;
    for (size_t i = 0; i < n / 2; i++) {
        actor_err_t rc = check_range(tok + 2 * i, &out->ranges[i], detail, detail_len);
        if (rc != ACTOR_OK)
            return rc;
    }
    out->range_count = n / 2;
    ranges_normalize(out->ranges, &out->range_count);
    return ACTOR_OK;
}

static actor_err_t parse_set(char *s, char **tok, value_t *out)
{
    size_t n = tokenize(s, "{},\n", tok);
    out->type = RESOURCES_SET;
    if (n == 0)
        return ACTOR_OK;
    out->items = calloc(n, sizeof(*out->items));
    if (out->items == NULL)
        return ACTOR_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        out->items[i] = strdup(tok[i]);
        if (out->items[i] == NULL)
            return ACTOR_ENOMEM;
        out->item_count++;
    }
    return ACTOR_OK;
}

/* A number as Mesos's numify<double> takes it: the whole string, decimal or exponent form. */
static actor_err_t parse_scalar_or_text(const char *s, value_t *out, char *detail,
                                        size_t detail_len)
{
    char *end = NULL;
    double v = strtod(s, &end);
    bool number = end != s && *end == '\0' &&
                  (isdigit((unsigned char)s[0]) || s[0] == '-' || s[0] == '+' || s[0] == '.');
    if (number && (isnan(v) || isinf(v))) {
        set_error(detail, detail_len, "Invalid scalar value '%s': %s", s,
                  isnan(v) ? "NaN not supported" : "Infinite values not supported");
        return ACTOR_EINVAL;
    }
    if (number) {
        out->type = RESOURCES_SCALAR;
        out->scalar = v;
        return ACTOR_OK;
    }
    out->type = RESOURCES_TEXT;
    out->text = strdup(s);
    return out->text ? ACTOR_OK : ACTOR_ENOMEM;
}

static actor_err_t parse_stripped(char *s, char **tok, value_t *out, char *detail,
                                  size_t detail_len)
{
    if (*s == '\0') {
        set_error(detail, detail_len, "Expecting non-empty string");
        return ACTOR_EINVAL;
    }
    if (!brackets_match(s, '{', '}') || !brackets_match(s, '[', ']') ||
        !brackets_match(s, '(', ')')) {
        set_error(detail, detail_len, "Mismatched brackets");
        return ACTOR_EINVAL;
    }
    char *bracket = strchr(s, '['), *brace = strchr(s, '{');
    if (bracket == s)
        return parse_ranges(s, tok, out, detail, detail_len);
    if (bracket != NULL) {
        set_error(detail, detail_len, "Unexpected '[' found");
        return ACTOR_EINVAL;
    }
    if (brace == s)
        return parse_set(s, tok, out);
    if (brace != NULL) {
        set_error(detail, detail_len, "Unexpected '{' found");
        return ACTOR_EINVAL;
    }
    return parse_scalar_or_text(s, out, detail, detail_len);
}

actor_err_t value_parse(const char *text, value_t *out, char *detail, size_t detail_len)
{
    *out = (value_t){0};
    size_t len = strlen(text);
    char *s = malloc(len + 1);
    char **tok = malloc((len / 2 + 1) * sizeof(*tok));
    actor_err_t rc = ACTOR_ENOMEM;
    if (s == NULL || tok == NULL)
        goto done;
    size_t w = 0; /* Mesos removes every space before looking at the value */
    for (size_t i = 0; i < len; i++)
        if (text[i] != ' ')
            s[w++] = text[i];
    s[w] = '\0';
    rc = parse_stripped(s, tok, out, detail, detail_len);
done:
    if (rc != ACTOR_OK)
        value_fini(out);
    free(tok);
    free(s);
    return rc;
}

char *text_trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n > 0 && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    return s;
}
