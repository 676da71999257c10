/* local.c: the real mesos-local as a test's child (local.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "tests/support/fs.h"
#include "tests/support/http.h"
#include "tests/support/local.h"
#include "tests/support/ports.h"
#include "tests/support/proc.h"
#include "tests/support/wait.h"

#define MAX_FLAGS       32
#define READY_STEP_MS   50
#define STOP_GRACE_MS   10000
#define STDERR_TAIL     4000 /* bytes of mesos-local's stderr shown when it does not come up */
#define DEFAULT_TIMEOUT 30000

const char *support_bin_dir(void)
{
    const char *dir = getenv("MESOS_TEST_BIN_DIR");
    return dir != NULL && *dir != '\0' ? dir : NULL;
}

void support_local_options_init(support_local_options_t *opts)
{
    memset(opts, 0, sizeof(*opts));
}

/* mesos-local's command line. */
typedef struct command {
    char path[4200];
    char text[MAX_FLAGS][512];
    char *argv[MAX_FLAGS + 2]; /* path, the flags, NULL */
    size_t count;              /* flags in text */
} command_t;

/* Appends a flag; fails the test when there are too many or one is too long. */
static void add_flag(command_t *cmd, const char *format, ...)
{
    if (cmd->count == MAX_FLAGS)
        fail_msg("more than %d flags for mesos-local", MAX_FLAGS);
    va_list ap;
    va_start(ap, format);
    int n = vsnprintf(cmd->text[cmd->count], sizeof(cmd->text[0]), format, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof(cmd->text[0]))
        fail_msg("a flag of mesos-local is too long (%d bytes)", n);
    cmd->argv[1 + cmd->count] = cmd->text[cmd->count];
    cmd->count++;
    cmd->argv[1 + cmd->count] = NULL;
}

/* The command line of mesos-local for local and opts. */
static void build_command(const support_local_t *local, const support_local_options_t *opts,
                          command_t *cmd)
{
    snprintf(cmd->path, sizeof(cmd->path), "%s/mesos-local", local->bin_dir);
    cmd->argv[0] = cmd->path;
    cmd->count = 0;
    add_flag(cmd, "--port=%u", local->port);
    add_flag(cmd, "--marathon_port=%u", local->marathon_port);
    add_flag(cmd, "--work_dir=%s", local->work_dir);
    add_flag(cmd, "--num_agents=%u", local->num_agents);
    add_flag(cmd, "--containerizers=%s", opts->simulated ? "simulated" : "mesos");
    if (opts->resources != NULL)
        add_flag(cmd, "--resources=%s", opts->resources);
    for (size_t k = 0; opts->flags != NULL && opts->flags[k] != NULL; k++)
        add_flag(cmd, "%s", opts->flags[k]);
}

static bool agents_registered(json_t *json, void *arg)
{
    const support_local_t *local = arg;
    return json_array_size(json_object_get(json, "slaves")) == local->num_agents;
}

/* One readiness check: false as long as the cluster is not ready; fails when mesos-local has
 * exited. */
static bool ready(void *arg)
{
    support_local_t *local = arg;
    if (support_proc_wait(local->pid, 0, NULL)) {
        local->pid = 0; /* reaped */
        return true;    /* the caller sees pid 0 */
    }
    long status = 0;
    json_t *slaves = support_http_json("GET", local->port, "/slaves", NULL, &status);
    bool ok = status == 200 && agents_registered(slaves, local);
    json_decref(slaves);
    if (ok && local->marathon_port != 0) {
        free(support_http_text("GET", local->marathon_port, "/ping", NULL, &status));
        ok = status == 200;
    }
    return ok;
}

/* Prints the end of mesos-local's stderr, then stops everything and fails the test. */
static void give_up(support_local_t *local, const char *why)
{
    char path[128];
    snprintf(path, sizeof(path), "%s/mesos-local.err", local->work_dir);
    char *text = support_fs_read(path);
    size_t len = text != NULL ? strlen(text) : 0;
    fprintf(stderr, "mesos-local's stderr ends with:\n%s\n",
            text != NULL ? text + (len > STDERR_TAIL ? len - STDERR_TAIL : 0) : "");
    free(text);
    unsigned port = local->port;
    support_local_stop(local);
    fail_msg("mesos-local on port %u %s", port, why);
}

void support_local_start(support_local_t *local, const support_local_options_t *opts)
{
    memset(local, 0, sizeof(*local));
    if (support_bin_dir() == NULL)
        fail_msg("MESOS_TEST_BIN_DIR is not set (run through ctest)");
    snprintf(local->bin_dir, sizeof(local->bin_dir), "%s", support_bin_dir());
    const char *name = opts->name != NULL ? opts->name : "test_local";
    if (support_fs_tempdir(local->work_dir, sizeof(local->work_dir), name) == NULL)
        fail_msg("cannot create a work directory for %s: %s", name, strerror(errno));
    local->port = support_port_pair();
    local->marathon_port = opts->marathon ? support_port_free() : 0;
    local->num_agents = opts->num_agents != 0 ? opts->num_agents : 2;
    snprintf(local->master, sizeof(local->master), "127.0.0.1:%u", local->port);
    snprintf(local->master_flag, sizeof(local->master_flag), "--master=%s", local->master);
    command_t *cmd = calloc(1, sizeof(*cmd));
    if (cmd == NULL)
        give_up(local, "cannot be started: out of memory");
    build_command(local, opts, cmd);
    char out[128], err[128];
    snprintf(out, sizeof(out), "%s/mesos-local.out", local->work_dir);
    snprintf(err, sizeof(err), "%s/mesos-local.err", local->work_dir);
    support_proc_io_t io;
    support_proc_io_init(&io);
    io.out = out;
    io.err = err;
    int rc = support_proc_spawn(cmd->path, cmd->argv, &io, &local->pid);
    free(cmd);
    if (rc != 0)
        give_up(local, strerror(rc));
    int timeout_ms = opts->timeout_ms > 0 ? opts->timeout_ms : DEFAULT_TIMEOUT;
    bool ok = support_wait_until(ready, local, timeout_ms, READY_STEP_MS);
    if (local->pid == 0)
        give_up(local, "exited before it was ready");
    if (!ok)
        give_up(local, "was not ready in time");
}

bool support_local_stop(support_local_t *local)
{
    if (local->pid > 0)
        support_proc_stop(local->pid, STOP_GRACE_MS);
    local->pid = 0;
    if (local->work_dir[0] == '\0')
        return true;
    support_proc_kill_env(local->work_dir);
    bool removed = support_fs_rmtree(local->work_dir) == 0;
    if (!removed)
        fprintf(stderr, "cannot remove %s: %s\n", local->work_dir, strerror(errno));
    local->work_dir[0] = '\0';
    return removed;
}
