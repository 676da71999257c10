/* Tests of resources.h: the --resources parser (good and bad input, with the error text), round
 * trips through the text form, add/subtract/contains with range splitting and fixed-point
 * scalars, the v0 JSON shape, protobuf conversion, and --attributes. Pure computation: no
 * runtime, no clock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "resources/resources.h"

static void parse_ok(resources_t *r, const char *text)
{
    char err[256];
    actor_err_t rc = resources_parse(r, text, NULL, err, sizeof(err));
    if (rc != ACTOR_OK)
        fail_msg("parse '%s': %s (%s)", text, actor_strerror(rc), err);
}

static char *format(const resources_t *r)
{
    char *s = NULL;
    assert_int_equal(resources_format(r, &s), ACTOR_OK);
    return s;
}

static void assert_text(const resources_t *r, const char *want)
{
    char *s = format(r);
    assert_string_equal(s, want);
    free(s);
}

/* Good input and its canonical text form. */
static const struct {
    const char *in;
    const char *out;
} good[] = {
    {"cpus:4;mem:1024;disk:4096;ports:[31000-32000]",
     "cpus:4;mem:1024;disk:4096;ports:[31000-32000]"},
    {" cpus : 4 ; mem:1024 ;", "cpus:4;mem:1024"},
    {"cpus(role):2;cpus:1", "cpus(role):2;cpus:1"},
    {"cpus( web ):2", "cpus(web):2"},
    {"cpus(*):2", "cpus:2"},
    {"ports:[31000-31500,32000-32000]", "ports:[31000-31500,32000-32000]"},
    {"ports:[ 1 - 5 , 3 - 9 , 10-10 ]", "ports:[1-10]"},
    {"ports:[1-2];ports:[3-4]", "ports:[1-4]"},
    {"cpus:1;cpus:2.5", "cpus:3.5"},
    {"disks:{b,a}", "disks:{a,b}"},
    {"disks:{a, b};disks:{c}", "disks:{a,b,c}"},
    {"cpus:0.12345", "cpus:0.123"},
    {"cpus:0.0005", "cpus:0.001"},
    {"cpus:1e1", "cpus:10"},
    {"cpus:0;mem:10", "mem:10"},
    {"ports:[]", ""},
    {"", ""},
    {";;", ""},
    {"cpus::4", "cpus:4"},
};

static void test_parse_good(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        resources_t r;
        parse_ok(&r, good[i].in);
        assert_text(&r, good[i].out);
        resources_fini(&r);
    }
}

static const struct {
    const char *in;
    const char *err;
} bad[] = {
    {"cpus:x", "Failed to parse resource 'cpus:x': Bad type for resource cpus value x type TEXT"},
    {"cpus", "Failed to parse resource 'cpus': missing or extra ':'"},
    {"cpus:", "Failed to parse resource 'cpus:': missing or extra ':'"},
    {"cpus:1:2", "Failed to parse resource 'cpus:1:2': missing or extra ':'"},
    {"mem:1;cpus(r:1", "Failed to parse resource 'cpus(r:1': mismatched parentheses"},
    {"cpus()x:1", "Failed to parse resource 'cpus()x:1': unexpected text after ')'"},
    {"cpus():1", "Failed to parse resource 'cpus():1': Empty role name is invalid"},
    {"cpus(-a):1", "Failed to parse resource 'cpus(-a):1': Role name '-a' is invalid"},
    {"cpus:-1", "Failed to parse resource 'cpus:-1': Invalid scalar resource: value < 0"},
    {"cpus:nan", "Failed to parse resource 'cpus:nan': Bad type for resource cpus value nan "
                 "type TEXT"},
    {"cpus:1e999", "Failed to parse resource 'cpus:1e999': Invalid scalar value '1e999': "
                   "Infinite values not supported"},
    {"ports:[1-2", "Failed to parse resource 'ports:[1-2': Mismatched brackets"},
    {"ports:[1-2]]", "Failed to parse resource 'ports:[1-2]]': Mismatched brackets"},
    {"ports:[1-2,3]", "Failed to parse resource 'ports:[1-2,3]': Expecting one or more "
                      "\"ranges\""},
    {"ports:[a-2]", "Failed to parse resource 'ports:[a-2]': Expecting non-negative integers in "
                    "'a'"},
    {"ports:[5-2]", "Failed to parse resource 'ports:[5-2]': Invalid ranges resource: begin > "
                    "end"},
    {"ports:1[1-2]", "Failed to parse resource 'ports:1[1-2]': Unexpected '[' found"},
    {"disks:a{b}", "Failed to parse resource 'disks:a{b}': Unexpected '{' found"},
    {"disks:{a,a}", "Failed to parse resource 'disks:{a,a}': Invalid set resource: duplicated "
                    "elements"},
    {" :4", "Failed to parse resource ':4': missing or extra ':'"},
    {"(r):4", "Failed to parse resource '(r):4': Empty resource name"},
    {"ports:5;ports:[1-2]", "Failed to parse resource 'ports:[1-2]': Resource 'ports' is given "
                            "with two different types"},
};

static void test_parse_bad(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        resources_t r;
        char err[256];
        actor_err_t rc = resources_parse(&r, bad[i].in, NULL, err, sizeof(err));
        if (rc != ACTOR_EINVAL)
            fail_msg("'%s' parsed (%d)", bad[i].in, rc);
        assert_string_equal(err, bad[i].err);
        assert_true(resources_empty(&r));
        resources_fini(&r);
    }
    resources_t r; /* a NULL error buffer is allowed */
    assert_int_equal(resources_parse(&r, "cpus:x", NULL, NULL, 0), ACTOR_EINVAL);
    resources_fini(&r);
}

static void test_default_role(void **state)
{
    (void)state;
    resources_t r;
    assert_int_equal(resources_parse(&r, "cpus:1;mem(*):2", "web", NULL, 0), ACTOR_OK);
    assert_text(&r, "cpus(web):1;mem:2");
    resources_fini(&r);
}

static void test_round_trip(void **state)
{
    (void)state;
    const char *texts[] = {"cpus:4;mem:1024;disk:4096;ports:[31000-32000]",
                           "cpus(a):0.5;cpus:1.25;ports:[1-3,5-9,11-11];disks:{x,y}", ""};
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        resources_t a, b;
        parse_ok(&a, texts[i]);
        char *s = format(&a);
        assert_string_equal(s, texts[i]);
        parse_ok(&b, s);
        assert_true(resources_equal(&a, &b));
        free(s);
        resources_fini(&a);
        resources_fini(&b);
    }
}

static void test_getters(void **state)
{
    (void)state;
    resources_t r;
    parse_ok(&r, "cpus:4;cpus(web):0.5;mem:1024;disk:4096;ports:[31000-32000];ports(web):[5-6]");
    assert_true(resources_scalar(&r, "cpus") == 4.5);
    assert_true(resources_scalar(&r, "mem") == 1024.0);
    assert_true(resources_scalar(&r, "disk") == 4096.0);
    assert_true(resources_scalar(&r, "gpus") == 0.0);
    assert_true(resources_scalar(&r, "ports") == 0.0);
    resources_range_t *p;
    size_t n;
    assert_int_equal(resources_ranges(&r, "ports", &p, &n), ACTOR_OK);
    assert_int_equal(n, 2);
    assert_int_equal(p[0].begin, 5);
    assert_int_equal(p[0].end, 6);
    assert_int_equal(p[1].begin, 31000);
    assert_int_equal(p[1].end, 32000);
    free(p);
    assert_int_equal(resources_ranges(&r, "cpus", &p, &n), ACTOR_OK);
    assert_null(p);
    assert_int_equal(n, 0);
    resources_fini(&r);
}

/* a op b == want, as text. */
static void check_op(const char *a_text, bool add, const char *b_text, const char *want)
{
    resources_t a, b;
    parse_ok(&a, a_text);
    parse_ok(&b, b_text);
    assert_int_equal(add ? resources_add(&a, &b) : resources_subtract(&a, &b), ACTOR_OK);
    assert_text(&a, want);
    resources_fini(&a);
    resources_fini(&b);
}

static void test_add_subtract(void **state)
{
    (void)state;
    check_op("ports:[31000-32000]", false, "ports:[31005-31005]",
             "ports:[31000-31004,31006-32000]");
    check_op("ports:[1-10,20-30]", false, "ports:[1-1,5-25,30-40]", "ports:[2-4,26-29]");
    check_op("ports:[1-10]", false, "ports:[1-10]", "");
    check_op("ports:[1-4]", true, "ports:[5-9,20-20]", "ports:[1-9,20-20]");
    check_op("cpus:4;mem:1024", false, "cpus:1.5", "cpus:2.5;mem:1024");
    check_op("cpus:4;mem:1024", false, "cpus:4", "mem:1024");
    check_op("cpus:4", false, "cpus:5", ""); /* below zero: removed, as in Mesos */
    check_op("cpus:4", false, "cpus(web):1;mem:5", "cpus:4");
    check_op("cpus:4", true, "cpus(web):1;mem:5", "cpus:4;cpus(web):1;mem:5");
    check_op("disks:{a,b,c}", false, "disks:{b,z}", "disks:{a,c}");
    check_op("disks:{a}", true, "disks:{c,b}", "disks:{a,b,c}");
    check_op("", true, "", "");
}

static void test_scalar_precision(void **state)
{
    (void)state;
    resources_t sum, tenth, one;
    resources_init(&sum);
    parse_ok(&tenth, "cpus:0.1");
    parse_ok(&one, "cpus:1");
    for (int i = 0; i < 10; i++)
        assert_int_equal(resources_add(&sum, &tenth), ACTOR_OK);
    assert_true(resources_equal(&sum, &one));
    assert_true(resources_scalar(&sum, "cpus") == 1.0);
    for (int i = 0; i < 10; i++)
        assert_int_equal(resources_subtract(&sum, &tenth), ACTOR_OK);
    assert_true(resources_empty(&sum));
    resources_fini(&sum);
    resources_fini(&tenth);
    resources_fini(&one);
}

static bool contains(const char *a_text, const char *b_text)
{
    resources_t a, b;
    parse_ok(&a, a_text);
    parse_ok(&b, b_text);
    bool yes = resources_contains(&a, &b);
    resources_fini(&a);
    resources_fini(&b);
    return yes;
}

static void test_contains_equal(void **state)
{
    (void)state;
    assert_true(contains("cpus:4;mem:1024", "cpus:4"));
    assert_true(contains("cpus:4;mem:1024", ""));
    assert_true(contains("", ""));
    assert_false(contains("cpus:4", "cpus:4.001"));
    assert_false(contains("cpus:4", "cpus(web):1"));
    assert_false(contains("cpus(web):4", "cpus:1"));
    assert_true(contains("ports:[31000-32000]", "ports:[31000-31000,31999-32000]"));
    assert_false(contains("ports:[31000-31004,31006-32000]", "ports:[31004-31006]"));
    assert_false(contains("ports:[1-5]", "ports:[0-1]"));
    assert_true(contains("disks:{a,b,c}", "disks:{a,c}"));
    assert_false(contains("disks:{a,b}", "disks:{a,d}"));
    assert_false(contains("cpus:1", "mem:1"));

    resources_t a, b;
    parse_ok(&a, "cpus:1;mem:2;ports:[1-2]");
    parse_ok(&b, "ports:[1-1,2-2];mem:2;cpus:1");
    assert_true(resources_equal(&a, &b));
    resources_t c;
    resources_init(&c);
    assert_int_equal(resources_copy(&c, &a), ACTOR_OK);
    assert_true(resources_equal(&a, &c));
    resources_fini(&b);
    parse_ok(&b, "cpus:1;mem:2");
    assert_false(resources_equal(&a, &b));
    /* subtracting more than is there: check with contains first */
    resources_t more;
    parse_ok(&more, "cpus:2");
    assert_false(resources_contains(&a, &more));
    resources_fini(&more);
    resources_fini(&a);
    resources_fini(&b);
    resources_fini(&c);
}

static void test_add_type_mismatch(void **state)
{
    (void)state;
    resources_t a, b;
    parse_ok(&a, "ports:[1-2]");
    parse_ok(&b, "ports:3");
    assert_int_equal(resources_add(&a, &b), ACTOR_EINVAL);
    assert_text(&a, "ports:[1-2]"); /* unchanged on error */
    resources_fini(&a);
    resources_fini(&b);
}

static void assert_json(const json_t *j, const char *want)
{
    char *s = json_dumps(j, JSON_SORT_KEYS | JSON_COMPACT);
    assert_non_null(s);
    assert_string_equal(s, want);
    free(s);
}

static void test_json(void **state)
{
    (void)state;
    resources_t r;
    parse_ok(&r, "cpus:4;mem:1024;disk:4096;ports:[31000-32000]");
    json_t *j;
    assert_int_equal(resources_to_json(&r, &j), ACTOR_OK);
    assert_json(j, "{\"cpus\":4.0,\"disk\":4096.0,\"gpus\":0.0,\"mem\":1024.0,"
                   "\"ports\":\"[31000-32000]\"}");
    json_decref(j);
    resources_fini(&r);

    parse_ok(&r, "cpus:0.5;cpus(web):1;ports:[1-2];ports(web):[4-5];disks:{b};disks(w):{a}");
    assert_int_equal(resources_to_json(&r, &j), ACTOR_OK);
    assert_json(j, "{\"cpus\":1.5,\"disk\":0.0,\"disks\":\"{a, b}\",\"gpus\":0.0,\"mem\":0.0,"
                   "\"ports\":\"[1-2, 4-5]\"}");
    json_decref(j);
    resources_fini(&r);
}

static void test_proto(void **state)
{
    (void)state;
    resources_t r, back;
    parse_ok(&r, "cpus:4;cpus(web):0.5;ports:[1-2,5-6];disks:{a,b}");
    Mesos__Resource **items;
    size_t n;
    assert_int_equal(resources_to_proto(&r, &items, &n), ACTOR_OK);
    assert_int_equal(n, 4);
    assert_string_equal(items[0]->name, "cpus");
    assert_true(items[0]->scalar->value == 4.0);
    assert_int_equal(items[0]->n_reservations, 0);
    assert_int_equal(items[1]->n_reservations, 1);
    assert_string_equal(items[1]->reservations[0]->role, "web");
    assert_int_equal(items[1]->reservations[0]->type,
                     MESOS__RESOURCE__RESERVATION_INFO__TYPE__STATIC);
    assert_int_equal(items[2]->type, MESOS__VALUE__TYPE__RANGES);
    assert_int_equal(items[2]->ranges->n_range, 2);
    assert_int_equal(items[3]->set->n_item, 2);

    /* packed and unpacked, as on the wire */
    size_t len = protobuf_c_message_get_packed_size(&items[2]->base);
    uint8_t *buf = malloc(len);
    protobuf_c_message_pack(&items[2]->base, buf);
    Mesos__Resource *unpacked = mesos__resource__unpack(NULL, len, buf);
    assert_non_null(unpacked);
    free(buf);

    char err[256];
    assert_int_equal(resources_from_proto(&back, items, n, err, sizeof(err)), ACTOR_OK);
    assert_true(resources_equal(&r, &back));
    resources_fini(&back);

    /* the old format: role in `role` (its default string is static, not freed) */
    items[0]->role = strdup("old");
    assert_int_equal(resources_from_proto(&back, items, 1, err, sizeof(err)), ACTOR_OK);
    assert_text(&back, "cpus(old):4");
    resources_fini(&back);

    /* invalid messages */
    items[0]->scalar->value = -1;
    assert_int_equal(resources_from_proto(&back, items, 1, err, sizeof(err)), ACTOR_EINVAL);
    assert_string_equal(err, "Invalid resource 'cpus': Invalid scalar resource: value < 0");
    resources_fini(&back);
    unpacked->ranges->range[0]->begin = 9;
    assert_int_equal(resources_from_proto(&back, &unpacked, 1, err, sizeof(err)), ACTOR_EINVAL);
    assert_string_equal(err, "Invalid resource 'ports': Invalid ranges resource: begin > end");
    resources_fini(&back);
    unpacked->type = MESOS__VALUE__TYPE__SCALAR;
    assert_int_equal(resources_from_proto(&back, &unpacked, 1, err, sizeof(err)), ACTOR_EINVAL);
    assert_string_equal(err, "Invalid resource 'ports': Invalid scalar resource");
    resources_fini(&back);

    mesos__resource__free_unpacked(unpacked, NULL);
    resources_proto_free(items, n);
    resources_fini(&r);
}

static void test_attributes(void **state)
{
    (void)state;
    resources_attributes_t a;
    char err[256];
    assert_int_equal(
        resources_attributes_parse(&a, "rack:r1;zone: a b ;level:2;ids:[1-4,3-6];host:x:y\nbad:[1-",
                                   err, sizeof(err)),
        ACTOR_OK);
    assert_int_equal(a.count, 6);
    assert_int_equal(a.entries[0].type, RESOURCES_TEXT);
    assert_string_equal(a.entries[0].text, "r1");
    assert_string_equal(a.entries[1].text, "ab");
    assert_int_equal(a.entries[2].type, RESOURCES_SCALAR);
    assert_true(a.entries[2].scalar == 2.0);
    assert_int_equal(a.entries[3].type, RESOURCES_RANGES);
    assert_int_equal(a.entries[3].range_count, 1);
    assert_string_equal(a.entries[4].text, "x:y");
    assert_int_equal(a.entries[5].type, RESOURCES_TEXT); /* unparsable: kept as text */
    assert_string_equal(a.entries[5].text, "[1-");

    char *s;
    assert_int_equal(resources_attributes_format(&a, &s), ACTOR_OK);
    assert_string_equal(s, "rack:r1;zone:ab;level:2;ids:[1-6];host:x:y;bad:[1-");
    free(s);
    json_t *j;
    assert_int_equal(resources_attributes_to_json(&a, &j), ACTOR_OK);
    assert_json(j, "{\"bad\":\"[1-\",\"host\":\"x:y\",\"ids\":\"[1-6]\",\"level\":2.0,"
                   "\"rack\":\"r1\",\"zone\":\"ab\"}");
    json_decref(j);
    Mesos__Attribute **items;
    size_t n;
    assert_int_equal(resources_attributes_to_proto(&a, &items, &n), ACTOR_OK);
    assert_int_equal(n, 6);
    assert_string_equal(items[0]->text->value, "r1");
    assert_true(items[2]->scalar->value == 2.0);
    assert_int_equal(items[3]->ranges->range[0]->end, 6);
    resources_attributes_proto_free(items, n);
    resources_attributes_fini(&a);

    static const struct {
        const char *in, *err;
    } bad_attrs[] = {
        {"rack", "Failed to parse attribute 'rack': Invalid attribute key:value pair"},
        {"rack:", "Failed to parse attribute 'rack:': Invalid attribute key:value pair"},
        {":r1", "Failed to parse attribute ':r1': Invalid attribute key:value pair"},
        {"a:1;s:{x,y}", "Failed to parse attribute 's:{x,y}': Bad type for attribute s value "
                        "{x,y} type SET"},
    };
    for (size_t i = 0; i < sizeof(bad_attrs) / sizeof(bad_attrs[0]); i++) {
        assert_int_equal(resources_attributes_parse(&a, bad_attrs[i].in, err, sizeof(err)),
                         ACTOR_EINVAL);
        assert_string_equal(err, bad_attrs[i].err);
        assert_int_equal(a.count, 0);
        resources_attributes_fini(&a);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_good),
        cmocka_unit_test(test_parse_bad),
        cmocka_unit_test(test_default_role),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_getters),
        cmocka_unit_test(test_add_subtract),
        cmocka_unit_test(test_scalar_precision),
        cmocka_unit_test(test_contains_equal),
        cmocka_unit_test(test_add_type_mismatch),
        cmocka_unit_test(test_json),
        cmocka_unit_test(test_proto),
        cmocka_unit_test(test_attributes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
