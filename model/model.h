/* model.h — the one interface every model backend implements: our C runtime (model/, a later milestone), the
 * remote OpenAI-compatible client, and test doubles in tests/.
 *
 * Semantics follow lm-evaluation-harness so scores are comparable:
 *  - loglikelihood: sum of log P(continuation tokens | context), the number of continuation tokens, and whether
 *    every continuation token is the greedy (argmax) choice. Trailing whitespace of the context moves to the
 *    continuation; context+continuation are encoded together and split at the context's token count.
 *  - loglikelihood_rolling: log-likelihood of a whole text in non-overlapping windows, every token scored once.
 *  - generate: greedy text until a stop string (matched on decoded text), EOS or max_tokens. Beam search fields
 *    are in the request so the interface does not change when it lands; backends reject what they cannot do.
 * A backend is an ops table plus an opaque self pointer; ops may be NULL where marked optional, and the harness
 * checks before use. Every op borrows its inputs; results are written into caller-provided arrays, and strings
 * in results are heap-allocated and owned by the caller afterwards (free with model_gen_result_release). */
#ifndef GE_MODEL_H
#define GE_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "harness/error.h"

struct ll_request {
    const char *context;      /* borrowed UTF-8 */
    const char *continuation; /* borrowed UTF-8; for rolling requests the whole text, context unused */
    int want_token_logprobs;  /* 1: also return the log-probability of each continuation token */
};

struct ll_result {
    double logprob;           /* natural-log sum over continuation tokens */
    int64_t n_tokens;         /* continuation tokens scored */
    int is_greedy;            /* 1 when every continuation token was the argmax */
    int truncated;            /* 1 when the context was left-truncated to fit the window */
    double *token_logprobs;   /* (n_tokens) per-token log-probs when requested, else NULL; owned by the caller
                                 after the call (model_ll_result_release) */
    char *error;              /* why this one request has no result (e.g. its continuation is longer than the
                                 context window), else NULL; the other fields are then unset. Owned by the caller
                                 (model_ll_result_release). A backend fails the whole call only for errors that
                                 are not about one request. */
};

struct gen_request {
    const char *context;      /* borrowed UTF-8 prompt */
    const char *const *stop;  /* borrowed array of n_stop stop strings */
    size_t n_stop;
    int64_t max_tokens;       /* generation limit in tokens, > 0 */
    int beam_width;           /* 1 = greedy */
    double length_penalty;    /* beam search only; 1.0 = none */
};

struct gen_result {
    char *text;               /* owned by the caller after the call; never NULL on success unless error is set */
    int64_t n_tokens;         /* tokens generated */
    int truncated;            /* 1 when the prompt was left-truncated to leave room for max_tokens in the window */
    char *error;              /* why this one request has no answer (e.g. an endpoint refused its prompt as too
                                 long), else NULL; text is then NULL. Owned by the caller (model_gen_result_release);
                                 as for ll_result, a backend fails the whole call only for errors not about one
                                 request */
};

/* What a backend says about itself; copied into the models table. */
struct model_info {
    char identity[65];        /* lowercase hex SHA-256 identifying weights+config+tokenizer or URL+model name */
    char name[256];           /* human-readable name (path or served model id) */
    char kind[16];            /* "local" or "remote" */
    char architecture[64];    /* e.g. "llama", "glam", "mixtral"; "" when unknown */
    char dtype[16];           /* weight dtype, e.g. "f32", "bf16"; "" when unknown */
    int64_t context_length;   /* tokens; 0 when unknown */
    int64_t n_params;         /* total parameters; 0 when unknown */
    int64_t n_active_params;  /* parameters activated per token (MoE: shared + top-k experts); 0 when unknown */
    double flops_per_token;   /* forward FLOPs per token (2 x activated matmul params); 0 when unknown */
};

/* Where a backend reports each request's result as soon as it has it, before the call returns, so the harness
 * can commit it at once (a remote endpoint answers a batch over seconds; an interrupted run must not ask again
 * what was already answered). i is the request's index in the call's array; r is borrowed for the duration of
 * the callback and stays the call's result. Called on the calling thread, only for final, successful results
 * (never for a result that will carry an error). Both callbacks are optional. */
struct model_sink {
    void (*ll_done)(void *ctx, size_t i, const struct ll_result *r);
    void (*gen_done)(void *ctx, size_t i, const struct gen_result *r);
    void *ctx;
};

struct model_ops {
    const char *backend;      /* short name, e.g. "runtime", "openai" */
    int (*info)(void *self, struct model_info *info, struct ge_error *err);
    int (*loglikelihood)(void *self, const struct ll_request *reqs, size_t n, struct ll_result *out,
                         struct ge_error *err);
    int (*loglikelihood_rolling)(void *self, const struct ll_request *reqs, size_t n, struct ll_result *out,
                                 struct ge_error *err); /* optional */
    int (*generate)(void *self, const struct gen_request *reqs, size_t n, struct gen_result *out,
                    struct ge_error *err); /* optional */
    void (*free)(void *self);
    /* Optional: reports results through sink (borrowed) during the following calls, until set_sink(self, NULL).
     * A backend without it reports results only when its call returns. */
    void (*set_sink)(void *self, const struct model_sink *sink);
};

struct model {
    const struct model_ops *ops; /* never NULL */
    void *self;                  /* owned by the model; released by ops->free */
};

void model_gen_result_release(struct gen_result *r);
void model_ll_result_release(struct ll_result *r);

#endif
