/*
 * support.c: Marathon in an in-process cluster (support.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "actor/filter.h"
#include "actor/http.h"
#include "slave/agent.h"
#include "tests/marathon/server/support.h"
#include "tests/support/fs.h"

void mcluster_start_marathon(mcluster_t *c)
{
    marathon_options_t mo;
    marathon_options_init(&mo);
    char master[ACTOR_PID_STRLEN], err[256] = "", dir[128];
    actor_pid_format(&c->master.master, master, sizeof(master));
    snprintf(dir, sizeof(dir), "%s/marathon", c->work_dir);
    mo.master = master;
    mo.work_dir = c->persistent ? dir : NULL;
    assert_int_equal(marathon_start(&mo, &c->marathon, err, sizeof(err)), ACTOR_OK);
    assert_int_equal(
        actor_http_listen("127.0.0.1", 0, marathon_server_pid(c->marathon)->id, &c->port),
        ACTOR_OK);
    actor_settle();
}

size_t mcluster_add_agent(mcluster_t *c, const char *hostname)
{
    assert_true(c->agent_count < MCLUSTER_MAX_AGENTS);
    agent_options_t ao;
    agent_options_init(&ao);
    char master[ACTOR_PID_STRLEN], err[256] = "", dir[128];
    actor_pid_format(&c->master.master, master, sizeof(master));
    snprintf(dir, sizeof(dir), "%s/agent%zu", c->work_dir, c->agent_count);
    assert_int_equal(mkdir(dir, 0700), 0);
    ao.master = master;
    ao.work_dir = dir;
    ao.hostname = hostname;
    ao.resources = "cpus:4;mem:4096;disk:1024;ports:[31000-32000]";
    ao.simulated = true;
    assert_int_equal(agent_start(&ao, &c->agents[c->agent_count], err, sizeof(err)), ACTOR_OK);
    actor_settle();
    return c->agent_count++;
}

mcluster_t *mcluster_new(bool persistent)
{
    cluster_runtime_start();
    mcluster_t *c = calloc(1, sizeof(*c));
    assert_non_null(c);
    c->persistent = persistent;
    master_options_t opts;
    cluster_master_options(&opts, NULL);
    c->master = cluster_master_start(&opts);
    assert_non_null(support_fs_tempdir(c->work_dir, sizeof(c->work_dir), "test_marathon"));
    mcluster_add_agent(c, NULL);
    mcluster_start_marathon(c);
    return c;
}

void mcluster_free(mcluster_t *c)
{
    actor_filter_install(NULL, NULL); /* a test that failed may have left one */
    marathon_stop(c->marathon);
    for (size_t k = 0; k < c->agent_count; k++)
        agent_stop(&c->agents[k]);
    master_stop(&c->master);
    cluster_runtime_stop();
    assert_int_equal(support_fs_rmtree(c->work_dir), 0);
    free(c);
}

int mcluster_setup(void **state)
{
    *state = mcluster_new(false);
    return 0;
}

int mcluster_setup_persistent(void **state)
{
    *state = mcluster_new(true);
    return 0;
}

int mcluster_teardown(void **state)
{
    mcluster_free(*state);
    return 0;
}

json_t *mcluster_api(mcluster_t *c, const char *method, const char *path, const char *body,
                     int *status)
{
    return mcluster_api_port(c->port, method, path, body, status);
}

json_t *mcluster_api_port(uint16_t port, const char *method, const char *path, const char *body,
                          int *status)
{
    char *text = cluster_http(port, method, path, body, status);
    assert_non_null(text);
    json_t *json = text[0] != '\0' ? json_loads(text, 0, NULL) : NULL;
    free(text);
    return json;
}

int mcluster_app_count(mcluster_t *c, const char *id, const char *field)
{
    char path[128];
    int status = 0;
    snprintf(path, sizeof(path), "/v2/apps/%s", id);
    json_t *j = mcluster_api(c, "GET", path, NULL, &status);
    int n = status == 200
                ? (int)json_integer_value(json_object_get(json_object_get(j, "app"), field))
                : -1;
    json_decref(j);
    return n;
}

void mcluster_create_app(mcluster_t *c, const char *json)
{
    int status = 0;
    json_t *j = mcluster_api(c, "POST", "/v2/apps", json, &status);
    assert_int_equal(status, 201);
    json_decref(j);
}

void mcluster_run(double seconds)
{
    for (double t = 0; t < seconds; t += 1)
        cluster_advance(1);
}

Mesos__Scheduler__Call *mcluster_filter_call(const actor_filter_event_t *ev)
{
    if (strcmp(ev->type_name, "mesos.scheduler.Call") != 0)
        return NULL;
    return mesos__scheduler__call__unpack(NULL, ev->len, ev->data);
}
