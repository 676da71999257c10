/*
 * health.c: Marathon-level health checks; see health.h.
 *
 * The checker has two sides. The owner's side, run inside the owner actor, keeps the watched
 * instances in a hash by task id, each with the states of its checks and one timer for the next
 * check that falls due. The I/O side, run on the runtime's I/O thread, runs probes on a libcurl
 * multi handle driven by libev watchers (one ev_io per socket curl uses, one ev_timer for curl's
 * timeouts) and keeps at most MARATHON_HEALTH_MAX_RUNNING of them under way.
 *
 * A probe travels owner -> I/O with actor_io_call and back with actor_dispatch. It carries the
 * task id and the serial of the registration that started it, never a pointer into the owner's
 * records, so that a watch replaced or removed meanwhile just drops its result. The checker is
 * reference counted: the owner holds a reference until marathon_health_free, the I/O side one
 * until it has torn down its multi handle, each probe one until it is freed; a probe whose
 * dispatch finds the checker closed (or the owner gone) can still tell, and frees itself.
 *
 * A watch and its timer: the timer's argument is the watch. Unwatching cancels the timer; when
 * the timer already fired (its call waits in the owner's mailbox) the watch is unlinked and
 * marked an orphan, and that call frees it.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <ev.h>

/* An allocation failure inside uthash leaves the item out (hh.tbl NULL) instead of exiting. */
#define HASH_NONFATAL_OOM 1
#include <uthash.h>

#include "actor/clock.h"
#include "actor/io.h"
#include "actor/log.h"
#include "frameworks/marathon/health.h"

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
    marathon_health_t *h; /* a reference */
    char *task_id;
    uint64_t serial;
    size_t index;
    probe_kind_t kind;
    bool ignore_1xx;
    uint32_t timeout_s;
    char *url;
    char target[TARGET_LEN]; /* "host:port" for causes */
    /* I/O side */
    CURL *easy;
    struct probe *prev, *next; /* the queue, or the running list */
    char status_line[STATUS_LINE_LEN];
    char errbuf[CURL_ERROR_SIZE];
    bool body_seen; /* the body started: the transfer was cut there on purpose */
    /* outcome */
    bool alive;
    bool ignored; /* a 1xx with ignoreHttp1xx */
    char cause[CAUSE_LEN];
} probe_t;

typedef struct sock {
    ev_io io; /* first: libev's callback gets the sock back from it */
    marathon_health_t *h;
    struct sock *prev, *next; /* h->socks */
} sock_t;

struct marathon_health {
    atomic_int refs;
    /* The owner's side. */
    actor_t *owner;
    actor_pid_t owner_pid;
    marathon_health_report_fn fn;
    watch_t *watches;
    uint64_t next_serial;
    bool closed; /* marathon_health_free ran: results are dropped */
    /* The I/O side (I/O thread only, after marathon_health_new). */
    CURLM *multi;
    ev_timer timer; /* curl's timeout */
    probe_t *queue_head, *queue_tail;
    probe_t *running;
    size_t running_count;
    sock_t *socks;
    bool no_loop; /* torn down after the loop stopped: no libev calls */
};

/* ---- references ---- */

static void health_unref(marathon_health_t *h)
{
    if (atomic_fetch_sub(&h->refs, 1) != 1)
        return;
    curl_global_cleanup();
    free(h);
}

static void probe_free(probe_t *p)
{
    if (p->easy != NULL)
        curl_easy_cleanup(p->easy);
    free(p->url);
    free(p->task_id);
    health_unref(p->h);
    free(p);
}

/* ---- the I/O side: curl's sockets and timer on the libev loop ---- */

static void io_collect(marathon_health_t *h);

static void on_sock_event(struct ev_loop *loop, ev_io *w, int revents)
{
    (void)loop;
    marathon_health_t *h = ((sock_t *)w)->h; /* the sock may go inside socket_action */
    int mask =
        ((revents & EV_READ) ? CURL_CSELECT_IN : 0) | ((revents & EV_WRITE) ? CURL_CSELECT_OUT : 0);
    int running;
    curl_multi_socket_action(h->multi, w->fd, mask, &running);
    io_collect(h);
}

static void on_timer_event(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop, (void)revents;
    marathon_health_t *h = w->data;
    int running;
    curl_multi_socket_action(h->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    io_collect(h);
}

static void sock_free(marathon_health_t *h, sock_t *sk)
{
    if (!h->no_loop)
        ev_io_stop(actor_io_loop(), &sk->io);
    if (sk->prev != NULL)
        sk->prev->next = sk->next;
    else
        h->socks = sk->next;
    if (sk->next != NULL)
        sk->next->prev = sk->prev;
    free(sk);
}

/* CURLMOPT_SOCKETFUNCTION: watch s for what curl wants. */
static int on_curl_socket(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
    (void)easy;
    marathon_health_t *h = userp;
    sock_t *sk = socketp;
    if (what == CURL_POLL_REMOVE) {
        if (sk != NULL) {
            curl_multi_assign(h->multi, s, NULL);
            sock_free(h, sk);
        }
        return 0;
    }
    if (h->no_loop)
        return 0;
    if (sk == NULL) {
        sk = calloc(1, sizeof(*sk));
        if (sk == NULL)
            return -1; /* curl fails the transfer */
        sk->h = h;
        sk->next = h->socks;
        if (h->socks != NULL)
            h->socks->prev = sk;
        h->socks = sk;
        ev_init(&sk->io, on_sock_event);
        curl_multi_assign(h->multi, s, sk);
    } else {
        ev_io_stop(actor_io_loop(), &sk->io);
    }
    int events = ((what & CURL_POLL_IN) ? EV_READ : 0) | ((what & CURL_POLL_OUT) ? EV_WRITE : 0);
    ev_io_set(&sk->io, s, events);
    ev_io_start(actor_io_loop(), &sk->io);
    return 0;
}

/* CURLMOPT_TIMERFUNCTION: call back curl after timeout_ms (-1: never). */
static int on_curl_timer(CURLM *multi, long timeout_ms, void *userp)
{
    (void)multi;
    marathon_health_t *h = userp;
    if (h->no_loop)
        return 0;
    ev_timer_stop(actor_io_loop(), &h->timer);
    if (timeout_ms >= 0) {
        ev_timer_set(&h->timer, (double)timeout_ms / 1000.0, 0.0);
        ev_timer_start(actor_io_loop(), &h->timer);
    }
    return 0;
}

/* ---- the I/O side: probes ---- */

static void on_probe_done(actor_t *self, void *state, void *arg);

/* Hands a finished probe to the owner; frees it if the owner is gone. */
static void io_deliver(marathon_health_t *h, probe_t *p)
{
    if (actor_dispatch(&h->owner_pid, on_probe_done, p) != ACTOR_OK)
        probe_free(p);
}

static void list_unlink(probe_t **head, probe_t *p)
{
    if (p->prev != NULL)
        p->prev->next = p->next;
    else
        *head = p->next;
    if (p->next != NULL)
        p->next->prev = p->prev;
    p->prev = p->next = NULL;
}

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

static void judge_error(probe_t *p, CURLcode rc)
{
    long os_errno = 0;
    curl_easy_getinfo(p->easy, CURLINFO_OS_ERRNO, &os_errno);
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
static void judge(probe_t *p, CURLcode rc)
{
    long code = 0;
    curl_easy_getinfo(p->easy, CURLINFO_RESPONSE_CODE, &code);
    if (p->kind == PROBE_TCP && rc == CURLE_OK)
        p->alive = true;
    else if (p->kind != PROBE_TCP && code > 0 &&
             (rc == CURLE_OK || (rc == CURLE_WRITE_ERROR && p->body_seen)))
        judge_status(p, code);
    else
        judge_error(p, rc);
}

static bool easy_setup(probe_t *p)
{
    CURL *e = p->easy;
    long timeout_ms = (long)p->timeout_s * 1000L;
    bool ok = curl_easy_setopt(e, CURLOPT_URL, p->url) == CURLE_OK &&
              curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https") == CURLE_OK &&
              curl_easy_setopt(e, CURLOPT_PROXY, "") == CURLE_OK && /* never a proxy */
              curl_easy_setopt(e, CURLOPT_USERAGENT, "Marathon") == CURLE_OK;
    curl_easy_setopt(e, CURLOPT_PRIVATE, p);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
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

/* Starts p's transfer; a probe that cannot start is delivered as failed at once. */
static void io_launch(marathon_health_t *h, probe_t *p)
{
    if (p->kind == PROBE_NO_PORT) {
        snprintf(p->cause, sizeof(p->cause),
                 "Health check failed: unable to get the task's effectivePort");
        io_deliver(h, p);
        return;
    }
    p->easy = curl_easy_init();
    CURLMcode mrc = CURLM_OUT_OF_MEMORY;
    if (p->easy != NULL && easy_setup(p))
        mrc = curl_multi_add_handle(h->multi, p->easy);
    if (mrc != CURLM_OK) {
        snprintf(p->cause, sizeof(p->cause), "Health check of %s could not start: %s", p->target,
                 curl_multi_strerror(mrc));
        io_deliver(h, p);
        return;
    }
    p->next = h->running;
    if (h->running != NULL)
        h->running->prev = p;
    h->running = p;
    h->running_count++;
}

/* Starts queued probes while there is room. */
static void io_pump(marathon_health_t *h)
{
    while (h->queue_head != NULL && h->running_count < MARATHON_HEALTH_MAX_RUNNING) {
        probe_t *p = h->queue_head;
        h->queue_head = p->next;
        if (h->queue_head == NULL)
            h->queue_tail = NULL;
        p->next = NULL;
        io_launch(h, p);
    }
}

/* Delivers every finished transfer, then starts what waits. */
static void io_collect(marathon_health_t *h)
{
    for (;;) {
        int left;
        CURLMsg *m = curl_multi_info_read(h->multi, &left);
        if (m == NULL)
            break;
        if (m->msg != CURLMSG_DONE)
            continue;
        CURL *easy = m->easy_handle;
        CURLcode rc = m->data.result;
        char *priv = NULL;
        curl_easy_getinfo(easy, CURLINFO_PRIVATE, &priv);
        probe_t *p = (probe_t *)priv;
        judge(p, rc);
        list_unlink(&h->running, p);
        h->running_count--;
        curl_multi_remove_handle(h->multi, easy);
        curl_easy_cleanup(easy);
        p->easy = NULL;
        io_deliver(h, p);
    }
    io_pump(h);
}

/* actor_io_call: queues a probe. */
static void io_start(void *arg)
{
    probe_t *p = arg;
    marathon_health_t *h = p->h;
    if (h->queue_tail != NULL)
        h->queue_tail->next = p;
    else
        h->queue_head = p;
    h->queue_tail = p;
    io_pump(h);
}

/* actor_io_call (or directly once the loop is gone): abandons every probe and releases the
 * multi handle and the I/O side's reference. */
static void io_close(void *arg)
{
    marathon_health_t *h = arg;
    while (h->running != NULL) {
        probe_t *p = h->running;
        list_unlink(&h->running, p);
        curl_multi_remove_handle(h->multi, p->easy);
        probe_free(p);
    }
    while (h->queue_head != NULL) {
        probe_t *p = h->queue_head;
        h->queue_head = p->next;
        probe_free(p);
    }
    curl_multi_cleanup(h->multi);
    while (h->socks != NULL) /* whatever curl did not remove */
        sock_free(h, h->socks);
    if (!h->no_loop)
        ev_timer_stop(actor_io_loop(), &h->timer);
    health_unref(h);
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
    atomic_fetch_add(&h->refs, 1);
    return p;
}

static void probe_start(marathon_health_t *h, watch_t *w, size_t i)
{
    probe_t *p = probe_new(h, w, i);
    if (p == NULL) {
        LOG_ERROR("Out of memory starting health check %zu of task %s", i, w->task_id);
        return;
    }
    actor_err_t rc = actor_io_call(io_start, p);
    if (rc != ACTOR_OK) {
        LOG_WARNING("Skipping health check %zu of task %s because the I/O thread refused it: %s", i,
                    w->task_id, actor_strerror(rc));
        probe_free(p);
        return;
    }
    w->states[i].running = true;
}

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

/* actor_dispatch from the I/O side: a probe's outcome, inside the owner. */
static void on_probe_done(actor_t *self, void *state, void *arg)
{
    probe_t *p = arg;
    marathon_health_t *h = p->h;
    watch_t *w = NULL;
    if (self != NULL && !h->closed)
        HASH_FIND_STR(h->watches, p->task_id, w);
    if (w == NULL || w->serial != p->serial) {
        probe_free(p);
        return;
    }
    check_state_t *st = &w->states[p->index];
    st->running = false;
    marathon_health_report_t r = {.task_id = p->task_id, .check_index = p->index};
    apply(w, st, p, &r);
    if (r.counted && !r.alive)
        VLOG(1, "Health check %zu of task %s failed: %s", p->index, p->task_id, p->cause);
    h->fn(self, state, &r); /* may unwatch w or free h: p keeps h's memory until freed */
    probe_free(p);
}

/* ---- public ---- */

actor_err_t marathon_health_new(actor_t *owner, marathon_health_report_fn fn,
                                marathon_health_t **out)
{
    if (owner == NULL || fn == NULL || out == NULL)
        return ACTOR_EINVAL;
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return ACTOR_ENOMEM;
    marathon_health_t *h = calloc(1, sizeof(*h));
    if (h == NULL)
        goto fail_global;
    h->multi = curl_multi_init();
    if (h->multi == NULL)
        goto fail_free;
    curl_multi_setopt(h->multi, CURLMOPT_SOCKETFUNCTION, on_curl_socket);
    curl_multi_setopt(h->multi, CURLMOPT_SOCKETDATA, h);
    curl_multi_setopt(h->multi, CURLMOPT_TIMERFUNCTION, on_curl_timer);
    curl_multi_setopt(h->multi, CURLMOPT_TIMERDATA, h);
    ev_timer_init(&h->timer, on_timer_event, 0.0, 0.0);
    h->timer.data = h;
    atomic_init(&h->refs, 2); /* the owner's and the I/O side's */
    h->owner = owner;
    h->owner_pid = *actor_self(owner);
    h->fn = fn;
    *out = h;
    return ACTOR_OK;

fail_free:
    free(h);
fail_global:
    curl_global_cleanup();
    return ACTOR_ENOMEM;
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
    if (actor_io_call(io_close, h) != ACTOR_OK) {
        /* The runtime stopped (its I/O thread is gone), or no memory for the call. */
        if (actor_io_loop() == NULL) {
            h->no_loop = true;
            io_close(h);
        } else {
            LOG_ERROR("Out of memory closing the health checker: leaking its probes");
        }
    }
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
