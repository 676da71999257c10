/* proc.c: child processes and /proc scans (proc.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/support/proc.h"
#include "tests/support/wait.h"

#define WAIT_STEP_MS 10
#define FIND_MAX     4096 /* processes one kill pass looks at */

extern char **environ;

void support_proc_io_init(support_proc_io_t *io)
{
    memset(io, 0, sizeof(*io));
    io->out_fd = -1;
}

/* Opens path as descriptor target (in the child: async-signal-safe calls only). */
static bool redirect(const char *path, int flags, int target)
{
    if (path == NULL)
        return true;
    int fd = open(path, flags, 0644);
    if (fd < 0)
        return false;
    bool ok = fd == target || dup2(fd, target) == target;
    if (fd != target)
        close(fd);
    return ok;
}

/* The child's side of support_proc_spawn: never returns. Reports a failure through the
 * close-on-exec pipe report (its errno), which the exec closes on success. */
static void child(const char *path, char *const argv[], const support_proc_io_t *io, int report,
                  pid_t parent)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlive a test killed by its timeout */
    if (getppid() != parent)
        _exit(127); /* the parent ended before the line above */
    bool ok =
        redirect(io->in, O_RDONLY, STDIN_FILENO) &&
        redirect(io->out_fd >= 0 ? NULL : io->out, O_WRONLY | O_CREAT | O_TRUNC, STDOUT_FILENO) &&
        (io->out_fd < 0 || dup2(io->out_fd, STDOUT_FILENO) == STDOUT_FILENO) &&
        redirect(io->err, O_WRONLY | O_CREAT | O_TRUNC, STDERR_FILENO);
    if (ok)
        execve(path, argv, io->env != NULL ? io->env : environ);
    int err = errno;
    ssize_t n = write(report, &err, sizeof(err));
    (void)n;
    _exit(127);
}

int support_proc_spawn(const char *path, char *const argv[], const support_proc_io_t *io,
                       pid_t *pid)
{
    support_proc_io_t inherit;
    if (io == NULL) {
        support_proc_io_init(&inherit);
        io = &inherit;
    }
    int report[2];
    if (pipe2(report, O_CLOEXEC) != 0)
        return errno;
    pid_t parent = getpid();
    *pid = fork();
    if (*pid < 0) {
        int err = errno;
        close(report[0]);
        close(report[1]);
        return err;
    }
    if (*pid == 0)
        child(path, argv, io, report[1], parent);
    close(report[1]);
    int err = 0;
    ssize_t n;
    do
        n = read(report[0], &err, sizeof(err));
    while (n < 0 && errno == EINTR);
    close(report[0]);
    return n == (ssize_t)sizeof(err) ? err : 0;
}

bool support_proc_wait(pid_t pid, int timeout_ms, int *status)
{
    int64_t deadline = support_now_ms() + timeout_ms;
    int ws = 0;
    for (;;) {
        pid_t done = waitpid(pid, &ws, WNOHANG);
        if (done == pid || (done < 0 && errno != EINTR)) {
            if (status != NULL)
                *status = done == pid ? ws : 0;
            return true;
        }
        if (support_now_ms() >= deadline)
            return false;
        support_sleep_ms(WAIT_STEP_MS);
    }
}

int support_proc_stop(pid_t pid, int grace_ms)
{
    int status = 0;
    kill(pid, SIGTERM);
    if (!support_proc_wait(pid, grace_ms, &status)) {
        kill(pid, SIGKILL);
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
            ;
    }
    return status;
}

/* Whether the environment of the process /proc/<name> holds needle in one of its entries. */
static bool environ_has(const char *name, const char *needle)
{
    char path[300];
    snprintf(path, sizeof(path), "/proc/%s/environ", name);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return false;
    bool found = false;
    char *entry = NULL;
    size_t cap = 0;
    while (!found && getdelim(&entry, &cap, '\0', f) > 0)
        found = strstr(entry, needle) != NULL;
    free(entry);
    fclose(f);
    return found;
}

size_t support_proc_find_env(const char *needle, pid_t *out, size_t max)
{
    DIR *d = opendir("/proc");
    if (d == NULL)
        return 0;
    size_t n = 0;
    pid_t self = getpid();
    for (struct dirent *e = readdir(d); e != NULL && n < max; e = readdir(d)) {
        pid_t pid = (pid_t)atoi(e->d_name);
        if (pid > 0 && pid != self && environ_has(e->d_name, needle))
            out[n++] = pid;
    }
    closedir(d);
    return n;
}

size_t support_proc_kill_env(const char *needle)
{
    pid_t *pids = calloc(FIND_MAX, sizeof(*pids));
    if (pids == NULL)
        return 0;
    size_t n = support_proc_find_env(needle, pids, FIND_MAX);
    for (size_t k = 0; k < n; k++) {
        if (getpgid(pids[k]) == pids[k] && pids[k] != getpgrp())
            kill(-pids[k], SIGKILL);
        kill(pids[k], SIGKILL);
    }
    free(pids);
    return n;
}
