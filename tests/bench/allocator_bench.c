/*
 * allocator-bench: the allocator core's cost, after Mesos's
 * HierarchicalAllocator_BENCHMARK_Test.DeclineOffers (src/tests/hierarchical_allocator_tests.cpp):
 * N agents of `cpus:24;mem:4096;disk:4096;ports:[31000-32000]`, each already running 16 tasks'
 * worth (`cpus:16;mem:2014;disk:1024` and 16 ports) of framework i % M; M frameworks in one
 * role. Each round declines every offer of the round before with a practically infinite filter
 * (refuse_seconds INT_MAX, as Mesos's benchmark does) and runs one cycle, so each round offers
 * every agent to a framework that has not seen it yet.
 *
 * The core API is called directly (no actor, no messages), and each step is timed with
 * clock_gettime(CLOCK_MONOTONIC). One JSON line per figure:
 *   {"bench":"allocator","metric":"allocate_ms_median","value":12.3,"unit":"ms",...}
 *
 * Usage: allocator-bench [--agents=N] [--frameworks=M] [--rounds=R] [--each]
 * Defaults: 10000 agents, 1000 frameworks, 20 rounds. --each prints every round too.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "master/allocator/allocator.h"

typedef struct config {
    long agents;
    long frameworks;
    long rounds;
    int each;
} config_t;

static config_t cfg = {10000, 1000, 20, 0};

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static double rss_mb(void)
{
    long pages = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f == NULL)
        return 0;
    if (fscanf(f, "%ld %ld", &pages, &resident) != 2)
        resident = 0;
    fclose(f);
    return (double)resident * (double)sysconf(_SC_PAGESIZE) / (1024.0 * 1024.0);
}

static void emit(const char *metric, double value, const char *unit)
{
    printf("{\"bench\":\"allocator\",\"metric\":\"%s\",\"value\":%.3f,\"unit\":\"%s\","
           "\"agents\":%ld,\"frameworks\":%ld,\"rounds\":%ld,"
           "\"timing\":\"core API called directly, clock_gettime(CLOCK_MONOTONIC)\"}\n",
           metric, value, unit, cfg.agents, cfg.frameworks, cfg.rounds);
    fflush(stdout);
}

static void die(const char *what, actor_err_t rc)
{
    fprintf(stderr, "allocator-bench: %s: %s\n", what, actor_strerror(rc));
    exit(1);
}

static resources_t parse(const char *text)
{
    resources_t r;
    char err[256];
    actor_err_t rc = resources_parse(&r, text, NULL, err, sizeof(err));
    if (rc != ACTOR_OK)
        die(err, rc);
    return r;
}

/* What Mesos's benchmark puts on each agent: 16 tasks of 1 cpu, and 16 two-port ranges spread
 * over [31000-32000] (its makePortRanges). */
static resources_t task_usage(void)
{
    char text[512];
    int n = snprintf(text, sizeof(text), "cpus:16;mem:2014;disk:1024;ports:[");
    for (int i = 0; i < 16; i++) {
        int begin = 31000 + i * (1000 / 16);
        n +=
            snprintf(text + n, sizeof(text) - (size_t)n, "%s%d-%d", i ? "," : "", begin, begin + 1);
    }
    snprintf(text + n, sizeof(text) - (size_t)n, "]");
    return parse(text);
}

static void add_frameworks(allocator_t *a, char ids[][32])
{
    const char *roles[] = {"role1"};
    double t0 = now_ms();
    for (long i = 0; i < cfg.frameworks; i++) {
        snprintf(ids[i], 32, "framework%ld", i);
        actor_err_t rc = allocator_add_framework(a, ids[i], roles, 1, NULL, 0, NULL, 0);
        if (rc != ACTOR_OK)
            die("add framework", rc);
    }
    emit("add_frameworks_ms", now_ms() - t0, "ms");
}

static void add_agents(allocator_t *a, char fids[][32])
{
    resources_t total = parse("cpus:24;mem:4096;disk:4096;ports:[31000-32000]");
    resources_t used_res = task_usage();
    double t0 = now_ms();
    for (long i = 0; i < cfg.agents; i++) {
        char id[32];
        snprintf(id, sizeof(id), "agent%ld", i);
        allocator_used_t used = {
            .framework_id = fids[i % cfg.frameworks], .role = "role1", .resources = &used_res};
        actor_err_t rc = allocator_add_agent(a, id, &total, &used, 1);
        if (rc != ACTOR_OK)
            die("add agent", rc);
    }
    emit("add_agents_ms", now_ms() - t0, "ms");
    resources_fini(&total);
    resources_fini(&used_res);
}

static int compare_doubles(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

/* Declines every grant of g with a filter of INT_MAX seconds; returns the time taken. */
static double decline_all(allocator_t *a, allocator_grants_t *g, double now)
{
    double t0 = now_ms();
    for (size_t i = 0; i < g->count; i++) {
        const allocator_grant_t *x = &g->items[i];
        actor_err_t rc =
            allocator_recover(a, x->framework_id, x->agent_id, &x->resources, INT_MAX, now);
        if (rc != ACTOR_OK)
            die("decline", rc);
    }
    double took = now_ms() - t0;
    allocator_grants_free(g);
    return took;
}

static void run_rounds(allocator_t *a)
{
    double *times = calloc((size_t)cfg.rounds, sizeof(*times));
    double decline_ms = 0, first_ms = 0;
    size_t offers_total = 0, offers_first = 0, offers_last = 0;
    allocator_grants_t g = {0};
    for (long r = 0; r < cfg.rounds; r++) {
        double now = (double)r;
        decline_ms += decline_all(a, &g, now);
        double t0 = now_ms();
        actor_err_t rc = allocator_allocate(a, now, &g);
        times[r] = now_ms() - t0;
        if (rc != ACTOR_OK)
            die("allocate", rc);
        if (r == 0) {
            first_ms = times[0];
            offers_first = g.count;
        }
        offers_total += g.count;
        offers_last = g.count;
        if (cfg.each)
            printf("{\"bench\":\"allocator\",\"round\":%ld,\"allocate_ms\":%.3f,\"offers\":%zu}\n",
                   r, times[r], g.count);
    }
    allocator_grants_free(&g);
    emit("allocate_ms_first", first_ms, "ms");
    emit("offers_first", (double)offers_first, "offers");
    emit("offers_last", (double)offers_last, "offers");
    emit("offers_total", (double)offers_total, "offers");
    emit("decline_ms_per_round", decline_ms / (double)cfg.rounds, "ms");
    qsort(times, (size_t)cfg.rounds, sizeof(*times), compare_doubles);
    emit("allocate_ms_median", times[cfg.rounds / 2], "ms");
    emit("allocate_ms_max", times[cfg.rounds - 1], "ms");
    free(times);
}

static long flag_value(const char *arg, const char *name)
{
    size_t n = strlen(name);
    if (strncmp(arg, name, n) != 0 || arg[n] != '=')
        return -1;
    char *end;
    long v = strtol(arg + n + 1, &end, 10);
    return *end == '\0' && v > 0 ? v : -1;
}

static void parse_flags(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        long v;
        if ((v = flag_value(argv[i], "--agents")) > 0)
            cfg.agents = v;
        else if ((v = flag_value(argv[i], "--frameworks")) > 0)
            cfg.frameworks = v;
        else if ((v = flag_value(argv[i], "--rounds")) > 0)
            cfg.rounds = v;
        else if (strcmp(argv[i], "--each") == 0)
            cfg.each = 1;
        else {
            fprintf(stderr, "usage: allocator-bench [--agents=N] [--frameworks=M] [--rounds=R] "
                            "[--each]\n");
            exit(2);
        }
    }
}

int main(int argc, char **argv)
{
    parse_flags(argc, argv);
    char(*fids)[32] = calloc((size_t)cfg.frameworks, sizeof(*fids));
    double rss0 = rss_mb();
    allocator_t *a = allocator_create();
    if (a == NULL || fids == NULL)
        die("create", ACTOR_ENOMEM);
    add_frameworks(a, fids);
    add_agents(a, fids);
    emit("rss_after_setup_mb", rss_mb() - rss0, "MiB");
    run_rounds(a);
    emit("rss_after_rounds_mb", rss_mb() - rss0, "MiB");
    double t0 = now_ms();
    allocator_destroy(a);
    emit("destroy_ms", now_ms() - t0, "ms");
    free(fids);
    return 0;
}
