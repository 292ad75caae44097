/* data_http.h — HTTP GET with libcurl for `glam-eval data fetch`: retries with backoff, Retry-After, timeouts,
 * bounded bodies, and resumable file downloads (Range).
 *
 * Failure policy, written once: a request that fails transiently — connection refused or dropped, a body cut short,
 * no progress for timeout_s seconds, HTTP 429 or any 5xx — is retried up to max_retries times. Before retry k
 * (1-based) it waits what the server's Retry-After header asks (seconds or an HTTP date; more than max_wait_s is
 * an error naming the wait), else base_wait_ms * 2^(k-1), at most 60 s. Every retry is announced on the log
 * stream. Any other status fails at once with the status, the URL and the server's own message (the "error"
 * field of a JSON body, else the body's first 300 bytes): GE_ERR_NOTFOUND for 401, 403, 404, 410 and 501 (the
 * server cannot or will not serve this; 501 is the dataset viewer's answer for datasets it does not support, so
 * it is not retried), GE_ERR_IO otherwise (e.g. 422). Only http and https URLs are
 * followed, redirects included.
 *
 * Invariant of struct http_client: curl is a valid easy handle between init and release; the client holds no
 * per-request state between calls. */
#ifndef GE_TASK_DATA_HTTP_H
#define GE_TASK_DATA_HTTP_H

#include <stdint.h>
#include <stdio.h>

#include "harness/error.h"
#include "harness/strbuf.h"

struct http_client {
    void *curl;            /* CURL *, owned */
    long timeout_s;        /* seconds without a byte (and for connecting) before a request counts as failed */
    unsigned max_retries;  /* retries after the first attempt */
    unsigned base_wait_ms; /* first backoff wait without Retry-After, doubled per retry */
    unsigned max_wait_s;   /* longest Retry-After honoured */
    FILE *log;             /* borrowed; retry notices, may be NULL */
};

/* Initialises libcurl (once per client; paired with http_client_release). */
int http_client_init(struct http_client *hc, long timeout_s, unsigned max_retries, unsigned base_wait_ms,
                     unsigned max_wait_s, FILE *log, struct ge_error *err);
void http_client_release(struct http_client *hc);

/* GETs url into body (reset first; its limit bounds the response, exceeding it is GE_ERR_LIMIT). Succeeds only
 * on HTTP 200. */
int http_get_body(struct http_client *hc, const char *url, struct strbuf *body, struct ge_error *err);

/* GETs url into the file at path, continuing from the file's current size with a Range request (a server that
 * answers 200 instead of 206 restarts the file from byte 0; 416 on a non-empty file means it is complete).
 * Creates the file when missing. *bytes_out gets the final size. */
int http_get_file(struct http_client *hc, const char *url, const char *path, uint64_t *bytes_out,
                  struct ge_error *err);

/* Appends s percent-encoded for a URL query value (RFC 3986 unreserved characters kept). */
int http_append_query_value(struct strbuf *out, const char *s, struct ge_error *err);

#endif
