/*
 * extract.c: archives unpacked into the sandbox with libarchive (Mesos's archiver::extract).
 *
 * libarchive writes to paths relative to the working directory, which a library must not
 * change, so each entry's path (and a hard link's target) is checked here and prefixed with the
 * sandbox's real path. The checks refuse what could land outside the sandbox: absolute paths,
 * ".." components (libarchive's SECURE_NODOTDOT checks again) and paths through a symbolic link
 * (SECURE_SYMLINKS: an archive cannot plant "lib -> /etc" and then write "lib/passwd"). Device
 * nodes and fifos are refused: the fetcher runs as root. Permissions are taken from the archive
 * without setuid, setgid and sticky bits, and subject to the umask, as for a non-root tar.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "slave/fetcher/fetcher_int.h"

#define READ_BLOCK (64 * 1024)

static const char *const tree_suffixes[] = {".tar",  ".tar.gz", ".tgz", ".tar.bz2",
                                            ".tbz2", ".tar.xz", ".txz", ".zip"};

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n > m && strcmp(s + n - m, suffix) == 0;
}

fetcher_archive_kind_t fetcher_archive_kind(const char *name)
{
    for (size_t i = 0; i < sizeof(tree_suffixes) / sizeof(tree_suffixes[0]); i++) {
        if (ends_with(name, tree_suffixes[i]))
            return FETCHER_ARCHIVE_TREE;
    }
    return ends_with(name, ".gz") ? FETCHER_ARCHIVE_GZIP : FETCHER_ARCHIVE_NONE;
}

/* True if path is relative and has no ".." component. */
static bool path_is_contained(const char *path)
{
    if (path[0] == '/')
        return false;
    for (const char *p = path; *p != '\0';) {
        size_t n = strcspn(p, "/");
        if (n == 2 && p[0] == '.' && p[1] == '.')
            return false;
        p += n;
        while (*p == '/')
            p++;
    }
    return true;
}

typedef struct extraction {
    struct archive *in;
    struct archive *out;
    const char *name; /* the archive's file name, for messages */
    const char *dest; /* as the caller named it, for messages */
    char root[PATH_MAX];
    const fetcher_owner_t *owner;
    char *why;
    size_t why_len;
} extraction_t;

static actor_err_t fail(extraction_t *x, actor_err_t err, const char *detail)
{
    return fetcher_fail(x->why, x->why_len, err, "Failed to extract archive '%s' to '%s': %s",
                        x->name, x->dest, detail);
}

static const char *archive_message(struct archive *a)
{
    const char *s = archive_error_string(a);
    return s != NULL ? s : "unknown libarchive error";
}

/* Rewrites *path (a pathname or hard link target) as root/path after checking it. */
static actor_err_t rebase(extraction_t *x, const char *path, char *out, size_t out_len)
{
    char detail[PATH_MAX + 64];
    if (path == NULL || path[0] == '\0')
        return fail(x, ACTOR_EINVAL, "an entry has no name");
    if (!path_is_contained(path)) {
        snprintf(detail, sizeof(detail), "refusing entry '%s', which leaves the directory", path);
        return fail(x, ACTOR_EINVAL, detail);
    }
    if ((size_t)snprintf(out, out_len, "%s/%s", x->root, path) >= out_len)
        return fail(x, ACTOR_EINVAL, "an entry's path is too long");
    return ACTOR_OK;
}

static actor_err_t check_type(extraction_t *x, struct archive_entry *e)
{
    mode_t type = archive_entry_filetype(e);
    if (type == AE_IFREG || type == AE_IFDIR || type == AE_IFLNK ||
        archive_entry_hardlink(e) != NULL)
        return ACTOR_OK;
    char detail[PATH_MAX + 64];
    snprintf(detail, sizeof(detail), "refusing entry '%s', which is not a file, directory or link",
             archive_entry_pathname(e));
    return fail(x, ACTOR_EINVAL, detail);
}

static actor_err_t copy_data(extraction_t *x)
{
    for (;;) {
        const void *buf;
        size_t len;
        la_int64_t offset;
        int r = archive_read_data_block(x->in, &buf, &len, &offset);
        if (r == ARCHIVE_EOF)
            return ACTOR_OK;
        if (r < ARCHIVE_WARN)
            return fail(x, ACTOR_ESYSTEM, archive_message(x->in));
        if (archive_write_data_block(x->out, buf, len, offset) < ARCHIVE_WARN)
            return fail(x, ACTOR_ESYSTEM, archive_message(x->out));
    }
}

static actor_err_t extract_entry(extraction_t *x, struct archive_entry *e)
{
    char path[PATH_MAX], link[PATH_MAX];
    actor_err_t err = check_type(x, e);
    if (err == ACTOR_OK)
        err = rebase(x, archive_entry_pathname(e), path, sizeof(path));
    if (err == ACTOR_OK && archive_entry_hardlink(e) != NULL) {
        err = rebase(x, archive_entry_hardlink(e), link, sizeof(link));
        archive_entry_set_hardlink(e, link);
    }
    if (err != ACTOR_OK)
        return err;
    archive_entry_set_pathname(e, path);
    if (archive_write_header(x->out, e) < ARCHIVE_WARN)
        return fail(x, ACTOR_ESYSTEM, archive_message(x->out));
    if (archive_entry_size(e) > 0) {
        err = copy_data(x);
        if (err != ACTOR_OK)
            return err;
    }
    if (archive_write_finish_entry(x->out) < ARCHIVE_WARN)
        return fail(x, ACTOR_ESYSTEM, archive_message(x->out));
    if (x->owner->set && lchown(path, x->owner->uid, x->owner->gid) != 0)
        return fail(x, ACTOR_ESYSTEM, strerror(errno));
    return ACTOR_OK;
}

static actor_err_t extract_tree(extraction_t *x)
{
    for (;;) {
        struct archive_entry *e;
        int r = archive_read_next_header(x->in, &e);
        if (r == ARCHIVE_EOF)
            return ACTOR_OK;
        if (r < ARCHIVE_WARN)
            return fail(x, ACTOR_ESYSTEM, archive_message(x->in));
        actor_err_t err = extract_entry(x, e);
        if (err != ACTOR_OK)
            return err;
    }
}

/* Copies the decompressed bytes of the single raw entry into fd. */
static actor_err_t decompress_into(extraction_t *x, int fd)
{
    for (;;) {
        char buf[READ_BLOCK];
        la_ssize_t n = archive_read_data(x->in, buf, sizeof(buf));
        if (n == 0)
            return ACTOR_OK;
        if (n < 0)
            return fail(x, ACTOR_ESYSTEM, archive_message(x->in));
        if (fetcher_write_all(fd, buf, (size_t)n) != 0)
            return fail(x, ACTOR_ESYSTEM, strerror(errno));
    }
}

/* A bare .gz: libarchive's raw format gives the decompressed bytes as one entry, written to
 * a temporary file beside the result and renamed into place. */
static actor_err_t extract_gzip(extraction_t *x)
{
    struct archive_entry *e;
    if (archive_read_next_header(x->in, &e) < ARCHIVE_WARN)
        return fail(x, ACTOR_ESYSTEM, archive_message(x->in));
    if (archive_filter_code(x->in, 0) != ARCHIVE_FILTER_GZIP)
        return fail(x, ACTOR_EINVAL, "not in gzip format");
    const char *base = strrchr(x->name, '/');
    base = base != NULL ? base + 1 : x->name;
    char target[NAME_MAX + 1], tmp[32];
    snprintf(target, sizeof(target), "%.*s", (int)(strlen(base) - 3), base);
    int dirfd = open(x->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dirfd < 0)
        return fail(x, ACTOR_ESYSTEM, strerror(errno));
    int fd = -1;
    actor_err_t err = fetcher_tmpfile(dirfd, x->dest, &fd, tmp, sizeof(tmp), x->why, x->why_len);
    if (err == ACTOR_OK)
        err = decompress_into(x, fd);
    if (err == ACTOR_OK && fchmod(fd, 0644) != 0)
        err = fail(x, ACTOR_ESYSTEM, strerror(errno));
    if (err == ACTOR_OK && x->owner->set && fchown(fd, x->owner->uid, x->owner->gid) != 0)
        err = fail(x, ACTOR_ESYSTEM, strerror(errno));
    if (err == ACTOR_OK && renameat(dirfd, tmp, dirfd, target) != 0)
        err = fail(x, ACTOR_ESYSTEM, strerror(errno));
    if (err != ACTOR_OK && fd >= 0)
        unlinkat(dirfd, tmp, 0);
    if (fd >= 0)
        close(fd);
    close(dirfd);
    return err;
}

static actor_err_t open_reader(extraction_t *x, int fd, fetcher_archive_kind_t kind)
{
    x->in = archive_read_new();
    x->out = archive_write_disk_new();
    if (x->in == NULL || x->out == NULL)
        return fail(x, ACTOR_ENOMEM, "out of memory");
    archive_read_support_filter_all(x->in);
    if (kind == FETCHER_ARCHIVE_GZIP) {
        archive_read_support_format_raw(x->in);
    } else {
        archive_read_support_format_tar(x->in);
        archive_read_support_format_gnutar(x->in);
        archive_read_support_format_zip(x->in);
    }
    archive_write_disk_set_options(x->out, ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_SECURE_NODOTDOT |
                                               ARCHIVE_EXTRACT_SECURE_SYMLINKS);
    archive_write_disk_set_standard_lookup(x->out);
    if (lseek(fd, 0, SEEK_SET) < 0)
        return fail(x, ACTOR_ESYSTEM, strerror(errno));
    if (archive_read_open_fd(x->in, fd, READ_BLOCK) != ARCHIVE_OK)
        return fail(x, ACTOR_ESYSTEM, archive_message(x->in));
    return ACTOR_OK;
}

actor_err_t fetcher_extract(int fd, const char *name, const char *dest,
                            const fetcher_owner_t *owner, char *why, size_t why_len)
{
    extraction_t x = {.name = name, .dest = dest, .owner = owner, .why = why, .why_len = why_len};
    fetcher_archive_kind_t kind = fetcher_archive_kind(name);
    if (kind == FETCHER_ARCHIVE_NONE)
        return fail(&x, ACTOR_EINVAL, "not an archive by its name");
    /* The real path, because SECURE_SYMLINKS also checks the components of the prefix. */
    if (realpath(dest, x.root) == NULL)
        return fail(&x, ACTOR_ESYSTEM, strerror(errno));
    actor_err_t err = open_reader(&x, fd, kind);
    if (err == ACTOR_OK)
        err = kind == FETCHER_ARCHIVE_GZIP ? extract_gzip(&x) : extract_tree(&x);
    if (x.in != NULL)
        archive_read_free(x.in);
    if (x.out != NULL)
        archive_write_free(x.out);
    return err;
}
