/*
 * uuid.c: random version 4 UUIDs from getrandom(2).
 */
#include "actor/uuid.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/random.h>

void actor_uuid_bytes(uint8_t out[16])
{
    if (getrandom(out, 16, 0) != 16) {
        /* getrandom only fails before the kernel's pool is ready at boot; uniqueness is all
         * that is needed here, not secrecy. */
        for (size_t i = 0; i < 16; i++)
            out[i] = (uint8_t)rand();
    }
    out[6] = (uint8_t)((out[6] & 0x0f) | 0x40);
    out[8] = (uint8_t)((out[8] & 0x3f) | 0x80);
}

void actor_uuid_format(const uint8_t b[16], char out[ACTOR_UUID_TEXT_LEN])
{
    snprintf(out, ACTOR_UUID_TEXT_LEN,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
             b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
             b[15]);
}

void actor_uuid_text(char out[ACTOR_UUID_TEXT_LEN])
{
    uint8_t b[16];
    actor_uuid_bytes(b);
    actor_uuid_format(b, out);
}
