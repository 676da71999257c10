/*
 * mesos-master: the master daemon (DESIGN.md section 2): the master, allocator and registrar
 * actors in one process, HTTP on --port and actor messages on --actor_port.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "actor/clock.h"
#include "actor/flags.h"
#include "actor/daemon.h"
#include "actor/http.h"
#include "actor/log.h"
#include "master/master.h"

typedef struct options {
    char *ip, *advertise_ip, *hostname, *work_dir, *registry;
    uint64_t port, actor_port, max_agent_ping_timeouts;
    uint64_t max_completed_frameworks, max_completed_tasks, max_unreachable_tasks;
    int64_t agent_ping_timeout, allocation_interval, agent_reregister_timeout;
} options_t;

static int check(const options_t *o)
{
    if (o->port > 65535 || o->actor_port > 65535) {
        fprintf(stderr, "Ports must be at most 65535\n");
        return 1;
    }
    if (strcmp(o->registry, "in_memory") != 0 && strcmp(o->registry, "replicated_log") != 0) {
        fprintf(stderr, "Unknown --registry '%s': expected 'in_memory' or 'replicated_log'\n",
                o->registry);
        return 1;
    }
    if (strcmp(o->registry, "replicated_log") == 0 && o->work_dir == NULL) {
        fprintf(stderr, "--work_dir is needed for the replicated_log registry (or use "
                        "--registry=in_memory)\n");
        return 1;
    }
    if (o->agent_ping_timeout < ACTOR_NS_PER_SEC || o->max_agent_ping_timeouts < 1) {
        fprintf(stderr, "--agent_ping_timeout must be at least 1secs and "
                        "--max_agent_ping_timeouts at least 1\n");
        return 1;
    }
    if (o->allocation_interval <= 0) {
        fprintf(stderr, "--allocation_interval must be positive\n");
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    options_t o = {0};
    flags_flag_t table[] = {
        FLAGS_STRING("ip", &o.ip, "127.0.0.1", "IP address to listen on"),
        FLAGS_STRING("advertise_ip", &o.advertise_ip, NULL,
                     "IP address advertised in PIDs (default: --ip, or 127.0.0.1 for 0.0.0.0)"),
        FLAGS_UINT("port", &o.port, "5050", "Port of the HTTP endpoints"),
        FLAGS_UINT("actor_port", &o.actor_port, NULL,
                   "Port of actor messages (default: --port + 10000; 0 = any free port)"),
        FLAGS_STRING("hostname", &o.hostname, NULL,
                     "Hostname the master advertises (default: the advertised IP)"),
        FLAGS_STRING("work_dir", &o.work_dir, NULL,
                     "Where the registry is stored (needed with --registry=replicated_log)"),
        FLAGS_STRING("registry", &o.registry, "replicated_log",
                     "Registry persistence: 'replicated_log' (an LMDB store under --work_dir) "
                     "or 'in_memory' (testing)"),
        FLAGS_DURATION("agent_ping_timeout", &o.agent_ping_timeout, "15secs",
                       "Time between pings of each agent; a missed pong counts one timeout",
                       .aliases = "slave_ping_timeout"),
        FLAGS_UINT("max_agent_ping_timeouts", &o.max_agent_ping_timeouts, "5",
                   "Missed pongs before an agent is marked unreachable",
                   .aliases = "max_slave_ping_timeouts"),
        FLAGS_DURATION("allocation_interval", &o.allocation_interval, "1secs",
                       "Time between batch allocations"),
        FLAGS_DURATION("agent_reregister_timeout", &o.agent_reregister_timeout, "10mins",
                       "After a restart, time agents have to reregister before they are marked "
                       "unreachable",
                       .aliases = "slave_reregister_timeout"),
        FLAGS_UINT("max_completed_frameworks", &o.max_completed_frameworks, "50",
                   "Completed frameworks kept in memory"),
        FLAGS_UINT("max_completed_tasks_per_framework", &o.max_completed_tasks, "1000",
                   "Completed tasks kept in memory per framework"),
        FLAGS_UINT("max_unreachable_tasks_per_framework", &o.max_unreachable_tasks, "1000",
                   "Unreachable tasks kept in memory per framework"),
        FLAGS_END,
    };
    int exit_status = 0;
    if (!flags_parse_program(table, argc, argv, "MESOS_", "mesos-master", &exit_status)) {
        flags_free(table);
        return exit_status;
    }
    if (!flags_is_set(table, "actor_port"))
        o.actor_port = o.port + 10000;
    if (check(&o) != 0) {
        flags_free(table);
        return 1;
    }

    actor_err_t err =
        actor_daemon_start(o.ip, o.advertise_ip, (int)o.actor_port, ACTOR_TRANSPORT_NNG, false);
    if (err != ACTOR_OK) {
        flags_free(table);
        return 1;
    }

    json_t *flags_json = NULL;
    flags_to_json(table, &flags_json);
    master_options_t mo;
    master_options_init(&mo);
    mo.hostname = o.hostname;
    mo.ip = o.advertise_ip != NULL ? o.advertise_ip : (strcmp(o.ip, "0.0.0.0") ? o.ip : NULL);
    mo.http_port = (uint16_t)o.port;
    mo.registry = o.registry;
    mo.work_dir = o.work_dir;
    mo.agent_ping_timeout_ns = o.agent_ping_timeout;
    mo.max_agent_ping_timeouts = (uint32_t)o.max_agent_ping_timeouts;
    mo.allocation_interval_ns = o.allocation_interval;
    mo.agent_reregister_timeout_ns = o.agent_reregister_timeout;
    mo.max_completed_frameworks = (uint32_t)o.max_completed_frameworks;
    mo.max_completed_tasks_per_framework = (uint32_t)o.max_completed_tasks;
    mo.max_unreachable_tasks_per_framework = (uint32_t)o.max_unreachable_tasks;
    mo.flags = flags_json;
    master_pids_t pids;
    err = master_start(&mo, &pids);
    json_decref(flags_json);
    if (err == ACTOR_OK)
        err = actor_http_listen(o.ip, (uint16_t)o.port, "master", NULL);
    if (err != ACTOR_OK) {
        LOG_ERROR("Failed to start the master: %s", actor_strerror(err));
        actor_runtime_stop();
        flags_free(table);
        return 1;
    }
    LOG_INFO("Master serving http://%s:%llu/ (/state, /metrics/snapshot, ...); actors at %s:%llu",
             o.ip, (unsigned long long)o.port, o.ip, (unsigned long long)o.actor_port);
    actor_daemon_wait();
    master_stop(&pids);
    actor_runtime_stop();
    flags_free(table);
    return 0;
}
