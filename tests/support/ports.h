/*
 * ports.h: free TCP ports of 127.0.0.1 for the multi-process tests (tests/support/). A daemon of
 * this project serves HTTP on its --port and actor messages on --actor_port, which defaults to
 * the HTTP port + 10000 (mesos-master, mesos-local): a test that starts one without
 * --actor_port needs both free.
 *
 * Ports are drawn at random below the kernel's ephemeral range (ip_local_port_range, 32768 up
 * by default) and below 31000 (the agents' task ports in the tests), never from it: a port the
 * kernel handed out for bind(0) and that was released goes to the next outgoing connection,
 * which in a test is often the daemon's own (an agent dialling its master) just before the
 * daemon listens on that port. Random picks from some 20,000 ports rarely collide between tests
 * running in parallel, and a port found taken is skipped.
 */
#ifndef TESTS_SUPPORT_PORTS_H
#define TESTS_SUPPORT_PORTS_H

#include <stdint.h>

/* Added to a daemon's HTTP port to make its default actor port. */
#define SUPPORT_ACTOR_PORT_OFFSET 10000

/* A port of 127.0.0.1 that nothing is bound to now. Fails the calling cmocka test when 200
 * tries find none. */
uint16_t support_port_free(void);

/* A port P with P and P + SUPPORT_ACTOR_PORT_OFFSET both free (and both below the ephemeral
 * range). Fails the calling cmocka test when 200 tries find none. */
uint16_t support_port_pair(void);

#endif
