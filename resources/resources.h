/*
 * resources.h: resource arithmetic and agent attributes, Mesos's `Resources` and `Attributes`
 * classes (src/common/resources.cpp, src/common/attributes.cpp) in C.
 *
 * The master (offers, the registry), the allocator (what is free on each agent) and the agent
 * (its --resources and --attributes flags, what its tasks use) all need the same arithmetic, so
 * it lives in its own top-level module (DESIGN.md section 3) that depends on actor/ (errors,
 * jansson) and proto/ (the protobuf types it converts to and from) only.
 *
 * A resources_t is a small C collection of its own, not an array of Mesos__Resource, because
 * the arithmetic wants normalized values that protobuf-c cannot hold: a scalar is kept as an
 * integer number of thousandths (Mesos's fixed-point rule: values are rounded to three decimals,
 * so 0.1 added ten times is exactly 1), ranges are kept sorted and coalesced, set items sorted
 * and unique, and there is one entry per (name, role). Empty entries (a zero scalar, no ranges,
 * no items) are dropped, as Mesos drops them. resources_to_proto() and resources_from_proto()
 * convert at the edges, where messages are built and read.
 *
 * The text form is the agent's --resources flag: `cpus:4;mem:1024;ports:[31000-32000]`, a role
 * as `cpus(role):2`, ranges `[a-b,c-d]`, sets `{a,b}`. Entries with the same name and role are
 * merged (`cpus:1;cpus:2` is `cpus:3`). Spaces are ignored around names and roles and anywhere in
 * a value, as Mesos ignores them; a token that is only whitespace is skipped.
 *
 * Errors are actor_err_t: ACTOR_EINVAL for malformed input (with a message in the caller's
 * buffer when one is given), ACTOR_ENOMEM, ACTOR_ETOOBIG when a scalar sum overflows. Every
 * function here is pure computation on caller-owned values: none blocks, all may be called from
 * a handler, and different values may be used from different threads at once.
 */
#ifndef RESOURCES_RESOURCES_H
#define RESOURCES_RESOURCES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "actor/error.h"
#include "mesos.pb-c.h"

/* The role of unreserved resources. */
#define RESOURCES_ROLE_ANY "*"
/* A scalar is stored as this many units per whole (three decimals, as Mesos keeps). */
#define RESOURCES_SCALAR_UNIT 1000

/* Value types, numbered as Mesos's Value.Type. */
typedef enum resources_type {
    RESOURCES_SCALAR = 0,
    RESOURCES_RANGES = 1,
    RESOURCES_SET = 2,
    RESOURCES_TEXT = 3, /* attributes only */
} resources_type_t;

/* A closed interval: [31000-32000] holds 1001 ports. */
typedef struct resources_range {
    uint64_t begin;
    uint64_t end; /* >= begin */
} resources_range_t;

/* One resource of a collection. Read-only for users; change it through the functions below. */
typedef struct resources_entry {
    char *name;                /* "cpus", "mem", "ports", ... never empty */
    char *role;                /* RESOURCES_ROLE_ANY when unreserved */
    resources_type_t type;     /* SCALAR, RANGES or SET */
    int64_t scalar;            /* SCALAR: thousandths, > 0 */
    resources_range_t *ranges; /* RANGES: sorted, disjoint, never adjacent, at least one */
    size_t range_count;
    char **items; /* SET: sorted by strcmp, unique, at least one */
    size_t item_count;
} resources_entry_t;

/* A collection of resources, in the order names were first added. Caller storage: init/fini. */
typedef struct resources {
    resources_entry_t *entries;
    size_t count;
} resources_t;

/* Makes r an empty collection. Cannot fail. */
void resources_init(resources_t *r);

/* Frees what r holds and leaves it empty (it may be reused). Cannot fail. */
void resources_fini(resources_t *r);

/* Replaces the contents of dst (initialized) with a copy of src. On error dst is unchanged.
 * Returns ACTOR_OK or ACTOR_ENOMEM. */
actor_err_t resources_copy(resources_t *dst, const resources_t *src);

/* Parses the --resources text form into out, which the call initializes; resources without a
 * role get default_role (NULL means RESOURCES_ROLE_ANY). On ACTOR_EINVAL a message such as
 * "Failed to parse resource 'cpus:x': ..." is written to err (err_len bytes, always terminated;
 * err may be NULL). On any error out is empty. Call resources_fini(out) in every case. */
actor_err_t resources_parse(resources_t *out, const char *text, const char *default_role, char *err,
                            size_t err_len);

/* a += b. Scalars add, ranges and sets unite. ACTOR_EINVAL when a name has different types in a
 * and b; ACTOR_ETOOBIG when a scalar overflows; ACTOR_ENOMEM. On error a is unchanged. */
actor_err_t resources_add(resources_t *a, const resources_t *b);

/* a -= b, per (name, role): scalars subtract (an entry at or below zero is removed, as Mesos
 * removes it), ranges and sets lose what b has. What b holds beyond a is ignored, as in Mesos;
 * check resources_contains() first when that matters. Returns ACTOR_OK or ACTOR_ENOMEM; on
 * error a is unchanged. */
actor_err_t resources_subtract(resources_t *a, const resources_t *b);

/* True when b is a subset of a: every entry of b is covered by the entry of a with the same
 * name, role and type. The empty collection is contained in everything. */
bool resources_contains(const resources_t *a, const resources_t *b);

/* True when a and b hold exactly the same resources (order does not matter). */
bool resources_equal(const resources_t *a, const resources_t *b);

/* True when r holds nothing. */
bool resources_empty(const resources_t *r);

/* The sum over all roles of scalar resource name ("cpus", "mem" in MB, "disk" in MB); 0 when
 * there is none. */
double resources_scalar(const resources_t *r, const char *name);

/* The union over all roles of ranges resource name ("ports"), sorted and coalesced, in a new
 * array the caller frees with free(); *out is NULL and *count 0 when there is none. Returns
 * ACTOR_OK or ACTOR_ENOMEM. */
actor_err_t resources_ranges(const resources_t *r, const char *name, resources_range_t **out,
                             size_t *count);

/* Renders r in the text form resources_parse() reads (`cpus:4;mem:1024;ports:[31000-32000]`,
 * `cpus(role):2`); "" for an empty r. *out is a new string the caller frees with free().
 * Returns ACTOR_OK or ACTOR_ENOMEM. */
actor_err_t resources_format(const resources_t *r, char **out);

/* Renders r as Mesos's v0 JSON object (/state, /slaves): one member per name, summed over roles;
 * scalars as reals, ranges as "[31000-31004, 31006-32000]", sets as "{a, b}"; "cpus", "gpus",
 * "mem" and "disk" are always present (0.0 when absent), as Mesos shows them. *out is a new
 * reference. Returns ACTOR_OK, ACTOR_EINVAL (a name with two types) or ACTOR_ENOMEM. */
actor_err_t resources_to_json(const resources_t *r, json_t **out);

/* Converts r to protobuf messages: a new array of *count new Mesos__Resource, to be released
 * with resources_proto_free() (or each with protobuf_c_message_free_unpacked(m, NULL)). A role
 * other than "*" becomes one STATIC entry in `reservations`, as Mesos's parser makes it.
 * Returns ACTOR_OK or ACTOR_ENOMEM (nothing to free then). */
actor_err_t resources_to_proto(const resources_t *r, Mesos__Resource ***out, size_t *count);

/* Frees an array made by resources_to_proto(). Cannot fail; items may be NULL. */
void resources_proto_free(Mesos__Resource **items, size_t count);

/* Builds out (initialized by the call) from protobuf messages, borrowed for the call. The role
 * is the last entry of `reservations`, else `role`. Invalid messages (a missing value, negative
 * or non-finite scalar, begin > end, duplicate set items, an empty name, a TEXT type) give
 * ACTOR_EINVAL with a message in err. On error out is empty; call resources_fini(out) always. */
actor_err_t resources_from_proto(resources_t *out, Mesos__Resource *const *items, size_t count,
                                 char *err, size_t err_len);

/* ---- Attributes (--attributes) ---- */

/* One agent attribute. */
typedef struct resources_attribute {
    char *name;
    resources_type_t type;     /* SCALAR, RANGES or TEXT */
    double scalar;             /* SCALAR */
    resources_range_t *ranges; /* RANGES: sorted, coalesced */
    size_t range_count;
    char *text; /* TEXT */
} resources_attribute_t;

/* The attributes of an agent, in flag order (duplicates kept, as Mesos keeps them). */
typedef struct resources_attributes {
    resources_attribute_t *entries;
    size_t count;
} resources_attributes_t;

/* Makes a empty. Cannot fail. */
void resources_attributes_init(resources_attributes_t *a);

/* Frees what a holds and leaves it empty. Cannot fail. */
void resources_attributes_fini(resources_attributes_t *a);

/* Parses the --attributes text form (`rack:r1;zone:a;level:2;ids:[1-4]`, tokens split on ';'
 * and newlines, each at its first ':') into out, which the call initializes. The type is
 * inferred as Mesos infers it: a number is a SCALAR, `[..]` RANGES, anything else TEXT (with
 * spaces removed). A token without a name or value, or a set value, gives ACTOR_EINVAL with a
 * message in err. On error out is empty; call resources_attributes_fini(out) always. */
actor_err_t resources_attributes_parse(resources_attributes_t *out, const char *text, char *err,
                                       size_t err_len);

/* Renders a as the text form it was parsed from (`rack:r1;level:2`). *out is new, freed by the
 * caller. Returns ACTOR_OK or ACTOR_ENOMEM. */
actor_err_t resources_attributes_format(const resources_attributes_t *a, char **out);

/* Renders a as Mesos's v0 JSON object: scalars as reals, ranges as "[1-4]", text as strings.
 * *out is a new reference. Returns ACTOR_OK or ACTOR_ENOMEM. */
actor_err_t resources_attributes_to_json(const resources_attributes_t *a, json_t **out);

/* Converts a to a new array of *count new Mesos__Attribute, released with
 * resources_attributes_proto_free(). Returns ACTOR_OK or ACTOR_ENOMEM (nothing to free then). */
actor_err_t resources_attributes_to_proto(const resources_attributes_t *a, Mesos__Attribute ***out,
                                          size_t *count);

/* Frees an array made by resources_attributes_to_proto(). Cannot fail; items may be NULL. */
void resources_attributes_proto_free(Mesos__Attribute **items, size_t count);

#endif
