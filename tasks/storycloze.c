/* storycloze.c — StoryCloze (2016): pick the right ending of a four-sentence story.
 *
 * Provenance
 *   dataset       LSDSem/story_cloze, config 2016 (fields story_id, input_sentence_1..4, sentence_quiz1,
 *                 sentence_quiz2, answer_right_ending = 1 or 2). Distributed by request form only, so not in
 *                 ../shared/data: it runs on a user-supplied DIR/storycloze/test.jsonl (dataset.c says where to
 *                 ask for it) or on the official CSV files (tasks/release_csv.c).
 *   eval split    test (the 2016 Spring test set, 1,871 stories; GPT-3 and GLaM report it; HF config 2016 has
 *                 splits validation and test, both 1,871)
 *   few-shot      validation (there is no labelled train set with wrong endings)
 *   prompt        GPT-3 Appendix G (StoryCloze figure), strings as lm-evaluation-harness
 *                 lm_eval/tasks/storycloze/storycloze_2016.yaml: the four sentences joined by " ", options
 *                 " {sentence_quiz1}" / " {sentence_quiz2}", gold = answer_right_ending - 1.
 *   id            story_id */
#include "config.h"

#include <string.h>

#include "harness/xalloc.h"
#include "tasks/mc_record.h"
#include "tasks/mc_tasks.h"

static int storycloze_load(const cJSON *record, size_t line_no, struct task_doc *doc, struct ge_error *err)
{
    const char *s[4], *quiz1, *quiz2;
    static const char *const fields[4] = {"input_sentence_1", "input_sentence_2", "input_sentence_3",
                                          "input_sentence_4"};
    size_t right;
    int rc = GE_OK;
    memset(doc, 0, sizeof *doc);
    for (size_t i = 0; i < 4 && rc == GE_OK; i++)
        rc = mc_get_string(record, fields[i], &s[i], err);
    if (rc < 0 || (rc = mc_get_string(record, "sentence_quiz1", &quiz1, err)) < 0 ||
        (rc = mc_get_string(record, "sentence_quiz2", &quiz2, err)) < 0 ||
        (rc = mc_get_index(record, "answer_right_ending", 3, &right, err)) < 0)
        goto out;
    if (right == 0) {
        rc = ge_error_set(err, GE_ERR_FORMAT, "field \"answer_right_ending\" = 0 is not 1 or 2");
        goto out;
    }
    if ((rc = mc_set_id(doc, record, "story_id", line_no, err)) < 0)
        goto out;
    doc->query = mc_concat(s[0], " ", s[1], " ", s[2], " ", s[3], (const char *)NULL);
    mc_alloc_choices(doc, 2, 0);
    doc->choices[0] = mc_concat(" ", quiz1, (const char *)NULL);
    doc->choices[1] = mc_concat(" ", quiz2, (const char *)NULL);
    doc->gold[0] = right - 1;
    doc->n_gold = 1;
    doc->fewshot_target = xstrdup(doc->choices[right - 1]);
out:
    if (rc < 0)
        task_doc_release(doc);
    return rc;
}

/* Official release files accepted besides DIR/storycloze/<split>.jsonl (tasks/release_formats.h). */
static const struct task_source storycloze_sources[] = {
    {.split = "test", .format = RELEASE_STORYCLOZE_CSV,
     .paths = {"storycloze/cloze_test_test__spring2016 - cloze_test_ALL_test.csv",
               "storycloze/cloze_test_test__spring2016.csv"},
     .origin = "the request form at https://cs.rochester.edu/nlp/rocstories/"},
    {.split = "validation", .format = RELEASE_STORYCLOZE_CSV,
     .paths = {"storycloze/cloze_test_val__spring2016 - cloze_test_ALL_val.csv",
               "storycloze/cloze_test_val__spring2016.csv"},
     .origin = "the request form at https://cs.rochester.edu/nlp/rocstories/"},
    {.split = NULL},
};

const struct task task_storycloze = {
    .name = "storycloze",
    .display = "StoryCloze",
    .category = TASK_NLU,
    .kind = TASK_MULTIPLE_CHOICE,
    .version = 1,
    .eval_split = "test",
    .fewshot_split = "validation",
    .expected_records = 1871,
    .glam_shots = 16,
    .fewshot_sep = "\n\n",
    .primary_metric = "acc",
    .prompt_source = "GPT-3 Appendix G (StoryCloze); lm-evaluation-harness storycloze/storycloze_2016.yaml",
    .load = storycloze_load,
    .sources = storycloze_sources,
    .data_note = "StoryCloze is not redistributable, so glam-eval cannot download it: ask for it with the request form "
                 "at https://cs.rochester.edu/nlp/rocstories/ (the download links come by e-mail), then put the two "
                 "2016 cloze test CSV files in the storycloze folder under the data directory, keeping their names",
};
