/*
 * offers.c: offers: the allocator's grants become offers (one OFFERS event per framework per
 * cycle); DECLINE with its filter; rescinding; ACCEPT with LAUNCH, validated as Mesos's
 * master/validation.cpp validates tasks.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <utlist.h>

#include "actor/log.h"
#include "master/master_int.h"

#define DEFAULT_REFUSE_SECONDS 5.0
#define MAX_REFUSE_SECONDS     (365 * 86400.0)

void master_offer_free(master_offer_t *offer)
{
    resources_fini(&offer->resources);
    free(offer->role);
    free(offer->id);
    free(offer);
}

/* Unlinks the offer from every table and frees it; its resources are the caller's business. */
static void offer_forget(master_t *m, master_offer_t *offer)
{
    HASH_DEL(m->offers, offer);
    DL_DELETE2(offer->framework->offers, offer, fw_prev, fw_next);
    DL_DELETE2(offer->agent->offers, offer, agent_prev, agent_next);
    resources_subtract(&offer->framework->offered, &offer->resources);
    resources_subtract(&offer->agent->offered, &offer->resources);
    master_offer_free(offer);
}

void master_offer_rescind(actor_t *self, master_t *m, master_offer_t *offer, bool tell)
{
    if (tell) {
        Mesos__OfferID oid = MESOS__OFFER_ID__INIT;
        oid.value = offer->id;
        Mesos__Scheduler__Event__Rescind rescind = MESOS__SCHEDULER__EVENT__RESCIND__INIT;
        rescind.offer_id = &oid;
        Mesos__Scheduler__Event ev = MESOS__SCHEDULER__EVENT__INIT;
        ev.has_type = true;
        ev.type = MESOS__SCHEDULER__EVENT__TYPE__RESCIND;
        ev.rescind = &rescind;
        master_send_event(self, offer->framework, &ev);
    }
    m->counters.offers_rescinded++;
    allocator_actor_recover(&m->allocator, offer->framework->id, offer->agent->id,
                            &offer->resources, 0);
    offer_forget(m, offer);
}

/* ---- grants -> offers ---- */

void master_offer_message(const master_offer_t *offer, Mesos__Offer *msg, Mesos__OfferID *oid,
                          Mesos__Resource__AllocationInfo *alloc)
{
    mesos__offer__init(msg);
    mesos__offer_id__init(oid);
    mesos__resource__allocation_info__init(alloc);
    oid->value = offer->id;
    alloc->role = offer->role;
    msg->id = oid;
    msg->framework_id = offer->framework->info->id;
    msg->agent_id = offer->agent->info->id;
    msg->hostname = offer->agent->info->hostname;
    msg->attributes = offer->agent->info->attributes;
    msg->n_attributes = offer->agent->info->n_attributes;
    msg->allocation_info = alloc;
    if (resources_to_proto(&offer->resources, &msg->resources, &msg->n_resources) == ACTOR_OK) {
        for (size_t i = 0; i < msg->n_resources; i++)
            msg->resources[i]->allocation_info = alloc;
    }
}

void master_offer_message_fini(Mesos__Offer *msg)
{
    for (size_t j = 0; j < msg->n_resources; j++)
        msg->resources[j]->allocation_info = NULL;
    resources_proto_free(msg->resources, msg->n_resources);
    msg->resources = NULL;
    msg->n_resources = 0;
}

/* Sends one OFFERS event with the count offers of list. */
static void send_offers(actor_t *self, master_framework_t *fw, master_offer_t **list, size_t count)
{
    if (count == 0)
        return;
    Mesos__Offer *msgs = calloc(count, sizeof(*msgs));
    Mesos__Offer **ptrs = calloc(count, sizeof(*ptrs));
    Mesos__OfferID *oids = calloc(count, sizeof(*oids));
    Mesos__Resource__AllocationInfo *allocs = calloc(count, sizeof(*allocs));
    if (msgs != NULL && ptrs != NULL && oids != NULL && allocs != NULL) {
        for (size_t i = 0; i < count; i++) {
            master_offer_message(list[i], &msgs[i], &oids[i], &allocs[i]);
            ptrs[i] = &msgs[i];
        }
        Mesos__Scheduler__Event__Offers offers = MESOS__SCHEDULER__EVENT__OFFERS__INIT;
        offers.offers = ptrs;
        offers.n_offers = count;
        Mesos__Scheduler__Event ev = MESOS__SCHEDULER__EVENT__INIT;
        ev.has_type = true;
        ev.type = MESOS__SCHEDULER__EVENT__TYPE__OFFERS;
        ev.offers = &offers;
        master_send_event(self, fw, &ev);
        for (size_t i = 0; i < count; i++)
            master_offer_message_fini(&msgs[i]);
    }
    free(msgs);
    free(ptrs);
    free(oids);
    free(allocs);
}

static master_offer_t *offer_new(master_t *m, master_framework_t *fw, master_agent_t *agent,
                                 allocator_grant_t *grant)
{
    master_offer_t *offer = calloc(1, sizeof(*offer));
    char id[128];
    snprintf(id, sizeof(id), "%s-O%llu", m->id, (unsigned long long)m->next_offer++);
    if (offer == NULL || (offer->id = strdup(id)) == NULL ||
        (offer->role = strdup(grant->role != NULL ? grant->role : "*")) == NULL) {
        if (offer != NULL)
            free(offer->id);
        free(offer);
        return NULL;
    }
    offer->framework = fw;
    offer->agent = agent;
    offer->resources = grant->resources; /* moved */
    resources_init(&grant->resources);
    resources_add(&fw->offered, &offer->resources);
    resources_add(&agent->offered, &offer->resources);
    HASH_ADD_KEYPTR(hh, m->offers, offer->id, strlen(offer->id), offer);
    DL_APPEND2(fw->offers, offer, fw_prev, fw_next);
    DL_APPEND2(agent->offers, offer, agent_prev, agent_next);
    return offer;
}

void master_offer_grants(actor_t *self, void *state, allocator_grants_t *grants)
{
    if (self == NULL) {
        allocator_grants_free(grants);
        free(grants);
        return;
    }
    master_t *m = state;
    master_offer_t **batch = calloc(grants->count + 1, sizeof(*batch));
    size_t batch_count = 0;
    master_framework_t *batch_fw = NULL;
    for (size_t i = 0; i < grants->count; i++) {
        allocator_grant_t *g = &grants->items[i];
        master_framework_t *fw = master_framework_find(m, g->framework_id);
        master_agent_t *agent = master_agent_find(m, g->agent_id);
        if (fw != batch_fw) {
            if (batch_fw != NULL && batch != NULL)
                send_offers(self, batch_fw, batch, batch_count);
            batch_fw = fw;
            batch_count = 0;
        }
        master_offer_t *offer = NULL;
        if (fw != NULL && fw->active && agent != NULL && agent->connected && !agent->removing &&
            batch != NULL)
            offer = offer_new(m, fw, agent, g);
        if (offer == NULL) {
            /* Taken away meanwhile (or no memory): the resources go back. */
            allocator_actor_recover(&m->allocator, g->framework_id, g->agent_id, &g->resources, 0);
            continue;
        }
        batch[batch_count++] = offer;
    }
    if (batch_fw != NULL && batch != NULL)
        send_offers(self, batch_fw, batch, batch_count);
    free(batch);
    allocator_grants_free(grants);
    free(grants);
}

/* ---- DECLINE ---- */

/* Filters.refuse_seconds as Mesos's allocator reads it: absent, negative or not a number means
 * the default (5 s), more than a year means a year; 0 means no filter. */
static double refuse_seconds(const Mesos__Filters *filters)
{
    if (filters == NULL || !filters->has_refuse_seconds)
        return DEFAULT_REFUSE_SECONDS;
    double s = filters->refuse_seconds;
    if (isnan(s) || s < 0) {
        LOG_WARNING("Using the default refuse_seconds (%.0f s) for a filter of %g s",
                    DEFAULT_REFUSE_SECONDS, s);
        return DEFAULT_REFUSE_SECONDS;
    }
    if (s > MAX_REFUSE_SECONDS) {
        LOG_WARNING("Using 365 days for a filter of %g s, which is too long", s);
        return MAX_REFUSE_SECONDS;
    }
    return s;
}

void master_handle_decline(actor_t *self, master_t *m, master_framework_t *fw,
                           const Mesos__Scheduler__Call__Decline *decline)
{
    (void)self;
    double refuse = refuse_seconds(decline->filters);
    for (size_t i = 0; i < decline->n_offer_ids; i++) {
        master_offer_t *offer = NULL;
        HASH_FIND_STR(m->offers, decline->offer_ids[i]->value, offer);
        if (offer == NULL || offer->framework != fw) {
            LOG_WARNING("Framework %s declined unknown offer %s", fw->id,
                        decline->offer_ids[i]->value);
            continue;
        }
        m->counters.offers_declined++;
        allocator_actor_recover(&m->allocator, fw->id, offer->agent->id, &offer->resources, refuse);
        offer_forget(m, offer);
    }
}

/* ---- ACCEPT ---- */

/* Mesos's task id rule: not empty, not "." or "..", no '/' or control characters. */
static bool id_valid(const char *id)
{
    if (id == NULL || id[0] == '\0' || strcmp(id, ".") == 0 || strcmp(id, "..") == 0)
        return false;
    for (const char *p = id; *p != '\0'; p++) {
        if (*p == '/' || (unsigned char)*p < 0x20 || *p == 0x7f)
            return false;
    }
    return true;
}

/* Checks a task against the framework and what is left of the offers; on success *res holds
 * its resources (task plus executor). Returns NULL or the reason it is invalid (in buf). */
static const char *validate_task(master_framework_t *fw, master_agent_t *agent,
                                 const Mesos__TaskInfo *task, const resources_t *available,
                                 resources_t *res, char *buf, size_t len)
{
    if (!id_valid(task->task_id->value))
        return "Task ID must not be empty, '.' or '..', and must not contain '/' or control "
               "characters";
    master_task_t *dup = NULL;
    HASH_FIND_STR(fw->tasks, task->task_id->value, dup);
    if (dup != NULL)
        return "Task has duplicate ID";
    if (strcmp(task->agent_id->value, agent->id) != 0) {
        snprintf(buf, len, "Task uses invalid agent: %s", task->agent_id->value);
        return buf;
    }
    if ((task->command == NULL) == (task->executor == NULL))
        return "Task should have at least one (but not both) of CommandInfo or ExecutorInfo "
               "present";
    const Mesos__CommandInfo *cmd = task->command != NULL ? task->command : task->executor->command;
    if (cmd == NULL)
        return "Executor must have a CommandInfo";
    if (cmd->value == NULL || cmd->value[0] == '\0')
        return (!cmd->has_shell || cmd->shell) ? "Command value is required for a shell command"
                                               : "Command value (the program) is required";
    if (task->executor != NULL && task->executor->framework_id != NULL &&
        strcmp(task->executor->framework_id->value, fw->id) != 0)
        return "ExecutorInfo has an invalid FrameworkID";
    char err[256];
    if (resources_from_proto(res, task->resources, task->n_resources, err, sizeof(err)) !=
        ACTOR_OK) {
        snprintf(buf, len, "Task uses invalid resources: %s", err);
        return buf;
    }
    if (task->executor != NULL) {
        resources_t exec;
        resources_init(&exec);
        actor_err_t rc = resources_from_proto(&exec, task->executor->resources,
                                              task->executor->n_resources, err, sizeof(err));
        if (rc == ACTOR_OK)
            rc = resources_add(res, &exec);
        resources_fini(&exec);
        if (rc != ACTOR_OK) {
            snprintf(buf, len, "Executor uses invalid resources: %s", err);
            return buf;
        }
    }
    if (resources_empty(res))
        return "Task uses no resources";
    if (!resources_contains(available, res)) {
        char *want = NULL, *have = NULL;
        resources_format(res, &want);
        resources_format(available, &have);
        snprintf(buf, len, "Task uses more resources %s than available %s", want ? want : "?",
                 have ? have : "?");
        free(want);
        free(have);
        return buf;
    }
    return NULL;
}

static void send_run_task(actor_t *self, master_framework_t *fw, master_agent_t *agent,
                          const Mesos__TaskInfo *task)
{
    Mesos__Internal__RunTaskMessage run = MESOS__INTERNAL__RUN_TASK_MESSAGE__INIT;
    run.framework_id = fw->info->id;
    run.framework = fw->info;
    run.task = (Mesos__TaskInfo *)task;
    run.pid = "";
    run.has_launch_executor = true;
    run.launch_executor = true;
    actor_send(self, &agent->pid, &run.base);
}

static void launch(actor_t *self, master_t *m, master_framework_t *fw, master_agent_t *agent,
                   const Mesos__Offer__Operation__Launch *op, resources_t *available)
{
    for (size_t i = 0; i < op->n_task_infos; i++) {
        const Mesos__TaskInfo *task = op->task_infos[i];
        resources_t res;
        resources_init(&res);
        char buf[512];
        const char *why = validate_task(fw, agent, task, available, &res, buf, sizeof(buf));
        if (why != NULL) {
            LOG_WARNING("Framework %s launched invalid task %s: %s", fw->id, task->task_id->value,
                        why);
            master_send_update(self, fw, task->task_id->value, agent->id,
                               MESOS__TASK_STATE__TASK_ERROR,
                               MESOS__TASK_STATUS__REASON__REASON_TASK_INVALID, why);
            resources_fini(&res);
            continue;
        }
        resources_subtract(available, &res);
        resources_fini(&res);
        master_task_t *added = master_task_add(fw, agent, task, MESOS__TASK_STATE__TASK_STAGING);
        if (added == NULL) {
            master_send_update(self, fw, task->task_id->value, agent->id,
                               MESOS__TASK_STATE__TASK_ERROR,
                               MESOS__TASK_STATUS__REASON__REASON_TASK_INVALID, "Out of memory");
            continue;
        }
        master_event_task_added(m, added);
        send_run_task(self, fw, agent, task);
    }
}

/* Every task of the accept is reported dropped (or lost) because its offers were invalid. */
static void drop_tasks(actor_t *self, master_framework_t *fw,
                       const Mesos__Scheduler__Call__Accept *accept, const char *why)
{
    int state =
        fw->partition_aware ? MESOS__TASK_STATE__TASK_DROPPED : MESOS__TASK_STATE__TASK_LOST;
    for (size_t i = 0; i < accept->n_operations; i++) {
        const Mesos__Offer__Operation *op = accept->operations[i];
        size_t n = 0;
        Mesos__TaskInfo **tasks = NULL;
        if (op->launch != NULL) {
            n = op->launch->n_task_infos;
            tasks = op->launch->task_infos;
        } else if (op->launch_group != NULL && op->launch_group->task_group != NULL) {
            n = op->launch_group->task_group->n_tasks;
            tasks = op->launch_group->task_group->tasks;
        }
        for (size_t j = 0; j < n; j++)
            master_send_update(self, fw, tasks[j]->task_id->value, NULL, state,
                               MESOS__TASK_STATUS__REASON__REASON_INVALID_OFFERS, why);
    }
}

void master_handle_accept(actor_t *self, master_t *m, master_framework_t *fw,
                          const Mesos__Scheduler__Call__Accept *accept)
{
    char why[256] = "";
    master_agent_t *agent = NULL;
    if (accept->n_offer_ids == 0)
        snprintf(why, sizeof(why), "No offers were given");
    for (size_t i = 0; i < accept->n_offer_ids && why[0] == '\0'; i++) {
        master_offer_t *offer = NULL;
        HASH_FIND_STR(m->offers, accept->offer_ids[i]->value, offer);
        if (offer == NULL || offer->framework != fw)
            snprintf(why, sizeof(why), "Offer %s is no longer valid", accept->offer_ids[i]->value);
        else if (agent != NULL && offer->agent != agent)
            snprintf(why, sizeof(why), "Aggregated offers must belong to one single agent");
        else
            agent = offer->agent;
        for (size_t j = 0; j < i && why[0] == '\0'; j++) {
            if (strcmp(accept->offer_ids[i]->value, accept->offer_ids[j]->value) == 0)
                snprintf(why, sizeof(why), "Duplicate offer %s in the same call",
                         accept->offer_ids[i]->value);
        }
    }

    resources_t available;
    resources_init(&available);
    /* The valid offers are used up either way: their resources return to the allocator below
     * (all of them when the call is invalid). */
    for (size_t i = 0; i < accept->n_offer_ids; i++) {
        master_offer_t *offer = NULL;
        HASH_FIND_STR(m->offers, accept->offer_ids[i]->value, offer);
        if (offer == NULL || offer->framework != fw)
            continue;
        if (why[0] != '\0') {
            allocator_actor_recover(&m->allocator, fw->id, offer->agent->id, &offer->resources, 0);
        } else {
            resources_add(&available, &offer->resources);
        }
        offer_forget(m, offer);
    }
    if (why[0] != '\0') {
        LOG_WARNING("Framework %s sent an invalid ACCEPT: %s", fw->id, why);
        drop_tasks(self, fw, accept, why);
        resources_fini(&available);
        return;
    }

    for (size_t i = 0; i < accept->n_operations; i++) {
        const Mesos__Offer__Operation *op = accept->operations[i];
        if (op->type == MESOS__OFFER__OPERATION__TYPE__LAUNCH && op->launch != NULL) {
            launch(self, m, fw, agent, op->launch, &available);
        } else if (op->type == MESOS__OFFER__OPERATION__TYPE__LAUNCH_GROUP &&
                   op->launch_group != NULL && op->launch_group->task_group != NULL) {
            for (size_t j = 0; j < op->launch_group->task_group->n_tasks; j++)
                master_send_update(self, fw, op->launch_group->task_group->tasks[j]->task_id->value,
                                   agent->id, MESOS__TASK_STATE__TASK_ERROR,
                                   MESOS__TASK_STATUS__REASON__REASON_TASK_GROUP_INVALID,
                                   "LAUNCH_GROUP is not supported yet");
        } else {
            LOG_WARNING("Framework %s sent an operation of type %d, which this master does not "
                        "support; ignoring it",
                        fw->id, (int)op->type);
        }
    }
    if (!resources_empty(&available))
        allocator_actor_recover(&m->allocator, fw->id, agent->id, &available,
                                refuse_seconds(accept->filters));
    resources_fini(&available);
}
