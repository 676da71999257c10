/* Tests of the registrar's operations (operation.c): what registrar_submit() refuses as
 * ACTOR_EINVAL, the copy it keeps, and each operation's precondition and mutation from every
 * state an agent can be in, as the puts and deletes it adds to a batch. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>

#include <cmocka.h>

#include "registrar_test.h"

static actor_err_t try_new(const registrar_op_t *op)
{
    registrar_request_t *r = NULL;
    actor_err_t err = operation_new(op, &r);
    operation_free(r);
    return err;
}

static void test_malformed_ops_are_einval(void **unused)
{
    (void)unused;
    test_agent_t agent;
    test_agent_init(&agent, "a1", "host1");
    assert_int_equal(try_new(NULL), ACTOR_EINVAL);
    assert_int_equal(try_new(&(registrar_op_t){.kind = REGISTRAR_ADMIT_AGENT}), ACTOR_EINVAL);
    assert_int_equal(try_new(&(registrar_op_t){.kind = (registrar_op_kind_t)99}), ACTOR_EINVAL);

    registrar_op_t admit = {.kind = REGISTRAR_ADMIT_AGENT, .agent = &agent.info};
    assert_int_equal(try_new(&admit), ACTOR_OK);
    agent.info.hostname = NULL; /* a required field */
    assert_int_equal(try_new(&admit), ACTOR_EINVAL);
    agent.info.hostname = "host1";
    agent.id.value = "";
    assert_int_equal(try_new(&admit), ACTOR_EINVAL);
    char long_id[REGISTRY_NAME_MAX + 2];
    memset(long_id, 'x', sizeof(long_id) - 1);
    long_id[sizeof(long_id) - 1] = '\0';
    agent.id.value = long_id;
    assert_int_equal(try_new(&admit), ACTOR_EINVAL);
    long_id[REGISTRY_NAME_MAX] = '\0'; /* the longest name that fits every key */
    assert_int_equal(try_new(&admit), ACTOR_OK);
    agent.info.id = NULL;
    assert_int_equal(try_new(&admit), ACTOR_EINVAL);

    registrar_op_t mark = {.kind = REGISTRAR_MARK_UNREACHABLE, .timestamp = 1.0};
    assert_int_equal(try_new(&mark), ACTOR_EINVAL); /* no agent_id */
    mark.agent_id = "a1";
    assert_int_equal(try_new(&mark), ACTOR_OK);
    mark.timestamp = NAN;
    assert_int_equal(try_new(&mark), ACTOR_EINVAL);
    mark.timestamp = 1e300;
    assert_int_equal(try_new(&mark), ACTOR_EINVAL);
    assert_int_equal(
        try_new(&(registrar_op_t){.kind = REGISTRAR_PRUNE_UNREACHABLE, .timestamp = INFINITY}),
        ACTOR_EINVAL);
    assert_int_equal(try_new(&(registrar_op_t){.kind = REGISTRAR_REMOVE_AGENT, .agent_id = ""}),
                     ACTOR_EINVAL);
}

static void test_malformed_weights_are_einval(void **unused)
{
    (void)unused;
    Mesos__WeightInfo weight;
    test_weight_init(&weight, "dev", 2.0);
    const Mesos__WeightInfo *one[] = {&weight};
    const Mesos__WeightInfo *none[] = {NULL};
    registrar_op_t op = {.kind = REGISTRAR_UPDATE_WEIGHTS, .weights = one, .weight_count = 1};
    assert_int_equal(try_new(&op), ACTOR_OK);
    op.weights = none;
    assert_int_equal(try_new(&op), ACTOR_EINVAL);
    op.weights = NULL;
    assert_int_equal(try_new(&op), ACTOR_EINVAL);
    op.weight_count = 0; /* nothing to set is allowed */
    assert_int_equal(try_new(&op), ACTOR_OK);
    op.weights = one;
    op.weight_count = 1;
    const double bad[] = {0.0, -1.0, NAN, INFINITY};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        weight.weight = bad[i];
        assert_int_equal(try_new(&op), ACTOR_EINVAL);
    }
    weight.weight = 2.0;
    weight.role = NULL;
    assert_int_equal(try_new(&op), ACTOR_EINVAL);
}

static void test_request_holds_a_packed_copy(void **unused)
{
    (void)unused;
    test_agent_t agent;
    test_agent_init(&agent, "a1", "host1");
    registrar_request_t *r = NULL;
    registrar_op_t admit = {.kind = REGISTRAR_ADMIT_AGENT, .agent = &agent.info};
    assert_int_equal(operation_new(&admit, &r), ACTOR_OK);
    agent.info.hostname = "changed after submit";
    assert_string_equal(r->agent_id, "a1");
    Mesos__Internal__Registry__Registry__Agent *copy =
        (Mesos__Internal__Registry__Registry__Agent *)protobuf_c_message_unpack(
            &mesos__internal__registry__registry__agent__descriptor, NULL, r->value_len, r->value);
    assert_non_null(copy);
    assert_string_equal(copy->info->hostname, "host1");
    protobuf_c_message_free_unpacked(&copy->base, NULL);
    operation_free(r);

    registrar_op_t gone = {.kind = REGISTRAR_MARK_GONE, .agent_id = "a1", .timestamp = 1.5};
    assert_int_equal(operation_new(&gone, &r), ACTOR_OK);
    assert_int_equal(r->timestamp, INT64_C(1500000000));
    operation_free(r);
}

/* Renders a batch as "+key" for a put and "-key" for a delete, separated by spaces. */
static void render(const registry_batch_t *batch, char *out, size_t len)
{
    out[0] = '\0';
    for (size_t i = 0; i < batch->count; i++) {
        const store_op_t *op = &batch->ops[i];
        size_t used = strlen(out);
        snprintf(out + used, len - used, "%s%c%.*s", i > 0 ? " " : "",
                 op->kind == STORE_OP_PUT ? '+' : '-', (int)op->key_len, (const char *)op->key);
    }
}

/* Applies op to an index holding agent "x" in state `from` and checks the outcome. */
static void check(registrar_op_kind_t kind, agent_state_t from, bool applied, agent_state_t to,
                  const char *changes)
{
    test_agent_t agent;
    test_agent_init(&agent, "x", "host");
    registrar_op_t op = {.kind = kind, .agent = &agent.info, .agent_id = "x", .timestamp = 3.0};
    registrar_request_t *r = NULL;
    assert_int_equal(operation_new(&op, &r), ACTOR_OK);
    agent_index_t index;
    agent_index_init(&index);
    assert_int_equal(agent_index_set(&index, "x", from, 1), ACTOR_OK);
    registry_batch_t batch;
    registry_batch_init(&batch);
    assert_int_equal(operation_apply(r, &index, &batch), ACTOR_OK);
    char text[256];
    render(&batch, text, sizeof(text));
    assert_int_equal(r->applied, applied);
    assert_string_equal(text, changes);
    int64_t ts = 0;
    assert_int_equal(agent_index_get(&index, "x", &ts), applied ? to : from);
    if (applied && (to == AGENT_UNREACHABLE || to == AGENT_GONE))
        assert_int_equal(ts, INT64_C(3000000000));
    registry_batch_fini(&batch);
    agent_index_fini(&index);
    operation_free(r);
}

static void test_agent_preconditions(void **unused)
{
    (void)unused;
    const agent_state_t U = AGENT_UNKNOWN, A = AGENT_ADMITTED, R = AGENT_UNREACHABLE,
                        G = AGENT_GONE;
    check(REGISTRAR_ADMIT_AGENT, U, true, A, "+agents/x");
    check(REGISTRAR_ADMIT_AGENT, A, false, A, "");
    check(REGISTRAR_ADMIT_AGENT, R, true, A, "-unreachable/x +agents/x");
    check(REGISTRAR_ADMIT_AGENT, G, false, G, "");
    check(REGISTRAR_UPDATE_AGENT, A, true, A, "+agents/x");
    check(REGISTRAR_UPDATE_AGENT, U, false, U, "");
    check(REGISTRAR_UPDATE_AGENT, R, false, R, "");
    check(REGISTRAR_UPDATE_AGENT, G, false, G, "");
    check(REGISTRAR_MARK_UNREACHABLE, A, true, R, "-agents/x +unreachable/x");
    check(REGISTRAR_MARK_UNREACHABLE, U, false, U, "");
    check(REGISTRAR_MARK_UNREACHABLE, R, false, R, "");
    check(REGISTRAR_MARK_UNREACHABLE, G, false, G, "");
    check(REGISTRAR_MARK_REACHABLE, R, true, A, "-unreachable/x +agents/x");
    check(REGISTRAR_MARK_REACHABLE, U, false, U, "");
    check(REGISTRAR_MARK_REACHABLE, A, false, A, "");
    check(REGISTRAR_MARK_REACHABLE, G, false, G, "");
    check(REGISTRAR_MARK_GONE, A, true, G, "-agents/x +gone/x");
    check(REGISTRAR_MARK_GONE, R, true, G, "-unreachable/x +gone/x");
    check(REGISTRAR_MARK_GONE, U, false, U, "");
    check(REGISTRAR_MARK_GONE, G, false, G, "");
    check(REGISTRAR_REMOVE_AGENT, A, true, U, "-agents/x");
    check(REGISTRAR_REMOVE_AGENT, U, false, U, "");
    check(REGISTRAR_REMOVE_AGENT, R, false, R, "");
    check(REGISTRAR_REMOVE_AGENT, G, false, G, "");
}

static void test_prune_and_weights_always_apply(void **unused)
{
    (void)unused;
    agent_index_t index;
    agent_index_init(&index);
    assert_int_equal(agent_index_set(&index, "old", AGENT_UNREACHABLE, INT64_C(10000000000)),
                     ACTOR_OK);
    assert_int_equal(agent_index_set(&index, "new", AGENT_UNREACHABLE, INT64_C(30000000000)),
                     ACTOR_OK);
    assert_int_equal(agent_index_set(&index, "gone", AGENT_GONE, 0), ACTOR_OK);
    assert_int_equal(agent_index_set(&index, "up", AGENT_ADMITTED, 0), ACTOR_OK);
    registrar_request_t *r = NULL;
    registrar_op_t prune = {.kind = REGISTRAR_PRUNE_UNREACHABLE, .timestamp = 20.0};
    assert_int_equal(operation_new(&prune, &r), ACTOR_OK);
    registry_batch_t batch;
    registry_batch_init(&batch);
    assert_int_equal(operation_apply(r, &index, &batch), ACTOR_OK);
    char text[256];
    render(&batch, text, sizeof(text));
    assert_true(r->applied);
    assert_string_equal(text, "-unreachable/old");
    assert_int_equal(agent_index_get(&index, "old", NULL), AGENT_UNKNOWN);
    assert_int_equal(agent_index_get(&index, "new", NULL), AGENT_UNREACHABLE);
    assert_int_equal(index.count, 3);
    registry_batch_fini(&batch);
    registry_batch_init(&batch);
    assert_int_equal(operation_apply(r, &index, &batch), ACTOR_OK); /* nothing left to prune */
    assert_true(r->applied);
    assert_int_equal(batch.count, 0);
    operation_free(r);

    Mesos__WeightInfo dev, ops;
    test_weight_init(&dev, "dev", 2.5);
    test_weight_init(&ops, "ops", 1.0);
    const Mesos__WeightInfo *weights[] = {&dev, &ops};
    registrar_op_t update = {
        .kind = REGISTRAR_UPDATE_WEIGHTS, .weights = weights, .weight_count = 2};
    assert_int_equal(operation_new(&update, &r), ACTOR_OK);
    assert_int_equal(operation_apply(r, &index, &batch), ACTOR_OK);
    render(&batch, text, sizeof(text));
    assert_true(r->applied);
    assert_string_equal(text, "+weights/dev -weights/ops");
    registry_batch_fini(&batch);
    operation_free(r);
    agent_index_fini(&index);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_malformed_ops_are_einval),
        cmocka_unit_test(test_malformed_weights_are_einval),
        cmocka_unit_test(test_request_holds_a_packed_copy),
        cmocka_unit_test(test_agent_preconditions),
        cmocka_unit_test(test_prune_and_weights_always_apply),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
