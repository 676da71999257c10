/*
 * Tests of slave/fetcher/cache.c, directly and through fetcher_fetch with cache: true: hits with
 * the server stopped, keys per user, LRU eviction, entries too big to keep, what dead fetchers
 * leave behind, hash collisions, and fetchers racing for one entry in threads.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "slave/fetcher/fetcher_int.h"
#include "tests/fetcher/support.h"

#define BLOB_BYTES 1000
#define THREADS    6

static char blob_a[BLOB_BYTES], blob_b[BLOB_BYTES], blob_c[BLOB_BYTES];
static const test_entry_t bundle[] = {{.path = "inside.txt", .content = "inside\n"}};

typedef struct fixture {
    test_site_t site;
    test_route_t routes[8];
    void *tgz;
    size_t tgz_len;
    char *cache_dir;
    char *sandbox2;
    fetcher_options_t opts;
    fetcher_uri_t uri;
    fetcher_result_t result;
    char err[2048];
    char why[1024];
} fixture_t;

static int setup(void **state)
{
    memset(blob_a, 'a', sizeof(blob_a));
    memset(blob_b, 'b', sizeof(blob_b));
    memset(blob_c, 'c', sizeof(blob_c));
    fixture_t *f = calloc(1, sizeof(*f));
    test_archive("tar.gz", bundle, 1, &f->tgz, &f->tgz_len);
    f->routes[0] = (test_route_t){.target = "/a.bin", .body = blob_a, .body_len = BLOB_BYTES};
    f->routes[1] = (test_route_t){.target = "/b.bin", .body = blob_b, .body_len = BLOB_BYTES};
    f->routes[2] = (test_route_t){.target = "/c.bin", .body = blob_c, .body_len = BLOB_BYTES};
    f->routes[3] = (test_route_t){.target = "/pkg.tar.gz", .body = f->tgz, .body_len = f->tgz_len};
    f->routes[4] = (test_route_t){
        .target = "/", .body = "x", .body_len = 1, .disposition = "attachment; filename=n.txt"};
    test_site_open(&f->site, f->routes, 5);
    f->cache_dir = test_join(f->site.root, "var/cache/fetcher");
    f->sandbox2 = test_join(f->site.root, "sandbox2");
    assert_int_equal(mkdir(f->sandbox2, 0755), 0);
    fetcher_options_init(&f->opts);
    f->opts.sandbox = f->site.sandbox;
    f->opts.cache_dir = f->cache_dir;
    fetcher_uri_init(&f->uri);
    f->uri.cache = true;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    test_site_close(&f->site);
    free(f->cache_dir);
    free(f->sandbox2);
    free(f->tgz);
    free(f);
    return 0;
}

static actor_err_t fetch(fixture_t *f, const char *target)
{
    f->uri.value = test_server_url(f->site.srv, target);
    return fetcher_fetch(&f->opts, &f->uri, &f->result, f->err, sizeof(f->err));
}

static void stop_server(fixture_t *f)
{
    test_server_stop(f->site.srv);
    f->site.srv = NULL;
}

/* Entries in the cache directory other than ".lock": published keys and leftovers. */
static size_t cache_entries(const fixture_t *f)
{
    size_t n = test_count_entries(f->cache_dir);
    return test_exists(f->cache_dir, ".lock") ? n - 1 : n;
}

static bool cached(fixture_t *f, const char *url, const char *user)
{
    fetcher_cache_t cache;
    fetcher_cache_entry_t entry;
    assert_int_equal(fetcher_cache_open(&cache, f->cache_dir, FETCHER_DEFAULT_CACHE_BYTES, f->why,
                                        sizeof(f->why)),
                     ACTOR_OK);
    bool hit = fetcher_cache_get(&cache, url, user, &entry) == ACTOR_OK;
    fetcher_cache_entry_fini(&cache, &entry);
    fetcher_cache_close(&cache);
    return hit;
}

/* ---- keys --------------------------------------------------------------------------------- */

static void test_key(void **state)
{
    (void)state;
    char a[FETCHER_CACHE_KEY_LEN + 1], b[FETCHER_CACHE_KEY_LEN + 1];
    fetcher_cache_key("http://h/x", NULL, a);
    assert_int_equal(strlen(a), FETCHER_CACHE_KEY_LEN);
    assert_int_equal(strspn(a, "0123456789abcdef"), FETCHER_CACHE_KEY_LEN);
    fetcher_cache_key("http://h/x", "", b);
    assert_string_equal(a, b); /* no user and the empty user are one */
    fetcher_cache_key("http://h/x", "alice", b);
    assert_string_not_equal(a, b);
    fetcher_cache_key("http://h/y", NULL, b);
    assert_string_not_equal(a, b);
    fetcher_cache_key("c", "ab", a);
    fetcher_cache_key("bc", "a", b);
    assert_string_not_equal(a, b);
}

/* ---- through fetcher_fetch ---------------------------------------------------------------- */

static void test_hit_with_server_stopped(void **state)
{
    fixture_t *f = *state;
    assert_int_equal(fetch(f, "/a.bin"), ACTOR_OK);
    assert_false(f->result.from_cache);
    char url[256];
    snprintf(url, sizeof(url), "%s", f->uri.value);
    assert_true(cached(f, url, NULL));
    stop_server(f);
    f->opts.sandbox = f->sandbox2;
    f->uri.value = url;
    assert_int_equal(fetcher_fetch(&f->opts, &f->uri, &f->result, f->err, sizeof(f->err)),
                     ACTOR_OK);
    assert_true(f->result.from_cache);
    test_assert_file(f->sandbox2, "a.bin", blob_a, BLOB_BYTES);
    assert_int_equal(test_count_entries(f->sandbox2), 1);
    /* Without the cache the same URI now fails: the server is gone. */
    f->uri.cache = false;
    assert_int_equal(fetcher_fetch(&f->opts, &f->uri, &f->result, f->err, sizeof(f->err)),
                     ACTOR_EPROTO);
}

static void test_hit_extracts_and_chmods(void **state)
{
    fixture_t *f = *state;
    assert_int_equal(fetch(f, "/pkg.tar.gz"), ACTOR_OK);
    assert_true(f->result.extracted);
    size_t requests = test_server_requests(f->site.srv);
    f->opts.sandbox = f->sandbox2;
    assert_int_equal(fetch(f, "/pkg.tar.gz"), ACTOR_OK);
    assert_true(f->result.from_cache);
    assert_true(f->result.extracted);
    test_assert_file(f->sandbox2, "inside.txt", "inside\n", 7);
    assert_true(test_exists(f->sandbox2, "pkg.tar.gz"));
    /* The same entry, now executable: copied, 0755, not extracted. */
    f->uri.executable = true;
    f->uri.output_file = "tool";
    assert_int_equal(fetch(f, "/pkg.tar.gz"), ACTOR_OK);
    assert_true(f->result.from_cache);
    assert_false(f->result.extracted);
    struct stat st;
    assert_int_equal(stat(f->result.path, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0755);
    assert_int_equal(test_server_requests(f->site.srv), requests);
}

static void test_hit_keeps_disposition_name(void **state)
{
    fixture_t *f = *state;
    assert_int_equal(fetch(f, "/"), ACTOR_OK);
    assert_true(test_exists(f->site.sandbox, "n.txt"));
    f->opts.sandbox = f->sandbox2;
    assert_int_equal(fetch(f, "/"), ACTOR_OK);
    assert_true(f->result.from_cache);
    test_assert_file(f->sandbox2, "n.txt", "x", 1);
}

static void test_keyed_by_user(void **state)
{
    fixture_t *f = *state;
    struct passwd *pw = getpwuid(geteuid());
    assert_non_null(pw);
    char *me = strdup(pw->pw_name);
    assert_int_equal(fetch(f, "/a.bin"), ACTOR_OK);
    f->opts.user = me;
    assert_int_equal(fetch(f, "/a.bin"), ACTOR_OK);
    assert_false(f->result.from_cache);
    assert_int_equal(test_server_requests(f->site.srv), 2);
    assert_int_equal(cache_entries(f), 2);
    assert_int_equal(fetch(f, "/a.bin"), ACTOR_OK);
    assert_true(f->result.from_cache);
    free(me);
}

static void test_disabled_cache_downloads_each_time(void **state)
{
    fixture_t *f = *state;
    f->opts.cache_dir = NULL;
    assert_int_equal(fetch(f, "/a.bin"), ACTOR_OK);
    assert_int_equal(fetch(f, "/a.bin"), ACTOR_OK);
    assert_false(f->result.from_cache);
    assert_int_equal(test_server_requests(f->site.srv), 2);
    assert_false(test_exists(f->site.root, "var"));
}

static void test_cache_false_bypasses(void **state)
{
    fixture_t *f = *state;
    f->uri.cache = false;
    assert_int_equal(fetch(f, "/a.bin"), ACTOR_OK);
    assert_false(test_exists(f->site.root, "var"));
}

static void test_lru_eviction(void **state)
{
    fixture_t *f = *state;
    f->opts.cache_max_bytes = 2 * BLOB_BYTES + BLOB_BYTES / 2; /* room for two */
    char a[256], b[256], c[256];
    snprintf(a, sizeof(a), "%s", test_server_url(f->site.srv, "/a.bin"));
    snprintf(b, sizeof(b), "%s", test_server_url(f->site.srv, "/b.bin"));
    snprintf(c, sizeof(c), "%s", test_server_url(f->site.srv, "/c.bin"));
    assert_int_equal(fetch(f, "/a.bin"), ACTOR_OK);
    assert_int_equal(fetch(f, "/b.bin"), ACTOR_OK);
    assert_int_equal(fetch(f, "/a.bin"), ACTOR_OK); /* a is now the most recently used */
    assert_true(f->result.from_cache);
    assert_int_equal(fetch(f, "/c.bin"), ACTOR_OK);
    assert_true(cached(f, a, NULL));
    assert_false(cached(f, b, NULL));
    assert_true(cached(f, c, NULL));
    assert_int_equal(cache_entries(f), 2);
    fetcher_cache_t cache;
    uint64_t total = 0;
    assert_int_equal(
        fetcher_cache_open(&cache, f->cache_dir, f->opts.cache_max_bytes, f->why, sizeof(f->why)),
        ACTOR_OK);
    assert_int_equal(fetcher_cache_evict(&cache, NULL, &total, f->why, sizeof(f->why)), ACTOR_OK);
    assert_int_equal(total, 2 * BLOB_BYTES);
    fetcher_cache_close(&cache);
}

static void test_too_big_is_not_kept(void **state)
{
    fixture_t *f = *state;
    f->opts.cache_max_bytes = BLOB_BYTES - 1;
    assert_int_equal(fetch(f, "/a.bin"), ACTOR_OK);
    test_assert_file(f->site.sandbox, "a.bin", blob_a, BLOB_BYTES);
    assert_int_equal(cache_entries(f), 0);
}

static void test_failed_download_is_not_cached(void **state)
{
    fixture_t *f = *state;
    assert_int_equal(fetch(f, "/missing.bin"), ACTOR_EPROTO);
    assert_int_equal(cache_entries(f), 0);
    assert_int_equal(test_count_entries(f->site.sandbox), 0);
}

static void test_unusable_cache_is_bypassed(void **state)
{
    fixture_t *f = *state;
    /* A cache directory that cannot exist: below a regular file. */
    char *file = test_join(f->site.root, "plain");
    char *below = test_join(file, "cache");
    test_write_file(file, "x", 1);
    f->opts.cache_dir = below;
    assert_int_equal(fetch(f, "/a.bin"), ACTOR_OK);
    assert_false(f->result.from_cache);
    test_assert_file(f->site.sandbox, "a.bin", blob_a, BLOB_BYTES);
    free(file);
    free(below);
}

/* ---- the cache itself --------------------------------------------------------------------- */

static void test_leftovers_removed_live_temp_kept(void **state)
{
    fixture_t *f = *state;
    fetcher_cache_t cache;
    fetcher_cache_entry_t live;
    assert_int_equal(fetcher_cache_open(&cache, f->cache_dir, 100, f->why, sizeof(f->why)),
                     ACTOR_OK);
    char *dead = test_join(f->cache_dir, ".tmp-0123456789ab");
    char *dead_data = test_join(dead, "data");
    char *evicting = test_join(f->cache_dir, ".evict-0123");
    assert_int_equal(mkdir(dead, 0755), 0);
    test_write_file(dead_data, "partial", 7);
    assert_int_equal(mkdir(evicting, 0755), 0);
    assert_int_equal(fetcher_cache_create(&cache, &live, f->why, sizeof(f->why)), ACTOR_OK);
    assert_int_equal(cache_entries(f), 3);
    assert_int_equal(fetcher_cache_evict(&cache, NULL, NULL, f->why, sizeof(f->why)), ACTOR_OK);
    assert_int_equal(cache_entries(f), 1); /* the live one, still flock'd by its writer */
    assert_true(test_exists(f->cache_dir, live.tmp_name));
    fetcher_cache_entry_fini(&cache, &live);
    assert_int_equal(cache_entries(f), 0);
    fetcher_cache_close(&cache);
    free(dead);
    free(dead_data);
    free(evicting);
}

static void test_collision_is_a_miss(void **state)
{
    fixture_t *f = *state;
    char url[256];
    snprintf(url, sizeof(url), "%s", test_server_url(f->site.srv, "/a.bin"));
    /* An entry under a's key that was stored for another URI. */
    char key[FETCHER_CACHE_KEY_LEN + 1];
    fetcher_cache_key(url, NULL, key);
    fetcher_cache_t cache;
    assert_int_equal(fetcher_cache_open(&cache, f->cache_dir, 1 << 20, f->why, sizeof(f->why)),
                     ACTOR_OK);
    fetcher_cache_close(&cache);
    char *dir = test_join(f->cache_dir, key);
    char *data = test_join(dir, "data");
    char *meta = test_join(dir, "meta");
    assert_int_equal(mkdir(dir, 0755), 0);
    test_write_file(data, "other", 5);
    test_write_file(meta, "uri http://elsewhere/a.bin\nuser \nname \n", 39);
    assert_false(cached(f, url, NULL));
    assert_int_equal(fetch(f, "/a.bin"), ACTOR_OK);
    assert_false(f->result.from_cache);
    test_assert_file(f->site.sandbox, "a.bin", blob_a, BLOB_BYTES);
    assert_int_equal(cache_entries(f), 1); /* the other entry; ours was not kept */
    free(dir);
    free(data);
    free(meta);
}

static void test_open_entry_survives_eviction(void **state)
{
    fixture_t *f = *state;
    assert_int_equal(fetch(f, "/a.bin"), ACTOR_OK);
    fetcher_cache_t cache, tiny;
    fetcher_cache_entry_t entry;
    assert_int_equal(fetcher_cache_open(&cache, f->cache_dir, 1 << 20, f->why, sizeof(f->why)),
                     ACTOR_OK);
    assert_int_equal(fetcher_cache_get(&cache, f->uri.value, NULL, &entry), ACTOR_OK);
    assert_int_equal(fetcher_cache_open(&tiny, f->cache_dir, 0, f->why, sizeof(f->why)), ACTOR_OK);
    assert_int_equal(fetcher_cache_evict(&tiny, NULL, NULL, f->why, sizeof(f->why)), ACTOR_OK);
    assert_int_equal(cache_entries(f), 0);
    char buf[BLOB_BYTES * 2];
    assert_int_equal(read(entry.data_fd, buf, sizeof(buf)), BLOB_BYTES);
    assert_memory_equal(buf, blob_a, BLOB_BYTES);
    fetcher_cache_entry_fini(&cache, &entry);
    fetcher_cache_close(&tiny);
    fetcher_cache_close(&cache);
}

typedef struct racer {
    fetcher_options_t opts;
    fetcher_uri_t uri;
    char sandbox[512];
    actor_err_t rc;
    char err[1024];
} racer_t;

static void *race(void *arg)
{
    racer_t *r = arg;
    r->rc = fetcher_fetch(&r->opts, &r->uri, NULL, r->err, sizeof(r->err));
    return NULL;
}

static void test_concurrent_fetchers(void **state)
{
    fixture_t *f = *state;
    racer_t racers[THREADS];
    pthread_t threads[THREADS];
    const char *targets[] = {"/a.bin", "/b.bin", "/pkg.tar.gz"};
    for (int i = 0; i < THREADS; i++) {
        racer_t *r = &racers[i];
        snprintf(r->sandbox, sizeof(r->sandbox), "%s/s%d", f->site.root, i);
        assert_int_equal(mkdir(r->sandbox, 0755), 0);
        r->opts = f->opts;
        r->opts.sandbox = r->sandbox;
        r->uri = f->uri;
        r->uri.value = strdup(test_server_url(f->site.srv, targets[i % 3]));
    }
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(pthread_create(&threads[i], NULL, race, &racers[i]), 0);
    for (int i = 0; i < THREADS; i++) {
        pthread_join(threads[i], NULL);
        assert_int_equal(racers[i].rc, ACTOR_OK);
    }
    for (int i = 0; i < THREADS; i++) {
        if (i % 3 == 0)
            test_assert_file(racers[i].sandbox, "a.bin", blob_a, BLOB_BYTES);
        if (i % 3 == 2)
            test_assert_file(racers[i].sandbox, "inside.txt", "inside\n", 7);
        free((char *)racers[i].uri.value);
    }
    assert_int_equal(cache_entries(f), 3); /* one per URI, no temporary left */
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_key),
        T(test_hit_with_server_stopped),
        T(test_hit_extracts_and_chmods),
        T(test_hit_keeps_disposition_name),
        T(test_keyed_by_user),
        T(test_disabled_cache_downloads_each_time),
        T(test_cache_false_bypasses),
        T(test_lru_eviction),
        T(test_too_big_is_not_kept),
        T(test_failed_download_is_not_cached),
        T(test_unusable_cache_is_bypassed),
        T(test_leftovers_removed_live_temp_kept),
        T(test_collision_is_a_miss),
        T(test_open_entry_survives_eviction),
        T(test_concurrent_fetchers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
