/* error.c: names of the runtime's error values. */
#include "actor/error.h"

const char *actor_strerror(actor_err_t err)
{
    switch (err) {
    case ACTOR_OK:
        return "OK";
    case ACTOR_ENOMEM:
        return "Out of memory";
    case ACTOR_EINVAL:
        return "Invalid argument";
    case ACTOR_ENOENT:
        return "Not found";
    case ACTOR_EEXIST:
        return "Already exists";
    case ACTOR_ECLOSED:
        return "Closed";
    case ACTOR_ETOOBIG:
        return "Too big";
    case ACTOR_EPROTO:
        return "Protocol error";
    case ACTOR_ETIMEDOUT:
        return "Timed out";
    case ACTOR_EBUSY:
        return "Busy";
    case ACTOR_EADDRINUSE:
        return "Address in use";
    case ACTOR_ECONNREFUSED:
        return "Connection refused";
    case ACTOR_ESYSTEM:
        return "System call failed";
    case ACTOR_ERR_COUNT:
        break;
    }
    return "Unknown error";
}
