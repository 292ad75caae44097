/* endpoint_http.h — the transport of the remote endpoint backend: many HTTP requests in flight over one libcurl
 * multi handle, spread over several base URLs that serve the same model, with timeouts, retries and a dead-endpoint
 * rule. It knows nothing about OpenAI payloads; model/endpoint.c builds the bodies and checks the answers.
 *
 * Policy (written once, here):
 *   - At most `concurrency` transfers in flight; connections are reused (the multi handle's pool), HTTP/1.1
 *     keep-alive on http://, HTTP/2 where a https:// server offers it (ALPN), multiplexed when it does.
 *   - Retried, with exponential backoff and jitter (delay drawn uniformly from [b/2, b), b = base * 2^attempt,
 *     capped at max): connection errors, timeouts (connect and total), a reset or truncated transfer, HTTP 408,
 *     429 and 5xx, and a 2xx answer the caller's check rejects (malformed JSON, wrong number of choices, ...).
 *     A Retry-After header (seconds or an HTTP date) replaces the computed delay (capped at max).
 *   - Not retried: any other 4xx (and 1xx/3xx): the call finishes with its status and body for the caller to
 *     report; a response larger than the limit.
 *   - An endpoint with `dead_after` consecutive connection-level failures (no HTTP answer at all) is taken out of
 *     rotation for the rest of the process; when every endpoint is out, the run fails.
 *   - A call that still fails after max_retries retries fails the whole endpoint_http_run (GE_ERR_IO) with a
 *     message naming the URL and the last failure; the transfers still in flight are abandoned.
 * Randomness (jitter) comes from an explicitly seeded generator. The API key is only ever put into the
 * Authorization header; it never appears in a message. Not thread-safe: one thread drives a struct endpoint_http. */
#ifndef GE_MODEL_ENDPOINT_HTTP_H
#define GE_MODEL_ENDPOINT_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "harness/error.h"

#define ENDPOINT_HTTP_MAX_URLS 64
#define ENDPOINT_HTTP_MAX_CONCURRENCY 1024
#define ENDPOINT_HTTP_DEFAULT_MAX_RESPONSE ((size_t)256 << 20) /* bytes of one response body */

struct endpoint_http_options {
    size_t concurrency;        /* transfers in flight, 1..ENDPOINT_HTTP_MAX_CONCURRENCY */
    long connect_timeout_ms;   /* per attempt; > 0 */
    long timeout_ms;           /* whole attempt (connect + send + wait + receive); > 0 */
    int max_retries;           /* retries per call after the first attempt, >= 0 */
    double backoff_base_s;     /* b for the first retry, seconds */
    double backoff_max_s;      /* ceiling of any delay, Retry-After included, seconds */
    int dead_after;            /* consecutive connection failures that take an endpoint out of rotation, >= 1 */
    size_t max_response;       /* bytes of one response body; 0 = ENDPOINT_HTTP_DEFAULT_MAX_RESPONSE */
    uint64_t seed;             /* jitter seed */
    const char *api_key;       /* borrowed; NULL = no Authorization header */
    FILE *log;                 /* borrowed; retries and endpoints taken out are reported here; NULL = silent */
};

/* Defaults: concurrency 16, connect timeout 10 s, timeout 600 s, 5 retries, backoff 0.5 s .. 60 s, dead after 3. */
void endpoint_http_options_init(struct endpoint_http_options *opt);

/* Checks the caller's answer to a 2xx response; GE_OK accepts it, anything else makes the attempt fail (retried)
 * with err's message. */
typedef int (*endpoint_check_fn)(void *ctx, const char *body, size_t len, struct ge_error *err);

/* One HTTP exchange. Invariant after endpoint_http_run returned GE_OK: done == 1 and status is the final HTTP
 * status (2xx: check accepted body; otherwise a non-retried status whose body is kept for the message). */
struct endpoint_call {
    const char *path;          /* borrowed; appended to the base URL, e.g. "/completions" */
    const char *body;          /* borrowed JSON to POST; NULL = GET */
    endpoint_check_fn check;   /* optional */
    void *check_ctx;           /* borrowed */
    /* results */
    long status;               /* final HTTP status */
    char *response;            /* owned (free); the final body, NUL-terminated */
    size_t response_len;
    int attempts;              /* attempts made */
    int done;
    size_t endpoint;           /* index of the URL that gave the final answer */
};

struct endpoint_http; /* opaque */

/* Copies the base URLs (trailing '/' removed; each must start with http:// or https://). */
int endpoint_http_new(const char *const *urls, size_t n_urls, const struct endpoint_http_options *opt,
                      struct endpoint_http **out, struct ge_error *err);
void endpoint_http_free(struct endpoint_http *h);

/* Runs calls[0..n) to completion (see the policy above). Fills each call's results; the caller frees
 * call->response (endpoint_call_release). */
int endpoint_http_run(struct endpoint_http *h, struct endpoint_call *calls, size_t n, struct ge_error *err);
void endpoint_call_release(struct endpoint_call *c);

/* The base URL i (borrowed), and the number of URLs. */
const char *endpoint_http_url(const struct endpoint_http *h, size_t i);
size_t endpoint_http_n_urls(const struct endpoint_http *h);
/* 1 when URL i is still in rotation. */
int endpoint_http_alive(const struct endpoint_http *h, size_t i);

/* Counters since endpoint_http_new. */
struct endpoint_http_stats {
    uint64_t n_attempts;   /* HTTP attempts started */
    uint64_t n_retries;    /* of those, retries */
    uint64_t n_calls;      /* calls finished */
};
void endpoint_http_get_stats(const struct endpoint_http *h, struct endpoint_http_stats *out);

#endif
