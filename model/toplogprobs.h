/* toplogprobs.h — one row of logits read the way the OpenAI completions API reports it: the log-probability of
 * a given token and the k most probable tokens with theirs (`logprobs: k`).
 *
 * Every log-probability is (double)logits[id] - logprob_logsumexp(logits, n), the same expression
 * logprob_token() uses, so a value reported here is bit-identical to the one the local loglikelihood sums.
 * Order: descending log-probability, ties to the lower id (so top[0] is logprob_argmax's choice). */
#ifndef GE_MODEL_TOPLOGPROBS_H
#define GE_MODEL_TOPLOGPROBS_H

#include <stdint.h>

#define TOPLOGPROBS_MAX 20 /* the largest k served (vLLM's default max_logprobs) */

struct top_logprob {
    int32_t id;     /* token id in [0, n) */
    double logprob; /* natural log */
};

/* Log-probabilities of logits[0..n) (n >= 1): *target_lp gets target's (0 <= target < n), top[0..k) the k most
 * probable ids (0 <= k <= min(n, TOPLOGPROBS_MAX); top may be NULL when k == 0). Visits the row twice and keeps
 * at most k candidates, so the cost is O(n * k) in the worst case and O(n) for ordinary rows. */
void toplogprobs_row(const float *logits, int64_t n, int32_t target, int k, double *target_lp,
                     struct top_logprob *top);

#endif
