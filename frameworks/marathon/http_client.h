/*
 * http_client.h: outgoing libcurl transfers for an actor that must never block: Marathon's health
 * check probes (health.c), its event callbacks to HTTP subscribers (subscriptions.c) and its alert
 * mails over SMTP (alerts.c). Part of the marathon_health library (health.cmake). It knows nothing
 * of Marathon: any actor that wants a URL fetched, posted or mailed can use it.
 *
 * The owner prepares a curl easy handle inside its own handler (URL, method, body, timeouts:
 * whatever libcurl offers) and hands it over with marathon_http_client_start(). The transfer runs
 * on the runtime's I/O thread, on one libcurl multi handle driven by libev watchers (one ev_io per
 * socket curl uses, one ev_timer for curl's timeouts), so the owner goes on handling messages.
 * When the transfer ends, its outcome comes back inside the owner as a call of the transfer's
 * done function with the easy handle (for curl_easy_getinfo) and curl's result code.
 *
 * At most max_running transfers run at once per client; the others wait their turn in start
 * order. Callbacks the easy handle was given (read, write, header functions) run on the I/O
 * thread while the transfer runs: they may touch only the transfer's own arg, which the owner
 * must leave alone until done runs.
 *
 * Every function must be called inside the owner actor (its handlers, init or fini), except
 * marathon_http_client_new.
 */
#ifndef FRAMEWORKS_MARATHON_HTTP_CLIENT_H
#define FRAMEWORKS_MARATHON_HTTP_CLIENT_H

#include <stddef.h>

#include <curl/curl.h>

#include "actor/actor.h"
#include "actor/error.h"

typedef struct marathon_http_client marathon_http_client_t;

/* A transfer's outcome, inside the owner: easy is borrowed until the call returns (the client
 * cleans it up afterwards), result is curl's code for the transfer (CURLE_OK when it completed;
 * an HTTP error status is not a curl error: read CURLINFO_RESPONSE_CODE). */
typedef void (*marathon_http_done_fn)(actor_t *self, void *state, CURL *easy, CURLcode result,
                                      void *arg);

/* Releases a transfer's arg once its easy handle is gone. Runs exactly once per started transfer,
 * after done (if done runs), on the owner's thread or on the I/O thread (when the client is freed
 * with the transfer under way): it must touch nothing but arg. */
typedef void (*marathon_http_release_fn)(void *arg);

/* Makes a client for the actor owner, running at most max_running transfers at once (0: 64).
 * May be called before the owner runs (its pointer is only kept). On ACTOR_OK *out is the client,
 * which the owner frees with marathon_http_client_free (in its fini at the latest). Errors:
 * ACTOR_EINVAL (no owner or out), ACTOR_ENOMEM. */
actor_err_t marathon_http_client_new(actor_t *owner, size_t max_running,
                                     marathon_http_client_t **out);

/* Abandons every transfer under way or waiting (their done never runs; their release does) and
 * frees the client. NULL is allowed. Cannot fail. */
void marathon_http_client_free(marathon_http_client_t *c);

/* Starts the transfer easy (configured by the caller; the client sets CURLOPT_PRIVATE and
 * CURLOPT_NOSIGNAL). On ACTOR_OK the client owns easy and arg: done (may be NULL) runs once
 * inside the owner with the outcome unless the client is freed first, and release (may be NULL)
 * runs once afterwards in every case. Errors, with nothing taken (the caller keeps easy and arg,
 * neither callback runs): ACTOR_EINVAL (NULL client or easy), ACTOR_ENOMEM, ACTOR_ECLOSED (the
 * runtime's I/O thread stopped). */
actor_err_t marathon_http_client_start(marathon_http_client_t *c, CURL *easy,
                                       marathon_http_done_fn done, marathon_http_release_fn release,
                                       void *arg);

/* Transfers started and not yet done (running or waiting). */
size_t marathon_http_client_pending(const marathon_http_client_t *c);

#endif
