/* Tests of ports.c: the ports handed out are free (a socket binds them), and a pair's actor port
 * (+10000) too; all of them below the kernel's ephemeral range, where outgoing connections
 * would take them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/support/ports.h"

static bool bindable(uint16_t port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa = {
        .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    bool ok = fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
    close(fd);
    return ok;
}

static void test_free_port(void **state)
{
    (void)state;
    for (int i = 0; i < 20; i++) {
        uint16_t port = support_port_free();
        assert_in_range(port, 10000, 30999);
        assert_true(bindable(port));
    }
}

static void test_pair(void **state)
{
    (void)state;
    for (int i = 0; i < 5; i++) {
        uint16_t port = support_port_pair();
        assert_in_range(port, 10000, 30999 - SUPPORT_ACTOR_PORT_OFFSET);
        assert_true(bindable(port));
        assert_true(bindable((uint16_t)(port + SUPPORT_ACTOR_PORT_OFFSET)));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_free_port),
        cmocka_unit_test(test_pair),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
