/*
 * metrics.c: the metrics registry; see metrics.h.
 *
 * A registry is a mutex and a binary tree (glibc's tsearch) of metrics ordered by key, so that
 * rendering walks the keys in order and adding or removing one of 100,000 metrics stays
 * logarithmic. Each metric is a struct whose first member is the common header metric_t, so the
 * tree holds metric_t pointers and frees any kind through the header. Counter and gauge values are
 * C11 atomics updated without the registry lock; a timer's window of samples has its own mutex
 * because a sample updates several fields together.
 */
#include "actor/metrics.h"

#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <search.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actor/log.h"

#define NS_PER_MS  1e6
#define NS_PER_SEC 1e9

typedef enum kind {
    KIND_COUNTER,
    KIND_GAUGE, /* pushed: set by its owner */
    KIND_PULL,  /* pulled: computed by a callback at render time */
    KIND_TIMER,
} kind_t;

/* The header of every metric. */
typedef struct metric {
    char *key;               /* the Mesos key; a timer's ends in "_ms"; orders the tree */
    char *help;              /* for Prometheus's # HELP; NULL: the key */
    kind_t kind;             /* which struct embeds this header */
    metrics_registry_t *reg; /* the registry holding it */
} metric_t;

struct metrics_registry {
    pthread_mutex_t lock; /* guards root and count, and is held while rendering */
    void *root;           /* tsearch tree of metric_t *, ordered by key */
    size_t count;         /* metrics in root */
};

struct metrics_counter {
    metric_t m;
    _Atomic uint64_t value;
};

struct metrics_gauge {
    metric_t m;
    _Atomic uint64_t bits; /* a push gauge's double, as its bits: C11 has no atomic double add */
    metrics_pull_fn fn;    /* a pull gauge's callback, or NULL */
    void *arg;             /* fn's argument, borrowed */
};

struct metrics_timer {
    metric_t m;
    pthread_mutex_t lock; /* guards every field below */
    int64_t *window;      /* ring of the last cap samples, ns */
    size_t cap;           /* window's size, >= 1 */
    size_t len;           /* samples in window, <= cap */
    size_t next;          /* where the next sample goes */
    int64_t last_ns;      /* the latest sample */
    uint64_t count;       /* samples since creation */
    uint64_t sum_ns;      /* their sum, for Prometheus's _sum */
};

/* Quantiles libprocess's Statistics reports, with their snapshot suffix and Prometheus label. */
static const struct quantile {
    double q;
    const char *suffix;
    const char *label;
} quantiles[] = {
    {0.5, "p50", "0.5"},   {0.9, "p90", "0.9"},      {0.95, "p95", "0.95"},
    {0.99, "p99", "0.99"}, {0.999, "p999", "0.999"}, {0.9999, "p9999", "0.9999"},
};
#define QUANTILE_COUNT (sizeof(quantiles) / sizeof(quantiles[0]))

/* A timer's state copied out under its lock, with statistics over its window, in ns. */
typedef struct timer_stats {
    uint64_t count;           /* samples since creation */
    uint64_t sum_ns;          /* their sum */
    int64_t last_ns;          /* the latest */
    size_t n;                 /* samples in the window */
    double min, max;          /* over the window; valid if n > 0 */
    double q[QUANTILE_COUNT]; /* over the window; valid if n > 0 */
} timer_stats_t;

/* The process-wide registry: the module's one global, static so it never fails to exist. */
static metrics_registry_t default_registry = {.lock = PTHREAD_MUTEX_INITIALIZER};

static int metric_cmp(const void *a, const void *b)
{
    return strcmp(((const metric_t *)a)->key, ((const metric_t *)b)->key);
}

/* ---- registries ------------------------------------------------------------------------------ */

actor_err_t metrics_registry_new(metrics_registry_t **out)
{
    metrics_registry_t *reg = calloc(1, sizeof(*reg));
    if (reg == NULL)
        return ACTOR_ENOMEM;
    if (pthread_mutex_init(&reg->lock, NULL) != 0) {
        free(reg);
        return ACTOR_ENOMEM;
    }
    *out = reg;
    return ACTOR_OK;
}

metrics_registry_t *metrics_registry_default(void)
{
    return &default_registry;
}

/* Frees a metric already out of its registry's tree. */
static void metric_destroy(void *node)
{
    metric_t *m = node;
    if (m->kind == KIND_TIMER) {
        metrics_timer_t *t = (metrics_timer_t *)m;
        pthread_mutex_destroy(&t->lock);
        free(t->window);
    }
    free(m->help);
    free(m->key);
    free(m);
}

void metrics_registry_free(metrics_registry_t *reg)
{
    if (reg == NULL)
        return;
    pthread_mutex_lock(&reg->lock);
    tdestroy(reg->root, metric_destroy);
    reg->root = NULL;
    reg->count = 0;
    pthread_mutex_unlock(&reg->lock);
    /* The default registry is static: emptying it is all freeing can do. */
    if (reg == &default_registry)
        return;
    pthread_mutex_destroy(&reg->lock);
    free(reg);
}

size_t metrics_registry_count(metrics_registry_t *reg)
{
    pthread_mutex_lock(&reg->lock);
    size_t count = reg->count;
    pthread_mutex_unlock(&reg->lock);
    return count;
}

static actor_err_t registry_insert(metrics_registry_t *reg, metric_t *m)
{
    actor_err_t err = ACTOR_OK;
    pthread_mutex_lock(&reg->lock);
    if (tfind(m, &reg->root, metric_cmp) != NULL)
        err = ACTOR_EEXIST;
    else if (tsearch(m, &reg->root, metric_cmp) == NULL)
        err = ACTOR_ENOMEM;
    else
        reg->count++;
    pthread_mutex_unlock(&reg->lock);
    return err;
}

actor_err_t metrics_registry_remove(metrics_registry_t *reg, const char *key)
{
    metric_t probe = {.key = (char *)key};
    metric_t *m = NULL;
    pthread_mutex_lock(&reg->lock);
    void *node = tfind(&probe, &reg->root, metric_cmp);
    if (node != NULL) {
        m = *(metric_t **)node;
        tdelete(m, &reg->root, metric_cmp);
        reg->count--;
    }
    pthread_mutex_unlock(&reg->lock);
    if (m == NULL)
        return ACTOR_ENOENT;
    metric_destroy(m);
    return ACTOR_OK;
}

/* Fills m's header and inserts it into reg. On failure m's header owns nothing: the caller frees
 * only its own struct. */
static actor_err_t metric_add(metrics_registry_t *reg, metric_t *m, const char *key,
                              const char *suffix, const char *help, kind_t kind)
{
    if (key == NULL || key[0] == '\0')
        return ACTOR_EINVAL;
    m->reg = reg;
    m->kind = kind;
    if (asprintf(&m->key, "%s%s", key, suffix) < 0)
        return ACTOR_ENOMEM;
    actor_err_t err = ACTOR_ENOMEM;
    m->help = help != NULL ? strdup(help) : NULL;
    if (help != NULL && m->help == NULL)
        goto fail_free_key;
    err = registry_insert(reg, m);
    if (err == ACTOR_OK)
        return ACTOR_OK;
    free(m->help);
fail_free_key:
    free(m->key);
    return err;
}

/* Takes m out of its registry and frees it. */
static void metric_free(metric_t *m)
{
    metrics_registry_t *reg = m->reg;
    pthread_mutex_lock(&reg->lock);
    tdelete(m, &reg->root, metric_cmp);
    reg->count--;
    pthread_mutex_unlock(&reg->lock);
    metric_destroy(m);
}

/* ---- counters ----------------------------------------------------------------------------------
 */

actor_err_t metrics_counter_new(metrics_registry_t *reg, const char *key, const char *help,
                                metrics_counter_t **out)
{
    metrics_counter_t *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return ACTOR_ENOMEM;
    atomic_init(&c->value, 0);
    actor_err_t err = metric_add(reg, &c->m, key, "", help, KIND_COUNTER);
    if (err != ACTOR_OK) {
        free(c);
        return err;
    }
    *out = c;
    return ACTOR_OK;
}

void metrics_counter_free(metrics_counter_t *counter)
{
    if (counter != NULL)
        metric_free(&counter->m);
}

void metrics_counter_add(metrics_counter_t *counter, uint64_t n)
{
    atomic_fetch_add_explicit(&counter->value, n, memory_order_relaxed);
}

void metrics_counter_inc(metrics_counter_t *counter)
{
    metrics_counter_add(counter, 1);
}

uint64_t metrics_counter_value(const metrics_counter_t *counter)
{
    return atomic_load_explicit(&counter->value, memory_order_relaxed);
}

/* ---- gauges ---------------------------------------------------------------------------------- */

static uint64_t double_bits(double value)
{
    uint64_t bits;
    memcpy(&bits, &value, sizeof(bits));
    return bits;
}

static double bits_double(uint64_t bits)
{
    double value;
    memcpy(&value, &bits, sizeof(value));
    return value;
}

static actor_err_t gauge_new(metrics_registry_t *reg, const char *key, const char *help,
                             metrics_pull_fn fn, void *arg, metrics_gauge_t **out)
{
    metrics_gauge_t *g = calloc(1, sizeof(*g));
    if (g == NULL)
        return ACTOR_ENOMEM;
    atomic_init(&g->bits, double_bits(0.0));
    g->fn = fn;
    g->arg = arg;
    actor_err_t err = metric_add(reg, &g->m, key, "", help, fn != NULL ? KIND_PULL : KIND_GAUGE);
    if (err != ACTOR_OK) {
        free(g);
        return err;
    }
    *out = g;
    return ACTOR_OK;
}

actor_err_t metrics_gauge_new(metrics_registry_t *reg, const char *key, const char *help,
                              metrics_gauge_t **out)
{
    return gauge_new(reg, key, help, NULL, NULL, out);
}

actor_err_t metrics_gauge_pull_new(metrics_registry_t *reg, const char *key, const char *help,
                                   metrics_pull_fn fn, void *arg, metrics_gauge_t **out)
{
    if (fn == NULL)
        return ACTOR_EINVAL;
    return gauge_new(reg, key, help, fn, arg, out);
}

void metrics_gauge_free(metrics_gauge_t *gauge)
{
    if (gauge != NULL)
        metric_free(&gauge->m);
}

void metrics_gauge_set(metrics_gauge_t *gauge, double value)
{
    ACTOR_ASSERT(gauge->m.kind == KIND_GAUGE);
    atomic_store_explicit(&gauge->bits, double_bits(value), memory_order_relaxed);
}

void metrics_gauge_add(metrics_gauge_t *gauge, double delta)
{
    ACTOR_ASSERT(gauge->m.kind == KIND_GAUGE);
    uint64_t old = atomic_load_explicit(&gauge->bits, memory_order_relaxed);
    uint64_t new;
    do {
        new = double_bits(bits_double(old) + delta);
    } while (!atomic_compare_exchange_weak_explicit(&gauge->bits, &old, new, memory_order_relaxed,
                                                    memory_order_relaxed));
}

double metrics_gauge_value(const metrics_gauge_t *gauge)
{
    if (gauge->m.kind == KIND_PULL)
        return NAN;
    return bits_double(atomic_load_explicit(&gauge->bits, memory_order_relaxed));
}

/* ---- timers ---------------------------------------------------------------------------------- */

actor_err_t metrics_timer_new(metrics_registry_t *reg, const char *name, const char *help,
                              size_t window, metrics_timer_t **out)
{
    actor_err_t err = ACTOR_ENOMEM;
    metrics_timer_t *t = calloc(1, sizeof(*t));
    if (t == NULL)
        return ACTOR_ENOMEM;
    t->cap = window != 0 ? window : METRICS_TIMER_WINDOW_DEFAULT;
    t->window = calloc(t->cap, sizeof(t->window[0]));
    if (t->window == NULL)
        goto fail_free_timer;
    if (pthread_mutex_init(&t->lock, NULL) != 0)
        goto fail_free_window;
    err = metric_add(reg, &t->m, name, "_ms", help, KIND_TIMER);
    if (err != ACTOR_OK)
        goto fail_destroy_lock;
    *out = t;
    return ACTOR_OK;

fail_destroy_lock:
    pthread_mutex_destroy(&t->lock);
fail_free_window:
    free(t->window);
fail_free_timer:
    free(t);
    return err;
}

void metrics_timer_free(metrics_timer_t *timer)
{
    if (timer != NULL)
        metric_free(&timer->m);
}

void metrics_timer_record(metrics_timer_t *timer, int64_t ns)
{
    if (ns < 0)
        ns = 0;
    pthread_mutex_lock(&timer->lock);
    timer->window[timer->next] = ns;
    timer->next = (timer->next + 1) % timer->cap;
    if (timer->len < timer->cap)
        timer->len++;
    timer->last_ns = ns;
    timer->count++;
    timer->sum_ns += (uint64_t)ns;
    pthread_mutex_unlock(&timer->lock);
}

uint64_t metrics_timer_count(metrics_timer_t *timer)
{
    pthread_mutex_lock(&timer->lock);
    uint64_t count = timer->count;
    pthread_mutex_unlock(&timer->lock);
    return count;
}

static int double_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* libprocess's Statistics::percentile: linear interpolation between the two nearest ranks of
 * the sorted samples. One sample is every percentile. */
static double percentile(const double *sorted, size_t n, double q)
{
    double position = q * (double)(n - 1);
    size_t index = (size_t)floor(position);
    if (index + 1 >= n)
        return sorted[n - 1];
    double delta = position - (double)index;
    return sorted[index] + delta * (sorted[index + 1] - sorted[index]);
}

/* Copies the timer's state under its lock, then sorts the window outside it. */
static actor_err_t timer_stats(metrics_timer_t *t, timer_stats_t *s)
{
    double *sorted = malloc(t->cap * sizeof(*sorted));
    if (sorted == NULL)
        return ACTOR_ENOMEM;
    pthread_mutex_lock(&t->lock);
    s->count = t->count;
    s->sum_ns = t->sum_ns;
    s->last_ns = t->last_ns;
    s->n = t->len;
    for (size_t i = 0; i < t->len; i++)
        sorted[i] = (double)t->window[i];
    pthread_mutex_unlock(&t->lock);

    qsort(sorted, s->n, sizeof(*sorted), double_cmp);
    for (size_t i = 0; s->n > 0 && i < QUANTILE_COUNT; i++)
        s->q[i] = percentile(sorted, s->n, quantiles[i].q);
    s->min = s->n > 0 ? sorted[0] : NAN;
    s->max = s->n > 0 ? sorted[s->n - 1] : NAN;
    free(sorted);
    return ACTOR_OK;
}

/* ---- rendering: shared ----------------------------------------------------------------------- */

/* State of one walk over the tree. */
typedef struct render {
    json_t *obj;        /* the snapshot being built, or NULL */
    FILE *out;          /* the Prometheus text being written, or NULL */
    const char *prefix; /* Prometheus name prefix, or NULL */
    actor_err_t err;    /* the first failure; later metrics are skipped */
} render_t;

/* Calls the metric's value function; only pull gauges can fail. */
static actor_err_t gauge_read(const metric_t *m, double *value)
{
    const metrics_gauge_t *g = (const metrics_gauge_t *)m;
    if (m->kind == KIND_PULL)
        return g->fn(g->arg, value);
    *value = bits_double(atomic_load_explicit(&g->bits, memory_order_relaxed));
    return ACTOR_OK;
}

/* ---- rendering: snapshot JSON ---------------------------------------------------------------- */

/* JSON has no NaN or infinity: such a value is left out, as a failed value is in Mesos. */
static actor_err_t json_put(json_t *obj, const char *key, const char *suffix, double value)
{
    if (!isfinite(value))
        return ACTOR_OK;
    char *name;
    if (asprintf(&name, "%s%s%s", key, suffix[0] ? "/" : "", suffix) < 0)
        return ACTOR_ENOMEM;
    int rc = json_object_set_new(obj, name, json_real(value));
    free(name);
    return rc == 0 ? ACTOR_OK : ACTOR_ENOMEM;
}

/* `<key>` (last, ms) and, from two samples on as libprocess requires, its window statistics. */
static actor_err_t json_timer(json_t *obj, metrics_timer_t *t)
{
    timer_stats_t s;
    actor_err_t err = timer_stats(t, &s);
    if (err != ACTOR_OK || s.count == 0)
        return err;
    err = json_put(obj, t->m.key, "", (double)s.last_ns / NS_PER_MS);
    if (err != ACTOR_OK || s.n < 2)
        return err;
    err = json_put(obj, t->m.key, "count", (double)s.n);
    if (err == ACTOR_OK)
        err = json_put(obj, t->m.key, "min", s.min / NS_PER_MS);
    if (err == ACTOR_OK)
        err = json_put(obj, t->m.key, "max", s.max / NS_PER_MS);
    for (size_t i = 0; err == ACTOR_OK && i < QUANTILE_COUNT; i++)
        err = json_put(obj, t->m.key, quantiles[i].suffix, s.q[i] / NS_PER_MS);
    return err;
}

static actor_err_t json_metric(json_t *obj, const metric_t *m)
{
    double value;
    switch (m->kind) {
    case KIND_COUNTER:
        return json_put(obj, m->key, "", (double)metrics_counter_value((const void *)m));
    case KIND_GAUGE:
    case KIND_PULL:
        if (gauge_read(m, &value) != ACTOR_OK)
            return ACTOR_OK; /* a failing pull gauge is left out */
        return json_put(obj, m->key, "", value);
    case KIND_TIMER:
        return json_timer(obj, (metrics_timer_t *)m);
    }
    return ACTOR_OK;
}

/* twalk_r visits each inner node three times: postorder is the in-order visit. */
static void json_visit(const void *node, VISIT which, void *closure)
{
    render_t *r = closure;
    if ((which == postorder || which == leaf) && r->err == ACTOR_OK)
        r->err = json_metric(r->obj, *(metric_t *const *)node);
}

static int key_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Copies obj into a new object with keys in ascending order: the walk is in metric order, but
 * a timer's `/count`... keys can sort after another metric's key that shares its prefix. */
static actor_err_t json_sorted(json_t *obj, json_t **out)
{
    size_t n = json_object_size(obj), i = 0;
    const char **keys = malloc((n + 1) * sizeof(*keys));
    json_t *sorted = json_object();
    const char *key;
    json_t *value;
    actor_err_t err = ACTOR_ENOMEM;
    if (keys == NULL || sorted == NULL)
        goto done;
    json_object_foreach(obj, key, value) keys[i++] = key;
    qsort(keys, n, sizeof(*keys), key_cmp);
    for (i = 0; i < n; i++) {
        if (json_object_set(sorted, keys[i], json_object_get(obj, keys[i])) != 0)
            goto done;
    }
    *out = sorted;
    sorted = NULL;
    err = ACTOR_OK;
done:
    json_decref(sorted);
    free(keys);
    return err;
}

actor_err_t metrics_snapshot_json(metrics_registry_t *reg, json_t **out)
{
    render_t r = {.obj = json_object()};
    if (r.obj == NULL)
        return ACTOR_ENOMEM;
    pthread_mutex_lock(&reg->lock);
    twalk_r(reg->root, json_visit, &r);
    pthread_mutex_unlock(&reg->lock);
    if (r.err == ACTOR_OK)
        r.err = json_sorted(r.obj, out);
    json_decref(r.obj);
    return r.err;
}

/* ---- rendering: Prometheus text -------------------------------------------------------------- */

static bool name_char_ok(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

/* Appends text[0..len) to p with every byte outside [a-zA-Z0-9_] made '_'; returns the end. */
static char *name_append(char *p, const char *text, size_t len)
{
    for (size_t i = 0; i < len; i++)
        *p++ = name_char_ok(text[i]) ? text[i] : '_';
    return p;
}

/* Returns a heap `<prefix>_<key[0..key_len)><suffix>`, sanitized, or NULL if out of memory. */
static char *prom_name(const char *prefix, const char *key, size_t key_len, const char *suffix)
{
    size_t plen = prefix != NULL ? strlen(prefix) : 0;
    char *name = malloc(plen + key_len + strlen(suffix) + 3);
    if (name == NULL)
        return NULL;
    char *p = name;
    /* A name may not start with a digit; only an empty prefix lets that happen. */
    if (plen == 0 && key_len > 0 && key[0] >= '0' && key[0] <= '9')
        *p++ = '_';
    p = name_append(p, prefix, plen);
    if (plen > 0)
        *p++ = '_';
    p = name_append(p, key, key_len);
    strcpy(p, suffix);
    return name;
}

/* Prometheus spells non-finite values NaN, +Inf, -Inf; finite ones as the shortest of %.15g to
 * %.17g that reads back exactly. */
static void prom_value(FILE *out, double value)
{
    char buf[40];
    if (isnan(value)) {
        fputs("NaN", out);
        return;
    }
    if (isinf(value)) {
        fputs(value > 0 ? "+Inf" : "-Inf", out);
        return;
    }
    for (int precision = 15; precision <= 17; precision++) {
        snprintf(buf, sizeof(buf), "%.*g", precision, value);
        if (strtod(buf, NULL) == value)
            break;
    }
    fputs(buf, out);
}

/* `# HELP` (escaping '\' and newlines, as the format asks) and `# TYPE`. */
static void prom_header(FILE *out, const char *name, const metric_t *m, const char *type)
{
    fprintf(out, "# HELP %s ", name);
    for (const char *c = m->help != NULL ? m->help : m->key; *c != '\0'; c++) {
        if (*c == '\\')
            fputs("\\\\", out);
        else if (*c == '\n')
            fputs("\\n", out);
        else
            fputc(*c, out);
    }
    fprintf(out, "\n# TYPE %s %s\n", name, type);
}

static actor_err_t prom_timer(FILE *out, const char *prefix, metrics_timer_t *t)
{
    timer_stats_t s;
    actor_err_t err = timer_stats(t, &s);
    if (err != ACTOR_OK)
        return err;
    /* The key ends in "_ms"; Prometheus wants base units: <name>_seconds. */
    char *name = prom_name(prefix, t->m.key, strlen(t->m.key) - 3, "_seconds");
    if (name == NULL)
        return ACTOR_ENOMEM;
    prom_header(out, name, &t->m, "summary");
    for (size_t i = 0; i < QUANTILE_COUNT; i++) {
        fprintf(out, "%s{quantile=\"%s\"} ", name, quantiles[i].label);
        prom_value(out, s.n > 0 ? s.q[i] / NS_PER_SEC : NAN);
        fputc('\n', out);
    }
    fprintf(out, "%s_sum ", name);
    prom_value(out, (double)s.sum_ns / NS_PER_SEC);
    fprintf(out, "\n%s_count %" PRIu64 "\n", name, s.count);
    free(name);
    return ACTOR_OK;
}

/* Whether the key's Prometheus name ends in _total: "total" after any byte sanitizing makes '_'. */
static bool key_ends_total(const char *key)
{
    size_t n = strlen(key);
    if (n <= 6 || strcmp(key + n - 5, "total") != 0)
        return false;
    return key[n - 6] == '_' || !name_char_ok(key[n - 6]);
}

static actor_err_t prom_counter(FILE *out, const char *prefix, const metric_t *m)
{
    /* promtool's lint wants counters to end in _total; do not double it. */
    const char *suffix = key_ends_total(m->key) ? "" : "_total";
    char *name = prom_name(prefix, m->key, strlen(m->key), suffix);
    if (name == NULL)
        return ACTOR_ENOMEM;
    prom_header(out, name, m, "counter");
    fprintf(out, "%s %" PRIu64 "\n", name, metrics_counter_value((const void *)m));
    free(name);
    return ACTOR_OK;
}

/* Mesos's resource gauges end in _total (master/cpus_total), a suffix Prometheus reserves for
 * counters: a gauge drops it, and its # HELP keeps the full key. */
static actor_err_t prom_gauge(FILE *out, const char *prefix, const metric_t *m)
{
    double value;
    if (gauge_read(m, &value) != ACTOR_OK)
        return ACTOR_OK; /* a failing pull gauge is left out */
    size_t len = strlen(m->key);
    if (key_ends_total(m->key))
        len -= strlen("_total");
    char *name = prom_name(prefix, m->key, len, "");
    if (name == NULL)
        return ACTOR_ENOMEM;
    prom_header(out, name, m, "gauge");
    fprintf(out, "%s ", name);
    prom_value(out, value);
    fputc('\n', out);
    free(name);
    return ACTOR_OK;
}

static void prom_visit(const void *node, VISIT which, void *closure)
{
    render_t *r = closure;
    if ((which != postorder && which != leaf) || r->err != ACTOR_OK)
        return;
    metric_t *m = *(metric_t *const *)node;
    switch (m->kind) {
    case KIND_COUNTER:
        r->err = prom_counter(r->out, r->prefix, m);
        break;
    case KIND_GAUGE:
    case KIND_PULL:
        r->err = prom_gauge(r->out, r->prefix, m);
        break;
    case KIND_TIMER:
        r->err = prom_timer(r->out, r->prefix, (metrics_timer_t *)m);
        break;
    }
}

actor_err_t metrics_prometheus_text(metrics_registry_t *reg, const char *prefix, char **out,
                                    size_t *len)
{
    char *buf = NULL;
    size_t size = 0;
    render_t r = {.out = open_memstream(&buf, &size), .prefix = prefix};
    if (r.out == NULL)
        return ACTOR_ENOMEM;
    pthread_mutex_lock(&reg->lock);
    twalk_r(reg->root, prom_visit, &r);
    pthread_mutex_unlock(&reg->lock);
    /* A memory stream fails to write only when it cannot grow. */
    if (ferror(r.out) && r.err == ACTOR_OK)
        r.err = ACTOR_ENOMEM;
    if (fclose(r.out) != 0 && r.err == ACTOR_OK)
        r.err = ACTOR_ENOMEM;
    if (r.err != ACTOR_OK) {
        free(buf);
        return r.err;
    }
    *out = buf;
    *len = size;
    return ACTOR_OK;
}
