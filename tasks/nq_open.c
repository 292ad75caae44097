/* nq_open.c — Natural Questions open (NQs in GLaM's table), closed book, generated answer scored by exact match.
 *
 * Provenance
 *   dataset   NQ-open, HF google-research-datasets/nq_open; ../shared/data/nq_open/
 *   split     validation: NQ-open dev, 3,610 questions (the set GPT-3 and GLaM report as the NQ test set).
 *             Few-shot pool: train_pool.jsonl = EfficientQA dev 1.1 (1,800 questions, none shared with
 *             validation), standing in for the absent NQ-open train split.
 *   format    GPT-3 Appendix G: "Q: {question}?\nA:", target " {answer}" — NQ questions carry no
 *             question mark, so the format adds one (as lm-eval's nq_open yaml does). GLaM K = 64.
 *   stop      "\n" (lm-eval adds "." and ",", which would cut "14 December 1972" style answers only rarely but
 *             "Salzburg, Austria" always).
 *   metric    em: qa_em_score (SQuAD normalisation, max over the gold list; see scoring/qa_em.h for how this
 *             differs from lm-eval's regex-based exact_match). Ids: the file has none, so line numbers. */
#include "config.h"

#include "tasks/gen_common.h"
#include "tasks/task.h"

static int nq_open_load(const cJSON *record, size_t line_no, struct task_doc *doc, struct ge_error *err)
{
    return gen_load_closed_book(record, line_no, "answer", "?\nA:", doc, err);
}

const struct task task_nq_open = {
    .name = "nq_open",
    .display = "NQs",
    .category = TASK_NLG,
    .kind = TASK_GENERATE,
    .version = 1,
    .eval_split = "validation",
    .fewshot_split = "train_pool",
    .expected_records = 3610,
    .glam_shots = 64,
    .fewshot_sep = "\n\n",
    .primary_metric = "em",
    .prompt_source = "GPT-3 Appendix G (Natural Questions); \"?\" as lm-eval nq_open (lm-eval v0.4 also puts "
                     "\"Answer these questions:\\n\\n\" first and joins examples with one \"\\n\")",
    .until = {"\n", NULL},
    .max_gen_tokens = 32,
    .load = nq_open_load,
    .score_generation = gen_score_em,
};
