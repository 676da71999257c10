/*
 * agent_int.h: the agent's state and the functions its files share. Not for use outside slave/
 * (tests see the agent through its messages and HTTP endpoints).
 *
 * Files:
 *   agent.c          the actor: start, init, fini, message table, registration with the master,
 *                    pings, the master's link
 *   tasks.c          RunTask, KillTask, executor registration, framework and executor shutdown,
 *                    task and executor bookkeeping
 *   containers.c     containers of real processes: sandbox, cgroups, fetcher, executor process,
 *                    its exit, destruction
 *   simulated.c      --containerizers=simulated: executors and tasks without processes
 *   status_updates.c the status update manager: per-task streams forwarded in order, retried with
 *                    backoff until acknowledged, duplicates dropped
 *   http.c           /state, /flags, /health, /monitor/statistics
 *   metrics.c        the agent's metrics (slave/tasks_running, ...) for /metrics/snapshot
 *   checkpoint.c     what a restarted agent needs, in an LMDB store under <work_dir>/meta
 *   recover.c        recovery from those checkpoints after a restart
 *   detect.c         resources detected from the machine
 *
 * Ownership: every struct below belongs to the agent actor's state and is touched only inside
 * its handlers. Tables are uthash tables keyed by id.
 */
#ifndef SLAVE_AGENT_INT_H
#define SLAVE_AGENT_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <uthash.h>

#include "actor/actor.h"
#include "actor/clock.h"
#include "actor/metrics_published.h"
#include "internal.pb-c.h"
#include "mesos.pb-c.h"
#include "resources/resources.h"
#include "slave/agent.h"
#include "slave/containerizer/cgroups.h"
#include "store/batch.h"
#include "store/store.h"

typedef struct agent agent_t;
typedef struct agent_framework agent_framework_t;
typedef struct agent_executor agent_executor_t;

/* Mesos's agent states. */
typedef enum agent_state {
    AGENT_DISCONNECTED, /* not (or no longer) registered: (re)registration is being retried */
    AGENT_RUNNING,      /* registered with the master */
    AGENT_TERMINATING,  /* the master shut it down */
} agent_state_t;

typedef struct agent_task {
    char *id;
    Mesos__TaskInfo *info; /* owned, as launched */
    agent_executor_t *executor;
    int state;                 /* the latest Mesos__TaskState reported */
    Mesos__TaskStatus *status; /* the latest status (owned), NULL before the first */
    resources_t resources;
    UT_hash_handle hh; /* one of the executor's queued, launched or terminated tables */
    UT_hash_handle fh; /* executor->framework->tasks, exactly while in one of those tables */
    struct agent_task *prev, *next; /* the executor's completed list */
} agent_task_t;

/* Where an executor is in its life. */
typedef enum agent_executor_state {
    EXECUTOR_FETCHING,    /* the fetcher runs */
    EXECUTOR_REGISTERING, /* the process runs; waiting for RegisterExecutorMessage */
    EXECUTOR_RUNNING,     /* registered: tasks go to it */
    EXECUTOR_TERMINATING, /* asked to shut down, or being destroyed */
    EXECUTOR_TERMINATED,  /* its process exited; kept until its tasks' updates are acknowledged */
} agent_executor_state_t;

struct agent_executor {
    char *id;
    agent_framework_t *framework;
    Mesos__ExecutorInfo *info; /* owned; generated for the command executor */
    bool command_executor;     /* the agent's mesos-executor runs the task's command */
    char container_id[37];
    char *directory; /* the run's sandbox */
    agent_executor_state_t state;
    actor_pid_t pid; /* the executor's actor, once registered */
    bool has_pid;
    pid_t os_pid;             /* the executor's process (0: none) */
    pid_t fetcher_pid;        /* the fetcher's process while fetching (0: none) */
    bool spawning;            /* the executor's spawn runs on a launcher thread */
    bool in_cgroups;          /* has cgroups to destroy */
    bool reaped;              /* the process's exit was seen */
    bool oom;                 /* the container hit its memory limit */
    bool shut_down;           /* the agent asked it to stop: its tasks end TASK_KILLED */
    bool reconnecting;        /* recovered after an agent restart, asked to reconnect */
    bool archived;            /* moved to framework->completed_executors (for good) */
    char *failure;            /* why the container failed (launch, fetch), NULL if it did not */
    int exit_status;          /* the wait status, -1 unknown */
    resources_t resources;    /* executor's own plus its tasks' */
    agent_task_t *queued;     /* waiting for the executor to register */
    agent_task_t *launched;   /* sent to the executor, not terminal */
    agent_task_t *terminated; /* terminal, their updates not yet acknowledged */
    agent_task_t *completed;  /* terminal and acknowledged (bounded list, oldest first) */
    size_t completed_count;
    actor_timer_id_t registration_timer;
    actor_timer_id_t shutdown_timer;
    double started_time;
    UT_hash_handle hh;                  /* framework->executors */
    struct agent_executor *prev, *next; /* framework->completed_executors */
};

struct agent_framework {
    char *id;
    Mesos__FrameworkInfo *info; /* owned */
    bool task_killing_state;    /* capability TASK_KILLING_STATE */
    bool shut_down;             /* the master removed it: its updates go nowhere any more */
    agent_executor_t *executors;
    /* Every task in one of its executors' queued, launched or terminated tables, by task id
     * (handle fh): ids are unique within a framework, so a task's executor is one lookup away
     * however many executors the framework has (the command executor makes one per task). */
    struct agent_task *tasks;
    agent_executor_t *completed_executors; /* bounded list, oldest first */
    size_t completed_count;
    UT_hash_handle hh; /* agent->frameworks */
};

/* One task's status update stream (status_updates.c). */
typedef struct agent_update {
    Mesos__Internal__StatusUpdate *update; /* owned */
    uint64_t seq;                          /* its place in the stream (and checkpoint key) */
    bool durable;                          /* checkpointed (or not to be): may be sent */
    struct agent_update *next;
} agent_update_t;

typedef struct agent_stream {
    char *key; /* "<framework id>/<task id>" */
    char *framework_id, *task_id;
    agent_update_t *head, *tail; /* unacknowledged updates, oldest first; head is in flight */
    uint8_t **seen;              /* uuids received, to drop duplicates */
    size_t seen_count;
    bool terminal;   /* a terminal update was received */
    bool checkpoint; /* the framework checkpoints: updates are written before they go on */
    uint64_t next_seq;
    uint64_t seq; /* bumped on every send and ack: a retry timer armed earlier does nothing */
    int64_t backoff_ns;
    UT_hash_handle hh;
} agent_stream_t;

struct agent {
    agent_options_t opts; /* strings owned (copied at start) */
    actor_t *self;
    actor_pid_t master;
    agent_state_t state;
    char *agent_id; /* NULL until registered */
    Mesos__AgentInfo *info;
    resources_t total;
    resources_t used; /* by executors and tasks */
    double start_time;
    /* Registration. */
    actor_timer_id_t register_timer;
    int64_t register_backoff_ns;
    double ping_timeout_seconds; /* from the master's MasterAgentConnection */
    int64_t last_ping_ns;
    actor_timer_id_t ping_check_timer;
    char *master_hostname;
    /* Tasks. */
    agent_framework_t *frameworks;
    agent_framework_t *completed_frameworks;
    agent_stream_t *streams;
    /* Containers. */
    cgroups_t *cgroups; /* NULL unless cgroups isolation */
    bool posix_measure;
    char *sandbox_root;         /* <work_dir>/slaves/<agent id> */
    bool sandbox_root_declared; /* a files root (files_root_add) until the agent stops */
    actor_pid_t files, gc;
    uint64_t container_seq;
    json_t *flags;
    /* Checkpoints (checkpoint.c): the store and the batch being gathered. */
    store_t *store;
    store_batch_t *batch;
    /* Recovery (recover.c): executors asked to reconnect that have not yet. */
    size_t reconnecting;
    bool recovered; /* recovery is over: the agent (re)registers */
    /* Metrics (metrics.c). */
    metrics_published_t *metrics;
    actor_timer_id_t metrics_timer;
    /* Counters for /metrics/snapshot. */
    uint64_t tasks_launched, tasks_finished, tasks_failed, tasks_killed, tasks_lost;
    uint64_t valid_status_updates, invalid_status_updates;
    uint64_t executors_registering, executors_terminated;
};

/* A PID's text for a log line (a temporary buffer that lives until the end of the enclosing
 * block). */
#define AGENT_PID_TEXT(pid) actor_pid_format((pid), (char[ACTOR_PID_STRLEN]){0}, ACTOR_PID_STRLEN)

/* ---- agent.c ---- */
double agent_now(void);
/* Sets sandbox_root once the agent has its id, and declares it to the files actor as the root
 * the agent makes its sandboxes below (files_root_add), unless simulated. */
void agent_sandbox_root_init(agent_t *a);
/* Sends msg to the master if registered (drops it otherwise: reregistration resends state). */
void agent_send_master(agent_t *a, const ProtobufCMessage *msg);

/* ---- tasks.c ---- */
void agent_on_run_task(actor_t *self, void *state, const actor_pid_t *from,
                       const ProtobufCMessage *msg);
void agent_on_kill_task(actor_t *self, void *state, const actor_pid_t *from,
                        const ProtobufCMessage *msg);
void agent_on_register_executor(actor_t *self, void *state, const actor_pid_t *from,
                                const ProtobufCMessage *msg);
void agent_on_shutdown_framework(actor_t *self, void *state, const actor_pid_t *from,
                                 const ProtobufCMessage *msg);
void agent_on_shutdown_executor(actor_t *self, void *state, const actor_pid_t *from,
                                const ProtobufCMessage *msg);
void agent_on_update_framework(actor_t *self, void *state, const actor_pid_t *from,
                               const ProtobufCMessage *msg);
void agent_on_reconcile_tasks(agent_t *a, const Mesos__Internal__ReconcileTasksMessage *m);
/* Framework messages pass through: master to executor, executor to master. */
void agent_on_framework_to_executor(actor_t *self, void *state, const actor_pid_t *from,
                                    const ProtobufCMessage *msg);
void agent_on_executor_to_framework(actor_t *self, void *state, const actor_pid_t *from,
                                    const ProtobufCMessage *msg);
agent_framework_t *agent_framework_find(agent_t *a, const char *id);
/* The task of that id in one of e's queued, launched or terminated tables, NULL if none. */
agent_task_t *agent_task_find(agent_executor_t *e, const char *task_id);
/* The task of that id in one of the framework's executors' queued, launched or terminated
 * tables (its executor is t->executor), NULL if none. One hash lookup in the framework's index. */
agent_task_t *agent_task_lookup(agent_t *a, const char *framework_id, const char *task_id);
/* Finds the executor running (or about to run) a task, NULL if none (agent_task_lookup's). */
agent_executor_t *agent_executor_of_task(agent_t *a, const char *framework_id, const char *task_id);
/* Puts a task (t->executor set, in no table yet) into one of its executor's tables (&e->queued,
 * &e->launched or &e->terminated) and its framework's index. False, and nothing done, when the
 * framework already has a task of that id: the caller keeps t. */
bool agent_task_add(agent_task_t **table, agent_task_t *t);
/* A status update (from an executor, the containerizer or the agent itself) changed a task's
 * state: moves the task between the executor's tables. */
void agent_task_update_state(agent_t *a, agent_executor_t *e, const Mesos__TaskStatus *status);
/* The terminal update of a task was acknowledged: the task is completed. */
void agent_task_completed(agent_t *a, const char *framework_id, const char *task_id);
/* The executor's container is gone: fails what is not terminal, tells the master, and forgets
 * the executor once nothing of it is pending. */
void agent_executor_terminated(agent_t *a, agent_executor_t *e);
/* Fills `tasks` (heap array of packed-ready Mesos__Task, owned by the caller: free with
 * agent_tasks_free) with every task the agent knows, for ReregisterAgentMessage. */
void agent_tasks_collect(agent_t *a, Mesos__Task ***tasks, size_t *count);
void agent_tasks_free(Mesos__Task **tasks, size_t count);
/* Sends a status update the agent makes itself (TASK_FAILED at launch, TASK_KILLED of a queued
 * task, a reconciliation answer, ...) through the status update manager. executor_id may be
 * NULL; reason 0 means none (the agent never sends REASON_COMMAND_EXECUTOR_FAILED, value 0). */
void agent_send_task_status(agent_t *a, const char *framework_id, const char *executor_id,
                            const char *task_id, Mesos__TaskState state,
                            Mesos__TaskStatus__Reason reason, const char *message);
void agent_executor_free(agent_executor_t *e);
/* A timer's name for an executor run (framework, container and executor ids), and the executor
 * it names, NULL once that run is gone (frees the key). Timers use these instead of pointers. */
char *agent_executor_key_new(const agent_executor_t *e);
agent_executor_t *agent_executor_by_key(agent_t *a, char *key);
void agent_framework_free(agent_framework_t *f);

/* ---- containers.c: the executor's container (real processes) ---- */
/* Creates the sandbox, the cgroups, runs the fetcher if the executor or its first task has
 * URIs, then starts the executor process. Failures end the executor (agent_executor_terminated)
 * with e->failure set. */
void agent_container_launch(agent_t *a, agent_executor_t *e, const Mesos__TaskInfo *first_task);

/* mkdir -p path (mode 0755; existing directories are fine). Returns 0 or an errno. */
int agent_make_dirs(const char *path);

/* Watches a recovered executor's process (not our child any more); false if it is gone or is
 * not the executor (its pid was reused). */
bool agent_container_recover(agent_t *a, agent_executor_t *e);
/* Kills every process of the container (cgroups, or the executor's process group). */
void agent_container_destroy(agent_t *a, agent_executor_t *e);
/* An executor reported a task FAILED: if its container hit its memory limit, the reason
 * becomes REASON_CONTAINER_LIMITATION_MEMORY (status is the agent's own copy). */
void agent_container_adjust_status(agent_t *a, agent_executor_t *e, Mesos__TaskStatus *status);
/* Per-container usage for /monitor/statistics; false if not measurable. */
bool agent_container_usage(agent_t *a, agent_executor_t *e, container_usage_t *usage);

/* ---- simulated.c ---- */
void agent_simulated_launch(agent_t *a, agent_executor_t *e);
void agent_simulated_run_task(agent_t *a, agent_executor_t *e, agent_task_t *t);
void agent_simulated_kill_task(agent_t *a, agent_executor_t *e, agent_task_t *t);
void agent_simulated_shutdown(agent_t *a, agent_executor_t *e);
/* tasks.c: a simulated executor is up and takes its queued tasks. */
void agent_simulated_registered(agent_t *a, agent_executor_t *e);

/* ---- status_updates.c ---- */
/* Takes an update for the framework (from an executor, whose PID ack_to receives the
 * acknowledgement once it is recorded, or from the agent, ack_to NULL). Duplicates are
 * acknowledged again and dropped. */
void agent_update_received(agent_t *a, const Mesos__Internal__StatusUpdate *update,
                           const actor_pid_t *ack_to);
void agent_on_status_update(actor_t *self, void *state, const actor_pid_t *from,
                            const ProtobufCMessage *msg);
void agent_on_status_update_ack(actor_t *self, void *state, const actor_pid_t *from,
                                const ProtobufCMessage *msg);
/* Forgets the streams of a framework the master removed (as Mesos's agent cleans up its status
 * update manager): no more retries of updates nobody will acknowledge. */
void agent_updates_drop_framework(agent_t *a, const char *framework_id);
/* Resends the update in flight of every stream (after (re)registration). */
void agent_updates_resend(agent_t *a);
void agent_updates_free(agent_t *a);

/* ---- checkpoint.c ---- */
/* Opens the checkpoint store, <work_dir>/meta. A simulated agent keeps its checkpoints in
 * memory: it runs no processes that could outlive it, so a restart has nothing to recover, and
 * ten thousand of them in one process (mesos-local's benchmarks) hold no files open. */
actor_err_t agent_checkpoint_open(const char *work_dir, bool simulated, store_t **store, char *err,
                                  size_t err_len);
/* A record's key: kind and up to three ids (NULL ends them). A heap string. */
char *agent_checkpoint_key(const char *kind, const char *a, const char *b, const char *c);
void agent_checkpoint_close(agent_t *a);
bool agent_framework_checkpoints(const agent_framework_t *f);
void agent_checkpoint_agent(agent_t *a);
void agent_checkpoint_framework(agent_t *a, agent_framework_t *f);
void agent_checkpoint_executor(agent_t *a, agent_executor_t *e);
void agent_checkpoint_task(agent_t *a, agent_executor_t *e, agent_task_t *t);
void agent_checkpoint_forget_task(agent_t *a, agent_executor_t *e, const char *task_id);
void agent_checkpoint_forget_executor(agent_t *a, agent_executor_t *e);
/* The kernel's boot id (changes at every boot: pids of an earlier boot mean nothing). */
bool agent_boot_id(char *out, size_t len);

/* ---- recover.c ---- */
/* Rebuilds frameworks, executors, tasks and status update streams from the checkpoints, and
 * asks the executors that still run to reconnect; registration starts once they have (or after
 * the executor reregistration timeout). Called by the actor's init. */
void agent_recover(agent_t *a);
void agent_on_reregister_executor(actor_t *self, void *state, const actor_pid_t *from,
                                  const ProtobufCMessage *msg);
/* Recovery is over: starts registering with the master (agent.c). */
void agent_recovery_done(agent_t *a);
/* Records a recovered stream's update (recover.c builds streams through this). */
void agent_updates_recover(agent_t *a, Mesos__Internal__StatusUpdate *update, uint64_t seq);

/* ---- metrics.c ---- */
void agent_metrics_start(agent_t *a);
void agent_metrics_stop(agent_t *a);

/* ---- http.c ---- */
void agent_http_install(agent_t *a);

/* ---- detect.c ---- */
/* The resources text for this machine when --resources is not given: cpus (online cores), mem
 * (physical memory less 1 GiB or half of it, as Mesos), disk (the work directory's filesystem
 * less 5 GiB or half of it) and ports [31000-32000]. A heap string. */
char *agent_detect_resources(const char *work_dir);

#endif
