/* source.h — reading one corpus file as a stream of decompressed bytes: plain, gzip (zlib, RFC 1952, any number
 * of members) or zstd (libzstd, RFC 8878, any number of frames), chosen by the magic number at offset 0
 * (1f 8b for gzip, 28 b5 2f fd for zstd).
 *
 * Invariant: out_bytes counts the decompressed bytes returned so far, so an error names the offset in the
 * decompressed stream where the data stopped making sense. */
#ifndef GE_CN_SOURCE_H
#define GE_CN_SOURCE_H

#include <stddef.h>
#include <stdint.h>

#include "harness/error.h"

enum cn_source_kind {
    CN_SOURCE_PLAIN,
    CN_SOURCE_GZIP,
    CN_SOURCE_ZSTD,
};

struct cn_source; /* opaque */

/* Opens path; *out is a new source (cn_source_close) or NULL with err naming the path. */
int cn_source_open(const char *path, struct cn_source **out, struct ge_error *err);
/* Reads up to cap decompressed bytes into buf; *n == 0 means the end. On corrupt or truncated data fails with
 * GE_ERR_FORMAT naming the path and the decompressed offset. */
int cn_source_read(struct cn_source *s, void *buf, size_t cap, size_t *n, struct ge_error *err);
enum cn_source_kind cn_source_kind(const struct cn_source *s);
/* Bytes read from the file so far, compressed or not (for progress: the decompressed size is not known ahead). */
uint64_t cn_source_in_bytes(const struct cn_source *s);
/* The kind a stream starting with the n bytes at magic is read as (the one rule cn_source_open applies). */
enum cn_source_kind cn_source_kind_of_magic(const uint8_t *magic, size_t n);
void cn_source_close(struct cn_source *s);

#endif
