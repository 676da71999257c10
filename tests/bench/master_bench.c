/*
 * master-bench: the master's resident memory per agent and per task.
 *
 * One process holds the runtime (no workers: the main thread runs every actor inside
 * actor_settle, with the clock paused), a master with the in-memory registry, and fake actors
 * that speak the master's real protocol: N agents of `cpus:24;mem:4096;disk:4096;ports:[31000-
 * 32000]` that register, run what they are sent (answering each RunTask with a TASK_RUNNING
 * status update) and take acknowledgements; and F schedulers that subscribe, hold the offers of
 * the first allocation, and accept them in rounds of --batch offers (as a framework paces its
 * launches), each with one LAUNCH of M/N tasks of `cpus:0.1;mem:32` and one port running a shell
 * command, then acknowledge every update. Offers of agents that already run tasks are declined
 * with a long filter. So M tasks end up RUNNING and acknowledged, with no offer outstanding, as
 * in a steady cluster.
 *
 * Resident memory (VmRSS of /proc/self/status) is measured after the fake actors are spawned
 * and before the master starts, after the agents registered, and after the tasks run; before
 * each measure the runtime is settled and freed heap is handed back to the system
 * (malloc_trim), so that freed memory does not count. The bytes malloc has in use (mallinfo2)
 * are printed too, and, as a cross-check, the heap that stopping the master frees. The fake
 * actors' state is allocated before the first measure and does not grow, so the differences are
 * the master's (with its allocator and registrar, and the runtime's caches).
 *
 * Usage: master-bench [--agents=N] [--tasks=M] [--frameworks=F] [--batch=B]
 * Defaults: 10000 agents, 100000 tasks, 4 frameworks, 1000 offers per round. One JSON line per
 * figure, as allocator-bench prints them.
 */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "actor/actor.h"
#include "actor/clock.h"
#include "actor/flags.h"
#include "actor/log.h"
#include "internal.pb-c.h"
#include "master/master.h"
#include "resources/resources.h"
#include "scheduler.pb-c.h"

#define AGENT_RESOURCES "cpus:24;mem:4096;disk:4096;ports:[31000-32000]"
#define TASK_CPUS       0.1
#define TASK_MEM        32.0
#define PORT_FIRST      31000

typedef struct config {
    long agents;
    long tasks;
    long frameworks;
    long batch; /* offers accepted per allocation round */
} config_t;

static config_t cfg;

/* What the fake schedulers share: the tasks still to launch, and the offers seen. */
typedef struct plan {
    long to_launch;
    long per_agent; /* tasks per offer (one offer per agent) */
    long budget;    /* offers that may still be accepted this round */
    long launched, acknowledged, offers;
} plan_t;

typedef struct fake_agent {
    actor_pid_t pid;
    char id[96];
    uint64_t updates; /* status updates sent: their uuids */
} fake_agent_t;

/* An offer a scheduler holds until a round lets it launch. */
typedef struct held_offer {
    char offer_id[128];
    char agent_id[96];
} held_offer_t;

typedef struct fake_sched {
    actor_pid_t pid;
    actor_pid_t master;
    plan_t *plan;
    int index;
    char id[96];
    long next_task;
    held_offer_t *held; /* room for every agent */
    long held_count;
} fake_sched_t;

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void die(const char *what, actor_err_t rc)
{
    fprintf(stderr, "master-bench: %s: %s\n", what, actor_strerror(rc));
    exit(1);
}

static void emit(const char *metric, double value, const char *unit)
{
    printf("{\"bench\":\"master\",\"metric\":\"%s\",\"value\":%.1f,\"unit\":\"%s\","
           "\"agents\":%ld,\"tasks\":%ld,\"frameworks\":%ld,\"batch\":%ld,"
           "\"measure\":\"VmRSS and mallinfo2 after settling and malloc_trim\"}\n",
           metric, value, unit, cfg.agents, cfg.tasks, cfg.frameworks, cfg.batch);
    fflush(stdout);
}

typedef struct sample {
    double rss;  /* bytes resident */
    double heap; /* bytes malloc'd and in use */
} sample_t;

static sample_t measure(void)
{
    actor_settle();
    malloc_trim(0);
    sample_t s = {0, 0};
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
        long kb;
        if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
            s.rss = (double)kb * 1024.0;
    }
    if (f != NULL)
        fclose(f);
    struct mallinfo2 mi = mallinfo2();
    s.heap = (double)mi.uordblks + (double)mi.hblkhd;
    return s;
}

/* ---- fake agents ---- */

static void agent_on_registered(actor_t *self, void *state, const actor_pid_t *from,
                                const ProtobufCMessage *msg)
{
    (void)self, (void)from;
    fake_agent_t *a = *(fake_agent_t **)state;
    const Mesos__Internal__AgentRegisteredMessage *reg =
        (const Mesos__Internal__AgentRegisteredMessage *)msg;
    snprintf(a->id, sizeof(a->id), "%s", reg->agent_id->value);
}

/* A RunTask: the task starts at once. */
static void agent_on_run_task(actor_t *self, void *state, const actor_pid_t *from,
                              const ProtobufCMessage *msg)
{
    fake_agent_t *a = *(fake_agent_t **)state;
    const Mesos__Internal__RunTaskMessage *run = (const Mesos__Internal__RunTaskMessage *)msg;
    Mesos__AgentID aid = MESOS__AGENT_ID__INIT;
    aid.value = a->id;
    uint8_t uuid[16] = {0};
    a->updates++;
    memcpy(uuid, &a->updates, sizeof(a->updates));
    memcpy(uuid + 8, &a, sizeof(a));
    Mesos__TaskStatus status = MESOS__TASK_STATUS__INIT;
    status.task_id = run->task->task_id;
    status.state = MESOS__TASK_STATE__TASK_RUNNING;
    status.agent_id = &aid;
    status.has_source = true;
    status.source = MESOS__TASK_STATUS__SOURCE__SOURCE_EXECUTOR;
    status.has_timestamp = true;
    status.timestamp = (double)actor_clock_wall() / 1e9;
    status.has_uuid = true;
    status.uuid.data = uuid;
    status.uuid.len = sizeof(uuid);
    Mesos__Internal__StatusUpdate update = MESOS__INTERNAL__STATUS_UPDATE__INIT;
    update.framework_id = run->framework_id;
    update.agent_id = &aid;
    update.status = &status;
    update.timestamp = status.timestamp;
    update.has_uuid = true;
    update.uuid = status.uuid;
    Mesos__Internal__StatusUpdateMessage out = MESOS__INTERNAL__STATUS_UPDATE_MESSAGE__INIT;
    out.update = &update;
    actor_send(self, from, &out.base);
}

static void agent_on_other(actor_t *self, void *state, const actor_pid_t *from,
                           const ProtobufCMessage *msg)
{
    (void)state;
    if (msg->descriptor == &mesos__internal__ping_agent_message__descriptor) {
        Mesos__Internal__PongAgentMessage pong = MESOS__INTERNAL__PONG_AGENT_MESSAGE__INIT;
        actor_send(self, from, &pong.base);
    }
}

static void fake_init(actor_t *self, void *state, void *arg)
{
    (void)self;
    *(void **)state = arg;
}

static const actor_handler_t agent_handlers[] = {
    {&mesos__internal__agent_registered_message__descriptor, agent_on_registered},
    {&mesos__internal__run_task_message__descriptor, agent_on_run_task},
    {&mesos__internal__ping_agent_message__descriptor, agent_on_other},
    {&mesos__internal__status_update_acknowledgement_message__descriptor, agent_on_other},
};

static const actor_ops_t agent_ops = {.name = "slave",
                                      .state_size = sizeof(void *),
                                      .init = fake_init,
                                      .handlers = agent_handlers,
                                      .handler_count =
                                          sizeof(agent_handlers) / sizeof(agent_handlers[0])};

/* Runs inside the agent: its registration. */
static void agent_register(actor_t *self, void *state, void *arg)
{
    (void)state;
    if (self == NULL)
        return;
    const actor_pid_t *master = arg;
    resources_t total;
    char err[256];
    if (resources_parse(&total, AGENT_RESOURCES, NULL, err, sizeof(err)) != ACTOR_OK)
        die(err, ACTOR_EINVAL);
    Mesos__AgentInfo info = MESOS__AGENT_INFO__INIT;
    char hostname[ACTOR_ID_MAX + 16];
    snprintf(hostname, sizeof(hostname), "agent-%s.bench", actor_self(self)->id);
    info.hostname = hostname;
    if (resources_to_proto(&total, &info.resources, &info.n_resources) != ACTOR_OK)
        die("resources", ACTOR_ENOMEM);
    Mesos__Internal__RegisterAgentMessage reg = MESOS__INTERNAL__REGISTER_AGENT_MESSAGE__INIT;
    reg.agent = &info;
    reg.version = MESOS_VERSION;
    actor_send(self, master, &reg.base);
    resources_proto_free(info.resources, info.n_resources);
    resources_fini(&total);
}

/* ---- fake schedulers ---- */

static void sched_call(actor_t *self, fake_sched_t *s, Mesos__Scheduler__Call *call)
{
    Mesos__FrameworkID fid = MESOS__FRAMEWORK_ID__INIT;
    fid.value = s->id;
    call->framework_id = &fid;
    call->has_type = true;
    actor_send(self, &s->master, &call->base);
}

static void decline(actor_t *self, fake_sched_t *s, const char *offer_id, double refuse_seconds)
{
    Mesos__OfferID oid = MESOS__OFFER_ID__INIT;
    oid.value = (char *)offer_id;
    Mesos__OfferID *id = &oid;
    Mesos__Filters filters = MESOS__FILTERS__INIT;
    filters.has_refuse_seconds = true;
    filters.refuse_seconds = refuse_seconds;
    Mesos__Scheduler__Call__Decline d = MESOS__SCHEDULER__CALL__DECLINE__INIT;
    d.offer_ids = &id;
    d.n_offer_ids = 1;
    d.filters = &filters;
    Mesos__Scheduler__Call call = MESOS__SCHEDULER__CALL__INIT;
    call.type = MESOS__SCHEDULER__CALL__TYPE__DECLINE;
    call.decline = &d;
    sched_call(self, s, &call);
}

/* The resources of the k-th task on an agent: a tenth of a cpu, 32 MB and port 31000 + k. */
static void task_resources(long k, Mesos__Resource ***out, size_t *n)
{
    char text[128];
    snprintf(text, sizeof(text), "cpus:%.1f;mem:%.0f;ports:[%ld-%ld]", TASK_CPUS, TASK_MEM,
             PORT_FIRST + k, PORT_FIRST + k);
    resources_t r;
    char err[256];
    if (resources_parse(&r, text, NULL, err, sizeof(err)) != ACTOR_OK)
        die(err, ACTOR_EINVAL);
    if (resources_to_proto(&r, out, n) != ACTOR_OK)
        die("resources", ACTOR_ENOMEM);
    resources_fini(&r);
}

/* Launches `count` tasks on the offer with one ACCEPT. */
static void launch(actor_t *self, fake_sched_t *s, const held_offer_t *offer, long count)
{
    Mesos__AgentID aid = MESOS__AGENT_ID__INIT;
    aid.value = (char *)offer->agent_id;
    Mesos__OfferID oid = MESOS__OFFER_ID__INIT;
    oid.value = (char *)offer->offer_id;
    Mesos__TaskInfo *tasks = calloc((size_t)count, sizeof(*tasks));
    Mesos__TaskInfo **ptrs = calloc((size_t)count, sizeof(*ptrs));
    Mesos__TaskID *tids = calloc((size_t)count, sizeof(*tids));
    char(*names)[48] = calloc((size_t)count, sizeof(*names));
    if (tasks == NULL || ptrs == NULL || tids == NULL || names == NULL)
        die("launch", ACTOR_ENOMEM);
    Mesos__CommandInfo cmd = MESOS__COMMAND_INFO__INIT;
    cmd.value = "sleep 100000";
    for (long k = 0; k < count; k++) {
        snprintf(names[k], sizeof(names[k]), "app-%d.task-%06ld", s->index, s->next_task++);
        mesos__task_id__init(&tids[k]);
        tids[k].value = names[k];
        mesos__task_info__init(&tasks[k]);
        tasks[k].name = names[k];
        tasks[k].task_id = &tids[k];
        tasks[k].agent_id = &aid;
        tasks[k].command = &cmd;
        task_resources(k, &tasks[k].resources, &tasks[k].n_resources);
        ptrs[k] = &tasks[k];
    }
    Mesos__Offer__Operation__Launch l = MESOS__OFFER__OPERATION__LAUNCH__INIT;
    l.task_infos = ptrs;
    l.n_task_infos = (size_t)count;
    Mesos__Offer__Operation op = MESOS__OFFER__OPERATION__INIT;
    op.has_type = true;
    op.type = MESOS__OFFER__OPERATION__TYPE__LAUNCH;
    op.launch = &l;
    Mesos__Offer__Operation *ops[] = {&op};
    Mesos__OfferID *ids[] = {&oid};
    Mesos__Filters filters = MESOS__FILTERS__INIT;
    filters.has_refuse_seconds = true;
    filters.refuse_seconds = 86400; /* what is left of the agent is not wanted */
    Mesos__Scheduler__Call__Accept accept = MESOS__SCHEDULER__CALL__ACCEPT__INIT;
    accept.offer_ids = ids;
    accept.n_offer_ids = 1;
    accept.operations = ops;
    accept.n_operations = 1;
    accept.filters = &filters;
    Mesos__Scheduler__Call call = MESOS__SCHEDULER__CALL__INIT;
    call.type = MESOS__SCHEDULER__CALL__TYPE__ACCEPT;
    call.accept = &accept;
    sched_call(self, s, &call);
    for (long k = 0; k < count; k++)
        resources_proto_free(tasks[k].resources, tasks[k].n_resources);
    free(tasks);
    free(ptrs);
    free(tids);
    free(names);
}

/* Whether the offer still holds the first port: the agent runs none of our tasks yet. */
static bool fresh_agent(const Mesos__Offer *offer)
{
    for (size_t i = 0; i < offer->n_resources; i++) {
        const Mesos__Resource *r = offer->resources[i];
        if (strcmp(r->name, "ports") != 0 || r->ranges == NULL)
            continue;
        for (size_t k = 0; k < r->ranges->n_range; k++) {
            if (r->ranges->range[k]->begin <= PORT_FIRST && PORT_FIRST <= r->ranges->range[k]->end)
                return true;
        }
    }
    return false;
}

/* Offers of fresh agents are held for the rounds; the others are declined for good. */
static void sched_on_offers(actor_t *self, fake_sched_t *s, const Mesos__Scheduler__Event *ev)
{
    for (size_t i = 0; i < ev->offers->n_offers; i++) {
        const Mesos__Offer *offer = ev->offers->offers[i];
        s->plan->offers++;
        if (!fresh_agent(offer) || s->held_count == cfg.agents) {
            decline(self, s, offer->id->value, 86400);
            continue;
        }
        held_offer_t *h = &s->held[s->held_count++];
        snprintf(h->offer_id, sizeof(h->offer_id), "%s", offer->id->value);
        snprintf(h->agent_id, sizeof(h->agent_id), "%s", offer->agent_id->value);
    }
}

/* Runs inside a scheduler once per round: launches on held offers while the round's budget
 * lasts, and declines what is held once every task is launched. */
static void sched_round(actor_t *self, void *state, void *arg)
{
    (void)arg;
    if (self == NULL)
        return;
    fake_sched_t *s = *(fake_sched_t **)state;
    plan_t *plan = s->plan;
    while (s->held_count > 0 && (plan->budget > 0 || plan->to_launch == 0)) {
        const held_offer_t *h = &s->held[--s->held_count];
        long count = plan->to_launch < plan->per_agent ? plan->to_launch : plan->per_agent;
        if (count == 0) {
            decline(self, s, h->offer_id, 86400);
            continue;
        }
        plan->budget--;
        plan->to_launch -= count;
        plan->launched += count;
        launch(self, s, h, count);
    }
}

static void sched_on_update(actor_t *self, fake_sched_t *s, const Mesos__Scheduler__Event *ev)
{
    const Mesos__TaskStatus *status = ev->update->status;
    if (!status->has_uuid)
        return;
    Mesos__Scheduler__Call__Acknowledge ack = MESOS__SCHEDULER__CALL__ACKNOWLEDGE__INIT;
    ack.agent_id = status->agent_id;
    ack.task_id = status->task_id;
    ack.uuid = status->uuid;
    Mesos__Scheduler__Call call = MESOS__SCHEDULER__CALL__INIT;
    call.type = MESOS__SCHEDULER__CALL__TYPE__ACKNOWLEDGE;
    call.acknowledge = &ack;
    sched_call(self, s, &call);
    s->plan->acknowledged++;
}

static void sched_on_event(actor_t *self, void *state, const actor_pid_t *from,
                           const ProtobufCMessage *msg)
{
    (void)from;
    fake_sched_t *s = *(fake_sched_t **)state;
    const Mesos__Scheduler__Event *ev = (const Mesos__Scheduler__Event *)msg;
    switch (ev->type) {
    case MESOS__SCHEDULER__EVENT__TYPE__SUBSCRIBED:
        snprintf(s->id, sizeof(s->id), "%s", ev->subscribed->framework_id->value);
        break;
    case MESOS__SCHEDULER__EVENT__TYPE__OFFERS:
        sched_on_offers(self, s, ev);
        break;
    case MESOS__SCHEDULER__EVENT__TYPE__UPDATE:
        sched_on_update(self, s, ev);
        break;
    case MESOS__SCHEDULER__EVENT__TYPE__ERROR:
        fprintf(stderr, "master-bench: framework error: %s\n", ev->error->message);
        exit(1);
    default:
        break;
    }
}

static const actor_handler_t sched_handlers[] = {
    {&mesos__scheduler__event__descriptor, sched_on_event},
};

static const actor_ops_t sched_ops = {.name = "sched",
                                      .state_size = sizeof(void *),
                                      .init = fake_init,
                                      .handlers = sched_handlers,
                                      .handler_count = 1};

/* Runs inside the scheduler: its SUBSCRIBE. */
static void sched_subscribe(actor_t *self, void *state, void *arg)
{
    (void)arg;
    if (self == NULL)
        return;
    fake_sched_t *s = *(fake_sched_t **)state;
    char name[32];
    snprintf(name, sizeof(name), "app-%d", s->index);
    Mesos__FrameworkInfo info = MESOS__FRAMEWORK_INFO__INIT;
    info.user = "bench";
    info.name = name;
    info.has_failover_timeout = true;
    info.failover_timeout = 604800;
    info.has_checkpoint = true;
    info.checkpoint = true;
    Mesos__Scheduler__Call__Subscribe sub = MESOS__SCHEDULER__CALL__SUBSCRIBE__INIT;
    sub.framework_info = &info;
    Mesos__Scheduler__Call call = MESOS__SCHEDULER__CALL__INIT;
    call.has_type = true;
    call.type = MESOS__SCHEDULER__CALL__TYPE__SUBSCRIBE;
    call.subscribe = &sub;
    actor_send(self, &s->master, &call.base);
}

/* ---- the run ---- */

/* Parses the flags into cfg; exits on a bad one (2) or after --help (0). */
static void parse_flags(int argc, char **argv)
{
    uint64_t agents, tasks, frameworks, batch;
    flags_flag_t table[] = {
        FLAGS_UINT("agents", &agents, "10000", "Fake agents that register"),
        FLAGS_UINT("tasks", &tasks, "100000", "Tasks launched across the agents"),
        FLAGS_UINT("frameworks", &frameworks, "4", "Fake schedulers launching them"),
        FLAGS_UINT("batch", &batch, "1000", "Offers accepted per launch round"),
        FLAGS_END,
    };
    flags_result_t result;
    int rc = -1;
    if (flags_parse(table, argc, argv, NULL, &result) != ACTOR_OK) {
        fprintf(stderr, "master-bench: %s\n", result.error);
        rc = 2;
    } else if (result.help) {
        flags_usage_write(table, "master-bench", stdout);
        rc = 0;
    } else if (agents == 0 || tasks == 0 || frameworks == 0 || batch == 0 || agents > 1000000 ||
               tasks > 100000000 || frameworks > 1000) {
        fprintf(stderr, "master-bench: every count must be positive (and sane)\n");
        rc = 2;
    }
    flags_free(table);
    if (rc >= 0)
        exit(rc);
    cfg = (config_t){(long)agents, (long)tasks, (long)frameworks, (long)batch};
}

static void start_runtime(void)
{
    log_min_level = LOG_LEVEL_WARNING;
    actor_runtime_options_t opts;
    actor_runtime_options_init(&opts);
    opts.workers = 0;
    opts.port = -1;
    actor_err_t rc = actor_runtime_start(&opts);
    if (rc != ACTOR_OK)
        die("runtime", rc);
    actor_clock_pause();
}

static master_pids_t start_master(void)
{
    master_options_t mo;
    master_options_init(&mo);
    mo.registry = "in_memory";
    mo.hostname = "master.bench";
    master_pids_t pids;
    actor_err_t rc = master_start(&mo, &pids);
    if (rc != ACTOR_OK)
        die("master", rc);
    actor_settle();
    return pids;
}

static void emit_rss(const char *stage, sample_t s)
{
    char metric[64];
    snprintf(metric, sizeof(metric), "rss_%s_mb", stage);
    emit(metric, s.rss / 1048576.0, "MiB");
}

static void emit_per(const char *what, sample_t before, sample_t after, long count)
{
    char metric[64];
    snprintf(metric, sizeof(metric), "rss_per_%s_bytes", what);
    emit(metric, (after.rss - before.rss) / (double)count, "bytes");
    snprintf(metric, sizeof(metric), "heap_per_%s_bytes", what);
    emit(metric, (after.heap - before.heap) / (double)count, "bytes");
}

/* The fake agents and schedulers, their state allocated for the whole run. */
static void spawn_fakes(fake_agent_t *agents, fake_sched_t *scheds, plan_t *plan)
{
    for (long i = 0; i < cfg.agents; i++) {
        if (actor_spawn(&agent_ops, NULL, &agents[i], &agents[i].pid) != ACTOR_OK)
            die("spawn agent", ACTOR_ENOMEM);
    }
    for (long i = 0; i < cfg.frameworks; i++) {
        scheds[i].plan = plan;
        scheds[i].index = (int)i;
        scheds[i].held = calloc((size_t)cfg.agents, sizeof(*scheds[i].held));
        if (scheds[i].held == NULL ||
            actor_spawn(&sched_ops, NULL, &scheds[i], &scheds[i].pid) != ACTOR_OK)
            die("spawn scheduler", ACTOR_ENOMEM);
    }
}

static void stop_fakes(fake_agent_t *agents, fake_sched_t *scheds)
{
    for (long i = 0; i < cfg.agents; i++)
        actor_terminate(&agents[i].pid);
    for (long i = 0; i < cfg.frameworks; i++)
        actor_terminate(&scheds[i].pid);
    actor_settle();
    for (long i = 0; i < cfg.frameworks; i++)
        free(scheds[i].held);
}

static void register_agents(fake_agent_t *agents, const master_pids_t *master)
{
    double t0 = now_ms();
    for (long i = 0; i < cfg.agents; i++)
        actor_dispatch(&agents[i].pid, agent_register, (void *)&master->master);
    actor_settle();
    emit("register_agents_ms", now_ms() - t0, "ms");
}

/* Subscribes the schedulers, lets the first allocation offer every agent, then launches in
 * rounds of cfg.batch offers (as a framework paces its launches) until every task runs and is
 * acknowledged; false if some never did. */
static bool launch_tasks(fake_sched_t *scheds, plan_t *plan, const master_pids_t *master)
{
    double t0 = now_ms();
    for (long i = 0; i < cfg.frameworks; i++) {
        scheds[i].master = master->master;
        actor_dispatch(&scheds[i].pid, sched_subscribe, NULL);
    }
    actor_settle();
    actor_clock_advance(ACTOR_NS_PER_SEC);
    actor_settle();
    long rounds = 0;
    for (; rounds < 10 + cfg.agents / cfg.batch * 2 && plan->acknowledged < cfg.tasks; rounds++) {
        plan->budget = cfg.batch;
        for (long i = 0; i < cfg.frameworks; i++)
            actor_dispatch(&scheds[i].pid, sched_round, NULL);
        actor_settle();
    }
    for (long i = 0; i < cfg.frameworks; i++) /* whatever is still held goes back */
        actor_dispatch(&scheds[i].pid, sched_round, NULL);
    actor_settle();
    emit("launch_tasks_ms", now_ms() - t0, "ms");
    emit("launch_rounds", (double)rounds, "rounds");
    if (plan->acknowledged < cfg.tasks)
        fprintf(stderr, "master-bench: only %ld of %ld tasks ran\n", plan->acknowledged, cfg.tasks);
    return plan->acknowledged == cfg.tasks;
}

int main(int argc, char **argv)
{
    parse_flags(argc, argv);
    plan_t plan = {.to_launch = cfg.tasks, .per_agent = (cfg.tasks + cfg.agents - 1) / cfg.agents};
    if (plan.per_agent * TASK_CPUS > 24 || plan.per_agent * TASK_MEM > 4096) {
        fprintf(stderr, "master-bench: %ld tasks do not fit on %ld agents\n", cfg.tasks,
                cfg.agents);
        return 2;
    }
    start_runtime();
    fake_agent_t *agents = calloc((size_t)cfg.agents, sizeof(*agents));
    fake_sched_t *scheds = calloc((size_t)cfg.frameworks, sizeof(*scheds));
    if (agents == NULL || scheds == NULL)
        die("fakes", ACTOR_ENOMEM);
    spawn_fakes(agents, scheds, &plan);
    sample_t before = measure();
    emit_rss("before_master", before);

    master_pids_t master = start_master();
    register_agents(agents, &master);
    sample_t with_agents = measure();
    emit_rss("after_agents", with_agents);
    emit_per("agent", before, with_agents, cfg.agents);

    int rc = 1;
    if (!launch_tasks(scheds, &plan, &master))
        goto out;
    sample_t with_tasks = measure();
    emit_rss("after_tasks", with_tasks);
    emit_per("task", with_agents, with_tasks, cfg.tasks);
    rc = 0;

    /* Cross-check: the heap that stopping the master, its allocator and registrar frees. */
    master_stop(&master);
    emit("heap_freed_by_master_stop_mb", (with_tasks.heap - measure().heap) / 1048576.0, "MiB");
out:
    if (rc != 0)
        master_stop(&master);
    stop_fakes(agents, scheds);
    actor_runtime_stop();
    free(agents);
    free(scheds);
    return rc;
}
