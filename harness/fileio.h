/* fileio.h — whole-file reading and line iteration with limits and precise error messages. */
#ifndef GE_FILEIO_H
#define GE_FILEIO_H

#include <stddef.h>
#include <stdio.h>

#include "harness/error.h"

#define FILEIO_DEFAULT_LIMIT ((size_t)2 << 30) /* 2 GiB */

/* Reads all of path into a new NUL-terminated buffer (*data, caller frees; *len excludes the NUL).
 * Fails with GE_ERR_LIMIT when the file is larger than limit bytes (0 = FILEIO_DEFAULT_LIMIT). */
int file_read_all(const char *path, size_t limit, char **data, size_t *len, struct ge_error *err);

/* Iterates the lines of a buffer. Invariant: pos <= len; line_no counts lines returned so far (1-based). */
struct line_iter {
    const char *buf; /* borrowed */
    size_t len;      /* bytes in buf */
    size_t pos;      /* offset of the next unread byte */
    size_t line_no;  /* number of the line last returned */
};

void line_iter_init(struct line_iter *it, const char *buf, size_t len);
/* Returns 1 and sets *line and *line_len (without "\n" or "\r\n") for the next line, 0 at the end. */
int line_iter_next(struct line_iter *it, const char **line, size_t *line_len);

/* 1 when path names an existing regular file. */
int file_exists(const char *path);

/* 1 when a and b both exist and are the same file (same device and inode, whatever the path spelling). */
int file_same(const char *a, const char *b);

#endif
