/* bench_forward.c — throughput of the fast forward pass on GLaM-0.1B-shaped models with random weights.
 *
 * Not a test: built by `make bench`, run by hand (bench/bench_forward --help). In one run on one machine it
 * measures
 *   1. bare cblas_sgemm on the products of one dense layer for a prompt of n tokens, repeated for the 12
 *      layers: the ceiling for the projections;
 *   2. prompt processing of the dense 0.1B model (M 768, 12 layers, 12 heads, H 3072, vocabulary 32000,
 *      logits for the last token only): tokens/s and useful GFLOP/s (projections, causal attention, lm_head)
 *      as a fraction of 1.;
 *   3. tokens/s of 0.1B/64E (experts in every other layer, top-2) against the dense model, for the prompt and
 *      for one-token decoding steps, next to the ratio of activated parameters (what an ideal MoE would give);
 *   4. bare cblas_sgemm on the products of one MoE layer's experts with n * k / E rows each (what a prompt of
 *      n tokens gives each expert on average), as GFLOP/s and as a fraction of 1.'s: how much of the MoE
 *      model's shortfall is the BLAS at small row counts rather than routing, gathering or scattering.
 * Each repetition runs 1, the dense model and the MoE model back to back and the ratios are taken within it;
 * the medians over repetitions are printed, so load from other processes on a shared machine moves the
 * absolute figures more than the ratios.
 * The MoE model holds 6 * 64 * 3 * 768 * 3072 floats of experts (10.9 GB); --experts lowers that, and --layers
 * (fewer layers, for quick profiles) too. */
#include "config.h"

#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench/bench_runner.h"
#include "harness/rng.h"
#include "model/transformer.h"

struct options {
    int64_t n_tokens;  /* prompt length */
    int64_t n_experts; /* experts of the MoE model; 0 skips it */
    int64_t n_decode;  /* decoding steps timed after the prompt */
    int64_t n_layers;  /* layers of both models (12, the preset's; fewer for quick profiles) */
    int reps;
    int threads;       /* OpenBLAS threads; 0 keeps OpenBLAS's default */
};

static void glam_0p1b(struct model_config *c, int64_t n_experts, int64_t n_layers)
{
    memset(c, 0, sizeof *c);
    c->arch = MODEL_ARCH_GLAM;
    snprintf(c->model_type, sizeof c->model_type, "glam");
    c->vocab_size = 32000;
    c->hidden_size = 768;
    c->intermediate_size = 3072;
    c->n_layers = n_layers;
    c->n_heads = 12;
    c->n_kv_heads = 12;
    c->head_dim = 64;
    c->max_position_embeddings = 2048;
    c->n_experts = n_experts;
    c->n_experts_per_tok = 2;
    c->moe_layer_frequency = 2;
    for (int64_t i = 0; n_experts > 0 && i < c->n_layers; i++)
        c->is_moe_layer[i] = i % 2 == 1;
    c->router = MODEL_ROUTER_SOFTMAX_THEN_TOPK;
    c->norm_topk_prob = 1;
    c->moe_expert_gated = 1;
    c->act = MODEL_ACT_GELU;
    c->posenc = MODEL_POS_ROPE;
    c->rope_theta = 10000.0;
    c->rms_norm_eps = 1e-6;
    c->tie_word_embeddings = 1;
    c->bos_token_id = c->eos_token_id = -1;
}

/* Random weights: norms near 1, everything else U(-a, a) with a = sqrt(3 / fan_in); seeded by the name. */
static int random_read(void *ctx, const char *name, int n_dims, const int64_t *shape, float *dst,
                       struct ge_error *err)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (const char *p = name; *p; p++)
        h = (h ^ (unsigned char)*p) * 0x100000001b3ULL;
    struct rng r;
    rng_seed(&r, h);
    int64_t n = 1;
    for (int d = 0; d < n_dims; d++)
        n *= shape[d];
    int is_norm = strstr(name, "norm") != NULL;
    float a = is_norm ? 0.1f : (float)sqrt(3.0 / (double)shape[n_dims - 1]);
    float base = is_norm ? 1.0f : 0.0f;
    for (int64_t i = 0; i < n; i += 2) {
        uint64_t u = rng_next_u64(&r);
        dst[i] = base + a * ((float)(u >> 40) * 0x1.0p-23f - 1.0f);
        if (i + 1 < n)
            dst[i + 1] = base + a * ((float)((u >> 8) & 0xffffff) * 0x1.0p-23f - 1.0f);
    }
    return GE_OK;
}

/* Scratch for bare cblas_sgemm runs on the shapes of one dense layer, sized for n rows. */
struct bare {
    int64_t n, M, H;
    float *x; /* (n, H) */
    float *w; /* (H, M) */
    float *y; /* (n, H) */
};

static int bare_init(struct bare *b, int64_t n, int64_t M, int64_t H)
{
    *b = (struct bare){.n = n, .M = M, .H = H};
    b->x = malloc((size_t)(n * H) * sizeof(float));
    b->w = malloc((size_t)(H * M) * sizeof(float));
    b->y = malloc((size_t)(n * H) * sizeof(float));
    if (b->x == NULL || b->w == NULL || b->y == NULL)
        return -1;
    for (int64_t i = 0; i < n * H; i++)
        b->x[i] = (float)(i % 7) * 0.01f;
    for (int64_t i = 0; i < H * M; i++)
        b->w[i] = (float)(i % 5) * 0.01f;
    return 0;
}

static void bare_release(struct bare *b)
{
    free(b->x);
    free(b->w);
    free(b->y);
}

/* Seconds of `count` bare products Y (n, out) = X (n, in) . W^T. */
static double bare_run(struct bare *b, int64_t out, int64_t in, int count)
{
    double t0 = bench_now_s();
    for (int i = 0; i < count; i++)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)b->n, (int)out, (int)in, 1.0f, b->x, (int)in,
                    b->w, (int)in, 0.0f, b->y, (int)out);
    return bench_now_s() - t0;
}

/* Seconds of the products of one dense layer (q, k, v, o; gate, up; down), bare. */
static double bare_layer(struct bare *b)
{
    return bare_run(b, b->M, b->M, 4) + bare_run(b, b->H, b->M, 2) + bare_run(b, b->M, b->H, 1);
}

/* Seconds of the products of one MoE layer's experts, bare: every expert of layer `layer` of t (F32 in memory)
 * gets `rows` rows of b->x through its gate (when gated), up and down products, as moe_forward runs them; the
 * FLOPs go to *flops. The expert weights are distinct matrices, read from memory as in the forward pass. */
static double bare_experts(struct bare *b, const struct transformer *t, int64_t layer, int64_t rows, double *flops)
{
    const struct transformer_layer *L = &t->w.layers[layer];
    const int64_t M = b->M, H = b->H, E = t->cfg.n_experts;
    double t0 = bench_now_s();
    for (int64_t e = 0; e < E; e++) {
        if (L->exp_gate != NULL)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)rows, (int)H, (int)M, 1.0f, b->x, (int)M,
                        L->exp_gate[e].f32, (int)M, 0.0f, b->y, (int)H);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)rows, (int)H, (int)M, 1.0f, b->x, (int)M,
                    L->exp_up[e].f32, (int)M, 0.0f, b->y, (int)H);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)rows, (int)M, (int)H, 1.0f, b->x, (int)H,
                    L->exp_down[e].f32, (int)H, 0.0f, b->y, (int)M);
    }
    *flops = 2.0 * (double)E * (double)rows * (L->exp_gate != NULL ? 3.0 : 2.0) * (double)H * (double)M;
    return bench_now_s() - t0;
}

static double bare_layer_flops(const struct bare *b)
{
    return 2.0 * (double)b->n * (4.0 * (double)b->M * b->M + 3.0 * (double)b->H * b->M);
}

/* A loaded model with its state, scratch and tokens, ready to time. */
/* Loads cfg with random weights and prints its size. */
static int runner_init(struct bench_runner *r, const struct model_config *cfg, const struct options *o,
                       struct ge_error *err)
{
    struct tensor_source src = {.ctx = NULL, .read_f32 = random_read};
    int rc = bench_runner_init(r, cfg, &src, o->n_tokens, o->n_decode, err);
    if (rc == GE_OK)
        fprintf(stderr, "  loaded %.2fB parameters (%.3fB active) in %.1f s\n", (double)r->t->n_params * 1e-9,
                (double)r->t->n_active_params * 1e-9, r->load_seconds);
    return rc;
}

static int parse_args(int argc, char **argv, struct options *o)
{
    *o = (struct options){.n_tokens = 512, .n_experts = 64, .n_decode = 16, .n_layers = 12, .reps = 5, .threads = 0};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (i + 1 < argc && strcmp(a, "--tokens") == 0)
            o->n_tokens = atoll(argv[++i]);
        else if (i + 1 < argc && strcmp(a, "--experts") == 0)
            o->n_experts = atoll(argv[++i]);
        else if (i + 1 < argc && strcmp(a, "--decode") == 0)
            o->n_decode = atoll(argv[++i]);
        else if (i + 1 < argc && strcmp(a, "--reps") == 0)
            o->reps = atoi(argv[++i]);
        else if (i + 1 < argc && strcmp(a, "--layers") == 0)
            o->n_layers = atoll(argv[++i]);
        else if (i + 1 < argc && strcmp(a, "--threads") == 0)
            o->threads = atoi(argv[++i]);
        else {
            printf("usage: bench_forward [--tokens N (512)] [--experts E (64; 0 skips the MoE model)]\n"
                   "                     [--decode N (16)] [--reps N (5)] [--threads N (OpenBLAS default)]\n"
                   "                     [--layers L (12; even, for quicker profiles)]\n");
            return strcmp(a, "--help") == 0 ? 0 : 2;
        }
    }
    if (o->n_tokens < 1 || o->n_tokens > 8192 || o->n_experts < 0 || o->n_experts == 1 || o->n_decode < 0 ||
        o->reps < 1 || o->reps > 100 || o->n_layers < 2 || o->n_layers > 64 || o->n_layers % 2 != 0) {
        fprintf(stderr, "bench_forward: --tokens must be in [1, 8192], --experts 0 or >= 2, --reps in [1, 100], "
                "--layers even in [2, 64]\n");
        return 2;
    }
    return -1;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

int main(int argc, char **argv)
{
    struct options o;
    struct ge_error err;
    int rc = parse_args(argc, argv, &o);
    if (rc >= 0)
        return rc;
    if (o.threads > 0)
        openblas_set_num_threads(o.threads);
    const int64_t n = o.n_tokens;
    struct model_config dense_cfg, moe_cfg;
    glam_0p1b(&dense_cfg, 0, o.n_layers);
    glam_0p1b(&moe_cfg, o.n_experts, o.n_layers);
    const int64_t M = dense_cfg.hidden_size, H = dense_cfg.intermediate_size, V = dense_cfg.vocab_size;
    const int64_t L = dense_cfg.n_layers;
    printf("bench_forward: GLaM 0.1B shape (M %lld, L %lld, heads %lld, H %lld, V %lld), prompt %lld tokens, "
           "OpenBLAS threads %d, %d paired repetitions (medians; the first, warm-up, run is dropped)\n",
           (long long)M, (long long)L, (long long)dense_cfg.n_heads, (long long)H, (long long)V, (long long)n,
           openblas_get_num_threads(), o.reps);

    struct bare bare;
    struct bench_runner dense, moe = {0};
    if (bare_init(&bare, n, M, H) != 0) {
        fprintf(stderr, "bench_forward: out of memory\n");
        return 1;
    }
    fprintf(stderr, "dense model:\n");
    if (runner_init(&dense, &dense_cfg, &o, &err) != GE_OK) {
        fprintf(stderr, "bench_forward: %s\n", err.msg);
        return 1;
    }
    if (o.n_experts > 0) {
        fprintf(stderr, "MoE model (%lld experts):\n", (long long)o.n_experts);
        if (runner_init(&moe, &moe_cfg, &o, &err) != GE_OK) {
            fprintf(stderr, "bench_forward: %s\n", err.msg);
            return 1;
        }
    }

    /* FLOPs of the dense prompt: projections and FFN, causal attention (q.k and p.v over the keys each query
     * sees), and lm_head for the one row asked for. */
    double proj = (double)L * bare_layer_flops(&bare);
    double attn = 4.0 * (double)L * (double)(n * (n + 1) / 2) * (double)(dense_cfg.n_heads * dense_cfg.head_dim);
    double head = 2.0 * (double)V * (double)M;

    /* Paired repetitions: the same GEMM work bare (L layers' products), then the dense and the MoE prompt and
     * decoding, one right after the other, so that load from other processes hits all of them alike and the
     * ratios are taken within a repetition. */
    double r_vs_bare[101], r_moe[101], r_moe_dec[101], bare_gf[101], dense_tps[101], moe_tps[101];
    double bare_exp_gf[101], r_bare_exp[101];
    const int64_t exp_rows = n * moe_cfg.n_experts_per_tok / (o.n_experts > 0 ? o.n_experts : 1);
    double dense_dec[101], moe_dec[101];
    int k = 0;
    for (int rep = 0; rep <= o.reps; rep++) {
        double tb = 0;
        for (int64_t l = 0; l < L; l++)
            tb += bare_layer(&bare);
        double td = bench_runner_prompt(&dense), dd = bench_runner_decode(&dense);
        double tm = 0, dm = 0, te = 0, fe = 0;
        if (o.n_experts > 0 && exp_rows > 0)
            te = bare_experts(&bare, moe.t, 1, exp_rows, &fe);
        if (o.n_experts > 0) {
            tm = bench_runner_prompt(&moe);
            dm = bench_runner_decode(&moe);
        }
        if (rep == 0)
            continue;
        bare_gf[k] = proj / tb * 1e-9;
        bare_exp_gf[k] = te > 0 ? fe / te * 1e-9 : 0;
        r_bare_exp[k] = te > 0 ? (fe / te) / (proj / tb) : 0;
        r_vs_bare[k] = ((proj + attn + head) / td) / (proj / tb);
        dense_tps[k] = (double)n / td;
        dense_dec[k] = dd;
        moe_tps[k] = tm > 0 ? (double)n / tm : 0;
        moe_dec[k] = dm;
        r_moe[k] = tm > 0 ? td / tm : 0;
        r_moe_dec[k] = dm > 0 ? dd / dm : 0;
        k++;
    }
    printf("  bare cblas_sgemm on one dense layer's products, x %lld layers: %.1f GFLOP/s\n", (long long)L,
           median(bare_gf, k));
    printf("  dense prompt: %.0f tokens/s; useful GFLOP/s (%.0f%% projections, %.0f%% attention) / bare = %.2f\n",
           median(dense_tps, k), 100 * proj / (proj + attn + head), 100 * attn / (proj + attn + head),
           median(r_vs_bare, k));
    if (o.n_decode > 0)
        printf("  dense decode: %.1f ms/token\n", median(dense_dec, k) * 1e3);
    if (o.n_experts > 0) {
        int64_t dt, da, mt, ma;
        transformer_count_params(&dense_cfg, &dt, &da);
        transformer_count_params(&moe_cfg, &mt, &ma);
        int64_t rows = n * moe_cfg.n_experts_per_tok / o.n_experts; /* an expert's rows, on average */
        printf("  0.1B/%lldE: %.2fB parameters, %.3fB active per token (dense %.3fB): ideal MoE/dense speed %.2f\n",
               (long long)o.n_experts, (double)mt * 1e-9, (double)ma * 1e-9, (double)da * 1e-9,
               (double)da / (double)ma);
        printf("  MoE prompt: %.0f tokens/s (each expert gets about %lld of the %lld rows); MoE/dense tokens/s = "
               "%.2f\n",
               median(moe_tps, k), (long long)(rows > 0 ? rows : 1), (long long)n, median(r_moe, k));
        if (o.n_decode > 0)
            printf("  MoE decode: %.1f ms/token; MoE/dense tokens/s = %.2f\n", median(moe_dec, k) * 1e3,
                   median(r_moe_dec, k));
        if (exp_rows > 0)
            printf("  bare cblas_sgemm on one MoE layer's %lld experts, %lld rows each: %.1f GFLOP/s = %.2f of the "
                   "dense layer's products (the BLAS ceiling of MoE/dense, before routing and gathering)\n",
                   (long long)o.n_experts, (long long)exp_rows, median(bare_exp_gf, k), median(r_bare_exp, k));
    }
    bench_runner_release(&dense);
    bench_runner_release(&moe);
    bare_release(&bare);
    return 0;
}
