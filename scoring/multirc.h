/* multirc.h — the SuperGLUE MultiRC metric: F1a over answer options and per-question exact match.
 *
 * Source: the SuperGLUE metric's evaluate_multirc (huggingface/evaluate metrics/super_glue/super_glue.py, the same
 * code as huggingface/datasets metrics/super_glue):
 *   F1a = sklearn f1_score(labels, preds) over ALL answer options, positive class 1
 *       = 2·TP / (2·TP + FP + FN), and 0 when there is no positive label and no positive prediction
 *         (sklearn's zero_division default);
 *   EM  = the fraction of questions all of whose options are predicted correctly, a question being identified by
 *         its (paragraph, question) pair, wherever its options sit in the input.
 * The per-question macro F1 ("f1_m") of that script is not computed. lm-evaluation-harness's multirc task reports
 * neither: its `acc` is the per-option accuracy, also returned here. */
#ifndef GE_MULTIRC_H
#define GE_MULTIRC_H

#include <stddef.h>
#include <stdint.h>

#include "harness/error.h"

/* Upper bound on the options one call scores (SuperGLUE MultiRC validation has 4,848); input beyond it is refused
 * before anything is allocated. */
#define MULTIRC_MAX_OPTIONS ((size_t)10000000)

/* One answer option. Invariant: pred and gold are 0 (false) or 1 (true). */
struct multirc_option {
    int64_t paragraph_id; /* idx.paragraph of the option */
    int64_t question_id;  /* idx.question; options with equal (paragraph_id, question_id, copy) form one question */
    int pred;             /* predicted label, 0 or 1 */
    int gold;             /* gold label, 0 or 1 */
    int64_t copy;         /* 0, or which copy of its question a bootstrap resample drew (copies are distinct
                             questions); the official script has no such field */
};

/* Invariant: n_questions <= n_options; tp + fp + fn <= n_options. */
struct multirc_scores {
    double f1a;         /* binary F1 over options, in [0, 1] */
    double em;          /* fraction of questions answered entirely correctly, in [0, 1] */
    double acc;         /* fraction of options predicted correctly, in [0, 1] */
    size_t n_options;   /* options scored */
    size_t n_questions; /* distinct (paragraph_id, question_id, copy) triples */
    size_t tp, fp, fn;  /* option counts behind f1a */
};

/* Scores options[0..n) into *out. Borrows options. Fails with GE_ERR_FORMAT naming the option when a label is not
 * 0 or 1, with GE_ERR_USAGE when n is 0, GE_ERR_LIMIT beyond MULTIRC_MAX_OPTIONS and GE_ERR_NOMEM when the
 * grouping array cannot be allocated (n entries of 24 bytes). Cost: O(n log n). */
int multirc_score(const struct multirc_option *options, size_t n, struct multirc_scores *out, struct ge_error *err);

#endif
