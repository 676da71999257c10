/* ui/assets.c and cmake/EmbedAssets.cmake: the embedded table of tests/ui/fixture/ (base, then
 * override) byte for byte, the UIs' own tables, and the answers ui_assets_serve() gives over a
 * real HTTP port: 200 with Content-Type, ETag and Cache-Control, 304 on a matching
 * If-None-Match, 404 for a missing file, HEAD, and 405 for another method. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <curl/curl.h>

#include "actor/actor.h"
#include "actor/http.h"
#include "tests/support/web.h"
#include "ui/assets.h"

extern const ui_asset_table_t ui_test_assets;

/* ---- the tables ---- */

static void test_paths(void **state)
{
    (void)state;
    assert_string_equal(ui_asset_path("/"), "/");
    assert_string_equal(ui_asset_path("/index.html"), "/index.html");
    assert_string_equal(ui_asset_path("/ui/app.js"), "/app.js");
    assert_string_equal(ui_asset_path("/ui/sub/b.html"), "/sub/b.html");
    assert_null(ui_asset_path("/ui"));
    assert_null(ui_asset_path("/state"));
    assert_null(ui_asset_path("/uix/app.js"));
    assert_null(ui_asset_path(""));
    assert_null(ui_asset_path(NULL));
}

static void test_fixture_table(void **state)
{
    (void)state;
    const ui_asset_table_t *t = &ui_test_assets;
    /* index.html, a.txt (overridden), app.js, empty.txt, s.css, sub/b.html, sub/bytes.bin,
     * c.json; never .hidden */
    assert_int_equal(t->count, 8);
    assert_null(ui_asset_find(t, "/.hidden"));

    const ui_asset_t *a = ui_asset_find(t, "/a.txt");
    assert_non_null(a);
    assert_int_equal(a->len, strlen("override a\n"));
    assert_memory_equal(a->data, "override a\n", a->len);
    assert_string_equal(a->content_type, "text/plain; charset=utf-8");

    const unsigned char bytes[] = {0, 1, 2, 0x7f, 0x80, 0xfe, 0xff, 0};
    const ui_asset_t *b = ui_asset_find(t, "/sub/bytes.bin");
    assert_non_null(b);
    assert_int_equal(b->len, sizeof(bytes));
    assert_memory_equal(b->data, bytes, sizeof(bytes));
    assert_string_equal(b->content_type, "application/octet-stream");

    const ui_asset_t *e = ui_asset_find(t, "/empty.txt");
    assert_non_null(e);
    assert_int_equal(e->len, 0);
    assert_int_equal(e->data[0], 0);

    assert_string_equal(ui_asset_find(t, "/sub/b.html")->content_type, "text/html; charset=utf-8");
    assert_string_equal(ui_asset_find(t, "/s.css")->content_type, "text/css; charset=utf-8");
    assert_string_equal(ui_asset_find(t, "/app.js")->content_type,
                        "text/javascript; charset=utf-8");
    assert_string_equal(ui_asset_find(t, "/c.json")->content_type, "application/json");
    assert_ptr_equal(ui_asset_find(t, "/"), ui_asset_find(t, "/index.html"));
    assert_ptr_equal(ui_asset_find(t, ""), ui_asset_find(t, "/index.html"));
    assert_null(ui_asset_find(t, "/missing"));
    assert_null(ui_asset_find(NULL, "/a.txt"));
    assert_null(ui_asset_find(t, NULL));

    /* ETags: quoted, 20 hex digits, and different for different bytes. */
    assert_int_equal(strlen(a->etag), 22);
    assert_int_equal(a->etag[0], '"');
    assert_int_equal(a->etag[21], '"');
    assert_string_not_equal(a->etag, b->etag);
}

/* Every UI page is the common shell loading its own app.js, which names the page. */
static void check_ui_table(const ui_asset_table_t *t, const char *name)
{
    const ui_asset_t *index = ui_asset_find(t, "/");
    assert_non_null(index);
    assert_string_equal(index->content_type, "text/html; charset=utf-8");
    const char *refs[] = {"ui/common.css", "ui/common.js", "ui/app.js"};
    for (size_t i = 0; i < sizeof(refs) / sizeof(refs[0]); i++) {
        char needle[64];
        snprintf(needle, sizeof(needle), "\"%s\"", refs[i]);
        assert_non_null(strstr((const char *)index->data, needle));
        assert_non_null(ui_asset_find(t, refs[i] + 2));
    }
    const ui_asset_t *app = ui_asset_find(t, "/app.js");
    assert_string_equal(app->content_type, "text/javascript; charset=utf-8");
    char shell[64];
    snprintf(shell, sizeof(shell), "UI.shell(\"%s\"", name);
    assert_non_null(strstr((const char *)app->data, shell));
}

static void test_ui_tables(void **state)
{
    (void)state;
    check_ui_table(&ui_master_assets, "Mesos");
    check_ui_table(&ui_marathon_assets, "Marathon");
}

/* ---- serving ---- */

static void on_ui(actor_t *self, void *state, actor_http_request_t *req)
{
    (void)self, (void)state;
    ui_assets_serve(&ui_test_assets, req);
}

static const actor_http_route_t routes[] = {
    {"/", "GET", on_ui},
    {"/ui/*", "GET", on_ui},
};

static void web_init(actor_t *self, void *state, void *arg)
{
    (void)state, (void)arg;
    actor_http_install(self, routes, sizeof(routes) / sizeof(routes[0]));
}

static const actor_ops_t web_ops = {.name = "web", .init = web_init};

typedef struct answer {
    char text[16384]; /* the status line and headers, a blank line, then the body */
    size_t len;
} answer_t;

static size_t collect(char *data, size_t size, size_t n, void *arg)
{
    answer_t *a = arg;
    size_t room = sizeof(a->text) - 1 - a->len, take = size * n < room ? size * n : room;
    memcpy(a->text + a->len, data, take);
    a->len += take;
    a->text[a->len] = '\0';
    return size * n;
}

/* One request through libcurl (method, path, and an extra header line or NULL); the answer as
 * it came, headers first, in a static buffer. */
static const char *get(uint16_t port, const char *method, const char *path, const char *header)
{
    static answer_t a;
    a.len = 0;
    a.text[0] = '\0';
    char url[256];
    snprintf(url, sizeof(url), "http://127.0.0.1:%u%s", port, path);
    CURL *curl = curl_easy_init();
    assert_non_null(curl);
    struct curl_slist *headers = header != NULL ? curl_slist_append(NULL, header) : NULL;
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    if (strcmp(method, "HEAD") == 0)
        curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
    else
        curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(curl, CURLOPT_PATH_AS_IS, 1L); /* "/ui/../a.txt" reaches the server */
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, collect);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, &a);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &a);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 10L);
    assert_int_equal(curl_easy_perform(curl), CURLE_OK);
    curl_slist_free_all(headers);
    curl_easy_cleanup(curl);
    return a.text;
}

static void test_serve_ok(void **state)
{
    support_web_t *fx = *state;
    const ui_asset_t *index = ui_asset_find(&ui_test_assets, "/index.html");
    const char *a = get(fx->port, "GET", "/", NULL);
    assert_non_null(strstr(a, "HTTP/1.1 200"));
    assert_non_null(strstr(a, "Content-Type: text/html; charset=utf-8\r\n"));
    assert_non_null(strstr(a, "Cache-Control: no-cache\r\n"));
    char etag[64];
    snprintf(etag, sizeof(etag), "ETag: %s\r\n", index->etag);
    assert_non_null(strstr(a, etag));
    assert_non_null(strstr(a, "\r\n\r\n<h1>fixture</h1>\n"));

    a = get(fx->port, "GET", "/ui/sub/b.html?x=1", NULL);
    assert_non_null(strstr(a, "HTTP/1.1 200"));
    assert_non_null(strstr(a, "\r\n\r\n<p>b</p>\n"));

    /* Binary bytes come through whole, NULs included. */
    a = get(fx->port, "GET", "/ui/sub/bytes.bin", NULL);
    assert_non_null(strstr(a, "Content-Length: 8\r\n"));
    const char *body = strstr(a, "\r\n\r\n") + 4;
    assert_memory_equal(body, "\x00\x01\x02\x7f\x80\xfe\xff\x00", 8);

    a = get(fx->port, "HEAD", "/ui/a.txt", NULL);
    assert_non_null(strstr(a, "HTTP/1.1 200"));
    assert_non_null(strstr(a, "Content-Length: 11\r\n"));
    assert_null(strstr(a, "override"));
}

static void test_serve_not_modified(void **state)
{
    support_web_t *fx = *state;
    const ui_asset_t *js = ui_asset_find(&ui_test_assets, "/app.js");
    char header[128];
    const char *forms[] = {"%s", "\"other\", %s", "W/%s", "\"a\",W/%s ,\"b\""};
    for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
        char value[96];
        snprintf(value, sizeof(value), forms[i], js->etag);
        snprintf(header, sizeof(header), "If-None-Match: %s", value);
        const char *a = get(fx->port, "GET", "/ui/app.js", header);
        assert_non_null(strstr(a, "HTTP/1.1 304"));
        assert_non_null(strstr(a, js->etag));
        assert_null(strstr(a, "Content-Length: 1\r\n"));
    }
    const char *a = get(fx->port, "GET", "/ui/app.js", "If-None-Match: *");
    assert_non_null(strstr(a, "HTTP/1.1 304"));

    /* Another ETag, or a prefix of this one, gets the file. */
    a = get(fx->port, "GET", "/ui/app.js", "If-None-Match: \"0000\"");
    assert_non_null(strstr(a, "HTTP/1.1 200"));
    snprintf(header, sizeof(header), "If-None-Match: %.*s", (int)strlen(js->etag) - 2, js->etag);
    a = get(fx->port, "GET", "/ui/app.js", header);
    assert_non_null(strstr(a, "HTTP/1.1 200"));
    assert_non_null(strstr(a, "\r\n\r\nx"));
}

static void test_serve_errors(void **state)
{
    support_web_t *fx = *state;
    const char *a = get(fx->port, "GET", "/ui/missing.js", NULL);
    assert_non_null(strstr(a, "HTTP/1.1 404"));
    assert_non_null(strstr(a, "No web UI file at '/ui/missing.js'"));
    a = get(fx->port, "GET", "/ui/.hidden", NULL);
    assert_non_null(strstr(a, "HTTP/1.1 404"));
    a = get(fx->port, "GET", "/ui/../a.txt", NULL);
    assert_null(strstr(a, "HTTP/1.1 200"));
    a = get(fx->port, "POST", "/", NULL);
    assert_non_null(strstr(a, "HTTP/1.1 405"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_paths),
        cmocka_unit_test(test_fixture_table),
        cmocka_unit_test(test_ui_tables),
        cmocka_unit_test_prestate_setup_teardown(test_serve_ok, support_web_setup,
                                                 support_web_teardown, (void *)&web_ops),
        cmocka_unit_test_prestate_setup_teardown(test_serve_not_modified, support_web_setup,
                                                 support_web_teardown, (void *)&web_ops),
        cmocka_unit_test_prestate_setup_teardown(test_serve_errors, support_web_setup,
                                                 support_web_teardown, (void *)&web_ops),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
