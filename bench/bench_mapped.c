/* bench_mapped.c — the cost of converting weights on use: a BF16 GLaM-0.1B-shaped model run with its weights
 * converted to float32 at load (RUNTIME_WEIGHTS_F32) against left in BF16 and converted per use
 * (RUNTIME_WEIGHTS_MAPPED, model/weight_matrix.h).
 *
 * Not a test: built by `make bench` (and `make check`, so it keeps compiling); run by hand
 * (bench/bench_mapped --help). The weights are random (U(-a, a), a = sqrt(3 / fan_in)), rounded to BF16 once
 * and held in memory; the converting load reads them through dtype_to_f32 (as weights_read_f32 does), the lazy
 * one borrows the BF16 bytes (as weights_view_raw does), so both compute the same function from the same bytes
 * and the checkpoint's file I/O is left out. Each repetition times, back to back, the prompt of --tokens tokens
 * (logits for the last one) and --decode one-token steps for both loads, and takes the ratios within the
 * repetition; the medians over repetitions are printed. The lazy path's extra work is one BF16 -> F32 conversion
 * of every matrix per forward call, so its cost relative to the products falls with the tokens per call. */
#include "config.h"

#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench/bench_runner.h"
#include "harness/rng.h"
#include "harness/xalloc.h"
#include "model/dtype.h"
#include "model/transformer.h"

struct options {
    int64_t n_tokens;  /* prompt length */
    int64_t n_experts; /* 0: dense 0.1B; else 0.1B/E (experts in every other layer, top-2) */
    int64_t n_decode;  /* decoding steps timed after the prompt */
    int reps;
    int threads;       /* OpenBLAS threads; 0 keeps OpenBLAS's default */
};

/* BF16 tensors by name, made on first request. */
struct bf16_store {
    char **names;      /* (n) owned */
    uint16_t **data;   /* (n) owned BF16 values */
    size_t n, cap;
};

static void glam_0p1b(struct model_config *c, int64_t n_experts)
{
    memset(c, 0, sizeof *c);
    c->arch = MODEL_ARCH_GLAM;
    snprintf(c->model_type, sizeof c->model_type, "glam");
    c->vocab_size = 32000;
    c->hidden_size = 768;
    c->intermediate_size = 3072;
    c->n_layers = 12;
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

/* The BF16 values of tensor `name` (n elements), generated on first use: norms near 1, else U(-a, a). */
static const uint16_t *store_get(struct bf16_store *s, const char *name, int n_dims, const int64_t *shape)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->names[i], name) == 0)
            return s->data[i];
    int64_t n = 1;
    for (int d = 0; d < n_dims; d++)
        n *= shape[d];
    uint64_t h = 0xcbf29ce484222325ULL;
    for (const char *p = name; *p; p++)
        h = (h ^ (unsigned char)*p) * 0x100000001b3ULL;
    struct rng r;
    rng_seed(&r, h);
    int is_norm = strstr(name, "norm") != NULL;
    float a = is_norm ? 0.1f : (float)sqrt(3.0 / (double)shape[n_dims - 1]);
    float base = is_norm ? 1.0f : 0.0f;
    uint16_t *v = xmalloc((size_t)n * sizeof *v);
    for (int64_t i = 0; i < n; i++)
        v[i] = dtype_f32_to_bf16(base + a * ((float)(rng_next_u64(&r) >> 40) * 0x1.0p-23f - 1.0f));
    if (s->n == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 64;
        s->names = xrealloc(s->names, s->cap * sizeof *s->names);
        s->data = xrealloc(s->data, s->cap * sizeof *s->data);
    }
    s->names[s->n] = xstrdup(name);
    s->data[s->n++] = v;
    return v;
}

static void store_release(struct bf16_store *s)
{
    for (size_t i = 0; i < s->n; i++) {
        free(s->names[i]);
        free(s->data[i]);
    }
    free(s->names);
    free(s->data);
}

static int store_read(void *ctx, const char *name, int n_dims, const int64_t *shape, float *dst,
                      struct ge_error *err)
{
    (void)err;
    int64_t n = 1;
    for (int d = 0; d < n_dims; d++)
        n *= shape[d];
    dtype_to_f32(DTYPE_BF16, store_get(ctx, name, n_dims, shape), dst, (size_t)n);
    return GE_OK;
}

static int store_view_raw(void *ctx, const char *name, int n_dims, const int64_t *shape, enum dtype *dtype,
                          const void **data)
{
    *dtype = DTYPE_BF16;
    *data = store_get(ctx, name, n_dims, shape);
    return 1;
}

/* A loaded model with its state, scratch and tokens, ready to time. */
/* Loads cfg from src and prints how much of it is converted on use. */
static int runner_init(struct bench_runner *r, const struct model_config *cfg, const struct tensor_source *src,
                       const struct options *o, struct ge_error *err)
{
    int rc = bench_runner_init(r, cfg, src, o->n_tokens, o->n_decode, err);
    if (rc == GE_OK)
        fprintf(stderr, "  loaded in %.1f s: %lld lazy matrices, %.1f MB of conversion scratch\n", r->load_seconds,
                (long long)r->t->n_lazy, (double)r->t->lazy_floats * 4e-6);
    return rc;
}

static int parse_args(int argc, char **argv, struct options *o)
{
    *o = (struct options){.n_tokens = 512, .n_experts = 0, .n_decode = 8, .reps = 5, .threads = 0};
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
        else if (i + 1 < argc && strcmp(a, "--threads") == 0)
            o->threads = atoi(argv[++i]);
        else {
            printf("usage: bench_mapped [--tokens N (512)] [--experts E (0: dense)] [--decode N (8)] [--reps N (5)]\n"
                   "                    [--threads N (OpenBLAS default)]\n");
            return strcmp(a, "--help") == 0 ? 0 : 2;
        }
    }
    if (o->n_tokens < 1 || o->n_tokens > 8192 || o->n_experts < 0 || o->n_experts == 1 || o->n_decode < 0 ||
        o->reps < 1 || o->reps > 100) {
        fprintf(stderr, "bench_mapped: --tokens must be in [1, 8192], --experts 0 or >= 2, --reps in [1, 100]\n");
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
    struct model_config cfg;
    glam_0p1b(&cfg, o.n_experts);
    int64_t n_total, n_active;
    transformer_count_params(&cfg, &n_total, &n_active);
    printf("bench_mapped: BF16 GLaM 0.1B%s shape (%.3fB parameters), prompt %lld tokens, %lld decode steps, "
           "OpenBLAS threads %d, %d paired repetitions (medians; a warm-up run first)\n",
           o.n_experts > 0 ? "/E" : "", (double)n_total * 1e-9, (long long)o.n_tokens, (long long)o.n_decode,
           openblas_get_num_threads(), o.reps);

    struct bf16_store store = {0};
    struct tensor_source eager_src = {.ctx = &store, .read_f32 = store_read};
    struct tensor_source lazy_src = {.ctx = &store, .read_f32 = store_read, .view_raw = store_view_raw};
    struct bench_runner eager, lazy;
    fprintf(stderr, "converted at load (f32):\n");
    if (runner_init(&eager, &cfg, &eager_src, &o, &err) != GE_OK) {
        fprintf(stderr, "bench_mapped: %s\n", err.msg);
        return 1;
    }
    fprintf(stderr, "converted on use (mapped):\n");
    if (runner_init(&lazy, &cfg, &lazy_src, &o, &err) != GE_OK) {
        fprintf(stderr, "bench_mapped: %s\n", err.msg);
        return 1;
    }
    double e_tps[101], l_tps[101], r_prompt[101], e_dec[101], l_dec[101], r_dec[101];
    int k = 0;
    for (int rep = 0; rep <= o.reps; rep++) {
        double te = bench_runner_prompt(&eager), de = bench_runner_decode(&eager);
        double tl = bench_runner_prompt(&lazy), dl = bench_runner_decode(&lazy);
        if (memcmp(eager.logits, lazy.logits, (size_t)cfg.vocab_size * sizeof(float)) != 0) {
            fprintf(stderr, "bench_mapped: the two loads' logits differ\n");
            return 1;
        }
        if (rep == 0)
            continue;
        e_tps[k] = (double)o.n_tokens / te;
        l_tps[k] = (double)o.n_tokens / tl;
        r_prompt[k] = te / tl;
        e_dec[k] = de;
        l_dec[k] = dl;
        r_dec[k] = dl > 0 ? de / dl : 0;
        k++;
    }
    printf("  prompt: f32 %.0f tokens/s, mapped %.0f tokens/s; mapped/f32 = %.2f\n", median(e_tps, k),
           median(l_tps, k), median(r_prompt, k));
    if (o.n_decode > 0)
        printf("  decode: f32 %.1f ms/token, mapped %.1f ms/token; mapped/f32 tokens/s = %.3f\n",
               median(e_dec, k) * 1e3, median(l_dec, k) * 1e3, median(r_dec, k));
    printf("  (identical logits on both paths in every repetition)\n");
    bench_runner_release(&eager);
    bench_runner_release(&lazy);
    store_release(&store);
    return 0;
}
