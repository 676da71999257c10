/*
 * Tests of slave/fetcher/fetcher.c: fetcher_fetch from the test's HTTP server on 127.0.0.1 and
 * from local files into a scratch sandbox: names (base name, trailing slash, Content-Disposition,
 * output_file), extraction on and off, executable, chown, and the failures with their messages.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "slave/fetcher/fetcher.h"
#include "tests/fetcher/support.h"

static const char script[] = "#!/bin/sh\necho web\n";
#define SCRIPT_LEN (sizeof(script) - 1)
static const test_entry_t bundle[] = {
    {.path = "bundle", .dir = true},
    {.path = "bundle/start.sh", .content = "#!/bin/sh\nexit 0\n", .mode = 0755},
    {.path = "bundle/conf.json", .content = "{}\n"},
};

typedef struct fixture {
    test_site_t site;
    test_route_t routes[16];
    void *tgz, *zip;
    size_t tgz_len, zip_len;
    char *local; /* beside the sandbox: the sources of local fetches */
    fetcher_options_t opts;
    fetcher_uri_t uri;
    fetcher_result_t result;
    char err[2048];
} fixture_t;

static void add_route(fixture_t *f, test_route_t route)
{
    size_t n = 0;
    while (f->routes[n].target != NULL)
        n++;
    f->routes[n] = route;
}

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof(*f));
    test_archive("tar.gz", bundle, 3, &f->tgz, &f->tgz_len);
    test_archive("zip", bundle, 3, &f->zip, &f->zip_len);
    add_route(f, (test_route_t){.target = "/web-app.js", .body = script, .body_len = SCRIPT_LEN});
    add_route(f,
              (test_route_t){.target = "/bundle.tar.gz", .body = f->tgz, .body_len = f->tgz_len});
    add_route(f, (test_route_t){.target = "/bundle.zip", .body = f->zip, .body_len = f->zip_len});
    add_route(f, (test_route_t){.target = "/apps/web/", .body = script, .body_len = SCRIPT_LEN});
    add_route(f, (test_route_t){.target = "/",
                                .body = script,
                                .body_len = SCRIPT_LEN,
                                .disposition = "attachment; filename=\"named.js\""});
    add_route(f, (test_route_t){.target = "/?plain", .body = script, .body_len = SCRIPT_LEN});
    /* curl does not send the fragment: the server sees "/web-app.js?v=2". */
    add_route(f,
              (test_route_t){.target = "/web-app.js?v=2", .body = script, .body_len = SCRIPT_LEN});
    add_route(f, (test_route_t){.target = "/old", .status = 301, .location = "/web-app.js"});
    test_site_open(&f->site, f->routes, 8);
    f->local = test_join(f->site.root, "local");
    assert_int_equal(mkdir(f->local, 0755), 0);
    fetcher_options_init(&f->opts);
    f->opts.sandbox = f->site.sandbox;
    fetcher_uri_init(&f->uri);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    test_site_close(&f->site);
    free(f->local);
    free(f->tgz);
    free(f->zip);
    free(f);
    return 0;
}

static actor_err_t fetch(fixture_t *f, const char *value)
{
    f->uri.value = value;
    f->err[0] = '\0';
    return fetcher_fetch(&f->opts, &f->uri, &f->result, f->err, sizeof(f->err));
}

static actor_err_t fetch_http(fixture_t *f, const char *target)
{
    return fetch(f, test_server_url(f->site.srv, target));
}

static void assert_sandbox_file(const fixture_t *f, const char *name, const char *content)
{
    test_assert_file(f->site.sandbox, name, content, strlen(content));
}

static mode_t sandbox_mode(const fixture_t *f, const char *name)
{
    return test_mode(f->site.sandbox, name);
}

static void assert_result_path(const fixture_t *f, const char *name)
{
    char *path = test_join(f->site.sandbox, name);
    assert_string_equal(f->result.path, path);
    free(path);
}

static void assert_failed(const fixture_t *f, actor_err_t got, actor_err_t want, const char *value,
                          const char *reason)
{
    assert_int_equal(got, want);
    char *expect = NULL;
    assert_true(asprintf(&expect, "Failed to fetch '%s': %s", value, reason) > 0);
    assert_string_equal(f->err, expect);
    free(expect);
}

/* ---- HTTP --------------------------------------------------------------------------------- */

static void test_http_file(void **state)
{
    fixture_t *f = *state;
    assert_int_equal(fetch_http(f, "/web-app.js"), ACTOR_OK);
    assert_sandbox_file(f, "web-app.js", script);
    assert_result_path(f, "web-app.js");
    assert_false(f->result.from_cache);
    assert_false(f->result.extracted);
    assert_int_equal(sandbox_mode(f, "web-app.js") & 07777, 0644);
    assert_int_equal(test_count_entries(f->site.sandbox), 1); /* no temporary file left */
}

static void test_http_query_and_fragment_are_not_the_name(void **state)
{
    fixture_t *f = *state;
    assert_int_equal(fetch_http(f, "/web-app.js?v=2#top"), ACTOR_OK);
    assert_sandbox_file(f, "web-app.js", script);
}

static void test_http_trailing_slash_takes_last_segment(void **state)
{
    fixture_t *f = *state;
    assert_int_equal(fetch_http(f, "/apps/web/"), ACTOR_OK);
    assert_sandbox_file(f, "web", script);
}

static void test_http_root_takes_content_disposition(void **state)
{
    fixture_t *f = *state;
    assert_int_equal(fetch_http(f, "/"), ACTOR_OK);
    assert_sandbox_file(f, "named.js", script);
    assert_result_path(f, "named.js");
}

static void test_http_root_without_disposition_is_index_html(void **state)
{
    fixture_t *f = *state;
    assert_int_equal(fetch_http(f, "/?plain"), ACTOR_OK);
    assert_sandbox_file(f, "index.html", script);
}

static void test_http_redirect_keeps_uri_name(void **state)
{
    fixture_t *f = *state;
    assert_int_equal(fetch_http(f, "/old"), ACTOR_OK);
    assert_sandbox_file(f, "old", script);
}

static void test_http_404(void **state)
{
    fixture_t *f = *state;
    const char *url = test_server_url(f->site.srv, "/nope.tar.gz");
    assert_failed(f, fetch(f, url), ACTOR_EPROTO, url,
                  "Error downloading resource, received HTTP return code 404");
    assert_int_equal(test_count_entries(f->site.sandbox), 0);
}

static void test_http_tarball_extracted_and_kept(void **state)
{
    fixture_t *f = *state;
    assert_int_equal(fetch_http(f, "/bundle.tar.gz"), ACTOR_OK);
    assert_true(f->result.extracted);
    assert_result_path(f, "bundle.tar.gz");
    assert_true(test_exists(f->site.sandbox, "bundle.tar.gz"));
    assert_sandbox_file(f, "bundle/start.sh", "#!/bin/sh\nexit 0\n");
    assert_sandbox_file(f, "bundle/conf.json", "{}\n");
    assert_true(sandbox_mode(f, "bundle/start.sh") & S_IXUSR);
}

static void test_http_zip_extracted(void **state)
{
    fixture_t *f = *state;
    assert_int_equal(fetch_http(f, "/bundle.zip"), ACTOR_OK);
    assert_true(f->result.extracted);
    assert_sandbox_file(f, "bundle/conf.json", "{}\n");
    assert_true(test_exists(f->site.sandbox, "bundle.zip"));
}

static void test_http_extract_off(void **state)
{
    fixture_t *f = *state;
    f->uri.extract = false;
    assert_int_equal(fetch_http(f, "/bundle.tar.gz"), ACTOR_OK);
    assert_false(f->result.extracted);
    assert_int_equal(test_count_entries(f->site.sandbox), 1);
}

static void test_http_executable_is_not_extracted(void **state)
{
    fixture_t *f = *state;
    f->uri.executable = true;
    assert_int_equal(fetch_http(f, "/bundle.tar.gz"), ACTOR_OK);
    assert_false(f->result.extracted);
    assert_int_equal(test_count_entries(f->site.sandbox), 1);
    assert_int_equal(sandbox_mode(f, "bundle.tar.gz") & 07777, 0755);
}

static void test_http_output_file(void **state)
{
    fixture_t *f = *state;
    f->uri.output_file = "bin/tools/app.js";
    assert_int_equal(fetch_http(f, "/web-app.js"), ACTOR_OK);
    assert_sandbox_file(f, "bin/tools/app.js", script);
    assert_result_path(f, "bin/tools/app.js");
    /* An archive under output_file is extracted into the sandbox itself, as Mesos does. */
    f->uri.output_file = "pkg/b.tgz";
    assert_int_equal(fetch_http(f, "/bundle.tar.gz"), ACTOR_OK);
    assert_true(f->result.extracted);
    assert_sandbox_file(f, "bundle/conf.json", "{}\n");
}

static void test_http_replaces_existing_file(void **state)
{
    fixture_t *f = *state;
    char *path = test_join(f->site.sandbox, "web-app.js");
    test_write_file(path, "old", 3);
    free(path);
    assert_int_equal(fetch_http(f, "/web-app.js"), ACTOR_OK);
    assert_sandbox_file(f, "web-app.js", script);
}

/* ---- local files -------------------------------------------------------------------------- */

static char *make_local(fixture_t *f, const char *name, const char *content, mode_t mode)
{
    char *path = test_join(f->local, name);
    test_write_file(path, content, strlen(content));
    assert_int_equal(chmod(path, mode), 0);
    return path;
}

static void test_local_path_is_copied(void **state)
{
    fixture_t *f = *state;
    char *src = make_local(f, "tool.sh", "echo tool\n", 0750);
    assert_int_equal(fetch(f, src), ACTOR_OK);
    assert_sandbox_file(f, "tool.sh", "echo tool\n");
    assert_int_equal(sandbox_mode(f, "tool.sh") & 07777, 0750); /* as cp keeps it */
    struct stat a, b;
    assert_int_equal(stat(src, &a), 0);
    assert_int_equal(stat(f->result.path, &b), 0);
    assert_true(a.st_ino != b.st_ino); /* a copy, not a link */
    test_write_file(src, "changed", 7);
    assert_sandbox_file(f, "tool.sh", "echo tool\n");
    free(src);
}

static void test_file_uri(void **state)
{
    fixture_t *f = *state;
    char *src = make_local(f, "notes.txt", "notes\n", 0644);
    char uri[4200], localhost[4200];
    snprintf(uri, sizeof(uri), "file://%s", src);
    snprintf(localhost, sizeof(localhost), "file://localhost%s", src);
    assert_int_equal(fetch(f, uri), ACTOR_OK);
    assert_sandbox_file(f, "notes.txt", "notes\n");
    f->uri.output_file = "again.txt";
    assert_int_equal(fetch(f, localhost), ACTOR_OK);
    assert_sandbox_file(f, "again.txt", "notes\n");
    free(src);
}

static void test_local_archive_extracted(void **state)
{
    fixture_t *f = *state;
    char *src = test_join(f->local, "bundle.zip");
    test_write_file(src, f->zip, f->zip_len);
    assert_int_equal(fetch(f, src), ACTOR_OK);
    assert_true(f->result.extracted);
    assert_sandbox_file(f, "bundle/start.sh", "#!/bin/sh\nexit 0\n");
    free(src);
}

static void test_local_executable(void **state)
{
    fixture_t *f = *state;
    char *src = make_local(f, "run", "#!/bin/sh\n", 0600);
    f->uri.executable = true;
    assert_int_equal(fetch(f, src), ACTOR_OK);
    assert_int_equal(sandbox_mode(f, "run") & 07777, 0755);
    free(src);
}

static void test_local_missing(void **state)
{
    fixture_t *f = *state;
    char *src = test_join(f->local, "absent.txt");
    char reason[4200];
    snprintf(reason, sizeof(reason), "Failed to open '%s': No such file or directory", src);
    assert_failed(f, fetch(f, src), ACTOR_ENOENT, src, reason);
    assert_int_equal(test_count_entries(f->site.sandbox), 0);
    free(src);
}

static void test_local_directory_refused(void **state)
{
    fixture_t *f = *state;
    char reason[4200];
    snprintf(reason, sizeof(reason), "Failed to copy '%s': not a regular file", f->local);
    assert_failed(f, fetch(f, f->local), ACTOR_EINVAL, f->local, reason);
    assert_int_equal(test_count_entries(f->site.sandbox), 0);
}

/* ---- bad input ---------------------------------------------------------------------------- */

static void test_bad_uris(void **state)
{
    fixture_t *f = *state;
    assert_failed(f, fetch(f, "relative/path.txt"), ACTOR_EINVAL, "relative/path.txt",
                  "A relative path was passed for the resource: give an absolute path");
    assert_failed(f, fetch(f, "ftp://host/x"), ACTOR_EINVAL, "ftp://host/x",
                  "Unsupported URI scheme (the fetcher takes http, https, file and paths)");
    assert_failed(f, fetch(f, "file://relative"), ACTOR_EINVAL, "file://relative",
                  "File URI only supports absolute paths");
    assert_failed(f, fetch(f, "   "), ACTOR_EINVAL, "   ", "The URI is empty");
    assert_failed(f, fetch(f, "/etc/it's"), ACTOR_EINVAL, "/etc/it's", "Illegal characters in URI");
    assert_failed(f, fetch(f, "/"), ACTOR_EINVAL, "/", "Malformed path (no file name): '/'");
    /* A control character never breaks the message's line. */
    assert_int_equal(fetch(f, "http://h/a\nb"), ACTOR_EINVAL);
    assert_string_equal(f->err, "Failed to fetch 'http://h/a?b': Illegal characters in URI");
    f->uri.value = NULL;
    assert_int_equal(fetcher_fetch(&f->opts, &f->uri, NULL, f->err, sizeof(f->err)), ACTOR_EINVAL);
    assert_string_equal(f->err, "Failed to fetch '': The URI has no value");
    assert_int_equal(fetcher_fetch(&f->opts, NULL, NULL, f->err, sizeof(f->err)), ACTOR_EINVAL);
    assert_int_equal(test_count_entries(f->site.sandbox), 0);
}

static void test_bad_output_files(void **state)
{
    fixture_t *f = *state;
    const char *url = test_server_url(f->site.srv, "/web-app.js");
    const char *bad[] = {"../escape.js", "/abs.js", "a/../../b.js", "dir/", "a/..", "", "x/."};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        f->uri.output_file = bad[i];
        assert_int_equal(fetch(f, url), ACTOR_EINVAL);
        assert_non_null(strstr(f->err, "Invalid output_file"));
    }
    assert_int_equal(test_count_entries(f->site.sandbox), 0);
    assert_int_equal(test_server_requests(f->site.srv), 0); /* refused before any download */
}

static void test_bad_sandbox(void **state)
{
    fixture_t *f = *state;
    char *missing = test_join(f->site.root, "no-sandbox");
    f->opts.sandbox = missing;
    char reason[4200];
    snprintf(reason, sizeof(reason), "Failed to open the sandbox '%s': No such file or directory",
             missing);
    const char *url = test_server_url(f->site.srv, "/web-app.js");
    assert_failed(f, fetch(f, url), ACTOR_ENOENT, url, reason);
    f->opts.sandbox = NULL;
    assert_failed(f, fetch(f, url), ACTOR_EINVAL, url, "No sandbox directory was given");
    free(missing);
}

static void test_unknown_user(void **state)
{
    fixture_t *f = *state;
    f->opts.user = "no-such-user-here";
    const char *url = test_server_url(f->site.srv, "/web-app.js");
    assert_failed(f, fetch(f, url), ACTOR_EINVAL, url, "Unknown user 'no-such-user-here'");
    assert_int_equal(test_count_entries(f->site.sandbox), 0);
}

static void test_output_file_through_symlink_refused(void **state)
{
    fixture_t *f = *state;
    /* A link in the sandbox cannot send the file elsewhere. */
    char *link = test_join(f->site.sandbox, "out");
    assert_int_equal(symlink(f->local, link), 0);
    f->uri.output_file = "out/x.js";
    assert_int_equal(fetch_http(f, "/web-app.js"), ACTOR_ESYSTEM);
    assert_non_null(strstr(f->err, "Failed to create directory"));
    assert_int_equal(test_count_entries(f->local), 0);
    free(link);
}

static void test_name_taken_by_directory(void **state)
{
    fixture_t *f = *state;
    char *dir = test_join(f->site.sandbox, "web-app.js");
    assert_int_equal(mkdir(dir, 0755), 0);
    const char *url = test_server_url(f->site.srv, "/web-app.js");
    char *reason = NULL;
    assert_true(asprintf(&reason, "Failed to move the file to '%s': Is a directory", dir) > 0);
    assert_failed(f, fetch(f, url), ACTOR_ESYSTEM, url, reason);
    assert_int_equal(test_count_entries(f->site.sandbox), 1); /* no temporary file left */
    free(reason);
    free(dir);
}

/* ---- owner -------------------------------------------------------------------------------- */

static void assert_owner(const char *path, const struct passwd *pw)
{
    struct stat st;
    assert_int_equal(lstat(path, &st), 0);
    assert_int_equal(st.st_uid, pw->pw_uid);
    assert_int_equal(st.st_gid, pw->pw_gid);
}

static void test_chown_to_user(void **state)
{
    fixture_t *f = *state;
    struct passwd *pw = getpwnam("nobody");
    if (geteuid() != 0 || pw == NULL)
        skip();
    f->opts.user = "nobody";
    f->uri.output_file = "lib/bundle.tar.gz";
    assert_int_equal(fetch_http(f, "/bundle.tar.gz"), ACTOR_OK);
    const char *names[] = {"lib", "lib/bundle.tar.gz", "bundle", "bundle/start.sh"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        char *path = test_join(f->site.sandbox, names[i]);
        assert_owner(path, pw);
        free(path);
    }
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_http_file),
        T(test_http_query_and_fragment_are_not_the_name),
        T(test_http_trailing_slash_takes_last_segment),
        T(test_http_root_takes_content_disposition),
        T(test_http_root_without_disposition_is_index_html),
        T(test_http_redirect_keeps_uri_name),
        T(test_http_404),
        T(test_http_tarball_extracted_and_kept),
        T(test_http_zip_extracted),
        T(test_http_extract_off),
        T(test_http_executable_is_not_extracted),
        T(test_http_output_file),
        T(test_http_replaces_existing_file),
        T(test_local_path_is_copied),
        T(test_file_uri),
        T(test_local_archive_extracted),
        T(test_local_executable),
        T(test_local_missing),
        T(test_local_directory_refused),
        T(test_bad_uris),
        T(test_bad_output_files),
        T(test_bad_sandbox),
        T(test_unknown_user),
        T(test_output_file_through_symlink_refused),
        T(test_name_taken_by_directory),
        T(test_chown_to_user),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
