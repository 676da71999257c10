/*
 * files.h: the sandbox file browser, Mesos's Files process in C (src/files/files.cpp).
 *
 * One actor named exactly "files" per process serves four endpoints on every HTTP port of the
 * process (http.h reaches an actor's routes as "/<actor id><path>"):
 *
 *   /files/browse?path=P                  the entries of directory P as a JSON array of
 *                                         {"gid","mode","mtime","nlink","path","size","uid"}
 *   /files/read?path=P&offset=N&length=M  {"data": "...", "offset": N}: at most FILES_READ_MAX
 *                                         bytes of file P from offset N; offset -1 or absent
 *                                         answers the file's size as "offset" with no data
 *   /files/download?path=P                the file itself, Content-Type by extension and
 *                                         "Content-Disposition: attachment; filename=NAME"
 *   /files/debug                          the attachments, {"virtual path": "real path", ...}
 *
 * Each takes an optional `jsonp=FN` parameter (browse, read, debug), answering
 * `FN(<json>);` as text/javascript, as libprocess does.
 *
 * Paths in requests are virtual: agents attach a real directory (or file) under a virtual path,
 * and a request's path resolves through the attachment with the longest matching prefix (by
 * whole components). The resolved path is canonicalised (realpath) and must stay inside the
 * attached real path, and the file opened must still lie there, so neither ".." nor a symbolic
 * link in a sandbox reaches a file outside it. Answers, as Mesos's: 400 with a plain-text message
 * for a missing or malformed parameter, for a path that escapes its attachment ("'...' is
 * inaccessible."), and for reading or downloading a directory; 404 for a path under no attachment
 * or that does not exist. Browsing a file (not a directory) answers an empty array, as Mesos does.
 *
 * Choices where Mesos leaves room: download sends the whole file in one answer (with a
 * Content-Length), up to FILES_DOWNLOAD_MAX bytes; a larger file is refused with 400 and a
 * message pointing to /files/read, because the HTTP server has no flow control for streams. Read
 * and download refuse files that are not regular files (FIFOs, devices) with 400, because
 * opening one could block the actor. Bytes that are not UTF-8 in read's "data" are sent as the
 * code points U+0080..U+00FF of the same value, so that the answer is always valid JSON.
 *
 * Use: each agent calls files_spawn() (the first call in the process spawns the actor, later
 * ones find it: agents of mesos-local share it), declares the directory it makes its sandboxes
 * in with files_root_add(), then files_attach() each executor run's sandbox and files_detach()
 * it when the sandbox is garbage-collected (files_attach_sandbox() attaches a run directory
 * under its real path and under its ".../runs/latest" form, as Mesos's agent does), and
 * files_root_remove() when it stops. The actor lives until the runtime stops.
 */
#ifndef SLAVE_FILES_FILES_H
#define SLAVE_FILES_FILES_H

#include "actor/actor.h"

/* The files actor's id, hence the prefix of its routes ("/files/browse"). */
#define FILES_ACTOR_ID "files"

/* Most bytes one /files/read answer carries: 16 pages of 4 KiB, as Mesos caps reads at
 * 16 * pagesize. */
#define FILES_READ_MAX ((size_t)16 * 4096)

/* Largest file /files/download sends (64 MiB). */
#define FILES_DOWNLOAD_MAX ((size_t)64 << 20)

/* Spawns the "files" actor, or finds it if this process already has one; *pid (not NULL)
 * receives its PID either way. Thread-safe; may be called from handlers. Errors: ACTOR_EINVAL
 * (pid NULL), ACTOR_ECLOSED (runtime not running), ACTOR_ENOMEM. */
actor_err_t files_spawn(actor_pid_t *pid);

/* Attaches real_path (a directory or a file, canonicalised when the actor handles the call:
 * see files_root_add, else with realpath) under virtual_path (trailing '/' ignored), replacing
 * an earlier attachment of that virtual path. Asynchronous: the strings are copied and the actor
 * does the work; a real path that does not exist or is not readable is logged there and not
 * attached. Thread-safe; may be called from handlers. Errors: ACTOR_EINVAL (NULL or empty
 * argument), ACTOR_ENOMEM, ACTOR_ENOENT (no such actor). */
actor_err_t files_attach(const actor_pid_t *files, const char *real_path, const char *virtual_path);

/* Removes the attachment of virtual_path (trailing '/' ignored); unknown paths are ignored.
 * Asynchronous, thread-safe. Errors as files_attach. */
actor_err_t files_detach(const actor_pid_t *files, const char *virtual_path);

/* Attaches an executor run's sandbox run_dir (".../executors/<ex>/runs/<container>") under its
 * own path and under ".../executors/<ex>/runs/latest", as Mesos's agent does (one call: the
 * directory is canonicalised once). A run_dir whose parent is not named "runs" is attached under
 * its own path only. Errors as files_attach. */
actor_err_t files_attach_sandbox(const actor_pid_t *files, const char *run_dir);

/* Detaches the virtual paths of files_attach_sandbox(run_dir): run_dir, and ".../runs/latest"
 * only while it still shows this run (a newer run of the executor takes "latest" over when it is
 * attached). Errors as files_attach. */
actor_err_t files_detach_sandbox(const actor_pid_t *files, const char *run_dir);

/* Declares dir (absolute) a root: a directory below which the caller makes every directory it
 * attaches itself, with mkdir, so that no component below dir is a symbolic link. The actor
 * canonicalises dir once with realpath (at the first attachment below it: dir may itself be, or
 * lie below, a link, and need not exist yet when declared), and then takes the canonical form of
 * a path attached below it (absolute, by whole components, none of them "." or "..") as dir's
 * followed by those components, without resolving each one (glibc's realpath costs a readlink
 * per component). Should a component below dir be a link after all, the attachment keeps the
 * path the caller made, and requests through it that would lead elsewhere are refused as
 * inaccessible: a link there never exposes files outside the sandbox. Declarations nest: each
 * files_root_add of a dir needs a files_root_remove. Asynchronous, thread-safe; calls from one
 * actor take effect in order. Errors: ACTOR_EINVAL (NULL, empty or relative dir, or "/"),
 * ACTOR_ENOMEM, ACTOR_ENOENT (no such actor). */
actor_err_t files_root_add(const actor_pid_t *files, const char *dir);

/* Undoes one files_root_add(dir); attachments made meanwhile stay. Unknown roots are ignored.
 * Asynchronous, thread-safe. Errors as files_root_add. */
actor_err_t files_root_remove(const actor_pid_t *files, const char *dir);

#endif
