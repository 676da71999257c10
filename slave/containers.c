/*
 * containers.c: an executor's container of real processes (Mesos's MesosContainerizer, trimmed
 * to what we isolate): the sandbox, the cgroups, the fetcher run before anything else when there
 * are URIs, the executor process, its exit, and destruction.
 *
 * Processes are started with actor_subprocess_spawn (as vfork does, never fork) and joined to their
 * cgroups before they exec; exits arrive through actor_subprocess_watch. Nothing here blocks for
 * long: the fetcher is a process of its own (mesos-fetcher), as in Mesos, and executors are
 * spawned on the runtime's launcher threads (actor_subprocess_spawn_async), so that the agent
 * goes on launching while an executor's spawn runs (Mesos's launcher is asynchronous too).
 * A container destroyed while its executor spawns is finished when the spawn is reported.
 */
#include <dirent.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "actor/flags.h"
#include "actor/log.h"
#include "actor/pbcopy.h"
#include "actor/pbjson.h"
#include "actor/subprocess.h"
#include "slave/agent_int.h"
#include "slave/containerizer/posix.h"
#include "slave/files/files.h"

#define EXECUTOR_MEM_BYTES (UINT64_C(32) << 20) /* Mesos's DEFAULT_EXECUTOR_MEM */
#define EXECUTOR_CPUS      0.1                  /* Mesos's DEFAULT_EXECUTOR_CPUS */
#define MAX_ENV            64

/* Fails the container before (or instead of) its executor: the tasks end TASK_FAILED with
 * REASON_CONTAINER_LAUNCH_FAILED and this message. */
static void launch_failed(agent_t *a, agent_executor_t *e, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void launch_failed(agent_t *a, agent_executor_t *e, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *msg = NULL;
    if (vasprintf(&msg, fmt, ap) < 0)
        msg = NULL;
    va_end(ap);
    LOG_WARNING("Container %s of executor %s failed: %s", e->container_id, e->id,
                msg != NULL ? msg : "out of memory");
    free(e->failure);
    e->failure = msg != NULL ? msg : strdup("Failed to launch the container");
    agent_container_destroy(a, e);
}

/* mkdir path (0755): 0, or an errno; *existed tells whether it was there already. */
static int make_dir(const char *path, bool *existed)
{
    *existed = false;
    if (mkdir(path, 0755) == 0)
        return 0;
    *existed = errno == EEXIST;
    return *existed ? 0 : errno;
}

/* mkdir -p, from the leaf up: a sandbox's parents (the framework's and the executor's
 * directories) usually exist, so this costs one mkdir per new directory plus one, not one per
 * path component. */
int agent_make_dirs(const char *path)
{
    char buf[4096];
    size_t len = strlen(path);
    if (len == 0)
        return ENOENT;
    if (len >= sizeof(buf))
        return ENAMETOOLONG;
    memcpy(buf, path, len + 1);
    /* Up: cut the last component off until a mkdir succeeds or finds its directory there. */
    bool existed = false;
    int rc = make_dir(buf, &existed);
    while (rc == ENOENT) {
        char *slash = strrchr(buf, '/');
        if (slash == NULL || slash == buf)
            return ENOENT;
        *slash = '\0';
        rc = make_dir(buf, &existed);
    }
    /* Down: put each cut slash back and create that directory. */
    for (size_t at = strlen(buf); rc == 0 && at < len; at = strlen(buf)) {
        buf[at] = '/';
        rc = make_dir(buf, &existed);
    }
    struct stat st;
    if (rc == 0 && existed && (stat(buf, &st) != 0 || !S_ISDIR(st.st_mode)))
        rc = ENOTDIR; /* a file is in the way */
    return rc;
}

/* The user a container runs as: the task's command user, else the framework's. */
static const char *container_user(const agent_executor_t *e, const Mesos__TaskInfo *task)
{
    const Mesos__CommandInfo *cmd = e->command_executor ? task->command : e->info->command;
    if (cmd != NULL && cmd->user != NULL && *cmd->user != '\0')
        return cmd->user;
    const char *user = e->framework->info->user;
    return user != NULL && *user != '\0' ? user : NULL;
}

/* What a process of the container is started with. */
typedef struct launch {
    char *env[MAX_ENV + 1];
    size_t env_count;
    const char *procs[8];
    size_t procs_count;
    actor_subprocess_options_t opts;
    gid_t groups[64];
    char out_path[4096], err_path[4096];
} launch_t;

static void env_add(launch_t *l, const char *name, const char *value)
{
    if (l->env_count < MAX_ENV && value != NULL &&
        asprintf(&l->env[l->env_count], "%s=%s", name, value) >= 0)
        l->env_count++;
}

static void launch_fini(launch_t *l)
{
    for (size_t i = 0; i < l->env_count; i++)
        free(l->env[i]);
}

/* Fills what every process of the container shares: sandbox, output files, user, cgroups. */
static int launch_init(agent_t *a, agent_executor_t *e, const char *user, launch_t *l, char *err,
                       size_t err_len)
{
    memset(l, 0, sizeof(*l));
    snprintf(l->out_path, sizeof(l->out_path), "%s/stdout", e->directory);
    snprintf(l->err_path, sizeof(l->err_path), "%s/stderr", e->directory);
    l->opts.cwd = e->directory;
    l->opts.stdin_path = "/dev/null";
    l->opts.stdout_path = l->out_path;
    l->opts.stderr_path = l->err_path;
    l->opts.new_session = true;
    env_add(l, "PATH", getenv("PATH") != NULL ? getenv("PATH") : "/usr/bin:/bin");
    if (a->cgroups != NULL && e->in_cgroups)
        l->procs_count = cgroups_procs_files(a->cgroups, e->container_id, l->procs, 8);
    l->opts.cgroup_procs = l->procs;
    l->opts.cgroup_count = l->procs_count;
    if (user == NULL || !a->opts.switch_user || geteuid() != 0)
        return 0;
    struct passwd pw, *found = NULL;
    char buf[4096];
    if (getpwnam_r(user, &pw, buf, sizeof(buf), &found) != 0 || found == NULL) {
        snprintf(err, err_len, "Failed to switch to user '%s': no such user", user);
        return -1;
    }
    int n = (int)(sizeof(l->groups) / sizeof(l->groups[0]));
    if (getgrouplist(user, pw.pw_gid, l->groups, &n) < 0)
        n = 0;
    l->opts.switch_user = true;
    l->opts.uid = pw.pw_uid;
    l->opts.gid = pw.pw_gid;
    l->opts.groups = l->groups;
    l->opts.group_count = (size_t)n;
    env_add(l, "HOME", pw.pw_dir);
    env_add(l, "USER", user);
    if (chown(e->directory, pw.pw_uid, pw.pw_gid) != 0) {
        snprintf(err, err_len, "Failed to chown the sandbox to '%s': %s", user, strerror(errno));
        return -1;
    }
    return 0;
}

/* ---- the executor process ---- */

static void executor_exited(actor_t *self, void *state, pid_t pid, int status, void *arg)
{
    if (self == NULL) {
        free(arg);
        return;
    }
    agent_t *a = state;
    agent_executor_t *e = agent_executor_by_key(a, arg);
    if (e == NULL || e->os_pid != pid)
        return;
    e->reaped = true;
    e->exit_status = status;
    bool oom = false;
    char err[256];
    if (a->cgroups != NULL && e->in_cgroups &&
        cgroups_oom_killed(a->cgroups, e->container_id, &oom, err, sizeof(err)) == 0 && oom)
        e->oom = true;
    LOG_INFO("Executor %s of framework %s exited (wait status %d)%s", e->id, e->framework->id,
             status, e->oom ? " after hitting its memory limit" : "");
    agent_container_destroy(a, e);
}

/* Ends a new executor process (the leader of its session) that nothing will watch. */
static void kill_and_reap(pid_t pid)
{
    kill(-pid, SIGKILL);
    kill(pid, SIGKILL);
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
        ;
}

/* The executor's process started (or not) on a launcher thread; key names the executor (freed
 * here). A container destroyed meanwhile is finished here. */
static void executor_spawned(actor_t *self, void *state, pid_t pid, actor_err_t rc, const char *err,
                             void *key)
{
    agent_t *a = state;
    if (self == NULL) {
        free(key); /* the subprocess module killed the process: its actor is gone */
        return;
    }
    agent_executor_t *e = agent_executor_by_key(a, key);
    if (e == NULL || !e->spawning) {
        if (rc == ACTOR_OK)
            kill_and_reap(pid); /* the executor is gone */
        return;
    }
    e->spawning = false;
    if (rc != ACTOR_OK) {
        launch_failed(a, e, "Failed to launch the executor: %s",
                      err[0] != '\0' ? err : actor_strerror(rc));
        return;
    }
    e->os_pid = pid;
    char *watch_key = agent_executor_key_new(e);
    if (watch_key == NULL ||
        actor_subprocess_watch(actor_self(self), pid, executor_exited, watch_key) != ACTOR_OK) {
        free(watch_key);
        LOG_ERROR("Cannot watch executor %s (pid %d): it will be destroyed", e->id, (int)pid);
        kill_and_reap(pid);
        e->reaped = true;
        e->exit_status = -1;
        launch_failed(a, e, "Failed to watch the executor process");
        return;
    }
    if (e->state >= EXECUTOR_TERMINATING) {
        LOG_INFO("Killing executor %s of framework %s (pid %d): its container was destroyed "
                 "while it started",
                 e->id, e->framework->id, (int)pid);
        agent_container_destroy(a, e);
        return;
    }
    agent_checkpoint_executor(a, e);
}

static void spawn_executor(agent_t *a, agent_executor_t *e, const Mesos__TaskInfo *task)
{
    char err[512] = "";
    launch_t l;
    if (launch_init(a, e, container_user(e, task), &l, err, sizeof(err)) != 0) {
        launch_fini(&l);
        launch_failed(a, e, "%s", err);
        return;
    }
    char pid[ACTOR_PID_STRLEN], grace[64], recovery[64];
    actor_pid_format(actor_self(a->self), pid, sizeof(pid));
    flags_duration_format(a->opts.executor_shutdown_grace_period_ns, grace, sizeof(grace));
    flags_duration_format(a->opts.recovery_timeout_ns, recovery, sizeof(recovery));
    bool checkpoint = e->framework->info->has_checkpoint && e->framework->info->checkpoint;
    env_add(&l, "MESOS_AGENT_PID", pid);
    env_add(&l, "MESOS_SLAVE_PID", pid);
    env_add(&l, "MESOS_AGENT_ID", a->agent_id);
    env_add(&l, "MESOS_SLAVE_ID", a->agent_id);
    env_add(&l, "MESOS_FRAMEWORK_ID", e->framework->id);
    env_add(&l, "MESOS_EXECUTOR_ID", e->id);
    env_add(&l, "MESOS_CONTAINER_ID", e->container_id);
    env_add(&l, "MESOS_DIRECTORY", e->directory);
    env_add(&l, "MESOS_SANDBOX", e->directory);
    env_add(&l, "MESOS_CHECKPOINT", checkpoint ? "1" : "0");
    env_add(&l, "MESOS_RECOVERY_TIMEOUT", recovery);
    env_add(&l, "MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD", grace);
    const Mesos__CommandInfo *cmd = e->info->command;
    if (!e->command_executor && cmd != NULL && cmd->environment != NULL) {
        for (size_t i = 0; i < cmd->environment->n_variables; i++) {
            const Mesos__Environment__Variable *v = cmd->environment->variables[i];
            env_add(&l, v->name, v->value);
        }
    }
    l.env[l.env_count] = NULL;
    l.opts.envp = l.env;
    char *argv_shell[] = {"sh", "-c", cmd != NULL ? cmd->value : NULL, NULL};
    char **argv = NULL;
    if (cmd == NULL || cmd->value == NULL) {
        launch_fini(&l);
        launch_failed(a, e, "The executor has no command");
        return;
    }
    if (e->command_executor || (cmd->has_shell && !cmd->shell)) {
        argv = calloc(cmd->n_arguments + 2, sizeof(*argv));
        if (argv != NULL) {
            argv[0] = cmd->n_arguments > 0 ? cmd->arguments[0] : cmd->value;
            for (size_t i = 1; i < cmd->n_arguments; i++)
                argv[i] = cmd->arguments[i];
        }
        l.opts.path = cmd->value;
        l.opts.argv = argv;
        /* Our own mesos-executor, which serves forks (forkserver.h); a framework's is executed. */
        l.opts.fork_server = e->command_executor && a->opts.executor_fork_server;
    } else {
        l.opts.path = "/bin/sh";
        l.opts.argv = argv_shell;
    }
    char *key = agent_executor_key_new(e);
    actor_err_t rc =
        l.opts.argv != NULL && key != NULL
            ? actor_subprocess_spawn_async(actor_self(a->self), &l.opts, executor_spawned, key)
            : ACTOR_ENOMEM;
    free(argv);
    launch_fini(&l);
    if (rc != ACTOR_OK) {
        free(key);
        launch_failed(a, e, "Failed to launch the executor: %s", actor_strerror(rc));
        return;
    }
    e->spawning = true;
    e->state = EXECUTOR_REGISTERING; /* it may register before its spawn is reported */
}

/* Whether pid is the executor of this container: its environment names the container (a pid
 * reused since by another process would not). */
static bool is_container_process(pid_t pid, const char *container_id)
{
    char path[64], want[128];
    snprintf(path, sizeof(path), "/proc/%d/environ", (int)pid);
    snprintf(want, sizeof(want), "MESOS_CONTAINER_ID=%s", container_id);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return false;
    char entry[4096];
    size_t len = 0;
    bool found = false;
    int ch;
    while (!found && (ch = fgetc(f)) != EOF) {
        if (ch != '\0') {
            if (len < sizeof(entry) - 1)
                entry[len++] = (char)ch;
            continue;
        }
        entry[len] = '\0';
        found = strcmp(entry, want) == 0;
        len = 0;
    }
    fclose(f);
    return found;
}

bool agent_container_recover(agent_t *a, agent_executor_t *e)
{
    if (e->os_pid <= 0 || !is_container_process(e->os_pid, e->container_id))
        return false;
    char *key = agent_executor_key_new(e);
    if (key == NULL ||
        actor_subprocess_watch(actor_self(a->self), e->os_pid, executor_exited, key) != ACTOR_OK) {
        free(key);
        return false;
    }
    return true;
}

/* ---- the fetcher ---- */

typedef struct fetch_arg {
    char *key;
    Mesos__TaskInfo *task; /* the first task, for the executor's launch */
} fetch_arg_t;

/* The last line of a file (the fetcher's failure message), or NULL. */
static char *last_line(const char *path)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return NULL;
    char line[1024], last[1024] = "";
    while (fgets(line, sizeof(line), f) != NULL) {
        line[strcspn(line, "\n")] = '\0';
        if (line[0] != '\0')
            snprintf(last, sizeof(last), "%s", line);
    }
    fclose(f);
    return last[0] != '\0' ? strdup(last) : NULL;
}

static void fetcher_exited(actor_t *self, void *state, pid_t pid, int status, void *arg)
{
    fetch_arg_t *f = arg;
    agent_t *a = state;
    agent_executor_t *e = self != NULL ? agent_executor_by_key(a, f->key) : NULL;
    if (self == NULL)
        free(f->key);
    if (e != NULL && e->fetcher_pid == pid && e->state == EXECUTOR_FETCHING) {
        e->fetcher_pid = 0;
        if (status == 0) {
            spawn_executor(a, e, f->task);
        } else {
            char path[4096];
            snprintf(path, sizeof(path), "%s/stderr", e->directory);
            char *line = last_line(path);
            launch_failed(a, e, "%s",
                          line != NULL ? line : "Failed to fetch URIs: the fetcher failed");
            free(line);
        }
    } else if (e != NULL && e->fetcher_pid == pid) {
        e->fetcher_pid = 0;
        agent_container_destroy(a, e); /* destroyed while fetching: finish now */
    }
    mesos__task_info__free_unpacked(f->task, NULL);
    free(f);
}

/* The JSON job of mesos-fetcher (MESOS_FETCHER_INFO). */
static char *fetcher_info(agent_t *a, agent_executor_t *e, const Mesos__CommandInfo *cmd,
                          const char *user)
{
    json_t *info = json_object(), *uris = json_array();
    char cache[4096];
    if (a->opts.fetcher_cache_dir != NULL)
        snprintf(cache, sizeof(cache), "%s", a->opts.fetcher_cache_dir);
    else
        snprintf(cache, sizeof(cache), "%s/fetch", a->opts.work_dir);
    json_object_set_new(info, "sandbox_directory", json_string(e->directory));
    json_object_set_new(info, "cache_directory", json_string(cache));
    json_object_set_new(info, "cache_size", json_integer((json_int_t)a->opts.fetcher_cache_size));
    if (user != NULL && a->opts.switch_user && geteuid() == 0)
        json_object_set_new(info, "user", json_string(user));
    for (size_t i = 0; i < cmd->n_uris; i++) {
        json_t *uri = NULL;
        if (pbjson_from_message(&cmd->uris[i]->base, &uri) == ACTOR_OK)
            json_array_append_new(uris, uri);
    }
    json_object_set_new(info, "uris", uris);
    char *text = json_dumps(info, JSON_COMPACT);
    json_decref(info);
    return text;
}

static void spawn_fetcher(agent_t *a, agent_executor_t *e, const Mesos__CommandInfo *cmd,
                          const Mesos__TaskInfo *task)
{
    char err[512] = "", path[4096];
    launch_t l;
    const char *user = container_user(e, task);
    /* The fetcher runs as the agent's user, outside the cgroups, and chowns what it fetched. */
    if (launch_init(a, e, user, &l, err, sizeof(err)) != 0) {
        launch_fini(&l);
        launch_failed(a, e, "%s", err);
        return;
    }
    l.opts.switch_user = false;
    l.opts.cgroup_count = 0;
    char *job = fetcher_info(a, e, cmd, user);
    env_add(&l, "MESOS_FETCHER_INFO", job);
    free(job);
    l.env[l.env_count] = NULL;
    l.opts.envp = l.env;
    snprintf(path, sizeof(path), "%s/mesos-fetcher", a->opts.launcher_dir);
    char *argv[] = {"mesos-fetcher", NULL};
    l.opts.path = path;
    l.opts.argv = argv;
    pid_t child = 0;
    actor_err_t rc = actor_subprocess_spawn(&l.opts, &child, err, sizeof(err));
    launch_fini(&l);
    if (rc != ACTOR_OK) {
        launch_failed(a, e, "Failed to run the fetcher: %s", err);
        return;
    }
    e->fetcher_pid = child;
    e->state = EXECUTOR_FETCHING;
    fetch_arg_t *f = calloc(1, sizeof(*f));
    if (f != NULL) {
        f->key = agent_executor_key_new(e);
        f->task = PB_COPY(Mesos__TaskInfo, task);
    }
    if (f == NULL || f->key == NULL || f->task == NULL ||
        actor_subprocess_watch(actor_self(a->self), child, fetcher_exited, f) != ACTOR_OK) {
        if (f != NULL) {
            free(f->key);
            if (f->task != NULL)
                mesos__task_info__free_unpacked(f->task, NULL);
            free(f);
        }
        kill(child, SIGKILL);
        e->fetcher_pid = 0;
        launch_failed(a, e, "Failed to watch the fetcher");
    }
}

/* ---- launch and destroy ---- */

void agent_container_launch(agent_t *a, agent_executor_t *e, const Mesos__TaskInfo *first_task)
{
    int rc = agent_make_dirs(e->directory);
    if (rc != 0) {
        launch_failed(a, e, "Failed to create the sandbox '%s': %s", e->directory, strerror(rc));
        return;
    }
    files_attach_sandbox(&a->files, e->directory);
    if (a->cgroups != NULL) {
        char err[512];
        double cpus = resources_scalar(&e->resources, "cpus");
        uint64_t mem = (uint64_t)(resources_scalar(&e->resources, "mem") * 1024 * 1024);
        if (e->command_executor) {
            cpus += EXECUTOR_CPUS;
            mem += EXECUTOR_MEM_BYTES;
        }
        if (cgroups_create(a->cgroups, e->container_id, cpus, mem, err, sizeof(err)) != 0) {
            launch_failed(a, e, "Failed to create the container's cgroups: %s", err);
            return;
        }
        e->in_cgroups = true;
    }
    const Mesos__CommandInfo *cmd = e->command_executor ? first_task->command : e->info->command;
    if (cmd != NULL && cmd->n_uris > 0)
        spawn_fetcher(a, e, cmd, first_task);
    else
        spawn_executor(a, e, first_task);
}

/* SIGKILLs the process group of each child of pid (the command executor's task leads one). */
static void kill_children_groups(pid_t parent)
{
    DIR *d = opendir("/proc");
    struct dirent *ent;
    while (d != NULL && (ent = readdir(d)) != NULL) {
        pid_t pid = (pid_t)atoi(ent->d_name);
        char path[64], buf[512];
        if (pid <= 0)
            continue;
        snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
        FILE *f = fopen(path, "r");
        if (f == NULL)
            continue;
        size_t n = fread(buf, 1, sizeof(buf) - 1, f);
        fclose(f);
        buf[n] = '\0';
        /* "pid (comm) state ppid ...": comm may hold spaces, so parse after its last ')'. */
        char *close = strrchr(buf, ')');
        int ppid = 0;
        if (close != NULL && sscanf(close + 1, " %*c %d", &ppid) == 1 && ppid == parent) {
            kill(-pid, SIGKILL);
            kill(pid, SIGKILL);
        }
    }
    if (d != NULL)
        closedir(d);
}

void agent_container_destroy(agent_t *a, agent_executor_t *e)
{
    if (e->state == EXECUTOR_TERMINATED)
        return;
    if (e->state != EXECUTOR_TERMINATING && e->state != EXECUTOR_TERMINATED)
        e->state = EXECUTOR_TERMINATING;
    if (e->fetcher_pid > 0) {
        kill(e->fetcher_pid, SIGKILL);
        return; /* fetcher_exited finishes the destruction */
    }
    if (e->spawning)
        return; /* executor_spawned finishes the destruction */
    if (e->os_pid > 0 && !e->reaped && !(a->cgroups != NULL && e->in_cgroups)) {
        /* Without cgroups: the executor leads its own session, and its task another one, so
         * the task's group is found through its parent. */
        kill_children_groups(e->os_pid);
        kill(-e->os_pid, SIGKILL);
        kill(e->os_pid, SIGKILL);
    }
    char err[512];
    if (a->cgroups != NULL && e->in_cgroups) {
        if (cgroups_destroy(a->cgroups, e->container_id, err, sizeof(err)) != 0)
            LOG_WARNING("Failed to destroy the cgroups of container %s: %s", e->container_id, err);
        else
            e->in_cgroups = false;
    }
    if (e->os_pid > 0 && !e->reaped)
        return; /* executor_exited comes back here, then ends the executor */
    agent_executor_terminated(a, e);
}

void agent_container_adjust_status(agent_t *a, agent_executor_t *e, Mesos__TaskStatus *status)
{
    bool oom = false;
    char err[256];
    if (a->cgroups == NULL || !e->in_cgroups ||
        cgroups_oom_killed(a->cgroups, e->container_id, &oom, err, sizeof(err)) != 0 || !oom)
        return;
    e->oom = true;
    status->has_reason = true;
    status->reason = MESOS__TASK_STATUS__REASON__REASON_CONTAINER_LIMITATION_MEMORY;
    char *message = NULL;
    if (asprintf(&message, "Memory limit exceeded: %s", status->message ? status->message : "") >=
        0) {
        free(status->message);
        status->message = message;
    }
}

bool agent_container_usage(agent_t *a, agent_executor_t *e, container_usage_t *usage)
{
    char err[256];
    if (a->cgroups != NULL && e->in_cgroups)
        return cgroups_usage(a->cgroups, e->container_id, usage, err, sizeof(err)) == 0;
    if (a->posix_measure && e->os_pid > 0 && !e->reaped)
        return posix_usage(e->os_pid, usage, err, sizeof(err)) == 0;
    return false;
}
