/*
 * flags.c: table-driven command-line flags; see flags.h.
 *
 * flags_parse works in four passes over the table: check the table itself, apply every default,
 * read the command line, then read the environment for the flags the command line did not set.
 * Reading the command line before the environment lets a command-line value hide a malformed
 * environment value, as in Mesos, where the two are merged before any value is parsed.
 */
#include "actor/flags.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define WHY_MAX           256 /* room for the reason a value is malformed */
#define NUMBER_MAX        40  /* longest number we read before a unit */
#define USAGE_WIDTH       100 /* columns of usage text */
#define USAGE_HELP_COLUMN 36  /* where help text starts */

#define NS_PER_SEC 1000000000LL

typedef struct unit {
    const char *name;
    uint64_t scale; /* nanoseconds or bytes in one unit */
} unit_t;

/* Ascending, because flags_duration_format steps from one unit to the next smaller one. */
static const unit_t duration_units[] = {
    {"ns", 1},
    {"us", 1000},
    {"ms", 1000000},
    {"secs", NS_PER_SEC},
    {"mins", 60 * NS_PER_SEC},
    {"hrs", 3600 * NS_PER_SEC},
    {"days", 86400 * NS_PER_SEC},
    {"weeks", 7 * 86400 * NS_PER_SEC},
};
#define DURATION_UNIT_COUNT (sizeof(duration_units) / sizeof(duration_units[0]))
#define DURATION_UNIT_LIST  "ns, us, ms, secs, mins, hrs, days or weeks"

static const unit_t bytes_units[] = {
    {"B", 1}, {"KB", 1ULL << 10}, {"MB", 1ULL << 20}, {"GB", 1ULL << 30}, {"TB", 1ULL << 40},
};
#define BYTES_UNIT_COUNT (sizeof(bytes_units) / sizeof(bytes_units[0]))
#define BYTES_UNIT_LIST  "B, KB, MB, GB or TB"

/* A parsed non-string value, before it is stored into its destination. */
typedef union value {
    bool b;
    int64_t i;
    uint64_t u;
    double d;
} value_t;

/* One command-line flag argument, split: `--no-name=value`. */
typedef struct arg {
    const char *name; /* as typed, without dashes or "no-"; not NUL-terminated */
    int name_len;
    const char *value; /* after '=', the next argument, or the implied "true"/"false"; or NULL */
    bool negated;      /* typed as --no-name */
} arg_t;

/* The command line being read. */
typedef struct cursor {
    int argc;
    char **argv;
    int i; /* the argument being read */
} cursor_t;

static actor_err_t fail(flags_result_t *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Writes a one-line error into the caller's result and returns ACTOR_EINVAL. */
static actor_err_t fail(flags_result_t *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->error, sizeof(r->error), fmt, ap);
    va_end(ap);
    return ACTOR_EINVAL;
}

const char *flags_type_name(flags_type_t type)
{
    switch (type) {
    case FLAGS_TYPE_BOOL:
        return "bool";
    case FLAGS_TYPE_INT:
        return "int";
    case FLAGS_TYPE_UINT:
        return "uint";
    case FLAGS_TYPE_DOUBLE:
        return "double";
    case FLAGS_TYPE_STRING:
        return "string";
    case FLAGS_TYPE_DURATION:
        return "duration";
    case FLAGS_TYPE_SECONDS:
        return "seconds";
    case FLAGS_TYPE_BYTES:
        return "bytes";
    }
    return "unknown";
}

/* ---- numbers with units ---------------------------------------------------------------------- */

/* Returns the unit called text exactly (or ignoring case), or NULL. */
static const unit_t *unit_find(const unit_t *units, size_t count, const char *text, bool any_case)
{
    for (size_t i = 0; i < count; i++) {
        int cmp = any_case ? strcasecmp(text, units[i].name) : strcmp(text, units[i].name);
        if (cmp == 0)
            return &units[i];
    }
    return NULL;
}

/* Scales the decimal number text[0..len) (digits and at most one '.') by scale into *out, which
 * must not exceed max. Whole numbers are scaled exactly; fractions through a double, rounded. */
static actor_err_t decimal_scale(const char *text, size_t len, uint64_t scale, uint64_t max,
                                 uint64_t *out, char *why, size_t why_len)
{
    char num[NUMBER_MAX];
    if (len == 0 || len >= sizeof(num) || strspn(text, "0123456789.") < len) {
        snprintf(why, why_len, "expected a number");
        return ACTOR_EINVAL;
    }
    memcpy(num, text, len);
    num[len] = '\0';
    const char *dot = strchr(num, '.');
    if (dot != NULL && (strchr(dot + 1, '.') != NULL || strcmp(num, ".") == 0)) {
        snprintf(why, why_len, "malformed number '%s'", num);
        return ACTOR_EINVAL;
    }
    if (dot == NULL) {
        errno = 0;
        uint64_t whole = strtoull(num, NULL, 10);
        if (errno == ERANGE || whole > max / scale)
            goto fail_range;
        *out = whole * scale;
        return ACTOR_OK;
    }
    double scaled = strtod(num, NULL) * (double)scale;
    if (!(scaled < (double)max)) /* (double)max may round up past max: stay strictly below */
        goto fail_range;
    *out = (uint64_t)(scaled + 0.5);
    return ACTOR_OK;

fail_range:
    snprintf(why, why_len, "out of range");
    return ACTOR_EINVAL;
}

static actor_err_t duration_parse(const char *text, int64_t *ns, char *why, size_t why_len)
{
    size_t len = strspn(text, "0123456789.");
    const char *name = text + len;
    if (len == 0) {
        snprintf(why, why_len, "expected a non-negative number followed by a unit (%s)",
                 DURATION_UNIT_LIST);
        return ACTOR_EINVAL;
    }
    if (*name == '\0') {
        snprintf(why, why_len, "missing unit (%s)", DURATION_UNIT_LIST);
        return ACTOR_EINVAL;
    }
    const unit_t *unit = unit_find(duration_units, DURATION_UNIT_COUNT, name, false);
    if (unit == NULL) {
        snprintf(why, why_len, "unknown unit '%s' (%s)", name, DURATION_UNIT_LIST);
        return ACTOR_EINVAL;
    }
    uint64_t value;
    actor_err_t err = decimal_scale(text, len, unit->scale, INT64_MAX, &value, why, why_len);
    if (err == ACTOR_OK)
        *ns = (int64_t)value;
    return err;
}

/* A plain number means seconds (sleepy's --duration); anything else must be a duration. */
static actor_err_t seconds_parse(const char *text, int64_t *ns, char *why, size_t why_len)
{
    size_t len = strspn(text, "0123456789.");
    if (len == 0 || text[len] != '\0')
        return duration_parse(text, ns, why, why_len);
    uint64_t value;
    actor_err_t err = decimal_scale(text, len, NS_PER_SEC, INT64_MAX, &value, why, why_len);
    if (err == ACTOR_OK)
        *ns = (int64_t)value;
    return err;
}

static actor_err_t bytes_parse(const char *text, uint64_t *bytes, char *why, size_t why_len)
{
    size_t len = strspn(text, "0123456789.");
    const char *name = text + len;
    if (len == 0) {
        snprintf(why, why_len, "expected a whole number followed by a unit (%s)", BYTES_UNIT_LIST);
        return ACTOR_EINVAL;
    }
    if (memchr(text, '.', len) != NULL) {
        snprintf(why, why_len, "fractional bytes");
        return ACTOR_EINVAL;
    }
    if (*name == '\0') {
        snprintf(why, why_len, "missing unit (%s)", BYTES_UNIT_LIST);
        return ACTOR_EINVAL;
    }
    const unit_t *unit = unit_find(bytes_units, BYTES_UNIT_COUNT, name, true);
    if (unit == NULL) {
        snprintf(why, why_len, "unknown unit '%s' (%s)", name, BYTES_UNIT_LIST);
        return ACTOR_EINVAL;
    }
    return decimal_scale(text, len, unit->scale, UINT64_MAX, bytes, why, why_len);
}

actor_err_t flags_duration_parse(const char *text, int64_t *ns)
{
    char why[WHY_MAX];
    return duration_parse(text, ns, why, sizeof(why));
}

actor_err_t flags_bytes_parse(const char *text, uint64_t *bytes)
{
    char why[WHY_MAX];
    return bytes_parse(text, bytes, why, sizeof(why));
}

void flags_duration_format(int64_t ns, char *buf, size_t len)
{
    /* INT64_MIN has no positive twin; Mesos prints it as minus the maximum, so do we. */
    uint64_t abs = ns >= 0 ? (uint64_t)ns : ns == INT64_MIN ? (uint64_t)INT64_MAX : (uint64_t)-ns;
    size_t u = 0;
    while (u + 1 < DURATION_UNIT_COUNT && abs >= duration_units[u + 1].scale)
        u++;
    /* One unit down reads better when it gives a whole number and this unit does not
     * (`1500ms` rather than `1.5secs`), as stout's Duration printer decides. */
    if (u > 0 && abs % duration_units[u].scale != 0 && abs % duration_units[u - 1].scale == 0)
        u--;
    snprintf(buf, len, "%s%.15g%s", ns < 0 ? "-" : "",
             (double)abs / (double)duration_units[u].scale, duration_units[u].name);
}

void flags_bytes_format(uint64_t bytes, char *buf, size_t len)
{
    size_t u = 0;
    while (u + 1 < BYTES_UNIT_COUNT && bytes != 0 && bytes % bytes_units[u + 1].scale == 0)
        u++;
    snprintf(buf, len, "%" PRIu64 "%s", bytes / bytes_units[u].scale, bytes_units[u].name);
}

/* ---- plain values -------------------------------------------------------------------------- */

/* Empty means true, as `--name=` does in Mesos. */
static actor_err_t bool_parse(const char *text, bool *out)
{
    if (*text == '\0' || strcasecmp(text, "true") == 0 || strcmp(text, "1") == 0) {
        *out = true;
        return ACTOR_OK;
    }
    if (strcasecmp(text, "false") == 0 || strcmp(text, "0") == 0) {
        *out = false;
        return ACTOR_OK;
    }
    return ACTOR_EINVAL;
}

/* strtoll would skip spaces and accept an empty string: demand a digit after an optional sign. */
static actor_err_t int_parse(const char *text, int64_t *out)
{
    if (!isdigit((unsigned char)text[*text == '-' || *text == '+']))
        return ACTOR_EINVAL;
    char *end;
    errno = 0;
    long long value = strtoll(text, &end, 10);
    if (errno != 0 || *end != '\0')
        return ACTOR_EINVAL;
    *out = value;
    return ACTOR_OK;
}

/* strtoull would accept "-1" as a huge number: no minus sign here. */
static actor_err_t uint_parse(const char *text, uint64_t *out)
{
    if (!isdigit((unsigned char)text[*text == '+']))
        return ACTOR_EINVAL;
    char *end;
    errno = 0;
    unsigned long long value = strtoull(text, &end, 10);
    if (errno != 0 || *end != '\0')
        return ACTOR_EINVAL;
    *out = value;
    return ACTOR_OK;
}

/* A leading digit, sign or point keeps out spaces, "inf" and "nan". */
static actor_err_t double_parse(const char *text, double *out)
{
    if (*text == '\0' || strchr("0123456789.+-", *text) == NULL)
        return ACTOR_EINVAL;
    char *end;
    errno = 0;
    double value = strtod(text, &end);
    if (errno != 0 || *end != '\0' || !isfinite(value))
        return ACTOR_EINVAL;
    *out = value;
    return ACTOR_OK;
}

/* Prints the shortest of %.15g .. %.17g that reads back as the same double. */
static void double_format(double value, char *buf, size_t len)
{
    for (int precision = 15; precision <= 17; precision++) {
        snprintf(buf, len, "%.*g", precision, value);
        if (strtod(buf, NULL) == value)
            return;
    }
}

/* Parses text as type; on failure why holds the reason after "as <type>", or is empty. */
static actor_err_t value_parse(flags_type_t type, const char *text, value_t *v, char *why,
                               size_t why_len)
{
    why[0] = '\0';
    switch (type) {
    case FLAGS_TYPE_BOOL:
        return bool_parse(text, &v->b);
    case FLAGS_TYPE_INT:
        return int_parse(text, &v->i);
    case FLAGS_TYPE_UINT:
        return uint_parse(text, &v->u);
    case FLAGS_TYPE_DOUBLE:
        return double_parse(text, &v->d);
    case FLAGS_TYPE_DURATION:
        return duration_parse(text, &v->i, why, why_len);
    case FLAGS_TYPE_SECONDS:
        return seconds_parse(text, &v->i, why, why_len);
    case FLAGS_TYPE_BYTES:
        return bytes_parse(text, &v->u, why, why_len);
    case FLAGS_TYPE_STRING:
        break;
    }
    return ACTOR_EINVAL;
}

static void value_store(flags_flag_t *f, const value_t *v)
{
    switch (f->type) {
    case FLAGS_TYPE_BOOL:
        *(bool *)f->dest = v->b;
        break;
    case FLAGS_TYPE_INT:
    case FLAGS_TYPE_DURATION:
    case FLAGS_TYPE_SECONDS:
        *(int64_t *)f->dest = v->i;
        break;
    case FLAGS_TYPE_UINT:
    case FLAGS_TYPE_BYTES:
        *(uint64_t *)f->dest = v->u;
        break;
    case FLAGS_TYPE_DOUBLE:
        *(double *)f->dest = v->d;
        break;
    case FLAGS_TYPE_STRING:
        break;
    }
}

static actor_err_t string_store(flags_flag_t *f, const char *text)
{
    char *copy = strdup(text);
    if (copy == NULL)
        return ACTOR_ENOMEM;
    if (f->owns_string)
        free(*(char **)f->dest);
    *(char **)f->dest = copy;
    f->owns_string = true;
    return ACTOR_OK;
}

/* Parses text into f's destination. On failure, msg holds `Failed to parse value ...`. */
static actor_err_t value_load(flags_flag_t *f, const char *text, char *msg, size_t msg_len)
{
    char why[WHY_MAX];
    value_t v;
    if (f->type == FLAGS_TYPE_STRING) {
        actor_err_t err = string_store(f, text);
        if (err != ACTOR_OK)
            snprintf(msg, msg_len, "%s", actor_strerror(err));
        return err;
    }
    if (value_parse(f->type, text, &v, why, sizeof(why)) != ACTOR_OK) {
        snprintf(msg, msg_len, "Failed to parse value '%s' as %s%s%s", text,
                 flags_type_name(f->type), why[0] ? ": " : "", why);
        return ACTOR_EINVAL;
    }
    value_store(f, &v);
    return ACTOR_OK;
}

/* ---- the table ------------------------------------------------------------------------------- */

static bool name_eq(const char *name, size_t name_len, const char *text, size_t len)
{
    return name_len == len && strncasecmp(name, text, len) == 0;
}

/* Returns the index-th alias of f (not NUL-terminated; *len bytes), or NULL past the last. */
static const char *alias_at(const flags_flag_t *f, size_t index, size_t *len)
{
    const char *a = f->aliases;
    for (size_t i = 0; a != NULL && i < index; i++) {
        a = strchr(a, ',');
        a = a != NULL ? a + 1 : NULL;
    }
    if (a != NULL)
        *len = strcspn(a, ",");
    return a;
}

static bool flag_named(const flags_flag_t *f, const char *text, size_t len)
{
    if (name_eq(f->name, strlen(f->name), text, len))
        return true;
    size_t alen;
    for (size_t i = 0;; i++) {
        const char *a = alias_at(f, i, &alen);
        if (a == NULL)
            return false;
        if (name_eq(a, alen, text, len))
            return true;
    }
}

/* Returns the index of the flag whose name or alias is text[0..len), or -1. */
static ptrdiff_t find_index(const flags_flag_t *table, const char *text, size_t len)
{
    for (ptrdiff_t i = 0; table[i].name != NULL; i++) {
        if (flag_named(&table[i], text, len))
            return i;
    }
    return -1;
}

flags_flag_t *flags_find(flags_flag_t *table, const char *name)
{
    ptrdiff_t i = find_index(table, name, strlen(name));
    return i < 0 ? NULL : &table[i];
}

bool flags_is_set(const flags_flag_t *table, const char *name)
{
    ptrdiff_t i = find_index(table, name, strlen(name));
    return i >= 0 && table[i].source >= FLAGS_SOURCE_ENV;
}

/* How many names and aliases in table are name[0..len). */
static int name_uses(const flags_flag_t *table, const char *name, size_t len)
{
    int uses = 0;
    for (const flags_flag_t *f = table; f->name != NULL; f++) {
        uses += name_eq(f->name, strlen(f->name), name, len);
        size_t alen;
        for (size_t i = 0;; i++) {
            const char *a = alias_at(f, i, &alen);
            if (a == NULL)
                break;
            uses += name_eq(a, alen, name, len);
        }
    }
    return uses;
}

/* Names must be unique across names and aliases, and must not look like --no-x or --help. */
static actor_err_t name_check(const flags_flag_t *table, const char *name, size_t len,
                              flags_result_t *r)
{
    if (len == 0 || (len >= 3 && strncasecmp(name, "no-", 3) == 0) ||
        name_eq("help", 4, name, len) || memchr(name, '=', len) != NULL)
        return fail(r, "Invalid flag table: flag name '%.*s' is reserved or malformed", (int)len,
                    name);
    if (name_uses(table, name, len) > 1)
        return fail(r, "Invalid flag table: duplicate flag '%.*s'", (int)len, name);
    return ACTOR_OK;
}

static actor_err_t table_check(const flags_flag_t *table, flags_result_t *r)
{
    for (const flags_flag_t *f = table; f->name != NULL; f++) {
        if (f->dest == NULL || (unsigned)f->type > FLAGS_TYPE_BYTES)
            return fail(r, "Invalid flag table: flag '%s' has no destination or type", f->name);
        actor_err_t err = name_check(table, f->name, strlen(f->name), r);
        size_t alen;
        for (size_t i = 0; err == ACTOR_OK; i++) {
            const char *a = alias_at(f, i, &alen);
            if (a == NULL)
                break;
            err = name_check(table, a, alen, r);
        }
        if (err != ACTOR_OK)
            return err;
    }
    return ACTOR_OK;
}

static actor_err_t defaults_apply(flags_flag_t *table, flags_result_t *r)
{
    char msg[WHY_MAX];
    for (flags_flag_t *f = table; f->name != NULL; f++) {
        f->source = FLAGS_SOURCE_UNSET;
        if (f->default_value == NULL)
            continue;
        actor_err_t err = value_load(f, f->default_value, msg, sizeof(msg));
        if (err != ACTOR_OK) {
            fail(r, "Invalid default for flag '%s': %s", f->name, msg);
            return err;
        }
        f->source = FLAGS_SOURCE_DEFAULT;
    }
    return ACTOR_OK;
}

/* ---- the command line ---------------------------------------------------------------------- */

static bool help_requested(int argc, char **argv)
{
    for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return true;
    }
    return false;
}

/* Decides a->value: implied for booleans, else after '=' or the next argument. */
static actor_err_t arg_value(const flags_flag_t *f, arg_t *a, cursor_t *c, flags_result_t *r)
{
    if (a->negated) {
        if (f->type != FLAGS_TYPE_BOOL)
            return fail(r, "Failed to load non-boolean flag '%.*s' via 'no-%.*s'", a->name_len,
                        a->name, a->name_len, a->name);
        if (a->value != NULL && a->value[0] != '\0')
            return fail(r, "Failed to load boolean flag '%.*s' via 'no-%.*s' with value '%s'",
                        a->name_len, a->name, a->name_len, a->name, a->value);
        a->value = "false";
        return ACTOR_OK;
    }
    if (f->type == FLAGS_TYPE_BOOL && a->value == NULL)
        a->value = "true";
    if (a->value != NULL)
        return ACTOR_OK;
    /* A next argument that is itself a flag means the value was forgotten. */
    if (c->i + 1 < c->argc && strncmp(c->argv[c->i + 1], "--", 2) != 0) {
        a->value = c->argv[++c->i];
        return ACTOR_OK;
    }
    return fail(r, "Failed to load non-boolean flag '%.*s': Missing value", a->name_len, a->name);
}

/* Reads the flag argument at c->i (which starts with "--"), and its value argument if any. */
static actor_err_t arg_load(flags_flag_t *table, cursor_t *c, flags_result_t *r)
{
    const char *body = c->argv[c->i] + 2;
    size_t len = strcspn(body, "=");
    arg_t a = {.name = body, .name_len = (int)len, .value = body[len] ? body + len + 1 : NULL};
    ptrdiff_t index = find_index(table, body, len);
    if (index < 0 && len > 3 && strncasecmp(body, "no-", 3) == 0) {
        index = find_index(table, body + 3, len - 3);
        a.negated = index >= 0;
        a.name += a.negated ? 3 : 0;
        a.name_len -= a.negated ? 3 : 0;
    }
    if (index < 0)
        return fail(r, "Failed to load unknown flag '%.*s'", (int)len, body);
    flags_flag_t *f = &table[index];
    actor_err_t err = arg_value(f, &a, c, r);
    if (err != ACTOR_OK)
        return err;
    if (f->source == FLAGS_SOURCE_ARGV)
        return fail(r, "Duplicate flag '%.*s' on command line", a.name_len, a.name);
    char msg[WHY_MAX];
    err = value_load(f, a.value, msg, sizeof(msg));
    if (err != ACTOR_OK) {
        fail(r, "Failed to load flag '%.*s': %s", a.name_len, a.name, msg);
        return err;
    }
    f->source = FLAGS_SOURCE_ARGV;
    return ACTOR_OK;
}

/* Moves argv[from] down to argv[to] (to <= from), shifting the arguments between up by one, so
 * positional arguments gather at the front in their order without any allocation. */
static void positional_move(char **argv, int from, int to)
{
    char *moved = argv[from];
    memmove(&argv[to + 1], &argv[to], (size_t)(from - to) * sizeof(argv[0]));
    argv[to] = moved;
}

static actor_err_t argv_load(flags_flag_t *table, int argc, char **argv,
                             const flags_options_t *opts, flags_result_t *r)
{
    cursor_t c = {.argc = argc, .argv = argv};
    bool flags_ended = false;
    for (c.i = 1; c.i < argc; c.i++) {
        const char *arg = argv[c.i];
        if (!flags_ended && strcmp(arg, "--") == 0) {
            flags_ended = true;
            continue;
        }
        if (!flags_ended && strncmp(arg, "--", 2) == 0) {
            actor_err_t err = arg_load(table, &c, r);
            if (err != ACTOR_OK)
                return err;
            continue;
        }
        if (!opts->allow_positional)
            return fail(r, "Unexpected argument '%s'", arg);
        positional_move(argv, c.i, 1 + r->positional_count++);
    }
    return ACTOR_OK;
}

/* ---- the environment ------------------------------------------------------------------------- */

/* Looks up <prefix><NAME>, then <prefix><name> as written (Mesos accepts both). var receives the
 * variable's name for error messages. */
static const char *env_get(const char *prefix, const char *name, size_t name_len, char *var,
                           size_t len)
{
    size_t plen = strlen(prefix);
    int n = snprintf(var, len, "%s%.*s", prefix, (int)name_len, name);
    if (n < 0 || (size_t)n >= len)
        return NULL;
    for (char *p = var + plen; *p != '\0'; p++)
        *p = (char)toupper((unsigned char)*p);
    const char *value = getenv(var);
    if (value != NULL)
        return value;
    snprintf(var, len, "%s%.*s", prefix, (int)name_len, name);
    return getenv(var);
}

static const char *env_lookup(const flags_flag_t *f, const char *prefix, char *var, size_t len)
{
    const char *value = env_get(prefix, f->name, strlen(f->name), var, len);
    size_t alen;
    for (size_t i = 0; value == NULL; i++) {
        const char *a = alias_at(f, i, &alen);
        if (a == NULL)
            break;
        value = env_get(prefix, a, alen, var, len);
    }
    return value;
}

static actor_err_t env_load(flags_flag_t *table, const char *prefix, flags_result_t *r)
{
    char var[256];
    char msg[WHY_MAX];
    if (prefix == NULL || prefix[0] == '\0')
        return ACTOR_OK;
    for (flags_flag_t *f = table; f->name != NULL; f++) {
        if (f->source == FLAGS_SOURCE_ARGV)
            continue;
        const char *value = env_lookup(f, prefix, var, sizeof(var));
        if (value == NULL)
            continue;
        actor_err_t err = value_load(f, value, msg, sizeof(msg));
        if (err != ACTOR_OK) {
            fail(r, "Failed to load flag '%s' from %s: %s", f->name, var, msg);
            return err;
        }
        f->source = FLAGS_SOURCE_ENV;
    }
    return ACTOR_OK;
}

actor_err_t flags_parse(flags_flag_t *table, int argc, char **argv, const flags_options_t *opts,
                        flags_result_t *result)
{
    static const flags_options_t no_options = {0};
    if (opts == NULL)
        opts = &no_options;
    memset(result, 0, sizeof(*result));
    result->positional = argc > 0 ? argv + 1 : argv;

    actor_err_t err = table_check(table, result);
    if (err != ACTOR_OK)
        return err;
    if (help_requested(argc, argv)) {
        result->help = true;
        return ACTOR_OK;
    }
    flags_free(table);
    err = defaults_apply(table, result);
    if (err == ACTOR_OK)
        err = argv_load(table, argc, argv, opts, result);
    if (err == ACTOR_OK)
        err = env_load(table, opts->env_prefix, result);
    return err;
}

void flags_free(flags_flag_t *table)
{
    for (flags_flag_t *f = table; f->name != NULL; f++) {
        if (!f->owns_string)
            continue;
        free(*(char **)f->dest);
        *(char **)f->dest = NULL;
        f->owns_string = false;
    }
}

/* ---- rendering ----------------------------------------------------------------------------- */

actor_err_t flags_value_format(const flags_flag_t *f, char *buf, size_t len)
{
    char text[64];
    const char *out = text;
    if (f->source == FLAGS_SOURCE_UNSET)
        return ACTOR_ENOENT;
    switch (f->type) {
    case FLAGS_TYPE_BOOL:
        out = *(const bool *)f->dest ? "true" : "false";
        break;
    case FLAGS_TYPE_INT:
        snprintf(text, sizeof(text), "%" PRId64, *(const int64_t *)f->dest);
        break;
    case FLAGS_TYPE_UINT:
        snprintf(text, sizeof(text), "%" PRIu64, *(const uint64_t *)f->dest);
        break;
    case FLAGS_TYPE_DOUBLE:
        double_format(*(const double *)f->dest, text, sizeof(text));
        break;
    case FLAGS_TYPE_STRING:
        out = *(char *const *)f->dest;
        break;
    case FLAGS_TYPE_DURATION:
    case FLAGS_TYPE_SECONDS:
        flags_duration_format(*(const int64_t *)f->dest, text, sizeof(text));
        break;
    case FLAGS_TYPE_BYTES:
        flags_bytes_format(*(const uint64_t *)f->dest, text, sizeof(text));
        break;
    }
    if (out == NULL)
        return ACTOR_ENOENT;
    int n = snprintf(buf, len, "%s", out);
    return n >= 0 && (size_t)n < len ? ACTOR_OK : ACTOR_ETOOBIG;
}

static actor_err_t json_add(json_t *obj, const flags_flag_t *f)
{
    char text[64];
    const char *value = text;
    if (f->type == FLAGS_TYPE_STRING)
        value = f->source == FLAGS_SOURCE_UNSET ? NULL : *(char *const *)f->dest;
    else if (flags_value_format(f, text, sizeof(text)) != ACTOR_OK)
        value = NULL;
    if (value == NULL)
        return ACTOR_OK;
    json_t *s = json_string(value);
    if (s == NULL) /* jansson refuses strings that are not UTF-8 */
        return f->type == FLAGS_TYPE_STRING ? ACTOR_EINVAL : ACTOR_ENOMEM;
    return json_object_set_new(obj, f->name, s) == 0 ? ACTOR_OK : ACTOR_ENOMEM;
}

actor_err_t flags_to_json(const flags_flag_t *table, json_t **out)
{
    json_t *obj = json_object();
    if (obj == NULL)
        return ACTOR_ENOMEM;
    for (const flags_flag_t *f = table; f->name != NULL; f++) {
        actor_err_t err = json_add(obj, f);
        if (err != ACTOR_OK) {
            json_decref(obj);
            return err;
        }
    }
    *out = obj;
    return ACTOR_OK;
}

/* ---- usage --------------------------------------------------------------------------------- */

/* Appends `  --name=TYPE` (first) or `, --name=TYPE`, or the `--[no-]name` forms for booleans.
 * Stops appending once buf is full (snprintf keeps it NUL-terminated). */
static void usage_name_append(const flags_flag_t *f, const char *name, size_t name_len,
                              const char *type, char *buf, size_t len, size_t *used)
{
    bool boolean = f->type == FLAGS_TYPE_BOOL;
    if (*used >= len)
        return;
    int n = snprintf(buf + *used, len - *used, "%s--%s%.*s%s%s", *used ? ", " : "  ",
                     boolean ? "[no-]" : "", (int)name_len, name, boolean ? "" : "=",
                     boolean ? "" : type);
    *used = n < 0 ? len : *used + (size_t)n;
}

/* `  --name=TYPE, --alias=TYPE` or `  --[no-]name, --[no-]alias`. */
static void usage_names(const flags_flag_t *f, char *buf, size_t len)
{
    char type[16];
    const char *lower = flags_type_name(f->type);
    size_t i = 0;
    for (; lower[i] != '\0' && i + 1 < sizeof(type); i++)
        type[i] = (char)toupper((unsigned char)lower[i]);
    type[i] = '\0';
    size_t used = 0;
    usage_name_append(f, f->name, strlen(f->name), type, buf, len, &used);
    size_t alen;
    for (size_t k = 0;; k++) {
        const char *a = alias_at(f, k, &alen);
        if (a == NULL)
            break;
        usage_name_append(f, a, alen, type, buf, len, &used);
    }
}

static void usage_newline(FILE *out, int *col)
{
    fprintf(out, "\n%*s", USAGE_HELP_COLUMN, "");
    *col = USAGE_HELP_COLUMN;
}

/* Writes text word by word from *col, breaking lines before USAGE_WIDTH and at '\n'. */
static void usage_words(FILE *out, int *col, const char *text)
{
    while (*text != '\0') {
        if (*text == '\n')
            usage_newline(out, col);
        if (*text == '\n' || *text == ' ') {
            text++;
            continue;
        }
        int n = (int)strcspn(text, " \n");
        bool first = *col == USAGE_HELP_COLUMN;
        if (!first && *col + 1 + n > USAGE_WIDTH) {
            usage_newline(out, col);
            first = true;
        }
        fprintf(out, "%s%.*s", first ? "" : " ", n, text);
        *col += n + (first ? 0 : 1);
        text += n;
    }
}

static void usage_entry(FILE *out, const char *names, const char *help, const char *def)
{
    int col = fprintf(out, "%s", names);
    if (col + 2 > USAGE_HELP_COLUMN) {
        fputc('\n', out);
        col = 0;
    }
    fprintf(out, "%*s", USAGE_HELP_COLUMN - col, "");
    col = USAGE_HELP_COLUMN;
    usage_words(out, &col, help != NULL ? help : "");
    if (def != NULL) {
        char text[WHY_MAX];
        snprintf(text, sizeof(text), "(default: %s)", def[0] != '\0' ? def : "\"\"");
        usage_words(out, &col, text);
    }
    fputc('\n', out);
}

/* The flag with the smallest name after prev's (or the smallest if prev is NULL), or NULL: a
 * selection sort, because usage is printed once and needs no allocation this way. */
static const flags_flag_t *next_by_name(const flags_flag_t *table, const flags_flag_t *prev)
{
    const flags_flag_t *best = NULL;
    for (const flags_flag_t *f = table; f->name != NULL; f++) {
        if (prev != NULL && strcmp(f->name, prev->name) <= 0)
            continue;
        if (best == NULL || strcmp(f->name, best->name) < 0)
            best = f;
    }
    return best;
}

bool flags_parse_program(flags_flag_t *table, int argc, char **argv, const char *env_prefix,
                         const char *program, int *exit_status)
{
    flags_options_t opts = {.env_prefix = env_prefix};
    flags_result_t result;
    if (flags_parse(table, argc, argv, &opts, &result) != ACTOR_OK) {
        fprintf(stderr, "%s\n", result.error);
        *exit_status = 1;
        return false;
    }
    if (result.help) {
        flags_usage_write(table, program, stdout);
        *exit_status = 0;
        return false;
    }
    return true;
}

void flags_usage_write(const flags_flag_t *table, const char *program, FILE *out)
{
    char names[256];
    fprintf(out, "Usage: %s [options]\n\n", program != NULL ? program : "program");
    for (const flags_flag_t *f = next_by_name(table, NULL); f != NULL; f = next_by_name(table, f)) {
        usage_names(f, names, sizeof(names));
        usage_entry(out, names, f->help, f->default_value);
    }
    usage_entry(out, "  -h, --help", "Prints this help message and exits", NULL);
}
