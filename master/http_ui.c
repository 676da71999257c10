/*
 * http_ui.c: the master's web UI at "/" (and "/master/"), its files under "/ui/": the page of
 * ui/master/, compiled in (ui/assets.h). The page reads the cluster from /state once and then
 * follows the operator event stream (POST /api/v1 SUBSCRIBE); sandbox files come from /files.
 */
#include "master/master_int.h"
#include "ui/assets.h"

void master_http_ui(actor_t *self, void *state, actor_http_request_t *req)
{
    (void)self, (void)state;
    ui_assets_serve(&ui_master_assets, req);
}
