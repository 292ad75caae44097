/* transformer.c — per-sequence KV caches, forward scratch, and the fast batched forward pass (see
 * transformer.h; loading is in transformer_load.c, attention in attention.c, experts in moe.c, the products in
 * kernels.c, the scalar reference in transformer_ref.c).
 *
 * The fast pass processes a "pass" of up to cap_tokens rows drawn from one or more sequences (segments, each
 * a run of consecutive new tokens of one sequence). Row-wise work (embedding, norms, projections, FFN/MoE,
 * lm_head) runs over all rows of the pass at once; attention runs per segment against that sequence's cache.
 * Invariant during a pass: a segment's state->n_past is the position of its first row; it advances only after
 * the last layer, when every layer's cache rows for the segment have been written. */
#include "config.h"

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/xalloc.h"
#include "model/attention.h"
#include "model/kernels.h"
#include "model/moe.h"
#include "model/transformer.h"
#include "model/transformer_ref.h"

enum {
    ATT_BLOCK_ROWS = 128,  /* query rows per attention block: bounds the score scratch to 128 * max_ctx */
    LOGIT_BLOCK_ROWS = 64, /* rows per lm_head product when logits go to a callback only */
    MAX_PASS_TOKENS = 1 << 20,
};

/* ---- per-sequence state ------------------------------------------------------------------------------------- */

int transformer_state_new(const struct transformer *t, int64_t n_ctx, struct transformer_state **out,
                          struct ge_error *err)
{
    *out = NULL;
    const int64_t L = t->cfg.n_layers, kv_dim = t->cfg.n_kv_heads * t->cfg.head_dim;
    int64_t n_cache;
    if (n_ctx < 1 || n_ctx > INT_MAX || __builtin_mul_overflow(L * kv_dim, n_ctx, &n_cache) ||
        n_cache > (int64_t)(SIZE_MAX / sizeof(float)))
        return ge_error_set(err, GE_ERR_LIMIT, "a context of %lld tokens is outside [1, %d] or too large to allocate",
                            (long long)n_ctx, INT_MAX);
    struct transformer_state *s = xcalloc(1, sizeof *s);
    s->n_ctx = n_ctx;
    s->n_layers = L;
    s->kv_dim = kv_dim;
    s->k_cache = malloc((size_t)n_cache * sizeof(float));
    s->v_cache = malloc((size_t)n_cache * sizeof(float));
    s->tokens = malloc((size_t)n_ctx * sizeof(int32_t));
    if (s->k_cache == NULL || s->v_cache == NULL || s->tokens == NULL) {
        transformer_state_free(s);
        return ge_error_set(err, GE_ERR_NOMEM, "out of memory allocating a KV cache of %lld tokens (%lld floats)",
                            (long long)n_ctx, (long long)(2 * n_cache));
    }
    *out = s;
    return GE_OK;
}

void transformer_state_free(struct transformer_state *s)
{
    if (s == NULL)
        return;
    free(s->k_cache);
    free(s->v_cache);
    free(s->tokens);
    free(s);
}

void transformer_state_reset(struct transformer_state *s)
{
    s->n_past = 0;
}

int transformer_state_truncate(struct transformer_state *s, int64_t n_keep, struct ge_error *err)
{
    if (n_keep < 0 || n_keep > s->n_past)
        return ge_error_set(err, GE_ERR_USAGE, "cannot keep %lld tokens of a cache holding %lld", (long long)n_keep,
                            (long long)s->n_past);
    s->n_past = n_keep;
    return GE_OK;
}

int transformer_state_copy(struct transformer_state *dst, const struct transformer_state *src, int64_t n_keep,
                           struct ge_error *err)
{
    if (dst->n_layers != src->n_layers || dst->kv_dim != src->kv_dim)
        return ge_error_set(err, GE_ERR_USAGE, "cannot copy a KV cache between states of different models");
    if (n_keep < 0 || n_keep > src->n_past || n_keep > dst->n_ctx)
        return ge_error_set(err, GE_ERR_USAGE,
                            "cannot copy %lld tokens from a cache holding %lld into one of capacity %lld",
                            (long long)n_keep, (long long)src->n_past, (long long)dst->n_ctx);
    if (dst == src) {
        dst->n_past = n_keep;
        return GE_OK;
    }
    size_t row_bytes = (size_t)src->kv_dim * sizeof(float);
    for (int64_t l = 0; l < src->n_layers; l++) {
        memcpy(dst->k_cache + l * dst->n_ctx * dst->kv_dim, src->k_cache + l * src->n_ctx * src->kv_dim,
               (size_t)n_keep * row_bytes);
        memcpy(dst->v_cache + l * dst->n_ctx * dst->kv_dim, src->v_cache + l * src->n_ctx * src->kv_dim,
               (size_t)n_keep * row_bytes);
    }
    memcpy(dst->tokens, src->tokens, (size_t)n_keep * sizeof(int32_t));
    dst->n_past = n_keep;
    return GE_OK;
}

int64_t transformer_state_common_prefix(const struct transformer_state *s, const int32_t *tokens, int64_t n)
{
    int64_t i = 0;
    while (i < n && i < s->n_past && s->tokens[i] == tokens[i])
        i++;
    return i;
}

/* ---- scratch ------------------------------------------------------------------------------------------------ */

struct transformer_work {
    enum transformer_path path;
    int64_t cap_tokens;         /* rows per pass */
    int64_t cap_ctx;            /* longest state served */
    float *x;                   /* (cap_tokens, M) residual stream */
    float *xb;                  /* (cap_tokens, M) normalised input of a sublayer */
    float *xb2;                 /* (cap_tokens, M) output of a sublayer */
    float *q;                   /* (cap_tokens, Q) */
    float *k;                   /* (cap_tokens, K) */
    float *v;                   /* (cap_tokens, K) */
    float *att;                 /* (cap_tokens, Q) attention output before o_proj */
    float *h1;                  /* (cap_tokens, H) FFN gate, then act(gate) * up */
    float *h2;                  /* (cap_tokens, H) FFN up */
    float *rope_cos;            /* (cap_tokens, head_dim / 2) for the pass's positions; NULL without RoPE */
    float *rope_sin;            /* (cap_tokens, head_dim / 2) */
    float *scores;              /* (ATT_BLOCK_ROWS, cap_ctx) attention probabilities of one block */
    int32_t *bucket;            /* (cap_ctx) relative-bias bucket of each distance; NULL without the bias */
    float *logits;              /* (LOGIT_BLOCK_ROWS, V) logits for callbacks */
    float *wbuf;                /* (t->lazy_floats) one lazy matrix converted to float32; NULL when none is lazy */
    struct moe_scratch moe;     /* for cap_tokens rows; h1/h2 are the dense FFN's, wbuf this wbuf; all NULL for
                                   dense models */
    int64_t *entry_past;        /* per sequence of the current call: n_past at entry (grown as needed) */
    int64_t n_entry_cap;
};

static void *work_alloc(int64_t n, size_t elem, int *failed)
{
    if (n < 0 || (uint64_t)n > SIZE_MAX / elem) {
        *failed = 1;
        return NULL;
    }
    void *p = malloc(n ? (size_t)n * elem : 1);
    if (p == NULL)
        *failed = 1;
    return p;
}

int transformer_work_new(const struct transformer *t, int64_t max_tokens, int64_t max_ctx,
                         enum transformer_path path, struct transformer_work **out, struct ge_error *err)
{
    *out = NULL;
    const struct model_config *c = &t->cfg;
    if (max_tokens < 1 || max_tokens > MAX_PASS_TOKENS)
        return ge_error_set(err, GE_ERR_LIMIT, "tokens per pass must be in [1, %d], not %lld", MAX_PASS_TOKENS,
                            (long long)max_tokens);
    if (max_ctx < 1 || max_ctx > INT_MAX)
        return ge_error_set(err, GE_ERR_LIMIT, "context must be in [1, %d], not %lld", INT_MAX, (long long)max_ctx);
    if (path != TRANSFORMER_PATH_FAST && path != TRANSFORMER_PATH_REFERENCE)
        return ge_error_set(err, GE_ERR_USAGE, "unknown forward path %d", (int)path);
    struct transformer_work *w = xcalloc(1, sizeof *w);
    w->path = path;
    w->cap_tokens = max_tokens;
    w->cap_ctx = max_ctx;
    *out = w;
    if (path == TRANSFORMER_PATH_REFERENCE)
        return GE_OK; /* the reference allocates its own one-token scratch per call */

    const int64_t n = max_tokens, M = c->hidden_size, H = c->intermediate_size, V = c->vocab_size;
    const int64_t Q = c->n_heads * c->head_dim, K = c->n_kv_heads * c->head_dim, E = c->n_experts;
    const int64_t k = c->n_experts_per_tok;
    int failed = 0;
    w->x = work_alloc(n * M, sizeof(float), &failed);
    w->xb = work_alloc(n * M, sizeof(float), &failed);
    w->xb2 = work_alloc(n * M, sizeof(float), &failed);
    w->q = work_alloc(n * Q, sizeof(float), &failed);
    w->k = work_alloc(n * K, sizeof(float), &failed);
    w->v = work_alloc(n * K, sizeof(float), &failed);
    w->att = work_alloc(n * Q, sizeof(float), &failed);
    w->h1 = work_alloc(n * H, sizeof(float), &failed);
    w->h2 = work_alloc(n * H, sizeof(float), &failed);
    w->scores = work_alloc(ATT_BLOCK_ROWS * max_ctx, sizeof(float), &failed);
    w->logits = work_alloc(LOGIT_BLOCK_ROWS * V, sizeof(float), &failed);
    if (c->posenc == MODEL_POS_ROPE) {
        w->rope_cos = work_alloc(n * (c->head_dim / 2), sizeof(float), &failed);
        w->rope_sin = work_alloc(n * (c->head_dim / 2), sizeof(float), &failed);
    } else {
        w->bucket = work_alloc(max_ctx, sizeof(int32_t), &failed);
        for (int64_t d = 0; w->bucket != NULL && d < max_ctx; d++)
            w->bucket[d] = attention_rel_bucket(d, c->rel_num_buckets, c->rel_max_distance);
    }
    if (t->lazy_floats > 0)
        w->wbuf = work_alloc(t->lazy_floats, sizeof(float), &failed);
    if (E > 0) {
        w->moe.wbuf = w->wbuf;
        w->moe.logits = work_alloc(n * E, sizeof(float), &failed);
        w->moe.sel = work_alloc(n * k, sizeof(int32_t), &failed);
        w->moe.sel_weight = work_alloc(n * k, sizeof(float), &failed);
        w->moe.start = work_alloc(E + 1, sizeof(int64_t), &failed);
        w->moe.rows = work_alloc(n * k, sizeof(int32_t), &failed);
        w->moe.row_weight = work_alloc(n * k, sizeof(float), &failed);
        w->moe.xe = work_alloc(n * M, sizeof(float), &failed);
        w->moe.ye = work_alloc(n * M, sizeof(float), &failed);
        w->moe.h1 = w->h1;
        w->moe.h2 = w->h2;
    }
    if (failed) {
        transformer_work_free(w);
        *out = NULL;
        return ge_error_set(err, GE_ERR_NOMEM, "out of memory allocating forward scratch for %lld tokens",
                            (long long)max_tokens);
    }
    return GE_OK;
}

void transformer_work_free(struct transformer_work *w)
{
    if (w == NULL)
        return;
    void *all[] = {w->x,         w->xb,         w->xb2,     w->q,        w->k,          w->v,
                   w->att,       w->h1,         w->h2,      w->rope_cos, w->rope_sin,   w->scores,
                   w->bucket,    w->logits,     w->moe.logits, w->moe.sel, w->moe.sel_weight, w->moe.start,
                   w->moe.rows,  w->moe.row_weight, w->moe.xe, w->moe.ye, w->entry_past, w->wbuf};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        free(all[i]);
    free(w);
}

/* ---- the fast pass ------------------------------------------------------------------------------------------ */

/* A run of consecutive new tokens of one sequence inside a pass. */
struct segment {
    struct transformer_seq *seq;
    int64_t off;  /* index in seq->tokens of the first token */
    int64_t cnt;  /* tokens */
    int64_t row0; /* first row of the pass */
};

static void add_rows(float *x, const float *y, int64_t n)
{
    for (int64_t i = 0; i < n; i++)
        x[i] += y[i];
}

static void norm_rows(float *out, const float *x, const float *w, int64_t n, int64_t dim, double eps)
{
    for (int64_t r = 0; r < n; r++)
        kernel_rmsnorm(out + r * dim, x + r * dim, w, dim, eps);
}

/* All layers over the pass's rows; writes each segment's keys and values into its cache. */
static void pass_layers(const struct transformer *t, struct transformer_work *w, const struct segment *segs,
                        int64_t n_segs, int64_t n)
{
    const struct model_config *c = &t->cfg;
    const int64_t M = c->hidden_size, H = c->intermediate_size, hd = c->head_dim;
    const int64_t Q = c->n_heads * hd, K = c->n_kv_heads * hd;
    const double eps = c->rms_norm_eps;

    for (int64_t s = 0; s < n_segs; s++) {
        for (int64_t j = 0; j < segs[s].cnt; j++) {
            float *row = w->x + (segs[s].row0 + j) * M;
            const float *e = weight_matrix_rows(&t->w.tok_embed, segs[s].seq->tokens[segs[s].off + j], 1, row);
            if (e != row) /* float32 in memory; a lazy row was converted straight into place */
                memcpy(row, e, (size_t)M * sizeof(float));
        }
        if (c->posenc == MODEL_POS_ROPE)
            attention_rope_table(w->rope_cos + segs[s].row0 * (hd / 2), w->rope_sin + segs[s].row0 * (hd / 2),
                                 segs[s].seq->state->n_past, segs[s].cnt, hd, c->rope_theta);
    }

    for (int64_t l = 0; l < c->n_layers; l++) {
        const struct transformer_layer *L = &t->w.layers[l];

        norm_rows(w->xb, w->x, L->attn_norm, n, M, eps);
        kernel_linear(w->q, w->xb, weight_matrix_f32(&L->wq, w->wbuf), n, M, Q);
        kernel_linear(w->k, w->xb, weight_matrix_f32(&L->wk, w->wbuf), n, M, K);
        kernel_linear(w->v, w->xb, weight_matrix_f32(&L->wv, w->wbuf), n, M, K);
        if (c->qk_norm) {
            norm_rows(w->q, w->q, L->q_norm, n, Q, eps);
            norm_rows(w->k, w->k, L->k_norm, n, K, eps);
        }
        if (c->posenc == MODEL_POS_ROPE) {
            attention_rope_apply(w->q, n, Q, c->n_heads, hd, w->rope_cos, w->rope_sin);
            attention_rope_apply(w->k, n, K, c->n_kv_heads, hd, w->rope_cos, w->rope_sin);
        }
        for (int64_t s = 0; s < n_segs; s++) {
            struct transformer_state *st = segs[s].seq->state;
            float *kc = st->k_cache + l * st->n_ctx * K, *vc = st->v_cache + l * st->n_ctx * K;
            memcpy(kc + st->n_past * K, w->k + segs[s].row0 * K, (size_t)(segs[s].cnt * K) * sizeof(float));
            memcpy(vc + st->n_past * K, w->v + segs[s].row0 * K, (size_t)(segs[s].cnt * K) * sizeof(float));
            struct attention_args a = {
                .cfg = c,
                .q = w->q + segs[s].row0 * Q,
                .k_cache = kc,
                .v_cache = vc,
                .rel_bias = L->rel_bias,
                .bucket = w->bucket,
                .pos0 = st->n_past,
                .n_rows = segs[s].cnt,
                .scores = w->scores,
                .block_rows = ATT_BLOCK_ROWS,
                .out = w->att + segs[s].row0 * Q,
            };
            attention_forward(&a);
        }
        kernel_linear(w->xb2, w->att, weight_matrix_f32(&L->wo, w->wbuf), n, Q, M);
        add_rows(w->x, w->xb2, n * M);

        norm_rows(w->xb, w->x, L->ffn_norm, n, M, eps);
        if (c->is_moe_layer[l]) {
            struct moe_weights mw = {&L->router, L->exp_gate, L->exp_up, L->exp_down};
            moe_forward(c, &mw, &w->moe, w->xb, n, w->xb2);
        } else {
            kernel_linear(w->h1, w->xb, weight_matrix_f32(&L->w_gate, w->wbuf), n, M, H);
            kernel_linear(w->h2, w->xb, weight_matrix_f32(&L->w_up, w->wbuf), n, M, H);
            kernel_act_gated(w->h1, w->h2, n * H, c->act);
            kernel_linear(w->xb2, w->h1, weight_matrix_f32(&L->w_down, w->wbuf), n, H, M);
        }
        add_rows(w->x, w->xb2, n * M);
    }

    for (int64_t s = 0; s < n_segs; s++) {
        struct transformer_state *st = segs[s].seq->state;
        memcpy(st->tokens + st->n_past, segs[s].seq->tokens + segs[s].off, (size_t)segs[s].cnt * sizeof(int32_t));
        st->n_past += segs[s].cnt;
    }
}

/* y (n, V) = x (n, M) . lm_head^T, one product per block of TRANSFORMER_LM_HEAD_BLOCK_ROWS vocabulary rows (its
 * columns written in place, leading dimension V). A lazy lm_head is converted a block at a time into w->wbuf.
 * In-memory lm_heads take the same blocks: OpenBLAS splits a product's columns among threads and tiles by the
 * product's own width, so one product over all V columns and one per block can differ in the last bit; the
 * same blocks on both paths keep a lazy model's logits bit for bit those of a converted one. */
static void lm_head_product(const struct transformer *t, struct transformer_work *w, float *y, const float *x,
                            int64_t n)
{
    const struct weight_matrix *h = &t->w.lm_head;
    const int64_t M = t->cfg.hidden_size, V = t->cfg.vocab_size;
    for (int64_t r0 = 0; r0 < V; r0 += TRANSFORMER_LM_HEAD_BLOCK_ROWS) {
        int64_t rows = V - r0 < TRANSFORMER_LM_HEAD_BLOCK_ROWS ? V - r0 : TRANSFORMER_LM_HEAD_BLOCK_ROWS;
        kernel_gemm(1, n, rows, M, 1.0f, x, M, weight_matrix_rows(h, r0, rows, w->wbuf), M, 0.0f, y + r0, V);
    }
}

/* Final norm and lm_head for the rows each segment's sequence asked for; hands them to the output array and
 * callback. */
static int pass_logits(const struct transformer *t, struct transformer_work *w, const struct segment *segs,
                       int64_t n_segs, struct ge_error *err)
{
    const struct model_config *c = &t->cfg;
    const int64_t M = c->hidden_size, V = c->vocab_size;
    for (int64_t s = 0; s < n_segs; s++) {
        struct transformer_seq *q = segs[s].seq;
        int64_t lo = segs[s].off > q->logits_from ? segs[s].off : q->logits_from;
        int64_t hi = segs[s].off + segs[s].cnt;
        if (lo >= hi || (q->logits == NULL && q->on_logits == NULL))
            continue;
        float *xr = w->xb + (segs[s].row0 + lo - segs[s].off) * M;
        norm_rows(xr, w->x + (segs[s].row0 + lo - segs[s].off) * M, t->w.final_norm, hi - lo, M, c->rms_norm_eps);
        if (q->logits != NULL) {
            float *dst = q->logits + (lo - q->logits_from) * V;
            lm_head_product(t, w, dst, xr, hi - lo);
            for (int64_t i = lo; q->on_logits != NULL && i < hi; i++) {
                int rc = q->on_logits(q->on_logits_ctx, i, dst + (i - lo) * V, err);
                if (rc != GE_OK)
                    return rc;
            }
            continue;
        }
        for (int64_t b = lo; b < hi; b += LOGIT_BLOCK_ROWS) {
            int64_t rows = hi - b < LOGIT_BLOCK_ROWS ? hi - b : LOGIT_BLOCK_ROWS;
            lm_head_product(t, w, w->logits, xr + (b - lo) * M, rows);
            for (int64_t i = 0; i < rows; i++) {
                int rc = q->on_logits(q->on_logits_ctx, b + i, w->logits + i * V, err);
                if (rc != GE_OK)
                    return rc;
            }
        }
    }
    return GE_OK;
}

static int forward_fast(const struct transformer *t, struct transformer_work *w, struct transformer_seq *seqs,
                        int64_t n_seqs, struct segment *segs, struct ge_error *err)
{
    int64_t si = 0, off = 0;
    while (si < n_seqs) {
        int64_t n_rows = 0, n_segs = 0;
        while (si < n_seqs && n_rows < w->cap_tokens) {
            int64_t cnt = seqs[si].n_tokens - off;
            if (cnt > w->cap_tokens - n_rows)
                cnt = w->cap_tokens - n_rows;
            if (cnt > 0) {
                segs[n_segs++] = (struct segment){.seq = &seqs[si], .off = off, .cnt = cnt, .row0 = n_rows};
                n_rows += cnt;
                off += cnt;
            }
            if (off == seqs[si].n_tokens) {
                si++;
                off = 0;
            }
        }
        if (n_rows == 0)
            break;
        pass_layers(t, w, segs, n_segs, n_rows);
        int rc = pass_logits(t, w, segs, n_segs, err);
        if (rc != GE_OK)
            return rc;
    }
    return GE_OK;
}

/* Hands one reference-path logits row to the sequence's outputs. */
static int ref_emit(void *ctx, int64_t i, const float *logits, int64_t n_vocab, struct ge_error *err)
{
    struct transformer_seq *q = ctx;
    if (q->logits != NULL)
        memcpy(q->logits + (i - q->logits_from) * n_vocab, logits, (size_t)n_vocab * sizeof(float));
    return q->on_logits != NULL ? q->on_logits(q->on_logits_ctx, i, logits, err) : GE_OK;
}

static int check_seqs(const struct transformer *t, const struct transformer_work *w,
                      const struct transformer_seq *seqs, int64_t n_seqs, struct ge_error *err)
{
    const int64_t V = t->cfg.vocab_size, K = t->cfg.n_kv_heads * t->cfg.head_dim;
    for (int64_t i = 0; i < n_seqs; i++) {
        const struct transformer_seq *q = &seqs[i];
        const struct transformer_state *s = q->state;
        if (s == NULL || q->n_tokens < 0 || (q->n_tokens > 0 && q->tokens == NULL))
            return ge_error_set(err, GE_ERR_USAGE, "sequence %lld: no state, or a negative token count", (long long)i);
        if (s->n_layers != t->cfg.n_layers || s->kv_dim != K)
            return ge_error_set(err, GE_ERR_USAGE, "sequence %lld: the state was made for another model", (long long)i);
        if (s->n_ctx > w->cap_ctx)
            return ge_error_set(err, GE_ERR_LIMIT, "sequence %lld: its context (%lld) exceeds the scratch's (%lld)",
                                (long long)i, (long long)s->n_ctx, (long long)w->cap_ctx);
        if (q->n_tokens > s->n_ctx - s->n_past)
            return ge_error_set(err, GE_ERR_LIMIT,
                                "sequence %lld: %lld new tokens after %lld overflow the context of %lld tokens",
                                (long long)i, (long long)q->n_tokens, (long long)s->n_past, (long long)s->n_ctx);
        if (q->logits_from < 0 || q->logits_from > q->n_tokens)
            return ge_error_set(err, GE_ERR_USAGE, "sequence %lld: logits_from %lld is outside [0, %lld]",
                                (long long)i, (long long)q->logits_from, (long long)q->n_tokens);
        for (int64_t j = 0; j < q->n_tokens; j++)
            if (q->tokens[j] < 0 || q->tokens[j] >= V)
                return ge_error_set(err, GE_ERR_USAGE,
                                    "sequence %lld: token %lld at index %lld is outside the vocabulary [0, %lld)",
                                    (long long)i, (long long)q->tokens[j], (long long)j, (long long)V);
        for (int64_t k = 0; k < i; k++)
            if (seqs[k].state == s)
                return ge_error_set(err, GE_ERR_USAGE, "sequences %lld and %lld share one state", (long long)k,
                                    (long long)i);
    }
    return GE_OK;
}

int transformer_forward_batch(const struct transformer *t, struct transformer_work *w, struct transformer_seq *seqs,
                              int64_t n_seqs, struct ge_error *err)
{
    struct segment *segs = NULL;
    int rc = check_seqs(t, w, seqs, n_seqs, err);
    if (rc != GE_OK)
        return rc;
    if (n_seqs > w->n_entry_cap) {
        free(w->entry_past);
        w->n_entry_cap = 0;
        w->entry_past = malloc((size_t)n_seqs * sizeof *w->entry_past);
        if (w->entry_past == NULL)
            return ge_error_set(err, GE_ERR_NOMEM, "out of memory for a batch of %lld sequences", (long long)n_seqs);
        w->n_entry_cap = n_seqs;
    }
    for (int64_t i = 0; i < n_seqs; i++)
        w->entry_past[i] = seqs[i].state->n_past;

    if (w->path == TRANSFORMER_PATH_REFERENCE) {
        for (int64_t i = 0; i < n_seqs && rc == GE_OK; i++)
            rc = transformer_ref_forward(t, seqs[i].state, seqs[i].tokens, seqs[i].n_tokens, seqs[i].logits_from,
                                         ref_emit, &seqs[i], err);
    } else {
        /* A pass holds at most one segment per sequence, and at most cap_tokens of them. */
        int64_t n_segs_cap = n_seqs < w->cap_tokens ? n_seqs : w->cap_tokens;
        segs = malloc((size_t)(n_segs_cap > 0 ? n_segs_cap : 1) * sizeof *segs);
        if (segs == NULL)
            rc = ge_error_set(err, GE_ERR_NOMEM, "out of memory for a batch of %lld sequences", (long long)n_seqs);
        else
            rc = forward_fast(t, w, seqs, n_seqs, segs, err);
    }
    if (rc != GE_OK)
        for (int64_t i = 0; i < n_seqs; i++)
            seqs[i].state->n_past = w->entry_past[i];
    free(segs);
    return rc;
}

int transformer_forward(const struct transformer *t, struct transformer_work *w, struct transformer_state *s,
                        const int32_t *tokens, int64_t n_tokens, float *logits, struct ge_error *err)
{
    struct transformer_seq q = {.state = s, .tokens = tokens, .n_tokens = n_tokens, .logits = logits};
    return transformer_forward_batch(t, w, &q, 1, err);
}
