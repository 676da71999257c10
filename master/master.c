/*
 * master.c: the master actor itself: its start (registry recovery, the allocator and registrar
 * beside it), its message table, link exits, and its end.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actor/log.h"
#include "actor/pbcopy.h"
#include "actor/uuid.h"
#include "master/master_int.h"
#include "master/registrar/registrar.h"

/* What master_start hands to the actor's init. */
typedef struct master_start_arg {
    master_options_t opts;
    char *id;
    Mesos__MasterInfo *info;
    actor_pid_t allocator, registrar;
    Mesos__Internal__Registry__Registry *previous;
} master_start_arg_t;

void master_options_init(master_options_t *opts)
{
    memset(opts, 0, sizeof(*opts));
    opts->http_port = 5050;
    opts->registry = "replicated_log";
    opts->agent_ping_timeout_ns = 15 * ACTOR_NS_PER_SEC;
    opts->max_agent_ping_timeouts = 5;
    opts->allocation_interval_ns = ACTOR_NS_PER_SEC;
    opts->agent_reregister_timeout_ns = 600 * ACTOR_NS_PER_SEC;
    opts->max_completed_frameworks = 50;
    opts->max_completed_tasks_per_framework = 1000;
    opts->max_unreachable_tasks_per_framework = 1000;
    opts->heartbeat_interval_seconds = 15;
}

double master_now(void)
{
    return (double)actor_clock_wall() / (double)ACTOR_NS_PER_SEC;
}

/* ---- the actor ---- */

static void heartbeat_tick(actor_t *self, void *state, void *arg)
{
    (void)arg;
    if (self == NULL)
        return;
    master_t *m = state;
    Mesos__Scheduler__Event ev = MESOS__SCHEDULER__EVENT__INIT;
    ev.has_type = true;
    ev.type = MESOS__SCHEDULER__EVENT__TYPE__HEARTBEAT;
    for (master_framework_t *fw = m->frameworks; fw != NULL; fw = fw->hh.next) {
        if (fw->connected)
            master_send_event(self, fw, &ev);
    }
    m->heartbeat_timer =
        actor_delay(self, (int64_t)(m->opts.heartbeat_interval_seconds * (double)ACTOR_NS_PER_SEC),
                    heartbeat_tick, NULL);
}

static void recover_weights(master_t *m, const Mesos__Internal__Registry__Registry *reg)
{
    for (size_t i = 0; i < reg->n_weights; i++) {
        const Mesos__WeightInfo *w = reg->weights[i]->info;
        if (w == NULL || w->role == NULL)
            continue;
        master_weight_t *entry = calloc(1, sizeof(*entry));
        if (entry == NULL || (entry->role = strdup(w->role)) == NULL) {
            free(entry);
            continue;
        }
        entry->weight = w->weight;
        HASH_ADD_KEYPTR(hh, m->weights, entry->role, strlen(entry->role), entry);
        allocator_actor_update_weight(&m->allocator, entry->role, entry->weight);
    }
}

static void recover_mark(master_agent_mark_t **table, const Mesos__AgentID *id,
                         const Mesos__TimeInfo *time)
{
    master_mark_add(table, id->value, (double)time->nanoseconds / 1e9);
}

/* Rebuilds what the registry knows: agents to wait for, unreachable and gone agents, weights. */
static void recover_registry(master_t *m, const Mesos__Internal__Registry__Registry *reg)
{
    if (reg == NULL)
        return;
    if (reg->agents != NULL) {
        for (size_t i = 0; i < reg->agents->n_agents; i++) {
            Mesos__AgentInfo *info = reg->agents->agents[i]->info;
            if (info == NULL || info->id == NULL)
                continue;
            master_agent_mark_t *mark =
                master_mark_add(&m->recovered, info->id->value, master_now());
            if (mark != NULL)
                mark->info = PB_COPY(Mesos__AgentInfo, info);
        }
    }
    if (reg->unreachable != NULL) {
        for (size_t i = 0; i < reg->unreachable->n_agents; i++) {
            Mesos__Internal__Registry__Registry__UnreachableAgent *u = reg->unreachable->agents[i];
            recover_mark(&m->unreachable, u->id, u->timestamp);
        }
    }
    if (reg->gone != NULL) {
        for (size_t i = 0; i < reg->gone->n_agents; i++) {
            Mesos__Internal__Registry__Registry__GoneAgent *g = reg->gone->agents[i];
            recover_mark(&m->gone, g->id, g->timestamp);
        }
    }
    recover_weights(m, reg);
}

static void master_init(actor_t *self, void *state, void *arg)
{
    master_t *m = state;
    master_start_arg_t *start = arg;
    m->opts = start->opts;
    m->id = start->id;
    m->info = start->info;
    m->allocator = start->allocator;
    m->registrar = start->registrar;
    m->self = *actor_self(self);
    /* master_start took the reference, so that its caller may drop its own at once. */
    m->flags = start->opts.flags != NULL ? start->opts.flags : json_object();
    m->opts.flags = NULL;
    m->start_time = m->elected_time = master_now();
    recover_registry(m, start->previous);
    if (start->previous != NULL)
        mesos__internal__registry__registry__free_unpacked(start->previous, NULL);
    free(start);

    if (actor_http_install(self, master_routes, master_route_count) != ACTOR_OK)
        LOG_ERROR("cannot install the master's HTTP routes");
    master_metrics_register(self, m);
    master_agents_start_pings(self, m);
    master_agents_recover(self, m);
    heartbeat_tick(self, m, NULL);
    LOG_INFO("Master %s started; %u agents to wait for from the registry", m->id,
             HASH_COUNT(m->recovered));
}

static void free_offers(master_t *m)
{
    master_offer_t *offer, *tmp;
    HASH_ITER(hh, m->offers, offer, tmp)
    {
        HASH_DEL(m->offers, offer);
        master_offer_free(offer);
    }
}

static void master_fini(actor_t *self, void *state)
{
    (void)self;
    master_t *m = state;
    master_subscribers_close(m);
    master_metrics_unregister(m);
    actor_timer_cancel(m->ping_timer);
    actor_timer_cancel(m->heartbeat_timer);
    actor_timer_cancel(m->recovery_timer);
    free_offers(m);
    master_framework_t *fw, *ftmp;
    HASH_ITER(hh, m->frameworks, fw, ftmp)
    {
        HASH_DEL(m->frameworks, fw);
        master_framework_cancel_failover(fw);
        master_framework_free(fw);
    }
    while (m->completed_frameworks.head != NULL) {
        fw = m->completed_frameworks.head;
        m->completed_frameworks.head = fw->ring_next;
        master_framework_free(fw);
    }
    master_agent_t *agent, *atmp;
    HASH_CLEAR(hh_pid, m->agents_by_pid);
    HASH_ITER(hh, m->agents, agent, atmp)
    {
        HASH_DEL(m->agents, agent);
        master_agent_free(agent);
    }
    master_marks_free(&m->unreachable);
    master_marks_free(&m->gone);
    master_marks_free(&m->recovered);
    master_pending_agent_t *p, *ptmp;
    HASH_ITER(hh, m->pending, p, ptmp)
    {
        HASH_DEL(m->pending, p);
        free(p->key);
        free(p);
    }
    master_weight_t *w, *wtmp;
    HASH_ITER(hh, m->weights, w, wtmp)
    {
        HASH_DEL(m->weights, w);
        free(w->role);
        free(w);
    }
    json_decref(m->flags);
    if (m->info != NULL)
        mesos__master_info__free_unpacked(m->info, NULL);
    free(m->id);
}

/* A linked framework scheduler or agent went away (its actor ended or its connection broke). */
static void master_exited(actor_t *self, void *state, const actor_pid_t *pid)
{
    master_t *m = state;
    for (master_framework_t *fw = m->frameworks; fw != NULL; fw = fw->hh.next) {
        if (fw->connected && actor_pid_equal(&fw->pid, pid)) {
            master_framework_disconnected(self, m, fw);
            return;
        }
    }
    master_agent_t *agent = master_agent_find_pid(m, pid);
    if (agent != NULL && agent->connected)
        master_agent_disconnected(self, m, agent);
}

static const actor_handler_t master_handlers[] = {
    {&mesos__scheduler__call__descriptor, master_handle_call},
    {&mesos__internal__register_agent_message__descriptor, master_handle_register_agent},
    {&mesos__internal__reregister_agent_message__descriptor, master_handle_reregister_agent},
    {&mesos__internal__unregister_agent_message__descriptor, master_handle_unregister_agent},
    {&mesos__internal__pong_agent_message__descriptor, master_handle_pong},
    {&mesos__internal__status_update_message__descriptor, master_handle_status_update},
    {&mesos__internal__exited_executor_message__descriptor, master_handle_exited_executor},
    {&mesos__internal__executor_to_framework_message__descriptor, master_handle_executor_message},
};

static const actor_ops_t master_ops = {
    .name = "master",
    .state_size = sizeof(master_t),
    .init = master_init,
    .fini = master_fini,
    .exited = master_exited,
    .handlers = master_handlers,
    .handler_count = sizeof(master_handlers) / sizeof(master_handlers[0]),
};

/* ---- start and stop ---- */

static Mesos__MasterInfo *make_info(const master_options_t *opts, const char *id,
                                    const actor_pid_t *pid)
{
    Mesos__MasterInfo info = MESOS__MASTER_INFO__INIT;
    char pid_text[ACTOR_PID_STRLEN], ip_text[INET_ADDRSTRLEN];
    struct in_addr addr = {.s_addr = htonl(pid->ip)};
    inet_ntop(AF_INET, &addr, ip_text, sizeof(ip_text));
    if (opts->ip != NULL && inet_pton(AF_INET, opts->ip, &addr) == 1)
        snprintf(ip_text, sizeof(ip_text), "%s", opts->ip);
    info.id = (char *)id;
    info.ip = addr.s_addr; /* network byte order, as Mesos stores it */
    info.port = opts->http_port;
    info.pid = actor_pid_format(pid, pid_text, sizeof(pid_text));
    info.hostname = (char *)(opts->hostname != NULL ? opts->hostname : ip_text);
    info.version = MESOS_VERSION;
    Mesos__Address address = MESOS__ADDRESS__INIT;
    address.hostname = info.hostname;
    address.ip = ip_text;
    address.port = opts->http_port;
    info.address = &address;
    return PB_COPY(Mesos__MasterInfo, &info);
}

actor_err_t master_start(const master_options_t *opts, master_pids_t *pids)
{
    const char *id = opts->id != NULL ? opts->id : "master";
    uint32_t ip;
    uint16_t port;
    actor_runtime_address(&ip, &port);
    actor_pid_t self;
    actor_err_t err = actor_pid_make(&self, id, ip, port);
    if (err != ACTOR_OK)
        return err;

    master_start_arg_t *start = calloc(1, sizeof(*start));
    if (start == NULL)
        return ACTOR_ENOMEM;
    start->opts = *opts;
    json_incref(start->opts.flags); /* NULL is allowed */
    char master_id[ACTOR_UUID_TEXT_LEN];
    actor_uuid_text(master_id); /* Mesos names masters by a random UUID */
    start->id = strdup(master_id);
    start->info = start->id != NULL ? make_info(opts, start->id, &self) : NULL;
    if (start->info == NULL) {
        err = ACTOR_ENOMEM;
        goto fail;
    }

    store_t *store = NULL;
    store_options_t sopts = {.map_size = opts->registry_map_size};
    err = registrar_recover(opts->registry, opts->work_dir, &sopts, start->info, &store,
                            &start->previous);
    if (err != ACTOR_OK)
        goto fail;
    registrar_options_t ropts = {.store = store, .failed = opts->registry_failed};
    if ((err = registrar_spawn(&ropts, &start->registrar)) != ACTOR_OK) {
        store_close(store);
        goto fail;
    }
    allocator_actor_options_t aopts = {
        .master = self,
        .offer = master_offer_grants,
        .interval = (double)opts->allocation_interval_ns / (double)ACTOR_NS_PER_SEC,
    };
    if ((err = allocator_actor_spawn(&aopts, &start->allocator)) != ACTOR_OK) {
        actor_terminate(&start->registrar);
        goto fail;
    }
    pids->allocator = start->allocator;
    pids->registrar = start->registrar;
    if ((err = actor_spawn(&master_ops, id, start, &pids->master)) != ACTOR_OK) {
        actor_terminate(&pids->registrar);
        actor_terminate(&pids->allocator);
        goto fail; /* init never ran: start is still ours */
    }
    return ACTOR_OK;

fail:
    json_decref(start->opts.flags);
    if (start->previous != NULL)
        mesos__internal__registry__registry__free_unpacked(start->previous, NULL);
    if (start->info != NULL)
        mesos__master_info__free_unpacked(start->info, NULL);
    free(start->id);
    free(start);
    return err;
}

void master_stop(const master_pids_t *pids)
{
    actor_terminate(&pids->master);
    actor_wait(&pids->master);
    actor_terminate(&pids->allocator);
    actor_wait(&pids->allocator);
    actor_terminate(&pids->registrar);
    actor_wait(&pids->registrar);
}
