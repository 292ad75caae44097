/* report.c — GLaM's table rows, GLaM's averages, and reading a report's columns from the results database (see
 * report.h).
 *
 * Invariants: rows[] is GLaM's order with 9 NLG and 21 NLU rows; a column exists only when at least one of its cells
 * is present; a cell is filled from exactly one stored number (a metrics row of a task run, or a published_scores
 * row). Like merge.c this file reads with raw, constant statements on the store's connection (it is part of the
 * results layer and uses store_int.h), and finalizes every statement in the function that prepared it. */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness/xalloc.h"
#include "results/report.h"
#include "results/schema.h"
#include "results/store_int.h"
#include "tasks/registry.h"

/* GLaM's table order (Du et al. 2022, its per-task tables). metric NULL = the task's primary metric
 * (tasks/<name>.c), resolved by row_metric(). */
static const struct report_row rows[] = {
    {"triviaqa", "em", "TriviaQA", "em", REPORT_NLG},
    {"nq_open", "em", "NQs", "em", REPORT_NLG},
    {"webqs", "em", "WebQS", "em", REPORT_NLG},
    {"lambada", "em", "LAMBADA", "acc", REPORT_NLG},
    {"hellaswag", NULL, "HellaSwag", "acc", REPORT_NLU},
    {"storycloze", NULL, "StoryCloze", "acc", REPORT_NLU},
    {"wsc273", NULL, "Winograd", "acc", REPORT_NLU},
    {"winogrande", NULL, "WinoGrande", "acc", REPORT_NLU},
    {"drop", "f1", "DROP", "f1", REPORT_NLG},
    {"coqa", "f1", "CoQA", "f1", REPORT_NLG},
    {"quac", "f1", "QuAC", "f1", REPORT_NLG},
    {"squad_v2", "f1", "SQuADv2 (F1)", "f1", REPORT_NLG},
    {"squad_v2", "em", "SQuADv2 (EM)", "em", REPORT_NLG},
    {"race_middle", NULL, "RACE-m", "acc", REPORT_NLU},
    {"race_high", NULL, "RACE-h", "acc", REPORT_NLU},
    {"piqa", NULL, "PIQA", "acc", REPORT_NLU},
    {"arc_easy", NULL, "ARC-e", "acc", REPORT_NLU},
    {"arc_challenge", NULL, "ARC-c", "acc", REPORT_NLU},
    {"openbookqa", NULL, "OpenbookQA", "acc", REPORT_NLU},
    {"boolq", NULL, "BoolQ", "acc", REPORT_NLU},
    {"copa", NULL, "COPA", "acc", REPORT_NLU},
    {"rte", NULL, "RTE", "acc", REPORT_NLU},
    {"wic", NULL, "WiC", "acc", REPORT_NLU},
    {"multirc", NULL, "MultiRC", "f1a", REPORT_NLU},
    {"wsc", NULL, "WSC", "acc", REPORT_NLU},
    {"record", NULL, "ReCoRD", "acc", REPORT_NLU},
    {"cb", NULL, "CB", "acc", REPORT_NLU},
    {"anli_r1", NULL, "ANLI R1", "acc", REPORT_NLU},
    {"anli_r2", NULL, "ANLI R2", "acc", REPORT_NLU},
    {"anli_r3", NULL, "ANLI R3", "acc", REPORT_NLU},
    {"gsm8k", NULL, "GSM8K", "acc", REPORT_OTHER},
};
#define N_ROWS (sizeof rows / sizeof rows[0])

size_t report_n_rows(void)
{
    return N_ROWS;
}

/* Rows with metric NULL take the registered task's primary metric (so the two can never disagree). */
static const char *row_metric(const struct report_row *r)
{
    if (r->metric)
        return r->metric;
    const struct task *t = task_find(r->task);
    return t ? t->primary_metric : "acc";
}

const struct report_row *report_row_at(size_t i)
{
    return i < N_ROWS ? &rows[i] : NULL;
}

const char *report_row_metric(size_t i)
{
    return i < N_ROWS ? row_metric(&rows[i]) : NULL;
}

long report_row_find(const char *task, const char *metric)
{
    for (size_t i = 0; i < N_ROWS; i++)
        if (strcmp(rows[i].task, task) == 0 && strcmp(row_metric(&rows[i]), metric) == 0)
            return (long)i;
    return -1;
}

/* A published cell names the paper's metric: SQuADv2's two rows are told apart by it, every other task has one row. */
static long row_find_published(const char *task, const char *metric)
{
    for (size_t i = 0; i < N_ROWS; i++)
        if (strcmp(rows[i].task, task) == 0 &&
            (strcmp(task, "squad_v2") != 0 || strcmp(row_metric(&rows[i]), metric) == 0))
            return (long)i;
    return -1;
}

void report_glam_averages(const double *row_values, const int *row_partial, struct report_avg *nlg,
                          struct report_avg *nlu, struct report_avg *all)
{
    double sum_g = 0, sum_u = 0;
    *nlg = (struct report_avg){.value = NAN, .n_expected = 0};
    *nlu = (struct report_avg){.value = NAN, .n_expected = 0};
    for (size_t i = 0; i < N_ROWS; i++) {
        struct report_avg *a = rows[i].group == REPORT_NLG ? nlg : rows[i].group == REPORT_NLU ? nlu : NULL;
        if (a == NULL)
            continue;
        a->n_expected++;
        if (!isnan(row_values[i])) {
            *(a == nlg ? &sum_g : &sum_u) += row_values[i];
            a->n_present++;
            a->n_partial += row_partial && row_partial[i];
        }
    }
    if (nlg->n_present)
        nlg->value = sum_g / (double)nlg->n_present;
    if (nlu->n_present)
        nlu->value = sum_u / (double)nlu->n_present;
    if (all) {
        all->n_present = nlg->n_present + nlu->n_present;
        all->n_expected = nlg->n_expected + nlu->n_expected;
        all->n_partial = nlg->n_partial + nlu->n_partial;
        all->value = all->n_present ? (sum_g + sum_u) / (double)all->n_present : NAN;
    }
}

const char *report_avg_status(const struct report_avg *a, char *buf, size_t cap)
{
    if (report_avg_complete(a) || a->n_present == 0)
        snprintf(buf, cap, "%s", "");
    else if (a->n_present == a->n_expected) /* every number there, some from unfinished or one-shard task runs */
        snprintf(buf, cap, "PARTIAL (%zu of %zu partial)", a->n_partial, a->n_present);
    else if (a->n_partial)
        snprintf(buf, cap, "INCOMPLETE (%zu of %zu, %zu partial)", a->n_present, a->n_expected, a->n_partial);
    else
        snprintf(buf, cap, "INCOMPLETE (%zu of %zu)", a->n_present, a->n_expected);
    return buf;
}

const char *report_setting_name(const struct report_column *c, char *buf, size_t cap)
{
    switch (c->setting) {
    case REPORT_ZERO: snprintf(buf, cap, "zero-shot"); break;
    case REPORT_ONE: snprintf(buf, cap, "one-shot"); break;
    case REPORT_FEW: snprintf(buf, cap, "few-shot"); break;
    case REPORT_KSHOT: snprintf(buf, cap, "%d-shot", c->k); break;
    }
    return buf;
}

int report_parse_format(const char *name, enum report_format *out, struct ge_error *err)
{
    static const struct { const char *name; enum report_format f; } names[] = {
        {"md", REPORT_MD}, {"csv", REPORT_CSV}, {"tex", REPORT_TEX}, {"json", REPORT_JSON}, {"html", REPORT_HTML}};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(name, names[i].name) == 0) {
            *out = names[i].f;
            return GE_OK;
        }
    return ge_error_set(err, GE_ERR_USAGE, "--format: \"%s\" is not md, csv, tex, json or html", name);
}

static void column_release(struct report_column *c)
{
    free(c->model);
    free(c->label);
    free(c->source);
    free(c->cells);
}

void report_release(struct report *r)
{
    if (r == NULL)
        return;
    for (size_t i = 0; i < r->n_columns; i++)
        column_release(&r->columns[i]);
    free(r->columns);
    free(r->db_path);
    free(r->notes);
    memset(r, 0, sizeof *r);
}

/* What every column of one run shares. */
struct run_meta {
    int64_t run_id;
    const char *model, *label, *source; /* borrowed from the statement that read them */
    int64_t n_params, n_active_params;
    double flops_per_token;
};

/* The column of (run, setting, k) among columns [first, r->n_columns), added when absent. */
static int column_get(struct report *r, size_t first, const struct run_meta *m, enum report_setting setting, int k,
                      struct report_column **out, struct ge_error *err)
{
    for (size_t i = first; i < r->n_columns; i++)
        if (r->columns[i].setting == setting && (setting != REPORT_KSHOT || r->columns[i].k == k)) {
            *out = &r->columns[i];
            return GE_OK;
        }
    if (r->n_columns == REPORT_MAX_COLUMNS)
        return ge_error_set(err, GE_ERR_LIMIT, "%s: a report has at most %d columns (runs × shot settings)",
                            r->db_path, REPORT_MAX_COLUMNS);
    r->columns = xrealloc(r->columns, (r->n_columns + 1) * sizeof *r->columns);
    struct report_column *c = &r->columns[r->n_columns++];
    memset(c, 0, sizeof *c);
    c->run_id = m->run_id;
    c->model = xstrdup(m->model ? m->model : "?");
    c->label = m->label ? xstrdup(m->label) : NULL;
    c->source = m->source ? xstrdup(m->source) : NULL;
    c->published = m->label != NULL;
    c->n_params = m->n_params;
    c->n_active_params = m->n_active_params;
    c->flops_per_token = m->flops_per_token;
    c->setting = setting;
    c->k = setting == REPORT_KSHOT ? k : 0;
    c->cells = xcalloc(N_ROWS, sizeof *c->cells);
    c->published_nlg = c->published_nlu = c->published_all = NAN;
    *out = c;
    return GE_OK;
}

static int setting_order(const void *a, const void *b)
{
    const struct report_column *x = a, *y = b;
    if (x->setting != y->setting)
        return (int)x->setting - (int)y->setting;
    return x->k - y->k;
}

/* Sets value, K, split and partial; every document count starts unknown (REPORT_UNKNOWN), as for a paper's cell. */
static void cell_set(struct report_cell *cell, double value, double se, int k, const char *split, int partial)
{
    memset(cell, 0, sizeof *cell);
    cell->present = 1;
    cell->value = value;
    cell->std_error = se;
    cell->n = cell->n_truncated = cell->n_fewer_shots = cell->n_failed = REPORT_UNKNOWN;
    cell->n_documents = cell->n_split = REPORT_UNKNOWN;
    cell->n_shots = k;
    snprintf(cell->split, sizeof cell->split, "%s", split ? split : "");
    cell->partial = partial;
}

/* One row per (task run, metric). The per-task-run counts are computed once (MATERIALIZED), not once per metric.
 * A scored document is one with per-example score rows: score_all (harness/evaluate.c) stores them for every
 * document it scores and for no failed one, so "has a scores row" is the set the metric's n counts (a set-level
 * metric such as MultiRC's F1a has no row of its own, but its documents have their acc and _pred/_gold rows).
 * The cut and fewer-shots counts are over scored documents only: a failed document changed no score, and
 * counting it let "(N cut)" exceed n. A document used fewer examples than K when none of its requests carries K
 * few-shot ids (ARC's and OpenBookQA's unconditional requests carry none by design, so the test is on the
 * request with the most). */
static const char SQL_RUN_CELLS[] =
    "WITH tr AS MATERIALIZED (SELECT t.id, t.task, t.n_shots, t.split, t.status, "
    "json_extract(t.metric_variants, '$.shard') IS NOT NULL AS sharded, "
    "json_extract(t.metric_variants, '$.limit') AS lim, "
    "(SELECT count(*) FROM documents d WHERE d.task_run_id = t.id) AS n_docs, "
    "(SELECT count(*) FROM documents d WHERE d.task_run_id = t.id "
    " AND EXISTS (SELECT 1 FROM scores sc WHERE sc.task_run_id = t.id AND sc.doc_index = d.doc_index) "
    " AND EXISTS (SELECT 1 FROM requests q JOIN responses s ON s.request_id = q.id "
    "  WHERE q.task_run_id = t.id AND q.doc_index = d.doc_index AND s.truncated = 1)) AS n_cut, "
    "(SELECT count(*) FROM documents d WHERE d.task_run_id = t.id AND t.n_shots > 0 "
    " AND EXISTS (SELECT 1 FROM scores sc WHERE sc.task_run_id = t.id AND sc.doc_index = d.doc_index) "
    " AND NOT EXISTS (SELECT 1 FROM requests q WHERE q.task_run_id = t.id AND q.doc_index = d.doc_index "
    "  AND json_array_length(q.fewshot_ids) >= t.n_shots)) AS n_fewer, "
    "(SELECT count(*) FROM documents d WHERE d.task_run_id = t.id "
    " AND EXISTS (SELECT 1 FROM requests q JOIN responses s ON s.request_id = q.id "
    "  WHERE q.task_run_id = t.id AND q.doc_index = d.doc_index AND s.error IS NOT NULL)) AS n_failed "
    "FROM task_runs t WHERE t.run_id = ?1) "
    "SELECT t.task, t.n_shots, t.split, t.status, t.sharded, m.metric, m.value, m.std_error, m.n, "
    "t.n_cut, t.n_fewer, t.n_failed, t.n_docs, t.lim "
    "FROM tr t JOIN metrics m ON m.task_run_id = t.id ORDER BY t.id, m.metric";

/* Columns of a run evaluated by glam-eval: one per shot setting found. */
static int load_run_cells(struct store *st, struct report *r, size_t first, const struct run_meta *m,
                          struct ge_error *err)
{
    sqlite3_stmt *q = NULL;
    int ret = GE_OK, rc = sqlite3_prepare_v2(st->db, SQL_RUN_CELLS, -1, &q, NULL);
    if (rc != SQLITE_OK)
        return store_fail(st, rc, "reading a run's metrics", err);
    sqlite3_bind_int64(q, 1, m->run_id);
    while (ret == GE_OK && (rc = sqlite3_step(q)) == SQLITE_ROW) {
        const char *task = (const char *)sqlite3_column_text(q, 0);
        const char *metric = (const char *)sqlite3_column_text(q, 5);
        long row = report_row_find(task, metric);
        const struct task *t = task_find(task);
        if (row < 0 || t == NULL)
            continue; /* a secondary metric (acc_norm, ...) or a task this program no longer knows */
        int k = sqlite3_column_int(q, 1);
        int partial = strcmp((const char *)sqlite3_column_text(q, 3), "finished") != 0 || sqlite3_column_int(q, 4);
        double se = sqlite3_column_type(q, 7) == SQLITE_NULL ? NAN : sqlite3_column_double(q, 7);
        /* A cell can belong to two settings: K = 1 is both one-shot and GLaM's few-shot for TriviaQA, CoQA, QuAC. */
        enum report_setting settings[2];
        size_t n_settings = 0;
        if (k == 0)
            settings[n_settings++] = REPORT_ZERO;
        if (k == 1)
            settings[n_settings++] = REPORT_ONE;
        if (k == t->glam_shots)
            settings[n_settings++] = REPORT_FEW;
        if (n_settings == 0)
            settings[n_settings++] = REPORT_KSHOT;
        for (size_t s = 0; s < n_settings && ret == GE_OK; s++) {
            struct report_column *c = NULL;
            ret = column_get(r, first, m, settings[s], k, &c, err);
            if (ret != GE_OK)
                break;
            struct report_cell *cell = &c->cells[row];
            cell_set(cell, sqlite3_column_double(q, 6), se, k, (const char *)sqlite3_column_text(q, 2), partial);
            cell->n = sqlite3_column_int64(q, 8);
            cell->n_truncated = sqlite3_column_int64(q, 9);
            cell->n_fewer_shots = sqlite3_column_int64(q, 10);
            cell->n_failed = sqlite3_column_int64(q, 11);
            cell->n_documents = sqlite3_column_int64(q, 12);
            /* The split's size is not stored; the documents are the whole split when no --limit was set (0) or
               the split ran out before it, and no shard took a part. */
            int64_t limit = sqlite3_column_int64(q, 13);
            if (!sqlite3_column_int(q, 4) && (limit <= 0 || cell->n_documents < limit))
                cell->n_split = cell->n_documents;
        }
    }
    if (ret == GE_OK && rc != SQLITE_DONE)
        ret = store_fail(st, rc, "reading a run's metrics", err);
    sqlite3_finalize(q);
    /* A K-shot column (run --shots 4) also holds the tasks whose GLaM K is that K (WiC at 4): they went to the
       few-shot column above, but belong to both, as K = 1 does to one-shot and few-shot. */
    const struct report_column *few = NULL;
    for (size_t i = first; ret == GE_OK && i < r->n_columns; i++)
        if (r->columns[i].setting == REPORT_FEW)
            few = &r->columns[i];
    for (size_t i = first; ret == GE_OK && few && i < r->n_columns; i++) {
        struct report_column *c = &r->columns[i];
        if (c->setting != REPORT_KSHOT)
            continue;
        for (size_t row = 0; row < N_ROWS; row++)
            if (few->cells[row].present && few->cells[row].n_shots == c->k && !c->cells[row].present)
                c->cells[row] = few->cells[row];
    }
    return ret;
}

static const char SQL_PUBLISHED_CELLS[] =
    "SELECT task, metric, setting, n_shots, split, value FROM published_scores WHERE run_id = ?1 ORDER BY id";

/* Columns of a published reference run: the paper's zero/one/few-shot columns and its printed averages. */
static int load_published_cells(struct store *st, struct report *r, size_t first, const struct run_meta *m,
                                struct ge_error *err)
{
    sqlite3_stmt *q = NULL;
    int ret = GE_OK, rc = sqlite3_prepare_v2(st->db, SQL_PUBLISHED_CELLS, -1, &q, NULL);
    if (rc != SQLITE_OK)
        return store_fail(st, rc, "reading published scores", err);
    sqlite3_bind_int64(q, 1, m->run_id);
    while (ret == GE_OK && (rc = sqlite3_step(q)) == SQLITE_ROW) {
        const char *task = (const char *)sqlite3_column_text(q, 0);
        const char *metric = (const char *)sqlite3_column_text(q, 1);
        const char *setting = (const char *)sqlite3_column_text(q, 2);
        enum report_setting s = strcmp(setting, "zero") == 0 ? REPORT_ZERO
                                : strcmp(setting, "one") == 0 ? REPORT_ONE : REPORT_FEW;
        int is_avg = strncmp(task, "avg_", 4) == 0;
        long row = is_avg ? -1 : row_find_published(task, metric);
        if (!is_avg && row < 0)
            continue; /* a benchmark that is not one of GLaM's rows */
        struct report_column *c = NULL;
        ret = column_get(r, first, m, s, 0, &c, err);
        if (ret != GE_OK)
            break;
        double v = sqlite3_column_double(q, 5);
        if (is_avg)
            *(strcmp(task, "avg_nlg") == 0 ? &c->published_nlg
              : strcmp(task, "avg_nlu") == 0 ? &c->published_nlu : &c->published_all) = v;
        else
            cell_set(&c->cells[row], v, NAN, sqlite3_column_int(q, 3), (const char *)sqlite3_column_text(q, 4),
                     0); /* a paper states no counts: they stay REPORT_UNKNOWN */
    }
    if (ret == GE_OK && rc != SQLITE_DONE)
        ret = store_fail(st, rc, "reading published scores", err);
    sqlite3_finalize(q);
    return ret;
}

static const char SQL_RUN_PROGRESS[] =
    "SELECT r.status, (SELECT count(*) FROM task_runs t WHERE t.run_id = r.id), "
    "(SELECT count(DISTINCT m.task_run_id) FROM metrics m JOIN task_runs t ON t.id = m.task_run_id "
    "WHERE t.run_id = r.id) FROM runs r WHERE r.id = ?1 AND r.id NOT IN (SELECT run_id FROM published_runs)";

/* Adds a line to r->notes when run_id (not a published run) is not finished: how many of its task runs have
 * metrics, and how to resume it. */
static int note_unfinished(struct store *st, struct report *r, int64_t run_id, struct ge_error *err)
{
    sqlite3_stmt *q = NULL;
    int ret = GE_OK, rc = sqlite3_prepare_v2(st->db, SQL_RUN_PROGRESS, -1, &q, NULL);
    if (rc != SQLITE_OK)
        return store_fail(st, rc, "reading a run's status", err);
    sqlite3_bind_int64(q, 1, run_id);
    rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
        const char *status = (const char *)sqlite3_column_text(q, 0);
        if (strcmp(status, "finished") != 0) {
            char line[512];
            snprintf(line, sizeof line, "run %lld is not finished (status %s%s): %d of its %d task runs scored; its "
                     "columns are missing or partial (resume it with 'glam-eval run --resume %lld' and the same "
                     "options)\n", (long long)run_id, status,
                     strcmp(status, "running") == 0 ? ": still in progress, or killed" : "",
                     sqlite3_column_int(q, 2), sqlite3_column_int(q, 1), (long long)run_id);
            size_t have = r->notes ? strlen(r->notes) : 0, add = strlen(line);
            r->notes = xrealloc(r->notes, have + add + 1);
            memcpy(r->notes + have, line, add + 1);
        }
    } else if (rc != SQLITE_DONE) {
        ret = store_fail(st, rc, "reading a run's status", err);
    }
    sqlite3_finalize(q);
    return ret;
}

static const char SQL_RUN_META[] =
    "SELECT m.name, m.n_params, m.n_active_params, m.flops_per_token, p.label, p.source "
    "FROM runs r JOIN models m ON m.id = r.model_id LEFT JOIN published_runs p ON p.run_id = r.id WHERE r.id = ?1";

static int load_run(struct store *st, struct report *r, int64_t run_id, struct ge_error *err)
{
    sqlite3_stmt *q = NULL;
    int ret = GE_OK, rc = sqlite3_prepare_v2(st->db, SQL_RUN_META, -1, &q, NULL);
    if (rc != SQLITE_OK)
        return store_fail(st, rc, "reading a run", err);
    sqlite3_bind_int64(q, 1, run_id);
    rc = sqlite3_step(q);
    if (rc == SQLITE_DONE) {
        ret = ge_error_set(err, GE_ERR_NOTFOUND, "%s: there is no run %lld", st->path, (long long)run_id);
        goto out;
    }
    if (rc != SQLITE_ROW) {
        ret = store_fail(st, rc, "reading a run", err);
        goto out;
    }
    struct run_meta m = {
        .run_id = run_id,
        .model = (const char *)sqlite3_column_text(q, 0),
        .n_params = sqlite3_column_type(q, 1) == SQLITE_NULL ? -1 : sqlite3_column_int64(q, 1),
        .n_active_params = sqlite3_column_type(q, 2) == SQLITE_NULL ? -1 : sqlite3_column_int64(q, 2),
        .flops_per_token = sqlite3_column_type(q, 3) == SQLITE_NULL ? NAN : sqlite3_column_double(q, 3),
        .label = (const char *)sqlite3_column_text(q, 4),
        .source = (const char *)sqlite3_column_text(q, 5),
    };
    size_t first = r->n_columns;
    ret = m.label ? load_published_cells(st, r, first, &m, err) : load_run_cells(st, r, first, &m, err);
    if (ret == GE_OK && r->n_columns > first) /* a run with no metric yet has no column (and columns may be NULL) */
        qsort(&r->columns[first], r->n_columns - first, sizeof *r->columns, setting_order);
out:
    sqlite3_finalize(q);
    return ret;
}

/* Appends every run id a statement yields (one int64 column, optional text parameter 1). */
static int collect_ids(struct store *st, const char *sql, const char *param, int64_t *ids, size_t cap, size_t *n,
                       struct ge_error *err)
{
    sqlite3_stmt *q = NULL;
    int ret = GE_OK, rc = sqlite3_prepare_v2(st->db, sql, -1, &q, NULL);
    if (rc != SQLITE_OK)
        return store_fail(st, rc, "listing runs", err);
    if (param)
        sqlite3_bind_text(q, 1, param, -1, SQLITE_STATIC);
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        if (*n == cap) {
            ret = ge_error_set(err, GE_ERR_LIMIT, "%s: a report takes at most %d runs; name them with --run",
                               st->path, REPORT_MAX_RUNS);
            break;
        }
        ids[(*n)++] = sqlite3_column_int64(q, 0);
    }
    if (ret == GE_OK && rc != SQLITE_DONE)
        ret = store_fail(st, rc, "listing runs", err);
    sqlite3_finalize(q);
    return ret;
}

int report_load(struct store *st, const struct report_request *req, struct report *out, struct ge_error *err)
{
    int64_t ids[REPORT_MAX_RUNS];
    size_t n_ids = 0;
    int ret = GE_OK;
    memset(out, 0, sizeof *out);
    out->db_path = xstrdup(st->path);
    if (st->schema_version != SCHEMA_VERSION) {
        ret = ge_error_set(err, GE_ERR_STATE, "%s: the database is at schema version %d; run 'glam-eval db migrate "
                           "--db %s' to bring it to version %d", st->path, st->schema_version, st->path,
                           SCHEMA_VERSION);
        goto out;
    }
    if (req->n_run_ids + req->n_labels > REPORT_MAX_RUNS) {
        ret = ge_error_set(err, GE_ERR_LIMIT, "a report takes at most %d runs", REPORT_MAX_RUNS);
        goto out;
    }
    for (size_t i = 0; i < req->n_run_ids; i++)
        ids[n_ids++] = req->run_ids[i];
    if (req->n_run_ids == 0) /* every run of the user's, with or without published ones beside them */
        ret = collect_ids(st, "SELECT id FROM runs WHERE id NOT IN (SELECT run_id FROM published_runs) ORDER BY id",
                          NULL, ids, REPORT_MAX_RUNS, &n_ids, err);
    for (size_t i = 0; ret == GE_OK && i < req->n_labels; i++) {
        size_t before = n_ids;
        ret = collect_ids(st, "SELECT run_id FROM published_runs WHERE label = ?1", req->labels[i], ids,
                          REPORT_MAX_RUNS, &n_ids, err);
        if (ret == GE_OK && n_ids == before)
            ret = ge_error_set(err, GE_ERR_NOTFOUND, "%s: no published run is labelled \"%s\" (import them with "
                               "'glam-eval import published'; 'glam-eval import published --list' shows the labels)",
                               st->path, req->labels[i]);
    }
    if (ret == GE_OK && n_ids == 0)
        ret = ge_error_set(err, GE_ERR_NOTFOUND, "%s: the database holds no run of yours (a published reference "
                           "run is reported with --against LABEL)", st->path);
    size_t n_unique = 0; /* a run named twice (--run 1 --run 1) is one column */
    for (size_t i = 0; i < n_ids; i++) {
        size_t j = 0;
        while (j < n_unique && ids[j] != ids[i])
            j++;
        if (j == n_unique)
            ids[n_unique++] = ids[i];
    }
    n_ids = n_unique;
    for (size_t i = 0; ret == GE_OK && i < n_ids; i++) {
        ret = load_run(st, out, ids[i], err);
        if (ret == GE_OK)
            ret = note_unfinished(st, out, ids[i], err);
    }
    for (size_t i = 0; ret == GE_OK && i < out->n_columns; i++) {
        struct report_column *c = &out->columns[i];
        double v[N_ROWS];
        int partial[N_ROWS];
        for (size_t k = 0; k < N_ROWS; k++) {
            v[k] = c->cells[k].present ? c->cells[k].value : NAN;
            partial[k] = c->cells[k].present && c->cells[k].partial;
        }
        report_glam_averages(v, partial, &c->nlg, &c->nlu, &c->all);
    }
out:
    if (ret != GE_OK)
        report_release(out);
    return ret;
}
