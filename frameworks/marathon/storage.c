/*
 * storage.c: Marathon's state in the key-value store (store.h), as Marathon keeps it in
 * ZooKeeper: the framework id, each app's current definition and its versions, the instances
 * and the deployments. Writes made while handling a burst share one transaction and one fsync
 * (store/batch.h); an API answer waits until what it changed is durable.
 *
 *   fwid                  the framework id (text)
 *   app  <id>             the current definition (Marathon's canonical JSON)
 *   ver  <id> <version>   every stored version (JSON)
 *   inst <task id>        an instance (JSON; an unreachable one with the time its agent went
 *                         away, so that its unreachableStrategy clock survives a restart)
 *   dep  <id>             a deployment (JSON)
 *
 * (fields separated by the unit separator 0x1f). With no --work_dir the store is in memory.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <utlist.h>

#include "actor/log.h"
#include "frameworks/marathon/marathon_int.h"

#define SEP "\x1f"

static char *key2(const char *kind, const char *a)
{
    char *k = NULL;
    return asprintf(&k, "%s" SEP "%s", kind, a) < 0 ? NULL : k;
}

static char *key3(const char *kind, const char *a, const char *b)
{
    char *k = NULL;
    return asprintf(&k, "%s" SEP "%s" SEP "%s", kind, a, b) < 0 ? NULL : k;
}

actor_err_t marathon_storage_open(marathon_t *m, char *err, size_t err_len)
{
    char path[4096];
    const char *backend = m->opts.work_dir != NULL ? "lmdb" : "memory";
    if (m->opts.work_dir != NULL)
        snprintf(path, sizeof(path), "%s/state", m->opts.work_dir);
    actor_err_t rc = store_open(&m->store, backend, m->opts.work_dir ? path : NULL, NULL);
    if (rc != ACTOR_OK)
        snprintf(err, err_len, "Failed to open Marathon's state in '%s': %s",
                 m->opts.work_dir ? path : "memory", actor_strerror(rc));
    return rc;
}

void marathon_storage_close(marathon_t *m)
{
    store_batch_free(m->batch);
    m->batch = NULL;
    store_close(m->store);
    m->store = NULL;
}

static void put_json(marathon_t *m, char *key, json_t *json)
{
    char *text = json != NULL ? json_dumps(json, MARATHON_APP_JSON_FLAGS) : NULL;
    json_decref(json);
    if (text == NULL) {
        free(key);
        LOG_ERROR("Out of memory storing Marathon's state");
        return;
    }
    store_batch_put(m->batch, key, text, strlen(text));
}

void marathon_store_framework_id(marathon_t *m)
{
    if (m->framework_id != NULL)
        store_batch_put_text(m->batch, strdup("fwid"), m->framework_id);
}

void marathon_store_app(marathon_t *m, marathon_app_entry_t *e)
{
    put_json(m, key2("app", e->id), marathon_app_to_json(e->app));
    put_json(m, key3("ver", e->id, e->app->version), marathon_app_to_json(e->app));
}

void marathon_store_app_delete(marathon_t *m, const char *app_id)
{
    marathon_app_entry_t *e = marathon_app_find(m, app_id);
    for (size_t i = 0; e != NULL && i < e->version_count; i++)
        store_batch_delete(m->batch, key3("ver", app_id, e->versions[i]));
    store_batch_delete(m->batch, key2("app", app_id));
}

static json_t *instance_record(const marathon_instance_t *i)
{
    json_t *ports = json_array();
    for (size_t k = 0; k < i->port_count; k++)
        json_array_append_new(ports, json_integer(i->ports[k]));
    return json_pack("{s:s,s:s,s:s,s:s,s:s,s:o,s:i,s:s,s:s,s:f,s:b,s:f}", "taskId", i->task_id,
                     "appId", i->app->id, "version", i->version, "agentId", i->agent_id, "host",
                     i->host, "ports", ports, "state", i->state, "stagedAt", i->staged_at,
                     "startedAt", i->started_at, "stagedTime", i->staged_time, "killing",
                     i->killing, "unreachableSince", i->unreachable ? i->unreachable_since : 0.0);
}

void marathon_store_instance(marathon_t *m, marathon_instance_t *i)
{
    put_json(m, key2("inst", i->task_id), instance_record(i));
}

void marathon_store_instance_delete(marathon_t *m, const char *task_id)
{
    store_batch_delete(m->batch, key2("inst", task_id));
}

static json_t *deployment_record(const marathon_deployment_t *d)
{
    return json_pack("{s:s,s:s,s:s,s:i,s:o,s:o}", "id", d->id, "version", d->version, "appId",
                     d->app_id, "action", (int)d->action, "original",
                     d->original ? marathon_app_to_json(d->original) : json_null(), "target",
                     d->target ? marathon_app_to_json(d->target) : json_null());
}

void marathon_store_deployment(marathon_t *m, marathon_deployment_t *d)
{
    put_json(m, key2("dep", d->id), deployment_record(d));
}

void marathon_store_deployment_delete(marathon_t *m, const char *id)
{
    store_batch_delete(m->batch, key2("dep", id));
}

typedef struct after_arg {
    marathon_t *m;
    void (*fn)(marathon_t *m, void *arg);
    void *arg;
} after_arg_t;

static void after(void *arg)
{
    after_arg_t *a = arg;
    a->m->answers_held--;
    a->fn(a->m, a->arg);
    free(a);
}

void marathon_after_durable(marathon_t *m, void (*fn)(marathon_t *m, void *arg), void *arg)
{
    after_arg_t *a = malloc(sizeof(*a));
    if (a == NULL) {
        fn(m, arg);
        return;
    }
    *a = (after_arg_t){.m = m, .fn = fn, .arg = arg};
    m->answers_held++; /* the callers are HTTP answers: /metrics counts them as active requests */
    store_batch_after(m->batch, after, a);
}

/* ---- reading ---- */

/* An app from its stored JSON, version fields included. */
static marathon_app_t *app_from_record(const json_t *json)
{
    marathon_app_t *app = NULL;
    json_t *details = NULL;
    if (marathon_app_from_stored_json(json, &app, &details) != ACTOR_OK) {
        char *text = details ? json_dumps(details, JSON_COMPACT) : NULL;
        LOG_WARNING("Skipping a stored app that no longer reads: %s", text ? text : "");
        free(text);
        json_decref(details);
        return NULL;
    }
    return app;
}

marathon_app_t *marathon_store_app_version(marathon_t *m, const char *app_id, const char *version)
{
    char *key = key3("ver", app_id, version);
    void *value = NULL;
    size_t len = 0;
    actor_err_t rc =
        key != NULL ? store_get(m->store, key, strlen(key), &value, &len) : ACTOR_ENOMEM;
    free(key);
    if (rc != ACTOR_OK)
        return NULL;
    json_t *json = json_loadb(value, len, 0, NULL);
    free(value);
    marathon_app_t *app = json != NULL ? app_from_record(json) : NULL;
    json_decref(json);
    return app;
}

typedef struct scan {
    marathon_t *m;
    const char *kind;
} scan_t;

static void add_version(marathon_app_entry_t *e, const char *version)
{
    char **v = realloc(e->versions, (e->version_count + 1) * sizeof(*v));
    if (v == NULL || (v[e->version_count] = strdup(version)) == NULL) {
        if (v != NULL)
            e->versions = v;
        return;
    }
    e->versions = v;
    e->version_count++;
}

static bool recover_record(void *arg, const void *key, size_t key_len, const void *value,
                           size_t value_len)
{
    scan_t *s = arg;
    marathon_t *m = s->m;
    json_t *json = json_loadb(value, value_len, 0, NULL);
    if (json == NULL) {
        LOG_WARNING("Skipping an unreadable record %.*s", (int)key_len, (const char *)key);
        return true;
    }
    if (strcmp(s->kind, "app") == 0) {
        marathon_app_t *app = app_from_record(json);
        marathon_app_entry_t *e = app != NULL ? calloc(1, sizeof(*e)) : NULL;
        if (e != NULL && (e->id = strdup(app->id)) != NULL) {
            e->app = app;
            HASH_ADD_KEYPTR(hh, m->apps, e->id, strlen(e->id), e);
        } else {
            free(e);
            marathon_app_free(app);
        }
    } else if (strcmp(s->kind, "ver") == 0) {
        const char *id = json_string_value(json_object_get(json, "id"));
        const char *version = json_string_value(json_object_get(json, "version"));
        marathon_app_entry_t *e = id != NULL ? marathon_app_find(m, id) : NULL;
        if (e != NULL && version != NULL)
            add_version(e, version);
    } else if (strcmp(s->kind, "inst") == 0) {
        const char *app_id = json_string_value(json_object_get(json, "appId"));
        marathon_app_entry_t *e = app_id != NULL ? marathon_app_find(m, app_id) : NULL;
        json_t *ports = json_object_get(json, "ports");
        uint32_t port_values[64];
        size_t n = 0;
        for (size_t k = 0; k < json_array_size(ports) && n < 64; k++)
            port_values[n++] = (uint32_t)json_integer_value(json_array_get(ports, k));
        marathon_instance_t *i =
            e != NULL
                ? marathon_instance_add(m, e, json_string_value(json_object_get(json, "taskId")),
                                        json_string_value(json_object_get(json, "agentId")),
                                        json_string_value(json_object_get(json, "host")),
                                        port_values, n)
                : NULL;
        if (i != NULL) {
            const char *version = json_string_value(json_object_get(json, "version"));
            free(i->version);
            i->version = strdup(version ? version : "");
            i->state = (int)json_integer_value(json_object_get(json, "state"));
            snprintf(i->staged_at, sizeof(i->staged_at), "%s",
                     json_string_value(json_object_get(json, "stagedAt")) ?: "");
            snprintf(i->started_at, sizeof(i->started_at), "%s",
                     json_string_value(json_object_get(json, "startedAt")) ?: "");
            i->staged_time = json_real_value(json_object_get(json, "stagedTime"));
            i->killing = json_is_true(json_object_get(json, "killing"));
            i->unreachable_since = json_number_value(json_object_get(json, "unreachableSince"));
            i->unreachable = i->unreachable_since > 0;
        }
    } else if (strcmp(s->kind, "dep") == 0) {
        marathon_deployment_t *d = calloc(1, sizeof(*d));
        json_t *original = json_object_get(json, "original");
        json_t *target = json_object_get(json, "target");
        if (d != NULL) {
            d->id = strdup(json_string_value(json_object_get(json, "id")) ?: "");
            d->version = strdup(json_string_value(json_object_get(json, "version")) ?: "");
            d->app_id = strdup(json_string_value(json_object_get(json, "appId")) ?: "");
            d->action = (marathon_action_t)json_integer_value(json_object_get(json, "action"));
            d->original = json_is_object(original) ? app_from_record(original) : NULL;
            d->target = json_is_object(target) ? app_from_record(target) : NULL;
            marathon_app_entry_t *e = marathon_app_find(m, d->app_id);
            if (e != NULL)
                e->deployment = d;
            HASH_ADD_KEYPTR(hh, m->deployments, d->id, strlen(d->id), d);
        }
    }
    json_decref(json);
    return true;
}

void marathon_storage_recover(marathon_t *m)
{
    void *value = NULL;
    size_t len = 0;
    if (store_get(m->store, "fwid", 4, &value, &len) == ACTOR_OK) {
        m->framework_id = strndup(value, len);
        free(value);
    }
    /* Apps first: versions, instances and deployments attach to them. */
    static const char *const kinds[] = {"app", "ver", "inst", "dep"};
    for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
        char prefix[8];
        int n = snprintf(prefix, sizeof(prefix), "%s" SEP, kinds[k]);
        scan_t s = {.m = m, .kind = kinds[k]};
        store_scan(m->store, prefix, (size_t)n, recover_record, &s);
    }
    LOG_INFO("Recovered %u apps, %u instances, %u deployments%s%s", (unsigned)HASH_COUNT(m->apps),
             (unsigned)HASH_COUNT(m->instances), (unsigned)HASH_COUNT(m->deployments),
             m->framework_id ? "; framework " : "", m->framework_id ? m->framework_id : "");
}
