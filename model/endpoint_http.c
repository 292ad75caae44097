/* endpoint_http.c — many HTTP requests in flight over one libcurl multi handle, with retries, backoff and a
 * dead-endpoint rule (policy and contracts in endpoint_http.h).
 *
 * Structure: a fixed pool of `concurrency` slots, each owning one easy handle (reused, so its connection stays in
 * the multi handle's pool) and one bounded response buffer. endpoint_http_run keeps, per call, the earliest
 * monotonic time it may (re)start; each turn it fills free slots with ready calls (round robin over the URLs in
 * rotation), lets curl work, and settles finished transfers: accept, finish with a non-retried status, or schedule
 * a retry. A turn visits every call once, so a batch of n calls costs O(n) per turn on top of curl's work. */
#include "config.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "harness/rng.h"
#include "harness/strbuf.h"
#include "harness/xalloc.h"
#include "model/endpoint_http.h"

#define URL_CAP 2048

/* One base URL. Invariant: dead == 1 only while another URL is alive (the last one is never taken out). */
struct ep_url {
    char *base;               /* owned; no trailing '/' */
    int consecutive_failures; /* connection-level failures since its last HTTP answer */
    int dead;                 /* 1: out of rotation */
};

/* One transfer slot. Invariant: call == SIZE_MAX exactly when the slot is idle. */
struct slot {
    CURL *easy;               /* owned, reused across transfers */
    struct strbuf body;       /* response body of the current transfer, bounded by max_response */
    size_t call;              /* index into the running batch, SIZE_MAX = idle */
    size_t url;               /* index into urls */
    double retry_after_s;     /* from the Retry-After header, < 0 when absent */
    int too_large;            /* the body passed the limit */
    char errbuf[CURL_ERROR_SIZE];
    char url_buf[URL_CAP];
};

struct endpoint_http {
    struct ep_url urls[ENDPOINT_HTTP_MAX_URLS]; /* (n_urls) */
    size_t n_urls;
    size_t rr;                /* next URL for round robin */
    struct endpoint_http_options opt;
    char *api_key_header;     /* owned "Authorization: Bearer ..." or NULL; never printed */
    struct curl_slist *headers; /* owned */
    CURLM *multi;             /* owned */
    struct slot *slots;       /* (opt.concurrency) owned */
    struct rng rng;           /* jitter */
    struct endpoint_http_stats stats;
};

void endpoint_http_options_init(struct endpoint_http_options *opt)
{
    memset(opt, 0, sizeof *opt);
    opt->concurrency = 16;
    opt->connect_timeout_ms = 10000;
    opt->timeout_ms = 600000;
    opt->max_retries = 5;
    opt->backoff_base_s = 0.5;
    opt->backoff_max_s = 60.0;
    opt->dead_after = 3;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static size_t on_body(char *data, size_t size, size_t n, void *ud)
{
    struct slot *s = ud;
    size_t len = size * n;
    if (strbuf_append(&s->body, data, len, NULL) != GE_OK) {
        s->too_large = 1;
        return 0; /* makes curl stop with CURLE_WRITE_ERROR */
    }
    return len;
}

/* Retry-After: delta-seconds or an HTTP date (RFC 9110, section 10.2.3). */
static size_t on_header(char *data, size_t size, size_t n, void *ud)
{
    struct slot *s = ud;
    size_t len = size * n;
    static const char name[] = "retry-after:";
    if (len > sizeof name - 1 && len < 256 && strncasecmp(data, name, sizeof name - 1) == 0) {
        char v[256];
        size_t k = len - (sizeof name - 1);
        memcpy(v, data + sizeof name - 1, k);
        v[k] = '\0';
        char *p = v;
        while (*p == ' ' || *p == '\t')
            p++;
        char *end = p + strlen(p);
        while (end > p && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' '))
            *--end = '\0';
        char *stop = NULL;
        double secs = strtod(p, &stop);
        if (stop != p && *stop == '\0' && secs >= 0) {
            s->retry_after_s = secs;
        } else {
            time_t when = curl_getdate(p, NULL);
            if (when != (time_t)-1) { /* an HTTP date is wall-clock time by definition */
                double d = difftime(when, time(NULL));
                s->retry_after_s = d > 0 ? d : 0;
            }
        }
    }
    return len;
}

int endpoint_http_new(const char *const *urls, size_t n_urls, const struct endpoint_http_options *opt,
                      struct endpoint_http **out, struct ge_error *err)
{
    *out = NULL;
    if (n_urls == 0 || n_urls > ENDPOINT_HTTP_MAX_URLS)
        return ge_error_set(err, GE_ERR_USAGE, "endpoint: give 1 to %d URLs, not %zu", ENDPOINT_HTTP_MAX_URLS,
                            n_urls);
    if (opt->concurrency == 0 || opt->concurrency > ENDPOINT_HTTP_MAX_CONCURRENCY)
        return ge_error_set(err, GE_ERR_USAGE, "--concurrency must be 1..%d", ENDPOINT_HTTP_MAX_CONCURRENCY);
    if (opt->connect_timeout_ms <= 0 || opt->timeout_ms <= 0 || opt->max_retries < 0 || opt->dead_after < 1)
        return ge_error_set(err, GE_ERR_USAGE, "endpoint: timeouts must be > 0, retries >= 0, dead_after >= 1");
    for (size_t i = 0; i < n_urls; i++) {
        const char *u = urls[i];
        if (strncmp(u, "http://", 7) != 0 && strncmp(u, "https://", 8) != 0)
            return ge_error_set(err, GE_ERR_USAGE, "endpoint URL '%s' does not start with http:// or https://", u);
        if (strlen(u) + 64 >= URL_CAP)
            return ge_error_set(err, GE_ERR_LIMIT, "endpoint URL '%.64s...' is longer than %d bytes", u,
                                URL_CAP - 64);
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return ge_error_set(err, GE_ERR_IO, "endpoint: libcurl failed to initialise");
    struct endpoint_http *h = xcalloc(1, sizeof *h);
    h->opt = *opt;
    h->opt.api_key = NULL; /* kept only inside the header string */
    h->opt.log = opt->log;
    if (h->opt.max_response == 0)
        h->opt.max_response = ENDPOINT_HTTP_DEFAULT_MAX_RESPONSE;
    h->n_urls = n_urls;
    for (size_t i = 0; i < n_urls; i++) {
        h->urls[i].base = xstrdup(urls[i]);
        size_t L = strlen(h->urls[i].base);
        while (L > 0 && h->urls[i].base[L - 1] == '/')
            h->urls[i].base[--L] = '\0';
    }
    h->headers = curl_slist_append(NULL, "Content-Type: application/json");
    h->headers = curl_slist_append(h->headers, "Expect:"); /* no 100-continue round trip for large bodies */
    if (opt->api_key && opt->api_key[0]) {
        size_t L = strlen(opt->api_key) + 32;
        h->api_key_header = xmalloc(L);
        snprintf(h->api_key_header, L, "Authorization: Bearer %s", opt->api_key);
        h->headers = curl_slist_append(h->headers, h->api_key_header);
    }
    rng_seed(&h->rng, opt->seed);
    h->multi = curl_multi_init();
    curl_multi_setopt(h->multi, CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX);
    curl_multi_setopt(h->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)opt->concurrency);
    curl_multi_setopt(h->multi, CURLMOPT_MAXCONNECTS, (long)(opt->concurrency * n_urls + 4));
    h->slots = xcalloc(opt->concurrency, sizeof *h->slots);
    for (size_t i = 0; i < opt->concurrency; i++) {
        struct slot *s = &h->slots[i];
        s->easy = curl_easy_init();
        s->call = SIZE_MAX;
        strbuf_init(&s->body, h->opt.max_response);
    }
    *out = h;
    return GE_OK;
}

void endpoint_http_free(struct endpoint_http *h)
{
    if (h == NULL)
        return;
    for (size_t i = 0; i < h->opt.concurrency; i++) {
        if (h->slots[i].call != SIZE_MAX)
            curl_multi_remove_handle(h->multi, h->slots[i].easy);
        curl_easy_cleanup(h->slots[i].easy);
        strbuf_release(&h->slots[i].body);
    }
    free(h->slots);
    curl_multi_cleanup(h->multi);
    curl_slist_free_all(h->headers);
    if (h->api_key_header) {
        memset(h->api_key_header, 0, strlen(h->api_key_header));
        free(h->api_key_header);
    }
    for (size_t i = 0; i < h->n_urls; i++)
        free(h->urls[i].base);
    free(h);
    curl_global_cleanup();
}

void endpoint_call_release(struct endpoint_call *c)
{
    free(c->response);
    c->response = NULL;
    c->response_len = 0;
}

const char *endpoint_http_url(const struct endpoint_http *h, size_t i) { return i < h->n_urls ? h->urls[i].base : ""; }
size_t endpoint_http_n_urls(const struct endpoint_http *h) { return h->n_urls; }
int endpoint_http_alive(const struct endpoint_http *h, size_t i) { return i < h->n_urls && !h->urls[i].dead; }
void endpoint_http_get_stats(const struct endpoint_http *h, struct endpoint_http_stats *out) { *out = h->stats; }

static size_t pick_url(struct endpoint_http *h)
{
    for (size_t k = 0; k < h->n_urls; k++) {
        size_t i = (h->rr + k) % h->n_urls;
        if (!h->urls[i].dead) {
            h->rr = i + 1;
            return i;
        }
    }
    return 0; /* unreachable: one URL is always alive */
}

static void start_transfer(struct endpoint_http *h, struct slot *s, size_t ci, struct endpoint_call *c)
{
    s->call = ci;
    s->url = pick_url(h);
    s->retry_after_s = -1;
    s->too_large = 0;
    s->errbuf[0] = '\0';
    strbuf_reset(&s->body);
    snprintf(s->url_buf, sizeof s->url_buf, "%s%s", h->urls[s->url].base, c->path);
    CURL *e = s->easy;
    curl_easy_reset(e);
    curl_easy_setopt(e, CURLOPT_URL, s->url_buf);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, h->headers);
    if (c->body) {
        curl_easy_setopt(e, CURLOPT_POST, 1L);
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, c->body);
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(c->body));
    } else {
        curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
    }
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, s);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, s);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, s->errbuf);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, h->opt.connect_timeout_ms);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, h->opt.timeout_ms);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
    curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, ""); /* whatever compression curl was built with */
    curl_easy_setopt(e, CURLOPT_PRIVATE, s);
    curl_multi_add_handle(h->multi, e);
    c->attempts++;
    h->stats.n_attempts++;
    if (c->attempts > 1)
        h->stats.n_retries++;
}

/* What to do with a finished attempt. */
enum verdict { V_ACCEPT, V_FINAL, V_RETRY };

static int is_connection_failure(CURLcode cc)
{
    return cc == CURLE_COULDNT_CONNECT || cc == CURLE_COULDNT_RESOLVE_HOST || cc == CURLE_COULDNT_RESOLVE_PROXY ||
           cc == CURLE_GOT_NOTHING || cc == CURLE_SEND_ERROR || cc == CURLE_RECV_ERROR ||
           cc == CURLE_SSL_CONNECT_ERROR;
}

int endpoint_http_run(struct endpoint_http *h, struct endpoint_call *calls, size_t n, struct ge_error *err)
{
    int rc = GE_OK;
    double *ready_at = xcalloc(n ? n : 1, sizeof *ready_at);
    unsigned char *running = xcalloc(n ? n : 1, 1);
    size_t n_done = 0, n_running = 0;
    struct ge_error why;
    for (size_t i = 0; i < n; i++) {
        calls[i].done = 0;
        calls[i].attempts = 0;
        calls[i].status = 0;
        endpoint_call_release(&calls[i]);
    }
    while (n_done < n) {
        double t = now_s(), next_ready = -1;
        /* fill free slots with ready calls, in call order */
        size_t free_slot = 0;
        for (size_t i = 0; i < n && n_running < h->opt.concurrency; i++) {
            if (calls[i].done || running[i])
                continue;
            if (ready_at[i] > t) {
                if (next_ready < 0 || ready_at[i] < next_ready)
                    next_ready = ready_at[i];
                continue;
            }
            while (h->slots[free_slot].call != SIZE_MAX)
                free_slot++;
            start_transfer(h, &h->slots[free_slot], i, &calls[i]);
            running[i] = 1;
            n_running++;
        }
        if (n_running == 0 && next_ready < 0) { /* recompute: calls may be waiting beyond the scan's stop */
            for (size_t i = 0; i < n; i++)
                if (!calls[i].done && !running[i] && (next_ready < 0 || ready_at[i] < next_ready))
                    next_ready = ready_at[i];
        }
        int still = 0;
        curl_multi_perform(h->multi, &still);
        /* Wait only when no transfer finished: a transfer that completed inside perform is settled at once. */
        if (still == (int)n_running) {
            int wait_ms = 100;
            if (next_ready >= 0) {
                double d = (next_ready - now_s()) * 1000.0;
                if (d < wait_ms)
                    wait_ms = d < 0 ? 0 : (int)d + 1;
            }
            if (wait_ms > 0)
                curl_multi_poll(h->multi, NULL, 0, wait_ms, NULL);
            curl_multi_perform(h->multi, &still);
        }
        CURLMsg *msg;
        int left;
        while ((msg = curl_multi_info_read(h->multi, &left)) != NULL) {
            if (msg->msg != CURLMSG_DONE)
                continue;
            struct slot *s = NULL;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&s);
            CURLcode cc = msg->data.result;
            curl_multi_remove_handle(h->multi, msg->easy_handle);
            size_t ci = s->call;
            struct endpoint_call *c = &calls[ci];
            struct ep_url *u = &h->urls[s->url];
            long status = 0;
            curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &status);
            enum verdict v;
            ge_error_clear(&why);
            if (cc == CURLE_WRITE_ERROR && s->too_large) {
                v = V_FINAL;
                ge_error_set(&why, GE_ERR_LIMIT, "response larger than %zu bytes", h->opt.max_response);
                status = -1;
            } else if (cc != CURLE_OK) {
                v = V_RETRY;
                ge_error_set(&why, GE_ERR_IO, "%s", s->errbuf[0] ? s->errbuf : curl_easy_strerror(cc));
                if (is_connection_failure(cc) && ++u->consecutive_failures >= h->opt.dead_after && !u->dead) {
                    size_t alive = 0;
                    for (size_t k = 0; k < h->n_urls; k++)
                        alive += !h->urls[k].dead;
                    if (alive > 1) {
                        u->dead = 1;
                        if (h->opt.log)
                            fprintf(h->opt.log, "glam-eval: %s: %d connection failures in a row (%s); taken out "
                                    "of rotation\n", u->base, u->consecutive_failures, why.msg);
                    }
                }
            } else {
                u->consecutive_failures = 0;
                if (status >= 200 && status < 300) {
                    v = V_ACCEPT;
                    if (c->check && c->check(c->check_ctx, strbuf_str(&s->body), s->body.len, &why) != GE_OK)
                        v = V_RETRY;
                } else if (status == 408 || status == 429 || status >= 500) {
                    v = V_RETRY;
                    ge_error_set(&why, GE_ERR_IO, "HTTP %ld: %.200s", status, strbuf_str(&s->body));
                } else {
                    v = V_FINAL;
                }
            }
            c->endpoint = s->url;
            running[ci] = 0;
            n_running--;
            if (v == V_RETRY && c->attempts > h->opt.max_retries) {
                rc = ge_error_set(err, GE_ERR_IO, "%s: request failed after %d attempts; last error: %s",
                                  s->url_buf, c->attempts, why.msg);
                s->call = SIZE_MAX;
                goto out;
            }
            if (v == V_RETRY) {
                double b = h->opt.backoff_base_s;
                for (int k = 1; k < c->attempts && b < h->opt.backoff_max_s; k++)
                    b *= 2;
                if (b > h->opt.backoff_max_s)
                    b = h->opt.backoff_max_s;
                double d = b / 2 + rng_uniform(&h->rng) * b / 2;
                if (s->retry_after_s >= 0)
                    d = s->retry_after_s < h->opt.backoff_max_s ? s->retry_after_s : h->opt.backoff_max_s;
                ready_at[ci] = now_s() + d;
                if (h->opt.log)
                    fprintf(h->opt.log, "glam-eval: %s: %s; retry %d of %d in %.2f s\n", s->url_buf, why.msg,
                            c->attempts, h->opt.max_retries, d);
            } else {
                c->status = status;
                c->response_len = s->body.len;
                c->response = strbuf_detach(&s->body, NULL);
                c->done = 1;
                n_done++;
                h->stats.n_calls++;
            }
            s->call = SIZE_MAX;
        }
    }
out:
    /* abandon whatever is still in flight after a failure */
    for (size_t i = 0; i < h->opt.concurrency; i++)
        if (h->slots[i].call != SIZE_MAX) {
            curl_multi_remove_handle(h->multi, h->slots[i].easy);
            h->slots[i].call = SIZE_MAX;
        }
    free(ready_at);
    free(running);
    return rc;
}
