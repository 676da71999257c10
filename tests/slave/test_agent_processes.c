/* The agent with real processes: the real master and agent in this process (the runtime on a
 * loopback transport so that mesos-executor can reach the agent, the clock running), a fake
 * scheduler, and real tasks run by build/bin/mesos-executor: success with its output in the
 * sandbox, failure with the exit status, kill, kill while the executor spawns, an unknown user,
 * fetched URIs and a failed fetch, and, as root with cgroups v1, a task killed for exceeding its
 * memory limit. These tests wait on real processes, so they poll with a deadline. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "actor/http.h"
#include "resources/resources.h"
#include "slave/agent.h"
#include "slave/containerizer/cgroups.h"
#include "tests/master/support.h"

#define EV(t) MESOS__SCHEDULER__EVENT__TYPE__##t

typedef struct agent_cluster {
    master_pids_t master;
    fake_t *sched;
    actor_pid_t agent;
    char work_dir[64];
    Mesos__Offer *offer; /* the first offer (owned by offer_event) */
    Mesos__Scheduler__Event *offer_event;
    size_t acked; /* UPDATE events acknowledged so far */
} agent_cluster_t;

/* Runs actors until cond(arg) holds or 20 s pass. */
static bool wait_for(bool (*cond)(agent_cluster_t *c, void *arg), agent_cluster_t *c, void *arg)
{
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (;;) {
        actor_settle();
        if (cond(c, arg))
            return true;
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (now.tv_sec - start.tv_sec > 20)
            return false;
        usleep(5000);
    }
}

static bool has_offer(agent_cluster_t *c, void *arg)
{
    (void)arg;
    return sched_events(c->sched, EV(OFFERS)) > 0;
}

/* The agent's cgroup subtree: this test process's own. */
static void subtree_name(char *buf, size_t len)
{
    snprintf(buf, len, "mesos-test-%d", (int)getpid());
}

static int setup_with(void **state, const char *isolation, bool switch_user)
{
    actor_runtime_options_t ro;
    actor_runtime_options_init(&ro);
    ro.workers = 0;
    ro.port = 0; /* a loopback transport on any free port, for the executors */
    assert_int_equal(actor_runtime_start(&ro), ACTOR_OK);
    agent_cluster_t *c = calloc(1, sizeof(*c));
    master_options_t mo;
    cluster_master_options(&mo, NULL);
    mo.allocation_interval_ns = 50 * ACTOR_NS_PER_MS;
    c->master = cluster_master_start(&mo);
    c->sched = fake_spawn("sched");
    snprintf(c->work_dir, sizeof(c->work_dir), "/tmp/test_agent_proc.XXXXXX");
    assert_non_null(mkdtemp(c->work_dir));
    agent_options_t o;
    agent_options_init(&o);
    char master[ACTOR_PID_STRLEN], err[512] = "", subtree[64];
    actor_pid_format(&c->master.master, master, sizeof(master));
    subtree_name(subtree, sizeof(subtree));
    o.master = master;
    o.work_dir = c->work_dir;
    o.resources = "cpus:2;mem:1024;disk:1024;ports:[31000-32000]";
    o.launcher_dir = getenv("TEST_LAUNCHER_DIR") != NULL ? getenv("TEST_LAUNCHER_DIR")
                                                         : getenv("MESOS_TEST_BIN_DIR");
    o.isolation = isolation;
    o.cgroups_subtree = subtree;
    o.switch_user = switch_user; /* the fake scheduler's user is 'tester' */
    o.executor_shutdown_grace_period_ns = ACTOR_NS_PER_SEC;
    assert_non_null(o.launcher_dir);
    if (agent_start(&o, &c->agent, err, sizeof(err)) != ACTOR_OK) {
        print_message("agent_start: %s\n", err);
        fail();
    }
    sched_subscribe(c->sched, &c->master, NULL, 60, false, false);
    assert_true(wait_for(has_offer, c, NULL));
    c->offer_event = sched_last(c->sched, EV(OFFERS));
    c->offer = c->offer_event->offers->offers[0];
    *state = c;
    return 0;
}

static int setup(void **state)
{
    return setup_with(state, "posix/cpu,posix/mem", false);
}

static int setup_switch_user(void **state)
{
    return setup_with(state, "posix/cpu,posix/mem", true);
}

static int teardown(void **state)
{
    agent_cluster_t *c = *state;
    if (c->offer_event != NULL)
        mesos__scheduler__event__free_unpacked(c->offer_event, NULL);
    agent_stop(&c->agent);
    fake_stop(c->sched);
    master_stop(&c->master);
    actor_runtime_stop();
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", c->work_dir);
    assert_int_equal(system(cmd), 0);
    free(c);
    return 0;
}

/* Launches one task with a shell command (and optional URI and user) on the first offer. */
static void launch(agent_cluster_t *c, const char *task_id, const char *command, const char *mem,
                   const char *uri, const char *user)
{
    char text[64];
    snprintf(text, sizeof(text), "cpus:0.5;mem:%s", mem);
    resources_t res;
    char err[256];
    assert_int_equal(resources_parse(&res, text, NULL, err, sizeof(err)), ACTOR_OK);
    Mesos__TaskInfo task = MESOS__TASK_INFO__INIT;
    Mesos__TaskID tid = MESOS__TASK_ID__INIT;
    Mesos__CommandInfo cmd = MESOS__COMMAND_INFO__INIT;
    Mesos__CommandInfo__URI u = MESOS__COMMAND_INFO__URI__INIT;
    Mesos__CommandInfo__URI *uris[] = {&u};
    tid.value = (char *)task_id;
    cmd.value = (char *)command;
    cmd.user = (char *)user;
    if (uri != NULL) {
        u.value = (char *)uri;
        cmd.uris = uris;
        cmd.n_uris = 1;
    }
    task.name = (char *)task_id;
    task.task_id = &tid;
    task.agent_id = c->offer->agent_id;
    task.command = &cmd;
    assert_int_equal(resources_to_proto(&res, &task.resources, &task.n_resources), ACTOR_OK);
    sched_launch_task(c->sched, &c->master, c->offer, &task);
    resources_proto_free(task.resources, task.n_resources);
    resources_fini(&res);
}

/* Acknowledges each new update, as a framework must for the agent to send the next one; true
 * (with the event in *arg, owned by the caller) at the first terminal one. */
static bool terminal_seen(agent_cluster_t *c, void *arg)
{
    Mesos__Scheduler__Event **out = arg;
    size_t n = sched_events(c->sched, EV(UPDATE));
    for (; c->acked < n; c->acked++) {
        Mesos__Scheduler__Event *ev = sched_nth(c->sched, EV(UPDATE), c->acked);
        int s = ev->update->status->state;
        sched_acknowledge(c->sched, &c->master, ev->update->status);
        if (s != MESOS__TASK_STATE__TASK_STAGING && s != MESOS__TASK_STATE__TASK_STARTING &&
            s != MESOS__TASK_STATE__TASK_RUNNING && s != MESOS__TASK_STATE__TASK_KILLING) {
            c->acked++;
            *out = ev;
            return true;
        }
        mesos__scheduler__event__free_unpacked(ev, NULL);
    }
    return false;
}

static Mesos__TaskStatus *wait_terminal(agent_cluster_t *c, Mesos__Scheduler__Event **ev)
{
    *ev = NULL;
    assert_true(wait_for(terminal_seen, c, ev));
    return (*ev)->update->status;
}

static char *sandbox_file(agent_cluster_t *c, const char *task_id, const char *name)
{
    char cmd[512];
    snprintf(cmd, sizeof(cmd),
             "cat %s/slaves/*/frameworks/*/executors/%s/runs/latest/%s 2>/dev/null || "
             "cat %s/slaves/*/frameworks/*/executors/%s/runs/*/%s",
             c->work_dir, task_id, name, c->work_dir, task_id, name);
    FILE *p = popen(cmd, "r");
    char *buf = calloc(1, 4096);
    size_t n = fread(buf, 1, 4095, p);
    buf[n] = '\0';
    pclose(p);
    return buf;
}

static void test_task_finishes_with_output(void **state)
{
    agent_cluster_t *c = *state;
    launch(c, "hello", "echo hello from the task", "64", NULL, NULL);
    Mesos__Scheduler__Event *ev;
    Mesos__TaskStatus *s = wait_terminal(c, &ev);
    assert_int_equal(s->state, MESOS__TASK_STATE__TASK_FINISHED);
    mesos__scheduler__event__free_unpacked(ev, NULL);
    char *out = sandbox_file(c, "hello", "stdout");
    assert_non_null(strstr(out, "hello from the task"));
    free(out);
}

static void test_task_fails_with_status(void **state)
{
    agent_cluster_t *c = *state;
    launch(c, "fails", "exit 3", "64", NULL, NULL);
    Mesos__Scheduler__Event *ev;
    Mesos__TaskStatus *s = wait_terminal(c, &ev);
    assert_int_equal(s->state, MESOS__TASK_STATE__TASK_FAILED);
    assert_non_null(s->message);
    assert_non_null(strstr(s->message, "3"));
    mesos__scheduler__event__free_unpacked(ev, NULL);
}

static bool running_seen(agent_cluster_t *c, void *arg)
{
    (void)arg;
    bool running = false;
    size_t n = sched_events(c->sched, EV(UPDATE));
    for (; c->acked < n; c->acked++) {
        Mesos__Scheduler__Event *ev = sched_nth(c->sched, EV(UPDATE), c->acked);
        running |= ev->update->status->state == MESOS__TASK_STATE__TASK_RUNNING;
        sched_acknowledge(c->sched, &c->master, ev->update->status);
        mesos__scheduler__event__free_unpacked(ev, NULL);
    }
    return running;
}

/* Asks the master to kill a task and expects TASK_KILLED as its terminal update. */
static void kill_task(agent_cluster_t *c, const char *task_id)
{
    Mesos__TaskID tid = MESOS__TASK_ID__INIT;
    tid.value = (char *)task_id;
    Mesos__Scheduler__Call__Kill kill = MESOS__SCHEDULER__CALL__KILL__INIT;
    kill.task_id = &tid;
    Mesos__Scheduler__Call call = MESOS__SCHEDULER__CALL__INIT;
    call.type = MESOS__SCHEDULER__CALL__TYPE__KILL;
    call.kill = &kill;
    sched_call(c->sched, &c->master, &call);
    Mesos__Scheduler__Event *ev;
    Mesos__TaskStatus *s = wait_terminal(c, &ev);
    assert_int_equal(s->state, MESOS__TASK_STATE__TASK_KILLED);
    mesos__scheduler__event__free_unpacked(ev, NULL);
}

static void test_kill(void **state)
{
    agent_cluster_t *c = *state;
    launch(c, "sleeper", "sleep 100", "64", NULL, NULL);
    assert_true(wait_for(running_seen, c, NULL));
    kill_task(c, "sleeper");
}

/* Whether no executor of this process is alive (zombies of earlier tests aside: a runtime stop
 * leaves its watched processes alone; and the launcher threads' fork servers are no executors). */
static bool no_live_executor(agent_cluster_t *c, void *arg)
{
    (void)c, (void)arg;
    char cmd[192];
    snprintf(cmd, sizeof(cmd),
             "ps -o stat=,args= --ppid %d | grep -v '^Z' | grep -v -- --fork_server | "
             "grep -q mesos-exec",
             (int)getpid());
    return system(cmd) != 0;
}

/* A kill that arrives with the launch: the executor's spawn is usually still on a launcher
 * thread, so its container is destroyed before its process is known, and the process is killed
 * once the spawn is reported. */
static void test_kill_while_spawning(void **state)
{
    agent_cluster_t *c = *state;
    launch(c, "early", "sleep 100", "64", NULL, NULL);
    kill_task(c, "early");
    assert_true(wait_for(no_live_executor, c, NULL));
}

static void test_unknown_user(void **state)
{
    agent_cluster_t *c = *state;
    if (geteuid() != 0)
        skip();
    launch(c, "nouser", "true", "64", NULL, "no-such-user-here");
    Mesos__Scheduler__Event *ev;
    Mesos__TaskStatus *s = wait_terminal(c, &ev);
    assert_int_equal(s->state, MESOS__TASK_STATE__TASK_FAILED);
    assert_non_null(strstr(s->message, "no-such-user-here"));
    mesos__scheduler__event__free_unpacked(ev, NULL);
}

static void test_fetch(void **state)
{
    agent_cluster_t *c = *state;
    char path[128];
    snprintf(path, sizeof(path), "%s/payload.txt", c->work_dir);
    FILE *f = fopen(path, "w");
    fputs("fetched payload\n", f);
    fclose(f);
    char uri[160];
    snprintf(uri, sizeof(uri), "file://%s", path);
    launch(c, "fetch", "cat payload.txt", "64", uri, NULL);
    Mesos__Scheduler__Event *ev;
    Mesos__TaskStatus *s = wait_terminal(c, &ev);
    assert_int_equal(s->state, MESOS__TASK_STATE__TASK_FINISHED);
    mesos__scheduler__event__free_unpacked(ev, NULL);
    char *out = sandbox_file(c, "fetch", "stdout");
    assert_non_null(strstr(out, "fetched payload"));
    free(out);
}

static void test_failed_fetch(void **state)
{
    agent_cluster_t *c = *state;
    launch(c, "badfetch", "true", "64", "file:///no/such/file.tar.gz", NULL);
    Mesos__Scheduler__Event *ev;
    Mesos__TaskStatus *s = wait_terminal(c, &ev);
    assert_int_equal(s->state, MESOS__TASK_STATE__TASK_FAILED);
    assert_int_equal(s->reason, MESOS__TASK_STATUS__REASON__REASON_CONTAINER_LAUNCH_FAILED);
    assert_non_null(strstr(s->message, "/no/such/file.tar.gz"));
    mesos__scheduler__event__free_unpacked(ev, NULL);
}

/* The sandbox through the agent's /files endpoints, and usage on /monitor/statistics. */
static void test_sandbox_browsable_and_usage(void **state)
{
    agent_cluster_t *c = *state;
    uint16_t port = cluster_http_listen(&c->master);
    launch(c, "browse", "echo visible; sleep 30", "64", NULL, NULL);
    assert_true(wait_for(running_seen, c, NULL));
    int status = 0;
    char path[512];
    char *body = NULL;
    for (int i = 0; i < 200; i++) { /* posix usage needs the executor's process tree */
        free(body);
        body = cluster_http(port, "GET", "/slave(1)/monitor/statistics", NULL, &status);
        if (status == 200 && strstr(body, "cpus_user_time_secs") != NULL)
            break;
        actor_settle();
        usleep(10000);
    }
    assert_non_null(strstr(body, "\"executor_id\":\"browse\""));
    assert_non_null(strstr(body, "mem_rss_bytes"));
    free(body);
    body = cluster_http(port, "GET", "/slave(1)/state", NULL, &status);
    char *dir_key = strstr(body, "\"directory\":\"");
    assert_non_null(dir_key);
    dir_key += strlen("\"directory\":\"");
    *strchr(dir_key, '"') = '\0';
    snprintf(path, sizeof(path), "/files/read?path=%s/stdout&offset=0", dir_key);
    free(body);
    for (int i = 0; i < 200; i++) {
        body = cluster_http(port, "GET", path, NULL, &status);
        if (status == 200 && strstr(body, "visible") != NULL)
            break;
        free(body);
        body = NULL;
        usleep(10000);
    }
    assert_non_null(body);
    assert_non_null(strstr(body, "visible"));
    free(body);
}

/* An HTTP server in the test process: the actor "web" serves a tarball at /web/app.tar.gz. */
static char *tarball;
static size_t tarball_len;

static void on_tarball(actor_t *self, void *state, actor_http_request_t *req)
{
    (void)self, (void)state;
    actor_http_respond(req, 200, "application/gzip", NULL, 0, tarball, tarball_len);
}

static const actor_http_route_t web_routes[] = {{"/app.tar.gz", "GET", on_tarball}};

static void web_init(actor_t *self, void *state, void *arg)
{
    (void)state, (void)arg;
    actor_http_install(self, web_routes, 1);
}

static const actor_ops_t web_ops = {.name = "web", .init = web_init};

static void test_fetch_tarball_over_http(void **state)
{
    agent_cluster_t *c = *state;
    char cmd[512], path[128];
    snprintf(cmd, sizeof(cmd),
             "cd %s && mkdir -p app && echo 'echo from the tarball' > app/run.sh && "
             "tar czf app.tar.gz app && rm -rf app",
             c->work_dir);
    assert_int_equal(system(cmd), 0);
    snprintf(path, sizeof(path), "%s/app.tar.gz", c->work_dir);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    tarball = malloc(1 << 20);
    tarball_len = fread(tarball, 1, 1 << 20, f);
    fclose(f);
    actor_pid_t web;
    assert_int_equal(actor_spawn(&web_ops, "web", NULL, &web), ACTOR_OK);
    uint16_t port = cluster_http_listen(&c->master);
    char uri[128];
    snprintf(uri, sizeof(uri), "http://127.0.0.1:%u/web/app.tar.gz", port);
    launch(c, "tarball", "sh app/run.sh", "64", uri, NULL);
    Mesos__Scheduler__Event *ev;
    Mesos__TaskStatus *s = wait_terminal(c, &ev);
    assert_int_equal(s->state, MESOS__TASK_STATE__TASK_FINISHED);
    mesos__scheduler__event__free_unpacked(ev, NULL);
    char *out = sandbox_file(c, "tarball", "stdout");
    assert_non_null(strstr(out, "from the tarball"));
    free(out);
    actor_terminate(&web);
    free(tarball);
}

/* The agent with a fake mesos-executor, a shell script whose body is script (printf format). */
static int setup_fake_executor(void **state, const char *script)
{
    char dir[64];
    snprintf(dir, sizeof(dir), "/tmp/test_broken_launcher.%d", (int)getpid());
    char cmd[512];
    snprintf(cmd, sizeof(cmd),
             "mkdir -p %s && printf '#!/bin/sh\\n%s' > %s/mesos-executor && "
             "chmod +x %s/mesos-executor",
             dir, script, dir, dir);
    assert_int_equal(system(cmd), 0);
    setenv("TEST_LAUNCHER_DIR", dir, 1);
    return setup_with(state, "posix/cpu,posix/mem", false);
}

/* An executor that exits before it registers: the task fails, nothing hangs. */
static int setup_broken_executor(void **state)
{
    return setup_fake_executor(state, "echo dying >&2\\nexit 3\\n");
}

/* An executor that never registers: its task stays queued on the agent. */
static int setup_silent_executor(void **state)
{
    return setup_fake_executor(state, "exec sleep 60\\n");
}

static int teardown_broken_executor(void **state)
{
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", getenv("TEST_LAUNCHER_DIR"));
    assert_int_equal(system(cmd), 0);
    unsetenv("TEST_LAUNCHER_DIR");
    return teardown(state);
}

static void test_executor_dies_before_registering(void **state)
{
    agent_cluster_t *c = *state;
    launch(c, "orphan", "true", "64", NULL, NULL);
    Mesos__Scheduler__Event *ev;
    Mesos__TaskStatus *s = wait_terminal(c, &ev);
    assert_int_equal(s->state, MESOS__TASK_STATE__TASK_FAILED);
    assert_int_equal(s->reason, MESOS__TASK_STATUS__REASON__REASON_EXECUTOR_TERMINATED);
    mesos__scheduler__event__free_unpacked(ev, NULL);
}

static bool framework_completed(agent_cluster_t *c, void *arg)
{
    int status = 0;
    char *body = cluster_http(*(uint16_t *)arg, "GET", "/slave(1)/state", NULL, &status);
    bool done = status == 200 && strstr(body, "\"frameworks\":[]") != NULL &&
                strstr(body, "\"completed_frameworks\":[{") != NULL;
    free(body);
    (void)c;
    return done;
}

/* The framework is torn down while its executor has not registered: the agent destroys the
 * container, its queued task ends, and the executor and framework are completed once (the
 * task's update completes it at once, since the framework is gone). */
static void test_teardown_before_executor_registers(void **state)
{
    agent_cluster_t *c = *state;
    uint16_t port = cluster_http_listen(&c->master);
    launch(c, "quiet", "sleep 100", "64", NULL, NULL);
    Mesos__Scheduler__Call call = MESOS__SCHEDULER__CALL__INIT;
    call.type = MESOS__SCHEDULER__CALL__TYPE__TEARDOWN;
    sched_call(c->sched, &c->master, &call);
    assert_true(wait_for(framework_completed, c, &port));
    /* The agent still works: its state answers, and the task is among the completed. */
    int status = 0;
    char *body = cluster_http(port, "GET", "/slave(1)/state", NULL, &status);
    assert_int_equal(status, 200);
    assert_non_null(strstr(body, "\"id\":\"quiet\""));
    free(body);
}

static int setup_cgroups(void **state)
{
    if (geteuid() != 0 || access("/sys/fs/cgroup/memory/memory.limit_in_bytes", F_OK) != 0) {
        *state = NULL;
        return 0;
    }
    return setup_with(state, "cgroups/cpu,cgroups/mem", false);
}

/* The agent leaves its containers' cgroups when it stops (an agent that restarts recovers its
 * containers from them), so the test removes its subtree itself. */
static int teardown_cgroups(void **state)
{
    if (*state == NULL)
        return 0;
    int rc = teardown(state);
    char subtree[64], err[512] = "";
    subtree_name(subtree, sizeof(subtree));
    cgroups_options_t o = {.subtree = subtree, .cpu = true, .mem = true};
    cgroups_t *cg = NULL;
    assert_int_equal(cgroups_open(&o, &cg, err, sizeof(err)), ACTOR_OK);
    actor_err_t purged = cgroups_purge(cg, err, sizeof(err));
    cgroups_close(cg);
    if (purged != ACTOR_OK)
        print_message("cgroups_purge: %s\n", err);
    assert_int_equal(purged, ACTOR_OK);
    return rc;
}

static void test_memory_limit(void **state)
{
    agent_cluster_t *c = *state;
    if (c == NULL) {
        print_message("skipped: needs root and the cgroup v1 memory controller\n");
        skip();
    }
    /* 32 MB for the task (and 32 MB for the executor): holding 300 MB in a shell variable
     * crosses it. */
    launch(c, "hog", "x=$(head -c 300000000 /dev/zero | tr '\\0' a); sleep 5", "32", NULL, NULL);
    Mesos__Scheduler__Event *ev;
    Mesos__TaskStatus *s = wait_terminal(c, &ev);
    assert_int_equal(s->state, MESOS__TASK_STATE__TASK_FAILED);
    assert_int_equal(s->reason, MESOS__TASK_STATUS__REASON__REASON_CONTAINER_LIMITATION_MEMORY);
    mesos__scheduler__event__free_unpacked(ev, NULL);
}

int main(void)
{
    if (getenv("MESOS_TEST_BIN_DIR") == NULL) {
        print_message("MESOS_TEST_BIN_DIR is not set (run through ctest)\n");
        return 0;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_task_finishes_with_output, setup, teardown),
        cmocka_unit_test_setup_teardown(test_task_fails_with_status, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kill, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kill_while_spawning, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_user, setup_switch_user, teardown),
        cmocka_unit_test_setup_teardown(test_fetch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failed_fetch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_memory_limit, setup_cgroups, teardown_cgroups),
        cmocka_unit_test_setup_teardown(test_sandbox_browsable_and_usage, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fetch_tarball_over_http, setup, teardown),
        cmocka_unit_test_setup_teardown(test_executor_dies_before_registering,
                                        setup_broken_executor, teardown_broken_executor),
        cmocka_unit_test_setup_teardown(test_teardown_before_executor_registers,
                                        setup_silent_executor, teardown_broken_executor),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
