/*
 * checkpoint.c: what the agent keeps on disk so that a restarted agent (kill -9 included) finds
 * its id, its frameworks that checkpoint, their executors and tasks, and the status updates not
 * yet acknowledged (Mesos's slave/state and checkpointing).
 *
 * Checkpoints live in an LMDB store under <work_dir>/meta (store.h), one key per record:
 *
 *   agent                          AgentInfo, id set (written at registration)
 *   boot                           the kernel's boot id when the agent last ran
 *   fw  <fid>                      FrameworkInfo
 *   ex  <fid> <eid>                CheckpointedExecutor (container, sandbox, pids)
 *   task <fid> <tid>               CheckpointedTask (TaskInfo, latest state)
 *   upd <fid> <tid> <seq>          StatusUpdate not yet acknowledged by the framework
 *
 * (fields separated by the unit separator 0x1f, so ids may hold any other byte). Changes made
 * while the agent handles a burst of messages are gathered in one batch and written with one
 * store_apply, that is one fsync: the flush is dispatched to the agent itself, so it runs after
 * the messages already in the mailbox. What must wait until the batch is durable (acknowledging
 * an executor's status update, forwarding it) is queued with agent_checkpoint_after.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "actor/log.h"
#include "slave/agent_int.h"

#define SEP "\x1f"

struct agent_deferred {
    void (*fn)(agent_t *a, void *arg);
    void *arg;
    struct agent_deferred *next;
};

actor_err_t agent_checkpoint_open(const char *work_dir, store_t **store, char *err, size_t err_len)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/meta", work_dir);
    actor_err_t rc = store_open(store, "lmdb", path, NULL);
    if (rc != ACTOR_OK)
        snprintf(err, err_len, "Failed to open the agent's checkpoints in '%s': %s", path,
                 actor_strerror(rc));
    return rc;
}

char *agent_checkpoint_key(const char *kind, const char *a, const char *b, const char *c)
{
    char *key = NULL;
    int n = c != NULL   ? asprintf(&key, "%s" SEP "%s" SEP "%s" SEP "%s", kind, a, b, c)
            : b != NULL ? asprintf(&key, "%s" SEP "%s" SEP "%s", kind, a, b)
            : a != NULL ? asprintf(&key, "%s" SEP "%s", kind, a)
                        : asprintf(&key, "%s", kind);
    return n < 0 ? NULL : key;
}

static void flush(actor_t *self, void *state, void *arg);

/* Adds an operation (key and value owned by the batch from now on). */
static void batch_add(agent_t *a, store_op_kind_t kind, char *key, void *value, size_t len)
{
    if (key == NULL) {
        free(value);
        LOG_ERROR("Out of memory building a checkpoint key");
        return;
    }
    if (a->ck_count == a->ck_cap) {
        size_t cap = a->ck_cap ? a->ck_cap * 2 : 16;
        store_op_t *ops = realloc(a->ck_ops, cap * sizeof(*ops));
        if (ops == NULL) {
            free(key);
            free(value);
            LOG_ERROR("Out of memory batching a checkpoint");
            return;
        }
        a->ck_ops = ops;
        a->ck_cap = cap;
    }
    a->ck_ops[a->ck_count++] = (store_op_t){
        .kind = kind, .key = key, .key_len = strlen(key), .value = value, .value_len = len};
    if (!a->ck_flush_scheduled && actor_dispatch(actor_self(a->self), flush, NULL) == ACTOR_OK)
        a->ck_flush_scheduled = true;
}

void agent_checkpoint_put(agent_t *a, char *key, const ProtobufCMessage *msg)
{
    size_t len = protobuf_c_message_get_packed_size(msg);
    uint8_t *buf = malloc(len ? len : 1);
    if (buf == NULL) {
        free(key);
        LOG_ERROR("Out of memory checkpointing");
        return;
    }
    protobuf_c_message_pack(msg, buf);
    batch_add(a, STORE_OP_PUT, key, buf, len);
}

void agent_checkpoint_delete(agent_t *a, char *key)
{
    batch_add(a, STORE_OP_DELETE, key, NULL, 0);
}

void agent_checkpoint_after(agent_t *a, void (*fn)(agent_t *a, void *arg), void *arg)
{
    if (a->ck_count == 0 && !a->ck_flush_scheduled) {
        fn(a, arg); /* nothing waits to be written */
        return;
    }
    agent_deferred_t *d = malloc(sizeof(*d));
    if (d == NULL) {
        fn(a, arg);
        return;
    }
    *d = (agent_deferred_t){.fn = fn, .arg = arg};
    if (a->ck_after_tail != NULL)
        a->ck_after_tail->next = d;
    else
        a->ck_after_head = d;
    a->ck_after_tail = d;
}

/* Writes the batch (one transaction, one fsync), then runs what waited for it. */
void agent_checkpoint_flush(agent_t *a)
{
    a->ck_flush_scheduled = false;
    if (a->ck_count > 0) {
        actor_err_t rc = store_apply(a->store, a->ck_ops, a->ck_count);
        if (rc != ACTOR_OK) {
            /* As Mesos's agent does on a failed checkpoint: running on would break the promise
             * that a restarted agent recovers what it acknowledged. */
            LOG_ERROR("Failed to write the agent's checkpoints: %s; exiting", actor_strerror(rc));
            _exit(1);
        }
        for (size_t i = 0; i < a->ck_count; i++) {
            free((void *)a->ck_ops[i].key);
            free((void *)a->ck_ops[i].value);
        }
        a->ck_count = 0;
    }
    agent_deferred_t *d = a->ck_after_head;
    a->ck_after_head = a->ck_after_tail = NULL;
    while (d != NULL) {
        agent_deferred_t *next = d->next;
        d->fn(a, d->arg);
        free(d);
        d = next;
    }
}

static void flush(actor_t *self, void *state, void *arg)
{
    (void)arg;
    if (self != NULL)
        agent_checkpoint_flush(state);
}

void agent_checkpoint_close(agent_t *a)
{
    agent_checkpoint_flush(a);
    free(a->ck_ops);
    a->ck_ops = NULL;
    a->ck_cap = 0;
    store_close(a->store);
    a->store = NULL;
}

/* ---- records ---- */

bool agent_framework_checkpoints(const agent_framework_t *f)
{
    return f->info->has_checkpoint && f->info->checkpoint;
}

void agent_checkpoint_agent(agent_t *a)
{
    agent_checkpoint_put(a, agent_checkpoint_key("agent", NULL, NULL, NULL), &a->info->base);
    char boot[64];
    if (agent_boot_id(boot, sizeof(boot))) {
        char *copy = strdup(boot);
        if (copy != NULL)
            batch_add(a, STORE_OP_PUT, agent_checkpoint_key("boot", NULL, NULL, NULL), copy,
                      strlen(copy));
    }
}

void agent_checkpoint_framework(agent_t *a, agent_framework_t *f)
{
    if (agent_framework_checkpoints(f))
        agent_checkpoint_put(a, agent_checkpoint_key("fw", f->id, NULL, NULL), &f->info->base);
}

void agent_checkpoint_executor(agent_t *a, agent_executor_t *e)
{
    if (!agent_framework_checkpoints(e->framework))
        return;
    char pid[ACTOR_PID_STRLEN] = "";
    if (e->has_pid)
        actor_pid_format(&e->pid, pid, sizeof(pid));
    Mesos__Internal__CheckpointedExecutor ce = MESOS__INTERNAL__CHECKPOINTED_EXECUTOR__INIT;
    ce.info = e->info;
    ce.container_id = e->container_id;
    ce.directory = e->directory;
    ce.has_forked_pid = e->os_pid > 0;
    ce.forked_pid = e->os_pid;
    ce.pid = e->has_pid ? pid : NULL;
    ce.has_command_executor = true;
    ce.command_executor = e->command_executor;
    ce.has_in_cgroups = true;
    ce.in_cgroups = e->in_cgroups;
    agent_checkpoint_put(a, agent_checkpoint_key("ex", e->framework->id, e->id, NULL), &ce.base);
}

void agent_checkpoint_task(agent_t *a, agent_executor_t *e, agent_task_t *t)
{
    if (!agent_framework_checkpoints(e->framework))
        return;
    Mesos__Internal__CheckpointedTask ct = MESOS__INTERNAL__CHECKPOINTED_TASK__INIT;
    ct.info = t->info;
    ct.state = t->state;
    ct.status = t->status;
    agent_checkpoint_put(a, agent_checkpoint_key("task", e->framework->id, t->id, NULL), &ct.base);
}

void agent_checkpoint_forget_task(agent_t *a, agent_executor_t *e, const char *task_id)
{
    if (agent_framework_checkpoints(e->framework))
        agent_checkpoint_delete(a, agent_checkpoint_key("task", e->framework->id, task_id, NULL));
}

void agent_checkpoint_forget_executor(agent_t *a, agent_executor_t *e)
{
    if (!agent_framework_checkpoints(e->framework))
        return;
    agent_checkpoint_delete(a, agent_checkpoint_key("ex", e->framework->id, e->id, NULL));
    if (e->framework->executors == NULL)
        agent_checkpoint_delete(a, agent_checkpoint_key("fw", e->framework->id, NULL, NULL));
}

bool agent_boot_id(char *out, size_t len)
{
    FILE *f = fopen("/proc/sys/kernel/random/boot_id", "r");
    if (f == NULL)
        return false;
    bool ok = fgets(out, (int)len, f) != NULL;
    fclose(f);
    if (ok)
        out[strcspn(out, "\n")] = '\0';
    return ok;
}
