/* published.h — published reference results (a paper's per-task tables) as data files, and their import into the
 * results database as read-only runs (`glam-eval import published`; schema version 3, docs/schema.md).
 *
 * Two tab-separated files in one directory (published/ in the source tree, $(pkgdatadir)/published when
 * installed). Lines starting with '#' and empty lines are comments. Every value is printed as the paper prints it.
 *
 *   models.tsv   label  model  architecture  n_params  n_active_params  flops_per_token  source  params_source
 *       label             the name reports use ("glam-64b64e"): [a-z0-9._-]+
 *       model             the paper's model name ("GLaM (64B/64E)")
 *       architecture      "dense" or "moe"
 *       n_params, n_active_params   integers, or "-" when the paper gives none
 *       flops_per_token   FLOPs per token as a number ("180e9"), or "-"
 *       source            citation of the paper; params_source: where the counts are printed ("Table 4")
 *   scores.tsv   label  setting  n_shots  task  metric  split  score  source_table
 *       setting           "zero", "one" or "few" (the paper's column); n_shots: K of the cell (0, 1, K), "-" for
 *                         an average (its tasks' K differ)
 *       task              a registered task name, or avg_nlg / avg_nlu / avg_all (the mean of all 30 numbers)
 *                         for an average the paper prints
 *       metric            "em", "f1", "acc" ("avg" for averages); split: the paper's split ("dev", "test")
 *       score             the paper's percentage, 0..100; source_table: where it is printed ("Table 13")
 *
 * Invariants of an import: all or nothing (one transaction); each label becomes one run with one published_runs
 * row; a label already imported from byte-identical files is left as it is, from different files is refused. */
#ifndef GE_PUBLISHED_H
#define GE_PUBLISHED_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "harness/error.h"

struct store;

#define PUBLISHED_FILE_LIMIT ((size_t)4 << 20) /* bytes in one data file */
#define PUBLISHED_MAX_MODELS 64
#define PUBLISHED_MAX_SCORES 8192

/* One model of models.tsv. Strings owned by the set. */
struct published_model {
    char *label, *model, *architecture, *source, *params_source;
    long long n_params, n_active_params; /* -1 when the paper gives none */
    double flops_per_token;             /* NAN when the paper gives none */
    size_t line_no;
};

/* One cell of scores.tsv. Strings owned by the set. */
struct published_score {
    char *label, *setting, *task, *metric, *split, *source_table;
    int n_shots;
    double score;   /* percentage as printed */
    size_t line_no;
};

/* Both files parsed and checked. Invariant: every score's label names a model; (label, task, metric, setting) is
 * unique; data_hash is SHA-256 over models.tsv's bytes followed by scores.tsv's. */
struct published_set {
    struct published_model *models; /* (n_models) owned */
    size_t n_models;
    struct published_score *scores; /* (n_scores) owned */
    size_t n_scores;
    char data_hash[65];
};

/* Reads dir/models.tsv and dir/scores.tsv into *out (zeroed first). Fails with GE_ERR_FORMAT naming file, line
 * and field (wrong number of fields, unknown task or setting, a score outside 0..100, a duplicate cell, a label
 * without a model), GE_ERR_IO / GE_ERR_NOTFOUND for unreadable files, GE_ERR_LIMIT past the limits above. On
 * failure *out is released. */
int published_load(const char *dir, struct published_set *out, struct ge_error *err);
void published_release(struct published_set *set);

/* Imports the models whose label is in only[0..n_only) (all when n_only == 0) into st (opened for writing), at
 * time imported_at (ISO-8601 UTC), recording dir's base name as the data file. Prints one line per label to log
 * ("imported", "already imported"). Fails with GE_ERR_NOTFOUND for a label in only that the set lacks,
 * GE_ERR_STATE when a label was imported from different data; nothing is written then. */
/* Fails with GE_ERR_NOTFOUND naming the first label of only[0..n_only) that set lacks. Call it before opening the
 * database, so a mistyped label never creates one. */
int published_check_only(const struct published_set *set, const char *const *only, size_t n_only,
                         struct ge_error *err);

int published_import(struct store *st, const struct published_set *set, const char *const *only, size_t n_only,
                     const char *imported_at, FILE *log, struct ge_error *err);

/* A published run as a database holds it, as merge compares them. Invariant: digest is the SHA-256 of the label,
 * data hash, source and model identity hash and of every cell (task, metric, setting, n_shots, split, value as
 * %.17g, source table) in (task, metric, setting) order, so two runs have the same digest exactly when a report
 * reads the same numbers from them; the import time and program version are left out. */
struct published_run_info {
    char *label;          /* owned */
    char data_hash[65];   /* SHA-256 of the data files it was imported from */
    char digest[65];
    size_t n_cells;
};

/* Reads published run run_id of st into *out (zeroed first; release with published_run_info_release). Fails with
 * GE_ERR_NOTFOUND when run_id is not a published run, or an SQLite failure; *out is released then. */
int published_run_read(struct store *st, int64_t run_id, struct published_run_info *out, struct ge_error *err);
void published_run_info_release(struct published_run_info *info);

/* Copies published run run_id of in, with its published_runs row and every cell, into out as a new published run
 * (*out_run_id), in the order the import writes them. The run's model must already be in out (same identity
 * hash; merge copies every model first): GE_ERR_STATE otherwise. Writes through out's connection without a
 * transaction of its own: the caller's transaction makes the copy all or nothing. */
int published_copy_run(struct store *in, int64_t run_id, struct store *out, int64_t *out_run_id,
                       struct ge_error *err);

/* The default data directory: $GLAM_EVAL_PUBLISHED, else the installed $(pkgdatadir)/published, else (a build
 * that was never installed) the published/ directory of the source tree it was built from. */
const char *published_default_dir(void);

#endif
