/*
 * Tests of slave/fetcher/download.c: HTTP downloads with libcurl against the test's server on
 * 127.0.0.1 (statuses, redirects, a stalled answer, a refused connection, a failing write) and
 * the Content-Disposition parser.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "slave/fetcher/fetcher_int.h"
#include "tests/fetcher/support.h"

static const char hello[] = "hello, fetcher\n";
static char self_redirect[128], file_redirect[] = "file:///etc/hostname", to_hello[128];

static test_route_t routes[] = {
    {.target = "/hello.txt", .body = hello, .body_len = sizeof(hello) - 1},
    {.target = "/named",
     .body = hello,
     .body_len = 5,
     .disposition = "attachment; filename=\"report.csv\""},
    {.target = "/error", .status = 500, .body = "oops", .body_len = 4},
    {.target = "/redirect", .status = 302, .location = to_hello},
    {.target = "/loop", .status = 302, .location = self_redirect},
    {.target = "/to-file", .status = 302, .location = file_redirect},
    {.target = "/stall", .body = hello, .body_len = sizeof(hello) - 1, .stall = true},
};

typedef struct fixture {
    test_site_t site;
    int fd; /* the download's file */
    char why[1024];
    char name[NAME_MAX + 1];
} fixture_t;

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof(*f));
    test_site_open(&f->site, routes, sizeof(routes) / sizeof(routes[0]));
    snprintf(to_hello, sizeof(to_hello), "%s", test_server_url(f->site.srv, "/hello.txt"));
    snprintf(self_redirect, sizeof(self_redirect), "%s", test_server_url(f->site.srv, "/loop"));
    char *path = test_join(f->site.sandbox, "out");
    f->fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    free(path);
    assert_true(f->fd >= 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    close(f->fd);
    test_site_close(&f->site);
    free(f);
    return 0;
}

static actor_err_t get(fixture_t *f, const char *target, long stall)
{
    return fetcher_download(test_server_url(f->site.srv, target), stall, f->fd, f->name,
                            sizeof(f->name), f->why, sizeof(f->why));
}

static off_t written(const fixture_t *f)
{
    struct stat st;
    assert_int_equal(fstat(f->fd, &st), 0);
    return st.st_size;
}

static void test_download_ok(void **state)
{
    fixture_t *f = *state;
    assert_int_equal(get(f, "/hello.txt", 60), ACTOR_OK);
    assert_int_equal(written(f), sizeof(hello) - 1);
    assert_string_equal(f->name, "");
    char buf[64] = "";
    assert_int_equal(pread(f->fd, buf, sizeof(buf), 0), sizeof(hello) - 1);
    assert_string_equal(buf, hello);
}

static void test_download_disposition(void **state)
{
    fixture_t *f = *state;
    assert_int_equal(get(f, "/named", 60), ACTOR_OK);
    assert_string_equal(f->name, "report.csv");
    assert_int_equal(written(f), 5);
}

static void test_download_404_writes_nothing(void **state)
{
    fixture_t *f = *state;
    assert_int_equal(get(f, "/missing", 60), ACTOR_EPROTO);
    assert_string_equal(f->why, "Error downloading resource, received HTTP return code 404");
    assert_int_equal(written(f), 0);
}

static void test_download_500(void **state)
{
    fixture_t *f = *state;
    assert_int_equal(get(f, "/error", 60), ACTOR_EPROTO);
    assert_string_equal(f->why, "Error downloading resource, received HTTP return code 500");
    assert_int_equal(written(f), 0);
}

static void test_download_follows_redirect(void **state)
{
    fixture_t *f = *state;
    assert_int_equal(get(f, "/redirect", 60), ACTOR_OK);
    assert_int_equal(written(f), sizeof(hello) - 1);
    assert_int_equal(test_server_requests(f->site.srv), 2);
}

static void test_download_redirect_loop(void **state)
{
    fixture_t *f = *state;
    assert_int_equal(get(f, "/loop", 60), ACTOR_EPROTO);
    assert_non_null(strstr(f->why, "Error downloading resource: "));
    assert_non_null(strstr(f->why, "redirects"));
}

static void test_download_refuses_redirect_to_file(void **state)
{
    fixture_t *f = *state;
    assert_int_equal(get(f, "/to-file", 60), ACTOR_EPROTO);
    assert_non_null(strstr(f->why, "Error downloading resource: "));
    assert_int_equal(written(f), 0);
}

static void test_download_stall_times_out(void **state)
{
    fixture_t *f = *state;
    assert_int_equal(get(f, "/stall", 1), ACTOR_ETIMEDOUT);
    assert_non_null(strstr(f->why, "Error downloading resource: Operation too slow"));
}

static void test_download_connection_refused(void **state)
{
    fixture_t *f = *state;
    /* A port bound but not listening refuses connections, and no other server can take it. */
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(addr);
    assert_int_equal(bind(s, (struct sockaddr *)&addr, sizeof(addr)), 0);
    assert_int_equal(getsockname(s, (struct sockaddr *)&addr, &len), 0);
    char url[128];
    snprintf(url, sizeof(url), "http://127.0.0.1:%u/hello.txt", (unsigned)ntohs(addr.sin_port));
    assert_int_equal(
        fetcher_download(url, 60, f->fd, f->name, sizeof(f->name), f->why, sizeof(f->why)),
        ACTOR_EPROTO);
    close(s);
    assert_non_null(strstr(f->why, "Error downloading resource: "));
    assert_non_null(strstr(f->why, "onnect"));
}

static void test_download_write_failure(void **state)
{
    fixture_t *f = *state;
    int ro = open("/dev/null", O_RDONLY);
    assert_true(ro >= 0);
    assert_int_equal(fetcher_download(test_server_url(f->site.srv, "/hello.txt"), 60, ro, f->name,
                                      sizeof(f->name), f->why, sizeof(f->why)),
                     ACTOR_ESYSTEM);
    close(ro);
    assert_string_equal(f->why,
                        "Error downloading resource: failed to write it: Bad file descriptor");
}

static void test_disposition_parser(void **state)
{
    (void)state;
    char name[NAME_MAX + 1];
    assert_true(fetcher_disposition_name("attachment; filename=\"a b.tgz\"", name, sizeof(name)));
    assert_string_equal(name, "a b.tgz");
    assert_true(fetcher_disposition_name(" inline;filename=plain.txt; size=3", name, sizeof(name)));
    assert_string_equal(name, "plain.txt");
    assert_true(fetcher_disposition_name("attachment; FILENAME=\"q\\\"x\"", name, sizeof(name)));
    assert_string_equal(name, "q\"x");
    /* Directories are dropped: the server does not choose where the file goes. */
    assert_true(
        fetcher_disposition_name("attachment; filename=\"../../etc/passwd\"", name, sizeof(name)));
    assert_string_equal(name, "passwd");
    assert_true(
        fetcher_disposition_name("attachment; filename=\"C:\\\\x\\\\y.zip\"", name, sizeof(name)));
    assert_string_equal(name, "y.zip");
    assert_false(fetcher_disposition_name("attachment", name, sizeof(name)));
    assert_false(fetcher_disposition_name("attachment; filename=\"\"", name, sizeof(name)));
    assert_false(fetcher_disposition_name("attachment; filename=\"..\"", name, sizeof(name)));
    assert_false(fetcher_disposition_name("attachment; filename=\"a/\"", name, sizeof(name)));
    assert_false(fetcher_disposition_name("attachment; filename=\"a\tb\"", name, sizeof(name)));
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_download_ok),
        T(test_download_disposition),
        T(test_download_404_writes_nothing),
        T(test_download_500),
        T(test_download_follows_redirect),
        T(test_download_redirect_loop),
        T(test_download_refuses_redirect_to_file),
        T(test_download_stall_times_out),
        T(test_download_connection_refused),
        T(test_download_write_failure),
        cmocka_unit_test(test_disposition_parser),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
