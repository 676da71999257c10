/*
 * cache.c: the fetcher cache, a directory that any number of mesos-fetcher processes on one
 * machine share without a daemon (Mesos keeps its cache's bookkeeping in the agent; ours lives
 * in the file system, so that concurrent fetchers need no coordinator).
 *
 * Layout of the cache directory:
 *
 *   .lock            flock'd exclusively while publishing an entry, evicting, or starting a
 *                    temporary entry; never while downloading
 *   <key>/data       a published entry's content; <key> is 32 hex digits of a 128-bit FNV-1a hash
 *   <key>/meta       "uri <URI>\nuser <user>\nname <Content-Disposition name>\n": a lookup whose
 *                    URI or user differs (a hash collision) is a miss
 *   .tmp-<random>/   an entry being written, flock'd by its writer for as long as it lives
 *   .evict-<key>/    an entry being removed
 *
 * Publishing is a rename of the finished temporary directory to <key>, so readers see a whole
 * entry or none. Two fetchers that miss the same URI both download it; the first rename wins and
 * the other keeps its copy only for its own sandbox. Eviction renames a victim out of the way
 * before deleting it, so a fetcher that has opened an entry's data reads it to the end. The
 * directory's modification time is its last use (set with clock_gettime's precision, because
 * the kernel's coarse file times would tie entries used within a few milliseconds); eviction
 * removes the oldest until the data of the remaining entries fits in max_bytes. A temporary
 * directory whose flock can be taken belongs to a dead fetcher and is removed by the next
 * eviction.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "slave/fetcher/fetcher_int.h"

#define TMP_PREFIX   ".tmp-"
#define EVICT_PREFIX ".evict-"
#define CREATE_TRIES 100

/* ---- keys --------------------------------------------------------------------------------- */

typedef unsigned __int128 u128_t;

static u128_t fnv1a(u128_t hash, const char *s, size_t len)
{
    /* The 128-bit FNV prime, 2^88 + 2^8 + 0x3b. */
    const u128_t prime = ((u128_t)1 << 88) + ((u128_t)1 << 8) + 0x3b;
    for (size_t i = 0; i < len; i++) {
        hash ^= (unsigned char)s[i];
        hash *= prime;
    }
    return hash;
}

void fetcher_cache_key(const char *uri, const char *user, char key[FETCHER_CACHE_KEY_LEN + 1])
{
    static const char digits[] = "0123456789abcdef";
    u128_t hash = ((u128_t)0x6c62272e07bb0142ull << 64) | 0x62b821756295c58dull;
    const char *u = user != NULL ? user : "";
    hash = fnv1a(hash, u, strlen(u) + 1); /* the NUL keeps ("ab", "c") apart from ("a", "bc") */
    hash = fnv1a(hash, uri, strlen(uri));
    for (int i = FETCHER_CACHE_KEY_LEN - 1; i >= 0; i--) {
        key[i] = digits[(unsigned)(hash & 0xf)];
        hash >>= 4;
    }
    key[FETCHER_CACHE_KEY_LEN] = '\0';
}

static bool is_key(const char *name)
{
    if (strlen(name) != FETCHER_CACHE_KEY_LEN)
        return false;
    return strspn(name, "0123456789abcdef") == FETCHER_CACHE_KEY_LEN;
}

/* ---- opening ------------------------------------------------------------------------------ */

/* mkdir -p, 0755. */
static int make_dirs(const char *dir)
{
    char path[PATH_MAX];
    if (snprintf(path, sizeof(path), "%s", dir) >= (int)sizeof(path)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    for (char *p = path + 1; *p != '\0'; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(path, 0755) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    if (mkdir(path, 0755) != 0 && errno != EEXIST)
        return -1;
    return 0;
}

actor_err_t fetcher_cache_open(fetcher_cache_t *cache, const char *dir, uint64_t max_bytes,
                               char *why, size_t why_len)
{
    cache->dirfd = cache->lockfd = -1;
    cache->max_bytes = max_bytes;
    if (make_dirs(dir) != 0)
        return fetcher_fail_errno(why, why_len, "Failed to create the cache directory", dir);
    cache->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (cache->dirfd < 0)
        return fetcher_fail_errno(why, why_len, "Failed to open the cache directory", dir);
    cache->lockfd = openat(cache->dirfd, ".lock", O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (cache->lockfd < 0) {
        actor_err_t err = fetcher_fail_errno(why, why_len, "Failed to open the lock of", dir);
        close(cache->dirfd);
        cache->dirfd = -1;
        return err;
    }
    return ACTOR_OK;
}

void fetcher_cache_close(fetcher_cache_t *cache)
{
    if (cache->lockfd >= 0)
        close(cache->lockfd);
    if (cache->dirfd >= 0)
        close(cache->dirfd);
    cache->dirfd = cache->lockfd = -1;
}

static void lock(fetcher_cache_t *cache)
{
    while (flock(cache->lockfd, LOCK_EX) != 0 && errno == EINTR) {
    }
}

static void unlock(fetcher_cache_t *cache)
{
    flock(cache->lockfd, LOCK_UN);
}

/* Sets the entry directory's modification time to now: its last use. */
static void touch(int dirfd)
{
    struct timespec times[2];
    times[0].tv_sec = 0;
    times[0].tv_nsec = UTIME_OMIT;
    clock_gettime(CLOCK_REALTIME, &times[1]);
    futimens(dirfd, times);
}

static void entry_init(fetcher_cache_entry_t *entry)
{
    memset(entry, 0, sizeof(*entry));
    entry->dirfd = entry->data_fd = -1;
}

/* ---- meta --------------------------------------------------------------------------------- */

static int write_meta(int dirfd, const char *uri, const char *user, const char *name)
{
    int fd = openat(dirfd, "meta", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0)
        return -1;
    char *text = NULL;
    int len = asprintf(&text, "uri %s\nuser %s\nname %s\n", uri, user != NULL ? user : "",
                       name != NULL ? name : "");
    int rc = len < 0 ? -1 : fetcher_write_all(fd, text, (size_t)len);
    free(text);
    close(fd);
    return rc;
}

/* Reads meta and checks that it was stored for (uri, user); copies the stored name. */
static bool read_meta(int dirfd, const char *uri, const char *user, char *name, size_t name_len)
{
    int fd = openat(dirfd, "meta", O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return false;
    FILE *f = fdopen(fd, "r");
    if (f == NULL) {
        close(fd);
        return false;
    }
    char *line = NULL;
    size_t cap = 0;
    int matched = 0;
    for (ssize_t n = getline(&line, &cap, f); n > 0; n = getline(&line, &cap, f)) {
        if (line[n - 1] == '\n')
            line[n - 1] = '\0';
        if (strncmp(line, "uri ", 4) == 0)
            matched += strcmp(line + 4, uri) == 0;
        else if (strncmp(line, "user ", 5) == 0)
            matched += strcmp(line + 5, user != NULL ? user : "") == 0;
        else if (strncmp(line, "name ", 5) == 0 && strlen(line + 5) < name_len)
            snprintf(name, name_len, "%s", line + 5);
    }
    free(line);
    fclose(f);
    return matched == 2;
}

/* ---- lookup ------------------------------------------------------------------------------- */

actor_err_t fetcher_cache_get(fetcher_cache_t *cache, const char *uri, const char *user,
                              fetcher_cache_entry_t *entry)
{
    entry_init(entry);
    fetcher_cache_key(uri, user, entry->key);
    entry->dirfd = openat(cache->dirfd, entry->key, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (entry->dirfd < 0)
        return ACTOR_ENOENT;
    if (read_meta(entry->dirfd, uri, user, entry->name, sizeof(entry->name)))
        entry->data_fd = openat(entry->dirfd, "data", O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (entry->data_fd < 0) {
        close(entry->dirfd);
        entry_init(entry);
        return ACTOR_ENOENT;
    }
    touch(entry->dirfd);
    return ACTOR_OK;
}

/* ---- new entries -------------------------------------------------------------------------- */

/* Makes and locks a temporary directory; under the cache's lock, so that an eviction never
 * sees it unlocked. */
static actor_err_t make_tmp_dir(fetcher_cache_t *cache, fetcher_cache_entry_t *entry, char *why,
                                size_t why_len)
{
    actor_err_t err = fetcher_fail(why, why_len, ACTOR_ESYSTEM,
                                   "Failed to create a temporary entry in the cache");
    lock(cache);
    for (int tries = 0; tries < CREATE_TRIES; tries++) {
        char hex[13];
        fetcher_random_hex(hex, 12);
        snprintf(entry->tmp_name, sizeof(entry->tmp_name), TMP_PREFIX "%s", hex);
        if (mkdirat(cache->dirfd, entry->tmp_name, 0755) == 0) {
            err = ACTOR_OK;
            break;
        }
        if (errno != EEXIST) {
            err = fetcher_fail_errno(why, why_len, "Failed to create a temporary entry",
                                     entry->tmp_name);
            break;
        }
    }
    if (err != ACTOR_OK)
        entry->tmp_name[0] = '\0'; /* not ours to remove */
    if (err == ACTOR_OK) {
        entry->dirfd = openat(cache->dirfd, entry->tmp_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (entry->dirfd < 0 || flock(entry->dirfd, LOCK_EX) != 0)
            err = fetcher_fail_errno(why, why_len, "Failed to lock", entry->tmp_name);
    }
    unlock(cache);
    return err;
}

actor_err_t fetcher_cache_create(fetcher_cache_t *cache, fetcher_cache_entry_t *entry, char *why,
                                 size_t why_len)
{
    entry_init(entry);
    actor_err_t err = make_tmp_dir(cache, entry, why, why_len);
    if (err == ACTOR_OK) {
        entry->data_fd =
            openat(entry->dirfd, "data", O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (entry->data_fd < 0)
            err = fetcher_fail_errno(why, why_len, "Failed to create", "data");
    }
    if (err != ACTOR_OK)
        fetcher_cache_entry_fini(cache, entry);
    return err;
}

actor_err_t fetcher_cache_commit(fetcher_cache_t *cache, fetcher_cache_entry_t *entry,
                                 const char *uri, const char *user, const char *name, bool *kept,
                                 char *why, size_t why_len)
{
    bool published = false;
    struct stat st;
    snprintf(entry->name, sizeof(entry->name), "%s", name != NULL ? name : "");
    fetcher_cache_key(uri, user, entry->key);
    if (fstat(entry->data_fd, &st) != 0 || lseek(entry->data_fd, 0, SEEK_SET) < 0)
        return fetcher_fail_errno(why, why_len, "Failed to read back", "data");
    if (write_meta(entry->dirfd, uri, user, entry->name) != 0)
        return fetcher_fail_errno(why, why_len, "Failed to write", "meta");
    if ((uint64_t)st.st_size <= cache->max_bytes) {
        lock(cache);
        if (renameat(cache->dirfd, entry->tmp_name, cache->dirfd, entry->key) == 0) {
            touch(entry->dirfd); /* after the rename, which may update it too */
            entry->tmp_name[0] = '\0';
            published = true;
        }
        unlock(cache);
    }
    if (kept != NULL)
        *kept = published;
    /* Eviction is best effort: a cache over its size does not fail the fetch. */
    if (published)
        fetcher_cache_evict(cache, entry->key, NULL, NULL, 0);
    return ACTOR_OK;
}

void fetcher_cache_entry_fini(fetcher_cache_t *cache, fetcher_cache_entry_t *entry)
{
    if (entry->data_fd >= 0)
        close(entry->data_fd);
    if (entry->tmp_name[0] != '\0')
        fetcher_remove_flat_dir(cache->dirfd, entry->tmp_name);
    if (entry->dirfd >= 0)
        close(entry->dirfd); /* releases the temporary directory's flock */
    entry_init(entry);
}

/* ---- eviction ----------------------------------------------------------------------------- */

typedef struct victim {
    char key[FETCHER_CACHE_KEY_LEN + 1];
    struct timespec used;
    uint64_t bytes;
} victim_t;

static int by_use(const void *a, const void *b)
{
    const victim_t *x = a, *y = b;
    if (x->used.tv_sec != y->used.tv_sec)
        return x->used.tv_sec < y->used.tv_sec ? -1 : 1;
    if (x->used.tv_nsec != y->used.tv_nsec)
        return x->used.tv_nsec < y->used.tv_nsec ? -1 : 1;
    return strcmp(x->key, y->key);
}

/* Removes a temporary directory whose writer is gone (its flock is free) or a half-evicted one. */
static void remove_leftover(fetcher_cache_t *cache, const char *name)
{
    if (strncmp(name, TMP_PREFIX, strlen(TMP_PREFIX)) == 0) {
        int fd = openat(cache->dirfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
            return;
        if (flock(fd, LOCK_EX | LOCK_NB) == 0)
            fetcher_remove_flat_dir(cache->dirfd, name);
        close(fd);
    } else if (strncmp(name, EVICT_PREFIX, strlen(EVICT_PREFIX)) == 0) {
        fetcher_remove_flat_dir(cache->dirfd, name);
    }
}

/* Appends the published entry key to *list, growing it. Returns -1 when out of memory. */
static int add_victim(fetcher_cache_t *cache, const char *key, victim_t **list, size_t *count,
                      size_t *cap)
{
    struct stat dir_st, data_st;
    char data[FETCHER_CACHE_KEY_LEN + 8];
    snprintf(data, sizeof(data), "%s/data", key);
    if (fstatat(cache->dirfd, key, &dir_st, AT_SYMLINK_NOFOLLOW) != 0 ||
        fstatat(cache->dirfd, data, &data_st, AT_SYMLINK_NOFOLLOW) != 0)
        return 0; /* evicted meanwhile, or not an entry */
    if (*count == *cap) {
        size_t grown = *cap == 0 ? 16 : *cap * 2;
        victim_t *bigger = realloc(*list, grown * sizeof(**list));
        if (bigger == NULL)
            return -1;
        *list = bigger;
        *cap = grown;
    }
    victim_t *v = &(*list)[(*count)++];
    snprintf(v->key, sizeof(v->key), "%s", key);
    v->used = dir_st.st_mtim;
    v->bytes = (uint64_t)data_st.st_size;
    return 0;
}

/* Lists the published entries and removes leftovers. */
static actor_err_t scan(fetcher_cache_t *cache, victim_t **list, size_t *count, char *why,
                        size_t why_len)
{
    size_t cap = 0;
    *list = NULL;
    *count = 0;
    int fd = dup(cache->dirfd);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    if (d == NULL) {
        if (fd >= 0)
            close(fd);
        return fetcher_fail_errno(why, why_len, "Failed to list", "the cache directory");
    }
    rewinddir(d);
    actor_err_t err = ACTOR_OK;
    for (struct dirent *de = readdir(d); de != NULL && err == ACTOR_OK; de = readdir(d)) {
        if (is_key(de->d_name)) {
            if (add_victim(cache, de->d_name, list, count, &cap) != 0)
                err = fetcher_fail(why, why_len, ACTOR_ENOMEM, "Out of memory");
        } else {
            remove_leftover(cache, de->d_name);
        }
    }
    closedir(d);
    return err;
}

static void evict_one(fetcher_cache_t *cache, const char *key)
{
    char gone[sizeof(EVICT_PREFIX) + FETCHER_CACHE_KEY_LEN];
    snprintf(gone, sizeof(gone), EVICT_PREFIX "%s", key);
    if (renameat(cache->dirfd, key, cache->dirfd, gone) == 0)
        fetcher_remove_flat_dir(cache->dirfd, gone);
}

actor_err_t fetcher_cache_evict(fetcher_cache_t *cache, const char *keep, uint64_t *total,
                                char *why, size_t why_len)
{
    victim_t *list;
    size_t count;
    lock(cache);
    actor_err_t err = scan(cache, &list, &count, why, why_len);
    uint64_t bytes = 0;
    for (size_t i = 0; err == ACTOR_OK && i < count; i++)
        bytes += list[i].bytes;
    if (err == ACTOR_OK && count > 1)
        qsort(list, count, sizeof(*list), by_use);
    for (size_t i = 0; err == ACTOR_OK && i < count && bytes > cache->max_bytes; i++) {
        if (keep != NULL && strcmp(list[i].key, keep) == 0)
            continue;
        evict_one(cache, list[i].key);
        bytes -= list[i].bytes;
    }
    unlock(cache);
    free(list);
    if (total != NULL)
        *total = bytes;
    return err;
}
