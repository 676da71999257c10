/* Tests of files.h: the "files" actor's /files/browse, /files/read, /files/download and
 * /files/debug through real HTTP (libcurl on 127.0.0.1), on a sandbox laid out as the agent
 * lays it out, with every error answer; attaching, detaching, the "runs/latest" name, and
 * symbolic links and ".." that try to leave an attachment. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <fcntl.h>
#include <pwd.h>
#include <grp.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <jansson.h>

#include "actor/actor.h"
#include "actor/http.h"
#include "slave/files/files.h"
#include "slave/files/rmtree.h"

/* ---- fixture: a runtime with an HTTP port, the files actor and a sandbox ---- */

typedef struct fixture {
    uint16_t port;
    actor_pid_t files;
    char root[64];      /* the temporary directory holding everything */
    char run[PATH_MAX]; /* <root>/slaves/S/frameworks/F/executors/E/runs/C1: the sandbox */
    char latest[PATH_MAX];
} fixture_t;

static void write_file(const char *dir, const char *name, const char *data, size_t len)
{
    char path[PATH_MAX + 64];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, len), (ssize_t)len);
    assert_int_equal(fchmod(fd, 0644), 0);
    close(fd);
}

static void make_dir(const char *path)
{
    char buf[PATH_MAX];
    snprintf(buf, sizeof(buf), "%s", path);
    for (char *p = buf + 1; *p != '\0'; p++) {
        if (*p == '/') {
            *p = '\0';
            mkdir(buf, 0755);
            *p = '/';
        }
    }
    assert_int_equal(mkdir(buf, 0755) == 0 || access(buf, F_OK) == 0, 1);
    assert_int_equal(chmod(buf, 0755), 0);
}

static void make_link(const char *target, const char *dir, const char *name)
{
    char path[PATH_MAX + 64];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    assert_int_equal(symlink(target, path), 0);
}

/* The sandbox: stdout, stderr, data.json, a "my file.txt", a subdirectory, a file of three
 * read pages, a FIFO, a link inside, a link outside and a dangling link; and beside it
 * (outside) a secret, and a sibling "<run>x" whose name extends the sandbox's. */
static void make_sandbox(fixture_t *fx)
{
    snprintf(fx->root, sizeof(fx->root), "/tmp/files-test-XXXXXX");
    assert_non_null(mkdtemp(fx->root));
    snprintf(fx->run, sizeof(fx->run), "%s/slaves/S/frameworks/F/executors/E/runs/C1", fx->root);
    snprintf(fx->latest, sizeof(fx->latest), "%s/slaves/S/frameworks/F/executors/E/runs/latest",
             fx->root);
    make_dir(fx->run);
    write_file(fx->run, "stdout", "hello world\n", 12);
    write_file(fx->run, "stderr", "", 0);
    write_file(fx->run, "data.json", "{\"a\":1}", 7);
    write_file(fx->run, "my file.txt", "spaced", 6);
    char sub[PATH_MAX + 8];
    snprintf(sub, sizeof(sub), "%s/sub", fx->run);
    make_dir(sub);
    write_file(sub, "inner", "in", 2);
    size_t big = FILES_READ_MAX * 3;
    char *data = malloc(big);
    for (size_t i = 0; i < big; i++)
        data[i] = (char)('a' + i % 26);
    write_file(fx->run, "big", data, big);
    free(data);
    char fifo[PATH_MAX + 8];
    snprintf(fifo, sizeof(fifo), "%s/fifo", fx->run);
    assert_int_equal(mkfifo(fifo, 0644), 0);
    write_file(fx->root, "secret", "top secret", 10);
    make_link("stdout", fx->run, "link_in");
    make_link("../../../../../../../../secret", fx->run, "link_out");
    make_link("nowhere", fx->run, "dangling");
    char sibling[PATH_MAX + 8];
    snprintf(sibling, sizeof(sibling), "%sx", fx->run);
    make_dir(sibling);
    write_file(sibling, "private", "sibling", 7);
    make_link("../C1x/private", fx->run, "link_sibling");
}

static int setup(void **state)
{
    fixture_t *fx = calloc(1, sizeof(*fx));
    actor_runtime_options_t opts = {.workers = 1, .port = -1}; /* no transport */
    if (actor_runtime_start(&opts) != ACTOR_OK || files_spawn(&fx->files) != ACTOR_OK)
        return -1;
    if (actor_http_listen("127.0.0.1", 0, NULL, &fx->port) != ACTOR_OK)
        return -1;
    make_sandbox(fx);
    assert_int_equal(files_attach_sandbox(&fx->files, fx->run), ACTOR_OK);
    actor_settle();
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *fx = *state;
    actor_runtime_stop();
    assert_int_equal(rmtree(fx->root, NULL, NULL, NULL, 0), ACTOR_OK);
    free(fx);
    return 0;
}

/* ---- the HTTP client ---- */

typedef struct response {
    long status;
    char *body; /* NUL-terminated */
    size_t len;
    char content_type[128];
    char disposition[256];
} response_t;

static size_t on_body(char *data, size_t size, size_t n, void *arg)
{
    response_t *r = arg;
    r->body = realloc(r->body, r->len + size * n + 1);
    memcpy(r->body + r->len, data, size * n);
    r->len += size * n;
    r->body[r->len] = '\0';
    return size * n;
}

static void header_value(const char *line, size_t len, const char *name, char *out, size_t cap)
{
    size_t n = strlen(name);
    if (len <= n || strncasecmp(line, name, n) != 0)
        return;
    const char *v = line + n;
    size_t vlen = len - n;
    while (vlen > 0 && (v[vlen - 1] == '\r' || v[vlen - 1] == '\n'))
        vlen--;
    snprintf(out, cap, "%.*s", (int)vlen, v);
}

static size_t on_header(char *line, size_t size, size_t n, void *arg)
{
    response_t *r = arg;
    header_value(line, size * n, "Content-Type: ", r->content_type, sizeof(r->content_type));
    header_value(line, size * n, "Content-Disposition: ", r->disposition, sizeof(r->disposition));
    return size * n;
}

/* GETs /files/<endpoint>?path=<path, escaped><extra> (path NULL: no path parameter). */
static response_t get(const fixture_t *fx, const char *endpoint, const char *path,
                      const char *extra)
{
    response_t r = {0};
    r.body = calloc(1, 1);
    CURL *curl = curl_easy_init();
    char *escaped = path != NULL ? curl_easy_escape(curl, path, 0) : NULL;
    char url[PATH_MAX * 3 + 256];
    snprintf(url, sizeof(url), "http://127.0.0.1:%u/files/%s?%s%s%s", (unsigned)fx->port, endpoint,
             escaped ? "path=" : "", escaped ? escaped : "", extra ? extra : "");
    curl_free(escaped);
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &r);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, &r);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 10L);
    curl_easy_setopt(curl, CURLOPT_NOPROXY, "*");
    assert_int_equal(curl_easy_perform(curl), CURLE_OK);
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &r.status);
    curl_easy_cleanup(curl);
    return r;
}

static json_t *get_json(const fixture_t *fx, const char *endpoint, const char *path,
                        const char *extra)
{
    response_t r = get(fx, endpoint, path, extra);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.content_type, "application/json");
    json_error_t error;
    json_t *j = json_loadb(r.body, r.len, JSON_ALLOW_NUL, &error);
    assert_non_null(j);
    free(r.body);
    return j;
}

/* Expects status and, if text is not NULL, exactly that plain-text body. */
static void expect(const fixture_t *fx, const char *endpoint, const char *path, const char *extra,
                   long status, const char *text)
{
    response_t r = get(fx, endpoint, path, extra);
    assert_int_equal(r.status, status);
    if (text != NULL)
        assert_string_equal(r.body, text);
    if (status >= 400)
        assert_non_null(strstr(r.content_type, "text/plain"));
    free(r.body);
}

/* Expects a 400 whose body holds needle. */
static void expect_400(const fixture_t *fx, const char *endpoint, const char *path,
                       const char *extra, const char *needle)
{
    response_t r = get(fx, endpoint, path, extra);
    assert_int_equal(r.status, 400);
    if (strstr(r.body, needle) == NULL)
        fail_msg("'%s' does not contain '%s'", r.body, needle);
    free(r.body);
}

/* dir/name, in one of 16 static buffers used in turn (a test holds few at a time). */
static const char *path_in(const char *dir, const char *name)
{
    static char ring[16][PATH_MAX + 64];
    static int next;
    char *p = ring[next++ % 16];
    snprintf(p, sizeof(ring[0]), "%s/%s", dir, name);
    return p;
}

/* ---- browse ---- */

static json_t *find_entry(json_t *list, const char *path)
{
    size_t i;
    json_t *e;
    json_array_foreach(list, i, e)
    {
        if (strcmp(json_string_value(json_object_get(e, "path")), path) == 0)
            return e;
    }
    return NULL;
}

static void test_browse(void **state)
{
    fixture_t *fx = *state;
    json_t *list = get_json(fx, "browse", fx->run, NULL);
    /* Sorted by name; the dangling link is left out, as Mesos leaves out what stat fails on. */
    const char *names[] = {"big",          "data.json",   "fifo",   "link_in", "link_out",
                           "link_sibling", "my file.txt", "stderr", "stdout",  "sub"};
    assert_int_equal(json_array_size(list), sizeof(names) / sizeof(names[0]));
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        const char *want = path_in(fx->run, names[i]);
        assert_string_equal(json_string_value(json_object_get(json_array_get(list, i), "path")),
                            want);
    }

    const char *stdout_path = path_in(fx->run, "stdout");
    json_t *e = find_entry(list, stdout_path);
    struct stat st;
    assert_int_equal(stat(stdout_path, &st), 0);
    struct passwd *pw = getpwuid(st.st_uid);
    struct group *gr = getgrgid(st.st_gid);
    json_t *want = json_pack("{s:s, s:s, s:I, s:I, s:s, s:I, s:s}", "gid", gr->gr_name, "mode",
                             "-rw-r--r--", "mtime", (json_int_t)st.st_mtime, "nlink", 1, "path",
                             stdout_path, "size", 12, "uid", pw->pw_name);
    assert_true(json_equal(e, want));
    /* Keys in Mesos's (sorted) order. */
    char *text = json_dumps(e, JSON_COMPACT);
    assert_true(strncmp(text, "{\"gid\":", 7) == 0);
    free(text);
    json_decref(want);

    const char *sub = path_in(fx->run, "sub");
    assert_string_equal(json_string_value(json_object_get(find_entry(list, sub), "mode")),
                        "drwxr-xr-x");
    const char *fifo = path_in(fx->run, "fifo");
    assert_string_equal(json_string_value(json_object_get(find_entry(list, fifo), "mode")),
                        "prw-r--r--");
    /* A link inside is described by its target; one leading outside only as a link. */
    const char *link_in = path_in(fx->run, "link_in");
    assert_int_equal(json_integer_value(json_object_get(find_entry(list, link_in), "size")), 12);
    const char *link_out = path_in(fx->run, "link_out");
    json_t *out = find_entry(list, link_out);
    assert_int_equal(json_string_value(json_object_get(out, "mode"))[0], 'l');
    assert_int_not_equal(json_integer_value(json_object_get(out, "size")), 10);
    json_decref(list);
}

/* Browses path and expects its first entry at <prefix>/<name>; returns the entry count. */
static size_t expect_first(const fixture_t *fx, const char *path, const char *prefix,
                           const char *name)
{
    json_t *list = get_json(fx, "browse", path, NULL);
    const char *want = path_in(prefix, name);
    assert_string_equal(json_string_value(json_object_get(json_array_get(list, 0), "path")), want);
    size_t count = json_array_size(list);
    json_decref(list);
    return count;
}

static void test_browse_latest_and_forms(void **state)
{
    fixture_t *fx = *state;
    /* Through "runs/latest", with a trailing slash, and in a subdirectory. */
    expect_first(fx, fx->latest, fx->latest, "big");
    const char *slashed = path_in(fx->run, "");
    expect_first(fx, slashed, fx->run, "big");
    const char *sub = path_in(fx->latest, "sub");
    assert_int_equal(expect_first(fx, sub, sub, "inner"), 1);

    /* A file lists as an empty array, as in Mesos. */
    const char *file = path_in(fx->run, "stdout");
    json_t *list = get_json(fx, "browse", file, NULL);
    assert_int_equal(json_array_size(list), 0);
    json_decref(list);

    /* jsonp */
    response_t r = get(fx, "browse", fx->run, "&jsonp=show");
    assert_int_equal(r.status, 200);
    assert_string_equal(r.content_type, "text/javascript");
    assert_true(strncmp(r.body, "show([{", 7) == 0);
    assert_string_equal(r.body + r.len - 2, ");");
    free(r.body);
}

static void test_browse_errors(void **state)
{
    fixture_t *fx = *state;
    expect(fx, "browse", NULL, NULL, 400, "Expecting 'path=value' in query.\n");
    expect(fx, "browse", "", NULL, 400, "Expecting 'path=value' in query.\n");
    expect(fx, "browse", "/not/attached", NULL, 404, NULL);
    expect(fx, "browse", fx->root, NULL, 404, NULL); /* above the attachment */
    const char *missing = path_in(fx->run, "missing");
    expect(fx, "browse", missing, NULL, 404, NULL);
    const char *up = path_in(fx->run, "..");
    expect_400(fx, "browse", up, NULL, "is inaccessible.\n");
    const char *far = path_in(fx->latest, "../../../../../../..");
    expect_400(fx, "browse", far, NULL, "is inaccessible.\n");
    expect_400(fx, "browse", fx->run, "&jsonp=alert(1)", "Invalid 'jsonp' callback name");
}

/* ---- read ---- */

static void expect_read(const fixture_t *fx, const char *path, const char *extra, const char *data,
                        json_int_t offset)
{
    json_t *j = get_json(fx, "read", path, extra);
    assert_int_equal(json_object_size(j), 2);
    assert_string_equal(json_string_value(json_object_get(j, "data")), data);
    assert_int_equal(json_integer_value(json_object_get(j, "offset")), offset);
    json_decref(j);
}

static void test_read(void **state)
{
    fixture_t *fx = *state;
    const char *out = path_in(fx->latest, "stdout");
    expect_read(fx, out, "&offset=0&length=5", "hello", 0);
    expect_read(fx, out, "&offset=6", "world\n", 6);
    expect_read(fx, out, "&offset=6&length=-1", "world\n", 6);
    expect_read(fx, out, "&offset=6&length=100", "world\n", 6);
    expect_read(fx, out, "&offset=0&length=0", "", 0);
    /* The pailer's first request, offset -1 (or none): the size, no data. */
    expect_read(fx, out, "&offset=-1", "", 12);
    expect_read(fx, out, NULL, "", 12);
    expect_read(fx, out, "&length=3", "", 12);
    /* At or past the end: no data, the offset asked for. */
    expect_read(fx, out, "&offset=12", "", 12);
    expect_read(fx, out, "&offset=500&length=3", "", 500);

    const char *err = path_in(fx->run, "stderr");
    expect_read(fx, err, "&offset=0", "", 0);
    const char *spaced = path_in(fx->run, "my file.txt");
    expect_read(fx, spaced, "&offset=0", "spaced", 0);
    const char *link_in = path_in(fx->run, "link_in");
    expect_read(fx, link_in, "&offset=0&length=5", "hello", 0);

    response_t r = get(fx, "read", fx->run, "&offset=0&jsonp=cb_1");
    assert_int_equal(r.status, 400); /* a directory, even with jsonp */
    free(r.body);
    const char *data = path_in(fx->run, "data.json");
    r = get(fx, "read", data, "&offset=0&jsonp=cb_1");
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "cb_1({\"data\":\"{\\\"a\\\":1}\",\"offset\":0});");
    free(r.body);
}

static void test_read_cap(void **state)
{
    fixture_t *fx = *state;
    const char *big = path_in(fx->run, "big");
    json_t *j = get_json(fx, "read", big, "&offset=0");
    const char *data = json_string_value(json_object_get(j, "data"));
    assert_int_equal(strlen(data), FILES_READ_MAX);
    assert_int_equal(data[0], 'a');
    json_decref(j);
    /* The last page and a bit: what is left. */
    char extra[64];
    size_t offset = FILES_READ_MAX * 3 - 10;
    snprintf(extra, sizeof(extra), "&offset=%zu&length=%zu", offset, FILES_READ_MAX);
    j = get_json(fx, "read", big, extra);
    assert_int_equal(strlen(json_string_value(json_object_get(j, "data"))), 10);
    assert_int_equal(json_string_value(json_object_get(j, "data"))[0], 'a' + offset % 26);
    json_decref(j);
}

static void test_read_binary(void **state)
{
    fixture_t *fx = *state;
    /* Invalid UTF-8 (a lone 0xff, a cut 3-byte sequence) and a NUL stay valid JSON: each bad
     * byte is sent as the code point of its value; valid UTF-8 is kept. */
    const char bytes[] = {'a', (char)0xff, 'b', 0, (char)0xc3, (char)0xa9, (char)0xe2, (char)0x82};
    write_file(fx->run, "binary", bytes, sizeof(bytes));
    const char *path = path_in(fx->run, "binary");
    json_t *j = get_json(fx, "read", path, "&offset=0");
    json_t *data = json_object_get(j, "data");
    const char want[] = {'a',        (char)0xc3, (char)0xbf, 'b',        0,         (char)0xc3,
                         (char)0xa9, (char)0xc3, (char)0xa2, (char)0xc2, (char)0x82};
    assert_int_equal(json_string_length(data), sizeof(want));
    assert_memory_equal(json_string_value(data), want, sizeof(want));
    json_decref(j);
}

static void test_read_errors(void **state)
{
    fixture_t *fx = *state;
    const char *out = path_in(fx->run, "stdout");
    expect(fx, "read", NULL, "&offset=0", 400, "Expecting 'path=value' in query.\n");
    expect(fx, "read", out, "&offset=abc", 400,
           "Failed to parse offset: Failed to convert 'abc' to number.\n");
    expect(fx, "read", out, "&offset=", 400,
           "Failed to parse offset: Failed to convert '' to number.\n");
    expect(fx, "read", out, "&offset=0&length=1x", 400,
           "Failed to parse length: Failed to convert '1x' to number.\n");
    expect(fx, "read", out, "&offset=-2", 400, "Negative offset provided: -2.\n");
    expect(fx, "read", out, "&offset=0&length=-5", 400, "Negative length provided: -5.\n");
    expect(fx, "read", out, "&offset=99999999999999999999", 400, NULL);
    expect(fx, "read", fx->run, "&offset=0", 400, "Cannot read a directory.\n");
    const char *fifo = path_in(fx->run, "fifo");
    expect_400(fx, "read", fifo, "&offset=0", "not a regular file");
    const char *missing = path_in(fx->run, "missing");
    expect(fx, "read", missing, "&offset=0", 404, NULL);
    expect(fx, "read", "/elsewhere/stdout", "&offset=0", 404, NULL);
    /* Escapes: "..", a link leading outside, a link into a sibling whose name extends the
     * sandbox's (a plain prefix test would let it through). */
    const char *up = path_in(fx->run, "../../../../../../../../secret");
    expect_400(fx, "read", up, "&offset=0", "is inaccessible.\n");
    const char *link_out = path_in(fx->run, "link_out");
    expect_400(fx, "read", link_out, "&offset=0", "is inaccessible.\n");
    const char *sibling = path_in(fx->run, "link_sibling");
    expect_400(fx, "read", sibling, "&offset=0", "is inaccessible.\n");
    const char *dangling = path_in(fx->run, "dangling");
    expect(fx, "read", dangling, "&offset=0", 404, NULL);
    /* A path below a file. */
    const char *below = path_in(fx->run, "stdout/x");
    expect(fx, "read", below, "&offset=0", 404, NULL);
}

/* ---- download ---- */

/* Downloads path and expects a 200 with that type and file name, and the body if not NULL
 * (else len bytes). */
static void expect_download(const fixture_t *fx, const char *path, const char *body, size_t len,
                            const char *type, const char *name)
{
    response_t r = get(fx, "download", path, NULL);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.len, body != NULL ? strlen(body) : len);
    if (body != NULL)
        assert_string_equal(r.body, body);
    else
        assert_int_equal(r.body[len - 1], 'a' + (len - 1) % 26);
    assert_string_equal(r.content_type, type);
    char disposition[256];
    snprintf(disposition, sizeof(disposition), "attachment; filename=%s", name);
    assert_string_equal(r.disposition, disposition);
    free(r.body);
}

static void test_download(void **state)
{
    fixture_t *fx = *state;
    const char *out = path_in(fx->run, "stdout");
    expect_download(fx, out, "hello world\n", 0, "application/octet-stream", "stdout");
    const char *json = path_in(fx->latest, "data.json");
    expect_download(fx, json, "{\"a\":1}", 0, "application/json", "data.json");
    const char *spaced = path_in(fx->run, "my file.txt");
    expect_download(fx, spaced, "spaced", 0, "text/plain", "my file.txt");
    /* Bigger than a read page: whole. */
    const char *big = path_in(fx->run, "big");
    expect_download(fx, big, NULL, FILES_READ_MAX * 3, "application/octet-stream", "big");
}

static void test_download_errors(void **state)
{
    fixture_t *fx = *state;
    expect(fx, "download", NULL, NULL, 400, "Expecting 'path=value' in query.\n");
    expect(fx, "download", fx->run, NULL, 400, "Cannot download a directory.\n");
    const char *fifo = path_in(fx->run, "fifo");
    expect_400(fx, "download", fifo, NULL, "not a regular file");
    const char *missing = path_in(fx->run, "missing.txt");
    expect(fx, "download", missing, NULL, 404, NULL);
    const char *link_out = path_in(fx->run, "link_out");
    expect_400(fx, "download", link_out, NULL, "is inaccessible.\n");
    /* Over the limit (a sparse file costs no disk). */
    const char *huge = path_in(fx->run, "huge");
    int fd = open(huge, O_WRONLY | O_CREAT, 0644);
    assert_int_equal(ftruncate(fd, (off_t)FILES_DOWNLOAD_MAX + 1), 0);
    close(fd);
    expect_400(fx, "download", huge, NULL, "exceed the download limit");
    /* ... which /files/read still serves in parts. */
    expect_read(fx, huge, "&offset=-1", "", (json_int_t)FILES_DOWNLOAD_MAX + 1);
}

/* ---- debug, attach, detach ---- */

/* The number of attachments /files/debug lists. */
static size_t attachments(const fixture_t *fx)
{
    json_t *j = get_json(fx, "debug", NULL, NULL);
    size_t n = json_object_size(j);
    json_decref(j);
    return n;
}

static void test_debug(void **state)
{
    fixture_t *fx = *state;
    json_t *j = get_json(fx, "debug", NULL, NULL);
    char real[PATH_MAX];
    assert_non_null(realpath(fx->run, real));
    json_t *want = json_pack("{s:s, s:s}", fx->latest, real, fx->run, real);
    assert_true(json_equal(j, want));
    json_decref(want);
    json_decref(j);
    response_t r = get(fx, "debug", NULL, "jsonp=x.y");
    assert_int_equal(r.status, 200);
    assert_true(strncmp(r.body, "x.y({", 5) == 0);
    free(r.body);
}

static void test_detach(void **state)
{
    fixture_t *fx = *state;
    const char *out = path_in(fx->latest, "stdout");
    assert_int_equal(files_detach(&fx->files, fx->latest), ACTOR_OK);
    actor_settle();
    expect(fx, "read", out, "&offset=0", 404, NULL);
    out = path_in(fx->run, "stdout");
    expect_read(fx, out, "&offset=0&length=5", "hello", 0);
    /* Trailing '/' on either side is ignored. */
    const char *slashed = path_in(fx->run, "");
    assert_int_equal(files_detach(&fx->files, slashed), ACTOR_OK);
    actor_settle();
    expect(fx, "read", out, "&offset=0", 404, NULL);
    assert_int_equal(attachments(fx), 0);
    /* Unknown paths are ignored. */
    assert_int_equal(files_detach(&fx->files, "/never/attached"), ACTOR_OK);
    actor_settle();
}

static void test_sandbox_latest(void **state)
{
    fixture_t *fx = *state;
    /* A second run of the executor takes "latest" over ... */
    char run2[PATH_MAX + 8];
    snprintf(run2, sizeof(run2), "%.*s/C2", (int)(strlen(fx->run) - 3), fx->run);
    make_dir(run2);
    write_file(run2, "stdout", "second", 6);
    assert_int_equal(files_attach_sandbox(&fx->files, run2), ACTOR_OK);
    actor_settle();
    const char *out = path_in(fx->latest, "stdout");
    expect_read(fx, out, "&offset=0", "second", 0);
    /* ... and keeps it when the first run is detached. */
    assert_int_equal(files_detach_sandbox(&fx->files, fx->run), ACTOR_OK);
    actor_settle();
    expect_read(fx, out, "&offset=0", "second", 0);
    const char *old = path_in(fx->run, "stdout");
    expect(fx, "read", old, "&offset=0", 404, NULL);
    assert_int_equal(files_detach_sandbox(&fx->files, run2), ACTOR_OK);
    actor_settle();
    expect(fx, "read", out, "&offset=0", 404, NULL);
    assert_int_equal(attachments(fx), 0);

    /* A directory not under "runs" is attached under its own path only. */
    const char *sub = path_in(fx->run, "sub");
    assert_int_equal(files_attach_sandbox(&fx->files, sub), ACTOR_OK);
    actor_settle();
    assert_int_equal(attachments(fx), 1);
}

static void test_attach_file_and_root(void **state)
{
    fixture_t *fx = *state;
    /* A file (as Mesos attaches the agent's log): only its own virtual path reaches it. */
    const char *out = path_in(fx->run, "stdout");
    assert_int_equal(files_attach(&fx->files, out, "/slave/log/"), ACTOR_OK);
    actor_settle();
    expect_read(fx, "/slave/log", "&offset=0&length=5", "hello", 0);
    expect(fx, "read", "/slave/log/x", "&offset=0", 404, NULL);
    response_t r = get(fx, "download", "/slave/log", NULL);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.disposition, "attachment; filename=stdout");
    free(r.body);
    /* A virtual path of several components maps a whole tree. */
    assert_int_equal(files_attach(&fx->files, fx->root, "/a/b"), ACTOR_OK);
    actor_settle();
    expect_read(fx, "/a/b/secret", "&offset=0", "top secret", 0);
    expect_read(fx, "file:///a//b/secret", "&offset=0", "top secret", 0);
    expect(fx, "read", "/a/secret", "&offset=0", 404, NULL);
    expect(fx, "read", "/a/bsecret", "&offset=0", 404, NULL);
}

static void test_attach_errors(void **state)
{
    fixture_t *fx = *state;
    /* A missing real path is logged and not attached. */
    assert_int_equal(files_attach(&fx->files, "/no/such/dir", "/ghost"), ACTOR_OK);
    actor_settle();
    json_t *j = get_json(fx, "debug", NULL, NULL);
    assert_null(json_object_get(j, "/ghost"));
    json_decref(j);
    assert_int_equal(files_attach(NULL, "/tmp", "/x"), ACTOR_EINVAL);
    assert_int_equal(files_attach(&fx->files, NULL, "/x"), ACTOR_EINVAL);
    assert_int_equal(files_attach(&fx->files, "", "/x"), ACTOR_EINVAL);
    assert_int_equal(files_attach(&fx->files, "/tmp", ""), ACTOR_EINVAL);
    assert_int_equal(files_attach(&fx->files, "/tmp", NULL), ACTOR_EINVAL);
    assert_int_equal(files_detach(&fx->files, NULL), ACTOR_EINVAL);
    assert_int_equal(files_detach_sandbox(NULL, "/x"), ACTOR_EINVAL);
    assert_int_equal(files_attach_sandbox(&fx->files, ""), ACTOR_EINVAL);
    assert_int_equal(files_spawn(NULL), ACTOR_EINVAL);
    actor_pid_t nobody;
    actor_pid_make(&nobody, "nobody", 0, 0);
    assert_int_equal(files_attach(&nobody, "/tmp", "/x"), ACTOR_ENOENT);
    assert_int_equal(files_detach(&nobody, "/x"), ACTOR_ENOENT);
}

static void test_spawn_idempotent(void **state)
{
    fixture_t *fx = *state;
    actor_runtime_stats_t before, after;
    actor_runtime_stats(&before);
    actor_pid_t again;
    assert_int_equal(files_spawn(&again), ACTOR_OK);
    actor_runtime_stats(&after);
    assert_int_equal(after.actors_spawned, before.actors_spawned);
    assert_true(actor_pid_equal(&again, &fx->files));
    assert_string_equal(again.id, "files");
    /* The found PID works: the attachments are the first spawn's. */
    assert_int_equal(files_attach(&again, fx->root, "/via/again"), ACTOR_OK);
    actor_settle();
    expect_read(fx, "/via/again/secret", "&offset=0&length=3", "top", 0);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_browse, setup, teardown),
        cmocka_unit_test_setup_teardown(test_browse_latest_and_forms, setup, teardown),
        cmocka_unit_test_setup_teardown(test_browse_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_cap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_binary, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_download, setup, teardown),
        cmocka_unit_test_setup_teardown(test_download_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_debug, setup, teardown),
        cmocka_unit_test_setup_teardown(test_detach, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sandbox_latest, setup, teardown),
        cmocka_unit_test_setup_teardown(test_attach_file_and_root, setup, teardown),
        cmocka_unit_test_setup_teardown(test_attach_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_spawn_idempotent, setup, teardown),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return failed;
}
