/*
 * subscriptions.c: Marathon 1.4's HTTP callback event subscriptions (`--event_subscriber
 * http_callback`, HttpEventActor and HttpCallbackSubscriptionService):
 *
 *   POST   /v2/eventSubscriptions?callbackUrl=URL  subscribes URL; answers (and publishes) the
 *          subscribe_event {"callbackUrl","clientIp","eventType","timestamp"}
 *   DELETE /v2/eventSubscriptions?callbackUrl=URL  unsubscribes it; answers (and publishes) the
 *          unsubscribe_event (also for a URL that was not subscribed, as Marathon)
 *   GET    /v2/eventSubscriptions                  {"callbackUrls": [...]}
 *
 * Every event of the bus (events.c) is POSTed to every subscriber as the same JSON that
 * /v2/events carries (Content-Type and Accept application/json). Subscriptions are always on:
 * --event_subscriber=http_callback is accepted for compatibility and changes nothing. They are
 * stored ("sub" 0x1f URL -> {"callbackUrl","clientIp"}) and come back after a restart, with the
 * URLs of --http_endpoints added at start.
 *
 * Delivery never blocks Marathon: the POSTs run on the runtime's I/O thread (http_client.h). Per
 * subscriber, one POST at a time keeps its events in order; the others wait in a queue of at most
 * http_event_callback_queue events (default 1024), the oldest waiting one dropped when it is full,
 * as /v2/events drops a slow reader's events. A POST fails on a connection error, on a status
 * outside 2xx, or after http_event_callback_timeout (default 10 s, Marathon's slow-consumer
 * timeout); the same event is then retried after 1, 2, 4, ... seconds (at most 60; Marathon's
 * 2^failures backoff), and after http_event_callback_max_failures consecutive failures (default
 * 10, about four minutes of retries) the subscriber is dropped and its subscription deleted,
 * where Marathon 1.4 only skipped it: a dead subscriber costs nothing for ever after.
 *
 * A subscriber's POST and retry timer carry its URL and the serial of its subscription, never a
 * pointer: an unsubscribe meanwhile just makes them find nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "actor/log.h"
#include "frameworks/marathon/http_client.h"
#include "frameworks/marathon/marathon_int.h"

#define SEP                  "\x1f"
#define KEY_PREFIX           "sub" SEP
#define URL_MAX              500 /* the key "sub" SEP URL stays under STORE_KEY_MAX */
#define DEFAULT_TIMEOUT_S    10.0
#define DEFAULT_QUEUE        1024
#define DEFAULT_MAX_FAILURES 10
#define BACKOFF_MAX_S        60

typedef struct queued_event {
    struct queued_event *next;
    size_t len;
    char data[]; /* the event's JSON, NUL-terminated */
} queued_event_t;

typedef struct subscriber {
    char *url;
    char *client_ip;
    uint64_t serial;              /* of this subscription */
    queued_event_t *head, *tail;  /* head is the one being sent when `sending` */
    size_t queued;                /* events in the queue, head included */
    bool sending;                 /* a POST or its retry timer is under way */
    uint32_t failures;            /* consecutive failed POSTs of the head */
    actor_timer_id_t retry_timer; /* 0: none armed */
    struct ticket *retry_ticket;  /* the armed timer's argument */
    uint64_t delivered, dropped;  /* events, for the log */
    UT_hash_handle hh;            /* by url, in subscription order */
} subscriber_t;

typedef struct marathon_subscriptions {
    marathon_http_client_t *client;
    subscriber_t *subs;
    uint64_t next_serial;
} subscriptions_t;

/* What a POST or a retry timer carries back. */
typedef struct ticket {
    char *url;
    uint64_t serial;
    struct curl_slist *headers; /* a POST's request headers */
} ticket_t;

/* ---- small pieces ---- */

static double callback_timeout(const marathon_t *m)
{
    return m->opts.http_event_callback_timeout > 0 ? m->opts.http_event_callback_timeout
                                                   : DEFAULT_TIMEOUT_S;
}

static size_t queue_max(const marathon_t *m)
{
    return m->opts.http_event_callback_queue > 0 ? m->opts.http_event_callback_queue
                                                 : DEFAULT_QUEUE;
}

static uint32_t max_failures(const marathon_t *m)
{
    return m->opts.http_event_callback_max_failures > 0 ? m->opts.http_event_callback_max_failures
                                                        : DEFAULT_MAX_FAILURES;
}

static void ticket_free(void *arg)
{
    ticket_t *t = arg;
    curl_slist_free_all(t->headers);
    free(t->url);
    free(t);
}

static ticket_t *ticket_new(const subscriber_t *s)
{
    ticket_t *t = calloc(1, sizeof(*t));
    if (t == NULL)
        return NULL;
    t->url = strdup(s->url);
    t->serial = s->serial;
    if (t->url == NULL) {
        free(t);
        return NULL;
    }
    return t;
}

/* The subscriber a ticket names, or NULL when it went away meanwhile. */
static subscriber_t *ticket_subscriber(marathon_t *m, const ticket_t *t)
{
    subscriber_t *s = NULL;
    if (m->subscriptions != NULL)
        HASH_FIND_STR(m->subscriptions->subs, t->url, s);
    return s != NULL && s->serial == t->serial ? s : NULL;
}

static void queue_pop(subscriber_t *s)
{
    queued_event_t *e = s->head;
    s->head = e->next;
    if (s->head == NULL)
        s->tail = NULL;
    s->queued--;
    free(e);
}

static void subscriber_free(subscriber_t *s)
{
    /* A timer that already fired finds no subscriber, and frees its ticket itself. */
    if (s->retry_timer != 0 && actor_timer_cancel(s->retry_timer))
        ticket_free(s->retry_ticket);
    while (s->head != NULL)
        queue_pop(s);
    free(s->client_ip);
    free(s->url);
    free(s);
}

static char *store_key(const char *url)
{
    char *key = NULL;
    return asprintf(&key, KEY_PREFIX "%s", url) < 0 ? NULL : key;
}

/* ---- delivery ---- */

static void send_head(marathon_t *m, subscriber_t *s);

static size_t discard_body(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    (void)ptr, (void)userdata;
    return size * nmemb;
}

static void on_retry(actor_t *self, void *state, void *arg)
{
    ticket_t *t = arg;
    subscriber_t *s = self != NULL ? ticket_subscriber(state, t) : NULL;
    ticket_free(t);
    if (s == NULL)
        return;
    s->retry_timer = 0;
    s->retry_ticket = NULL;
    s->sending = false;
    send_head(state, s);
}

/* Forgets a subscriber for good: memory, and its stored subscription. */
static void subscriber_remove(marathon_t *m, subscriber_t *s)
{
    HASH_DEL(m->subscriptions->subs, s);
    char *key = store_key(s->url);
    if (key != NULL)
        store_batch_delete(m->batch, key);
    subscriber_free(s);
}

static void delivery_failed(marathon_t *m, subscriber_t *s, const char *why)
{
    s->failures++;
    m->counters.callbacks_failed++;
    if (s->failures >= max_failures(m)) {
        m->counters.callbacks_dropped += s->queued;
        LOG_WARNING("Dropping event subscriber %s after %u failed deliveries in a row (the last: "
                    "%s); %zu queued events are lost",
                    s->url, s->failures, why, s->queued);
        subscriber_remove(m, s);
        return;
    }
    uint32_t shift = s->failures - 1 < 6 ? s->failures - 1 : 6;
    int64_t seconds = (int64_t)1 << shift;
    if (seconds > BACKOFF_MAX_S)
        seconds = BACKOFF_MAX_S;
    VLOG(1, "Event delivery to %s failed (%s): retrying in %lld s", s->url, why,
         (long long)seconds);
    ticket_t *t = ticket_new(s);
    s->retry_timer = t != NULL ? actor_delay(m->self, seconds * ACTOR_NS_PER_SEC, on_retry, t) : 0;
    s->retry_ticket = t;
    if (s->retry_timer == 0) {
        LOG_ERROR("Out of memory arming the retry of event subscriber %s: dropping it", s->url);
        if (t != NULL)
            ticket_free(t);
        subscriber_remove(m, s);
    }
}

static void on_posted(actor_t *self, void *state, CURL *easy, CURLcode result, void *arg)
{
    (void)self;
    marathon_t *m = state;
    subscriber_t *s = ticket_subscriber(m, arg);
    if (s == NULL)
        return; /* unsubscribed meanwhile */
    long code = 0;
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &code);
    if (result == CURLE_OK && code >= 200 && code <= 299) {
        s->failures = 0;
        s->delivered++;
        m->counters.callbacks_delivered++;
        queue_pop(s);
        s->sending = false;
        send_head(m, s);
        return;
    }
    char why[CURL_ERROR_SIZE + 32];
    if (result != CURLE_OK)
        snprintf(why, sizeof(why), "%s", curl_easy_strerror(result));
    else
        snprintf(why, sizeof(why), "status %ld", code);
    delivery_failed(m, s, why);
}

static CURL *post_new(marathon_t *m, const subscriber_t *s, ticket_t *t)
{
    CURL *e = curl_easy_init();
    t->headers = curl_slist_append(NULL, "Content-Type: application/json");
    struct curl_slist *h = t->headers;
    h = h != NULL ? curl_slist_append(h, "Accept: application/json") : NULL;
    h = h != NULL ? curl_slist_append(h, "Expect:") : NULL; /* no 100-continue round trip */
    long timeout_ms = (long)(callback_timeout(m) * 1000);
    if (e == NULL || h == NULL || curl_easy_setopt(e, CURLOPT_URL, s->url) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)s->head->len) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_COPYPOSTFIELDS, &s->head->data[0]) != CURLE_OK) {
        if (e != NULL)
            curl_easy_cleanup(e);
        return NULL;
    }
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, t->headers);
    curl_easy_setopt(e, CURLOPT_PROXY, ""); /* never a proxy */
    curl_easy_setopt(e, CURLOPT_USERAGENT, "Marathon");
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard_body);
    return e;
}

/* POSTs the subscriber's first queued event, unless one is under way or waits for its retry. */
static void send_head(marathon_t *m, subscriber_t *s)
{
    if (s->sending || s->head == NULL)
        return;
    s->sending = true;
    ticket_t *t = ticket_new(s);
    CURL *e = t != NULL ? post_new(m, s, t) : NULL;
    actor_err_t rc = e != NULL ? marathon_http_client_start(m->subscriptions->client, e, on_posted,
                                                            ticket_free, t)
                               : ACTOR_ENOMEM;
    if (rc == ACTOR_OK)
        return;
    if (e != NULL)
        curl_easy_cleanup(e);
    if (t != NULL)
        ticket_free(t);
    delivery_failed(m, s, actor_strerror(rc));
}

/* Appends an event, dropping the oldest waiting one when the queue is full. */
static void enqueue(marathon_t *m, subscriber_t *s, const char *json, size_t len)
{
    if (s->queued >= queue_max(m)) {
        queued_event_t *victim = s->sending ? s->head->next : s->head;
        m->counters.callbacks_dropped++;
        if (victim == NULL) { /* a queue of one, busy: the new event is the one to go */
            s->dropped++;
            return;
        }
        if (victim == s->head) {
            queue_pop(s);
        } else {
            s->head->next = victim->next;
            if (s->tail == victim)
                s->tail = s->head;
            s->queued--;
            free(victim);
        }
        if (s->dropped++ == 0)
            LOG_WARNING("Event subscriber %s is too slow: dropping its oldest events", s->url);
    }
    queued_event_t *e = malloc(sizeof(*e) + len + 1);
    if (e == NULL) {
        s->dropped++;
        m->counters.callbacks_dropped++;
        return;
    }
    e->next = NULL;
    e->len = len;
    memcpy(e->data, json, len);
    e->data[len] = '\0';
    if (s->tail != NULL)
        s->tail->next = e;
    else
        s->head = e;
    s->tail = e;
    s->queued++;
}

/* ---- the subscribers ---- */

bool marathon_callback_url_check(const char *url, char *err, size_t err_len)
{
    if (url == NULL || url[0] == '\0') {
        snprintf(err, err_len, "must not be empty");
        return false;
    }
    if (strlen(url) > URL_MAX) {
        snprintf(err, err_len, "must be at most %d characters long", URL_MAX);
        return false;
    }
    for (const char *p = url; *p != '\0'; p++) {
        if ((unsigned char)*p <= ' ' || *p == 0x7f) {
            snprintf(err, err_len, "must not contain spaces or control characters");
            return false;
        }
    }
    CURLU *u = curl_url();
    char *scheme = NULL, *host = NULL;
    bool ok = u != NULL && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
              curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
              curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK && host[0] != '\0' &&
              (strcasecmp(scheme, "http") == 0 || strcasecmp(scheme, "https") == 0) &&
              (strncasecmp(url, "http://", 7) == 0 || strncasecmp(url, "https://", 8) == 0);
    curl_free(scheme);
    curl_free(host);
    curl_url_cleanup(u);
    if (!ok)
        snprintf(err, err_len, "must be an http or https URL with a host");
    return ok;
}

/* Adds or refreshes a subscriber (store: also persist it). NULL when out of memory. */
static subscriber_t *subscriber_add(marathon_t *m, const char *url, const char *client_ip,
                                    bool store)
{
    subscriptions_t *subs = m->subscriptions;
    subscriber_t *s = NULL;
    HASH_FIND_STR(subs->subs, url, s);
    char *ip = strdup(client_ip != NULL ? client_ip : "");
    if (s == NULL && ip != NULL) {
        s = calloc(1, sizeof(*s));
        if (s != NULL && (s->url = strdup(url)) != NULL) {
            s->serial = ++subs->next_serial;
            HASH_ADD_KEYPTR(hh, subs->subs, s->url, strlen(s->url), s);
        } else {
            free(s);
            s = NULL;
        }
    }
    if (s == NULL) {
        free(ip);
        return NULL;
    }
    free(s->client_ip);
    s->client_ip = ip;
    char *key = store ? store_key(url) : NULL;
    json_t *record =
        key != NULL ? json_pack("{s:s,s:s}", "callbackUrl", url, "clientIp", ip) : NULL;
    char *text = record != NULL ? json_dumps(record, JSON_COMPACT) : NULL;
    json_decref(record);
    if (text != NULL)
        store_batch_put(m->batch, key, text, strlen(text));
    else
        free(key);
    return s;
}

static bool recover_subscriber(void *arg, const void *key, size_t key_len, const void *value,
                               size_t value_len)
{
    marathon_t *m = arg;
    json_t *json = json_loadb(value, value_len, 0, NULL);
    const char *url = json_string_value(json_object_get(json, "callbackUrl"));
    char err[128];
    if (url != NULL && marathon_callback_url_check(url, err, sizeof(err)))
        subscriber_add(m, url, json_string_value(json_object_get(json, "clientIp")), false);
    else
        LOG_WARNING("Skipping an unreadable event subscription %.*s", (int)key_len,
                    (const char *)key);
    json_decref(json);
    return true;
}

/* The URLs of --http_endpoints, subscribed (and stored) at start. */
static void add_endpoints(marathon_t *m)
{
    const char *p = m->opts.http_endpoints;
    while (p != NULL && *p != '\0') {
        size_t n = strcspn(p, ",");
        char *url = strndup(p, n);
        char err[128];
        if (url != NULL && n > 0 && marathon_callback_url_check(url, err, sizeof(err)))
            subscriber_add(m, url, "", true);
        else if (n > 0)
            LOG_WARNING("Ignoring --http_endpoints entry '%.*s': it %s", (int)n, p, err);
        free(url);
        p += n;
        if (*p == ',')
            p++;
    }
}

void marathon_subscriptions_open(marathon_t *m)
{
    subscriptions_t *subs = calloc(1, sizeof(*subs));
    if (subs == NULL || marathon_http_client_new(m->self, 0, &subs->client) != ACTOR_OK) {
        LOG_ERROR("Out of memory starting event subscriptions: no callback gets events");
        free(subs);
        return;
    }
    m->subscriptions = subs;
    store_scan(m->store, KEY_PREFIX, strlen(KEY_PREFIX), recover_subscriber, m);
    add_endpoints(m);
    if (subs->subs != NULL)
        LOG_INFO("%u event subscribers", (unsigned)HASH_COUNT(subs->subs));
}

bool marathon_subscriptions_active(const marathon_t *m)
{
    return m->subscriptions != NULL && m->subscriptions->subs != NULL;
}

void marathon_subscriptions_publish(marathon_t *m, const char *json, size_t len)
{
    subscriptions_t *subs = m->subscriptions;
    if (subs == NULL)
        return;
    subscriber_t *s, *tmp;
    HASH_ITER(hh, subs->subs, s, tmp)
    {
        enqueue(m, s, json, len);
        send_head(m, s); /* may drop s */
    }
}

void marathon_subscriptions_close(marathon_t *m)
{
    subscriptions_t *subs = m->subscriptions;
    if (subs == NULL)
        return;
    marathon_http_client_free(subs->client);
    subscriber_t *s, *tmp;
    HASH_ITER(hh, subs->subs, s, tmp)
    {
        HASH_DEL(subs->subs, s);
        subscriber_free(s);
    }
    free(subs);
    m->subscriptions = NULL;
}

/* ---- the REST API ---- */

typedef struct answer {
    actor_http_request_t *req;
    json_t *body;
} answer_t;

static void send_answer(marathon_t *m, void *arg)
{
    (void)m;
    answer_t *a = arg;
    actor_http_respond_json(a->req, 200, a->body);
    free(a);
}

/* The client's IP address without its port ("10.0.0.1:5123", "[::1]:5123"). */
static void client_ip(actor_http_request_t *req, char *out, size_t len)
{
    const char *peer = actor_http_peer(req);
    const char *colon = strrchr(peer, ':');
    size_t n = colon != NULL ? (size_t)(colon - peer) : strlen(peer);
    if (n >= 2 && peer[0] == '[' && peer[n - 1] == ']')
        snprintf(out, len, "%.*s", (int)(n - 2), peer + 1);
    else
        snprintf(out, len, "%.*s", (int)n, peer);
}

/* Publishes a (un)subscribe event and answers it once the change is durable. */
static void publish_and_answer(marathon_t *m, actor_http_request_t *req, const char *type,
                               const char *url)
{
    char ip[64], now[32];
    client_ip(req, ip, sizeof(ip));
    marathon_version_now(now);
    json_t *event = json_pack("{s:s,s:s}", "callbackUrl", url, "clientIp", ip);
    json_t *body = json_pack("{s:s,s:s,s:s,s:s}", "callbackUrl", url, "clientIp", ip, "eventType",
                             type, "timestamp", now);
    marathon_event(m, type, event);
    answer_t *a = body != NULL ? malloc(sizeof(*a)) : NULL;
    if (a == NULL) {
        json_decref(body);
        actor_http_respond_json(req, 503, json_pack("{s:s}", "message", "Out of memory"));
        return;
    }
    *a = (answer_t){.req = req, .body = body};
    marathon_after_durable(m, send_answer, a);
}

/* The callbackUrl parameter; NULL after answering 400 (absent) or 422 (not a URL we can call). */
static const char *callback_param(actor_http_request_t *req)
{
    const char *url = actor_http_query(req, "callbackUrl");
    if (url == NULL || url[0] == '\0') {
        actor_http_respond_json(
            req, 400,
            json_pack("{s:s}", "message",
                      "Missing query parameter callbackUrl (/v2/eventSubscriptions?callbackUrl="
                      "http://host:port/path)"));
        return NULL;
    }
    char err[128];
    if (!marathon_callback_url_check(url, err, sizeof(err))) {
        actor_http_respond_json(req, 422,
                                json_pack("{s:s,s:[{s:s,s:[s]}]}", "message", "Object is not valid",
                                          "details", "path", "/callbackUrl", "errors", err));
        return NULL;
    }
    return url;
}

static void on_list(marathon_t *m, actor_http_request_t *req)
{
    json_t *urls = json_array();
    subscriptions_t *subs = m->subscriptions;
    for (subscriber_t *s = subs != NULL ? subs->subs : NULL; s != NULL; s = s->hh.next)
        json_array_append_new(urls, json_string(s->url));
    actor_http_respond_json(req, 200, json_pack("{s:o}", "callbackUrls", urls));
}

void marathon_api_event_subscriptions(actor_t *self, void *state, actor_http_request_t *req)
{
    (void)self;
    marathon_t *m = state;
    const char *method = actor_http_method(req);
    if (strcmp(method, "GET") == 0) {
        on_list(m, req);
        return;
    }
    const char *url = callback_param(req);
    if (url == NULL)
        return;
    subscriptions_t *subs = m->subscriptions;
    if (subs == NULL) { /* out of memory at start */
        actor_http_respond_json(req, 503, json_pack("{s:s}", "message", "Out of memory"));
        return;
    }
    if (strcmp(method, "POST") == 0) {
        char ip[64];
        client_ip(req, ip, sizeof(ip));
        if (subscriber_add(m, url, ip, true) == NULL) {
            actor_http_respond_json(req, 503, json_pack("{s:s}", "message", "Out of memory"));
            return;
        }
        LOG_INFO("Subscribed %s (from %s) to events", url, ip);
        publish_and_answer(m, req, "subscribe_event", url);
        return;
    }
    subscriber_t *s = NULL;
    HASH_FIND_STR(subs->subs, url, s);
    if (s != NULL) {
        LOG_INFO("Unsubscribed %s from events", url);
        subscriber_remove(m, s);
    } else {
        char *key = store_key(url); /* not subscribed: make sure nothing is stored either */
        if (key != NULL)
            store_batch_delete(m->batch, key);
    }
    publish_and_answer(m, req, "unsubscribe_event", url);
}
