/*
 * http_server.h: the runtime's HTTP/1.1 server on libev and http-parser.
 *
 * A server lives on one libev loop given by its owner and serves any number of listening ports,
 * each with its own request callback. It speaks HTTP/1.0 and 1.1: keep-alive, pipelining
 * (requests on one connection are answered in order: the next one is parsed only once the
 * current one is answered), de-chunked request bodies, "100 Continue", responses with a
 * Content-Length or a chunked stream (server-sent events, RecordIO). It answers on its own only
 * what is wrong at the HTTP level, with a short plain-text body, and then closes the connection:
 * 400 for malformed requests, 408 for a request that stalls, 413 for a body over the limit, 431
 * for oversized headers. Routing (404, 405) is the caller's business: this module knows
 * nothing about actors.
 *
 * A request handle given to a callback stays valid until the request is answered, which may
 * happen long after the callback returned: the handle outlives its connection, so answering a
 * request whose client went away is safe and returns ACTOR_ECLOSED.
 *
 * Threads: every function here, and every callback, runs on the thread that runs the loop. The
 * runtime marshals answers from worker threads onto that thread before calling in.
 * Callbacks may answer requests but must not call http_server_unlisten or http_server_free.
 */
#ifndef ACTOR_HTTP_SERVER_H
#define ACTOR_HTTP_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <ev.h>

#include "actor/error.h"

typedef struct http_server http_server_t;
typedef struct http_request http_request_t;

/* One name/value pair: a request or response header, or a query parameter. */
typedef struct http_header {
    const char *name;
    const char *value;
} http_header_t;

typedef struct http_server_options {
    size_t max_header_bytes;     /* request target + header names and values; over: 431
                                    (http-parser caps the whole header section at 80 KiB) */
    size_t max_body_bytes;       /* de-chunked request body; over: 413 */
    unsigned request_timeout_ms; /* first byte of a request to its last; over: 408, close */
    unsigned idle_timeout_ms;    /* keep-alive connection with nothing to do; over: close */
    unsigned write_timeout_ms;   /* pending output without progress; over: close */
    size_t max_connections;      /* beyond this, accepting pauses until one closes */
    size_t max_stream_backlog;   /* unsent bytes at which a stream write drops its client */
} http_server_options_t;

/* Fills *opts with the defaults: 64 KiB headers, 16 MiB body, 30 s request and write timeouts,
 * 60 s idle timeout, 10000 connections, 16 MiB stream backlog. Cannot fail. */
void http_server_options_init(http_server_options_t *opts);

/* ---- server ------------------------------------------------------------------------------- */

/* Called once per request; req stays valid until answered with http_response_send,
 * http_response_send_owned or http_stream_begin ... http_stream_end. */
typedef void (*http_request_cb_t)(http_request_t *req, void *arg);

/* Creates a server on loop (which must outlive it) with opts (NULL: defaults; copied). Listens
 * nowhere yet. Returns ACTOR_OK and *srv_out, ACTOR_EINVAL (a zero limit) or ACTOR_ENOMEM. */
actor_err_t http_server_new(struct ev_loop *loop, const http_server_options_t *opts,
                            http_server_t **srv_out);

/* Closes every listener and connection and frees srv. Stream close callbacks run with
 * ACTOR_ECLOSED before it returns; unanswered requests stay valid and answering them returns
 * ACTOR_ECLOSED. Not from a callback of srv. Cannot fail. */
void http_server_free(http_server_t *srv);

/* Listens on ip ("127.0.0.1", "::", NULL or "" for all IPv4 addresses) and port (0: any free
 * port) and calls cb(req, arg) for each request that arrives there. *bound_port (may be NULL)
 * receives the port. Returns ACTOR_OK; ACTOR_EINVAL for a malformed ip or a NULL cb;
 * ACTOR_EADDRINUSE; ACTOR_ENOMEM; ACTOR_ESYSTEM (logged). On error cb never runs. */
actor_err_t http_server_listen(http_server_t *srv, const char *ip, uint16_t port,
                               http_request_cb_t cb, void *arg, uint16_t *bound_port);

/* Stops listening on port (every address bound to it) and closes the connections accepted
 * there, as http_server_free does; the callback of that listener never runs again. Returns
 * ACTOR_OK or ACTOR_ENOENT. Not from a callback of srv. */
actor_err_t http_server_unlisten(http_server_t *srv, uint16_t port);

/* Serves an already connected stream socket fd (non-blocking or not; the server makes it
 * non-blocking) as if accepted by a listener with cb and arg: for socket pairs in tests and
 * the fuzzer, and for sockets handed over by another process. Takes fd on success only.
 * Returns ACTOR_OK, ACTOR_EBUSY (max_connections reached), ACTOR_ENOMEM or ACTOR_ESYSTEM. */
actor_err_t http_server_adopt(http_server_t *srv, int fd, http_request_cb_t cb, void *arg);

/* Number of open connections (for metrics and tests). Cannot fail. */
size_t http_server_connection_count(const http_server_t *srv);

/* ---- requests: read-only views, valid until the request is answered ----------------------- */

/* "GET", "POST", ... */
const char *http_request_method(const http_request_t *req);

/* The request target exactly as sent, e.g. "/v2/apps?embed=apps.tasks". */
const char *http_request_target(const http_request_t *req);

/* The percent-decoded path, e.g. "/slave(1)/state" for "/slave%281%29/state". */
const char *http_request_path(const http_request_t *req);

/* The raw query string without '?' ("" if none), e.g. "embed=apps.tasks&force=true". */
const char *http_request_query(const http_request_t *req);

/* The first query parameter named name, percent-decoded ('+' is a space), "" for a bare name
 * ("?force"), NULL if absent. */
const char *http_request_query_param(const http_request_t *req, const char *name);

/* The first header named name (ASCII case-insensitive), or NULL. */
const char *http_request_header(const http_request_t *req, const char *name);

/* All headers in arrival order; *count receives their number. */
const http_header_t *http_request_headers(const http_request_t *req, size_t *count);

/* The de-chunked body, NUL-terminated ("" if none); *len (may be NULL) receives its length. */
const char *http_request_body(const http_request_t *req, size_t *len);

/* True if the connection stays open after the answer (HTTP/1.1 default, or 1.0 with
 * "Connection: keep-alive"). */
bool http_request_keep_alive(const http_request_t *req);

/* The client's address as "ip:port" ("[::1]:port" for IPv6). */
const char *http_request_peer(const http_request_t *req);

/* The client's address as a socket address. */
const struct sockaddr_storage *http_request_peer_addr(const http_request_t *req);

/* False once the client's connection is closed: answering will return ACTOR_ECLOSED. */
bool http_request_connected(const http_request_t *req);

/* ---- answers ----------------------------------------------------------------------------- */

typedef struct http_response {
    int status;                   /* 200..599 */
    const char *content_type;     /* NULL: no Content-Type header */
    const http_header_t *headers; /* extra headers (may be NULL); not Content-Length,
                                     Transfer-Encoding or Connection, which the server writes */
    size_t header_count;          /* entries in headers */
    const void *body;             /* copied by http_response_send (may be NULL if body_len 0) */
    size_t body_len;              /* bytes of body */
} http_response_t;

/*
 * Answers req with resp, copying everything. The body of a HEAD answer is left out (its
 * Content-Length kept); 204 and 304 answers carry no body and no Content-Length. The handle is
 * invalid after the call whatever it returns. Returns ACTOR_OK (queued: the bytes go out as the
 * client reads); ACTOR_ECLOSED if the client is gone; ACTOR_EINVAL for a status outside 200..599 or
 * a header name or value that is not a token or contains CR/LF, in which case the client gets a 500
 * instead; ACTOR_ENOMEM (connection closed).
 */
actor_err_t http_response_send(http_request_t *req, const http_response_t *resp);

/* As http_response_send, but the body is body_len bytes at body (from malloc), not resp->body,
 * and is taken without a copy on ACTOR_OK; on an error the caller still owns it. */
actor_err_t http_response_send_owned(http_request_t *req, const http_response_t *resp, void *body,
                                     size_t body_len);

/* Told once when a stream stops: reason ACTOR_OK from inside http_stream_end; otherwise from the
 * loop (or from inside http_server_free / http_server_unlisten) ACTOR_ECLOSED (the client
 * disconnected, or the server or listener closed), ACTOR_ETOOBIG (the client read too slowly:
 * max_stream_backlog), ACTOR_ETIMEDOUT (write_timeout_ms) or ACTOR_ENOMEM. req stays valid
 * until http_stream_end, which the owner must still call. */
typedef void (*http_stream_close_cb_t)(http_request_t *req, actor_err_t reason, void *arg);

/*
 * Starts a streamed answer to req: status line and headers of head (plus "Transfer-Encoding:
 * chunked", or, to an HTTP/1.0 client, a body ended by closing the connection); a non-empty
 * head->body is the first chunk. req becomes the stream handle for http_stream_write and
 * http_stream_end. Returns ACTOR_OK, then close_cb (may be NULL) runs exactly once; on error
 * (ACTOR_ECLOSED, ACTOR_EINVAL, ACTOR_ENOMEM, as http_response_send) req is answered and invalid
 * and close_cb never runs.
 */
actor_err_t http_stream_begin(http_request_t *req, const http_response_t *head,
                              http_stream_close_cb_t close_cb, void *arg);

/* Queues len bytes (copied) as one chunk; len 0 (or a HEAD request) sends nothing. Returns
 * ACTOR_OK; ACTOR_ECLOSED if the stream stopped (see the close callback); ACTOR_ETOOBIG if this
 * write found max_stream_backlog unsent bytes, or ACTOR_ENOMEM, both of which drop the client.
 * After an error, call http_stream_end all the same. */
actor_err_t http_stream_write(http_request_t *req, const void *data, size_t len);

/* Ends the stream (the last chunk, or closing for HTTP/1.0), runs the close callback if it has
 * not run (reason ACTOR_OK, or why the stream stopped), and frees req. Returns ACTOR_OK;
 * ACTOR_ECLOSED if the stream had already stopped; ACTOR_ENOMEM (the client is dropped). req is
 * invalid afterwards whatever it returns. */
actor_err_t http_stream_end(http_request_t *req);

#endif
