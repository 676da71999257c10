/*
 * mesos: the command-line tool (cli.h), in the style of Mesos's CLI and DC/OS's `dcos marathon`:
 *
 *   mesos [--master=HOST:PORT] [--marathon=URL] <group> <command> [arguments] [options]
 *
 * Options may come anywhere on the line, as `--name=value` or `--name value`; `--` ends them.
 * The master's address comes from --master, else MESOS_MASTER, else 127.0.0.1:5050; Marathon's
 * from --marathon, else MARATHON_URL, else http://127.0.0.1:8080. Every command takes --help.
 * Exit status: 0 on success, 1 on any failure (a usage error, a server unreachable or refusing).
 */
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "tools/cli/cli.h"

#define DEFAULT_MASTER   "127.0.0.1:5050"
#define DEFAULT_MARATHON "http://127.0.0.1:8080"

typedef struct option {
    const char *name;
    unsigned bit;     /* CLI_OPT_*; 0 for --master and --marathon */
    bool takes_value; /* --name=VALUE */
    const char *usage;
} option_t;

static const option_t options[] = {
    {"master", 0, true, NULL},
    {"marathon", 0, true, NULL},
    {"json", CLI_OPT_JSON, false, "[--json]"},
    {"all", CLI_OPT_ALL, false, "[--all]"},
    {"follow", CLI_OPT_FOLLOW, false, "[--follow]"},
    {"stderr", CLI_OPT_STDERR, false, "[--stderr]"},
    {"wait", CLI_OPT_WAIT, false, "[--wait]"},
    {"timeout", CLI_OPT_TIMEOUT, true, "[--timeout=SECS]"},
    {"force", CLI_OPT_FORCE, false, "[--force]"},
    {"help", CLI_OPT_HELP, false, NULL},
};

static const cli_command_t *const groups[] = {
    cli_agent_commands, cli_framework_commands,  cli_task_commands,
    cli_app_commands,   cli_deployment_commands,
};

#define GROUP_COUNT (sizeof(groups) / sizeof(groups[0]))

static const char global_help[] =
    "Options every command takes:\n"
    "  --master=HOST:PORT  the master (default: $MESOS_MASTER, else " DEFAULT_MASTER ")\n"
    "  --marathon=URL      Marathon (default: $MARATHON_URL, else " DEFAULT_MARATHON ")\n"
    "  --help, -h          this help\n";

typedef struct parsed {
    char **positional;
    size_t npositional;
    unsigned options;
    const char *master, *marathon, *timeout;
} parsed_t;

static const option_t *find_option(const char *name, size_t len)
{
    for (size_t i = 0; i < sizeof(options) / sizeof(options[0]); i++) {
        if (strlen(options[i].name) == len && strncmp(options[i].name, name, len) == 0)
            return &options[i];
    }
    return NULL;
}

/* Parses one "--name[=value]" at argv[*i] (taking argv[*i + 1] as its value when needed). */
static int parse_option(parsed_t *p, int argc, char **argv, int *i)
{
    const char *arg = strcmp(argv[*i], "-h") == 0 ? "--help" : argv[*i];
    const char *eq = strchr(arg, '=');
    size_t len = eq != NULL ? (size_t)(eq - arg - 2) : strlen(arg + 2);
    const option_t *o = find_option(arg + 2, len);
    if (o == NULL)
        return cli_error("unknown option '%.*s'; see 'mesos --help'", (int)(len + 2), arg);
    const char *value = eq != NULL ? eq + 1 : NULL;
    if (!o->takes_value && value != NULL)
        return cli_error("option '--%s' takes no value", o->name);
    if (o->takes_value && value == NULL) {
        if (*i + 1 >= argc)
            return cli_error("option '--%s' needs a value", o->name);
        value = argv[++*i];
    }
    p->options |= o->bit;
    if (strcmp(o->name, "master") == 0)
        p->master = value;
    else if (strcmp(o->name, "marathon") == 0)
        p->marathon = value;
    else if (o->bit == CLI_OPT_TIMEOUT)
        p->timeout = value;
    return 0;
}

static int parse(parsed_t *p, int argc, char **argv)
{
    bool only_positional = false;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (!only_positional && strcmp(arg, "--") == 0) {
            only_positional = true;
        } else if (!only_positional && (strncmp(arg, "--", 2) == 0 || strcmp(arg, "-h") == 0)) {
            if (parse_option(p, argc, argv, &i) != 0)
                return 1;
        } else {
            p->positional[p->npositional++] = argv[i];
        }
    }
    return 0;
}

static void print_command_line(const cli_command_t *c, FILE *out)
{
    fprintf(out, "Usage: mesos %s %s", c->group, c->name);
    if (c->args[0] != '\0')
        fprintf(out, " %s", c->args);
    for (size_t i = 0; i < sizeof(options) / sizeof(options[0]); i++) {
        if ((c->options & options[i].bit) != 0 && options[i].usage != NULL)
            fprintf(out, " %s", options[i].usage);
    }
    fputc('\n', out);
}

static void print_command_help(const cli_command_t *c)
{
    print_command_line(c, stdout);
    printf("\n%s\n\n%s\n%s", c->summary, c->help, global_help);
}

/* The commands of one group (group NULL: all of them). */
static void print_commands(FILE *out, const char *group)
{
    for (size_t g = 0; g < GROUP_COUNT; g++) {
        for (const cli_command_t *c = groups[g]; c->group != NULL; c++) {
            if (group != NULL && strcmp(group, c->group) != 0)
                continue;
            char name[64];
            snprintf(name, sizeof(name), "%s %s %s", c->group, c->name, c->args);
            fprintf(out, "  %-28s %s\n", name, c->summary);
        }
    }
}

static void print_usage(FILE *out, const char *group)
{
    fprintf(out,
            "Usage: mesos [--master=HOST:PORT] [--marathon=URL] %s <command> [arguments] "
            "[options]\n\nCommands:\n",
            group != NULL ? group : "<group>");
    print_commands(out, group);
    fprintf(out, "\n%s\n'mesos %s <command> --help' describes a command.\n", global_help,
            group != NULL ? group : "<group>");
}

static const cli_command_t *find_command(const char *group, const char *name, bool *group_known)
{
    *group_known = false;
    for (size_t g = 0; g < GROUP_COUNT; g++) {
        for (const cli_command_t *c = groups[g]; c->group != NULL; c++) {
            if (strcmp(c->group, group) != 0)
                continue;
            *group_known = true;
            if (name != NULL && strcmp(c->name, name) == 0)
                return c;
        }
    }
    return NULL;
}

/* Fills cli from the parsed line for command c; returns 0 or 1 after printing why. */
static int setup(cli_t *cli, const parsed_t *p, const cli_command_t *c)
{
    unsigned extra = p->options & ~(c->options | CLI_OPT_HELP);
    for (size_t i = 0; extra != 0 && i < sizeof(options) / sizeof(options[0]); i++) {
        if ((extra & options[i].bit) != 0)
            return cli_error("'mesos %s %s' does not take --%s; see 'mesos %s %s --help'", c->group,
                             c->name, options[i].name, c->group, c->name);
    }
    size_t nargs = p->npositional - 2;
    if (nargs < c->min_args || nargs > c->max_args)
        return cli_error("'mesos %s %s' takes %s%s; see 'mesos %s %s --help'", c->group, c->name,
                         c->args[0] != '\0' ? c->args : "no arguments",
                         c->args[0] != '\0' ? " as arguments" : "", c->group, c->name);
    cli->options = p->options;
    cli->args = p->positional + 2;
    cli->nargs = nargs;
    cli->timeout = CLI_WAIT_TIMEOUT_DEFAULT;
    if (p->timeout != NULL) {
        char *end = NULL;
        cli->timeout = strtod(p->timeout, &end);
        if (end == p->timeout || *end != '\0' || !(cli->timeout > 0))
            return cli_error("--timeout must be a positive number of seconds, not '%s'",
                             p->timeout);
    }
    const char *master = p->master != NULL ? p->master : getenv("MESOS_MASTER");
    const char *marathon = p->marathon != NULL ? p->marathon : getenv("MARATHON_URL");
    if (cli_server_set(&cli->master, "the master", master ? master : DEFAULT_MASTER) != 0 ||
        cli_server_set(&cli->marathon, "Marathon", marathon ? marathon : DEFAULT_MARATHON) != 0)
        return 1;
    return 0;
}

/* Finds and runs the command the parsed line names. */
static int dispatch(const parsed_t *p)
{
    bool help = (p->options & CLI_OPT_HELP) != 0;
    if (p->npositional == 0) {
        print_usage(help ? stdout : stderr, NULL);
        return help ? 0 : 1;
    }
    bool group_known;
    const char *group = p->positional[0];
    const cli_command_t *c =
        find_command(group, p->npositional > 1 ? p->positional[1] : NULL, &group_known);
    if (!group_known)
        return cli_error("unknown command '%s'; see 'mesos --help'", group);
    if (c == NULL && p->npositional > 1)
        return cli_error("unknown command '%s %s'; see 'mesos %s --help'", group, p->positional[1],
                         group);
    if (c == NULL) {
        print_usage(help ? stdout : stderr, group);
        return help ? 0 : 1;
    }
    if (help) {
        print_command_help(c);
        return 0;
    }
    cli_t cli = {0};
    int rc = setup(&cli, p, c);
    if (rc == 0)
        rc = c->run(&cli);
    free(cli.master.base);
    free(cli.marathon.base);
    return rc;
}

int main(int argc, char **argv)
{
    parsed_t p = {.positional = calloc((size_t)argc + 1, sizeof(char *))};
    if (p.positional == NULL)
        return cli_error("out of memory");
    int rc = parse(&p, argc, argv);
    if (rc == 0) {
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
            rc = cli_error("cannot initialise libcurl");
        } else {
            rc = dispatch(&p);
            curl_global_cleanup();
        }
    }
    free(p.positional);
    return rc;
}
