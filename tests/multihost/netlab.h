/*
 * netlab.h: a small network of "hosts" for multi-host tests, made of Linux network namespaces.
 *
 * A lab is a hub namespace holding one bridge, and one namespace per node joined to the bridge by
 * a veth pair (the node's end is its eth0, the hub's end is named after the node). Every node
 * gets its own address of 198.18.0.0/24 (part of 198.18.0.0/15, set aside for network tests);
 * no namespace has any other link, so nothing a test sends can leave the lab. Cutting a node's
 * cable is setting the hub's end of its veth down.
 *
 * All names start with "mesos-mh-<pid>-" (the test's pid), so that parallel runs never collide.
 * A lab is cleaned up (every process in its namespaces killed, the namespaces deleted, its temp
 * directory removed) by netlab_close, at exit if the test exits without it, and by a guardian
 * process when the test dies without running either (a signal, SIGKILL by a ctest timeout).
 * netlab_open also removes what dead runs left behind.
 *
 * Needs root and iproute2's `ip` with `ip netns`; netlab_unavailable says why a test must skip.
 * Single-threaded use only (the HTTP client switches the calling thread's namespace).
 */
#ifndef TESTS_MULTIHOST_NETLAB_H
#define TESTS_MULTIHOST_NETLAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define NETLAB_MAX_NODES 8
#define NETLAB_MAX_PROCS 16

typedef struct netlab_node {
    char name[16]; /* "master", "agent1", ...: also its veth's name in the hub */
    char ns[64];   /* its namespace, "mesos-mh-<pid>-<name>" */
    char ip[16];   /* its address, "198.18.0.N" */
} netlab_node_t;

typedef struct netlab_proc {
    pid_t pid;     /* 0 once reaped */
    char name[32]; /* its outputs are <dir>/<name>.out and <dir>/<name>.err */
    int status;    /* wait status once reaped */
} netlab_proc_t;

typedef struct netlab {
    char prefix[40];    /* "mesos-mh-<pid>" */
    char hub[64];       /* the hub namespace */
    char dir[64];       /* temp directory for outputs and work directories */
    char bin_dir[4096]; /* where the programs netlab_spawn runs are */
    char ip_cmd[64];    /* path of `ip` */
    netlab_node_t nodes[NETLAB_MAX_NODES];
    size_t node_count;
    netlab_proc_t procs[NETLAB_MAX_PROCS];
    size_t proc_count;
    int guardian; /* write end of the guardian's pipe; -1 when none */
    bool open;
} netlab_t;

/* NULL when a lab can be made here; else why not, written into why (for a skip message). */
const char *netlab_unavailable(char *why, size_t why_len);

/* Makes an empty lab: its hub namespace with a bridge, a temp directory, the guardian. Programs
 * are taken from bin_dir. Returns 0, or -1 with the reason in err (nothing is left behind). */
int netlab_open(netlab_t *lab, const char *bin_dir, char *err, size_t err_len);

/* Adds node `name` (at most 15 characters) with address ip (198.18.x.y) joined to the hub.
 * Returns its index, or -1 with the reason in err. */
int netlab_node_add(netlab_t *lab, const char *name, const char *ip, char *err, size_t err_len);

/* Connects (up) or cuts (down) node's cable at the hub. Returns 0 or -1. */
int netlab_link_set(netlab_t *lab, int node, bool up);

/* Starts argv (argv[0] a program of bin_dir) inside node's namespace in its own process group,
 * stdout and stderr into <dir>/<name>.out and .err. It is killed if the test process dies.
 * Returns the index of the process, or -1. */
int netlab_spawn(netlab_t *lab, int node, const char *name, char *const argv[]);

/* Waits up to timeout_ms for process proc to end. Returns its exit status, 128 + the signal that
 * killed it, or -1 if it still runs (it is left running). */
int netlab_wait(netlab_t *lab, int proc, int timeout_ms);

/* Whether process proc still runs. */
bool netlab_running(netlab_t *lab, int proc);

/* Sends sig to process proc (not to its group) if it still runs. */
void netlab_signal(netlab_t *lab, int proc, int sig);

/* What process proc wrote to stdout (err false) or stderr (err true) so far: a new string, "" if
 * nothing. */
char *netlab_output(const netlab_t *lab, int proc, bool err);

/* Prints the last lines of every process's outputs to stderr (for a failing test). */
void netlab_dump(const netlab_t *lab);

/* GET http://ip:port/path from inside node's namespace (HTTP/1.0, 2 s timeout). Returns the body
 * (caller frees) when the status is 200, else NULL. */
char *netlab_http_get(netlab_t *lab, int node, const char *ip, uint16_t port, const char *path);

/* Kills every process of the lab (process groups first, then anything left in its namespaces),
 * deletes its namespaces and temp directory. Idempotent; safe on a lab never opened. */
void netlab_close(netlab_t *lab);

/* Milliseconds on a monotonic clock, and a pause between polls. */
int64_t netlab_now_ms(void);
void netlab_pause_ms(int ms);

#endif
