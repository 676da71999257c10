/*
 * master_address.h: every --master flag (agents, frameworks, Marathon) names the master by its
 * HTTP address; its actor PID follows from it (DESIGN.md section 2).
 */
#ifndef ACTOR_MASTER_ADDRESS_H
#define ACTOR_MASTER_ADDRESS_H

#include <stddef.h>

#include "actor/error.h"
#include "actor/pid.h"

/* Turns a --master value into the master's PID: "HOST:PORT" is the master's HTTP address, whose
 * actor port is PORT + 10000, so "127.0.0.1:5050" gives master@127.0.0.1:15050 (a host name is
 * resolved to an IPv4 address, "localhost" included); a PID ("master@IP:PORT") is taken as it is.
 * Returns ACTOR_OK, or ACTOR_EINVAL with a one-line message in err (zk:// comes later). May block
 * on name resolution: call it from main or before an actor starts, not from a handler. */
actor_err_t actor_master_pid(const char *value, actor_pid_t *pid, char *err, size_t err_len);

#endif
