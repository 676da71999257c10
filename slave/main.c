/*
 * mesos-agent: the agent daemon (DESIGN.md section 2): one agent actor, HTTP on --port (5051)
 * and actor messages on --actor_port (--port + 10000, so that executors find a restarted agent at
 * the same address). Also answers to the name mesos-slave.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "actor/daemon.h"
#include "actor/http.h"
#include "actor/log.h"
#include "slave/agent_flags.h"

static void on_master_shutdown(void *arg)
{
    (void)arg;
    kill(getpid(), SIGTERM);
}

int main(int argc, char **argv)
{
    char *master = NULL, *ip = NULL, *advertise_ip = NULL;
    uint64_t port = 0, actor_port = 0;
    agent_flags_t af;
    flags_flag_t table[AGENT_FLAGS_COUNT + 6] = {
        FLAGS_STRING("master", &master, NULL,
                     "The master: HOST:PORT of its HTTP endpoint, or its PID master@IP:PORT"),
        FLAGS_STRING("ip", &ip, "127.0.0.1", "IP address to listen on"),
        FLAGS_STRING("advertise_ip", &advertise_ip, NULL,
                     "IP address advertised in PIDs (default: --ip, or 127.0.0.1 for 0.0.0.0)"),
        FLAGS_UINT("port", &port, "5051", "Port of the HTTP endpoints"),
        FLAGS_UINT("actor_port", &actor_port, NULL,
                   "Port of actor messages (default: --port + 10000; 0 = any free port, which "
                   "executors cannot find again after a restart)"),
    };
    agent_flags_table(&af, table + 5);
    table[AGENT_FLAGS_COUNT + 5] = (flags_flag_t)FLAGS_END;
    int status = 1;
    if (!flags_parse_program(table, argc, argv, "MESOS_", "mesos-agent", &status))
        goto out;
    if (!flags_is_set(table, "actor_port"))
        actor_port = port + 10000;
    if (port == 0 || port > 65535 || actor_port > 65535) {
        fprintf(stderr, "--port and --actor_port must be at most 65535 (--port + 10000 by "
                        "default)\n");
        goto out;
    }
    char master_pid[256], err[512] = "";
    if (agent_flags_check(&af) != 0)
        goto out;
    if (agent_master_pid(master, master_pid, sizeof(master_pid), err, sizeof(err)) != ACTOR_OK) {
        fprintf(stderr, "%s\n", err);
        goto out;
    }

    /* An agent's streams are few (its master, its executors, the frameworks it forwards to):
     * the light engine serves them from the I/O thread with no threads of its own and no
     * hand-off between threads per message, which cut the agent's CPU per launched task by a
     * third (launch-bench). A master, with thousands of agents, stays on nng's threads.
     * Its actors run on that thread too: an agent's work is its one agent actor's, in order,
     * while the machine's cores belong to its tasks, and handing each message between the I/O
     * thread and a worker cost about 20 thread switches per launched task, a quarter of the
     * agent's CPU (launch-bench). Spawning and sandbox collection keep threads of their own.
     * LIBPROCESS_NUM_WORKER_THREADS gives it workers again. */
    actor_err_t rc =
        actor_daemon_start(ip, advertise_ip, (int)actor_port, ACTOR_TRANSPORT_IO_LOOP, true);
    if (rc != ACTOR_OK) {
        goto out;
    }
    json_t *flags_json = NULL;
    flags_to_json(table, &flags_json);
    agent_options_t ao;
    agent_options_init(&ao);
    agent_flags_apply(&af, &ao);
    ao.id = "slave(1)";
    ao.master = master_pid;
    ao.ip = advertise_ip != NULL ? advertise_ip : (strcmp(ip, "0.0.0.0") ? ip : NULL);
    ao.http_port = (uint16_t)port;
    ao.flags = flags_json;
    ao.shutdown = on_master_shutdown;
    actor_pid_t pid;
    rc = agent_start(&ao, &pid, err, sizeof(err));
    json_decref(flags_json);
    if (rc == ACTOR_OK)
        rc = actor_http_listen(ip, (uint16_t)port, "slave(1)", NULL);
    if (rc != ACTOR_OK) {
        LOG_ERROR("Failed to start the agent: %s", err[0] ? err : actor_strerror(rc));
        actor_runtime_stop();
        goto out;
    }
    LOG_INFO("Agent serving http://%s:%llu/ (/state, /files/browse, ...); actors at %s:%llu", ip,
             (unsigned long long)port, ip, (unsigned long long)actor_port);
    actor_daemon_wait();
    agent_stop(&pid);
    actor_runtime_stop();
    status = 0;
out:
    flags_free(table);
    return status;
}
