/* remote.c: the `remote` shape of actor-bench. A second process (this binary with
 * --remote-peer) holds a sink and an echo actor; this process streams one-way messages to the
 * sink, then measures request/response round trips against the echo. */
#include <arpa/inet.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "test_actor.pb-c.h"

extern char **environ;

#define PAYLOAD 64

/* ---- the peer: a sink that answers the last message (seq 0) with the count it received ---- */

typedef struct remote_sink {
    uint64_t received;
} remote_sink_t;

static void remote_sink_on_ping(actor_t *self, void *state, const actor_pid_t *from,
                                const ProtobufCMessage *msg)
{
    remote_sink_t *s = state;
    s->received++;
    if (((const Actortest__Ping *)msg)->seq != 0)
        return;
    /* The streamer that sent it has no use for answers: the count goes to the collector. */
    actor_pid_t collector;
    actor_pid_make(&collector, "collector", from->ip, from->port);
    Actortest__Pong pong = ACTORTEST__PONG__INIT;
    pong.has_seq = true;
    pong.seq = s->received;
    actor_send(self, &collector, &pong.base);
    s->received = 0;
}

static const actor_handler_t remote_sink_handlers[] = {
    {&actortest__ping__descriptor, remote_sink_on_ping}};
static const actor_ops_t remote_sink_ops = {.name = "sink",
                                            .state_size = sizeof(remote_sink_t),
                                            .handlers = remote_sink_handlers,
                                            .handler_count = 1};

int bench_remote_peer(void)
{
    actor_runtime_options_t opts;
    actor_runtime_options_init(&opts);
    opts.port = 0;
    if (actor_runtime_start(&opts) != ACTOR_OK ||
        actor_spawn(&remote_sink_ops, "sink", NULL, NULL) ||
        actor_spawn(&bench_echo_ops, "echo", NULL, NULL))
        return 1;
    uint32_t ip;
    uint16_t port;
    actor_runtime_address(&ip, &port);
    printf("%u\n", port);
    fflush(stdout);
    for (;;)
        pause(); /* until the parent kills it */
}

/* ---- this side ---- */

static sem_t *finished;

/* Receives the sink's answer to a stream: how many messages it got. */
typedef struct collector {
    uint64_t reported;
} collector_t;

static uint64_t reported_count;

static void collector_on_pong(actor_t *self, void *state, const actor_pid_t *from,
                              const ProtobufCMessage *msg)
{
    (void)self, (void)state, (void)from;
    reported_count = ((const Actortest__Pong *)msg)->seq;
    sem_post(finished);
}

/* Round-trip client: one request in flight, each latency recorded. */
typedef struct rtt_client {
    actor_pid_t echo;
    double *samples;
    uint64_t done, total;
    double sent_at;
} rtt_client_t;

static void rtt_send(actor_t *self, rtt_client_t *c)
{
    static uint8_t payload[PAYLOAD];
    Actortest__Ping ping = ACTORTEST__PING__INIT;
    ping.has_seq = true;
    ping.seq = c->done;
    ping.has_payload = true;
    ping.payload.data = payload;
    ping.payload.len = PAYLOAD;
    c->sent_at = bench_now();
    actor_send(self, &c->echo, &ping.base);
}

static void rtt_on_pong(actor_t *self, void *state, const actor_pid_t *from,
                        const ProtobufCMessage *msg)
{
    (void)from, (void)msg;
    rtt_client_t *c = state;
    c->samples[c->done++] = (bench_now() - c->sent_at) * 1e6;
    if (c->done == c->total)
        sem_post(finished);
    else
        rtt_send(self, c);
}

static void call_rtt_start(actor_t *self, void *state, void *arg)
{
    rtt_client_t *c = state;
    *c = *(rtt_client_t *)arg;
    rtt_send(self, c);
}

static void call_rtt_peek(actor_t *self, void *state, void *arg)
{
    (void)self;
    *(rtt_client_t *)arg = *(rtt_client_t *)state;
}

static const actor_handler_t collector_handlers[] = {
    {&actortest__pong__descriptor, collector_on_pong}};
static const actor_ops_t collector_ops = {.name = "collector",
                                          .state_size = sizeof(collector_t),
                                          .handlers = collector_handlers,
                                          .handler_count = 1};
static const actor_handler_t rtt_handlers[] = {{&actortest__pong__descriptor, rtt_on_pong}};
static const actor_ops_t rtt_ops = {.name = "rtt",
                                    .state_size = sizeof(rtt_client_t),
                                    .handlers = rtt_handlers,
                                    .handler_count = 1};

static uint16_t spawn_peer(pid_t *child)
{
    int fds[2];
    if (pipe(fds) != 0)
        return 0;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fds[1], 1);
    posix_spawn_file_actions_addclose(&actions, fds[0]);
    char *argv[] = {"actor-bench", "--remote-peer", NULL};
    int rv = posix_spawn(child, "/proc/self/exe", &actions, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    close(fds[1]);
    char line[32] = {0};
    FILE *f = fdopen(fds[0], "r");
    char *got = rv == 0 ? fgets(line, sizeof(line), f) : NULL;
    fclose(f);
    return got ? (uint16_t)atoi(line) : 0;
}

/* Waits for the peer's answer, at most a minute, so a lost message cannot hang the bench. */
static bool wait_finished(void)
{
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += 60;
    return sem_timedwait(finished, &deadline) == 0;
}

static void one_way(const actor_pid_t *sink, uint64_t total)
{
    actor_spawn(&collector_ops, "collector", NULL, NULL);
    double t0 = bench_now();
    bench_stream(sink, 1, total, PAYLOAD);
    if (!wait_finished()) {
        fprintf(stderr, "remote one-way: no answer from the peer\n");
        return;
    }
    double seconds = bench_now() - t0;
    if (reported_count != total)
        fprintf(stderr, "remote one-way: the peer got %llu of %llu\n",
                (unsigned long long)reported_count, (unsigned long long)total);
    bench_emit("remote_one_way", (double)reported_count / seconds, "msgs_per_s");
}

static void round_trips(const actor_pid_t *echo, uint64_t total)
{
    rtt_client_t start = {.echo = *echo, .samples = malloc(total * sizeof(double)), .total = total};
    actor_pid_t client;
    actor_spawn(&rtt_ops, NULL, NULL, &client);
    actor_dispatch(&client, call_rtt_start, &start);
    if (!wait_finished()) {
        fprintf(stderr, "remote round trips: no answer from the peer\n");
        return;
    }
    rtt_client_t end;
    actor_dispatch(&client, call_rtt_peek, &end);
    actor_settle();
    bench_emit("remote_rtt_p50", bench_quantile(end.samples, end.done, 0.50), "us");
    bench_emit("remote_rtt_p99", bench_quantile(end.samples, end.done, 0.99), "us");
    free(start.samples);
}

void bench_remote(double scale, sem_t *done)
{
    finished = done;
    pid_t child;
    uint16_t port = spawn_peer(&child);
    if (port == 0) {
        fprintf(stderr, "remote: the peer process did not start\n");
        return;
    }
    actor_pid_t sink, echo;
    actor_pid_make(&sink, "sink", INADDR_LOOPBACK, port);
    actor_pid_make(&echo, "echo", INADDR_LOOPBACK, port);
    one_way(&sink, (uint64_t)(2000000 * scale));
    round_trips(&echo, (uint64_t)(100000 * scale));
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);
}
