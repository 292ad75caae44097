/* qa_em.h — exact match (and F1) against a list of gold answers, for open-domain QA, and the generic scorer
 * behind `glam-eval score em|f1`.
 *
 * Metric. GPT-3 (Brown et al. 2020, §3.1.3) and GLaM (Du et al. 2022, §5) score NaturalQuestions-open,
 * WebQuestions and TriviaQA in the open/closed-book setting by exact match of the generated answer against any
 * gold answer after normalisation; neither paper gives the normaliser, so we use SQuAD's (squad_normalize:
 * lowercase, drop ASCII punctuation, drop a/an/the, collapse whitespace), the de-facto standard for these sets
 * (DPR's reader evaluation, facebookresearch/DPR dpr/data/qa_validation.py exact_match_score, uses the same
 * function for NQ-open, TriviaQA and WebQuestions). Per question, DPR's rule (squad_score_question with
 * SQUAD_OPEN_QA): the normalised prediction equals some normalised gold, every gold counted — a gold that normalises
 * to nothing (NQ-open has "A+", "*", ")", "---") is matched by a prediction that does too, where SQuAD v2.0's rule
 * would drop it and score the right answer 0; a question without golds has the single gold "". F1 is SQuAD's token
 * F1, max over golds. The file scorer uses SQuAD v2.0's own rules (golds normalising to nothing dropped) when the
 * golds come in SQuAD v2's shape, an object with a "text" array, so `score em` on squad_v2 data agrees with
 * evaluate-v2.0.py. TriviaQA data is refused by the file scorer when its aliases are found by auto-detection:
 * TriviaQA's official normaliser differs (punctuation becomes a space), and `score triviaqa` implements it.
 *
 * How this differs from lm-evaluation-harness (checked at 4e7e0d47f33bc71070c1d38394bafbb52b117163):
 *   - nq_open: generate_until ["\n", ".", ","], strip, then exact_match with ignore_case, ignore_punctuation and
 *     regexes_to_ignore "\b(?:The |the |An |A |The |a |an )": articles are removed only when followed by a
 *     space (so a trailing article stays), before lowercasing (so "THE " stays); whitespace is not collapsed; a
 *     list of golds is scored as max over golds. We remove a/an/the as whole words anywhere, in any case, and
 *     collapse whitespace, so we accept some answers lm-eval rejects (e.g. "Paris  France" vs "Paris France").
 *   - triviaqa: targets answer.aliases, exact_match with ignore_case and ignore_punctuation only: no article
 *     removal, no whitespace collapsing. We also drop articles and collapse whitespace.
 *   - webqs: a multiple_choice task (log-likelihood: is some gold answer the greedy continuation), not generated
 *     text; its exact_match is not comparable with a generation metric. We score generated text like NQ-open.
 *   Answers are cut at the first "\n" by the caller's generation settings, not here.
 *
 * File scorer. Dataset: our JSONL, one question per line. Gold answers are read from answer_field, a dotted
 * path ("answer", "answers.text", "answer.aliases"); its value may be a string (one gold), an array of strings,
 * or an object with a "text" array (the Hugging Face dict-of-lists form). answer_field NULL = auto-detect from
 * the first record, trying in order "answers" (webqs; squad_v2 as {"text": [...]}), "answer.aliases"
 * (triviaqa, lm-eval's target), "answer.normalized_aliases", "answer" (nq_open). Question ids come from id_field
 * (string or integer values); NULL = per record, as the task loaders decide: its "id" if it has one, else its
 * "question_id" if non-empty, else its 1-based physical line number (scoring/doc_id.h: the id `run` stores for a
 * record without one, so predictions keyed by a run's doc_id score against the right question). Predictions: JSONL
 * {"id": ..., "prediction": "..."} (predictions.h). Errors name file and line: malformed line, missing field,
 * duplicate id, prediction for an unknown id (so a file keyed by 0-based line numbers fails on its id 0 instead of
 * scoring every answer against the next question). A question without a prediction scores 0 and is counted in
 * "missing".
 * Output (json.dumps indent=2 layout): {"metric": "em"|"f1", "score": mean over all n questions (a fraction in [0, 1]),
 * "stderr": sample standard deviation / sqrt(n) (null when n < 2), "n": questions, "missing": questions without
 * a prediction}. */
#ifndef GE_QA_EM_H
#define GE_QA_EM_H

#include <stddef.h>

#include "harness/error.h"
#include "harness/strbuf.h"

#define QA_FILE_LIMIT ((size_t)1 << 30) /* 1 GiB per dataset file */

/* Exact match of pred against any of golds[0..n_golds) under the rules above: *em is 1.0 or 0.0. Borrows all. */
int qa_em_score(const char *pred, const char *const *golds, size_t n_golds, double *em, struct ge_error *err);
/* SQuAD token F1 of pred, max over golds[0..n_golds), under the same rules: *f1 in [0, 1]. */
int qa_f1_score(const char *pred, const char *const *golds, size_t n_golds, double *f1, struct ge_error *err);

/* Scores the JSONL predictions file against the JSONL dataset with metric "em" or "f1" and appends the report
 * to out_json. answer_field and id_field may be NULL (auto). GE_ERR_USAGE for an unknown metric; other errors
 * name the file and line. */
int qa_score_files(const char *metric, const char *dataset_path, const char *predictions_path,
                   const char *answer_field, const char *id_field, struct strbuf *out_json, struct ge_error *err);

#endif
