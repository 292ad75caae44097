/* scan.h — streaming a training corpus once against a contamination index, exactly.
 *
 * Corpus: files named on the command line, directories (every regular file below, recursively, in byte order of
 * their paths) and file lists (@LIST: one path per line, blank lines ignored), expanded by cn_corpus_expand into
 * one ordered list; --shard I/N scans the files whose position k in that list has k mod N == I. A file is gzip or
 * zstd when its first bytes are the format's magic number (any number of members/frames), else plain. Its
 * (decompressed) content is JSONL when the name, without .gz/.zst, ends in .jsonl or .json (or --format jsonl),
 * else plain text (or --format text).
 *   plain text  documents are the whole file (--text-docs file, the default) or paragraphs separated by blank
 *               lines (--text-docs blank: a line holding only whitespace ends a document that has any text);
 *               read in 1 MiB pieces with no line limit.
 *   JSONL       one document per line (document number = 0-based line number); the text is the string value of
 *               the top-level field --text-field (default "text"), read with its JSON escapes; a line is held in
 *               memory up to --max-doc-bytes (default 64 MiB).
 * n-grams never span documents, and do span line breaks inside one.
 *
 * Exactness: every n-gram window of every document is looked up by its hash, and every hash hit is compared word
 * by word with the n-gram before it counts. An example's witness is its first verified hit in corpus order
 * (file position in the list, then byte offset), so shards combine to the unsharded result (merge.h).
 * Offsets are byte offsets in the decompressed file of the first byte of the n-gram's first word (inside a JSON
 * string: of its first character or escape).
 *
 * Bad input (reported on the warning stream naming the file and byte offset, and in the part file): a file that
 * cannot be opened or read, or whose compressed data is corrupt or truncated (the rest of that file is lost, the
 * scan goes on with the next file); invalid UTF-8 (the bytes are ignored, rule 1 of normalize.h); a JSONL line
 * that is longer than the limit, not a JSON object, or lacks the text field (the document is skipped); an empty
 * file. --strict turns the first of these into an error that stops the scan. An empty corpus (no files) is an
 * error. Memory: the index, the per-example witnesses and a fixed 1 MiB buffer (+ one JSONL line). */
#ifndef GE_CN_SCAN_H
#define GE_CN_SCAN_H

#include <stdint.h>
#include <stdio.h>

#include "contamination/index.h"
#include "harness/error.h"

#define CN_MAX_FILES ((size_t)1 << 24)            /* files in one corpus list */
#define CN_DEFAULT_MAX_DOC ((size_t)64 << 20)     /* default --max-doc-bytes */
#define CN_NO_FILE UINT32_MAX

enum cn_format {
    CN_FORMAT_AUTO,
    CN_FORMAT_TEXT,
    CN_FORMAT_JSONL,
};

struct cn_scan_opts {
    enum cn_format format;
    const char *text_field;  /* JSONL field holding the text, e.g. "text" */
    int text_docs_blank;     /* plain text: documents separated by blank lines (else: one per file) */
    size_t max_doc_bytes;    /* JSONL: longest line held */
    int strict;              /* the first bad input stops the scan */
    unsigned shard_index;    /* this shard, < shard_count */
    unsigned shard_count;    /* >= 1 */
    FILE *warn;              /* warnings and progress (may be NULL) */
    size_t max_warnings;     /* printed before only counting; 0 = 20 */
    int byte_loop;           /* 1: tokenize with the reference byte loop only, never the word-at-a-time path (the
                                same words, slower: for tests and bench_contamination) */
    FILE *progress;          /* progress of this shard in MiB read from its files (compressed bytes for gzip and
                                zstd), harness/progress.h; NULL = none */
    int progress_tty;        /* 1 redraw in place, 0 plain lines, -1 ask isatty */
};

/* The expanded corpus list (owned strings). */
struct cn_corpus {
    char **paths;   /* (n) */
    size_t n;
    char list_sha256[65]; /* SHA-256 over the paths, each followed by '\n' */
    size_t n_skipped;     /* entries below a directory left out: not regular files (dangling links, sockets, ...) or
                             a link back to a directory being walked (a loop) */
    char first_skipped[600]; /* the first of them and why ("" when none) */
};

/* Expands the corpus arguments (files, directories walked recursively with each directory's entries in byte order,
 * @LIST files of one path per line; blank and whitespace-only lines ignored) into the list every shard shares. A
 * path named by an argument or a list must exist; below a directory, anything but a regular file or a directory
 * is skipped and counted (n_skipped). */
int cn_corpus_expand(char *const *args, size_t n_args, struct cn_corpus *out, struct ge_error *err);
void cn_corpus_release(struct cn_corpus *c);
/* Fills bytes[0..c->n) with each file's decompressed size when that is known without reading the files, and
 * returns 1: every file is a regular file that opens and does not start with a gzip or zstd magic number
 * (source.h), so a scan that reads it to its end reads st_size bytes. Returns 0 otherwise (a compressed file, a
 * pipe or device, a file that cannot be opened): then only a scan tells the sizes. Reads at most 4 bytes a file. */
int cn_corpus_plain_sizes(const struct cn_corpus *c, uint64_t *bytes);

/* The first verified hit of one example. file == CN_NO_FILE when none. */
struct cn_witness {
    uint32_t file;        /* position in the corpus list */
    uint64_t doc;         /* document number in that file, 0-based */
    uint64_t offset;      /* byte offset of the n-gram in the decompressed file */
    uint32_t entry;       /* the index entry matched (its words are the n-gram) */
};

/* What happened to one scanned file. */
struct cn_file_result {
    uint32_t file;        /* position in the corpus list */
    uint64_t bytes;       /* decompressed bytes read */
    uint64_t docs;        /* documents scanned */
    uint64_t words;
    uint64_t n_warnings;  /* bad documents, invalid UTF-8 runs, ... */
    char *first_warning;  /* owned, or NULL */
    char *error;          /* owned: why the file was not read to its end, or NULL */
};

/* A shard's results. witness has one slot per index example. */
struct cn_scan_result {
    struct cn_witness *witness;      /* (n_examples) owned */
    size_t n_examples;
    struct cn_file_result *files;    /* (n_files) owned, in list order */
    size_t n_files;
    uint64_t bytes, docs, words;
    uint64_t lookups;     /* windows looked up */
    uint64_t filtered;    /* of those, passed the filter and went to the table */
    uint64_t hits;        /* table keys equal to a window's key */
    uint64_t verified;    /* hits whose words equal the n-gram's (first hit per entry only) */
};

/* Scans this shard's files of corpus against ix. On success *res is filled (cn_scan_result_release). */
int cn_scan(const struct cn_index *ix, const struct cn_corpus *corpus, const struct cn_scan_opts *o,
            struct cn_scan_result *res, struct ge_error *err);
void cn_scan_result_release(struct cn_scan_result *res);

/* Scans one in-memory text as one document (tests and the benchmark): res must have been produced by
 * cn_scan_result_init for ix; hits are recorded as file `file`. json = 1: text is the inside of a JSON string. */
void cn_scan_result_init(struct cn_scan_result *res, const struct cn_index *ix);
/* A word as the scanner sees it: its normalised bytes (the first CN_WORD_MAX when longer), its length, its hash
 * (0 when longer than CN_WORD_MAX), the offset of its first kept character and its document number. */
typedef void (*cn_word_fn)(void *arg, const char *word, size_t len, uint64_t hash, uint64_t offset, uint64_t doc);
/* Tokenizes text as cn_scan does (plain text, or json = 1 the inside of a JSON string; blank_docs as
 * --text-docs blank), handed over in reads of `piece` bytes (0 = one read), calling fn for every word; byte_loop
 * as in cn_scan_opts. For tests: the two tokenizer paths and any read boundaries must give the same words. */
void cn_scan_words(const struct cn_index *ix, const char *text, size_t len, int json, int blank_docs, int byte_loop,
                   size_t piece, cn_word_fn fn, void *arg);
int cn_scan_buffer(const struct cn_index *ix, const char *text, size_t len, int json, uint32_t file,
                   struct cn_scan_result *res, struct ge_error *err);

/* Writes a part file (format in docs/contamination.md) for this shard by harness/outfile.h's rule (a regular file via
 * path.tmp and a rename). */
int cn_part_write(const char *path, const struct cn_index *ix, const struct cn_corpus *corpus,
                  const struct cn_scan_opts *o, const struct cn_scan_result *res, struct ge_error *err);

#endif
