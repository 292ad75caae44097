/* piqa.c — PIQA: physical commonsense, pick the better of two solutions to a goal.
 *
 * Provenance
 *   dataset       ybisk/piqa (lm-eval loads the same-schema copy baber/piqa; ../shared/data/piqa/)
 *   eval split    validation (1838 records; GLaM, like GPT-3, reports the dev set: test labels are private)
 *   few-shot      validation minus the evaluated document (no train split in ../shared/data)
 *   prompt        GPT-3 Appendix G (PIQA example figure); strings as lm-evaluation-harness
 *                 lm_eval/tasks/piqa/piqa.yaml: "Question: {goal}\nAnswer:", options " {sol1}" / " {sol2}",
 *                 gold = label. GLaM/GPT-3 report accuracy normalised per token.
 *   id            the line number (records have no id field) */
#include "config.h"

#include <string.h>

#include "harness/xalloc.h"
#include "tasks/mc_record.h"
#include "tasks/mc_tasks.h"

static int piqa_load(const cJSON *record, size_t line_no, struct task_doc *doc, struct ge_error *err)
{
    const char *goal, *sol1, *sol2;
    size_t label;
    int rc;
    memset(doc, 0, sizeof *doc);
    if ((rc = mc_get_string(record, "goal", &goal, err)) < 0 || (rc = mc_get_string(record, "sol1", &sol1, err)) < 0 ||
        (rc = mc_get_string(record, "sol2", &sol2, err)) < 0 || (rc = mc_get_index(record, "label", 2, &label, err)) < 0)
        return rc;
    mc_set_id(doc, record, NULL, line_no, err);
    mc_alloc_choices(doc, 2, 0);
    doc->choices[0] = mc_concat(" ", sol1, (const char *)NULL);
    doc->choices[1] = mc_concat(" ", sol2, (const char *)NULL);
    doc->gold[0] = label;
    doc->n_gold = 1;
    doc->query = mc_concat("Question: ", goal, "\nAnswer:", (const char *)NULL);
    doc->fewshot_target = xstrdup(doc->choices[label]);
    return GE_OK;
}

/* Official release files accepted besides DIR/piqa/<split>.jsonl (tasks/release_formats.h). */
static const struct task_source piqa_sources[] = {
    {.split = "validation", .format = RELEASE_PIQA_LST, .paths = {"piqa/valid.jsonl", "piqa/official/valid.jsonl"},
     .companion = "valid-labels.lst",
     .origin = "https://yonatanbisk.com/piqa/ (github.com/ybisk/ybisk.github.io, piqa/data)"},
    /* train.jsonl has our JSONL's name: dataset.c takes it as the release file when train-labels.lst is beside it */
    {.split = "train", .format = RELEASE_PIQA_LST, .paths = {"piqa/train.jsonl", "piqa/official/train.jsonl"},
     .companion = "train-labels.lst",
     .origin = "https://yonatanbisk.com/piqa/ (github.com/ybisk/ybisk.github.io, piqa/data)"},
    {.split = NULL},
};

const struct task task_piqa = {
    .name = "piqa",
    .display = "PIQA",
    .category = TASK_NLU,
    .kind = TASK_MULTIPLE_CHOICE,
    .version = 1,
    .eval_split = "validation",
    .fewshot_split = "validation",
    .expected_records = 1838,
    .glam_shots = 32,
    .fewshot_sep = "\n\n",
    .primary_metric = "acc_per_token",
    .prompt_source = "GPT-3 Appendix G (PIQA); lm-evaluation-harness piqa/piqa.yaml",
    .load = piqa_load,
    .sources = piqa_sources,
};
