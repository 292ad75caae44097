/* source.c — plain, gzip and zstd corpus files as one byte stream (see source.h).
 *
 * gzip goes through zlib's gzread (which reads concatenated members and reports a truncated stream as
 * "unexpected end of file"); zstd through ZSTD_decompressStream, whose last return value is non-zero when the
 * input ends inside a frame (https://facebook.github.io/zstd/zstd_manual.html, "Streaming decompression"). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "contamination/source.h"
#include "harness/xalloc.h"

#define CN_GZ_BUFFER (256 * 1024)

/* Invariants: exactly one of fd (plain, zstd) and gz (gzip) is in use; zin holds zin_size bytes of compressed
 * input of which zin_pos are consumed; zlast is the last ZSTD_decompressStream result (0 = at a frame end). */
struct cn_source {
    enum cn_source_kind kind;
    char *path;          /* owned */
    int fd;              /* -1 when not used */
    gzFile gz;           /* gzip only */
    ZSTD_DStream *zs;    /* zstd only */
    uint8_t *zin;        /* zstd: input buffer (ZSTD_DStreamInSize bytes), owned */
    size_t zin_cap, zin_size, zin_pos;
    size_t zlast;
    int zeof;            /* zstd: the file is read to its end */
    uint64_t out_bytes;  /* decompressed bytes returned so far */
};

int cn_source_open(const char *path, struct cn_source **out, struct ge_error *err)
{
    *out = NULL;
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return ge_error_set(err, GE_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    uint8_t magic[4] = {0};
    ssize_t got = pread(fd, magic, 4, 0);
    if (got < 0) {
        int e = errno;
        close(fd);
        return ge_error_set(err, GE_ERR_IO, "%s: cannot read: %s", path, strerror(e));
    }
    struct cn_source *s = xcalloc(1, sizeof *s);
    s->path = xstrdup(path);
    s->fd = fd;
    if (got >= 2 && magic[0] == 0x1f && magic[1] == 0x8b) {
        s->kind = CN_SOURCE_GZIP;
        s->gz = gzdopen(fd, "rb");
        if (!s->gz) {
            close(fd);
            free(s->path);
            free(s);
            return ge_error_set(err, GE_ERR_NOMEM, "%s: cannot start gzip decompression", path);
        }
        s->fd = -1; /* owned by gz now */
        gzbuffer(s->gz, CN_GZ_BUFFER);
    } else if (got == 4 && magic[0] == 0x28 && magic[1] == 0xb5 && magic[2] == 0x2f && magic[3] == 0xfd) {
        s->kind = CN_SOURCE_ZSTD;
        s->zs = ZSTD_createDStream();
        s->zin_cap = ZSTD_DStreamInSize();
        s->zin = xmalloc(s->zin_cap);
        if (!s->zs || ZSTD_isError(ZSTD_initDStream(s->zs))) {
            cn_source_close(s);
            return ge_error_set(err, GE_ERR_NOMEM, "%s: cannot start zstd decompression", path);
        }
    } else {
        s->kind = CN_SOURCE_PLAIN;
#ifdef POSIX_FADV_SEQUENTIAL
        posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
#endif
    }
    *out = s;
    return GE_OK;
}

enum cn_source_kind cn_source_kind(const struct cn_source *s)
{
    return s->kind;
}

static int read_plain(struct cn_source *s, void *buf, size_t cap, size_t *n, struct ge_error *err)
{
    for (;;) {
        ssize_t r = read(s->fd, buf, cap);
        if (r >= 0) {
            *n = (size_t)r;
            return GE_OK;
        }
        if (errno != EINTR)
            return ge_error_set(err, GE_ERR_IO, "%s: read error at byte offset %llu: %s", s->path,
                                (unsigned long long)s->out_bytes, strerror(errno));
    }
}

static int read_gzip(struct cn_source *s, void *buf, size_t cap, size_t *n, struct ge_error *err)
{
    if (cap > (1u << 30))
        cap = 1u << 30;
    int r = gzread(s->gz, buf, (unsigned)cap);
    if (r < 0) {
        int errnum = 0;
        const char *msg = gzerror(s->gz, &errnum);
        return ge_error_set(err, GE_ERR_FORMAT, "%s: corrupt gzip data at decompressed byte offset %llu: %s",
                            s->path, (unsigned long long)s->out_bytes,
                            errnum == Z_ERRNO ? strerror(errno) : msg ? msg : "unknown error");
    }
    if (r == 0) {
        int errnum = 0;
        const char *msg = gzerror(s->gz, &errnum);
        if (errnum != Z_OK && errnum != Z_STREAM_END)
            return ge_error_set(err, GE_ERR_FORMAT, "%s: corrupt gzip data at decompressed byte offset %llu: %s",
                                s->path, (unsigned long long)s->out_bytes, msg ? msg : "unknown error");
    }
    *n = (size_t)r;
    return GE_OK;
}

static int read_zstd(struct cn_source *s, void *buf, size_t cap, size_t *n, struct ge_error *err)
{
    ZSTD_outBuffer ob = {.dst = buf, .size = cap, .pos = 0};
    while (ob.pos == 0) {
        if (s->zin_pos == s->zin_size) {
            if (s->zeof)
                break;
            ssize_t r;
            do
                r = read(s->fd, s->zin, s->zin_cap);
            while (r < 0 && errno == EINTR);
            if (r < 0)
                return ge_error_set(err, GE_ERR_IO, "%s: read error: %s", s->path, strerror(errno));
            if (r == 0) {
                s->zeof = 1;
                if (s->zlast != 0)
                    return ge_error_set(err, GE_ERR_FORMAT, "%s: truncated zstd data at decompressed byte offset "
                                        "%llu: the file ends inside a frame", s->path,
                                        (unsigned long long)s->out_bytes);
                break;
            }
            s->zin_size = (size_t)r;
            s->zin_pos = 0;
        }
        ZSTD_inBuffer ib = {.src = s->zin, .size = s->zin_size, .pos = s->zin_pos};
        size_t ret = ZSTD_decompressStream(s->zs, &ob, &ib);
        s->zin_pos = ib.pos;
        if (ZSTD_isError(ret))
            return ge_error_set(err, GE_ERR_FORMAT, "%s: corrupt zstd data at decompressed byte offset %llu: %s",
                                s->path, (unsigned long long)(s->out_bytes + ob.pos), ZSTD_getErrorName(ret));
        s->zlast = ret;
    }
    *n = ob.pos;
    return GE_OK;
}

int cn_source_read(struct cn_source *s, void *buf, size_t cap, size_t *n, struct ge_error *err)
{
    *n = 0;
    int rc = s->kind == CN_SOURCE_GZIP   ? read_gzip(s, buf, cap, n, err)
             : s->kind == CN_SOURCE_ZSTD ? read_zstd(s, buf, cap, n, err)
                                         : read_plain(s, buf, cap, n, err);
    s->out_bytes += *n;
    return rc;
}

void cn_source_close(struct cn_source *s)
{
    if (!s)
        return;
    if (s->gz)
        gzclose(s->gz);
    if (s->fd >= 0)
        close(s->fd);
    if (s->zs)
        ZSTD_freeDStream(s->zs);
    free(s->zin);
    free(s->path);
    free(s);
}
