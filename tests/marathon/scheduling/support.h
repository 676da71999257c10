/*
 * support.h: what the scheduling tests share: apps filled in by hand with Marathon's defaults
 * (no dependency on the app model's JSON code), and offers built from the agent flag syntax
 * (`cpus:2;mem:1024;ports:[31000-31009]`, `rack:r1;level:0.8`). Header-only: mesos_add_tests
 * makes one executable per test_*.c.
 */
#ifndef TESTS_MARATHON_SCHEDULING_SUPPORT_H
#define TESTS_MARATHON_SCHEDULING_SUPPORT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "frameworks/marathon/app.h"
#include "resources/resources.h"

/* An app with Marathon's defaults and one default port definition, on the stack. */
typedef struct test_app {
    marathon_app_t app;
    marathon_port_definition_t ports[4];
    marathon_constraint_t constraints[4];
} test_app_t;

static inline void test_app_init(test_app_t *t, const char *id)
{
    memset(t, 0, sizeof(*t));
    marathon_app_t *a = &t->app;
    a->id = (char *)id;
    a->cpus = 1;
    a->mem = 128;
    a->instances = 1;
    a->minimum_health_capacity = 1;
    a->maximum_over_capacity = 1;
    a->backoff_seconds = 1;
    a->backoff_factor = 1.15;
    a->max_launch_delay_seconds = 300;
    a->version = (char *)"2026-01-02T03:04:05.678Z";
    a->last_config_change_at = a->version;
    a->last_scaling_at = a->version;
    t->ports[0] = (marathon_port_definition_t){0, (char *)"tcp", (char *)"default", NULL};
    a->port_definitions = t->ports;
    a->port_definition_count = 1;
    a->constraints = t->constraints;
}

/* Adds a constraint (value NULL when absent). */
static inline void test_app_constraint(test_app_t *t, const char *field,
                                       marathon_constraint_op_t op, const char *value)
{
    t->constraints[t->app.constraint_count++] =
        (marathon_constraint_t){(char *)field, op, (char *)value};
}

/* An offer from one agent, with the sub-messages it points to. */
typedef struct test_offer {
    Mesos__Offer offer;
    Mesos__OfferID id;
    Mesos__FrameworkID framework_id;
    Mesos__AgentID agent_id;
    Mesos__DomainInfo domain;
    Mesos__DomainInfo__FaultDomain fault_domain;
    Mesos__DomainInfo__FaultDomain__RegionInfo region;
    Mesos__DomainInfo__FaultDomain__ZoneInfo zone;
    Mesos__Resource__AllocationInfo allocation;
} test_offer_t;

/* Builds an offer of agent hostname with resources and attributes in the flag syntax (either
 * may be NULL). Release with test_offer_fini(). */
static inline void test_offer_init(test_offer_t *o, const char *hostname, const char *resources,
                                   const char *attributes)
{
    memset(o, 0, sizeof(*o));
    mesos__offer__init(&o->offer);
    mesos__offer_id__init(&o->id);
    mesos__framework_id__init(&o->framework_id);
    mesos__agent_id__init(&o->agent_id);
    o->id.value = (char *)"offer-1";
    o->framework_id.value = (char *)"framework-1";
    o->agent_id.value = (char *)"agent-1";
    o->offer.id = &o->id;
    o->offer.framework_id = &o->framework_id;
    o->offer.agent_id = &o->agent_id;
    o->offer.hostname = (char *)hostname;
    char err[256];
    if (resources != NULL) {
        resources_t r;
        if (resources_parse(&r, resources, NULL, err, sizeof(err)) != ACTOR_OK)
            fail_msg("resources '%s': %s", resources, err);
        assert_int_equal(resources_to_proto(&r, &o->offer.resources, &o->offer.n_resources),
                         ACTOR_OK);
        resources_fini(&r);
    }
    if (attributes != NULL) {
        resources_attributes_t a;
        if (resources_attributes_parse(&a, attributes, err, sizeof(err)) != ACTOR_OK)
            fail_msg("attributes '%s': %s", attributes, err);
        assert_int_equal(
            resources_attributes_to_proto(&a, &o->offer.attributes, &o->offer.n_attributes),
            ACTOR_OK);
        resources_attributes_fini(&a);
    }
}

/* Gives the offer a fault domain. */
static inline void test_offer_domain(test_offer_t *o, const char *region, const char *zone)
{
    mesos__domain_info__init(&o->domain);
    mesos__domain_info__fault_domain__init(&o->fault_domain);
    mesos__domain_info__fault_domain__region_info__init(&o->region);
    mesos__domain_info__fault_domain__zone_info__init(&o->zone);
    o->region.name = (char *)region;
    o->zone.name = (char *)zone;
    o->fault_domain.region = &o->region;
    o->fault_domain.zone = &o->zone;
    o->domain.fault_domain = &o->fault_domain;
    o->offer.domain = &o->domain;
}

static inline void test_offer_fini(test_offer_t *o)
{
    resources_proto_free(o->offer.resources, o->offer.n_resources);
    resources_attributes_proto_free(o->offer.attributes, o->offer.n_attributes);
    o->offer.resources = NULL;
    o->offer.attributes = NULL;
}

/* The resources of an offer as the remaining part a matcher starts from. */
static inline void test_offer_remaining(const test_offer_t *o, resources_t *out)
{
    char err[256];
    if (resources_from_proto(out, o->offer.resources, o->offer.n_resources, err, sizeof(err)) !=
        ACTOR_OK)
        fail_msg("offer resources: %s", err);
}

/* The text form of r, compared with want. */
static inline void test_assert_resources(const resources_t *r, const char *want)
{
    char *s = NULL;
    assert_int_equal(resources_format(r, &s), ACTOR_OK);
    assert_string_equal(s, want);
    free(s);
}

#ifdef TEST_FAIL_ALLOCATIONS
/* Failing allocations: the test binary links with -Wl,--wrap for the allocators (CMakeLists.txt),
 * so that every allocation of the code under test (and of the static protobuf-c and jansson)
 * goes through these and fails once test_allocations_left reaches 0. Define
 * TEST_FAIL_ALLOCATIONS before including this header in exactly such a test file. */
static long test_allocations_left = -1; /* -1: never fail */

static bool test_allocation_fails(void)
{
    if (test_allocations_left == 0)
        return true;
    if (test_allocations_left > 0)
        test_allocations_left--;
    return false;
}

void *__real_malloc(size_t size);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t size);
char *__real_strdup(const char *s);
char *__real_strndup(const char *s, size_t n);
void *__wrap_malloc(size_t size);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t size);
char *__wrap_strdup(const char *s);
char *__wrap_strndup(const char *s, size_t n);

void *__wrap_malloc(size_t size)
{
    return test_allocation_fails() ? NULL : __real_malloc(size);
}

void *__wrap_calloc(size_t n, size_t size)
{
    return test_allocation_fails() ? NULL : __real_calloc(n, size);
}

void *__wrap_realloc(void *p, size_t size)
{
    return test_allocation_fails() ? NULL : __real_realloc(p, size);
}

char *__wrap_strdup(const char *s)
{
    return test_allocation_fails() ? NULL : __real_strdup(s);
}

char *__wrap_strndup(const char *s, size_t n)
{
    return test_allocation_fails() ? NULL : __real_strndup(s, n);
}
#endif

#endif
