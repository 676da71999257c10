/*
 * framework.c: `mesos framework list`, the frameworks the master knows, from its /frameworks
 * endpoint (as Mesos's CLI plugin does): active ones, or with --all the inactive and completed
 * ones too.
 */
#include <stdio.h>

#include "tools/cli/cli.h"

/* The frameworks to show: the active ones of "frameworks", or all of them and the completed. */
static json_t *select_frameworks(const json_t *reply, bool all)
{
    json_t *out = json_array();
    size_t i;
    json_t *f;
    json_array_foreach(json_object_get(reply, "frameworks"), i, f)
    {
        if (all || json_is_true(json_object_get(f, "active")))
            json_array_append(out, f);
    }
    if (all)
        json_array_extend(out, json_object_get(reply, "completed_frameworks"));
    return out;
}

static void framework_row(const json_t *f, const char **cells, char scratch[][CLI_CELL_LEN],
                          void *arg)
{
    (void)scratch, (void)arg;
    cells[0] = cli_json_str(f, "id", "");
    cells[1] = json_is_true(json_object_get(f, "active")) ? "True" : "False";
    cells[2] = cli_json_str(f, "hostname", "");
    cells[3] = cli_json_str(f, "name", "");
}

static const cli_list_t framework_table = {4,
                                           {"ID", "Active", "Hostname", "Name"},
                                           "The cluster does not have any frameworks.",
                                           framework_row};

static int framework_list(const cli_t *cli)
{
    json_t *reply = cli_http_get(&cli->master, "/frameworks");
    if (reply == NULL)
        return 1;
    json_t *frameworks = select_frameworks(reply, (cli->options & CLI_OPT_ALL) != 0);
    int rc = frameworks != NULL ? cli_list_print(cli, frameworks, &framework_table, NULL)
                                : cli_error("out of memory");
    json_decref(frameworks);
    json_decref(reply);
    return rc;
}

const cli_command_t cli_framework_commands[] = {
    {"framework", "list", "", 0, 0, CLI_OPT_JSON | CLI_OPT_ALL,
     "List the frameworks of the cluster.",
     "Shows the active frameworks the master knows (its /frameworks endpoint): id, whether\n"
     "active, hostname and name.\n"
     "\n"
     "Options:\n"
     "  --all   also the inactive frameworks and the completed ones\n"
     "  --json  print the master's JSON objects of these frameworks as an array\n",
     framework_list},
    {0},
};
