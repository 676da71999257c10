/*
 * http.h: a blocking HTTP client (libcurl) for the multi-process tests (tests/support/), to talk
 * to the real daemons on 127.0.0.1: one request with an optional JSON body, its status and its
 * body as text or parsed JSON, and a poll that repeats a GET until its JSON satisfies a
 * condition. Each request gives up after 10 s, so that a daemon that does not answer fails the
 * test instead of hanging it. Not for in-process actors on the paused clock: nothing here runs
 * the runtime while it waits (tests/master/support.h's cluster_http does).
 */
#ifndef TESTS_SUPPORT_HTTP_H
#define TESTS_SUPPORT_HTTP_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

/* method on http://127.0.0.1:port path (query included), with body (NULL: none) sent as
 * Content-Type: application/json. Returns the answer's body (heap, NUL-terminated; the caller
 * frees; NULL when no body came) and its status in *status (0 when no answer came: refused,
 * timed out). May block up to 10 s. */
char *support_http_text(const char *method, uint16_t port, const char *path, const char *body,
                        long *status);

/* support_http_text with the body parsed: a new reference, or NULL when the body is missing or
 * is not JSON. */
json_t *support_http_json(const char *method, uint16_t port, const char *path, const char *body,
                          long *status);

/* GETs path every 50 ms until it answers 200 with JSON that done(json, arg) accepts (true), or
 * timeout_ms passed (false). done borrows json. Blocks. */
bool support_http_poll(uint16_t port, const char *path, bool (*done)(json_t *json, void *arg),
                       void *arg, int timeout_ms);

#endif
