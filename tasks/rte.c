/* rte.c — RTE: recognising textual entailment (SuperGLUE).
 *
 * Provenance
 *   dataset       aps/super_glue, config rte (../shared/data/rte/)
 *   eval split    validation (277 records; GLaM's split, test labels are private)
 *   few-shot      train (the 32-example FewGLUE subset of SuperGLUE train in ../shared/data)
 *   prompt        GPT-3 Appendix G (RTE example figure); strings as lm-evaluation-harness
 *                 lm_eval/tasks/super_glue/rte/default.yaml: "{premise}\nQuestion: {hypothesis} True or
 *                 False?\nAnswer:", options " True" / " False", gold = label (0 = entailment = True,
 *                 1 = not_entailment = False).
 *   id            idx (SuperGLUE's example index) */
#include "config.h"

#include <string.h>

#include "harness/xalloc.h"
#include "tasks/mc_record.h"
#include "tasks/mc_tasks.h"

static int rte_load(const cJSON *record, size_t line_no, struct task_doc *doc, struct ge_error *err)
{
    /* aps/super_glue rte labels: 0 entailment, 1 not_entailment. */
    static const char *const options[] = {" True", " False"};
    return mc_load_nli(record, line_no, "idx", options, 2, " True or False?\nAnswer:", doc, err);
}

#define SUPERGLUE_ORIGIN "SuperGLUE 1.0.3 release, https://super.gluebenchmark.com/tasks (combined.zip)"

/* Official release files accepted besides DIR/rte/<split>.jsonl (tasks/release_formats.h). */
static const struct task_source rte_sources[] = {
    {.split = "validation", .format = RELEASE_SG_RTE, .paths = {"RTE/val.jsonl", "rte/official/val.jsonl"},
     .origin = SUPERGLUE_ORIGIN},
    {.split = "train", .format = RELEASE_SG_RTE, .paths = {"RTE/train.jsonl", "rte/official/train.jsonl"},
     .origin = SUPERGLUE_ORIGIN},
    {.split = NULL},
};

const struct task task_rte = {
    .name = "rte",
    .display = "RTE",
    .category = TASK_NLU,
    .kind = TASK_MULTIPLE_CHOICE,
    .version = 1,
    .eval_split = "validation",
    .fewshot_split = "train",
    .expected_records = 277,
    .glam_shots = 8,
    .fewshot_sep = "\n\n",
    .primary_metric = "acc",
    .prompt_source = "GPT-3 Appendix G (RTE); lm-evaluation-harness super_glue/rte/default.yaml",
    .load = rte_load,
    .sources = rte_sources,
};
