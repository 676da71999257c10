/*
 * A cluster across hosts (issue 5; DESIGN.md sections 2 and 9): the real mesos-master, two
 * mesos-agents and the frameworks each in a network namespace of their own (netlab.h), joined
 * by a bridge in a hub namespace:
 *
 *   master 198.18.0.1:5050    agent1 198.18.0.2:5051    agent2 198.18.0.3:5051    frameworks
 *                                                                                  198.18.0.4
 *
 * The master pings agents every second and marks one unreachable after 3 missed pongs; agents
 * have cpus:1.5 each. In order (the tests share the cluster):
 *
 * 1. Everything advertises its own namespace's address: the master's PID and hostname, the
 *    agents' PIDs and hostnames in the master's /state, the master in each agent's /state.
 * 2. sleepy-framework runs 4 tasks of cpus:1 (one fits an agent at a time): all finish, and on
 *    both agents.
 * 3. A second sleepy (partition-aware) keeps one task on each agent and mesos-execute (not
 *    partition-aware) runs one more on either. The cable of the agent holding mesos-execute's
 *    task is cut at the hub: after the ping timeouts the master marks the agent unreachable and
 *    lists its tasks among the unreachable ones (sleepy's TASK_UNREACHABLE, mesos-execute's
 *    TASK_LOST, as Mesos's master records them); mesos-execute hears TASK_LOST and exits 1,
 *    sleepy waits, and the other agent's task runs on.
 * 4. The cable, cut for CUT_MS (long enough for the kernel to back off its retransmissions on
 *    the streams the partition left stale, as a real outage does), is connected again: within
 *    RECONCILE_MS the agent reregisters and the master's view is reconciled (sleepy's task
 *    TASK_RUNNING again), and it stays so, the agent never marked unreachable again (both sides
 *    dial fresh streams on reregistration instead of waiting for the stale ones' next
 *    retransmission); sleepy's teardown then reaches both agents (its two tasks TASK_KILLED).
 * 5. mesos-execute's framework, removed while the agent was away, stays removed, and its task
 *    does not come back as running.
 * 6. No process wrote a sanitizer report.
 *
 * Every wait is a poll with a deadline; a run takes about 20 s.
 * Skipped, with the reason, unless run as root where `ip netns` works.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "tests/multihost/netlab.h"

#define MASTER_IP         "198.18.0.1"
#define FRAMEWORK_IP      "198.18.0.4"
#define MASTER_PORT       5050
#define AGENT_PORT        5051
#define MASTER_FLAG       "--master=" MASTER_IP ":5050"
#define PING_TIMEOUT_MS   1000
#define MAX_PING_TIMEOUTS 3
#define AGENT_COUNT       2
#define POLL_MS           100
#define EXECUTE_TASK      "mh-execute"
#define CUT_MS            10000 /* how long the cable stays cut */
#define RECONCILE_MS      3000  /* from the cable's return to the agent reregistered */

static const char *const agent_ips[AGENT_COUNT] = {"198.18.0.2", "198.18.0.3"};

typedef struct cluster {
    netlab_t lab;
    int master, agents[AGENT_COUNT], frameworks; /* node indices */
    char agent_ids[AGENT_COUNT][128];
    int long_sleepy;  /* process index of the partition-aware sleepy; -1 before test 3 */
    int execute;      /* process index of mesos-execute; -1 before test 3 */
    int victim;       /* index in agents of the agent whose cable is cut; -1 before */
    bool partitioned; /* test 3 cut a cable: test 4 connects it again */
    bool healed;      /* test 4 connected it again */
} cluster_t;

/* ---- the master's and agents' JSON ---- */

static json_t *get_json(cluster_t *c, const char *ip, uint16_t port, const char *path)
{
    char *body = netlab_http_get(&c->lab, c->frameworks, ip, port, path);
    json_t *root = body != NULL ? json_loads(body, 0, NULL) : NULL;
    free(body);
    return root;
}

static json_t *master_state(cluster_t *c)
{
    return get_json(c, MASTER_IP, MASTER_PORT, "/state");
}

static const char *text(const json_t *object, const char *key)
{
    const char *s = json_string_value(json_object_get(object, key));
    return s != NULL ? s : "";
}

/* The entry of `list` (an array member of object) whose `key` is `value`, or NULL. */
static json_t *find(const json_t *object, const char *list, const char *key, const char *value)
{
    json_t *item;
    size_t i;
    json_array_foreach(json_object_get(object, list), i, item)
    {
        if (strcmp(text(item, key), value) == 0)
            return item;
    }
    return NULL;
}

/* How many tasks of fw's `list` are in task_state (NULL: any) on agent_id (NULL: any). */
static size_t count_tasks(const json_t *fw, const char *list, const char *task_state,
                          const char *agent_id)
{
    size_t n = 0;
    json_t *task;
    size_t i;
    json_array_foreach(json_object_get(fw, list), i, task)
    {
        n += (task_state == NULL || strcmp(text(task, "state"), task_state) == 0) &&
             (agent_id == NULL || strcmp(text(task, "slave_id"), agent_id) == 0);
    }
    return n;
}

/* The state of task id in any framework of the master's /state ("" when it has none), and in
 * which list of its framework it is. */
static const char *task_state(const json_t *state, const char *id, const char **list)
{
    static const char *const frameworks[] = {"frameworks", "completed_frameworks"};
    static const char *const lists[] = {"tasks", "unreachable_tasks", "completed_tasks"};
    for (size_t f = 0; f < 2; f++) {
        json_t *fw;
        size_t i;
        json_array_foreach(json_object_get(state, frameworks[f]), i, fw)
        {
            for (size_t l = 0; l < 3; l++) {
                json_t *task = find(fw, lists[l], "id", id);
                if (task != NULL) {
                    *list = lists[l];
                    return text(task, "state");
                }
            }
        }
    }
    *list = "";
    return "";
}

static bool agent_active(const json_t *state, const char *agent_id)
{
    json_t *agent = find(state, "slaves", "id", agent_id);
    return agent != NULL && json_is_true(json_object_get(agent, "active"));
}

/* Prints the agents and tasks of the master's /state (for a failing test). */
static void print_state(const json_t *state)
{
    if (state == NULL) {
        fprintf(stderr, "(the master's /state could not be read)\n");
        return;
    }
    json_t *item;
    size_t i;
    json_array_foreach(json_object_get(state, "slaves"), i, item)
    {
        fprintf(stderr, "agent %s %s active=%d\n", text(item, "id"), text(item, "hostname"),
                json_is_true(json_object_get(item, "active")));
    }
    static const char *const lists[] = {"tasks", "unreachable_tasks", "completed_tasks"};
    for (int completed = 0; completed < 2; completed++) {
        json_array_foreach(
            json_object_get(state, completed ? "completed_frameworks" : "frameworks"), i, item)
        {
            fprintf(stderr, "%sframework %s:", completed ? "completed " : "", text(item, "name"));
            for (size_t l = 0; l < 3; l++) {
                json_t *task;
                size_t k;
                json_array_foreach(json_object_get(item, lists[l]), k, task)
                {
                    fprintf(stderr, " %s[%s %s on %s]", lists[l], text(task, "id"),
                            text(task, "state"), text(task, "slave_id"));
                }
            }
            fprintf(stderr, "\n");
        }
    }
}

/* Polls the master's /state every POLL_MS until check holds, for timeout_ms at most. Returns
 * whether it held; if not, prints the last state and the processes' outputs. */
typedef bool (*check_t)(cluster_t *c, const json_t *state);

static bool poll_state(cluster_t *c, check_t check, int timeout_ms, const char *what)
{
    int64_t deadline = netlab_now_ms() + timeout_ms;
    for (;;) {
        json_t *state = master_state(c);
        bool ok = state != NULL && check(c, state);
        if (!ok && netlab_now_ms() >= deadline) {
            fprintf(stderr, "Timed out after %d ms waiting until %s; the master's view:\n",
                    timeout_ms, what);
            print_state(state);
            netlab_dump(&c->lab);
        }
        json_decref(state);
        if (ok || netlab_now_ms() >= deadline)
            return ok;
        netlab_pause_ms(POLL_MS);
    }
}

/* poll_state, failing the test on timeout. */
static void await_state(cluster_t *c, check_t check, int timeout_ms, const char *what)
{
    if (!poll_state(c, check, timeout_ms, what))
        fail_msg("%s: not within %d ms", what, timeout_ms);
}

/* Waits up to timeout_ms for process proc to exit; fails the test (with the outputs) unless its
 * exit status is `expected`. */
static void expect_exit(cluster_t *c, int proc, int timeout_ms, int expected)
{
    int status = netlab_wait(&c->lab, proc, timeout_ms);
    if (status != expected) {
        fprintf(stderr, "%s: exit status %d (-1: still running after %d ms), expected %d\n",
                c->lab.procs[proc].name, status, timeout_ms, expected);
        netlab_dump(&c->lab);
    }
    assert_int_equal(status, expected);
}

/* ---- the cluster ---- */

static bool agents_registered(cluster_t *c, const json_t *state)
{
    for (size_t i = 0; i < AGENT_COUNT; i++) {
        json_t *agent = find(state, "slaves", "hostname", agent_ips[i]);
        if (agent == NULL || !json_is_true(json_object_get(agent, "active")))
            return false;
        snprintf(c->agent_ids[i], sizeof(c->agent_ids[i]), "%s", text(agent, "id"));
    }
    return true;
}

static int start_daemons(cluster_t *c)
{
    char ping[64], pings[64], work_dir[AGENT_COUNT][128], ip[AGENT_COUNT][32], launcher[4200];
    snprintf(ping, sizeof(ping), "--agent_ping_timeout=%dms", PING_TIMEOUT_MS);
    snprintf(pings, sizeof(pings), "--max_agent_ping_timeouts=%d", MAX_PING_TIMEOUTS);
    char *master[] = {"mesos-master",
                      "--ip=" MASTER_IP,
                      "--port=5050",
                      "--registry=in_memory",
                      ping,
                      pings,
                      "--allocation_interval=100ms",
                      NULL};
    if (netlab_spawn(&c->lab, c->master, "master", master) < 0)
        return -1;
    snprintf(launcher, sizeof(launcher), "--launcher_dir=%s", c->lab.bin_dir);
    for (size_t i = 0; i < AGENT_COUNT; i++) {
        snprintf(work_dir[i], sizeof(work_dir[i]), "--work_dir=%s/agent%zu", c->lab.dir, i + 1);
        snprintf(ip[i], sizeof(ip[i]), "--ip=%s", agent_ips[i]);
        char *agent[] = {"mesos-agent",
                         MASTER_FLAG,
                         ip[i],
                         "--port=5051",
                         work_dir[i],
                         "--resources=cpus:1.5;mem:256;disk:256",
                         "--registration_backoff_factor=100ms",
                         launcher,
                         NULL};
        if (netlab_spawn(&c->lab, c->agents[i], c->lab.nodes[c->agents[i]].name, agent) < 0)
            return -1;
    }
    return poll_state(c, agents_registered, 15000, "both agents registered") ? 0 : -1;
}

static int make_cluster(cluster_t *c, const char *bin_dir)
{
    char err[256];
    if (netlab_open(&c->lab, bin_dir, err, sizeof(err)) != 0)
        goto fail;
    int nodes[2 + AGENT_COUNT];
    const char *names[] = {"master", "agent1", "agent2", "frameworks"};
    const char *ips[] = {MASTER_IP, agent_ips[0], agent_ips[1], FRAMEWORK_IP};
    for (size_t i = 0; i < 2 + AGENT_COUNT; i++) {
        nodes[i] = netlab_node_add(&c->lab, names[i], ips[i], err, sizeof(err));
        if (nodes[i] < 0)
            goto fail;
    }
    c->master = nodes[0];
    c->agents[0] = nodes[1];
    c->agents[1] = nodes[2];
    c->frameworks = nodes[3];
    snprintf(err, sizeof(err), "the daemons did not start");
    if (start_daemons(c) != 0)
        goto fail;
    return 0;

fail:
    fprintf(stderr, "Cannot make the cluster: %s\n", err);
    netlab_dump(&c->lab);
    netlab_close(&c->lab);
    return -1;
}

static int setup(void **state)
{
    *state = NULL;
    char skip_reason[256] = "";
    const char *bin_dir = getenv("MESOS_TEST_BIN_DIR");
    if (bin_dir == NULL || *bin_dir == '\0')
        snprintf(skip_reason, sizeof(skip_reason), "MESOS_TEST_BIN_DIR is not set");
    else
        netlab_unavailable(skip_reason, sizeof(skip_reason)); /* fills it only when it is */
    if (skip_reason[0] != '\0') {
        fprintf(stderr, "multihost: SKIPPED: %s\n", skip_reason);
        return 0;
    }
    cluster_t *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return -1;
    c->long_sleepy = c->execute = c->victim = -1;
    if (make_cluster(c, bin_dir) != 0) {
        free(c);
        return -1;
    }
    *state = c;
    return 0;
}

static int teardown(void **state)
{
    cluster_t *c = *state;
    if (c != NULL) {
        netlab_close(&c->lab);
        free(c);
    }
    return 0;
}

/* The cluster, or a skip (setup printed why). */
static cluster_t *cluster_or_skip(void **state)
{
    if (*state == NULL)
        skip();
    return *state;
}

/* ---- 1. addresses ---- */

/* Whether the JSON of a daemon's /state names a loopback address (flags aside). */
static bool names_loopback(json_t *state)
{
    json_t *copy = json_copy(state);
    json_object_del(copy, "flags");
    char *text_form = json_dumps(copy, JSON_COMPACT);
    bool found = text_form == NULL || strstr(text_form, "127.0.0.1") != NULL ||
                 strstr(text_form, "localhost") != NULL;
    free(text_form);
    json_decref(copy);
    return found;
}

static void test_cluster_spans_namespaces(void **state)
{
    cluster_t *c = cluster_or_skip(state);
    json_t *master = master_state(c);
    assert_non_null(master);
    assert_string_equal(text(master, "pid"), "master@" MASTER_IP ":15050");
    assert_string_equal(text(master, "hostname"), MASTER_IP);
    assert_false(names_loopback(master));
    for (size_t i = 0; i < AGENT_COUNT; i++) {
        json_t *agent = find(master, "slaves", "id", c->agent_ids[i]);
        char pid[64];
        snprintf(pid, sizeof(pid), "slave(1)@%s:15051", agent_ips[i]);
        assert_non_null(agent);
        assert_string_equal(text(agent, "pid"), pid);
        assert_string_equal(text(agent, "hostname"), agent_ips[i]);
        assert_int_equal(json_integer_value(json_object_get(agent, "port")), AGENT_PORT);
        /* The agent, asked on its own address, names the master. */
        json_t *own = get_json(c, agent_ips[i], AGENT_PORT, "/state");
        assert_non_null(own);
        assert_string_equal(text(own, "id"), c->agent_ids[i]);
        assert_string_equal(text(own, "pid"), pid);
        assert_string_equal(text(own, "master_hostname"), MASTER_IP);
        assert_false(names_loopback(own));
        json_decref(own);
    }
    json_decref(master);
}

/* ---- 2. tasks run and finish on both agents ---- */

static bool finish_recorded(cluster_t *c, const json_t *state)
{
    (void)c;
    json_t *fw = find(state, "completed_frameworks", "name", "mh-finish");
    return fw != NULL && count_tasks(fw, "completed_tasks", "TASK_FINISHED", NULL) == 4;
}

static void test_tasks_finish_on_both_agents(void **state)
{
    cluster_t *c = cluster_or_skip(state);
    char *argv[] = {
        "sleepy-framework",          MASTER_FLAG, "--name=mh-finish", "--tasks=4", "--duration=0.5",
        "--resources=cpus:1;mem:32", NULL};
    int sleepy = netlab_spawn(&c->lab, c->frameworks, "sleepy-finish", argv);
    assert_true(sleepy >= 0);
    expect_exit(c, sleepy, 20000, 0);
    char *out = netlab_output(&c->lab, sleepy, false);
    assert_non_null(strstr(out, "\"tasks\":4,\"finished\":4,\"failed\":0,"));
    free(out);
    await_state(c, finish_recorded, 5000, "the master lists mh-finish as completed");
    json_t *master = master_state(c);
    json_t *fw = find(master, "completed_frameworks", "name", "mh-finish");
    assert_non_null(fw);
    /* The scheduler advertised its own namespace's address too. */
    assert_non_null(strstr(text(fw, "pid"), "@" FRAMEWORK_IP ":"));
    for (size_t i = 0; i < AGENT_COUNT; i++)
        assert_true(count_tasks(fw, "completed_tasks", "TASK_FINISHED", c->agent_ids[i]) >= 1);
    json_decref(master);
}

/* ---- 3. a cut cable ---- */

static bool long_tasks_running(cluster_t *c, const json_t *state)
{
    json_t *fw = find(state, "frameworks", "name", "mh-long");
    return fw != NULL && count_tasks(fw, "tasks", "TASK_RUNNING", c->agent_ids[0]) == 1 &&
           count_tasks(fw, "tasks", "TASK_RUNNING", c->agent_ids[1]) == 1;
}

static bool execute_running(cluster_t *c, const json_t *state)
{
    json_t *fw = find(state, "frameworks", "name", "mesos-execute instance");
    json_t *task = fw != NULL ? find(fw, "tasks", "id", EXECUTE_TASK) : NULL;
    if (task == NULL || strcmp(text(task, "state"), "TASK_RUNNING") != 0)
        return false;
    for (int i = 0; i < AGENT_COUNT; i++) {
        if (strcmp(text(task, "slave_id"), c->agent_ids[i]) == 0)
            c->victim = i;
    }
    return c->victim >= 0;
}

/* The victim is unreachable with its tasks (TASK_UNREACHABLE for the partition-aware sleepy,
 * TASK_LOST for mesos-execute, as Mesos's master records them); the other agent and its task are
 * untouched. */
static bool partitioned(cluster_t *c, const json_t *state)
{
    const char *victim = c->agent_ids[c->victim], *other = c->agent_ids[1 - c->victim];
    json_t *fw = find(state, "frameworks", "name", "mh-long");
    const char *list;
    const char *execute = task_state(state, EXECUTE_TASK, &list);
    return !agent_active(state, victim) && agent_active(state, other) &&
           json_integer_value(json_object_get(state, "unreachable_slaves")) == 1 && fw != NULL &&
           count_tasks(fw, "unreachable_tasks", "TASK_UNREACHABLE", victim) == 1 &&
           count_tasks(fw, "tasks", NULL, victim) == 0 &&
           count_tasks(fw, "tasks", "TASK_RUNNING", other) == 1 &&
           strcmp(list, "unreachable_tasks") == 0 && strcmp(execute, "TASK_LOST") == 0;
}

static void test_cut_link_makes_tasks_unreachable(void **state)
{
    cluster_t *c = cluster_or_skip(state);
    char *sleepy[] = {
        "sleepy-framework",          MASTER_FLAG, "--name=mh-long", "--tasks=2", "--duration=600",
        "--resources=cpus:1;mem:32", NULL};
    c->long_sleepy = netlab_spawn(&c->lab, c->frameworks, "sleepy-long", sleepy);
    assert_true(c->long_sleepy >= 0);
    await_state(c, long_tasks_running, 10000, "mh-long runs one task on each agent");
    char *execute[] = {"mesos-execute",
                       MASTER_FLAG,
                       "--name=" EXECUTE_TASK,
                       "--no-partition_aware",
                       "--command=sleep 600",
                       "--resources=cpus:0.5;mem:32",
                       NULL};
    c->execute = netlab_spawn(&c->lab, c->frameworks, "mesos-execute", execute);
    assert_true(c->execute >= 0);
    await_state(c, execute_running, 10000, "mesos-execute's task runs");

    int64_t cut = netlab_now_ms();
    assert_int_equal(netlab_link_set(&c->lab, c->agents[c->victim], false), 0);
    c->partitioned = true;
    await_state(c, partitioned, 4 * PING_TIMEOUT_MS * MAX_PING_TIMEOUTS,
                "the cut agent and its tasks are unreachable");
    int64_t took = netlab_now_ms() - cut;
    fprintf(stderr, "multihost: agent %s unreachable %lld ms after its cable was cut\n",
            agent_ips[c->victim], (long long)took);
    /* Not before the master missed its pongs. */
    assert_true(took >= (MAX_PING_TIMEOUTS - 1) * PING_TIMEOUT_MS);
    /* mesos-execute is not partition-aware: it heard TASK_LOST, which ends it. */
    expect_exit(c, c->execute, 5000, 1);
    char *out = netlab_output(&c->lab, c->execute, false);
    assert_non_null(strstr(out, "Received status update TASK_LOST for task '" EXECUTE_TASK "'"));
    free(out);
    /* sleepy is: it waits for its task. */
    assert_true(netlab_running(&c->lab, c->long_sleepy));
    /* The agent keeps retrying its reregistration into the void until the cable is back. */
    int64_t left = cut + CUT_MS - netlab_now_ms();
    if (left > 0)
        netlab_pause_ms((int)left);
}

/* ---- 4. the cable back ---- */

static bool reconciled(cluster_t *c, const json_t *state)
{
    json_t *fw = find(state, "frameworks", "name", "mh-long");
    return agent_active(state, c->agent_ids[0]) && agent_active(state, c->agent_ids[1]) &&
           json_integer_value(json_object_get(state, "unreachable_slaves")) == 0 &&
           long_tasks_running(c, state) && count_tasks(fw, "unreachable_tasks", NULL, NULL) == 0;
}

static bool long_torn_down(cluster_t *c, const json_t *state)
{
    json_t *fw = find(state, "completed_frameworks", "name", "mh-long");
    return fw != NULL && count_tasks(fw, "completed_tasks", "TASK_KILLED", c->agent_ids[0]) == 1 &&
           count_tasks(fw, "completed_tasks", "TASK_KILLED", c->agent_ids[1]) == 1;
}

/* Whether the agent, asked itself, says it is registered with the master: the master's view can
 * be reconciled while its answer to the reregistration is still on the way. */
static bool agent_registered(cluster_t *c, int agent)
{
    json_t *metrics = get_json(c, agent_ips[agent], AGENT_PORT, "/metrics/snapshot");
    bool registered = json_number_value(json_object_get(metrics, "slave/registered")) == 1.0;
    json_decref(metrics);
    return registered;
}

/* Waits until the master's view is reconciled and the cut agent knows it is registered again
 * (within first_ms of the call), then watches both for stable_ms: fails, with the master's view
 * and the outputs, if they never held or stopped holding (the master lost the agent again). */
static void await_stable_reconciliation(cluster_t *c, int first_ms, int stable_ms)
{
    int64_t start = netlab_now_ms(), since = 0;
    int flaps = 0;
    for (;;) {
        json_t *state = master_state(c);
        bool ok = state != NULL && reconciled(c, state) && agent_registered(c, c->victim);
        int64_t now = netlab_now_ms();
        if (ok && since == 0) {
            since = now;
            fprintf(stderr, "multihost: reconciled %lld ms after the cable came back\n",
                    (long long)(now - start));
        } else if (!ok && since != 0) {
            flaps++;
            fprintf(stderr,
                    "multihost: the master lost the agent again %lld ms after the cable "
                    "came back\n",
                    (long long)(now - start));
        }
        bool late = since == 0 && now - start >= first_ms;
        bool done = since != 0 && now - since >= stable_ms;
        if (late || flaps > 0) {
            print_state(state);
            netlab_dump(&c->lab);
        }
        json_decref(state);
        if (late || flaps > 0 || done)
            break;
        netlab_pause_ms(POLL_MS);
    }
    if (since == 0)
        fail_msg("the master's view was not reconciled within %d ms of the cable's return",
                 first_ms);
    if (flaps > 0)
        fail_msg("the master lost the agent again after it reregistered");
}

static void test_restored_link_reconciles_tasks(void **state)
{
    cluster_t *c = cluster_or_skip(state);
    if (!c->partitioned) {
        fprintf(stderr, "multihost: SKIPPED: the previous test did not cut a cable\n");
        skip();
    }
    assert_int_equal(netlab_link_set(&c->lab, c->agents[c->victim], true), 0);
    c->partitioned = false;
    c->healed = true;
    /* Reconciled soon, and still so well after the master would have missed its pongs. */
    await_stable_reconciliation(c, RECONCILE_MS, PING_TIMEOUT_MS * (MAX_PING_TIMEOUTS + 3));
    /* The agent takes orders again: sleepy's teardown kills its task there too. */
    netlab_signal(&c->lab, c->long_sleepy, SIGTERM);
    expect_exit(c, c->long_sleepy, 10000, 1);
    await_state(c, long_torn_down, 10000, "mh-long's tasks are killed on both agents");
}

/* ---- 5. what a removed framework left on the cut agent ---- */

/* Whether the agent's own /state lists task id under a running executor. */
static bool agent_runs(cluster_t *c, int agent, const char *id)
{
    json_t *own = get_json(c, agent_ips[agent], AGENT_PORT, "/state");
    json_t *fw, *executor;
    size_t i, k;
    bool runs = own == NULL;
    json_array_foreach(json_object_get(own, "frameworks"), i, fw)
    {
        json_array_foreach(json_object_get(fw, "executors"), k, executor)
        {
            runs = runs || find(executor, "tasks", "id", id) != NULL;
        }
    }
    json_decref(own);
    return runs;
}

/* mesos-execute's framework is gone (it tore itself down on TASK_LOST): its task, which ran on
 * through the partition, must not come back with the agent, nor the framework with it, and the
 * agent must not go on running it. */
static bool execute_gone(cluster_t *c, const json_t *state)
{
    const char *list;
    const char *s = task_state(state, EXECUTE_TASK, &list);
    return strcmp(s, "TASK_RUNNING") != 0 && strcmp(list, "tasks") != 0 &&
           find(state, "frameworks", "name", "mesos-execute instance") == NULL &&
           !agent_runs(c, c->victim, EXECUTE_TASK);
}

static void test_removed_framework_stays_removed(void **state)
{
    cluster_t *c = cluster_or_skip(state);
    if (!c->healed) {
        fprintf(stderr, "multihost: SKIPPED: the previous tests did not cut and heal a cable\n");
        skip();
    }
    await_state(c, execute_gone, 10000, "mesos-execute's task and framework stay gone");
}

/* ---- 6. the daemons' and tools' outputs ---- */

/* No process wrote a sanitizer report (in -DSANITIZE=ON builds: the daemons' errors as they
 * happen, the tools' leaks as they exit). */
static void test_no_sanitizer_reports(void **state)
{
    cluster_t *c = cluster_or_skip(state);
    static const char *const reports[] = {"ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
                                          "runtime error:"};
    size_t found = 0;
    for (size_t p = 0; p < c->lab.proc_count; p++) {
        for (int err = 0; err < 2; err++) {
            char *out = netlab_output(&c->lab, (int)p, err);
            for (size_t r = 0; r < sizeof(reports) / sizeof(reports[0]); r++) {
                const char *at = strstr(out, reports[r]);
                if (at != NULL) {
                    fprintf(stderr, "---- %s wrote ----\n%.3000s\n", c->lab.procs[p].name, at);
                    found++;
                }
            }
            free(out);
        }
    }
    assert_int_equal(found, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cluster_spans_namespaces),
        cmocka_unit_test(test_tasks_finish_on_both_agents),
        cmocka_unit_test(test_cut_link_makes_tasks_unreachable),
        cmocka_unit_test(test_restored_link_reconciles_tasks),
        cmocka_unit_test(test_removed_framework_stays_removed),
        cmocka_unit_test(test_no_sanitizer_reports),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
