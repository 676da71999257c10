/*
 * web.h: one actor serving HTTP on a free port of 127.0.0.1 in the test process
 * (tests/support/), for tests of an actor's endpoints (tests/ui/test_assets.c) and for tests
 * whose daemons fetch from the test (tests/marathon/e2e/test_seed.c serves an app's script). The
 * runtime runs with one worker and no actor transport: only HTTP leaves the process.
 */
#ifndef TESTS_SUPPORT_WEB_H
#define TESTS_SUPPORT_WEB_H

#include <stdbool.h>
#include <stdint.h>

#include "actor/actor.h"

/* An actor serving HTTP. */
typedef struct support_web {
    actor_pid_t pid; /* the actor */
    uint16_t port;   /* its port on 127.0.0.1 */
} support_web_t;

/* Starts the runtime, spawns an actor of ops with id (its init installs its routes; it runs
 * before this returns) and serves HTTP on a free port of 127.0.0.1, with the actor at "/" when
 * root, else only under "/<id>/". Returns the new web (free with support_web_stop), or NULL with
 * the reason on stderr, after stopping what it started. Blocks until the port is bound. */
support_web_t *support_web_start(const actor_ops_t *ops, const char *id, bool root);

/* Stops the runtime, and with it the actor and the port, and frees web (NULL: nothing to do).
 * Cannot fail. */
void support_web_stop(support_web_t *web);

/* cmocka fixtures for cmocka_unit_test_prestate_setup_teardown with the actor's ops as the
 * prestate: the setup replaces *state with support_web_start(ops, ops->name, true) (-1 when it
 * fails), the teardown stops it. */
int support_web_setup(void **state);
int support_web_teardown(void **state);

#endif
