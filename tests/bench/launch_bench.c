/*
 * launch_bench.c: how fast real tasks go through one agent (issue 4's benchmark).
 *
 * One process holds a master (in-memory registry), one agent with real containers (isolated as
 * --isolation says, mesos-executor from this binary's directory) and a framework on the scheduler
 * driver, on the transport engine and threads mesos-agent runs (the light engine, and the actors
 * on its I/O thread: actor.h; LIBPROCESS_NUM_WORKER_THREADS=N gives N workers instead, as it
 * does the agent). The framework
 * launches --tasks tasks of `true` as offers allow (all of them fit in the
 * first offer) and waits for every TASK_FINISHED; the figure is tasks per second from the first
 * ACCEPT to the last TASK_FINISHED. Tasks are in argv form (/bin/true itself, as the baseline
 * spawns it); --shell gives them in shell form, `sh -c true`, which costs a third spawn.
 * --isolation is the agent's flag; the default is cgroups/cpu,cgroups/mem where this process can
 * make cgroups (root, with v1's cpu and memory hierarchies mounted), so the figure includes
 * cgroup set-up and teardown, else posix/cpu,posix/mem. Beside it, in the same run, the baseline: a
 * bare posix_spawn+waitpid loop of /bin/true with two children in flight. Each task costs two
 * spawns (its executor and its command), so half the baseline is the ceiling. Because the machine
 * may be shared, the CPU time of each side is given too: the bench process (master, agent,
 * framework) and its reaped descendants (executors and tasks, and the fork servers the agent
 * starts its executors from), per task, beside the CPU of one bare spawn. --no_fork_server
 * executes every executor instead (the agent's --executor_fork_server=false).
 *
 * The agent's work directory (sandboxes) is a new directory under --work_dir (default /tmp),
 * removed at the end. On an ext4 without a journal (the machine these figures were first taken
 * on), each new inode is found by scanning past the inodes deleted recently (ext4's
 * recently_deleted check), so sandbox creation slows down after each run or test that deletes
 * many files; --work_dir=/dev/shm gives the figure without the file system's share.
 *
 * --threads adds, on stderr, the CPU of the bench process's threads by name (the runtime's
 * workers, the launcher threads that spawn executors, nng's threads).
 *
 *   build/bin/launch-bench [--tasks=1000] [--work_dir=/tmp] [--isolation=...] [--shell]
 *                          [--threads] [--no_fork_server]
 */
#include <dirent.h>
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <pthread.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "actor/clock.h"
#include "actor/daemon.h"
#include "frameworks/scheduler.h"
#include "master/master.h"
#include "proto/task_states.h"
#include "slave/agent.h"
#include "slave/containerizer/cgroups.h"

extern char **environ;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void emit(const char *metric, double value, const char *unit)
{
    printf("{\"bench\":\"launch\",\"metric\":\"%s\",\"value\":%.3f,\"unit\":\"%s\"}\n", metric,
           value, unit);
    fflush(stdout);
}

/* CPU seconds (user + system) used so far by this process (who == RUSAGE_SELF) or by its
 * reaped descendants (RUSAGE_CHILDREN). */
static double cpu_seconds(int who)
{
    struct rusage ru;
    getrusage(who, &ru);
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/* The baseline: n spawns of /bin/true, two at a time. Returns spawns per second. */
static double spawn_baseline(int n)
{
    char *argv[] = {"true", NULL};
    pid_t running[2] = {0, 0};
    double start = now();
    for (int started = 0, done = 0; done < n;) {
        for (int k = 0; k < 2; k++) {
            if (running[k] == 0 && started < n) {
                if (posix_spawn(&running[k], "/bin/true", NULL, NULL, argv, environ) != 0)
                    return 0;
                started++;
            }
        }
        pid_t pid = waitpid(-1, NULL, 0);
        for (int k = 0; k < 2; k++) {
            if (running[k] == pid)
                running[k] = 0;
        }
        done++;
    }
    return n / (now() - start);
}

/* With --threads: the CPU of this process's threads so far, summed by thread name, on stderr
 * (nng's threads are named, the runtime's workers carry the program's name). */
static void print_thread_cpu(int tasks)
{
    DIR *d = opendir("/proc/self/task");
    struct {
        char name[32];
        double ms;
        int threads;
    } groups[32];
    size_t n = 0;
    struct dirent *ent;
    while (d != NULL && (ent = readdir(d)) != NULL) {
        char path[300], buf[1024];
        snprintf(path, sizeof(path), "/proc/self/task/%s/stat", ent->d_name);
        FILE *f = ent->d_name[0] != '.' ? fopen(path, "r") : NULL;
        if (f == NULL)
            continue;
        size_t len = fread(buf, 1, sizeof(buf) - 1, f);
        fclose(f);
        buf[len] = '\0';
        char *open = strchr(buf, '('), *close = strrchr(buf, ')');
        unsigned long utime = 0, stime = 0;
        if (open == NULL || close == NULL ||
            sscanf(close + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &utime,
                   &stime) != 2)
            continue;
        *close = '\0';
        size_t i = 0;
        while (i < n && strcmp(groups[i].name, open + 1) != 0)
            i++;
        if (i == n && n < sizeof(groups) / sizeof(groups[0])) {
            snprintf(groups[n].name, sizeof(groups[n].name), "%s", open + 1);
            groups[n].ms = 0;
            groups[n++].threads = 0;
        }
        if (i < n) {
            groups[i].ms += (double)(utime + stime) * 1e3 / (double)sysconf(_SC_CLK_TCK);
            groups[i].threads++;
        }
    }
    if (d != NULL)
        closedir(d);
    for (size_t i = 0; i < n; i++)
        fprintf(stderr, "threads %-16s x%-2d %8.3f ms per task\n", groups[i].name,
                groups[i].threads, groups[i].ms / tasks);
}

/* Removes the agent's cgroup subtree with whatever containers the last executors' exits left
 * there when the agent stopped. */
static void purge_cgroups(const char *subtree, const char *isolation)
{
    cgroups_options_t co = {.subtree = subtree,
                            .cpu = strstr(isolation, "cgroups/cpu") != NULL,
                            .mem = strstr(isolation, "cgroups/mem") != NULL};
    cgroups_t *cg = NULL;
    char err[256];
    if (cgroups_open(&co, &cg, err, sizeof(err)) != ACTOR_OK ||
        cgroups_purge(cg, err, sizeof(err)) != ACTOR_OK)
        fprintf(stderr, "launch-bench: cgroups left in %s: %s\n", subtree, err);
    cgroups_close(cg);
}

/* cgroups when this process can make them: root, and v1's cpu and memory hierarchies. */
static const char *default_isolation(void)
{
    if (geteuid() == 0 && access("/sys/fs/cgroup/cpu", W_OK) == 0 &&
        access("/sys/fs/cgroup/memory", W_OK) == 0)
        return "cgroups/cpu,cgroups/mem";
    return "posix/cpu,posix/mem";
}

typedef struct bench {
    int tasks;
    bool shell;
    int launched, finished, failed;
    double first_accept, last_finished;
    scheduler_resources_t res;
    pthread_mutex_t lock;
    pthread_cond_t cond;
} bench_t;

static char *argv_true[] = {"true"};

static void on_offers(scheduler_driver_t *d, void *user, const Mesos__Offer *const *offers,
                      size_t count)
{
    bench_t *b = user;
    for (size_t i = 0; i < count; i++) {
        const char *ids[] = {offers[i]->id->value};
        resources_t left;
        char err[256];
        resources_init(&left);
        resources_from_proto(&left, offers[i]->resources, offers[i]->n_resources, err, sizeof(err));
        size_t n = 0;
        scheduler_task_t *tasks = calloc((size_t)(b->tasks - b->launched) + 1, sizeof(*tasks));
        Mesos__TaskInfo **infos = calloc((size_t)(b->tasks - b->launched) + 1, sizeof(*infos));
        char(*names)[32] = calloc((size_t)(b->tasks - b->launched) + 1, sizeof(*names));
        while (b->launched < b->tasks && resources_contains(&left, &b->res.set)) {
            resources_subtract(&left, &b->res.set);
            snprintf(names[n], sizeof(names[n]), "true-%d", b->launched++);
            scheduler_task_init(&tasks[n], names[n], names[n], offers[i]->agent_id->value, "true",
                                b->res.items, b->res.count);
            if (!b->shell) {
                tasks[n].command.shell = false;
                tasks[n].command.value = "/bin/true";
                tasks[n].command.n_arguments = 1;
                tasks[n].command.arguments = argv_true;
            }
            infos[n] = &tasks[n].info;
            n++;
        }
        resources_fini(&left);
        if (n > 0 && b->first_accept == 0)
            b->first_accept = now();
        if (n > 0)
            scheduler_driver_launch(d, ids, 1, infos, n, -1);
        else
            scheduler_driver_decline(d, ids[0], 60);
        free(tasks);
        free(infos);
        free(names);
    }
}

static void on_update(scheduler_driver_t *d, void *user, const Mesos__TaskStatus *status)
{
    (void)d;
    bench_t *b = user;
    if (!mesos_task_state_terminal(status->state))
        return;
    pthread_mutex_lock(&b->lock);
    if (status->state == MESOS__TASK_STATE__TASK_FINISHED)
        b->finished++;
    else
        b->failed++;
    if (b->finished + b->failed == b->tasks) {
        b->last_finished = now();
        pthread_cond_signal(&b->cond);
    }
    pthread_mutex_unlock(&b->lock);
}

int main(int argc, char **argv)
{
    bench_t b = {.tasks = 1000};
    const char *parent = "/tmp";
    bool threads = false, fork_server = true;
    const char *isolation = default_isolation();
    for (int i = 1; i < argc; i++) {
        if (strncmp(argv[i], "--tasks=", 8) == 0)
            b.tasks = atoi(argv[i] + 8);
        else if (strncmp(argv[i], "--isolation=", 12) == 0)
            isolation = argv[i] + 12;
        else if (strcmp(argv[i], "--shell") == 0)
            b.shell = true;
        else if (strncmp(argv[i], "--work_dir=", 11) == 0)
            parent = argv[i] + 11;
        else if (strcmp(argv[i], "--threads") == 0)
            threads = true;
        else if (strcmp(argv[i], "--no_fork_server") == 0)
            fork_server = false;
        else
            b.tasks = 0;
    }
    if (b.tasks <= 0) {
        fprintf(stderr, "usage: launch-bench [--tasks=N] [--work_dir=DIR] [--isolation=LIST] "
                        "[--shell] [--threads] [--no_fork_server]\n");
        return 1;
    }
    char self[PATH_MAX], err[512] = "";
    ssize_t len = readlink("/proc/self/exe", self, sizeof(self) - 1);
    if (len <= 0)
        return 1;
    self[len] = '\0';
    const char *bin_dir = dirname(self);
    char work_dir[PATH_MAX];
    snprintf(work_dir, sizeof(work_dir), "%s/launch-bench.XXXXXX", parent);
    if (mkdtemp(work_dir) == NULL) {
        fprintf(stderr, "Cannot create a directory in '%s': %s\n", parent, strerror(errno));
        return 1;
    }

    double cpu0 = cpu_seconds(RUSAGE_SELF) + cpu_seconds(RUSAGE_CHILDREN);
    double baseline = spawn_baseline(b.tasks);
    double spawn_cpu = cpu_seconds(RUSAGE_SELF) + cpu_seconds(RUSAGE_CHILDREN) - cpu0;
    double self0 = cpu_seconds(RUSAGE_SELF), children0 = cpu_seconds(RUSAGE_CHILDREN);

    actor_runtime_options_t ro;
    actor_runtime_options_init(&ro);
    ro.port = 0;
    /* The engine and threads of mesos-agent (slave/main.c): actors on the I/O thread, unless
     * LIBPROCESS_NUM_WORKER_THREADS asks for workers. */
    ro.transport = ACTOR_TRANSPORT_IO_LOOP;
    actor_daemon_threads(&ro, true);
    if (actor_runtime_start(&ro) != ACTOR_OK)
        return 1;
    master_options_t mo;
    master_options_init(&mo);
    mo.registry = "in_memory";
    master_pids_t master;
    if (master_start(&mo, &master) != ACTOR_OK)
        return 1;
    char master_pid[ACTOR_PID_STRLEN];
    actor_pid_format(&master.master, master_pid, sizeof(master_pid));
    agent_options_t ao;
    agent_options_init(&ao);
    ao.master = master_pid;
    ao.work_dir = work_dir;
    ao.launcher_dir = bin_dir;
    ao.isolation = isolation;
    ao.executor_fork_server = fork_server;
    char subtree[64]; /* its own, not mesos-local's default mesos-agent-5051 */
    snprintf(subtree, sizeof(subtree), "launch-bench-%d", (int)getpid());
    ao.cgroups_subtree = subtree;
    fprintf(stderr, "launch-bench: %d tasks in %s form, --isolation=%s\n", b.tasks,
            b.shell ? "shell" : "argv", isolation);
    ao.resources = "cpus:2;mem:65536;disk:1024;ports:[31000-32000]";
    actor_pid_t agent;
    if (agent_start(&ao, &agent, err, sizeof(err)) != ACTOR_OK) {
        fprintf(stderr, "agent: %s\n", err);
        return 1;
    }
    scheduler_resources_parse(&b.res, "cpus:0.001;mem:1", err, sizeof(err));
    pthread_mutex_init(&b.lock, NULL);
    pthread_cond_init(&b.cond, NULL);
    scheduler_driver_options_t so;
    scheduler_driver_options_init(&so);
    so.master = master_pid;
    so.name = "launch-bench";
    scheduler_callbacks_t cbs = {.offers = on_offers, .update = on_update};
    scheduler_driver_t *driver = NULL;
    if (scheduler_driver_start(&so, &cbs, &b, &driver) != ACTOR_OK)
        return 1;
    pthread_mutex_lock(&b.lock);
    while (b.finished + b.failed < b.tasks)
        pthread_cond_wait(&b.cond, &b.lock);
    pthread_mutex_unlock(&b.lock);
    double rate = b.tasks / (b.last_finished - b.first_accept);
    if (threads)
        print_thread_cpu(b.tasks);
    scheduler_driver_stop(driver, false);
    scheduler_driver_free(driver);
    agent_stop(&agent);
    if (strstr(isolation, "cgroups/") != NULL)
        purge_cgroups(subtree, isolation);
    master_stop(&master);
    /* After the runtime's stop, which reaps the launcher threads' fork servers: the forks of
     * executors are their CPU, counted among the children only once they are reaped. CPU is the
     * figure that the other load of a shared machine disturbs least. */
    actor_runtime_stop();
    double self_cpu = cpu_seconds(RUSAGE_SELF) - self0;
    double children_cpu = cpu_seconds(RUSAGE_CHILDREN) - children0;
    emit("launch/posix_spawn_true_2_in_flight", baseline, "spawns/s");
    emit("launch/posix_spawn_cpu_per_spawn", spawn_cpu * 1e3 / b.tasks, "ms");
    emit("launch/tasks_accept_to_finished", rate, "tasks/s");
    emit("launch/ratio_to_posix_spawn", rate / baseline, "ratio");
    emit("launch/agent_process_cpu_per_task", self_cpu * 1e3 / b.tasks, "ms");
    emit("launch/executors_and_tasks_cpu_per_task", children_cpu * 1e3 / b.tasks, "ms");
    emit("launch/tasks_failed", b.failed, "tasks");
    scheduler_resources_fini(&b.res);
    char cmd[PATH_MAX + 16];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", work_dir);
    return system(cmd) == 0 && b.failed == 0 ? 0 : 1;
}
