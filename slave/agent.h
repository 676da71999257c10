/*
 * agent.h: the Mesos agent (DESIGN.md section 7), as an actor: it registers with the master,
 * runs the tasks the master sends it under executors in sandboxes, and carries their status
 * updates reliably back to the master.
 *
 * Used by mesos-agent (one agent per process), mesos-local and the tests (several agents in one
 * process, each with its own work directory, cgroup subtree and id "slave(N)"). Start the actor
 * runtime first; the agent serves its HTTP routes (/state, /flags, /health, /monitor/statistics)
 * under its own id on every HTTP port of the process, and the sandbox browser under /files.
 */
#ifndef SLAVE_AGENT_H
#define SLAVE_AGENT_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "actor/actor.h"

typedef struct agent_options {
    const char *id;         /* the actor's id; NULL = the next "slave(N)" */
    const char *master;     /* the master's PID ("master@127.0.0.1:15050"); see agent_master_pid */
    const char *hostname;   /* advertised hostname; NULL = the IP */
    const char *ip;         /* advertised IP as text; NULL = the runtime's */
    uint16_t http_port;     /* the HTTP port users name (5051), shown in AgentInfo.port */
    const char *work_dir;   /* sandboxes and checkpoints (required) */
    const char *resources;  /* --resources; NULL = detected from the machine */
    const char *attributes; /* --attributes; may be NULL */
    const char *isolation;  /* --isolation ("posix/cpu,posix/mem" when NULL) */
    bool simulated;         /* --containerizers=simulated: tasks run without processes */
    bool switch_user;       /* run tasks as their user (--switch_user) */
    const char *launcher_dir;        /* where mesos-executor and mesos-fetcher live (required unless
                                        simulated) */
    bool executor_fork_server;       /* fork command executors from a waiting mesos-executor
                                        (--executor_fork_server, true) */
    const char *fetcher_cache_dir;   /* NULL = <work_dir>/fetch */
    uint64_t fetcher_cache_size;     /* bytes (2GB) */
    int64_t registration_backoff_ns; /* --registration_backoff_factor (1secs) */
    int64_t executor_registration_timeout_ns;  /* (1mins) */
    int64_t executor_shutdown_grace_period_ns; /* (5secs) */
    int64_t recovery_timeout_ns;               /* --recovery_timeout (15mins) */
    int64_t gc_delay_ns;                       /* --gc_delay (1weeks) */
    double gc_disk_headroom;                   /* --gc_disk_headroom (0.1) */
    int64_t disk_watch_interval_ns;            /* --disk_watch_interval (1mins) */
    bool cgroups_enable_cfs;                   /* --cgroups_enable_cfs (false) */
    const char *cgroups_root;                  /* --cgroups_hierarchy ("/sys/fs/cgroup") */
    const char *cgroups_subtree; /* the agent's own cgroups; NULL = "mesos-agent-<port>" */
    json_t *flags; /* the /flags answer: agent_start takes a reference of its own; may be NULL */
    /* Called (inside the agent) when the master shut the agent down for good, after its
     * executors were told to stop: mesos-agent exits. NULL = nothing. */
    void (*shutdown)(void *arg);
    void *shutdown_arg;
} agent_options_t;

/* Fills opts with Mesos's defaults. Cannot fail. */
void agent_options_init(agent_options_t *opts);

/* actor_master_pid (actor/master_address.h) as the PID's text, written to out:
 * "127.0.0.1:5050" gives "master@127.0.0.1:15050". ACTOR_EINVAL with a message in err. */
actor_err_t agent_master_pid(const char *value, char *out, size_t out_len, char *err,
                             size_t err_len);

/* The resources text of one of `count` agents sharing this machine equally (mesos-local): a
 * count-th of the cores, memory (less 1 GiB for the system) and disk of work_dir's filesystem
 * (less 5 GiB), and its own slice of the ports 31000-32000. A heap string; NULL on bad input. */
char *agent_detect_resources_share(const char *work_dir, unsigned index, unsigned count);

/* Starts an agent: checks the options, recovers what the work directory holds, spawns the actor
 * (which then registers with the master). On success *pid names it. Errors: ACTOR_EINVAL with a
 * message in err (bad resources, attributes or isolation, an unwritable work directory),
 * ACTOR_ENOMEM, ACTOR_ECLOSED when the runtime is not running. */
actor_err_t agent_start(const agent_options_t *opts, actor_pid_t *pid, char *err, size_t err_len);

/* Terminates the agent's actor and waits for it. Its executors keep running (a restarted agent
 * recovers them); use agent_shutdown for a clean stop that kills them. Call from outside actors. */
void agent_stop(const actor_pid_t *pid);

#endif
