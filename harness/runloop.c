/* runloop.c — batch execution of pending requests with the response cache (see runloop.h).
 *
 * One iteration: list up to batch_size pending requests (stable order), answer what the cache knows, send the
 * rest to the model grouped by request type, then store the whole batch in one transaction. Because the
 * pending list is re-read from the store each iteration, the loop is its own resume logic. */
#include "config.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness/progress.h"
#include "harness/runloop.h"
#include "harness/xalloc.h"
#include "results/cache.h"

void runloop_options_init(struct runloop_options *opt)
{
    memset(opt, 0, sizeof *opt);
    opt->batch_size = 32;
    opt->use_cache = 1;
    opt->progress_tty = -1;
}

/* Parsed generation settings of one request; stop strings are owned. */
struct gen_settings {
    char *stop[RUNLOOP_MAX_STOPS];
    size_t n_stop;
    int64_t max_tokens;
    int beam_width;
    double length_penalty;
};

static void gen_settings_release(struct gen_settings *g)
{
    for (size_t i = 0; i < g->n_stop; i++)
        free(g->stop[i]);
    g->n_stop = 0;
}

static int gen_settings_parse(const char *json, int64_t request_id, struct gen_settings *g, struct ge_error *err)
{
    int rc = GE_OK;
    memset(g, 0, sizeof *g);
    g->max_tokens = RUNLOOP_DEFAULT_MAX_TOKENS;
    g->beam_width = 1;
    g->length_penalty = 1.0;
    cJSON *root = cJSON_Parse(json ? json : "{}");
    if (!cJSON_IsObject(root)) {
        rc = ge_error_set(err, GE_ERR_FORMAT, "request %lld: generation settings are not a JSON object",
                          (long long)request_id);
        goto out;
    }
    const cJSON *until = cJSON_GetObjectItemCaseSensitive(root, "until");
    if (until && !cJSON_IsArray(until)) {
        rc = ge_error_set(err, GE_ERR_FORMAT, "request %lld: generation setting \"until\" is not an array",
                          (long long)request_id);
        goto out;
    }
    const cJSON *item;
    cJSON_ArrayForEach(item, until)
    {
        if (!cJSON_IsString(item) || item->valuestring[0] == '\0') {
            rc = ge_error_set(err, GE_ERR_FORMAT, "request %lld: \"until\" holds something other than a non-empty "
                              "string", (long long)request_id);
            goto out;
        }
        if (g->n_stop == RUNLOOP_MAX_STOPS) {
            rc = ge_error_set(err, GE_ERR_LIMIT, "request %lld: more than %d stop strings", (long long)request_id,
                              RUNLOOP_MAX_STOPS);
            goto out;
        }
        g->stop[g->n_stop++] = xstrdup(item->valuestring);
    }
    const cJSON *max_tokens = cJSON_GetObjectItemCaseSensitive(root, "max_tokens");
    if (max_tokens) {
        if (!cJSON_IsNumber(max_tokens) || max_tokens->valuedouble < 1 || max_tokens->valuedouble > 1e7 ||
            max_tokens->valuedouble != floor(max_tokens->valuedouble)) {
            rc = ge_error_set(err, GE_ERR_FORMAT, "request %lld: \"max_tokens\" must be a whole number from 1 to "
                              "10000000", (long long)request_id);
            goto out;
        }
        g->max_tokens = (int64_t)max_tokens->valuedouble;
    }
    const cJSON *beam = cJSON_GetObjectItemCaseSensitive(root, "beam_width");
    if (beam) {
        if (!cJSON_IsNumber(beam) || beam->valuedouble < 1 || beam->valuedouble > 64) {
            rc = ge_error_set(err, GE_ERR_FORMAT, "request %lld: \"beam_width\" must be from 1 to 64",
                              (long long)request_id);
            goto out;
        }
        g->beam_width = (int)beam->valuedouble;
    }
    const cJSON *lp = cJSON_GetObjectItemCaseSensitive(root, "length_penalty");
    if (lp) {
        if (!cJSON_IsNumber(lp)) {
            rc = ge_error_set(err, GE_ERR_FORMAT, "request %lld: \"length_penalty\" is not a number",
                              (long long)request_id);
            goto out;
        }
        g->length_penalty = lp->valuedouble;
    }
out:
    cJSON_Delete(root);
    if (rc)
        gen_settings_release(g);
    return rc;
}

/* Commits each result a backend reports before its call returns (model_sink): one transaction per answer, so a
 * run interrupted while a remote endpoint is still answering the batch keeps everything already answered. */
struct commit_sink {
    struct store *st;
    const struct store_pending_list *pend;
    const size_t *idx;       /* call index -> index into pend */
    unsigned char *stored;   /* (pend->n) set to 1 once committed here */
    int rolling;
    double t0;               /* seconds, when the call started */
    int failed;              /* 1 after a store error (in err); later results are left to the batch */
    struct ge_error err;
};

static void commit_one(struct commit_sink *cs, size_t i, struct store_response *one)
{
    if (cs->failed)
        return;
    size_t pi = cs->idx[i];
    one->request_id = cs->pend->items[pi].request_id;
    one->latency_ms = (progress_now() - cs->t0) * 1000.0;
    if (store_put_responses(cs->st, 1, one, &cs->err) != GE_OK) {
        cs->failed = 1;
        return;
    }
    cs->stored[pi] = 1;
}

static void sink_ll_done(void *ctx, size_t i, const struct ll_result *r)
{
    struct commit_sink *cs = ctx;
    struct store_response one = {.logprob = r->logprob, .n_tokens = r->n_tokens,
                                 .is_greedy = cs->rolling ? -1 : r->is_greedy, .truncated = r->truncated != 0,
                                 .token_logprobs = r->token_logprobs, /* borrowed for the call */
                                 .n_token_logprobs = r->token_logprobs ? (size_t)r->n_tokens : 0};
    commit_one(cs, i, &one);
}

static void sink_gen_done(void *ctx, size_t i, const struct gen_result *r)
{
    struct commit_sink *cs = ctx;
    struct store_response one = {.logprob = NAN, .n_tokens = r->n_tokens, .is_greedy = -1,
                                 .truncated = r->truncated != 0, .text = r->text};
    commit_one(cs, i, &one);
}

/* Installs sink (NULL removes it) on a backend that takes one (model_ops.set_sink). */
static void sink_install(struct model *m, const struct model_sink *sink)
{
    if (m->ops->set_sink)
        m->ops->set_sink(m->self, sink);
}

/* Sends the loglikelihood (rolling == 0) or rolling requests among idx[0..n) to the model in one call. */
static int call_loglikelihood(struct store *st, struct model *m, int rolling, int want_tokens,
                              const struct store_pending_list *pend, const size_t *idx, size_t n,
                              struct store_response *resp, unsigned char *stored, struct runloop_stats *stats,
                              struct ge_error *err)
{
    if (n == 0)
        return GE_OK;
    int (*op)(void *, const struct ll_request *, size_t, struct ll_result *, struct ge_error *) =
        rolling ? m->ops->loglikelihood_rolling : m->ops->loglikelihood;
    if (op == NULL)
        return ge_error_set(err, GE_ERR_USAGE, "the %s backend cannot compute %s log-likelihoods",
                            m->ops->backend, rolling ? "rolling" : "conditional");
    struct ll_request *reqs = xcalloc(n, sizeof *reqs);
    struct ll_result *res = xcalloc(n, sizeof *res);
    for (size_t i = 0; i < n; i++) {
        const struct store_pending *p = &pend->items[idx[i]];
        reqs[i].context = rolling ? "" : p->context;
        reqs[i].continuation = rolling ? p->context : p->continuation;
        reqs[i].want_token_logprobs = want_tokens;
    }
    double t0 = progress_now();
    struct commit_sink cs = {.st = st, .pend = pend, .idx = idx, .stored = stored, .rolling = rolling, .t0 = t0};
    struct model_sink sink = {.ll_done = sink_ll_done, .ctx = &cs};
    sink_install(m, &sink);
    int rc = op(m->self, reqs, n, res, err);
    sink_install(m, NULL);
    double ms = (progress_now() - t0) * 1000.0;
    if (rc == GE_OK && cs.failed)
        rc = ge_error_set(err, cs.err.code, "%s", cs.err.msg);
    if (rc == GE_OK) {
        for (size_t i = 0; i < n; i++) {
            struct store_response *r = &resp[idx[i]];
            if (res[i].error) { /* ownership moves to the response; it is stored, never cached */
                r->error = res[i].error;
                res[i].error = NULL;
                r->latency_ms = ms / (double)n;
                continue;
            }
            r->logprob = res[i].logprob;
            r->n_tokens = res[i].n_tokens;
            r->is_greedy = rolling ? -1 : res[i].is_greedy;
            r->truncated = res[i].truncated != 0;
            r->latency_ms = ms / (double)n;
            if (res[i].token_logprobs) { /* ownership moves to the response */
                r->token_logprobs = res[i].token_logprobs;
                r->n_token_logprobs = (size_t)res[i].n_tokens;
                res[i].token_logprobs = NULL;
            }
        }
        stats->model_ms += ms;
        stats->n_from_model += n;
    }
    for (size_t i = 0; i < n; i++)
        model_ll_result_release(&res[i]);
    free(reqs);
    free(res);
    return rc;
}

static int call_generate(struct store *st, struct model *m, const struct store_pending_list *pend, const size_t *idx,
                         size_t n, struct store_response *resp, unsigned char *stored, struct runloop_stats *stats,
                         struct ge_error *err)
{
    if (n == 0)
        return GE_OK;
    if (m->ops->generate == NULL)
        return ge_error_set(err, GE_ERR_USAGE, "the %s backend cannot generate text", m->ops->backend);
    int rc = GE_OK;
    struct gen_settings *gs = xcalloc(n, sizeof *gs);
    struct gen_request *reqs = xcalloc(n, sizeof *reqs);
    struct gen_result *res = xcalloc(n, sizeof *res);
    for (size_t i = 0; i < n; i++) {
        const struct store_pending *p = &pend->items[idx[i]];
        rc = gen_settings_parse(p->gen_settings_json, p->request_id, &gs[i], err);
        if (rc)
            goto out;
        reqs[i].context = p->context;
        reqs[i].stop = (const char *const *)gs[i].stop;
        reqs[i].n_stop = gs[i].n_stop;
        reqs[i].max_tokens = gs[i].max_tokens;
        reqs[i].beam_width = gs[i].beam_width;
        reqs[i].length_penalty = gs[i].length_penalty;
    }
    double t0 = progress_now();
    struct commit_sink cs = {.st = st, .pend = pend, .idx = idx, .stored = stored, .t0 = t0};
    struct model_sink sink = {.gen_done = sink_gen_done, .ctx = &cs};
    sink_install(m, &sink);
    rc = m->ops->generate(m->self, reqs, n, res, err);
    sink_install(m, NULL);
    double ms = (progress_now() - t0) * 1000.0;
    if (rc == GE_OK && cs.failed)
        rc = ge_error_set(err, cs.err.code, "%s", cs.err.msg);
    if (rc)
        goto out;
    for (size_t i = 0; i < n; i++) {
        struct store_response *r = &resp[idx[i]];
        r->latency_ms = ms / (double)n;
        if (res[i].error) { /* ownership moves to the response; it is stored, never cached */
            r->error = res[i].error;
            res[i].error = NULL;
            continue;
        }
        r->text = res[i].text; /* ownership moves to resp; freed by the caller */
        res[i].text = NULL;
        r->n_tokens = res[i].n_tokens;
        r->truncated = res[i].truncated != 0;
    }
    stats->model_ms += ms;
    stats->n_from_model += n;
out:
    for (size_t i = 0; i < n; i++) {
        gen_settings_release(&gs[i]);
        model_gen_result_release(&res[i]);
    }
    free(gs);
    free(reqs);
    free(res);
    return rc;
}

/* Answers one batch of pending requests into resp[0..pend->n) (zeroed by the caller). */
static int answer_batch(struct store *st, const char *model_hash, struct model *m, int use_cache, int want_tokens,
                        const struct store_pending_list *pend, struct store_response *resp, unsigned char *stored,
                        struct runloop_stats *stats, struct ge_error *err)
{
    size_t n = pend->n;
    size_t *by_type[3];
    size_t n_type[3] = {0, 0, 0};
    for (int t = 0; t < 3; t++)
        by_type[t] = xcalloc(n, sizeof *by_type[t]);
    int rc = GE_OK;
    for (size_t i = 0; i < n; i++) {
        const struct store_pending *p = &pend->items[i];
        resp[i].request_id = p->request_id;
        resp[i].logprob = NAN;
        resp[i].n_tokens = -1;
        resp[i].is_greedy = -1;
        resp[i].truncated = -1; /* an error response: not known */
        if (use_cache) {
            int found = 0;
            rc = cache_get(st, model_hash, p->request_hash, &resp[i], &found, err);
            if (rc)
                goto out;
            if (found) {
                resp[i].request_id = p->request_id;
                resp[i].cached = 1;
                stats->n_from_cache++;
                continue;
            }
            resp[i].request_id = p->request_id;
            resp[i].logprob = NAN;
            resp[i].n_tokens = -1;
            resp[i].is_greedy = -1;
            resp[i].truncated = -1;
        }
        by_type[p->type][n_type[p->type]++] = i;
    }
    rc = call_loglikelihood(st, m, 0, want_tokens, pend, by_type[STORE_REQ_LOGLIKELIHOOD],
                            n_type[STORE_REQ_LOGLIKELIHOOD], resp, stored, stats, err);
    if (rc == GE_OK)
        rc = call_loglikelihood(st, m, 1, want_tokens, pend, by_type[STORE_REQ_LOGLIKELIHOOD_ROLLING],
                                n_type[STORE_REQ_LOGLIKELIHOOD_ROLLING], resp, stored, stats, err);
    if (rc == GE_OK)
        rc = call_generate(st, m, pend, by_type[STORE_REQ_GENERATE], n_type[STORE_REQ_GENERATE], resp, stored, stats,
                           err);
out:
    for (int t = 0; t < 3; t++)
        free(by_type[t]);
    return rc;
}

/* Moves the items of from to the end of to (both stay valid; from ends empty). */
static void pending_append(struct store_pending_list *to, struct store_pending_list *from)
{
    if (from->n == 0)
        return;
    to->items = xrealloc(to->items, (to->n + from->n) * sizeof *to->items);
    memcpy(to->items + to->n, from->items, from->n * sizeof *from->items);
    to->n += from->n;
    from->n = 0; /* the texts now belong to `to` */
    store_pending_list_release(from);
}

/* Tokens a response stands for in the tok/s rate: continuation tokens scored or tokens generated. */
static uint64_t response_tokens(const struct store_response *r)
{
    return r->error == NULL && r->n_tokens > 0 ? (uint64_t)r->n_tokens : 0;
}

int runloop_execute_pool(struct store *st, const char *model_hash, struct model *m, const struct runloop_options *opt,
                         struct runloop_task *tasks, size_t n, struct ge_error *err)
{
    for (size_t t = 0; t < n; t++)
        memset(&tasks[t].stats, 0, sizeof tasks[t].stats);
    if (opt->batch_size == 0 || opt->batch_size > RUNLOOP_MAX_BATCH)
        return ge_error_set(err, GE_ERR_USAGE, "batch size must be from 1 to %d, got %zu", RUNLOOP_MAX_BATCH,
                            opt->batch_size);
    struct progress prog;
    int prog_on = 0;
    struct store_pending_list pend = {0}, more = {0};
    struct store_response *resp = xcalloc(opt->batch_size, sizeof *resp);
    size_t *owner = xcalloc(opt->batch_size, sizeof *owner); /* task index of each item of the batch */
    unsigned char *stored = xcalloc(opt->batch_size, 1);   /* items committed during the model call (sink) */
    struct store_response *rest = xcalloc(opt->batch_size, sizeof *rest); /* shallow copies, not owned */
    uint64_t *answered = xcalloc(n ? n : 1, sizeof *answered); /* per task run: responses stored, for progress */
    int rc = GE_OK;
    size_t cur = 0;
    while (cur < n) {
        if (!prog_on) {
            uint64_t total = 0;
            rc = store_count_requests(st, tasks[cur].task_run_id, &total, &answered[cur], err);
            if (rc)
                break;
            if (opt->progress_out) {
                progress_start(&prog, opt->progress_out, opt->progress_tty,
                               tasks[cur].label ? tasks[cur].label : "requests", total, progress_now());
                progress_set_done_before(&prog, answered[cur]);
            }
            prog_on = 1;
        }
        if (opt->stop && *opt->stop) {
            rc = ge_error_set(err, GE_ERR_STATE, "interrupted; resume to finish the remaining requests");
            break;
        }
        rc = store_list_pending(st, tasks[cur].task_run_id, opt->batch_size, &pend, err);
        if (rc)
            break;
        if (pend.n == 0) { /* this task run is done: close its bar and go on with the next */
            if (opt->progress_out)
                progress_finish(&prog, progress_now());
            prog_on = 0;
            cur++;
            continue;
        }
        for (size_t i = 0; i < pend.n; i++)
            owner[i] = cur;
        for (size_t t = cur + 1; t < n && pend.n < opt->batch_size && rc == GE_OK; t++) {
            size_t before = pend.n;
            rc = store_list_pending(st, tasks[t].task_run_id, opt->batch_size - pend.n, &more, err);
            if (rc == GE_OK)
                pending_append(&pend, &more);
            for (size_t i = before; i < pend.n; i++)
                owner[i] = t;
        }
        if (rc)
            break;
        memset(resp, 0, pend.n * sizeof *resp);
        memset(stored, 0, pend.n);
        struct runloop_stats batch = {0};
        rc = answer_batch(st, model_hash, m, opt->use_cache, opt->token_logprobs, &pend, resp, stored, &batch, err);
        if (rc == GE_OK) { /* everything not already committed by the sink, in one transaction */
            size_t n_rest = 0;
            for (size_t i = 0; i < pend.n; i++)
                if (!stored[i])
                    rest[n_rest++] = resp[i];
            rc = n_rest ? store_put_responses(st, n_rest, rest, err) : GE_OK;
        }
        uint64_t toks = 0;
        for (size_t i = 0; rc == GE_OK && i < pend.n; i++) {
            struct runloop_stats *ts = &tasks[owner[i]].stats;
            if (resp[i].cached)
                ts->n_from_cache++;
            else
                ts->n_from_model++;
            answered[owner[i]]++;
            if (owner[i] == cur && !resp[i].cached)
                toks += response_tokens(&resp[i]);
        }
        for (size_t i = 0; i < pend.n; i++)
            store_response_release(&resp[i]);
        if (rc)
            break;
        tasks[cur].stats.n_batches++;
        tasks[cur].stats.model_ms += batch.model_ms;
        if (opt->progress_out) {
            progress_add_tokens(&prog, toks);
            progress_update(&prog, answered[cur], progress_now());
        }
    }
    if (rc && prog_on && opt->progress_out)
        fputc('\n', opt->progress_out); /* leave the interrupted bar's line */
    store_pending_list_release(&pend);
    store_pending_list_release(&more);
    free(resp);
    free(owner);
    free(stored);
    free(rest);
    free(answered);
    return rc;
}

int runloop_execute(struct store *st, int64_t task_run_id, const char *model_hash, struct model *m,
                    const struct runloop_options *opt, struct runloop_stats *stats, struct ge_error *err)
{
    struct runloop_task task = {.task_run_id = task_run_id, .label = opt->label};
    int rc = runloop_execute_pool(st, model_hash, m, opt, &task, 1, err);
    if (stats)
        *stats = task.stats;
    return rc;
}
