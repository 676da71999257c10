/* Tests of local.c: the real mesos-local started with simulated agents and Marathon, ready when
 * started (every agent registered, Marathon answering), with the flags asked for; stopped, with
 * its process reaped and its work directory gone. Skipped outside ctest (no binaries). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "tests/support/http.h"
#include "tests/support/local.h"

static void test_start_and_stop(void **state)
{
    (void)state;
    if (support_bin_dir() == NULL) {
        print_message("MESOS_TEST_BIN_DIR is not set (run through ctest)\n");
        skip();
    }
    support_local_options_t opts;
    support_local_options_init(&opts);
    const char *flags[] = {"--hostname=support-test", NULL};
    opts.name = "test_local";
    opts.num_agents = 3;
    opts.marathon = true;
    opts.simulated = true;
    opts.resources = "cpus:3;mem:300";
    opts.flags = flags;
    support_local_t local;
    support_local_start(&local, &opts);
    assert_true(local.pid > 0);
    assert_true(local.marathon_port > 0);
    assert_int_equal(local.num_agents, 3);
    assert_int_equal(strncmp(local.work_dir, "/tmp/test_local.", 16), 0);
    char want[64];
    snprintf(want, sizeof(want), "--master=127.0.0.1:%u", local.port);
    assert_string_equal(local.master_flag, want);
    /* Ready: the agents registered with their resources, and Marathon answers. */
    long status = 0;
    json_t *slaves = support_http_json("GET", local.port, "/slaves", NULL, &status);
    assert_int_equal(status, 200);
    json_t *agents = json_object_get(slaves, "slaves");
    assert_int_equal(json_array_size(agents), 3);
    json_t *res = json_object_get(json_array_get(agents, 0), "resources");
    assert_true(json_number_value(json_object_get(res, "cpus")) == 3);
    assert_string_equal(json_string_value(json_object_get(json_array_get(agents, 0), "hostname")),
                        "support-test");
    json_decref(slaves);
    free(support_http_text("GET", local.marathon_port, "/ping", NULL, &status));
    assert_int_equal(status, 200);
    pid_t pid = local.pid;
    char dir[64];
    strcpy(dir, local.work_dir);
    assert_true(support_local_stop(&local));
    assert_int_equal(local.pid, 0);
    assert_int_equal(kill(pid, 0), -1); /* reaped */
    assert_int_equal(access(dir, F_OK), -1);
    assert_true(support_local_stop(&local)); /* twice is harmless */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_start_and_stop),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
