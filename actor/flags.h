/*
 * flags.h: command-line flags in Mesos's style, for every binary (mesos-master, mesos-agent,
 * mesos-local, marathon, mesos-execute, sleepy-framework).
 *
 * A binary declares a table: an array of flags_flag_t, one per flag, ended by FLAGS_END. Each entry
 * names the flag, its type, its default as text (parsed like a command-line value), its help, and
 * where the parsed value goes (a destination variable of the type's C type). flags_parse fills the
 * destinations from, in order of precedence, the command line (`--name=value`, `--name value`,
 * `--name` / `--no-name` for booleans), the environment (`<PREFIX><NAME>`, e.g. MESOS_WORK_DIR for
 * --work_dir) and the default, and records in each entry where its value came from. Errors are one
 * line naming the flag, in the words Mesos uses (`Failed to load unknown flag 'foo'`), for the
 * binary to print before exiting with status 1.
 *
 *     static char *work_dir;
 *     static uint64_t port;
 *     static int64_t ping_timeout;
 *     flags_flag_t table[] = {
 *         FLAGS_STRING("work_dir", &work_dir, NULL, "Where to store the registry"),
 *         FLAGS_UINT("port", &port, "5050", "Port to listen on"),
 *         FLAGS_DURATION("agent_ping_timeout", &ping_timeout, "15secs", "Ping timeout"),
 *         FLAGS_END,
 *     };
 *     flags_result_t res;
 *     flags_options_t opts = {.env_prefix = "MESOS_"};
 *     if (flags_parse(table, argc, argv, &opts, &res) != ACTOR_OK) {
 *         fprintf(stderr, "%s\n", res.error);   // exit 1
 *     } else if (res.help) {
 *         flags_usage_write(table, "mesos-master", stdout);   // exit 0
 *     }
 *     ...
 *     flags_free(table);
 *
 * Durations (`flags_duration_parse`) and byte sizes (`flags_bytes_parse`) use Mesos's syntax and
 * print as Mesos prints them, so that `/flags` shows `15secs` and `512MB`.
 *
 * Thread-safety: a table is used by one thread (main, before the runtime starts). The
 * duration and bytes helpers are pure and thread-safe.
 */
#ifndef ACTOR_FLAGS_H
#define ACTOR_FLAGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "actor/error.h"

typedef enum flags_type {
    FLAGS_TYPE_BOOL,     /* bool; true|false (also 1|0) */
    FLAGS_TYPE_INT,      /* int64_t, decimal */
    FLAGS_TYPE_UINT,     /* uint64_t, decimal (ports too) */
    FLAGS_TYPE_DOUBLE,   /* double, finite */
    FLAGS_TYPE_STRING,   /* char *, a heap copy owned by the table until flags_free */
    FLAGS_TYPE_DURATION, /* int64_t nanoseconds; a number and a unit: `15secs`, `1.5mins` */
    FLAGS_TYPE_SECONDS,  /* int64_t nanoseconds; a plain number means seconds, or a duration */
    FLAGS_TYPE_BYTES,    /* uint64_t bytes; a whole number and B, KB, MB, GB or TB (1024-based) */
} flags_type_t;

/* Where a flag's value came from, written by flags_parse. */
typedef enum flags_source {
    FLAGS_SOURCE_UNSET = 0, /* no default and not given: the destination was not touched */
    FLAGS_SOURCE_DEFAULT,   /* the default text */
    FLAGS_SOURCE_ENV,       /* an environment variable */
    FLAGS_SOURCE_ARGV,      /* the command line */
} flags_source_t;

/* One flag. The first six fields are the binary's declaration; use the FLAGS_* macros below,
 * which check at compile time that the destination has the type's C type. */
typedef struct flags_flag {
    const char *name;          /* without dashes: "work_dir"; NULL ends the table */
    flags_type_t type;         /* decides the C type *dest has */
    void *dest;                /* where the value goes; never NULL */
    const char *default_value; /* parsed like a command-line value; NULL: no default */
    const char *help;          /* one sentence or more; may be NULL */
    const char *aliases;       /* other names, comma-separated: "num_slaves"; or NULL */
    /* Written by flags_parse, read by the caller: */
    flags_source_t source; /* where the value came from */
    bool owns_string;      /* *dest is a heap string that flags_free releases */
} flags_flag_t;

/* Compile-time check that ptr has type T * (gcc and clang reject a mismatch under -Werror). */
#define FLAGS_DEST_(T, ptr) (1 ? (ptr) : (T *)0)
#define FLAGS_DEF_(type_, T, name_, ptr_, default_, help_, ...)                                    \
    {                                                                                              \
        .name = (name_), .type = (type_), .dest = FLAGS_DEST_(T, ptr_),                            \
        .default_value = (default_), .help = (help_), __VA_ARGS__                                  \
    }

/* Table entries. Trailing arguments are extra designated initializers, for aliases:
 * FLAGS_UINT("num_agents", &n, "2", "Number of agents", .aliases = "num_slaves"). The aliases are
 * one string (a literal lives as long as the program) because an array compound literal would die
 * with the function that declared a table. */
#define FLAGS_BOOL(name_, ptr_, default_, help_, ...)                                              \
    FLAGS_DEF_(FLAGS_TYPE_BOOL, bool, name_, ptr_, default_, help_, __VA_ARGS__)
#define FLAGS_INT(name_, ptr_, default_, help_, ...)                                               \
    FLAGS_DEF_(FLAGS_TYPE_INT, int64_t, name_, ptr_, default_, help_, __VA_ARGS__)
#define FLAGS_UINT(name_, ptr_, default_, help_, ...)                                              \
    FLAGS_DEF_(FLAGS_TYPE_UINT, uint64_t, name_, ptr_, default_, help_, __VA_ARGS__)
#define FLAGS_DOUBLE(name_, ptr_, default_, help_, ...)                                            \
    FLAGS_DEF_(FLAGS_TYPE_DOUBLE, double, name_, ptr_, default_, help_, __VA_ARGS__)
#define FLAGS_STRING(name_, ptr_, default_, help_, ...)                                            \
    FLAGS_DEF_(FLAGS_TYPE_STRING, char *, name_, ptr_, default_, help_, __VA_ARGS__)
#define FLAGS_DURATION(name_, ptr_, default_, help_, ...)                                          \
    FLAGS_DEF_(FLAGS_TYPE_DURATION, int64_t, name_, ptr_, default_, help_, __VA_ARGS__)
#define FLAGS_SECONDS(name_, ptr_, default_, help_, ...)                                           \
    FLAGS_DEF_(FLAGS_TYPE_SECONDS, int64_t, name_, ptr_, default_, help_, __VA_ARGS__)
#define FLAGS_BYTES(name_, ptr_, default_, help_, ...)                                             \
    FLAGS_DEF_(FLAGS_TYPE_BYTES, uint64_t, name_, ptr_, default_, help_, __VA_ARGS__)
#define FLAGS_END                                                                                  \
    {                                                                                              \
        .name = NULL                                                                               \
    }

/* Longest error line kept in flags_result_t.error; longer messages are cut. */
#define FLAGS_ERROR_MAX 512

typedef struct flags_options {
    const char *env_prefix; /* "MESOS_" or "MARATHON_"; NULL or "": ignore the environment */
    bool allow_positional;  /* true: collect non-flag arguments; false: they are an error */
} flags_options_t;

typedef struct flags_result {
    bool help;                   /* --help or -h was given; nothing else was parsed */
    int positional_count;        /* non-flag arguments, in order (allow_positional only) */
    char **positional;           /* == argv + 1: flags_parse moves them to the front of argv */
    char error[FLAGS_ERROR_MAX]; /* one line, no newline, when flags_parse fails; else "" */
} flags_result_t;

/*
 * Parses argv[1..argc-1] and the environment into table's destinations: every flag gets its
 * command-line value, else its environment value (`<env_prefix><NAME>` with NAME upper-cased, or
 * as written; aliases too), else its default; a flag with none of these keeps the caller's value.
 * `--` ends the flags: the rest are positional. A non-boolean `--name` without `=` takes the next
 * argument as its value unless that starts with `--`. Matching of names ignores case.
 *
 * If --help or -h appears before `--`, returns ACTOR_OK with result->help set and touches nothing
 * else. Positional arguments are moved, in order, to argv[1..positional_count] (the flags after
 * them), so argv must be writable; the strings stay argv's.
 *
 * Returns ACTOR_OK, or ACTOR_EINVAL with a one-line message in result->error for an unknown flag,
 * a missing or malformed value, a flag given twice on the command line, an unexpected positional
 * argument, or a bad table (a malformed default, a duplicate name: a bug of the binary). After any
 * return, destinations may hold heap strings: call flags_free(table) when done with the values.
 * Calling flags_parse again on the same table is allowed (it frees strings it replaces).
 */
actor_err_t flags_parse(flags_flag_t *table, int argc, char **argv, const flags_options_t *opts,
                        flags_result_t *result);

/*
 * Writes `Usage: <program> [options]` and one entry per flag, sorted by name: `--name=TYPE` (or
 * `--[no-]name` for a boolean) and its aliases, then the help with `(default: ...)`, wrapped to 100
 * columns, and a final entry for --help. Cannot fail (write errors are the stream's). program may
 * be NULL.
 */
void flags_usage_write(const flags_flag_t *table, const char *program, FILE *out);

/*
 * What a program's main does with its flags: flags_parse with env_prefix (may be NULL), then
 * true to go on; false to exit with *exit_status: 1 after printing the error on stderr, 0 after
 * printing the usage on stdout for --help. Call flags_free(table) either way.
 */
bool flags_parse_program(flags_flag_t *table, int argc, char **argv, const char *env_prefix,
                         const char *program, int *exit_status);

/*
 * Renders every flag that has a value as `{"name": "value-as-text", ...}` (Mesos's /flags: every
 * value a string, durations and bytes in Mesos units, booleans "true"/"false"). Flags with
 * FLAGS_SOURCE_UNSET are left out. On ACTOR_OK the caller owns *out (json_decref). Returns
 * ACTOR_ENOMEM, or ACTOR_EINVAL if a string value is not UTF-8.
 */
actor_err_t flags_to_json(const flags_flag_t *table, json_t **out);

/*
 * Formats the flag's current value as /flags shows it into buf (NUL-terminated). Returns ACTOR_OK,
 * ACTOR_ENOENT if the flag is unset (or a NULL string), or ACTOR_ETOOBIG if buf was too small (it
 * then holds a cut copy). 64 bytes hold any non-string value.
 */
actor_err_t flags_value_format(const flags_flag_t *flag, char *buf, size_t len);

/* Returns the entry whose name or alias is name (ignoring case), or NULL. */
flags_flag_t *flags_find(flags_flag_t *table, const char *name);

/* Returns true if the flag called name was given on the command line or in the environment
 * (not a default), false otherwise or if there is no such flag. */
bool flags_is_set(const flags_flag_t *table, const char *name);

/* Frees the strings flags_parse allocated and sets their destinations to NULL. Cannot fail;
 * safe to call twice or on a table never parsed. */
void flags_free(flags_flag_t *table);

/*
 * Parses a Mesos duration: a non-negative decimal number (fractions allowed) followed at once by
 * a unit: ns, us, ms, secs, mins, hrs, days, weeks. `1.5secs` is 1500000000. Fractions of a
 * nanosecond are rounded. Returns ACTOR_OK, or ACTOR_EINVAL (no unit, unknown unit, malformed
 * number, beyond int64 nanoseconds) leaving *ns untouched. Thread-safe.
 */
actor_err_t flags_duration_parse(const char *text, int64_t *ns);

/*
 * Formats a duration as Mesos does: the largest unit not above the value, stepping one unit down
 * when that gives a whole number (`15secs`, `10mins`, `500ms`, `1500ms`, `90mins`, `0ns`; a value
 * neither way whole keeps the larger unit: `1.234567ms`). Always NUL-terminates buf (cutting if
 * needed; 32 bytes always suffice). Cannot fail. Thread-safe.
 */
void flags_duration_format(int64_t ns, char *buf, size_t len);

/*
 * Parses a Mesos byte size: a whole decimal number followed at once by B, KB, MB, GB or TB (any
 * case, 1024-based): `512MB`. Returns ACTOR_OK, or ACTOR_EINVAL (no unit, fractional, unknown
 * unit, overflow) leaving *bytes untouched. Thread-safe.
 */
actor_err_t flags_bytes_parse(const char *text, uint64_t *bytes);

/* Formats bytes in the largest unit that keeps the value whole, as Mesos does: `512MB`, `1536KB`,
 * `0B`. Always NUL-terminates buf (32 bytes always suffice). Cannot fail. Thread-safe. */
void flags_bytes_format(uint64_t bytes, char *buf, size_t len);

/* Returns the lower-case name of a type as usage and errors show it ("duration"); never NULL. */
const char *flags_type_name(flags_type_t type);

#endif
