/*
 * agent.c: the agent actor itself: its start, its message table, registration and
 * reregistration with the master (retried with backoff), pings, the master's link, and its end.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "actor/http.h"
#include "actor/log.h"
#include "actor/master_address.h"
#include "actor/metrics.h"
#include "actor/pbcopy.h"
#include "slave/agent_int.h"
#include "slave/files/files.h"
#include "slave/files/gc.h"

#define REGISTER_BACKOFF_MAX_NS (60 * ACTOR_NS_PER_SEC) /* Mesos's REGISTER_RETRY_INTERVAL_MAX */

void agent_options_init(agent_options_t *opts)
{
    memset(opts, 0, sizeof(*opts));
    opts->http_port = 5051;
    opts->isolation = "posix/cpu,posix/mem";
    opts->fetcher_cache_size = UINT64_C(2) << 30;
    opts->registration_backoff_ns = ACTOR_NS_PER_SEC;
    opts->executor_registration_timeout_ns = 60 * ACTOR_NS_PER_SEC;
    opts->executor_shutdown_grace_period_ns = 5 * ACTOR_NS_PER_SEC;
    opts->recovery_timeout_ns = 15 * 60 * ACTOR_NS_PER_SEC;
    opts->gc_delay_ns = 7 * 24 * 3600 * ACTOR_NS_PER_SEC;
    opts->gc_disk_headroom = 0.1;
    opts->disk_watch_interval_ns = 60 * ACTOR_NS_PER_SEC;
    opts->cgroups_root = "/sys/fs/cgroup";
    opts->executor_fork_server = true;
}

actor_err_t agent_master_pid(const char *value, char *out, size_t out_len, char *err,
                             size_t err_len)
{
    actor_pid_t pid;
    if (actor_master_pid(value, &pid, err, err_len) != ACTOR_OK)
        return ACTOR_EINVAL;
    actor_pid_format(&pid, out, out_len);
    return ACTOR_OK;
}

double agent_now(void)
{
    return (double)actor_clock_wall() / (double)ACTOR_NS_PER_SEC;
}

void agent_send_master(agent_t *a, const ProtobufCMessage *msg)
{
    if (a->state == AGENT_RUNNING)
        actor_send(a->self, &a->master, msg);
}

void agent_sandbox_root_init(agent_t *a)
{
    if (asprintf(&a->sandbox_root, "%s/slaves/%s", a->opts.work_dir, a->agent_id) < 0) {
        a->sandbox_root = NULL;
        return;
    }
    /* The agent makes every directory below it with mkdir: the files actor canonicalises it
     * once instead of each sandbox it attaches (a simulated agent attaches none; a relative
     * work directory is refused, and its sandboxes go through realpath). */
    if (!a->opts.simulated && a->sandbox_root[0] == '/' &&
        files_root_add(&a->files, a->sandbox_root) == ACTOR_OK)
        a->sandbox_root_declared = true;
}

/* ---- registration ---- */

static void register_tick(actor_t *self, void *state, void *arg);

static void send_registration(agent_t *a)
{
    if (a->agent_id == NULL) {
        Mesos__Internal__RegisterAgentMessage reg = MESOS__INTERNAL__REGISTER_AGENT_MESSAGE__INIT;
        reg.agent = a->info;
        reg.version = MESOS_VERSION;
        actor_send(a->self, &a->master, &reg.base);
        return;
    }
    Mesos__Internal__ReregisterAgentMessage rereg = MESOS__INTERNAL__REREGISTER_AGENT_MESSAGE__INIT;
    rereg.agent = a->info;
    rereg.version = MESOS_VERSION;
    agent_tasks_collect(a, &rereg.tasks, &rereg.n_tasks);
    size_t nf = HASH_COUNT(a->frameworks), ne = 0;
    Mesos__FrameworkInfo **fws = calloc(nf + 1, sizeof(*fws));
    for (agent_framework_t *f = a->frameworks; f != NULL; f = f->hh.next) {
        ne += HASH_COUNT(f->executors);
        if (fws != NULL)
            fws[rereg.n_frameworks++] = f->info;
    }
    Mesos__ExecutorInfo **exs = calloc(ne + 1, sizeof(*exs));
    for (agent_framework_t *f = a->frameworks; f != NULL && exs != NULL; f = f->hh.next) {
        for (agent_executor_t *e = f->executors; e != NULL; e = e->hh.next) {
            if (!e->command_executor)
                exs[rereg.n_executor_infos++] = e->info;
        }
    }
    rereg.frameworks = fws;
    rereg.executor_infos = exs;
    actor_send(a->self, &a->master, &rereg.base);
    free(fws);
    free(exs);
    agent_tasks_free(rereg.tasks, rereg.n_tasks);
}

/* Starts (or restarts) the registration loop: one attempt now, retries with doubling backoff. */
static void start_registration(agent_t *a)
{
    if (a->state == AGENT_TERMINATING)
        return;
    a->state = AGENT_DISCONNECTED;
    if (a->register_timer != 0 && actor_timer_cancel(a->register_timer))
        a->register_timer = 0;
    a->register_backoff_ns = a->opts.registration_backoff_ns;
    actor_relink(a->self, &a->master); /* a fresh stream: the old one may be stale */
    send_registration(a);
    a->register_timer = actor_delay(a->self, a->register_backoff_ns, register_tick, NULL);
}

static void register_tick(actor_t *self, void *state, void *arg)
{
    (void)arg;
    if (self == NULL)
        return;
    agent_t *a = state;
    a->register_timer = 0;
    if (a->state != AGENT_DISCONNECTED)
        return;
    actor_relink(self, &a->master); /* a fresh stream: the old one may be stale */
    send_registration(a);
    a->register_backoff_ns *= 2;
    if (a->register_backoff_ns > REGISTER_BACKOFF_MAX_NS)
        a->register_backoff_ns = REGISTER_BACKOFF_MAX_NS;
    a->register_timer = actor_delay(self, a->register_backoff_ns, register_tick, NULL);
}

static void ping_check(actor_t *self, void *state, void *arg);

/* Registered (or reregistered): stop retrying, watch the master's pings. */
static void registered(agent_t *a, const Mesos__Internal__MasterAgentConnection *conn)
{
    a->state = AGENT_RUNNING;
    if (a->register_timer != 0 && actor_timer_cancel(a->register_timer))
        a->register_timer = 0;
    if (conn != NULL && conn->has_total_ping_timeout_seconds &&
        conn->total_ping_timeout_seconds > 0)
        a->ping_timeout_seconds = conn->total_ping_timeout_seconds;
    a->last_ping_ns = actor_clock_now();
    actor_link(a->self, &a->master);
    if (a->ping_check_timer == 0)
        a->ping_check_timer =
            actor_delay(a->self, (int64_t)(a->ping_timeout_seconds * (double)ACTOR_NS_PER_SEC),
                        ping_check, NULL);
    agent_updates_resend(a);
}

static bool from_master(agent_t *a, const actor_pid_t *from)
{
    if (actor_pid_equal(from, &a->master))
        return true;
    LOG_WARNING("Ignoring a message from %s, which is not the master %s", AGENT_PID_TEXT(from),
                AGENT_PID_TEXT(&a->master));
    return false;
}

static void on_registered(actor_t *self, void *state, const actor_pid_t *from,
                          const ProtobufCMessage *msg)
{
    (void)self;
    agent_t *a = state;
    const Mesos__Internal__AgentRegisteredMessage *m =
        (const Mesos__Internal__AgentRegisteredMessage *)msg;
    if (!from_master(a, from) || a->state != AGENT_DISCONNECTED || m->agent_id == NULL)
        return;
    if (a->agent_id != NULL && strcmp(a->agent_id, m->agent_id->value) != 0) {
        LOG_WARNING("Ignoring registration as %s: this agent is %s", m->agent_id->value,
                    a->agent_id);
        return;
    }
    if (a->agent_id == NULL) {
        a->agent_id = strdup(m->agent_id->value);
        Mesos__AgentID *id = calloc(1, sizeof(*id));
        if (a->agent_id == NULL || id == NULL) {
            free(id);
            LOG_ERROR("Out of memory registering the agent");
            return;
        }
        mesos__agent_id__init(id);
        id->value = strdup(a->agent_id);
        a->info->id = id;
        agent_sandbox_root_init(a);
    }
    LOG_INFO("Registered with master %s as agent %s", AGENT_PID_TEXT(&a->master), a->agent_id);
    agent_checkpoint_agent(a);
    registered(a, m->connection);
}

static void on_reregistered(actor_t *self, void *state, const actor_pid_t *from,
                            const ProtobufCMessage *msg)
{
    (void)self;
    agent_t *a = state;
    const Mesos__Internal__AgentReregisteredMessage *m =
        (const Mesos__Internal__AgentReregisteredMessage *)msg;
    if (!from_master(a, from) || a->state != AGENT_DISCONNECTED || a->agent_id == NULL ||
        m->agent_id == NULL || strcmp(m->agent_id->value, a->agent_id) != 0)
        return;
    LOG_INFO("Reregistered with master %s", AGENT_PID_TEXT(&a->master));
    registered(a, m->connection);
    for (size_t i = 0; i < m->n_reconciliations; i++)
        agent_on_reconcile_tasks(a, m->reconciliations[i]);
}

static void on_ping(actor_t *self, void *state, const actor_pid_t *from,
                    const ProtobufCMessage *msg)
{
    agent_t *a = state;
    const Mesos__Internal__PingAgentMessage *m = (const Mesos__Internal__PingAgentMessage *)msg;
    if (!actor_pid_equal(from, &a->master))
        return;
    a->last_ping_ns = actor_clock_now();
    Mesos__Internal__PongAgentMessage pong = MESOS__INTERNAL__PONG_AGENT_MESSAGE__INIT;
    actor_send(self, from, &pong.base);
    if (!m->connected && a->state == AGENT_RUNNING && a->agent_id != NULL) {
        LOG_INFO("The master says this agent is disconnected: reregistering");
        start_registration(a);
    }
}

/* Mesos's agent expects a ping within the master's total ping timeout; silence beyond it means
 * the master lost the agent (or the agent lost the master), so it reregisters. */
static void ping_check(actor_t *self, void *state, void *arg)
{
    (void)arg;
    if (self == NULL)
        return;
    agent_t *a = state;
    a->ping_check_timer = 0;
    int64_t limit = (int64_t)(a->ping_timeout_seconds * (double)ACTOR_NS_PER_SEC);
    if (a->state == AGENT_RUNNING && actor_clock_now() - a->last_ping_ns > limit) {
        LOG_WARNING("No ping from the master for %.0f s: reregistering", a->ping_timeout_seconds);
        start_registration(a);
    }
    /* Next check when the silence since the last ping would reach the limit (as Mesos's agent
     * restarts its timer at every ping), not a whole limit from now. */
    int64_t next = a->last_ping_ns + limit - actor_clock_now();
    if (a->state != AGENT_TERMINATING)
        a->ping_check_timer =
            actor_delay(self, next > ACTOR_NS_PER_MS ? next : limit, ping_check, NULL);
}

static void on_shutdown(actor_t *self, void *state, const actor_pid_t *from,
                        const ProtobufCMessage *msg)
{
    (void)self;
    agent_t *a = state;
    const Mesos__Internal__ShutdownMessage *m = (const Mesos__Internal__ShutdownMessage *)msg;
    if (!from_master(a, from))
        return;
    LOG_WARNING("The master shut this agent down: %s", m->message != NULL ? m->message : "");
    a->state = AGENT_TERMINATING;
    for (agent_framework_t *f = a->frameworks; f != NULL; f = f->hh.next) {
        for (agent_executor_t *e = f->executors; e != NULL; e = e->hh.next) {
            e->shut_down = true;
            agent_container_destroy(a, e);
        }
    }
    if (a->opts.shutdown != NULL)
        a->opts.shutdown(a->opts.shutdown_arg);
}

static void agent_exited(actor_t *self, void *state, const actor_pid_t *pid)
{
    (void)self;
    agent_t *a = state;
    if (actor_pid_equal(pid, &a->master) && a->state == AGENT_RUNNING) {
        LOG_WARNING("Lost the connection to master %s: reregistering", AGENT_PID_TEXT(pid));
        start_registration(a);
    }
}

/* ---- the actor ---- */

typedef struct start_arg {
    agent_options_t opts;
    Mesos__AgentInfo *info;
    resources_t total;
    cgroups_t *cgroups;
    store_t *store;
    bool posix_measure;
    actor_pid_t master, files, gc;
} start_arg_t;

static void agent_init(actor_t *self, void *state, void *arg)
{
    agent_t *a = state;
    start_arg_t *s = arg;
    a->self = self;
    a->opts = s->opts;
    a->info = s->info;
    a->total = s->total;
    a->cgroups = s->cgroups;
    a->posix_measure = s->posix_measure;
    a->master = s->master;
    a->files = s->files;
    a->gc = s->gc;
    a->flags = s->opts.flags;
    a->ping_timeout_seconds = 75; /* Mesos's default total: 15secs x 5 */
    a->start_time = agent_now();
    resources_init(&a->used);
    a->store = s->store;
    a->batch = store_batch_new(a->store, self, NULL);
    free(s);
    agent_http_install(a);
    agent_metrics_start(a);
    LOG_INFO("Agent %s starting with resources %s; master %s", AGENT_PID_TEXT(actor_self(self)),
             a->opts.resources, AGENT_PID_TEXT(&a->master));
    agent_recover(a);
}

void agent_recovery_done(agent_t *a)
{
    a->recovered = true;
    start_registration(a);
}

static void free_options(agent_options_t *o)
{
    free((char *)o->id);
    free((char *)o->master);
    free((char *)o->hostname);
    free((char *)o->ip);
    free((char *)o->work_dir);
    free((char *)o->resources);
    free((char *)o->attributes);
    free((char *)o->isolation);
    free((char *)o->launcher_dir);
    free((char *)o->fetcher_cache_dir);
    free((char *)o->cgroups_root);
    free((char *)o->cgroups_subtree);
    json_decref(o->flags);
}

static void agent_fini(actor_t *self, void *state)
{
    (void)self;
    agent_t *a = state;
    if (a->register_timer != 0)
        actor_timer_cancel(a->register_timer);
    if (a->ping_check_timer != 0)
        actor_timer_cancel(a->ping_check_timer);
    agent_metrics_stop(a);
    agent_checkpoint_close(a);
    agent_updates_free(a);
    agent_framework_t *f, *tmp;
    HASH_ITER(hh, a->frameworks, f, tmp)
    {
        HASH_DEL(a->frameworks, f);
        agent_framework_free(f);
    }
    HASH_ITER(hh, a->completed_frameworks, f, tmp)
    {
        HASH_DEL(a->completed_frameworks, f);
        agent_framework_free(f);
    }
    if (a->cgroups != NULL)
        cgroups_close(a->cgroups);
    actor_terminate(&a->gc); /* the files actor is shared with other agents of the process */
    if (a->sandbox_root_declared)
        files_root_remove(&a->files, a->sandbox_root);
    resources_fini(&a->total);
    resources_fini(&a->used);
    mesos__agent_info__free_unpacked(a->info, NULL);
    free(a->agent_id);
    free(a->sandbox_root);
    free(a->master_hostname);
    free_options(&a->opts);
}

static const actor_handler_t agent_handlers[] = {
    {&mesos__internal__agent_registered_message__descriptor, on_registered},
    {&mesos__internal__agent_reregistered_message__descriptor, on_reregistered},
    {&mesos__internal__ping_agent_message__descriptor, on_ping},
    {&mesos__internal__shutdown_message__descriptor, on_shutdown},
    {&mesos__internal__run_task_message__descriptor, agent_on_run_task},
    {&mesos__internal__kill_task_message__descriptor, agent_on_kill_task},
    {&mesos__internal__register_executor_message__descriptor, agent_on_register_executor},
    {&mesos__internal__reregister_executor_message__descriptor, agent_on_reregister_executor},
    {&mesos__internal__status_update_message__descriptor, agent_on_status_update},
    {&mesos__internal__status_update_acknowledgement_message__descriptor,
     agent_on_status_update_ack},
    {&mesos__internal__shutdown_framework_message__descriptor, agent_on_shutdown_framework},
    {&mesos__internal__shutdown_executor_message__descriptor, agent_on_shutdown_executor},
    {&mesos__internal__update_framework_message__descriptor, agent_on_update_framework},
    {&mesos__internal__framework_to_executor_message__descriptor, agent_on_framework_to_executor},
    {&mesos__internal__executor_to_framework_message__descriptor, agent_on_executor_to_framework},
};

static const actor_ops_t agent_ops = {
    .name = "slave",
    .state_size = sizeof(agent_t),
    .init = agent_init,
    .fini = agent_fini,
    .exited = agent_exited,
    .handlers = agent_handlers,
    .handler_count = sizeof(agent_handlers) / sizeof(agent_handlers[0]),
};

/* ---- start ---- */

static char *dup_or_null(const char *s)
{
    return s != NULL ? strdup(s) : NULL;
}

static void copy_options(agent_options_t *dst, const agent_options_t *src)
{
    *dst = *src;
    dst->id = dup_or_null(src->id);
    dst->master = dup_or_null(src->master);
    dst->hostname = dup_or_null(src->hostname);
    dst->ip = dup_or_null(src->ip);
    dst->work_dir = dup_or_null(src->work_dir);
    dst->resources = dup_or_null(src->resources);
    dst->attributes = dup_or_null(src->attributes);
    dst->isolation = dup_or_null(src->isolation);
    dst->launcher_dir = dup_or_null(src->launcher_dir);
    dst->fetcher_cache_dir = dup_or_null(src->fetcher_cache_dir);
    dst->cgroups_root = dup_or_null(src->cgroups_root);
    dst->cgroups_subtree = dup_or_null(src->cgroups_subtree);
    if (dst->flags != NULL)
        json_incref(dst->flags);
}

/* Builds AgentInfo from the options: resources (given or detected), attributes, address. */
static actor_err_t build_info(start_arg_t *s, char *err, size_t err_len)
{
    resources_attributes_t attrs;
    resources_attributes_init(&attrs);
    actor_err_t rc = resources_parse(&s->total, s->opts.resources, "*", err, err_len);
    if (rc != ACTOR_OK)
        goto fail;
    if (resources_scalar(&s->total, "cpus") <= 0 || resources_scalar(&s->total, "mem") <= 0) {
        snprintf(err, err_len, "--resources must give positive cpus and mem: '%s'",
                 s->opts.resources);
        rc = ACTOR_EINVAL;
        goto fail;
    }
    if (s->opts.attributes != NULL) {
        rc = resources_attributes_parse(&attrs, s->opts.attributes, err, err_len);
        if (rc != ACTOR_OK)
            goto fail;
    }
    s->info = calloc(1, sizeof(*s->info));
    if (s->info == NULL) {
        rc = ACTOR_ENOMEM;
        goto fail;
    }
    mesos__agent_info__init(s->info);
    char ip[64] = "";
    if (s->opts.ip == NULL) {
        uint32_t addr;
        uint16_t port;
        actor_runtime_address(&addr, &port);
        snprintf(ip, sizeof(ip), "%u.%u.%u.%u", (addr >> 24) & 255, (addr >> 16) & 255,
                 (addr >> 8) & 255, addr & 255);
    }
    s->info->hostname = strdup(s->opts.hostname != NULL ? s->opts.hostname
                               : s->opts.ip != NULL     ? s->opts.ip
                                                        : ip);
    s->info->has_port = true;
    s->info->port = s->opts.http_port;
    rc = resources_to_proto(&s->total, &s->info->resources, &s->info->n_resources);
    if (rc == ACTOR_OK)
        rc = resources_attributes_to_proto(&attrs, &s->info->attributes, &s->info->n_attributes);
    if (rc != ACTOR_OK || s->info->hostname == NULL) {
        rc = rc != ACTOR_OK ? rc : ACTOR_ENOMEM;
        goto fail;
    }
    resources_attributes_fini(&attrs);
    return ACTOR_OK;
fail:
    resources_attributes_fini(&attrs);
    return rc;
}

/* Opens the isolation the --isolation flag asks for: cgroups (enforcing) or posix (measuring). */
static actor_err_t open_isolation(start_arg_t *s, char *err, size_t err_len)
{
    isolation_t iso;
    if (isolation_parse(s->opts.isolation, &iso, err, err_len) != 0)
        return ACTOR_EINVAL;
    s->posix_measure = iso.posix_cpu || iso.posix_mem;
    if (s->opts.simulated || !(iso.cgroups_cpu || iso.cgroups_mem))
        return ACTOR_OK;
    char subtree[128];
    if (s->opts.cgroups_subtree != NULL)
        snprintf(subtree, sizeof(subtree), "%s", s->opts.cgroups_subtree);
    else
        snprintf(subtree, sizeof(subtree), "mesos-agent-%u", s->opts.http_port);
    cgroups_options_t co = {
        .root = s->opts.cgroups_root,
        .subtree = subtree,
        .cpu = iso.cgroups_cpu,
        .mem = iso.cgroups_mem,
        .cfs_quota = s->opts.cgroups_enable_cfs,
    };
    if (cgroups_open(&co, &s->cgroups, err, err_len) != 0)
        return ACTOR_EINVAL;
    return ACTOR_OK;
}

actor_err_t agent_start(const agent_options_t *opts, actor_pid_t *pid, char *err, size_t err_len)
{
    char master[256];
    if (agent_master_pid(opts->master, master, sizeof(master), err, err_len) != ACTOR_OK)
        return ACTOR_EINVAL;
    if (opts->work_dir == NULL || *opts->work_dir == '\0') {
        snprintf(err, err_len, "--work_dir is required");
        return ACTOR_EINVAL;
    }
    if (!opts->simulated && opts->launcher_dir == NULL) {
        snprintf(err, err_len, "--launcher_dir is required (where mesos-executor is)");
        return ACTOR_EINVAL;
    }
    int rc = agent_make_dirs(opts->work_dir);
    if (rc == 0 && access(opts->work_dir, W_OK) != 0)
        rc = errno;
    if (rc != 0) {
        snprintf(err, err_len, "Failed to create --work_dir '%s': %s", opts->work_dir,
                 strerror(rc));
        return ACTOR_EINVAL;
    }
    start_arg_t *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return ACTOR_ENOMEM;
    copy_options(&s->opts, opts);
    resources_init(&s->total);
    if (s->opts.resources == NULL)
        s->opts.resources = agent_detect_resources(s->opts.work_dir);
    actor_pid_parse(master, &s->master);
    actor_err_t aerr = build_info(s, err, err_len);
    if (aerr == ACTOR_OK)
        aerr = open_isolation(s, err, err_len);
    if (aerr == ACTOR_OK)
        aerr = agent_checkpoint_open(s->opts.work_dir, s->opts.simulated, &s->store, err, err_len);
    if (aerr == ACTOR_OK)
        aerr = files_spawn(&s->files);
    if (aerr == ACTOR_OK) {
        gc_options_t go;
        gc_options_init(&go);
        go.gc_delay_ns = s->opts.gc_delay_ns;
        go.gc_disk_headroom = s->opts.gc_disk_headroom;
        go.disk_watch_interval_ns = s->opts.disk_watch_interval_ns;
        go.work_dir = s->opts.work_dir;
        go.metrics = metrics_registry_default();
        aerr = gc_spawn(&go, &s->gc);
        if (aerr == ACTOR_OK) {
            aerr = actor_spawn(&agent_ops, s->opts.id, s, pid);
            if (aerr != ACTOR_OK)
                actor_terminate(&s->gc);
        }
    }
    if (aerr != ACTOR_OK) {
        if (err[0] == '\0')
            snprintf(err, err_len, "%s", actor_strerror(aerr));
        if (s->cgroups != NULL)
            cgroups_close(s->cgroups);
        store_close(s->store);
        if (s->info != NULL)
            mesos__agent_info__free_unpacked(s->info, NULL);
        resources_fini(&s->total);
        free_options(&s->opts);
        free(s);
    }
    return aerr;
}

void agent_stop(const actor_pid_t *pid)
{
    actor_terminate(pid);
    actor_wait(pid);
}
