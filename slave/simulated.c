/*
 * simulated.c: --containerizers=simulated. Executors and tasks without processes: an executor is
 * "registered" as soon as it is launched, a task goes TASK_RUNNING at once and TASK_FINISHED after
 * the seconds of its `sleep N` command (never, without one), a kill ends it TASK_KILLED. Every
 * update goes through the same status update manager and master protocol as real tasks, so
 * benchmarks can drive thousands of agents in one process through the real control plane.
 */
#include <stdlib.h>
#include <string.h>

#include "actor/log.h"
#include "proto/task_states.h"
#include "slave/agent_int.h"

/* A finish timer's argument: the executor run's key and the task. */
typedef struct finish_arg {
    char *executor_key;
    char task_id[];
} finish_arg_t;

/* The seconds of the first `sleep N` in a shell command; negative without one. */
static double sleep_seconds(const Mesos__TaskInfo *task)
{
    const Mesos__CommandInfo *cmd = task->command;
    if (cmd == NULL || cmd->value == NULL)
        return -1;
    if (cmd->has_shell && !cmd->shell) {
        /* argv form: the program is `sleep` and its first argument the duration. */
        const char *base = strrchr(cmd->value, '/');
        base = base != NULL ? base + 1 : cmd->value;
        if (strcmp(base, "sleep") != 0 || cmd->n_arguments < 2)
            return -1;
        return strtod(cmd->arguments[1], NULL);
    }
    for (const char *p = strstr(cmd->value, "sleep"); p != NULL; p = strstr(p + 1, "sleep")) {
        bool word_start = p == cmd->value || p[-1] == ' ' || p[-1] == '/' || p[-1] == ';' ||
                          p[-1] == '&' || p[-1] == '(';
        if (!word_start || p[5] != ' ')
            continue;
        char *end = NULL;
        double s = strtod(p + 6, &end);
        if (end != p + 6 && s >= 0)
            return s;
    }
    return -1;
}

void agent_simulated_launch(agent_t *a, agent_executor_t *e)
{
    LOG_INFO("Simulated executor %s of framework %s started", e->id, e->framework->id);
    agent_simulated_registered(a, e);
}

static void finish_tick(actor_t *self, void *state, void *arg)
{
    finish_arg_t *f = arg;
    if (self == NULL) {
        free(f->executor_key);
        free(f);
        return;
    }
    agent_t *a = state;
    agent_executor_t *e = agent_executor_by_key(a, f->executor_key);
    agent_task_t *t = e != NULL ? agent_task_find(e, f->task_id) : NULL;
    if (t != NULL && !mesos_task_state_terminal(t->state))
        agent_send_task_status(a, e->framework->id, e->id, t->id, MESOS__TASK_STATE__TASK_FINISHED,
                               0, "Command exited with status 0");
    free(f);
}

void agent_simulated_run_task(agent_t *a, agent_executor_t *e, agent_task_t *t)
{
    agent_send_task_status(a, e->framework->id, e->id, t->id, MESOS__TASK_STATE__TASK_RUNNING, 0,
                           NULL);
    double seconds = sleep_seconds(t->info);
    if (seconds < 0)
        return;
    finish_arg_t *f = malloc(sizeof(*f) + strlen(t->id) + 1);
    if (f == NULL)
        return;
    strcpy(f->task_id, t->id);
    f->executor_key = agent_executor_key_new(e);
    if (f->executor_key == NULL ||
        actor_delay(a->self, (int64_t)(seconds * (double)ACTOR_NS_PER_SEC), finish_tick, f) == 0) {
        free(f->executor_key);
        free(f);
    }
}

void agent_simulated_kill_task(agent_t *a, agent_executor_t *e, agent_task_t *t)
{
    agent_send_task_status(a, e->framework->id, e->id, t->id, MESOS__TASK_STATE__TASK_KILLED, 0,
                           "Command terminated with signal Terminated");
}

void agent_simulated_shutdown(agent_t *a, agent_executor_t *e)
{
    size_t n = HASH_COUNT(e->launched), k = 0;
    char **ids = calloc(n + 1, sizeof(*ids));
    for (agent_task_t *t = e->launched; t != NULL && ids != NULL; t = t->hh.next)
        ids[k++] = strdup(t->id);
    for (size_t i = 0; i < k; i++) {
        if (ids[i] != NULL)
            agent_send_task_status(a, e->framework->id, e->id, ids[i],
                                   MESOS__TASK_STATE__TASK_KILLED, 0,
                                   "Command terminated with signal Terminated");
        free(ids[i]);
    }
    free(ids);
    e->exit_status = 0;
    agent_executor_terminated(a, e);
}
