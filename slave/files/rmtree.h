/*
 * rmtree.h: removing a directory tree, for the agent's garbage collector (gc.h).
 *
 * rmtree() removes a tree the way Mesos's os::rmdir(path, recursive, removeRoot,
 * continueOnError) does: it keeps going past entries it cannot remove, so that as much space as
 * possible is freed, and reports the first failure. It never follows a symbolic link: links are
 * removed, not their targets, and every directory is opened relative to its parent with
 * O_NOFOLLOW, so a task that swaps a directory for a link while it runs cannot steer the
 * removal outside the tree. It holds one open directory per level of depth.
 */
#ifndef SLAVE_FILES_RMTREE_H
#define SLAVE_FILES_RMTREE_H

#include <stdbool.h>
#include <stddef.h>

#include "actor/error.h"

/* Asked before each entry; true stops the removal (ACTOR_ECLOSED). Runs on rmtree's thread. */
typedef bool (*rmtree_cancel_fn)(void *arg);

/* Removes path: a directory with everything below it, or a file or link. A path that does not
 * exist is already removed (ACTOR_OK). Blocks on the disk: never call it from a handler.
 * cancel may be NULL. Errors: ACTOR_EINVAL (path NULL or empty), ACTOR_ESYSTEM when something
 * could not be removed (err, if not NULL, receives the first failure: "unlink /x/y: Permission
 * denied"; the rest of the tree is removed all the same), ACTOR_ECLOSED when cancelled. */
actor_err_t rmtree(const char *path, rmtree_cancel_fn cancel, void *arg, char *err, size_t err_len);

#endif
