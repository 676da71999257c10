/*
 * metrics.c: the agent's metrics under Mesos's names (slave/tasks_running, slave/cpus_used,
 * slave/executors_registering, ...), published once a second into the process's registry and
 * served on /metrics/snapshot and /metrics. In mesos-local the first agent publishes them.
 */
#include "actor/log.h"
#include "actor/metrics_published.h"
#include "slave/agent_int.h"

typedef enum gauge_id {
    G_UPTIME,
    G_REGISTERED,
    G_FRAMEWORKS_ACTIVE,
    G_TASKS_STAGING,
    G_TASKS_STARTING,
    G_TASKS_RUNNING,
    G_TASKS_KILLING,
    G_TASKS_FINISHED,
    G_TASKS_FAILED,
    G_TASKS_KILLED,
    G_TASKS_LOST,
    G_EXECUTORS_REGISTERING,
    G_EXECUTORS_RUNNING,
    G_EXECUTORS_TERMINATING,
    G_EXECUTORS_TERMINATED,
    G_VALID_STATUS_UPDATES,
    G_INVALID_STATUS_UPDATES,
    G_CPUS_TOTAL,
    G_CPUS_USED,
    G_CPUS_PERCENT,
    G_MEM_TOTAL,
    G_MEM_USED,
    G_MEM_PERCENT,
    G_DISK_TOTAL,
    G_DISK_USED,
    G_DISK_PERCENT,
    G_COUNT,
} gauge_id_t;

static const metrics_published_def_t gauges[G_COUNT] = {
    [G_UPTIME] = {"slave/uptime_secs", "Seconds since the agent started"},
    [G_REGISTERED] = {"slave/registered", "1 while the agent is registered with a master"},
    [G_FRAMEWORKS_ACTIVE] = {"slave/frameworks_active", "Frameworks with executors here"},
    [G_TASKS_STAGING] = {"slave/tasks_staging", "Tasks waiting for their executor"},
    [G_TASKS_STARTING] = {"slave/tasks_starting", "Tasks starting"},
    [G_TASKS_RUNNING] = {"slave/tasks_running", "Tasks running"},
    [G_TASKS_KILLING] = {"slave/tasks_killing", "Tasks being killed"},
    [G_TASKS_FINISHED] = {"slave/tasks_finished", "Tasks that finished"},
    [G_TASKS_FAILED] = {"slave/tasks_failed", "Tasks that failed"},
    [G_TASKS_KILLED] = {"slave/tasks_killed", "Tasks that were killed"},
    [G_TASKS_LOST] = {"slave/tasks_lost", "Tasks lost, dropped or gone"},
    [G_EXECUTORS_REGISTERING] = {"slave/executors_registering", "Executors starting"},
    [G_EXECUTORS_RUNNING] = {"slave/executors_running", "Executors registered"},
    [G_EXECUTORS_TERMINATING] = {"slave/executors_terminating", "Executors shutting down"},
    [G_EXECUTORS_TERMINATED] = {"slave/executors_terminated", "Executors that ended"},
    [G_VALID_STATUS_UPDATES] = {"slave/valid_status_updates", "Status updates handled"},
    [G_INVALID_STATUS_UPDATES] = {"slave/invalid_status_updates", "Status updates dropped"},
    [G_CPUS_TOTAL] = {"slave/cpus_total", "CPUs of the agent"},
    [G_CPUS_USED] = {"slave/cpus_used", "CPUs used by executors and tasks"},
    [G_CPUS_PERCENT] = {"slave/cpus_percent", "Share of the CPUs used"},
    [G_MEM_TOTAL] = {"slave/mem_total", "Memory of the agent, MB"},
    [G_MEM_USED] = {"slave/mem_used", "Memory used by executors and tasks, MB"},
    [G_MEM_PERCENT] = {"slave/mem_percent", "Share of the memory used"},
    [G_DISK_TOTAL] = {"slave/disk_total", "Disk of the agent, MB"},
    [G_DISK_USED] = {"slave/disk_used", "Disk used by executors and tasks, MB"},
    [G_DISK_PERCENT] = {"slave/disk_percent", "Share of the disk used"},
};

static void put_resource(agent_t *a, const char *name, gauge_id_t total)
{
    double t = resources_scalar(&a->total, name), u = resources_scalar(&a->used, name);
    metrics_published_set(a->metrics, total, t);
    metrics_published_set(a->metrics, total + 1, u);
    metrics_published_set(a->metrics, total + 2, t > 0 ? u / t : 0);
}

static void publish(agent_t *a)
{
    size_t by_state[16] = {0}, by_executor_state[EXECUTOR_TERMINATED + 1] = {0};
    for (agent_framework_t *f = a->frameworks; f != NULL; f = f->hh.next) {
        for (agent_executor_t *e = f->executors; e != NULL; e = e->hh.next) {
            by_executor_state[e->state]++;
            for (agent_task_t *t = e->queued; t != NULL; t = t->hh.next)
                by_state[t->state & 15]++;
            for (agent_task_t *t = e->launched; t != NULL; t = t->hh.next)
                by_state[t->state & 15]++;
        }
    }
    metrics_published_t *p = a->metrics;
    metrics_published_set(p, G_UPTIME, agent_now() - a->start_time);
    metrics_published_set(p, G_REGISTERED, a->state == AGENT_RUNNING);
    metrics_published_set(p, G_FRAMEWORKS_ACTIVE, (double)HASH_COUNT(a->frameworks));
    metrics_published_set(p, G_TASKS_STAGING, (double)by_state[MESOS__TASK_STATE__TASK_STAGING]);
    metrics_published_set(p, G_TASKS_STARTING, (double)by_state[MESOS__TASK_STATE__TASK_STARTING]);
    metrics_published_set(p, G_TASKS_RUNNING, (double)by_state[MESOS__TASK_STATE__TASK_RUNNING]);
    metrics_published_set(p, G_TASKS_KILLING, (double)by_state[MESOS__TASK_STATE__TASK_KILLING]);
    metrics_published_set(p, G_TASKS_FINISHED, (double)a->tasks_finished);
    metrics_published_set(p, G_TASKS_FAILED, (double)a->tasks_failed);
    metrics_published_set(p, G_TASKS_KILLED, (double)a->tasks_killed);
    metrics_published_set(p, G_TASKS_LOST, (double)a->tasks_lost);
    metrics_published_set(
        p, G_EXECUTORS_REGISTERING,
        (double)(by_executor_state[EXECUTOR_FETCHING] + by_executor_state[EXECUTOR_REGISTERING]));
    metrics_published_set(p, G_EXECUTORS_RUNNING, (double)by_executor_state[EXECUTOR_RUNNING]);
    metrics_published_set(p, G_EXECUTORS_TERMINATING,
                          (double)by_executor_state[EXECUTOR_TERMINATING]);
    metrics_published_set(p, G_EXECUTORS_TERMINATED, (double)a->executors_terminated);
    metrics_published_set(p, G_VALID_STATUS_UPDATES, (double)a->valid_status_updates);
    metrics_published_set(p, G_INVALID_STATUS_UPDATES, (double)a->invalid_status_updates);
    put_resource(a, "cpus", G_CPUS_TOTAL);
    put_resource(a, "mem", G_MEM_TOTAL);
    put_resource(a, "disk", G_DISK_TOTAL);
}

static void publish_tick(actor_t *self, void *state, void *arg)
{
    (void)arg;
    if (self == NULL)
        return;
    agent_t *a = state;
    publish(a);
    a->metrics_timer = actor_delay(self, ACTOR_NS_PER_SEC, publish_tick, NULL);
}

void agent_metrics_start(agent_t *a)
{
    if (metrics_published_new(metrics_registry_default(), gauges, G_COUNT, &a->metrics) !=
        ACTOR_OK) {
        LOG_WARNING("Out of memory registering the agent's metrics");
        return;
    }
    publish(a);
    a->metrics_timer = actor_delay(a->self, ACTOR_NS_PER_SEC, publish_tick, NULL);
}

void agent_metrics_stop(agent_t *a)
{
    if (a->metrics_timer != 0)
        actor_timer_cancel(a->metrics_timer);
    metrics_published_free(a->metrics);
    a->metrics = NULL;
}
