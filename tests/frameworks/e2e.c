/* e2e.c: the multi-process helpers of e2e.h, on tests/support/. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tests/frameworks/e2e.h"
#include "tests/support/http.h"
#include "tests/support/wait.h"

#define POLL_STEP_MS 50

const char *e2e_bin_dir(void)
{
    return support_bin_dir();
}

void e2e_cluster_start(e2e_cluster_t *c, bool simulated)
{
    support_local_start(c, &(support_local_options_t){.name = "test_frameworks_e2e",
                                                      .num_agents = 2,
                                                      .simulated = simulated,
                                                      .resources = "cpus:4;mem:4096"});
}

void e2e_cluster_stop(e2e_cluster_t *c)
{
    support_local_stop(c);
}

static int setup(void **state, bool simulated)
{
    e2e_cluster_t *c = calloc(1, sizeof(*c));
    assert_non_null(c);
    *state = c;
    if (e2e_bin_dir() != NULL)
        e2e_cluster_start(c, simulated);
    return 0;
}

int e2e_setup(void **state)
{
    return setup(state, true);
}

int e2e_setup_real(void **state)
{
    return setup(state, false);
}

int e2e_teardown(void **state)
{
    e2e_cluster_stop(*state);
    free(*state);
    return 0;
}

pid_t e2e_start(e2e_cluster_t *c, char *const argv[])
{
    char path[4200];
    snprintf(path, sizeof(path), "%s/%s", c->bin_dir, argv[0]);
    return support_run_start(c->work_dir, argv[0], path, argv, NULL, NULL);
}

void e2e_finish(e2e_cluster_t *c, pid_t pid, const char *name, int timeout_ms, e2e_run_t *run)
{
    support_run_finish(c->work_dir, name, pid, timeout_ms, run);
}

void e2e_run(e2e_cluster_t *c, char *const argv[], int timeout_ms, e2e_run_t *run)
{
    e2e_finish(c, e2e_start(c, argv), argv[0], timeout_ms, run);
}

void e2e_run_free(e2e_run_t *run)
{
    support_run_free(run);
}

char *e2e_get(const e2e_cluster_t *c, const char *path)
{
    long status = 0;
    char *body = support_http_text("GET", c->port, path, NULL, &status);
    if (status == 200)
        return body != NULL ? body : strdup("");
    free(body);
    return NULL;
}

typedef struct poll_arg {
    const e2e_cluster_t *c;
    const char *path, *needle;
    size_t count;
} poll_arg_t;

static size_t occurrences(const char *text, const char *needle)
{
    size_t n = 0;
    for (const char *p = text != NULL ? strstr(text, needle) : NULL; p != NULL;
         p = strstr(p + 1, needle))
        n++;
    return n;
}

static bool needles_found(void *arg)
{
    const poll_arg_t *p = arg;
    char *body = e2e_get(p->c, p->path);
    bool found = occurrences(body, p->needle) >= p->count;
    free(body);
    return found;
}

bool e2e_poll(const e2e_cluster_t *c, const char *path, const char *needle, size_t count,
              int timeout_ms)
{
    poll_arg_t p = {c, path, needle, count};
    return support_wait_until(needles_found, &p, timeout_ms, POLL_STEP_MS);
}

char *e2e_last_line(const char *text)
{
    const char *end = text + strlen(text);
    while (end > text && (end[-1] == '\n' || end[-1] == '\r'))
        end--;
    const char *start = end;
    while (start > text && start[-1] != '\n')
        start--;
    return end > start ? strndup(start, (size_t)(end - start)) : NULL;
}
