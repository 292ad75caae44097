/* endpoint.h — the remote backend: a model served behind OpenAI-compatible /v1/completions endpoints (vLLM, TGI,
 * glam-eval serve, ...), one or several URLs serving the same model, behind the interface of model/model.h.
 *
 * Requests follow lm-evaluation-harness's local-completions backend: loglikelihood posts the whole prompt with
 * echo=true, logprobs=1, temperature 0 and max_tokens 0 (1 where the server refuses 0; the generated position is
 * dropped) and sums the continuation positions' token_logprobs; generation posts the prompt with max_tokens, stop
 * and temperature 0. With a local tokenizer (endpoint_options.tokenizer_path) prompts go as token ids, encoded and
 * split exactly as the runtime does (model/request_tokens.h; BOS per the tokenizer or --bos) and left-truncated to
 * max_length tokens as lm-eval's API models do; without one they go as text and the continuation is located with
 * text_offset (endpoint_parse.h says how, including a token that straddles the boundary).
 *
 * At open the backend asks /v1/models for the model id (unless given) and probes once whether the server returns
 * prompt log-probabilities in a shape this client can score (text mode: text_offset that locates the tokens in the
 * echo; token mode: one position per id sent); if not, every loglikelihood call fails at once with a message
 * naming the server and the reason (generation still works). Token mode with several prompts per request also
 * needs the server's echo of ids to be their text, which is how a choice is matched to its prompt. Transport
 * faults are handled by model/endpoint_http.h; a batch
 * whose request still fails after the retries fails the whole call, so the run loop stores none of it and a
 * resumed run asks again. A 4xx answer other than 408/429 is final: 400/413/422 (the server refuses this one
 * request, e.g. a prompt longer than its window) becomes that request's error; 401/403/404 and the rest fail the
 * call naming the status and the server's message.
 *
 * Identity (results/identity.h, remote): URL = the sorted URLs joined by spaces; model name = the served id plus
 * " tokens:<sha256 of the tokenizer file> bos:<0|1>" when prompts are token ids, " text" otherwise. The API key
 * is read from the environment variable named by api_key_env and never stored, logged or put in a message. */
#ifndef GE_MODEL_ENDPOINT_H
#define GE_MODEL_ENDPOINT_H

#include <stddef.h>
#include <stdint.h>

#include "harness/error.h"
#include "model/endpoint_http.h"
#include "model/model.h"
#include "model/runtime.h"

struct endpoint_options {
    const char *const *urls;      /* borrowed (n_urls) base URLs, e.g. http://127.0.0.1:8000/v1 */
    size_t n_urls;
    const char *model_name;       /* borrowed; NULL = the one model /v1/models lists */
    const char *api_key_env;      /* borrowed; NULL = no key */
    const char *tokenizer_path;   /* borrowed; NULL = text prompts */
    int64_t max_length;           /* context window in tokens for truncation and few-shot fitting; 0 = unknown */
    enum runtime_bos bos;         /* BOS rule for token-id prompts */
    size_t prompts_per_request;   /* prompts batched into one HTTP request, >= 1 */
    uint64_t seed;                /* sent as "seed" and used for retry jitter */
    struct endpoint_http_options http;
};

void endpoint_options_init(struct endpoint_options *opt);

/* Opens the backend: checks the options, loads the tokenizer, resolves the model name and probes echo support.
 * Errors name the URL and what failed. */
int endpoint_open(const struct endpoint_options *opt, struct model *out, struct ge_error *err);

/* For a model from endpoint_open (NULL or 0 otherwise): the URL set and served model id as stored in the models
 * table (borrowed), whether the server returns prompt log-probabilities (else err says why), the tokenizer and the
 * context window. */
const char *endpoint_url_set(const struct model *m);
const char *endpoint_served_model(const struct model *m);
int endpoint_check_loglikelihood(const struct model *m, struct ge_error *err);
int64_t endpoint_max_length(const struct model *m);
/* Tokens of text as the start of a prompt (BOS rule included); needs a tokenizer (GE_ERR_USAGE otherwise). */
int endpoint_count_tokens(void *m, const char *text, int64_t *n_tokens, struct ge_error *err);
int endpoint_has_tokenizer(const struct model *m);
int endpoint_is(const struct model *m);

#endif
