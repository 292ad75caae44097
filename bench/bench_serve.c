/* bench_serve.c — requests per second a client gets from an OpenAI-compatible server (`glam-eval serve`, or
 * any other) with K requests in flight, using libcurl's multi interface on one thread. Run by hand:
 *
 *   ./glam-eval serve --model ../shared/models/stories260K/stories260K.gguf --max-length 512 --port 8000 &
 *   bench/bench_serve --url http://127.0.0.1:8000 --requests 2000 --in-flight 64
 *
 * Each request is a POST /v1/completions with one text prompt; by default lm-evaluation-harness's loglikelihood
 * shape (echo, logprobs 1, max_tokens 1), or generation with --max-tokens N --no-echo. Prints the wall time,
 * requests per second, and latency percentiles; a request that does not answer 200 is counted and reported. */
#include "config.h"

#include <curl/curl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "harness/strbuf.h"
#include "harness/xalloc.h"

struct slot {
    CURL *h;
    struct strbuf resp; /* bounded response body */
    double t0;          /* start time, seconds */
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static size_t on_data(char *p, size_t size, size_t n, void *ud)
{
    struct slot *s = ud;
    struct ge_error err;
    return strbuf_append(&s->resp, p, size * n, &err) == GE_OK ? size * n : 0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void usage(FILE *f)
{
    fprintf(f, "usage: bench_serve --url BASE [--requests N] [--in-flight K] [--max-tokens N] [--no-echo]\n"
               "                   [--prompt TEXT] [--model NAME] [--api-key-env VAR]\n"
               "  --url BASE       server base URL, e.g. http://127.0.0.1:8000\n"
               "  --requests N     requests to send (default 2000)\n"
               "  --in-flight K    requests outstanding at once (default 64)\n"
               "  --max-tokens N   tokens to generate (default 1, lm-eval's loglikelihood request)\n"
               "  --no-echo        do not echo the prompt's log-probs (generation requests)\n");
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"url", required_argument, NULL, 'u'},       {"requests", required_argument, NULL, 'n'},
        {"in-flight", required_argument, NULL, 'k'}, {"max-tokens", required_argument, NULL, 't'},
        {"no-echo", no_argument, NULL, 'e'},         {"prompt", required_argument, NULL, 'p'},
        {"model", required_argument, NULL, 'm'},     {"api-key-env", required_argument, NULL, 'a'},
        {"help", no_argument, NULL, 'h'},            {NULL, 0, NULL, 0},
    };
    const char *url = NULL, *prompt = "Once upon a time, there was a little girl named Lily. She liked to",
               *model = NULL, *key_env = NULL;
    long n_req = 2000, in_flight = 64, max_tokens = 1;
    int echo = 1, c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'u': url = optarg; break;
        case 'n': n_req = atol(optarg); break;
        case 'k': in_flight = atol(optarg); break;
        case 't': max_tokens = atol(optarg); break;
        case 'e': echo = 0; break;
        case 'p': prompt = optarg; break;
        case 'm': model = optarg; break;
        case 'a': key_env = optarg; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (url == NULL || n_req < 1 || in_flight < 1 || max_tokens < 0) {
        usage(stderr);
        return 2;
    }
    char endpoint[2048], auth[1024] = "";
    snprintf(endpoint, sizeof endpoint, "%s/v1/completions", url);
    if (key_env && getenv(key_env))
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", getenv(key_env));
    struct strbuf body;
    struct ge_error err;
    strbuf_init(&body, 0);
    strbuf_append_str(&body, "{\"prompt\": \"", &err);
    for (const char *p = prompt; *p; p++) { /* a minimal JSON escape for the bench's own prompt */
        if (*p == '"' || *p == '\\')
            strbuf_append_char(&body, '\\', &err);
        strbuf_append_char(&body, *p, &err);
    }
    strbuf_appendf(&body, &err, "\", \"max_tokens\": %ld, \"temperature\": 0%s", max_tokens,
                   echo ? ", \"echo\": true, \"logprobs\": 1" : "");
    if (model)
        strbuf_appendf(&body, &err, ", \"model\": \"%s\"", model);
    strbuf_append_str(&body, "}", &err);

    curl_global_init(CURL_GLOBAL_DEFAULT);
    CURLM *multi = curl_multi_init();
    struct curl_slist *hdrs = curl_slist_append(NULL, "Content-Type: application/json");
    if (auth[0])
        hdrs = curl_slist_append(hdrs, auth);
    struct slot *slots = xcalloc((size_t)in_flight, sizeof *slots);
    double *lat = xcalloc((size_t)n_req, sizeof *lat);
    long sent = 0, done = 0, failed = 0;
    double t_start = now_s();
    for (long i = 0; i < in_flight && sent < n_req; i++, sent++) {
        struct slot *s = &slots[i];
        strbuf_init(&s->resp, (size_t)64 << 20);
        s->h = curl_easy_init();
        curl_easy_setopt(s->h, CURLOPT_URL, endpoint);
        curl_easy_setopt(s->h, CURLOPT_HTTPHEADER, hdrs);
        curl_easy_setopt(s->h, CURLOPT_POSTFIELDS, strbuf_str(&body));
        curl_easy_setopt(s->h, CURLOPT_WRITEFUNCTION, on_data);
        curl_easy_setopt(s->h, CURLOPT_WRITEDATA, s);
        curl_easy_setopt(s->h, CURLOPT_PRIVATE, s);
        s->t0 = now_s();
        curl_multi_add_handle(multi, s->h);
    }
    while (done < n_req) {
        int running = 0, numfds = 0;
        curl_multi_perform(multi, &running);
        CURLMsg *msg;
        int left;
        while ((msg = curl_multi_info_read(multi, &left)) != NULL) {
            if (msg->msg != CURLMSG_DONE)
                continue;
            struct slot *s;
            long status = 0;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&s);
            curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &status);
            if (msg->data.result != CURLE_OK || status != 200) {
                if (failed++ < 3)
                    fprintf(stderr, "request failed: %s, HTTP %ld: %.300s\n", curl_easy_strerror(msg->data.result),
                            status, strbuf_str(&s->resp));
            }
            lat[done++] = now_s() - s->t0;
            curl_multi_remove_handle(multi, s->h);
            strbuf_reset(&s->resp);
            if (sent < n_req) { /* reuse the handle (and its connection) for the next request */
                sent++;
                s->t0 = now_s();
                curl_multi_add_handle(multi, s->h);
            }
        }
        if (done < n_req)
            curl_multi_poll(multi, NULL, 0, 100, &numfds);
    }
    double wall = now_s() - t_start;
    qsort(lat, (size_t)n_req, sizeof *lat, cmp_double);
    printf("requests %ld, in flight %ld, max_tokens %ld, echo %s: %.2f s, %.1f requests/s; latency p50 %.1f ms, "
           "p90 %.1f ms, p99 %.1f ms; failed %ld\n", n_req, in_flight, max_tokens, echo ? "yes" : "no", wall,
           (double)n_req / wall, lat[n_req / 2] * 1e3, lat[n_req * 9 / 10] * 1e3, lat[n_req * 99 / 100] * 1e3,
           failed);
    for (long i = 0; i < in_flight; i++) {
        if (slots[i].h)
            curl_easy_cleanup(slots[i].h);
        strbuf_release(&slots[i].resp);
    }
    free(slots);
    free(lat);
    curl_slist_free_all(hdrs);
    curl_multi_cleanup(multi);
    curl_global_cleanup();
    strbuf_release(&body);
    return failed ? 1 : 0;
}
