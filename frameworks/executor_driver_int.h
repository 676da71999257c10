/*
 * executor_driver_int.h: the executor driver's private structures, shared by executor_driver.c
 * (the actor: registration, the agent's messages, losing the agent, shutdown, the end) and
 * executor_driver_calls.c (status updates and their acknowledgements, framework messages) and
 * nothing else.
 *
 * As for the scheduler driver, a driver is two objects: executor_driver_t, the handle the
 * executor holds (from start to free, read from any thread, its status atomic), and
 * exec_state_t, the actor's private state, touched only inside the actor: the calls check
 * exec_driver_running (the driver whose event the current thread runs) before using d->st.
 */
#ifndef FRAMEWORKS_EXECUTOR_DRIVER_INT_H
#define FRAMEWORKS_EXECUTOR_DRIVER_INT_H

#include <stdatomic.h>

#include "actor/clock.h"
#include "frameworks/executor_driver.h"
#include "internal.pb-c.h"

typedef struct exec_state exec_state_t;

struct executor_driver {
    actor_pid_t pid;          /* the driver's actor */
    _Atomic int status;       /* executor_driver_status_t */
    _Atomic bool closed;      /* stop or abort was called: no callback starts any more (an
                                 abort because the agent is gone leaves it false, so that
                                 `shutdown` and what follows still run) */
    executor_callbacks_t cbs; /* copied at start */
    void *user;               /* passed to every callback */
    exec_state_t *st;         /* the actor's state; inside the actor only, NULL after fini */
};

/* An update the agent has not acknowledged yet. */
typedef struct exec_update {
    Mesos__Internal__StatusUpdate *update; /* a deep copy, uuid set */
    struct exec_update *next;
} exec_update_t;

/* A task the agent sent whose terminal update has not been acknowledged. */
typedef struct exec_task {
    Mesos__TaskInfo *info; /* a deep copy */
    struct exec_task *next;
} exec_task_t;

struct exec_state {
    executor_driver_t *d;
    actor_t *self;
    actor_pid_t agent;  /* from the options; a reconnecting agent's new PID replaces it */
    char *framework_id; /* copies of the options' ids */
    char *executor_id;
    char *agent_id; /* from the agent's answers, else the options; may be NULL */
    bool checkpoint;
    int64_t recovery_timeout_ns, shutdown_grace_ns, registration_retry_ns;
    int64_t update_retry_min_ns, update_retry_max_ns;
    int64_t update_retry_ns;             /* the next resend's delay */
    bool registered;                     /* the agent answered a registration once */
    bool connected;                      /* the link stands and the agent knows us */
    bool agent_gone;                     /* given up on the agent: nothing reaches it any more */
    bool shutting_down;                  /* `shutdown` was called */
    uint64_t connection;                 /* bumped by each (re)registration and link loss */
    actor_timer_id_t registration_timer; /* 0 when no retry is pending */
    actor_timer_id_t update_timer;       /* the resend of unacknowledged updates, or 0 */
    actor_timer_id_t shutdown_timer;     /* the grace period of a shutdown, or 0 */
    exec_update_t *updates;              /* unacknowledged, oldest first */
    exec_task_t *tasks;                  /* in launch order */
    bool stop_pending;                   /* stop or abort asked: end after the current event */
    bool ended;                          /* actor_terminate was called */
};

/* The driver whose event the calling thread is running, or NULL outside any driver. */
extern _Thread_local executor_driver_t *exec_driver_running;

/* Whether callbacks may still run. */
static inline bool exec_callbacks_on(const executor_driver_t *d)
{
    return !atomic_load(&d->closed);
}

/* Whether calls may still send: running, neither stopped nor aborted. */
static inline bool exec_running(const executor_driver_t *d)
{
    return !atomic_load(&d->closed) && atomic_load(&d->status) == EXECUTOR_DRIVER_RUNNING;
}

/* Enters and leaves one event of the driver's actor: leave ends the actor if the event asked for
 * a stop. */
executor_driver_t *exec_enter(exec_state_t *st);
void exec_leave(exec_state_t *st, executor_driver_t *previous);

/* Aborts from inside the actor (status ABORTED unless stopped, the actor ends after the event).
 * Cannot fail. */
void exec_abort(exec_state_t *st);

/* Inside the actor: sends msg to the agent. */
void exec_send(exec_state_t *st, const ProtobufCMessage *msg);

/* ---- executor_driver_calls.c ---- */

/* Inside the actor: builds, keeps and (when the agent can hear it) sends the update of status,
 * which is borrowed. Errors: ACTOR_ENOMEM. */
actor_err_t exec_update_send(exec_state_t *st, const Mesos__TaskStatus *status);

/* Inside the actor: every unacknowledged update again, oldest first, and the resend timer. */
void exec_updates_resend(exec_state_t *st);

/* Inside the actor: the ReregisterExecutorMessage answering a reconnect request: the tasks and
 * every unacknowledged update. */
void exec_send_reregister(exec_state_t *st);

/* Handler of StatusUpdateAcknowledgementMessage. */
void exec_on_ack(actor_t *self, void *state, const actor_pid_t *from, const ProtobufCMessage *msg);

/* Whether a message claiming to come from the agent does (logged when not). */
bool exec_from_agent(const exec_state_t *st, const actor_pid_t *from, const char *what);

/* Frees the updates and tasks lists. Cannot fail. */
void exec_lists_free(exec_state_t *st);

#endif
