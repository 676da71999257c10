/* Agent recovery with real processes: the master and a checkpointing scheduler in this process,
 * the real mesos-agent binary beside it. A task runs; the agent is killed with SIGKILL and
 * started again on the same work directory and ports; its executor, still running, reconnects,
 * the agent reregisters as the same agent, and the task's later updates (its kill) arrive, with
 * no TASK_LOST or TASK_FAILED on the way. Also: a task of a framework that does not checkpoint
 * ends when its agent restarts, as in Mesos. Real processes: these tests poll with deadlines. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "resources/resources.h"
#include "tests/master/support.h"
#include "tests/support/fs.h"
#include "tests/support/local.h"
#include "tests/support/ports.h"
#include "tests/support/proc.h"

#define EV(t) MESOS__SCHEDULER__EVENT__TYPE__##t

typedef struct recovery {
    master_pids_t master;
    fake_t *sched;
    char work_dir[64];
    uint16_t http_port, actor_port;
    pid_t agent;
    size_t acked;
    /* LIBPROCESS_NUM_WORKER_THREADS for the restarted agent (NULL: its actors on its I/O
     * thread, as the first one's) */
    const char *restart_workers;
} recovery_t;

static void start_agent(recovery_t *r)
{
    char master[ACTOR_PID_STRLEN], a_master[300], a_port[32], a_actor[32], a_work[128];
    char bin[512], launcher[512];
    const char *dir = support_bin_dir();
    actor_pid_format(&r->master.master, master, sizeof(master));
    snprintf(a_master, sizeof(a_master), "--master=%s", master);
    snprintf(a_port, sizeof(a_port), "--port=%u", r->http_port);
    snprintf(a_actor, sizeof(a_actor), "--actor_port=%u", r->actor_port);
    snprintf(a_work, sizeof(a_work), "--work_dir=%s", r->work_dir);
    snprintf(bin, sizeof(bin), "%s/mesos-agent", dir);
    snprintf(launcher, sizeof(launcher), "--launcher_dir=%s", dir);
    char *argv[] = {bin,
                    a_master,
                    a_port,
                    a_actor,
                    a_work,
                    launcher,
                    "--resources=cpus:2;mem:1024;disk:1024;ports:[31000-32000]",
                    "--switch_user=false",
                    "--registration_backoff_factor=100ms",
                    NULL};
    assert_int_equal(support_proc_spawn(bin, argv, NULL, &r->agent), 0);
}

/* Runs actors until cond holds or 20 s pass. */
static bool wait_for(bool (*cond)(recovery_t *r, void *arg), recovery_t *r, void *arg)
{
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (;;) {
        actor_settle();
        if (cond(r, arg))
            return true;
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (now.tv_sec - start.tv_sec > 20)
            return false;
        usleep(5000);
    }
}

/* True once *(size_t *)arg offers came. */
static bool has_offers(recovery_t *r, void *arg)
{
    return sched_events(r->sched, EV(OFFERS)) >= *(size_t *)arg;
}

/* Acknowledges new updates; true once one in the state *arg arrived. Fails at a LOST or FAILED
 * one (the thing recovery must prevent). */
static bool update_seen(recovery_t *r, void *arg)
{
    int want = *(int *)arg;
    bool seen = false;
    size_t n = sched_events(r->sched, EV(UPDATE));
    for (; r->acked < n; r->acked++) {
        Mesos__Scheduler__Event *ev = sched_nth(r->sched, EV(UPDATE), r->acked);
        int state = ev->update->status->state;
        sched_acknowledge(r->sched, &r->master, ev->update->status);
        mesos__scheduler__event__free_unpacked(ev, NULL);
        if (want != MESOS__TASK_STATE__TASK_LOST) {
            assert_int_not_equal(state, MESOS__TASK_STATE__TASK_LOST);
            assert_int_not_equal(state, MESOS__TASK_STATE__TASK_FAILED);
        }
        seen |= state == want;
    }
    return seen;
}

/* The restarted agent recovered the task and is registered with the master again. */
static bool agent_reregistered(recovery_t *r, void *arg)
{
    const char *agent_id = arg;
    int status = 0;
    char *body = cluster_http(r->http_port, "GET", "/state", NULL, &status);
    bool ok = body != NULL && status == 200 && strstr(body, agent_id) != NULL &&
              strstr(body, "\"tasks\":[{") != NULL && strstr(body, "master_hostname") != NULL;
    free(body);
    return ok;
}

static int setup(void **state)
{
    actor_runtime_options_t ro;
    actor_runtime_options_init(&ro);
    ro.workers = 0;
    ro.port = 0;
    assert_int_equal(actor_runtime_start(&ro), ACTOR_OK);
    recovery_t *r = calloc(1, sizeof(*r));
    master_options_t mo;
    cluster_master_options(&mo, NULL);
    mo.allocation_interval_ns = 50 * ACTOR_NS_PER_MS;
    r->master = cluster_master_start(&mo);
    r->sched = fake_spawn("sched");
    assert_non_null(support_fs_tempdir(r->work_dir, sizeof(r->work_dir), "test_agent_recovery"));
    r->http_port = support_port_free();
    r->actor_port = support_port_free();
    *state = r;
    return 0;
}

static int teardown(void **state)
{
    recovery_t *r = *state;
    if (r->agent > 0) {
        kill(r->agent, SIGKILL);
        waitpid(r->agent, NULL, 0);
    }
    /* What the test's tasks left running: processes whose environment names the sandbox. */
    char leftovers[128];
    snprintf(leftovers, sizeof(leftovers), "MESOS_DIRECTORY=%s", r->work_dir);
    support_proc_kill_env(leftovers);
    fake_stop(r->sched);
    master_stop(&r->master);
    actor_runtime_stop();
    assert_int_equal(support_fs_rmtree(r->work_dir), 0);
    free(r);
    return 0;
}

/* Launches task_id running command on the newest offer. */
static void launch_task(recovery_t *r, const char *task_id, const char *command)
{
    Mesos__Scheduler__Event *ev = sched_last(r->sched, EV(OFFERS));
    const Mesos__Offer *offer = ev->offers->offers[0];
    resources_t res;
    char err[256];
    assert_int_equal(resources_parse(&res, "cpus:0.5;mem:64", NULL, err, sizeof(err)), ACTOR_OK);
    Mesos__TaskInfo task = MESOS__TASK_INFO__INIT;
    Mesos__TaskID tid = MESOS__TASK_ID__INIT;
    Mesos__CommandInfo cmd = MESOS__COMMAND_INFO__INIT;
    tid.value = (char *)task_id;
    cmd.value = (char *)command;
    task.name = (char *)task_id;
    task.task_id = &tid;
    task.agent_id = offer->agent_id;
    task.command = &cmd;
    assert_int_equal(resources_to_proto(&res, &task.resources, &task.n_resources), ACTOR_OK);
    sched_launch_task(r->sched, &r->master, offer, &task);
    resources_proto_free(task.resources, task.n_resources);
    resources_fini(&res);
    mesos__scheduler__event__free_unpacked(ev, NULL);
}

static void kill_task(recovery_t *r)
{
    Mesos__TaskID tid = MESOS__TASK_ID__INIT;
    tid.value = "survivor";
    Mesos__Scheduler__Call__Kill kill = MESOS__SCHEDULER__CALL__KILL__INIT;
    kill.task_id = &tid;
    Mesos__Scheduler__Call call = MESOS__SCHEDULER__CALL__INIT;
    call.type = MESOS__SCHEDULER__CALL__TYPE__KILL;
    call.kill = &kill;
    sched_call(r->sched, &r->master, &call);
}

/* Runs survivor (and quick beside it when quick is set), waits until ready(r, arg) holds,
 * kills the agent with SIGKILL and starts it again. Returns the agent id. */
static char *run_and_restart(recovery_t *r, bool checkpoint, bool quick,
                             bool (*ready)(recovery_t *r, void *arg), void *arg)
{
    sched_subscribe(r->sched, &r->master, NULL, 60, false, checkpoint);
    start_agent(r);
    size_t offers = 1;
    assert_true(wait_for(has_offers, r, &offers));
    Mesos__Scheduler__Event *ev = sched_last(r->sched, EV(OFFERS));
    char *agent_id = strdup(ev->offers->offers[0]->agent_id->value);
    mesos__scheduler__event__free_unpacked(ev, NULL);
    launch_task(r, "survivor", "sleep 60");
    if (quick) {
        /* The rest of the agent comes back at once without the accept's default filter. */
        Mesos__Scheduler__Call revive = MESOS__SCHEDULER__CALL__INIT;
        revive.type = MESOS__SCHEDULER__CALL__TYPE__REVIVE;
        sched_call(r->sched, &r->master, &revive);
        offers = 2;
        assert_true(wait_for(has_offers, r, &offers));
        launch_task(r, "quick", "true");
    }
    assert_true(wait_for(ready, r, arg));
    kill(r->agent, SIGKILL);
    waitpid(r->agent, NULL, 0);
    if (r->restart_workers != NULL)
        setenv("LIBPROCESS_NUM_WORKER_THREADS", r->restart_workers, 1);
    start_agent(r);
    unsetenv("LIBPROCESS_NUM_WORKER_THREADS");
    return agent_id;
}

/* The restarted agent serves the recovered executor's sandbox on /files/browse. */
static void assert_sandbox_browsable(recovery_t *r)
{
    int status = 0;
    char *body = cluster_http(r->http_port, "GET", "/state", NULL, &status);
    assert_non_null(body);
    char *dir = strstr(body, "\"directory\":\"");
    assert_non_null(dir);
    dir += strlen("\"directory\":\"");
    *strchr(dir, '"') = '\0';
    char path[1024];
    snprintf(path, sizeof(path), "/files/browse?path=%s", dir);
    free(cluster_http(r->http_port, "GET", path, NULL, &status));
    assert_int_equal(status, 200);
    free(body);
}

/* The restarted agent runs its actors on two workers, the first one on its I/O thread: the
 * checkpoints and the executor do not depend on the agent's threads. */
static void test_executor_survives_agent_restart(void **state)
{
    recovery_t *r = *state;
    r->restart_workers = "2";
    int running = MESOS__TASK_STATE__TASK_RUNNING;
    char *agent_id = run_and_restart(r, true, false, update_seen, &running);
    assert_true(wait_for(agent_reregistered, r, agent_id));
    free(agent_id);
    assert_sandbox_browsable(r);
    kill_task(r);
    int killed = MESOS__TASK_STATE__TASK_KILLED;
    assert_true(wait_for(update_seen, r, &killed));
}

static void test_task_of_non_checkpointing_framework_ends(void **state)
{
    recovery_t *r = *state;
    int running = MESOS__TASK_STATE__TASK_RUNNING;
    char *agent_id = run_and_restart(r, false, false, update_seen, &running);
    free(agent_id);
    /* The executor exits when its agent goes (the framework did not ask for checkpointing),
     * and the restarted agent does not know the task: the master hears it is lost. */
    int lost = MESOS__TASK_STATE__TASK_LOST;
    assert_true(wait_for(update_seen, r, &lost));
}

/* What test_recovered_tasks_are_found waits for before the restart. */
typedef struct two_tasks {
    bool running;                      /* survivor's TASK_RUNNING came */
    Mesos__Scheduler__Event *finished; /* quick's TASK_FINISHED, not acknowledged (owned) */
} two_tasks_t;

/* Acknowledges new updates but quick's FINISHED (kept); true once survivor runs and quick
 * finished. */
static bool running_and_finished(recovery_t *r, void *arg)
{
    two_tasks_t *t = arg;
    size_t n = sched_events(r->sched, EV(UPDATE));
    for (; r->acked < n; r->acked++) {
        Mesos__Scheduler__Event *ev = sched_nth(r->sched, EV(UPDATE), r->acked);
        const Mesos__TaskStatus *s = ev->update->status;
        if (strcmp(s->task_id->value, "quick") == 0 &&
            s->state == MESOS__TASK_STATE__TASK_FINISHED) {
            if (t->finished == NULL)
                t->finished = ev;
            else
                mesos__scheduler__event__free_unpacked(ev, NULL);
            continue;
        }
        t->running |= s->state == MESOS__TASK_STATE__TASK_RUNNING &&
                      strcmp(s->task_id->value, "survivor") == 0;
        sched_acknowledge(r->sched, &r->master, s);
        mesos__scheduler__event__free_unpacked(ev, NULL);
    }
    return t->running && t->finished != NULL;
}

/* The agent's /state shows quick's executor completed and survivor's still there. */
static bool quick_completed(recovery_t *r, void *arg)
{
    (void)arg;
    int status = 0;
    char *body = cluster_http(r->http_port, "GET", "/state", NULL, &status);
    json_t *j = body != NULL && status == 200 ? json_loads(body, 0, NULL) : NULL;
    free(body);
    const char *done = cluster_json_str(j, "frameworks.0.completed_executors.0.id");
    const char *task =
        cluster_json_str(j, "frameworks.0.completed_executors.0.completed_tasks.0.id");
    const char *live = cluster_json_str(j, "frameworks.0.executors.0.id");
    bool ok = done != NULL && strcmp(done, "quick") == 0 && task != NULL &&
              strcmp(task, "quick") == 0 && live != NULL && strcmp(live, "survivor") == 0 &&
              json_array_size(cluster_json_path(j, "frameworks.0.executors")) == 1;
    json_decref(j);
    return ok;
}

/* Recovered tasks are found again: a finished task whose update the framework acknowledges
 * only after the restart is completed (its executor with it), and the running one is killed. */
static void test_recovered_tasks_are_found(void **state)
{
    recovery_t *r = *state;
    two_tasks_t t = {0};
    char *agent_id = run_and_restart(r, true, true, running_and_finished, &t);
    assert_true(wait_for(agent_reregistered, r, agent_id));
    free(agent_id);
    sched_acknowledge(r->sched, &r->master, t.finished->update->status);
    mesos__scheduler__event__free_unpacked(t.finished, NULL);
    assert_true(wait_for(quick_completed, r, NULL));
    kill_task(r);
    int killed = MESOS__TASK_STATE__TASK_KILLED;
    assert_true(wait_for(update_seen, r, &killed));
}

int main(void)
{
    if (support_bin_dir() == NULL) {
        print_message("MESOS_TEST_BIN_DIR is not set (run through ctest)\n");
        return 0;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_executor_survives_agent_restart, setup, teardown),
        cmocka_unit_test_setup_teardown(test_task_of_non_checkpointing_framework_ends, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_recovered_tasks_are_found, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
