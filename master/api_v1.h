/*
 * api_v1.h: the v1 operator API's parts, private to master/: the master's objects as
 * mesos.master messages (api_v1_model.c), used by the call handlers (api_v1.c) and by the
 * SUBSCRIBE streams (api_v1_stream.c).
 *
 * A model is built into a pool (pool.h) and borrows strings and messages from the master's
 * state, so it must be rendered (api_encode) before the handler returns and the state changes;
 * pool_fini releases it. A builder returns NULL only when memory runs out, with pool->failed
 * set; a caller checks pool->failed once before rendering, since a nested builder's failure
 * leaves a hole its parent cannot see.
 */
#ifndef MASTER_API_V1_H
#define MASTER_API_V1_H

#include <stdbool.h>

#include "master.pb-c.h"
#include "master/master_int.h"
#include "master/pool.h"

/* The media types of the API, as Mesos names them. */
#define API_JSON     "application/json"
#define API_PROTOBUF "application/x-protobuf"

/* A new message of type desc, initialized (defaults set), from the pool; NULL when out of
 * memory. */
void *api_message(pool_t *pool, const ProtobufCMessageDescriptor *desc);

/* r as Resource messages in *out and *n (none when r is empty); with role, each carries it as
 * its allocation_info. */
void api_model_resources(pool_t *pool, const resources_t *r, const char *role,
                         Mesos__Resource ***out, size_t *n);
Mesos__Task *api_model_task(pool_t *pool, const master_task_t *task);
Mesos__Master__Response__GetAgents__Agent *api_model_agent(pool_t *pool,
                                                           const master_agent_t *agent);
Mesos__Master__Response__GetFrameworks__Framework *
api_model_framework(pool_t *pool, const master_framework_t *fw);

Mesos__Master__Response__GetTasks *api_model_tasks(pool_t *pool, master_t *m);
Mesos__Master__Response__GetAgents *api_model_agents(pool_t *pool, master_t *m);
Mesos__Master__Response__GetFrameworks *api_model_frameworks(pool_t *pool, master_t *m);
Mesos__Master__Response__GetExecutors *api_model_executors(pool_t *pool, master_t *m);
Mesos__Master__Response__GetState *api_model_state(pool_t *pool, master_t *m);

/* Renders msg as compact JSON (json) or protobuf bytes into a new heap buffer *out of *len
 * bytes (NUL-terminated for JSON), which the caller frees. ACTOR_OK or ACTOR_ENOMEM. */
actor_err_t api_encode(const ProtobufCMessage *msg, bool json, char **out, size_t *len);

/* ---- api_v1_stream.c ---- */

/* SUBSCRIBE: answers req with a stream of Events in JSON (json) or protobuf records. */
void api_subscribe(actor_t *self, master_t *m, actor_http_request_t *req, bool json);

#endif
