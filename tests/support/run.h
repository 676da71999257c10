/*
 * run.h: one run of a command-line program by a multi-process test (tests/support/): started
 * with its standard output and error captured in files of the test's directory, waited for with
 * a deadline (killed when it passes), and its exit status and output handed back as strings.
 */
#ifndef TESTS_SUPPORT_RUN_H
#define TESTS_SUPPORT_RUN_H

#include <sys/types.h>

/* What one run did. */
typedef struct support_run {
    int status; /* exit status; -1 when a signal or the deadline ended it */
    char *out;  /* its stdout, NUL-terminated (heap; support_run_free) */
    char *err;  /* its stderr */
} support_run_t;

/* Starts the binary at path with argv (NULL-terminated), stdout and stderr into <dir>/<name>.out
 * and <dir>/<name>.err (truncated), stdin from the file in (NULL: the test's), environment env
 * (NULL: the test's). Returns the child; fails the calling cmocka test when it cannot start. */
pid_t support_run_start(const char *dir, const char *name, const char *path, char *const argv[],
                        const char *in, char *const *env);

/* Waits up to timeout_ms for pid (a support_run_start child of the same dir and name) to end,
 * stopping it when it does not (SIGTERM, SIGKILL 5 s later), and reads back its output into
 * *run. Blocks. */
void support_run_finish(const char *dir, const char *name, pid_t pid, int timeout_ms,
                        support_run_t *run);

/* Frees the output of a finished run. */
void support_run_free(support_run_t *run);

#endif
