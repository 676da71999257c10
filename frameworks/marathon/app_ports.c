/*
 * app_ports.c: service ports, as Marathon assigns them to port definitions posted with port 0
 * (core/group/impl/AssignDynamicServiceLogic.scala, with --local_port_min and --local_port_max
 * as an inclusive range). Service ports are what load balancers (marathon-lb) listen on; the
 * tasks' host ports are picked from offers and are a different thing (placement.h).
 */
#include <stdlib.h>

#include "frameworks/marathon/app_int.h"

static int compare_port(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

static bool names_port(const marathon_app_t *app, uint32_t port)
{
    for (size_t k = 0; k < app->port_definition_count; k++) {
        if (app->port_definitions[k].port == port)
            return true;
    }
    return false;
}

/* Every port nobody may take: the other apps', before's and app's own, sorted. */
static uint32_t *taken_ports(const marathon_app_t *app, const marathon_app_t *before,
                             const uint32_t *used, size_t used_count, size_t *count)
{
    size_t before_count = before != NULL ? before->port_definition_count : 0;
    uint32_t *taken =
        calloc(used_count + before_count + app->port_definition_count + 1, sizeof(*taken));
    if (taken == NULL)
        return NULL;
    size_t n = 0;
    for (size_t k = 0; k < used_count; k++)
        taken[n++] = used[k];
    for (size_t k = 0; k < before_count; k++)
        taken[n++] = before->port_definitions[k].port;
    for (size_t k = 0; k < app->port_definition_count; k++)
        taken[n++] = app->port_definitions[k].port;
    qsort(taken, n, sizeof(*taken), compare_port);
    *count = n;
    return taken;
}

/* The ports to give, in order: before's reusable ones, then free ones of the range. */
static actor_err_t pick(const marathon_app_t *app, const marathon_app_t *before,
                        const uint32_t *taken, size_t taken_count, uint32_t min, uint32_t max,
                        uint32_t *out, size_t wanted)
{
    size_t n = 0;
    for (size_t k = 0; before != NULL && k < before->port_definition_count && n < wanted; k++) {
        uint32_t p = before->port_definitions[k].port;
        if (p >= min && p <= max && !names_port(app, p))
            out[n++] = p;
    }
    for (uint64_t p = min; p <= max && n < wanted; p++) {
        uint32_t port = (uint32_t)p;
        if (bsearch(&port, taken, taken_count, sizeof(*taken), compare_port) == NULL)
            out[n++] = port;
    }
    return n == wanted ? ACTOR_OK : ACTOR_EADDRINUSE;
}

actor_err_t marathon_app_assign_service_ports(marathon_app_t *app, const marathon_app_t *before,
                                              const uint32_t *used, size_t used_count, uint32_t min,
                                              uint32_t max)
{
    size_t wanted = 0;
    for (size_t k = 0; k < app->port_definition_count; k++)
        wanted += app->port_definitions[k].port == 0;
    if (wanted == 0)
        return ACTOR_OK;
    size_t taken_count = 0;
    uint32_t *taken = taken_ports(app, before, used, used_count, &taken_count);
    uint32_t *ports = calloc(wanted, sizeof(*ports));
    actor_err_t rc = taken == NULL || ports == NULL
                         ? ACTOR_ENOMEM
                         : pick(app, before, taken, taken_count, min, max, ports, wanted);
    for (size_t k = 0, n = 0; rc == ACTOR_OK && k < app->port_definition_count; k++) {
        if (app->port_definitions[k].port == 0)
            app->port_definitions[k].port = ports[n++];
    }
    free(taken);
    free(ports);
    return rc;
}
