/*
 * deployment.c: `mesos deployment list` (Marathon's /v2/deployments) and the --wait of the app
 * commands: poll /v2/deployments until the deployment is gone, drawing a progress bar when
 * stdout is a terminal.
 *
 * Marathon removes a deployment from /v2/deployments when it finished (or was cancelled), so
 * "gone" is the end. The bar shows the deployment's steps done of its total and the app's
 * instances running of those wanted (none for a stop); its fill is the steps done plus, within
 * the current step, how far the instance count has come.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "tools/cli/cli.h"

#define BAR_WIDTH 30
#define POLL_NS   500000000L /* twice a second */

/* Where a running deployment stands. */
typedef struct progress {
    int step, steps;     /* the current step (1-based) of steps */
    int running, wanted; /* the app's instances running, and wanted at the end */
    int initial;         /* instances running at the first poll (how far a stop has to go) */
    bool stopping;       /* a StopApplication: wanted is 0 */
} progress_t;

static const char *short_action(const char *action)
{
    static const char *const names[][2] = {{"StartApplication", "start"},
                                           {"ScaleApplication", "scale"},
                                           {"RestartApplication", "restart"},
                                           {"StopApplication", "stop"}};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (strcmp(action, names[i][0]) == 0)
            return names[i][1];
    }
    return action;
}

void cli_deployment_actions(const json_t *deployment, const char *app_id, char *buf, size_t len)
{
    size_t used = 0, i;
    json_t *a;
    buf[0] = '\0';
    json_array_foreach(json_object_get(deployment, "currentActions"), i, a)
    {
        if (app_id != NULL && strcmp(cli_json_str(a, "app", ""), app_id) != 0)
            continue;
        int n = snprintf(buf + used, len - used, "%s%s", used > 0 ? "," : "",
                         short_action(cli_json_str(a, "action", "?")));
        if (n < 0 || (size_t)n >= len - used)
            break;
        used += (size_t)n;
    }
}

static void deployment_row(const json_t *d, const char **cells, char scratch[][CLI_CELL_LEN],
                           void *arg)
{
    (void)arg;
    size_t used = 0, i;
    json_t *app;
    scratch[0][0] = '\0';
    json_array_foreach(json_object_get(d, "affectedApps"), i, app)
    {
        int n = snprintf(scratch[0] + used, CLI_CELL_LEN - used, "%s%s", used > 0 ? "," : "",
                         json_is_string(app) ? json_string_value(app) : "?");
        if (n < 0 || (size_t)n >= CLI_CELL_LEN - used)
            break;
        used += (size_t)n;
    }
    cli_deployment_actions(d, NULL, scratch[1], CLI_CELL_LEN);
    snprintf(scratch[2], CLI_CELL_LEN, "%d/%d", (int)cli_json_num(d, "currentStep", 0),
             (int)cli_json_num(d, "totalSteps", 0));
    cells[0] = scratch[0];
    cells[1] = scratch[1];
    cells[2] = scratch[2];
    cells[3] = cli_json_str(d, "id", "");
}

static const cli_list_t deployment_table = {
    4, {"APP", "ACTION", "PROGRESS", "ID"}, "There are no deployments.", deployment_row};

static int deployment_list(const cli_t *cli)
{
    json_t *deployments = cli_http_get(&cli->marathon, "/v2/deployments");
    if (deployments == NULL)
        return 1;
    int rc = json_is_array(deployments)
                 ? cli_list_print(cli, deployments, &deployment_table, NULL)
                 : cli_error("Marathon's /v2/deployments answer is not an array");
    json_decref(deployments);
    return rc;
}

/* ---- --wait ---- */

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The deployment of id in Marathon's list, or NULL. */
static const json_t *find_deployment(const json_t *deployments, const char *id)
{
    size_t i;
    json_t *d;
    json_array_foreach(deployments, i, d)
    {
        if (strcmp(cli_json_str(d, "id", ""), id) == 0)
            return d;
    }
    return NULL;
}

/* Reads the app's instance counts into p (an app that is gone has none). Returns 0 or 1. */
static int read_app(const cli_t *cli, const char *app_id, progress_t *p)
{
    char *id_q = cli_url_escape(app_id, "/"), *path = NULL;
    if (id_q == NULL || asprintf(&path, "/v2/apps?id=%s", id_q) < 0) {
        free(id_q);
        return cli_error("out of memory");
    }
    json_t *reply = cli_http_get(&cli->marathon, path);
    free(path);
    free(id_q);
    if (reply == NULL)
        return 1;
    p->running = 0;
    size_t i;
    json_t *app;
    json_array_foreach(json_object_get(reply, "apps"), i, app)
    {
        if (strcmp(cli_json_str(app, "id", ""), app_id) != 0)
            continue;
        p->running = (int)cli_json_num(app, "tasksRunning", 0);
        if (!p->stopping)
            p->wanted = (int)cli_json_num(app, "instances", 0);
    }
    if (p->initial < 0)
        p->initial = p->running;
    json_decref(reply);
    return 0;
}

static void draw(const progress_t *p, bool done)
{
    double within;
    if (p->wanted > 0)
        within = (double)(p->running < p->wanted ? p->running : p->wanted) / p->wanted;
    else
        within = p->initial > 0 ? (double)(p->initial - p->running) / p->initial : 1.0;
    if (within < 0)
        within = 0;
    int steps = p->steps > 0 ? p->steps : 1;
    double fill = done ? 1.0 : ((p->step > 0 ? p->step - 1 : 0) + within) / steps;
    int bars = (int)(fill * BAR_WIDTH);
    printf("\r[%.*s%*s] %3d%%  step %d/%d  instances: %d running, %d wanted\033[K", bars,
           "##############################", BAR_WIDTH - bars, "", (int)(fill * 100),
           done ? steps : p->step, steps, p->running, p->wanted);
    if (done)
        putchar('\n');
    fflush(stdout);
}

/* One poll: 0 while the deployment runs (p updated), 2 once it is gone, 1 on error. */
static int poll_once(const cli_t *cli, const char *id, const char *app_id, progress_t *p)
{
    json_t *deployments = cli_http_get(&cli->marathon, "/v2/deployments");
    if (deployments == NULL)
        return 1;
    const json_t *d = find_deployment(deployments, id);
    if (d != NULL) {
        char actions[256];
        cli_deployment_actions(d, app_id, actions, sizeof(actions));
        p->stopping = strcmp(actions, "stop") == 0;
        if (p->stopping)
            p->wanted = 0;
        p->step = (int)cli_json_num(d, "currentStep", 1);
        p->steps = (int)cli_json_num(d, "totalSteps", 1);
    }
    json_decref(deployments);
    if (read_app(cli, app_id, p) != 0)
        return 1;
    return d != NULL ? 0 : 2;
}

int cli_deployment_wait(const cli_t *cli, const char *deployment_id, const char *app_id)
{
    bool bar = (cli->options & CLI_OPT_JSON) == 0 && isatty(STDOUT_FILENO);
    progress_t p = {.step = 1, .steps = 1, .initial = -1};
    double deadline = now() + cli->timeout;
    int rc;
    while ((rc = poll_once(cli, deployment_id, app_id, &p)) == 0) {
        if (bar)
            draw(&p, false);
        if (now() >= deadline) {
            if (bar)
                putchar('\n');
            return cli_error("deployment %s still runs after %g s; 'mesos deployment list' "
                             "shows it",
                             deployment_id, cli->timeout);
        }
        struct timespec pause = {0, POLL_NS};
        nanosleep(&pause, NULL);
    }
    if (rc != 2) {
        if (bar)
            putchar('\n');
        return 1;
    }
    if (bar)
        draw(&p, true);
    if ((cli->options & CLI_OPT_JSON) == 0)
        printf("Deployment %s finished\n", deployment_id);
    return 0;
}

const cli_command_t cli_deployment_commands[] = {
    {"deployment", "list", "", 0, 0, CLI_OPT_JSON, "List Marathon's running deployments.",
     "Shows each deployment Marathon is running (its /v2/deployments): the apps it changes,\n"
     "what it does to them (start, scale, restart, stop), its step of its steps, and its id.\n"
     "\n"
     "Options:\n"
     "  --json  print Marathon's JSON array of deployments instead of a table\n",
     deployment_list},
    {0},
};
