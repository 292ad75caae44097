/* run_lock.h — one process at a time per run: `glam-eval run` holds an exclusive lock on the run it evaluates.
 *
 * Two processes resuming the same run would both answer its pending requests and both store them; the second
 * store fails late ("the request already has a response") after model work is wasted. SQLite's own locks are held
 * per transaction only, so they cannot exclude a second evaluator between batches. The run lock is an open file
 * description lock (fcntl F_OFD_SETLK, Linux >= 3.15) on a lock file beside the database:
 *
 *     <database>.lock-run-<run id>     e.g. results.db.lock-run-3 (the database path with symbolic links resolved)
 *
 * The lock belongs to the open file, not to a thread or to a close() elsewhere in the process, and the kernel drops
 * it when the process ends however it ends (kill -9 included), so a later resume never finds a stale lock. The file
 * holds one line, "glam-eval run pid P host H", written by the holder after it got the lock, so a process refused
 * can name the holder; the line is information, the lock is the fcntl lock. The holder removes the file before it
 * lets go of the lock; a process that locked a file its holder had just removed (the path now names another file,
 * or none) closes it and tries again, so two processes never hold locks on two different files of one run.
 *
 * Readers (reports, `db info`, `merge`'s inputs, `serve`) never take the lock and are never blocked by it. */
#ifndef GE_RUN_LOCK_H
#define GE_RUN_LOCK_H

#include <stdint.h>

#include "harness/error.h"

/* Invariant: fd >= 0 and path != NULL exactly while the lock is held. */
struct run_lock {
    int fd;     /* the locked lock file (close-on-exec), -1 when not held */
    char *path; /* owned; the lock file's path while held */
};

/* Sets lk to "not held" (run_lock_release is then a no-op). */
void run_lock_init(struct run_lock *lk);

/* Takes the lock of run run_id of the database at db_path (which should exist: its path is resolved to find the
 * directory the lock file goes in) without waiting. On failure lk stays not held and: GE_ERR_STATE when another
 * process holds it ("run N is being evaluated by another process (pid P)": the pid when the holder wrote it, else
 * without), GE_ERR_IO when the lock file cannot be created or locked (message names the file and the reason). */
int run_lock_acquire(struct run_lock *lk, const char *db_path, int64_t run_id, struct ge_error *err);

/* Removes the lock file and lets go of the lock (lk may be not held). Call it after the last write to the run. */
void run_lock_release(struct run_lock *lk);

#endif
