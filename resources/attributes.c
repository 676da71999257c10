/*
 * attributes.c: agent attributes from --attributes (Mesos's Attributes::parse in
 * src/common/attributes.cpp) and out again as text, v0 JSON and protobuf.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "resources/resources_int.h"

#define DETAIL_MAX 256

void resources_attributes_init(resources_attributes_t *a)
{
    a->entries = NULL;
    a->count = 0;
}

void resources_attributes_fini(resources_attributes_t *a)
{
    for (size_t i = 0; i < a->count; i++) {
        free(a->entries[i].name);
        free(a->entries[i].ranges);
        free(a->entries[i].text);
    }
    free(a->entries);
    resources_attributes_init(a);
}

/* Mesos's Attributes::parse(name, value): a value that does not parse is kept as text. */
static actor_err_t attribute_value(resources_attribute_t *e, const char *raw, char *detail,
                                   size_t detail_len)
{
    value_t v;
    actor_err_t rc = value_parse(raw, &v, detail, detail_len);
    if (rc == ACTOR_EINVAL) {
        e->type = RESOURCES_TEXT;
        e->text = strdup(raw);
        return e->text ? ACTOR_OK : ACTOR_ENOMEM;
    }
    if (rc != ACTOR_OK)
        return rc;
    e->type = v.type;
    e->scalar = v.scalar;
    e->ranges = v.ranges;
    e->range_count = v.range_count;
    e->text = v.text;
    v.ranges = NULL;
    v.text = NULL;
    if (v.type == RESOURCES_SET) {
        set_error(detail, detail_len, "Bad type for attribute %s value %s type SET", e->name, raw);
        rc = ACTOR_EINVAL;
    }
    value_fini(&v);
    return rc;
}

/* Parses one "name:value" token (modified) and appends it to out. */
static actor_err_t parse_token(resources_attributes_t *out, char *token, char *detail,
                               size_t detail_len)
{
    char *colon = strchr(token, ':');
    char *name = token, *raw = colon ? colon + 1 : NULL;
    if (colon != NULL)
        *colon = '\0';
    name = text_trim(name);
    if (colon == NULL || *name == '\0' || *text_trim(raw) == '\0') {
        set_error(detail, detail_len, "Invalid attribute key:value pair");
        return ACTOR_EINVAL;
    }
    resources_attribute_t *grown = realloc(out->entries, (out->count + 1) * sizeof(*grown));
    if (grown == NULL)
        return ACTOR_ENOMEM;
    out->entries = grown;
    resources_attribute_t *e = &out->entries[out->count];
    memset(e, 0, sizeof(*e));
    out->count++; /* counted now so that fini frees a half-built entry */
    e->name = strdup(name);
    if (e->name == NULL)
        return ACTOR_ENOMEM;
    return attribute_value(e, text_trim(raw), detail, detail_len);
}

actor_err_t resources_attributes_parse(resources_attributes_t *out, const char *text, char *err,
                                       size_t err_len)
{
    resources_attributes_init(out);
    set_error(err, err_len, "%s", "");
    char *copy = strdup(text);
    if (copy == NULL)
        return ACTOR_ENOMEM;
    actor_err_t rc = ACTOR_OK;
    char detail[DETAIL_MAX];
    for (char *save = NULL, *t = strtok_r(copy, ";\n", &save); t && rc == ACTOR_OK;
         t = strtok_r(NULL, ";\n", &save)) {
        char *token = text_trim(t);
        if (*token == '\0')
            continue;
        char *shown = strdup(token);
        if (shown == NULL) {
            rc = ACTOR_ENOMEM;
            break;
        }
        rc = parse_token(out, token, detail, sizeof(detail));
        if (rc == ACTOR_EINVAL)
            set_error(err, err_len, "Failed to parse attribute '%s': %s", shown, detail);
        free(shown);
    }
    free(copy);
    if (rc != ACTOR_OK)
        resources_attributes_fini(out);
    return rc;
}

static void format_value(strbuf_t *b, const resources_attribute_t *e, const char *sep)
{
    if (e->type == RESOURCES_SCALAR)
        strbuf_printf(b, "%.17g", e->scalar);
    else if (e->type == RESOURCES_RANGES)
        ranges_format(b, e->ranges, e->range_count, sep);
    else
        strbuf_printf(b, "%s", e->text);
}

actor_err_t resources_attributes_format(const resources_attributes_t *a, char **out)
{
    strbuf_t b = {0};
    for (size_t i = 0; i < a->count; i++) {
        strbuf_printf(&b, "%s%s:", i ? ";" : "", a->entries[i].name);
        format_value(&b, &a->entries[i], ",");
    }
    return strbuf_finish(&b, out);
}

static json_t *json_attribute(const resources_attribute_t *e)
{
    if (e->type == RESOURCES_SCALAR)
        return json_real(e->scalar);
    if (e->type == RESOURCES_TEXT)
        return json_string(e->text);
    strbuf_t b = {0};
    format_value(&b, e, ", ");
    char *s;
    if (strbuf_finish(&b, &s) != ACTOR_OK)
        return NULL;
    json_t *j = json_string(s);
    free(s);
    return j;
}

actor_err_t resources_attributes_to_json(const resources_attributes_t *a, json_t **out)
{
    json_t *obj = json_object();
    if (obj == NULL)
        return ACTOR_ENOMEM;
    for (size_t i = 0; i < a->count; i++) {
        json_t *v = json_attribute(&a->entries[i]);
        if (v == NULL || json_object_set_new(obj, a->entries[i].name, v) != 0) {
            json_decref(obj);
            return ACTOR_ENOMEM;
        }
    }
    *out = obj;
    return ACTOR_OK;
}

static bool proto_attribute_value(const resources_attribute_t *e, Mesos__Attribute *m)
{
    if (e->type == RESOURCES_SCALAR) {
        m->scalar = malloc(sizeof(*m->scalar));
        if (m->scalar != NULL) {
            mesos__value__scalar__init(m->scalar);
            m->scalar->value = e->scalar;
        }
        return m->scalar != NULL;
    }
    if (e->type == RESOURCES_TEXT) {
        m->text = malloc(sizeof(*m->text));
        if (m->text == NULL)
            return false;
        mesos__value__text__init(m->text);
        m->text->value = strdup(e->text);
        return m->text->value != NULL;
    }
    m->ranges = malloc(sizeof(*m->ranges));
    if (m->ranges == NULL)
        return false;
    mesos__value__ranges__init(m->ranges);
    m->ranges->range = calloc(e->range_count + 1, sizeof(*m->ranges->range));
    if (m->ranges->range == NULL)
        return false;
    for (; m->ranges->n_range < e->range_count; m->ranges->n_range++) {
        Mesos__Value__Range *x = malloc(sizeof(*x));
        if (x == NULL)
            return false;
        mesos__value__range__init(x);
        x->begin = e->ranges[m->ranges->n_range].begin;
        x->end = e->ranges[m->ranges->n_range].end;
        m->ranges->range[m->ranges->n_range] = x;
    }
    return true;
}

actor_err_t resources_attributes_to_proto(const resources_attributes_t *a, Mesos__Attribute ***out,
                                          size_t *count)
{
    Mesos__Attribute **items = calloc(a->count + 1, sizeof(*items));
    if (items == NULL)
        return ACTOR_ENOMEM;
    for (size_t i = 0; i < a->count; i++) {
        Mesos__Attribute *m = malloc(sizeof(*m));
        if (m == NULL)
            goto fail_free_items;
        mesos__attribute__init(m);
        items[i] = m;
        m->type = (Mesos__Value__Type)a->entries[i].type;
        m->name = strdup(a->entries[i].name);
        if (m->name == NULL || !proto_attribute_value(&a->entries[i], m))
            goto fail_free_items;
    }
    *out = items;
    *count = a->count;
    return ACTOR_OK;
fail_free_items:
    resources_attributes_proto_free(items, a->count);
    return ACTOR_ENOMEM;
}

void resources_attributes_proto_free(Mesos__Attribute **items, size_t count)
{
    if (items == NULL)
        return;
    for (size_t i = 0; i < count; i++)
        if (items[i] != NULL)
            protobuf_c_message_free_unpacked(&items[i]->base, NULL);
    free(items);
}
