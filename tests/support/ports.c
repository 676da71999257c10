/* ports.c: free ports of 127.0.0.1 (ports.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/support/ports.h"

#define TRIES     200
#define PORT_LOW  10000
#define PORT_HIGH 30999 /* the tests' agents offer task ports from 31000 */

/* Binds a socket to 127.0.0.1:port and closes it: whether the bind worked. */
static bool try_bind(uint16_t port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return false;
    struct sockaddr_in sa = {
        .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    bool ok = bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
    close(fd);
    return ok;
}

/* The highest port to pick: below the kernel's ephemeral range and PORT_HIGH. */
static unsigned port_high(void)
{
    unsigned low = 32768, high = 60999;
    FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r");
    if (f != NULL) {
        if (fscanf(f, "%u %u", &low, &high) != 2)
            low = 32768;
        fclose(f);
    }
    return low - 1 < PORT_HIGH ? low - 1 : PORT_HIGH;
}

/* A random port in [PORT_LOW, high] for which ok(port) holds, or 0 after TRIES picks. */
static uint16_t pick(unsigned high, bool (*ok)(uint16_t port))
{
    static unsigned seed;
    if (seed == 0)
        seed = (unsigned)getpid() ^ (unsigned)time(NULL);
    if (high <= PORT_LOW)
        return 0;
    for (int attempt = 0; attempt < TRIES; attempt++) {
        uint16_t port = (uint16_t)(PORT_LOW + (unsigned)rand_r(&seed) % (high - PORT_LOW + 1));
        if (ok(port))
            return port;
    }
    return 0;
}

static bool pair_free(uint16_t port)
{
    return try_bind(port) && try_bind((uint16_t)(port + SUPPORT_ACTOR_PORT_OFFSET));
}

uint16_t support_port_free(void)
{
    uint16_t port = pick(port_high(), try_bind);
    if (port == 0)
        fail_msg("no free port on 127.0.0.1 below the ephemeral range");
    return port;
}

uint16_t support_port_pair(void)
{
    uint16_t port = pick(port_high() - SUPPORT_ACTOR_PORT_OFFSET, pair_free);
    if (port == 0)
        fail_msg("no free port pair (P and P + %d) on 127.0.0.1", SUPPORT_ACTOR_PORT_OFFSET);
    return port;
}
