/* race_middle.c — RACE-middle: English reading-comprehension exams (Chinese middle school), 4-way multiple choice.
 *
 * Provenance
 *   dataset       EleutherAI/race, config middle (what lm-eval loads): one record per article with its "problems";
 *                 not in ../shared/data (no public copy was found), so it runs only on a user-supplied
 *                 DIR/race_middle/test.jsonl whose "problems" is a JSON array (see mc_load_race in mc_record.h).
 *   eval split    test (362 articles, 1436 questions; GPT-3 and GLaM report test). Every question is one document
 *                 (load_multi), unlike lm-eval, which scores only the last question of each article.
 *   few-shot      train
 *   prompt        GPT-3 Appendix G (RACE figure: article, the earlier questions of the article with their
 *                 answers, then the question), strings as lm-evaluation-harness race (utils doc_to_text:
 *                 "Article: ...\n\n", "Question: ...\nAnswer: ...\n"). lm-eval's special case for fill-in
 *                 questions ending "  _  ." (which appends the question's last five characters, a known slip) is
 *                 not reproduced: every question is rendered "Question: {q}\nAnswer:".
 *   metric        acc_uncond (primary: GPT-3's normalisation by the unconditional probability given "Answer:"),
 *                 acc, acc_norm as well.
 *   id            "<line>_<question number>" (the schema has no id). */
#include "config.h"

#include "tasks/mc_record.h"
#include "tasks/mc_tasks.h"

static int race_middle_load_multi(const cJSON *record, size_t line_no, struct task_doc **docs, size_t *n_docs,
                                  struct ge_error *err)
{
    return mc_load_race(record, line_no, docs, n_docs, err);
}

/* Official release files accepted besides DIR/race_middle/<split>.jsonl (tasks/release_formats.h). */
static const struct task_source race_middle_sources[] = {
    {.split = "test", .format = RELEASE_RACE_DIR, .paths = {"RACE/test/middle", "race_middle/official/test/middle"},
     .origin = "RACE.tar.gz from https://www.cs.cmu.edu/~glai1/data/race/"},
    {.split = "train", .format = RELEASE_RACE_DIR, .paths = {"RACE/train/middle", "race_middle/official/train/middle"},
     .origin = "RACE.tar.gz from https://www.cs.cmu.edu/~glai1/data/race/"},
    {.split = "validation", .format = RELEASE_RACE_DIR, .paths = {"RACE/dev/middle", "race_middle/official/dev/middle"},
     .origin = "RACE.tar.gz from https://www.cs.cmu.edu/~glai1/data/race/"},
    {.split = NULL},
};

const struct task task_race_middle = {
    .name = "race_middle",
    .display = "RACE-m",
    .category = TASK_NLU,
    .kind = TASK_MULTIPLE_CHOICE,
    .version = 1,
    .eval_split = "test",
    .fewshot_split = "train",
    .expected_records = 362, /* articles; 1436 questions */
    .glam_shots = 8,
    .fewshot_sep = "\n\n",
    .primary_metric = "acc_uncond",
    .prompt_source = "GPT-3 Appendix G (RACE); lm-evaluation-harness race utils.py doc_to_text",
    .load_multi = race_middle_load_multi,
    .sources = race_middle_sources,
};
