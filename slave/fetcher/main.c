/*
 * mesos-fetcher: fetches a task's URIs into its sandbox (Mesos's src/launcher/fetcher.cpp). The
 * agent runs it before the task starts, with stdout and stderr going to the sandbox's files.
 *
 * The job is the JSON object in the environment variable MESOS_FETCHER_INFO:
 *
 *   {"sandbox_directory": "/path",          required, an existing directory
 *    "cache_directory": "/path",            optional: no cache without it
 *    "cache_size": 2147483648,              optional bytes (a number or a decimal string)
 *    "user": "alice",                       optional: fetched files are chowned to the user
 *    "stall_timeout_secs": 60,              optional; Mesos's {"stall_timeout":
 *                                           {"nanoseconds": N}} is read too
 *    "uris": [{"value": "http://...", "extract": true, "executable": false, "cache": false,
 *              "output_file": "name"}]}     mesos.CommandInfo.URI in v1 JSON
 *
 * Each URI is fetched in order; stdout gets "Fetching 'URI' into 'SANDBOX'" and "Fetched 'URI' to
 * 'PATH'" lines. The first failure ends the run: its one-line message ("Failed to fetch 'URI':
 * reason") is the last line on stderr and the exit status is 1. A job that cannot be read exits 2
 * with its reason on stderr. Exit 0: everything fetched.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "actor/pbjson.h"
#include "mesos.pb-c.h"
#include "slave/fetcher/fetcher.h"

#define EXIT_FETCH_FAILED 1
#define EXIT_BAD_JOB      2
#define NS_PER_SEC        1000000000ll

typedef struct job {
    json_t *root;
    fetcher_options_t opts;
    Mesos__CommandInfo__URI **uris;
    size_t uri_count;
} job_t;

static void usage(FILE *out)
{
    fprintf(out, "Usage: MESOS_FETCHER_INFO='{\"sandbox_directory\": \"/dir\", \"uris\": "
                 "[{\"value\": \"http://host/file.tar.gz\"}]}' mesos-fetcher\n"
                 "Fetches each URI into the sandbox (see slave/fetcher/main.c for the fields).\n"
                 "Exit status: 0 all fetched, 1 a fetch failed (its message is the last line on "
                 "stderr), 2 the job could not be read.\n");
}

/* An optional string member: NULL when absent or null; -1 when not a string. */
static int get_string(const json_t *root, const char *key, const char **out, char *err,
                      size_t err_len)
{
    const json_t *v = json_object_get(root, key);
    *out = NULL;
    if (v == NULL || json_is_null(v))
        return 0;
    if (!json_is_string(v) || json_string_length(v) == 0) {
        snprintf(err, err_len, "'%s' must be a non-empty string", key);
        return -1;
    }
    *out = json_string_value(v);
    return 0;
}

/* An optional non-negative integer member, as a number or a decimal string. */
static int get_count(const json_t *root, const char *key, long long *out, char *err, size_t err_len)
{
    const json_t *v = json_object_get(root, key);
    if (v == NULL || json_is_null(v))
        return 0;
    long long n = -1;
    if (json_is_integer(v)) {
        n = json_integer_value(v);
    } else if (json_is_string(v)) {
        char *end;
        n = strtoll(json_string_value(v), &end, 10);
        if (*end != '\0' || end == json_string_value(v))
            n = -1;
    }
    if (n < 0) {
        snprintf(err, err_len, "'%s' must be a non-negative integer", key);
        return -1;
    }
    *out = n;
    return 0;
}

static int parse_options(job_t *job, char *err, size_t err_len)
{
    fetcher_options_t *o = &job->opts;
    long long cache_size = (long long)FETCHER_DEFAULT_CACHE_BYTES;
    long long stall = FETCHER_DEFAULT_STALL_TIMEOUT_SECS;
    long long stall_ns = -1;
    json_t *mesos_stall = json_object_get(job->root, "stall_timeout");
    if (get_string(job->root, "sandbox_directory", &o->sandbox, err, err_len) != 0 ||
        get_string(job->root, "cache_directory", &o->cache_dir, err, err_len) != 0 ||
        get_string(job->root, "user", &o->user, err, err_len) != 0 ||
        get_count(job->root, "cache_size", &cache_size, err, err_len) != 0 ||
        get_count(job->root, "stall_timeout_secs", &stall, err, err_len) != 0)
        return -1;
    if (json_is_object(mesos_stall) &&
        get_count(mesos_stall, "nanoseconds", &stall_ns, err, err_len) != 0)
        return -1;
    if (o->sandbox == NULL) {
        snprintf(err, err_len, "'sandbox_directory' is required");
        return -1;
    }
    o->cache_max_bytes = (uint64_t)cache_size;
    o->stall_timeout_secs =
        stall_ns >= 0 ? (long)((stall_ns + NS_PER_SEC - 1) / NS_PER_SEC) : (long)stall;
    return 0;
}

static int parse_uris(job_t *job, char *err, size_t err_len)
{
    const json_t *uris = json_object_get(job->root, "uris");
    if (uris == NULL || json_is_null(uris))
        return 0;
    if (!json_is_array(uris)) {
        snprintf(err, err_len, "'uris' must be an array");
        return -1;
    }
    job->uris = calloc(json_array_size(uris) + 1, sizeof(*job->uris));
    if (job->uris == NULL) {
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < json_array_size(uris); i++) {
        ProtobufCMessage *msg = NULL;
        char why[512];
        if (pbjson_to_message(&mesos__command_info__uri__descriptor, json_array_get(uris, i), &msg,
                              why, sizeof(why)) != ACTOR_OK) {
            snprintf(err, err_len, "uris[%zu]: %s", i, why);
            return -1;
        }
        job->uris[job->uri_count++] = (Mesos__CommandInfo__URI *)msg;
    }
    return 0;
}

static void job_fini(job_t *job)
{
    for (size_t i = 0; i < job->uri_count; i++)
        protobuf_c_message_free_unpacked(&job->uris[i]->base, NULL);
    free(job->uris);
    json_decref(job->root);
}

static int job_parse(job_t *job, const char *text, char *err, size_t err_len)
{
    json_error_t jerr;
    memset(job, 0, sizeof(*job));
    fetcher_options_init(&job->opts);
    job->root = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
    if (job->root == NULL) {
        snprintf(err, err_len, "%s (line %d, column %d)", jerr.text, jerr.line, jerr.column);
        return -1;
    }
    if (!json_is_object(job->root)) {
        snprintf(err, err_len, "expected a JSON object");
        return -1;
    }
    if (parse_options(job, err, err_len) != 0)
        return -1;
    return parse_uris(job, err, err_len);
}

/* Fetches every URI; returns the exit status. */
static int run(const job_t *job)
{
    for (size_t i = 0; i < job->uri_count; i++) {
        const Mesos__CommandInfo__URI *u = job->uris[i];
        fetcher_uri_t uri;
        fetcher_uri_init(&uri);
        uri.value = u->value;
        uri.extract = u->extract;
        uri.executable = u->executable;
        uri.cache = u->cache;
        uri.output_file = u->output_file;
        printf("Fetching '%s' into '%s'\n", uri.value, job->opts.sandbox);
        fetcher_result_t result;
        char err[2048];
        if (fetcher_fetch(&job->opts, &uri, &result, err, sizeof(err)) != ACTOR_OK) {
            fflush(stdout);
            fprintf(stderr, "%s\n", err);
            return EXIT_FETCH_FAILED;
        }
        printf("Fetched '%s' to '%s'%s%s\n", uri.value, result.path,
               result.from_cache ? " from the cache" : "",
               result.extracted ? " and extracted it" : "");
    }
    printf("Successfully fetched all URIs into '%s'\n", job->opts.sandbox);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        usage(stdout);
        return 0;
    }
    if (argc > 1) {
        fprintf(stderr, "mesos-fetcher takes no arguments: its job is in MESOS_FETCHER_INFO\n");
        usage(stderr);
        return EXIT_BAD_JOB;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    const char *text = getenv("MESOS_FETCHER_INFO");
    if (text == NULL) {
        fprintf(stderr, "Missing MESOS_FETCHER_INFO environment variable\n");
        return EXIT_BAD_JOB;
    }
    job_t job;
    char err[1024];
    if (job_parse(&job, text, err, sizeof(err)) != 0) {
        fprintf(stderr, "Failed to parse MESOS_FETCHER_INFO: %s\n", err);
        job_fini(&job);
        return EXIT_BAD_JOB;
    }
    int status = run(&job);
    job_fini(&job);
    return status;
}
