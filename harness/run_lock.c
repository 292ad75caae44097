/* run_lock.c — the per-run OFD lock of `glam-eval run` (see run_lock.h for the protocol and why OFD locks). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness/run_lock.h"
#include "harness/xalloc.h"

#define RUN_LOCK_INFO_CAP 320  /* the holder line: "glam-eval run pid P host H\n", H at most 255 bytes */
#define RUN_LOCK_TRIES 16      /* a lock file removed under us by each of this many holders in a row is an error */

void run_lock_init(struct run_lock *lk)
{
    lk->fd = -1;
    lk->path = NULL;
}

/* The lock file's path: the database's real path (a database reached through a symbolic link gets the same lock
 * as through its own name) + ".lock-run-N". Caller frees. */
static char *lock_path(const char *db_path, int64_t run_id)
{
    char *real = realpath(db_path, NULL);
    const char *base = real ? real : db_path; /* not there (yet): its own name is all there is */
    size_t cap = strlen(base) + 48;
    char *path = xmalloc(cap);
    snprintf(path, cap, "%s.lock-run-%lld", base, (long long)run_id);
    free(real);
    return path;
}

/* 1 when fd is the file path names now (its holder did not remove it between our open and our lock). */
static int still_named(int fd, const char *path)
{
    struct stat held, named;
    return fstat(fd, &held) == 0 && stat(path, &named) == 0 && held.st_dev == named.st_dev &&
           held.st_ino == named.st_ino;
}

/* Fills who with " (pid P)" or " (pid P on host H)" from the holder's line in fd, or "" when the line is absent or
 * incomplete (the holder got the lock but has not written it yet). */
static void holder_text(int fd, char *who, size_t cap)
{
    char line[RUN_LOCK_INFO_CAP], host[256], mine[256] = "";
    long pid = 0;
    ssize_t n = pread(fd, line, sizeof line - 1, 0);
    who[0] = '\0';
    if (n <= 0 || line[n - 1] != '\n')
        return;
    line[n] = '\0';
    if (sscanf(line, "glam-eval run pid %ld host %255s", &pid, host) != 2 || pid <= 0)
        return;
    gethostname(mine, sizeof mine - 1);
    if (strcmp(host, mine) == 0 && kill((pid_t)pid, 0) != 0 && errno == ESRCH)
        return; /* a killed holder's line, read before its successor (which holds the lock) wrote its own */
    if (strcmp(host, mine) == 0)
        snprintf(who, cap, " (pid %ld)", pid);
    else /* the database is on a file system shared between machines: a pid alone would mislead */
        snprintf(who, cap, " (pid %ld on host %s)", pid, host);
}

/* Writes this process's holder line; 1 when written. */
static int write_holder(int fd)
{
    char line[RUN_LOCK_INFO_CAP], host[256] = "";
    gethostname(host, sizeof host - 1);
    for (char *c = host; *c; c++) /* one token, so the reader's %s reads all of it */
        if (*c == ' ' || *c == '\n')
            *c = '_';
    int n = snprintf(line, sizeof line, "glam-eval run pid %ld host %s\n", (long)getpid(), host[0] ? host : "?");
    return ftruncate(fd, 0) == 0 && pwrite(fd, line, (size_t)n, 0) == n;
}

int run_lock_acquire(struct run_lock *lk, const char *db_path, int64_t run_id, struct ge_error *err)
{
    char *path = lock_path(db_path, run_id);
    int fd = -1, rc = GE_OK;
    for (int attempt = 0;; attempt++) {
        if (attempt == RUN_LOCK_TRIES) {
            rc = ge_error_set(err, GE_ERR_IO, "%s: the lock file of run %lld was removed under this process %d "
                              "times in a row; try again", path, (long long)run_id, RUN_LOCK_TRIES);
            goto out;
        }
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0666);
        if (fd < 0) {
            rc = ge_error_set(err, GE_ERR_IO, "%s: cannot create the lock file of run %lld: %s", path,
                              (long long)run_id, strerror(errno));
            goto out;
        }
        struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0}; /* whole file */
        if (fcntl(fd, F_OFD_SETLK, &fl) != 0) {
            if (errno == EAGAIN || errno == EACCES) {
                char who[RUN_LOCK_INFO_CAP + 32];
                holder_text(fd, who, sizeof who);
                rc = ge_error_set(err, GE_ERR_STATE, "run %lld is being evaluated by another process%s, which holds "
                                  "%s; nothing was changed: wait for it to end (or stop it), then try again",
                                  (long long)run_id, who, path);
            } else { /* e.g. EINVAL: a kernel older than 3.15; ENOLCK: a network file system without locks */
                rc = ge_error_set(err, GE_ERR_IO, "%s: cannot lock run %lld: %s", path, (long long)run_id,
                                  strerror(errno));
            }
            goto out;
        }
        if (still_named(fd, path))
            break;
        close(fd); /* its holder removed it after we opened it: lock the file the path names now */
        fd = -1;
    }
    (void)write_holder(fd); /* not an error when it fails (a full disk): the lock works without the line, and a
                               process refused then names no pid */
    lk->fd = fd;
    lk->path = path;
    return GE_OK;
out:
    if (fd >= 0)
        close(fd);
    free(path);
    return rc;
}

void run_lock_release(struct run_lock *lk)
{
    if (lk->fd < 0)
        return;
    /* Removed while still locked, so whoever opens the path next creates a new file; only a file that is still
     * ours is removed (one someone replaced by hand may be another holder's). */
    if (still_named(lk->fd, lk->path))
        unlink(lk->path);
    close(lk->fd); /* drops the lock */
    free(lk->path);
    run_lock_init(lk);
}
