/*
 * assets.c: answers requests for the web UIs' embedded files (see assets.h).
 */
#include <string.h>

#include "ui/assets.h"

const ui_asset_t *ui_asset_find(const ui_asset_table_t *table, const char *path)
{
    if (table == NULL || path == NULL)
        return NULL;
    if (path[0] == '\0' || strcmp(path, "/") == 0)
        path = "/index.html";
    for (size_t i = 0; i < table->count; i++) {
        if (strcmp(table->assets[i].path, path) == 0)
            return &table->assets[i];
    }
    return NULL;
}

const char *ui_asset_path(const char *request_path)
{
    if (request_path == NULL)
        return NULL;
    if (strcmp(request_path, "/") == 0 || strcmp(request_path, "/index.html") == 0)
        return request_path;
    if (strncmp(request_path, "/ui/", 4) == 0)
        return request_path + 3;
    return NULL;
}

/* Whether an If-None-Match header value names etag: "*", or one of a comma-separated list
 * (a weak "W/" form matches too, as RFC 7232 compares weakly for GET). */
static bool etag_matches(const char *header, const char *etag)
{
    if (header == NULL)
        return false;
    size_t n = strlen(etag);
    for (const char *p = header; *p != '\0';) {
        while (*p == ' ' || *p == ',')
            p++;
        if (*p == '*')
            return true;
        if (strncmp(p, "W/", 2) == 0)
            p += 2;
        if (strncmp(p, etag, n) == 0 && (p[n] == '\0' || p[n] == ',' || p[n] == ' '))
            return true;
        while (*p != '\0' && *p != ',')
            p++;
    }
    return false;
}

void ui_assets_serve(const ui_asset_table_t *table, actor_http_request_t *req)
{
    const char *path = ui_asset_path(actor_http_path(req));
    const ui_asset_t *a = ui_asset_find(table, path);
    if (a == NULL) {
        actor_http_respond_text(req, 404, "No web UI file at '%s'\n", actor_http_path(req));
        return;
    }
    const http_header_t headers[] = {
        {"ETag", a->etag},
        {"Cache-Control", "no-cache"},
        {"X-Content-Type-Options", "nosniff"},
    };
    size_t count = sizeof(headers) / sizeof(headers[0]);
    if (etag_matches(actor_http_header(req, "If-None-Match"), a->etag)) {
        actor_http_respond(req, 304, a->content_type, headers, count, "", 0);
        return;
    }
    actor_http_respond(req, 200, a->content_type, headers, count, a->data, a->len);
}
