/* evaluate.c — requests, execution and scoring of one task at one shot count (see evaluate.h). */
#include "config.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/clock.h"
#include "harness/evaluate.h"
#include "harness/sha256.h"
#include "harness/strbuf.h"
#include "harness/utf8.h"
#include "harness/xalloc.h"
#include "scoring/choice.h"
#include "scoring/stats.h"
#include "tasks/fewshot.h"

#define EVAL_DOC_BATCH 128 /* documents whose requests are inserted per transaction */
#define EVAL_MAX_SHOTS 256

static char *gen_settings_json(const struct task *t)
{
    cJSON *o = cJSON_CreateObject();
    cJSON *until = cJSON_AddArrayToObject(o, "until");
    for (int i = 0; i < TASK_MAX_UNTIL && t->until[i]; i++)
        cJSON_AddItemToArray(until, cJSON_CreateString(t->until[i]));
    cJSON_AddNumberToObject(o, "max_tokens", t->max_gen_tokens > 0 ? t->max_gen_tokens : 32);
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return s;
}

int evaluate_check_shots(const struct task *t, const struct dataset *eval, const struct dataset *pool, int k,
                         struct ge_error *err)
{
    if (k <= 0)
        return GE_OK;
    size_t pool_max = pool == NULL ? 0 : pool->n_docs - (pool == eval && pool->n_docs > 0);
    if ((size_t)k <= pool_max)
        return GE_OK;
    return ge_error_set(err, GE_ERR_USAGE, "%s: %d shots asked for, but its few-shot examples (the %s split, %s) are "
                        "only %zu", t->name, k, t->fewshot_split, pool ? pool->path : "not read", pool_max);
}

void evaluate_doc_requests_release(struct evaluate_doc_requests *r)
{
    for (size_t i = 0; i < r->n_owned; i++)
        free(r->owned[i]);
    memset(r, 0, sizeof *r);
}

/* Tokens of the longest request of document d with the few-shot prefix: context + continuation for multiple
 * choice, context + the generation budget for generation. */
static int longest_request_tokens(const struct evaluate_spec *spec, const struct task_doc *d,
                                  const struct strbuf *prefix, int64_t *longest, struct ge_error *err)
{
    const struct task *t = spec->task;
    size_t n = t->kind == TASK_MULTIPLE_CHOICE ? d->n_choices : 1;
    int rc = GE_OK;
    *longest = 0;
    for (size_t c = 0; c < n && rc == GE_OK; c++) {
        struct strbuf text;
        strbuf_init(&text, 0);
        rc = strbuf_append(&text, strbuf_str(prefix), prefix->len, err);
        if (rc == GE_OK)
            rc = strbuf_append_str(&text, d->contexts ? d->contexts[c] : d->query, err);
        if (rc == GE_OK && t->kind == TASK_MULTIPLE_CHOICE)
            rc = strbuf_append_str(&text, d->choices[c], err);
        int64_t n_tokens = 0;
        if (rc == GE_OK)
            rc = spec->count_tokens(spec->count_ctx, strbuf_str(&text), &n_tokens, err);
        if (t->kind == TASK_GENERATE)
            n_tokens += t->max_gen_tokens > 0 ? t->max_gen_tokens : 32;
        if (n_tokens > *longest)
            *longest = n_tokens;
        strbuf_release(&text);
    }
    return rc;
}

int evaluate_doc_requests(const struct evaluate_spec *spec, size_t i, const char *gen_json,
                          struct evaluate_doc_requests *out, struct ge_error *err)
{
    const struct task *t = spec->task;
    const struct task_doc *d = &spec->eval->docs[i];
    memset(out, 0, sizeof *out);
    size_t shots[EVAL_MAX_SHOTS];
    size_t n_shots = 0;
    size_t k = (size_t)spec->n_shots < EVAL_MAX_SHOTS ? (size_t)spec->n_shots : EVAL_MAX_SHOTS;
    const struct task_doc *pool = k > 0 ? spec->pool->docs : NULL; /* spec->pool may be NULL for 0 shots */
    size_t n_pool = k > 0 ? spec->pool->n_docs : 0;
    fewshot_choose(spec->seed, t->name, d->id, d->group, pool, n_pool, k, shots, &n_shots);
    struct strbuf prefix;
    strbuf_init(&prefix, 0);
    int rc = fewshot_prefix(t, pool, shots, n_shots, &prefix, err);
    while (rc == GE_OK && spec->count_tokens && n_shots > 0) {
        int64_t longest = 0;
        rc = longest_request_tokens(spec, d, &prefix, &longest, err);
        if (rc || longest <= spec->max_tokens)
            break;
        n_shots--;
        out->n_dropped++;
        strbuf_reset(&prefix);
        rc = fewshot_prefix(t, pool, shots, n_shots, &prefix, err);
    }
    out->n_shots = n_shots;
    cJSON *ids = cJSON_CreateArray();
    for (size_t s = 0; s < n_shots; s++)
        cJSON_AddItemToArray(ids, cJSON_CreateString(pool[shots[s]].id));
    char *ids_json = cJSON_PrintUnformatted(ids);
    cJSON_Delete(ids);
    out->owned[out->n_owned++] = ids_json;
    size_t n_ctx = t->kind == TASK_MULTIPLE_CHOICE ? d->n_choices : 1;
    for (size_t c = 0; c < n_ctx && rc == GE_OK; c++) {
        struct strbuf ctx;
        strbuf_init(&ctx, 0);
        rc = strbuf_append(&ctx, strbuf_str(&prefix), prefix.len, err);
        if (rc == GE_OK)
            rc = strbuf_append_str(&ctx, d->contexts ? d->contexts[c] : d->query, err);
        char *text = strbuf_detach(&ctx, NULL);
        out->owned[out->n_owned++] = text;
        if (t->kind == TASK_MULTIPLE_CHOICE)
            out->reqs[out->n++] = (struct store_request){.doc_index = (int64_t)i, .req_index = (int)c,
                                                         .type = STORE_REQ_LOGLIKELIHOOD, .context = text,
                                                         .continuation = d->choices[c], .fewshot_ids_json = ids_json};
        else
            out->reqs[out->n++] = (struct store_request){.doc_index = (int64_t)i, .req_index = 0,
                                                         .type = STORE_REQ_GENERATE, .context = text,
                                                         .gen_settings_json = gen_json, .fewshot_ids_json = ids_json};
    }
    if (t->kind == TASK_MULTIPLE_CHOICE && d->uncond_context)
        for (size_t c = 0; c < d->n_choices; c++)
            out->reqs[out->n++] = (struct store_request){.doc_index = (int64_t)i, .req_index = (int)(d->n_choices + c),
                                                         .type = STORE_REQ_LOGLIKELIHOOD, .context = d->uncond_context,
                                                         .continuation = d->choices[c], .fewshot_ids_json = "[]"};
    strbuf_release(&prefix);
    if (rc)
        evaluate_doc_requests_release(out);
    return rc;
}

char *evaluate_gen_settings_json(const struct task *t)
{
    return t->kind == TASK_GENERATE ? gen_settings_json(t) : NULL;
}

/* Builds and stores the documents of spec's shard among docs [from, to), with their requests, in one transaction. */
static int put_batch(struct store *st, int64_t task_run_id, const struct evaluate_spec *spec, size_t from, size_t to,
                     const char *gen_json, size_t *n_fewer_shots, struct ge_error *err)
{
    size_t n_docs = 0;
    struct store_document *docs = xcalloc(to - from, sizeof *docs);
    char (*hashes)[65] = xcalloc(to - from, sizeof *hashes);
    struct evaluate_doc_requests *dr = xcalloc(to - from, sizeof *dr);
    struct store_request *reqs = xcalloc((to - from) * 2 * TASK_MAX_CHOICES, sizeof *reqs);
    size_t n_req = 0;
    int rc = GE_OK;
    for (size_t i = from; i < to && rc == GE_OK; i++) {
        if (!evaluate_in_shard(spec, i))
            continue;
        const struct task_doc *d = &spec->eval->docs[i];
        task_doc_content_hash(d, hashes[n_docs]);
        docs[n_docs] = (struct store_document){.doc_index = (int64_t)i, .doc_id = d->id,
                                               .content_hash = hashes[n_docs]};
        rc = evaluate_doc_requests(spec, i, gen_json, &dr[n_docs], err);
        if (rc == GE_OK && dr[n_docs].n_dropped)
            (*n_fewer_shots)++;
        for (size_t r = 0; rc == GE_OK && r < dr[n_docs].n; r++)
            reqs[n_req++] = dr[n_docs].reqs[r];
        n_docs++;
    }
    if (rc == GE_OK && n_docs > 0)
        rc = store_begin(st, err);
    if (rc == GE_OK && n_docs > 0) {
        rc = store_put_documents(st, task_run_id, n_docs, docs, err);
        if (rc == GE_OK)
            rc = store_put_requests(st, task_run_id, n_req, reqs, err);
        if (rc == GE_OK)
            rc = store_commit(st, err);
        else
            store_rollback(st);
    }
    for (size_t i = 0; i < to - from; i++)
        evaluate_doc_requests_release(&dr[i]);
    free(dr);
    free(reqs);
    free(docs);
    free(hashes);
    return rc;
}

int evaluate_in_shard(const struct evaluate_spec *spec, size_t k)
{
    return spec->shard_count <= 1 || k % spec->shard_count == spec->shard_index;
}

int evaluate_metric(const char *name, const double *values, size_t n, struct store_metric *out, struct ge_error *err)
{
    double mean = 0, se = NAN;
    if (n == 0)
        return ge_error_set(err, GE_ERR_USAGE, "metric %s: no values to aggregate", name);
    int rc = stats_mean(values, n, &mean, err);
    if (rc == GE_OK && n >= 2)
        rc = stats_mean_stderr(values, n, &se, err);
    *out = (struct store_metric){.metric = name, .value = mean, .std_error = se,
                                 .stderr_method = isnan(se) ? NULL : "closed-form", .n = (int64_t)n};
    return rc;
}

/* Named per-document values of all documents: values[m * n_docs + i]. */
struct metric_table {
    const char *names[TASK_MAX_METRICS];
    size_t n_metrics;
    double *values;  /* (TASK_MAX_METRICS, n_docs): values of the k-th scored document at [m * n_docs + k] */
    size_t n_docs;
    size_t *scored;  /* (n_docs) indices of the documents scored, in order */
    size_t *pred;    /* (n_docs) predicted option of the k-th scored document (multiple choice) */
};

static int metric_slot(struct metric_table *mt, const char *name)
{
    for (size_t i = 0; i < mt->n_metrics; i++)
        if (strcmp(mt->names[i], name) == 0)
            return (int)i;
    if (mt->n_metrics == TASK_MAX_METRICS)
        return -1;
    mt->names[mt->n_metrics] = name;
    return (int)mt->n_metrics++;
}

/* The choice text lm-eval measures: without the target delimiter (scoring/choice.h). */
static const char *choice_text(const char *s)
{
    return s[0] == ' ' ? s + 1 : s;
}

static size_t choice_chars(const char *s)
{
    s = choice_text(s);
    return utf8_count_chars(s, strlen(s));
}

static int score_doc(const struct task *t, const struct task_doc *d, const struct store_response_list *resp,
                     struct task_doc_scores *out, size_t *pred, struct ge_error *err)
{
    out->n = 0;
    *pred = 0;
    if (t->kind == TASK_GENERATE) {
        if (resp->n < 1)
            return ge_error_set(err, GE_ERR_STATE, "document %s has no response", d->id);
        if (resp->items[0].error)
            return ge_error_set(err, GE_ERR_STATE, "document %s: the model gave no answer: %s", d->id,
                                resp->items[0].error);
        return t->score_generation(d, resp->items[0].text ? resp->items[0].text : "", out, err);
    }
    size_t need = d->n_choices * (d->uncond_context ? 2 : 1);
    if (resp->n < need)
        return ge_error_set(err, GE_ERR_STATE, "document %s has %zu responses, expected %zu", d->id, resp->n, need);
    struct choice_value cv[TASK_MAX_CHOICES];
    for (size_t c = 0; c < d->n_choices; c++) {
        const struct store_response *r = &resp->items[c];
        if (r->error)
            return ge_error_set(err, GE_ERR_STATE, "document %s option %zu: %s", d->id, c, r->error);
        cv[c] = (struct choice_value){.logprob = r->logprob,
                                      .uncond_logprob = d->uncond_context ? resp->items[d->n_choices + c].logprob : NAN,
                                      .n_tokens = (size_t)r->n_tokens, .n_chars = choice_chars(d->choices[c]),
                                      .n_bytes = strlen(choice_text(d->choices[c]))};
    }
    struct choice_doc doc = {.choices = cv, .n_choices = d->n_choices, .gold = d->gold, .n_gold = d->n_gold};
    int prc = choice_predict(&doc, CHOICE_VARIANT_ACC, pred, err);
    if (prc)
        return ge_error_prefix(err, "document %s: ", d->id);
    static const struct { enum choice_variant v; const char *name; } variants[] = {
        {CHOICE_VARIANT_ACC, "acc"}, {CHOICE_VARIANT_NORM, "acc_norm"}, {CHOICE_VARIANT_TOKEN, "acc_per_token"},
        {CHOICE_VARIANT_UNCOND, "acc_uncond"}};
    for (size_t k = 0; k < sizeof variants / sizeof variants[0]; k++) {
        if (variants[k].v == CHOICE_VARIANT_UNCOND && !d->uncond_context)
            continue;
        int correct = 0;
        int rc = choice_correct(&doc, variants[k].v, &correct, err);
        if (rc)
            return ge_error_prefix(err, "document %s: ", d->id);
        out->name[out->n] = variants[k].name;
        out->value[out->n++] = correct;
    }
    if (d->choice_labels && t->score_generation) { /* the predicted option's label, scored as an answer */
        struct task_doc_scores extra = {0};
        int rc = t->score_generation(d, d->choice_labels[*pred], &extra, err);
        if (rc)
            return ge_error_prefix(err, "document %s: ", d->id);
        for (size_t k = 0; k < extra.n && out->n < TASK_MAX_METRICS; k++) {
            out->name[out->n] = extra.name[k];
            out->value[out->n++] = extra.value[k];
        }
    }
    return GE_OK;
}

/* One set-level metric of a task over a resample of the scored documents' units (stats_aggregate_fn's ctx).
 * Invariant: the documents of unit u are positions members[start[u] .. start[u + 1]) of idx/pred. */
struct agg_boot {
    const struct task *t;
    const struct task_doc *docs;
    const size_t *idx, *pred; /* (n) the scored documents and their predicted options, in doc_index order */
    size_t *members;          /* (n) owned: positions into idx/pred, grouped by unit in first-appearance order */
    size_t *start;            /* (n_units + 1) owned */
    size_t n_units;
    size_t *r_idx, *r_pred, *r_copy; /* owned scratch: one resample (at most n_units * the largest unit entries);
                                        r_copy: the k-th unit drawn is copy k */
    const char *metric;       /* the aggregate output bootstrapped */
};

static int agg_boot_stat(const size_t *sample, size_t n_sample, void *ctx, double *value, struct ge_error *err)
{
    struct agg_boot *b = ctx;
    size_t n = 0;
    for (size_t k = 0; k < n_sample; k++)
        for (size_t m = b->start[sample[k]]; m < b->start[sample[k] + 1]; m++) {
            b->r_idx[n] = b->idx[b->members[m]];
            b->r_copy[n] = k;
            b->r_pred[n++] = b->pred[b->members[m]];
        }
    struct task_doc_scores out = {0};
    int rc = b->t->aggregate(b->docs, b->r_idx, b->r_pred, b->r_copy, n, &out, err);
    for (size_t k = 0; rc == GE_OK && k < out.n; k++)
        if (strcmp(out.name[k], b->metric) == 0) {
            *value = out.value[k];
            return GE_OK;
        }
    return rc != GE_OK ? rc : ge_error_set(err, GE_ERR_STATE, "%s: a resample has no %s", b->t->name, b->metric);
}

struct unit_key {
    char *key;    /* owned */
    size_t first; /* position of the unit's first document */
    size_t pos;   /* this document's position */
};

static int unit_key_cmp(const void *x, const void *y)
{
    const struct unit_key *a = x, *b = y;
    int c = strcmp(a->key, b->key);
    return c ? c : (a->pos > b->pos) - (a->pos < b->pos);
}

static int unit_first_cmp(const void *x, const void *y)
{
    const struct unit_key *a = x, *b = y;
    if (a->first != b->first)
        return (a->first > b->first) - (a->first < b->first);
    return (a->pos > b->pos) - (a->pos < b->pos);
}

/* Fills b->members, b->start and b->n_units: the documents grouped by t->aggregate_unit (one unit per document
 * without it), units in order of their first document, documents in doc_index order within a unit; *largest gets
 * the size of the largest unit. */
static int group_units(const struct task *t, const struct task_doc *docs, const size_t *idx, size_t n,
                       struct agg_boot *b, size_t *largest, struct ge_error *err)
{
    b->members = xcalloc(n ? n : 1, sizeof *b->members);
    b->start = xcalloc(n + 1, sizeof *b->start);
    struct unit_key *u = xcalloc(n ? n : 1, sizeof *u);
    int rc = GE_OK;
    for (size_t i = 0; i < n && rc == GE_OK; i++) {
        const char *id = docs[idx[i]].id;
        size_t cap = strlen(id) + 24;
        u[i].key = xmalloc(cap);
        u[i].pos = i;
        if (t->aggregate_unit)
            rc = t->aggregate_unit(id, u[i].key, cap, err);
        else
            snprintf(u[i].key, cap, "%zu", i);
    }
    if (rc == GE_OK) {
        qsort(u, n, sizeof *u, unit_key_cmp);
        for (size_t i = 0, j; i < n; i = j) { /* a unit's first position is its smallest */
            for (j = i; j < n && strcmp(u[j].key, u[i].key) == 0; j++)
                u[j].first = u[i].pos;
        }
        qsort(u, n, sizeof *u, unit_first_cmp);
        *largest = 0;
        for (size_t i = 0, j; i < n; i = j) {
            b->start[b->n_units++] = i;
            for (j = i; j < n && u[j].first == u[i].first; j++)
                b->members[j] = u[j].pos;
            *largest = j - i > *largest ? j - i : *largest;
        }
        b->start[b->n_units] = n;
    }
    for (size_t i = 0; i < n; i++)
        free(u[i].key);
    free(u);
    return rc;
}

int evaluate_aggregate_metrics(const struct task *t, const struct task_doc *docs, const size_t *idx,
                               const size_t *pred, size_t n, struct store_metric *out, size_t cap, size_t *n_out,
                               struct ge_error *err)
{
    *n_out = 0;
    struct task_doc_scores agg = {0};
    if (n == 0)
        return GE_OK;
    int rc = t->aggregate(docs, idx, pred, NULL, n, &agg, err);
    struct agg_boot b = {.t = t, .docs = docs, .idx = idx, .pred = pred};
    size_t largest = 0;
    if (rc == GE_OK)
        rc = group_units(t, docs, idx, n, &b, &largest, err);
    if (rc == GE_OK) {
        b.r_idx = xcalloc(b.n_units * largest, sizeof(size_t));
        b.r_pred = xcalloc(b.n_units * largest, sizeof(size_t));
        b.r_copy = xcalloc(b.n_units * largest, sizeof(size_t));
    }
    for (size_t k = 0; rc == GE_OK && k < agg.n && *n_out < cap; k++) {
        double se = NAN;
        if (b.n_units >= 2) {
            struct stats_bootstrap_result br;
            b.metric = agg.name[k];
            rc = stats_bootstrap(b.n_units, agg_boot_stat, &b, EVALUATE_AGG_BOOT_ITERS, EVALUATE_AGG_BOOT_SEED, &br,
                                 err);
            se = rc == GE_OK ? br.std_error : NAN;
        }
        out[(*n_out)++] = (struct store_metric){.metric = agg.name[k], .value = agg.value[k], .std_error = se,
                                                .stderr_method = isnan(se) ? NULL : "bootstrap-1000",
                                                .n = (int64_t)n};
    }
    free(b.r_idx);
    free(b.r_pred);
    free(b.r_copy);
    free(b.members);
    free(b.start);
    return rc;
}

static int score_all(struct store *st, int64_t task_run_id, const struct evaluate_spec *spec, size_t n_docs,
                     struct evaluate_result *res, struct ge_error *err)
{
    const struct task *t = spec->task;
    struct metric_table mt = {.n_docs = n_docs};
    mt.values = xcalloc(TASK_MAX_METRICS * n_docs, sizeof *mt.values);
    mt.scored = xcalloc(n_docs ? n_docs : 1, sizeof *mt.scored);
    mt.pred = xcalloc(n_docs ? n_docs : 1, sizeof *mt.pred);
    /* + 2: a task with an aggregate also stores each document's aggregate inputs (EVALUATE_AGG_PRED/GOLD) */
    struct store_score *scores = xcalloc(n_docs * (TASK_MAX_METRICS + 2), sizeof *scores);
    size_t n_scores = 0, n_scored = 0, n_in_shard = 0;
    int rc = GE_OK;
    for (size_t i = 0; i < n_docs && rc == GE_OK; i++) {
        if (!evaluate_in_shard(spec, i))
            continue;
        n_in_shard++;
        struct store_response_list list = {0};
        struct task_doc_scores ds = {0};
        rc = store_get_doc_responses(st, task_run_id, (int64_t)i, &list, err);
        const char *why = NULL;
        for (size_t r = 0; rc == GE_OK && r < list.n && !why; r++)
            why = list.items[r].error;
        if (rc == GE_OK && why) {
            /* The model could not answer this document (its error is stored with the response): it counts as
             * unscored, never as wrong. */
            if (res->n_failed < 3)
                fprintf(stderr, "glam-eval: warning: %s document %s not scored: %s\n", t->name,
                        spec->eval->docs[i].id, why);
            res->n_failed++;
            store_response_list_release(&list);
            continue;
        }
        int cut = 0; /* the runtime left-truncated a prompt of this document to fit the window */
        for (size_t r = 0; rc == GE_OK && r < list.n; r++)
            cut |= list.items[r].truncated == 1;
        res->n_truncated += (size_t)cut;
        size_t pred = 0;
        if (rc == GE_OK)
            rc = score_doc(t, &spec->eval->docs[i], &list, &ds, &pred, err);
        store_response_list_release(&list);
        if (rc == GE_OK) {
            mt.pred[n_scored] = pred;
            mt.scored[n_scored++] = i;
        }
        for (size_t k = 0; rc == GE_OK && k < ds.n; k++) {
            int slot = metric_slot(&mt, ds.name[k]);
            if (slot < 0) {
                rc = ge_error_set(err, GE_ERR_LIMIT, "%s: more than %d metrics", t->name, TASK_MAX_METRICS);
                break;
            }
            mt.values[(size_t)slot * n_docs + (n_scored - 1)] = ds.value[k];
            scores[n_scores++] = (struct store_score){.doc_index = (int64_t)i, .metric = ds.name[k], .value = ds.value[k]};
        }
        if (rc == GE_OK && t->aggregate) {
            const struct task_doc *d = &spec->eval->docs[i];
            if (d->n_gold != 1) {
                rc = ge_error_set(err, GE_ERR_FORMAT, "%s document %s: a task with an aggregate metric needs "
                                  "exactly one gold option, found %zu", t->name, d->id, d->n_gold);
                break;
            }
            scores[n_scores++] = (struct store_score){.doc_index = (int64_t)i, .metric = EVALUATE_AGG_PRED,
                                                      .value = (double)pred};
            scores[n_scores++] = (struct store_score){.doc_index = (int64_t)i, .metric = EVALUATE_AGG_GOLD,
                                                      .value = (double)d->gold[0]};
        }
    }
    if (rc == GE_OK)
        rc = store_put_scores(st, task_run_id, n_scores, scores, err);
    struct store_metric metrics[TASK_MAX_METRICS];
    for (size_t m = 0; rc == GE_OK && m < mt.n_metrics && n_scored > 0; m++) {
        rc = evaluate_metric(mt.names[m], mt.values + m * n_docs, n_scored, &metrics[m], err);
        if (rc == GE_OK && strcmp(mt.names[m], t->primary_metric) == 0) {
            snprintf(res->metric, sizeof res->metric, "%s", mt.names[m]);
            res->value = metrics[m].value;
            res->std_error = metrics[m].std_error;
            res->n = n_scored;
        }
    }
    /* A shard may hold no document of a small task (e.g. --limit 2 --shard 2/3): that is an empty part, not
     * an error; merge combines it with the others. */
    if (rc == GE_OK && n_scored == 0 && n_in_shard > 0)
        rc = ge_error_set(err, GE_ERR_STATE, "%s: no document could be scored (%zu failed)", t->name, res->n_failed);
    size_t n_metrics = mt.n_metrics, n_agg = 0;
    if (rc == GE_OK && t->aggregate)
        rc = evaluate_aggregate_metrics(t, spec->eval->docs, mt.scored, mt.pred, n_scored, metrics + n_metrics,
                                        TASK_MAX_METRICS - n_metrics, &n_agg, err);
    for (size_t k = n_metrics; rc == GE_OK && k < n_metrics + n_agg; k++)
        if (strcmp(metrics[k].metric, t->primary_metric) == 0) {
            snprintf(res->metric, sizeof res->metric, "%s", metrics[k].metric);
            res->value = metrics[k].value;
            res->std_error = metrics[k].std_error;
            res->n = n_scored;
        }
    n_metrics += n_agg;
    if (rc == GE_OK)
        rc = store_put_metrics(st, task_run_id, n_metrics, metrics, err);
    for (size_t m = 0; rc == GE_OK && m < n_metrics; m++) {
        res->all_names[m] = metrics[m].metric;
        res->all_values[m] = metrics[m].value;
    }
    res->n_all = rc == GE_OK ? n_metrics : 0;
    free(mt.values);
    free(mt.scored);
    free(mt.pred);
    free(scores);
    return rc;
}

/* Documents of spec's split that the run evaluates (before sharding): all, or the first --limit. */
static size_t evaluate_n_docs(const struct evaluate_spec *spec)
{
    size_t n_docs = spec->eval->n_docs;
    return spec->limit && spec->limit < n_docs ? spec->limit : n_docs;
}

int evaluate_prepare(struct store *st, int64_t run_id, const struct evaluate_spec *spec, int64_t *task_run_id,
                     struct evaluate_result *out, struct ge_error *err)
{
    const struct task *t = spec->task;
    memset(out, 0, sizeof *out);
    out->value = NAN;
    out->std_error = NAN;
    size_t n_docs = evaluate_n_docs(spec);
    cJSON *hashes = cJSON_CreateObject();
    cJSON_AddStringToObject(hashes, spec->eval->path, spec->eval->sha256);
    /* The files the requests are built from: a 0-shot task run never reads the pool, so its hash is left out
     * even when the caller loaded it, and the row is the same whether or not the few-shot file exists. */
    if (spec->n_shots > 0 && spec->pool != spec->eval)
        cJSON_AddStringToObject(hashes, spec->pool->path, spec->pool->sha256);
    char *hashes_json = cJSON_PrintUnformatted(hashes);
    cJSON_Delete(hashes);
    char variants_json[256], shard_json[64] = "", skipped_json[64] = "";
    if (spec->shard_count > 1) /* merge (results/merge.c) removes this key when it combines the shards */
        snprintf(shard_json, sizeof shard_json, ",\"shard\":\"%zu/%zu\"", spec->shard_index, spec->shard_count);
    if (spec->eval->n_skipped > 0) /* malformed records of the evaluated split, skipped (not --strict) */
        snprintf(skipped_json, sizeof skipped_json, ",\"skipped_records\":%zu", spec->eval->n_skipped);
    snprintf(variants_json, sizeof variants_json, "{\"primary\":\"%s\",\"fewshot_seed\":%llu,\"limit\":%zu%s%s}",
             t->primary_metric, (unsigned long long)spec->seed, spec->limit, shard_json, skipped_json);
    struct store_task_run tr = {.run_id = run_id, .task = t->name, .task_version = t->version,
                                .n_shots = spec->n_shots, .split = t->eval_split, .dataset_hashes_json = hashes_json,
                                .metric_variants_json = variants_json, .started_at = spec->started_at};
    enum store_task_status status;
    int rc = store_find_task_run(st, &tr, task_run_id, &status, err);
    free(hashes_json);
    if (rc)
        return rc;
    char *gen_json = evaluate_gen_settings_json(t);
    for (size_t from = 0; rc == GE_OK && from < n_docs; from += EVAL_DOC_BATCH) {
        size_t to = from + EVAL_DOC_BATCH < n_docs ? from + EVAL_DOC_BATCH : n_docs;
        rc = put_batch(st, *task_run_id, spec, from, to, gen_json, &out->n_fewer_shots, err);
    }
    free(gen_json);
    if (rc)
        return ge_error_prefix(err, "%s %d-shot: ", t->name, spec->n_shots);
    return GE_OK;
}

int evaluate_finish(struct store *st, int64_t task_run_id, const struct evaluate_spec *spec,
                    struct evaluate_result *out, struct ge_error *err)
{
    int rc = score_all(st, task_run_id, spec, evaluate_n_docs(spec), out, err);
    char now[CLOCK_ISO8601_CAP];
    if (rc == GE_OK)
        rc = store_set_task_status(st, task_run_id, STORE_TASK_FINISHED, clock_iso8601_now(now), err);
    if (rc)
        ge_error_prefix(err, "%s %d-shot: ", spec->task->name, spec->n_shots);
    return rc;
}

int evaluate_task(struct store *st, int64_t run_id, const char *model_hash, struct model *m,
                  const struct evaluate_spec *spec, const struct runloop_options *loop_in, struct evaluate_result *out,
                  struct ge_error *err)
{
    int64_t task_run_id = 0;
    int rc = evaluate_prepare(st, run_id, spec, &task_run_id, out, err);
    if (rc)
        return rc;
    char label[96];
    snprintf(label, sizeof label, "%s %d-shot", spec->task->name, spec->n_shots);
    struct runloop_task task = {.task_run_id = task_run_id, .label = label};
    rc = runloop_execute_pool(st, model_hash, m, loop_in, &task, 1, err);
    out->n_from_model = task.stats.n_from_model;
    out->n_from_cache = task.stats.n_from_cache;
    if (rc)
        return ge_error_prefix(err, "%s %d-shot: ", spec->task->name, spec->n_shots);
    return evaluate_finish(st, task_run_id, spec, out, err);
}
