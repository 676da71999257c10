/*
 * app.c: the Marathon app commands, as DC/OS's `dcos marathon app ...`: add, list, show,
 * scale, restart, remove, versions, on Marathon's /v2/apps.
 *
 * Every write answers with the deployment Marathon started (its Marathon-Deployment-Id header,
 * or the deploymentId of the body): the command prints "Created deployment ID" (with --json,
 * Marathon's answer) and with --wait waits for it (deployment.c). App ids are given with or
 * without their leading '/'.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/cli/cli.h"

/* "/v2/apps/<id>[suffix][?force=true]", the id escaped: a heap string, or NULL (out of memory,
 * reported). */
static char *app_path(const char *id, const char *suffix, bool force)
{
    while (*id == '/')
        id++;
    char *id_q = cli_url_escape(id, "/"), *path = NULL;
    if (id_q == NULL ||
        asprintf(&path, "/v2/apps/%s%s%s", id_q, suffix, force ? "?force=true" : "") < 0) {
        path = NULL;
        cli_error("out of memory");
    }
    free(id_q);
    return path;
}

/* The id of the deployment a write started, from the header or the body. */
static const char *deployment_of(const cli_reply_t *reply)
{
    if (reply->deployment_id[0] != '\0')
        return reply->deployment_id;
    const char *id = cli_json_str(reply->json, "deploymentId", NULL);
    if (id == NULL)
        id = cli_json_str(json_array_get(json_object_get(reply->json, "deployments"), 0), "id",
                          NULL);
    return id;
}

/* Sends a write of app_id to Marathon, prints what it started and with --wait waits for it. */
static int write_app(const cli_t *cli, const char *method, const char *path, const char *body,
                     const char *app_id)
{
    cli_reply_t reply;
    if (cli_http(&cli->marathon, method, path, body, &reply) != 0)
        return 1;
    const char *deployment = deployment_of(&reply);
    int rc = 0;
    if ((cli->options & CLI_OPT_JSON) != 0)
        rc = reply.json != NULL ? cli_json_print(reply.json) : 0;
    else if (deployment != NULL)
        printf("Created deployment %s\n", deployment);
    fflush(stdout);
    if (rc == 0 && (cli->options & CLI_OPT_WAIT) != 0) {
        if (deployment == NULL)
            rc = cli_error("Marathon's answer names no deployment to wait for");
        else
            rc = cli_deployment_wait(cli, deployment, app_id);
    }
    cli_reply_fini(&reply);
    return rc;
}

/* The id as Marathon writes it: with its leading '/'. */
static void full_id(char *buf, size_t len, const char *id)
{
    snprintf(buf, len, "%s%s", id[0] == '/' ? "" : "/", id);
}

/* The write commands on one existing app: scale, restart, remove. */
static int write_existing(const cli_t *cli, const char *method, const char *suffix,
                          const char *body)
{
    char id[1024];
    full_id(id, sizeof(id), cli->args[0]);
    char *path = app_path(id, suffix, (cli->options & CLI_OPT_FORCE) != 0);
    int rc = path != NULL ? write_app(cli, method, path, body, id) : 1;
    free(path);
    return rc;
}

/* Reads the app definition of file (NULL or "-": stdin), a JSON object. */
static json_t *read_definition(const char *file)
{
    bool from_stdin = file == NULL || strcmp(file, "-") == 0;
    const char *name = from_stdin ? "<stdin>" : file;
    FILE *f = from_stdin ? stdin : fopen(file, "r");
    if (f == NULL) {
        cli_error("cannot read '%s': %s", file, strerror(errno));
        return NULL;
    }
    json_error_t err;
    json_t *def = json_loadf(f, 0, &err);
    if (!from_stdin)
        fclose(f);
    if (def == NULL) {
        cli_error("%s is not valid JSON: %s at line %d, column %d", name, err.text, err.line,
                  err.column);
    } else if (!json_is_object(def)) {
        cli_error("%s: an app definition is a JSON object, as {\"id\": \"/web\", ...}", name);
        json_decref(def);
        def = NULL;
    }
    return def;
}

static int app_add(const cli_t *cli)
{
    json_t *def = read_definition(cli->nargs > 0 ? cli->args[0] : NULL);
    if (def == NULL)
        return 1;
    char id[1024];
    full_id(id, sizeof(id), cli_json_str(def, "id", ""));
    char *body = json_dumps(def, JSON_COMPACT);
    int rc =
        body != NULL ? write_app(cli, "POST", "/v2/apps", body, id) : cli_error("out of memory");
    free(body);
    json_decref(def);
    return rc;
}

static void app_row(const json_t *app, const char **cells, char scratch[][CLI_CELL_LEN],
                    void *deployments)
{
    const char *id = cli_json_str(app, "id", "");
    int instances = (int)cli_json_num(app, "instances", 0);
    snprintf(scratch[1], CLI_CELL_LEN, "%g", cli_json_num(app, "mem", 0));
    snprintf(scratch[2], CLI_CELL_LEN, "%g", cli_json_num(app, "cpus", 0));
    snprintf(scratch[3], CLI_CELL_LEN, "%d/%d", (int)cli_json_num(app, "tasksRunning", 0),
             instances);
    if (json_array_size(json_object_get(app, "healthChecks")) > 0)
        snprintf(scratch[4], CLI_CELL_LEN, "%d/%d", (int)cli_json_num(app, "tasksHealthy", 0),
                 instances);
    else
        snprintf(scratch[4], CLI_CELL_LEN, "---");
    snprintf(scratch[5], CLI_CELL_LEN, "---");
    size_t i;
    json_t *d;
    json_array_foreach((json_t *)deployments, i, d)
    {
        char actions[CLI_CELL_LEN];
        cli_deployment_actions(d, id, actions, sizeof(actions));
        if (actions[0] != '\0')
            snprintf(scratch[5], CLI_CELL_LEN, "%s", actions);
    }
    for (int c = 1; c < 6; c++)
        cells[c] = scratch[c];
    cells[0] = id;
    cells[6] = cli_json_str(app, "cmd", "");
}

static const cli_list_t app_table = {7,
                                     {"ID", "MEM", "CPUS", "TASKS", "HEALTH", "DEPLOYMENT", "CMD"},
                                     "There are no apps.",
                                     app_row};

static int app_list(const cli_t *cli)
{
    json_t *reply = cli_http_get(&cli->marathon, "/v2/apps");
    if (reply == NULL)
        return 1;
    json_t *apps = json_object_get(reply, "apps");
    json_t *deployments = NULL;
    int rc;
    if (!json_is_array(apps))
        rc = cli_error("Marathon's /v2/apps answer has no \"apps\" array");
    else if ((cli->options & CLI_OPT_JSON) == 0 &&
             (deployments = cli_http_get(&cli->marathon, "/v2/deployments")) == NULL)
        rc = 1;
    else
        rc = cli_list_print(cli, apps, &app_table, deployments);
    json_decref(deployments);
    json_decref(reply);
    return rc;
}

/* GET of one app's path (suffix ""or "/versions"): the answer, or NULL after printing why. */
static json_t *get_app(const cli_t *cli, const char *suffix)
{
    char *path = app_path(cli->args[0], suffix, false);
    json_t *reply = path != NULL ? cli_http_get(&cli->marathon, path) : NULL;
    free(path);
    return reply;
}

static int app_show(const cli_t *cli)
{
    json_t *reply = get_app(cli, "");
    if (reply == NULL)
        return 1;
    json_t *app = json_object_get(reply, "app");
    int rc = app != NULL ? cli_json_print(app) : cli_error("Marathon's answer has no \"app\"");
    json_decref(reply);
    return rc;
}

static int app_scale(const cli_t *cli)
{
    const char *n = cli->args[1];
    char *end = NULL;
    errno = 0;
    long instances = strtol(n, &end, 10);
    if (n[0] < '0' || n[0] > '9' || *end != '\0' || errno != 0 || instances > INT_MAX)
        return cli_error("the number of instances must be a whole number from 0, not '%s'", n);
    char body[64];
    snprintf(body, sizeof(body), "{\"instances\": %ld}", instances);
    return write_existing(cli, "PUT", "", body);
}

static int app_restart(const cli_t *cli)
{
    return write_existing(cli, "POST", "/restart", NULL);
}

static int app_remove(const cli_t *cli)
{
    return write_existing(cli, "DELETE", "", NULL);
}

static void version_row(const json_t *v, const char **cells, char scratch[][CLI_CELL_LEN],
                        void *arg)
{
    (void)scratch, (void)arg;
    cells[0] = json_is_string(v) ? json_string_value(v) : "";
}

static const cli_list_t version_table = {1, {"VERSION"}, "The app has no versions.", version_row};

static int app_versions(const cli_t *cli)
{
    json_t *reply = get_app(cli, "/versions");
    if (reply == NULL)
        return 1;
    json_t *versions = json_object_get(reply, "versions");
    int rc = json_is_array(versions) ? cli_list_print(cli, versions, &version_table, NULL)
                                     : cli_error("Marathon's answer has no \"versions\" array");
    json_decref(reply);
    return rc;
}

#define WRITE_OPTIONS (CLI_OPT_JSON | CLI_OPT_WAIT | CLI_OPT_TIMEOUT)
#define WAIT_HELP                                                                                  \
    "  --wait          wait until the deployment finished, with a progress bar when stdout is\n"   \
    "                  a terminal\n"                                                               \
    "  --timeout=SECS  give up waiting after SECS seconds (default 600), exit status 1\n"          \
    "  --json          print Marathon's JSON answer instead of \"Created deployment ID\"\n"
#define FORCE_HELP "  --force         override the lock of a deployment already changing the app\n"

const cli_command_t cli_app_commands[] = {
    {"app", "add", "[FILE]", 0, 1, WRITE_OPTIONS, "Add an app from its JSON definition.",
     "POSTs the app definition in FILE (stdin when FILE is absent or '-') to Marathon's\n"
     "/v2/apps, which starts deploying it, and prints the deployment's id.\n"
     "\n"
     "Options:\n" WAIT_HELP,
     app_add},
    {"app", "list", "", 0, 0, CLI_OPT_JSON, "List Marathon's apps.",
     "Shows each app (Marathon's /v2/apps): id, memory, CPUs, tasks running of instances,\n"
     "healthy tasks of instances (--- without health checks), the deployment changing it\n"
     "(start, scale, restart, stop; --- for none) and its command.\n"
     "\n"
     "Options:\n"
     "  --json  print Marathon's JSON array of apps instead of a table\n",
     app_list},
    {"app", "show", "ID", 1, 1, CLI_OPT_JSON, "Show an app as JSON.",
     "Prints app ID (Marathon's /v2/apps/ID: its definition, its counts of tasks, its tasks and\n"
     "deployments) as JSON.\n"
     "\n"
     "Options:\n"
     "  --json  accepted for symmetry: the output is JSON either way\n",
     app_show},
    {"app", "scale", "ID N", 2, 2, WRITE_OPTIONS | CLI_OPT_FORCE, "Scale an app to N instances.",
     "Sets app ID's instances to N (a PUT of {\"instances\": N} to /v2/apps/ID) and prints\n"
     "the deployment's id.\n"
     "\n"
     "Options:\n" WAIT_HELP FORCE_HELP,
     app_scale},
    {"app", "restart", "ID", 1, 1, WRITE_OPTIONS | CLI_OPT_FORCE, "Restart an app's tasks.",
     "Replaces every task of app ID with a new one, by the app's upgradeStrategy (a POST to\n"
     "/v2/apps/ID/restart), and prints the deployment's id.\n"
     "\n"
     "Options:\n" WAIT_HELP FORCE_HELP,
     app_restart},
    {"app", "remove", "ID", 1, 1, WRITE_OPTIONS | CLI_OPT_FORCE, "Remove an app.",
     "Kills app ID's tasks and deletes the app (a DELETE of /v2/apps/ID), and prints the\n"
     "deployment's id.\n"
     "\n"
     "Options:\n" WAIT_HELP FORCE_HELP,
     app_remove},
    {"app", "versions", "ID", 1, 1, CLI_OPT_JSON, "List the versions of an app.",
     "Shows the versions Marathon keeps of app ID's definition (/v2/apps/ID/versions), in\n"
     "Marathon's order.\n"
     "\n"
     "Options:\n"
     "  --json  print Marathon's JSON array of versions instead of a table\n",
     app_versions},
    {0},
};
