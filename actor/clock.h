/*
 * clock.h: the runtime's clock and timers, pausable for tests (libprocess's Clock).
 *
 * Every time read and every timer of every component goes through here. Normally the clock
 * follows CLOCK_MONOTONIC and timers fire from the runtime's I/O thread. A test pauses the clock:
 * time then moves only through actor_clock_advance(), which fires the timers that fall due, in
 * deadline order, as dispatches into their actors; actor_settle() then runs them. So a test of a
 * 15-second ping timeout takes microseconds and never sleeps.
 */
#ifndef ACTOR_CLOCK_H
#define ACTOR_CLOCK_H

#include <stdbool.h>
#include <stdint.h>

#include "actor/actor.h"

#define ACTOR_NS_PER_MS  INT64_C(1000000)
#define ACTOR_NS_PER_SEC INT64_C(1000000000)

typedef uint64_t actor_timer_id_t; /* 0 is never a valid timer */

/* Nanoseconds on the runtime's monotonic clock (paused or not). Thread-safe. */
int64_t actor_clock_now(void);

/* Wall-clock time in nanoseconds since the epoch, moved by the same advances as the monotonic
 * clock while paused (so timestamps in tests are deterministic relative to each other). */
int64_t actor_clock_wall(void);

/* Freezes the clock for tests; timers stop firing on their own. Idempotent. */
void actor_clock_pause(void);

/* Lets the clock run again from the paused time on. Idempotent. */
void actor_clock_resume(void);

bool actor_clock_paused(void);

/* Moves a paused clock forward by ns and fires every timer that falls due. Follow with
 * actor_settle() to run them. Ignored when the clock is not paused. */
void actor_clock_advance(int64_t ns);

/* Arranges for fn(self, state, arg) to run inside self after ns nanoseconds (libprocess's delay).
 * Returns the timer's id, or 0 when out of memory: fn then never runs and the caller keeps arg.
 * Thread-safe; self must be a live actor (usually the caller's own). If the actor is gone when
 * the timer fires, fn runs with self and state NULL to free arg. */
actor_timer_id_t actor_delay(actor_t *self, int64_t ns, actor_call_fn fn, void *arg);

/* Cancels a timer that has not fired yet: returns true and the caller owns arg again (fn will
 * not run). False if it already fired or is unknown. Thread-safe. */
bool actor_timer_cancel(actor_timer_id_t id);

/* For a timer id kept in a field that is 0 while nothing is armed: cancels *timer if it is set
 * and sets it to 0. Returns actor_timer_cancel's answer (false for 0). Thread-safe. */
bool actor_timer_disarm(actor_timer_id_t *timer);

#endif
