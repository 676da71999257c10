/* Tests of the "lmdb" backend of store.h that the "memory" one has no counterpart for: data
 * survives close and reopen, and a kill -9 of the writing process right after store_apply()
 * returned; a full map refuses the batch with ACTOR_ETOOBIG and keeps what was there; directories
 * that cannot be created and corrupt files are errors, not crashes; a scan in progress reads its
 * snapshot without holding up a writer. Each test works in its own mkdtemp directory under /tmp,
 * removed by the teardown; processes and threads are ordered by pipes, never by sleeps. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "store/store.h"

typedef struct fixture {
    char dir[64];   /* mkdtemp directory */
    char path[128]; /* dir/db: the store's directory, not yet created */
} fixture_t;

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    strcpy(f->dir, "/tmp/test_store_lmdb.XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->path, sizeof(f->path), "%s/db", f->dir);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    assert_int_equal(nftw(f->dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS), 0);
    free(f);
    return 0;
}

static store_t *open_at(const char *path, size_t map_size)
{
    store_options_t options = {.map_size = map_size};
    store_t *s = NULL;
    assert_int_equal(store_open(&s, "lmdb", path, &options), ACTOR_OK);
    assert_non_null(s);
    return s;
}

static void put(store_t *s, const char *key, const char *value)
{
    assert_int_equal(store_put(s, key, strlen(key), value, strlen(value)), ACTOR_OK);
}

/* Asserts that key holds value (NULL: that key is absent). */
static void assert_stored(store_t *s, const char *key, const char *value)
{
    void *got = NULL;
    size_t len = 0;
    actor_err_t err = store_get(s, key, strlen(key), &got, &len);
    if (value == NULL) {
        assert_int_equal(err, ACTOR_ENOENT);
        return;
    }
    assert_int_equal(err, ACTOR_OK);
    assert_int_equal(len, strlen(value));
    assert_memory_equal(got, value, len);
    free(got);
}

static bool count_keys(void *arg, const void *key, size_t key_len, const void *value,
                       size_t value_len)
{
    (void)key;
    (void)key_len;
    (void)value;
    (void)value_len;
    (*(int *)arg)++;
    return true;
}

static int keys_with_prefix(store_t *s, const char *prefix)
{
    int n = 0;
    assert_int_equal(store_scan(s, prefix, strlen(prefix), count_keys, &n), ACTOR_OK);
    return n;
}

static void test_reopen_sees_the_data(void **state)
{
    fixture_t *f = *state;
    store_t *s = open_at(f->path, 0);
    put(s, "agents/1", "one");
    put(s, "agents/2", "two");
    put(s, "gone", "x");
    assert_int_equal(store_delete(s, "gone", 4), ACTOR_OK);
    store_close(s);
    s = open_at(f->path, 0);
    assert_stored(s, "agents/1", "one");
    assert_stored(s, "agents/2", "two");
    assert_stored(s, "gone", NULL);
    assert_int_equal(keys_with_prefix(s, "agents/"), 2);
    put(s, "agents/3", "three");
    store_close(s);
    s = open_at(f->path, 0);
    assert_int_equal(keys_with_prefix(s, ""), 3);
    store_close(s);
}

enum { KILL_BATCHES = 5, KILL_OPS = 100 };

/* The child of test_survives_kill9: opens the store, applies KILL_BATCHES batches of KILL_OPS puts,
 * reports each through `report`, then blocks on `hold` until killed. Never returns. */
static void kill9_child(const char *path, int report, int hold)
{
    store_t *s;
    if (store_open(&s, "lmdb", path, NULL) != ACTOR_OK)
        _exit(1);
    static char keys[KILL_OPS][32];
    store_op_t ops[KILL_OPS];
    for (int b = 0; b < KILL_BATCHES; b++) {
        for (int i = 0; i < KILL_OPS; i++) {
            snprintf(keys[i], sizeof(keys[i]), "batch/%d/%03d", b, i);
            ops[i] = (store_op_t){STORE_OP_PUT, keys[i], strlen(keys[i]), keys[i], strlen(keys[i])};
        }
        if (store_apply(s, ops, KILL_OPS) != ACTOR_OK)
            _exit(2);
        char done = (char)b;
        if (write(report, &done, 1) != 1)
            _exit(3);
    }
    char c;
    while (read(hold, &c, 1) != 0) /* the parent never writes nor closes before the kill */
        ;
    _exit(4);
}

/* A batch whose store_apply() returned is there after the writer is killed with SIGKILL before it
 * closed the store. */
static void test_survives_kill9(void **state)
{
    fixture_t *f = *state;
    int report[2], hold[2];
    assert_int_equal(pipe(report), 0);
    assert_int_equal(pipe(hold), 0);
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        close(report[0]);
        close(hold[1]);
        kill9_child(f->path, report[1], hold[0]);
    }
    close(report[1]);
    close(hold[0]);
    for (int b = 0; b < KILL_BATCHES; b++) {
        char done;
        assert_int_equal(read(report[0], &done, 1), 1);
        assert_int_equal(done, b);
    }
    assert_int_equal(kill(child, SIGKILL), 0);
    int status;
    assert_int_equal(waitpid(child, &status, 0), child);
    assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    close(report[0]);
    close(hold[1]);

    store_t *s = open_at(f->path, 0);
    assert_int_equal(keys_with_prefix(s, "batch/"), KILL_BATCHES * KILL_OPS);
    assert_stored(s, "batch/0/000", "batch/0/000");
    assert_stored(s, "batch/4/099", "batch/4/099");
    put(s, "after", "restart"); /* the killed writer left no lock behind */
    assert_stored(s, "after", "restart");
    store_close(s);
}

/* The child of test_kill9_during_a_scan: pauses inside a scan (a read transaction) until killed. */
static bool scan_and_hang(void *arg, const void *key, size_t key_len, const void *value,
                          size_t value_len)
{
    (void)key;
    (void)key_len;
    (void)value;
    (void)value_len;
    const int *fds = arg; /* report, hold */
    char c = 'r';
    if (write(fds[0], &c, 1) != 1)
        _exit(3);
    while (read(fds[1], &c, 1) != 0)
        ;
    _exit(4);
}

/* A process killed in the middle of a read transaction leaves a reader slot behind; the next open
 * clears it and writes go on, also over the pages the dead reader pinned. */
static void test_kill9_during_a_scan(void **state)
{
    fixture_t *f = *state;
    store_t *s = open_at(f->path, 0);
    put(s, "k", "before");
    store_close(s);
    int report[2], hold[2];
    assert_int_equal(pipe(report), 0);
    assert_int_equal(pipe(hold), 0);
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        int fds[2] = {report[1], hold[0]};
        close(report[0]);
        close(hold[1]);
        if (store_open(&s, "lmdb", f->path, NULL) != ACTOR_OK)
            _exit(1);
        store_scan(s, "k", 1, scan_and_hang, fds);
        _exit(2);
    }
    close(report[1]);
    close(hold[0]);
    char c;
    assert_int_equal(read(report[0], &c, 1), 1);
    assert_int_equal(kill(child, SIGKILL), 0);
    int status;
    assert_int_equal(waitpid(child, &status, 0), child);
    assert_true(WIFSIGNALED(status));
    close(report[0]);
    close(hold[1]);

    s = open_at(f->path, 0);
    assert_stored(s, "k", "before");
    for (int i = 0; i < 50; i++)
        put(s, "k", i % 2 ? "odd" : "even");
    assert_stored(s, "k", "odd");
    store_close(s);
}

/* A map too small for the next batch refuses it with ACTOR_ETOOBIG and keeps every earlier batch,
 * also across a reopen; a reopen with a larger map makes room. */
static void test_full_map_keeps_earlier_data(void **state)
{
    fixture_t *f = *state;
    store_t *s = open_at(f->path, 64 * 1024);
    put(s, "keep", "this");
    char value[2048];
    memset(value, 'v', sizeof(value));
    int written = 0;
    char key[32], last[32] = "";
    actor_err_t err = ACTOR_OK;
    while (err == ACTOR_OK && written < 1000) {
        /* Two puts per batch: half a batch would show as "last" naming a missing key. */
        snprintf(key, sizeof(key), "fill/%04d", written);
        store_op_t ops[] = {{STORE_OP_PUT, key, strlen(key), value, sizeof(value)},
                            {STORE_OP_PUT, "last", 4, key, strlen(key)}};
        err = store_apply(s, ops, 2);
        if (err == ACTOR_OK) {
            written++;
            strcpy(last, key);
        }
    }
    assert_int_equal(err, ACTOR_ETOOBIG);
    assert_true(written > 0);
    assert_stored(s, "keep", "this");
    assert_stored(s, "last", last);
    assert_stored(s, key, NULL);
    assert_int_equal(keys_with_prefix(s, "fill/"), written);
    store_op_t batch[] = {{STORE_OP_DELETE, "keep", 4, NULL, 0},
                          {STORE_OP_PUT, "big", 3, value, sizeof(value)},
                          {STORE_OP_PUT, "bigger", 6, value, sizeof(value)}};
    assert_int_equal(store_apply(s, batch, 3), ACTOR_ETOOBIG);
    assert_stored(s, "keep", "this");
    assert_stored(s, "big", NULL);
    store_close(s);

    s = open_at(f->path, 64 * 1024);
    assert_stored(s, "keep", "this");
    assert_int_equal(keys_with_prefix(s, "fill/"), written);
    store_close(s);
    s = open_at(f->path, 0);
    assert_int_equal(store_apply(s, batch, 3), ACTOR_OK);
    assert_stored(s, "keep", NULL);
    assert_int_equal(keys_with_prefix(s, "fill/"), written);
    store_close(s);
}

/* One value larger than the whole map. */
static void test_value_larger_than_the_map(void **state)
{
    fixture_t *f = *state;
    store_t *s = open_at(f->path, 64 * 1024);
    put(s, "small", "1");
    size_t len = 256 * 1024;
    char *value = calloc(1, len);
    assert_non_null(value);
    assert_int_equal(store_put(s, "huge", 4, value, len), ACTOR_ETOOBIG);
    assert_stored(s, "huge", NULL);
    assert_stored(s, "small", "1");
    put(s, "small", "2"); /* still writable */
    assert_stored(s, "small", "2");
    free(value);
    store_close(s);
}

static void make_file(const char *path, const void *data, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, len), (ssize_t)len);
    assert_int_equal(close(fd), 0);
}

static void test_directory_under_a_regular_file(void **state)
{
    fixture_t *f = *state;
    char file[160], below[192];
    snprintf(file, sizeof(file), "%s/file", f->dir);
    snprintf(below, sizeof(below), "%s/sub/db", file);
    make_file(file, "x", 1);
    store_t *s = NULL;
    assert_int_equal(store_open(&s, "lmdb", below, NULL), ACTOR_ESYSTEM);
    assert_null(s);
    assert_int_equal(store_open(&s, "lmdb", file, NULL), ACTOR_ESYSTEM); /* a file, not a dir */
    assert_null(s);
}

static void test_creates_missing_parents(void **state)
{
    fixture_t *f = *state;
    char deep[192];
    snprintf(deep, sizeof(deep), "%s/a/b//c/", f->dir);
    store_t *s = open_at(deep, 0);
    put(s, "k", "v");
    store_close(s);
    struct stat st;
    snprintf(deep, sizeof(deep), "%s/a/b/c", f->dir);
    assert_int_equal(stat(deep, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    assert_int_equal(st.st_mode & 0777, 0700);
    s = open_at(deep, 0);
    assert_stored(s, "k", "v");
    store_close(s);
}

static void test_corrupt_file_is_refused(void **state)
{
    fixture_t *f = *state;
    char data[256];
    assert_int_equal(mkdir(f->path, 0700), 0);
    snprintf(data, sizeof(data), "%s/data.mdb", f->path);
    char garbage[16384];
    for (size_t i = 0; i < sizeof(garbage); i++)
        garbage[i] = (char)(i * 131 + 7);
    make_file(data, garbage, sizeof(garbage));
    store_t *s = NULL;
    assert_int_equal(store_open(&s, "lmdb", f->path, NULL), ACTOR_ESYSTEM);
    assert_null(s);
}

static void test_path_is_required(void **state)
{
    (void)state;
    store_t *s = NULL;
    assert_int_equal(store_open(&s, "lmdb", NULL, NULL), ACTOR_EINVAL);
    assert_int_equal(store_open(&s, "lmdb", "", NULL), ACTOR_EINVAL);
    assert_null(s);
}

/* A scan paused in its callback on another thread keeps reading its snapshot, while a batch
 * commits on this thread without waiting for it. */
typedef struct paused_scan {
    store_t *store;
    int in_scan[2]; /* the scanner writes a byte once it is inside the callback */
    int go[2];      /* the test writes a byte to let it go on */
    char seen[64];  /* keys seen, joined with ' ' */
} paused_scan_t;

static bool pause_once(void *arg, const void *key, size_t key_len, const void *value,
                       size_t value_len)
{
    (void)value;
    (void)value_len;
    paused_scan_t *p = arg;
    if (p->seen[0] == '\0') {
        char c = 'i';
        if (write(p->in_scan[1], &c, 1) != 1 || read(p->go[0], &c, 1) != 1)
            return false;
    } else {
        strcat(p->seen, " ");
    }
    strncat(p->seen, key, key_len);
    return true;
}

static void *scanner(void *arg)
{
    paused_scan_t *p = arg;
    return (void *)(intptr_t)store_scan(p->store, "s/", 2, pause_once, p);
}

static void test_paused_scan_does_not_hold_up_the_writer(void **state)
{
    fixture_t *f = *state;
    paused_scan_t p = {.store = open_at(f->path, 0)};
    put(p.store, "s/a", "1");
    put(p.store, "s/b", "2");
    put(p.store, "s/c", "3");
    assert_int_equal(pipe(p.in_scan), 0);
    assert_int_equal(pipe(p.go), 0);
    pthread_t thread;
    assert_int_equal(pthread_create(&thread, NULL, scanner, &p), 0);
    char c;
    assert_int_equal(read(p.in_scan[0], &c, 1), 1);
    store_op_t ops[] = {{STORE_OP_DELETE, "s/b", 3, NULL, 0}, {STORE_OP_PUT, "s/d", 3, "4", 1}};
    assert_int_equal(store_apply(p.store, ops, 2), ACTOR_OK);
    assert_stored(p.store, "s/b", NULL);
    assert_stored(p.store, "s/d", "4");
    assert_int_equal(write(p.go[1], "g", 1), 1);
    void *result;
    assert_int_equal(pthread_join(thread, &result), 0);
    assert_int_equal((intptr_t)result, ACTOR_OK);
    assert_string_equal(p.seen, "s/a s/b s/c");
    for (int i = 0; i < 2; i++) {
        close(p.in_scan[i]);
        close(p.go[i]);
    }
    store_close(p.store);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_reopen_sees_the_data, setup, teardown),
        cmocka_unit_test_setup_teardown(test_survives_kill9, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kill9_during_a_scan, setup, teardown),
        cmocka_unit_test_setup_teardown(test_full_map_keeps_earlier_data, setup, teardown),
        cmocka_unit_test_setup_teardown(test_value_larger_than_the_map, setup, teardown),
        cmocka_unit_test_setup_teardown(test_directory_under_a_regular_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_creates_missing_parents, setup, teardown),
        cmocka_unit_test_setup_teardown(test_corrupt_file_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_path_is_required, setup, teardown),
        cmocka_unit_test_setup_teardown(test_paused_scan_does_not_hold_up_the_writer, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
