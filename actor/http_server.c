/*
 * http_server.c: listeners, connections and answers of the HTTP server; see http_server.h.
 *
 * A connection reads into a fixed input buffer and feeds its request parser, which stops after
 * each complete request. The request goes to the listener's callback and the connection then
 * parses nothing more until that request is answered, so answers leave in request order
 * without any reordering queue. Answers are formatted into an output queue of segments (copies,
 * or bodies taken from the caller) written with sendmsg(MSG_NOSIGNAL) as the socket accepts
 * them; the connection stops parsing and reading while more than OUT_HIGH_WATER bytes wait.
 *
 * States of a connection, as flags:
 *   idle         no request, nothing to write: idle_timeout_ms closes it silently
 *   reading      part of a request arrived: request_timeout_ms from its first byte answers 408
 *   answering    c->req handed to the callback, not yet answered (or streaming): no deadline,
 *                input is still read into the buffer to notice a disconnecting client
 *   lingering    after an answer with "Connection: close": our side is shut down and input is
 *                drained until the client closes, so that unread input does not turn our close
 *                into a reset that destroys the answer in flight (RFC 7230 section 6.6)
 *   failed       dead; closed by the timer from the loop on its next iteration
 * Pending output without progress for write_timeout_ms fails the connection in every state.
 *
 * One ev_timer per connection serves all deadlines, lazily: it is moved earlier when needed,
 * and when it fires late work is re-checked against the real deadlines. A zero delay on the same
 * timer defers work to the loop: closing (so that no close callback runs inside a caller's
 * answer) and parsing the next pipelined request (so that answering never recurses into the
 * request callback).
 *
 * A request handle outlives its connection: closing sets req->conn to NULL and answering then
 * returns ACTOR_ECLOSED and frees the handle, so no handle ever points at freed memory.
 */
#include "actor/http_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "actor/http_request_parser.h"
#include "actor/log.h"

#define IN_BUF_SIZE    16384     /* bytes; pipelined requests beyond this wait in the socket */
#define OUT_SEG_SIZE   8192      /* bytes of a fresh copy segment */
#define OUT_OWNED_MIN  4096      /* owned bodies from this size are sent without a copy */
#define OUT_HIGH_WATER (1 << 20) /* unsent bytes at which a connection stops taking requests */
#define OUT_IOV_MAX    32        /* segments per sendmsg */
#define LINGER_S       2.0       /* seconds to drain input after our final answer */
#define ACCEPT_BATCH   64        /* accepts per readiness event, for fairness */
#define ACCEPT_RETRY_S 0.1       /* pause after running out of file descriptors */
#define PEER_STR_SIZE  (INET6_ADDRSTRLEN + 8)

enum wait { WAIT_NONE, WAIT_IDLE, WAIT_REQUEST, WAIT_LINGER };

typedef struct out_seg {
    struct out_seg *next;
    char *data;   /* space below, or an owned body */
    size_t len;   /* bytes queued in data */
    size_t sent;  /* bytes of data already written */
    size_t cap;   /* bytes of space; 0 for an owned body, which is freed with the segment */
    char space[]; /* copy segment bytes */
} out_seg_t;

typedef struct listener {
    struct listener *next;
    http_server_t *srv;
    ev_io io;
    int fd;
    uint16_t port;
    http_request_cb_t cb;
    void *arg;
} listener_t;

typedef struct conn {
    struct conn *prev, *next; /* in srv->conns */
    http_server_t *srv;
    listener_t *listener; /* NULL for an adopted socket */
    http_request_cb_t cb;
    void *arg;
    int fd;
    ev_io rio, wio;
    ev_timer timer;
    http_request_parser_t parser;
    http_request_t *req; /* being answered or streamed; NULL if none */
    out_seg_t *out_head, *out_tail;
    size_t out_bytes;         /* unsent bytes in the queue */
    size_t in_start, in_len;  /* unparsed input is in[in_start..in_len) */
    ev_tstamp read_deadline;  /* for wait; 0 if none */
    ev_tstamp write_deadline; /* output stalled since before write_timeout; 0 if none */
    ev_tstamp timer_at;       /* when the running timer fires; 0 if stopped */
    unsigned char wait;       /* what read_deadline is for */
    bool peer_eof;            /* the client shut its sending side */
    bool close_after_flush;   /* the last answer ends the connection */
    bool lingering;           /* our side is shut; draining input */
    bool failed;              /* dead; the timer closes it */
    bool deferred;            /* parse buffered input from the loop */
    bool dispatching;         /* inside conn_process: answers leave flushing to it */
    actor_err_t fail_reason;  /* why it failed, for a stream's close callback */
    struct sockaddr_storage peer;
    char peer_str[PEER_STR_SIZE];
    char in[IN_BUF_SIZE];
} conn_t;

struct http_request {
    http_message_t msg;
    conn_t *conn;                    /* NULL once the connection is closed */
    http_stream_close_cb_t close_cb; /* NULL once run */
    void *close_arg;
    bool streaming;  /* http_stream_begin succeeded */
    bool stream_raw; /* HTTP/1.0 client: no chunk framing, the close ends the body */
    struct sockaddr_storage peer;
    char peer_str[PEER_STR_SIZE];
};

struct http_server {
    struct ev_loop *loop;
    http_server_options_t opts;
    listener_t *listeners;
    conn_t *conns;
    size_t conn_count;
    ev_timer accept_retry; /* restarts accepting after EMFILE */
    bool accept_paused;
    bool fd_starved;    /* accept failed for lack of descriptors; logged once until one works */
    int callback_depth; /* > 0 while a user callback runs: free/unlisten are forbidden */
    time_t date_sec;    /* second date_str shows */
    char date_str[32];  /* "Sun, 06 Nov 1994 08:49:37 GMT" */
};

static void conn_update(conn_t *c);
static void conn_process(conn_t *c);

/* ---- options ------------------------------------------------------------------------------ */

void http_server_options_init(http_server_options_t *opts)
{
    opts->max_header_bytes = 64 * 1024;
    opts->max_body_bytes = 16 * 1024 * 1024;
    opts->request_timeout_ms = 30000;
    opts->idle_timeout_ms = 60000;
    opts->write_timeout_ms = 30000;
    opts->max_connections = 10000;
    opts->max_stream_backlog = 16 * 1024 * 1024;
}

static bool options_valid(const http_server_options_t *o)
{
    return o->max_header_bytes > 0 && o->max_body_bytes > 0 && o->request_timeout_ms > 0 &&
           o->idle_timeout_ms > 0 && o->write_timeout_ms > 0 && o->max_connections > 0 &&
           o->max_stream_backlog > 0;
}

/* ---- output queue ------------------------------------------------------------------------- */

/* Returns room for n bytes at the end of the queue (then out_commit), or NULL without memory. */
static char *out_reserve(conn_t *c, size_t n)
{
    out_seg_t *tail = c->out_tail;
    if (tail != NULL && tail->cap - tail->len >= n)
        return tail->data + tail->len;
    size_t cap = n > OUT_SEG_SIZE ? n : OUT_SEG_SIZE;
    out_seg_t *seg = malloc(sizeof(*seg) + cap);
    if (seg == NULL)
        return NULL;
    *seg = (out_seg_t){.data = seg->space, .cap = cap};
    if (tail != NULL)
        tail->next = seg;
    else
        c->out_head = seg;
    c->out_tail = seg;
    return seg->data;
}

static void out_commit(conn_t *c, size_t n)
{
    c->out_tail->len += n;
    c->out_bytes += n;
}

static bool out_append(conn_t *c, const void *data, size_t n)
{
    if (n == 0)
        return true;
    char *room = out_reserve(c, n);
    if (room == NULL)
        return false;
    memcpy(room, data, n);
    out_commit(c, n);
    return true;
}

/* Queues a malloc'd body; takes it only on success. */
static bool out_take(conn_t *c, void *data, size_t n)
{
    if (n < OUT_OWNED_MIN) {
        if (!out_append(c, data, n))
            return false;
        free(data);
        return true;
    }
    out_seg_t *seg = malloc(sizeof(*seg));
    if (seg == NULL)
        return false;
    *seg = (out_seg_t){.data = data, .len = n};
    if (c->out_tail != NULL)
        c->out_tail->next = seg;
    else
        c->out_head = seg;
    c->out_tail = seg;
    c->out_bytes += n;
    return true;
}

static void out_seg_free(out_seg_t *seg)
{
    if (seg->cap == 0)
        free(seg->data);
    free(seg);
}

/* Drops n written bytes from the front. The last copy segment is kept for the next answer,
 * because on a keep-alive connection there nearly always is one. */
static void out_consume(conn_t *c, size_t n)
{
    c->out_bytes -= n;
    while (c->out_head != NULL) {
        out_seg_t *seg = c->out_head;
        size_t take = seg->len - seg->sent < n ? seg->len - seg->sent : n;
        seg->sent += take;
        n -= take;
        if (seg->sent < seg->len)
            break;
        if (seg->next == NULL && seg->cap == OUT_SEG_SIZE) {
            seg->len = seg->sent = 0;
            break;
        }
        c->out_head = seg->next;
        if (c->out_head == NULL)
            c->out_tail = NULL;
        out_seg_free(seg);
    }
}

static void out_clear(conn_t *c)
{
    while (c->out_head != NULL) {
        out_seg_t *seg = c->out_head;
        c->out_head = seg->next;
        out_seg_free(seg);
    }
    c->out_tail = NULL;
    c->out_bytes = 0;
}

/* ---- connection: watchers, deadlines, failing --------------------------------------------- */

static ev_tstamp conn_now(const conn_t *c)
{
    return ev_now(c->srv->loop);
}

static ev_tstamp ms_to_s(unsigned ms)
{
    return ms / 1000.0;
}

static void conn_watch(conn_t *c, ev_io *w, bool on)
{
    if (on && !ev_is_active(w))
        ev_io_start(c->srv->loop, w);
    else if (!on && ev_is_active(w))
        ev_io_stop(c->srv->loop, w);
}

/* Moves the timer earlier if a deadline (or deferred work) needs it; a later deadline is left
 * to the running timer, whose callback re-arms. */
static void conn_timer_arm(conn_t *c)
{
    ev_tstamp now = conn_now(c);
    ev_tstamp at = c->read_deadline;
    if (c->write_deadline != 0 && (at == 0 || c->write_deadline < at))
        at = c->write_deadline;
    if (c->failed || c->deferred)
        at = now;
    if (at == 0 || (c->timer_at != 0 && c->timer_at <= at))
        return;
    ev_timer_stop(c->srv->loop, &c->timer);
    ev_timer_set(&c->timer, at > now ? at - now : 0., 0.);
    ev_timer_start(c->srv->loop, &c->timer);
    c->timer_at = at;
}

/* Marks c dead and lets the loop close it: callers may be inside an answer, where running a
 * close callback or freeing c would pull the ground from under them. */
static void conn_fail(conn_t *c, actor_err_t reason)
{
    if (c->failed)
        return;
    VLOG(1, "Closing HTTP connection from %s: %s", c->peer_str, actor_strerror(reason));
    c->failed = true;
    c->fail_reason = reason;
    conn_watch(c, &c->rio, false);
    conn_watch(c, &c->wio, false);
    conn_timer_arm(c);
}

static void conn_defer(conn_t *c)
{
    c->deferred = true;
    conn_timer_arm(c);
}

static void server_resume_accept(http_server_t *srv);

static void conn_free(conn_t *c)
{
    http_server_t *srv = c->srv;
    ev_io_stop(srv->loop, &c->rio);
    ev_io_stop(srv->loop, &c->wio);
    ev_timer_stop(srv->loop, &c->timer);
    close(c->fd);
    if (c->prev != NULL)
        c->prev->next = c->next;
    else
        srv->conns = c->next;
    if (c->next != NULL)
        c->next->prev = c->prev;
    srv->conn_count--;
    out_clear(c);
    http_request_parser_fini(&c->parser);
    free(c);
}

/* Closes c now (from the loop or the server's own teardown) and tells a stream's owner. */
static void conn_close(conn_t *c)
{
    http_server_t *srv = c->srv;
    http_request_t *req = c->req;
    actor_err_t reason = c->failed ? c->fail_reason : ACTOR_ECLOSED;
    conn_free(c);
    if (req != NULL) {
        req->conn = NULL;
        http_stream_close_cb_t cb = req->close_cb;
        req->close_cb = NULL;
        if (cb != NULL) {
            srv->callback_depth++;
            cb(req, reason, req->close_arg);
            srv->callback_depth--;
        }
    }
    server_resume_accept(srv);
}

/* ---- connection: writing ------------------------------------------------------------------ */

static int out_iov(const conn_t *c, struct iovec *iov)
{
    int n = 0;
    for (out_seg_t *seg = c->out_head; seg != NULL && n < OUT_IOV_MAX; seg = seg->next) {
        if (seg->len > seg->sent)
            iov[n++] = (struct iovec){seg->data + seg->sent, seg->len - seg->sent};
    }
    return n;
}

/* Writes what the socket takes; a stalled socket arms the write watcher and deadline. */
static void conn_flush(conn_t *c)
{
    while (!c->failed && c->out_bytes > 0) {
        struct iovec iov[OUT_IOV_MAX];
        struct msghdr mh = {.msg_iov = iov, .msg_iovlen = (size_t)out_iov(c, iov)};
        ssize_t n = sendmsg(c->fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            if (c->write_deadline == 0)
                c->write_deadline = conn_now(c) + ms_to_s(c->srv->opts.write_timeout_ms);
            conn_watch(c, &c->wio, true);
            return;
        }
        if (n < 0) {
            VLOG(1, "Cannot write to HTTP client %s: %s", c->peer_str, strerror(errno));
            conn_fail(c, ACTOR_ECLOSED);
            return;
        }
        out_consume(c, (size_t)n);
        c->write_deadline = 0; /* progress */
    }
    c->write_deadline = 0;
    conn_watch(c, &c->wio, false);
}

static void conn_write_cb(struct ev_loop *loop, ev_io *w, int revents)
{
    (void)loop;
    (void)revents;
    conn_t *c = w->data;
    conn_flush(c);
    if (c->out_bytes < OUT_HIGH_WATER && c->req == NULL && c->in_start < c->in_len)
        conn_process(c); /* requests held back by the backlog */
    else
        conn_update(c);
}

/* ---- connection: state after each event --------------------------------------------------- */

/* After the final answer went out: shut our side and drain until the client closes. */
static void conn_start_linger(conn_t *c)
{
    shutdown(c->fd, SHUT_WR);
    c->lingering = true;
    c->in_start = c->in_len = 0;
    c->wait = WAIT_LINGER;
    c->read_deadline = conn_now(c) + LINGER_S;
}

static bool conn_wants_read(const conn_t *c)
{
    if (c->failed || c->peer_eof)
        return false;
    if (c->lingering)
        return true;
    if (c->close_after_flush || c->out_bytes >= OUT_HIGH_WATER)
        return false;
    return c->in_len - c->in_start < IN_BUF_SIZE;
}

/* Picks the read-side deadline for the current state. */
static void conn_set_wait(conn_t *c)
{
    if (c->lingering)
        return; /* its deadline was set when it began */
    enum wait wait = WAIT_NONE;
    ev_tstamp timeout = 0;
    if (c->req != NULL) {
        wait = WAIT_NONE;
    } else if (http_request_parser_busy(&c->parser)) {
        wait = WAIT_REQUEST;
        timeout = ms_to_s(c->srv->opts.request_timeout_ms);
    } else if (c->out_bytes == 0 && !c->close_after_flush) {
        wait = WAIT_IDLE;
        timeout = ms_to_s(c->srv->opts.idle_timeout_ms);
    }
    if (wait == c->wait)
        return; /* keep the deadline from when this state began */
    c->wait = (unsigned char)wait;
    c->read_deadline = wait == WAIT_NONE ? 0 : conn_now(c) + timeout;
}

/* Brings watchers, deadlines and the end of the connection in line with its state. */
static void conn_update(conn_t *c)
{
    if (c->failed)
        return;
    if (c->close_after_flush && c->out_bytes == 0 && !c->lingering)
        conn_start_linger(c);
    bool done = c->req == NULL && c->out_bytes == 0 && !c->deferred;
    if (c->peer_eof && (c->lingering || (done && c->in_start == c->in_len))) {
        conn_fail(c, ACTOR_ECLOSED);
        return;
    }
    conn_watch(c, &c->rio, conn_wants_read(c));
    conn_set_wait(c);
    conn_timer_arm(c);
}

/* ---- date --------------------------------------------------------------------------------- */

static const char *server_date(http_server_t *srv)
{
    time_t now = (time_t)ev_now(srv->loop);
    if (now != srv->date_sec || srv->date_str[0] == '\0') {
        struct tm tm;
        gmtime_r(&now, &tm);
        strftime(srv->date_str, sizeof(srv->date_str), "%a, %d %b %Y %H:%M:%S GMT", &tm);
        srv->date_sec = now;
    }
    return srv->date_str;
}

/* ---- answers: formatting ------------------------------------------------------------------ */

enum framing { FRAME_LENGTH, FRAME_CHUNKED, FRAME_NONE };

/* What the head of one answer says, besides the caller's headers. */
typedef struct head {
    int status;
    const char *content_type; /* may be NULL */
    const http_header_t *headers;
    size_t header_count;
    enum framing framing;
    size_t length;   /* for FRAME_LENGTH */
    bool close;      /* "Connection: close" */
    bool keep_alive; /* "Connection: keep-alive", for HTTP/1.0 clients */
} head_t;

static const char *status_reason(int status)
{
    const char *reason = http_status_str((enum http_status)status);
    return strcmp(reason, "<unknown>") == 0 ? "" : reason;
}

static char *put(char *p, const char *s)
{
    size_t n = strlen(s);
    memcpy(p, s, n);
    return p + n;
}

static char *put_line(char *p, const char *name, const char *value)
{
    p = put(p, name);
    p = put(p, ": ");
    p = put(p, value);
    return put(p, "\r\n");
}

static size_t line_size(const char *name, const char *value)
{
    return strlen(name) + strlen(value) + 4;
}

/* The variable lines of a head, except the caller's headers: they are few, so a fixed array. */
static size_t head_lines(http_server_t *srv, const head_t *h, char *length, http_header_t *out)
{
    size_t n = 0;
    out[n++] = (http_header_t){"Date", server_date(srv)};
    if (h->content_type != NULL)
        out[n++] = (http_header_t){"Content-Type", h->content_type};
    if (h->framing == FRAME_LENGTH) {
        snprintf(length, 24, "%zu", h->length);
        out[n++] = (http_header_t){"Content-Length", length};
    } else if (h->framing == FRAME_CHUNKED) {
        out[n++] = (http_header_t){"Transfer-Encoding", "chunked"};
    }
    if (h->close)
        out[n++] = (http_header_t){"Connection", "close"};
    else if (h->keep_alive)
        out[n++] = (http_header_t){"Connection", "keep-alive"};
    return n;
}

/* Queues the status line and headers of h. */
static bool out_head(conn_t *c, const head_t *h)
{
    char status_line[64];
    snprintf(status_line, sizeof(status_line), "HTTP/1.1 %d %s\r\n", h->status,
             status_reason(h->status));
    char length[24];
    http_header_t lines[5];
    size_t count = head_lines(c->srv, h, length, lines);

    size_t size = strlen(status_line) + 2;
    for (size_t i = 0; i < count; i++)
        size += line_size(lines[i].name, lines[i].value);
    for (size_t i = 0; i < h->header_count; i++)
        size += line_size(h->headers[i].name, h->headers[i].value);

    char *start = out_reserve(c, size);
    if (start == NULL)
        return false;
    char *p = put(start, status_line);
    for (size_t i = 0; i < count; i++)
        p = put_line(p, lines[i].name, lines[i].value);
    for (size_t i = 0; i < h->header_count; i++)
        p = put_line(p, h->headers[i].name, h->headers[i].value);
    p = put(p, "\r\n");
    out_commit(c, (size_t)(p - start));
    return true;
}

static bool is_http10(const http_request_t *req)
{
    return req->msg.http_major == 1 && req->msg.http_minor == 0;
}

/* An answer the server makes itself, plain text: 400, 408, 413 and 431 (req NULL) end the
 * connection; a 500 in place of an invalid answer to req follows req's keep-alive. */
static bool out_simple(conn_t *c, int status, const char *text, const http_request_t *req)
{
    char body[256];
    int n = snprintf(body, sizeof(body), "%s\n", text);
    size_t len = n < 0 ? 0 : (size_t)n >= sizeof(body) ? sizeof(body) - 1 : (size_t)n;
    bool keep = req != NULL && req->msg.keep_alive;
    head_t h = {.status = status,
                .content_type = "text/plain; charset=utf-8",
                .framing = FRAME_LENGTH,
                .length = len,
                .close = !keep,
                .keep_alive = keep && is_http10(req)};
    if (req != NULL && req->msg.is_head)
        len = 0;
    return out_head(c, &h) && out_append(c, body, len);
}

/* Answers a request the server cannot hand on, and closes after it. */
static void conn_reply_error(conn_t *c, int status, const char *reason)
{
    VLOG(1, "Answering %d to HTTP client %s because: %s", status, c->peer_str, reason);
    if (!out_simple(c, status, reason, NULL)) {
        conn_fail(c, ACTOR_ENOMEM);
        return;
    }
    c->close_after_flush = true;
}

/* ---- answers: validation ------------------------------------------------------------------ */

static bool is_token(const char *s)
{
    static const char extra[] = "!#$%&'*+-.^_`|~";
    if (*s == '\0')
        return false;
    for (; *s != '\0'; s++) {
        unsigned char ch = (unsigned char)*s;
        bool alnum = (ch >= '0' && ch <= '9') || ((ch | 0x20) >= 'a' && (ch | 0x20) <= 'z');
        if (!alnum && strchr(extra, ch) == NULL)
            return false;
    }
    return true;
}

static bool is_field_value(const char *s)
{
    for (; *s != '\0'; s++) {
        unsigned char ch = (unsigned char)*s;
        if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
            return false;
    }
    return true;
}

static bool is_reserved(const char *name)
{
    return strcasecmp(name, "Content-Length") == 0 || strcasecmp(name, "Transfer-Encoding") == 0 ||
           strcasecmp(name, "Connection") == 0;
}

/* Says what is wrong with an answer from the caller, or NULL. */
static const char *response_invalid(const http_response_t *resp)
{
    if (resp->status < 200 || resp->status > 599)
        return "status outside 200..599";
    if (resp->content_type != NULL && !is_field_value(resp->content_type))
        return "invalid Content-Type";
    if (resp->header_count > 0 && resp->headers == NULL)
        return "headers missing";
    for (size_t i = 0; i < resp->header_count; i++) {
        const http_header_t *h = &resp->headers[i];
        if (h->name == NULL || h->value == NULL || !is_token(h->name) || !is_field_value(h->value))
            return "invalid header";
        if (is_reserved(h->name))
            return "header that the server writes";
    }
    return NULL;
}

/* ---- answers: common paths ---------------------------------------------------------------- */

static void request_free(http_request_t *req)
{
    http_message_fini(&req->msg);
    free(req);
}

/* The request has been answered completely: move on to the next one. */
static void conn_answered(conn_t *c, bool keep_alive)
{
    c->req = NULL;
    if (!keep_alive)
        c->close_after_flush = true;
    if (c->dispatching)
        return; /* conn_process flushes and goes on with the next request */
    conn_flush(c);
    if (!c->close_after_flush && c->in_start < c->in_len)
        conn_defer(c);
    conn_update(c);
}

/* The connection of req is gone or going: the answer is dropped. Returns ACTOR_ECLOSED. */
static actor_err_t request_orphan(http_request_t *req)
{
    if (req->conn != NULL && req->conn->req == req)
        req->conn->req = NULL;
    req->conn = NULL;
    return ACTOR_ECLOSED;
}

/* Answers 500 in place of an invalid answer, which is our caller's bug. */
static void answer_invalid(http_request_t *req, const char *why)
{
    conn_t *c = req->conn;
    LOG_ERROR("Answering 500 to %s %s because the answer is invalid: %s", req->msg.method,
              req->msg.path, why);
    if (!out_simple(c, 500, "Internal Server Error: invalid response", req)) {
        conn_fail(c, ACTOR_ENOMEM);
        request_orphan(req);
        return;
    }
    conn_answered(c, req->msg.keep_alive);
}

/* 204 and 304 answers have no body and no Content-Length (1xx are refused). */
static bool status_has_body(int status)
{
    return status != 204 && status != 304;
}

static head_t response_head(const http_request_t *req, const http_response_t *resp)
{
    bool keep = req->msg.keep_alive;
    return (head_t){.status = resp->status,
                    .content_type = resp->content_type,
                    .headers = resp->headers,
                    .header_count = resp->header_count,
                    .framing = status_has_body(resp->status) ? FRAME_LENGTH : FRAME_NONE,
                    .close = !keep,
                    .keep_alive = keep && is_http10(req)};
}

/* Queues the whole answer; owned says whether body is taken. */
static bool queue_response(conn_t *c, const http_request_t *req, const http_response_t *resp,
                           const void *body, size_t len, bool owned)
{
    head_t h = response_head(req, resp);
    h.length = len;
    if (!out_head(c, &h))
        return false;
    if (req->msg.is_head || !status_has_body(resp->status)) {
        if (owned)
            free((void *)body);
        return true;
    }
    return owned ? out_take(c, (void *)body, len) : out_append(c, body, len);
}

static actor_err_t response_send(http_request_t *req, const http_response_t *resp, const void *body,
                                 size_t len, bool owned)
{
    ACTOR_ASSERT(!req->streaming);
    conn_t *c = req->conn;
    actor_err_t err = ACTOR_OK;
    const char *why = response_invalid(resp);
    if (c == NULL || c->failed) {
        err = request_orphan(req);
    } else if (why != NULL) {
        answer_invalid(req, why);
        err = ACTOR_EINVAL;
    } else if (!queue_response(c, req, resp, body, len, owned)) {
        conn_fail(c, ACTOR_ENOMEM);
        request_orphan(req);
        err = ACTOR_ENOMEM;
    } else {
        conn_answered(c, req->msg.keep_alive);
    }
    request_free(req);
    return err;
}

actor_err_t http_response_send(http_request_t *req, const http_response_t *resp)
{
    return response_send(req, resp, resp->body, resp->body_len, false);
}

actor_err_t http_response_send_owned(http_request_t *req, const http_response_t *resp, void *body,
                                     size_t body_len)
{
    return response_send(req, resp, body, body_len, true);
}

/* ---- answers: streams --------------------------------------------------------------------- */

/* Queues one chunk (or raw bytes for HTTP/1.0). */
static bool queue_chunk(conn_t *c, const http_request_t *req, const void *data, size_t len)
{
    if (req->stream_raw)
        return out_append(c, data, len);
    char size_line[24];
    int n = snprintf(size_line, sizeof(size_line), "%zx\r\n", len);
    return out_append(c, size_line, (size_t)n) && out_append(c, data, len) &&
           out_append(c, "\r\n", 2);
}

static bool queue_stream_head(conn_t *c, http_request_t *req, const http_response_t *head)
{
    head_t h = response_head(req, head);
    h.framing = req->stream_raw ? FRAME_NONE : FRAME_CHUNKED;
    h.close = h.close || req->stream_raw;
    h.keep_alive = h.keep_alive && !req->stream_raw;
    if (!out_head(c, &h))
        return false;
    if (req->msg.is_head || head->body_len == 0)
        return true;
    return queue_chunk(c, req, head->body, head->body_len);
}

actor_err_t http_stream_begin(http_request_t *req, const http_response_t *head,
                              http_stream_close_cb_t close_cb, void *arg)
{
    ACTOR_ASSERT(!req->streaming);
    conn_t *c = req->conn;
    const char *why = response_invalid(head);
    if (why == NULL && !status_has_body(head->status))
        why = "a stream needs a status with a body";
    actor_err_t err = ACTOR_OK;
    req->stream_raw = is_http10(req);
    if (c == NULL || c->failed) {
        err = request_orphan(req);
    } else if (why != NULL) {
        answer_invalid(req, why);
        err = ACTOR_EINVAL;
    } else if (!queue_stream_head(c, req, head)) {
        conn_fail(c, ACTOR_ENOMEM);
        request_orphan(req);
        err = ACTOR_ENOMEM;
    }
    if (err != ACTOR_OK) {
        request_free(req);
        return err;
    }
    req->streaming = true;
    req->close_cb = close_cb;
    req->close_arg = arg;
    if (!c->dispatching) {
        conn_flush(c);
        conn_update(c);
    }
    return ACTOR_OK;
}

actor_err_t http_stream_write(http_request_t *req, const void *data, size_t len)
{
    ACTOR_ASSERT(req->streaming);
    conn_t *c = req->conn;
    if (c == NULL || c->failed)
        return ACTOR_ECLOSED;
    if (len == 0 || req->msg.is_head)
        return ACTOR_OK;
    if (c->out_bytes >= c->srv->opts.max_stream_backlog) {
        LOG_WARNING("Dropping HTTP client %s of a stream because it left %zu bytes unread",
                    c->peer_str, c->out_bytes);
        conn_fail(c, ACTOR_ETOOBIG);
        return ACTOR_ETOOBIG;
    }
    if (!queue_chunk(c, req, data, len)) {
        conn_fail(c, ACTOR_ENOMEM);
        return ACTOR_ENOMEM;
    }
    if (!c->dispatching) {
        conn_flush(c);
        conn_update(c);
    }
    return ACTOR_OK;
}

static void stream_notify(http_request_t *req, actor_err_t reason)
{
    http_stream_close_cb_t cb = req->close_cb;
    req->close_cb = NULL;
    if (cb != NULL)
        cb(req, reason, req->close_arg);
}

actor_err_t http_stream_end(http_request_t *req)
{
    ACTOR_ASSERT(req->streaming);
    conn_t *c = req->conn;
    actor_err_t err = ACTOR_OK;
    if (c == NULL) {
        err = ACTOR_ECLOSED; /* the close callback has run */
    } else if (c->failed) {
        actor_err_t reason = c->fail_reason;
        err = request_orphan(req);
        stream_notify(req, reason);
    } else {
        bool chunked = !req->stream_raw && !req->msg.is_head;
        if (chunked && !out_append(c, "0\r\n\r\n", 5)) {
            conn_fail(c, ACTOR_ENOMEM);
            err = ACTOR_ENOMEM;
        }
        conn_answered(c, req->msg.keep_alive && !req->stream_raw);
        stream_notify(req, err);
    }
    request_free(req);
    return err;
}

/* ---- requests ----------------------------------------------------------------------------- */

const char *http_request_method(const http_request_t *req)
{
    return req->msg.method;
}

const char *http_request_target(const http_request_t *req)
{
    return req->msg.target;
}

const char *http_request_path(const http_request_t *req)
{
    return req->msg.path;
}

const char *http_request_query(const http_request_t *req)
{
    return req->msg.query;
}

const char *http_request_query_param(const http_request_t *req, const char *name)
{
    return http_message_param(&req->msg, name);
}

const char *http_request_header(const http_request_t *req, const char *name)
{
    return http_message_header(&req->msg, name);
}

const http_header_t *http_request_headers(const http_request_t *req, size_t *count)
{
    *count = req->msg.header_count;
    return req->msg.headers;
}

const char *http_request_body(const http_request_t *req, size_t *len)
{
    if (len != NULL)
        *len = req->msg.body_len;
    return req->msg.body != NULL ? req->msg.body : "";
}

bool http_request_keep_alive(const http_request_t *req)
{
    return req->msg.keep_alive;
}

const char *http_request_peer(const http_request_t *req)
{
    return req->peer_str;
}

const struct sockaddr_storage *http_request_peer_addr(const http_request_t *req)
{
    return &req->peer;
}

bool http_request_connected(const http_request_t *req)
{
    return req->conn != NULL && !req->conn->failed;
}

/* ---- connection: reading and dispatching -------------------------------------------------- */

/* Hands the parsed request to the callback. Returns false if the connection failed. */
static bool conn_dispatch(conn_t *c)
{
    http_request_t *req = calloc(1, sizeof(*req));
    if (req == NULL) {
        conn_fail(c, ACTOR_ENOMEM);
        return false;
    }
    http_request_parser_take(&c->parser, &req->msg);
    req->conn = c;
    req->peer = c->peer;
    memcpy(req->peer_str, c->peer_str, sizeof(req->peer_str));
    c->req = req;
    c->srv->callback_depth++;
    c->cb(req, c->arg);
    c->srv->callback_depth--;
    return true;
}

/* Parses from the input buffer; returns false when parsing must stop. */
static bool conn_parse_one(conn_t *c)
{
    size_t consumed = 0;
    bool complete = false;
    actor_err_t err = http_request_parser_feed(&c->parser, c->in + c->in_start,
                                               c->in_len - c->in_start, &consumed, &complete);
    c->in_start += consumed;
    if (err == ACTOR_ENOMEM) {
        conn_fail(c, ACTOR_ENOMEM);
        return false;
    }
    if (err != ACTOR_OK) {
        int status = 0;
        const char *reason = NULL;
        http_request_parser_error(&c->parser, &status, &reason);
        conn_reply_error(c, status, reason);
        return false;
    }
    if (http_request_parser_take_continue(&c->parser) &&
        !out_append(c, "HTTP/1.1 100 Continue\r\n\r\n", 25)) {
        conn_fail(c, ACTOR_ENOMEM);
        return false;
    }
    return complete ? conn_dispatch(c) : true;
}

/* Parses and dispatches buffered requests until one is outstanding, then writes the answers
 * that were given meanwhile and updates the connection's state. */
static void conn_process(conn_t *c)
{
    c->deferred = false;
    c->dispatching = true;
    while (!c->failed && c->req == NULL && !c->close_after_flush && c->in_start < c->in_len &&
           c->out_bytes < OUT_HIGH_WATER) {
        if (!conn_parse_one(c))
            break;
    }
    c->dispatching = false;
    if (c->in_start == c->in_len)
        c->in_start = c->in_len = 0;
    conn_flush(c);
    conn_update(c);
}

/* The client shut its side: a stream or a partial request cannot go on; a request being
 * answered can (half-close), and conn_update closes once everything is written. */
static void conn_on_eof(conn_t *c)
{
    c->peer_eof = true;
    bool streaming = c->req != NULL && c->req->streaming;
    if (streaming || c->lingering || http_request_parser_busy(&c->parser))
        conn_fail(c, ACTOR_ECLOSED);
    else
        conn_update(c);
}

static void conn_read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
    (void)loop;
    (void)revents;
    conn_t *c = w->data;
    if (c->in_start > 0) {
        memmove(c->in, c->in + c->in_start, c->in_len - c->in_start);
        c->in_len -= c->in_start;
        c->in_start = 0;
    }
    if (c->in_len == IN_BUF_SIZE) { /* full: a recv of 0 bytes would look like EOF */
        conn_update(c);
        return;
    }
    ssize_t n = recv(c->fd, c->in + c->in_len, IN_BUF_SIZE - c->in_len, 0);
    if (n > 0 && c->lingering) {
        c->in_len = 0; /* drained */
    } else if (n > 0) {
        c->in_len += (size_t)n;
        if (c->req == NULL && !c->deferred)
            conn_process(c);
        else
            conn_update(c);
    } else if (n == 0) {
        conn_on_eof(c);
    } else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        VLOG(1, "Cannot read from HTTP client %s: %s", c->peer_str, strerror(errno));
        conn_fail(c, ACTOR_ECLOSED);
    }
}

/* ---- connection: timer -------------------------------------------------------------------- */

/* A read-side deadline passed. Returns false if c was closed. */
static bool conn_read_expired(conn_t *c)
{
    switch ((enum wait)c->wait) {
    case WAIT_IDLE:
        VLOG(2, "Closing idle HTTP connection from %s", c->peer_str);
        conn_close(c);
        return false;
    case WAIT_LINGER:
        conn_close(c);
        return false;
    case WAIT_REQUEST:
        c->wait = WAIT_NONE;
        c->read_deadline = 0;
        conn_reply_error(c, 408, "Request timeout");
        conn_flush(c);
        return true;
    case WAIT_NONE:
        break;
    }
    return true;
}

static void conn_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop;
    (void)revents;
    conn_t *c = w->data;
    c->timer_at = 0;
    if (c->deferred && !c->failed)
        conn_process(c);
    if (c->failed) {
        conn_close(c);
        return;
    }
    ev_tstamp now = conn_now(c);
    if (c->write_deadline != 0 && now >= c->write_deadline) {
        VLOG(1, "Closing HTTP connection from %s because it stopped reading", c->peer_str);
        c->failed = true;
        c->fail_reason = ACTOR_ETIMEDOUT;
        conn_close(c);
        return;
    }
    if (c->read_deadline != 0 && now >= c->read_deadline && !conn_read_expired(c))
        return;
    conn_update(c);
}

/* ---- connection: opening ------------------------------------------------------------------ */

static void format_peer(const struct sockaddr_storage *ss, char *out)
{
    char ip[INET6_ADDRSTRLEN];
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)ss;
        inet_ntop(AF_INET, &in->sin_addr, ip, sizeof(ip));
        snprintf(out, PEER_STR_SIZE, "%s:%u", ip, ntohs(in->sin_port));
    } else if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)ss;
        inet_ntop(AF_INET6, &in6->sin6_addr, ip, sizeof(ip));
        snprintf(out, PEER_STR_SIZE, "[%s]:%u", ip, ntohs(in6->sin6_port));
    } else {
        snprintf(out, PEER_STR_SIZE, "local");
    }
}

static actor_err_t conn_open(http_server_t *srv, int fd, const struct sockaddr_storage *peer,
                             listener_t *l, http_request_cb_t cb, void *arg)
{
    conn_t *c = malloc(sizeof(*c));
    if (c == NULL)
        return ACTOR_ENOMEM;
    memset(c, 0, offsetof(conn_t, in));
    c->srv = srv;
    c->listener = l;
    c->cb = cb;
    c->arg = arg;
    c->fd = fd;
    c->peer = *peer;
    format_peer(peer, c->peer_str);
    http_request_parser_init(&c->parser, srv->opts.max_header_bytes, srv->opts.max_body_bytes);
    ev_io_init(&c->rio, conn_read_cb, fd, EV_READ);
    ev_io_init(&c->wio, conn_write_cb, fd, EV_WRITE);
    ev_init(&c->timer, conn_timer_cb);
    c->rio.data = c->wio.data = c->timer.data = c;

    int one = 1; /* answers go out whole: do not wait to coalesce them (Nagle) */
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    c->next = srv->conns;
    if (srv->conns != NULL)
        srv->conns->prev = c;
    srv->conns = c;
    srv->conn_count++;
    conn_update(c);
    return ACTOR_OK;
}

/* ---- listeners ---------------------------------------------------------------------------- */

static void server_pause_accept(http_server_t *srv, bool retry)
{
    for (listener_t *l = srv->listeners; l != NULL; l = l->next)
        ev_io_stop(srv->loop, &l->io);
    srv->accept_paused = true;
    if (retry && !ev_is_active(&srv->accept_retry)) {
        ev_timer_set(&srv->accept_retry, ACCEPT_RETRY_S, 0.);
        ev_timer_start(srv->loop, &srv->accept_retry);
    }
}

static void server_resume_accept(http_server_t *srv)
{
    if (!srv->accept_paused || srv->conn_count >= srv->opts.max_connections)
        return;
    ev_timer_stop(srv->loop, &srv->accept_retry);
    srv->accept_paused = false;
    for (listener_t *l = srv->listeners; l != NULL; l = l->next)
        ev_io_start(srv->loop, &l->io);
}

static void accept_retry_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop;
    (void)revents;
    server_resume_accept(w->data);
}

/* Returns false when accepting should stop for this round. */
static bool listener_accept_one(listener_t *l)
{
    http_server_t *srv = l->srv;
    struct sockaddr_storage peer;
    socklen_t len = sizeof(peer);
    int fd = accept4(l->fd, (struct sockaddr *)&peer, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
        if (errno == EINTR || errno == ECONNABORTED)
            return true;
        if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
            if (!srv->fd_starved)
                LOG_WARNING("Pausing accepts on HTTP port %u because: %s", l->port,
                            strerror(errno));
            srv->fd_starved = true;
            server_pause_accept(srv, true);
        } else if (errno != EAGAIN && errno != EWOULDBLOCK) {
            LOG_ERROR("Cannot accept on HTTP port %u: %s", l->port, strerror(errno));
        }
        return false;
    }
    srv->fd_starved = false;
    if (conn_open(srv, fd, &peer, l, l->cb, l->arg) != ACTOR_OK) {
        LOG_WARNING("Dropping HTTP connection on port %u: out of memory", l->port);
        close(fd);
    }
    return true;
}

static void listener_cb(struct ev_loop *loop, ev_io *w, int revents)
{
    (void)loop;
    (void)revents;
    listener_t *l = w->data;
    for (int i = 0; i < ACCEPT_BATCH; i++) {
        if (l->srv->conn_count >= l->srv->opts.max_connections) {
            server_pause_accept(l->srv, false);
            return;
        }
        if (!listener_accept_one(l))
            return;
    }
}

static actor_err_t parse_address(const char *ip, uint16_t port, struct sockaddr_storage *ss,
                                 socklen_t *len)
{
    memset(ss, 0, sizeof(*ss));
    struct sockaddr_in *in = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
    if (ip == NULL || ip[0] == '\0')
        ip = "0.0.0.0";
    if (inet_pton(AF_INET, ip, &in->sin_addr) == 1) {
        in->sin_family = AF_INET;
        in->sin_port = htons(port);
        *len = sizeof(*in);
    } else if (inet_pton(AF_INET6, ip, &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons(port);
        *len = sizeof(*in6);
    } else {
        return ACTOR_EINVAL;
    }
    return ACTOR_OK;
}

static actor_err_t socket_error(const char *what, const char *ip, uint16_t port)
{
    int e = errno;
    LOG_ERROR("Cannot %s HTTP socket on %s port %u: %s", what, ip ? ip : "*", port, strerror(e));
    return e == EADDRINUSE ? ACTOR_EADDRINUSE : e == ENOMEM ? ACTOR_ENOMEM : ACTOR_ESYSTEM;
}

static actor_err_t listen_socket(const char *ip, uint16_t port, int *fd_out, uint16_t *bound)
{
    struct sockaddr_storage ss;
    socklen_t len = 0;
    if (parse_address(ip, port, &ss, &len) != ACTOR_OK)
        return ACTOR_EINVAL;
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return socket_error("create", ip, port);
    int one = 1; /* restarting daemons rebind while old connections sit in TIME_WAIT */
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    actor_err_t err = ACTOR_OK;
    if (bind(fd, (struct sockaddr *)&ss, len) != 0)
        err = socket_error("bind", ip, port);
    else if (listen(fd, SOMAXCONN) != 0)
        err = socket_error("listen on", ip, port);
    else if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
        err = socket_error("name", ip, port);
    if (err != ACTOR_OK) {
        close(fd);
        return err;
    }
    *bound = ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
                                           : ((struct sockaddr_in6 *)&ss)->sin6_port);
    *fd_out = fd;
    return ACTOR_OK;
}

actor_err_t http_server_listen(http_server_t *srv, const char *ip, uint16_t port,
                               http_request_cb_t cb, void *arg, uint16_t *bound_port)
{
    if (cb == NULL)
        return ACTOR_EINVAL;
    listener_t *l = calloc(1, sizeof(*l));
    if (l == NULL)
        return ACTOR_ENOMEM;
    actor_err_t err = listen_socket(ip, port, &l->fd, &l->port);
    if (err != ACTOR_OK) {
        free(l);
        return err;
    }
    l->srv = srv;
    l->cb = cb;
    l->arg = arg;
    ev_io_init(&l->io, listener_cb, l->fd, EV_READ);
    l->io.data = l;
    if (!srv->accept_paused)
        ev_io_start(srv->loop, &l->io);
    l->next = srv->listeners;
    srv->listeners = l;
    if (bound_port != NULL)
        *bound_port = l->port;
    VLOG(1, "Listening for HTTP on %s:%u", ip && ip[0] ? ip : "0.0.0.0", l->port);
    return ACTOR_OK;
}

/* Closes the connections accepted by l (all of them if l is NULL). */
static void server_close_conns(http_server_t *srv, const listener_t *l)
{
    conn_t *c = srv->conns;
    while (c != NULL) {
        conn_t *next = c->next;
        if (l == NULL || c->listener == l)
            conn_close(c);
        c = next;
    }
}

static void listener_free(http_server_t *srv, listener_t *l)
{
    server_close_conns(srv, l);
    ev_io_stop(srv->loop, &l->io);
    close(l->fd);
    free(l);
}

actor_err_t http_server_unlisten(http_server_t *srv, uint16_t port)
{
    ACTOR_ASSERT(srv->callback_depth == 0);
    actor_err_t err = ACTOR_ENOENT;
    listener_t **link = &srv->listeners;
    while (*link != NULL) {
        listener_t *l = *link;
        if (l->port != port) {
            link = &l->next;
            continue;
        }
        *link = l->next;
        listener_free(srv, l);
        err = ACTOR_OK;
    }
    return err;
}

/* ---- server ------------------------------------------------------------------------------- */

actor_err_t http_server_new(struct ev_loop *loop, const http_server_options_t *opts,
                            http_server_t **srv_out)
{
    http_server_options_t defaults;
    if (opts == NULL) {
        http_server_options_init(&defaults);
        opts = &defaults;
    }
    if (loop == NULL || !options_valid(opts))
        return ACTOR_EINVAL;
    http_server_t *srv = calloc(1, sizeof(*srv));
    if (srv == NULL)
        return ACTOR_ENOMEM;
    srv->loop = loop;
    srv->opts = *opts;
    ev_init(&srv->accept_retry, accept_retry_cb);
    srv->accept_retry.data = srv;
    *srv_out = srv;
    return ACTOR_OK;
}

void http_server_free(http_server_t *srv)
{
    if (srv == NULL)
        return;
    ACTOR_ASSERT(srv->callback_depth == 0);
    while (srv->listeners != NULL) {
        listener_t *l = srv->listeners;
        srv->listeners = l->next;
        listener_free(srv, l);
    }
    server_close_conns(srv, NULL); /* adopted ones */
    ev_timer_stop(srv->loop, &srv->accept_retry);
    free(srv);
}

actor_err_t http_server_adopt(http_server_t *srv, int fd, http_request_cb_t cb, void *arg)
{
    if (cb == NULL || fd < 0)
        return ACTOR_EINVAL;
    if (srv->conn_count >= srv->opts.max_connections)
        return ACTOR_EBUSY;
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0)
        return ACTOR_ESYSTEM;
    struct sockaddr_storage peer;
    socklen_t len = sizeof(peer);
    if (getpeername(fd, (struct sockaddr *)&peer, &len) != 0)
        memset(&peer, 0, sizeof(peer));
    return conn_open(srv, fd, &peer, NULL, cb, arg);
}

size_t http_server_connection_count(const http_server_t *srv)
{
    return srv->conn_count;
}
