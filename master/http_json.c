/*
 * http_json.c: the master's objects as Mesos's v0 JSON (src/common/http.cpp's model() functions
 * and master/http.cpp's summaries), the shapes scripts written for Mesos read from /state,
 * /slaves, /frameworks and /tasks: `slave_id`, resources as a flat object with ranges as text.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actor/pbjson.h"
#include "master/http_json.h"

static json_t *resources_json(const resources_t *r)
{
    json_t *j = NULL;
    if (resources_to_json(r, &j) != ACTOR_OK || j == NULL)
        return json_object();
    return j;
}

static json_t *ranges_text(const Mesos__Value__Ranges *ranges)
{
    size_t cap = 2 + ranges->n_range * 44, off = 0;
    char *buf = malloc(cap);
    if (buf == NULL)
        return json_string("[]");
    off += (size_t)snprintf(buf + off, cap - off, "[");
    for (size_t i = 0; i < ranges->n_range; i++)
        off += (size_t)snprintf(buf + off, cap - off, "%s%llu-%llu", i > 0 ? "," : "",
                                (unsigned long long)ranges->range[i]->begin,
                                (unsigned long long)ranges->range[i]->end);
    snprintf(buf + off, cap - off, "]");
    json_t *j = json_string(buf);
    free(buf);
    return j;
}

json_t *master_json_attributes(Mesos__Attribute *const *attrs, size_t count)
{
    json_t *obj = json_object();
    for (size_t i = 0; i < count; i++) {
        const Mesos__Attribute *a = attrs[i];
        json_t *v = NULL;
        if (a->scalar != NULL)
            v = json_real(a->scalar->value);
        else if (a->ranges != NULL)
            v = ranges_text(a->ranges);
        else if (a->text != NULL)
            v = json_string(a->text->value);
        else if (a->set != NULL) {
            size_t len = 3;
            for (size_t k = 0; k < a->set->n_item; k++)
                len += strlen(a->set->item[k]) + 1;
            char *buf = malloc(len);
            if (buf != NULL) {
                size_t off = (size_t)snprintf(buf, len, "{");
                for (size_t k = 0; k < a->set->n_item; k++)
                    off += (size_t)snprintf(buf + off, len - off, "%s%s", k > 0 ? "," : "",
                                            a->set->item[k]);
                snprintf(buf + off, len - off, "}");
                v = json_string(buf);
                free(buf);
            }
        }
        if (v != NULL)
            json_object_set_new(obj, a->name, v);
    }
    return obj;
}

json_t *master_json_keys(json_t *set)
{
    json_t *keys = json_array();
    const char *key;
    json_t *value;
    json_object_foreach(set, key, value) json_array_append_new(keys, json_string(key));
    json_decref(set);
    return keys;
}

/* ---- tasks ---- */

static void add_extra(json_t *j, const master_task_t *task)
{
    if (task->extra == NULL)
        return;
    Mesos__Task *extra = mesos__task__unpack(NULL, task->extra_len, task->extra);
    if (extra == NULL)
        return;
    json_t *v = NULL;
    if (extra->labels != NULL && pbjson_from_message(&extra->labels->base, &v) == ACTOR_OK)
        json_object_set_new(j, "labels",
                            json_object_get(v, "labels") != NULL
                                ? json_incref(json_object_get(v, "labels"))
                                : json_array());
    json_decref(v);
    v = NULL;
    if (extra->discovery != NULL && pbjson_from_message(&extra->discovery->base, &v) == ACTOR_OK)
        json_object_set_new(j, "discovery", v);
    v = NULL;
    if (extra->health_check != NULL &&
        pbjson_from_message(&extra->health_check->base, &v) == ACTOR_OK)
        json_object_set_new(j, "health_check", v);
    v = NULL;
    if (extra->kill_policy != NULL &&
        pbjson_from_message(&extra->kill_policy->base, &v) == ACTOR_OK)
        json_object_set_new(j, "kill_policy", v);
    if (extra->user != NULL)
        json_object_set_new(j, "user", json_string(extra->user));
    mesos__task__free_unpacked(extra, NULL);
}

json_t *master_json_task(const master_task_t *task)
{
    const master_framework_t *fw = task->framework;
    json_t *statuses = json_array();
    for (size_t i = 0; i < task->status_count; i++) {
        const master_status_entry_t *s = &task->statuses[i];
        json_t *sj = json_pack("{s:s, s:f}", "state", master_state_name(s->state), "timestamp",
                               s->timestamp);
        if (s->has_healthy)
            json_object_set_new(sj, "healthy", json_boolean(s->healthy));
        json_array_append_new(statuses, sj);
    }
    json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:s, s:o}", "id", task->id, "name",
                          task->name, "framework_id", fw->id, "executor_id",
                          task->executor_id != NULL ? task->executor_id : "", "slave_id",
                          task->agent_id, "state", master_state_name(task->state), "resources",
                          resources_json(&task->resources.r), "role",
                          fw->role_count > 0 ? fw->roles[0] : "*", "statuses", statuses);
    const master_status_entry_t *last =
        task->status_count > 0 ? &task->statuses[task->status_count - 1] : NULL;
    if (last != NULL && last->has_healthy)
        json_object_set_new(j, "healthy", json_boolean(last->healthy));
    if (task->unreachable_time > 0)
        json_object_set_new(
            j, "unreachable_time",
            json_pack("{s:I}", "nanoseconds", (json_int_t)(task->unreachable_time * 1e9)));
    add_extra(j, task);
    return j;
}

/* ---- offers ---- */

json_t *master_json_offer(const master_offer_t *offer)
{
    return json_pack("{s:s, s:s, s:s, s:o, s:{s:s}}", "id", offer->id, "framework_id",
                     offer->framework->id, "slave_id", offer->agent->id, "resources",
                     resources_json(&offer->resources), "allocation_info", "role", offer->role);
}

/* ---- frameworks ---- */

static json_t *capabilities_json(const Mesos__FrameworkInfo *info)
{
    json_t *caps = json_array();
    for (size_t i = 0; i < info->n_capabilities; i++) {
        const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(
            &mesos__framework_info__capability__type__descriptor, info->capabilities[i]->type);
        if (v != NULL)
            json_array_append_new(caps, json_string(v->name));
    }
    return caps;
}

static void count_states(json_t *j, const master_framework_t *fw, const master_agent_t *agent)
{
    static const int states[] = {
        MESOS__TASK_STATE__TASK_STAGING,  MESOS__TASK_STATE__TASK_STARTING,
        MESOS__TASK_STATE__TASK_RUNNING,  MESOS__TASK_STATE__TASK_KILLING,
        MESOS__TASK_STATE__TASK_FINISHED, MESOS__TASK_STATE__TASK_KILLED,
        MESOS__TASK_STATE__TASK_FAILED,   MESOS__TASK_STATE__TASK_LOST,
        MESOS__TASK_STATE__TASK_ERROR,    MESOS__TASK_STATE__TASK_UNREACHABLE,
    };
    size_t counts[16] = {0};
    if (fw != NULL) {
        for (const master_task_t *t = fw->tasks; t != NULL; t = t->hh.next)
            counts[t->state & 15]++;
        for (const master_task_t *t = fw->completed_tasks.head; t != NULL; t = t->ring_next)
            counts[t->state & 15]++;
        counts[MESOS__TASK_STATE__TASK_UNREACHABLE] += fw->unreachable_tasks.count;
    } else {
        for (const master_task_t *t = agent->tasks; t != NULL; t = t->agent_next)
            counts[t->state & 15]++;
    }
    for (size_t i = 0; i < sizeof(states) / sizeof(states[0]); i++)
        json_object_set_new(j, master_state_name(states[i]),
                            json_integer((json_int_t)counts[states[i]]));
}

json_t *master_json_framework_summary(const master_framework_t *fw)
{
    char pid[ACTOR_PID_STRLEN] = "";
    if (!actor_pid_is_none(&fw->pid))
        actor_pid_format(&fw->pid, pid, sizeof(pid));
    const Mesos__FrameworkInfo *info = fw->info;
    json_t *j =
        json_pack("{s:s, s:s, s:s, s:o, s:o, s:o, s:s, s:s, s:b, s:b, s:b}", "id", fw->id, "name",
                  info->name, "pid", pid, "used_resources", resources_json(&fw->used),
                  "offered_resources", resources_json(&fw->offered), "capabilities",
                  capabilities_json(info), "hostname", info->hostname != NULL ? info->hostname : "",
                  "webui_url", info->webui_url != NULL ? info->webui_url : "", "active", fw->active,
                  "connected", fw->connected, "recovered", actor_pid_is_none(&fw->pid));
    count_states(j, fw, NULL);
    return j;
}

json_t *master_json_framework(const master_framework_t *fw, bool with_tasks)
{
    json_t *j = master_json_framework_summary(fw);
    const Mesos__FrameworkInfo *info = fw->info;
    json_t *roles = json_array();
    for (size_t i = 0; i < fw->role_count; i++)
        json_array_append_new(roles, json_string(fw->roles[i]));
    resources_t total;
    resources_init(&total);
    resources_add(&total, &fw->used);
    resources_add(&total, &fw->offered);
    json_object_set_new(j, "user", json_string(info->user));
    json_object_set_new(j, "failover_timeout", json_real(info->failover_timeout));
    json_object_set_new(j, "checkpoint", json_boolean(info->has_checkpoint && info->checkpoint));
    json_object_set_new(j, "role", json_string(fw->role_count > 0 ? fw->roles[0] : "*"));
    json_object_set_new(j, "roles", roles);
    json_object_set_new(j, "registered_time", json_real(fw->registered_time));
    json_object_set_new(j, "unregistered_time", json_real(fw->unregistered_time));
    if (fw->reregistered_time > 0)
        json_object_set_new(j, "reregistered_time", json_real(fw->reregistered_time));
    json_object_set_new(j, "resources", resources_json(&total));
    resources_fini(&total);
    if (info->principal != NULL)
        json_object_set_new(j, "principal", json_string(info->principal));
    json_t *labels = NULL;
    if (info->labels != NULL && pbjson_from_message(&info->labels->base, &labels) == ACTOR_OK)
        json_object_set(j, "labels",
                        json_object_get(labels, "labels") ? json_object_get(labels, "labels")
                                                          : json_array());
    json_decref(labels);
    if (!with_tasks)
        return j;
    json_t *tasks = json_array(), *completed = json_array(), *unreachable = json_array(),
           *offers = json_array();
    for (const master_task_t *t = fw->tasks; t != NULL; t = t->hh.next)
        json_array_append_new(tasks, master_json_task(t));
    for (const master_task_t *t = fw->completed_tasks.head; t != NULL; t = t->ring_next)
        json_array_append_new(completed, master_json_task(t));
    for (const master_task_t *t = fw->unreachable_tasks.head; t != NULL; t = t->ring_next)
        json_array_append_new(unreachable, master_json_task(t));
    for (const master_offer_t *o = fw->offers; o != NULL; o = o->fw_next)
        json_array_append_new(offers, master_json_offer(o));
    json_object_set_new(j, "tasks", tasks);
    json_object_set_new(j, "unreachable_tasks", unreachable);
    json_object_set_new(j, "completed_tasks", completed);
    json_object_set_new(j, "offers", offers);
    json_object_set_new(j, "executors", json_array());
    return j;
}

/* ---- agents ---- */

json_t *master_json_agent(const master_agent_t *agent, bool summary)
{
    char pid[ACTOR_PID_STRLEN];
    actor_pid_format(&agent->pid, pid, sizeof(pid));
    resources_t unreserved;
    resources_init(&unreserved);
    for (size_t i = 0; i < agent->total.count; i++) {
        if (strcmp(agent->total.entries[i].role, RESOURCES_ROLE_ANY) == 0) {
            resources_t one = {.entries = &agent->total.entries[i], .count = 1};
            resources_add(&unreserved, &one);
        }
    }
    json_t *j = json_pack(
        "{s:s, s:s, s:s, s:i, s:f, s:o, s:o, s:o, s:o, s:o, s:b, s:b, s:s, s:[]}", "id", agent->id,
        "pid", pid, "hostname", agent->info->hostname, "port",
        agent->info->has_port ? agent->info->port : 5051, "registered_time", agent->registered_time,
        "resources", resources_json(&agent->total), "used_resources", resources_json(&agent->used),
        "offered_resources", resources_json(&agent->offered), "unreserved_resources",
        resources_json(&unreserved), "attributes",
        master_json_attributes(agent->info->attributes, agent->info->n_attributes), "active",
        agent->connected, "deactivated", false, "version", agent->version, "capabilities");
    resources_fini(&unreserved);
    json_object_set_new(j, "reserved_resources", json_object());
    if (agent->reregistered_time > 0)
        json_object_set_new(j, "reregistered_time", json_real(agent->reregistered_time));
    if (summary) {
        count_states(j, NULL, agent);
        json_t *frameworks = json_object(); /* a set: framework id -> true */
        for (const master_task_t *t = agent->tasks; t != NULL; t = t->agent_next)
            json_object_set_new(frameworks, t->framework->id, json_true());
        json_object_set_new(j, "framework_ids", master_json_keys(frameworks));
    }
    return j;
}
