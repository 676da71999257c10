/* notify_support.c: see notify_support.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "actor/http.h"
#include "internal.pb-c.h"
#include "resources/resources.h"
#include "tests/marathon/server/notify_support.h"
#include "tests/marathon/server/support.h"
#include "tests/support/fs.h"

static void start_marathon(notify_cluster_t *c)
{
    char err[256] = "";
    assert_int_equal(marathon_start(&c->opts, &c->marathon, err, sizeof(err)), ACTOR_OK);
    assert_int_equal(
        actor_http_listen("127.0.0.1", 0, marathon_server_pid(c->marathon)->id, &c->port),
        ACTOR_OK);
    actor_settle();
}

notify_cluster_t *notify_cluster_new(const marathon_options_t *opts, bool persistent)
{
    notify_cluster_t *c = notify_cluster_prepare(persistent);
    notify_marathon_start(c, opts);
    return c;
}

notify_cluster_t *notify_cluster_prepare(bool persistent)
{
    return notify_cluster_prepare_host(persistent, NULL);
}

/* tests/master/support.h's agent_register, advertising hostname. */
notify_cluster_t *notify_cluster_prepare_host(bool persistent, const char *hostname)
{
    cluster_runtime_start();
    notify_cluster_t *c = calloc(1, sizeof(*c));
    assert_non_null(c);
    master_options_t mopts;
    cluster_master_options(&mopts, NULL);
    c->master = cluster_master_start(&mopts);
    assert_non_null(support_fs_tempdir(c->work_dir, sizeof(c->work_dir), "test_notify"));
    c->agent = fake_spawn("slave");
    if (hostname == NULL)
        agent_register(c->agent, &c->master, "cpus:4;mem:4096;ports:[31000-32000]");
    else
        agent_register_as(c->agent, &c->master, hostname, "cpus:4;mem:4096;ports:[31000-32000]");
    actor_pid_format(&c->master.master, c->master_pid, sizeof(c->master_pid));
    snprintf(c->state_dir, sizeof(c->state_dir), "%s/marathon", c->work_dir);
    c->persistent = persistent;
    return c;
}

void notify_marathon_start(notify_cluster_t *c, const marathon_options_t *opts)
{
    if (opts != NULL)
        c->opts = *opts;
    else
        marathon_options_init(&c->opts);
    c->opts.master = c->master_pid;
    c->opts.work_dir = c->persistent ? c->state_dir : NULL;
    start_marathon(c);
}

void notify_cluster_free(notify_cluster_t *c)
{
    marathon_stop(c->marathon);
    fake_stop(c->agent);
    master_stop(&c->master);
    cluster_runtime_stop();
    assert_int_equal(support_fs_rmtree(c->work_dir), 0);
    free(c);
}

void notify_marathon_restart(notify_cluster_t *c)
{
    marathon_stop(c->marathon);
    c->marathon = NULL;
    actor_settle();
    start_marathon(c);
}

json_t *notify_api(notify_cluster_t *c, const char *method, const char *path, const char *body,
                   int *status)
{
    return mcluster_api_port(c->port, method, path, body, status);
}

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

bool notify_wait(bool (*cond)(void *arg), void *arg, int timeout_ms)
{
    int64_t deadline = wall_ms() + timeout_ms;
    for (;;) {
        actor_settle();
        if (cond(arg))
            return true;
        if (wall_ms() > deadline)
            return false;
        usleep(2000); /* the transfers are real I/O on the runtime's I/O thread */
    }
}

static bool never(void *arg)
{
    (void)arg;
    return false;
}

void notify_idle(int ms)
{
    notify_wait(never, NULL, ms);
}

bool notify_last_task(notify_cluster_t *c, char *id, size_t id_len)
{
    Mesos__Internal__RunTaskMessage *run = (Mesos__Internal__RunTaskMessage *)fake_get(
        c->agent, &mesos__internal__run_task_message__descriptor, -1);
    if (run == NULL)
        return false;
    snprintf(id, id_len, "%s", run->task->task_id->value);
    protobuf_c_message_free_unpacked(&run->base, NULL);
    return true;
}

void notify_framework_id(notify_cluster_t *c, char *id, size_t id_len)
{
    int status = 0;
    json_t *info = notify_api(c, "GET", "/v2/info", NULL, &status);
    assert_int_equal(status, 200);
    const char *fid = json_string_value(json_object_get(info, "frameworkId"));
    assert_non_null(fid);
    snprintf(id, id_len, "%s", fid);
    json_decref(info);
}
