/* The agent in an in-process cluster with the real master (tests/master/support.h): simulated
 * containers, the runtime without workers and the clock paused, so that registration, launches,
 * status updates and their retries, kills and reregistration run deterministically. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "actor/filter.h"
#include "slave/agent.h"
#include "tests/master/support.h"
#include "tests/support/fs.h"

#define EV(t) MESOS__SCHEDULER__EVENT__TYPE__##t

typedef struct agent_cluster {
    master_pids_t master;
    fake_t *sched;
    actor_pid_t agent;
    char work_dir[64];
} agent_cluster_t;

static int setup(void **state)
{
    cluster_runtime_start();
    agent_cluster_t *c = calloc(1, sizeof(*c));
    master_options_t opts;
    cluster_master_options(&opts, NULL);
    c->master = cluster_master_start(&opts);
    c->sched = fake_spawn("sched");
    assert_non_null(support_fs_tempdir(c->work_dir, sizeof(c->work_dir), "test_agent"));
    *state = c;
    return 0;
}

static int teardown(void **state)
{
    agent_cluster_t *c = *state;
    actor_filter_install(NULL, NULL);
    if (c->agent.id[0] != '\0')
        agent_stop(&c->agent);
    fake_stop(c->sched);
    master_stop(&c->master);
    cluster_runtime_stop();
    assert_int_equal(support_fs_rmtree(c->work_dir), 0);
    free(c);
    return 0;
}

static void agent_options(agent_cluster_t *c, agent_options_t *o, char *master, size_t len)
{
    agent_options_init(o);
    actor_pid_format(&c->master.master, master, len);
    o->master = master;
    o->work_dir = c->work_dir;
    o->resources = "cpus:4;mem:1024;disk:1024;ports:[31000-32000]";
    o->simulated = true;
    o->http_port = 5051;
}

static void start_agent(agent_cluster_t *c)
{
    agent_options_t o;
    char master[ACTOR_PID_STRLEN], err[256] = "";
    agent_options(c, &o, master, sizeof(master));
    assert_int_equal(agent_start(&o, &c->agent, err, sizeof(err)), ACTOR_OK);
    actor_settle();
}

/* Subscribes the scheduler, starts the agent and returns the first offer's event. */
static Mesos__Scheduler__Event *first_offer(agent_cluster_t *c)
{
    sched_subscribe(c->sched, &c->master, NULL, 60, true, true);
    start_agent(c);
    cluster_advance(1); /* an allocation cycle */
    Mesos__Scheduler__Event *ev = sched_last(c->sched, EV(OFFERS));
    assert_non_null(ev);
    assert_int_equal(ev->offers->n_offers, 1);
    return ev;
}

/* The last UPDATE event's status state, acknowledged. */
static int last_update_acked(agent_cluster_t *c)
{
    Mesos__Scheduler__Event *ev = sched_last(c->sched, EV(UPDATE));
    assert_non_null(ev);
    int state = ev->update->status->state;
    sched_acknowledge(c->sched, &c->master, ev->update->status);
    mesos__scheduler__event__free_unpacked(ev, NULL);
    return state;
}

static void test_registers_and_is_offered(void **state)
{
    agent_cluster_t *c = *state;
    Mesos__Scheduler__Event *ev = first_offer(c);
    const Mesos__Offer *offer = ev->offers->offers[0];
    double cpus = 0;
    for (size_t i = 0; i < offer->n_resources; i++) {
        if (strcmp(offer->resources[i]->name, "cpus") == 0)
            cpus = offer->resources[i]->scalar->value;
    }
    assert_true(cpus == 4.0);
    mesos__scheduler__event__free_unpacked(ev, NULL);
}

static void test_task_runs_and_finishes(void **state)
{
    agent_cluster_t *c = *state;
    Mesos__Scheduler__Event *ev = first_offer(c);
    sched_launch(c->sched, &c->master, ev->offers->offers[0], "t1", "cpus:1;mem:128");
    mesos__scheduler__event__free_unpacked(ev, NULL);
    assert_int_equal(sched_events(c->sched, EV(UPDATE)), 1);
    Mesos__Scheduler__Event *running = sched_last(c->sched, EV(UPDATE));
    assert_false(running->update->status->has_reason); /* a plain RUNNING has no reason */
    mesos__scheduler__event__free_unpacked(running, NULL);
    assert_int_equal(last_update_acked(c), MESOS__TASK_STATE__TASK_RUNNING);
    for (int i = 0; i < 100; i++) /* sched_launch's task sleeps 1000 s */
        cluster_advance(10);
    assert_int_equal(sched_events(c->sched, EV(UPDATE)), 2);
    assert_int_equal(last_update_acked(c), MESOS__TASK_STATE__TASK_FINISHED);
    actor_settle();
    uint16_t port = cluster_http_listen(&c->master);
    int status = 0;
    char *body = cluster_http(port, "GET", "/slave(1)/state", NULL, &status);
    assert_int_equal(status, 200);
    assert_non_null(strstr(body, "\"completed_frameworks\""));
    assert_non_null(strstr(body, "TASK_FINISHED"));
    free(body);
}

/* Drops the first StatusUpdateMessage from the agent to the master. */
static actor_filter_verdict_t drop_first_update(const actor_filter_event_t *e, void *arg)
{
    int *dropped = arg;
    if (strcmp(e->type_name, "mesos.internal.StatusUpdateMessage") == 0 && *dropped == 0) {
        (*dropped)++;
        return ACTOR_FILTER_DROP;
    }
    return ACTOR_FILTER_PASS;
}

static void test_lost_update_is_retried(void **state)
{
    agent_cluster_t *c = *state;
    Mesos__Scheduler__Event *ev = first_offer(c);
    int dropped = 0;
    actor_filter_install(drop_first_update, &dropped);
    sched_launch(c->sched, &c->master, ev->offers->offers[0], "t1", "cpus:1;mem:128");
    mesos__scheduler__event__free_unpacked(ev, NULL);
    assert_int_equal(dropped, 1);
    assert_int_equal(sched_events(c->sched, EV(UPDATE)), 0);
    cluster_advance(10); /* the status update manager's first retry */
    assert_int_equal(sched_events(c->sched, EV(UPDATE)), 1);
    assert_int_equal(last_update_acked(c), MESOS__TASK_STATE__TASK_RUNNING);
    cluster_advance(20); /* acknowledged: no more retries */
    assert_int_equal(sched_events(c->sched, EV(UPDATE)), 1);
}

static void test_kill(void **state)
{
    agent_cluster_t *c = *state;
    Mesos__Scheduler__Event *ev = first_offer(c);
    sched_launch(c->sched, &c->master, ev->offers->offers[0], "t1", "cpus:1;mem:128");
    mesos__scheduler__event__free_unpacked(ev, NULL);
    assert_int_equal(last_update_acked(c), MESOS__TASK_STATE__TASK_RUNNING);
    Mesos__TaskID tid = MESOS__TASK_ID__INIT;
    tid.value = "t1";
    Mesos__Scheduler__Call__Kill kill = MESOS__SCHEDULER__CALL__KILL__INIT;
    kill.task_id = &tid;
    Mesos__Scheduler__Call call = MESOS__SCHEDULER__CALL__INIT;
    call.type = MESOS__SCHEDULER__CALL__TYPE__KILL;
    call.kill = &kill;
    sched_call(c->sched, &c->master, &call);
    assert_int_equal(sched_events(c->sched, EV(UPDATE)), 2);
    assert_int_equal(last_update_acked(c), MESOS__TASK_STATE__TASK_KILLED);
}

/* An executor that resends an update (as after reconnecting) is acknowledged twice, and the
 * framework hears it once. */
static void test_duplicate_update_dropped(void **state)
{
    agent_cluster_t *c = *state;
    Mesos__Scheduler__Event *ev = first_offer(c);
    sched_launch(c->sched, &c->master, ev->offers->offers[0], "t1", "cpus:1;mem:128");
    mesos__scheduler__event__free_unpacked(ev, NULL);
    assert_int_equal(last_update_acked(c), MESOS__TASK_STATE__TASK_RUNNING);
    fake_t *executor = fake_spawn("executor");
    uint8_t uuid[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
    Mesos__TaskID tid = MESOS__TASK_ID__INIT;
    tid.value = "t1";
    Mesos__FrameworkID fid = MESOS__FRAMEWORK_ID__INIT;
    fid.value = c->sched->framework_id;
    Mesos__TaskStatus status = MESOS__TASK_STATUS__INIT;
    status.task_id = &tid;
    status.state = MESOS__TASK_STATE__TASK_FINISHED;
    status.has_uuid = true;
    status.uuid.data = uuid;
    status.uuid.len = sizeof(uuid);
    Mesos__Internal__StatusUpdate update = MESOS__INTERNAL__STATUS_UPDATE__INIT;
    update.framework_id = &fid;
    update.status = &status;
    Mesos__Internal__StatusUpdateMessage m = MESOS__INTERNAL__STATUS_UPDATE_MESSAGE__INIT;
    m.update = &update;
    fake_send(executor, &c->agent, &m.base);
    fake_send(executor, &c->agent, &m.base);
    actor_settle();
    assert_int_equal(fake_count(executor, "mesos.internal.StatusUpdateAcknowledgementMessage"), 2);
    assert_int_equal(sched_events(c->sched, EV(UPDATE)), 2);
    assert_int_equal(last_update_acked(c), MESOS__TASK_STATE__TASK_FINISHED);
    cluster_advance(30); /* no retry, no second copy */
    assert_int_equal(sched_events(c->sched, EV(UPDATE)), 2);
    fake_stop(executor);
}

static size_t relayed;
static actor_filter_verdict_t count_relayed(const actor_filter_event_t *e, void *arg)
{
    (void)arg;
    if (strcmp(e->type_name, "mesos.internal.ExecutorToFrameworkMessage") == 0 &&
        strncmp(e->to->id, "master", 6) == 0)
        relayed++;
    return ACTOR_FILTER_PASS;
}

/* An executor's message for its framework goes on to the master. */
static void test_executor_message_relayed(void **state)
{
    agent_cluster_t *c = *state;
    start_agent(c);
    fake_t *executor = fake_spawn("executor");
    relayed = 0;
    actor_filter_install(count_relayed, NULL);
    Mesos__AgentID aid = MESOS__AGENT_ID__INIT;
    aid.value = "a";
    Mesos__FrameworkID fid = MESOS__FRAMEWORK_ID__INIT;
    fid.value = "f";
    Mesos__ExecutorID eid = MESOS__EXECUTOR_ID__INIT;
    eid.value = "e";
    Mesos__Internal__ExecutorToFrameworkMessage m =
        MESOS__INTERNAL__EXECUTOR_TO_FRAMEWORK_MESSAGE__INIT;
    m.agent_id = &aid;
    m.framework_id = &fid;
    m.executor_id = &eid;
    m.data.data = (uint8_t *)"hi";
    m.data.len = 2;
    fake_send(executor, &c->agent, &m.base);
    actor_settle();
    assert_int_equal(relayed, 1);
    fake_stop(executor);
}

/* Drops every ping from the master to the agent. */
static actor_filter_verdict_t drop_pings(const actor_filter_event_t *e, void *arg)
{
    (void)arg;
    return strcmp(e->type_name, "mesos.internal.PingAgentMessage") == 0 ? ACTOR_FILTER_DROP
                                                                        : ACTOR_FILTER_PASS;
}

static size_t reregistrations;
static actor_filter_verdict_t count_reregistrations(const actor_filter_event_t *e, void *arg)
{
    (void)arg;
    if (strcmp(e->type_name, "mesos.internal.ReregisterAgentMessage") == 0)
        reregistrations++;
    return drop_pings(e, arg);
}

static void test_reregisters_without_pings(void **state)
{
    agent_cluster_t *c = *state;
    start_agent(c);
    reregistrations = 0;
    actor_filter_install(count_reregistrations, NULL);
    for (int i = 0; i < 8; i++) /* 75 s without a ping (15 s x 5) */
        cluster_advance(10);
    assert_true(reregistrations >= 1);
}

static void test_bad_options(void **state)
{
    agent_cluster_t *c = *state;
    agent_options_t o;
    char master[ACTOR_PID_STRLEN], err[256] = "";
    actor_pid_t pid;
    agent_options(c, &o, master, sizeof(master));
    o.resources = "cpus:four";
    assert_int_equal(agent_start(&o, &pid, err, sizeof(err)), ACTOR_EINVAL);
    assert_true(strlen(err) > 0);
    agent_options(c, &o, master, sizeof(master));
    o.work_dir = "/proc/no/such/dir";
    err[0] = '\0';
    assert_int_equal(agent_start(&o, &pid, err, sizeof(err)), ACTOR_EINVAL);
    assert_non_null(strstr(err, "work_dir"));
    agent_options(c, &o, master, sizeof(master));
    o.master = "zk://10.0.0.1:2181/mesos";
    assert_int_equal(agent_start(&o, &pid, err, sizeof(err)), ACTOR_EINVAL);
    assert_non_null(strstr(err, "ZooKeeper"));
    agent_options(c, &o, master, sizeof(master));
    o.isolation = "cgroups/nope";
    assert_int_equal(agent_start(&o, &pid, err, sizeof(err)), ACTOR_EINVAL);
}

static void test_master_pid(void **state)
{
    (void)state;
    char out[ACTOR_PID_STRLEN], err[256];
    assert_int_equal(agent_master_pid("127.0.0.1:5050", out, sizeof(out), err, sizeof(err)),
                     ACTOR_OK);
    assert_string_equal(out, "master@127.0.0.1:15050");
    assert_int_equal(agent_master_pid("master@10.0.0.2:1234", out, sizeof(out), err, sizeof(err)),
                     ACTOR_OK);
    assert_string_equal(out, "master@10.0.0.2:1234");
    assert_int_equal(agent_master_pid("localhost", out, sizeof(out), err, sizeof(err)),
                     ACTOR_EINVAL);
    assert_int_equal(agent_master_pid("127.0.0.1:99999", out, sizeof(out), err, sizeof(err)),
                     ACTOR_EINVAL);
    assert_int_equal(agent_master_pid(NULL, out, sizeof(out), err, sizeof(err)), ACTOR_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_registers_and_is_offered, setup, teardown),
        cmocka_unit_test_setup_teardown(test_task_runs_and_finishes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lost_update_is_retried, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kill, setup, teardown),
        cmocka_unit_test_setup_teardown(test_duplicate_update_dropped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_executor_message_relayed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reregisters_without_pings, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_options, setup, teardown),
        cmocka_unit_test(test_master_pid),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
