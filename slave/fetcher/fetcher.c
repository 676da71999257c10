/*
 * fetcher.c: fetcher_fetch (fetcher.h), one URI into the sandbox.
 *
 * A fetch is a short pipeline over one fetch_t:
 *
 *   prepare   check the URI and the options, pick the source (local path or HTTP), the name in
 *             the sandbox, the owner, and open the directory the file goes into
 *   direct    produce the content into a temporary file in that directory, or
 *   cached    produce it into a new cache entry (or find one) and copy that into the temporary file
 *   place     name it (the URI's base name, else the Content-Disposition name, else "index.html"),
 *             set its mode and owner, rename it into place
 *   extract   unpack it into the sandbox if asked
 *
 * Directories are handled by descriptor (openat, renameat, O_NOFOLLOW) so that nothing already in
 * the sandbox can redirect a write outside it.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "slave/fetcher/fetcher_int.h"

#define DEFAULT_NAME "index.html"

typedef struct fetch {
    const fetcher_options_t *opts;
    const fetcher_uri_t *uri;
    const char *value;        /* uri->value without leading white space */
    const char *local_path;   /* the file to copy, or NULL for an HTTP(S) URI */
    char name[NAME_MAX + 1];  /* the file's name, "" until a download names it */
    char subdir[PATH_MAX];    /* output_file's directory, "" for the sandbox itself */
    fetcher_owner_t owner;    /* opts->user, resolved */
    int dest_fd;              /* the directory the file goes into */
    char dest_path[PATH_MAX]; /* its path, for messages */
    fetcher_result_t *result; /* never NULL here */
    char why[1024];           /* the reason of a failure */
} fetch_t;

void fetcher_options_init(fetcher_options_t *opts)
{
    memset(opts, 0, sizeof(*opts));
    opts->cache_max_bytes = FETCHER_DEFAULT_CACHE_BYTES;
    opts->stall_timeout_secs = FETCHER_DEFAULT_STALL_TIMEOUT_SECS;
}

void fetcher_uri_init(fetcher_uri_t *uri)
{
    memset(uri, 0, sizeof(*uri));
    uri->extract = true;
}

static actor_err_t fail(fetch_t *f, actor_err_t err, const char *fmt, const char *arg)
{
    return fetcher_fail(f->why, sizeof(f->why), err, fmt, arg);
}

static bool has_prefix_nocase(const char *s, const char *prefix)
{
    return strncasecmp(s, prefix, strlen(prefix)) == 0;
}

/* ---- prepare ------------------------------------------------------------------------------ */

/* Copies the last non-empty '/'-separated segment of s[0..len) into f->name ("" if none, or if it
 * is "." or ".."). */
static actor_err_t last_segment(fetch_t *f, const char *s, size_t len)
{
    while (len > 0 && s[len - 1] == '/')
        len--;
    size_t start = len;
    while (start > 0 && s[start - 1] != '/')
        start--;
    size_t n = len - start;
    if (n > NAME_MAX)
        return fail(f, ACTOR_EINVAL, "File name too long in '%s'", f->value);
    memcpy(f->name, s + start, n);
    f->name[n] = '\0';
    if (strcmp(f->name, ".") == 0 || strcmp(f->name, "..") == 0)
        f->name[0] = '\0';
    return ACTOR_OK;
}

/* The base name of an HTTP(S) URI: the path's last segment, without query or fragment. */
static actor_err_t http_basename(fetch_t *f)
{
    const char *rest = strstr(f->value, "://") + 3;
    size_t authority = strcspn(rest, "/?#");
    const char *path = rest + authority;
    return last_segment(f, path, strcspn(path, "?#"));
}

static actor_err_t pick_source(fetch_t *f)
{
    const char *v = f->value;
    if (has_prefix_nocase(v, "http://") || has_prefix_nocase(v, "https://"))
        return http_basename(f);
    if (strncmp(v, "file://", 7) == 0) {
        v += 7;
        if (strncmp(v, "localhost/", 10) == 0)
            v += 9;
        if (v[0] != '/')
            return fail(f, ACTOR_EINVAL, "%s", "File URI only supports absolute paths");
    } else if (strstr(v, "://") != NULL) {
        return fail(f, ACTOR_EINVAL, "%s",
                    "Unsupported URI scheme (the fetcher takes http, https, file and paths)");
    } else if (v[0] != '/') {
        return fail(f, ACTOR_EINVAL, "%s",
                    "A relative path was passed for the resource: give an absolute path");
    }
    f->local_path = v;
    actor_err_t err = last_segment(f, v, strlen(v));
    if (err == ACTOR_OK && f->name[0] == '\0')
        err = fail(f, ACTOR_EINVAL, "Malformed path (no file name): '%s'", v);
    return err;
}

/* output_file: relative, no "..", a file name at the end; split into subdir and name. */
static actor_err_t pick_output_file(fetch_t *f, const char *out)
{
    if (out[0] == '\0' || out[0] == '/' || fetcher_has_control(out))
        return fail(f, ACTOR_EINVAL, "Invalid output_file '%s': it must be a relative path", out);
    for (const char *p = out; *p != '\0';) {
        size_t n = strcspn(p, "/");
        if (n == 2 && p[0] == '.' && p[1] == '.')
            return fail(f, ACTOR_EINVAL, "Invalid output_file '%s': it may not contain '..'", out);
        p += n;
        while (*p == '/')
            p++;
    }
    const char *slash = strrchr(out, '/');
    const char *base = slash != NULL ? slash + 1 : out;
    if (base[0] == '\0' || strcmp(base, ".") == 0 || strlen(base) > NAME_MAX ||
        strlen(out) >= sizeof(f->subdir))
        return fail(f, ACTOR_EINVAL, "Invalid output_file '%s': it must name a file", out);
    snprintf(f->name, sizeof(f->name), "%s", base);
    snprintf(f->subdir, sizeof(f->subdir), "%.*s", slash != NULL ? (int)(slash - out) : 0, out);
    return ACTOR_OK;
}

static actor_err_t resolve_owner(fetch_t *f)
{
    const char *user = f->opts->user;
    if (user == NULL)
        return ACTOR_OK;
    struct passwd pw, *found = NULL;
    char buf[4096];
    int rc = getpwnam_r(user, &pw, buf, sizeof(buf), &found);
    if (rc != 0) {
        errno = rc;
        return fetcher_fail_errno(f->why, sizeof(f->why), "Failed to look up user", user);
    }
    if (found == NULL)
        return fail(f, ACTOR_EINVAL, "Unknown user '%s'", user);
    f->owner = (fetcher_owner_t){.set = true, .uid = pw.pw_uid, .gid = pw.pw_gid};
    return ACTOR_OK;
}

/* Opens (creating what is missing, each new directory given to the owner) sandbox/subdir. */
static actor_err_t open_dest(fetch_t *f)
{
    const char *sandbox = f->opts->sandbox;
    snprintf(f->dest_path, sizeof(f->dest_path), "%s", sandbox);
    f->dest_fd = open(sandbox, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (f->dest_fd < 0)
        return fetcher_fail_errno(f->why, sizeof(f->why), "Failed to open the sandbox", sandbox);
    for (const char *p = f->subdir; *p != '\0';) {
        size_t n = strcspn(p, "/");
        char part[NAME_MAX + 1];
        snprintf(part, sizeof(part), "%.*s", (int)n, p);
        size_t used = strlen(f->dest_path);
        snprintf(f->dest_path + used, sizeof(f->dest_path) - used, "/%s", part);
        if (mkdirat(f->dest_fd, part, 0755) == 0 && f->owner.set)
            fchownat(f->dest_fd, part, f->owner.uid, f->owner.gid, AT_SYMLINK_NOFOLLOW);
        int next = openat(f->dest_fd, part, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (next < 0)
            return fetcher_fail_errno(f->why, sizeof(f->why), "Failed to create directory",
                                      f->dest_path);
        close(f->dest_fd);
        f->dest_fd = next;
        p += n;
        while (*p == '/')
            p++;
    }
    return ACTOR_OK;
}

static actor_err_t prepare(fetch_t *f)
{
    if (f->opts == NULL || f->opts->sandbox == NULL || f->opts->sandbox[0] == '\0')
        return fail(f, ACTOR_EINVAL, "%s", "No sandbox directory was given");
    if (f->uri->value == NULL)
        return fail(f, ACTOR_EINVAL, "%s", "The URI has no value");
    f->value = f->uri->value;
    while (isspace((unsigned char)*f->value))
        f->value++;
    if (f->value[0] == '\0')
        return fail(f, ACTOR_EINVAL, "%s", "The URI is empty");
    if (fetcher_has_control(f->value) || strpbrk(f->value, "\\'") != NULL)
        return fail(f, ACTOR_EINVAL, "%s", "Illegal characters in URI");
    actor_err_t err = pick_source(f);
    if (err == ACTOR_OK && f->uri->output_file != NULL)
        err = pick_output_file(f, f->uri->output_file);
    if (err == ACTOR_OK)
        err = resolve_owner(f);
    if (err == ACTOR_OK)
        err = open_dest(f);
    return err;
}

/* ---- produce, place, extract ------------------------------------------------------------- */

/* Writes the source's content into fd and gives fd the file's mode: the source's permissions for
 * a copy (as cp), 0644 for a download. A fill_fn_t. */
static actor_err_t produce(fetch_t *f, int fd, const void *arg, char *disposition,
                           size_t disposition_len)
{
    (void)arg;
    disposition[0] = '\0';
    if (f->local_path == NULL) {
        actor_err_t err = fetcher_download(f->value, f->opts->stall_timeout_secs, fd, disposition,
                                           disposition_len, f->why, sizeof(f->why));
        if (err == ACTOR_OK && fchmod(fd, 0644) != 0)
            err = fetcher_fail_errno(f->why, sizeof(f->why), "Failed to chmod", f->dest_path);
        return err;
    }
    int in = open(f->local_path, O_RDONLY | O_CLOEXEC);
    if (in < 0)
        return fetcher_fail_errno(f->why, sizeof(f->why), "Failed to open", f->local_path);
    struct stat st;
    actor_err_t err = ACTOR_OK;
    if (fstat(in, &st) != 0)
        err = fetcher_fail_errno(f->why, sizeof(f->why), "Failed to stat", f->local_path);
    else if (!S_ISREG(st.st_mode))
        err = fail(f, ACTOR_EINVAL, "Failed to copy '%s': not a regular file", f->local_path);
    if (err == ACTOR_OK)
        err = fetcher_copy_fd(in, fd, f->local_path, f->dest_path, f->why, sizeof(f->why));
    if (err == ACTOR_OK && fchmod(fd, st.st_mode & 0777) != 0)
        err = fetcher_fail_errno(f->why, sizeof(f->why), "Failed to chmod", f->dest_path);
    close(in);
    return err;
}

static actor_err_t extract(fetch_t *f, int fd)
{
    const fetcher_uri_t *uri = f->uri;
    if (uri->executable || !uri->extract || fetcher_archive_kind(f->name) == FETCHER_ARCHIVE_NONE)
        return ACTOR_OK;
    actor_err_t err =
        fetcher_extract(fd, f->result->path, f->opts->sandbox, &f->owner, f->why, sizeof(f->why));
    f->result->extracted = err == ACTOR_OK;
    return err;
}

/* Names the temporary file tmp (open at fd), gives it its mode and owner and moves it into
 * place. */
static actor_err_t place(fetch_t *f, int fd, const char *tmp, const char *disposition)
{
    if (f->name[0] == '\0')
        snprintf(f->name, sizeof(f->name), "%s",
                 disposition[0] != '\0' ? disposition : DEFAULT_NAME);
    int n = snprintf(f->result->path, sizeof(f->result->path), "%s/%s", f->dest_path, f->name);
    if (n < 0 || (size_t)n >= sizeof(f->result->path))
        return fail(f, ACTOR_EINVAL, "The path of '%s' in the sandbox is too long", f->name);
    if (f->uri->executable && fchmod(fd, 0755) != 0)
        return fetcher_fail_errno(f->why, sizeof(f->why), "Failed to chmod executable",
                                  f->result->path);
    if (f->owner.set && fchown(fd, f->owner.uid, f->owner.gid) != 0)
        return fetcher_fail_errno(f->why, sizeof(f->why), "Failed to chown", f->result->path);
    if (renameat(f->dest_fd, tmp, f->dest_fd, f->name) != 0)
        return fetcher_fail_errno(f->why, sizeof(f->why), "Failed to move the file to",
                                  f->result->path);
    return ACTOR_OK;
}

/* ---- the two ways ------------------------------------------------------------------------- */

/* Writes the file's content into fd and names its Content-Disposition name (or ""). */
typedef actor_err_t (*fill_fn_t)(fetch_t *f, int fd, const void *arg, char *disposition,
                                 size_t disposition_len);

/* Fills a temporary file in the destination with fill, puts it in place and extracts it; a file
 * that does not reach its place is removed. */
static actor_err_t to_sandbox(fetch_t *f, fill_fn_t fill, const void *arg)
{
    char tmp[32], disposition[NAME_MAX + 1] = "";
    int fd;
    actor_err_t err =
        fetcher_tmpfile(f->dest_fd, f->dest_path, &fd, tmp, sizeof(tmp), f->why, sizeof(f->why));
    if (err != ACTOR_OK)
        return err;
    err = fill(f, fd, arg, disposition, sizeof(disposition));
    if (err == ACTOR_OK)
        err = place(f, fd, tmp, disposition);
    if (err != ACTOR_OK)
        unlinkat(f->dest_fd, tmp, 0);
    else
        err = extract(f, fd);
    close(fd);
    return err;
}

/* A fill_fn_t from a cache entry (arg): its content, its mode and its stored name. */
static actor_err_t copy_entry(fetch_t *f, int fd, const void *arg, char *disposition,
                              size_t disposition_len)
{
    const fetcher_cache_entry_t *entry = arg;
    struct stat st;
    if (fstat(entry->data_fd, &st) != 0)
        return fetcher_fail_errno(f->why, sizeof(f->why), "Failed to stat the cache entry",
                                  entry->key);
    actor_err_t err = fetcher_copy_fd(entry->data_fd, fd, "the cache entry", f->dest_path, f->why,
                                      sizeof(f->why));
    if (err == ACTOR_OK && fchmod(fd, st.st_mode & 0777) != 0)
        err = fetcher_fail_errno(f->why, sizeof(f->why), "Failed to chmod", f->dest_path);
    snprintf(disposition, disposition_len, "%s", entry->name);
    return err;
}

/* Produces the content into a new cache entry and publishes it. */
static actor_err_t cache_store(fetch_t *f, fetcher_cache_t *cache, fetcher_cache_entry_t *entry)
{
    char disposition[NAME_MAX + 1];
    actor_err_t err = produce(f, entry->data_fd, NULL, disposition, sizeof(disposition));
    if (err == ACTOR_OK)
        err = fetcher_cache_commit(cache, entry, f->value, f->opts->user, disposition, NULL, f->why,
                                   sizeof(f->why));
    return err;
}

/* A cache that cannot be opened or written is bypassed, as Mesos reverts to fetching directly
 * into the sandbox: a full or broken cache disk should not fail tasks. */
static actor_err_t fetch_cached(fetch_t *f)
{
    fetcher_cache_t cache;
    fetcher_cache_entry_t entry;
    if (fetcher_cache_open(&cache, f->opts->cache_dir, f->opts->cache_max_bytes, f->why,
                           sizeof(f->why)) != ACTOR_OK)
        return to_sandbox(f, produce, NULL);
    actor_err_t err = ACTOR_OK;
    if (fetcher_cache_get(&cache, f->value, f->opts->user, &entry) == ACTOR_OK) {
        f->result->from_cache = true;
    } else if (fetcher_cache_create(&cache, &entry, f->why, sizeof(f->why)) == ACTOR_OK) {
        err = cache_store(f, &cache, &entry);
    } else {
        fetcher_cache_close(&cache);
        return to_sandbox(f, produce, NULL);
    }
    if (err == ACTOR_OK)
        err = to_sandbox(f, copy_entry, &entry);
    fetcher_cache_entry_fini(&cache, &entry);
    fetcher_cache_close(&cache);
    return err;
}

/* ---- the entry point ---------------------------------------------------------------------- */

/* "Failed to fetch 'URI': reason" on one line. */
static void report(const fetch_t *f, char *err, size_t err_len)
{
    if (err == NULL || err_len == 0)
        return;
    const char *value = f->uri != NULL && f->uri->value != NULL ? f->uri->value : "";
    snprintf(err, err_len, "Failed to fetch '%s': %s", value, f->why);
    for (char *p = err; *p != '\0'; p++) {
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = '?';
    }
}

actor_err_t fetcher_fetch(const fetcher_options_t *opts, const fetcher_uri_t *uri,
                          fetcher_result_t *result, char *err, size_t err_len)
{
    fetcher_result_t scratch;
    fetch_t fetch = {.opts = opts, .uri = uri, .dest_fd = -1};
    fetch_t *f = &fetch;
    f->result = result != NULL ? result : &scratch;
    memset(f->result, 0, sizeof(*f->result));
    actor_err_t rc = uri == NULL ? fail(f, ACTOR_EINVAL, "%s", "No URI was given") : prepare(f);
    if (rc == ACTOR_OK)
        rc = uri->cache && opts->cache_dir != NULL ? fetch_cached(f) : to_sandbox(f, produce, NULL);
    if (rc != ACTOR_OK)
        report(f, err, err_len);
    if (f->dest_fd >= 0)
        close(f->dest_fd);
    return rc;
}
