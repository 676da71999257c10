/*
 * proc.h: the child processes of the multi-process tests (tests/support/): a real binary started
 * with its argv, its standard streams redirected to files (or a terminal), waited for with a
 * deadline and stopped politely then firmly; and the processes that a test's daemons leave
 * behind (executors, tasks: no longer our children) found through /proc by a marker in their
 * environment, such as the work directory that MESOS_SANDBOX or MESOS_DIRECTORY names, and
 * killed.
 *
 * A child started here gets SIGKILL when the test process's thread that started it ends, so
 * that a test killed at its ctest timeout leaves no daemon running.
 */
#ifndef TESTS_SUPPORT_PROC_H
#define TESTS_SUPPORT_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Where a child's standard streams go, and its environment. */
typedef struct support_proc_io {
    const char *in;   /* file opened as stdin; NULL: the test's stdin */
    const char *out;  /* file created or truncated as stdout; NULL: the test's stdout */
    const char *err;  /* likewise for stderr */
    int out_fd;       /* >= 0: this descriptor as stdout instead of `out` (a pty) */
    char *const *env; /* NULL-terminated environment; NULL: the test's */
} support_proc_io_t;

/* Every stream inherited, the test's environment. Cannot fail. */
void support_proc_io_init(support_proc_io_t *io);

/* Starts the binary at path with argv (argv[0] its name; NULL-terminated) and io (NULL: all
 * inherited). Returns 0 and the child in *pid, or the errno of what failed: the fork, or in the
 * child the redirections or the exec (the child then exits 127 and *pid is still set, so that
 * the caller reaps it). Does not block. */
int support_proc_spawn(const char *path, char *const argv[], const support_proc_io_t *io,
                       pid_t *pid);

/* Waits up to timeout_ms for the child pid to end. True with its wait status in *status (may be
 * NULL) when it ended (reaped) or is not our child (status 0); false when it still runs. */
bool support_proc_wait(pid_t pid, int timeout_ms, int *status);

/* Stops the child pid: SIGTERM, then SIGKILL when it still runs after grace_ms; reaps it.
 * Returns its wait status (0 when it was not our child). Blocks up to grace_ms and the kill. */
int support_proc_stop(pid_t pid, int grace_ms);

/* The processes (but this one) with an environment variable whose NAME=value text contains
 * needle, into out (at most max). Returns how many. Processes that end meanwhile or whose
 * environment cannot be read are passed over. */
size_t support_proc_find_env(const char *needle, pid_t *out, size_t max);

/* SIGKILLs every process support_proc_find_env finds for needle, and its process group when it
 * leads one (a task's shell and its children). Returns how many processes it killed. */
size_t support_proc_kill_env(const char *needle);

#endif
