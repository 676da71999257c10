/*
 * parse.c: building a resources_t from outside: the --resources text form (Mesos's
 * Resources::fromSimpleString and Resources::parse) and protobuf messages, both validated as
 * Mesos's Resources::validate validates one resource.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "resources/resources_int.h"

#define DETAIL_MAX 256

static int item_cmp(const void *x, const void *y)
{
    return strcmp(*(char *const *)x, *(char *const *)y);
}

/* Moves the value's payload into e (name and role already set) after checking it. */
static actor_err_t entry_take_value(resources_entry_t *e, value_t *v, char *detail,
                                    size_t detail_len)
{
    e->type = v->type;
    switch (v->type) {
    case RESOURCES_SCALAR:
        return scalar_to_fixed(v->scalar, &e->scalar, detail, detail_len);
    case RESOURCES_RANGES:
        e->ranges = v->ranges;
        e->range_count = v->range_count;
        v->ranges = NULL;
        v->range_count = 0;
        return ACTOR_OK;
    case RESOURCES_SET:
        e->items = v->items;
        e->item_count = v->item_count;
        v->items = NULL;
        v->item_count = 0;
        qsort(e->items, e->item_count, sizeof(*e->items), item_cmp);
        for (size_t i = 1; i < e->item_count; i++) {
            if (strcmp(e->items[i - 1], e->items[i]) == 0) {
                set_error(detail, detail_len, "Invalid set resource: duplicated elements");
                return ACTOR_EINVAL;
            }
        }
        return ACTOR_OK;
    default:
        set_error(detail, detail_len, "Bad type for resource %s value %s type TEXT", e->name,
                  v->text);
        return ACTOR_EINVAL;
    }
}

/* Mesos's roles::validate, without the hierarchical-role rules. */
static bool role_valid(const char *role, char *detail, size_t detail_len)
{
    if (*role == '\0') {
        set_error(detail, detail_len, "Empty role name is invalid");
        return false;
    }
    if (strcmp(role, ".") == 0 || strcmp(role, "..") == 0 || role[0] == '-') {
        set_error(detail, detail_len, "Role name '%s' is invalid", role);
        return false;
    }
    for (const char *p = role; *p; p++) {
        if (isspace((unsigned char)*p) || iscntrl((unsigned char)*p)) {
            set_error(detail, detail_len, "Role name '%s' contains invalid characters", role);
            return false;
        }
    }
    return true;
}

/* Adds one resource to out: name and role are copied, v is consumed. */
static actor_err_t add_one(resources_t *out, const char *name, const char *role, value_t *v,
                           char *detail, size_t detail_len)
{
    resources_entry_t e = {0};
    actor_err_t rc = ACTOR_EINVAL;
    if (*name == '\0') {
        set_error(detail, detail_len, "Empty resource name");
        goto done;
    }
    if (!role_valid(role, detail, detail_len))
        goto done;
    rc = ACTOR_ENOMEM;
    e.name = strdup(name);
    e.role = strdup(role);
    if (e.name == NULL || e.role == NULL)
        goto done;
    rc = entry_take_value(&e, v, detail, detail_len);
    if (rc != ACTOR_OK)
        goto done;
    bool empty = e.type == RESOURCES_SCALAR   ? e.scalar == 0
                 : e.type == RESOURCES_RANGES ? e.range_count == 0
                                              : e.item_count == 0;
    if (empty) /* Mesos drops empty resources */
        goto done;
    resources_t one = {.entries = &e, .count = 1};
    rc = resources_add(out, &one);
    if (rc == ACTOR_EINVAL)
        set_error(detail, detail_len, "Resource '%s' is given with two different types", name);
done:
    free(e.name);
    free(e.role);
    free(e.ranges);
    for (size_t i = 0; i < e.item_count; i++)
        free(e.items[i]);
    free(e.items);
    return rc;
}

/* Splits "name(role)" in place into trimmed name and role (default_role when absent). */
static actor_err_t split_name(char *key, const char *default_role, const char **name,
                              const char **role, char *detail, size_t detail_len)
{
    char *open = strchr(key, '(');
    if (open == NULL) {
        *name = text_trim(key);
        *role = default_role;
        return ACTOR_OK;
    }
    char *close = strchr(key, ')');
    if (close == NULL || close < open) {
        set_error(detail, detail_len, "mismatched parentheses");
        return ACTOR_EINVAL;
    }
    if (*text_trim(close + 1) != '\0') {
        set_error(detail, detail_len, "unexpected text after ')'");
        return ACTOR_EINVAL;
    }
    *open = '\0';
    *close = '\0';
    *name = text_trim(key);
    *role = text_trim(open + 1);
    return ACTOR_OK;
}

/* Parses one "name(role):value" token (trimmed, modified) into out. */
static actor_err_t parse_token(resources_t *out, char *token, const char *default_role,
                               char *detail, size_t detail_len)
{
    /* Mesos tokenizes on ':' dropping empty pieces, so "cpus::4" passes and "cpus:" fails. */
    char *pieces[2] = {NULL, NULL};
    size_t n = 0;
    for (char *save = NULL, *t = strtok_r(token, ":", &save); t; t = strtok_r(NULL, ":", &save)) {
        if (n < 2)
            pieces[n] = t;
        n++;
    }
    if (n != 2) {
        set_error(detail, detail_len, "missing or extra ':'");
        return ACTOR_EINVAL;
    }
    const char *name, *role;
    actor_err_t rc = split_name(pieces[0], default_role, &name, &role, detail, detail_len);
    if (rc != ACTOR_OK)
        return rc;
    value_t v;
    rc = value_parse(pieces[1], &v, detail, detail_len);
    if (rc != ACTOR_OK)
        return rc;
    rc = add_one(out, name, role, &v, detail, detail_len);
    value_fini(&v);
    return rc;
}

actor_err_t resources_parse(resources_t *out, const char *text, const char *default_role, char *err,
                            size_t err_len)
{
    resources_init(out);
    set_error(err, err_len, "%s", "");
    char *copy = strdup(text);
    if (copy == NULL)
        return ACTOR_ENOMEM;
    if (default_role == NULL)
        default_role = RESOURCES_ROLE_ANY;
    actor_err_t rc = ACTOR_OK;
    char detail[DETAIL_MAX];
    for (char *save = NULL, *t = strtok_r(copy, ";", &save); t && rc == ACTOR_OK;
         t = strtok_r(NULL, ";", &save)) {
        char *token = text_trim(t);
        if (*token == '\0')
            continue;
        char *shown = strdup(token); /* parse_token cuts token up */
        if (shown == NULL) {
            rc = ACTOR_ENOMEM;
            break;
        }
        rc = parse_token(out, token, default_role, detail, sizeof(detail));
        if (rc == ACTOR_EINVAL)
            set_error(err, err_len, "Failed to parse resource '%s': %s", shown, detail);
        free(shown);
    }
    free(copy);
    if (rc != ACTOR_OK)
        resources_fini(out);
    return rc;
}

/* Copies the value of one message into v (borrowing nothing). */
static actor_err_t proto_value(const Mesos__Resource *m, value_t *v, char *detail,
                               size_t detail_len)
{
    *v = (value_t){.type = (resources_type_t)m->type};
    if (m->type == MESOS__VALUE__TYPE__SCALAR && m->scalar != NULL) {
        v->scalar = m->scalar->value;
        return ACTOR_OK;
    }
    if (m->type == MESOS__VALUE__TYPE__RANGES && m->ranges != NULL) {
        size_t n = m->ranges->n_range;
        v->ranges = malloc((n + 1) * sizeof(*v->ranges));
        if (v->ranges == NULL)
            return ACTOR_ENOMEM;
        for (size_t i = 0; i < n; i++) {
            v->ranges[i] =
                (resources_range_t){m->ranges->range[i]->begin, m->ranges->range[i]->end};
            if (v->ranges[i].begin > v->ranges[i].end) {
                set_error(detail, detail_len, "Invalid ranges resource: begin > end");
                return ACTOR_EINVAL;
            }
        }
        v->range_count = n;
        ranges_normalize(v->ranges, &v->range_count);
        return ACTOR_OK;
    }
    if (m->type == MESOS__VALUE__TYPE__SET && m->set != NULL) {
        v->items = calloc(m->set->n_item + 1, sizeof(*v->items));
        if (v->items == NULL)
            return ACTOR_ENOMEM;
        for (; v->item_count < m->set->n_item; v->item_count++) {
            v->items[v->item_count] = strdup(m->set->item[v->item_count]);
            if (v->items[v->item_count] == NULL)
                return ACTOR_ENOMEM;
        }
        return ACTOR_OK;
    }
    set_error(detail, detail_len, "Invalid %s resource",
              m->type == MESOS__VALUE__TYPE__SCALAR   ? "scalar"
              : m->type == MESOS__VALUE__TYPE__RANGES ? "ranges"
              : m->type == MESOS__VALUE__TYPE__SET    ? "set"
                                                      : "type of");
    return ACTOR_EINVAL;
}

static const char *proto_role(const Mesos__Resource *m)
{
    if (m->n_reservations > 0 && m->reservations[m->n_reservations - 1]->role != NULL)
        return m->reservations[m->n_reservations - 1]->role;
    return m->role != NULL ? m->role : RESOURCES_ROLE_ANY;
}

actor_err_t resources_from_proto(resources_t *out, Mesos__Resource *const *items, size_t count,
                                 char *err, size_t err_len)
{
    resources_init(out);
    set_error(err, err_len, "%s", "");
    char detail[DETAIL_MAX];
    actor_err_t rc = ACTOR_OK;
    for (size_t i = 0; i < count && rc == ACTOR_OK; i++) {
        const Mesos__Resource *m = items[i];
        const char *name = m->name != NULL ? m->name : "";
        value_t v;
        rc = proto_value(m, &v, detail, sizeof(detail));
        if (rc == ACTOR_OK)
            rc = add_one(out, name, proto_role(m), &v, detail, sizeof(detail));
        value_fini(&v);
        if (rc == ACTOR_EINVAL)
            set_error(err, err_len, "Invalid resource '%s': %s", name, detail);
    }
    if (rc != ACTOR_OK)
        resources_fini(out);
    return rc;
}
