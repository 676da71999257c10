/* isolation.c: the --isolation flag, parsed as Mesos's MesosContainerizer::create reads it. */
#include <stdio.h>
#include <string.h>

#include "slave/containerizer/containerizer_int.h"
#include "slave/containerizer/isolation.h"

/* Mesos's default --isolation. */
#define ISOLATION_DEFAULT   "posix/cpu,posix/mem"
#define ISOLATION_SUPPORTED "posix/cpu, posix/mem, cgroups/cpu, cgroups/mem, filesystem/posix"
/* Longest isolator name we look at; longer tokens are unknown by construction. */
#define ISOLATION_NAME_MAX 64

/* Turns on what name stands for; false when the name is unknown or unsupported. */
static bool apply_name(const char *name, isolation_t *out)
{
    if (strcmp(name, "posix/cpu") == 0)
        out->posix_cpu = true;
    else if (strcmp(name, "posix/mem") == 0)
        out->posix_mem = true;
    else if (strcmp(name, "cgroups/cpu") == 0)
        out->cgroups_cpu = true;
    else if (strcmp(name, "cgroups/mem") == 0)
        out->cgroups_mem = true;
    else if (strcmp(name, "filesystem/posix") == 0)
        out->filesystem_posix = true;
    else if (strcmp(name, "process") == 0)
        out->posix_cpu = out->posix_mem = true;
    else if (strcmp(name, "cgroups") == 0 || strcmp(name, "cgroups/all") == 0)
        out->cgroups_cpu = out->cgroups_mem = true;
    else
        return false;
    return true;
}

/* Copies the next comma-separated token of *cursor (empty tokens skipped, as Mesos's
 * strings::tokenize does) into name and advances *cursor. Returns its length, 0 at the end. */
static size_t next_token(const char **cursor, char *name, size_t name_len)
{
    const char *p = *cursor;
    while (*p == ',')
        p++;
    size_t len = strcspn(p, ",");
    *cursor = p + len;
    size_t copy = len < name_len - 1 ? len : name_len - 1;
    memcpy(name, p, copy);
    name[copy] = '\0';
    return len;
}

/* Whether the token [tok, tok+len) appears in value before tok. */
static bool seen_before(const char *value, const char *tok, size_t len)
{
    for (const char *p = value; p < tok;) {
        size_t plen = strcspn(p, ",");
        if (plen == len && memcmp(p, tok, len) == 0)
            return true;
        p += plen;
        if (*p == ',')
            p++;
    }
    return false;
}

actor_err_t isolation_parse(const char *value, isolation_t *out, char *err, size_t err_len)
{
    memset(out, 0, sizeof(*out));
    if (value == NULL)
        value = ISOLATION_DEFAULT;
    const char *cursor = value;
    char name[ISOLATION_NAME_MAX];
    for (;;) {
        const char *start = cursor + strspn(cursor, ",");
        size_t len = next_token(&cursor, name, sizeof(name));
        if (len == 0)
            break;
        if (seen_before(value, start, len)) {
            cz_errorf(err, err_len, "Duplicate entries found in --isolation flag '%s'", value);
            goto fail;
        }
        if (len >= sizeof(name) || !apply_name(name, out)) {
            cz_errorf(err, err_len, "Unknown or unsupported isolator '%.*s' (supported: %s)",
                      (int)len, start, ISOLATION_SUPPORTED);
            goto fail;
        }
    }
    out->filesystem_posix = true;
    return ACTOR_OK;
fail:
    memset(out, 0, sizeof(*out));
    return ACTOR_EINVAL;
}
