/*
 * actor-bench: throughput and latency of the actor runtime, one JSON line per figure:
 *   {"bench":"actor","metric":"pingpong","value":N,"unit":"round_trips_per_s"}
 *
 * Shapes (counts as in issue 2; --scale=F multiplies them for a quick run):
 *   pingpong  one pair of actors, 2,000,000 round trips
 *   fanin     2 senders x 5,000,000 messages into one receiver
 *   pairs     48 ping-pong pairs, one message in flight each, 10,000,000 messages
 *   spawn     1,000,000 actors spawned and terminated, with 10k live, and with all 1M live
 *   remote    two processes over TCP loopback: 2,000,000 one-way 64-byte messages, then
 *             100,000 request/response round trips (p50, p99)
 *   nng_raw   the same remote shapes on bare nng push/pull and req/rep (the transport's own
 *             baseline, run in the same process run)
 * Usage: actor-bench [--shapes=pingpong,fanin,pairs,spawn,remote,nng_raw] [--scale=F]
 * Erlang's figures for the same shapes come from ../shared/bench/actors.erl, which
 * tests/bench/run-actor-bench runs right after this program.
 */
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "actor/actor.h"
#include "bench.h"
#include "test_actor.pb-c.h"

static sem_t done;

double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void bench_emit(const char *metric, double value, const char *unit)
{
    printf("{\"bench\":\"actor\",\"metric\":\"%s\",\"value\":%.3f,\"unit\":\"%s\"}\n", metric,
           value, unit);
    fflush(stdout);
}

static void send_seq(actor_t *self, const actor_pid_t *to, uint64_t seq, size_t payload_len)
{
    static uint8_t payload[4096];
    Actortest__Ping ping = ACTORTEST__PING__INIT;
    ping.has_seq = true;
    ping.seq = seq;
    ping.has_payload = payload_len > 0;
    ping.payload.data = payload;
    ping.payload.len = payload_len;
    actor_send(self, to, &ping.base);
}

static int compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double bench_quantile(double *samples, size_t n, double q)
{
    qsort(samples, n, sizeof(*samples), compare_doubles);
    size_t i = (size_t)(q * (double)(n - 1));
    return samples[i];
}

/* ---- echo: answers each Ping with a Pong of the same seq ---- */

static void echo_on_ping(actor_t *self, void *state, const actor_pid_t *from,
                         const ProtobufCMessage *msg)
{
    (void)state;
    Actortest__Pong pong = ACTORTEST__PONG__INIT;
    pong.has_seq = true;
    pong.seq = ((const Actortest__Ping *)msg)->seq;
    actor_send(self, from, &pong.base);
}

static const actor_handler_t echo_handlers[] = {{&actortest__ping__descriptor, echo_on_ping}};
const actor_ops_t bench_echo_ops = {.name = "echo", .handlers = echo_handlers, .handler_count = 1};

/* ---- pinger: N round trips with its partner, then posts `done` ---- */

typedef struct pinger {
    actor_pid_t partner;
    uint64_t left;
} pinger_t;

static void pinger_on_pong(actor_t *self, void *state, const actor_pid_t *from,
                           const ProtobufCMessage *msg)
{
    (void)msg;
    pinger_t *p = state;
    if (--p->left == 0)
        sem_post(&done);
    else
        send_seq(self, from, p->left, 0);
}

typedef struct pinger_start {
    actor_pid_t partner;
    uint64_t rounds;
} pinger_start_t;

static void call_pinger_start(actor_t *self, void *state, void *arg)
{
    pinger_start_t *start = arg;
    pinger_t *p = state;
    p->partner = start->partner;
    p->left = start->rounds;
    send_seq(self, &p->partner, p->left, 0);
}

static const actor_handler_t pinger_handlers[] = {{&actortest__pong__descriptor, pinger_on_pong}};
static const actor_ops_t pinger_ops = {.name = "pinger",
                                       .state_size = sizeof(pinger_t),
                                       .handlers = pinger_handlers,
                                       .handler_count = 1};

/* Runs `pairs` ping-pong pairs of `rounds` round trips each; returns seconds. */
static double run_pairs(int pairs, uint64_t rounds)
{
    actor_pid_t *pingers = calloc((size_t)pairs, sizeof(actor_pid_t));
    pinger_start_t *starts = calloc((size_t)pairs, sizeof(pinger_start_t));
    actor_pid_t *echoes = calloc((size_t)pairs, sizeof(actor_pid_t));
    for (int i = 0; i < pairs; i++) {
        actor_spawn(&bench_echo_ops, NULL, NULL, &echoes[i]);
        actor_spawn(&pinger_ops, NULL, NULL, &pingers[i]);
        starts[i] = (pinger_start_t){echoes[i], rounds};
    }
    actor_settle();
    double t0 = bench_now();
    for (int i = 0; i < pairs; i++)
        actor_dispatch(&pingers[i], call_pinger_start, &starts[i]);
    for (int i = 0; i < pairs; i++)
        sem_wait(&done);
    double seconds = bench_now() - t0;
    for (int i = 0; i < pairs; i++) {
        actor_terminate(&pingers[i]);
        actor_terminate(&echoes[i]);
    }
    actor_settle();
    free(pingers);
    free(starts);
    free(echoes);
    return seconds;
}

static void bench_pingpong(double scale)
{
    uint64_t rounds = (uint64_t)(2000000 * scale);
    double seconds = run_pairs(1, rounds);
    bench_emit("pingpong", (double)rounds / seconds, "round_trips_per_s");
}

static void bench_pairs_shape(double scale)
{
    const int pairs = 48;
    uint64_t total = (uint64_t)(10000000 * scale);
    uint64_t rounds = total / (2 * pairs);
    double seconds = run_pairs(pairs, rounds);
    bench_emit("pairs", (double)(rounds * 2 * pairs) / seconds, "msgs_per_s");
}

/* ---- fanin: senders stream to one sink, which posts `done` at the total ---- */

typedef struct sink {
    uint64_t left;
} sink_t;

static void sink_on_ping(actor_t *self, void *state, const actor_pid_t *from,
                         const ProtobufCMessage *msg)
{
    (void)self, (void)from, (void)msg;
    sink_t *s = state;
    if (--s->left == 0)
        sem_post(&done);
}

static void call_sink_expect(actor_t *self, void *state, void *arg)
{
    (void)self;
    ((sink_t *)state)->left = *(uint64_t *)arg;
}

static const actor_handler_t sink_handlers[] = {{&actortest__ping__descriptor, sink_on_ping}};
static const actor_ops_t sink_ops = {
    .name = "sink", .state_size = sizeof(sink_t), .handlers = sink_handlers, .handler_count = 1};

typedef struct streamer {
    actor_pid_t target;
    uint64_t left;
    size_t payload_len;
} streamer_t;

/* Sends a chunk, then yields the worker by dispatching the rest to itself. */
static void call_stream_chunk(actor_t *self, void *state, void *arg)
{
    (void)arg;
    streamer_t *s = state;
    for (int i = 0; i < 1000 && s->left > 0; i++)
        send_seq(self, &s->target, --s->left, s->payload_len);
    if (s->left > 0)
        actor_dispatch(actor_self(self), call_stream_chunk, NULL);
}

static void call_stream_start(actor_t *self, void *state, void *arg)
{
    streamer_t *s = state;
    *s = *(streamer_t *)arg;
    call_stream_chunk(self, state, NULL);
}

static const actor_ops_t streamer_ops = {.name = "streamer", .state_size = sizeof(streamer_t)};

/* Streams `each` messages from each of `senders` actors to `target`; the caller waits. */
void bench_stream(const actor_pid_t *target, int senders, uint64_t each, size_t payload_len)
{
    static streamer_t starts[16];
    for (int i = 0; i < senders; i++) {
        actor_pid_t pid;
        actor_spawn(&streamer_ops, NULL, NULL, &pid);
        starts[i] = (streamer_t){*target, each, payload_len};
        actor_dispatch(&pid, call_stream_start, &starts[i]);
    }
}

static void bench_fanin(double scale)
{
    uint64_t each = (uint64_t)(5000000 * scale), total = 2 * each;
    actor_pid_t sink;
    actor_spawn(&sink_ops, NULL, NULL, &sink);
    actor_dispatch(&sink, call_sink_expect, &total);
    actor_settle();
    double t0 = bench_now();
    bench_stream(&sink, 2, each, 0);
    sem_wait(&done);
    double seconds = bench_now() - t0;
    bench_emit("fanin", (double)total / seconds, "msgs_per_s");
    actor_terminate(&sink);
    actor_settle();
}

/* ---- spawn ---- */

static const actor_ops_t idle_ops = {.name = "idle"};

/* Spawns `live` actors, terminates them all, `rounds` times; returns microseconds per actor. */
static double spawn_rounds(uint64_t live, uint64_t rounds)
{
    actor_pid_t *pids = malloc(live * sizeof(*pids));
    double t0 = bench_now();
    for (uint64_t r = 0; r < rounds; r++) {
        for (uint64_t i = 0; i < live; i++)
            actor_spawn(&idle_ops, NULL, NULL, &pids[i]);
        for (uint64_t i = 0; i < live; i++)
            actor_terminate(&pids[i]);
        for (uint64_t i = 0; i < live; i++)
            actor_wait(&pids[i]);
    }
    double seconds = bench_now() - t0;
    free(pids);
    return seconds * 1e6 / (double)(live * rounds);
}

static void bench_spawn(double scale)
{
    uint64_t total = (uint64_t)(1000000 * scale);
    uint64_t live = total < 10000 ? total : 10000;
    bench_emit("spawn_10k_live", spawn_rounds(live, total / live), "us_each");
    bench_emit("spawn_1m_live", spawn_rounds(total, 1), "us_each");
}

static bool wants(const char *shapes, const char *shape)
{
    if (shapes == NULL)
        return true;
    size_t n = strlen(shape);
    for (const char *p = shapes; (p = strstr(p, shape)) != NULL; p += n) {
        bool starts = p == shapes || p[-1] == ',';
        bool ends = p[n] == '\0' || p[n] == ',';
        if (starts && ends)
            return true;
    }
    return false;
}

int main(int argc, char **argv)
{
    const char *shapes = NULL;
    double scale = 1.0;
    for (int i = 1; i < argc; i++) {
        if (strncmp(argv[i], "--shapes=", 9) == 0) {
            shapes = argv[i] + 9;
        } else if (strncmp(argv[i], "--scale=", 8) == 0) {
            scale = atof(argv[i] + 8);
        } else if (strcmp(argv[i], "--remote-peer") == 0) {
            return bench_remote_peer();
        } else {
            fprintf(stderr, "Unknown argument '%s'\nUsage: %s [--shapes=LIST] [--scale=F]\n",
                    argv[i], argv[0]);
            return 1;
        }
    }
    if (scale <= 0) {
        fprintf(stderr, "--scale must be positive\n");
        return 1;
    }
    sem_init(&done, 0, 0);
    actor_runtime_options_t opts;
    actor_runtime_options_init(&opts);
    opts.port = 0;
    if (actor_runtime_start(&opts) != ACTOR_OK) {
        fprintf(stderr, "Failed to start the runtime\n");
        return 1;
    }
    if (wants(shapes, "pingpong"))
        bench_pingpong(scale);
    if (wants(shapes, "fanin"))
        bench_fanin(scale);
    if (wants(shapes, "pairs"))
        bench_pairs_shape(scale);
    if (wants(shapes, "spawn"))
        bench_spawn(scale);
    if (wants(shapes, "remote"))
        bench_remote(scale, &done);
    actor_runtime_stop();
    if (wants(shapes, "nng_raw"))
        bench_nng_raw(scale);
    return 0;
}
