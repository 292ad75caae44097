/* test_quac.c — QuAC per-question F1 / human F1 / overlap category and the file scorer against values computed
 * with the official scorer.py (tables in tests/data/quac_*.jsonl), plus a whole-file check on ../shared/data/quac. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "harness/fileio.h"
#include "harness/strbuf.h"
#include "scoring/doc_id.h"
#include "scoring/pyfloat.h"
#include "scoring/quac.h"
#include "tests/case_file.h"
#include "tests/qa_test_util.h"
#include "tests/tap.h"

#define MAX_REFS 8

static const char *const overlap_names[QUAC_OVERLAP_COUNT] = {
    [QUAC_OVERLAP_NO_ANSWER] = "NO ANSWER",           [QUAC_OVERLAP_EXACT] = "Exact match",
    [QUAC_OVERLAP_PARTIAL] = "Partial overlap",       [QUAC_OVERLAP_NONE] = "No overlap",
    [QUAC_OVERLAP_INDEX_ERROR] = "Span indexing error",
};

struct turn_ctx {
    char *context; /* owned; taken from the first case that has one */
};

static void turn_case(const cJSON *c, const char *id, void *ctxp)
{
    struct turn_ctx *tc = ctxp;
    const char *refs[MAX_REFS];
    size_t n = 0;
    const cJSON *rl = cJSON_GetObjectItemCaseSensitive(c, "refs");
    const char *pred = case_str(c, id, "pred");
    const char *context = case_opt_str(c, id, "context");
    if (context && tc->context == NULL)
        tc->context = strdup(context);
    int ok = pred && cJSON_IsArray(rl) && cJSON_GetArraySize(rl) <= MAX_REFS && tc->context;
    for (const cJSON *r = ok ? rl->child : NULL; r && ok; r = r->next)
        ok = cJSON_IsString(r) && (refs[n++] = r->valuestring) != NULL;
    if (!tap_ok(ok, "%s: case has pred and refs (and a context was given)", id))
        return;
    struct quac_turn_score s;
    struct ge_error err;
    char b1[PYFLOAT_REPR_CAP], b2[PYFLOAT_REPR_CAP];
    int rc = quac_score_turn(pred, refs, n, tc->context, &s, &err);
    tap_is_str(rc == GE_OK ? pyfloat_repr(s.f1, b1) : err.msg, case_str(c, id, "f1"), "%s: f1", id);
    tap_is_str(rc == GE_OK ? pyfloat_repr(s.human_f1, b2) : err.msg, case_str(c, id, "human_f1"), "%s: human f1", id);
    tap_is_str(rc == GE_OK ? overlap_names[s.overlap] : err.msg, case_str(c, id, "overlap"), "%s: overlap category", id);
    tap_is_int(rc == GE_OK ? s.unanswerable : -1,
               cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c, "unanswerable")), "%s: unanswerable", id);
}

static const char *const metric_keys[] = {"unfiltered_f1", "f1", "HEQ", "DHEQ", "yes/no", "followup", "unanswerable_acc"};

/* Compares our output with the expected metric_json: the seven keys in order, equal numbers or both null. */
static void check_output(const char *id, const char *json, const cJSON *expected)
{
    cJSON *got = cJSON_Parse(json);
    const cJSON *g = got ? got->child : NULL;
    int order_ok = cJSON_GetArraySize(got) == 7;
    for (int k = 0; k < 7; k++, g = g ? g->next : NULL) {
        order_ok = order_ok && g && strcmp(g->string, metric_keys[k]) == 0;
        const cJSON *ev = cJSON_GetObjectItemCaseSensitive(expected, metric_keys[k]);
        const cJSON *gv = cJSON_GetObjectItemCaseSensitive(got, metric_keys[k]);
        char b1[PYFLOAT_REPR_CAP], b2[PYFLOAT_REPR_CAP];
        const char *gs = cJSON_IsNumber(gv) ? pyfloat_repr(gv->valuedouble, b1) : cJSON_IsNull(gv) ? "null" : "?";
        const char *es = cJSON_IsNumber(ev) ? pyfloat_repr(ev->valuedouble, b2) : cJSON_IsNull(ev) ? "null" : "missing";
        tap_is_str(gs, es, "%s: %s", id, metric_keys[k]);
    }
    tap_ok(order_ok, "%s: output has the official keys in the official order", id);
    cJSON_Delete(got);
}

static void files_case(const cJSON *c, const char *id, void *ctx)
{
    char dpath[4096], ppath[4096];
    struct strbuf out;
    struct ge_error err;
    qa_test_data_path(dpath, sizeof dpath, case_str(c, id, "dataset"));
    qa_test_data_path(ppath, sizeof ppath, case_str(c, id, "predictions"));
    strbuf_init(&out, 0);
    int rc = quac_score_files(dpath, ppath, &out, &err);
    if (tap_is_int(rc, GE_OK, "%s: file scorer runs%s%s", id, rc ? ": " : "", rc ? err.msg : ""))
        check_output(id, strbuf_str(&out), cJSON_GetObjectItemCaseSensitive(c, "expected"));
    strbuf_release(&out);
}

/* ---- whole-file check on the shared data ---------------------------------------------------------------- */

/* Appends the official-JSONL prediction line of strategy "mix" for qid (keep in step with the generator named in
 * quac_shared.jsonl), or nothing for "missing". Returns 1 when a line was added. */
/* One official-JSONL prediction for qid, chosen by the hash of key. */
static int add_mix_line(struct strbuf *out, const char *key, const char *qid, const char *gold)
{
    char text[8192];
    struct ge_error err;
    switch (qa_test_fnv1a32(key) % 6) {
    case 0: snprintf(text, sizeof text, "%s", gold); break;
    case 1: snprintf(text, sizeof text, "%.*s", (int)strcspn(gold, " "), gold); break;
    case 2: snprintf(text, sizeof text, "%s", QUAC_CANNOT); break;
    case 3: text[0] = '\0'; break;
    case 4: return 0;
    default: snprintf(text, sizeof text, "%s and more", gold); break;
    }
    cJSON *line = cJSON_CreateObject();
    cJSON_AddItemToObject(line, "qid", cJSON_CreateStringArray(&qid, 1));
    const char *span = text, *yes = "x", *fol = "n";
    cJSON_AddItemToObject(line, "best_span_str", cJSON_CreateStringArray(&span, 1));
    cJSON_AddItemToObject(line, "yesno", cJSON_CreateStringArray(&yes, 1));
    cJSON_AddItemToObject(line, "followup", cJSON_CreateStringArray(&fol, 1));
    char *s = cJSON_PrintUnformatted(line);
    strbuf_append_str(out, s, &err);
    strbuf_append_char(out, '\n', &err);
    free(s);
    cJSON_Delete(line);
    return 1;
}

static void shared_case(const cJSON *c, const char *id, void *ctx)
{
    const char *shared = ctx;
    char dpath[4096], ppath[4096];
    snprintf(dpath, sizeof dpath, "%s/data/%s", shared, case_str(c, id, "dataset"));
    struct ge_error err;
    char *data = NULL;
    size_t len = 0;
    if (file_read_all(dpath, 0, &data, &len, &err) != GE_OK) {
        tap_skip("shared QuAC data absent", "%s: %s", id, err.msg);
        return;
    }
    struct strbuf preds;
    strbuf_init(&preds, 0);
    struct line_iter it;
    const char *line;
    size_t n, n_preds = 0;
    line_iter_init(&it, data, len);
    while (line_iter_next(&it, &line, &n)) {
        cJSON *rec = cJSON_ParseWithLength(line, n);
        /* Dialogue ids are line ids (the 1-based line number, scoring/doc_id.h); the prediction is drawn from the
         * hash of the qid with the 0-based number, the one the expected values were made with. */
        char did[DOC_ID_LINE_CAP], qid[DOC_ID_LINE_CAP + 8], key[40];
        doc_id_from_line(it.line_no, did);
        snprintf(qid, sizeof qid, "%s_q#0", did);
        snprintf(key, sizeof key, "%zu_q#0", it.line_no - 1);
        const char *answer = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(rec, "answer"));
        if (answer)
            n_preds += add_mix_line(&preds, key, qid, answer);
        cJSON_Delete(rec);
    }
    free(data);
    tap_is_int((long long)n_preds, (long long)case_num(c, id, "predictions"), "%s: generated predictions", id);
    int written = qa_test_write_temp(ppath, sizeof ppath, strbuf_str(&preds)) == 0;
    strbuf_release(&preds);
    if (!tap_ok(written, "%s: predictions written to %s", id, ppath))
        return;
    struct strbuf out;
    strbuf_init(&out, 0);
    int rc = quac_score_files(dpath, ppath, &out, &err);
    if (tap_is_int(rc, GE_OK, "%s: file scorer runs%s%s", id, rc ? ": " : "", rc ? err.msg : ""))
        check_output(id, strbuf_str(&out), cJSON_GetObjectItemCaseSensitive(c, "expected"));
    strbuf_release(&out);
    unlink(ppath);
}

/* ---- options, errors, limits ---------------------------------------------------------------------------- */

static int score_texts(const char *dataset, const char *predictions, const struct quac_options *opts,
                       struct strbuf *out, struct ge_error *err)
{
    char dpath[4096], ppath[4096];
    if (qa_test_write_temp(dpath, sizeof dpath, dataset) || qa_test_write_temp(ppath, sizeof ppath, predictions))
        return ge_error_set(err, GE_ERR_IO, "cannot write temporary files");
    strbuf_reset(out);
    int rc = quac_score_files_opts(dpath, ppath, opts, out, err);
    unlink(dpath);
    unlink(ppath);
    return rc;
}

/* The number under key in the JSON text, or -1 when absent or not a number. */
static double value_of(const char *json, const char *key)
{
    cJSON *o = cJSON_Parse(json);
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    double x = cJSON_IsNumber(v) ? v->valuedouble : -1.0;
    cJSON_Delete(o);
    return x;
}

/* 1 when key is present in the JSON text with the value null. */
static int is_null(const char *json, const char *key)
{
    cJSON *o = cJSON_Parse(json);
    int yes = cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(o, key));
    cJSON_Delete(o);
    return yes;
}

static void options_and_errors(void)
{
    struct ge_error err;
    struct strbuf out;
    strbuf_init(&out, 0);
    const char *foundry = "{\"context\": \"Title: T\\n\\nSection: S\\nContext: The sky is blue. CANNOTANSWER\\n\\n"
                          "Question: Why?\", \"answer\": \"CANNOTANSWER\", \"aliases\": [\"Cannot answer\"]}\n";
    const char *pred = "{\"1_q#0\": \"Cannot answer.\"}";
    struct quac_options off = QUAC_OPTIONS_DEFAULT, on = QUAC_OPTIONS_DEFAULT;
    on.map_unanswerable = 1;
    tap_is_int(score_texts(foundry, pred, &off, &out, &err), GE_OK, "options: foundry row with an alias answer");
    tap_is_double(value_of(strbuf_str(&out), "f1"), 0.0, 0.0, "options: official rule gives an alias 0");
    tap_is_int(score_texts(foundry, pred, &on, &out, &err), GE_OK, "options: same with map_unanswerable");
    tap_is_double(value_of(strbuf_str(&out), "f1"), 100.0, 0.0, "options: map_unanswerable accepts the row's alias");
    tap_is_int(score_texts(foundry, "{\"1_q#0\": \"unanswerable\"}", &on, &out, &err), GE_OK,
               "options: \"unanswerable\" with map_unanswerable");
    tap_is_double(value_of(strbuf_str(&out), "unanswerable_acc"), 100.0, 0.0, "options: \"unanswerable\" is mapped");
    tap_ok(is_null(strbuf_str(&out), "yes/no") && is_null(strbuf_str(&out), "followup"),
           "options: yes/no and followup are null for a file without labels");

    /* min_f1: a question whose references disagree completely (human F1 0) is filtered at 0.4, kept at 0. */
    const char *val = "{\"data\": [{\"paragraphs\": [{\"id\": \"D\", \"context\": \"a b c d\", \"qas\": [{\"id\": \"D_q#0\", "
                      "\"answers\": [{\"text\": \"a b\"}, {\"text\": \"c d\"}], \"yesno\": \"x\", \"followup\": \"y\"}]}]}]}";
    const char *p1 = "{\"qid\": [\"D_q#0\"], \"best_span_str\": [\"a b\"], \"yesno\": [\"x\"], \"followup\": [\"y\"]}\n";
    struct quac_options zero = QUAC_OPTIONS_DEFAULT;
    zero.min_f1 = 0.0;
    tap_is_int(score_texts(val, p1, &off, &out, &err), GE_OK, "min_f1: default threshold runs");
    tap_ok(is_null(strbuf_str(&out), "f1") && is_null(strbuf_str(&out), "HEQ"),
           "min_f1: the only question is filtered, so f1 and HEQ are null");
    tap_is_double(value_of(strbuf_str(&out), "unfiltered_f1"), 50.0, 1e-12, "min_f1: unfiltered_f1 still counts it");
    tap_is_double(value_of(strbuf_str(&out), "DHEQ"), 100.0, 0.0, "min_f1: a dialogue of filtered questions passes");
    tap_is_int(score_texts(val, p1, &zero, &out, &err), GE_OK, "min_f1: threshold 0 runs");
    tap_is_double(value_of(strbuf_str(&out), "f1"), 50.0, 1e-12, "min_f1: threshold 0 keeps the question");
    tap_is_double(value_of(strbuf_str(&out), "HEQ"), 100.0, 0.0, "min_f1: 0.5 >= human 0 is human-equivalent");

    tap_is_int(score_texts(val, "{\"qid\": \"D_q#0\", \"best_span_str\": [\"a\"], \"yesno\": [], \"followup\": []}\n",
                           &off, &out, &err),
               GE_ERR_FORMAT, "errors: qid not a list");
    tap_is_int(score_texts(val, "{\"D_q#0\": 5}", &off, &out, &err), GE_ERR_FORMAT, "errors: a number as answer");
    tap_ok(strstr(err.msg, "D_q#0") != NULL, "errors: message names the question (%s)", err.msg);
    tap_is_int(score_texts("{\"data\": [{\"paragraphs\": [{\"id\": \"D\", \"context\": \"x\", \"qas\": [{\"id\": \"D_q#0\", "
                           "\"answers\": []}]}]}]}",
                           "{}", &off, &out, &err),
               GE_ERR_FORMAT, "errors: a question without answers");
    tap_is_int(score_texts("{\"answer\": \"x\"}\n", "{}", &off, &out, &err), GE_ERR_FORMAT,
               "errors: a foundry line without context");
    tap_ok(strstr(err.msg, "line 1") != NULL, "errors: message names the line (%s)", err.msg);

    /* Foundry dialogue ids are the ids `run` stores: the 1-based line numbers, blank lines counted. Predictions
     * keyed by 0-based numbers would score each answer against the next question: their "0_q#0" is an error. */
    char two[2048];
    snprintf(two, sizeof two, "%s\n%s", foundry,
             "{\"context\": \"Title: T\\n\\nSection: S\\nContext: Grass is green.\\n\\nQuestion: What colour?\", "
             "\"answer\": \"green\", \"aliases\": []}\n");
    tap_is_int(score_texts(two, "{\"1_q#0\": \"CANNOTANSWER\", \"3_q#0\": \"green\"}", &off, &out, &err), GE_OK,
               "ids: dialogues \"1\" and \"3\" (line 2 is blank)");
    tap_is_double(value_of(strbuf_str(&out), "unfiltered_f1"), 100.0, 0.0, "ids: both answers score against their line");
    tap_is_int(score_texts(two, "{\"0_q#0\": \"CANNOTANSWER\", \"1_q#0\": \"green\"}", &off, &out, &err),
               GE_ERR_FORMAT, "ids: 0-based keys are an error");
    tap_ok(strstr(err.msg, "unknown question \"0_q#0\"") != NULL && strstr(err.msg, "1-based") != NULL,
           "ids: the message names the question and the rule (%s)", err.msg);
    tap_is_int(score_texts(two, "{\"1_q#0\": \"CANNOTANSWER\", \"other\": \"x\"}", &off, &out, &err), GE_OK,
               "ids: a key that is no line number is ignored, as the script ignores it");
    strbuf_release(&out);

    struct quac_turn_score s;
    const char *refs[QUAC_REFS_MAX + 1];
    for (int i = 0; i <= QUAC_REFS_MAX; i++)
        refs[i] = "x";
    tap_is_int(quac_score_turn("x", refs, 0, NULL, &s, &err), GE_ERR_USAGE, "errors: a question without references");
    tap_is_int(quac_score_turn("x", refs, QUAC_REFS_MAX + 1, NULL, &s, &err), GE_ERR_LIMIT,
               "errors: more than QUAC_REFS_MAX references");
    tap_is_int(quac_score_turn("x", refs, QUAC_REFS_MAX, NULL, &s, &err), GE_OK, "limits: QUAC_REFS_MAX references");
    tap_ok(s.f1 == 1.0 && s.human_f1 == 1.0, "limits: identical references score 1");
}

int main(void)
{
    struct turn_ctx tc = {NULL};
    long n = case_file_each("quac_turns.jsonl", turn_case, &tc);
    free(tc.context);
    tap_ok(n >= 100, "quac_turns.jsonl has %ld cases", n);
    n = case_file_each("quac_files.jsonl", files_case, NULL);
    tap_ok(n >= 3, "quac_files.jsonl has %ld cases", n);
    const char *shared = tap_shared_dir();
    if (shared == NULL)
        tap_skip("../shared is absent", "whole-file check on ../shared/data/quac/quac.jsonl");
    else
        case_file_each("quac_shared.jsonl", shared_case, (void *)shared);
    options_and_errors();
    return tap_done();
}
