/*
 * uuid.h: random RFC 4122 (version 4) UUIDs, as Mesos names masters, containers, offers and
 * status updates.
 */
#ifndef ACTOR_UUID_H
#define ACTOR_UUID_H

#include <stdint.h>

#define ACTOR_UUID_TEXT_LEN 37 /* 36 characters and the NUL */

/* Writes 16 random bytes shaped as a version 4 UUID. Thread-safe; cannot fail. */
void actor_uuid_bytes(uint8_t out[16]);

/* Writes a new UUID's text form ("8-4-4-4-12" lower-case hex). Thread-safe; cannot fail. */
void actor_uuid_text(char out[ACTOR_UUID_TEXT_LEN]);

/* Writes the text form of 16 UUID bytes. */
void actor_uuid_format(const uint8_t bytes[16], char out[ACTOR_UUID_TEXT_LEN]);

#endif
