/*
 * registrar.c: the registrar actor (registrar.h), Mesos's Registrar on our store.
 *
 * Protocol: registrar_submit() packs a copy of the operation on the submitter's thread and
 * dispatches it here. Each operation that arrives is queued; the first one queued after a write
 * also dispatches a flush to the registrar itself. Events run in arrival order, so the flush
 * runs after every operation that was in the mailbox before it, and takes them all as one batch:
 *
 *   idle --op--> queued (flush dispatched) --more ops--> queued --flush--> writing --> idle
 *
 * The flush evaluates each operation's precondition against the index as the earlier ones left
 * it, collects the puts and deletes of those that hold, writes them with one store_apply() (one
 * transaction, one fsync), and only then answers every operation of the batch by dispatching to
 * its submitter. The index is updated while the batch is built, before the write: because a
 * failed write stops the registrar for good (broken), the index never needs to be rolled back.
 *
 * Once broken, or when the registrar terminates, an operation it holds is never answered in its
 * submitter: its done runs with self and state NULL, so that the caller's arg is freed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "actor/clock.h"
#include "actor/log.h"
#include "actor/metrics.h"
#include "master/registrar/registrar_int.h"

typedef struct registrar {
    store_t *store;              /* owned; closed by fini */
    registrar_failed_fn failed;  /* never NULL */
    agent_index_t index;         /* the agents' states as the last batch left them */
    registrar_request_t *queue;  /* operations for the next flush, in arrival order */
    registrar_request_t **tail;  /* where the next one is linked */
    size_t queued;               /* operations in queue */
    bool flush_dispatched;       /* a flush is in the mailbox */
    bool broken;                 /* a write failed: nothing more is answered */
    metrics_timer_t *store_time; /* registrar/state_store_ms: one sample per store_apply() */
    metrics_gauge_t *queue_size; /* registrar/queued_operations */
} registrar_t;

/* What registrar_spawn() hands to init. */
typedef struct start {
    store_t *store;
    registrar_failed_fn failed;
    agent_index_t index;
} start_t;

/* The default of registrar_options_t.failed. LOG_FATAL would abort, which is for our own bugs;
 * a store that cannot be written is not one, so this exits as Mesos's EXIT(EXIT_FAILURE) does. */
static void exit_on_failure(actor_err_t err, const char *message)
{
    LOG_ERROR("%s: %s; exiting because the registry can no longer be stored", message,
              actor_strerror(err));
    _exit(1);
}

/* Runs inside the submitter (self NULL if it is gone): the answer. */
static void answer(actor_t *self, void *state, void *arg)
{
    registrar_request_t *r = arg;
    r->done(self, state, r->arg, r->applied);
    operation_free(r);
}

/* Gives up on an operation without answering it in its submitter. */
static void drop(registrar_request_t *r)
{
    r->applied = false;
    answer(NULL, NULL, r);
}

static void drop_all(registrar_request_t *list)
{
    while (list != NULL) {
        registrar_request_t *next = list->next;
        drop(list);
        list = next;
    }
}

static void answer_all(registrar_request_t *list)
{
    while (list != NULL) {
        registrar_request_t *next = list->next; /* list is the submitter's once dispatched */
        if (actor_dispatch(&list->submitter, answer, list) != ACTOR_OK)
            answer(NULL, NULL, list);
        list = next;
    }
}

static registrar_request_t *take_queue(registrar_t *reg)
{
    registrar_request_t *list = reg->queue;
    reg->queue = NULL;
    reg->tail = &reg->queue;
    reg->queued = 0;
    if (reg->queue_size != NULL)
        metrics_gauge_set(reg->queue_size, 0.0);
    return list;
}

/* Applies the operations of list to the index and writes what they change as one batch. */
static actor_err_t write_batch(registrar_t *reg, registrar_request_t *list, size_t count)
{
    registry_batch_t batch;
    registry_batch_init(&batch);
    actor_err_t err = ACTOR_OK;
    for (registrar_request_t *r = list; r != NULL && err == ACTOR_OK; r = r->next)
        err = operation_apply(r, &reg->index, &batch);
    if (err == ACTOR_OK && batch.count > 0) {
        int64_t start = actor_clock_now();
        err = store_apply(reg->store, batch.ops, batch.count);
        if (reg->store_time != NULL)
            metrics_timer_record(reg->store_time, actor_clock_now() - start);
        if (err == ACTOR_OK)
            VLOG(1, "Stored %zu operations as %zu changes of the registry", count, batch.count);
    }
    registry_batch_fini(&batch);
    return err;
}

static void registrar_on_flush(actor_t *self, void *state, void *arg)
{
    (void)arg;
    if (self == NULL)
        return;
    registrar_t *reg = state;
    reg->flush_dispatched = false;
    size_t count = reg->queued;
    registrar_request_t *list = take_queue(reg);
    actor_err_t err = reg->broken ? ACTOR_ECLOSED : write_batch(reg, list, count);
    if (err != ACTOR_OK && !reg->broken) {
        reg->broken = true;
        char message[96];
        snprintf(message, sizeof(message), "Failed to update the registry with %zu operations",
                 count);
        reg->failed(err, message);
    }
    if (err != ACTOR_OK)
        drop_all(list);
    else
        answer_all(list);
}

static void registrar_on_submit(actor_t *self, void *state, void *arg)
{
    registrar_request_t *r = arg;
    registrar_t *reg = state;
    if (self == NULL || reg->broken) {
        drop(r);
        return;
    }
    *reg->tail = r;
    reg->tail = &r->next;
    reg->queued++;
    if (reg->queue_size != NULL)
        metrics_gauge_set(reg->queue_size, (double)reg->queued);
    if (reg->flush_dispatched)
        return;
    if (actor_dispatch(actor_self(self), registrar_on_flush, NULL) == ACTOR_OK)
        reg->flush_dispatched = true;
    else
        registrar_on_flush(self, state, NULL); /* cannot queue a flush: write this one alone */
}

/* Mesos's registrar metrics; a second registrar in the process (tests) runs without them. */
static void add_metrics(registrar_t *reg)
{
    metrics_registry_t *metrics = metrics_registry_default();
    actor_err_t err =
        metrics_timer_new(metrics, "registrar/state_store",
                          "Time to write a batch of registry operations", 0, &reg->store_time);
    if (err != ACTOR_OK)
        LOG_WARNING("Running without metric registrar/state_store_ms: %s", actor_strerror(err));
    err = metrics_gauge_new(metrics, "registrar/queued_operations",
                            "Registry operations waiting for the next write", &reg->queue_size);
    if (err != ACTOR_OK)
        LOG_WARNING("Running without metric registrar/queued_operations: %s", actor_strerror(err));
}

static void registrar_init(actor_t *self, void *state, void *arg)
{
    (void)self;
    registrar_t *reg = state;
    start_t *start = arg;
    reg->store = start->store;
    reg->failed = start->failed;
    reg->index = start->index;
    reg->tail = &reg->queue;
    free(start);
    add_metrics(reg);
}

static void registrar_fini(actor_t *self, void *state)
{
    (void)self;
    registrar_t *reg = state;
    drop_all(take_queue(reg));
    metrics_timer_free(reg->store_time);
    metrics_gauge_free(reg->queue_size);
    agent_index_fini(&reg->index);
    store_close(reg->store);
}

static const actor_ops_t registrar_ops = {
    .name = "registrar",
    .state_size = sizeof(registrar_t),
    .init = registrar_init,
    .fini = registrar_fini,
};

actor_err_t registrar_spawn(const registrar_options_t *opts, actor_pid_t *pid)
{
    if (opts == NULL || opts->store == NULL)
        return ACTOR_EINVAL;
    start_t *start = malloc(sizeof(*start));
    if (start == NULL)
        return ACTOR_ENOMEM;
    start->store = opts->store;
    start->failed = opts->failed != NULL ? opts->failed : exit_on_failure;
    agent_index_init(&start->index);
    actor_err_t err = agent_index_load(&start->index, opts->store);
    if (err != ACTOR_OK) {
        LOG_ERROR("Failed to read the agents of the registry: %s", actor_strerror(err));
        goto fail_free_start;
    }
    err = actor_spawn(&registrar_ops, "registrar", start, pid);
    if (err == ACTOR_EEXIST)
        err = actor_spawn(&registrar_ops, NULL, start, pid);
    if (err != ACTOR_OK)
        goto fail_free_start;
    return ACTOR_OK;

fail_free_start:
    agent_index_fini(&start->index);
    free(start);
    return err;
}

actor_err_t registrar_submit(actor_t *self, const actor_pid_t *registrar, const registrar_op_t *op,
                             registrar_done_fn done, void *arg)
{
    if (self == NULL || registrar == NULL || done == NULL)
        return ACTOR_EINVAL;
    registrar_request_t *r = NULL;
    actor_err_t err = operation_new(op, &r);
    if (err != ACTOR_OK)
        return err;
    r->submitter = *actor_self(self);
    r->done = done;
    r->arg = arg;
    err = actor_dispatch(registrar, registrar_on_submit, r);
    if (err != ACTOR_OK)
        operation_free(r);
    return err;
}
