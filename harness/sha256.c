/* sha256.c — SHA-256 after FIPS 180-4 (see sha256.h).
 *
 * compress() is the plain word-at-a-time algorithm: one compression per 64-byte block, big-endian words, no table
 * tricks; it is the definition. On x86-64 processors with the SHA extensions (Intel SHA-NI: Goldmont, Ice Lake and
 * later, AMD Zen) compress_shani() does the same rounds with sha256rnds2/sha256msg1/sha256msg2, about 5x faster:
 * hashing is not I/O-bound once files are in the page cache (a 300 MB contamination index took 1.5 s to check, a
 * checkpoint of several GB is hashed for its identity). Which one runs is decided per context, at its first
 * update of SHA256_ACCEL_MIN bytes or more (cpuid is slow in a virtual machine, and short messages gain nothing);
 * tests/test_sha256 checks that both give the same digests. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "harness/sha256.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define SHA256_HAVE_SHANI 1
#include <cpuid.h>
#include <immintrin.h>
#else
#define SHA256_HAVE_SHANI 0
#endif

#define SHA256_ACCEL_MIN 1024 /* bytes in one update before the CPU is asked for its SHA extensions */

/* FIPS 180-4 §4.2.2: first 32 bits of the fractional parts of the cube roots of the first 64 primes. */
static const uint32_t k[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static uint32_t rotr(uint32_t x, unsigned n) { return (x >> n) | (x << (32 - n)); }

/* FIPS 180-4 §6.2.2: one compression of a 512-bit block into h. */
static void compress(uint32_t h[8], const uint8_t block[64])
{
    uint32_t w[64];
    for (int t = 0; t < 16; t++)
        w[t] = (uint32_t)block[4 * t] << 24 | (uint32_t)block[4 * t + 1] << 16 | (uint32_t)block[4 * t + 2] << 8 |
               (uint32_t)block[4 * t + 3];
    for (int t = 16; t < 64; t++) {
        uint32_t s0 = rotr(w[t - 15], 7) ^ rotr(w[t - 15], 18) ^ (w[t - 15] >> 3);
        uint32_t s1 = rotr(w[t - 2], 17) ^ rotr(w[t - 2], 19) ^ (w[t - 2] >> 10);
        w[t] = w[t - 16] + s0 + w[t - 7] + s1;
    }
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
    for (int t = 0; t < 64; t++) {
        uint32_t big_s1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25);
        uint32_t ch = (e & f) ^ (~e & g);
        uint32_t t1 = hh + big_s1 + ch + k[t] + w[t];
        uint32_t big_s0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22);
        uint32_t maj = (a & b) ^ (a & c) ^ (b & c);
        uint32_t t2 = big_s0 + maj;
        hh = g;
        g = f;
        f = e;
        e = d + t1;
        d = c;
        c = b;
        b = a;
        a = t1 + t2;
    }
    h[0] += a;
    h[1] += b;
    h[2] += c;
    h[3] += d;
    h[4] += e;
    h[5] += f;
    h[6] += g;
    h[7] += hh;
}

#if SHA256_HAVE_SHANI
/* compress() for n consecutive blocks with the SHA extensions. The state is kept as two vectors, ABEF and CDGH
 * (the operand order of sha256rnds2); each sha256rnds2 does two rounds, so a group of four message words takes two.
 * Groups 4..15 of the message schedule are made from the four before them, W[t] = sigma1(W[t-2]) + W[t-7] +
 * sigma0(W[t-15]) + W[t-16]: sha256msg1 adds the sigma0 terms, the alignr supplies W[t-7], sha256msg2 the sigma1
 * terms. */
__attribute__((target("sha,sse4.1,ssse3"))) static void compress_shani(uint32_t h[8], const uint8_t *p,
                                                                        size_t n_blocks)
{
    const __m128i bswap = _mm_set_epi64x(0x0c0d0e0f08090a0bll, 0x0405060700010203ll); /* big-endian words */
    __m128i dcba = _mm_loadu_si128((const __m128i *)(const void *)&h[0]);
    __m128i hgfe = _mm_loadu_si128((const __m128i *)(const void *)&h[4]);
    __m128i cdab = _mm_shuffle_epi32(dcba, 0xB1);
    __m128i efgh = _mm_shuffle_epi32(hgfe, 0x1B);
    __m128i abef = _mm_alignr_epi8(cdab, efgh, 8);
    __m128i cdgh = _mm_blend_epi16(efgh, cdab, 0xF0);
    for (; n_blocks > 0; n_blocks--, p += 64) {
        __m128i abef_in = abef, cdgh_in = cdgh;
        __m128i m[4];
        for (int g = 0; g < 4; g++)
            m[g] = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(const void *)(p + 16 * g)), bswap);
        for (int g = 0; g < 16; g++) {
            __m128i wk = _mm_add_epi32(m[g & 3], _mm_loadu_si128((const __m128i *)(const void *)&k[4 * g]));
            cdgh = _mm_sha256rnds2_epu32(cdgh, abef, wk);
            abef = _mm_sha256rnds2_epu32(abef, cdgh, _mm_shuffle_epi32(wk, 0x0E));
            if (g < 12) { /* group g + 4 replaces group g */
                __m128i w = _mm_sha256msg1_epu32(m[g & 3], m[(g + 1) & 3]);
                w = _mm_add_epi32(w, _mm_alignr_epi8(m[(g + 3) & 3], m[(g + 2) & 3], 4));
                m[g & 3] = _mm_sha256msg2_epu32(w, m[(g + 3) & 3]);
            }
        }
        abef = _mm_add_epi32(abef, abef_in);
        cdgh = _mm_add_epi32(cdgh, cdgh_in);
    }
    __m128i feba = _mm_shuffle_epi32(abef, 0x1B);
    __m128i dchg = _mm_shuffle_epi32(cdgh, 0xB1);
    _mm_storeu_si128((__m128i *)(void *)&h[0], _mm_blend_epi16(feba, dchg, 0xF0));
    _mm_storeu_si128((__m128i *)(void *)&h[4], _mm_alignr_epi8(dchg, feba, 8));
}

static int cpu_has_shani(void)
{
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & bit_SSE4_1) || !(c & bit_SSSE3))
        return 0;
    return __get_cpuid_count(7, 0, &a, &b, &c, &d) && (b & bit_SHA);
}
#endif

void sha256_compress_portable(uint32_t h[8], const uint8_t *blocks, size_t n_blocks)
{
    for (; n_blocks > 0; n_blocks--, blocks += 64)
        compress(h, blocks);
}

int sha256_compress_accelerated(uint32_t h[8], const uint8_t *blocks, size_t n_blocks)
{
#if SHA256_HAVE_SHANI
    if (cpu_has_shani()) {
        compress_shani(h, blocks, n_blocks);
        return 1;
    }
#else
    (void)h;
    (void)blocks;
    (void)n_blocks;
#endif
    return 0;
}

/* n whole blocks, with the context's choice of compression function. */
static void compress_blocks(struct sha256 *s, const uint8_t *p, size_t n_blocks)
{
#if SHA256_HAVE_SHANI
    if (s->accel > 0) {
        compress_shani(s->h, p, n_blocks);
        return;
    }
#endif
    sha256_compress_portable(s->h, p, n_blocks);
}

void sha256_init(struct sha256 *s)
{
    /* FIPS 180-4 §5.3.3: first 32 bits of the fractional parts of the square roots of the first 8 primes. */
    static const uint32_t h0[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                   0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    memcpy(s->h, h0, sizeof h0);
    s->n_bytes = 0;
    s->block_len = 0;
    s->accel = -1;
}

void sha256_update(struct sha256 *s, const void *data, size_t len)
{
    const uint8_t *p = data;
    if (len == 0)
        return; /* data may be NULL; memcpy must not see it */
    s->n_bytes += len;
#if SHA256_HAVE_SHANI
    if (s->accel < 0 && len >= SHA256_ACCEL_MIN)
        s->accel = cpu_has_shani();
#endif
    if (s->block_len > 0) {
        size_t take = 64 - s->block_len < len ? 64 - s->block_len : len;
        memcpy(s->block + s->block_len, p, take);
        s->block_len += take;
        p += take;
        len -= take;
        if (s->block_len < 64)
            return;
        compress_blocks(s, s->block, 1);
        s->block_len = 0;
    }
    compress_blocks(s, p, len / 64);
    p += len / 64 * 64;
    len %= 64;
    if (len > 0)
        memcpy(s->block, p, len);
    s->block_len = len;
}

void sha256_final(struct sha256 *s, uint8_t digest[SHA256_DIGEST_LEN])
{
    /* §5.1.1: a 1 bit, zeros up to 56 mod 64 bytes, then the length in bits as a big-endian 64-bit number. */
    uint64_t n_bits = s->n_bytes * 8;
    s->block[s->block_len++] = 0x80;
    if (s->block_len > 56) {
        memset(s->block + s->block_len, 0, 64 - s->block_len);
        compress(s->h, s->block);
        s->block_len = 0;
    }
    memset(s->block + s->block_len, 0, 56 - s->block_len);
    for (int i = 0; i < 8; i++)
        s->block[56 + i] = (uint8_t)(n_bits >> (56 - 8 * i));
    compress(s->h, s->block);
    for (int i = 0; i < 8; i++) {
        digest[4 * i] = (uint8_t)(s->h[i] >> 24);
        digest[4 * i + 1] = (uint8_t)(s->h[i] >> 16);
        digest[4 * i + 2] = (uint8_t)(s->h[i] >> 8);
        digest[4 * i + 3] = (uint8_t)s->h[i];
    }
    s->block_len = 0;
}

void sha256_digest_hex(const uint8_t digest[SHA256_DIGEST_LEN], char hex[SHA256_HEX_LEN + 1])
{
    static const char digits[] = "0123456789abcdef";
    for (int i = 0; i < SHA256_DIGEST_LEN; i++) {
        hex[2 * i] = digits[digest[i] >> 4];
        hex[2 * i + 1] = digits[digest[i] & 15];
    }
    hex[SHA256_HEX_LEN] = '\0';
}

void sha256_hash_hex(const void *data, size_t len, char hex[SHA256_HEX_LEN + 1])
{
    struct sha256 s;
    uint8_t digest[SHA256_DIGEST_LEN];
    sha256_init(&s);
    sha256_update(&s, data, len);
    sha256_final(&s, digest);
    sha256_digest_hex(digest, hex);
}

int sha256_file_hex(const char *path, char hex[SHA256_HEX_LEN + 1], struct ge_error *err)
{
    static const size_t chunk = 65536;
    int rc = GE_OK;
    uint8_t buf[65536];
    uint8_t digest[SHA256_DIGEST_LEN];
    struct sha256 s;
    hex[0] = '\0';
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return ge_error_set(err, GE_ERR_IO, "%s: cannot open for hashing: %s", path, strerror(errno));
    sha256_init(&s);
    for (;;) {
        size_t n = fread(buf, 1, chunk, f);
        sha256_update(&s, buf, n);
        if (n < chunk) {
            if (ferror(f)) {
                rc = ge_error_set(err, GE_ERR_IO, "%s: read error at byte %llu while hashing: %s", path,
                                  (unsigned long long)s.n_bytes, strerror(errno));
                goto out;
            }
            break;
        }
    }
    sha256_final(&s, digest);
    sha256_digest_hex(digest, hex);
out:
    fclose(f);
    return rc;
}

int sha256_is_hex(const char *s)
{
    if (s == NULL)
        return 0;
    for (int i = 0; i < SHA256_HEX_LEN; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    return s[SHA256_HEX_LEN] == '\0';
}
