/* wic.c — WiC: is a word used in the same sense in two sentences (SuperGLUE).
 *
 * Provenance
 *   dataset       aps/super_glue, config wic (../shared/data/wic/)
 *   eval split    validation (638 records; GLaM's split, test labels are private)
 *   few-shot      train (the 32-example FewGLUE subset of SuperGLUE train in ../shared/data)
 *   prompt        GPT-3 Appendix G (WiC example figure); strings as lm-evaluation-harness
 *                 lm_eval/tasks/super_glue/wic/default.yaml: "Sentence 1: {sentence1}\nSentence 2: {sentence2}\n
 *                 Question: Is the word '{sentence1[start1:end1]}' used in the same way in the two sentences
 *                 above?\nAnswer:" (one line break after each sentence), options " no" / " yes", gold = label.
 *                 start1/end1 are Python code-point offsets into sentence1.
 *   id            idx (SuperGLUE's example index) */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "harness/xalloc.h"
#include "tasks/mc_record.h"
#include "tasks/mc_tasks.h"

static int wic_load(const cJSON *record, size_t line_no, struct task_doc *doc, struct ge_error *err)
{
    const char *s1, *s2;
    size_t label, start, end, b_start, b_end;
    int rc;
    memset(doc, 0, sizeof *doc);
    if ((rc = mc_get_string(record, "sentence1", &s1, err)) < 0 ||
        (rc = mc_get_string(record, "sentence2", &s2, err)) < 0 ||
        (rc = mc_get_index(record, "start1", (size_t)-1, &start, err)) < 0 ||
        (rc = mc_get_index(record, "end1", (size_t)-1, &end, err)) < 0 ||
        (rc = mc_get_index(record, "label", 2, &label, err)) < 0)
        return rc;
    if (start >= end || mc_utf8_offset(s1, start, &b_start) < 0 || mc_utf8_offset(s1, end, &b_end) < 0)
        return ge_error_set(err, GE_ERR_FORMAT,
                            "fields \"start1\" = %zu, \"end1\" = %zu are not a non-empty span of \"sentence1\"", start,
                            end);
    if ((rc = mc_set_id(doc, record, "idx", line_no, err)) < 0)
        return rc;

    char *word = xstrndup(s1 + b_start, b_end - b_start);
    doc->query = mc_concat("Sentence 1: ", s1, "\nSentence 2: ", s2, "\nQuestion: Is the word '", word,
                           "' used in the same way in the two sentences above?\nAnswer:", (const char *)NULL);
    free(word);
    mc_alloc_choices(doc, 2, 0);
    doc->choices[0] = xstrdup(" no");
    doc->choices[1] = xstrdup(" yes");
    doc->gold[0] = label;
    doc->n_gold = 1;
    doc->fewshot_target = xstrdup(doc->choices[label]);
    return GE_OK;
}

#define SUPERGLUE_ORIGIN "SuperGLUE 1.0.3 release, https://super.gluebenchmark.com/tasks (combined.zip)"

/* Official release files accepted besides DIR/wic/<split>.jsonl (tasks/release_formats.h). */
static const struct task_source wic_sources[] = {
    {.split = "validation", .format = RELEASE_SG_WIC, .paths = {"WiC/val.jsonl", "wic/official/val.jsonl"},
     .origin = SUPERGLUE_ORIGIN},
    {.split = "train", .format = RELEASE_SG_WIC, .paths = {"WiC/train.jsonl", "wic/official/train.jsonl"},
     .origin = SUPERGLUE_ORIGIN},
    {.split = NULL},
};

const struct task task_wic = {
    .name = "wic",
    .display = "WiC",
    .category = TASK_NLU,
    .kind = TASK_MULTIPLE_CHOICE,
    .version = 1,
    .eval_split = "validation",
    .fewshot_split = "train",
    .expected_records = 638,
    .glam_shots = 4,
    .fewshot_sep = "\n\n",
    .primary_metric = "acc",
    .prompt_source = "GPT-3 Appendix G (WiC); lm-evaluation-harness super_glue/wic/default.yaml",
    .load = wic_load,
    .sources = wic_sources,
};
