/* audit.h — contamination results in the database: combining scan part files into contamination_indexes and
 * contamination_flags (and documents.dirty/witness of stored runs), GLaM's Appendix D table, and the clean-subset
 * scores of a run (GPT-3 Appendix C / Figure 4.2).
 *
 * Merging is exact: an example's witness is the earliest of its witnesses over all parts in corpus order
 * (position in the corpus list, then byte offset), which is the witness one unsharded scan finds (scan.h). */
#ifndef GE_CN_AUDIT_H
#define GE_CN_AUDIT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "harness/error.h"
#include "results/store.h"

struct cn_corpus; /* scan.h */

struct cn_merge_opts {
    const char *const *parts; /* (n_parts) part files of one scan, every shard exactly once */
    size_t n_parts;
    const char *index_path;   /* the index the parts were made with; NULL = the path recorded in the parts */
    const char *db_path;
    const char *name;         /* audit name (contamination_indexes.name); NULL = "<index file>@<corpus hash:12>" */
    const char *corpus;       /* description for contamination_indexes.corpus; NULL = the corpus paths */
    FILE *warn;               /* notes about files with errors (may be NULL) */
};

/* What a merge stored. */
struct cn_merge_summary {
    int64_t index_id;         /* contamination_indexes.id */
    char name[512];
    size_t n_examples, n_dirty, n_files, n_files_with_errors, n_documents_marked;
};

/* Checks the parts against each other and the index, then stores the audit in one transaction. Refuses (naming
 * the part file and field) parts of different scans or indexes, a shard missing or given twice, a truncated part,
 * and a name already used; the database is then unchanged. */
int cn_merge(const struct cn_merge_opts *o, struct cn_merge_summary *sum, struct ge_error *err);

/* What cn_merge into db_path would refuse that is known before a scan: the database cannot be opened for writing
 * (created or migrated), or the audit name is already stored: name when given, else (index_path and corpus given)
 * the default name of index_path over corpus whenever it is known before the scan, i.e. when every corpus file is
 * a plain regular file (cn_corpus_plain_sizes; a compressed file's size shows only when it is decompressed).
 * `scan --db` calls it after expanding the corpus and before loading the index, so a long scan is not thrown away
 * at the end. Reads at most 4 bytes of each corpus file, and only when an audit named "<index file>@..." exists. */
int cn_merge_precheck(const char *db_path, const char *name, const char *index_path, const struct cn_corpus *corpus,
                      struct ge_error *err);

/* The default audit name: the base name of index_path, '@', the first 12 hex digits of corpus_hash. */
void cn_audit_default_name(const char *index_path, const char *corpus_hash, char *name, size_t cap);
/* The corpus identity contamination_indexes.corpus_hash records: SHA-256 over the lines "path TAB bytes LF" of the
 * n files in list order, bytes being each file's decompressed size. */
void cn_corpus_hash(char *const *paths, const uint64_t *bytes, size_t n, char hex[65]);

/* One row of GLaM's Appendix D table. */
struct cn_table_row {
    char task[64];
    char display[64];         /* GLaM's dataset name (the task's display name) */
    char split[64];
    int64_t dirty, total;
    double pct_clean;         /* 100 * (total - dirty) / total */
};

/* The latest audit's id (index_id <= 0 on input) or checks the given one; fills *name (cap bytes). */
int cn_audit_resolve(struct store *st, int64_t *index_id, char *name, size_t cap, struct ge_error *err);

/* Per task and split of audit index_id, in registry order. *rows is a new array (free). */
int cn_audit_table(struct store *st, int64_t index_id, struct cn_table_row **rows, size_t *n_rows,
                   struct ge_error *err);

/* Scores of one task run split by contamination (contamination/clean.c). Means of the task's primary metric over
 * the per-example scores (the `scores` table); a set-level primary metric (task.h aggregate: MultiRC's F1a) is
 * recomputed on each subset from the per-document aggregate inputs, and counts those documents (answer options).
 * A document is matched to the audit by (task, split, doc_id, content_hash). */
struct cn_clean_row {
    int64_t task_run_id;
    char task[64];
    int n_shots;
    char split[64];
    char metric[64];          /* the task's primary metric */
    size_t n_all, n_clean, n_dirty;
    size_t n_unchecked;       /* scored documents the audit has no verdict for */
    size_t n_changed;         /* of n_unchecked: the audit holds their doc_id with other content (other data) */
    int indexed;              /* the audit has examples of this task and split (0: every document is unchecked) */
    double all, clean, dirty; /* means; NAN when the subset is empty */
    double rel_diff;          /* (clean - all) / |all|, GPT-3's "relative difference"; NAN when undefined */
};

/* For every task run of run_id, all/clean/dirty scores under audit index_id. *rows is a new array (free). For
 * `glam-eval report --clean`. */
int contamination_clean_scores(struct store *st, int64_t run_id, int64_t index_id, struct cn_clean_row **rows,
                               size_t *n_rows, struct ge_error *err);

/* Prints run_id's all/clean/dirty table under audit index_id (named name) to out, in percent, as GPT-3's
 * Appendix C reports it, as aligned text or (markdown = 1) a Markdown table; scored documents without a verdict
 * are counted (unchkd). On warn (may be NULL): a warning per task the audit indexed that has such documents (saying
 * whether it indexed other content under their ids or lacks them), and one note naming the tasks it does not
 * cover at all. */
int cn_print_clean_table(FILE *out, FILE *warn, int markdown, struct store *st, int64_t run_id, int64_t index_id,
                         const char *name, struct ge_error *err);

#endif
