/* Tests of the scheduler with real worker threads: many actors exchanging messages concurrently
 * lose nothing, keep per-sender order, and settle; spawning and terminating under load. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "actor/actor.h"
#include "test_actor.pb-c.h"

#define PAIRS  16
#define ROUNDS 2000

typedef struct player {
    actor_pid_t partner;
    uint64_t received, expected_seq, disorder;
} player_t;

static void player_on_ping(actor_t *self, void *state, const actor_pid_t *from,
                           const ProtobufCMessage *msg)
{
    (void)from;
    player_t *p = state;
    uint64_t seq = ((const Actortest__Ping *)msg)->seq;
    if (p->received > 0 && seq != p->expected_seq)
        p->disorder++;
    p->expected_seq = seq + 2; /* the partner has the odd (or even) ones */
    p->received++;
    if (seq + 1 < ROUNDS * 2) {
        Actortest__Ping next = ACTORTEST__PING__INIT;
        next.has_seq = true;
        next.seq = seq + 1;
        actor_send(self, &p->partner, &next.base);
    }
}

static void player_init(actor_t *self, void *state, void *arg)
{
    (void)self;
    player_t *p = state;
    if (arg != NULL)
        p->partner = *(actor_pid_t *)arg;
}

static const actor_handler_t handlers[] = {{&actortest__ping__descriptor, player_on_ping}};
static const actor_ops_t player_ops = {.name = "player",
                                       .state_size = sizeof(player_t),
                                       .init = player_init,
                                       .handlers = handlers,
                                       .handler_count = 1};

static void call_set_partner(actor_t *self, void *state, void *arg)
{
    (void)self;
    if (state != NULL)
        ((player_t *)state)->partner = *(actor_pid_t *)arg;
}

static void call_peek(actor_t *self, void *state, void *arg)
{
    (void)self;
    if (state != NULL)
        *(player_t *)arg = *(player_t *)state;
}

static int setup(void **unused)
{
    (void)unused;
    actor_runtime_options_t opts;
    actor_runtime_options_init(&opts);
    opts.workers = 2;
    return actor_runtime_start(&opts) == ACTOR_OK ? 0 : -1;
}

static int teardown(void **unused)
{
    (void)unused;
    actor_runtime_stop();
    return 0;
}

static void test_pairs_settle_with_everything_delivered(void **unused)
{
    (void)unused;
    actor_pid_t a[PAIRS], b[PAIRS];
    for (int i = 0; i < PAIRS; i++) {
        assert_int_equal(actor_spawn(&player_ops, NULL, NULL, &a[i]), ACTOR_OK);
        assert_int_equal(actor_spawn(&player_ops, NULL, &a[i], &b[i]), ACTOR_OK);
        actor_dispatch(&a[i], call_set_partner, &b[i]);
    }
    actor_settle();
    for (int i = 0; i < PAIRS; i++) {
        Actortest__Ping first = ACTORTEST__PING__INIT;
        first.has_seq = true;
        first.seq = 0;
        actor_send(NULL, &b[i], &first.base);
    }
    actor_settle();
    for (int i = 0; i < PAIRS; i++) {
        player_t pa, pb;
        actor_dispatch(&a[i], call_peek, &pa);
        actor_dispatch(&b[i], call_peek, &pb);
        actor_settle();
        assert_int_equal(pa.received + pb.received, ROUNDS * 2);
        assert_int_equal(pa.disorder + pb.disorder, 0);
    }
}

static const actor_ops_t idle_ops = {.name = "idle"};

static void test_spawn_and_terminate_many(void **unused)
{
    (void)unused;
    enum { N = 20000 };
    actor_pid_t *pids = malloc(N * sizeof(*pids));
    actor_runtime_stats_t before;
    actor_runtime_stats(&before);
    for (int i = 0; i < N; i++)
        assert_int_equal(actor_spawn(&idle_ops, NULL, NULL, &pids[i]), ACTOR_OK);
    for (int i = 0; i < N; i++)
        actor_terminate(&pids[i]);
    for (int i = 0; i < N; i++)
        actor_wait(&pids[i]);
    actor_runtime_stats_t s;
    actor_runtime_stats(&s);
    assert_int_equal(s.actors_spawned - before.actors_spawned, N);
    assert_int_equal(s.actors_terminated - before.actors_terminated, N);
    /* Slots are reused: the next generation of ids keeps counting. */
    actor_pid_t again;
    assert_int_equal(actor_spawn(&idle_ops, NULL, NULL, &again), ACTOR_OK);
    assert_string_equal(again.id, "idle(20001)");
    free(pids);
}

/* One at a time: the waiter wakes while the worker may still be finishing the dead actor's turn,
 * and the next spawn reuses that very slot. No terminate may be lost in that window. */
static void test_spawn_terminate_churn_reusing_slots(void **unused)
{
    (void)unused;
    for (int i = 0; i < 50000; i++) {
        actor_pid_t pid;
        assert_int_equal(actor_spawn(&idle_ops, NULL, NULL, &pid), ACTOR_OK);
        actor_terminate(&pid);
        actor_wait(&pid);
    }
}

/* A thread outside the runtime keeps sending to the id "target" while the test spawns and
 * terminates actors under that id. No message may reach an actor before its init, and fini never
 * runs without init (a terminate meant for one generation must not hit the next). */
typedef struct guarded {
    bool initialized;
} guarded_t;

static _Atomic long before_init, finis_without_init, inits, finis, handled;

static void guarded_init(actor_t *self, void *state, void *arg)
{
    (void)self, (void)arg;
    ((guarded_t *)state)->initialized = true;
    inits++;
}

static void guarded_fini(actor_t *self, void *state)
{
    (void)self;
    finis++;
    if (!((guarded_t *)state)->initialized)
        finis_without_init++;
}

static void guarded_on_ping(actor_t *self, void *state, const actor_pid_t *from,
                            const ProtobufCMessage *msg)
{
    (void)self, (void)from, (void)msg;
    handled++;
    if (!((guarded_t *)state)->initialized)
        before_init++;
}

static const actor_handler_t guarded_handlers[] = {{&actortest__ping__descriptor, guarded_on_ping}};
static const actor_ops_t guarded_ops = {.name = "guarded",
                                        .state_size = sizeof(guarded_t),
                                        .init = guarded_init,
                                        .fini = guarded_fini,
                                        .handlers = guarded_handlers,
                                        .handler_count = 1};

static _Atomic bool spamming;

/* Sends continuously, so that sends race every spawn, but keeps at most 20,000 messages in
 * flight: a thread outside the runtime is never parked by backpressure and would otherwise flood
 * the mailboxes without limit on a busy machine. */
static void *spam_by_id(void *unused)
{
    (void)unused;
    actor_pid_t target;
    actor_pid_make(&target, "target", 0, 0);
    Actortest__Ping ping = ACTORTEST__PING__INIT;
    actor_runtime_stats_t s;
    actor_runtime_stats(&s);
    uint64_t dropped0 = s.messages_dropped;
    long sent = 0;
    while (spamming) {
        for (int i = 0; i < 256; i++, sent++)
            actor_send(NULL, &target, &ping.base);
        for (;;) {
            actor_runtime_stats(&s);
            long done = handled + (long)(s.messages_dropped - dropped0);
            if (sent - done < 20000 || !spamming)
                break;
            sched_yield();
        }
    }
    return NULL;
}

static void test_no_message_before_init_and_no_fini_without_init(void **unused)
{
    (void)unused;
    spamming = true;
    pthread_t spammer;
    pthread_create(&spammer, NULL, spam_by_id, NULL);
    for (int i = 0; i < 30000; i++) {
        actor_pid_t pid;
        assert_int_equal(actor_spawn(&guarded_ops, "target", NULL, &pid), ACTOR_OK);
        actor_terminate(&pid);
        actor_wait(&pid);
    }
    spamming = false;
    pthread_join(spammer, NULL);
    actor_settle();
    assert_int_equal(before_init, 0);
    assert_int_equal(finis_without_init, 0);
    assert_int_equal(inits, 30000);
    assert_int_equal(finis, 30000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_pairs_settle_with_everything_delivered, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_spawn_and_terminate_many, setup, teardown),
        cmocka_unit_test_setup_teardown(test_spawn_terminate_churn_reusing_slots, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_message_before_init_and_no_fini_without_init, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
