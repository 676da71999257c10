/*
 * spawn_child.c: a new process's steps before its program; see spawn_child.h.
 */
#include "actor/spawn_child.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* Written by the child (in the parent's frame), read by the parent after clone returns. */
CHILD_CODE __attribute__((noreturn)) void spawn_child_fail(volatile spawn_report_t *r,
                                                           spawn_step_t step, size_t index)
{
    r->error = errno;
    r->index = index;
    r->step = step;
    if (r->fd >= 0) {
        spawn_report_t copy = {r->step, r->error, r->index, -1};
        (void)!write(r->fd, &copy, sizeof(copy));
    }
    _exit(127);
}

/* Writes the decimal pid and a newline into buf; returns the length. */
static CHILD_CODE size_t format_pid(pid_t pid, char buf[24])
{
    char digits[24];
    size_t n = 0;
    unsigned long v = (unsigned long)pid;
    do {
        digits[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v > 0);
    size_t len = 0;
    while (n > 0)
        buf[len++] = digits[--n];
    buf[len++] = '\n';
    return len;
}

static CHILD_CODE void child_join_cgroups(const actor_subprocess_options_t *o,
                                          volatile spawn_report_t *r)
{
    char text[24];
    size_t len = format_pid(getpid(), text);
    for (size_t i = 0; i < o->cgroup_count; i++) {
        int fd = open(o->cgroup_procs[i], O_WRONLY | O_CLOEXEC);
        if (fd < 0)
            spawn_child_fail(r, STEP_CGROUP_OPEN, i);
        ssize_t n = write(fd, text, len);
        if (n != (ssize_t)len) {
            if (n >= 0)
                errno = EIO;
            spawn_child_fail(r, STEP_CGROUP_WRITE, i);
        }
        close(fd);
    }
}

/* Opens path onto descriptor target (0, 1 or 2). */
static CHILD_CODE void child_redirect(const char *path, int target, int flags, spawn_step_t step,
                                      volatile spawn_report_t *r)
{
    if (path == NULL)
        return;
    int fd = open(path, flags, 0644);
    if (fd < 0)
        spawn_child_fail(r, step, 0);
    if (fd != target) {
        if (dup2(fd, target) < 0)
            spawn_child_fail(r, STEP_DUP2, (size_t)target);
        close(fd);
    }
}

static CHILD_CODE void child_switch_user(const actor_subprocess_options_t *o,
                                         volatile spawn_report_t *r)
{
    if (!o->switch_user)
        return;
    if (syscall(SYS_setgroups, o->group_count, o->groups) != 0)
        spawn_child_fail(r, STEP_SETGROUPS, 0);
    if (syscall(SYS_setresgid, o->gid, o->gid, o->gid) != 0)
        spawn_child_fail(r, STEP_SETGID, 0);
    if (syscall(SYS_setresuid, o->uid, o->uid, o->uid) != 0)
        spawn_child_fail(r, STEP_SETUID, 0);
}

CHILD_CODE void spawn_default_dispositions(void)
{
    struct {
        void *handler;
        unsigned long flags;
        void *restorer;
        uint64_t mask;
    } dfl = {SIG_DFL, 0, NULL, 0}; /* the kernel's struct sigaction */
    for (int sig = 1; sig < NSIG; sig++)
        if (sig != SIGKILL && sig != SIGSTOP)
            (void)syscall(SYS_rt_sigaction, sig, &dfl, NULL, sizeof(dfl.mask));
}

/* Default dispositions and an empty mask, whatever the parent had: a task must not inherit an
 * agent's ignored SIGPIPE or its blocked SIGTERM. */
static CHILD_CODE void child_reset_signals(bool defaults_only)
{
    if (!defaults_only)
        spawn_default_dispositions();
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
}

/* A table of our own holding only 0, 1, 2 and keep_fd. A vfork-style child (keep_fd -1) shares
 * its parent's table until here, and has opened nothing yet (kernels before 5.9 know no
 * CLOSE_RANGE_UNSHARE: a copy of the whole table, then the close); a forked one owns a copy. */
static CHILD_CODE void child_own_descriptors(int keep_fd, volatile spawn_report_t *r)
{
    bool ok;
    if (keep_fd < 0)
        ok = close_range(3, ~0u, CLOSE_RANGE_UNSHARE) == 0 ||
             (errno == EINVAL && unshare(CLONE_FILES) == 0 && close_range(3, ~0u, 0) == 0);
    else
        ok = (keep_fd <= 3 || close_range(3, (unsigned)keep_fd - 1, 0) == 0) &&
             close_range((unsigned)keep_fd + 1, ~0u, 0) == 0;
    if (!ok)
        spawn_child_fail(r, STEP_UNSHARE, 0);
}

CHILD_CODE void spawn_child_prepare(const actor_subprocess_options_t *o, volatile spawn_report_t *r,
                                    int keep_fd, bool defaults_only)
{
    child_own_descriptors(keep_fd, r);
    child_join_cgroups(o, r);
    if (o->new_session && setsid() < 0)
        spawn_child_fail(r, STEP_SETSID, 0);
    child_redirect(o->stdin_path, STDIN_FILENO, O_RDONLY, STEP_STDIN, r);
    child_redirect(o->stdout_path, STDOUT_FILENO, O_WRONLY | O_CREAT | O_APPEND, STEP_STDOUT, r);
    child_redirect(o->stderr_path, STDERR_FILENO, O_WRONLY | O_CREAT | O_APPEND, STEP_STDERR, r);
    if (o->cwd != NULL && chdir(o->cwd) != 0)
        spawn_child_fail(r, STEP_CHDIR, 0);
    child_switch_user(o, r);
    child_reset_signals(defaults_only);
}

void spawn_reap(pid_t pid)
{
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
        ;
}

void spawn_kill(pid_t pid, bool group)
{
    if (group)
        kill(-pid, SIGKILL);
    kill(pid, SIGKILL);
    spawn_reap(pid);
}

void spawn_describe_failure(const actor_subprocess_options_t *o, const spawn_report_t *r, char *err,
                            size_t err_len)
{
    char what[64];
    const char *object = "";
    switch ((spawn_step_t)r->step) {
    case STEP_CGROUP_OPEN:
    case STEP_CGROUP_WRITE:
        snprintf(what, sizeof(what), "%s", r->step == STEP_CGROUP_OPEN ? "open" : "write");
        object = o->cgroup_procs[r->index];
        break;
    case STEP_STDIN:
    case STEP_STDOUT:
    case STEP_STDERR:
        snprintf(what, sizeof(what), "open");
        object = r->step == STEP_STDIN    ? o->stdin_path
                 : r->step == STEP_STDOUT ? o->stdout_path
                                          : o->stderr_path;
        break;
    case STEP_DUP2:
        snprintf(what, sizeof(what), "dup2 onto descriptor %zu", r->index);
        break;
    case STEP_SETSID:
        snprintf(what, sizeof(what), "setsid");
        break;
    case STEP_UNSHARE:
        snprintf(what, sizeof(what), "close_range (unshare)");
        break;
    case STEP_CHDIR:
        snprintf(what, sizeof(what), "chdir");
        object = o->cwd;
        break;
    case STEP_SETGROUPS:
        snprintf(what, sizeof(what), "setgroups (%zu groups)", o->group_count);
        break;
    case STEP_SETGID:
        snprintf(what, sizeof(what), "setgid %u", (unsigned)o->gid);
        break;
    case STEP_IDENTITY:
        snprintf(what, sizeof(what), "prctl PR_SET_MM_MAP (argv and environment)");
        break;
    case STEP_SETUID:
        snprintf(what, sizeof(what), "setuid %u", (unsigned)o->uid);
        break;
    default:
        snprintf(what, sizeof(what), "execve");
        object = o->path;
        break;
    }
    if (err != NULL && err_len > 0)
        snprintf(err, err_len, "%s%s%s: %s", what, object[0] ? " " : "", object,
                 strerror(r->error));
}
