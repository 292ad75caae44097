/* backend_open.h — one place that turns `--model` arguments into a backend: a checkpoint path opens the local
 * runtime (model/runtime.h), http(s):// URLs (one or more, or @FILE listing them) open the remote endpoint
 * backend (model/endpoint.h). Also the command-line options of the endpoint backend, shared by `run`, `loglik`
 * and `generate` so they are parsed and documented once.
 *
 * Invariant: a struct backend_options holds either one checkpoint path or 1..ENDPOINT_HTTP_MAX_URLS URLs, never
 * both (backend_add_model refuses the mix). */
#ifndef GE_MODEL_BACKEND_OPEN_H
#define GE_MODEL_BACKEND_OPEN_H

#include <getopt.h>
#include <stdint.h>

#include "harness/error.h"
#include "model/endpoint.h"
#include "model/model.h"
#include "model/runtime.h"
#include "results/store.h"

struct backend_options {
    const char *path;                            /* borrowed checkpoint path, or NULL */
    char *urls[ENDPOINT_HTTP_MAX_URLS];          /* owned (n_urls) */
    size_t n_urls;
    struct runtime_options rt;                   /* local runtime; max_length and bos also apply to endpoints */
    struct endpoint_options ep;                  /* remote; urls/max_length/bos filled by backend_open */
    int batch_size_given;                        /* set by the command when the user gave --batch-size */
};

void backend_options_init(struct backend_options *o);
void backend_options_release(struct backend_options *o);

/* Adds one --model value: a path, a URL, or @FILE (one URL per line; blank lines and # comments skipped). */
int backend_add_model(struct backend_options *o, const char *arg, struct ge_error *err);
/* 1 when the models given are endpoints. */
int backend_is_remote(const struct backend_options *o);

/* Option codes of the model options every model-using command shares (the endpoint options, --max-length and
 * --bos), for getopt_long tables: put BACKEND_LONG_OPTIONS in the table and pass codes >= BACKEND_OPT_FIRST to
 * backend_parse_option. */
enum {
    BACKEND_OPT_FIRST = 1000,
    BACKEND_OPT_MODEL_NAME = BACKEND_OPT_FIRST,
    BACKEND_OPT_API_KEY_ENV,
    BACKEND_OPT_TOKENIZER,
    BACKEND_OPT_CONCURRENCY,
    BACKEND_OPT_TIMEOUT,
    BACKEND_OPT_CONNECT_TIMEOUT,
    BACKEND_OPT_RETRIES,
    BACKEND_OPT_PROMPTS_PER_REQUEST,
    BACKEND_OPT_BACKOFF,
    BACKEND_OPT_MAX_LENGTH,
    BACKEND_OPT_BOS,
    BACKEND_OPT_LAST
};
#define BACKEND_LONG_OPTIONS \
    {"model-name", required_argument, NULL, BACKEND_OPT_MODEL_NAME}, \
    {"api-key-env", required_argument, NULL, BACKEND_OPT_API_KEY_ENV}, \
    {"tokenizer", required_argument, NULL, BACKEND_OPT_TOKENIZER}, \
    {"concurrency", required_argument, NULL, BACKEND_OPT_CONCURRENCY}, \
    {"timeout", required_argument, NULL, BACKEND_OPT_TIMEOUT}, \
    {"connect-timeout", required_argument, NULL, BACKEND_OPT_CONNECT_TIMEOUT}, \
    {"retries", required_argument, NULL, BACKEND_OPT_RETRIES}, \
    {"prompts-per-request", required_argument, NULL, BACKEND_OPT_PROMPTS_PER_REQUEST}, \
    {"backoff", required_argument, NULL, BACKEND_OPT_BACKOFF}, \
    {"max-length", required_argument, NULL, BACKEND_OPT_MAX_LENGTH}, \
    {"bos", required_argument, NULL, BACKEND_OPT_BOS}
#define BACKEND_USAGE \
    "Remote endpoints (--model http(s)://HOST:PORT/v1, repeatable, or --model @FILE of URLs):\n" \
    "  --model-name NAME   the served model id (default: the one /v1/models lists)\n" \
    "  --api-key-env VAR   send the key in environment variable VAR (never logged or stored)\n" \
    "  --tokenizer FILE    send prompts as token ids encoded with FILE (exact context/continuation split);\n" \
    "                      default: text prompts, split with text_offset\n" \
    "  --concurrency N     requests in flight (default 16)\n" \
    "  --timeout S         seconds per attempt (default 600); --connect-timeout S (default 10)\n" \
    "  --retries N         retries on connection errors, timeouts, 429, 5xx and bad answers (default 5)\n" \
    "  --backoff S         delay before the first retry, doubled each time, with jitter (default 0.5)\n" \
    "  --prompts-per-request N  prompts batched in one request (default 1)\n"

/* Handles one option code >= BACKEND_OPT_FIRST; GE_ERR_USAGE names the option on a bad value. */
int backend_parse_option(struct backend_options *o, int code, const char *arg, struct ge_error *err);

/* Opens the backend the options name (errors name the file or URL). Prints nothing. */
int backend_open(struct backend_options *o, struct model *out, struct ge_error *err);

/* Token counting and context window for few-shot fitting (harness/evaluate.h's count_tokens): NULL/0 when the
 * backend cannot count (an endpoint without --tokenizer or --max-length). */
typedef int (*backend_count_fn)(void *ctx, const char *text, int64_t *n_tokens, struct ge_error *err);
backend_count_fn backend_count_tokens(const struct model *m);
int64_t backend_max_length(const struct model *m);

/* Fills the models-table description of m (strings borrowed from info and m). */
void backend_store_model(const struct model *m, const struct model_info *info, struct store_model *sm);

/* Makes info describe the model as the options make it see its input: with --bos other than auto or a --max-length,
 * the tokens of a request can differ from the defaults', so info->identity becomes the SHA-256 of the checkpoint's
 * identity and those settings, and info->name gets them appended ("model.gguf [--bos never --max-length 512]").
 * A run stores that identity, so the response cache, --resume and merge never mix answers given under different
 * settings. Without those options info is unchanged (and so are identities stored before). */
void backend_settings_identity(const struct backend_options *o, struct model_info *info);

#endif
