/*
 * containerizer_int.h: helpers shared by the files of slave/containerizer/ (not for use outside
 * it): error messages and reading small files whole.
 *
 * Files:
 *   isolation.c  --isolation parsing
 *   posix.c      usage of a process tree from /proc
 *   util.c       these helpers
 *   cgroups.c    the cgroups.h interface, common to both versions (cgroups_int.h)
 *   cgroupfs.c   control-file reads and writes, directories
 *   cgroups_v1.c / cgroups_v2.c  each version's hierarchies, limits, usage, OOM and kill
 */
#ifndef SLAVE_CONTAINERIZER_CONTAINERIZER_INT_H
#define SLAVE_CONTAINERIZER_CONTAINERIZER_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "actor/error.h"

/* Formats a message into err (err_len bytes, always terminated); err may be NULL. */
void cz_errorf(char *err, size_t err_len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Maps the errno of a failed system call to an actor_err_t: ENOENT to ACTOR_ENOENT, EEXIST to
 * ACTOR_EEXIST, ENOMEM to ACTOR_ENOMEM, EBUSY to ACTOR_EBUSY, the rest to ACTOR_ESYSTEM. */
actor_err_t cz_errno(int errnum);

/* Reads the whole file at path into a NUL-terminated heap buffer (*out, freed by the caller;
 * *len bytes before the NUL, len may be NULL). Errors from cz_errno with "Failed to read PATH:
 * REASON" in err; errno is kept for the caller. */
actor_err_t cz_read_file(const char *path, char **out, size_t *len, char *err, size_t err_len);

/* Finds the line "KEY VALUE" of a flat keyed file (memory.stat, cpu.stat, memory.events) and
 * parses VALUE as an unsigned decimal into *value. Returns false when the key is absent or its
 * value does not parse. */
bool cz_key_u64(const char *text, const char *key, uint64_t *value);

#endif
