/* Tests of placement.c: matching resources and host ports against what is left of an offer
 * (requirePorts on and off, not enough of anything, roles, random picks), task ids and names,
 * and the TaskInfo of a launch: the seed's cmd with args, the shell and argv forms, fetch as
 * URIs, the environment of Marathon's tasks, labels, discovery, kill policy and the Mesos health
 * checks. */
#include <inttypes.h>
#include <stdio.h>

#define TEST_FAIL_ALLOCATIONS
#include "tests/marathon/scheduling/support.h"

#include "frameworks/marathon/placement.h"

/* ---- Matching ---- */

static void assert_match(const test_app_t *t, const test_offer_t *o, const char *role,
                         resources_t *remaining, marathon_match_t *m)
{
    unsigned rejects = 99;
    actor_err_t rc = marathon_match(&t->app, &o->offer, role, remaining, NULL, m, &rejects);
    if (rc != ACTOR_OK)
        fail_msg("no match: %s (rejects %u)", actor_strerror(rc), rejects);
    assert_int_equal(rejects, 0);
}

/* The remaining offer does not fit, for exactly these reasons; it stays as it was. */
static void assert_no_match(const test_app_t *t, const test_offer_t *o, resources_t *remaining,
                            unsigned want)
{
    char *before = NULL, *after = NULL;
    assert_int_equal(resources_format(remaining, &before), ACTOR_OK);
    marathon_match_t m;
    unsigned rejects = 0;
    assert_int_equal(marathon_match(&t->app, &o->offer, NULL, remaining, NULL, &m, &rejects),
                     ACTOR_ENOENT);
    assert_int_equal(rejects, want);
    assert_int_equal(m.item_count, 0);
    assert_int_equal(resources_format(remaining, &after), ACTOR_OK);
    assert_string_equal(after, before);
    free(before);
    free(after);
}

static void test_match_dynamic_ports(void **state)
{
    (void)state;
    test_app_t t;
    test_app_init(&t, "/web");
    t.app.cpus = 0.5;
    t.ports[1] = (marathon_port_definition_t){0, (char *)"tcp", NULL, NULL};
    t.app.port_definition_count = 2;
    test_offer_t o;
    test_offer_init(&o, "h1", "cpus:2;mem:1024;disk:100;ports:[31000-31003]", NULL);
    resources_t remaining;
    test_offer_remaining(&o, &remaining);
    marathon_match_t m;
    assert_match(&t, &o, NULL, &remaining, &m);
    test_assert_resources(&m.resources, "cpus:0.5;mem:128;ports:[31000-31001]");
    assert_int_equal(m.host_port_count, 2);
    assert_int_equal(m.host_ports[0], 31000);
    assert_int_equal(m.host_ports[1], 31001);
    assert_int_equal(m.item_count, 3); /* disk 0 is not taken, as Marathon */
    assert_null(m.items[0]->allocation_info);
    test_assert_resources(&remaining, "cpus:1.5;mem:896;disk:100;ports:[31002-31003]");
    marathon_match_fini(&m);

    /* A second task takes the next ports; a third finds none left. */
    assert_match(&t, &o, NULL, &remaining, &m);
    assert_int_equal(m.host_ports[0], 31002);
    assert_int_equal(m.host_ports[1], 31003);
    marathon_match_fini(&m);
    assert_no_match(&t, &o, &remaining, MARATHON_REJECT_PORTS);
    test_assert_resources(&remaining, "cpus:1;mem:768;disk:100");
    resources_fini(&remaining);
    test_offer_fini(&o);
}

static void test_match_require_ports(void **state)
{
    (void)state;
    test_app_t t;
    test_app_init(&t, "/fixed");
    t.app.require_ports = true;
    t.ports[0].port = 31007;
    t.ports[1] = (marathon_port_definition_t){31002, (char *)"tcp", NULL, NULL};
    t.app.port_definition_count = 2;
    test_offer_t o;
    test_offer_init(&o, "h1", "cpus:2;mem:1024;ports:[31000-31009]", NULL);
    resources_t remaining;
    test_offer_remaining(&o, &remaining);
    marathon_match_t m;
    assert_match(&t, &o, NULL, &remaining, &m);
    assert_int_equal(m.host_ports[0], 31007);
    assert_int_equal(m.host_ports[1], 31002);
    test_assert_resources(&remaining, "cpus:1;mem:896;ports:[31000-31001,31003-31006,31008-31009]");
    marathon_match_fini(&m);
    /* The same ports again: taken. */
    assert_no_match(&t, &o, &remaining, MARATHON_REJECT_PORTS);
    /* A port outside the offer's ranges. */
    t.ports[1].port = 40000;
    resources_fini(&remaining);
    test_offer_remaining(&o, &remaining);
    assert_no_match(&t, &o, &remaining, MARATHON_REJECT_PORTS);
    /* Without requirePorts the numbers are service ports: any host ports do. */
    t.app.require_ports = false;
    assert_match(&t, &o, NULL, &remaining, &m);
    assert_int_equal(m.host_ports[0], 31000);
    marathon_match_fini(&m);
    resources_fini(&remaining);
    test_offer_fini(&o);
}

static void test_match_insufficient(void **state)
{
    (void)state;
    static const struct {
        const char *offer;
        unsigned rejects;
    } cases[] = {
        {"cpus:0.5;mem:1024;disk:10;ports:[1-10]", MARATHON_REJECT_CPUS},
        {"cpus:4;mem:127;disk:10;ports:[1-10]", MARATHON_REJECT_MEMORY},
        {"cpus:4;mem:1024;disk:9.5;ports:[1-10]", MARATHON_REJECT_DISK},
        {"cpus:4;mem:1024;disk:10", MARATHON_REJECT_PORTS},
        {"disk:1", MARATHON_REJECT_CPUS | MARATHON_REJECT_MEMORY | MARATHON_REJECT_DISK |
                       MARATHON_REJECT_PORTS},
        {"cpus(other):4;mem(other):1024;disk:10;ports(other):[1-10]",
         MARATHON_REJECT_CPUS | MARATHON_REJECT_MEMORY | MARATHON_REJECT_PORTS},
        {"cpus:1;mem:128;disk:10;ports:[5-5]", 0},                     /* exactly enough */
        {"cpus:1;mem:128;disk:10;ports:[0-0]", MARATHON_REJECT_PORTS}, /* 0 is no port */
        {"cpus:1;mem:128;disk:10;ports:[0-1]", 0},
    };
    test_app_t t;
    test_app_init(&t, "/big");
    t.app.disk = 10;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        test_offer_t o;
        test_offer_init(&o, "h", cases[i].offer, NULL);
        resources_t remaining;
        test_offer_remaining(&o, &remaining);
        marathon_match_t m;
        unsigned rejects = 99;
        actor_err_t rc = marathon_match(&t.app, &o.offer, NULL, &remaining, NULL, &m, &rejects);
        assert_int_equal(rc, cases[i].rejects == 0 ? ACTOR_OK : ACTOR_ENOENT);
        if (rejects != cases[i].rejects)
            fail_msg("offer %s: rejects %u, want %u", cases[i].offer, rejects, cases[i].rejects);
        marathon_match_fini(&m);
        resources_fini(&remaining);
        test_offer_fini(&o);
    }
    for (unsigned bit = 1; bit <= MARATHON_REJECT_CONSTRAINT; bit <<= 1)
        assert_true(marathon_reject_name((marathon_reject_t)bit)[0] != '\0');
    assert_string_equal(marathon_reject_name(MARATHON_REJECT_PORTS), "InsufficientPorts");
    t.app.cpus = -1;
    assert_int_equal(marathon_match(&t.app, NULL, NULL, NULL, NULL, &(marathon_match_t){0}, NULL),
                     ACTOR_EINVAL);
}

/* Only "*" and the framework's role count; the framework's role is used first. */
static void test_match_roles(void **state)
{
    (void)state;
    test_app_t t;
    test_app_init(&t, "/r");
    t.app.cpus = 0.5;
    test_offer_t o;
    test_offer_init(&o, "h",
                    "cpus(marathon):0.3;cpus:1;cpus(other):8;mem:512;ports(marathon):[100-100];"
                    "ports:[200-201]",
                    NULL);
    mesos__resource__allocation_info__init(&o.allocation);
    o.allocation.role = (char *)"marathon";
    o.offer.allocation_info = &o.allocation;
    resources_t remaining;
    test_offer_remaining(&o, &remaining);
    marathon_match_t m;
    assert_match(&t, &o, "marathon", &remaining, &m);
    test_assert_resources(&m.resources,
                          "cpus(marathon):0.3;cpus:0.2;mem:128;ports(marathon):[100-100]");
    assert_int_equal(m.host_ports[0], 100);
    for (size_t i = 0; i < m.item_count; i++) {
        assert_non_null(m.items[i]->allocation_info);
        assert_string_equal(m.items[i]->allocation_info->role, "marathon");
    }
    marathon_match_fini(&m);
    assert_match(&t, &o, "marathon", &remaining, &m); /* role ports gone: "*" ones */
    test_assert_resources(&m.resources, "cpus:0.5;mem:128;ports:[200-200]");
    marathon_match_fini(&m);
    resources_fini(&remaining);

    /* As role "*", cpus(other) are not ours: 2 cpus do not fit in cpus:1. */
    t.app.cpus = 2;
    test_offer_remaining(&o, &remaining);
    assert_no_match(&t, &o, &remaining, MARATHON_REJECT_CPUS);
    resources_fini(&remaining);
    test_offer_fini(&o);
}

/* Random picks: distinct, inside the ranges, reproducible for a seed, and they do not all start
 * at the lowest port. */
static void test_match_random_ports(void **state)
{
    (void)state;
    test_app_t t;
    test_app_init(&t, "/rnd");
    t.app.cpus = 0.01;
    t.app.mem = 1;
    t.app.port_definition_count = 3;
    t.ports[1] = t.ports[2] = (marathon_port_definition_t){0, (char *)"tcp", NULL, NULL};
    test_offer_t o;
    test_offer_init(&o, "h", "cpus:8;mem:1024;ports:[31000-31999,33000-33005]", NULL);
    uint32_t first[3] = {0};
    bool above_lowest = false;
    for (int round = 0; round < 2; round++) {
        uint64_t seed = 42;
        resources_t remaining;
        test_offer_remaining(&o, &remaining);
        for (int task = 0; task < 50; task++) {
            marathon_match_t m;
            assert_int_equal(marathon_match(&t.app, &o.offer, NULL, &remaining, &seed, &m, NULL),
                             ACTOR_OK);
            for (size_t i = 0; i < 3; i++) {
                uint32_t p = m.host_ports[i];
                assert_true((p >= 31000 && p <= 31999) || (p >= 33000 && p <= 33005));
                for (size_t j = 0; j < i; j++)
                    assert_int_not_equal(p, m.host_ports[j]);
                above_lowest |= p > 31000 + 150;
                if (task == 0 && round == 0)
                    first[i] = p;
                if (task == 0 && round == 1)
                    assert_int_equal(p, first[i]); /* same seed, same picks */
            }
            marathon_match_fini(&m);
        }
        /* 150 ports taken, none twice: the remaining ranges lost exactly 150. */
        resources_range_t *ranges;
        size_t n;
        assert_int_equal(resources_ranges(&remaining, "ports", &ranges, &n), ACTOR_OK);
        uint64_t left = 0;
        for (size_t i = 0; i < n; i++)
            left += ranges[i].end - ranges[i].begin + 1;
        assert_int_equal(left, 1006 - 150);
        free(ranges);
        resources_fini(&remaining);
    }
    assert_true(above_lowest);
    /* A range of exactly as many ports as needed still fits at random. */
    test_offer_t small;
    test_offer_init(&small, "h", "cpus:1;mem:64;ports:[5000-5002]", NULL);
    resources_t remaining;
    test_offer_remaining(&small, &remaining);
    uint64_t seed = 7;
    marathon_match_t m;
    assert_int_equal(marathon_match(&t.app, &small.offer, NULL, &remaining, &seed, &m, NULL),
                     ACTOR_OK);
    assert_int_equal(m.host_ports[0] + m.host_ports[1] + m.host_ports[2], 15003);
    marathon_match_fini(&m);
    resources_fini(&remaining);
    test_offer_fini(&small);
    test_offer_fini(&o);
}

static void test_match_no_ports(void **state)
{
    (void)state;
    test_app_t t;
    test_app_init(&t, "/noports");
    t.app.port_definition_count = 0; /* portDefinitions: [] */
    test_offer_t o;
    test_offer_init(&o, "h", "cpus:1;mem:128", NULL);
    resources_t remaining;
    test_offer_remaining(&o, &remaining);
    marathon_match_t m;
    assert_match(&t, &o, NULL, &remaining, &m);
    assert_int_equal(m.host_port_count, 0);
    assert_true(resources_empty(&remaining));
    marathon_match_fini(&m);
    resources_fini(&remaining);
    test_offer_fini(&o);
}

/* ---- Task ids and names ---- */

static void test_task_ids(void **state)
{
    (void)state;
    char *id = NULL, *app = NULL;
    assert_int_equal(marathon_task_id_new("/prod/web", &id), ACTOR_OK);
    assert_int_equal(strlen(id), strlen("prod_web.") + 36);
    assert_memory_equal(id, "prod_web.", 9);
    assert_int_equal(marathon_task_id_app(id, &app), ACTOR_OK);
    assert_string_equal(app, "/prod/web");
    char *other = NULL;
    assert_int_equal(marathon_task_id_new("/prod/web", &other), ACTOR_OK);
    assert_string_not_equal(id, other);
    free(id);
    free(other);
    free(app);
    assert_int_equal(marathon_task_id_app("my.app.5f0d6a4e-1b2c-4d5e-8f90-0123456789ab", &app),
                     ACTOR_OK);
    assert_string_equal(app, "/my.app");
    free(app);
    assert_int_equal(marathon_task_id_app("a_b.instance-5f0d._app.1", &app), ACTOR_OK);
    assert_string_equal(app, "/a/b");
    free(app);
    assert_int_equal(marathon_task_id_app("nodot", &app), ACTOR_EINVAL);
    assert_int_equal(marathon_task_id_app(".x", &app), ACTOR_EINVAL);
    assert_int_equal(marathon_task_id_app("x.", &app), ACTOR_EINVAL);
    assert_int_equal(marathon_task_id_new("relative", &id), ACTOR_EINVAL);
    assert_int_equal(marathon_task_id_new("/", &id), ACTOR_EINVAL);

    static const char *names[][2] = {
        {"/web-app", "web-app"}, {"/prod/web", "web.prod"}, {"/a/b/c", "c.b.a"}, {"/", ""}};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        char *name = marathon_task_name(names[i][0]);
        assert_string_equal(name, names[i][1]);
        free(name);
    }
}

/* ---- TaskInfo ---- */

/* Builds the TaskInfo of t on an offer of host h1 with two ports free, checking it packs. */
static Mesos__TaskInfo *build(const test_app_t *t, marathon_match_t *m)
{
    test_offer_t o;
    test_offer_init(&o, "h1", "cpus:8;mem:20000000;disk:1000;ports:[31000-31009]", NULL);
    resources_t remaining;
    test_offer_remaining(&o, &remaining);
    assert_int_equal(marathon_match(&t->app, &o.offer, NULL, &remaining, NULL, m, NULL), ACTOR_OK);
    Mesos__TaskInfo *info = NULL;
    assert_int_equal(marathon_task_build(&t->app, &o.offer, "web-app.1234", m, &info), ACTOR_OK);
    assert_true(protobuf_c_message_check(&info->base));
    size_t len = protobuf_c_message_get_packed_size(&info->base);
    uint8_t *buf = malloc(len);
    protobuf_c_message_pack(&info->base, buf);
    Mesos__TaskInfo *back = mesos__task_info__unpack(NULL, len, buf);
    assert_non_null(back);
    mesos__task_info__free_unpacked(back, NULL);
    free(buf);
    resources_fini(&remaining);
    test_offer_fini(&o);
    return info;
}

static void release(Mesos__TaskInfo *info, marathon_match_t *m)
{
    mesos__task_info__free_unpacked(info, NULL);
    marathon_match_fini(m);
}

static const char *env_get(const Mesos__TaskInfo *info, const char *name)
{
    const Mesos__Environment *env = info->command->environment;
    for (size_t i = 0; i < env->n_variables; i++)
        if (strcmp(env->variables[i]->name, name) == 0)
            return env->variables[i]->value;
    return NULL;
}

static void assert_env(const Mesos__TaskInfo *info, const char *name, const char *want)
{
    const char *got = env_get(info, name);
    if (want == NULL && got != NULL)
        fail_msg("%s is set (%s)", name, got);
    if (want != NULL && (got == NULL || strcmp(got, want) != 0))
        fail_msg("%s is %s, want %s", name, got ? got : "(unset)", want);
}

/* The seed's app.json: cmd with args, a URI, 0.5 cpus, the default port. */
static void test_task_seed_app(void **state)
{
    (void)state;
    test_app_t t;
    test_app_init(&t, "/web-app");
    t.app.cmd = (char *)"/usr/bin/node";
    char *args[] = {(char *)"web-app.js"};
    t.app.args = args;
    t.app.args_count = 1;
    t.app.has_args = true;
    t.app.cpus = 0.5;
    t.app.instances = 2;
    marathon_fetch_t fetch = {(char *)"http://127.0.0.1:8000/web-app.js", true, false, false, NULL};
    t.app.fetch = &fetch;
    t.app.fetch_count = 1;
    marathon_match_t m;
    Mesos__TaskInfo *info = build(&t, &m);
    assert_string_equal(info->name, "web-app");
    assert_string_equal(info->task_id->value, "web-app.1234");
    assert_string_equal(info->agent_id->value, "agent-1");
    assert_int_equal(info->n_resources, 3);
    const Mesos__CommandInfo *c = info->command;
    assert_string_equal(c->value, "/usr/bin/node");
    assert_true(c->has_shell);
    assert_false(c->shell);
    assert_int_equal(c->n_arguments, 2);
    assert_string_equal(c->arguments[0], "/usr/bin/node");
    assert_string_equal(c->arguments[1], "web-app.js");
    assert_int_equal(c->n_uris, 1);
    assert_string_equal(c->uris[0]->value, "http://127.0.0.1:8000/web-app.js");
    assert_true(c->uris[0]->has_extract && c->uris[0]->extract);
    assert_true(c->uris[0]->has_executable && !c->uris[0]->executable);
    assert_true(c->uris[0]->has_cache && !c->uris[0]->cache);
    assert_null(c->uris[0]->output_file);
    assert_null(c->user);
    assert_env(info, "MESOS_TASK_ID", "web-app.1234");
    assert_env(info, "MARATHON_APP_ID", "/web-app");
    assert_env(info, "MARATHON_APP_VERSION", "2026-01-02T03:04:05.678Z");
    assert_env(info, "MARATHON_APP_RESOURCE_CPUS", "0.5");
    assert_env(info, "MARATHON_APP_RESOURCE_MEM", "128.0");
    assert_env(info, "MARATHON_APP_RESOURCE_DISK", "0.0");
    assert_env(info, "MARATHON_APP_RESOURCE_GPUS", "0");
    assert_env(info, "MARATHON_APP_LABELS", "");
    assert_env(info, "MARATHON_APP_DOCKER_IMAGE", NULL);
    assert_env(info, "HOST", "h1");
    assert_env(info, "PORT0", "31000");
    assert_env(info, "PORT", "31000");
    assert_env(info, "PORTS", "31000");
    assert_env(info, "PORT_31000", "31000"); /* declared 0: named by the host port */
    assert_env(info, "PORT_DEFAULT", "31000");
    assert_env(info, "PORT1", NULL);
    assert_null(info->labels);
    assert_null(info->kill_policy);
    assert_null(info->health_check);
    assert_null(info->executor);
    const Mesos__DiscoveryInfo *d = info->discovery;
    assert_int_equal(d->visibility, MESOS__DISCOVERY_INFO__VISIBILITY__FRAMEWORK);
    assert_string_equal(d->name, "web-app");
    assert_int_equal(d->ports->n_ports, 1);
    assert_int_equal(d->ports->ports[0]->number, 31000);
    assert_string_equal(d->ports->ports[0]->protocol, "tcp");
    assert_string_equal(d->ports->ports[0]->name, "default");
    release(info, &m);
}

static void test_task_command_forms(void **state)
{
    (void)state;
    test_app_t t;
    test_app_init(&t, "/cmd");
    t.app.cmd = (char *)"sleep 1000 && echo $PORT0";
    t.app.user = (char *)"nobody";
    marathon_fetch_t fetch = {(char *)"http://x/a.tgz", false, true, true, (char *)"lib/a.tgz"};
    t.app.fetch = &fetch;
    t.app.fetch_count = 1;
    marathon_match_t m;
    Mesos__TaskInfo *info = build(&t, &m);
    const Mesos__CommandInfo *c = info->command;
    assert_string_equal(c->value, "sleep 1000 && echo $PORT0");
    assert_false(c->has_shell); /* Mesos's default: the shell */
    assert_int_equal(c->n_arguments, 0);
    assert_string_equal(c->user, "nobody");
    assert_false(c->uris[0]->extract);
    assert_true(c->uris[0]->executable);
    assert_true(c->uris[0]->cache);
    assert_string_equal(c->uris[0]->output_file, "lib/a.tgz");
    release(info, &m);

    /* args alone: argv, the program is args[0]. */
    test_app_init(&t, "/args");
    char *args[] = {(char *)"/bin/echo", (char *)"a b", (char *)"c"};
    t.app.args = args;
    t.app.args_count = 3;
    t.app.has_args = true;
    info = build(&t, &m);
    c = info->command;
    assert_string_equal(c->value, "/bin/echo");
    assert_true(c->has_shell && !c->shell);
    assert_int_equal(c->n_arguments, 3);
    assert_string_equal(c->arguments[1], "a b");
    assert_int_equal(c->n_uris, 0);
    release(info, &m);
}

/* Labels, named and declared ports, the app's env winning over Marathon's, numbers in Java's
 * form. */
static void test_task_environment(void **state)
{
    (void)state;
    test_app_t t;
    test_app_init(&t, "/prod/api");
    t.app.cmd = (char *)"run";
    t.app.cpus = 0.1;
    t.app.mem = 1024.25;
    t.app.disk = 0.0001;
    t.ports[0] = (marathon_port_definition_t){10000, (char *)"tcp", (char *)"http-api", NULL};
    t.ports[1] = (marathon_port_definition_t){0, (char *)"udp", NULL, NULL};
    t.app.port_definition_count = 2;
    char long_value[600];
    memset(long_value, 'v', sizeof(long_value) - 1);
    long_value[sizeof(long_value) - 1] = '\0';
    t.app.labels = json_pack("{s:s, s:s, s:s, s:s}", "HAPROXY_GROUP", "external", "my.label--x",
                             "1", "too-long", long_value, "a_b", "2");
    t.app.env = json_pack("{s:s, s:s, s:{s:s}}", "HOST", "custom", "EXTRA", "yes", "SECRET",
                          "secret", "pw");
    marathon_match_t m;
    Mesos__TaskInfo *info = build(&t, &m);
    assert_string_equal(info->name, "api.prod");
    assert_env(info, "MARATHON_APP_ID", "/prod/api");
    assert_env(info, "MARATHON_APP_RESOURCE_CPUS", "0.1");
    assert_env(info, "MARATHON_APP_RESOURCE_MEM", "1024.25");
    assert_env(info, "MARATHON_APP_RESOURCE_DISK", "1.0E-4");
    assert_env(info, "MARATHON_APP_LABELS", "HAPROXY_GROUP MY_LABEL_X A_B");
    assert_env(info, "MARATHON_APP_LABEL_HAPROXY_GROUP", "external");
    assert_env(info, "MARATHON_APP_LABEL_MY_LABEL_X", "1");
    assert_env(info, "MARATHON_APP_LABEL_A_B", "2");
    assert_env(info, "MARATHON_APP_LABEL_TOO_LONG", NULL);
    assert_env(info, "PORT0", "31000");
    assert_env(info, "PORT1", "31001");
    assert_env(info, "PORT_10000", "31000"); /* the declared (service) port */
    assert_env(info, "PORT_31001", "31001");
    assert_env(info, "PORT_HTTP-API", "31000");
    assert_env(info, "PORTS", "31000,31001");
    assert_env(info, "HOST", "custom"); /* the app's env wins */
    assert_env(info, "EXTRA", "yes");
    assert_env(info, "SECRET", NULL);
    /* Each variable once. */
    const Mesos__Environment *env = info->command->environment;
    for (size_t i = 0; i < env->n_variables; i++)
        for (size_t j = 0; j < i; j++)
            assert_string_not_equal(env->variables[i]->name, env->variables[j]->name);
    assert_int_equal(info->labels->n_labels, 4);
    assert_string_equal(info->labels->labels[0]->key, "HAPROXY_GROUP");
    assert_string_equal(info->labels->labels[0]->value, "external");
    assert_int_equal(info->discovery->ports->n_ports, 2);
    assert_string_equal(info->discovery->ports->ports[0]->name, "http-api");
    assert_string_equal(info->discovery->ports->ports[1]->protocol, "udp");
    assert_null(info->discovery->ports->ports[1]->name);
    release(info, &m);
    json_decref(t.app.labels);
    json_decref(t.app.env);
}

/* Resources in the environment as Java's Double.toString writes them. */
static void test_task_numbers(void **state)
{
    (void)state;
    static const struct {
        double cpus, mem;
        const char *cpus_text, *mem_text;
    } cases[] = {
        {1, 128, "1.0", "128.0"},
        {0.5, 0.1, "0.5", "0.1"},
        {0.001, 1234567.5, "0.001", "1234567.5"},
        {0.0005, 12345678.9, "5.0E-4", "1.23456789E7"},
        {2.25, 10000000, "2.25", "1.0E7"},
        {8, 9999999, "8.0", "9999999.0"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        test_app_t t;
        test_app_init(&t, "/n");
        t.app.cmd = (char *)"x";
        t.app.cpus = cases[i].cpus;
        t.app.mem = cases[i].mem;
        marathon_match_t m;
        Mesos__TaskInfo *info = build(&t, &m);
        assert_env(info, "MARATHON_APP_RESOURCE_CPUS", cases[i].cpus_text);
        assert_env(info, "MARATHON_APP_RESOURCE_MEM", cases[i].mem_text);
        release(info, &m);
    }
}

static void test_task_discovery_kill_policy(void **state)
{
    (void)state;
    test_app_t t;
    test_app_init(&t, "/dns");
    t.app.cmd = (char *)"x";
    t.ports[0].protocol = (char *)"udp,tcp";
    t.ports[0].labels = json_pack("{s:s}", "VIP_0", "/dns:53");
    t.app.has_task_kill_grace_period = true;
    t.app.task_kill_grace_period_seconds = 30;
    marathon_match_t m;
    Mesos__TaskInfo *info = build(&t, &m);
    const Mesos__Ports *ports = info->discovery->ports;
    assert_int_equal(ports->n_ports, 2);
    assert_string_equal(ports->ports[0]->protocol, "udp");
    assert_string_equal(ports->ports[1]->protocol, "tcp");
    for (size_t i = 0; i < 2; i++) {
        assert_int_equal(ports->ports[i]->number, 31000);
        assert_string_equal(ports->ports[i]->labels->labels[0]->key, "VIP_0");
        assert_string_equal(ports->ports[i]->labels->labels[0]->value, "/dns:53");
    }
    assert_int_equal(info->kill_policy->grace_period->nanoseconds, 30000000000LL);
    release(info, &m);
    json_decref(t.ports[0].labels);
}

static marathon_health_check_t check(marathon_health_protocol_t protocol)
{
    marathon_health_check_t hc = {0};
    hc.protocol = protocol;
    hc.path = (char *)"/health";
    hc.grace_period_seconds = 300;
    hc.interval_seconds = 60;
    hc.timeout_seconds = 20;
    hc.max_consecutive_failures = 3;
    hc.delay_seconds = 15;
    return hc;
}

static void test_task_health_checks(void **state)
{
    (void)state;
    test_app_t t;
    test_app_init(&t, "/hc");
    t.app.cmd = (char *)"x";
    t.ports[1] = (marathon_port_definition_t){0, (char *)"tcp", NULL, NULL};
    t.app.port_definition_count = 2;
    marathon_health_check_t checks[2];
    t.app.health_checks = checks;
    marathon_match_t m;

    /* A Marathon-level HTTP check stays in Marathon; the COMMAND one goes to Mesos. */
    checks[0] = check(MARATHON_HEALTH_HTTP);
    checks[1] = check(MARATHON_HEALTH_COMMAND);
    checks[1].command = (char *)"curl -f http://$HOST:$PORT0/";
    checks[1].interval_seconds = 7;
    checks[1].max_consecutive_failures = 5;
    t.app.health_check_count = 2;
    Mesos__TaskInfo *info = build(&t, &m);
    const Mesos__HealthCheck *h = info->health_check;
    assert_int_equal(h->type, MESOS__HEALTH_CHECK__TYPE__COMMAND);
    assert_string_equal(h->command->value, "curl -f http://$HOST:$PORT0/");
    assert_true(h->has_interval_seconds && h->interval_seconds == 7);
    assert_true(h->has_timeout_seconds && h->timeout_seconds == 20);
    assert_true(h->has_grace_period_seconds && h->grace_period_seconds == 300);
    assert_true(h->has_delay_seconds && h->delay_seconds == 15);
    assert_true(h->has_consecutive_failures && h->consecutive_failures == 5);
    assert_null(h->http);
    release(info, &m);

    /* MESOS_HTTPS on portIndex 1: the second host port. */
    checks[0] = check(MARATHON_HEALTH_MESOS_HTTPS);
    checks[0].port_index = 1;
    t.app.health_check_count = 1;
    info = build(&t, &m);
    h = info->health_check;
    assert_int_equal(h->type, MESOS__HEALTH_CHECK__TYPE__HTTP);
    assert_int_equal(h->http->port, 31001);
    assert_string_equal(h->http->scheme, "https");
    assert_string_equal(h->http->path, "/health");
    release(info, &m);

    /* MESOS_TCP with an explicit port. */
    checks[0] = check(MARATHON_HEALTH_MESOS_TCP);
    checks[0].has_port = true;
    checks[0].port = 8080;
    info = build(&t, &m);
    assert_int_equal(info->health_check->type, MESOS__HEALTH_CHECK__TYPE__TCP);
    assert_int_equal(info->health_check->tcp->port, 8080);
    release(info, &m);

    /* A port index that resolves to nothing: no Mesos check, as Marathon. */
    checks[0] = check(MARATHON_HEALTH_MESOS_HTTP);
    checks[0].port_index = 5;
    info = build(&t, &m);
    assert_null(info->health_check);
    release(info, &m);

    /* TCP and HTTPS checks run by Marathon: none in the task. */
    checks[0] = check(MARATHON_HEALTH_TCP);
    checks[1] = check(MARATHON_HEALTH_HTTPS);
    t.app.health_check_count = 2;
    info = build(&t, &m);
    assert_null(info->health_check);
    release(info, &m);
}

static void test_task_build_errors(void **state)
{
    (void)state;
    test_app_t t;
    test_app_init(&t, "/e");
    test_offer_t o;
    test_offer_init(&o, "h", NULL, NULL);
    marathon_match_t m;
    marathon_match_init(&m); /* no host ports, but the app has one port definition */
    Mesos__TaskInfo *info = NULL;
    assert_int_equal(marathon_task_build(&t.app, &o.offer, "e.1", &m, &info), ACTOR_EINVAL);
    assert_null(info);
    test_offer_fini(&o);
}

/* ---- Failing allocations ---- */

/* Matches and builds once; on success *packed holds the TaskInfo's bytes. Returns the first
 * error. remaining must be unchanged by a failed match. */
static actor_err_t match_and_build(const test_app_t *t, const test_offer_t *o, long fail_after,
                                   uint8_t **packed, size_t *len)
{
    resources_t remaining;
    test_offer_remaining(o, &remaining);
    char *before = NULL;
    assert_int_equal(resources_format(&remaining, &before), ACTOR_OK);
    marathon_match_t m;
    Mesos__TaskInfo *info = NULL;
    test_allocations_left = fail_after;
    actor_err_t rc = marathon_match(&t->app, &o->offer, "marathon", &remaining, NULL, &m, NULL);
    bool matched = rc == ACTOR_OK;
    if (matched)
        rc = marathon_task_build(&t->app, &o->offer, "hc.1", &m, &info);
    test_allocations_left = -1;
    assert_true(rc == ACTOR_OK || rc == ACTOR_ENOMEM);
    if (!matched) {
        char *after = NULL;
        assert_int_equal(resources_format(&remaining, &after), ACTOR_OK);
        assert_string_equal(after, before);
        free(after);
    }
    if (rc == ACTOR_OK) {
        *len = protobuf_c_message_get_packed_size(&info->base);
        *packed = malloc(*len);
        protobuf_c_message_pack(&info->base, *packed);
        mesos__task_info__free_unpacked(info, NULL);
    }
    free(before);
    marathon_match_fini(&m);
    resources_fini(&remaining);
    return rc;
}

static void test_out_of_memory(void **state)
{
    (void)state;
    test_app_t t;
    test_app_init(&t, "/prod/hc");
    t.app.cpus = 0.5;
    char *args[] = {(char *)"a", (char *)"b"};
    t.app.cmd = (char *)"/bin/run";
    t.app.args = args;
    t.app.args_count = 2;
    t.app.user = (char *)"nobody";
    marathon_fetch_t fetch[] = {{(char *)"http://x/a.tgz", true, false, false, (char *)"a"},
                                {(char *)"http://x/b", false, true, true, NULL}};
    t.app.fetch = fetch;
    t.app.fetch_count = 2;
    t.ports[0].labels = json_pack("{s:s}", "VIP_0", "/hc:80");
    t.ports[1] = (marathon_port_definition_t){10001, (char *)"udp,tcp", (char *)"dns", NULL};
    t.app.port_definition_count = 2;
    t.app.labels = json_pack("{s:s, s:s}", "A-1", "x", "b", "y");
    t.app.env = json_pack("{s:s}", "PORT0", "mine");
    marathon_health_check_t hc = {.protocol = MARATHON_HEALTH_MESOS_HTTP,
                                  .path = (char *)"/",
                                  .port_index = 1,
                                  .interval_seconds = 5};
    t.app.health_checks = &hc;
    t.app.health_check_count = 1;
    t.app.has_task_kill_grace_period = true;
    t.app.task_kill_grace_period_seconds = 3;
    test_offer_t o;
    test_offer_init(&o, "h1", "cpus(marathon):0.2;cpus:8;mem:4096;ports:[31000-31009]", NULL);
    mesos__resource__allocation_info__init(&o.allocation);
    o.allocation.role = (char *)"marathon";
    o.offer.allocation_info = &o.allocation;

    uint8_t *want = NULL, *got = NULL;
    size_t want_len = 0, got_len = 0;
    assert_int_equal(match_and_build(&t, &o, -1, &want, &want_len), ACTOR_OK);
    long n;
    for (n = 0; n < 100000; n++) {
        if (match_and_build(&t, &o, n, &got, &got_len) == ACTOR_OK)
            break;
    }
    assert_true(n > 50); /* allocations failed all along the way */
    assert_int_equal(got_len, want_len);
    assert_memory_equal(got, want, want_len);
    free(got);
    free(want);

    char *id = NULL;
    test_allocations_left = 0;
    assert_int_equal(marathon_task_id_new("/a", &id), ACTOR_ENOMEM);
    assert_int_equal(marathon_task_id_app("a.b", &id), ACTOR_ENOMEM);
    assert_null(marathon_task_name("/a"));
    test_allocations_left = -1;
    json_decref(t.ports[0].labels);
    json_decref(t.app.labels);
    json_decref(t.app.env);
    test_offer_fini(&o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_match_dynamic_ports),
        cmocka_unit_test(test_match_require_ports),
        cmocka_unit_test(test_match_insufficient),
        cmocka_unit_test(test_match_roles),
        cmocka_unit_test(test_match_random_ports),
        cmocka_unit_test(test_match_no_ports),
        cmocka_unit_test(test_task_ids),
        cmocka_unit_test(test_task_seed_app),
        cmocka_unit_test(test_task_command_forms),
        cmocka_unit_test(test_task_environment),
        cmocka_unit_test(test_task_numbers),
        cmocka_unit_test(test_task_discovery_kill_policy),
        cmocka_unit_test(test_task_health_checks),
        cmocka_unit_test(test_task_build_errors),
        cmocka_unit_test(test_out_of_memory),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
