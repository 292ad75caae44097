/* test_triviaqa.c — TriviaQA normalisation, per-question EM/F1 and the file scorer against the official scripts.
 *
 * Tables and files (provenance in each file's header or "_comment"):
 *   triviaqa_cases.jsonl        per-question normalize_answer, EM and F1, compared exactly;
 *   triviaqa_small_*            a Web-domain file (VerifiedEval filtering, HumanAnswers, repeated pages), a
 *                               Wikipedia file (repeated QuestionId) and its JSONL copy, with predictions;
 *   triviaqa_expected.json      the official evaluate_triviaqa outputs, including the one on
 *                               ../shared/data/triviaqa/validation.jsonl with make_prediction()'s predictions
 *                               (skipped when the data is absent). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "harness/fileio.h"
#include "harness/strbuf.h"
#include "scoring/doc_id.h"
#include "scoring/triviaqa.h"
#include "tests/case_file.h"
#include "tests/qa_test_util.h"
#include "tests/tap.h"

static void table_case(const cJSON *c, const char *id, void *ctx)
{
    const char *pred = case_str(c, id, "pred"), *pred_norm = case_str(c, id, "pred_norm");
    const cJSON *golds = case_array(c, id, "golds");
    double em_want = case_num(c, id, "em"), f1_want = case_num(c, id, "f1");
    if (pred == NULL || golds == NULL)
        return;
    struct strbuf norm;
    struct ge_error err;
    strbuf_init(&norm, 0);
    int rc = triviaqa_normalize(pred, &norm, &err);
    tap_is_str(rc ? err.msg : strbuf_str(&norm), pred_norm, "triviaqa normalize: %s", id);
    size_t n = (size_t)cJSON_GetArraySize(golds), i = 0;
    const char **g = calloc(n ? n : 1, sizeof *g);
    for (const cJSON *it = golds->child; it; it = it->next)
        g[i++] = it->valuestring;
    double em = -1, f1 = -1;
    rc = triviaqa_score_question(pred, g, n, &em, &f1, &err);
    int ok = rc == GE_OK && em == em_want && f1 == f1_want;
    if (!tap_ok(ok, "triviaqa em/f1: %s", id))
        tap_diag("  rc %d, em %.17g want %.17g, f1 %.17g want %.17g", rc, em, em_want, f1, f1_want);
    free(g);
    strbuf_release(&norm);
}

static void test_table(void)
{
    long rows = case_file_each("triviaqa_cases.jsonl", table_case, NULL);
    tap_ok(rows >= 0, "triviaqa: triviaqa_cases.jsonl read, every line a case");
    tap_ok(rows >= 100, "triviaqa: table has %ld rows", rows);

    double em, f1;
    struct ge_error err;
    tap_is_int(triviaqa_score_question("x", NULL, 0, &em, &f1, &err), GE_ERR_USAGE,
               "triviaqa: no ground truths is a usage error");
}

static void run_small(const char *dataset, const char *preds, const cJSON *want, const char *name)
{
    char dpath[1024], ppath[1024], full[256];
    struct strbuf out;
    struct ge_error err;
    qa_test_data_path(dpath, sizeof dpath, dataset);
    qa_test_data_path(ppath, sizeof ppath, preds);
    snprintf(full, sizeof full, "triviaqa file: %s", name);
    strbuf_init(&out, 0);
    int rc = triviaqa_score_files(dpath, ppath, &out, &err);
    if (tap_is_int(rc, GE_OK, "%s scores", full))
        qa_test_check_report(strbuf_str(&out), want, 0.0, full);
    else
        tap_diag("  %s", err.msg);
    strbuf_release(&out);
}

static void expect_error(const char *dataset_text, const char *preds_text, int code, const char *needle,
                         const char *name)
{
    char dpath[512], ppath[512];
    struct strbuf out;
    struct ge_error err;
    if (qa_test_write_temp(dpath, sizeof dpath, dataset_text) || qa_test_write_temp(ppath, sizeof ppath, preds_text)) {
        tap_ok(0, "triviaqa error: %s: cannot write temporary files", name);
        return;
    }
    strbuf_init(&out, 0);
    int rc = triviaqa_score_files(dpath, ppath, &out, &err);
    tap_is_int(rc, code, "triviaqa error: %s: code", name);
    tap_ok(rc != GE_OK && strstr(err.msg, needle) != NULL, "triviaqa error: %s: message has \"%s\" (%s)", name, needle,
           rc ? err.msg : "no error");
    strbuf_release(&out);
    remove(dpath);
    remove(ppath);
}

/* Scores dataset_text against preds_text and checks exact_match and common. */
static void expect_score(const char *dataset_text, const char *preds_text, double exact_match, long long common,
                         const char *name)
{
    char dpath[512], ppath[512];
    struct strbuf out;
    struct ge_error err;
    if (qa_test_write_temp(dpath, sizeof dpath, dataset_text) || qa_test_write_temp(ppath, sizeof ppath, preds_text)) {
        tap_ok(0, "triviaqa ids: %s: cannot write temporary files", name);
        return;
    }
    strbuf_init(&out, 0);
    int rc = triviaqa_score_files(dpath, ppath, &out, &err);
    if (tap_is_int(rc, GE_OK, "triviaqa ids: %s: scores%s%s", name, rc ? ": " : "", rc ? err.msg : "")) {
        cJSON *got = cJSON_Parse(strbuf_str(&out));
        tap_is_double(cJSON_GetNumberValue(cJSON_GetObjectItem(got, "exact_match")), exact_match, 1e-12,
                      "triviaqa ids: %s: exact_match", name);
        tap_is_int((long long)cJSON_GetNumberValue(cJSON_GetObjectItem(got, "common")), common,
                   "triviaqa ids: %s: common", name);
        cJSON_Delete(got);
    }
    strbuf_release(&out);
    remove(dpath);
    remove(ppath);
}

/* JSONL keys are the ids `run` stores (scoring/doc_id.h): question_id when non-empty, else the 1-based line. */
static void test_ids(void)
{
    const char *two = "{\"question_id\": \"\", \"answer\": {\"normalized_aliases\": [\"x\"]}}\n"
                      "{\"question_id\": \"\", \"answer\": {\"normalized_aliases\": [\"y\"]}}\n";
    expect_score(two, "{\"1\": \"x\", \"2\": \"y\"}", 100.0, 2, "line ids are 1-based");
    expect_score("{\"question_id\": \"a\", \"answer\": {\"normalized_aliases\": [\"x\"]}}\n\n"
                 "{\"question_id\": \"\", \"answer\": {\"normalized_aliases\": [\"y\"]}}\n",
                 "{\"a\": \"x\", \"3\": \"y\"}", 100.0, 2, "question_id, else the line (a blank line counts)");
    expect_score(two, "{\"1\": \"x\", \"not-a-question\": \"y\"}", 50.0, 1, "a non-number unknown key is ignored");
    /* A file keyed by 0-based line numbers would score "x" against "y": its key "0" is an error instead. */
    expect_error(two, "{\"0\": \"x\", \"1\": \"y\"}", GE_ERR_FORMAT,
                 "prediction for unknown question \"0\" (", "0-based keys: \"0\" is unknown");
    expect_error(two, "{\"1\": \"x\", \"3\": \"y\"}", GE_ERR_FORMAT,
                 "prediction for unknown question \"3\" (", "a key past the last line is unknown");
    expect_error(two, "{\"0\": \"x\"}", GE_ERR_FORMAT, "by its 1-based line number", "the message states the rule");
    expect_error("{\"question_id\": 7, \"answer\": {\"normalized_aliases\": [\"x\"]}}\n", "{}", GE_ERR_FORMAT,
                 "line 1: field \"question_id\" is not a string", "JSONL with a number as question_id");
}

static void test_errors(void)
{
    expect_error("{\"Domain\": \"Web\", \"VerifiedEval\": true, \"Data\": [{\"QuestionId\": \"q\", "
                 "\"QuestionPartOfVerifiedEval\": true, \"Answer\": {\"NormalizedAliases\": [\"x\"]}, "
                 "\"EntityPages\": [{\"Filename\": \"a\", \"DocPartOfVerifiedEval\": false}]}]}",
                 "{}", GE_ERR_FORMAT, "Data[0]: verified question has no verified page", "verified question without pages");
    expect_error("{\"VerifiedEval\": false, \"Data\": []}", "{}", GE_ERR_FORMAT, "field \"Domain\" is missing",
                 "official file without Domain");
    expect_error("{\"Domain\": \"Wikipedia\", \"VerifiedEval\": false, \"Data\": [{\"QuestionId\": \"q\", "
                 "\"Answer\": {\"Aliases\": [\"x\"]}}]}",
                 "{}", GE_ERR_FORMAT, "Data[0]: field \"Answer.NormalizedAliases\" is missing", "official without aliases");
    expect_error("{\"question_id\": \"\", \"answer\": {\"aliases\": [\"x\"]}}\n", "{}", GE_ERR_FORMAT,
                 "line 1: field \"answer.normalized_aliases\" is missing", "JSONL without normalized_aliases");
    expect_error("{\"question_id\": \"\", \"answer\": {\"normalized_aliases\": [\"x\"]}}\n", "{\"1\": null}",
                 GE_ERR_FORMAT, "prediction for \"1\" is not a string", "null prediction");
    expect_error("{\"question_id\": \"\", \"answer\": {\"normalized_aliases\": []}}\n", "{\"1\": \"x\"}", GE_ERR_USAGE,
                 "question \"1\": TriviaQA scoring needs at least one ground truth", "question without aliases");
}

/* The deterministic prediction for key with answer value and aliases (as predict() in
 * tests/gen/scoring_text/gen_triviaqa.py); returns 0 when the key gets no prediction. */
static int make_prediction(const char *key, const char *value, const cJSON *aliases, struct strbuf *out)
{
    strbuf_reset(out);
    switch (qa_test_fnv1a64(key) % 6) {
    case 0:
        strbuf_append_str(out, value, NULL);
        return 1;
    case 1:
        for (const char *p = value; *p; p++)
            strbuf_append_char(out, *p >= 'a' && *p <= 'z' ? (char)(*p - 32) : *p, NULL);
        strbuf_append_char(out, '.', NULL);
        return 1;
    case 2:
        return 1;
    case 3:
        strbuf_append_str(out, "xylophone", NULL);
        return 1;
    case 4:
        strbuf_appendf(out, NULL, "The %s",
                       cJSON_GetArrayItem(aliases, cJSON_GetArraySize(aliases) - 1)->valuestring);
        return 1;
    default:
        return 0;
    }
}

static void test_shared(const cJSON *exp)
{
    const char *shared = tap_shared_dir();
    char dpath[1024];
    if (shared)
        snprintf(dpath, sizeof dpath, "%s/data/triviaqa/validation.jsonl", shared);
    if (shared == NULL || !file_exists(dpath)) {
        tap_skip("../shared/data/triviaqa/validation.jsonl is absent", "triviaqa shared: whole-file check");
        return;
    }
    char *data = qa_test_read(shared, "data/triviaqa/validation.jsonl");
    if (!tap_ok(data != NULL, "triviaqa shared: dataset read"))
        return;
    cJSON *preds = cJSON_CreateObject();
    struct strbuf pred;
    strbuf_init(&pred, 0);
    struct line_iter it;
    const char *line;
    size_t n, records = 0;
    line_iter_init(&it, data, strlen(data));
    while (line_iter_next(&it, &line, &n)) {
        cJSON *rec = cJSON_ParseWithLength(line, n);
        const cJSON *answer = cJSON_GetObjectItem(rec, "answer");
        const cJSON *value = cJSON_GetObjectItem(answer, "value");
        const cJSON *aliases = cJSON_GetObjectItem(answer, "aliases");
        if (cJSON_IsString(value) && cJSON_GetArraySize(aliases) > 0) {
            /* Keyed by the line id (the 1-based line number, scoring/doc_id.h); the prediction is drawn from the
             * hash of the 0-based one, the key the expected values were made with. */
            char key[32], id[DOC_ID_LINE_CAP];
            snprintf(key, sizeof key, "%zu", it.line_no - 1);
            doc_id_from_line(it.line_no, id);
            if (make_prediction(key, value->valuestring, aliases, &pred))
                cJSON_AddStringToObject(preds, id, strbuf_str(&pred));
            records++;
        }
        cJSON_Delete(rec);
    }
    cJSON_AddStringToObject(preds, "not-a-question", "x");
    tap_is_int((long long)records, (long long)cJSON_GetObjectItem(exp, "shared_records")->valuedouble,
               "triviaqa shared: record count as when the expected values were made");
    char *text = cJSON_Print(preds);
    char ppath[512];
    struct strbuf out;
    struct ge_error err;
    strbuf_init(&out, 0);
    if (qa_test_write_temp(ppath, sizeof ppath, text) == 0) {
        int rc = triviaqa_score_files(dpath, ppath, &out, &err);
        if (tap_is_int(rc, GE_OK, "triviaqa shared: scores"))
            qa_test_check_report(strbuf_str(&out), cJSON_GetObjectItem(exp, "shared"), 1e-9,
                                 "triviaqa shared: validation report");
        else
            tap_diag("  %s", err.msg);
        remove(ppath);
    } else {
        tap_ok(0, "triviaqa shared: write temporary predictions");
    }
    cJSON_free(text);
    cJSON_Delete(preds);
    strbuf_release(&out);
    strbuf_release(&pred);
    free(data);
}

int main(void)
{
    test_table();
    cJSON *exp = qa_test_read_json("triviaqa_expected.json");
    if (tap_ok(exp != NULL, "triviaqa: triviaqa_expected.json parses")) {
        run_small("triviaqa_small_web.json", "triviaqa_small_web_preds.json", cJSON_GetObjectItem(exp, "web"),
                  "Web domain, VerifiedEval");
        run_small("triviaqa_small_wiki.json", "triviaqa_small_wiki_preds.json", cJSON_GetObjectItem(exp, "wiki"),
                  "Wikipedia domain");
        run_small("triviaqa_small_wiki.jsonl", "triviaqa_small_wiki_preds.json", cJSON_GetObjectItem(exp, "wiki_jsonl"),
                  "JSONL with question ids");
        test_shared(exp);
    }
    test_ids();
    test_errors();
    cJSON_Delete(exp);
    return tap_done();
}
