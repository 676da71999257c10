/*
 * spawn_child.h: what a new process does between its creation and its program, shared by the two
 * ways of starting one (subprocess.h): a vfork-style child that executes the program, and a child
 * forked by a fork server (forkserver.h) that calls the program's entry function instead. Inside
 * the runtime only.
 */
#ifndef ACTOR_SPAWN_CHILD_H
#define ACTOR_SPAWN_CHILD_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "actor/subprocess.h"

/* Code that may run in a child on its own stack inside its parent's memory: not instrumented by
 * AddressSanitizer, whose shadow bookkeeping for these frames would stay behind in memory the
 * parent goes on using (the child never returns from them). */
#define CHILD_CODE __attribute__((no_sanitize_address))

/* The child's steps, in order; a failed one is reported with errno. */
typedef enum spawn_step {
    STEP_NONE = 0,
    STEP_UNSHARE,
    STEP_CGROUP_OPEN,
    STEP_CGROUP_WRITE,
    STEP_SETSID,
    STEP_STDIN,
    STEP_STDOUT,
    STEP_STDERR,
    STEP_DUP2,
    STEP_CHDIR,
    STEP_SETGROUPS,
    STEP_SETGID,
    STEP_SETUID,
    STEP_IDENTITY, /* a forked child taking its argv and environment (forkserver.c) */
    STEP_EXECVE,
} spawn_step_t;

/* How a failed step is told. A vfork-style child writes it into its parent's frame (fd -1); a
 * forked child has memory of its own and writes a copy of it to fd. */
typedef struct spawn_report {
    int step;     /* spawn_step_t that failed; STEP_NONE when the program runs */
    int error;    /* its errno */
    size_t index; /* the cgroup.procs file, for the cgroup steps */
    int fd;
} spawn_report_t;

/* Records the failed step with errno and exits with status 127. */
CHILD_CODE __attribute__((noreturn)) void spawn_child_fail(volatile spawn_report_t *r,
                                                           spawn_step_t step, size_t index);

/* Every step before the program, as subprocess.h lists them: a descriptor table holding only 0,
 * 1, 2 and keep_fd (-1: none; a vfork-style child gets a table of its own here, keep_fd must be
 * -1 then), the cgroups, the session, the redirections, the directory, the user and the signals
 * (default dispositions, nothing blocked; with defaults_only the dispositions are known to be
 * the defaults already, as a fork server's are, and only the mask is cleared). A failure does
 * not return. */
CHILD_CODE void spawn_child_prepare(const actor_subprocess_options_t *o, volatile spawn_report_t *r,
                                    int keep_fd, bool defaults_only);

/* Sets every signal's disposition to the default, through the system call: glibc's sigaction()
 * refuses its internal signals 32 and 33, which glibc's posix_spawn() leaves ignored in the
 * programs it starts, and an ignored signal stays ignored through execve. */
CHILD_CODE void spawn_default_dispositions(void);

/* Reaps a child of ours, waiting for its end. */
void spawn_reap(pid_t pid);

/* Kills a child of ours (and its process group, when it leads one: group) and reaps it. */
void spawn_kill(pid_t pid, bool group);

/* The spawn's error message for a failed step ("chdir /x: No such file or directory"). */
void spawn_describe_failure(const actor_subprocess_options_t *o, const spawn_report_t *r, char *err,
                            size_t err_len);

/* ---- forkserver.c's side in the spawning process ---- */

/* Starts the program of o by asking this thread's fork server of it (started on first use, and
 * again after it died). False when no fork server of o->path can serve (the program does not
 * call actor_forkserver_main, or this system lacks what forking it needs): the caller executes
 * the program instead. True otherwise, with the outcome in *rc as actor_subprocess_spawn gives
 * it. */
bool forkserver_spawn(const actor_subprocess_options_t *o, pid_t *pid, actor_err_t *rc, char *err,
                      size_t err_len);

/* At the end of a thread that spawned through fork servers: stops its server and forgets the
 * programs it found no server for. */
void forkserver_thread_end(void);

#endif
