/*
 * frame.h: the wire format of the actor transport, and a streaming decoder for it.
 *
 * A connection carries messages one way, from the process that dialled to the one that accepted
 * (as libprocess's do). It opens with the 8-byte preamble FRAME_PREAMBLE, then holds records:
 *
 *     u32 little-endian  length of the rest of the record
 *     u8 n, n bytes      sender PID, "id@ip:port"
 *     u8 n, n bytes      receiver id
 *     u8 n, n bytes      full protobuf type name
 *     the rest           the packed message
 *
 * Many records travel in one write when they queue up for the same peer. The decoder is fed
 * whatever a read returned and calls back once per complete record, with pointers into the fed
 * bytes when a record lies whole inside them (no copy) or into its own buffer otherwise. It knows
 * nothing about sockets or actors, so the fuzzer drives it directly.
 */
#ifndef ACTOR_FRAME_H
#define ACTOR_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "actor/error.h"

#define FRAME_PREAMBLE     "ACTR\x00\x01\r\n"
#define FRAME_PREAMBLE_LEN 8
#define FRAME_NAME_MAX     255 /* each of the three names */

typedef struct frame_record {
    const char *from; /* not NUL-terminated */
    size_t from_len;
    const char *to;
    size_t to_len;
    const char *type;
    size_t type_len;
    const uint8_t *payload;
    size_t payload_len;
} frame_record_t;

/* Bytes one record takes on the wire. */
size_t frame_record_size(size_t from_len, size_t to_len, size_t type_len, size_t payload_len);

/* Writes a record's header (everything but the payload) at out, which has room for
 * frame_record_size(...) bytes; returns where the payload goes. Names must be at most
 * FRAME_NAME_MAX bytes (the caller checks). */
uint8_t *frame_record_write_header(uint8_t *out, const char *from, size_t from_len, const char *to,
                                   size_t to_len, const char *type, size_t type_len,
                                   size_t payload_len);

typedef void (*frame_record_fn)(const frame_record_t *record, void *arg);

typedef struct frame_decoder {
    size_t max_record;    /* records longer than this are skipped and counted */
    size_t preamble_seen; /* bytes of the preamble checked so far */
    uint64_t skip;        /* bytes of an oversized record still to discard */
    uint8_t *buf;         /* a record split across feeds */
    size_t len, cap;
    uint64_t records;   /* complete records delivered */
    uint64_t oversized; /* records skipped for their size */
} frame_decoder_t;

/* Prepares a decoder; max_record bounds the length field. Cannot fail. */
void frame_decoder_init(frame_decoder_t *d, size_t max_record);

/* Frees the decoder's buffer. */
void frame_decoder_fini(frame_decoder_t *d);

/* Consumes len bytes, calling fn for each complete record. Returns ACTOR_EPROTO when the input
 * is garbage (wrong preamble, a record whose names do not fit it or hold bytes other than
 * printable ASCII): the stream cannot be resynchronised and the caller must close it; records
 * before the garbage were delivered. ACTOR_ENOMEM if a split record cannot be buffered. */
actor_err_t frame_decoder_feed(frame_decoder_t *d, const uint8_t *data, size_t len,
                               frame_record_fn fn, void *arg);

/* True when the decoder holds part of a record (the stream ending now truncates it). */
bool frame_decoder_partial(const frame_decoder_t *d);

#endif
