/* bench_contamination.c — throughput of `contamination scan` beside a plain read of the same files, measured in
 * the same run, and the scaling from 1 to 2 shards (two threads, each scanning every other file).
 *
 *   bench/bench_contamination --index FILE [--repeat R] CORPUS_FILE...
 *
 * Every number is printed with the ratio it is meant for: scan bytes/s per core (wall and CPU time of the scanning
 * thread), the plain read of the same files (already in the page cache: one warm-up read first), the same scan
 * with the reference byte loop only (cn_scan_opts.byte_loop), which must give the same result (checked: exit status 1
 * otherwise), the tokenizer alone (the same scan with every lookup switched off: the ceiling of this design, what
 * any index costs on top of it is the rest), and the speedup of two shards over one. Run it by hand on an idle
 * machine; CPU time is the fairer per-core figure when others share the cores. */
#include "config.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "contamination/index.h"
#include "contamination/scan.h"

static double now(clockid_t c)
{
    struct timespec ts;
    clock_gettime(c, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double read_all(char **paths, size_t n, unsigned long long *bytes)
{
    static char buf[1 << 20];
    double t0 = now(CLOCK_MONOTONIC);
    *bytes = 0;
    for (size_t i = 0; i < n; i++) {
        int fd = open(paths[i], O_RDONLY);
        if (fd < 0)
            continue;
        ssize_t r;
        while ((r = read(fd, buf, sizeof buf)) > 0)
            *bytes += (unsigned long long)r;
        close(fd);
    }
    return now(CLOCK_MONOTONIC) - t0;
}

struct job {
    const struct cn_index *ix;
    const struct cn_corpus *corpus;
    unsigned shard, shards;
    int byte_loop;
    double wall, cpu;
    unsigned long long bytes;
    uint64_t words, docs, dirty, digest; /* the result: its counts and a digest of every witness */
    int rc;
};

static void *run_job(void *arg)
{
    struct job *j = arg;
    struct cn_scan_opts o = {.format = CN_FORMAT_AUTO, .text_field = "text", .max_doc_bytes = CN_DEFAULT_MAX_DOC,
                             .shard_index = j->shard, .shard_count = j->shards, .byte_loop = j->byte_loop};
    struct cn_scan_result res;
    struct ge_error err;
    ge_error_clear(&err);
    double w0 = now(CLOCK_MONOTONIC), c0 = now(CLOCK_THREAD_CPUTIME_ID);
    j->rc = cn_scan(j->ix, j->corpus, &o, &res, &err);
    j->cpu = now(CLOCK_THREAD_CPUTIME_ID) - c0;
    j->wall = now(CLOCK_MONOTONIC) - w0;
    j->bytes = res.bytes;
    j->words = res.words;
    j->docs = res.docs;
    j->dirty = 0;
    j->digest = 0;
    for (size_t i = 0; i < res.n_examples; i++) {
        const struct cn_witness *w = &res.witness[i];
        if (w->file == CN_NO_FILE)
            continue;
        j->dirty++;
        j->digest = (j->digest ^ i ^ ((uint64_t)w->file << 40) ^ (w->doc << 20) ^ w->offset ^ ((uint64_t)w->entry << 32)) *
                    0x100000001B3ull;
    }
    if (j->rc)
        fprintf(stderr, "bench_contamination: %s\n", err.msg);
    cn_scan_result_release(&res);
    return NULL;
}

int main(int argc, char **argv)
{
    const char *index_path = NULL;
    int repeat = 3, a = 1;
    for (; a < argc && argv[a][0] == '-'; a++) {
        if (strcmp(argv[a], "--index") == 0 && a + 1 < argc)
            index_path = argv[++a];
        else if (strcmp(argv[a], "--repeat") == 0 && a + 1 < argc)
            repeat = atoi(argv[++a]);
        else {
            printf("usage: bench_contamination --index FILE [--repeat R] CORPUS_FILE...\n"
                   "Scan throughput per core beside a plain read of the same files, and 1 vs 2 shards.\n");
            return strcmp(argv[a], "--help") == 0 ? 0 : 2;
        }
    }
    if (!index_path || a == argc) {
        fprintf(stderr, "bench_contamination: needs --index FILE and corpus files (see --help)\n");
        return 2;
    }
    struct ge_error err;
    ge_error_clear(&err);
    struct cn_index *ix = NULL;
    double t0 = now(CLOCK_MONOTONIC);
    if (cn_index_load(index_path, 1, &ix, &err)) {
        fprintf(stderr, "bench_contamination: %s\n", err.msg);
        return 1;
    }
    printf("index: %zu examples, %zu n-grams, loaded in %.2f s\n", ix->n_examples, ix->n_entries,
           now(CLOCK_MONOTONIC) - t0);
    struct cn_corpus corpus;
    if (cn_corpus_expand(&argv[a], (size_t)(argc - a), &corpus, &err)) {
        fprintf(stderr, "bench_contamination: %s\n", err.msg);
        return 1;
    }
    /* The same index with no length to look up: the scan splits, hashes and rings every word and probes nothing. */
    struct cn_index no_lookups = *ix;
    no_lookups.len_mask = no_lookups.gate_len_mask = 0;
    no_lookups.main_len = no_lookups.sample_len = 0;
    unsigned long long bytes = 0;
    read_all(corpus.paths, corpus.n, &bytes); /* warm the page cache */
    double best_read = 1e30, best_wall = 1e30, best_cpu = 1e30, best_two = 1e30, best_loop = 1e30, best_tok = 1e30;
    int same = 0;
    uint64_t words = 0, dirty = 0;
    for (int r = 0; r < repeat; r++) {
        double t = read_all(corpus.paths, corpus.n, &bytes);
        best_read = t < best_read ? t : best_read;
        struct job one = {.ix = ix, .corpus = &corpus, .shard = 0, .shards = 1};
        run_job(&one);
        best_wall = one.wall < best_wall ? one.wall : best_wall;
        best_cpu = one.cpu < best_cpu ? one.cpu : best_cpu;
        struct job loop = {.ix = ix, .corpus = &corpus, .shard = 0, .shards = 1, .byte_loop = 1};
        run_job(&loop);
        best_loop = loop.cpu < best_loop ? loop.cpu : best_loop;
        struct job tok = {.ix = &no_lookups, .corpus = &corpus, .shard = 0, .shards = 1};
        run_job(&tok);
        best_tok = tok.cpu < best_tok ? tok.cpu : best_tok;
        if (r == 0) {
            same = one.rc == 0 && loop.rc == 0 && one.words == loop.words && one.docs == loop.docs &&
                   one.dirty == loop.dirty && one.digest == loop.digest;
            words = one.words;
            dirty = one.dirty;
        }
        if (corpus.n >= 2) {
            struct job two[2] = {{.ix = ix, .corpus = &corpus, .shard = 0, .shards = 2},
                                 {.ix = ix, .corpus = &corpus, .shard = 1, .shards = 2}};
            pthread_t th[2];
            double w0 = now(CLOCK_MONOTONIC);
            for (int k = 0; k < 2; k++)
                pthread_create(&th[k], NULL, run_job, &two[k]);
            for (int k = 0; k < 2; k++)
                pthread_join(th[k], NULL);
            double w = now(CLOCK_MONOTONIC) - w0;
            best_two = w < best_two ? w : best_two;
        }
    }
    double mb = (double)bytes / 1e6;
    printf("corpus: %zu files, %.1f MB (best of %d runs)\n", corpus.n, mb, repeat);
    printf("plain read (page cache): %8.1f MB/s\n", mb / best_read);
    printf("scan, 1 shard, wall:     %8.1f MB/s  (%.2fx the read time)\n", mb / best_wall, best_wall / best_read);
    printf("scan, 1 shard, CPU:      %8.1f MB/s per core\n", mb / best_cpu);
    printf("byte loop only, CPU:     %8.1f MB/s per core  (word-at-a-time path %.2fx faster)\n", mb / best_loop,
           best_loop / best_cpu);
    printf("tokenizer alone, CPU:    %8.1f MB/s per core  (%.2fx the read time; lookups are %.0f%% of the scan)\n",
           mb / best_tok, best_tok / best_read, 100.0 * (best_cpu - best_tok) / best_cpu);
    if (corpus.n >= 2)
        printf("scan, 2 shards, wall:    %8.1f MB/s  (speedup %.2fx over 1 shard)\n", mb / best_two,
               best_wall / best_two);
    printf("result: %llu words, %llu dirty examples; the byte loop's result is %s\n", (unsigned long long)words,
           (unsigned long long)dirty, same ? "the same (words, documents, every witness)" : "DIFFERENT");
    cn_corpus_release(&corpus);
    cn_index_free(ix);
    return same ? 0 : 1;
}
