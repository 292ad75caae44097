/* test_aggregate_boot.c — the bootstrap standard error of a task's set-level metrics
 * (harness/evaluate.h evaluate_aggregate_metrics).
 *
 * A test task whose aggregate checks what every resample hands it: with aggregate_unit each unit (question) comes
 * whole or not at all, without it documents are drawn one by one (so partial units appear). Also: the numbers are
 * a function of the documents only (the same call twice, and the same documents numbered differently, as merge
 * rebuilds them, give identical standard errors); fewer than 2 units give no standard error; and MultiRC's real
 * aggregate gets a standard error for F1a and EM close to the binomial one of per-question EM when every question
 * is all right or all wrong. */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/evaluate.h"
#include "tasks/registry.h"
#include "tests/tap.h"

#define N_Q 40   /* questions */
#define PER_Q 3  /* answer options per question */
#define N (N_Q * PER_Q)

/* What the probe aggregate saw (tests are single-threaded). */
static struct {
    size_t calls;
    size_t partial;   /* resamples in which some unit was present with fewer members than it has */
} seen;

/* The unit of "q-a": "q". */
static int probe_unit(const char *doc_id, char *key, size_t cap, struct ge_error *err)
{
    const char *dash = strchr(doc_id, '-');
    if (dash == NULL)
        return ge_error_set(err, GE_ERR_FORMAT, "no dash in %s", doc_id);
    snprintf(key, cap, "%.*s", (int)(dash - doc_id), doc_id);
    return GE_OK;
}

/* Counts, per question, the documents of a resample; a question present with a count that is not a multiple of
 * PER_Q was split. Its value: the share of predictions equal to gold. */
static int probe_aggregate(const struct task_doc *docs, const size_t *idx, const size_t *pred, const size_t *copy,
                           size_t n, struct task_doc_scores *out, struct ge_error *err)
{
    (void)err;
    (void)copy;
    size_t count[N_Q] = {0}, right = 0;
    for (size_t k = 0; k < n; k++) {
        count[atoi(docs[idx[k]].id)]++;
        right += pred[k] == docs[idx[k]].gold[0];
    }
    int split = 0;
    for (size_t q = 0; q < N_Q; q++)
        split |= count[q] % PER_Q != 0;
    seen.calls++;
    seen.partial += (size_t)split;
    out->name[0] = "share";
    out->value[0] = n ? (double)right / (double)n : 0;
    out->n = 1;
    return GE_OK;
}

/* docs numbered from `base` (a run's doc_index vs merge's rebuilt positions), ids "q-a". */
static void make_docs(struct task_doc *docs, size_t *idx, size_t *pred, size_t base, int all_or_none)
{
    static char ids[N][16];
    for (size_t i = 0; i < N; i++) {
        snprintf(ids[i], sizeof ids[i], "%zu-%zu", i / PER_Q, i);
        docs[base + i] = (struct task_doc){.id = ids[i], .n_gold = 1};
        docs[base + i].gold[0] = i % 2;
        idx[i] = base + i;
        /* all_or_none: every option of an even question right, of an odd one wrong; else a mix */
        pred[i] = all_or_none ? ((i / PER_Q) % 2 == 0 ? i % 2 : 1 - i % 2) : (i % 5 == 0 ? 1 - i % 2 : i % 2);
    }
}

int main(void)
{
    static struct task_doc docs[2 * N];
    size_t idx[N], pred[N];
    struct ge_error err = {0};
    struct task probe = {.name = "probe", .aggregate = probe_aggregate, .aggregate_unit = probe_unit};
    struct store_metric m[4], m2[4];
    size_t n_m = 0, n_m2 = 0;

    make_docs(docs, idx, pred, 0, 0);
    memset(&seen, 0, sizeof seen);
    int rc = evaluate_aggregate_metrics(&probe, docs, idx, pred, N, m, 4, &n_m, &err);
    tap_ok(rc == GE_OK && n_m == 1, "with units: one metric (%s)", err.msg);
    tap_ok(seen.calls > EVALUATE_AGG_BOOT_ITERS, "the aggregate ran on every resample (%zu calls)", seen.calls);
    tap_is_int((long long)seen.partial, 0, "with units: no resample splits a question");
    tap_ok(n_m == 1 && m[0].std_error > 0 && strcmp(m[0].stderr_method, "bootstrap-1000") == 0,
           "a bootstrap standard error is stored (%g, %s)", n_m ? m[0].std_error : NAN,
           n_m && m[0].stderr_method ? m[0].stderr_method : "none");
    tap_is_double(m[0].value, 1.0 - 24.0 / N, 1e-12, "the value is the aggregate of all documents");
    tap_is_int(m[0].n, N, "n is the number of documents");

    /* the same documents at other positions (merge numbers them 0..n-1; a run by doc_index) */
    make_docs(docs, idx, pred, N, 0);
    rc = evaluate_aggregate_metrics(&probe, docs, idx, pred, N, m2, 4, &n_m2, &err);
    tap_ok(rc == GE_OK && n_m2 == 1 && m2[0].std_error == m[0].std_error,
           "the same documents numbered differently: the identical standard error (%.17g, %.17g)",
           n_m2 ? m2[0].std_error : NAN, m[0].std_error);

    struct task per_doc = probe;
    per_doc.aggregate_unit = NULL;
    make_docs(docs, idx, pred, 0, 0);
    memset(&seen, 0, sizeof seen);
    rc = evaluate_aggregate_metrics(&per_doc, docs, idx, pred, N, m2, 4, &n_m2, &err);
    tap_ok(rc == GE_OK && seen.partial > 0, "without units: documents are drawn one by one (%zu of %zu resamples "
           "split a question)", seen.partial, seen.calls);

    rc = evaluate_aggregate_metrics(&probe, docs, idx, pred, PER_Q, m2, 4, &n_m2, &err);
    tap_ok(rc == GE_OK && n_m2 == 1 && isnan(m2[0].std_error) && m2[0].stderr_method == NULL,
           "one unit: no standard error");
    rc = evaluate_aggregate_metrics(&probe, docs, idx, pred, 0, m2, 4, &n_m2, &err);
    tap_ok(rc == GE_OK && n_m2 == 0, "no document: no metric");

    /* MultiRC's own aggregate: per-question EM is 1 for the 20 even questions and 0 for the 20 odd ones, so its
     * bootstrap standard error over questions is near sqrt(p (1 - p) / Q) = 0.079. */
    const struct task *mr = task_find("multirc");
    static char ids[N][32];
    for (size_t i = 0; i < N; i++)
        snprintf(ids[i], sizeof ids[i], "0-%zu-%zu", i / PER_Q, i);
    make_docs(docs, idx, pred, 0, 1);
    for (size_t i = 0; i < N; i++)
        docs[i].id = ids[i];
    rc = mr ? evaluate_aggregate_metrics(mr, docs, idx, pred, N, m, 4, &n_m, &err) : GE_ERR_NOTFOUND;
    double em_se = NAN, f1_se = NAN, em = NAN;
    for (size_t k = 0; rc == GE_OK && k < n_m; k++) {
        if (strcmp(m[k].metric, "em") == 0) {
            em_se = m[k].std_error;
            em = m[k].value;
        }
        if (strcmp(m[k].metric, "f1a") == 0)
            f1_se = m[k].std_error;
    }
    tap_is_double(em, 0.5, 1e-12, "multirc: EM 0.5 (%s)", rc ? err.msg : "");
    tap_ok(fabs(em_se - sqrt(0.25 / N_Q)) < 0.015, "multirc: EM's standard error %.4f is near %.4f", em_se,
           sqrt(0.25 / N_Q));
    tap_ok(f1_se > 0 && f1_se < 0.2, "multirc: F1a has a standard error (%.4f)", f1_se);
    return tap_done();
}
