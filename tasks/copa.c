/* copa.c — COPA: choice of plausible alternatives, cause or effect (SuperGLUE).
 *
 * Provenance
 *   dataset       aps/super_glue, config copa (../shared/data/copa/)
 *   eval split    validation (100 records; GLaM's split, test labels are private)
 *   few-shot      train (the 32-example FewGLUE subset of SuperGLUE train in ../shared/data)
 *   prompt        GPT-3 Appendix G (COPA example figure); strings as lm-evaluation-harness
 *                 lm_eval/tasks/super_glue/copa/utils.py: query = premise stripped, minus its last character
 *                 (the period), + " because" (question "cause") or " therefore" ("effect"); options " " + the
 *                 choice with its first letter lowercased; gold = label (0 = choice1, 1 = choice2).
 *   id            idx (SuperGLUE's example index) */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "harness/xalloc.h"
#include "tasks/mc_record.h"
#include "tasks/mc_tasks.h"

/* " " + choice with an ASCII first letter lowercased. TODO: Python's lower() also maps non-ASCII capitals; no
 * COPA choice starts with one. */
static char *copa_option(const char *choice)
{
    char *s = mc_concat(" ", choice, (const char *)NULL);
    if (s[1] >= 'A' && s[1] <= 'Z')
        s[1] = (char)(s[1] - 'A' + 'a');
    return s;
}

static int copa_load(const cJSON *record, size_t line_no, struct task_doc *doc, struct ge_error *err)
{
    const char *premise, *question, *choice[2], *connector;
    size_t label;
    int rc;
    memset(doc, 0, sizeof *doc);
    if ((rc = mc_get_string(record, "premise", &premise, err)) < 0 ||
        (rc = mc_get_string(record, "choice1", &choice[0], err)) < 0 ||
        (rc = mc_get_string(record, "choice2", &choice[1], err)) < 0 ||
        (rc = mc_get_string(record, "question", &question, err)) < 0 ||
        (rc = mc_get_index(record, "label", 2, &label, err)) < 0)
        return rc;
    if (strcmp(question, "cause") == 0)
        connector = " because";
    else if (strcmp(question, "effect") == 0)
        connector = " therefore";
    else
        return ge_error_set(err, GE_ERR_FORMAT, "field \"question\" = \"%s\" is neither \"cause\" nor \"effect\"",
                            question);
    if (choice[0][0] == '\0' || choice[1][0] == '\0')
        return ge_error_set(err, GE_ERR_FORMAT, "field \"choice%d\" is empty", choice[0][0] == '\0' ? 1 : 2);

    char *stripped = mc_strip(premise, strlen(premise));
    size_t len = strlen(stripped);
    if (len == 0) {
        free(stripped);
        return ge_error_set(err, GE_ERR_FORMAT, "field \"premise\" is empty");
    }
    /* Drop the last code point (Python's [:-1]), normally the period. */
    do
        len--;
    while (len > 0 && ((unsigned char)stripped[len] & 0xC0) == 0x80);
    stripped[len] = '\0';

    if ((rc = mc_set_id(doc, record, "idx", line_no, err)) < 0) {
        free(stripped);
        return rc;
    }
    doc->query = mc_concat(stripped, connector, (const char *)NULL);
    free(stripped);
    mc_alloc_choices(doc, 2, 0);
    for (size_t i = 0; i < 2; i++)
        doc->choices[i] = copa_option(choice[i]);
    doc->gold[0] = label;
    doc->n_gold = 1;
    doc->fewshot_target = xstrdup(doc->choices[label]);
    return GE_OK;
}

#define SUPERGLUE_ORIGIN "SuperGLUE 1.0.3 release, https://super.gluebenchmark.com/tasks (combined.zip)"

/* Official release files accepted besides DIR/copa/<split>.jsonl (tasks/release_formats.h). */
static const struct task_source copa_sources[] = {
    {.split = "validation", .format = RELEASE_SG_COPA, .paths = {"COPA/val.jsonl", "copa/official/val.jsonl"},
     .origin = SUPERGLUE_ORIGIN},
    {.split = "train", .format = RELEASE_SG_COPA, .paths = {"COPA/train.jsonl", "copa/official/train.jsonl"},
     .origin = SUPERGLUE_ORIGIN},
    {.split = NULL},
};

const struct task task_copa = {
    .name = "copa",
    .display = "COPA",
    .category = TASK_NLU,
    .kind = TASK_MULTIPLE_CHOICE,
    .version = 1,
    .eval_split = "validation",
    .fewshot_split = "train",
    .expected_records = 100,
    .glam_shots = 16,
    .fewshot_sep = "\n\n",
    .primary_metric = "acc",
    .prompt_source = "GPT-3 Appendix G (COPA); lm-evaluation-harness super_glue/copa/default.yaml + utils.py, one "
                     "space before the option as v0.3 (v0.4 adds its target delimiter to the option's own space: two)",
    .load = copa_load,
    .sources = copa_sources,
};
