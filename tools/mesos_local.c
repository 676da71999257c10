/*
 * mesos-local: a whole cluster in one process (DESIGN.md section 2): the master with its
 * allocator and registrar, --num_agents agents (each with its own work directory under
 * --work_dir and its own cgroup subtree), served on one HTTP port as Mesos's mesos-local does:
 * the master at "/" and "/master/", agent N under "/slave(N)/", sandboxes under "/files/".
 * Agent flags (--resources, --containerizers, --isolation, ...) pass through to every agent;
 * without --resources the machine is split evenly between the agents. Marathon runs beside them
 * on --marathon_port (8080; 0 for none), its state in memory.
 */
#include <signal.h>
#include <stdio.h>
#include <sys/resource.h>
#include <stdlib.h>
#include <string.h>

#include "actor/clock.h"
#include "actor/daemon.h"
#include "actor/http.h"
#include "actor/log.h"
#include "frameworks/marathon/marathon.h"
#include "master/master.h"
#include "slave/agent_flags.h"

#define MASTER_FLAGS 8
/* A simulated agent costs about 11 KB in this process; 10,000 is issue 5's benchmark. */
#define MAX_AGENTS 10000
/* Each agent keeps its checkpoint store open (LMDB's data and lock files) and briefly more; a
 * simulated agent keeps its checkpoints in memory and needs none. */
#define FILES_PER_AGENT 4
#define FILES_BASE      1024

typedef struct local_flags {
    char *ip, *registry;
    uint64_t port, actor_port, num_agents, marathon_port;
    int64_t allocation_interval, agent_ping_timeout;
} local_flags_t;

/* Starts the agents; returns how many started. */
static size_t start_agents(const local_flags_t *lf, const agent_flags_t *af, json_t *flags_json,
                           const char *master_pid, actor_pid_t *pids)
{
    size_t started = 0;
    for (size_t i = 0; i < lf->num_agents; i++) {
        char id[32], work_dir[4096], subtree[64], err[512] = "";
        snprintf(id, sizeof(id), "slave(%zu)", i + 1);
        snprintf(work_dir, sizeof(work_dir), "%s/agents/%zu", af->work_dir, i + 1);
        snprintf(subtree, sizeof(subtree), "mesos-local-%llu-%zu", (unsigned long long)lf->port,
                 i + 1);
        char *share = NULL;
        agent_options_t ao;
        agent_options_init(&ao);
        agent_flags_apply(af, &ao);
        if (af->resources == NULL) {
            share =
                agent_detect_resources_share(af->work_dir, (unsigned)i, (unsigned)lf->num_agents);
            ao.resources = share;
        }
        ao.id = id;
        ao.master = master_pid;
        ao.work_dir = work_dir;
        ao.cgroups_subtree = subtree;
        ao.ip = strcmp(lf->ip, "0.0.0.0") ? lf->ip : NULL;
        ao.http_port = (uint16_t)lf->port;
        ao.flags = flags_json;
        actor_err_t rc = agent_start(&ao, &pids[i], err, sizeof(err));
        free(share);
        if (rc != ACTOR_OK) {
            LOG_ERROR("Failed to start agent %s: %s", id, err[0] ? err : actor_strerror(rc));
            break;
        }
        started++;
    }
    return started;
}

/* Raises the soft limit on open files (and the hard one, which root may) to what num_agents
 * agents need, as an operator would with `ulimit -n`; says what to do when it cannot. */
static int raise_open_files_limit(uint64_t num_agents, bool simulated)
{
    rlim_t need = FILES_BASE + (simulated ? 0 : FILES_PER_AGENT * (rlim_t)num_agents);
    struct rlimit limit;
    if (getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur >= need)
        return 0;
    struct rlimit raised = {need, limit.rlim_max >= need ? limit.rlim_max : need};
    if (setrlimit(RLIMIT_NOFILE, &raised) == 0)
        return 0;
    fprintf(stderr,
            "--num_agents=%llu needs about %llu open files, above this process's limit of %llu; "
            "raise it with `ulimit -n %llu`\n",
            (unsigned long long)num_agents, (unsigned long long)need,
            (unsigned long long)limit.rlim_max, (unsigned long long)need);
    return -1;
}

int main(int argc, char **argv)
{
    local_flags_t lf = {0};
    agent_flags_t af;
    flags_flag_t table[MASTER_FLAGS + AGENT_FLAGS_COUNT + 1] = {
        FLAGS_STRING("ip", &lf.ip, "127.0.0.1", "IP address to listen on"),
        FLAGS_UINT("port", &lf.port, "5050",
                   "Port of the HTTP endpoints (master at /, agents at /slave(N)/)"),
        FLAGS_UINT("actor_port", &lf.actor_port, NULL,
                   "Port of actor messages (default: --port + 10000)"),
        FLAGS_UINT("num_agents", &lf.num_agents, "2", "Number of agents", .aliases = "num_slaves"),
        FLAGS_UINT("marathon_port", &lf.marathon_port, "8080",
                   "Port of Marathon's HTTP API (0 = no Marathon)"),
        FLAGS_STRING("registry", &lf.registry, "in_memory",
                     "The master's registry: 'in_memory' or 'replicated_log' (under "
                     "--work_dir)"),
        FLAGS_DURATION("allocation_interval", &lf.allocation_interval, "1secs",
                       "Time between batch allocations"),
        FLAGS_DURATION("agent_ping_timeout", &lf.agent_ping_timeout, "15secs",
                       "Time between pings of each agent", .aliases = "slave_ping_timeout"),
    };
    agent_flags_table(&af, table + MASTER_FLAGS);
    /* mesos-local's agents live under one directory of their own by default. */
    for (size_t i = MASTER_FLAGS; table[i].name != NULL; i++) {
        if (strcmp(table[i].name, "work_dir") == 0) {
            table[i].default_value = "/tmp/mesos-local";
            table[i].help = "Where the agents' sandboxes (and a replicated_log registry) live";
        }
    }
    int status = 1;
    actor_pid_t *agents = NULL;
    if (!flags_parse_program(table, argc, argv, "MESOS_", "mesos-local", &status))
        goto out;
    if (!flags_is_set(table, "actor_port"))
        lf.actor_port = lf.port + 10000;
    if (lf.port == 0 || lf.port > 65535 || lf.actor_port > 65535 || lf.num_agents == 0 ||
        lf.num_agents > MAX_AGENTS || agent_flags_check(&af) != 0) {
        if (lf.num_agents == 0 || lf.num_agents > MAX_AGENTS)
            fprintf(stderr, "--num_agents must be between 1 and %d\n", MAX_AGENTS);
        else if (lf.port == 0 || lf.port > 65535 || lf.actor_port > 65535)
            fprintf(stderr, "--port and --actor_port must be at most 65535\n");
        goto out;
    }

    if (raise_open_files_limit(lf.num_agents, strcmp(af.containerizers, "simulated") == 0) != 0)
        goto out;
    actor_err_t rc =
        actor_daemon_start(lf.ip, NULL, (int)lf.actor_port, ACTOR_TRANSPORT_NNG, false);
    if (rc != ACTOR_OK) {
        goto out;
    }
    json_t *flags_json = NULL;
    flags_to_json(table, &flags_json);
    master_options_t mo;
    master_options_init(&mo);
    mo.ip = strcmp(lf.ip, "0.0.0.0") ? lf.ip : NULL;
    mo.http_port = (uint16_t)lf.port;
    mo.registry = strcmp(lf.registry, "in_memory") == 0 ? "in_memory" : "replicated_log";
    mo.work_dir = af.work_dir;
    mo.allocation_interval_ns = lf.allocation_interval;
    mo.agent_ping_timeout_ns = lf.agent_ping_timeout;
    mo.flags = flags_json;
    master_pids_t master;
    rc = master_start(&mo, &master);
    if (rc == ACTOR_OK)
        rc = actor_http_listen(lf.ip, (uint16_t)lf.port, "master", NULL);
    if (rc != ACTOR_OK) {
        LOG_ERROR("Failed to start the master: %s", actor_strerror(rc));
        json_decref(flags_json);
        actor_runtime_stop();
        goto out;
    }
    char master_pid[ACTOR_PID_STRLEN];
    actor_pid_format(&master.master, master_pid, sizeof(master_pid));
    agents = calloc(lf.num_agents, sizeof(*agents));
    size_t started = agents != NULL ? start_agents(&lf, &af, flags_json, master_pid, agents) : 0;
    json_decref(flags_json);
    marathon_server_t *marathon = NULL;
    bool ok = true;
    if (started == lf.num_agents && lf.marathon_port != 0) {
        char err[512] = "";
        marathon_options_t mo2;
        marathon_options_init(&mo2);
        mo2.master = master_pid;
        mo2.hostname = strcmp(lf.ip, "0.0.0.0") ? lf.ip : "127.0.0.1";
        mo2.http_port = (uint16_t)lf.marathon_port;
        rc = marathon_start(&mo2, &marathon, err, sizeof(err));
        if (rc == ACTOR_OK)
            rc = actor_http_listen(lf.ip, (uint16_t)lf.marathon_port,
                                   marathon_server_pid(marathon)->id, NULL);
        if (rc != ACTOR_OK) {
            LOG_ERROR("Failed to start Marathon on port %llu: %s",
                      (unsigned long long)lf.marathon_port, err[0] ? err : actor_strerror(rc));
            ok = false;
        }
    }
    if (ok && started == lf.num_agents) {
        LOG_INFO("mesos-local: master at http://%s:%llu/ with %zu agents (/slave(1)/state, ...)",
                 lf.ip, (unsigned long long)lf.port, started);
        if (marathon != NULL)
            LOG_INFO("mesos-local: Marathon at http://%s:%llu/ (/v2/apps)", lf.ip,
                     (unsigned long long)lf.marathon_port);
        actor_daemon_wait();
        status = 0;
    }
    marathon_stop(marathon);
    for (size_t i = 0; i < started; i++)
        agent_stop(&agents[i]);
    master_stop(&master);
    actor_runtime_stop();
out:
    free(agents);
    flags_free(table);
    return status;
}
