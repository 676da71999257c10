/*
 * fetcher.h: the agent's fetcher, which puts a task's CommandInfo.URIs into its sandbox before
 * the task starts (Mesos's mesos-fetcher and its fetcher cache).
 *
 * The agent does not call this library itself: it runs the mesos-fetcher binary (main.c here)
 * with the job in MESOS_FETCHER_INFO, because a download may block for minutes and an actor must
 * never block. mesos-fetcher calls fetcher_fetch() once per URI, in order.
 *
 * What one fetch does:
 *
 *   - Sources: "http://" and "https://" URIs are downloaded with libcurl, following redirects
 *     (to http and https only); a final status other than 2xx fails the fetch and names the
 *     status. "file://" URIs ("file://localhost/..." too) and plain absolute paths are copied,
 *     never linked. Relative paths and other schemes are refused.
 *   - Name in the sandbox: uri->output_file when set (a relative path that stays inside the
 *     sandbox; missing directories are created), else the URI's base name: the last non-empty
 *     segment of its path, without query or fragment ("http://h/app/web-app.js?v=2" gives
 *     "web-app.js", "http://h/app/" gives "app"). A URI whose path has no segment at all
 *     ("http://h/") takes the file name of the response's Content-Disposition header, else
 *     "index.html".
 *   - The file is written under a temporary name in its directory and renamed into place, so a
 *     failed download or copy leaves no partial file behind. A file of that name is replaced.
 *     Its mode: 0644 for a download, the source's permission bits for a copy (as cp keeps them).
 *   - executable: the file gets mode 0755 and is never extracted (as Mesos). Otherwise, with
 *     extract, a file named like an archive (.tar, .tar.gz, .tgz, .tar.bz2, .tbz2, .tar.xz, .txz,
 *     .zip) is unpacked into the sandbox's top directory with libarchive, refusing entries with
 *     absolute paths, ".." or a path through a symbolic link; a bare ".gz" file is decompressed
 *     beside itself without the suffix. The archive itself stays in the sandbox, as Mesos leaves
 *     it.
 *   - user: the fetched file, what was extracted from it and the directories created for
 *     output_file are chowned to the user (the agent runs as root; the sandbox is the user's).
 *   - cache: with opts->cache_dir set and uri->cache true, the content is served from the cache
 *     when it holds the URI for this user, or downloaded into the cache first; either way it is
 *     then copied into the sandbox and extracted or made executable as asked. See cache.c for the
 *     layout; any number of fetcher processes may share one cache directory. An entry larger than
 *     cache_max_bytes is not kept: the fetch goes on as if uncached. After each new entry the
 *     least recently used entries are evicted until the cache holds at most cache_max_bytes. A
 *     cache directory that cannot be created or written is bypassed (as Mesos falls back on
 *     fetching directly), so that a broken cache disk does not fail tasks.
 *
 * Everything here blocks and may take as long as a download takes (bounded by the stall
 * timeout); it is meant for the mesos-fetcher process, never for an actor's handler. Functions are
 * reentrant: the library keeps no state besides libcurl's global initialisation.
 */
#ifndef SLAVE_FETCHER_FETCHER_H
#define SLAVE_FETCHER_FETCHER_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "actor/error.h"

/* Mesos's defaults: --fetcher_cache_size=2GB, --fetcher_stall_timeout=60secs. */
#define FETCHER_DEFAULT_CACHE_BYTES        (2ull << 30)
#define FETCHER_DEFAULT_STALL_TIMEOUT_SECS 60L

/* One CommandInfo.URI. Strings are borrowed for the call. */
typedef struct fetcher_uri {
    const char *value;       /* http(s)://, file://, or a plain absolute path */
    bool extract;            /* unpack an archive into the sandbox (Mesos's default: true) */
    bool executable;         /* chmod 0755 and never extract */
    bool cache;              /* go through the cache when opts->cache_dir is set */
    const char *output_file; /* NULL, or the name in the sandbox instead of the base name */
} fetcher_uri_t;

typedef struct fetcher_options {
    const char *sandbox;      /* an existing directory to fetch into */
    const char *cache_dir;    /* NULL: no cache, cache:true URIs are fetched directly; created if
                                 missing */
    uint64_t cache_max_bytes; /* bytes of cached content kept at most (LRU eviction above) */
    const char *user;         /* NULL, or the user who gets the fetched files (chown) */
    long stall_timeout_secs;  /* abort an HTTP transfer without progress for this long; also the
                                 connect timeout; <= 0: none */
} fetcher_options_t;

/* What a successful fetch produced. */
typedef struct fetcher_result {
    char path[PATH_MAX]; /* the fetched file in the sandbox */
    bool from_cache;     /* served from an existing cache entry, without downloading */
    bool extracted;      /* it was an archive and was unpacked into the sandbox */
} fetcher_result_t;

/* Fills *opts with the defaults: no sandbox, no cache, FETCHER_DEFAULT_CACHE_BYTES, no user,
 * FETCHER_DEFAULT_STALL_TIMEOUT_SECS. Cannot fail. */
void fetcher_options_init(fetcher_options_t *opts);

/* Fills *uri as an unset CommandInfo.URI would read: value NULL, extract true, the rest false or
 * NULL. Cannot fail. */
void fetcher_uri_init(fetcher_uri_t *uri);

/*
 * Fetches uri into opts->sandbox as described above. Blocks. result (may be NULL) receives what
 * was fetched. Returns ACTOR_OK; or, with one line in err (when err_len > 0) that reads
 * "Failed to fetch 'URI': <reason>", where the reason names the HTTP status, libcurl's error, the
 * archive's error or the system call that failed:
 *   ACTOR_EINVAL     a malformed URI or output_file, no sandbox given, an unknown user, a local
 *                    source that is not a regular file, an archive entry that would escape;
 *   ACTOR_ENOENT     a local source or the sandbox that does not exist;
 *   ACTOR_EPROTO     an HTTP status other than 2xx, or a transfer libcurl could not complete;
 *   ACTOR_ETIMEDOUT  the transfer stalled for stall_timeout_secs;
 *   ACTOR_ENOMEM     out of memory;
 *   ACTOR_ESYSTEM    a file system call failed, or the archive could not be extracted.
 * A failed download or copy leaves nothing in the sandbox; a failed extraction leaves the
 * archive and what was unpacked before the error.
 */
actor_err_t fetcher_fetch(const fetcher_options_t *opts, const fetcher_uri_t *uri,
                          fetcher_result_t *result, char *err, size_t err_len);

#endif
