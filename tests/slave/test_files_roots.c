/* The files actor's roots (slave/files/files.h, files_root_add): attachments below a declared
 * root take their canonical path from the root's (canonicalised once) instead of realpath. Here
 * the agent's layout is made below a work directory reached through a symbolic link, and the
 * tests check the attachments' real paths (/files/debug) and reads through them (/files/read)
 * over real HTTP on 127.0.0.1: canonical under a linked work directory, a root declared before
 * it exists, "." and ".." falling back to realpath, nested declarations, and a sandbox
 * component swapped for a link to elsewhere, which must not expose what the link reaches. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "actor/actor.h"
#include "actor/http.h"
#include "slave/files/files.h"
#include "tests/support/fs.h"
#include "tests/support/http.h"

#define RUN_BELOW "frameworks/F/executors/E/runs/C1" /* a sandbox below the agent's root */

typedef struct fixture {
    uint16_t port;
    actor_pid_t files;
    char tmp[64];             /* the temporary directory holding everything */
    char canonical[PATH_MAX]; /* realpath(tmp): /tmp may itself be a link */
    char link_root[PATH_MAX]; /* <tmp>/work/slaves/S0 where <tmp>/work -> real-work */
    char real_root[PATH_MAX]; /* <canonical>/real-work/slaves/S0 */
    char run[PATH_MAX];       /* <link_root>/RUN_BELOW: the path the agent attaches */
    char real_run[PATH_MAX];  /* <real_root>/RUN_BELOW */
} fixture_t;

/* snprintf that fails the test instead of truncating. */
static void fmt(char *out, size_t len, const char *format, ...)
{
    va_list ap;
    va_start(ap, format);
    int n = vsnprintf(out, len, format, ap);
    va_end(ap);
    assert_true(n >= 0 && (size_t)n < len);
}

static void make_dirs(const char *path)
{
    char buf[PATH_MAX];
    fmt(buf, sizeof(buf), "%s", path);
    for (char *p = buf + 1; *p != '\0'; p++) {
        if (*p == '/') {
            *p = '\0';
            mkdir(buf, 0755);
            *p = '/';
        }
    }
    assert_true(mkdir(buf, 0755) == 0 || access(buf, F_OK) == 0);
}

static void write_in(const char *dir, const char *name, const char *text)
{
    char path[PATH_MAX + 64];
    fmt(path, sizeof(path), "%s/%s", dir, name);
    assert_true(support_fs_write(path, text));
}

static int setup(void **state)
{
    fixture_t *fx = calloc(1, sizeof(*fx));
    assert_non_null(fx);
    actor_runtime_options_t opts = {.workers = 1, .port = -1}; /* no transport */
    assert_int_equal(actor_runtime_start(&opts), ACTOR_OK);
    assert_int_equal(files_spawn(&fx->files), ACTOR_OK);
    assert_int_equal(actor_http_listen("127.0.0.1", 0, NULL, &fx->port), ACTOR_OK);
    assert_non_null(support_fs_tempdir(fx->tmp, sizeof(fx->tmp), "test_files_roots"));
    assert_non_null(realpath(fx->tmp, fx->canonical));
    char real_work[PATH_MAX + 16], link[PATH_MAX + 16];
    fmt(real_work, sizeof(real_work), "%s/real-work", fx->tmp);
    fmt(link, sizeof(link), "%s/work", fx->tmp);
    make_dirs(real_work);
    assert_int_equal(symlink("real-work", link), 0);
    fmt(fx->link_root, sizeof(fx->link_root), "%s/work/slaves/S0", fx->tmp);
    fmt(fx->real_root, sizeof(fx->real_root), "%s/real-work/slaves/S0", fx->canonical);
    fmt(fx->run, sizeof(fx->run), "%s/" RUN_BELOW, fx->link_root);
    fmt(fx->real_run, sizeof(fx->real_run), "%s/" RUN_BELOW, fx->real_root);
    write_in(fx->tmp, "secret", "top secret");
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *fx = *state;
    actor_runtime_stop();
    assert_int_equal(support_fs_rmtree(fx->tmp), 0);
    free(fx);
    return 0;
}

/* The real path /files/debug shows for a virtual path (a new string), or NULL. */
static char *attached(fixture_t *fx, const char *virtual_path)
{
    actor_settle();
    long status = 0;
    json_t *j = support_http_json("GET", fx->port, "/files/debug", NULL, &status);
    assert_int_equal(status, 200);
    const char *real = json_string_value(json_object_get(j, virtual_path));
    char *out = real != NULL ? strdup(real) : NULL;
    json_decref(j);
    return out;
}

static void assert_attached(fixture_t *fx, const char *virtual_path, const char *real)
{
    char *got = attached(fx, virtual_path);
    assert_non_null(got);
    assert_string_equal(got, real);
    free(got);
}

/* /files/read of a whole file: its status, and the body in *body when not NULL (caller frees). */
static long read_status(fixture_t *fx, const char *virtual_dir, const char *name, char **body)
{
    char path[PATH_MAX * 2];
    fmt(path, sizeof(path), "/files/read?path=%s/%s&offset=0", virtual_dir, name);
    long status = 0;
    char *text = support_http_text("GET", fx->port, path, NULL, &status);
    if (body != NULL)
        *body = text;
    else
        free(text);
    return status;
}

/* The agent's way: the root declared, the sandbox made with mkdir, then attached. */
static void test_sandbox_below_linked_work_dir(void **state)
{
    fixture_t *fx = *state;
    assert_int_equal(files_root_add(&fx->files, fx->link_root), ACTOR_OK);
    make_dirs(fx->run);
    write_in(fx->run, "stdout", "hello from the task\n");
    assert_int_equal(files_attach_sandbox(&fx->files, fx->run), ACTOR_OK);
    assert_attached(fx, fx->run, fx->real_run);
    char latest[PATH_MAX + 16];
    fmt(latest, sizeof(latest), "%s/frameworks/F/executors/E/runs/latest", fx->link_root);
    assert_attached(fx, latest, fx->real_run);
    char *body = NULL;
    assert_int_equal(read_status(fx, fx->run, "stdout", &body), 200);
    assert_non_null(strstr(body, "hello from the task"));
    free(body);
    assert_int_equal(read_status(fx, latest, "stdout", NULL), 200);
    /* The root itself, attached: its canonical form. */
    assert_int_equal(files_attach(&fx->files, fx->link_root, "/root"), ACTOR_OK);
    assert_attached(fx, "/root", fx->real_root);
    assert_int_equal(files_root_remove(&fx->files, fx->link_root), ACTOR_OK);
}

/* A sandbox component swapped for a link (by a task running as the agent's user) before the
 * attachment: the attachment keeps the directory the agent made, and nothing the link reaches
 * is served. Without a root, realpath would have followed the link. */
static void test_swapped_component_exposes_nothing(void **state)
{
    fixture_t *fx = *state;
    assert_int_equal(files_root_add(&fx->files, fx->link_root), ACTOR_OK);
    char executor[PATH_MAX + 32], moved[PATH_MAX + 32];
    fmt(executor, sizeof(executor), "%s/frameworks/F/executors/E", fx->real_root);
    fmt(moved, sizeof(moved), "%s/frameworks/F/executors/E-moved", fx->real_root);
    make_dirs(fx->real_run);
    assert_int_equal(rename(executor, moved), 0);
    char outside[PATH_MAX + 16];
    fmt(outside, sizeof(outside), "%s/outside/runs/C1", fx->tmp);
    make_dirs(outside);
    write_in(outside, "secret", "outside the sandbox");
    char target[PATH_MAX + 16];
    fmt(target, sizeof(target), "%s/outside", fx->tmp);
    assert_int_equal(symlink(target, executor), 0);
    assert_int_equal(files_attach_sandbox(&fx->files, fx->run), ACTOR_OK);
    assert_attached(fx, fx->run, fx->real_run); /* the agent's path, not the link's target */
    char *body = NULL;
    assert_int_equal(read_status(fx, fx->run, "secret", &body), 400);
    assert_non_null(strstr(body, "is inaccessible"));
    free(body);
    char browse[PATH_MAX * 2];
    fmt(browse, sizeof(browse), "/files/browse?path=%s", fx->run);
    long status = 0;
    char *listing = support_http_text("GET", fx->port, browse, NULL, &status);
    assert_int_equal(status, 400);
    assert_null(strstr(listing, "secret"));
    free(listing);
    /* The same attachment without the root: realpath adopts the link's target. */
    assert_int_equal(files_root_remove(&fx->files, fx->link_root), ACTOR_OK);
    assert_int_equal(files_attach(&fx->files, fx->run, "/plain"), ACTOR_OK);
    char *real = attached(fx, "/plain");
    assert_non_null(real);
    assert_non_null(strstr(real, "/outside/runs/C1"));
    free(real);
}

/* Declared before the directory exists (an agent declares it at registration, before its first
 * sandbox): canonicalised at the first attachment below it. */
static void test_root_declared_before_it_exists(void **state)
{
    fixture_t *fx = *state;
    assert_int_equal(files_root_add(&fx->files, fx->link_root), ACTOR_OK);
    assert_int_equal(files_attach_sandbox(&fx->files, fx->run), ACTOR_OK);
    assert_null(attached(fx, fx->run)); /* nothing there yet: not attached */
    make_dirs(fx->run);
    assert_int_equal(files_attach_sandbox(&fx->files, fx->run), ACTOR_OK);
    assert_attached(fx, fx->run, fx->real_run);
    assert_int_equal(files_root_remove(&fx->files, fx->link_root), ACTOR_OK);
}

/* "." and ".." below a root, and paths outside every root, go through realpath. */
static void test_dot_components_use_realpath(void **state)
{
    fixture_t *fx = *state;
    assert_int_equal(files_root_add(&fx->files, fx->link_root), ACTOR_OK);
    make_dirs(fx->run);
    char dotted[PATH_MAX + 64];
    fmt(dotted, sizeof(dotted), "%s/frameworks/F/../F/executors/./E/runs/C1", fx->link_root);
    assert_int_equal(files_attach(&fx->files, dotted, "/dotted"), ACTOR_OK);
    assert_attached(fx, "/dotted", fx->real_run);
    /* ".." out of the root: realpath's answer, outside it. */
    char up[PATH_MAX + 16];
    fmt(up, sizeof(up), "%s/../../..", fx->link_root);
    assert_int_equal(files_attach(&fx->files, up, "/up"), ACTOR_OK);
    assert_attached(fx, "/up", fx->canonical);
    /* Outside every root. */
    assert_int_equal(files_attach(&fx->files, fx->tmp, "/tmpdir"), ACTOR_OK);
    assert_attached(fx, "/tmpdir", fx->canonical);
    assert_int_equal(files_root_remove(&fx->files, fx->link_root), ACTOR_OK);
}

/* Declarations nest: the root holds until its last declaration is undone (seen through a
 * swapped component: the attachment keeps the agent's path only below a root). */
static void test_roots_nest(void **state)
{
    fixture_t *fx = *state;
    make_dirs(fx->real_run);
    char runs[PATH_MAX + 16], moved[PATH_MAX + 16];
    fmt(runs, sizeof(runs), "%s/frameworks/F/executors/E/runs", fx->real_root);
    fmt(moved, sizeof(moved), "%s/frameworks/F/executors/E/runs-moved", fx->real_root);
    assert_int_equal(rename(runs, moved), 0);
    assert_int_equal(symlink("runs-moved", runs), 0);
    char moved_run[PATH_MAX + 16];
    fmt(moved_run, sizeof(moved_run), "%s/C1", moved);
    assert_int_equal(files_root_add(&fx->files, fx->link_root), ACTOR_OK);
    assert_int_equal(files_root_add(&fx->files, fx->link_root), ACTOR_OK);
    assert_int_equal(files_root_remove(&fx->files, fx->link_root), ACTOR_OK);
    assert_int_equal(files_attach(&fx->files, fx->run, "/once"), ACTOR_OK);
    assert_attached(fx, "/once", fx->real_run);
    assert_int_equal(files_root_remove(&fx->files, fx->link_root), ACTOR_OK);
    assert_int_equal(files_attach(&fx->files, fx->run, "/gone"), ACTOR_OK);
    assert_attached(fx, "/gone", moved_run);
    assert_int_equal(files_root_remove(&fx->files, fx->link_root), ACTOR_OK); /* unknown: fine */
}

static void test_bad_arguments(void **state)
{
    fixture_t *fx = *state;
    assert_int_equal(files_root_add(NULL, "/x"), ACTOR_EINVAL);
    assert_int_equal(files_root_add(&fx->files, NULL), ACTOR_EINVAL);
    assert_int_equal(files_root_add(&fx->files, ""), ACTOR_EINVAL);
    assert_int_equal(files_root_add(&fx->files, "relative/dir"), ACTOR_EINVAL);
    assert_int_equal(files_root_remove(&fx->files, "relative/dir"), ACTOR_EINVAL);
    assert_int_equal(files_root_remove(NULL, "/x"), ACTOR_EINVAL);
    actor_pid_t nobody;
    assert_int_equal(actor_pid_parse("nobody@127.0.0.1:1", &nobody), ACTOR_OK);
    assert_int_equal(files_root_add(&nobody, "/x"), ACTOR_ENOENT);
    /* "/" is no root: it would vouch for every path of the machine. */
    assert_int_equal(files_root_add(&fx->files, "/"), ACTOR_EINVAL);
    assert_int_equal(files_root_add(&fx->files, "//"), ACTOR_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_sandbox_below_linked_work_dir, setup, teardown),
        cmocka_unit_test_setup_teardown(test_swapped_component_exposes_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_root_declared_before_it_exists, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dot_components_use_realpath, setup, teardown),
        cmocka_unit_test_setup_teardown(test_roots_nest, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_arguments, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
