/*
 * master_address.c: from a --master flag to the master's actor PID.
 */
#include "actor/master_address.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define ACTOR_PORT_OFFSET 10000 /* the actor port is the HTTP port + 10000 (DESIGN.md 2) */

static actor_err_t resolve(const char *host, uint32_t *ip)
{
    struct in_addr addr;
    if (inet_pton(AF_INET, host, &addr) == 1) {
        *ip = ntohl(addr.s_addr);
        return ACTOR_OK;
    }
    struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM};
    struct addrinfo *found = NULL;
    if (getaddrinfo(host, NULL, &hints, &found) != 0 || found == NULL)
        return ACTOR_EINVAL;
    *ip = ntohl(((const struct sockaddr_in *)found->ai_addr)->sin_addr.s_addr);
    freeaddrinfo(found);
    return ACTOR_OK;
}

actor_err_t actor_master_pid(const char *value, actor_pid_t *pid, char *err, size_t err_len)
{
    if (value == NULL || *value == '\0') {
        snprintf(err, err_len, "--master is required (HOST:PORT of the master)");
        return ACTOR_EINVAL;
    }
    if (strncmp(value, "zk://", 5) == 0) {
        snprintf(err, err_len,
                 "--master=%s: ZooKeeper masters are not supported yet; name the master as "
                 "HOST:PORT",
                 value);
        return ACTOR_EINVAL;
    }
    if (strchr(value, '@') != NULL) {
        if (actor_pid_parse(value, pid) != ACTOR_OK) {
            snprintf(err, err_len, "--master=%s: not a PID (name@IP:PORT)", value);
            return ACTOR_EINVAL;
        }
        return ACTOR_OK;
    }
    const char *colon = strrchr(value, ':');
    char *end = NULL;
    unsigned long port = colon != NULL ? strtoul(colon + 1, &end, 10) : 0;
    if (colon == NULL || colon == value || end == colon + 1 || *end != '\0' || port == 0 ||
        port + ACTOR_PORT_OFFSET > 65535 || colon[1] == '-' || colon[1] == '+') {
        snprintf(err, err_len, "--master=%s: expected HOST:PORT (the master's HTTP address)",
                 value);
        return ACTOR_EINVAL;
    }
    char host[256];
    uint32_t ip = 0;
    snprintf(host, sizeof(host), "%.*s", (int)(colon - value), value);
    if (resolve(host, &ip) != ACTOR_OK) {
        snprintf(err, err_len, "--master=%s: cannot resolve '%s' to an IPv4 address", value, host);
        return ACTOR_EINVAL;
    }
    return actor_pid_make(pid, "master", ip, (uint16_t)(port + ACTOR_PORT_OFFSET));
}
