/*
 * tasks.c: the agent's frameworks, executors and tasks: RunTask from the master, executor
 * registration, KillTask, framework and executor shutdown, and the bookkeeping that moves a task
 * from queued (waiting for its executor) to launched, terminated (its terminal update not yet
 * acknowledged) and completed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <utlist.h>

#include "actor/log.h"
#include "actor/pbcopy.h"
#include "actor/uuid.h"
#include "proto/task_states.h"
#include "slave/agent_int.h"
#include "slave/files/files.h"
#include "slave/files/gc.h"

/* Mesos's --max_completed_executors_per_framework and max_completed_tasks_per_executor. */
#define MAX_COMPLETED_EXECUTORS  150
#define MAX_COMPLETED_TASKS      200
#define MAX_COMPLETED_FRAMEWORKS 50

/* ---- lookups ---- */

agent_framework_t *agent_framework_find(agent_t *a, const char *id)
{
    agent_framework_t *f = NULL;
    HASH_FIND_STR(a->frameworks, id, f);
    return f;
}

static agent_executor_t *executor_find(agent_framework_t *f, const char *id)
{
    agent_executor_t *e = NULL;
    if (f != NULL)
        HASH_FIND_STR(f->executors, id, e);
    return e;
}

/* The framework's index (agent_framework_t.tasks) holds exactly the tasks of its executors'
 * queued, launched and terminated tables: a task enters it when it first goes into one of them
 * (agent_task_add), moves between them without leaving it, and leaves it when it is completed
 * or freed with its executor (index_remove). */
static agent_task_t *framework_task(agent_framework_t *f, const char *task_id)
{
    agent_task_t *t = NULL;
    if (f != NULL)
        HASH_FIND(fh, f->tasks, task_id, strlen(task_id), t);
    return t;
}

static void index_remove(agent_task_t *t)
{
    HASH_DELETE(fh, t->executor->framework->tasks, t);
}

bool agent_task_add(agent_task_t **table, agent_task_t *t)
{
    agent_framework_t *f = t->executor->framework;
    if (framework_task(f, t->id) != NULL)
        return false;
    size_t len = strlen(t->id);
    HASH_ADD_KEYPTR(fh, f->tasks, t->id, len, t);
    HASH_ADD_KEYPTR(hh, *table, t->id, len, t);
    return true;
}

agent_task_t *agent_task_find(agent_executor_t *e, const char *task_id)
{
    agent_task_t *t = framework_task(e->framework, task_id);
    return t != NULL && t->executor == e ? t : NULL;
}

agent_task_t *agent_task_lookup(agent_t *a, const char *framework_id, const char *task_id)
{
    return framework_task(agent_framework_find(a, framework_id), task_id);
}

agent_executor_t *agent_executor_of_task(agent_t *a, const char *framework_id, const char *task_id)
{
    agent_task_t *t = agent_task_lookup(a, framework_id, task_id);
    return t != NULL ? t->executor : NULL;
}

/* ---- freeing ---- */

static void task_free(agent_task_t *t)
{
    free(t->id);
    if (t->info != NULL)
        mesos__task_info__free_unpacked(t->info, NULL);
    if (t->status != NULL)
        mesos__task_status__free_unpacked(t->status, NULL);
    resources_fini(&t->resources);
    free(t);
}

static void task_table_free(agent_task_t **table)
{
    agent_task_t *t, *tmp;
    HASH_ITER(hh, *table, t, tmp)
    {
        HASH_DEL(*table, t);
        index_remove(t);
        task_free(t);
    }
}

void agent_executor_free(agent_executor_t *e)
{
    task_table_free(&e->queued);
    task_table_free(&e->launched);
    task_table_free(&e->terminated);
    agent_task_t *t, *tmp;
    DL_FOREACH_SAFE(e->completed, t, tmp)
    {
        DL_DELETE(e->completed, t);
        task_free(t);
    }
    /* Pending registration and shutdown timers are left to fire: they find the executor by its
     * key, find nothing, and free the key. */
    if (e->info != NULL)
        mesos__executor_info__free_unpacked(e->info, NULL);
    resources_fini(&e->resources);
    free(e->id);
    free(e->directory);
    free(e->failure);
    free(e);
}

void agent_framework_free(agent_framework_t *f)
{
    agent_executor_t *e, *tmp;
    HASH_ITER(hh, f->executors, e, tmp)
    {
        HASH_DEL(f->executors, e);
        agent_executor_free(e);
    }
    DL_FOREACH_SAFE(f->completed_executors, e, tmp)
    {
        DL_DELETE(f->completed_executors, e);
        agent_executor_free(e);
    }
    ACTOR_ASSERT(f->tasks == NULL); /* each left with its executor's tables */
    if (f->info != NULL)
        mesos__framework_info__free_unpacked(f->info, NULL);
    free(f->id);
    free(f);
}

/* ---- status updates the agent makes itself ---- */

void agent_send_task_status(agent_t *a, const char *framework_id, const char *executor_id,
                            const char *task_id, Mesos__TaskState state,
                            Mesos__TaskStatus__Reason reason, const char *message)
{
    uint8_t uuid[16];
    actor_uuid_bytes(uuid);
    Mesos__TaskID tid = MESOS__TASK_ID__INIT;
    tid.value = (char *)task_id;
    Mesos__FrameworkID fid = MESOS__FRAMEWORK_ID__INIT;
    fid.value = (char *)framework_id;
    Mesos__ExecutorID eid = MESOS__EXECUTOR_ID__INIT;
    eid.value = (char *)executor_id;
    Mesos__AgentID aid = MESOS__AGENT_ID__INIT;
    aid.value = a->agent_id != NULL ? a->agent_id : "";
    Mesos__TaskStatus status = MESOS__TASK_STATUS__INIT;
    status.task_id = &tid;
    status.state = state;
    status.has_source = true;
    status.source = MESOS__TASK_STATUS__SOURCE__SOURCE_AGENT;
    status.has_reason = reason != 0; /* 0 (REASON_COMMAND_EXECUTOR_FAILED) is never ours: none */
    status.reason = reason;
    status.message = (char *)message;
    status.agent_id = &aid;
    status.executor_id = executor_id != NULL ? &eid : NULL;
    status.has_timestamp = true;
    status.timestamp = agent_now();
    status.has_uuid = true;
    status.uuid.data = uuid;
    status.uuid.len = sizeof(uuid);
    Mesos__Internal__StatusUpdate update = MESOS__INTERNAL__STATUS_UPDATE__INIT;
    update.framework_id = &fid;
    update.executor_id = executor_id != NULL ? &eid : NULL;
    update.agent_id = &aid;
    update.status = &status;
    update.timestamp = status.timestamp;
    update.has_uuid = true;
    update.uuid = status.uuid;
    agent_update_received(a, &update, NULL);
}

/* ---- bookkeeping ---- */

static agent_framework_t *framework_add(agent_t *a, const Mesos__FrameworkInfo *info,
                                        const char *id)
{
    agent_framework_t *f = agent_framework_find(a, id);
    Mesos__FrameworkInfo *copy = PB_COPY(Mesos__FrameworkInfo, info);
    if (copy == NULL)
        return NULL;
    if (f == NULL) {
        HASH_FIND_STR(a->completed_frameworks, id, f);
        if (f != NULL)
            HASH_DEL(a->completed_frameworks, f);
        else if ((f = calloc(1, sizeof(*f))) == NULL || (f->id = strdup(id)) == NULL) {
            free(f);
            mesos__framework_info__free_unpacked(copy, NULL);
            return NULL;
        }
        HASH_ADD_KEYPTR(hh, a->frameworks, f->id, strlen(f->id), f);
    }
    if (f->info != NULL)
        mesos__framework_info__free_unpacked(f->info, NULL);
    f->info = copy;
    f->task_killing_state = false;
    for (size_t i = 0; i < copy->n_capabilities; i++) {
        if (copy->capabilities[i]->type ==
            MESOS__FRAMEWORK_INFO__CAPABILITY__TYPE__TASK_KILLING_STATE)
            f->task_killing_state = true;
    }
    agent_checkpoint_framework(a, f);
    return f;
}

/* The ExecutorInfo of the agent's command executor for a task without one, as Mesos builds it. */
static Mesos__ExecutorInfo *command_executor_info(agent_t *a, const Mesos__TaskInfo *task,
                                                  const char *framework_id)
{
    Mesos__ExecutorID eid = MESOS__EXECUTOR_ID__INIT;
    eid.value = task->task_id->value;
    Mesos__FrameworkID fid = MESOS__FRAMEWORK_ID__INIT;
    fid.value = (char *)framework_id;
    Mesos__CommandInfo cmd = MESOS__COMMAND_INFO__INIT;
    char *path = NULL, *name = NULL;
    if (asprintf(&path, "%s/mesos-executor", a->opts.launcher_dir ? a->opts.launcher_dir : ".") < 0)
        return NULL;
    cmd.value = path;
    cmd.has_shell = true;
    cmd.shell = false;
    const char *command =
        task->command != NULL && task->command->value != NULL ? task->command->value : "";
    if (asprintf(&name, "Command Executor (Task: %s) (Command: sh -c '%.64s%s')",
                 task->task_id->value, command, strlen(command) > 64 ? "..." : "") < 0) {
        free(path);
        return NULL;
    }
    Mesos__ExecutorInfo info = MESOS__EXECUTOR_INFO__INIT;
    info.executor_id = &eid;
    info.framework_id = &fid;
    info.command = &cmd;
    info.name = name;
    info.source = task->task_id->value;
    Mesos__ExecutorInfo *copy = PB_COPY(Mesos__ExecutorInfo, &info);
    free(path);
    free(name);
    return copy;
}

static agent_executor_t *executor_add(agent_t *a, agent_framework_t *f, const Mesos__TaskInfo *task)
{
    agent_executor_t *e = calloc(1, sizeof(*e));
    if (e == NULL)
        return NULL;
    e->framework = f;
    e->command_executor = task->executor == NULL;
    e->info = e->command_executor ? command_executor_info(a, task, f->id)
                                  : PB_COPY(Mesos__ExecutorInfo, task->executor);
    e->id = strdup(e->command_executor ? task->task_id->value : task->executor->executor_id->value);
    actor_uuid_text(e->container_id);
    resources_init(&e->resources);
    e->exit_status = -1;
    e->started_time = agent_now();
    if (e->info == NULL || e->id == NULL ||
        asprintf(&e->directory, "%s/frameworks/%s/executors/%s/runs/%s", a->sandbox_root, f->id,
                 e->id, e->container_id) < 0) {
        e->directory = NULL;
        agent_executor_free(e);
        return NULL;
    }
    if (!e->command_executor) {
        resources_t own;
        resources_init(&own);
        char err[256];
        if (resources_from_proto(&own, e->info->resources, e->info->n_resources, err,
                                 sizeof(err)) == ACTOR_OK) {
            resources_add(&e->resources, &own);
            resources_add(&a->used, &own);
        }
        resources_fini(&own);
    }
    e->state = EXECUTOR_REGISTERING;
    HASH_ADD_KEYPTR(hh, f->executors, e->id, strlen(e->id), e);
    a->executors_registering++;
    agent_checkpoint_executor(a, e);
    return e;
}

static agent_task_t *task_new(const Mesos__TaskInfo *info)
{
    agent_task_t *t = calloc(1, sizeof(*t));
    if (t == NULL)
        return NULL;
    resources_init(&t->resources);
    t->id = strdup(info->task_id->value);
    t->info = PB_COPY(Mesos__TaskInfo, info);
    t->state = MESOS__TASK_STATE__TASK_STAGING;
    char err[256];
    if (t->id == NULL || t->info == NULL ||
        resources_from_proto(&t->resources, info->resources, info->n_resources, err, sizeof(err)) !=
            ACTOR_OK) {
        task_free(t);
        return NULL;
    }
    return t;
}

/* Moves a task from one of its executor's tables to another (it stays in the index). */
static void task_move(agent_task_t **from, agent_task_t **to, agent_task_t *t)
{
    HASH_DEL(*from, t);
    HASH_ADD_KEYPTR(hh, *to, t->id, strlen(t->id), t);
}

/* Sends a task (in e->launched) to its registered executor (or to the simulated
 * containerizer). */
static void deliver_task(agent_t *a, agent_executor_t *e, agent_task_t *t)
{
    if (a->opts.simulated) {
        agent_simulated_run_task(a, e, t);
        return;
    }
    Mesos__Internal__RunTaskMessage run = MESOS__INTERNAL__RUN_TASK_MESSAGE__INIT;
    run.framework = e->framework->info;
    run.framework_id = e->framework->info->id;
    run.task = t->info;
    run.pid = "";
    actor_send(a->self, &e->pid, &run.base);
}

/* Timers name their executor by a key of framework id, container id and executor id, so that a
 * timer of an executor that is gone never touches a later executor of the same id. */
char *agent_executor_key_new(const agent_executor_t *e)
{
    char *key = NULL;
    if (asprintf(&key, "%s\x1f%s\x1f%s", e->framework->id, e->container_id, e->id) < 0)
        return NULL;
    return key;
}

/* The executor a timer key names, NULL if it is gone; frees the key. */
agent_executor_t *agent_executor_by_key(agent_t *a, char *key)
{
    char *cid = strchr(key, '\x1f');
    char *eid = cid != NULL ? strchr(cid + 1, '\x1f') : NULL;
    agent_executor_t *e = NULL;
    if (eid != NULL) {
        *cid++ = '\0';
        *eid++ = '\0';
        e = executor_find(agent_framework_find(a, key), eid);
        if (e != NULL && strcmp(e->container_id, cid) != 0)
            e = NULL;
    }
    free(key);
    return e;
}

static void registration_timeout(actor_t *self, void *state, void *arg)
{
    if (self == NULL) {
        free(arg);
        return;
    }
    agent_t *a = state;
    agent_executor_t *e = agent_executor_by_key(a, arg);
    if (e == NULL || e->state != EXECUTOR_REGISTERING)
        return;
    e->registration_timer = 0;
    LOG_WARNING("Executor %s of framework %s did not register in time: destroying it", e->id,
                e->framework->id);
    if (e->failure == NULL)
        e->failure = strdup("Executor did not register within the executor registration timeout");
    agent_container_destroy(a, e);
}

/* Task ids are unique within a framework (the master refuses duplicates): a RunTask for an id
 * the framework has on the agent is a resent one, and its status updates would share the first
 * task's stream. True (logged) for such an id. */
static bool already_launched(agent_framework_t *f, const char *task_id)
{
    agent_task_t *known = framework_task(f, task_id);
    if (known == NULL)
        return false;
    LOG_WARNING("Ignoring task %s of framework %s: already launched in executor %s", task_id, f->id,
                known->executor->id);
    return true;
}

void agent_on_run_task(actor_t *self, void *state, const actor_pid_t *from,
                       const ProtobufCMessage *msg)
{
    agent_t *a = state;
    const Mesos__Internal__RunTaskMessage *m = (const Mesos__Internal__RunTaskMessage *)msg;
    const Mesos__TaskInfo *task = m->task;
    if (!actor_pid_equal(from, &a->master) || a->state != AGENT_RUNNING) {
        LOG_WARNING("Ignoring a task from %s: the agent is not registered with it",
                    AGENT_PID_TEXT(from));
        return;
    }
    if (m->framework == NULL || m->framework->id == NULL || task == NULL) {
        LOG_WARNING("Ignoring a RunTaskMessage without a framework id or task");
        return;
    }
    const char *fid = m->framework->id->value;
    agent_framework_t *f = framework_add(a, m->framework, fid);
    if (f == NULL) {
        LOG_ERROR("Out of memory adding framework %s", fid);
        return;
    }
    const char *eid =
        task->executor != NULL ? task->executor->executor_id->value : task->task_id->value;
    if (already_launched(f, task->task_id->value))
        return;
    agent_executor_t *e = executor_find(f, eid);
    if (e != NULL && e->state >= EXECUTOR_TERMINATING) {
        agent_send_task_status(a, fid, eid, task->task_id->value, MESOS__TASK_STATE__TASK_DROPPED,
                               MESOS__TASK_STATUS__REASON__REASON_EXECUTOR_TERMINATED,
                               "Executor terminating");
        return;
    }
    agent_task_t *t = task_new(task);
    bool fresh = e == NULL;
    if (fresh && t != NULL)
        e = executor_add(a, f, task);
    if (t == NULL || e == NULL) {
        if (t != NULL)
            task_free(t);
        agent_send_task_status(a, fid, NULL, task->task_id->value, MESOS__TASK_STATE__TASK_FAILED,
                               MESOS__TASK_STATUS__REASON__REASON_CONTAINER_LAUNCH_FAILED,
                               "Out of memory on the agent");
        return;
    }
    t->executor = e;
    bool running = e->state == EXECUTOR_RUNNING;
    agent_task_add(running ? &e->launched : &e->queued, t); /* its id is new: checked above */
    agent_checkpoint_task(a, e, t);
    resources_add(&e->resources, &t->resources);
    resources_add(&a->used, &t->resources);
    a->tasks_launched++;
    LOG_INFO("Launching task %s of framework %s in executor %s", t->id, fid, e->id);
    if (running) {
        deliver_task(a, e, t);
        return;
    }
    if (!fresh)
        return;
    if (a->opts.simulated) {
        agent_simulated_launch(a, e);
        return;
    }
    char *key = agent_executor_key_new(e);
    if (key != NULL) {
        e->registration_timer =
            actor_delay(self, a->opts.executor_registration_timeout_ns, registration_timeout, key);
        if (e->registration_timer == 0)
            free(key);
    }
    agent_container_launch(a, e, task);
}

/* The executor registered: it gets its queued tasks. Shared by real and simulated executors. */
static void executor_registered(agent_t *a, agent_executor_t *e)
{
    e->state = EXECUTOR_RUNNING;
    if (a->executors_registering > 0)
        a->executors_registering--;
    e->registration_timer = 0; /* left to fire: it checks the state and does nothing */
    agent_task_t *t, *tmp;
    HASH_ITER(hh, e->queued, t, tmp)
    {
        task_move(&e->queued, &e->launched, t);
        deliver_task(a, e, t);
    }
}

void agent_on_register_executor(actor_t *self, void *state, const actor_pid_t *from,
                                const ProtobufCMessage *msg)
{
    agent_t *a = state;
    const Mesos__Internal__RegisterExecutorMessage *m =
        (const Mesos__Internal__RegisterExecutorMessage *)msg;
    agent_framework_t *f =
        m->framework_id != NULL ? agent_framework_find(a, m->framework_id->value) : NULL;
    agent_executor_t *e = executor_find(f, m->executor_id != NULL ? m->executor_id->value : "");
    if (e == NULL || e->state != EXECUTOR_REGISTERING) {
        if (e != NULL && e->state == EXECUTOR_RUNNING && actor_pid_equal(&e->pid, from))
            goto reply; /* a retry of a registration we answered */
        LOG_WARNING("Shutting down an unknown or terminating executor at %s", AGENT_PID_TEXT(from));
        Mesos__Internal__ShutdownExecutorMessage shut =
            MESOS__INTERNAL__SHUTDOWN_EXECUTOR_MESSAGE__INIT;
        actor_send(self, from, &shut.base);
        return;
    }
    e->pid = *from;
    e->has_pid = true;
    agent_checkpoint_executor(a, e);
reply:;
    Mesos__AgentID aid = MESOS__AGENT_ID__INIT;
    aid.value = a->agent_id;
    Mesos__Internal__ExecutorRegisteredMessage reply =
        MESOS__INTERNAL__EXECUTOR_REGISTERED_MESSAGE__INIT;
    reply.executor_info = e->info;
    reply.framework_id = f->info->id;
    reply.framework_info = f->info;
    reply.agent_id = &aid;
    reply.agent_info = a->info;
    actor_send(self, from, &reply.base);
    if (e->state == EXECUTOR_REGISTERING) {
        LOG_INFO("Executor %s of framework %s registered from %s", e->id, f->id,
                 AGENT_PID_TEXT(from));
        executor_registered(a, e);
    }
}

/* Called by simulated.c once its executor is "up". */
void agent_simulated_registered(agent_t *a, agent_executor_t *e)
{
    executor_registered(a, e);
}

void agent_task_update_state(agent_t *a, agent_executor_t *e, const Mesos__TaskStatus *status)
{
    agent_task_t *t = agent_task_find(e, status->task_id->value);
    if (t == NULL)
        return;
    Mesos__TaskStatus *copy = PB_COPY(Mesos__TaskStatus, status);
    if (copy != NULL) {
        if (t->status != NULL)
            mesos__task_status__free_unpacked(t->status, NULL);
        t->status = copy;
    }
    bool was_terminal = mesos_task_state_terminal(t->state);
    t->state = status->state;
    agent_checkpoint_task(a, e, t);
    if (was_terminal || !mesos_task_state_terminal(t->state))
        return;
    agent_task_t *queued = NULL;
    HASH_FIND_STR(e->queued, t->id, queued);
    task_move(queued != NULL ? &e->queued : &e->launched, &e->terminated, t);
    resources_subtract(&e->resources, &t->resources);
    resources_subtract(&a->used, &t->resources);
    switch (t->state) {
    case MESOS__TASK_STATE__TASK_FINISHED:
        a->tasks_finished++;
        break;
    case MESOS__TASK_STATE__TASK_FAILED:
        a->tasks_failed++;
        break;
    case MESOS__TASK_STATE__TASK_KILLED:
        a->tasks_killed++;
        break;
    default:
        a->tasks_lost++;
        break;
    }
}

static void sandbox_removed(actor_t *self, void *state, void *arg, gc_outcome_t outcome)
{
    if (self != NULL && outcome == GC_REMOVED)
        files_detach_sandbox(&((agent_t *)state)->files, arg);
    free(arg);
}

/* Completes an executor whose container is gone and whose tasks' updates are all acknowledged:
 * its sandbox goes to the garbage collector, it joins the framework's completed executors, and
 * a framework left without executors joins the completed frameworks. */
static void executor_maybe_complete(agent_t *a, agent_executor_t *e)
{
    /* Archived already when its last task was completed inside agent_executor_terminated (the
     * framework was shut down, so that task's update completed it at once). */
    if (e->archived || e->state != EXECUTOR_TERMINATED || e->queued != NULL ||
        e->launched != NULL || e->terminated != NULL)
        return;
    agent_framework_t *f = e->framework;
    HASH_DEL(f->executors, e);
    e->archived = true;
    agent_checkpoint_forget_executor(a, e);
    /* The sandbox stays browsable until the collector removes it, as in Mesos. */
    char *dir = strdup(e->directory);
    if (dir != NULL &&
        gc_schedule(a->self, &a->gc, dir, a->opts.gc_delay_ns, sandbox_removed, dir) != ACTOR_OK)
        free(dir);
    DL_APPEND(f->completed_executors, e);
    if (++f->completed_count > MAX_COMPLETED_EXECUTORS) {
        agent_executor_t *old = f->completed_executors;
        DL_DELETE(f->completed_executors, old);
        agent_executor_free(old);
        f->completed_count--;
    }
    if (f->executors != NULL)
        return;
    HASH_DEL(a->frameworks, f);
    HASH_ADD_KEYPTR(hh, a->completed_frameworks, f->id, strlen(f->id), f);
    if (HASH_COUNT(a->completed_frameworks) > MAX_COMPLETED_FRAMEWORKS) {
        agent_framework_t *old = a->completed_frameworks;
        HASH_DEL(a->completed_frameworks, old);
        agent_framework_free(old);
    }
}

void agent_task_completed(agent_t *a, const char *framework_id, const char *task_id)
{
    agent_task_t *t = agent_task_lookup(a, framework_id, task_id), *terminated = NULL;
    if (t != NULL)
        HASH_FIND_STR(t->executor->terminated, task_id, terminated);
    if (terminated == NULL)
        return;
    agent_executor_t *e = t->executor;
    HASH_DEL(e->terminated, t);
    index_remove(t);
    agent_checkpoint_forget_task(a, e, t->id);
    DL_APPEND(e->completed, t);
    if (++e->completed_count > MAX_COMPLETED_TASKS) {
        agent_task_t *old = e->completed;
        DL_DELETE(e->completed, old);
        task_free(old);
        e->completed_count--;
    }
    if (a->opts.simulated && e->state == EXECUTOR_RUNNING && e->queued == NULL &&
        e->launched == NULL && e->terminated == NULL) {
        /* A simulated executor has no process to exit once its work is done, as the command
         * executor's does: it ends here. */
        e->exit_status = 0;
        agent_executor_terminated(a, e);
        return;
    }
    executor_maybe_complete(a, e);
}

void agent_executor_terminated(agent_t *a, agent_executor_t *e)
{
    if (e->state == EXECUTOR_TERMINATED)
        return;
    bool killing = e->shut_down && e->failure == NULL && !e->oom;
    if (e->state == EXECUTOR_REGISTERING && a->executors_registering > 0)
        a->executors_registering--;
    e->state = EXECUTOR_TERMINATED;
    a->executors_terminated++;
    Mesos__TaskState state =
        killing ? MESOS__TASK_STATE__TASK_KILLED : MESOS__TASK_STATE__TASK_FAILED;
    Mesos__TaskStatus__Reason reason =
        e->oom ? MESOS__TASK_STATUS__REASON__REASON_CONTAINER_LIMITATION_MEMORY
        : e->failure != NULL && e->has_pid ? MESOS__TASK_STATUS__REASON__REASON_EXECUTOR_TERMINATED
        : e->failure != NULL ? MESOS__TASK_STATUS__REASON__REASON_CONTAINER_LAUNCH_FAILED
                             : MESOS__TASK_STATUS__REASON__REASON_EXECUTOR_TERMINATED;
    const char *message = e->oom               ? "Memory limit exceeded"
                          : e->failure != NULL ? e->failure
                          : killing            ? "Executor was shut down"
                                               : "Executor terminated";
    /* Collect ids first: each update moves its task between tables. */
    size_t n = HASH_COUNT(e->queued) + HASH_COUNT(e->launched), k = 0;
    char **ids = calloc(n + 1, sizeof(*ids));
    agent_task_t *t, *tmp;
    HASH_ITER(hh, e->queued, t, tmp)
    {
        if (ids != NULL)
            ids[k++] = strdup(t->id);
    }
    HASH_ITER(hh, e->launched, t, tmp)
    {
        if (ids != NULL && !mesos_task_state_terminal(t->state))
            ids[k++] = strdup(t->id);
    }
    for (size_t i = 0; i < k; i++) {
        if (ids[i] != NULL)
            agent_send_task_status(a, e->framework->id, e->id, ids[i], state, reason, message);
        free(ids[i]);
    }
    free(ids);
    Mesos__AgentID aid = MESOS__AGENT_ID__INIT;
    aid.value = a->agent_id;
    Mesos__ExecutorID eid = MESOS__EXECUTOR_ID__INIT;
    eid.value = e->id;
    Mesos__Internal__ExitedExecutorMessage exited = MESOS__INTERNAL__EXITED_EXECUTOR_MESSAGE__INIT;
    exited.agent_id = &aid;
    exited.framework_id = e->framework->info->id;
    exited.executor_id = &eid;
    exited.status = e->exit_status;
    agent_send_master(a, &exited.base);
    resources_subtract(&a->used, &e->resources);
    resources_fini(&e->resources);
    resources_init(&e->resources);
    executor_maybe_complete(a, e);
}

/* ---- kill and shutdown ---- */

static void shutdown_executor(agent_t *a, agent_executor_t *e);

void agent_on_kill_task(actor_t *self, void *state, const actor_pid_t *from,
                        const ProtobufCMessage *msg)
{
    agent_t *a = state;
    const Mesos__Internal__KillTaskMessage *m = (const Mesos__Internal__KillTaskMessage *)msg;
    if (!actor_pid_equal(from, &a->master) || m->framework_id == NULL || m->task_id == NULL)
        return;
    const char *fid = m->framework_id->value, *tid = m->task_id->value;
    agent_task_t *t = agent_task_lookup(a, fid, tid);
    if (t == NULL) {
        agent_framework_t *f = agent_framework_find(a, fid);
        bool partition_aware = false;
        for (size_t i = 0; f != NULL && i < f->info->n_capabilities; i++)
            partition_aware |= f->info->capabilities[i]->type ==
                               MESOS__FRAMEWORK_INFO__CAPABILITY__TYPE__PARTITION_AWARE;
        agent_send_task_status(
            a, fid, NULL, tid,
            partition_aware ? MESOS__TASK_STATE__TASK_DROPPED : MESOS__TASK_STATE__TASK_LOST,
            MESOS__TASK_STATUS__REASON__REASON_TASK_UNKNOWN, "Cannot find task on the agent");
        return;
    }
    if (mesos_task_state_terminal(t->state))
        return;
    agent_executor_t *e = t->executor;
    agent_task_t *queued = NULL;
    HASH_FIND_STR(e->queued, tid, queued);
    if (queued != NULL) {
        agent_send_task_status(a, fid, e->id, tid, MESOS__TASK_STATE__TASK_KILLED, 0,
                               "Killed before delivery to the executor");
        if (e->queued == NULL && e->launched == NULL)
            shutdown_executor(a, e);
        return;
    }
    if (a->opts.simulated) {
        agent_simulated_kill_task(a, e, t);
        return;
    }
    actor_send(self, &e->pid, msg);
}

static void shutdown_timeout(actor_t *self, void *state, void *arg)
{
    if (self == NULL) {
        free(arg);
        return;
    }
    agent_t *a = state;
    agent_executor_t *e = agent_executor_by_key(a, arg);
    if (e != NULL && e->state == EXECUTOR_TERMINATING) {
        e->shutdown_timer = 0;
        LOG_WARNING("Executor %s did not exit within the shutdown grace period: destroying it",
                    e->id);
        agent_container_destroy(a, e);
    }
}

/* Asks an executor to stop (it kills its tasks), and destroys its container if it has not
 * exited after the grace period. */
static void shutdown_executor(agent_t *a, agent_executor_t *e)
{
    if (e->state >= EXECUTOR_TERMINATING)
        return;
    bool registered = e->state == EXECUTOR_RUNNING;
    e->state = EXECUTOR_TERMINATING;
    e->shut_down = true;
    if (a->opts.simulated) {
        agent_simulated_shutdown(a, e);
        return;
    }
    if (!registered || !e->has_pid) {
        agent_container_destroy(a, e);
        return;
    }
    Mesos__ExecutorID eid = MESOS__EXECUTOR_ID__INIT;
    eid.value = e->id;
    Mesos__Internal__ShutdownExecutorMessage shut =
        MESOS__INTERNAL__SHUTDOWN_EXECUTOR_MESSAGE__INIT;
    shut.executor_id = &eid;
    shut.framework_id = e->framework->info->id;
    actor_send(a->self, &e->pid, &shut.base);
    char *key = agent_executor_key_new(e);
    if (key == NULL)
        return;
    /* Mesos waits the grace period plus a little, for the executor's own escalation to finish. */
    int64_t grace = a->opts.executor_shutdown_grace_period_ns + ACTOR_NS_PER_SEC;
    e->shutdown_timer = actor_delay(a->self, grace, shutdown_timeout, key);
    if (e->shutdown_timer == 0)
        free(key);
}

void agent_on_shutdown_framework(actor_t *self, void *state, const actor_pid_t *from,
                                 const ProtobufCMessage *msg)
{
    (void)self;
    agent_t *a = state;
    const Mesos__Internal__ShutdownFrameworkMessage *m =
        (const Mesos__Internal__ShutdownFrameworkMessage *)msg;
    if (!actor_pid_equal(from, &a->master) || m->framework_id == NULL)
        return;
    agent_framework_t *f = agent_framework_find(a, m->framework_id->value);
    if (f == NULL)
        return;
    LOG_INFO("Shutting down framework %s", f->id);
    f->shut_down = true;
    agent_updates_drop_framework(a, f->id);
    agent_executor_t *e, *tmp;
    /* Tasks whose terminal updates waited for acknowledgements are done now. */
    char *fid = strdup(f->id);
    HASH_ITER(hh, f->executors, e, tmp)
    {
        agent_task_t *t, *ttmp;
        HASH_ITER(hh, e->terminated, t, ttmp) agent_task_completed(a, fid, t->id);
    }
    free(fid);
    if ((f = agent_framework_find(a, m->framework_id->value)) == NULL)
        return;
    HASH_ITER(hh, f->executors, e, tmp) shutdown_executor(a, e);
}

void agent_on_shutdown_executor(actor_t *self, void *state, const actor_pid_t *from,
                                const ProtobufCMessage *msg)
{
    (void)self;
    agent_t *a = state;
    const Mesos__Internal__ShutdownExecutorMessage *m =
        (const Mesos__Internal__ShutdownExecutorMessage *)msg;
    if (!actor_pid_equal(from, &a->master) || m->framework_id == NULL || m->executor_id == NULL)
        return;
    agent_executor_t *e =
        executor_find(agent_framework_find(a, m->framework_id->value), m->executor_id->value);
    if (e != NULL)
        shutdown_executor(a, e);
}

void agent_on_update_framework(actor_t *self, void *state, const actor_pid_t *from,
                               const ProtobufCMessage *msg)
{
    (void)self;
    agent_t *a = state;
    const Mesos__Internal__UpdateFrameworkMessage *m =
        (const Mesos__Internal__UpdateFrameworkMessage *)msg;
    if (!actor_pid_equal(from, &a->master) || m->framework_id == NULL || m->framework_info == NULL)
        return;
    if (agent_framework_find(a, m->framework_id->value) != NULL)
        framework_add(a, m->framework_info, m->framework_id->value);
}

/* ---- reconciliation with the master ---- */

void agent_on_reconcile_tasks(agent_t *a, const Mesos__Internal__ReconcileTasksMessage *m)
{
    if (m->framework_id == NULL)
        return;
    bool partition_aware = false;
    for (size_t i = 0; m->framework != NULL && i < m->framework->n_capabilities; i++)
        partition_aware |= m->framework->capabilities[i]->type ==
                           MESOS__FRAMEWORK_INFO__CAPABILITY__TYPE__PARTITION_AWARE;
    for (size_t i = 0; i < m->n_statuses; i++) {
        const char *tid = m->statuses[i]->task_id->value;
        if (agent_executor_of_task(a, m->framework_id->value, tid) != NULL)
            continue;
        agent_send_task_status(a, m->framework_id->value, NULL, tid,
                               partition_aware ? MESOS__TASK_STATE__TASK_DROPPED
                                               : MESOS__TASK_STATE__TASK_LOST,
                               MESOS__TASK_STATUS__REASON__REASON_RECONCILIATION,
                               "Reconciliation: task unknown to the agent");
    }
}

/* ---- reregistration ---- */

static void collect_table(agent_t *a, agent_executor_t *e, agent_task_t *table, Mesos__Task **out,
                          size_t *k)
{
    for (agent_task_t *t = table; t != NULL; t = t->hh.next) {
        Mesos__Task *task = calloc(1, sizeof(*task));
        if (task == NULL)
            continue;
        mesos__task__init(task);
        task->name = t->info->name;
        task->task_id = t->info->task_id;
        task->framework_id = e->framework->info->id;
        task->agent_id = a->info->id;
        task->state = t->state;
        task->resources = t->info->resources;
        task->n_resources = t->info->n_resources;
        if (t->status != NULL) {
            task->statuses = &t->status;
            task->n_statuses = 1;
        }
        task->labels = t->info->labels;
        task->discovery = t->info->discovery;
        task->health_check = t->info->health_check;
        task->kill_policy = t->info->kill_policy;
        if (!e->command_executor)
            task->executor_id = e->info->executor_id;
        out[(*k)++] = task;
    }
}

void agent_tasks_collect(agent_t *a, Mesos__Task ***tasks, size_t *count)
{
    size_t n = 0;
    for (agent_framework_t *f = a->frameworks; f != NULL; f = f->hh.next) {
        for (agent_executor_t *e = f->executors; e != NULL; e = e->hh.next)
            n += HASH_COUNT(e->queued) + HASH_COUNT(e->launched) + HASH_COUNT(e->terminated);
    }
    *count = 0;
    *tasks = calloc(n + 1, sizeof(**tasks));
    if (*tasks == NULL)
        return;
    for (agent_framework_t *f = a->frameworks; f != NULL; f = f->hh.next) {
        for (agent_executor_t *e = f->executors; e != NULL; e = e->hh.next) {
            collect_table(a, e, e->queued, *tasks, count);
            collect_table(a, e, e->launched, *tasks, count);
            collect_table(a, e, e->terminated, *tasks, count);
        }
    }
}

void agent_tasks_free(Mesos__Task **tasks, size_t count)
{
    /* The tasks borrow every field from the agent's own records: free only the shells. */
    for (size_t i = 0; i < count; i++)
        free(tasks[i]);
    free(tasks);
}

/* ---- framework messages (unreliable, as in Mesos) ---- */

void agent_on_framework_to_executor(actor_t *self, void *state, const actor_pid_t *from,
                                    const ProtobufCMessage *msg)
{
    agent_t *a = state;
    const Mesos__Internal__FrameworkToExecutorMessage *m =
        (const Mesos__Internal__FrameworkToExecutorMessage *)msg;
    if (!actor_pid_equal(from, &a->master) || m->framework_id == NULL || m->executor_id == NULL)
        return;
    agent_executor_t *e =
        executor_find(agent_framework_find(a, m->framework_id->value), m->executor_id->value);
    if (e == NULL || e->state != EXECUTOR_RUNNING || !e->has_pid) {
        LOG_WARNING("Dropping a message for executor %s, which is not running",
                    m->executor_id->value);
        return;
    }
    actor_send(self, &e->pid, msg);
}

void agent_on_executor_to_framework(actor_t *self, void *state, const actor_pid_t *from,
                                    const ProtobufCMessage *msg)
{
    (void)self, (void)from;
    agent_send_master(state, msg);
}
