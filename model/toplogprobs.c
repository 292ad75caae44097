/* toplogprobs.c — target and top-k log-probabilities of a logits row (see toplogprobs.h). The top-k list is kept
 * sorted by insertion: k is at most TOPLOGPROBS_MAX, and after the first few rows of candidates almost every logit
 * fails the one comparison with the current k-th. */
#include "config.h"

#include <assert.h>

#include "model/logprob.h"
#include "model/toplogprobs.h"

void toplogprobs_row(const float *logits, int64_t n, int32_t target, int k, double *target_lp,
                     struct top_logprob *top)
{
    assert(n >= 1 && target >= 0 && target < n && k >= 0 && k <= TOPLOGPROBS_MAX && k <= n);
    double lse = logprob_logsumexp(logits, n);
    *target_lp = (double)logits[target] - lse;
    if (k == 0)
        return;
    int32_t ids[TOPLOGPROBS_MAX];
    int have = 0;
    for (int64_t i = 0; i < n; i++) {
        float v = logits[i];
        /* Strictly greater: an equal logit at a higher id never displaces a lower one. */
        if (have == k && !(v > logits[ids[k - 1]]))
            continue;
        int pos = have < k ? have++ : k - 1;
        while (pos > 0 && v > logits[ids[pos - 1]]) {
            ids[pos] = ids[pos - 1];
            pos--;
        }
        ids[pos] = (int32_t)i;
    }
    for (int j = 0; j < k; j++)
        top[j] = (struct top_logprob){.id = ids[j], .logprob = (double)logits[ids[j]] - lse};
}
