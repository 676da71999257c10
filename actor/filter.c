/* filter.c: the test message filter; see filter.h. */
#include <stdlib.h>

#include "actor/actor_int.h"
#include "actor/filter.h"

typedef struct held {
    uint64_t id;
    actor_pid_t to;
    envelope_t *envelope;
    UT_hash_handle hh;
} held_t;

static struct {
    _Atomic(actor_filter_fn) fn;
    void *arg;
    pthread_mutex_t lock; /* guards held and next_id */
    held_t *held;
    uint64_t next_id;
} filter = {.lock = PTHREAD_MUTEX_INITIALIZER};

bool filter_active(void)
{
    return atomic_load_explicit(&filter.fn, memory_order_acquire) != NULL;
}

void actor_filter_install(actor_filter_fn fn, void *arg)
{
    pthread_mutex_lock(&filter.lock);
    filter.arg = arg;
    atomic_store_explicit(&filter.fn, fn, memory_order_release);
    pthread_mutex_unlock(&filter.lock);
}

static bool hold(const actor_pid_t *to, envelope_t *e, uint64_t id)
{
    held_t *h = malloc(sizeof(*h));
    if (h == NULL)
        return false;
    h->id = id;
    h->to = *to;
    h->envelope = e;
    pthread_mutex_lock(&filter.lock);
    HASH_ADD(hh, filter.held, id, sizeof(h->id), h);
    pthread_mutex_unlock(&filter.lock);
    return true;
}

bool filter_apply(const actor_pid_t *to, envelope_t *e)
{
    pthread_mutex_lock(&filter.lock);
    actor_filter_fn fn = atomic_load(&filter.fn);
    void *arg = filter.arg;
    uint64_t id = ++filter.next_id;
    pthread_mutex_unlock(&filter.lock);
    if (fn == NULL)
        return false;

    actor_filter_event_t event = {
        .from = &e->from,
        .to = to,
        .type_name = e->type_name,
        .data = e->data,
        .len = e->len,
        .hold_id = id,
    };
    switch (fn(&event, arg)) {
    case ACTOR_FILTER_PASS:
        return false;
    case ACTOR_FILTER_HOLD:
        if (hold(to, e, id))
            return true;
        break; /* out of memory: dropped instead */
    case ACTOR_FILTER_DROP:
        break;
    }
    envelope_discard(e);
    return true;
}

static held_t *take(uint64_t id)
{
    held_t *h = NULL;
    pthread_mutex_lock(&filter.lock);
    HASH_FIND(hh, filter.held, &id, sizeof(id), h);
    if (h != NULL)
        HASH_DEL(filter.held, h);
    pthread_mutex_unlock(&filter.lock);
    return h;
}

actor_err_t actor_filter_release(uint64_t hold_id)
{
    held_t *h = take(hold_id);
    if (h == NULL)
        return ACTOR_ENOENT;
    route_envelope(&h->to, h->envelope);
    free(h);
    return ACTOR_OK;
}

actor_err_t actor_filter_discard(uint64_t hold_id)
{
    held_t *h = take(hold_id);
    if (h == NULL)
        return ACTOR_ENOENT;
    envelope_discard(h->envelope);
    free(h);
    return ACTOR_OK;
}

void actor_filter_clear(void)
{
    pthread_mutex_lock(&filter.lock);
    held_t *h, *tmp;
    HASH_ITER(hh, filter.held, h, tmp)
    {
        HASH_DEL(filter.held, h);
        envelope_discard(h->envelope);
        free(h);
    }
    pthread_mutex_unlock(&filter.lock);
}
