/* server_api.h — the wire format of `glam-eval serve`: OpenAI's legacy completions API as vLLM implements it,
 * vLLM's /tokenize, /detokenize and /tokenizer_info, and OpenAI's error object. Parsing turns a request body into
 * engine jobs (model/server_engine.h); building turns finished jobs into the response body. No sockets here:
 * harness/serve_http.c moves the bytes.
 *
 * Token strings and offsets (what `logprobs` reports). Let T be the returned text's bytes before any stop cut:
 * with echo, the prompt, followed by the generated tokens' pieces; without echo, only the latter. A text prompt is
 * echoed as sent whenever its tokens spell it: a special token's text in it ("</s>"), which the encoder turned
 * into that token as the local runtime does, covers that text, and the dummy-prefix space the encoder puts at the
 * start of the text and after such a token covers nothing. A token-id prompt, or a text its tokens do not spell
 * (characters outside the vocabulary), is echoed decoded (tokenizer_decode: control tokens dropped, the
 * dummy-prefix space stripped). Each token covers the bytes it adds to
 * T; a token string is the run of whole characters that end within its bytes (so the pieces of a character split
 * over byte-fallback tokens form one string on the token that completes it, the others are "", as vLLM's
 * incremental detokenizer gives them), control tokens (BOS, EOS) are "", and bytes that are not UTF-8 become
 * U+FFFD. text_offset is the token string's start in characters (code points, as Python's len), so
 * text[text_offset[i] : text_offset[i] + len(tokens[i])] == tokens[i] for every token within the text (the last
 * generated token may reach past a stop cut). top_logprobs[i] maps the scored token's string to its log-prob, then
 * each of the `logprobs` most probable tokens (over the model's whole vocabulary, so the greedy check agrees with
 * `glam-eval loglik`'s is_greedy) by its own string: its piece when that is valid UTF-8, else its vocabulary
 * text (e.g. "<0xE2>"), control tokens by their text ("</s>"), ids the tokenizer does not know as "token_id:N";
 * when two tokens have the same string the more probable is kept (even over the scored token's own entry, so the
 * greedy check never sees a more probable token hidden behind the scored one). Log-probs below -9999 are reported
 * as -9999.0 (vLLM's floor; JSON has no -Infinity). */
#ifndef GE_MODEL_SERVER_API_H
#define GE_MODEL_SERVER_API_H

#include <stddef.h>
#include <stdint.h>

#include "harness/error.h"
#include "model/model.h"
#include "model/server_engine.h"
#include "model/tokenizer.h"

#define SERVER_MAX_PROMPTS 4096 /* prompts in one completion request */

/* What the API serves. Invariants: m comes from runtime_open; 1 <= max_prompt_tokens <= max_length. */
struct server_model {
    const struct model *m;      /* borrowed runtime backend */
    const struct tokenizer *tok;/* borrowed, runtime_tokenizer(m) */
    char name[256];             /* the model id clients must send ("model") */
    int64_t max_length;         /* context window in tokens */
    int64_t max_prompt_tokens;  /* longest accepted prompt in tokens */
    int64_t vocab;              /* the model's vocabulary (logits width) */
};

/* An error as the API reports it: HTTP status and OpenAI's {"error": {message, type, param, code}}. */
struct api_error {
    int status;                 /* HTTP status, 400..599 */
    const char *type;           /* static string, e.g. "invalid_request_error" */
    const char *code;           /* static string or NULL (JSON null) */
    const char *param;          /* static string or NULL */
    char message[GE_ERROR_MSG_CAP];
};

/* Fills e and returns its status. */
int api_error_set(struct api_error *e, int status, const char *type, const char *code, const char *param,
                  const char *fmt, ...) __attribute__((format(printf, 6, 7)));
/* The error's JSON body (heap string, the caller frees it). */
char *api_error_json(const struct api_error *e);

/* Where a prompt's tokens came from, for its echo. Invariant: n_lead <= the job's n_prompt. */
struct completion_prompt {
    char *text;                 /* a text prompt as sent (owned, NUL-terminated), or NULL for token ids */
    size_t n_lead;              /* leading tokens not from the text: the BOS rule's, or the prefix token that
                                   stands for an empty text */
};

/* A parsed completion request. Invariant: 1 <= n_jobs <= SERVER_MAX_PROMPTS; jobs and prompts are the caller's
 * (completion_request_release releases each job with server_job_release and frees the rest). */
struct completion_request {
    struct server_job **jobs;   /* (n_jobs) one per prompt, each with one reference */
    struct completion_prompt *prompts; /* (n_jobs) */
    size_t n_jobs;
};

/* Parses a POST /v1/completions body into jobs: prompt (string, list of strings, list of token ids, or list of
 * lists of ids), model, max_tokens (default 16, >= 0), echo, logprobs (0..TOPLOGPROBS_MAX), stop (string or
 * list), temperature (absent or 0), n / best_of (absent or 1), stream (absent or false), vLLM's sampling options
 * (top_p, top_k, min_p, min_tokens, repetition_penalty, ignore_eos) absent or at their neutral values; other fields
 * are ignored. Text prompts are encoded with the backend's BOS rule; an empty one becomes the prefix token. Returns
 * 0, or the HTTP status with *ae filled (404 for another model, 400 for everything else). Every parser here
 * refuses a body with a \u0000 escape in any string (400 naming the member): cJSON would end the string there. */
int server_api_parse_completion(const struct server_model *sm, const char *body, size_t len,
                                struct completion_request *out, struct api_error *ae);
void completion_request_release(struct server_engine *e, struct completion_request *req);

/* The response body of finished jobs (each job's rc == GE_OK). serial makes the id "cmpl-<serial>". Returns 0 and
 * a heap string in *body, or 500 with *ae filled. */
int server_api_completion_response(const struct server_model *sm, const struct completion_request *req,
                                   uint64_t serial, char **body, struct api_error *ae);

/* POST /tokenize: {"prompt": text, "add_special_tokens": bool (default true), "return_token_strs": bool}
 * -> {"count", "max_model_len", "tokens", "token_strs"}. POST /detokenize: {"tokens": [ids]} -> {"prompt"}.
 * GET /v1/models, GET /tokenizer_info. Each returns 0 and a heap string, or a status with *ae filled. */
int server_api_tokenize(const struct server_model *sm, const char *body, size_t len, char **out,
                        struct api_error *ae);
int server_api_detokenize(const struct server_model *sm, const char *body, size_t len, char **out,
                          struct api_error *ae);
int server_api_models(const struct server_model *sm, char **out, struct api_error *ae);
int server_api_tokenizer_info(const struct server_model *sm, char **out, struct api_error *ae);

#endif
