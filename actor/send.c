/*
 * send.c: envelopes and their way from a sender to a handler: send, dispatch, link, delivery into
 * mailboxes and handling inside the receiving actor.
 *
 * A local message is packed into its envelope by the sender and unpacked by the receiver into its
 * worker's arena (arena.c), so the sender keeps its message and the handler borrows a private
 * copy. A message for another process goes to the transport (transport.c), which packs it
 * straight into the peer's outgoing batch.
 */
#include <stdlib.h>
#include <string.h>

#include "actor/actor_int.h"
#include "actor/filter.h"
#include "actor/log.h"
#include "actor/transport.h"

static const actor_pid_t nobody;

void envelope_discard(envelope_t *e)
{
    if (e->kind == ENVELOPE_CALL)
        e->fn(NULL, NULL, e->arg); /* exactly once, so that arg is freed */
    else if (e->kind == ENVELOPE_MESSAGE)
        atomic_fetch_add_explicit(&rt.stats.messages_dropped, 1, memory_order_relaxed);
    envelope_free(e);
}

void deliver(actor_t *a, uint32_t gen, envelope_t *e)
{
    e->gen = gen;
    mpsc_push(&a->mailbox, &e->node);
    /* A load first: while the receiver is queued or running, senders on other cores then only
     * read its `scheduled` line instead of fighting over it. Paired with run_actor's store of
     * 0 and re-check of the mailbox (both sides seq_cst), one of the two always sees the other. */
    if (atomic_load_explicit(&a->scheduled, memory_order_seq_cst) == 0 &&
        !atomic_exchange_explicit(&a->scheduled, 1, memory_order_acq_rel))
        scheduler_schedule(a);
    if (atomic_load_explicit(&a->overloaded, memory_order_relaxed))
        scheduler_sent_to_overloaded(a);
}

void deliver_to_pid(const actor_pid_t *to, envelope_t *e)
{
    uint32_t gen;
    actor_t *a = rt_resolve(to, &gen);
    if (a == NULL) {
        envelope_discard(e);
        return;
    }
    deliver(a, gen, e);
}

void deliver_exited(const actor_pid_t *linker, const actor_pid_t *exited)
{
    envelope_t *e = envelope_new(ENVELOPE_EXITED, 0, 0);
    if (e == NULL) {
        LOG_ERROR("Out of memory telling %s that %s exited", linker->id, exited->id);
        return;
    }
    e->from = *exited;
    deliver_to_pid(linker, e);
}

void route_envelope(const actor_pid_t *to, envelope_t *e)
{
    if (rt_pid_is_local(to)) {
        deliver_to_pid(to, e);
        return;
    }
    if (!rt_has_transport()) {
        envelope_discard(e); /* no actor port: other processes are out of reach */
        return;
    }
    transport_send_packed(&e->from, to, e->type_name, e->data, e->len);
    envelope_free(e);
}

/* Builds a message envelope holding a copy of the packed payload and the type name. */
static envelope_t *message_envelope(actor_t *self, const ProtobufCMessageDescriptor *descriptor,
                                    const char *type_name, size_t len)
{
    size_t name_len = descriptor ? 0 : strlen(type_name) + 1;
    envelope_t *e = envelope_new(ENVELOPE_MESSAGE, len, name_len);
    if (e == NULL)
        return NULL;
    e->from = self ? self->pid : nobody;
    e->descriptor = descriptor;
    if (descriptor != NULL) {
        e->type_name = descriptor->name;
    } else {
        memcpy(e->data + len, type_name, name_len);
        e->type_name = (const char *)e->data + len;
    }
    return e;
}

static actor_err_t send_envelope(const actor_pid_t *to, envelope_t *e)
{
    scheduler_count_sent();
    if (filter_active() && filter_apply(to, e))
        return ACTOR_OK;
    route_envelope(to, e);
    return ACTOR_OK;
}

actor_err_t actor_send(actor_t *self, const actor_pid_t *to, const ProtobufCMessage *msg)
{
    size_t len = protobuf_c_message_get_packed_size(msg);
    if (len > rt.opts.max_message_bytes)
        return ACTOR_ETOOBIG;
    if (!rt_pid_is_local(to) && !filter_active() && rt_has_transport()) {
        /* Straight into the peer's batch: no envelope, one copy. */
        scheduler_count_sent();
        return transport_send_message(self ? &self->pid : &nobody, to, msg, len);
    }
    envelope_t *e = message_envelope(self, msg->descriptor, NULL, len);
    if (e == NULL)
        return ACTOR_ENOMEM;
    protobuf_c_message_pack(msg, e->data);
    return send_envelope(to, e);
}

actor_err_t actor_send_packed(actor_t *self, const actor_pid_t *to, const char *type_name,
                              const void *data, size_t len)
{
    if (len > rt.opts.max_message_bytes)
        return ACTOR_ETOOBIG;
    envelope_t *e = message_envelope(self, NULL, type_name, len);
    if (e == NULL)
        return ACTOR_ENOMEM;
    memcpy(e->data, data, len);
    return send_envelope(to, e);
}

actor_err_t actor_dispatch(const actor_pid_t *to, actor_call_fn fn, void *arg)
{
    uint32_t gen;
    actor_t *a = rt_pid_is_local(to) ? rt_resolve(to, &gen) : NULL;
    if (a == NULL)
        return ACTOR_ENOENT;
    envelope_t *e = envelope_new(ENVELOPE_CALL, 0, 0);
    if (e == NULL)
        return ACTOR_ENOMEM;
    e->fn = fn;
    e->arg = arg;
    deliver(a, gen, e);
    return ACTOR_OK;
}

/* Adds linker to target's linkers (unless `once` and it is there already). Lock held. Returns
 * false when out of memory. */
static bool linkers_append(actor_t *target, const actor_pid_t *linker, bool once)
{
    for (size_t i = 0; once && i < target->linker_count; i++) {
        if (pid_same_actor(&target->linkers[i], linker))
            return true;
    }
    if (target->linker_count == target->linker_cap) {
        size_t cap = target->linker_cap ? target->linker_cap * 2 : 4;
        actor_pid_t *grown = realloc(target->linkers, cap * sizeof(*grown));
        if (grown == NULL)
            return false;
        target->linkers = grown;
        target->linker_cap = cap;
    }
    target->linkers[target->linker_count++] = *linker;
    return true;
}

/* Links self to the local actor `to`. Errors: ACTOR_ENOENT when `to` is gone, ACTOR_ENOMEM. */
static actor_err_t link_local(actor_t *self, const actor_pid_t *to, bool once)
{
    uint32_t gen;
    actor_t *target = rt_resolve(to, &gen);
    actor_err_t err = ACTOR_ENOENT;
    if (target != NULL) {
        pthread_mutex_lock(&target->link_lock);
        /* Re-check under the lock: finalize empties the list under it after alive drops. */
        if (atomic_load(&target->alive) && atomic_load(&target->gen) == gen)
            err = linkers_append(target, &self->pid, once) ? ACTOR_OK : ACTOR_ENOMEM;
        pthread_mutex_unlock(&target->link_lock);
    }
    return err;
}

void actor_link(actor_t *self, const actor_pid_t *to)
{
    if (!rt_pid_is_local(to)) {
        if (rt_has_transport())
            transport_link(&self->pid, to);
        else
            deliver_exited(&self->pid, to); /* unreachable without an actor port */
        return;
    }
    if (link_local(self, to, false) != ACTOR_OK)
        deliver_exited(&self->pid, to);
}

actor_err_t actor_relink(actor_t *self, const actor_pid_t *to)
{
    if (rt_pid_is_local(to)) {
        actor_err_t err = link_local(self, to, true);
        if (err == ACTOR_ENOENT)
            deliver_exited(&self->pid, to);
        return err == ACTOR_ENOENT ? ACTOR_OK : err;
    }
    if (rt_has_transport())
        return transport_relink(&self->pid, to);
    deliver_exited(&self->pid, to); /* unreachable without an actor port */
    return ACTOR_OK;
}

static const actor_handler_t *find_handler(const actor_ops_t *ops, const envelope_t *e)
{
    for (size_t i = 0; i < ops->handler_count; i++) {
        const actor_handler_t *h = &ops->handlers[i];
        if (h->descriptor == e->descriptor)
            return h;
    }
    if (e->descriptor != NULL)
        return NULL; /* local sends carry the very descriptor the handler was installed with */
    for (size_t i = 0; i < ops->handler_count; i++) {
        const actor_handler_t *h = &ops->handlers[i];
        if (strcmp(h->descriptor->name, e->type_name) == 0)
            return h;
    }
    return NULL;
}

/* How logs name a message's sender. */
static const char *sender_name(const envelope_t *e)
{
    return e->from.id[0] != '\0' ? e->from.id : "outside any actor";
}

static void handle_message(actor_t *a, envelope_t *e)
{
    const actor_handler_t *h = find_handler(a->ops, e);
    if (h == NULL) {
        atomic_fetch_add_explicit(&rt.stats.messages_unhandled, 1, memory_order_relaxed);
        if (!a->warned_unhandled)
            LOG_WARNING("Dropping message of unknown type '%s' from %s (logged once per actor)",
                        e->type_name, sender_name(e));
        a->warned_unhandled = true;
        return;
    }
    ProtobufCMessage *msg =
        protobuf_c_message_unpack(h->descriptor, &arena_allocator, e->len, e->data);
    if (msg == NULL) {
        atomic_fetch_add_explicit(&rt.stats.remote_bad_messages, 1, memory_order_relaxed);
        LOG_WARNING("Dropping malformed '%s' from %s", e->type_name, sender_name(e));
        arena_reset();
        return;
    }
    h->fn(a, a->state, &e->from, msg);
    arena_reset();
}

/* Runs one event of a live actor and frees its envelope. */
void handle_envelope(actor_t *a, envelope_t *e)
{
    switch (e->kind) {
    case ENVELOPE_MESSAGE:
        handle_message(a, e);
        break;
    case ENVELOPE_CALL:
        e->fn(a, a->state, e->arg);
        break;
    case ENVELOPE_EXITED:
        if (a->ops->exited != NULL)
            a->ops->exited(a, a->state, &e->from);
        break;
    case ENVELOPE_INIT:
        atomic_store_explicit(&a->initialized, true, memory_order_relaxed);
        if (a->ops->init != NULL)
            a->ops->init(a, a->state, e->arg);
        break;
    }
    envelope_free(e);
}
