/* bench_sha256.c — SHA-256 throughput: the portable compression beside the CPU's SHA extensions, and
 * sha256_file_hex on files (page cache warm) beside a plain read of the same files. Not a test.
 *
 * Usage: bench_sha256 [--mb N] [--repeat R] [FILE...]
 * Hashes N MiB (default 256) of deterministic bytes R times (default 5) with each compression and prints the best
 * MB/s of each and their ratio; then for each FILE the best time of sha256_file_hex and of reading it. Exit status
 * 1 when the two compressions disagree. */
#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "harness/error.h"
#include "harness/sha256.h"
#include "harness/xalloc.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Seconds to read a file in 64 KiB pieces (the piece size of sha256_file_hex); -1 when it cannot be read. */
static double read_file(const char *path, unsigned long long *bytes)
{
    static char buf[65536];
    double t0 = now();
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return -1;
    ssize_t n;
    *bytes = 0;
    while ((n = read(fd, buf, sizeof buf)) > 0)
        *bytes += (unsigned long long)n;
    close(fd);
    return n < 0 ? -1 : now() - t0;
}

int main(int argc, char **argv)
{
    size_t mb = 256;
    int repeat = 5, a = 1;
    for (; a < argc && argv[a][0] == '-'; a++) {
        if (strcmp(argv[a], "--mb") == 0 && a + 1 < argc)
            mb = (size_t)strtoul(argv[++a], NULL, 10);
        else if (strcmp(argv[a], "--repeat") == 0 && a + 1 < argc)
            repeat = atoi(argv[++a]);
        else {
            printf("usage: bench_sha256 [--mb N] [--repeat R] [FILE...]\n"
                   "SHA-256 MB/s: portable compression vs the CPU's SHA extensions; files vs a plain read.\n");
            return strcmp(argv[a], "--help") == 0 ? 0 : 2;
        }
    }
    if (mb < 1 || mb > 4096 || repeat < 1) {
        fprintf(stderr, "bench_sha256: --mb must be 1..4096 and --repeat at least 1\n");
        return 2;
    }
    size_t n_blocks = mb * ((size_t)1 << 20) / 64;
    uint8_t *data = xmalloc(n_blocks * 64);
    uint64_t x = 0x2545F4914F6CDD1Dull;
    for (size_t i = 0; i < n_blocks * 64; i++) { /* xorshift64 */
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        data[i] = (uint8_t)x;
    }
    double best_port = 1e30, best_accel = 1e30;
    int have_accel = 1, same = 1;
    for (int r = 0; r < repeat; r++) {
        uint32_t hp[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab,
                          0x5be0cd19};
        uint32_t ha[8];
        memcpy(ha, hp, sizeof ha);
        double t0 = now();
        sha256_compress_portable(hp, data, n_blocks);
        double t1 = now();
        have_accel = sha256_compress_accelerated(ha, data, n_blocks);
        double t2 = now();
        best_port = t1 - t0 < best_port ? t1 - t0 : best_port;
        best_accel = t2 - t1 < best_accel ? t2 - t1 : best_accel;
        same &= !have_accel || memcmp(hp, ha, sizeof hp) == 0;
    }
    double bytes = (double)n_blocks * 64;
    printf("%zu MiB in memory, best of %d runs\n", mb, repeat);
    printf("portable compression:     %8.1f MB/s\n", bytes / best_port / 1e6);
    if (have_accel)
        printf("SHA extensions:           %8.1f MB/s  (%.2fx the portable code; hash values %s)\n",
               bytes / best_accel / 1e6, best_port / best_accel, same ? "equal" : "DIFFERENT");
    else
        printf("SHA extensions:           not on this CPU or in this build\n");
    for (; a < argc; a++) {
        double best_hash = 1e30, best_read = 1e30;
        unsigned long long n = 0;
        char hex[65];
        struct ge_error err;
        ge_error_clear(&err);
        for (int r = 0; r <= repeat; r++) { /* run 0 warms the page cache */
            double tr = read_file(argv[a], &n);
            double t0 = now();
            if (tr < 0 || sha256_file_hex(argv[a], hex, &err) != GE_OK) {
                fprintf(stderr, "bench_sha256: %s: %s\n", argv[a], tr < 0 ? "cannot be read" : err.msg);
                return 1;
            }
            double th = now() - t0;
            if (r > 0) {
                best_read = tr < best_read ? tr : best_read;
                best_hash = th < best_hash ? th : best_hash;
            }
        }
        printf("%s: %.1f MB: sha256_file_hex %.1f MB/s, plain read %.1f MB/s (hashing takes %.2fx the read)\n",
               argv[a], (double)n / 1e6, (double)n / best_hash / 1e6, (double)n / best_read / 1e6,
               best_hash / best_read);
    }
    free(data);
    return same ? 0 : 1;
}
