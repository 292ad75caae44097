/* squad.h — SQuAD exact match and F1: per question (v1.1 and v2.0 rules) and the official v2.0 file scorer.
 *
 * Reference: the official scripts. v2.0: evaluate-v2.0.py from rajpurkar/SQuAD-explorer@eee5fdbf62f8613a7812b034
 * (sha256 710840ce2c2c61716334c056777032f24660b83eb9869a451036e6a24d8103c4); v1.1: evaluate-v1.1.py as copied
 * verbatim into huggingface/evaluate metrics/squad/compute_score.py. Both normalise with squad_normalize().
 *
 * v1.1 per question: EM = max over golds of normalised equality; F1 = max over golds of token F1 without the
 *   empty rule (an empty side gives 0). At least one gold answer is required (the script's max() of nothing fails).
 * v2.0 per question: golds whose normalised text is empty are dropped; if none is left the only gold is "" (the
 *   no-answer); EM as above; F1 with the empty rule (both empty = 1, one empty = 0).
 *
 * File scorer (v2.0), what the official script does and what we do:
 *   - A question is "HasAns" when its raw answer list is non-empty (even if every answer normalises to "").
 *   - Question ids act as Python dict keys: a repeated id keeps its first position and its last answers.
 *   - total = number of questions that have a prediction; exact/f1 = 100 * mean. HasAns_* / NoAns_* are the same
 *     over the questions of each kind and are omitted when there are none of that kind.
 *   - A question without a prediction: the script prints "Missing prediction for <qid>", leaves it out of
 *     exact/f1/total, and then dies with a KeyError when it builds the HasAns/NoAns breakdown, so it never
 *     reports numbers for such a file. We fail too (GE_ERR_FORMAT, naming the first missing id and the count),
 *     unless options ask for SQuAD v1.1's rule: score it 0 and count it everywhere.
 *   - Predictions for ids not in the dataset are ignored; a non-string prediction is an error when used.
 *   - --na-prob-file / --na-prob-thresh are supported (apply_no_ans_threshold and the best_exact/best_f1 search);
 *     the precision-recall curves (--out-image-dir, keys pr_*) are not: they need matplotlib images.
 *   - Numbers: sums run in dataset order with plain double addition as Python 3.11's sum() does (3.12 switched
 *     to compensated summation; results can then differ in the last bits). Counts print as integers; scores and
 *     thresholds as Python floats (a threshold read from an integer JSON value prints as "1.0" where Python
 *     would print "1").
 *
 * Dataset formats accepted (detected from the content):
 *   official JSON: {"version", "data": [{"title", "paragraphs": [{"context", "qas": [{"id", "question",
 *     "answers": [{"text", "answer_start"}], "is_impossible"}]}]}]}; only data/paragraphs/qas/id/answers/text
 *     are read.
 *   JSONL (Hugging Face squad_v2 schema, e.g. ../shared/data/squad_v2/validation.jsonl): one object per line
 *     with "id" and "answers": {"text": [...], "answer_start": [...]}; only id and answers.text are read.
 * Predictions: a JSON object {"qid": "answer text"} (see predictions.h). */
#ifndef GE_SQUAD_H
#define GE_SQUAD_H

#include <stddef.h>

#include "harness/error.h"
#include "harness/strbuf.h"

enum squad_version {
    SQUAD_V1_1 = 1,
    SQUAD_V2_0 = 2,
    SQUAD_OPEN_QA = 3 /* open-domain QA as DPR scores it (qa_validation.py exact_match_score): SQuAD's normaliser,
                         max over every gold, none dropped (an answer "A+" normalises to nothing and is still
                         matched by a prediction that does); no golds at all: v2.0's rule; F1 with v2.0's rule for
                         empty token lists */
};

#define SQUAD_FILE_LIMIT ((size_t)1 << 30) /* 1 GiB per dataset file */

/* Scores pred against the n_golds gold answers of one question under the rules of version; writes EM (0 or 1)
 * to *em and F1 (0..1) to *f1. Borrows everything. Fails with GE_ERR_USAGE for v1.1 without golds. */
int squad_score_question(enum squad_version version, const char *pred, const char *const *golds, size_t n_golds,
                         double *em, double *f1, struct ge_error *err);

/* Options of the file scorer, mirroring evaluate-v2.0.py's flags. Zero-initialised = script defaults except
 * na_prob_thresh, so use SQUAD_V2_OPTIONS_DEFAULT. */
struct squad_v2_options {
    const char *na_prob_path; /* borrowed; NULL = no --na-prob-file (every probability 0.0) */
    double na_prob_thresh;    /* --na-prob-thresh: predict "" when the probability exceeds it (script default 1.0) */
    int missing_as_zero;      /* 0: a question without a prediction is an error; 1: it scores 0 (v1.1 rule) */
};
#define SQUAD_V2_OPTIONS_DEFAULT {.na_prob_path = NULL, .na_prob_thresh = 1.0, .missing_as_zero = 0}

/* Scores a predictions file against a SQuAD v2.0 dataset as evaluate-v2.0.py does and appends the result object
 * to out_json: keys exact, f1, total, HasAns_exact, HasAns_f1, HasAns_total, NoAns_exact, NoAns_f1,
 * NoAns_total (in that order, the breakdowns only when non-empty), then best_exact, best_exact_thresh, best_f1,
 * best_f1_thresh when an na-prob file is given. Errors name the file and the line or JSON path. */
int squad_v2_score_files_opts(const char *dataset_path, const char *predictions_path,
                              const struct squad_v2_options *opts, struct strbuf *out_json, struct ge_error *err);

/* squad_v2_score_files_opts with SQUAD_V2_OPTIONS_DEFAULT. */
int squad_v2_score_files(const char *dataset_path, const char *predictions_path, struct strbuf *out_json,
                         struct ge_error *err);

#endif
