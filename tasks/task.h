/* task.h — what a benchmark is to glam-eval: one const descriptor per task (tasks/<name>.c), registered in
 * tasks/registry.c.
 *
 * A task turns each JSONL record of its dataset (DIR/<task>/<split>.jsonl, the Hugging Face Hub schema documented
 * in ../shared/data/README.md, or an official release file converted to that schema by tasks/release_formats.c)
 * into a struct task_doc at load time — the prompt pieces already rendered in the
 * GPT-3 Appendix G format — so everything after loading (few-shot assembly, requests, scoring) is generic:
 *   multiple choice  one loglikelihood request per option: (context_i, continuation_i), where context_i is the
 *                    few-shot prefix + doc.query (or + doc.contexts[i] for GPT-3's partial evaluation of Winograd
 *                    and WinoGrande); optionally one unconditional request per option with context
 *                    doc.uncond_context (GPT-3's "Answer:" normalisation for ARC, OpenBookQA, RACE);
 *   generate         one generation request: few-shot prefix + doc.query, stopping at the task's stop strings;
 *                    scored against doc.answers by the task's metric.
 * A few-shot example is rendered as its query followed by its target (doc.fewshot_target), examples joined by
 * task.fewshot_sep; the evaluated document follows the last separator.
 *
 * Invariants of a loaded struct task_doc: id non-empty; query non-NULL; multiple choice: n_choices >= 2, every
 * gold index < n_choices, n_gold >= 1, contexts NULL or n_choices strings; generate: n_answers >= 1 (a task whose
 * golds may be empty, like SQuAD v2, stores "" as the gold); fewshot_target non-NULL. All strings are owned by the
 * doc (task_doc_release frees them). */
#ifndef GE_TASK_H
#define GE_TASK_H

#include <cjson/cJSON.h>
#include <stddef.h>

#include "harness/error.h"
#include "tasks/release_formats.h"

#define TASK_MAX_CHOICES 64
#define TASK_MAX_ANSWERS 1024
#define TASK_MAX_UNTIL 8

enum task_kind {
    TASK_MULTIPLE_CHOICE,
    TASK_GENERATE,
};

enum task_category {
    TASK_NLG,   /* GLaM's "Avg NLG" group */
    TASK_NLU,   /* GLaM's "Avg NLU" group */
    TASK_OTHER, /* outside both averages (GSM8K) */
};

struct task_doc {
    char *id;               /* the dataset's id for the record, or "<line number>" when it has none */
    char *query;            /* rendered prompt of the document, e.g. "Question: ...\nAnswer:" */
    char **choices;         /* (n_choices) continuations, each with its leading space, e.g. " yes" */
    char **contexts;        /* (n_choices) per-option contexts (partial evaluation), or NULL: use query */
    size_t n_choices;
    size_t gold[TASK_MAX_CHOICES]; /* (n_gold) indices of the correct options */
    size_t n_gold;
    char **choice_labels;   /* (n_choices) each option as an answer string (ReCoRD: its entity), or NULL; when
                               set, the predicted option's label is also scored by task.score_generation against
                               answers (ReCoRD's official EM/F1 of the predicted entity) */
    char *uncond_context;   /* context of the unconditional requests ("Answer:"), or NULL */
    char **answers;         /* (n_answers) gold answers of a generation task */
    size_t n_answers;
    char *fewshot_target;   /* appended to query when this document is a few-shot example */
    char *group;            /* documents that share a source (CoQA: the turns of one story), or NULL; a document
                               never gets a few-shot example from its own group, whose text would leak answers */
};

void task_doc_release(struct task_doc *doc);
/* The document's content hash (lowercase hex SHA-256 of its query, choices and answers, each with its NUL):
 * stored with every evaluated document, and how contamination verdicts join the documents of runs. */
void task_doc_content_hash(const struct task_doc *doc, char hex[65]);

/* Per-document metric values a task computes from its responses. */
#define TASK_MAX_METRICS 8
struct task_doc_scores {
    const char *name[TASK_MAX_METRICS]; /* constant metric names, e.g. "acc", "acc_norm", "em", "f1" */
    double value[TASK_MAX_METRICS];
    size_t n;
};

struct task {
    const char *name;             /* as on the command line and in the database, e.g. "arc_easy" */
    const char *display;          /* GLaM's table name, e.g. "ARC-e" */
    enum task_category category;
    enum task_kind kind;
    int version;                  /* bumped whenever prompts, parsing or scoring change */
    const char *eval_split;       /* GLaM's evaluation split file stem, e.g. "test" */
    const char *fewshot_split;    /* split the few-shot examples come from; == eval_split means "the same set
                                     minus the evaluated document" */
    size_t expected_records;      /* official size of the evaluation split (a mismatch is warned about); 0 = unknown */
    int glam_shots;               /* GLaM's K for the few-shot setting */
    const char *fewshot_sep;      /* between examples, e.g. "\n\n" */
    const char *primary_metric;   /* the number GLaM reports, e.g. "acc", "em", "f1" */
    const char *prompt_source;    /* where the format comes from, e.g. "GPT-3 Appendix G, Figure G.1" */
    /* generation tasks */
    const char *until[TASK_MAX_UNTIL]; /* stop strings, NULL-terminated */
    int max_gen_tokens;
    /* Renders one record (line line_no of the split file, 1-based; for an official release file, the number the
     * record would have as a line of the equivalent JSONL file, tasks/release_formats.h) into doc. Returns GE_ERR_FORMAT naming the
     * field for a malformed record (the loader reports file and line and skips it unless --strict). */
    int (*load)(const cJSON *record, size_t line_no, struct task_doc *doc, struct ge_error *err);
    /* Scores one document from its responses: for multiple choice the per-option log-likelihood responses in
     * option order (then the unconditional ones when uncond_context is set); for generation the one generated
     * text. Multiple choice always gets the generic accuracy variants (scoring/choice.h); a multiple-choice task
     * sets it only with doc.choice_labels, to score the predicted option's label as if it had been generated. */
    int (*score_generation)(const struct task_doc *doc, const char *generated, struct task_doc_scores *out,
                            struct ge_error *err);
    /* Optional, multiple choice: metrics over the whole set that are not means of per-document values (MultiRC's
     * F1a and per-question EM). idx[k] is the document index of the k-th scored document and pred[k] its predicted
     * option under raw log-likelihood (acc); copy (NULL = all 0) says, in a bootstrap resample, which drawn copy of
     * its unit (aggregate_unit) entry k belongs to: copies of one unit are distinct units (a question drawn twice
     * counts twice in per-question EM); out gets the metric values (their standard errors are bootstrapped
     * by harness/evaluate.h's evaluate_aggregate_metrics). It may read only docs[].id and docs[].gold[0] (the
     * task's documents have exactly one gold option): `merge` recomputes it over shards from stored rows without
     * the dataset (results/merge.c). */
    int (*aggregate)(const struct task_doc *docs, const size_t *idx, const size_t *pred, const size_t *copy,
                     size_t n, struct task_doc_scores *out, struct ge_error *err);
    /* Optional, with aggregate: the unit the aggregate's bootstrap resamples, as a key derived from a document id
     * (MultiRC: its question, "paragraph-question", so a resample keeps each question's answer options together
     * and per-question EM stays defined); documents with equal keys are drawn together. NULL = each document.
     * Writes the key into key (cap bytes, cap >= the id's length + 1 suffices); GE_ERR_FORMAT for a malformed id. */
    int (*aggregate_unit)(const char *doc_id, char *key, size_t cap, struct ge_error *err);
    /* Optional (NULL = one document per record, through load): renders one record into several documents, e.g.
     * CoQA's one per dialogue turn. A task sets exactly one of load and load_multi. On success *docs is a new
     * array of *n_docs >= 1 loaded documents, owned by the caller (task_doc_release each, then free the array);
     * on failure *docs is NULL, *n_docs 0, and err names the field as for load. */
    int (*load_multi)(const cJSON *record, size_t line_no, struct task_doc **docs, size_t *n_docs,
                      struct ge_error *err);
    /* Optional: the official release files accepted besides DIR/<name>/<split>.jsonl (tasks/release_formats.h),
     * a table ended by an entry whose split is NULL; tasks/dataset.c tries the JSONL first, then these in order. */
    const struct task_source *sources;
    /* Optional: how to obtain data that cannot be downloaded freely (StoryCloze's request form); shown instead of
     * the `glam-eval data fetch` hint when the data is missing. */
    const char *data_note;
};

#endif
