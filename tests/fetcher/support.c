/*
 * support.c: the fetcher tests' HTTP server, archives and scratch directories (support.h).
 *
 * The server runs on a libev loop of its own in a thread of its own: the runtime's http_server
 * calls everything on the loop's thread, and the test's thread is blocked inside fetcher_fetch
 * while it answers. Stopping wakes the loop with an ev_async, joins the thread, and only then
 * frees the server from the test's thread.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <ev.h>

#include "actor/http_server.h"
#include "tests/fetcher/support.h"

#define MAX_HELD      16
#define ARCHIVE_SPACE (8u << 20)

struct test_server {
    struct ev_loop *loop;
    ev_async stop;
    http_server_t *http;
    pthread_t thread;
    uint16_t port;
    const test_route_t *routes;
    size_t route_count;
    atomic_size_t requests;
    http_request_t *held[MAX_HELD]; /* stalled streams, ended at stop */
    size_t held_count;
};

static const test_route_t *find_route(const test_server_t *srv, const char *target)
{
    for (size_t i = 0; i < srv->route_count; i++) {
        if (strcmp(srv->routes[i].target, target) == 0)
            return &srv->routes[i];
    }
    return NULL;
}

static void on_stream_closed(http_request_t *req, actor_err_t reason, void *arg)
{
    (void)req;
    (void)reason;
    (void)arg;
}

static void on_request(http_request_t *req, void *arg)
{
    test_server_t *srv = arg;
    atomic_fetch_add(&srv->requests, 1);
    const test_route_t *route = find_route(srv, http_request_target(req));
    http_header_t headers[2];
    http_response_t resp = {.status = 404, .content_type = "text/plain", .headers = headers};
    if (route == NULL) {
        resp.body = "Not Found";
        resp.body_len = 9;
        http_response_send(req, &resp);
        return;
    }
    resp.status = route->status != 0 ? route->status : 200;
    resp.content_type = "application/octet-stream";
    if (route->location != NULL)
        headers[resp.header_count++] = (http_header_t){"Location", route->location};
    if (route->disposition != NULL)
        headers[resp.header_count++] = (http_header_t){"Content-Disposition", route->disposition};
    resp.body = route->body;
    resp.body_len = route->body_len;
    if (!route->stall) {
        http_response_send(req, &resp);
        return;
    }
    resp.body_len = route->body_len > 0 ? 1 : 0;
    if (srv->held_count < MAX_HELD &&
        http_stream_begin(req, &resp, on_stream_closed, srv) == ACTOR_OK)
        srv->held[srv->held_count++] = req;
}

static void on_stop(struct ev_loop *loop, ev_async *w, int revents)
{
    (void)w;
    (void)revents;
    ev_break(loop, EVBREAK_ALL);
}

static void *serve(void *arg)
{
    test_server_t *srv = arg;
    ev_run(srv->loop, 0);
    return NULL;
}

test_server_t *test_server_start(const test_route_t *routes, size_t count)
{
    test_server_t *srv = calloc(1, sizeof(*srv));
    assert_non_null(srv);
    srv->routes = routes;
    srv->route_count = count;
    srv->loop = ev_loop_new(EVFLAG_AUTO | EVFLAG_NOSIGMASK);
    assert_non_null(srv->loop);
    ev_async_init(&srv->stop, on_stop);
    ev_async_start(srv->loop, &srv->stop);
    assert_int_equal(http_server_new(srv->loop, NULL, &srv->http), ACTOR_OK);
    assert_int_equal(http_server_listen(srv->http, "127.0.0.1", 0, on_request, srv, &srv->port),
                     ACTOR_OK);
    assert_int_equal(pthread_create(&srv->thread, NULL, serve, srv), 0);
    return srv;
}

void test_server_stop(test_server_t *srv)
{
    if (srv == NULL)
        return;
    ev_async_send(srv->loop, &srv->stop);
    pthread_join(srv->thread, NULL);
    http_server_free(srv->http);
    for (size_t i = 0; i < srv->held_count; i++)
        http_stream_end(srv->held[i]);
    ev_async_stop(srv->loop, &srv->stop);
    ev_loop_destroy(srv->loop);
    free(srv);
}

uint16_t test_server_port(const test_server_t *srv)
{
    return srv->port;
}

size_t test_server_requests(const test_server_t *srv)
{
    return atomic_load(&((test_server_t *)srv)->requests);
}

const char *test_server_url(const test_server_t *srv, const char *target)
{
    static char urls[8][512];
    static unsigned next;
    char *url = urls[next++ % 8];
    snprintf(url, sizeof(urls[0]), "http://127.0.0.1:%u%s", (unsigned)srv->port, target);
    return url;
}

/* ---- archives ----------------------------------------------------------------------------- */

static void set_format(struct archive *a, const char *format)
{
    if (strcmp(format, "zip") == 0) {
        assert_int_equal(archive_write_set_format_zip(a), ARCHIVE_OK);
        return;
    }
    if (strcmp(format, "gz") == 0) {
        assert_int_equal(archive_write_set_format_raw(a), ARCHIVE_OK);
        assert_int_equal(archive_write_add_filter_gzip(a), ARCHIVE_OK);
        return;
    }
    assert_int_equal(archive_write_set_format_pax_restricted(a), ARCHIVE_OK);
    if (strcmp(format, "tar.gz") == 0)
        assert_int_equal(archive_write_add_filter_gzip(a), ARCHIVE_OK);
    else if (strcmp(format, "tar.bz2") == 0)
        assert_int_equal(archive_write_add_filter_bzip2(a), ARCHIVE_OK);
    else if (strcmp(format, "tar.xz") == 0)
        assert_int_equal(archive_write_add_filter_xz(a), ARCHIVE_OK);
    else
        assert_string_equal(format, "tar");
}

static void add_entry(struct archive *a, const test_entry_t *t)
{
    struct archive_entry *e = archive_entry_new();
    size_t len = t->content != NULL ? strlen(t->content) : 0;
    archive_entry_set_pathname(e, t->path);
    archive_entry_set_mtime(e, 1700000000, 0);
    if (t->dir) {
        archive_entry_set_filetype(e, AE_IFDIR);
        archive_entry_set_perm(e, t->mode != 0 ? t->mode : 0755);
    } else if (t->fifo) {
        archive_entry_set_filetype(e, AE_IFIFO);
        archive_entry_set_perm(e, 0644);
    } else if (t->symlink != NULL) {
        archive_entry_set_filetype(e, AE_IFLNK);
        archive_entry_set_symlink(e, t->symlink);
        archive_entry_set_perm(e, 0777);
    } else {
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_perm(e, t->mode != 0 ? t->mode : 0644);
        if (t->hardlink != NULL)
            archive_entry_set_hardlink(e, t->hardlink);
        else
            archive_entry_set_size(e, (la_int64_t)len);
    }
    assert_true(archive_write_header(a, e) >= ARCHIVE_WARN);
    if (len > 0 && t->hardlink == NULL)
        assert_int_equal(archive_write_data(a, t->content, len), (la_ssize_t)len);
    archive_entry_free(e);
}

void test_archive(const char *format, const test_entry_t *entries, size_t count, void **data,
                  size_t *len)
{
    struct archive *a = archive_write_new();
    assert_non_null(a);
    set_format(a, format);
    char *buf = malloc(ARCHIVE_SPACE);
    assert_non_null(buf);
    size_t used = 0;
    assert_int_equal(archive_write_open_memory(a, buf, ARCHIVE_SPACE, &used), ARCHIVE_OK);
    for (size_t i = 0; i < count; i++)
        add_entry(a, &entries[i]);
    assert_int_equal(archive_write_close(a), ARCHIVE_OK);
    archive_write_free(a);
    *data = buf;
    *len = used;
}

/* ---- files -------------------------------------------------------------------------------- */

char *test_mkdtemp(void)
{
    const char *tmp = getenv("TMPDIR");
    char *path = test_join(tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp", "fetcher-test-XXXXXX");
    assert_non_null(mkdtemp(path));
    return path;
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

void test_rmtree(const char *path)
{
    nftw(path, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

void test_write_file(const char *path, const void *data, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, len), (ssize_t)len);
    close(fd);
}

char *test_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap + 1);
    assert_non_null(buf);
    for (size_t got = fread(buf, 1, cap - n, f); got > 0; got = fread(buf + n, 1, cap - n, f)) {
        n += got;
        if (n == cap) {
            cap *= 2;
            buf = realloc(buf, cap + 1);
            assert_non_null(buf);
        }
    }
    fclose(f);
    buf[n] = '\0';
    if (len != NULL)
        *len = n;
    return buf;
}

char *test_join(const char *dir, const char *name)
{
    char *path = NULL;
    assert_true(asprintf(&path, "%s/%s", dir, name) > 0);
    return path;
}

bool test_exists(const char *dir, const char *name)
{
    char *path = test_join(dir, name);
    struct stat st;
    bool found = lstat(path, &st) == 0;
    free(path);
    return found;
}

size_t test_count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    size_t n = 0;
    for (struct dirent *de = readdir(d); de != NULL; de = readdir(d)) {
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
            n++;
    }
    closedir(d);
    return n;
}

void test_site_open(test_site_t *site, const test_route_t *routes, size_t count)
{
    test_no_proxy();
    site->srv = test_server_start(routes, count);
    site->root = test_mkdtemp();
    site->sandbox = test_join(site->root, "sandbox");
    assert_int_equal(mkdir(site->sandbox, 0755), 0);
}

void test_site_close(test_site_t *site)
{
    test_server_stop(site->srv);
    test_rmtree(site->root);
    free(site->root);
    free(site->sandbox);
    memset(site, 0, sizeof(*site));
}

void test_assert_file(const char *dir, const char *name, const void *content, size_t len)
{
    char *path = test_join(dir, name);
    size_t got_len = 0;
    char *got = test_read_file(path, &got_len);
    if (got == NULL)
        fail_msg("%s: no such file", path);
    assert_int_equal(got_len, len);
    assert_memory_equal(got, content, len);
    free(got);
    free(path);
}

mode_t test_mode(const char *dir, const char *name)
{
    char *path = test_join(dir, name);
    struct stat st;
    if (lstat(path, &st) != 0)
        fail_msg("%s: no such file", path);
    free(path);
    return st.st_mode;
}

void test_no_proxy(void)
{
    static const char *const names[] = {"http_proxy", "https_proxy", "HTTPS_PROXY",
                                        "all_proxy",  "ALL_PROXY",   "HTTP_PROXY"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        unsetenv(names[i]);
}
