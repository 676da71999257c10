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
 * is the reaper's: started with the first job, joined in the reaper's fini.
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

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

extern char **environ;

/* ---- spawning ---- */

/* Code that runs in the child, on its own stack inside our memory: not instrumented by
 * AddressSanitizer, whose shadow bookkeeping for these frames would stay behind in memory we go
 * on using (the child never returns from them). */
#define CHILD_CODE __attribute__((no_sanitize_address))

/* The child's steps, in order; a failed one is reported with errno. */
typedef enum spawn_step {
    STEP_NONE = 0,
    STEP_UNSHARE,
    STEP_CGROUP_OPEN,
    STEP_CGROUP_WRITE,
    STEP_SETSID,
    STEP_STDIN,
    STEP_STDOUT,
    STEP_STDERR,
    STEP_DUP2,
    STEP_CHDIR,
    STEP_SETGROUPS,
    STEP_SETGID,
    STEP_SETUID,
    STEP_EXECVE,
} spawn_step_t;

/* Written by the child (in the parent's frame), read by the parent after clone returns. */
typedef struct spawn_report {
    int step;     /* spawn_step_t that failed; STEP_NONE when the program runs */
    int error;    /* its errno */
    size_t index; /* the cgroup.procs file, for the cgroup steps */
} spawn_report_t;

static CHILD_CODE __attribute__((noreturn)) void child_fail(volatile spawn_report_t *r,
                                                            spawn_step_t step, size_t index)
{
    r->error = errno;
    r->index = index;
    r->step = step;
    _exit(127);
}

/* Writes the decimal pid and a newline into buf; returns the length. */
static CHILD_CODE size_t format_pid(pid_t pid, char buf[24])
{
    char digits[24];
    size_t n = 0;
    unsigned long v = (unsigned long)pid;
    do {
        digits[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v > 0);
    size_t len = 0;
    while (n > 0)
        buf[len++] = digits[--n];
    buf[len++] = '\n';
    return len;
}

static CHILD_CODE void child_join_cgroups(const actor_subprocess_options_t *o,
                                          volatile spawn_report_t *r)
{
    char text[24];
    size_t len = format_pid(getpid(), text);
    for (size_t i = 0; i < o->cgroup_count; i++) {
        int fd = open(o->cgroup_procs[i], O_WRONLY | O_CLOEXEC);
        if (fd < 0)
            child_fail(r, STEP_CGROUP_OPEN, i);
        ssize_t n = write(fd, text, len);
        if (n != (ssize_t)len) {
            if (n >= 0)
                errno = EIO;
            child_fail(r, STEP_CGROUP_WRITE, i);
        }
        close(fd);
    }
}

/* Opens path onto descriptor target (0, 1 or 2). */
static CHILD_CODE void child_redirect(const char *path, int target, int flags, spawn_step_t step,
                                      volatile spawn_report_t *r)
{
    if (path == NULL)
        return;
    int fd = open(path, flags, 0644);
    if (fd < 0)
        child_fail(r, step, 0);
    if (fd != target) {
        if (dup2(fd, target) < 0)
            child_fail(r, STEP_DUP2, (size_t)target);
        close(fd);
    }
}

static CHILD_CODE void child_switch_user(const actor_subprocess_options_t *o,
                                         volatile spawn_report_t *r)
{
    if (!o->switch_user)
        return;
    if (syscall(SYS_setgroups, o->group_count, o->groups) != 0)
        child_fail(r, STEP_SETGROUPS, 0);
    if (syscall(SYS_setresgid, o->gid, o->gid, o->gid) != 0)
        child_fail(r, STEP_SETGID, 0);
    if (syscall(SYS_setresuid, o->uid, o->uid, o->uid) != 0)
        child_fail(r, STEP_SETUID, 0);
}

/* Default dispositions and an empty mask, whatever the parent had: a task must not inherit an
 * agent's ignored SIGPIPE or its blocked SIGTERM. */
static CHILD_CODE void child_reset_signals(void)
{
    struct sigaction dfl;
    memset(&dfl, 0, sizeof(dfl));
    dfl.sa_handler = SIG_DFL;
    for (int sig = 1; sig < NSIG; sig++)
        if (sig != SIGKILL && sig != SIGSTOP)
            (void)sigaction(sig, &dfl, NULL); /* glibc's internal signals answer EINVAL */
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
}

static CHILD_CODE __attribute__((noreturn)) void
child_run(const actor_subprocess_options_t *o, char *const *envp, volatile spawn_report_t *r)
{
    /* First, while nothing has been opened: a table of our own holding only 0, 1 and 2 (kernels
     * before 5.9 know no CLOSE_RANGE_UNSHARE: a copy of the whole table, then the close). */
    if (close_range(3, ~0u, CLOSE_RANGE_UNSHARE) != 0 &&
        (errno != EINVAL || unshare(CLONE_FILES) != 0 || close_range(3, ~0u, 0) != 0))
        child_fail(r, STEP_UNSHARE, 0);
    child_join_cgroups(o, r);
    if (o->new_session && setsid() < 0)
        child_fail(r, STEP_SETSID, 0);
    child_redirect(o->stdin_path, STDIN_FILENO, O_RDONLY, STEP_STDIN, r);
    child_redirect(o->stdout_path, STDOUT_FILENO, O_WRONLY | O_CREAT | O_APPEND, STEP_STDOUT, r);
    child_redirect(o->stderr_path, STDERR_FILENO, O_WRONLY | O_CREAT | O_APPEND, STEP_STDERR, r);
    if (o->cwd != NULL && chdir(o->cwd) != 0)
        child_fail(r, STEP_CHDIR, 0);
    child_switch_user(o, r);
    child_reset_signals();
    execve(o->path, o->argv, envp);
    child_fail(r, STEP_EXECVE, 0);
}

/* What the child is given: clone passes one pointer. */
typedef struct child_args {
    const actor_subprocess_options_t *o;
    char *const *envp;
    volatile spawn_report_t *r;
} child_args_t;

static CHILD_CODE int child_main(void *arg)
{
    child_args_t *c = arg;
    child_run(c->o, c->envp, c->r);
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

static void describe_failure(const actor_subprocess_options_t *o, const spawn_report_t *r,
                             char *err, size_t err_len)
{
    char what[64];
    const char *object = "";
    switch ((spawn_step_t)r->step) {
    case STEP_CGROUP_OPEN:
    case STEP_CGROUP_WRITE:
        snprintf(what, sizeof(what), "%s", r->step == STEP_CGROUP_OPEN ? "open" : "write");
        object = o->cgroup_procs[r->index];
        break;
    case STEP_STDIN:
    case STEP_STDOUT:
    case STEP_STDERR:
        snprintf(what, sizeof(what), "open");
        object = r->step == STEP_STDIN    ? o->stdin_path
                 : r->step == STEP_STDOUT ? o->stdout_path
                                          : o->stderr_path;
        break;
    case STEP_DUP2:
        snprintf(what, sizeof(what), "dup2 onto descriptor %zu", r->index);
        break;
    case STEP_SETSID:
        snprintf(what, sizeof(what), "setsid");
        break;
    case STEP_UNSHARE:
        snprintf(what, sizeof(what), "close_range (unshare)");
        break;
    case STEP_CHDIR:
        snprintf(what, sizeof(what), "chdir");
        object = o->cwd;
        break;
    case STEP_SETGROUPS:
        snprintf(what, sizeof(what), "setgroups (%zu groups)", o->group_count);
        break;
    case STEP_SETGID:
        snprintf(what, sizeof(what), "setgid %u", (unsigned)o->gid);
        break;
    case STEP_SETUID:
        snprintf(what, sizeof(what), "setuid %u", (unsigned)o->uid);
        break;
    default:
        snprintf(what, sizeof(what), "execve");
        object = o->path;
        break;
    }
    if (err != NULL && err_len > 0)
        snprintf(err, err_len, "%s%s%s: %s", what, object[0] ? " " : "", object,
                 strerror(r->error));
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
    volatile spawn_report_t report = {STEP_NONE, 0, 0};
    int clone_errno = 0;
    pid_t child = spawn_child(opts, envp, &report, &clone_errno);
    if (child < 0) {
        if (err != NULL && err_len > 0)
            snprintf(err, err_len, "clone: %s", strerror(clone_errno));
        return clone_errno == ENOMEM ? ACTOR_ENOMEM : ACTOR_ESYSTEM;
    }
    if (report.step != STEP_NONE) {
        int status;
        while (waitpid(child, &status, 0) < 0 && errno == EINTR)
            ;
        spawn_report_t copy = {report.step, report.error, report.index};
        describe_failure(opts, &copy, err, err_len);
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
    if (j->rc != ACTOR_OK || j->pid <= 0)
        return;
    if (j->opts.new_session)
        kill(-j->pid, SIGKILL);
    kill(j->pid, SIGKILL);
    while (waitpid(j->pid, NULL, 0) < 0 && errno == EINTR)
        ;
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
        j->rc = actor_subprocess_spawn(&j->opts, &j->pid, j->err, sizeof(j->err));
        if (actor_dispatch(&j->to, job_deliver, j) != ACTOR_OK)
            job_deliver(NULL, NULL, j);
        pthread_mutex_lock(&launcher.lock);
    }
    pthread_mutex_unlock(&launcher.lock);
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
