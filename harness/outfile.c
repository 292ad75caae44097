/* outfile.c — writing a user-named output file: a symbolic link followed, a regular file replaced atomically, a
 * FIFO or device written in place (the rule is in outfile.h). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness/outfile.h"
#include "harness/xalloc.h"

#define OUT_MAX_LINKS 40 /* as the kernel's limit on links followed in one lookup (ELOOP) */

/* The directory part of path ("." when it has none), as a new string. */
static char *dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (slash == NULL)
        return xstrdup(".");
    return slash == path ? xstrdup("/") : xstrndup(path, (size_t)(slash - path));
}

/* When link is one of /proc's links to an open file (its directory resolves below /proc/: /proc/self/fd,
 * /dev/fd): -1 when it is not, else the descriptor number when it is one of this process's, else INT_MAX. Its
 * link text ("pipe:[123]", a deleted file's name) is no path to follow. */
static int proc_fd_link(const char *link)
{
    char *dir = dir_of(link), real[PATH_MAX];
    int ok = realpath(dir, real) != NULL;
    free(dir);
    if (!ok || strncmp(real, "/proc/", 6) != 0)
        return -1;
    char own[64];
    snprintf(own, sizeof own, "/proc/%ld/fd", (long)getpid());
    const char *base = strrchr(link, '/') + 1; /* link has a '/': its directory is below /proc */
    char *end = NULL;
    errno = 0;
    long fd = strtol(base, &end, 10);
    if (strcmp(real, own) == 0 && end != base && *end == '\0' && errno == 0 && fd >= 0 && fd < INT_MAX)
        return (int)fd;
    return INT_MAX;
}

/* Follows path's links; *proc_fd as proc_fd_link for the last link followed (-1 when none is a /proc one). */
static int resolve(const char *path, char **target, int *in_place, int *proc_fd, struct ge_error *err)
{
    char *p = xstrdup(path);
    int rc = GE_OK;
    *in_place = 0;
    *proc_fd = -1;
    for (int hops = 0;; hops++) {
        struct stat sb;
        if (lstat(p, &sb) != 0) {
            if (errno != ENOENT) /* ENOENT: a new file (or a dangling link's target) */
                rc = ge_error_set(err, GE_ERR_IO, "%s: cannot examine %s: %s", path, p, strerror(errno));
            break;
        }
        if (S_ISDIR(sb.st_mode)) {
            rc = strcmp(p, path) ? ge_error_set(err, GE_ERR_IO, "%s: its target %s is a directory", path, p)
                                 : ge_error_set(err, GE_ERR_IO, "%s: is a directory", path);
            break;
        }
        if (!S_ISLNK(sb.st_mode)) {
            *in_place = !S_ISREG(sb.st_mode);
            break;
        }
        if ((*proc_fd = proc_fd_link(p)) >= 0) {
            *in_place = 1;
            break;
        }
        if (hops == OUT_MAX_LINKS) {
            rc = ge_error_set(err, GE_ERR_IO, "%s: more than %d symbolic links to follow (a loop?)", path,
                              OUT_MAX_LINKS);
            break;
        }
        char text[PATH_MAX];
        ssize_t n = readlink(p, text, sizeof text - 1);
        if (n < 0) {
            rc = ge_error_set(err, GE_ERR_IO, "%s: cannot read the link %s: %s", path, p, strerror(errno));
            break;
        }
        text[n] = '\0';
        char *next;
        if (text[0] == '/') { /* a relative link text is relative to the link's own directory */
            next = xstrdup(text);
        } else {
            char *dir = dir_of(p);
            size_t len = strlen(dir) + 1 + (size_t)n + 1;
            next = xmalloc(len);
            snprintf(next, len, "%s/%s", dir, text);
            free(dir);
        }
        free(p);
        p = next;
    }
    if (rc != GE_OK) {
        free(p);
        p = NULL;
    }
    *target = p;
    return rc;
}

int out_file_resolve(const char *path, char **target, int *in_place, struct ge_error *err)
{
    int proc_fd;
    return resolve(path, target, in_place, &proc_fd, err);
}

int out_file_open(struct out_file *o, const char *path, struct ge_error *err)
{
    memset(o, 0, sizeof *o);
    int in_place, proc_fd, fd = -1;
    char *target = NULL;
    int rc = resolve(path, &target, &in_place, &proc_fd, err);
    if (rc)
        return rc;
    char *tmp = NULL;
    if (proc_fd >= 0 && proc_fd != INT_MAX) {
        fd = fcntl(proc_fd, F_DUPFD_CLOEXEC, 0); /* our own descriptor: write where it writes, as it writes */
    } else if (in_place) {
        fd = open(target, O_WRONLY | O_NOCTTY | O_CLOEXEC); /* never O_TRUNC: a file reached through /proc is
                                                               another's open file; a FIFO or device has nothing */
    } else {
        size_t len = strlen(target) + 5;
        tmp = xmalloc(len);
        snprintf(tmp, len, "%s.tmp", target);
        /* O_NOFOLLOW: a link planted at the temporary's name must not redirect the output; 0666 less the umask,
         * the mode of any new file (the rename gives the target this mode) */
        fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0666);
    }
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (f == NULL) {
        rc = ge_error_set(err, GE_ERR_IO, "%s: cannot %s %s: %s", path, tmp ? "create" : "open",
                          tmp ? tmp : target, strerror(errno));
        if (fd >= 0)
            close(fd);
        if (tmp && fd >= 0)
            unlink(tmp);
        free(tmp);
        free(target);
        return rc;
    }
    o->f = f;
    o->path = xstrdup(path);
    o->target = target;
    o->tmp = tmp;
    return GE_OK;
}

static void out_file_release(struct out_file *o)
{
    free(o->path);
    free(o->target);
    free(o->tmp);
    memset(o, 0, sizeof *o);
}

int out_file_commit(struct out_file *o, struct ge_error *err)
{
    int rc = GE_OK;
    /* ferror: an earlier write may have failed although the close's flush succeeds */
    int bad = ferror(o->f), e = fclose(o->f) != 0 ? errno : 0;
    if (bad || e)
        rc = ge_error_set(err, GE_ERR_IO, "%s: writing %s failed: %s", o->path, o->tmp ? o->tmp : o->target,
                          e ? strerror(e) : "a write failed");
    o->f = NULL;
    if (rc == GE_OK && o->tmp && rename(o->tmp, o->target) != 0)
        rc = ge_error_set(err, GE_ERR_IO, "%s: cannot rename %s to %s: %s", o->path, o->tmp, o->target,
                          strerror(errno));
    if (rc != GE_OK && o->tmp)
        unlink(o->tmp); /* never leave half an output behind; the target stays as it was */
    out_file_release(o);
    return rc;
}

void out_file_abort(struct out_file *o)
{
    if (o->f) {
        fclose(o->f);
        if (o->tmp)
            unlink(o->tmp);
    }
    out_file_release(o);
}
