/* A master restarted from its on-disk registry while agents and frameworks keep running: the
 * agents it knew reregister with their tasks, the framework resubscribes with its id and finds
 * them, and an agent that never comes back is marked unreachable after
 * --agent_reregister_timeout. The clock is paused throughout. */
#define _XOPEN_SOURCE 700
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/master/support.h"

#define EV(t) MESOS__SCHEDULER__EVENT__TYPE__##t

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static void test_restart_from_registry(void **state)
{
    (void)state;
    char dir[] = "/tmp/master-recovery-XXXXXX";
    assert_non_null(mkdtemp(dir));
    cluster_runtime_start();
    master_options_t opts;
    cluster_master_options(&opts, dir);
    master_pids_t master = cluster_master_start(&opts);
    fake_t *sched = fake_spawn("sched");
    fake_t *a1 = fake_spawn("slave");
    fake_t *a2 = fake_spawn("slave");
    sched_subscribe(sched, &master, NULL, 3600, true, true);
    agent_register(a1, &master, "cpus:2;mem:512");
    cluster_advance(1);
    Mesos__Scheduler__Event *ev = sched_last(sched, EV(OFFERS));
    assert_non_null(ev);
    const Mesos__Offer *offer = NULL;
    for (size_t i = 0; i < ev->offers->n_offers; i++) {
        if (strcmp(ev->offers->offers[i]->agent_id->value, a1->agent_id) == 0)
            offer = ev->offers->offers[i];
    }
    assert_non_null(offer);
    sched_launch(sched, &master, offer, "t1", "cpus:1;mem:64");
    mesos__scheduler__event__free_unpacked(ev, NULL);
    agent_register(a2, &master, "cpus:2;mem:512");

    /* The master goes away; agents, their tasks and the scheduler stay. */
    master_stop(&master);
    master = cluster_master_start(&opts);
    uint16_t port = cluster_http_listen(&master);
    int status = 0;
    char *body = cluster_http(port, "GET", "/state", NULL, &status);
    json_t *j = json_loads(body, 0, NULL);
    free(body);
    assert_int_equal(json_array_size(json_object_get(j, "recovered_slaves")), 2);
    json_decref(j);

    /* a1 reregisters with its task; the framework resubscribes and reconciles it. */
    agent_reregister(a1, &master, sched->framework_id, "t1");
    assert_int_equal(fake_count(a1, "mesos.internal.AgentReregisteredMessage"), 1);
    char id[128];
    snprintf(id, sizeof(id), "%s", sched->framework_id);
    sched_subscribe(sched, &master, id, 3600, true, true);
    assert_string_equal(sched->framework_id, id);
    Mesos__Scheduler__Call__Reconcile rec = MESOS__SCHEDULER__CALL__RECONCILE__INIT;
    Mesos__Scheduler__Call call = MESOS__SCHEDULER__CALL__INIT;
    call.type = MESOS__SCHEDULER__CALL__TYPE__RECONCILE;
    call.reconcile = &rec;
    sched_call(sched, &master, &call);
    ev = sched_last(sched, EV(UPDATE));
    assert_non_null(ev);
    assert_string_equal(ev->update->status->task_id->value, "t1");
    assert_int_equal(ev->update->status->state, MESOS__TASK_STATE__TASK_RUNNING);
    mesos__scheduler__event__free_unpacked(ev, NULL);

    /* a2 never comes back: unreachable after the reregistration timeout (10 minutes). */
    cluster_advance(601);
    body = cluster_http(port, "GET", "/state", NULL, &status);
    j = json_loads(body, 0, NULL);
    free(body);
    assert_int_equal(json_integer_value(json_object_get(j, "unreachable_slaves")), 1);
    assert_int_equal(json_array_size(json_object_get(j, "recovered_slaves")), 0);
    assert_int_equal(json_array_size(json_object_get(j, "slaves")), 1);
    json_decref(j);

    /* And the registry remembers that too: a third master sees a2 unreachable. */
    master_stop(&master);
    master = cluster_master_start(&opts);
    port = cluster_http_listen(&master);
    body = cluster_http(port, "GET", "/state", NULL, &status);
    j = json_loads(body, 0, NULL);
    free(body);
    assert_int_equal(json_integer_value(json_object_get(j, "unreachable_slaves")), 1);
    assert_int_equal(json_array_size(json_object_get(j, "recovered_slaves")), 1);
    json_decref(j);

    fake_stop(sched);
    fake_stop(a1);
    fake_stop(a2);
    master_stop(&master);
    cluster_runtime_stop();
    nftw(dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
}

/* ---- a registry that cannot be written ---- */

static int failures;
static actor_err_t failure_err;

static void on_registry_failed(actor_err_t err, const char *message)
{
    (void)message;
    failures++;
    failure_err = err;
}

/* Registers agent with `hostname` (the test's size lever) and settles. */
static void register_named(fake_t *agent, const master_pids_t *master, const char *hostname)
{
    Mesos__AgentInfo info = MESOS__AGENT_INFO__INIT;
    info.hostname = (char *)hostname;
    Mesos__Internal__RegisterAgentMessage reg = MESOS__INTERNAL__REGISTER_AGENT_MESSAGE__INIT;
    reg.agent = &info;
    fake_send(agent, &master->master, &reg.base);
}

/* A hostname far larger than a 64 KiB registry: admitting its agent cannot be stored. */
static char *huge_hostname(void)
{
    enum { LEN = 256 * 1024 };
    char *name = malloc(LEN + 1);
    assert_non_null(name);
    memset(name, 'h', LEN);
    name[LEN] = '\0';
    return name;
}

/* The registrar cannot store an admission: the master calls its registry_failed hook once, the
 * agent is never told it registered, and nothing later is acknowledged either. */
static void test_failed_registry_write(void **state)
{
    (void)state;
    char dir[] = "/tmp/master-registry-XXXXXX";
    assert_non_null(mkdtemp(dir));
    failures = 0;
    cluster_runtime_start();
    master_options_t opts;
    cluster_master_options(&opts, dir);
    opts.registry_map_size = 64 * 1024;
    opts.registry_failed = on_registry_failed;
    master_pids_t master = cluster_master_start(&opts);
    fake_t *small = fake_spawn("slave"), *big = fake_spawn("slave"), *late = fake_spawn("slave");
    register_named(small, &master, "small.test");
    assert_int_equal(fake_count(small, "mesos.internal.AgentRegisteredMessage"), 1);
    assert_int_equal(failures, 0);

    char *hostname = huge_hostname();
    register_named(big, &master, hostname);
    free(hostname);
    assert_int_equal(failures, 1);
    assert_int_equal(failure_err, ACTOR_ETOOBIG);
    assert_int_equal(fake_count(big, "mesos.internal.AgentRegisteredMessage"), 0);
    register_named(late, &master, "late.test");
    assert_int_equal(fake_count(late, "mesos.internal.AgentRegisteredMessage"), 0);
    assert_int_equal(failures, 1);

    uint16_t port = cluster_http_listen(&master);
    int status = 0;
    char *body = cluster_http(port, "GET", "/state", NULL, &status);
    json_t *j = json_loads(body, 0, NULL);
    free(body);
    assert_int_equal(json_array_size(json_object_get(j, "slaves")), 1);
    json_decref(j);

    fake_stop(small);
    fake_stop(big);
    fake_stop(late);
    master_stop(&master);
    cluster_runtime_stop();
    nftw(dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
}

/* Without a hook the master exits with status 1, as Mesos's does, rather than run on a registry
 * it could not store. In a child, where cmocka's failures cannot reach the parent: it exits 1
 * from the hook, or 3 if it ran on. */
static void test_failed_registry_write_exits(void **state)
{
    (void)state;
    char dir[] = "/tmp/master-registry-XXXXXX";
    assert_non_null(mkdtemp(dir));
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        cluster_runtime_start();
        master_options_t opts;
        cluster_master_options(&opts, dir);
        opts.registry_map_size = 64 * 1024;
        master_pids_t master = cluster_master_start(&opts);
        fake_t *big = fake_spawn("slave");
        char *hostname = huge_hostname();
        register_named(big, &master, hostname);
        _exit(3);
    }
    int status = 0;
    assert_int_equal(waitpid(child, &status, 0), child);
    nftw(dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_restart_from_registry),
        cmocka_unit_test(test_failed_registry_write),
        cmocka_unit_test(test_failed_registry_write_exits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
