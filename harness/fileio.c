/* fileio.c — whole-file reads and line iteration (see fileio.h). */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "harness/fileio.h"

int file_read_all(const char *path, size_t limit, char **data, size_t *len, struct ge_error *err)
{
    int rc = GE_OK;
    char *buf = NULL;
    size_t cap = 0, used = 0;
    if (limit == 0)
        limit = FILEIO_DEFAULT_LIMIT;
    *data = NULL;
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return ge_error_set(err, GE_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    for (;;) {
        if (cap - used < 65536 + 1) {
            size_t ncap = cap ? cap * 2 : 65536 * 2;
            if (ncap > limit + 1 + 65536)
                ncap = limit + 1 + 65536;
            if (ncap <= cap) {
                rc = ge_error_set(err, GE_ERR_LIMIT, "%s: file is larger than the limit of %zu bytes", path, limit);
                goto out;
            }
            char *p = realloc(buf, ncap);
            if (p == NULL) {
                rc = ge_error_set(err, GE_ERR_NOMEM, "%s: out of memory reading %zu bytes", path, ncap);
                goto out;
            }
            buf = p;
            cap = ncap;
        }
        size_t n = fread(buf + used, 1, cap - used - 1, f);
        used += n;
        if (used > limit) {
            rc = ge_error_set(err, GE_ERR_LIMIT, "%s: file is larger than the limit of %zu bytes", path, limit);
            goto out;
        }
        if (n == 0) {
            if (ferror(f)) {
                rc = ge_error_set(err, GE_ERR_IO, "%s: read error: %s", path, strerror(errno));
                goto out;
            }
            break;
        }
    }
    buf[used] = '\0';
    *data = buf;
    *len = used;
    buf = NULL;
out:
    free(buf);
    fclose(f);
    return rc;
}

void line_iter_init(struct line_iter *it, const char *buf, size_t len)
{
    it->buf = buf;
    it->len = len;
    it->pos = 0;
    it->line_no = 0;
}

int line_iter_next(struct line_iter *it, const char **line, size_t *line_len)
{
    if (it->pos >= it->len)
        return 0;
    const char *start = it->buf + it->pos;
    const char *nl = memchr(start, '\n', it->len - it->pos);
    size_t n = nl ? (size_t)(nl - start) : it->len - it->pos;
    it->pos += n + (nl ? 1 : 0);
    if (n > 0 && start[n - 1] == '\r')
        n--;
    it->line_no++;
    *line = start;
    *line_len = n;
    return 1;
}

int file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

int file_same(const char *a, const char *b)
{
    struct stat sa, sb;
    return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}
