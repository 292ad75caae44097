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
 *                 "Article: ...\n\n", "Question: ...\nAnswer: ...\n"), with two differences: lm-eval appends
 *                 the scored (last) question bare, without "Question:" and "Answer:" (v0.3 race.py and v0.4
 *                 preprocess_race.py alike), where we write it like the earlier ones, "Question: {q}\nAnswer:"
 *                 (GPT-3's figure labels it; the unconditional context "Answer:" needs the label); and lm-eval's
 *                 special case for fill-in questions ending "  _  ." (v0.3 appends the question's last five
 *                 characters, v0.4 all but them: slips either way) is not reproduced.
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
    .prompt_source = "GPT-3 Appendix G (RACE); strings from lm-evaluation-harness race utils.py doc_to_text, except: "
                     "the scored question is written \"Question: {q}\\nAnswer:\" too (lm-eval appends it bare), and "
                     "every question of an article is scored (lm-eval scores the last)",
    .load_multi = race_middle_load_multi,
    .sources = race_middle_sources,
};
