/* Tests of daemon.h's actor_daemon_threads: the daemon's choice of threads, which
 * LIBPROCESS_NUM_WORKER_THREADS (1..1024) overrides with that many workers, an invalid value
 * ignored. And of actor_daemon_wait_actor: it returns when the actor ends (at once for one
 * that is gone), SIGTERM and SIGINT are dispatched into the actor with their argument, each
 * signal once, no signal is taken after it returns, and it starts no thread. The signals are
 * blocked in every thread from the start of main, as actor_daemon_start leaves a daemon, so that
 * a signal raised before the wait stays pending until the I/O thread reads it. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "actor/actor.h"
#include "actor/daemon.h"

typedef struct signals_seen {
    atomic_int count;   /* on_signal calls that found the actor alive */
    int end_after;      /* the actor terminates at this many signals */
    atomic_int orphans; /* on_signal calls with self NULL */
} signals_seen_t;

static const actor_ops_t target_ops = {.name = "target", .state_size = sizeof(int)};

static void on_signal(actor_t *self, void *state, void *arg)
{
    (void)state;
    signals_seen_t *seen = arg;
    if (self == NULL) {
        atomic_fetch_add(&seen->orphans, 1);
        return;
    }
    if (atomic_fetch_add(&seen->count, 1) + 1 >= seen->end_after)
        actor_terminate(actor_self(self));
}

static void terminate_self(actor_t *self, void *state, void *arg)
{
    (void)state, (void)arg;
    if (self != NULL)
        actor_terminate(actor_self(self));
}

static sigset_t test_signals(void)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    return set;
}

/* Takes every pending test signal without waiting; returns how many there were. */
static int drain_pending(void)
{
    sigset_t set = test_signals();
    struct timespec now = {0, 0};
    int n = 0;
    while (sigtimedwait(&set, NULL, &now) > 0)
        n++;
    return n;
}

static bool pending(int sig)
{
    sigset_t set;
    sigpending(&set);
    return sigismember(&set, sig) == 1;
}

static int setup(void **unused)
{
    (void)unused;
    actor_runtime_options_t opts;
    actor_runtime_options_init(&opts);
    opts.workers = 1;
    opts.port = -1;
    return actor_runtime_start(&opts) == ACTOR_OK ? 0 : -1;
}

static int teardown(void **unused)
{
    (void)unused;
    actor_runtime_stop();
    return drain_pending() == 0 ? 0 : -1;
}

/* Spawns a target actor (ended at once with end_now, else by its seen->end_after-th signal),
 * waits for it with actor_daemon_wait_actor, and checks that it is gone. */
static void wait_for_target(signals_seen_t *seen, bool end_now)
{
    actor_pid_t pid;
    assert_int_equal(actor_spawn(&target_ops, NULL, NULL, &pid), ACTOR_OK);
    if (end_now)
        assert_int_equal(actor_dispatch(&pid, terminate_self, NULL), ACTOR_OK);
    actor_daemon_wait_actor(&pid, on_signal, seen);
    assert_int_equal(actor_dispatch(&pid, terminate_self, NULL), ACTOR_ENOENT);
}

static void test_returns_when_the_actor_ends(void **unused)
{
    (void)unused;
    signals_seen_t seen = {.end_after = 1};
    wait_for_target(&seen, true);
    assert_int_equal(atomic_load(&seen.count), 0);
}

static void test_returns_at_once_for_a_gone_actor(void **unused)
{
    (void)unused;
    actor_pid_t pid;
    assert_int_equal(actor_spawn(&target_ops, NULL, NULL, &pid), ACTOR_OK);
    actor_terminate(&pid);
    actor_wait(&pid);
    signals_seen_t seen = {.end_after = 1};
    actor_daemon_wait_actor(&pid, on_signal, &seen);
    assert_int_equal(atomic_load(&seen.count), 0);
}

static void test_sigterm_is_dispatched_into_the_actor(void **unused)
{
    (void)unused;
    signals_seen_t seen = {.end_after = 1};
    assert_int_equal(kill(getpid(), SIGTERM), 0); /* pending until the I/O thread reads it */
    wait_for_target(&seen, false);
    assert_int_equal(atomic_load(&seen.count), 1);
    assert_false(pending(SIGTERM));
}

static void test_each_signal_is_dispatched(void **unused)
{
    (void)unused;
    signals_seen_t seen = {.end_after = 2};
    assert_int_equal(kill(getpid(), SIGINT), 0);
    assert_int_equal(kill(getpid(), SIGTERM), 0);
    wait_for_target(&seen, false);
    assert_int_equal(atomic_load(&seen.count), 2);
    assert_false(pending(SIGINT));
    assert_false(pending(SIGTERM));
}

static void test_no_signal_is_taken_after_it_returns(void **unused)
{
    (void)unused;
    signals_seen_t seen = {.end_after = 1};
    wait_for_target(&seen, true);
    assert_int_equal(kill(getpid(), SIGTERM), 0);
    assert_true(pending(SIGTERM)); /* nobody waits for it any more */
    assert_int_equal(drain_pending(), 1);
    assert_int_equal(atomic_load(&seen.count), 0);
    assert_int_equal(atomic_load(&seen.orphans), 0);
}

/* The threads of this process, from /proc. */
static int thread_count(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    assert_non_null(f);
    char line[256];
    int threads = -1;
    while (fgets(line, sizeof(line), f) != NULL)
        if (sscanf(line, "Threads: %d", &threads) == 1)
            break;
    fclose(f);
    return threads;
}

/* on_signal: counts the process's threads, then ends the actor. */
static void count_threads(actor_t *self, void *state, void *arg)
{
    (void)state;
    if (self == NULL)
        return;
    *(int *)arg = thread_count();
    actor_terminate(actor_self(self));
}

/* While it waits (a signal is dispatched only then), the process runs no thread beyond the
 * runtime's. */
static void test_waits_without_a_thread_of_its_own(void **unused)
{
    (void)unused;
    int before = thread_count(), during = 0;
    actor_pid_t pid;
    assert_int_equal(actor_spawn(&target_ops, NULL, NULL, &pid), ACTOR_OK);
    assert_int_equal(kill(getpid(), SIGTERM), 0);
    actor_daemon_wait_actor(&pid, count_threads, &during);
    assert_int_equal(during, before);
}

/* The options actor_daemon_threads leaves with LIBPROCESS_NUM_WORKER_THREADS set to value
 * (NULL: unset), from defaults. */
static actor_runtime_options_t threads_with(const char *value, bool actors_on_io_thread)
{
    if (value != NULL)
        setenv("LIBPROCESS_NUM_WORKER_THREADS", value, 1);
    else
        unsetenv("LIBPROCESS_NUM_WORKER_THREADS");
    actor_runtime_options_t opts;
    actor_runtime_options_init(&opts);
    actor_daemon_threads(&opts, actors_on_io_thread);
    unsetenv("LIBPROCESS_NUM_WORKER_THREADS");
    return opts;
}

static void test_threads_are_the_daemons_choice_by_default(void **unused)
{
    (void)unused;
    actor_runtime_options_t defaults;
    actor_runtime_options_init(&defaults);
    actor_runtime_options_t on_io = threads_with(NULL, true), workers = threads_with(NULL, false);
    assert_true(on_io.actors_on_io_thread);
    assert_false(workers.actors_on_io_thread);
    assert_int_equal(workers.workers, defaults.workers); /* one per core */
}

static void test_libprocess_num_worker_threads_gives_workers(void **unused)
{
    (void)unused;
    actor_runtime_options_t opts = threads_with("3", true);
    assert_false(opts.actors_on_io_thread);
    assert_int_equal(opts.workers, 3);
    opts = threads_with("1024", false);
    assert_int_equal(opts.workers, 1024);
}

static void test_invalid_libprocess_num_worker_threads_is_ignored(void **unused)
{
    (void)unused;
    actor_runtime_options_t defaults;
    actor_runtime_options_init(&defaults);
    const char *invalid[] = {"0", "-2", "1025", "two", "3x", "", "99999999999999999999"};
    for (size_t i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++) {
        actor_runtime_options_t opts = threads_with(invalid[i], true);
        assert_true(opts.actors_on_io_thread);
        assert_int_equal(opts.workers, defaults.workers);
    }
}

int main(void)
{
    sigset_t set = test_signals();
    pthread_sigmask(SIG_BLOCK, &set, NULL); /* before any thread starts: they all inherit it */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_threads_are_the_daemons_choice_by_default),
        cmocka_unit_test(test_libprocess_num_worker_threads_gives_workers),
        cmocka_unit_test(test_invalid_libprocess_num_worker_threads_is_ignored),
        cmocka_unit_test_setup_teardown(test_returns_when_the_actor_ends, setup, teardown),
        cmocka_unit_test_setup_teardown(test_returns_at_once_for_a_gone_actor, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sigterm_is_dispatched_into_the_actor, setup, teardown),
        cmocka_unit_test_setup_teardown(test_each_signal_is_dispatched, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_signal_is_taken_after_it_returns, setup, teardown),
        cmocka_unit_test_setup_teardown(test_waits_without_a_thread_of_its_own, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
