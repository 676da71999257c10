/*
 * support.h: the fixture the tests of tests/marathon/health/ share: the runtime in the test
 * process with a web server actor and an owner actor, for the health checker (test_health.c) and
 * the HTTP client (test_http_client.c) that the owner holds.
 */
#ifndef TESTS_MARATHON_HEALTH_SUPPORT_H
#define TESTS_MARATHON_HEALTH_SUPPORT_H

#include <stdint.h>

#include "actor/actor.h"

/* Starts the runtime without workers (the actors run in this thread, inside actor_settle()) and
 * without transport, pauses its clock, spawns an actor of web_ops as "web", serving HTTP at the
 * root of a free port of 127.0.0.1 (*web_port), and one of owner_ops as "owner" (*owner_pid),
 * and settles. Returns 0, or -1 for a cmocka setup to fail with; actor_runtime_stop() ends it
 * all in either case. */
int health_support_start(const actor_ops_t *web_ops, const actor_ops_t *owner_ops,
                         actor_pid_t *owner_pid, uint16_t *web_port);

#endif
