/* report.h — GLaM-style result tables from the results database: one row per benchmark in GLaM's order (SQuADv2
 * twice: F1 and EM), one column per (run, shot setting), then GLaM's Avg NLG and Avg NLU rows, then GSM8K outside
 * the averages. The one implementation of GLaM's averages lives here (report_glam_averages); `run`'s closing table
 * and every report format use it.
 *
 * GLaM's averages (Du et al. 2022; the definition reproduces the averages it prints, docs/reports.md): "Avg NLG" is
 * the mean of 9 numbers — TriviaQA, NQs, WebQS and
 * LAMBADA (EM / accuracy), DROP, CoQA and QuAC (F1), SQuADv2 F1 and SQuADv2 EM; "Avg NLU" is the mean of the 21
 * other benchmarks' primary metric; the overall average of GLaM's Table 1 is the mean of all 30 numbers. An
 * average with a number missing is INCOMPLETE: it is reported with how many numbers it covers and is never
 * presented as comparable with GLaM's.
 *
 * A report reads only: it opens the database in STORE_MODE_READ. Columns of published reference runs (results of a
 * paper imported by `glam-eval import published`, results/published.h) come from the published_scores table, with
 * the paper's own averages kept beside the recomputed ones so that a report can flag where they differ.
 *
 * Values are fractions (0.713, as stored); formats print percentages. */
#ifndef GE_REPORT_H
#define GE_REPORT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "harness/error.h"

struct store;

#define REPORT_MAX_COLUMNS 64  /* columns of one report (runs × shot settings) */
#define REPORT_MAX_RUNS 32     /* --run / --against arguments */
#define REPORT_AVG_TOLERANCE 0.001 /* |recomputed - published| above this (0.1 point) flags a published average */
#define REPORT_UNKNOWN (-1)        /* a count a cell does not know (a paper's cell): empty in CSV, null in JSON */

/* The rows of a GLaM table, in GLaM's order. */
enum report_group {
    REPORT_NLG,   /* counts in Avg NLG */
    REPORT_NLU,   /* counts in Avg NLU */
    REPORT_OTHER, /* shown after the averages, in neither (GSM8K) */
};

struct report_row {
    const char *task;    /* registered task name, e.g. "squad_v2" */
    const char *metric;  /* metric of our runs' cell ("f1" / "em" for SQuADv2); NULL = the task's primary metric,
                            so read it with report_row_metric() */
    const char *label;   /* GLaM's row name, e.g. "SQuADv2 (EM)" */
    const char *metric_label; /* GLaM's metric column: "em", "f1", "acc" */
    enum report_group group;
};

/* The 31 rows (29 benchmarks, SQuADv2 twice, GSM8K last). Invariant: exactly 9 NLG rows and 21 NLU rows. */
size_t report_n_rows(void);
const struct report_row *report_row_at(size_t i);
/* The metric of row i in our runs' metrics (never NULL for i < report_n_rows()). */
const char *report_row_metric(size_t i);
/* The row of (task, metric), or -1 when the pair is no row (for most tasks only the primary metric is a row). */
long report_row_find(const char *task, const char *metric);

/* One of GLaM's averages over a column. Invariant: n_present <= n_expected; value is NAN when n_present == 0. */
struct report_avg {
    double value;      /* mean of the present numbers */
    size_t n_present;  /* numbers that were present */
    size_t n_expected; /* 9 (NLG) or 21 (NLU) */
    size_t n_partial;  /* of the present numbers, those from a partial cell (report_cell.partial; counted by
                          report_glam_averages from its row_partial) */
};
/* Every number present and none partial: only then is an average comparable with GLaM's. */
static inline int report_avg_complete(const struct report_avg *a)
{
    return a->n_present == a->n_expected && a->n_partial == 0;
}

/* GLaM's Avg NLG and Avg NLU of one column: row_values[i] is the value of row i (report_row_at) or NAN when
 * missing; row_partial (NULL: none is) is nonzero for a row whose value is partial (an unfinished task run, or one
 * shard's documents), counted in n_partial. all (may be NULL) gets the mean of all 30 numbers (9 NLG + 21 NLU),
 * the "average" of GLaM's Table 1: recomputing that table's GPT-3 averages from GPT-3's Table H.1 reproduces them
 * only with this definition. */
void report_glam_averages(const double *row_values, const int *row_partial, struct report_avg *nlg,
                          struct report_avg *nlu, struct report_avg *all);

#define REPORT_AVG_STATUS_CAP 64
/* What every table prints after an average's value, so `run` and each report format say the same: "" when it is
 * complete (report_avg_complete), "PARTIAL (m of n partial)" when every number is there but m are partial,
 * "INCOMPLETE (k of n, m partial)" or "INCOMPLETE (k of n)" when only k of the n numbers are. Writes into buf (cap
 * bytes, REPORT_AVG_STATUS_CAP is enough) and returns it. */
const char *report_avg_status(const struct report_avg *a, char *buf, size_t cap);

/* Shot settings of a column. */
enum report_setting {
    REPORT_ZERO,   /* n_shots == 0 */
    REPORT_ONE,    /* n_shots == 1 */
    REPORT_FEW,    /* GLaM's K for each task (tasks/task.h glam_shots), or a paper's few-shot column */
    REPORT_KSHOT,  /* one fixed K that is not GLaM's (e.g. run --shots 4) */
};

/* One cell. Invariant: present == 0 means every other field is meaningless. */
struct report_cell {
    int present;
    double value;     /* fraction */
    double std_error; /* NAN when not stored (published cells, n < 2) */
    int64_t n;        /* examples aggregated; REPORT_UNKNOWN for a published cell */
    int n_shots;      /* the cell's K */
    char split[32];   /* evaluated split */
    int partial;      /* the task run is not finished, or covers one shard only */
    /* Document counts of the cell's task run, each REPORT_UNKNOWN for a published cell (a paper states none).
     * n_truncated and n_fewer_shots count scored documents only (those with per-example scores, n of them), so
     * neither can exceed n: a document that failed changed no score, whatever its prompt was. */
    int64_t n_truncated;   /* scored documents with a prompt cut to the model's window (responses.truncated = 1) */
    int64_t n_fewer_shots; /* scored documents whose prompt holds fewer than n_shots examples (requests.fewshot_ids):
                              examples dropped to fit the window, so the score is not a K-shot one for them */
    int64_t n_failed;      /* documents the model could not answer (a response with an error): not in n */
    int64_t n_documents;   /* documents the task run evaluated (its --limit and shard), scored or not */
    int64_t n_split;       /* documents of the whole split when the database shows it (no --limit cut the split
                              short and no shard), else REPORT_UNKNOWN */
};

/* One column: a run at one shot setting. Strings owned by the column (report_release frees them). */
struct report_column {
    int64_t run_id;
    char *model;             /* model name (published: the paper's model name) */
    char *label;             /* published label ("glam-64b64e") or NULL */
    char *source;            /* published citation or NULL */
    int published;           /* 1 for a published reference run */
    int64_t n_params;        /* total parameters, -1 unknown */
    int64_t n_active_params; /* activated per token, -1 unknown */
    double flops_per_token;  /* FLOPs per token, NAN unknown */
    enum report_setting setting;
    int k;                   /* REPORT_KSHOT: the K; else unused */
    struct report_cell *cells; /* (report_n_rows()) owned */
    struct report_avg nlg, nlu, all; /* recomputed from cells (all: the 30 numbers of NLG and NLU) */
    double published_nlg, published_nlu, published_all; /* the paper's own averages, NAN when it prints none */
};

/* A whole report. Owned by the caller: report_release. */
struct report {
    char *db_path;                  /* owned copy */
    struct report_column *columns;  /* (n_columns) owned, in the order the runs were asked for, settings zero, one,
                                       few, then other K ascending */
    size_t n_columns;
    char *notes;                    /* owned, NULL when none: one line per run that is not finished ("run 3 is
                                       interrupted: ..."), so its missing or partial columns are never silent */
};

/* Which runs to put in a report. run_ids and labels are borrowed. With n_run_ids == 0 and n_labels == 0 every
 * non-published run of the database is reported (ascending id). labels name published runs ("glam-64b64e"),
 * appended after the runs. */
struct report_request {
    const int64_t *run_ids;
    size_t n_run_ids;
    const char *const *labels;
    size_t n_labels;
};

/* Reads the report's columns from an open store (STORE_MODE_READ is enough). Fails with GE_ERR_NOTFOUND naming a
 * run id or label that does not exist, GE_ERR_STATE when the database is older than the current schema (the message
 * says to run `glam-eval db migrate`), GE_ERR_LIMIT past REPORT_MAX_COLUMNS. On failure *out is released. */
int report_load(struct store *st, const struct report_request *req, struct report *out, struct ge_error *err);
void report_release(struct report *r);

/* "zero-shot", "one-shot", "few-shot", "4-shot" (buf of at least 24 bytes). */
const char *report_setting_name(const struct report_column *c, char *buf, size_t cap);

/* Output formats. */
enum report_format {
    REPORT_MD,
    REPORT_CSV,
    REPORT_TEX,
    REPORT_JSON,
    REPORT_HTML,
};
/* Parses "md", "csv", "tex", "json", "html"; GE_ERR_USAGE otherwise. */
int report_parse_format(const char *name, enum report_format *out, struct ge_error *err);

/* Writes r in format fmt to f (results/report_format.c). GE_ERR_IO when writing fails. */
int report_write(const struct report *r, enum report_format fmt, FILE *f, struct ge_error *err);

#endif
