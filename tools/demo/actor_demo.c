/*
 * actor-demo: the runtime on its own, what ./tools/run starts until the master exists.
 *
 * The `demo` actor is the root of the HTTP port: once a second it sends a Ping to the `pong`
 * actor and, at each Pong, pushes a server-sent event to every client of /events. /state shows
 * the runtime's counters; the runtime's own `metrics` actor serves /metrics/snapshot and
 * /metrics. The actors talk through the actor port, so another process could join in.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actor/actor.h"
#include "actor/clock.h"
#include "actor/daemon.h"
#include "actor/flags.h"
#include "actor/http.h"
#include "actor/log.h"
#include "demo.pb-c.h"

#define MAX_STREAMS 64

typedef struct demo {
    actor_pid_t pong;
    uint64_t pings, pongs;
    actor_http_stream_t *streams[MAX_STREAMS];
} demo_t;

/* ---- pong ---- */

static void pong_on_ping(actor_t *self, void *state, const actor_pid_t *from,
                         const ProtobufCMessage *msg)
{
    (void)state;
    Demo__Pong pong = DEMO__PONG__INIT;
    pong.has_seq = true;
    pong.seq = ((const Demo__Ping *)msg)->seq;
    actor_send(self, from, &pong.base);
}

static const actor_handler_t pong_handlers[] = {{&demo__ping__descriptor, pong_on_ping}};
static const actor_ops_t pong_ops = {.name = "pong", .handlers = pong_handlers, .handler_count = 1};

/* ---- demo ---- */

static void tick(actor_t *self, void *state, void *arg)
{
    (void)arg;
    if (self == NULL)
        return;
    demo_t *d = state;
    Demo__Ping ping = DEMO__PING__INIT;
    ping.has_seq = true;
    ping.seq = ++d->pings;
    actor_send(self, &d->pong, &ping.base);
    actor_delay(self, ACTOR_NS_PER_SEC, tick, NULL);
}

static void demo_on_pong(actor_t *self, void *state, const actor_pid_t *from,
                         const ProtobufCMessage *msg)
{
    (void)self;
    demo_t *d = state;
    char pid[ACTOR_PID_STRLEN], event[256];
    int n = snprintf(event, sizeof(event), "event: pong\ndata: {\"seq\":%llu,\"from\":\"%s\"}\n\n",
                     (unsigned long long)((const Demo__Pong *)msg)->seq,
                     actor_pid_format(from, pid, sizeof(pid)));
    d->pongs++;
    for (int i = 0; i < MAX_STREAMS; i++) {
        if (d->streams[i] != NULL)
            actor_http_stream_write(d->streams[i], event, (size_t)n);
    }
}

static void on_root(actor_t *self, void *state, actor_http_request_t *req)
{
    (void)self, (void)state;
    actor_http_respond_text(req, 200,
                            "actor-demo: the actor runtime, until the Mesos master lands.\n"
                            "  /state             the runtime's counters (JSON)\n"
                            "  /events            a server-sent event at each pong\n"
                            "  /metrics/snapshot  metrics as Mesos's JSON\n"
                            "  /metrics           metrics as Prometheus text\n");
}

static void on_state(actor_t *self, void *state, actor_http_request_t *req)
{
    demo_t *d = state;
    actor_runtime_stats_t s;
    actor_runtime_stats(&s);
    char pid[ACTOR_PID_STRLEN];
    json_t *j =
        json_pack("{s:s, s:I, s:I, s:{s:I, s:I, s:I, s:I, s:I, s:I}}", "pid",
                  actor_pid_format(actor_self(self), pid, sizeof(pid)), "pings",
                  (json_int_t)d->pings, "pongs", (json_int_t)d->pongs, "runtime", "messages_sent",
                  (json_int_t)s.messages_sent, "messages_dropped", (json_int_t)s.messages_dropped,
                  "remote_sent", (json_int_t)s.remote_sent, "remote_received",
                  (json_int_t)s.remote_received, "actors_spawned", (json_int_t)s.actors_spawned,
                  "actors_terminated", (json_int_t)s.actors_terminated);
    actor_http_respond_json(req, 200, j);
}

static void on_stream_closed(actor_t *self, void *state, actor_http_stream_t *stream)
{
    (void)self;
    demo_t *d = state;
    for (int i = 0; i < MAX_STREAMS; i++) {
        if (d->streams[i] == stream)
            d->streams[i] = NULL;
    }
    actor_http_stream_end(stream);
}

static void on_events(actor_t *self, void *state, actor_http_request_t *req)
{
    demo_t *d = state;
    int slot = 0;
    while (slot < MAX_STREAMS && d->streams[slot] != NULL)
        slot++;
    if (slot == MAX_STREAMS) {
        actor_http_respond_text(req, 503, "Too many event streams open");
        return;
    }
    actor_http_stream_begin(self, req, 200, "text/event-stream", NULL, 0, on_stream_closed,
                            &d->streams[slot]);
}

static const actor_http_route_t demo_routes[] = {
    {"/", "GET", on_root},
    {"/state", "GET", on_state},
    {"/events", "GET", on_events},
};

static void demo_init(actor_t *self, void *state, void *arg)
{
    demo_t *d = state;
    d->pong = *(const actor_pid_t *)arg;
    actor_http_install(self, demo_routes, sizeof(demo_routes) / sizeof(demo_routes[0]));
    tick(self, state, NULL);
}

static void demo_fini(actor_t *self, void *state)
{
    (void)self;
    demo_t *d = state;
    for (int i = 0; i < MAX_STREAMS; i++) {
        if (d->streams[i] != NULL)
            actor_http_stream_end(d->streams[i]);
    }
}

static const actor_handler_t demo_handlers[] = {{&demo__pong__descriptor, demo_on_pong}};
static const actor_ops_t demo_ops = {.name = "demo",
                                     .state_size = sizeof(demo_t),
                                     .init = demo_init,
                                     .fini = demo_fini,
                                     .handlers = demo_handlers,
                                     .handler_count = 1};

/* ---- main ---- */

typedef struct options {
    char *ip;
    uint64_t port, actor_port;
} options_t;

static int parse_flags(int argc, char **argv, options_t *o, flags_flag_t *table)
{
    flags_options_t fo = {.env_prefix = "MESOS_"};
    flags_result_t result;
    if (flags_parse(table, argc, argv, &fo, &result) != ACTOR_OK) {
        fprintf(stderr, "%s\n", result.error);
        return 1;
    }
    if (result.help) {
        flags_usage_write(table, "actor-demo", stdout);
        return -1;
    }
    if (o->port > 65535 || o->actor_port > 65535 || (o->actor_port == 0 && o->port > 55535)) {
        fprintf(stderr, "Ports must be at most 65535\n");
        return 1;
    }
    if (!flags_is_set(table, "actor_port"))
        o->actor_port = o->port + 10000;
    return 0;
}

int main(int argc, char **argv)
{
    options_t o = {0};
    flags_flag_t table[] = {
        FLAGS_STRING("ip", &o.ip, "127.0.0.1", "IP address to listen on"),
        FLAGS_UINT("port", &o.port, "5050", "Port of the HTTP endpoints"),
        FLAGS_UINT("actor_port", &o.actor_port, "0",
                   "Port of actor messages (default: the HTTP port + 10000)"),
        FLAGS_END,
    };
    int rc = parse_flags(argc, argv, &o, table);
    if (rc != 0) {
        flags_free(table);
        return rc < 0 ? 0 : rc;
    }

    /* Signals are taken by actor_daemon_wait below, not by whichever thread they land on. */
    actor_daemon_prepare();

    actor_runtime_options_t opts;
    actor_runtime_options_init(&opts);
    opts.ip = o.ip;
    opts.port = (int)o.actor_port;
    actor_err_t err = actor_runtime_start(&opts);
    actor_pid_t pong, demo;
    if (err == ACTOR_OK)
        err = actor_spawn(&pong_ops, "pong", NULL, &pong);
    if (err == ACTOR_OK)
        err = actor_spawn(&demo_ops, "demo", &pong, &demo);
    if (err == ACTOR_OK)
        err = actor_http_listen(o.ip, (uint16_t)o.port, "demo", NULL);
    if (err != ACTOR_OK) {
        LOG_ERROR("Failed to start: %s", actor_strerror(err));
        actor_runtime_stop();
        flags_free(table);
        return 1;
    }
    LOG_INFO("actor-demo serving http://%s:%llu/ (try /state, /events, /metrics/snapshot); "
             "actors at %s:%llu",
             o.ip, (unsigned long long)o.port, o.ip, (unsigned long long)o.actor_port);
    actor_daemon_wait();
    actor_runtime_stop();
    flags_free(table);
    return 0;
}
