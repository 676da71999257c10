/*
 * task.c: `mesos task list` and `mesos task log`.
 *
 * Both start from the master's /state. `task log` then finds the task's agent there (its `pid`,
 * "slave(N)@IP:ACTOR_PORT", and its HTTP `port`), asks the agent's /slave(N)/state for the
 * executor that ran the task and its sandbox `directory`, and reads the sandbox's stdout (or
 * stderr) through the agent's /files/read in chunks, the way Mesos's web UI pages a file. With
 * --follow it keeps asking for the bytes past what it printed, once a second, as `tail -f`.
 * Under mesos-local the agents share the master's port: /slave(N)/state and /files/read are
 * served there, so the same steps work.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tools/cli/cli.h"

/* Bytes asked for per /files/read: Mesos's cap, 16 pages of 4 KiB. */
#define READ_CHUNK 65536

/* The master's task arrays of one framework that `task list` shows (--all: every array). */
static const char *const active_arrays[] = {"tasks", "unreachable_tasks", NULL};
static const char *const all_arrays[] = {"tasks", "unreachable_tasks", "completed_tasks", NULL};

/* Appends the tasks of the frameworks in state[key] to out. */
static void collect(json_t *out, const json_t *state, const char *key, const char *const *arrays)
{
    size_t i;
    json_t *f;
    json_array_foreach(json_object_get(state, key), i, f)
    {
        for (size_t a = 0; arrays[a] != NULL; a++)
            json_array_extend(out, json_object_get(f, arrays[a]));
    }
}

/* The tasks of the master's /state: active, or with all every task it remembers. */
static json_t *state_tasks(const json_t *state, bool all)
{
    json_t *out = json_array();
    collect(out, state, "frameworks", all ? all_arrays : active_arrays);
    if (all)
        collect(out, state, "completed_frameworks", all_arrays);
    return out;
}

static void task_row(const json_t *t, const char **cells, char scratch[][CLI_CELL_LEN], void *arg)
{
    (void)scratch, (void)arg;
    cells[0] = cli_json_str(t, "id", "");
    cells[1] = cli_json_str(t, "name", "");
    cells[2] = cli_json_str(t, "state", "");
    cells[3] = cli_json_str(t, "framework_id", "");
    cells[4] = cli_json_str(t, "slave_id", "");
}

static const cli_list_t task_table = {5,
                                      {"Task ID", "Name", "State", "Framework ID", "Agent ID"},
                                      "There are no tasks in the cluster.",
                                      task_row};

static int task_list(const cli_t *cli)
{
    json_t *state = cli_http_get(&cli->master, "/state");
    if (state == NULL)
        return 1;
    json_t *tasks = state_tasks(state, (cli->options & CLI_OPT_ALL) != 0);
    int rc =
        tasks != NULL ? cli_list_print(cli, tasks, &task_table, NULL) : cli_error("out of memory");
    json_decref(tasks);
    json_decref(state);
    return rc;
}

/* ---- task log ---- */

/* The task id (or the one task whose id starts with it) among every task of the master. */
static const json_t *find_task(const json_t *tasks, const char *id)
{
    const json_t *match = NULL;
    size_t i, matches = 0;
    json_t *t;
    json_array_foreach(tasks, i, t)
    {
        const char *tid = cli_json_str(t, "id", "");
        if (strcmp(tid, id) == 0)
            return t;
        if (strncmp(tid, id, strlen(id)) == 0) {
            match = t;
            matches++;
        }
    }
    if (matches == 0)
        cli_error("no task '%s' in the cluster; 'mesos task list --all' lists them", id);
    else if (matches > 1)
        cli_error("'%s' is the start of %zu task ids; give more of the id", id, matches);
    return matches == 1 ? match : NULL;
}

/* The agent of agent_id in the master's /state, as a server (base "http://IP:PORT") and the
 * path of its state ("/slave(N)/state"). Returns 0, or 1 after printing why. */
static int find_agent(const json_t *state, const char *agent_id, cli_server_t *agent, char *name,
                      size_t name_len, char *state_path, size_t path_len)
{
    size_t i;
    json_t *a;
    json_array_foreach(json_object_get(state, "slaves"), i, a)
    {
        if (strcmp(cli_json_str(a, "id", ""), agent_id) != 0)
            continue;
        const char *pid = cli_json_str(a, "pid", ""), *at = strchr(pid, '@');
        const char *colon = at != NULL ? strrchr(at, ':') : NULL;
        if (colon == NULL)
            return cli_error("the master gives agent %s the malformed pid '%s'", agent_id, pid);
        char host[256];
        snprintf(host, sizeof(host), "%.*s", (int)(colon - at - 1), at + 1);
        if (strcmp(host, "0.0.0.0") == 0)
            snprintf(host, sizeof(host), "%s", cli_json_str(a, "hostname", "127.0.0.1"));
        char address[300];
        snprintf(address, sizeof(address), "%s:%d", host, (int)cli_json_num(a, "port", 5051));
        snprintf(name, name_len, "the agent at %s", address);
        snprintf(state_path, path_len, "/%.*s/state", (int)(at - pid), pid);
        return cli_server_set(agent, name, address) == 0 ? 0 : 1;
    }
    return cli_error("agent %s of the task is not registered with the master", agent_id);
}

/* Whether one of the executor's task arrays holds task_id. */
static bool executor_has(const json_t *executor, const char *task_id)
{
    static const char *const arrays[] = {"tasks", "queued_tasks", "completed_tasks"};
    for (size_t a = 0; a < 3; a++) {
        size_t i;
        json_t *t;
        json_array_foreach(json_object_get(executor, arrays[a]), i, t)
        {
            if (strcmp(cli_json_str(t, "id", ""), task_id) == 0)
                return true;
        }
    }
    return false;
}

/* The sandbox directory of task_id in the agent's /state, or NULL. */
static const char *find_directory(const json_t *agent_state, const char *task_id)
{
    static const char *const frameworks[] = {"frameworks", "completed_frameworks"};
    static const char *const executors[] = {"executors", "completed_executors"};
    for (size_t f = 0; f < 2; f++) {
        size_t i;
        json_t *fw;
        json_array_foreach(json_object_get(agent_state, frameworks[f]), i, fw)
        {
            for (size_t e = 0; e < 2; e++) {
                size_t k;
                json_t *ex;
                json_array_foreach(json_object_get(fw, executors[e]), k, ex)
                {
                    if (executor_has(ex, task_id))
                        return cli_json_str(ex, "directory", NULL);
                }
            }
        }
    }
    return NULL;
}

/* GET /files/read of path_q (escaped) at offset for length bytes (-1: the size only); the
 * answer's "offset" in *size_or_offset and its data printed to stdout. Returns 0 or 1. */
static int files_read(const cli_server_t *agent, const char *path_q, long long offset,
                      long long length, long long *size_or_offset)
{
    char query[64];
    if (offset < 0)
        snprintf(query, sizeof(query), "&offset=-1");
    else
        snprintf(query, sizeof(query), "&offset=%lld&length=%lld", offset, length);
    char *path = NULL;
    if (asprintf(&path, "/files/read?path=%s%s", path_q, query) < 0)
        return cli_error("out of memory");
    json_t *reply = cli_http_get(agent, path);
    free(path);
    if (reply == NULL)
        return 1;
    json_t *data = json_object_get(reply, "data");
    *size_or_offset = (long long)cli_json_num(reply, "offset", 0);
    if (json_is_string(data))
        fwrite(json_string_value(data), 1, json_string_length(data), stdout);
    json_decref(reply);
    return 0;
}

/* Prints the file's bytes from *offset to its current end; *offset moves past them. */
static int print_new(const cli_server_t *agent, const char *path_q, long long *offset)
{
    long long size = 0, ignored;
    if (files_read(agent, path_q, -1, 0, &size) != 0)
        return 1;
    if (size < *offset)
        *offset = 0; /* truncated: start again, as tail -f does */
    while (*offset < size) {
        long long length = size - *offset < READ_CHUNK ? size - *offset : READ_CHUNK;
        if (files_read(agent, path_q, *offset, length, &ignored) != 0)
            return 1;
        *offset += length;
    }
    fflush(stdout);
    return 0;
}

/* Prints the file, then with follow its new bytes once a second until killed or an error. */
static int print_file(const cli_server_t *agent, const char *file, bool follow)
{
    char *path_q = cli_url_escape(file, "/");
    if (path_q == NULL)
        return cli_error("out of memory");
    long long offset = 0;
    int rc = print_new(agent, path_q, &offset);
    while (rc == 0 && follow) {
        struct timespec second = {1, 0};
        nanosleep(&second, NULL);
        rc = print_new(agent, path_q, &offset);
    }
    free(path_q);
    return rc;
}

/* Finds the task's sandbox file (stdout or stderr) and prints it. */
static int log_task(const cli_t *cli, const json_t *state, const json_t *task)
{
    char name[320], state_path[256];
    cli_server_t agent = {0};
    const char *task_id = cli_json_str(task, "id", "");
    if (find_agent(state, cli_json_str(task, "slave_id", ""), &agent, name, sizeof(name),
                   state_path, sizeof(state_path)) != 0)
        return 1;
    json_t *agent_state = cli_http_get(&agent, state_path);
    int rc = agent_state == NULL;
    const char *dir = agent_state != NULL ? find_directory(agent_state, task_id) : NULL;
    if (rc == 0 && dir == NULL)
        rc = cli_error("%s has no sandbox for task %s (it may have been garbage-collected)", name,
                       task_id);
    if (rc == 0) {
        char *file = NULL;
        const char *which = (cli->options & CLI_OPT_STDERR) != 0 ? "stderr" : "stdout";
        if (asprintf(&file, "%s/%s", dir, which) < 0)
            rc = cli_error("out of memory");
        else
            rc = print_file(&agent, file, (cli->options & CLI_OPT_FOLLOW) != 0);
        free(file);
    }
    json_decref(agent_state);
    free(agent.base);
    return rc;
}

static int task_log(const cli_t *cli)
{
    json_t *state = cli_http_get(&cli->master, "/state");
    if (state == NULL)
        return 1;
    json_t *tasks = state_tasks(state, true);
    const json_t *task = tasks != NULL ? find_task(tasks, cli->args[0]) : NULL;
    int rc = task != NULL ? log_task(cli, state, task) : 1;
    json_decref(tasks);
    json_decref(state);
    return rc;
}

const cli_command_t cli_task_commands[] = {
    {"task", "list", "", 0, 0, CLI_OPT_JSON | CLI_OPT_ALL, "List the tasks of the cluster.",
     "Shows the tasks the master knows that have not ended (from its /state): id, name, state,\n"
     "framework and agent.\n"
     "\n"
     "Options:\n"
     "  --all   also the tasks that ended and that the master still remembers\n"
     "  --json  print the master's JSON objects of these tasks as an array\n",
     task_list},
    {"task", "log", "TASK", 1, 1, CLI_OPT_FOLLOW | CLI_OPT_STDERR, "Print the output of a task.",
     "Prints the stdout of task TASK from its sandbox on its agent (found through the master's\n"
     "/state and the agent's /state, read through the agent's /files/read). TASK is a task id\n"
     "or the start of exactly one task id; tasks that ended are found while their sandbox\n"
     "remains.\n"
     "\n"
     "Options:\n"
     "  --stderr  print the task's stderr instead\n"
     "  --follow  keep printing what the task writes, checking once a second, until\n"
     "            interrupted (as tail -f)\n",
     task_log},
    {0},
};
