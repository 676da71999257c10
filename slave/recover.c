/*
 * recover.c: an agent restarted on the same --work_dir (after kill -9 too) picks up where it
 * left off, as Mesos's agent recovery does:
 *
 *   1. its id, so that it reregisters as the same agent;
 *   2. the frameworks that checkpoint, their executors, tasks and unacknowledged status updates;
 *   3. each executor whose process still runs (same boot, pid alive) is asked to reconnect
 *      (ReconnectExecutorMessage; it answers ReregisterExecutorMessage with the updates the agent
 *      had not acknowledged); one that is gone ends its tasks TASK_FAILED; one that does not
 *      answer within the reregistration timeout is destroyed;
 *   4. cgroups left by containers it does not know are destroyed;
 *   5. then it reregisters with the master, reporting its tasks, and resends pending updates.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actor/log.h"
#include "actor/pbcopy.h"
#include "proto/task_states.h"
#include "slave/agent_int.h"
#include "slave/files/files.h"

#define SEP                                '\x1f'
#define EXECUTOR_REREGISTRATION_TIMEOUT_NS (2 * ACTOR_NS_PER_SEC) /* Mesos's default */

/* What a scan collects: packed values of one kind with their keys. */
typedef struct record {
    char *key;
    ProtobufCMessage *msg;
} record_t;

typedef struct scan {
    const ProtobufCMessageDescriptor *desc;
    record_t *items;
    size_t count, cap;
} scan_t;

static bool collect(void *arg, const void *key, size_t key_len, const void *value, size_t value_len)
{
    scan_t *s = arg;
    ProtobufCMessage *msg = protobuf_c_message_unpack(s->desc, NULL, value_len, value);
    if (msg == NULL) {
        LOG_WARNING("Skipping an unreadable checkpoint record (%.*s)", (int)key_len,
                    (const char *)key);
        return true;
    }
    if (s->count == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 16;
        record_t *items = realloc(s->items, cap * sizeof(*items));
        if (items == NULL) {
            protobuf_c_message_free_unpacked(msg, NULL);
            return false;
        }
        s->items = items;
        s->cap = cap;
    }
    s->items[s->count].key = strndup(key, key_len);
    s->items[s->count++].msg = msg;
    return true;
}

static void scan_kind(agent_t *a, const char *kind, const ProtobufCMessageDescriptor *desc,
                      scan_t *out)
{
    memset(out, 0, sizeof(*out));
    out->desc = desc;
    char prefix[16];
    int n = snprintf(prefix, sizeof(prefix), "%s%c", kind, SEP);
    store_scan(a->store, prefix, (size_t)n, collect, out);
}

/* Frees the scan's keys, and the messages not taken (set to NULL by the taker). */
static void scan_free(scan_t *s)
{
    for (size_t i = 0; i < s->count; i++) {
        free(s->items[i].key);
        if (s->items[i].msg != NULL)
            protobuf_c_message_free_unpacked(s->items[i].msg, NULL);
    }
    free(s->items);
}

/* The agent's id and whether this is the boot its executors started in. */
static bool recover_agent(agent_t *a)
{
    void *value = NULL;
    size_t len = 0;
    if (store_get(a->store, "agent", 5, &value, &len) != ACTOR_OK)
        return false;
    Mesos__AgentInfo *info = mesos__agent_info__unpack(NULL, len, value);
    free(value);
    if (info == NULL || info->id == NULL) {
        if (info != NULL)
            mesos__agent_info__free_unpacked(info, NULL);
        return false;
    }
    a->agent_id = strdup(info->id->value);
    a->info->id = PB_COPY(Mesos__AgentID, info->id);
    mesos__agent_info__free_unpacked(info, NULL);
    if (a->agent_id != NULL)
        agent_sandbox_root_init(a);
    char boot[64] = "";
    bool same_boot = false;
    if (store_get(a->store, "boot", 4, &value, &len) == ACTOR_OK) {
        same_boot = agent_boot_id(boot, sizeof(boot)) && strlen(boot) == len &&
                    memcmp(boot, value, len) == 0;
        free(value);
    }
    return same_boot;
}

static agent_executor_t *recover_executor(agent_t *a, Mesos__Internal__CheckpointedExecutor *ce,
                                          const char *fid)
{
    agent_framework_t *f = agent_framework_find(a, fid);
    agent_executor_t *e = calloc(1, sizeof(*e));
    if (f == NULL || e == NULL || ce->info == NULL || ce->info->executor_id == NULL) {
        free(e);
        return NULL;
    }
    e->framework = f;
    e->id = strdup(ce->info->executor_id->value);
    e->info = ce->info;
    ce->info = NULL; /* taken */
    e->command_executor = ce->has_command_executor && ce->command_executor;
    snprintf(e->container_id, sizeof(e->container_id), "%s", ce->container_id);
    e->directory = strdup(ce->directory);
    e->os_pid = ce->has_forked_pid ? ce->forked_pid : 0;
    e->has_pid = ce->pid != NULL && actor_pid_parse(ce->pid, &e->pid) == ACTOR_OK;
    e->in_cgroups = ce->has_in_cgroups && ce->in_cgroups && a->cgroups != NULL;
    e->exit_status = -1;
    e->started_time = agent_now();
    e->state = EXECUTOR_REGISTERING;
    resources_init(&e->resources);
    if (e->id == NULL || e->directory == NULL) {
        agent_executor_free(e);
        return NULL;
    }
    HASH_ADD_KEYPTR(hh, f->executors, e->id, strlen(e->id), e);
    return e;
}

static void recover_task(agent_t *a, Mesos__Internal__CheckpointedTask *ct, const char *fid)
{
    const Mesos__TaskInfo *info = ct->info;
    const char *eid =
        info->executor != NULL ? info->executor->executor_id->value : info->task_id->value;
    agent_framework_t *f = agent_framework_find(a, fid);
    agent_executor_t *e = NULL;
    if (f != NULL)
        HASH_FIND_STR(f->executors, eid, e);
    if (e != NULL && agent_task_lookup(a, fid, info->task_id->value) != NULL) {
        /* Task ids are unique within a framework; the agent never checkpoints two alike. */
        LOG_WARNING("Skipping a second checkpointed task %s of framework %s", info->task_id->value,
                    fid);
        return;
    }
    agent_task_t *t = calloc(1, sizeof(*t));
    char err[256];
    if (e == NULL || t == NULL) {
        free(t);
        return;
    }
    resources_init(&t->resources);
    t->id = strdup(info->task_id->value);
    if (t->id == NULL) {
        LOG_ERROR("Out of memory recovering task %s of framework %s", info->task_id->value, fid);
        free(t);
        return;
    }
    t->executor = e;
    t->state = ct->state;
    t->info = ct->info;
    t->status = ct->status;
    ct->info = NULL;
    ct->status = NULL;
    resources_from_proto(&t->resources, t->info->resources, t->info->n_resources, err, sizeof(err));
    if (mesos_task_state_terminal(t->state)) {
        agent_task_add(&e->terminated, t);
        return;
    }
    agent_task_add(&e->launched, t);
    resources_add(&e->resources, &t->resources);
    resources_add(&a->used, &t->resources);
}

/* The ids in a key "kind<SEP>a<SEP>b..." (modified in place). */
static char *key_field(char *key, int index)
{
    char *p = key;
    for (int i = 0; i < index && p != NULL; i++) {
        p = strchr(p, SEP);
        if (p != NULL)
            *p++ = '\0';
    }
    if (p != NULL) {
        char *end = strchr(p, SEP);
        if (end != NULL)
            *end = '\0';
    }
    return p;
}

static void reregistration_timeout(actor_t *self, void *state, void *arg)
{
    (void)arg;
    if (self == NULL)
        return;
    agent_t *a = state;
    if (a->recovered)
        return;
    for (agent_framework_t *f = a->frameworks; f != NULL; f = f->hh.next) {
        agent_executor_t *e, *tmp;
        HASH_ITER(hh, f->executors, e, tmp)
        {
            if (e->reconnecting) {
                LOG_WARNING("Executor %s of framework %s did not reregister: destroying it", e->id,
                            f->id);
                e->reconnecting = false;
                agent_container_destroy(a, e);
            }
        }
    }
    a->reconnecting = 0;
    agent_recovery_done(a);
}

/* Destroys the cgroups of containers no recovered executor owns. */
static void destroy_orphans(agent_t *a)
{
    char **ids = NULL, err[256];
    size_t count = 0;
    if (a->cgroups == NULL || cgroups_list(a->cgroups, &ids, &count, err, sizeof(err)) != 0)
        return;
    for (size_t i = 0; i < count; i++) {
        bool known = false;
        for (agent_framework_t *f = a->frameworks; f != NULL && !known; f = f->hh.next) {
            for (agent_executor_t *e = f->executors; e != NULL && !known; e = e->hh.next)
                known = strcmp(e->container_id, ids[i]) == 0;
        }
        if (!known) {
            LOG_INFO("Destroying orphaned container %s", ids[i]);
            if (cgroups_destroy(a->cgroups, ids[i], err, sizeof(err)) != 0)
                LOG_WARNING("Failed to destroy orphaned container %s: %s", ids[i], err);
        }
    }
    cgroups_list_free(ids, count);
}

void agent_recover(agent_t *a)
{
    bool same_boot = recover_agent(a);
    scan_t fws, exs, tasks, updates;
    scan_kind(a, "fw", &mesos__framework_info__descriptor, &fws);
    scan_kind(a, "ex", &mesos__internal__checkpointed_executor__descriptor, &exs);
    scan_kind(a, "task", &mesos__internal__checkpointed_task__descriptor, &tasks);
    scan_kind(a, "upd", &mesos__internal__status_update__descriptor, &updates);
    for (size_t i = 0; i < fws.count; i++) {
        agent_framework_t *f = calloc(1, sizeof(*f));
        if (f == NULL || (f->id = strdup(key_field(fws.items[i].key, 1))) == NULL) {
            free(f);
            continue;
        }
        f->info = (Mesos__FrameworkInfo *)fws.items[i].msg;
        fws.items[i].msg = NULL;
        HASH_ADD_KEYPTR(hh, a->frameworks, f->id, strlen(f->id), f);
    }
    agent_executor_t **recovered = calloc(exs.count + 1, sizeof(*recovered));
    size_t n = 0;
    for (size_t i = 0; i < exs.count && recovered != NULL; i++) {
        agent_executor_t *e =
            recover_executor(a, (Mesos__Internal__CheckpointedExecutor *)exs.items[i].msg,
                             key_field(exs.items[i].key, 1));
        if (e != NULL)
            recovered[n++] = e;
    }
    for (size_t i = 0; i < tasks.count; i++)
        recover_task(a, (Mesos__Internal__CheckpointedTask *)tasks.items[i].msg,
                     key_field(tasks.items[i].key, 1));
    for (size_t i = 0; i < updates.count; i++) {
        char *seq = key_field(updates.items[i].key, 3);
        agent_updates_recover(a, (Mesos__Internal__StatusUpdate *)updates.items[i].msg,
                              seq != NULL ? strtoull(seq, NULL, 16) : 0);
        updates.items[i].msg = NULL;
    }
    scan_free(&fws);
    scan_free(&exs);
    scan_free(&tasks);
    scan_free(&updates);
    if (a->agent_id != NULL)
        LOG_INFO("Recovered agent %s: %zu frameworks, %zu executors", a->agent_id,
                 (size_t)HASH_COUNT(a->frameworks), n);
    destroy_orphans(a);
    /* Executors still alive reconnect; the others are over. Either way their sandboxes are
     * browsable again, until they are collected, as they were before the restart. */
    for (size_t i = 0; i < n; i++) {
        agent_executor_t *e = recovered[i];
        files_attach_sandbox(&a->files, e->directory);
        if (same_boot && e->has_pid && agent_container_recover(a, e)) {
            Mesos__AgentID aid = MESOS__AGENT_ID__INIT;
            aid.value = a->agent_id;
            Mesos__Internal__ReconnectExecutorMessage m =
                MESOS__INTERNAL__RECONNECT_EXECUTOR_MESSAGE__INIT;
            m.agent_id = &aid;
            actor_send(a->self, &e->pid, &m.base);
            e->reconnecting = true;
            a->reconnecting++;
        } else {
            LOG_INFO("Executor %s of framework %s is gone", e->id, e->framework->id);
            e->reaped = true;
            if (e->failure == NULL)
                e->failure = strdup("Executor terminated while the agent was down");
            agent_container_destroy(a, e);
        }
    }
    free(recovered);
    if (a->reconnecting == 0) {
        agent_recovery_done(a);
        return;
    }
    actor_delay(a->self, EXECUTOR_REREGISTRATION_TIMEOUT_NS, reregistration_timeout, NULL);
}

void agent_on_reregister_executor(actor_t *self, void *state, const actor_pid_t *from,
                                  const ProtobufCMessage *msg)
{
    agent_t *a = state;
    const Mesos__Internal__ReregisterExecutorMessage *m =
        (const Mesos__Internal__ReregisterExecutorMessage *)msg;
    agent_framework_t *f =
        m->framework_id != NULL ? agent_framework_find(a, m->framework_id->value) : NULL;
    agent_executor_t *e = NULL;
    if (f != NULL && m->executor_id != NULL)
        HASH_FIND_STR(f->executors, m->executor_id->value, e);
    if (e == NULL || !e->reconnecting) {
        LOG_WARNING("Shutting down executor %s, which this agent does not expect",
                    AGENT_PID_TEXT(from));
        Mesos__Internal__ShutdownExecutorMessage shut =
            MESOS__INTERNAL__SHUTDOWN_EXECUTOR_MESSAGE__INIT;
        actor_send(self, from, &shut.base);
        return;
    }
    e->reconnecting = false;
    e->pid = *from;
    e->has_pid = true;
    e->state = EXECUTOR_RUNNING;
    agent_checkpoint_executor(a, e);
    for (size_t i = 0; i < m->n_updates; i++)
        agent_update_received(a, m->updates[i], from);
    Mesos__AgentID aid = MESOS__AGENT_ID__INIT;
    aid.value = a->agent_id;
    Mesos__Internal__ExecutorReregisteredMessage reply =
        MESOS__INTERNAL__EXECUTOR_REREGISTERED_MESSAGE__INIT;
    reply.agent_id = &aid;
    reply.agent_info = a->info;
    actor_send(self, from, &reply.base);
    LOG_INFO("Executor %s of framework %s reconnected from %s", e->id, f->id, AGENT_PID_TEXT(from));
    if (a->reconnecting > 0 && --a->reconnecting == 0 && !a->recovered)
        agent_recovery_done(a);
}
