/*
 * fs.h: the files of the multi-process tests (tests/support/): a fresh temporary directory per
 * test, files read and written whole, and the directory removed with everything below it at the
 * end (without a shell: nftw, so that a path is never word-split or globbed).
 */
#ifndef TESTS_SUPPORT_FS_H
#define TESTS_SUPPORT_FS_H

#include <stdbool.h>
#include <stddef.h>

/* Creates a new directory /tmp/<name>.XXXXXX (mode 0700) and writes its path into buf (len
 * bytes). Returns buf, or NULL with errno set (ENAMETOOLONG when the path does not fit). */
char *support_fs_tempdir(char *buf, size_t len, const char *name);

/* Removes path and everything below it, without following symbolic links. Returns 0, or -1 with
 * errno of the first failure after trying everything else (a missing path is not a failure). */
int support_fs_rmtree(const char *path);

/* The whole content of path, NUL-terminated (heap: the caller frees); "" when it cannot be
 * read. NULL only when out of memory. */
char *support_fs_read(const char *path);

/* support_fs_read of the one file that the glob pattern matches (a plain path matches itself
 * when it exists); NULL when none or several match. */
char *support_fs_read_glob(const char *pattern);

/* Waits up to timeout_ms (reading every 50 ms) for the file pattern matches (as
 * support_fs_read_glob) to contain needle; returns whether it did. Blocks. */
bool support_fs_wait_text(const char *pattern, const char *needle, int timeout_ms);

/* Creates or truncates path and writes text to it. Returns false with errno on failure. */
bool support_fs_write(const char *path, const char *text);

#endif
