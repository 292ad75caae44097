/* bench_runner.c — see bench_runner.h. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "bench/bench_runner.h"
#include "harness/rng.h"
#include "harness/xalloc.h"

double bench_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void bench_runner_release(struct bench_runner *r)
{
    transformer_work_free(r->w);
    transformer_state_free(r->s);
    transformer_free(r->t);
    free(r->tokens);
    free(r->logits);
    *r = (struct bench_runner){0};
}

int bench_runner_init(struct bench_runner *r, const struct model_config *cfg, const struct tensor_source *src,
                      int64_t n_tokens, int64_t n_decode, struct ge_error *err)
{
    *r = (struct bench_runner){.n_tokens = n_tokens, .n_decode = n_decode};
    int64_t n_ctx = n_tokens + n_decode;
    double t0 = bench_now_s();
    int rc = transformer_load(cfg, src, &r->t, err);
    r->load_seconds = bench_now_s() - t0;
    if (rc == GE_OK)
        rc = transformer_state_new(r->t, n_ctx, &r->s, err);
    if (rc == GE_OK)
        rc = transformer_work_new(r->t, n_tokens, n_ctx, TRANSFORMER_PATH_FAST, &r->w, err);
    if (rc != GE_OK) {
        bench_runner_release(r);
        return rc;
    }
    r->tokens = xmalloc((size_t)n_ctx * sizeof(int32_t));
    r->logits = xmalloc((size_t)cfg->vocab_size * sizeof(float));
    struct rng g;
    rng_seed(&g, 1);
    for (int64_t i = 0; i < n_ctx; i++)
        r->tokens[i] = (int32_t)rng_below(&g, (uint64_t)cfg->vocab_size);
    return GE_OK;
}

double bench_runner_prompt(struct bench_runner *r)
{
    struct ge_error err;
    transformer_state_reset(r->s);
    struct transformer_seq q = {.state = r->s, .tokens = r->tokens, .n_tokens = r->n_tokens,
                                .logits_from = r->n_tokens - 1, .logits = r->logits};
    double t0 = bench_now_s();
    if (transformer_forward_batch(r->t, r->w, &q, 1, &err) != GE_OK) {
        fprintf(stderr, "bench: %s\n", err.msg);
        exit(1);
    }
    return bench_now_s() - t0;
}

double bench_runner_decode(struct bench_runner *r)
{
    struct ge_error err;
    double t0 = bench_now_s();
    for (int64_t i = 0; i < r->n_decode; i++)
        if (transformer_forward(r->t, r->w, r->s, r->tokens + r->n_tokens + i, 1, r->logits, &err) != GE_OK) {
            fprintf(stderr, "bench: %s\n", err.msg);
            exit(1);
        }
    return r->n_decode > 0 ? (bench_now_s() - t0) / (double)r->n_decode : 0.0;
}
