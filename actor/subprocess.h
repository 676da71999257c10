/*
 * subprocess.h: starting processes and hearing of their exit, for actors (libprocess's
 * subprocess and reap).
 *
 * actor_subprocess_spawn() starts a program as vfork+execve does, never fork, so that a large
 * process (an agent with thousands of tasks) pays nothing to copy its page tables, nor its
 * descriptor table: the child starts on the caller's table and first of all takes a table of its
 * own holding only descriptors 0, 1 and 2 (the caller's sockets and files are not the program's).
 * Until the execve the child only makes async-signal-safe system calls, in this order: it
 * writes its pid into each listed cgroup.procs file (so that the program starts inside its
 * cgroups, with no window outside them), starts a new session if asked, redirects stdin, stdout
 * and stderr, changes directory, drops to the given user (setgroups, setgid, setuid), resets
 * every signal to its default disposition with nothing blocked (a task must not inherit an
 * agent's ignored SIGPIPE or blocked SIGTERM), and executes the program. A failure in any of
 * these steps is reported by the spawn call itself, with the step and errno in the message, and
 * the child exits with status 127 (already reaped when the call returns). Safe to call from any
 * thread, handlers included: the caller's thread waits only until the child has executed its
 * program.
 * actor_subprocess_spawn_async() does the same on a launcher thread and tells the actor after.
 *
 * actor_subprocess_watch() tells an actor when a process exits. It works with a pidfd on the
 * runtime's I/O thread, so it needs no SIGCHLD handler and no thread per process, and it works for
 * processes that are not our children (executors that an agent recovers after a restart): for
 * a child the watch also reaps it and reports its wait status; for another process the status is
 * unknown. The runtime's watches belong to a hidden actor, "reaper(N)", spawned on the first
 * watch: when the runtime stops, the watches still pending end with their callbacks run once with
 * self NULL and status -1 (the processes themselves are left alone).
 */
#ifndef ACTOR_SUBPROCESS_H
#define ACTOR_SUBPROCESS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "actor/actor.h"

typedef struct actor_subprocess_options {
    const char *path;  /* the program: an absolute or relative file name, not searched in PATH */
    char *const *argv; /* NULL-terminated; argv[0] is what the program sees as its name */
    char *const *envp; /* NULL-terminated; NULL = this process's environment */
    const char *cwd;   /* NULL = this process's working directory */
    /* Each NULL = inherit this process's descriptor. stdout and stderr files are opened
     * O_CREAT|O_APPEND, mode 0644, stdin read-only, by the child before it changes directory or
     * user (so relative names are relative to this process's directory, and files are created
     * as this process's user). */
    const char *stdin_path;
    const char *stdout_path;
    const char *stderr_path;
    bool new_session; /* setsid(): the program leads its own process group (kill(-pid, sig)) */
    /* Run as this user: uid, gid and supplementary groups; only when switch_user is set. */
    bool switch_user;
    uid_t uid;
    gid_t gid;
    const gid_t *groups;
    size_t group_count;
    /* cgroup.procs (v1 or v2) files the child joins before anything else. */
    const char *const *cgroup_procs;
    size_t cgroup_count;
    /* actor_subprocess_spawn_async only: fork the program from a fork server of it (forkserver.h)
     * instead of executing it, when one can serve; the program must call
     * actor_forkserver_main(). The child is ours and makes the same steps; stdin NULL means
     * /dev/null here. */
    bool fork_server;
} actor_subprocess_options_t;

/* Starts the program. On success *pid receives its pid; the caller should watch it (or reap it)
 * so that it does not stay a zombie. Errors: ACTOR_EINVAL (no path or argv), ACTOR_ESYSTEM with
 * a message in err ("chdir /x: No such file or directory", "execve /bin/nope: ..."; err may be
 * NULL). */
actor_err_t actor_subprocess_spawn(const actor_subprocess_options_t *opts, pid_t *pid, char *err,
                                   size_t err_len);

/* Told inside the spawning actor how an actor_subprocess_spawn_async() ended: rc ACTOR_OK with
 * the new process's pid, or an error (as actor_subprocess_spawn returns it, pid 0) with its
 * message in err (borrowed until fn returns; "" on success). If the actor is gone, a process
 * started for it is killed (SIGKILL, its process group too with new_session) and reaped, and fn
 * runs with self and state NULL so that it can free arg. */
typedef void (*actor_subprocess_spawned_fn)(actor_t *self, void *state, pid_t pid, actor_err_t rc,
                                            const char *err, void *arg);

/* Starts the program as actor_subprocess_spawn() does, on one of the runtime's two launcher
 * threads, so that the calling actor goes on with its work while the child executes its program
 * (and two spawns proceed in parallel); fn then runs in `to` with the outcome. opts and every
 * string and array it points to are copied before the call returns. Thread-safe; may be called
 * from handlers. Spawns still queued when the runtime stops end with fn run once with self NULL
 * and rc ACTOR_ECLOSED. Errors: ACTOR_EINVAL (no `to` or fn, or options that
 * actor_subprocess_spawn refuses), ACTOR_ENOMEM, ACTOR_ECLOSED when the runtime stopped,
 * ACTOR_ESYSTEM when a launcher thread cannot start. On error fn never runs. */
actor_err_t actor_subprocess_spawn_async(const actor_pid_t *to,
                                         const actor_subprocess_options_t *opts,
                                         actor_subprocess_spawned_fn fn, void *arg);

/* Told inside the watching actor that pid exited. status is the wait status (WIFEXITED, ...) for
 * a child of this process, -1 for a process that is not (or that someone else reaped). As with
 * actor_dispatch, if the actor is gone fn runs with self and state NULL so that it can free arg. */
typedef void (*actor_subprocess_exit_fn)(actor_t *self, void *state, pid_t pid, int status,
                                         void *arg);

/* Watches pid for `to`: fn runs in `to` once the process exited (at once, in effect, if it
 * already has). Thread-safe; may be called from handlers. Errors: ACTOR_EINVAL (no `to` or fn,
 * pid <= 0), ACTOR_ESYSTEM when no such process exists (ESRCH: it is gone and reaped, or never
 * was), ACTOR_ENOMEM, ACTOR_ECLOSED when the runtime stopped. On error fn never runs. */
actor_err_t actor_subprocess_watch(const actor_pid_t *to, pid_t pid, actor_subprocess_exit_fn fn,
                                   void *arg);

#endif
