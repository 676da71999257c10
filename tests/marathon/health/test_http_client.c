/* The HTTP client for actors (frameworks/marathon/http_client.c) against real servers on
 * 127.0.0.1 in this process: the runtime's HTTP server with a root actor "web" answering every
 * path with 200, a port nothing listens on, and a listening socket that never answers.
 *
 * The runtime runs without workers, so the actors (web, and "owner", which owns a client and
 * records the outcomes) run in this thread inside actor_settle(); the transfers run on the
 * runtime's I/O thread, so a test polls (settle, 1 ms sleep) with a deadline until what it expects
 * arrived. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "actor/clock.h"
#include "actor/http.h"
#include "frameworks/marathon/http_client.h"
#include "tests/marathon/health/support.h"

#define WAIT_MS   10000
#define MAX_DONE  16
#define TRANSFERS 3

/* ---- the web server: every path answers 200 ---- */

static int web_requests;

static void on_any(actor_t *self, void *state, actor_http_request_t *req)
{
    (void)self, (void)state;
    web_requests++;
    actor_http_respond(req, 200, "text/plain", NULL, 0, "ok", 2);
}

static const actor_http_route_t web_routes[] = {{"*", NULL, on_any}};

static void web_init(actor_t *self, void *state, void *arg)
{
    (void)state, (void)arg;
    actor_http_install(self, web_routes, 1);
}

static const actor_ops_t web_ops = {.name = "web", .init = web_init};

/* ---- the owner: a client and the outcomes it hears ---- */

typedef struct outcome {
    int tag;
    CURLcode result;
    long code;
} outcome_t;

static outcome_t outcomes[MAX_DONE];
static size_t outcome_count;
static atomic_int released; /* release calls: they may run on the I/O thread */
static bool free_in_done;   /* the owner frees its client from the first done */

typedef struct owner {
    marathon_http_client_t *c;
} owner_t;

typedef struct ticket {
    int tag;
} ticket_t;

static void on_done(actor_t *self, void *state, CURL *easy, CURLcode result, void *arg)
{
    (void)self;
    owner_t *o = state;
    const ticket_t *t = arg;
    long code = 0;
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &code);
    if (outcome_count < MAX_DONE)
        outcomes[outcome_count++] = (outcome_t){.tag = t->tag, .result = result, .code = code};
    if (free_in_done) {
        marathon_http_client_free(o->c);
        o->c = NULL;
    }
}

static void on_release(void *arg)
{
    atomic_fetch_add(&released, 1);
    free(arg);
}

static void owner_fini(actor_t *self, void *state)
{
    (void)self;
    marathon_http_client_free(((owner_t *)state)->c);
}

static const actor_ops_t owner_ops = {
    .name = "owner", .state_size = sizeof(owner_t), .fini = owner_fini};

static actor_pid_t owner_pid;
static uint16_t web_port;

typedef struct call {
    void (*fn)(actor_t *self, owner_t *o, void *arg);
    void *arg;
} call_t;

static void call_in_owner(actor_t *self, void *state, void *arg)
{
    call_t *c = arg;
    if (self != NULL)
        c->fn(self, state, c->arg);
}

/* Runs fn(owner, its state, arg) inside the owner and waits for it. */
static void in_owner(void (*fn)(actor_t *self, owner_t *o, void *arg), void *arg)
{
    call_t c = {fn, arg};
    assert_int_equal(actor_dispatch(&owner_pid, call_in_owner, &c), ACTOR_OK);
    actor_settle();
}

typedef struct new_args {
    size_t max_running;
    actor_err_t rc;
} new_args_t;

static void do_new(actor_t *self, owner_t *o, void *arg)
{
    new_args_t *a = arg;
    a->rc = marathon_http_client_new(self, a->max_running, &o->c);
}

typedef struct start_args {
    const char *url;
    int tag;
    long timeout_ms;
    actor_err_t rc;
} start_args_t;

static void do_start(actor_t *self, owner_t *o, void *arg)
{
    (void)self;
    start_args_t *a = arg;
    CURL *easy = curl_easy_init();
    ticket_t *t = calloc(1, sizeof(*t));
    assert_non_null(easy);
    assert_non_null(t);
    t->tag = a->tag;
    curl_easy_setopt(easy, CURLOPT_URL, a->url);
    curl_easy_setopt(easy, CURLOPT_PROXY, "");
    curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, a->timeout_ms > 0 ? a->timeout_ms : 5000L);
    a->rc = marathon_http_client_start(o->c, easy, on_done, on_release, t);
    if (a->rc != ACTOR_OK) {
        curl_easy_cleanup(easy);
        free(t);
    }
}

static void do_pending(actor_t *self, owner_t *o, void *arg)
{
    (void)self;
    *(size_t *)arg = marathon_http_client_pending(o->c);
}

static void do_free(actor_t *self, owner_t *o, void *arg)
{
    (void)self, (void)arg;
    marathon_http_client_free(o->c);
    o->c = NULL;
}

static void client_new(size_t max_running)
{
    new_args_t a = {.max_running = max_running};
    in_owner(do_new, &a);
    assert_int_equal(a.rc, ACTOR_OK);
}

static void start(const char *url, int tag, long timeout_ms)
{
    start_args_t a = {.url = url, .tag = tag, .timeout_ms = timeout_ms};
    in_owner(do_start, &a);
    assert_int_equal(a.rc, ACTOR_OK);
}

static size_t pending(void)
{
    size_t n = 0;
    in_owner(do_pending, &n);
    return n;
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Settles until n outcomes and `releases` releases arrived, or fails after WAIT_MS. */
static void wait_for(size_t n, int releases)
{
    int64_t deadline = mono_ms() + WAIT_MS;
    while (outcome_count < n || atomic_load(&released) < releases) {
        if (mono_ms() > deadline)
            fail_msg("waited for %zu outcomes and %d releases: got %zu and %d", n, releases,
                     outcome_count, atomic_load(&released));
        actor_settle();
        usleep(1000);
    }
    actor_settle();
}

static void url_of(uint16_t port, const char *path, char *out, size_t len)
{
    snprintf(out, len, "http://127.0.0.1:%u%s", port, path);
}

/* A port on 127.0.0.1 that refuses connections: bound, then closed. */
static uint16_t closed_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    close(fd);
    return ntohs(a.sin_port);
}

/* A socket that listens and never accepts: connections complete, no answer ever comes. */
static int silent_listener(uint16_t *port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(fd, 16), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    *port = ntohs(a.sin_port);
    return fd;
}

/* Starts count transfers (tags first, first + 1, ...) that may take timeout_ms to a listener
 * that never answers; returns the listener's socket, for the test to close. */
static int start_silent(int first, int count, long timeout_ms)
{
    uint16_t port;
    int fd = silent_listener(&port);
    char url[128];
    url_of(port, "/", url, sizeof(url));
    for (int k = 0; k < count; k++)
        start(url, first + k, timeout_ms);
    return fd;
}

/* ---- fixtures ---- */

static int setup(void **unused)
{
    (void)unused;
    if (health_support_start(&web_ops, &owner_ops, &owner_pid, &web_port) != 0)
        return -1;
    web_requests = 0;
    outcome_count = 0;
    atomic_store(&released, 0);
    free_in_done = false;
    return 0;
}

static int teardown(void **unused)
{
    (void)unused;
    actor_runtime_stop();
    return 0;
}

/* ---- tests ---- */

static void test_get_then_release(void **unused)
{
    (void)unused;
    client_new(0);
    char url[128];
    url_of(web_port, "/hello", url, sizeof(url));
    start(url, 1, 0);
    /* No count of pending transfers here: the answer may already be in (start settles). */
    wait_for(1, 1);
    assert_int_equal(outcomes[0].tag, 1);
    assert_int_equal(outcomes[0].result, CURLE_OK);
    assert_int_equal(outcomes[0].code, 200);
    assert_int_equal(web_requests, 1);
    assert_int_equal(pending(), 0);
}

static void test_connection_refused(void **unused)
{
    (void)unused;
    client_new(0);
    char url[128];
    url_of(closed_port(), "/", url, sizeof(url));
    start(url, 7, 0);
    wait_for(1, 1);
    assert_int_equal(outcomes[0].tag, 7);
    assert_int_equal(outcomes[0].result, CURLE_COULDNT_CONNECT);
    assert_int_equal(outcomes[0].code, 0);
}

/* One transfer at a time: they run, and end, in start order. */
static void test_max_running_keeps_order(void **unused)
{
    (void)unused;
    client_new(1);
    char url[128];
    url_of(web_port, "/", url, sizeof(url));
    for (int k = 0; k < TRANSFERS; k++)
        start(url, k, 0);
    wait_for(TRANSFERS, TRANSFERS);
    for (int k = 0; k < TRANSFERS; k++) {
        assert_int_equal(outcomes[k].tag, k);
        assert_int_equal(outcomes[k].code, 200);
    }
    assert_int_equal(pending(), 0);
}

/* Transfers cut by curl's own timeout come back as CURLE_OPERATION_TIMEDOUT. */
static void test_timeout(void **unused)
{
    (void)unused;
    client_new(0);
    int fd = start_silent(3, 1, 200);
    wait_for(1, 1);
    assert_int_equal(outcomes[0].result, CURLE_OPERATION_TIMEDOUT);
    close(fd);
}

/* Freeing the client abandons transfers under way and waiting: no done, every release. */
static void test_free_abandons_transfers(void **unused)
{
    (void)unused;
    client_new(1); /* one runs, two wait */
    int fd = start_silent(0, TRANSFERS, 60000);
    assert_int_equal(pending(), TRANSFERS); /* nothing answers: all of them are still pending */
    in_owner(do_free, NULL);
    wait_for(0, TRANSFERS);
    assert_int_equal(outcome_count, 0);
    close(fd);
}

/* The owner may free its client inside a done: the other transfers are released, not done. */
static void test_free_inside_done(void **unused)
{
    (void)unused;
    client_new(0);
    char url[128];
    url_of(web_port, "/", url, sizeof(url));
    /* The silent transfer first, and the flag before the answered one starts: its answer may
     * come in before start returns. */
    free_in_done = true;
    int fd = start_silent(1, 1, 60000);
    start(url, 0, 0);
    wait_for(1, 2);
    assert_int_equal(outcome_count, 1);
    assert_int_equal(outcomes[0].tag, 0);
    close(fd);
}

/* The owner ends with transfers under way: its fini frees the client, which releases them. */
static void test_owner_ends_with_transfers(void **unused)
{
    (void)unused;
    client_new(0);
    int fd = start_silent(0, 1, 60000);
    actor_terminate(&owner_pid);
    actor_wait(&owner_pid);
    wait_for(0, 1);
    assert_int_equal(outcome_count, 0);
    close(fd);
}

static void do_invalid(actor_t *self, owner_t *o, void *arg)
{
    (void)o, (void)arg;
    marathon_http_client_t *c = NULL;
    assert_int_equal(marathon_http_client_new(NULL, 0, &c), ACTOR_EINVAL);
    assert_int_equal(marathon_http_client_new(self, 0, NULL), ACTOR_EINVAL);
    assert_int_equal(marathon_http_client_new(self, 0, &c), ACTOR_OK);
    CURL *easy = curl_easy_init();
    assert_int_equal(marathon_http_client_start(NULL, easy, NULL, NULL, NULL), ACTOR_EINVAL);
    assert_int_equal(marathon_http_client_start(c, NULL, NULL, NULL, NULL), ACTOR_EINVAL);
    assert_int_equal(marathon_http_client_pending(c), 0);
    assert_int_equal(marathon_http_client_pending(NULL), 0);
    curl_easy_cleanup(easy); /* refused: still the caller's */
    marathon_http_client_free(c);
    marathon_http_client_free(NULL);
}

static void test_invalid_arguments(void **unused)
{
    (void)unused;
    in_owner(do_invalid, NULL);
    assert_int_equal(atomic_load(&released), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_get_then_release, setup, teardown),
        cmocka_unit_test_setup_teardown(test_connection_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_max_running_keeps_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_timeout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_free_abandons_transfers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_free_inside_done, setup, teardown),
        cmocka_unit_test_setup_teardown(test_owner_ends_with_transfers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_invalid_arguments, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
