/*
 * assets.h: the web UIs' static files, compiled into the binaries, and the code that serves them.
 *
 * The build (cmake/EmbedAssets.cmake) turns each UI's folder (ui/master/, ui/marathon/, with
 * ui/common/ under both) into one ui_asset_table_t: every file with its path below the UI's root,
 * its Content-Type and a strong ETag. The master (master/http_ui.c) and Marathon
 * (frameworks/marathon/api_ui.c) route "/" and "/ui/..." to ui_assets_serve(), which answers
 * from the table: no file is read at run time and nothing is fetched from the network.
 *
 * Caching: every answer carries its ETag and "Cache-Control: no-cache", so a browser keeps the
 * file and revalidates it on each load, getting a bodiless 304 while it is unchanged; a new
 * build changes the ETag of exactly the files that changed.
 */
#ifndef UI_ASSETS_H
#define UI_ASSETS_H

#include <stddef.h>

#include "actor/http.h"

typedef struct ui_asset {
    const char *path;          /* below the UI's root, with a leading '/': "/index.html" */
    const char *content_type;  /* "text/javascript; charset=utf-8", by extension */
    const char *etag;          /* quoted, as sent: "\"3f2a...\"" */
    const unsigned char *data; /* len bytes, then a NUL */
    size_t len;
} ui_asset_t;

typedef struct ui_asset_table {
    const ui_asset_t *assets;
    size_t count;
} ui_asset_table_t;

/* The master's UI (ui/master/ and ui/common/) and Marathon's (ui/marathon/ and ui/common/), each
 * defined by its generated library (master_ui, marathon_ui). */
extern const ui_asset_table_t ui_master_assets;
extern const ui_asset_table_t ui_marathon_assets;

/* The asset of table at path ("/app.js"; "" and "/" mean "/index.html"), or NULL. A path with a
 * query string or a fragment is not stripped: pass the path alone. Cannot fail otherwise. */
const ui_asset_t *ui_asset_find(const ui_asset_table_t *table, const char *path);

/* The path below the UI's root that a request for request_path asks for: "/" for "/" and
 * "/index.html", "/x.js" for "/ui/x.js"; NULL when request_path is neither "/" nor under
 * "/ui/". The result points into request_path. */
const char *ui_asset_path(const char *request_path);

/* Answers req (a GET or HEAD, inside the handler of the actor that received it) with the asset
 * that its path names, as ui_asset_path() maps it: 200 with the bytes, 304 with no body when its
 * If-None-Match names the asset's ETag, 404 with a plain-text message when there is no such
 * asset. req is consumed. */
void ui_assets_serve(const ui_asset_table_t *table, actor_http_request_t *req);

#endif
