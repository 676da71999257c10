/* ports.c: free ports of 127.0.0.1 (ports.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/support/ports.h"

#define PAIR_TRIES 100
#define PAIR_LOW   20000
#define PAIR_HIGH  55000

/* Binds a socket to 127.0.0.1:port (0: the kernel's pick) and closes it: the port bound, or 0
 * when the bind failed. */
static uint16_t try_bind(uint16_t port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return 0;
    struct sockaddr_in sa = {
        .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(sa);
    bool ok = bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
              getsockname(fd, (struct sockaddr *)&sa, &len) == 0;
    close(fd);
    return ok ? ntohs(sa.sin_port) : 0;
}

uint16_t support_port_free(void)
{
    uint16_t port = try_bind(0);
    if (port == 0)
        fail_msg("no free port on 127.0.0.1");
    return port;
}

uint16_t support_port_pair(void)
{
    for (int attempt = 0; attempt < PAIR_TRIES; attempt++) {
        uint16_t port = try_bind(0);
        if (port < PAIR_LOW || port > PAIR_HIGH)
            continue;
        if (try_bind((uint16_t)(port + SUPPORT_ACTOR_PORT_OFFSET)) != 0)
            return port;
    }
    fail_msg("no free port pair (P and P + %d) on 127.0.0.1", SUPPORT_ACTOR_PORT_OFFSET);
    return 0;
}
