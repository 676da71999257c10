/* nng_raw.c: the transport's own baseline: the remote shapes on bare nng, one nng message per
 * logical message. push/pull one-way, req/rep round trips, over TCP loopback between two threads
 * of this process. */
#include <nng/nng.h>
#include <nng/protocol/pipeline0/pull.h>
#include <nng/protocol/pipeline0/push.h>
#include <nng/protocol/reqrep0/rep.h>
#include <nng/protocol/reqrep0/req.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

#define PAYLOAD 64

typedef struct receiver {
    nng_socket sock;
    uint64_t count;
    bool echo; /* rep: answer each message */
} receiver_t;

static void *receive_loop(void *arg)
{
    receiver_t *r = arg;
    for (uint64_t i = 0; i < r->count; i++) {
        nng_msg *msg;
        if (nng_recvmsg(r->sock, &msg, 0) != 0)
            break;
        if (r->echo && nng_sendmsg(r->sock, msg, 0) == 0)
            continue;
        nng_msg_free(msg);
    }
    return NULL;
}

/* Listens on a free loopback port; returns its URL in url. */
static int listen_any(nng_socket sock, char *url, size_t len)
{
    nng_listener l;
    if (nng_listen(sock, "tcp://127.0.0.1:0", &l, 0) != 0)
        return -1;
    int port = 0;
    nng_listener_get_int(l, NNG_OPT_TCP_BOUND_PORT, &port);
    snprintf(url, len, "tcp://127.0.0.1:%d", port);
    return 0;
}

static void push_pull(uint64_t total)
{
    nng_socket push, pull;
    char url[64];
    if (nng_pull0_open(&pull) != 0 || nng_push0_open(&push) != 0 ||
        listen_any(pull, url, sizeof(url)) != 0 || nng_dial(push, url, NULL, 0) != 0) {
        fprintf(stderr, "nng_raw: push/pull setup failed\n");
        return;
    }
    receiver_t r = {pull, total, false};
    pthread_t thread;
    uint8_t payload[PAYLOAD] = {0};
    double t0 = bench_now();
    pthread_create(&thread, NULL, receive_loop, &r);
    for (uint64_t i = 0; i < total; i++)
        nng_send(push, payload, sizeof(payload), 0);
    pthread_join(thread, NULL);
    double seconds = bench_now() - t0;
    bench_emit("nng_push_pull_one_way", (double)total / seconds, "msgs_per_s");
    nng_close(push);
    nng_close(pull);
}

static void req_rep(uint64_t total)
{
    nng_socket req, rep;
    char url[64];
    if (nng_rep0_open(&rep) != 0 || nng_req0_open(&req) != 0 ||
        listen_any(rep, url, sizeof(url)) != 0 || nng_dial(req, url, NULL, 0) != 0) {
        fprintf(stderr, "nng_raw: req/rep setup failed\n");
        return;
    }
    receiver_t r = {rep, total, true};
    pthread_t thread;
    pthread_create(&thread, NULL, receive_loop, &r);
    double *samples = malloc(total * sizeof(double));
    uint8_t payload[PAYLOAD] = {0};
    uint64_t done = 0;
    for (; done < total; done++) {
        double t0 = bench_now();
        void *answer;
        size_t len;
        if (nng_send(req, payload, sizeof(payload), 0) != 0 ||
            nng_recv(req, &answer, &len, NNG_FLAG_ALLOC) != 0)
            break;
        nng_free(answer, len);
        samples[done] = (bench_now() - t0) * 1e6;
    }
    pthread_join(thread, NULL);
    bench_emit("nng_req_rep_rtt_p50", bench_quantile(samples, done, 0.50), "us");
    bench_emit("nng_req_rep_rtt_p99", bench_quantile(samples, done, 0.99), "us");
    free(samples);
    nng_close(req);
    nng_close(rep);
}

void bench_nng_raw(double scale)
{
    push_pull((uint64_t)(2000000 * scale));
    req_rep((uint64_t)(100000 * scale));
}
