/*
 * fetcher_int.h: the fetcher's parts, shared by its files and its unit tests; other folders use
 * fetcher.h only.
 *
 *   fetcher.c   fetcher_fetch: names, the sandbox's temporary file, executable, chown
 *   download.c  HTTP(S) downloads with libcurl
 *   extract.c   archives unpacked with libarchive
 *   cache.c     the cache directory shared by fetcher processes
 *   fsutil.c    small file helpers and the reason strings
 *
 * Every fallible helper returns an actor_err_t and, on an error, writes the reason (without the
 * "Failed to fetch 'URI': " prefix, which fetcher_fetch adds) into why[why_len].
 */
#ifndef SLAVE_FETCHER_FETCHER_INT_H
#define SLAVE_FETCHER_FETCHER_INT_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "slave/fetcher/fetcher.h"

/* Who gets the fetched files: set is false when no user was asked for. */
typedef struct fetcher_owner {
    bool set;
    uid_t uid;
    gid_t gid;
} fetcher_owner_t;

/* ---- fsutil.c ----------------------------------------------------------------------------- */

/* Formats the reason into why and returns err. */
actor_err_t fetcher_fail(char *why, size_t why_len, actor_err_t err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* "<what> '<path>': <strerror(errno)>", returning ACTOR_ENOENT for ENOENT, ACTOR_ENOMEM for
 * ENOMEM and ACTOR_ESYSTEM otherwise. Reads errno. */
actor_err_t fetcher_fail_errno(char *why, size_t why_len, const char *what, const char *path);

/* Writes all of buf to fd, retrying short writes and EINTR. Returns 0, or -1 with errno. */
int fetcher_write_all(int fd, const void *buf, size_t len);

/* Copies everything from in (from its current offset) to out. On an error names src or dst. */
actor_err_t fetcher_copy_fd(int in, int out, const char *src, const char *dst, char *why,
                            size_t why_len);

/* Creates a file named ".fetch-<random>" in the directory dirfd with mode 0600 and O_EXCL;
 * *fd receives it open for reading and writing, name[name_len] its name. dir names dirfd in the
 * reason. */
actor_err_t fetcher_tmpfile(int dirfd, const char *dir, int *fd, char *name, size_t name_len,
                            char *why, size_t why_len);

/* Writes len random lowercase hex digits and a NUL into out (len + 1 bytes). Cannot fail: falls
 * back on the time and pid when getrandom() does. */
void fetcher_random_hex(char *out, size_t len);

/* Removes the directory name in dirfd with the files directly inside it (cache entries hold
 * no subdirectories). Returns 0, or -1 with errno. */
int fetcher_remove_flat_dir(int dirfd, const char *name);

/* True if s holds an ASCII control character (the fetcher's messages stay on one line). */
bool fetcher_has_control(const char *s);

/* ---- download.c --------------------------------------------------------------------------- */

/*
 * Downloads url (http:// or https://) into fd, following redirects to http and https only.
 * stall_secs > 0 aborts a transfer slower than one byte per second for that long, and a connect
 * that takes longer. disposition[disposition_len] receives the file name of the last response's
 * Content-Disposition header (sanitised: a base name, never "." or ".."), or "".
 * Errors: ACTOR_EPROTO for a final status other than 2xx ("Error downloading resource, received
 * HTTP return code 404") or a libcurl failure ("Error downloading resource: <libcurl's message>");
 * ACTOR_ETIMEDOUT for a stall; ACTOR_ESYSTEM when fd cannot be written; ACTOR_ENOMEM.
 */
actor_err_t fetcher_download(const char *url, long stall_secs, int fd, char *disposition,
                             size_t disposition_len, char *why, size_t why_len);

/* Parses a Content-Disposition header value into a safe base name in out[out_len]. Returns true
 * if it held a usable filename parameter. */
bool fetcher_disposition_name(const char *value, char *out, size_t out_len);

/* ---- extract.c ---------------------------------------------------------------------------- */

typedef enum fetcher_archive_kind {
    FETCHER_ARCHIVE_NONE = 0, /* not an archive by its name */
    FETCHER_ARCHIVE_TREE,     /* .tar, .tar.gz, .tgz, .tar.bz2, .tbz2, .tar.xz, .txz, .zip */
    FETCHER_ARCHIVE_GZIP,     /* a bare .gz file */
} fetcher_archive_kind_t;

/* What name says the file is, by its suffix (as Mesos decides). Cannot fail. */
fetcher_archive_kind_t fetcher_archive_kind(const char *name);

/*
 * Unpacks the archive open at fd (read from offset 0; name is its file name, for the kind and
 * the messages) into the directory dest, which must exist. A tree archive refuses entries with
 * absolute paths, ".." components, paths through symbolic links and entries other than files,
 * directories and links; a bare .gz becomes dest/<name without .gz>. Extracted entries are chowned
 * to owner when owner->set. Errors (ACTOR_ESYSTEM, ACTOR_EINVAL for a refused entry) read
 * "Failed to extract archive '<name>' to '<dest>': <libarchive's message>".
 */
actor_err_t fetcher_extract(int fd, const char *name, const char *dest,
                            const fetcher_owner_t *owner, char *why, size_t why_len);

/* ---- cache.c ------------------------------------------------------------------------------ */

#define FETCHER_CACHE_KEY_LEN 32 /* hex digits of the 128-bit key */

typedef struct fetcher_cache {
    int dirfd;          /* the cache directory */
    int lockfd;         /* its ".lock" file, flock'd around publishing, eviction and new temps */
    uint64_t max_bytes; /* content kept at most */
} fetcher_cache_t;

/* One entry: a directory "<key>" (published) or ".tmp-<random>" (being written) holding "data"
 * (the content) and "meta" (the URI, user and Content-Disposition name it was stored for). */
typedef struct fetcher_cache_entry {
    int dirfd;               /* the entry's directory, -1 when none */
    int data_fd;             /* its data: read-only for a hit, read-write for a new entry */
    char tmp_name[32];       /* ".tmp-<random>" while unpublished, "" otherwise */
    char name[NAME_MAX + 1]; /* the stored Content-Disposition name, or "" */
    char key[FETCHER_CACHE_KEY_LEN + 1];
} fetcher_cache_entry_t;

/* Writes the key of (uri, user) (user may be NULL) as 32 hex digits and a NUL. Cannot fail. */
void fetcher_cache_key(const char *uri, const char *user, char key[FETCHER_CACHE_KEY_LEN + 1]);

/* Opens (creating it and its parents if need be) the cache at dir. */
actor_err_t fetcher_cache_open(fetcher_cache_t *cache, const char *dir, uint64_t max_bytes,
                               char *why, size_t why_len);

/* Closes what fetcher_cache_open opened. Cannot fail. */
void fetcher_cache_close(fetcher_cache_t *cache);

/* Looks (uri, user) up. On a hit returns ACTOR_OK with *entry open (data_fd at offset 0, name
 * set) and marks the entry as just used; on a miss returns ACTOR_ENOENT. Never fails otherwise: an
 * entry that cannot be read counts as a miss. Release *entry with fetcher_cache_entry_fini. */
actor_err_t fetcher_cache_get(fetcher_cache_t *cache, const char *uri, const char *user,
                              fetcher_cache_entry_t *entry);

/* Starts a new entry in a temporary directory: write the content to entry->data_fd. */
actor_err_t fetcher_cache_create(fetcher_cache_t *cache, fetcher_cache_entry_t *entry, char *why,
                                 size_t why_len);

/* Completes a new entry for (uri, user) with the Content-Disposition name (may be "") and
 * publishes it, then evicts least recently used entries down to max_bytes, never this one (best
 * effort: an eviction that fails does not fail the commit). *kept
 * (may be NULL) tells whether it was published: an entry over max_bytes is not, nor one that
 * another fetcher published first; either way entry->data_fd stays usable, at offset 0. */
actor_err_t fetcher_cache_commit(fetcher_cache_t *cache, fetcher_cache_entry_t *entry,
                                 const char *uri, const char *user, const char *name, bool *kept,
                                 char *why, size_t why_len);

/* Closes the entry and removes it if it was never published. Cannot fail. */
void fetcher_cache_entry_fini(fetcher_cache_t *cache, fetcher_cache_entry_t *entry);

/* Evicts least recently used entries, never the one named keep (may be NULL), until the cache
 * holds at most max_bytes, and removes what dead fetchers left behind. Takes the cache's lock.
 * *total (may be NULL) receives the bytes it holds afterwards. */
actor_err_t fetcher_cache_evict(fetcher_cache_t *cache, const char *keep, uint64_t *total,
                                char *why, size_t why_len);

#endif
