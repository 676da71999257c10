/*
 * Tests of slave/fetcher/main.c: the mesos-fetcher binary run as the agent runs it, with its job
 * in MESOS_FETCHER_INFO and its stdout and stderr in files, against the test's HTTP server on
 * 127.0.0.1: the progress lines, the failure line last on stderr, and the exit statuses.
 *
 * The binary is $MESOS_TEST_BIN_DIR/mesos-fetcher (set by ctest), else ../../bin beside this
 * test. Each run is waited for with a deadline and killed if it passes it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests/fetcher/support.h"

#define DEADLINE_MS 20000

static const char page[] = "<html>web</html>\n";
static const test_entry_t bundle[] = {{.path = "conf/app.json", .content = "{\"a\": 1}\n"}};

typedef struct fixture {
    test_site_t site;
    test_route_t routes[4];
    void *tgz;
    size_t tgz_len;
    char *out, *err; /* the run's stdout and stderr files */
    char binary[PATH_MAX];
} fixture_t;

typedef struct run {
    int status; /* exit status, or -1 if it did not exit normally */
    char *stdout_text;
    char *stderr_text;
} run_t;

static void find_binary(fixture_t *f)
{
    const char *dir = getenv("MESOS_TEST_BIN_DIR");
    if (dir != NULL && dir[0] != '\0') {
        snprintf(f->binary, sizeof(f->binary), "%s/mesos-fetcher", dir);
        return;
    }
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    assert_true(n > 0);
    self[n] = '\0';
    snprintf(f->binary, sizeof(f->binary), "%s/../../bin/mesos-fetcher", dirname(self));
}

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof(*f));
    find_binary(f);
    test_archive("tar.gz", bundle, 1, &f->tgz, &f->tgz_len);
    f->routes[0] = (test_route_t){.target = "/web/", .body = page, .body_len = sizeof(page) - 1};
    f->routes[1] = (test_route_t){.target = "/bundle.tgz", .body = f->tgz, .body_len = f->tgz_len};
    f->routes[2] = (test_route_t){.target = "/stall", .body = page, .body_len = 5, .stall = true};
    test_site_open(&f->site, f->routes, 3);
    f->out = test_join(f->site.root, "stdout");
    f->err = test_join(f->site.root, "stderr");
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    test_site_close(&f->site);
    free(f->out);
    free(f->err);
    free(f->tgz);
    free(f);
    return 0;
}

/* Waits for pid until the deadline, then kills it. Returns the wait status. */
static int wait_deadline(pid_t pid)
{
    int status = 0;
    for (int waited = 0; waited < DEADLINE_MS; waited += 5) {
        if (waitpid(pid, &status, WNOHANG) == pid)
            return status;
        struct timespec ts = {0, 5 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    fail_msg("mesos-fetcher did not exit within %d ms", DEADLINE_MS);
    return status;
}

/* Runs the binary with info (NULL: no MESOS_FETCHER_INFO) and the argument arg (may be NULL). */
static run_t run_fetcher(fixture_t *f, const char *info, const char *arg)
{
    char *env_info = NULL;
    if (info != NULL)
        assert_true(asprintf(&env_info, "MESOS_FETCHER_INFO=%s", info) > 0);
    /* The sanitizers' options reach the binary too, so that an ASan build checks it. */
    char *envp[6] = {"PATH=/usr/bin:/bin"};
    size_t n = 1;
    const char *pass[] = {"ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"};
    char *passed[3] = {NULL, NULL, NULL};
    for (size_t i = 0; i < 3; i++) {
        if (getenv(pass[i]) != NULL) {
            assert_true(asprintf(&passed[i], "%s=%s", pass[i], getenv(pass[i])) > 0);
            envp[n++] = passed[i];
        }
    }
    envp[n] = env_info;
    char *argv[] = {"mesos-fetcher", (char *)arg, NULL};
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, f->out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&actions, 2, f->err, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    pid_t pid;
    assert_int_equal(posix_spawn(&pid, f->binary, &actions, NULL, argv, envp), 0);
    posix_spawn_file_actions_destroy(&actions);
    int status = wait_deadline(pid);
    free(env_info);
    for (size_t i = 0; i < 3; i++)
        free(passed[i]);
    run_t r = {.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1};
    r.stdout_text = test_read_file(f->out, NULL);
    r.stderr_text = test_read_file(f->err, NULL);
    assert_non_null(r.stdout_text);
    assert_non_null(r.stderr_text);
    return r;
}

static void run_fini(run_t *r)
{
    free(r->stdout_text);
    free(r->stderr_text);
}

/* The last line of text, without its newline, into a static buffer. */
static const char *last_line(const char *text)
{
    static char line[4096];
    size_t len = strlen(text);
    if (len > 0 && text[len - 1] == '\n')
        len--;
    size_t start = len;
    while (start > 0 && text[start - 1] != '\n')
        start--;
    snprintf(line, sizeof(line), "%.*s", (int)(len - start), text + start);
    return line;
}

static char *job(const fixture_t *f, const char *extra, const char *uris)
{
    char *text = NULL;
    assert_true(asprintf(&text, "{\"sandbox_directory\": \"%s\"%s, \"uris\": [%s]}",
                         f->site.sandbox, extra, uris) > 0);
    return text;
}

static void test_fetches_all_uris(void **state)
{
    fixture_t *f = *state;
    char *uris = NULL;
    char web[256], tgz[256];
    snprintf(web, sizeof(web), "%s", test_server_url(f->site.srv, "/web/"));
    snprintf(tgz, sizeof(tgz), "%s", test_server_url(f->site.srv, "/bundle.tgz"));
    assert_true(asprintf(&uris, "{\"value\": \"%s\"}, {\"value\": \"%s\"}", web, tgz) > 0);
    char *info = job(f, "", uris);
    run_t r = run_fetcher(f, info, NULL);
    assert_int_equal(r.status, 0);
    char *expect = NULL;
    assert_true(asprintf(&expect,
                         "Fetching '%s' into '%s'\n"
                         "Fetched '%s' to '%s/web'\n"
                         "Fetching '%s' into '%s'\n"
                         "Fetched '%s' to '%s/bundle.tgz' and extracted it\n"
                         "Successfully fetched all URIs into '%s'\n",
                         web, f->site.sandbox, web, f->site.sandbox, tgz, f->site.sandbox, tgz,
                         f->site.sandbox, f->site.sandbox) > 0);
    assert_string_equal(r.stdout_text, expect);
    assert_string_equal(r.stderr_text, "");
    assert_true(test_exists(f->site.sandbox, "web"));
    assert_true(test_exists(f->site.sandbox, "conf/app.json")); /* extract defaults to true */
    run_fini(&r);
    free(expect);
    free(info);
    free(uris);
}

static void test_flags_from_json(void **state)
{
    fixture_t *f = *state;
    char *uris = NULL;
    assert_true(asprintf(&uris,
                         "{\"value\": \"%s\", \"extract\": false, \"output_file\": \"b/x.tgz\"},"
                         "{\"value\": \"%s\", \"executable\": true}",
                         test_server_url(f->site.srv, "/bundle.tgz"),
                         test_server_url(f->site.srv, "/web/")) > 0);
    char *info = job(f, "", uris);
    run_t r = run_fetcher(f, info, NULL);
    assert_int_equal(r.status, 0);
    assert_true(test_exists(f->site.sandbox, "b/x.tgz"));
    assert_false(test_exists(f->site.sandbox, "conf"));
    char *web = test_join(f->site.sandbox, "web");
    struct stat st;
    assert_int_equal(stat(web, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0755);
    run_fini(&r);
    free(web);
    free(info);
    free(uris);
}

static void test_failure_is_last_stderr_line(void **state)
{
    fixture_t *f = *state;
    char missing[256];
    snprintf(missing, sizeof(missing), "%s", test_server_url(f->site.srv, "/gone.tar.gz"));
    char *uris = NULL;
    assert_true(asprintf(&uris, "{\"value\": \"%s\"}, {\"value\": \"%s\"}, {\"value\": \"%s\"}",
                         test_server_url(f->site.srv, "/web/"), missing,
                         test_server_url(f->site.srv, "/bundle.tgz")) > 0);
    char *info = job(f, "", uris);
    run_t r = run_fetcher(f, info, NULL);
    assert_int_equal(r.status, 1);
    char *expect = NULL;
    assert_true(asprintf(&expect,
                         "Failed to fetch '%s': Error downloading resource, received HTTP "
                         "return code 404",
                         missing) > 0);
    assert_string_equal(last_line(r.stderr_text), expect);
    assert_true(test_exists(f->site.sandbox, "web"));
    assert_false(test_exists(f->site.sandbox, "gone.tar.gz"));
    assert_false(test_exists(f->site.sandbox, "bundle.tgz")); /* stopped at the first failure */
    assert_null(strstr(r.stdout_text, "Successfully"));
    run_fini(&r);
    free(expect);
    free(info);
    free(uris);
}

static void test_cache_between_runs(void **state)
{
    fixture_t *f = *state;
    char *cache = test_join(f->site.root, "cache");
    char *extra = NULL;
    assert_true(
        asprintf(&extra, ", \"cache_directory\": \"%s\", \"cache_size\": \"1048576\"", cache) > 0);
    char *uris = NULL;
    assert_true(asprintf(&uris, "{\"value\": \"%s\", \"cache\": true}",
                         test_server_url(f->site.srv, "/bundle.tgz")) > 0);
    char *info = job(f, extra, uris);
    run_t r = run_fetcher(f, info, NULL);
    assert_int_equal(r.status, 0);
    assert_null(strstr(r.stdout_text, "from the cache"));
    run_fini(&r);
    test_server_stop(f->site.srv);
    f->site.srv = NULL;
    test_rmtree(f->site.sandbox);
    assert_int_equal(mkdir(f->site.sandbox, 0755), 0);
    r = run_fetcher(f, info, NULL);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.stdout_text, "from the cache and extracted it"));
    assert_true(test_exists(f->site.sandbox, "conf/app.json"));
    run_fini(&r);
    free(info);
    free(uris);
    free(extra);
    free(cache);
}

static void test_mesos_stall_timeout(void **state)
{
    fixture_t *f = *state;
    char *uris = NULL;
    assert_true(asprintf(&uris, "{\"value\": \"%s\"}", test_server_url(f->site.srv, "/stall")) > 0);
    char *info = job(f, ", \"stall_timeout\": {\"nanoseconds\": 1000000000}", uris);
    run_t r = run_fetcher(f, info, NULL);
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(last_line(r.stderr_text), "Operation too slow"));
    assert_int_equal(test_count_entries(f->site.sandbox), 0);
    run_fini(&r);
    free(info);
    free(uris);
}

static void test_no_uris(void **state)
{
    fixture_t *f = *state;
    char *info = job(f, "", "");
    run_t r = run_fetcher(f, info, NULL);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.stdout_text, "Successfully fetched all URIs"));
    run_fini(&r);
    free(info);
}

static void expect_bad_job(fixture_t *f, const char *info, const char *arg, const char *line)
{
    run_t r = run_fetcher(f, info, arg);
    assert_int_equal(r.status, 2);
    assert_string_equal(last_line(r.stderr_text), line);
    assert_int_equal(test_count_entries(f->site.sandbox), 0);
    run_fini(&r);
}

static void test_bad_jobs(void **state)
{
    fixture_t *f = *state;
    expect_bad_job(f, NULL, NULL, "Missing MESOS_FETCHER_INFO environment variable");
    expect_bad_job(f, "{\"sandbox_directory\": ", NULL,
                   "Failed to parse MESOS_FETCHER_INFO: unexpected token near end of file "
                   "(line 1, column 22)");
    expect_bad_job(f, "[1]", NULL, "Failed to parse MESOS_FETCHER_INFO: expected a JSON object");
    expect_bad_job(f, "{\"uris\": []}", NULL,
                   "Failed to parse MESOS_FETCHER_INFO: 'sandbox_directory' is required");
    expect_bad_job(f, "{\"sandbox_directory\": 7}", NULL,
                   "Failed to parse MESOS_FETCHER_INFO: 'sandbox_directory' must be a non-empty "
                   "string");
    char *info = job(f, ", \"cache_size\": -1", "");
    expect_bad_job(f, info, NULL,
                   "Failed to parse MESOS_FETCHER_INFO: 'cache_size' must be a non-negative "
                   "integer");
    free(info);
    info = job(f, "", "{\"value\": \"/x\"}, {\"extract\": true}");
    run_t r = run_fetcher(f, info, NULL);
    assert_int_equal(r.status, 2);
    assert_non_null(strstr(r.stderr_text, "Failed to parse MESOS_FETCHER_INFO: uris[1]: "));
    assert_non_null(strstr(r.stderr_text, "value"));
    run_fini(&r);
    free(info);
    expect_bad_job(f, "{\"sandbox_directory\": \"/tmp\", \"uris\": 3}", NULL,
                   "Failed to parse MESOS_FETCHER_INFO: 'uris' must be an array");
    expect_bad_job(f, "{}", "--bogus",
                   "Exit status: 0 all fetched, 1 a fetch failed (its message is the last line "
                   "on stderr), 2 the job could not be read.");
}

static void test_help(void **state)
{
    fixture_t *f = *state;
    run_t r = run_fetcher(f, NULL, "--help");
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.stdout_text, "Usage: MESOS_FETCHER_INFO="));
    run_fini(&r);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_fetches_all_uris),
        T(test_flags_from_json),
        T(test_failure_is_last_stderr_line),
        T(test_cache_between_runs),
        T(test_mesos_stall_timeout),
        T(test_no_uris),
        T(test_bad_jobs),
        T(test_help),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
