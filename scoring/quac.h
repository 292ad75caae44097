/* quac.h — QuAC word F1, HEQ-Q and HEQ-D, per question and as the official file scorer.
 *
 * Reference: the official scorer.py distributed on quac.ai (functions f1_score, handle_cannot, leave_one_out,
 * leave_one_out_max, compute_span_overlap, eval_fn), read from a public copy.
 *
 * Per question:
 *   refs = handle_cannot(reference texts): if at least half of them are the literal CANNOTANSWER the only
 *     reference is CANNOTANSWER, else the CANNOTANSWER references are dropped.
 *   human F1 = leave_one_out(refs): 1 for a single reference, else the mean over i of the best f1_score of
 *     refs[i] against the others.
 *   F1 = leave_one_out_max(prediction, refs): with one reference the score against it, else the mean over i of
 *     the best score against the references other than i. Against a CANNOTANSWER reference the score is 1 when
 *     the prediction is exactly "CANNOTANSWER" (no normalisation) and 0 otherwise; against a span it is
 *     SQuAD-normalised bag F1 with no empty rule (f1_score returns 0 when nothing is shared, also for "" vs "").
 *   overlap category (only used to order a sum, see quac.c): of the best reference over all refs.
 * File scorer (eval_fn): questions whose human F1 is below min_f1 (0.4 by default) are left out of f1, HEQ,
 * yes/no, followup and unanswerable_acc but kept in unfiltered_f1; a question without a prediction scores 0 (F1,
 * yes/no, followup, and unanswerable_acc when unanswerable), is never filtered, counts in every denominator, and
 * makes its dialogue fail HEQ-D. HEQ = share of counted questions with F1 >= human F1; DHEQ = share of all
 * dialogues in which no counted question fails. All results are percentages (100 * sum / count). */
#ifndef GE_QUAC_H
#define GE_QUAC_H

#include <stddef.h>

#include "harness/error.h"
#include "harness/strbuf.h"

#define QUAC_FILE_LIMIT ((size_t)1 << 30) /* bytes per dataset or predictions file */
#define QUAC_REFS_MAX 64                  /* reference answers per question (QuAC dev has up to 5) */
#define QUAC_CANNOT "CANNOTANSWER"

/* compute_span_overlap's categories, in no particular order (the file scorer orders them by first use). */
enum quac_overlap {
    QUAC_OVERLAP_NO_ANSWER = 0,   /* "NO ANSWER": no prediction (file scorer only) */
    QUAC_OVERLAP_EXACT = 1,       /* "Exact match" */
    QUAC_OVERLAP_PARTIAL = 2,     /* "Partial overlap" */
    QUAC_OVERLAP_NONE = 3,        /* "No overlap" */
    QUAC_OVERLAP_INDEX_ERROR = 4, /* "Span indexing error": prediction or reference not found in the context */
    QUAC_OVERLAP_COUNT = 5
};

/* The scores of one question. */
struct quac_turn_score {
    double f1;                  /* leave_one_out_max, 0..1 */
    double human_f1;            /* leave_one_out of the references, 0..1 */
    int unanswerable;           /* 1 when the references reduce to [CANNOTANSWER] */
    enum quac_overlap overlap;  /* category of the best reference */
};

/* Scores pred against the n_refs raw reference texts of one question; context (the section text, may be NULL =
 * "") only decides the overlap category. All arguments are borrowed. n_refs must be 1..QUAC_REFS_MAX. */
int quac_score_turn(const char *pred, const char *const *refs, size_t n_refs, const char *context,
                    struct quac_turn_score *out, struct ge_error *err);

/* Options of the file scorer. Use QUAC_OPTIONS_DEFAULT. */
struct quac_options {
    double min_f1;          /* --min_f1: questions whose human F1 is below this are not evaluated (script: 0.4) */
    int map_unanswerable;   /* not in the official scorer: 1 = a prediction whose SQuAD-normalised text is
                             * "cannotanswer", "unanswerable" or one of the dataset's aliases for an unanswerable
                             * question counts as "CANNOTANSWER" (for generated text); 0 = official behaviour */
};
#define QUAC_OPTIONS_DEFAULT {.min_f1 = 0.4, .map_unanswerable = 0}

/* The official file scorer. Appends {"unfiltered_f1", "f1", "HEQ", "DHEQ", "yes/no", "followup",
 * "unanswerable_acc"} to out_json (the metric_json of scorer.py, same keys and order). A value that cannot be
 * computed is null: yes/no and followup when the dataset or the predictions carry no such labels, and any value
 * whose denominator is zero (the script dies with ZeroDivisionError there).
 * Datasets (detected from the content):
 *   official val_v0.2.json: {"data": [{"paragraphs": [{"id", "context", "qas": [{"id", "answers": [{"text"}],
 *     "yesno", "followup"}]}]}]};
 *   llm-foundry's prompt-formatted JSONL (../shared/data/quac/quac.jsonl, see its README): one question per line
 *     with "context" (the prompt) and "answer" (single reference) and "aliases"; line N (1-based, the id `run`
 *     stores for the record, scoring/doc_id.h) is dialogue "N" with question "N_q#0"; the section text between
 *     "\nContext: " and the next "\n\nQuestion: " serves as the context. This file has one reference per question,
 *     so human F1 is 1 and HEQ means F1 == 1. A prediction whose dialogue id is a number but no dialogue's (e.g.
 *     "0_q#0", from a file keyed by 0-based line numbers) is an error naming it; the script ignores unknown
 *     questions, and so do we otherwise.
 * Predictions (detected from the content):
 *   the official JSONL: per line {"qid": [...], "best_span_str": [...], "yesno": [...], "followup": [...]},
 *     the lists zipped; the dialogue id is the first qid up to "_q#";
 *   a JSON object {qid: "answer"}; the dialogue id is the qid up to "_q#"; no yes/no or followup.
 * Errors name the file and the line or JSON path. */
int quac_score_files_opts(const char *dataset_path, const char *predictions_path, const struct quac_options *opts,
                          struct strbuf *out_json, struct ge_error *err);

/* quac_score_files_opts with QUAC_OPTIONS_DEFAULT. */
int quac_score_files(const char *dataset_path, const char *predictions_path, struct strbuf *out_json,
                     struct ge_error *err);

#endif
