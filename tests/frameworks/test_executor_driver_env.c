/* Tests of executor_driver_env.c: the executor driver's options from Mesos's executor
 * environment, with its defaults, the old SLAVE spellings, and one clear line for each bad
 * variable. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "actor/clock.h"
#include "frameworks/executor_driver.h"

#define AGENT     "MESOS_AGENT_PID=slave(1)@127.0.0.1:15051"
#define FRAMEWORK "MESOS_FRAMEWORK_ID=fw"
#define EXECUTOR  "MESOS_EXECUTOR_ID=ex"
#define DIRECTORY "MESOS_DIRECTORY=/var/sandbox"

static void test_minimal_environment_and_defaults(void **unused)
{
    (void)unused;
    char *env[] = {"PATH=/bin", AGENT, FRAMEWORK, EXECUTOR, DIRECTORY, NULL};
    executor_driver_options_t o;
    char err[256];
    executor_driver_options_init(&o);
    assert_int_equal(executor_driver_options_from_env(&o, env, err, sizeof(err)), ACTOR_OK);
    assert_string_equal(o.agent.id, "slave(1)");
    assert_int_equal(o.agent.ip, 0x7f000001);
    assert_int_equal(o.agent.port, 15051);
    assert_string_equal(o.framework_id, "fw");
    assert_string_equal(o.executor_id, "ex");
    assert_string_equal(o.directory, "/var/sandbox");
    assert_string_equal(o.sandbox, "/var/sandbox");
    assert_null(o.agent_id);
    assert_false(o.checkpoint);
    assert_int_equal(o.recovery_timeout_ns, 15 * 60 * ACTOR_NS_PER_SEC);
    assert_int_equal(o.shutdown_grace_period_ns, 5 * ACTOR_NS_PER_SEC);
    assert_int_equal(o.registration_retry_ns, ACTOR_NS_PER_SEC);
    assert_int_equal(o.update_retry_ns, 10 * ACTOR_NS_PER_SEC);
    assert_int_equal(o.update_retry_max_ns, 10 * 60 * ACTOR_NS_PER_SEC);
    assert_null(o.id);
}

static void test_full_environment(void **unused)
{
    (void)unused;
    char *env[] = {"MESOS_SLAVE_PID=slave(2)@10.0.0.2:5051",
                   FRAMEWORK,
                   EXECUTOR,
                   DIRECTORY,
                   "MESOS_SANDBOX=/mnt/mesos/sandbox",
                   "MESOS_CHECKPOINT=1",
                   "MESOS_RECOVERY_TIMEOUT=90secs",
                   "MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD=1500ms",
                   "MESOS_SLAVE_ID=agent-7",
                   NULL};
    executor_driver_options_t o;
    char err[256];
    executor_driver_options_init(&o);
    assert_int_equal(executor_driver_options_from_env(&o, env, err, sizeof(err)), ACTOR_OK);
    assert_string_equal(o.agent.id, "slave(2)");
    assert_int_equal(o.agent.port, 5051);
    assert_string_equal(o.sandbox, "/mnt/mesos/sandbox");
    assert_true(o.checkpoint);
    assert_int_equal(o.recovery_timeout_ns, 90 * ACTOR_NS_PER_SEC);
    assert_int_equal(o.shutdown_grace_period_ns, 1500 * ACTOR_NS_PER_MS);
    assert_string_equal(o.agent_id, "agent-7");

    /* The AGENT spellings win over the SLAVE ones; only "1" checkpoints, as in Mesos. */
    char *both[] = {"MESOS_AGENT_PID=slave(3)@127.0.0.1:1",
                    "MESOS_SLAVE_PID=slave(4)@127.0.0.1:2",
                    FRAMEWORK,
                    EXECUTOR,
                    DIRECTORY,
                    "MESOS_AGENT_ID=a",
                    "MESOS_SLAVE_ID=s",
                    "MESOS_CHECKPOINT=true",
                    NULL};
    executor_driver_options_init(&o);
    assert_int_equal(executor_driver_options_from_env(&o, both, err, sizeof(err)), ACTOR_OK);
    assert_string_equal(o.agent.id, "slave(3)");
    assert_string_equal(o.agent_id, "a");
    assert_false(o.checkpoint);
}

static void expect_error(char **env, const char *message)
{
    executor_driver_options_t o;
    char err[256];
    executor_driver_options_init(&o);
    assert_int_equal(executor_driver_options_from_env(&o, env, err, sizeof(err)), ACTOR_EINVAL);
    assert_string_equal(err, message);
}

static void test_bad_environment(void **unused)
{
    (void)unused;
    expect_error((char *[]){NULL}, "Expecting 'MESOS_AGENT_PID' to be set in the environment");
    expect_error((char *[]){AGENT, EXECUTOR, DIRECTORY, NULL},
                 "Expecting 'MESOS_FRAMEWORK_ID' to be set in the environment");
    expect_error((char *[]){AGENT, FRAMEWORK, "MESOS_EXECUTOR_ID=", DIRECTORY, NULL},
                 "Expecting 'MESOS_EXECUTOR_ID' to be set in the environment");
    expect_error((char *[]){AGENT, FRAMEWORK, EXECUTOR, NULL},
                 "Expecting 'MESOS_DIRECTORY' to be set in the environment");
    expect_error((char *[]){"MESOS_AGENT_PID=127.0.0.1:5051", FRAMEWORK, EXECUTOR, DIRECTORY, NULL},
                 "Failed to parse MESOS_AGENT_PID '127.0.0.1:5051': expected a PID such as "
                 "slave(1)@127.0.0.1:5051");
    expect_error(
        (char *[]){"MESOS_AGENT_PID=slave(1)@0.0.0.0:0", FRAMEWORK, EXECUTOR, DIRECTORY, NULL},
        "Failed to parse MESOS_AGENT_PID 'slave(1)@0.0.0.0:0': expected a PID such as "
        "slave(1)@127.0.0.1:5051");
    expect_error(
        (char *[]){AGENT, FRAMEWORK, EXECUTOR, DIRECTORY, "MESOS_RECOVERY_TIMEOUT=15", NULL},
        "Failed to parse MESOS_RECOVERY_TIMEOUT '15': expected a duration such as 5secs "
        "or 15mins");
    expect_error((char *[]){AGENT, FRAMEWORK, EXECUTOR, DIRECTORY,
                            "MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD=-1secs", NULL},
                 "Failed to parse MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD '-1secs': expected a "
                 "duration such as 5secs or 15mins");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_minimal_environment_and_defaults),
        cmocka_unit_test(test_full_environment),
        cmocka_unit_test(test_bad_environment),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
