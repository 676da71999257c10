/* test_flags.c: command-line flags (actor/flags.h): each type and syntax, the environment, --help,
 * aliases, positional arguments, each error and its message, durations and bytes, /flags JSON and
 * usage text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actor/flags.h"

#define NS_PER_MS  1000000LL
#define NS_PER_SEC 1000000000LL
#define MB         (1024ULL * 1024)

/* The environment prefix of these tests; no real variable starts with it. */
#define PREFIX "TESTFLAGS_"

/* A binary's flags and the command line it was given. */
typedef struct fixture {
    bool switch_user;
    int64_t offset;
    uint64_t port;
    double ratio;
    char *work_dir;
    char *ip;
    int64_t ping_timeout;
    int64_t duration;
    uint64_t mem;
    uint64_t num_agents;
    flags_flag_t table[16];
    flags_options_t opts;
    flags_result_t res;
    char line[512]; /* the command line, split in place into argv */
    char *argv[32];
    int argc;
} fixture_t;

static void table_init(fixture_t *f)
{
    flags_flag_t table[] = {
        FLAGS_BOOL("switch_user", &f->switch_user, "true", "Run tasks as their user"),
        FLAGS_INT("offset", &f->offset, "-3", "A signed offset"),
        FLAGS_UINT("port", &f->port, "5050", "Port to listen on"),
        FLAGS_DOUBLE("ratio", &f->ratio, "0.5", "A fraction"),
        FLAGS_STRING("work_dir", &f->work_dir, NULL, "Where to keep state"),
        FLAGS_STRING("ip", &f->ip, "127.0.0.1", "Address to bind"),
        FLAGS_DURATION("agent_ping_timeout", &f->ping_timeout, "15secs", "Ping timeout"),
        FLAGS_SECONDS("duration", &f->duration, "10", "How long each task sleeps"),
        FLAGS_BYTES("mem", &f->mem, "512MB", "Memory to offer"),
        FLAGS_UINT("num_agents", &f->num_agents, "2", "Agents to start", .aliases = "num_slaves"),
        FLAGS_END,
    };
    _Static_assert(sizeof(table) <= sizeof(f->table), "fixture table too small");
    memcpy(f->table, table, sizeof(table));
}

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    table_init(f);
    f->opts.env_prefix = PREFIX;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    flags_free(f->table);
    assert_null(f->work_dir);
    assert_null(f->ip);
    free(f);
    return 0;
}

/* Parses "prog " + line, split at spaces. */
static actor_err_t parse(fixture_t *f, const char *line)
{
    snprintf(f->line, sizeof(f->line), "prog%s%s", line[0] ? " " : "", line);
    f->argc = 0;
    for (char *save = NULL, *tok = strtok_r(f->line, " ", &save); tok != NULL;
         tok = strtok_r(NULL, " ", &save))
        f->argv[f->argc++] = tok;
    f->argv[f->argc] = NULL;
    return flags_parse(f->table, f->argc, f->argv, &f->opts, &f->res);
}

static void assert_value(fixture_t *f, const char *name, const char *expected)
{
    char buf[128];
    flags_flag_t *flag = flags_find(f->table, name);
    assert_non_null(flag);
    assert_int_equal(flags_value_format(flag, buf, sizeof(buf)), ACTOR_OK);
    assert_string_equal(buf, expected);
}

/* flags_parse_program: go on after a good parse; stop with 1 after an error, 0 after --help. */
static void test_parse_program(void **state)
{
    fixture_t *f = *state;
    char *good[] = {"prog", "--port=6060", NULL};
    int status = -1;
    assert_true(flags_parse_program(f->table, 2, good, PREFIX, "prog", &status));
    assert_int_equal(status, -1);
    assert_int_equal(f->port, 6060);
    char *bad[] = {"prog", "--no_such_flag=1", NULL};
    assert_false(flags_parse_program(f->table, 2, bad, PREFIX, "prog", &status));
    assert_int_equal(status, 1);
    char *help[] = {"prog", "--help", NULL};
    assert_false(flags_parse_program(f->table, 2, help, PREFIX, "prog", &status));
    assert_int_equal(status, 0);
}

static void test_defaults(void **state)
{
    fixture_t *f = *state;
    assert_int_equal(parse(f, ""), ACTOR_OK);
    assert_false(f->res.help);
    assert_string_equal(f->res.error, "");
    assert_true(f->switch_user);
    assert_int_equal(f->offset, -3);
    assert_int_equal(f->port, 5050);
    assert_true(f->ratio == 0.5);
    assert_null(f->work_dir);
    assert_string_equal(f->ip, "127.0.0.1");
    assert_int_equal(f->ping_timeout, 15 * NS_PER_SEC);
    assert_int_equal(f->duration, 10 * NS_PER_SEC);
    assert_int_equal(f->mem, 512 * MB);
    assert_int_equal(f->num_agents, 2);
    assert_int_equal(flags_find(f->table, "port")->source, FLAGS_SOURCE_DEFAULT);
    assert_int_equal(flags_find(f->table, "work_dir")->source, FLAGS_SOURCE_UNSET);
    assert_false(flags_is_set(f->table, "port"));
}

/* Each type through `--name=value` and through `--name value`. */
static void test_each_type_both_syntaxes(void **state)
{
    static const struct {
        const char *name;
        const char *value;
        const char *shown; /* as /flags shows it */
    } cases[] = {
        {"offset", "-42", "-42"},
        {"offset", "9223372036854775807", "9223372036854775807"},
        {"port", "5051", "5051"},
        {"port", "18446744073709551615", "18446744073709551615"},
        {"ratio", "0.25", "0.25"},
        {"ratio", "1e3", "1000"},
        {"ratio", "-2.5", "-2.5"},
        {"work_dir", "/var/lib/mesos", "/var/lib/mesos"},
        {"agent_ping_timeout", "1.5secs", "1500ms"},
        {"agent_ping_timeout", "10mins", "10mins"},
        {"duration", "5", "5secs"},
        {"duration", "2.5", "2500ms"},
        {"duration", "1hrs", "1hrs"},
        {"mem", "1GB", "1GB"},
        {"mem", "1536KB", "1536KB"},
        {"mem", "100b", "100B"},
    };
    fixture_t *f = *state;
    char line[256];
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        for (int spaced = 0; spaced < 2; spaced++) {
            snprintf(line, sizeof(line), "--%s%s%s", cases[i].name, spaced ? " " : "=",
                     cases[i].value);
            assert_int_equal(parse(f, line), ACTOR_OK);
            assert_value(f, cases[i].name, cases[i].shown);
            assert_int_equal(flags_find(f->table, cases[i].name)->source, FLAGS_SOURCE_ARGV);
            assert_true(flags_is_set(f->table, cases[i].name));
        }
    }
}

static void test_bool_forms(void **state)
{
    static const struct {
        const char *line;
        bool expected;
    } cases[] = {
        {"--switch_user", true},        {"--no-switch_user", false},
        {"--switch_user=true", true},   {"--switch_user=false", false},
        {"--switch_user=FALSE", false}, {"--switch_user=0", false},
        {"--switch_user=", true},       {"--no-switch_user=", false},
        {"--SWITCH_USER=false", false},
    };
    fixture_t *f = *state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_int_equal(parse(f, cases[i].line), ACTOR_OK);
        assert_int_equal(f->switch_user, cases[i].expected);
    }
    /* A boolean never takes the next argument: it stays positional. */
    f->opts.allow_positional = true;
    assert_int_equal(parse(f, "--no-switch_user true"), ACTOR_OK);
    assert_false(f->switch_user);
    assert_int_equal(f->res.positional_count, 1);
    assert_string_equal(f->res.positional[0], "true");
}

static void test_env_and_precedence(void **state)
{
    fixture_t *f = *state;
    setenv(PREFIX "PORT", "6060", 1);
    setenv(PREFIX "work_dir", "/from/env", 1); /* as written, in lower case */
    setenv(PREFIX "SWITCH_USER", "false", 1);
    setenv(PREFIX "IP", "not-used", 1);

    assert_int_equal(parse(f, "--ip=10.0.0.1"), ACTOR_OK);
    assert_int_equal(f->port, 6060);
    assert_string_equal(f->work_dir, "/from/env");
    assert_false(f->switch_user);
    assert_string_equal(f->ip, "10.0.0.1"); /* the command line wins */
    assert_int_equal(flags_find(f->table, "port")->source, FLAGS_SOURCE_ENV);
    assert_int_equal(flags_find(f->table, "ip")->source, FLAGS_SOURCE_ARGV);
    assert_int_equal(flags_find(f->table, "mem")->source, FLAGS_SOURCE_DEFAULT);
    assert_true(flags_is_set(f->table, "port"));
    assert_false(flags_is_set(f->table, "mem"));

    /* No prefix: the environment is ignored. */
    f->opts.env_prefix = NULL;
    assert_int_equal(parse(f, ""), ACTOR_OK);
    assert_int_equal(f->port, 5050);
    assert_null(f->work_dir);

    unsetenv(PREFIX "PORT");
    unsetenv(PREFIX "work_dir");
    unsetenv(PREFIX "SWITCH_USER");
    unsetenv(PREFIX "IP");
}

static void test_env_errors(void **state)
{
    fixture_t *f = *state;
    setenv(PREFIX "PORT", "http", 1);
    assert_int_equal(parse(f, ""), ACTOR_EINVAL);
    assert_string_equal(f->res.error, "Failed to load flag 'port' from " PREFIX
                                      "PORT: Failed to parse value 'http' as uint");
    /* A command-line value hides a malformed environment value. */
    assert_int_equal(parse(f, "--port=1"), ACTOR_OK);
    assert_int_equal(f->port, 1);
    unsetenv(PREFIX "PORT");
}

static void test_help(void **state)
{
    static const char *const lines[] = {"--help", "-h", "--port=abc --help", "--bogus -h"};
    fixture_t *f = *state;
    for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
        f->port = 7;
        assert_int_equal(parse(f, lines[i]), ACTOR_OK);
        assert_true(f->res.help);
        assert_int_equal(f->port, 7); /* nothing parsed */
    }
    /* After `--`, --help is an argument like any other. */
    f->opts.allow_positional = true;
    assert_int_equal(parse(f, "-- --help"), ACTOR_OK);
    assert_false(f->res.help);
    assert_int_equal(f->res.positional_count, 1);
    assert_string_equal(f->res.positional[0], "--help");
}

static void test_aliases(void **state)
{
    fixture_t *f = *state;
    assert_int_equal(parse(f, "--num_slaves=5"), ACTOR_OK);
    assert_int_equal(f->num_agents, 5);
    assert_true(flags_is_set(f->table, "num_agents"));
    assert_ptr_equal(flags_find(f->table, "num_slaves"), flags_find(f->table, "num_agents"));

    assert_int_equal(parse(f, "--num_slaves 4"), ACTOR_OK);
    assert_int_equal(f->num_agents, 4);

    setenv(PREFIX "NUM_SLAVES", "3", 1);
    assert_int_equal(parse(f, ""), ACTOR_OK);
    assert_int_equal(f->num_agents, 3);
    setenv(PREFIX "NUM_AGENTS", "6", 1); /* the name beats the alias */
    assert_int_equal(parse(f, ""), ACTOR_OK);
    assert_int_equal(f->num_agents, 6);
    unsetenv(PREFIX "NUM_SLAVES");
    unsetenv(PREFIX "NUM_AGENTS");

    assert_int_equal(parse(f, "--num_agents=1 --num_slaves=2"), ACTOR_EINVAL);
    assert_string_equal(f->res.error, "Duplicate flag 'num_slaves' on command line");
}

/* An alias list holds several names; each works on the command line and in the environment. */
static void test_several_aliases(void **state)
{
    static bool quiet;
    flags_flag_t table[] = {
        FLAGS_BOOL("quiet", &quiet, "false", "Say less", .aliases = "silent,q"),
        FLAGS_END,
    };
    flags_options_t opts = {.env_prefix = PREFIX};
    flags_result_t res;
    char *argv[] = {"prog", "--no-silent", NULL};
    (void)state;
    assert_int_equal(flags_parse(table, 2, argv, &opts, &res), ACTOR_OK);
    assert_false(quiet);
    argv[1] = "--q";
    assert_int_equal(flags_parse(table, 2, argv, &opts, &res), ACTOR_OK);
    assert_true(quiet);
    setenv(PREFIX "SILENT", "true", 1);
    assert_int_equal(flags_parse(table, 1, argv, &opts, &res), ACTOR_OK);
    assert_true(quiet);
    assert_int_equal(table[0].source, FLAGS_SOURCE_ENV);
    unsetenv(PREFIX "SILENT");
}

static void test_errors(void **state)
{
    static const struct {
        const char *line;
        const char *message;
    } cases[] = {
        {"--bogus=1", "Failed to load unknown flag 'bogus'"},
        {"--no-bogus", "Failed to load unknown flag 'no-bogus'"},
        {"--port=abc", "Failed to load flag 'port': Failed to parse value 'abc' as uint"},
        {"--port=-1", "Failed to load flag 'port': Failed to parse value '-1' as uint"},
        {"--port=", "Failed to load flag 'port': Failed to parse value '' as uint"},
        {"--port=18446744073709551616",
         "Failed to load flag 'port': Failed to parse value '18446744073709551616' as uint"},
        {"--offset=12x", "Failed to load flag 'offset': Failed to parse value '12x' as int"},
        {"--ratio=nan", "Failed to load flag 'ratio': Failed to parse value 'nan' as double"},
        {"--switch_user=maybe",
         "Failed to load flag 'switch_user': Failed to parse value 'maybe' as bool"},
        {"--agent_ping_timeout=15",
         "Failed to load flag 'agent_ping_timeout': Failed to parse value '15' as duration: "
         "missing unit (ns, us, ms, secs, mins, hrs, days or weeks)"},
        {"--agent_ping_timeout=15sec",
         "Failed to load flag 'agent_ping_timeout': Failed to parse value '15sec' as duration: "
         "unknown unit 'sec' (ns, us, ms, secs, mins, hrs, days or weeks)"},
        {"--agent_ping_timeout=-1secs",
         "Failed to load flag 'agent_ping_timeout': Failed to parse value '-1secs' as duration: "
         "expected a non-negative number followed by a unit (ns, us, ms, secs, mins, hrs, days "
         "or weeks)"},
        {"--agent_ping_timeout=1.2.3secs",
         "Failed to load flag 'agent_ping_timeout': Failed to parse value '1.2.3secs' as "
         "duration: malformed number '1.2.3'"},
        {"--agent_ping_timeout=100000000weeks",
         "Failed to load flag 'agent_ping_timeout': Failed to parse value '100000000weeks' as "
         "duration: out of range"},
        {"--duration=soon", "Failed to load flag 'duration': Failed to parse value 'soon' as "
                            "seconds: expected a non-negative number followed by a unit (ns, us, "
                            "ms, secs, mins, hrs, days or weeks)"},
        {"--mem=512", "Failed to load flag 'mem': Failed to parse value '512' as bytes: missing "
                      "unit (B, KB, MB, GB or TB)"},
        {"--mem=1.5GB",
         "Failed to load flag 'mem': Failed to parse value '1.5GB' as bytes: fractional bytes"},
        {"--port", "Failed to load non-boolean flag 'port': Missing value"},
        {"--port --ip=1.2.3.4", "Failed to load non-boolean flag 'port': Missing value"},
        {"--no-port", "Failed to load non-boolean flag 'port' via 'no-port'"},
        {"--no-switch_user=true",
         "Failed to load boolean flag 'switch_user' via 'no-switch_user' with value 'true'"},
        {"--port=1 --port=2", "Duplicate flag 'port' on command line"},
        {"--switch_user --no-switch_user", "Duplicate flag 'switch_user' on command line"},
        {"start", "Unexpected argument 'start'"},
        {"--port=1 -v", "Unexpected argument '-v'"},
    };
    fixture_t *f = *state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_int_equal(parse(f, cases[i].line), ACTOR_EINVAL);
        assert_string_equal(f->res.error, cases[i].message);
        assert_null(strchr(f->res.error, '\n'));
    }
}

static void test_positional(void **state)
{
    fixture_t *f = *state;
    f->opts.allow_positional = true;
    assert_int_equal(parse(f, "launch --port 6000 app.json --ip=1.1.1.1 -- --port=9 x"), ACTOR_OK);
    assert_int_equal(f->port, 6000);
    assert_string_equal(f->ip, "1.1.1.1");
    assert_int_equal(f->res.positional_count, 4);
    assert_ptr_equal(f->res.positional, f->argv + 1);
    assert_string_equal(f->res.positional[0], "launch");
    assert_string_equal(f->res.positional[1], "app.json");
    assert_string_equal(f->res.positional[2], "--port=9");
    assert_string_equal(f->res.positional[3], "x");
    /* The flags follow, none lost. */
    assert_string_equal(f->argv[5], "--port");
    assert_string_equal(f->argv[6], "6000");
    assert_string_equal(f->argv[7], "--ip=1.1.1.1");
    assert_string_equal(f->argv[8], "--");
    /* A value may start with a single dash. */
    assert_int_equal(parse(f, "--offset -7"), ACTOR_OK);
    assert_int_equal(f->offset, -7);
    assert_int_equal(f->res.positional_count, 0);
}

static void test_duration_parse(void **state)
{
    static const struct {
        const char *text;
        int64_t ns;
    } good[] = {
        {"0ns", 0},
        {"1ns", 1},
        {"7us", 7000},
        {"500ms", 500 * NS_PER_MS},
        {"0.5ms", 500000},
        {"1.5secs", 1500 * NS_PER_MS},
        {".5secs", 500 * NS_PER_MS},
        {"15secs", 15 * NS_PER_SEC},
        {"0.3secs", 300 * NS_PER_MS},
        {"10mins", 600 * NS_PER_SEC},
        {"2hrs", 7200 * NS_PER_SEC},
        {"1days", 86400 * NS_PER_SEC},
        {"2weeks", 14 * 86400 * NS_PER_SEC},
        {"9223372036854775807ns", INT64_MAX},
    };
    static const char *const bad[] = {
        "",
        "15",
        "secs",
        "-1secs",
        "1.2.3secs",
        "1sec",
        "1 secs",
        ".secs",
        "1e3secs",
        "15SECS",
        "9223372036854775808ns",
        "15252weeks",
    };
    (void)state;
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        int64_t ns = -1;
        assert_int_equal(flags_duration_parse(good[i].text, &ns), ACTOR_OK);
        assert_int_equal(ns, good[i].ns);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int64_t ns = -1;
        assert_int_equal(flags_duration_parse(bad[i], &ns), ACTOR_EINVAL);
        assert_int_equal(ns, -1);
    }
}

static void test_duration_format_round_trip(void **state)
{
    static const struct {
        int64_t ns;
        const char *text;
    } cases[] = {
        {0, "0ns"},
        {1, "1ns"},
        {999, "999ns"},
        {1000, "1us"},
        {1500, "1500ns"},
        {500 * NS_PER_MS, "500ms"},
        {1234567, "1.234567ms"},
        {1500 * NS_PER_MS, "1500ms"},
        {15 * NS_PER_SEC, "15secs"},
        {90 * NS_PER_SEC, "90secs"},
        {600 * NS_PER_SEC, "10mins"},
        {5400 * NS_PER_SEC, "90mins"},
        {7200 * NS_PER_SEC, "2hrs"},
        {86400 * NS_PER_SEC, "1days"},
        {36 * 3600 * NS_PER_SEC, "36hrs"},
        {7 * 86400 * NS_PER_SEC, "1weeks"},
        {10 * 86400 * NS_PER_SEC, "10days"},
        {-15 * NS_PER_SEC, "-15secs"},
    };
    (void)state;
    char buf[32];
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        flags_duration_format(cases[i].ns, buf, sizeof(buf));
        assert_string_equal(buf, cases[i].text);
        int64_t back;
        if (cases[i].ns >= 0) {
            assert_int_equal(flags_duration_parse(buf, &back), ACTOR_OK);
            assert_int_equal(back, cases[i].ns);
        }
    }
    flags_duration_format(INT64_MIN, buf, sizeof(buf));
    assert_string_equal(buf, "-15250.2844524715weeks");
    flags_duration_format(15 * NS_PER_SEC, buf, 4); /* cut, still terminated */
    assert_string_equal(buf, "15s");
}

static void test_bytes_parse_format(void **state)
{
    static const struct {
        const char *text;
        uint64_t bytes;
        const char *shown;
    } good[] = {
        {"0B", 0, "0B"},
        {"1023B", 1023, "1023B"},
        {"1024B", 1024, "1KB"},
        {"512MB", 512 * MB, "512MB"},
        {"512mb", 512 * MB, "512MB"},
        {"1536KB", 1536 * 1024, "1536KB"},
        {"1GB", 1024 * MB, "1GB"},
        {"4096GB", 4096ULL * 1024 * MB, "4TB"},
        {"2048TB", 2048ULL * 1024 * 1024 * MB, "2048TB"},
    };
    static const char *const bad[] = {"", "512", "MB", "1.5GB", "5XB", "-1MB", "16777216TB"};
    (void)state;
    char buf[32];
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        uint64_t bytes = 1;
        assert_int_equal(flags_bytes_parse(good[i].text, &bytes), ACTOR_OK);
        assert_int_equal(bytes, good[i].bytes);
        flags_bytes_format(bytes, buf, sizeof(buf));
        assert_string_equal(buf, good[i].shown);
        assert_int_equal(flags_bytes_parse(buf, &bytes), ACTOR_OK);
        assert_int_equal(bytes, good[i].bytes);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        uint64_t bytes = 1;
        assert_int_equal(flags_bytes_parse(bad[i], &bytes), ACTOR_EINVAL);
        assert_int_equal(bytes, 1);
    }
}

static void test_json(void **state)
{
    fixture_t *f = *state;
    assert_int_equal(parse(f, "--port=5051 --agent_ping_timeout=1.5secs --no-switch_user"),
                     ACTOR_OK);
    json_t *json = NULL;
    assert_int_equal(flags_to_json(f->table, &json), ACTOR_OK);
    char *text = json_dumps(json, JSON_COMPACT);
    assert_string_equal(text, "{\"switch_user\":\"false\",\"offset\":\"-3\",\"port\":\"5051\","
                              "\"ratio\":\"0.5\",\"ip\":\"127.0.0.1\","
                              "\"agent_ping_timeout\":\"1500ms\",\"duration\":\"10secs\","
                              "\"mem\":\"512MB\",\"num_agents\":\"2\"}");
    free(text);
    json_decref(json);

    assert_int_equal(parse(f, "--work_dir=/tmp/w"), ACTOR_OK);
    assert_int_equal(flags_to_json(f->table, &json), ACTOR_OK);
    assert_string_equal(json_string_value(json_object_get(json, "work_dir")), "/tmp/w");
    json_decref(json);

    /* jansson holds only UTF-8. */
    assert_int_equal(parse(f, "--work_dir=\xff"), ACTOR_OK);
    assert_int_equal(flags_to_json(f->table, &json), ACTOR_EINVAL);
}

static void test_value_format(void **state)
{
    fixture_t *f = *state;
    char buf[8];
    assert_int_equal(parse(f, "--ip=10.20.30.40"), ACTOR_OK);
    assert_int_equal(flags_value_format(flags_find(f->table, "ip"), buf, sizeof(buf)),
                     ACTOR_ETOOBIG);
    assert_string_equal(buf, "10.20.3");
    assert_int_equal(flags_value_format(flags_find(f->table, "work_dir"), buf, sizeof(buf)),
                     ACTOR_ENOENT);
    assert_int_equal(flags_value_format(flags_find(f->table, "switch_user"), buf, sizeof(buf)),
                     ACTOR_OK);
    assert_string_equal(buf, "true");
    assert_null(flags_find(f->table, "nope"));
    assert_false(flags_is_set(f->table, "nope"));
}

static void test_usage(void **state)
{
    static uint64_t port;
    static bool verbose;
    static int64_t timeout;
    static char *name;
    flags_flag_t table[] = {
        FLAGS_UINT("port", &port, "5050", "Port to listen on"),
        FLAGS_BOOL("verbose", &verbose, "false", "Log more"),
        FLAGS_DURATION("agent_reregister_timeout", &timeout, "10mins",
                       "How long agents have to reregister with the master after a master "
                       "failover before they are removed; long enough to wrap twice."),
        FLAGS_STRING("name", &name, "", "Name\nsecond line", .aliases = "n"),
        FLAGS_END,
    };
    (void)state;
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    assert_non_null(out);
    flags_usage_write(table, "mesos-master", out);
    fclose(out);
    const char *expected =
        "Usage: mesos-master [options]\n"
        "\n"
        "  --agent_reregister_timeout=DURATION\n"
        "                                    How long agents have to reregister with the master "
        "after a\n"
        "                                    master failover before they are removed; long enough "
        "to wrap\n"
        "                                    twice. (default: 10mins)\n"
        "  --name=STRING, --n=STRING         Name\n"
        "                                    second line (default: \"\")\n"
        "  --port=UINT                       Port to listen on (default: 5050)\n"
        "  --[no-]verbose                    Log more (default: false)\n"
        "  -h, --help                        Prints this help message and exits\n";
    assert_string_equal(text, expected);
    free(text);
}

static void test_bad_tables(void **state)
{
    static uint64_t a, b;
    flags_flag_t dup[] = {FLAGS_UINT("a", &a, "1", ""), FLAGS_UINT("a", &b, "1", ""), FLAGS_END};
    flags_flag_t dup_alias[] = {FLAGS_UINT("a", &a, "1", ""),
                                FLAGS_UINT("b", &b, "1", "", .aliases = "A"), FLAGS_END};
    flags_flag_t reserved[] = {FLAGS_UINT("no-a", &a, "1", ""), FLAGS_END};
    flags_flag_t empty_alias[] = {FLAGS_UINT("a", &a, "1", "", .aliases = "b,"), FLAGS_END};
    flags_flag_t help[] = {FLAGS_UINT("help", &a, "1", ""), FLAGS_END};
    flags_flag_t bad_default[] = {FLAGS_UINT("a", &a, "x", ""), FLAGS_END};
    flags_flag_t no_dest[] = {{.name = "a", .type = FLAGS_TYPE_UINT}, FLAGS_END};
    const struct {
        flags_flag_t *table;
        const char *message;
    } cases[] = {
        {dup, "Invalid flag table: duplicate flag 'a'"},
        {dup_alias, "Invalid flag table: duplicate flag 'a'"},
        {reserved, "Invalid flag table: flag name 'no-a' is reserved or malformed"},
        {help, "Invalid flag table: flag name 'help' is reserved or malformed"},
        {empty_alias, "Invalid flag table: flag name '' is reserved or malformed"},
        {bad_default, "Invalid default for flag 'a': Failed to parse value 'x' as uint"},
        {no_dest, "Invalid flag table: flag 'a' has no destination or type"},
    };
    (void)state;
    char *argv[] = {"prog", NULL};
    flags_result_t res;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_int_equal(flags_parse(cases[i].table, 1, argv, NULL, &res), ACTOR_EINVAL);
        assert_string_equal(res.error, cases[i].message);
    }
}

/* Parsing again frees the strings of the last parse (ASan reports a leak otherwise), and a
 * string given twice over parses keeps only the last. */
static void test_reparse_and_free(void **state)
{
    fixture_t *f = *state;
    assert_int_equal(parse(f, "--work_dir=/a --ip=1.1.1.1"), ACTOR_OK);
    assert_int_equal(parse(f, "--work_dir=/b"), ACTOR_OK);
    assert_string_equal(f->work_dir, "/b");
    assert_string_equal(f->ip, "127.0.0.1");
    assert_int_equal(parse(f, ""), ACTOR_OK);
    assert_null(f->work_dir);
    /* A failed parse may leave strings behind: flags_free (in teardown) takes them. */
    assert_int_equal(parse(f, "--work_dir=/c --port=x"), ACTOR_EINVAL);
    flags_free(f->table);
    flags_free(f->table);
    assert_null(f->work_dir);
    assert_null(f->ip);
}

/* A value set by the caller survives when the flag has no default and is not given, and
 * flags_free never frees it. */
static void test_caller_value_kept(void **state)
{
    fixture_t *f = *state;
    char keep[] = "caller";
    f->work_dir = keep;
    assert_int_equal(parse(f, ""), ACTOR_OK);
    assert_ptr_equal(f->work_dir, keep);
    flags_free(f->table);
    assert_ptr_equal(f->work_dir, keep);
    f->work_dir = NULL;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_defaults, setup, teardown),
        cmocka_unit_test_setup_teardown(test_parse_program, setup, teardown),
        cmocka_unit_test_setup_teardown(test_each_type_both_syntaxes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bool_forms, setup, teardown),
        cmocka_unit_test_setup_teardown(test_env_and_precedence, setup, teardown),
        cmocka_unit_test_setup_teardown(test_env_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_help, setup, teardown),
        cmocka_unit_test_setup_teardown(test_aliases, setup, teardown),
        cmocka_unit_test(test_several_aliases),
        cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_positional, setup, teardown),
        cmocka_unit_test(test_duration_parse),
        cmocka_unit_test(test_duration_format_round_trip),
        cmocka_unit_test(test_bytes_parse_format),
        cmocka_unit_test_setup_teardown(test_json, setup, teardown),
        cmocka_unit_test_setup_teardown(test_value_format, setup, teardown),
        cmocka_unit_test(test_usage),
        cmocka_unit_test(test_bad_tables),
        cmocka_unit_test_setup_teardown(test_reparse_and_free, setup, teardown),
        cmocka_unit_test_setup_teardown(test_caller_value_kept, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
