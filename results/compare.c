/* compare.c — paired comparisons of runs (see compare.h).
 *
 * Invariants: a row's documents are paired before any statistic is computed and the pairs are kept in run A's
 * doc_index order, so results depend only on the stored data and the seed; every statement is constant SQL,
 * finalized where it was prepared (this file is part of the results layer and uses store_int.h, like report.c).
 * Longer than ~800 lines: the pair tables, the averages and the models table's common-set means all read documents
 * through load_docs and score set-level metrics through struct agg_side; a split would have to export both. */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness/evaluate.h"
#include "harness/rng.h"
#include "harness/xalloc.h"
#include "results/compare.h"
#include "results/report.h"
#include "results/schema.h"
#include "results/store_int.h"
#include "scoring/stats.h"
#include "tasks/registry.h"

/* One document's score in one run; for a set-level metric (below) its aggregate inputs instead. */
struct doc_score {
    char *doc_id;          /* owned */
    char content_hash[65];
    double value;          /* the metric's score; aggregate inputs: the predicted option */
    double gold;           /* aggregate inputs only: the gold option */
};

/* One run's side of a row whose metric is set-level (task.h aggregate: MultiRC's F1a), in pair order: what the
 * task's aggregate needs to score any multiset of the paired documents. docs[i] has only id and gold[0] set, as
 * merge rebuilds them (task.h allows an aggregate to read nothing else). */
struct agg_side {
    const struct task *task;
    const char *metric;      /* the aggregate's output that is compared, e.g. "f1a" */
    struct task_doc *docs;   /* (n) owned, ids owned */
    size_t *pred;            /* (n) owned: predicted option of docs[i] */
    size_t *scratch;         /* (n) owned: predictions in the order of one resample */
    size_t n;
};

/* The paired scores of one (row, n_shots) in runs A and B. Invariant: a[i] and b[i] are the same document; for a
 * set-level metric (agg_a.task != NULL) so are agg_a.docs[i] and agg_b.docs[i], and a, b are unused. */
struct pair_set {
    double *a, *b; /* (n) owned */
    size_t n;
    size_t n_a, n_b; /* documents with a score in A and in B, paired or not */
    struct agg_side agg_a, agg_b;
};

struct run_facts {
    char *model;          /* owned */
    int64_t n_params, n_active_params;
    double flops_per_token; /* NAN unknown */
};

static int doc_cmp(const void *x, const void *y)
{
    const struct doc_score *p = x, *q = y;
    int c = strcmp(p->content_hash, q->content_hash);
    return c ? c : strcmp(p->doc_id, q->doc_id);
}

static void docs_free(struct doc_score *d, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(d[i].doc_id);
    free(d);
}

static const char SQL_DOC_SCORES[] =
    "SELECT d.doc_id, d.content_hash, s.value FROM task_runs t JOIN documents d ON d.task_run_id = t.id "
    "JOIN scores s ON s.task_run_id = t.id AND s.doc_index = d.doc_index "
    "WHERE t.run_id = ?1 AND t.task = ?2 AND t.n_shots = ?3 AND s.metric = ?4 ORDER BY t.id, d.doc_index";
/* A set-level metric's inputs, as a run stores them for every scored document (harness/evaluate.h). */
static const char SQL_DOC_AGG_INPUTS[] =
    "SELECT d.doc_id, d.content_hash, p.value, g.value FROM task_runs t JOIN documents d ON d.task_run_id = t.id "
    "JOIN scores p ON p.task_run_id = t.id AND p.doc_index = d.doc_index AND p.metric = '" EVALUATE_AGG_PRED "' "
    "JOIN scores g ON g.task_run_id = t.id AND g.doc_index = d.doc_index AND g.metric = '" EVALUATE_AGG_GOLD "' "
    "WHERE t.run_id = ?1 AND t.task = ?2 AND t.n_shots = ?3 ORDER BY t.id, d.doc_index";

/* Reads one run's per-document scores of metric, or with agg its aggregate inputs (metric unused). */
static int load_docs(struct store *st, int64_t run_id, const char *task, int n_shots, const char *metric, int agg,
                     struct doc_score **out, size_t *n_out, struct ge_error *err)
{
    sqlite3_stmt *q = NULL;
    struct doc_score *d = NULL;
    size_t n = 0, cap = 0;
    int ret = GE_OK, rc = sqlite3_prepare_v2(st->db, agg ? SQL_DOC_AGG_INPUTS : SQL_DOC_SCORES, -1, &q, NULL);
    if (rc != SQLITE_OK)
        return store_fail(st, rc, "reading per-example scores", err);
    sqlite3_bind_int64(q, 1, run_id);
    sqlite3_bind_text(q, 2, task, -1, SQLITE_STATIC);
    sqlite3_bind_int(q, 3, n_shots);
    if (!agg)
        sqlite3_bind_text(q, 4, metric, -1, SQLITE_STATIC);
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        if (n == COMPARE_MAX_DOCS) {
            ret = ge_error_set(err, GE_ERR_LIMIT, "%s: run %lld %s: more than %zu documents", st->path,
                               (long long)run_id, task, COMPARE_MAX_DOCS);
            break;
        }
        if (n == cap) {
            cap = cap ? 2 * cap : 64;
            d = xrealloc(d, cap * sizeof *d);
        }
        d[n].doc_id = xstrdup((const char *)sqlite3_column_text(q, 0));
        snprintf(d[n].content_hash, sizeof d[n].content_hash, "%s", (const char *)sqlite3_column_text(q, 1));
        d[n].value = sqlite3_column_double(q, 2);
        d[n].gold = agg ? sqlite3_column_double(q, 3) : 0;
        n++;
        if (agg) {
            double p = d[n - 1].value, g = d[n - 1].gold;
            if (!(p >= 0 && p < TASK_MAX_CHOICES && p == (double)(size_t)p && g >= 0 && g < TASK_MAX_CHOICES &&
                  g == (double)(size_t)g)) {
                ret = ge_error_set(err, GE_ERR_FORMAT, "%s: run %lld %s document %s: aggregate inputs %s %g, %s %g "
                                   "are not option numbers", st->path, (long long)run_id, task, d[n - 1].doc_id,
                                   EVALUATE_AGG_PRED, p, EVALUATE_AGG_GOLD, g);
                break;
            }
        }
    }
    if (ret == GE_OK && rc != SQLITE_DONE)
        ret = store_fail(st, rc, "reading per-example scores", err);
    sqlite3_finalize(q);
    if (ret != GE_OK) {
        docs_free(d, n);
        return ret;
    }
    *out = d;
    *n_out = n;
    return GE_OK;
}

static void agg_side_init(struct agg_side *s, const struct task *task, const char *metric, size_t cap)
{
    s->task = task;
    s->metric = metric;
    s->docs = xcalloc(cap ? cap : 1, sizeof *s->docs);
    s->pred = xcalloc(cap ? cap : 1, sizeof *s->pred);
    s->scratch = xcalloc(cap ? cap : 1, sizeof *s->scratch);
    s->n = 0;
}

static void agg_side_add(struct agg_side *s, const struct doc_score *d)
{
    s->docs[s->n] = (struct task_doc){.id = xstrdup(d->doc_id), .n_gold = 1};
    s->docs[s->n].gold[0] = (size_t)d->gold;
    s->pred[s->n] = (size_t)d->value;
    s->n++;
}

static void agg_side_release(struct agg_side *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->docs[i].id);
    free(s->docs);
    free(s->pred);
    free(s->scratch);
    memset(s, 0, sizeof *s);
}

static void pair_set_release(struct pair_set *ps)
{
    free(ps->a);
    free(ps->b);
    agg_side_release(&ps->agg_a);
    agg_side_release(&ps->agg_b);
    memset(ps, 0, sizeof *ps);
}

/* Pairs A's and B's documents of one row (B sorted and searched), in A's order: their scores of metric, or with
 * agg (a task with an aggregate) its inputs, into ps->agg_a and ps->agg_b. */
static int pair_row(struct store *st, int64_t run_a, int64_t run_b, const char *task, int n_shots, const char *metric,
                    const struct task *agg, struct pair_set *ps, struct ge_error *err)
{
    struct doc_score *da = NULL, *db = NULL;
    size_t na = 0, nb = 0;
    memset(ps, 0, sizeof *ps);
    int ret = load_docs(st, run_a, task, n_shots, metric, agg != NULL, &da, &na, err);
    if (ret == GE_OK)
        ret = load_docs(st, run_b, task, n_shots, metric, agg != NULL, &db, &nb, err);
    if (ret == GE_OK && na && nb) {
        qsort(db, nb, sizeof *db, doc_cmp);
        if (agg) {
            agg_side_init(&ps->agg_a, agg, metric, na);
            agg_side_init(&ps->agg_b, agg, metric, na);
        } else {
            ps->a = xmalloc(na * sizeof *ps->a);
            ps->b = xmalloc(na * sizeof *ps->b);
        }
        for (size_t i = 0; i < na; i++) {
            const struct doc_score *hit = bsearch(&da[i], db, nb, sizeof *db, doc_cmp);
            if (hit == NULL)
                continue;
            if (agg) {
                agg_side_add(&ps->agg_a, &da[i]);
                agg_side_add(&ps->agg_b, hit);
            } else {
                ps->a[ps->n] = da[i].value;
                ps->b[ps->n] = hit->value;
            }
            ps->n++;
        }
    }
    ps->n_a = na;
    ps->n_b = nb;
    docs_free(da, na);
    docs_free(db, nb);
    return ret;
}

/* stats_aggregate_fn of a set-level metric: the task's aggregate over the documents idx[0..n) of one side (ctx,
 * a struct agg_side), duplicates included. GE_ERR_NOTFOUND when the aggregate has no such metric. */
static int agg_stat(const size_t *idx, size_t n, void *ctx, double *value, struct ge_error *err)
{
    struct agg_side *s = ctx;
    for (size_t k = 0; k < n; k++)
        s->scratch[k] = s->pred[idx[k]];
    struct task_doc_scores out = {0};
    int ret = s->task->aggregate(s->docs, idx, s->scratch, NULL, n, &out, err);
    for (size_t k = 0; ret == GE_OK && k < out.n; k++)
        if (strcmp(out.name[k], s->metric) == 0) {
            *value = out.value[k];
            return GE_OK;
        }
    return ret != GE_OK ? ret
                        : ge_error_set(err, GE_ERR_NOTFOUND, "%s: its set-level metrics have no %s", s->task->name,
                                       s->metric);
}

/* The metric over all of one side's documents. */
static int agg_whole(struct agg_side *s, double *value, struct ge_error *err)
{
    size_t *idx = xmalloc((s->n ? s->n : 1) * sizeof *idx);
    for (size_t i = 0; i < s->n; i++)
        idx[i] = i;
    int ret = agg_stat(idx, s->n, s, value, err);
    free(idx);
    return ret;
}

static const char SQL_FACTS[] =
    "SELECT m.name, m.n_params, m.n_active_params, m.flops_per_token, "
    "EXISTS (SELECT 1 FROM published_runs p WHERE p.run_id = r.id) "
    "FROM runs r JOIN models m ON m.id = r.model_id WHERE r.id = ?1";

static int load_facts(struct store *st, int64_t run_id, struct run_facts *f, struct ge_error *err)
{
    sqlite3_stmt *q = NULL;
    int ret = GE_OK, rc = sqlite3_prepare_v2(st->db, SQL_FACTS, -1, &q, NULL);
    if (rc != SQLITE_OK)
        return store_fail(st, rc, "reading a run", err);
    sqlite3_bind_int64(q, 1, run_id);
    rc = sqlite3_step(q);
    if (rc == SQLITE_DONE)
        ret = ge_error_set(err, GE_ERR_NOTFOUND, "%s: there is no run %lld", st->path, (long long)run_id);
    else if (rc != SQLITE_ROW)
        ret = store_fail(st, rc, "reading a run", err);
    else if (sqlite3_column_int(q, 4))
        ret = ge_error_set(err, GE_ERR_STATE, "%s: run %lld is a published reference run: it has no per-example "
                           "scores to compare (use 'glam-eval report --against LABEL')", st->path, (long long)run_id);
    else {
        f->model = xstrdup((const char *)sqlite3_column_text(q, 0));
        f->n_params = sqlite3_column_type(q, 1) == SQLITE_NULL ? -1 : sqlite3_column_int64(q, 1);
        f->n_active_params = sqlite3_column_type(q, 2) == SQLITE_NULL ? -1 : sqlite3_column_int64(q, 2);
        f->flops_per_token = sqlite3_column_type(q, 3) == SQLITE_NULL ? NAN : sqlite3_column_double(q, 3);
    }
    sqlite3_finalize(q);
    return ret;
}

/* The shot counts at which both runs evaluated task (ascending, at most cap). */
static int common_shots(struct store *st, int64_t a, int64_t b, const char *task, int *shots, size_t cap, size_t *n,
                        struct ge_error *err)
{
    sqlite3_stmt *q = NULL;
    *n = 0;
    int rc = sqlite3_prepare_v2(st->db,
                                "SELECT DISTINCT x.n_shots FROM task_runs x JOIN task_runs y ON y.task = x.task AND "
                                "y.n_shots = x.n_shots AND y.run_id = ?2 WHERE x.run_id = ?1 AND x.task = ?3 "
                                "ORDER BY x.n_shots", -1, &q, NULL);
    if (rc != SQLITE_OK)
        return store_fail(st, rc, "listing task runs", err);
    sqlite3_bind_int64(q, 1, a);
    sqlite3_bind_int64(q, 2, b);
    sqlite3_bind_text(q, 3, task, -1, SQLITE_STATIC);
    while ((rc = sqlite3_step(q)) == SQLITE_ROW && *n < cap)
        shots[(*n)++] = sqlite3_column_int(q, 0);
    int ret = (rc == SQLITE_ROW || rc == SQLITE_DONE) ? GE_OK : store_fail(st, rc, "listing task runs", err);
    sqlite3_finalize(q);
    return ret;
}

/* A stored aggregate (for rows without per-example scores). NAN when absent. */
static double stored_metric(struct store *st, int64_t run_id, const char *task, int n_shots, const char *metric)
{
    sqlite3_stmt *q = NULL;
    double v = NAN;
    if (sqlite3_prepare_v2(st->db, "SELECT m.value FROM task_runs t JOIN metrics m ON m.task_run_id = t.id WHERE "
                                   "t.run_id = ?1 AND t.task = ?2 AND t.n_shots = ?3 AND m.metric = ?4", -1, &q,
                           NULL) == SQLITE_OK) {
        sqlite3_bind_int64(q, 1, run_id);
        sqlite3_bind_text(q, 2, task, -1, SQLITE_STATIC);
        sqlite3_bind_int(q, 3, n_shots);
        sqlite3_bind_text(q, 4, metric, -1, SQLITE_STATIC);
        if (sqlite3_step(q) == SQLITE_ROW)
            v = sqlite3_column_double(q, 0);
    }
    sqlite3_finalize(q);
    return v;
}

static double mean_of(const double *x, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += x[i];
    return n ? s / (double)n : NAN;
}

/* One compared row of one shot count, kept for the averages. */
struct compared {
    size_t row;
    int n_shots;
    struct pair_set ps;
    double est_a, est_b;  /* each run's score on the paired documents (fraction) */
};

/* The row's difference on the resample idx[0..n) of its paired documents. */
static int resample_diff(const struct compared *c, const size_t *idx, size_t n, double *diff, struct ge_error *err)
{
    const struct pair_set *p = &c->ps;
    if (p->agg_a.task == NULL) {
        double d = 0;
        for (size_t m = 0; m < n; m++)
            d += p->a[idx[m]] - p->b[idx[m]];
        *diff = d / (double)n;
        return GE_OK;
    }
    double va, vb;
    int ret = agg_stat(idx, n, (void *)&p->agg_a, &va, err);
    if (ret == GE_OK)
        ret = agg_stat(idx, n, (void *)&p->agg_b, &vb, err);
    *diff = ret == GE_OK ? va - vb : NAN;
    return ret;
}

static int double_cmp(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

/* The GLaM task's K of compared row i (its few-shot setting). */
static int row_glam_k(const struct compared *c)
{
    const struct task *t = task_find(report_row_at(c->row)->task);
    return t ? t->glam_shots : -1;
}

/* Whether compared row c is in the average of a shot setting as report shows it: zero-shot (k 0), one-shot (k 1),
 * few-shot (k -1: each task at its GLaM K, so K = 1 tasks are in one-shot and few-shot), or a fixed K >= 2 (the
 * tasks evaluated at K, those whose GLaM K is K included). */
static int in_setting(const struct compared *c, int k)
{
    return k < 0 ? c->n_shots == row_glam_k(c) : c->n_shots == k;
}

/* Stratified paired bootstrap of the mean over rows of (score A - score B): every iteration resamples each row's
 * paired documents independently, one index draw shared by A and B. */
static int group_interval(const struct compared *c, size_t n_c, int setting_k, enum report_group g, size_t n_iters,
                          uint64_t seed, double *lo, double *hi, double *est, size_t *n_rows, struct ge_error *err)
{
    size_t sel[64], k = 0, max_n = 1;
    for (size_t i = 0; i < n_c && k < 64; i++)
        if (in_setting(&c[i], setting_k) && report_row_at(c[i].row)->group == g && c[i].ps.n > 0) {
            sel[k++] = i;
            max_n = c[i].ps.n > max_n ? c[i].ps.n : max_n;
        }
    *n_rows = k;
    *lo = *hi = *est = NAN;
    if (k == 0)
        return GE_OK;
    double *stats = xmalloc(n_iters * sizeof *stats);
    size_t *idx = xmalloc(max_n * sizeof *idx);
    struct rng r;
    rng_seed(&r, seed);
    double e = 0;
    for (size_t j = 0; j < k; j++)
        e += c[sel[j]].est_a - c[sel[j]].est_b;
    *est = e / (double)k;
    int ret = GE_OK;
    for (size_t it = 0; ret == GE_OK && it < n_iters; it++) {
        double total = 0;
        for (size_t j = 0; ret == GE_OK && j < k; j++) {
            size_t n = c[sel[j]].ps.n;
            for (size_t m = 0; m < n; m++)
                idx[m] = (size_t)rng_below(&r, n);
            double d = 0;
            ret = resample_diff(&c[sel[j]], idx, n, &d, err);
            total += d;
        }
        stats[it] = total / (double)k;
    }
    if (ret == GE_OK) {
        qsort(stats, n_iters, sizeof *stats, double_cmp);
        ret = stats_percentile(stats, n_iters, 2.5, lo, err);
    }
    if (ret == GE_OK)
        ret = stats_percentile(stats, n_iters, 97.5, hi, err);
    free(idx);
    free(stats);
    return ret;
}

/* "12.34" (signed: "+12.34") for a fraction, or "–" when it is unknown (NAN: no stored value). buf: 32 bytes. */
static const char *pct(double fraction, int sign, char *buf)
{
    if (isnan(fraction))
        snprintf(buf, 32, "–");
    else
        snprintf(buf, 32, sign ? "%+.2f" : "%.2f", 100 * fraction);
    return buf;
}

/* The status of run_id's task run of (task, n_shots) into buf ("finished", "failed", "running"), "" if none. */
static int task_run_status(struct store *st, int64_t run_id, const char *task, int n_shots, char *buf, size_t cap,
                           struct ge_error *err)
{
    sqlite3_stmt *q = NULL;
    buf[0] = '\0';
    int rc = sqlite3_prepare_v2(st->db, "SELECT status FROM task_runs WHERE run_id = ?1 AND task = ?2 AND "
                                        "n_shots = ?3 ORDER BY status = 'finished' LIMIT 1", -1, &q, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_int64(q, 1, run_id);
        sqlite3_bind_text(q, 2, task, -1, SQLITE_STATIC);
        sqlite3_bind_int(q, 3, n_shots);
        rc = sqlite3_step(q);
        if (rc == SQLITE_ROW)
            snprintf(buf, cap, "%s", (const char *)sqlite3_column_text(q, 0));
    }
    int ret = rc == SQLITE_ROW || rc == SQLITE_DONE ? GE_OK : store_fail(st, rc, "reading a task run", err);
    sqlite3_finalize(q);
    return ret;
}

/* Why a row has no paired document: a task run that is not finished (failed, or its run still running or stopped)
 * has no scores yet; else the runs scored different documents; else the metric has no per-example scores. */
static int no_pair_reason(struct store *st, int64_t a, int64_t b, const char *task, int n_shots,
                          const struct pair_set *ps, char *buf, size_t cap, struct ge_error *err)
{
    char sa[16], sb[16];
    int ret = task_run_status(st, a, task, n_shots, sa, sizeof sa, err);
    if (ret == GE_OK)
        ret = task_run_status(st, b, task, n_shots, sb, sizeof sb, err);
    if (ret != GE_OK)
        return ret;
    if (strcmp(sa, "finished") != 0 || strcmp(sb, "finished") != 0) {
        if (strcmp(sa, "finished") != 0 && strcmp(sb, "finished") != 0)
            snprintf(buf, cap, "the task run is %s in A and %s in B: no scores", sa, sb);
        else
            snprintf(buf, cap, "the task run of %s is %s: no scores", strcmp(sa, "finished") ? "A" : "B",
                     strcmp(sa, "finished") ? sa : sb);
    } else if (ps->n_a && ps->n_b) {
        snprintf(buf, cap, "no document in common");
    } else {
        snprintf(buf, cap, "no per-example scores of this metric");
    }
    return GE_OK;
}

/* Lists the (task, shots) task runs that only one of a and b has: they are in no row of the table. */
static int print_unpaired(struct store *st, int64_t a, int64_t b, FILE *out, struct ge_error *err)
{
    static const char sql[] =
        "SELECT DISTINCT x.task, x.n_shots FROM task_runs x WHERE x.run_id = ?1 AND NOT EXISTS (SELECT 1 FROM "
        "task_runs y WHERE y.run_id = ?2 AND y.task = x.task AND y.n_shots = x.n_shots) ORDER BY x.task, x.n_shots";
    int ret = GE_OK;
    for (int side = 0; side < 2 && ret == GE_OK; side++) {
        sqlite3_stmt *q = NULL;
        int rc = sqlite3_prepare_v2(st->db, sql, -1, &q, NULL);
        size_t n = 0;
        if (rc == SQLITE_OK) {
            sqlite3_bind_int64(q, 1, side ? b : a);
            sqlite3_bind_int64(q, 2, side ? a : b);
            while ((rc = sqlite3_step(q)) == SQLITE_ROW)
                fprintf(out, "%s%s %d-shot", n++ ? ", " : side ? "\nOnly in B (not compared): "
                                                                : "\nOnly in A (not compared): ",
                        (const char *)sqlite3_column_text(q, 0), sqlite3_column_int(q, 1));
        }
        if (n)
            fputs(".\n", out);
        if (rc != SQLITE_DONE)
            ret = store_fail(st, rc, "listing task runs", err);
        sqlite3_finalize(q);
    }
    return ret;
}

static void print_facts(FILE *out, const int64_t *ids, const struct run_facts *facts, size_t n, const double *mean_pct)
{
    fprintf(out, "| run | model | parameters | activated / token | GFLOPs / token | mean score (%%) | "
                 "score per GFLOP |\n"
                 "|---|---|---:|---:|---:|---:|---:|\n");
    for (size_t i = 0; i < n; i++) {
        const struct run_facts *f = &facts[i];
        fprintf(out, "| %lld | %s | ", (long long)ids[i], f->model);
        if (f->n_params >= 0)
            fprintf(out, "%lld | ", (long long)f->n_params);
        else
            fputs("? | ", out);
        if (f->n_active_params >= 0)
            fprintf(out, "%lld | ", (long long)f->n_active_params);
        else
            fputs("? | ", out);
        if (isnan(f->flops_per_token))
            fputs("? | ", out);
        else
            fprintf(out, "%.6g | ", f->flops_per_token / 1e9);
        if (isnan(mean_pct[i]))
            fputs("– | – |\n", out);
        else if (isnan(f->flops_per_token) || f->flops_per_token <= 0)
            fprintf(out, "%.2f | ? |\n", mean_pct[i]);
        else
            fprintf(out, "%.2f | %.4g |\n", mean_pct[i], mean_pct[i] / (f->flops_per_token / 1e9));
    }
}

#define MAX_SHOTS 16
#define MAX_COMPARED 512

/* Compares run a with run b: one table of rows, the task runs only one of them has, then the averages. */
static int compare_pair(struct store *st, int64_t a, int64_t b, const struct compare_options *opt, FILE *out,
                        struct ge_error *err)
{
    struct compared *c = xcalloc(MAX_COMPARED, sizeof *c);
    size_t n_c = 0, n_rows = report_n_rows(), n_sig = 0, n_tested = 0;
    int ret = GE_OK;
    fprintf(out, "\n## run %lld (A) vs run %lld (B)\n\n", (long long)a, (long long)b);
    fprintf(out, "| task | metric | shots | n paired (A, B) | A | B | A − B | 95%% CI | |\n"
                 "|---|---|---:|---:|---:|---:|---:|---|---|\n");
    for (size_t i = 0; ret == GE_OK && i < n_rows; i++) {
        const struct report_row *row = report_row_at(i);
        const char *metric = report_row_metric(i);
        int shots[MAX_SHOTS];
        size_t n_shots = 0;
        ret = common_shots(st, a, b, row->task, shots, MAX_SHOTS, &n_shots, err);
        for (size_t s = 0; ret == GE_OK && s < n_shots && n_c < MAX_COMPARED; s++) {
            struct compared *cc = &c[n_c];
            cc->row = i;
            cc->n_shots = shots[s];
            const struct task *task = task_find(row->task);
            ret = pair_row(st, a, b, row->task, shots[s], metric, NULL, &cc->ps, err);
            if (ret == GE_OK && cc->ps.n_a == 0 && cc->ps.n_b == 0 && task && task->aggregate) {
                /* no per-example scores: a set-level metric (MultiRC's F1a), resampled from its inputs */
                pair_set_release(&cc->ps);
                ret = pair_row(st, a, b, row->task, shots[s], metric, task, &cc->ps, err);
                if (ret == GE_OK && cc->ps.n > 0)
                    ret = agg_whole(&cc->ps.agg_a, &cc->est_a, err);
                if (ret == GE_OK && cc->ps.n > 0)
                    ret = agg_whole(&cc->ps.agg_b, &cc->est_b, err);
                if (ret == GE_ERR_NOTFOUND) { /* not one of the aggregate's metrics */
                    pair_set_release(&cc->ps);
                    ret = GE_OK;
                }
            } else if (ret == GE_OK && cc->ps.n > 0) {
                cc->est_a = mean_of(cc->ps.a, cc->ps.n);
                cc->est_b = mean_of(cc->ps.b, cc->ps.n);
            }
            if (ret != GE_OK) {
                pair_set_release(&cc->ps);
                break;
            }
            n_c++;
            if (cc->ps.n == 0) {
                char reason[160];
                ret = no_pair_reason(st, a, b, row->task, shots[s], &cc->ps, reason, sizeof reason, err);
                if (ret != GE_OK)
                    break;
                double va = stored_metric(st, a, row->task, shots[s], metric);
                double vb = stored_metric(st, b, row->task, shots[s], metric);
                char sa[32], sb[32], sd[32];
                fprintf(out, "| %s | %s | %d | 0 (%zu, %zu) | %s | %s | %s | no interval (%s) | |\n", row->label,
                        metric, shots[s], cc->ps.n_a, cc->ps.n_b, pct(va, 0, sa), pct(vb, 0, sb), pct(va - vb, 1, sd),
                        reason);
                continue;
            }
            double ma = cc->est_a, mb = cc->est_b;
            if (cc->ps.n < 2) {
                fprintf(out, "| %s | %s | %d | 1 (%zu, %zu) | %.2f | %.2f | %+.2f | no interval (1 document) | |\n",
                        row->label, metric, shots[s], cc->ps.n_a, cc->ps.n_b, 100 * ma, 100 * mb, 100 * (ma - mb));
                continue;
            }
            struct stats_paired_result pr;
            if (cc->ps.agg_a.task)
                ret = stats_paired_bootstrap(cc->ps.n, agg_stat, &cc->ps.agg_a, &cc->ps.agg_b, opt->n_iters,
                                             opt->seed, &pr, err);
            else
                ret = stats_paired_bootstrap_mean(cc->ps.a, cc->ps.b, cc->ps.n, opt->n_iters, opt->seed, &pr, err);
            if (ret != GE_OK)
                break;
            n_tested++;
            n_sig += (size_t)pr.excludes_zero;
            fprintf(out, "| %s | %s | %d | %zu (%zu, %zu) | %.2f | %.2f | %+.2f | [%+.2f, %+.2f] | %s |\n",
                    row->label, metric, shots[s], cc->ps.n, cc->ps.n_a, cc->ps.n_b, 100 * ma, 100 * mb,
                    100 * pr.mean_diff, 100 * pr.ci_low, 100 * pr.ci_high, pr.excludes_zero ? "**significant**" : "");
        }
    }
    if (ret == GE_OK)
        ret = print_unpaired(st, a, b, out, err);
    if (ret == GE_OK) {
        fprintf(out, "\n%zu of %zu compared rows have a 95%% interval that excludes 0 (marked significant).\n\n",
                n_sig, n_tested);
        fprintf(out, "| average | shots | rows | A − B | 95%% CI (stratified paired bootstrap) | |\n"
                     "|---|---:|---:|---:|---|---|\n");
        /* the settings of report's columns: 0, 1, few (-1), then each fixed K >= 2 some task has other than its
           GLaM K, ascending */
        int settings[MAX_COMPARED + 3];
        size_t n_set = 0;
        int has0 = 0, has1 = 0, has_few = 0;
        for (size_t i = 0; i < n_c; i++) {
            has0 |= c[i].n_shots == 0;
            has1 |= c[i].n_shots == 1;
            has_few |= c[i].n_shots == row_glam_k(&c[i]);
        }
        if (has0)
            settings[n_set++] = 0;
        if (has1)
            settings[n_set++] = 1;
        if (has_few)
            settings[n_set++] = -1;
        for (int want = 2; want <= 256; want++)
            for (size_t i = 0; i < n_c; i++)
                if (c[i].n_shots == want && want != row_glam_k(&c[i])) {
                    settings[n_set++] = want;
                    break;
                }
        for (size_t si = 0; ret == GE_OK && si < n_set; si++) {
            char label[16];
            snprintf(label, sizeof label, settings[si] < 0 ? "few" : "%d", settings[si]);
            for (int g = 0; g < 2 && ret == GE_OK; g++) {
                double lo, hi, est;
                size_t k;
                ret = group_interval(c, n_c, settings[si], g == 0 ? REPORT_NLG : REPORT_NLU, opt->n_iters, opt->seed,
                                     &lo, &hi, &est, &k, err);
                if (ret != GE_OK || k == 0)
                    continue;
                size_t expected = g == 0 ? 9 : 21;
                fprintf(out, "| Avg %s | %s | %zu of %zu%s | %+.2f | [%+.2f, %+.2f] | %s |\n", g == 0 ? "NLG" : "NLU",
                        label, k, expected, k < expected ? " INCOMPLETE" : "", 100 * est, 100 * lo, 100 * hi,
                        (lo > 0 || hi < 0) ? "**significant**" : "");
            }
        }
    }
    for (size_t i = 0; i < n_c; i++)
        pair_set_release(&c[i].ps);
    free(c);
    return ret;
}

/* One row's documents common to all runs (paired as in pair_row: task, shots, doc id, content hash) into est[r],
 * each run's score on them (a mean, or a set-level metric's aggregate); *n_common = 0 when there is none (est
 * untouched). agg: read the aggregate inputs of task instead of per-example scores of metric. */
static int common_row(struct store *st, const struct compare_options *opt, const char *task_name, int n_shots,
                      const char *metric, const struct task *agg, double *est, size_t *n_common, struct ge_error *err)
{
    struct doc_score *d[COMPARE_MAX_RUNS] = {NULL};
    size_t nd[COMPARE_MAX_RUNS] = {0};
    int ret = GE_OK;
    *n_common = 0;
    for (size_t r = 0; r < opt->n_runs && ret == GE_OK; r++) {
        ret = load_docs(st, opt->run_ids[r], task_name, n_shots, metric, agg != NULL, &d[r], &nd[r], err);
        if (ret == GE_OK && r > 0 && nd[r] > 0) /* qsort and bsearch take no NULL array, even empty */
            qsort(d[r], nd[r], sizeof *d[r], doc_cmp);
    }
    /* common[r][k]: run r's document of the k-th common document, in run A's order */
    const struct doc_score **common[COMPARE_MAX_RUNS] = {NULL};
    size_t k = 0;
    if (ret == GE_OK && nd[0] > 0) {
        for (size_t r = 0; r < opt->n_runs; r++)
            common[r] = xmalloc(nd[0] * sizeof *common[r]);
        for (size_t i = 0; i < nd[0]; i++) {
            size_t r = 1;
            for (; r < opt->n_runs; r++) {
                common[r][k] = nd[r] ? bsearch(&d[0][i], d[r], nd[r], sizeof *d[r], doc_cmp) : NULL;
                if (common[r][k] == NULL)
                    break;
            }
            if (r == opt->n_runs)
                common[0][k++] = &d[0][i];
        }
    }
    for (size_t r = 0; r < opt->n_runs && ret == GE_OK && k > 0; r++) {
        if (agg) {
            struct agg_side side;
            agg_side_init(&side, agg, metric, k);
            for (size_t i = 0; i < k; i++)
                agg_side_add(&side, common[r][i]);
            ret = agg_whole(&side, &est[r], err);
            agg_side_release(&side);
        } else {
            double sum = 0;
            for (size_t i = 0; i < k; i++)
                sum += common[r][i]->value;
            est[r] = sum / (double)k;
        }
    }
    if (ret == GE_OK)
        *n_common = k;
    for (size_t r = 0; r < opt->n_runs; r++) {
        free(common[r]);
        docs_free(d[r], nd[r]);
    }
    return ret;
}

/* The models table's mean score of every run over one set of rows and documents: the (task, shots) rows every run
 * evaluated, each on the documents all of them scored, so the runs' means are comparable with each other (with two
 * runs, the paired documents of the table above). mean_pct[r] is NAN when no row is common; *n_rows gets their
 * count. */
static int common_means(struct store *st, const struct compare_options *opt, double *mean_pct, size_t *n_rows,
                        struct ge_error *err)
{
    double sum[COMPARE_MAX_RUNS] = {0};
    size_t used = 0;
    int ret = GE_OK;
    for (size_t i = 0; ret == GE_OK && i < report_n_rows(); i++) {
        const struct report_row *row = report_row_at(i);
        const char *metric = report_row_metric(i);
        const struct task *task = task_find(row->task);
        int shots[MAX_SHOTS];
        size_t n_shots = 0;
        ret = common_shots(st, opt->run_ids[0], opt->run_ids[1], row->task, shots, MAX_SHOTS, &n_shots, err);
        for (size_t s = 0; ret == GE_OK && s < n_shots; s++) {
            int in_all = 1;
            for (size_t r = 2; ret == GE_OK && r < opt->n_runs && in_all; r++) {
                int other[MAX_SHOTS];
                size_t n_other = 0, j = 0;
                ret = common_shots(st, opt->run_ids[0], opt->run_ids[r], row->task, other, MAX_SHOTS, &n_other, err);
                while (j < n_other && other[j] != shots[s])
                    j++;
                in_all = j < n_other;
            }
            if (ret != GE_OK || !in_all)
                continue;
            double est[COMPARE_MAX_RUNS];
            size_t k = 0;
            ret = common_row(st, opt, row->task, shots[s], metric, NULL, est, &k, err);
            if (ret == GE_OK && k == 0 && task && task->aggregate) {
                ret = common_row(st, opt, row->task, shots[s], metric, task, est, &k, err);
                if (ret == GE_ERR_NOTFOUND) { /* not one of the aggregate's metrics */
                    ret = GE_OK;
                    k = 0;
                }
            }
            if (ret != GE_OK || k == 0)
                continue;
            for (size_t r = 0; r < opt->n_runs; r++)
                sum[r] += est[r];
            used++;
        }
    }
    for (size_t r = 0; r < opt->n_runs; r++)
        mean_pct[r] = used ? 100 * sum[r] / (double)used : NAN;
    *n_rows = used;
    return ret;
}

/* A note for each run that is not finished: its unfinished task runs have no scores, so rows show "–" there. */
static int print_run_status(struct store *st, const struct compare_options *opt, FILE *out, struct ge_error *err)
{
    int ret = GE_OK;
    for (size_t r = 0; r < opt->n_runs && ret == GE_OK; r++) {
        struct store_run_info ri;
        ret = store_get_run(st, opt->run_ids[r], &ri, err);
        if (ret == GE_OK && ri.status != STORE_RUN_FINISHED)
            fprintf(out, "\nNote: run %lld is %s: task runs it has not finished have no scores and are shown "
                         "with \"–\".\n", (long long)opt->run_ids[r], store_run_status_name(ri.status));
        store_run_info_release(&ri);
    }
    return ret;
}

int compare_runs(struct store *st, const struct compare_options *opt, FILE *out, struct ge_error *err)
{
    if (opt->n_runs < 2 || opt->n_runs > COMPARE_MAX_RUNS)
        return ge_error_set(err, GE_ERR_USAGE, "compare needs 2 to %d runs", COMPARE_MAX_RUNS);
    if (opt->n_iters < 2 || opt->n_iters > STATS_MAX_ITERS)
        return ge_error_set(err, GE_ERR_USAGE, "--iters must be 2..%zu", STATS_MAX_ITERS);
    if (st->schema_version != SCHEMA_VERSION)
        return ge_error_set(err, GE_ERR_STATE, "%s: the database is at schema version %d; run 'glam-eval db migrate'",
                            st->path, st->schema_version);
    struct run_facts facts[COMPARE_MAX_RUNS] = {{0}};
    double mean_pct[COMPARE_MAX_RUNS];
    int ret = GE_OK;
    for (size_t i = 0; ret == GE_OK && i < opt->n_runs; i++) {
        ret = load_facts(st, opt->run_ids[i], &facts[i], err);
        mean_pct[i] = NAN;
    }
    if (ret == GE_OK)
        fprintf(out, "# Comparison of runs (database %s)\n\nPaired bootstrap: %zu iterations, seed %llu; documents "
                     "paired on task, shots, doc id and content hash. Scores in %%.\n",
                st->path, opt->n_iters, (unsigned long long)opt->seed);
    if (ret == GE_OK)
        ret = print_run_status(st, opt, out, err);
    for (size_t i = 1; ret == GE_OK && i < opt->n_runs; i++)
        ret = compare_pair(st, opt->run_ids[0], opt->run_ids[i], opt, out, err);
    size_t n_common = 0;
    if (ret == GE_OK)
        ret = common_means(st, opt, mean_pct, &n_common, err);
    if (ret == GE_OK) {
        fprintf(out, "\n## Models\n\nmean score: the mean over the %zu row%s (task, shots) every run evaluated, "
                     "each on the documents all %zu runs scored, so the means compare; score per GFLOP = mean score "
                     "/ GFLOPs per token.\n\n", n_common, n_common == 1 ? "" : "s", opt->n_runs);
        print_facts(out, opt->run_ids, facts, opt->n_runs, mean_pct);
    }
    for (size_t i = 0; i < opt->n_runs; i++)
        free(facts[i].model);
    if (ret == GE_OK && (fflush(out) != 0 || ferror(out)))
        ret = ge_error_set(err, GE_ERR_IO, "writing the comparison failed");
    return ret;
}
