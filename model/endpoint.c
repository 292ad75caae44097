/* endpoint.c — the remote OpenAI-compatible backend (contracts in endpoint.h): request bodies, the start-up probes,
 * and turning checked responses into loglikelihood and generation results.
 *
 * Invariants: a result is written only from a response that passed every check of endpoint_parse.h for all the
 * prompts of its HTTP request; the API key lives only in the transport's header list.
 * The echo comparison of token-id batches is in endpoint_echo.c. Longer than ~800 lines: the probes, the per-batch
 * checks and the result paths all read struct endpoint (its tokenizer and what the probes found). */
#include "config.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness/sha256.h"
#include "harness/strbuf.h"
#include "harness/xalloc.h"
#include "model/endpoint.h"
#include "model/endpoint_echo.h"
#include "model/endpoint_parse.h"
#include "model/request_tokens.h"
#include "model/tokenizer.h"
#include "results/identity.h"

#define MAX_MODEL_IDS 64
#define PROBE_TEXT "The capital of France is Paris."

struct endpoint {
    struct endpoint_http *http;   /* owned */
    char *model_name;             /* owned: the served id sent as "model" */
    char *url_set;                /* owned: sorted URLs joined by spaces */
    struct tokenizer *tok;        /* owned; NULL = text prompts */
    int add_bos;                  /* token-id prompts start with BOS */
    int32_t prefix_id;            /* stands for an empty context: BOS, else EOS */
    int64_t max_length;           /* 0 = unknown */
    size_t per_request;           /* prompts per HTTP request */
    uint64_t seed;
    int echo_ok;                  /* 1: the probe's echo answer could be scored */
    int echo_max_tokens;          /* 0 or 1: what the server accepted with echo */
    char echo_problem[800];       /* why echo_ok == 0: the whole message after the URL */
    int echo_ids_match;           /* token mode: the probe's echo of its ids is their text (endpoint_echo.h), so a
                                     batch's choices can be told apart by their text */
    char echo_ids_problem[300];   /* when echo_ids_match == 0: the two texts */
    char identity[65];
    const struct model_sink *sink; /* borrowed, or NULL: where finished results go at once (model.h) */
};

static const struct model_ops endpoint_ops;

void endpoint_options_init(struct endpoint_options *opt)
{
    memset(opt, 0, sizeof *opt);
    endpoint_http_options_init(&opt->http);
    opt->bos = RUNTIME_BOS_AUTO;
    opt->prompts_per_request = 1;
    opt->seed = 1234;
}

int endpoint_is(const struct model *m) { return m && m->ops == &endpoint_ops; }
const char *endpoint_url_set(const struct model *m) { return endpoint_is(m) ? ((struct endpoint *)m->self)->url_set : NULL; }
const char *endpoint_served_model(const struct model *m)
{
    return endpoint_is(m) ? ((struct endpoint *)m->self)->model_name : NULL;
}
int64_t endpoint_max_length(const struct model *m) { return endpoint_is(m) ? ((struct endpoint *)m->self)->max_length : 0; }
int endpoint_has_tokenizer(const struct model *m) { return endpoint_is(m) && ((struct endpoint *)m->self)->tok != NULL; }

int endpoint_check_loglikelihood(const struct model *m, struct ge_error *err)
{
    const struct endpoint *ep = m->self;
    if (!ep->echo_ok)
        return ge_error_set(err, GE_ERR_STATE, "%s: %s", endpoint_http_url(ep->http, 0), ep->echo_problem);
    /* With several token-id prompts per request, only the echoed text tells which prompt a choice answers (equal
       lengths give equal-shaped answers); if it cannot be compared with the ids sent, a swapped batch would be
       scored silently. */
    if (ep->tok && ep->per_request > 1 && !ep->echo_ids_match)
        return ge_error_set(err, GE_ERR_STATE, "%s: the server's echo of a token-id prompt is not that prompt's text "
                            "(%s), so with --prompts-per-request %zu its answers could not be matched to their "
                            "prompts; use --prompts-per-request 1", endpoint_http_url(ep->http, 0),
                            ep->echo_ids_problem, ep->per_request);
    return GE_OK;
}

static int encode_text(void *ctx, const char *text, size_t len, int at_start, struct token_ids *out,
                       struct ge_error *err)
{
    const struct endpoint *ep = ctx;
    return tokenizer_encode(ep->tok, text, len, at_start && ep->add_bos ? TOKENIZER_ADD_BOS : 0, out, err);
}

int endpoint_count_tokens(void *mp, const char *text, int64_t *n_tokens, struct ge_error *err)
{
    const struct model *m = mp;
    struct endpoint *ep = m->self;
    if (ep->tok == NULL)
        return ge_error_set(err, GE_ERR_USAGE, "counting tokens needs --tokenizer");
    struct token_ids ids;
    token_ids_init(&ids, 0);
    int rc = encode_text(ep, text, strlen(text), 1, &ids, err);
    *n_tokens = (int64_t)ids.n;
    token_ids_release(&ids);
    return rc;
}

static int64_t count_code_points(const char *s, size_t len)
{
    int64_t n = 0;
    for (size_t i = 0; i < len; i++)
        n += ((unsigned char)s[i] & 0xC0) != 0x80;
    return n;
}

/* Python's str.isspace() on ASCII (lm-eval rstrips the context). TODO: Unicode spaces (U+00A0, U+3000, ...) at
 * the end of a context are not moved; no GLaM task's prompt ends in one. */
static size_t trailing_ascii_space(const char *s, size_t len)
{
    size_t n = 0;
    while (n < len && strchr(" \t\n\r\v\f\x1c\x1d\x1e\x1f", s[len - 1 - n]) && s[len - 1 - n] != '\0')
        n++;
    return n;
}

/* ---- request bodies ------------------------------------------------------------------------------------------ */

/* One prompt: token ids (ids != NULL) or text. */
struct prompt {
    int32_t *ids;      /* owned or NULL */
    size_t n_ids;
    char *text;        /* owned or NULL */
};

static cJSON *prompt_json(const struct prompt *p)
{
    if (p->ids == NULL)
        return cJSON_CreateString(p->text);
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; i < p->n_ids; i++)
        cJSON_AddItemToArray(a, cJSON_CreateNumber(p->ids[i]));
    return a;
}

/* The body of a completions request for prompts[0..n). */
static char *completion_body(const struct endpoint *ep, const struct prompt *prompts, size_t n, int loglik,
                             int64_t max_tokens, const char *const *stop, size_t n_stop)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "model", ep->model_name);
    if (n == 1) {
        cJSON_AddItemToObject(o, "prompt", prompt_json(&prompts[0]));
    } else {
        cJSON *a = cJSON_AddArrayToObject(o, "prompt");
        for (size_t i = 0; i < n; i++)
            cJSON_AddItemToArray(a, prompt_json(&prompts[i]));
    }
    cJSON_AddNumberToObject(o, "max_tokens", (double)max_tokens);
    cJSON_AddNumberToObject(o, "temperature", 0);
    if (loglik) {
        cJSON_AddNumberToObject(o, "logprobs", 1);
        cJSON_AddBoolToObject(o, "echo", 1);
    } else if (n_stop > 0) {
        cJSON *a = cJSON_AddArrayToObject(o, "stop");
        for (size_t i = 0; i < n_stop; i++)
            cJSON_AddItemToArray(a, cJSON_CreateString(stop[i]));
    }
    cJSON_AddNumberToObject(o, "seed", (double)(ep->seed & 0x7fffffff));
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return s;
}

/* ---- loglikelihood ------------------------------------------------------------------------------------------- */

/* One loglikelihood request, prepared. */
struct ll_prep {
    struct prompt p;
    size_t n_cont;      /* token mode: continuation tokens (the last n_cont of p.ids) */
    int64_t ctx_cp;     /* text mode: code points of the context without trailing whitespace */
    int64_t prompt_cp;  /* text mode: code points of the prompt */
    int truncated;
    char *error;        /* owned: why the request cannot be sent */
};

/* The requests of one HTTP call: preps[first .. first + n) of the batch. */
struct ll_group {
    const struct endpoint *ep;
    struct ll_prep *preps;
    size_t first, n;
    size_t *slot;        /* (n) index into out[] of each prompt */
    struct ll_result *out;
    int want_tokens;
};

/* Token mode, several prompts: is choice k another prompt's answer? Its echo, compared with the ids as the local
 * tokenizer decodes them (endpoint_echo.h), names the prompt it answers. Only a choice whose echo is another prompt's
 * and not its own is rejected: one whose echo is neither (a decoding this comparison does not cover) is accepted,
 * as it was before the check, because its prompt could not be told from any other either. Returns the index of the
 * prompt it answers, or k. */
static size_t choice_owner(const struct ll_group *g, const struct endpoint_completion *c, char **norms, size_t k)
{
    char *echo = endpoint_choice_echo_norm(g->ep->tok, &c->choices[k], (size_t)g->ep->echo_max_tokens);
    size_t owner = k;
    if (norms[k] == NULL || strcmp(echo, norms[k]) != 0)
        for (size_t j = 0; j < g->n; j++)
            if (j != k && norms[j] && strcmp(echo, norms[j]) == 0 && (norms[k] == NULL || strcmp(norms[j], norms[k])))
                owner = j;
    free(echo);
    return owner;
}

static int ll_check(void *ctx, const char *body, size_t len, struct ge_error *err)
{
    struct ll_group *g = ctx;
    const struct endpoint *ep = g->ep;
    struct endpoint_completion c;
    int rc = endpoint_parse_completion(body, len, g->n, 1, &c, err);
    if (rc)
        return rc;
    struct ll_result *tmp = xcalloc(g->n, sizeof *tmp);
    char **norms = NULL;
    size_t n_ids = 0;
    for (size_t k = 0; k < g->n; k++)
        n_ids += g->preps[g->slot[k]].p.n_ids;
    if (ep->tok && c.prompt_tokens >= 0 && (size_t)c.prompt_tokens != n_ids) {
        /* the server counted other tokens than it was sent (it added a BOS, or dropped some): the positions would
           not be the ids' */
        rc = ge_error_set(err, GE_ERR_FORMAT, "usage.prompt_tokens is %lld, the request sent %zu token ids",
                          (long long)c.prompt_tokens, n_ids);
    }
    if (rc == GE_OK && ep->tok && g->n > 1 && ep->echo_ids_match) {
        norms = xcalloc(g->n, sizeof *norms);
        for (size_t k = 0; k < g->n; k++) {
            const struct prompt *pr = &g->preps[g->slot[k]].p;
            norms[k] = endpoint_ids_norm(ep->tok, pr->ids, pr->n_ids);
        }
        for (size_t k = 0; k < g->n && rc == GE_OK; k++) {
            size_t owner = choice_owner(g, &c, norms, k);
            if (owner != k)
                rc = ge_error_set(err, GE_ERR_FORMAT, "choice %zu: the echoed text is prompt %zu's, not the prompt "
                                  "sent (choices swapped under their index?)", k, owner);
        }
    }
    for (size_t k = 0; k < g->n && rc == GE_OK; k++) {
        const struct ll_prep *p = &g->preps[g->slot[k]];
        struct ge_error e;
        ge_error_clear(&e);
        size_t n_prompt = p->p.ids ? p->p.n_ids : 0;
        if (p->p.text && strncmp(c.choices[k].text, p->p.text, strlen(p->p.text)) != 0) {
            /* the offsets are only meaningful in the prompt sent: another prompt's answer, or a server whose echo
               is not the prompt, would put the continuation's boundary in the wrong place */
            rc = ge_error_set(err, GE_ERR_FORMAT, "choice %zu: the echoed text is not the prompt sent (another "
                              "prompt's answer, or a server that does not echo text exactly: give --tokenizer to "
                              "send token ids)", k);
            break;
        }
        int r = endpoint_choice_loglik(&c.choices[k], n_prompt, p->p.ids ? p->n_cont : 0,
                                       (size_t)ep->echo_max_tokens, p->ctx_cp, p->prompt_cp, &tmp[k].logprob,
                                       &tmp[k].n_tokens, &tmp[k].is_greedy,
                                       g->want_tokens ? &tmp[k].token_logprobs : NULL, &e);
        if (r == GE_ERR_USAGE) {
            tmp[k].error = xstrdup(e.msg); /* about this request, not the response: final */
        } else if (r == GE_ERR_STATE) {
            /* the server's offsets do not locate its tokens in this prompt (the start-up probe's were fine): the
               same question gets the same answer, so this request cannot be scored from text; never guess */
            char msg[1200];
            snprintf(msg, sizeof msg, "%.300s: the answer's text_offset does not locate its tokens in this prompt "
                     "(%.600s), so the continuation cannot be found; give --tokenizer to send token ids",
                     endpoint_http_url(ep->http, 0), e.msg);
            tmp[k].error = xstrdup(msg);
        } else if (r) {
            rc = ge_error_set(err, r, "choice %zu: %s", k, e.msg);
        }
        tmp[k].truncated = p->truncated;
    }
    if (rc == GE_OK)
        for (size_t k = 0; k < g->n; k++) {
            g->out[g->slot[k]] = tmp[k];
            const struct model_sink *sink = ep->sink;
            if (sink && sink->ll_done && tmp[k].error == NULL) /* final: a passed check is never retried */
                sink->ll_done(sink->ctx, g->slot[k], &g->out[g->slot[k]]);
        }
    else
        for (size_t k = 0; k < g->n; k++)
            model_ll_result_release(&tmp[k]);
    for (size_t k = 0; norms && k < g->n; k++)
        free(norms[k]);
    free(norms);
    free(tmp);
    endpoint_completion_release(&c);
    return rc;
}

static int prepare_ll(struct endpoint *ep, const struct ll_request *r, struct ll_prep *p, struct ge_error *err)
{
    memset(p, 0, sizeof *p);
    if (ep->tok == NULL) {
        size_t cl = strlen(r->context), nl = strlen(r->continuation);
        size_t strip = trailing_ascii_space(r->context, cl);
        p->ctx_cp = count_code_points(r->context, cl - strip);
        p->prompt_cp = count_code_points(r->context, cl) + count_code_points(r->continuation, nl);
        if (nl == 0) {
            p->error = xstrdup("empty continuation");
        } else if (p->ctx_cp == 0) {
            p->error = xstrdup("an empty context cannot be scored from a text prompt (its first token has no "
                               "log-probability); give --tokenizer to send token ids with a prefix token");
        } else {
            p->p.text = xmalloc(cl + nl + 1);
            memcpy(p->p.text, r->context, cl);
            memcpy(p->p.text + cl, r->continuation, nl + 1);
        }
        return GE_OK;
    }
    struct request_tokens rt;
    request_tokens_init(&rt);
    struct ge_error e;
    ge_error_clear(&e);
    int rc = request_tokens_encode(encode_text, ep, ep->prefix_id, r->context, r->continuation, INT64_MAX / 4, &rt,
                                   &e);
    if (rc == GE_ERR_USAGE || rc == GE_ERR_FORMAT) {
        p->error = xstrdup(e.msg);
        rc = GE_OK;
    } else if (rc) {
        ge_error_set(err, rc, "%s", e.msg);
    } else {
        /* lm-eval's API models: (ctx + cont)[-max_length:], the first kept token then only conditions */
        size_t n = rt.all.n, start = 0;
        if (ep->max_length > 0 && n > (size_t)ep->max_length)
            start = n - (size_t)ep->max_length;
        if (rt.n_cont >= n - start) {
            p->error = xstrdup("the continuation alone fills the context window");
        } else {
            p->p.n_ids = n - start;
            p->p.ids = xmalloc(p->p.n_ids * sizeof *p->p.ids);
            memcpy(p->p.ids, rt.all.ids + start, p->p.n_ids * sizeof *p->p.ids);
            p->n_cont = rt.n_cont;
            p->truncated = start > 0;
        }
    }
    request_tokens_release(&rt);
    return rc;
}

/* Sends groups of prompts; status handling shared by loglikelihood and generation. Returns the batch's error, or
 * GE_OK after turning final 400/413/422 answers into per-request errors via set_error(ctx, group, message). */
static int finish_calls(struct endpoint *ep, struct endpoint_call *calls, size_t n_calls,
                        void (*set_error)(void *ctx, size_t group, const char *msg), void *ctx, struct ge_error *err)
{
    int rc = endpoint_http_run(ep->http, calls, n_calls, err);
    for (size_t i = 0; i < n_calls && rc == GE_OK; i++) {
        long st = calls[i].status;
        if (st >= 200 && st < 300)
            continue;
        char msg[400];
        endpoint_error_message(calls[i].response, calls[i].response_len, msg, sizeof msg);
        if (st == 400 || st == 413 || st == 422) {
            char full[520];
            snprintf(full, sizeof full, "%s: HTTP %ld: %s", endpoint_http_url(ep->http, calls[i].endpoint), st, msg);
            set_error(ctx, i, full);
        } else if (st < 0) {
            rc = ge_error_set(err, GE_ERR_LIMIT, "%s: response larger than the limit",
                              endpoint_http_url(ep->http, calls[i].endpoint));
        } else {
            rc = ge_error_set(err, GE_ERR_IO, "%s%s: HTTP %ld: %s%s", endpoint_http_url(ep->http, calls[i].endpoint),
                              calls[i].path, st, msg,
                              st == 401 || st == 403 ? " (check --api-key-env)"
                              : st == 404 ? " (check the URL, which should end in /v1, and --model-name)" : "");
        }
    }
    return rc;
}

struct ll_batch {
    struct ll_group *groups;
    struct ll_result *out;
};

static void ll_set_error(void *ctx, size_t gi, const char *msg)
{
    struct ll_batch *b = ctx;
    const struct ll_group *g = &b->groups[gi];
    for (size_t k = 0; k < g->n; k++) {
        model_ll_result_release(&b->out[g->slot[k]]);
        b->out[g->slot[k]].error = xstrdup(msg);
    }
}

static int endpoint_loglikelihood(void *self, const struct ll_request *reqs, size_t n, struct ll_result *out,
                                  struct ge_error *err)
{
    struct endpoint *ep = self;
    struct model m = {.ops = &endpoint_ops, .self = ep};
    int rc = endpoint_check_loglikelihood(&m, err);
    if (rc)
        return rc;
    struct ll_prep *preps = xcalloc(n + 1, sizeof *preps);
    size_t *slots = xcalloc(n + 1, sizeof *slots);
    size_t n_send = 0;
    for (size_t i = 0; i < n && rc == GE_OK; i++) {
        memset(&out[i], 0, sizeof out[i]);
        rc = prepare_ll(ep, &reqs[i], &preps[i], err);
        if (rc == GE_OK && preps[i].error)
            out[i].error = xstrdup(preps[i].error);
        else if (rc == GE_OK)
            slots[n_send++] = i;
    }
    size_t n_groups = (n_send + ep->per_request - 1) / ep->per_request;
    struct ll_group *groups = xcalloc(n_groups + 1, sizeof *groups);
    struct endpoint_call *calls = xcalloc(n_groups + 1, sizeof *calls);
    for (size_t g = 0; g < n_groups && rc == GE_OK; g++) {
        struct ll_group *gr = &groups[g];
        gr->ep = ep;
        gr->preps = preps;
        gr->first = g * ep->per_request;
        gr->n = n_send - gr->first < ep->per_request ? n_send - gr->first : ep->per_request;
        gr->slot = slots + gr->first;
        gr->out = out;
        gr->want_tokens = reqs[0].want_token_logprobs;
        struct prompt *ps = xcalloc(gr->n, sizeof *ps);
        for (size_t k = 0; k < gr->n; k++)
            ps[k] = preps[gr->slot[k]].p;
        calls[g].path = "/completions";
        calls[g].body = completion_body(ep, ps, gr->n, 1, ep->echo_max_tokens, NULL, 0);
        calls[g].check = ll_check;
        calls[g].check_ctx = gr;
        free(ps);
    }
    if (rc == GE_OK) {
        struct ll_batch b = {.groups = groups, .out = out};
        rc = finish_calls(ep, calls, n_groups, ll_set_error, &b, err);
    }
    for (size_t g = 0; g < n_groups; g++) {
        free((char *)calls[g].body);
        endpoint_call_release(&calls[g]);
    }
    for (size_t i = 0; i < n; i++) {
        free(preps[i].p.ids);
        free(preps[i].p.text);
        free(preps[i].error);
        if (rc)
            model_ll_result_release(&out[i]);
    }
    free(calls);
    free(groups);
    free(slots);
    free(preps);
    return rc;
}

/* ---- generation ---------------------------------------------------------------------------------------------- */

struct gen_group {
    const struct gen_request *reqs;
    size_t first, n;
    struct gen_result *out;
    const struct model_sink *sink; /* borrowed, or NULL */
};

/* The text before the earliest stop string (lm-eval cuts again after the server: some servers keep the stop). */
static char *cut_at_stop(const char *text, const char *const *stop, size_t n_stop)
{
    size_t cut = strlen(text);
    for (size_t s = 0; s < n_stop; s++) {
        const char *hit = stop[s][0] ? strstr(text, stop[s]) : NULL;
        if (hit && (size_t)(hit - text) < cut)
            cut = (size_t)(hit - text);
    }
    return xstrndup(text, cut);
}

static int gen_check(void *ctx, const char *body, size_t len, struct ge_error *err)
{
    struct gen_group *g = ctx;
    struct endpoint_completion c;
    int rc = endpoint_parse_completion(body, len, g->n, 0, &c, err);
    if (rc)
        return rc;
    for (size_t k = 0; k < g->n; k++) {
        const struct gen_request *r = &g->reqs[g->first + k];
        struct gen_result *o = &g->out[g->first + k];
        model_gen_result_release(o);
        if (c.choices[k].text_has_nul) {
            /* A model can generate a NUL byte; the answer cannot be stored whole, so this request gets no answer
               (an error, reported with the document) rather than a text cut short or changed. */
            o->error = xstrdup("the generated text holds a NUL character (\\u0000), which cannot be stored whole");
            continue;
        }
        o->text = cut_at_stop(c.choices[k].text, r->stop, r->n_stop);
        o->n_tokens = g->n == 1 ? c.completion_tokens : -1;
        if (g->sink && g->sink->gen_done)
            g->sink->gen_done(g->sink->ctx, g->first + k, o);
    }
    endpoint_completion_release(&c);
    return GE_OK;
}

static void gen_set_error(void *ctx, size_t gi, const char *msg)
{
    const struct gen_group *g = &((const struct gen_group *)ctx)[gi];
    for (size_t k = 0; k < g->n; k++) {
        model_gen_result_release(&g->out[g->first + k]);
        g->out[g->first + k].error = xstrdup(msg);
    }
}

static int endpoint_generate(void *self, const struct gen_request *reqs, size_t n, struct gen_result *out,
                             struct ge_error *err)
{
    struct endpoint *ep = self;
    int rc = GE_OK;
    for (size_t i = 0; i < n; i++) {
        memset(&out[i], 0, sizeof out[i]);
        if (reqs[i].beam_width > 1)
            return ge_error_set(err, GE_ERR_USAGE, "beam search (width %d) is not available from an endpoint; use "
                                "greedy (width 1)", reqs[i].beam_width);
    }
    /* Requests batched together must share max_tokens and stop strings (one body carries them). */
    struct gen_group *groups = xcalloc(n + 1, sizeof *groups);
    struct endpoint_call *calls = xcalloc(n + 1, sizeof *calls);
    struct prompt *ps = xcalloc(n + 1, sizeof *ps);
    size_t n_groups = 0;
    for (size_t i = 0; i < n && rc == GE_OK; i++) {
        const struct gen_request *r = &reqs[i];
        if (ep->tok) {
            struct token_ids ids;
            token_ids_init(&ids, 0);
            rc = encode_text(ep, r->context, strlen(r->context), 1, &ids, err);
            if (rc == GE_OK && ids.n == 0)
                rc = token_ids_push(&ids, ep->prefix_id, err);
            size_t start = 0;
            if (ep->max_length > 0) { /* keep the last max_length - max_tokens context tokens, as the runtime */
                int64_t max_new = r->max_tokens < ep->max_length ? r->max_tokens : ep->max_length - 1;
                size_t keep = (size_t)(ep->max_length - max_new);
                start = ids.n > keep ? ids.n - keep : 0;
            }
            out[i].truncated = start > 0;
            ps[i].n_ids = ids.n - start;
            ps[i].ids = xmalloc((ps[i].n_ids + 1) * sizeof *ps[i].ids);
            if (ids.n)
                memcpy(ps[i].ids, ids.ids + start, ps[i].n_ids * sizeof *ps[i].ids);
            token_ids_release(&ids);
        } else {
            ps[i].text = xstrdup(r->context);
        }
        int same = n_groups > 0 && groups[n_groups - 1].n < ep->per_request;
        if (same) {
            const struct gen_request *a = &reqs[groups[n_groups - 1].first];
            same = a->max_tokens == r->max_tokens && a->n_stop == r->n_stop;
            for (size_t s = 0; same && s < r->n_stop; s++)
                same = strcmp(a->stop[s], r->stop[s]) == 0;
        }
        if (same)
            groups[n_groups - 1].n++;
        else
            groups[n_groups++] = (struct gen_group){.reqs = reqs, .first = i, .n = 1, .out = out, .sink = ep->sink};
    }
    for (size_t g = 0; g < n_groups && rc == GE_OK; g++) {
        const struct gen_request *r = &reqs[groups[g].first];
        calls[g].path = "/completions";
        calls[g].body = completion_body(ep, ps + groups[g].first, groups[g].n, 0, r->max_tokens, r->stop, r->n_stop);
        calls[g].check = gen_check;
        calls[g].check_ctx = &groups[g];
    }
    if (rc == GE_OK) /* a final 400/413/422 (a prompt too long for the server) is that group's requests' error */
        rc = finish_calls(ep, calls, n_groups, gen_set_error, groups, err);
    for (size_t g = 0; g < n_groups; g++) {
        free((char *)calls[g].body);
        endpoint_call_release(&calls[g]);
    }
    for (size_t i = 0; i < n; i++) {
        free(ps[i].ids);
        free(ps[i].text);
        if (rc)
            model_gen_result_release(&out[i]);
    }
    free(ps);
    free(calls);
    free(groups);
    return rc;
}

/* ---- info, open, free ---------------------------------------------------------------------------------------- */

static int endpoint_info(void *self, struct model_info *info, struct ge_error *err)
{
    (void)err;
    const struct endpoint *ep = self;
    memset(info, 0, sizeof *info);
    memcpy(info->identity, ep->identity, sizeof info->identity);
    snprintf(info->name, sizeof info->name, "%s", ep->model_name);
    snprintf(info->kind, sizeof info->kind, "remote");
    info->context_length = ep->max_length;
    return GE_OK;
}

static void endpoint_free(void *self)
{
    struct endpoint *ep = self;
    if (ep == NULL)
        return;
    endpoint_http_free(ep->http);
    tokenizer_free(ep->tok);
    free(ep->model_name);
    free(ep->url_set);
    free(ep);
}

static void endpoint_set_sink(void *self, const struct model_sink *sink)
{
    ((struct endpoint *)self)->sink = sink;
}

static const struct model_ops endpoint_ops = {
    .backend = "openai",
    .info = endpoint_info,
    .loglikelihood = endpoint_loglikelihood,
    .loglikelihood_rolling = NULL, /* optional; no GLaM task needs it */
    .generate = endpoint_generate,
    .free = endpoint_free,
    .set_sink = endpoint_set_sink,
};

static int cmp_str(const void *a, const void *b) { return strcmp(*(const char *const *)a, *(const char *const *)b); }

/* A models answer that does not parse is retried like any malformed answer. */
static int models_check(void *ctx, const char *body, size_t len, struct ge_error *err)
{
    (void)ctx;
    char *ids[1] = {NULL};
    size_t n = 0;
    int rc = endpoint_parse_models(body, len, ids, 1, &n, err);
    free(ids[0]);
    return rc;
}

/* GET /models: the one id served, unless the user named one. */
static int resolve_model_name(struct endpoint *ep, struct ge_error *err)
{
    struct endpoint_call c = {.path = "/models", .check = models_check};
    int rc = endpoint_http_run(ep->http, &c, 1, err);
    char *ids[MAX_MODEL_IDS];
    size_t n_ids = 0;
    if (rc == GE_OK && (c.status < 200 || c.status >= 300)) {
        char msg[300];
        endpoint_error_message(c.response, c.response_len, msg, sizeof msg);
        rc = ge_error_set(err, GE_ERR_IO, "%s/models: HTTP %ld: %s (give --model-name to skip this question)",
                          endpoint_http_url(ep->http, c.endpoint), c.status, msg);
    }
    if (rc == GE_OK) {
        rc = endpoint_parse_models(c.response, c.response_len, ids, MAX_MODEL_IDS, &n_ids, err);
        if (rc)
            ge_error_prefix(err, "%s/models: ", endpoint_http_url(ep->http, c.endpoint));
    }
    if (rc == GE_OK && n_ids != 1) {
        char list[400] = "";
        for (size_t i = 0; i < n_ids && i < MAX_MODEL_IDS; i++)
            snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? ", " : "", ids[i]);
        rc = ge_error_set(err, GE_ERR_USAGE, "%s/models lists %zu models%s%s; choose one with --model-name",
                          endpoint_http_url(ep->http, c.endpoint), n_ids, n_ids ? ": " : "", list);
    }
    if (rc == GE_OK)
        ep->model_name = xstrdup(ids[0]);
    for (size_t i = 0; i < n_ids && i < MAX_MODEL_IDS; i++)
        free(ids[i]);
    endpoint_call_release(&c);
    return rc;
}

/* A probe answer must at least be a well-formed completion with one choice (else it is retried, as any answer);
 * whether it carries prompt log-probs is what the probe then finds out. */
static int probe_check(void *ctx, const char *body, size_t len, struct ge_error *err)
{
    (void)ctx;
    struct endpoint_completion c;
    int rc = endpoint_parse_completion(body, len, 1, 0, &c, err);
    endpoint_completion_release(&c);
    return rc;
}

#define NO_ECHO "server does not return prompt log-probabilities (echo=true), so loglikelihood tasks cannot be scored"

/* One echo request: does the server return log-probs for the prompt's tokens, in a shape this client can score?
 * Tries max_tokens 0, then 1 (for servers that refuse 0). What it finds decides for the whole run, so a server
 * whose answers cannot be scored fails every loglikelihood call at once with the reason (and `run` before any
 * work), while generation still runs: in text mode offsets that do not locate the tokens (vLLM's with a BOS,
 * SGLang's -1), in token mode more positions than ids sent (a server that adds a BOS) or a usage.prompt_tokens
 * that is not the number of ids sent. Token mode also records whether the echo of the ids is their text, which
 * batched requests need (endpoint_check_loglikelihood). */
static int probe_echo(struct endpoint *ep, struct ge_error *err)
{
    struct ll_request r = {.context = "The capital of France is", .continuation = " Paris."};
    struct ll_prep p;
    int rc = prepare_ll(ep, &r, &p, err);
    if (rc == GE_OK && p.error)
        rc = ge_error_set(err, GE_ERR_FORMAT, "probe request: %s", p.error);
    int shape_known = 0; /* a 200 answer with prompt log-probs told what is wrong: max_tokens 1 will not mend it */
    for (int mt = 0; mt <= 1 && rc == GE_OK && !ep->echo_ok && !shape_known; mt++) {
        char *body = completion_body(ep, &p.p, 1, 1, mt, NULL, 0);
        struct endpoint_call c = {.path = "/completions", .body = body, .check = probe_check};
        rc = endpoint_http_run(ep->http, &c, 1, err);
        if (rc == GE_OK) {
            const char *url = endpoint_http_url(ep->http, c.endpoint);
            if (c.status < 200 || c.status >= 300) {
                char msg[300];
                endpoint_error_message(c.response, c.response_len, msg, sizeof msg);
                snprintf(ep->echo_problem, sizeof ep->echo_problem, NO_ECHO ": with max_tokens %d it answered HTTP "
                         "%ld: %s", mt, c.status, msg);
                if (c.status == 401 || c.status == 403 || c.status == 404)
                    rc = ge_error_set(err, GE_ERR_IO, "%s/completions: HTTP %ld: %s%s", url, c.status, msg,
                                      c.status == 404 ? " (check the URL and --model-name)" : " (check --api-key-env)");
            } else {
                struct endpoint_completion comp;
                struct ge_error e;
                ge_error_clear(&e);
                if (endpoint_parse_completion(c.response, c.response_len, 1, 1, &comp, &e) != GE_OK) {
                    snprintf(ep->echo_problem, sizeof ep->echo_problem, NO_ECHO ": its answer has no usable prompt "
                             "logprobs (%.400s)", e.msg);
                } else {
                    const struct endpoint_choice *ch = &comp.choices[0];
                    double lp;
                    int64_t n_sc;
                    int greedy;
                    size_t n_prompt = p.p.ids ? p.p.n_ids : 0;
                    int r2 = p.p.text && strncmp(ch->text, p.p.text, strlen(p.p.text)) != 0
                                 ? ge_error_set(&e, GE_ERR_FORMAT, "the echoed text is not the prompt sent")
                                 : endpoint_choice_loglik(ch, n_prompt, p.p.ids ? p.n_cont : 0, (size_t)mt, p.ctx_cp,
                                                          p.prompt_cp, &lp, &n_sc, &greedy, NULL, &e);
                    if (r2 == GE_OK && p.p.ids && comp.prompt_tokens >= 0 && (size_t)comp.prompt_tokens != n_prompt)
                        r2 = ge_error_set(&e, GE_ERR_FORMAT, "usage.prompt_tokens is %lld, the request sent %zu "
                                          "token ids (the server adds tokens to a token-id prompt, e.g. a BOS)",
                                          (long long)comp.prompt_tokens, n_prompt);
                    if (r2 == GE_OK) {
                        ep->echo_ok = 1;
                        ep->echo_max_tokens = mt;
                    } else if (r2 == GE_ERR_STATE) {
                        shape_known = 1;
                        snprintf(ep->echo_problem, sizeof ep->echo_problem, "text prompts cannot be scored on this "
                                 "server: its echo answer's text_offset does not locate its tokens in the prompt "
                                 "(%.400s), so the continuation cannot be found; give --tokenizer to send token "
                                 "ids", e.msg);
                    } else if (p.p.ids && ch->n_tokens > n_prompt + (size_t)mt) {
                        shape_known = 1;
                        snprintf(ep->echo_problem, sizeof ep->echo_problem, "token-id prompts cannot be scored on "
                                 "this server: %.400s", e.msg);
                    } else if (r2 == GE_ERR_FORMAT && strstr(e.msg, "usage.prompt_tokens")) {
                        shape_known = 1;
                        snprintf(ep->echo_problem, sizeof ep->echo_problem, "token-id prompts cannot be scored on "
                                 "this server: %.400s", e.msg);
                    } else {
                        snprintf(ep->echo_problem, sizeof ep->echo_problem, NO_ECHO ": its answer to an echo request "
                                 "does not cover the prompt (%zu logprob positions: %.400s)", ch->n_tokens, e.msg);
                    }
                    if (r2 == GE_OK && p.p.ids) {
                        char *got = endpoint_choice_echo_norm(ep->tok, ch, (size_t)mt);
                        char *want = endpoint_ids_norm(ep->tok, p.p.ids, p.p.n_ids);
                        ep->echo_ids_match = want && strcmp(got, want) == 0;
                        snprintf(ep->echo_ids_problem, sizeof ep->echo_ids_problem, "the probe's echo \"%.100s\", "
                                 "its ids decoded \"%.100s\"", ch->text, want ? want : "?");
                        free(got);
                        free(want);
                    }
                    endpoint_completion_release(&comp);
                }
            }
        }
        endpoint_call_release(&c);
        free(body);
    }
    free(p.p.ids);
    free(p.p.text);
    free(p.error);
    return rc;
}

int endpoint_open(const struct endpoint_options *opt, struct model *out, struct ge_error *err)
{
    memset(out, 0, sizeof *out);
    if (opt->prompts_per_request == 0 || opt->prompts_per_request > ENDPOINT_MAX_CHOICES)
        return ge_error_set(err, GE_ERR_USAGE, "--prompts-per-request must be 1..%d", ENDPOINT_MAX_CHOICES);
    if (opt->max_length < 0 || opt->max_length == 1)
        return ge_error_set(err, GE_ERR_USAGE, "--max-length must be at least 2");
    struct endpoint_http_options hopt = opt->http;
    const char *key = NULL;
    if (opt->api_key_env) {
        key = getenv(opt->api_key_env);
        if (key == NULL || key[0] == '\0')
            return ge_error_set(err, GE_ERR_USAGE, "--api-key-env %s: that environment variable is not set or empty",
                                opt->api_key_env);
    }
    hopt.api_key = key;
    if (hopt.seed == 0)
        hopt.seed = opt->seed;
    struct endpoint *ep = xcalloc(1, sizeof *ep);
    ep->max_length = opt->max_length;
    ep->per_request = opt->prompts_per_request;
    ep->seed = opt->seed;
    int rc = endpoint_http_new(opt->urls, opt->n_urls, &hopt, &ep->http, err);
    if (rc)
        goto out;
    /* the URL set, sorted so the order on the command line does not matter */
    const char **sorted = xcalloc(opt->n_urls, sizeof *sorted);
    size_t total = 1;
    for (size_t i = 0; i < opt->n_urls; i++) {
        sorted[i] = endpoint_http_url(ep->http, i);
        total += strlen(sorted[i]) + 1;
    }
    qsort(sorted, opt->n_urls, sizeof *sorted, cmp_str);
    ep->url_set = xcalloc(total, 1);
    for (size_t i = 0; i < opt->n_urls; i++) {
        if (i)
            strcat(ep->url_set, " ");
        strcat(ep->url_set, sorted[i]);
    }
    free(sorted);
    char tok_hash[65] = "";
    if (opt->tokenizer_path) {
        rc = tokenizer_load(opt->tokenizer_path, &ep->tok, err);
        if (rc == GE_OK)
            rc = sha256_file_hex(opt->tokenizer_path, tok_hash, err);
        if (rc)
            goto out;
        int32_t bos = tokenizer_bos(ep->tok), eos = tokenizer_eos(ep->tok);
        ep->add_bos = bos >= 0 && (opt->bos == RUNTIME_BOS_ALWAYS ||
                                   (opt->bos == RUNTIME_BOS_AUTO && tokenizer_add_bos_default(ep->tok)));
        ep->prefix_id = bos >= 0 ? bos : eos;
        if (ep->prefix_id < 0) {
            rc = ge_error_set(err, GE_ERR_FORMAT, "%s: the tokenizer has neither BOS nor EOS to stand for an empty "
                              "context", opt->tokenizer_path);
            goto out;
        }
    }
    if (opt->model_name)
        ep->model_name = xstrdup(opt->model_name);
    else if ((rc = resolve_model_name(ep, err)) != GE_OK)
        goto out;
    rc = probe_echo(ep, err);
    if (rc)
        goto out;
    char name[1024];
    if (ep->tok)
        snprintf(name, sizeof name, "%s tokens:%s bos:%d", ep->model_name, tok_hash, ep->add_bos);
    else
        snprintf(name, sizeof name, "%s text", ep->model_name);
    rc = identity_model_remote(ep->url_set, name, ep->identity, err);
out:
    if (rc) {
        endpoint_free(ep);
        return rc;
    }
    out->ops = &endpoint_ops;
    out->self = ep;
    return GE_OK;
}
