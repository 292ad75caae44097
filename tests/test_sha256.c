/* test_sha256.c — SHA-256 against the FIPS 180-4 examples and padding-boundary vectors in
 * tests/data/sha256_vectors.txt, one-shot, streamed in uneven pieces and through a file; the compression with the
 * CPU's SHA extensions against the portable one. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness/error.h"
#include "harness/fileio.h"
#include "harness/sha256.h"
#include "harness/xalloc.h"
#include "tests/tap.h"

#define MAX_MESSAGE ((size_t)16 << 20)

/* Hashes msg fed in pieces whose sizes cycle through steps (so pieces cross block edges in many ways). */
static void hash_in_pieces(const char *msg, size_t len, const size_t *steps, size_t n_steps, char hex[65])
{
    struct sha256 s;
    uint8_t digest[SHA256_DIGEST_LEN];
    sha256_init(&s);
    size_t pos = 0;
    for (size_t i = 0; pos < len; i++) {
        size_t n = steps[i % n_steps];
        if (n > len - pos)
            n = len - pos;
        sha256_update(&s, msg + pos, n);
        pos += n;
    }
    sha256_update(&s, NULL, 0);
    sha256_final(&s, digest);
    sha256_digest_hex(digest, hex);
}

static void check_vector(const char *want, unsigned long count, const char *pattern, size_t line_no, const char *tmp)
{
    size_t plen = strlen(pattern);
    if (count != 0 && plen > MAX_MESSAGE / count) {
        tap_ok(0, "vector line %zu: message too large for the test", line_no);
        return;
    }
    size_t len = count * plen;
    char *msg = xmalloc(len + 1);
    for (unsigned long i = 0; i < count; i++)
        memcpy(msg + i * plen, pattern, plen);
    msg[len] = '\0';

    char hex[65];
    sha256_hash_hex(msg, len, hex);
    tap_is_str(hex, want, "sha256 line %zu: one-shot (%lu x \"%.16s\")", line_no, count, count ? pattern : "");

    static const size_t odd[] = {1, 3, 7, 13, 64, 65, 127};
    static const size_t big[] = {1000, 1};
    hash_in_pieces(msg, len, odd, sizeof odd / sizeof odd[0], hex);
    tap_is_str(hex, want, "sha256 line %zu: streamed in pieces of 1,3,7,13,64,65,127 bytes", line_no);
    hash_in_pieces(msg, len, big, sizeof big / sizeof big[0], hex);
    tap_is_str(hex, want, "sha256 line %zu: streamed in pieces of 1000,1 bytes", line_no);

    FILE *f = fopen(tmp, "wb");
    int wrote = f != NULL && fwrite(msg, 1, len, f) == len;
    if (f != NULL)
        wrote = (fclose(f) == 0) && wrote;
    struct ge_error err = {0};
    ge_error_clear(&err);
    int rc = wrote ? sha256_file_hex(tmp, hex, &err) : GE_ERR_IO;
    tap_ok(rc == GE_OK && strcmp(hex, want) == 0, "sha256 line %zu: file hash (%s) %s", line_no, hex, err.msg);
    free(msg);
}

static void test_vectors(const char *tmp)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/sha256_vectors.txt", tap_data_dir());
    struct ge_error err = {0};
    char *data = NULL;
    size_t len = 0;
    if (!tap_ok(file_read_all(path, 1 << 20, &data, &len, &err) == GE_OK, "read %s %s", path, err.msg))
        return;
    struct line_iter it;
    const char *line;
    size_t n, n_vectors = 0;
    line_iter_init(&it, data, len);
    while (line_iter_next(&it, &line, &n)) {
        if (n == 0 || line[0] == '#')
            continue;
        char want[80], pattern[256];
        unsigned long count;
        char copy[512];
        if (n >= sizeof copy) {
            tap_ok(0, "%s:%zu: line too long", path, it.line_no);
            continue;
        }
        memcpy(copy, line, n);
        copy[n] = '\0';
        if (sscanf(copy, "%79s %lu %255s", want, &count, pattern) != 3 || !sha256_is_hex(want)) {
            tap_ok(0, "%s:%zu: malformed vector line", path, it.line_no);
            continue;
        }
        check_vector(want, count, pattern, it.line_no, tmp);
        n_vectors++;
    }
    tap_ok(n_vectors >= 5, "read %zu vectors (the four FIPS examples and one million 'a' at least)", n_vectors);
    free(data);
}

static void test_helpers(void)
{
    struct ge_error err = {0};
    char hex[65] = "x";
    int rc = sha256_file_hex("/nonexistent/dir/file.bin", hex, &err);
    tap_is_int(rc, GE_ERR_IO, "sha256_file_hex: missing file is an I/O error");
    tap_ok(strstr(err.msg, "/nonexistent/dir/file.bin") != NULL, "sha256_file_hex: error names the file (%s)", err.msg);
    tap_is_str(hex, "", "sha256_file_hex: hex is empty after a failure");

    static const struct {
        const char *s;
        int want;
    } cases[] = {
        {"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", 1},
        {"BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD", 0}, /* uppercase is not canonical */
        {"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015a", 0},  /* 63 characters */
        {"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad0", 0}, /* 65 characters */
        {"ga7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", 0},
        {"", 0},
        {NULL, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        tap_is_int(sha256_is_hex(cases[i].s), cases[i].want, "sha256_is_hex case %zu", i);
}

/* splitmix64: the test's own deterministic bytes (seeded). */
static uint64_t next_random(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* The SHA extensions' compression against the portable one: random states and blocks, 1..40 blocks at a time
 * (every message-schedule word and round depends on them, so one wrong lane changes the result). */
static void test_accelerated(void)
{
    uint32_t h[8];
    uint8_t probe[64] = {0};
    if (!sha256_compress_accelerated(h, probe, 0)) {
        tap_skip("this CPU or build has no SHA extensions", "SHA extensions against the portable compression");
        return;
    }
    uint64_t seed = 20261123;
    size_t n_same = 0, n_cases = 0;
    uint8_t blocks[64 * 40];
    for (size_t c = 0; c < 400; c++) {
        uint32_t a[8], b[8];
        for (int i = 0; i < 8; i++)
            a[i] = b[i] = (uint32_t)next_random(&seed);
        size_t n = 1 + c % 40;
        for (size_t i = 0; i < 64 * n; i++)
            blocks[i] = (uint8_t)next_random(&seed);
        if (c % 7 == 0) /* runs of equal bytes and all-ones words */
            memset(blocks + 64 * (n - 1), c % 2 ? 0xFF : 0x00, 64);
        sha256_compress_portable(a, blocks, n);
        sha256_compress_accelerated(b, blocks, n);
        n_same += memcmp(a, b, sizeof a) == 0;
        n_cases++;
    }
    tap_is_int((long long)n_same, (long long)n_cases, "SHA extensions: same hash values as the portable "
               "compression in %zu random cases of 1..40 blocks", n_cases);

    /* sha256_update switches to them for a large update: the one-million-'a' FIPS vector through both paths */
    size_t len = 1000000;
    char *msg = xmalloc(len);
    memset(msg, 'a', len);
    struct sha256 s;
    uint8_t d[SHA256_DIGEST_LEN];
    char hex[65];
    sha256_init(&s);
    sha256_update(&s, msg, len);
    tap_is_int(s.accel, 1, "a one-shot update of %zu bytes uses the SHA extensions", len);
    sha256_final(&s, d);
    sha256_digest_hex(d, hex);
    tap_is_str(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0",
               "SHA extensions: FIPS 180-4 one million 'a'");
    sha256_init(&s);
    for (size_t i = 0; i < len; i += 100)
        sha256_update(&s, msg + i, 100);
    tap_is_int(s.accel, -1, "updates of 100 bytes keep the portable compression");
    sha256_final(&s, d);
    sha256_digest_hex(d, hex);
    tap_is_str(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0",
               "portable compression: FIPS 180-4 one million 'a'");
    free(msg);
}

int main(void)
{
    const char *base = getenv("TMPDIR");
    char dir[4096], tmp[4200];
    snprintf(dir, sizeof dir, "%s/test_sha256.XXXXXX", base && *base ? base : "/tmp");
    if (mkdtemp(dir) == NULL) {
        tap_ok(0, "mkdtemp %s", dir);
        return tap_done();
    }
    snprintf(tmp, sizeof tmp, "%s/message.bin", dir);
    test_vectors(tmp);
    test_helpers();
    test_accelerated();
    unlink(tmp);
    rmdir(dir);
    return tap_done();
}
