/* frame.c: the transport's record format; see frame.h. */
#include "actor/frame.h"

#include "actor/growbuf.h"

#include <stdlib.h>
#include <string.h>

#define LEN_BYTES 4

size_t frame_record_size(size_t from_len, size_t to_len, size_t type_len, size_t payload_len)
{
    return LEN_BYTES + 3 + from_len + to_len + type_len + payload_len;
}

static uint8_t *put_name(uint8_t *out, const char *name, size_t len)
{
    *out++ = (uint8_t)len;
    memcpy(out, name, len);
    return out + len;
}

uint8_t *frame_record_write_header(uint8_t *out, const char *from, size_t from_len, const char *to,
                                   size_t to_len, const char *type, size_t type_len,
                                   size_t payload_len)
{
    uint32_t rest =
        (uint32_t)(frame_record_size(from_len, to_len, type_len, payload_len) - LEN_BYTES);
    out[0] = (uint8_t)rest;
    out[1] = (uint8_t)(rest >> 8);
    out[2] = (uint8_t)(rest >> 16);
    out[3] = (uint8_t)(rest >> 24);
    out = put_name(out + LEN_BYTES, from, from_len);
    out = put_name(out, to, to_len);
    return put_name(out, type, type_len);
}

void frame_decoder_init(frame_decoder_t *d, size_t max_record)
{
    memset(d, 0, sizeof(*d));
    d->max_record = max_record;
}

void frame_decoder_fini(frame_decoder_t *d)
{
    free(d->buf);
    d->buf = NULL;
    d->len = d->cap = 0;
}

bool frame_decoder_partial(const frame_decoder_t *d)
{
    return d->len > 0 || d->skip > 0;
}

static uint32_t get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static bool printable(const uint8_t *p, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (p[i] <= ' ' || p[i] >= 0x7f)
            return false;
    }
    return true;
}

/* Reads one length-prefixed name at *p within end. */
static bool take_name(const uint8_t **p, const uint8_t *end, const char **name, size_t *len)
{
    if (*p >= end)
        return false;
    size_t n = **p;
    if (n == 0 || (size_t)(end - *p - 1) < n || !printable(*p + 1, n))
        return false;
    *name = (const char *)*p + 1;
    *len = n;
    *p += 1 + n;
    return true;
}

/* Parses the body of one record (after its length field). */
static actor_err_t parse_body(const uint8_t *body, size_t len, frame_record_fn fn, void *arg)
{
    const uint8_t *p = body, *end = body + len;
    frame_record_t r;
    if (!take_name(&p, end, &r.from, &r.from_len) || !take_name(&p, end, &r.to, &r.to_len) ||
        !take_name(&p, end, &r.type, &r.type_len))
        return ACTOR_EPROTO;
    r.payload = p;
    r.payload_len = (size_t)(end - p);
    fn(&r, arg);
    return ACTOR_OK;
}

static actor_err_t check_preamble(frame_decoder_t *d, const uint8_t **data, size_t *len)
{
    while (d->preamble_seen<FRAME_PREAMBLE_LEN && * len> 0) {
        if (**data != (uint8_t)FRAME_PREAMBLE[d->preamble_seen])
            return ACTOR_EPROTO;
        d->preamble_seen++;
        (*data)++;
        (*len)--;
    }
    return ACTOR_OK;
}

static actor_err_t buffer_append(frame_decoder_t *d, const uint8_t *data, size_t len)
{
    void *buf = d->buf;
    bool ok = growbuf_reserve(&buf, &d->cap, d->len, len, 4096);
    d->buf = buf;
    if (!ok)
        return ACTOR_ENOMEM;
    memcpy(d->buf + d->len, data, len);
    d->len += len;
    return ACTOR_OK;
}

/* Completes the record held in d->buf from data; consumes what it used. */
static actor_err_t finish_buffered(frame_decoder_t *d, const uint8_t **data, size_t *len,
                                   frame_record_fn fn, void *arg)
{
    if (d->len < LEN_BYTES) {
        size_t take = LEN_BYTES - d->len < *len ? LEN_BYTES - d->len : *len;
        actor_err_t err = buffer_append(d, *data, take);
        *data += take;
        *len -= take;
        if (err != ACTOR_OK || d->len < LEN_BYTES)
            return err;
    }
    uint32_t rest = get_u32(d->buf);
    if (rest > d->max_record) { /* only the length field was buffered */
        d->oversized++;
        d->skip = rest;
        d->len = 0;
        return ACTOR_OK;
    }
    size_t want = LEN_BYTES + rest - d->len;
    size_t take = want < *len ? want : *len;
    actor_err_t err = buffer_append(d, *data, take);
    *data += take;
    *len -= take;
    if (err != ACTOR_OK || take < want)
        return err;
    d->len = 0;
    d->records++;
    return parse_body(d->buf + LEN_BYTES, rest, fn, arg);
}

actor_err_t frame_decoder_feed(frame_decoder_t *d, const uint8_t *data, size_t len,
                               frame_record_fn fn, void *arg)
{
    actor_err_t err = check_preamble(d, &data, &len);
    while (err == ACTOR_OK && len > 0) {
        if (d->skip > 0) {
            size_t n = d->skip < len ? (size_t)d->skip : len;
            d->skip -= n;
            data += n;
            len -= n;
            continue;
        }
        if (d->len > 0 || len < LEN_BYTES) {
            err = finish_buffered(d, &data, &len, fn, arg);
            continue;
        }
        uint32_t rest = get_u32(data);
        if (rest > d->max_record) {
            d->oversized++;
            d->skip = rest;
            data += LEN_BYTES;
            len -= LEN_BYTES;
        } else if (len - LEN_BYTES >= rest) {
            d->records++;
            err = parse_body(data + LEN_BYTES, rest, fn, arg);
            data += LEN_BYTES + rest;
            len -= LEN_BYTES + rest;
        } else {
            err = buffer_append(d, data, len);
            len = 0;
        }
    }
    return err;
}
