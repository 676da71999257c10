/* pid.c: parsing and printing PIDs; see pid.h. */
#include "actor/pid.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool id_is_valid(const char *id, size_t len)
{
    if (len >= ACTOR_ID_MAX)
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)id[i];
        if (c <= ' ' || c >= 0x7f || c == '@')
            return false;
    }
    return true;
}

actor_err_t actor_pid_make(actor_pid_t *pid, const char *id, uint32_t ip, uint16_t port)
{
    size_t len = strlen(id);
    if (!id_is_valid(id, len))
        return ACTOR_EINVAL;
    memset(pid, 0, sizeof(*pid));
    memcpy(pid->id, id, len + 1);
    pid->ip = ip;
    pid->port = port;
    return ACTOR_OK;
}

actor_err_t actor_pid_parse(const char *text, actor_pid_t *pid)
{
    const char *at = strchr(text, '@');
    if (at == NULL || at == text)
        return ACTOR_EINVAL;
    size_t id_len = (size_t)(at - text);
    if (!id_is_valid(text, id_len))
        return ACTOR_EINVAL;

    const char *colon = strrchr(at, ':');
    if (colon == NULL)
        return ACTOR_EINVAL;
    char host[16];
    size_t host_len = (size_t)(colon - at - 1);
    if (host_len == 0 || host_len >= sizeof(host))
        return ACTOR_EINVAL;
    memcpy(host, at + 1, host_len);
    host[host_len] = '\0';
    struct in_addr addr;
    if (inet_pton(AF_INET, host, &addr) != 1)
        return ACTOR_EINVAL;

    char *end;
    const char *port_text = colon + 1;
    if (*port_text < '0' || *port_text > '9')
        return ACTOR_EINVAL;
    unsigned long port = strtoul(port_text, &end, 10);
    if (*end != '\0' || port > 65535)
        return ACTOR_EINVAL;

    memset(pid, 0, sizeof(*pid));
    memcpy(pid->id, text, id_len);
    pid->ip = ntohl(addr.s_addr);
    pid->port = (uint16_t)port;
    return ACTOR_OK;
}

char *actor_pid_format(const actor_pid_t *pid, char *buf, size_t len)
{
    uint32_t ip = pid->ip;
    snprintf(buf, len, "%s@%u.%u.%u.%u:%u", pid->id, ip >> 24, (ip >> 16) & 0xff, (ip >> 8) & 0xff,
             ip & 0xff, pid->port);
    return buf;
}

bool actor_pid_equal(const actor_pid_t *a, const actor_pid_t *b)
{
    return a->ip == b->ip && a->port == b->port && strcmp(a->id, b->id) == 0;
}

bool actor_pid_is_none(const actor_pid_t *pid)
{
    return pid->id[0] == '\0';
}
