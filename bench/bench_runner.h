/* bench_runner.h — a transformer loaded for timing: a random prompt processed from an empty cache, then one-token
 * decoding steps. Shared by bench/bench_forward.c and bench/bench_mapped.c; not part of libglam. */
#ifndef GE_BENCH_RUNNER_H
#define GE_BENCH_RUNNER_H

#include <stdint.h>

#include "harness/error.h"
#include "model/transformer.h"

struct bench_runner {
    struct transformer *t;
    struct transformer_state *s;
    struct transformer_work *w;
    int32_t *tokens;       /* (n_tokens + n_decode) random ids, seed 1 */
    float *logits;         /* (V) */
    int64_t n_tokens, n_decode;
    double load_seconds;   /* transformer_load's wall time */
};

/* Monotonic seconds. */
double bench_now_s(void);
/* Loads cfg from src with a work area of n_tokens tokens per pass. On failure r is released. */
int bench_runner_init(struct bench_runner *r, const struct model_config *cfg, const struct tensor_source *src,
                      int64_t n_tokens, int64_t n_decode, struct ge_error *err);
void bench_runner_release(struct bench_runner *r);
/* Seconds to process the prompt from an empty cache, logits for its last token only (as when scoring). Exits the
 * program on a forward error (a benchmark has nothing to recover). */
double bench_runner_prompt(struct bench_runner *r);
/* Seconds per token of n_decode one-token steps after the prompt (call bench_runner_prompt first). */
double bench_runner_decode(struct bench_runner *r);

#endif
