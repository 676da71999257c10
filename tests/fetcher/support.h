/*
 * support.h: what the fetcher's tests share: an HTTP server on 127.0.0.1 run by a thread of the
 * test (the runtime's http_server on a libev loop of its own, since fetcher_fetch blocks the
 * test's thread), archives built with libarchive's write API, and scratch directories.
 */
#ifndef TESTS_FETCHER_SUPPORT_H
#define TESTS_FETCHER_SUPPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* One answer of the test server, chosen by the request target (path and query) exactly. */
typedef struct test_route {
    const char *target; /* "/file.txt", "/?plain" */
    int status;         /* 0 = 200 */
    const void *body;   /* borrowed: must outlive the server */
    size_t body_len;
    const char *location;    /* a Location header (redirects) */
    const char *disposition; /* a Content-Disposition header */
    bool stall;              /* send the headers and the first byte of body, then nothing */
} test_route_t;

typedef struct test_server test_server_t;

/* Starts a server on 127.0.0.1 (any free port) answering routes (borrowed) and 404 for other
 * targets. Fails the test if it cannot. */
test_server_t *test_server_start(const test_route_t *routes, size_t count);

/* Stops the server and its thread, closes every connection and frees it. NULL is ignored. */
void test_server_stop(test_server_t *srv);

uint16_t test_server_port(const test_server_t *srv);

/* Requests answered so far (any route). */
size_t test_server_requests(const test_server_t *srv);

/* "http://127.0.0.1:<port><target>" into a static buffer of its own (one per call site
 * rotation of 8). */
const char *test_server_url(const test_server_t *srv, const char *target);

/* An archive entry: a file (content), a directory (dir), a symbolic link (symlink), a hard link
 * (hardlink) or a fifo (fifo) at path. */
typedef struct test_entry {
    const char *path;
    const char *content;
    mode_t mode; /* 0 = 0644 (0755 for directories) */
    bool dir;
    const char *symlink;
    const char *hardlink;
    bool fifo;
} test_entry_t;

/* Builds an archive in memory: format "tar", "tar.gz", "tar.bz2", "tar.xz", "zip" or "gz" (one
 * raw gzip stream of entries[0].content). *data is malloc'd. Fails the test if it cannot. */
void test_archive(const char *format, const test_entry_t *entries, size_t count, void **data,
                  size_t *len);

/* A test's world: its server, a scratch directory and an empty sandbox in it. */
typedef struct test_site {
    test_server_t *srv; /* NULL once the test stopped it */
    char *root;         /* a new directory under $TMPDIR, removed by test_site_close */
    char *sandbox;      /* root/sandbox */
} test_site_t;

/* Clears the proxy variables, starts a server with routes (borrowed) and makes the directories.
 * Fails the test if it cannot. */
void test_site_open(test_site_t *site, const test_route_t *routes, size_t count);

/* Stops the server (if still running), removes the directories and frees the paths. */
void test_site_close(test_site_t *site);

/* Fails the test unless dir/name holds exactly len bytes of content. */
void test_assert_file(const char *dir, const char *name, const void *content, size_t len);

/* The lstat mode of dir/name, failing the test if there is none. */
mode_t test_mode(const char *dir, const char *name);

/* A new empty directory under $TMPDIR (or /tmp), malloc'd path. */
char *test_mkdtemp(void);

/* rm -rf path. */
void test_rmtree(const char *path);

/* Writes len bytes to path (0644), failing the test if it cannot. */
void test_write_file(const char *path, const void *data, size_t len);

/* Reads a whole file into a malloc'd NUL-terminated buffer (*len may be NULL), or NULL. */
char *test_read_file(const char *path, size_t *len);

/* "dir/name" into a malloc'd string. */
char *test_join(const char *dir, const char *name);

/* True if dir/name exists (lstat). */
bool test_exists(const char *dir, const char *name);

/* Number of entries in dir besides "." and "..". */
size_t test_count_entries(const char *dir);

/* Removes the proxy variables, so that libcurl goes straight to 127.0.0.1. */
void test_no_proxy(void);

#endif
