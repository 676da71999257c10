/* e2e.c: the multi-process helpers of e2e.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "tests/frameworks/e2e.h"

#define POLL_MS 20

const char *e2e_bin_dir(void)
{
    const char *dir = getenv("MESOS_TEST_BIN_DIR");
    return dir != NULL && *dir != '\0' ? dir : NULL;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void pause_ms(int ms)
{
    struct timespec ts = {.tv_sec = 0, .tv_nsec = (long)ms * 1000000L};
    nanosleep(&ts, NULL);
}

static bool port_free(uint16_t port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {
        .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    bool ok = fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
    if (fd >= 0)
        close(fd);
    return ok;
}

/* A port P with P and P + 10000 (the actor port) both free, from 20000-29999. */
static uint16_t free_port_pair(void)
{
    srand((unsigned)getpid() ^ (unsigned)now_ms());
    for (int tries = 0; tries < 200; tries++) {
        uint16_t p = (uint16_t)(20000 + rand() % 10000);
        if (port_free(p) && port_free((uint16_t)(p + 10000)))
            return p;
    }
    fail_msg("no free port pair");
    return 0;
}

/* Waits for pid until deadline (ms on now_ms's clock): its wait status, or -1 if still running. */
static int wait_until(pid_t pid, int64_t deadline)
{
    for (;;) {
        int status = 0;
        pid_t done = waitpid(pid, &status, WNOHANG);
        if (done == pid)
            return status;
        if (done < 0 && errno != EINTR)
            return 0;
        if (now_ms() >= deadline)
            return -1;
        pause_ms(POLL_MS);
    }
}

/* SIGTERM, then SIGKILL after 5 s; reaps the child. */
static void stop_child(pid_t pid)
{
    kill(pid, SIGTERM);
    if (wait_until(pid, now_ms() + 5000) == -1) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
    }
}

static pid_t spawn(const char *bin_dir, char *const argv[], const char *out, const char *err)
{
    char path[4200];
    snprintf(path, sizeof(path), "%s/%s", bin_dir, argv[0]);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlive a test killed by its timeout */
        int o = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int e = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (o < 0 || e < 0 || dup2(o, STDOUT_FILENO) < 0 || dup2(e, STDERR_FILENO) < 0)
            _exit(127);
        execv(path, argv);
        _exit(127);
    }
    return pid;
}

/* GET path on 127.0.0.1:port: the body (caller frees) when the status is 200, else NULL. */
/* Everything f holds until its end (a new string; "" when nothing could be read). Closes f. */
static char *read_stream(FILE *f)
{
    char *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);
    if (mem != NULL) {
        char buf[4096];
        size_t n;
        while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
            fwrite(buf, 1, n, mem);
        fclose(mem);
    }
    fclose(f);
    return text != NULL ? text : strdup("");
}

static char *http_get(uint16_t port, const char *path)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {
        .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    struct timeval tv = {.tv_sec = 2};
    if (fd < 0)
        return NULL;
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    char req[256];
    snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
             path);
    FILE *f = NULL;
    if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
        write(fd, req, strlen(req)) != (ssize_t)strlen(req) || (f = fdopen(fd, "r")) == NULL) {
        close(fd);
        return NULL;
    }
    char *answer = read_stream(f);
    char *body = strstr(answer, "\r\n\r\n");
    char *copy = strncmp(answer, "HTTP/1.1 200", 12) == 0 && body != NULL ? strdup(body + 4) : NULL;
    free(answer);
    return copy;
}

/* Whether the master's /slaves lists two agents. */
static bool agents_registered(uint16_t port)
{
    char *body = http_get(port, "/slaves");
    json_t *root = body != NULL ? json_loads(body, 0, NULL) : NULL;
    bool ok = json_array_size(json_object_get(root, "slaves")) == 2;
    json_decref(root);
    free(body);
    return ok;
}

void e2e_cluster_start(e2e_cluster_t *c, bool simulated)
{
    memset(c, 0, sizeof(*c));
    assert_non_null(e2e_bin_dir());
    snprintf(c->bin_dir, sizeof(c->bin_dir), "%s", e2e_bin_dir());
    snprintf(c->work_dir, sizeof(c->work_dir), "/tmp/test_frameworks_e2e.XXXXXX");
    assert_non_null(mkdtemp(c->work_dir));
    c->port = free_port_pair();
    snprintf(c->master, sizeof(c->master), "127.0.0.1:%u", c->port);
    snprintf(c->master_flag, sizeof(c->master_flag), "--master=%s", c->master);
    char port[32], work_dir[96], out[128], err[128];
    snprintf(port, sizeof(port), "--port=%u", c->port);
    snprintf(work_dir, sizeof(work_dir), "--work_dir=%s", c->work_dir);
    snprintf(out, sizeof(out), "%s/mesos-local.out", c->work_dir);
    snprintf(err, sizeof(err), "%s/mesos-local.err", c->work_dir);
    char *argv[] = {"mesos-local",
                    port,
                    "--num_agents=2",
                    simulated ? "--containerizers=simulated" : "--containerizers=mesos",
                    "--resources=cpus:4;mem:4096",
                    work_dir,
                    "--marathon_port=0",
                    NULL};
    c->pid = spawn(c->bin_dir, argv, out, err);
    int64_t deadline = now_ms() + 10000;
    while (!agents_registered(c->port)) {
        if (now_ms() >= deadline || wait_until(c->pid, now_ms()) != -1) {
            e2e_cluster_stop(c);
            fail_msg("mesos-local did not come up on port %u within 10 s", (unsigned)c->port);
        }
        pause_ms(50);
    }
}

void e2e_cluster_stop(e2e_cluster_t *c)
{
    if (c->pid > 0) {
        stop_child(c->pid);
        c->pid = 0;
    }
    if (c->work_dir[0] != '\0') {
        char cmd[128];
        snprintf(cmd, sizeof(cmd), "rm -rf %s", c->work_dir);
        if (system(cmd) != 0)
            fprintf(stderr, "cannot remove %s\n", c->work_dir);
        c->work_dir[0] = '\0';
    }
}

int e2e_setup(void **state)
{
    e2e_cluster_t *c = calloc(1, sizeof(*c));
    assert_non_null(c);
    *state = c;
    if (e2e_bin_dir() != NULL)
        e2e_cluster_start(c, true);
    return 0;
}

int e2e_teardown(void **state)
{
    e2e_cluster_stop(*state);
    free(*state);
    return 0;
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    return f != NULL ? read_stream(f) : strdup("");
}

static void output_paths(const e2e_cluster_t *c, const char *name, char *out, char *err, size_t len)
{
    snprintf(out, len, "%s/%s.out", c->work_dir, name);
    snprintf(err, len, "%s/%s.err", c->work_dir, name);
}

pid_t e2e_start(e2e_cluster_t *c, char *const argv[])
{
    char out[128], err[128];
    output_paths(c, argv[0], out, err, sizeof(out));
    return spawn(c->bin_dir, argv, out, err);
}

void e2e_finish(e2e_cluster_t *c, pid_t pid, const char *name, int timeout_ms, e2e_run_t *run)
{
    char out[128], err[128];
    output_paths(c, name, out, err, sizeof(out));
    int status = wait_until(pid, now_ms() + timeout_ms);
    if (status == -1) {
        fprintf(stderr, "%s did not end within %d ms: killing it\n", name, timeout_ms);
        stop_child(pid);
    }
    run->status = status != -1 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    run->out = slurp(out);
    run->err = slurp(err);
}

void e2e_run(e2e_cluster_t *c, char *const argv[], int timeout_ms, e2e_run_t *run)
{
    e2e_finish(c, e2e_start(c, argv), argv[0], timeout_ms, run);
}

char *e2e_get(const e2e_cluster_t *c, const char *path)
{
    return http_get(c->port, path);
}

static size_t occurrences(const char *text, const char *needle)
{
    size_t n = 0;
    for (const char *p = text != NULL ? strstr(text, needle) : NULL; p != NULL;
         p = strstr(p + 1, needle))
        n++;
    return n;
}

bool e2e_poll(const e2e_cluster_t *c, const char *path, const char *needle, size_t count,
              int timeout_ms)
{
    int64_t deadline = now_ms() + timeout_ms;
    for (;;) {
        char *body = http_get(c->port, path);
        bool found = occurrences(body, needle) >= count;
        free(body);
        if (found)
            return true;
        if (now_ms() >= deadline)
            return false;
        pause_ms(50);
    }
}

void e2e_run_free(e2e_run_t *run)
{
    free(run->out);
    free(run->err);
}

char *e2e_last_line(const char *text)
{
    const char *end = text + strlen(text);
    while (end > text && (end[-1] == '\n' || end[-1] == '\r'))
        end--;
    const char *start = end;
    while (start > text && start[-1] != '\n')
        start--;
    return end > start ? strndup(start, (size_t)(end - start)) : NULL;
}
