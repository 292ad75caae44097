/* source.c — plain, gzip and zstd corpus files as one byte stream (see source.h).
 *
 * The file is read front to back with read() only, never seeked, so pipes and process substitution
 * (`<(zcat ...)`, /dev/stdin) work like files: the magic number is read as the first bytes of the stream and
 * handed on as the start of the data. gzip goes through zlib's inflate with gzip decoding (windowBits 16 + 15):
 * at the end of a member, input that starts with the gzip magic is the next member, anything else ends the stream
 * (as gzip -d and zlib's gzread do); input that ends inside a member is truncated data. zstd goes through
 * ZSTD_decompressStream, whose last return value is non-zero when the input ends inside a frame
 * (https://facebook.github.io/zstd/zstd_manual.html, "Streaming decompression"). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "contamination/source.h"
#include "harness/xalloc.h"

#define CN_GZ_INPUT (256 * 1024) /* compressed bytes read at a time (gzip) */

/* Invariants: fd is open until close; in[in_pos, in_size) are compressed bytes not yet consumed (gzip, zstd) or,
 * for plain files, the sniffed first bytes not yet returned; in_eof once read() returned 0. gzip: z is initialised
 * (z_ready), in_member says the input is inside a member (the stream may not end there), gz_done that the bytes
 * after the last member were not another member (the stream ended there); zstd: zlast is the last
 * ZSTD_decompressStream result (0 = at a frame end). */
struct cn_source {
    enum cn_source_kind kind;
    char *path;          /* owned */
    int fd;
    uint8_t *in;         /* (in_cap) owned */
    size_t in_cap, in_size, in_pos;
    int in_eof;
    z_stream z;          /* gzip */
    int z_ready, in_member, gz_done;
    ZSTD_DStream *zs;    /* zstd */
    size_t zlast;
    uint64_t out_bytes;  /* decompressed bytes returned so far */
    uint64_t in_bytes;   /* bytes read from the file so far (progress) */
};

/* Refills in[] when it holds fewer than want unconsumed bytes (moving those to the front) and the file has more. */
static int fill(struct cn_source *s, size_t want, struct ge_error *err)
{
    while (!s->in_eof && s->in_size - s->in_pos < want) {
        if (s->in_pos > 0) {
            memmove(s->in, s->in + s->in_pos, s->in_size - s->in_pos);
            s->in_size -= s->in_pos;
            s->in_pos = 0;
        }
        ssize_t r;
        do
            r = read(s->fd, s->in + s->in_size, s->in_cap - s->in_size);
        while (r < 0 && errno == EINTR);
        if (r < 0)
            return ge_error_set(err, GE_ERR_IO, "%s: read error: %s", s->path, strerror(errno));
        if (r == 0)
            s->in_eof = 1;
        s->in_size += (size_t)r;
        s->in_bytes += (uint64_t)r;
    }
    return GE_OK;
}

int cn_source_open(const char *path, struct cn_source **out, struct ge_error *err)
{
    *out = NULL;
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return ge_error_set(err, GE_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    struct cn_source *s = xcalloc(1, sizeof *s);
    s->path = xstrdup(path);
    s->fd = fd;
    s->in_cap = CN_GZ_INPUT > ZSTD_DStreamInSize() ? CN_GZ_INPUT : ZSTD_DStreamInSize();
    s->in = xmalloc(s->in_cap);
    int rc = fill(s, 4, err); /* the magic number: the first bytes of the stream, kept as the start of the data */
    if (rc) {
        cn_source_close(s);
        return rc;
    }
    s->kind = cn_source_kind_of_magic(s->in, s->in_size);
    if (s->kind == CN_SOURCE_GZIP) {
        if (inflateInit2(&s->z, 16 + MAX_WBITS) != Z_OK) {
            cn_source_close(s);
            return ge_error_set(err, GE_ERR_NOMEM, "%s: cannot start gzip decompression", path);
        }
        s->z_ready = 1;
        s->in_member = 1;
    } else if (s->kind == CN_SOURCE_ZSTD) {
        s->zs = ZSTD_createDStream();
        if (!s->zs || ZSTD_isError(ZSTD_initDStream(s->zs))) {
            cn_source_close(s);
            return ge_error_set(err, GE_ERR_NOMEM, "%s: cannot start zstd decompression", path);
        }
    } else {
#ifdef POSIX_FADV_SEQUENTIAL
        posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL); /* fails harmlessly on a pipe */
#endif
    }
    *out = s;
    return GE_OK;
}

enum cn_source_kind cn_source_kind_of_magic(const uint8_t *m, size_t n)
{
    if (n >= 2 && m[0] == 0x1f && m[1] == 0x8b)
        return CN_SOURCE_GZIP;
    if (n >= 4 && m[0] == 0x28 && m[1] == 0xb5 && m[2] == 0x2f && m[3] == 0xfd)
        return CN_SOURCE_ZSTD;
    return CN_SOURCE_PLAIN;
}

enum cn_source_kind cn_source_kind(const struct cn_source *s)
{
    return s->kind;
}

static int read_plain(struct cn_source *s, void *buf, size_t cap, size_t *n, struct ge_error *err)
{
    if (s->in_pos < s->in_size) { /* the sniffed first bytes */
        size_t k = s->in_size - s->in_pos < cap ? s->in_size - s->in_pos : cap;
        memcpy(buf, s->in + s->in_pos, k);
        s->in_pos += k;
        *n = k;
        return GE_OK;
    }
    if (s->in_eof)
        return GE_OK;
    for (;;) {
        ssize_t r = read(s->fd, buf, cap);
        if (r >= 0) {
            *n = (size_t)r;
            s->in_bytes += (uint64_t)r;
            return GE_OK;
        }
        if (errno != EINTR)
            return ge_error_set(err, GE_ERR_IO, "%s: read error at byte offset %llu: %s", s->path,
                                (unsigned long long)s->out_bytes, strerror(errno));
    }
}

static int read_gzip(struct cn_source *s, void *buf, size_t cap, size_t *n, struct ge_error *err)
{
    if (cap > UINT_MAX)
        cap = UINT_MAX;
    s->z.next_out = buf;
    s->z.avail_out = (unsigned)cap;
    while (s->z.avail_out == cap && !s->gz_done) {
        if (!s->in_member) { /* between members: another one, or the end of the stream */
            int rc = fill(s, 2, err);
            if (rc)
                return rc;
            const uint8_t *m = s->in + s->in_pos;
            if (s->in_size - s->in_pos < 2 || m[0] != 0x1f || m[1] != 0x8b) {
                s->gz_done = 1; /* trailing bytes that are not a member are ignored, as gzip -d does */
                break;
            }
            inflateReset(&s->z);
            s->in_member = 1;
        }
        if (s->in_pos == s->in_size) {
            int rc = fill(s, 1, err);
            if (rc)
                return rc;
            if (s->in_pos == s->in_size)
                return ge_error_set(err, GE_ERR_FORMAT, "%s: corrupt gzip data at decompressed byte offset %llu: "
                                    "the file ends inside a member (truncated)", s->path,
                                    (unsigned long long)(s->out_bytes + (cap - s->z.avail_out)));
        }
        s->z.next_in = s->in + s->in_pos;
        s->z.avail_in = (unsigned)(s->in_size - s->in_pos);
        int r = inflate(&s->z, Z_NO_FLUSH);
        s->in_pos = s->in_size - s->z.avail_in;
        if (r == Z_STREAM_END)
            s->in_member = 0;
        else if (r != Z_OK && !(r == Z_BUF_ERROR && s->z.avail_in == 0)) /* (Z_BUF_ERROR: needs more input) */
            return ge_error_set(err, GE_ERR_FORMAT, "%s: corrupt gzip data at decompressed byte offset %llu: %s",
                                s->path, (unsigned long long)(s->out_bytes + (cap - s->z.avail_out)),
                                s->z.msg ? s->z.msg : "inflate failed");
    }
    *n = cap - s->z.avail_out;
    return GE_OK;
}

static int read_zstd(struct cn_source *s, void *buf, size_t cap, size_t *n, struct ge_error *err)
{
    ZSTD_outBuffer ob = {.dst = buf, .size = cap, .pos = 0};
    while (ob.pos == 0) {
        if (s->in_pos == s->in_size) {
            int rc = fill(s, 1, err);
            if (rc)
                return rc;
            if (s->in_pos == s->in_size) {
                if (s->zlast != 0)
                    return ge_error_set(err, GE_ERR_FORMAT, "%s: truncated zstd data at decompressed byte offset "
                                        "%llu: the file ends inside a frame", s->path,
                                        (unsigned long long)s->out_bytes);
                break;
            }
        }
        ZSTD_inBuffer ib = {.src = s->in, .size = s->in_size, .pos = s->in_pos};
        size_t ret = ZSTD_decompressStream(s->zs, &ob, &ib);
        s->in_pos = ib.pos;
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
    if (s->z_ready)
        inflateEnd(&s->z);
    if (s->fd >= 0)
        close(s->fd);
    if (s->zs)
        ZSTD_freeDStream(s->zs);
    free(s->in);
    free(s->path);
    free(s);
}

uint64_t cn_source_in_bytes(const struct cn_source *s)
{
    return s->in_bytes;
}
