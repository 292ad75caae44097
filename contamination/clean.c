/* clean.c — a run's scores on the clean and dirty subsets of a contamination audit (GPT-3 Appendix C / Figure 4.2):
 * contamination_clean_scores and cn_print_clean_table, declared in audit.h with the rest of the audit's reading.
 *
 * A scored document is matched to the audit's verdict by (task, split, doc_id, content_hash). A primary metric
 * that is a mean of per-document scores is averaged over each subset; one that is set-level (task.h aggregate:
 * MultiRC's F1a over answer options) has no per-document score under its name, so it is recomputed on each subset
 * from the aggregate inputs the run stored per document (harness/evaluate.h), and its counts are the documents
 * with those inputs. A task the audit has no example of is "not covered" (all its documents unchecked) and named
 * once; a covered task with unchecked documents was indexed from other data or fewer documents, and is warned about.
 * Same access rules as audit.c: the sqlite3 handle through results/store_int.h, values always bound. */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "contamination/audit.h"
#include "harness/evaluate.h"
#include "harness/xalloc.h"
#include "results/store_int.h"
#include "tasks/registry.h"

static int prep(struct store *st, const char *sql, sqlite3_stmt **s, struct ge_error *err)
{
    int r = sqlite3_prepare_v2(st->db, sql, -1, s, NULL);
    return r == SQLITE_OK ? GE_OK : store_fail(st, r, "prepare", err);
}

/* The verdict columns shared by both queries: the document's flag in the audit (NULL = none) and whether the audit
 * holds its doc_id at all (with other content: it was indexed from different data). ?3 audit, ?4 task, ?5 split. */
#define CLEAN_VERDICT                                                                                            \
    "f.dirty, EXISTS (SELECT 1 FROM contamination_flags x WHERE x.index_id = ?3 AND x.task = ?4 AND x.split = ?5 " \
    "AND x.doc_id = d.doc_id) FROM documents d "
#define CLEAN_FLAG_JOIN                                                                                          \
    "LEFT JOIN contamination_flags f ON f.index_id = ?3 AND f.task = ?4 AND f.split = ?5 AND f.doc_id = d.doc_id " \
    "AND f.content_hash = d.content_hash WHERE d.task_run_id = ?1 "

/* Per-document metric ?2: its value, the verdict. */
static const char SQL_CLEAN_MEAN[] =
    "SELECT s.value, 0, 0, '', " CLEAN_VERDICT
    "JOIN scores s ON s.task_run_id = d.task_run_id AND s.doc_index = d.doc_index AND s.metric = ?2 " CLEAN_FLAG_JOIN;
/* Set-level metric: each document's predicted and gold option and id (all an aggregate may read), the verdict;
 * in doc_index order, as a run passes them (?2 is not used). */
static const char SQL_CLEAN_AGG[] =
    "SELECT 0, p.value, g.value, d.doc_id, " CLEAN_VERDICT
    "JOIN scores p ON p.task_run_id = d.task_run_id AND p.doc_index = d.doc_index AND p.metric = '" EVALUATE_AGG_PRED
    "' JOIN scores g ON g.task_run_id = d.task_run_id AND g.doc_index = d.doc_index AND g.metric = '"
    EVALUATE_AGG_GOLD "' " CLEAN_FLAG_JOIN "ORDER BY d.doc_index";

enum { SUB_ALL, SUB_CLEAN, SUB_DIRTY, SUB_UNCHECKED };

/* The documents of one task run whose metric is set-level, with their subset; grows as rows are read. */
struct agg_docs {
    struct task_doc *docs; /* (n) only id (owned) and gold[0] set */
    size_t *pred;          /* (n) predicted option */
    int *subset;           /* (n) SUB_CLEAN, SUB_DIRTY or SUB_UNCHECKED */
    size_t n, cap;
};

static void agg_docs_release(struct agg_docs *a)
{
    for (size_t i = 0; i < a->n; i++)
        free(a->docs[i].id);
    free(a->docs);
    free(a->pred);
    free(a->subset);
}

/* The aggregate's value of metric over the documents of subset `which` (SUB_ALL: every one); NAN when the subset
 * is empty or the aggregate does not produce that metric. */
static int agg_value(const struct task *t, const struct agg_docs *a, int which, const char *metric, double *out,
                     struct ge_error *err)
{
    *out = NAN;
    size_t *idx = xmalloc((a->n ? a->n : 1) * sizeof *idx), *pred = xmalloc((a->n ? a->n : 1) * sizeof *pred);
    size_t k = 0;
    for (size_t i = 0; i < a->n; i++)
        if (which == SUB_ALL || a->subset[i] == which) {
            idx[k] = i;
            pred[k++] = a->pred[i];
        }
    struct task_doc_scores sc = {.n = 0};
    int rc = k ? t->aggregate(a->docs, idx, pred, NULL, k, &sc, err) : GE_OK;
    for (size_t m = 0; rc == GE_OK && m < sc.n; m++)
        if (strcmp(sc.name[m], metric) == 0)
            *out = sc.value[m];
    free(idx);
    free(pred);
    return rc;
}

/* The error for a run with no task run: there is no such run, it is a published reference run (its cells have no
 * per-example scores to split), or it has not stored a task run yet. */
static int no_task_runs(struct store *st, int64_t run_id, struct ge_error *err)
{
    sqlite3_stmt *s = NULL;
    int exists = 0, published = 0;
    if (prep(st, "SELECT EXISTS (SELECT 1 FROM runs WHERE id = ?1), EXISTS (SELECT 1 FROM published_runs WHERE "
                 "run_id = ?1)", &s, err) == GE_OK) {
        sqlite3_bind_int64(s, 1, run_id);
        if (sqlite3_step(s) == SQLITE_ROW) {
            exists = sqlite3_column_int(s, 0);
            published = sqlite3_column_int(s, 1);
        }
        sqlite3_finalize(s);
    }
    if (!exists)
        return ge_error_set(err, GE_ERR_NOTFOUND, "%s: there is no run %lld", store_path(st), (long long)run_id);
    if (published)
        return ge_error_set(err, GE_ERR_STATE, "%s: run %lld is a published reference run: it has no per-example "
                            "scores to split into clean and dirty examples", store_path(st), (long long)run_id);
    return ge_error_set(err, GE_ERR_NOTFOUND, "%s: run %lld has no task runs", store_path(st), (long long)run_id);
}

/* Binds ?1 task run, ?2 metric, ?3 audit, ?4 task, ?5 split: the parameters of every query here about one row. */
static void bind_row(sqlite3_stmt *s, int64_t index_id, const struct cn_clean_row *row)
{
    sqlite3_bind_int64(s, 1, row->task_run_id);
    sqlite3_bind_text(s, 2, row->metric, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 3, index_id);
    sqlite3_bind_text(s, 4, row->task, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 5, row->split, -1, SQLITE_STATIC);
}

/* Whether task run row has any per-document score under its metric (*found), and whether the audit has any example
 * of its task and split (row->indexed). */
static int clean_probe(struct store *st, int64_t index_id, struct cn_clean_row *row, int *found, struct ge_error *err)
{
    sqlite3_stmt *s = NULL;
    int rc = prep(st, "SELECT EXISTS (SELECT 1 FROM scores WHERE task_run_id = ?1 AND metric = ?2), EXISTS (SELECT 1 "
                      "FROM contamination_flags WHERE index_id = ?3 AND task = ?4 AND split = ?5)", &s, err);
    if (rc)
        return rc;
    bind_row(s, index_id, row);
    int r = sqlite3_step(s);
    if (r == SQLITE_ROW) {
        *found = sqlite3_column_int(s, 0);
        row->indexed = sqlite3_column_int(s, 1);
    } else {
        rc = store_fail(st, r, "read scores and contamination_flags", err);
    }
    sqlite3_finalize(s);
    return rc;
}

static int clean_row(struct store *st, int64_t index_id, struct cn_clean_row *row, struct ge_error *err)
{
    const struct task *t = task_find(row->task);
    int per_doc = 0;
    int rc = clean_probe(st, index_id, row, &per_doc, err);
    if (rc)
        return rc;
    int set_level = !per_doc && t && t->aggregate;
    sqlite3_stmt *s = NULL;
    if ((rc = prep(st, set_level ? SQL_CLEAN_AGG : SQL_CLEAN_MEAN, &s, err)) != GE_OK)
        return rc;
    bind_row(s, index_id, row);
    double sum[3] = {0, 0, 0}; /* SUB_ALL, SUB_CLEAN, SUB_DIRTY */
    struct agg_docs a = {0};
    int r;
    while ((r = sqlite3_step(s)) == SQLITE_ROW) {
        double v = sqlite3_column_double(s, 0);
        int sub = sqlite3_column_type(s, 4) == SQLITE_NULL ? SUB_UNCHECKED
                  : sqlite3_column_int(s, 4)               ? SUB_DIRTY
                                                           : SUB_CLEAN;
        row->n_all++;
        sum[SUB_ALL] += v;
        if (sub == SUB_UNCHECKED) {
            row->n_unchecked++;
            row->n_changed += sqlite3_column_int(s, 5) != 0;
        } else {
            *(sub == SUB_DIRTY ? &row->n_dirty : &row->n_clean) += 1;
            sum[sub] += v;
        }
        if (!set_level)
            continue;
        double p = sqlite3_column_double(s, 1), g = sqlite3_column_double(s, 2);
        if (!(p >= 0 && p < TASK_MAX_CHOICES && g >= 0 && g < TASK_MAX_CHOICES)) {
            rc = ge_error_set(err, GE_ERR_FORMAT, "%s: task run %lld, document %s: aggregate inputs out of range "
                              "(%g, %g)", store_path(st), (long long)row->task_run_id,
                              (const char *)sqlite3_column_text(s, 3), p, g);
            break;
        }
        if (a.n == a.cap) {
            a.cap = a.cap ? a.cap * 2 : 64;
            a.docs = xrealloc(a.docs, a.cap * sizeof *a.docs);
            a.pred = xrealloc(a.pred, a.cap * sizeof *a.pred);
            a.subset = xrealloc(a.subset, a.cap * sizeof *a.subset);
        }
        a.docs[a.n] = (struct task_doc){.id = xstrdup((const char *)sqlite3_column_text(s, 3)), .n_gold = 1};
        a.docs[a.n].gold[0] = (size_t)g;
        a.pred[a.n] = (size_t)p;
        a.subset[a.n++] = sub;
    }
    if (rc == GE_OK && r != SQLITE_DONE)
        rc = store_fail(st, r, "read scores", err);
    sqlite3_finalize(s);
    if (set_level) {
        if (rc == GE_OK)
            rc = agg_value(t, &a, SUB_ALL, row->metric, &row->all, err);
        if (rc == GE_OK)
            rc = agg_value(t, &a, SUB_CLEAN, row->metric, &row->clean, err);
        if (rc == GE_OK)
            rc = agg_value(t, &a, SUB_DIRTY, row->metric, &row->dirty, err);
        agg_docs_release(&a);
    } else {
        row->all = row->n_all ? sum[SUB_ALL] / (double)row->n_all : NAN;
        row->clean = row->n_clean ? sum[SUB_CLEAN] / (double)row->n_clean : NAN;
        row->dirty = row->n_dirty ? sum[SUB_DIRTY] / (double)row->n_dirty : NAN;
    }
    row->rel_diff = row->n_clean && !isnan(row->clean) && !isnan(row->all) && row->all != 0
                    ? (row->clean - row->all) / fabs(row->all) : NAN;
    return rc;
}

int contamination_clean_scores(struct store *st, int64_t run_id, int64_t index_id, struct cn_clean_row **rows,
                               size_t *n_rows, struct ge_error *err)
{
    *rows = NULL;
    *n_rows = 0;
    sqlite3_stmt *s = NULL;
    int rc = prep(st, "SELECT id, task, n_shots, split FROM task_runs WHERE run_id = ?1 ORDER BY id", &s, err);
    if (rc)
        return rc;
    sqlite3_bind_int64(s, 1, run_id);
    size_t cap = 0;
    int r;
    while ((r = sqlite3_step(s)) == SQLITE_ROW) {
        if (*n_rows == cap) {
            cap = cap ? cap * 2 : 32;
            *rows = xrealloc(*rows, cap * sizeof **rows);
        }
        struct cn_clean_row *row = &(*rows)[(*n_rows)++];
        memset(row, 0, sizeof *row);
        row->task_run_id = sqlite3_column_int64(s, 0);
        snprintf(row->task, sizeof row->task, "%s", (const char *)sqlite3_column_text(s, 1));
        row->n_shots = sqlite3_column_int(s, 2);
        snprintf(row->split, sizeof row->split, "%s", (const char *)sqlite3_column_text(s, 3));
        const struct task *t = task_find(row->task);
        snprintf(row->metric, sizeof row->metric, "%s", t ? t->primary_metric : "acc");
    }
    if (r != SQLITE_DONE)
        rc = store_fail(st, r, "read task_runs", err);
    sqlite3_finalize(s);
    if (rc == GE_OK && *n_rows == 0)
        rc = no_task_runs(st, run_id, err);
    for (size_t i = 0; i < *n_rows && rc == GE_OK; i++)
        rc = clean_row(st, index_id, &(*rows)[i], err);
    if (rc) {
        free(*rows);
        *rows = NULL;
        *n_rows = 0;
    }
    return rc;
}

static void print_num(FILE *out, double v, int width)
{
    if (isnan(v))
        fprintf(out, " %*s", width, "-");
    else
        fprintf(out, " %*.2f", width, v);
}

/* Why a covered task has scored documents without a verdict, on one line of warn. */
static void warn_unchecked(FILE *warn, const struct cn_clean_row *r)
{
    fprintf(warn, "glam-eval: warning: %s (%d-shot): %zu scored document%s no verdict in this audit, which indexed "
            "the task", r->task, r->n_shots, r->n_unchecked, r->n_unchecked == 1 ? " has" : "s have");
    if (r->n_changed)
        fprintf(warn, ": %zu with other content under the same id (the index was built from different data than "
                "the run evaluated)", r->n_changed);
    if (r->n_changed < r->n_unchecked)
        fprintf(warn, "%s %zu not in the index at all (built from fewer documents, e.g. --limit, or other data)",
                r->n_changed ? ", and" : ":", r->n_unchecked - r->n_changed);
    fputc('\n', warn);
}

int cn_print_clean_table(FILE *out, FILE *warn, int markdown, struct store *st, int64_t run_id, int64_t index_id,
                         const char *name, struct ge_error *err)
{
    struct cn_clean_row *rows = NULL;
    size_t n = 0;
    int rc = contamination_clean_scores(st, run_id, index_id, &rows, &n, err);
    if (rc)
        return rc;
    fprintf(out, "%sRun %lld under contamination audit %lld '%s' (scores in %%, GPT-3 Appendix C)\n%s",
            markdown ? "## " : "", (long long)run_id, (long long)index_id, name, markdown ? "\n" : "");
    if (markdown)
        fprintf(out, "| task | shots | split | metric | n | clean | dirty | unchkd | all | clean | dirty | rel diff |\n"
                     "|---|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    else
        fprintf(out, "%-16s %5s %-10s %-8s %6s %6s %6s %6s %7s %7s %7s %8s\n", "task", "shots", "split", "metric",
                "n", "clean", "dirty", "unchkd", "all", "clean", "dirty", "rel diff");
    const char *sep = markdown ? " |" : "";
    size_t n_uncovered = 0;
    for (size_t i = 0; i < n; i++) {
        const struct cn_clean_row *r = &rows[i];
        if (markdown)
            fprintf(out, "| %s | %d | %s | %s | %zu | %zu | %zu | %zu |", r->task, r->n_shots, r->split, r->metric,
                    r->n_all, r->n_clean, r->n_dirty, r->n_unchecked);
        else
            fprintf(out, "%-16s %5d %-10s %-8s %6zu %6zu %6zu %6zu", r->task, r->n_shots, r->split, r->metric,
                    r->n_all, r->n_clean, r->n_dirty, r->n_unchecked);
        print_num(out, 100 * r->all, markdown ? 0 : 7);
        fputs(sep, out);
        print_num(out, 100 * r->clean, markdown ? 0 : 7);
        fputs(sep, out);
        print_num(out, 100 * r->dirty, markdown ? 0 : 7);
        fputs(sep, out);
        if (isnan(r->rel_diff))
            fprintf(out, " %*s%s\n", markdown ? 0 : 8, "-", sep);
        else
            fprintf(out, " %+7.1f%%%s\n", 100 * r->rel_diff, sep);
        if (r->n_unchecked && r->indexed && warn)
            warn_unchecked(warn, r);
        n_uncovered += !r->indexed;
    }
    /* Tasks left out of the index are a choice made when it was built, not a mismatch: one line names them all
     * (each once, whatever its shot settings). */
    if (n_uncovered && warn) {
        fprintf(warn, "glam-eval: note: audit %lld '%s' does not cover ", (long long)index_id, name);
        size_t k = 0;
        for (size_t i = 0; i < n; i++) {
            int seen = rows[i].indexed;
            for (size_t j = 0; j < i && !seen; j++)
                seen = !rows[j].indexed && strcmp(rows[j].task, rows[i].task) == 0 &&
                       strcmp(rows[j].split, rows[i].split) == 0;
            if (!seen)
                fprintf(warn, "%s%s", k++ ? ", " : "", rows[i].task);
        }
        fprintf(warn, " (not in its index): their documents are counted unchkd\n");
    }
    free(rows);
    return GE_OK;
}
