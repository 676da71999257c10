/* Marathon's HTTP callback event subscriptions (subscriptions.c) in an in-process cluster: a
 * subscriber served by an actor of the test on 127.0.0.1 receives every event as a JSON POST; a
 * failing subscriber is retried with backoff and dropped; a slow one neither blocks Marathon nor
 * grows without bound; subscriptions survive a restart; bad input gets Marathon's 400 and 422. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "actor/http.h"
#include "tests/marathon/server/notify_support.h"

#define HELD_MAX 64

/* What the subscriber saw: read by the test between settles (no workers: the actor runs only
 * inside actor_settle, on the test's thread). */
typedef struct received {
    json_t *events;  /* every POST's body, parsed, in arrival order */
    size_t attempts; /* requests, answered or not */
    int status;      /* the status to answer (200) */
    bool hold;       /* keep requests unanswered until release */
    actor_http_request_t *held[HELD_MAX];
    size_t held_count;
    char content_type[64], accept[64];
} received_t;

typedef struct subscriber {
    actor_pid_t pid;
    uint16_t port;
    received_t rx;
} subscriber_t;

typedef struct sub_state {
    received_t *rx;
} sub_state_t;

static void answer(actor_http_request_t *req, int status)
{
    actor_http_respond(req, status, "text/plain", NULL, 0, "", 0);
}

static void on_callback(actor_t *self, void *state, actor_http_request_t *req)
{
    (void)self;
    received_t *rx = ((sub_state_t *)state)->rx;
    rx->attempts++;
    size_t len = 0;
    const char *body = actor_http_body(req, &len);
    json_t *event = json_loadb(body, len, 0, NULL);
    json_array_append_new(rx->events, event != NULL ? event : json_null());
    const char *ct = actor_http_header(req, "Content-Type");
    const char *accept = actor_http_header(req, "Accept");
    snprintf(rx->content_type, sizeof(rx->content_type), "%s", ct != NULL ? ct : "");
    snprintf(rx->accept, sizeof(rx->accept), "%s", accept != NULL ? accept : "");
    if (rx->hold && rx->held_count < HELD_MAX)
        rx->held[rx->held_count++] = req;
    else
        answer(req, rx->status);
}

static const actor_http_route_t sub_routes[] = {{"*", "POST", on_callback}};

static void sub_init(actor_t *self, void *state, void *arg)
{
    ((sub_state_t *)state)->rx = arg;
    actor_http_install(self, sub_routes, 1);
}

static void release_held(received_t *rx)
{
    for (size_t k = 0; k < rx->held_count; k++)
        answer(rx->held[k], rx->status);
    rx->held_count = 0;
}

static void sub_fini(actor_t *self, void *state)
{
    (void)self;
    release_held(((sub_state_t *)state)->rx);
}

static const actor_ops_t sub_ops = {
    .name = "subscriber",
    .state_size = sizeof(sub_state_t),
    .init = sub_init,
    .fini = sub_fini,
};

static subscriber_t *subscriber_start(void)
{
    subscriber_t *s = calloc(1, sizeof(*s));
    assert_non_null(s);
    s->rx.events = json_array();
    s->rx.status = 200;
    assert_int_equal(actor_spawn(&sub_ops, NULL, &s->rx, &s->pid), ACTOR_OK);
    actor_settle();
    assert_int_equal(actor_http_listen("127.0.0.1", 0, s->pid.id, &s->port), ACTOR_OK);
    return s;
}

static void subscriber_stop(subscriber_t *s)
{
    actor_terminate(&s->pid);
    actor_settle();
    json_decref(s->rx.events);
    free(s);
}

static void on_release(actor_t *self, void *state, void *arg)
{
    (void)arg;
    if (self != NULL)
        release_held(((sub_state_t *)state)->rx);
}

/* Answers the held requests (inside the subscriber actor) and stops holding. */
static void subscriber_release(subscriber_t *s)
{
    s->rx.hold = false;
    assert_int_equal(actor_dispatch(&s->pid, on_release, NULL), ACTOR_OK);
    actor_settle();
}

static void url_of(const subscriber_t *s, const char *path, char *out, size_t len)
{
    snprintf(out, len, "http://127.0.0.1:%u%s", s->port, path);
}

/* ---- helpers ---- */

static json_t *subscribe(notify_cluster_t *c, const char *method, const char *url, int *status)
{
    char path[600];
    snprintf(path, sizeof(path), "/v2/eventSubscriptions?callbackUrl=%s", url);
    return notify_api(c, method, path, NULL, status);
}

static void subscribe_ok(notify_cluster_t *c, const char *url)
{
    int status = 0;
    json_t *j = subscribe(c, "POST", url, &status);
    assert_int_equal(status, 200);
    json_decref(j);
}

static size_t subscriber_count(notify_cluster_t *c)
{
    int status = 0;
    json_t *j = notify_api(c, "GET", "/v2/eventSubscriptions", NULL, &status);
    assert_int_equal(status, 200);
    size_t n = json_array_size(json_object_get(j, "callbackUrls"));
    json_decref(j);
    return n;
}

typedef struct want {
    received_t *rx;
    size_t count;     /* at least this many requests */
    const char *type; /* or, when set: an event of this type */
} want_t;

static const char *event_type(const received_t *rx, size_t i)
{
    return json_string_value(json_object_get(json_array_get(rx->events, i), "eventType"));
}

static const char *event_url(const received_t *rx, size_t i)
{
    return json_string_value(json_object_get(json_array_get(rx->events, i), "callbackUrl"));
}

static bool has_event(const received_t *rx, const char *type)
{
    for (size_t i = 0; i < json_array_size(rx->events); i++) {
        const char *t = event_type(rx, i);
        if (t != NULL && strcmp(t, type) == 0)
            return true;
    }
    return false;
}

static bool wanted(void *arg)
{
    want_t *w = arg;
    return w->type != NULL ? has_event(w->rx, w->type) : w->rx->attempts >= w->count;
}

static void wait_attempts(received_t *rx, size_t count)
{
    want_t w = {.rx = rx, .count = count};
    assert_true(notify_wait(wanted, &w, 5000));
}

static void wait_event(received_t *rx, const char *type)
{
    want_t w = {.rx = rx, .type = type};
    assert_true(notify_wait(wanted, &w, 5000));
}

/* Advances the clock a second at a time until the subscriber saw count requests; returns the
 * seconds it took. Each step waits a little for the request, because whether Marathon heard the
 * previous answer before a step or after it is a race of real I/O (so a backoff of n seconds
 * takes n or n + 1 steps). */
static int advance_until(received_t *rx, size_t count, int max_seconds)
{
    want_t w = {.rx = rx, .count = count};
    for (int k = 1; k <= max_seconds; k++) {
        cluster_advance(1);
        if (notify_wait(wanted, &w, 150))
            return k;
    }
    fail_msg("%zu requests after %d s, want %zu", rx->attempts, max_seconds, count);
    return -1;
}

static bool one_subscriber(void *arg)
{
    return subscriber_count(arg) == 1;
}

/* An event that costs nothing else: unsubscribing a URL that was never subscribed. */
static void poke(notify_cluster_t *c, int k)
{
    char url[64];
    snprintf(url, sizeof(url), "http://127.0.0.1:9/poke%d", k);
    int status = 0;
    json_t *j = subscribe(c, "DELETE", url, &status);
    assert_int_equal(status, 200);
    json_decref(j);
}

/* ---- the fixture: what a test started, stopped even when it fails ---- */

typedef struct fixture {
    notify_cluster_t *c;
    subscriber_t *subs[2];
    size_t sub_count;
} fixture_t;

static fixture_t *F(void **state)
{
    return *state;
}

static subscriber_t *sub_new(void **state)
{
    fixture_t *f = F(state);
    assert_true(f->sub_count < 2);
    return f->subs[f->sub_count++] = subscriber_start();
}

static int setup(void **state)
{
    *state = calloc(1, sizeof(fixture_t));
    return *state != NULL ? 0 : -1;
}

static int teardown(void **state)
{
    fixture_t *f = F(state);
    for (size_t k = 0; k < f->sub_count; k++)
        subscriber_stop(f->subs[k]);
    if (f->c != NULL)
        notify_cluster_free(f->c);
    free(f);
    return 0;
}

/* The cluster with Marathon's options o, one subscriber answering status (0: holding its
 * requests) subscribed at path, and its subscribe_event's first POST received. */
static subscriber_t *start_subscribed(void **state, const marathon_options_t *o, const char *path,
                                      int status)
{
    notify_cluster_t *c = F(state)->c = notify_cluster_new(o, false);
    subscriber_t *s = sub_new(state);
    s->rx.hold = status == 0;
    s->rx.status = status != 0 ? status : 200;
    char url[128];
    url_of(s, path, url, sizeof(url));
    subscribe_ok(c, url);
    wait_attempts(&s->rx, 1);
    return s;
}

/* ---- tests ---- */

static void test_subscribe_list_unsubscribe(void **state)
{
    notify_cluster_t *c = F(state)->c = notify_cluster_new(NULL, false);
    subscriber_t *s = sub_new(state);
    char url[128];
    url_of(s, "/callback", url, sizeof(url));
    int status = 0;
    json_t *j = subscribe(c, "POST", url, &status);
    assert_int_equal(status, 200);
    assert_string_equal(json_string_value(json_object_get(j, "callbackUrl")), url);
    assert_string_equal(json_string_value(json_object_get(j, "clientIp")), "127.0.0.1");
    assert_string_equal(json_string_value(json_object_get(j, "eventType")), "subscribe_event");
    assert_non_null(json_string_value(json_object_get(j, "timestamp")));
    json_decref(j);

    j = notify_api(c, "GET", "/v2/eventSubscriptions", NULL, &status);
    assert_int_equal(status, 200);
    assert_int_equal(json_array_size(json_object_get(j, "callbackUrls")), 1);
    assert_string_equal(json_string_value(json_array_get(json_object_get(j, "callbackUrls"), 0)),
                        url);
    json_decref(j);

    /* Its own subscribe_event comes first, as JSON; then the events of an app's creation. */
    wait_event(&s->rx, "subscribe_event");
    assert_string_equal(event_type(&s->rx, 0), "subscribe_event");
    assert_string_equal(s->rx.content_type, "application/json");
    assert_string_equal(s->rx.accept, "application/json");
    j = notify_api(c, "POST", "/v2/apps",
                   "{\"id\":\"web\",\"cmd\":\"sleep 1000\",\"cpus\":0.1,\"mem\":16}", &status);
    assert_int_equal(status, 201);
    json_decref(j);
    wait_event(&s->rx, "api_post_event");
    wait_event(&s->rx, "deployment_info");
    json_t *post = NULL;
    for (size_t i = 0; i < json_array_size(s->rx.events); i++) {
        if (strcmp(event_type(&s->rx, i), "api_post_event") == 0)
            post = json_array_get(s->rx.events, i);
    }
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(post, "appDefinition"), "id")), "/web");
    assert_non_null(json_object_get(post, "timestamp"));

    /* A second POST of the same URL is idempotent. */
    subscribe_ok(c, url);
    assert_int_equal(subscriber_count(c), 1);

    j = subscribe(c, "DELETE", url, &status);
    assert_int_equal(status, 200);
    assert_string_equal(json_string_value(json_object_get(j, "eventType")), "unsubscribe_event");
    assert_string_equal(json_string_value(json_object_get(j, "callbackUrl")), url);
    json_decref(j);
    assert_int_equal(subscriber_count(c), 0);
    size_t before = s->rx.attempts;
    poke(c, 1);
    notify_idle(50);
    assert_int_equal(s->rx.attempts, before);
}

/* The index of the first event of type at or after from, or the number of events. */
static size_t event_at(const received_t *rx, const char *type, size_t from)
{
    size_t n = json_array_size(rx->events);
    for (size_t i = from; i < n; i++) {
        const char *t = event_type(rx, i);
        if (t != NULL && strcmp(t, type) == 0)
            return i;
    }
    return n;
}

/* Marathon's sequence for a POST of one instance: deployment_info, then instance_changed_event
 * and status_update_event for the task as it runs, then deployment_step_success and
 * deployment_success, with Marathon's fields. */
static void test_deployment_event_sequence(void **state)
{
    subscriber_t *s = start_subscribed(state, NULL, "/events", 200);
    notify_cluster_t *c = F(state)->c;
    int status = 0;
    json_t *j =
        notify_api(c, "POST", "/v2/apps",
                   "{\"id\":\"seq\",\"cmd\":\"sleep 1000\",\"cpus\":0.1,\"mem\":16}", &status);
    assert_int_equal(status, 201);
    json_decref(j);
    for (int k = 0; k < 30 && fake_count(c->agent, "mesos.internal.RunTaskMessage") == 0; k++)
        cluster_advance(1);
    char id[128], framework[128];
    assert_true(notify_last_task(c, id, sizeof(id)));
    notify_framework_id(c, framework, sizeof(framework));
    agent_update(c->agent, &c->master, framework, id, MESOS__TASK_STATE__TASK_RUNNING);
    wait_event(&s->rx, "deployment_success");

    const received_t *rx = &s->rx;
    size_t info = event_at(rx, "deployment_info", 0);
    size_t changed = event_at(rx, "instance_changed_event", info);
    size_t update = event_at(rx, "status_update_event", changed);
    size_t step = event_at(rx, "deployment_step_success", update);
    size_t done = event_at(rx, "deployment_success", step);
    assert_true(done < json_array_size(rx->events));
    json_t *ev = json_array_get(rx->events, changed);
    assert_string_equal(json_string_value(json_object_get(ev, "instanceId")), id);
    assert_string_equal(json_string_value(json_object_get(ev, "condition")), "Running");
    assert_string_equal(json_string_value(json_object_get(ev, "runSpecId")), "/seq");
    assert_string_equal(json_string_value(json_object_get(ev, "host")), "agent.test");
    assert_non_null(json_string_value(json_object_get(ev, "agentId")));
    assert_non_null(json_string_value(json_object_get(ev, "runSpecVersion")));
    ev = json_array_get(rx->events, step);
    json_t *actions = json_object_get(json_object_get(ev, "currentStep"), "actions");
    assert_string_equal(json_string_value(json_object_get(json_array_get(actions, 0), "app")),
                        "/seq");
    assert_non_null(json_string_value(json_object_get(json_object_get(ev, "plan"), "id")));
}

static void expect_error(notify_cluster_t *c, const char *method, const char *path, int want,
                         const char *in_message)
{
    int status = 0;
    json_t *j = notify_api(c, method, path, NULL, &status);
    assert_int_equal(status, want);
    const char *message = json_string_value(json_object_get(j, "message"));
    assert_non_null(message);
    assert_non_null(strstr(message, in_message));
    if (want == 422) {
        json_t *detail = json_array_get(json_object_get(j, "details"), 0);
        assert_string_equal(json_string_value(json_object_get(detail, "path")), "/callbackUrl");
        assert_int_equal(json_array_size(json_object_get(detail, "errors")), 1);
    }
    json_decref(j);
}

static void test_bad_input(void **state)
{
    notify_cluster_t *c = F(state)->c = notify_cluster_new(NULL, false);
    const char *base = "/v2/eventSubscriptions";
    expect_error(c, "POST", base, 400, "callbackUrl");
    expect_error(c, "POST", "/v2/eventSubscriptions?callbackUrl=", 400, "callbackUrl");
    expect_error(c, "DELETE", base, 400, "callbackUrl");
    expect_error(c, "POST", "/v2/eventSubscriptions?callbackUrl=ftp://127.0.0.1/x", 422,
                 "not valid");
    expect_error(c, "POST", "/v2/eventSubscriptions?callbackUrl=not%20a%20url", 422, "not valid");
    expect_error(c, "POST", "/v2/eventSubscriptions?callbackUrl=http://", 422, "not valid");
    char path[700] = "/v2/eventSubscriptions?callbackUrl=http://127.0.0.1/";
    memset(path + strlen(path), 'a', 600);
    path[sizeof(path) - 1] = '\0';
    expect_error(c, "POST", path, 422, "not valid");
    int status = 0;
    json_t *j = notify_api(c, "PUT", base, NULL, &status);
    assert_int_equal(status, 405);
    json_decref(j);
    assert_int_equal(subscriber_count(c), 0);
}

/* A subscriber answering 500 gets each event again after 1, 2, ... s and is dropped after the
 * limit of failures; another subscriber meanwhile gets every event at once. */
static void test_failing_subscriber_retried_then_dropped(void **state)
{
    marathon_options_t o;
    marathon_options_init(&o);
    o.http_event_callback_max_failures = 3;
    notify_cluster_t *c = F(state)->c = notify_cluster_new(&o, false);
    subscriber_t *bad = sub_new(state), *good = sub_new(state);
    bad->rx.status = 500;
    char bad_url[128], good_url[128];
    url_of(bad, "/bad", bad_url, sizeof(bad_url));
    url_of(good, "/good", good_url, sizeof(good_url));
    subscribe_ok(c, good_url);
    subscribe_ok(c, bad_url);
    wait_attempts(&bad->rx, 1);
    notify_idle(30);
    assert_int_equal(bad->rx.attempts, 1); /* no retry before the backoff */
    poke(c, 1);
    wait_event(&good->rx, "unsubscribe_event");
    int waited = advance_until(&bad->rx, 2, 5); /* the first retry, after 1 s */
    assert_in_range(waited, 1, 2);
    assert_string_equal(event_type(&bad->rx, 1), "subscribe_event"); /* the same event */
    waited = advance_until(&bad->rx, 3, 5);                          /* the second, after 2 s */
    assert_in_range(waited, 2, 3);
    assert_true(notify_wait(one_subscriber, c, 5000)); /* the third failure dropped it */
    cluster_advance(120);
    poke(c, 2);
    notify_idle(30);
    assert_int_equal(bad->rx.attempts, 3);
    int status = 0;
    json_t *j = notify_api(c, "GET", "/v2/eventSubscriptions", NULL, &status);
    assert_string_equal(json_string_value(json_array_get(json_object_get(j, "callbackUrls"), 0)),
                        good_url);
    json_decref(j);
}

/* A retry that succeeds delivers the event and what queued behind it, in order, and resets the
 * count of failures. */
static void test_retry_delivers_in_order(void **state)
{
    marathon_options_t o;
    marathon_options_init(&o);
    o.http_event_callback_max_failures = 2;
    subscriber_t *s = start_subscribed(state, &o, "/cb", 503);
    notify_cluster_t *c = F(state)->c;
    poke(c, 1);
    poke(c, 2);
    s->rx.status = 200;
    advance_until(&s->rx, 2, 5);
    wait_attempts(&s->rx, 4);
    assert_string_equal(event_type(&s->rx, 1), "subscribe_event");
    assert_string_equal(event_type(&s->rx, 2), "unsubscribe_event");
    assert_string_equal(event_url(&s->rx, 3), "http://127.0.0.1:9/poke2");
    /* One failure after a success does not reach the limit of two. */
    s->rx.status = 500;
    poke(c, 3);
    wait_attempts(&s->rx, 5);
    s->rx.status = 200;
    advance_until(&s->rx, 6, 5);
    assert_int_equal(subscriber_count(c), 1);
}

/* While a subscriber holds a POST, Marathon answers at once and keeps at most the queue's bound
 * of events for it, dropping the oldest. */
static void test_slow_subscriber_bounded_and_never_blocks(void **state)
{
    marathon_options_t o;
    marathon_options_init(&o);
    o.http_event_callback_queue = 4;
    subscriber_t *s = start_subscribed(state, &o, "/slow", 0);
    notify_cluster_t *c = F(state)->c;
    for (int k = 0; k < 10; k++)
        poke(c, k); /* each answered while the subscriber holds its POST */
    int status = 0;
    json_t *j = notify_api(c, "GET", "/v2/apps", NULL, &status);
    assert_int_equal(status, 200);
    json_decref(j);
    notify_idle(30);
    assert_int_equal(s->rx.attempts, 1);
    subscriber_release(s);
    /* The queue of 4 held the POST under way and the last 3 pokes. */
    wait_attempts(&s->rx, 4);
    notify_idle(50);
    assert_int_equal(s->rx.attempts, 4);
    for (int k = 0; k < 3; k++) {
        char want[64];
        snprintf(want, sizeof(want), "http://127.0.0.1:9/poke%d", 7 + k);
        assert_string_equal(event_url(&s->rx, 1 + (size_t)k), want);
    }
}

/* A POST that takes longer than the timeout fails and is retried. */
static void test_slow_subscriber_times_out(void **state)
{
    marathon_options_t o;
    marathon_options_init(&o);
    o.http_event_callback_timeout = 0.2;
    subscriber_t *s = start_subscribed(state, &o, "/slow", 0);
    notify_idle(400); /* the timeout passes in real time */
    subscriber_release(s);
    advance_until(&s->rx, 2, 5);
    assert_string_equal(event_type(&s->rx, 1), "subscribe_event");
}

static void test_subscriptions_survive_restart(void **state)
{
    notify_cluster_t *c = F(state)->c = notify_cluster_new(NULL, true);
    subscriber_t *s = sub_new(state);
    char url[128], gone[128];
    url_of(s, "/keep", url, sizeof(url));
    url_of(s, "/gone", gone, sizeof(gone));
    subscribe_ok(c, url);
    subscribe_ok(c, gone);
    int status = 0;
    json_decref(subscribe(c, "DELETE", gone, &status));
    wait_attempts(&s->rx, 4); /* /keep: 2 subscribes and 1 unsubscribe; /gone: 1 subscribe */
    notify_marathon_restart(c);
    int count = (int)subscriber_count(c);
    assert_int_equal(count, 1);
    json_t *j = notify_api(c, "GET", "/v2/eventSubscriptions", NULL, &status);
    assert_string_equal(json_string_value(json_array_get(json_object_get(j, "callbackUrls"), 0)),
                        url);
    json_decref(j);
    size_t before = s->rx.attempts;
    poke(c, 1);
    wait_attempts(&s->rx, before + 1);
    assert_string_equal(event_url(&s->rx, before), "http://127.0.0.1:9/poke1");
}

/* --http_endpoints subscribes its URLs at start. */
static void test_http_endpoints(void **state)
{
    notify_cluster_t *c = F(state)->c = notify_cluster_prepare(false);
    subscriber_t *s = sub_new(state);
    char urls[300];
    snprintf(urls, sizeof(urls), "http://127.0.0.1:%u/a,http://127.0.0.1:%u/b", s->port, s->port);
    marathon_options_t o;
    marathon_options_init(&o);
    o.event_subscriber = "http_callback";
    o.http_endpoints = urls;
    char err[256] = "";
    assert_int_equal(marathon_notify_options_check(&o, err, sizeof(err)), ACTOR_OK);
    notify_marathon_start(c, &o);
    assert_int_equal(subscriber_count(c), 2);
    poke(c, 1);
    wait_attempts(&s->rx, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_subscribe_list_unsubscribe, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deployment_event_sequence, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_input, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failing_subscriber_retried_then_dropped, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_retry_delivers_in_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_slow_subscriber_bounded_and_never_blocks, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_slow_subscriber_times_out, setup, teardown),
        cmocka_unit_test_setup_teardown(test_subscriptions_survive_restart, setup, teardown),
        cmocka_unit_test_setup_teardown(test_http_endpoints, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
