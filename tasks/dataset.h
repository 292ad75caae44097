/* dataset.h — loading a task's split from the data directory into rendered documents.
 *
 * Where: DIR/<task>/<split>.jsonl (one record per line in the Hugging Face schema, ../shared/data/README.md) or,
 * when that file is absent, the first existing official release file the task lists for the split in its
 * sources (tasks/release_formats.h; e.g. squad_v2: DIR/squad_v2/dev-v2.0.json). Either way the records reach
 * the task's load in the same schema, so the documents are the same.
 *
 * Malformed records are reported with file and line (the first few on the warning stream) and skipped, unless
 * strict, when the first one is an error. The SHA-256 of what was read is recorded so a resumed run can refuse
 * changed data. A record count that differs from the task's official split size is a warning, not an error (the
 * shared copies of some datasets are partial). */
#ifndef GE_TASK_DATASET_H
#define GE_TASK_DATASET_H

#include <stdio.h>

#include "harness/error.h"
#include "tasks/release_formats.h"
#include "tasks/task.h"

#define DATASET_MAX_DOCS ((size_t)1 << 22)
#define DATASET_PATH_CAP 4096

struct dataset {
    struct task_doc *docs; /* (n_docs) owned */
    size_t n_docs;
    size_t n_records;      /* records loaded, counted in the Hugging Face schema (one per JSONL line; a MultiRC
                              answer, a SQuAD question); > n_docs never, < n_docs for tasks with several
                              documents per record (CoQA turns, RACE questions) */
    size_t n_skipped;      /* malformed records skipped */
    enum release_format format; /* what was read */
    char path[DATASET_PATH_CAP]; /* the file (or RACE folder) read */
    char sha256[65];       /* of the file; of the files' contents in order for several (release_read) */
};

/* Where a split's data was found. Invariant: path names an existing file (a folder for RELEASE_RACE_DIR);
 * companion is "" unless the format has one. */
struct dataset_location {
    struct task_source source;            /* copy of the task's entry, or the JSONL default */
    char path[DATASET_PATH_CAP];
    char companion[DATASET_PATH_CAP];
};

/* The data directory: opt_dir when given, else $GLAM_EVAL_DATA, else "./data". */
const char *dataset_dir(const char *opt_dir);
/* For messages: dataset_dir(opt_dir) and how it was chosen, e.g. "/data/glam (from $GLAM_EVAL_DATA)", "./data
 * (the default: neither --data-dir nor $GLAM_EVAL_DATA is set; no such directory)", into buf (cut to cap). */
void dataset_dir_describe(const char *opt_dir, char *buf, size_t cap);

/* Finds split of task under dir: the JSONL file, else the task's sources in order. A missing split is
 * GE_ERR_NOTFOUND with a message naming every accepted path and where to get the data; a PIQA jsonl without its
 * labels file is GE_ERR_NOTFOUND naming the labels file. */
int dataset_locate(const struct task *task, const char *dir, const char *split, struct dataset_location *loc,
                   struct ge_error *err);

/* Loads split of task from dir into ds (zeroed by the call). warn (may be NULL) receives warnings. Errors: as
 * dataset_locate; GE_ERR_FORMAT for a malformed record under strict, for a file that is not its format at all,
 * or when no record is usable; GE_ERR_LIMIT past DATASET_MAX_DOCS. On failure ds is released. */
int dataset_load(const struct task *task, const char *dir, const char *split, int strict, FILE *warn,
                 struct dataset *ds, struct ge_error *err);
void dataset_release(struct dataset *ds);

#endif
