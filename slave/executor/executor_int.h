/*
 * executor_int.h: the command executor's pure helpers, shared by its files and its tests: how a
 * task's CommandInfo becomes a program, an argv and an environment, and how a wait status reads;
 * and the task's health checking (health.c).
 */
#ifndef SLAVE_EXECUTOR_EXECUTOR_INT_H
#define SLAVE_EXECUTOR_EXECUTOR_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "actor/actor.h"
#include "actor/error.h"
#include "mesos.pb-c.h"

/* What to execute for a task. Every pointer is owned by the launch. */
typedef struct executor_launch {
    char *path;  /* the program: "/bin/sh", or the argv form's program found in PATH */
    char **argv; /* NULL-terminated */
    char **envp; /* NULL-terminated */
} executor_launch_t;

/*
 * Builds the launch of command for task_id. Shell form (shell unset or true): `/bin/sh -c value`.
 * Argv form: value is the program, searched in the task's PATH (the variable as the task will see
 * it, else "/usr/local/bin:/usr/bin:/bin") as execvp would search it when it holds no '/', with
 * relative PATH entries taken from sandbox; arguments are the argv (just the value when there are
 * none). The environment is base, then the command's variables (replacing those of the same
 * name), then MESOS_TASK_ID. Errors, with a message in err (err_len > 0): ACTOR_EINVAL (no
 * value, a secret or malformed variable), ACTOR_ENOENT (the program is not in PATH),
 * ACTOR_ENOMEM. On error *out holds nothing to free.
 */
actor_err_t executor_launch_build(const Mesos__CommandInfo *command, const char *task_id,
                                  char *const *base, const char *sandbox, executor_launch_t *out,
                                  char *err, size_t err_len);

/* Frees what a successful executor_launch_build made. Cannot fail. */
void executor_launch_free(executor_launch_t *launch);

/* Writes Mesos's text for a wait status: "exited with status 3", "terminated with signal
 * Killed". Cannot fail. */
void executor_wait_status_text(int status, char *buf, size_t len);

/* ---- health checks (health.c) ---- */

typedef struct executor_health executor_health_t;

/* Told inside the executor actor what to report (Mesos's TaskHealthStatus): the task is healthy
 * or not, and whether its failures reached consecutive_failures so that it should be killed.
 * The callback may call executor_health_stop. */
typedef void (*executor_health_fn)(actor_t *self, void *state, bool healthy, bool kill);

/*
 * Starts health checking task_id inside the executor actor self, as Mesos's HealthChecker does
 * for a COMMAND check (see health.c): the check command runs in cwd with the environment the
 * task got (base, task_command's variables, MESOS_TASK_ID) under the check command's own
 * variables. On ACTOR_OK *out is the checker; stop it with executor_health_stop when the task is
 * being killed or has ended, and at the latest when the actor ends. Errors, with a message in err
 * (err_len > 0) and fn never called: ACTOR_EINVAL (no type, an HTTP or TCP check, which this
 * executor does not run, no command, a negative duration, a command that cannot be built),
 * ACTOR_ENOENT (the check's program is not in PATH), ACTOR_ENOMEM.
 */
actor_err_t executor_health_start(actor_t *self, const Mesos__HealthCheck *check,
                                  const char *task_id, const Mesos__CommandInfo *task_command,
                                  char *const *base, const char *cwd, executor_health_fn fn,
                                  executor_health_t **out, char *err, size_t err_len);

/* Stops checking: no more checks or callbacks; a check command under way is killed. The
 * checker frees itself once nothing can call it any more. NULL is allowed. Cannot fail. */
void executor_health_stop(executor_health_t *h);

#endif
