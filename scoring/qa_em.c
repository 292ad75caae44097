/* qa_em.c — open-domain QA exact match / F1 over gold lists and the generic `score em|f1` file scorer (see qa_em.h).
 *
 * The dataset is read into a struct qa_data (ids, gold lists, source lines), the predictions with
 * predictions_load_jsonl; every prediction must name a known question, then every question is scored once in
 * dataset order and the per-question scores go to stats_mean / stats_mean_stderr. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scoring/doc_id.h"
#include "scoring/id_index.h"
#include "scoring/jsonl.h"
#include "scoring/predictions.h"
#include "scoring/qa_em.h"
#include "scoring/score_json.h"
#include "scoring/squad.h"
#include "scoring/stats.h"

int qa_em_score(const char *pred, const char *const *golds, size_t n_golds, double *em, struct ge_error *err)
{
    double f1;
    return squad_score_question(SQUAD_OPEN_QA, pred, golds, n_golds, em, &f1, err);
}

int qa_f1_score(const char *pred, const char *const *golds, size_t n_golds, double *f1, struct ge_error *err)
{
    double em;
    return squad_score_question(SQUAD_OPEN_QA, pred, golds, n_golds, &em, f1, err);
}

/* ---- dataset ----------------------------------------------------------------------------------------------- */

#define FIELD_CAP 256 /* bytes of a field path */

/* The questions of a dataset file. Invariant: golds[i], n_golds[i] and line[i] belong to ids.keys[i]. */
struct qa_data {
    struct id_index ids;        /* question ids in file order (no repeats: a repeat is an error) */
    char ***golds;              /* owned: golds[i] is an owned array of n_golds[i] owned strings */
    size_t *n_golds;            /* owned: number of golds of question i */
    size_t *line;               /* owned: 1-based line of question i */
    size_t cap;                 /* allocated entries of the three arrays */
    char answer_field[FIELD_CAP]; /* the gold answer path, "" until chosen (caller's or auto-detected) */
    char id_field[FIELD_CAP];   /* the caller's id field; "" = each record's own (record_id) */
    int chosen;                 /* 1 once the fields are fixed */
    int squad_form;             /* 1 when a record's golds are an object with a "text" array (SQuAD v2's shape):
                                   scored with SQuAD v2.0's rules, golds normalising to nothing dropped */
};

static void free_golds(char **g, size_t n)
{
    for (size_t j = 0; j < n; j++)
        free(g[j]);
    free(g);
}

static void data_release(struct qa_data *d)
{
    for (size_t i = 0; i < d->ids.n_keys; i++)
        free_golds(d->golds[i], d->n_golds[i]);
    free(d->golds);
    free(d->n_golds);
    free(d->line);
    id_index_release(&d->ids);
}

/* Follows a dotted path ("answer.aliases") through nested objects; NULL when a step is missing. */
static const cJSON *get_path(const cJSON *obj, const char *path)
{
    char step[FIELD_CAP];
    const char *p = path;
    while (obj != NULL) {
        size_t n = strcspn(p, ".");
        if (n >= sizeof step)
            return NULL;
        memcpy(step, p, n);
        step[n] = '\0';
        obj = cJSON_IsObject(obj) ? cJSON_GetObjectItemCaseSensitive(obj, step) : NULL;
        if (p[n] == '\0')
            return obj;
        p += n + 1;
    }
    return NULL;
}

/* The list of gold strings that v holds: a string, an array of strings, or an object with a "text" array.
 * Returns that array (or v itself for a string) and sets *single for a string; NULL when v is none of these. */
static const cJSON *gold_list(const cJSON *v, int *single)
{
    *single = 0;
    if (cJSON_IsString(v)) {
        *single = 1;
        return v;
    }
    if (cJSON_IsObject(v))
        v = cJSON_GetObjectItemCaseSensitive(v, "text");
    if (!cJSON_IsArray(v))
        return NULL;
    for (const cJSON *it = v->child; it; it = it->next)
        if (!cJSON_IsString(it))
            return NULL;
    return v;
}

/* Fixes answer_field (when auto) and id_field from the first record. */
static int choose_fields(struct qa_data *d, const cJSON *rec, const char *id_field, struct ge_error *err)
{
    static const char *const answer_candidates[] = {"answers", "answer.aliases", "answer.normalized_aliases",
                                                    "answer"};
    int single;
    if (d->answer_field[0] == '\0') {
        for (size_t i = 0; i < sizeof answer_candidates / sizeof *answer_candidates; i++) {
            if (gold_list(get_path(rec, answer_candidates[i]), &single)) {
                snprintf(d->answer_field, sizeof d->answer_field, "%s", answer_candidates[i]);
                break;
            }
        }
        if (d->answer_field[0] == '\0')
            return ge_error_set(err, GE_ERR_FORMAT,
                                "no gold answers found (tried answers, answer.aliases, answer.normalized_aliases, "
                                "answer); name the field with --answer-field");
        if (strncmp(d->answer_field, "answer.", 7) == 0) /* TriviaQA's aliases: its scorer normalises otherwise */
            return ge_error_set(err, GE_ERR_USAGE,
                                "this is TriviaQA data (%s): score it with 'glam-eval score triviaqa', which uses "
                                "TriviaQA's own normalisation (punctuation becomes a space); --answer-field %s "
                                "scores it with SQuAD's instead", d->answer_field, d->answer_field);
    }
    snprintf(d->id_field, sizeof d->id_field, "%s", id_field != NULL ? id_field : "");
    d->chosen = 1;
    return GE_OK;
}

/* The id of a record when no id field was named, decided per record as the task loaders do (a file mixing
 * records with and without ids then gets the ids `run` stores): "id" when it is a string or a number, else a
 * non-empty "question_id", else the record's line id (scoring/doc_id.h). The field used goes to *field. */
static const cJSON *record_id(const cJSON *rec, const char **field)
{
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(rec, "id");
    const cJSON *qid = cJSON_GetObjectItemCaseSensitive(rec, "question_id");
    if (cJSON_IsString(id) || cJSON_IsNumber(id)) {
        *field = "id";
        return id;
    }
    if (cJSON_IsString(qid) && qid->valuestring[0] != '\0') {
        *field = "question_id";
        return qid;
    }
    return NULL;
}

static int record_fn(void *ctx, const cJSON *rec, size_t line_no, struct ge_error *err)
{
    struct qa_data *d = ctx;
    char id[PREDICTIONS_ID_CAP];
    int single;
    const char *field = d->id_field;
    const cJSON *idv = d->id_field[0] ? get_path(rec, d->id_field) : record_id(rec, &field);
    if (d->id_field[0] && idv == NULL)
        return ge_error_set(err, GE_ERR_FORMAT, "missing field \"%s\"", d->id_field);
    if (idv != NULL) {
        int rc = predictions_id_text(idv, id, sizeof id, err);
        if (rc)
            return ge_error_prefix(err, "field \"%s\": ", field);
    } else {
        doc_id_from_line(line_no, id); /* the id `run` stores for the record */
    }
    const cJSON *v = get_path(rec, d->answer_field);
    if (v == NULL)
        return ge_error_set(err, GE_ERR_FORMAT, "missing field \"%s\"", d->answer_field);
    const cJSON *list = gold_list(v, &single);
    d->squad_form |= cJSON_IsObject(v);
    if (list == NULL)
        return ge_error_set(err, GE_ERR_FORMAT,
                            "field \"%s\" is not a string, an array of strings or an object with a \"text\" array",
                            d->answer_field);
    size_t n = single ? 1 : (size_t)cJSON_GetArraySize(list);
    char **golds = calloc(n ? n : 1, sizeof *golds);
    if (golds == NULL)
        return ge_error_set(err, GE_ERR_NOMEM, "out of memory for %zu answers", n);
    size_t j = 0;
    for (const cJSON *it = single ? list : list->child; it && j < n; it = it->next, j++) {
        if ((golds[j] = strdup(it->valuestring)) == NULL) {
            free_golds(golds, j);
            return ge_error_set(err, GE_ERR_NOMEM, "out of memory copying an answer");
        }
    }
    if (d->ids.n_keys >= d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 256;
        char ***g = realloc(d->golds, cap * sizeof *g);
        if (g != NULL)
            d->golds = g;
        size_t *ng = g ? realloc(d->n_golds, cap * sizeof *ng) : NULL;
        if (ng != NULL)
            d->n_golds = ng;
        size_t *ln = ng ? realloc(d->line, cap * sizeof *ln) : NULL;
        if (ln == NULL) {
            free_golds(golds, n);
            return ge_error_set(err, GE_ERR_NOMEM, "out of memory for %zu questions", cap);
        }
        d->line = ln;
        d->cap = cap;
    }
    size_t i;
    int added;
    int rc = id_index_put(&d->ids, id, &i, &added, err);
    if (rc == GE_OK && !added)
        rc = ge_error_set(err, GE_ERR_FORMAT, "duplicate id \"%s\" (first on line %zu)", id, d->line[i]);
    if (rc) {
        free_golds(golds, n);
        return rc;
    }
    d->golds[i] = golds;
    d->n_golds[i] = n;
    d->line[i] = line_no;
    return GE_OK;
}

/* jsonl_for_each callback for the first record only: fix the fields, then read it as any other. */
struct load_ctx {
    struct qa_data *d;
    const char *id_field; /* the caller's id field or NULL */
};

static int first_then_record_fn(void *ctx, const cJSON *rec, size_t line_no, struct ge_error *err)
{
    struct load_ctx *lc = ctx;
    if (!lc->d->chosen) {
        int rc = choose_fields(lc->d, rec, lc->id_field, err);
        if (rc)
            return rc;
    }
    return record_fn(lc->d, rec, line_no, err);
}

/* ---- file scorer ------------------------------------------------------------------------------------------- */

int qa_score_files(const char *metric, const char *dataset_path, const char *predictions_path,
                   const char *answer_field, const char *id_field, struct strbuf *out_json, struct ge_error *err)
{
    struct qa_data d = {.golds = NULL, .n_golds = NULL, .line = NULL, .cap = 0, .chosen = 0};
    struct predictions p;
    double *scores = NULL;
    cJSON *obj = NULL;
    int use_f1 = 0;
    id_index_init(&d.ids, 0);
    predictions_init(&p);
    d.answer_field[0] = d.id_field[0] = '\0';
    int rc = GE_OK;
    if (metric == NULL || (strcmp(metric, "em") != 0 && strcmp(metric, "f1") != 0)) {
        rc = ge_error_set(err, GE_ERR_USAGE, "unknown metric \"%s\" (em or f1)", metric ? metric : "(null)");
        goto out;
    }
    use_f1 = metric[1] == '1';
    if (answer_field != NULL && (answer_field[0] == '\0' || strlen(answer_field) >= FIELD_CAP)) {
        rc = ge_error_set(err, GE_ERR_USAGE, "answer field must be a non-empty path shorter than %d bytes", FIELD_CAP);
        goto out;
    }
    if (id_field != NULL && (id_field[0] == '\0' || strlen(id_field) >= FIELD_CAP)) {
        rc = ge_error_set(err, GE_ERR_USAGE, "id field must be a non-empty path shorter than %d bytes", FIELD_CAP);
        goto out;
    }
    if (answer_field)
        snprintf(d.answer_field, sizeof d.answer_field, "%s", answer_field);
    struct load_ctx lc = {.d = &d, .id_field = id_field};
    if ((rc = jsonl_file_for_each(dataset_path, QA_FILE_LIMIT, first_then_record_fn, &lc, err)) != GE_OK)
        goto out;
    if (d.ids.n_keys == 0) {
        rc = ge_error_set(err, GE_ERR_FORMAT, "%s: no questions", dataset_path);
        goto out;
    }
    if ((rc = predictions_load_jsonl(predictions_path, &p, err)) != GE_OK)
        goto out;
    for (size_t k = 0; k < predictions_count(&p); k++) {
        size_t i;
        if (!id_index_find(&d.ids, p.ids.keys[k], &i)) {
            rc = ge_error_set(err, GE_ERR_FORMAT, "%s: line %zu: prediction for unknown id \"%s\" (not in %s%s)",
                              predictions_path, p.line[k], p.ids.keys[k], dataset_path,
                              d.id_field[0] ? "" : ", whose ids are its 1-based line numbers, as `run` stores them");
            goto out;
        }
    }

    size_t n = d.ids.n_keys;
    long long missing = 0;
    if ((scores = calloc(n, sizeof *scores)) == NULL) {
        rc = ge_error_set(err, GE_ERR_NOMEM, "out of memory for %zu scores", n);
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        size_t k;
        if (!predictions_find(&p, d.ids.keys[i], &k)) {
            missing++;
            continue; /* scores 0 */
        }
        const char *const *golds = (const char *const *)d.golds[i];
        double em, f1;
        rc = squad_score_question(d.squad_form ? SQUAD_V2_0 : SQUAD_OPEN_QA, p.text[k], golds, d.n_golds[i], &em,
                                  &f1, err);
        scores[i] = use_f1 ? f1 : em;
        if (rc) {
            ge_error_prefix(err, "%s: line %zu: ", dataset_path, d.line[i]);
            goto out;
        }
    }
    double mean, se;
    if ((rc = stats_mean(scores, n, &mean, err)) != GE_OK)
        goto out;
    obj = cJSON_CreateObject();
    if (obj == NULL || cJSON_AddStringToObject(obj, "metric", metric) == NULL) {
        rc = ge_error_set(err, GE_ERR_NOMEM, "out of memory building the report");
        goto out;
    }
    score_json_add_double(obj, "score", mean);
    if (n >= 2 && stats_mean_stderr(scores, n, &se, err) == GE_OK)
        score_json_add_double(obj, "stderr", se);
    else if (cJSON_AddNullToObject(obj, "stderr") == NULL)
        rc = ge_error_set(err, GE_ERR_NOMEM, "out of memory building the report");
    score_json_add_count(obj, "n", (long long)n);
    score_json_add_count(obj, "missing", missing);
    if (rc == GE_OK)
        rc = score_json_print(obj, out_json, err);
out:
    cJSON_Delete(obj);
    free(scores);
    predictions_release(&p);
    data_release(&d);
    return rc;
}
