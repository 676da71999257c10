/* Tests of constraints.c: one table per constraint operator (accept or reject an offer given
 * where the app's instances run), the fields (hostname, @region, @zone, text, scalar, ranges and
 * set attributes), GROUP_BY spreading over a simulated series of offers, and the choice of
 * instances to kill (condition order, killSelection, sentenced, GROUP_BY balance). */
#define TEST_FAIL_ALLOCATIONS
#include "tests/marathon/scheduling/support.h"

#include "frameworks/marathon/placement.h"

/* The agents of the tests: hostname and attributes. */
enum { H1, H2, H3, H4, NOATTR, AGENT_COUNT };

static const struct {
    const char *host;
    const char *attributes;
} agent_spec[AGENT_COUNT] = {
    [H1] = {"h1", "rack:r1;level:0.8;ids:[6-8,1-4]"},
    [H2] = {"h2", "rack:r1;level:2"},
    [H3] = {"h3", "rack:r2;level:1234.5"},
    [H4] = {"h4", "rack:r3;level:0.8001"},
    [NOATTR] = {"bare", NULL},
};

static test_offer_t agents[AGENT_COUNT];

static int setup(void **state)
{
    (void)state;
    for (int i = 0; i < AGENT_COUNT; i++)
        test_offer_init(&agents[i], agent_spec[i].host, NULL, agent_spec[i].attributes);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    for (int i = 0; i < AGENT_COUNT; i++)
        test_offer_fini(&agents[i]);
    return 0;
}

/* One case: a constraint, where instances run (agent indexes, -1 ends the list, -2 is an instance
 * not placed yet), the agent offering, and whether it is accepted. */
typedef struct ccase {
    const char *field;
    marathon_constraint_op_t op;
    const char *value;
    int placed[8];
    int offer;
    bool accept;
} ccase_t;

static void run_cases(const ccase_t *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const ccase_t *c = &cases[i];
        marathon_placed_t placed[8];
        size_t count = 0;
        for (; count < 8 && c->placed[count] != -1; count++) {
            if (c->placed[count] == -2)
                memset(&placed[count], 0, sizeof(placed[count]));
            else
                marathon_placed_from_offer(&agents[c->placed[count]].offer, &placed[count]);
        }
        marathon_constraint_t constraint = {(char *)c->field, c->op, (char *)c->value};
        bool got = marathon_constraint_allows(&constraint, &agents[c->offer].offer, placed, count);
        if (got != c->accept)
            fail_msg("case %zu (%s, value %s, offer %s): got %s", i, c->field,
                     c->value ? c->value : "(none)", agent_spec[c->offer].host,
                     got ? "accept" : "reject");
    }
}

#define NONE                                                                                       \
    {                                                                                              \
        -1                                                                                         \
    }
#define RUN(cases) run_cases(cases, sizeof(cases) / sizeof(cases[0]))

static void test_unique(void **state)
{
    (void)state;
    static const ccase_t cases[] = {
        {"hostname", MARATHON_CONSTRAINT_UNIQUE, NULL, NONE, H1, true},
        {"hostname", MARATHON_CONSTRAINT_UNIQUE, NULL, {H1, H2, -1}, H3, true},
        {"hostname", MARATHON_CONSTRAINT_UNIQUE, NULL, {H1, H2, -1}, H1, false},
        {"@hostname", MARATHON_CONSTRAINT_UNIQUE, NULL, {H2, -1}, H2, false},
        {"hostname", MARATHON_CONSTRAINT_UNIQUE, NULL, {-2, -1}, H1, true}, /* not placed yet */
        {"rack", MARATHON_CONSTRAINT_UNIQUE, NULL, {H1, -1}, H2, false},    /* both r1 */
        {"rack", MARATHON_CONSTRAINT_UNIQUE, NULL, {H1, -1}, H3, true},
        {"rack", MARATHON_CONSTRAINT_UNIQUE, NULL, {NOATTR, -1}, H3, true},
        {"rack", MARATHON_CONSTRAINT_UNIQUE, NULL, NONE, NOATTR, false}, /* no value: rejected */
    };
    RUN(cases);
}

static void test_cluster(void **state)
{
    (void)state;
    static const ccase_t cases[] = {
        /* With a value: the offer's value must be it, whatever runs where. */
        {"hostname", MARATHON_CONSTRAINT_CLUSTER, "h1", NONE, H1, true},
        {"hostname", MARATHON_CONSTRAINT_CLUSTER, "h1", NONE, H2, false},
        {"rack", MARATHON_CONSTRAINT_CLUSTER, "r1", {H3, -1}, H2, true},
        {"rack", MARATHON_CONSTRAINT_CLUSTER, "r1", NONE, H3, false},
        {"rack", MARATHON_CONSTRAINT_CLUSTER, "r1", NONE, NOATTR, false},
        /* Empty: the first instance picks, the others follow it. */
        {"hostname", MARATHON_CONSTRAINT_CLUSTER, NULL, NONE, H3, true},
        {"hostname", MARATHON_CONSTRAINT_CLUSTER, "", {H2, -1}, H2, true},
        {"hostname", MARATHON_CONSTRAINT_CLUSTER, "", {H2, -1}, H1, false},
        {"rack", MARATHON_CONSTRAINT_CLUSTER, NULL, {H1, -1}, H2, true}, /* r1 like the first */
        {"rack", MARATHON_CONSTRAINT_CLUSTER, NULL, {H1, H3, -1}, H2, true},
        {"rack", MARATHON_CONSTRAINT_CLUSTER, NULL, {H1, -1}, H3, false},
        {"rack", MARATHON_CONSTRAINT_CLUSTER, NULL, {NOATTR, -1}, H1, false},
        {"rack", MARATHON_CONSTRAINT_CLUSTER, NULL, NONE, NOATTR, false},
    };
    RUN(cases);
}

static void test_group_by(void **state)
{
    (void)state;
    static const ccase_t cases[] = {
        {"rack", MARATHON_CONSTRAINT_GROUP_BY, NULL, NONE, H1, true},
        /* r1: 2, r2: 1 -> only the smallest group, or a new value. */
        {"rack", MARATHON_CONSTRAINT_GROUP_BY, NULL, {H1, H2, H3, -1}, H1, false},
        {"rack", MARATHON_CONSTRAINT_GROUP_BY, NULL, {H1, H2, H3, -1}, H3, true},
        {"rack", MARATHON_CONSTRAINT_GROUP_BY, NULL, {H1, H2, H3, -1}, H4, true},
        /* Balanced groups accept any of them. */
        {"rack", MARATHON_CONSTRAINT_GROUP_BY, NULL, {H1, H3, -1}, H2, true},
        /* With 3 expected values, a used value is refused until 3 are in use. */
        {"rack", MARATHON_CONSTRAINT_GROUP_BY, "3", {H1, H3, -1}, H1, false},
        {"rack", MARATHON_CONSTRAINT_GROUP_BY, "3", {H1, H3, -1}, H4, true},
        {"rack", MARATHON_CONSTRAINT_GROUP_BY, "3", {H1, H3, H4, -1}, H2, true},
        {"rack", MARATHON_CONSTRAINT_GROUP_BY, "inf", {H1, H3, H4, -1}, H2, false},
        {"rack", MARATHON_CONSTRAINT_GROUP_BY, "x", {H1, H3, -1}, H1, true}, /* not a number: 0 */
        /* Instances without the attribute form a group of their own (the smallest here). */
        {"rack", MARATHON_CONSTRAINT_GROUP_BY, NULL, {NOATTR, H1, H3, H3, -1}, H1, true},
        {"rack", MARATHON_CONSTRAINT_GROUP_BY, NULL, {NOATTR, H1, H2, H3, -1}, H1, false},
        {"rack", MARATHON_CONSTRAINT_GROUP_BY, NULL, NONE, NOATTR, false},
        {"hostname", MARATHON_CONSTRAINT_GROUP_BY, NULL, {H1, H1, H2, -1}, H2, true},
        {"hostname", MARATHON_CONSTRAINT_GROUP_BY, NULL, {H1, H1, H2, -1}, H1, false},
    };
    RUN(cases);
}

static void test_like_unlike(void **state)
{
    (void)state;
    static const ccase_t cases[] = {
        {"rack", MARATHON_CONSTRAINT_LIKE, "r[1-2]", NONE, H1, true},
        {"rack", MARATHON_CONSTRAINT_LIKE, "r[1-2]", NONE, H4, false},
        {"rack", MARATHON_CONSTRAINT_LIKE, "r", NONE, H1, false},   /* whole value */
        {"rack", MARATHON_CONSTRAINT_LIKE, "1", NONE, H1, false},   /* anchored at the start */
        {"rack", MARATHON_CONSTRAINT_LIKE, "r\\d", NONE, H3, true}, /* Java's \d */
        {"rack", MARATHON_CONSTRAINT_LIKE, "(?:r|s)[0-9]+", NONE, H3, true},
        {"rack", MARATHON_CONSTRAINT_LIKE, ".*", NONE, NOATTR, false},
        {"rack", MARATHON_CONSTRAINT_LIKE, "", NONE, H1, false},  /* a value is required */
        {"rack", MARATHON_CONSTRAINT_LIKE, "(", NONE, H1, false}, /* does not compile */
        {"hostname", MARATHON_CONSTRAINT_LIKE, "h[12]", NONE, H2, true},
        {"hostname", MARATHON_CONSTRAINT_LIKE, "h[12]", NONE, H3, false},
        {"level", MARATHON_CONSTRAINT_LIKE, "1,234\\.5", NONE, H3, true}, /* scalar text */
        {"ids", MARATHON_CONSTRAINT_LIKE, "\\[1-4,6-8\\]", NONE, H1, true},
        {"rack", MARATHON_CONSTRAINT_UNLIKE, "r[2-3]", NONE, H1, true},
        {"rack", MARATHON_CONSTRAINT_UNLIKE, "r[2-3]", NONE, H3, false},
        {"rack", MARATHON_CONSTRAINT_UNLIKE, "r", NONE, H1, true},          /* whole value */
        {"rack", MARATHON_CONSTRAINT_UNLIKE, "r[2-3]", NONE, NOATTR, true}, /* lacks it: fine */
        {"rack", MARATHON_CONSTRAINT_UNLIKE, "", NONE, H1, false},
        {"hostname", MARATHON_CONSTRAINT_UNLIKE, "h1|h2", NONE, H1, false},
        {"hostname", MARATHON_CONSTRAINT_UNLIKE, "h1|h2", NONE, H3, true},
    };
    RUN(cases);
}

static void test_max_per(void **state)
{
    (void)state;
    static const ccase_t cases[] = {
        {"rack", MARATHON_CONSTRAINT_MAX_PER, "2", NONE, H1, true},
        {"rack", MARATHON_CONSTRAINT_MAX_PER, "2", {H1, -1}, H2, true},
        {"rack", MARATHON_CONSTRAINT_MAX_PER, "2", {H1, H2, -1}, H1, false},
        {"rack", MARATHON_CONSTRAINT_MAX_PER, "2", {H1, H2, -1}, H3, true},
        {"rack", MARATHON_CONSTRAINT_MAX_PER, "2", NONE, NOATTR, false},
        {"hostname", MARATHON_CONSTRAINT_MAX_PER, "1", {H1, -1}, H1, false},
        {"hostname", MARATHON_CONSTRAINT_MAX_PER, "1", {H1, -1}, H2, true},
        {"rack", MARATHON_CONSTRAINT_MAX_PER, "two", NONE, H1, false}, /* not a number */
        {"rack", MARATHON_CONSTRAINT_MAX_PER, "0", NONE, H1, false},
    };
    RUN(cases);
}

static void test_is(void **state)
{
    (void)state;
    static const ccase_t cases[] = {
        {"rack", MARATHON_CONSTRAINT_IS, "r1", NONE, H1, true},
        {"rack", MARATHON_CONSTRAINT_IS, "r1", NONE, H3, false},
        {"rack", MARATHON_CONSTRAINT_IS, "r1", NONE, NOATTR, false},
        {"hostname", MARATHON_CONSTRAINT_IS, "h2", NONE, H2, true},
        /* Scalars compare at three decimals (Marathon's documented examples). */
        {"level", MARATHON_CONSTRAINT_IS, "0.8", NONE, H1, true},
        {"level", MARATHON_CONSTRAINT_IS, "0.80", NONE, H1, true},
        {"level", MARATHON_CONSTRAINT_IS, "0.8001", NONE, H1, true},
        {"level", MARATHON_CONSTRAINT_IS, "0.8", NONE, H4, true}, /* level:0.8001 */
        {"level", MARATHON_CONSTRAINT_IS, "0.81", NONE, H1, false},
        {"level", MARATHON_CONSTRAINT_IS, "2", NONE, H2, true},
        {"level", MARATHON_CONSTRAINT_IS, "2.0", NONE, H2, true},
        {"level", MARATHON_CONSTRAINT_IS, "1234.5", NONE, H3, true},
    };
    RUN(cases);
}

static void test_region_zone(void **state)
{
    (void)state;
    test_offer_t east, west, bare;
    test_offer_init(&east, "e1", NULL, NULL);
    test_offer_init(&west, "w1", NULL, NULL);
    test_offer_init(&bare, "b1", NULL, NULL);
    test_offer_domain(&east, "us-east", "a");
    test_offer_domain(&west, "us-west", "b");
    marathon_placed_t placed;
    marathon_placed_from_offer(&east.offer, &placed);
    assert_string_equal(placed.region, "us-east");
    assert_string_equal(placed.zone, "a");

    marathon_constraint_t unique = {(char *)"@region", MARATHON_CONSTRAINT_UNIQUE, NULL};
    assert_false(marathon_constraint_allows(&unique, &east.offer, &placed, 1));
    assert_true(marathon_constraint_allows(&unique, &west.offer, &placed, 1));
    assert_false(marathon_constraint_allows(&unique, &bare.offer, NULL, 0)); /* no domain */
    marathon_constraint_t is = {(char *)"@zone", MARATHON_CONSTRAINT_IS, (char *)"b"};
    assert_true(marathon_constraint_allows(&is, &west.offer, NULL, 0));
    assert_false(marathon_constraint_allows(&is, &east.offer, NULL, 0));
    marathon_constraint_t unlike = {(char *)"@zone", MARATHON_CONSTRAINT_UNLIKE, (char *)"a"};
    assert_true(marathon_constraint_allows(&unlike, &bare.offer, NULL, 0));
    assert_false(marathon_constraint_allows(&unlike, &east.offer, NULL, 0));
    marathon_constraint_t cluster = {(char *)"@region", MARATHON_CONSTRAINT_CLUSTER, NULL};
    assert_true(marathon_constraint_allows(&cluster, &east.offer, &placed, 1));
    assert_false(marathon_constraint_allows(&cluster, &west.offer, &placed, 1));
    test_offer_fini(&east);
    test_offer_fini(&west);
    test_offer_fini(&bare);
}

/* Scalars as Java's NumberFormat writes them, a set attribute, ranges sorted. */
static void test_attribute_values(void **state)
{
    (void)state;
    static const struct {
        const char *attribute;
        const char *like; /* a regex matching exactly the formatted value */
    } values[] = {
        {"x:0.8", "0\\.8"},
        {"x:2", "2"},
        {"x:1234.5", "1,234\\.5"},
        {"x:1234567", "1,234,567"},
        {"x:0.0005", "0\\.001"},
        {"x:0.1234", "0\\.123"},
        {"x:[5-6,1-2]", "\\[1-2,5-6\\]"},
        {"x:text_v-1.2", "text_v-1\\.2"},
    };
    for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
        test_offer_t o;
        test_offer_init(&o, "h", NULL, values[i].attribute);
        marathon_constraint_t like = {(char *)"x", MARATHON_CONSTRAINT_LIKE,
                                      (char *)values[i].like};
        if (!marathon_constraint_allows(&like, &o.offer, NULL, 0))
            fail_msg("%s does not read as /%s/", values[i].attribute, values[i].like);
        test_offer_fini(&o);
    }
    /* A SET attribute (the agent flags have no syntax for it): items sorted. */
    test_offer_t o;
    test_offer_init(&o, "h", NULL, NULL);
    char *items[] = {(char *)"b", (char *)"a"};
    Mesos__Value__Set set = MESOS__VALUE__SET__INIT;
    set.item = items;
    set.n_item = 2;
    Mesos__Attribute attr = MESOS__ATTRIBUTE__INIT;
    attr.name = (char *)"disks";
    attr.type = MESOS__VALUE__TYPE__SET;
    attr.set = &set;
    Mesos__Attribute *attrs[] = {&attr};
    o.offer.attributes = attrs;
    o.offer.n_attributes = 1;
    marathon_constraint_t is = {(char *)"disks", MARATHON_CONSTRAINT_IS, (char *)"{a,b}"};
    assert_true(marathon_constraint_allows(&is, &o.offer, NULL, 0));
    o.offer.attributes = NULL;
    o.offer.n_attributes = 0;
    test_offer_fini(&o);
}

static void test_all_constraints(void **state)
{
    (void)state;
    test_app_t t;
    test_app_init(&t, "/web");
    assert_true(marathon_constraints_allow(&t.app, &agents[H1].offer, NULL, 0));
    test_app_constraint(&t, "hostname", MARATHON_CONSTRAINT_UNIQUE, NULL);
    test_app_constraint(&t, "rack", MARATHON_CONSTRAINT_LIKE, "r[12]");
    marathon_placed_t placed;
    marathon_placed_from_offer(&agents[H1].offer, &placed);
    assert_false(marathon_constraints_allow(&t.app, &agents[H1].offer, &placed, 1)); /* UNIQUE */
    assert_true(marathon_constraints_allow(&t.app, &agents[H2].offer, &placed, 1));
    assert_false(marathon_constraints_allow(&t.app, &agents[H4].offer, &placed, 1)); /* r3 */
}

/* GROUP_BY "3" over a stream of offers from three racks, most from r1: instances end spread. */
static void test_group_by_spreads(void **state)
{
    (void)state;
    test_app_t t;
    test_app_init(&t, "/spread");
    test_app_constraint(&t, "rack", MARATHON_CONSTRAINT_GROUP_BY, "3");
    static const int stream[] = {H1, H2, H1, H3, H2, H1, H4, H1, H2, H3, H4, H1, H4, H3, H4};
    marathon_placed_t placed[8];
    size_t n = 0;
    int per_rack[3] = {0};
    for (size_t k = 0; k < sizeof(stream) / sizeof(stream[0]) && n < 6; k++) {
        const Mesos__Offer *offer = &agents[stream[k]].offer;
        if (!marathon_constraints_allow(&t.app, offer, placed, n))
            continue;
        marathon_placed_from_offer(offer, &placed[n++]);
        per_rack[stream[k] == H3 ? 1 : stream[k] == H4 ? 2 : 0]++;
    }
    assert_int_equal(n, 6);
    assert_int_equal(per_rack[0], 2);
    assert_int_equal(per_rack[1], 2);
    assert_int_equal(per_rack[2], 2);
}

/* ---- Kill selection ---- */

static marathon_kill_candidate_t candidate(marathon_condition_t c, marathon_instance_health_t h,
                                           int64_t since, int agent)
{
    marathon_kill_candidate_t k = {c, h, since, false, {0}};
    if (agent >= 0)
        marathon_placed_from_offer(&agents[agent].offer, &k.placed);
    return k;
}

static void assert_kill(const test_app_t *t, const marathon_kill_candidate_t *c, size_t n,
                        size_t kill, const size_t *want, size_t want_n)
{
    size_t out[16], count = 99;
    assert_int_equal(marathon_select_kill(&t->app, c, n, kill, out, &count), ACTOR_OK);
    assert_int_equal(count, want_n);
    for (size_t i = 0; i < want_n; i++)
        if (out[i] != want[i])
            fail_msg("kill #%zu: got candidate %zu, want %zu", i, out[i], want[i]);
}

static void test_kill_order(void **state)
{
    (void)state;
    test_app_t t;
    test_app_init(&t, "/k");
    const marathon_kill_candidate_t c[] = {
        candidate(MARATHON_CONDITION_RUNNING, MARATHON_INSTANCE_HEALTH_HEALTHY, 100, H1),   /* 0 */
        candidate(MARATHON_CONDITION_OTHER, MARATHON_INSTANCE_HEALTH_UNKNOWN, 50, H1),      /* 1 */
        candidate(MARATHON_CONDITION_STARTING, MARATHON_INSTANCE_HEALTH_UNKNOWN, 10, H2),   /* 2 */
        candidate(MARATHON_CONDITION_RUNNING, MARATHON_INSTANCE_HEALTH_UNHEALTHY, 5, H2),   /* 3 */
        candidate(MARATHON_CONDITION_STAGING, MARATHON_INSTANCE_HEALTH_UNKNOWN, 7, H3),     /* 4 */
        candidate(MARATHON_CONDITION_UNREACHABLE, MARATHON_INSTANCE_HEALTH_UNKNOWN, 1, H3), /* 5 */
        candidate(MARATHON_CONDITION_SCHEDULED, MARATHON_INSTANCE_HEALTH_UNKNOWN, 0, -1),   /* 6 */
    };
    const size_t all[] = {6, 5, 4, 2, 3, 0, 1};
    assert_kill(&t, c, 7, 7, all, 7);
    assert_kill(&t, c, 7, 3, all, 3);
    assert_kill(&t, c, 7, 0, all, 0);
    assert_kill(&t, c, 7, 20, all, 7); /* no more than there are */
}

static void test_kill_selection(void **state)
{
    (void)state;
    test_app_t t;
    test_app_init(&t, "/k");
    const marathon_kill_candidate_t c[] = {
        candidate(MARATHON_CONDITION_RUNNING, MARATHON_INSTANCE_HEALTH_UNKNOWN, 200, H1),
        candidate(MARATHON_CONDITION_RUNNING, MARATHON_INSTANCE_HEALTH_UNKNOWN, 100, H1),
        candidate(MARATHON_CONDITION_RUNNING, MARATHON_INSTANCE_HEALTH_UNKNOWN, 300, H2),
        candidate(MARATHON_CONDITION_RUNNING, MARATHON_INSTANCE_HEALTH_UNKNOWN, 0, H2), /* ? */
    };
    const size_t youngest[] = {3, 2, 0, 1}, oldest[] = {3, 1, 0, 2};
    assert_kill(&t, c, 4, 4, youngest, 4);
    t.app.kill_selection = MARATHON_KILL_OLDEST_FIRST;
    assert_kill(&t, c, 4, 4, oldest, 4);
    /* The sentenced go first, in their order, whatever their state. */
    marathon_kill_candidate_t s[4];
    memcpy(s, c, sizeof(s));
    s[2].sentenced = s[0].sentenced = true;
    const size_t sentenced[] = {0, 2, 3};
    assert_kill(&t, s, 4, 3, sentenced, 3);
    assert_kill(&t, s, 4, 1, sentenced, 1);
}

/* Scale-down keeps GROUP_BY balanced (Marathon's ConstraintsTest cases). */
static void test_kill_group_by(void **state)
{
    (void)state;
    test_app_t t;
    test_app_init(&t, "/g");
    test_app_constraint(&t, "rack", MARATHON_CONSTRAINT_GROUP_BY, NULL);
    /* r1: 4 (H1, H2), r2: 2 (H3): the two to kill come from r1, the youngest first. */
    const marathon_kill_candidate_t c[] = {
        candidate(MARATHON_CONDITION_RUNNING, MARATHON_INSTANCE_HEALTH_UNKNOWN, 10, H3),
        candidate(MARATHON_CONDITION_RUNNING, MARATHON_INSTANCE_HEALTH_UNKNOWN, 11, H1),
        candidate(MARATHON_CONDITION_RUNNING, MARATHON_INSTANCE_HEALTH_UNKNOWN, 12, H3),
        candidate(MARATHON_CONDITION_RUNNING, MARATHON_INSTANCE_HEALTH_UNKNOWN, 13, H2),
        candidate(MARATHON_CONDITION_RUNNING, MARATHON_INSTANCE_HEALTH_UNKNOWN, 14, H1),
        candidate(MARATHON_CONDITION_RUNNING, MARATHON_INSTANCE_HEALTH_UNKNOWN, 15, H2),
    };
    const size_t two[] = {5, 4};
    assert_kill(&t, c, 6, 2, two, 2);
    /* Four: r1 and r2 end even (1 and 1): r1 loses three, r2 one. */
    size_t out[6], count;
    assert_int_equal(marathon_select_kill(&t.app, c, 6, 4, out, &count), ACTOR_OK);
    assert_int_equal(count, 4);
    int r1 = 0, r2 = 0;
    for (size_t i = 0; i < count; i++)
        if (c[out[i]].placed.hostname[1] == '3')
            r2++;
        else
            r1++;
    assert_int_equal(r1, 3);
    assert_int_equal(r2, 1);
    /* Balanced already (r1: 2, r2: 2, r3: 2): one from each before any second one. */
    const marathon_kill_candidate_t even[] = {
        candidate(MARATHON_CONDITION_RUNNING, MARATHON_INSTANCE_HEALTH_UNKNOWN, 1, H1),
        candidate(MARATHON_CONDITION_RUNNING, MARATHON_INSTANCE_HEALTH_UNKNOWN, 2, H1),
        candidate(MARATHON_CONDITION_RUNNING, MARATHON_INSTANCE_HEALTH_UNKNOWN, 3, H3),
        candidate(MARATHON_CONDITION_RUNNING, MARATHON_INSTANCE_HEALTH_UNKNOWN, 4, H3),
        candidate(MARATHON_CONDITION_RUNNING, MARATHON_INSTANCE_HEALTH_UNKNOWN, 5, H4),
        candidate(MARATHON_CONDITION_RUNNING, MARATHON_INSTANCE_HEALTH_UNKNOWN, 6, H4),
    };
    const size_t three[] = {5, 3, 1};
    assert_kill(&t, even, 6, 3, three, 3);
}

/* Two GROUP_BY constraints at once, and the unhealthy instance of an even group. */
static void test_kill_two_distributions(void **state)
{
    (void)state;
    test_app_t t;
    test_app_init(&t, "/g2");
    test_app_constraint(&t, "rack", MARATHON_CONSTRAINT_GROUP_BY, NULL);
    test_app_constraint(&t, "hostname", MARATHON_CONSTRAINT_GROUP_BY, NULL);
    /* rack r1: H1 x2, H2 x1; r2: H3 x1. Killing one must come from H1 (evens both). */
    const marathon_kill_candidate_t c[] = {
        candidate(MARATHON_CONDITION_RUNNING, MARATHON_INSTANCE_HEALTH_UNHEALTHY, 1, H3),
        candidate(MARATHON_CONDITION_RUNNING, MARATHON_INSTANCE_HEALTH_UNKNOWN, 2, H2),
        candidate(MARATHON_CONDITION_RUNNING, MARATHON_INSTANCE_HEALTH_UNKNOWN, 3, H1),
        candidate(MARATHON_CONDITION_RUNNING, MARATHON_INSTANCE_HEALTH_UNKNOWN, 4, H1),
    };
    const size_t one[] = {3};
    assert_kill(&t, c, 4, 1, one, 1);
    /* Without constraints the unhealthy one goes first. */
    t.app.constraint_count = 0;
    const size_t plain[] = {0};
    assert_kill(&t, c, 4, 1, plain, 1);
}

/* Constraints that allocate (formatted values, GROUP_BY groups) and a GROUP_BY kill selection,
 * under failing allocations: a rejection or ENOMEM, never a crash or a leak; with enough
 * memory, the right answer. */
static void test_out_of_memory(void **state)
{
    (void)state;
    test_app_t t;
    test_app_init(&t, "/oom");
    test_app_constraint(&t, "level", MARATHON_CONSTRAINT_GROUP_BY, NULL);
    test_app_constraint(&t, "ids", MARATHON_CONSTRAINT_UNLIKE, "x");
    test_app_constraint(&t, "rack", MARATHON_CONSTRAINT_MAX_PER, "3");
    marathon_placed_t placed[3];
    marathon_placed_from_offer(&agents[H2].offer, &placed[0]);
    marathon_placed_from_offer(&agents[H3].offer, &placed[1]);
    marathon_placed_from_offer(&agents[H1].offer, &placed[2]);
    assert_true(marathon_constraints_allow(&t.app, &agents[H4].offer, placed, 3));
    long n;
    for (n = 0; n < 10000; n++) {
        test_allocations_left = n;
        bool ok = marathon_constraints_allow(&t.app, &agents[H4].offer, placed, 3);
        test_allocations_left = -1;
        if (ok)
            break;
    }
    assert_true(n > 5);

    const marathon_kill_candidate_t c[] = {
        candidate(MARATHON_CONDITION_RUNNING, MARATHON_INSTANCE_HEALTH_UNKNOWN, 1, H1),
        candidate(MARATHON_CONDITION_RUNNING, MARATHON_INSTANCE_HEALTH_UNKNOWN, 2, H1),
        candidate(MARATHON_CONDITION_RUNNING, MARATHON_INSTANCE_HEALTH_UNKNOWN, 3, H2),
        candidate(MARATHON_CONDITION_RUNNING, MARATHON_INSTANCE_HEALTH_UNKNOWN, 4, H3),
        candidate(MARATHON_CONDITION_STAGING, MARATHON_INSTANCE_HEALTH_UNKNOWN, 5, H1),
    };
    size_t want[5], got[5], want_n, got_n;
    assert_int_equal(marathon_select_kill(&t.app, c, 5, 3, want, &want_n), ACTOR_OK);
    actor_err_t rc = ACTOR_ENOMEM;
    for (n = 0; n < 10000 && rc != ACTOR_OK; n++) {
        test_allocations_left = n;
        rc = marathon_select_kill(&t.app, c, 5, 3, got, &got_n);
        test_allocations_left = -1;
        assert_true(rc == ACTOR_OK || rc == ACTOR_ENOMEM);
    }
    assert_true(n > 5);
    assert_int_equal(got_n, want_n);
    assert_memory_equal(got, want, want_n * sizeof(*want));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unique),          cmocka_unit_test(test_cluster),
        cmocka_unit_test(test_group_by),        cmocka_unit_test(test_like_unlike),
        cmocka_unit_test(test_max_per),         cmocka_unit_test(test_is),
        cmocka_unit_test(test_region_zone),     cmocka_unit_test(test_attribute_values),
        cmocka_unit_test(test_all_constraints), cmocka_unit_test(test_group_by_spreads),
        cmocka_unit_test(test_kill_order),      cmocka_unit_test(test_kill_selection),
        cmocka_unit_test(test_kill_group_by),   cmocka_unit_test(test_kill_two_distributions),
        cmocka_unit_test(test_out_of_memory),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
