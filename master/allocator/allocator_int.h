/*
 * allocator_int.h: the allocator core's data model, shared by the files of master/allocator/ and
 * included by nothing else.
 *
 * Objects and who owns them:
 *  - role_t: a node of the role tree ("eng/web" is a child of "eng"; the root has path "").
 *    Created when something names a role (a subscription, an allocation, a weight) and freed
 *    when nothing does. Each node sorts its children for DRF: the child roles by their subtree
 *    share and, as one more child, the role itself (`self`) by the share of what was allocated
 *    for exactly this role, as Mesos's sorter puts a role's own frameworks in a virtual leaf.
 *    Each node also sorts its offerable members (frameworks subscribed to it).
 *  - framework_t: one per added framework; owns one member_t per subscribed role. Its slot
 *    (index in fw_slots), the slot's epoch and the member's uid name a filter's owner in agents'
 *    filter tables: bumping the epoch kills all the framework's filters, renewing a member's uid
 *    (a revive of that role) or freeing the member (the role dropped) kills that role's.
 *  - agent_t: one per added agent: total and free resources, the allocation records on it, its
 *    offer filters (what frameworks refused there), and a state that says whether a cycle must
 *    visit it.
 *  - record_t: what one framework holds on one agent for one role (a packed_t: one block, as
 *    a grant copies into it), linked on its agent and on its owner: the framework, or an
 *    orphan_t while the framework is not added yet (an agent may report usage of frameworks the
 *    master has not re-added after a failover).
 *
 * Files: quantity.c (scalars, shares), roles.c (role tree, DRF keys), frameworks.c (frameworks,
 * members, suppress/revive), agents.c (agents and their states), records.c (records, recovery),
 * cycle.c (allocation), allocator.c (lifecycle, weights, figures); generic pieces in idmap,
 * sortlist, minheap, filter_table and packed.
 *
 * Shares are computed from qty_t vectors: per interned scalar name, thousandths (the fixed point
 * of resources.h), so that sums are exact. Cluster totals count active agents only.
 *
 * Agent states (the incremental part): INACTIVE (deactivated: never visited), FULL (nothing
 * free), AWAKE (something free: the next cycle visits it) and DORMANT (the last visit found no
 * framework to take it; it sleeps until something that could change that happens: its free
 * resources change (a filter holds only what was refused: more free resources may pass it), a
 * framework is added, activated, revived or subscribes to a role, or a filter on it expires, for
 * which it waits in the `wakeups` heap).
 */
#ifndef MASTER_ALLOCATOR_ALLOCATOR_INT_H
#define MASTER_ALLOCATOR_ALLOCATOR_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "master/allocator/allocator.h"
#include "master/allocator/filter_table.h"
#include "master/allocator/idmap.h"
#include "master/allocator/minheap.h"
#include "master/allocator/packed.h"
#include "master/allocator/sortlist.h"

#define ALLOC_SCALARS_MAX 16 /* distinct scalar names counted in shares; more are ignored */

/* Mesos's default --min_allocatable_resources, "cpus:0.01|mem:32": an offer must hold at least
 * one of these, in thousandths. */
#define ALLOC_MIN_CPUS 10
#define ALLOC_MIN_MEM  32000

/* Scalar ids interned at creation, so that the hot paths need no lookup. */
enum { SCALAR_CPUS = 0, SCALAR_MEM = 1, SCALAR_DISK = 2, SCALAR_GPUS = 3 };

#define container_of(ptr, type, member) ((type *)(void *)((char *)(ptr)-offsetof(type, member)))

typedef struct qty {
    int64_t v[ALLOC_SCALARS_MAX]; /* thousandths per interned scalar name */
} qty_t;

typedef struct role role_t;
typedef struct framework framework_t;
typedef struct member member_t;
typedef struct agent agent_t;
typedef struct record record_t;

struct role {
    char *path;            /* "eng/web"; "" for the root */
    role_t *parent;        /* NULL for the root */
    double weight;         /* > 0 */
    bool weight_set;       /* keeps the node alive */
    sortlist_t children;   /* child roles' `entry` nodes and this role's `self` */
    sortlist_node_t entry; /* in parent->children: subtree share / weight, then path */
    sortlist_node_t self;  /* in children (not for the root): own share / weight */
    sortlist_t members;    /* offerable members: share within the role, then fw->seq */
    qty_t own_q;           /* allocated for exactly this role (known frameworks) */
    qty_t subtree_q;       /* own_q plus the children's subtree_q */
    size_t offerable;      /* offerable members in the subtree, own included */
    size_t member_count;   /* members of this role, offerable or not */
    size_t record_count;   /* allocation records naming this role */
    size_t child_count;
};

struct member {
    framework_t *fw;
    role_t *role;
    sortlist_node_t node; /* in role->members while offerable */
    qty_t q;              /* allocated to fw for this role */
    bool suppressed;
    uint32_t uid; /* names it in agents' filter tables; renewed by a revive of its role alone */
};

struct framework {
    char *id;
    uint32_t slot; /* index in fw_slots and fw_epochs */
    uint64_t seq;  /* order of addition: the DRF tie-break within a role */
    bool active;   /* deactivated frameworks keep allocations but get no offers */
    member_t **members;
    size_t member_count;
    record_t *records; /* owner list */
    qty_t q;           /* everything allocated to it, all roles */
    /* Scratch of allocator_allocate, grouping grants by framework. */
    uint64_t group_cycle;
    size_t group_count;
    size_t group_next;
};

typedef enum agent_state {
    AGENT_INACTIVE = 0,
    AGENT_FULL,
    AGENT_AWAKE,
    AGENT_DORMANT,
} agent_state_t;

struct agent {
    char *id;
    bool active;
    agent_state_t state;
    size_t set_index; /* position in a->awake or a->dormant */
    resources_t total;
    resources_t free; /* total minus the records, kept as Mesos's unallocated resources */
    qty_t total_q;
    qty_t free_q;
    size_t free_reserved; /* entries of `free` reserved to a role */
    record_t *records;    /* agent list */
    filter_table_t filters;
    uint32_t free_set_gen; /* filters.last_gen when `free` is exactly that set's resources, or 0 */
    minheap_node_t wake;   /* in a->wakeups while dormant and some filter will expire */
};

typedef struct orphan {
    char *fid;
    record_t *records; /* owner list */
} orphan_t;

struct record {
    const char *fid; /* fw->id or the orphan's fid */
    framework_t *fw; /* NULL while the framework is not added */
    role_t *role;    /* the role the allocation was made for */
    agent_t *agent;
    packed_t res;         /* never empty; res.r is the view */
    uint32_t set_gen;     /* agent->filters.last_gen when res is exactly that set's, or 0 */
    record_t *agent_next; /* agent list */
    record_t **owner_head;
    record_t *owner_prev, *owner_next;
};

typedef struct agent_set {
    agent_t **items;
    size_t count;
} agent_set_t;

struct allocator {
    idmap_t frameworks; /* id -> framework_t */
    idmap_t agents;     /* id -> agent_t */
    idmap_t roles;      /* path -> role_t, the root excluded */
    idmap_t orphans;    /* framework id -> orphan_t */
    role_t *root;

    framework_t **fw_slots; /* slot -> framework or NULL */
    uint32_t *fw_epochs;    /* slot -> epoch; bumped by revive, deactivation and removal */
    uint32_t *fw_free;      /* free slots (a stack) */
    size_t fw_slot_count;   /* slots handed out so far */
    size_t fw_slot_cap;
    size_t fw_free_count;
    uint64_t fw_seq;
    uint32_t member_uid; /* the last member uid handed out */

    /* Room for every agent is reserved in these when it is added, so that state changes
     * never allocate. */
    agent_set_t awake;
    agent_set_t dormant;
    minheap_t wakeups; /* dormant agents by first filter expiry */
    agent_t **visit;   /* cycle scratch: the shuffled awake agents */
    size_t agent_cap;  /* capacity of awake, dormant and visit */

    char *scalar_names[ALLOC_SCALARS_MAX];
    int scalar_count;
    qty_t total;                         /* over active agents */
    double inv_total[ALLOC_SCALARS_MAX]; /* 1 / total, 0 where the total is 0 */
    qty_t free_active;                   /* unallocated on active agents */
    bool shares_stale;                   /* totals changed since the sorters were keyed */

    uint64_t rng;              /* agent shuffling; fixed seed, so runs are reproducible */
    uint64_t cycle;            /* cycles run */
    framework_t **grant_fw;    /* cycle scratch: framework of each new grant */
    allocator_grant_t *staged; /* cycle scratch: grants while grouping */
    size_t grant_cap;          /* capacity of grant_fw and staged */
};

/* ---- quantity.c ---- */
void qty_add(qty_t *a, const qty_t *b, int sign);
void qty_of(allocator_t *a, const resources_t *r, qty_t *out);
double qty_share(const allocator_t *a, const qty_t *q);
bool qty_allocatable(const qty_t *q);
int scalar_intern(allocator_t *a, const char *name);
int scalar_find(const allocator_t *a, const char *name);
/* The active agents' totals changed by sign * q. */
void totals_change(allocator_t *a, const qty_t *q, int sign);

/* ---- roles.c ---- */
bool role_name_valid(const char *role);
bool role_covers(const char *ancestor, const char *path); /* ancestor or the same role */
role_t *role_find(const allocator_t *a, const char *path);
actor_err_t role_obtain(allocator_t *a, const char *path, role_t **out);
void role_release(allocator_t *a, role_t *r);
void role_charge(allocator_t *a, role_t *r, const qty_t *q, int sign);
void role_offerable(role_t *r, long delta);
actor_err_t role_tree_new(allocator_t *a);
void role_tree_free(allocator_t *a);
void role_set_weight(allocator_t *a, role_t *r, double weight);
/* Re-keys every sorter after the totals changed. */
void roles_resort(allocator_t *a);

/* ---- frameworks.c ---- */
framework_t *framework_find(const allocator_t *a, const char *id);
member_t *member_find(const framework_t *fw, const role_t *r);
/* fw was allocated (sign +1) or released (-1) q for role. */
void framework_charge(allocator_t *a, framework_t *fw, role_t *role, const qty_t *q, int sign);
double member_key(const allocator_t *a, const member_t *m);
void frameworks_free(allocator_t *a);

/* ---- agents.c ---- */
agent_t *agent_find(const allocator_t *a, const char *id);
/* free changed: recount free_q and free_reserved, then set the state from it. */
void agent_free_changed(allocator_t *a, agent_t *ag);
/* No framework could take ag's free resources at `now`: it sleeps. */
void agent_sleep(allocator_t *a, agent_t *ag, double now);
void agent_set_state(allocator_t *a, agent_t *ag, agent_state_t state);
void agents_wake_all(allocator_t *a);
void agents_wake_due(allocator_t *a, double now);
void agents_free(allocator_t *a);

/* ---- records.c ---- */
record_t *record_find(const agent_t *ag, const char *fid, const role_t *role);
/* A new record of res (copied; q is qty_of(res)) for fid on ag, charged to fw when the
 * framework is known (fw not NULL), else kept as an orphan of fid. set_gen: ag's filter set
 * generation that res is exactly (agent.free_set_gen), or 0. */
actor_err_t record_new(allocator_t *a, agent_t *ag, framework_t *fw, const char *fid, role_t *role,
                       const resources_t *res, const qty_t *q, uint32_t set_gen);
/* Adds res to fid's record for role on ag, creating it when needed (as record_new; a record
 * that grows forgets its set_gen). */
actor_err_t record_grow(allocator_t *a, agent_t *ag, framework_t *fw, const char *fid, role_t *role,
                        const resources_t *res, const qty_t *q, uint32_t set_gen);
/* Frees rec, uncharging its framework. The agent's free resources are the caller's concern. */
void record_free(allocator_t *a, record_t *rec);
/* The framework of orphan records of fw->id is now added: they become fw's. */
void records_adopt(allocator_t *a, framework_t *fw);
void orphans_free(allocator_t *a);

#endif
