/* Tests of metrics_actor.c: the runtime's `metrics` actor serves the default registry on an HTTP
 * port as /metrics/snapshot (JSON) and /metrics (Prometheus text), with the runtime's own
 * counters under actor/...; each gauge shows its own field of actor_runtime_stats, actors_live
 * follows spawns and terminations, other methods get 405, and stopping the runtime takes the
 * gauges out of the registry. The text is checked with `promtool check metrics` when installed.
 * The client is a blocking socket with a receive timeout that reads each answer to its end
 * ("Connection: close"), so a missing answer fails the test instead of hanging it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "actor/actor.h"
#include "actor/http.h"
#include "actor/metrics.h"
#include "test_actor.pb-c.h"

/* ---- an actor that accepts Ping and nothing else ---- */

static void sink_on_ping(actor_t *self, void *state, const actor_pid_t *from,
                         const ProtobufCMessage *msg)
{
    (void)self, (void)state, (void)from, (void)msg;
}

static const actor_handler_t sink_handlers[] = {{&actortest__ping__descriptor, sink_on_ping}};
static const actor_ops_t sink_ops = {.name = "sink", .handlers = sink_handlers, .handler_count = 1};

/* ---- a tiny blocking client ---- */

typedef struct answer {
    int status;
    char *text; /* the whole answer, NUL-terminated; body points into it */
    const char *body;
    size_t body_len;
} answer_t;

/* Sends one request and reads the answer until the server closes (or 10 s pass). */
static answer_t exchange(uint16_t port, const char *request)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct timeval tv = {.tv_sec = 10};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(send(fd, request, strlen(request), 0), (ssize_t)strlen(request));

    size_t cap = 65536, len = 0;
    char *text = malloc(cap);
    assert_non_null(text);
    ssize_t n;
    while (len < cap - 1 && (n = recv(fd, text + len, cap - 1 - len, 0)) > 0)
        len += (size_t)n;
    close(fd);
    text[len] = '\0';

    answer_t a = {.text = text};
    assert_int_equal(sscanf(text, "HTTP/1.1 %d", &a.status), 1);
    const char *end = strstr(text, "\r\n\r\n");
    assert_non_null(end);
    a.body = end + 4;
    a.body_len = len - (size_t)(a.body - text);
    return a;
}

static void answer_free(answer_t *a)
{
    free(a->text);
}

#define GET_SNAPSHOT   "GET /metrics/snapshot HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
#define GET_PROMETHEUS "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"

/* The keys metrics_actor.c publishes, and the stats field each one shows. */
static const struct {
    const char *key;
    size_t offset;
} stat_keys[] = {
    {"actor/messages_sent", offsetof(actor_runtime_stats_t, messages_sent)},
    {"actor/messages_dropped", offsetof(actor_runtime_stats_t, messages_dropped)},
    {"actor/messages_unhandled", offsetof(actor_runtime_stats_t, messages_unhandled)},
    {"actor/remote_messages_sent", offsetof(actor_runtime_stats_t, remote_sent)},
    {"actor/remote_messages_received", offsetof(actor_runtime_stats_t, remote_received)},
    {"actor/remote_bad_messages", offsetof(actor_runtime_stats_t, remote_bad_messages)},
    {"actor/actors_spawned", offsetof(actor_runtime_stats_t, actors_spawned)},
    {"actor/actors_terminated", offsetof(actor_runtime_stats_t, actors_terminated)},
    {"actor/mutes", offsetof(actor_runtime_stats_t, mutes)},
};
#define STAT_KEYS (sizeof(stat_keys) / sizeof(stat_keys[0]))

static uint64_t stat_field(const actor_runtime_stats_t *s, size_t offset)
{
    return *(const uint64_t *)((const char *)s + offset);
}

/* GETs /metrics/snapshot; *before and *after are the runtime's stats around the request. */
static json_t *snapshot(uint16_t port, actor_runtime_stats_t *before, actor_runtime_stats_t *after)
{
    actor_settle();
    actor_runtime_stats(before);
    answer_t a = exchange(port, GET_SNAPSHOT);
    actor_runtime_stats(after);
    assert_int_equal(a.status, 200);
    assert_non_null(strstr(a.text, "Content-Type: application/json"));
    json_error_t error;
    json_t *j = json_loadb(a.body, a.body_len, 0, &error);
    if (j == NULL)
        fail_msg("snapshot is not JSON (%s): %s", error.text, a.body);
    answer_free(&a);
    assert_true(json_is_object(j));
    return j;
}

static double value_of(const json_t *snap, const char *key)
{
    const json_t *v = json_object_get(snap, key);
    if (v == NULL || !json_is_number(v))
        fail_msg("snapshot has no number under %s", key);
    return json_number_value(v);
}

static double actors_live(uint16_t port)
{
    actor_runtime_stats_t before, after;
    json_t *snap = snapshot(port, &before, &after);
    double live = value_of(snap, "actor/actors_live");
    json_decref(snap);
    assert_true(live == (double)(before.actors_spawned - before.actors_terminated));
    return live;
}

/* ---- fixture ---- */

typedef struct fixture {
    uint16_t port;
    size_t metrics_before; /* metrics in the default registry before the runtime started */
    actor_pid_t sinks[2];
} fixture_t;

static int setup(void **state)
{
    fixture_t *fx = calloc(1, sizeof(*fx));
    if (fx == NULL)
        return -1;
    *state = fx;
    fx->metrics_before = metrics_registry_count(metrics_registry_default());
    actor_runtime_options_t opts;
    actor_runtime_options_init(&opts);
    opts.workers = 1;
    if (actor_runtime_start(&opts) != ACTOR_OK)
        return -1;
    for (int i = 0; i < 2; i++) {
        if (actor_spawn(&sink_ops, NULL, NULL, &fx->sinks[i]) != ACTOR_OK)
            return -1;
    }
    actor_settle();
    if (actor_http_listen("127.0.0.1", 0, NULL, &fx->port) != ACTOR_OK)
        return -1;
    return 0;
}

/* Stops the runtime and checks that the metrics actor took its gauges out of the registry. */
static int teardown(void **state)
{
    fixture_t *fx = *state;
    actor_runtime_stop();
    size_t left = metrics_registry_count(metrics_registry_default());
    int rc = left == fx->metrics_before ? 0 : -1;
    if (rc != 0)
        fprintf(stderr, "%zu metrics left in the registry, %zu before\n", left, fx->metrics_before);
    free(fx);
    return rc;
}

/* ---- tests ---- */

static void test_snapshot_has_runtime_metrics(void **state)
{
    fixture_t *fx = *state;
    actor_runtime_stats_t before, after;
    json_t *snap = snapshot(fx->port, &before, &after);
    for (size_t i = 0; i < STAT_KEYS; i++) {
        double v = value_of(snap, stat_keys[i].key);
        assert_true(v >= (double)stat_field(&before, stat_keys[i].offset));
        assert_true(v <= (double)stat_field(&after, stat_keys[i].offset));
    }
    /* The metrics actor and the two sinks at least; no transport, so nothing remote. */
    assert_true(value_of(snap, "actor/actors_spawned") >= 3);
    assert_true(value_of(snap, "actor/actors_live") >= 3);
    assert_true(value_of(snap, "actor/actors_live") <= value_of(snap, "actor/actors_spawned"));
    assert_true(value_of(snap, "actor/remote_messages_sent") == 0);
    assert_true(value_of(snap, "actor/remote_messages_received") == 0);
    assert_true(value_of(snap, "actor/remote_bad_messages") == 0);
    json_decref(snap);
}

static void test_actors_live_follows_spawns(void **state)
{
    fixture_t *fx = *state;
    double live = actors_live(fx->port);

    actor_pid_t more[2];
    for (int i = 0; i < 2; i++)
        assert_int_equal(actor_spawn(&sink_ops, NULL, NULL, &more[i]), ACTOR_OK);
    assert_true(actors_live(fx->port) == live + 2);

    actor_terminate(&fx->sinks[0]);
    actor_wait(&fx->sinks[0]);
    actor_terminate(&more[0]);
    actor_wait(&more[0]);
    assert_true(actors_live(fx->port) == live);
}

/* Sends n messages from outside any actor: Pings, or Texts (which a sink has no handler for). */
static void send_n(const actor_pid_t *to, int n, bool ping)
{
    Actortest__Ping p = ACTORTEST__PING__INIT;
    Actortest__Text t = ACTORTEST__TEXT__INIT;
    for (int i = 0; i < n; i++)
        assert_int_equal(actor_send(NULL, to, ping ? &p.base : &t.base), ACTOR_OK);
}

/* Each gauge shows its own field: distinct numbers of sent, unhandled and dropped messages move
 * each gauge by what moved its field. */
static void test_each_gauge_shows_its_field(void **state)
{
    fixture_t *fx = *state;
    actor_runtime_stats_t b0, a0, b1, a1;
    json_t *first = snapshot(fx->port, &b0, &a0);

    actor_pid_t gone = fx->sinks[1];
    actor_terminate(&gone);
    actor_wait(&gone);
    send_n(&fx->sinks[0], 5, true);  /* handled */
    send_n(&fx->sinks[0], 2, false); /* unhandled */
    send_n(&gone, 1, true);          /* dropped */
    json_t *second = snapshot(fx->port, &b1, &a1);

    assert_true(b1.messages_unhandled - a0.messages_unhandled == 2);
    assert_true(b1.messages_dropped - a0.messages_dropped == 1);
    for (size_t i = 0; i < STAT_KEYS; i++) {
        const char *key = stat_keys[i].key;
        double moved = value_of(second, key) - value_of(first, key);
        double lo = (double)stat_field(&b1, stat_keys[i].offset) -
                    (double)stat_field(&a0, stat_keys[i].offset);
        double hi = (double)stat_field(&a1, stat_keys[i].offset) -
                    (double)stat_field(&b0, stat_keys[i].offset);
        if (moved < lo || moved > hi)
            fail_msg("%s moved by %g, its field by %g to %g", key, moved, lo, hi);
    }
    assert_true(value_of(second, "actor/messages_unhandled") -
                    value_of(first, "actor/messages_unhandled") ==
                2);
    assert_true(value_of(second, "actor/messages_dropped") -
                    value_of(first, "actor/messages_dropped") ==
                1);
    json_decref(first);
    json_decref(second);
}

/* Pipes text through `promtool check metrics` if it is installed; returns its exit status, or -1
 * when it is not installed. */
static int promtool_check(const char *text, size_t len)
{
    if (system("command -v promtool >/dev/null 2>&1") != 0)
        return -1;
    FILE *p = popen("promtool check metrics", "w");
    assert_non_null(p);
    assert_int_equal(fwrite(text, 1, len, p), len);
    int status = pclose(p);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

static void test_prometheus_text(void **state)
{
    fixture_t *fx = *state;
    metrics_counter_t *requests;
    assert_int_equal(metrics_counter_new(metrics_registry_default(), "test/requests",
                                         "Requests seen by the test", &requests),
                     ACTOR_OK);
    metrics_counter_add(requests, 3);

    double live = actors_live(fx->port);
    answer_t a = exchange(fx->port, GET_PROMETHEUS);
    metrics_counter_free(requests);
    assert_int_equal(a.status, 200);
    assert_non_null(strstr(a.text, "Content-Type: text/plain; version=0.0.4"));
    assert_non_null(strstr(a.body, "# HELP mesos_actor_actors_live Actors alive now\n"));
    assert_non_null(strstr(a.body, "# TYPE mesos_actor_actors_live gauge\n"));
    char line[128];
    snprintf(line, sizeof(line), "\nmesos_actor_actors_live %g\n", live);
    assert_non_null(strstr(a.body, line));
    assert_non_null(strstr(a.body, "# TYPE mesos_actor_messages_sent gauge\n"));
    assert_non_null(strstr(a.body, "\nmesos_test_requests_total 3\n")); /* the whole registry */

    int rc = promtool_check(a.body, a.body_len);
    if (rc < 0)
        printf("note: promtool is not installed; skipped `promtool check metrics`\n");
    else if (rc != 0)
        fail_msg("promtool check metrics exited %d on:\n%s", rc, a.body);
    answer_free(&a);
}

static void test_other_methods_refused(void **state)
{
    fixture_t *fx = *state;
    answer_t a = exchange(fx->port, "POST /metrics/snapshot HTTP/1.1\r\nHost: x\r\n"
                                    "Connection: close\r\nContent-Length: 2\r\n\r\n{}");
    assert_int_equal(a.status, 405);
    assert_non_null(strstr(a.text, "Allow: GET"));
    answer_free(&a);

    a = exchange(fx->port, "DELETE /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert_int_equal(a.status, 405);
    answer_free(&a);

    /* The server still answers after the refusals. */
    a = exchange(fx->port, GET_SNAPSHOT);
    assert_int_equal(a.status, 200);
    answer_free(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_snapshot_has_runtime_metrics, setup, teardown),
        cmocka_unit_test_setup_teardown(test_actors_live_follows_spawns, setup, teardown),
        cmocka_unit_test_setup_teardown(test_each_gauge_shows_its_field, setup, teardown),
        cmocka_unit_test_setup_teardown(test_prometheus_text, setup, teardown),
        cmocka_unit_test_setup_teardown(test_other_methods_refused, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
