/*
 * agents.c: agents: registration and reregistration (through the registrar), health by
 * ping/pong, disconnection, unreachable and removed agents, and the agents a restarted master
 * waits for.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <utlist.h>

#include "actor/log.h"
#include "actor/pbcopy.h"
#include "master/master_int.h"
#include "master/registrar/registrar.h"

master_agent_t *master_agent_find(master_t *m, const char *id)
{
    master_agent_t *agent = NULL;
    if (id != NULL)
        HASH_FIND_STR(m->agents, id, agent);
    return agent;
}

master_agent_t *master_agent_find_pid(master_t *m, const actor_pid_t *pid)
{
    char key[ACTOR_PID_STRLEN];
    master_agent_t *agent = NULL;
    actor_pid_format(pid, key, sizeof(key));
    HASH_FIND(hh_pid, m->agents_by_pid, key, strlen(key), agent);
    return agent;
}

static master_agent_mark_t *mark_find(master_agent_mark_t *table, const char *id)
{
    master_agent_mark_t *mark = NULL;
    HASH_FIND_STR(table, id, mark);
    return mark;
}

static void mark_free(master_agent_mark_t *mark)
{
    if (mark->info != NULL)
        mesos__agent_info__free_unpacked(mark->info, NULL);
    free(mark->id);
    free(mark);
}

void master_marks_free(master_agent_mark_t **marks)
{
    master_agent_mark_t *mark, *tmp;
    HASH_ITER(hh, *marks, mark, tmp)
    {
        HASH_DEL(*marks, mark);
        mark_free(mark);
    }
}

static void mark_remove(master_agent_mark_t **table, const char *id)
{
    master_agent_mark_t *mark = mark_find(*table, id);
    if (mark != NULL) {
        HASH_DEL(*table, mark);
        mark_free(mark);
    }
}

master_agent_mark_t *master_mark_add(master_agent_mark_t **table, const char *id, double time)
{
    mark_remove(table, id);
    master_agent_mark_t *mark = calloc(1, sizeof(*mark));
    if (mark == NULL || (mark->id = strdup(id)) == NULL) {
        free(mark);
        return NULL;
    }
    mark->time = time;
    HASH_ADD_KEYPTR(hh, *table, mark->id, strlen(mark->id), mark);
    return mark;
}

/* ---- pending registrations ---- */

static bool pending_has(master_t *m, const char *key);

static bool pending_add(master_t *m, const char *key)
{
    if (pending_has(m, key))
        return false;
    master_pending_agent_t *p = calloc(1, sizeof(*p));
    if (p == NULL || (p->key = strdup(key)) == NULL) {
        free(p);
        return false;
    }
    HASH_ADD_KEYPTR(hh, m->pending, p->key, strlen(p->key), p);
    return true;
}

static bool pending_has(master_t *m, const char *key)
{
    master_pending_agent_t *p = NULL;
    HASH_FIND_STR(m->pending, key, p);
    return p != NULL;
}

static void pending_remove(master_t *m, const char *key)
{
    master_pending_agent_t *p = NULL;
    HASH_FIND_STR(m->pending, key, p);
    if (p != NULL) {
        HASH_DEL(m->pending, p);
        free(p->key);
        free(p);
    }
}

/* ---- the agent struct ---- */

void master_agent_free(master_agent_t *agent)
{
    if (agent->info != NULL)
        mesos__agent_info__free_unpacked(agent->info, NULL);
    resources_fini(&agent->total);
    resources_fini(&agent->used);
    resources_fini(&agent->offered);
    free(agent->version);
    free(agent->pid_key);
    free(agent->id);
    free(agent);
}

static void set_pid(master_t *m, master_agent_t *agent, const actor_pid_t *pid)
{
    char key[ACTOR_PID_STRLEN];
    actor_pid_format(pid, key, sizeof(key));
    if (agent->pid_key != NULL) {
        HASH_DELETE(hh_pid, m->agents_by_pid, agent);
        free(agent->pid_key);
    }
    agent->pid = *pid;
    agent->pid_key = strdup(key);
    if (agent->pid_key != NULL)
        HASH_ADD_KEYPTR(hh_pid, m->agents_by_pid, agent->pid_key, strlen(agent->pid_key), agent);
}

static master_agent_t *agent_new(master_t *m, const Mesos__AgentInfo *info, const actor_pid_t *pid,
                                 const char *version)
{
    master_agent_t *agent = calloc(1, sizeof(*agent));
    if (agent == NULL)
        return NULL;
    resources_init(&agent->total);
    resources_init(&agent->used);
    resources_init(&agent->offered);
    agent->id = strdup(info->id->value);
    agent->info = PB_COPY(Mesos__AgentInfo, info);
    agent->version = strdup(version != NULL ? version : MESOS_VERSION);
    if (agent->id == NULL || agent->info == NULL || agent->version == NULL ||
        resources_from_proto(&agent->total, info->resources, info->n_resources, NULL, 0) !=
            ACTOR_OK) {
        master_agent_free(agent);
        return NULL;
    }
    agent->connected = true;
    agent->pong = true;
    agent->registered_time = master_now();
    HASH_ADD_KEYPTR(hh, m->agents, agent->id, strlen(agent->id), agent);
    set_pid(m, agent, pid);
    return agent;
}

static void agent_forget(master_t *m, master_agent_t *agent)
{
    HASH_DEL(m->agents, agent);
    if (agent->pid_key != NULL)
        HASH_DELETE(hh_pid, m->agents_by_pid, agent);
    master_agent_free(agent);
}

static void fill_connection(master_t *m, Mesos__Internal__MasterAgentConnection *c)
{
    c->has_total_ping_timeout_seconds = true;
    c->total_ping_timeout_seconds = (double)m->opts.agent_ping_timeout_ns *
                                    (double)m->opts.max_agent_ping_timeouts /
                                    (double)ACTOR_NS_PER_SEC;
}

static void send_shutdown(actor_t *self, const actor_pid_t *to, const char *message)
{
    Mesos__Internal__ShutdownMessage msg = MESOS__INTERNAL__SHUTDOWN_MESSAGE__INIT;
    msg.message = (char *)message;
    actor_send(self, to, &msg.base);
}

/* Checks an AgentInfo as Mesos does before admitting it; *why on failure. */
static bool agent_info_valid(const Mesos__AgentInfo *info, const char **why)
{
    if (info->hostname == NULL || info->hostname[0] == '\0') {
        *why = "Agent hostname must not be empty";
        return false;
    }
    resources_t total;
    resources_init(&total);
    char err[256];
    actor_err_t rc =
        resources_from_proto(&total, info->resources, info->n_resources, err, sizeof(err));
    resources_fini(&total);
    if (rc != ACTOR_OK) {
        *why = "Agent resources are invalid";
        return false;
    }
    return true;
}

/* ---- registration ---- */

typedef struct admit_ctx {
    Mesos__AgentInfo *info;
    actor_pid_t pid;
    char *version;
    char *key;                                   /* of m->pending */
    Mesos__Internal__ReregisterAgentMessage *re; /* reregistration: the agent's report */
} admit_ctx_t;

static void admit_ctx_free(admit_ctx_t *ctx)
{
    if (ctx->info != NULL)
        mesos__agent_info__free_unpacked(ctx->info, NULL);
    if (ctx->re != NULL)
        mesos__internal__reregister_agent_message__free_unpacked(ctx->re, NULL);
    free(ctx->version);
    free(ctx->key);
    free(ctx);
}

/* Links to an agent that comes back, on a fresh stream: the old one may be stale (a partition
 * swallowed its packets and the kernel retransmits them only seconds from now), and the answer
 * and the pings that follow must reach the agent before the master counts missed pongs. */
static void relink_agent(actor_t *self, const master_agent_t *agent)
{
    actor_err_t err = actor_relink(self, &agent->pid);
    if (err != ACTOR_OK)
        LOG_WARNING("Failed to reconnect to agent %s at %s: %s", agent->id, agent->pid_key,
                    actor_strerror(err));
}

static void send_registered(actor_t *self, master_t *m, master_agent_t *agent)
{
    Mesos__Internal__AgentRegisteredMessage reply = MESOS__INTERNAL__AGENT_REGISTERED_MESSAGE__INIT;
    Mesos__Internal__MasterAgentConnection connection =
        MESOS__INTERNAL__MASTER_AGENT_CONNECTION__INIT;
    fill_connection(m, &connection);
    reply.agent_id = agent->info->id;
    reply.connection = &connection;
    actor_send(self, &agent->pid, &reply.base);
}

static void admitted(actor_t *self, void *state, void *arg, bool applied)
{
    admit_ctx_t *ctx = arg;
    if (self == NULL) {
        admit_ctx_free(ctx);
        return;
    }
    master_t *m = state;
    pending_remove(m, ctx->key);
    if (!applied) {
        LOG_WARNING("The registrar refused to admit agent %s", ctx->info->id->value);
        admit_ctx_free(ctx);
        return;
    }
    master_agent_t *agent = agent_new(m, ctx->info, &ctx->pid, ctx->version);
    if (agent == NULL) {
        LOG_ERROR("Out of memory adding agent %s", ctx->info->id->value);
        admit_ctx_free(ctx);
        return;
    }
    m->counters.agent_registrations++;
    actor_link(self, &agent->pid);
    allocator_actor_add_agent(&m->allocator, agent->id, &agent->total, NULL, 0);
    master_event_agent_added(m, agent);
    send_registered(self, m, agent);
    LOG_INFO("Registered agent %s at %s (%s)", agent->id, agent->pid_key, agent->info->hostname);
    admit_ctx_free(ctx);
}

void master_handle_register_agent(actor_t *self, void *state, const actor_pid_t *from,
                                  const ProtobufCMessage *msg)
{
    master_t *m = state;
    const Mesos__Internal__RegisterAgentMessage *reg =
        (const Mesos__Internal__RegisterAgentMessage *)msg;
    const char *why;
    m->counters.messages_register++;
    if (!agent_info_valid(reg->agent, &why)) {
        LOG_WARNING("Refusing the registration of the agent at %s: %s", from->id, why);
        send_shutdown(self, from, why);
        return;
    }
    master_agent_t *agent = master_agent_find_pid(m, from);
    if (agent != NULL) {
        /* A retry whose answer was lost: answer again. */
        agent->connected = true;
        relink_agent(self, agent);
        send_registered(self, m, agent);
        return;
    }
    char key[ACTOR_PID_STRLEN];
    actor_pid_format(from, key, sizeof(key));
    if (!pending_add(m, key))
        return; /* already being admitted */

    admit_ctx_t *ctx = calloc(1, sizeof(*ctx));
    char id[128];
    snprintf(id, sizeof(id), "%s-S%llu", m->id, (unsigned long long)m->next_agent++);
    Mesos__AgentID aid = MESOS__AGENT_ID__INIT;
    aid.value = id;
    Mesos__AgentInfo info = *reg->agent;
    info.id = &aid;
    if (ctx == NULL || (ctx->info = PB_COPY(Mesos__AgentInfo, &info)) == NULL ||
        (ctx->key = strdup(key)) == NULL ||
        (reg->version != NULL && (ctx->version = strdup(reg->version)) == NULL)) {
        pending_remove(m, key);
        if (ctx != NULL)
            admit_ctx_free(ctx);
        return;
    }
    ctx->pid = *from;
    registrar_op_t op = {.kind = REGISTRAR_ADMIT_AGENT, .agent = ctx->info};
    if (registrar_submit(self, &m->registrar, &op, admitted, ctx) != ACTOR_OK) {
        pending_remove(m, key);
        admit_ctx_free(ctx);
    }
}

/* ---- reregistration ---- */

/* Forgets task `id` among fw's unreachable tasks; whether it was there. */
static bool unreachable_take(master_framework_t *fw, const char *id)
{
    for (master_task_t *u = fw->unreachable_tasks.head; u != NULL; u = u->ring_next) {
        if (strcmp(u->id, id) == 0) {
            DL_DELETE2(fw->unreachable_tasks.head, u, ring_prev, ring_next);
            fw->unreachable_tasks.count--;
            master_task_free(u);
            return true;
        }
    }
    return false;
}

/* Adds task's resources to its framework's entry of used (res holds the resources; *count
 * entries so far, room for one more). */
static void usage_add(allocator_used_t *used, resources_t *res, size_t *count,
                      const master_task_t *task)
{
    const master_framework_t *fw = task->framework;
    size_t j = 0;
    while (j < *count && strcmp(used[j].framework_id, fw->id) != 0)
        j++;
    if (j == *count) {
        resources_init(&res[j]);
        used[j].framework_id = fw->id;
        used[j].agent_id = task->agent->id;
        used[j].role = fw->roles[0];
        used[j].resources = &res[j];
        (*count)++;
    }
    resources_add(&res[j], &task->resources.r);
}

/* Adds what a reregistering agent reports that the master does not know yet: its frameworks and
 * its non-terminal tasks (a task that waited among the unreachable comes back, and its framework
 * hears so). Returns the number of frameworks with added tasks, and in *used_out and *res_out
 * their usage for the allocator, which the caller frees with used_free. */
static size_t add_reported(actor_t *self, master_t *m, master_agent_t *agent,
                           const Mesos__Internal__ReregisterAgentMessage *re,
                           allocator_used_t **used_out, resources_t **res_out)
{
    for (size_t i = 0; i < re->n_frameworks; i++) {
        const Mesos__FrameworkInfo *info = re->frameworks[i];
        if (info->id != NULL && master_framework_removed(m, info->id->value)) {
            /* Torn down while the agent was away: its tasks there must end, as Mesos's master
             * tells a reregistering agent to shut down frameworks it removed. */
            Mesos__Internal__ShutdownFrameworkMessage shut =
                MESOS__INTERNAL__SHUTDOWN_FRAMEWORK_MESSAGE__INIT;
            shut.framework_id = info->id;
            actor_send(self, &agent->pid, &shut.base);
            LOG_INFO("Shutting down removed framework %s on agent %s", info->id->value, agent->id);
            continue;
        }
        master_framework_recover(m, info);
    }
    allocator_used_t *used = calloc(re->n_tasks + 1, sizeof(*used));
    resources_t *res = calloc(re->n_tasks + 1, sizeof(*res));
    size_t count = 0;
    for (size_t i = 0; i < re->n_tasks; i++) {
        const Mesos__Task *t = re->tasks[i];
        master_framework_t *fw = master_framework_find(m, t->framework_id->value);
        master_task_t *task = NULL;
        if (master_state_terminal(t->state))
            continue;
        if (fw == NULL) {
            LOG_WARNING("Agent %s reports task %s of unknown framework %s; ignoring it", agent->id,
                        t->task_id->value, t->framework_id->value);
            continue;
        }
        HASH_FIND_STR(fw->tasks, t->task_id->value, task);
        if (task != NULL)
            continue;
        bool was_unreachable = unreachable_take(fw, t->task_id->value);
        if ((task = master_task_add_reported(fw, agent, t)) == NULL)
            continue;
        master_event_task_added(m, task);
        if (was_unreachable)
            master_send_update(self, fw, task->id, agent->id, task->state,
                               MESOS__TASK_STATUS__REASON__REASON_AGENT_REREGISTERED,
                               "Agent reregistered");
        if (used != NULL && res != NULL)
            usage_add(used, res, &count, task);
    }
    *used_out = used;
    *res_out = res;
    return count;
}

static void used_free(allocator_used_t *used, resources_t *res, size_t count)
{
    for (size_t i = 0; res != NULL && i < count; i++)
        resources_fini(&res[i]);
    free(used);
    free(res);
}

static bool reported(const Mesos__Internal__ReregisterAgentMessage *re, const master_task_t *t)
{
    for (size_t i = 0; i < re->n_tasks; i++) {
        if (strcmp(re->tasks[i]->task_id->value, t->id) == 0 &&
            strcmp(re->tasks[i]->framework_id->value, t->framework->id) == 0)
            return true;
    }
    return false;
}

/* Answers a reregistration. The non-terminal tasks the master believes run on the agent but the
 * agent did not report go back to it, per framework, so that it answers for them (TASK_DROPPED
 * for a lost RunTask, ...). */
static void send_reregistered(actor_t *self, master_t *m, master_agent_t *agent,
                              const Mesos__Internal__ReregisterAgentMessage *re)
{
    size_t n = agent->task_count + 1;
    Mesos__Internal__ReconcileTasksMessage *recs = calloc(n, sizeof(*recs));
    Mesos__Internal__ReconcileTasksMessage **rec_ptrs = calloc(n, sizeof(*rec_ptrs));
    Mesos__TaskStatus *statuses = calloc(n, sizeof(*statuses));
    Mesos__TaskID *tids = calloc(n, sizeof(*tids));
    /* One status list per reconciliation: each reconciliation's statuses point into this array,
     * filled framework by framework. */
    Mesos__TaskStatus **status_ptrs = calloc(n, sizeof(*status_ptrs));
    size_t rec_count = 0, status_count = 0;
    if (recs != NULL && rec_ptrs != NULL && statuses != NULL && tids != NULL &&
        status_ptrs != NULL) {
        for (master_framework_t *fw = m->frameworks; fw != NULL; fw = fw->hh.next) {
            size_t first = status_count;
            for (master_task_t *t = agent->tasks; t != NULL; t = t->agent_next) {
                if (t->framework != fw || reported(re, t))
                    continue;
                mesos__task_id__init(&tids[status_count]);
                tids[status_count].value = (char *)t->id;
                mesos__task_status__init(&statuses[status_count]);
                statuses[status_count].task_id = &tids[status_count];
                statuses[status_count].state = (Mesos__TaskState)t->state;
                status_ptrs[status_count] = &statuses[status_count];
                status_count++;
            }
            if (status_count == first)
                continue;
            mesos__internal__reconcile_tasks_message__init(&recs[rec_count]);
            recs[rec_count].framework_id = fw->info->id;
            recs[rec_count].framework = fw->info;
            recs[rec_count].statuses = &status_ptrs[first];
            recs[rec_count].n_statuses = status_count - first;
            rec_ptrs[rec_count] = &recs[rec_count];
            rec_count++;
        }
    }
    Mesos__Internal__AgentReregisteredMessage reply =
        MESOS__INTERNAL__AGENT_REREGISTERED_MESSAGE__INIT;
    Mesos__Internal__MasterAgentConnection connection =
        MESOS__INTERNAL__MASTER_AGENT_CONNECTION__INIT;
    fill_connection(m, &connection);
    reply.agent_id = agent->info->id;
    reply.connection = &connection;
    reply.reconciliations = rec_ptrs;
    reply.n_reconciliations = rec_count;
    actor_send(self, &agent->pid, &reply.base);
    free(recs);
    free(rec_ptrs);
    free(statuses);
    free(status_ptrs);
    free(tids);
    m->counters.agent_reregistrations++;
    LOG_INFO("Agent %s at %s reregistered", agent->id, agent->pid_key);
}

/* A known agent came back (restarted, or its link broke and healed). */
static void reregister_known(actor_t *self, master_t *m, master_agent_t *agent,
                             const actor_pid_t *from,
                             const Mesos__Internal__ReregisterAgentMessage *re)
{
    if (!actor_pid_equal(&agent->pid, from))
        set_pid(m, agent, from);
    bool was_connected = agent->connected;
    agent->connected = true;
    agent->pong = true;
    agent->missed_pings = 0;
    agent->reregistered_time = master_now();
    relink_agent(self, agent);
    if (!was_connected)
        allocator_actor_activate_agent(&m->allocator, agent->id);
    /* Tasks the master forgot on an agent it knows (it reported them lost when the agent's link
     * broke, say, and they ran on). Their resources may sit in the agent's offers: those go back
     * first, so that nothing is offered twice, and then the allocator counts the usage. */
    allocator_used_t *used = NULL;
    resources_t *res = NULL;
    size_t count = add_reported(self, m, agent, re, &used, &res);
    if (count > 0) {
        while (agent->offers != NULL)
            master_offer_rescind(self, m, agent->offers, true);
        allocator_actor_add_used(&m->allocator, agent->id, used, count);
    }
    used_free(used, res, count);
    send_reregistered(self, m, agent, re);
}

static void readmitted(actor_t *self, void *state, void *arg, bool applied)
{
    admit_ctx_t *ctx = arg;
    if (self == NULL) {
        admit_ctx_free(ctx);
        return;
    }
    master_t *m = state;
    pending_remove(m, ctx->key);
    const char *id = ctx->info->id->value;
    if (!applied) {
        LOG_WARNING("The registrar refused to readmit agent %s", id);
        send_shutdown(self, &ctx->pid, "Agent could not be readmitted");
        admit_ctx_free(ctx);
        return;
    }
    if (mark_find(m->unreachable, id) != NULL)
        m->counters.agents_reachable++;
    mark_remove(&m->unreachable, id);
    mark_remove(&m->recovered, id);
    master_agent_t *agent = agent_new(m, ctx->info, &ctx->pid, ctx->version);
    if (agent == NULL) {
        admit_ctx_free(ctx);
        return;
    }
    agent->reregistered_time = agent->registered_time;
    relink_agent(self, agent);
    master_event_agent_added(m, agent); /* before the tasks it brings */
    allocator_used_t *used = NULL;
    resources_t *res = NULL;
    size_t count = add_reported(self, m, agent, ctx->re, &used, &res);
    allocator_actor_add_agent(&m->allocator, agent->id, &agent->total, used, count);
    used_free(used, res, count);
    send_reregistered(self, m, agent, ctx->re);
    admit_ctx_free(ctx);
}

void master_handle_reregister_agent(actor_t *self, void *state, const actor_pid_t *from,
                                    const ProtobufCMessage *msg)
{
    master_t *m = state;
    const Mesos__Internal__ReregisterAgentMessage *re =
        (const Mesos__Internal__ReregisterAgentMessage *)msg;
    const char *why;
    m->counters.messages_reregister++;
    if (re->agent->id == NULL || re->agent->id->value == NULL || re->agent->id->value[0] == 0) {
        send_shutdown(self, from, "Agent reregistered without an id");
        return;
    }
    if (!agent_info_valid(re->agent, &why)) {
        send_shutdown(self, from, why);
        return;
    }
    const char *id = re->agent->id->value;
    if (mark_find(m->gone, id) != NULL) {
        LOG_WARNING("Refusing agent %s: it was marked gone", id);
        send_shutdown(self, from, "Agent has been marked gone");
        return;
    }
    master_agent_t *agent = master_agent_find(m, id);
    if (agent != NULL) {
        if (agent->removing)
            return; /* being marked unreachable: the agent retries and is readmitted then */
        reregister_known(self, m, agent, from, re);
        return;
    }
    if (!pending_add(m, id))
        return;
    admit_ctx_t *ctx = calloc(1, sizeof(*ctx));
    if (ctx == NULL || (ctx->info = PB_COPY(Mesos__AgentInfo, re->agent)) == NULL ||
        (ctx->key = strdup(id)) == NULL ||
        (ctx->re = PB_COPY(Mesos__Internal__ReregisterAgentMessage, re)) == NULL ||
        (re->version != NULL && (ctx->version = strdup(re->version)) == NULL)) {
        pending_remove(m, id);
        if (ctx != NULL)
            admit_ctx_free(ctx);
        return;
    }
    ctx->pid = *from;
    registrar_op_kind_t kind;
    if (mark_find(m->unreachable, id) != NULL)
        kind = REGISTRAR_MARK_REACHABLE;
    else if (mark_find(m->recovered, id) != NULL)
        kind = REGISTRAR_UPDATE_AGENT; /* admitted before the restart: refresh its info */
    else
        kind = REGISTRAR_ADMIT_AGENT; /* unknown to the registry: readmitted, as Mesos does */
    registrar_op_t op = {.kind = kind, .agent = ctx->info};
    if (registrar_submit(self, &m->registrar, &op, readmitted, ctx) != ACTOR_OK) {
        pending_remove(m, id);
        admit_ctx_free(ctx);
    }
}

/* ---- removal ---- */

void master_agent_remove(actor_t *self, master_t *m, master_agent_t *agent, int state, int reason,
                         bool unreachable)
{
    while (agent->offers != NULL)
        master_offer_rescind(self, m, agent->offers, true);
    double now = master_now();
    while (agent->tasks != NULL) {
        master_task_t *task = agent->tasks;
        int task_state = task->framework->partition_aware ? state : MESOS__TASK_STATE__TASK_LOST;
        master_task_transition(self, m, task, task_state, reason,
                               unreachable ? "Agent is unreachable" : "Agent was removed", true);
        master_task_retire(task, unreachable);
    }
    Mesos__AgentID aid = MESOS__AGENT_ID__INIT;
    aid.value = agent->id;
    Mesos__Scheduler__Event__Failure failure = MESOS__SCHEDULER__EVENT__FAILURE__INIT;
    failure.agent_id = &aid;
    Mesos__Scheduler__Event ev = MESOS__SCHEDULER__EVENT__INIT;
    ev.has_type = true;
    ev.type = MESOS__SCHEDULER__EVENT__TYPE__FAILURE;
    ev.failure = &failure;
    for (master_framework_t *fw = m->frameworks; fw != NULL; fw = fw->hh.next)
        master_send_event(self, fw, &ev);
    allocator_actor_remove_agent(&m->allocator, agent->id);
    if (unreachable)
        master_mark_add(&m->unreachable, agent->id, now);
    master_event_agent_removed(m, agent->id);
    agent_forget(m, agent);
}

typedef struct remove_ctx {
    char *id;
    bool unreachable;
} remove_ctx_t;

static void removed(actor_t *self, void *state, void *arg, bool applied)
{
    remove_ctx_t *ctx = arg;
    if (self != NULL) {
        master_t *m = state;
        master_agent_t *agent = master_agent_find(m, ctx->id);
        if (agent != NULL) {
            agent->removing = false;
            if (applied && ctx->unreachable) {
                m->counters.agents_unreachable++;
                m->counters.agents_unhealthy++;
                LOG_INFO("Marked agent %s unreachable", agent->id);
                master_agent_remove(self, m, agent, MESOS__TASK_STATE__TASK_UNREACHABLE,
                                    MESOS__TASK_STATUS__REASON__REASON_AGENT_REMOVED, true);
            } else if (applied) {
                m->counters.agent_removals++;
                LOG_INFO("Removed agent %s", agent->id);
                master_agent_remove(self, m, agent, MESOS__TASK_STATE__TASK_GONE,
                                    MESOS__TASK_STATUS__REASON__REASON_AGENT_REMOVED, false);
            }
        } else if (applied && ctx->unreachable) {
            /* A recovered agent that never reregistered. */
            mark_remove(&m->recovered, ctx->id);
            master_mark_add(&m->unreachable, ctx->id, master_now());
            m->counters.agents_unreachable++;
            m->counters.recovery_agent_removals++;
            LOG_INFO("Marked agent %s unreachable: it did not reregister after the master "
                     "restarted",
                     ctx->id);
        }
    }
    free(ctx->id);
    free(ctx);
}

static void submit_removal(actor_t *self, master_t *m, const char *id, bool unreachable)
{
    master_agent_t *agent = master_agent_find(m, id);
    if (agent != NULL) {
        if (agent->removing)
            return;
        agent->removing = true;
    }
    remove_ctx_t *ctx = calloc(1, sizeof(*ctx));
    if (ctx == NULL || (ctx->id = strdup(id)) == NULL) {
        free(ctx);
        return;
    }
    ctx->unreachable = unreachable;
    if (unreachable)
        m->counters.agents_unreachable_scheduled++;
    registrar_op_t op = {
        .kind = unreachable ? REGISTRAR_MARK_UNREACHABLE : REGISTRAR_REMOVE_AGENT,
        .agent_id = id,
        .timestamp = master_now(),
    };
    if (registrar_submit(self, &m->registrar, &op, removed, ctx) != ACTOR_OK) {
        if (agent != NULL)
            agent->removing = false;
        free(ctx->id);
        free(ctx);
    }
}

void master_handle_unregister_agent(actor_t *self, void *state, const actor_pid_t *from,
                                    const ProtobufCMessage *msg)
{
    master_t *m = state;
    const Mesos__Internal__UnregisterAgentMessage *un =
        (const Mesos__Internal__UnregisterAgentMessage *)msg;
    m->counters.messages_unregister++;
    master_agent_t *agent = master_agent_find(m, un->agent_id->value);
    if (agent == NULL || !actor_pid_equal(&agent->pid, from)) {
        LOG_WARNING("Ignoring the unregistration of agent %s from %s", un->agent_id->value,
                    from->id);
        return;
    }
    submit_removal(self, m, agent->id, false);
}

/* ---- disconnection ---- */

void master_agent_disconnected(actor_t *self, master_t *m, master_agent_t *agent)
{
    LOG_INFO("Agent %s at %s disconnected", agent->id, agent->pid_key);
    agent->connected = false;
    allocator_actor_deactivate_agent(&m->allocator, agent->id);
    while (agent->offers != NULL)
        master_offer_rescind(self, m, agent->offers, true);
    /* Tasks of frameworks that do not checkpoint cannot survive their agent: Mesos reports them
     * lost at once. */
    master_task_t *task, *next;
    DL_FOREACH_SAFE2(agent->tasks, task, next, agent_next)
    {
        master_framework_t *fw = task->framework;
        if (fw->info->has_checkpoint && fw->info->checkpoint)
            continue;
        master_task_transition(self, m, task, MESOS__TASK_STATE__TASK_LOST,
                               MESOS__TASK_STATUS__REASON__REASON_AGENT_DISCONNECTED,
                               "Agent disconnected", true);
        master_task_retire(task, false);
    }
}

/* ---- health ---- */

static void ping_tick(actor_t *self, void *state, void *arg)
{
    (void)arg;
    if (self == NULL)
        return;
    master_t *m = state;
    master_agent_t *agent, *tmp;
    HASH_ITER(hh, m->agents, agent, tmp)
    {
        if (agent->pong) {
            agent->missed_pings = 0;
        } else if (++agent->missed_pings >= m->opts.max_agent_ping_timeouts) {
            if (!agent->removing) {
                LOG_WARNING("Agent %s missed %u pings; marking it unreachable", agent->id,
                            agent->missed_pings);
                submit_removal(self, m, agent->id, true);
            }
            continue;
        }
        agent->pong = false;
        Mesos__Internal__PingAgentMessage ping = MESOS__INTERNAL__PING_AGENT_MESSAGE__INIT;
        ping.connected = agent->connected;
        actor_send(self, &agent->pid, &ping.base);
    }
    m->ping_timer = actor_delay(self, m->opts.agent_ping_timeout_ns, ping_tick, NULL);
}

void master_agents_start_pings(actor_t *self, master_t *m)
{
    m->ping_timer = actor_delay(self, m->opts.agent_ping_timeout_ns, ping_tick, NULL);
}

void master_handle_pong(actor_t *self, void *state, const actor_pid_t *from,
                        const ProtobufCMessage *msg)
{
    (void)self, (void)msg;
    master_agent_t *agent = master_agent_find_pid(state, from);
    if (agent != NULL)
        agent->pong = true;
}

/* ---- after a master restart ---- */

static void reregister_timeout(actor_t *self, void *state, void *arg)
{
    (void)arg;
    if (self == NULL)
        return;
    master_t *m = state;
    m->recovery_timer = 0;
    master_agent_mark_t *mark, *tmp;
    HASH_ITER(hh, m->recovered, mark, tmp)
    {
        if (!pending_has(m, mark->id))
            submit_removal(self, m, mark->id, true);
    }
}

void master_agents_recover(actor_t *self, master_t *m)
{
    if (m->recovered == NULL)
        return;
    m->recovery_timer =
        actor_delay(self, m->opts.agent_reregister_timeout_ns, reregister_timeout, NULL);
}
