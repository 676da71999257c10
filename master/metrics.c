/*
 * metrics.c: the master's metrics under Mesos's names (master/slaves_active, master/tasks_running,
 * master/cpus_percent, ...), served by the runtime's metrics actor on /metrics/snapshot and
 * /metrics.
 *
 * The metrics actor renders on its own thread, while the master's state belongs to the master
 * actor. So the master publishes: once a second (and when it starts) it computes every gauge and
 * stores it in an atomic slot, and the registry's pull gauges read those slots. A value is at
 * most a second old, which is what a scrape needs, and reading costs the master nothing.
 */
#include <stdatomic.h>
#include <stdlib.h>

#include "actor/log.h"
#include "actor/metrics.h"
#include "master/master_int.h"

typedef enum gauge_id {
    G_UPTIME,
    G_ELECTED,
    G_SLAVES_ACTIVE,
    G_SLAVES_INACTIVE,
    G_SLAVES_CONNECTED,
    G_SLAVES_DISCONNECTED,
    G_SLAVES_UNREACHABLE,
    G_FRAMEWORKS_ACTIVE,
    G_FRAMEWORKS_INACTIVE,
    G_FRAMEWORKS_CONNECTED,
    G_FRAMEWORKS_DISCONNECTED,
    G_OUTSTANDING_OFFERS,
    G_TASKS_STAGING,
    G_TASKS_STARTING,
    G_TASKS_RUNNING,
    G_TASKS_KILLING,
    G_TASKS_UNREACHABLE,
    G_TASKS_FINISHED,
    G_TASKS_FAILED,
    G_TASKS_KILLED,
    G_TASKS_LOST,
    G_TASKS_ERROR,
    G_TASKS_DROPPED,
    G_TASKS_GONE,
    G_CPUS_TOTAL,
    G_CPUS_USED,
    G_CPUS_PERCENT,
    G_MEM_TOTAL,
    G_MEM_USED,
    G_MEM_PERCENT,
    G_DISK_TOTAL,
    G_DISK_USED,
    G_DISK_PERCENT,
    G_VALID_STATUS_UPDATES,
    G_INVALID_STATUS_UPDATES,
    G_VALID_FRAMEWORK_CALLS,
    G_INVALID_FRAMEWORK_CALLS,
    G_SLAVE_REGISTRATIONS,
    G_SLAVE_REREGISTRATIONS,
    G_SLAVE_REMOVALS,
    G_SLAVE_UNREACHABLE_COMPLETED,
    G_SLAVE_REACHABLE,
    G_FRAMEWORKS_REMOVED,
    G_OFFERS_DECLINED,
    G_OFFERS_RESCINDED,
    G_TASKS_GONE_BY_OPERATOR,
    G_VALID_ACKS,
    G_INVALID_ACKS,
    G_SLAVE_UNREACHABLE_SCHEDULED,
    G_REMOVALS_UNREGISTERED,
    G_REMOVALS_UNHEALTHY,
    G_RECOVERY_SLAVE_REMOVALS,
    G_MESSAGES_REGISTER,
    G_MESSAGES_REREGISTER,
    G_MESSAGES_UNREGISTER,
    G_MESSAGES_STATUS_UPDATE,
    G_MESSAGES_FRAMEWORK_TO_EXECUTOR,
    G_VALID_FRAMEWORK_TO_EXECUTOR,
    G_INVALID_FRAMEWORK_TO_EXECUTOR,
    G_MESSAGES_EXECUTOR_TO_FRAMEWORK,
    G_VALID_EXECUTOR_TO_FRAMEWORK,
    G_INVALID_EXECUTOR_TO_FRAMEWORK,
    G_SUBSCRIBERS,
    G_COUNT,
} gauge_id_t;

static const struct {
    const char *key, *help;
} gauges[G_COUNT] = {
    [G_UPTIME] = {"master/uptime_secs", "Seconds since the master started"},
    [G_ELECTED] = {"master/elected", "1 if this master is the leader"},
    [G_SLAVES_ACTIVE] = {"master/slaves_active", "Agents that are registered and active"},
    [G_SLAVES_INACTIVE] = {"master/slaves_inactive", "Agents that are registered, inactive"},
    [G_SLAVES_CONNECTED] = {"master/slaves_connected", "Registered agents whose link holds"},
    [G_SLAVES_DISCONNECTED] = {"master/slaves_disconnected", "Registered agents whose link broke"},
    [G_SLAVES_UNREACHABLE] = {"master/slaves_unreachable", "Agents marked unreachable"},
    [G_FRAMEWORKS_ACTIVE] = {"master/frameworks_active", "Frameworks that get offers"},
    [G_FRAMEWORKS_INACTIVE] = {"master/frameworks_inactive", "Frameworks that get no offers"},
    [G_FRAMEWORKS_CONNECTED] = {"master/frameworks_connected", "Frameworks subscribed now"},
    [G_FRAMEWORKS_DISCONNECTED] = {"master/frameworks_disconnected",
                                   "Frameworks waiting out their failover timeout"},
    [G_OUTSTANDING_OFFERS] = {"master/outstanding_offers", "Offers neither accepted nor declined"},
    [G_TASKS_STAGING] = {"master/tasks_staging", "Tasks launched, not yet started"},
    [G_TASKS_STARTING] = {"master/tasks_starting", "Tasks starting"},
    [G_TASKS_RUNNING] = {"master/tasks_running", "Tasks running"},
    [G_TASKS_KILLING] = {"master/tasks_killing", "Tasks being killed"},
    [G_TASKS_UNREACHABLE] = {"master/tasks_unreachable", "Tasks on unreachable agents"},
    [G_TASKS_FINISHED] = {"master/tasks_finished", "Tasks that finished"},
    [G_TASKS_FAILED] = {"master/tasks_failed", "Tasks that failed"},
    [G_TASKS_KILLED] = {"master/tasks_killed", "Tasks that were killed"},
    [G_TASKS_LOST] = {"master/tasks_lost", "Tasks that were lost"},
    [G_TASKS_ERROR] = {"master/tasks_error", "Tasks that were invalid"},
    [G_TASKS_DROPPED] = {"master/tasks_dropped", "Tasks that were dropped"},
    [G_TASKS_GONE] = {"master/tasks_gone", "Tasks whose agent is gone"},
    [G_CPUS_TOTAL] = {"master/cpus_total", "CPUs of registered agents"},
    [G_CPUS_USED] = {"master/cpus_used", "CPUs used by tasks"},
    [G_CPUS_PERCENT] = {"master/cpus_percent", "Fraction of CPUs used"},
    [G_MEM_TOTAL] = {"master/mem_total", "Memory of registered agents (MB)"},
    [G_MEM_USED] = {"master/mem_used", "Memory used by tasks (MB)"},
    [G_MEM_PERCENT] = {"master/mem_percent", "Fraction of memory used"},
    [G_DISK_TOTAL] = {"master/disk_total", "Disk of registered agents (MB)"},
    [G_DISK_USED] = {"master/disk_used", "Disk used by tasks (MB)"},
    [G_DISK_PERCENT] = {"master/disk_percent", "Fraction of disk used"},
    [G_VALID_STATUS_UPDATES] = {"master/valid_status_updates", "Status updates accepted"},
    [G_INVALID_STATUS_UPDATES] = {"master/invalid_status_updates", "Status updates dropped"},
    [G_VALID_FRAMEWORK_CALLS] = {"master/valid_framework_calls", "Framework calls handled"},
    [G_INVALID_FRAMEWORK_CALLS] = {"master/invalid_framework_calls", "Framework calls dropped"},
    [G_SLAVE_REGISTRATIONS] = {"master/slave_registrations", "Agents registered"},
    [G_SLAVE_REREGISTRATIONS] = {"master/slave_reregistrations", "Agents reregistered"},
    [G_SLAVE_REMOVALS] = {"master/slave_removals", "Agents removed"},
    [G_SLAVE_UNREACHABLE_COMPLETED] = {"master/slave_unreachable_completed",
                                       "Agents marked unreachable"},
    [G_SLAVE_REACHABLE] = {"master/slave_reachable", "Unreachable agents that came back"},
    [G_FRAMEWORKS_REMOVED] = {"master/frameworks_removed", "Frameworks removed"},
    [G_OFFERS_DECLINED] = {"master/offers_declined", "Offers declined"},
    [G_OFFERS_RESCINDED] = {"master/offers_rescinded", "Offers rescinded"},
    [G_TASKS_GONE_BY_OPERATOR] = {"master/tasks_gone_by_operator",
                                  "Tasks whose agent an operator marked gone"},
    [G_VALID_ACKS] = {"master/valid_status_update_acknowledgements",
                      "Status update acknowledgements forwarded to agents"},
    [G_INVALID_ACKS] = {"master/invalid_status_update_acknowledgements",
                        "Status update acknowledgements dropped"},
    [G_SLAVE_UNREACHABLE_SCHEDULED] = {"master/slave_unreachable_scheduled",
                                       "Agents whose marking as unreachable began"},
    [G_REMOVALS_UNREGISTERED] = {"master/slave_removals/reason_unregistered",
                                 "Agents removed because they unregistered"},
    [G_REMOVALS_UNHEALTHY] = {"master/slave_removals/reason_unhealthy",
                              "Agents marked unreachable because they missed pings"},
    [G_RECOVERY_SLAVE_REMOVALS] = {"master/recovery_slave_removals",
                                   "Agents marked unreachable for not reregistering after a "
                                   "master restart"},
    [G_MESSAGES_REGISTER] = {"master/messages_register_slave", "Agent registrations received"},
    [G_MESSAGES_REREGISTER] = {"master/messages_reregister_slave",
                               "Agent reregistrations received"},
    [G_MESSAGES_UNREGISTER] = {"master/messages_unregister_slave",
                               "Agent unregistrations received"},
    [G_MESSAGES_STATUS_UPDATE] = {"master/messages_status_update", "Status updates received"},
    [G_MESSAGES_FRAMEWORK_TO_EXECUTOR] = {"master/messages_framework_to_executor",
                                          "Framework messages for executors received"},
    [G_VALID_FRAMEWORK_TO_EXECUTOR] = {"master/valid_framework_to_executor_messages",
                                       "Framework messages forwarded to agents"},
    [G_INVALID_FRAMEWORK_TO_EXECUTOR] = {"master/invalid_framework_to_executor_messages",
                                         "Framework messages dropped"},
    [G_MESSAGES_EXECUTOR_TO_FRAMEWORK] = {"master/messages_executor_to_framework",
                                          "Executor messages for frameworks received"},
    [G_VALID_EXECUTOR_TO_FRAMEWORK] = {"master/valid_executor_to_framework_messages",
                                       "Executor messages forwarded to frameworks"},
    [G_INVALID_EXECUTOR_TO_FRAMEWORK] = {"master/invalid_executor_to_framework_messages",
                                         "Executor messages dropped"},
    [G_SUBSCRIBERS] = {"master/operator_event_stream_subscribers",
                       "Clients subscribed to the operator API's event stream"},
};

/* The published values, and the gauges reading them. One master per process publishes (tests
 * that run several masters see the last one's). */
static _Atomic double values[G_COUNT];
static metrics_gauge_t *registered[G_COUNT];

static actor_err_t pull(void *arg, double *value)
{
    *value = atomic_load_explicit(&values[(gauge_id_t)(uintptr_t)arg], memory_order_relaxed);
    return ACTOR_OK;
}

static void put(gauge_id_t id, double v)
{
    atomic_store_explicit(&values[id], v, memory_order_relaxed);
}

static void put_resource(master_t *m, const char *name, gauge_id_t total, gauge_id_t used,
                         gauge_id_t percent)
{
    double t = 0, u = 0;
    for (master_agent_t *a = m->agents; a != NULL; a = a->hh.next) {
        t += resources_scalar(&a->total, name);
        u += resources_scalar(&a->used, name);
    }
    put(total, t);
    put(used, u);
    put(percent, t > 0 ? u / t : 0);
}

static void publish(master_t *m)
{
    double now = master_now();
    put(G_UPTIME, now - m->start_time);
    put(G_ELECTED, 1);
    size_t connected = 0, agents = 0;
    for (master_agent_t *a = m->agents; a != NULL; a = a->hh.next) {
        agents++;
        connected += a->connected;
    }
    put(G_SLAVES_ACTIVE, (double)connected);
    put(G_SLAVES_INACTIVE, (double)(agents - connected));
    put(G_SLAVES_CONNECTED, (double)connected);
    put(G_SLAVES_DISCONNECTED, (double)(agents - connected));
    put(G_SLAVES_UNREACHABLE, (double)HASH_COUNT(m->unreachable));

    size_t fw_active = 0, fw_connected = 0, fw_count = 0, unreachable_tasks = 0;
    size_t by_state[16] = {0};
    for (master_framework_t *fw = m->frameworks; fw != NULL; fw = fw->hh.next) {
        fw_count++;
        fw_active += fw->active;
        fw_connected += fw->connected;
        unreachable_tasks += fw->unreachable_tasks.count;
        for (master_task_t *t = fw->tasks; t != NULL; t = t->hh.next)
            by_state[t->state & 15]++;
    }
    put(G_FRAMEWORKS_ACTIVE, (double)fw_active);
    put(G_FRAMEWORKS_INACTIVE, (double)(fw_count - fw_active));
    put(G_FRAMEWORKS_CONNECTED, (double)fw_connected);
    put(G_FRAMEWORKS_DISCONNECTED, (double)(fw_count - fw_connected));
    put(G_OUTSTANDING_OFFERS, (double)HASH_COUNT(m->offers));
    put(G_TASKS_STAGING, (double)by_state[MESOS__TASK_STATE__TASK_STAGING]);
    put(G_TASKS_STARTING, (double)by_state[MESOS__TASK_STATE__TASK_STARTING]);
    put(G_TASKS_RUNNING, (double)by_state[MESOS__TASK_STATE__TASK_RUNNING]);
    put(G_TASKS_KILLING, (double)by_state[MESOS__TASK_STATE__TASK_KILLING]);
    put(G_TASKS_UNREACHABLE, (double)unreachable_tasks);

    const uint64_t *done = m->counters.tasks_by_state;
    put(G_TASKS_FINISHED, (double)done[MESOS__TASK_STATE__TASK_FINISHED]);
    put(G_TASKS_FAILED, (double)done[MESOS__TASK_STATE__TASK_FAILED]);
    put(G_TASKS_KILLED, (double)done[MESOS__TASK_STATE__TASK_KILLED]);
    put(G_TASKS_LOST, (double)done[MESOS__TASK_STATE__TASK_LOST]);
    put(G_TASKS_ERROR, (double)done[MESOS__TASK_STATE__TASK_ERROR]);
    put(G_TASKS_DROPPED, (double)done[MESOS__TASK_STATE__TASK_DROPPED]);
    put(G_TASKS_GONE, (double)done[MESOS__TASK_STATE__TASK_GONE]);
    put(G_TASKS_GONE_BY_OPERATOR, (double)done[MESOS__TASK_STATE__TASK_GONE_BY_OPERATOR]);

    put_resource(m, "cpus", G_CPUS_TOTAL, G_CPUS_USED, G_CPUS_PERCENT);
    put_resource(m, "mem", G_MEM_TOTAL, G_MEM_USED, G_MEM_PERCENT);
    put_resource(m, "disk", G_DISK_TOTAL, G_DISK_USED, G_DISK_PERCENT);

    const master_counters_t *c = &m->counters;
    put(G_VALID_STATUS_UPDATES, (double)c->valid_status_updates);
    put(G_INVALID_STATUS_UPDATES, (double)c->invalid_status_updates);
    put(G_VALID_FRAMEWORK_CALLS, (double)c->valid_framework_calls);
    put(G_INVALID_FRAMEWORK_CALLS, (double)c->invalid_framework_calls);
    put(G_SLAVE_REGISTRATIONS, (double)c->agent_registrations);
    put(G_SLAVE_REREGISTRATIONS, (double)c->agent_reregistrations);
    put(G_SLAVE_REMOVALS, (double)c->agent_removals);
    put(G_SLAVE_UNREACHABLE_COMPLETED, (double)c->agents_unreachable);
    put(G_SLAVE_REACHABLE, (double)c->agents_reachable);
    put(G_FRAMEWORKS_REMOVED, (double)c->frameworks_removed);
    put(G_OFFERS_DECLINED, (double)c->offers_declined);
    put(G_OFFERS_RESCINDED, (double)c->offers_rescinded);
    put(G_VALID_ACKS, (double)c->valid_acknowledgements);
    put(G_INVALID_ACKS, (double)c->invalid_acknowledgements);
    put(G_SLAVE_UNREACHABLE_SCHEDULED, (double)c->agents_unreachable_scheduled);
    put(G_REMOVALS_UNREGISTERED, (double)c->agent_removals);
    put(G_REMOVALS_UNHEALTHY, (double)c->agents_unhealthy);
    put(G_RECOVERY_SLAVE_REMOVALS, (double)c->recovery_agent_removals);
    put(G_MESSAGES_REGISTER, (double)c->messages_register);
    put(G_MESSAGES_REREGISTER, (double)c->messages_reregister);
    put(G_MESSAGES_UNREGISTER, (double)c->messages_unregister);
    put(G_MESSAGES_STATUS_UPDATE, (double)c->messages_status_update);
    put(G_MESSAGES_FRAMEWORK_TO_EXECUTOR, (double)c->messages_framework_to_executor);
    put(G_VALID_FRAMEWORK_TO_EXECUTOR, (double)c->valid_framework_to_executor_messages);
    put(G_INVALID_FRAMEWORK_TO_EXECUTOR, (double)c->invalid_framework_to_executor_messages);
    put(G_MESSAGES_EXECUTOR_TO_FRAMEWORK, (double)c->messages_executor_to_framework);
    put(G_VALID_EXECUTOR_TO_FRAMEWORK, (double)c->valid_executor_to_framework_messages);
    put(G_INVALID_EXECUTOR_TO_FRAMEWORK, (double)c->invalid_executor_to_framework_messages);
    put(G_SUBSCRIBERS, (double)m->subscriber_count);
}

static void publish_tick(actor_t *self, void *state, void *arg)
{
    (void)arg;
    if (self == NULL)
        return;
    master_t *m = state;
    publish(m);
    m->metrics_timer = actor_delay(self, ACTOR_NS_PER_SEC, publish_tick, NULL);
}

void master_metrics_publish(master_t *m)
{
    publish(m);
}

void master_metrics_register(actor_t *self, master_t *m)
{
    metrics_registry_t *reg = metrics_registry_default();
    for (int i = 0; i < G_COUNT; i++) {
        if (registered[i] != NULL)
            continue; /* another master in this process registered them */
        if (metrics_gauge_pull_new(reg, gauges[i].key, gauges[i].help, pull, (void *)(uintptr_t)i,
                                   &registered[i]) != ACTOR_OK)
            LOG_WARNING("Cannot register metric %s", gauges[i].key);
    }
    publish_tick(self, m, NULL);
}

void master_metrics_unregister(master_t *m)
{
    actor_timer_cancel(m->metrics_timer);
    for (int i = 0; i < G_COUNT; i++) {
        metrics_gauge_free(registered[i]);
        registered[i] = NULL;
    }
}
