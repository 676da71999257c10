/* Tests of the registrar actor (registrar.c) through registrar.h: operations answered inside
 * their submitter once durable, the registry read back after a restart (also after kill -9
 * right after an answer), operations that arrive together written as one store batch with their
 * preconditions in order, answers to a submitter that is gone, a failed write (reported once,
 * nothing answered afterwards; by default the process exits 1), and refused input. Zero workers:
 * the test thread runs every actor inside actor_settle(). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "actor/log.h"
#include "actor/metrics.h"
#include "registrar_test.h"

#define MAX_OPS 128

/* One answer, as the done callback saw it. */
typedef struct result {
    int calls; /* times done ran: must end at 1 */
    bool applied;
    bool in_submitter; /* self was the submitter (not NULL) */
    int order;         /* position among all answers of the test */
} result_t;

static int answers;  /* answers so far in this test */
static int failures; /* calls of test_failed */
static actor_err_t failure_err;

static void test_failed(actor_err_t err, const char *message)
{
    assert_non_null(message);
    failures++;
    failure_err = err;
}

static void on_done(actor_t *self, void *state, void *arg, bool applied)
{
    (void)state;
    result_t *res = arg;
    res->calls++;
    res->applied = applied;
    res->in_submitter = self != NULL;
    res->order = ++answers;
}

/* A client actor that submits what the test dispatches into it. */
static const actor_ops_t client_ops = {.name = "client"};

typedef struct submission {
    actor_pid_t registrar;
    const registrar_op_t *ops;
    size_t count;
    result_t *results;
    registrar_done_fn done; /* NULL: on_done */
    actor_err_t errs[MAX_OPS];
    bool then_terminate_self;      /* the client terminates after submitting */
    bool then_terminate_registrar; /* the registrar is told to terminate after the submits */
} submission_t;

static void call_submit(actor_t *self, void *state, void *arg)
{
    (void)state;
    submission_t *s = arg;
    assert_non_null(self);
    for (size_t i = 0; i < s->count; i++)
        s->errs[i] = registrar_submit(self, &s->registrar, &s->ops[i],
                                      s->done != NULL ? s->done : on_done, &s->results[i]);
    if (s->then_terminate_registrar)
        actor_terminate(&s->registrar);
    if (s->then_terminate_self)
        actor_terminate(actor_self(self));
}

typedef struct fixture {
    char dir[TEST_DIR_LEN];
    actor_pid_t client;
    actor_pid_t registrar;
} fixture_t;

/* Starts the runtime with zero workers and spawns the client. */
static void runtime_start(fixture_t *f)
{
    actor_runtime_options_t opts;
    actor_runtime_options_init(&opts);
    opts.workers = 0;
    assert_int_equal(actor_runtime_start(&opts), ACTOR_OK);
    assert_int_equal(actor_spawn(&client_ops, NULL, NULL, &f->client), ACTOR_OK);
}

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    test_dir_make(f->dir);
    runtime_start(f);
    answers = 0;
    failures = 0;
    failure_err = ACTOR_OK;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    actor_runtime_stop(); /* terminates the registrar, which closes its store */
    test_dir_remove(f->dir);
    free(f);
    return 0;
}

/* Recovers the registry `kind` in the fixture's directory as master `master_id` and spawns the
 * registrar; returns the previous registry (the caller frees it) if previous is true. */
static registry_t *start(fixture_t *f, const char *kind, const char *master_id, bool previous)
{
    Mesos__MasterInfo master;
    test_master_init(&master, master_id);
    store_t *store = NULL;
    registry_t *registry = NULL;
    assert_int_equal(registrar_recover(kind, f->dir, NULL, &master, &store, &registry), ACTOR_OK);
    registrar_options_t opts = {.store = store, .failed = test_failed};
    assert_int_equal(registrar_spawn(&opts, &f->registrar), ACTOR_OK);
    assert_string_equal(f->registrar.id, "registrar");
    if (previous)
        return registry;
    mesos__internal__registry__registry__free_unpacked(registry, NULL);
    return NULL;
}

static void stop(fixture_t *f)
{
    actor_terminate(&f->registrar);
    actor_wait(&f->registrar);
}

/* Submits ops from the client in one event, settles, and checks every submit returned OK. */
static void submit(fixture_t *f, const registrar_op_t *ops, size_t count, result_t *results)
{
    submission_t s = {.registrar = f->registrar, .ops = ops, .count = count, .results = results};
    assert_true(count <= MAX_OPS);
    assert_int_equal(actor_dispatch(&f->client, call_submit, &s), ACTOR_OK);
    actor_settle();
    for (size_t i = 0; i < count; i++)
        assert_int_equal(s.errs[i], ACTOR_OK);
}

/* Submits one op on its own and returns whether it applied; it must be answered in the client. */
static bool run(fixture_t *f, registrar_op_t op)
{
    result_t res = {0};
    submit(f, &op, 1, &res);
    assert_int_equal(res.calls, 1);
    assert_true(res.in_submitter);
    return res.applied;
}

static registrar_op_t admit(const test_agent_t *a)
{
    return (registrar_op_t){.kind = REGISTRAR_ADMIT_AGENT, .agent = &a->info};
}

static registrar_op_t mark(registrar_op_kind_t kind, const char *id, double timestamp)
{
    return (registrar_op_t){.kind = kind, .agent_id = id, .timestamp = timestamp};
}

static const char *agent_id_at(const registry_t *r, size_t i)
{
    return r->agents->agents[i]->info->id->value;
}

/* "registrar/state_store_ms/count" of the process's metrics: batches written (shown once two
 * were). */
static double stores_count(void)
{
    json_t *snapshot = NULL;
    assert_int_equal(metrics_snapshot_json(metrics_registry_default(), &snapshot), ACTOR_OK);
    json_t *count = json_object_get(snapshot, "registrar/state_store_ms/count");
    double value = count != NULL ? json_number_value(count) : -1.0;
    json_decref(snapshot);
    return value;
}

/* ---- operations and their preconditions, through the actor ---- */

static void test_lifecycle_of_an_agent(void **state)
{
    fixture_t *f = *state;
    start(f, "in_memory", "m1", false);
    test_agent_t a1, a2;
    test_agent_init(&a1, "a1", "host1");
    test_agent_init(&a2, "a2", "host2");
    assert_true(run(f, admit(&a1)));
    assert_false(run(f, admit(&a1)));
    assert_true(run(f, (registrar_op_t){.kind = REGISTRAR_UPDATE_AGENT, .agent = &a1.info}));
    assert_false(run(f, (registrar_op_t){.kind = REGISTRAR_UPDATE_AGENT, .agent = &a2.info}));
    assert_true(run(f, mark(REGISTRAR_MARK_UNREACHABLE, "a1", 10.0)));
    assert_false(run(f, mark(REGISTRAR_MARK_UNREACHABLE, "a1", 11.0)));
    assert_false(run(f, mark(REGISTRAR_REMOVE_AGENT, "a1", 0)));
    assert_true(run(f, (registrar_op_t){.kind = REGISTRAR_MARK_REACHABLE, .agent = &a1.info}));
    assert_false(run(f, (registrar_op_t){.kind = REGISTRAR_MARK_REACHABLE, .agent = &a1.info}));
    assert_true(run(f, mark(REGISTRAR_REMOVE_AGENT, "a1", 0)));
    assert_false(run(f, mark(REGISTRAR_REMOVE_AGENT, "a1", 0)));
    assert_true(run(f, admit(&a1))); /* removed agents may come back */
    assert_true(run(f, mark(REGISTRAR_MARK_UNREACHABLE, "a1", 12.0)));
    assert_true(run(f, admit(&a1))); /* readmitted from unreachable */
    assert_true(run(f, mark(REGISTRAR_MARK_GONE, "a1", 13.0)));
    assert_false(run(f, mark(REGISTRAR_MARK_GONE, "a1", 14.0)));
    assert_false(run(f, admit(&a1)));                            /* gone for good */
    assert_false(run(f, mark(REGISTRAR_MARK_GONE, "a2", 14.0))); /* never admitted */
    assert_true(run(f, mark(REGISTRAR_PRUNE_UNREACHABLE, NULL, 100.0)));
    assert_true(run(f, (registrar_op_t){.kind = REGISTRAR_UPDATE_WEIGHTS}));
    assert_int_equal(failures, 0);
}

/* ---- recovery ---- */

static void test_registry_comes_back_after_restart(void **state)
{
    fixture_t *f = *state;
    start(f, "lmdb", "m1", false);
    test_agent_t a[5];
    const char *ids[] = {"a1", "a2", "a3", "a4", "a5"};
    for (int i = 0; i < 5; i++) {
        test_agent_init(&a[i], ids[i], ids[i]);
        assert_true(run(f, admit(&a[i])));
    }
    assert_true(run(f, mark(REGISTRAR_MARK_UNREACHABLE, "a2", 100.0)));
    assert_true(run(f, mark(REGISTRAR_MARK_UNREACHABLE, "a5", 300.0)));
    assert_true(run(f, mark(REGISTRAR_MARK_GONE, "a3", 200.0)));
    assert_true(run(f, mark(REGISTRAR_PRUNE_UNREACHABLE, NULL, 150.0))); /* forgets a2 */
    Mesos__WeightInfo dev, ops;
    test_weight_init(&dev, "dev", 2.5);
    test_weight_init(&ops, "ops", 3.0);
    const Mesos__WeightInfo *set[] = {&dev, &ops};
    assert_true(run(
        f, (registrar_op_t){.kind = REGISTRAR_UPDATE_WEIGHTS, .weights = set, .weight_count = 2}));
    ops.weight = 1.0; /* back to the default: the entry goes */
    const Mesos__WeightInfo *reset[] = {&ops};
    assert_true(run(f, (registrar_op_t){
                           .kind = REGISTRAR_UPDATE_WEIGHTS, .weights = reset, .weight_count = 1}));
    stop(f);

    registry_t *r = start(f, "lmdb", "m2", true);
    assert_string_equal(r->master->info->id, "m1");
    assert_int_equal(r->agents->n_agents, 2);
    assert_string_equal(agent_id_at(r, 0), "a1");
    assert_string_equal(agent_id_at(r, 1), "a4");
    assert_string_equal(r->agents->agents[1]->info->hostname, "a4");
    assert_int_equal(r->unreachable->n_agents, 1);
    assert_string_equal(r->unreachable->agents[0]->id->value, "a5");
    assert_int_equal(r->unreachable->agents[0]->timestamp->nanoseconds, INT64_C(300000000000));
    assert_int_equal(r->gone->n_agents, 1);
    assert_string_equal(r->gone->agents[0]->id->value, "a3");
    assert_int_equal(r->gone->agents[0]->timestamp->nanoseconds, INT64_C(200000000000));
    assert_int_equal(r->n_weights, 1);
    assert_string_equal(r->weights[0]->info->role, "dev");
    assert_true(r->weights[0]->info->weight == 2.5);
    mesos__internal__registry__registry__free_unpacked(r, NULL);

    /* The restarted registrar checks preconditions against what it read. */
    assert_false(run(f, admit(&a[0])));
    assert_false(run(f, admit(&a[2])));
    assert_true(run(f, (registrar_op_t){.kind = REGISTRAR_MARK_REACHABLE, .agent = &a[4].info}));
    assert_false(run(f, (registrar_op_t){.kind = REGISTRAR_MARK_REACHABLE, .agent = &a[1].info}));
    stop(f);
    r = start(f, "lmdb", "m3", true);
    assert_string_equal(r->master->info->id, "m2");
    assert_int_equal(r->agents->n_agents, 3);
    mesos__internal__registry__registry__free_unpacked(r, NULL);
}

/* In a child: the registrar answers an admit, and done kills the process with SIGKILL. */
static void die_when_answered(actor_t *self, void *state, void *arg, bool applied)
{
    (void)self, (void)state, (void)arg;
    if (applied)
        kill(getpid(), SIGKILL);
    _exit(2);
}

/* In a forked child, where a failed cmocka assertion would not reach the parent: starts a
 * runtime, spawns a registrar on store with `failed`, submits op from a client with done (NULL:
 * on_done), and runs. Never returns: a failure exits 3 to 5, and 6 if nothing ended the process
 * by then. */
static void child_submit(store_t *store, registrar_failed_fn failed, registrar_op_t op,
                         registrar_done_fn done)
{
    actor_runtime_options_t opts;
    actor_runtime_options_init(&opts);
    opts.workers = 0;
    if (store == NULL || actor_runtime_start(&opts) != ACTOR_OK)
        _exit(3);
    registrar_options_t ropts = {.store = store, .failed = failed};
    actor_pid_t client;
    result_t unused;
    submission_t s = {.ops = &op, .count = 1, .results = &unused, .done = done};
    if (registrar_spawn(&ropts, &s.registrar) != ACTOR_OK ||
        actor_spawn(&client_ops, NULL, NULL, &client) != ACTOR_OK)
        _exit(4);
    if (actor_dispatch(&client, call_submit, &s) != ACTOR_OK)
        _exit(5);
    actor_settle();
    _exit(6);
}

static void child_admit_then_die(fixture_t *f)
{
    Mesos__MasterInfo master;
    test_master_init(&master, "m1");
    store_t *store = NULL;
    registry_t *previous = NULL;
    test_agent_t a1;
    test_agent_init(&a1, "a1", "host1");
    if (registrar_recover("lmdb", f->dir, NULL, &master, &store, &previous) != ACTOR_OK)
        store = NULL;
    child_submit(store, test_failed, admit(&a1), die_when_answered);
}

static void test_answered_op_survives_kill_9(void **state)
{
    fixture_t *f = *state;
    actor_runtime_stop(); /* the child starts its own */
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0)
        child_admit_then_die(f);
    int status = 0;
    assert_int_equal(waitpid(child, &status, 0), child);
    assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    runtime_start(f);
    registry_t *r = start(f, "lmdb", "m2", true);
    assert_int_equal(r->agents->n_agents, 1);
    assert_string_equal(agent_id_at(r, 0), "a1");
    mesos__internal__registry__registry__free_unpacked(r, NULL);
}

/* ---- batching ---- */

static void test_ops_arriving_together_share_one_store(void **state)
{
    fixture_t *f = *state;
    enum { N = 100 };
    start(f, "in_memory", "m1", false);
    static test_agent_t agents[N];
    registrar_op_t ops[N];
    char id[32];
    for (int i = 0; i < N; i++) {
        snprintf(id, sizeof(id), "agent-%d", i);
        test_agent_init(&agents[i], id, "host");
        ops[i] = admit(&agents[i]);
    }
    assert_true(run(f, ops[0])); /* a batch of one */
    result_t results[N] = {{0}};
    submit(f, &ops[1], N - 1, results); /* one event of the client: one batch */
    for (int i = 0; i < N - 1; i++) {
        assert_int_equal(results[i].calls, 1);
        assert_true(results[i].applied);
        assert_true(results[i].in_submitter);
        assert_int_equal(results[i].order, i + 2); /* answered in submission order */
    }
    assert_true(stores_count() == 2.0);
    memset(results, 0, sizeof(results));
    submit(f, ops, N, results); /* all admitted already: nothing to write */
    for (int i = 0; i < N; i++)
        assert_false(results[i].applied);
    assert_true(stores_count() == 2.0);
}

static void test_preconditions_in_order_within_a_batch(void **state)
{
    fixture_t *f = *state;
    start(f, "lmdb", "m1", false);
    test_agent_t x, y;
    test_agent_init(&x, "x", "hx");
    test_agent_init(&y, "y", "hy");
    const registrar_op_t ops[] = {
        admit(&x),
        mark(REGISTRAR_MARK_UNREACHABLE, "x", 5.0), /* sees x admitted by the op before */
        admit(&y),
        admit(&y), /* sees y admitted: refused */
        mark(REGISTRAR_MARK_GONE, "y", 6.0),
        mark(REGISTRAR_REMOVE_AGENT, "z", 0), /* unknown: refused */
    };
    const bool expected[] = {true, true, true, false, true, false};
    enum { N = sizeof(ops) / sizeof(ops[0]) };
    result_t results[N] = {{0}};
    submit(f, ops, N, results);
    for (int i = 0; i < N; i++) {
        assert_int_equal(results[i].calls, 1);
        assert_int_equal(results[i].applied, expected[i]);
    }
    stop(f);
    registry_t *r = start(f, "lmdb", "m2", true);
    assert_int_equal(r->agents->n_agents, 0);
    assert_int_equal(r->unreachable->n_agents, 1);
    assert_string_equal(r->unreachable->agents[0]->id->value, "x");
    assert_int_equal(r->gone->n_agents, 1);
    assert_string_equal(r->gone->agents[0]->id->value, "y");
    mesos__internal__registry__registry__free_unpacked(r, NULL);
}

/* ---- answers that cannot be delivered ---- */

/* Asserts that each of the n answers ran once, not inside the submitter, with `applied`. */
static void assert_not_delivered(const result_t *results, size_t n, bool applied)
{
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(results[i].calls, 1);
        assert_false(results[i].in_submitter);
        assert_int_equal(results[i].applied, applied);
    }
}

static void test_submitter_gone_still_frees(void **state)
{
    fixture_t *f = *state;
    start(f, "in_memory", "m1", false);
    test_agent_t a1, a2;
    test_agent_init(&a1, "a1", "host1");
    test_agent_init(&a2, "a2", "host2");
    const registrar_op_t ops[] = {admit(&a1), admit(&a2)};
    result_t results[2] = {{0}};
    submission_t s = {.registrar = f->registrar,
                      .ops = ops,
                      .count = 2,
                      .results = results,
                      .then_terminate_self = true};
    assert_int_equal(actor_dispatch(&f->client, call_submit, &s), ACTOR_OK);
    actor_settle();
    assert_int_equal(s.errs[0], ACTOR_OK);
    assert_int_equal(s.errs[1], ACTOR_OK);
    assert_not_delivered(results, 2, true); /* written all the same */
    assert_int_equal(actor_spawn(&client_ops, NULL, NULL, &f->client), ACTOR_OK);
    assert_false(run(f, admit(&a1)));
}

static void test_registrar_terminated_with_ops_queued(void **state)
{
    fixture_t *f = *state;
    start(f, "in_memory", "m1", false);
    test_agent_t a1;
    test_agent_init(&a1, "a1", "host1");
    const registrar_op_t ops[] = {admit(&a1), mark(REGISTRAR_MARK_GONE, "a1", 1.0)};
    result_t results[2] = {{0}};
    submission_t s = {.registrar = f->registrar,
                      .ops = ops,
                      .count = 2,
                      .results = results,
                      .then_terminate_registrar = true};
    assert_int_equal(actor_dispatch(&f->client, call_submit, &s), ACTOR_OK);
    actor_settle();
    actor_wait(&f->registrar);
    assert_not_delivered(results, 2, false);
    /* The registrar is gone: a submit fails and done never runs. */
    result_t late = {0};
    s = (submission_t){.registrar = f->registrar, .ops = ops, .count = 1, .results = &late};
    assert_int_equal(actor_dispatch(&f->client, call_submit, &s), ACTOR_OK);
    actor_settle();
    assert_int_equal(s.errs[0], ACTOR_ENOENT);
    assert_int_equal(late.calls, 0);
}

/* ---- failure ---- */

/* An agent whose info is far larger than a 64 KiB map. */
static char *big_hostname(void)
{
    enum { LEN = 256 * 1024 };
    char *name = malloc(LEN + 1);
    assert_non_null(name);
    memset(name, 'h', LEN);
    name[LEN] = '\0';
    return name;
}

static void test_failed_write_stops_the_registrar(void **state)
{
    fixture_t *f = *state;
    registrar_options_t opts = {.store = test_store_open(f->dir, 64 * 1024), .failed = test_failed};
    assert_int_equal(registrar_spawn(&opts, &f->registrar), ACTOR_OK);
    char *hostname = big_hostname();
    test_agent_t small, big, other;
    test_agent_init(&small, "small", "host");
    test_agent_init(&big, "big", hostname);
    test_agent_init(&other, "other", "host");
    assert_true(run(f, admit(&small)));

    const registrar_op_t ops[] = {admit(&other), admit(&big)};
    result_t results[2] = {{0}};
    submit(f, ops, 2, results);
    assert_int_equal(failures, 1);
    assert_int_equal(failure_err, ACTOR_ETOOBIG);
    assert_not_delivered(results, 2, false);
    result_t late = {0};
    registrar_op_t op = mark(REGISTRAR_REMOVE_AGENT, "small", 0);
    submit(f, &op, 1, &late);
    assert_not_delivered(&late, 1, false);
    assert_int_equal(failures, 1);
    free(hostname);

    stop(f);
    store_t *store = test_store_open(f->dir, 0);
    void *value = NULL;
    size_t len = 0;
    assert_int_equal(store_get(store, "agents/small", 12, &value, &len), ACTOR_OK);
    free(value);
    assert_int_equal(store_get(store, "agents/other", 12, &value, &len), ACTOR_ENOENT);
    store_close(store);
}

/* In a child: the default `failed` must log and exit 1. */
static void child_fail_by_default(fixture_t *f, int log_fd)
{
    log_set_fd(log_fd);
    char path[TEST_DIR_LEN + 16];
    snprintf(path, sizeof(path), "%s/registry", f->dir);
    store_options_t small = {.map_size = 64 * 1024};
    store_t *store = NULL;
    if (store_open(&store, "lmdb", path, &small) != ACTOR_OK)
        store = NULL;
    test_agent_t big;
    test_agent_init(&big, "big", big_hostname());
    child_submit(store, NULL, admit(&big), NULL);
}

static void test_failed_write_exits_by_default(void **state)
{
    fixture_t *f = *state;
    actor_runtime_stop(); /* the child starts its own */
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        close(fds[0]);
        child_fail_by_default(f, fds[1]);
    }
    close(fds[1]);
    char log[4096];
    size_t used = 0;
    ssize_t n;
    while ((n = read(fds[0], log + used, sizeof(log) - 1 - used)) > 0)
        used += (size_t)n;
    close(fds[0]);
    log[used] = '\0';
    int status = 0;
    assert_int_equal(waitpid(child, &status, 0), child);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 1);
    assert_non_null(strstr(log, "Failed to update the registry"));
}

/* ---- refused input ---- */

static void test_refused_submits_never_answer(void **state)
{
    fixture_t *f = *state;
    start(f, "in_memory", "m1", false);
    test_agent_t no_id;
    test_agent_init(&no_id, "x", "host");
    no_id.info.id = NULL;
    const registrar_op_t ops[] = {
        {.kind = REGISTRAR_ADMIT_AGENT}, /* no agent */
        admit(&no_id),
        mark(REGISTRAR_MARK_UNREACHABLE, NULL, 1.0),
    };
    result_t results[3] = {{0}};
    submission_t s = {.registrar = f->registrar, .ops = ops, .count = 3, .results = results};
    assert_int_equal(actor_dispatch(&f->client, call_submit, &s), ACTOR_OK);
    actor_settle();
    for (int i = 0; i < 3; i++) {
        assert_int_equal(s.errs[i], ACTOR_EINVAL);
        assert_int_equal(results[i].calls, 0);
    }
    assert_int_equal(registrar_submit(NULL, &f->registrar, &ops[0], on_done, NULL), ACTOR_EINVAL);
}

static void test_spawn_refusals_and_second_registrar(void **state)
{
    fixture_t *f = *state;
    assert_int_equal(registrar_spawn(NULL, NULL), ACTOR_EINVAL);
    registrar_options_t opts = {0};
    assert_int_equal(registrar_spawn(&opts, NULL), ACTOR_EINVAL);
    opts.store = test_store_open(f->dir, 0);
    test_store_put(opts.store, "unreachable/x", "\xff", 1);
    assert_int_equal(registrar_spawn(&opts, NULL), ACTOR_EPROTO);
    assert_int_equal(store_delete(opts.store, "unreachable/x", 13), ACTOR_OK); /* still ours */
    store_close(opts.store);

    start(f, "lmdb", "m1", false);
    assert_int_equal(store_open(&opts.store, "memory", NULL, NULL), ACTOR_OK);
    actor_pid_t second;
    assert_int_equal(registrar_spawn(&opts, &second), ACTOR_OK);
    assert_true(strncmp(second.id, "registrar(", 10) == 0);
    test_agent_t a1;
    test_agent_init(&a1, "a1", "host1");
    assert_true(run(f, admit(&a1)));
    f->registrar = second; /* a registry of its own */
    assert_true(run(f, admit(&a1)));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_lifecycle_of_an_agent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_registry_comes_back_after_restart, setup, teardown),
        cmocka_unit_test_setup_teardown(test_answered_op_survives_kill_9, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ops_arriving_together_share_one_store, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_preconditions_in_order_within_a_batch, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_submitter_gone_still_frees, setup, teardown),
        cmocka_unit_test_setup_teardown(test_registrar_terminated_with_ops_queued, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failed_write_stops_the_registrar, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failed_write_exits_by_default, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refused_submits_never_answer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_spawn_refusals_and_second_registrar, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
