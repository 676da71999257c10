/* run.c: captured runs of command-line programs (run.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "tests/support/fs.h"
#include "tests/support/proc.h"
#include "tests/support/run.h"

#define STOP_GRACE_MS 5000

static void output_paths(const char *dir, const char *name, char *out, char *err, size_t len)
{
    snprintf(out, len, "%s/%s.out", dir, name);
    snprintf(err, len, "%s/%s.err", dir, name);
}

pid_t support_run_start(const char *dir, const char *name, const char *path, char *const argv[],
                        const char *in, char *const *env)
{
    char out[4200], err[4200];
    output_paths(dir, name, out, err, sizeof(out));
    support_proc_io_t io;
    support_proc_io_init(&io);
    io.in = in;
    io.out = out;
    io.err = err;
    io.env = env;
    pid_t pid = 0;
    int rc = support_proc_spawn(path, argv, &io, &pid);
    if (rc != 0) {
        if (pid > 0)
            support_proc_stop(pid, 0);
        fail_msg("cannot start %s: %s", path, strerror(rc));
    }
    return pid;
}

void support_run_finish(const char *dir, const char *name, pid_t pid, int timeout_ms,
                        support_run_t *run)
{
    char out[4200], err[4200];
    output_paths(dir, name, out, err, sizeof(out));
    int status = 0;
    bool ended = support_proc_wait(pid, timeout_ms, &status);
    if (!ended) {
        fprintf(stderr, "%s did not end within %d ms: stopping it\n", name, timeout_ms);
        support_proc_stop(pid, STOP_GRACE_MS);
    }
    run->status = ended && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    run->out = support_fs_read(out);
    run->err = support_fs_read(err);
    assert_non_null(run->out);
    assert_non_null(run->err);
}

void support_run_free(support_run_t *run)
{
    free(run->out);
    free(run->err);
    run->out = run->err = NULL;
}
