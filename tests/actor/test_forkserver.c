/* Tests of forkserver.h through actor_subprocess_spawn_async with fork_server set: the child runs
 * the entry with the spawn's argv, environment, directory, redirections and session, as our
 * child; /proc shows its own argv and environment; another thread of it can signal its main
 * thread (the C library's record of that thread's id is its own); a server that dies during a
 * spawn leaves no child behind; a failed step is reported and the
 * child reaped; a server that died is replaced; a program that does not opt in is executed; the
 * servers end with the runtime.
 *
 * This test program is its own fork server: main() opts in, and the children's entry (also run
 * when a child is executed instead) acts on argv[1]. Under AddressSanitizer no server serves, so
 * the same tests check that the executed fallback behaves alike. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <dirent.h>
#include <errno.h>
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
#include "actor/forkserver.h"
#include "actor/subprocess.h"

#if defined(__SANITIZE_ADDRESS__)
static const bool forks = false;
#else
static const bool forks = true;
#endif

/* ---- the children ---- */

static pthread_t main_thread;
static volatile sig_atomic_t signalled;

static void on_usr1(int sig)
{
    (void)sig;
    signalled = 1;
}

/* pthread_kill() of another thread signals the thread id the C library recorded for it. */
static void *signal_main(void *unused)
{
    (void)unused;
    return (void *)(intptr_t)pthread_kill(main_thread, SIGUSR1);
}

/* 0 when a second thread could signal the main one. */
static int signal_main_from_a_thread(void)
{
    main_thread = pthread_self();
    signal(SIGUSR1, on_usr1);
    pthread_t t;
    void *rc = NULL;
    if (pthread_create(&t, NULL, signal_main, NULL) != 0 || pthread_join(t, &rc) != 0)
        return 1;
    if (rc != NULL)
        return 2; /* ESRCH: no thread of ours has that id */
    while (!signalled)
        pause();
    return 0;
}

/* The hexadecimal mask of a "Sig...:" line of /proc/self/status. */
static unsigned long long signal_mask(const char *name)
{
    char line[256];
    unsigned long long mask = ~0ull;
    FILE *f = fopen("/proc/self/status", "r");
    while (f != NULL && fgets(line, sizeof(line), f) != NULL)
        if (strncmp(line, name, strlen(name)) == 0)
            mask = strtoull(line + strlen(name), NULL, 16);
    if (f != NULL)
        fclose(f);
    return mask;
}

static int child_entry(int argc, char **argv)
{
    if (argc >= 3 && strcmp(argv[1], "report") == 0) {
        char cwd[512] = "", in[512] = "";
        if (getcwd(cwd, sizeof(cwd)) == NULL || readlink("/proc/self/fd/0", in, sizeof(in) - 1) < 0)
            return 100;
        const char *x = getenv("X");
        printf("forked=%d X=%s cwd=%s ppid=%d sid=%d stdin=%s blocked=%llx ignored=%llx\n",
               actor_forkserver_forked(), x != NULL ? x : "", cwd, (int)getppid(), (int)getsid(0),
               in, signal_mask("SigBlk:"), signal_mask("SigIgn:"));
        return atoi(argv[2]);
    }
    if (argc >= 2 && strcmp(argv[1], "sleep") == 0) {
        for (;;)
            pause();
    }
    if (argc >= 2 && strcmp(argv[1], "signal-main") == 0)
        return signal_main_from_a_thread();
    return 101;
}

/* ---- the spawner ---- */

static char self_path[512];
static char dir[64];
static actor_pid_t receiver;
static pid_t sleeper; /* a child that runs until killed: teardown's if a test failed */

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static struct {
    bool done;
    pid_t pid;
    actor_err_t rc;
    char err[256];
} outcome;

static const actor_ops_t receiver_ops = {.name = "receiver"};

static void on_spawned(actor_t *self, void *state, pid_t pid, actor_err_t rc, const char *err,
                       void *arg)
{
    (void)self, (void)state, (void)arg;
    pthread_mutex_lock(&lock);
    outcome.done = true;
    outcome.pid = pid;
    outcome.rc = rc;
    snprintf(outcome.err, sizeof(outcome.err), "%s", err);
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&lock);
}

/* Spawns o on a launcher thread and waits for the outcome; *err gets its message. */
static actor_err_t spawn(actor_subprocess_options_t *o, pid_t *pid, char *err, size_t err_len)
{
    o->fork_server = true;
    pthread_mutex_lock(&lock);
    memset(&outcome, 0, sizeof(outcome));
    pthread_mutex_unlock(&lock);
    assert_int_equal(actor_subprocess_spawn_async(&receiver, o, on_spawned, NULL), ACTOR_OK);
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += 10;
    pthread_mutex_lock(&lock);
    while (!outcome.done && pthread_cond_timedwait(&cv, &lock, &deadline) == 0)
        ;
    assert_true(outcome.done);
    *pid = outcome.pid;
    snprintf(err, err_len, "%s", outcome.err);
    actor_err_t rc = outcome.rc;
    pthread_mutex_unlock(&lock);
    return rc;
}

static int wait_status(pid_t pid)
{
    int status = -1;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    return status;
}

/* The whole of a small file, NULs turned into '|'. */
static const char *slurp(const char *path)
{
    static char buf[4096];
    FILE *f = fopen(path, "r");
    size_t n = f != NULL ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
    if (f != NULL)
        fclose(f);
    for (size_t i = 0; i < n; i++)
        buf[i] = buf[i] == '\0' ? '|' : buf[i];
    buf[n] = '\0';
    return buf;
}

/* Our live children that are fork servers (their argv says so), up to max. */
static size_t servers(pid_t *pids, size_t max)
{
    size_t n = 0;
    DIR *d = opendir("/proc");
    struct dirent *de;
    while (d != NULL && (de = readdir(d)) != NULL && n < max) {
        char path[300], stat[512];
        int pid = atoi(de->d_name);
        if (pid <= 0)
            continue;
        snprintf(path, sizeof(path), "/proc/%d/stat", pid);
        snprintf(stat, sizeof(stat), "%s", slurp(path));
        const char *paren = strrchr(stat, ')');
        int ppid = 0;
        char state = 0;
        if (paren == NULL || sscanf(paren + 2, "%c %d", &state, &ppid) != 2 ||
            ppid != (int)getpid() || state == 'Z')
            continue;
        snprintf(path, sizeof(path), "/proc/%d/cmdline", pid);
        if (strstr(slurp(path), "|--fork_server|") != NULL)
            pids[n++] = pid;
    }
    if (d != NULL)
        closedir(d);
    return n;
}

static void runtime_start(void)
{
    actor_runtime_options_t opts;
    actor_runtime_options_init(&opts);
    opts.workers = 1;
    assert_int_equal(actor_runtime_start(&opts), ACTOR_OK);
    assert_int_equal(actor_spawn(&receiver_ops, NULL, NULL, &receiver), ACTOR_OK);
}

static int setup(void **unused)
{
    (void)unused;
    snprintf(dir, sizeof(dir), "/tmp/test_forkserver.XXXXXX");
    if (mkdtemp(dir) == NULL)
        return -1;
    runtime_start();
    return 0;
}

static int teardown(void **unused)
{
    (void)unused;
    if (sleeper > 0) {
        kill(sleeper, SIGKILL);
        waitpid(sleeper, NULL, 0);
        sleeper = 0;
    }
    actor_runtime_stop();
    char path[128];
    snprintf(path, sizeof(path), "%s/out", dir);
    unlink(path);
    return rmdir(dir);
}

static void report_options(actor_subprocess_options_t *o, char *argv[4], char *out, size_t out_len)
{
    static char *env[] = {"X=from-the-spawn", NULL};
    snprintf(out, out_len, "%s/out", dir);
    argv[0] = self_path;
    argv[1] = "report";
    argv[2] = "7";
    argv[3] = NULL;
    memset(o, 0, sizeof(*o));
    o->path = self_path;
    o->argv = argv;
    o->envp = env;
    o->cwd = dir;
    o->stdout_path = out;
    o->new_session = true;
}

/* Forked (or, under ASan, executed), the child has the spawn's argv, environment, directory,
 * output, session and /dev/null as stdin, no signal blocked or ignored, and we are its parent. */
static void test_child_runs_with_its_options(void **unused)
{
    (void)unused;
    actor_subprocess_options_t o;
    char *argv[4], out[128], err[256], want[1024];
    report_options(&o, argv, out, sizeof(out));
    pid_t pid;
    assert_int_equal(spawn(&o, &pid, err, sizeof(err)), ACTOR_OK);
    int status = wait_status(pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 7);
    snprintf(want, sizeof(want),
             "forked=%d X=from-the-spawn cwd=%s ppid=%d sid=%d stdin=/dev/null blocked=0 "
             "ignored=0\n",
             forks, dir, (int)getpid(), (int)pid);
    assert_string_equal(slurp(out), want);
}

/* The file once it reads want, NULs shown as '|' (an executed child's arguments appear in /proc
 * a moment after its spawn returned: the kernel sets them up after it let the parent go). */
static const char *slurp_when(const char *path, const char *want)
{
    for (int i = 0; i < 10000 && strcmp(slurp(path), want) != 0; i++)
        usleep(1000);
    return slurp(path);
}

/* /proc/PID/cmdline and /proc/PID/environ show the child's own, as after an execve (an agent
 * recognises its executors by their environment). */
static void test_proc_shows_argv_and_environment(void **unused)
{
    (void)unused;
    char *argv[] = {self_path, "sleep", NULL};
    char *env[] = {"MESOS_CONTAINER_ID=abc", "Y=2", NULL};
    actor_subprocess_options_t o = {.path = self_path, .argv = argv, .envp = env};
    pid_t pid;
    char err[256], path[64], want[600];
    assert_int_equal(spawn(&o, &pid, err, sizeof(err)), ACTOR_OK);
    sleeper = pid;
    snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
    snprintf(want, sizeof(want), "%s|sleep|", self_path);
    /* Forked, they are there when the spawn returns. */
    assert_string_equal(forks ? slurp(path) : slurp_when(path, want), want);
    snprintf(path, sizeof(path), "/proc/%d/environ", (int)pid);
    assert_string_equal(slurp_when(path, "MESOS_CONTAINER_ID=abc|Y=2|"),
                        "MESOS_CONTAINER_ID=abc|Y=2|");
    sleeper = 0;
    kill(pid, SIGKILL);
    int status = wait_status(pid);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGKILL);
}

/* A thread of the child signals its main thread by the id the C library keeps for it: were the
 * server's id left there, the signal would go nowhere (ESRCH). */
static void test_threads_signal_the_main_thread(void **unused)
{
    (void)unused;
    char *argv[] = {self_path, "signal-main", NULL};
    char *env[] = {NULL};
    actor_subprocess_options_t o = {.path = self_path, .argv = argv, .envp = env};
    pid_t pid;
    char err[256];
    assert_int_equal(spawn(&o, &pid, err, sizeof(err)), ACTOR_OK);
    int status = wait_status(pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

/* A step that fails is reported as an executed spawn reports it, and its child is reaped. */
static void test_failed_step_is_reported(void **unused)
{
    (void)unused;
    actor_subprocess_options_t o;
    char *argv[4], out[128], err[256];
    report_options(&o, argv, out, sizeof(out));
    o.cwd = "/nonexistent-test-forkserver";
    pid_t pid = 1;
    assert_int_equal(spawn(&o, &pid, err, sizeof(err)), ACTOR_ESYSTEM);
    assert_int_equal(pid, 0);
    assert_string_equal(err, "chdir /nonexistent-test-forkserver: No such file or directory");
    assert_int_equal(waitpid(-1, NULL, WNOHANG), forks ? 0 : -1); /* no zombie; a live server */
}

/* A server killed between spawns is replaced by the next spawn. */
static void test_dead_server_is_replaced(void **unused)
{
    (void)unused;
    if (!forks)
        skip();
    actor_subprocess_options_t o;
    char *argv[4], out[128], err[256];
    report_options(&o, argv, out, sizeof(out));
    pid_t pid, before[4];
    assert_int_equal(spawn(&o, &pid, err, sizeof(err)), ACTOR_OK);
    assert_int_equal(WEXITSTATUS(wait_status(pid)), 7);
    size_t n = servers(before, 4);
    assert_true(n >= 1);
    for (size_t i = 0; i < n; i++)
        kill(before[i], SIGKILL);
    /* Dead (zombies until the spawner notices): one that dies during a spawn fails that spawn,
     * since whether it forked the child first is unknown. */
    for (int i = 0; i < 10000 && servers(before, 4) > 0; i++)
        usleep(1000);
    assert_int_equal(servers(before, 4), 0);
    assert_int_equal(spawn(&o, &pid, err, sizeof(err)), ACTOR_OK);
    assert_int_equal(WEXITSTATUS(wait_status(pid)), 7);
    assert_non_null(strstr(slurp(out), "forked=1"));
}

static void *spawn_in_thread(void *arg)
{
    actor_subprocess_options_t *o = arg;
    static char err[256];
    pid_t pid = 0;
    return (void *)(intptr_t)spawn(o, &pid, err, sizeof(err));
}

/* A server that dies after it forked, before the child's start is known (here: the child
 * blocks opening a FIFO as its stdout), fails the spawn, and the child is killed and reaped
 * rather than left running unknown to us. */
static void test_server_dying_during_a_spawn(void **unused)
{
    (void)unused;
    if (!forks)
        skip();
    actor_subprocess_options_t o;
    char *argv[4], out[128];
    report_options(&o, argv, out, sizeof(out));
    char fifo[128];
    snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
    assert_int_equal(mkfifo(fifo, 0600), 0);
    o.stdout_path = fifo;
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, spawn_in_thread, &o), 0);
    pid_t found[4];
    for (int i = 0; i < 10000 && servers(found, 4) < 2; i++) /* the server and its child */
        usleep(1000);
    assert_int_equal(servers(found, 4), 2);
    pid_t server = found[0] < found[1] ? found[0] : found[1], child = found[0] ^ found[1] ^ server;
    kill(server, SIGKILL);
    void *rc;
    assert_int_equal(pthread_join(t, &rc), 0);
    assert_int_equal((actor_err_t)(intptr_t)rc, ACTOR_ESYSTEM);
    assert_non_null(strstr(outcome.err, "died during the spawn"));
    assert_int_equal(kill(child, 0), -1); /* killed and reaped */
    assert_int_equal(errno, ESRCH);
    unlink(fifo);
}

/* A program that does not serve forks (sh refuses the server's argv) is executed. */
static void test_program_without_server_is_executed(void **unused)
{
    (void)unused;
    char *argv[] = {"sh", "-c", "echo executed", NULL};
    char out[128], err[256];
    snprintf(out, sizeof(out), "%s/out", dir);
    actor_subprocess_options_t o = {.path = "/bin/sh", .argv = argv, .stdout_path = out};
    o.stderr_path = "/dev/null";
    pid_t pid;
    for (int i = 0; i < 3; i++) { /* each launcher thread asks sh once, then executes it */
        assert_int_equal(spawn(&o, &pid, err, sizeof(err)), ACTOR_OK);
        assert_int_equal(WEXITSTATUS(wait_status(pid)), 0);
    }
    assert_string_equal(slurp(out), "executed\nexecuted\nexecuted\n");
    pid_t none[1];
    assert_int_equal(servers(none, 1), 0);
}

/* The launcher threads end with the runtime, and their servers with them, reaped. */
static void test_servers_end_with_the_runtime(void **unused)
{
    (void)unused;
    actor_subprocess_options_t o;
    char *argv[4], out[128], err[256];
    report_options(&o, argv, out, sizeof(out));
    pid_t pid, found[4];
    assert_int_equal(spawn(&o, &pid, err, sizeof(err)), ACTOR_OK);
    assert_int_equal(WEXITSTATUS(wait_status(pid)), 7);
    assert_int_equal(servers(found, 4), forks ? 1 : 0);
    actor_runtime_stop();
    assert_int_equal(servers(found, 4), 0);
    assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
    assert_int_equal(errno, ECHILD);
    runtime_start(); /* for the teardown */
}

int main(int argc, char **argv)
{
    actor_forkserver_main(child_entry);
    if (argc > 1) /* a child executed rather than forked */
        return child_entry(argc, argv);
    ssize_t n = readlink("/proc/self/exe", self_path, sizeof(self_path) - 1);
    if (n <= 0)
        return 1;
    self_path[n] = '\0';
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_child_runs_with_its_options, setup, teardown),
        cmocka_unit_test_setup_teardown(test_proc_shows_argv_and_environment, setup, teardown),
        cmocka_unit_test_setup_teardown(test_threads_signal_the_main_thread, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failed_step_is_reported, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dead_server_is_replaced, setup, teardown),
        cmocka_unit_test_setup_teardown(test_server_dying_during_a_spawn, setup, teardown),
        cmocka_unit_test_setup_teardown(test_program_without_server_is_executed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_servers_end_with_the_runtime, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
