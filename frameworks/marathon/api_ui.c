/*
 * api_ui.c: Marathon's web UI at "/", its files under "/ui/": the page of ui/marathon/, compiled
 * in (ui/assets.h). The page follows /v2/events (server-sent events) and changes apps through
 * the REST API.
 */
#include "frameworks/marathon/api.h"
#include "ui/assets.h"

void marathon_api_ui(actor_t *self, void *state, actor_http_request_t *req)
{
    (void)self, (void)state;
    ui_assets_serve(&ui_marathon_assets, req);
}
