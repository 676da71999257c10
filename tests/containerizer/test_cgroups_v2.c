/*
 * Tests of cgroups.h on cgroup v2, against a fake cgroupfs tree in a temp directory (this
 * machine's v2 hierarchy has no cpu or memory controller). The test plays the kernel: it writes
 * the root's cgroup.controllers and, after a container is created, the files the kernel would
 * fill (cpu.stat, memory.current, memory.events, cgroup.procs, cgroup.kill, ...); then it checks
 * what the library wrote (cpu.weight, cpu.max, memory.max, memory.low, memory.swap.max,
 * cgroup.subtree_control, cgroup.kill) and that it touched nothing outside its subtree.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "slave/containerizer/cgroups.h"

#define SUBTREE "mesos-agent-5051"
#define MiB     ((uint64_t)1024 * 1024)

typedef struct fixture {
    char root[64];   /* the fake mount */
    char text[4096]; /* the last file read by get() */
    cgroups_t *cg;
} fixture_t;

static void put(fixture_t *f, const char *rel, const char *content)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", f->root, rel);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(content, fp);
    assert_int_equal(fclose(fp), 0);
}

/* The content of a file of the tree, or NULL if it does not exist. */
static const char *get(fixture_t *f, const char *rel)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", f->root, rel);
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return NULL;
    ssize_t n = read(fd, f->text, sizeof(f->text) - 1);
    close(fd);
    assert_true(n >= 0);
    f->text[n] = '\0';
    return f->text;
}

static bool exists(fixture_t *f, const char *rel)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", f->root, rel);
    return access(path, F_OK) == 0;
}

static void make_dir(fixture_t *f, const char *rel)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", f->root, rel);
    assert_int_equal(mkdir(path, 0755), 0);
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* A v2 mount with every controller, nothing turned on, and another agent's subtree beside ours
 * (which must never change). */
static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    strcpy(f->root, "/tmp/test_cgroups_v2.XXXXXX");
    assert_non_null(mkdtemp(f->root));
    put(f, "cgroup.controllers", "cpuset cpu io memory hugetlb pids rdma misc\n");
    put(f, "cgroup.subtree_control", "");
    put(f, "cgroup.procs", "1\n");
    make_dir(f, "other-agent");
    put(f, "other-agent/cgroup.subtree_control", "cpu memory\n");
    make_dir(f, "other-agent/c1");
    put(f, "other-agent/c1/memory.max", "1048576\n");
    put(f, "other-agent/c1/cgroup.procs", "4242\n");
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    cgroups_close(f->cg);
    assert_int_equal(nftw(f->root, remove_entry, 8, FTW_DEPTH | FTW_PHYS), 0);
    free(f);
    return 0;
}

static cgroups_options_t options(fixture_t *f)
{
    cgroups_options_t o = {
        .version = CGROUPS_V2,
        .root = f->root,
        .subtree = SUBTREE,
        .cpu = true,
        .mem = true,
    };
    return o;
}

static void open_default(fixture_t *f)
{
    cgroups_options_t o = options(f);
    char err[256] = "";
    assert_int_equal(cgroups_open(&o, &f->cg, err, sizeof(err)), ACTOR_OK);
}

/* Plays the kernel for a new container: the files it fills by itself. */
static void kernel_files(fixture_t *f, const char *id)
{
    char rel[256];
    const char *files[][2] = {
        {"cgroup.procs", ""},
        {"cgroup.threads", ""},
        {"cgroup.kill", ""},
        {"cgroup.events", "populated 0\nfrozen 0\n"},
        {"cpu.stat", "usage_usec 0\nuser_usec 0\nsystem_usec 0\nnr_periods 0\n"
                     "nr_throttled 0\nthrottled_usec 0\n"},
        {"memory.current", "0\n"},
        {"memory.swap.current", "0\n"},
        {"memory.stat", "anon 0\nfile 0\nfile_mapped 0\n"},
        {"memory.events", "low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\noom_group_kill 0\n"},
    };
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        snprintf(rel, sizeof(rel), SUBTREE "/%s/%s", id, files[i][0]);
        put(f, rel, files[i][1]);
    }
}

static void create(fixture_t *f, const char *id, double cpus, uint64_t mem)
{
    char err[256] = "";
    assert_int_equal(cgroups_create(f->cg, id, cpus, mem, err, sizeof(err)), ACTOR_OK);
    kernel_files(f, id);
}

static void test_open_enables_controllers(void **state)
{
    fixture_t *f = *state;
    open_default(f);
    assert_int_equal(cgroups_version(f->cg), CGROUPS_V2);
    assert_string_equal(get(f, "cgroup.subtree_control"), "+cpu +memory");
    assert_string_equal(get(f, SUBTREE "/cgroup.subtree_control"), "+cpu +memory");
    /* Opening again (an agent restarting) keeps what is there. */
    put(f, "cgroup.subtree_control", "cpu memory pids\n");
    put(f, SUBTREE "/cgroup.subtree_control", "cpu memory\n");
    cgroups_close(f->cg);
    open_default(f);
    assert_string_equal(get(f, "cgroup.subtree_control"), "cpu memory pids\n");
    assert_string_equal(get(f, SUBTREE "/cgroup.subtree_control"), "cpu memory\n");
}

static void test_open_enables_only_what_is_used(void **state)
{
    fixture_t *f = *state;
    put(f, "cgroup.subtree_control", "cpu\n");
    cgroups_options_t o = options(f);
    o.cpu = false;
    assert_int_equal(cgroups_open(&o, &f->cg, NULL, 0), ACTOR_OK);
    assert_string_equal(get(f, "cgroup.subtree_control"), "+memory");
    cgroups_close(f->cg);
    f->cg = NULL;
    put(f, "cgroup.subtree_control", "memory\n");
    o.cpu = true;
    assert_int_equal(cgroups_open(&o, &f->cg, NULL, 0), ACTOR_OK);
    assert_string_equal(get(f, "cgroup.subtree_control"), "+cpu");
}

static void test_open_missing_controller(void **state)
{
    fixture_t *f = *state;
    put(f, "cgroup.controllers", "cpu io hugetlb\n");
    cgroups_options_t o = options(f);
    char err[256];
    assert_int_equal(cgroups_open(&o, &f->cg, err, sizeof(err)), ACTOR_ENOENT);
    assert_null(f->cg);
    assert_non_null(strstr(err, "has no memory controller (cgroup.controllers: cpu io hugetlb)"));
    assert_false(exists(f, SUBTREE));
    /* Without the memory isolator it is fine. */
    o.mem = false;
    assert_int_equal(cgroups_open(&o, &f->cg, err, sizeof(err)), ACTOR_OK);
}

static void test_open_bad_options(void **state)
{
    fixture_t *f = *state;
    const char *bad[] = {NULL, "", "/abs", "a//b", "a/", "../x", "a/.b", ".x", "a b", "a/../b"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        cgroups_options_t o = options(f);
        o.subtree = bad[i];
        char err[256] = "";
        assert_int_equal(cgroups_open(&o, &f->cg, err, sizeof(err)), ACTOR_EINVAL);
        assert_null(f->cg);
        assert_non_null(strstr(err, "Invalid cgroup subtree"));
    }
    cgroups_options_t o = options(f);
    o.version = 3;
    assert_int_equal(cgroups_open(&o, &f->cg, NULL, 0), ACTOR_EINVAL);
    assert_int_equal(cgroups_open(NULL, &f->cg, NULL, 0), ACTOR_EINVAL);
    /* A root with no v2 mount. */
    o = options(f);
    char missing[128];
    snprintf(missing, sizeof(missing), "%s/nowhere", f->root);
    o.root = missing;
    char err[256];
    assert_int_equal(cgroups_open(&o, &f->cg, err, sizeof(err)), ACTOR_ENOENT);
    assert_non_null(strstr(err, "No cgroup v2 hierarchy at"));
}

static void test_open_unwritable_subtree_control(void **state)
{
    fixture_t *f = *state;
    /* The kernel refusing a write (here: the file is a directory) fails the open with the path. */
    char path[256];
    snprintf(path, sizeof(path), "%s/cgroup.subtree_control", f->root);
    assert_int_equal(unlink(path), 0);
    make_dir(f, "cgroup.subtree_control");
    cgroups_options_t o = options(f);
    char err[512];
    assert_int_equal(cgroups_open(&o, &f->cg, err, sizeof(err)), ACTOR_ESYSTEM);
    assert_non_null(strstr(err, "cgroup.subtree_control"));
}

static void test_detect(void **state)
{
    fixture_t *f = *state;
    /* A hybrid host: root/unified is the v2 mount; with cpu and memory it is chosen. */
    make_dir(f, "hybrid");
    make_dir(f, "hybrid/unified");
    put(f, "hybrid/unified/cgroup.controllers", "cpu memory\n");
    put(f, "hybrid/unified/cgroup.subtree_control", "");
    char root[128];
    snprintf(root, sizeof(root), "%s/hybrid", f->root);
    cgroups_options_t o = options(f);
    o.version = CGROUPS_DETECT;
    o.root = root;
    assert_int_equal(cgroups_open(&o, &f->cg, NULL, 0), ACTOR_OK);
    assert_int_equal(cgroups_version(f->cg), CGROUPS_V2);
    assert_true(exists(f, "hybrid/unified/" SUBTREE));
    const char *procs[4];
    assert_int_equal(cgroups_procs_files(f->cg, "c1", procs, 4), 1);
    char expected[256];
    snprintf(expected, sizeof(expected), "%s/unified/" SUBTREE "/c1/cgroup.procs", root);
    assert_string_equal(procs[0], expected);
    cgroups_close(f->cg);
    f->cg = NULL;
    /* Without them (this machine), v1 is chosen: and here there is none. */
    put(f, "hybrid/unified/cgroup.controllers", "hugetlb\n");
    char err[256];
    assert_int_equal(cgroups_open(&o, &f->cg, err, sizeof(err)), ACTOR_ENOENT);
    assert_non_null(strstr(err, "No cgroup v1 hierarchy for 'cpu'"));
    /* A pure v2 host: root itself is the mount. */
    o.root = f->root;
    assert_int_equal(cgroups_open(&o, &f->cg, NULL, 0), ACTOR_OK);
    assert_int_equal(cgroups_version(f->cg), CGROUPS_V2);
}

static void test_create_writes_limits(void **state)
{
    fixture_t *f = *state;
    open_default(f);
    create(f, "c1", 1.5, 64 * MiB);
    /* shares 1536 -> weight 1 + (1534 * 9999) / 262142 = 59 */
    assert_string_equal(get(f, SUBTREE "/c1/cpu.weight"), "59");
    assert_string_equal(get(f, SUBTREE "/c1/cpu.max"), "max 100000");
    assert_string_equal(get(f, SUBTREE "/c1/memory.max"), "67108864");
    assert_string_equal(get(f, SUBTREE "/c1/memory.low"), "67108864");
    assert_string_equal(get(f, SUBTREE "/c1/memory.swap.max"), "0");
    /* Tiny resources get Mesos's minimums: 2 shares (weight 1) and 32 MiB. */
    create(f, "c2", 0.001, 1 * MiB);
    assert_string_equal(get(f, SUBTREE "/c2/cpu.weight"), "1");
    assert_string_equal(get(f, SUBTREE "/c2/memory.max"), "33554432");
    /* One cpu: 1024 shares -> weight 39; 256 cpus and more: the kernel's maximum, 10000. */
    create(f, "c3", 1, 128 * MiB);
    assert_string_equal(get(f, SUBTREE "/c3/cpu.weight"), "39");
    create(f, "c4", 1000, 128 * MiB);
    assert_string_equal(get(f, SUBTREE "/c4/cpu.weight"), "10000");
}

static void test_create_with_cfs_quota(void **state)
{
    fixture_t *f = *state;
    cgroups_options_t o = options(f);
    o.cfs_quota = true;
    assert_int_equal(cgroups_open(&o, &f->cg, NULL, 0), ACTOR_OK);
    create(f, "c1", 2.5, 64 * MiB);
    assert_string_equal(get(f, SUBTREE "/c1/cpu.max"), "250000 100000");
    create(f, "c2", 0.001, 64 * MiB); /* at least 1 ms */
    assert_string_equal(get(f, SUBTREE "/c2/cpu.max"), "1000 100000");
}

static void test_create_only_enabled_controllers(void **state)
{
    fixture_t *f = *state;
    cgroups_options_t o = options(f);
    o.cpu = false;
    assert_int_equal(cgroups_open(&o, &f->cg, NULL, 0), ACTOR_OK);
    create(f, "c1", 1, 64 * MiB);
    assert_false(exists(f, SUBTREE "/c1/cpu.weight"));
    assert_false(exists(f, SUBTREE "/c1/cpu.max"));
    assert_string_equal(get(f, SUBTREE "/c1/memory.max"), "67108864");
}

static void test_create_errors(void **state)
{
    fixture_t *f = *state;
    open_default(f);
    char err[256];
    char long_id[200];
    memset(long_id, 'a', sizeof(long_id) - 1);
    long_id[sizeof(long_id) - 1] = '\0';
    const char *bad[] = {NULL, "", ".", "..", ".hidden", "a/b", "../x", "a b", "é", long_id};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(cgroups_create(f->cg, bad[i], 1, 0, err, sizeof(err)), ACTOR_EINVAL);
        assert_non_null(strstr(err, "Invalid container id"));
    }
    assert_int_equal(cgroups_create(f->cg, "c1", NAN, 0, err, sizeof(err)), ACTOR_EINVAL);
    assert_int_equal(cgroups_create(f->cg, "c1", -1, 0, err, sizeof(err)), ACTOR_EINVAL);
    assert_int_equal(cgroups_create(f->cg, "c1", INFINITY, 0, err, sizeof(err)), ACTOR_EINVAL);
    assert_non_null(strstr(err, "Invalid cpus"));
    assert_false(exists(f, SUBTREE "/c1"));
    create(f, "c1", 1, 0);
    assert_int_equal(cgroups_create(f->cg, "c1", 1, 0, err, sizeof(err)), ACTOR_EEXIST);
    assert_non_null(strstr(err, "Container 'c1' exists already"));
    /* A UUID, as the agent's container ids are, is fine. */
    create(f, "5f1c1f5e-2b7d-4a1e-9a43-0c7e9f0b8d21", 1, 0);
}

static void test_update(void **state)
{
    fixture_t *f = *state;
    open_default(f);
    create(f, "c1", 1, 64 * MiB);
    char err[256];
    /* More memory raises both limits; more cpus raise the weight. */
    assert_int_equal(cgroups_update(f->cg, "c1", 2, 128 * MiB, err, sizeof(err)), ACTOR_OK);
    assert_string_equal(get(f, SUBTREE "/c1/cpu.weight"), "79");
    assert_string_equal(get(f, SUBTREE "/c1/memory.max"), "134217728");
    assert_string_equal(get(f, SUBTREE "/c1/memory.low"), "134217728");
    /* Less memory lowers only the soft limit (a lower hard one could OOM-kill the task). */
    assert_int_equal(cgroups_update(f->cg, "c1", 2, 32 * MiB, err, sizeof(err)), ACTOR_OK);
    assert_string_equal(get(f, SUBTREE "/c1/memory.max"), "134217728");
    assert_string_equal(get(f, SUBTREE "/c1/memory.low"), "33554432");
    /* A container without a hard limit ("max") keeps none. */
    put(f, SUBTREE "/c1/memory.max", "max\n");
    assert_int_equal(cgroups_update(f->cg, "c1", 2, 256 * MiB, err, sizeof(err)), ACTOR_OK);
    assert_string_equal(get(f, SUBTREE "/c1/memory.max"), "max\n");
    assert_int_equal(cgroups_update(f->cg, "nope", 1, 0, err, sizeof(err)), ACTOR_ENOENT);
    assert_non_null(strstr(err, "No container 'nope'"));
    assert_int_equal(cgroups_update(f->cg, "c1", -2, 0, err, sizeof(err)), ACTOR_EINVAL);
}

static void test_procs_files(void **state)
{
    fixture_t *f = *state;
    open_default(f);
    const char *files[2] = {NULL, NULL};
    assert_int_equal(cgroups_procs_files(f->cg, "c1", files, 2), 1);
    char expected[256];
    snprintf(expected, sizeof(expected), "%s/" SUBTREE "/c1/cgroup.procs", f->root);
    assert_string_equal(files[0], expected);
    assert_null(files[1]);
    assert_int_equal(cgroups_procs_files(f->cg, "c1", NULL, 0), 1);
    assert_int_equal(cgroups_procs_files(f->cg, "../c1", files, 2), 0);
}

static void test_usage(void **state)
{
    fixture_t *f = *state;
    open_default(f);
    create(f, "c1", 1.5, 64 * MiB);
    put(f, SUBTREE "/c1/cpu.stat",
        "usage_usec 3500000\nuser_usec 2500000\nsystem_usec 1000000\nnr_periods 40\n"
        "nr_throttled 4\nthrottled_usec 250000\nnr_bursts 0\nburst_usec 0\n");
    put(f, SUBTREE "/c1/memory.current", "50331648\n");
    put(f, SUBTREE "/c1/memory.swap.current", "4096\n");
    put(f, SUBTREE "/c1/memory.stat",
        "anon 41943040\nfile 8388608\nkernel 1048576\nshmem 0\nfile_mapped 2097152\n"
        "file_dirty 0\n");
    put(f, SUBTREE "/c1/cgroup.procs", "101\n102\n");
    put(f, SUBTREE "/c1/cgroup.threads", "101\n102\n103\n");
    container_usage_t u;
    char err[256] = "";
    assert_int_equal(cgroups_usage(f->cg, "c1", &u, err, sizeof(err)), ACTOR_OK);
    assert_true(fabs(u.cpus_user_time_secs - 2.5) < 1e-9);
    assert_true(fabs(u.cpus_system_time_secs - 1.0) < 1e-9);
    assert_int_equal(u.cpus_nr_periods, 40);
    assert_int_equal(u.cpus_nr_throttled, 4);
    assert_true(fabs(u.cpus_throttled_time_secs - 0.25) < 1e-9);
    assert_true(fabs(u.cpus_limit - 1.5) < 1.5 * 0.03); /* from the weight: approximate */
    assert_int_equal(u.mem_total_bytes, 50331648);
    assert_int_equal(u.mem_limit_bytes, 64 * MiB);
    assert_int_equal(u.mem_rss_bytes, 41943040);
    assert_int_equal(u.mem_cache_bytes, 8388608);
    assert_int_equal(u.mem_mapped_file_bytes, 2097152);
    assert_int_equal(u.mem_swap_bytes, 4096);
    assert_int_equal(u.processes, 2);
    assert_int_equal(u.threads, 3);
    /* With a quota, the limit is exact; with no hard memory limit, 0. */
    put(f, SUBTREE "/c1/cpu.max", "150000 100000\n");
    put(f, SUBTREE "/c1/memory.max", "max\n");
    assert_int_equal(cgroups_usage(f->cg, "c1", &u, err, sizeof(err)), ACTOR_OK);
    assert_true(fabs(u.cpus_limit - 1.5) < 1e-9);
    assert_int_equal(u.mem_limit_bytes, 0);
}

static void test_usage_errors(void **state)
{
    fixture_t *f = *state;
    open_default(f);
    create(f, "c1", 1, 64 * MiB);
    container_usage_t u;
    char err[512];
    put(f, SUBTREE "/c1/memory.current", "lots\n");
    assert_int_equal(cgroups_usage(f->cg, "c1", &u, err, sizeof(err)), ACTOR_ESYSTEM);
    assert_non_null(strstr(err, "Unexpected content in"));
    assert_non_null(strstr(err, "c1/memory.current: 'lots"));
    char path[256];
    snprintf(path, sizeof(path), "%s/" SUBTREE "/c1/cpu.stat", f->root);
    assert_int_equal(unlink(path), 0);
    assert_int_equal(cgroups_usage(f->cg, "c1", &u, err, sizeof(err)), ACTOR_ENOENT);
    assert_non_null(strstr(err, "cpu.stat: No such file or directory"));
    assert_int_equal(cgroups_usage(f->cg, "nope", &u, err, sizeof(err)), ACTOR_ENOENT);
    assert_int_equal(cgroups_usage(f->cg, "a/b", &u, err, sizeof(err)), ACTOR_EINVAL);
}

static void test_oom_killed(void **state)
{
    fixture_t *f = *state;
    open_default(f);
    create(f, "c1", 1, 64 * MiB);
    bool killed = true;
    char err[256];
    assert_int_equal(cgroups_oom_killed(f->cg, "c1", &killed, err, sizeof(err)), ACTOR_OK);
    assert_false(killed);
    /* Reaching the limit and reclaiming is no kill. */
    put(f, SUBTREE "/c1/memory.events", "low 0\nhigh 0\nmax 12\noom 0\noom_kill 0\n");
    assert_int_equal(cgroups_oom_killed(f->cg, "c1", &killed, err, sizeof(err)), ACTOR_OK);
    assert_false(killed);
    /* A kill by the global OOM killer is not the container's limit. */
    put(f, SUBTREE "/c1/memory.events", "low 0\nhigh 0\nmax 0\noom 0\noom_kill 1\n");
    assert_int_equal(cgroups_oom_killed(f->cg, "c1", &killed, err, sizeof(err)), ACTOR_OK);
    assert_false(killed);
    put(f, SUBTREE "/c1/memory.events",
        "low 0\nhigh 0\nmax 31\noom 1\noom_kill 1\noom_group_kill 0\n");
    assert_int_equal(cgroups_oom_killed(f->cg, "c1", &killed, err, sizeof(err)), ACTOR_OK);
    assert_true(killed);
    assert_int_equal(cgroups_oom_killed(f->cg, "nope", &killed, err, sizeof(err)), ACTOR_ENOENT);
    assert_false(killed);
}

static void test_oom_killed_without_mem(void **state)
{
    fixture_t *f = *state;
    cgroups_options_t o = options(f);
    o.mem = false;
    assert_int_equal(cgroups_open(&o, &f->cg, NULL, 0), ACTOR_OK);
    create(f, "c1", 1, 0);
    put(f, SUBTREE "/c1/memory.events", "oom 1\noom_kill 1\n");
    bool killed = true;
    assert_int_equal(cgroups_oom_killed(f->cg, "c1", &killed, NULL, 0), ACTOR_OK);
    assert_false(killed);
}

static void test_destroy(void **state)
{
    fixture_t *f = *state;
    cgroups_options_t o = options(f);
    o.destroy_timeout_ms = 30;
    assert_int_equal(cgroups_open(&o, &f->cg, NULL, 0), ACTOR_OK);
    create(f, "c1", 1, 64 * MiB);
    /* While the "kernel" keeps a process listed, destroy writes cgroup.kill, waits, gives up. */
    put(f, SUBTREE "/c1/cgroup.procs", "4242\n");
    char err[256];
    assert_int_equal(cgroups_destroy(f->cg, "c1", err, sizeof(err)), ACTOR_ETIMEDOUT);
    assert_non_null(strstr(err, "1 process(es) of container 'c1' still alive"));
    assert_string_equal(get(f, SUBTREE "/c1/cgroup.kill"), "1");
    assert_true(exists(f, SUBTREE "/c1"));
    /* Once the processes are gone, destroy removes the cgroup. */
    put(f, SUBTREE "/c1/cgroup.procs", "");
    assert_int_equal(cgroups_destroy(f->cg, "c1", err, sizeof(err)), ACTOR_OK);
    assert_false(exists(f, SUBTREE "/c1"));
    assert_true(exists(f, SUBTREE));
    assert_int_equal(cgroups_destroy(f->cg, "c1", err, sizeof(err)), ACTOR_ENOENT);
    assert_non_null(strstr(err, "No container 'c1'"));
    assert_int_equal(cgroups_destroy(f->cg, "", err, sizeof(err)), ACTOR_EINVAL);
}

static void test_destroy_without_cgroup_kill(void **state)
{
    fixture_t *f = *state;
    open_default(f);
    /* A kernel before 5.14: no cgroup.kill, so the freeze-kill-thaw loop; with no process
     * listed it ends at once. */
    assert_int_equal(cgroups_create(f->cg, "c1", 1, 0, NULL, 0), ACTOR_OK);
    assert_int_equal(cgroups_destroy(f->cg, "c1", NULL, 0), ACTOR_OK);
    assert_false(exists(f, SUBTREE "/c1"));
    /* A container whose cgroup a crash left half made is destroyed all the same. */
    make_dir(f, SUBTREE "/half");
    assert_int_equal(cgroups_destroy(f->cg, "half", NULL, 0), ACTOR_OK);
    assert_false(exists(f, SUBTREE "/half"));
}

/* Makes the container's cgroup one of a kernel before 5.14 (no cgroup.kill), whose
 * cgroup.freeze is the file "freeze-log" beside the subtree, so that what destroy writes there
 * outlives the container's directory. */
static void log_freezes(fixture_t *f, const char *id)
{
    char path[512], target[512];
    put(f, "freeze-log", "");
    snprintf(target, sizeof(target), "%s/freeze-log", f->root);
    snprintf(path, sizeof(path), "%s/" SUBTREE "/%s/cgroup.kill", f->root, id);
    assert_int_equal(unlink(path), 0);
    snprintf(path, sizeof(path), "%s/" SUBTREE "/%s/cgroup.freeze", f->root, id);
    assert_int_equal(symlink(target, path), 0);
}

static void test_destroy_empty_does_not_freeze(void **state)
{
    fixture_t *f = *state;
    cgroups_options_t o = options(f);
    o.destroy_timeout_ms = 30;
    assert_int_equal(cgroups_open(&o, &f->cg, NULL, 0), ACTOR_OK);
    /* A container with a process is frozen to be killed, and thawed after. */
    create(f, "c1", 1, 0);
    log_freezes(f, "c1");
    put(f, SUBTREE "/c1/cgroup.procs", "4242\n");
    assert_int_equal(cgroups_destroy(f->cg, "c1", NULL, 0), ACTOR_ETIMEDOUT);
    assert_string_equal(get(f, "freeze-log"), "0");
    /* Once its processes are all gone, it is removed without a freeze. */
    put(f, "freeze-log", "");
    put(f, SUBTREE "/c1/cgroup.procs", "");
    assert_int_equal(cgroups_destroy(f->cg, "c1", NULL, 0), ACTOR_OK);
    assert_false(exists(f, SUBTREE "/c1"));
    assert_string_equal(get(f, "freeze-log"), "");
    /* So is a new container that never had one. */
    create(f, "c2", 1, 0);
    log_freezes(f, "c2");
    assert_int_equal(cgroups_destroy(f->cg, "c2", NULL, 0), ACTOR_OK);
    assert_false(exists(f, SUBTREE "/c2"));
    assert_string_equal(get(f, "freeze-log"), "");
}

static void test_list(void **state)
{
    fixture_t *f = *state;
    open_default(f);
    char **ids = (char **)1;
    size_t n = 99;
    char err[256];
    assert_int_equal(cgroups_list(f->cg, &ids, &n, err, sizeof(err)), ACTOR_OK);
    assert_int_equal(n, 0);
    assert_null(ids);
    create(f, "c2", 1, 0);
    create(f, "c1", 1, 0);
    create(f, "b-3", 1, 0);
    make_dir(f, SUBTREE "/.junk"); /* not a container id: skipped */
    assert_int_equal(cgroups_list(f->cg, &ids, &n, err, sizeof(err)), ACTOR_OK);
    assert_int_equal(n, 3);
    assert_string_equal(ids[0], "b-3");
    assert_string_equal(ids[1], "c1");
    assert_string_equal(ids[2], "c2");
    cgroups_list_free(ids, n);
    assert_int_equal(cgroups_destroy(f->cg, "c1", NULL, 0), ACTOR_OK);
    assert_int_equal(cgroups_list(f->cg, &ids, &n, err, sizeof(err)), ACTOR_OK);
    assert_int_equal(n, 2);
    assert_string_equal(ids[0], "b-3");
    assert_string_equal(ids[1], "c2");
    cgroups_list_free(ids, n);
}

static void test_purge(void **state)
{
    fixture_t *f = *state;
    open_default(f);
    create(f, "c1", 1, 0);
    create(f, "c2", 1, 0);
    char err[256] = "";
    assert_int_equal(cgroups_purge(f->cg, err, sizeof(err)), ACTOR_OK);
    assert_false(exists(f, SUBTREE));
    char **ids;
    size_t n;
    assert_int_equal(cgroups_list(f->cg, &ids, &n, err, sizeof(err)), ACTOR_OK);
    assert_int_equal(n, 0);
    /* The handle still works: the subtree is made again. */
    create(f, "c3", 1, 0);
    assert_string_equal(get(f, SUBTREE "/cgroup.subtree_control"), "+cpu +memory");
    assert_int_equal(cgroups_purge(f->cg, err, sizeof(err)), ACTOR_OK);
    assert_false(exists(f, SUBTREE));
    /* A purge that cannot kill a container reports it and leaves that one. */
    create(f, "c4", 1, 0);
    put(f, SUBTREE "/c4/cgroup.procs", "4242\n");
    cgroups_close(f->cg);
    cgroups_options_t o = options(f);
    o.destroy_timeout_ms = 20;
    assert_int_equal(cgroups_open(&o, &f->cg, NULL, 0), ACTOR_OK);
    assert_int_equal(cgroups_purge(f->cg, err, sizeof(err)), ACTOR_ETIMEDOUT);
    assert_true(exists(f, SUBTREE "/c4"));
}

static void test_nested_subtrees(void **state)
{
    fixture_t *f = *state;
    cgroups_options_t o = options(f);
    o.subtree = "mesos/agent-1";
    assert_int_equal(cgroups_open(&o, &f->cg, NULL, 0), ACTOR_OK);
    cgroups_t *other;
    o.subtree = "mesos/agent-2";
    assert_int_equal(cgroups_open(&o, &other, NULL, 0), ACTOR_OK);
    assert_string_equal(get(f, "mesos/cgroup.subtree_control"), "+cpu +memory");
    assert_string_equal(get(f, "mesos/agent-1/cgroup.subtree_control"), "+cpu +memory");
    assert_int_equal(cgroups_create(f->cg, "c1", 1, 0, NULL, 0), ACTOR_OK);
    assert_int_equal(cgroups_create(other, "c1", 1, 0, NULL, 0), ACTOR_OK);
    assert_true(exists(f, "mesos/agent-1/c1/memory.max"));
    assert_true(exists(f, "mesos/agent-2/c1/memory.max"));
    /* Purging agent-1 leaves agent-2 and their shared parent alone. */
    assert_int_equal(cgroups_purge(f->cg, NULL, 0), ACTOR_OK);
    assert_false(exists(f, "mesos/agent-1"));
    assert_true(exists(f, "mesos/agent-2/c1/memory.max"));
    assert_string_equal(get(f, "mesos/cgroup.subtree_control"), "+cpu +memory");
    /* The last one out removes the parent too. */
    assert_int_equal(cgroups_purge(other, NULL, 0), ACTOR_OK);
    assert_false(exists(f, "mesos"));
    cgroups_close(other);
}

/* Everything in the tree outside our subtree, as "path=content" lines (the root's
 * cgroup.subtree_control, which the library may turn controllers on in, is left out). */
static char snapshot_buf[16384];
static size_t snapshot_len;
static size_t snapshot_root_len;

static int snapshot_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)ftw;
    const char *rel = path + snapshot_root_len;
    if (strncmp(rel, "/" SUBTREE, strlen("/" SUBTREE)) == 0 ||
        strcmp(rel, "/cgroup.subtree_control") == 0)
        return 0;
    char content[256] = "";
    if (flag == FTW_F) {
        FILE *fp = fopen(path, "r");
        assert_non_null(fp);
        content[fread(content, 1, sizeof(content) - 1, fp)] = '\0';
        fclose(fp);
    }
    /* A file's mtime shows a rewrite of the same content; a directory's changes with its
     * entries (the root's, when our subtree comes and goes), so only files carry it. */
    long mtime = flag == FTW_F ? (long)st->st_mtim.tv_nsec : 0;
    int n = snprintf(snapshot_buf + snapshot_len, sizeof(snapshot_buf) - snapshot_len,
                     "%s mode=%o mtime=%ld=%s\n", rel, (unsigned)st->st_mode, mtime, content);
    assert_true(n > 0 && (size_t)n < sizeof(snapshot_buf) - snapshot_len);
    snapshot_len += (size_t)n;
    return 0;
}

static char *snapshot(fixture_t *f)
{
    snapshot_len = 0;
    snapshot_root_len = strlen(f->root);
    assert_int_equal(nftw(f->root, snapshot_entry, 8, FTW_PHYS), 0);
    char *copy = strdup(snapshot_buf);
    assert_non_null(copy);
    return copy;
}

static void test_touches_nothing_outside_subtree(void **state)
{
    fixture_t *f = *state;
    put(f, "cgroup.subtree_control", "cpu memory\n");
    char *before = snapshot(f);
    open_default(f);
    create(f, "c1", 2, 256 * MiB);
    create(f, "c2", 1, 64 * MiB);
    container_usage_t u;
    bool killed;
    char **ids;
    size_t n;
    assert_int_equal(cgroups_update(f->cg, "c1", 3, 512 * MiB, NULL, 0), ACTOR_OK);
    assert_int_equal(cgroups_usage(f->cg, "c1", &u, NULL, 0), ACTOR_OK);
    assert_int_equal(cgroups_oom_killed(f->cg, "c1", &killed, NULL, 0), ACTOR_OK);
    assert_int_equal(cgroups_list(f->cg, &ids, &n, NULL, 0), ACTOR_OK);
    cgroups_list_free(ids, n);
    assert_int_equal(cgroups_destroy(f->cg, "c2", NULL, 0), ACTOR_OK);
    assert_int_equal(cgroups_purge(f->cg, NULL, 0), ACTOR_OK);
    char *after = snapshot(f);
    assert_string_equal(before, after);
    /* Controllers that were on stay as they were. */
    assert_string_equal(get(f, "cgroup.subtree_control"), "cpu memory\n");
    free(before);
    free(after);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_open_enables_controllers),
        T(test_open_enables_only_what_is_used),
        T(test_open_missing_controller),
        T(test_open_bad_options),
        T(test_open_unwritable_subtree_control),
        T(test_detect),
        T(test_create_writes_limits),
        T(test_create_with_cfs_quota),
        T(test_create_only_enabled_controllers),
        T(test_create_errors),
        T(test_update),
        T(test_procs_files),
        T(test_usage),
        T(test_usage_errors),
        T(test_oom_killed),
        T(test_oom_killed_without_mem),
        T(test_destroy),
        T(test_destroy_without_cgroup_kill),
        T(test_destroy_empty_does_not_freeze),
        T(test_list),
        T(test_purge),
        T(test_nested_subtrees),
        T(test_touches_nothing_outside_subtree),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
