/*
 * cli.h: the `mesos` command-line tool's shared pieces (tools/cli/), in the style of Mesos's CLI
 * (`mesos agent list`) and DC/OS's `dcos marathon` (`mesos app add app.json`).
 *
 * main.c parses the command line into a cli_t and runs one command from the groups' tables
 * (agent.c, framework.c, task.c, app.c, deployment.c). A command talks HTTP to the master, to
 * Marathon or to an agent through http.c (libcurl's easy interface: a CLI may block) and prints
 * a table for people (table.c) or, with --json, the servers' JSON for scripts. Every error goes
 * to stderr as one line starting with "mesos: ", with the server's own message when it sent
 * one; a command returns 0 on success and 1 on any failure, which becomes the exit status.
 *
 * Nothing here is thread-safe or meant to be: one command runs in one process and exits.
 */
#ifndef TOOLS_CLI_CLI_H
#define TOOLS_CLI_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

/* Options a command may accept (besides --master, --marathon and --help, which all accept). */
#define CLI_OPT_JSON    (1u << 0) /* --json: the servers' JSON instead of a table */
#define CLI_OPT_ALL     (1u << 1) /* --all: inactive or completed entries too */
#define CLI_OPT_FOLLOW  (1u << 2) /* --follow: keep printing new output, as tail -f */
#define CLI_OPT_STDERR  (1u << 3) /* --stderr: the task's stderr instead of its stdout */
#define CLI_OPT_WAIT    (1u << 4) /* --wait: until the deployment finished */
#define CLI_OPT_FORCE   (1u << 5) /* --force: override the app's deployment lock */
#define CLI_OPT_TIMEOUT (1u << 6) /* --timeout=SECS: longest --wait */
#define CLI_OPT_HELP    (1u << 7) /* --help, -h */

/* Seconds --wait waits for a deployment unless --timeout says otherwise. */
#define CLI_WAIT_TIMEOUT_DEFAULT 600.0

/* A server the CLI talks to: its name in messages ("the master") and its base URL. */
typedef struct cli_server {
    const char *name; /* "the master", "Marathon", "the agent at 10.0.0.2:5051" */
    char *base;       /* "http://host:port" (maybe with a path), no trailing '/'; owned */
} cli_server_t;

/* The parsed command line. */
typedef struct cli {
    cli_server_t master;   /* --master, MESOS_MASTER, else 127.0.0.1:5050 */
    cli_server_t marathon; /* --marathon, MARATHON_URL, else 127.0.0.1:8080 */
    unsigned options;      /* CLI_OPT_* given */
    double timeout;        /* --timeout in seconds (CLI_WAIT_TIMEOUT_DEFAULT) */
    char **args;           /* the command's positional arguments (borrowed from argv) */
    size_t nargs;
} cli_t;

/* One command: `mesos <group> <name> <args> [options]`. Tables end with a zeroed entry. */
typedef struct cli_command {
    const char *group;            /* "app" */
    const char *name;             /* "scale" */
    const char *args;             /* the positional arguments in the usage line: "ID N" */
    size_t min_args;              /* fewest positional arguments */
    size_t max_args;              /* most positional arguments */
    unsigned options;             /* CLI_OPT_* accepted */
    const char *summary;          /* one line */
    const char *help;             /* the rest of --help: what it does and its options */
    int (*run)(const cli_t *cli); /* 0 on success, 1 after printing an error */
} cli_command_t;

extern const cli_command_t cli_agent_commands[];
extern const cli_command_t cli_framework_commands[];
extern const cli_command_t cli_task_commands[];
extern const cli_command_t cli_app_commands[];
extern const cli_command_t cli_deployment_commands[];

/* ---- http.c ---- */

/* A 2xx answer. */
typedef struct cli_reply {
    long status;
    json_t *json;            /* the parsed body; NULL when the body was empty; owned */
    char deployment_id[128]; /* the Marathon-Deployment-Id header, "" if none */
} cli_reply_t;

/* Prints "mesos: <message>\n" to stderr. Returns 1, the exit status of a failed command. */
int cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Sends method to server's base + path (path starts with '/'; already escaped) with body (JSON
 * text, or NULL for none) and waits for the answer (at most 30 s). On a 2xx answer whose body is
 * JSON or empty, fills *reply (release it with cli_reply_fini) and returns 0. Otherwise prints
 * why (the server unreachable, its status and its own message, or an answer that is not JSON) and
 * returns -1 with *reply empty. */
int cli_http(const cli_server_t *server, const char *method, const char *path, const char *body,
             cli_reply_t *reply);

/* Releases what a reply holds. */
void cli_reply_fini(cli_reply_t *reply);

/* GET server's path: the parsed JSON answer (owned by the caller), or NULL after printing why
 * (an empty answer counts as an error). */
json_t *cli_http_get(const cli_server_t *server, const char *path);

/* s percent-encoded for a URL, keeping the characters in `keep` (such as "/") as they are: a
 * heap string for the caller to free, or NULL when memory is short. */
char *cli_url_escape(const char *s, const char *keep);

/* Sets server's base URL from an address: "host:port", "http://host:port[/prefix]" or
 * "https://..."; a trailing '/' is dropped. Returns 0, or -1 after printing why (an empty
 * address, a ZooKeeper URL, which needs a leader election this CLI does not do). */
int cli_server_set(cli_server_t *server, const char *name, const char *address);

/* ---- table.c ---- */

/* A table of text cells printed in aligned columns, Mesos CLI style. */
typedef struct cli_table {
    size_t columns;
    size_t rows;  /* data rows; the header is row 0 of cells */
    char **cells; /* (rows + 1) x columns heap strings */
} cli_table_t;

/* Starts a table with the given column headers (copied). Returns 0, or -1 when memory is short. */
int cli_table_init(cli_table_t *t, size_t columns, const char *const *headers);

/* Adds a row of t->columns cells (copied; NULL prints as ""). Returns 0, or -1 when memory is
 * short. */
int cli_table_add(cli_table_t *t, const char *const *cells);

/* Prints the header and rows, columns padded to their widest cell and two spaces apart. */
void cli_table_print(const cli_table_t *t, FILE *out);

/* Releases the cells. */
void cli_table_fini(cli_table_t *t);

/* Most columns of a cli_list_t table, and the room each row has for formatted cells. */
#define CLI_LIST_COLUMNS 8
#define CLI_CELL_LEN     256

/* How a list command shows an array of JSON objects. */
typedef struct cli_list {
    size_t columns;                        /* at most CLI_LIST_COLUMNS */
    const char *headers[CLI_LIST_COLUMNS]; /* column titles */
    const char *empty;                     /* printed instead of an empty table */
    /* Fills cells[0..columns) for item; a cell may point into item, into the static strings,
     * or into scratch[column] (CLI_CELL_LEN bytes each). arg is cli_list_print's. */
    void (*row)(const json_t *item, const char **cells, char scratch[][CLI_CELL_LEN], void *arg);
} cli_list_t;

/* Prints items (an array) for the command line's output mode: with --json as JSON, else as a
 * table of list's columns, or list->empty when there are none. Returns 0, or 1 after printing
 * why. */
int cli_list_print(const cli_t *cli, const json_t *items, const cli_list_t *list, void *arg);

/* Prints json indented by two spaces and a newline to stdout. Returns 0, or 1 when it cannot be
 * encoded. */
int cli_json_print(const json_t *json);

/* The string member key of object, or fallback when absent or not a string. */
const char *cli_json_str(const json_t *object, const char *key, const char *fallback);

/* The number member key of object (integer or real), or fallback. */
double cli_json_num(const json_t *object, const char *key, double fallback);

/* ---- deployment.c ---- */

/* Waits until Marathon's /v2/deployments no longer lists deployment_id, polling twice a second
 * for at most cli->timeout seconds. When stdout is a terminal it draws a progress bar there
 * (steps done of the deployment's total, app_id's instances running of those wanted); without
 * --json it prints "Deployment ID finished" at the end. Returns 0, or 1 after printing why
 * (Marathon unreachable or the time is up). */
int cli_deployment_wait(const cli_t *cli, const char *deployment_id, const char *app_id);

/* The actions deployment (a /v2/deployments entry) is running on app_id (NULL: on any app), by
 * short name ("start", "scale", "restart", "stop"; other names as Marathon spells them), joined
 * with ',' into buf ("" for none). */
void cli_deployment_actions(const json_t *deployment, const char *app_id, char *buf, size_t len);

#endif
