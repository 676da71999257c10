/* Tests of jsonbuf.h, the JSON text writer of the big /v2/apps answers: every byte value in
 * jsonbuf_string escaped as jansson's json_dumps escapes the same string (one byte alone, inside
 * text, all of them in one string), multi-byte UTF-8 as jansson writes it, invalid UTF-8 passed
 * through as the header defines (jansson refuses to dump it), integers and bools, raw and
 * json_t appends nested, and out-of-memory: sticky from the first failed allocation, the text
 * written before it a prefix of the whole, reported once in `failed`.
 *
 * The binary links with -Wl,--wrap=malloc,--wrap=realloc (CMakeLists.txt): jsonbuf's buffer
 * grows with realloc and jansson (linked statically) allocates with malloc while dumping. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "frameworks/marathon/jsonbuf.h"

/* ---- failing allocations ---- */

static long allocations_left = -1; /* -1: never fail */

static bool allocation_fails(void)
{
    if (allocations_left == 0)
        return true;
    if (allocations_left > 0)
        allocations_left--;
    return false;
}

void *__real_malloc(size_t size);
void *__real_realloc(void *p, size_t size);
void *__wrap_malloc(size_t size);
void *__wrap_realloc(void *p, size_t size);

void *__wrap_malloc(size_t size)
{
    return allocation_fails() ? NULL : __real_malloc(size);
}

void *__wrap_realloc(void *p, size_t size)
{
    return allocation_fails() ? NULL : __real_realloc(p, size);
}

/* ---- helpers ---- */

/* jsonbuf's text as a new NUL-terminated string. */
static char *text_of(const jsonbuf_t *b)
{
    assert_false(b->failed);
    char *s = calloc(1, b->len + 1);
    assert_non_null(s);
    if (b->len > 0)
        memcpy(s, b->data, b->len);
    return s;
}

/* What jsonbuf_string writes for s. */
static char *jsonbuf_of(const char *s)
{
    jsonbuf_t b;
    jsonbuf_init(&b, 0);
    jsonbuf_string(&b, s);
    char *text = text_of(&b);
    jsonbuf_fini(&b);
    return text;
}

/* What json_dumps writes for the string s (len bytes), or NULL when jansson refuses it. */
static char *jansson_of(const char *s, size_t len)
{
    json_t *j = json_stringn_nocheck(s, len);
    assert_non_null(j);
    char *text = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
    json_decref(j);
    return text;
}

/* Requires jsonbuf_string(s) == json_dumps(json_string(s)). */
static void same_as_jansson(const char *s)
{
    char *mine = jsonbuf_of(s);
    char *theirs = jansson_of(s, strlen(s));
    assert_non_null(theirs);
    if (strcmp(mine, theirs) != 0)
        fail_msg("string of %zu bytes: jsonbuf wrote %s, jansson %s", strlen(s), mine, theirs);
    free(mine);
    free(theirs);
}

/* The UTF-8 encoding of code point cp into out (room for 5). */
static void utf8(uint32_t cp, char *out)
{
    unsigned char *o = (unsigned char *)out;
    if (cp < 0x80) {
        *o++ = (unsigned char)cp;
    } else if (cp < 0x800) {
        *o++ = (unsigned char)(0xC0 | cp >> 6);
        *o++ = (unsigned char)(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        *o++ = (unsigned char)(0xE0 | cp >> 12);
        *o++ = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
        *o++ = (unsigned char)(0x80 | (cp & 0x3F));
    } else {
        *o++ = (unsigned char)(0xF0 | cp >> 18);
        *o++ = (unsigned char)(0x80 | (cp >> 12 & 0x3F));
        *o++ = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
        *o++ = (unsigned char)(0x80 | (cp & 0x3F));
    }
    *o = '\0';
}

/* ---- strings ---- */

/* Each byte 1..127 alone, inside text, and doubled; 0 ends the string (the empty string). */
static void test_every_ascii_byte(void **state)
{
    (void)state;
    same_as_jansson("");
    for (int c = 1; c < 0x80; c++) {
        char alone[2] = {(char)c, 0};
        char inside[8] = {'a', (char)c, 'z', 0};
        char twice[8] = {(char)c, (char)c, '-', (char)c, 0};
        same_as_jansson(alone);
        same_as_jansson(inside);
        same_as_jansson(twice);
    }
    /* The escapes themselves, spelled out (jansson's: named ones, the rest \u00XX upper case;
     * '/' and DEL as they are). */
    char *t = jsonbuf_of("\"\\\b\f\n\r\t\x01\x1f/\x7f");
    assert_string_equal(t, "\"\\\"\\\\\\b\\f\\n\\r\\t\\u0001\\u001F/\x7f\"");
    free(t);
}

/* Bytes 0x80..0xFF as the code points U+0080..U+00FF (two bytes each), and all of 1..127 and
 * those in one string. */
static void test_every_byte_in_one_string(void **state)
{
    (void)state;
    char all[128 + 2 * 128 + 1];
    size_t n = 0;
    for (int c = 1; c < 0x80; c++)
        all[n++] = (char)c;
    for (uint32_t cp = 0x80; cp <= 0xFF; cp++) {
        char enc[5];
        utf8(cp, enc);
        same_as_jansson(enc);
        memcpy(all + n, enc, 2);
        n += 2;
    }
    all[n] = '\0';
    same_as_jansson(all);
}

/* Multi-byte UTF-8 of every length, written as it is, as jansson writes it without
 * JSON_ENSURE_ASCII (U+2028 and U+2029 included: jansson does not escape them either). */
static void test_multibyte_utf8(void **state)
{
    (void)state;
    static const uint32_t points[] = {0x100,  0x7FF,  0x800,  0x20AC, 0x2028,  0x2029,  0xD7FF,
                                      0xE000, 0xFEFF, 0xFFFD, 0xFFFF, 0x10000, 0x1F600, 0x10FFFF};
    char mixed[256] = "k\"v\\";
    for (size_t k = 0; k < sizeof(points) / sizeof(points[0]); k++) {
        char enc[5], inside[16];
        utf8(points[k], enc);
        snprintf(inside, sizeof(inside), "\t%s\n", enc);
        same_as_jansson(enc);
        same_as_jansson(inside);
        strcat(mixed, enc);
        strcat(mixed, "\x1b");
    }
    same_as_jansson(mixed);
    char *t = jsonbuf_of("caf\xc3\xa9 \xf0\x9f\x98\x80");
    assert_string_equal(t, "\"caf\xc3\xa9 \xf0\x9f\x98\x80\"");
    free(t);
}

/* Invalid UTF-8 (a lone byte >= 0x80, truncated and overlong sequences, surrogates): jsonbuf
 * writes the bytes as they are, escaping only the ASCII around them, as the header says;
 * jansson's dump refuses such a string (so a text of them never came from a jansson tree). */
static void test_invalid_utf8_passes_through(void **state)
{
    (void)state;
    static const char *const cases[] = {
        "\x80",     "\xff",         "\xc3",
        "a\xc3",    "\xe2\x82",     "\xf0\x9f\x98",
        "\xc0\xaf", "\xed\xa0\x80", "\xf8\x88\x80\x80\x80",
    };
    for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        char want[32], in[32];
        snprintf(in, sizeof(in), "%s\n\"", cases[k]);
        snprintf(want, sizeof(want), "\"%s\\n\\\"\"", cases[k]);
        char *mine = jsonbuf_of(in);
        assert_string_equal(mine, want);
        free(mine);
        char *theirs = jansson_of(in, strlen(in));
        assert_null(theirs);
    }
    for (int c = 0x80; c <= 0xFF; c++) {
        char alone[2] = {(char)c, 0}, want[4] = {'"', (char)c, '"', 0};
        char *mine = jsonbuf_of(alone);
        assert_string_equal(mine, want);
        free(mine);
    }
}

/* ---- numbers, bools, raw and json appends ---- */

static void test_numbers_bools_null(void **state)
{
    (void)state;
    static const int64_t values[] = {0,         1,         -1,        42,       31000,
                                     INT32_MAX, INT32_MIN, INT64_MAX, INT64_MIN};
    for (size_t k = 0; k < sizeof(values) / sizeof(values[0]); k++) {
        jsonbuf_t b;
        jsonbuf_init(&b, 0);
        jsonbuf_int(&b, values[k]);
        char *mine = text_of(&b);
        json_t *j = json_integer(values[k]);
        char *theirs = json_dumps(j, JSON_ENCODE_ANY);
        assert_string_equal(mine, theirs);
        free(mine);
        free(theirs);
        json_decref(j);
        jsonbuf_fini(&b);
    }
    jsonbuf_t b;
    jsonbuf_init(&b, 16);
    jsonbuf_raw(&b, "[");
    jsonbuf_bool(&b, true);
    jsonbuf_raw(&b, ",");
    jsonbuf_bool(&b, false);
    jsonbuf_raw(&b, ",");
    jsonbuf_string(&b, NULL);
    jsonbuf_raw(&b, ",");
    jsonbuf_json(&b, NULL, 0);
    jsonbuf_append(&b, "]xyz", 1);
    char *t = text_of(&b);
    assert_string_equal(t, "[true,false,null,null]");
    free(t);
    jsonbuf_fini(&b);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
}

/* A document made of raw punctuation, strings, numbers and spliced json_t values (an object,
 * an array, a scalar), as api_apps.c writes an AppInfo: equal to the same tree dumped by
 * jansson, larger than the first 4 KiB so that the buffer grows several times. */
static json_t *sample_tree(int k)
{
    return json_pack("{s:s,s:i,s:b,s:[s,s,n],s:{s:f}}", "id", "/app\"\\\x01\xe2\x82\xac", "n",
                     (json_int_t)k * 1000003, "ok", k % 2, "list", "a", "\t/", "obj", "x", 0.5 + k);
}

static void write_doc(jsonbuf_t *b, json_t *const *trees, size_t count)
{
    jsonbuf_raw(b, "{\"apps\":[");
    for (size_t k = 0; k < count; k++) {
        jsonbuf_raw(b, k > 0 ? ",{\"id\":" : "{\"id\":");
        char id[32];
        snprintf(id, sizeof(id), "/g/app-%zu\n\"", k);
        jsonbuf_string(b, id);
        jsonbuf_raw(b, ",\"instances\":");
        jsonbuf_int(b, (int64_t)k - 3);
        jsonbuf_raw(b, ",\"healthy\":");
        jsonbuf_bool(b, k % 3 == 0);
        jsonbuf_raw(b, ",\"definition\":");
        jsonbuf_json(b, trees[k], JSON_COMPACT);
        jsonbuf_raw(b, ",\"scalar\":");
        jsonbuf_json(b, json_object_get(trees[k], "n"), JSON_COMPACT);
        jsonbuf_raw(b, "}");
    }
    jsonbuf_raw(b, "]}");
}

static json_t *doc_tree(json_t *const *trees, size_t count)
{
    json_t *apps = json_array();
    for (size_t k = 0; k < count; k++) {
        char id[32];
        snprintf(id, sizeof(id), "/g/app-%zu\n\"", k);
        json_array_append_new(apps,
                              json_pack("{s:s,s:I,s:b,s:O,s:O}", "id", id, "instances",
                                        (json_int_t)k - 3, "healthy", k % 3 == 0, "definition",
                                        trees[k], "scalar", json_object_get(trees[k], "n")));
    }
    return json_pack("{s:o}", "apps", apps);
}

#define DOC_APPS 120

static void test_nested_document_equals_jansson(void **state)
{
    (void)state;
    json_t *trees[DOC_APPS];
    for (int k = 0; k < DOC_APPS; k++)
        trees[k] = sample_tree(k);
    jsonbuf_t b;
    jsonbuf_init(&b, 0);
    write_doc(&b, trees, DOC_APPS);
    assert_true(b.len > 4 * 4096); /* grown 4 KiB -> 8 -> 16 -> 32 */
    char *mine = text_of(&b);
    json_t *tree = doc_tree(trees, DOC_APPS);
    char *theirs = json_dumps(tree, JSON_COMPACT | JSON_PRESERVE_ORDER);
    assert_string_equal(mine, theirs);
    json_t *parsed = json_loads(mine, 0, NULL);
    assert_true(json_equal(parsed, tree));
    json_decref(parsed);
    free(mine);
    free(theirs);
    json_decref(tree);
    jsonbuf_fini(&b);
    for (int k = 0; k < DOC_APPS; k++)
        json_decref(trees[k]);
}

/* ---- out of memory ---- */

/* A failed append sets `failed`; later appends, even with memory to spare, add nothing. */
static void test_out_of_memory_is_sticky(void **state)
{
    (void)state;
    jsonbuf_t b;
    jsonbuf_init(&b, 0);
    jsonbuf_raw(&b, "[1");
    assert_false(b.failed);
    size_t len = b.len, cap = b.cap;
    char big[5000];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    allocations_left = 0;
    jsonbuf_string(&b, big); /* needs more than the 4 KiB there */
    allocations_left = -1;
    assert_true(b.failed);
    jsonbuf_raw(&b, ",2");
    jsonbuf_int(&b, 3);
    jsonbuf_bool(&b, true);
    jsonbuf_string(&b, "s");
    json_t *j = json_pack("[i]", 4);
    jsonbuf_json(&b, j, 0);
    json_decref(j);
    assert_true(b.failed);
    assert_true(b.len <= len + 1); /* at most the string's opening quote */
    assert_int_equal(b.cap, cap);
    assert_memory_equal(b.data, "[1", 2);
    jsonbuf_fini(&b);

    /* A failed first reservation fails the buffer at once. */
    allocations_left = 0;
    jsonbuf_init(&b, 1 << 20);
    allocations_left = -1;
    assert_true(b.failed);
    jsonbuf_raw(&b, "x");
    assert_int_equal(b.len, 0);
    jsonbuf_fini(&b);
}

/* A dump jansson cannot finish (its allocation for the loop check fails) fails the buffer. */
static void test_json_dump_failure(void **state)
{
    (void)state;
    json_t *j = json_pack("{s:[i,i],s:{s:s}}", "a", 1, 2, "b", "c", "d");
    jsonbuf_t b;
    jsonbuf_init(&b, 4096);
    jsonbuf_raw(&b, "[");
    bool failed = false;
    for (long n = 0; n < 50 && !failed; n++) {
        allocations_left = n;
        jsonbuf_json(&b, j, JSON_SORT_KEYS);
        allocations_left = -1;
        failed = b.failed;
    }
    assert_true(failed);
    jsonbuf_fini(&b);
    json_decref(j);
}

/* The document under an allocation failure at each step: the text is complete and right, or
 * `failed` is set and what was written is a prefix of the right text. */
static void test_out_of_memory_each_step(void **state)
{
    (void)state;
    json_t *trees[DOC_APPS];
    for (int k = 0; k < DOC_APPS; k++)
        trees[k] = sample_tree(k);
    jsonbuf_t b;
    jsonbuf_init(&b, 0);
    write_doc(&b, trees, DOC_APPS);
    char *want = text_of(&b);
    size_t want_len = b.len;
    jsonbuf_fini(&b);
    long n;
    bool done = false;
    for (n = 0; !done && n < 100000; n++) {
        jsonbuf_init(&b, 0);
        allocations_left = n;
        write_doc(&b, trees, DOC_APPS);
        allocations_left = -1;
        if (b.failed) {
            assert_true(b.len < want_len);
            assert_true(b.len == 0 || memcmp(b.data, want, b.len) == 0);
        } else {
            assert_int_equal(b.len, want_len);
            assert_memory_equal(b.data, want, want_len);
            done = true;
        }
        jsonbuf_fini(&b);
    }
    assert_true(done);
    assert_true(n > DOC_APPS); /* the dumps' allocations failed too, not only the growth */
    free(want);
    for (int k = 0; k < DOC_APPS; k++)
        json_decref(trees[k]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_ascii_byte),
        cmocka_unit_test(test_every_byte_in_one_string),
        cmocka_unit_test(test_multibyte_utf8),
        cmocka_unit_test(test_invalid_utf8_passes_through),
        cmocka_unit_test(test_numbers_bools_null),
        cmocka_unit_test(test_nested_document_equals_jansson),
        cmocka_unit_test(test_out_of_memory_is_sticky),
        cmocka_unit_test(test_json_dump_failure),
        cmocka_unit_test(test_out_of_memory_each_step),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
