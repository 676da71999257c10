/*
 * table.c: aligned text tables and JSON printing for the CLI's output (cli.h). Column widths
 * count bytes, which is right for the ids, hosts and numbers the tables hold.
 */
#include <stdlib.h>
#include <string.h>

#include "tools/cli/cli.h"

int cli_table_init(cli_table_t *t, size_t columns, const char *const *headers)
{
    t->columns = columns;
    t->rows = 0;
    t->cells = NULL;
    if (cli_table_add(t, headers) != 0)
        return -1;
    t->rows = 0; /* the header is not a data row */
    return 0;
}

int cli_table_add(cli_table_t *t, const char *const *cells)
{
    size_t have = t->cells == NULL ? 0 : (t->rows + 1) * t->columns;
    char **grown = realloc(t->cells, (have + t->columns) * sizeof(*grown));
    if (grown == NULL)
        return -1;
    t->cells = grown;
    for (size_t c = 0; c < t->columns; c++) {
        grown[have + c] = strdup(cells[c] != NULL ? cells[c] : "");
        if (grown[have + c] == NULL) {
            for (size_t k = 0; k < c; k++)
                free(grown[have + k]);
            return -1;
        }
    }
    if (have > 0)
        t->rows++;
    return 0;
}

void cli_table_print(const cli_table_t *t, FILE *out)
{
    size_t *width = calloc(t->columns, sizeof(*width));
    if (width == NULL)
        return;
    for (size_t r = 0; r <= t->rows; r++) {
        for (size_t c = 0; c < t->columns; c++) {
            size_t len = strlen(t->cells[r * t->columns + c]);
            if (len > width[c])
                width[c] = len;
        }
    }
    for (size_t r = 0; r <= t->rows; r++) {
        for (size_t c = 0; c < t->columns; c++) {
            const char *cell = t->cells[r * t->columns + c];
            if (c + 1 == t->columns)
                fprintf(out, "%s\n", cell);
            else
                fprintf(out, "%-*s  ", (int)width[c], cell);
        }
    }
    free(width);
}

void cli_table_fini(cli_table_t *t)
{
    size_t n = t->cells == NULL ? 0 : (t->rows + 1) * t->columns;
    for (size_t i = 0; i < n; i++)
        free(t->cells[i]);
    free(t->cells);
    t->cells = NULL;
    t->rows = 0;
}

int cli_json_print(const json_t *json)
{
    char *text = json_dumps(json, JSON_INDENT(2) | JSON_ENCODE_ANY);
    if (text == NULL)
        return cli_error("cannot encode the answer as JSON");
    puts(text);
    free(text);
    return 0;
}

const char *cli_json_str(const json_t *object, const char *key, const char *fallback)
{
    const json_t *v = json_object_get(object, key);
    return json_is_string(v) ? json_string_value(v) : fallback;
}

double cli_json_num(const json_t *object, const char *key, double fallback)
{
    const json_t *v = json_object_get(object, key);
    return json_is_number(v) ? json_number_value(v) : fallback;
}

int cli_list_print(const cli_t *cli, const json_t *items, const cli_list_t *list, void *arg)
{
    if ((cli->options & CLI_OPT_JSON) != 0)
        return cli_json_print(items);
    if (json_array_size(items) == 0) {
        printf("%s\n", list->empty);
        return 0;
    }
    cli_table_t t;
    if (cli_table_init(&t, list->columns, list->headers) != 0)
        return cli_error("out of memory");
    size_t i;
    json_t *item;
    int rc = 0;
    json_array_foreach(items, i, item)
    {
        const char *cells[CLI_LIST_COLUMNS] = {0};
        char scratch[CLI_LIST_COLUMNS][CLI_CELL_LEN];
        list->row(item, cells, scratch, arg);
        if (cli_table_add(&t, cells) != 0) {
            rc = cli_error("out of memory");
            break;
        }
    }
    if (rc == 0)
        cli_table_print(&t, stdout);
    cli_table_fini(&t);
    return rc;
}
