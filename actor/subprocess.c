/*
 * subprocess.c: vfork-style clone+execve and pidfd watches; see subprocess.h.
 *
 * Spawning. The parent blocks every signal, clones a child as vfork does (CLONE_VM|CLONE_VFORK,
 * plus CLONE_FILES: see spawn_child), and restores its mask once the child has executed its
 * program or exited. The child shares the parent's memory until then, so it only makes system
 * calls that touch nothing shared, and it reports a failed step by writing the step and errno
 * into a volatile record in the parent's stack frame before _exit(127): when clone returns in
 * the parent, the child is past execve (record empty) or gone (record set), so the parent reads
 * the record without any synchronisation. Credentials change through raw system
 * calls, because glibc's setuid() in a multi-threaded process signals every thread of the
 * process (its "setxid" broadcast) through data the child shares with the parent.
 *
 * Launcher threads. actor_subprocess_spawn_async copies the options into a job and queues it
 * for two threads that run the same clone+execve and dispatch the outcome to the actor: the
 * agent's actor goes on while executors are spawned, two at a time on two cores. Their lifetime
 * is the reaper's: started with the first job, joined in the reaper's fini. Each keeps its own
 * fork server for the jobs that ask for one (forkserver.c), stopped when the thread ends.
 *
 * Watching. Each watch is a pidfd with an ev_io watcher on the runtime's I/O thread; when the
 * pidfd turns readable the process has exited, waitid(P_PIDFD) reaps it if it is our child
 * (ECHILD otherwise: status -1), and the exit is dispatched to the watching actor. The watches
 * of a runtime belong to a hidden actor, the reaper (libprocess has one too): the runtime
 * terminates every actor when it stops, so the reaper's fini is where pending watches are
 * closed, each callback running once with a NULL actor to free its argument, before the I/O
 * loop goes away.
 */
#include "actor/subprocess.h"

#include <errno.h>
#include <ev.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "actor/io.h"
#include "actor/log.h"
#include "actor/spawn_child.h"

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

extern char **environ;

/* ---- spawning ---- */

/* What the child is given: clone passes one pointer. */
typedef struct child_args {
    const actor_subprocess_options_t *o;
    char *const *envp;
    volatile spawn_report_t *r;
} child_args_t;

static CHILD_CODE int child_main(void *arg)
{
    child_args_t *c = arg;
    spawn_child_prepare(c->o, c->r, -1, false);
    execve(c->o->path, c->o->argv, c->envp);
    spawn_child_fail(c->r, STEP_EXECVE, 0);
}

/* The child's stack: it only makes system calls, a few frames deep. */
#define CHILD_STACK_BYTES (32 * 1024)

/* Starts the child as vfork would (our memory, and we wait until it has executed its program
 * or exited), on a stack of its own in this frame, which this thread leaves alone while it
 * waits. With our descriptor table, not a copy of it: a copy costs a reference taken and
 * dropped on every open descriptor (an agent holds two sockets and a pidfd per executor), and
 * while a child held such references, a socket we closed stayed in our epoll set and later
 * fired for a reused descriptor number, which makes libev rebuild its whole set. The child
 * unshares the table first thing, keeping only 0, 1 and 2. */
static pid_t spawn_child(const actor_subprocess_options_t *o, char *const *envp,
                         volatile spawn_report_t *r, int *clone_errno)
{
    _Alignas(16) char stack[CHILD_STACK_BYTES];
    child_args_t args = {o, envp, r};
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pid_t pid = clone(child_main, stack + sizeof(stack),
                      CLONE_VM | CLONE_VFORK | CLONE_FILES | SIGCHLD, &args);
    *clone_errno = errno;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return pid;
}

/* Why actor_subprocess_spawn refuses opts, or NULL when they are usable. */
static const char *options_invalid(const actor_subprocess_options_t *opts)
{
    if (opts == NULL || opts->path == NULL || opts->argv == NULL || opts->argv[0] == NULL)
        return "A program path and a non-empty argv are needed";
    if (opts->cgroup_count > 0 && opts->cgroup_procs == NULL)
        return "cgroup_count is set but cgroup_procs is NULL";
    if (opts->switch_user && opts->group_count > 0 && opts->groups == NULL)
        return "group_count is set but groups is NULL";
    return NULL;
}

actor_err_t actor_subprocess_spawn(const actor_subprocess_options_t *opts, pid_t *pid, char *err,
                                   size_t err_len)
{
    if (err != NULL && err_len > 0)
        err[0] = '\0';
    const char *invalid = options_invalid(opts);
    if (invalid != NULL) {
        if (err != NULL && err_len > 0)
            snprintf(err, err_len, "%s", invalid);
        return ACTOR_EINVAL;
    }
    char *const *envp = opts->envp != NULL ? opts->envp : environ;
    /* Volatile: the compiler cannot see the child write it between clone and our read. */
    volatile spawn_report_t report = {STEP_NONE, 0, 0, -1};
    int clone_errno = 0;
    pid_t child = spawn_child(opts, envp, &report, &clone_errno);
    if (child < 0) {
        if (err != NULL && err_len > 0)
            snprintf(err, err_len, "clone: %s", strerror(clone_errno));
        return clone_errno == ENOMEM ? ACTOR_ENOMEM : ACTOR_ESYSTEM;
    }
    if (report.step != STEP_NONE) {
        spawn_reap(child);
        spawn_report_t copy = {report.step, report.error, report.index, -1};
        spawn_describe_failure(opts, &copy, err, err_len);
        return ACTOR_ESYSTEM;
    }
    *pid = child;
    return ACTOR_OK;
}

/* ---- watching ---- */

typedef struct watch {
    ev_io io; /* first: the libev callback gets the watch back from it */
    int fd;   /* the pidfd */
    pid_t pid;
    int status; /* wait status, or -1 */
    actor_pid_t to;
    actor_subprocess_exit_fn fn;
    void *arg;
    uint64_t epoch; /* the reaper the watch belongs to */
    struct watch *prev, *next;
} watch_t;

static struct {
    pthread_mutex_t lock;  /* alive and epoch */
    bool alive;            /* a reaper runs in the current runtime */
    uint64_t epoch;        /* bumped by each reaper spawned */
    uint64_t closed_epoch; /* I/O thread: watches of reapers up to this one are closed */
    watch_t *watches;      /* I/O thread: the open watches */
} reaper = {.lock = PTHREAD_MUTEX_INITIALIZER};

static void watch_unlist(watch_t *w)
{
    if (w->prev != NULL)
        w->prev->next = w->next;
    else
        reaper.watches = w->next;
    if (w->next != NULL)
        w->next->prev = w->prev;
    w->prev = w->next = NULL;
}

static void deliver_in_actor(actor_t *self, void *state, void *arg)
{
    watch_t *w = arg;
    w->fn(self, state, w->pid, w->status, w->arg);
    free(w);
}

/* Hands the exit to the watching actor; if it is gone, fn frees its argument right here. */
static void watch_deliver(watch_t *w)
{
    if (actor_dispatch(&w->to, deliver_in_actor, w) != ACTOR_OK)
        deliver_in_actor(NULL, NULL, w);
}

/* Reaps a child of ours; -1 for any other process (ECHILD). */
static int reap_pidfd(int fd)
{
    siginfo_t info;
    memset(&info, 0, sizeof(info));
    int rc;
    do {
        rc = waitid((idtype_t)P_PIDFD, (id_t)fd, &info, WEXITED | WNOHANG);
    } while (rc < 0 && errno == EINTR);
    if (rc < 0 || info.si_pid == 0)
        return -1;
    switch (info.si_code) {
    case CLD_EXITED:
        return (info.si_status & 0xff) << 8;
    case CLD_KILLED:
        return info.si_status & 0x7f;
    case CLD_DUMPED:
        return (info.si_status & 0x7f) | 0x80;
    default:
        return -1;
    }
}

static void on_pidfd_readable(struct ev_loop *loop, ev_io *io, int revents)
{
    (void)revents;
    watch_t *w = (watch_t *)io;
    ev_io_stop(loop, &w->io);
    watch_unlist(w);
    w->status = reap_pidfd(w->fd);
    close(w->fd);
    w->fd = -1;
    watch_deliver(w);
}

/* Ends a watch without an exit: the runtime is stopping and its actors are gone. */
static void watch_close(watch_t *w)
{
    close(w->fd);
    w->fn(NULL, NULL, w->pid, -1, w->arg);
    free(w);
}

static void start_on_io(void *arg)
{
    watch_t *w = arg;
    if (w->epoch <= reaper.closed_epoch) { /* its reaper ended while this call was queued */
        watch_close(w);
        return;
    }
    ev_io_init(&w->io, on_pidfd_readable, w->fd, EV_READ);
    ev_io_start(actor_io_loop(), &w->io);
    w->prev = NULL;
    w->next = reaper.watches;
    if (reaper.watches != NULL)
        reaper.watches->prev = w;
    reaper.watches = w;
}

static void close_on_io(void *arg)
{
    uint64_t epoch = (uint64_t)(uintptr_t)arg;
    if (epoch > reaper.closed_epoch)
        reaper.closed_epoch = epoch;
    watch_t *w = reaper.watches;
    while (w != NULL) {
        watch_t *next = w->next;
        if (w->epoch <= epoch) {
            ev_io_stop(actor_io_loop(), &w->io);
            watch_unlist(w);
            watch_close(w);
        }
        w = next;
    }
}

static void launcher_stop(void);

static void reaper_fini(actor_t *self, void *state)
{
    (void)self, (void)state;
    pthread_mutex_lock(&reaper.lock);
    reaper.alive = false;
    uint64_t epoch = reaper.epoch;
    pthread_mutex_unlock(&reaper.lock);
    launcher_stop();
    /* The runtime stops the I/O loop only after every actor is gone, so this call runs. */
    if (actor_io_call(close_on_io, (void *)(uintptr_t)epoch) != ACTOR_OK)
        LOG_ERROR("Cannot close the process watches: the I/O loop is gone");
}

static const actor_ops_t reaper_ops = {.name = "reaper", .fini = reaper_fini};

/* Spawns the current runtime's reaper unless it runs; reaper.lock held. */
static actor_err_t reaper_spawn_locked(void)
{
    if (reaper.alive)
        return ACTOR_OK;
    actor_err_t err = actor_spawn(&reaper_ops, NULL, NULL, NULL);
    if (err == ACTOR_OK) {
        reaper.alive = true;
        reaper.epoch++;
    }
    return err;
}

/* The current runtime's reaper, spawned on first use; its epoch in *epoch. */
static actor_err_t reaper_ensure(uint64_t *epoch)
{
    pthread_mutex_lock(&reaper.lock);
    actor_err_t err = reaper_spawn_locked();
    *epoch = reaper.epoch;
    pthread_mutex_unlock(&reaper.lock);
    return err;
}

actor_err_t actor_subprocess_watch(const actor_pid_t *to, pid_t pid, actor_subprocess_exit_fn fn,
                                   void *arg)
{
    if (to == NULL || fn == NULL || pid <= 0)
        return ACTOR_EINVAL;
    int fd = (int)syscall(SYS_pidfd_open, pid, 0);
    if (fd < 0)
        return errno == ENOMEM ? ACTOR_ENOMEM : ACTOR_ESYSTEM;
    watch_t *w = calloc(1, sizeof(*w));
    if (w == NULL) {
        close(fd);
        return ACTOR_ENOMEM;
    }
    w->fd = fd;
    w->pid = pid;
    w->status = -1;
    w->to = *to;
    w->fn = fn;
    w->arg = arg;
    actor_err_t err = reaper_ensure(&w->epoch);
    if (err == ACTOR_OK)
        err = actor_io_call(start_on_io, w);
    if (err != ACTOR_OK) {
        close(fd);
        free(w);
        return err;
    }
    return ACTOR_OK;
}

/* ---- spawning on the launcher threads ---- */

/* One actor_subprocess_spawn_async call: its own copy of the options, then the outcome. */
typedef struct launch_job {
    struct launch_job *next; /* the queue */
    actor_pid_t to;
    actor_subprocess_spawned_fn fn;
    void *arg;
    actor_subprocess_options_t opts; /* every pointer into the copies below */
    char *strings[6];                /* path, cwd, stdin, stdout, stderr paths (NULL: none) */
    char **argv, **envp, **procs;    /* NULL-terminated copies */
    gid_t *groups;
    pid_t pid;
    actor_err_t rc;
    char err[512];
} launch_job_t;

#define LAUNCHER_THREADS 2

static struct {
    pthread_mutex_t lock;
    pthread_cond_t cv;
    launch_job_t *head, *tail; /* waiting for a launcher thread */
    pthread_t threads[LAUNCHER_THREADS];
    size_t running; /* threads started */
    bool stopping;  /* the reaper ended: threads exit once idle */
} launcher = {.lock = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};

static void strv_free(char **v)
{
    for (size_t i = 0; v != NULL && v[i] != NULL; i++)
        free(v[i]);
    free(v);
}

/* A copy of the NULL-terminated v (n entries when v has no terminator, n = SIZE_MAX when it
 * does); *ok false when out of memory. */
static char **strv_dup(char *const *v, size_t n, bool *ok)
{
    if (v == NULL)
        return NULL;
    size_t count = 0;
    while (count < n && v[count] != NULL)
        count++;
    char **copy = calloc(count + 1, sizeof(*copy));
    for (size_t i = 0; copy != NULL && i < count; i++) {
        copy[i] = strdup(v[i]);
        if (copy[i] == NULL) {
            strv_free(copy);
            copy = NULL;
        }
    }
    if (copy == NULL)
        *ok = false;
    return copy;
}

static void job_free(launch_job_t *j)
{
    for (size_t i = 0; i < sizeof(j->strings) / sizeof(j->strings[0]); i++)
        free(j->strings[i]);
    strv_free(j->argv);
    strv_free(j->envp);
    strv_free(j->procs);
    free(j->groups);
    free(j);
}

/* Copies the string at *field into j->strings[slot] and points the field at the copy. */
static void job_string(launch_job_t *j, const char **field, size_t slot, bool *ok)
{
    if (*field == NULL)
        return;
    j->strings[slot] = strdup(*field);
    if (j->strings[slot] == NULL)
        *ok = false;
    *field = j->strings[slot];
}

static launch_job_t *job_new(const actor_subprocess_options_t *opts)
{
    launch_job_t *j = calloc(1, sizeof(*j));
    if (j == NULL)
        return NULL;
    bool ok = true;
    j->opts = *opts;
    job_string(j, &j->opts.path, 0, &ok);
    job_string(j, &j->opts.cwd, 1, &ok);
    job_string(j, &j->opts.stdin_path, 2, &ok);
    job_string(j, &j->opts.stdout_path, 3, &ok);
    job_string(j, &j->opts.stderr_path, 4, &ok);
    j->argv = strv_dup(opts->argv, SIZE_MAX, &ok);
    j->envp = strv_dup(opts->envp, SIZE_MAX, &ok);
    j->procs = strv_dup((char *const *)opts->cgroup_procs, opts->cgroup_count, &ok);
    j->opts.argv = j->argv;
    j->opts.envp = j->envp;
    j->opts.cgroup_procs = (const char *const *)j->procs;
    if (opts->switch_user && opts->group_count > 0) {
        j->groups = malloc(opts->group_count * sizeof(*j->groups));
        if (j->groups != NULL)
            memcpy(j->groups, opts->groups, opts->group_count * sizeof(*j->groups));
        ok = ok && j->groups != NULL;
    }
    j->opts.groups = j->groups;
    if (!ok) {
        job_free(j);
        return NULL;
    }
    return j;
}

/* The process of a spawn whose actor is gone: nobody will watch it, so it goes now. */
static void job_discard_child(launch_job_t *j)
{
    if (j->rc == ACTOR_OK && j->pid > 0)
        spawn_kill(j->pid, j->opts.new_session);
}

static void job_deliver(actor_t *self, void *state, void *arg)
{
    launch_job_t *j = arg;
    if (self == NULL)
        job_discard_child(j);
    j->fn(self, state, self != NULL ? j->pid : 0, j->rc, j->err, j->arg);
    job_free(j);
}

static void *launcher_main(void *unused)
{
    (void)unused;
    pthread_setname_np(pthread_self(), "actor:launcher");
    pthread_mutex_lock(&launcher.lock);
    for (;;) {
        while (launcher.head == NULL && !launcher.stopping)
            pthread_cond_wait(&launcher.cv, &launcher.lock);
        launch_job_t *j = launcher.head;
        if (j == NULL)
            break; /* stopping, and nothing left */
        launcher.head = j->next;
        if (launcher.head == NULL)
            launcher.tail = NULL;
        pthread_mutex_unlock(&launcher.lock);
        if (!j->opts.fork_server ||
            !forkserver_spawn(&j->opts, &j->pid, &j->rc, j->err, sizeof(j->err)))
            j->rc = actor_subprocess_spawn(&j->opts, &j->pid, j->err, sizeof(j->err));
        if (actor_dispatch(&j->to, job_deliver, j) != ACTOR_OK)
            job_deliver(NULL, NULL, j);
        pthread_mutex_lock(&launcher.lock);
    }
    pthread_mutex_unlock(&launcher.lock);
    forkserver_thread_end();
    return NULL;
}

/* Starts the launcher threads that are not running; launcher.lock held. */
static actor_err_t launcher_start_locked(void)
{
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old); /* the threads start with every signal blocked */
    int rc = 0;
    while (rc == 0 && launcher.running < LAUNCHER_THREADS) {
        rc = pthread_create(&launcher.threads[launcher.running], NULL, launcher_main, NULL);
        if (rc == 0)
            launcher.running++;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return launcher.running > 0 ? ACTOR_OK : ACTOR_ESYSTEM;
}

/* Ends the launcher threads (from the reaper's fini): queued spawns are not run, each callback
 * runs with self NULL and ACTOR_ECLOSED; spawns in progress finish and are delivered (or their
 * processes killed when the actor is gone). */
static void launcher_stop(void)
{
    pthread_mutex_lock(&launcher.lock);
    launch_job_t *queued = launcher.head;
    launcher.head = launcher.tail = NULL;
    launcher.stopping = true;
    size_t running = launcher.running;
    pthread_cond_broadcast(&launcher.cv);
    pthread_mutex_unlock(&launcher.lock);
    for (size_t i = 0; i < running; i++)
        pthread_join(launcher.threads[i], NULL);
    pthread_mutex_lock(&launcher.lock);
    launcher.running = 0;
    launcher.stopping = false;
    pthread_mutex_unlock(&launcher.lock);
    while (queued != NULL) {
        launch_job_t *next = queued->next;
        queued->rc = ACTOR_ECLOSED;
        snprintf(queued->err, sizeof(queued->err), "The runtime stopped");
        job_deliver(NULL, NULL, queued);
        queued = next;
    }
}

/* Queues j for a launcher thread. Under the reaper's lock: the reaper alive now stops the
 * threads in its fini after this job is queued, so the job is either run or ended there. */
static actor_err_t launcher_submit(launch_job_t *j)
{
    pthread_mutex_lock(&reaper.lock);
    actor_err_t err = reaper_spawn_locked();
    if (err == ACTOR_OK) {
        pthread_mutex_lock(&launcher.lock);
        err = launcher.stopping ? ACTOR_ECLOSED : launcher_start_locked();
        if (err == ACTOR_OK) {
            if (launcher.tail != NULL)
                launcher.tail->next = j;
            else
                launcher.head = j;
            launcher.tail = j;
            pthread_cond_signal(&launcher.cv);
        }
        pthread_mutex_unlock(&launcher.lock);
    }
    pthread_mutex_unlock(&reaper.lock);
    return err;
}

actor_err_t actor_subprocess_spawn_async(const actor_pid_t *to,
                                         const actor_subprocess_options_t *opts,
                                         actor_subprocess_spawned_fn fn, void *arg)
{
    if (to == NULL || fn == NULL || options_invalid(opts) != NULL)
        return ACTOR_EINVAL;
    launch_job_t *j = job_new(opts);
    if (j == NULL)
        return ACTOR_ENOMEM;
    j->to = *to;
    j->fn = fn;
    j->arg = arg;
    actor_err_t err = launcher_submit(j);
    if (err != ACTOR_OK)
        job_free(j);
    return err;
}
