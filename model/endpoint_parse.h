/* endpoint_parse.h — reading OpenAI-compatible /v1/completions and /v1/models responses into our own structs, and
 * locating a continuation's positions in an echoed prompt, exactly as lm-evaluation-harness's local-completions
 * backend (lm_eval/models/openai_completions.py, api_models.py) does.
 *
 * Format (OpenAI "legacy" completions, as served by vLLM, TGI's OpenAI layer and glam-eval serve):
 *   {"choices": [{"index": i, "text": "...", "finish_reason": "...",
 *                 "logprobs": {"tokens": [s...], "token_logprobs": [null|x...], "top_logprobs": [null|{s: x}...],
 *                              "text_offset": [n...]}}...],
 *    "usage": {"completion_tokens": n, ...}}
 * With echo=true the arrays start with the prompt's tokens (the first has a null log-prob: nothing predicts it)
 * followed by the max_tokens generated ones. text_offset counts Unicode code points from the start of the prompt,
 * as OpenAI and vLLM (Python string indices) do.
 *
 * text_offset is not trusted: servers build it in ways that do not locate the tokens in the echoed text (vLLM
 * adds up the lengths of per-token strings, where BOS is "<s>" and a byte that does not complete a character is
 * U+FFFD, so every later offset is shifted; SGLang sends -1, "not supported yet"). It is only read in text mode,
 * and only after endpoint_choice_loglik has checked that every prompt token's string is the echoed text at its
 * offset. Offsets that are not whole numbers >= 0 are therefore not a parse error (token-id prompts never read
 * them): the choice then has no text_offset and says why in offset_problem.
 *
 * Every check that fails is an error naming the choice and the field; nothing is guessed: log-probabilities are
 * finite and <= 0, "text" is a string and a batch's choices carry "index". A NUL in a text is flagged, not an
 * error here (text_has_nul). Parsed cJSON trees never
 * leave this module. */
#ifndef GE_MODEL_ENDPOINT_PARSE_H
#define GE_MODEL_ENDPOINT_PARSE_H

#include <stddef.h>
#include <stdint.h>

#include "harness/error.h"

#define ENDPOINT_MAX_CHOICES 4096
#define ENDPOINT_MAX_TOKENS_PER_CHOICE ((size_t)1 << 24)

/* One choice. Invariant: the arrays, when present, all have n_tokens elements. */
struct endpoint_choice {
    char *text;              /* owned; "" when absent */
    size_t n_tokens;         /* positions in the logprobs arrays; 0 when the choice has no logprobs */
    double *token_logprobs;  /* (n_tokens) owned; NAN where the server sent null */
    double *top_max;         /* (n_tokens) owned; the largest top_logprobs value per position, NAN for null */
    int64_t *text_offset;    /* (n_tokens) owned, or NULL when the server sent none or unusable ones */
    char offset_problem[96]; /* why text_offset is NULL although the server sent one; "" otherwise */
    char **tokens;           /* (n_tokens) owned strings of logprobs.tokens, or NULL when absent or not strings */
    int has_logprobs;        /* 1 when "logprobs" was an object */
    int text_has_nul;        /* 1 when "text" holds a NUL (\u0000); text then has U+0001 in its place */
};

/* A parsed response. choices are in "index" order, which must be exactly 0..n-1. */
struct endpoint_completion {
    struct endpoint_choice *choices; /* (n_choices) owned */
    size_t n_choices;
    int64_t completion_tokens;       /* usage.completion_tokens, -1 when absent */
    int64_t prompt_tokens;           /* usage.prompt_tokens (all prompts of the request), -1 when absent */
};

void endpoint_completion_release(struct endpoint_completion *c);

/* Parses body[0..len). want_choices: the number of choices the request asked for (anything else is an error).
 * need_logprobs: every choice must carry logprobs with token_logprobs and top_logprobs arrays of equal length
 * (text_offset optional). On failure *out is empty and err names the choice and the field. */
int endpoint_parse_completion(const char *body, size_t len, size_t want_choices, int need_logprobs,
                              struct endpoint_completion *out, struct ge_error *err);

/* The model ids of a /v1/models response ({"data": [{"id": ...}...]}): writes up to cap owned strings to ids and
 * sets *n_ids to how many there are in all. */
int endpoint_parse_models(const char *body, size_t len, char **ids, size_t cap, size_t *n_ids, struct ge_error *err);

/* The server's error message from an error body ({"error": {"message": ...}}, {"error": "..."}, {"detail": ...}
 * or the raw text), cut to cap - 1 bytes, into out. Never fails. */
void endpoint_error_message(const char *body, size_t len, char *out, size_t cap);

/* The log-likelihood of the continuation in an echoed choice, whose request asked for n_gen (max_tokens) generated
 * positions after the prompt's; those are dropped.
 * Token mode (n_cont > 0: the prompt went as n_prompt token ids): the choice must have exactly n_prompt + n_gen
 * positions (a server that adds a BOS to token ids returns one more, and every position would be shifted), and the
 * scored ones are [n_prompt - n_cont, n_prompt).
 * Text mode (n_cont == 0; n_prompt is ignored): the prompt positions are the first n_tokens - n_gen. Their
 * text_offset is checked against the echoed text (ch->text, which the caller has checked starts with the prompt)
 * and logprobs.tokens: offsets start at 0 and never decrease, text[off[i] : off[i] + len(tokens[i])] == tokens[i]
 * in code points for every prompt token, and the last one ends at prompt_cp. When that does not hold the offsets
 * cannot split this prompt and the result is GE_ERR_STATE (the server's convention, not a damaged answer: asking
 * again gives the same; the caller tells the user to send token ids). Then first = the first position whose
 * text_offset is at or after ctx_cp code points. A token that straddles the boundary (starts before ctx_cp, ends
 * after it) belongs to the context and is not scored: the continuation then begins at the next token.
 * is_greedy follows lm-eval: every scored token's log-prob equals the largest of its top_logprobs (one above them
 * all is an inconsistent answer: an error).
 * per_token (may be NULL) gets a malloc'ed copy of the scored log-probs. Errors: GE_ERR_FORMAT (a malformed
 * answer, naming the field), GE_ERR_STATE (text mode: offsets that do not locate the tokens), GE_ERR_USAGE (the
 * request cannot be scored from any answer, e.g. an empty context in text mode). */
int endpoint_choice_loglik(const struct endpoint_choice *ch, size_t n_prompt, size_t n_cont, size_t n_gen,
                           int64_t ctx_cp, int64_t prompt_cp, double *logprob, int64_t *n_scored, int *is_greedy,
                           double **per_token, struct ge_error *err);

#endif
