/* test_toplogprobs.c — model/toplogprobs.c against a brute-force reference: the target's log-prob is the one
 * logprob_token gives (bit for bit), the top-k list is sorted by log-prob with ties to the lower id, and equals a
 * full sort's first k, on rows with ties, negative values and k from 0 to TOPLOGPROBS_MAX. */
#include "config.h"

#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "harness/rng.h"
#include "model/logprob.h"
#include "model/toplogprobs.h"
#include "tests/tap.h"

static const float *g_row;

/* Descending logit, then ascending id. */
static int cmp_ids(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    if (g_row[x] != g_row[y])
        return g_row[x] > g_row[y] ? -1 : 1;
    return x < y ? -1 : 1;
}

static void check_row(const float *row, int64_t n, int32_t target, int k, const char *name)
{
    struct top_logprob top[TOPLOGPROBS_MAX];
    double lp = 0;
    toplogprobs_row(row, n, target, k, &lp, top);
    tap_ok(lp == logprob_token(row, n, target, NULL), "%s k=%d: target log-prob equals logprob_token's", name, k);
    int32_t *ids = malloc((size_t)n * sizeof *ids);
    for (int64_t i = 0; i < n; i++)
        ids[i] = (int32_t)i;
    g_row = row;
    qsort(ids, (size_t)n, sizeof *ids, cmp_ids);
    int same = 1;
    double lse = logprob_logsumexp(row, n);
    for (int j = 0; j < k; j++)
        same &= top[j].id == ids[j] && top[j].logprob == (double)row[ids[j]] - lse;
    tap_ok(same, "%s k=%d: top-k equals a full sort's first k (ties to the lower id)", name, k);
    if (k > 0)
        tap_is_int(top[0].id, logprob_argmax(row, n), "%s k=%d: top[0] is the argmax", name, k);
    free(ids);
}

int main(void)
{
    float tie[6] = {1, 3, 3, -2, 3, 0};
    check_row(tie, 6, 3, 0, "ties");
    check_row(tie, 6, 3, 2, "ties");
    check_row(tie, 6, 0, 6, "ties");
    float one[1] = {-5};
    check_row(one, 1, 0, 1, "one");
    struct rng r;
    rng_seed(&r, 20261122);
    enum { N = 3000 };
    float *row = malloc(N * sizeof *row);
    for (int t = 0; t < 4; t++) {
        for (int i = 0; i < N; i++) /* coarse values so that ties occur */
            row[i] = (float)((int)(rng_below(&r, 200)) - 100) / 8.0f;
        char name[32];
        snprintf(name, sizeof name, "random-%d", t);
        check_row(row, N, (int32_t)rng_below(&r, N), t == 0 ? 1 : t * 5 + (t == 3 ? 5 : 0), name);
    }
    free(row);
    return tap_done();
}
