/*
 * command.c: a task's CommandInfo as a program, an argv and an environment; see executor_int.h.
 */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "slave/executor/executor_int.h"

#define DEFAULT_PATH "/usr/local/bin:/usr/bin:/bin"

/* A NULL-terminated array of strings under construction. */
typedef struct strv {
    char **items;
    size_t count, cap;
} strv_t;

static bool strv_push(strv_t *v, char *s)
{
    if (s == NULL)
        return false;
    if (v->count + 2 > v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 16;
        char **grown = realloc(v->items, cap * sizeof(*grown));
        if (grown == NULL) {
            free(s);
            return false;
        }
        v->items = grown;
        v->cap = cap;
    }
    v->items[v->count++] = s;
    v->items[v->count] = NULL;
    return true;
}

static void strv_free(char **items)
{
    for (size_t i = 0; items != NULL && items[i] != NULL; i++)
        free(items[i]);
    free(items);
}

static char *join_name_value(const char *name, const char *value)
{
    size_t n = strlen(name), m = strlen(value);
    char *s = malloc(n + m + 2);
    if (s != NULL) {
        memcpy(s, name, n);
        s[n] = '=';
        memcpy(s + n + 1, value, m + 1);
    }
    return s;
}

/* True if entry ("NAME=value") names the variable name. */
static bool entry_is(const char *entry, const char *name)
{
    size_t n = strlen(name);
    return strncmp(entry, name, n) == 0 && entry[n] == '=';
}

static bool overridden(const char *entry, const Mesos__Environment *env)
{
    if (entry_is(entry, "MESOS_TASK_ID"))
        return true;
    for (size_t i = 0; env != NULL && i < env->n_variables; i++)
        if (entry_is(entry, env->variables[i]->name))
            return true;
    return false;
}

static actor_err_t check_variables(const Mesos__Environment *env, char *err, size_t err_len)
{
    for (size_t i = 0; env != NULL && i < env->n_variables; i++) {
        const Mesos__Environment__Variable *v = env->variables[i];
        if (v->name[0] == '\0' || strchr(v->name, '=') != NULL) {
            snprintf(err, err_len, "Invalid environment variable name '%s'", v->name);
            return ACTOR_EINVAL;
        }
        if (v->has_type && v->type == MESOS__ENVIRONMENT__VARIABLE__TYPE__SECRET) {
            snprintf(err, err_len, "Environment variable '%s' is a secret, which is not supported",
                     v->name);
            return ACTOR_EINVAL;
        }
    }
    return ACTOR_OK;
}

static actor_err_t build_env(const Mesos__Environment *env, const char *task_id, char *const *base,
                             strv_t *out)
{
    for (size_t i = 0; base != NULL && base[i] != NULL; i++)
        if (!overridden(base[i], env) && !strv_push(out, strdup(base[i])))
            return ACTOR_ENOMEM;
    for (size_t i = 0; env != NULL && i < env->n_variables; i++) {
        const Mesos__Environment__Variable *v = env->variables[i];
        if (!strv_push(out, join_name_value(v->name, v->value ? v->value : "")))
            return ACTOR_ENOMEM;
    }
    return strv_push(out, join_name_value("MESOS_TASK_ID", task_id)) ? ACTOR_OK : ACTOR_ENOMEM;
}

static const char *env_lookup(char *const *envp, const char *name)
{
    for (size_t i = 0; envp != NULL && envp[i] != NULL; i++)
        if (entry_is(envp[i], name))
            return envp[i] + strlen(name) + 1;
    return NULL;
}

/* dir/name, with a relative dir (an empty one is ".") taken from sandbox. */
static char *candidate(const char *dir, size_t dir_len, const char *name, const char *sandbox)
{
    bool relative = dir_len == 0 || dir[0] != '/';
    const char *prefix = relative && sandbox != NULL ? sandbox : "";
    size_t len = strlen(prefix) + 1 + dir_len + 1 + strlen(name) + 1;
    char *path = malloc(len);
    if (path != NULL)
        snprintf(path, len, "%s%s%.*s%s%s", prefix, prefix[0] ? "/" : "", (int)dir_len, dir,
                 dir_len ? "/" : "", name);
    return path;
}

/*
 * Searches PATH as execvp does: the first executable regular file wins; failing that, the first
 * regular file at all, so that execve reports why it cannot run. *out is NULL when there is none.
 */
static actor_err_t path_search(const char *name, const char *path_env, const char *sandbox,
                               char **out)
{
    *out = NULL;
    char *fallback = NULL;
    const char *p = path_env;
    for (;;) {
        const char *end = strchr(p, ':');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        char *path = candidate(p, len, name, sandbox);
        if (path == NULL) {
            free(fallback);
            return ACTOR_ENOMEM;
        }
        struct stat st;
        if (stat(path, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0111)) {
            free(fallback);
            *out = path;
            return ACTOR_OK;
        }
        if (fallback == NULL && stat(path, &st) == 0 && S_ISREG(st.st_mode))
            fallback = path;
        else
            free(path);
        if (end == NULL)
            break;
        p = end + 1;
    }
    *out = fallback;
    return ACTOR_OK;
}

static actor_err_t build_argv(const Mesos__CommandInfo *command, strv_t *argv)
{
    bool shell = !command->has_shell || command->shell;
    if (shell) {
        if (!strv_push(argv, strdup("sh")) || !strv_push(argv, strdup("-c")) ||
            !strv_push(argv, strdup(command->value)))
            return ACTOR_ENOMEM;
        return ACTOR_OK;
    }
    if (command->n_arguments == 0)
        return strv_push(argv, strdup(command->value)) ? ACTOR_OK : ACTOR_ENOMEM;
    for (size_t i = 0; i < command->n_arguments; i++)
        if (!strv_push(argv, strdup(command->arguments[i])))
            return ACTOR_ENOMEM;
    return ACTOR_OK;
}

static actor_err_t resolve_program(const Mesos__CommandInfo *command, char *const *envp,
                                   const char *sandbox, char **path, char *err, size_t err_len)
{
    bool shell = !command->has_shell || command->shell;
    if (shell || strchr(command->value, '/') != NULL) {
        *path = strdup(shell ? "/bin/sh" : command->value);
        return *path != NULL ? ACTOR_OK : ACTOR_ENOMEM;
    }
    const char *path_env = env_lookup(envp, "PATH");
    if (path_env == NULL)
        path_env = DEFAULT_PATH;
    actor_err_t rc = path_search(command->value, path_env, sandbox, path);
    if (rc == ACTOR_OK && *path == NULL) {
        snprintf(err, err_len, "'%s' was not found in PATH (%s)", command->value, path_env);
        rc = ACTOR_ENOENT;
    }
    return rc;
}

actor_err_t executor_launch_build(const Mesos__CommandInfo *command, const char *task_id,
                                  char *const *base, const char *sandbox, executor_launch_t *out,
                                  char *err, size_t err_len)
{
    memset(out, 0, sizeof(*out));
    err[0] = '\0';
    if (command == NULL || command->value == NULL || command->value[0] == '\0') {
        snprintf(err, err_len, "The task's command has no value");
        return ACTOR_EINVAL;
    }
    const Mesos__Environment *env = command->environment;
    actor_err_t rc = check_variables(env, err, err_len);
    if (rc != ACTOR_OK)
        return rc;
    strv_t argv = {0}, envp = {0};
    rc = build_env(env, task_id, base, &envp);
    if (rc == ACTOR_OK)
        rc = build_argv(command, &argv);
    if (rc == ACTOR_OK)
        rc = resolve_program(command, envp.items, sandbox, &out->path, err, err_len);
    if (rc != ACTOR_OK) {
        if (rc == ACTOR_ENOMEM)
            snprintf(err, err_len, "Out of memory");
        strv_free(argv.items);
        strv_free(envp.items);
        return rc;
    }
    out->argv = argv.items;
    out->envp = envp.items;
    return ACTOR_OK;
}

void executor_launch_free(executor_launch_t *launch)
{
    free(launch->path);
    strv_free(launch->argv);
    strv_free(launch->envp);
    memset(launch, 0, sizeof(*launch));
}

void executor_wait_status_text(int status, char *buf, size_t len)
{
    if (WIFEXITED(status)) {
        snprintf(buf, len, "exited with status %d", WEXITSTATUS(status));
        return;
    }
    if (WIFSIGNALED(status)) {
        const char *name = sigdescr_np(WTERMSIG(status));
        if (name != NULL)
            snprintf(buf, len, "terminated with signal %s", name);
        else
            snprintf(buf, len, "terminated with signal %d", WTERMSIG(status));
        return;
    }
    snprintf(buf, len, "ended with wait status %d", status);
}
