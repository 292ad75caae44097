/* triviaqa.c — TriviaQA normalisation, per-question EM/F1 and the official file scorer (see triviaqa.h).
 *
 * The dataset is read into a struct tqa_data: keys in first-seen order, each with its ground truths as the script
 * builds them (NormalizedAliases followed by normalised HumanAnswers). Scoring then walks the keys in that order,
 * summing as the script does, so the sums match its float arithmetic. */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/utf8.h"
#include "scoring/doc_id.h"
#include "scoring/id_index.h"
#include "scoring/jsonl.h"
#include "scoring/normalize.h"
#include "scoring/predictions.h"
#include "scoring/score_json.h"
#include "scoring/triviaqa.h"

/* ---- normalisation and one question ------------------------------------------------------------------------ */

/* string.punctuation plus the four characters TriviaQA adds; '_' (replace_underscore) is already in the set. */
static size_t punct_len(const char *p)
{
    static const char *const extra[] = {"\xE2\x80\x98", "\xE2\x80\x99", "\xC2\xB4"}; /* ‘ ’ ´ (` is ASCII) */
    unsigned char c = (unsigned char)*p;
    if (c < 0x80)
        return c != '\0' && strchr("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~", c) != NULL;
    for (size_t i = 0; i < sizeof extra / sizeof *extra; i++)
        if (strncmp(p, extra[i], strlen(extra[i])) == 0)
            return strlen(extra[i]);
    return 0;
}

int triviaqa_normalize(const char *s, struct strbuf *out, struct ge_error *err)
{
    struct strbuf lower, spaced;
    strbuf_init(&lower, out->limit);
    strbuf_init(&spaced, out->limit);
    int rc = utf8_append_lower(s, strlen(s), &lower, err);
    for (const char *p = strbuf_str(&lower); *p && rc == GE_OK;) {
        size_t k = punct_len(p);
        if (k > 0) {
            rc = strbuf_append_char(&spaced, ' ', err);
            p += k;
        } else {
            rc = strbuf_append_char(&spaced, *p++, err);
        }
    }
    /* squad_normalize lowercases again (a no-op on lowercased text), finds no ASCII punctuation left, then drops
     * the articles and collapses whitespace, which is the rest of TriviaQA's function. */
    if (rc == GE_OK)
        rc = squad_normalize(strbuf_str(&spaced), out, err);
    strbuf_release(&lower);
    strbuf_release(&spaced);
    return rc;
}

int triviaqa_score_question(const char *pred, const char *const *golds, size_t n_golds, double *em, double *f1,
                            struct ge_error *err)
{
    struct strbuf pn, gn;
    struct token_list pt = {0}, gt = {0};
    *em = 0.0;
    *f1 = 0.0;
    if (n_golds == 0)
        return ge_error_set(err, GE_ERR_USAGE, "TriviaQA scoring needs at least one ground truth");
    strbuf_init(&pn, 0);
    strbuf_init(&gn, 0);
    int rc = triviaqa_normalize(pred, &pn, err);
    if (rc == GE_OK)
        rc = token_list_split(strbuf_str(&pn), &pt, err);
    for (size_t i = 0; i < n_golds && rc == GE_OK; i++) {
        if ((rc = triviaqa_normalize(golds[i], &gn, err)) != GE_OK)
            break;
        if (strcmp(strbuf_str(&gn), strbuf_str(&pn)) == 0)
            *em = 1.0;
        if ((rc = token_list_split(strbuf_str(&gn), &gt, err)) != GE_OK)
            break;
        double f = token_f1(&pt, &gt, 0);
        token_list_release(&gt);
        if (f > *f1)
            *f1 = f;
    }
    token_list_release(&pt);
    token_list_release(&gt);
    strbuf_release(&pn);
    strbuf_release(&gn);
    return rc;
}

/* ---- dataset ----------------------------------------------------------------------------------------------- */

/* Keys and their ground truths. Invariant: truths[i] (n_truths[i] owned strings) belongs to keys.keys[i]. */
struct tqa_data {
    struct id_index keys; /* question keys in first-seen order */
    char ***truths;       /* owned: truths[i] is an owned array of n_truths[i] owned strings */
    size_t *n_truths;     /* owned: number of ground truths of key i */
    size_t cap;           /* allocated entries of truths and n_truths */
    size_t n_line_ids;    /* JSONL only: questions keyed by their line id (no question_id, scoring/doc_id.h) */
};

static void free_truths(char **t, size_t n)
{
    for (size_t j = 0; j < n; j++)
        free(t[j]);
    free(t);
}

static void data_release(struct tqa_data *d)
{
    for (size_t i = 0; i < d->keys.n_keys; i++)
        free_truths(d->truths[i], d->n_truths[i]);
    free(d->truths);
    free(d->n_truths);
    id_index_release(&d->keys);
}

/* Builds get_ground_truths(answer): the strings of aliases, then each string of human (may be NULL) normalised.
 * On success *out holds n owned strings. */
static int build_truths(const cJSON *aliases, const cJSON *human, char ***out, size_t *n_out, struct ge_error *err)
{
    size_t n = (size_t)cJSON_GetArraySize(aliases) + (size_t)cJSON_GetArraySize(human);
    char **t = calloc(n ? n : 1, sizeof *t);
    struct strbuf norm;
    size_t j = 0;
    int rc = GE_OK;
    if (t == NULL)
        return ge_error_set(err, GE_ERR_NOMEM, "out of memory for %zu answers", n);
    strbuf_init(&norm, 0);
    for (int pass = 0; pass < 2 && rc == GE_OK; pass++) {
        const cJSON *arr = pass == 0 ? aliases : human;
        for (const cJSON *a = arr ? arr->child : NULL; a && rc == GE_OK; a = a->next) {
            if (!cJSON_IsString(a)) {
                rc = ge_error_set(err, GE_ERR_FORMAT, "%s has a non-string entry",
                                  pass == 0 ? "the alias list" : "HumanAnswers");
                break;
            }
            const char *text = a->valuestring;
            if (pass == 1) {
                if ((rc = triviaqa_normalize(text, &norm, err)) != GE_OK)
                    break;
                text = strbuf_str(&norm);
            }
            if ((t[j] = strdup(text)) == NULL)
                rc = ge_error_set(err, GE_ERR_NOMEM, "out of memory copying an answer");
            else
                j++;
        }
    }
    strbuf_release(&norm);
    if (rc) {
        free_truths(t, j);
        return rc;
    }
    *out = t;
    *n_out = j;
    return GE_OK;
}

/* Enters key with its ground truths (taken over); a repeated key replaces them, as a dict assignment. */
static int data_put(struct tqa_data *d, const char *key, char **truths, size_t n, struct ge_error *err)
{
    if (d->keys.n_keys >= d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 256;
        char ***t = realloc(d->truths, cap * sizeof *t);
        if (t != NULL)
            d->truths = t;
        size_t *nt = t ? realloc(d->n_truths, cap * sizeof *nt) : NULL;
        if (nt == NULL) {
            free_truths(truths, n);
            return ge_error_set(err, GE_ERR_NOMEM, "out of memory for %zu questions", cap);
        }
        d->n_truths = nt;
        d->cap = cap;
    }
    size_t i;
    int added;
    int rc = id_index_put(&d->keys, key, &i, &added, err);
    if (rc) {
        free_truths(truths, n);
        return rc;
    }
    if (!added)
        free_truths(d->truths[i], d->n_truths[i]);
    d->truths[i] = truths;
    d->n_truths[i] = n;
    return GE_OK;
}

/* Python truthiness of an optional JSON value that the script reads with datum[key] (so it must exist). */
static int get_flag(const cJSON *obj, const char *key, int *flag, const char *where, struct ge_error *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (v == NULL)
        return ge_error_set(err, GE_ERR_FORMAT, "%s: field \"%s\" is missing", where, key);
    *flag = cJSON_IsTrue(v) || (cJSON_IsNumber(v) && v->valuedouble != 0) ||
            (cJSON_IsString(v) && v->valuestring[0] != '\0') || (cJSON_IsArray(v) && v->child != NULL) ||
            (cJSON_IsObject(v) && v->child != NULL);
    return GE_OK;
}

/* Adds the keys of one official datum (see triviaqa.h). */
static int official_datum(struct tqa_data *d, const cJSON *datum, int web, int verified, const char *where,
                          struct ge_error *err)
{
    if (verified) {
        int part;
        int rc = get_flag(datum, "QuestionPartOfVerifiedEval", &part, where, err);
        if (rc || !part)
            return rc;
    }
    const cJSON *qid = cJSON_GetObjectItemCaseSensitive(datum, "QuestionId");
    const cJSON *answer = cJSON_GetObjectItemCaseSensitive(datum, "Answer");
    const cJSON *aliases = cJSON_GetObjectItemCaseSensitive(answer, "NormalizedAliases");
    const cJSON *human = cJSON_GetObjectItemCaseSensitive(answer, "HumanAnswers");
    if (!cJSON_IsString(qid))
        return ge_error_set(err, GE_ERR_FORMAT, "%s: field \"QuestionId\" is %s", where, qid ? "not a string" : "missing");
    if (!cJSON_IsArray(aliases))
        return ge_error_set(err, GE_ERR_FORMAT, "%s: field \"Answer.NormalizedAliases\" is %s", where,
                            aliases ? "not an array" : "missing");
    if (human != NULL && !cJSON_IsArray(human))
        return ge_error_set(err, GE_ERR_FORMAT, "%s: field \"Answer.HumanAnswers\" is not an array", where);
    if (!web) {
        char **t;
        size_t n;
        int rc = build_truths(aliases, human, &t, &n, err);
        if (rc)
            return ge_error_prefix(err, "%s: ", where);
        return data_put(d, qid->valuestring, t, n, err);
    }
    size_t n_pages = 0;
    for (int pass = 0; pass < 2; pass++) {
        const char *list = pass == 0 ? "EntityPages" : "SearchResults";
        const cJSON *pages = cJSON_GetObjectItemCaseSensitive(datum, list);
        if (pages != NULL && !cJSON_IsArray(pages))
            return ge_error_set(err, GE_ERR_FORMAT, "%s: field \"%s\" is not an array", where, list);
        size_t pi = 0;
        for (const cJSON *page = pages ? pages->child : NULL; page; page = page->next, pi++) {
            char pwhere[160];
            snprintf(pwhere, sizeof pwhere, "%s.%s[%zu]", where, list, pi);
            if (verified) {
                int part;
                int rc = get_flag(page, "DocPartOfVerifiedEval", &part, pwhere, err);
                if (rc)
                    return rc;
                if (!part)
                    continue;
            }
            const cJSON *file = cJSON_GetObjectItemCaseSensitive(page, "Filename");
            if (!cJSON_IsString(file))
                return ge_error_set(err, GE_ERR_FORMAT, "%s: field \"Filename\" is %s", pwhere,
                                    file ? "not a string" : "missing");
            struct strbuf key;
            strbuf_init(&key, PREDICTIONS_ID_CAP);
            char **t;
            size_t n;
            int rc = strbuf_appendf(&key, err, "%s--%s", qid->valuestring, file->valuestring);
            if (rc == GE_OK && (rc = build_truths(aliases, human, &t, &n, err)) == GE_OK)
                rc = data_put(d, strbuf_str(&key), t, n, err);
            strbuf_release(&key);
            if (rc)
                return ge_error_prefix(err, "%s: ", pwhere);
            n_pages++;
        }
    }
    if (verified && n_pages == 0)
        return ge_error_set(err, GE_ERR_FORMAT, "%s: verified question has no verified page (the script asserts)",
                            where);
    return GE_OK;
}

static int official_fn(void *ctx, const cJSON *root, size_t line_no, struct ge_error *err)
{
    struct tqa_data *d = ctx;
    const cJSON *data = cJSON_GetObjectItemCaseSensitive(root, "Data");
    const cJSON *domain = cJSON_GetObjectItemCaseSensitive(root, "Domain");
    int verified;
    if (!cJSON_IsArray(data))
        return ge_error_set(err, GE_ERR_FORMAT, "field \"Data\" is %s", data ? "not an array" : "missing");
    if (!cJSON_IsString(domain))
        return ge_error_set(err, GE_ERR_FORMAT, "field \"Domain\" is %s", domain ? "not a string" : "missing");
    int rc = get_flag(root, "VerifiedEval", &verified, "top level", err);
    if (rc)
        return rc;
    int web = strcmp(domain->valuestring, "Wikipedia") != 0;
    size_t i = 0;
    for (const cJSON *datum = data->child; datum; datum = datum->next, i++) {
        char where[48];
        snprintf(where, sizeof where, "Data[%zu]", i);
        if ((rc = official_datum(d, datum, web, verified, where, err)) != GE_OK)
            return rc;
    }
    return GE_OK;
}

static int jsonl_fn(void *ctx, const cJSON *rec, size_t line_no, struct ge_error *err)
{
    struct tqa_data *d = ctx;
    const cJSON *qid = cJSON_GetObjectItemCaseSensitive(rec, "question_id");
    const cJSON *aliases = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(rec, "answer"),
                                                            "normalized_aliases");
    /* The key is the id `run` stores for the record (the triviaqa task's rule): question_id when non-empty,
     * else the record's 1-based line number. */
    char line_id[DOC_ID_LINE_CAP];
    const char *key;
    int rc = doc_id_string_or_line(qid, line_no, line_id, &key, err);
    if (rc)
        return ge_error_prefix(err, "field \"question_id\" ");
    if (strlen(key) >= PREDICTIONS_ID_CAP)
        return ge_error_set(err, GE_ERR_LIMIT, "question_id is longer than %d bytes", PREDICTIONS_ID_CAP - 1);
    if (!cJSON_IsArray(aliases))
        return ge_error_set(err, GE_ERR_FORMAT, "field \"answer.normalized_aliases\" is %s",
                            aliases ? "not an array" : "missing");
    d->n_line_ids += key == line_id;
    char **t;
    size_t n;
    rc = build_truths(aliases, NULL, &t, &n, err);
    return rc ? rc : data_put(d, key, t, n, err);
}

/* ---- file scorer ------------------------------------------------------------------------------------------- */

/* The official script ignores a prediction for an unknown key (it only counts it in pred_len). When the dataset
 * keys questions by line id, though, a number that is not a key is almost surely an id off by one (a file keyed
 * by 0-based line numbers, which would otherwise score every answer against the next question without a word):
 * that is an error naming the key. Other unknown keys are ignored as the script does. */
static int check_line_keys(const struct tqa_data *d, const struct predictions *p, const char *dataset_path,
                           const char *predictions_path, struct ge_error *err)
{
    for (size_t k = 0; k < predictions_count(p); k++) {
        const char *key = p->ids.keys[k];
        size_t i;
        if (key[0] == '\0' || key[strspn(key, "0123456789")] != '\0' || id_index_find(&d->keys, key, &i))
            continue;
        return ge_error_set(err, GE_ERR_FORMAT,
                            "%s: prediction for unknown question \"%s\" (%s keys a record without a question_id by "
                            "its 1-based line number, as `run` stores it)", predictions_path, key, dataset_path);
    }
    return GE_OK;
}

int triviaqa_score_files(const char *dataset_path, const char *predictions_path, struct strbuf *out_json,
                         struct ge_error *err)
{
    struct tqa_data d = {.truths = NULL, .n_truths = NULL, .cap = 0, .n_line_ids = 0};
    struct predictions p;
    cJSON *obj = NULL;
    id_index_init(&d.keys, 0);
    predictions_init(&p);
    int rc = json_or_jsonl_file_load(dataset_path, TRIVIAQA_FILE_LIMIT, "Data", official_fn, jsonl_fn, &d, err);
    if (rc)
        goto out;
    if (d.keys.n_keys == 0) {
        rc = ge_error_set(err, GE_ERR_FORMAT, "%s: no questions to score", dataset_path);
        goto out;
    }
    if ((rc = predictions_load_json_object(predictions_path, &p, err)) != GE_OK)
        goto out;
    if (d.n_line_ids > 0 && (rc = check_line_keys(&d, &p, dataset_path, predictions_path, err)) != GE_OK)
        goto out;

    double em_sum = 0.0, f1_sum = 0.0;
    long long common = 0;
    for (size_t i = 0; i < d.keys.n_keys; i++) {
        size_t k;
        if (!predictions_find(&p, d.keys.keys[i], &k))
            continue; /* "Missed question ... will receive score 0." */
        if (p.text[k] == NULL) {
            rc = ge_error_set(err, GE_ERR_FORMAT, "%s: the prediction for \"%s\" is not a string", predictions_path,
                              d.keys.keys[i]);
            goto out;
        }
        double em, f1;
        rc = triviaqa_score_question(p.text[k], (const char *const *)d.truths[i], d.n_truths[i], &em, &f1, err);
        if (rc) {
            ge_error_prefix(err, "%s: question \"%s\": ", dataset_path, d.keys.keys[i]);
            goto out;
        }
        common++;
        em_sum += em;
        f1_sum += f1;
    }
    double denom = (double)d.keys.n_keys;
    obj = cJSON_CreateObject();
    if (obj == NULL) {
        rc = ge_error_set(err, GE_ERR_NOMEM, "out of memory building the report");
        goto out;
    }
    score_json_add_double(obj, "exact_match", 100.0 * em_sum / denom);
    score_json_add_double(obj, "f1", 100.0 * f1_sum / denom);
    score_json_add_count(obj, "common", common);
    score_json_add_count(obj, "denominator", (long long)d.keys.n_keys);
    score_json_add_count(obj, "pred_len", (long long)predictions_count(&p));
    score_json_add_count(obj, "gold_len", (long long)d.keys.n_keys);
    rc = score_json_print(obj, out_json, err);
out:
    cJSON_Delete(obj);
    predictions_release(&p);
    data_release(&d);
    return rc;
}
