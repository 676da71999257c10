/*
 * frameworks.c: frameworks: SUBSCRIBE (new, resubscription, failover), the routing of their
 * other calls, disconnection and the failover timeout, TEARDOWN and removal.
 *
 * As Mesos's Master::receive, a call other than SUBSCRIBE is dropped with a warning (never
 * answered) when it is malformed, names a framework the master does not know or comes from
 * another PID than the framework's scheduler: an ERROR event would abort a scheduler driver
 * that did nothing wrong (a call of a framework the master removed, or crossing a failover). A
 * call from the framework's own PID while the master considers it disconnected gets Mesos's
 * "Framework disconnected" ERROR: the link is broken one way and the scheduler must learn it.
 *
 * A SUBSCRIBE without id from the PID of a subscribed framework is a retry that crossed the
 * first SUBSCRIBED: it is answered with that framework's SUBSCRIBED again, as Mesos does. Mesos
 * compares the PID with every registered framework's, because its scheduler PIDs are unique
 * (scheduler-<UUID>); ours ("scheduler(1)@ip:port") can repeat when a scheduler restarts on the
 * same port, so only a connected framework (its link holds: the same process) is matched.
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <utlist.h>

#include "actor/log.h"
#include "actor/pbcopy.h"
#include "master/master_int.h"

master_framework_t *master_framework_find(master_t *m, const char *id)
{
    master_framework_t *fw = NULL;
    if (id != NULL)
        HASH_FIND_STR(m->frameworks, id, fw);
    return fw;
}

static master_framework_t *completed_find(master_t *m, const char *id)
{
    for (master_framework_t *fw = m->completed_frameworks.head; fw != NULL; fw = fw->ring_next) {
        if (strcmp(fw->id, id) == 0)
            return fw;
    }
    return NULL;
}

bool master_framework_removed(master_t *m, const char *id)
{
    return completed_find(m, id) != NULL;
}

/* ---- roles ---- */

/* Mesos's roles::validate: "*" alone, or '/'-separated components that are not empty, ".",
 * ".." or start with '-', and contain no whitespace, control character, backslash or '*'. */
bool master_role_valid(const char *role, const char **why)
{
    if (role == NULL || role[0] == '\0') {
        *why = "Empty role name is invalid";
        return false;
    }
    if (strcmp(role, "*") == 0)
        return true;
    const char *component = role;
    for (const char *p = role;; p++) {
        if (*p == '/' || *p == '\0') {
            size_t len = (size_t)(p - component);
            if (len == 0) {
                *why = "Role names cannot have empty components";
                return false;
            }
            if ((len == 1 && component[0] == '.') ||
                (len == 2 && component[0] == '.' && component[1] == '.')) {
                *why = "Role names cannot have '.' or '..' components";
                return false;
            }
            if (component[0] == '-') {
                *why = "Role name components cannot start with '-'";
                return false;
            }
            if (*p == '\0')
                return true;
            component = p + 1;
            continue;
        }
        if (isspace((unsigned char)*p) || iscntrl((unsigned char)*p) || *p == '\\' || *p == '*') {
            *why = "Role names cannot contain whitespace, control characters, '\\' or '*'";
            return false;
        }
    }
}

static bool has_capability(const Mesos__FrameworkInfo *info, int type)
{
    for (size_t i = 0; i < info->n_capabilities; i++) {
        if (info->capabilities[i]->has_type && (int)info->capabilities[i]->type == type)
            return true;
    }
    return false;
}

/* The roles a FrameworkInfo subscribes to, as Mesos reads them: `roles` with MULTI_ROLE, else
 * `role` (default "*"). Checks Mesos's validation rules; *why is set on failure. */
static bool framework_roles(const Mesos__FrameworkInfo *info, const char *const **roles,
                            size_t *count, const char **why)
{
    static const char *const any[] = {"*"};
    bool multi = has_capability(info, MESOS__FRAMEWORK_INFO__CAPABILITY__TYPE__MULTI_ROLE);
    if (multi) {
        if (info->n_roles == 0) {
            *why = "'FrameworkInfo.roles' must not be empty for a MULTI_ROLE framework";
            return false;
        }
        *roles = (const char *const *)info->roles;
        *count = info->n_roles;
    } else {
        if (info->n_roles > 0) {
            *why = "'FrameworkInfo.roles' is set but the framework lacks the MULTI_ROLE "
                   "capability";
            return false;
        }
        *roles = info->role != NULL ? (const char *const *)&info->role : any;
        *count = 1;
    }
    for (size_t i = 0; i < *count; i++) {
        if (!master_role_valid((*roles)[i], why))
            return false;
        for (size_t j = 0; j < i; j++) {
            if (strcmp((*roles)[i], (*roles)[j]) == 0) {
                *why = "'FrameworkInfo.roles' contains duplicate roles";
                return false;
            }
        }
    }
    return true;
}

static actor_err_t set_info(master_framework_t *fw, const Mesos__FrameworkInfo *info,
                            const char *const *roles, size_t role_count)
{
    Mesos__FrameworkInfo *copy = PB_COPY(Mesos__FrameworkInfo, info);
    char **role_copy = calloc(role_count, sizeof(char *));
    if (copy == NULL || role_copy == NULL)
        goto nomem;
    for (size_t i = 0; i < role_count; i++) {
        if ((role_copy[i] = strdup(roles[i])) == NULL)
            goto nomem;
    }
    if (copy->id == NULL) {
        copy->id = malloc(sizeof(*copy->id));
        if (copy->id == NULL)
            goto nomem;
        mesos__framework_id__init(copy->id);
        copy->id->value = NULL;
    }
    free(copy->id->value);
    if ((copy->id->value = strdup(fw->id)) == NULL)
        goto nomem;
    if (fw->info != NULL)
        mesos__framework_info__free_unpacked(fw->info, NULL);
    for (size_t i = 0; i < fw->role_count; i++)
        free(fw->roles[i]);
    free(fw->roles);
    fw->info = copy;
    fw->roles = role_copy;
    fw->role_count = role_count;
    fw->partition_aware =
        has_capability(info, MESOS__FRAMEWORK_INFO__CAPABILITY__TYPE__PARTITION_AWARE);
    return ACTOR_OK;

nomem:
    if (role_copy != NULL) {
        for (size_t i = 0; i < role_count; i++)
            free(role_copy[i]);
    }
    free(role_copy);
    if (copy != NULL)
        mesos__framework_info__free_unpacked(copy, NULL);
    return ACTOR_ENOMEM;
}

static master_framework_t *framework_new(master_t *m, const char *id)
{
    master_framework_t *fw = calloc(1, sizeof(*fw));
    if (fw == NULL || (fw->id = strdup(id)) == NULL) {
        free(fw);
        return NULL;
    }
    resources_init(&fw->used);
    resources_init(&fw->offered);
    fw->completed_tasks.limit = m->opts.max_completed_tasks_per_framework;
    fw->unreachable_tasks.limit = m->opts.max_unreachable_tasks_per_framework;
    fw->registered_time = master_now();
    return fw;
}

void master_framework_free(master_framework_t *fw)
{
    master_task_t *task, *tmp;
    HASH_ITER(hh, fw->tasks, task, tmp)
    {
        HASH_DEL(fw->tasks, task);
        master_task_free(task);
    }
    master_ring_clear(&fw->completed_tasks);
    master_ring_clear(&fw->unreachable_tasks);
    for (size_t i = 0; i < fw->role_count; i++)
        free(fw->roles[i]);
    free(fw->roles);
    if (fw->info != NULL)
        mesos__framework_info__free_unpacked(fw->info, NULL);
    resources_fini(&fw->used);
    resources_fini(&fw->offered);
    free(fw->id);
    free(fw);
}

master_framework_t *master_framework_recover(master_t *m, const Mesos__FrameworkInfo *info)
{
    if (info->id == NULL || info->id->value == NULL)
        return NULL;
    master_framework_t *fw = master_framework_find(m, info->id->value);
    if (fw != NULL || master_framework_removed(m, info->id->value))
        return fw; /* a removed framework stays removed (add_reported shuts it down) */
    const char *const *roles;
    size_t role_count;
    const char *why;
    if (!framework_roles(info, &roles, &role_count, &why)) {
        static const char *const any[] = {"*"};
        roles = any;
        role_count = 1;
    }
    if ((fw = framework_new(m, info->id->value)) == NULL)
        return NULL;
    if (set_info(fw, info, roles, role_count) != ACTOR_OK) {
        master_framework_free(fw);
        return NULL;
    }
    HASH_ADD_KEYPTR(hh, m->frameworks, fw->id, strlen(fw->id), fw);
    allocator_actor_add_framework(&m->allocator, fw->id, (const char *const *)fw->roles,
                                  fw->role_count, NULL, 0, NULL, 0);
    allocator_actor_deactivate_framework(&m->allocator, fw->id);
    LOG_INFO("Recovered framework %s (%s) from an agent's report", fw->id, fw->info->name);
    master_event_framework_added(m, fw);
    return fw;
}

/* ---- SUBSCRIBE ---- */

static void send_subscribed(actor_t *self, master_t *m, master_framework_t *fw)
{
    Mesos__Scheduler__Event__Subscribed subscribed = MESOS__SCHEDULER__EVENT__SUBSCRIBED__INIT;
    subscribed.framework_id = fw->info->id;
    subscribed.has_heartbeat_interval_seconds = true;
    subscribed.heartbeat_interval_seconds = m->opts.heartbeat_interval_seconds;
    subscribed.master_info = m->info;
    Mesos__Scheduler__Event ev = MESOS__SCHEDULER__EVENT__INIT;
    ev.has_type = true;
    ev.type = MESOS__SCHEDULER__EVENT__TYPE__SUBSCRIBED;
    ev.subscribed = &subscribed;
    master_send_event(self, fw, &ev);
}

/* The connected framework whose scheduler is `pid`, or NULL. */
static master_framework_t *framework_find_connected(master_t *m, const actor_pid_t *pid)
{
    for (master_framework_t *fw = m->frameworks; fw != NULL; fw = fw->hh.next) {
        if (fw->connected && actor_pid_equal(&fw->pid, pid))
            return fw;
    }
    return NULL;
}

static void rescind_all(actor_t *self, master_t *m, master_framework_t *fw, bool tell)
{
    while (fw->offers != NULL)
        master_offer_rescind(self, m, fw->offers, tell);
}

static void handle_subscribe(actor_t *self, master_t *m, const actor_pid_t *from,
                             const Mesos__Scheduler__Call *call)
{
    const Mesos__Scheduler__Call__Subscribe *sub = call->subscribe;
    if (sub == NULL || sub->framework_info == NULL) {
        master_send_error(self, from, "Expecting 'subscribe' to be present");
        return;
    }
    const Mesos__FrameworkInfo *info = sub->framework_info;
    const char *const *roles;
    size_t role_count;
    const char *why = NULL;
    if (!framework_roles(info, &roles, &role_count, &why)) {
        master_send_error(self, from, why);
        return;
    }
    for (size_t i = 0; i < sub->n_suppressed_roles; i++) {
        bool found = false;
        for (size_t j = 0; j < role_count; j++)
            found = found || strcmp(sub->suppressed_roles[i], roles[j]) == 0;
        if (!found) {
            master_send_error(self, from, "Suppressed role is not one of the framework's roles");
            return;
        }
    }
    if (!isfinite(info->failover_timeout) || info->failover_timeout < 0) {
        master_send_error(self, from, "'FrameworkInfo.failover_timeout' must be non-negative");
        return;
    }
    const char *id = info->id != NULL ? info->id->value : NULL;
    if (call->framework_id != NULL && (id == NULL || strcmp(call->framework_id->value, id) != 0)) {
        master_send_error(self, from, "'framework_id' differs from 'subscribe.framework_info.id'");
        return;
    }
    if (id != NULL && completed_find(m, id) != NULL) {
        master_send_error(self, from, "Framework has been removed");
        return;
    }

    master_framework_t *fw = master_framework_find(m, id);
    if (id == NULL && (fw = framework_find_connected(m, from)) != NULL) {
        LOG_INFO("Framework %s (%s) already subscribed from %s; answering its SUBSCRIBE again",
                 fw->id, fw->info->name, from->id);
        send_subscribed(self, m, fw);
        return;
    }
    bool added = fw == NULL;
    if (fw == NULL) {
        char fresh[128];
        if (id == NULL) {
            snprintf(fresh, sizeof(fresh), "%s-%04llu", m->id,
                     (unsigned long long)m->next_framework++);
            id = fresh;
        }
        if ((fw = framework_new(m, id)) == NULL ||
            set_info(fw, info, roles, role_count) != ACTOR_OK) {
            if (fw != NULL)
                master_framework_free(fw);
            master_send_error(self, from, "Out of memory");
            return;
        }
        HASH_ADD_KEYPTR(hh, m->frameworks, fw->id, strlen(fw->id), fw);
        allocator_actor_add_framework(&m->allocator, fw->id, roles, role_count,
                                      (const char *const *)sub->suppressed_roles,
                                      sub->n_suppressed_roles, NULL, 0);
        LOG_INFO("Added framework %s (%s) from %s", fw->id, fw->info->name, from->id);
    } else {
        if (fw->connected && actor_pid_equal(&fw->pid, from)) {
            /* A retried SUBSCRIBE from the same scheduler: answer it again. */
            send_subscribed(self, m, fw);
            return;
        }
        if (fw->connected)
            master_send_error(self, &fw->pid, "Framework failed over");
        if (set_info(fw, info, roles, role_count) != ACTOR_OK) {
            master_send_error(self, from, "Out of memory");
            return;
        }
        /* The new scheduler knows nothing of the old one's offers. */
        rescind_all(self, m, fw, false);
        master_framework_cancel_failover(fw);
        allocator_actor_update_framework(&m->allocator, fw->id, roles, role_count);
        /* The new scheduler's suppressed roles are exactly those it names, as Mesos's
         * updateFramework sets them: the others are revived, whatever its predecessor had
         * suppressed. */
        for (size_t r = 0; r < role_count; r++) {
            bool suppressed = false;
            for (size_t i = 0; i < sub->n_suppressed_roles && !suppressed; i++)
                suppressed = strcmp(roles[r], sub->suppressed_roles[i]) == 0;
            if (suppressed)
                allocator_actor_suppress(&m->allocator, fw->id, roles[r]);
            else
                allocator_actor_revive(&m->allocator, fw->id, roles[r]);
        }
        allocator_actor_activate_framework(&m->allocator, fw->id);
        fw->reregistered_time = master_now();
        LOG_INFO("Framework %s (%s) resubscribed from %s", fw->id, fw->info->name, from->id);
    }
    fw->pid = *from;
    fw->connected = true;
    fw->active = true;
    actor_link(self, from);
    send_subscribed(self, m, fw);
    if (added)
        master_event_framework_added(m, fw);
    else
        master_event_framework_updated(m, fw);
}

/* ---- disconnection, failover timeout, removal ---- */

void master_framework_cancel_failover(master_framework_t *fw)
{
    if (fw->failover_timer != 0 && actor_timer_cancel(fw->failover_timer))
        free(fw->failover_arg);
    fw->failover_timer = 0;
    fw->failover_arg = NULL;
}

static void failover_timeout(actor_t *self, void *state, void *arg)
{
    char *id = arg;
    if (self != NULL) {
        master_t *m = state;
        master_framework_t *fw = master_framework_find(m, id);
        if (fw != NULL && fw->failover_arg == id) {
            fw->failover_timer = 0;
            fw->failover_arg = NULL;
        }
        if (fw != NULL && !fw->connected) {
            LOG_INFO("Framework %s did not resubscribe within its failover timeout; removing it",
                     id);
            master_framework_remove(self, m, fw);
        }
    }
    free(id);
}

void master_framework_disconnected(actor_t *self, master_t *m, master_framework_t *fw)
{
    LOG_INFO("Framework %s disconnected", fw->id);
    fw->connected = false;
    fw->active = false;
    allocator_actor_deactivate_framework(&m->allocator, fw->id);
    rescind_all(self, m, fw, false);
    double timeout = fw->info->failover_timeout;
    char *id = strdup(fw->id);
    if (id == NULL)
        return;
    int64_t ns = timeout > 1e9 ? INT64_MAX / 2 : (int64_t)(timeout * (double)ACTOR_NS_PER_SEC);
    master_framework_cancel_failover(fw);
    fw->failover_timer = actor_delay(self, ns, failover_timeout, id);
    if (fw->failover_timer == 0)
        free(id);
    else
        fw->failover_arg = id;
}

/* Tells every agent running the framework's tasks to shut its executors down. */
static void shutdown_on_agents(actor_t *self, master_t *m, master_framework_t *fw)
{
    Mesos__Internal__ShutdownFrameworkMessage msg =
        MESOS__INTERNAL__SHUTDOWN_FRAMEWORK_MESSAGE__INIT;
    msg.framework_id = fw->info->id;
    for (master_agent_t *agent = m->agents; agent != NULL; agent = agent->hh.next) {
        if (agent->connected)
            actor_send(self, &agent->pid, &msg.base);
    }
}

void master_framework_remove(actor_t *self, master_t *m, master_framework_t *fw)
{
    rescind_all(self, m, fw, false);
    shutdown_on_agents(self, m, fw);
    master_task_t *task, *tmp;
    HASH_ITER(hh, fw->tasks, task, tmp)
    {
        master_task_transition(self, m, task, MESOS__TASK_STATE__TASK_KILLED,
                               MESOS__TASK_STATUS__REASON__REASON_FRAMEWORK_REMOVED,
                               "Framework removed", false);
        master_task_retire(task, false);
    }
    allocator_actor_remove_framework(&m->allocator, fw->id);
    master_framework_cancel_failover(fw);
    fw->connected = fw->active = false;
    fw->unregistered_time = master_now();
    master_event_framework_removed(m, fw);
    LOG_INFO("Removed framework %s", fw->id);
    HASH_DEL(m->frameworks, fw);
    m->counters.frameworks_removed++;
    DL_APPEND2(m->completed_frameworks.head, fw, ring_prev, ring_next);
    if (++m->completed_frameworks.count > m->opts.max_completed_frameworks) {
        master_framework_t *oldest = m->completed_frameworks.head;
        DL_DELETE2(m->completed_frameworks.head, oldest, ring_prev, ring_next);
        m->completed_frameworks.count--;
        master_framework_free(oldest);
    }
}

/* ---- calls ---- */

static void handle_roles(master_t *m, master_framework_t *fw, char **roles, size_t count,
                         bool revive)
{
    actor_err_t (*fn)(const actor_pid_t *, const char *, const char *) =
        revive ? allocator_actor_revive : allocator_actor_suppress;
    if (count == 0) {
        fn(&m->allocator, fw->id, NULL);
        return;
    }
    for (size_t i = 0; i < count; i++)
        fn(&m->allocator, fw->id, roles[i]);
}

static void forward_to_agent(actor_t *self, master_t *m, const char *agent_id,
                             const ProtobufCMessage *msg)
{
    master_agent_t *agent = master_agent_find(m, agent_id);
    if (agent != NULL && agent->connected)
        actor_send(self, &agent->pid, msg);
}

static void handle_shutdown(actor_t *self, master_t *m, master_framework_t *fw,
                            const Mesos__Scheduler__Call__Shutdown *shutdown)
{
    Mesos__Internal__ShutdownExecutorMessage msg = MESOS__INTERNAL__SHUTDOWN_EXECUTOR_MESSAGE__INIT;
    msg.executor_id = shutdown->executor_id;
    msg.framework_id = fw->info->id;
    forward_to_agent(self, m, shutdown->agent_id->value, &msg.base);
}

static const char *call_type_name(int type)
{
    const ProtobufCEnumValue *v =
        protobuf_c_enum_descriptor_get_value(&mesos__scheduler__call__type__descriptor, type);
    return v != NULL ? v->name : "UNKNOWN";
}

/* Each call type names the sub-message it needs; a call without it is dropped. */
static bool call_complete(const Mesos__Scheduler__Call *call)
{
    switch (call->type) {
    case MESOS__SCHEDULER__CALL__TYPE__ACCEPT:
        return call->accept != NULL;
    case MESOS__SCHEDULER__CALL__TYPE__DECLINE:
        return call->decline != NULL;
    case MESOS__SCHEDULER__CALL__TYPE__KILL:
        return call->kill != NULL;
    case MESOS__SCHEDULER__CALL__TYPE__SHUTDOWN:
        return call->shutdown != NULL;
    case MESOS__SCHEDULER__CALL__TYPE__ACKNOWLEDGE:
        return call->acknowledge != NULL;
    case MESOS__SCHEDULER__CALL__TYPE__RECONCILE:
        return call->reconcile != NULL;
    case MESOS__SCHEDULER__CALL__TYPE__MESSAGE:
        return call->message != NULL;
    default:
        return true;
    }
}

void master_handle_call(actor_t *self, void *state, const actor_pid_t *from,
                        const ProtobufCMessage *msg)
{
    master_t *m = state;
    const Mesos__Scheduler__Call *call = (const Mesos__Scheduler__Call *)msg;
    if (call->type == MESOS__SCHEDULER__CALL__TYPE__SUBSCRIBE) {
        m->counters.valid_framework_calls++;
        handle_subscribe(self, m, from, call);
        return;
    }
    const char *id = call->framework_id != NULL ? call->framework_id->value : NULL;
    master_framework_t *fw = master_framework_find(m, id);
    const char *why = fw == NULL                         ? "Framework cannot be found"
                      : !actor_pid_equal(&fw->pid, from) ? "Call is not from registered framework"
                      : !call_complete(call) ? "The call lacks the message its type requires"
                                             : NULL;
    if (why != NULL) {
        m->counters.invalid_framework_calls++;
        LOG_WARNING("Dropping %s call from framework %s at %s: %s", call_type_name(call->type),
                    id != NULL ? id : "(none)", from->id, why);
        return;
    }
    if (!fw->connected) {
        m->counters.invalid_framework_calls++;
        LOG_INFO("Refusing %s call from framework %s: Framework disconnected",
                 call_type_name(call->type), fw->id);
        master_send_error(self, from, "Framework disconnected");
        return;
    }
    m->counters.valid_framework_calls++;
    switch (call->type) {
    case MESOS__SCHEDULER__CALL__TYPE__TEARDOWN:
        master_framework_remove(self, m, fw);
        break;
    case MESOS__SCHEDULER__CALL__TYPE__ACCEPT:
        master_handle_accept(self, m, fw, call->accept);
        break;
    case MESOS__SCHEDULER__CALL__TYPE__DECLINE:
        master_handle_decline(self, m, fw, call->decline);
        break;
    case MESOS__SCHEDULER__CALL__TYPE__REVIVE:
        handle_roles(m, fw, call->revive != NULL ? call->revive->roles : NULL,
                     call->revive != NULL ? call->revive->n_roles : 0, true);
        break;
    case MESOS__SCHEDULER__CALL__TYPE__SUPPRESS:
        handle_roles(m, fw, call->suppress != NULL ? call->suppress->roles : NULL,
                     call->suppress != NULL ? call->suppress->n_roles : 0, false);
        break;
    case MESOS__SCHEDULER__CALL__TYPE__KILL:
        master_handle_kill(self, m, fw, call->kill);
        break;
    case MESOS__SCHEDULER__CALL__TYPE__SHUTDOWN:
        handle_shutdown(self, m, fw, call->shutdown);
        break;
    case MESOS__SCHEDULER__CALL__TYPE__ACKNOWLEDGE:
        master_handle_acknowledge(self, m, fw, call->acknowledge);
        break;
    case MESOS__SCHEDULER__CALL__TYPE__RECONCILE:
        master_handle_reconcile(self, m, fw, call->reconcile);
        break;
    case MESOS__SCHEDULER__CALL__TYPE__MESSAGE:
        master_handle_message(self, m, fw, call->message);
        break;
    case MESOS__SCHEDULER__CALL__TYPE__REQUEST:
        break; /* ignored, as Mesos's hierarchical allocator ignores it */
    default:
        LOG_WARNING("Ignoring %s call from framework %s: this master does not support it",
                    call_type_name(call->type), fw->id);
        break;
    }
}
