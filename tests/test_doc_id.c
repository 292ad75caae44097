/* test_doc_id.c — the id of a record without one (scoring/doc_id.h): the rule itself, and that the task loaders
 * (whose ids `run` stores) and the `score` file scorers agree on it.
 *
 * Fixtures: tests/data/doc_id/<task>/<split>.jsonl, records without ids with a blank line among them, so a
 * record's line number and its position differ. For each scorer that keys questions by line, predictions keyed by
 * the loaded documents' ids must score every question against its own gold (score 100%), and the same answers
 * keyed by 0-based line numbers must be an error naming the id 0 (never a silent wrong score). */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "harness/strbuf.h"
#include "scoring/doc_id.h"
#include "scoring/qa_em.h"
#include "scoring/quac.h"
#include "scoring/triviaqa.h"
#include "tasks/dataset.h"
#include "tasks/registry.h"
#include "tests/qa_test_util.h"
#include "tests/tap.h"

static void test_rule(void)
{
    char buf[DOC_ID_LINE_CAP];
    doc_id_from_line(1, buf);
    tap_is_str(buf, "1", "rule: the first line is \"1\"");
    doc_id_from_line(SIZE_MAX, buf);
    char want[32];
    snprintf(want, sizeof want, "%zu", (size_t)SIZE_MAX);
    tap_is_str(buf, want, "rule: the largest line number fits");

    struct ge_error err;
    const char *id = NULL;
    cJSON *s = cJSON_CreateString("q7"), *empty = cJSON_CreateString(""), *num = cJSON_CreateNumber(7);
    tap_ok(doc_id_string_or_line(s, 3, buf, &id, &err) == GE_OK && strcmp(id, "q7") == 0,
           "string or line: a non-empty string is the id");
    tap_ok(doc_id_string_or_line(empty, 3, buf, &id, &err) == GE_OK && id == buf && strcmp(id, "3") == 0,
           "string or line: an empty string gives the line id");
    tap_ok(doc_id_string_or_line(NULL, 4, buf, &id, &err) == GE_OK && strcmp(id, "4") == 0,
           "string or line: no field gives the line id");
    tap_ok(doc_id_string_or_line(num, 4, buf, &id, &err) == GE_ERR_FORMAT && id == NULL &&
               strstr(err.msg, "not a string") != NULL,
           "string or line: a number is an error (%s)", err.msg);
    cJSON_Delete(s);
    cJSON_Delete(empty);
    cJSON_Delete(num);
}

/* Loads task's split from the fixtures (strictly: every line but the blank ones is a record) and checks the ids
 * against want[0..n_want). Returns 1 with ds loaded, else 0 with ds released. */
static int load_fixture(const char *task, const char *split, const char *const *want, size_t n_want,
                        struct dataset *ds)
{
    char dir[1024];
    struct ge_error err;
    snprintf(dir, sizeof dir, "%s/doc_id", tap_data_dir());
    int rc = dataset_load(task_find(task), dir, split, 1, NULL, ds, &err);
    if (!tap_is_int(rc, GE_OK, "%s: fixture loads%s%s", task, rc ? ": " : "", rc ? err.msg : ""))
        return 0;
    int same = ds->n_docs == n_want;
    for (size_t i = 0; same && i < n_want; i++)
        same = strcmp(ds->docs[i].id, want[i]) == 0;
    if (!tap_ok(same, "%s: ids are the 1-based line numbers (blank line counted)", task)) {
        for (size_t i = 0; i < ds->n_docs; i++)
            tap_diag("  document %zu: id %s", i, ds->docs[i].id);
        dataset_release(ds);
        return 0;
    }
    return 1;
}

/* The line number a line id stands for, minus one: the key a 0-based predictions file would use. */
static unsigned long zero_based(const char *id)
{
    return strtoul(id, NULL, 10) - 1;
}

/* Writes text to a temporary predictions file and runs the em scorer on dataset; returns the scorer's code. */
static int score_em(const char *dataset, const char *text, struct strbuf *out, struct ge_error *err)
{
    char ppath[512];
    if (qa_test_write_temp(ppath, sizeof ppath, text) != 0)
        return ge_error_set(err, GE_ERR_IO, "cannot write temporary predictions");
    strbuf_reset(out);
    int rc = qa_score_files("em", dataset, ppath, NULL, NULL, out, err);
    remove(ppath);
    return rc;
}

static double report_number(const struct strbuf *out, const char *key)
{
    cJSON *o = cJSON_Parse(strbuf_str(out));
    double v = cJSON_GetNumberValue(cJSON_GetObjectItem(o, key));
    cJSON_Delete(o);
    return v;
}

/* nq_open (gen_load_closed_book) against `score em`. */
static void test_nq_open(void)
{
    static const char *const want[] = {"1", "2", "4", "5"};
    struct dataset ds;
    if (!load_fixture("nq_open", "validation", want, 4, &ds))
        return;
    struct strbuf preds, zero, part, out;
    strbuf_init(&preds, 0);
    strbuf_init(&zero, 0);
    strbuf_init(&part, 0);
    strbuf_init(&out, 0);
    for (size_t i = 0; i < ds.n_docs; i++) {
        /* the gold as the prediction, keyed as a run's documents.doc_id (a string) */
        strbuf_appendf(&preds, NULL, "{\"id\": \"%s\", \"prediction\": \"%s\"}\n", ds.docs[i].id, ds.docs[i].answers[0]);
        strbuf_appendf(&zero, NULL, "{\"id\": %lu, \"prediction\": \"%s\"}\n", zero_based(ds.docs[i].id),
                       ds.docs[i].answers[0]);
        if (i < 2) /* what `run --limit 2` exported */
            strbuf_appendf(&part, NULL, "{\"id\": %s, \"prediction\": \"%s\"}\n", ds.docs[i].id, ds.docs[i].answers[0]);
    }
    struct ge_error err;
    int rc = score_em(ds.path, strbuf_str(&preds), &out, &err);
    if (tap_is_int(rc, GE_OK, "nq_open: em scores the run's ids%s%s", rc ? ": " : "", rc ? err.msg : "")) {
        tap_is_double(report_number(&out, "score"), 1.0, 0.0, "nq_open: every answer meets its own question");
        tap_is_double(report_number(&out, "missing"), 0.0, 0.0, "nq_open: no question is missing");
    }
    rc = score_em(ds.path, strbuf_str(&part), &out, &err);
    if (tap_is_int(rc, GE_OK, "nq_open: a --limit subset scores")) {
        tap_is_double(report_number(&out, "score"), 0.5, 0.0, "nq_open: the subset's two answers are right");
        tap_is_double(report_number(&out, "missing"), 2.0, 0.0, "nq_open: the others are missing");
    }
    rc = score_em(ds.path, strbuf_str(&zero), &out, &err);
    tap_is_int(rc, GE_ERR_FORMAT, "nq_open: 0-based ids are an error");
    tap_ok(rc != GE_OK && strstr(err.msg, ": line 1: prediction for unknown id \"0\"") != NULL,
           "nq_open: the error names the file, line and id 0 (%s)", rc ? err.msg : "no error");
    strbuf_release(&preds);
    strbuf_release(&zero);
    strbuf_release(&part);
    strbuf_release(&out);
    dataset_release(&ds);
}

/* Runs a JSON-object predictions scorer (triviaqa, quac) on text. */
static int score_object(int (*scorer)(const char *, const char *, struct strbuf *, struct ge_error *),
                        const char *dataset, cJSON *obj, struct strbuf *out, struct ge_error *err)
{
    char ppath[512];
    char *text = cJSON_PrintUnformatted(obj);
    int bad = qa_test_write_temp(ppath, sizeof ppath, text) != 0;
    cJSON_free(text);
    if (bad)
        return ge_error_set(err, GE_ERR_IO, "cannot write temporary predictions");
    strbuf_reset(out);
    int rc = scorer(dataset, ppath, out, err);
    remove(ppath);
    return rc;
}

/* triviaqa (question_id, else the line) against `score triviaqa`. */
static void test_triviaqa(void)
{
    static const char *const want[] = {"1", "tc_2", "4"};
    struct dataset ds;
    if (!load_fixture("triviaqa", "validation", want, 3, &ds))
        return;
    cJSON *preds = cJSON_CreateObject(), *zero = cJSON_CreateObject();
    for (size_t i = 0; i < ds.n_docs; i++) {
        char key[32];
        cJSON_AddStringToObject(preds, ds.docs[i].id, ds.docs[i].answers[0]);
        if (strcmp(ds.docs[i].id, "tc_2") == 0)
            snprintf(key, sizeof key, "%s", ds.docs[i].id);
        else
            snprintf(key, sizeof key, "%lu", zero_based(ds.docs[i].id));
        cJSON_AddStringToObject(zero, key, ds.docs[i].answers[0]);
    }
    struct strbuf out;
    struct ge_error err;
    strbuf_init(&out, 0);
    int rc = score_object(triviaqa_score_files, ds.path, preds, &out, &err);
    if (tap_is_int(rc, GE_OK, "triviaqa: scores the run's ids%s%s", rc ? ": " : "", rc ? err.msg : "")) {
        tap_is_double(report_number(&out, "exact_match"), 100.0, 0.0, "triviaqa: every answer meets its question");
        tap_is_double(report_number(&out, "common"), 3.0, 0.0, "triviaqa: every question has its prediction");
    }
    rc = score_object(triviaqa_score_files, ds.path, zero, &out, &err);
    tap_is_int(rc, GE_ERR_FORMAT, "triviaqa: 0-based keys are an error");
    tap_ok(rc != GE_OK && strstr(err.msg, "unknown question \"0\"") != NULL,
           "triviaqa: the error names the key 0 (%s)", rc ? err.msg : "no error");
    cJSON_Delete(preds);
    cJSON_Delete(zero);
    strbuf_release(&out);
    dataset_release(&ds);
}

/* quac (the llm-foundry JSONL: dialogue id = line id) against `score quac`. */
static void test_quac(void)
{
    static const char *const want[] = {"1", "3"};
    struct dataset ds;
    if (!load_fixture("quac", "quac", want, 2, &ds))
        return;
    cJSON *preds = cJSON_CreateObject(), *zero = cJSON_CreateObject();
    for (size_t i = 0; i < ds.n_docs; i++) {
        char qid[64];
        snprintf(qid, sizeof qid, "%s_q#0", ds.docs[i].id);
        cJSON_AddStringToObject(preds, qid, ds.docs[i].answers[0]);
        snprintf(qid, sizeof qid, "%lu_q#0", zero_based(ds.docs[i].id));
        cJSON_AddStringToObject(zero, qid, ds.docs[i].answers[0]);
    }
    struct strbuf out;
    struct ge_error err;
    strbuf_init(&out, 0);
    int rc = score_object(quac_score_files, ds.path, preds, &out, &err);
    if (tap_is_int(rc, GE_OK, "quac: scores the run's ids%s%s", rc ? ": " : "", rc ? err.msg : ""))
        tap_is_double(report_number(&out, "unfiltered_f1"), 100.0, 0.0, "quac: every answer meets its question");
    rc = score_object(quac_score_files, ds.path, zero, &out, &err);
    tap_is_int(rc, GE_ERR_FORMAT, "quac: 0-based keys are an error");
    tap_ok(rc != GE_OK && strstr(err.msg, "unknown question \"0_q#0\"") != NULL,
           "quac: the error names the question 0_q#0 (%s)", rc ? err.msg : "no error");
    cJSON_Delete(preds);
    cJSON_Delete(zero);
    strbuf_release(&out);
    dataset_release(&ds);
}

int main(void)
{
    test_rule();
    test_nq_open();
    test_triviaqa();
    test_quac();
    /* Tasks without a scorer of their own derive the same ids (lambada's own loader, mc_set_id). */
    static const char *const two[] = {"1", "3"};
    struct dataset ds;
    if (load_fixture("lambada", "test", two, 2, &ds))
        dataset_release(&ds);
    if (load_fixture("winogrande", "validation", two, 2, &ds))
        dataset_release(&ds);
    return tap_done();
}
