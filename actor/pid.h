/*
 * pid.h: actor PIDs, `id@ip:port` as libprocess's UPID.
 *
 * A PID names an actor: its id within its process ("master", "slave(1)") and the process's
 * actor-port address. PIDs are plain values: copy them freely. The runtime also keeps a hint in
 * each PID it hands out (slot and generation) so that local sends skip the name lookup; compare
 * PIDs with actor_pid_equal, never with memcmp.
 */
#ifndef ACTOR_PID_H
#define ACTOR_PID_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "actor/error.h"

#define ACTOR_ID_MAX 96 /* bytes of an id, NUL included */
/* Longest text form: id, '@', dotted quad, ':', port, NUL. */
#define ACTOR_PID_STRLEN (ACTOR_ID_MAX + 1 + 15 + 1 + 5 + 1)

typedef struct actor_pid {
    char id[ACTOR_ID_MAX]; /* NUL-terminated; empty for "nobody" */
    uint32_t ip;   /* IPv4, host byte order; 0 with port 0 for a runtime without transport */
    uint16_t port; /* the process's actor port */
    uint32_t slot; /* runtime hint: slot + 1 of a local actor, 0 = no hint */
    uint32_t gen;  /* runtime hint: generation of that slot */
} actor_pid_t;

/* Parses "id@a.b.c.d:port" into *pid (hints cleared). Errors: ACTOR_EINVAL. */
actor_err_t actor_pid_parse(const char *text, actor_pid_t *pid);

/* Writes the text form into buf (at least ACTOR_PID_STRLEN bytes); returns buf. */
char *actor_pid_format(const actor_pid_t *pid, char *buf, size_t len);

/* Same actor: same id, ip and port (hints ignored). */
bool actor_pid_equal(const actor_pid_t *a, const actor_pid_t *b);

/* True for the empty PID (no id). */
bool actor_pid_is_none(const actor_pid_t *pid);

/* Fills *pid with id at ip:port, hints cleared. Errors: ACTOR_EINVAL if id is too long or holds
 * '@'. */
actor_err_t actor_pid_make(actor_pid_t *pid, const char *id, uint32_t ip, uint16_t port);

#endif
