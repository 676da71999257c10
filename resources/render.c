/*
 * render.c: resources_t out to the world: the text form, Mesos's v0 JSON (src/common/http.cpp,
 * model(const Resources&)) and protobuf messages.
 */
#include <stdlib.h>
#include <string.h>

#include "resources/resources_int.h"

static void format_items(strbuf_t *b, char *const *items, size_t n, const char *sep)
{
    strbuf_printf(b, "{");
    for (size_t i = 0; i < n; i++)
        strbuf_printf(b, "%s%s", i ? sep : "", items[i]);
    strbuf_printf(b, "}");
}

actor_err_t resources_format(const resources_t *r, char **out)
{
    strbuf_t b = {0};
    for (size_t i = 0; i < r->count; i++) {
        const resources_entry_t *e = &r->entries[i];
        strbuf_printf(&b, "%s%s", i ? ";" : "", e->name);
        if (strcmp(e->role, RESOURCES_ROLE_ANY) != 0)
            strbuf_printf(&b, "(%s)", e->role);
        strbuf_printf(&b, ":");
        if (e->type == RESOURCES_SCALAR)
            scalar_format(&b, e->scalar);
        else if (e->type == RESOURCES_RANGES)
            ranges_format(&b, e->ranges, e->range_count, ",");
        else
            format_items(&b, e->items, e->item_count, ",");
    }
    return strbuf_finish(&b, out);
}

/* The v0 JSON value of every entry named name, summed over roles. */
static actor_err_t json_value(const resources_t *r, const resources_entry_t *first, json_t **out)
{
    if (first->type == RESOURCES_SCALAR) {
        *out = json_real(resources_scalar(r, first->name));
        return *out ? ACTOR_OK : ACTOR_ENOMEM;
    }
    strbuf_t b = {0};
    if (first->type == RESOURCES_RANGES) {
        resources_range_t *ranges;
        size_t n;
        if (resources_ranges(r, first->name, &ranges, &n) != ACTOR_OK)
            return ACTOR_ENOMEM;
        ranges_format(&b, ranges, n, ", ");
        free(ranges);
    } else {
        resources_t sum, one = {.entries = NULL, .count = 0};
        resources_init(&sum);
        actor_err_t rc = ACTOR_OK;
        for (size_t i = 0; i < r->count && rc == ACTOR_OK; i++) {
            resources_entry_t e = r->entries[i];
            if (strcmp(e.name, first->name) != 0)
                continue;
            e.role = RESOURCES_ROLE_ANY; /* borrowed; add copies it */
            one.entries = &e;
            one.count = 1;
            rc = resources_add(&sum, &one);
        }
        if (rc == ACTOR_OK)
            format_items(&b, sum.entries[0].items, sum.entries[0].item_count, ", ");
        resources_fini(&sum);
        if (rc != ACTOR_OK)
            return rc;
    }
    char *s;
    if (strbuf_finish(&b, &s) != ACTOR_OK)
        return ACTOR_ENOMEM;
    *out = json_string(s);
    free(s);
    return *out ? ACTOR_OK : ACTOR_ENOMEM;
}

actor_err_t resources_to_json(const resources_t *r, json_t **out)
{
    static const char *const always[] = {"cpus", "gpus", "mem", "disk"};
    json_t *obj = json_object();
    if (obj == NULL)
        return ACTOR_ENOMEM;
    for (size_t i = 0; i < sizeof(always) / sizeof(always[0]); i++)
        if (json_object_set_new(obj, always[i], json_real(0)) != 0)
            goto fail_free_obj;
    for (size_t i = 0; i < r->count; i++) {
        json_t *v;
        if (json_value(r, &r->entries[i], &v) != ACTOR_OK)
            goto fail_free_obj;
        if (json_object_set_new(obj, r->entries[i].name, v) != 0)
            goto fail_free_obj;
    }
    *out = obj;
    return ACTOR_OK;
fail_free_obj:
    json_decref(obj);
    return ACTOR_ENOMEM;
}

static Mesos__Value__Ranges *proto_ranges(const resources_range_t *r, size_t n)
{
    Mesos__Value__Ranges *m = malloc(sizeof(*m));
    if (m == NULL)
        return NULL;
    mesos__value__ranges__init(m);
    m->range = calloc(n + 1, sizeof(*m->range));
    if (m->range == NULL)
        goto fail;
    for (; m->n_range < n; m->n_range++) {
        Mesos__Value__Range *x = malloc(sizeof(*x));
        if (x == NULL)
            goto fail;
        mesos__value__range__init(x);
        x->begin = r[m->n_range].begin;
        x->end = r[m->n_range].end;
        m->range[m->n_range] = x;
    }
    return m;
fail:
    protobuf_c_message_free_unpacked(&m->base, NULL);
    return NULL;
}

static Mesos__Value__Scalar *proto_scalar(double v)
{
    Mesos__Value__Scalar *m = malloc(sizeof(*m));
    if (m == NULL)
        return NULL;
    mesos__value__scalar__init(m);
    m->value = v;
    return m;
}

static bool proto_set(const resources_entry_t *e, Mesos__Resource *m)
{
    m->set = malloc(sizeof(*m->set));
    if (m->set == NULL)
        return false;
    mesos__value__set__init(m->set);
    m->set->item = calloc(e->item_count + 1, sizeof(char *));
    if (m->set->item == NULL)
        return false;
    for (; m->set->n_item < e->item_count; m->set->n_item++) {
        m->set->item[m->set->n_item] = strdup(e->items[m->set->n_item]);
        if (m->set->item[m->set->n_item] == NULL)
            return false;
    }
    return true;
}

static bool proto_reservation(const char *role, Mesos__Resource *m)
{
    m->reservations = calloc(1, sizeof(*m->reservations));
    if (m->reservations == NULL)
        return false;
    Mesos__Resource__ReservationInfo *r = malloc(sizeof(*r));
    if (r == NULL)
        return false;
    mesos__resource__reservation_info__init(r);
    m->reservations[0] = r;
    m->n_reservations = 1;
    r->has_type = true;
    r->type = MESOS__RESOURCE__RESERVATION_INFO__TYPE__STATIC;
    r->role = strdup(role);
    return r->role != NULL;
}

static Mesos__Resource *proto_entry(const resources_entry_t *e)
{
    Mesos__Resource *m = malloc(sizeof(*m));
    if (m == NULL)
        return NULL;
    mesos__resource__init(m);
    m->type = (Mesos__Value__Type)e->type;
    m->name = strdup(e->name);
    bool ok = m->name != NULL;
    if (ok && e->type == RESOURCES_SCALAR) {
        m->scalar = proto_scalar((double)e->scalar / RESOURCES_SCALAR_UNIT);
        ok = m->scalar != NULL;
    } else if (ok && e->type == RESOURCES_RANGES) {
        m->ranges = proto_ranges(e->ranges, e->range_count);
        ok = m->ranges != NULL;
    } else if (ok) {
        ok = proto_set(e, m);
    }
    if (ok && strcmp(e->role, RESOURCES_ROLE_ANY) != 0)
        ok = proto_reservation(e->role, m);
    if (!ok) {
        protobuf_c_message_free_unpacked(&m->base, NULL);
        return NULL;
    }
    return m;
}

actor_err_t resources_to_proto(const resources_t *r, Mesos__Resource ***out, size_t *count)
{
    Mesos__Resource **items = calloc(r->count + 1, sizeof(*items));
    if (items == NULL)
        return ACTOR_ENOMEM;
    for (size_t i = 0; i < r->count; i++) {
        items[i] = proto_entry(&r->entries[i]);
        if (items[i] == NULL) {
            resources_proto_free(items, i);
            return ACTOR_ENOMEM;
        }
    }
    *out = items;
    *count = r->count;
    return ACTOR_OK;
}

void resources_proto_free(Mesos__Resource **items, size_t count)
{
    if (items == NULL)
        return;
    for (size_t i = 0; i < count; i++)
        protobuf_c_message_free_unpacked(&items[i]->base, NULL);
    free(items);
}
