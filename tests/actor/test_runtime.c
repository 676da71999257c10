/* Tests of actor.h: spawn, send, dispatch, link, terminate, settle. Zero workers: the test
 * thread runs every actor inside actor_settle(), so each test is deterministic.
 *
 * The same tests run again with the actors on the runtime's I/O thread (actors_on_io_thread;
 * ctest registers that run with TEST_ACTORS_ON_IO_THREAD=1): one thread runs every actor there
 * too, in the same order, and actor_settle() waits for it; and with that loop on the test thread
 * (io_on_caller_thread; TEST_ACTORS_ON_IO_THREAD=caller), where actor_settle() runs the ready
 * actors and actor_wait() the loop. */
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "actor/actor.h"
#include "actor/io.h"
#include "test_actor.pb-c.h"

static bool on_io_thread; /* TEST_ACTORS_ON_IO_THREAD */
static bool on_caller;    /* TEST_ACTORS_ON_IO_THREAD=caller: the loop on the test thread */

/* ---- an echo actor: answers Ping with Pong carrying the same seq ---- */

typedef struct echo {
    int inits, pings;
    int *fini_count; /* outlives the actor */
} echo_t;

static void echo_init(actor_t *self, void *state, void *arg)
{
    (void)self;
    echo_t *e = state;
    e->inits++;
    e->fini_count = arg;
}

static void echo_fini(actor_t *self, void *state)
{
    (void)self;
    echo_t *e = state;
    if (e->fini_count != NULL)
        (*e->fini_count)++;
}

static void echo_on_ping(actor_t *self, void *state, const actor_pid_t *from,
                         const ProtobufCMessage *msg)
{
    echo_t *e = state;
    const Actortest__Ping *ping = (const Actortest__Ping *)msg;
    assert_ptr_equal(actor_state(self), state);
    e->pings++;
    Actortest__Pong pong = ACTORTEST__PONG__INIT;
    pong.has_seq = true;
    pong.seq = ping->seq;
    assert_int_equal(actor_send(self, from, &pong.base), ACTOR_OK);
}

static const actor_handler_t echo_handlers[] = {
    {&actortest__ping__descriptor, echo_on_ping},
};

static const actor_ops_t echo_ops = {
    .name = "echo",
    .state_size = sizeof(echo_t),
    .init = echo_init,
    .fini = echo_fini,
    .handlers = echo_handlers,
    .handler_count = 1,
};

/* ---- a client: sends pings, counts pongs, records exits ---- */

typedef struct client {
    uint64_t last_seq;
    int pongs;
    int exits;
    actor_pid_t exited;
} client_t;

static void client_on_pong(actor_t *self, void *state, const actor_pid_t *from,
                           const ProtobufCMessage *msg)
{
    (void)self, (void)from;
    client_t *c = state;
    c->pongs++;
    c->last_seq = ((const Actortest__Pong *)msg)->seq;
}

static void client_exited(actor_t *self, void *state, const actor_pid_t *pid)
{
    (void)self;
    client_t *c = state;
    c->exits++;
    c->exited = *pid;
}

static const actor_handler_t client_handlers[] = {
    {&actortest__pong__descriptor, client_on_pong},
};

static const actor_ops_t client_ops = {
    .name = "client",
    .state_size = sizeof(client_t),
    .exited = client_exited,
    .handlers = client_handlers,
    .handler_count = 1,
};

/* Dispatched into a client: sends one ping to the PID in arg. */
typedef struct ping_call {
    actor_pid_t to;
    uint64_t seq;
} ping_call_t;

static void call_send_ping(actor_t *self, void *state, void *arg)
{
    (void)state;
    ping_call_t *call = arg;
    Actortest__Ping ping = ACTORTEST__PING__INIT;
    ping.has_seq = true;
    ping.seq = call->seq;
    if (self != NULL)
        actor_send(self, &call->to, &ping.base);
}

/* Dispatched: copies the actor's state out so the test can read it. */
typedef struct peek {
    void *out;
    size_t size;
} peek_t;

static void call_peek(actor_t *self, void *state, void *arg)
{
    (void)self;
    peek_t *p = arg;
    if (state != NULL)
        memcpy(p->out, state, p->size);
}

static void peek_state(const actor_pid_t *pid, void *out, size_t size)
{
    peek_t p = {out, size};
    assert_int_equal(actor_dispatch(pid, call_peek, &p), ACTOR_OK);
    actor_settle();
}

static int setup(void **unused)
{
    (void)unused;
    actor_runtime_options_t opts;
    actor_runtime_options_init(&opts);
    opts.workers = 0;
    opts.actors_on_io_thread = on_io_thread;
    opts.io_on_caller_thread = on_caller;
    return actor_runtime_start(&opts) == ACTOR_OK ? 0 : -1;
}

static int teardown(void **unused)
{
    (void)unused;
    actor_runtime_stop();
    return 0;
}

static void test_ping_pong(void **unused)
{
    (void)unused;
    int finis = 0;
    actor_pid_t echo, client;
    assert_int_equal(actor_spawn(&echo_ops, NULL, &finis, &echo), ACTOR_OK);
    assert_int_equal(actor_spawn(&client_ops, NULL, NULL, &client), ACTOR_OK);
    for (uint64_t i = 1; i <= 100; i++) {
        ping_call_t call = {echo, i};
        assert_int_equal(actor_dispatch(&client, call_send_ping, &call), ACTOR_OK);
        actor_settle();
    }
    client_t c;
    peek_state(&client, &c, sizeof(c));
    assert_int_equal(c.pongs, 100);
    assert_int_equal(c.last_seq, 100);
    echo_t e;
    peek_state(&echo, &e, sizeof(e));
    assert_int_equal(e.inits, 1);
    assert_int_equal(e.pings, 100);

    actor_terminate(&echo);
    actor_wait(&echo);
    assert_int_equal(finis, 1);
}

static void test_generated_and_duplicate_ids(void **unused)
{
    (void)unused;
    actor_pid_t a, b, c;
    assert_int_equal(actor_spawn(&echo_ops, NULL, NULL, &a), ACTOR_OK);
    assert_int_equal(actor_spawn(&echo_ops, NULL, NULL, &b), ACTOR_OK);
    assert_string_equal(a.id, "echo(1)");
    assert_string_equal(b.id, "echo(2)");
    assert_int_equal(actor_spawn(&echo_ops, "master", NULL, &c), ACTOR_OK);
    assert_string_equal(c.id, "master");
    assert_int_equal(actor_spawn(&echo_ops, "master", NULL, NULL), ACTOR_EEXIST);
    assert_int_equal(actor_spawn(&echo_ops, "bad@id", NULL, NULL), ACTOR_EINVAL);
}

static void test_send_by_parsed_pid_and_to_dead_actor(void **unused)
{
    (void)unused;
    actor_pid_t echo, client, by_name;
    assert_int_equal(actor_spawn(&echo_ops, "named", NULL, &echo), ACTOR_OK);
    assert_int_equal(actor_spawn(&client_ops, NULL, NULL, &client), ACTOR_OK);
    /* A PID made from the name alone (no hint) reaches the actor through the registry. */
    assert_int_equal(actor_pid_make(&by_name, "named", 0, 0), ACTOR_OK);
    ping_call_t call = {by_name, 7};
    actor_dispatch(&client, call_send_ping, &call);
    actor_settle();
    client_t c;
    peek_state(&client, &c, sizeof(c));
    assert_int_equal(c.pongs, 1);

    actor_terminate(&echo);
    actor_settle();
    actor_runtime_stats_t before, after;
    actor_runtime_stats(&before);
    actor_dispatch(&client, call_send_ping, &call);
    actor_settle();
    actor_runtime_stats(&after);
    assert_int_equal(after.messages_dropped, before.messages_dropped + 1);
    /* A new actor under the old name does not receive what was meant for the old PID. */
    actor_pid_t reborn;
    assert_int_equal(actor_spawn(&echo_ops, "named", NULL, &reborn), ACTOR_OK);
    ping_call_t stale = {echo, 8};
    actor_dispatch(&client, call_send_ping, &stale);
    actor_settle();
    echo_t e;
    peek_state(&reborn, &e, sizeof(e));
    assert_int_equal(e.pings, 0);
}

static void count_call(actor_t *self, void *state, void *arg)
{
    (void)state;
    int *counts = arg;
    counts[self == NULL ? 1 : 0]++;
}

static void test_dispatch_runs_exactly_once(void **unused)
{
    (void)unused;
    actor_pid_t echo, nowhere;
    int counts[2] = {0, 0}; /* [0] ran inside the actor, [1] ran for clean-up */
    assert_int_equal(actor_spawn(&echo_ops, NULL, NULL, &echo), ACTOR_OK);
    assert_int_equal(actor_dispatch(&echo, count_call, counts), ACTOR_OK);
    actor_settle();
    assert_int_equal(counts[0], 1);

    /* Queued before termination: runs once, with NULL self, so that arg can be freed (or, with
     * the actors on the I/O thread, inside the actor if that thread got to it first). */
    assert_int_equal(actor_dispatch(&echo, count_call, counts), ACTOR_OK);
    actor_terminate(&echo);
    actor_settle();
    assert_int_equal(counts[0] + counts[1], 2);
    if (!on_io_thread || on_caller)
        assert_int_equal(counts[1], 1);

    assert_int_equal(actor_pid_make(&nowhere, "nowhere", 0, 0), ACTOR_OK);
    assert_int_equal(actor_dispatch(&nowhere, count_call, counts), ACTOR_ENOENT);
    assert_int_equal(actor_dispatch(&echo, count_call, counts), ACTOR_ENOENT);
    assert_int_equal(counts[0] + counts[1], 2);
}

static void call_link(actor_t *self, void *state, void *arg)
{
    (void)state;
    if (self != NULL)
        actor_link(self, arg);
}

static void call_relink(actor_t *self, void *state, void *arg)
{
    (void)state;
    if (self != NULL)
        assert_int_equal(actor_relink(self, arg), ACTOR_OK);
}

/* Spawns an echo and a client and runs `calls` in the client, each given the echo's PID: the
 * client hears nothing until the echo terminates, then exactly one exit. Then `again` (given the
 * dead echo's PID) reports a second exit at once. */
static void check_links(const actor_call_fn *calls, size_t count, actor_call_fn again)
{
    actor_pid_t echo, client;
    assert_int_equal(actor_spawn(&echo_ops, NULL, NULL, &echo), ACTOR_OK);
    assert_int_equal(actor_spawn(&client_ops, NULL, NULL, &client), ACTOR_OK);
    for (size_t i = 0; i < count; i++)
        actor_dispatch(&client, calls[i], &echo);
    actor_settle();
    client_t c;
    peek_state(&client, &c, sizeof(c));
    assert_int_equal(c.exits, 0);

    actor_terminate(&echo);
    actor_settle();
    peek_state(&client, &c, sizeof(c));
    assert_int_equal(c.exits, 1);
    assert_true(actor_pid_equal(&c.exited, &echo));

    actor_dispatch(&client, again, &echo);
    actor_settle();
    peek_state(&client, &c, sizeof(c));
    assert_int_equal(c.exits, 2);
}

static void test_link_and_exited(void **unused)
{
    (void)unused;
    const actor_call_fn calls[] = {call_link};
    check_links(calls, 1, call_link);
}

/* A relink to a local actor links as actor_link does, but never twice: link, relink and relink
 * again report one exit. Relinking to an actor already gone reports it at once. */
static void test_relink_links_once(void **unused)
{
    (void)unused;
    const actor_call_fn calls[] = {call_link, call_relink, call_relink};
    check_links(calls, 3, call_relink);
}

static void test_unknown_message_type_is_counted(void **unused)
{
    (void)unused;
    actor_pid_t client;
    assert_int_equal(actor_spawn(&client_ops, NULL, NULL, &client), ACTOR_OK);
    actor_runtime_stats_t before, after;
    actor_runtime_stats(&before);
    Actortest__Text text = ACTORTEST__TEXT__INIT;
    text.text = "hello";
    assert_int_equal(actor_send(NULL, &client, &text.base), ACTOR_OK);
    /* A packed message of a type nobody here knows, as a newer peer might send. */
    assert_int_equal(actor_send_packed(NULL, &client, "future.Message", "\x08\x01", 2), ACTOR_OK);
    actor_settle();
    actor_runtime_stats(&after);
    assert_int_equal(after.messages_unhandled, before.messages_unhandled + 2);
}

static void test_malformed_payload_is_dropped(void **unused)
{
    (void)unused;
    actor_pid_t client;
    assert_int_equal(actor_spawn(&client_ops, NULL, NULL, &client), ACTOR_OK);
    /* Field 1 as a length-delimited value running past the end. */
    assert_int_equal(actor_send_packed(NULL, &client, "actortest.Pong", "\x0a\x50", 2), ACTOR_OK);
    actor_settle();
    client_t c;
    peek_state(&client, &c, sizeof(c));
    assert_int_equal(c.pongs, 0);
}

/* ---- backpressure: a sender that floods a receiver is parked until the receiver drains ---- */

typedef struct sink {
    uint64_t received;
} sink_t;

static void sink_on_ping(actor_t *self, void *state, const actor_pid_t *from,
                         const ProtobufCMessage *msg)
{
    (void)self, (void)from, (void)msg;
    ((sink_t *)state)->received++;
}

static const actor_handler_t sink_handlers[] = {{&actortest__ping__descriptor, sink_on_ping}};
static const actor_ops_t sink_ops = {
    .name = "sink", .state_size = sizeof(sink_t), .handlers = sink_handlers, .handler_count = 1};

typedef struct flood {
    actor_pid_t to;
    int bursts_left;
} flood_t;

/* One event sends 10,000 messages (more than a receiver handles in one turn), then the sender
 * dispatches itself the next burst. */
static void call_flood(actor_t *self, void *state, void *arg)
{
    (void)state;
    flood_t *f = arg;
    if (self == NULL)
        return;
    Actortest__Ping ping = ACTORTEST__PING__INIT;
    for (int i = 0; i < 10000; i++)
        actor_send(self, &f->to, &ping.base);
    if (--f->bursts_left > 0)
        actor_dispatch(actor_self(self), call_flood, f);
}

static void test_flooding_sender_is_muted_and_nothing_is_lost(void **unused)
{
    (void)unused;
    actor_pid_t sink, sender;
    assert_int_equal(actor_spawn(&sink_ops, NULL, NULL, &sink), ACTOR_OK);
    assert_int_equal(actor_spawn(&client_ops, NULL, NULL, &sender), ACTOR_OK);
    actor_runtime_stats_t before, after;
    actor_runtime_stats(&before);
    flood_t f = {sink, 5};
    actor_dispatch(&sender, call_flood, &f);
    actor_settle();
    actor_runtime_stats(&after);
    sink_t s;
    peek_state(&sink, &s, sizeof(s));
    assert_int_equal(s.received, 50000);
    /* One thread, so the order is fixed: an unmuted burst leaves the sink with mail after a full
     * turn (overloaded), so the next burst ends with the sender parked; the sink then drains,
     * which clears the overload, and the burst after runs unmuted. Bursts 2 and 4 are muted. */
    assert_int_equal(after.mutes - before.mutes, 2);
}

/* Without an actor port other processes are out of reach: sends to them are dropped and
 * counted, and a link (or relink) to one reports `exited` at once. */
static void test_remote_pids_without_transport(void **unused)
{
    (void)unused;
    actor_pid_t client, remote;
    assert_int_equal(actor_spawn(&client_ops, NULL, NULL, &client), ACTOR_OK);
    assert_int_equal(actor_pid_parse("master@127.0.0.1:15050", &remote), ACTOR_OK);
    actor_runtime_stats_t before, after;
    actor_runtime_stats(&before);
    ping_call_t call = {remote, 1};
    actor_dispatch(&client, call_send_ping, &call);
    actor_dispatch(&client, call_link, &remote);
    actor_settle();
    actor_runtime_stats(&after);
    assert_int_equal(after.messages_dropped, before.messages_dropped + 1);
    assert_int_equal(after.remote_sent, before.remote_sent);
    client_t c;
    peek_state(&client, &c, sizeof(c));
    assert_int_equal(c.exits, 1);
    assert_true(actor_pid_equal(&c.exited, &remote));
    /* A relink, too. */
    actor_dispatch(&client, call_relink, &remote);
    actor_settle();
    peek_state(&client, &c, sizeof(c));
    assert_int_equal(c.exits, 2);
}

/* Where a dispatched call ran, told to a thread that does not settle. */
typedef struct where {
    bool in_actor, on_io_thread;
    sem_t done;
} where_t;

static void call_where(actor_t *self, void *state, void *arg)
{
    (void)state;
    where_t *w = arg;
    w->in_actor = self != NULL;
    w->on_io_thread = actor_io_is_loop_thread();
    sem_post(&w->done);
}

/* A message from a thread that never settles is run all the same: without workers by nobody
 * until a settle, with the actors on the I/O thread by that thread, woken for it (with the loop
 * on the test thread, by nobody until it waits: the test below). */
static void test_sends_from_other_threads_run_without_settle(void **unused)
{
    (void)unused;
    if (!on_io_thread || on_caller)
        skip();
    actor_pid_t echo;
    assert_int_equal(actor_spawn(&echo_ops, NULL, NULL, &echo), ACTOR_OK);
    for (int round = 0; round < 100; round++) {
        where_t w = {0};
        sem_init(&w.done, 0, 0);
        assert_int_equal(actor_dispatch(&echo, call_where, &w), ACTOR_OK);
        struct timespec deadline;
        clock_gettime(CLOCK_REALTIME, &deadline);
        deadline.tv_sec += 10;
        int rc;
        while ((rc = sem_timedwait(&w.done, &deadline)) != 0 && errno == EINTR)
            ;
        assert_int_equal(rc, 0);
        assert_true(w.in_actor);
        assert_true(w.on_io_thread);
        sem_destroy(&w.done);
    }
}

/* ---- with the loop on the test thread ---- */

typedef struct ran_on {
    pthread_t thread;
    bool in_actor;
} ran_on_t;

static void note_thread_and_end(actor_t *self, void *state, void *arg)
{
    (void)state;
    ran_on_t *r = arg;
    r->thread = pthread_self();
    r->in_actor = self != NULL;
    if (self != NULL)
        actor_terminate(actor_self(self));
}

static void *dispatch_from_thread(void *arg)
{
    actor_pid_t *echo = ((void **)arg)[0];
    ran_on_t *r = ((void **)arg)[1];
    return (void *)(intptr_t)actor_dispatch(echo, note_thread_and_end, r);
}

/* What another thread queues runs on the test thread while it waits in actor_wait(), which
 * returns once the actor ended. */
static void test_waiting_thread_runs_the_loop(void **unused)
{
    (void)unused;
    if (!on_caller)
        skip();
    actor_pid_t echo;
    assert_int_equal(actor_spawn(&echo_ops, NULL, NULL, &echo), ACTOR_OK);
    ran_on_t r = {0};
    void *args[] = {&echo, &r};
    pthread_t t;
    void *rc = NULL;
    assert_int_equal(pthread_create(&t, NULL, dispatch_from_thread, args), 0);
    assert_int_equal(pthread_join(t, &rc), 0);
    assert_null(rc);
    assert_false(r.in_actor); /* nothing ran yet: the loop has no thread of its own */
    actor_wait(&echo);
    assert_true(r.in_actor);
    assert_true(pthread_equal(r.thread, pthread_self()));
}

int main(void)
{
    const char *mode = getenv("TEST_ACTORS_ON_IO_THREAD");
    on_caller = mode != NULL && strcmp(mode, "caller") == 0;
    on_io_thread = on_caller || (mode != NULL && strcmp(mode, "1") == 0);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_ping_pong, setup, teardown),
        cmocka_unit_test_setup_teardown(test_generated_and_duplicate_ids, setup, teardown),
        cmocka_unit_test_setup_teardown(test_send_by_parsed_pid_and_to_dead_actor, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dispatch_runs_exactly_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_link_and_exited, setup, teardown),
        cmocka_unit_test_setup_teardown(test_relink_links_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_message_type_is_counted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_malformed_payload_is_dropped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_flooding_sender_is_muted_and_nothing_is_lost, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_remote_pids_without_transport, setup, teardown),
        cmocka_unit_test_setup_teardown(test_waiting_thread_runs_the_loop, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sends_from_other_threads_run_without_settle, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
