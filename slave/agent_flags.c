/*
 * agent_flags.c: the agent's flags, with Mesos's names and defaults.
 */
#include "slave/agent_flags.h"

#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* The directory of this binary: where mesos-executor and mesos-fetcher are by default. */
static void binary_dir(char *out, size_t len)
{
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    if (n <= 0) {
        snprintf(out, len, ".");
        return;
    }
    self[n] = '\0';
    snprintf(out, len, "%s", dirname(self));
}

void agent_flags_table(agent_flags_t *f, flags_flag_t *t)
{
    memset(f, 0, sizeof(*f));
    binary_dir(f->launcher_default, sizeof(f->launcher_default));
    const flags_flag_t entries[AGENT_FLAGS_COUNT] = {
        FLAGS_STRING("work_dir", &f->work_dir, NULL,
                     "Where sandboxes and checkpoints live (required)"),
        FLAGS_STRING("hostname", &f->hostname, NULL,
                     "Hostname the agent advertises (default: the advertised IP)"),
        FLAGS_STRING("resources", &f->resources, NULL,
                     "Resources, e.g. 'cpus:4;mem:1024;disk:4096;ports:[31000-32000]' "
                     "(default: detected from the machine)"),
        FLAGS_STRING("attributes", &f->attributes, NULL, "Attributes, e.g. 'rack:r1;zone:a'"),
        FLAGS_STRING("isolation", &f->isolation, "posix/cpu,posix/mem",
                     "Isolation: posix/cpu,posix/mem (measure) or cgroups/cpu,cgroups/mem "
                     "(enforce)"),
        FLAGS_STRING("containerizers", &f->containerizers, "mesos",
                     "'mesos' (real processes) or 'simulated' (no processes: tasks go RUNNING at "
                     "once and FINISHED after their `sleep N`)"),
        FLAGS_BOOL("switch_user", &f->switch_user, geteuid() == 0 ? "true" : "false",
                   "Run tasks as their user (default true when the agent runs as root)"),
        FLAGS_STRING("launcher_dir", &f->launcher_dir, f->launcher_default,
                     "Directory of mesos-executor and mesos-fetcher"),
        FLAGS_BOOL("executor_fork_server", &f->executor_fork_server, "true",
                   "Start command executors by forking a waiting mesos-executor rather than "
                   "executing one per task (falls back to executing when it cannot)"),
        FLAGS_STRING("fetcher_cache_dir", &f->fetcher_cache_dir, NULL,
                     "Fetcher cache directory (default: <work_dir>/fetch)"),
        FLAGS_BYTES("fetcher_cache_size", &f->fetcher_cache_size, "2GB",
                    "Size of the fetcher cache"),
        FLAGS_DURATION("registration_backoff_factor", &f->registration_backoff_factor, "1secs",
                       "First (re)registration retry interval; doubles up to 1mins"),
        FLAGS_DURATION("executor_registration_timeout", &f->executor_registration_timeout, "1mins",
                       "Time an executor has to register before it is destroyed"),
        FLAGS_DURATION("executor_shutdown_grace_period", &f->executor_shutdown_grace_period,
                       "5secs", "Time an executor has to stop its tasks when asked to shut down"),
        FLAGS_DURATION("recovery_timeout", &f->recovery_timeout, "15mins",
                       "Time executors wait for a restarted agent before they exit"),
        FLAGS_DURATION("gc_delay", &f->gc_delay, "1weeks",
                       "Time after which finished executors' sandboxes are removed"),
        FLAGS_DOUBLE("gc_disk_headroom", &f->gc_disk_headroom, "0.1",
                     "Disk headroom kept: sandboxes are removed sooner as the disk fills"),
        FLAGS_DURATION("disk_watch_interval", &f->disk_watch_interval, "1mins",
                       "Interval between disk usage checks"),
        FLAGS_BOOL("cgroups_enable_cfs", &f->cgroups_enable_cfs, "false",
                   "Cap each container's CPU time with a CFS quota (cgroups/cpu)"),
        FLAGS_STRING("cgroups_hierarchy", &f->cgroups_hierarchy, "/sys/fs/cgroup",
                     "Where the cgroup hierarchies are mounted"),
    };
    memcpy(t, entries, sizeof(entries));
}

int agent_flags_check(const agent_flags_t *f)
{
    if (strcmp(f->containerizers, "mesos") != 0 && strcmp(f->containerizers, "simulated") != 0) {
        fprintf(stderr, "Unknown --containerizers '%s': expected 'mesos' or 'simulated'\n",
                f->containerizers);
        return 1;
    }
    if (f->work_dir == NULL || *f->work_dir == '\0') {
        fprintf(stderr, "Flag 'work_dir' is required, but it was not provided\n");
        return 1;
    }
    if (f->gc_disk_headroom < 0 || f->gc_disk_headroom > 1) {
        fprintf(stderr, "--gc_disk_headroom must be between 0.0 and 1.0\n");
        return 1;
    }
    return 0;
}

void agent_flags_apply(const agent_flags_t *f, agent_options_t *o)
{
    o->hostname = f->hostname;
    o->work_dir = f->work_dir;
    o->resources = f->resources;
    o->attributes = f->attributes;
    o->isolation = f->isolation;
    o->simulated = strcmp(f->containerizers, "simulated") == 0;
    o->switch_user = f->switch_user;
    o->launcher_dir = f->launcher_dir;
    o->executor_fork_server = f->executor_fork_server;
    o->fetcher_cache_dir = f->fetcher_cache_dir;
    o->fetcher_cache_size = f->fetcher_cache_size;
    o->registration_backoff_ns = f->registration_backoff_factor;
    o->executor_registration_timeout_ns = f->executor_registration_timeout;
    o->executor_shutdown_grace_period_ns = f->executor_shutdown_grace_period;
    o->recovery_timeout_ns = f->recovery_timeout;
    o->gc_delay_ns = f->gc_delay;
    o->gc_disk_headroom = f->gc_disk_headroom;
    o->disk_watch_interval_ns = f->disk_watch_interval;
    o->cgroups_enable_cfs = f->cgroups_enable_cfs;
    o->cgroups_root = f->cgroups_hierarchy;
}
