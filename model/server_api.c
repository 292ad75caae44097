/* server_api.c — request parsing and response building for `glam-eval serve` (see server_api.h for the format
 * and the token-string rules).
 *
 * Sources for the shapes: OpenAI's legacy Completions API reference (request fields, choices[].logprobs with
 * tokens / token_logprobs / top_logprobs / text_offset, usage, the error object) and vLLM's OpenAI-compatible
 * server (serving_completion.py: echo with max_tokens 0, a null first prompt log-prob, the -9999.0 floor,
 * finish_reason "length"/"stop" and stop_reason; serving_tokenization.py: /tokenize and /detokenize), read to
 * learn the formats; lm-evaluation-harness's local-completions client (openai_completions.py, api_models.py) is
 * the client we check against. Parsed cJSON trees never leave the function that parsed them.
 *
 * Past ~800 lines: /v1/completions (most of the file) and the small /tokenize, /detokenize, /v1/models and
 * tokenizer-info endpoints share the request checks and the error object, which stay private here. */
#include "config.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "harness/json_text.h"
#include "harness/strbuf.h"
#include "harness/utf8.h"
#include "harness/xalloc.h"
#include "model/runtime.h"
#include "model/server_api.h"
#include "scoring/pyfloat.h"

#define API_DEFAULT_MAX_TOKENS 16 /* OpenAI's default for the legacy completions API */
#define API_LOGPROB_FLOOR -9999.0

int api_error_set(struct api_error *e, int status, const char *type, const char *code, const char *param,
                  const char *fmt, ...)
{
    e->status = status;
    e->type = type;
    e->code = code;
    e->param = param;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->message, sizeof e->message, fmt, ap);
    va_end(ap);
    return status;
}

char *api_error_json(const struct api_error *e)
{
    cJSON *root = cJSON_CreateObject(), *obj = cJSON_AddObjectToObject(root, "error");
    cJSON_AddStringToObject(obj, "message", e->message);
    cJSON_AddStringToObject(obj, "type", e->type ? e->type : "server_error");
    if (e->param)
        cJSON_AddStringToObject(obj, "param", e->param);
    else
        cJSON_AddNullToObject(obj, "param");
    if (e->code)
        cJSON_AddStringToObject(obj, "code", e->code);
    else
        cJSON_AddNullToObject(obj, "code");
    char *s = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    if (s == NULL)
        abort(); /* out of memory on a small object: fatal, as xalloc */
    return s;
}

static int bad_request(struct api_error *ae, const char *param, const char *msg)
{
    return api_error_set(ae, 400, "invalid_request_error", NULL, param, "%s", msg);
}

/* The top-level key whose member holds byte offset at of the JSON object text s (valid JSON), copied into
 * key[0..cap) as written (escapes not decoded); "" when at is outside every member. */
static void member_at(const char *s, size_t len, size_t at, char *key, size_t cap)
{
    int depth = 0, in_str = 0;
    size_t start = 0;
    key[0] = '\0';
    for (size_t i = 0; i < len && (i < at || in_str); i++) {
        if (in_str) {
            if (s[i] == '\\') {
                i++;
            } else if (s[i] == '"') {
                in_str = 0;
                size_t k = i + 1;
                while (k < len && (s[k] == ' ' || s[k] == '\t' || s[k] == '\n' || s[k] == '\r'))
                    k++;
                if (depth == 1 && k < len && s[k] == ':') /* a key of the request object */
                    snprintf(key, cap, "%.*s", (int)(i - start), s + start);
            }
        } else if (s[i] == '"') {
            in_str = 1;
            start = i + 1;
        } else if (s[i] == '{' || s[i] == '[') {
            depth++;
        } else if (s[i] == '}' || s[i] == ']') {
            depth--;
        }
    }
}

/* Refuses a body with a \u0000 escape in any string: cJSON's strings end at the NUL, so the rest of a prompt,
 * stop string or model name would silently be lost ("Once\u0000 upon" scored as "Once"). 400 naming the
 * member; param is set for the fields this API reads. */
static int check_no_nul(const char *body, size_t len, struct api_error *ae)
{
    static const char *const fields[] = {"prompt", "stop", "model", "messages", "tokens", "suffix"};
    size_t at = 0;
    if (!json_text_find_nul(body, len, &at))
        return 0;
    char key[64];
    member_at(body, len, at, key, sizeof key);
    const char *param = NULL;
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        if (strcmp(key, fields[i]) == 0)
            param = fields[i];
    return api_error_set(ae, 400, "invalid_request_error", NULL, param, "'%s' holds a NUL character (\\u0000 at "
                         "byte %zu of the body), which this server does not accept: remove it", key, at);
}

/* Parses body as a JSON object; 400 naming the offset when it is not one, or naming the member with a NUL. */
static int parse_object(const char *body, size_t len, cJSON **out, struct api_error *ae)
{
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(body, len, &end, 0);
    if (root == NULL) {
        size_t off = end != NULL && end >= body ? (size_t)(end - body) : 0;
        return api_error_set(ae, 400, "invalid_request_error", "invalid_json", NULL,
                             "the request body is not valid JSON (error near byte %zu)", off);
    }
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return api_error_set(ae, 400, "invalid_request_error", "invalid_json", NULL,
                             "the request body must be a JSON object");
    }
    int st = check_no_nul(body, len, ae);
    if (st) {
        cJSON_Delete(root);
        return st;
    }
    *out = root;
    return 0;
}

/* "model", when present, must name the served model. */
static int check_model(const struct server_model *sm, const cJSON *root, struct api_error *ae)
{
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(root, "model");
    if (model == NULL || cJSON_IsNull(model))
        return 0;
    if (!cJSON_IsString(model))
        return bad_request(ae, "model", "'model' must be a string");
    if (strcmp(model->valuestring, sm->name) != 0)
        return api_error_set(ae, 404, "invalid_request_error", "model_not_found", "model",
                             "The model '%.200s' does not exist; this server serves '%.200s'", model->valuestring,
                             sm->name);
    return 0;
}

/* An integer field: absent/null gives dflt; else a whole number in [lo, hi]. */
static int get_int(const cJSON *root, const char *name, int64_t dflt, int64_t lo, int64_t hi, int64_t *out,
                   struct api_error *ae)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, name);
    if (v == NULL || cJSON_IsNull(v)) {
        *out = dflt;
        return 0;
    }
    if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble) || v->valuedouble < (double)lo ||
        v->valuedouble > (double)hi)
        return api_error_set(ae, 400, "invalid_request_error", NULL, name,
                             "'%s' must be a whole number from %lld to %lld", name, (long long)lo, (long long)hi);
    *out = (int64_t)v->valuedouble;
    return 0;
}

static int get_bool(const cJSON *root, const char *name, int dflt, int *out, struct api_error *ae)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, name);
    if (v == NULL || cJSON_IsNull(v)) {
        *out = dflt;
        return 0;
    }
    if (!cJSON_IsBool(v))
        return api_error_set(ae, 400, "invalid_request_error", NULL, name, "'%s' must be true or false", name);
    *out = cJSON_IsTrue(v);
    return 0;
}

/* A token id list: every element a whole number naming a token of the tokenizer. */
static int parse_ids(const struct server_model *sm, const cJSON *arr, struct token_ids *out, struct api_error *ae)
{
    size_t vocab = tokenizer_vocab_size(sm->tok);
    const cJSON *x;
    size_t k = 0;
    cJSON_ArrayForEach(x, arr) {
        if (!cJSON_IsNumber(x) || x->valuedouble != floor(x->valuedouble) || x->valuedouble < 0 ||
            x->valuedouble >= (double)vocab)
            return api_error_set(ae, 400, "invalid_request_error", NULL, "prompt",
                                 "prompt token %zu is not a token id from 0 to %zu", k, vocab - 1);
        struct ge_error err;
        if (token_ids_push(out, (int32_t)x->valuedouble, &err))
            return api_error_set(ae, 400, "invalid_request_error", NULL, "prompt", "%s", err.msg);
        k++;
    }
    if (out->n == 0)
        return bad_request(ae, "prompt", "a token-id prompt must not be empty");
    return 0;
}

/* Encodes a text prompt as the backend would start a model input (the local runtime's own encoder, so special
 * tokens' text becomes those tokens exactly as in `glam-eval loglik`); an empty encoding becomes the prefix token
 * (as `glam-eval generate` does). *n_lead is the number of leading tokens that are not from the text: what the
 * BOS rule puts before any input (the encoding of ""), or the prefix token. */
static int encode_prompt(const struct server_model *sm, const char *text, size_t len, struct token_ids *out,
                         size_t *n_lead, struct api_error *ae)
{
    struct ge_error err;
    ge_error_clear(&err);
    struct token_ids rule;
    token_ids_init(&rule, 0);
    int st = 0;
    if (!utf8_is_valid(text, len)) {
        st = bad_request(ae, "prompt", "the prompt is not valid UTF-8");
    } else if (runtime_encode_input(sm->m, text, len, out, &err)) {
        st = api_error_set(ae, 400, "invalid_request_error", NULL, "prompt", "cannot tokenize the prompt: %s",
                           err.msg);
    } else if (out->n == 0) {
        if (token_ids_push(out, runtime_prefix_token(sm->m), &err))
            st = api_error_set(ae, 500, "server_error", NULL, NULL, "%s", err.msg);
        *n_lead = out->n;
    } else if (runtime_encode_input(sm->m, "", 0, &rule, &err)) {
        st = api_error_set(ae, 500, "server_error", NULL, NULL, "%s", err.msg);
    } else {
        *n_lead = rule.n > 0 && rule.n <= out->n && memcmp(rule.ids, out->ids, rule.n * sizeof *rule.ids) == 0
                      ? rule.n : 0;
    }
    token_ids_release(&rule);
    return st;
}

/* Rejects options we do not implement, rather than ignoring them and answering something else. */
static int check_unsupported(const cJSON *root, struct api_error *ae)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, "temperature");
    if (v != NULL && !cJSON_IsNull(v) && !(cJSON_IsNumber(v) && v->valuedouble == 0))
        return bad_request(ae, "temperature", "only greedy decoding is served: 'temperature' must be 0");
    static const char *const ones[] = {"n", "best_of"};
    for (size_t i = 0; i < sizeof ones / sizeof ones[0]; i++) {
        v = cJSON_GetObjectItemCaseSensitive(root, ones[i]);
        if (v != NULL && !cJSON_IsNull(v) && !(cJSON_IsNumber(v) && v->valuedouble == 1))
            return api_error_set(ae, 400, "invalid_request_error", NULL, ones[i],
                                 "'%s' must be 1: one greedy completion per prompt", ones[i]);
    }
    static const char *const zeros[] = {"presence_penalty", "frequency_penalty"};
    for (size_t i = 0; i < sizeof zeros / sizeof zeros[0]; i++) {
        v = cJSON_GetObjectItemCaseSensitive(root, zeros[i]);
        if (v != NULL && !cJSON_IsNull(v) && !(cJSON_IsNumber(v) && v->valuedouble == 0))
            return api_error_set(ae, 400, "invalid_request_error", NULL, zeros[i], "'%s' is not supported (must "
                                 "be 0)", zeros[i]);
    }
    /* Truncation of the candidates (top_p, top_k, min_p) always keeps the most probable token, so under greedy
       decoding any valid value changes nothing: they are accepted, as vLLM resets them at temperature 0 (a client
       such as lm-evaluation-harness passes a task's generation_kwargs through). Their ranges are still checked. */
    static const struct {
        const char *name;
        double lo, hi; /* the valid range */
        int integer;
        const char *what;
    } truncation[] = {
        {"top_p", 0, 1, 0, "a number in (0, 1]"},
        {"top_k", -1, 1e9, 1, "an integer >= -1"},
        {"min_p", 0, 1, 0, "a number in [0, 1]"},
    };
    for (size_t i = 0; i < sizeof truncation / sizeof truncation[0]; i++) {
        v = cJSON_GetObjectItemCaseSensitive(root, truncation[i].name);
        if (v != NULL && !cJSON_IsNull(v) &&
            !(cJSON_IsNumber(v) && v->valuedouble >= truncation[i].lo && v->valuedouble <= truncation[i].hi &&
              !(strcmp(truncation[i].name, "top_p") == 0 && v->valuedouble == 0) &&
              (!truncation[i].integer || v->valuedouble == (double)(long long)v->valuedouble)))
            return api_error_set(ae, 400, "invalid_request_error", NULL, truncation[i].name, "'%s' must be %s",
                                 truncation[i].name, truncation[i].what);
    }
    /* These would change the greedy answer (a forced length, a penalty): only vLLM's neutral values are served. */
    static const struct {
        const char *name;
        double neutral, also; /* the accepted values (also == neutral when there is one) */
        const char *what;
    } sampling[] = {
        {"min_tokens", 0, 0, "0"},
        {"repetition_penalty", 1, 1, "1"},
    };
    for (size_t i = 0; i < sizeof sampling / sizeof sampling[0]; i++) {
        v = cJSON_GetObjectItemCaseSensitive(root, sampling[i].name);
        if (v != NULL && !cJSON_IsNull(v) &&
            !(cJSON_IsNumber(v) && (v->valuedouble == sampling[i].neutral || v->valuedouble == sampling[i].also)))
            return api_error_set(ae, 400, "invalid_request_error", NULL, sampling[i].name, "'%s' is not supported "
                                 "(greedy decoding only: it must be %s)", sampling[i].name, sampling[i].what);
    }
    v = cJSON_GetObjectItemCaseSensitive(root, "ignore_eos");
    if (v != NULL && !cJSON_IsNull(v) && !cJSON_IsFalse(v))
        return bad_request(ae, "ignore_eos", "'ignore_eos' is not supported: generation stops at EOS (it must be "
                           "false)");
    v = cJSON_GetObjectItemCaseSensitive(root, "stream");
    if (v != NULL && !cJSON_IsNull(v) && !cJSON_IsFalse(v))
        return bad_request(ae, "stream", "streaming is not supported: 'stream' must be false");
    v = cJSON_GetObjectItemCaseSensitive(root, "logit_bias");
    if (v != NULL && !cJSON_IsNull(v) && !(cJSON_IsObject(v) && v->child == NULL))
        return bad_request(ae, "logit_bias", "'logit_bias' is not supported");
    v = cJSON_GetObjectItemCaseSensitive(root, "suffix");
    if (v != NULL && !cJSON_IsNull(v))
        return bad_request(ae, "suffix", "'suffix' is not supported");
    return 0;
}

/* "stop": null, a string, or a list of strings; empty strings are ignored. */
static int parse_stop(const cJSON *root, char ***stop, size_t *n_stop, struct api_error *ae)
{
    *stop = NULL;
    *n_stop = 0;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, "stop");
    if (v == NULL || cJSON_IsNull(v))
        return 0;
    if (!cJSON_IsString(v) && !cJSON_IsArray(v))
        return bad_request(ae, "stop", "'stop' must be a string or a list of strings");
    int n = cJSON_IsString(v) ? 1 : cJSON_GetArraySize(v);
    if (n > SERVER_MAX_STOP)
        return api_error_set(ae, 400, "invalid_request_error", NULL, "stop", "at most %d stop strings",
                             SERVER_MAX_STOP);
    *stop = xcalloc((size_t)(n > 0 ? n : 1), sizeof **stop);
    for (int i = 0; i < n; i++) {
        const cJSON *s = cJSON_IsString(v) ? v : cJSON_GetArrayItem(v, i);
        if (!cJSON_IsString(s)) {
            for (size_t k = 0; k < *n_stop; k++)
                free((*stop)[k]);
            free(*stop);
            *stop = NULL;
            *n_stop = 0;
            return bad_request(ae, "stop", "'stop' must be a string or a list of strings");
        }
        if (s->valuestring[0] != '\0')
            (*stop)[(*n_stop)++] = xstrdup(s->valuestring);
    }
    return 0;
}

static char **copy_stop(char *const *stop, size_t n)
{
    char **c = xcalloc(n > 0 ? n : 1, sizeof *c);
    for (size_t i = 0; i < n; i++)
        c[i] = xstrdup(stop[i]);
    return c;
}

void completion_request_release(struct server_engine *e, struct completion_request *req)
{
    for (size_t i = 0; i < req->n_jobs; i++) {
        server_job_release(e, req->jobs[i]);
        free(req->prompts[i].text);
    }
    free(req->jobs);
    free(req->prompts);
    req->jobs = NULL;
    req->prompts = NULL;
    req->n_jobs = 0;
}

int server_api_parse_completion(const struct server_model *sm, const char *body, size_t len,
                                struct completion_request *out, struct api_error *ae)
{
    cJSON *root = NULL;
    char **stop = NULL;
    size_t n_stop = 0;
    int64_t max_tokens = 0, n_logprobs = -1;
    int echo = 0;
    struct token_ids ids;
    token_ids_init(&ids, 0);
    out->jobs = NULL;
    out->prompts = NULL;
    out->n_jobs = 0;
    int st = parse_object(body, len, &root, ae);
    if (st == 0)
        st = check_model(sm, root, ae);
    if (st == 0)
        st = check_unsupported(root, ae);
    if (st == 0)
        st = get_int(root, "max_tokens", API_DEFAULT_MAX_TOKENS, 0, sm->max_length, &max_tokens, ae);
    if (st == 0)
        st = get_int(root, "logprobs", -1, 0, TOPLOGPROBS_MAX, &n_logprobs, ae);
    if (st == 0)
        st = get_bool(root, "echo", 0, &echo, ae);
    if (st == 0)
        st = parse_stop(root, &stop, &n_stop, ae);
    if (st)
        goto out;
    const cJSON *prompt = cJSON_GetObjectItemCaseSensitive(root, "prompt");
    if (prompt == NULL || cJSON_IsNull(prompt)) {
        st = bad_request(ae, "prompt", "'prompt' is required");
        goto out;
    }
    /* The prompts: a string, a list of ids, or a list whose items are strings or lists of ids. */
    int n_prompts = 1, single = 1;
    if (cJSON_IsArray(prompt)) {
        const cJSON *first = prompt->child;
        if (first == NULL) {
            st = bad_request(ae, "prompt", "'prompt' must not be an empty list");
            goto out;
        }
        single = cJSON_IsNumber(first);
        n_prompts = single ? 1 : cJSON_GetArraySize(prompt);
    } else if (!cJSON_IsString(prompt)) {
        st = bad_request(ae, "prompt", "'prompt' must be a string, a list of strings, a list of token ids "
                         "or a list of lists of token ids");
        goto out;
    }
    if (n_prompts > SERVER_MAX_PROMPTS) {
        st = api_error_set(ae, 400, "invalid_request_error", NULL, "prompt", "at most %d prompts per request",
                           SERVER_MAX_PROMPTS);
        goto out;
    }
    out->jobs = xcalloc((size_t)n_prompts, sizeof *out->jobs);
    out->prompts = xcalloc((size_t)n_prompts, sizeof *out->prompts);
    for (int p = 0; p < n_prompts; p++) {
        const cJSON *item = single ? prompt : cJSON_GetArrayItem(prompt, p);
        token_ids_reset(&ids);
        size_t n_lead = 0;
        if (cJSON_IsString(item))
            st = encode_prompt(sm, item->valuestring, strlen(item->valuestring), &ids, &n_lead, ae);
        else if (cJSON_IsArray(item))
            st = parse_ids(sm, item, &ids, ae);
        else
            st = api_error_set(ae, 400, "invalid_request_error", NULL, "prompt", "prompt %d is neither a string "
                               "nor a list of token ids", p);
        if (st)
            goto out;
        if ((int64_t)ids.n > sm->max_prompt_tokens) {
            st = api_error_set(ae, 400, "invalid_request_error", "context_length_exceeded", "prompt",
                               "prompt %d has %zu tokens; this server accepts at most %lld (--max-prompt-tokens)",
                               p, ids.n, (long long)sm->max_prompt_tokens);
            goto out;
        }
        /* The last generated token is never fed back, so prompt + max_tokens may be one more than the window. */
        if ((int64_t)ids.n + max_tokens > sm->max_length + 1) {
            st = api_error_set(ae, 400, "invalid_request_error", "context_length_exceeded", "max_tokens",
                               "This model's maximum context length is %lld tokens (a window of %lld; the last "
                               "generated token is never fed back, so prompt + max_tokens may be one more). However, "
                               "you requested %lld tokens (%zu in prompt %d, %lld in the completion)",
                               (long long)sm->max_length + 1, (long long)sm->max_length,
                               (long long)ids.n + max_tokens, ids.n, p, (long long)max_tokens);
            goto out;
        }
        int32_t *copy = xmalloc(ids.n * sizeof *copy);
        memcpy(copy, ids.ids, ids.n * sizeof *copy);
        out->jobs[p] = server_job_new(copy, (int64_t)ids.n, max_tokens, (int)n_logprobs, echo,
                                      copy_stop(stop, n_stop), n_stop);
        out->prompts[p] = (struct completion_prompt){
            .text = cJSON_IsString(item) ? xstrdup(item->valuestring) : NULL, .n_lead = n_lead};
        out->n_jobs = (size_t)p + 1;
    }
out:
    if (st && out->jobs != NULL)
        completion_request_release(NULL, out);
    for (size_t i = 0; i < n_stop; i++)
        free(stop[i]);
    free(stop);
    token_ids_release(&ids);
    cJSON_Delete(root);
    return st;
}

/* ---- responses ------------------------------------------------------------------------------------------------ */

/* A log-prob as a JSON number: shortest round-trip digits, floored at -9999.0; NaN (a broken model) as null. */
static cJSON *lp_json(double lp)
{
    if (isnan(lp))
        return cJSON_CreateNull();
    char buf[PYFLOAT_REPR_CAP];
    return cJSON_CreateRaw(pyfloat_repr(lp < API_LOGPROB_FLOOR ? API_LOGPROB_FLOOR : lp, buf));
}

/* T (bytes) made valid UTF-8 with a map from T's byte positions to the sanitized text. Invariant: for every
 * b <= t_len, off[b] is the byte offset in out of the character (or replaced byte) containing T[b] when b starts
 * one, else of the character that T[b] continues (rounding down), and chars[b] the number of characters before
 * off[b]; off[t_len] == out.len. */
struct text_map {
    struct strbuf out;
    size_t *off;    /* (t_len + 1) */
    size_t *chars;  /* (t_len + 1) */
};

static int text_map_build(const char *t, size_t t_len, struct text_map *m, struct ge_error *err)
{
    strbuf_init(&m->out, 0);
    m->off = xcalloc(t_len + 1, sizeof *m->off);
    m->chars = xcalloc(t_len + 1, sizeof *m->chars);
    size_t n_chars = 0;
    for (size_t pos = 0; pos < t_len;) {
        size_t start = pos;
        uint32_t cp = utf8_next(t, t_len, &pos);
        for (size_t b = start; b < pos; b++) {
            m->off[b] = m->out.len;
            m->chars[b] = n_chars;
        }
        int rc = (pos == start + 1 && cp >= 0xDC80 && cp <= 0xDCFF)
                     ? strbuf_append(&m->out, "\xEF\xBF\xBD", 3, err) /* U+FFFD */
                     : strbuf_append(&m->out, t + start, pos - start, err);
        if (rc)
            return rc;
        n_chars++;
    }
    m->off[t_len] = m->out.len;
    m->chars[t_len] = n_chars;
    return GE_OK;
}

static void text_map_release(struct text_map *m)
{
    strbuf_release(&m->out);
    free(m->off);
    free(m->chars);
}

/* The string an alternative token is listed under (see server_api.h). */
static void alt_key(const struct server_model *sm, int32_t id, struct strbuf *sb)
{
    struct ge_error err;
    strbuf_reset(sb);
    if (id >= 0 && (size_t)id < tokenizer_vocab_size(sm->tok)) {
        if (!tokenizer_is_special(sm->tok, id) && tokenizer_token_piece(sm->tok, id, sb, &err) == GE_OK &&
            utf8_is_valid(sb->data ? sb->data : "", sb->len))
            return;
        strbuf_reset(sb);
        size_t len = 0;
        const char *v = tokenizer_id_to_token(sm->tok, id, &len);
        if (v != NULL && utf8_is_valid(v, len) && strbuf_append(sb, v, len, &err) == GE_OK)
            return;
        strbuf_reset(sb);
    }
    strbuf_appendf(sb, &err, "token_id:%d", (int)id);
}

/* Adds {key: lp} unless key is already there (the more probable entry wins). */
/* Adds key: lp to a top_logprobs dictionary; when two tokens share a string the more probable is kept, so that
 * max(top.values()) == the scored token's log-prob exactly when it is the argmax (lm-eval's is_greedy test): a
 * more probable token spelled like the scored one must not be hidden behind it. */
static void top_add(cJSON *dict, const char *key, double lp)
{
    const cJSON *had = cJSON_GetObjectItemCaseSensitive(dict, key);
    if (had == NULL)
        cJSON_AddItemToObject(dict, key, lp_json(lp));
    else if (cJSON_IsRaw(had) && lp > strtod(had->valuestring, NULL)) /* lp_json's items are raw number text */
        cJSON_ReplaceItemInObjectCaseSensitive(dict, key, lp_json(lp));
}

/* The echo of a text prompt as sent. Walks the tokens after the n_lead that are not from the text: a control
 * token must find its own text next in the prompt (the encoder made it from that text); a run of other tokens is
 * the text between two of them, whose pieces may start with spaces the encoder's dummy prefix added (SentencePiece
 * adds one at the start of each run, llama.cpp's rule), so the fewest of its leading spaces are dropped that make
 * it match. Sets *spelled and bound[0..n] (each token's end in the prompt's bytes) when the tokens spell the whole
 * prompt this way; else *spelled is 0 and the caller decodes the ids. Returns GE_OK or a tokenizer error. */
static int echo_spell(const struct server_model *sm, const int32_t *ids, size_t n, size_t n_lead,
                      const char *text, size_t len, size_t *bound, int *spelled, struct ge_error *err)
{
    struct strbuf run;
    strbuf_init(&run, 0);
    size_t *cum = xcalloc(n + 1, sizeof *cum); /* bytes of the run's pieces up to each of its tokens */
    size_t pos = 0, i = n_lead;
    int rc = GE_OK;
    *spelled = 0;
    for (size_t k = 0; k <= n_lead && k <= n; k++)
        bound[k] = 0;
    while (i < n) {
        strbuf_reset(&run);
        size_t first = i;
        int special = tokenizer_is_special(sm->tok, ids[i]); /* a control token is a run of its own */
        do {
            if ((rc = tokenizer_token_piece(sm->tok, ids[i], &run, err)))
                goto out;
            cum[++i] = run.len;
        } while (!special && i < n && !tokenizer_is_special(sm->tok, ids[i]));
        const char *r = strbuf_str(&run);
        size_t drop = 0; /* leading spaces of the run that are not in the prompt */
        while (run.len - drop > len - pos || memcmp(r + drop, text + pos, run.len - drop) != 0) {
            if (special || drop >= run.len || r[drop] != ' ')
                goto out; /* not spelled */
            drop++;
        }
        for (size_t k = first; k < i; k++)
            bound[k + 1] = pos + (cum[k + 1] > drop ? cum[k + 1] - drop : 0);
        pos += run.len - drop;
    }
    *spelled = pos == len;
out:
    free(cum);
    strbuf_release(&run);
    return rc;
}

/* One choice of the response; cp says where the prompt came from. */
static int build_choice(const struct server_model *sm, const struct server_job *j, const struct completion_prompt *cp,
                        size_t index, cJSON *choices, struct ge_error *err)
{
    int rc = GE_OK;
    struct strbuf t, piece, key;
    strbuf_init(&t, 0);
    strbuf_init(&piece, 0);
    strbuf_init(&key, 0);
    struct text_map map = {0};
    int64_t n_prompt_tok = j->echo ? j->n_prompt : 0;
    int64_t n_tok = n_prompt_tok + j->n_out;
    size_t *bound = xcalloc((size_t)n_tok + 1, sizeof *bound); /* byte boundaries of the tokens in T */
    size_t prompt_len = 0;
    int spelled = 0;
    if (j->echo && cp->text != NULL) {
        prompt_len = strlen(cp->text);
        rc = echo_spell(sm, j->prompt, (size_t)j->n_prompt, cp->n_lead, cp->text, prompt_len, bound, &spelled,
                        err);
        if (rc == GE_OK && spelled)
            rc = strbuf_append(&t, cp->text, prompt_len, err);
        if (rc)
            goto out;
    }
    if (j->echo && !spelled) {
        /* decode() concatenates the pieces of non-control tokens and strips up to a fixed number of leading
         * spaces of the result; so decode(prompt[0..i)) is a prefix of decode(prompt), of length
         * max(0, P_i - s) with P_i the pieces' bytes and s the spaces stripped from the whole. */
        rc = tokenizer_decode(sm->tok, j->prompt, (size_t)j->n_prompt, &t, err);
        if (rc)
            goto out;
        prompt_len = t.len;
        size_t cum = 0;
        bound[0] = 0;
        for (int64_t i = 0; i < j->n_prompt && rc == GE_OK; i++) {
            if (!tokenizer_is_special(sm->tok, j->prompt[i])) {
                strbuf_reset(&piece);
                rc = tokenizer_token_piece(sm->tok, j->prompt[i], &piece, err);
                cum += piece.len;
            }
            bound[i + 1] = cum; /* shifted by s below */
        }
        if (rc)
            goto out;
        size_t s = cum - prompt_len;
        for (int64_t i = 0; i <= j->n_prompt; i++)
            bound[i] = bound[i] > s ? bound[i] - s : 0;
    }
    rc = strbuf_append(&t, j->text.data ? j->text.data : "", j->text.len, err);
    if (rc)
        goto out;
    size_t cum = prompt_len;
    bound[n_prompt_tok] = prompt_len;
    for (int64_t i = 0; i < j->n_out && rc == GE_OK; i++) {
        int32_t id = j->out[i];
        if (id != tokenizer_eos(sm->tok)) {
            strbuf_reset(&piece);
            rc = tokenizer_token_piece(sm->tok, id, &piece, err);
            cum += piece.len;
        }
        bound[n_prompt_tok + i + 1] = cum < t.len ? cum : t.len;
    }
    if (rc)
        goto out;
    rc = text_map_build(t.data ? t.data : "", t.len, &map, err);
    if (rc)
        goto out;
    size_t text_end = map.off[prompt_len + j->text_cut];
    cJSON *c = cJSON_CreateObject();
    cJSON_AddItemToArray(choices, c);
    cJSON_AddNumberToObject(c, "index", (double)index);
    /* cJSON copies NUL-terminated strings; the text is the sanitized bytes [0, text_end). */
    char *tx = xstrndup(strbuf_str(&map.out), text_end);
    cJSON_AddStringToObject(c, "text", tx);
    free(tx);
    if (j->n_logprobs < 0) {
        cJSON_AddNullToObject(c, "logprobs");
    } else {
        cJSON *lp = cJSON_AddObjectToObject(c, "logprobs");
        cJSON *a_off = cJSON_AddArrayToObject(lp, "text_offset");
        cJSON *a_lp = cJSON_AddArrayToObject(lp, "token_logprobs");
        cJSON *a_tok = cJSON_AddArrayToObject(lp, "tokens");
        cJSON *a_top = cJSON_AddArrayToObject(lp, "top_logprobs");
        int64_t scored = 0; /* index into j->lp / j->top */
        for (int64_t k = 0; k < n_tok; k++) {
            size_t o0 = map.off[bound[k]], o1 = map.off[bound[k + 1]];
            char *ts = xstrndup(map.out.data ? map.out.data + o0 : "", o1 - o0);
            cJSON_AddItemToArray(a_tok, cJSON_CreateString(ts));
            cJSON_AddItemToArray(a_off, cJSON_CreateNumber((double)map.chars[bound[k]]));
            if (k == 0 && j->echo) { /* the first prompt token has no context */
                cJSON_AddItemToArray(a_lp, cJSON_CreateNull());
                cJSON_AddItemToArray(a_top, cJSON_CreateNull());
                free(ts);
                continue;
            }
            double v = j->lp[scored];
            const struct top_logprob *top = j->top + scored * j->n_logprobs;
            scored++;
            cJSON_AddItemToArray(a_lp, lp_json(v));
            cJSON *dict = cJSON_CreateObject();
            int32_t id = k < n_prompt_tok ? j->prompt[k] : j->out[k - n_prompt_tok];
            top_add(dict, ts, v);
            for (int a = 0; a < j->n_logprobs; a++) {
                if (top[a].id < 0 || top[a].id == id)
                    continue;
                alt_key(sm, top[a].id, &key);
                top_add(dict, strbuf_str(&key), top[a].logprob);
            }
            cJSON_AddItemToArray(a_top, dict);
            free(ts);
        }
    }
    cJSON_AddStringToObject(c, "finish_reason", j->finish == SERVER_FINISH_STOP ? "stop" : "length");
    if (j->stop_index >= 0)
        cJSON_AddStringToObject(c, "stop_reason", j->stop[j->stop_index]);
    else
        cJSON_AddNullToObject(c, "stop_reason");
out:
    free(bound);
    text_map_release(&map);
    strbuf_release(&t);
    strbuf_release(&piece);
    strbuf_release(&key);
    return rc;
}

int server_api_completion_response(const struct server_model *sm, const struct completion_request *req,
                                   uint64_t serial, char **body, struct api_error *ae)
{
    struct ge_error err;
    ge_error_clear(&err);
    cJSON *root = cJSON_CreateObject();
    char id[48];
    snprintf(id, sizeof id, "cmpl-%llu", (unsigned long long)serial);
    cJSON_AddStringToObject(root, "id", id);
    cJSON_AddStringToObject(root, "object", "text_completion");
    /* Each response's own time, as OpenAI and vLLM stamp it (reported only, never used in a computation). */
    cJSON_AddNumberToObject(root, "created", (double)time(NULL));
    cJSON_AddStringToObject(root, "model", sm->name);
    cJSON *choices = cJSON_AddArrayToObject(root, "choices");
    int64_t n_prompt = 0, n_out = 0;
    int rc = GE_OK;
    for (size_t i = 0; i < req->n_jobs && rc == GE_OK; i++) {
        rc = build_choice(sm, req->jobs[i], &req->prompts[i], i, choices, &err);
        n_prompt += req->jobs[i]->n_prompt;
        n_out += req->jobs[i]->n_out;
    }
    if (rc) {
        cJSON_Delete(root);
        return api_error_set(ae, 500, "server_error", NULL, NULL, "cannot build the response: %s", err.msg);
    }
    cJSON *usage = cJSON_AddObjectToObject(root, "usage");
    cJSON_AddNumberToObject(usage, "prompt_tokens", (double)n_prompt);
    cJSON_AddNumberToObject(usage, "total_tokens", (double)(n_prompt + n_out));
    cJSON_AddNumberToObject(usage, "completion_tokens", (double)n_out);
    *body = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    if (*body == NULL)
        return api_error_set(ae, 500, "server_error", NULL, NULL, "out of memory printing the response");
    return 0;
}

/* ---- tokenizer endpoints -------------------------------------------------------------------------------------- */

static int print_json(cJSON *root, char **out, struct api_error *ae)
{
    *out = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    if (*out == NULL)
        return api_error_set(ae, 500, "server_error", NULL, NULL, "out of memory printing the response");
    return 0;
}

int server_api_tokenize(const struct server_model *sm, const char *body, size_t len, char **out,
                        struct api_error *ae)
{
    cJSON *root = NULL;
    struct token_ids ids;
    token_ids_init(&ids, 0);
    int add_special = 1, want_strs = 0;
    int st = parse_object(body, len, &root, ae);
    if (st == 0)
        st = check_model(sm, root, ae);
    if (st == 0)
        st = get_bool(root, "add_special_tokens", 1, &add_special, ae);
    if (st == 0)
        st = get_bool(root, "return_token_strs", 0, &want_strs, ae);
    if (st)
        goto out;
    const cJSON *prompt = cJSON_GetObjectItemCaseSensitive(root, "prompt");
    if (!cJSON_IsString(prompt)) {
        st = bad_request(ae, "prompt", cJSON_GetObjectItemCaseSensitive(root, "messages")
                                                     ? "chat 'messages' are not supported: send 'prompt'"
                                                     : "'prompt' must be a string");
        goto out;
    }
    size_t plen = strlen(prompt->valuestring);
    struct ge_error err;
    ge_error_clear(&err);
    if (!utf8_is_valid(prompt->valuestring, plen)) {
        st = bad_request(ae, "prompt", "the prompt is not valid UTF-8");
        goto out;
    }
    int rc = add_special ? runtime_encode_input(sm->m, prompt->valuestring, plen, &ids, &err)
                         : tokenizer_encode(sm->tok, prompt->valuestring, plen, 0, &ids, &err);
    if (rc) {
        st = api_error_set(ae, 400, "invalid_request_error", NULL, "prompt", "cannot tokenize: %s", err.msg);
        goto out;
    }
    cJSON *res = cJSON_CreateObject();
    cJSON_AddNumberToObject(res, "count", (double)ids.n);
    cJSON_AddNumberToObject(res, "max_model_len", (double)sm->max_length);
    cJSON *arr = cJSON_AddArrayToObject(res, "tokens");
    for (size_t i = 0; i < ids.n; i++)
        cJSON_AddItemToArray(arr, cJSON_CreateNumber(ids.ids[i]));
    if (want_strs) {
        cJSON *strs = cJSON_AddArrayToObject(res, "token_strs");
        for (size_t i = 0; i < ids.n; i++) {
            size_t tl = 0;
            const char *v = tokenizer_id_to_token(sm->tok, ids.ids[i], &tl);
            char *c = xstrndup(v && utf8_is_valid(v, tl) ? v : "", v && utf8_is_valid(v, tl) ? tl : 0);
            cJSON_AddItemToArray(strs, cJSON_CreateString(c));
            free(c);
        }
    } else {
        cJSON_AddNullToObject(res, "token_strs");
    }
    st = print_json(res, out, ae);
out:
    token_ids_release(&ids);
    cJSON_Delete(root);
    return st;
}

int server_api_detokenize(const struct server_model *sm, const char *body, size_t len, char **out,
                          struct api_error *ae)
{
    cJSON *root = NULL;
    struct token_ids ids;
    struct strbuf text;
    struct text_map map = {0};
    token_ids_init(&ids, 0);
    strbuf_init(&text, 0);
    int st = parse_object(body, len, &root, ae);
    if (st == 0)
        st = check_model(sm, root, ae);
    if (st)
        goto out;
    const cJSON *tokens = cJSON_GetObjectItemCaseSensitive(root, "tokens");
    if (!cJSON_IsArray(tokens)) {
        st = bad_request(ae, "tokens", "'tokens' must be a list of token ids");
        goto out;
    }
    if (tokens->child != NULL) {
        st = parse_ids(sm, tokens, &ids, ae);
        if (st) {
            ae->param = "tokens";
            goto out;
        }
    }
    struct ge_error err;
    ge_error_clear(&err);
    if (tokenizer_decode(sm->tok, ids.ids, ids.n, &text, &err) ||
        text_map_build(text.data ? text.data : "", text.len, &map, &err)) {
        st = api_error_set(ae, 400, "invalid_request_error", NULL, "tokens", "cannot decode: %s", err.msg);
        goto out;
    }
    cJSON *res = cJSON_CreateObject();
    cJSON_AddStringToObject(res, "prompt", strbuf_str(&map.out));
    st = print_json(res, out, ae);
out:
    text_map_release(&map);
    strbuf_release(&text);
    token_ids_release(&ids);
    cJSON_Delete(root);
    return st;
}

int server_api_models(const struct server_model *sm, char **out, struct api_error *ae)
{
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "object", "list");
    cJSON *data = cJSON_AddArrayToObject(root, "data");
    cJSON *m = cJSON_CreateObject();
    cJSON_AddItemToArray(data, m);
    cJSON_AddStringToObject(m, "id", sm->name);
    cJSON_AddStringToObject(m, "object", "model");
    cJSON_AddNumberToObject(m, "created", (double)time(NULL)); /* vLLM's model card: the response's time */
    cJSON_AddStringToObject(m, "owned_by", "glam-eval");
    cJSON_AddStringToObject(m, "root", sm->name);
    cJSON_AddNullToObject(m, "parent");
    cJSON_AddNumberToObject(m, "max_model_len", (double)sm->max_length);
    return print_json(root, out, ae);
}

/* A special token's text for /tokenizer_info, or JSON null. */
static cJSON *special_json(const struct server_model *sm, int32_t id)
{
    size_t len = 0;
    const char *v = id >= 0 ? tokenizer_id_to_token(sm->tok, id, &len) : NULL;
    if (v == NULL || !utf8_is_valid(v, len))
        return cJSON_CreateNull();
    char *c = xstrndup(v, len);
    cJSON *s = cJSON_CreateString(c);
    free(c);
    return s;
}

int server_api_tokenizer_info(const struct server_model *sm, char **out, struct api_error *ae)
{
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "tokenizer_class", tokenizer_kind(sm->tok));
    cJSON_AddItemToObject(root, "bos_token", special_json(sm, tokenizer_bos(sm->tok)));
    cJSON_AddItemToObject(root, "eos_token", special_json(sm, tokenizer_eos(sm->tok)));
    cJSON_AddItemToObject(root, "unk_token", special_json(sm, tokenizer_unk(sm->tok)));
    cJSON_AddNullToObject(root, "pad_token");
    /* The rule in force (the tokenizer's, or --bos): does an input start with BOS? */
    struct token_ids ids;
    struct ge_error err;
    token_ids_init(&ids, 0);
    int add_bos = runtime_encode_input(sm->m, "", 0, &ids, &err) == GE_OK && ids.n > 0 &&
                  ids.ids[0] == tokenizer_bos(sm->tok);
    token_ids_release(&ids);
    cJSON_AddBoolToObject(root, "add_bos_token", add_bos);
    cJSON_AddNumberToObject(root, "model_max_length", (double)sm->max_length);
    cJSON_AddNumberToObject(root, "vocab_size", (double)tokenizer_vocab_size(sm->tok));
    return print_json(root, out, ae);
}
