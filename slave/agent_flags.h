/*
 * agent_flags.h: the agent's command-line flags, shared by mesos-agent and mesos-local (which
 * passes agent flags through to each of its agents), so that both accept the same names,
 * defaults and help.
 */
#ifndef SLAVE_AGENT_FLAGS_H
#define SLAVE_AGENT_FLAGS_H

#include <stdbool.h>
#include <stdint.h>

#include "actor/flags.h"
#include "slave/agent.h"

/* The parsed values. Strings belong to the flags table (valid until flags_free). */
typedef struct agent_flags {
    char *work_dir, *resources, *attributes, *isolation, *containerizers, *launcher_dir;
    char *fetcher_cache_dir, *cgroups_hierarchy, *hostname;
    uint64_t fetcher_cache_size;
    bool switch_user, cgroups_enable_cfs, executor_fork_server;
    int64_t registration_backoff_factor, executor_registration_timeout;
    int64_t executor_shutdown_grace_period, recovery_timeout, gc_delay, disk_watch_interval;
    double gc_disk_headroom;
    char launcher_default[4096];
} agent_flags_t;

/* The number of entries agent_flags_table writes. */
#define AGENT_FLAGS_COUNT 20

/* Writes the agent's flag entries (AGENT_FLAGS_COUNT of them, no FLAGS_END) into table, with
 * destinations in f. Cannot fail. */
void agent_flags_table(agent_flags_t *f, flags_flag_t *table);

/* Checks values flags_parse cannot (the containerizer's name, ranges); returns 0 or 1 after
 * printing a one-line error. */
int agent_flags_check(const agent_flags_t *f);

/* Copies the values into opts (pointers borrowed from f). */
void agent_flags_apply(const agent_flags_t *f, agent_options_t *opts);

#endif
