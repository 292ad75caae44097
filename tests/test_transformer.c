/* test_transformer.c — tests of the forward pass (model/transformer, attention, moe, kernels, logprob).
 *
 * The fast path is held to the scalar reference path on random tiny models of every architecture variant
 * (tests/tiny_model.c): logits agree to 1e-4 relative (max |fast - ref| / max |ref| over all logits of a
 * sequence). Within the fast path, splitting the same tokens differently (one call, one token per call, small
 * passes, several sequences per call) changes only float rounding: 1e-5. An MoE whose experts are copies of
 * one dense FFN must give the dense model's logits; one whose plain (GLaM) experts are copies of one plain FFN,
 * that FFN's hand-computed logits. The kernels are checked against scalar products with the
 * standard error bound, and routing, buckets and log-probabilities against hand-computed values. */
#include "config.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness/fileio.h"
#include "harness/rng.h"
#include "model/attention.h"
#include "model/kernels.h"
#include "model/logprob.h"
#include "model/moe.h"
#include "model/transformer.h"
#include "tests/llama2c_model.h"
#include "tests/tap.h"
#include "tests/tiny_model.h"

enum { N_TOK = 23, N_CTX = 40 };

static void random_floats(struct rng *r, float *x, int64_t n, double scale)
{
    for (int64_t i = 0; i < n; i++)
        x[i] = (float)(scale * (2.0 * rng_uniform(r) - 1.0));
}

/* ---- kernels ------------------------------------------------------------------------------------------------ */

static void test_gemm(void)
{
    struct rng r;
    rng_seed(&r, 11);
    static const int64_t shapes[][3] = {{1, 1, 1}, {7, 5, 3}, {33, 65, 17}, {1, 130, 64}, {64, 1, 200}, {50, 70, 300}};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        for (int tb = 0; tb <= 1; tb++) {
            int64_t m = shapes[s][0], n = shapes[s][1], k = shapes[s][2];
            int64_t lda = k + 3, ldb = (tb ? k : n) + 2, ldc = n + 1;
            float *a = malloc((size_t)(m * lda) * sizeof *a), *b = malloc((size_t)((tb ? n : k) * ldb) * sizeof *b);
            float *c = malloc((size_t)(m * ldc) * sizeof *c), *c_ref = malloc((size_t)(m * ldc) * sizeof *c);
            random_floats(&r, a, m * lda, 1.0);
            random_floats(&r, b, (tb ? n : k) * ldb, 1.0);
            random_floats(&r, c, m * ldc, 1.0);
            memcpy(c_ref, c, (size_t)(m * ldc) * sizeof *c);
            kernel_gemm(tb, m, n, k, 0.5f, a, lda, b, ldb, 0.25f, c, ldc);
            kernel_gemm_ref(tb, m, n, k, 0.5f, a, lda, b, ldb, 0.25f, c_ref, ldc);
            int ok = 1;
            double worst = 0.0;
            for (int64_t i = 0; i < m; i++)
                for (int64_t j = 0; j < n; j++) {
                    double mag = 0.0;
                    for (int64_t p = 0; p < k; p++)
                        mag += fabs(a[i * lda + p] * (tb ? b[j * ldb + p] : b[p * ldb + j]));
                    double bound = 2.0 * (double)(k + 2) * FLT_EPSILON * (0.5 * mag + 0.25 * fabs(c_ref[i * ldc + j]));
                    double d = fabs((double)c[i * ldc + j] - c_ref[i * ldc + j]);
                    ok &= d <= bound;
                    if (bound > 0 && d / bound > worst)
                        worst = d / bound;
                }
            tap_ok(ok, "kernel_gemm %lldx%lldx%lld trans_b=%d within 2 k eps sum|a||b| of the scalar product "
                   "(worst %.3f of the bound)", (long long)m, (long long)n, (long long)k, tb, worst);
            /* beta == 0 must ignore what C held, even NaN (the scratch buffers are not initialised). */
            for (int64_t i = 0; i < m * ldc; i++)
                c[i] = NAN;
            kernel_gemm(tb, m, n, k, 1.0f, a, lda, b, ldb, 0.0f, c, ldc);
            int finite = 1;
            for (int64_t i = 0; i < m; i++)
                for (int64_t j = 0; j < n; j++)
                    finite &= isfinite(c[i * ldc + j]);
            tap_ok(finite, "kernel_gemm %lldx%lldx%lld trans_b=%d with beta 0 ignores NaN in C", (long long)m,
                   (long long)n, (long long)k, tb);
            free(a);
            free(b);
            free(c);
            free(c_ref);
        }
    }
}

static void test_row_kernels(void)
{
    tap_is_double(kernel_act(1.0, MODEL_ACT_GELU), 0.8413447460685429, 1e-15, "gelu(1) exact erf form");
    tap_is_double(kernel_act(1.0, MODEL_ACT_GELU_TANH), 0.8411919906082768, 1e-15, "gelu_tanh(1)");
    tap_is_double(kernel_act(1.0, MODEL_ACT_SILU), 0.7310585786300049, 1e-15, "silu(1)");
    tap_is_double(kernel_act(-2.0, MODEL_ACT_GELU), -0.04550026389635842, 1e-15, "gelu(-2)");
    /* The vectorised activations against the double definitions on a grid over [-30, 30] (4001 points, so
     * the 4-lane tail is exercised too). The exponentials' arguments grow like x^2 (GELU: x^2 / 2) and their
     * float rounding carries into the result, so the bound is relative 1e-6 + 1.2e-7 x^2 (2 x^2 ulps) where
     * |value| >= 1e-12, and absolute 1e-17 in the far negative tails below that. */
    static const enum model_act acts[] = {MODEL_ACT_SILU, MODEL_ACT_GELU, MODEL_ACT_GELU_TANH};
    enum { N_GRID = 4001 };
    float *g = malloc(N_GRID * sizeof *g), *u = malloc(N_GRID * sizeof *u);
    for (size_t a = 0; a < 3; a++) {
        double worst = 0.0;
        int ok = 1;
        for (int i = 0; i < N_GRID; i++) {
            g[i] = -30.0f + 0.015f * (float)i;
            u[i] = 1.0f + 0.001f * (float)(i % 7);
        }
        kernel_act_gated(g, u, N_GRID, acts[a]);
        for (int i = 0; i < N_GRID; i++) {
            float x = -30.0f + 0.015f * (float)i;
            double want = kernel_act(x, acts[a]) * (double)u[i];
            double d = fabs(g[i] - want);
            if (fabs(want) < 1e-12) {
                ok &= d <= 1e-17;
                continue;
            }
            double rel = d / fabs(want);
            ok &= rel <= 1e-6 + 1.2e-7 * (double)x * x;
            if (rel > worst)
                worst = rel;
        }
        tap_ok(ok, "kernel_act_gated act=%d agrees with the double definition on [-30, 30] (worst rel %.2e)",
               (int)acts[a], worst);
        /* The plain form (GLaM's experts), same grid and bound. */
        worst = 0.0;
        ok = 1;
        for (int i = 0; i < N_GRID; i++)
            g[i] = -30.0f + 0.015f * (float)i;
        kernel_act_plain(g, N_GRID, acts[a]);
        for (int i = 0; i < N_GRID; i++) {
            float x = -30.0f + 0.015f * (float)i;
            double want = kernel_act(x, acts[a]), d = fabs(g[i] - want);
            if (fabs(want) < 1e-12) {
                ok &= d <= 1e-17;
                continue;
            }
            double rel = d / fabs(want);
            ok &= rel <= 1e-6 + 1.2e-7 * (double)x * x;
            if (rel > worst)
                worst = rel;
        }
        tap_ok(ok, "kernel_act_plain act=%d agrees with the double definition on [-30, 30] (worst rel %.2e)",
               (int)acts[a], worst);
    }
    free(g);
    free(u);
    struct rng r;
    rng_seed(&r, 9);
    double worst_sm = 0.0;
    for (int len = 1; len <= 37; len++) {
        float row[37];
        double want[37], sum = 0.0, max = -1e30;
        for (int i = 0; i < len; i++) {
            row[i] = (float)(40.0 * rng_uniform(&r) - 20.0);
            max = fmax(max, row[i]);
        }
        for (int i = 0; i < len; i++)
            sum += want[i] = exp(row[i] - max);
        kernel_softmax(row, len);
        for (int i = 0; i < len; i++) {
            double e = fabs(row[i] - want[i] / sum) / fmax(want[i] / sum, 1e-30);
            if (want[i] / sum > 1e-30 && e > worst_sm)
                worst_sm = e;
        }
    }
    /* The error follows the float rounding of x - max, up to 40 here: 40 * 2^-24 = 2.4e-6. */
    tap_ok(worst_sm <= 4e-6, "kernel_softmax on rows of 1..37 values in [-20, 20] agrees with double (worst rel %.2e)",
           worst_sm);
    float x[4] = {1, -2, 3, -4}, w[4] = {1, 2, 1, 0.5f}, out[4];
    kernel_rmsnorm(out, x, w, 4, 0.0);
    double s = 1.0 / sqrt(30.0 / 4.0);
    tap_ok(fabs(out[1] - (-2 * s * 2)) < 1e-6 && fabs(out[3] - (-4 * s * 0.5)) < 1e-6, "rmsnorm of a known row");
    float sm[3] = {1000, 1001, 1002};
    kernel_softmax(sm, 3);
    tap_ok(fabs(sm[2] - 0.6652409557748219) < 1e-6 && fabs(sm[0] + sm[1] + sm[2] - 1) < 1e-6,
           "softmax is shifted by the maximum (no overflow at 1000)");
}

/* ---- routing, buckets, log-probabilities -------------------------------------------------------------------- */

static void test_topk(void)
{
    int32_t idx[8];
    float eq[5] = {2, 2, 2, 2, 2};
    moe_topk(eq, 5, 3, idx);
    tap_ok(idx[0] == 0 && idx[1] == 1 && idx[2] == 2, "topk: all equal -> lowest indices first (%d %d %d)", idx[0],
           idx[1], idx[2]);
    float ties[5] = {1, 3, 3, 2, 3};
    moe_topk(ties, 5, 2, idx);
    tap_ok(idx[0] == 1 && idx[1] == 2, "topk: ties among the largest -> lowest indices (%d %d)", idx[0], idx[1]);
    float desc[4] = {-1, 5, 0, 7};
    moe_topk(desc, 4, 4, idx);
    tap_ok(idx[0] == 3 && idx[1] == 1 && idx[2] == 2 && idx[3] == 0, "topk: k = n sorts descending");

    struct rng r;
    rng_seed(&r, 5);
    int ok = 1;
    for (int trial = 0; trial < 500; trial++) {
        int64_t n = 1 + (int64_t)rng_below(&r, 16), k = 1 + (int64_t)rng_below(&r, (uint64_t)(n < 8 ? n : 8));
        float x[16];
        for (int64_t i = 0; i < n; i++) /* few distinct values, so ties are common */
            x[i] = (float)rng_below(&r, 4);
        moe_topk(x, n, k, idx);
        char chosen[16] = {0};
        for (int64_t j = 0; j < k; j++) {
            if (idx[j] < 0 || idx[j] >= n || chosen[idx[j]]) {
                ok = 0;
                break;
            }
            chosen[idx[j]] = 1;
            if (j > 0) /* descending; equal values in ascending index order */
                ok &= x[idx[j - 1]] > x[idx[j]] || (x[idx[j - 1]] == x[idx[j]] && idx[j - 1] < idx[j]);
        }
        for (int64_t i = 0; i < n; i++) /* nothing left out beats, or ties with a lower index than, the last */
            if (!chosen[i])
                ok &= x[i] < x[idx[k - 1]] || (x[i] == x[idx[k - 1]] && i > idx[k - 1]);
    }
    tap_ok(ok, "topk: 500 random vectors: distinct, descending, the k largest, ties by lowest index");

    float logits[6] = {0.3f, -1.0f, 2.0f, 0.5f, 2.0f, -0.2f}, w1[3], w2[3], w3[3];
    int32_t i1[3], i2[3], i3[3];
    moe_route(logits, 6, 2, MODEL_ROUTER_TOPK_THEN_SOFTMAX, 0, i1, w1);
    moe_route(logits, 6, 2, MODEL_ROUTER_SOFTMAX_THEN_TOPK, 1, i2, w2);
    moe_route(logits, 6, 2, MODEL_ROUTER_SOFTMAX_THEN_TOPK, 0, i3, w3);
    tap_ok(i1[0] == 2 && i1[1] == 4 && fabs(w1[0] - 0.5) < 1e-7 && fabs(w1[1] - 0.5) < 1e-7,
           "route topk-then-softmax: tied logits 2,4 get 1/2 each");
    tap_ok(i2[0] == i1[0] && i2[1] == i1[1] && w2[0] == w1[0] && w2[1] == w1[1],
           "route softmax-then-topk with renormalisation equals topk-then-softmax");
    double z = 0;
    for (int e = 0; e < 6; e++)
        z += exp(logits[e]);
    tap_ok(fabs(w3[0] - exp(2.0) / z) < 1e-7 && fabs(w3[1] - exp(2.0) / z) < 1e-7,
           "route softmax-then-topk without renormalisation keeps the full softmax probabilities");
    float l3[4] = {1.0f, 0.0f, -1.0f, 3.0f};
    moe_route(l3, 4, 3, MODEL_ROUTER_TOPK_THEN_SOFTMAX, 0, i1, w1);
    double d = exp(3.0) + exp(1.0) + exp(0.0);
    tap_ok(i1[0] == 3 && i1[1] == 0 && fabs(w1[0] - exp(3.0) / d) < 1e-7 && fabs(w1[2] - 1.0 / d) < 1e-7,
           "route: k=3 weights are the softmax of the three chosen logits, in descending order");
}

static void test_buckets(void)
{
    /* T5's _relative_position_bucket(-distance, bidirectional=False, num_buckets=32, max_distance=128), worked
     * by hand: 16 exact buckets, then 16 + floor(log(d/16) / log(8) * 16), capped at 31. */
    static const int64_t d[] = {0, 1, 15, 16, 17, 20, 31, 32, 50, 64, 100, 127, 128, 500, 100000};
    static const int32_t want[] = {0, 1, 15, 16, 16, 17, 21, 21, 24, 26, 30, 31, 31, 31, 31};
    int ok = 1;
    for (size_t i = 0; i < sizeof d / sizeof d[0]; i++) {
        int32_t b = attention_rel_bucket(d[i], 32, 128);
        if (b != want[i]) {
            tap_diag("distance %lld: bucket %d, want %d", (long long)d[i], b, want[i]);
            ok = 0;
        }
    }
    tap_ok(ok, "relative buckets match T5's causal buckets (32 buckets, max distance 128)");
    int mono = 1;
    for (int64_t i = 1; i < 300; i++)
        mono &= attention_rel_bucket(i, 8, 16) >= attention_rel_bucket(i - 1, 8, 16) &&
                attention_rel_bucket(i, 8, 16) < 8;
    tap_ok(mono && attention_rel_bucket(3, 8, 16) == 3 && attention_rel_bucket(4, 8, 16) == 4 &&
               attention_rel_bucket(8, 8, 16) == 6 && attention_rel_bucket(16, 8, 16) == 7,
           "relative buckets with 8 buckets / max distance 16: monotone, exact below 4, log above");
}

static void test_logprob(void)
{
    float l[4] = {1.0f, 3.0f, 2.0f, 3.0f};
    double lse = log(exp(1.0) + 2 * exp(3.0) + exp(2.0));
    tap_is_double(logprob_logsumexp(l, 4), lse, 1e-12, "logsumexp of a known row");
    int greedy = -1;
    tap_is_double(logprob_token(l, 4, 2, &greedy), 2.0 - lse, 1e-12, "token log-probability");
    tap_is_int(greedy, 0, "a non-maximal token is not greedy");
    logprob_token(l, 4, 1, &greedy);
    tap_is_int(greedy, 1, "the first of two tied maxima is greedy");
    logprob_token(l, 4, 3, &greedy);
    tap_is_int(greedy, 0, "the second of two tied maxima is not (torch.argmax takes the first)");
    float big[3] = {1000.0f, 0.0f, -1000.0f}, ls[3];
    logprob_log_softmax(big, 3, ls);
    tap_ok(ls[0] == 0.0f && fabs(ls[1] + 1000.0f) < 1e-3 && isfinite(ls[2]),
           "log-softmax stays finite for logits 1000 apart");
}

/* ---- models ------------------------------------------------------------------------------------------------- */

static struct transformer *load_case(const char *name, struct tiny_source *src, struct model_config *cfg)
{
    struct ge_error err;
    struct transformer *t = NULL;
    if (tiny_config(name, cfg) != 0)
        return NULL;
    struct tensor_source ts = {.ctx = src, .read_f32 = tiny_read_f32};
    if (transformer_load(cfg, &ts, &t, &err) != GE_OK)
        tap_diag("%s: %s", name, err.msg);
    return t;
}

/* Feeds tokens[0..n) to a fresh state in calls of `step` tokens (the last shorter), with passes of at most
 * cap tokens, and stores all logits (n, V). Returns the forward's code. */
static int run(const struct transformer *t, enum transformer_path path, int64_t cap, const int32_t *tokens, int64_t n,
               int64_t step, float *logits)
{
    struct ge_error err;
    struct transformer_state *s = NULL;
    struct transformer_work *w = NULL;
    int rc = transformer_state_new(t, N_CTX, &s, &err);
    if (rc == GE_OK)
        rc = transformer_work_new(t, cap, N_CTX, path, &w, &err);
    for (int64_t i = 0; rc == GE_OK && i < n; i += step) {
        int64_t cnt = n - i < step ? n - i : step;
        rc = transformer_forward(t, w, s, tokens + i, cnt, logits + i * t->cfg.vocab_size, &err);
    }
    if (rc != GE_OK)
        tap_diag("run: %s", err.msg);
    transformer_state_free(s);
    transformer_work_free(w);
    return rc;
}

struct collect {
    float *rows;    /* (n, V) */
    int64_t V;
    int64_t next_i; /* expected next index */
    int in_order;
    int fail_at;    /* return an error at this index, or -1 */
};

static int collect_fn(void *ctx, int64_t i, const float *logits, struct ge_error *err)
{
    struct collect *c = ctx;
    if (i == c->fail_at)
        return ge_error_set(err, GE_ERR_STATE, "callback refused row %lld", (long long)i);
    c->in_order &= i == c->next_i;
    c->next_i = i + 1;
    memcpy(c->rows + i * c->V, logits, (size_t)c->V * sizeof(float));
    return GE_OK;
}

static void test_case(const char *name)
{
    struct model_config cfg;
    struct tiny_source src = {.seed = 1000};
    struct transformer *t = load_case(name, &src, &cfg);
    if (!tap_ok(t != NULL, "%s: loads", name))
        return;
    const int64_t V = cfg.vocab_size;
    struct rng r;
    rng_seed(&r, 77);
    int32_t tokens[N_TOK], other[17];
    for (int i = 0; i < N_TOK; i++)
        tokens[i] = (int32_t)rng_below(&r, (uint64_t)V);
    for (int i = 0; i < 17; i++)
        other[i] = (int32_t)rng_below(&r, (uint64_t)V);
    size_t bytes = (size_t)(N_TOK * V) * sizeof(float);
    float *fast = malloc(bytes), *ref = malloc(bytes), *alt = malloc(bytes), *alt2 = malloc(bytes);

    /* Two calls (15 + 8 tokens) so the second works on a non-empty cache, on both paths. */
    int rc = run(t, TRANSFORMER_PATH_FAST, 64, tokens, N_TOK, 15, fast);
    rc |= run(t, TRANSFORMER_PATH_REFERENCE, 64, tokens, N_TOK, 15, ref);
    double e = tiny_rel_err(fast, ref, N_TOK * V);
    tap_ok(rc == GE_OK && e <= 1e-4, "%s: fast path agrees with the scalar reference (rel %.2e)", name, e);

    rc = run(t, TRANSFORMER_PATH_FAST, 64, tokens, N_TOK, N_TOK, alt);
    e = tiny_rel_err(alt, fast, N_TOK * V);
    tap_ok(rc == GE_OK && e <= 1e-5, "%s: one call of 23 tokens equals 15 + 8 (rel %.2e)", name, e);
    rc = run(t, TRANSFORMER_PATH_FAST, 64, tokens, N_TOK, 1, alt2);
    e = tiny_rel_err(alt2, alt, N_TOK * V);
    tap_ok(rc == GE_OK && e <= 1e-5, "%s: batch of 23 equals one token at a time through the cache (rel %.2e)", name,
           e);
    rc = run(t, TRANSFORMER_PATH_FAST, 5, tokens, N_TOK, N_TOK, alt2);
    e = tiny_rel_err(alt2, alt, N_TOK * V);
    tap_ok(rc == GE_OK && e <= 1e-5, "%s: passes of 5 tokens equal one pass (rel %.2e)", name, e);
    rc = run(t, TRANSFORMER_PATH_REFERENCE, 64, tokens, N_TOK, 1, alt2);
    e = tiny_rel_err(alt2, ref, N_TOK * V);
    tap_ok(rc == GE_OK && e <= 1e-6, "%s: reference path one token per call equals 15 + 8 (rel %.2e)", name, e);

    /* Several sequences in one call (passes of 16 rows split them across passes), a prefix shared by copy,
     * logits_from, and a callback. */
    struct ge_error err;
    struct transformer_work *w = NULL;
    struct transformer_state *s1 = NULL, *s2 = NULL, *s3 = NULL;
    transformer_work_new(t, 16, N_CTX, TRANSFORMER_PATH_FAST, &w, &err);
    transformer_state_new(t, N_CTX, &s1, &err);
    transformer_state_new(t, N_CTX, &s2, &err);
    transformer_state_new(t, 30, &s3, &err);
    float *other_logits = malloc((size_t)(17 * V) * sizeof(float));
    float *other_batch = malloc((size_t)(17 * V) * sizeof(float));
    float *cb_rows = calloc((size_t)(N_TOK * V), sizeof(float));
    run(t, TRANSFORMER_PATH_FAST, 64, other, 17, 17, other_logits);
    transformer_forward(t, w, s3, tokens, 6, NULL, &err); /* s3 holds a prefix of 6 */
    struct collect col = {.rows = cb_rows, .V = V, .next_i = 20 - 6, .in_order = 1, .fail_at = -1};
    struct collect col0 = {.rows = alt2, .V = V, .next_i = 0, .in_order = 1, .fail_at = -1};
    struct transformer_seq seqs[3] = {
        {.state = s1, .tokens = tokens, .n_tokens = N_TOK, .logits = alt, .on_logits = collect_fn,
         .on_logits_ctx = &col0},
        {.state = s2, .tokens = other, .n_tokens = 17, .logits = other_batch},
        {.state = s3, .tokens = tokens + 6, .n_tokens = N_TOK - 6, .logits_from = 20 - 6, .on_logits = collect_fn,
         .on_logits_ctx = &col},
    };
    memset(alt, 0, bytes);
    rc = transformer_forward_batch(t, w, seqs, 3, &err);
    double e1 = tiny_rel_err(alt, fast, N_TOK * V), e2 = tiny_rel_err(other_batch, other_logits, 17 * V);
    double e3 = tiny_rel_err(cb_rows + 14 * V, fast + 20 * V, 3 * V);
    tap_ok(rc == GE_OK && e1 <= 1e-5 && e2 <= 1e-5 && e3 <= 1e-5,
           "%s: three sequences in one call equal separate runs (rel %.1e %.1e %.1e)", name, e1, e2, e3);
    tap_ok(col.in_order && col.next_i == N_TOK - 6 && s3->n_past == N_TOK,
           "%s: callback sees rows 14..16 in order and the prefix state ends at 23", name);
    tap_ok(col0.in_order && col0.next_i == N_TOK && memcmp(alt, alt2, bytes) == 0,
           "%s: with both an output array and a callback, the callback sees exactly the stored rows", name);

    /* Truncate to a shared prefix and continue; copy a prefix into another state and continue. */
    transformer_state_truncate(s1, 9, &err);
    tap_is_int(transformer_state_common_prefix(s1, tokens, N_TOK), 9, "%s: common prefix after truncation", name);
    transformer_state_reset(s2);
    transformer_state_copy(s2, s1, 9, &err);
    rc = transformer_forward(t, w, s1, tokens + 9, N_TOK - 9, alt, &err);
    rc |= transformer_forward(t, w, s2, tokens + 9, N_TOK - 9, alt2, &err);
    e1 = tiny_rel_err(alt, fast + 9 * V, (N_TOK - 9) * V);
    e2 = tiny_rel_err(alt2, fast + 9 * V, (N_TOK - 9) * V);
    tap_ok(rc == GE_OK && e1 <= 1e-5 && e2 <= 1e-5,
           "%s: truncating to 9 tokens, or copying them to another state, then continuing (rel %.1e %.1e)", name,
           e1, e2);

    free(other_logits);
    free(other_batch);
    free(cb_rows);
    transformer_state_free(s1);
    transformer_state_free(s2);
    transformer_state_free(s3);
    transformer_work_free(w);
    free(fast);
    free(ref);
    free(alt);
    free(alt2);
    transformer_free(t);
}

/* An MoE whose experts are all the same dense FFN, with weights summing to 1, is that dense model. */
static void test_moe_equals_dense(const char *moe_case, enum model_arch dense_arch, const char *what)
{
    struct model_config mcfg, dcfg;
    struct ge_error err;
    struct tiny_source copies = {.seed = 31, .experts_copy_dense = 1}, plain = {.seed = 31};
    struct transformer *moe = NULL, *dense = NULL;
    tiny_config(moe_case, &mcfg);
    dcfg = mcfg;
    dcfg.arch = dense_arch;
    dcfg.n_experts = 0;
    memset(dcfg.is_moe_layer, 0, sizeof dcfg.is_moe_layer);
    struct tensor_source s1 = {.ctx = &copies, .read_f32 = tiny_read_f32};
    struct tensor_source s2 = {.ctx = &plain, .read_f32 = tiny_read_f32};
    int rc = transformer_load(&mcfg, &s1, &moe, &err);
    rc |= transformer_load(&dcfg, &s2, &dense, &err);
    if (!tap_ok(rc == GE_OK, "%s: MoE and dense models load", what)) {
        tap_diag("%s", err.msg);
        return;
    }
    const int64_t V = mcfg.vocab_size;
    int32_t tokens[N_TOK];
    struct rng r;
    rng_seed(&r, 3);
    for (int i = 0; i < N_TOK; i++)
        tokens[i] = (int32_t)rng_below(&r, (uint64_t)V);
    float *a = malloc((size_t)(N_TOK * V) * sizeof(float)), *b = malloc((size_t)(N_TOK * V) * sizeof(float));
    rc = run(moe, TRANSFORMER_PATH_FAST, 64, tokens, N_TOK, N_TOK, a);
    rc |= run(dense, TRANSFORMER_PATH_FAST, 64, tokens, N_TOK, N_TOK, b);
    double e = tiny_rel_err(a, b, N_TOK * V);
    tap_ok(rc == GE_OK && e <= 1e-5, "%s: experts that are copies of the dense FFN give the dense logits (rel %.2e)",
           what, e);
    rc = run(moe, TRANSFORMER_PATH_REFERENCE, 64, tokens, N_TOK, N_TOK, a);
    e = tiny_rel_err(a, b, N_TOK * V);
    tap_ok(rc == GE_OK && e <= 1e-5, "%s: the same on the reference path (rel %.2e)", what, e);
    free(a);
    free(b);
    transformer_free(moe);
    transformer_free(dense);
}

/* GLaM's plain experts, checked without the runtime's FFN code. The dense path only has gated FFNs, so a plain
 * FFN has no dense model to compare with; instead a one-layer model whose only layer is MoE, every expert a
 * copy of one plain FFN (up, down), is that FFN (the routing weights sum to 1), and for a token at position 0
 * the layer is simple enough to compute here in double: attention over the one key returns v (weight 1; RoPE
 * rotates by 0 and the relative bias adds a constant to the only score), so
 *   h = x + o_proj(v_proj(n1(x))),  x' = h + down(act(up(n2(h)))),  logits = lm_head . norm(x').
 * Each token is its own sequence, all in one call, so the grouped expert products see many rows. */
static void hand_rmsnorm(double *out, const double *x, const float *w, int64_t n, double eps)
{
    double ss = 0.0;
    for (int64_t i = 0; i < n; i++)
        ss += x[i] * x[i];
    double scale = 1.0 / sqrt(ss / (double)n + eps);
    for (int64_t i = 0; i < n; i++)
        out[i] = x[i] * scale * w[i];
}

static void hand_matvec(double *out, const float *w, const double *x, int64_t n_out, int64_t n_in)
{
    for (int64_t i = 0; i < n_out; i++) {
        double acc = 0.0;
        for (int64_t j = 0; j < n_in; j++)
            acc += (double)w[i * n_in + j] * x[j];
        out[i] = acc;
    }
}

/* Logits (V) of token tok at position 0 of one-layer model t, whose FFN is the plain up (H, M), down (M, H). */
static void hand_plain_layer(const struct transformer *t, const float *up, const float *down, int32_t tok,
                             float *logits)
{
    const struct model_config *c = &t->cfg;
    const struct transformer_layer *L = &t->w.layers[0];
    const int64_t M = c->hidden_size, H = c->intermediate_size, V = c->vocab_size, hd = c->head_dim;
    const int64_t Q = c->n_heads * hd, K = c->n_kv_heads * hd, group = c->n_heads / c->n_kv_heads;
    double *x = malloc((size_t)M * sizeof *x), *xb = malloc((size_t)M * sizeof *xb);
    double *v = malloc((size_t)K * sizeof *v), *att = malloc((size_t)Q * sizeof *att);
    double *y = malloc((size_t)M * sizeof *y), *u = malloc((size_t)H * sizeof *u);
    for (int64_t i = 0; i < M; i++)
        x[i] = t->w.tok_embed.f32[(int64_t)tok * M + i];
    hand_rmsnorm(xb, x, L->attn_norm, M, c->rms_norm_eps);
    hand_matvec(v, L->wv.f32, xb, K, M);
    for (int64_t h = 0; h < c->n_heads; h++)
        for (int64_t d = 0; d < hd; d++)
            att[h * hd + d] = v[(h / group) * hd + d];
    hand_matvec(y, L->wo.f32, att, M, Q);
    for (int64_t i = 0; i < M; i++)
        x[i] += y[i];
    hand_rmsnorm(xb, x, L->ffn_norm, M, c->rms_norm_eps);
    hand_matvec(u, up, xb, H, M);
    for (int64_t i = 0; i < H; i++)
        u[i] = kernel_act(u[i], c->act);
    hand_matvec(y, down, u, M, H);
    for (int64_t i = 0; i < M; i++)
        x[i] += y[i];
    hand_rmsnorm(xb, x, t->w.final_norm, M, c->rms_norm_eps);
    for (int64_t r = 0; r < V; r++) {
        double acc = 0.0;
        for (int64_t j = 0; j < M; j++)
            acc += (double)t->w.lm_head.f32[r * M + j] * xb[j];
        logits[r] = (float)acc;
    }
    free(x);
    free(xb);
    free(v);
    free(att);
    free(y);
    free(u);
}

/* One call of n one-token sequences on path; logits (n, V). */
static int run_singletons(const struct transformer *t, enum transformer_path path, const int32_t *tokens,
                          int64_t n, float *logits)
{
    struct ge_error err;
    struct transformer_work *w = NULL;
    struct transformer_state *st[N_TOK] = {0};
    struct transformer_seq seqs[N_TOK];
    int rc = transformer_work_new(t, 64, N_CTX, path, &w, &err);
    for (int64_t i = 0; rc == GE_OK && i < n; i++) {
        rc = transformer_state_new(t, N_CTX, &st[i], &err);
        seqs[i] = (struct transformer_seq){.state = st[i], .tokens = tokens + i, .n_tokens = 1,
                                           .logits = logits + i * t->cfg.vocab_size};
    }
    if (rc == GE_OK)
        rc = transformer_forward_batch(t, w, seqs, n, &err);
    if (rc != GE_OK)
        tap_diag("run_singletons: %s", err.msg);
    for (int64_t i = 0; i < n; i++)
        transformer_state_free(st[i]);
    transformer_work_free(w);
    return rc;
}

static void test_plain_experts_by_hand(void)
{
    struct model_config cfg;
    struct ge_error err;
    struct tiny_source copies = {.seed = 41, .experts_copy_dense = 1};
    struct transformer *t = NULL;
    tiny_config("glam_moe_plain", &cfg);
    cfg.n_layers = 1;
    cfg.moe_layer_frequency = 1;
    memset(cfg.is_moe_layer, 0, sizeof cfg.is_moe_layer);
    cfg.is_moe_layer[0] = 1;
    struct tensor_source ts = {.ctx = &copies, .read_f32 = tiny_read_f32};
    int rc = transformer_load(&cfg, &ts, &t, &err);
    if (!tap_ok(rc == GE_OK && t->w.layers[0].exp_gate == NULL, "plain experts: a one-layer MoE model loads, "
                "holding no expert gate (%s)", rc ? err.msg : "ok")) {
        transformer_free(t);
        return;
    }
    const int64_t M = cfg.hidden_size, H = cfg.intermediate_size, V = cfg.vocab_size;
    float *up = malloc((size_t)(H * M) * sizeof *up), *down = malloc((size_t)(M * H) * sizeof *down);
    int64_t ushape[2] = {H, M}, dshape[2] = {M, H};
    rc = tiny_read_f32(&copies, "model.layers.0.mlp.up_proj.weight", 2, ushape, up, &err);
    rc |= tiny_read_f32(&copies, "model.layers.0.mlp.down_proj.weight", 2, dshape, down, &err);
    int32_t tokens[N_TOK];
    struct rng r;
    rng_seed(&r, 5);
    for (int i = 0; i < N_TOK; i++)
        tokens[i] = (int32_t)rng_below(&r, (uint64_t)V);
    size_t bytes = (size_t)(N_TOK * V) * sizeof(float);
    float *want = malloc(bytes), *got = malloc(bytes);
    for (int i = 0; i < N_TOK; i++)
        hand_plain_layer(t, up, down, tokens[i], want + i * V);
    rc |= run_singletons(t, TRANSFORMER_PATH_FAST, tokens, N_TOK, got);
    double e = tiny_rel_err(got, want, N_TOK * V);
    tap_ok(rc == GE_OK && e <= 1e-5, "plain experts: an MoE of copies of one plain FFN gives that FFN's "
           "hand-computed logits (fast path, %d tokens, rel %.2e)", N_TOK, e);
    rc = run_singletons(t, TRANSFORMER_PATH_REFERENCE, tokens, N_TOK, got);
    e = tiny_rel_err(got, want, N_TOK * V);
    tap_ok(rc == GE_OK && e <= 1e-6, "plain experts: the same on the reference path (rel %.2e)", e);
    free(want);
    free(got);
    free(up);
    free(down);
    transformer_free(t);
}

/* ---- failures ----------------------------------------------------------------------------------------------- */

struct missing_source {
    const char *missing;  /* this tensor is absent */
    int no_expert_gates;  /* 1: so is every experts.{j}.gate_proj (a plain-expert checkpoint) */
};

static int missing_read(void *ctx, const char *name, int n_dims, const int64_t *shape, float *dst,
                        struct ge_error *err)
{
    struct missing_source *m = ctx;
    if (strcmp(name, m->missing) == 0 ||
        (m->no_expert_gates && strstr(name, ".experts.") != NULL && strstr(name, ".gate_proj.") != NULL))
        return ge_error_set(err, GE_ERR_NOTFOUND, "no such tensor in test.safetensors");
    struct tiny_source src = {.seed = 1};
    return tiny_read_f32(&src, name, n_dims, shape, dst, err);
}

static void test_failures(void)
{
    struct model_config cfg;
    struct ge_error err;
    struct transformer *t = NULL;
    tiny_config("glam_moe", &cfg);

    struct missing_source ms = {.missing = "model.layers.3.mlp.experts.2.up_proj.weight"};
    struct tensor_source ts = {.ctx = &ms, .read_f32 = missing_read};
    int rc = transformer_load(&cfg, &ts, &t, &err);
    tap_ok(rc == GE_ERR_NOTFOUND && t == NULL && strstr(err.msg, ms.missing) != NULL &&
               strstr(err.msg, "test.safetensors") != NULL,
           "a missing expert tensor fails the load and is named (%s)", err.msg);
    ms.missing = "model.layers.1.mlp.router.weight"; /* GLaM falls back to mlp.gate.weight */
    rc = transformer_load(&cfg, &ts, &t, &err);
    tap_ok(rc == GE_OK, "glam: the router is also read as mlp.gate.weight");
    transformer_free(t);
    t = NULL;
    ms = (struct missing_source){.missing = "", .no_expert_gates = 1};
    rc = transformer_load(&cfg, &ts, &t, &err);
    tap_ok(rc == GE_ERR_NOTFOUND && strstr(err.msg, "gate_proj") != NULL,
           "gated experts: a checkpoint without expert gates fails naming gate_proj (%s)", err.msg);
    struct model_config plain;
    tiny_config("glam_moe_plain", &plain);
    rc = transformer_load(&plain, &ts, &t, &err);
    tap_ok(rc == GE_OK && t->w.layers[1].exp_gate == NULL && t->w.layers[1].exp_up != NULL,
           "plain experts: the same checkpoint loads, no expert gate is read (%s)", rc ? err.msg : "ok");
    transformer_free(t);
    t = NULL;

    struct model_config bad = cfg;
    bad.n_kv_heads = 3;
    rc = transformer_load(&bad, &ts, &t, &err);
    tap_ok(rc == GE_ERR_FORMAT && strstr(err.msg, "num_key_value_heads") != NULL, "bad head grouping is named (%s)",
           err.msg);
    bad = cfg;
    bad.n_experts_per_tok = 5;
    tap_ok(transformer_check_config(&bad, &err) == GE_ERR_FORMAT && strstr(err.msg, "num_experts_per_tok") != NULL,
           "k > E is refused (%s)", err.msg);
    bad = cfg;
    bad.n_experts = 0;
    tap_ok(transformer_check_config(&bad, &err) == GE_ERR_FORMAT, "MoE layers without experts are refused");
    bad = cfg;
    bad.posenc = MODEL_POS_ROPE;
    bad.head_dim = 7;
    tap_ok(transformer_check_config(&bad, &err) == GE_ERR_FORMAT && strstr(err.msg, "head_dim") != NULL,
           "RoPE with an odd head_dim is refused");
    tiny_config("mixtral", &bad);
    bad.moe_expert_gated = 0;
    tap_ok(transformer_check_config(&bad, &err) == GE_ERR_FORMAT && strstr(err.msg, "moe_expert_gated") != NULL,
           "plain experts outside glam are refused (%s)", err.msg);

    struct tiny_source src = {.seed = 2};
    ts = (struct tensor_source){.ctx = &src, .read_f32 = tiny_read_f32};
    if (transformer_load(&cfg, &ts, &t, &err) != GE_OK)
        return;
    struct transformer_state *s = NULL, *big = NULL;
    struct transformer_work *w = NULL;
    transformer_state_new(t, 8, &s, &err);
    transformer_state_new(t, 64, &big, &err);
    transformer_work_new(t, 4, 32, TRANSFORMER_PATH_FAST, &w, &err);
    int32_t toks[10] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
    transformer_forward(t, w, s, toks, 3, NULL, &err);
    toks[1] = (int32_t)cfg.vocab_size;
    rc = transformer_forward(t, w, s, toks, 4, NULL, &err);
    tap_ok(rc == GE_ERR_USAGE && s->n_past == 3 && strstr(err.msg, "index 1") != NULL,
           "a token outside the vocabulary is refused and the state is unchanged (%s)", err.msg);
    toks[1] = 2;
    rc = transformer_forward(t, w, s, toks, 6, NULL, &err);
    tap_ok(rc == GE_ERR_LIMIT && s->n_past == 3, "overflowing the context is refused (%s)", err.msg);
    rc = transformer_forward(t, w, big, toks, 2, NULL, &err);
    tap_ok(rc == GE_ERR_LIMIT, "a state longer than the scratch's context is refused (%s)", err.msg);
    float *rows = malloc((size_t)(5 * cfg.vocab_size) * sizeof(float));
    struct collect col = {.rows = rows, .V = cfg.vocab_size, .in_order = 1, .fail_at = 3};
    struct transformer_seq q = {.state = s, .tokens = toks, .n_tokens = 5, .on_logits = collect_fn,
                                .on_logits_ctx = &col};
    rc = transformer_forward_batch(t, w, &q, 1, &err);
    tap_ok(rc == GE_ERR_STATE && s->n_past == 3 && strstr(err.msg, "refused row 3") != NULL,
           "a callback's error aborts the call and restores the state (%s)", err.msg);
    struct transformer_seq two[2] = {{.state = s, .tokens = toks, .n_tokens = 1},
                                     {.state = s, .tokens = toks, .n_tokens = 1}};
    rc = transformer_forward_batch(t, w, two, 2, &err);
    tap_ok(rc == GE_ERR_USAGE && s->n_past == 3, "two sequences sharing a state are refused");
    tap_ok(transformer_state_truncate(s, 4, &err) == GE_ERR_USAGE, "truncating past n_past is refused");
    free(rows);
    transformer_state_free(s);
    transformer_state_free(big);
    transformer_work_free(w);
    transformer_free(t);
    tap_ok(transformer_work_new(t, 0, 8, TRANSFORMER_PATH_FAST, &w, &err) == GE_ERR_LIMIT && w == NULL,
           "a scratch of 0 tokens is refused");
}

static void test_param_counts(void)
{
    struct model_config c;
    int64_t total, active;
    tiny_config("mixtral", &c);
    transformer_count_params(&c, &total, &active);
    const int64_t M = 32, H = 48, V = 61, Q = 32, K = 16, E = 4;
    int64_t attn = 2 * M + 2 * Q * M + 2 * K * M;
    tap_is_int(total, 2 * V * M + M + 2 * (attn + E * M + E * 3 * H * M), "mixtral tiny: total parameters");
    tap_is_int(active, V * M + M + 2 * (attn + E * M + 2 * 3 * H * M), "mixtral tiny: active parameters (top-2)");
    /* glam_moe_plain: 4 layers with an 8-bucket relative bias, tied embeddings, layers 1 and 3 routed to 4 plain
     * experts of 2 H M each; layers 0 and 2 dense gated FFNs of 3 H M. */
    tiny_config("glam_moe_plain", &c);
    transformer_count_params(&c, &total, &active);
    int64_t gattn = 2 * M + 2 * Q * M + 2 * Q * M + 8 * 4;
    tap_is_int(total, V * M + M + 4 * gattn + 2 * 3 * H * M + 2 * (E * M + E * 2 * H * M),
               "glam plain-expert tiny: total parameters");
    tap_is_int(active, V * M + M + 4 * gattn + 2 * 3 * H * M + 2 * (E * M + 2 * 2 * H * M),
               "glam plain-expert tiny: active parameters (top-2)");
}

/* ---- a real model ------------------------------------------------------------------------------------------ */

/* Appends token id's text to buf (llama2.c vocabulary: byte tokens "<0xHH>", a space dropped after BOS). */
static void append_piece(char *buf, size_t cap, char **pieces, int32_t prev, int32_t id)
{
    const char *p = pieces[id];
    unsigned int byte;
    char one[2] = {0, 0};
    if (prev == 1 && p[0] == ' ')
        p++;
    if (sscanf(p, "<0x%02X>", &byte) == 1) {
        one[0] = (char)byte;
        p = one;
    }
    size_t used = strlen(buf);
    snprintf(buf + used, cap - used, "%s", p);
}

/* stories260K (../shared/models): a trained Llama model with grouped-query attention. Greedy decoding from BOS
 * must tell a story ("Once upon a time"), and the paths must agree on its real weights. */
static void test_stories260k(void)
{
    const char *shared = tap_shared_dir();
    char path[1024], vpath[1024];
    struct ge_error err;
    struct llama2c_model m;
    if (shared == NULL) {
        tap_skip("../shared is absent", "stories260K");
        return;
    }
    snprintf(path, sizeof path, "%s/models/stories260K/stories260K.bin", shared);
    snprintf(vpath, sizeof vpath, "%s/models/stories260K/tok512.bin", shared);
    if (!file_exists(path)) {
        tap_skip("stories260K.bin is absent", "stories260K");
        return;
    }
    if (llama2c_open(path, &m, &err) != GE_OK) {
        tap_ok(0, "stories260K: the llama2.c checkpoint reads (%s)", err.msg);
        return;
    }
    struct transformer *t = NULL;
    struct tensor_source ts = {.ctx = &m, .read_f32 = llama2c_read_f32};
    int rc = transformer_load(&m.cfg, &ts, &t, &err);
    char **pieces = NULL;
    rc |= llama2c_vocab_load(vpath, m.cfg.vocab_size, &pieces, &err);
    if (!tap_ok(rc == GE_OK, "stories260K: loads through the tensor source%s%s", rc ? ": " : "", rc ? err.msg : "")) {
        transformer_free(t);
        llama2c_close(&m);
        return;
    }
    enum { N_GEN = 48 };
    const int64_t V = m.cfg.vocab_size;
    struct transformer_state *s = NULL;
    struct transformer_work *w = NULL;
    int32_t seq[N_GEN + 1] = {1};
    float *logits = malloc((size_t)((N_GEN + 1) * V) * sizeof(float));
    float *ref = malloc((size_t)((N_GEN + 1) * V) * sizeof(float));
    char text[1024] = "";
    transformer_state_new(t, 64, &s, &err);
    transformer_work_new(t, 64, 64, TRANSFORMER_PATH_FAST, &w, &err);
    rc = GE_OK;
    for (int i = 0; i < N_GEN && rc == GE_OK; i++) { /* feed seq[i], pick seq[i + 1] */
        rc = transformer_forward(t, w, s, seq + i, 1, logits, &err);
        seq[i + 1] = (int32_t)logprob_argmax(logits, V);
        append_piece(text, sizeof text, pieces, seq[i], seq[i + 1]);
    }
    tap_ok(rc == GE_OK && strncmp(text, "Once upon a time", 16) == 0,
           "stories260K: greedy decoding from BOS tells a story: \"%.60s...\"", text);

    /* The whole sequence in one call: every generated token is the argmax at its position. */
    transformer_state_reset(s);
    rc = transformer_forward(t, w, s, seq, N_GEN, logits, &err);
    int greedy = 1;
    double ll = 0.0;
    for (int i = 0; i < N_GEN; i++) {
        int g;
        ll += logprob_token(logits + i * V, V, seq[i + 1], &g);
        greedy &= g;
    }
    tap_ok(rc == GE_OK && greedy, "stories260K: one-pass logits make every generated token greedy (sum log p %.3f)",
           ll);
    rc = run(t, TRANSFORMER_PATH_REFERENCE, 64, seq, N_CTX, N_CTX, ref);
    double e = tiny_rel_err(logits, ref, N_CTX * V);
    tap_ok(rc == GE_OK && e <= 1e-4, "stories260K: fast path agrees with the scalar reference on %d tokens (rel %.2e)",
           N_CTX, e);

    free(logits);
    free(ref);
    transformer_state_free(s);
    transformer_work_free(w);
    llama2c_vocab_free(pieces, V);
    transformer_free(t);
    llama2c_close(&m);
}

int main(void)
{
    test_gemm();
    test_row_kernels();
    test_topk();
    test_buckets();
    test_logprob();
    for (int i = 0; tiny_case_names[i] != NULL; i++)
        test_case(tiny_case_names[i]);
    test_moe_equals_dense("mixtral", MODEL_ARCH_LLAMA, "mixtral routing");
    test_moe_equals_dense("glam_moe", MODEL_ARCH_GLAM, "glam routing (softmax, top-2, renormalised)");
    test_plain_experts_by_hand();
    test_failures();
    test_param_counts();
    test_stories260k();
    return tap_done();
}
