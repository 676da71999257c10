/*
 * http_request_parser.h: a connection-level HTTP/1.x request parser (private to the HTTP server).
 *
 * Wraps http-parser for one connection: it is fed the bytes that arrive, in pieces of any size,
 * and yields complete requests (http_message_t) one at a time, or an error with the HTTP status
 * the server should answer (400, 413, 431). It knows nothing of sockets, so the server uses it
 * and the fuzzer drives it directly.
 *
 * Feeding stops right after each complete request (http-parser is paused there), because the
 * server answers pipelined requests in order and parses request N+1 only once N is answered.
 * Limits are checked while bytes stream in: the request line and headers against
 * max_header_bytes (431), a Content-Length against max_body_bytes before any body byte is read
 * and a chunked body as it grows (413).
 *
 * A message keeps everything in two buffers: an arena holding the raw target, header names and
 * values, the decoded path and the decoded query parameters (all NUL-terminated), and a body
 * buffer (also NUL-terminated, so a JSON body can be handed to a parser as a string).
 *
 * Not thread-safe: one parser belongs to one connection.
 */
#ifndef ACTOR_HTTP_REQUEST_PARSER_H
#define ACTOR_HTTP_REQUEST_PARSER_H

#include <stdbool.h>
#include <stddef.h>

#include <http_parser.h>

#include "actor/error.h"
#include "actor/http_server.h" /* http_header_t */

/* A parsed request. Strings point into buffers the message owns; http_message_fini frees them. */
typedef struct http_message {
    char *arena;               /* target, header names and values, decoded path and params */
    size_t arena_len;          /* bytes used */
    size_t arena_cap;          /* bytes allocated */
    http_header_t *headers;    /* header_count pairs into arena, in arrival order */
    size_t header_count;       /* number of headers */
    size_t header_cap;         /* slots allocated in headers */
    http_header_t *params;     /* param_count decoded query parameters, in order */
    size_t param_count;        /* number of query parameters */
    size_t param_cap;          /* slots allocated in params */
    char *body;                /* body_len bytes, de-chunked, NUL-terminated; NULL if empty */
    size_t body_len;           /* bytes of body */
    size_t body_cap;           /* bytes allocated for body (including the NUL) */
    const char *method;        /* "GET", ...: a static string from http-parser */
    const char *target;        /* raw request target as sent: "/a%20b?x=1" */
    const char *path;          /* percent-decoded path: "/a b" */
    const char *query;         /* raw query string without '?', "" if none */
    unsigned short http_major; /* HTTP version major number */
    unsigned short http_minor; /* HTTP version minor number */
    bool keep_alive;           /* the connection may carry another request after this one */
    bool is_head;              /* HEAD: the answer carries headers only */
} http_message_t;

/* The parser of one connection. Fields are private; the struct is here so callers embed it. */
typedef struct http_request_parser {
    http_parser hp;           /* http-parser state; hp.data points back here */
    http_message_t msg;       /* the request being parsed */
    size_t max_header_bytes;  /* limit on target plus header names and values (431) */
    size_t max_body_bytes;    /* limit on the de-chunked body (413) */
    size_t header_bytes;      /* target plus header bytes stored so far */
    int error_status;         /* 0, or the HTTP status to answer once failed */
    const char *error_reason; /* text of the error answer (static or error_text); or NULL */
    char error_text[96];      /* http-parser's description of the error, prefixed */
    actor_err_t error;        /* ACTOR_OK, or the sticky error of feed */
    unsigned char part;       /* what the last data callback appended: target, name or value */
    bool in_message;          /* bytes of a request arrived and it is not complete yet */
    bool headers_done;        /* header section over: later header callbacks are trailers */
    bool complete;            /* msg holds a complete request, waiting for take */
    bool continue_wanted;     /* the client waits for "100 Continue" before sending its body */
} http_request_parser_t;

/* Prepares p with the two limits (bytes). Cannot fail; http_request_parser_fini releases. */
void http_request_parser_init(http_request_parser_t *p, size_t max_header_bytes,
                              size_t max_body_bytes);

/* Frees a partial request held by p. Cannot fail. */
void http_request_parser_fini(http_request_parser_t *p);

/*
 * Parses up to len bytes of data (len > 0) and sets *consumed to the bytes used. Stops after a
 * complete request and sets *complete; take it with http_request_parser_take before feeding the
 * rest. Returns ACTOR_OK, ACTOR_ENOMEM, or on bad input ACTOR_EPROTO (answer 400) or
 * ACTOR_ETOOBIG (413 or 431): http_request_parser_error tells which and why. Errors are sticky.
 */
actor_err_t http_request_parser_feed(http_request_parser_t *p, const char *data, size_t len,
                                     size_t *consumed, bool *complete);

/* Moves the complete request into *out (the caller then owns it and calls http_message_fini)
 * and readies p for the next one. Only after feed reported *complete. */
void http_request_parser_take(http_request_parser_t *p, http_message_t *out);

/* The status (400, 413 or 431) and reason text of a failed parser; the text lives as long as
 * p. */
void http_request_parser_error(const http_request_parser_t *p, int *status, const char **reason);

/* True while part of a request has arrived and the request is not complete. */
bool http_request_parser_busy(const http_request_parser_t *p);

/* True once per request when its client sent "Expect: 100-continue" and its headers passed the
 * limits, so the server should send "100 Continue" now. */
bool http_request_parser_take_continue(http_request_parser_t *p);

/* Frees the buffers of msg and zeroes it. Cannot fail; a zeroed message is fine to pass. */
void http_message_fini(http_message_t *msg);

/* The first header named name (ASCII case-insensitive), or NULL. */
const char *http_message_header(const http_message_t *msg, const char *name);

/* The first query parameter named name (compared after percent-decoding), or NULL. */
const char *http_message_param(const http_message_t *msg, const char *name);

#endif
