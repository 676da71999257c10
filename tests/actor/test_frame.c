/* Tests of frame.h: records round-trip whole, split at every byte, and bad input is refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "actor/frame.h"

typedef struct seen {
    int count;
    char last_from[64], last_to[64], last_type[64];
    uint8_t last_payload[256];
    size_t last_payload_len;
} seen_t;

static void copy_name(char *dst, const char *src, size_t len)
{
    memcpy(dst, src, len);
    dst[len] = '\0';
}

static void on_record(const frame_record_t *r, void *arg)
{
    seen_t *s = arg;
    s->count++;
    copy_name(s->last_from, r->from, r->from_len);
    copy_name(s->last_to, r->to, r->to_len);
    copy_name(s->last_type, r->type, r->type_len);
    memcpy(s->last_payload, r->payload, r->payload_len);
    s->last_payload_len = r->payload_len;
}

/* Writes the preamble and n records into buf; returns the length. */
static size_t build_stream(uint8_t *buf, int n, size_t payload_len)
{
    memcpy(buf, FRAME_PREAMBLE, FRAME_PREAMBLE_LEN);
    size_t at = FRAME_PREAMBLE_LEN;
    for (int i = 0; i < n; i++) {
        uint8_t *p = frame_record_write_header(buf + at, "a(1)@1.2.3.4:5", 14, "master", 6,
                                               "mesos.Ping", 10, payload_len);
        memset(p, 'x' + i, payload_len);
        at += frame_record_size(14, 6, 10, payload_len);
    }
    return at;
}

static void test_whole_stream(void **unused)
{
    (void)unused;
    uint8_t buf[4096];
    size_t len = build_stream(buf, 3, 17);
    frame_decoder_t d;
    frame_decoder_init(&d, 1024);
    seen_t s = {0};
    assert_int_equal(frame_decoder_feed(&d, buf, len, on_record, &s), ACTOR_OK);
    assert_int_equal(s.count, 3);
    assert_string_equal(s.last_from, "a(1)@1.2.3.4:5");
    assert_string_equal(s.last_to, "master");
    assert_string_equal(s.last_type, "mesos.Ping");
    assert_int_equal(s.last_payload_len, 17);
    assert_int_equal(s.last_payload[0], 'x' + 2);
    assert_false(frame_decoder_partial(&d));
    frame_decoder_fini(&d);
}

static void test_split_at_every_byte(void **unused)
{
    (void)unused;
    uint8_t buf[4096];
    size_t len = build_stream(buf, 4, 33);
    for (size_t cut = 1; cut < len; cut++) {
        frame_decoder_t d;
        frame_decoder_init(&d, 1024);
        seen_t s = {0};
        assert_int_equal(frame_decoder_feed(&d, buf, cut, on_record, &s), ACTOR_OK);
        assert_int_equal(frame_decoder_feed(&d, buf + cut, len - cut, on_record, &s), ACTOR_OK);
        assert_int_equal(s.count, 4);
        assert_int_equal(s.last_payload[32], 'x' + 3);
        frame_decoder_fini(&d);
    }
    /* And one byte at a time. */
    frame_decoder_t d;
    frame_decoder_init(&d, 1024);
    seen_t s = {0};
    for (size_t i = 0; i < len; i++) {
        assert_int_equal(frame_decoder_feed(&d, buf + i, 1, on_record, &s), ACTOR_OK);
        if (i == FRAME_PREAMBLE_LEN)
            assert_true(frame_decoder_partial(&d)); /* one byte of a length field held */
    }
    assert_false(frame_decoder_partial(&d));
    assert_int_equal(s.count, 4);
    frame_decoder_fini(&d);
}

static void test_oversized_record_is_skipped(void **unused)
{
    (void)unused;
    uint8_t buf[8192];
    memcpy(buf, FRAME_PREAMBLE, FRAME_PREAMBLE_LEN);
    size_t at = FRAME_PREAMBLE_LEN;
    uint8_t *p = frame_record_write_header(buf + at, "a@1.2.3.4:5", 11, "m", 1, "T", 1, 2000);
    memset(p, 0, 2000);
    at += frame_record_size(11, 1, 1, 2000);
    p = frame_record_write_header(buf + at, "a@1.2.3.4:5", 11, "m", 1, "T", 1, 3);
    memcpy(p, "abc", 3);
    at += frame_record_size(11, 1, 1, 3);

    for (size_t cut = 1; cut < at; cut += 97) {
        frame_decoder_t d;
        frame_decoder_init(&d, 100);
        seen_t s = {0};
        assert_int_equal(frame_decoder_feed(&d, buf, cut, on_record, &s), ACTOR_OK);
        assert_int_equal(frame_decoder_feed(&d, buf + cut, at - cut, on_record, &s), ACTOR_OK);
        assert_int_equal(d.oversized, 1);
        assert_int_equal(s.count, 1);
        assert_int_equal(s.last_payload_len, 3);
        frame_decoder_fini(&d);
    }
}

static void test_garbage_is_refused(void **unused)
{
    (void)unused;
    frame_decoder_t d;
    seen_t s = {0};

    frame_decoder_init(&d, 1024);
    assert_int_equal(
        frame_decoder_feed(&d, (const uint8_t *)"GET / HTTP/1.1\r\n", 16, on_record, &s),
        ACTOR_EPROTO);
    frame_decoder_fini(&d);

    /* Names longer than the record. */
    uint8_t bad[FRAME_PREAMBLE_LEN + 12];
    memcpy(bad, FRAME_PREAMBLE, FRAME_PREAMBLE_LEN);
    memcpy(bad + FRAME_PREAMBLE_LEN, "\x08\x00\x00\x00\x50zzzzzzz", 12);
    frame_decoder_init(&d, 1024);
    assert_int_equal(frame_decoder_feed(&d, bad, sizeof(bad), on_record, &s), ACTOR_EPROTO);
    frame_decoder_fini(&d);

    /* A control character in a name. */
    memcpy(bad + FRAME_PREAMBLE_LEN, "\x08\x00\x00\x00\x01\n\x01x\x01y\x00\x00", 12);
    frame_decoder_init(&d, 1024);
    assert_int_equal(frame_decoder_feed(&d, bad, sizeof(bad), on_record, &s), ACTOR_EPROTO);
    frame_decoder_fini(&d);

    /* An empty type name. */
    memcpy(bad + FRAME_PREAMBLE_LEN, "\x06\x00\x00\x00\x01x\x01y\x00\x00\x00\x00", 12);
    frame_decoder_init(&d, 1024);
    assert_int_equal(frame_decoder_feed(&d, bad, FRAME_PREAMBLE_LEN + 10, on_record, &s),
                     ACTOR_EPROTO);
    frame_decoder_fini(&d);
    assert_int_equal(s.count, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_whole_stream),
        cmocka_unit_test(test_split_at_every_byte),
        cmocka_unit_test(test_oversized_record_is_skipped),
        cmocka_unit_test(test_garbage_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
