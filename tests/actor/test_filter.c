/* Tests of filter.h: observe, drop, hold and release messages in flight. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "actor/actor.h"
#include "actor/filter.h"
#include "test_actor.pb-c.h"

typedef struct counter {
    int pings;
    uint64_t last_seq;
} counter_t;

static void on_ping(actor_t *self, void *state, const actor_pid_t *from,
                    const ProtobufCMessage *msg)
{
    (void)self, (void)from;
    counter_t *c = state;
    c->pings++;
    c->last_seq = ((const Actortest__Ping *)msg)->seq;
}

static const actor_handler_t handlers[] = {{&actortest__ping__descriptor, on_ping}};
static const actor_ops_t counter_ops = {
    .name = "counter", .state_size = sizeof(counter_t), .handlers = handlers, .handler_count = 1};

static void call_peek(actor_t *self, void *state, void *arg)
{
    (void)self;
    if (state != NULL)
        *(counter_t *)arg = *(counter_t *)state;
}

static counter_t peek(const actor_pid_t *pid)
{
    counter_t c = {0};
    actor_dispatch(pid, call_peek, &c);
    actor_settle();
    return c;
}

static void send_ping(const actor_pid_t *to, uint64_t seq)
{
    Actortest__Ping ping = ACTORTEST__PING__INIT;
    ping.has_seq = true;
    ping.seq = seq;
    assert_int_equal(actor_send(NULL, to, &ping.base), ACTOR_OK);
}

/* The filter under test: drops odd seqs, holds seq 2, observes the rest. */
typedef struct rules {
    int seen;
    uint64_t held_id;
} rules_t;

static actor_filter_verdict_t rules_filter(const actor_filter_event_t *ev, void *arg)
{
    rules_t *r = arg;
    r->seen++;
    if (strcmp(ev->type_name, "actortest.Ping") != 0)
        return ACTOR_FILTER_PASS;
    Actortest__Ping *ping = actortest__ping__unpack(NULL, ev->len, ev->data);
    uint64_t seq = ping->seq;
    actortest__ping__free_unpacked(ping, NULL);
    if (seq % 2 == 1)
        return ACTOR_FILTER_DROP;
    if (seq == 2) {
        r->held_id = ev->hold_id;
        return ACTOR_FILTER_HOLD;
    }
    return ACTOR_FILTER_PASS;
}

static int setup(void **unused)
{
    (void)unused;
    actor_runtime_options_t opts;
    actor_runtime_options_init(&opts);
    opts.workers = 0;
    return actor_runtime_start(&opts) == ACTOR_OK ? 0 : -1;
}

static int teardown(void **unused)
{
    (void)unused;
    actor_filter_install(NULL, NULL);
    actor_filter_clear();
    actor_runtime_stop();
    return 0;
}

static void test_drop_hold_release(void **unused)
{
    (void)unused;
    actor_pid_t pid;
    assert_int_equal(actor_spawn(&counter_ops, NULL, NULL, &pid), ACTOR_OK);
    rules_t rules = {0};
    actor_filter_install(rules_filter, &rules);
    for (uint64_t seq = 1; seq <= 4; seq++)
        send_ping(&pid, seq);
    actor_settle();
    counter_t c = peek(&pid);
    assert_int_equal(rules.seen, 4);
    assert_int_equal(c.pings, 1); /* only seq 4: 1 and 3 dropped, 2 held */
    assert_int_equal(c.last_seq, 4);

    assert_int_equal(actor_filter_release(rules.held_id), ACTOR_OK);
    assert_int_equal(actor_filter_release(rules.held_id), ACTOR_ENOENT);
    actor_settle();
    c = peek(&pid);
    assert_int_equal(c.pings, 2);
    assert_int_equal(c.last_seq, 2);
}

static void test_discard_and_removal(void **unused)
{
    (void)unused;
    actor_pid_t pid;
    assert_int_equal(actor_spawn(&counter_ops, NULL, NULL, &pid), ACTOR_OK);
    rules_t rules = {0};
    actor_filter_install(rules_filter, &rules);
    send_ping(&pid, 2);
    assert_int_equal(actor_filter_discard(rules.held_id), ACTOR_OK);
    actor_filter_install(NULL, NULL);
    send_ping(&pid, 3);
    actor_settle();
    counter_t c = peek(&pid);
    assert_int_equal(c.pings, 1);
    assert_int_equal(c.last_seq, 3);
    assert_int_equal(rules.seen, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_drop_hold_release, setup, teardown),
        cmocka_unit_test_setup_teardown(test_discard_and_removal, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
