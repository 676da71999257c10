/* Tests of clock.h: a paused clock, advancing it, timers firing in deadline order, cancel and
 * disarm, timers of dead actors, and one timer fired by the I/O thread in real time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>
#include <time.h>

#include <cmocka.h>

#include "actor/actor.h"
#include "actor/clock.h"

typedef struct sleeper {
    int fired[8]; /* order in which the timers with these tags ran */
    int count;
} sleeper_t;

static const actor_ops_t sleeper_ops = {.name = "sleeper", .state_size = sizeof(sleeper_t)};

static void record_tag(actor_t *self, void *state, void *arg)
{
    (void)self;
    if (state == NULL)
        return;
    sleeper_t *s = state;
    s->fired[s->count++] = (int)(intptr_t)arg;
}

typedef struct arm {
    int64_t after;
    int tag;
    actor_timer_id_t id;
} arm_t;

static void call_arm(actor_t *self, void *state, void *arg)
{
    (void)state;
    arm_t *a = arg;
    a->id = actor_delay(self, a->after, record_tag, (void *)(intptr_t)a->tag);
}

static void call_peek(actor_t *self, void *state, void *arg)
{
    (void)self;
    if (state != NULL)
        *(sleeper_t *)arg = *(sleeper_t *)state;
}

static sleeper_t peek(const actor_pid_t *pid)
{
    sleeper_t s = {0};
    actor_dispatch(pid, call_peek, &s);
    actor_settle();
    return s;
}

static int setup(void **unused)
{
    (void)unused;
    actor_runtime_options_t opts;
    actor_runtime_options_init(&opts);
    opts.workers = 0;
    if (actor_runtime_start(&opts) != ACTOR_OK)
        return -1;
    actor_clock_pause();
    return 0;
}

static int teardown(void **unused)
{
    (void)unused;
    actor_clock_resume();
    actor_runtime_stop();
    return 0;
}

static actor_timer_id_t arm(const actor_pid_t *pid, int64_t after, int tag)
{
    arm_t a = {after, tag, 0};
    actor_dispatch(pid, call_arm, &a);
    actor_settle();
    assert_true(a.id != 0);
    return a.id;
}

static void test_paused_clock_only_moves_when_advanced(void **unused)
{
    (void)unused;
    int64_t t0 = actor_clock_now();
    assert_true(actor_clock_paused());
    assert_int_equal(actor_clock_now(), t0);
    actor_clock_advance(15 * ACTOR_NS_PER_SEC);
    assert_int_equal(actor_clock_now(), t0 + 15 * ACTOR_NS_PER_SEC);
    int64_t w0 = actor_clock_wall();
    actor_clock_advance(ACTOR_NS_PER_SEC);
    int64_t dw = actor_clock_wall() - w0;
    assert_true(dw >= ACTOR_NS_PER_SEC && dw < ACTOR_NS_PER_SEC + 100 * ACTOR_NS_PER_MS);
}

static void test_timers_fire_in_deadline_order(void **unused)
{
    (void)unused;
    actor_pid_t pid;
    assert_int_equal(actor_spawn(&sleeper_ops, NULL, NULL, &pid), ACTOR_OK);
    arm(&pid, 3 * ACTOR_NS_PER_SEC, 3);
    arm(&pid, 1 * ACTOR_NS_PER_SEC, 1);
    arm(&pid, 2 * ACTOR_NS_PER_SEC, 2);
    arm(&pid, 15 * ACTOR_NS_PER_SEC, 15);

    actor_clock_advance(ACTOR_NS_PER_SEC - 1);
    actor_settle();
    assert_int_equal(peek(&pid).count, 0);

    actor_clock_advance(1);
    actor_settle();
    sleeper_t s = peek(&pid);
    assert_int_equal(s.count, 1);
    assert_int_equal(s.fired[0], 1);

    actor_clock_advance(10 * ACTOR_NS_PER_SEC);
    actor_settle();
    s = peek(&pid);
    assert_int_equal(s.count, 3);
    assert_int_equal(s.fired[1], 2);
    assert_int_equal(s.fired[2], 3);

    actor_clock_advance(4 * ACTOR_NS_PER_SEC);
    actor_settle();
    s = peek(&pid);
    assert_int_equal(s.count, 4);
    assert_int_equal(s.fired[3], 15);
}

static void test_cancel(void **unused)
{
    (void)unused;
    actor_pid_t pid;
    assert_int_equal(actor_spawn(&sleeper_ops, NULL, NULL, &pid), ACTOR_OK);
    actor_timer_id_t keep = arm(&pid, ACTOR_NS_PER_SEC, 1);
    actor_timer_id_t drop = arm(&pid, ACTOR_NS_PER_SEC, 2);
    assert_true(actor_timer_cancel(drop));
    assert_false(actor_timer_cancel(drop));
    actor_clock_advance(ACTOR_NS_PER_SEC);
    actor_settle();
    sleeper_t s = peek(&pid);
    assert_int_equal(s.count, 1);
    assert_int_equal(s.fired[0], 1);
    assert_false(actor_timer_cancel(keep)); /* already fired */
}

static void test_disarm(void **unused)
{
    (void)unused;
    actor_pid_t pid;
    assert_int_equal(actor_spawn(&sleeper_ops, NULL, NULL, &pid), ACTOR_OK);
    actor_timer_id_t none = 0;
    assert_false(actor_timer_disarm(&none));
    assert_true(none == 0);
    actor_timer_id_t drop = arm(&pid, ACTOR_NS_PER_SEC, 1);
    assert_true(actor_timer_disarm(&drop));
    assert_true(drop == 0);
    actor_timer_id_t fired_already = arm(&pid, ACTOR_NS_PER_SEC, 2);
    actor_clock_advance(ACTOR_NS_PER_SEC);
    actor_settle();
    assert_false(actor_timer_disarm(&fired_already));
    assert_true(fired_already == 0);
    sleeper_t s = peek(&pid);
    assert_int_equal(s.count, 1);
    assert_int_equal(s.fired[0], 2);
}

static void count_cleanups(actor_t *self, void *state, void *arg)
{
    (void)state;
    if (self == NULL)
        (*(int *)arg)++;
}

static void call_arm_cleanup(actor_t *self, void *state, void *arg)
{
    (void)state;
    actor_delay(self, ACTOR_NS_PER_SEC, count_cleanups, arg);
}

static void test_timer_of_dead_actor_frees_its_arg(void **unused)
{
    (void)unused;
    actor_pid_t pid;
    int cleanups = 0;
    assert_int_equal(actor_spawn(&sleeper_ops, NULL, NULL, &pid), ACTOR_OK);
    actor_dispatch(&pid, call_arm_cleanup, &cleanups);
    actor_settle();
    actor_terminate(&pid);
    actor_settle();
    actor_clock_advance(ACTOR_NS_PER_SEC);
    actor_settle();
    assert_int_equal(cleanups, 1);
}

/* The one real-time test: the I/O thread fires a 1 ms timer (bounded wait, no sleep). */
static pthread_mutex_t fired_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t fired_cv = PTHREAD_COND_INITIALIZER;
static int fired;

static void signal_fired(actor_t *self, void *state, void *arg)
{
    (void)self, (void)state, (void)arg;
    pthread_mutex_lock(&fired_lock);
    fired++;
    pthread_cond_signal(&fired_cv);
    pthread_mutex_unlock(&fired_lock);
}

static void call_arm_real(actor_t *self, void *state, void *arg)
{
    (void)state, (void)arg;
    actor_delay(self, ACTOR_NS_PER_MS, signal_fired, NULL);
}

static void test_real_time_timer(void **unused)
{
    (void)unused;
    actor_runtime_stop();
    actor_runtime_options_t opts;
    actor_runtime_options_init(&opts);
    opts.workers = 1;
    assert_int_equal(actor_runtime_start(&opts), ACTOR_OK);
    actor_clock_resume();
    actor_pid_t pid;
    assert_int_equal(actor_spawn(&sleeper_ops, NULL, NULL, &pid), ACTOR_OK);
    actor_dispatch(&pid, call_arm_real, NULL);

    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += 10;
    pthread_mutex_lock(&fired_lock);
    while (fired == 0 && pthread_cond_timedwait(&fired_cv, &fired_lock, &deadline) == 0)
        ;
    pthread_mutex_unlock(&fired_lock);
    assert_int_equal(fired, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_paused_clock_only_moves_when_advanced, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_timers_fire_in_deadline_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cancel, setup, teardown),
        cmocka_unit_test_setup_teardown(test_disarm, setup, teardown),
        cmocka_unit_test_setup_teardown(test_timer_of_dead_actor_frees_its_arg, setup, teardown),
        cmocka_unit_test_setup_teardown(test_real_time_timer, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
