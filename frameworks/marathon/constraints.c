/*
 * constraints.c: Marathon's placement constraints (mesos/Constraints.scala of Marathon 1.10):
 * reading a field's value from an offer or from where an instance runs, each operator's rule,
 * and the GROUP_BY-keeping choice of instances to kill with the ScalingProposition order around
 * it. See placement.h for the semantics.
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* An allocation failure inside uthash leaves the item out (hh.tbl NULL) instead of exiting. */
#define HASH_NONFATAL_OOM 1
#include <uthash.h>

#include "frameworks/marathon/placement.h"

/* ---- Field values ---- */

typedef enum field_kind {
    FIELD_HOSTNAME,
    FIELD_REGION,
    FIELD_ZONE,
    FIELD_ATTRIBUTE,
} field_kind_t;

/* A field's value: text (borrowed or in heap), or absent (s NULL). */
typedef struct fval {
    const char *s;
    char *heap;  /* what to free, or NULL */
    bool scalar; /* from a SCALAR attribute: number holds it */
    double number;
} fval_t;

static void fval_fini(fval_t *v)
{
    free(v->heap);
    v->heap = NULL;
    v->s = NULL;
}

static field_kind_t field_kind(const char *field)
{
    if (strcmp(field, "hostname") == 0 || strcmp(field, "@hostname") == 0)
        return FIELD_HOSTNAME;
    if (strcmp(field, "@region") == 0)
        return FIELD_REGION;
    if (strcmp(field, "@zone") == 0)
        return FIELD_ZONE;
    return FIELD_ATTRIBUTE;
}

/* Writes a number as java.text.NumberFormat.getInstance() (en_US) does: at most 3 decimals,
 * rounded half-even on the exact binary value (as glibc's printf rounds), trailing zeros
 * dropped, the integer part grouped by thousands. out has at least 512 bytes. */
static void format_number(double v, char *out, size_t len)
{
    if (isnan(v)) {
        snprintf(out, len, "NaN");
        return;
    }
    if (isinf(v)) {
        snprintf(out, len, "%s\u221e", v < 0 ? "-" : "");
        return;
    }
    char tmp[400];
    snprintf(tmp, sizeof(tmp), "%.3f", v);
    const char *digits = tmp[0] == '-' ? tmp + 1 : tmp;
    const char *dot = strchr(digits, '.');
    size_t int_len = (size_t)(dot - digits), o = 0;
    if (tmp[0] == '-')
        out[o++] = '-';
    for (size_t i = 0; i < int_len && o + 2 < len; i++) {
        if (i > 0 && (int_len - i) % 3 == 0)
            out[o++] = ',';
        out[o++] = digits[i];
    }
    size_t frac = 3;
    while (frac > 0 && dot[frac] == '0')
        frac--;
    if (frac > 0 && o + frac + 1 < len) {
        memcpy(out + o, dot, frac + 1);
        o += frac + 1;
    }
    out[o] = '\0';
}

static int range_cmp(const void *a, const void *b)
{
    const Mesos__Value__Range *x = *(Mesos__Value__Range *const *)a;
    const Mesos__Value__Range *y = *(Mesos__Value__Range *const *)b;
    return x->begin < y->begin ? -1 : x->begin > y->begin;
}

static int string_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Appends to a heap string; frees it and returns NULL when out of memory. */
static char *append(char *s, size_t *len, const char *add)
{
    size_t n = strlen(add);
    char *grown = realloc(s, *len + n + 1);
    if (grown == NULL) {
        free(s);
        return NULL;
    }
    memcpy(grown + *len, add, n + 1);
    *len += n;
    return grown;
}

/* The text of one item of a list: the item itself, or written to buf. */
typedef const char *item_text_fn(const void *item, char *buf, size_t len);

static const char *range_item(const void *item, char *buf, size_t len)
{
    const Mesos__Value__Range *r = item;
    snprintf(buf, len, "%llu-%llu", (unsigned long long)r->begin, (unsigned long long)r->end);
    return buf;
}

static const char *set_item(const void *item, char *buf, size_t len)
{
    (void)buf;
    (void)len;
    return item;
}

/* open + the n items (pointers, sorted with cmp) joined by ',' + close, in a new string. */
static char *sorted_join(void *const *items, size_t n, int (*cmp)(const void *, const void *),
                         item_text_fn *text, const char *open, const char *close)
{
    size_t len = 0;
    void **sorted = malloc((n + 1) * sizeof(*sorted));
    char *s = append(NULL, &len, open);
    if (s == NULL || sorted == NULL) {
        free(sorted);
        free(s);
        return NULL;
    }
    if (n > 0)
        memcpy(sorted, items, n * sizeof(*sorted));
    qsort(sorted, n, sizeof(*sorted), cmp);
    for (size_t i = 0; i < n && s != NULL; i++) {
        char buf[48];
        if (i > 0)
            s = append(s, &len, ",");
        if (s != NULL)
            s = append(s, &len, text(sorted[i], buf, sizeof(buf)));
    }
    free(sorted);
    return s != NULL ? append(s, &len, close) : NULL;
}

/* "[1-4,6-8]" (ranges sorted by their beginning), "{a,b}" (items sorted). */
static char *ranges_text(const Mesos__Value__Ranges *r)
{
    return sorted_join(r != NULL ? (void *const *)r->range : NULL, r != NULL ? r->n_range : 0,
                       range_cmp, range_item, "[", "]");
}

static char *set_text(const Mesos__Value__Set *set)
{
    return sorted_join(set != NULL ? (void *const *)set->item : NULL, set != NULL ? set->n_item : 0,
                       string_cmp, set_item, "{", "}");
}

/* An attribute's value as Marathon's getValueString writes it. */
static actor_err_t attribute_value(const Mesos__Attribute *a, fval_t *out)
{
    char buf[512];
    switch (a->type) {
    case MESOS__VALUE__TYPE__SCALAR:
        out->scalar = true;
        out->number = a->scalar != NULL ? a->scalar->value : 0;
        format_number(out->number, buf, sizeof(buf));
        out->heap = strdup(buf);
        break;
    case MESOS__VALUE__TYPE__RANGES:
        out->heap = ranges_text(a->ranges);
        break;
    case MESOS__VALUE__TYPE__SET:
        out->heap = set_text(a->set);
        break;
    default:
        out->s = a->text != NULL && a->text->value != NULL ? a->text->value : "";
        return ACTOR_OK;
    }
    out->s = out->heap;
    return out->heap != NULL ? ACTOR_OK : ACTOR_ENOMEM;
}

static actor_err_t attributes_value(Mesos__Attribute *const *attrs, size_t n, const char *name,
                                    fval_t *out)
{
    for (size_t i = 0; i < n; i++)
        if (attrs[i] != NULL && attrs[i]->name != NULL && strcmp(attrs[i]->name, name) == 0)
            return attribute_value(attrs[i], out);
    return ACTOR_OK;
}

static const char *offer_region(const Mesos__Offer *offer, bool zone)
{
    const Mesos__DomainInfo__FaultDomain *fd =
        offer->domain != NULL ? offer->domain->fault_domain : NULL;
    if (fd == NULL)
        return NULL;
    if (zone)
        return fd->zone != NULL ? fd->zone->name : NULL;
    return fd->region != NULL ? fd->region->name : NULL;
}

void marathon_placed_from_offer(const Mesos__Offer *offer, marathon_placed_t *out)
{
    memset(out, 0, sizeof(*out));
    out->agent_id = offer->agent_id != NULL ? offer->agent_id->value : NULL;
    out->hostname = offer->hostname;
    out->attributes = offer->attributes;
    out->attribute_count = offer->n_attributes;
    out->region = offer_region(offer, false);
    out->zone = offer_region(offer, true);
}

/* The value of field where placed runs (absent when it is not placed yet). */
static actor_err_t placed_value(field_kind_t kind, const char *field,
                                const marathon_placed_t *placed, fval_t *out)
{
    memset(out, 0, sizeof(*out));
    if (placed->hostname == NULL)
        return ACTOR_OK;
    switch (kind) {
    case FIELD_HOSTNAME:
        out->s = placed->hostname;
        return ACTOR_OK;
    case FIELD_REGION:
        out->s = placed->region;
        return ACTOR_OK;
    case FIELD_ZONE:
        out->s = placed->zone;
        return ACTOR_OK;
    default:
        return attributes_value(placed->attributes, placed->attribute_count, field, out);
    }
}

static actor_err_t offer_value(field_kind_t kind, const char *field, const Mesos__Offer *offer,
                               fval_t *out)
{
    marathon_placed_t view;
    marathon_placed_from_offer(offer, &view);
    if (view.hostname == NULL)
        view.hostname = "";
    return placed_value(kind, field, &view, out);
}

/* ---- Operators ---- */

/* Marathon's getIntValue: "inf" is the largest int, a Java int parses, anything else is dflt. */
static long int_value(const char *s, long dflt)
{
    if (s == NULL)
        return dflt;
    if (strcmp(s, "inf") == 0)
        return INT_MAX;
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (*s == '\0' || *end != '\0' || errno != 0 || v > INT_MAX || v < INT_MIN || s[0] == ' ' ||
        s[0] == '\t' || s[0] == '\n')
        return dflt;
    return v;
}

/* Translates a Java regular expression to POSIX extended, anchored to match the whole text: \d
 * and \D become classes, (?: a plain group; the rest is left to POSIX. */
static char *regex_translate(const char *java)
{
    size_t len = strlen(java), o = 0;
    char *out = malloc(len * 4 + 8);
    if (out == NULL)
        return NULL;
    out[o++] = '^';
    out[o++] = '(';
    bool bracket = false;
    for (size_t i = 0; i < len; i++) {
        char c = java[i];
        if (c == '\\' && (java[i + 1] == 'd' || java[i + 1] == 'D')) {
            const char *cls = bracket ? "0-9" : java[i + 1] == 'd' ? "[0-9]" : "[^0-9]";
            memcpy(out + o, cls, strlen(cls));
            o += strlen(cls);
            i++;
        } else if (c == '\\' && java[i + 1] != '\0') {
            out[o++] = c;
            out[o++] = java[++i];
        } else if (!bracket && c == '(' && java[i + 1] == '?' && java[i + 2] == ':') {
            out[o++] = '(';
            i += 2;
        } else {
            if (c == '[' && !bracket) {
                bracket = true;
                out[o++] = c;
                if (java[i + 1] == '^')
                    out[o++] = java[++i];
                if (java[i + 1] == ']')
                    out[o++] = java[++i];
                continue;
            }
            if (c == ']' && bracket)
                bracket = false;
            out[o++] = c;
        }
    }
    out[o++] = ')';
    out[o++] = '$';
    out[o] = '\0';
    return out;
}

/* Whether text matches the whole of pattern; false when the pattern does not compile. */
static bool regex_full_match(const char *pattern, const char *text)
{
    char *posix = regex_translate(pattern);
    if (posix == NULL)
        return false;
    regex_t re;
    int rc = regcomp(&re, posix, REG_EXTENDED | REG_NOSUB);
    free(posix);
    if (rc != 0)
        return false;
    bool match = regexec(&re, text, 0, NULL, 0) == 0;
    regfree(&re);
    return match;
}

/* IS: text equality; a scalar attribute compares at 3 decimals when the value is a number. */
static bool check_is(const fval_t *offer, const char *value)
{
    if (offer->scalar) {
        char *end;
        double want = strtod(value, &end);
        if (*value != '\0' && *end == '\0' && isfinite(want)) {
            char a[512];
            format_number(want, a, sizeof(a));
            return strcmp(a, offer->s) == 0;
        }
    }
    return strcmp(offer->s, value) == 0;
}

/* Walks the placed instances' values: calls fn(arg, value) for each (value NULL when absent).
 * ACTOR_ENOMEM when a value cannot be formatted. */
typedef void placed_fn(void *arg, const char *value);

static actor_err_t placed_each(const marathon_constraint_t *c, const marathon_placed_t *placed,
                               size_t n, placed_fn *fn, void *arg)
{
    field_kind_t kind = field_kind(c->field);
    for (size_t i = 0; i < n; i++) {
        fval_t v;
        if (placed_value(kind, c->field, &placed[i], &v) != ACTOR_OK)
            return ACTOR_ENOMEM;
        fn(arg, v.s);
        fval_fini(&v);
    }
    return ACTOR_OK;
}

/* Counts the placed instances with a value (equal to want, or different from it). */
typedef struct count_arg {
    const char *want;
    size_t equal, different;
} count_arg_t;

static void count_fn(void *arg, const char *value)
{
    count_arg_t *c = arg;
    if (value != NULL && strcmp(value, c->want) == 0)
        c->equal++;
    else
        c->different++;
}

/* GROUP_BY's groups: one per value, and one for instances without a value. */
typedef struct group {
    char *key;
    size_t count;
    UT_hash_handle hh;
} group_t;

typedef struct groups {
    group_t *by_key;
    size_t none; /* instances without a value */
    bool oom;
} groups_t;

static void groups_fn(void *arg, const char *value)
{
    groups_t *g = arg;
    if (value == NULL) {
        g->none++;
        return;
    }
    group_t *e;
    HASH_FIND_STR(g->by_key, value, e);
    if (e == NULL) {
        e = calloc(1, sizeof(*e));
        if (e == NULL || (e->key = strdup(value)) == NULL) {
            free(e);
            g->oom = true;
            return;
        }
        HASH_ADD_KEYPTR(hh, g->by_key, e->key, strlen(e->key), e);
        if (e->hh.tbl == NULL) {
            free(e->key);
            free(e);
            g->oom = true;
            return;
        }
    }
    e->count++;
}

static void groups_fini(groups_t *g)
{
    group_t *e, *tmp;
    HASH_ITER(hh, g->by_key, e, tmp)
    {
        HASH_DEL(g->by_key, e);
        free(e->key);
        free(e);
    }
}

static bool check_group_by(const marathon_constraint_t *c, const char *offer,
                           const marathon_placed_t *placed, size_t n)
{
    groups_t g = {0};
    if (placed_each(c, placed, n, groups_fn, &g) != ACTOR_OK || g.oom) {
        groups_fini(&g);
        return false;
    }
    long minimum = int_value(c->value, 0);
    size_t group_count = HASH_COUNT(g.by_key) + (g.none > 0);
    size_t min_count = g.none > 0 ? g.none : SIZE_MAX;
    group_t *e, *tmp, *mine = NULL;
    HASH_ITER(hh, g.by_key, e, tmp)
    {
        if (e->count < min_count)
            min_count = e->count;
        if (strcmp(e->key, offer) == 0)
            mine = e;
    }
    bool ok = mine == NULL || ((long)group_count >= minimum && mine->count == min_count);
    groups_fini(&g);
    return ok;
}

static bool check_cluster(const marathon_constraint_t *c, const char *offer,
                          const marathon_placed_t *placed, size_t n)
{
    if (c->value != NULL && c->value[0] != '\0')
        return strcmp(offer, c->value) == 0;
    if (n == 0)
        return true;
    count_arg_t first = {.want = offer};
    return placed_each(c, placed, 1, count_fn, &first) == ACTOR_OK && first.equal == 1;
}

static bool check_present(const marathon_constraint_t *c, const fval_t *offer,
                          const marathon_placed_t *placed, size_t n)
{
    const char *value = c->value != NULL ? c->value : "";
    count_arg_t count = {.want = offer->s};
    switch (c->op) {
    case MARATHON_CONSTRAINT_LIKE:
        return value[0] != '\0' && regex_full_match(value, offer->s);
    case MARATHON_CONSTRAINT_UNLIKE:
        return value[0] != '\0' && !regex_full_match(value, offer->s);
    case MARATHON_CONSTRAINT_UNIQUE:
        return placed_each(c, placed, n, count_fn, &count) == ACTOR_OK && count.equal == 0;
    case MARATHON_CONSTRAINT_MAX_PER: {
        long max = int_value(c->value, LONG_MIN);
        return max != LONG_MIN && placed_each(c, placed, n, count_fn, &count) == ACTOR_OK &&
               (long)count.equal < max;
    }
    case MARATHON_CONSTRAINT_GROUP_BY:
        return check_group_by(c, offer->s, placed, n);
    case MARATHON_CONSTRAINT_CLUSTER:
        return check_cluster(c, offer->s, placed, n);
    case MARATHON_CONSTRAINT_IS:
        return check_is(offer, value);
    }
    return false;
}

bool marathon_constraint_allows(const marathon_constraint_t *constraint, const Mesos__Offer *offer,
                                const marathon_placed_t *placed, size_t placed_count)
{
    if (constraint == NULL || constraint->field == NULL || offer == NULL)
        return false;
    fval_t v = {0};
    if (offer_value(field_kind(constraint->field), constraint->field, offer, &v) != ACTOR_OK)
        return false;
    bool ok = v.s != NULL ? check_present(constraint, &v, placed, placed_count)
                          : constraint->op == MARATHON_CONSTRAINT_UNLIKE;
    fval_fini(&v);
    return ok;
}

bool marathon_constraints_allow(const marathon_app_t *app, const Mesos__Offer *offer,
                                const marathon_placed_t *placed, size_t placed_count)
{
    for (size_t i = 0; i < app->constraint_count; i++)
        if (!marathon_constraint_allows(&app->constraints[i], offer, placed, placed_count))
            return false;
    return true;
}

/* ---- Kill selection ---- */

/* ScalingProposition's weight: lower is killed first. */
static int kill_weight(const marathon_kill_candidate_t *c)
{
    switch (c->condition) {
    case MARATHON_CONDITION_SCHEDULED:
        return 0;
    case MARATHON_CONDITION_UNREACHABLE:
        return 1;
    case MARATHON_CONDITION_STAGING:
        return 2;
    case MARATHON_CONDITION_STARTING:
        return 3;
    case MARATHON_CONDITION_RUNNING:
        return c->health == MARATHON_INSTANCE_HEALTH_UNHEALTHY ? 4 : 5;
    default:
        return 6;
    }
}

typedef struct kill_order {
    const marathon_kill_candidate_t *c;
    bool oldest_first;
} kill_order_t;

/* sortByConditionAndDate: weight, then killSelection on the time (unknown first), then input
 * order so that the result is deterministic. */
static int kill_cmp(const void *pa, const void *pb, void *arg)
{
    const kill_order_t *o = arg;
    size_t ia = *(const size_t *)pa, ib = *(const size_t *)pb;
    const marathon_kill_candidate_t *a = &o->c[ia], *b = &o->c[ib];
    int wa = kill_weight(a), wb = kill_weight(b);
    if (wa != wb)
        return wa < wb ? -1 : 1;
    bool ka = a->since_ns > 0, kb = b->since_ns > 0;
    if (ka != kb)
        return ka ? 1 : -1;
    if (ka && a->since_ns != b->since_ns) {
        bool a_first = o->oldest_first ? a->since_ns < b->since_ns : a->since_ns > b->since_ns;
        return a_first ? -1 : 1;
    }
    return ia < ib ? -1 : ia > ib;
}

/* One GROUP_BY constraint's distribution of the candidates (Marathon's GroupByDistribution):
 * group sizes left after the kills chosen so far, with a histogram of the sizes so that
 * max - min is known in O(1). */
typedef struct distribution {
    size_t *group_of; /* per candidate position */
    size_t *counts;   /* per group */
    size_t group_count;
    size_t *hist; /* hist[s]: groups of size s */
    size_t max, min;
    size_t initial_diff;
} distribution_t;

static void distribution_fini(distribution_t *d)
{
    free(d->group_of);
    free(d->counts);
    free(d->hist);
}

typedef struct group_index {
    char *key;
    size_t index;
    UT_hash_handle hh;
} group_index_t;

static void group_index_free(group_index_t **h)
{
    group_index_t *e, *tmp;
    HASH_ITER(hh, *h, e, tmp)
    {
        HASH_DEL(*h, e);
        free(e->key);
        free(e);
    }
}

/* The group index of a value (SIZE_MAX when out of memory); values NULL share one group. */
static size_t group_lookup(group_index_t **h, size_t *none, size_t *next, const char *value)
{
    if (value == NULL) {
        if (*none == SIZE_MAX)
            *none = (*next)++;
        return *none;
    }
    group_index_t *e;
    HASH_FIND_STR(*h, value, e);
    if (e != NULL)
        return e->index;
    e = calloc(1, sizeof(*e));
    if (e == NULL || (e->key = strdup(value)) == NULL) {
        free(e);
        return SIZE_MAX;
    }
    HASH_ADD_KEYPTR(hh, *h, e->key, strlen(e->key), e);
    if (e->hh.tbl == NULL) {
        free(e->key);
        free(e);
        return SIZE_MAX;
    }
    e->index = (*next)++;
    return e->index;
}

static actor_err_t distribution_counts(distribution_t *d, size_t n)
{
    d->counts = calloc(d->group_count, sizeof(*d->counts));
    if (d->counts == NULL)
        return ACTOR_ENOMEM;
    for (size_t i = 0; i < n; i++)
        d->counts[d->group_of[i]]++;
    d->max = 0;
    d->min = d->group_count > 0 ? SIZE_MAX : 0;
    for (size_t g = 0; g < d->group_count; g++) {
        d->max = d->counts[g] > d->max ? d->counts[g] : d->max;
        d->min = d->counts[g] < d->min ? d->counts[g] : d->min;
    }
    d->hist = calloc(d->max + 1, sizeof(*d->hist));
    if (d->hist == NULL)
        return ACTOR_ENOMEM;
    for (size_t g = 0; g < d->group_count; g++)
        d->hist[d->counts[g]]++;
    d->initial_diff = d->max - d->min;
    return ACTOR_OK;
}

/* Groups the candidates at positions order[0..n) by the constraint's field. */
static actor_err_t distribution_init(distribution_t *d, const marathon_constraint_t *c,
                                     const marathon_kill_candidate_t *cands, const size_t *order,
                                     size_t n)
{
    memset(d, 0, sizeof(*d));
    d->group_of = calloc(n, sizeof(*d->group_of));
    if (d->group_of == NULL)
        return ACTOR_ENOMEM;
    group_index_t *index = NULL;
    size_t none = SIZE_MAX;
    field_kind_t kind = field_kind(c->field);
    actor_err_t rc = ACTOR_OK;
    for (size_t i = 0; i < n && rc == ACTOR_OK; i++) {
        fval_t v;
        rc = placed_value(kind, c->field, &cands[order[i]].placed, &v);
        if (rc == ACTOR_OK) {
            d->group_of[i] = group_lookup(&index, &none, &d->group_count, v.s);
            rc = d->group_of[i] == SIZE_MAX ? ACTOR_ENOMEM : ACTOR_OK;
        }
        fval_fini(&v);
    }
    group_index_free(&index);
    return rc == ACTOR_OK ? distribution_counts(d, n) : rc;
}

/* max - min of the group sizes if the candidate at position i were killed too. */
static size_t distribution_diff_without(const distribution_t *d, size_t i)
{
    size_t c = d->counts[d->group_of[i]];
    size_t max = c == d->max && d->hist[c] == 1 ? c - 1 : d->max;
    size_t min = c - 1 < d->min ? c - 1 : d->min;
    return max - min;
}

/* isMoreEvenWithout: perfect (0), tolerated (1), or better than at the start. */
static bool distribution_ok_without(const distribution_t *d, size_t i)
{
    size_t diff = distribution_diff_without(d, i);
    return diff <= 1 || d->initial_diff > diff;
}

static void distribution_remove(distribution_t *d, size_t i)
{
    size_t c = d->counts[d->group_of[i]]--;
    d->hist[c]--;
    d->hist[c - 1]++;
    if (c == d->max && d->hist[c] == 0)
        d->max = c - 1;
    if (c - 1 < d->min)
        d->min = c - 1;
}

typedef struct balance {
    distribution_t *dists;
    size_t dist_count;
    size_t *by_diff; /* distribution indexes, largest difference first */
    bool *taken;     /* per candidate position */
    size_t n;
} balance_t;

static bool balance_ok(const balance_t *b, size_t i)
{
    if (b->taken[i])
        return false;
    for (size_t d = 0; d < b->dist_count; d++)
        if (!distribution_ok_without(&b->dists[d], i))
            return false;
    return true;
}

/* The next candidate position to kill, or SIZE_MAX: first those in the largest groups of the
 * most uneven distributions, then any, as long as every distribution stays even enough. */
static size_t dist_diff(const balance_t *b, size_t k)
{
    return b->dists[k].max - b->dists[k].min;
}

static size_t balance_next(balance_t *b)
{
    for (size_t k = 0; k < b->dist_count; k++) { /* stable sort, largest difference first */
        size_t j = k;
        for (; j > 0 && dist_diff(b, b->by_diff[j - 1]) < dist_diff(b, k); j--)
            b->by_diff[j] = b->by_diff[j - 1];
        b->by_diff[j] = k;
    }
    for (size_t k = 0; k < b->dist_count; k++) {
        const distribution_t *d = &b->dists[b->by_diff[k]];
        if (d->max == d->min)
            continue;
        for (size_t i = 0; i < b->n; i++)
            if (d->counts[d->group_of[i]] == d->max && balance_ok(b, i))
                return i;
    }
    for (size_t i = 0; i < b->n; i++)
        if (balance_ok(b, i))
            return i;
    return SIZE_MAX;
}

static void balance_fini(balance_t *b)
{
    for (size_t d = 0; d < b->dist_count; d++)
        distribution_fini(&b->dists[d]);
    free(b->dists);
    free(b->by_diff);
    free(b->taken);
}

static actor_err_t balance_init(balance_t *b, const marathon_app_t *app,
                                const marathon_kill_candidate_t *cands, const size_t *order,
                                size_t n)
{
    memset(b, 0, sizeof(*b));
    b->n = n;
    b->dists = calloc(app->constraint_count + 1, sizeof(*b->dists));
    b->by_diff = calloc(app->constraint_count + 1, sizeof(*b->by_diff));
    b->taken = calloc(n + 1, sizeof(*b->taken));
    if (b->dists == NULL || b->by_diff == NULL || b->taken == NULL)
        return ACTOR_ENOMEM;
    for (size_t i = 0; i < app->constraint_count; i++) {
        const marathon_constraint_t *c = &app->constraints[i];
        if (c->op != MARATHON_CONSTRAINT_GROUP_BY || c->field == NULL)
            continue;
        actor_err_t rc = distribution_init(&b->dists[b->dist_count++], c, cands, order, n);
        if (rc != ACTOR_OK)
            return rc;
    }
    return ACTOR_OK;
}

/* Constraints.selectInstancesToKill over the candidates at positions order[0..n): appends up
 * to want of them (as candidate indexes) to out and marks them in picked (by position). */
static actor_err_t select_balanced(const marathon_app_t *app,
                                   const marathon_kill_candidate_t *cands, const size_t *order,
                                   size_t n, size_t want, size_t *out, size_t *out_count,
                                   bool *picked)
{
    balance_t b;
    actor_err_t rc = balance_init(&b, app, cands, order, n);
    while (rc == ACTOR_OK && b.dist_count > 0 && *out_count < want) {
        size_t i = n == want ? *out_count : balance_next(&b);
        if (i == SIZE_MAX)
            break;
        b.taken[i] = picked[i] = true;
        for (size_t d = 0; d < b.dist_count; d++)
            distribution_remove(&b.dists[d], i);
        out[(*out_count)++] = order[i];
    }
    balance_fini(&b);
    return rc;
}

actor_err_t marathon_select_kill(const marathon_app_t *app,
                                 const marathon_kill_candidate_t *candidates, size_t count,
                                 size_t kill_count, size_t *out, size_t *out_count)
{
    size_t want = kill_count < count ? kill_count : count, n = 0, rest = 0;
    *out_count = 0;
    size_t *order = malloc((count + 1) * sizeof(*order));
    bool *picked = calloc(count + 1, sizeof(*picked));
    if (order == NULL || picked == NULL) {
        free(order);
        free(picked);
        return ACTOR_ENOMEM;
    }
    for (size_t i = 0; i < count; i++) {
        if (candidates[i].sentenced && n < want)
            out[n++] = i;
        else if (!candidates[i].sentenced)
            order[rest++] = i;
    }
    kill_order_t ko = {candidates, app->kill_selection == MARATHON_KILL_OLDEST_FIRST};
    qsort_r(order, rest, sizeof(*order), kill_cmp, &ko);
    size_t from_constraints = 0;
    actor_err_t rc = ACTOR_OK;
    if (n < want)
        rc = select_balanced(app, candidates, order, rest, want - n, out + n, &from_constraints,
                             picked);
    n += from_constraints;
    for (size_t i = 0; i < rest && n < want && rc == ACTOR_OK; i++)
        if (!picked[i])
            out[n++] = order[i];
    free(order);
    free(picked);
    *out_count = rc == ACTOR_OK ? n : 0;
    return rc;
}
