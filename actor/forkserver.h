/*
 * forkserver.h: starting a program by forking a waiting copy of it rather than executing it anew
 * (a "fork server", as Android's zygote): the spawning process keeps the copy, one per launcher
 * thread, and each spawn with actor_subprocess_options.fork_server is a request to it. The copy
 * forks a child that takes the spawning process as its parent (CLONE_PARENT: the spawner reaps
 * it and gets its wait status, as with any child), makes every step actor_subprocess_spawn makes
 * before execve (subprocess.h), takes the request's argv and environment as its own (the ones
 * /proc/PID/cmdline and /proc/PID/environ show, through PR_SET_MM_MAP), and calls the program's
 * entry function. What this saves per process is the execve and the C library's start-up: for
 * the static mesos-executor on the machines here, about 0.2 ms of CPU per task in launch-bench's
 * paired runs, which an agent pays once per task.
 *
 * A program opts in by calling actor_forkserver_main() first thing in main(). A spawn falls back
 * to execve whenever its fork server cannot serve: the program does not opt in, or this system
 * lacks what forking it needs (the C library's thread id field, PR_SET_MM_MAP), or the program
 * is built with AddressSanitizer, whose own bookkeeping a bare clone would not update.
 *
 * The server is started as the program with argv {path, "--fork_server"} and
 * ACTOR_FORKSERVER=<spawner's pid> in its environment, descriptor 0 a socket to its spawner. It
 * dies with the thread that started it (PR_SET_PDEATHSIG) and at the end of its socket; the
 * children it made live on. One found dead at a spawn is replaced; one that dies during a spawn
 * fails that spawn (whether it had forked the child is unknown, so it is not tried again).
 */
#ifndef ACTOR_FORKSERVER_H
#define ACTOR_FORKSERVER_H

#include <stdbool.h>

/* What a forked child runs: the program's main() without the opt-in call. Its return value is the
 * child's exit status. */
typedef int (*actor_forkserver_entry_fn)(int argc, char **argv);

/* Serves spawn requests, and never returns, when this process was started as a fork server;
 * otherwise returns at once. Call it before anything else in main(). */
void actor_forkserver_main(actor_forkserver_entry_fn entry);

/* Whether this process is a child forked by a fork server (rather than executed). */
bool actor_forkserver_forked(void);

#endif
