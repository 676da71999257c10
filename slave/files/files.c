/*
 * files.c: the "files" actor (files.h), Mesos's FilesProcess.
 *
 * State: a table of attachments, virtual path -> real path (canonical when the attachment is
 * made), and a table of roots (files_root_add). files_attach() and files_detach() dispatch small
 * calls that edit the tables; the HTTP handlers read them. Every handler answers at once: file
 * reads are bounded (FILES_READ_MAX for read, FILES_DOWNLOAD_MAX for download) and files are opened
 * with O_NONBLOCK and checked to be regular files before reading, so no request can block the actor
 * on a FIFO.
 *
 * Resolution (Mesos's FilesProcess::resolve): the requested path, normalised (a "file://"
 * prefix, repeated and trailing '/' dropped), is cut back one component at a time until it
 * names an attachment; the rest is appended to the attachment's real path, and the result is
 * canonicalised and must lie inside that real path (compared by whole components, unlike
 * Mesos's plain prefix test, which lets "/tmp/ab" pass for "/tmp/a").
 *
 * Canonical attachments: an attached path is canonicalised with realpath, except below a root,
 * where it is the root's canonical form (realpath once, at the first attachment below it) with
 * the path's remaining components appended as they are. Because glibc's realpath reads every
 * component with a readlink, this saves a dozen system calls per sandbox (two attachments per
 * executor run). The agent vouches that it made those components itself with mkdir. If one is
 * nevertheless a link (a task that runs as the agent's user swapped it), the attachment's real
 * path names the directory the agent made, not where the link leads: every request is still
 * canonicalised with realpath, must lie inside that path, and is checked again on its open
 * descriptor (fd_inside), so the link only makes that sandbox unreadable, never opens what lies
 * outside it. (realpath at attach time would instead have adopted the link's target.)
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <uthash.h>

#include "actor/http.h"
#include "actor/log.h"
#include "actor/pid.h"
#include "slave/files/files.h"

/* A path and the canonical path it stands for. An attachment maps a virtual path to its real
 * path; a root (files_root_add) maps the directory as declared to its realpath, taken at the
 * first attachment below it (NULL before). */
typedef struct attachment {
    char *virtual_path; /* normalised: no trailing or repeated '/'; the table key */
    char *real_path;    /* canonical when attached (roots: NULL until taken) */
    unsigned refs;      /* roots: files_root_add calls not yet undone by files_root_remove */
    UT_hash_handle hh;
} attachment_t;

typedef struct files {
    attachment_t *attachments; /* uthash by virtual_path */
    attachment_t *roots;       /* uthash by the root's path */
} files_t;

/* ---- paths ---- */

/* A malloc'd copy of path without a "file://" prefix, repeated '/' or trailing '/' ("/" gives
 * ""), or NULL when out of memory. */
static char *normalize(const char *path)
{
    if (strncmp(path, "file://", 7) == 0)
        path += 7;
    char *out = malloc(strlen(path) + 1);
    if (out == NULL)
        return NULL;
    size_t n = 0;
    for (const char *p = path; *p != '\0'; p++) {
        if (*p == '/' && n > 0 && out[n - 1] == '/')
            continue;
        out[n++] = *p;
    }
    while (n > 0 && out[n - 1] == '/')
        n--;
    out[n] = '\0';
    return out;
}

/* True if path is root or lies below it (whole components). */
static bool inside(const char *path, const char *root)
{
    size_t n = strlen(root);
    if (n == 1 && root[0] == '/')
        return path[0] == '/';
    return strncmp(path, root, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

/* True unless /proc shows that the open fd lies outside root: a task that swaps a component of
 * the path for a link between resolve() and the open gains nothing. Without /proc, true. */
static bool fd_inside(int fd, const char *root)
{
    char link[64], target[PATH_MAX];
    snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, target, sizeof(target) - 1);
    if (n < 0)
        return true;
    target[n] = '\0';
    return inside(target, root);
}

static attachment_t *find(attachment_t *table, const char *virtual_path, size_t len)
{
    attachment_t *a = NULL;
    HASH_FIND(hh, table, virtual_path, len, a);
    return a;
}

/* The entry of table whose path is the longest prefix of path[0..*len) by whole components
 * ("" included), with *len cut to its length; NULL if none. */
static attachment_t *find_within(attachment_t *table, const char *path, size_t *len)
{
    attachment_t *a;
    while ((a = find(table, path, *len)) == NULL) {
        const char *slash = memrchr(path, '/', *len);
        if (slash == NULL)
            return NULL;
        *len = (size_t)(slash - path);
    }
    return a;
}

static void forget(attachment_t **table, attachment_t *a)
{
    HASH_DEL(*table, a);
    free(a->virtual_path);
    free(a->real_path);
    free(a);
}

/* What resolving a requested path gives: an HTTP status (200 when found) and, on 200, the
 * canonical real path and the attachment it lies in; on 400 or 500, a message. */
typedef struct resolved {
    int status;
    char *real;                   /* malloc'd on 200 */
    const attachment_t *within;   /* on 200 */
    char message[PATH_MAX + 128]; /* on 400 and 500, ending in ".\n" as Mesos's do */
} resolved_t;

static void resolve_inside(const attachment_t *a, const char *suffix, resolved_t *r)
{
    size_t len = strlen(a->real_path) + strlen(suffix) + 1;
    char *joined = malloc(len);
    if (joined == NULL) {
        r->status = 500;
        snprintf(r->message, sizeof(r->message), "Out of memory.\n");
        return;
    }
    snprintf(joined, len, "%s%s", a->real_path, suffix);
    r->real = realpath(joined, NULL);
    if (r->real == NULL) {
        bool missing = errno == ENOENT || errno == ENOTDIR;
        r->status = missing ? 404 : 400;
        snprintf(r->message, sizeof(r->message),
                 "Failed to determine canonical path of '%s': %s.\n", joined, strerror(errno));
    } else if (!inside(r->real, a->real_path)) {
        r->status = 400;
        snprintf(r->message, sizeof(r->message), "'%s' is inaccessible.\n", joined);
        free(r->real);
        r->real = NULL;
    } else {
        r->status = 200;
        r->within = a;
    }
    free(joined);
}

/* Resolves the virtual path requested into *r; the caller frees r->real. */
static void resolve(files_t *f, const char *requested, resolved_t *r)
{
    *r = (resolved_t){.status = 404};
    char *path = normalize(requested);
    if (path == NULL) {
        r->status = 500;
        snprintf(r->message, sizeof(r->message), "Out of memory.\n");
        return;
    }
    size_t len = strlen(path);
    attachment_t *a = find_within(f->attachments, path, &len);
    struct stat st;
    if (a == NULL || stat(a->real_path, &st) != 0) {
        free(path);
        return;
    }
    const char *suffix = path + len;
    if (S_ISDIR(st.st_mode)) {
        resolve_inside(a, suffix, r);
    } else if (suffix[0] == '\0') {
        /* An attached file: only its own virtual path reaches it. */
        r->real = strdup(a->real_path);
        r->status = r->real != NULL ? 200 : 500;
        r->within = a;
    }
    free(path);
}

/* ---- answers ---- */

static void respond_resolve_error(actor_http_request_t *req, const char *path, const resolved_t *r)
{
    if (r->status == 404)
        actor_http_respond_text(req, 404, "No file or directory at '%s'.\n", path);
    else
        actor_http_respond_text(req, r->status, "%s", r->message);
}

/* The request's `path` parameter, or NULL after answering 400 when it is missing or empty. */
static const char *path_param(actor_http_request_t *req)
{
    const char *path = actor_http_query(req, "path");
    if (path == NULL || path[0] == '\0') {
        actor_http_respond_text(req, 400, "Expecting 'path=value' in query.\n");
        return NULL;
    }
    return path;
}

/* Length of the valid UTF-8 sequence at s (at most n bytes), or 0 if it is not one. */
static size_t utf8_sequence(const unsigned char *s, size_t n)
{
    size_t len;
    unsigned min;
    if (s[0] < 0x80)
        return 1;
    if (s[0] >= 0xc2 && s[0] <= 0xdf)
        len = 2, min = 0x80;
    else if (s[0] >= 0xe0 && s[0] <= 0xef)
        len = 3, min = 0x800;
    else if (s[0] >= 0xf0 && s[0] <= 0xf4)
        len = 4, min = 0x10000;
    else
        return 0;
    if (n < len)
        return 0;
    unsigned cp = s[0] & (0x7f >> len);
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    bool surrogate = cp >= 0xd800 && cp <= 0xdfff;
    return cp >= min && cp <= 0x10ffff && !surrogate ? len : 0;
}

/* data as a JSON string: valid UTF-8 kept, every other byte b sent as the code point U+00b. */
static json_t *data_json(const char *data, size_t len)
{
    char *out = malloc(len * 2 + 1);
    if (out == NULL)
        return NULL;
    const unsigned char *s = (const unsigned char *)data;
    size_t n = 0;
    for (size_t i = 0; i < len;) {
        size_t seq = utf8_sequence(s + i, len - i);
        if (seq > 0) {
            memcpy(out + n, s + i, seq);
            n += seq;
            i += seq;
        } else {
            out[n++] = (char)(0xc0 | (s[i] >> 6));
            out[n++] = (char)(0x80 | (s[i] & 0x3f));
            i++;
        }
    }
    json_t *str = json_stringn(out, n);
    free(out);
    return str;
}

/* Resolves path (from path_param(), NULL after it answered) into *r; false after answering
 * when it is missing or does not resolve. The caller frees r->real on true. */
static bool resolve_param(files_t *f, actor_http_request_t *req, const char *path, resolved_t *r)
{
    if (path == NULL)
        return false;
    resolve(f, path, r);
    if (r->status == 200)
        return true;
    respond_resolve_error(req, path, r);
    return false;
}

/* ---- /files/browse ---- */

/* The name of user id (of group id when group), else the number, as Mesos shows owners. */
static json_t *owner_name(bool group, unsigned id)
{
    char buf[1024];
    const char *name = NULL;
    if (group) {
        struct group gr, *found = NULL;
        if (getgrgid_r(id, &gr, buf, sizeof(buf), &found) == 0 && found != NULL)
            name = found->gr_name;
    } else {
        struct passwd pw, *found = NULL;
        if (getpwuid_r(id, &pw, buf, sizeof(buf), &found) == 0 && found != NULL)
            name = found->pw_name;
    }
    if (name != NULL)
        return json_string(name);
    snprintf(buf, sizeof(buf), "%u", id);
    return json_string(buf);
}

/* "drwxr-xr-x" as Mesos's model(FileInfo) writes it. */
static void mode_string(mode_t mode, char out[11])
{
    char type = '-';
    if (S_ISDIR(mode))
        type = 'd';
    else if (S_ISCHR(mode))
        type = 'c';
    else if (S_ISBLK(mode))
        type = 'b';
    else if (S_ISFIFO(mode))
        type = 'p';
    else if (S_ISLNK(mode))
        type = 'l';
    else if (S_ISSOCK(mode))
        type = 's';
    static const char rwx[] = "rwxrwxrwx";
    out[0] = type;
    for (int i = 0; i < 9; i++)
        out[i + 1] = (mode & (0400 >> i)) ? rwx[i] : '-';
    out[10] = '\0';
}

/* One entry as Mesos's model(FileInfo), keys in its (sorted) order. */
static json_t *entry_json(const char *virtual_path, const struct stat *st)
{
    char mode[11];
    mode_string(st->st_mode, mode);
    return json_pack("{s:o, s:s, s:I, s:I, s:o, s:I, s:o}", "gid", owner_name(true, st->st_gid),
                     "mode", mode, "mtime", (json_int_t)st->st_mtime, "nlink",
                     (json_int_t)st->st_nlink, "path",
                     data_json(virtual_path, strlen(virtual_path)), "size", (json_int_t)st->st_size,
                     "uid", owner_name(false, st->st_uid));
}

/* Stats name in dir (real path real_dir) as Mesos does (following links), except that a link
 * leading outside root is described as the link itself, so its target's metadata stays
 * private. False for an entry that cannot be stat'ed (Mesos skips those too). */
static bool stat_entry(int dir, const char *real_dir, const char *name, const char *root,
                       struct stat *st)
{
    if (fstatat(dir, name, st, AT_SYMLINK_NOFOLLOW) != 0)
        return false;
    if (!S_ISLNK(st->st_mode))
        return true;
    char full[PATH_MAX];
    snprintf(full, sizeof(full), "%s/%s", real_dir, name);
    char *target = realpath(full, NULL);
    bool dangling = target == NULL && errno == ENOENT;
    bool within = target != NULL && inside(target, root);
    free(target);
    if (!within)
        return !dangling;
    return fstatat(dir, name, st, 0) == 0;
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The sorted names in the directory (without "." and ".."), or NULL (with *count 0) when it is
 * not a readable directory. */
static char **list_names(DIR *d, size_t *count)
{
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 32;
            char **grown = realloc(names, cap * sizeof(*names));
            if (grown == NULL)
                break;
            names = grown;
        }
        names[n] = strdup(e->d_name);
        if (names[n] != NULL)
            n++;
    }
    if (n > 0)
        qsort(names, n, sizeof(*names), compare_names);
    *count = n;
    return names;
}

static json_t *browse_json(const char *requested, const resolved_t *r)
{
    json_t *list = json_array();
    DIR *d = opendir(r->real);
    if (d == NULL)
        return list; /* a file, or gone: Mesos's os::ls fails and the listing is empty */
    if (!fd_inside(dirfd(d), r->within->real_path)) {
        closedir(d);
        return list; /* swapped for a link since resolve(): nothing to show */
    }
    size_t count = 0;
    char **names = list_names(d, &count);
    size_t base = strlen(requested);
    while (base > 0 && requested[base - 1] == '/')
        base--;
    for (size_t i = 0; i < count; i++) {
        struct stat st;
        if (stat_entry(dirfd(d), r->real, names[i], r->within->real_path, &st)) {
            char *virtual_path = NULL;
            if (asprintf(&virtual_path, "%.*s/%s", (int)base, requested, names[i]) >= 0)
                json_array_append_new(list, entry_json(virtual_path, &st));
            free(virtual_path);
        }
        free(names[i]);
    }
    free(names);
    closedir(d);
    return list;
}

static void files_on_browse(actor_t *self, void *state, actor_http_request_t *req)
{
    (void)self;
    const char *path = path_param(req);
    resolved_t r;
    if (!resolve_param(state, req, path, &r))
        return;
    json_t *list = browse_json(path, &r);
    free(r.real);
    actor_http_respond_json(req, 200, list); /* `?jsonp=` as Mesos: see actor/http.h */
}

/* ---- /files/read ---- */

/* Parses a query number as Mesos's numify: the whole text must be a decimal integer. */
static bool parse_number(const char *text, long long *out)
{
    char *end;
    errno = 0;
    *out = strtoll(text, &end, 10);
    return text[0] != '\0' && *end == '\0' && errno == 0;
}

/* Reads the optional parameter name into *value (default -1); false after answering 400. */
static bool number_param(actor_http_request_t *req, const char *name, long long *value)
{
    *value = -1;
    const char *text = actor_http_query(req, name);
    if (text == NULL)
        return true;
    if (!parse_number(text, value)) {
        actor_http_respond_text(req, 400, "Failed to parse %s: Failed to convert '%s' to number.\n",
                                name, text);
        return false;
    }
    if (*value < -1) {
        actor_http_respond_text(req, 400, "Negative %s provided: %lld.\n", name, *value);
        return false;
    }
    return true;
}

/* Opens a resolved path for reading; answers and returns -1 unless it is a regular file inside
 * its attachment. */
static int open_regular(actor_http_request_t *req, const resolved_t *r, const char *verb,
                        struct stat *st)
{
    int fd = open(r->real, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0) {
        LOG_WARNING("Failed to open file at '%s': %s", r->real, strerror(errno));
        actor_http_respond_text(req, 500, "Failed to open file at '%s': %s.\n", r->real,
                                strerror(errno));
        return -1;
    }
    if (!fd_inside(fd, r->within->real_path)) {
        actor_http_respond_text(req, 400, "'%s' is inaccessible.\n", r->real);
    } else if (fstat(fd, st) != 0) {
        actor_http_respond_text(req, 500, "Failed to stat '%s': %s.\n", r->real, strerror(errno));
    } else if (S_ISDIR(st->st_mode)) {
        actor_http_respond_text(req, 400, "Cannot %s a directory.\n", verb);
    } else if (!S_ISREG(st->st_mode)) {
        actor_http_respond_text(req, 400, "Cannot %s '%s': not a regular file.\n", verb, r->real);
    } else {
        return fd;
    }
    close(fd);
    return -1;
}

/* Reads up to len bytes at offset; returns the count read (short at end of file) or -1. */
static ssize_t read_at(int fd, char *buf, size_t len, off_t offset)
{
    size_t done = 0;
    while (done < len) {
        ssize_t n = pread(fd, buf + done, len - done, offset + (off_t)done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        if (n == 0)
            break;
        done += (size_t)n;
    }
    return (ssize_t)done;
}

static void respond_read(actor_http_request_t *req, const char *data, size_t len, long long offset)
{
    json_t *str = data_json(data, len);
    json_t *obj =
        str != NULL ? json_pack("{s:o, s:I}", "data", str, "offset", (json_int_t)offset) : NULL;
    if (obj == NULL) {
        actor_http_respond_text(req, 500, "Out of memory.\n");
        return;
    }
    actor_http_respond_json(req, 200, obj);
}

/* Mesos's read: offset -1 asks for the size; reads stop at the end of the file and at
 * FILES_READ_MAX bytes. */
static void read_file(actor_http_request_t *req, int fd, off_t size, long long offset,
                      long long length)
{
    if (offset == -1) {
        respond_read(req, "", 0, (long long)size);
        return;
    }
    if (offset >= (long long)size || length == 0) {
        respond_read(req, "", 0, offset);
        return;
    }
    size_t want = length == -1 ? (size_t)(size - offset) : (size_t)length;
    if (want > FILES_READ_MAX)
        want = FILES_READ_MAX;
    char *buf = malloc(want);
    ssize_t got = buf != NULL ? read_at(fd, buf, want, (off_t)offset) : -1;
    if (got < 0)
        actor_http_respond_text(req, 500, "Failed to read file: %s.\n",
                                buf != NULL ? strerror(errno) : "out of memory");
    else
        respond_read(req, buf, (size_t)got, offset);
    free(buf);
}

static void files_on_read(actor_t *self, void *state, actor_http_request_t *req)
{
    (void)self;
    long long offset, length;
    const char *path = path_param(req);
    resolved_t r;
    if (path == NULL || !number_param(req, "offset", &offset) ||
        !number_param(req, "length", &length) || !resolve_param(state, req, path, &r))
        return;
    struct stat st;
    int fd = open_regular(req, &r, "read", &st);
    free(r.real);
    if (fd < 0)
        return;
    read_file(req, fd, st.st_size, offset, length);
    close(fd);
}

/* ---- /files/download ---- */

typedef struct mime_type {
    const char *extension;
    const char *type;
} mime_type_t;

/* libprocess's table (process/mime.hpp), its common entries, plus .json, .gz, .tgz and .log;
 * sorted by extension for bsearch. */
static const mime_type_t mime_types[] = {
    {".avi", "video/x-msvideo"},
    {".bmp", "image/x-ms-bmp"},
    {".c", "text/plain"},
    {".css", "text/css"},
    {".csv", "text/csv"},
    {".gif", "image/gif"},
    {".gz", "application/gzip"},
    {".h", "text/plain"},
    {".htm", "text/html"},
    {".html", "text/html"},
    {".jpeg", "image/jpeg"},
    {".jpg", "image/jpeg"},
    {".js", "application/x-javascript"},
    {".json", "application/json"},
    {".log", "text/plain"},
    {".mp3", "audio/mpeg"},
    {".mp4", "video/mp4"},
    {".pdf", "application/pdf"},
    {".pl", "text/plain"},
    {".png", "image/png"},
    {".ps", "application/postscript"},
    {".py", "text/x-python"},
    {".sh", "application/x-sh"},
    {".svg", "image/svg+xml"},
    {".tar", "application/x-tar"},
    {".tgz", "application/gzip"},
    {".tif", "image/tiff"},
    {".tiff", "image/tiff"},
    {".tsv", "text/tab-separated-values"},
    {".txt", "text/plain"},
    {".wav", "audio/x-wav"},
    {".xml", "text/xml"},
    {".zip", "application/zip"},
};

static int compare_extension(const void *key, const void *entry)
{
    return strcmp(key, ((const mime_type_t *)entry)->extension);
}

/* The type for name's extension (from its last '.', not a leading one), as libprocess
 * detects it; application/octet-stream when unknown. */
static const char *mime_type(const char *name)
{
    const char *dot = strrchr(name, '.');
    if (dot == NULL || dot == name)
        return "application/octet-stream";
    const mime_type_t *m = bsearch(dot, mime_types, sizeof(mime_types) / sizeof(mime_types[0]),
                                   sizeof(mime_types[0]), compare_extension);
    return m != NULL ? m->type : "application/octet-stream";
}

/* Sends the whole file with its type and name. */
static void send_file(actor_http_request_t *req, int fd, const char *real, off_t size)
{
    char *buf = malloc(size > 0 ? (size_t)size : 1);
    ssize_t got = buf != NULL ? read_at(fd, buf, (size_t)size, 0) : -1;
    if (got < 0) {
        actor_http_respond_text(req, 500, "Failed to read file at '%s': %s.\n", real,
                                buf != NULL ? strerror(errno) : "out of memory");
        free(buf);
        return;
    }
    const char *name = strrchr(real, '/') != NULL ? strrchr(real, '/') + 1 : real;
    char disposition[NAME_MAX + 32];
    int n = snprintf(disposition, sizeof(disposition), "attachment; filename=%s", name);
    for (int i = 0; i < n && i < (int)sizeof(disposition); i++) {
        if ((unsigned char)disposition[i] < 0x20 || disposition[i] == 0x7f)
            disposition[i] = '_'; /* no control characters in a header */
    }
    http_header_t header = {"Content-Disposition", disposition};
    actor_http_respond(req, 200, mime_type(name), &header, 1, buf, (size_t)got);
    free(buf);
}

static void files_on_download(actor_t *self, void *state, actor_http_request_t *req)
{
    (void)self;
    const char *path = path_param(req);
    resolved_t r;
    if (!resolve_param(state, req, path, &r))
        return;
    struct stat st;
    int fd = open_regular(req, &r, "download", &st);
    if (fd >= 0 && (uint64_t)st.st_size > FILES_DOWNLOAD_MAX) {
        actor_http_respond_text(req, 400,
                                "Cannot download '%s': its %lld bytes exceed the download limit "
                                "of %zu bytes; read it in parts with /files/read.\n",
                                path, (long long)st.st_size, FILES_DOWNLOAD_MAX);
    } else if (fd >= 0) {
        send_file(req, fd, r.real, st.st_size);
    }
    if (fd >= 0)
        close(fd);
    free(r.real);
}

/* ---- /files/debug ---- */

static int compare_attachments(const attachment_t *a, const attachment_t *b)
{
    return strcmp(a->virtual_path, b->virtual_path);
}

static void files_on_debug(actor_t *self, void *state, actor_http_request_t *req)
{
    (void)self;
    files_t *f = state;
    HASH_SORT(f->attachments, compare_attachments);
    json_t *obj = json_object();
    for (attachment_t *a = f->attachments; a != NULL; a = a->hh.next)
        json_object_set_new(obj, a->virtual_path, json_string(a->real_path));
    actor_http_respond_json(req, 200, obj);
}

/* ---- roots and canonical paths ---- */

static void root_add(files_t *f, char *path)
{
    attachment_t *r = find(f->roots, path, strlen(path));
    if (r != NULL) {
        r->refs++;
        free(path);
        return;
    }
    if ((r = calloc(1, sizeof(*r))) == NULL) {
        LOG_ERROR("Out of memory adding the root '%s': attachments below it use realpath", path);
        free(path);
        return;
    }
    r->virtual_path = path;
    r->refs = 1;
    HASH_ADD_KEYPTR(hh, f->roots, r->virtual_path, strlen(r->virtual_path), r);
}

static void root_remove(files_t *f, const char *path)
{
    attachment_t *r = find(f->roots, path, strlen(path));
    if (r != NULL && --r->refs == 0)
        forget(&f->roots, r);
}

/* True if every '/'-separated component of suffix ("" or "/a/b") is a plain name: neither "."
 * nor ".." (normalize() leaves no empty ones). */
static bool plain_components(const char *suffix)
{
    for (const char *p = suffix; *p == '/'; p = strchrnul(p + 1, '/')) {
        size_t n = strcspn(p + 1, "/");
        if ((n == 1 && p[1] == '.') || (n == 2 && p[1] == '.' && p[2] == '.'))
            return false;
    }
    return true;
}

/* The canonical form of path built from the root it lies in (by plain components), or NULL
 * when it lies in none or the root cannot be canonicalised (realpath then does the work). */
static char *canonical_below_root(files_t *f, const char *path)
{
    char *norm = f->roots != NULL ? normalize(path) : NULL;
    if (norm == NULL || norm[0] != '/') {
        free(norm);
        return NULL;
    }
    size_t len = strlen(norm);
    attachment_t *r = find_within(f->roots, norm, &len);
    char *out = NULL;
    if (r != NULL && r->real_path == NULL &&
        (r->real_path = realpath(r->virtual_path, NULL)) == NULL)
        VLOG(1, "Cannot canonicalise the root '%s' yet: %s", r->virtual_path, strerror(errno));
    const char *canonical = r != NULL ? r->real_path : NULL;
    if (canonical != NULL && plain_components(norm + len) &&
        asprintf(&out, "%s%s", strcmp(canonical, "/") == 0 ? "" : canonical, norm + len) < 0)
        out = NULL;
    free(norm);
    return out;
}

/* The canonical, readable form of real_path (malloc'd), or NULL after logging why not. */
static char *attach_target(files_t *f, const char *real_path, const char *virtual_path)
{
    char *real = canonical_below_root(f, real_path);
    if (real == NULL)
        real = realpath(real_path, NULL);
    if (real == NULL || access(real, R_OK) != 0) {
        LOG_WARNING("Failed to attach '%s' as '%s': %s", real_path, virtual_path, strerror(errno));
        free(real);
        return NULL;
    }
    return real;
}

/* ---- attach and detach ---- */

/* Attaches the canonical path real as virtual_path; takes both. */
static void attach_canonical(files_t *f, char *real, char *virtual_path)
{
    attachment_t *a = find(f->attachments, virtual_path, strlen(virtual_path));
    if (a == NULL) {
        a = calloc(1, sizeof(*a));
        if (a == NULL) {
            LOG_ERROR("Out of memory attaching '%s' as '%s'", real, virtual_path);
            free(real);
            free(virtual_path);
            return;
        }
        a->virtual_path = virtual_path;
        HASH_ADD_KEYPTR(hh, f->attachments, a->virtual_path, strlen(a->virtual_path), a);
    } else {
        free(virtual_path);
        free(a->real_path);
    }
    a->real_path = real;
    VLOG(1, "Attached '%s' as '%s'", real, a->virtual_path);
}

/* Attaches real_path as virtual_path, and as also_as unless NULL; takes both virtual paths. */
static void attach(files_t *f, const char *real_path, char *virtual_path, char *also_as)
{
    char *real = attach_target(f, real_path, virtual_path);
    char *copy = real != NULL && also_as != NULL ? strdup(real) : NULL;
    if (real == NULL || (also_as != NULL && copy == NULL)) {
        free(real);
        free(virtual_path);
        free(also_as);
        return;
    }
    attach_canonical(f, real, virtual_path);
    if (also_as != NULL)
        attach_canonical(f, copy, also_as);
}

typedef enum call_kind {
    CALL_ATTACH,         /* real -> virtual, and -> latest unless NULL */
    CALL_DETACH,         /* virtual */
    CALL_DETACH_SANDBOX, /* virtual = a run directory, latest = its ".../runs/latest" or NULL */
    CALL_ROOT_ADD,       /* virtual = the root */
    CALL_ROOT_REMOVE,    /* virtual = the root */
} call_kind_t;

typedef struct call {
    call_kind_t kind;
    char *real;    /* CALL_ATTACH: the real path as given */
    char *virtual; /* normalised */
    char *latest;  /* CALL_ATTACH, CALL_DETACH_SANDBOX: normalised, or NULL */
} call_t;

static void call_free(call_t *c)
{
    free(c->real);
    free(c->virtual);
    free(c->latest);
    free(c);
}

static void detach_sandbox(files_t *f, const char *run, const char *latest)
{
    attachment_t *r = find(f->attachments, run, strlen(run));
    attachment_t *l = latest != NULL ? find(f->attachments, latest, strlen(latest)) : NULL;
    if (r != NULL && l != NULL && strcmp(r->real_path, l->real_path) == 0)
        forget(&f->attachments, l);
    if (r != NULL)
        forget(&f->attachments, r);
}

static void run_call(files_t *f, call_t *c)
{
    attachment_t *a;
    switch (c->kind) {
    case CALL_ATTACH:
        attach(f, c->real, c->virtual, c->latest);
        c->virtual = c->latest = NULL; /* kept by the table or freed by attach */
        break;
    case CALL_DETACH:
        if ((a = find(f->attachments, c->virtual, strlen(c->virtual))) != NULL)
            forget(&f->attachments, a);
        break;
    case CALL_DETACH_SANDBOX:
        detach_sandbox(f, c->virtual, c->latest);
        break;
    case CALL_ROOT_ADD:
        root_add(f, c->virtual);
        c->virtual = NULL; /* kept by the table or freed by root_add */
        break;
    case CALL_ROOT_REMOVE:
        root_remove(f, c->virtual);
        break;
    }
}

static void files_on_call(actor_t *self, void *state, void *arg)
{
    call_t *c = arg;
    if (self != NULL)
        run_call(state, c);
    call_free(c);
}

/* Dispatches a call; takes c in every case. */
static actor_err_t call_send(const actor_pid_t *files, call_t *c)
{
    if (c->virtual == NULL || (c->kind == CALL_ATTACH && c->real == NULL)) {
        call_free(c);
        return ACTOR_ENOMEM;
    }
    actor_err_t err = actor_dispatch(files, files_on_call, c);
    if (err != ACTOR_OK)
        call_free(c);
    return err;
}

static actor_err_t call_new(const actor_pid_t *files, call_kind_t kind, const char *real,
                            const char *virtual_path, call_t **out)
{
    bool root = kind == CALL_ROOT_ADD || kind == CALL_ROOT_REMOVE;
    if (files == NULL || virtual_path == NULL || virtual_path[0] == '\0' ||
        (kind == CALL_ATTACH && (real == NULL || real[0] == '\0')) ||
        (root && (virtual_path[0] != '/' || virtual_path[strspn(virtual_path, "/")] == '\0')))
        return ACTOR_EINVAL;
    call_t *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return ACTOR_ENOMEM;
    c->kind = kind;
    c->real = real != NULL ? strdup(real) : NULL;
    c->virtual = normalize(virtual_path);
    *out = c;
    return ACTOR_OK;
}

/* Makes and sends a call without a "latest" path. */
static actor_err_t call(const actor_pid_t *files, call_kind_t kind, const char *real,
                        const char *virtual_path)
{
    call_t *c;
    actor_err_t err = call_new(files, kind, real, virtual_path, &c);
    return err == ACTOR_OK ? call_send(files, c) : err;
}

actor_err_t files_attach(const actor_pid_t *files, const char *real_path, const char *virtual_path)
{
    return call(files, CALL_ATTACH, real_path, virtual_path);
}

actor_err_t files_detach(const actor_pid_t *files, const char *virtual_path)
{
    return call(files, CALL_DETACH, NULL, virtual_path);
}

actor_err_t files_root_add(const actor_pid_t *files, const char *dir)
{
    return call(files, CALL_ROOT_ADD, NULL, dir);
}

actor_err_t files_root_remove(const actor_pid_t *files, const char *dir)
{
    return call(files, CALL_ROOT_REMOVE, NULL, dir);
}

/* ".../runs/latest" for a normalised ".../runs/<container>", or NULL (also when out of
 * memory, which only loses the second name). */
static char *latest_path(const char *run)
{
    const char *slash = strrchr(run, '/');
    if (slash == NULL || slash - run < 5 || strncmp(slash - 5, "/runs", 5) != 0)
        return NULL;
    char *latest = NULL;
    if (asprintf(&latest, "%.*s/latest", (int)(slash - run), run) < 0)
        return NULL;
    return latest;
}

/* A call about a run directory and its ".../runs/latest" name. */
static actor_err_t sandbox_call(const actor_pid_t *files, call_kind_t kind, const char *real,
                                const char *run_dir)
{
    call_t *c;
    actor_err_t err = call_new(files, kind, real, run_dir, &c);
    if (err != ACTOR_OK)
        return err;
    c->latest = c->virtual != NULL ? latest_path(c->virtual) : NULL;
    return call_send(files, c);
}

actor_err_t files_attach_sandbox(const actor_pid_t *files, const char *run_dir)
{
    /* One call, so that the run directory is canonicalised once for both names. */
    return sandbox_call(files, CALL_ATTACH, run_dir, run_dir);
}

actor_err_t files_detach_sandbox(const actor_pid_t *files, const char *run_dir)
{
    return sandbox_call(files, CALL_DETACH_SANDBOX, NULL, run_dir);
}

/* ---- the actor ---- */

static const actor_http_route_t files_routes[] = {
    {"/browse", NULL, files_on_browse},
    {"/read", NULL, files_on_read},
    {"/download", NULL, files_on_download},
    {"/debug", NULL, files_on_debug},
};

static void files_init(actor_t *self, void *state, void *arg)
{
    (void)state, (void)arg;
    if (actor_http_install(self, files_routes, sizeof(files_routes) / sizeof(files_routes[0])) !=
        ACTOR_OK)
        LOG_ERROR("Out of memory installing the /files endpoints; they will answer 404");
}

static void files_fini(actor_t *self, void *state)
{
    (void)self;
    files_t *f = state;
    attachment_t *a, *tmp;
    HASH_ITER(hh, f->attachments, a, tmp)
    {
        forget(&f->attachments, a);
    }
    HASH_ITER(hh, f->roots, a, tmp)
    {
        forget(&f->roots, a);
    }
}

static const actor_ops_t files_ops = {
    .name = FILES_ACTOR_ID,
    .state_size = sizeof(files_t),
    .init = files_init,
    .fini = files_fini,
};

actor_err_t files_spawn(actor_pid_t *pid)
{
    if (pid == NULL)
        return ACTOR_EINVAL;
    actor_err_t err = actor_spawn(&files_ops, FILES_ACTOR_ID, NULL, pid);
    if (err != ACTOR_EEXIST)
        return err;
    uint32_t ip;
    uint16_t port;
    actor_runtime_address(&ip, &port);
    return actor_pid_make(pid, FILES_ACTOR_ID, ip, port);
}
