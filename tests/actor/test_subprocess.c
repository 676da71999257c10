/* Tests of subprocess.h: exit statuses and signals, working directory, environment, redirection,
 * spawn failures with their messages, sessions and group kills, clean signal state and closed
 * descriptors in the child, user switch (as root), cgroup.procs writes, and watches: of a child,
 * of a process that is not our child, of a child that already exited, of a gone actor, and
 * across a runtime stop; and spawns on the launcher threads: options copied, failures reported to
 * the actor, a gone actor's process killed, many at once, across a runtime stop. One worker runs
 * the watching actor; the test thread waits on a condition variable with a deadline. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "actor/actor.h"
#include "actor/subprocess.h"

#define WAIT_SECONDS 10
#define MAX_EXITS    16

/* What the watch callbacks saw, under lock. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static struct {
    int count;
    pid_t pid[MAX_EXITS];
    int status[MAX_EXITS];
    bool in_actor[MAX_EXITS]; /* self and state were set */
    int freed;                /* args released by callbacks */
} seen;

static char dir[64];        /* a fresh temporary directory per test */
static actor_pid_t watcher; /* the watching actor */
static pid_t leftovers[8];  /* processes to kill in teardown if a test failed */
static size_t leftover_count;

static int watcher_marker; /* the watcher's state: lets callbacks tell it from NULL */

static void watcher_init(actor_t *self, void *state, void *arg)
{
    (void)self, (void)arg;
    *(int **)state = &watcher_marker;
}

static const actor_ops_t watcher_ops = {
    .name = "watcher", .state_size = sizeof(int *), .init = watcher_init};

static void on_exit_seen(actor_t *self, void *state, pid_t pid, int status, void *arg)
{
    pthread_mutex_lock(&lock);
    if (seen.count < MAX_EXITS) {
        seen.pid[seen.count] = pid;
        seen.status[seen.count] = status;
        seen.in_actor[seen.count] =
            self != NULL && state != NULL && *(int **)state == &watcher_marker;
        seen.count++;
    }
    free(arg);
    seen.freed++;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&lock);
}

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

static bool process_gone(pid_t pid)
{
    char path[64], buf[512];
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return true;
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *paren = strrchr(buf, ')');
    return paren != NULL && (paren[2] == 'Z' || paren[2] == 'X');
}

static void runtime_start(void)
{
    actor_runtime_options_t opts;
    actor_runtime_options_init(&opts);
    opts.workers = 1;
    assert_int_equal(actor_runtime_start(&opts), ACTOR_OK);
    assert_int_equal(actor_spawn(&watcher_ops, NULL, NULL, &watcher), ACTOR_OK);
}

static int setup(void **unused)
{
    (void)unused;
    memset(&seen, 0, sizeof(seen));
    leftover_count = 0;
    snprintf(dir, sizeof(dir), "/tmp/test_subprocess.XXXXXX");
    if (mkdtemp(dir) == NULL)
        return -1;
    runtime_start();
    return 0;
}

static int teardown(void **unused)
{
    (void)unused;
    /* What a failed test left running: not the processes whose exit was seen (their pids may
     * be reused by now). */
    for (size_t i = 0; i < leftover_count; i++) {
        bool exited = false;
        for (int k = 0; k < seen.count; k++)
            exited = exited || seen.pid[k] == leftovers[i];
        if (!exited && !process_gone(leftovers[i])) {
            kill(-leftovers[i], SIGKILL);
            kill(leftovers[i], SIGKILL);
            waitpid(leftovers[i], NULL, 0);
        }
    }
    actor_runtime_stop();
    while (waitpid(-1, NULL, WNOHANG) > 0)
        ;
    return nftw(dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
}

/* Waits until *counter (guarded by lock) reaches n; returns its value. */
static int wait_count(const int *counter, int n)
{
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += WAIT_SECONDS;
    pthread_mutex_lock(&lock);
    while (*counter < n && pthread_cond_timedwait(&cv, &lock, &deadline) == 0)
        ;
    int count = *counter;
    pthread_mutex_unlock(&lock);
    return count;
}

/* Waits until `n` exits were seen; returns how many were. */
static int wait_exits(int n)
{
    return wait_count(&seen.count, n);
}

static void path_in_dir(char *buf, size_t len, const char *name)
{
    snprintf(buf, len, "%s/%s", dir, name);
}

/* The whole content of a file in the test directory (static buffer; "" if missing). */
static const char *slurp(const char *name)
{
    static char buf[4096];
    char path[128];
    path_in_dir(path, sizeof(path), name);
    buf[0] = '\0';
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return buf;
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

/* Options running `/bin/sh -c script`. argv must have room for 4 entries. */
static void shell(actor_subprocess_options_t *o, char *argv[4], const char *script)
{
    memset(o, 0, sizeof(*o));
    argv[0] = "sh";
    argv[1] = "-c";
    argv[2] = (char *)script;
    argv[3] = NULL;
    o->path = "/bin/sh";
    o->argv = argv;
}

static pid_t spawn_ok(const actor_subprocess_options_t *o)
{
    pid_t pid = 0;
    char err[256];
    actor_err_t rc = actor_subprocess_spawn(o, &pid, err, sizeof(err));
    if (rc != ACTOR_OK)
        fail_msg("spawn failed: %s (%s)", actor_strerror(rc), err);
    assert_true(pid > 0);
    if (leftover_count < sizeof(leftovers) / sizeof(leftovers[0]))
        leftovers[leftover_count++] = pid;
    return pid;
}

static void watch_ok(pid_t pid)
{
    assert_int_equal(actor_subprocess_watch(&watcher, pid, on_exit_seen, malloc(8)), ACTOR_OK);
}

/* Runs a shell script to its end and returns its wait status. */
static int run_shell(actor_subprocess_options_t *o)
{
    int before = wait_exits(0);
    pid_t pid = spawn_ok(o);
    watch_ok(pid);
    assert_int_equal(wait_exits(before + 1), before + 1);
    assert_int_equal(seen.pid[before], pid);
    assert_true(seen.in_actor[before]);
    return seen.status[before];
}

/* ---- spawning ---- */

static void test_exit_status(void **unused)
{
    (void)unused;
    actor_subprocess_options_t o;
    char *argv[4];
    shell(&o, argv, "exit 3");
    int status = run_shell(&o);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 3);
    shell(&o, argv, "true");
    assert_int_equal(run_shell(&o), 0);
}

/* The parent ignores SIGINT and blocks SIGTERM; the child starts with neither. */
static void test_signal_and_clean_signal_state(void **unused)
{
    (void)unused;
    sigset_t term, old;
    sigemptyset(&term);
    sigaddset(&term, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &term, &old);
    void (*old_int)(int) = signal(SIGINT, SIG_IGN);

    actor_subprocess_options_t o;
    char *argv[4];
    shell(&o, argv, "kill -INT $$; sleep 5");
    int by_int = run_shell(&o);
    shell(&o, argv, "kill -TERM $$; sleep 5");
    int by_term = run_shell(&o);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    signal(SIGINT, old_int);
    assert_true(WIFSIGNALED(by_int));
    assert_int_equal(WTERMSIG(by_int), SIGINT);
    assert_true(WIFSIGNALED(by_term));
    assert_int_equal(WTERMSIG(by_term), SIGTERM);
}

static void test_cwd_env_and_redirection(void **unused)
{
    (void)unused;
    char out[128], errp[128];
    path_in_dir(out, sizeof(out), "out");
    path_in_dir(errp, sizeof(errp), "err");
    char *envp[] = {"GREETING=hello there", NULL};
    actor_subprocess_options_t o;
    char *argv[4];
    shell(&o, argv, "pwd; echo \"$GREETING\"; echo oops >&2; test -z \"$HOME\"");
    o.envp = envp;
    o.cwd = dir;
    o.stdout_path = "out"; /* relative to our directory: opened before the chdir */
    o.stderr_path = errp;
    char cwd[256];
    assert_non_null(getcwd(cwd, sizeof(cwd)));
    assert_int_equal(chdir(dir), 0);
    int status = run_shell(&o);
    assert_int_equal(chdir(cwd), 0);
    assert_int_equal(status, 0);
    char expect[256];
    snprintf(expect, sizeof(expect), "%s\nhello there\n", dir);
    assert_string_equal(slurp("out"), expect);
    assert_string_equal(slurp("err"), "oops\n");

    /* Appended, not truncated, by a second run. */
    o.stdout_path = out;
    assert_int_equal(run_shell(&o), 0);
    snprintf(expect, sizeof(expect), "%s\nhello there\n%s\nhello there\n", dir, dir);
    assert_string_equal(slurp("out"), expect);
    assert_string_equal(slurp("err"), "oops\noops\n");
}

/* A descriptor of ours without O_CLOEXEC is closed in the child; stdin comes from a file. */
static void test_descriptors(void **unused)
{
    (void)unused;
    char in[128], out[128];
    path_in_dir(in, sizeof(in), "in");
    path_in_dir(out, sizeof(out), "out");
    FILE *f = fopen(in, "w");
    assert_non_null(f);
    fputs("from stdin\n", f);
    fclose(f);
    int fd = open("/dev/null", O_RDONLY);
    assert_true(fd > 2);
    char script[128];
    snprintf(script, sizeof(script), "cat; if [ -e /dev/fd/%d ]; then echo leaked; fi", fd);
    actor_subprocess_options_t o;
    char *argv[4];
    shell(&o, argv, script);
    o.stdin_path = in;
    o.stdout_path = out;
    int status = run_shell(&o);
    close(fd);
    assert_int_equal(status, 0);
    assert_string_equal(slurp("out"), "from stdin\n");
}

static void expect_spawn_error(const actor_subprocess_options_t *o, actor_err_t code,
                               const char *message)
{
    pid_t pid = -1;
    char err[256];
    assert_int_equal(actor_subprocess_spawn(o, &pid, err, sizeof(err)), code);
    assert_int_equal(pid, -1);
    assert_string_equal(err, message);
}

static void test_spawn_failures(void **unused)
{
    (void)unused;
    actor_subprocess_options_t o;
    char *argv[4];
    shell(&o, argv, "true");
    o.path = "/nonexistent/program";
    expect_spawn_error(&o, ACTOR_ESYSTEM, "execve /nonexistent/program: No such file or directory");

    shell(&o, argv, "true");
    o.cwd = "/nonexistent/dir";
    expect_spawn_error(&o, ACTOR_ESYSTEM, "chdir /nonexistent/dir: No such file or directory");

    shell(&o, argv, "true");
    o.stdout_path = "/nonexistent/dir/stdout";
    expect_spawn_error(&o, ACTOR_ESYSTEM,
                       "open /nonexistent/dir/stdout: No such file or directory");

    char plain[128], message[256];
    path_in_dir(plain, sizeof(plain), "plain");
    close(open(plain, O_CREAT | O_WRONLY, 0644));
    shell(&o, argv, "true");
    o.path = plain; /* not executable */
    snprintf(message, sizeof(message), "execve %s: Permission denied", plain);
    expect_spawn_error(&o, ACTOR_ESYSTEM, message);

    shell(&o, argv, "true");
    o.argv = NULL;
    expect_spawn_error(&o, ACTOR_EINVAL, "A program path and a non-empty argv are needed");
    assert_int_equal(actor_subprocess_spawn(NULL, NULL, NULL, 0), ACTOR_EINVAL);
    shell(&o, argv, "true");
    o.cgroup_count = 1;
    expect_spawn_error(&o, ACTOR_EINVAL, "cgroup_count is set but cgroup_procs is NULL");

    /* Each failed child was reaped by the spawn call: no zombie is left. */
    assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
    assert_int_equal(errno, ECHILD);
}

/* Polls (the process is not ours to wait for) until pid is gone or a zombie. */
static bool wait_gone(pid_t pid)
{
    for (int i = 0; i < WAIT_SECONDS * 1000; i++) {
        if (process_gone(pid))
            return true;
        struct timespec ms = {0, 1000000};
        nanosleep(&ms, NULL);
    }
    return false;
}

/* Reads a pid the script wrote into a file, polling until it is there. */
static pid_t read_pid_file(const char *name)
{
    for (int i = 0; i < WAIT_SECONDS * 1000; i++) {
        const char *text = slurp(name);
        if (strchr(text, '\n') != NULL)
            return (pid_t)atoi(text);
        struct timespec ms = {0, 1000000};
        nanosleep(&ms, NULL);
    }
    fail_msg("%s was never written", name);
    return -1;
}

static void test_new_session_and_group_kill(void **unused)
{
    (void)unused;
    char script[256];
    snprintf(script, sizeof(script), "sleep 30 & echo $! > %s/bg.tmp; mv %s/bg.tmp %s/bg; wait",
             dir, dir, dir);
    actor_subprocess_options_t o;
    char *argv[4];
    shell(&o, argv, script);
    o.new_session = true;
    pid_t pid = spawn_ok(&o);
    watch_ok(pid);
    pid_t bg = read_pid_file("bg");
    if (leftover_count < sizeof(leftovers) / sizeof(leftovers[0]))
        leftovers[leftover_count++] = bg;
    assert_int_equal(getsid(pid), pid);
    assert_int_equal(getpgid(pid), pid);
    assert_int_equal(getpgid(bg), pid);
    assert_int_equal(kill(-pid, SIGKILL), 0);
    assert_int_equal(wait_exits(1), 1);
    assert_true(WIFSIGNALED(seen.status[0]));
    assert_int_equal(WTERMSIG(seen.status[0]), SIGKILL);
    assert_true(wait_gone(bg));
}

static void test_cgroup_procs(void **unused)
{
    (void)unused;
    char procs[2][128];
    path_in_dir(procs[0], sizeof(procs[0]), "a.procs");
    path_in_dir(procs[1], sizeof(procs[1]), "b.procs");
    for (int i = 0; i < 2; i++)
        close(open(procs[i], O_CREAT | O_WRONLY, 0644));
    const char *files[] = {procs[0], procs[1]};
    actor_subprocess_options_t o;
    char *argv[4];
    shell(&o, argv, "true");
    o.cgroup_procs = files;
    o.cgroup_count = 2;
    pid_t pid = spawn_ok(&o);
    watch_ok(pid);
    assert_int_equal(wait_exits(1), 1);
    char expect[32];
    snprintf(expect, sizeof(expect), "%d\n", (int)pid);
    assert_string_equal(slurp("a.procs"), expect);
    assert_string_equal(slurp("b.procs"), expect);

    char missing[128];
    path_in_dir(missing, sizeof(missing), "nope/cgroup.procs");
    const char *bad[] = {procs[0], missing};
    o.cgroup_procs = bad;
    char message[256];
    snprintf(message, sizeof(message), "open %s: No such file or directory", missing);
    expect_spawn_error(&o, ACTOR_ESYSTEM, message);
}

static void test_switch_user(void **unused)
{
    (void)unused;
    if (geteuid() != 0)
        skip();
    char out[128];
    path_in_dir(out, sizeof(out), "id");
    assert_int_equal(chmod(dir, 0755), 0);
    gid_t groups[] = {65534};
    actor_subprocess_options_t o;
    char *argv[4];
    shell(&o, argv, "echo $(id -u) $(id -g) $(id -G)");
    o.stdout_path = out; /* created by root, before the switch */
    o.switch_user = true;
    o.uid = 65534;
    o.gid = 65534;
    o.groups = groups;
    o.group_count = 1;
    assert_int_equal(run_shell(&o), 0);
    assert_string_equal(slurp("id"), "65534 65534 65534\n");
    struct stat st;
    assert_int_equal(stat(out, &st), 0);
    assert_int_equal(st.st_uid, 0);

    /* The program really runs as the user: root's private directory is closed to it. */
    char private_dir[128], script[256];
    path_in_dir(private_dir, sizeof(private_dir), "private");
    assert_int_equal(mkdir(private_dir, 0700), 0);
    snprintf(script, sizeof(script), "cd %s", private_dir);
    argv[2] = script;
    o.stdout_path = NULL;
    o.stderr_path = "/dev/null"; /* the shell complains */
    int status = run_shell(&o);
    assert_true(WIFEXITED(status));
    assert_int_not_equal(WEXITSTATUS(status), 0);
}

/* ---- watching ---- */

static void test_watch_non_child_reports_unknown_status(void **unused)
{
    (void)unused;
    actor_subprocess_options_t o;
    char *argv[4];
    char out[128];
    path_in_dir(out, sizeof(out), "grandchild");
    shell(&o, argv, "sleep 30 > /dev/null 2>&1 & echo $!");
    o.stdout_path = out;
    assert_int_equal(run_shell(&o), 0);
    pid_t grandchild = read_pid_file("grandchild");
    if (leftover_count < sizeof(leftovers) / sizeof(leftovers[0]))
        leftovers[leftover_count++] = grandchild;
    watch_ok(grandchild);
    assert_int_equal(kill(grandchild, SIGKILL), 0);
    assert_int_equal(wait_exits(2), 2);
    assert_int_equal(seen.pid[1], grandchild);
    assert_int_equal(seen.status[1], -1);
    assert_true(seen.in_actor[1]);
}

static void test_watch_already_exited_child(void **unused)
{
    (void)unused;
    actor_subprocess_options_t o;
    char *argv[4];
    shell(&o, argv, "exit 7");
    pid_t pid = spawn_ok(&o);
    siginfo_t info;
    memset(&info, 0, sizeof(info));
    /* Waits for the exit but leaves the zombie for the watch to reap. */
    assert_int_equal(waitid(P_PID, (id_t)pid, &info, WEXITED | WNOWAIT), 0);
    watch_ok(pid);
    assert_int_equal(wait_exits(1), 1);
    assert_true(WIFEXITED(seen.status[0]));
    assert_int_equal(WEXITSTATUS(seen.status[0]), 7);

    /* Reaped now: there is nothing left to watch. */
    void *arg = malloc(8);
    assert_int_equal(actor_subprocess_watch(&watcher, pid, on_exit_seen, arg), ACTOR_ESYSTEM);
    free(arg);
    assert_int_equal(actor_subprocess_watch(&watcher, 0, on_exit_seen, NULL), ACTOR_EINVAL);
}

/* The watching actor is gone when the process exits: fn still runs once, without it. */
static void test_watch_for_gone_actor(void **unused)
{
    (void)unused;
    actor_subprocess_options_t o;
    char *argv[4];
    char fifo[128], script[192];
    path_in_dir(fifo, sizeof(fifo), "fifo");
    assert_int_equal(mkfifo(fifo, 0600), 0);
    snprintf(script, sizeof(script), "read line < '%s'", fifo);
    shell(&o, argv, script);
    pid_t pid = spawn_ok(&o);
    watch_ok(pid);
    actor_terminate(&watcher);
    actor_wait(&watcher);
    int fd = open(fifo, O_WRONLY); /* once the shell opened it for reading */
    assert_true(fd >= 0);
    close(fd); /* EOF: the shell's read ends, and so does the shell */
    assert_int_equal(wait_exits(1), 1);
    assert_int_equal(seen.pid[0], pid);
    assert_false(seen.in_actor[0]);
    assert_int_equal(seen.status[0], 1 << 8); /* read's failure at EOF */
}

/* Stopping the runtime closes pending watches: each callback runs once to free its argument,
 * and the process is left alone. A watch after the stop is refused. */
static void test_runtime_stop_closes_watches(void **unused)
{
    (void)unused;
    actor_subprocess_options_t o;
    char *argv[4];
    shell(&o, argv, "exec sleep 30");
    pid_t pids[3];
    for (int i = 0; i < 3; i++) {
        pids[i] = spawn_ok(&o);
        watch_ok(pids[i]);
    }
    actor_runtime_stop();
    assert_int_equal(seen.freed, 3);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(seen.status[i], -1);
        assert_false(seen.in_actor[i]);
        assert_int_equal(kill(pids[i], 0), 0); /* still running */
        kill(pids[i], SIGKILL);
        assert_int_equal(waitpid(pids[i], NULL, 0), pids[i]);
    }
    void *arg = malloc(8);
    assert_int_equal(actor_subprocess_watch(&watcher, getpid(), on_exit_seen, arg), ACTOR_ECLOSED);
    free(arg);

    /* A new runtime watches again, with a new reaper. */
    runtime_start();
    shell(&o, argv, "exit 2");
    int status = run_shell(&o);
    assert_int_equal(WEXITSTATUS(status), 2);
}

/* Many children at once, all watched and reaped. */
static void test_many_children(void **unused)
{
    (void)unused;
    actor_subprocess_options_t o;
    char *argv[4];
    shell(&o, argv, "exit 5");
    for (int i = 0; i < MAX_EXITS; i++) {
        pid_t pid = 0;
        assert_int_equal(actor_subprocess_spawn(&o, &pid, NULL, 0), ACTOR_OK);
        watch_ok(pid);
    }
    assert_int_equal(wait_exits(MAX_EXITS), MAX_EXITS);
    for (int i = 0; i < MAX_EXITS; i++) {
        assert_int_equal(WEXITSTATUS(seen.status[i]), 5);
        assert_true(seen.in_actor[i]);
    }
    assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
}

/* ---- spawning on the launcher threads ---- */

/* What the spawn callbacks saw, under lock. */
static struct {
    int count;
    pid_t pid[MAX_EXITS];
    actor_err_t rc[MAX_EXITS];
    char err[MAX_EXITS][128];
    bool in_actor[MAX_EXITS];
    int watch_errors; /* watches that the callback could not start */
} spawned;

/* Records the outcome and, inside the actor, watches the new process. */
static void on_spawned(actor_t *self, void *state, pid_t pid, actor_err_t rc, const char *err,
                       void *arg)
{
    bool in_actor = self != NULL && state != NULL && *(int **)state == &watcher_marker;
    bool watched =
        in_actor && rc == ACTOR_OK &&
        actor_subprocess_watch(actor_self(self), pid, on_exit_seen, malloc(8)) == ACTOR_OK;
    pthread_mutex_lock(&lock);
    if (in_actor && rc == ACTOR_OK && !watched)
        spawned.watch_errors++;
    int i = spawned.count;
    if (i < MAX_EXITS) {
        spawned.pid[i] = pid;
        spawned.rc[i] = rc;
        snprintf(spawned.err[i], sizeof(spawned.err[i]), "%s", err);
        spawned.in_actor[i] = in_actor;
        spawned.count++;
    }
    free(arg);
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&lock);
}

/* Waits until `n` spawns were reported; returns how many were. */
static int wait_spawned(int n)
{
    return wait_count(&spawned.count, n);
}

static void spawn_async_ok(const actor_subprocess_options_t *o, const actor_pid_t *to)
{
    actor_err_t rc = actor_subprocess_spawn_async(to, o, on_spawned, malloc(8));
    assert_int_equal(rc, ACTOR_OK);
}

/* The options are copied: the caller's buffers are overwritten at once, and the program still
 * runs with what they held. The pid comes to the actor, which watches the process. */
static void test_async_spawn_copies_options(void **unused)
{
    (void)unused;
    memset(&spawned, 0, sizeof(spawned));
    char script[64] = "echo $GREETING > out; exit 4", env0[64] = "GREETING=hello";
    char *env[] = {env0, NULL};
    char cwd[128];
    snprintf(cwd, sizeof(cwd), "%s", dir);
    actor_subprocess_options_t o;
    char *argv[4];
    shell(&o, argv, script);
    o.envp = env;
    o.cwd = cwd;
    spawn_async_ok(&o, &watcher);
    memset(script, 'x', sizeof(script) - 1);
    memset(env0, 'y', sizeof(env0) - 1);
    memset(cwd, 'z', sizeof(cwd) - 1);
    memset(&o, 0, sizeof(o));
    assert_int_equal(wait_spawned(1), 1);
    assert_int_equal(spawned.rc[0], ACTOR_OK);
    assert_true(spawned.in_actor[0]);
    assert_string_equal(spawned.err[0], "");
    assert_int_equal(wait_exits(1), 1);
    assert_int_equal(seen.pid[0], spawned.pid[0]);
    assert_int_equal(WEXITSTATUS(seen.status[0]), 4);
    assert_string_equal(slurp("out"), "hello\n");
}

/* A failed step is reported to the actor with its message, the child already reaped; options
 * that a spawn refuses are refused at once, and the callback never runs. */
static void test_async_spawn_failures(void **unused)
{
    (void)unused;
    memset(&spawned, 0, sizeof(spawned));
    actor_subprocess_options_t o;
    char *argv[4];
    shell(&o, argv, "true");
    o.cwd = "/nonexistent/dir";
    spawn_async_ok(&o, &watcher);
    assert_int_equal(wait_spawned(1), 1);
    assert_int_equal(spawned.rc[0], ACTOR_ESYSTEM);
    assert_int_equal(spawned.pid[0], 0);
    assert_true(spawned.in_actor[0]);
    assert_string_equal(spawned.err[0], "chdir /nonexistent/dir: No such file or directory");
    assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
    assert_int_equal(errno, ECHILD);

    o.argv = NULL;
    assert_int_equal(actor_subprocess_spawn_async(&watcher, &o, on_spawned, NULL), ACTOR_EINVAL);
    shell(&o, argv, "true");
    assert_int_equal(actor_subprocess_spawn_async(NULL, &o, on_spawned, NULL), ACTOR_EINVAL);
    assert_int_equal(actor_subprocess_spawn_async(&watcher, &o, NULL, NULL), ACTOR_EINVAL);
    assert_int_equal(actor_subprocess_spawn_async(&watcher, NULL, on_spawned, NULL), ACTOR_EINVAL);
    assert_int_equal(spawned.count, 1);
}

/* Spawned for an actor that is gone: the process (and its group) is killed and reaped, and the
 * callback only frees its argument. */
static void test_async_spawn_for_gone_actor(void **unused)
{
    (void)unused;
    memset(&spawned, 0, sizeof(spawned));
    actor_pid_t gone = watcher;
    actor_terminate(&gone);
    actor_wait(&gone);
    actor_subprocess_options_t o;
    char *argv[4];
    shell(&o, argv, "exec sleep 30");
    o.new_session = true;
    spawn_async_ok(&o, &gone);
    assert_int_equal(wait_spawned(1), 1);
    assert_false(spawned.in_actor[0]);
    assert_int_equal(spawned.pid[0], 0);
    assert_int_equal(waitpid(-1, NULL, WNOHANG), -1); /* reaped: no child left */
    assert_int_equal(errno, ECHILD);
}

/* Many spawns at once: each reported exactly once, in the actor, and each process reaped. */
static void test_async_many_spawns(void **unused)
{
    (void)unused;
    memset(&spawned, 0, sizeof(spawned));
    actor_subprocess_options_t o;
    char *argv[4];
    shell(&o, argv, "exit 6");
    for (int i = 0; i < MAX_EXITS; i++)
        spawn_async_ok(&o, &watcher);
    assert_int_equal(wait_spawned(MAX_EXITS), MAX_EXITS);
    assert_int_equal(wait_exits(MAX_EXITS), MAX_EXITS);
    for (int i = 0; i < MAX_EXITS; i++) {
        assert_true(spawned.in_actor[i]);
        assert_int_equal(spawned.rc[i], ACTOR_OK);
        assert_int_equal(WEXITSTATUS(seen.status[i]), 6);
    }
    assert_int_equal(spawned.watch_errors, 0);
    assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
}

/* Stopping the runtime right after queueing spawns: each callback still runs exactly once,
 * either in the actor with its pid or outside it (queued: ACTOR_ECLOSED; or started for an
 * actor that is gone: killed and reaped). A spawn after the stop is refused. */
static void test_async_spawns_across_runtime_stop(void **unused)
{
    (void)unused;
    memset(&spawned, 0, sizeof(spawned));
    actor_subprocess_options_t o;
    char *argv[4];
    shell(&o, argv, "exit 0");
    for (int i = 0; i < 8; i++)
        spawn_async_ok(&o, &watcher);
    actor_runtime_stop();
    assert_int_equal(spawned.count, 8);
    for (int i = 0; i < 8; i++) {
        if (spawned.in_actor[i])
            assert_int_equal(spawned.rc[i], ACTOR_OK);
        else
            assert_int_equal(spawned.pid[i], 0);
        bool exited = false;
        for (int k = 0; k < seen.count; k++)
            exited = exited || (seen.pid[k] == spawned.pid[i] && seen.status[k] != -1);
        if (spawned.pid[i] > 0 && !exited) /* watched, then left alone by the stop */
            assert_int_equal(waitpid(spawned.pid[i], NULL, 0), spawned.pid[i]);
    }
    assert_int_equal(spawned.watch_errors, 0);
    assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
    assert_int_equal(actor_subprocess_spawn_async(&watcher, &o, on_spawned, NULL), ACTOR_ECLOSED);
    runtime_start(); /* for the teardown */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_exit_status, setup, teardown),
        cmocka_unit_test_setup_teardown(test_signal_and_clean_signal_state, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cwd_env_and_redirection, setup, teardown),
        cmocka_unit_test_setup_teardown(test_descriptors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_spawn_failures, setup, teardown),
        cmocka_unit_test_setup_teardown(test_new_session_and_group_kill, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cgroup_procs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_switch_user, setup, teardown),
        cmocka_unit_test_setup_teardown(test_watch_non_child_reports_unknown_status, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_watch_already_exited_child, setup, teardown),
        cmocka_unit_test_setup_teardown(test_watch_for_gone_actor, setup, teardown),
        cmocka_unit_test_setup_teardown(test_runtime_stop_closes_watches, setup, teardown),
        cmocka_unit_test_setup_teardown(test_many_children, setup, teardown),
        cmocka_unit_test_setup_teardown(test_async_spawn_copies_options, setup, teardown),
        cmocka_unit_test_setup_teardown(test_async_spawn_failures, setup, teardown),
        cmocka_unit_test_setup_teardown(test_async_spawn_for_gone_actor, setup, teardown),
        cmocka_unit_test_setup_teardown(test_async_many_spawns, setup, teardown),
        cmocka_unit_test_setup_teardown(test_async_spawns_across_runtime_stop, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
