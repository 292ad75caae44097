/* sha256.h — SHA-256 message digests (FIPS 180-4), streaming and one-shot, with lowercase hex output.
 *
 * glam-eval names things by content: a model's identity (config, weights, tokenizer), a dataset file, a request
 * sent to a model. All of these are SHA-256 digests written as 64 lowercase hex characters, so one hash of the
 * same bytes is the same on every platform and in every version.
 *
 * Source: NIST FIPS 180-4 "Secure Hash Standard" (2015), section 4.1.2 (functions), 4.2.2 (constants),
 * 5.1.1 (padding), 5.3.3 (initial hash value), 6.2.2 (computation).
 *
 * Invariant of struct sha256: block_len < 64 between calls; n_bytes counts every byte passed to update; accel is
 * -1 until the first large update. A context must be re-initialised after sha256_final before it is used again. */
#ifndef GE_SHA256_H
#define GE_SHA256_H

#include <stddef.h>
#include <stdint.h>

#include "harness/error.h"

#define SHA256_DIGEST_LEN 32 /* bytes in a digest */
#define SHA256_HEX_LEN 64    /* hex characters in a digest, without the NUL */

struct sha256 {
    uint32_t h[8];      /* intermediate hash value H(i) */
    uint64_t n_bytes;   /* message length so far, in bytes (the padding stores it in bits, mod 2^64) */
    uint8_t block[64];  /* the unprocessed tail of the message */
    size_t block_len;   /* bytes used in block, 0..63 */
    int accel;          /* 1: the CPU's SHA extensions compress the blocks, 0: the portable code, -1: not asked yet */
};

void sha256_init(struct sha256 *s);
/* Feeds len bytes; data may be NULL when len is 0. */
void sha256_update(struct sha256 *s, const void *data, size_t len);
/* Pads, writes the 32-byte digest and leaves s unusable until the next sha256_init. */
void sha256_final(struct sha256 *s, uint8_t digest[SHA256_DIGEST_LEN]);

/* Writes the digest as 64 lowercase hex characters and a NUL. */
void sha256_digest_hex(const uint8_t digest[SHA256_DIGEST_LEN], char hex[SHA256_HEX_LEN + 1]);
/* One-shot: the hex digest of len bytes. */
void sha256_hash_hex(const void *data, size_t len, char hex[SHA256_HEX_LEN + 1]);
/* The hex digest of a file's contents, read in 64 KiB pieces (any size; memory use is constant).
 * Fails with GE_ERR_IO naming the path when the file cannot be opened or read; hex is then "". */
int sha256_file_hex(const char *path, char hex[SHA256_HEX_LEN + 1], struct ge_error *err);
/* The compression of n_blocks consecutive 64-byte blocks into the hash value h (FIPS 180-4 6.2.2, no padding), by
 * the portable code, and by the CPU's SHA extensions: that one returns 0 and leaves h unchanged when the CPU or
 * the build has none. For tests and bench/bench_sha256; sha256_update chooses by itself. */
void sha256_compress_portable(uint32_t h[8], const uint8_t *blocks, size_t n_blocks);
int sha256_compress_accelerated(uint32_t h[8], const uint8_t *blocks, size_t n_blocks);
/* 1 when s is exactly 64 lowercase hex characters (the form every function here writes). */
int sha256_is_hex(const char *s);

#endif
