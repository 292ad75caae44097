/* quac.c — QuAC scores as the official scorer.py computes them (see quac.h for the rules).
 *
 * Summation order. scorer.py keeps the kept questions' F1 in a dict of lists keyed by overlap category and sums
 * sum(f1_stats.values(), []): the lists in the order the categories first occurred, each in question order. Our
 * overall f1 adds in that same order (that is the only use of the category), and every other mean adds in
 * question order, with plain double additions like Python 3.11's sum(); so the printed numbers are the
 * script's to the last digit.
 * Lookup. Predictions live in an id_index under "<dialogue id>\x1f<question id>", the two keys of the script's
 * nested dict; the dialogue id of an official prediction line is its first qid up to "_q#", as the script takes
 * it. */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "harness/fileio.h"
#include "harness/xalloc.h"
#include "scoring/doc_id.h"
#include "scoring/id_index.h"
#include "scoring/jsonl.h"
#include "scoring/normalize.h"
#include "scoring/quac.h"
#include "scoring/score_json.h"

#define QUAC_QUESTIONS_MAX ((size_t)1 << 24) /* questions per dataset (QuAC dev has 7,354) */

/* ---- per question -------------------------------------------------------------------------------------- */

/* Normalised tokens of one text. */
struct norm_text {
    struct strbuf norm;      /* squad_normalize(text) */
    struct token_list toks;  /* norm split on whitespace */
};

static int norm_text_init(struct norm_text *t, const char *s, struct ge_error *err)
{
    strbuf_init(&t->norm, 0);
    memset(&t->toks, 0, sizeof t->toks);
    int rc = squad_normalize(s, &t->norm, err);
    if (rc == GE_OK)
        rc = token_list_split(strbuf_str(&t->norm), &t->toks, err);
    return rc;
}

static void norm_text_release(struct norm_text *t)
{
    strbuf_release(&t->norm);
    token_list_release(&t->toks);
}

/* handle_cannot: fills out with the references to score against; returns how many. */
static size_t handle_cannot(const char *const *refs, size_t n, const char **out)
{
    size_t n_cannot = 0, k = 0;
    for (size_t i = 0; i < n; i++)
        n_cannot += strcmp(refs[i], QUAC_CANNOT) == 0;
    if (n_cannot >= n - n_cannot) {
        out[0] = QUAC_CANNOT;
        return 1;
    }
    for (size_t i = 0; i < n; i++)
        if (strcmp(refs[i], QUAC_CANNOT) != 0)
            out[k++] = refs[i];
    return k;
}

/* Python's text.find(sub) as a byte offset (monotone in the character offset, which is all the overlap test
 * compares), or -1. */
static long find_offset(const char *text, const char *sub)
{
    const char *p = strstr(text, sub);
    return p ? (long)(p - text) : -1;
}

int quac_score_turn(const char *pred, const char *const *raw_refs, size_t n_raw, const char *context,
                    struct quac_turn_score *out, struct ge_error *err)
{
    memset(out, 0, sizeof *out);
    if (n_raw == 0)
        return ge_error_set(err, GE_ERR_USAGE, "a QuAC question needs at least one reference answer");
    if (n_raw > QUAC_REFS_MAX)
        return ge_error_set(err, GE_ERR_LIMIT, "a QuAC question has %zu reference answers, more than the limit of %d",
                            n_raw, QUAC_REFS_MAX);
    if (context == NULL)
        context = "";
    const char *refs[QUAC_REFS_MAX];
    size_t n = handle_cannot(raw_refs, n_raw, refs);
    out->unanswerable = n == 1 && strcmp(refs[0], QUAC_CANNOT) == 0;
    struct norm_text p, r[QUAC_REFS_MAX];
    size_t n_r = 0;
    double f[QUAC_REFS_MAX];
    enum quac_overlap cat[QUAC_REFS_MAX] = {QUAC_OVERLAP_NONE};
    int rc = norm_text_init(&p, pred, err);
    for (; rc == GE_OK && n_r < n; n_r++)
        rc = norm_text_init(&r[n_r], refs[n_r], err);
    if (rc)
        goto out;

    /* leave_one_out: the references' agreement with each other. */
    if (n == 1) {
        out->human_f1 = 1.0;
    } else {
        double t_f1 = 0.0;
        for (size_t i = 0; i < n; i++) {
            double m_f1 = 0.0;
            for (size_t j = 0; j < n; j++) {
                double f_ij = j == i ? 0.0 : token_f1(&r[i].toks, &r[j].toks, 0);
                if (f_ij > m_f1)
                    m_f1 = f_ij;
            }
            t_f1 += m_f1;
        }
        out->human_f1 = t_f1 / (double)n;
    }

    /* compute_span_overlap against every reference. */
    for (size_t j = 0; j < n; j++) {
        if (strcmp(refs[j], QUAC_CANNOT) == 0) {
            int hit = strcmp(pred, QUAC_CANNOT) == 0;
            f[j] = hit ? 1.0 : 0.0;
            cat[j] = hit ? QUAC_OVERLAP_EXACT : QUAC_OVERLAP_NONE;
            continue;
        }
        f[j] = token_f1(&p.toks, &r[j].toks, 0);
        long ps = find_offset(context, pred), gs = find_offset(context, refs[j]);
        if (ps < 0 || gs < 0) {
            cat[j] = QUAC_OVERLAP_INDEX_ERROR;
        } else if (strcmp(strbuf_str(&p.norm), strbuf_str(&r[j].norm)) == 0) {
            cat[j] = QUAC_OVERLAP_EXACT;
        } else {
            long pe = ps + (long)strlen(pred), ge = gs + (long)strlen(refs[j]);
            cat[j] = (ps > gs ? ps : gs) <= (pe < ge ? pe : ge) ? QUAC_OVERLAP_PARTIAL : QUAC_OVERLAP_NONE;
        }
    }
    size_t best = 0; /* max(..., key=f1) keeps the first maximum */
    for (size_t j = 1; j < n; j++)
        if (f[j] > f[best])
            best = j;
    out->overlap = cat[best];

    /* leave_one_out_max. */
    if (n == 1) {
        out->f1 = f[0];
    } else {
        double sum = 0.0;
        for (size_t i = 0; i < n; i++) {
            double m = -1.0;
            for (size_t j = 0; j < n; j++)
                if (j != i && f[j] > m)
                    m = f[j];
            sum += m;
        }
        out->f1 = 1.0 * sum / (double)n;
    }
out:
    norm_text_release(&p);
    for (size_t i = 0; i < n_r; i++)
        norm_text_release(&r[i]);
    return rc;
}

/* ---- dataset ------------------------------------------------------------------------------------------- */

/* One question. Invariant: 1 <= n_refs <= QUAC_REFS_MAX. */
struct quac_question {
    char *id;          /* owned question id */
    char **refs;       /* owned array of n_refs owned reference texts */
    size_t n_refs;     /* 1..QUAC_REFS_MAX */
    char *yesno;       /* owned label, NULL when the dataset has none */
    char *followup;    /* owned label, NULL when the dataset has none */
    char **aliases;    /* owned array of n_aliases owned strings (llm-foundry's unanswerable aliases) */
    size_t n_aliases;  /* 0 for the official format */
    size_t dialogue;   /* index of its dialogue */
};

/* One dialogue (a QuAC paragraph). */
struct quac_dialogue {
    char *id;          /* owned dialogue id */
    char *context;     /* owned section text */
};

/* Dialogues and questions in file order; a dialogue's questions are contiguous. */
struct quac_dataset {
    struct quac_dialogue *dia; /* owned array of dia_cap slots, the first n_dia in use */
    size_t n_dia, dia_cap;     /* dialogues read; allocated slots */
    struct quac_question *q;   /* owned array of q_cap slots, the first n_q in use */
    size_t n_q, q_cap;         /* questions read (<= QUAC_QUESTIONS_MAX); allocated slots */
    int line_ids;              /* 1 when dialogue ids are line ids (the llm-foundry JSONL, scoring/doc_id.h) */
};

static void dataset_release(struct quac_dataset *ds)
{
    for (size_t i = 0; i < ds->n_q; i++) {
        struct quac_question *q = &ds->q[i];
        for (size_t k = 0; k < q->n_refs; k++)
            free(q->refs[k]);
        for (size_t k = 0; k < q->n_aliases; k++)
            free(q->aliases[k]);
        free(q->refs);
        free(q->aliases);
        free(q->id);
        free(q->yesno);
        free(q->followup);
    }
    for (size_t i = 0; i < ds->n_dia; i++) {
        free(ds->dia[i].id);
        free(ds->dia[i].context);
    }
    free(ds->q);
    free(ds->dia);
}

static int add_dialogue(struct quac_dataset *ds, const char *id, const char *context, size_t context_len,
                        struct ge_error *err)
{
    if (ds->n_dia == ds->dia_cap) {
        size_t cap = ds->dia_cap ? ds->dia_cap * 2 : 256;
        struct quac_dialogue *d = realloc(ds->dia, cap * sizeof *d);
        if (d == NULL)
            return ge_error_set(err, GE_ERR_NOMEM, "out of memory for %zu dialogues", cap);
        ds->dia = d;
        ds->dia_cap = cap;
    }
    ds->dia[ds->n_dia].id = xstrdup(id);
    ds->dia[ds->n_dia].context = xstrndup(context, context_len);
    ds->n_dia++;
    return GE_OK;
}

/* Appends a zeroed question of the last dialogue and returns it. */
static int add_question(struct quac_dataset *ds, const char *id, struct quac_question **out, struct ge_error *err)
{
    if (ds->n_q == QUAC_QUESTIONS_MAX)
        return ge_error_set(err, GE_ERR_LIMIT, "more than %zu questions", QUAC_QUESTIONS_MAX);
    if (ds->n_q == ds->q_cap) {
        size_t cap = ds->q_cap ? ds->q_cap * 2 : 1024;
        struct quac_question *q = realloc(ds->q, cap * sizeof *q);
        if (q == NULL)
            return ge_error_set(err, GE_ERR_NOMEM, "out of memory for %zu questions", cap);
        ds->q = q;
        ds->q_cap = cap;
    }
    struct quac_question *q = &ds->q[ds->n_q++];
    memset(q, 0, sizeof *q);
    q->id = xstrdup(id);
    q->dialogue = ds->n_dia - 1;
    *out = q;
    return GE_OK;
}

/* Copies a JSON list of strings (at most QUAC_REFS_MAX) into an owned array. */
static int copy_strings(const cJSON *list, const char *field, char ***out, size_t *n_out, struct ge_error *err)
{
    int n = cJSON_GetArraySize(list);
    if (n > QUAC_REFS_MAX)
        return ge_error_set(err, GE_ERR_LIMIT, "%s has more than %d entries", field, QUAC_REFS_MAX);
    *out = xcalloc((size_t)n + 1, sizeof **out);
    *n_out = 0;
    for (const cJSON *s = list ? list->child : NULL; s; s = s->next) {
        if (!cJSON_IsString(s))
            return ge_error_set(err, GE_ERR_FORMAT, "%s holds a value that is not a string", field);
        (*out)[(*n_out)++] = xstrdup(s->valuestring);
    }
    return GE_OK;
}

static char *label_copy(const cJSON *v)
{
    return cJSON_IsString(v) ? xstrdup(v->valuestring) : NULL;
}

/* Official layout: {"data": [{"paragraphs": [{"id", "context", "qas": [...]}]}]}. */
static int official_fn(void *ctx, const cJSON *root, size_t line_no, struct ge_error *err)
{
    struct quac_dataset *ds = ctx;
    const cJSON *data = cJSON_GetObjectItemCaseSensitive(root, "data");
    if (!cJSON_IsArray(data))
        return ge_error_set(err, GE_ERR_FORMAT, "\"data\" is not a list");
    int a = 0;
    for (const cJSON *art = data->child; art; art = art->next, a++) {
        const cJSON *pars = cJSON_GetObjectItemCaseSensitive(art, "paragraphs");
        if (!cJSON_IsArray(pars))
            return ge_error_set(err, GE_ERR_FORMAT, "\"data\"[%d]: \"paragraphs\" is not a list", a);
        for (const cJSON *par = pars->child; par; par = par->next) {
            const cJSON *did = cJSON_GetObjectItemCaseSensitive(par, "id");
            const cJSON *context = cJSON_GetObjectItemCaseSensitive(par, "context");
            const cJSON *qas = cJSON_GetObjectItemCaseSensitive(par, "qas");
            if (!cJSON_IsString(did) || !cJSON_IsString(context) || !cJSON_IsArray(qas))
                return ge_error_set(err, GE_ERR_FORMAT,
                                    "\"data\"[%d]: a paragraph needs a string \"id\" and \"context\" and a list \"qas\"", a);
            int rc = add_dialogue(ds, did->valuestring, context->valuestring, strlen(context->valuestring), err);
            for (const cJSON *qa = qas->child; qa && rc == GE_OK; qa = qa->next) {
                const cJSON *qid = cJSON_GetObjectItemCaseSensitive(qa, "id");
                const cJSON *answers = cJSON_GetObjectItemCaseSensitive(qa, "answers");
                struct quac_question *q;
                if (!cJSON_IsString(qid) || !cJSON_IsArray(answers))
                    return ge_error_set(err, GE_ERR_FORMAT, "dialogue %s: a question needs a string \"id\" and a list "
                                        "\"answers\"", did->valuestring);
                if ((rc = add_question(ds, qid->valuestring, &q, err)) != GE_OK)
                    break;
                int n = cJSON_GetArraySize(answers);
                if (n == 0 || n > QUAC_REFS_MAX)
                    return ge_error_set(err, GE_ERR_FORMAT, "question %s: %d answers (1 to %d allowed)",
                                        qid->valuestring, n, QUAC_REFS_MAX);
                q->refs = xcalloc((size_t)n, sizeof *q->refs);
                for (const cJSON *ans = answers->child; ans; ans = ans->next) {
                    const cJSON *text = cJSON_GetObjectItemCaseSensitive(ans, "text");
                    if (!cJSON_IsString(text))
                        return ge_error_set(err, GE_ERR_FORMAT, "question %s: an answer has no string \"text\"",
                                            qid->valuestring);
                    q->refs[q->n_refs++] = xstrdup(text->valuestring);
                }
                q->yesno = label_copy(cJSON_GetObjectItemCaseSensitive(qa, "yesno"));
                q->followup = label_copy(cJSON_GetObjectItemCaseSensitive(qa, "followup"));
            }
            if (rc)
                return rc;
        }
    }
    return GE_OK;
}

/* llm-foundry's JSONL: {"context": prompt, "answer": text, "aliases": [...]}, one question per line. */
static int foundry_fn(void *ctx, const cJSON *rec, size_t line_no, struct ge_error *err)
{
    struct quac_dataset *ds = ctx;
    const cJSON *prompt = cJSON_GetObjectItemCaseSensitive(rec, "context");
    const cJSON *answer = cJSON_GetObjectItemCaseSensitive(rec, "answer");
    const cJSON *aliases = cJSON_GetObjectItemCaseSensitive(rec, "aliases");
    if (!cJSON_IsString(prompt) || !cJSON_IsString(answer))
        return ge_error_set(err, GE_ERR_FORMAT, "needs string fields \"context\" and \"answer\"");
    if (aliases != NULL && !cJSON_IsArray(aliases))
        return ge_error_set(err, GE_ERR_FORMAT, "\"aliases\" is not a list");
    /* The section text: after "\nContext: ", up to the first "\n\nQuestion: " after it. */
    const char *text = prompt->valuestring;
    const char *start = strstr(text, "\nContext: ");
    start = start ? start + strlen("\nContext: ") : text;
    const char *end = strstr(start, "\n\nQuestion: ");
    size_t len = end ? (size_t)(end - start) : strlen(start);
    /* The dialogue id is the id `run` stores for the record (the quac task has no id field): its line id. */
    char did[DOC_ID_LINE_CAP], qid[DOC_ID_LINE_CAP + 8];
    doc_id_from_line(line_no, did);
    snprintf(qid, sizeof qid, "%s_q#0", did);
    ds->line_ids = 1;
    struct quac_question *q;
    int rc = add_dialogue(ds, did, start, len, err);
    if (rc == GE_OK)
        rc = add_question(ds, qid, &q, err);
    if (rc == GE_OK) {
        q->refs = xcalloc(1, sizeof *q->refs);
        q->refs[q->n_refs++] = xstrdup(answer->valuestring);
        rc = copy_strings(aliases, "\"aliases\"", &q->aliases, &q->n_aliases, err);
    }
    return rc;
}

/* ---- predictions --------------------------------------------------------------------------------------- */

/* One predicted answer with the labels of the official format. */
struct quac_prediction {
    char *span;     /* owned answer text */
    char *yesno;    /* owned label, NULL in the {qid: answer} format */
    char *followup; /* owned label, NULL in the {qid: answer} format */
};

/* Predictions. Invariant: p[i] is the last prediction given for keys.keys[i]; cap >= keys.n_keys. */
struct quac_predictions {
    struct id_index keys;        /* "<dialogue id>\x1f<question id>" */
    struct quac_prediction *p;   /* owned array of cap slots, the first keys.n_keys in use */
    size_t cap;                  /* allocated slots */
    int has_labels;              /* 1 for the official JSONL format */
};

static void predictions_release_quac(struct quac_predictions *p)
{
    for (size_t i = 0; i < p->keys.n_keys; i++) {
        free(p->p[i].span);
        free(p->p[i].yesno);
        free(p->p[i].followup);
    }
    free(p->p);
    id_index_release(&p->keys);
}

/* "<dia>\x1f<qid>" into a new string; dia is the first dia_len bytes of dia_src. */
static char *make_key(const char *dia_src, size_t dia_len, const char *qid)
{
    size_t n = dia_len + 1 + strlen(qid) + 1;
    char *k = xmalloc(n);
    snprintf(k, n, "%.*s\x1f%s", (int)dia_len, dia_src, qid);
    return k;
}

/* Python's qid.split("_q#")[0]: the length of the dialogue part. */
static size_t dialogue_len(const char *qid)
{
    const char *p = strstr(qid, "_q#");
    return p ? (size_t)(p - qid) : strlen(qid);
}

/* Enters one prediction; a repeated key keeps its last value, as the script's dict assignment. */
static int put_prediction(struct quac_predictions *p, const char *dia, size_t dia_len, const char *qid,
                          const char *span, const char *yesno, const char *followup, struct ge_error *err)
{
    if (p->keys.n_keys == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 1024;
        struct quac_prediction *grown = realloc(p->p, cap * sizeof *grown);
        if (grown == NULL)
            return ge_error_set(err, GE_ERR_NOMEM, "out of memory for %zu predictions", cap);
        p->p = grown;
        p->cap = cap;
    }
    char *key = make_key(dia, dia_len, qid);
    size_t k;
    int added;
    int rc = id_index_put(&p->keys, key, &k, &added, err);
    free(key);
    if (rc)
        return rc;
    struct quac_prediction *e = &p->p[k];
    if (!added) {
        free(e->span);
        free(e->yesno);
        free(e->followup);
    }
    e->span = xstrdup(span);
    e->yesno = yesno ? xstrdup(yesno) : NULL;
    e->followup = followup ? xstrdup(followup) : NULL;
    return GE_OK;
}

static int official_pred_fn(void *ctx, const cJSON *rec, size_t line_no, struct ge_error *err)
{
    struct quac_predictions *p = ctx;
    const cJSON *qids = cJSON_GetObjectItemCaseSensitive(rec, "qid");
    const cJSON *spans = cJSON_GetObjectItemCaseSensitive(rec, "best_span_str");
    const cJSON *yesnos = cJSON_GetObjectItemCaseSensitive(rec, "yesno");
    const cJSON *followups = cJSON_GetObjectItemCaseSensitive(rec, "followup");
    if (!cJSON_IsArray(qids) || !cJSON_IsArray(spans) || !cJSON_IsArray(yesnos) || !cJSON_IsArray(followups))
        return ge_error_set(err, GE_ERR_FORMAT, "needs lists \"qid\", \"best_span_str\", \"yesno\" and \"followup\"");
    const cJSON *first = qids->child;
    if (!cJSON_IsString(first))
        return ge_error_set(err, GE_ERR_FORMAT, "\"qid\" is empty or its first entry is not a string");
    const cJSON *q = qids->child, *s = spans->child, *y = yesnos->child, *f = followups->child;
    for (int i = 0; q && s && y && f; q = q->next, s = s->next, y = y->next, f = f->next, i++) { /* zip() */
        if (!cJSON_IsString(q) || !cJSON_IsString(s) || !cJSON_IsString(y) || !cJSON_IsString(f))
            return ge_error_set(err, GE_ERR_FORMAT, "entry %d: qid, best_span_str, yesno and followup must be strings", i);
        int rc = put_prediction(p, first->valuestring, dialogue_len(first->valuestring), q->valuestring, s->valuestring,
                                y->valuestring, f->valuestring, err);
        if (rc)
            return rc;
    }
    return GE_OK;
}

static int object_pred_read(struct quac_predictions *p, const cJSON *root, struct ge_error *err)
{
    for (const cJSON *it = root->child; it; it = it->next) {
        if (!cJSON_IsString(it))
            return ge_error_set(err, GE_ERR_FORMAT, "prediction for %s is not a string", it->string);
        int rc = put_prediction(p, it->string, dialogue_len(it->string), it->string, it->valuestring, NULL, NULL, err);
        if (rc)
            return rc;
    }
    return GE_OK;
}

/* A file that is one JSON object without a "qid" key is {qid: answer}; anything else is the official JSONL. */
static int predictions_load(const char *path, struct quac_predictions *p, struct ge_error *err)
{
    char *buf = NULL;
    size_t len = 0;
    int rc = file_read_all(path, QUAC_FILE_LIMIT, &buf, &len, err);
    if (rc)
        return rc;
    cJSON *root = cJSON_ParseWithLengthOpts(buf, len + 1, NULL, 1);
    if (cJSON_IsObject(root) && !cJSON_HasObjectItem(root, "qid")) {
        p->has_labels = 0;
        if ((rc = object_pred_read(p, root, err)) != GE_OK)
            ge_error_prefix(err, "%s: ", path);
    } else {
        p->has_labels = 1;
        rc = jsonl_for_each(path, buf, len, official_pred_fn, p, err);
    }
    cJSON_Delete(root);
    free(buf);
    return rc;
}

/* ---- scoring ------------------------------------------------------------------------------------------- */

/* The official script ignores predictions for unknown questions. With line ids, though, a prediction whose
 * dialogue id is a number but no dialogue's is almost surely off by one (keyed by 0-based line numbers, it would
 * score every answer against the next question without a word): that is an error naming it. used[k] is 1 for
 * the predictions that some question found. */
static int check_line_keys(const struct quac_predictions *p, const unsigned char *used, const char *dataset_path,
                           const char *predictions_path, struct ge_error *err)
{
    for (size_t k = 0; k < p->keys.n_keys; k++) {
        const char *key = p->keys.keys[k];
        size_t dia_len = strcspn(key, "\x1f");
        if (used[k] || dia_len == 0 || strspn(key, "0123456789") != dia_len)
            continue;
        const char *qid = key[dia_len] ? key + dia_len + 1 : key;
        return ge_error_set(err, GE_ERR_FORMAT,
                            "%s: prediction for unknown question \"%s\" (%s has dialogue ids 1, 2, ...: the 1-based "
                            "line numbers, as `run` stores them)", predictions_path, qid, dataset_path);
    }
    return GE_OK;
}

/* With map_unanswerable: 1 when pred should count as CANNOTANSWER for question q. */
static int means_unanswerable(const char *pred, const struct quac_question *q, struct ge_error *err, int *yes)
{
    struct strbuf a, b;
    strbuf_init(&a, 0);
    strbuf_init(&b, 0);
    *yes = 0;
    int rc = squad_normalize(pred, &a, err);
    if (rc == GE_OK)
        *yes = strcmp(strbuf_str(&a), "cannotanswer") == 0 || strcmp(strbuf_str(&a), "unanswerable") == 0;
    for (size_t i = 0; rc == GE_OK && !*yes && i < q->n_aliases; i++)
        if ((rc = squad_normalize(q->aliases[i], &b, err)) == GE_OK)
            *yes = strcmp(strbuf_str(&a), strbuf_str(&b)) == 0;
    strbuf_release(&a);
    strbuf_release(&b);
    return rc;
}

static void add_ratio(cJSON *obj, const char *key, double num, size_t den)
{
    if (den == 0)
        cJSON_AddNullToObject(obj, key);
    else
        score_json_add_double(obj, key, 100.0 * num / (double)den);
}

int quac_score_files_opts(const char *dataset_path, const char *predictions_path, const struct quac_options *opts,
                          struct strbuf *out_json, struct ge_error *err)
{
    static const struct quac_options defaults = QUAC_OPTIONS_DEFAULT;
    struct quac_dataset ds = {0};
    struct quac_predictions preds = {0};
    double *unfiltered = NULL, *kept_f1 = NULL, *unans = NULL;
    enum quac_overlap *kept_cat = NULL;
    unsigned char *used = NULL; /* (preds.keys.n_keys) 1 for a prediction some question found */
    cJSON *obj = NULL;
    if (opts == NULL)
        opts = &defaults;
    id_index_init(&preds.keys, 0);
    /* The official dataset is {"data": [...]}; anything else is llm-foundry's JSON Lines. */
    int rc = json_or_jsonl_file_load(dataset_path, QUAC_FILE_LIMIT, "data", official_fn, foundry_fn, &ds, err);
    if (rc == GE_OK)
        rc = predictions_load(predictions_path, &preds, err);
    if (rc)
        goto out;
    unfiltered = malloc((ds.n_q + 1) * sizeof *unfiltered);
    kept_f1 = malloc((ds.n_q + 1) * sizeof *kept_f1);
    unans = malloc((ds.n_q + 1) * sizeof *unans);
    kept_cat = malloc((ds.n_q + 1) * sizeof *kept_cat);
    used = calloc(preds.keys.n_keys + 1, sizeof *used);
    if (!unfiltered || !kept_f1 || !unans || !kept_cat || !used) {
        rc = ge_error_set(err, GE_ERR_NOMEM, "out of memory for the scores of %zu questions", ds.n_q);
        goto out;
    }
    int labels = preds.has_labels;
    for (size_t i = 0; i < ds.n_q; i++)
        labels = labels && ds.q[i].yesno && ds.q[i].followup;
    size_t n_unfiltered = 0, n_kept = 0, n_unans = 0, n_labels = 0, total_dials = 0;
    double heq = 0.0, dheq = 0.0, yes_no_hits = 0.0, followup_hits = 0.0;
    for (size_t d = 0, qi = 0; d < ds.n_dia; d++) {
        double good_dial = 1.0;
        for (; qi < ds.n_q && ds.q[qi].dialogue == d; qi++) {
            const struct quac_question *q = &ds.q[qi];
            const struct quac_dialogue *dia = &ds.dia[d];
            char *key = make_key(dia->id, strlen(dia->id), q->id);
            size_t k;
            int found = id_index_find(&preds.keys, key, &k);
            free(key);
            if (found)
                used[k] = 1;
            struct quac_turn_score s;
            const char *pred = found ? preds.p[k].span : "";
            int cannot = 0;
            if (found && opts->map_unanswerable)
                rc = means_unanswerable(pred, q, err, &cannot);
            if (rc == GE_OK)
                rc = quac_score_turn(cannot ? QUAC_CANNOT : pred, (const char *const *)q->refs, q->n_refs,
                                     dia->context, &s, err);
            if (rc) {
                ge_error_prefix(err, "%s: question %s: ", dataset_path, q->id);
                goto out;
            }
            if (!found) {
                good_dial = 0.0;
                kept_cat[n_kept] = QUAC_OVERLAP_NO_ANSWER;
                kept_f1[n_kept++] = 0.0;
                n_labels++; /* yes_nos.append(False), followups.append(False) */
                if (s.unanswerable)
                    unans[n_unans++] = 0.0;
                unfiltered[n_unfiltered++] = 0.0;
                continue;
            }
            unfiltered[n_unfiltered++] = s.f1;
            if (s.human_f1 < opts->min_f1)
                continue;
            if (labels) {
                yes_no_hits += strcmp(preds.p[k].yesno, q->yesno) == 0;
                followup_hits += strcmp(preds.p[k].followup, q->followup) == 0;
            }
            n_labels++;
            if (s.unanswerable)
                unans[n_unans++] = s.f1;
            if (s.f1 >= s.human_f1)
                heq += 1.0;
            else
                good_dial = 0.0;
            kept_cat[n_kept] = s.overlap;
            kept_f1[n_kept++] = s.f1;
        }
        dheq += good_dial;
        total_dials++;
    }

    /* Sums in the script's order (see the top of this file). */
    double unfiltered_sum = 0.0, f1_sum = 0.0, unans_sum = 0.0;
    for (size_t i = 0; i < n_unfiltered; i++)
        unfiltered_sum += unfiltered[i];
    int seen[QUAC_OVERLAP_COUNT] = {0};
    for (size_t first = 0; first < n_kept; first++) {
        enum quac_overlap c = kept_cat[first];
        if (seen[c])
            continue;
        seen[c] = 1;
        for (size_t i = first; i < n_kept; i++)
            if (kept_cat[i] == c)
                f1_sum += kept_f1[i];
    }
    for (size_t i = 0; i < n_unans; i++)
        unans_sum += unans[i];
    if (ds.line_ids && (rc = check_line_keys(&preds, used, dataset_path, predictions_path, err)) != GE_OK)
        goto out;

    obj = cJSON_CreateObject();
    add_ratio(obj, "unfiltered_f1", unfiltered_sum, n_unfiltered);
    add_ratio(obj, "f1", f1_sum, n_kept);
    add_ratio(obj, "HEQ", heq, n_kept);
    add_ratio(obj, "DHEQ", dheq, total_dials);
    add_ratio(obj, "yes/no", yes_no_hits, labels ? n_labels : 0);
    add_ratio(obj, "followup", followup_hits, labels ? n_labels : 0);
    add_ratio(obj, "unanswerable_acc", unans_sum, n_unans);
    rc = score_json_print(obj, out_json, err);
out:
    cJSON_Delete(obj);
    free(unfiltered);
    free(kept_f1);
    free(unans);
    free(kept_cat);
    free(used);
    predictions_release_quac(&preds);
    dataset_release(&ds);
    return rc;
}

int quac_score_files(const char *dataset_path, const char *predictions_path, struct strbuf *out_json,
                     struct ge_error *err)
{
    return quac_score_files_opts(dataset_path, predictions_path, NULL, out_json, err);
}
