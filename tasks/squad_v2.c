/* squad_v2.c — SQuAD 2.0 (SQuADv2 in GLaM's table): generated answer against the context, unanswerable
 * questions included, scored by the official v2.0 EM/F1 rules.
 *
 * Provenance
 *   dataset   SQuAD 2.0, HF rajpurkar/squad_v2 (lm-eval loads the same-schema lighteval/squad_v2);
 *             ../shared/data/squad_v2/
 *   split     validation = SQuAD 2.0 dev, 11,873 questions (5,945 unanswerable). No train split here: few-shot
 *             examples come from the same file minus the evaluated document. GLaM K = 10.
 *   format    lm-eval squadv2 (task.py doc_to_text), also GPT-3's: "Title: {title}\n\nBackground: {context}\n\n
 *             Question: {question}\n\nAnswer:"; few-shot target " {answers.text[0]}", or " unanswerable" for a
 *             question without answers (lm-eval's doc_to_target).
 *   gold      answers.text, or the single gold "" when it is empty (task.h: a generation doc has >= 1 answer).
 *   stop      "\n" (lm-eval's until).
 *   metric    f1 (primary, as GPT-3 reports) and em from squad_score_question with the v2.0 rules. A generation
 *             that is "unanswerable" (any case, surrounding whitespace and a final "." ignored) is scored as the
 *             empty answer "", because that is how the few-shot examples teach the model to abstain. lm-eval
 *             instead compares the raw text and uses the probability of " unanswerable" only for best_exact/
 *             best_f1 thresholds, which we do not compute. */
#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "harness/xalloc.h"
#include "scoring/squad.h"
#include "tasks/gen_common.h"
#include "tasks/task.h"

#define SQUAD_V2_NO_ANSWER "unanswerable"

static int squad_v2_load(const cJSON *record, size_t line_no, struct task_doc *doc, struct ge_error *err)
{
    const char *title, *context, *question;
    int rc = gen_string(record, "title", 1, &title, err);
    if (rc == GE_OK)
        rc = gen_string(record, "context", 0, &context, err);
    if (rc == GE_OK)
        rc = gen_string(record, "question", 0, &question, err);
    if (rc == GE_OK)
        rc = gen_strings(record, "answers.text", 0, &doc->answers, &doc->n_answers, err);
    if (rc == GE_OK)
        rc = gen_doc_id(record, "id", line_no, doc, err);
    if (rc != GE_OK) {
        task_doc_release(doc);
        return rc;
    }
    if (doc->n_answers == 0) {
        free(doc->answers);
        doc->answers = xcalloc(1, sizeof *doc->answers);
        doc->answers[0] = xstrdup("");
        doc->n_answers = 1;
        doc->fewshot_target = xstrdup(" " SQUAD_V2_NO_ANSWER);
    } else {
        doc->fewshot_target = gen_strdupf(" %s", doc->answers[0]);
    }
    doc->query = gen_strdupf("Title: %s\n\nBackground: %s\n\nQuestion: %s\n\nAnswer:", title, context, question);
    return GE_OK;
}

/* Whether s is the abstention word, ignoring case, surrounding whitespace and one final ".". */
static int is_no_answer(const char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t len = strlen(s);
    while (len > 0 && isspace((unsigned char)s[len - 1]))
        len--;
    if (len > 0 && s[len - 1] == '.')
        len--;
    return len == strlen(SQUAD_V2_NO_ANSWER) && strncasecmp(s, SQUAD_V2_NO_ANSWER, len) == 0;
}

static int squad_v2_score(const struct task_doc *doc, const char *generated, struct task_doc_scores *out,
                          struct ge_error *err)
{
    double em, f1;
    const char *pred = is_no_answer(generated) ? "" : generated;
    int rc = squad_score_question(SQUAD_V2_0, pred, (const char *const *)doc->answers, doc->n_answers, &em, &f1,
                                  err);
    if (rc != GE_OK)
        return rc;
    gen_scores_add(out, "f1", f1);
    gen_scores_add(out, "em", em);
    return GE_OK;
}

/* Official release files accepted besides DIR/squad_v2/<split>.jsonl (tasks/release_formats.h). */
static const struct task_source squad_v2_sources[] = {
    {.split = "validation", .format = RELEASE_SQUAD_JSON,
     .paths = {"squad_v2/dev-v2.0.json", "squad_v2/official/dev-v2.0.json"},
     .origin = "https://rajpurkar.github.io/SQuAD-explorer/ (Dev Set v2.0)"},
    {.split = NULL},
};

const struct task task_squad_v2 = {
    .name = "squad_v2",
    .display = "SQuADv2",
    .category = TASK_NLG,
    .kind = TASK_GENERATE,
    .version = 1,
    .eval_split = "validation",
    .fewshot_split = "validation",
    .expected_records = 11873,
    .glam_shots = 10,
    .fewshot_sep = "\n\n",
    .primary_metric = "f1",
    .prompt_source = "lm-eval squadv2 task.py doc_to_text/doc_to_target (GPT-3 Appendix G SQuADv2 format); one space "
                     "after \"Answer:\" in few-shot examples as v0.3 (v0.4 writes two)",
    .until = {"\n", NULL},
    .max_gen_tokens = 32,
    .load = squad_v2_load,
    .sources = squad_v2_sources,
    .score_generation = squad_v2_score,
};
