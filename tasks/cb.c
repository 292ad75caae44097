/* cb.c — CB: CommitmentBank, three-way entailment (SuperGLUE).
 *
 * Provenance
 *   dataset       aps/super_glue, config cb (../shared/data/cb/)
 *   eval split    validation (56 records; GLaM's split, test labels are private)
 *   few-shot      train (the 32-example FewGLUE subset of SuperGLUE train in ../shared/data)
 *   prompt        GPT-3 Appendix G (CB example figure); strings as lm-evaluation-harness
 *                 lm_eval/tasks/super_glue/cb/default.yaml: "{premise}\nQuestion: {hypothesis}. True, False, or
 *                 Neither?\nAnswer:", options " True" / " False" / " Neither", gold = label (0 = entailment,
 *                 1 = contradiction, 2 = neutral).
 *   id            idx (SuperGLUE's example index) */
#include "config.h"

#include <string.h>

#include "harness/xalloc.h"
#include "tasks/mc_record.h"
#include "tasks/mc_tasks.h"

static int cb_load(const cJSON *record, size_t line_no, struct task_doc *doc, struct ge_error *err)
{
    /* aps/super_glue cb labels: 0 entailment, 1 contradiction, 2 neutral. */
    static const char *const options[] = {" True", " False", " Neither"};
    return mc_load_nli(record, line_no, "idx", options, 3, ". True, False, or Neither?\nAnswer:", doc, err);
}

#define SUPERGLUE_ORIGIN "SuperGLUE 1.0.3 release, https://super.gluebenchmark.com/tasks (combined.zip)"

/* Official release files accepted besides DIR/cb/<split>.jsonl (tasks/release_formats.h). */
static const struct task_source cb_sources[] = {
    {.split = "validation", .format = RELEASE_SG_CB, .paths = {"CB/val.jsonl", "cb/official/val.jsonl"},
     .origin = SUPERGLUE_ORIGIN},
    {.split = "train", .format = RELEASE_SG_CB, .paths = {"CB/train.jsonl", "cb/official/train.jsonl"},
     .origin = SUPERGLUE_ORIGIN},
    {.split = NULL},
};

const struct task task_cb = {
    .name = "cb",
    .display = "CB",
    .category = TASK_NLU,
    .kind = TASK_MULTIPLE_CHOICE,
    .version = 1,
    .eval_split = "validation",
    .fewshot_split = "train",
    .expected_records = 56,
    .glam_shots = 8,
    .fewshot_sep = "\n\n",
    .primary_metric = "acc",
    .prompt_source = "GPT-3 Appendix G (CB); lm-evaluation-harness super_glue/cb/default.yaml",
    .load = cb_load,
    .sources = cb_sources,
};
