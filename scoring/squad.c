/* squad.c — SQuAD per-question EM/F1 and the official v2.0 file scorer (rules and formats in squad.h).
 *
 * The file scorer reads the whole dataset into a struct squad_data (ids in first-seen order, raw gold texts),
 * reads the predictions (predictions.h) and the optional no-answer probabilities, scores every question once,
 * and then aggregates exactly as evaluate-v2.0.py: raw scores, the threshold pass, the overall/HasAns/NoAns
 * means, and the best-threshold search. Functions appear in that order. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scoring/id_index.h"
#include "scoring/jsonl.h"
#include "scoring/normalize.h"
#include "scoring/predictions.h"
#include "scoring/score_json.h"
#include "scoring/squad.h"

/* ---- per question ------------------------------------------------------------------------------------------ */

int squad_score_question(enum squad_version version, const char *pred, const char *const *golds, size_t n_golds,
                         double *em, double *f1, struct ge_error *err)
{
    struct strbuf pred_norm, gold_norm;
    struct token_list pred_toks = {0}, gold_toks = {0};
    int rc = GE_OK;
    int empty_rule = version == SQUAD_V2_0 || version == SQUAD_OPEN_QA;
    *em = 0.0;
    *f1 = 0.0;
    if (version == SQUAD_V1_1 && n_golds == 0)
        return ge_error_set(err, GE_ERR_USAGE, "SQuAD v1.1 scoring needs at least one gold answer");
    strbuf_init(&pred_norm, 0);
    strbuf_init(&gold_norm, 0);
    if ((rc = squad_normalize(pred, &pred_norm, err)) != GE_OK)
        goto out;
    if ((rc = token_list_split(strbuf_str(&pred_norm), &pred_toks, err)) != GE_OK)
        goto out;
    size_t n_used = 0;
    for (size_t i = 0; i < n_golds; i++) {
        if ((rc = squad_normalize(golds[i], &gold_norm, err)) != GE_OK)
            goto out;
        if (version == SQUAD_V2_0 && gold_norm.len == 0)
            continue; /* v2.0 drops golds that normalise to nothing */
        n_used++;
        if (strcmp(strbuf_str(&gold_norm), strbuf_str(&pred_norm)) == 0)
            *em = 1.0;
        if ((rc = token_list_split(strbuf_str(&gold_norm), &gold_toks, err)) != GE_OK)
            goto out;
        double f = token_f1(&pred_toks, &gold_toks, empty_rule);
        token_list_release(&gold_toks);
        if (f > *f1)
            *f1 = f;
    }
    if (n_used == 0) {
        /* v2.0 with no usable gold: the only correct answer is "" (normalised: nothing, no tokens). */
        *em = pred_norm.len == 0 ? 1.0 : 0.0;
        *f1 = pred_toks.n_tok == 0 ? 1.0 : 0.0;
    }
out:
    token_list_release(&pred_toks);
    token_list_release(&gold_toks);
    strbuf_release(&pred_norm);
    strbuf_release(&gold_norm);
    return rc;
}

/* ---- dataset ----------------------------------------------------------------------------------------------- */

/* The questions of one dataset file. Invariant: golds[i] belongs to ids.keys[i]; n_golds[i] == 0 means the raw
 * answer list was empty (a NoAns question). */
struct squad_data {
    struct id_index ids; /* question ids in first-seen order */
    char ***golds;       /* owned: golds[i] is an owned array of n_golds[i] owned answer texts */
    size_t *n_golds;     /* owned: number of raw answers of question i */
    size_t cap;          /* allocated entries of golds and n_golds */
};

static void data_init(struct squad_data *d)
{
    id_index_init(&d->ids, 0);
    d->golds = NULL;
    d->n_golds = NULL;
    d->cap = 0;
}

static void free_golds(char **golds, size_t n)
{
    for (size_t j = 0; j < n; j++)
        free(golds[j]);
    free(golds);
}

static void data_release(struct squad_data *d)
{
    for (size_t i = 0; i < d->ids.n_keys; i++)
        free_golds(d->golds[i], d->n_golds[i]);
    free(d->golds);
    free(d->n_golds);
    id_index_release(&d->ids);
    data_init(d);
}

/* Enters question id with the answer texts of answers (a JSON array whose items are turned into strings by
 * text_of). A repeated id replaces the earlier answers, as the script's dicts do. */
static int data_put(struct squad_data *d, const char *id, const cJSON *answers,
                    const char *(*text_of)(const cJSON *item), struct ge_error *err)
{
    size_t n = (size_t)cJSON_GetArraySize(answers);
    char **golds = NULL;
    if (n > 0 && (golds = calloc(n, sizeof *golds)) == NULL)
        return ge_error_set(err, GE_ERR_NOMEM, "out of memory for %zu answers", n);
    size_t j = 0;
    for (const cJSON *a = answers->child; a; a = a->next, j++) {
        const char *t = text_of(a);
        if (t == NULL) {
            free_golds(golds, j);
            return ge_error_set(err, GE_ERR_FORMAT, "question \"%s\": answer %zu has no text string", id, j);
        }
        if ((golds[j] = strdup(t)) == NULL) {
            free_golds(golds, j);
            return ge_error_set(err, GE_ERR_NOMEM, "out of memory copying an answer");
        }
    }
    /* Make room for a new id before entering it, so an entered id always has its slots. */
    if (d->ids.n_keys >= d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 256;
        char ***g = realloc(d->golds, cap * sizeof *g);
        if (g != NULL)
            d->golds = g;
        size_t *ng = g ? realloc(d->n_golds, cap * sizeof *ng) : NULL;
        if (ng == NULL) {
            free_golds(golds, n);
            return ge_error_set(err, GE_ERR_NOMEM, "out of memory for %zu questions", cap);
        }
        d->n_golds = ng;
        d->cap = cap;
    }
    size_t i;
    int added;
    int rc = id_index_put(&d->ids, id, &i, &added, err);
    if (rc) {
        free_golds(golds, n);
        return rc;
    }
    if (!added)
        free_golds(d->golds[i], d->n_golds[i]);
    d->golds[i] = golds;
    d->n_golds[i] = n;
    return GE_OK;
}

static const char *official_answer_text(const cJSON *a)
{
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(a, "text");
    return cJSON_IsString(t) ? t->valuestring : NULL;
}

static const char *plain_string(const cJSON *a)
{
    return cJSON_IsString(a) ? a->valuestring : NULL;
}

/* Borrows the array called key of obj, or fails naming where it was looked for. */
static int get_array(const cJSON *obj, const char *key, const cJSON **out, const char *where, struct ge_error *err)
{
    *out = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!cJSON_IsArray(*out))
        return ge_error_set(err, GE_ERR_FORMAT, "%s: field \"%s\" is %s", where, key,
                            *out ? "not an array" : "missing");
    return GE_OK;
}

static int official_fn(void *ctx, const cJSON *root, size_t line_no, struct ge_error *err)
{
    struct squad_data *d = ctx;
    const cJSON *data, *paragraphs, *qas, *answers;
    char where[96];
    int rc = get_array(root, "data", &data, "top level", err);
    if (rc)
        return rc;
    size_t ai = 0;
    for (const cJSON *art = data->child; art; art = art->next, ai++) {
        snprintf(where, sizeof where, "data[%zu]", ai);
        if ((rc = get_array(art, "paragraphs", &paragraphs, where, err)) != GE_OK)
            return rc;
        size_t pi = 0;
        for (const cJSON *par = paragraphs->child; par; par = par->next, pi++) {
            snprintf(where, sizeof where, "data[%zu].paragraphs[%zu]", ai, pi);
            if ((rc = get_array(par, "qas", &qas, where, err)) != GE_OK)
                return rc;
            size_t qi = 0;
            for (const cJSON *qa = qas->child; qa; qa = qa->next, qi++) {
                snprintf(where, sizeof where, "data[%zu].paragraphs[%zu].qas[%zu]", ai, pi, qi);
                const cJSON *id = cJSON_GetObjectItemCaseSensitive(qa, "id");
                if (!cJSON_IsString(id))
                    return ge_error_set(err, GE_ERR_FORMAT, "%s: field \"id\" is %s", where,
                                        id ? "not a string" : "missing");
                if ((rc = get_array(qa, "answers", &answers, where, err)) != GE_OK)
                    return rc;
                if ((rc = data_put(d, id->valuestring, answers, official_answer_text, err)) != GE_OK)
                    return ge_error_prefix(err, "%s: ", where);
            }
        }
    }
    return GE_OK;
}

static int jsonl_fn(void *ctx, const cJSON *rec, size_t line_no, struct ge_error *err)
{
    struct squad_data *d = ctx;
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(rec, "id");
    const cJSON *answers = cJSON_GetObjectItemCaseSensitive(rec, "answers");
    const cJSON *text = cJSON_GetObjectItemCaseSensitive(answers, "text");
    if (!cJSON_IsString(id))
        return ge_error_set(err, GE_ERR_FORMAT, "field \"id\" is %s", id ? "not a string" : "missing");
    if (!cJSON_IsArray(text))
        return ge_error_set(err, GE_ERR_FORMAT, "field \"answers.text\" is %s", text ? "not an array" : "missing");
    return data_put(d, id->valuestring, text, plain_string, err);
}

static int data_load(const char *path, struct squad_data *d, struct ge_error *err)
{
    int rc = json_or_jsonl_file_load(path, SQUAD_FILE_LIMIT, "data", official_fn, jsonl_fn, d, err);
    if (rc == GE_OK && d->ids.n_keys == 0)
        rc = ge_error_set(err, GE_ERR_FORMAT, "%s: no questions", path);
    return rc;
}

/* ---- no-answer probabilities ------------------------------------------------------------------------------- */

/* The --na-prob-file: {"qid": probability}, in file order (the order Python's stable sort keeps for ties). */
struct na_probs {
    struct id_index ids; /* qids in first-seen order */
    double *prob;        /* owned: prob[i] for ids.keys[i] (a repeated key keeps its last value) */
    size_t cap;          /* allocated entries of prob */
};

static int na_fn(void *ctx, const cJSON *root, size_t line_no, struct ge_error *err)
{
    struct na_probs *na = ctx;
    if (!cJSON_IsObject(root))
        return ge_error_set(err, GE_ERR_FORMAT, "no-answer probabilities must be a JSON object {\"qid\": number}");
    for (const cJSON *it = root->child; it; it = it->next) {
        if (!cJSON_IsNumber(it))
            return ge_error_set(err, GE_ERR_FORMAT, "value of \"%s\" is not a number", it->string);
        size_t i;
        int added;
        int rc = id_index_put(&na->ids, it->string, &i, &added, err);
        if (rc)
            return rc;
        if (i >= na->cap) {
            size_t cap = na->cap ? na->cap * 2 : 256;
            double *p = realloc(na->prob, cap * sizeof *p);
            if (p == NULL)
                return ge_error_set(err, GE_ERR_NOMEM, "out of memory for %zu probabilities", cap);
            na->prob = p;
            na->cap = cap;
        }
        na->prob[i] = it->valuedouble;
    }
    return GE_OK;
}

/* ---- aggregation ------------------------------------------------------------------------------------------- */

/* Per-question results, indexed like the dataset. */
struct raw_scores {
    double *exact;  /* owned: raw EM of question i (before the threshold pass) */
    double *f1;     /* owned: raw F1 */
    int *scored;    /* owned: 1 when question i is in the script's exact_scores dict */
    int *pred_true; /* owned: 1 when the raw prediction text is non-empty (Python truthiness) */
};

/* Appends exact, f1 and total (with a key prefix) over the scored questions selected by has (-1 = all). */
static void add_means(cJSON *obj, const char *prefix, const struct squad_data *d, const double *ex, const double *f1,
                      const int *scored, int has)
{
    double se = 0.0, sf = 0.0;
    long long total = 0;
    for (size_t i = 0; i < d->ids.n_keys; i++) {
        if (!scored[i] || (has >= 0 && (d->n_golds[i] > 0) != has))
            continue;
        se += ex[i];
        sf += f1[i];
        total++;
    }
    char key[32];
    snprintf(key, sizeof key, "%sexact", prefix);
    score_json_add_double(obj, key, 100.0 * se / (double)total);
    snprintf(key, sizeof key, "%sf1", prefix);
    score_json_add_double(obj, key, 100.0 * sf / (double)total);
    snprintf(key, sizeof key, "%stotal", prefix);
    score_json_add_count(obj, key, total);
}


/* A na-prob entry for sorting: ties keep file order (Python's sorted() is stable). */
struct prob_entry {
    double prob;  /* the question's no-answer probability */
    size_t index; /* its position in the na-prob file */
};

static int cmp_prob_entry(const void *a, const void *b)
{
    const struct prob_entry *x = a, *y = b;
    if (x->prob != y->prob)
        return x->prob < y->prob ? -1 : 1;
    return x->index < y->index ? -1 : x->index > y->index;
}

/* find_best_thresh: walk the na-prob file's questions from the least to the most likely no-answer, as if the
 * threshold were placed after each, and keep the best total score (in percent) and its threshold. The walk
 * starts from "answer nothing" (every NoAns question right) and stops scoring only at strict improvements. */
static void best_threshold(const struct squad_data *d, const struct na_probs *na, const struct prob_entry *order,
                           const double *raw, const struct raw_scores *r, size_t n_scored, double *best_pct,
                           double *best_thresh)
{
    double cur = 0.0;
    for (size_t i = 0; i < d->ids.n_keys; i++)
        cur += d->n_golds[i] == 0;
    double best = cur;
    *best_thresh = 0.0;
    for (size_t k = 0; k < na->ids.n_keys; k++) {
        size_t qi;
        if (!id_index_find(&d->ids, na->ids.keys[order[k].index], &qi) || !r->scored[qi])
            continue;
        if (d->n_golds[qi] > 0)
            cur += raw[qi];
        else
            cur += r->pred_true[qi] ? -1.0 : 0.0;
        if (cur > best) {
            best = cur;
            *best_thresh = order[k].prob;
        }
    }
    *best_pct = 100.0 * best / (double)n_scored;
}

int squad_v2_score_files_opts(const char *dataset_path, const char *predictions_path,
                              const struct squad_v2_options *opts, struct strbuf *out_json, struct ge_error *err)
{
    static const struct squad_v2_options defaults = SQUAD_V2_OPTIONS_DEFAULT;
    struct squad_data d;
    struct predictions p;
    struct na_probs na = {.prob = NULL, .cap = 0};
    struct raw_scores r = {0};
    double *ex_t = NULL, *f1_t = NULL;
    struct prob_entry *order = NULL;
    cJSON *obj = NULL;
    if (opts == NULL)
        opts = &defaults;
    data_init(&d);
    predictions_init(&p);
    id_index_init(&na.ids, 0);
    int rc = data_load(dataset_path, &d, err);
    if (rc)
        goto out;
    if ((rc = predictions_load_json_object(predictions_path, &p, err)) != GE_OK)
        goto out;
    if (opts->na_prob_path &&
        (rc = json_file_parse(opts->na_prob_path, PREDICTIONS_FILE_LIMIT, na_fn, &na, err)) != GE_OK)
        goto out;

    size_t n = d.ids.n_keys; /* > 0, checked by data_load; bounded by the id limit */
    r.exact = calloc(n, sizeof *r.exact);
    r.f1 = calloc(n, sizeof *r.f1);
    r.scored = calloc(n, sizeof *r.scored);
    r.pred_true = calloc(n, sizeof *r.pred_true);
    ex_t = calloc(n, sizeof *ex_t);
    f1_t = calloc(n, sizeof *f1_t);
    if (!r.exact || !r.f1 || !r.scored || !r.pred_true || !ex_t || !f1_t) {
        rc = ge_error_set(err, GE_ERR_NOMEM, "out of memory scoring %zu questions", n);
        goto out;
    }

    /* get_raw_scores */
    size_t n_missing = 0, first_missing = 0, n_scored = 0;
    for (size_t i = 0; i < n; i++) {
        size_t k;
        if (!predictions_find(&p, d.ids.keys[i], &k)) {
            if (n_missing++ == 0)
                first_missing = i;
            if (!opts->missing_as_zero)
                continue;
            r.scored[i] = 1; /* v1.1 rule: counted, scored 0, and an empty answer for the threshold search */
            n_scored++;
            continue;
        }
        if (p.text[k] == NULL) {
            rc = ge_error_set(err, GE_ERR_FORMAT, "%s: the prediction for \"%s\" is not a string", predictions_path,
                              d.ids.keys[i]);
            goto out;
        }
        rc = squad_score_question(SQUAD_V2_0, p.text[k], (const char *const *)d.golds[i], d.n_golds[i], &r.exact[i],
                                  &r.f1[i], err);
        if (rc) {
            ge_error_prefix(err, "question \"%s\": ", d.ids.keys[i]);
            goto out;
        }
        r.scored[i] = 1;
        r.pred_true[i] = p.text[k][0] != '\0';
        n_scored++;
    }
    if (n_missing > 0 && !opts->missing_as_zero) {
        rc = ge_error_set(err, GE_ERR_FORMAT,
                          "%s: no prediction for question \"%s\" (%zu of %zu questions have none; the official "
                          "evaluate-v2.0.py cannot score such a file either)",
                          predictions_path, d.ids.keys[first_missing], n_missing, n);
        goto out;
    }

    /* apply_no_ans_threshold */
    size_t n_has = 0;
    for (size_t i = 0; i < n; i++) {
        n_has += d.n_golds[i] > 0;
        double prob = 0.0;
        size_t k;
        if (opts->na_prob_path) {
            if (!id_index_find(&na.ids, d.ids.keys[i], &k)) {
                rc = ge_error_set(err, GE_ERR_FORMAT, "%s: no probability for question \"%s\"", opts->na_prob_path,
                                  d.ids.keys[i]);
                goto out;
            }
            prob = na.prob[k];
        }
        if (prob > opts->na_prob_thresh) {
            ex_t[i] = f1_t[i] = d.n_golds[i] == 0 ? 1.0 : 0.0;
        } else {
            ex_t[i] = r.exact[i];
            f1_t[i] = r.f1[i];
        }
    }

    /* make_eval_dict and merge_eval */
    obj = cJSON_CreateObject();
    if (obj == NULL) {
        rc = ge_error_set(err, GE_ERR_NOMEM, "out of memory building the report");
        goto out;
    }
    add_means(obj, "", &d, ex_t, f1_t, r.scored, -1);
    if (n_has > 0)
        add_means(obj, "HasAns_", &d, ex_t, f1_t, r.scored, 1);
    if (n_has < n)
        add_means(obj, "NoAns_", &d, ex_t, f1_t, r.scored, 0);

    /* find_all_best_thresh */
    if (opts->na_prob_path) {
        size_t n_na = na.ids.n_keys;
        order = malloc((n_na ? n_na : 1) * sizeof *order);
        if (order == NULL) {
            rc = ge_error_set(err, GE_ERR_NOMEM, "out of memory sorting %zu probabilities", n_na);
            goto out;
        }
        for (size_t k = 0; k < n_na; k++)
            order[k] = (struct prob_entry){.prob = na.prob[k], .index = k};
        qsort(order, n_na, sizeof *order, cmp_prob_entry);
        double best, thresh;
        best_threshold(&d, &na, order, r.exact, &r, n_scored, &best, &thresh);
        score_json_add_double(obj, "best_exact", best);
        score_json_add_double(obj, "best_exact_thresh", thresh);
        best_threshold(&d, &na, order, r.f1, &r, n_scored, &best, &thresh);
        score_json_add_double(obj, "best_f1", best);
        score_json_add_double(obj, "best_f1_thresh", thresh);
    }
    rc = score_json_print(obj, out_json, err);
out:
    cJSON_Delete(obj);
    free(order);
    free(ex_t);
    free(f1_t);
    free(r.exact);
    free(r.f1);
    free(r.scored);
    free(r.pred_true);
    free(na.prob);
    id_index_release(&na.ids);
    predictions_release(&p);
    data_release(&d);
    return rc;
}

int squad_v2_score_files(const char *dataset_path, const char *predictions_path, struct strbuf *out_json,
                         struct ge_error *err)
{
    return squad_v2_score_files_opts(dataset_path, predictions_path, NULL, out_json, err);
}
