/* bench.h: pieces shared by actor-bench's files. */
#ifndef BENCH_H
#define BENCH_H

#include <semaphore.h>
#include <stddef.h>
#include <stdint.h>

#include "actor/actor.h"

extern const actor_ops_t bench_echo_ops;

double bench_now(void);
void bench_emit(const char *metric, double value, const char *unit);
/* Streams `each` Pings (seq counting down to 0, payload_len bytes each) from each of `senders`
 * new actors to target. */
void bench_stream(const actor_pid_t *target, int senders, uint64_t each, size_t payload_len);
/* Sorts samples and returns the q-quantile (0..1). */
double bench_quantile(double *samples, size_t n, double q);

/* remote.c */
int bench_remote_peer(void);
void bench_remote(double scale, sem_t *done);

/* nng_raw.c */
void bench_nng_raw(double scale);

#endif
