/* transformer.h — the F32 forward pass of a decoder-only transformer, dense or Mixture-of-Experts, as described
 * by struct model_config (model/config.h): GLaM (dense and MoE layers, RoPE or T5 relative bias), Llama
 * (grouped-query attention), Mixtral and OLMoE.
 *
 * Three kinds of state are kept apart, as in llama2.c's run.c:
 *   struct transformer        — hyperparameters and loaded weights; immutable after transformer_load, so one
 *                               model can serve many sequences;
 *   struct transformer_state  — one sequence's KV cache (per request; can be reset or truncated to reuse a
 *                               shared prefix);
 *   struct transformer_work   — scratch activations for a forward call (opaque), and the choice of path.
 *
 * The computation, per layer (pre-norm residual blocks, RMSNorm):
 *   h = x + o_proj(attention(rmsnorm(x) * input_norm))       attention: q/k/v projections, optional RMSNorm over
 *   x = h + ffn(rmsnorm(h) * post_attention_norm)            the whole q and k widths (OLMoE), RoPE or relative
 *   logits = lm_head . (rmsnorm(x_L) * final_norm)           bias, causal mask, softmax(q.k / sqrt(head_dim))
 * where ffn is down(act(gate(x)) * up(x)) in dense layers and the routed sum of experts in MoE layers
 * (model/moe.h), each expert either such a gated FFN or, with moe_expert_gated 0 (GLaM), a plain
 * down(act(up(x))). Attention logits are always scaled by 1/sqrt(head_dim), also with the relative bias (added
 * after the scaling): that is the glam format's definition (docs/glam-checkpoint.md, "Attention"). T5-style
 * checkpoints, which do not scale, convert by multiplying q_proj by sqrt(head_dim); there is deliberately no
 * switch here.
 *
 * Two paths compute the same function:
 *   TRANSFORMER_PATH_FAST      — all new tokens of a call in one pass: every projection is one cblas_sgemm over
 *                                the batch (X (n, M) . W^T), attention is two products per head and block of
 *                                rows, MoE layers group tokens by expert (one product per expert with tokens).
 *   TRANSFORMER_PATH_REFERENCE — one token at a time with plain loops and double accumulation
 *                                (model/transformer_ref.c); slow, kept as the reference the fast path is tested
 *                                against.
 *
 * Memory: weights come from a struct tensor_source (usually memory-mapped checkpoint files, model/weights.h).
 * Float32 tensors are used in place (zero-copy) when the source can view them, experts included; other tensors
 * are either copied to float32 at load, or, when the source offers view_raw, matrices stay in the source in their
 * stored type and are converted to float32 on use into scratch owned by struct transformer_work: each layer
 * matrix just before its product (one matrix at a time; MoE experts only for experts that received rows in the
 * pass), the embedding one looked-up row at a time, lm_head in blocks of rows. The scratch is
 * struct transformer.lazy_floats floats: the largest lazy matrix of a layer, and min(V, 4096) rows of a lazy
 * lm_head.
 * So peak memory is the mapped pages touched plus that scratch and the activations, not the model in float32;
 * the cost is one conversion per matrix per pass (docs/runtime.md measures it).
 *
 * Threads: the fast path's products run on OpenBLAS's thread pool (set its size with OPENBLAS_NUM_THREADS or
 * openblas_set_num_threads); everything else runs on the calling thread, so a forward call never uses more
 * threads than OpenBLAS was given (see model/kernels.h). Forward calls do not modify struct transformer;
 * callers running them from several threads give each its own states and work.
 *
 * Limits: every width (hidden, intermediate, vocabulary, q and kv widths, experts) and the context must be
 * <= INT_MAX (cblas takes int); transformer_load and transformer_state_new report larger ones as GE_ERR_LIMIT. */
#ifndef GE_MODEL_TRANSFORMER_H
#define GE_MODEL_TRANSFORMER_H

#include <stdint.h>

#include "harness/error.h"
#include "model/dtype.h"
#include "model/model_config.h"
#include "model/weight_matrix.h"

/* Where weights come from: an adapter over a checkpoint file (safetensors, GGUF) or a test generator.
 * Tensors must be in Hugging Face's layout. GGUF "llama"-family files (llama.cpp's converter) store the rows of
 * q_proj and k_proj permuted for interleaved RoPE; an adapter must permute them back to rotate-half: HF row
 * h*hd + j*hd/2 + i is file row h*hd + 2i + j, per head h, i < hd/2, j in {0, 1} (tests/llama2c_model.c does
 * this for llama2.c files, which use the same interleaved layout). */
struct tensor_source {
    void *ctx; /* passed to read_f32 and view_f32 */
    /* Writes the tensor called `name` (Hugging Face naming, e.g. "model.layers.0.self_attn.q_proj.weight"),
     * converted to float32, to dst, which holds the product of shape[0..n_dims) floats; shape is outermost
     * first, as the checkpoint stores it (a Linear weight is (out, in)). Returns 0; GE_ERR_NOTFOUND when the
     * checkpoint has no such tensor; GE_ERR_FORMAT when its shape differs (err naming both shapes); or another
     * negative code. Borrows name, shape and dst for the call only. */
    int (*read_f32)(void *ctx, const char *name, int n_dims, const int64_t *shape, float *dst,
                    struct ge_error *err);
    /* Optional (may be NULL): the tensor called `name` in place, when the source already holds it as aligned
     * float32 of exactly this shape in HF layout (for a checkpoint: F32, 4-byte aligned, no GGUF q/k
     * permutation), so the loader can use it without a copy; NULL otherwise ("not viewable": absent, other
     * dtype or shape, unaligned, permuted), and the loader then copies it through read_f32, which also reports
     * errors. The memory stays owned by the source and must stay valid and unchanged for as long as the
     * struct transformer loaded from it lives. */
    const float *(*view_f32)(void *ctx, const char *name, int n_dims, const int64_t *shape);
    /* Optional (may be NULL): for a 2-D tensor view_f32 did not offer, its stored bytes in place, so the loader
     * can leave it in the source and convert it to float32 on use (struct weight_matrix, "lazy") instead of
     * copying it at load. Returns 1 with *dtype and *data set when the tensor has exactly this shape, is stored
     * row-major in HF layout (no GGUF q/k permutation) with every row a whole number of dtype blocks, and
     * read_f32 would produce exactly dtype_to_f32 of those bytes; 0 otherwise (the loader then copies it through
     * read_f32). The bytes must stay valid and unchanged for as long as the struct transformer lives. */
    int (*view_raw)(void *ctx, const char *name, int n_dims, const int64_t *shape, enum dtype *dtype,
                    const void **data);
};

/* One layer's weights. Vectors (norms, relative bias) are float32 pointers, NULL for parts the layer lacks:
 * q_norm/k_norm without qk_norm, rel_bias with RoPE. Matrices are struct weight_matrix (model/weight_matrix.h):
 * float32 in memory (a view into the source, or a copy in struct transformer's owned list) or lazy (the source's
 * stored bytes, converted on use); a matrix the layer lacks is all zero (f32 and raw NULL): the dense FFN in MoE
 * layers, the router in dense ones. The expert arrays are owned by the layer (E entries each), NULL in dense
 * layers (exp_gate also for plain experts). Shapes use M = hidden_size, H = intermediate_size, E = n_experts,
 * Q = n_heads * head_dim, K = n_kv_heads * head_dim. */
struct transformer_layer {
    const float *attn_norm;           /* (M) input_layernorm */
    struct weight_matrix wq;          /* (Q, M) */
    struct weight_matrix wk;          /* (K, M) */
    struct weight_matrix wv;          /* (K, M) */
    struct weight_matrix wo;          /* (M, Q) */
    const float *q_norm;              /* (Q) RMSNorm weight over the whole q projection (OLMoE), or NULL */
    const float *k_norm;              /* (K) RMSNorm weight over the whole k projection, or NULL */
    const float *rel_bias;            /* (rel_num_buckets, n_heads) relative attention bias, or NULL */
    const float *ffn_norm;            /* (M) post_attention_layernorm */
    struct weight_matrix w_gate;      /* (H, M) dense FFN gate_proj */
    struct weight_matrix w_up;        /* (H, M) up_proj */
    struct weight_matrix w_down;      /* (M, H) down_proj */
    struct weight_matrix router;      /* (E, M) MoE router */
    struct weight_matrix *exp_gate;   /* (E) expert e's gate_proj (H, M), or NULL (also for plain experts) */
    struct weight_matrix *exp_up;     /* (E) (H, M) */
    struct weight_matrix *exp_down;   /* (E) (M, H) */
};

/* Vocabulary rows per lm_head product: logits are computed one block of rows at a time, whether lm_head is in
 * memory or lazy (then it is converted a block at a time: 4096 * M floats of scratch, 12 MB at M = 768). */
#define TRANSFORMER_LM_HEAD_BLOCK_ROWS 4096

struct transformer_weights {
    struct weight_matrix tok_embed;   /* (V, M) model.embed_tokens.weight */
    struct transformer_layer *layers; /* (n_layers), owned */
    const float *final_norm;          /* (M) model.norm.weight */
    struct weight_matrix lm_head;     /* (V, M) lm_head.weight; a copy of tok_embed when tie_word_embeddings */
};

/* A loaded model. Invariants: cfg passed transformer_check_config; every weight present has the shape above;
 * each float32 weight is either a view into the tensor source (borrowed) or one of owned[0..n_owned); each lazy
 * matrix borrows the source's bytes; lazy_floats >= rows * cols of every lazy layer matrix, and
 * >= min(V, TRANSFORMER_LM_HEAD_BLOCK_ROWS) * M with a lazy lm_head (converted a block of rows at a time). */
struct transformer {
    struct model_config cfg;
    struct transformer_weights w;
    float **owned;           /* (n_owned) arrays copied at load for tensors the source could not view; owned */
    int64_t n_owned;
    int64_t owned_cap;
    int64_t n_lazy;          /* matrices left in the source and converted on use (0 without view_raw) */
    int64_t lazy_floats;     /* float32 scratch a forward pass needs for them (0 when n_lazy is 0) */
    int64_t n_params;        /* parameters held (tied embeddings counted once) */
    int64_t n_active_params; /* parameters one token uses (MoE: router + k experts), embedding lookup excluded */
};

/* Checks what the forward pass relies on (positive sizes, head divisibility, even head_dim for RoPE, k <= E,
 * relative-bias buckets, widths <= INT_MAX, is_moe_layer only with experts); err names the field. Does not
 * derive anything: is_moe_layer must already be filled (model_config_validate does that). */
int transformer_check_config(const struct model_config *cfg, struct ge_error *err);

/* Parameter counts of a config: total held, and activated per token (embedding lookup excluded, lm_head
 * included). Assumes a config that passed transformer_check_config. */
void transformer_count_params(const struct model_config *cfg, int64_t *n_total, int64_t *n_active);

/* Allocates a model for cfg (copied) and reads every tensor the config calls for through src, under the
 * architecture's Hugging Face names (see transformer_load.c; GLaM's router is "mlp.router.weight", or
 * "mlp.gate.weight" when that is missing). Each tensor that src->view_f32 can view is used in place (zero-copy,
 * experts and routers included); else each matrix that src->view_raw offers is left in the source and converted
 * on use (lazy); everything else is copied into float32 arrays *out owns. On success free *out with
 * transformer_free; when src has view_f32 or view_raw, *out keeps pointers into src's memory, so that memory
 * (e.g. the struct weights behind it) must outlive *out. On failure returns the code, err names the tensor
 * (and the source's message), and *out is NULL. */
int transformer_load(const struct model_config *cfg, const struct tensor_source *src, struct transformer **out,
                     struct ge_error *err);

/* Frees a model and the arrays it owns (never the source's memory it viewed); NULL is a no-op. States and works
 * made for it must not be used afterwards. */
void transformer_free(struct transformer *t);

/* One sequence's KV cache. Invariant: 0 <= n_past <= n_ctx; cache rows [0, n_past) of every layer hold the
 * keys (after q/k-norm and RoPE) and values of tokens[0..n_past) at positions 0..n_past-1. Callers read the
 * fields and change them only through the functions below. */
struct transformer_state {
    int64_t n_ctx;    /* capacity in tokens */
    int64_t n_past;   /* tokens in the cache */
    int64_t n_layers; /* of the model it was made for */
    int64_t kv_dim;   /* n_kv_heads * head_dim of that model */
    float *k_cache;   /* (n_layers, n_ctx, kv_dim) */
    float *v_cache;   /* (n_layers, n_ctx, kv_dim) */
    int32_t *tokens;  /* (n_ctx) the tokens in the cache */
};

/* Allocates an empty state for up to n_ctx tokens of t's sequences (2 * n_layers * n_ctx * kv_dim floats).
 * n_ctx is not held to cfg.max_position_embeddings: keeping within the trained window is the caller's choice.
 * *out is owned by the caller (transformer_state_free). GE_ERR_LIMIT for n_ctx < 1 or too large, GE_ERR_NOMEM
 * when the allocation fails. */
int transformer_state_new(const struct transformer *t, int64_t n_ctx, struct transformer_state **out,
                          struct ge_error *err);
void transformer_state_free(struct transformer_state *s);
/* Empties the cache (n_past = 0). */
void transformer_state_reset(struct transformer_state *s);
/* Keeps the first n_keep tokens (n_keep <= n_past), so a shared prefix is computed once. */
int transformer_state_truncate(struct transformer_state *s, int64_t n_keep, struct ge_error *err);
/* Makes dst hold the first n_keep tokens of src (n_keep <= src->n_past <= dst->n_ctx), copying the cache rows;
 * both states must be made for the same model. */
int transformer_state_copy(struct transformer_state *dst, const struct transformer_state *src, int64_t n_keep,
                           struct ge_error *err);
/* Length of the longest common prefix of the cached tokens and tokens[0..n). */
int64_t transformer_state_common_prefix(const struct transformer_state *s, const int32_t *tokens, int64_t n);

enum transformer_path {
    TRANSFORMER_PATH_FAST,      /* batched, cblas_sgemm */
    TRANSFORMER_PATH_REFERENCE, /* token by token, scalar loops, double accumulation */
};

struct transformer_work;

/* Allocates scratch for forward calls on t: up to max_tokens tokens per internal pass (longer calls are split
 * into passes; a good value is 256-1024) over states of up to max_ctx tokens. The fast path's scratch is about
 * max_tokens * (5 M + 2 Q + 2 K + 2 H) + 128 * max_ctx + 64 * V floats, plus t->lazy_floats when t has lazy
 * matrices. *out is owned by the caller
 * (transformer_work_free) and may be used with any state of t, by one thread at a time. */
int transformer_work_new(const struct transformer *t, int64_t max_tokens, int64_t max_ctx,
                         enum transformer_path path, struct transformer_work **out, struct ge_error *err);
void transformer_work_free(struct transformer_work *w);

/* Receives the logits (V floats, valid during the call only) of new token i of a sequence, i.e. the
 * distribution of the token after position state->n_past_at_entry + i. A non-zero return (with err filled)
 * aborts the forward call with that code. */
typedef int (*transformer_logits_fn)(void *ctx, int64_t i, const float *logits, struct ge_error *err);

/* One sequence's part of a forward call. All pointers are borrowed for the call. */
struct transformer_seq {
    struct transformer_state *state; /* the tokens are appended to its cache; distinct per call */
    const int32_t *tokens;           /* (n_tokens) ids in [0, vocab_size) */
    int64_t n_tokens;                /* >= 0; n_past + n_tokens <= n_ctx */
    int64_t logits_from;             /* logits are produced for new tokens [logits_from, n_tokens) only */
    float *logits;                   /* (n_tokens - logits_from, V) row-major output, or NULL */
    transformer_logits_fn on_logits; /* optional: called for each produced row, in order of i */
    void *on_logits_ctx;
};

/* Appends each sequence's tokens to its state and computes them in one pass per max_tokens tokens (several
 * sequences share the projections of a pass; attention stays within each sequence). Logits rows the caller
 * did not ask for are not computed (the lm_head product is the largest one for short continuations). On
 * failure (bad token, context overflow, a callback's error, allocation) every state is as it was at entry and
 * err says which sequence and why. */
int transformer_forward_batch(const struct transformer *t, struct transformer_work *w, struct transformer_seq *seqs,
                              int64_t n_seqs, struct ge_error *err);

/* One sequence, logits for every new token into logits (n_tokens, V) when not NULL. */
int transformer_forward(const struct transformer *t, struct transformer_work *w, struct transformer_state *s,
                        const int32_t *tokens, int64_t n_tokens, float *logits, struct ge_error *err);

#endif
