/*
 * Tests of cgroups.h on this machine's real cgroup v1 hierarchies (/sys/fs/cgroup/{cpu,cpuacct,
 * memory,freezer}); skipped with a message unless running as root with them mounted.
 *
 * Real processes join containers through actor_subprocess_spawn()'s cgroup_procs (written
 * between vfork and exec), as the agent starts executors. Each test uses its own subtree
 * ("mesos-test-v1-<pid>-<n>"); the teardown purges it (killing whatever a failed test left),
 * checks that no cgroup of it is left, and reaps every process the test started. Multi-process,
 * so the tests poll with deadlines.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/magic.h>

#include <cmocka.h>

#include "actor/subprocess.h"
#include "slave/containerizer/cgroups.h"

#define ROOT       "/sys/fs/cgroup"
#define MiB        ((uint64_t)1024 * 1024)
#define MAX_PIDS   16
#define DEADLINE_S 20

typedef struct fixture {
    char subtree[64];
    char other[128]; /* another agent's subtree made by the test, removed by the teardown */
    cgroups_t *cg;
    pid_t pids[MAX_PIDS]; /* children to reap */
    size_t npids;
    char text[4096];
} fixture_t;

static bool v1_available(void)
{
    const char *dirs[] = {ROOT "/cpu", ROOT "/cpuacct", ROOT "/memory", ROOT "/freezer"};
    for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
        struct statfs fs;
        if (statfs(dirs[i], &fs) != 0 || fs.f_type != CGROUP_SUPER_MAGIC)
            return false;
    }
    return geteuid() == 0;
}

static int setup(void **state)
{
    static int counter;
    fixture_t *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    snprintf(f->subtree, sizeof(f->subtree), "mesos-test-v1-%d-%d", (int)getpid(), ++counter);
    *state = f;
    return 0;
}

/* The path of a file in the container's cgroup of one hierarchy ("memory", ...). */
static const char *cgpath(fixture_t *f, const char *hierarchy, const char *id, const char *file,
                          char *buf, size_t len)
{
    snprintf(buf, len, ROOT "/%s/%s%s%s%s%s", hierarchy, f->subtree, id ? "/" : "", id ? id : "",
             file ? "/" : "", file ? file : "");
    return buf;
}

static const char *get(fixture_t *f, const char *hierarchy, const char *id, const char *file)
{
    char path[512];
    FILE *fp = fopen(cgpath(f, hierarchy, id, file, path, sizeof(path)), "r");
    if (fp == NULL)
        return NULL;
    f->text[fread(f->text, 1, sizeof(f->text) - 1, fp)] = '\0';
    fclose(fp);
    return f->text;
}

static bool exists(fixture_t *f, const char *hierarchy, const char *id)
{
    char path[512];
    return access(cgpath(f, hierarchy, id, NULL, path, sizeof(path)), F_OK) == 0;
}

/* Asserts that the container (id NULL: the subtree) has no cgroup left in any hierarchy. */
static void assert_removed(fixture_t *f, const char *id)
{
    const char *hierarchies[] = {"cpu", "cpuacct", "memory", "freezer"};
    for (size_t i = 0; i < 4; i++)
        assert_false(exists(f, hierarchies[i], id));
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    if (f->cg != NULL) {
        char err[256] = "";
        assert_int_equal(cgroups_purge(f->cg, err, sizeof(err)), ACTOR_OK);
        cgroups_close(f->cg);
    }
    if (f->other[0] != '\0') {
        char path[256];
        snprintf(path, sizeof(path), "%s/c1", f->other);
        rmdir(path);
        assert_int_equal(rmdir(f->other), 0);
    }
    for (size_t i = 0; i < f->npids; i++) {
        int status;
        assert_int_equal(waitpid(f->pids[i], &status, 0), f->pids[i]);
    }
    assert_removed(f, NULL);
    free(f);
    return 0;
}

static void open_cg(fixture_t *f, bool cfs_quota)
{
    cgroups_options_t o = {
        .root = ROOT,
        .subtree = f->subtree,
        .cpu = true,
        .mem = true,
        .cfs_quota = cfs_quota,
        .destroy_timeout_ms = 5000,
    };
    char err[256] = "";
    actor_err_t rc = cgroups_open(&o, &f->cg, err, sizeof(err));
    if (rc != ACTOR_OK)
        print_error("cgroups_open: %s\n", err);
    assert_int_equal(rc, ACTOR_OK);
    assert_int_equal(cgroups_version(f->cg), CGROUPS_V1);
}

/* The fixture of a test that needs cgroup v1 (skipped otherwise), with the handle open. */
static fixture_t *v1_fixture(void **state, bool cfs_quota)
{
    if (!v1_available())
        skip();
    fixture_t *f = *state;
    open_cg(f, cfs_quota);
    return f;
}

/* Starts `sh -c script` inside the container's cgroups of the hierarchies whose names contain
 * one of only's words (all when only is NULL), in its own session, output discarded. */
static pid_t spawn_in_some(fixture_t *f, const char *id, const char *script, const char *only)
{
    const char *all[8], *procs[8];
    size_t count = cgroups_procs_files(f->cg, id, all, 8), n = 0;
    assert_true(count >= 1 && count <= 8); /* here 4: cpu, cpuacct, memory, freezer apart */
    for (size_t i = 0; i < count; i++) {
        char hierarchy[32];
        sscanf(all[i], ROOT "/%31[^/]", hierarchy);
        if (only == NULL || strstr(only, hierarchy) != NULL)
            procs[n++] = all[i];
    }
    char *argv[] = {"sh", "-c", (char *)script, NULL};
    actor_subprocess_options_t o = {
        .path = "/bin/sh",
        .argv = argv,
        .stdin_path = "/dev/null",
        .stdout_path = "/dev/null",
        .stderr_path = "/dev/null",
        .new_session = true,
        .cgroup_procs = procs,
        .cgroup_count = n,
    };
    pid_t pid;
    char err[256] = "";
    assert_int_equal(actor_subprocess_spawn(&o, &pid, err, sizeof(err)), ACTOR_OK);
    assert_true(f->npids < MAX_PIDS);
    f->pids[f->npids++] = pid;
    return pid;
}

static pid_t spawn_in(fixture_t *f, const char *id, const char *script)
{
    return spawn_in_some(f, id, script, NULL);
}

static double now_secs(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void pause_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Waits for a child to exit (it stays listed for the teardown, which skips it). */
static int wait_exit(fixture_t *f, pid_t pid)
{
    int status = 0;
    double deadline = now_secs() + DEADLINE_S;
    pid_t got;
    while ((got = waitpid(pid, &status, WNOHANG)) == 0 && now_secs() < deadline)
        pause_ms(5);
    assert_int_equal(got, pid);
    for (size_t i = 0; i < f->npids; i++) {
        if (f->pids[i] == pid)
            f->pids[i] = f->pids[--f->npids];
    }
    return status;
}

/* Polls the container's usage until pred holds or the deadline passes. */
static void wait_usage(fixture_t *f, const char *id, bool (*pred)(const container_usage_t *),
                       container_usage_t *u)
{
    double deadline = now_secs() + DEADLINE_S;
    for (;;) {
        char err[256] = "";
        actor_err_t rc = cgroups_usage(f->cg, id, u, err, sizeof(err));
        if (rc != ACTOR_OK)
            print_error("cgroups_usage: %s\n", err);
        assert_int_equal(rc, ACTOR_OK);
        if (pred(u))
            return;
        assert_true(now_secs() < deadline);
        pause_ms(5);
    }
}

static void test_create_sets_limits(void **state)
{
    fixture_t *f = v1_fixture(state, true);
    char err[256] = "";
    assert_int_equal(cgroups_create(f->cg, "c1", 1.5, 64 * MiB, err, sizeof(err)), ACTOR_OK);
    assert_string_equal(get(f, "cpu", "c1", "cpu.shares"), "1536\n");
    assert_string_equal(get(f, "cpu", "c1", "cpu.cfs_period_us"), "100000\n");
    assert_string_equal(get(f, "cpu", "c1", "cpu.cfs_quota_us"), "150000\n");
    assert_string_equal(get(f, "memory", "c1", "memory.limit_in_bytes"), "67108864\n");
    assert_string_equal(get(f, "memory", "c1", "memory.soft_limit_in_bytes"), "67108864\n");
    if (get(f, "memory", "c1", "memory.memsw.limit_in_bytes") != NULL)
        assert_string_equal(f->text, "67108864\n");
    assert_true(exists(f, "cpuacct", "c1"));
    assert_string_equal(get(f, "freezer", "c1", "freezer.state"), "THAWED\n");
    /* Raising the memory raises the hard limit (memsw first); lowering keeps it. */
    assert_int_equal(cgroups_update(f->cg, "c1", 0.5, 128 * MiB, err, sizeof(err)), ACTOR_OK);
    assert_string_equal(get(f, "cpu", "c1", "cpu.shares"), "512\n");
    assert_string_equal(get(f, "cpu", "c1", "cpu.cfs_quota_us"), "50000\n");
    assert_string_equal(get(f, "memory", "c1", "memory.limit_in_bytes"), "134217728\n");
    if (get(f, "memory", "c1", "memory.memsw.limit_in_bytes") != NULL)
        assert_string_equal(f->text, "134217728\n");
    assert_int_equal(cgroups_update(f->cg, "c1", 0.5, 16 * MiB, err, sizeof(err)), ACTOR_OK);
    assert_string_equal(get(f, "memory", "c1", "memory.limit_in_bytes"), "134217728\n");
    assert_string_equal(get(f, "memory", "c1", "memory.soft_limit_in_bytes"), "33554432\n");
    /* Without --cgroups_enable_cfs there is no quota. */
    cgroups_close(f->cg);
    open_cg(f, false);
    assert_int_equal(cgroups_create(f->cg, "c2", 2, 64 * MiB, err, sizeof(err)), ACTOR_OK);
    assert_string_equal(get(f, "cpu", "c2", "cpu.shares"), "2048\n");
    assert_string_equal(get(f, "cpu", "c2", "cpu.cfs_quota_us"), "-1\n");
}

/* Whether the container's cgroup.procs in a hierarchy lists pid (among others: a shell's
 * children come and go). */
static bool lists_pid(fixture_t *f, const char *hierarchy, const char *id, pid_t pid)
{
    char expected[32];
    snprintf(expected, sizeof(expected), "\n%d\n", (int)pid);
    f->text[0] = '\n';
    char path[512];
    FILE *fp = fopen(cgpath(f, hierarchy, id, "cgroup.procs", path, sizeof(path)), "r");
    assert_non_null(fp);
    f->text[1 + fread(f->text + 1, 1, sizeof(f->text) - 2, fp)] = '\0';
    fclose(fp);
    return strstr(f->text, expected) != NULL;
}

/* Destroys the container, whose process pid must die of the SIGKILL, leaving no cgroup. */
static void destroy_kills(fixture_t *f, const char *id, pid_t pid)
{
    char err[256] = "";
    actor_err_t rc = cgroups_destroy(f->cg, id, err, sizeof(err));
    if (rc != ACTOR_OK)
        print_error("cgroups_destroy: %s\n", err);
    assert_int_equal(rc, ACTOR_OK);
    int status = wait_exit(f, pid);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGKILL);
    assert_removed(f, id);
}

static bool busy_enough(const container_usage_t *u)
{
    return u->processes >= 1 && u->cpus_user_time_secs >= 0.05 && u->mem_rss_bytes >= 4 * MiB;
}

static void test_process_usage_and_destroy(void **state)
{
    fixture_t *f = v1_fixture(state, true);
    assert_int_equal(cgroups_create(f->cg, "c1", 1.5, 64 * MiB, NULL, 0), ACTOR_OK);
    /* A shell holding 8 MiB in a variable, then spinning. (The kernel's memory statistics are
     * flushed in batches, so a few pages would not show.) */
    pid_t pid = spawn_in(f, "c1", "x=$(head -c 8M /dev/zero | tr '\\0' a); while :; do :; done");
    /* The process started inside every hierarchy's cgroup. */
    const char *hierarchies[] = {"cpu", "cpuacct", "memory", "freezer"};
    for (size_t i = 0; i < 4; i++)
        assert_true(lists_pid(f, hierarchies[i], "c1", pid));
    container_usage_t u;
    wait_usage(f, "c1", busy_enough, &u);
    assert_int_equal(u.processes, 1);
    assert_int_equal(u.threads, 1);
    assert_true(u.cpus_user_time_secs < 60);
    assert_true(fabs(u.cpus_limit - 1.5) < 1e-9);
    assert_true(u.mem_total_bytes >= u.mem_rss_bytes);
    assert_true(u.mem_total_bytes <= 64 * MiB);
    assert_int_equal(u.mem_limit_bytes, 64 * MiB);
    assert_true(u.mem_rss_bytes < 48 * MiB);
    bool killed = true;
    assert_int_equal(cgroups_oom_killed(f->cg, "c1", &killed, NULL, 0), ACTOR_OK);
    assert_false(killed);
    destroy_kills(f, "c1", pid);
    assert_int_equal(cgroups_destroy(f->cg, "c1", NULL, 0), ACTOR_ENOENT);
}

static void test_memory_limit_oom_kill(void **state)
{
    fixture_t *f = v1_fixture(state, false);
    /* 32 MiB, and a pipeline whose tail holds 200 MiB of one endless line. */
    assert_int_equal(cgroups_create(f->cg, "c1", 1, 32 * MiB, NULL, 0), ACTOR_OK);
    pid_t pid = spawn_in(f, "c1", "head -c 200M /dev/zero | tail");
    int status = wait_exit(f, pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 128 + SIGKILL); /* the shell reports tail's SIGKILL */
    bool killed = false;
    char err[256] = "";
    assert_int_equal(cgroups_oom_killed(f->cg, "c1", &killed, err, sizeof(err)), ACTOR_OK);
    assert_true(killed);
    /* A container that stays within its limit was not OOM-killed. */
    assert_int_equal(cgroups_create(f->cg, "c2", 1, 64 * MiB, NULL, 0), ACTOR_OK);
    status = wait_exit(f, spawn_in(f, "c2", "head -c 1M /dev/zero | tail"));
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_int_equal(cgroups_oom_killed(f->cg, "c2", &killed, err, sizeof(err)), ACTOR_OK);
    assert_false(killed);
    assert_int_equal(cgroups_destroy(f->cg, "c1", err, sizeof(err)), ACTOR_OK);
    assert_int_equal(cgroups_destroy(f->cg, "c2", err, sizeof(err)), ACTOR_OK);
}

static bool many_processes(const container_usage_t *u)
{
    return u->processes >= 20;
}

/* Whether pid is gone (or a zombie waiting for init to reap it). */
static bool dead(pid_t pid)
{
    char path[64], buf[512];
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    FILE *fp = fopen(path, "r");
    if (fp == NULL)
        return true;
    buf[fread(buf, 1, sizeof(buf) - 1, fp)] = '\0';
    fclose(fp);
    const char *close = strrchr(buf, ')');
    return close != NULL && close[2] == 'Z';
}

static void test_destroy_kills_forking_tree(void **state)
{
    fixture_t *f = v1_fixture(state, false);
    assert_int_equal(cgroups_create(f->cg, "c1", 1, 64 * MiB, NULL, 0), ACTOR_OK);
    /* A shell that keeps forking, with grandchildren that left it (double fork). */
    pid_t pid = spawn_in(f, "c1",
                         "(sleep 100 &); i=0; while [ $i -lt 400 ]; do sleep 100 & i=$((i+1)); "
                         "done; wait");
    container_usage_t u;
    wait_usage(f, "c1", many_processes, &u);
    char *procs = strdup(get(f, "memory", "c1", "cgroup.procs"));
    assert_non_null(procs);
    char err[256] = "";
    assert_int_equal(cgroups_destroy(f->cg, "c1", err, sizeof(err)), ACTOR_OK);
    int status = wait_exit(f, pid);
    assert_true(WIFSIGNALED(status));
    for (char *p = strtok(procs, "\n"); p != NULL; p = strtok(NULL, "\n"))
        assert_true(dead((pid_t)atoi(p)));
    free(procs);
    assert_false(exists(f, "memory", "c1"));
    assert_false(exists(f, "freezer", "c1"));
}

static void test_destroy_after_exit(void **state)
{
    fixture_t *f = v1_fixture(state, false);
    assert_int_equal(cgroups_create(f->cg, "c1", 1, 64 * MiB, NULL, 0), ACTOR_OK);
    /* The usual end of a container: its processes exited (and were reaped) first. */
    assert_int_equal(WEXITSTATUS(wait_exit(f, spawn_in(f, "c1", "exit 3"))), 3);
    char err[256] = "";
    bool killed = true;
    assert_int_equal(cgroups_oom_killed(f->cg, "c1", &killed, err, sizeof(err)), ACTOR_OK);
    assert_false(killed);
    assert_int_equal(cgroups_destroy(f->cg, "c1", err, sizeof(err)), ACTOR_OK);
    assert_removed(f, "c1");
    assert_int_equal(cgroups_oom_killed(f->cg, "c1", &killed, err, sizeof(err)), ACTOR_ENOENT);
    assert_non_null(strstr(err, "No container 'c1'"));
    assert_int_equal(cgroups_destroy(f->cg, "c1", err, sizeof(err)), ACTOR_ENOENT);
    assert_non_null(strstr(err, "No container 'c1'"));
}

static void test_destroy_partly_joined(void **state)
{
    fixture_t *f = v1_fixture(state, false);
    assert_int_equal(cgroups_create(f->cg, "c1", 1, 64 * MiB, NULL, 0), ACTOR_OK);
    /* A process in the memory and freezer cgroups only: the others are removed at once, and
     * this one is still frozen and killed. */
    pid_t pid = spawn_in_some(f, "c1", "sleep 100", "memory freezer");
    assert_true(lists_pid(f, "freezer", "c1", pid));
    destroy_kills(f, "c1", pid);
}

static void test_create_after_subtree_removed(void **state)
{
    fixture_t *f = v1_fixture(state, false);
    assert_int_equal(cgroups_create(f->cg, "c1", 1, 0, NULL, 0), ACTOR_OK);
    assert_int_equal(cgroups_purge(f->cg, NULL, 0), ACTOR_OK);
    assert_false(exists(f, "memory", NULL));
    /* The next create makes the subtree again. */
    char err[256] = "";
    assert_int_equal(cgroups_create(f->cg, "c2", 0.5, 64 * MiB, err, sizeof(err)), ACTOR_OK);
    assert_string_equal(get(f, "cpu", "c2", "cpu.shares"), "512\n");
    assert_string_equal(get(f, "memory", "c2", "memory.limit_in_bytes"), "67108864\n");
    assert_true(exists(f, "freezer", "c2"));
}

static void test_list_after_restart(void **state)
{
    fixture_t *f = v1_fixture(state, false);
    assert_int_equal(cgroups_create(f->cg, "c2", 1, 0, NULL, 0), ACTOR_OK);
    assert_int_equal(cgroups_create(f->cg, "c1", 1, 0, NULL, 0), ACTOR_OK);
    pid_t pid = spawn_in(f, "c1", "sleep 100");
    /* An agent that restarts opens the same subtree and finds its containers. */
    cgroups_close(f->cg);
    open_cg(f, false);
    char **ids;
    size_t n;
    char err[256] = "";
    assert_int_equal(cgroups_list(f->cg, &ids, &n, err, sizeof(err)), ACTOR_OK);
    assert_int_equal(n, 2);
    assert_string_equal(ids[0], "c1");
    assert_string_equal(ids[1], "c2");
    cgroups_list_free(ids, n);
    /* The ones it does not know it destroys: c1's process goes with it. */
    assert_int_equal(cgroups_destroy(f->cg, "c1", err, sizeof(err)), ACTOR_OK);
    assert_true(WIFSIGNALED(wait_exit(f, pid)));
}

static void test_half_made_container(void **state)
{
    fixture_t *f = v1_fixture(state, false);
    /* A crash between two mkdirs left the container in the freezer hierarchy only. */
    char path[512];
    assert_int_equal(mkdir(cgpath(f, "freezer", "c1", NULL, path, sizeof(path)), 0755), 0);
    char err[256] = "";
    assert_int_equal(cgroups_create(f->cg, "c1", 1, 0, err, sizeof(err)), ACTOR_EEXIST);
    assert_false(exists(f, "memory", "c1"));
    assert_int_equal(cgroups_usage(f->cg, "c1", &(container_usage_t){0}, err, sizeof(err)),
                     ACTOR_ENOENT);
    char **ids;
    size_t n;
    assert_int_equal(cgroups_list(f->cg, &ids, &n, err, sizeof(err)), ACTOR_OK);
    assert_int_equal(n, 1);
    cgroups_list_free(ids, n);
    assert_int_equal(cgroups_destroy(f->cg, "c1", err, sizeof(err)), ACTOR_OK);
    assert_false(exists(f, "freezer", "c1"));
    assert_int_equal(cgroups_create(f->cg, "c1", 1, 0, err, sizeof(err)), ACTOR_OK);
}

static void test_other_subtrees_untouched(void **state)
{
    if (!v1_available())
        skip();
    fixture_t *f = *state;
    /* Another agent's subtree, with a container, beside ours. */
    char path[256];
    snprintf(f->other, sizeof(f->other), ROOT "/memory/%s-other", f->subtree);
    assert_int_equal(mkdir(f->other, 0755), 0);
    snprintf(path, sizeof(path), "%s/c1", f->other);
    assert_int_equal(mkdir(path, 0755), 0);
    open_cg(f, false);
    assert_int_equal(cgroups_create(f->cg, "c1", 1, 0, NULL, 0), ACTOR_OK);
    assert_int_equal(cgroups_purge(f->cg, NULL, 0), ACTOR_OK);
    assert_int_equal(access(path, F_OK), 0);
}

int main(void)
{
    if (!v1_available())
        fprintf(stderr, "Skipping: needs root and cgroup v1 cpu, cpuacct, memory and freezer "
                        "hierarchies under " ROOT "\n");
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_create_sets_limits),           T(test_process_usage_and_destroy),
        T(test_memory_limit_oom_kill),        T(test_destroy_kills_forking_tree),
        T(test_destroy_after_exit),           T(test_destroy_partly_joined),
        T(test_create_after_subtree_removed), T(test_list_after_restart),
        T(test_half_made_container),          T(test_other_subtrees_untouched),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
