/* moe.h — Mixture-of-Experts routing and the grouped expert computation of the fast path.
 *
 * Routing (per token, from the router logits r = W_router . x, W_router (E, M)):
 *   MODEL_ROUTER_TOPK_THEN_SOFTMAX (Mixtral): pick the k largest logits, weights = softmax over those k.
 *   MODEL_ROUTER_SOFTMAX_THEN_TOPK (GLaM/GShard, OLMoE): p = softmax over all E, pick the k largest p,
 *     weights = p of the picked, divided by their sum when norm_topk_prob.
 * The two agree when norm_topk_prob is set (softmax is monotone and the normaliser cancels); both are kept
 * because without renormalisation they differ. There is no capacity limit: every token reaches its k experts,
 * as in inference with Hugging Face's implementations (GLaM/GShard training drops tokens over capacity; that
 * only matters for training).
 *
 * Ties: selection is by logit, descending; equal logits are taken lowest expert index first. This makes the
 * choice deterministic and independent of the order of computation (torch.topk leaves ties unspecified).
 *
 * The grouped computation (moe_forward) routes all rows of a batch, groups the rows by expert with a counting
 * sort, and runs one gate (gated experts only), up and down product per expert that received rows, so its cost
 * follows the activated parameters (k experts per token), not the total. */
#ifndef GE_MODEL_MOE_H
#define GE_MODEL_MOE_H

#include <stdint.h>

#include "model/model_config.h"
#include "model/weight_matrix.h"

/* Writes to idx[0..k) the indices of the k largest values of x[0..n), largest first, ties lowest index first.
 * 1 <= k <= n. Cost O(n k). */
void moe_topk(const float *x, int64_t n, int64_t k, int32_t *idx);

/* Routes one token: from logits (n_experts) writes the k chosen experts to idx (k), in descending order of
 * logit, and their weights to weight (k), per the router rule above (softmax computed in double). */
void moe_route(const float *logits, int64_t n_experts, int64_t k, enum model_router router, int norm_topk_prob,
               int32_t *idx, float *weight);

/* The weights of one MoE layer; all borrowed from struct transformer_layer. Invariant: gate is NULL exactly when
 * the config's moe_expert_gated is 0. Any matrix may be lazy (model/weight_matrix.h): it is converted into the
 * scratch's wbuf right before its product, so only experts that received rows are converted. */
struct moe_weights {
    const struct weight_matrix *router; /* (E, M) */
    const struct weight_matrix *gate;   /* (E) gate_proj (H, M) per expert, or NULL for plain experts */
    const struct weight_matrix *up;     /* (E) up_proj (H, M) */
    const struct weight_matrix *down;   /* (E) down_proj (M, H) */
};

/* Scratch for moe_forward over up to cap_rows rows; owned by the caller (struct transformer_work). */
struct moe_scratch {
    float *logits;       /* (cap_rows, E) router logits */
    int32_t *sel;        /* (cap_rows, k) chosen experts */
    float *sel_weight;   /* (cap_rows, k) their weights */
    int64_t *start;      /* (E + 1) start of each expert's group in rows/row_weight */
    int32_t *rows;       /* (cap_rows * k) row index of each assignment, grouped by expert, rows ascending */
    float *row_weight;   /* (cap_rows * k) weight of each assignment */
    float *xe;           /* (cap_rows, M) inputs gathered for one expert */
    float *ye;           /* (cap_rows, M) that expert's outputs */
    float *h1;           /* (cap_rows, H) */
    float *h2;           /* (cap_rows, H) */
    float *wbuf;         /* float32 scratch for one lazy matrix (struct transformer.lazy_floats), or NULL when
                            no matrix is lazy */
};

/* out (n, M) = sum over each row's chosen experts of weight * expert(x), for x (n, M), where expert(x) is
 * down(act(gate(x)) * up(x)) when the experts are gated and down(act(up(x))) when they are plain
 * (cfg->moe_expert_gated == 0). n <= the scratch's cap_rows. out must not alias x. */
void moe_forward(const struct model_config *cfg, const struct moe_weights *w, struct moe_scratch *s,
                 const float *x, int64_t n, float *out);

#endif
