/*
 * local.h: the real mesos-local (tools/mesos_local.c: a master, its agents and Marathon in one
 * process) as a child of a multi-process test (tests/support/), on free ports of 127.0.0.1 and a
 * fresh work directory. Starting waits until the cluster is ready: the master's /slaves lists
 * every agent and, with Marathon, Marathon's /ping answers. Stopping ends mesos-local (SIGTERM,
 * then SIGKILL), kills what its agents left running (executors and tasks, found by the work
 * directory in their environment: MESOS_SANDBOX and MESOS_DIRECTORY name it) and removes the
 * work directory. The binaries come from MESOS_TEST_BIN_DIR, which mesos_add_tests sets.
 */
#ifndef TESTS_SUPPORT_LOCAL_H
#define TESTS_SUPPORT_LOCAL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* How to start mesos-local; zero-initialise and set what you need. */
typedef struct support_local_options {
    const char *name;         /* the work directory is /tmp/<name>.XXXXXX; NULL: "test_local" */
    unsigned num_agents;      /* --num_agents; 0: mesos-local's 2 */
    bool marathon;            /* Marathon on a free port; false: --marathon_port=0 */
    bool simulated;           /* --containerizers=simulated (no processes); false: mesos */
    const char *resources;    /* --resources of every agent; NULL: detected */
    const char *const *flags; /* more flags ("--switch_user=false"), NULL-terminated; may be NULL */
    int timeout_ms;           /* how long it may take to be ready; 0: 30 s */
} support_local_options_t;

/* A running mesos-local. */
typedef struct support_local {
    pid_t pid;              /* mesos-local; 0 when not running */
    uint16_t port;          /* the master's HTTP port; its actor port is port + 10000 */
    uint16_t marathon_port; /* Marathon's HTTP port; 0 without Marathon */
    unsigned num_agents;    /* agents it runs */
    char master[32];        /* "127.0.0.1:PORT" */
    char master_flag[48];   /* "--master=127.0.0.1:PORT" */
    char work_dir[64];      /* its --work_dir; "" once removed */
    char bin_dir[4096];     /* MESOS_TEST_BIN_DIR */
} support_local_t;

/* Zero-initialises opts: name "test_local", two agents with real containers, no Marathon,
 * 30 s. Cannot fail. */
void support_local_options_init(support_local_options_t *opts);

/* The directory of the built binaries (MESOS_TEST_BIN_DIR), or NULL when it is not set (the
 * test runs outside ctest and should skip). */
const char *support_bin_dir(void);

/* Starts mesos-local with opts (stdout and stderr into mesos-local.out and .err of its work
 * directory) and waits until it is ready. Fails the calling cmocka test, after stopping what it
 * started and printing the end of mesos-local's stderr, when the binary directory is not set,
 * mesos-local exits, or it is not ready within opts->timeout_ms. Blocks. */
void support_local_start(support_local_t *local, const support_local_options_t *opts);

/* Stops mesos-local (SIGTERM; SIGKILL after 10 s), kills the processes whose environment names
 * the work directory, and removes the directory. Safe on a cluster that never started or is
 * already stopped. Returns false (with a message on stderr) when the directory could not be
 * removed. Blocks. */
bool support_local_stop(support_local_t *local);

#endif
