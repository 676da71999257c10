/*
 * mesos-execute: runs one command as a task and exits with its outcome, as Mesos's mesos-execute
 * (src/cli/execute.cpp) does (DESIGN.md section 2).
 *
 *   mesos-execute --master=HOST:PORT --name=NAME --command=CMD [--resources=cpus:0.1;mem:32]
 *                 [--uris=URI,...] [--env='{"K":"V"}'] [--checkpoint] [--role=*]
 *                 [--no-partition_aware]
 *
 * It subscribes as the framework "mesos-execute instance", launches the task (id and name NAME,
 * the command in shell form, the URIs fetched into its sandbox with archives extracted, the
 * environment variables set) on the first offer that holds its resources, declines every other
 * offer, and prints each status update of the task with its message, source and reason. It exits
 * 0 when the task ends TASK_FINISHED and 1 otherwise (another terminal state, an error from the
 * master, a bad flag, SIGINT or SIGTERM, which tear the framework down and so kill the task).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "actor/flags.h"
#include "frameworks/scheduler.h"
#include "proto/task_states.h"
#include "resources/resources.h"

typedef struct execute {
    const char *name, *command;
    scheduler_resources_t resources; /* --resources */
    Mesos__CommandInfo__URI *uris;   /* --uris, each borrowing from uri_text */
    Mesos__CommandInfo__URI **uri_ptrs;
    size_t uri_count;
    char *uri_text;
    Mesos__Environment env; /* --env, borrowing from env_json */
    Mesos__Environment__Variable *vars;
    Mesos__Environment__Variable **var_ptrs;
    json_t *env_json;
    bool launched, suppressed;
    int final_state; /* the task's terminal state; -1 until then */
} execute_t;

/* ---- callbacks (inside the driver's actor) ---- */

static void on_subscribed(scheduler_driver_t *d, void *user, const char *framework_id,
                          bool resubscribed, const Mesos__MasterInfo *master_info)
{
    (void)master_info;
    execute_t *x = user;
    printf("Subscribed with ID %s\n", framework_id);
    if (resubscribed && x->launched) {
        const char *ids[] = {x->name};
        scheduler_driver_reconcile(d, ids, NULL, 1); /* what happened while we were away */
    }
}

static void launch(scheduler_driver_t *d, execute_t *x, const Mesos__Offer *offer)
{
    scheduler_task_t task;
    scheduler_task_init(&task, x->name, x->name, offer->agent_id->value, x->command,
                        x->resources.items, x->resources.count);
    task.command.uris = x->uri_ptrs;
    task.command.n_uris = x->uri_count;
    if (x->env.n_variables > 0)
        task.command.environment = &x->env;
    Mesos__TaskInfo *tasks[] = {&task.info};
    const char *offer_id = offer->id->value;
    if (scheduler_driver_launch(d, &offer_id, 1, tasks, 1, -1) != ACTOR_OK) {
        fprintf(stderr, "Failed to launch task '%s'\n", x->name);
        scheduler_driver_stop(d, false);
        return;
    }
    printf("Submitted task '%s' to agent '%s'\n", x->name, offer->agent_id->value);
    x->launched = true;
}

static void on_offers(scheduler_driver_t *d, void *user, const Mesos__Offer *const *offers,
                      size_t count)
{
    execute_t *x = user;
    for (size_t i = 0; i < count; i++) {
        resources_t offered;
        resources_from_proto(&offered, offers[i]->resources, offers[i]->n_resources, NULL, 0);
        bool fits = resources_contains(&offered, &x->resources.set);
        resources_fini(&offered);
        if (!x->launched && fits)
            launch(d, x, offers[i]);
        else
            scheduler_driver_decline(d, offers[i]->id->value, x->launched ? 3600 : -1);
    }
    if (x->launched && !x->suppressed) {
        scheduler_driver_suppress(d, NULL);
        x->suppressed = true;
    }
}

static const char *enum_name(const ProtobufCEnumDescriptor *desc, int value)
{
    const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(desc, value);
    return v != NULL ? v->name : "UNKNOWN";
}

static void on_update(scheduler_driver_t *d, void *user, const Mesos__TaskStatus *status)
{
    execute_t *x = user;
    if (strcmp(status->task_id->value, x->name) != 0)
        return;
    printf("Received status update %s for task '%s'\n", mesos_task_state_name(status->state),
           x->name);
    if (status->message != NULL)
        printf("  message: '%s'\n", status->message);
    if (status->has_source)
        printf("  source: %s\n",
               enum_name(&mesos__task_status__source__descriptor, status->source));
    if (status->has_reason)
        printf("  reason: %s\n",
               enum_name(&mesos__task_status__reason__descriptor, status->reason));
    if (status->has_healthy)
        printf("  healthy?: %d\n", status->healthy ? 1 : 0);
    if (mesos_task_state_terminal(status->state)) {
        x->final_state = status->state;
        scheduler_driver_stop(d, false); /* done: tear the framework down */
    }
}

static void on_error(scheduler_driver_t *d, void *user, const char *message)
{
    (void)d;
    (void)user;
    fprintf(stderr, "Received an ERROR event: %s\n", message);
}

/* ---- flags into the task ---- */

/* --uris: comma-separated, each fetched into the sandbox with archives extracted. */
static int parse_uris(execute_t *x, const char *text)
{
    if (text == NULL || *text == '\0')
        return 0;
    size_t commas = 0;
    for (const char *p = text; *p != '\0'; p++)
        commas += *p == ',';
    x->uri_text = strdup(text);
    x->uris = calloc(commas + 1, sizeof(*x->uris));
    x->uri_ptrs = calloc(commas + 1, sizeof(*x->uri_ptrs));
    if (x->uri_text == NULL || x->uris == NULL || x->uri_ptrs == NULL) {
        fprintf(stderr, "Out of memory\n");
        return -1;
    }
    char *save = NULL;
    for (char *uri = strtok_r(x->uri_text, ",", &save); uri != NULL;
         uri = strtok_r(NULL, ",", &save)) {
        Mesos__CommandInfo__URI *u = &x->uris[x->uri_count];
        mesos__command_info__uri__init(u);
        u->value = uri;
        u->has_extract = true;
        u->extract = true;
        x->uri_ptrs[x->uri_count++] = u;
    }
    return 0;
}

/* --env: a JSON object of strings, {"NAME": "value", ...}. */
static int parse_env(execute_t *x, const char *text)
{
    mesos__environment__init(&x->env);
    if (text == NULL || *text == '\0')
        return 0;
    json_error_t error;
    x->env_json = json_loads(text, 0, &error);
    if (x->env_json == NULL || !json_is_object(x->env_json)) {
        fprintf(stderr, "Failed to parse --env: %s\n",
                x->env_json == NULL ? error.text : "expected a JSON object");
        return -1;
    }
    size_t n = json_object_size(x->env_json);
    x->vars = calloc(n + 1, sizeof(*x->vars));
    x->var_ptrs = calloc(n + 1, sizeof(*x->var_ptrs));
    if (x->vars == NULL || x->var_ptrs == NULL) {
        fprintf(stderr, "Out of memory\n");
        return -1;
    }
    const char *key;
    json_t *value;
    json_object_foreach(x->env_json, key, value)
    {
        if (!json_is_string(value)) {
            fprintf(stderr, "Failed to parse --env: the value of '%s' is not a string\n", key);
            return -1;
        }
        Mesos__Environment__Variable *v = &x->vars[x->env.n_variables];
        mesos__environment__variable__init(v);
        v->name = (char *)key;
        v->value = (char *)json_string_value(value);
        x->var_ptrs[x->env.n_variables++] = v;
    }
    x->env.variables = x->var_ptrs;
    return 0;
}

static int execute_init(execute_t *x, const char *name, const char *command, const char *resources,
                        const char *uris, const char *env)
{
    char err[256] = "";
    x->final_state = -1;
    mesos__environment__init(&x->env);
    if (name == NULL || *name == '\0' || command == NULL || *command == '\0') {
        fprintf(stderr, "Missing required option --%s\n",
                name == NULL || !*name ? "name" : "command");
        return -1;
    }
    x->name = name;
    x->command = command;
    if (scheduler_resources_parse(&x->resources, resources, err, sizeof(err)) != ACTOR_OK) {
        fprintf(stderr, "Failed to parse --resources=%s: %s\n", resources, err);
        return -1;
    }
    return parse_uris(x, uris) == 0 && parse_env(x, env) == 0 ? 0 : -1;
}

static void execute_fini(execute_t *x)
{
    scheduler_resources_fini(&x->resources);
    free(x->uris);
    free(x->uri_ptrs);
    free(x->uri_text);
    free(x->vars);
    free(x->var_ptrs);
    json_decref(x->env_json);
}

int main(int argc, char **argv)
{
    char *master = NULL, *name = NULL, *command = NULL, *resources = NULL, *uris = NULL;
    char *env = NULL, *role = NULL, *framework_name = NULL;
    bool checkpoint = false, partition_aware = true;
    flags_flag_t table[] = {
        FLAGS_STRING("master", &master, NULL, "The master's HTTP address, HOST:PORT"),
        FLAGS_STRING("name", &name, NULL, "Name (and id) of the task"),
        FLAGS_STRING("command", &command, NULL, "Shell command to run"),
        FLAGS_STRING("resources", &resources, "cpus:0.1;mem:32", "Resources of the task"),
        FLAGS_STRING("uris", &uris, NULL,
                     "Comma-separated URIs to fetch into the task's sandbox (archives are "
                     "extracted)"),
        FLAGS_STRING("env", &env, NULL,
                     "Environment variables of the command as a JSON object, {\"K\": \"V\"}"),
        FLAGS_BOOL("checkpoint", &checkpoint, "false",
                   "Enable checkpointing for the framework (its task survives an agent restart)"),
        FLAGS_BOOL("partition_aware", &partition_aware, "true",
                   "Subscribe as PARTITION_AWARE: a task on an unreachable agent is reported "
                   "TASK_UNREACHABLE rather than TASK_LOST"),
        FLAGS_STRING("role", &role, "*", "Role to subscribe with"),
        FLAGS_STRING("framework_name", &framework_name, "mesos-execute instance",
                     "Name of the framework"),
        FLAGS_END,
    };
    execute_t x = {0};
    char err[512];
    int status = 1;
    if (!scheduler_program_flags(table, argc, argv, "mesos-execute", &status))
        goto out;
    if (execute_init(&x, name, command, resources, uris, env) != 0)
        goto out;
    setvbuf(stdout, NULL, _IOLBF, 0); /* each state change shows at once, even in a pipe */
    scheduler_driver_options_t opts;
    scheduler_driver_options_init(&opts);
    opts.master = master;
    opts.name = framework_name;
    opts.role = role;
    opts.checkpoint = checkpoint;
    /* As Mesos's mesos-execute. */
    opts.capabilities =
        SCHEDULER_CAP_TASK_KILLING_STATE | (partition_aware ? SCHEDULER_CAP_PARTITION_AWARE : 0);
    scheduler_callbacks_t callbacks = {
        .subscribed = on_subscribed,
        .offers = on_offers,
        .update = on_update,
        .error = on_error,
    };
    scheduler_driver_status_t driver_status;
    if (scheduler_run(&opts, &callbacks, &x, &driver_status, err, sizeof(err)) != ACTOR_OK)
        fprintf(stderr, "%s\n", err);
    status = x.final_state == MESOS__TASK_STATE__TASK_FINISHED ? 0 : 1;
out:
    execute_fini(&x);
    flags_free(table);
    return status;
}
