/*
 * api_v1_model.c: the master's objects as the v1 operator API's messages (Mesos's
 * common/protobuf_utils.cpp model() functions and master/http.cpp's _getState and friends):
 * agents, frameworks, tasks, and the GET_STATE family built from them. Everything is built into
 * a pool and borrows from the master's state (api_v1.h).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <utlist.h>

#include "actor/pbjson.h"
#include "master/api_v1.h"

#define NEW(type, desc) ((type *)api_message(pool, &(desc)))

void *api_message(pool_t *pool, const ProtobufCMessageDescriptor *desc)
{
    void *msg = pool_alloc(pool, desc->sizeof_message);
    if (msg != NULL)
        protobuf_c_message_init(desc, msg);
    return msg;
}

/* Room for n pointers from the pool (NULL for none). */
static void *pointers(pool_t *pool, size_t n)
{
    if (n == 0)
        return NULL;
    if (n > SIZE_MAX / sizeof(void *)) {
        pool->failed = true;
        return NULL;
    }
    return pool_alloc(pool, n * sizeof(void *));
}

/* protobuf-c's allocator interface on a pool, so that unpacking needs no freeing. */
static void *pb_alloc(void *data, size_t size)
{
    return pool_alloc(data, size);
}

static void pb_free(void *data, void *ptr)
{
    (void)data, (void)ptr;
}

static Mesos__TimeInfo *model_time(pool_t *pool, double seconds)
{
    Mesos__TimeInfo *t = NEW(Mesos__TimeInfo, mesos__time_info__descriptor);
    if (t != NULL)
        t->nanoseconds = (int64_t)(seconds * 1e9);
    return t;
}

/* ---- resources ---- */

typedef struct proto_list {
    Mesos__Resource **items;
    size_t count;
} proto_list_t;

static void proto_list_free(void *arg)
{
    proto_list_t *list = arg;
    for (size_t i = 0; i < list->count; i++)
        list->items[i]->allocation_info = NULL; /* the pool's */
    resources_proto_free(list->items, list->count);
}

void api_model_resources(pool_t *pool, const resources_t *r, const char *role,
                         Mesos__Resource ***out, size_t *n)
{
    *out = NULL;
    *n = 0;
    if (resources_empty(r))
        return;
    proto_list_t *list = pool_alloc(pool, sizeof(*list));
    if (list == NULL)
        return;
    if (resources_to_proto(r, &list->items, &list->count) != ACTOR_OK) {
        pool->failed = true;
        return;
    }
    if (pool_defer(pool, proto_list_free, list) != ACTOR_OK)
        return;
    Mesos__Resource__AllocationInfo *alloc = NULL;
    if (role != NULL && (alloc = NEW(Mesos__Resource__AllocationInfo,
                                     mesos__resource__allocation_info__descriptor)) != NULL)
        alloc->role = (char *)role;
    for (size_t i = 0; i < list->count; i++)
        list->items[i]->allocation_info = alloc;
    *out = list->items;
    *n = list->count;
}

/* ---- tasks ---- */

/* The fields of the TaskInfo that the master packed aside (tasks.c's keep_extra). */
static void model_task_extra(pool_t *pool, const master_task_t *t, Mesos__Task *task)
{
    if (t->extra == NULL)
        return;
    ProtobufCAllocator allocator = {pb_alloc, pb_free, pool};
    Mesos__Task *extra = mesos__task__unpack(&allocator, t->extra_len, t->extra);
    if (extra == NULL)
        return;
    task->labels = extra->labels;
    task->discovery = extra->discovery;
    task->health_check = extra->health_check;
    task->kill_policy = extra->kill_policy;
    task->user = extra->user;
}

/* The task's latest status, unpacked into the pool with the ids it was kept without. */
static Mesos__TaskStatus *latest_status(pool_t *pool, const master_task_t *t, Mesos__Task *task)
{
    if (t->status == NULL)
        return NULL;
    ProtobufCAllocator allocator = {pb_alloc, pb_free, pool};
    Mesos__TaskStatus *s = mesos__task_status__unpack(&allocator, t->status_len, t->status);
    if (s != NULL) {
        s->task_id = task->task_id;
        s->agent_id = task->agent_id;
    }
    return s;
}

/* The task's status history: the latest status in full, earlier ones as their state and time. */
static void model_task_statuses(pool_t *pool, const master_task_t *t, Mesos__Task *task)
{
    task->statuses = pointers(pool, t->status_count);
    if (task->statuses == NULL)
        return;
    Mesos__TaskStatus *latest = latest_status(pool, t, task);
    for (size_t i = 0; i < t->status_count; i++) {
        const master_status_entry_t *e = &t->statuses[i];
        Mesos__TaskStatus *s;
        if (i + 1 == t->status_count && latest != NULL && (int)latest->state == e->state) {
            s = latest;
        } else if ((s = NEW(Mesos__TaskStatus, mesos__task_status__descriptor)) != NULL) {
            s->task_id = task->task_id;
            s->agent_id = task->agent_id;
            s->state = (Mesos__TaskState)e->state;
            s->has_timestamp = true;
            s->timestamp = e->timestamp;
            s->has_healthy = e->has_healthy;
            s->healthy = e->healthy;
        } else {
            return;
        }
        task->statuses[task->n_statuses++] = s;
    }
}

Mesos__Task *api_model_task(pool_t *pool, const master_task_t *t)
{
    Mesos__Task *task = NEW(Mesos__Task, mesos__task__descriptor);
    Mesos__TaskID *tid = NEW(Mesos__TaskID, mesos__task_id__descriptor);
    Mesos__AgentID *aid = NEW(Mesos__AgentID, mesos__agent_id__descriptor);
    if (task == NULL || tid == NULL || aid == NULL)
        return NULL;
    tid->value = (char *)t->id;
    aid->value = (char *)t->agent_id;
    task->name = (char *)t->name;
    task->task_id = tid;
    task->framework_id = t->framework->info->id;
    task->agent_id = aid;
    task->state = (Mesos__TaskState)t->state;
    if (t->executor_id != NULL) {
        Mesos__ExecutorID *eid = NEW(Mesos__ExecutorID, mesos__executor_id__descriptor);
        if (eid != NULL)
            eid->value = (char *)t->executor_id;
        task->executor_id = eid;
    }
    api_model_resources(pool, &t->resources.r, NULL, &task->resources, &task->n_resources);
    model_task_statuses(pool, t, task);
    if (t->status_update_uuid_len > 0) {
        task->has_status_update_state = true;
        task->status_update_state = (Mesos__TaskState)t->status_update_state;
        task->has_status_update_uuid = true;
        task->status_update_uuid.data = (uint8_t *)t->status_update_uuid;
        task->status_update_uuid.len = t->status_update_uuid_len;
    }
    model_task_extra(pool, t, task);
    return task;
}

/* Appends the model of t to list; false when memory ran out. */
static bool append_task(pool_t *pool, Mesos__Task **list, size_t *n, const master_task_t *t)
{
    Mesos__Task *task = api_model_task(pool, t);
    if (task != NULL)
        list[(*n)++] = task;
    return task != NULL;
}

static bool append_tasks(pool_t *pool, Mesos__Master__Response__GetTasks *out,
                         const master_framework_t *fw)
{
    for (const master_task_t *t = fw->tasks; t != NULL; t = t->hh.next) {
        if (!append_task(pool, out->tasks, &out->n_tasks, t))
            return false;
    }
    for (const master_task_t *t = fw->unreachable_tasks.head; t != NULL; t = t->ring_next) {
        if (!append_task(pool, out->unreachable_tasks, &out->n_unreachable_tasks, t))
            return false;
    }
    for (const master_task_t *t = fw->completed_tasks.head; t != NULL; t = t->ring_next) {
        if (!append_task(pool, out->completed_tasks, &out->n_completed_tasks, t))
            return false;
    }
    return true;
}

/* Both the active and the completed frameworks, as GET_TASKS and GET_FRAMEWORKS see them. */
typedef struct fw_iter {
    master_t *m;
    const master_framework_t *next;
    bool completed; /* next is among the completed frameworks */
} fw_iter_t;

static const master_framework_t *fw_next(fw_iter_t *it)
{
    const master_framework_t *fw = it->next;
    if (fw == NULL && !it->completed) {
        it->completed = true;
        fw = it->m->completed_frameworks.head;
    }
    if (fw != NULL)
        it->next = it->completed ? fw->ring_next : fw->hh.next;
    return fw;
}

Mesos__Master__Response__GetTasks *api_model_tasks(pool_t *pool, master_t *m)
{
    Mesos__Master__Response__GetTasks *out =
        NEW(Mesos__Master__Response__GetTasks, mesos__master__response__get_tasks__descriptor);
    if (out == NULL)
        return NULL;
    size_t active = 0, unreachable = 0, completed = 0;
    fw_iter_t it = {m, m->frameworks, false};
    for (const master_framework_t *fw; (fw = fw_next(&it)) != NULL;) {
        active += HASH_COUNT(fw->tasks);
        unreachable += fw->unreachable_tasks.count;
        completed += fw->completed_tasks.count;
    }
    out->tasks = pointers(pool, active);
    out->unreachable_tasks = pointers(pool, unreachable);
    out->completed_tasks = pointers(pool, completed);
    if (pool->failed)
        return NULL;
    it = (fw_iter_t){m, m->frameworks, false};
    for (const master_framework_t *fw; (fw = fw_next(&it)) != NULL;) {
        if (!append_tasks(pool, out, fw))
            return NULL;
    }
    return out;
}

/* ---- agents ---- */

Mesos__Master__Response__GetAgents__Agent *api_model_agent(pool_t *pool,
                                                           const master_agent_t *agent)
{
    Mesos__Master__Response__GetAgents__Agent *a =
        NEW(Mesos__Master__Response__GetAgents__Agent,
            mesos__master__response__get_agents__agent__descriptor);
    if (a == NULL)
        return NULL;
    a->agent_info = agent->info;
    a->active = agent->connected;
    a->version = agent->version;
    a->pid = agent->pid_key;
    a->registered_time = model_time(pool, agent->registered_time);
    if (agent->reregistered_time > 0)
        a->reregistered_time = model_time(pool, agent->reregistered_time);
    api_model_resources(pool, &agent->total, NULL, &a->total_resources, &a->n_total_resources);
    api_model_resources(pool, &agent->used, NULL, &a->allocated_resources,
                        &a->n_allocated_resources);
    api_model_resources(pool, &agent->offered, NULL, &a->offered_resources,
                        &a->n_offered_resources);
    return a;
}

Mesos__Master__Response__GetAgents *api_model_agents(pool_t *pool, master_t *m)
{
    Mesos__Master__Response__GetAgents *out =
        NEW(Mesos__Master__Response__GetAgents, mesos__master__response__get_agents__descriptor);
    if (out == NULL)
        return NULL;
    out->agents = pointers(pool, HASH_COUNT(m->agents));
    out->recovered_agents = pointers(pool, HASH_COUNT(m->recovered));
    if (pool->failed)
        return NULL;
    for (const master_agent_t *agent = m->agents; agent != NULL; agent = agent->hh.next) {
        if ((out->agents[out->n_agents++] = api_model_agent(pool, agent)) == NULL)
            return NULL;
    }
    for (const master_agent_mark_t *r = m->recovered; r != NULL; r = r->hh.next) {
        if (r->info != NULL)
            out->recovered_agents[out->n_recovered_agents++] = r->info;
    }
    return out;
}

/* ---- frameworks ---- */

static void offer_fini(void *msg)
{
    master_offer_message_fini(msg);
}

static Mesos__Offer *model_offer(pool_t *pool, const master_offer_t *offer)
{
    Mesos__Offer *msg = NEW(Mesos__Offer, mesos__offer__descriptor);
    Mesos__OfferID *oid = NEW(Mesos__OfferID, mesos__offer_id__descriptor);
    Mesos__Resource__AllocationInfo *alloc =
        NEW(Mesos__Resource__AllocationInfo, mesos__resource__allocation_info__descriptor);
    if (msg == NULL || oid == NULL || alloc == NULL)
        return NULL;
    master_offer_message(offer, msg, oid, alloc);
    return pool_defer(pool, offer_fini, msg) == ACTOR_OK ? msg : NULL;
}

static void model_offers(pool_t *pool, const master_framework_t *fw,
                         Mesos__Master__Response__GetFrameworks__Framework *f)
{
    size_t count = 0;
    for (const master_offer_t *o = fw->offers; o != NULL; o = o->fw_next)
        count++;
    if ((f->offers = pointers(pool, count)) == NULL)
        return;
    for (const master_offer_t *o = fw->offers; o != NULL; o = o->fw_next) {
        Mesos__Offer *offer = model_offer(pool, o);
        if (offer == NULL)
            return;
        f->offers[f->n_offers++] = offer;
    }
}

Mesos__Master__Response__GetFrameworks__Framework *api_model_framework(pool_t *pool,
                                                                       const master_framework_t *fw)
{
    Mesos__Master__Response__GetFrameworks__Framework *f =
        NEW(Mesos__Master__Response__GetFrameworks__Framework,
            mesos__master__response__get_frameworks__framework__descriptor);
    if (f == NULL)
        return NULL;
    const char *role = fw->role_count > 0 ? fw->roles[0] : NULL;
    f->framework_info = fw->info;
    f->active = fw->active;
    f->connected = fw->connected;
    f->recovered = actor_pid_is_none(&fw->pid);
    f->registered_time = model_time(pool, fw->registered_time);
    if (fw->reregistered_time > 0)
        f->reregistered_time = model_time(pool, fw->reregistered_time);
    if (fw->unregistered_time > 0)
        f->unregistered_time = model_time(pool, fw->unregistered_time);
    model_offers(pool, fw, f);
    api_model_resources(pool, &fw->used, role, &f->allocated_resources, &f->n_allocated_resources);
    api_model_resources(pool, &fw->offered, role, &f->offered_resources, &f->n_offered_resources);
    return f;
}

Mesos__Master__Response__GetFrameworks *api_model_frameworks(pool_t *pool, master_t *m)
{
    Mesos__Master__Response__GetFrameworks *out =
        NEW(Mesos__Master__Response__GetFrameworks,
            mesos__master__response__get_frameworks__descriptor);
    if (out == NULL)
        return NULL;
    out->frameworks = pointers(pool, HASH_COUNT(m->frameworks));
    out->completed_frameworks = pointers(pool, m->completed_frameworks.count);
    if (pool->failed)
        return NULL;
    for (const master_framework_t *fw = m->frameworks; fw != NULL; fw = fw->hh.next) {
        if ((out->frameworks[out->n_frameworks++] = api_model_framework(pool, fw)) == NULL)
            return NULL;
    }
    for (const master_framework_t *fw = m->completed_frameworks.head; fw != NULL;
         fw = fw->ring_next) {
        Mesos__Master__Response__GetFrameworks__Framework *f = api_model_framework(pool, fw);
        if (f == NULL)
            return NULL;
        out->completed_frameworks[out->n_completed_frameworks++] = f;
    }
    return out;
}

/* ---- executors and the whole state ---- */

Mesos__Master__Response__GetExecutors *api_model_executors(pool_t *pool, master_t *m)
{
    /* The master does not keep executors apart from their tasks (ExecutorInfo is the agent's
     * business here), so the list is empty, as for a cluster of command tasks. */
    (void)m;
    return NEW(Mesos__Master__Response__GetExecutors,
               mesos__master__response__get_executors__descriptor);
}

Mesos__Master__Response__GetState *api_model_state(pool_t *pool, master_t *m)
{
    Mesos__Master__Response__GetState *state =
        NEW(Mesos__Master__Response__GetState, mesos__master__response__get_state__descriptor);
    if (state == NULL)
        return NULL;
    state->get_tasks = api_model_tasks(pool, m);
    state->get_executors = api_model_executors(pool, m);
    state->get_frameworks = api_model_frameworks(pool, m);
    state->get_agents = api_model_agents(pool, m);
    return state;
}

/* ---- rendering ---- */

actor_err_t api_encode(const ProtobufCMessage *msg, bool json, char **out, size_t *len)
{
    if (json) {
        json_t *j = NULL;
        if (pbjson_from_message(msg, &j) != ACTOR_OK)
            return ACTOR_ENOMEM;
        char *text = json_dumps(j, JSON_COMPACT);
        json_decref(j);
        if (text == NULL)
            return ACTOR_ENOMEM;
        *out = text;
        *len = strlen(text);
        return ACTOR_OK;
    }
    size_t n = protobuf_c_message_get_packed_size(msg);
    uint8_t *buf = malloc(n > 0 ? n : 1);
    if (buf == NULL)
        return ACTOR_ENOMEM;
    protobuf_c_message_pack(msg, buf);
    *out = (char *)buf;
    *len = n;
    return ACTOR_OK;
}
