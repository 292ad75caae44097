/* outfile.h — writing an output file named by the user (--out FILE of report, score, contamination index and scan),
 * by one rule for every kind of file the name can reach:
 *
 *   - a symbolic link is followed (also a chain of them, or a dangling one): the file it names is written by the
 *     rules below, and the link stays a link;
 *   - a regular file (or a name that does not exist yet) is replaced atomically: the output goes to TARGET.tmp in
 *     the target's own directory and is renamed over TARGET once it is whole, so a failed write leaves TARGET as it
 *     was (and readers never see half a file);
 *   - any other existing file (a FIFO, a character device such as a terminal, /dev/stdout) is opened and written
 *     in place, never replaced: renaming over it would destroy the node and put the output where nobody reads it.
 *     A path that reaches an open file through /proc (/dev/stdout, /dev/fd/N, /proc/self/fd/N) is that open file:
 *     one of this process's descriptors is written through a duplicate of it (same offset, same append mode, as a
 *     shell redirection sees it), another process's is opened without truncation;
 *   - a directory is refused.
 * Output written in place cannot be taken back: a failure leaves what was written so far. */
#ifndef GE_OUTFILE_H
#define GE_OUTFILE_H

#include <stdio.h>

#include "harness/error.h"

/* One output file being written. Invariant: f != NULL between a successful out_file_open and out_file_commit or
 * out_file_abort; tmp != NULL exactly when the target is replaced by a rename. */
struct out_file {
    FILE *f;       /* write the output here */
    char *path;    /* the name as given, for messages (owned) */
    char *target;  /* the file written: path with its symbolic links followed (owned) */
    char *tmp;     /* target's temporary, renamed over target by out_file_commit; NULL when written in place (owned) */
};

/* Follows path's symbolic links: *target (a new string, caller frees) is the file a write through path reaches, and
 * *in_place is 1 when that file is written in place (an existing file that is not a regular file, or an open file
 * reached through /proc), 0 when it is replaced (or created) by a rename. Fails naming path for a directory, a loop
 * of links or a path that cannot be examined (not for one that does not exist). */
int out_file_resolve(const char *path, char **target, int *in_place, struct ge_error *err);

/* Opens path for writing by the rule above (a FIFO's open waits for a reader, as a shell redirection does). On
 * failure o holds nothing to release and err names the file. */
int out_file_open(struct out_file *o, const char *path, struct ge_error *err);

/* Closes the output and, for a replaced file, renames the temporary over the target; on any failure (a write that
 * failed, a full disk) the temporary is removed and the target left as it was. Releases o either way. */
int out_file_commit(struct out_file *o, struct ge_error *err);

/* Closes the output without committing it (removing the temporary) and releases o; out_file_abort of a released or
 * zeroed o is a no-op. */
void out_file_abort(struct out_file *o);

#endif
