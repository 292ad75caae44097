/* endpoint_echo.h — which prompt of a batch an echoed choice answers (model/endpoint.c, token-id prompts with
 * several prompts per request): a server echoes token ids as its own decoding of them, which differs from ours in
 * details, so both sides are reduced to what every decoder agrees on before they are compared.
 *
 * The reduction removes the control tokens' texts (BOS, EOS, UNK: "<s>", which vLLM's echo keeps and ours drops),
 * whitespace (SentencePiece's dummy prefix, spaces around special tokens and the clean-up of " ." differ between
 * decoders) and U+FFFD (a byte that does not complete a character: one per byte or per run). Prompts that differ
 * only in those cannot be told apart. Every function returns an owned string (free it). */
#ifndef GE_ENDPOINT_ECHO_H
#define GE_ENDPOINT_ECHO_H

#include <stddef.h>
#include <stdint.h>

#include "model/endpoint_parse.h"
#include "model/tokenizer.h"

/* s[0..len) reduced. */
char *endpoint_echo_norm(const struct tokenizer *tok, const char *s, size_t len);
/* ids[0..n) as tok decodes them, reduced; NULL when they do not decode. */
char *endpoint_ids_norm(const struct tokenizer *tok, const int32_t *ids, size_t n);
/* A choice's echoed prompt reduced: its text without the n_gen generated tokens' strings at its end. */
char *endpoint_choice_echo_norm(const struct tokenizer *tok, const struct endpoint_choice *ch, size_t n_gen);

#endif
