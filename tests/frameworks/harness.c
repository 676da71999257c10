/* harness.c: the in-process cluster of harness.h. */
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
#include "actor/pbcopy.h"
#include "resources/resources.h"
#include "slave/agent.h"
#include "tests/frameworks/harness.h"

harness_t *harness_new(void)
{
    cluster_runtime_start();
    harness_t *h = calloc(1, sizeof(*h));
    assert_non_null(h);
    master_options_t opts;
    cluster_master_options(&opts, NULL);
    h->master = cluster_master_start(&opts);
    actor_pid_format(&h->master.master, h->master_text, sizeof(h->master_text));
    snprintf(h->work_dir, sizeof(h->work_dir), "/tmp/test_frameworks.XXXXXX");
    assert_non_null(mkdtemp(h->work_dir));
    return h;
}

void harness_free(harness_t *h)
{
    actor_filter_install(NULL, NULL);
    actor_filter_clear();
    if (h->d != NULL)
        scheduler_driver_free(h->d);
    harness_agent_stop(h);
    master_stop(&h->master);
    cluster_runtime_stop();
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", h->work_dir);
    assert_int_equal(system(cmd), 0);
    for (size_t i = 0; i < h->offer_count; i++)
        mesos__offer__free_unpacked(h->offers[i], NULL);
    free(h->offers);
    free(h->updates);
    free(h);
}

void harness_agent_start(harness_t *h, const char *resources)
{
    agent_options_t o;
    agent_options_init(&o);
    char err[256] = "";
    o.master = h->master_text;
    o.work_dir = h->work_dir;
    o.resources = resources != NULL ? resources : "cpus:4;mem:1024;disk:1024";
    o.simulated = true;
    o.http_port = 5051;
    assert_int_equal(agent_start(&o, &h->agent, err, sizeof(err)), ACTOR_OK);
    h->agent_up = true;
    actor_settle();
}

void harness_agent_stop(harness_t *h)
{
    if (!h->agent_up)
        return;
    agent_stop(&h->agent);
    h->agent_up = false;
    actor_settle();
}

/* ---- recording callbacks ---- */

static void on_subscribed(scheduler_driver_t *d, void *user, const char *framework_id,
                          bool resubscribed, const Mesos__MasterInfo *master_info)
{
    (void)d;
    (void)master_info;
    harness_t *h = user;
    h->subscribed++;
    h->resubscribed += resubscribed;
    snprintf(h->framework_id, sizeof(h->framework_id), "%s", framework_id);
}

static void on_offers(scheduler_driver_t *d, void *user, const Mesos__Offer *const *offers,
                      size_t count)
{
    harness_t *h = user;
    h->offer_events++;
    h->offers = realloc(h->offers, (h->offer_count + count) * sizeof(*h->offers));
    assert_non_null(h->offers);
    for (size_t i = 0; i < count; i++) {
        h->offers[h->offer_count] = PB_COPY(Mesos__Offer, offers[i]);
        assert_non_null(h->offers[h->offer_count]);
        h->offer_count++;
    }
    if (h->offers_hook != NULL)
        h->offers_hook(h, d, offers, count);
}

static void on_rescind(scheduler_driver_t *d, void *user, const char *offer_id)
{
    (void)d;
    (void)offer_id;
    ((harness_t *)user)->rescinds++;
}

static void on_update(scheduler_driver_t *d, void *user, const Mesos__TaskStatus *status)
{
    harness_t *h = user;
    h->updates = realloc(h->updates, (h->update_count + 1) * sizeof(*h->updates));
    assert_non_null(h->updates);
    recorded_update_t *u = &h->updates[h->update_count++];
    memset(u, 0, sizeof(*u));
    snprintf(u->task_id, sizeof(u->task_id), "%s", status->task_id->value);
    if (status->agent_id != NULL)
        snprintf(u->agent_id, sizeof(u->agent_id), "%s", status->agent_id->value);
    u->state = status->state;
    u->has_reason = status->has_reason;
    u->reason = status->reason;
    u->has_uuid = status->has_uuid && status->uuid.len > 0;
    if (status->message != NULL)
        snprintf(u->message, sizeof(u->message), "%s", status->message);
    if (h->update_hook != NULL)
        h->update_hook(h, d, status);
}

static void on_failure(scheduler_driver_t *d, void *user, const char *agent_id,
                       const char *executor_id, int status)
{
    (void)d;
    (void)executor_id;
    (void)status;
    harness_t *h = user;
    h->failures++;
    snprintf(h->failure_agent, sizeof(h->failure_agent), "%s", agent_id ? agent_id : "");
}

static void on_error(scheduler_driver_t *d, void *user, const char *message)
{
    (void)d;
    harness_t *h = user;
    h->errors++;
    snprintf(h->error, sizeof(h->error), "%s", message);
}

static void on_disconnected(scheduler_driver_t *d, void *user)
{
    (void)d;
    ((harness_t *)user)->disconnected++;
}

static const scheduler_callbacks_t callbacks = {
    .subscribed = on_subscribed,
    .offers = on_offers,
    .rescind = on_rescind,
    .update = on_update,
    .failure = on_failure,
    .error = on_error,
    .disconnected = on_disconnected,
};

void harness_options(harness_t *h, scheduler_driver_options_t *opts)
{
    scheduler_driver_options_init(opts);
    opts->master = h->master_text;
    opts->name = "test";
    opts->user = "tester";
}

void harness_driver_start(harness_t *h, const scheduler_driver_options_t *opts)
{
    assert_int_equal(scheduler_driver_start(opts, &callbacks, h, &h->d), ACTOR_OK);
    actor_settle();
}

const Mesos__Offer *harness_offered(harness_t *h, bool partition_aware)
{
    scheduler_driver_options_t opts;
    harness_options(h, &opts);
    if (partition_aware)
        opts.capabilities = SCHEDULER_CAP_PARTITION_AWARE;
    return harness_offered_with(h, &opts);
}

const Mesos__Offer *harness_offered_with(harness_t *h, const scheduler_driver_options_t *opts)
{
    harness_driver_start(h, opts);
    assert_int_equal(h->subscribed, 1);
    harness_agent_start(h, NULL);
    cluster_advance(1); /* an allocation cycle */
    assert_true(h->offer_count > 0);
    return harness_last_offer(h);
}

const Mesos__Offer *harness_last_offer(const harness_t *h)
{
    return h->offer_count > 0 ? h->offers[h->offer_count - 1] : NULL;
}

const recorded_update_t *harness_last_update(const harness_t *h)
{
    return h->update_count > 0 ? &h->updates[h->update_count - 1] : NULL;
}

size_t harness_updates(const harness_t *h, const char *task_id, int state)
{
    size_t n = 0;
    for (size_t i = 0; i < h->update_count; i++)
        n += strcmp(h->updates[i].task_id, task_id) == 0 && h->updates[i].state == state;
    return n;
}

actor_err_t harness_launch(harness_t *h, const Mesos__Offer *offer, const char *task_id,
                           const char *command, const char *resources)
{
    resources_t res;
    Mesos__Resource **proto = NULL;
    size_t count = 0;
    assert_int_equal(resources_parse(&res, resources, NULL, NULL, 0), ACTOR_OK);
    assert_int_equal(resources_to_proto(&res, &proto, &count), ACTOR_OK);
    scheduler_task_t task;
    scheduler_task_init(&task, task_id, NULL, offer->agent_id->value, command, proto, count);
    Mesos__TaskInfo *tasks[] = {&task.info};
    const char *ids[] = {offer->id->value};
    actor_err_t err = scheduler_driver_launch(h->d, ids, 1, tasks, 1, -1);
    resources_proto_free(proto, count);
    resources_fini(&res);
    actor_settle();
    return err;
}

/* ---- message filter ---- */

static actor_filter_verdict_t count_filter(const actor_filter_event_t *e, void *arg)
{
    type_counter_t *c = arg;
    const char *type = e->type_name;
    bool to_driver = strncmp(e->to->id, "scheduler(", 10) == 0;
    if (strcmp(type, "mesos.scheduler.Call") == 0) {
        Mesos__Scheduler__Call *call = mesos__scheduler__call__unpack(NULL, e->len, e->data);
        if (call != NULL) {
            c->subscribes += call->type == MESOS__SCHEDULER__CALL__TYPE__SUBSCRIBE;
            c->acks += call->type == MESOS__SCHEDULER__CALL__TYPE__ACKNOWLEDGE;
            c->teardowns += call->type == MESOS__SCHEDULER__CALL__TYPE__TEARDOWN;
            c->declines += call->type == MESOS__SCHEDULER__CALL__TYPE__DECLINE;
            mesos__scheduler__call__free_unpacked(call, NULL);
        }
    }
    if (strcmp(type, "mesos.internal.StatusUpdateMessage") == 0)
        c->updates_from_agents++;
    if (to_driver && strcmp(type, "mesos.scheduler.Event") == 0) {
        if (c->drop_events_to_driver)
            return ACTOR_FILTER_DROP;
        Mesos__Scheduler__Event *ev = mesos__scheduler__event__unpack(NULL, e->len, e->data);
        bool hold = ev != NULL && ev->type == MESOS__SCHEDULER__EVENT__TYPE__SUBSCRIBED &&
                    c->hold_subscribed && c->held == 0;
        if (hold) {
            c->held = e->hold_id;
            snprintf(c->held_framework, sizeof(c->held_framework), "%s",
                     ev->subscribed->framework_id->value);
        }
        if (ev != NULL)
            mesos__scheduler__event__free_unpacked(ev, NULL);
        if (hold)
            return ACTOR_FILTER_HOLD;
    }
    if (c->drop != NULL && strcmp(type, c->drop) == 0)
        return ACTOR_FILTER_DROP;
    return ACTOR_FILTER_PASS;
}

void harness_count_messages(type_counter_t *counter)
{
    actor_filter_install(count_filter, counter);
}
