/*
 * placement.c: matching an app's resources and host ports against an offer (Marathon's
 * ResourceMatcher and PortsMatcher), task ids and names, and the TaskInfo of a launch (Marathon's
 * TaskBuilder with EnvironmentHelper and PortDiscovery). See placement.h.
 *
 * The TaskInfo is built on the heap field by field, every string and sub-message allocated with
 * malloc, so that protobuf-c's free_unpacked releases it whole. Builders record an allocation
 * failure in a flag and carry on; the message is freed at the end when the flag is set.
 */
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actor/pbcopy.h"
#include "actor/uuid.h"
#include "frameworks/marathon/placement.h"

/* ---- A growable string ---- */

typedef struct text {
    char *s;
    size_t len, cap;
    bool oom;
} text_t;

static void text_add(text_t *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void text_add(text_t *t, const char *fmt, ...)
{
    if (t->oom)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || t->len + (size_t)n + 1 > t->cap) {
        size_t cap = (t->len + (size_t)(n < 0 ? 0 : n) + 1) * 2;
        char *grown = n < 0 ? NULL : realloc(t->s, cap);
        if (grown == NULL) {
            t->oom = true;
            return;
        }
        t->s = grown;
        t->cap = cap;
    }
    va_start(ap, fmt);
    vsnprintf(t->s + t->len, t->cap - t->len, fmt, ap);
    va_end(ap);
    t->len += (size_t)n;
}

/* ---- Resource matching ---- */

const char *marathon_reject_name(marathon_reject_t reason)
{
    switch (reason) {
    case MARATHON_REJECT_CPUS:
        return "InsufficientCpus";
    case MARATHON_REJECT_MEMORY:
        return "InsufficientMemory";
    case MARATHON_REJECT_DISK:
        return "InsufficientDisk";
    case MARATHON_REJECT_PORTS:
        return "InsufficientPorts";
    case MARATHON_REJECT_CONSTRAINT:
        return "UnfulfilledConstraint";
    }
    return "";
}

void marathon_match_init(marathon_match_t *m)
{
    memset(m, 0, sizeof(*m));
    resources_init(&m->resources);
}

void marathon_match_fini(marathon_match_t *m)
{
    resources_fini(&m->resources);
    resources_proto_free(m->items, m->item_count);
    free(m->host_ports);
    marathon_match_init(m);
}

static const resources_entry_t *entry_find(const resources_t *r, const char *name, const char *role,
                                           resources_type_t type)
{
    for (size_t i = 0; i < r->count; i++) {
        const resources_entry_t *e = &r->entries[i];
        if (e->type == type && strcmp(e->name, name) == 0 && strcmp(e->role, role) == 0)
            return e;
    }
    return NULL;
}

/* The roles a task may use, the framework's own first. */
typedef struct roles {
    const char *names[2];
    size_t count;
} roles_t;

static roles_t roles_of(const char *role)
{
    roles_t r = {{RESOURCES_ROLE_ANY, NULL}, 1};
    if (role != NULL && strcmp(role, RESOURCES_ROLE_ANY) != 0) {
        r.names[0] = role;
        r.names[1] = RESOURCES_ROLE_ANY;
        r.count = 2;
    }
    return r;
}

static void role_prefix(text_t *t, const char *name, const char *role)
{
    if (strcmp(role, RESOURCES_ROLE_ANY) == 0)
        text_add(t, "%s%s:", t->len > 0 ? ";" : "", name);
    else
        text_add(t, "%s%s(%s):", t->len > 0 ? ";" : "", name, role);
}

/* An amount in thousandths (Mesos keeps three decimals); false when negative or not finite. */
static bool to_fixed(double v, int64_t *out)
{
    if (!isfinite(v) || v < 0 || v * RESOURCES_SCALAR_UNIT > 9e18)
        return false;
    *out = llround(v * RESOURCES_SCALAR_UNIT);
    return true;
}

/* Takes need thousandths of a scalar from the roles, writing them to t; false when short. */
static bool take_scalar(const resources_t *rem, const char *name, int64_t need, roles_t roles,
                        text_t *t)
{
    for (size_t i = 0; i < roles.count && need > 0; i++) {
        const resources_entry_t *e = entry_find(rem, name, roles.names[i], RESOURCES_SCALAR);
        int64_t take = e == NULL ? 0 : e->scalar < need ? e->scalar : need;
        if (take == 0)
            continue;
        role_prefix(t, name, roles.names[i]);
        text_add(t, "%" PRId64 ".%03" PRId64, take / RESOURCES_SCALAR_UNIT,
                 take % RESOURCES_SCALAR_UNIT);
        need -= take;
    }
    return need == 0;
}

/* The offer's free port ranges a task may use, the framework's role first. */
typedef struct port_range {
    uint64_t begin, end;
    const char *role;
} port_range_t;

typedef struct ports {
    port_range_t *ranges;
    size_t count;
    uint32_t *chosen; /* per port definition; 0 = not yet */
    const char **roles;
    size_t n;
} ports_t;

static actor_err_t ports_init(ports_t *p, const resources_t *rem, roles_t roles, size_t n)
{
    memset(p, 0, sizeof(*p));
    size_t total = 0;
    for (size_t i = 0; i < roles.count; i++) {
        const resources_entry_t *e = entry_find(rem, "ports", roles.names[i], RESOURCES_RANGES);
        total += e != NULL ? e->range_count : 0;
    }
    p->ranges = calloc(total + 1, sizeof(*p->ranges));
    p->chosen = calloc(n + 1, sizeof(*p->chosen));
    p->roles = calloc(n + 1, sizeof(*p->roles));
    p->n = n;
    if (p->ranges == NULL || p->chosen == NULL || p->roles == NULL)
        return ACTOR_ENOMEM;
    for (size_t i = 0; i < roles.count; i++) {
        const resources_entry_t *e = entry_find(rem, "ports", roles.names[i], RESOURCES_RANGES);
        for (size_t j = 0; e != NULL && j < e->range_count; j++) {
            /* Port 0 means "any" to Marathon and is never a host port. */
            uint64_t begin = e->ranges[j].begin > 0 ? e->ranges[j].begin : 1;
            uint64_t end = e->ranges[j].end > UINT32_MAX ? UINT32_MAX : e->ranges[j].end;
            if (begin <= end)
                p->ranges[p->count++] = (port_range_t){begin, end, roles.names[i]};
        }
    }
    return ACTOR_OK;
}

static void ports_fini(ports_t *p)
{
    free(p->ranges);
    free(p->chosen);
    free(p->roles);
}

static bool port_taken(const ports_t *p, uint64_t port)
{
    for (size_t i = 0; i < p->n; i++)
        if (p->chosen[i] == port)
            return true;
    return false;
}

/* The role of a free port of the ranges, or NULL. */
static const char *port_role(const ports_t *p, uint64_t port)
{
    for (size_t i = 0; i < p->count; i++)
        if (port >= p->ranges[i].begin && port <= p->ranges[i].end)
            return port_taken(p, port) ? NULL : p->ranges[i].role;
    return NULL;
}

static bool take_lowest(ports_t *p, size_t def)
{
    for (size_t i = 0; i < p->count; i++)
        for (uint64_t port = p->ranges[i].begin; port <= p->ranges[i].end; port++)
            if (!port_taken(p, port)) {
                p->chosen[def] = (uint32_t)port;
                p->roles[def] = p->ranges[i].role;
                return true;
            }
    return false;
}

/* xorshift64*: a caller-held state, no global. */
static uint64_t rng_next(uint64_t *state)
{
    uint64_t x = *state != 0 ? *state : UINT64_C(0x9E3779B97F4A7C15);
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return x * UINT64_C(0x2545F4914F6CDD1D);
}

/* A random free port of the ranges (tries a few, then the lowest free one). */
static bool take_random(ports_t *p, size_t def, uint64_t *seed)
{
    uint64_t total = 0;
    for (size_t i = 0; i < p->count; i++)
        total += p->ranges[i].end - p->ranges[i].begin + 1;
    for (int attempt = 0; total > 0 && attempt < 32; attempt++) {
        uint64_t r = rng_next(seed) % total;
        for (size_t i = 0; i < p->count; i++) {
            uint64_t size = p->ranges[i].end - p->ranges[i].begin + 1;
            if (r >= size) {
                r -= size;
                continue;
            }
            uint64_t port = p->ranges[i].begin + r;
            if (port_taken(p, port))
                break;
            p->chosen[def] = (uint32_t)port;
            p->roles[def] = p->ranges[i].role;
            return true;
        }
    }
    return take_lowest(p, def);
}

/* Picks a host port per port definition: the fixed ones first (requirePorts), then the rest. */
static bool choose_ports(const marathon_app_t *app, ports_t *p, uint64_t *seed)
{
    for (size_t i = 0; app->require_ports && i < p->n; i++) {
        uint32_t want = app->port_definitions[i].port;
        if (want == 0)
            continue;
        p->roles[i] = port_role(p, want);
        if (p->roles[i] == NULL)
            return false;
        p->chosen[i] = want;
    }
    for (size_t i = 0; i < p->n; i++) {
        if (p->chosen[i] != 0)
            continue;
        if (!(seed != NULL ? take_random(p, i, seed) : take_lowest(p, i)))
            return false;
    }
    return true;
}

static void ports_text(const ports_t *p, roles_t roles, text_t *t)
{
    for (size_t r = 0; r < roles.count; r++) {
        bool any = false;
        for (size_t i = 0; i < p->n; i++) {
            if (strcmp(p->roles[i], roles.names[r]) != 0)
                continue;
            if (!any)
                role_prefix(t, "ports", roles.names[r]);
            text_add(t, "%s%" PRIu32 "-%" PRIu32, any ? "," : "[", p->chosen[i], p->chosen[i]);
            any = true;
        }
        if (any)
            text_add(t, "]");
    }
}

/* Sets the offer's allocation role on each item, as offered resources carry it. */
static actor_err_t set_allocation(const Mesos__Offer *offer, marathon_match_t *out)
{
    const char *role =
        offer != NULL && offer->allocation_info != NULL ? offer->allocation_info->role : NULL;
    for (size_t i = 0; role != NULL && i < out->item_count; i++) {
        Mesos__Resource__AllocationInfo *a = malloc(sizeof(*a));
        char *copy = strdup(role);
        if (a == NULL || copy == NULL) {
            free(a);
            free(copy);
            return ACTOR_ENOMEM;
        }
        mesos__resource__allocation_info__init(a);
        a->role = copy;
        out->items[i]->allocation_info = a;
    }
    return ACTOR_OK;
}

/* Turns the text of what the task takes into out and subtracts it from remaining. */
static actor_err_t match_finish(const char *taken, const ports_t *p, const Mesos__Offer *offer,
                                resources_t *remaining, marathon_match_t *out)
{
    actor_err_t rc = resources_parse(&out->resources, taken, NULL, NULL, 0);
    if (rc == ACTOR_OK && !resources_contains(remaining, &out->resources))
        rc = ACTOR_EINVAL; /* cannot happen: everything was taken from remaining */
    if (rc == ACTOR_OK)
        rc = resources_to_proto(&out->resources, &out->items, &out->item_count);
    if (rc == ACTOR_OK)
        rc = set_allocation(offer, out);
    out->host_ports = calloc(p->n + 1, sizeof(*out->host_ports));
    if (rc == ACTOR_OK && out->host_ports == NULL)
        rc = ACTOR_ENOMEM;
    if (rc == ACTOR_OK) {
        memcpy(out->host_ports, p->chosen, p->n * sizeof(*out->host_ports));
        out->host_port_count = p->n;
        rc = resources_subtract(remaining, &out->resources);
    }
    if (rc != ACTOR_OK)
        marathon_match_fini(out);
    return rc;
}

actor_err_t marathon_match(const marathon_app_t *app, const Mesos__Offer *offer, const char *role,
                           resources_t *remaining, uint64_t *seed, marathon_match_t *out,
                           unsigned *rejects)
{
    marathon_match_init(out);
    unsigned why = 0;
    int64_t cpus, mem, disk;
    if (!to_fixed(app->cpus, &cpus) || !to_fixed(app->mem, &mem) || !to_fixed(app->disk, &disk))
        return ACTOR_EINVAL;
    roles_t roles = roles_of(role);
    text_t t = {0};
    why |= take_scalar(remaining, "cpus", cpus, roles, &t) ? 0 : MARATHON_REJECT_CPUS;
    why |= take_scalar(remaining, "mem", mem, roles, &t) ? 0 : MARATHON_REJECT_MEMORY;
    why |= take_scalar(remaining, "disk", disk, roles, &t) ? 0 : MARATHON_REJECT_DISK;
    ports_t p;
    actor_err_t rc = ports_init(&p, remaining, roles, app->port_definition_count);
    if (rc == ACTOR_OK && !choose_ports(app, &p, seed))
        why |= MARATHON_REJECT_PORTS;
    if (rc == ACTOR_OK && why == 0)
        ports_text(&p, roles, &t);
    if (rc == ACTOR_OK && t.oom)
        rc = ACTOR_ENOMEM;
    if (rc == ACTOR_OK && why != 0)
        rc = ACTOR_ENOENT;
    if (rc == ACTOR_OK)
        rc = match_finish(t.s != NULL ? t.s : "", &p, offer, remaining, out);
    if (rejects != NULL)
        *rejects = why;
    ports_fini(&p);
    free(t.s);
    return rc;
}

/* ---- Task ids and names ---- */

actor_err_t marathon_task_id_new(const char *app_id, char **out)
{
    if (app_id == NULL || app_id[0] != '/' || app_id[1] == '\0')
        return ACTOR_EINVAL;
    char uuid[ACTOR_UUID_TEXT_LEN];
    actor_uuid_text(uuid);
    size_t n = strlen(app_id + 1);
    char *id = malloc(n + 1 + sizeof(uuid));
    if (id == NULL)
        return ACTOR_ENOMEM;
    for (size_t i = 0; i < n; i++)
        id[i] = app_id[1 + i] == '/' ? '_' : app_id[1 + i];
    id[n] = '.';
    memcpy(id + n + 1, uuid, sizeof(uuid));
    *out = id;
    return ACTOR_OK;
}

actor_err_t marathon_task_id_app(const char *task_id, char **out)
{
    const char *end = task_id != NULL ? strstr(task_id, ".instance-") : NULL;
    if (task_id != NULL && end == NULL)
        end = strrchr(task_id, '.');
    if (end == NULL || end == task_id || end[1] == '\0')
        return ACTOR_EINVAL;
    size_t n = (size_t)(end - task_id);
    char *id = malloc(n + 2);
    if (id == NULL)
        return ACTOR_ENOMEM;
    id[0] = '/';
    for (size_t i = 0; i < n; i++)
        id[1 + i] = task_id[i] == '_' ? '/' : task_id[i];
    id[n + 1] = '\0';
    *out = id;
    return ACTOR_OK;
}

char *marathon_task_name(const char *app_id)
{
    size_t n = strlen(app_id), o = 0;
    char *name = malloc(n + 1);
    if (name == NULL)
        return NULL;
    const char *end = app_id + n;
    while (end > app_id) {
        const char *start = end;
        while (start > app_id && start[-1] != '/')
            start--;
        if (end > start) {
            if (o > 0)
                name[o++] = '.';
            memcpy(name + o, start, (size_t)(end - start));
            o += (size_t)(end - start);
        }
        end = start > app_id ? start - 1 : app_id;
    }
    name[o] = '\0';
    return name;
}

/* ---- TaskInfo building ---- */

typedef struct build {
    bool oom;
} build_t;

/* A new message initialized from its protobuf-c INIT macro, or NULL (and b->oom). */
#define BUILD_NEW(b, var, type, init_macro)                                                        \
    do {                                                                                           \
        static const type init_ = init_macro;                                                      \
        (var) = malloc(sizeof(type));                                                              \
        if ((var) != NULL)                                                                         \
            *(var) = init_;                                                                        \
        else                                                                                       \
            (b)->oom = true;                                                                       \
    } while (0)

static char *bstr(build_t *b, const char *s)
{
    char *copy = strdup(s != NULL ? s : "");
    if (copy == NULL)
        b->oom = true;
    return copy;
}

static void *barray(build_t *b, size_t n, size_t size)
{
    void *a = calloc(n + 1, size);
    if (a == NULL)
        b->oom = true;
    return a;
}

/* A double as Java's Double.toString writes it ("0.5", "128.0", "1.0E7", "1.0E-4"). */
/* The shortest decimal digits that read back as |v| (finite, not 0) into digits (24 bytes), and
 * the power of ten of the first one. Returns the number of digits. */
static size_t shortest_digits(double v, char *digits, int *exp)
{
    char e[40];
    for (int p = 0; p < 17; p++) {
        snprintf(e, sizeof(e), "%.*e", p, fabs(v));
        if (strtod(e, NULL) == fabs(v))
            break;
    }
    size_t nd = 0;
    for (const char *c = e; *c != 'e' && nd + 1 < 24; c++)
        if (*c != '.')
            digits[nd++] = *c;
    digits[nd] = '\0';
    *exp = atoi(strchr(e, 'e') + 1);
    return nd;
}

static void java_double(double v, char *out, size_t len)
{
    if (isnan(v) || isinf(v) || v == 0) {
        snprintf(out, len, "%s",
                 isnan(v)     ? "NaN"
                 : isinf(v)   ? (v > 0 ? "Infinity" : "-Infinity")
                 : signbit(v) ? "-0.0"
                              : "0.0");
        return;
    }
    char digits[24], plain[48];
    int exp;
    size_t nd = shortest_digits(v, digits, &exp), o = 0;
    const char *sign = v < 0 ? "-" : "";
    if (fabs(v) < 1e-3 || fabs(v) >= 1e7) { /* computerized scientific notation */
        snprintf(out, len, "%s%c.%sE%d", sign, digits[0], nd > 1 ? digits + 1 : "0", exp);
        return;
    }
    if (exp < 0) { /* 0.000ddd */
        plain[o++] = '0';
        plain[o++] = '.';
        for (int i = 0; i < -exp - 1; i++)
            plain[o++] = '0';
        for (size_t i = 0; i < nd; i++)
            plain[o++] = digits[i];
    } else { /* ddd.ddd, the integer part padded with zeros, at least one decimal */
        for (size_t i = 0; i <= (size_t)exp; i++)
            plain[o++] = i < nd ? digits[i] : '0';
        plain[o++] = '.';
        for (size_t i = (size_t)exp + 1; i < nd; i++)
            plain[o++] = digits[i];
        if ((size_t)exp + 1 >= nd)
            plain[o++] = '0';
    }
    plain[o] = '\0';
    snprintf(out, len, "%s%s", sign, plain);
}

/* The environment, later values replacing earlier ones of the same name. */
typedef struct env {
    Mesos__Environment__Variable **vars;
    size_t count, cap;
    build_t *b;
} env_t;

static void env_set(env_t *env, const char *name, const char *value)
{
    for (size_t i = 0; i < env->count; i++) {
        if (env->vars[i]->name == NULL || strcmp(env->vars[i]->name, name) != 0)
            continue; /* (a name that could not be copied is freed with the message) */
        char *copy = bstr(env->b, value);
        if (copy != NULL) {
            free(env->vars[i]->value);
            env->vars[i]->value = copy;
        }
        return;
    }
    if (env->count == env->cap) {
        size_t cap = env->cap ? env->cap * 2 : 32;
        void *grown = realloc(env->vars, cap * sizeof(*env->vars));
        if (grown == NULL) {
            env->b->oom = true;
            return;
        }
        env->vars = grown;
        env->cap = cap;
    }
    Mesos__Environment__Variable *v;
    BUILD_NEW(env->b, v, Mesos__Environment__Variable, MESOS__ENVIRONMENT__VARIABLE__INIT);
    if (v == NULL)
        return;
    v->name = bstr(env->b, name);
    v->value = bstr(env->b, value);
    env->vars[env->count++] = v;
}

static void env_setf(env_t *env, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void env_setf(env_t *env, const char *name, const char *fmt, ...)
{
    char value[64];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(value, sizeof(value), fmt, ap);
    va_end(ap);
    env_set(env, name, value);
}

/* Java's String.length() of UTF-8 text, close enough: code points. */
static size_t java_length(const char *s)
{
    size_t n = 0;
    for (; *s != '\0'; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

/* A label name as an environment name: runs of [^A-Za-z0-9_] as '_', upper-cased. */
static void label_escape(const char *key, text_t *t)
{
    for (const char *c = key; *c != '\0';) {
        unsigned char ch = (unsigned char)*c;
        bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                  (ch >= '0' && ch <= '9') || ch == '_';
        if (ok) {
            text_add(t, "%c", ch >= 'a' && ch <= 'z' ? ch - 'a' + 'A' : ch);
            c++;
            continue;
        }
        text_add(t, "_");
        while (*c != '\0' && !(((unsigned char)*c >= 'a' && (unsigned char)*c <= 'z') ||
                               ((unsigned char)*c >= 'A' && (unsigned char)*c <= 'Z') ||
                               ((unsigned char)*c >= '0' && (unsigned char)*c <= '9') || *c == '_'))
            c++;
    }
}

/* Whether names (space separated) holds name. */
static bool word_in(const char *names, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = names; p != NULL && *p != '\0';) {
        const char *sp = strchr(p, ' ');
        size_t len = sp != NULL ? (size_t)(sp - p) : strlen(p);
        if (len == n && strncmp(p, name, n) == 0)
            return true;
        p = sp != NULL ? sp + 1 : NULL;
    }
    return false;
}

/* MARATHON_APP_LABELS and MARATHON_APP_LABEL_<NAME> (EnvironmentHelper.labelsToEnvVars). */
static void env_labels(env_t *env, const json_t *labels)
{
    text_t names = {0};
    text_add(&names, "%s", "");
    const char *key;
    json_t *value;
    json_object_foreach((json_t *)labels, key, value)
    {
        if (!json_is_string(value) || java_length(key) >= 512 - strlen("MARATHON_APP_LABEL_") ||
            java_length(json_string_value(value)) >= 512)
            continue;
        text_t var = {0};
        text_add(&var, "MARATHON_APP_LABEL_");
        label_escape(key, &var);
        if (var.oom) {
            env->b->oom = true;
            free(var.s);
            continue;
        }
        const char *escaped = var.s + strlen("MARATHON_APP_LABEL_");
        if (!word_in(names.s, escaped))
            text_add(&names, "%s%s", names.len > 0 ? " " : "", escaped);
        env_set(env, var.s, json_string_value(value));
        free(var.s);
    }
    if (names.oom)
        env->b->oom = true;
    env_set(env, "MARATHON_APP_LABELS", names.s != NULL ? names.s : "");
    free(names.s);
}

/* PORT0..n, PORT_<port>, PORT_<NAME>, PORT and PORTS (EnvironmentHelper.portsEnv). */
static void env_ports(env_t *env, const marathon_app_t *app, const marathon_match_t *match)
{
    if (match->host_port_count == 0)
        return;
    char name[600];
    text_t all = {0};
    for (size_t i = 0; i < match->host_port_count; i++) {
        snprintf(name, sizeof(name), "PORT%zu", i);
        env_setf(env, name, "%" PRIu32, match->host_ports[i]);
        text_add(&all, "%s%" PRIu32, i > 0 ? "," : "", match->host_ports[i]);
    }
    for (size_t i = 0; i < match->host_port_count; i++) {
        uint32_t declared = app->port_definitions[i].port;
        snprintf(name, sizeof(name), "PORT_%" PRIu32,
                 declared != 0 ? declared : match->host_ports[i]);
        env_setf(env, name, "%" PRIu32, match->host_ports[i]);
    }
    for (size_t i = 0; i < match->host_port_count; i++) {
        const char *port_name = app->port_definitions[i].name;
        if (port_name == NULL || strlen(port_name) > 500)
            continue;
        size_t o = (size_t)snprintf(name, sizeof(name), "PORT_");
        for (const char *c = port_name; *c != '\0'; c++)
            name[o++] = *c >= 'a' && *c <= 'z' ? (char)(*c - 'a' + 'A') : *c;
        name[o] = '\0';
        env_setf(env, name, "%" PRIu32, match->host_ports[i]);
    }
    env_setf(env, "PORT", "%" PRIu32, match->host_ports[0]);
    if (all.oom)
        env->b->oom = true;
    else
        env_set(env, "PORTS", all.s);
    free(all.s);
}

/* TaskBuilder.taskContextEnv, the ports, HOST and the app's env, in Marathon's precedence. */
static Mesos__Environment *build_environment(build_t *b, const marathon_app_t *app,
                                             const Mesos__Offer *offer, const char *task_id,
                                             const marathon_match_t *match)
{
    env_t env = {.b = b};
    char num[64];
    env_set(&env, "MESOS_TASK_ID", task_id);
    env_set(&env, "MARATHON_APP_ID", app->id);
    if (app->version != NULL)
        env_set(&env, "MARATHON_APP_VERSION", app->version);
    java_double(app->cpus, num, sizeof(num));
    env_set(&env, "MARATHON_APP_RESOURCE_CPUS", num);
    java_double(app->mem, num, sizeof(num));
    env_set(&env, "MARATHON_APP_RESOURCE_MEM", num);
    java_double(app->disk, num, sizeof(num));
    env_set(&env, "MARATHON_APP_RESOURCE_DISK", num);
    env_set(&env, "MARATHON_APP_RESOURCE_GPUS", "0");
    env_set(&env, "MARATHON_APP_ENFORCE_GROUP_ROLE", "FALSE");
    env_labels(&env, app->labels);
    env_ports(&env, app, match);
    env_set(&env, "HOST", offer->hostname);
    const char *key;
    json_t *value;
    json_object_foreach(app->env, key, value)
    {
        if (json_is_string(value)) /* secret references are refused by validation */
            env_set(&env, key, json_string_value(value));
    }
    Mesos__Environment *e;
    BUILD_NEW(b, e, Mesos__Environment, MESOS__ENVIRONMENT__INIT);
    if (e == NULL) {
        for (size_t i = 0; i < env.count; i++)
            protobuf_c_message_free_unpacked(&env.vars[i]->base, NULL);
        free(env.vars);
        return NULL;
    }
    e->variables = env.vars;
    e->n_variables = env.count;
    return e;
}

static Mesos__CommandInfo__URI **build_uris(build_t *b, const marathon_app_t *app)
{
    Mesos__CommandInfo__URI **uris = barray(b, app->fetch_count, sizeof(*uris));
    for (size_t i = 0; uris != NULL && i < app->fetch_count; i++) {
        const marathon_fetch_t *f = &app->fetch[i];
        BUILD_NEW(b, uris[i], Mesos__CommandInfo__URI, MESOS__COMMAND_INFO__URI__INIT);
        if (uris[i] == NULL)
            break;
        uris[i]->value = bstr(b, f->uri);
        uris[i]->has_extract = uris[i]->has_executable = uris[i]->has_cache = 1;
        uris[i]->extract = f->extract;
        uris[i]->executable = f->executable;
        uris[i]->cache = f->cache;
        if (f->dest_path != NULL)
            uris[i]->output_file = bstr(b, f->dest_path);
    }
    return uris;
}

/* argv for the no-shell forms: args alone, or [cmd, args...] (the seed's cmd with args). */
static void build_argv(build_t *b, const marathon_app_t *app, Mesos__CommandInfo *c)
{
    bool with_cmd = app->cmd != NULL;
    size_t n = app->args_count + (with_cmd ? 1 : 0), o = 0;
    c->arguments = barray(b, n, sizeof(*c->arguments));
    if (c->arguments == NULL)
        return;
    if (with_cmd)
        c->arguments[o++] = bstr(b, app->cmd);
    for (size_t i = 0; i < app->args_count; i++)
        c->arguments[o++] = bstr(b, app->args[i]);
    c->n_arguments = o;
    c->value = bstr(b, c->arguments[0]);
}

static Mesos__CommandInfo *build_command(build_t *b, const marathon_app_t *app,
                                         const Mesos__Offer *offer, const char *task_id,
                                         const marathon_match_t *match)
{
    Mesos__CommandInfo *c;
    BUILD_NEW(b, c, Mesos__CommandInfo, MESOS__COMMAND_INFO__INIT);
    if (c == NULL)
        return NULL;
    c->environment = build_environment(b, app, offer, task_id, match);
    if (app->cmd != NULL && app->args_count == 0) {
        c->value = bstr(b, app->cmd); /* a shell line: shell keeps its default, true */
    } else {
        c->has_shell = 1;
        c->shell = 0;
        if (app->cmd != NULL || app->args_count > 0)
            build_argv(b, app, c);
    }
    if (app->fetch_count > 0) {
        c->uris = build_uris(b, app);
        c->n_uris = c->uris != NULL ? app->fetch_count : 0;
    }
    if (app->user != NULL)
        c->user = bstr(b, app->user);
    return c;
}

/* Mesos labels from a JSON object of strings, or NULL when it has none. */
static Mesos__Labels *build_labels(build_t *b, const json_t *object)
{
    size_t n = 0;
    const char *key;
    json_t *value;
    json_object_foreach((json_t *)object, key, value) n += json_is_string(value);
    if (n == 0)
        return NULL;
    Mesos__Labels *labels;
    BUILD_NEW(b, labels, Mesos__Labels, MESOS__LABELS__INIT);
    if (labels == NULL || (labels->labels = barray(b, n, sizeof(*labels->labels))) == NULL)
        return labels;
    json_object_foreach((json_t *)object, key, value)
    {
        if (!json_is_string(value))
            continue;
        Mesos__Label *l;
        BUILD_NEW(b, l, Mesos__Label, MESOS__LABEL__INIT);
        if (l == NULL)
            break;
        labels->labels[labels->n_labels++] = l;
        l->key = bstr(b, key);
        l->value = bstr(b, json_string_value(value));
    }
    return labels;
}

/* One Port per port definition and protocol ("udp,tcp" gives two), with the host port. */
static void build_discovery_ports(build_t *b, const marathon_app_t *app,
                                  const marathon_match_t *match, Mesos__Ports *ports)
{
    size_t n = 0;
    for (size_t i = 0; i < match->host_port_count; i++) {
        const char *proto = app->port_definitions[i].protocol;
        n += 1;
        for (const char *c = proto != NULL ? proto : ""; *c != '\0'; c++)
            n += *c == ',';
    }
    ports->ports = barray(b, n, sizeof(*ports->ports));
    for (size_t i = 0; ports->ports != NULL && i < match->host_port_count; i++) {
        const marathon_port_definition_t *def = &app->port_definitions[i];
        const char *p = def->protocol != NULL ? def->protocol : "tcp";
        while (p != NULL) {
            const char *comma = strchr(p, ',');
            size_t len = comma != NULL ? (size_t)(comma - p) : strlen(p);
            Mesos__Port *port;
            BUILD_NEW(b, port, Mesos__Port, MESOS__PORT__INIT);
            if (port == NULL)
                return;
            ports->ports[ports->n_ports++] = port;
            port->number = match->host_ports[i];
            port->protocol = strndup(p, len);
            b->oom |= port->protocol == NULL;
            if (def->name != NULL)
                port->name = bstr(b, def->name);
            port->labels = build_labels(b, def->labels);
            p = comma != NULL ? comma + 1 : NULL;
        }
    }
}

static Mesos__DiscoveryInfo *build_discovery(build_t *b, const marathon_app_t *app,
                                             const char *name, const marathon_match_t *match)
{
    Mesos__DiscoveryInfo *d;
    BUILD_NEW(b, d, Mesos__DiscoveryInfo, MESOS__DISCOVERY_INFO__INIT);
    if (d == NULL)
        return NULL;
    d->visibility = MESOS__DISCOVERY_INFO__VISIBILITY__FRAMEWORK;
    d->name = bstr(b, name);
    BUILD_NEW(b, d->ports, Mesos__Ports, MESOS__PORTS__INIT);
    if (d->ports != NULL)
        build_discovery_ports(b, app, match, d->ports);
    return d;
}

static Mesos__KillPolicy *build_kill_policy(build_t *b, const marathon_app_t *app)
{
    if (!app->has_task_kill_grace_period)
        return NULL;
    Mesos__KillPolicy *k;
    BUILD_NEW(b, k, Mesos__KillPolicy, MESOS__KILL_POLICY__INIT);
    if (k == NULL)
        return NULL;
    BUILD_NEW(b, k->grace_period, Mesos__DurationInfo, MESOS__DURATION_INFO__INIT);
    if (k->grace_period != NULL)
        k->grace_period->nanoseconds = (int64_t)(app->task_kill_grace_period_seconds * 1e9);
    return k;
}

/* The port a Mesos HTTP or TCP check probes: `port`, else the host port at portIndex (0 when
 * neither resolves). */
static uint32_t check_port(const marathon_health_check_t *hc, const marathon_match_t *match)
{
    if (hc->has_port)
        return hc->port;
    return hc->port_index < match->host_port_count ? match->host_ports[hc->port_index] : 0;
}

static bool is_mesos_check(const marathon_health_check_t *hc, const marathon_match_t *match)
{
    switch (hc->protocol) {
    case MARATHON_HEALTH_COMMAND:
        return hc->command != NULL;
    case MARATHON_HEALTH_MESOS_HTTP:
    case MARATHON_HEALTH_MESOS_HTTPS:
    case MARATHON_HEALTH_MESOS_TCP:
        return check_port(hc, match) != 0;
    default:
        return false;
    }
}

static void build_check_kind(build_t *b, const marathon_health_check_t *hc,
                             const marathon_match_t *match, Mesos__HealthCheck *h)
{
    h->has_type = 1;
    if (hc->protocol == MARATHON_HEALTH_COMMAND) {
        h->type = MESOS__HEALTH_CHECK__TYPE__COMMAND;
        BUILD_NEW(b, h->command, Mesos__CommandInfo, MESOS__COMMAND_INFO__INIT);
        if (h->command != NULL)
            h->command->value = bstr(b, hc->command);
    } else if (hc->protocol == MARATHON_HEALTH_MESOS_TCP) {
        h->type = MESOS__HEALTH_CHECK__TYPE__TCP;
        BUILD_NEW(b, h->tcp, Mesos__HealthCheck__TCPCheckInfo,
                  MESOS__HEALTH_CHECK__TCPCHECK_INFO__INIT);
        if (h->tcp != NULL)
            h->tcp->port = check_port(hc, match);
    } else {
        h->type = MESOS__HEALTH_CHECK__TYPE__HTTP;
        BUILD_NEW(b, h->http, Mesos__HealthCheck__HTTPCheckInfo,
                  MESOS__HEALTH_CHECK__HTTPCHECK_INFO__INIT);
        if (h->http == NULL)
            return;
        h->http->port = check_port(hc, match);
        h->http->scheme = bstr(b, hc->protocol == MARATHON_HEALTH_MESOS_HTTP ? "http" : "https");
        if (hc->path != NULL)
            h->http->path = bstr(b, hc->path);
    }
}

/* The first health check Mesos runs (COMMAND, MESOS_HTTP(S), MESOS_TCP), or NULL. */
static Mesos__HealthCheck *build_health_check(build_t *b, const marathon_app_t *app,
                                              const marathon_match_t *match)
{
    const marathon_health_check_t *hc = NULL;
    for (size_t i = 0; hc == NULL && i < app->health_check_count; i++)
        if (is_mesos_check(&app->health_checks[i], match))
            hc = &app->health_checks[i];
    if (hc == NULL)
        return NULL;
    Mesos__HealthCheck *h;
    BUILD_NEW(b, h, Mesos__HealthCheck, MESOS__HEALTH_CHECK__INIT);
    if (h == NULL)
        return NULL;
    h->has_delay_seconds = h->has_interval_seconds = h->has_timeout_seconds = 1;
    h->has_consecutive_failures = h->has_grace_period_seconds = 1;
    h->delay_seconds = hc->delay_seconds;
    h->interval_seconds = hc->interval_seconds;
    h->timeout_seconds = hc->timeout_seconds;
    h->consecutive_failures = hc->max_consecutive_failures;
    h->grace_period_seconds = hc->grace_period_seconds;
    build_check_kind(b, hc, match, h);
    return h;
}

static void build_resources(build_t *b, const marathon_match_t *match, Mesos__TaskInfo *t)
{
    t->resources = barray(b, match->item_count, sizeof(*t->resources));
    for (size_t i = 0; t->resources != NULL && i < match->item_count; i++) {
        t->resources[i] = PB_COPY(Mesos__Resource, match->items[i]);
        if (t->resources[i] == NULL) {
            b->oom = true;
            break;
        }
        t->n_resources++;
    }
}

actor_err_t marathon_task_build(const marathon_app_t *app, const Mesos__Offer *offer,
                                const char *task_id, const marathon_match_t *match,
                                Mesos__TaskInfo **out)
{
    if (match->host_port_count != app->port_definition_count || task_id == NULL ||
        offer->agent_id == NULL || app->id == NULL)
        return ACTOR_EINVAL;
    build_t b = {false};
    Mesos__TaskInfo *t;
    BUILD_NEW(&b, t, Mesos__TaskInfo, MESOS__TASK_INFO__INIT);
    if (t == NULL)
        return ACTOR_ENOMEM;
    t->name = marathon_task_name(app->id);
    b.oom |= t->name == NULL;
    BUILD_NEW(&b, t->task_id, Mesos__TaskID, MESOS__TASK_ID__INIT);
    if (t->task_id != NULL)
        t->task_id->value = bstr(&b, task_id);
    BUILD_NEW(&b, t->agent_id, Mesos__AgentID, MESOS__AGENT_ID__INIT);
    if (t->agent_id != NULL)
        t->agent_id->value = bstr(&b, offer->agent_id->value);
    build_resources(&b, match, t);
    t->command = build_command(&b, app, offer, task_id, match);
    t->labels = build_labels(&b, app->labels);
    if (t->name != NULL)
        t->discovery = build_discovery(&b, app, t->name, match);
    t->kill_policy = build_kill_policy(&b, app);
    t->health_check = build_health_check(&b, app, match);
    if (b.oom) {
        mesos__task_info__free_unpacked(t, NULL);
        return ACTOR_ENOMEM;
    }
    *out = t;
    return ACTOR_OK;
}
