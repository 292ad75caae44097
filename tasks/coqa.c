/* coqa.c — CoQA conversational QA: one generated answer per dialogue turn, scored by the official CoQA F1.
 *
 * Provenance
 *   dataset   CoQA, HF EleutherAI/coqa (what lm-eval loads); ../shared/data/coqa/
 *   split     validation = CoQA dev: 500 stories (records) holding 7,983 turns (documents). No train split here:
 *             few-shot examples come from the same file minus the evaluated document. GLaM K = 1.
 *   records   one record (story) gives one document per turn, so this task sets task.load_multi, not load.
 *             Document ids are "<story id>_<turn_id>".
 *   format    lm-eval coqa utils.py doc_to_text (GPT-3 Appendix G's CoQA layout): the story, "\n\n", then for each
 *             earlier turn "Q: {question}\n\nA: {answer}\n\n", then "Q: {question}\n\nA:"; target " {answer}".
 *   gold      the turn's answer followed by the turn's answer in each additional_answers set ("0", "1", "2" in
 *             key order), duplicates kept as the official evaluate-v1.0.py keeps them (lm-eval drops
 *             case-insensitive duplicates, which changes the leave-one-out average).
 *   stop      "\n" (answers are one line; lm-eval stops at "\nQ:" and then keeps the first line).
 *   metric    f1 (primary, as GPT-3 and GLaM report) and em from coqa_score_turn (leave-one-out over the golds).
 *   few-shot  examples never come from the evaluated turn's story (task_doc.group = the story id, which
 *             fewshot_choose excludes): a later turn of the same story would reveal the evaluated turn's answer. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/strbuf.h"
#include "harness/xalloc.h"
#include "scoring/coqa.h"
#include "scoring/doc_id.h"
#include "tasks/gen_common.h"
#include "tasks/task.h"

#define COQA_TASK_TURNS_MAX 1024 /* turns per story (CoQA dev has at most 25) */

/* Checks that path under record is an array of n strings (n = its size when *n is 0 on entry). */
static int string_list(const cJSON *record, const char *path, size_t *n, const cJSON **out, struct ge_error *err)
{
    const cJSON *v = gen_field(record, path);
    *out = NULL;
    if (!cJSON_IsArray(v))
        return ge_error_set(err, GE_ERR_FORMAT, "field \"%s\" is missing or not an array", path);
    size_t size = (size_t)cJSON_GetArraySize(v);
    if (*n == 0)
        *n = size;
    if (size != *n)
        return ge_error_set(err, GE_ERR_FORMAT, "field \"%s\" has %zu elements, %zu expected", path, size, *n);
    size_t i = 0;
    for (const cJSON *it = v->child; it != NULL; it = it->next, i++)
        if (!cJSON_IsString(it))
            return ge_error_set(err, GE_ERR_FORMAT, "field \"%s\"[%zu] is not a string", path, i);
    *out = v;
    return GE_OK;
}

static int coqa_load_multi(const cJSON *record, size_t line_no, struct task_doc **docs_out, size_t *n_out,
                           struct ge_error *err)
{
    const char *story;
    const cJSON *questions, *answers, *extra_lists[COQA_GOLDS_MAX - 1];
    size_t n_turns = 0, n_extra = 0;
    struct task_doc *docs = NULL;
    struct strbuf history;
    strbuf_init(&history, 0);
    *docs_out = NULL;
    *n_out = 0;

    int rc = gen_string(record, "story", 0, &story, err);
    if (rc == GE_OK)
        rc = string_list(record, "questions.input_text", &n_turns, &questions, err);
    if (rc == GE_OK && n_turns == 0)
        rc = ge_error_set(err, GE_ERR_FORMAT, "field \"questions.input_text\" is empty");
    if (rc == GE_OK && n_turns > COQA_TASK_TURNS_MAX)
        rc = ge_error_set(err, GE_ERR_LIMIT, "field \"questions.input_text\" has more than %d turns",
                          COQA_TASK_TURNS_MAX);
    if (rc == GE_OK)
        rc = string_list(record, "answers.input_text", &n_turns, &answers, err);
    const cJSON *extra = gen_field(record, "additional_answers");
    if (rc == GE_OK && extra != NULL && !cJSON_IsObject(extra))
        rc = ge_error_set(err, GE_ERR_FORMAT, "field \"additional_answers\" is not an object");
    for (const cJSON *set = extra ? extra->child : NULL; rc == GE_OK && set != NULL; set = set->next) {
        char path[96];
        snprintf(path, sizeof path, "additional_answers.%.40s.input_text", set->string);
        if (n_extra + 1 >= COQA_GOLDS_MAX) {
            rc = ge_error_set(err, GE_ERR_LIMIT, "field \"additional_answers\" has more than %d sets",
                              COQA_GOLDS_MAX - 1);
            break;
        }
        rc = string_list(set, "input_text", &n_turns, &extra_lists[n_extra], err);
        if (rc != GE_OK)
            ge_error_prefix(err, "additional_answers.%.40s: ", set->string);
        n_extra++;
    }
    const char *story_id = NULL;
    if (rc == GE_OK && gen_field(record, "id") != NULL)
        rc = gen_string(record, "id", 1, &story_id, err);
    if (rc != GE_OK)
        goto out;

    char line_id[DOC_ID_LINE_CAP];
    doc_id_from_line(line_no, line_id);
    if (story_id == NULL || story_id[0] == '\0')
        story_id = line_id;
    docs = xcalloc(n_turns, sizeof *docs);
    strbuf_append_str(&history, story, NULL);
    strbuf_append_str(&history, "\n\n", NULL);
    const cJSON *q = questions->child, *a = answers->child;
    for (size_t t = 0; t < n_turns; t++, q = q->next, a = a->next) {
        struct task_doc *d = &docs[t];
        d->id = gen_strdupf("%s_%zu", story_id, t + 1);
        d->group = xstrdup(story_id); /* few-shot examples never come from the same story */
        d->query = gen_strdupf("%sQ: %s\n\nA:", strbuf_str(&history), q->valuestring);
        d->n_answers = 1 + n_extra;
        d->answers = xcalloc(d->n_answers, sizeof *d->answers);
        d->answers[0] = xstrdup(a->valuestring);
        for (size_t k = 0; k < n_extra; k++)
            d->answers[1 + k] = xstrdup(cJSON_GetArrayItem(extra_lists[k], (int)t)->valuestring);
        d->fewshot_target = gen_strdupf(" %s", a->valuestring);
        strbuf_appendf(&history, NULL, "Q: %s\n\nA: %s\n\n", q->valuestring, a->valuestring);
    }
    *docs_out = docs;
    *n_out = n_turns;
out:
    strbuf_release(&history);
    return rc;
}

static int coqa_score(const struct task_doc *doc, const char *generated, struct task_doc_scores *out,
                      struct ge_error *err)
{
    double em, f1;
    int rc = coqa_score_turn(generated, (const char *const *)doc->answers, doc->n_answers, &em, &f1, err);
    if (rc != GE_OK)
        return rc;
    gen_scores_add(out, "f1", f1);
    gen_scores_add(out, "em", em);
    return GE_OK;
}

const struct task task_coqa = {
    .name = "coqa",
    .display = "CoQA",
    .category = TASK_NLG,
    .kind = TASK_GENERATE,
    .version = 1,
    .eval_split = "validation",
    .fewshot_split = "validation",
    .expected_records = 500, /* stories; 7,983 turns */
    .glam_shots = 1,
    .fewshot_sep = "\n\n",
    .primary_metric = "f1",
    .prompt_source = "lm-eval coqa utils.py doc_to_text (GPT-3 Appendix G CoQA layout)",
    .until = {"\n", NULL},
    .max_gen_tokens = 32,
    .load = NULL,
    .score_generation = coqa_score,
    .load_multi = coqa_load_multi,
};
