/*
 * wait.h: wall-clock waits for the multi-process tests (tests/support/). Real processes cannot
 * run on the runtime's paused clock, so these tests poll a condition with a deadline instead of
 * sleeping a fixed time: the wait ends as soon as the condition holds, and a condition that never
 * holds fails the test after the deadline rather than hanging it.
 */
#ifndef TESTS_SUPPORT_WAIT_H
#define TESTS_SUPPORT_WAIT_H

#include <stdbool.h>
#include <stdint.h>

/* Milliseconds on CLOCK_MONOTONIC. Cannot fail. */
int64_t support_now_ms(void);

/* Sleeps ms milliseconds (restarting after signals). Cannot fail. */
void support_sleep_ms(int ms);

/* Calls cond(arg) every step_ms until it returns true (then returns true) or timeout_ms have
 * passed (then false). cond runs at least once.
 * Blocks. */
bool support_wait_until(bool (*cond)(void *arg), void *arg, int timeout_ms, int step_ms);

#endif
