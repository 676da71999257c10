/*
 * master_int.h: the master's state and the functions its files share. Not for use outside
 * master/ (tests included: they see the master through its messages and HTTP endpoints).
 *
 * Files:
 *   master.c       the actor: init, fini, message table, link exits, start and stop
 *   frameworks.c   SUBSCRIBE, failover and its timeout, TEARDOWN, removal, completed frameworks
 *   agents.c       registration, reregistration, ping/pong, disconnection, unreachable agents,
 *                  agents the registry remembers after a master restart
 *   offers.c       grants from the allocator become offers; DECLINE, rescind, ACCEPT and LAUNCH
 *   tasks.c        status updates, acknowledgements, KILL, reconciliation, task bookkeeping
 *   events.c       sending scheduler events and master-generated status updates
 *   http*.c        the classic HTTP endpoints (Mesos's v0 JSON)
 *   api_v1*.c      the v1 operator API (/api/v1): calls, models, SUBSCRIBE streams (api_v1.h)
 *   pool.c         a bump allocator for the v1 API's answers
 *
 * Ownership: every struct below belongs to the master actor's state and is touched only inside
 * its handlers. Tables are uthash tables keyed by id string; per-agent and per-framework lists
 * are utlist doubly linked lists.
 */
#ifndef MASTER_MASTER_INT_H
#define MASTER_MASTER_INT_H

#include <stdbool.h>
#include <stdint.h>

#include <uthash.h>

#include "actor/actor.h"
#include "actor/clock.h"
#include "actor/http.h"
#include "internal.pb-c.h"
#include "master/allocator/allocator_actor.h"
#include "master/allocator/packed.h"
#include "master/master.h"
#include "mesos.pb-c.h"
#include "resources/resources.h"
#include "scheduler.pb-c.h"

typedef struct master_framework master_framework_t;
typedef struct master_agent master_agent_t;
typedef struct master_subscriber master_subscriber_t; /* api_v1_stream.c */

/* What /version and GET_VERSION report as the build date. */
#define MASTER_BUILD_DATE __DATE__ " " __TIME__

/* One entry of a task's status history, as /state shows it. */
typedef struct master_status_entry {
    double timestamp; /* seconds since the epoch */
    uint8_t state;    /* Mesos__TaskState */
    bool has_healthy, healthy;
} master_status_entry_t;

/*
 * A task. The master keeps one per task it knows (100,000 in a large cluster), so it is kept
 * compact: its strings live in the same block as the struct, its resources in one packed block,
 * the latest status as protobuf bytes, and the links of the agent's list and of the completed or
 * unreachable ring share storage (a task is on its agent or on a ring, never both).
 */
typedef struct master_task {
    const char *id; /* in the task's block, as name and executor_id */
    const char *name;
    const char *executor_id; /* NULL for a command task (Mesos shows "") */
    master_framework_t *framework;
    master_agent_t *agent; /* NULL once the task left its agent */
    /* The agent's id: agent->id (borrowed) while on its agent, a copy of its own after it left
     * (agent_id_owned), for the unreachable and completed tasks that still show it. */
    const char *agent_id;
    packed_t resources;  /* read as resources.r */
    uint8_t *status;     /* the latest status packed without data, task_id or agent_id;
                            NULL before the first update */
    uint32_t status_len; /* bytes */
    uint32_t extra_len;  /* bytes */
    uint8_t *extra;      /* a packed Mesos__Task holding labels, discovery, health_check,
                            kill_policy and user when the TaskInfo had any; NULL otherwise */
    master_status_entry_t *statuses; /* history, oldest first; exactly status_count entries */
    uint8_t status_count;
    uint8_t state; /* Mesos__TaskState the framework was last told */
    /* The update last forwarded to the framework (the oldest the agent has not had
     * acknowledged): its acknowledgement retires a task whose update was terminal. */
    uint8_t status_update_state;
    uint8_t status_update_uuid_len;
    bool agent_id_owned;
    uint8_t status_update_uuid[16];
    double unreachable_time; /* > 0 while the task sits among the unreachable */
    UT_hash_handle hh;       /* framework->tasks */
    union {
        struct master_task *agent_prev, *ring_prev;
    };
    union {
        struct master_task *agent_next, *ring_next;
    }; /* agent->tasks while on its agent; then the completed or unreachable ring */
} master_task_t;

/* A bounded list of tasks, oldest first (completed tasks, unreachable tasks). */
typedef struct master_task_ring {
    master_task_t *head;
    size_t count, limit;
} master_task_ring_t;

typedef struct master_offer {
    char *id;
    master_framework_t *framework;
    master_agent_t *agent;
    char *role;
    resources_t resources;
    UT_hash_handle hh;                            /* master->offers */
    struct master_offer *fw_prev, *fw_next;       /* framework->offers */
    struct master_offer *agent_prev, *agent_next; /* agent->offers */
} master_offer_t;

struct master_framework {
    char *id;
    Mesos__FrameworkInfo *info; /* owned; info->id set */
    actor_pid_t pid;            /* the scheduler; none for a framework known only from agents */
    bool connected;             /* its scheduler is subscribed and its link holds */
    bool active;                /* gets offers (connected, not torn down) */
    bool partition_aware;       /* FrameworkInfo capability PARTITION_AWARE */
    char **roles;
    size_t role_count;
    double registered_time, reregistered_time, unregistered_time;
    actor_timer_id_t failover_timer; /* 0 when none */
    char *failover_arg;              /* the timer's argument (a copy of id), freed on cancel */
    master_task_t *tasks;            /* active tasks by id */
    master_task_ring_t completed_tasks;
    master_task_ring_t unreachable_tasks;
    master_offer_t *offers;
    resources_t used;    /* by its active tasks */
    resources_t offered; /* in its outstanding offers */
    UT_hash_handle hh;   /* master->frameworks, or master->completed_frameworks */
    master_framework_t *ring_prev, *ring_next; /* completed frameworks */
};

struct master_agent {
    char *id;
    actor_pid_t pid;
    char *pid_key;          /* pid as text: key of master->agents_by_pid */
    Mesos__AgentInfo *info; /* owned; info->id set */
    char *version;
    resources_t total;
    resources_t used;    /* by tasks */
    resources_t offered; /* in outstanding offers */
    bool connected;      /* its link holds and it answers pings */
    bool pong;           /* answered since the last ping */
    uint32_t missed_pings;
    bool removing; /* a registrar operation removing it is in flight */
    double registered_time, reregistered_time;
    master_task_t *tasks;
    size_t task_count;
    master_offer_t *offers;
    UT_hash_handle hh;     /* master->agents */
    UT_hash_handle hh_pid; /* master->agents_by_pid */
};

/* An agent id with a time: unreachable and gone agents, and agents a restarted master expects. */
typedef struct master_agent_mark {
    char *id;
    double time;
    Mesos__AgentInfo *info; /* recovered agents only */
    UT_hash_handle hh;
} master_agent_mark_t;

/* An agent (re)registration waiting for the registrar, so that retries are not written twice. */
typedef struct master_pending_agent {
    char *key; /* the agent's PID text (registration) or id (reregistration) */
    UT_hash_handle hh;
} master_pending_agent_t;

typedef struct master_weight {
    char *role;
    double weight;
    UT_hash_handle hh;
} master_weight_t;

typedef struct master_counters {
    uint64_t tasks_by_state[16]; /* terminal transitions seen, by Mesos__TaskState */
    uint64_t valid_status_updates, invalid_status_updates;
    uint64_t valid_framework_calls, invalid_framework_calls;
    uint64_t offers_declined, offers_rescinded;
    uint64_t agent_registrations, agent_reregistrations, agent_removals;
    uint64_t agents_unreachable, agents_reachable;
    uint64_t agents_unreachable_scheduled; /* markings begun (pings missed, or not back) */
    uint64_t agents_unhealthy;             /* marked unreachable for missed pings */
    uint64_t recovery_agent_removals;      /* marked unreachable for not reregistering */
    uint64_t frameworks_removed;
    uint64_t valid_acknowledgements, invalid_acknowledgements;
    uint64_t messages_register, messages_reregister, messages_unregister;
    uint64_t messages_status_update;
    uint64_t messages_framework_to_executor, valid_framework_to_executor_messages;
    uint64_t invalid_framework_to_executor_messages;
    uint64_t messages_executor_to_framework, valid_executor_to_framework_messages;
    uint64_t invalid_executor_to_framework_messages;
} master_counters_t;

typedef struct master {
    master_options_t opts;
    char *id; /* the master's uuid: prefix of framework, agent and offer ids */
    Mesos__MasterInfo *info;
    actor_pid_t self;
    actor_pid_t allocator;
    actor_pid_t registrar;
    double start_time;
    double elected_time;
    uint64_t next_framework, next_agent, next_offer;
    master_framework_t *frameworks;
    struct {
        master_framework_t *head;
        size_t count;
    } completed_frameworks;
    master_agent_t *agents;
    master_agent_t *agents_by_pid;
    master_agent_mark_t *unreachable; /* marked unreachable: may come back */
    master_agent_mark_t *gone;        /* marked gone: refused */
    master_agent_mark_t *recovered;   /* admitted in the registry, not yet reregistered */
    master_pending_agent_t *pending;
    master_offer_t *offers;
    master_weight_t *weights;
    actor_timer_id_t ping_timer, heartbeat_timer, recovery_timer, metrics_timer;
    master_counters_t counters;
    json_t *flags;
    master_subscriber_t *subscribers; /* SUBSCRIBE streams of /api/v1, oldest first */
    size_t subscriber_count;
    uint64_t next_subscriber; /* the last subscriber's id */
} master_t;

/* ---- time ---- */

/* Seconds since the epoch on the runtime's clock (frozen while a test pauses it). */
double master_now(void);

/* ---- frameworks.c ---- */

void master_handle_call(actor_t *self, void *state, const actor_pid_t *from,
                        const ProtobufCMessage *msg);
master_framework_t *master_framework_find(master_t *m, const char *id);
/* A framework known only from an agent's reregistration (its scheduler has not subscribed). */
/* Whether id names a framework that was removed (torn down or timed out): it never comes back. */
bool master_framework_removed(master_t *m, const char *id);
master_framework_t *master_framework_recover(master_t *m, const Mesos__FrameworkInfo *info);
/* The framework's scheduler link broke (or it failed over): deactivate and arm the failover
 * timer. */
void master_framework_disconnected(actor_t *self, master_t *m, master_framework_t *fw);
/* Tears the framework down: its tasks killed, offers rescinded, removed from the allocator,
 * moved to the completed frameworks. */
void master_framework_remove(actor_t *self, master_t *m, master_framework_t *fw);
void master_framework_free(master_framework_t *fw);
/* Cancels a pending failover timeout, if any. */
void master_framework_cancel_failover(master_framework_t *fw);
/* Whether role is a valid role name (Mesos's rules). */
bool master_role_valid(const char *role, const char **why);

/* ---- messages.c ---- */

/* Call.MESSAGE: forwards the data to the executor's agent as a FrameworkToExecutorMessage. */
void master_handle_message(actor_t *self, master_t *m, master_framework_t *fw,
                           const Mesos__Scheduler__Call__Message *message);
/* An agent's ExecutorToFrameworkMessage: forwards it to the framework as Event.MESSAGE. */
void master_handle_executor_message(actor_t *self, void *state, const actor_pid_t *from,
                                    const ProtobufCMessage *msg);

/* ---- agents.c ---- */

void master_handle_register_agent(actor_t *self, void *state, const actor_pid_t *from,
                                  const ProtobufCMessage *msg);
void master_handle_reregister_agent(actor_t *self, void *state, const actor_pid_t *from,
                                    const ProtobufCMessage *msg);
void master_handle_unregister_agent(actor_t *self, void *state, const actor_pid_t *from,
                                    const ProtobufCMessage *msg);
void master_handle_pong(actor_t *self, void *state, const actor_pid_t *from,
                        const ProtobufCMessage *msg);
master_agent_t *master_agent_find(master_t *m, const char *id);
master_agent_t *master_agent_find_pid(master_t *m, const actor_pid_t *pid);
void master_agent_disconnected(actor_t *self, master_t *m, master_agent_t *agent);
/* Takes the agent out of the cluster now: offers rescinded, tasks reported `state` (partition-
 * aware frameworks) or TASK_LOST (others) with `reason` and retired, frameworks told FAILURE, the
 * allocator told. With unreachable, its tasks wait among the unreachable for it to come back. */
void master_agent_remove(actor_t *self, master_t *m, master_agent_t *agent, int state, int reason,
                         bool unreachable);
/* Starts the periodic pings (called once from init). */
void master_agents_start_pings(actor_t *self, master_t *m);
/* After a restart: the registry's agents must reregister within agent_reregister_timeout. */
void master_agents_recover(actor_t *self, master_t *m);
void master_agent_free(master_agent_t *agent);
void master_marks_free(master_agent_mark_t **marks);
/* Records id at time in table (replacing an earlier mark of it); NULL when out of memory. */
master_agent_mark_t *master_mark_add(master_agent_mark_t **table, const char *id, double time);

/* ---- offers.c ---- */

void master_offer_grants(actor_t *self, void *state, allocator_grants_t *grants);
void master_handle_decline(actor_t *self, master_t *m, master_framework_t *fw,
                           const Mesos__Scheduler__Call__Decline *decline);
void master_handle_accept(actor_t *self, master_t *m, master_framework_t *fw,
                          const Mesos__Scheduler__Call__Accept *accept);
/* Withdraws an offer: RESCIND to its framework (if `tell`), resources back to the allocator. */
void master_offer_rescind(actor_t *self, master_t *m, master_offer_t *offer, bool tell);
void master_offer_free(master_offer_t *offer);
/* Fills msg (with oid and alloc, the caller's) as the offer is sent to its framework, borrowing
 * the offer's strings; master_offer_message_fini frees the resources it converted. */
void master_offer_message(const master_offer_t *offer, Mesos__Offer *msg, Mesos__OfferID *oid,
                          Mesos__Resource__AllocationInfo *alloc);
void master_offer_message_fini(Mesos__Offer *msg);

/* ---- tasks.c ---- */

void master_handle_status_update(actor_t *self, void *state, const actor_pid_t *from,
                                 const ProtobufCMessage *msg);
void master_handle_exited_executor(actor_t *self, void *state, const actor_pid_t *from,
                                   const ProtobufCMessage *msg);
void master_handle_acknowledge(actor_t *self, master_t *m, master_framework_t *fw,
                               const Mesos__Scheduler__Call__Acknowledge *ack);
void master_handle_kill(actor_t *self, master_t *m, master_framework_t *fw,
                        const Mesos__Scheduler__Call__Kill *kill);
void master_handle_reconcile(actor_t *self, master_t *m, master_framework_t *fw,
                             const Mesos__Scheduler__Call__Reconcile *reconcile);
/* A new task in TASK_STAGING on agent for fw (from a LAUNCH or an agent's report). */
master_task_t *master_task_add(master_framework_t *fw, master_agent_t *agent,
                               const Mesos__TaskInfo *info, int state);
/* A task reported by a reregistering agent. */
master_task_t *master_task_add_reported(master_framework_t *fw, master_agent_t *agent,
                                        const Mesos__Task *task);
/* Records a status (the task's state changes to status->state); frees resources on a terminal
 * state. */
void master_task_update(actor_t *self, master_t *m, master_task_t *task,
                        const Mesos__TaskStatus *status);
/* Moves the task to `state` on the master's own authority (source MASTER, with reason and
 * message), telling its framework if `tell`. */
void master_task_transition(actor_t *self, master_t *m, master_task_t *task, int state, int reason,
                            const char *message, bool tell);
/* Takes the task off its agent and out of the active table: into the completed ring (terminal)
 * or the unreachable ring. */
void master_task_retire(master_task_t *task, bool unreachable);
void master_task_free(master_task_t *task);
void master_ring_push(master_task_ring_t *ring, master_task_t *task);
void master_ring_clear(master_task_ring_t *ring);
bool master_state_terminal(int state);
const char *master_state_name(int state);

/* ---- events.c ---- */

void master_send_event(actor_t *self, master_framework_t *fw, const Mesos__Scheduler__Event *ev);
/* Sends the framework a status update the master made itself (not acknowledged). */
void master_send_update(actor_t *self, master_framework_t *fw, const char *task_id,
                        const char *agent_id, int state, int reason, const char *message);
/* Sends the framework an UPDATE event carrying status. */
void master_send_status(actor_t *self, master_framework_t *fw, const Mesos__TaskStatus *status);
void master_send_error(actor_t *self, const actor_pid_t *to, const char *message);

/* ---- http.c ---- */

extern const actor_http_route_t master_routes[];
extern const size_t master_route_count;

/* A role as /roles and GET_ROLES show it: every role with frameworks or a weight of its own. */
typedef struct master_role_view {
    const char *name; /* borrowed from a framework or a weight */
    double weight;
    const master_framework_t **frameworks; /* subscribed to it */
    size_t framework_count;
    resources_t resources; /* used and offered by those frameworks */
} master_role_view_t;

/* The roles, frameworks' roles first, in a new array of *count; free with master_roles_free.
 * ACTOR_ENOMEM. */
actor_err_t master_roles_collect(master_t *m, master_role_view_t **out, size_t *count);
void master_roles_free(master_role_view_t *roles, size_t count);
double master_weight_of(master_t *m, const char *role);
/* Checks and stores weights (borrowed for the call) through the registrar, then updates the
 * allocator and answers req: 200 once durable, 400 for a bad role or weight, 503. */
void master_weights_update(actor_t *self, master_t *m, actor_http_request_t *req,
                           const Mesos__WeightInfo *const *weights, size_t count);
/* Tears framework `id` down and answers req: 200, or 400 when no such framework is active. */
void master_teardown(actor_t *self, master_t *m, actor_http_request_t *req, const char *id);

/* ---- http_ui.c ---- */

/* GET / and /ui/...: the web UI, compiled in from ui/master/. */
void master_http_ui(actor_t *self, void *state, actor_http_request_t *req);

/* ---- api_v1.c ---- */

/* POST /api/v1: one mesos.master.Call. */
void master_handle_api(actor_t *self, void *state, actor_http_request_t *req);

/* ---- api_v1_stream.c: events to SUBSCRIBE's streams (each costs nothing without one) ---- */

void master_event_task_added(master_t *m, const master_task_t *task);
/* The task's state changed by status (or by the master's own transition). */
void master_event_task_updated(master_t *m, const master_task_t *task,
                               const Mesos__TaskStatus *status);
void master_event_agent_added(master_t *m, const master_agent_t *agent);
void master_event_agent_removed(master_t *m, const char *agent_id);
void master_event_framework_added(master_t *m, const master_framework_t *fw);
void master_event_framework_updated(master_t *m, const master_framework_t *fw);
void master_event_framework_removed(master_t *m, const master_framework_t *fw);
/* Ends every stream (the master is stopping). */
void master_subscribers_close(master_t *m);

/* ---- metrics.c ---- */

/* Registers the gauges and publishes them now and every second. */
void master_metrics_register(actor_t *self, master_t *m);
/* Publishes now (tests read metrics right after an event). */
void master_metrics_publish(master_t *m);
void master_metrics_unregister(master_t *m);

#endif
