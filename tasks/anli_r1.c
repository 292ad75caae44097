/* anli_r1.c — ANLI round 1: adversarial three-way NLI (entailment / neutral / contradiction).
 *
 * Provenance
 *   dataset       facebook/anli (Hugging Face splits train_r1, dev_r1, test_r1); not in ../shared/data (no public
 *                 copy was found), so it runs only on a user-supplied DIR/anli_r1/test_r1.jsonl.
 *   eval split    test_r1 (1000 records; GPT-3 and GLaM report the test sets)
 *   few-shot      train_r1
 *   prompt        GPT-3 Appendix G (ANLI figure), strings as lm-evaluation-harness lm_eval/tasks/anli/anli_r1.yaml;
 *                 see mc_load_anli in mc_record.h.
 *   id            uid */
#include "config.h"

#include "tasks/mc_record.h"
#include "tasks/mc_tasks.h"

static int anli_r1_load(const cJSON *record, size_t line_no, struct task_doc *doc, struct ge_error *err)
{
    return mc_load_anli(record, line_no, doc, err);
}

#define ANLI_ORIGIN "ANLI v1.0, https://dl.fbaipublicfiles.com/anli/anli_v1.0.zip"

/* Official release files accepted besides DIR/anli_r1/<split>.jsonl (tasks/release_formats.h). */
static const struct task_source anli_r1_sources[] = {
    {.split = "test_r1", .format = RELEASE_ANLI_JSONL,
     .paths = {"anli_v1.0/R1/test.jsonl", "anli_r1/official/test.jsonl"},
     .origin = ANLI_ORIGIN},
    {.split = "train_r1", .format = RELEASE_ANLI_JSONL,
     .paths = {"anli_v1.0/R1/train.jsonl", "anli_r1/official/train.jsonl"},
     .origin = ANLI_ORIGIN},
    {.split = "dev_r1", .format = RELEASE_ANLI_JSONL, .paths = {"anli_v1.0/R1/dev.jsonl", "anli_r1/official/dev.jsonl"},
     .origin = ANLI_ORIGIN},
    {.split = NULL},
};

const struct task task_anli_r1 = {
    .name = "anli_r1",
    .display = "ANLI R1",
    .category = TASK_NLU,
    .kind = TASK_MULTIPLE_CHOICE,
    .version = 1,
    .eval_split = "test_r1",
    .fewshot_split = "train_r1",
    .expected_records = 1000,
    .glam_shots = 2,
    .fewshot_sep = "\n\n",
    .primary_metric = "acc",
    .prompt_source = "GPT-3 Appendix G (ANLI); lm-evaluation-harness anli/anli_r1.yaml",
    .load = anli_r1_load,
    .sources = anli_r1_sources,
};
