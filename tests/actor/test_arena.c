/* Tests of arena.c (actor_int.h): the per-thread bump allocator that protobuf-c unpacks messages
 * into. Pieces are 16-byte aligned and never overlap, pieces larger than the block get their own
 * memory that arena_reset gives back, a real message unpacks into it, and after a reset the same
 * space serves again. Heap use is read from the allocator (ASan's counters in a sanitized build,
 * mallinfo2 otherwise), so "given back" is measured rather than assumed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "actor/actor_int.h"
#include "test_actor.pb-c.h"

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TEST_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define TEST_ASAN 1
#endif

#ifdef TEST_ASAN
/* From <sanitizer/allocator_interface.h>, which clang ships and gcc does not. */
size_t __sanitizer_get_current_allocated_bytes(void);
static size_t heap_in_use(void)
{
    return __sanitizer_get_current_allocated_bytes();
}
#else
#include <malloc.h>
static size_t heap_in_use(void)
{
    struct mallinfo2 mi = mallinfo2();
    return mi.uordblks + mi.hblkhd;
}
#endif

#define BLOCK (64 * 1024) /* arena.c's block */
#define MIB   (1024 * 1024)

static void *arena_get(size_t size)
{
    void *p = arena_allocator.alloc(arena_allocator.allocator_data, size);
    assert_non_null(p);
    assert_int_equal((uintptr_t)p % 16, 0);
    return p;
}

static int teardown(void **unused)
{
    (void)unused;
    arena_release();
    return 0;
}

/* Fills n pieces of sizes size(i) with byte i, then checks every piece still holds its byte: a
 * piece overlapping another would have been overwritten by it. */
static void fill_and_check(size_t n, size_t (*size)(size_t i))
{
    uint8_t **pieces = calloc(n, sizeof(*pieces));
    assert_non_null(pieces);
    for (size_t i = 0; i < n; i++) {
        pieces[i] = arena_get(size(i));
        memset(pieces[i], (int)(i & 0xff), size(i));
    }
    for (size_t i = 0; i < n; i++) {
        for (size_t k = 0; k < size(i); k++)
            assert_int_equal(pieces[i][k], i & 0xff);
        for (size_t j = 0; j < i; j++)
            assert_ptr_not_equal(pieces[i], pieces[j]);
    }
    free(pieces);
}

static size_t small_size(size_t i)
{
    return i + 1; /* 1 to 200 bytes: 20 KiB in all, within one block */
}

static size_t kib_size(size_t i)
{
    return 1000 + i % 7; /* 100 pieces, ~100 KiB: the block fills and overflow takes the rest */
}

static void test_pieces_aligned_and_distinct(void **unused)
{
    (void)unused;
    fill_and_check(200, small_size);
    arena_reset();
    fill_and_check(100, kib_size);
    arena_reset();
}

/* Sizes whose rounding or overflow header would wrap are refused, not half-served. */
static void test_huge_sizes_are_refused(void **unused)
{
    (void)unused;
    assert_null(arena_allocator.alloc(NULL, SIZE_MAX));
    assert_null(arena_allocator.alloc(NULL, SIZE_MAX - 8));
    assert_null(arena_allocator.alloc(NULL, SIZE_MAX - 15));
    void *a = arena_allocator.alloc(NULL, 16), *b = arena_allocator.alloc(NULL, 16);
    assert_ptr_not_equal(a, b);
    arena_reset();
}

static void test_reset_reuses_the_block(void **unused)
{
    (void)unused;
    uint8_t *first = arena_get(100);
    uint8_t *second = arena_get(100);
    assert_true(second >= first + 100);
    arena_reset();
    assert_ptr_equal(arena_get(100), first);

    /* After a release the arena starts again from a fresh block. */
    arena_release();
    memset(arena_get(BLOCK), 0xab, BLOCK); /* exactly one block fits */
    memset(arena_get(16), 0xcd, 16);       /* and the next piece overflows */
}

static void test_large_piece_is_given_back_by_reset(void **unused)
{
    (void)unused;
    arena_get(16); /* the block exists before measuring */
    size_t before = heap_in_use();

    uint8_t *big = arena_get(MIB);
    memset(big, 0x5a, MIB); /* all of it is usable (ASan checks the bounds) */
    uint8_t *past_block = arena_get(BLOCK + 1);
    memset(past_block, 0xa5, BLOCK + 1);
    uint8_t *small = arena_get(32); /* small pieces still come from the block */
    memset(small, 1, 32);
    assert_true(big[MIB - 1] == 0x5a && past_block[0] == 0xa5);
    size_t during = heap_in_use();
    assert_true(during >= before + MIB + BLOCK);

    arena_reset();
    size_t after = heap_in_use();
    assert_true(after + MIB + BLOCK <= during);
}

/* Packs a Ping with seq and a payload of len bytes (byte k is k * 7); the caller frees *out. */
static size_t pack_ping(uint64_t seq, size_t len, uint8_t **out)
{
    Actortest__Ping ping = ACTORTEST__PING__INIT;
    uint8_t *payload = malloc(len);
    assert_non_null(payload);
    for (size_t k = 0; k < len; k++)
        payload[k] = (uint8_t)(k * 7);
    ping.has_seq = true;
    ping.seq = seq;
    ping.has_payload = true;
    ping.payload.data = payload;
    ping.payload.len = len;
    size_t size = protobuf_c_message_get_packed_size(&ping.base);
    *out = malloc(size);
    assert_non_null(*out);
    assert_int_equal(protobuf_c_message_pack(&ping.base, *out), size);
    free(payload);
    return size;
}

static const Actortest__Ping *unpack_ping(const uint8_t *wire, size_t size, uint64_t seq,
                                          size_t len)
{
    const Actortest__Ping *ping = (const Actortest__Ping *)protobuf_c_message_unpack(
        &actortest__ping__descriptor, &arena_allocator, size, wire);
    assert_non_null(ping);
    assert_int_equal((uintptr_t)ping % 16, 0);
    assert_true(ping->has_seq);
    assert_int_equal(ping->seq, seq);
    assert_true(ping->has_payload);
    assert_int_equal(ping->payload.len, len);
    for (size_t k = 0; k < len; k++)
        assert_int_equal(ping->payload.data[k], (uint8_t)(k * 7));
    return ping;
}

static void test_unpack_message_into_arena(void **unused)
{
    (void)unused;
    uint8_t *wire;
    size_t size = pack_ping(42, 1000, &wire);
    const Actortest__Ping *first = unpack_ping(wire, size, 42, 1000);
    arena_reset();

    /* The space is reused: every decode after a reset lands where the first did, and the heap
     * does not grow however many messages pass. */
    size_t before = heap_in_use();
    for (int i = 0; i < 1000; i++) {
        assert_ptr_equal(unpack_ping(wire, size, 42, 1000), first);
        arena_reset();
    }
    assert_int_equal(heap_in_use(), before);
    free(wire);
}

static void test_unpack_message_larger_than_block(void **unused)
{
    (void)unused;
    uint8_t *wire;
    size_t size = pack_ping(7, 4 * BLOCK, &wire);
    arena_get(16);
    size_t before = heap_in_use();
    unpack_ping(wire, size, 7, 4 * BLOCK);
    assert_true(heap_in_use() >= before + 4 * BLOCK);
    arena_reset();
    assert_true(heap_in_use() <= before);
    free(wire);
}

/* Allocates from this thread's arena (no cmocka asserts off the test thread); returns main_piece
 * if its own piece is elsewhere, NULL otherwise. */
static void *alloc_on_other_thread(void *main_piece)
{
    uint8_t *mine = arena_allocator.alloc(arena_allocator.allocator_data, 64);
    bool distinct = mine != NULL && mine != main_piece;
    if (mine != NULL)
        memset(mine, 0x77, 64);
    arena_release(); /* a thread frees its own arena before it ends */
    return distinct ? main_piece : NULL;
}

static void test_arena_per_thread(void **unused)
{
    (void)unused;
    uint8_t *main_piece = arena_get(64);
    memset(main_piece, 0x11, 64);
    pthread_t t;
    void *result;
    assert_int_equal(pthread_create(&t, NULL, alloc_on_other_thread, main_piece), 0);
    assert_int_equal(pthread_join(t, &result), 0);
    assert_ptr_equal(result, main_piece);
    for (int k = 0; k < 64; k++)
        assert_int_equal(main_piece[k], 0x11);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_huge_sizes_are_refused),
        cmocka_unit_test_teardown(test_pieces_aligned_and_distinct, teardown),
        cmocka_unit_test_teardown(test_reset_reuses_the_block, teardown),
        cmocka_unit_test_teardown(test_large_piece_is_given_back_by_reset, teardown),
        cmocka_unit_test_teardown(test_unpack_message_into_arena, teardown),
        cmocka_unit_test_teardown(test_unpack_message_larger_than_block, teardown),
        cmocka_unit_test_teardown(test_arena_per_thread, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
