/*
 * forkserver.c: fork servers; see forkserver.h.
 *
 * Protocol. A SOCK_SEQPACKET socket pair, one message each way per spawn. The server first sends
 * a hello (an fs_reply_t whose error says whether it can serve at all). A request is an
 * fs_request_t followed by the supplementary groups and NUL-terminated strings: those of cwd,
 * stdin, stdout and stderr that are set, then argv, the environment and the cgroup.procs files.
 * The server answers twice: as soon as the child exists, with its pid (so that a server that dies
 * next does not leave the spawner a child it knows nothing of), and with the outcome (final set):
 * the step that failed if one did (the child then exited with status 127, and the spawner, its
 * parent, reaps it). A request it could not even fork for gets only the outcome, without a pid.
 *
 * The child. The server clones it without CLONE_VM (a copy of the server's memory: the program's
 * static state and the server's few allocations), with CLONE_PARENT, and with CLONE_CHILD_SETTID
 * into the C library's own record of the thread's id: a bare clone would leave the server's id
 * there, which the library uses to signal and lock (abort(), raise(), pthread_kill). The child
 * makes spawn_child.c's steps, keeping a pipe to the server that it closes once its program is
 * about to run (or through which it reports the failed step), and the server answers the spawner
 * only then, as the vfork-style spawn answers only after the execve.
 */
#include "actor/forkserver.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/prctl.h>

#include "actor/log.h"
#include "actor/spawn_child.h"

extern char **environ;

#define FS_ENV              "ACTOR_FORKSERVER"
#define FS_MAGIC            0x31534641u  /* "AFS1" */
#define FS_REQUEST_MAX      (128 * 1024) /* well under a socket's default send buffer */
#define FS_READY_TIMEOUT_MS 5000

enum { FS_NEW_SESSION = 1u << 0, FS_SWITCH_USER = 1u << 1 };

typedef struct fs_request {
    uint32_t magic;
    uint32_t flags;   /* FS_* */
    uint32_t present; /* bit i: the i-th of cwd, stdin, stdout, stderr follows */
    uint32_t argc, envc, cgroup_count, group_count;
    uint32_t uid, gid;
} fs_request_t;

typedef struct fs_reply {
    uint32_t magic;
    uint32_t final; /* 0: the child exists, the outcome follows */
    int32_t pid;    /* the child, even when a step failed; 0 when none was made */
    int32_t step;   /* spawn_step_t that failed, STEP_NONE if none */
    int32_t error;  /* its errno; with no child (or in the hello), why not */
    uint32_t index;
} fs_reply_t;

/* ---- the server ---- */

/* Where glibc keeps a thread's id (libthread_db's description of struct pthread: bits, count,
 * offset); weak, so that a C library without it means no fork server rather than no link. */
extern const uint32_t _thread_db_pthread_tid[3] __attribute__((weak));

static struct {
    actor_forkserver_entry_fn entry;
    char *tz;               /* TZ as the time zone was read (NULL: unset) */
    pid_t *tid;             /* this thread's id in the C library's record of it */
    struct prctl_mm_map mm; /* the memory layout as /proc/self/stat gives it */
} server;

static bool forked;

bool actor_forkserver_forked(void)
{
    return forked;
}

/* Reads the layout fields of PR_SET_MM_MAP from /proc/self/stat (fields 26-28 and 45-51). */
static bool read_layout(struct prctl_mm_map *mm)
{
    char buf[2048];
    int fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
    ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
    if (fd >= 0)
        close(fd);
    char *p = n > 0 ? (buf[n] = '\0', strrchr(buf, ')')) : NULL;
    if (p == NULL)
        return false;
    unsigned long long field[53] = {0};
    int i = 2; /* p is at the end of field 2, the command */
    for (char *tok = strtok(p + 1, " "); tok != NULL && i < 52; tok = strtok(NULL, " "))
        field[++i] = strtoull(tok, NULL, 10);
    if (i < 51)
        return false;
    memset(mm, 0, sizeof(*mm));
    mm->start_code = field[26];
    mm->end_code = field[27];
    mm->start_stack = field[28];
    mm->start_data = field[45];
    mm->end_data = field[46];
    mm->start_brk = field[47];
    mm->arg_start = field[48];
    mm->arg_end = field[49];
    mm->env_start = field[50];
    mm->env_end = field[51];
    mm->exe_fd = (uint32_t)-1;
    return true;
}

/* AddressSanitizer keeps its own record of threads, which a bare clone leaves stale; and the
 * order of clone's arguments in fork_one is x86_64's. */
#if defined(__SANITIZE_ADDRESS__) || !defined(__x86_64__)
#define FS_CAN_FORK false
#else
#define FS_CAN_FORK true
#endif

/* Whether this process can fork children as promised: see forkserver.h. */
static bool server_can_serve(void)
{
    if (!FS_CAN_FORK || _thread_db_pthread_tid == NULL || _thread_db_pthread_tid[0] != 32)
        return false;
    server.tid = (pid_t *)((char *)pthread_self() + _thread_db_pthread_tid[2]);
    if (*server.tid != gettid() || !read_layout(&server.mm))
        return false;
    /* Setting the layout it has is how to learn that it may be set. */
    struct prctl_mm_map probe = server.mm;
    probe.brk = (uint64_t)(uintptr_t)sbrk(0);
    return prctl(PR_SET_MM, PR_SET_MM_MAP, (unsigned long)&probe, sizeof(probe), 0) == 0;
}

typedef struct request {
    actor_subprocess_options_t opts; /* its strings point into the message */
    int argc;
    char **argv, **envp, **procs;
    gid_t *groups;
} request_t;

static void request_free(request_t *q)
{
    free(q->argv);
    free(q->envp);
    free(q->procs);
    free(q->groups);
}

/* The NUL-terminated string at *cur, advancing past it; NULL if the message ends first. */
static char *take_string(char **cur, const char *end)
{
    char *s = *cur, *nul = memchr(s, '\0', (size_t)(end - s));
    if (nul == NULL)
        return NULL;
    *cur = nul + 1;
    return s;
}

/* n strings, NULL-terminated; NULL if the message ends first or memory runs out. */
static char **take_strings(char **cur, const char *end, uint32_t n)
{
    char **v = calloc((size_t)n + 1, sizeof(*v));
    for (uint32_t i = 0; v != NULL && i < n; i++) {
        v[i] = take_string(cur, end);
        if (v[i] == NULL) {
            free(v);
            v = NULL;
        }
    }
    return v;
}

static bool request_parse(char *buf, size_t len, request_t *q)
{
    memset(q, 0, sizeof(*q));
    fs_request_t h;
    if (len < sizeof(h))
        return false;
    memcpy(&h, buf, sizeof(h));
    char *cur = buf + sizeof(h), *end = buf + len;
    /* Every string takes at least its NUL: counts beyond the length are lies. */
    if (h.magic != FS_MAGIC || h.argc == 0 || h.argc > len || h.envc > len ||
        h.cgroup_count > len || h.group_count > (size_t)(end - cur) / sizeof(gid_t))
        return false;
    if (h.group_count > 0) {
        q->groups = malloc(h.group_count * sizeof(gid_t));
        if (q->groups == NULL)
            return false;
        memcpy(q->groups, cur, h.group_count * sizeof(gid_t));
        cur += h.group_count * sizeof(gid_t);
    }
    const char **optional[] = {&q->opts.cwd, &q->opts.stdin_path, &q->opts.stdout_path,
                               &q->opts.stderr_path};
    for (unsigned i = 0; i < 4; i++)
        if ((h.present & (1u << i)) && (*optional[i] = take_string(&cur, end)) == NULL)
            return false;
    q->argv = take_strings(&cur, end, h.argc);
    q->envp = q->argv != NULL ? take_strings(&cur, end, h.envc) : NULL;
    q->procs = q->envp != NULL ? take_strings(&cur, end, h.cgroup_count) : NULL;
    if (q->procs == NULL || cur != end)
        return false;
    q->argc = (int)h.argc;
    q->opts.path = q->argv[0];
    q->opts.argv = q->argv;
    q->opts.envp = q->envp;
    q->opts.cgroup_procs = (const char *const *)q->procs;
    q->opts.cgroup_count = h.cgroup_count;
    q->opts.new_session = (h.flags & FS_NEW_SESSION) != 0;
    q->opts.switch_user = (h.flags & FS_SWITCH_USER) != 0;
    q->opts.uid = (uid_t)h.uid;
    q->opts.gid = (gid_t)h.gid;
    q->opts.groups = q->groups;
    q->opts.group_count = h.group_count;
    return true;
}

/* Makes argv and envp this process's own, in fresh anonymous memory (the only kind whose
 * contents /proc/PID/cmdline and /proc/PID/environ show). */
static bool take_identity(char **argv, char **envp, char ***new_argv, char ***new_envp)
{
    size_t argc = 0, envc = 0, arg_bytes = 0, env_bytes = 0;
    for (; argv[argc] != NULL; argc++)
        arg_bytes += strlen(argv[argc]) + 1;
    for (; envp[envc] != NULL; envc++)
        env_bytes += strlen(envp[envc]) + 1;
    char *area = malloc(arg_bytes + env_bytes);
    char **av = malloc((argc + 1) * sizeof(*av)), **ev = malloc((envc + 1) * sizeof(*ev));
    if (area == NULL || av == NULL || ev == NULL) {
        errno = ENOMEM;
        return false;
    }
    char *p = area;
    for (size_t i = 0; i < argc; i++)
        p = stpcpy(av[i] = p, argv[i]) + 1;
    for (size_t i = 0; i < envc; i++)
        p = stpcpy(ev[i] = p, envp[i]) + 1;
    av[argc] = ev[envc] = NULL;
    struct prctl_mm_map mm = server.mm;
    mm.brk = (uint64_t)(uintptr_t)sbrk(0);
    mm.arg_start = (uint64_t)(uintptr_t)area;
    mm.arg_end = mm.env_start = mm.arg_start + arg_bytes;
    mm.env_end = mm.env_start + env_bytes;
    if (prctl(PR_SET_MM, PR_SET_MM_MAP, (unsigned long)&mm, sizeof(mm), 0) != 0)
        return false;
    *new_argv = av;
    *new_envp = ev;
    return true;
}

static __attribute__((noreturn)) void run_child(request_t *q, int report_fd)
{
    forked = true;
    volatile spawn_report_t r = {STEP_NONE, 0, 0, report_fd};
    if (q->opts.stdin_path == NULL)
        q->opts.stdin_path = "/dev/null";               /* not the server's socket */
    spawn_child_prepare(&q->opts, &r, report_fd, true); /* see actor_forkserver_main */
    if (q->opts.switch_user) /* as an execve as that user leaves it: cores, ptrace, /proc */
        prctl(PR_SET_DUMPABLE, 1);
    char **argv, **envp;
    if (!take_identity(q->argv, q->envp, &argv, &envp))
        spawn_child_fail(&r, STEP_IDENTITY, 0);
    environ = envp;
    const char *tz = getenv("TZ");
    if ((tz == NULL) != (server.tz == NULL) || (tz != NULL && strcmp(tz, server.tz) != 0))
        tzset();      /* the server's zone is not the child's */
    close(report_fd); /* the server hears that the program runs */
    exit(server.entry(q->argc, argv));
}

static void reply_send(const fs_reply_t *reply)
{
    if (send(STDIN_FILENO, reply, sizeof(*reply), MSG_NOSIGNAL) != (ssize_t)sizeof(*reply))
        _exit(0); /* the spawner is gone */
}

/* A pipe for the child's report, above the standard descriptors (ours may be closed). */
static bool report_pipe(int report[2])
{
    if (pipe2(report, O_CLOEXEC) != 0)
        return false;
    for (int i = 0; i < 2; i++) {
        if (report[i] > STDERR_FILENO)
            continue;
        int moved = fcntl(report[i], F_DUPFD_CLOEXEC, STDERR_FILENO + 1);
        close(report[i]);
        report[i] = moved;
    }
    if (report[0] >= 0 && report[1] >= 0)
        return true;
    close(report[0]);
    close(report[1]);
    return false;
}

/* Forks the child of a parsed request and fills the outcome. */
static void fork_one(request_t *q, fs_reply_t *reply)
{
    int report[2];
    if (!report_pipe(report)) {
        reply->error = errno;
        return;
    }
    pid_t pid = (pid_t)syscall(SYS_clone, CLONE_PARENT | CLONE_CHILD_SETTID | SIGCHLD, NULL, NULL,
                               server.tid, 0);
    if (pid == 0) {
        close(report[0]);
        run_child(q, report[1]);
    }
    reply->error = pid < 0 ? errno : 0;
    close(report[1]);
    if (pid > 0) {
        reply->pid = pid;
        reply_send(reply); /* the child exists: the outcome follows */
        spawn_report_t r;
        ssize_t n;
        while ((n = read(report[0], &r, sizeof(r))) < 0 && errno == EINTR)
            ;
        if (n == (ssize_t)sizeof(r)) {
            reply->step = r.step;
            reply->error = r.error;
            reply->index = (uint32_t)r.index;
        }
    }
    close(report[0]);
}

static __attribute__((noreturn)) void serve(void)
{
    char *buf = malloc(FS_REQUEST_MAX);
    for (;;) {
        ssize_t n = buf != NULL ? recv(STDIN_FILENO, buf, FS_REQUEST_MAX, 0) : 0;
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            _exit(0); /* the spawner is done with us */
        fs_reply_t reply = {.magic = FS_MAGIC, .step = STEP_NONE};
        request_t q;
        if (request_parse(buf, (size_t)n, &q))
            fork_one(&q, &reply);
        else
            reply.error = EPROTO;
        request_free(&q);
        reply.final = 1;
        reply_send(&reply);
    }
}

void actor_forkserver_main(actor_forkserver_entry_fn entry)
{
    const char *value = getenv(FS_ENV);
    char *end;
    long spawner = value != NULL ? strtol(value, &end, 10) : 0;
    if (value == NULL || *end != '\0' || spawner <= 0)
        return;
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != (pid_t)spawner)
        _exit(0); /* the spawner died before the line above */
    /* Every signal blocked, and every disposition the default one (nothing here changes one
     * after this): its children only clear the mask. */
    sigset_t all;
    sigfillset(&all);
    sigprocmask(SIG_SETMASK, &all, NULL);
    spawn_default_dispositions();
    server.entry = entry;
    /* What each child would otherwise do for itself: read the time zone (its first log line). */
    tzset();
    server.tz = getenv("TZ") != NULL ? strdup(getenv("TZ")) : NULL;
    bool ready = server_can_serve();
    fs_reply_t hello = {
        .magic = FS_MAGIC, .final = 1, .step = STEP_NONE, .error = ready ? 0 : ENOTSUP};
    if (send(STDIN_FILENO, &hello, sizeof(hello), MSG_NOSIGNAL) != (ssize_t)sizeof(hello) || !ready)
        _exit(0);
    serve();
}

/* ---- the spawner's side: one server per launcher thread ---- */

static _Thread_local struct {
    char *path;          /* the program served; NULL without a server */
    struct stat program; /* its file when the server started: a new one (an upgrade) is served
                            by a new server */
    pid_t pid;           /* the server */
    int fd;              /* our end of its socket */
    char *refused;       /* a program that cannot be served: executed from now on */
} client = {.fd = -1};

/* Stops this thread's fork server, if it has one, and reaps it. */
static void forkserver_release(void)
{
    if (client.path != NULL) {
        close(client.fd);
        spawn_kill(client.pid, false); /* it may be stuck with a child that never runs */
    }
    free(client.path);
    client.path = NULL;
    client.fd = -1;
}

/* See spawn_child.h. */
void forkserver_thread_end(void)
{
    forkserver_release();
    free(client.refused);
    client.refused = NULL;
}

/* Our environment with ACTOR_FORKSERVER=<our pid> instead of any inherited one. */
static char **server_environment(char *var, size_t var_len)
{
    size_t n = 0;
    while (environ[n] != NULL)
        n++;
    char **env = malloc((n + 2) * sizeof(*env));
    if (env == NULL)
        return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (strncmp(environ[i], FS_ENV "=", sizeof(FS_ENV)) != 0)
            env[k++] = environ[i];
    snprintf(var, var_len, FS_ENV "=%d", (int)getpid());
    env[k++] = var;
    env[k] = NULL;
    return env;
}

static bool same_file(const struct stat *a, const struct stat *b)
{
    return a->st_dev == b->st_dev && a->st_ino == b->st_ino &&
           a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

/* The program refuses to serve (it does not opt in, or cannot fork here): from now on this
 * thread executes it. */
static void refuse(const char *path)
{
    if (client.refused == NULL && (client.refused = strdup(path)) != NULL)
        LOG_INFO("%s has no usable fork server: its processes are executed", path);
}

/* Starts the fork server of path and waits for its hello. */
static bool server_start(const char *path)
{
    int sv[2];
    struct stat program;
    if (stat(path, &program) != 0 || socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0)
        return false;
    int sndbuf = 2 * FS_REQUEST_MAX; /* a request is one message: it must fit whole */
    setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
    char var[64];
    char **env = server_environment(var, sizeof(var));
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, sv[1], STDIN_FILENO);
    posix_spawn_file_actions_addclosefrom_np(&fa, 3);
    posix_spawnattr_init(&attr);
    sigset_t all;
    sigfillset(&all);
    posix_spawnattr_setsigdefault(&attr, &all);
    posix_spawnattr_setsigmask(&attr, &all);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
    char *argv[] = {(char *)path, "--fork_server", NULL}; /* for ps; refused by a program that
                                                              does not opt in */
    pid_t pid;
    int rc = env != NULL ? posix_spawn(&pid, path, &fa, &attr, argv, env) : ENOMEM;
    posix_spawnattr_destroy(&attr);
    posix_spawn_file_actions_destroy(&fa);
    free(env);
    close(sv[1]);
    fs_reply_t hello;
    struct pollfd pfd = {.fd = sv[0], .events = POLLIN};
    /* No hello in time, an end before it, or one that says no: the program will not serve. */
    bool answered = rc == 0 && poll(&pfd, 1, FS_READY_TIMEOUT_MS) == 1 &&
                    recv(sv[0], &hello, sizeof(hello), 0) == (ssize_t)sizeof(hello) &&
                    hello.magic == FS_MAGIC;
    bool ready = answered && hello.error == 0;
    if (rc == 0 && !ready)
        refuse(path);
    client.path = ready ? strdup(path) : NULL;
    if (client.path == NULL) {
        close(sv[0]);
        if (rc == 0)
            spawn_kill(pid, false);
        return false;
    }
    client.pid = pid;
    client.fd = sv[0];
    client.program = program;
    return true;
}

static size_t count_strings(char *const *v)
{
    size_t n = 0;
    while (v != NULL && v[n] != NULL)
        n++;
    return n;
}

/* Appends the n strings of v (NULL-terminated or not) at *p, or only counts them when *p is NULL.
 */
static size_t put_strings(char **p, const char *const *v, size_t n)
{
    size_t bytes = 0;
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(v[i]) + 1;
        if (*p != NULL) {
            memcpy(*p, v[i], len);
            *p += len;
        }
        bytes += len;
    }
    return bytes;
}

/* The request for o, or NULL when out of memory or over FS_REQUEST_MAX. */
static char *request_pack(const actor_subprocess_options_t *o, size_t *len)
{
    char *const *envp = o->envp != NULL ? o->envp : environ;
    const char *optional[] = {o->cwd, o->stdin_path, o->stdout_path, o->stderr_path};
    fs_request_t h = {
        .magic = FS_MAGIC,
        .flags = (o->new_session ? FS_NEW_SESSION : 0) | (o->switch_user ? FS_SWITCH_USER : 0),
        .argc = (uint32_t)count_strings(o->argv),
        .envc = (uint32_t)count_strings(envp),
        .cgroup_count = (uint32_t)o->cgroup_count,
        .group_count = o->switch_user ? (uint32_t)o->group_count : 0,
        .uid = (uint32_t)o->uid,
        .gid = (uint32_t)o->gid,
    };
    char *buf = NULL;
    for (int pass = 0; pass < 2; pass++) { /* count, then write */
        char *p = buf;
        size_t size = sizeof(h) + h.group_count * sizeof(gid_t);
        if (p != NULL) {
            memcpy(p, &h, sizeof(h));
            if (h.group_count > 0)
                memcpy(p + sizeof(h), o->groups, h.group_count * sizeof(gid_t));
            p += size;
        }
        for (unsigned i = 0; i < 4; i++) {
            if (optional[i] != NULL) {
                h.present |= 1u << i;
                size += put_strings(&p, &optional[i], 1);
            }
        }
        size += put_strings(&p, (const char *const *)o->argv, h.argc);
        size += put_strings(&p, (const char *const *)envp, h.envc);
        size += put_strings(&p, o->cgroup_procs, h.cgroup_count);
        if (buf != NULL)
            break;
        if (size > FS_REQUEST_MAX || (buf = malloc(size)) == NULL)
            return NULL;
        *len = size;
    }
    return buf;
}

/* Sends the request, to a new server if there is none or the one we had is gone. */
static bool request_send(const char *path, const char *req, size_t len)
{
    for (int attempt = 0; attempt < 2; attempt++) {
        if (client.path == NULL && !server_start(path))
            return false;
        if (send(client.fd, req, len, MSG_NOSIGNAL) == (ssize_t)len)
            return true;
        forkserver_release(); /* it died since the last spawn */
    }
    return false;
}

static void reply_error(char *err, size_t err_len, const char *fmt, const char *path, int error)
{
    if (err != NULL && err_len > 0)
        snprintf(err, err_len, fmt, path, strerror(error));
}

/* The server's next message; false at its end. */
static bool reply_recv(fs_reply_t *reply)
{
    ssize_t n;
    while ((n = recv(client.fd, reply, sizeof(*reply), 0)) < 0 && errno == EINTR)
        ;
    return n == (ssize_t)sizeof(*reply) && reply->magic == FS_MAGIC;
}

bool forkserver_spawn(const actor_subprocess_options_t *o, pid_t *pid, actor_err_t *rc, char *err,
                      size_t err_len)
{
    if (client.refused != NULL && strcmp(client.refused, o->path) == 0)
        return false;
    struct stat program;
    if (client.path != NULL && (strcmp(client.path, o->path) != 0 || stat(o->path, &program) != 0 ||
                                !same_file(&program, &client.program)))
        forkserver_release();
    size_t len = 0;
    char *req = request_pack(o, &len);
    if (req == NULL)
        return false;
    /* A server that ends before it forked is replaced and asked again, once. */
    fs_reply_t reply;
    pid_t child = 0;
    bool sent = false, answered = false;
    for (int attempt = 0; attempt < 2 && !answered && child == 0; attempt++) {
        sent = request_send(o->path, req, len);
        if (!sent)
            break;
        while ((answered = reply_recv(&reply)) && !reply.final)
            child = reply.pid;
        if (!answered)
            forkserver_release();
    }
    free(req);
    if (!answered && child == 0)
        return false;
    if (!answered) { /* it ended after it forked: the child must not run unknown to us */
        spawn_kill(child, o->new_session);
        reply_error(err, err_len, "The fork server of %s died during the spawn (%s)", o->path,
                    EPIPE);
        *rc = ACTOR_ESYSTEM;
        return true;
    }
    if (reply.pid > 0 && reply.step == STEP_NONE) {
        *pid = reply.pid;
        *rc = ACTOR_OK;
        return true;
    }
    if (reply.pid > 0) /* the child of a failed step: ours to reap, as after a failed execve */
        spawn_reap(reply.pid);
    /* A step the server names is described as an executed spawn's is (the index of a cgroup
     * step checked: it comes from another process). */
    bool cgroup_step = reply.step == STEP_CGROUP_OPEN || reply.step == STEP_CGROUP_WRITE;
    if (reply.step > STEP_NONE && reply.step <= STEP_EXECVE &&
        (!cgroup_step || reply.index < o->cgroup_count)) {
        spawn_report_t r = {reply.step, reply.error, reply.index, -1};
        spawn_describe_failure(o, &r, err, err_len);
    } else {
        reply_error(err, err_len, "The fork server of %s could not fork: %s", o->path, reply.error);
    }
    *rc = reply.step == STEP_NONE && reply.error == ENOMEM ? ACTOR_ENOMEM : ACTOR_ESYSTEM;
    return true;
}
