/*
 * health.c: Marathon-level health checks; see health.h.
 *
 * The checker runs inside the owner actor: it keeps the watched instances in a hash by task id,
 * each with the states of its checks and one timer for the next check that falls due. Probes are
 * libcurl transfers run off the owner's thread by an HTTP client (http_client.h), at most
 * MARATHON_HEALTH_MAX_RUNNING at once; their outcome comes back inside the owner.
 *
 * A probe carries the task id and the serial of the registration that started it, never a pointer
 * into the owner's records, so that a watch replaced or removed meanwhile just drops its result.
 * A probe that cannot start (no port to probe, no memory for its transfer) fails at once, but its
 * report still comes from a call of its own (actor_dispatch), never from inside watch: that call
 * holds a reference on the checker, so that it can tell a checker freed meanwhile. The checker is
 * reference counted on the owner's thread only: the owner holds one until marathon_health_free,
 * each such call one, and each report under way one (the callback may free the checker).
 *
 * A watch and its timer: the timer's argument is the watch. Unwatching cancels the timer; when
 * the timer already fired (its call waits in the owner's mailbox) the watch is unlinked and
 * marked an orphan, and that call frees it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

/* An allocation failure inside uthash leaves the item out (hh.tbl NULL) instead of exiting. */
#define HASH_NONFATAL_OOM 1
#include <uthash.h>

#include "actor/clock.h"
#include "actor/log.h"
#include "frameworks/marathon/health.h"
#include "frameworks/marathon/http_client.h"

#define CAUSE_LEN       640
#define STATUS_LINE_LEN 128
#define TARGET_LEN      272

typedef struct check_state {
    marathon_health_status_t status; /* status.last_failure_cause is `cause` */
    char *cause;                     /* the last counted failure's cause, or NULL */
    bool running;                    /* a probe is under way */
    int64_t next_due;                /* runtime clock ns of the next probe */
} check_state_t;

typedef struct watch {
    char *task_id;
    char *host;
    uint32_t *ports;
    size_t port_count;
    int64_t started_at;              /* wall-clock ns */
    marathon_health_check_t *checks; /* copies: `path` owned, `command` NULL */
    check_state_t *states;           /* one per check */
    size_t check_count;
    uint64_t serial; /* of this registration; probes carry it */
    marathon_health_t *h;
    actor_timer_id_t timer; /* 0: none armed */
    bool orphan;            /* unwatched while its timer's call was queued: that call frees it */
    UT_hash_handle hh;      /* h->watches, by task_id */
} watch_t;

typedef enum probe_kind {
    PROBE_HTTP,
    PROBE_HTTPS,
    PROBE_TCP,
    PROBE_NO_PORT, /* fails at once: the check addresses no port of the instance */
} probe_kind_t;

typedef struct probe {
    marathon_health_t *h; /* valid while the outcome can still reach the owner */
    char *task_id;
    uint64_t serial;
    size_t index;
    probe_kind_t kind;
    bool ignore_1xx;
    uint32_t timeout_s;
    char *url;
    char target[TARGET_LEN]; /* "host:port" for causes */
    /* Written by the transfer's callbacks on the I/O thread, read once it is done. */
    char status_line[STATUS_LINE_LEN];
    char errbuf[CURL_ERROR_SIZE];
    bool body_seen; /* the body started: the transfer was cut there on purpose */
    /* outcome */
    bool alive;
    bool ignored; /* a 1xx with ignoreHttp1xx */
    char cause[CAUSE_LEN];
} probe_t;

struct marathon_health {
    int refs; /* the owner's, failed probes' calls, reports under way (owner's thread only) */
    actor_t *owner;
    actor_pid_t owner_pid;
    marathon_health_report_fn fn;
    marathon_http_client_t *client; /* runs the probes */
    watch_t *watches;
    uint64_t next_serial;
    bool closed; /* marathon_health_free ran: results are dropped */
};

static void health_unref(marathon_health_t *h)
{
    if (--h->refs == 0)
        free(h);
}

/* A marathon_http_release_fn: may run on the I/O thread, so it touches only the probe. */
static void probe_free(void *arg)
{
    probe_t *p = arg;
    free(p->url);
    free(p->task_id);
    free(p);
}

/* ---- a probe's transfer ---- */

static size_t on_header(char *buffer, size_t size, size_t nitems, void *userdata)
{
    probe_t *p = userdata;
    size_t len = size * nitems;
    if (len > 5 && memcmp(buffer, "HTTP/", 5) == 0) { /* a status line: keep the last one */
        while (len > 0 && (buffer[len - 1] == '\r' || buffer[len - 1] == '\n'))
            len--;
        snprintf(p->status_line, sizeof(p->status_line), "%.*s", (int)len, buffer);
    }
    return size * nitems;
}

/* The body is not needed: its first bytes end the transfer (so an endless body cannot hold the
 * probe until its timeout). */
static size_t on_body(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    (void)ptr, (void)size, (void)nmemb;
    ((probe_t *)userdata)->body_seen = true;
    return 0;
}

/* A failure's cause from the status: "500 Internal Server Error" (the status line without its
 * protocol), or the code alone. */
static void judge_status(probe_t *p, long code)
{
    if (code >= 200 && code <= 399) {
        p->alive = true;
        return;
    }
    p->ignored = code >= 100 && code <= 199 && p->ignore_1xx;
    const char *reason = strchr(p->status_line, ' ');
    if (reason != NULL && strtol(reason + 1, NULL, 10) == code)
        snprintf(p->cause, sizeof(p->cause), "%s", reason + 1);
    else
        snprintf(p->cause, sizeof(p->cause), "%ld", code);
}

static void judge_error(probe_t *p, CURL *easy, CURLcode rc)
{
    long os_errno = 0;
    curl_easy_getinfo(easy, CURLINFO_OS_ERRNO, &os_errno);
    const char *detail = p->errbuf[0] ? p->errbuf : curl_easy_strerror(rc);
    switch (rc) {
    case CURLE_OPERATION_TIMEDOUT:
        snprintf(p->cause, sizeof(p->cause), "%s did not %s within %u seconds", p->target,
                 p->kind == PROBE_TCP ? "accept a connection" : "answer", p->timeout_s);
        break;
    case CURLE_COULDNT_CONNECT:
        snprintf(p->cause, sizeof(p->cause), "Failed to connect to %s: %s", p->target,
                 os_errno != 0 && strerrordesc_np((int)os_errno) != NULL
                     ? strerrordesc_np((int)os_errno)
                     : detail);
        break;
    case CURLE_COULDNT_RESOLVE_HOST:
        snprintf(p->cause, sizeof(p->cause), "Could not resolve host %.*s",
                 (int)(strrchr(p->target, ':') - p->target), p->target);
        break;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CERTPROBLEM:
        snprintf(p->cause, sizeof(p->cause), "TLS handshake with %s failed: %s", p->target, detail);
        break;
    default:
        snprintf(p->cause, sizeof(p->cause), "Health check of %s failed: %s", p->target, detail);
        break;
    }
}

/* Reads a finished transfer's outcome into p. */
static void judge(probe_t *p, CURL *easy, CURLcode rc)
{
    long code = 0;
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &code);
    if (p->kind == PROBE_TCP && rc == CURLE_OK)
        p->alive = true;
    else if (p->kind != PROBE_TCP && code > 0 &&
             (rc == CURLE_OK || (rc == CURLE_WRITE_ERROR && p->body_seen)))
        judge_status(p, code);
    else
        judge_error(p, easy, rc);
}

static bool easy_setup(CURL *e, probe_t *p)
{
    long timeout_ms = (long)p->timeout_s * 1000L;
    bool ok = curl_easy_setopt(e, CURLOPT_URL, p->url) == CURLE_OK &&
              curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https") == CURLE_OK &&
              curl_easy_setopt(e, CURLOPT_PROXY, "") == CURLE_OK && /* never a proxy */
              curl_easy_setopt(e, CURLOPT_USERAGENT, "Marathon") == CURLE_OK;
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
    curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L); /* a new connection each time, as Marathon */
    curl_easy_setopt(e, CURLOPT_FORBID_REUSE, 1L);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, p->errbuf);
    if (p->kind == PROBE_TCP) {
        curl_easy_setopt(e, CURLOPT_CONNECT_ONLY, 1L);
        return ok;
    }
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, p);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, p);
    if (p->kind == PROBE_HTTPS) { /* as Marathon: any certificate, any name */
        curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    return ok;
}

/* ---- the owner's side: watches ---- */

static bool marathon_level(marathon_health_protocol_t protocol)
{
    return protocol == MARATHON_HEALTH_HTTP || protocol == MARATHON_HEALTH_HTTPS ||
           protocol == MARATHON_HEALTH_TCP;
}

/* An interval or a timeout: at least a second. */
static int64_t period_ns(uint32_t s)
{
    return (int64_t)(s > 0 ? s : 1) * ACTOR_NS_PER_SEC;
}

static void watch_free(watch_t *w)
{
    for (size_t i = 0; i < w->check_count; i++) {
        free(w->checks[i].path);
        free(w->states[i].cause);
    }
    free(w->checks);
    free(w->states);
    free(w->ports);
    free(w->host);
    free(w->task_id);
    free(w);
}

static watch_t *watch_new(const char *task_id, const char *host, const uint32_t *ports,
                          size_t port_count, int64_t started_at,
                          const marathon_health_check_t *checks, size_t check_count)
{
    watch_t *w = calloc(1, sizeof(*w));
    if (w == NULL)
        return NULL;
    w->task_id = strdup(task_id);
    w->host = strdup(host);
    w->ports = calloc(port_count + 1, sizeof(*w->ports));
    w->checks = calloc(check_count + 1, sizeof(*w->checks));
    w->states = calloc(check_count + 1, sizeof(*w->states));
    w->check_count = check_count;
    bool ok = w->task_id && w->host && w->ports && w->checks && w->states;
    for (size_t i = 0; ok && i < check_count; i++) {
        w->checks[i] = checks[i];
        w->checks[i].command = NULL;
        w->checks[i].path = checks[i].path ? strdup(checks[i].path) : NULL;
        ok = checks[i].path == NULL || w->checks[i].path != NULL;
    }
    if (!ok) {
        watch_free(w);
        return NULL;
    }
    if (port_count > 0)
        memcpy(w->ports, ports, port_count * sizeof(*ports));
    w->port_count = port_count;
    w->started_at = started_at != 0 ? started_at : actor_clock_wall();
    return w;
}

static bool same_string(const char *a, const char *b)
{
    return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static bool same_check(const marathon_health_check_t *a, const marathon_health_check_t *b)
{
    return a->protocol == b->protocol && same_string(a->path, b->path) &&
           a->port_index == b->port_index && a->has_port == b->has_port && a->port == b->port &&
           a->grace_period_seconds == b->grace_period_seconds &&
           a->interval_seconds == b->interval_seconds && a->timeout_seconds == b->timeout_seconds &&
           a->max_consecutive_failures == b->max_consecutive_failures &&
           a->ignore_http1xx == b->ignore_http1xx;
}

static bool same_watch(const watch_t *w, const char *host, const uint32_t *ports, size_t port_count,
                       int64_t started_at, const marathon_health_check_t *checks,
                       size_t check_count)
{
    if (strcmp(w->host, host) != 0 || w->port_count != port_count ||
        w->check_count != check_count || (started_at != 0 && started_at != w->started_at))
        return false;
    if (port_count > 0 && memcmp(w->ports, ports, port_count * sizeof(*ports)) != 0)
        return false;
    for (size_t i = 0; i < check_count; i++) {
        if (!same_check(&w->checks[i], &checks[i]))
            return false;
    }
    return true;
}

/* Unlinks w and frees it, or leaves it to its queued timer call. */
static void watch_drop(marathon_health_t *h, watch_t *w)
{
    HASH_DEL(h->watches, w);
    if (w->timer != 0 && !actor_timer_cancel(w->timer)) {
        w->orphan = true;
        return;
    }
    watch_free(w);
}

/* A probe of check i of w, or NULL when out of memory. */
static probe_t *probe_new(marathon_health_t *h, const watch_t *w, size_t i)
{
    const marathon_health_check_t *c = &w->checks[i];
    probe_t *p = calloc(1, sizeof(*p));
    if (p == NULL)
        return NULL;
    uint32_t port = c->has_port                     ? c->port
                    : c->port_index < w->port_count ? w->ports[c->port_index]
                                                    : 0;
    bool v6 = strchr(w->host, ':') != NULL;
    snprintf(p->target, sizeof(p->target), "%s%s%s:%u", v6 ? "[" : "", w->host, v6 ? "]" : "",
             port);
    p->kind = port == 0 || port > 65535              ? PROBE_NO_PORT
              : c->protocol == MARATHON_HEALTH_TCP   ? PROBE_TCP
              : c->protocol == MARATHON_HEALTH_HTTPS ? PROBE_HTTPS
                                                     : PROBE_HTTP;
    const char *path = c->path != NULL ? c->path : "";
    if (asprintf(&p->url, "%s://%s%s%s", p->kind == PROBE_HTTPS ? "https" : "http", p->target,
                 path[0] == '/' ? "" : "/", path) < 0)
        p->url = NULL;
    p->task_id = strdup(w->task_id);
    if (p->url == NULL || p->task_id == NULL) {
        free(p->url);
        free(p->task_id);
        free(p);
        return NULL;
    }
    p->serial = w->serial;
    p->index = i;
    p->ignore_1xx = c->ignore_http1xx && p->kind == PROBE_HTTP;
    p->timeout_s = c->timeout_seconds > 0 ? c->timeout_seconds : 1;
    p->h = h;
    return p;
}

static void probe_start(marathon_health_t *h, watch_t *w, size_t i);

static void on_watch_timer(actor_t *self, void *state, void *arg);

/* Starts the probes that fall due and arms the timer for the next one. */
static void watch_run(watch_t *w)
{
    int64_t now = actor_clock_now(), next = INT64_MAX;
    for (size_t i = 0; i < w->check_count; i++) {
        check_state_t *st = &w->states[i];
        if (!marathon_level(w->checks[i].protocol))
            continue;
        if (st->next_due <= now) {
            if (!st->running) /* else it skips this round */
                probe_start(w->h, w, i);
            st->next_due = now + period_ns(w->checks[i].interval_seconds);
        }
        if (st->next_due < next)
            next = st->next_due;
    }
    if (next == INT64_MAX)
        return;
    w->timer = actor_delay(w->h->owner, next - now, on_watch_timer, w);
    if (w->timer == 0)
        LOG_ERROR("Out of memory arming the health check timer of task %s: its checks stop",
                  w->task_id);
}

static void on_watch_timer(actor_t *self, void *state, void *arg)
{
    (void)state;
    watch_t *w = arg;
    if (w->orphan) {
        watch_free(w);
        return;
    }
    if (self == NULL) /* the owner is gone and did not free the checker: leave w to it */
        return;
    w->timer = 0;
    watch_run(w);
}

/* Applies a probe's outcome to the check's state (HealthCheckActor.handleHealthResult) and fills
 * the report. */
static void apply(const watch_t *w, check_state_t *st, const probe_t *p,
                  marathon_health_report_t *r)
{
    const marathon_health_check_t *c = &w->checks[p->index];
    marathon_health_status_t *s = &st->status;
    int64_t now = actor_clock_wall();
    bool was_alive = s->alive;
    r->alive = p->alive;
    r->cause = p->alive ? NULL : p->cause;
    if (p->alive) {
        s->first_success = s->first_success != 0 ? s->first_success : now;
        s->last_success = now;
        s->consecutive_failures = 0;
        s->alive = true;
        r->counted = true;
    } else if (!p->ignored &&
               (s->first_success != 0 ||
                w->started_at + (int64_t)c->grace_period_seconds * ACTOR_NS_PER_SEC <= now)) {
        uint32_t max = c->max_consecutive_failures;
        r->kill = max > 0 && s->consecutive_failures >= max;
        if (s->consecutive_failures < UINT32_MAX)
            s->consecutive_failures++;
        s->last_failure = now;
        s->alive = false;
        char *cause = strdup(p->cause);
        if (cause != NULL) { /* else the previous cause stays */
            free(st->cause);
            st->cause = cause;
        }
        s->last_failure_cause = st->cause;
        r->counted = true;
    }
    r->changed = was_alive != s->alive;
    r->status = *s;
}

/* ---- outcomes, inside the owner ---- */

/* Applies a probe's outcome to its check and tells the owner. A watch replaced or removed
 * meanwhile drops it. */
static void deliver(marathon_health_t *h, actor_t *self, void *state, const probe_t *p)
{
    watch_t *w = NULL;
    HASH_FIND_STR(h->watches, p->task_id, w);
    if (w == NULL || w->serial != p->serial)
        return;
    check_state_t *st = &w->states[p->index];
    st->running = false;
    marathon_health_report_t r = {.task_id = p->task_id, .check_index = p->index};
    apply(w, st, p, &r);
    if (r.counted && !r.alive)
        VLOG(1, "Health check %zu of task %s failed: %s", p->index, p->task_id, p->cause);
    h->refs++; /* the callback may free the checker */
    h->fn(self, state, &r);
    health_unref(h);
}

/* A marathon_http_done_fn: a transfer's outcome. It runs only while the client, and so the
 * checker, lives. */
static void on_probe_done(actor_t *self, void *state, CURL *easy, CURLcode result, void *arg)
{
    probe_t *p = arg;
    judge(p, easy, result);
    deliver(p->h, self, state, p);
}

/* actor_dispatch: a probe that failed without a transfer. */
static void on_probe_failed(actor_t *self, void *state, void *arg)
{
    probe_t *p = arg;
    marathon_health_t *h = p->h;
    if (self != NULL && !h->closed)
        deliver(h, self, state, p);
    health_unref(h);
    probe_free(p);
}

/* Reports p as failed with its cause from a call of its own; false when even that fails. */
static bool probe_fail(marathon_health_t *h, probe_t *p)
{
    h->refs++;
    if (actor_dispatch(&h->owner_pid, on_probe_failed, p) == ACTOR_OK)
        return true;
    h->refs--;
    return false;
}

/* Starts p's transfer on the client; a probe that cannot start fails at once. False when neither
 * could happen (p is then the caller's). */
static bool probe_launch(marathon_health_t *h, probe_t *p)
{
    if (p->kind == PROBE_NO_PORT) {
        snprintf(p->cause, sizeof(p->cause),
                 "Health check failed: unable to get the task's effectivePort");
        return probe_fail(h, p);
    }
    CURL *easy = curl_easy_init();
    actor_err_t rc = ACTOR_ENOMEM;
    if (easy != NULL && easy_setup(easy, p))
        rc = marathon_http_client_start(h->client, easy, on_probe_done, probe_free, p);
    if (rc == ACTOR_OK)
        return true;
    if (easy != NULL)
        curl_easy_cleanup(easy);
    snprintf(p->cause, sizeof(p->cause), "Health check of %s could not start: %s", p->target,
             actor_strerror(rc));
    return probe_fail(h, p);
}

static void probe_start(marathon_health_t *h, watch_t *w, size_t i)
{
    probe_t *p = probe_new(h, w, i);
    if (p == NULL) {
        LOG_ERROR("Out of memory starting health check %zu of task %s", i, w->task_id);
        return;
    }
    if (!probe_launch(h, p)) {
        LOG_WARNING("Skipping health check %zu of task %s because it could not start", i,
                    w->task_id);
        probe_free(p);
        return;
    }
    w->states[i].running = true;
}

/* ---- public ---- */

actor_err_t marathon_health_new(actor_t *owner, marathon_health_report_fn fn,
                                marathon_health_t **out)
{
    if (owner == NULL || fn == NULL || out == NULL)
        return ACTOR_EINVAL;
    marathon_health_t *h = calloc(1, sizeof(*h));
    if (h == NULL)
        return ACTOR_ENOMEM;
    actor_err_t rc = marathon_http_client_new(owner, MARATHON_HEALTH_MAX_RUNNING, &h->client);
    if (rc != ACTOR_OK) {
        free(h);
        return rc;
    }
    h->refs = 1; /* the owner's */
    h->owner = owner;
    h->owner_pid = *actor_self(owner);
    h->fn = fn;
    *out = h;
    return ACTOR_OK;
}

void marathon_health_free(marathon_health_t *h)
{
    if (h == NULL)
        return;
    h->closed = true;
    watch_t *w, *tmp;
    HASH_ITER(hh, h->watches, w, tmp)
    {
        watch_drop(h, w);
    }
    marathon_http_client_free(h->client); /* probes under way are abandoned: no outcome */
    h->client = NULL;
    health_unref(h);
}

actor_err_t marathon_health_watch(marathon_health_t *h, const char *task_id, const char *host,
                                  const uint32_t *ports, size_t port_count, int64_t started_at,
                                  const marathon_health_check_t *checks, size_t check_count)
{
    if (h == NULL || task_id == NULL || task_id[0] == '\0' || host == NULL || host[0] == '\0' ||
        (ports == NULL && port_count > 0) || (checks == NULL && check_count > 0))
        return ACTOR_EINVAL;
    watch_t *old = NULL;
    HASH_FIND_STR(h->watches, task_id, old);
    if (old != NULL && same_watch(old, host, ports, port_count, started_at, checks, check_count))
        return ACTOR_OK;
    watch_t *w = watch_new(task_id, host, ports, port_count, started_at, checks, check_count);
    if (w == NULL)
        return ACTOR_ENOMEM;
    w->h = h;
    w->serial = ++h->next_serial;
    /* Added before the old one goes (uthash allows the duplicate for that moment): with a table
     * in place the add cannot fail, so a failure leaves the old registration as it was. */
    HASH_ADD_KEYPTR(hh, h->watches, w->task_id, strlen(w->task_id), w);
    if (w->hh.tbl == NULL) {
        watch_free(w);
        return ACTOR_ENOMEM;
    }
    if (old != NULL)
        watch_drop(h, old);
    watch_run(w);
    return ACTOR_OK;
}

void marathon_health_unwatch(marathon_health_t *h, const char *task_id)
{
    watch_t *w = NULL;
    if (h != NULL && task_id != NULL)
        HASH_FIND_STR(h->watches, task_id, w);
    if (w != NULL)
        watch_drop(h, w);
}

const marathon_health_status_t *marathon_health_status(const marathon_health_t *h,
                                                       const char *task_id, size_t check_index)
{
    watch_t *w = NULL;
    if (h != NULL && task_id != NULL)
        HASH_FIND_STR(h->watches, task_id, w);
    if (w == NULL || check_index >= w->check_count)
        return NULL;
    const marathon_health_status_t *s = &w->states[check_index].status;
    return s->last_success != 0 || s->last_failure != 0 ? s : NULL;
}

size_t marathon_health_count(const marathon_health_t *h)
{
    return h != NULL ? HASH_COUNT(h->watches) : 0;
}
