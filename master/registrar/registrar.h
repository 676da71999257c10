/*
 * registrar.h: the master's registrar, Mesos's Registrar in C: the actor that persists the
 * registry (registry.proto: the master's info, admitted agents, unreachable and gone agents,
 * role weights) in the key-value store (store/store.h).
 *
 * Use:
 *  1. registrar_recover() opens the store (an LMDB directory "<work_dir>/registry", or "memory"
 *     for --registry=in_memory), reads the registry as the previous master left it, records the
 *     new master's MasterInfo, and returns both. The master reads the old registry to know which
 *     agents to wait for (--agent_reregister_timeout). Runs before the master actor starts, on
 *     the calling thread.
 *  2. registrar_spawn() starts the actor that owns the store from then on.
 *  3. The master submits operations with registrar_submit(); each is answered once, inside the
 *     submitting actor, after it is durable: `applied` true if the operation changed the
 *     registry, false if its precondition failed (admitting an agent id already admitted,
 *     marking unreachable an agent that is not admitted, ...), which is not an error.
 *
 * Operations that arrive together (queued in the actor's mailbox while it writes) are applied as
 * one store batch: one transaction and one fsync for all of them, as Mesos's registrar batches
 * its operations. Preconditions are checked against the registry as the earlier operations of
 * the same batch left it, in submission order.
 *
 * A failed write is never ignored: the registrar calls the options' `failed` function (default:
 * log the error and _exit(1), as Mesos's master exits when the registrar fails), and answers no
 * further operation in its submitter.
 *
 * Metrics (Mesos's names): registrar/state_store_ms, one sample per batch written, and
 * registrar/queued_operations, the operations waiting for the next write.
 */
#ifndef MASTER_REGISTRAR_REGISTRAR_H
#define MASTER_REGISTRAR_REGISTRAR_H

#include <stdbool.h>

#include "actor/actor.h"
#include "mesos.pb-c.h"
#include "registry.pb-c.h"
#include "store/store.h"

typedef enum registrar_op_kind {
    REGISTRAR_ADMIT_AGENT,       /* agent (info with id) becomes admitted; precondition: the id
                                    is neither admitted nor gone (an unreachable one is
                                    readmitted) */
    REGISTRAR_UPDATE_AGENT,      /* an admitted agent's info changes (it reregistered with new
                                    resources or hostname); precondition: admitted */
    REGISTRAR_MARK_UNREACHABLE,  /* admitted -> unreachable at `timestamp`; precondition:
                                    admitted */
    REGISTRAR_MARK_REACHABLE,    /* unreachable -> admitted with `agent` info; precondition:
                                    unreachable */
    REGISTRAR_MARK_GONE,         /* admitted or unreachable -> gone at `timestamp`;
                                    precondition: admitted or unreachable (not gone, and not
                                    unknown: Mesos refuses an agent it cannot find too) */
    REGISTRAR_REMOVE_AGENT,      /* an admitted agent leaves (it unregistered); precondition:
                                    admitted */
    REGISTRAR_PRUNE_UNREACHABLE, /* forget unreachable agents marked before `timestamp`
                                    (Mesos's --registry_max_agent_age); always applied */
    REGISTRAR_UPDATE_WEIGHTS,    /* set the weights in `weights` (weight 1.0 removes the entry);
                                    always applied */
} registrar_op_kind_t;

/* One operation. registrar_submit() takes a copy of what it needs; the caller keeps op. */
typedef struct registrar_op {
    registrar_op_kind_t kind;
    const Mesos__AgentInfo *agent;           /* ADMIT, UPDATE, MARK_REACHABLE: with id set */
    const char *agent_id;                    /* MARK_UNREACHABLE, MARK_GONE, REMOVE */
    double timestamp;                        /* seconds since the epoch: MARK_*, PRUNE */
    const Mesos__WeightInfo *const *weights; /* UPDATE_WEIGHTS, each with role set */
    size_t weight_count;
} registrar_op_t;

/* The answer: runs inside the submitting actor (self, state are its own), exactly once. It runs
 * with self and state NULL instead, only so that the caller can free arg, when the submitter is
 * gone by then (applied is still the answer), or when the registrar terminated before writing
 * the operation or its write failed (applied false; see registrar_options_t.failed). */
typedef void (*registrar_done_fn)(actor_t *self, void *state, void *arg, bool applied);

/* Called when a write fails (err and a message); must not return normally in production. */
typedef void (*registrar_failed_fn)(actor_err_t err, const char *message);

typedef struct registrar_options {
    store_t *store;             /* from registrar_recover(); the actor owns it from spawn on and
                                   closes it when it terminates */
    registrar_failed_fn failed; /* NULL: log at ERROR and _exit(1), as Mesos's
                                   EXIT(EXIT_FAILURE); not LOG_FATAL, which aborts */
} registrar_options_t;

/* Opens the store of `registry` ("in_memory", or "replicated_log"/"lmdb" for the on-disk store
 * under work_dir/registry, created with its parents if needed, with `options`, which may be
 * NULL for the defaults), reads the registry into *previous
 * (caller frees with mesos__internal__registry__registry__free_unpacked()), stores `master` as the
 * registry's master (durably), and returns the open store in *store. In *previous, master is the
 * previous master's (NULL on a first start); agents, unreachable and gone are always set, possibly
 * empty; each list is in key order (by agent id or role). On error nothing is left open and the
 * out-pointers are untouched. Errors: ACTOR_EINVAL (unknown registry kind, no work_dir for the
 * on-disk store, NULL argument, master lacking a required field), ACTOR_ESYSTEM (cannot open or
 * write; logged), ACTOR_ETOOBIG (the store is full), ACTOR_ENOMEM, ACTOR_EPROTO (a stored value
 * that does not decode, or names another entry than its key; logged). Blocks on the disk. */
actor_err_t registrar_recover(const char *registry, const char *work_dir,
                              const store_options_t *options, const Mesos__MasterInfo *master,
                              store_t **store, Mesos__Internal__Registry__Registry **previous);

/* Reads the agents' states from opts->store (on the calling thread) and spawns the registrar
 * actor (id "registrar", or "registrar(N)" if taken), which owns the store from then on. Errors:
 * ACTOR_EINVAL (no opts or store), ACTOR_EPROTO / ACTOR_ESYSTEM (the store cannot be read;
 * logged), ACTOR_ENOMEM, and actor_spawn()'s; on error the caller keeps the store. */
actor_err_t registrar_spawn(const registrar_options_t *opts, actor_pid_t *pid);

/* Submits op from inside actor `self` (the answer runs there). May be called from any handler;
 * does not block (it packs a copy of op and dispatches it). Errors: ACTOR_EINVAL (NULL self,
 * registrar or done; an op missing what its kind needs; an empty agent id or role, or one longer
 * than fits a store key (about 500 bytes); a timestamp that is not finite; a weight that is not
 * positive and finite; a message lacking a required field), ACTOR_ENOMEM, ACTOR_ENOENT if the
 * registrar is gone; done does not run then and the caller keeps arg. */
actor_err_t registrar_submit(actor_t *self, const actor_pid_t *registrar, const registrar_op_t *op,
                             registrar_done_fn done, void *arg);

#endif
