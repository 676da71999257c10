/*
 * scheduler_int.h: the scheduler driver's private structures, shared by scheduler.c (the actor:
 * subscription, events, stop) and scheduler_calls.c (the calls) and nothing else.
 *
 * A driver is two objects. scheduler_driver_t is the handle the framework holds: it lives from
 * start to free and is read from any thread (its status is atomic). driver_state_t is the actor's
 * private state: only code running inside the actor touches it, which is why the calls check
 * driver_running (the driver whose event the current thread is running) before using d->st.
 */
#ifndef FRAMEWORKS_SCHEDULER_INT_H
#define FRAMEWORKS_SCHEDULER_INT_H

#include <stdatomic.h>

#include "actor/clock.h"
#include "frameworks/scheduler.h"

typedef struct driver_state driver_state_t;

struct scheduler_driver {
    actor_pid_t pid;           /* the driver's actor */
    _Atomic int status;        /* scheduler_driver_status_t */
    scheduler_callbacks_t cbs; /* copied at start */
    void *user;                /* passed to every callback */
    bool implicit_acks;        /* !options.explicit_acknowledgements */
    driver_state_t *st;        /* the actor's state; inside the actor only, NULL after fini */
};

struct driver_state {
    scheduler_driver_t *d;
    actor_t *self;
    actor_pid_t master;
    Mesos__FrameworkInfo *info; /* what SUBSCRIBE sends; info->id once the master named us */
    bool partition_aware;       /* info has PARTITION_AWARE */
    bool subscribed;            /* SUBSCRIBED came and the master was not lost since */
    bool was_subscribed;        /* subscribed at least once: later ones are resubscriptions */
    int64_t backoff_min_ns, backoff_max_ns;
    int64_t backoff_ns;               /* the next retry's delay */
    actor_timer_id_t subscribe_timer; /* 0 when no retry is pending */
    unsigned heartbeat_misses;
    int64_t heartbeat_ns;             /* the master's heartbeat interval */
    unsigned silent_intervals;        /* heartbeat checks since the master last sent anything */
    actor_timer_id_t heartbeat_timer; /* 0 when not subscribed */
    bool stop_pending;                /* stop or abort asked: end after the current event */
    bool stop_failover;               /* ... without TEARDOWN */
    bool ended;                       /* actor_terminate was called */
};

/* The driver whose event the calling thread is running, or NULL outside any driver. */
extern _Thread_local scheduler_driver_t *driver_running;

/* Whether callbacks may still run (the driver neither stopped nor aborted). */
static inline bool driver_callbacks_on(const scheduler_driver_t *d)
{
    return atomic_load(&d->status) == SCHEDULER_DRIVER_RUNNING;
}

/* Inside the actor: sends call to the master with the framework's id, or, while not subscribed,
 * drops it (answering a launch's tasks with TASK_DROPPED/TASK_LOST). call is borrowed. */
void driver_send_call(driver_state_t *st, Mesos__Scheduler__Call *call);

/* Fills call (and ack, which it points to) with the ACKNOWLEDGE of status, which keeps owning the
 * ids and uuid. Cannot fail. */
void driver_acknowledgement(Mesos__Scheduler__Call *call, Mesos__Scheduler__Call__Acknowledge *ack,
                            const Mesos__TaskStatus *status);

/* Inside the actor: sends call as it is (framework_id included), subscribed or not. */
void driver_send_raw(driver_state_t *st, const Mesos__Scheduler__Call *call);

/* Enters and leaves one event of the driver's actor: leave ends the actor if the event asked
 * for a stop. */
scheduler_driver_t *driver_enter(driver_state_t *st);
void driver_leave(driver_state_t *st, scheduler_driver_t *previous);

/* Inside the actor: delivers a status update to the update callback and, with implicit
 * acknowledgements, acknowledges it afterwards when it carries a uuid. */
void driver_deliver_update(driver_state_t *st, const Mesos__TaskStatus *status);

#endif
