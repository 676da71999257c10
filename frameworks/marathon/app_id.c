/*
 * app_id.c: Marathon's path ids (state/PathId.scala). An id is a list of segments: leading,
 * trailing and repeated slashes are dropped, a relative id is appended to its base (the root, or
 * the app's group for dependencies), "." and ".." are resolved ("..' above the root stays at the
 * root), and every segment must be a lower-case DNS-like label. The last segment must not be one
 * of the suffixes the API reserves (restart, tasks, versions).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frameworks/marathon/app_int.h"

static const char *const reserved_keywords[] = {"restart", "tasks", "versions"};

/* One label of a segment: [a-z0-9] at both ends, [a-z0-9-] inside. */
static bool label_ok(const char *s, size_t n)
{
    if (n == 0 || s[0] == '-' || s[n - 1] == '-')
        return false;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-'))
            return false;
    }
    return true;
}

/* A segment: labels joined by dots (the pattern's `(label\.)*label`). */
static bool segment_ok(const char *s, size_t n)
{
    size_t start = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i == n || s[i] == '.') {
            if (!label_ok(s + start, i - start))
                return false;
            start = i + 1;
        }
    }
    return true;
}

typedef struct segments {
    const char **ptr; /* into the input strings */
    size_t *len;
    size_t count;
} segments_t;

/* Appends the segments of path to segs, resolving "." and "..". segs has room for every
 * segment (at most strlen / 1 + 1). */
static void push_segments(segments_t *segs, const char *path)
{
    const char *p = path;
    while (*p != '\0') {
        while (*p == '/')
            p++;
        const char *start = p;
        while (*p != '\0' && *p != '/')
            p++;
        size_t n = (size_t)(p - start);
        if (n == 0 || (n == 1 && start[0] == '.'))
            continue;
        if (n == 2 && start[0] == '.' && start[1] == '.') {
            if (segs->count > 0)
                segs->count--;
            continue;
        }
        segs->ptr[segs->count] = start;
        segs->len[segs->count] = n;
        segs->count++;
    }
}

/* Checks the resolved segments; writes Marathon's message to err on a violation. */
static bool segments_valid(const segments_t *segs, bool *is_root, char *err, size_t err_len)
{
    if (segs->count == 0) {
        *is_root = true;
        snprintf(err, err_len, "Path must contain at least one path element");
        return false;
    }
    for (size_t i = 0; i < segs->count; i++) {
        if (!segment_ok(segs->ptr[i], segs->len[i])) {
            snprintf(err, err_len, "must fully match regular expression '%s'",
                     APP_ID_SEGMENT_PATTERN);
            return false;
        }
    }
    size_t last = segs->count - 1;
    for (size_t i = 0; i < sizeof(reserved_keywords) / sizeof(reserved_keywords[0]); i++) {
        if (segs->len[last] == strlen(reserved_keywords[i]) &&
            memcmp(segs->ptr[last], reserved_keywords[i], segs->len[last]) == 0) {
            snprintf(err, err_len,
                     "must not end with any of the following reserved keywords: restart, "
                     "tasks, versions");
            return false;
        }
    }
    return true;
}

static char *segments_join(const segments_t *segs)
{
    size_t total = 1;
    for (size_t i = 0; i < segs->count; i++)
        total += segs->len[i] + 1;
    char *out = malloc(total);
    if (out == NULL)
        return NULL;
    char *w = out;
    for (size_t i = 0; i < segs->count; i++) {
        *w++ = '/';
        memcpy(w, segs->ptr[i], segs->len[i]);
        w += segs->len[i];
    }
    if (segs->count == 0)
        *w++ = '/';
    *w = '\0';
    return out;
}

char *app_id_resolve(const char *id, const char *base, bool *is_root, char *err, size_t err_len)
{
    if (err_len > 0)
        err[0] = '\0';
    *is_root = false;
    bool absolute = id[0] == '/';
    size_t room = strlen(id) + (absolute ? 0 : strlen(base)) + 2;
    segments_t segs = {.ptr = malloc(room * sizeof(*segs.ptr)),
                       .len = malloc(room * sizeof(*segs.len))};
    char *out = NULL;
    if (segs.ptr == NULL || segs.len == NULL)
        goto done;
    if (!absolute)
        push_segments(&segs, base);
    push_segments(&segs, id);
    if (segments_valid(&segs, is_root, err, err_len))
        out = segments_join(&segs);
done:
    free(segs.ptr);
    free(segs.len);
    return out;
}

char *app_id_parent(const char *id)
{
    const char *slash = strrchr(id, '/');
    size_t n = slash == NULL || slash == id ? 1 : (size_t)(slash - id);
    char *out = malloc(n + 1);
    if (out == NULL)
        return NULL;
    memcpy(out, slash == NULL || slash == id ? "/" : id, n);
    out[n] = '\0';
    return out;
}

char *marathon_app_id_normalize(const char *id, char *err, size_t err_len)
{
    bool is_root;
    return app_id_resolve(id, "/", &is_root, err, err_len);
}
