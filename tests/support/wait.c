/* wait.c: wall-clock waits (wait.h). */
#include <errno.h>
#include <time.h>

#include "tests/support/wait.h"

int64_t support_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void support_sleep_ms(int ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

bool support_wait_until(bool (*cond)(void *arg), void *arg, int timeout_ms, int step_ms)
{
    int64_t deadline = support_now_ms() + timeout_ms;
    for (;;) {
        if (cond(arg))
            return true;
        if (support_now_ms() >= deadline)
            return false;
        support_sleep_ms(step_ms);
    }
}
