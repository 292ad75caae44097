/* transformer_ref.c — the scalar reference forward pass (see transformer_ref.h and, for the function computed,
 * transformer.h). Reads top to bottom like llama2.c's run.c: scratch, the small operations, one token through
 * all layers, the loop over tokens.
 *
 * Invariants: activations are double; only the KV cache (shared layout with the fast path) and the emitted
 * logits are float. Shares with the fast path the weights, the cache, the definition of the activations
 * (kernel_act) and of the relative-position buckets (attention_rel_bucket), both tested on their own. */
#include "config.h"

#include <math.h>
#include <stdlib.h>

#include "model/attention.h"
#include "model/kernels.h"
#include "model/transformer_ref.h"

/* One token's activations. */
struct ref_scratch {
    double *x;       /* (M) residual stream */
    double *xb;      /* (M) normalised sublayer input */
    double *q;       /* (Q) */
    double *k;       /* (K) */
    double *v;       /* (K) */
    double *att;     /* (Q) attention output */
    double *scores;  /* (n_ctx) one head's attention weights */
    double *h1;      /* (H) */
    double *h2;      /* (H) */
    double *y;       /* (M) sublayer output */
    double *expert;  /* (M) one expert's output */
    double *router;  /* (E) router logits */
    int32_t *chosen; /* (E) chosen experts, first k used */
    char *taken;     /* (E) */
    float *logits;   /* (V) */
    float *row;      /* (max(M, Q, H)) one row of a lazy weight matrix, converted */
};

static void *ref_alloc(int64_t n, size_t elem, int *failed)
{
    void *p = malloc((size_t)(n > 0 ? n : 1) * elem);
    if (p == NULL)
        *failed = 1;
    return p;
}

static void ref_scratch_free(struct ref_scratch *r)
{
    void *all[] = {r->x,  r->xb, r->q,      r->k,      r->v,      r->att,    r->scores, r->h1,
                   r->h2, r->y,  r->expert, r->router, r->chosen, r->taken,  r->logits, r->row};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        free(all[i]);
}

/* out (rows) = W (rows, cols) . x; a lazy W is converted one row at a time into row (cols floats). */
static void matvec(double *out, const struct weight_matrix *w, const double *x, float *row)
{
    for (int64_t i = 0; i < w->rows; i++) {
        const float *wr = weight_matrix_rows(w, i, 1, row);
        double acc = 0.0;
        for (int64_t j = 0; j < w->cols; j++)
            acc += (double)wr[j] * x[j];
        out[i] = acc;
    }
}

static void rmsnorm(double *out, const double *x, const float *w, int64_t n, double eps)
{
    double ss = 0.0;
    for (int64_t i = 0; i < n; i++)
        ss += x[i] * x[i];
    double scale = 1.0 / sqrt(ss / (double)n + eps);
    for (int64_t i = 0; i < n; i++)
        out[i] = x[i] * scale * w[i];
}

/* Rotate-half RoPE of n_heads heads at position pos. */
static void rope(double *v, int64_t n_heads, int64_t hd, int64_t pos, double theta)
{
    int64_t half = hd / 2;
    for (int64_t h = 0; h < n_heads; h++) {
        double *x = v + h * hd;
        for (int64_t i = 0; i < half; i++) {
            double angle = (double)pos / pow(theta, (double)(2 * i) / (double)hd);
            double c = cos(angle), s = sin(angle);
            double a = x[i], b = x[i + half];
            x[i] = a * c - b * s;
            x[i + half] = b * c + a * s;
        }
    }
}

/* out (M) = down(act(gate . x) * (up . x)), or down(act(up . x)) when gate is NULL (a plain expert). */
static void ffn(double *out, const struct weight_matrix *gate, const struct weight_matrix *up,
                const struct weight_matrix *down, const double *x, const struct model_config *c,
                struct ref_scratch *r)
{
    matvec(r->h2, up, x, r->row);
    if (gate != NULL) {
        matvec(r->h1, gate, x, r->row);
        for (int64_t i = 0; i < c->intermediate_size; i++)
            r->h1[i] = kernel_act(r->h1[i], c->act) * r->h2[i];
    } else {
        for (int64_t i = 0; i < c->intermediate_size; i++)
            r->h1[i] = kernel_act(r->h2[i], c->act);
    }
    matvec(out, down, r->h1, r->row);
}

/* out (M) = sum over the k chosen experts of weight * expert(x). */
static void moe(double *out, const struct transformer_layer *L, const double *x, const struct model_config *c,
                struct ref_scratch *r)
{
    const int64_t M = c->hidden_size, E = c->n_experts, k = c->n_experts_per_tok;
    matvec(r->router, &L->router, x, r->row);
    /* k rounds of "largest not yet taken", the first index winning a tie. */
    for (int64_t e = 0; e < E; e++)
        r->taken[e] = 0;
    for (int64_t j = 0; j < k; j++) {
        int64_t best = -1;
        for (int64_t e = 0; e < E; e++)
            if (!r->taken[e] && (best < 0 || r->router[e] > r->router[best]))
                best = e;
        r->taken[best] = 1;
        r->chosen[j] = (int32_t)best;
    }
    double max = r->router[r->chosen[0]];
    double denom = 0.0;
    if (c->router == MODEL_ROUTER_SOFTMAX_THEN_TOPK && !c->norm_topk_prob)
        for (int64_t e = 0; e < E; e++)
            denom += exp(r->router[e] - max);
    else
        for (int64_t j = 0; j < k; j++)
            denom += exp(r->router[r->chosen[j]] - max);
    for (int64_t i = 0; i < M; i++)
        out[i] = 0.0;
    for (int64_t j = 0; j < k; j++) {
        int64_t e = r->chosen[j];
        double weight = exp(r->router[e] - max) / denom;
        const struct weight_matrix *gate = c->moe_expert_gated ? &L->exp_gate[e] : NULL;
        ffn(r->expert, gate, &L->exp_up[e], &L->exp_down[e], x, c, r);
        for (int64_t i = 0; i < M; i++)
            out[i] += weight * r->expert[i];
    }
}

/* Attention of the token at position pos (whose k/v are already in the cache) over positions 0..pos. */
static void attend(const struct transformer_layer *L, const struct transformer_state *s, int64_t layer, int64_t pos,
                   const struct model_config *c, struct ref_scratch *r)
{
    const int64_t hd = c->head_dim, K = c->n_kv_heads * hd, group = c->n_heads / c->n_kv_heads;
    const float *kc = s->k_cache + layer * s->n_ctx * K, *vc = s->v_cache + layer * s->n_ctx * K;
    for (int64_t h = 0; h < c->n_heads; h++) {
        const double *q = r->q + h * hd;
        int64_t g = h / group;
        double max = -INFINITY;
        for (int64_t j = 0; j <= pos; j++) {
            double dot = 0.0;
            for (int64_t d = 0; d < hd; d++)
                dot += q[d] * kc[j * K + g * hd + d];
            dot /= sqrt((double)hd);
            if (L->rel_bias != NULL)
                dot += L->rel_bias[(int64_t)attention_rel_bucket(pos - j, c->rel_num_buckets, c->rel_max_distance) *
                                       c->n_heads + h];
            r->scores[j] = dot;
            if (dot > max)
                max = dot;
        }
        double sum = 0.0;
        for (int64_t j = 0; j <= pos; j++) {
            r->scores[j] = exp(r->scores[j] - max);
            sum += r->scores[j];
        }
        double *o = r->att + h * hd;
        for (int64_t d = 0; d < hd; d++)
            o[d] = 0.0;
        for (int64_t j = 0; j <= pos; j++) {
            double p = r->scores[j] / sum;
            for (int64_t d = 0; d < hd; d++)
                o[d] += p * vc[j * K + g * hd + d];
        }
    }
}

/* One token at position s->n_past through every layer; leaves the final hidden state in r->x. */
static void token_forward(const struct transformer *t, struct transformer_state *s, int32_t token,
                          struct ref_scratch *r)
{
    const struct model_config *c = &t->cfg;
    const int64_t M = c->hidden_size, hd = c->head_dim;
    const int64_t Q = c->n_heads * hd, K = c->n_kv_heads * hd;
    const int64_t pos = s->n_past;
    const float *emb = weight_matrix_rows(&t->w.tok_embed, token, 1, r->row);
    for (int64_t i = 0; i < M; i++)
        r->x[i] = emb[i];

    for (int64_t l = 0; l < c->n_layers; l++) {
        const struct transformer_layer *L = &t->w.layers[l];
        rmsnorm(r->xb, r->x, L->attn_norm, M, c->rms_norm_eps);
        matvec(r->q, &L->wq, r->xb, r->row);
        matvec(r->k, &L->wk, r->xb, r->row);
        matvec(r->v, &L->wv, r->xb, r->row);
        if (c->qk_norm) {
            rmsnorm(r->q, r->q, L->q_norm, Q, c->rms_norm_eps);
            rmsnorm(r->k, r->k, L->k_norm, K, c->rms_norm_eps);
        }
        if (c->posenc == MODEL_POS_ROPE) {
            rope(r->q, c->n_heads, hd, pos, c->rope_theta);
            rope(r->k, c->n_kv_heads, hd, pos, c->rope_theta);
        }
        float *krow = s->k_cache + (l * s->n_ctx + pos) * K, *vrow = s->v_cache + (l * s->n_ctx + pos) * K;
        for (int64_t i = 0; i < K; i++) {
            krow[i] = (float)r->k[i];
            vrow[i] = (float)r->v[i];
        }
        attend(L, s, l, pos, c, r);
        matvec(r->y, &L->wo, r->att, r->row);
        for (int64_t i = 0; i < M; i++)
            r->x[i] += r->y[i];

        rmsnorm(r->xb, r->x, L->ffn_norm, M, c->rms_norm_eps);
        if (c->is_moe_layer[l])
            moe(r->y, L, r->xb, c, r);
        else
            ffn(r->y, &L->w_gate, &L->w_up, &L->w_down, r->xb, c, r);
        for (int64_t i = 0; i < M; i++)
            r->x[i] += r->y[i];
    }
    s->tokens[pos] = token;
    s->n_past = pos + 1;
}

int transformer_ref_forward(const struct transformer *t, struct transformer_state *s, const int32_t *tokens,
                            int64_t n, int64_t logits_from, transformer_ref_emit_fn emit, void *emit_ctx,
                            struct ge_error *err)
{
    const struct model_config *c = &t->cfg;
    const int64_t M = c->hidden_size, H = c->intermediate_size, V = c->vocab_size, E = c->n_experts;
    const int64_t Q = c->n_heads * c->head_dim, K = c->n_kv_heads * c->head_dim;
    struct ref_scratch r = {0};
    int failed = 0, rc = GE_OK;
    r.x = ref_alloc(M, sizeof(double), &failed);
    r.xb = ref_alloc(M, sizeof(double), &failed);
    r.q = ref_alloc(Q, sizeof(double), &failed);
    r.k = ref_alloc(K, sizeof(double), &failed);
    r.v = ref_alloc(K, sizeof(double), &failed);
    r.att = ref_alloc(Q, sizeof(double), &failed);
    r.scores = ref_alloc(s->n_ctx, sizeof(double), &failed);
    r.h1 = ref_alloc(H, sizeof(double), &failed);
    r.h2 = ref_alloc(H, sizeof(double), &failed);
    r.y = ref_alloc(M, sizeof(double), &failed);
    r.expert = ref_alloc(M, sizeof(double), &failed);
    r.router = ref_alloc(E, sizeof(double), &failed);
    r.chosen = ref_alloc(E, sizeof(int32_t), &failed);
    r.taken = ref_alloc(E, sizeof(char), &failed);
    r.logits = ref_alloc(V, sizeof(float), &failed);
    r.row = ref_alloc(M > Q ? (M > H ? M : H) : (Q > H ? Q : H), sizeof(float), &failed);
    if (failed) {
        rc = ge_error_set(err, GE_ERR_NOMEM, "out of memory allocating the reference path's scratch");
        goto out;
    }
    for (int64_t i = 0; i < n; i++) {
        token_forward(t, s, tokens[i], &r);
        if (i < logits_from)
            continue;
        rmsnorm(r.xb, r.x, t->w.final_norm, M, c->rms_norm_eps);
        for (int64_t v = 0; v < V; v++) {
            const float *head = weight_matrix_rows(&t->w.lm_head, v, 1, r.row);
            double acc = 0.0;
            for (int64_t j = 0; j < M; j++)
                acc += (double)head[j] * r.xb[j];
            r.logits[v] = (float)acc;
        }
        if ((rc = emit(emit_ctx, i, r.logits, V, err)) != GE_OK)
            goto out;
    }
out:
    ref_scratch_free(&r);
    return rc;
}
