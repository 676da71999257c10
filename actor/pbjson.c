/*
 * pbjson.c: protobuf-c messages to and from jansson values (see pbjson.h for the mapping).
 *
 * Both directions walk the message descriptor: a field's offset locates its value in the C
 * struct, its quantifier_offset the has_ flag, the repeated count or the oneof case. The
 * parser builds the message exactly as protobuf_c_message_unpack would with the same allocator
 * (one allocation per message, string, bytes buffer and repeated array; unset fields as the
 * generated __init leaves them), so that protobuf_c_message_free_unpacked releases it, including
 * a half-built message on an error: every pointer is stored only once its target is complete and
 * a repeated count only grows past elements that are.
 */
#include "actor/pbjson.h"

#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actor/log.h"

/* The address of a field's storage, or of its quantifier, inside a message struct. */
#define FIELD_AT(msg, offset)  ((void *)((char *)(msg) + (offset)))
#define CFIELD_AT(msg, offset) ((const void *)((const char *)(msg) + (offset)))

static const char B64_ALPHABET[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Size of one element of a repeated field's array, as protobuf-c lays it out. */
static size_t value_size(ProtobufCType type)
{
    switch (type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
    case PROTOBUF_C_TYPE_ENUM:
        return sizeof(int32_t);
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        return sizeof(uint32_t);
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
        return sizeof(int64_t);
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        return sizeof(uint64_t);
    case PROTOBUF_C_TYPE_FLOAT:
        return sizeof(float);
    case PROTOBUF_C_TYPE_DOUBLE:
        return sizeof(double);
    case PROTOBUF_C_TYPE_BOOL:
        return sizeof(protobuf_c_boolean);
    case PROTOBUF_C_TYPE_STRING:
        return sizeof(char *);
    case PROTOBUF_C_TYPE_BYTES:
        return sizeof(ProtobufCBinaryData);
    case PROTOBUF_C_TYPE_MESSAGE:
        return sizeof(ProtobufCMessage *);
    }
    ACTOR_ASSERT(!"unknown protobuf-c field type");
    return 0;
}

/* The .proto spelling of a scalar type, for range errors. */
static const char *type_name(ProtobufCType type)
{
    static const char *const names[] = {
        [PROTOBUF_C_TYPE_INT32] = "int32",       [PROTOBUF_C_TYPE_SINT32] = "sint32",
        [PROTOBUF_C_TYPE_SFIXED32] = "sfixed32", [PROTOBUF_C_TYPE_INT64] = "int64",
        [PROTOBUF_C_TYPE_SINT64] = "sint64",     [PROTOBUF_C_TYPE_SFIXED64] = "sfixed64",
        [PROTOBUF_C_TYPE_UINT32] = "uint32",     [PROTOBUF_C_TYPE_FIXED32] = "fixed32",
        [PROTOBUF_C_TYPE_UINT64] = "uint64",     [PROTOBUF_C_TYPE_FIXED64] = "fixed64",
        [PROTOBUF_C_TYPE_FLOAT] = "float",       [PROTOBUF_C_TYPE_DOUBLE] = "double",
        [PROTOBUF_C_TYPE_BOOL] = "bool",         [PROTOBUF_C_TYPE_ENUM] = "enum",
        [PROTOBUF_C_TYPE_STRING] = "string",     [PROTOBUF_C_TYPE_BYTES] = "bytes",
        [PROTOBUF_C_TYPE_MESSAGE] = "message",
    };
    if ((size_t)type < sizeof(names) / sizeof(names[0]) && names[type] != NULL)
        return names[type];
    return "?";
}

/* ---- Rendering: message to JSON ---- */

static actor_err_t message_to_json(const ProtobufCMessage *msg, json_t **out);

/* Returns the length of the well-formed UTF-8 sequence (RFC 3629) at s, or 0 if there is none. */
static size_t utf8_sequence_len(const unsigned char *s, size_t avail)
{
    unsigned char lo = 0x80, hi = 0xBF;
    size_t len, i;

    if (s[0] < 0x80)
        return 1;
    if (s[0] < 0xC2 || s[0] > 0xF4)
        return 0;
    len = s[0] < 0xE0 ? 2 : s[0] < 0xF0 ? 3 : 4;
    if (s[0] == 0xE0)
        lo = 0xA0; /* overlong */
    else if (s[0] == 0xED)
        hi = 0x9F; /* UTF-16 surrogates */
    else if (s[0] == 0xF0)
        lo = 0x90; /* overlong */
    else if (s[0] == 0xF4)
        hi = 0x8F; /* above U+10FFFF */
    if (avail < len || s[1] < lo || s[1] > hi)
        return 0;
    for (i = 2; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
    }
    return len;
}

/* Copies s with each byte that starts no valid UTF-8 sequence replaced by U+FFFD, because a
 * string that arrived from the wire must still render (protobuf-c does not check UTF-8). */
static actor_err_t string_sanitized_to_json(const char *s, size_t n, json_t **out)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0, o = 0, len;
    char *buf;

    if (n > SIZE_MAX / 3)
        return ACTOR_ENOMEM;
    buf = malloc(3 * n);
    if (buf == NULL)
        return ACTOR_ENOMEM;
    while (i < n) {
        len = utf8_sequence_len(p + i, n - i);
        if (len == 0) {
            memcpy(buf + o, "\xEF\xBF\xBD", 3);
            o += 3;
            i++;
            continue;
        }
        memcpy(buf + o, s + i, len);
        o += len;
        i += len;
    }
    *out = json_stringn_nocheck(buf, o);
    free(buf);
    return *out != NULL ? ACTOR_OK : ACTOR_ENOMEM;
}

static actor_err_t string_to_json(const char *s, json_t **out)
{
    size_t n = strlen(s), i = 0, len;

    while (i < n) {
        len = utf8_sequence_len((const unsigned char *)s + i, n - i);
        if (len == 0)
            return string_sanitized_to_json(s, n, out);
        i += len;
    }
    *out = json_stringn_nocheck(s, n);
    return *out != NULL ? ACTOR_OK : ACTOR_ENOMEM;
}

static actor_err_t bytes_to_json(const ProtobufCBinaryData *bd, json_t **out)
{
    size_t i, o = 0, enc_len;
    uint32_t v;
    char *buf;

    if (bd->len > SIZE_MAX / 4 - 1)
        return ACTOR_ENOMEM;
    enc_len = (bd->len + 2) / 3 * 4;
    buf = malloc(enc_len + 1);
    if (buf == NULL)
        return ACTOR_ENOMEM;
    for (i = 0; i < bd->len; i += 3) {
        v = (uint32_t)bd->data[i] << 16;
        if (i + 1 < bd->len)
            v |= (uint32_t)bd->data[i + 1] << 8;
        if (i + 2 < bd->len)
            v |= bd->data[i + 2];
        buf[o++] = B64_ALPHABET[(v >> 18) & 63];
        buf[o++] = B64_ALPHABET[(v >> 12) & 63];
        buf[o++] = i + 1 < bd->len ? B64_ALPHABET[(v >> 6) & 63] : '=';
        buf[o++] = i + 2 < bd->len ? B64_ALPHABET[v & 63] : '=';
    }
    *out = json_stringn_nocheck(buf, enc_len);
    free(buf);
    return *out != NULL ? ACTOR_OK : ACTOR_ENOMEM;
}

/* JSON numbers cannot hold NaN or the infinities; protobuf's JSON mapping spells them. */
static json_t *double_to_json(double d)
{
    if (isnan(d))
        return json_string("NaN");
    if (isinf(d))
        return json_string(d > 0 ? "Infinity" : "-Infinity");
    return json_real(d);
}

/* jansson's integers are signed 64-bit, so larger uint64 values go out as decimal strings,
 * which the parser accepts back. */
static json_t *uint64_to_json(uint64_t v)
{
    char text[24];

    if (v <= INT64_MAX)
        return json_integer((json_int_t)v);
    snprintf(text, sizeof(text), "%" PRIu64, v);
    return json_string(text);
}

static json_t *enum_to_json(const ProtobufCEnumDescriptor *ed, int32_t v)
{
    const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value(ed, v);

    return ev != NULL ? json_string(ev->name) : json_integer(v);
}

/* Renders the one value at p (a singular field's storage or one repeated element). */
static actor_err_t value_to_json(const ProtobufCFieldDescriptor *f, const void *p, json_t **out)
{
    json_t *j = NULL;

    switch (f->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
        j = json_integer(*(const int32_t *)p);
        break;
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        j = json_integer(*(const uint32_t *)p);
        break;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
        j = json_integer(*(const int64_t *)p);
        break;
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        j = uint64_to_json(*(const uint64_t *)p);
        break;
    case PROTOBUF_C_TYPE_FLOAT:
        j = double_to_json(*(const float *)p);
        break;
    case PROTOBUF_C_TYPE_DOUBLE:
        j = double_to_json(*(const double *)p);
        break;
    case PROTOBUF_C_TYPE_BOOL:
        j = json_boolean(*(const protobuf_c_boolean *)p);
        break;
    case PROTOBUF_C_TYPE_ENUM:
        j = enum_to_json(f->descriptor, *(const int32_t *)p);
        break;
    case PROTOBUF_C_TYPE_STRING:
        ACTOR_ASSERT(*(const char *const *)p != NULL);
        return string_to_json(*(const char *const *)p, out);
    case PROTOBUF_C_TYPE_BYTES:
        return bytes_to_json(p, out);
    case PROTOBUF_C_TYPE_MESSAGE:
        return message_to_json(*(const ProtobufCMessage *const *)p, out);
    }
    if (j == NULL)
        return ACTOR_ENOMEM;
    *out = j;
    return ACTOR_OK;
}

/* Whether the scalar or bytes value at p is its type's zero, which proto3 does not send. */
static int value_is_zero(const ProtobufCFieldDescriptor *f, const void *p)
{
    static const unsigned char zeros[sizeof(uint64_t)];

    if (f->type == PROTOBUF_C_TYPE_BYTES)
        return ((const ProtobufCBinaryData *)p)->len == 0;
    return memcmp(p, zeros, value_size(f->type)) == 0;
}

/* Whether f is present in msg, by the rules protobuf-c's pack applies. */
static int field_is_set(const ProtobufCMessage *msg, const ProtobufCFieldDescriptor *f)
{
    const void *member = CFIELD_AT(msg, f->offset);
    const void *quantifier = CFIELD_AT(msg, f->quantifier_offset);
    int is_pointer = f->type == PROTOBUF_C_TYPE_MESSAGE || f->type == PROTOBUF_C_TYPE_STRING;
    const void *ptr = is_pointer ? *(const void *const *)member : NULL;

    if (f->label == PROTOBUF_C_LABEL_REPEATED)
        return *(const size_t *)quantifier > 0;
    if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
        return *(const uint32_t *)quantifier == f->id && (!is_pointer || ptr != NULL);
    if (is_pointer) {
        if (ptr == NULL)
            return 0;
        if (f->label == PROTOBUF_C_LABEL_OPTIONAL)
            return ptr != f->default_value; /* an unset string points at its default */
        if (f->label == PROTOBUF_C_LABEL_NONE && f->type == PROTOBUF_C_TYPE_STRING)
            return *(const char *)ptr != '\0';
        return 1;
    }
    if (f->label == PROTOBUF_C_LABEL_OPTIONAL)
        return *(const protobuf_c_boolean *)quantifier;
    if (f->label == PROTOBUF_C_LABEL_NONE)
        return !value_is_zero(f, member);
    return 1; /* required */
}

static actor_err_t repeated_to_json(const ProtobufCMessage *msg, const ProtobufCFieldDescriptor *f,
                                    json_t **out)
{
    size_t n = *(const size_t *)CFIELD_AT(msg, f->quantifier_offset);
    const char *arr = *(const char *const *)CFIELD_AT(msg, f->offset);
    size_t size = value_size(f->type), i;
    json_t *array, *item;
    actor_err_t err;

    ACTOR_ASSERT(arr != NULL);
    array = json_array();
    if (array == NULL)
        return ACTOR_ENOMEM;
    for (i = 0; i < n; i++) {
        err = value_to_json(f, arr + i * size, &item);
        if (err != ACTOR_OK)
            goto fail_free_array;
        if (json_array_append_new(array, item) != 0) {
            err = ACTOR_ENOMEM;
            goto fail_free_array;
        }
    }
    *out = array;
    return ACTOR_OK;

fail_free_array:
    json_decref(array);
    return err;
}

static actor_err_t message_to_json(const ProtobufCMessage *msg, json_t **out)
{
    const ProtobufCMessageDescriptor *desc;
    const ProtobufCFieldDescriptor *f;
    json_t *object, *value;
    actor_err_t err;
    unsigned i;

    ACTOR_ASSERT(msg != NULL && msg->descriptor != NULL);
    desc = msg->descriptor;
    ACTOR_ASSERT(desc->magic == PROTOBUF_C__MESSAGE_DESCRIPTOR_MAGIC);
    object = json_object();
    if (object == NULL)
        return ACTOR_ENOMEM;
    for (i = 0; i < desc->n_fields; i++) {
        f = &desc->fields[i];
        if (!field_is_set(msg, f))
            continue;
        if (f->label == PROTOBUF_C_LABEL_REPEATED)
            err = repeated_to_json(msg, f, &value);
        else
            err = value_to_json(f, CFIELD_AT(msg, f->offset), &value);
        if (err != ACTOR_OK)
            goto fail_free_object;
        /* set_new takes value even when it fails. */
        if (json_object_set_new_nocheck(object, f->name, value) != 0) {
            err = ACTOR_ENOMEM;
            goto fail_free_object;
        }
    }
    *out = object;
    return ACTOR_OK;

fail_free_object:
    json_decref(object);
    return err;
}

actor_err_t pbjson_from_message(const ProtobufCMessage *msg, json_t **out)
{
    ACTOR_ASSERT(out != NULL);
    return message_to_json(msg, out);
}

/* ---- Parsing: JSON to message ---- */

typedef struct parse_ctx {
    unsigned flags;                /* PBJSON_* */
    ProtobufCAllocator *allocator; /* NULL = malloc/free, as protobuf-c's default */
    char *errbuf;                  /* NULL when errlen is 0 */
    size_t errlen;
    unsigned depth; /* messages being built on the current path, 0 before the root */
} parse_ctx_t;

/* One step of the path from the root to the value being parsed, kept on the C stack so that
 * the path costs nothing until an error renders it. */
typedef struct path_seg {
    const struct path_seg *parent; /* NULL at the root's fields */
    const char *key;               /* field name, or NULL for an array element */
    size_t index;                  /* array index when key is NULL */
} path_seg_t;

static actor_err_t message_from_json(parse_ctx_t *ctx, const path_seg_t *at,
                                     const ProtobufCMessageDescriptor *desc, const json_t *json,
                                     ProtobufCMessage **out);

static void *ctx_alloc(const parse_ctx_t *ctx, size_t size)
{
    if (ctx->allocator == NULL)
        return malloc(size);
    return ctx->allocator->alloc(ctx->allocator->allocator_data, size);
}

/* A bounded string being built, for the path of an error. */
typedef struct errtext {
    char *buf;
    size_t cap; /* bytes at buf, > 0 */
    size_t pos; /* length so far, < cap */
    int truncated;
} errtext_t;

__attribute__((format(printf, 2, 3))) static void errtext_append(errtext_t *t, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(t->buf + t->pos, t->cap - t->pos, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n >= t->cap - t->pos) {
        t->truncated = 1;
        t->pos = t->cap - 1;
        return;
    }
    t->pos += (size_t)n;
}

static void path_render(errtext_t *t, const path_seg_t *at)
{
    if (at == NULL)
        return;
    path_render(t, at->parent);
    if (at->key == NULL)
        errtext_append(t, "[%zu]", at->index);
    else
        errtext_append(t, "%s%s", at->parent != NULL ? "." : "", at->key);
}

/* Writes "<path>: <reason>" to the caller's errbuf and returns ACTOR_EINVAL. The reason is
 * kept whole and the path shortened to "start...", because a path can be as long as the
 * input (unknown keys, deep nesting) while the reason is what the user must read. */
__attribute__((format(printf, 3, 4))) static actor_err_t
fail(parse_ctx_t *ctx, const path_seg_t *at, const char *fmt, ...)
{
    char reason[160];
    size_t need;
    errtext_t path;
    va_list ap;

    if (ctx->errlen == 0)
        return ACTOR_EINVAL;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof(reason), fmt, ap);
    va_end(ap);
    need = strlen(reason) + 2; /* ": " before it */
    if (at == NULL || ctx->errlen <= need + 4) {
        snprintf(ctx->errbuf, ctx->errlen, "%s", reason);
        return ACTOR_EINVAL;
    }
    path = (errtext_t){ctx->errbuf, ctx->errlen - need, 0, 0};
    path_render(&path, at);
    if (path.truncated && path.pos >= 3)
        memcpy(ctx->errbuf + path.pos - 3, "...", 3);
    snprintf(ctx->errbuf + path.pos, ctx->errlen - path.pos, ": %s", reason);
    return ACTOR_EINVAL;
}

static actor_err_t fail_nomem(parse_ctx_t *ctx)
{
    if (ctx->errlen > 0)
        snprintf(ctx->errbuf, ctx->errlen, "out of memory");
    return ACTOR_ENOMEM;
}

/* Parses a JSON string holding a decimal integer ("-12"), as protobuf's JSON mapping allows for
 * 64-bit values. Returns 0, -1 if it is not one, or -2 if it exceeds 64 bits. */
static int decimal_parse(const char *s, size_t len, int *negative, uint64_t *magnitude)
{
    uint64_t m = 0;
    unsigned digit;
    size_t i;

    *negative = len > 0 && s[0] == '-';
    i = (size_t)*negative;
    if (i == len)
        return -1;
    for (; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        digit = (unsigned)(s[i] - '0');
        if (m > (UINT64_MAX - digit) / 10)
            return -2;
        m = m * 10 + digit;
    }
    *magnitude = m;
    return 0;
}

/* Reads an integer-valued JSON number or decimal string as sign and magnitude. */
static actor_err_t integer_read(parse_ctx_t *ctx, const path_seg_t *at,
                                const ProtobufCFieldDescriptor *f, const json_t *json,
                                int *negative, uint64_t *magnitude)
{
    json_int_t i;
    double d;
    int rc;

    if (json_is_integer(json)) {
        i = json_integer_value(json);
        *negative = i < 0;
        /* Negate in unsigned arithmetic, because -INT64_MIN overflows int64_t. */
        *magnitude = i < 0 ? 0 - (uint64_t)i : (uint64_t)i;
        return ACTOR_OK;
    }
    if (json_is_real(json)) {
        d = json_real_value(json);
        if (d != floor(d))
            return fail(ctx, at, "expected an integer, got %.17g", d);
        if (fabs(d) >= 18446744073709551616.0) /* 2^64: the cast below would be undefined */
            return fail(ctx, at, "out of range for %s", type_name(f->type));
        *negative = d < 0;
        *magnitude = (uint64_t)fabs(d);
        return ACTOR_OK;
    }
    if (!json_is_string(json))
        return fail(ctx, at, "expected an integer");
    rc = decimal_parse(json_string_value(json), json_string_length(json), negative, magnitude);
    if (rc == -1)
        return fail(ctx, at, "expected an integer");
    if (rc == -2)
        return fail(ctx, at, "out of range for %s", type_name(f->type));
    return ACTOR_OK;
}

/* Reads an integer into [min, max] (signed types and enum numbers). */
static actor_err_t signed_from_json(parse_ctx_t *ctx, const path_seg_t *at,
                                    const ProtobufCFieldDescriptor *f, const json_t *json,
                                    int64_t min, int64_t max, int64_t *out)
{
    uint64_t magnitude;
    int negative;
    actor_err_t err;

    err = integer_read(ctx, at, f, json, &negative, &magnitude);
    if (err != ACTOR_OK)
        return err;
    if (negative ? magnitude > 0 - (uint64_t)min : magnitude > (uint64_t)max)
        return fail(ctx, at, "out of range for %s", type_name(f->type));
    /* Both branches stay in range: magnitude <= -min, and -min - 1 fits int64_t. */
    *out = negative && magnitude > 0 ? -(int64_t)(magnitude - 1) - 1 : (int64_t)magnitude;
    return ACTOR_OK;
}

static actor_err_t unsigned_from_json(parse_ctx_t *ctx, const path_seg_t *at,
                                      const ProtobufCFieldDescriptor *f, const json_t *json,
                                      uint64_t max, uint64_t *out)
{
    uint64_t magnitude;
    int negative;
    actor_err_t err;

    err = integer_read(ctx, at, f, json, &negative, &magnitude);
    if (err != ACTOR_OK)
        return err;
    if ((negative && magnitude > 0) || magnitude > max)
        return fail(ctx, at, "out of range for %s", type_name(f->type));
    *out = magnitude;
    return ACTOR_OK;
}

/* Parses any of the ten integer types into its storage at dst. */
static actor_err_t integer_from_json(parse_ctx_t *ctx, const path_seg_t *at,
                                     const ProtobufCFieldDescriptor *f, const json_t *json,
                                     void *dst)
{
    actor_err_t err;
    uint64_t u;
    int64_t s;

    switch (f->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
        err = signed_from_json(ctx, at, f, json, INT32_MIN, INT32_MAX, &s);
        if (err == ACTOR_OK)
            *(int32_t *)dst = (int32_t)s;
        return err;
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        err = unsigned_from_json(ctx, at, f, json, UINT32_MAX, &u);
        if (err == ACTOR_OK)
            *(uint32_t *)dst = (uint32_t)u;
        return err;
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        err = unsigned_from_json(ctx, at, f, json, UINT64_MAX, &u);
        if (err == ACTOR_OK)
            *(uint64_t *)dst = u;
        return err;
    default: /* int64, sint64, sfixed64 */
        err = signed_from_json(ctx, at, f, json, INT64_MIN, INT64_MAX, &s);
        if (err == ACTOR_OK)
            *(int64_t *)dst = s;
        return err;
    }
}

static actor_err_t double_from_json(parse_ctx_t *ctx, const path_seg_t *at, const json_t *json,
                                    double *out)
{
    const char *s;

    if (json_is_number(json)) {
        *out = json_number_value(json);
        return ACTOR_OK;
    }
    if (!json_is_string(json))
        return fail(ctx, at, "expected a number");
    s = json_string_value(json);
    if (strcmp(s, "NaN") == 0)
        *out = NAN;
    else if (strcmp(s, "Infinity") == 0)
        *out = INFINITY;
    else if (strcmp(s, "-Infinity") == 0)
        *out = -INFINITY;
    else
        return fail(ctx, at, "expected a number");
    return ACTOR_OK;
}

static actor_err_t float_from_json(parse_ctx_t *ctx, const path_seg_t *at, const json_t *json,
                                   float *out)
{
    actor_err_t err;
    double d;

    err = double_from_json(ctx, at, json, &d);
    if (err != ACTOR_OK)
        return err;
    if (isfinite(d) && fabs(d) > FLT_MAX)
        return fail(ctx, at, "out of range for float");
    *out = (float)d;
    return ACTOR_OK;
}

static actor_err_t enum_from_json(parse_ctx_t *ctx, const path_seg_t *at,
                                  const ProtobufCFieldDescriptor *f, const json_t *json,
                                  int32_t *out)
{
    const ProtobufCEnumDescriptor *ed = f->descriptor;
    const ProtobufCEnumValue *ev = NULL;
    const char *name;
    actor_err_t err;
    int64_t v;

    if (json_is_number(json)) {
        /* Numbers without a name are kept, as protobuf-c's unpack keeps them for proto2. */
        err = signed_from_json(ctx, at, f, json, INT32_MIN, INT32_MAX, &v);
        if (err == ACTOR_OK)
            *out = (int32_t)v;
        return err;
    }
    if (!json_is_string(json))
        return fail(ctx, at, "expected an enum name or number");
    name = json_string_value(json);
    if (strlen(name) == json_string_length(json))
        ev = protobuf_c_enum_descriptor_get_value_by_name(ed, name);
    if (ev == NULL)
        return fail(ctx, at, "unknown value '%.64s' for enum %s", name, ed->name);
    *out = ev->value;
    return ACTOR_OK;
}

static actor_err_t string_from_json(parse_ctx_t *ctx, const path_seg_t *at, const json_t *json,
                                    char **out)
{
    const char *s;
    size_t len;
    char *copy;

    if (!json_is_string(json))
        return fail(ctx, at, "expected a string");
    s = json_string_value(json);
    len = json_string_length(json);
    /* protobuf-c strings end at the first NUL: keeping one would cut the value silently. */
    if (memchr(s, '\0', len) != NULL)
        return fail(ctx, at, "strings may not contain NUL characters");
    copy = ctx_alloc(ctx, len + 1);
    if (copy == NULL)
        return fail_nomem(ctx);
    memcpy(copy, s, len + 1);
    *out = copy;
    return ACTOR_OK;
}

/* Value of a base64 digit in either the standard or the URL-safe alphabet, or -1. */
static int b64_digit(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+' || c == '-')
        return 62;
    if (c == '/' || c == '_')
        return 63;
    return -1;
}

/* Decodes base64 text (padding optional) into dst, or only measures it when dst is NULL.
 * Returns the decoded length in *outlen, or -1 if s is not base64. */
static int b64_decode(const char *s, size_t len, uint8_t *dst, size_t *outlen)
{
    size_t n = len, i, o = 0;
    uint32_t acc = 0;
    int d;

    while (n > 0 && len - n < 2 && s[n - 1] == '=')
        n--;
    if ((n < len && len % 4 != 0) || n % 4 == 1)
        return -1;
    for (i = 0; i < n; i++) {
        d = b64_digit((unsigned char)s[i]);
        if (d < 0)
            return -1;
        acc = acc << 6 | (uint32_t)d;
        if (i % 4 == 3 || i == n - 1) {
            /* A group of k digits carries k - 1 bytes, left-aligned in 6k bits. */
            size_t k = i % 4 + 1, b;
            acc <<= 6 * (4 - k);
            for (b = 0; b < k - 1; b++) {
                if (dst != NULL)
                    dst[o] = (uint8_t)(acc >> (16 - 8 * b));
                o++;
            }
            acc = 0;
        }
    }
    *outlen = o;
    return 0;
}

static actor_err_t bytes_from_json(parse_ctx_t *ctx, const path_seg_t *at, const json_t *json,
                                   ProtobufCBinaryData *out)
{
    const char *s;
    size_t len, n;
    uint8_t *data = NULL;

    if (!json_is_string(json))
        return fail(ctx, at, "expected a base64 string");
    s = json_string_value(json);
    len = json_string_length(json);
    if (b64_decode(s, len, NULL, &n) != 0)
        return fail(ctx, at, "invalid base64");
    /* protobuf-c's unpack leaves data NULL for empty bytes; do the same. */
    if (n > 0) {
        data = ctx_alloc(ctx, n);
        if (data == NULL)
            return fail_nomem(ctx);
        b64_decode(s, len, data, &n);
    }
    out->data = data;
    out->len = n;
    return ACTOR_OK;
}

/* Parses one value of f's type into dst (a singular field's storage or a repeated element).
 * Pointers are stored only on success, so dst never holds a half-built value. */
static actor_err_t value_from_json(parse_ctx_t *ctx, const path_seg_t *at,
                                   const ProtobufCFieldDescriptor *f, const json_t *json, void *dst)
{
    switch (f->type) {
    case PROTOBUF_C_TYPE_FLOAT:
        return float_from_json(ctx, at, json, dst);
    case PROTOBUF_C_TYPE_DOUBLE:
        return double_from_json(ctx, at, json, dst);
    case PROTOBUF_C_TYPE_BOOL:
        if (!json_is_boolean(json))
            return fail(ctx, at, "expected true or false");
        *(protobuf_c_boolean *)dst = json_is_true(json);
        return ACTOR_OK;
    case PROTOBUF_C_TYPE_ENUM:
        return enum_from_json(ctx, at, f, json, dst);
    case PROTOBUF_C_TYPE_STRING:
        return string_from_json(ctx, at, json, dst);
    case PROTOBUF_C_TYPE_BYTES:
        return bytes_from_json(ctx, at, json, dst);
    case PROTOBUF_C_TYPE_MESSAGE:
        return message_from_json(ctx, at, f->descriptor, json, dst);
    default:
        return integer_from_json(ctx, at, f, json, dst);
    }
}

static actor_err_t repeated_from_json(parse_ctx_t *ctx, const path_seg_t *at, ProtobufCMessage *msg,
                                      const ProtobufCFieldDescriptor *f, const json_t *json)
{
    size_t *count = FIELD_AT(msg, f->quantifier_offset);
    size_t size = value_size(f->type), n, i;
    actor_err_t err;
    char *arr;

    if (!json_is_array(json))
        return fail(ctx, at, "expected an array");
    n = json_array_size(json);
    if (n == 0)
        return ACTOR_OK;
    arr = n <= SIZE_MAX / size ? ctx_alloc(ctx, n * size) : NULL;
    if (arr == NULL)
        return fail_nomem(ctx);
    /* Owned by msg from here: free_unpacked releases arr and its first *count elements. */
    *(char **)FIELD_AT(msg, f->offset) = arr;
    *count = 0;
    for (i = 0; i < n; i++) {
        path_seg_t seg = {at, NULL, i};
        err = value_from_json(ctx, &seg, f, json_array_get(json, i), arr + i * size);
        if (err != ACTOR_OK)
            return err;
        (*count)++;
    }
    return ACTOR_OK;
}

static actor_err_t field_from_json(parse_ctx_t *ctx, const path_seg_t *at, ProtobufCMessage *msg,
                                   const ProtobufCFieldDescriptor *f, const json_t *json)
{
    void *quantifier = FIELD_AT(msg, f->quantifier_offset);
    const ProtobufCFieldDescriptor *other;
    actor_err_t err;

    if (f->label == PROTOBUF_C_LABEL_REPEATED)
        return repeated_from_json(ctx, at, msg, f, json);
    /* free_unpacked frees only the selected member of a oneof, so a second one would leak. */
    if ((f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) && *(uint32_t *)quantifier != 0) {
        other = protobuf_c_message_descriptor_get_field(msg->descriptor, *(uint32_t *)quantifier);
        return fail(ctx, at, "only one member of a oneof may be set, and '%s' is set too",
                    other != NULL ? other->name : "?");
    }
    err = value_from_json(ctx, at, f, json, FIELD_AT(msg, f->offset));
    if (err != ACTOR_OK)
        return err;
    if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
        *(uint32_t *)quantifier = f->id;
    else if (f->label == PROTOBUF_C_LABEL_OPTIONAL && f->type != PROTOBUF_C_TYPE_MESSAGE &&
             f->type != PROTOBUF_C_TYPE_STRING)
        *(protobuf_c_boolean *)quantifier = 1;
    return ACTOR_OK;
}

static actor_err_t fields_from_json(parse_ctx_t *ctx, const path_seg_t *at, ProtobufCMessage *msg,
                                    const json_t *json)
{
    const ProtobufCFieldDescriptor *f;
    const char *key;
    size_t key_len;
    json_t *value;
    actor_err_t err;

    /* The iteration only reads; jansson's macro just lacks a const variant. */
    json_object_keylen_foreach((json_t *)json, key, key_len, value)
    {
        path_seg_t seg = {at, key, 0};
        f = NULL;
        if (strlen(key) == key_len) /* a key with a NUL names no field */
            f = protobuf_c_message_descriptor_get_field_by_name(msg->descriptor, key);
        if (f == NULL && (ctx->flags & PBJSON_REJECT_UNKNOWN))
            return fail(ctx, &seg, "unknown field");
        if (f == NULL || json_is_null(value))
            continue;
        err = field_from_json(ctx, &seg, msg, f, value);
        if (err != ACTOR_OK)
            return err;
    }
    return ACTOR_OK;
}

/* A field parsed without error was set, so a required field is missing exactly when its key is
 * absent or null. */
static actor_err_t required_check(parse_ctx_t *ctx, const path_seg_t *at,
                                  const ProtobufCMessageDescriptor *desc, const json_t *json)
{
    const ProtobufCFieldDescriptor *f;
    const json_t *value;
    unsigned i;

    for (i = 0; i < desc->n_fields; i++) {
        f = &desc->fields[i];
        if (f->label != PROTOBUF_C_LABEL_REQUIRED)
            continue;
        value = json_object_get(json, f->name);
        if (value == NULL || json_is_null(value)) {
            path_seg_t seg = {at, f->name, 0};
            return fail(ctx, &seg, "missing required field");
        }
    }
    return ACTOR_OK;
}

static actor_err_t message_from_json(parse_ctx_t *ctx, const path_seg_t *at,
                                     const ProtobufCMessageDescriptor *desc, const json_t *json,
                                     ProtobufCMessage **out)
{
    ProtobufCMessage *msg;
    actor_err_t err;

    if (!json_is_object(json))
        return fail(ctx, at, "expected an object");
    if (ctx->depth >= PBJSON_MAX_DEPTH)
        return fail(ctx, at, "messages nested deeper than %d levels", PBJSON_MAX_DEPTH);
    msg = ctx_alloc(ctx, desc->sizeof_message);
    if (msg == NULL)
        return fail_nomem(ctx);
    protobuf_c_message_init(desc, msg);
    ctx->depth++;
    err = fields_from_json(ctx, at, msg, json);
    if (err == ACTOR_OK)
        err = required_check(ctx, at, desc, json);
    ctx->depth--;
    if (err != ACTOR_OK) {
        protobuf_c_message_free_unpacked(msg, ctx->allocator);
        return err;
    }
    *out = msg;
    return ACTOR_OK;
}

actor_err_t pbjson_to_message_ex(const ProtobufCMessageDescriptor *desc, const json_t *json,
                                 const pbjson_opts_t *opts, ProtobufCMessage **out, char *errbuf,
                                 size_t errlen)
{
    parse_ctx_t ctx = {0, NULL, errbuf, errlen, 0};
    ProtobufCMessage *msg = NULL;
    actor_err_t err;

    ACTOR_ASSERT(desc != NULL && desc->magic == PROTOBUF_C__MESSAGE_DESCRIPTOR_MAGIC);
    ACTOR_ASSERT(json != NULL && out != NULL);
    ACTOR_ASSERT(errbuf != NULL || errlen == 0);
    if (opts != NULL) {
        ctx.flags = opts->flags;
        ctx.allocator = opts->allocator;
    }
    if (errlen > 0)
        errbuf[0] = '\0';
    err = message_from_json(&ctx, NULL, desc, json, &msg);
    if (err != ACTOR_OK)
        return err;
    *out = msg;
    return ACTOR_OK;
}

actor_err_t pbjson_to_message(const ProtobufCMessageDescriptor *desc, const json_t *json,
                              ProtobufCMessage **out, char *errbuf, size_t errlen)
{
    return pbjson_to_message_ex(desc, json, NULL, out, errbuf, errlen);
}
