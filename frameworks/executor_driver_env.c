/*
 * executor_driver_env.c: what executor programs need besides the driver: the options from the
 * environment the agent gives an executor (Mesos's variable names and defaults), the process's
 * runtime, and a driver's whole run.
 */
#include <arpa/inet.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "actor/flags.h"
#include "actor/daemon.h"
#include "actor/log.h"
#include "frameworks/executor_driver.h"

extern char **environ;

static const char *lookup(char *const *env, const char *name)
{
    size_t n = strlen(name);
    for (size_t i = 0; env != NULL && env[i] != NULL; i++)
        if (strncmp(env[i], name, n) == 0 && env[i][n] == '=')
            return env[i] + n + 1;
    return NULL;
}

/* The value of name, else of its old "SLAVE" spelling. */
static const char *lookup_either(char *const *env, const char *name, const char *alias)
{
    const char *value = lookup(env, name);
    return value != NULL ? value : lookup(env, alias);
}

static actor_err_t require(char *const *env, const char *name, const char **out, char *err,
                           size_t err_len)
{
    *out = lookup(env, name);
    if (*out != NULL && (*out)[0] != '\0')
        return ACTOR_OK;
    snprintf(err, err_len, "Expecting '%s' to be set in the environment", name);
    return ACTOR_EINVAL;
}

static actor_err_t duration(char *const *env, const char *name, int64_t *ns, char *err,
                            size_t err_len)
{
    const char *value = lookup(env, name);
    if (value == NULL || flags_duration_parse(value, ns) == ACTOR_OK)
        return ACTOR_OK;
    snprintf(err, err_len, "Failed to parse %s '%s': expected a duration such as 5secs or 15mins",
             name, value);
    return ACTOR_EINVAL;
}

static actor_err_t agent_pid(char *const *env, actor_pid_t *pid, char *err, size_t err_len)
{
    const char *value = lookup_either(env, "MESOS_AGENT_PID", "MESOS_SLAVE_PID");
    if (value == NULL) {
        snprintf(err, err_len, "Expecting 'MESOS_AGENT_PID' to be set in the environment");
        return ACTOR_EINVAL;
    }
    if (actor_pid_parse(value, pid) != ACTOR_OK || pid->ip == 0 || pid->port == 0) {
        snprintf(err, err_len,
                 "Failed to parse MESOS_AGENT_PID '%s': expected a PID such as "
                 "slave(1)@127.0.0.1:5051",
                 value);
        return ACTOR_EINVAL;
    }
    return ACTOR_OK;
}

actor_err_t executor_driver_options_from_env(executor_driver_options_t *opts, char *const *env,
                                             char *err, size_t err_len)
{
    actor_err_t rc = agent_pid(env, &opts->agent, err, err_len);
    if (rc == ACTOR_OK)
        rc = require(env, "MESOS_FRAMEWORK_ID", &opts->framework_id, err, err_len);
    if (rc == ACTOR_OK)
        rc = require(env, "MESOS_EXECUTOR_ID", &opts->executor_id, err, err_len);
    if (rc == ACTOR_OK)
        rc = require(env, "MESOS_DIRECTORY", &opts->directory, err, err_len);
    if (rc == ACTOR_OK)
        rc = duration(env, "MESOS_RECOVERY_TIMEOUT", &opts->recovery_timeout_ns, err, err_len);
    if (rc == ACTOR_OK)
        rc = duration(env, "MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD", &opts->shutdown_grace_period_ns,
                      err, err_len);
    if (rc != ACTOR_OK)
        return rc;
    opts->sandbox = lookup(env, "MESOS_SANDBOX");
    if (opts->sandbox == NULL || opts->sandbox[0] == '\0')
        opts->sandbox = opts->directory;
    opts->agent_id = lookup_either(env, "MESOS_AGENT_ID", "MESOS_SLAVE_ID");
    const char *checkpoint = lookup(env, "MESOS_CHECKPOINT");
    opts->checkpoint = checkpoint != NULL && strcmp(checkpoint, "1") == 0; /* as Mesos reads it */
    return ACTOR_OK;
}

actor_err_t executor_driver_runtime_start(const executor_driver_options_t *opts, char *err,
                                          size_t err_len)
{
    char ip[INET_ADDRSTRLEN];
    struct in_addr addr = {.s_addr = htonl(opts->agent.ip)};
    inet_ntop(AF_INET, &addr, ip, sizeof(ip));
    /* What actor_daemon_start does, with the actors on the runtime's I/O loop instead of one
     * worker per core, and the loop on this thread: an executor's actors are idle most of the
     * time, waiting for its sockets, its task's exit and its timers, and hundreds of executors
     * share the agent's cores, so other threads would only be threads to start and a wake-up of
     * another thread for each message (an I/O thread of its own cost an executor about 0.4 ms of
     * CPU here, mostly in hand-offs with the main thread). For the same reason its streams run
     * on that loop too rather than on nng's dozen threads, whose start-up was most of an
     * executor's own CPU. */
    actor_daemon_prepare();
    /* One malloc arena for its few threads: each thread's first malloc would otherwise map and
     * trim an arena of its own, with the address-space lock contended (about 90 us of CPU per
     * executor start here). */
    mallopt(M_ARENA_MAX, 1);
    actor_runtime_options_t ro;
    actor_runtime_options_init(&ro);
    ro.actors_on_io_thread = true;
    ro.io_on_caller_thread = true; /* and that thread is this one, which only waits */
    ro.transport = ACTOR_TRANSPORT_IO_LOOP;
    ro.ip = ip;
    ro.port = 0;
    actor_err_t rc = actor_runtime_start(&ro);
    if (rc != ACTOR_OK)
        snprintf(err, err_len, "Failed to start the actor runtime on %s: %s", ip,
                 actor_strerror(rc));
    return rc;
}

actor_err_t executor_driver_main(const executor_callbacks_t *cbs, void *user,
                                 executor_driver_status_t *status, char *err, size_t err_len)
{
    executor_driver_options_t opts;
    executor_driver_options_init(&opts);
    actor_err_t rc = executor_driver_options_from_env(&opts, environ, err, err_len);
    if (rc == ACTOR_OK)
        rc = executor_driver_runtime_start(&opts, err, err_len);
    if (rc != ACTOR_OK)
        return rc;
    executor_driver_t *driver = NULL;
    rc = executor_driver_start(&opts, cbs, user, &driver);
    if (rc == ACTOR_OK) {
        *status = executor_driver_run(driver);
        executor_driver_free(driver);
    } else {
        snprintf(err, err_len, "Failed to start the executor driver: %s", actor_strerror(rc));
    }
    actor_runtime_stop();
    return rc;
}
