/* netlab.c: network namespaces, processes inside them and their clean-up (netlab.h). */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <glob.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests/multihost/netlab.h"

#define NETNS_DIR    "/var/run/netns" /* where `ip netns` keeps its names */
#define NAME_PREFIX  "mesos-mh-"
#define BRIDGE       "br0"
#define KILL_WAIT_MS 5000
#define HTTP_TIMEOUT 2 /* seconds */

/* The lab netlab_close must clean at exit; atexit handlers take no argument, hence a global. */
static netlab_t *exit_lab;

int64_t netlab_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void netlab_pause_ms(int ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* ---- running `ip` ---- */

static const char *find_ip(void)
{
    static const char *const candidates[] = {"/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"};
    for (size_t i = 0; i < sizeof(candidates) / sizeof(candidates[0]); i++) {
        if (access(candidates[i], X_OK) == 0)
            return candidates[i];
    }
    return NULL;
}

/* Runs `ip ARGS` (ARGS formatted, split at spaces) and returns its exit status (-1 if it could
 * not run). Its stderr goes to ours unless quiet. */
static int run_ip(const char *ip_cmd, bool quiet, const char *fmt, ...)
{
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    char *argv[32] = {(char *)ip_cmd};
    size_t argc = 1;
    char *save = NULL;
    for (char *w = strtok_r(line, " ", &save); w != NULL && argc < 31;
         w = strtok_r(NULL, " ", &save))
        argv[argc++] = w;
    argv[argc] = NULL;
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        int null = open("/dev/null", O_RDWR);
        if (null >= 0) {
            dup2(null, STDIN_FILENO);
            dup2(null, STDOUT_FILENO);
            if (quiet)
                dup2(null, STDERR_FILENO);
        }
        execv(ip_cmd, argv);
        _exit(127);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR)
            return -1;
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* ---- clean-up by name prefix (shared by netlab_close, the guardian and the stale sweep) ---- */

static bool has_prefix(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* Sends SIGKILL to every process whose network namespace is one of the namespaces named
 * "<prefix>-*". Returns how many it found. */
static size_t kill_in_namespaces(const char *prefix)
{
    char want[64];
    snprintf(want, sizeof(want), "%s-", prefix);
    struct stat ns[NETLAB_MAX_NODES + 2];
    size_t ns_count = 0;
    DIR *d = opendir(NETNS_DIR);
    struct dirent *e;
    while (d != NULL && (e = readdir(d)) != NULL && ns_count < sizeof(ns) / sizeof(ns[0])) {
        char path[512];
        snprintf(path, sizeof(path), NETNS_DIR "/%s", e->d_name);
        if (has_prefix(e->d_name, want) && stat(path, &ns[ns_count]) == 0)
            ns_count++;
    }
    if (d != NULL)
        closedir(d);
    size_t found = 0;
    DIR *proc = ns_count > 0 ? opendir("/proc") : NULL;
    while (proc != NULL && (e = readdir(proc)) != NULL) {
        char *end;
        long pid = strtol(e->d_name, &end, 10);
        char path[300];
        struct stat st;
        snprintf(path, sizeof(path), "/proc/%s/ns/net", e->d_name);
        if (*end != '\0' || pid <= 1 || pid == getpid() || stat(path, &st) != 0)
            continue;
        for (size_t i = 0; i < ns_count; i++) {
            if (st.st_dev == ns[i].st_dev && st.st_ino == ns[i].st_ino) {
                kill((pid_t)pid, SIGKILL);
                found++;
            }
        }
    }
    if (proc != NULL)
        closedir(proc);
    return found;
}

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st;
    (void)type;
    (void)ftw;
    remove(path);
    return 0;
}

/* Kills everything in the namespaces "<prefix>-*", deletes them, and removes the directories
 * "/tmp/<prefix>-*". */
static void clean_prefix(const char *ip_cmd, const char *prefix)
{
    int64_t deadline = netlab_now_ms() + KILL_WAIT_MS;
    while (kill_in_namespaces(prefix) > 0 && netlab_now_ms() < deadline)
        netlab_pause_ms(20);
    char want[64];
    snprintf(want, sizeof(want), "%s-", prefix);
    DIR *d = opendir(NETNS_DIR);
    struct dirent *e;
    char names[NETLAB_MAX_NODES + 2][256];
    size_t n = 0;
    while (d != NULL && (e = readdir(d)) != NULL && n < sizeof(names) / sizeof(names[0])) {
        if (has_prefix(e->d_name, want))
            snprintf(names[n++], sizeof(names[0]), "%s", e->d_name);
    }
    if (d != NULL)
        closedir(d);
    for (size_t i = 0; i < n; i++)
        run_ip(ip_cmd, true, "netns del %s", names[i]);
    char pattern[96];
    snprintf(pattern, sizeof(pattern), "/tmp/%s-*", prefix);
    glob_t g;
    if (glob(pattern, GLOB_NOSORT, NULL, &g) == 0) {
        for (size_t i = 0; i < g.gl_pathc; i++)
            nftw(g.gl_pathv[i], remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    }
    globfree(&g);
}

/* The pid in a name "mesos-mh-<pid>-...", or 0. */
static pid_t owner_pid(const char *name)
{
    if (!has_prefix(name, NAME_PREFIX))
        return 0;
    char *end;
    long pid = strtol(name + strlen(NAME_PREFIX), &end, 10);
    return *end == '-' && pid > 0 ? (pid_t)pid : 0;
}

/* Removes what runs that are gone left behind (and anything carrying our own pid, which no live
 * run can own). */
static void sweep_stale(const char *ip_cmd)
{
    pid_t stale[64];
    size_t n = 0;
    DIR *d = opendir(NETNS_DIR);
    struct dirent *e;
    while (d != NULL && (e = readdir(d)) != NULL && n < sizeof(stale) / sizeof(stale[0])) {
        pid_t pid = owner_pid(e->d_name);
        bool gone = pid > 0 && (pid == getpid() || (kill(pid, 0) != 0 && errno == ESRCH));
        bool seen = false;
        for (size_t i = 0; i < n; i++)
            seen = seen || stale[i] == pid;
        if (gone && !seen)
            stale[n++] = pid;
    }
    if (d != NULL)
        closedir(d);
    for (size_t i = 0; i < n; i++) {
        char prefix[40];
        snprintf(prefix, sizeof(prefix), NAME_PREFIX "%d", (int)stale[i]);
        fprintf(stderr, "netlab: removing namespaces left by run %d\n", (int)stale[i]);
        clean_prefix(ip_cmd, prefix);
    }
}

/* ---- the guardian: cleans up after a test that died without doing it ---- */

/* Starts a process outside the test's process tree that waits for the test to end: if the test
 * wrote a byte first (netlab_close ran) it does nothing, else it cleans the lab's prefix. Returns
 * the write end of its pipe, or -1. */
static int guardian_start(const netlab_t *lab)
{
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0)
        return -1;
    pid_t child = fork();
    if (child == 0) {
        if (fork() != 0)
            _exit(0); /* the guardian is reparented: a kill of the test's tree misses it */
        setsid();
        int null = open("/dev/null", O_RDWR);
        for (int fd = 0; fd < 1024; fd++) {
            if (fd != fds[0] && fd != null)
                close(fd);
        }
        dup2(null, STDIN_FILENO);
        dup2(null, STDOUT_FILENO);
        dup2(null, STDERR_FILENO);
        char c;
        ssize_t n;
        do
            n = read(fds[0], &c, 1);
        while (n < 0 && errno == EINTR);
        if (n != 1)
            clean_prefix(lab->ip_cmd, lab->prefix);
        _exit(0);
    }
    close(fds[0]);
    if (child < 0) {
        close(fds[1]);
        return -1;
    }
    waitpid(child, NULL, 0);
    return fds[1];
}

/* A signal that ends the test: exit at once; the guardian sees the pipe close and cleans up
 * (doing it here would call functions that are not async-signal-safe). */
static void on_fatal_signal(int sig)
{
    _exit(128 + sig);
}

static void at_exit(void)
{
    if (exit_lab != NULL)
        netlab_close(exit_lab);
}

/* ---- the lab ---- */

const char *netlab_unavailable(char *why, size_t why_len)
{
    const char *ip_cmd = find_ip();
    if (geteuid() != 0) {
        snprintf(why, why_len, "needs root to make network namespaces (running as uid %d)",
                 (int)geteuid());
        return why;
    }
    if (ip_cmd == NULL) {
        snprintf(why, why_len, "needs iproute2's `ip` (not found in /usr/sbin, /sbin, /usr/bin)");
        return why;
    }
    char probe[64];
    snprintf(probe, sizeof(probe), NAME_PREFIX "%d-probe", (int)getpid());
    if (run_ip(ip_cmd, true, "netns add %s", probe) != 0) {
        snprintf(why, why_len, "`%s netns add` fails here (no CAP_SYS_ADMIN?)", ip_cmd);
        return why;
    }
    run_ip(ip_cmd, true, "netns del %s", probe);
    return NULL;
}

static void install_handlers(void)
{
    static bool installed;
    if (installed)
        return;
    installed = true;
    atexit(at_exit);
    struct sigaction sa = {.sa_handler = on_fatal_signal};
    sigemptyset(&sa.sa_mask);
    int signals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGALRM};
    for (size_t i = 0; i < sizeof(signals) / sizeof(signals[0]); i++)
        sigaction(signals[i], &sa, NULL);
}

int netlab_open(netlab_t *lab, const char *bin_dir, char *err, size_t err_len)
{
    memset(lab, 0, sizeof(*lab));
    lab->guardian = -1;
    const char *ip_cmd = find_ip();
    if (ip_cmd == NULL) {
        snprintf(err, err_len, "no `ip` command");
        return -1;
    }
    snprintf(lab->ip_cmd, sizeof(lab->ip_cmd), "%s", ip_cmd);
    snprintf(lab->bin_dir, sizeof(lab->bin_dir), "%s", bin_dir);
    char prefix[sizeof(lab->prefix)];
    snprintf(prefix, sizeof(prefix), NAME_PREFIX "%d", (int)getpid());
    snprintf(lab->prefix, sizeof(lab->prefix), "%s", prefix);
    snprintf(lab->hub, sizeof(lab->hub), "%s-hub", prefix);
    snprintf(lab->dir, sizeof(lab->dir), "/tmp/%s-XXXXXX", prefix);
    sweep_stale(lab->ip_cmd);
    install_handlers();
    lab->guardian = guardian_start(lab);
    if (lab->guardian < 0) {
        snprintf(err, err_len, "cannot start the guardian process: %s", strerror(errno));
        return -1;
    }
    lab->open = true;
    exit_lab = lab;
    if (mkdtemp(lab->dir) == NULL) {
        snprintf(err, err_len, "cannot make %s: %s", lab->dir, strerror(errno));
        goto fail_close;
    }
    if (run_ip(lab->ip_cmd, false, "netns add %s", lab->hub) != 0 ||
        run_ip(lab->ip_cmd, false, "-n %s link add name " BRIDGE " type bridge", lab->hub) != 0 ||
        run_ip(lab->ip_cmd, false, "-n %s link set " BRIDGE " up", lab->hub) != 0) {
        snprintf(err, err_len, "cannot make the hub namespace %s with its bridge", lab->hub);
        goto fail_close;
    }
    return 0;

fail_close:
    netlab_close(lab);
    return -1;
}

int netlab_node_add(netlab_t *lab, const char *name, const char *ip, char *err, size_t err_len)
{
    struct in_addr addr;
    if (lab->node_count == NETLAB_MAX_NODES || strlen(name) > 15 || strchr(name, ' ') != NULL ||
        inet_pton(AF_INET, ip, &addr) != 1 || (ntohl(addr.s_addr) >> 17) != (0xC612u >> 1)) {
        snprintf(err, err_len,
                 "node %s at %s: a name of 1-15 characters and an address of "
                 "198.18.0.0/15 expected (at most %d nodes)",
                 name, ip, NETLAB_MAX_NODES);
        return -1;
    }
    netlab_node_t *node = &lab->nodes[lab->node_count];
    snprintf(node->name, sizeof(node->name), "%s", name);
    char ns[sizeof(node->ns)]; /* formatted apart: lab->prefix and node->ns share *lab */
    snprintf(ns, sizeof(ns), "%s-%s", lab->prefix, name);
    memcpy(node->ns, ns, sizeof(ns));
    snprintf(node->ip, sizeof(node->ip), "%s", ip);
    const char *x = lab->ip_cmd;
    if (run_ip(x, false, "netns add %s", node->ns) != 0 ||
        run_ip(x, false, "-n %s link add name %s type veth peer name eth0 netns %s", lab->hub, name,
               node->ns) != 0 ||
        run_ip(x, false, "-n %s link set dev %s master " BRIDGE " up", lab->hub, name) != 0 ||
        run_ip(x, false, "-n %s addr add %s/15 dev eth0", node->ns, ip) != 0 ||
        run_ip(x, false, "-n %s link set eth0 up", node->ns) != 0 ||
        run_ip(x, false, "-n %s link set lo up", node->ns) != 0) {
        snprintf(err, err_len, "cannot make node %s (namespace %s)", name, node->ns);
        return -1;
    }
    return (int)lab->node_count++;
}

int netlab_link_set(netlab_t *lab, int node, bool up)
{
    return run_ip(lab->ip_cmd, false, "-n %s link set dev %s %s", lab->hub, lab->nodes[node].name,
                  up ? "up" : "down") == 0
               ? 0
               : -1;
}

static void output_path(const netlab_t *lab, const char *name, bool err, char *out, size_t len)
{
    snprintf(out, len, "%s/%s.%s", lab->dir, name, err ? "err" : "out");
}

/* In the child of netlab_spawn: outputs, process group, death signal, then `ip netns exec`. */
static void exec_in_node(const netlab_t *lab, int node, const char *name, char *const argv[],
                         pid_t parent)
{
    setpgid(0, 0);
    prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlive the test */
    if (getppid() != parent)
        _exit(127);
    char out[256], err[256], path[4200];
    output_path(lab, name, false, out, sizeof(out));
    output_path(lab, name, true, err, sizeof(err));
    int in = open("/dev/null", O_RDONLY);
    int o = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int e = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (in < 0 || o < 0 || e < 0 || dup2(in, STDIN_FILENO) < 0 || dup2(o, STDOUT_FILENO) < 0 ||
        dup2(e, STDERR_FILENO) < 0)
        _exit(127);
    snprintf(path, sizeof(path), "%s/%s", lab->bin_dir, argv[0]);
    char *args[64] = {(char *)lab->ip_cmd, "netns", "exec", (char *)lab->nodes[node].ns, path};
    size_t n = 5;
    for (size_t i = 1; argv[i] != NULL && n < 63; i++)
        args[n++] = argv[i];
    args[n] = NULL;
    execv(lab->ip_cmd, args);
    _exit(127);
}

int netlab_spawn(netlab_t *lab, int node, const char *name, char *const argv[])
{
    if (lab->proc_count == NETLAB_MAX_PROCS || node < 0 || (size_t)node >= lab->node_count)
        return -1;
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0)
        exec_in_node(lab, node, name, argv, parent);
    setpgid(pid, pid); /* also here, so that a kill of the group right away reaches it */
    netlab_proc_t *p = &lab->procs[lab->proc_count];
    p->pid = pid;
    p->status = 0;
    snprintf(p->name, sizeof(p->name), "%s", name);
    return (int)lab->proc_count++;
}

/* Reaps proc if it ended; whether it did. */
static bool reap(netlab_proc_t *p, bool block)
{
    if (p->pid == 0)
        return true;
    int status;
    pid_t done;
    do
        done = waitpid(p->pid, &status, block ? 0 : WNOHANG);
    while (done < 0 && errno == EINTR);
    if (done == 0)
        return false;
    p->status = done == p->pid ? status : 0;
    p->pid = 0;
    return true;
}

int netlab_wait(netlab_t *lab, int proc, int timeout_ms)
{
    netlab_proc_t *p = &lab->procs[proc];
    int64_t deadline = netlab_now_ms() + timeout_ms;
    while (!reap(p, false)) {
        if (netlab_now_ms() >= deadline)
            return -1;
        netlab_pause_ms(20);
    }
    return WIFEXITED(p->status) ? WEXITSTATUS(p->status) : 128 + WTERMSIG(p->status);
}

bool netlab_running(netlab_t *lab, int proc)
{
    return !reap(&lab->procs[proc], false);
}

void netlab_signal(netlab_t *lab, int proc, int sig)
{
    if (lab->procs[proc].pid > 0)
        kill(lab->procs[proc].pid, sig);
}

static char *slurp(const char *path)
{
    char *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);
    FILE *f = fopen(path, "r");
    char buf[4096];
    size_t n;
    while (mem != NULL && f != NULL && (n = fread(buf, 1, sizeof(buf), f)) > 0)
        fwrite(buf, 1, n, mem);
    if (f != NULL)
        fclose(f);
    if (mem != NULL)
        fclose(mem);
    return text != NULL ? text : strdup("");
}

char *netlab_output(const netlab_t *lab, int proc, bool err)
{
    char path[256];
    output_path(lab, lab->procs[proc].name, err, path, sizeof(path));
    return slurp(path);
}

/* The start of the last `lines` lines of text. */
static const char *tail(const char *text, int lines)
{
    const char *p = text + strlen(text);
    while (p > text && lines >= 0) {
        p--;
        if (*p == '\n')
            lines--;
    }
    return p == text ? p : p + 1;
}

void netlab_dump(const netlab_t *lab)
{
    for (size_t i = 0; i < lab->proc_count; i++) {
        for (int err = 0; err < 2; err++) {
            char *text = netlab_output(lab, (int)i, err);
            if (*text != '\0')
                fprintf(stderr, "---- %s (%s), last lines ----\n%s\n", lab->procs[i].name,
                        err ? "stderr" : "stdout", tail(text, 12));
            free(text);
        }
    }
}

/* A TCP socket in node's namespace (the calling thread enters it and comes back), or -1. */
static int socket_in(const netlab_t *lab, int node)
{
    char path[128];
    snprintf(path, sizeof(path), NETNS_DIR "/%s", lab->nodes[node].ns);
    int home = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
    int there = open(path, O_RDONLY | O_CLOEXEC);
    int fd = -1;
    if (home >= 0 && there >= 0 && setns(there, CLONE_NEWNET) == 0) {
        fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (setns(home, CLONE_NEWNET) != 0) {
            /* Everything after would run in the node's namespace. */
            fprintf(stderr, "netlab: cannot return to the test's namespace: %s\n", strerror(errno));
            abort();
        }
    }
    if (home >= 0)
        close(home);
    if (there >= 0)
        close(there);
    return fd;
}

char *netlab_http_get(netlab_t *lab, int node, const char *ip, uint16_t port, const char *path)
{
    int fd = socket_in(lab, node);
    if (fd < 0)
        return NULL;
    struct timeval tv = {.tv_sec = HTTP_TIMEOUT};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)); /* also bounds connect */
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(port)};
    char request[512];
    int len = snprintf(request, sizeof(request), "GET %s HTTP/1.0\r\nHost: %s:%u\r\n\r\n", path, ip,
                       (unsigned)port);
    if (inet_pton(AF_INET, ip, &to.sin_addr) != 1 ||
        connect(fd, (struct sockaddr *)&to, sizeof(to)) != 0 ||
        write(fd, request, (size_t)len) != len) {
        close(fd);
        return NULL;
    }
    char *answer = NULL;
    size_t answer_len = 0;
    FILE *mem = open_memstream(&answer, &answer_len);
    char buf[8192];
    ssize_t n;
    while (mem != NULL && (n = read(fd, buf, sizeof(buf))) > 0)
        fwrite(buf, 1, (size_t)n, mem);
    if (mem != NULL)
        fclose(mem);
    close(fd);
    char *body = answer != NULL ? strstr(answer, "\r\n\r\n") : NULL;
    bool ok = body != NULL && (strncmp(answer, "HTTP/1.0 200", 12) == 0 ||
                               strncmp(answer, "HTTP/1.1 200", 12) == 0);
    char *copy = ok ? strdup(body + 4) : NULL;
    free(answer);
    return copy;
}

void netlab_close(netlab_t *lab)
{
    if (!lab->open)
        return;
    for (size_t i = 0; i < lab->proc_count; i++) {
        if (lab->procs[i].pid > 0)
            kill(-lab->procs[i].pid, SIGKILL);
    }
    for (size_t i = 0; i < lab->proc_count; i++)
        reap(&lab->procs[i], true);
    clean_prefix(lab->ip_cmd, lab->prefix);
    if (lab->guardian >= 0) {
        ssize_t n = write(lab->guardian, "d", 1); /* done: the guardian has nothing to do */
        (void)n;
        close(lab->guardian);
        lab->guardian = -1;
    }
    lab->open = false;
    if (exit_lab == lab)
        exit_lab = NULL;
}
