/* test_endpoint_parse.c — model/endpoint_parse.h on the table of responses in tests/data/endpoint_parse_cases.jsonl
 * (well-formed echo answers in token and text mode, the straddling token, dropped generated positions, and every
 * malformed shape the parser must reject), plus the transport's argument checks (model/endpoint_http.h). */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model/endpoint_http.h"
#include "model/endpoint_parse.h"
#include "tests/case_file.h"
#include "tests/tap.h"

static char *case_body(const cJSON *c, const char *id)
{
    const cJSON *body = cJSON_GetObjectItemCaseSensitive(c, "body");
    if (body)
        return cJSON_PrintUnformatted(body);
    const char *raw = case_str(c, id, "raw");
    return raw ? strdup(raw) : NULL;
}

static void check_error(int rc, const struct ge_error *err, const char *want, const char *id)
{
    tap_ok(rc != GE_OK && strstr(err->msg, want) != NULL, "%s: fails with \"%s\" (got rc %d: %s)", id, want, rc,
           err->msg);
}

static void run_completion(const cJSON *c, const char *id)
{
    char *body = case_body(c, id);
    if (body == NULL)
        return;
    struct endpoint_completion comp;
    struct ge_error err;
    ge_error_clear(&err);
    int rc = endpoint_parse_completion(body, strlen(body), (size_t)case_num(c, id, "want"),
                                       (int)case_num(c, id, "logprobs"), &comp, &err);
    const char *want_err = case_opt_str(c, id, "error");
    if (want_err) {
        check_error(rc, &err, want_err, id);
        free(body);
        return;
    }
    if (!tap_ok(rc == GE_OK, "%s: parses (%s)", id, err.msg)) {
        free(body);
        return;
    }
    const char *text0 = case_opt_str(c, id, "text0");
    if (text0)
        tap_is_str(comp.choices[0].text, text0, "%s: choice 0 is the one with index 0", id);
    for (size_t k = 0; k < comp.n_choices && k < 2; k++) { /* "nul0", "nul1": whether choice k's text has a NUL */
        char key[8];
        snprintf(key, sizeof key, "nul%zu", k);
        double want = case_opt_num(c, id, key);
        if (!isnan(want))
            tap_is_int(comp.choices[k].text_has_nul, (long long)want, "%s: choice %zu's text %s", id, k,
                       want ? "holds a NUL" : "holds no NUL");
    }
    double ct = case_opt_num(c, id, "completion_tokens");
    if (!isnan(ct))
        tap_is_int(comp.completion_tokens, (long long)ct, "%s: usage.completion_tokens", id);
    double pt = case_opt_num(c, id, "prompt_tokens");
    if (!isnan(pt))
        tap_is_int(comp.prompt_tokens, (long long)pt, "%s: usage.prompt_tokens", id);
    const cJSON *ll = cJSON_GetObjectItemCaseSensitive(c, "ll");
    if (ll) {
        double lp = 0;
        int64_t n = 0;
        int greedy = -1;
        double *per = NULL;
        double n_gen = case_opt_num(ll, id, "n_gen"); /* the max_tokens asked for; 0 when absent */
        rc = endpoint_choice_loglik(&comp.choices[0], (size_t)case_num(ll, id, "n_prompt"),
                                    (size_t)case_num(ll, id, "n_cont"), isnan(n_gen) ? 0 : (size_t)n_gen,
                                    (int64_t)case_num(ll, id, "ctx_cp"),
                                    (int64_t)case_num(ll, id, "prompt_cp"), &lp, &n, &greedy, &per, &err);
        const char *want_ll_err = case_opt_str(c, id, "ll_error");
        if (want_ll_err) {
            check_error(rc, &err, want_ll_err, id);
        } else if (tap_ok(rc == GE_OK, "%s: loglikelihood located (%s)", id, err.msg)) {
            tap_is_double(lp, case_num(c, id, "logprob"), 0, "%s: logprob", id);
            tap_is_int(n, (long long)case_num(c, id, "n"), "%s: scored tokens", id);
            tap_is_int(greedy, (long long)case_num(c, id, "greedy"), "%s: is_greedy", id);
            double sum = 0;
            for (int64_t i = 0; i < n; i++)
                sum += per[i];
            tap_is_double(sum, lp, 0, "%s: per-token log-probs add up to the sum", id);
        }
        free(per);
    }
    endpoint_completion_release(&comp);
    free(body);
}

static void run_models(const cJSON *c, const char *id)
{
    char *body = case_body(c, id);
    if (body == NULL)
        return;
    char *ids[8] = {0};
    size_t n = 0;
    struct ge_error err;
    ge_error_clear(&err);
    int rc = endpoint_parse_models(body, strlen(body), ids, 8, &n, &err);
    const char *want_err = case_opt_str(c, id, "error");
    if (want_err) {
        check_error(rc, &err, want_err, id);
    } else if (tap_ok(rc == GE_OK, "%s: parses (%s)", id, err.msg)) {
        const cJSON *want = case_array(c, id, "ids");
        tap_is_int((long long)n, cJSON_GetArraySize(want), "%s: number of ids", id);
        for (size_t i = 0; i < n && i < 8; i++)
            tap_is_str(ids[i], cJSON_GetArrayItem(want, (int)i)->valuestring, "%s: id %zu", id, i);
    }
    for (size_t i = 0; i < n && i < 8; i++)
        free(ids[i]);
    free(body);
}

static void run_case(const cJSON *c, const char *id, void *ctx)
{
    (void)ctx;
    const char *type = case_str(c, id, "type");
    if (type == NULL)
        return;
    if (strcmp(type, "completion") == 0) {
        run_completion(c, id);
    } else if (strcmp(type, "models") == 0) {
        run_models(c, id);
    } else if (strcmp(type, "error_message") == 0) {
        const char *raw = case_str(c, id, "raw");
        char msg[64];
        endpoint_error_message(raw, strlen(raw), msg, sizeof msg);
        tap_is_str(msg, case_str(c, id, "message"), "%s: server message", id);
    } else {
        tap_ok(0, "%s: unknown type %s", id, type);
    }
}

int main(void)
{
    long n = case_file_each("endpoint_parse_cases.jsonl", run_case, NULL);
    tap_ok(n >= 30, "read %ld cases", n);

    struct endpoint_http_options opt;
    endpoint_http_options_init(&opt);
    struct endpoint_http *h = NULL;
    struct ge_error err;
    const char *bad[] = {"ftp://x/v1"};
    ge_error_clear(&err);
    tap_ok(endpoint_http_new(bad, 1, &opt, &h, &err) == GE_ERR_USAGE && strstr(err.msg, "ftp://x/v1"),
           "a URL that is not http(s) is refused, named (%s)", err.msg);
    const char *good[] = {"http://127.0.0.1:9/v1/"};
    opt.concurrency = 0;
    tap_ok(endpoint_http_new(good, 1, &opt, &h, &err) == GE_ERR_USAGE, "concurrency 0 is refused");
    opt.concurrency = 2;
    opt.api_key = "secret-key-value";
    tap_ok(endpoint_http_new(good, 1, &opt, &h, &err) == GE_OK, "a valid configuration opens (%s)", err.msg);
    tap_is_str(endpoint_http_url(h, 0), "http://127.0.0.1:9/v1", "the trailing '/' of a base URL is dropped");
    endpoint_http_free(h);
    return tap_done();
}
