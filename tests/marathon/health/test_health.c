/* Marathon-level health checks (frameworks/marathon/health.c) against real servers on 127.0.0.1
 * in this process: the runtime's HTTP server with a root actor "web" answering every path with
 * the status the test sets, plain listening sockets (open, closed, never answering, full), and
 * `openssl s_server` for HTTPS when the openssl program is installed.
 *
 * The runtime runs without workers, so the actors (web, and "owner", which owns the checker and
 * records its reports) run in this thread inside actor_settle(). The clock is paused: a test
 * starts each round of checks with actor_clock_advance(); the probes are real I/O on the
 * runtime's I/O thread, so the test then polls (settle, 1 ms sleep) with a deadline until the
 * reports it expects arrived. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "actor/clock.h"
#include "actor/http.h"
#include "actor/subprocess.h"
#include "frameworks/marathon/health.h"
#include "tests/marathon/health/support.h"

#define WAIT_MS     10000
#define MANY        300
#define MAX_REPORTS 4096
#define SEC         ACTOR_NS_PER_SEC

/* ---- the web server: every path answers web_status ---- */

static int web_status = 200;
static int web_requests;
static char web_path[128];
static char web_agent[64];

static void on_any(actor_t *self, void *state, actor_http_request_t *req)
{
    (void)self, (void)state;
    web_requests++;
    snprintf(web_path, sizeof(web_path), "%s", actor_http_path(req));
    const char *agent = actor_http_header(req, "User-Agent");
    snprintf(web_agent, sizeof(web_agent), "%s", agent ? agent : "");
    actor_http_respond(req, web_status, "text/plain", NULL, 0, "body", 4);
}

static const actor_http_route_t web_routes[] = {{"*", NULL, on_any}};

static void web_init(actor_t *self, void *state, void *arg)
{
    (void)state, (void)arg;
    actor_http_install(self, web_routes, 1);
}

static const actor_ops_t web_ops = {.name = "web", .init = web_init};

/* ---- the owner: a checker and the reports it hears ---- */

typedef struct record {
    char *task_id;
    size_t index;
    bool alive, counted, changed, kill;
    char *cause;
    marathon_health_status_t status; /* last_failure_cause copied */
} record_t;

static record_t records[MAX_REPORTS];
static size_t record_count;
static bool unwatch_on_kill; /* the owner unwatches a task from its callback when told to kill */
static bool free_on_report;  /* the owner frees its checker from its callback */

typedef struct owner {
    marathon_health_t *h;
    actor_err_t rc;
} owner_t;

static char *dup_or_null(const char *s)
{
    return s != NULL ? strdup(s) : NULL;
}

static void on_report(actor_t *self, void *state, const marathon_health_report_t *r)
{
    (void)self;
    owner_t *o = state;
    if (record_count < MAX_REPORTS) {
        record_t *rec = &records[record_count++];
        rec->task_id = strdup(r->task_id);
        rec->index = r->check_index;
        rec->alive = r->alive;
        rec->counted = r->counted;
        rec->changed = r->changed;
        rec->kill = r->kill;
        rec->cause = dup_or_null(r->cause);
        rec->status = r->status;
        rec->status.last_failure_cause = dup_or_null(r->status.last_failure_cause);
    }
    if (r->kill && unwatch_on_kill)
        marathon_health_unwatch(o->h, r->task_id);
    if (free_on_report) {
        marathon_health_free(o->h);
        o->h = NULL;
    }
}

static void owner_init(actor_t *self, void *state, void *arg)
{
    (void)arg;
    owner_t *o = state;
    o->rc = marathon_health_new(self, on_report, &o->h);
}

static void owner_fini(actor_t *self, void *state)
{
    (void)self;
    marathon_health_free(((owner_t *)state)->h);
}

static const actor_ops_t owner_ops = {
    .name = "owner", .state_size = sizeof(owner_t), .init = owner_init, .fini = owner_fini};

static actor_pid_t owner_pid;
static uint16_t web_port;

typedef struct call {
    void (*fn)(owner_t *o, void *arg);
    void *arg;
} call_t;

static void call_in_owner(actor_t *self, void *state, void *arg)
{
    call_t *c = arg;
    if (self != NULL)
        c->fn(state, c->arg);
}

/* Runs fn(owner's state, arg) inside the owner and waits for it. */
static void in_owner(void (*fn)(owner_t *o, void *arg), void *arg)
{
    call_t c = {fn, arg};
    assert_int_equal(actor_dispatch(&owner_pid, call_in_owner, &c), ACTOR_OK);
    actor_settle();
}

typedef struct watch_args {
    const char *task;
    const char *host;
    uint32_t ports[4];
    size_t port_count;
    int64_t started_at;
    marathon_health_check_t checks[4];
    size_t check_count;
    actor_err_t rc;
} watch_args_t;

static void do_watch(owner_t *o, void *arg)
{
    watch_args_t *a = arg;
    a->rc = marathon_health_watch(o->h, a->task, a->host, a->ports, a->port_count, a->started_at,
                                  a->checks, a->check_count);
}

static void do_unwatch(owner_t *o, void *arg)
{
    marathon_health_unwatch(o->h, arg);
}

static void do_count(owner_t *o, void *arg)
{
    *(size_t *)arg = marathon_health_count(o->h);
}

typedef struct status_args {
    const char *task;
    size_t index;
    bool found;
    marathon_health_status_t status;
} status_args_t;

static void do_status(owner_t *o, void *arg)
{
    status_args_t *a = arg;
    const marathon_health_status_t *s = marathon_health_status(o->h, a->task, a->index);
    a->found = s != NULL;
    if (s != NULL)
        a->status = *s;
}

static marathon_health_check_t check_of(marathon_health_protocol_t protocol, const char *path)
{
    return (marathon_health_check_t){.protocol = protocol,
                                     .path = (char *)path,
                                     .grace_period_seconds = 0,
                                     .interval_seconds = 10,
                                     .timeout_seconds = 1,
                                     .max_consecutive_failures = 3,
                                     .delay_seconds = 15};
}

/* Watches task at 127.0.0.1 with one port and one check. */
static void watch_one(const char *task, uint32_t port, marathon_health_check_t check)
{
    watch_args_t a = {.task = task,
                      .host = "127.0.0.1",
                      .ports = {port},
                      .port_count = 1,
                      .checks = {check},
                      .check_count = 1};
    in_owner(do_watch, &a);
    assert_int_equal(a.rc, ACTOR_OK);
}

static size_t watched(void)
{
    size_t n = 0;
    in_owner(do_count, &n);
    return n;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Polls until n reports in all arrived; true if they did. */
static bool wait_reports(size_t n)
{
    for (int i = 0; i < WAIT_MS; i++) {
        actor_settle();
        if (record_count >= n)
            return true;
        sleep_ms(1);
    }
    return false;
}

static void expect_reports(size_t n)
{
    if (!wait_reports(n))
        fail_msg("%zu reports arrived, expected %zu", record_count, n);
    assert_int_equal(record_count, n);
}

/* Settles for ms of real time: whatever was under way has had time to report. */
static void settle_for(long ms)
{
    for (long i = 0; i < ms; i++) {
        actor_settle();
        sleep_ms(1);
    }
    actor_settle();
}

/* The next round of checks: advance the paused clock by s seconds. */
static void advance(int64_t s)
{
    actor_clock_advance(s * SEC);
    actor_settle();
}

static const record_t *last(void)
{
    assert_true(record_count > 0);
    return &records[record_count - 1];
}

/* ---- plain sockets ---- */

/* A socket listening on 127.0.0.1 with backlog, never accepting; *port receives its port. */
static int listener(int backlog, uint16_t *port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(sa);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(listen(fd, backlog), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
    *port = ntohs(sa.sin_port);
    return fd;
}

/* A free port (bound, then released). */
static uint16_t free_port(void)
{
    uint16_t port;
    close(listener(1, &port));
    return port;
}

/* Starts a non-blocking connect to port; returns the socket. */
static int connect_nonblocking(uint16_t port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa = {
        .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK), .sin_port = htons(port)};
    connect(fd, (struct sockaddr *)&sa, sizeof(sa));
    return fd;
}

/* A server thread answering each connection with a canned answer (what the runtime's HTTP
 * server will not send, such as a final 1xx), then closing it. */
typedef struct canned {
    int fd;
    const char *answer;
    pthread_t thread;
} canned_t;

static void *canned_main(void *arg)
{
    canned_t *c = arg;
    for (;;) {
        int conn = accept(c->fd, NULL, NULL);
        if (conn < 0)
            return NULL; /* shut down */
        char buf[2048];
        size_t len = 0;
        while (len < sizeof(buf) - 1) {
            ssize_t n = recv(conn, buf + len, sizeof(buf) - 1 - len, 0);
            if (n <= 0)
                break;
            len += (size_t)n;
            buf[len] = '\0';
            if (strstr(buf, "\r\n\r\n") != NULL)
                break;
        }
        send(conn, c->answer, strlen(c->answer), MSG_NOSIGNAL);
        close(conn);
    }
}

static uint16_t canned_start(canned_t *c, const char *answer)
{
    uint16_t port;
    c->fd = listener(16, &port);
    c->answer = answer;
    assert_int_equal(pthread_create(&c->thread, NULL, canned_main, c), 0);
    return port;
}

static void canned_stop(canned_t *c)
{
    shutdown(c->fd, SHUT_RDWR); /* wakes accept() */
    pthread_join(c->thread, NULL);
    close(c->fd);
}

/* ---- fixtures ---- */

static int setup(void **unused)
{
    (void)unused;
    if (health_support_start(&web_ops, &owner_ops, &owner_pid, &web_port) != 0)
        return -1;
    web_status = 200;
    web_requests = 0;
    web_path[0] = web_agent[0] = '\0';
    unwatch_on_kill = free_on_report = false;
    return 0;
}

static int teardown(void **unused)
{
    (void)unused;
    actor_runtime_stop();
    for (size_t i = 0; i < record_count; i++) {
        free(records[i].task_id);
        free(records[i].cause);
        free((char *)records[i].status.last_failure_cause);
    }
    record_count = 0;
    return 0;
}

/* ---- tests ---- */

static void test_http_healthy_then_failing_then_killed(void **unused)
{
    (void)unused;
    watch_one("t1", web_port, check_of(MARATHON_HEALTH_HTTP, "/health"));
    expect_reports(1); /* the first check runs at once */
    const record_t *r = last();
    assert_string_equal(r->task_id, "t1");
    assert_int_equal(r->index, 0);
    assert_true(r->alive && r->counted && r->changed && !r->kill);
    assert_null(r->cause);
    assert_true(r->status.alive);
    assert_int_equal(r->status.consecutive_failures, 0);
    assert_true(r->status.first_success != 0 && r->status.first_success == r->status.last_success);
    assert_int_equal(r->status.last_failure, 0);
    assert_string_equal(web_path, "/health");
    assert_string_equal(web_agent, "Marathon");

    /* Nothing more until the interval passes. */
    advance(9);
    settle_for(20);
    assert_int_equal(record_count, 1);

    web_status = 500;
    for (uint32_t failures = 1; failures <= 4; failures++) {
        advance(failures == 1 ? 1 : 10);
        expect_reports(1 + failures);
        r = last();
        assert_false(r->alive);
        assert_true(r->counted);
        assert_int_equal(r->changed, failures == 1);
        assert_string_equal(r->cause, "500 Internal Server Error");
        assert_int_equal(r->status.consecutive_failures, failures);
        assert_false(r->status.alive);
        assert_string_equal(r->status.last_failure_cause, "500 Internal Server Error");
        /* maxConsecutiveFailures 3: the kill comes with the failure after the third. */
        assert_int_equal(r->kill, failures == 4);
    }
    status_args_t s = {.task = "t1", .index = 0};
    in_owner(do_status, &s);
    assert_true(s.found);
    assert_int_equal(s.status.consecutive_failures, 4);
    assert_true(s.status.last_failure > s.status.last_success);
    assert_string_equal(s.status.last_failure_cause, "500 Internal Server Error");

    /* A 3xx is healthy again. */
    web_status = 302;
    advance(10);
    expect_reports(6);
    r = last();
    assert_true(r->alive && r->changed && r->counted);
    assert_int_equal(r->status.consecutive_failures, 0);
    assert_true(r->status.first_success < r->status.last_success);
    assert_string_equal(r->status.last_failure_cause, "500 Internal Server Error");
}

static void test_path_without_slash_and_other_statuses(void **unused)
{
    (void)unused;
    web_status = 404;
    watch_one("t1", web_port, check_of(MARATHON_HEALTH_HTTP, "ping?x=1"));
    expect_reports(1);
    assert_string_equal(web_path, "/ping");
    assert_string_equal(last()->cause, "404 Not Found");
    assert_false(last()->changed); /* not alive before, not alive now */

    web_status = 399;
    advance(10);
    expect_reports(2);
    assert_true(last()->alive);
    web_status = 400;
    advance(10);
    expect_reports(3);
    assert_false(last()->alive);
    assert_string_equal(last()->cause, "400 Bad Request");
    web_status = 200;
    watch_one("t2", web_port, check_of(MARATHON_HEALTH_HTTP, NULL));
    expect_reports(4);
    assert_string_equal(web_path, "/");
}

/* A 1xx final answer (101 here: curl takes other 1xx as interim) is unhealthy, or discarded
 * with ignoreHttp1xx. */
static void test_http_1xx(void **unused)
{
    (void)unused;
    canned_t server;
    uint16_t port = canned_start(&server, "HTTP/1.1 101 Switching Protocols\r\n\r\nxyz");
    watch_one("t1", port, check_of(MARATHON_HEALTH_HTTP, "/"));
    expect_reports(1);
    assert_false(last()->alive);
    assert_true(last()->counted);
    assert_string_equal(last()->cause, "101 Switching Protocols");

    marathon_health_check_t c = check_of(MARATHON_HEALTH_HTTP, "/");
    c.ignore_http1xx = true;
    watch_one("t2", port, c);
    expect_reports(2);
    assert_false(last()->alive);
    assert_false(last()->counted);
    assert_int_equal(last()->status.consecutive_failures, 0);
    status_args_t s = {.task = "t2", .index = 0};
    in_owner(do_status, &s);
    assert_false(s.found); /* nothing counted yet */
    canned_stop(&server);

    /* A status line without a reason phrase. */
    port = canned_start(&server, "HTTP/1.1 500\r\nContent-Length: 0\r\n\r\n");
    watch_one("t3", port, check_of(MARATHON_HEALTH_HTTP, "/"));
    expect_reports(3);
    assert_string_equal(last()->cause, "500");
    canned_stop(&server);
}

static void test_tcp_open_then_closed(void **unused)
{
    (void)unused;
    uint16_t port;
    int fd = listener(16, &port);
    watch_one("t1", port, check_of(MARATHON_HEALTH_TCP, NULL));
    expect_reports(1);
    assert_true(last()->alive);
    close(fd);
    advance(10);
    expect_reports(2);
    char want[96];
    snprintf(want, sizeof(want), "Failed to connect to 127.0.0.1:%u: Connection refused", port);
    assert_string_equal(last()->cause, want);
    assert_true(last()->changed);
}

/* A server that accepts connections (the kernel does) and never answers. */
static void test_http_timeout(void **unused)
{
    (void)unused;
    uint16_t port;
    int fd = listener(16, &port);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    watch_one("t1", port, check_of(MARATHON_HEALTH_HTTP, "/"));
    expect_reports(1);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double took = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    assert_true(took >= 0.9 && took < 5);
    char want[96];
    snprintf(want, sizeof(want), "127.0.0.1:%u did not answer within 1 seconds", port);
    assert_string_equal(last()->cause, want);
    close(fd);
}

/* A listener whose accept queue is full drops SYNs: the connection never establishes. */
static void test_tcp_timeout(void **unused)
{
    (void)unused;
    uint16_t port;
    int fd = listener(0, &port);
    int fillers[4];
    for (int i = 0; i < 4; i++)
        fillers[i] = connect_nonblocking(port);
    sleep_ms(50);
    watch_one("t1", port, check_of(MARATHON_HEALTH_TCP, NULL));
    expect_reports(1);
    char want[96];
    snprintf(want, sizeof(want), "127.0.0.1:%u did not accept a connection within 1 seconds", port);
    assert_string_equal(last()->cause, want);
    for (int i = 0; i < 4; i++)
        close(fillers[i]);
    close(fd);
}

static void test_grace_period(void **unused)
{
    (void)unused;
    web_status = 500;
    marathon_health_check_t c = check_of(MARATHON_HEALTH_HTTP, "/");
    c.grace_period_seconds = 25;
    watch_one("t1", web_port, c);
    expect_reports(1);
    assert_false(last()->alive);
    assert_false(last()->counted); /* within the grace period, before any success */
    assert_int_equal(last()->status.consecutive_failures, 0);
    advance(10);
    expect_reports(2);
    assert_false(last()->counted);
    advance(10); /* 20 s */
    expect_reports(3);
    assert_false(last()->counted);
    advance(10); /* 30 s: the grace period is over */
    expect_reports(4);
    assert_true(last()->counted);
    assert_int_equal(last()->status.consecutive_failures, 1);

    /* A first success ends the grace period early; started_at counts from the task's start. */
    web_status = 200;
    c.grace_period_seconds = 300;
    watch_args_t a = {.task = "t2",
                      .host = "127.0.0.1",
                      .ports = {web_port},
                      .port_count = 1,
                      .started_at = actor_clock_wall() - 10 * SEC,
                      .checks = {c},
                      .check_count = 1};
    in_owner(do_watch, &a);
    expect_reports(5);
    assert_true(last()->alive);
    web_status = 500;
    advance(10);
    expect_reports(7); /* t1 and t2 */
    for (size_t i = 5; i < 7; i++)
        assert_true(records[i].counted);

    /* A task that started long ago is past its grace period at once. */
    a.task = "t3";
    a.started_at = actor_clock_wall() - 301 * SEC;
    in_owner(do_watch, &a);
    expect_reports(8);
    assert_true(last()->counted);
}

static void test_zero_max_failures_never_kills(void **unused)
{
    (void)unused;
    web_status = 503;
    marathon_health_check_t c = check_of(MARATHON_HEALTH_HTTP, "/");
    c.max_consecutive_failures = 0;
    watch_one("t1", web_port, c);
    for (size_t n = 1; n <= 6; n++) {
        expect_reports(n);
        assert_false(last()->kill);
        assert_string_equal(last()->cause, "503 Service Unavailable");
        advance(10);
    }
    /* maxConsecutiveFailures 1: the second failure kills; the owner unwatches then. */
    unwatch_on_kill = true;
    c.max_consecutive_failures = 1;
    watch_one("t2", web_port, c);
    expect_reports(8); /* t1's 7th, t2's first */
    advance(10);
    expect_reports(10);
    bool killed = false;
    for (size_t i = 8; i < 10; i++)
        killed |= strcmp(records[i].task_id, "t2") == 0 && records[i].kill;
    assert_true(killed);
    assert_int_equal(watched(), 1);
}

static void test_unwatch_stops_checks(void **unused)
{
    (void)unused;
    watch_one("t1", web_port, check_of(MARATHON_HEALTH_HTTP, "/"));
    expect_reports(1);
    assert_int_equal(web_requests, 1);
    in_owner(do_unwatch, "t1");
    in_owner(do_unwatch, "unknown");
    assert_int_equal(watched(), 0);
    advance(60);
    settle_for(50);
    assert_int_equal(record_count, 1);
    assert_int_equal(web_requests, 1);

    /* Unwatched while its probe runs: the probe's outcome is dropped. */
    watch_one("t2", web_port, check_of(MARATHON_HEALTH_HTTP, "/"));
    in_owner(do_unwatch, "t2");
    for (int i = 0; i < WAIT_MS && web_requests < 2; i++)
        settle_for(1);
    assert_int_equal(web_requests, 2);
    settle_for(50);
    assert_int_equal(record_count, 1);
    status_args_t s = {.task = "t2"};
    in_owner(do_status, &s);
    assert_false(s.found);
}

static void test_rewatch(void **unused)
{
    (void)unused;
    marathon_health_check_t c = check_of(MARATHON_HEALTH_HTTP, "/a");
    watch_one("t1", web_port, c);
    expect_reports(1);
    /* The same registration again changes nothing: no new probe, the state stays. */
    watch_one("t1", web_port, c);
    settle_for(30);
    assert_int_equal(web_requests, 1);
    status_args_t s = {.task = "t1"};
    in_owner(do_status, &s);
    assert_true(s.found && s.status.alive);

    /* A different one replaces it: states reset, a probe at once, the old timer gone. */
    web_status = 500;
    c.path = "/b";
    watch_one("t1", web_port, c);
    expect_reports(2);
    assert_string_equal(web_path, "/b");
    assert_false(last()->changed); /* a fresh state: not alive before either */
    assert_int_equal(last()->status.consecutive_failures, 1);
    assert_int_equal(last()->status.first_success, 0);
    assert_int_equal(watched(), 1);
    advance(10);
    expect_reports(3);
    settle_for(20);
    assert_int_equal(record_count, 3);
    assert_int_equal(web_requests, 3);
}

/* `port` beats portIndex; a portIndex past the ports fails; Mesos-level checks are skipped. */
static void test_ports_and_protocols(void **unused)
{
    (void)unused;
    uint16_t closed = free_port();
    marathon_health_check_t by_port = check_of(MARATHON_HEALTH_HTTP, "/by-port");
    by_port.has_port = true;
    by_port.port = web_port;
    by_port.port_index = 0; /* a closed port: ignored */
    marathon_health_check_t command = check_of(MARATHON_HEALTH_COMMAND, NULL);
    command.command = "exit 0";
    marathon_health_check_t by_index = check_of(MARATHON_HEALTH_TCP, NULL);
    by_index.port_index = 1;
    marathon_health_check_t missing = check_of(MARATHON_HEALTH_TCP, NULL);
    missing.port_index = 2;
    watch_args_t a = {.task = "t1",
                      .host = "127.0.0.1",
                      .ports = {closed, web_port},
                      .port_count = 2,
                      .checks = {by_port, command, by_index, missing},
                      .check_count = 4};
    in_owner(do_watch, &a);
    assert_int_equal(a.rc, ACTOR_OK);
    expect_reports(3);
    settle_for(20);
    assert_int_equal(record_count, 3);
    bool seen[4] = {false};
    for (size_t i = 0; i < 3; i++) {
        seen[records[i].index] = true;
        if (records[i].index == 2)
            assert_true(records[i].alive);
        if (records[i].index == 0)
            assert_true(records[i].alive);
        if (records[i].index == 3)
            assert_string_equal(records[i].cause,
                                "Health check failed: unable to get the task's effectivePort");
    }
    assert_true(seen[0] && !seen[1] && seen[2] && seen[3]);
    assert_string_equal(web_path, "/by-port");
    status_args_t s = {.task = "t1", .index = 1};
    in_owner(do_status, &s);
    assert_false(s.found);
    s.index = 9;
    in_owner(do_status, &s);
    assert_false(s.found);

    /* Only Mesos-level checks: recorded, never probed. */
    in_owner(do_unwatch, "t1");
    a.task = "t2";
    a.checks[0] = command;
    a.check_count = 1;
    in_owner(do_watch, &a);
    assert_int_equal(watched(), 1);
    advance(100);
    settle_for(20);
    assert_int_equal(record_count, 3);
}

/* Different intervals on one instance share its one timer. */
static void test_two_intervals(void **unused)
{
    (void)unused;
    marathon_health_check_t fast = check_of(MARATHON_HEALTH_HTTP, "/fast");
    fast.interval_seconds = 5;
    marathon_health_check_t slow = check_of(MARATHON_HEALTH_TCP, NULL);
    slow.interval_seconds = 15;
    watch_args_t a = {.task = "t1",
                      .host = "localhost",
                      .ports = {web_port},
                      .port_count = 1,
                      .checks = {fast, slow},
                      .check_count = 2};
    in_owner(do_watch, &a);
    expect_reports(2);
    size_t per_check[2] = {0, 0};
    for (int s = 5; s <= 30; s += 5) {
        advance(5);
        expect_reports(2 + (size_t)s / 5 + (size_t)s / 15);
    }
    for (size_t i = 0; i < record_count; i++) {
        per_check[records[i].index]++;
        assert_true(records[i].alive);
    }
    assert_int_equal(per_check[0], 7); /* 0, 5, ..., 30 */
    assert_int_equal(per_check[1], 3); /* 0, 15, 30 */
}

static void test_many_instances(void **unused)
{
    (void)unused;
    char ids[MANY][16];
    for (int i = 0; i < MANY; i++) {
        snprintf(ids[i], sizeof(ids[i]), "task-%d", i);
        watch_one(ids[i], web_port, check_of(MARATHON_HEALTH_HTTP, "/"));
    }
    assert_int_equal(watched(), MANY);
    expect_reports(MANY);
    bool seen[MANY] = {false};
    for (size_t i = 0; i < MANY; i++) {
        int n = atoi(records[i].task_id + 5);
        assert_false(seen[n]);
        seen[n] = true;
        assert_true(records[i].alive);
    }
    advance(10);
    expect_reports(2 * MANY);
    assert_int_equal(web_requests, 2 * MANY);
}

static void test_invalid_arguments(void **unused)
{
    (void)unused;
    marathon_health_t *h = NULL;
    assert_int_equal(marathon_health_new(NULL, on_report, &h), ACTOR_EINVAL);
    watch_args_t a = {.task = "", .host = "127.0.0.1", .port_count = 0};
    in_owner(do_watch, &a);
    assert_int_equal(a.rc, ACTOR_EINVAL);
    a.task = "t1";
    a.host = "";
    in_owner(do_watch, &a);
    assert_int_equal(a.rc, ACTOR_EINVAL);
    a.host = NULL;
    in_owner(do_watch, &a);
    assert_int_equal(a.rc, ACTOR_EINVAL);
    assert_int_equal(watched(), 0);
    marathon_health_free(NULL);
}

/* Ending the checker (or the runtime) with probes under way abandons them cleanly. */
static void test_free_with_probes_under_way(void **unused)
{
    (void)unused;
    uint16_t port;
    int fd = listener(16, &port);
    marathon_health_check_t c = check_of(MARATHON_HEALTH_HTTP, "/");
    c.timeout_seconds = 30;
    watch_one("t1", port, c);
    watch_one("t2", port, c);
    sleep_ms(20);
    actor_terminate(&owner_pid);
    actor_settle();
    assert_int_equal(record_count, 0);
    close(fd);

    /* And from the report callback itself. */
    fd = listener(16, &port);
    assert_int_equal(actor_spawn(&owner_ops, "owner", NULL, &owner_pid), ACTOR_OK);
    actor_settle();
    free_on_report = true;
    watch_one("t3", web_port, check_of(MARATHON_HEALTH_HTTP, "/"));
    watch_one("t4", port, c);
    expect_reports(1);
    settle_for(20);
    assert_int_equal(record_count, 1);
    close(fd);
}

/* ---- HTTPS, with openssl s_server ---- */

static char tls_dir[64];
static pid_t tls_server;

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

static bool run_openssl(char *const argv[])
{
    pid_t pid;
    actor_subprocess_options_t o = {.path = "/usr/bin/openssl",
                                    .argv = argv,
                                    .stdin_path = "/dev/null",
                                    .stdout_path = "/dev/null",
                                    .stderr_path = "/dev/null"};
    int status = -1;
    if (actor_subprocess_spawn(&o, &pid, NULL, 0) != ACTOR_OK)
        return false;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

/* Starts s_server with a fresh self-signed certificate; returns its port (0: no openssl). */
static uint16_t tls_start(void)
{
    if (access("/usr/bin/openssl", X_OK) != 0)
        return 0;
    snprintf(tls_dir, sizeof(tls_dir), "/tmp/test_health.XXXXXX");
    assert_non_null(mkdtemp(tls_dir));
    char key[96], cert[96], accept[32];
    snprintf(key, sizeof(key), "%s/key.pem", tls_dir);
    snprintf(cert, sizeof(cert), "%s/cert.pem", tls_dir);
    char *req[] = {"openssl",
                   "req",
                   "-x509",
                   "-newkey",
                   "ec",
                   "-pkeyopt",
                   "ec_paramgen_curve:prime256v1",
                   "-nodes",
                   "-subj",
                   "/CN=elsewhere",
                   "-days",
                   "1",
                   "-keyout",
                   key,
                   "-out",
                   cert,
                   NULL};
    assert_true(run_openssl(req));
    uint16_t port = free_port();
    snprintf(accept, sizeof(accept), "127.0.0.1:%u", port);
    char *serve[] = {"openssl", "s_server", "-quiet", "-www", "-accept", accept,
                     "-key",    key,        "-cert",  cert,   NULL};
    actor_subprocess_options_t o = {.path = "/usr/bin/openssl",
                                    .argv = serve,
                                    .stdin_path = "/dev/null",
                                    .stdout_path = "/dev/null",
                                    .stderr_path = "/dev/null",
                                    .new_session = true};
    assert_int_equal(actor_subprocess_spawn(&o, &tls_server, NULL, 0), ACTOR_OK);
    for (int i = 0; i < WAIT_MS; i++) { /* until it listens */
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        struct sockaddr_in sa = {.sin_family = AF_INET,
                                 .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
                                 .sin_port = htons(port)};
        int rc = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
        close(fd);
        if (rc == 0)
            return port;
        sleep_ms(1);
    }
    fail_msg("openssl s_server did not listen on %u", port);
    return 0;
}

static void tls_stop(void)
{
    if (tls_server > 0) {
        kill(-tls_server, SIGKILL);
        waitpid(tls_server, NULL, 0);
        tls_server = 0;
    }
    if (tls_dir[0] != '\0')
        nftw(tls_dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
    tls_dir[0] = '\0';
}

static void test_https(void **unused)
{
    (void)unused;
    uint16_t port = tls_start();
    if (port == 0)
        skip();
    /* A self-signed certificate for another name: not verified, as Marathon. */
    watch_one("t1", port, check_of(MARATHON_HEALTH_HTTPS, "/"));
    expect_reports(1);
    if (!last()->alive)
        fail_msg("HTTPS check failed: %s", last()->cause);
    tls_stop();

    /* TLS to a plain HTTP server fails in the handshake. */
    watch_one("t2", web_port, check_of(MARATHON_HEALTH_HTTPS, "/"));
    expect_reports(2);
    char want[64];
    snprintf(want, sizeof(want), "TLS handshake with 127.0.0.1:%u failed: ", web_port);
    assert_memory_equal(last()->cause, want, strlen(want));
}

static int teardown_tls(void **state)
{
    tls_stop();
    return teardown(state);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_http_healthy_then_failing_then_killed, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_path_without_slash_and_other_statuses, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_http_1xx, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tcp_open_then_closed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_http_timeout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tcp_timeout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_grace_period, setup, teardown),
        cmocka_unit_test_setup_teardown(test_zero_max_failures_never_kills, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unwatch_stops_checks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rewatch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ports_and_protocols, setup, teardown),
        cmocka_unit_test_setup_teardown(test_two_intervals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_many_instances, setup, teardown),
        cmocka_unit_test_setup_teardown(test_invalid_arguments, setup, teardown),
        cmocka_unit_test_setup_teardown(test_free_with_probes_under_way, setup, teardown),
        cmocka_unit_test_setup_teardown(test_https, setup, teardown_tls),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
