/*
 * agent.c: `mesos agent list`, the agents the master knows, from its /slaves endpoint (as
 * Mesos's CLI plugin does): id, hostname, whether active, and CPUs and memory used of total.
 */
#include <stdio.h>

#include "tools/cli/cli.h"

/* "used/total" of one resource, as the master's flat resource objects give them. */
static void used_of_total(char *buf, const json_t *agent, const char *name)
{
    double used = cli_json_num(json_object_get(agent, "used_resources"), name, 0);
    double total = cli_json_num(json_object_get(agent, "resources"), name, 0);
    snprintf(buf, CLI_CELL_LEN, "%g/%g", used, total);
}

static void agent_row(const json_t *a, const char **cells, char scratch[][CLI_CELL_LEN], void *arg)
{
    (void)arg;
    used_of_total(scratch[3], a, "cpus");
    used_of_total(scratch[4], a, "mem");
    cells[0] = cli_json_str(a, "id", "");
    cells[1] = cli_json_str(a, "hostname", "");
    cells[2] = json_is_true(json_object_get(a, "active")) ? "True" : "False";
    cells[3] = scratch[3];
    cells[4] = scratch[4];
}

static const cli_list_t agent_table = {5,
                                       {"Agent ID", "Hostname", "Active", "CPUs", "Mem (MB)"},
                                       "The cluster does not have any agents.",
                                       agent_row};

static int agent_list(const cli_t *cli)
{
    json_t *reply = cli_http_get(&cli->master, "/slaves");
    if (reply == NULL)
        return 1;
    json_t *agents = json_object_get(reply, "slaves");
    int rc = json_is_array(agents)
                 ? cli_list_print(cli, agents, &agent_table, NULL)
                 : cli_error("the master's /slaves answer has no \"slaves\" array");
    json_decref(reply);
    return rc;
}

const cli_command_t cli_agent_commands[] = {
    {"agent", "list", "", 0, 0, CLI_OPT_JSON, "List the agents of the cluster.",
     "Shows each agent the master knows (its /slaves endpoint): its id, hostname, whether it\n"
     "is active, and the CPUs and memory its tasks use of its total.\n"
     "\n"
     "Options:\n"
     "  --json  print the master's JSON array of agents instead of a table\n",
     agent_list},
    {0},
};
