/*
 * ports.h: free TCP ports of 127.0.0.1 for the multi-process tests (tests/support/). A daemon of
 * this project serves HTTP on its --port and actor messages on --actor_port, which defaults to
 * the HTTP port + 10000 (mesos-master, mesos-local): a test that starts one without
 * --actor_port needs both free. The kernel picks the port (bind to port 0), so parallel tests do
 * not collide; a port is free when asked, and a process started right after binds it.
 */
#ifndef TESTS_SUPPORT_PORTS_H
#define TESTS_SUPPORT_PORTS_H

#include <stdint.h>

/* Added to a daemon's HTTP port to make its default actor port. */
#define SUPPORT_ACTOR_PORT_OFFSET 10000

/* A port of 127.0.0.1 that nothing listens on now. Fails the calling cmocka test when the
 * kernel gives none. */
uint16_t support_port_free(void);

/* A port P from 20000 to 55000 with P and P + SUPPORT_ACTOR_PORT_OFFSET both free. Fails the
 * calling cmocka test when 100 tries find none. */
uint16_t support_port_pair(void);

#endif
