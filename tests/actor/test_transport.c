/* Tests of the transport between two OS processes: this binary re-executes itself with --peer to
 * run an echo actor in a second process. Multi-process tests cannot avoid waiting: they wait on
 * a condition with a deadline, never a fixed sleep. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <arpa/inet.h>
#include <pthread.h>
#include <signal.h>
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
    actor_runtime_options_init(&opts);
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

static int setup(void **state)
{
    fixture_t *fx = calloc(1, sizeof(*fx));
    fx->port = start_peer(&fx->child);
    actor_runtime_options_t opts;
    actor_runtime_options_init(&opts);
    opts.workers = 1;
    opts.port = 0;
    if (actor_runtime_start(&opts) != ACTOR_OK)
        return -1;
    actor_pid_make(&fx->echo, "echo", INADDR_LOOPBACK, fx->port);
    actor_spawn(&client_ops, NULL, NULL, &fx->client);
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

int main(int argc, char **argv)
{
    if (argc > 2 && strcmp(argv[1], "--peer") == 0)
        return run_peer(atoi(argv[2]));
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_messages_cross_processes_in_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_input_from_a_peer_leaves_others_working, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_exited_when_peer_is_killed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_exited_when_peer_cannot_be_reached, setup, teardown),
        cmocka_unit_test_setup_teardown(test_messages_flow_again_after_the_peer_restarts, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
