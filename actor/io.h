/*
 * io.h: the runtime's I/O thread, one libev loop per process.
 *
 * The HTTP server and the real-time timers live on this loop. Other threads (workers running
 * actors, nng's threads) never touch the loop directly: they hand it a function with
 * actor_io_call(), which runs it on the loop's thread in call order.
 */
#ifndef ACTOR_IO_H
#define ACTOR_IO_H

#include <stdbool.h>

#include "actor/error.h"

struct ev_loop;

/* Starts the loop's thread; without own_thread the calling thread becomes the loop's thread
 * instead, and the loop runs only inside actor_io_run_until() there. Errors: ACTOR_ENOMEM,
 * ACTOR_ESYSTEM. Called by the runtime. */
actor_err_t actor_io_start(bool own_thread);

/* Runs the queued calls, stops and joins the thread (or, without one, must be called on the
 * loop's thread), frees the loop. Called by the runtime. */
void actor_io_stop(void);

/* Without a thread of its own, on the loop's thread: runs the loop until done(arg) is true
 * (asked before each wait for events, after the scheduler's turn) or timeout_ns of real time
 * passed (< 0: no limit), and returns true. Elsewhere, or when the loop has a thread of its
 * own, returns false at once: the caller waits its own way. */
bool actor_io_run_until(bool (*done)(void *arg), void *arg, long long timeout_ns);

/* The loop, for watchers that run on the I/O thread. Use it only from that thread. */
struct ev_loop *actor_io_loop(void);

/* True on the I/O thread. */
bool actor_io_is_loop_thread(void);

/* Runs fn(arg) on the I/O thread, soon, in call order. Thread-safe. If it returns an error
 * (ACTOR_ECLOSED once the loop stopped, ACTOR_ENOMEM) fn never runs and the caller keeps arg. */
actor_err_t actor_io_call(void (*fn)(void *arg), void *arg);

/* Runs fn(arg) on the I/O thread and waits until it has run (at once when called there).
 * Errors: those of actor_io_call, and then fn never runs. */
actor_err_t actor_io_call_sync(void (*fn)(void *arg), void *arg);

/* A call in caller storage, for actor_io_post: the caller sets fn and arg; the rest is the
 * loop's. For a caller with at most one call of its own queued at a time (a peer's kick). */
typedef struct actor_io_node {
    void (*fn)(void *arg);
    void *arg;
    struct actor_io_node *next;
    bool heap; /* made by actor_io_call, freed after it ran */
} actor_io_node_t;

/* Has fn run on the I/O thread each time its loop is about to wait for events; while fn returns
 * true (more to do) the loop only polls, without waiting. For the scheduler, when actors run on
 * the I/O thread. One fn at a time; NULL removes it. Errors: those of actor_io_call_sync. */
actor_err_t actor_io_set_prepare(bool (*fn)(void));

/* As actor_io_call, with the node in caller storage, which must stay untouched until fn has
 * run: no allocation, so the only error is ACTOR_ECLOSED (then fn never runs). Thread-safe. */
actor_err_t actor_io_post(actor_io_node_t *node);

#endif
