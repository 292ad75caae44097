/* endpoint_parse.c — OpenAI-compatible completions and models responses into our structs (contracts and the format
 * in endpoint_parse.h). Every array length, type and index is checked before use; a response that fails any check
 * is rejected as a whole, so a malformed or truncated answer can never become a score. */
#include "config.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/json_text.h"
#include "harness/xalloc.h"
#include "model/endpoint_parse.h"

static void choice_release(struct endpoint_choice *c)
{
    free(c->text);
    free(c->token_logprobs);
    free(c->top_max);
    free(c->text_offset);
    if (c->tokens)
        for (size_t i = 0; i < c->n_tokens; i++)
            free(c->tokens[i]);
    free(c->tokens);
    memset(c, 0, sizeof *c);
}

void endpoint_completion_release(struct endpoint_completion *c)
{
    for (size_t i = 0; i < c->n_choices; i++)
        choice_release(&c->choices[i]);
    free(c->choices);
    memset(c, 0, sizeof *c);
}

/* A log-probability a server can send: finite and at most 0. The slack admits a float32 log-softmax rounding just
 * above 0 (an exact 0.0 for a certain token is common); anything larger is a server bug, never a score. */
static int logprob_ok(double x)
{
    return isfinite(x) && x <= 1e-4;
}

/* Reads logprobs.text_offset (n entries) into ch->text_offset, or leaves it NULL: absent, null, or unusable (then
 * offset_problem says why). Offsets are only needed to split a text prompt, so a server that does not fill them in
 * (SGLang's -1) still serves token-id prompts and generation. */
static void parse_offsets(const cJSON *off, size_t n, struct endpoint_choice *ch)
{
    if (off == NULL || cJSON_IsNull(off))
        return;
    if (!cJSON_IsArray(off) || (size_t)cJSON_GetArraySize(off) != n) {
        snprintf(ch->offset_problem, sizeof ch->offset_problem, "not an array of %zu entries (one per token)", n);
        return;
    }
    int64_t *v = xcalloc(n + 1, sizeof *v);
    size_t i = 0;
    for (const cJSON *o = off->child; o; o = o->next, i++) {
        if (!cJSON_IsNumber(o) || o->valuedouble < 0 || o->valuedouble != floor(o->valuedouble) ||
            o->valuedouble > 9e15) {
            snprintf(ch->offset_problem, sizeof ch->offset_problem, "%s at %zu, not a whole number >= 0",
                     cJSON_IsNumber(o) && o->valuedouble == -1 ? "-1 (the server does not compute offsets)"
                                                              : "malformed", i);
            free(v);
            return;
        }
        v[i] = (int64_t)o->valuedouble;
    }
    ch->text_offset = v;
}

/* Reads logprobs.tokens (n strings) into ch->tokens, or leaves it NULL when it is anything else. */
static void parse_tokens(const cJSON *toks, size_t n, struct endpoint_choice *ch)
{
    if (!cJSON_IsArray(toks) || (size_t)cJSON_GetArraySize(toks) != n)
        return;
    for (const cJSON *t = toks->child; t; t = t->next)
        if (!cJSON_IsString(t))
            return;
    ch->tokens = xcalloc(n + 1, sizeof *ch->tokens);
    size_t i = 0;
    for (const cJSON *t = toks->child; t; t = t->next)
        ch->tokens[i++] = xstrdup(t->valuestring);
}

/* Reads choice k's logprobs object into ch. */
static int parse_logprobs(const cJSON *lp, size_t k, struct endpoint_choice *ch, struct ge_error *err)
{
    const cJSON *tl = cJSON_GetObjectItemCaseSensitive(lp, "token_logprobs");
    const cJSON *top = cJSON_GetObjectItemCaseSensitive(lp, "top_logprobs");
    if (!cJSON_IsArray(tl))
        return ge_error_set(err, GE_ERR_FORMAT, "choice %zu: logprobs.token_logprobs is not an array", k);
    size_t n = (size_t)cJSON_GetArraySize(tl);
    if (n > ENDPOINT_MAX_TOKENS_PER_CHOICE)
        return ge_error_set(err, GE_ERR_LIMIT, "choice %zu: %zu tokens exceed the limit", k, n);
    if (top && !cJSON_IsNull(top) && (!cJSON_IsArray(top) || (size_t)cJSON_GetArraySize(top) != n))
        return ge_error_set(err, GE_ERR_FORMAT, "choice %zu: logprobs.top_logprobs has %d entries, token_logprobs "
                            "%zu", k, cJSON_IsArray(top) ? cJSON_GetArraySize(top) : -1, n);
    ch->n_tokens = n;
    ch->token_logprobs = xcalloc(n + 1, sizeof *ch->token_logprobs);
    ch->top_max = xcalloc(n + 1, sizeof *ch->top_max);
    parse_offsets(cJSON_GetObjectItemCaseSensitive(lp, "text_offset"), n, ch);
    parse_tokens(cJSON_GetObjectItemCaseSensitive(lp, "tokens"), n, ch);
    const cJSON *t = tl->child;
    const cJSON *p = cJSON_IsArray(top) ? top->child : NULL;
    for (size_t i = 0; i < n; i++, t = t->next) {
        if (cJSON_IsNumber(t) && !logprob_ok(t->valuedouble))
            return ge_error_set(err, GE_ERR_FORMAT, "choice %zu: logprobs.token_logprobs[%zu] is %g, not a "
                                "log-probability (<= 0)", k, i, t->valuedouble);
        if (cJSON_IsNumber(t))
            ch->token_logprobs[i] = t->valuedouble;
        else if (cJSON_IsNull(t))
            ch->token_logprobs[i] = NAN;
        else
            return ge_error_set(err, GE_ERR_FORMAT, "choice %zu: logprobs.token_logprobs[%zu] is not a number", k, i);
        ch->top_max[i] = NAN;
        if (p) {
            if (cJSON_IsObject(p)) {
                const cJSON *e;
                cJSON_ArrayForEach(e, p)
                {
                    if (!cJSON_IsNumber(e) || !logprob_ok(e->valuedouble))
                        return ge_error_set(err, GE_ERR_FORMAT, "choice %zu: logprobs.top_logprobs[%zu] holds a "
                                            "value that is not a log-probability (a number <= 0)", k, i);
                    if (isnan(ch->top_max[i]) || e->valuedouble > ch->top_max[i])
                        ch->top_max[i] = e->valuedouble;
                }
            } else if (!cJSON_IsNull(p)) {
                return ge_error_set(err, GE_ERR_FORMAT, "choice %zu: logprobs.top_logprobs[%zu] is not an object or "
                                    "null", k, i);
            }
            p = p->next;
        }
    }
    ch->has_logprobs = 1;
    return GE_OK;
}

/* A copy of the JSON text body[0..len) with every NUL (a \u0000 escape or a raw byte) replaced by U+0001, so every
 * string parses whole; same length. */
static char *nul_substituted(const char *body, size_t len)
{
    char *c = xmalloc(len + 1);
    memcpy(c, body, len);
    c[len] = '\0';
    size_t at, from = 0;
    while (from < len && json_text_find_nul(c + from, len - from, &at)) {
        at += from;
        if (c[at] == '\0') {
            c[at] = '\x01';
            from = at + 1;
        } else {
            c[at + 5] = '1'; /* \u0000 -> \u0001 */
            from = at + 6;
        }
    }
    return c;
}

int endpoint_parse_completion(const char *body, size_t len, size_t want_choices, int need_logprobs,
                              struct endpoint_completion *out, struct ge_error *err)
{
    memset(out, 0, sizeof *out);
    out->completion_tokens = -1;
    out->prompt_tokens = -1;
    int rc = GE_OK;
    /* cJSON ends a string at a NUL: with one in the body, the texts are read from a copy where each NUL is U+0001,
       and a choice whose text differs from the plain parse's is flagged (the callers decide what that means). */
    char *subst = json_text_find_nul(body, len, NULL) ? nul_substituted(body, len) : NULL;
    cJSON *root = cJSON_ParseWithLength(subst ? subst : body, len), *plain = subst ? cJSON_ParseWithLength(body, len)
                                                                                      : NULL;
    free(subst);
    if (!cJSON_IsObject(root)) {
        rc = ge_error_set(err, GE_ERR_FORMAT, "response is not a JSON object (%zu bytes%s)", len,
                          root ? "" : ", malformed or truncated JSON");
        goto out;
    }
    const cJSON *plain_choices = cJSON_GetObjectItemCaseSensitive(plain, "choices");
    const cJSON *choices = cJSON_GetObjectItemCaseSensitive(root, "choices");
    if (!cJSON_IsArray(choices)) {
        rc = ge_error_set(err, GE_ERR_FORMAT, "response has no \"choices\" array");
        goto out;
    }
    size_t n = (size_t)cJSON_GetArraySize(choices);
    if (n != want_choices || n > ENDPOINT_MAX_CHOICES) {
        rc = ge_error_set(err, GE_ERR_FORMAT, "response has %zu choices, the request asked for %zu", n, want_choices);
        goto out;
    }
    out->choices = xcalloc(n + 1, sizeof *out->choices);
    out->n_choices = n;
    unsigned char *seen = xcalloc(n + 1, 1);
    size_t pos = 0;
    const cJSON *c;
    cJSON_ArrayForEach(c, choices)
    {
        const cJSON *idx = cJSON_GetObjectItemCaseSensitive(c, "index");
        size_t k = pos;
        if (idx == NULL && n > 1) { /* the order of choices is not a promise: only index says which prompt it is */
            rc = ge_error_set(err, GE_ERR_FORMAT, "choices[%zu] has no \"index\" (a batch of %zu prompts needs it)",
                              pos, n);
            break;
        }
        if (idx) {
            if (!cJSON_IsNumber(idx) || idx->valuedouble < 0 || idx->valuedouble >= (double)n ||
                idx->valuedouble != floor(idx->valuedouble)) {
                rc = ge_error_set(err, GE_ERR_FORMAT, "choices[%zu].index is not a whole number below %zu", pos, n);
                break;
            }
            k = (size_t)idx->valuedouble;
        }
        if (seen[k]) {
            rc = ge_error_set(err, GE_ERR_FORMAT, "choices[%zu]: index %zu appears twice", pos, k);
            break;
        }
        seen[k] = 1;
        struct endpoint_choice *ch = &out->choices[k];
        const cJSON *text = cJSON_GetObjectItemCaseSensitive(c, "text");
        if (!cJSON_IsString(text)) { /* an empty answer is "", never a missing one */
            rc = ge_error_set(err, GE_ERR_FORMAT, "choice %zu: \"text\" is %s, not a string", k,
                              text == NULL ? "missing" : cJSON_IsNull(text) ? "null" : "of another type");
            break;
        }
        ch->text = xstrdup(text->valuestring);
        if (plain_choices) { /* the same choice in the plain parse: a shorter text was cut at a NUL */
            const cJSON *pt = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(plain_choices, (int)pos), "text");
            ch->text_has_nul = !cJSON_IsString(pt) || strlen(pt->valuestring) != strlen(ch->text);
        }
        const cJSON *lp = cJSON_GetObjectItemCaseSensitive(c, "logprobs");
        if (cJSON_IsObject(lp)) {
            rc = parse_logprobs(lp, k, ch, err);
            if (rc)
                break;
        }
        if (need_logprobs && (!ch->has_logprobs || ch->n_tokens == 0)) {
            rc = ge_error_set(err, GE_ERR_FORMAT, "choice %zu has no logprobs", k);
            break;
        }
        pos++;
    }
    free(seen);
    if (rc)
        goto out;
    const cJSON *usage = cJSON_GetObjectItemCaseSensitive(root, "usage");
    const cJSON *ct = cJSON_GetObjectItemCaseSensitive(usage, "completion_tokens");
    if (cJSON_IsNumber(ct) && ct->valuedouble >= 0 && ct->valuedouble < 9e15)
        out->completion_tokens = (int64_t)ct->valuedouble;
    const cJSON *pt = cJSON_GetObjectItemCaseSensitive(usage, "prompt_tokens");
    if (cJSON_IsNumber(pt) && pt->valuedouble >= 0 && pt->valuedouble < 9e15 &&
        pt->valuedouble == floor(pt->valuedouble))
        out->prompt_tokens = (int64_t)pt->valuedouble;
out:
    cJSON_Delete(root);
    cJSON_Delete(plain);
    if (rc)
        endpoint_completion_release(out);
    return rc;
}

int endpoint_parse_models(const char *body, size_t len, char **ids, size_t cap, size_t *n_ids, struct ge_error *err)
{
    *n_ids = 0;
    int rc = GE_OK;
    cJSON *root = cJSON_ParseWithLength(body, len);
    const cJSON *data = cJSON_GetObjectItemCaseSensitive(root, "data");
    if (!cJSON_IsArray(data)) {
        rc = ge_error_set(err, GE_ERR_FORMAT, "models response has no \"data\" array");
        goto out;
    }
    const cJSON *m;
    cJSON_ArrayForEach(m, data)
    {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(m, "id");
        if (!cJSON_IsString(id) || id->valuestring[0] == '\0') {
            rc = ge_error_set(err, GE_ERR_FORMAT, "models response: data[%zu].id is not a non-empty string", *n_ids);
            break;
        }
        if (*n_ids < cap)
            ids[*n_ids] = xstrdup(id->valuestring);
        (*n_ids)++;
    }
    if (rc)
        for (size_t i = 0; i < *n_ids && i < cap; i++) {
            free(ids[i]);
            ids[i] = NULL;
        }
out:
    cJSON_Delete(root);
    return rc;
}

void endpoint_error_message(const char *body, size_t len, char *out, size_t cap)
{
    out[0] = '\0';
    if (cap == 0 || body == NULL)
        return;
    cJSON *root = cJSON_ParseWithLength(body, len);
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(root, "error");
    const cJSON *msg = cJSON_IsObject(e) ? cJSON_GetObjectItemCaseSensitive(e, "message") : e;
    if (!cJSON_IsString(msg))
        msg = cJSON_GetObjectItemCaseSensitive(root, "detail");
    if (!cJSON_IsString(msg))
        msg = cJSON_GetObjectItemCaseSensitive(root, "message");
    const char *s = cJSON_IsString(msg) ? msg->valuestring : body;
    size_t n = cJSON_IsString(msg) ? strlen(s) : len;
    if (n > cap - 1)
        n = cap - 1;
    memcpy(out, s, n);
    out[n] = '\0';
    for (size_t i = 0; i < n; i++) /* one line in messages */
        if (out[i] == '\n' || out[i] == '\r')
            out[i] = ' ';
    cJSON_Delete(root);
}

/* Bytes of the UTF-8 sequence that starts with byte c (1 for a byte that cannot start one: it counts as one
 * character, as count_code_points in endpoint.c counts it). */
static size_t utf8_seq_len(unsigned char c)
{
    return c >= 0xF0 && c < 0xF8 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
}

static int64_t code_points(const char *s, size_t len)
{
    int64_t n = 0;
    for (size_t i = 0; i < len; i++)
        n += ((unsigned char)s[i] & 0xC0) != 0x80;
    return n;
}

/* Text mode: do the first n_pos positions' offsets locate their token strings in the echoed text, ending at the
 * prompt's end (prompt_cp code points)? GE_ERR_STATE naming the first position that does not. Costs one pass over
 * the text: offsets never decrease, so the walk from code points to bytes only moves forward. */
static int check_offsets(const struct endpoint_choice *ch, size_t n_pos, int64_t prompt_cp, struct ge_error *err)
{
    if (ch->text_offset == NULL)
        return ge_error_set(err, GE_ERR_STATE, "logprobs.text_offset is %s",
                            ch->offset_problem[0] ? ch->offset_problem : "missing");
    if (ch->tokens == NULL)
        return ge_error_set(err, GE_ERR_STATE, "logprobs.tokens is missing or not strings, so text_offset cannot be "
                            "checked against the echoed text");
    const char *t = ch->text;
    size_t t_len = strlen(t), at = 0; /* at: the byte where code point cp starts */
    int64_t cp = 0, end = 0;
    for (size_t i = 0; i < n_pos; i++) {
        int64_t off = ch->text_offset[i];
        if (i == 0 && off != 0)
            return ge_error_set(err, GE_ERR_STATE, "logprobs.text_offset[0] is %lld: the echoed prompt's first token "
                                "must start at 0", (long long)off);
        if (off < cp)
            return ge_error_set(err, GE_ERR_STATE, "logprobs.text_offset decreases at %zu", i);
        while (cp < off && at < t_len) {
            size_t l = utf8_seq_len((unsigned char)t[at]);
            at = at + l < t_len ? at + l : t_len;
            cp++;
        }
        const char *tok = ch->tokens[i];
        size_t tok_len = strlen(tok);
        if (cp < off || tok_len > t_len - at || memcmp(t + at, tok, tok_len) != 0) {
            size_t shown = 0; /* the text there, as many whole characters as the token has (at least 1, at most 20) */
            for (int64_t c = 0, want = code_points(tok, tok_len); at + shown < t_len && (c < want || c == 0) && c < 20;
                 c++)
                shown += utf8_seq_len((unsigned char)t[at + shown]);
            shown = at + shown < t_len ? shown : t_len - at;
            return ge_error_set(err, GE_ERR_STATE, "logprobs.tokens[%zu] \"%.40s\" is not the echoed text at its "
                                "text_offset %lld (\"%.*s\")", i, tok, (long long)off, (int)shown, t + at);
        }
        int64_t e = off + code_points(tok, tok_len);
        if (e > end)
            end = e;
    }
    if (n_pos > 0 && end != prompt_cp)
        return ge_error_set(err, GE_ERR_STATE, "the echoed prompt's tokens end at character %lld of the text, the "
                            "prompt at %lld", (long long)end, (long long)prompt_cp);
    return GE_OK;
}

int endpoint_choice_loglik(const struct endpoint_choice *ch, size_t n_prompt, size_t n_cont, size_t n_gen,
                           int64_t ctx_cp, int64_t prompt_cp, double *logprob, int64_t *n_scored, int *is_greedy,
                           double **per_token, struct ge_error *err)
{
    size_t first, end;
    if (per_token)
        *per_token = NULL;
    if (n_cont > 0) {
        /* token ids were sent: exactly one position per id, then the generated ones. A server that adds a token
           (a BOS before the ids) returns more, and the last n_cont prompt positions would not be the continuation */
        if (ch->n_tokens != n_prompt + n_gen)
            return ge_error_set(err, GE_ERR_FORMAT, "logprobs cover %zu positions, the request sent %zu token ids and "
                                "max_tokens %zu (%s)", ch->n_tokens, n_prompt, n_gen,
                                ch->n_tokens > n_prompt + n_gen ? "the server adds tokens to a token-id prompt, e.g. "
                                "a BOS, so positions cannot be matched to the ids sent" : "echo=true should return "
                                "every prompt token");
        if (n_cont >= n_prompt)
            return ge_error_set(err, GE_ERR_USAGE, "continuation of %zu tokens leaves no context token in a prompt "
                                "of %zu", n_cont, n_prompt);
        first = n_prompt - n_cont;
        end = n_prompt;
    } else {
        if (ch->n_tokens <= n_gen)
            return ge_error_set(err, GE_ERR_FORMAT, "logprobs cover %zu positions with max_tokens %zu: no prompt "
                                "token (echo=true should return every prompt token)", ch->n_tokens, n_gen);
        end = ch->n_tokens - n_gen;
        int rc = check_offsets(ch, end, prompt_cp, err);
        if (rc)
            return rc;
        first = 0;
        while (first < end && ch->text_offset[first] < ctx_cp)
            first++;
        if (first == end)
            return ge_error_set(err, GE_ERR_FORMAT, "no token of the echoed prompt starts at or after the context's "
                                "end (code point %lld): the server merged the continuation into the context's last "
                                "token", (long long)ctx_cp);
        if (first == 0)
            return ge_error_set(err, GE_ERR_USAGE, "the continuation starts at the prompt's first token, which has no "
                                "log-probability (give a context or --tokenizer)");
    }
    double sum = 0;
    int greedy = 1;
    for (size_t i = first; i < end; i++) {
        double lp = ch->token_logprobs[i];
        if (isnan(lp))
            return ge_error_set(err, GE_ERR_FORMAT, "logprobs.token_logprobs[%zu] (a continuation token) is null", i);
        if (isnan(ch->top_max[i]))
            return ge_error_set(err, GE_ERR_FORMAT, "logprobs.top_logprobs[%zu] (a continuation token) is missing", i);
        if (lp > ch->top_max[i] + 1e-4) /* the listed top tokens would not be the top ones */
            return ge_error_set(err, GE_ERR_FORMAT, "logprobs.token_logprobs[%zu] is %g, above every top_logprobs "
                                "value (largest %g)", i, lp, ch->top_max[i]);
        sum += lp;
        if (lp < ch->top_max[i])
            greedy = 0;
    }
    *logprob = sum;
    *n_scored = (int64_t)(end - first);
    *is_greedy = greedy;
    if (per_token) {
        *per_token = xcalloc(end - first + 1, sizeof **per_token);
        memcpy(*per_token, ch->token_logprobs + first, (end - first) * sizeof **per_token);
    }
    return GE_OK;
}
