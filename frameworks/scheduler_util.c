/*
 * scheduler_util.c: what framework programs need besides the driver: a TaskInfo in caller
 * storage, task resources, the master's PID from a --master value, the process's runtime and a
 * driver's whole run.
 *
 * scheduler_master_pid duplicates agent_master_pid (slave/agent.h) because frameworks must not
 * depend on slave/; both belong in actor/ (one conversion for every --master flag).
 */
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "actor/daemon.h"
#include "actor/master_address.h"
#include "actor/flags.h"
#include "frameworks/scheduler.h"

void scheduler_task_init(scheduler_task_t *task, const char *task_id, const char *name,
                         const char *agent_id, const char *shell_command,
                         Mesos__Resource **resources, size_t resource_count)
{
    mesos__task_info__init(&task->info);
    mesos__task_id__init(&task->task_id);
    mesos__agent_id__init(&task->agent_id);
    mesos__command_info__init(&task->command);
    task->task_id.value = (char *)task_id;
    task->agent_id.value = (char *)agent_id;
    task->command.has_shell = true;
    task->command.shell = true;
    task->command.value = (char *)shell_command;
    task->info.name = (char *)(name != NULL ? name : task_id);
    task->info.task_id = &task->task_id;
    task->info.agent_id = &task->agent_id;
    task->info.command = &task->command;
    task->info.resources = resources;
    task->info.n_resources = resource_count;
}

/* The IPv4 address of host (dotted quad or a name), in host byte order. */
actor_err_t scheduler_master_pid(const char *value, actor_pid_t *pid, char *err, size_t err_len)
{
    return actor_master_pid(value, pid, err, err_len);
}

/* The local address the system routes to ip by (a UDP connect sends nothing), or 127.0.0.1. */
static void route_to(uint32_t ip, uint16_t port, char out[INET_ADDRSTRLEN])
{
    snprintf(out, INET_ADDRSTRLEN, "127.0.0.1");
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return;
    struct sockaddr_in to = {
        .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(ip)};
    struct sockaddr_in local;
    socklen_t len = sizeof(local);
    if (ip != 0 && connect(fd, (const struct sockaddr *)&to, sizeof(to)) == 0 &&
        getsockname(fd, (struct sockaddr *)&local, &len) == 0 && local.sin_addr.s_addr != 0)
        inet_ntop(AF_INET, &local.sin_addr, out, INET_ADDRSTRLEN);
    close(fd);
}

actor_err_t scheduler_runtime_start(const char *master, const char *ip, char *err, size_t err_len)
{
    actor_pid_t pid;
    if (scheduler_master_pid(master, &pid, err, err_len) != ACTOR_OK)
        return ACTOR_EINVAL;
    char local[INET_ADDRSTRLEN];
    struct in_addr check;
    if (ip == NULL) {
        route_to(pid.ip, pid.port, local);
        ip = local;
    } else if (inet_pton(AF_INET, ip, &check) != 1) {
        snprintf(err, err_len, "--ip=%s: not an IPv4 address", ip);
        return ACTOR_EINVAL;
    }
    actor_err_t rc = actor_daemon_start(ip, NULL, 0, ACTOR_TRANSPORT_NNG, false);
    if (rc != ACTOR_OK)
        snprintf(err, err_len, "Failed to start the actor runtime on %s: %s", ip,
                 actor_strerror(rc));
    return rc;
}

actor_err_t scheduler_run(const scheduler_driver_options_t *opts, const scheduler_callbacks_t *cbs,
                          void *user, scheduler_driver_status_t *status, char *err, size_t err_len)
{
    actor_err_t rc = scheduler_runtime_start(opts->master, NULL, err, err_len);
    if (rc != ACTOR_OK)
        return rc;
    scheduler_driver_t *driver = NULL;
    rc = scheduler_driver_start(opts, cbs, user, &driver);
    if (rc == ACTOR_OK) {
        *status = scheduler_driver_run(driver);
        scheduler_driver_free(driver);
    } else {
        snprintf(err, err_len, "Failed to start the scheduler driver: %s", actor_strerror(rc));
    }
    actor_runtime_stop();
    return rc;
}

actor_err_t scheduler_resources_parse(scheduler_resources_t *r, const char *text, char *err,
                                      size_t err_len)
{
    r->items = NULL;
    r->count = 0;
    if (text == NULL) {
        resources_init(&r->set);
        snprintf(err, err_len, "No resources given");
        return ACTOR_EINVAL;
    }
    actor_err_t rc = resources_parse(&r->set, text, NULL, err, err_len);
    if (rc == ACTOR_OK)
        rc = resources_to_proto(&r->set, &r->items, &r->count);
    if (rc == ACTOR_ENOMEM)
        snprintf(err, err_len, "Out of memory");
    return rc;
}

void scheduler_resources_fini(scheduler_resources_t *r)
{
    resources_fini(&r->set);
    resources_proto_free(r->items, r->count);
    r->items = NULL;
    r->count = 0;
}

bool scheduler_program_flags(flags_flag_t *table, int argc, char **argv, const char *program,
                             int *exit_status)
{
    return flags_parse_program(table, argc, argv, "MESOS_", program, exit_status);
}
