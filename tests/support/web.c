/* web.c: an actor's endpoints on a free port (web.h). */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include "actor/http.h"
#include "tests/support/web.h"

support_web_t *support_web_start(const actor_ops_t *ops, const char *id, bool root)
{
    support_web_t *web = calloc(1, sizeof(*web));
    if (web == NULL)
        return NULL;
    actor_runtime_options_t opts;
    actor_runtime_options_init(&opts);
    opts.workers = 1;
    opts.port = -1;
    actor_err_t rc = actor_runtime_start(&opts);
    if (rc != ACTOR_OK)
        goto fail_free;
    rc = actor_spawn(ops, id, NULL, &web->pid);
    if (rc != ACTOR_OK)
        goto fail_stop_runtime;
    actor_settle();
    rc = actor_http_listen("127.0.0.1", 0, root ? id : NULL, &web->port);
    if (rc != ACTOR_OK)
        goto fail_stop_runtime;
    return web;

fail_stop_runtime:
    actor_runtime_stop();
fail_free:
    fprintf(stderr, "cannot serve %s over HTTP: %s\n", id, actor_strerror(rc));
    free(web);
    return NULL;
}

int support_web_setup(void **state)
{
    const actor_ops_t *ops = *state;
    *state = support_web_start(ops, ops->name, true);
    return *state != NULL ? 0 : -1;
}

int support_web_teardown(void **state)
{
    support_web_stop(*state);
    return 0;
}

void support_web_stop(support_web_t *web)
{
    if (web == NULL)
        return;
    actor_runtime_stop();
    free(web);
}
