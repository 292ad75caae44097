/* lambada.c — LAMBADA (OpenAI version): generate the last word of a passage; accuracy of the greedy word.
 *
 * Provenance
 *   dataset   LAMBADA, OpenAI-processed test set, HF EleutherAI/lambada_openai (default); ../shared/data/lambada/
 *   split     test, 5,153 passages (GLaM's split). No other split: few-shot examples come from the same file minus
 *             the evaluated document. GLaM K = 9.
 *   format    GPT-3 §3.1.2 plain (not fill-in-the-blank) format: query = text up to its last ' ', answer = the text
 *             after it (lm-eval lambada_openai's split(' ')), few-shot target " {last word}".
 *   stop      "\n" only, with max_gen_tokens 8. A " " stop string would fire on the leading space the model emits
 *             before the word, and "." would cut "thought...Tess"-like gold words; instead the scorer reads the
 *             first word of the generation itself (below), so what follows the word never matters.
 *   metric    em = 1 when the generation, after leading whitespace, starts with the gold word, case-sensitively, and
 *             the word ends there: at the end of the text, at whitespace, or at closing punctuation
 *             (. , ! ? ; : " ) ] and the UTF-8 ” and …). An apostrophe or hyphen continues the word, so "Shane's"
 *             does not match "Shane". This is GPT-3's "accuracy of the last word" for a generating model; lm-eval
 *             instead checks that the gold continuation is the greedy one token by token.
 *   known gap 7 of the 5,153 gold "words" contain a newline (split(' ') keeps "of\n\nPower" as one word); with the
 *             "\n" stop they can never be matched. */
#include "config.h"

#include <string.h>

#include "harness/xalloc.h"
#include "scoring/doc_id.h"
#include "tasks/gen_common.h"
#include "tasks/task.h"

static int lambada_load(const cJSON *record, size_t line_no, struct task_doc *doc, struct ge_error *err)
{
    const char *text;
    int rc = gen_string(record, "text", 0, &text, err);
    if (rc != GE_OK)
        return rc;
    const char *space = strrchr(text, ' ');
    if (space == NULL || space == text || space[1] == '\0')
        return ge_error_set(err, GE_ERR_FORMAT, "field \"text\" has no last word after a space");
    char line_id[DOC_ID_LINE_CAP];
    doc_id_from_line(line_no, line_id);
    doc->id = xstrdup(line_id);
    doc->query = xstrndup(text, (size_t)(space - text));
    doc->answers = xcalloc(1, sizeof *doc->answers);
    doc->answers[0] = xstrdup(space + 1);
    doc->n_answers = 1;
    doc->fewshot_target = xstrdup(space);
    return GE_OK;
}

/* Whether s (the bytes right after the matched word) ends the word: see the metric note above. */
static int word_ends_at(const char *s)
{
    if (*s == '\0' || strchr(" \t\r\n.,!?;:\")]", *s) != NULL)
        return 1;
    return strncmp(s, "\xe2\x80\x9d", 3) == 0 || strncmp(s, "\xe2\x80\xa6", 3) == 0; /* ” … */
}

static int lambada_score(const struct task_doc *doc, const char *generated, struct task_doc_scores *out,
                         struct ge_error *err)
{
    (void)err;
    const char *gold = doc->answers[0];
    size_t gold_len = strlen(gold);
    while (*generated == ' ' || *generated == '\t')
        generated++;
    int hit = strncmp(generated, gold, gold_len) == 0 && word_ends_at(generated + gold_len);
    gen_scores_add(out, "em", hit ? 1.0 : 0.0);
    return GE_OK;
}

const struct task task_lambada = {
    .name = "lambada",
    .display = "LAMBADA",
    .category = TASK_NLG,
    .kind = TASK_GENERATE,
    .version = 1,
    .eval_split = "test",
    .fewshot_split = "test",
    .expected_records = 5153,
    .glam_shots = 9,
    .fewshot_sep = "\n\n",
    .primary_metric = "em",
    .prompt_source = "GPT-3 §3.1.2 (plain format); last-word split as lm-eval lambada_openai; one space before a "
                     "few-shot example's last word (lm-eval v0.4 writes two)",
    .until = {"\n", NULL},
    .max_gen_tokens = 8,
    .load = lambada_load,
    .score_generation = lambada_score,
};
