/*
 * error.h: the one error enum of the runtime and of the components built on it.
 *
 * Fallible functions return an actor_err_t (0 = ACTOR_OK) and write their results through
 * out-pointers, as nng's functions return nng_err. actor_strerror() names each value for logs
 * and HTTP answers. Functions that cannot fail return void and say so.
 */
#ifndef ACTOR_ERROR_H
#define ACTOR_ERROR_H

typedef enum actor_err {
    ACTOR_OK = 0,
    ACTOR_ENOMEM,     /* out of memory */
    ACTOR_EINVAL,     /* an argument or an input is malformed */
    ACTOR_ENOENT,     /* no such actor, route, key or file */
    ACTOR_EEXIST,     /* the name, route or key is taken */
    ACTOR_ECLOSED,    /* the object was closed or the runtime stopped */
    ACTOR_ETOOBIG,    /* over a configured size limit */
    ACTOR_EPROTO,     /* a peer broke the wire protocol */
    ACTOR_ETIMEDOUT,  /* a deadline passed */
    ACTOR_EBUSY,      /* the operation conflicts with one in progress */
    ACTOR_EADDRINUSE, /* the address is already bound */
    ACTOR_ECONNREFUSED,
    ACTOR_ESYSTEM, /* an operating system call failed; errno-level detail is in the log */
    ACTOR_ERR_COUNT
} actor_err_t;

/* Returns a static, human-readable description of err; never NULL. Thread-safe. */
const char *actor_strerror(actor_err_t err);

#endif
