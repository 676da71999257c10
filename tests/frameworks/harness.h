/*
 * harness.h: an in-process cluster for the scheduler driver's tests: the runtime without workers
 * and the clock paused (tests/master/support.h), the real master, a simulated agent
 * (slave/agent.h) and a driver whose callbacks record what they receive. Everything runs inside
 * actor_settle() on the test's thread, so the records can be read after each settle.
 */
#ifndef TESTS_FRAMEWORKS_HARNESS_H
#define TESTS_FRAMEWORKS_HARNESS_H

#include <stdbool.h>
#include <stddef.h>

#include "frameworks/scheduler.h"
#include "tests/master/support.h"

typedef struct recorded_update {
    char task_id[64];
    char agent_id[128];
    int state;
    bool has_reason;
    int reason;
    bool has_uuid;
    char message[256];
} recorded_update_t;

typedef struct harness harness_t;

struct harness {
    master_pids_t master;
    char master_text[ACTOR_PID_STRLEN]; /* the master's PID, for options.master */
    actor_pid_t agent;
    bool agent_up;
    char work_dir[64];
    scheduler_driver_t *d;
    /* What the callbacks saw. */
    size_t subscribed, resubscribed, disconnected, errors, rescinds, failures, offer_events;
    char framework_id[128];
    char error[256];
    char failure_agent[128];
    Mesos__Offer **offers; /* copies of every offer received, in order */
    size_t offer_count;
    recorded_update_t *updates;
    size_t update_count;
    /* Optional behaviour, run inside the callbacks after recording. */
    void (*offers_hook)(harness_t *h, scheduler_driver_t *d, const Mesos__Offer *const *offers,
                        size_t count);
    void (*update_hook)(harness_t *h, scheduler_driver_t *d, const Mesos__TaskStatus *status);
    void *hook_arg;
};

/* Runtime, master (in-memory registry), no agent, no driver. */
harness_t *harness_new(void);
/* Stops the driver (failover), agent, master and runtime; frees everything. */
void harness_free(harness_t *h);

/* A simulated agent with the given resources text (NULL: cpus:4;mem:1024;disk:1024). */
void harness_agent_start(harness_t *h, const char *resources);
void harness_agent_stop(harness_t *h);

/* Options naming the harness's master, framework "test", and defaults otherwise. */
void harness_options(harness_t *h, scheduler_driver_options_t *opts);
/* Starts h->d with the recording callbacks and settles. */
void harness_driver_start(harness_t *h, const scheduler_driver_options_t *opts);
/* Starts a driver with default options, an agent, and runs an allocation: returns the offer. */
const Mesos__Offer *harness_offered(harness_t *h, bool partition_aware);
/* The same with the driver's options. */
const Mesos__Offer *harness_offered_with(harness_t *h, const scheduler_driver_options_t *opts);

/* The last offer received (NULL if none) and the last update (NULL if none). */
const Mesos__Offer *harness_last_offer(const harness_t *h);
const recorded_update_t *harness_last_update(const harness_t *h);
/* Updates received for task_id in state. */
size_t harness_updates(const harness_t *h, const char *task_id, int state);

/* Launches one task (`command`, resources text) on offer from outside the actor and settles. */
actor_err_t harness_launch(harness_t *h, const Mesos__Offer *offer, const char *task_id,
                           const char *command, const char *resources);

/* A message filter counting each type it sees (and dropping those listed). */
typedef struct type_counter {
    const char *drop;           /* a full type name to drop, or NULL */
    bool drop_events_to_driver; /* drop every mesos.scheduler.Event sent to a scheduler(N) */
    size_t subscribes, acks, updates_from_agents, teardowns, declines;
    uint64_t held;            /* the hold id of the first held SUBSCRIBED, with hold_subscribed */
    char held_framework[128]; /* ... and the framework it names */
    bool hold_subscribed;
} type_counter_t;
void harness_count_messages(type_counter_t *counter);

#endif
