/* cache.h — the response cache: a model's answer to a request, found again by (model identity hash, request
 * hash) so a re-run or another run of the same model on the same prompt need not ask the model again.
 *
 * Isolation invariant: an entry is keyed by BOTH hashes, never by the request alone, so one model's answer can
 * never be served for another. The model hash must name a stored model (foreign key to models.identity_hash).
 * store_put_responses (store.h) fills the cache itself, deriving the model hash from the run that owns each
 * request; cache_put is for callers that have answers outside a run. The first answer stored for a key stays:
 * later puts of the same key are ignored, so a cached answer never changes under a reader. */
#ifndef GE_CACHE_H
#define GE_CACHE_H

#include "harness/error.h"
#include "results/store.h"

/* Looks up (model_hash, request_hash). When present, *found = 1 and *out is filled (text and token_logprobs owned:
 * store_response_release; cached = 1; latency_ms is that of the original computation; request_id = 0). When
 * absent, *found = 0 and *out is zeroed. GE_ERR_USAGE when a hash is not 64 lowercase hex characters. */
int cache_get(struct store *st, const char *model_hash, const char *request_hash, struct store_response *out,
              int *found, struct ge_error *err);

/* Stores r's values (logprob, n_tokens, is_greedy, token_logprobs, text, latency_ms, truncated; borrowed) under
 * (model_hash, request_hash) in one transaction, unless the key is already present. GE_ERR_DB when model_hash
 * names no stored model; GE_ERR_USAGE for an error response (r->error set), which is never cached. */
int cache_put(struct store *st, const char *model_hash, const char *request_hash, const struct store_response *r,
              struct ge_error *err);

#endif
