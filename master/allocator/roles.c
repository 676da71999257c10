/*
 * roles.c: the role tree and its DRF order. A node's key among its siblings is its subtree's
 * dominant share divided by its weight, ties broken by path; a node's own frameworks sit among
 * its children as the `self` leaf, keyed by the share of what was allocated for exactly this
 * role (Mesos's hierarchical DRFSorter, with its virtual "." leaf). An allocation for a role
 * moves the role's self leaf and every node on its path to the root, O(depth log n).
 */
#include <stdlib.h>
#include <string.h>

#include "master/allocator/allocator_int.h"

/* Mesos's roles::validate: no empty name or component, no "." or "..", no component starting
 * with '-', no white space or control characters; "*" only as the whole role. */
bool role_name_valid(const char *role)
{
    if (role == NULL || role[0] == '\0')
        return false;
    if (strcmp(role, "*") == 0)
        return true;
    const char *part = role;
    for (;;) {
        size_t len = strcspn(part, "/");
        if (len == 0 || part[0] == '-' || (len == 1 && part[0] == '.') ||
            (len == 2 && part[0] == '.' && part[1] == '.'))
            return false;
        for (size_t i = 0; i < len; i++) {
            unsigned char c = (unsigned char)part[i];
            if (c <= ' ' || c == 0x7f || c == '*')
                return false;
        }
        if (part[len] == '\0')
            return true;
        part += len + 1;
    }
}

bool role_covers(const char *ancestor, const char *path)
{
    size_t len = strlen(ancestor);
    return strncmp(ancestor, path, len) == 0 && (path[len] == '\0' || path[len] == '/');
}

static double own_key(const allocator_t *a, const role_t *r)
{
    return qty_share(a, &r->own_q) / r->weight;
}

static double subtree_key(const allocator_t *a, const role_t *r)
{
    return qty_share(a, &r->subtree_q) / r->weight;
}

role_t *role_find(const allocator_t *a, const char *path)
{
    return idmap_get(&a->roles, path);
}

static role_t *role_alloc(const char *path)
{
    role_t *r = calloc(1, sizeof(*r));
    if (r == NULL)
        return NULL;
    r->path = strdup(path);
    if (r->path == NULL) {
        free(r);
        return NULL;
    }
    r->weight = 1.0;
    sortlist_init(&r->children);
    sortlist_init(&r->members);
    r->entry.name = r->path;
    r->self.name = r->path;
    return r;
}

static void role_dealloc(role_t *r)
{
    free(r->path);
    free(r);
}

/* The parent of path ("a/b" for "a/b/c", the root for "a"), created when needed. */
static actor_err_t parent_obtain(allocator_t *a, const char *path, role_t **out)
{
    const char *slash = strrchr(path, '/');
    if (slash == NULL) {
        *out = a->root;
        return ACTOR_OK;
    }
    char *parent_path = strndup(path, (size_t)(slash - path));
    if (parent_path == NULL)
        return ACTOR_ENOMEM;
    actor_err_t rc = role_obtain(a, parent_path, out);
    free(parent_path);
    return rc;
}

actor_err_t role_obtain(allocator_t *a, const char *path, role_t **out)
{
    *out = role_find(a, path);
    if (*out != NULL)
        return ACTOR_OK;
    role_t *parent;
    actor_err_t rc = parent_obtain(a, path, &parent);
    if (rc != ACTOR_OK)
        return rc;
    role_t *r = role_alloc(path);
    if (r == NULL || idmap_put(&a->roles, r->path, r) != ACTOR_OK) {
        if (r != NULL)
            role_dealloc(r);
        role_release(a, parent);
        return ACTOR_ENOMEM;
    }
    r->parent = parent;
    parent->child_count++;
    sortlist_insert(&r->children, &r->self);
    sortlist_insert(&parent->children, &r->entry);
    *out = r;
    return ACTOR_OK;
}

void role_release(allocator_t *a, role_t *r)
{
    while (r != a->root && r->member_count == 0 && r->record_count == 0 && r->child_count == 0 &&
           !r->weight_set) {
        role_t *parent = r->parent;
        sortlist_remove(&parent->children, &r->entry);
        idmap_remove(&a->roles, r->path);
        parent->child_count--;
        role_dealloc(r);
        r = parent;
    }
}

/* Moves r's self leaf and every node from r up to the root to their places. */
static void rekey_path(allocator_t *a, role_t *r)
{
    sortlist_rekey(&r->children, &r->self, own_key(a, r));
    for (role_t *x = r; x != a->root; x = x->parent)
        sortlist_rekey(&x->parent->children, &x->entry, subtree_key(a, x));
}

void role_charge(allocator_t *a, role_t *r, const qty_t *q, int sign)
{
    qty_add(&r->own_q, q, sign);
    for (role_t *x = r; x != a->root; x = x->parent)
        qty_add(&x->subtree_q, q, sign);
    rekey_path(a, r);
}

void role_offerable(role_t *r, long delta)
{
    for (role_t *x = r; x != NULL; x = x->parent)
        x->offerable = (size_t)((long)x->offerable + delta);
}

void role_set_weight(allocator_t *a, role_t *r, double weight)
{
    r->weight = weight;
    r->weight_set = true;
    sortlist_rekey(&r->children, &r->self, own_key(a, r));
    sortlist_rekey(&r->parent->children, &r->entry, subtree_key(a, r));
}

actor_err_t role_tree_new(allocator_t *a)
{
    idmap_init(&a->roles);
    a->root = role_alloc("");
    return a->root != NULL ? ACTOR_OK : ACTOR_ENOMEM;
}

void role_tree_free(allocator_t *a)
{
    size_t pos = 0;
    role_t *r;
    while ((r = idmap_next(&a->roles, &pos)) != NULL)
        role_dealloc(r);
    idmap_fini(&a->roles);
    if (a->root != NULL)
        role_dealloc(a->root);
    a->root = NULL;
}

/* ---- re-keying everything after the cluster totals changed ---- */

typedef struct resort_ctx {
    allocator_t *a;
    role_t *role;
} resort_ctx_t;

static double child_key_of(const sortlist_node_t *n, void *ctx)
{
    resort_ctx_t *c = ctx;
    if (n == &c->role->self)
        return own_key(c->a, c->role);
    return subtree_key(c->a, container_of(n, role_t, entry));
}

static double member_key_of(const sortlist_node_t *n, void *ctx)
{
    return member_key(ctx, container_of(n, member_t, node));
}

static void resort(allocator_t *a, role_t *r)
{
    resort_ctx_t ctx = {a, r};
    sortlist_rebuild(&r->members, member_key_of, a);
    sortlist_rebuild(&r->children, child_key_of, &ctx);
    for (sortlist_node_t *n = sortlist_first(&r->children); n != NULL; n = sortlist_next(n)) {
        if (n != &r->self)
            resort(a, container_of(n, role_t, entry));
    }
}

void roles_resort(allocator_t *a)
{
    resort(a, a->root);
    a->shares_stale = false;
}
