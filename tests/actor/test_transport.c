/* Tests of the transport between two OS processes: this binary re-executes itself with --peer to
 * run an echo actor in a second process, or with --send-and-stop to send a burst to this process
 * and stop its runtime at once (what is queued must still arrive). The relink tests play the peer
 * on raw sockets instead, so that a stream can be left unread, as a partition leaves it.
 * Multi-process tests cannot avoid waiting: they wait on a condition with a deadline, never a
 * fixed sleep.
 *
 * The same tests run once per pair of engines (ctest registers each): TEST_TRANSPORT names this
 * process's engine and TEST_PEER_TRANSPORT the peer processes' ("nng", the default, or
 * "io_loop"), so both engines are tested alone and talking to each other. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <arpa/inet.h>
#include <malloc.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "actor/actor.h"
#include "actor/frame.h"
#include "test_actor.pb-c.h"

extern char **environ;

/* ---- engines ---- */

static actor_transport_engine_t engine_from(const char *variable)
{
    const char *name = getenv(variable);
    return name != NULL && strcmp(name, "io_loop") == 0 ? ACTOR_TRANSPORT_IO_LOOP
                                                        : ACTOR_TRANSPORT_NNG;
}

/* The engine of the test process (peer false) or of a peer process. */
static actor_transport_engine_t engine_of(bool peer)
{
    return engine_from(peer && getenv("TEST_PEER_TRANSPORT") != NULL ? "TEST_PEER_TRANSPORT"
                                                                     : "TEST_TRANSPORT");
}

static void options_for(actor_runtime_options_t *opts, bool peer)
{
    actor_runtime_options_init(opts);
    opts->transport = engine_of(peer);
}

/* ---- the peer process ---- */

static void echo_on_ping(actor_t *self, void *state, const actor_pid_t *from,
                         const ProtobufCMessage *msg)
{
    (void)state;
    const Actortest__Ping *ping = (const Actortest__Ping *)msg;
    Actortest__Pong pong = ACTORTEST__PONG__INIT;
    pong.has_seq = true;
    pong.seq = ping->seq;
    pong.has_payload = ping->has_payload;
    pong.payload = ping->payload;
    actor_send(self, from, &pong.base);
}

static const actor_handler_t echo_handlers[] = {{&actortest__ping__descriptor, echo_on_ping}};
static const actor_ops_t echo_ops = {.name = "echo", .handlers = echo_handlers, .handler_count = 1};

static int run_peer(int listen_port)
{
    actor_runtime_options_t opts;
    options_for(&opts, true);
    opts.workers = 1;
    opts.port = listen_port;
    opts.max_message_bytes = 1 << 20;
    if (actor_runtime_start(&opts) != ACTOR_OK)
        return 1;
    if (actor_spawn(&echo_ops, "echo", NULL, NULL) != ACTOR_OK)
        return 1;
    uint32_t ip;
    uint16_t port;
    actor_runtime_address(&ip, &port);
    printf("%u\n", port);
    fflush(stdout);
    for (;;)
        pause(); /* until the test kills it */
}

/* ---- a process that sends and stops at once ---- */

#define FLUSH_PINGS   2000
#define FLUSH_PAYLOAD (8u << 10)

static struct {
    pthread_mutex_t lock;
    pthread_cond_t cv;
    bool sent;
    actor_pid_t sink;
} sender_ = {.lock = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};

/* The last word, sent from fini as the scheduler driver sends its TEARDOWN. */
static void sender_fini(actor_t *self, void *state)
{
    (void)state;
    Actortest__Text bye = ACTORTEST__TEXT__INIT;
    bye.text = "bye";
    actor_send(self, &sender_.sink, &bye.base);
}

static const actor_ops_t sender_ops = {.name = "sender", .fini = sender_fini};

static void call_send_burst(actor_t *self, void *state, void *arg)
{
    (void)state, (void)arg;
    static uint8_t payload[FLUSH_PAYLOAD];
    for (uint64_t i = 0; self != NULL && i < FLUSH_PINGS; i++) {
        Actortest__Ping ping = ACTORTEST__PING__INIT;
        ping.has_seq = true;
        ping.seq = i + 1;
        ping.has_payload = true;
        ping.payload.data = payload;
        ping.payload.len = sizeof(payload);
        actor_send(self, &sender_.sink, &ping.base);
    }
    pthread_mutex_lock(&sender_.lock);
    sender_.sent = true;
    pthread_cond_broadcast(&sender_.cv);
    pthread_mutex_unlock(&sender_.lock);
}

/* Sends FLUSH_PINGS pings of FLUSH_PAYLOAD bytes to "sink" at sink_port, then stops the runtime
 * as soon as they are queued, and exits 0. */
static int run_send_and_stop(int sink_port)
{
    actor_runtime_options_t opts;
    options_for(&opts, true);
    opts.workers = 1;
    opts.port = 0;
    if (actor_runtime_start(&opts) != ACTOR_OK)
        return 1;
    actor_pid_make(&sender_.sink, "sink", INADDR_LOOPBACK, (uint16_t)sink_port);
    actor_pid_t sender;
    if (actor_spawn(&sender_ops, NULL, NULL, &sender) != ACTOR_OK ||
        actor_dispatch(&sender, call_send_burst, NULL) != ACTOR_OK)
        return 1;
    pthread_mutex_lock(&sender_.lock);
    while (!sender_.sent)
        pthread_cond_wait(&sender_.cv, &sender_.lock);
    pthread_mutex_unlock(&sender_.lock);
    actor_runtime_stop();
    return 0;
}

/* ---- the test process ---- */

static struct {
    pthread_mutex_t lock;
    pthread_cond_t cv;
    uint64_t pongs, out_of_order, last_seq;
    int exits;
} sync_ = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, 0, 0};

static void client_on_pong(actor_t *self, void *state, const actor_pid_t *from,
                           const ProtobufCMessage *msg)
{
    (void)self, (void)state, (void)from;
    uint64_t seq = ((const Actortest__Pong *)msg)->seq;
    pthread_mutex_lock(&sync_.lock);
    if (seq != sync_.last_seq + 1)
        sync_.out_of_order++;
    sync_.last_seq = seq;
    sync_.pongs++;
    pthread_cond_broadcast(&sync_.cv);
    pthread_mutex_unlock(&sync_.lock);
}

static void client_exited(actor_t *self, void *state, const actor_pid_t *pid)
{
    (void)self, (void)state, (void)pid;
    pthread_mutex_lock(&sync_.lock);
    sync_.exits++;
    pthread_cond_broadcast(&sync_.cv);
    pthread_mutex_unlock(&sync_.lock);
}

static const actor_handler_t client_handlers[] = {{&actortest__pong__descriptor, client_on_pong}};
static const actor_ops_t client_ops = {
    .name = "client", .exited = client_exited, .handlers = client_handlers, .handler_count = 1};

typedef struct fixture {
    pid_t child;
    uint16_t port;
    actor_pid_t echo, client;
} fixture_t;

/* Starts the peer process on `port` (0: any) and returns the port it listens on. */
static uint16_t start_peer_on(pid_t *child, uint16_t port)
{
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fds[1], 1);
    posix_spawn_file_actions_addclose(&actions, fds[0]);
    char port_text[8];
    snprintf(port_text, sizeof(port_text), "%u", port);
    char *argv[] = {"test_transport", "--peer", port_text, NULL};
    assert_int_equal(posix_spawn(child, "/proc/self/exe", &actions, NULL, argv, environ), 0);
    posix_spawn_file_actions_destroy(&actions);
    close(fds[1]);
    char line[32] = {0};
    FILE *f = fdopen(fds[0], "r");
    assert_non_null(fgets(line, sizeof(line), f));
    fclose(f);
    return (uint16_t)atoi(line);
}

static uint16_t start_peer(pid_t *child)
{
    return start_peer_on(child, 0);
}

/* This process's runtime (one worker, a free actor port) with the client actor. */
static int start_client(fixture_t *fx)
{
    actor_runtime_options_t opts;
    options_for(&opts, false);
    opts.workers = 1;
    opts.port = 0;
    if (actor_runtime_start(&opts) != ACTOR_OK)
        return -1;
    return actor_spawn(&client_ops, NULL, NULL, &fx->client) == ACTOR_OK ? 0 : -1;
}

static int setup(void **state)
{
    fixture_t *fx = calloc(1, sizeof(*fx));
    fx->port = start_peer(&fx->child);
    if (start_client(fx) != 0)
        return -1;
    actor_pid_make(&fx->echo, "echo", INADDR_LOOPBACK, fx->port);
    pthread_mutex_lock(&sync_.lock);
    sync_.pongs = sync_.out_of_order = sync_.last_seq = 0;
    sync_.exits = 0;
    pthread_mutex_unlock(&sync_.lock);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *fx = *state;
    actor_runtime_stop();
    kill(fx->child, SIGKILL);
    waitpid(fx->child, NULL, 0);
    free(fx);
    return 0;
}

/* Waits until *counter reaches want, at most `seconds`; returns the value reached. */
static uint64_t wait_for(const void *counter, bool is_int, uint64_t want, int seconds)
{
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += seconds;
    pthread_mutex_lock(&sync_.lock);
    uint64_t value;
    for (;;) {
        value = is_int ? (uint64_t) * (const int *)counter : *(const uint64_t *)counter;
        if (value >= want || pthread_cond_timedwait(&sync_.cv, &sync_.lock, &deadline) != 0)
            break;
    }
    value = is_int ? (uint64_t) * (const int *)counter : *(const uint64_t *)counter;
    pthread_mutex_unlock(&sync_.lock);
    return value;
}

typedef struct burst {
    actor_pid_t to;
    uint64_t first, count;
} burst_t;

static void call_send_pings(actor_t *self, void *state, void *arg)
{
    (void)state;
    burst_t *b = arg;
    for (uint64_t i = 0; self != NULL && i < b->count; i++) {
        Actortest__Ping ping = ACTORTEST__PING__INIT;
        ping.has_seq = true;
        ping.seq = b->first + i;
        actor_send(self, &b->to, &ping.base);
    }
    free(b);
}

static void send_pings(fixture_t *fx, uint64_t first, uint64_t count)
{
    burst_t *b = malloc(sizeof(*b));
    *b = (burst_t){fx->echo, first, count};
    assert_int_equal(actor_dispatch(&fx->client, call_send_pings, b), ACTOR_OK);
}

static void test_messages_cross_processes_in_order(void **state)
{
    fixture_t *fx = *state;
    send_pings(fx, 1, 20000);
    assert_int_equal(wait_for(&sync_.pongs, false, 20000, 30), 20000);
    assert_int_equal(sync_.out_of_order, 0);
    actor_runtime_stats_t s;
    actor_runtime_stats(&s);
    assert_true(s.remote_sent >= 20000);
    assert_true(s.remote_received >= 20000);
}

/* Established TCP streams from or to `port` on this host (both ends of a loopback stream count). */
static int tcp_streams_of(uint16_t port)
{
    FILE *f = fopen("/proc/net/tcp", "r");
    assert_non_null(f);
    char line[512];
    int count = 0;
    while (fgets(line, sizeof(line), f) != NULL) {
        unsigned local_port, remote_port, st;
        if (sscanf(line, " %*d: %*8x:%4x %*8x:%4x %2x", &local_port, &remote_port, &st) == 3 &&
            st == 1 && (local_port == port || remote_port == port))
            count++;
    }
    fclose(f);
    return count;
}

/* Whether a local (abstract Unix) listener for 127.0.0.1:port is listed. */
static bool local_listener_of(uint16_t port)
{
    char want[64];
    snprintf(want, sizeof(want), "@mesos-actor/127.0.0.1:%u\n", port);
    FILE *f = fopen("/proc/net/unix", "r");
    assert_non_null(f);
    char line[512];
    bool found = false;
    while (!found && fgets(line, sizeof(line), f) != NULL) {
        size_t len = strlen(line), n = strlen(want);
        found = len >= n && strcmp(line + len - n, want) == 0;
    }
    fclose(f);
    return found;
}

/* Two processes on the light engine talk over a local (Unix) stream, with no TCP stream between
 * them; with nng at either end they use TCP, as before. */
static void test_local_peers_stream_over_unix_sockets(void **state)
{
    fixture_t *fx = *state;
    send_pings(fx, 1, 100);
    assert_int_equal(wait_for(&sync_.pongs, false, 100, 30), 100);
    bool peer_light = engine_of(true) == ACTOR_TRANSPORT_IO_LOOP;
    assert_int_equal(local_listener_of(fx->port), peer_light);
    if (peer_light && engine_of(false) == ACTOR_TRANSPORT_IO_LOOP)
        assert_int_equal(tcp_streams_of(fx->port), 0);
    else
        assert_true(tcp_streams_of(fx->port) > 0);
}

/* Opens a raw TCP connection to the peer's actor port. */
static int raw_connect(uint16_t port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    return fd;
}

static void write_all(int fd, const void *data, size_t len)
{
    assert_int_equal(write(fd, data, len), (ssize_t)len);
}

static void test_bad_input_from_a_peer_leaves_others_working(void **state)
{
    fixture_t *fx = *state;
    /* Garbage instead of a preamble. */
    int fd = raw_connect(fx->port);
    write_all(fd, "GET / HTTP/1.1\r\n\r\n", 18);
    close(fd);
    /* A record over the peer's 1 MiB limit, then the connection drops mid-way. */
    fd = raw_connect(fx->port);
    write_all(fd, FRAME_PREAMBLE, FRAME_PREAMBLE_LEN);
    write_all(fd, "\x00\x00\x00\x10", 4);
    close(fd);
    /* A message of a type the echo actor has no handler for, and one whose payload is not a
     * valid Ping, then a valid record for an actor that does not exist. */
    fd = raw_connect(fx->port);
    uint8_t buf[512];
    memcpy(buf, FRAME_PREAMBLE, FRAME_PREAMBLE_LEN);
    size_t at = FRAME_PREAMBLE_LEN;
    uint8_t *p = frame_record_write_header(buf + at, "x@127.0.0.1:1", 13, "echo", 4,
                                           "actortest.Unknown", 17, 0);
    at = (size_t)(p - buf);
    p = frame_record_write_header(buf + at, "x@127.0.0.1:1", 13, "echo", 4, "actortest.Ping", 14,
                                  2);
    memcpy(p, "\x0a\x50", 2);
    at = (size_t)(p - buf) + 2;
    p = frame_record_write_header(buf + at, "x@127.0.0.1:1", 13, "nobody", 6, "actortest.Ping", 14,
                                  0);
    at = (size_t)(p - buf);
    write_all(fd, buf, at);
    close(fd);

    send_pings(fx, 1, 10);
    assert_int_equal(wait_for(&sync_.pongs, false, 10, 30), 10);
}

static void call_link(actor_t *self, void *state, void *arg)
{
    (void)state;
    if (self != NULL)
        actor_link(self, arg);
}

static void test_exited_when_peer_is_killed(void **state)
{
    fixture_t *fx = *state;
    send_pings(fx, 1, 1);
    assert_int_equal(wait_for(&sync_.pongs, false, 1, 30), 1);
    actor_dispatch(&fx->client, call_link, &fx->echo);
    actor_settle();

    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    kill(fx->child, SIGKILL);
    assert_int_equal(wait_for(&sync_.exits, true, 1, 5), 1);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double seconds = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    print_message("exited %.3f ms after kill -9\n", seconds * 1e3);
    assert_true(seconds < 1.0);
}

static void test_exited_when_peer_cannot_be_reached(void **state)
{
    fixture_t *fx = *state;
    kill(fx->child, SIGKILL);
    waitpid(fx->child, NULL, 0);
    actor_dispatch(&fx->client, call_link, &fx->echo);
    assert_int_equal(wait_for(&sync_.exits, true, 1, 5), 1);
}

/* An agent restarts on the same port: after the break, messages flow again on a new stream. */
static void test_messages_flow_again_after_the_peer_restarts(void **state)
{
    fixture_t *fx = *state;
    send_pings(fx, 1, 100);
    assert_int_equal(wait_for(&sync_.pongs, false, 100, 30), 100);
    kill(fx->child, SIGKILL);
    waitpid(fx->child, NULL, 0);
    send_pings(fx, 101, 5); /* into the broken stream or a refused dial: dropped */
    actor_settle();
    assert_int_equal(start_peer_on(&fx->child, fx->port), fx->port);
    /* A few rounds, since the first sends may still meet the old stream's break. */
    uint64_t want = 100, seq = 1000;
    for (int round = 0; round < 50 && sync_.pongs < want + 10; round++) {
        pthread_mutex_lock(&sync_.lock);
        sync_.last_seq = seq - 1; /* restart the order check at this burst */
        pthread_mutex_unlock(&sync_.lock);
        send_pings(fx, seq, 10);
        wait_for(&sync_.pongs, false, sync_.pongs + 10, 1);
        seq += 10;
    }
    assert_true(sync_.pongs >= want + 10);
}

/* ---- flushing at stop ---- */

static struct {
    uint64_t pings, bytes, byes;
} sink_;

static void sink_on_ping(actor_t *self, void *state, const actor_pid_t *from,
                         const ProtobufCMessage *msg)
{
    (void)self, (void)state, (void)from;
    pthread_mutex_lock(&sync_.lock);
    sink_.pings++;
    sink_.bytes += ((const Actortest__Ping *)msg)->payload.len;
    pthread_cond_broadcast(&sync_.cv);
    pthread_mutex_unlock(&sync_.lock);
}

static void sink_on_text(actor_t *self, void *state, const actor_pid_t *from,
                         const ProtobufCMessage *msg)
{
    (void)self, (void)state, (void)from;
    pthread_mutex_lock(&sync_.lock);
    sink_.byes += strcmp(((const Actortest__Text *)msg)->text, "bye") == 0;
    pthread_cond_broadcast(&sync_.cv);
    pthread_mutex_unlock(&sync_.lock);
}

static const actor_handler_t sink_handlers[] = {{&actortest__ping__descriptor, sink_on_ping},
                                                {&actortest__text__descriptor, sink_on_text}};
static const actor_ops_t sink_ops = {.name = "sink", .handlers = sink_handlers, .handler_count = 2};

/* This process alone (no echo peer): a runtime on a free port, with a client actor. */
static int setup_alone(void **state)
{
    fixture_t *fx = calloc(1, sizeof(*fx));
    fx->child = -1;
    memset(&sink_, 0, sizeof(sink_));
    pthread_mutex_lock(&sync_.lock);
    sync_.pongs = sync_.out_of_order = sync_.last_seq = 0;
    sync_.exits = 0;
    pthread_mutex_unlock(&sync_.lock);
    *state = fx;
    return start_client(fx);
}

static int teardown_alone(void **state)
{
    fixture_t *fx = *state;
    actor_runtime_stop();
    if (fx->child > 0) {
        kill(fx->child, SIGKILL);
        waitpid(fx->child, NULL, 0);
    }
    free(fx);
    return 0;
}

/* A process that queues messages for a peer and stops its runtime at once: everything queued,
 * including what an actor sends from its fini, reaches the peer before the process exits. */
static void test_stop_flushes_queued_messages(void **state)
{
    fixture_t *fx = *state;
    assert_int_equal(actor_spawn(&sink_ops, "sink", NULL, NULL), ACTOR_OK);
    uint32_t ip;
    uint16_t port;
    actor_runtime_address(&ip, &port);
    char port_text[8];
    snprintf(port_text, sizeof(port_text), "%u", port);
    char *argv[] = {"test_transport", "--send-and-stop", port_text, NULL};
    assert_int_equal(posix_spawn(&fx->child, "/proc/self/exe", NULL, NULL, argv, environ), 0);
    int status = 0;
    assert_int_equal(waitpid(fx->child, &status, 0), fx->child);
    fx->child = -1;
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    /* The child has exited: whatever it flushed is in this process's socket buffers. */
    assert_int_equal(wait_for(&sink_.byes, false, 1, 10), 1);
    assert_int_equal(wait_for(&sink_.pings, false, FLUSH_PINGS, 10), FLUSH_PINGS);
    assert_int_equal(sink_.bytes, (uint64_t)FLUSH_PINGS * FLUSH_PAYLOAD);
}

/* A socket bound to a free port of 127.0.0.1 and not listening: a dial to the port is refused,
 * and the port stays taken. */
static int bound_port(uint16_t *port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    socklen_t len = sizeof(sa);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
    *port = ntohs(sa.sin_port);
    return fd;
}

/* A listening socket on a free loopback port with room for `backlog` unaccepted connections. */
static int raw_listener(uint16_t *port, int backlog)
{
    int fd = bound_port(port);
    assert_int_equal(listen(fd, backlog), 0);
    return fd;
}

/* A listening socket that never accepts: the kernel completes the handshake, then the data
 * stops flowing once the socket buffers are full. */
static int silent_listener(uint16_t *port)
{
    return raw_listener(port, 4);
}

/* ---- relinking ---- */

/* A peer played by the test on raw sockets: it accepts the client's streams and decodes the
 * Pings on them, or leaves a stream unread, as a partition leaves it. */
typedef struct raw_stream {
    int fd;
    frame_decoder_t decoder;
    uint64_t seqs[64]; /* the Pings read, in order */
    size_t count;
} raw_stream_t;

static void raw_on_record(const frame_record_t *r, void *arg)
{
    raw_stream_t *rs = arg;
    assert_int_equal(r->type_len, strlen("actortest.Ping"));
    Actortest__Ping *ping = actortest__ping__unpack(NULL, r->payload_len, r->payload);
    assert_non_null(ping);
    assert_true(rs->count < sizeof(rs->seqs) / sizeof(rs->seqs[0]));
    rs->seqs[rs->count++] = ping->seq;
    actortest__ping__free_unpacked(ping, NULL);
}

/* Accepts the next stream, waiting at most timeout_ms; returns whether one came. */
static bool raw_accept(int listener, raw_stream_t *rs, int timeout_ms)
{
    struct pollfd pfd = {.fd = listener, .events = POLLIN};
    memset(rs, 0, sizeof(*rs));
    rs->fd = -1;
    if (poll(&pfd, 1, timeout_ms) != 1)
        return false;
    rs->fd = accept(listener, NULL, NULL);
    frame_decoder_init(&rs->decoder, 1 << 20);
    return rs->fd >= 0;
}

/* Reads until the Ping `seq` came or timeout_ms passed; returns how many Pings came. */
static size_t raw_read(raw_stream_t *rs, uint64_t seq, int timeout_ms)
{
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    while (rs->count == 0 || rs->seqs[rs->count - 1] != seq) {
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        int left = timeout_ms -
                   (int)((now.tv_sec - t0.tv_sec) * 1000 + (now.tv_nsec - t0.tv_nsec) / 1000000);
        struct pollfd pfd = {.fd = rs->fd, .events = POLLIN};
        if (left <= 0 || poll(&pfd, 1, left) != 1)
            break;
        uint8_t buf[4096];
        ssize_t n = read(rs->fd, buf, sizeof(buf));
        if (n <= 0)
            break;
        assert_int_equal(frame_decoder_feed(&rs->decoder, buf, (size_t)n, raw_on_record, rs),
                         ACTOR_OK);
    }
    return rs->count;
}

static void raw_close(raw_stream_t *rs)
{
    if (rs->fd >= 0)
        close(rs->fd);
    rs->fd = -1;
    frame_decoder_fini(&rs->decoder);
}

typedef struct relink_call {
    actor_pid_t to;
    bool link, relink; /* before sending: actor_link, then actor_relink */
    uint64_t first, count;
} relink_call_t;

static void call_relink_and_send(actor_t *self, void *state, void *arg)
{
    (void)state;
    relink_call_t *c = arg;
    if (self != NULL && c->link)
        actor_link(self, &c->to);
    if (self != NULL && c->relink)
        assert_int_equal(actor_relink(self, &c->to), ACTOR_OK);
    for (uint64_t i = 0; self != NULL && i < c->count; i++) {
        Actortest__Ping ping = ACTORTEST__PING__INIT;
        ping.has_seq = true;
        ping.seq = c->first + i;
        actor_send(self, &c->to, &ping.base);
    }
    free(c);
}

static void relink_and_send(fixture_t *fx, const actor_pid_t *to, bool link, bool relink,
                            uint64_t first, uint64_t count)
{
    relink_call_t *c = malloc(sizeof(*c));
    *c = (relink_call_t){*to, link, relink, first, count};
    assert_int_equal(actor_dispatch(&fx->client, call_relink_and_send, c), ACTOR_OK);
    actor_settle();
}

/* The stream to a peer goes stale (the peer reads nothing more from it, as when a partition
 * swallows its packets): what is sent after a relink arrives at once on a new stream, which
 * without the relink would wait behind the stale one for good. The links stay through the
 * relink, one per linker however often it relinks, and report the new stream's break. */
static void test_relink_replaces_a_stale_stream(void **state)
{
    fixture_t *fx = *state;
    uint16_t port;
    int listener = raw_listener(&port, 4);
    actor_pid_t peer;
    actor_pid_make(&peer, "peer", INADDR_LOOPBACK, port);

    relink_and_send(fx, &peer, true, false, 1, 1);
    raw_stream_t stale, fresh;
    assert_true(raw_accept(listener, &stale, 5000));
    assert_int_equal(raw_read(&stale, 1, 5000), 1);
    relink_and_send(fx, &peer, false, false, 2, 1); /* into the stream nobody reads any more */

    relink_and_send(fx, &peer, false, true, 3, 2);
    assert_true(raw_accept(listener, &fresh, 5000));
    size_t n = raw_read(&fresh, 4, 5000);
    /* 2 too if it was still queued, not yet handed to the stale stream, at the relink. */
    assert_true(n == 2 || (n == 3 && fresh.seqs[0] == 2));
    assert_int_equal(fresh.seqs[n - 2], 3);
    assert_int_equal(fresh.seqs[n - 1], 4);
    relink_and_send(fx, &peer, false, true, 5, 1); /* a second relink: a third stream */
    raw_close(&fresh);
    assert_true(raw_accept(listener, &fresh, 5000));
    assert_int_equal(raw_read(&fresh, 5, 5000), 1);
    assert_int_equal(fresh.seqs[0], 5);
    assert_int_equal(sync_.exits, 0); /* closing the streams for relinks told nobody */

    raw_close(&fresh); /* the peer goes away: one exit for the link and the relinks */
    assert_int_equal(wait_for(&sync_.exits, true, 1, 5), 1);
    /* The break told every linker under the peer's lock, which this send takes after it. */
    relink_and_send(fx, &peer, false, false, 6, 1);
    assert_int_equal(sync_.exits, 1);
    raw_close(&stale);
    close(listener);
}

static double seconds_since(const struct timespec *t0);

/* Every stream the client opens to a raw peer, read as they come. */
typedef struct raw_peer {
    int listener;
    raw_stream_t streams[64];
    size_t count;
} raw_peer_t;

/* Whether any stream brought the Ping `seq`. */
static bool raw_peer_got(const raw_peer_t *rp, uint64_t seq)
{
    for (size_t i = 0; i < rp->count; i++) {
        for (size_t k = 0; k < rp->streams[i].count; k++) {
            if (rp->streams[i].seqs[k] == seq)
                return true;
        }
    }
    return false;
}

/* Reads what one stream has; closes it at its end. */
static void raw_peer_read(raw_stream_t *rs)
{
    uint8_t buf[4096];
    ssize_t n = read(rs->fd, buf, sizeof(buf));
    if (n <= 0) {
        close(rs->fd); /* the client closed it for a relink */
        rs->fd = -1;
        return;
    }
    assert_int_equal(frame_decoder_feed(&rs->decoder, buf, (size_t)n, raw_on_record, rs), ACTOR_OK);
}

/* Accepts and reads every stream until the Ping `seq` came, or timeout_ms passed (0: one look
 * at what has come). */
static void raw_peer_serve(raw_peer_t *rp, uint64_t seq, int timeout_ms)
{
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    do {
        struct pollfd pfds[65] = {{.fd = rp->listener, .events = POLLIN}};
        for (size_t i = 0; i < rp->count; i++)
            pfds[i + 1] = (struct pollfd){.fd = rp->streams[i].fd, .events = POLLIN};
        if (poll(pfds, rp->count + 1, timeout_ms > 0 ? 10 : 0) <= 0)
            continue;
        for (size_t i = 0; i < rp->count; i++) {
            if (pfds[i + 1].revents != 0 && rp->streams[i].fd >= 0)
                raw_peer_read(&rp->streams[i]);
        }
        if ((pfds[0].revents & POLLIN) && rp->count < 64)
            assert_true(raw_accept(rp->listener, &rp->streams[rp->count++], 0));
    } while (!raw_peer_got(rp, seq) && seconds_since(&t0) * 1000 < timeout_ms);
}

/* Relinks in quick succession, each meeting the stream before being dialled, written or closed:
 * the queue is kept through all of them, each stream carries its Pings in order, what is sent
 * after the last relink arrives, and nobody is told the peer exited. */
static void test_relinks_in_quick_succession(void **state)
{
    fixture_t *fx = *state;
    raw_peer_t rp = {0};
    uint16_t port;
    rp.listener = raw_listener(&port, 64);
    actor_pid_t peer;
    actor_pid_make(&peer, "peer", INADDR_LOOPBACK, port);
    for (uint64_t round = 0; round < 30; round++) {
        relink_and_send(fx, &peer, round == 0, true, 2 * round + 1, 2);
        raw_peer_serve(&rp, 0, 0);
    }
    raw_peer_serve(&rp, 60, 5000);
    assert_true(raw_peer_got(&rp, 60));
    assert_int_equal(sync_.exits, 0);
    size_t got = 0;
    for (size_t i = 0; i < rp.count; i++) {
        raw_stream_t *rs = &rp.streams[i];
        for (size_t k = 1; k < rs->count; k++)
            assert_true(rs->seqs[k] > rs->seqs[k - 1]);
        got += rs->count;
        raw_close(rs);
    }
    print_message("%zu streams brought %zu of 60 pings\n", rp.count, got);
    close(rp.listener);
}

/* A peer whose process is gone (its stream broke) keeps no write buffers: an agent meets a new
 * peer for every executor it runs, and two buffers of 64 KiB each per gone executor would add up
 * to gigabytes. The heap in use grows by far less than that over many gone peers (checked
 * through mallinfo2, which ASan builds leave at zero). */
/* Sends ping `seq` (linking first if asked) to a new raw peer, which reads it and goes away. */
static void ping_raw_peer(fixture_t *fx, bool link, uint64_t seq)
{
    uint16_t port;
    int listener = raw_listener(&port, 4);
    actor_pid_t peer;
    actor_pid_make(&peer, "peer", INADDR_LOOPBACK, port);
    relink_and_send(fx, &peer, link, false, seq, 1);
    raw_stream_t rs;
    assert_true(raw_accept(listener, &rs, 5000));
    assert_int_equal(raw_read(&rs, seq, 5000), 1);
    raw_close(&rs); /* the peer "exits" */
    close(listener);
}

/* Links to and sends one ping to each of `count` raw peers, which read it and go away; returns
 * once every link reported the exit. */
static void meet_gone_peers(fixture_t *fx, int count)
{
    for (int i = 0; i < count; i++)
        ping_raw_peer(fx, true, 1);
    assert_int_equal(wait_for(&sync_.exits, true, (uint64_t)count, 10), (uint64_t)count);
}

static void test_gone_peers_keep_no_buffers(void **state)
{
    fixture_t *fx = *state;
    enum { PEERS = 100 };
    size_t before = mallinfo2().uordblks;
    meet_gone_peers(fx, PEERS);
    const size_t bound = PEERS * 16 * 1024; /* without the trim: PEERS * 128 KiB */
    size_t grown = 0;
    for (int tries = 0; tries < 500; tries++) { /* the trim follows the exit notice closely */
        size_t now = mallinfo2().uordblks;
        grown = now > before ? now - before : 0;
        if (grown < bound)
            break;
        poll(NULL, 0, 10);
    }
    print_message("heap in use grew by %zu bytes over %d gone peers\n", grown, PEERS);
    assert_true(grown < bound);
}

/* On the light engine, the record of a peer that went away (its stream closed, its links
 * reported, nothing queued) is freed by the engine's sweep within two sweeps: an agent meets a
 * new peer for every executor it runs. (The nng engine keeps its records.) */
static void test_gone_peers_are_forgotten(void **state)
{
    fixture_t *fx = *state;
    if (engine_of(false) != ACTOR_TRANSPORT_IO_LOOP)
        skip();
    enum { PEERS = 50 };
    actor_runtime_stats_t s;
    actor_runtime_stats(&s);
    uint64_t before = s.peers;
    meet_gone_peers(fx, PEERS);
    actor_runtime_stats(&s);
    assert_true(s.peers > before); /* the last one at least: it takes two sweeps, a second apart */
    for (int tries = 0; tries < 1000 && s.peers > before; tries++) {
        poll(NULL, 0, 10);
        actor_runtime_stats(&s);
    }
    assert_int_equal(s.peers, before);
    /* The table the sweep changed still serves new peers. */
    ping_raw_peer(fx, false, 7);
}

/* Plain threads (not actors) sending to peers that accept but never read, and to ports that
 * refuse, while the runtime stops under them: no sender may still be using a peer when the stop
 * frees it, nor hand an engine work for it afterwards (ASan builds catch either), and sends after
 * the stop are refused quietly. */
#define STOP_RACE_THREADS 4
#define STOP_RACE_PEERS   32
#define STOP_RACE_ROUNDS  20

static struct {
    actor_pid_t peers[STOP_RACE_PEERS];
    atomic_bool done;
    atomic_uint sent;
} stop_race_;

static void *stop_race_sender(void *unused)
{
    (void)unused;
    uint8_t payload[512] = {0};
    for (unsigned i = 0; !atomic_load(&stop_race_.done); i++) {
        Actortest__Ping ping = ACTORTEST__PING__INIT;
        ping.has_seq = true;
        ping.seq = i;
        ping.has_payload = true;
        ping.payload.data = payload;
        ping.payload.len = sizeof(payload);
        actor_send(NULL, &stop_race_.peers[i % STOP_RACE_PEERS], &ping.base);
        atomic_fetch_add(&stop_race_.sent, 1);
    }
    return NULL;
}

static void test_sends_from_threads_while_stopping(void **state)
{
    fixture_t *fx = *state;
    int sockets[STOP_RACE_PEERS];
    for (int i = 0; i < STOP_RACE_PEERS; i++) {
        uint16_t port;
        /* Half listen and never accept; half refuse: bound, not listening, so that the port
         * stays ours and no other test process that gets it meanwhile receives these pings. */
        sockets[i] = i % 2 == 0 ? raw_listener(&port, 64) : bound_port(&port);
        actor_pid_make(&stop_race_.peers[i], "sink", INADDR_LOOPBACK, port);
    }
    for (int round = 0; round < STOP_RACE_ROUNDS; round++) {
        if (round > 0)
            assert_int_equal(start_client(fx), 0);
        atomic_store(&stop_race_.done, false);
        atomic_store(&stop_race_.sent, 0);
        pthread_t threads[STOP_RACE_THREADS];
        for (int i = 0; i < STOP_RACE_THREADS; i++)
            assert_int_equal(pthread_create(&threads[i], NULL, stop_race_sender, NULL), 0);
        while (atomic_load(&stop_race_.sent) < 500)
            sched_yield();
        actor_runtime_stop();
        unsigned at_stop = atomic_load(&stop_race_.sent);
        while (atomic_load(&stop_race_.sent) < at_stop + 200)
            sched_yield(); /* sends after the stop */
        atomic_store(&stop_race_.done, true);
        for (int i = 0; i < STOP_RACE_THREADS; i++)
            pthread_join(threads[i], NULL);
    }
    for (int i = 0; i < STOP_RACE_PEERS; i++)
        close(sockets[i]);
}

typedef struct flood {
    actor_pid_t to;
    size_t count, size;
} flood_t;

static void call_flood(actor_t *self, void *state, void *arg)
{
    (void)state;
    flood_t *f = arg;
    uint8_t *payload = calloc(1, f->size);
    for (size_t i = 0; self != NULL && payload != NULL && i < f->count; i++) {
        Actortest__Ping ping = ACTORTEST__PING__INIT;
        ping.has_payload = true;
        ping.payload.data = payload;
        ping.payload.len = f->size;
        actor_send(self, &f->to, &ping.base);
    }
    free(payload);
    free(f);
}

static double seconds_since(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/* Stopping does not hang on peers that take nothing: one that refuses connections (its messages
 * are dropped at once), one that accepts none and lets its buffers fill (the flush gives up
 * after its bound, about a second). */
static void test_stop_is_bounded_when_peers_take_nothing(void **state)
{
    fixture_t *fx = *state;
    uint16_t silent_port, refused_port;
    int silent = silent_listener(&silent_port);
    int refused = silent_listener(&refused_port);
    close(refused); /* nothing listens there any more */
    flood_t *f = malloc(sizeof(*f));
    actor_pid_make(&f->to, "x", INADDR_LOOPBACK, silent_port);
    f->count = 32;
    f->size = 1u << 20; /* 32 MiB: more than loopback socket buffers hold */
    assert_int_equal(actor_dispatch(&fx->client, call_flood, f), ACTOR_OK);
    f = malloc(sizeof(*f));
    actor_pid_make(&f->to, "x", INADDR_LOOPBACK, refused_port);
    f->count = 4;
    f->size = 1024;
    assert_int_equal(actor_dispatch(&fx->client, call_flood, f), ACTOR_OK);
    actor_settle();
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    actor_runtime_stop();
    double took = seconds_since(&t0);
    print_message("stop took %.3f s\n", took);
    assert_true(took < 3.0);
    close(silent);
}

int main(int argc, char **argv)
{
    if (argc > 2 && strcmp(argv[1], "--peer") == 0)
        return run_peer(atoi(argv[2]));
    if (argc > 2 && strcmp(argv[1], "--send-and-stop") == 0)
        return run_send_and_stop(atoi(argv[2]));
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_messages_cross_processes_in_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_local_peers_stream_over_unix_sockets, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_input_from_a_peer_leaves_others_working, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_exited_when_peer_is_killed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_exited_when_peer_cannot_be_reached, setup, teardown),
        cmocka_unit_test_setup_teardown(test_messages_flow_again_after_the_peer_restarts, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_stop_flushes_queued_messages, setup_alone,
                                        teardown_alone),
        cmocka_unit_test_setup_teardown(test_stop_is_bounded_when_peers_take_nothing, setup_alone,
                                        teardown_alone),
        cmocka_unit_test_setup_teardown(test_relink_replaces_a_stale_stream, setup_alone,
                                        teardown_alone),
        cmocka_unit_test_setup_teardown(test_relinks_in_quick_succession, setup_alone,
                                        teardown_alone),
        cmocka_unit_test_setup_teardown(test_sends_from_threads_while_stopping, setup_alone,
                                        teardown_alone),
        cmocka_unit_test_setup_teardown(test_gone_peers_are_forgotten, setup_alone, teardown_alone),
        cmocka_unit_test_setup_teardown(test_gone_peers_keep_no_buffers, setup_alone,
                                        teardown_alone),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
