/* index.h — the contamination index: every n-gram of the evaluation examples, with the examples it belongs to,
 * in a file (`glam-eval contamination index`) and in memory as an open-addressing hash set (for the scan).
 *
 * What an example is: one evaluated document of a task's evaluation split, turned into text by
 * cn_example_text (docs/contamination.md, "What text counts") and split into words by normalize.h. An example of
 * n >= N words contributes its n - N + 1 n-grams of N words; an example of 1 <= n < N words contributes itself
 * whole (it is dirty only if it appears whole); an example with no words cannot be checked and is counted apart.
 * N is the --ngram value, or with --gpt3 GPT-3's per-task rule: the 5th-percentile example length in words
 * (nearest rank) clamped to 8..13.
 *
 * File format (all integers little-endian; a string is a u32 byte length and the bytes, no NUL):
 *   offset  size  field
 *   0       8     magic "GECNIDX\0"
 *   8       4     format version, u32 = 1
 *   12      4     reserved, 0
 *   16      8     payload length in bytes, u64 (= file size - 64)
 *   24      32    SHA-256 of the payload
 *   56      8     reserved, 0
 *   64      ...   payload:
 *     u32 mode (0 = fixed N, 1 = gpt3), u32 N (fixed N; 13 for gpt3), string normalisation rule name,
 *         u64 hash probe (the key of the 3-gram "glam eval contamination": a program whose hash differs refuses
 *         the file)
 *     u32 n_tasks, then per task: string name, string split, string dataset SHA-256 (hex), u32 N of the task,
 *         u32 examples, u32 short examples (checked whole), u32 examples without words
 *     u32 n_examples, then per example: u32 task, u32 words, string doc id, string content hash (64 hex)
 *     u64 text bytes, then the text (each entry's words joined by single spaces)
 *     u32 n_entries, then per entry: u64 key, u64 text offset, u32 text length, u32 L (words),
 *         u64 first posting, u32 postings
 *     u64 n_postings, then u32 example numbers
 * Loading checks the magic, version, length and checksum, every offset and count, and the hash probe, so a damaged
 * file or one written by a program with another hash is refused.
 *
 * Memory of a loaded index: the file's payload plus 12 bytes per table slot (slots = the power of two >= 2 x
 * entries), filters of 2 to 4 bytes per entry (the main length's, the other lengths', and the sample filter of
 * the main length's sub-n-grams) and a gate of at most 128 KiB; nothing in the scan grows with the corpus. The
 * filters (blocked Bloom filters, two bits per key in one 64-bit word) answer most lookups; only keys whose bits
 * are set go to the table. */
#ifndef GE_CN_INDEX_H
#define GE_CN_INDEX_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "contamination/normalize.h"
#include "harness/error.h"

#define CN_INDEX_VERSION 1
#define CN_INDEX_MAX_BYTES ((size_t)8 << 30) /* a larger index file is refused */
#define CN_SAMPLE_MIN 8                      /* shortest main length that is sampled */
#define CN_SAMPLE_MAX_STEP 8                 /* sampled probing: at least one word in 8 (cn_sample_step) */
#define CN_GATE_ANY_MAX_BITS 19              /* the gate's bit set has at most 2^19 bits */
#define CN_GATE_BITS 14                      /* the gate's length masks: at most 2^14 buckets */
#define CN_GATE_MAX_ENTRIES ((size_t)1 << 13) /* lengths with at most this many entries are gated */

struct cn_task_info {
    char *name;              /* owned, e.g. "arc_easy" */
    char *split;             /* owned, e.g. "test" */
    char *dataset_sha256;    /* owned, 64 hex */
    uint32_t n;              /* n-gram length used for this task */
    uint32_t n_examples;
    uint32_t n_short;        /* examples with 1..n-1 words (checked whole) */
    uint32_t n_empty;        /* examples with no words (cannot be checked; never dirty) */
};

struct cn_example {
    uint32_t task;           /* index into tasks */
    uint32_t n_words;
    char *doc_id;            /* owned */
    char content_hash[65];   /* as documents.content_hash of a run */
};

/* One distinct n-gram. Invariant: key == cn_key(hash of its words, len); text[text_off .. +text_len) is its words
 * joined by single spaces; postings[post_off .. +n_post) are distinct example numbers in increasing order. */
struct cn_entry {
    uint64_t key;
    uint64_t text_off;
    uint32_t text_len;
    uint32_t len;            /* words, 1..CN_MAX_N */
    uint64_t post_off;
    uint32_t n_post;
};

/* Identifies one version of a file: where it is, its size and modification time (cn_index_check_file). */
struct cn_file_stamp {
    uint64_t dev, ino, size;
    int64_t mtime_s, mtime_ns;
};

/* An index. Invariants: every array is owned (the text may be inside the owned mapping of the file); table has
 * table_mask + 1 slots (a power of two), slot keys 0 are empty, table_val[s] is the entry of the key in slot s;
 * len_mask bit L is set when some entry has L words; gate_len_mask marks lengths whose lookups are gated (lengths
 * 2..CN_MAX_N with at most CN_GATE_MAX_ENTRIES entries): a window of such a length L is looked up only when the
 * pair (a, b) of the hashes of its last two words passes gate_any (cn_gate_has) and bit L - 1 of
 * gate[cn_gate_index(a, b, gate_bits)] is set (a pair of words ending a
 * short example is much rarer in text than its last word alone). */
struct cn_index {
    int gpt3;                       /* 1 when built with GPT-3's per-task N */
    uint32_t n;                     /* --ngram (13 for gpt3) */
    char sha256[65];                /* of the payload: identifies the index in part files */
    char *path;                     /* owned: where it was loaded from, or NULL */
    struct cn_task_info *tasks;     /* (n_tasks) */
    size_t n_tasks;
    struct cn_example *examples;    /* (n_examples) */
    size_t n_examples;
    char *text;                     /* (text_len) owned, or inside map (then read-only) */
    uint64_t text_len;
    char *map;                      /* the index file mapped read-only when text is inside it (a loaded regular
                                       file), else NULL; owned (munmap) */
    size_t map_len;
    struct cn_file_stamp map_stamp; /* the mapped file when it was mapped */
    struct cn_entry *entries;       /* (n_entries) */
    size_t n_entries;
    uint32_t *postings;             /* (n_postings) */
    uint64_t n_postings;
    uint64_t *table_key;            /* (table_mask + 1) */
    uint32_t *table_val;
    uint64_t table_mask;
    unsigned table_shift;           /* 64 - log2(slots): slot = key >> table_shift */
    uint64_t len_mask;              /* bit L: entries of L words exist */
    uint64_t gate_len_mask;         /* bit L: lookups of length L are gated */
    uint64_t *gate_any;             /* (2^(64 - gate_any_shift) words) one bit per hash of the last-2-gram of every
                                       gated entry (cn_gate_has): the part the scanner reads for every word, at
                                       most 64 KiB so it stays in cache; about 64 bits per gated entry */
    unsigned gate_any_shift;
    uint32_t *gate;                 /* (2^gate_bits) per bucket of last-2-gram hashes, bit L - 1: some gated
                                       entry of L words ends with a 2-gram of that bucket; read only when gate_any
                                       passes, at most 64 KiB */
    unsigned gate_bits;             /* log2 buckets of gate: 10..CN_GATE_BITS */
    uint64_t *filter;               /* (2^(64 - filter_shift) words): for every entry of main_len, the two bits
                                       of its probe (cn_filter_probe of its n-gram hash, cn_key_unmix of its key)
                                       are set */
    unsigned filter_shift;          /* 64 - log2(words); bits = the power of two >= 16 x entries (at least 2^16) */
    uint64_t *filter_other;         /* the same for the entries of every other length (few: it stays in cache) */
    unsigned other_shift;
    /* Sampled probing of the main length (the ungated length with the most entries, main_len >= CN_SAMPLE_MIN):
     * every sample_step-th word the scanner probes sample_filter with the window of sample_len = main_len -
     * sample_step + 1 words ending there; only when it passes are the main_len windows ending at that word and
     * the sample_step - 1 words after it probed. Exact: a main_len window holds sample_len-grams ending at
     * sample_step consecutive words, one of which is sampled, and sample_filter has every sample_len-gram of
     * every main_len entry. */
    unsigned main_len;              /* 0 = no ungated length */
    unsigned sample_step;           /* cn_sample_step(main_len): 4 or 8, 0 = no sampling */
    unsigned sample_len;            /* main_len - sample_step + 1; 0 = no sampling (main_len < CN_SAMPLE_MIN):
                                       every main_len window is probed */
    uint64_t *sample_filter;        /* as filter, of the sample_len-grams, with three bits per key (cn_sample_has;
                                       NULL without sampling) */
    unsigned sample_shift;
};

/* The sampling step of a main length L (index.h, "Sampled probing"): the longest that leaves samples of at least
 * 5 words (shorter ones pass too often): 8 from 12 words on (13, the default n-gram, is sampled with 6 words), 4
 * from CN_SAMPLE_MIN, else 0 (not sampled). */
static inline unsigned cn_sample_step(unsigned L)
{
    return L >= 12 ? CN_SAMPLE_MAX_STEP : L >= CN_SAMPLE_MIN ? 4 : 0;
}

/* The filter probe of a window of L words with n-gram hash h (no multiply, so most windows are answered
 * without making their key): word p >> shift of the filter (high bits), two bits in it given by the low 12 bits
 * (a blocked Bloom filter, k = 2: with
 * 16 bits per entry about 1.5% of absent windows pass, against 6% with one bit). */
static inline uint64_t cn_filter_salt(unsigned L)
{
    return (uint64_t)L * 0xA24BAED4963EE407ull;
}
static inline uint64_t cn_filter_probe(uint64_t h, unsigned L)
{
    return h ^ cn_filter_salt(L); /* h, a sum of products, is mixed in its high and low bits */
}
static inline uint64_t cn_filter_bits(uint64_t p)
{
    return ((uint64_t)1 << (p & 63)) | ((uint64_t)1 << ((p >> 6) & 63));
}
static inline int cn_filter_has(const uint64_t *filter, uint64_t p, unsigned shift)
{
    uint64_t m = cn_filter_bits(p);
    return (filter[p >> shift] & m) == m;
}

/* The sample filter sets three bits per key (bits 12..17 of the probe give the third): it has about 26 bits per
 * key, where three bits let through a third as many absent windows as two (each pass costs sample_step probes of
 * the main filter). */
static inline uint64_t cn_sample_bits(uint64_t p)
{
    return cn_filter_bits(p) | ((uint64_t)1 << ((p >> 12) & 63));
}
static inline int cn_sample_has(const uint64_t *filter, uint64_t p, unsigned shift)
{
    uint64_t m = cn_sample_bits(p);
    return (filter[p >> shift] & m) == m;
}

/* Options of cn_index_build. */
struct cn_build_opts {
    const char *tasks;     /* selection as for `run --tasks` */
    const char *data_dir;  /* dataset directory */
    unsigned n;            /* fixed N (1..CN_MAX_N), ignored when gpt3 */
    int gpt3;
    int skip_missing;      /* skip tasks whose data is absent (with a note on warn) instead of failing */
    size_t limit;          /* 0 = every example, else the first `limit` of each split (tests) */
};

/* Builds an index from the evaluation splits (tasks/dataset.h). warn (may be NULL) receives notes. On success
 * *out is a new index (cn_index_free). */
int cn_index_build(const struct cn_build_opts *o, FILE *warn, struct cn_index **out, struct ge_error *err);
/* Builds an index of n texts as the examples of one pseudo-task "texts" (tests and the benchmark); example i has
 * doc id "<i>". */
int cn_index_build_texts(const char *const *texts, size_t n, unsigned ngram, struct cn_index **out,
                         struct ge_error *err);
/* Writes ix to path by harness/outfile.h's rule (a regular file via path.tmp and a rename, so it is whole or as it
 * was; a symbolic link's target likewise; a FIFO or device in place) and sets ix->sha256. */
int cn_index_write(struct cn_index *ix, const char *path, struct ge_error *err);
/* Loads and checks an index file; with_table = 0 skips the hash table (merge and report need only the examples). */
int cn_index_load(const char *path, int with_table, struct cn_index **out, struct ge_error *err);
/* The text of a loaded index is read in place in its mapped file, which another program could write to (a
 * rename leaves the mapping as it was, but `cp` over the file changes it). Returns GE_ERR_IO, naming the file,
 * when the file at ix->path is the mapped one and its size or modification time has changed since the load;
 * GE_OK otherwise (the scan calls it when done). */
int cn_index_check_file(const struct cn_index *ix, struct ge_error *err);
void cn_index_free(struct cn_index *ix);
/* Rebuilds the lookup structures with lengths of at most gate_max_entries entries gated (CN_GATE_MAX_ENTRIES when
 * loaded; 0 = none gated). Results never depend on it: tests use it to run the ungated and sampled paths on small
 * indexes. */
void cn_index_regate(struct cn_index *ix, size_t gate_max_entries);

/* The text of one document as the audit sees it (docs/contamination.md): the query without prompt labels, then
 * the gold option or first gold answer. Returns a new string (caller frees). */
struct task_doc;
struct task;
char *cn_example_text(const struct task *t, const struct task_doc *d);
/* The gate of a window whose last two words have hashes a and b (word hashes are well mixed already: no multiply):
 * its bucket in a gate of 2^bits buckets (high bits), and whether its bit in gate_any is set (its word from the
 * high bits, the bit from the low 6). */
static inline uint64_t cn_gate_pair(uint64_t a, uint64_t b)
{
    return a ^ ((b << 23) | (b >> 41));
}
static inline uint32_t cn_gate_index(uint64_t a, uint64_t b, unsigned bits)
{
    return (uint32_t)(cn_gate_pair(a, b) >> (64 - bits));
}
static inline int cn_gate_has(const uint64_t *gate_any, unsigned shift, uint64_t a, uint64_t b)
{
    uint64_t g = cn_gate_pair(a, b);
    return (int)(gate_any[g >> shift] >> (g & 63)) & 1;
}

/* Looks up key in the table: the first slot index holding it, or -1. Callers walk on with cn_index_next. */
static inline int64_t cn_index_find(const struct cn_index *ix, uint64_t key)
{
    uint64_t s = key >> ix->table_shift;
    for (;;) {
        uint64_t k = ix->table_key[s];
        if (k == key)
            return (int64_t)s;
        if (k == 0)
            return -1;
        s = (s + 1) & ix->table_mask;
    }
}
/* The next slot after slot s holding key, or -1. */
int64_t cn_index_next(const struct cn_index *ix, int64_t s, uint64_t key);

#endif
