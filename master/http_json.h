/*
 * http_json.h: the master's objects as Mesos's v0 JSON (http_json.c). Each function returns a
 * new reference.
 */
#ifndef MASTER_HTTP_JSON_H
#define MASTER_HTTP_JSON_H

#include <jansson.h>

#include "master/master_int.h"

/* The keys of the object `set` as an array; consumes set. */
json_t *master_json_keys(json_t *set);
json_t *master_json_attributes(Mesos__Attribute *const *attrs, size_t count);
json_t *master_json_task(const master_task_t *task);
json_t *master_json_offer(const master_offer_t *offer);
/* The /state-summary entry of a framework. */
json_t *master_json_framework_summary(const master_framework_t *fw);
/* The /state and /frameworks entry; with_tasks adds tasks, completed and unreachable tasks,
 * offers and executors. */
json_t *master_json_framework(const master_framework_t *fw, bool with_tasks);
/* The /state and /slaves entry; summary adds task counts and framework ids (/state-summary). */
json_t *master_json_agent(const master_agent_t *agent, bool summary);

#endif
