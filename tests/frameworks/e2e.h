/*
 * e2e.h: end-to-end runs of the framework binaries: a mesos-local cluster in a child process on
 * a free port of 127.0.0.1 (tests/support/local.h), and programs run against it with their
 * output captured, each waited for with a deadline and killed when it passes
 * (tests/support/run.h). The binaries come from MESOS_TEST_BIN_DIR (set by mesos_add_tests).
 */
#ifndef TESTS_FRAMEWORKS_E2E_H
#define TESTS_FRAMEWORKS_E2E_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "tests/support/local.h"
#include "tests/support/run.h"

/* The cluster: pid, port (the master's HTTP port; actor port + 10000), master
 * ("127.0.0.1:PORT"), master_flag ("--master=127.0.0.1:PORT"), work_dir, bin_dir. */
typedef support_local_t e2e_cluster_t;

/* The binary directory, or NULL when MESOS_TEST_BIN_DIR is not set (the test should skip). */
const char *e2e_bin_dir(void);

/* Starts mesos-local with two agents of cpus:4;mem:4096 and no Marathon, simulated (tasks
 * without processes) or with the real containerizer (mesos-executor and mesos-fetcher from the
 * bin directory), and waits until its master answers and both agents registered. Fails the test
 * on failure (after stopping what it started). */
void e2e_cluster_start(e2e_cluster_t *c, bool simulated);

/* Stops mesos-local (SIGTERM, then SIGKILL), kills what its agents left running, removes the
 * work directory. Safe on a cluster that never started. */
void e2e_cluster_stop(e2e_cluster_t *c);

/* cmocka fixtures: *state becomes a started cluster (simulated, or with real containers for
 * e2e_setup_real; not started when e2e_bin_dir() is NULL: the tests then skip), stopped and
 * freed by e2e_teardown. */
int e2e_setup(void **state);
int e2e_setup_real(void **state);
int e2e_teardown(void **state);

/* One program's run: exit status (-1 when it was killed at the deadline or by a signal) and its
 * output (out and err, NUL-terminated; free with e2e_run_free). */
typedef support_run_t e2e_run_t;

/* Runs argv (argv[0] a binary name in the bin directory) with stdout and stderr captured in
 * files of c->work_dir, waiting up to timeout_ms; kills it at the deadline. */
void e2e_run(e2e_cluster_t *c, char *const argv[], int timeout_ms, e2e_run_t *run);
void e2e_run_free(e2e_run_t *run);

/* e2e_run in two steps: start argv in the background, then wait for it (killing it at the
 * deadline) and collect its output. */
pid_t e2e_start(e2e_cluster_t *c, char *const argv[]);
void e2e_finish(e2e_cluster_t *c, pid_t pid, const char *name, int timeout_ms, e2e_run_t *run);

/* GET path from the cluster's master: the body (caller frees) on 200, else NULL. */
char *e2e_get(const e2e_cluster_t *c, const char *path);

/* Polls GET path every 50 ms until the body contains `needle` at least `count` times, for
 * timeout_ms at most; returns whether it did. */
bool e2e_poll(const e2e_cluster_t *c, const char *path, const char *needle, size_t count,
              int timeout_ms);

/* The last non-empty line of text (a new string), or NULL. */
char *e2e_last_line(const char *text);

#endif
