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
 * store_apply, that is one fsync (store/batch.h). What must wait until the batch is durable
 * (acknowledging an executor's status update, forwarding it) is queued with store_batch_after.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "actor/log.h"
#include "store/batch.h"
#include "slave/agent_int.h"

#define SEP "\x1f"

actor_err_t agent_checkpoint_open(const char *work_dir, bool simulated, store_t **store, char *err,
                                  size_t err_len)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/meta", work_dir);
    actor_err_t rc = store_open(store, simulated ? "memory" : "lmdb", path, NULL);
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

void agent_checkpoint_close(agent_t *a)
{
    store_batch_free(a->batch);
    a->batch = NULL;
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
    store_batch_put_message(a->batch, agent_checkpoint_key("agent", NULL, NULL, NULL),
                            &a->info->base);
    char boot[64];
    if (agent_boot_id(boot, sizeof(boot))) {
        store_batch_put_text(a->batch, agent_checkpoint_key("boot", NULL, NULL, NULL), boot);
    }
}

void agent_checkpoint_framework(agent_t *a, agent_framework_t *f)
{
    if (agent_framework_checkpoints(f))
        store_batch_put_message(a->batch, agent_checkpoint_key("fw", f->id, NULL, NULL),
                                &f->info->base);
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
    store_batch_put_message(a->batch, agent_checkpoint_key("ex", e->framework->id, e->id, NULL),
                            &ce.base);
}

void agent_checkpoint_task(agent_t *a, agent_executor_t *e, agent_task_t *t)
{
    if (!agent_framework_checkpoints(e->framework))
        return;
    Mesos__Internal__CheckpointedTask ct = MESOS__INTERNAL__CHECKPOINTED_TASK__INIT;
    ct.info = t->info;
    ct.state = t->state;
    ct.status = t->status;
    store_batch_put_message(a->batch, agent_checkpoint_key("task", e->framework->id, t->id, NULL),
                            &ct.base);
}

void agent_checkpoint_forget_task(agent_t *a, agent_executor_t *e, const char *task_id)
{
    if (agent_framework_checkpoints(e->framework))
        store_batch_delete(a->batch, agent_checkpoint_key("task", e->framework->id, task_id, NULL));
}

void agent_checkpoint_forget_executor(agent_t *a, agent_executor_t *e)
{
    if (!agent_framework_checkpoints(e->framework))
        return;
    store_batch_delete(a->batch, agent_checkpoint_key("ex", e->framework->id, e->id, NULL));
    if (e->framework->executors == NULL)
        store_batch_delete(a->batch, agent_checkpoint_key("fw", e->framework->id, NULL, NULL));
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
