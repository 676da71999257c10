/*
 * posix.c: a process tree's usage from /proc (posix.h).
 *
 * One pass reads /proc/<pid>/stat of every process into a table (pid, parent, times, threads,
 * RSS); then, with the table sorted by parent, the tree is walked breadth first from the root.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "slave/containerizer/containerizer_int.h"
#include "slave/containerizer/posix.h"

typedef struct proc_stat {
    pid_t pid;
    pid_t ppid;
    unsigned long long utime; /* clock ticks */
    unsigned long long stime; /* clock ticks */
    long threads;
    long rss;     /* pages */
    bool in_tree; /* the root or a descendant of it */
} proc_stat_t;

typedef struct proc_table {
    proc_stat_t *items;
    size_t count;
    size_t cap;
} proc_table_t;

/* Parses the text of /proc/<pid>/stat. The command name (field 2) is in parentheses and may hold
 * spaces and parentheses itself, so the fields after it are counted from its last ')'. */
static bool parse_stat(const char *text, proc_stat_t *p)
{
    const char *close = strrchr(text, ')');
    if (close == NULL)
        return false;
    char state;
    int ppid;
    unsigned long long utime, stime;
    long threads, rss;
    /* Fields 3 (state) to 24 (rss); the ones we skip are read with %*. */
    int n = sscanf(close + 1,
                   " %c %d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %*d %*d %*d %*d %ld "
                   "%*d %*u %*u %ld",
                   &state, &ppid, &utime, &stime, &threads, &rss);
    if (n != 6)
        return false;
    p->ppid = ppid;
    p->utime = utime;
    p->stime = stime;
    p->threads = threads;
    p->rss = rss;
    return true;
}

/* Reads /proc/<pid>/stat into the table. A process that exited meanwhile is skipped. */
static actor_err_t table_add(proc_table_t *t, pid_t pid)
{
    char path[64], *text;
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    actor_err_t rc = cz_read_file(path, &text, NULL, NULL, 0);
    if (rc == ACTOR_ENOMEM)
        return rc;
    if (rc != ACTOR_OK)
        return ACTOR_OK; /* gone (ENOENT, ESRCH): not ours to count */
    proc_stat_t p = {.pid = pid};
    bool ok = parse_stat(text, &p);
    free(text);
    if (!ok)
        return ACTOR_OK;
    if (t->count == t->cap) {
        size_t cap = t->cap == 0 ? 256 : t->cap * 2;
        proc_stat_t *items = realloc(t->items, cap * sizeof(*items));
        if (items == NULL)
            return ACTOR_ENOMEM;
        t->items = items;
        t->cap = cap;
    }
    t->items[t->count++] = p;
    return ACTOR_OK;
}

/* Whether a /proc entry name is a pid; stores it. */
static bool proc_entry_pid(const char *name, pid_t *pid)
{
    if (!isdigit((unsigned char)name[0]))
        return false;
    char *end;
    long v = strtol(name, &end, 10);
    if (*end != '\0' || v <= 0)
        return false;
    *pid = (pid_t)v;
    return true;
}

static actor_err_t table_scan(proc_table_t *t, char *err, size_t err_len)
{
    DIR *dir = opendir("/proc");
    if (dir == NULL) {
        cz_errorf(err, err_len, "Failed to open /proc: %s", strerror(errno));
        return ACTOR_ESYSTEM;
    }
    actor_err_t rc = ACTOR_OK;
    struct dirent *de;
    while (rc == ACTOR_OK && (de = readdir(dir)) != NULL) {
        pid_t pid;
        if (proc_entry_pid(de->d_name, &pid))
            rc = table_add(t, pid);
    }
    closedir(dir);
    if (rc != ACTOR_OK)
        cz_errorf(err, err_len, "Out of memory reading /proc");
    return rc;
}

static int by_ppid(const void *a, const void *b)
{
    pid_t x = ((const proc_stat_t *)a)->ppid, y = ((const proc_stat_t *)b)->ppid;
    return (x > y) - (x < y);
}

/* Index of the first process whose parent is ppid in the table sorted by parent (t->count when
 * none). */
static size_t first_child(const proc_table_t *t, pid_t ppid)
{
    size_t lo = 0, hi = t->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (t->items[mid].ppid < ppid)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Marks the root and its descendants, breadth first over the table sorted by parent (each
 * process has one parent, so each is queued once). Returns ACTOR_ENOENT when the root is not in
 * the table. */
static actor_err_t mark_tree(proc_table_t *t, pid_t root)
{
    proc_stat_t *r = NULL;
    for (size_t i = 0; i < t->count && r == NULL; i++)
        r = t->items[i].pid == root ? &t->items[i] : NULL;
    if (r == NULL)
        return ACTOR_ENOENT;
    r->in_tree = true;
    pid_t *queue = malloc((t->count + 1) * sizeof(*queue));
    if (queue == NULL)
        return ACTOR_ENOMEM;
    qsort(t->items, t->count, sizeof(*t->items), by_ppid);
    size_t head = 0, tail = 0;
    queue[tail++] = root;
    while (head < tail) {
        pid_t parent = queue[head++];
        for (size_t i = first_child(t, parent); i < t->count && t->items[i].ppid == parent; i++) {
            if (t->items[i].in_tree)
                continue;
            t->items[i].in_tree = true;
            queue[tail++] = t->items[i].pid;
        }
    }
    free(queue);
    return ACTOR_OK;
}

static void sum_tree(const proc_table_t *t, container_usage_t *usage)
{
    double hz = (double)sysconf(_SC_CLK_TCK);
    uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
    unsigned long long utime = 0, stime = 0;
    for (size_t i = 0; i < t->count; i++) {
        const proc_stat_t *p = &t->items[i];
        if (!p->in_tree)
            continue;
        utime += p->utime;
        stime += p->stime;
        usage->mem_rss_bytes += p->rss > 0 ? (uint64_t)p->rss * page : 0;
        usage->threads += p->threads > 0 ? (uint32_t)p->threads : 0;
        usage->processes++;
    }
    usage->cpus_user_time_secs = (double)utime / hz;
    usage->cpus_system_time_secs = (double)stime / hz;
}

actor_err_t posix_usage(pid_t root_pid, container_usage_t *usage, char *err, size_t err_len)
{
    memset(usage, 0, sizeof(*usage));
    if (root_pid <= 0) {
        cz_errorf(err, err_len, "Invalid process id %d", (int)root_pid);
        return ACTOR_EINVAL;
    }
    proc_table_t t = {0};
    actor_err_t rc = table_scan(&t, err, err_len);
    if (rc != ACTOR_OK)
        goto done;
    rc = mark_tree(&t, root_pid);
    if (rc == ACTOR_ENOENT)
        cz_errorf(err, err_len, "No process %d", (int)root_pid);
    else if (rc != ACTOR_OK)
        cz_errorf(err, err_len, "Out of memory measuring process %d", (int)root_pid);
    if (rc != ACTOR_OK)
        goto done;
    sum_tree(&t, usage);
done:
    free(t.items);
    return rc;
}
