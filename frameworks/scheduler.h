/*
 * scheduler.h: the scheduler driver, what a framework is written against (Mesos's
 * MesosSchedulerDriver and v1 scheduler library, in C). DESIGN.md section 8.
 *
 * A framework is a set of callbacks plus its own state. The driver is an actor of its own: it
 * subscribes to the master with the framework's FrameworkInfo (retrying with backoff until the
 * master answers), turns each mesos.scheduler.Event the master sends into one callback, and
 * sends mesos.scheduler.Call messages for the calls below. It links to the master: when the link
 * breaks, or when no event (heartbeats included) arrives for several heartbeat intervals, it
 * calls `disconnected` and subscribes again with the framework id it was given (a failover, so
 * the framework keeps its tasks as long as the master kept it: see failover_timeout).
 *
 * A minimal framework (frameworks/sleepy/sleepy.c is a complete one):
 *
 *     static scheduler_resources_t task_resources;   // scheduler_resources_parse("cpus:1", ...)
 *
 *     static void on_offers(scheduler_driver_t *d, void *user, const Mesos__Offer *const *offers,
 *                           size_t count)
 *     {
 *         for (size_t i = 0; i < count; i++) {
 *             scheduler_task_t task;        // a TaskInfo on the stack, borrowing its strings
 *             scheduler_task_init(&task, "task-1", "hello", offers[i]->agent_id->value,
 *                                 "echo hello", task_resources.items, task_resources.count);
 *             Mesos__TaskInfo *tasks[] = {&task.info};
 *             const char *ids[] = {offers[i]->id->value};
 *             scheduler_driver_launch(d, ids, 1, tasks, 1, -1);
 *         }
 *     }
 *     static void on_update(scheduler_driver_t *d, void *user, const Mesos__TaskStatus *status)
 *     {
 *         if (mesos_task_state_terminal(status->state))   // proto/task_states.h
 *             scheduler_driver_stop(d, false);   // tear the framework down: we are done
 *     }
 *     int main(void)
 *     {
 *         scheduler_driver_options_t opts;
 *         scheduler_driver_options_init(&opts);
 *         opts.master = "127.0.0.1:5050";
 *         opts.name = "hello";
 *         scheduler_callbacks_t cbs = {.offers = on_offers, .update = on_update};
 *         scheduler_driver_status_t status;
 *         char err[256];
 *         if (scheduler_run(&opts, &cbs, NULL, &status, err, sizeof(err)) != ACTOR_OK)
 *             fprintf(stderr, "%s\n", err);   // until stopped (or SIGINT/SIGTERM)
 *     }
 *
 * scheduler_run is scheduler_runtime_start, scheduler_driver_start, scheduler_driver_run,
 * scheduler_driver_free and actor_runtime_stop in one call; a program that hosts other actors
 * (or several drivers) makes those calls itself.
 *
 * Threads. Callbacks run inside the driver's actor, one at a time, never concurrently with each
 * other, so the framework's state needs no lock if only callbacks touch it. They must not block.
 * Every call (launch, decline, kill, ...) may be made from a callback, where it is sent at once,
 * or from any other thread, where it is copied and handed to the driver's actor; either way
 * calls are sent in the order they were made from one thread. Calls made while the driver is not
 * subscribed are dropped (logged), as Mesos's driver drops them, except that the tasks of a
 * launch are answered with TASK_DROPPED (TASK_LOST without PARTITION_AWARE), reason
 * REASON_MASTER_DISCONNECTED, through the update callback. stop, status and join follow their
 * own rules below.
 *
 * Offers are valid until they are accepted, declined or rescinded, and all of them become
 * invalid when `disconnected` is called. Status updates carry a uuid when an agent sent them;
 * each must be acknowledged or the agent resends it (and holds back the task's later updates).
 * By default the driver acknowledges an update itself right after the update callback returns
 * (implicit acknowledgements); with explicit_acknowledgements the framework calls
 * scheduler_driver_acknowledge when it has durably handled the update.
 *
 * Errors are actor_err_t (actor/error.h). Calls return ACTOR_OK when the call was sent (or
 * dropped because the driver is disconnected, see above), ACTOR_EINVAL for malformed arguments
 * (a NULL id, a TaskInfo missing a required field), ACTOR_ECLOSED once the driver stopped or
 * aborted, ACTOR_ENOMEM.
 */
#ifndef FRAMEWORKS_SCHEDULER_H
#define FRAMEWORKS_SCHEDULER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "actor/actor.h"
#include "actor/flags.h"
#include "mesos.pb-c.h"
#include "resources/resources.h"
#include "scheduler.pb-c.h"

typedef struct scheduler_driver scheduler_driver_t;

/* FrameworkInfo capabilities (scheduler_driver_options_t.capabilities), one bit per Mesos
 * FrameworkInfo.Capability.Type. MULTI_ROLE is added by the driver when roles are given. */
#define SCHEDULER_CAPABILITY(type)           (1u << (MESOS__FRAMEWORK_INFO__CAPABILITY__TYPE__##type))
#define SCHEDULER_CAP_REVOCABLE_RESOURCES    SCHEDULER_CAPABILITY(REVOCABLE_RESOURCES)
#define SCHEDULER_CAP_TASK_KILLING_STATE     SCHEDULER_CAPABILITY(TASK_KILLING_STATE)
#define SCHEDULER_CAP_GPU_RESOURCES          SCHEDULER_CAPABILITY(GPU_RESOURCES)
#define SCHEDULER_CAP_SHARED_RESOURCES       SCHEDULER_CAPABILITY(SHARED_RESOURCES)
#define SCHEDULER_CAP_PARTITION_AWARE        SCHEDULER_CAPABILITY(PARTITION_AWARE)
#define SCHEDULER_CAP_MULTI_ROLE             SCHEDULER_CAPABILITY(MULTI_ROLE)
#define SCHEDULER_CAP_RESERVATION_REFINEMENT SCHEDULER_CAPABILITY(RESERVATION_REFINEMENT)
#define SCHEDULER_CAP_REGION_AWARE           SCHEDULER_CAPABILITY(REGION_AWARE)

typedef struct scheduler_driver_options {
    /* The master: its HTTP address "HOST:PORT" (actor port PORT + 10000, see
     * scheduler_master_pid), or its PID "master@IP:PORT". Required. */
    const char *master;
    /* FrameworkInfo fields. name is required; user NULL = the name of the process's effective
     * user (as Mesos's driver fills it in). */
    const char *name;
    const char *user;
    const char *role;         /* the one role (Mesos's default "*" when NULL) */
    const char *const *roles; /* several roles: MULTI_ROLE is set and `role` is ignored */
    size_t role_count;        /* entries of roles; 0 = use `role` */
    double failover_timeout;  /* seconds the master keeps the framework and its tasks after
                                 losing the scheduler (0, as Mesos: removed at once) */
    bool checkpoint;          /* agents checkpoint its tasks to survive a restart (false) */
    unsigned capabilities;    /* SCHEDULER_CAP_* bits (0) */
    const char *hostname;     /* optional FrameworkInfo fields; NULL = unset */
    const char *principal;
    const char *webui_url;
    /* Fail over to this framework (an id a previous scheduler was given); NULL = a new one. */
    const char *framework_id;
    /* A complete FrameworkInfo to subscribe with instead of the fields above (copied at start;
     * its id, when set, is used as framework_id). NULL = build it from the fields above. */
    const Mesos__FrameworkInfo *framework_info;

    /* false (default): the driver acknowledges each update after the update callback returns.
     * true: the framework calls scheduler_driver_acknowledge itself. */
    bool explicit_acknowledgements;
    /* Subscription retries: first attempt at once, then after backoff, doubling up to
     * backoff_max (Mesos's registration backoff: 2secs up to 1mins). */
    int64_t backoff_ns;
    int64_t backoff_max_ns;
    /* The master is considered lost when more than this many heartbeat intervals in a row pass
     * without any event from it (5; the interval is the master's, 15 s by default). */
    unsigned heartbeat_misses;
    const char *id; /* the driver actor's id; NULL = the next "scheduler(N)" */
} scheduler_driver_options_t;

/* Fills opts with the defaults above (everything else zero/NULL). Cannot fail. */
void scheduler_driver_options_init(scheduler_driver_options_t *opts);

/*
 * What the framework implements. Any member may be NULL: the event is then ignored, except
 * that offers are declined and updates still acknowledged (implicit acknowledgements). Every
 * callback runs inside the driver's actor and borrows its arguments until it returns (copy what you
 * keep: actor/pbcopy.h). `user` is scheduler_driver_start's. From a callback, any driver call may
 * be made, including scheduler_driver_stop, after which no further callback runs.
 */
typedef struct scheduler_callbacks {
    /* Subscribed, for the first time or again after a disconnection (resubscribed = true).
     * framework_id stays the same across resubscriptions; keep it to fail over from another
     * process (options.framework_id). master_info may be NULL. After a resubscription, send
     * scheduler_driver_reconcile(d, NULL, NULL, 0) to learn what changed meanwhile. */
    void (*subscribed)(scheduler_driver_t *d, void *user, const char *framework_id,
                       bool resubscribed, const Mesos__MasterInfo *master_info);
    /* Resources offered; answer each offer with launch/accept or decline (an unanswered offer
     * keeps its resources from every other framework until it is rescinded). */
    void (*offers)(scheduler_driver_t *d, void *user, const Mesos__Offer *const *offers,
                   size_t count);
    /* The master took an offer back: launches on it will fail (TASK_LOST/TASK_DROPPED). */
    void (*rescind)(scheduler_driver_t *d, void *user, const char *offer_id);
    /* A task's status changed (or a reconciliation answer: reason REASON_RECONCILIATION). */
    void (*update)(scheduler_driver_t *d, void *user, const Mesos__TaskStatus *status);
    /* A message from one of the framework's executors. */
    void (*message)(scheduler_driver_t *d, void *user, const char *agent_id,
                    const char *executor_id, const uint8_t *data, size_t len);
    /* An agent was lost (executor_id NULL) or an executor exited (executor_id set, status its
     * wait status, or -1 when unknown). agent_id may be NULL. */
    void (*failure)(scheduler_driver_t *d, void *user, const char *agent_id,
                    const char *executor_id, int status);
    /* The master refused the framework (an invalid FrameworkInfo, a removed framework, a
     * failover by another scheduler, ...). The driver has aborted when this returns: no call
     * works any more and join returns SCHEDULER_DRIVER_ABORTED. */
    void (*error)(scheduler_driver_t *d, void *user, const char *message);
    /* The master was lost (link broken, or heartbeats missed): outstanding offers are void and
     * calls are dropped until `subscribed` runs again; the driver is already resubscribing. */
    void (*disconnected)(scheduler_driver_t *d, void *user);
} scheduler_callbacks_t;

typedef enum scheduler_driver_status {
    SCHEDULER_DRIVER_RUNNING = 1, /* started, subscribed or trying to */
    SCHEDULER_DRIVER_STOPPED,     /* scheduler_driver_stop was called */
    SCHEDULER_DRIVER_ABORTED,     /* the master sent an error */
} scheduler_driver_status_t;

/*
 * Starts a driver: checks the options, spawns its actor, which then subscribes. The runtime must
 * be running (with a transport when the master is in another process: scheduler_runtime_start).
 * opts and everything it points to are copied; cbs is copied; user is passed to every callback.
 * On ACTOR_OK *out is the driver (release it with scheduler_driver_free). Errors: ACTOR_EINVAL
 * (no master or a malformed one, no name; the reason is logged), ACTOR_ENOMEM, ACTOR_EEXIST (id
 * taken), ACTOR_ECLOSED (runtime not running). On error no callback ever runs. Thread-safe.
 */
actor_err_t scheduler_driver_start(const scheduler_driver_options_t *opts,
                                   const scheduler_callbacks_t *cbs, void *user,
                                   scheduler_driver_t **out);

/*
 * Stops the driver. failover = false: the framework is torn down (TEARDOWN: the master kills its
 * tasks and forgets it), as Mesos's stop(false). failover = true: the driver just goes away; the
 * master keeps the framework and its tasks for failover_timeout, for another scheduler to
 * subscribe with the same framework id. No callback starts after stop returns (one running on
 * another thread may finish; join waits for it). Returns the status after the call (STOPPED, or
 * ABORTED if it had aborted before). Thread-safe; may be called from callbacks; idempotent.
 */
scheduler_driver_status_t scheduler_driver_stop(scheduler_driver_t *d, bool failover);

/* The driver's status now. Thread-safe. */
scheduler_driver_status_t scheduler_driver_status(const scheduler_driver_t *d);

/* Blocks until the driver's actor has ended (after stop, or an abort), then returns the final
 * status. Never call it from a callback or any other actor's handler (it would block a worker);
 * from a callback it logs an error and returns at once. */
scheduler_driver_status_t scheduler_driver_join(scheduler_driver_t *d);

/* join, except that SIGINT or SIGTERM meanwhile stop the driver with failover = false first.
 * Those signals must be blocked in every thread (scheduler_runtime_start does that). */
scheduler_driver_status_t scheduler_driver_run(scheduler_driver_t *d);

/* Stops the driver if it still runs (with failover = true, as Mesos's driver destructor does),
 * joins it and frees it. d NULL: nothing. Not from a callback. */
void scheduler_driver_free(scheduler_driver_t *d);

/* ---- calls (see the header comment for threads and errors) ---- */

/*
 * Accepts offers (all on one agent) with operations. filters NULL = the master's default (the
 * unused resources of the offers are not offered again to this framework for 5 seconds). Tasks
 * that cannot run are answered by update: TASK_ERROR (invalid task, e.g. resources not in the
 * offers) or TASK_DROPPED/TASK_LOST (invalid or rescinded offers, reason REASON_INVALID_OFFERS).
 */
actor_err_t scheduler_driver_accept(scheduler_driver_t *d, const char *const *offer_ids,
                                    size_t offer_count, Mesos__Offer__Operation *const *operations,
                                    size_t operation_count, const Mesos__Filters *filters);

/* accept with one LAUNCH operation of the tasks (Mesos's launchTasks). refuse_seconds < 0 = the
 * master's default filter (5 seconds); otherwise how long the resources left unused stay away. */
actor_err_t scheduler_driver_launch(scheduler_driver_t *d, const char *const *offer_ids,
                                    size_t offer_count, Mesos__TaskInfo *const *tasks,
                                    size_t task_count, double refuse_seconds);

/* Declines an offer; its resources are not offered to this framework again for refuse_seconds
 * (< 0: the master's default, 5 seconds) unless it revives. */
actor_err_t scheduler_driver_decline(scheduler_driver_t *d, const char *offer_id,
                                     double refuse_seconds);

/* Clears the framework's filters and resumes offers for role (NULL: every role). */
actor_err_t scheduler_driver_revive(scheduler_driver_t *d, const char *role);

/* Stops offers for role (NULL: every role) until revive. */
actor_err_t scheduler_driver_suppress(scheduler_driver_t *d, const char *role);

/* Kills a task; agent_id may be NULL. The answer is an update: TASK_KILLED (or TASK_KILLING
 * first with TASK_KILLING_STATE), or TASK_LOST/TASK_UNKNOWN for a task the master does not know. */
actor_err_t scheduler_driver_kill(scheduler_driver_t *d, const char *task_id, const char *agent_id);

/* Acknowledges an update (explicit_acknowledgements only: with implicit acknowledgements it
 * returns ACTOR_EINVAL, as Mesos's driver refuses). Updates without a uuid (the master's own:
 * reconciliation answers, invalid launches) need none: ACTOR_OK, nothing is sent. */
actor_err_t scheduler_driver_acknowledge(scheduler_driver_t *d, const Mesos__TaskStatus *status);

/* Asks for the latest state of tasks, answered by updates with reason REASON_RECONCILIATION.
 * count 0 (implicit reconciliation): every task the master knows of the framework. agent_ids
 * may be NULL, or hold count entries, each NULL or the task's agent. */
actor_err_t scheduler_driver_reconcile(scheduler_driver_t *d, const char *const *task_ids,
                                       const char *const *agent_ids, size_t count);

/* Sends data (copied) to one of the framework's executors. */
actor_err_t scheduler_driver_message(scheduler_driver_t *d, const char *agent_id,
                                     const char *executor_id, const void *data, size_t len);

/* Tears the framework down: the same as scheduler_driver_stop(d, false); ACTOR_ECLOSED if the
 * driver was no longer running. */
actor_err_t scheduler_driver_teardown(scheduler_driver_t *d);

/* ---- helpers for framework programs ---- */

/*
 * Runs a framework program's driver from start to end: starts the process's runtime for
 * opts->master (scheduler_runtime_start, its address chosen by the route to the master), starts
 * the driver, runs it until it stops (SIGINT and SIGTERM stop it with failover = false), frees
 * it and stops the runtime. Call from main before any other thread exists. On ACTOR_OK *status is
 * the driver's final status. Otherwise (a bad master, the runtime or the driver could not start)
 * err holds a one-line message and no callback ran.
 */
actor_err_t scheduler_run(const scheduler_driver_options_t *opts, const scheduler_callbacks_t *cbs,
                          void *user, scheduler_driver_status_t *status, char *err, size_t err_len);

/* Parses a framework program's flags (actor/flags.h; also from MESOS_<FLAG> variables). Returns
 * true when the program should go on; false when it should exit with *exit_status: 1 after
 * printing a flag error on stderr, 0 after printing the usage for --help on stdout. */
bool scheduler_program_flags(flags_flag_t *table, int argc, char **argv, const char *program,
                             int *exit_status);

/* A task's resources in the two forms a framework needs: a set to compare offers with
 * (resources/resources.h) and the list a TaskInfo carries. */
typedef struct scheduler_resources {
    resources_t set;
    Mesos__Resource **items; /* for TaskInfo.resources (scheduler_task_init) */
    size_t count;
} scheduler_resources_t;

/* Parses resources text (`cpus:0.1;mem:32`) as unreserved resources into r, which the call
 * initializes. Returns ACTOR_OK, ACTOR_EINVAL with a message in err (err_len bytes), or
 * ACTOR_ENOMEM. Call scheduler_resources_fini(r) in every case. */
actor_err_t scheduler_resources_parse(scheduler_resources_t *r, const char *text, char *err,
                                      size_t err_len);
void scheduler_resources_fini(scheduler_resources_t *r);

/*
 * A TaskInfo running a shell command, in caller storage, borrowing every string and the
 * resources (which must outlive its use). Set more fields on `info` or `command` (uris,
 * environment, labels) before handing &task.info to scheduler_driver_launch, which copies what
 * it sends. Do not copy the struct itself: `info` points into it. Cannot fail.
 */
typedef struct scheduler_task {
    Mesos__TaskInfo info; /* what to launch */
    Mesos__TaskID task_id;
    Mesos__AgentID agent_id;
    Mesos__CommandInfo command; /* shell = true, value = the command */
} scheduler_task_t;

void scheduler_task_init(scheduler_task_t *task, const char *task_id, const char *name,
                         const char *agent_id, const char *shell_command,
                         Mesos__Resource **resources, size_t resource_count);

/*
 * Turns a --master value into the master's actor PID: "HOST:PORT" is the master's HTTP address,
 * whose actor port is PORT + 10000 (DESIGN.md section 2), so "127.0.0.1:5050" gives
 * master@127.0.0.1:15050; "localhost" is 127.0.0.1; a PID ("master@IP:PORT") is taken as it is.
 * Returns ACTOR_OK, or ACTOR_EINVAL with a one-line message in err (err_len bytes). Thread-safe.
 */
actor_err_t scheduler_master_pid(const char *value, actor_pid_t *pid, char *err, size_t err_len);

/*
 * Starts this process's actor runtime for a framework whose master is `master` (a --master
 * value) with actor_daemon_start (actor/daemon.h): the actor transport on any free port of ip
 * (NULL: the local address the system routes to the master by, so the master can reach the
 * framework back); SIGINT and SIGTERM blocked in the calling thread first (so that every runtime
 * thread inherits the mask and scheduler_driver_run receives them); SIGPIPE ignored. Call from main
 * before any other thread exists. Errors: ACTOR_EINVAL (bad master or ip, message in err), the
 * runtime's errors.
 */
actor_err_t scheduler_runtime_start(const char *master, const char *ip, char *err, size_t err_len);

#endif
