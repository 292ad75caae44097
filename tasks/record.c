/* record.c — ReCoRD: fill the "@placeholder" of a news query with one of the passage's entities (SuperGLUE),
 * scored as multiple choice over the entities.
 *
 * Provenance
 *   dataset       aps/super_glue, config record (../shared/data/record/): passage (with "\n@highlight\n"
 *                 bullets), query, entities (sorted), answers, idx {passage, query}
 *   eval split    validation (10,000 queries), GLaM's split (`glam-eval data fetch record`, or SuperGLUE's
 *                 ReCoRD/val.jsonl). ../shared/data does not hold it (over its snapshot size limit), only two
 *                 32-passage FewGLUE files drawn from SuperGLUE train; version 1 evaluated their "train_dev32" as
 *                 a stand-in so the task ran end to end, which made numbers that looked like GLaM's but were not:
 *                 a run without the validation split now reports the data missing instead.
 *   few-shot      train
 *   prompt        lm-evaluation-harness lm_eval/tasks/super_glue/record/util.py (GPT-3 Appendix G's ReCoRD
 *                 layout): query = passage.strip() split at "\n@highlight\n": the first part + "\n\n", then
 *                 "  - {highlight}.\n" for each highlight; option i = "  - {query}" with every "@placeholder"
 *                 replaced by entities[i] (its leading spaces are its own: no extra delimiter is added, as in
 *                 lm-eval v0.3's construct_requests); fewshot_target = the option of answers[0].
 *   gold          every entity whose official ReCoRD EM against some answer is 1 (record_score,
 *                 scoring/record.h), so "acc" (the predicted entity is gold) equals the official max-over-gold
 *                 EM of the prediction.
 *   metrics       acc (GLaM's number; = official EM) plus the official "em" and "f1" of the predicted entity
 *                 (doc.choice_labels are the entities; record_score_entity against doc.answers, as the official
 *                 evaluate.py and lm-eval's record metrics do: max over gold answers).
 *   id            "<idx.passage>-<idx.query>" */
#include "config.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/strbuf.h"
#include "harness/xalloc.h"
#include "scoring/record.h"
#include "tasks/gen_common.h"
#include "tasks/mc_record.h"
#include "tasks/mc_tasks.h"

/* A new string: "  - " + query with every "@placeholder" replaced by entity. */
static char *record_option(const char *query, const char *entity)
{
    static const char placeholder[] = "@placeholder";
    struct strbuf sb;
    strbuf_init(&sb, 0);
    strbuf_append_str(&sb, "  - ", NULL);
    const char *s = query;
    for (const char *hit; (hit = strstr(s, placeholder)) != NULL; s = hit + sizeof placeholder - 1) {
        strbuf_append(&sb, s, (size_t)(hit - s), NULL);
        strbuf_append_str(&sb, entity, NULL);
    }
    strbuf_append_str(&sb, s, NULL);
    char *out = xstrdup(strbuf_str(&sb));
    strbuf_release(&sb);
    return out;
}

/* The lm-eval doc_to_text of the passage. */
static char *record_context(const char *passage)
{
    static const char sep[] = "\n@highlight\n";
    char *stripped = mc_strip(passage, strlen(passage));
    struct strbuf sb;
    strbuf_init(&sb, 0);
    const char *s = stripped, *hit = strstr(s, sep);
    strbuf_append(&sb, s, hit ? (size_t)(hit - s) : strlen(s), NULL);
    strbuf_append_str(&sb, "\n\n", NULL);
    while (hit != NULL) {
        s = hit + sizeof sep - 1;
        hit = strstr(s, sep);
        strbuf_append_str(&sb, "  - ", NULL);
        strbuf_append(&sb, s, hit ? (size_t)(hit - s) : strlen(s), NULL);
        strbuf_append_str(&sb, ".\n", NULL);
    }
    char *out = xstrdup(strbuf_str(&sb));
    strbuf_release(&sb);
    free(stripped);
    return out;
}

static int idx_part(const cJSON *record, const char *path, int64_t *out, struct ge_error *err)
{
    const cJSON *v = gen_field(record, path);
    if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble != floor(v->valuedouble) ||
        v->valuedouble >= 9007199254740992.0)
        return ge_error_set(err, GE_ERR_FORMAT, "field \"%s\" is missing or not a non-negative integer", path);
    *out = (int64_t)v->valuedouble;
    return GE_OK;
}

static int record_load(const cJSON *record, size_t line_no, struct task_doc *doc, struct ge_error *err)
{
    const char *passage, *query;
    char **entities = NULL;
    size_t n_entities = 0;
    int64_t ip, iq;
    (void)line_no;
    memset(doc, 0, sizeof *doc);
    int rc = gen_string(record, "passage", 0, &passage, err);
    if (rc == GE_OK)
        rc = gen_string(record, "query", 0, &query, err);
    if (rc == GE_OK)
        rc = gen_strings(record, "entities", 2, &entities, &n_entities, err);
    if (rc == GE_OK && n_entities > TASK_MAX_CHOICES)
        rc = ge_error_set(err, GE_ERR_LIMIT, "field \"entities\" has %zu entities, more than %d", n_entities,
                          TASK_MAX_CHOICES);
    if (rc == GE_OK)
        rc = gen_strings(record, "answers", 1, &doc->answers, &doc->n_answers, err);
    if (rc == GE_OK && strstr(query, "@placeholder") == NULL)
        rc = ge_error_set(err, GE_ERR_FORMAT, "field \"query\" has no \"@placeholder\"");
    if (rc == GE_OK && (rc = idx_part(record, "idx.passage", &ip, err)) == GE_OK)
        rc = idx_part(record, "idx.query", &iq, err);
    for (size_t i = 0; rc == GE_OK && i < n_entities; i++) {
        double em, f1;
        rc = record_score(entities[i], (const char *const *)doc->answers, doc->n_answers, &em, &f1, err);
        if (rc == GE_OK && em == 1.0)
            doc->gold[doc->n_gold++] = i;
    }
    if (rc == GE_OK && doc->n_gold == 0)
        rc = ge_error_set(err, GE_ERR_FORMAT, "field \"answers\": no answer matches any of the \"entities\"");
    if (rc != GE_OK)
        goto out;
    char id[80];
    snprintf(id, sizeof id, "%" PRId64 "-%" PRId64, ip, iq);
    doc->id = xstrdup(id);
    doc->query = record_context(passage);
    mc_alloc_choices(doc, n_entities, 0);
    for (size_t i = 0; i < n_entities; i++)
        doc->choices[i] = record_option(query, entities[i]);
    doc->fewshot_target = record_option(query, doc->answers[0]);
    doc->choice_labels = entities; /* ownership moves to the doc */
    entities = NULL;
    n_entities = 0;
out:
    for (size_t i = 0; i < n_entities; i++)
        free(entities[i]);
    free(entities);
    if (rc != GE_OK)
        task_doc_release(doc);
    return rc;
}

/* The official EM and F1 of the predicted entity: the best over the gold answers. */
static int record_score_entity(const struct task_doc *doc, const char *entity, struct task_doc_scores *out,
                               struct ge_error *err)
{
    double em = 0, f1 = 0;
    int rc = record_score(entity, (const char *const *)doc->answers, doc->n_answers, &em, &f1, err);
    if (rc)
        return rc;
    out->name[0] = "em";
    out->value[0] = em;
    out->name[1] = "f1";
    out->value[1] = f1;
    out->n = 2;
    return GE_OK;
}

#define SUPERGLUE_ORIGIN "SuperGLUE 1.0.3 release, https://super.gluebenchmark.com/tasks (combined.zip)"

/* Official release files accepted besides DIR/record/<split>.jsonl (tasks/release_formats.h). */
static const struct task_source record_sources[] = {
    {.split = "validation", .format = RELEASE_SG_RECORD, .paths = {"ReCoRD/val.jsonl", "record/official/val.jsonl"},
     .origin = SUPERGLUE_ORIGIN},
    {.split = "train", .format = RELEASE_SG_RECORD, .paths = {"ReCoRD/train.jsonl", "record/official/train.jsonl"},
     .origin = SUPERGLUE_ORIGIN},
    {.split = "train_dev32", .format = RELEASE_SG_RECORD,
     .paths = {"record/official/dev32.jsonl", "FewGLUE_32dev/ReCoRD/dev32.jsonl"},
     .origin = "FewGLUE, https://github.com/THUDM/P-tuning/tree/main/FewGLUE_32dev"},
    {.split = NULL},
};

const struct task task_record = {
    .name = "record",
    .display = "ReCoRD",
    .category = TASK_NLU,
    .kind = TASK_MULTIPLE_CHOICE,
    .version = 2, /* 2: validation split (was the train_dev32 stand-in); em and f1 of the predicted entity */
    .eval_split = "validation",
    .fewshot_split = "train",
    .expected_records = 10000,
    .glam_shots = 2,
    .fewshot_sep = "\n\n",
    .primary_metric = "acc", /* GLaM's number (= official EM); "f1" is stored beside it */
    .prompt_source = "lm-evaluation-harness super_glue/record/util.py (GPT-3 Appendix G ReCoRD layout)",
    .load = record_load,
    .score_generation = record_score_entity,
    .sources = record_sources,
};
