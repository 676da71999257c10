/* support.c: the shared fixture of tests/marathon/health/; see support.h. */
#include "tests/marathon/health/support.h"

#include "actor/clock.h"
#include "actor/http.h"

int health_support_start(const actor_ops_t *web_ops, const actor_ops_t *owner_ops,
                         actor_pid_t *owner_pid, uint16_t *web_port)
{
    actor_runtime_options_t opts = {.workers = 0, .port = -1};
    if (actor_runtime_start(&opts) != ACTOR_OK)
        return -1;
    actor_clock_pause();
    actor_pid_t web;
    if (actor_spawn(web_ops, "web", NULL, &web) != ACTOR_OK ||
        actor_spawn(owner_ops, "owner", NULL, owner_pid) != ACTOR_OK)
        return -1;
    actor_settle();
    return actor_http_listen("127.0.0.1", 0, "web", web_port) == ACTOR_OK ? 0 : -1;
}
