/* drop.c — DROP (discrete reasoning over paragraphs): a generated answer scored by DROP's own EM/F1.
 *
 * Provenance
 *   dataset   DROP, HF EleutherAI/drop (what lm-eval loads); ../shared/data/drop/
 *   split     validation = DROP dev, 9,536 questions officially; the shared copy is a 1,000-question subsample
 *             (count mismatch warned only). No train split here: few-shot examples come from the same file minus
 *             the evaluated document. GLaM K = 2.
 *   format    GPT-3 Appendix G (DROP): "Passage: {passage}\nQuestion: {question}\nAnswer:", target " {first gold}"
 *             with a multi-span gold joined by ", " (as lm-eval's drop doc_to_target).
 *   gold      as drop_score_files / lm-eval's get_answers: the answer, then each validated answer; each is its
 *             number if non-empty, else its spans if any, else "day month year" (trimmed); repeated golds are
 *             dropped. Each gold is stored in doc.answers as its spans joined by DROP_TASK_SPAN_SEP (U+001F, a
 *             control character no DROP text contains), because struct task_doc has a flat answer list.
 *   stop      "\n" (lm-eval stops at "." too, which cuts decimals such as "3.5").
 *   metric    f1 (primary, as GPT-3 reports) and em from drop_score_question; the generation is one predicted
 *             span (lm-eval does the same), trimmed of surrounding whitespace by DROP's normalisation. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/strbuf.h"
#include "harness/xalloc.h"
#include "scoring/drop.h"
#include "tasks/gen_common.h"
#include "tasks/task.h"

#define DROP_TASK_SPAN_SEP '\x1f'

/* Renders one answer object {number, date: {day, month, year}, spans} (path names it in errors) into a new
 * string of spans joined by DROP_TASK_SPAN_SEP; *out NULL when the answer is empty throughout. */
static int answer_string(const cJSON *number, const cJSON *date, const cJSON *spans, const char *path, char **out,
                         struct ge_error *err)
{
    *out = NULL;
    if (number != NULL && !cJSON_IsString(number))
        return ge_error_set(err, GE_ERR_FORMAT, "field \"%s.number\" is not a string", path);
    if (spans != NULL && !cJSON_IsArray(spans))
        return ge_error_set(err, GE_ERR_FORMAT, "field \"%s.spans\" is not an array", path);
    if (number != NULL && number->valuestring[0] != '\0') {
        *out = xstrdup(number->valuestring);
        return GE_OK;
    }
    if (spans != NULL && cJSON_GetArraySize(spans) > 0) {
        if (cJSON_GetArraySize(spans) > DROP_SPANS_MAX)
            return ge_error_set(err, GE_ERR_LIMIT, "field \"%s.spans\" has more than %d spans", path,
                                DROP_SPANS_MAX);
        struct strbuf sb;
        strbuf_init(&sb, 0);
        for (const cJSON *s = spans->child; s != NULL; s = s->next) {
            if (!cJSON_IsString(s)) {
                strbuf_release(&sb);
                return ge_error_set(err, GE_ERR_FORMAT, "field \"%s.spans\" holds a non-string", path);
            }
            if (s != spans->child)
                strbuf_append_char(&sb, DROP_TASK_SPAN_SEP, NULL);
            strbuf_append_str(&sb, s->valuestring, NULL);
        }
        *out = strbuf_detach(&sb, NULL);
        return GE_OK;
    }
    if (date != NULL && !cJSON_IsObject(date))
        return ge_error_set(err, GE_ERR_FORMAT, "field \"%s.date\" is not an object", path);
    const char *part[3] = {"day", "month", "year"};
    struct strbuf sb;
    strbuf_init(&sb, 0);
    for (int i = 0; date != NULL && i < 3; i++) {
        const cJSON *p = cJSON_GetObjectItemCaseSensitive(date, part[i]);
        if (p != NULL && !cJSON_IsString(p)) {
            strbuf_release(&sb);
            return ge_error_set(err, GE_ERR_FORMAT, "field \"%s.date.%s\" is not a string", path, part[i]);
        }
        if (p != NULL && p->valuestring[0] != '\0')
            strbuf_appendf(&sb, NULL, "%s%s", strbuf_str(&sb)[0] ? " " : "", p->valuestring);
    }
    if (strbuf_str(&sb)[0] != '\0')
        *out = strbuf_detach(&sb, NULL);
    strbuf_release(&sb);
    return GE_OK;
}

/* Appends gold (taking ownership) to doc->answers unless it is NULL or already there. */
static int add_gold(struct task_doc *doc, char *gold, struct ge_error *err)
{
    if (gold == NULL)
        return GE_OK;
    for (size_t i = 0; i < doc->n_answers; i++)
        if (strcmp(doc->answers[i], gold) == 0) {
            free(gold);
            return GE_OK;
        }
    if (doc->n_answers >= TASK_MAX_ANSWERS) {
        free(gold);
        return ge_error_set(err, GE_ERR_LIMIT, "more than %d distinct gold answers", TASK_MAX_ANSWERS);
    }
    doc->answers = xrealloc(doc->answers, (doc->n_answers + 1) * sizeof *doc->answers);
    doc->answers[doc->n_answers++] = gold;
    return GE_OK;
}

static int drop_load(const cJSON *record, size_t line_no, struct task_doc *doc, struct ge_error *err)
{
    const char *passage, *question;
    char *gold = NULL;
    int rc = gen_string(record, "passage", 0, &passage, err);
    if (rc == GE_OK)
        rc = gen_string(record, "question", 0, &question, err);
    if (rc == GE_OK)
        rc = gen_doc_id(record, "query_id", line_no, doc, err);
    if (rc != GE_OK)
        goto out;

    const cJSON *answer = gen_field(record, "answer");
    if (!cJSON_IsObject(answer)) {
        rc = ge_error_set(err, GE_ERR_FORMAT, "field \"answer\" is missing or not an object");
        goto out;
    }
    rc = answer_string(gen_field(answer, "number"), gen_field(answer, "date"), gen_field(answer, "spans"), "answer",
                       &gold, err);
    if (rc == GE_OK)
        rc = add_gold(doc, gold, err);
    if (rc != GE_OK)
        goto out;

    /* validated_answers: a dict of parallel lists {"number": [...], "date": [{...}], "spans": [[...]]}. */
    const cJSON *va = gen_field(record, "validated_answers");
    if (va != NULL) {
        const cJSON *numbers = gen_field(va, "number"), *dates = gen_field(va, "date"),
                    *spanss = gen_field(va, "spans");
        if (!cJSON_IsObject(va) || (numbers && !cJSON_IsArray(numbers)) || (dates && !cJSON_IsArray(dates)) ||
            (spanss && !cJSON_IsArray(spanss))) {
            rc = ge_error_set(err, GE_ERR_FORMAT,
                              "field \"validated_answers\" is not an object of number/date/spans lists");
            goto out;
        }
        int n = 0;
        n = numbers && cJSON_GetArraySize(numbers) > n ? cJSON_GetArraySize(numbers) : n;
        n = dates && cJSON_GetArraySize(dates) > n ? cJSON_GetArraySize(dates) : n;
        n = spanss && cJSON_GetArraySize(spanss) > n ? cJSON_GetArraySize(spanss) : n;
        for (int i = 0; i < n && rc == GE_OK; i++) {
            char path[64];
            snprintf(path, sizeof path, "validated_answers[%d]", i);
            rc = answer_string(numbers ? cJSON_GetArrayItem(numbers, i) : NULL,
                               dates ? cJSON_GetArrayItem(dates, i) : NULL,
                               spanss ? cJSON_GetArrayItem(spanss, i) : NULL, path, &gold, err);
            if (rc == GE_OK)
                rc = add_gold(doc, gold, err);
        }
        if (rc != GE_OK)
            goto out;
    }
    if (doc->n_answers == 0) {
        rc = ge_error_set(err, GE_ERR_FORMAT, "field \"answer\" has no number, spans or date");
        goto out;
    }
    doc->query = gen_strdupf("Passage: %s\nQuestion: %s\nAnswer:", passage, question);
    /* The few-shot target shows a multi-span gold as "a, b" (lm-eval's doc_to_target). */
    doc->fewshot_target = gen_strdupf(" %s", doc->answers[0]);
    for (char *p = doc->fewshot_target; (p = strchr(p, DROP_TASK_SPAN_SEP)) != NULL;) {
        size_t off = (size_t)(p - doc->fewshot_target);
        char *t = gen_strdupf("%.*s, %s", (int)off, doc->fewshot_target, p + 1);
        free(doc->fewshot_target);
        doc->fewshot_target = t;
        p = t + off + 2;
    }
out:
    if (rc != GE_OK)
        task_doc_release(doc);
    return rc;
}

static int drop_score(const struct task_doc *doc, const char *generated, struct task_doc_scores *out,
                      struct ge_error *err)
{
    /* Split each stored gold back into its spans, in copies (the doc is borrowed read-only). */
    size_t n_golds = doc->n_answers;
    struct drop_spans *golds = xcalloc(n_golds, sizeof *golds);
    char **copies = xcalloc(n_golds, sizeof *copies);
    for (size_t g = 0; g < n_golds; g++) {
        char *c = copies[g] = xstrdup(doc->answers[g]);
        size_t n = 1;
        for (const char *p = c; (p = strchr(p, DROP_TASK_SPAN_SEP)) != NULL; p++)
            n++;
        const char **spans = xcalloc(n, sizeof *spans);
        n = 0;
        spans[n++] = c;
        for (char *p = c; (p = strchr(p, DROP_TASK_SPAN_SEP)) != NULL;) {
            *p++ = '\0';
            spans[n++] = p;
        }
        golds[g].spans = spans;
        golds[g].n_spans = n;
    }
    const char *pred_span[1] = {generated};
    struct drop_spans pred = {.spans = pred_span, .n_spans = 1};
    double em = 0, f1 = 0;
    int rc = drop_score_question(&pred, golds, n_golds, &em, &f1, err);
    for (size_t g = 0; g < n_golds; g++) {
        free((void *)golds[g].spans);
        free(copies[g]);
    }
    free(golds);
    free(copies);
    if (rc != GE_OK)
        return rc;
    gen_scores_add(out, "f1", f1);
    gen_scores_add(out, "em", em);
    return GE_OK;
}

const struct task task_drop = {
    .name = "drop",
    .display = "DROP",
    .category = TASK_NLG,
    .kind = TASK_GENERATE,
    .version = 1,
    .eval_split = "validation",
    .fewshot_split = "validation",
    .expected_records = 9536,
    .glam_shots = 2,
    .fewshot_sep = "\n\n",
    .primary_metric = "f1",
    .prompt_source = "GPT-3 Appendix G (DROP); passage, question and \", \"-joined multi-span target as lm-eval v0.3 "
                     "drop.py (v0.4.12's template joins the answer object's keys instead, a bug)",
    .until = {"\n", NULL},
    .max_gen_tokens = 32,
    .load = drop_load,
    .score_generation = drop_score,
};
