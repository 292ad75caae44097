/* triviaqa.h — TriviaQA exact match and F1 over answer aliases, and the official file scorer.
 *
 * Reference: mandarjoshi90/triviaqa@ca43b5820b107f3970cf4b7d67f7db7a98117b79, evaluation/triviaqa_evaluation.py
 * (normalize_answer, exact_match_score, f1_score, evaluate_triviaqa) and utils/dataset_utils.py
 * (read_triviaqa_data, get_key_to_ground_truth).
 *
 * TriviaQA's normalize_answer differs from SQuAD's: '_' and punctuation become spaces instead of vanishing, and
 * its punctuation set adds ‘ ’ ´ ` to Python's string.punctuation. Then lowercase, drop the words a/an/the,
 * collapse whitespace. Ground truths of a question are Answer.NormalizedAliases as stored in the file (not
 * normalised again before use, except that exact_match_score/f1_score normalise both sides) plus the
 * normalised HumanAnswers when present. F1 has no empty rule (an empty side gives 0).
 *
 * File scorer, as evaluate_triviaqa:
 *   - keys: QuestionId for Domain "Wikipedia"; "<QuestionId>--<Filename>" for each EntityPages/SearchResults page
 *     for any other Domain ("Web"). With VerifiedEval true, only questions with QuestionPartOfVerifiedEval (and on
 *     the Web only pages with DocPartOfVerifiedEval; a question left without pages is an error, as the script's
 *     assert) are kept. A repeated key keeps its first position and its last answer (Python dict).
 *   - a key without a prediction scores 0 and stays in the denominator; predictions for unknown keys are ignored
 *     but counted in pred_len.
 *   - output keys in order: exact_match, f1 (100 * sum / denominator), common (keys with a prediction),
 *     denominator, pred_len, gold_len. The script's Version check only prints a warning; we do not check it.
 * Dataset formats (detected from the content):
 *   official JSON: {"Data": [{"QuestionId", "Answer": {"NormalizedAliases": [...], "HumanAnswers": [...]?, ...},
 *     "EntityPages": [...], "SearchResults": [...], ...}], "Domain", "VerifiedEval", "Version"};
 *   JSONL (Hugging Face trivia_qa schema, e.g. ../shared/data/triviaqa/validation.jsonl): one object per line with
 *     "question_id" and "answer": {"normalized_aliases": [...], ...}. A record's key is the id `run` stores for it
 *     (scoring/doc_id.h, the triviaqa task's rule): its question_id when non-empty, else its 1-based line number
 *     ("1", "2", ...; our shared copy has empty ids). When some key is a line number, a prediction whose key is a
 *     number but no question's (e.g. "0", from a file keyed by 0-based line numbers) is an error naming it;
 *     other unknown keys are ignored as the script ignores them.
 * Predictions: a JSON object {"key": "answer text"} (see predictions.h). */
#ifndef GE_TRIVIAQA_H
#define GE_TRIVIAQA_H

#include <stddef.h>

#include "harness/error.h"
#include "harness/strbuf.h"

#define TRIVIAQA_FILE_LIMIT ((size_t)1 << 31) /* 2 GiB: the official Web dev file with evidence is large */

/* TriviaQA's normalize_answer of s (UTF-8) into out (reset first): Python's lower(), '_' and the punctuation set
 * replaced by spaces, then squad_normalize() for the article and whitespace passes (it finds nothing else to do). */
int triviaqa_normalize(const char *s, struct strbuf *out, struct ge_error *err);

/* EM (0 or 1) and F1 (0..1) of pred against ground truths golds[0..n_golds) as the official
 * metric_max_over_ground_truths. Borrows everything. GE_ERR_USAGE when n_golds is 0 (the script's max() fails). */
int triviaqa_score_question(const char *pred, const char *const *golds, size_t n_golds, double *em, double *f1,
                            struct ge_error *err);

/* Scores a predictions file as evaluate_triviaqa and appends the result object to out_json (key order above).
 * Errors name the file and the line or JSON path. */
int triviaqa_score_files(const char *dataset_path, const char *predictions_path, struct strbuf *out_json,
                         struct ge_error *err);

#endif
