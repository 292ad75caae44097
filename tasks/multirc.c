/* multirc.c — MultiRC: is this answer to a question about a paragraph correct? (SuperGLUE), one document per
 * answer option.
 *
 * Provenance
 *   dataset       aps/super_glue, config multirc (../shared/data/multirc/): one row per answer option
 *   eval split    validation (4,848 option rows = 83 paragraphs / 953 questions; GLaM's split)
 *   few-shot      train (the FewGLUE subset: 154 option rows of 32 questions)
 *   prompt        lm-evaluation-harness super_glue MultiRC (v0.3 lm_eval/tasks/superglue.py): query
 *                 "{paragraph}\nQuestion: {question}\nAnswer:", options
 *                 " {answer}\nIs the answer correct? no" / " ... yes", gold = label (0 = False, 1 = True).
 *                 The option order follows the label (v0.3 code). lm-eval v0.4's default.yaml lists "yes" first
 *                 with doc_to_target = label, which inverts the gold; we do not copy that. GPT-3 Appendix G's
 *                 MultiRC figure uses a different "READING COMPREHENSION ANSWER KEY" layout that we could not
 *                 confirm verbatim, so the lm-eval strings are used.
 *   id            "<idx.paragraph>-<idx.question>-<idx.answer>" so that options can be grouped into questions.
 *   metric        per document (= per option) "acc": the binary True/False choice is right. GLaM reports F1a
 *                 over all options (and EM per question), which is not a mean of per-document values: the run
 *                 layer must collect, for every document, pred = argmax option (1 = "yes") and gold = doc.gold[0],
 *                 group them by the first two id fields, and call multirc_score (scoring/multirc.h) to get f1a
 *                 (primary, GLaM) and em. Until it does, only acc (per-option accuracy, lm-eval's number) is
 *                 produced. */
#include "config.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/xalloc.h"
#include "scoring/multirc.h"
#include "tasks/mc_record.h"
#include "tasks/mc_tasks.h"

/* *out = idx.<field> when it is an integer in [0, 2^53). */
static int idx_field(const cJSON *idx, const char *field, int64_t *out, struct ge_error *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(idx, field);
    if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble != floor(v->valuedouble) ||
        v->valuedouble >= 9007199254740992.0)
        return ge_error_set(err, GE_ERR_FORMAT, "field \"idx.%s\" is missing or not a non-negative integer", field);
    *out = (int64_t)v->valuedouble;
    return GE_OK;
}

static int multirc_load(const cJSON *record, size_t line_no, struct task_doc *doc, struct ge_error *err)
{
    const char *paragraph, *question, *answer;
    int64_t p, q, a;
    size_t label;
    int rc;
    (void)line_no;
    memset(doc, 0, sizeof *doc);
    const cJSON *idx = cJSON_GetObjectItemCaseSensitive(record, "idx");
    if ((rc = mc_get_string(record, "paragraph", &paragraph, err)) < 0 ||
        (rc = mc_get_string(record, "question", &question, err)) < 0 ||
        (rc = mc_get_string(record, "answer", &answer, err)) < 0 ||
        (rc = mc_get_index(record, "label", 2, &label, err)) < 0)
        return rc;
    if (!cJSON_IsObject(idx))
        return ge_error_set(err, GE_ERR_FORMAT, "field \"idx\" is missing or not an object");
    if ((rc = idx_field(idx, "paragraph", &p, err)) < 0 || (rc = idx_field(idx, "question", &q, err)) < 0 ||
        (rc = idx_field(idx, "answer", &a, err)) < 0)
        return rc;
    char id[80];
    snprintf(id, sizeof id, "%" PRId64 "-%" PRId64 "-%" PRId64, p, q, a);
    doc->id = xstrdup(id);
    mc_alloc_choices(doc, 2, 0);
    doc->choices[0] = mc_concat(" ", answer, "\nIs the answer correct? no", (const char *)NULL);
    doc->choices[1] = mc_concat(" ", answer, "\nIs the answer correct? yes", (const char *)NULL);
    doc->gold[0] = label;
    doc->n_gold = 1;
    doc->query = mc_concat(paragraph, "\nQuestion: ", question, "\nAnswer:", (const char *)NULL);
    doc->fewshot_target = xstrdup(doc->choices[label]);
    return GE_OK;
}

/* F1a over all options and per-question EM (scoring/multirc.h), from each option's predicted label: the option
 * document's predicted choice (0 = "no", 1 = "yes") against its gold; ids are "<paragraph>-<question>-<answer>". */
static int multirc_aggregate(const struct task_doc *docs, const size_t *idx, const size_t *pred, const size_t *copy,
                             size_t n, struct task_doc_scores *out, struct ge_error *err)
{
    struct multirc_option *opts = xcalloc(n ? n : 1, sizeof *opts);
    int rc = GE_OK;
    for (size_t k = 0; k < n && rc == GE_OK; k++) {
        const struct task_doc *d = &docs[idx[k]];
        long long p = 0, q = 0;
        if (sscanf(d->id, "%lld-%lld-", &p, &q) != 2) {
            rc = ge_error_set(err, GE_ERR_FORMAT, "multirc document id \"%s\" is not paragraph-question-answer", d->id);
            break;
        }
        opts[k] = (struct multirc_option){.paragraph_id = p, .question_id = q,
                                          .copy = copy ? (int64_t)copy[k] : 0, .pred = pred[k] == 1,
                                          .gold = d->gold[0] == 1};
    }
    struct multirc_scores sc;
    if (rc == GE_OK && n > 0)
        rc = multirc_score(opts, n, &sc, err);
    if (rc == GE_OK && n > 0) {
        out->name[0] = "f1a";
        out->value[0] = sc.f1a;
        out->name[1] = "em";
        out->value[1] = sc.em;
        out->n = 2;
    }
    free(opts);
    return rc;
}

/* The bootstrap unit of F1a and EM: the question, "paragraph-question" of "paragraph-question-answer". */
static int multirc_aggregate_unit(const char *doc_id, char *key, size_t cap, struct ge_error *err)
{
    long long p = 0, q = 0;
    if (sscanf(doc_id, "%lld-%lld-", &p, &q) != 2)
        return ge_error_set(err, GE_ERR_FORMAT, "multirc document id \"%s\" is not paragraph-question-answer", doc_id);
    snprintf(key, cap, "%lld-%lld", p, q);
    return GE_OK;
}

#define SUPERGLUE_ORIGIN "SuperGLUE 1.0.3 release, https://super.gluebenchmark.com/tasks (combined.zip)"

/* Official release files accepted besides DIR/multirc/<split>.jsonl (tasks/release_formats.h). */
static const struct task_source multirc_sources[] = {
    {.split = "validation", .format = RELEASE_SG_MULTIRC, .paths = {"MultiRC/val.jsonl", "multirc/official/val.jsonl"},
     .origin = SUPERGLUE_ORIGIN},
    {.split = "train", .format = RELEASE_SG_MULTIRC, .paths = {"MultiRC/train.jsonl", "multirc/official/train.jsonl"},
     .origin = SUPERGLUE_ORIGIN},
    {.split = NULL},
};

const struct task task_multirc = {
    .name = "multirc",
    .display = "MultiRC",
    .category = TASK_NLU,
    .kind = TASK_MULTIPLE_CHOICE,
    .version = 1,
    .eval_split = "validation",
    .fewshot_split = "train",
    .expected_records = 4848, /* answer options; 953 questions */
    .glam_shots = 4,
    .fewshot_sep = "\n\n",
    .primary_metric = "f1a", /* GLaM's number, from multirc_aggregate; per-option "acc" is stored too */
    .prompt_source = "lm-evaluation-harness v0.3 superglue.py MultiRC",
    .load = multirc_load,
    .sources = multirc_sources,
    .aggregate = multirc_aggregate,
    .aggregate_unit = multirc_aggregate_unit,
};
