/*
 * executor_int.h: the command executor's pure helpers, shared by its files and its tests: how a
 * task's CommandInfo becomes a program, an argv and an environment, and how a wait status reads.
 */
#ifndef SLAVE_EXECUTOR_EXECUTOR_INT_H
#define SLAVE_EXECUTOR_EXECUTOR_INT_H

#include <stddef.h>

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

#endif
