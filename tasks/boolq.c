/* boolq.c — BoolQ: yes/no questions about a Wikipedia passage (SuperGLUE).
 *
 * Provenance
 *   dataset       aps/super_glue, config boolq (../shared/data/boolq/)
 *   eval split    validation (3270 records; GLaM's split, test labels are private)
 *   few-shot      train (the 32-example FewGLUE subset of SuperGLUE train in ../shared/data)
 *   prompt        GPT-3 Appendix G (BoolQ example figure); strings as lm-evaluation-harness
 *                 lm_eval/tasks/super_glue/boolq/default.yaml: "{passage}\nQuestion: {question}?\nAnswer:",
 *                 options " no" / " yes", gold = label (0 = False = no, 1 = True = yes).
 *   id            idx (SuperGLUE's example index) */
#include "config.h"

#include <string.h>

#include "harness/xalloc.h"
#include "tasks/mc_record.h"
#include "tasks/mc_tasks.h"

static int boolq_load(const cJSON *record, size_t line_no, struct task_doc *doc, struct ge_error *err)
{
    const char *passage, *question;
    size_t label;
    int rc;
    memset(doc, 0, sizeof *doc);
    if ((rc = mc_get_string(record, "passage", &passage, err)) < 0 ||
        (rc = mc_get_string(record, "question", &question, err)) < 0 ||
        (rc = mc_get_index(record, "label", 2, &label, err)) < 0 ||
        (rc = mc_set_id(doc, record, "idx", line_no, err)) < 0)
        return rc;
    mc_alloc_choices(doc, 2, 0);
    doc->choices[0] = xstrdup(" no");
    doc->choices[1] = xstrdup(" yes");
    doc->gold[0] = label;
    doc->n_gold = 1;
    doc->query = mc_concat(passage, "\nQuestion: ", question, "?\nAnswer:", (const char *)NULL);
    doc->fewshot_target = xstrdup(doc->choices[label]);
    return GE_OK;
}

#define SUPERGLUE_ORIGIN "SuperGLUE 1.0.3 release, https://super.gluebenchmark.com/tasks (combined.zip)"

/* Official release files accepted besides DIR/boolq/<split>.jsonl (tasks/release_formats.h). */
static const struct task_source boolq_sources[] = {
    {.split = "validation", .format = RELEASE_SG_BOOLQ, .paths = {"BoolQ/val.jsonl", "boolq/official/val.jsonl"},
     .origin = SUPERGLUE_ORIGIN},
    {.split = "train", .format = RELEASE_SG_BOOLQ, .paths = {"BoolQ/train.jsonl", "boolq/official/train.jsonl"},
     .origin = SUPERGLUE_ORIGIN},
    {.split = NULL},
};

const struct task task_boolq = {
    .name = "boolq",
    .display = "BoolQ",
    .category = TASK_NLU,
    .kind = TASK_MULTIPLE_CHOICE,
    .version = 1,
    .eval_split = "validation",
    .fewshot_split = "train",
    .expected_records = 3270,
    .glam_shots = 8,
    .fewshot_sep = "\n\n",
    .primary_metric = "acc",
    .prompt_source = "GPT-3 Appendix G (BoolQ); lm-evaluation-harness super_glue/boolq/default.yaml",
    .load = boolq_load,
    .sources = boolq_sources,
};
