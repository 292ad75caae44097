/* moe.c — expert routing and the grouped expert products of the fast path (see moe.h).
 *
 * Invariant of moe_forward: after grouping, s->rows[start[e] .. start[e+1]) lists, in ascending order, the rows
 * routed to expert e, and each row appears at most once per expert (a token's k experts are distinct), so one
 * expert's group never exceeds n rows and the scratch sized for n rows suffices. */
#include "config.h"

#include <assert.h>
#include <math.h>
#include <string.h>

#include "model/kernels.h"
#include "model/moe.h"

void moe_topk(const float *x, int64_t n, int64_t k, int32_t *idx)
{
    assert(k >= 1 && k <= n);
    /* Insertion into a sorted list of k: a value displaces an entry only when strictly greater, so among
     * equal values the earlier (lower) index stays ahead. */
    int64_t have = 0;
    for (int64_t i = 0; i < n; i++) {
        int64_t pos = have;
        while (pos > 0 && x[i] > x[idx[pos - 1]])
            pos--;
        if (pos >= k)
            continue;
        int64_t last = have < k ? have : k - 1;
        for (int64_t j = last; j > pos; j--)
            idx[j] = idx[j - 1];
        idx[pos] = (int32_t)i;
        if (have < k)
            have++;
    }
}

void moe_route(const float *logits, int64_t n_experts, int64_t k, enum model_router router, int norm_topk_prob,
               int32_t *idx, float *weight)
{
    moe_topk(logits, n_experts, k, idx);
    double max = logits[idx[0]];
    double sel_sum = 0.0;
    for (int64_t j = 0; j < k; j++)
        sel_sum += exp((double)logits[idx[j]] - max);
    double denom = sel_sum;
    if (router == MODEL_ROUTER_SOFTMAX_THEN_TOPK && !norm_topk_prob) {
        /* Weights are the full softmax probabilities of the chosen experts. */
        denom = 0.0;
        for (int64_t e = 0; e < n_experts; e++)
            denom += exp((double)logits[e] - max);
    }
    /* TOPK_THEN_SOFTMAX, and SOFTMAX_THEN_TOPK with renormalisation, both divide by the chosen experts' sum. */
    for (int64_t j = 0; j < k; j++)
        weight[j] = (float)(exp((double)logits[idx[j]] - max) / denom);
}

void moe_forward(const struct model_config *cfg, const struct moe_weights *w, struct moe_scratch *s,
                 const float *x, int64_t n, float *out)
{
    const int64_t M = cfg->hidden_size, H = cfg->intermediate_size, E = cfg->n_experts;
    const int64_t k = cfg->n_experts_per_tok;
    assert((w->gate != NULL) == (cfg->moe_expert_gated != 0));

    kernel_linear(s->logits, x, weight_matrix_f32(w->router, s->wbuf), n, M, E);
    for (int64_t r = 0; r < n; r++)
        moe_route(s->logits + r * E, E, k, cfg->router, cfg->norm_topk_prob, s->sel + r * k, s->sel_weight + r * k);

    /* Counting sort of the n*k assignments by expert; rows stay ascending within a group. */
    memset(s->start, 0, (size_t)(E + 1) * sizeof *s->start);
    for (int64_t a = 0; a < n * k; a++)
        s->start[s->sel[a] + 1]++;
    for (int64_t e = 0; e < E; e++)
        s->start[e + 1] += s->start[e];
    for (int64_t e = E; e > 0; e--) /* shift so start[e] is the fill cursor of e, then restore below */
        s->start[e] = s->start[e - 1];
    s->start[0] = 0;
    for (int64_t a = 0; a < n * k; a++) {
        int64_t slot = s->start[s->sel[a] + 1]++;
        s->rows[slot] = (int32_t)(a / k);
        s->row_weight[slot] = s->sel_weight[a];
    }
    /* Now start[e + 1] is the end of e's group, and start[0] == 0. */

    memset(out, 0, (size_t)(n * M) * sizeof *out);
    for (int64_t e = 0; e < E; e++) {
        int64_t first = s->start[e], cnt = s->start[e + 1] - first;
        if (cnt == 0)
            continue;
        for (int64_t i = 0; i < cnt; i++)
            memcpy(s->xe + i * M, x + (int64_t)s->rows[first + i] * M, (size_t)M * sizeof *x);
        if (cfg->moe_expert_gated) {
            kernel_linear(s->h1, s->xe, weight_matrix_f32(&w->gate[e], s->wbuf), cnt, M, H);
            kernel_linear(s->h2, s->xe, weight_matrix_f32(&w->up[e], s->wbuf), cnt, M, H);
            kernel_act_gated(s->h1, s->h2, cnt * H, cfg->act);
        } else {
            kernel_linear(s->h1, s->xe, weight_matrix_f32(&w->up[e], s->wbuf), cnt, M, H);
            kernel_act_plain(s->h1, cnt * H, cfg->act);
        }
        kernel_linear(s->ye, s->h1, weight_matrix_f32(&w->down[e], s->wbuf), cnt, H, M);
        for (int64_t i = 0; i < cnt; i++) {
            float wt = s->row_weight[first + i];
            float *o = out + (int64_t)s->rows[first + i] * M;
            const float *y = s->ye + i * M;
            for (int64_t j = 0; j < M; j++)
                o[j] += wt * y[j];
        }
    }
}
