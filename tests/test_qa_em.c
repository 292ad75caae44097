/* test_qa_em.c — open-domain QA EM/F1 and the generic `score em|f1` file scorer.
 *
 * Tables and files (provenance in each file's header or "_comment"):
 *   qa_em_cases.jsonl        per-question EM and F1 (official SQuAD v2.0 functions), compared exactly;
 *   qa_em_small_*            small datasets in the nq_open, squad_v2 and a custom shape, with JSONL predictions;
 *   qa_em_expected.json      expected reports, including ../shared/data nq_open, webqs, triviaqa and squad_v2 with
 *                            make_prediction()'s predictions (skipped when the data is absent). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "harness/fileio.h"
#include "harness/strbuf.h"
#include "scoring/doc_id.h"
#include "scoring/qa_em.h"
#include "tests/case_file.h"
#include "tests/qa_test_util.h"
#include "tests/tap.h"

static void table_case(const cJSON *c, const char *id, void *ctx)
{
    const char *pred = case_str(c, id, "pred");
    const cJSON *golds = case_array(c, id, "golds");
    double em_want = case_num(c, id, "em"), f1_want = case_num(c, id, "f1");
    if (pred == NULL || golds == NULL)
        return;
    size_t ng = (size_t)cJSON_GetArraySize(golds), i = 0;
    const char **g = calloc(ng ? ng : 1, sizeof *g);
    for (const cJSON *x = golds->child; x; x = x->next)
        g[i++] = x->valuestring;
    double em = -1, f1 = -1;
    struct ge_error err;
    int rc = qa_em_score(pred, g, ng, &em, &err);
    rc |= qa_f1_score(pred, g, ng, &f1, &err);
    if (!tap_ok(rc == GE_OK && em == em_want && f1 == f1_want, "qa em/f1: %s", id))
        tap_diag("  rc %d, em %.17g want %.17g, f1 %.17g want %.17g", rc, em, em_want, f1, f1_want);
    free(g);
}

static void test_table(void)
{
    long rows = case_file_each("qa_em_cases.jsonl", table_case, NULL);
    tap_ok(rows >= 0, "qa: qa_em_cases.jsonl read, every line a case");
    tap_ok(rows >= 30, "qa: table has %ld rows", rows);
}

static void run_small(const cJSON *exp, const char *key, const char *dataset, const char *preds,
                      const char *answer_field, const char *id_field)
{
    char dpath[1024], ppath[1024], name[128];
    struct strbuf out;
    struct ge_error err;
    qa_test_data_path(dpath, sizeof dpath, dataset);
    qa_test_data_path(ppath, sizeof ppath, preds);
    snprintf(name, sizeof name, "qa file: %s", key);
    strbuf_init(&out, 0);
    const char *metric = strstr(key, "_f1") ? "f1" : "em";
    int rc = qa_score_files(metric, dpath, ppath, answer_field, id_field, &out, &err);
    if (tap_is_int(rc, GE_OK, "%s scores", name))
        qa_test_check_report(strbuf_str(&out), cJSON_GetObjectItem(exp, key), 1e-15, name);
    else
        tap_diag("  %s", err.msg);
    strbuf_release(&out);
}

/* Scores dataset_text against preds_text (written to temporary files) into out; -1 when the files cannot be
 * written. */
static int score_texts(const char *metric, const char *dataset_text, const char *preds_text, const char *answer_field,
                       const char *id_field, struct strbuf *out, struct ge_error *err)
{
    char dpath[512], ppath[512];
    if (qa_test_write_temp(dpath, sizeof dpath, dataset_text) || qa_test_write_temp(ppath, sizeof ppath, preds_text))
        return -1;
    int rc = qa_score_files(metric, dpath, ppath, answer_field, id_field, out, err);
    remove(dpath);
    remove(ppath);
    return rc;
}

static void expect_error(const char *metric, const char *dataset_text, const char *preds_text,
                         const char *answer_field, const char *id_field, int code, const char *needle,
                         const char *name)
{
    struct strbuf out;
    struct ge_error err = {0};
    strbuf_init(&out, 0);
    int rc = score_texts(metric, dataset_text, preds_text, answer_field, id_field, &out, &err);
    tap_is_int(rc, code, "qa error: %s: code", name);
    tap_ok(rc != GE_OK && strstr(err.msg, needle) != NULL, "qa error: %s: message has \"%s\" (%s)", name, needle,
           rc ? err.msg : "no error");
    strbuf_release(&out);
}

static void test_errors(void)
{
    const char *ds = "{\"answer\": [\"x\"]}\n{\"answer\": [\"y\"]}\n";
    expect_error("acc", ds, "", NULL, NULL, GE_ERR_USAGE, "unknown metric \"acc\"", "unknown metric");
    expect_error("em", "{\"answer\": [\"x\"]}\n{\"answer\": \n", "", NULL, NULL, GE_ERR_FORMAT, "line 2: malformed JSON",
                 "malformed dataset line");
    expect_error("em", ds, "{\"id\": 0, \"prediction\": \"x\"}\n[1]\n", NULL, NULL, GE_ERR_FORMAT,
                 "line 2: not a JSON object", "predictions line not an object");
    expect_error("em", ds, "{\"prediction\": \"x\"}\n", NULL, NULL, GE_ERR_FORMAT, "line 1: missing field \"id\"",
                 "prediction without id");
    expect_error("em", ds, "{\"id\": 0}\n", NULL, NULL, GE_ERR_FORMAT, "line 1: field \"prediction\" is missing",
                 "prediction without text");
    expect_error("em", ds, "{\"id\": 0.5, \"prediction\": \"x\"}\n", NULL, NULL, GE_ERR_FORMAT,
                 "line 1: field \"id\": id is not a string or an integer", "fractional id");
    expect_error("em", ds, "{\"id\": 1, \"prediction\": \"x\"}\n{\"id\": \"1\", \"prediction\": \"y\"}\n", NULL, NULL,
                 GE_ERR_FORMAT, "line 2: duplicate id \"1\" (first on line 1)", "duplicate prediction id");
    expect_error("em", ds, "{\"id\": 3, \"prediction\": \"x\"}\n", NULL, NULL, GE_ERR_FORMAT,
                 "line 1: prediction for unknown id \"3\"", "prediction for an unknown id");
    /* Ids of records without one are their 1-based line numbers (what `run` stores): a file keyed by 0-based line
     * numbers fails on its id 0, naming the file's line, instead of scoring each answer against the next
     * question. */
    expect_error("em", ds, "{\"id\": 0, \"prediction\": \"x\"}\n{\"id\": 1, \"prediction\": \"y\"}\n", NULL, NULL,
                 GE_ERR_FORMAT, "line 1: prediction for unknown id \"0\"", "0-based ids: id 0 is unknown");
    expect_error("em", ds, "{\"id\": 1, \"prediction\": \"x\"}\n{\"id\": 0, \"prediction\": \"y\"}\n", NULL, NULL,
                 GE_ERR_FORMAT, "whose ids are its 1-based line numbers", "0-based ids: the message states the rule");
    expect_error("em", "{\"id\": \"a\", \"answer\": [\"x\"]}\n{\"id\": \"a\", \"answer\": [\"y\"]}\n", "", NULL, NULL,
                 GE_ERR_FORMAT, "line 2: duplicate id \"a\" (first on line 1)", "duplicate dataset id");
    expect_error("em", "{\"answer\": [\"x\"]}\n{\"answer\": [1]}\n", "", NULL, NULL, GE_ERR_FORMAT,
                 "line 2: field \"answer\" is not a string, an array of strings", "non-string gold");
    expect_error("em", "{\"answer\": [\"x\"]}\n{\"question\": \"q\"}\n", "", NULL, NULL, GE_ERR_FORMAT,
                 "line 2: missing field \"answer\"", "dataset record without the answer field");
    expect_error("em", "{\"golds\": [\"x\"]}\n", "", NULL, NULL, GE_ERR_FORMAT, "line 1: no gold answers found",
                 "no known answer field");
    expect_error("f1", ds, "", "meta.answer", NULL, GE_ERR_FORMAT, "line 1: missing field \"meta.answer\"",
                 "explicit answer field absent");
    expect_error("em", ds, "", NULL, "qid", GE_ERR_FORMAT, "line 1: missing field \"qid\"", "explicit id field absent");
    expect_error("em", "\n", "", NULL, NULL, GE_ERR_FORMAT, "no questions", "empty dataset");
    expect_error("em", "{\"answer\": {\"aliases\": [\"x\"]}}\n", "", NULL, NULL, GE_ERR_USAGE,
                 "score it with 'glam-eval score triviaqa'", "TriviaQA data found by auto-detection");
}

/* Scores dataset_text against preds_text and checks the report is want (exactly). */
static void expect_report(const char *dataset_text, const char *preds_text, const char *want_json, const char *name)
{
    struct strbuf out;
    struct ge_error err = {0};
    strbuf_init(&out, 0);
    int rc = score_texts("em", dataset_text, preds_text, NULL, NULL, &out, &err);
    cJSON *want = cJSON_Parse(want_json);
    if (tap_is_int(rc, GE_OK, "%s: scores (%s)", name, rc ? err.msg : ""))
        qa_test_check_report(strbuf_str(&out), want, 0.0, name);
    cJSON_Delete(want);
    strbuf_release(&out);
}

/* Without --id-field each record's id is decided by itself, as the task loaders decide it (the id `run` stores):
 * its "id", else its "question_id", else its line number; the first record does not decide for the others. */
static void test_mixed_ids(void)
{
    const char *want = "{\"metric\": \"em\", \"score\": 1.0, \"stderr\": 0.0, \"n\": 3, \"missing\": 0}";
    expect_report("{\"id\": \"a\", \"answer\": [\"x\"]}\n{\"answer\": [\"y\"]}\n"
                  "{\"question_id\": \"q3\", \"answer\": [\"z\"]}\n",
                  "{\"id\": \"a\", \"prediction\": \"x\"}\n{\"id\": \"2\", \"prediction\": \"y\"}\n"
                  "{\"id\": \"q3\", \"prediction\": \"z\"}\n",
                  want, "qa mixed ids: an id, then none (line 2), then a question_id");
    expect_report("{\"answer\": [\"x\"]}\n{\"id\": \"b\", \"answer\": [\"y\"]}\n{\"id\": 7, \"answer\": [\"z\"]}\n",
                  "{\"id\": 1, \"prediction\": \"x\"}\n{\"id\": \"b\", \"prediction\": \"y\"}\n"
                  "{\"id\": \"7\", \"prediction\": \"z\"}\n",
                  want, "qa mixed ids: none (line 1), then ids");
}

/* One question: the mean is defined, the sample standard deviation is not, so stderr is null. */
static void test_single(void)
{
    char dpath[512], ppath[512];
    struct strbuf out;
    struct ge_error err;
    if (qa_test_write_temp(dpath, sizeof dpath, "{\"answer\": \"Paris\"}\n") ||
        qa_test_write_temp(ppath, sizeof ppath, "{\"id\": \"1\", \"prediction\": \"paris.\"}\n")) {
        tap_ok(0, "qa single: cannot write temporary files");
        return;
    }
    strbuf_init(&out, 0);
    int rc = qa_score_files("em", dpath, ppath, NULL, NULL, &out, &err);
    cJSON *want = cJSON_Parse("{\"metric\": \"em\", \"score\": 1.0, \"stderr\": null, \"n\": 1, \"missing\": 0}");
    if (tap_is_int(rc, GE_OK, "qa single: one question scores"))
        qa_test_check_report(strbuf_str(&out), want, 0.0, "qa single: stderr is null for n = 1");
    cJSON_Delete(want);
    strbuf_release(&out);
    remove(dpath);
    remove(ppath);
}

/* The deterministic prediction for the question hashed as key with gold answers golds (as predict() in
 * tests/gen/scoring_text/gen_qa_em.py); returns 0 when the question gets no prediction. */
static int make_prediction(const char *key, const cJSON *golds, struct strbuf *out)
{
    int n = cJSON_GetArraySize(golds);
    strbuf_reset(out);
    switch (qa_test_fnv1a64(key) % 5) {
    case 0:
        strbuf_append_str(out, n ? cJSON_GetArrayItem(golds, 0)->valuestring : "", NULL);
        return 1;
    case 1:
        if (n)
            strbuf_appendf(out, NULL, "The %s extra words.", cJSON_GetArrayItem(golds, n - 1)->valuestring);
        else
            strbuf_append_str(out, "unanswerable", NULL);
        return 1;
    case 2:
        return 1;
    case 3:
        strbuf_append_str(out, "xylophone", NULL);
        return 1;
    default:
        return 0;
    }
}

/* Gold list of a shared record: path is "answer", "answers", "answer.aliases" or "answers.text". */
static const cJSON *shared_golds(const cJSON *rec, const char *a, const char *b)
{
    const cJSON *v = cJSON_GetObjectItem(rec, a);
    return b ? cJSON_GetObjectItem(v, b) : v;
}

/* answer_field: as `score --answer-field` (NULL = auto-detect). */
static void test_shared(const cJSON *exp, const char *task, const char *split, const char *a, const char *b,
                        int has_id, const char *answer_field)
{
    const char *shared = tap_shared_dir();
    char dpath[1024], rel[128];
    snprintf(rel, sizeof rel, "data/%s/%s.jsonl", task, split);
    if (shared)
        snprintf(dpath, sizeof dpath, "%s/%s", shared, rel);
    if (shared == NULL || !file_exists(dpath)) {
        tap_skip("../shared data is absent", "qa shared: %s", rel);
        return;
    }
    char *data = qa_test_read(shared, rel);
    if (!tap_ok(data != NULL, "qa shared: %s read", rel))
        return;
    struct strbuf preds, pred;
    strbuf_init(&preds, 0);
    strbuf_init(&pred, 0);
    struct line_iter it;
    const char *line;
    size_t n, records = 0;
    line_iter_init(&it, data, strlen(data));
    while (line_iter_next(&it, &line, &n)) {
        cJSON *rec = cJSON_ParseWithLength(line, n);
        /* A line id is the 1-based line number (scoring/doc_id.h); the prediction is drawn from the hash of the
         * 0-based one, the key the expected values were made with, so each question gets the same answer. */
        char id[64], key[64];
        if (has_id) {
            snprintf(id, sizeof id, "%s", cJSON_GetStringValue(cJSON_GetObjectItem(rec, "id")));
            snprintf(key, sizeof key, "%s", id);
        } else {
            doc_id_from_line(it.line_no, id);
            snprintf(key, sizeof key, "%zu", it.line_no - 1);
        }
        if (make_prediction(key, shared_golds(rec, a, b), &pred)) {
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "id", id);
            cJSON_AddStringToObject(o, "prediction", strbuf_str(&pred));
            char *s = cJSON_PrintUnformatted(o);
            strbuf_appendf(&preds, NULL, "%s\n", s);
            cJSON_free(s);
            cJSON_Delete(o);
        }
        records++;
        cJSON_Delete(rec);
    }
    char ppath[512];
    if (qa_test_write_temp(ppath, sizeof ppath, strbuf_str(&preds)) != 0) {
        tap_ok(0, "qa shared: write temporary predictions");
    } else {
        for (int m = 0; m < 2; m++) {
            char key[64];
            snprintf(key, sizeof key, "shared_%s_%s", task, m ? "f1" : "em");
            const cJSON *want = cJSON_GetObjectItem(exp, key);
            tap_is_int((long long)records, (long long)cJSON_GetNumberValue(cJSON_GetObjectItem(want, "records")),
                       "qa shared: %s has as many records as when the expected values were made", rel);
            /* The expected object also holds provenance (records, sha256): compare the report's own keys. */
            cJSON *report_want = cJSON_Duplicate(want, 1);
            cJSON_DeleteItemFromObject(report_want, "records");
            cJSON_DeleteItemFromObject(report_want, "sha256");
            struct strbuf out;
            struct ge_error err;
            strbuf_init(&out, 0);
            int rc = qa_score_files(m ? "f1" : "em", dpath, ppath, answer_field, NULL, &out, &err);
            if (tap_is_int(rc, GE_OK, "qa shared: %s %s scores", task, m ? "f1" : "em"))
                qa_test_check_report(strbuf_str(&out), report_want, 1e-12, key);
            else
                tap_diag("  %s", err.msg);
            strbuf_release(&out);
            cJSON_Delete(report_want);
        }
        remove(ppath);
    }
    strbuf_release(&preds);
    strbuf_release(&pred);
    free(data);
}

int main(void)
{
    test_table();
    cJSON *exp = qa_test_read_json("qa_em_expected.json");
    if (tap_ok(exp != NULL, "qa: qa_em_expected.json parses")) {
        for (int m = 0; m < 2; m++) {
            char key[32];
            snprintf(key, sizeof key, "nq_%s", m ? "f1" : "em");
            run_small(exp, key, "qa_em_small_nq.jsonl", "qa_em_small_nq_preds.jsonl", NULL, NULL);
            snprintf(key, sizeof key, "squad_%s", m ? "f1" : "em");
            run_small(exp, key, "qa_em_small_squad.jsonl", "qa_em_small_squad_preds.jsonl", NULL, NULL);
            snprintf(key, sizeof key, "custom_%s", m ? "f1" : "em");
            run_small(exp, key, "qa_em_small_custom.jsonl", "qa_em_small_custom_preds.jsonl", "gold.best", "meta.qid");
        }
        test_shared(exp, "nq_open", "validation", "answer", NULL, 0, NULL);
        test_shared(exp, "webqs", "test", "answers", NULL, 0, NULL);
        test_shared(exp, "triviaqa", "validation", "answer", "aliases", 0, "answer.aliases");
        test_shared(exp, "squad_v2", "validation", "answers", "text", 1, NULL);
    }
    test_single();
    test_mixed_ids();
    test_errors();
    cJSON_Delete(exp);
    return tap_done();
}
