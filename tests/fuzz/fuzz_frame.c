/* libFuzzer target: the transport's record decoder fed arbitrary bytes, whole and split in two
 * at a point the input chooses. It must never crash, leak or read out of bounds, and the split
 * must not change what is decoded. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "actor/frame.h"

typedef struct tally {
    uint64_t records, bytes;
} tally_t;

static void count(const frame_record_t *r, void *arg)
{
    tally_t *t = arg;
    t->records++;
    t->bytes += r->from_len + r->to_len + r->type_len + r->payload_len;
    /* Touch every byte so that ASan checks the pointers. */
    volatile uint8_t sink = 0;
    for (size_t i = 0; i < r->payload_len; i++)
        sink ^= r->payload[i];
    (void)sink;
}

static actor_err_t decode(const uint8_t *data, size_t len, size_t cut, tally_t *t)
{
    frame_decoder_t d;
    frame_decoder_init(&d, 4096);
    actor_err_t err = frame_decoder_feed(&d, data, cut, count, t);
    if (err == ACTOR_OK)
        err = frame_decoder_feed(&d, data + cut, len - cut, count, t);
    frame_decoder_fini(&d);
    return err;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
    if (len < 1)
        return 0;
    size_t cut = data[0] % len;
    /* Most inputs get the preamble for free, so the fuzzer explores records. */
    uint8_t *input = malloc(len - 1 + 8);
    memcpy(input, "ACTR\x00\x01\r\n", 8);
    memcpy(input + 8, data + 1, len - 1);
    size_t input_len = len - 1 + 8;
    tally_t whole = {0}, split = {0};
    actor_err_t a = decode(input, input_len, input_len, &whole);
    actor_err_t b = decode(input, input_len, cut < input_len ? cut : input_len, &split);
    if (a != b || whole.records != split.records || whole.bytes != split.bytes)
        abort();
    free(input);
    return 0;
}
