/*
 * app_test.h: what the app model's tests (test_app.c, test_app_json.c) share: parsing a test's
 * JSON text and accepting an app definition, failing the test on either error.
 */
#ifndef TESTS_MARATHON_APP_TEST_H
#define TESTS_MARATHON_APP_TEST_H

#include <jansson.h>

#include "frameworks/marathon/app.h"

/* The test's JSON text parsed; fails the test when it does not parse. */
static inline json_t *app_test_parse(const char *text)
{
    json_error_t error;
    json_t *json = json_loads(text, 0, &error);
    if (json == NULL)
        fail_msg("test JSON does not parse: %s: %s", text, error.text);
    return json;
}

/* The app text defines; fails the test, with Marathon's details, when it is refused. */
static inline marathon_app_t *app_test_accept(const char *text)
{
    json_t *json = app_test_parse(text);
    marathon_app_t *app = NULL;
    json_t *details = NULL;
    actor_err_t rc = marathon_app_from_json(json, NULL, NULL, &app, &details);
    if (rc != ACTOR_OK)
        fail_msg("refused (%s): %s\n%s", actor_strerror(rc), text,
                 details != NULL ? json_dumps(details, JSON_COMPACT) : "");
    json_decref(json);
    return app;
}

#endif
