/* runtime.c — the local inference backend: checkpoint loading, lm-eval request semantics, KV-cache prefix reuse,
 * greedy generation with stop strings (see runtime.h). */
#include "config.h"

#include <errno.h>
#include <libgen.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness/sha256.h"
#include "harness/strbuf.h"
#include "harness/xalloc.h"
#include "model/logprob.h"
#include "model/request_tokens.h"
#include "model/runtime.h"
#include "model/stop_strings.h"
#include "model/tokenizer.h"
#include "model/weights.h"
#include "results/identity.h"

#define RUNTIME_MAX_WEIGHT_FILES 4096

struct runtime {
    struct weights *w;              /* owned: the mapped checkpoint; t views its F32 tensors, so it outlives t */
    struct transformer *t;          /* owned; immutable */
    struct tokenizer *tok;          /* owned; immutable */
    struct transformer_state *state; /* owned: the one sequence in flight; its cache is reused across requests */
    struct transformer_work *work;  /* owned scratch */
    struct runtime_options opt;
    int64_t max_length;             /* context window used, tokens */
    int add_bos;                    /* 1: inputs start with BOS */
    int32_t prefix_id;              /* stands for an empty context: BOS, else EOS */
    struct model_info info;
    struct runtime_stats stats;
};

void runtime_options_init(struct runtime_options *opt)
{
    memset(opt, 0, sizeof *opt);
    opt->bos = RUNTIME_BOS_AUTO;
    opt->path = TRANSFORMER_PATH_FAST;
    opt->hash_files = 1;
}

/* ---- loading ------------------------------------------------------------------------------------------------ */

/* The tensor source over the mapped checkpoint. It records every tensor the load asks for, so that afterwards
 * weights_check_unused can refuse a checkpoint holding weights the configured model does not read (layers beyond
 * num_hidden_layers, unknown names): such a checkpoint would otherwise run, silently, as a different model. */
struct load_source {
    const struct weights *w;
    unsigned char *used; /* (weights_n_tensors(w)) 1 for each tensor asked for; owned */
};

static void mark_used(struct load_source *ls, const char *name)
{
    size_t i = weights_index(ls->w, name);
    if (i != WEIGHTS_NO_INDEX)
        ls->used[i] = 1;
}

static int read_tensor(void *ctx, const char *name, int n_dims, const int64_t *shape, float *dst,
                       struct ge_error *err)
{
    struct load_source *ls = ctx;
    mark_used(ls, name);
    return weights_read_f32(ls->w, name, (uint32_t)n_dims, shape, dst, err);
}

static const float *view_tensor(void *ctx, const char *name, int n_dims, const int64_t *shape)
{
    struct load_source *ls = ctx;
    mark_used(ls, name);
    return weights_view_f32(ls->w, name, (uint32_t)n_dims, shape);
}

static int view_raw_tensor(void *ctx, const char *name, int n_dims, const int64_t *shape, enum dtype *dtype,
                           const void **data)
{
    struct load_source *ls = ctx;
    mark_used(ls, name);
    return weights_view_raw(ls->w, name, (uint32_t)n_dims, shape, dtype, data);
}

/* The mode: opt's, or for RUNTIME_WEIGHTS_AUTO the environment's GLAM_EVAL_WEIGHTS (auto, f32 or mapped) when
 * set; another value is GE_ERR_USAGE naming the variable. */
static int weights_mode(enum runtime_weights opt, enum runtime_weights *mode, struct ge_error *err)
{
    const char *env = getenv("GLAM_EVAL_WEIGHTS");
    *mode = opt;
    if (opt != RUNTIME_WEIGHTS_AUTO || env == NULL || strcmp(env, "auto") == 0 || *env == '\0')
        return GE_OK;
    if (strcmp(env, "f32") == 0)
        *mode = RUNTIME_WEIGHTS_F32;
    else if (strcmp(env, "mapped") == 0)
        *mode = RUNTIME_WEIGHTS_MAPPED;
    else
        return ge_error_set(err, GE_ERR_USAGE, "GLAM_EVAL_WEIGHTS is \"%s\"; it must be auto, f32 or mapped", env);
    return GE_OK;
}

/* 1 when tensors not stored as F32 should stay mapped and be converted on use (enum runtime_weights). */
static int keep_mapped(const struct weights *w, enum runtime_weights mode)
{
    if (mode != RUNTIME_WEIGHTS_AUTO)
        return mode == RUNTIME_WEIGHTS_MAPPED;
    double copies = 0.0; /* bytes of the float32 copies a converting load makes */
    for (size_t i = 0; i < weights_n_tensors(w); i++) {
        struct weights_tensor t;
        if (weights_tensor_at(w, i, &t, NULL) == GE_OK && t.dtype != DTYPE_F32)
            copies += 4.0 * (double)t.n_elems;
    }
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    if (pages <= 0 || page <= 0)
        return 0;
    return copies > 0.5 * (double)pages * (double)page;
}

/* A file's identity: its SHA-256, or (cheap mode) a hash of its path, size and modification time. */
static int file_identity(const char *path, int hash_files, char hex[65], struct ge_error *err)
{
    if (hash_files)
        return sha256_file_hex(path, hex, err);
    struct stat st;
    if (stat(path, &st) != 0)
        return ge_error_set(err, GE_ERR_IO, "%s: %s", path, strerror(errno));
    char buf[4200];
    int n = snprintf(buf, sizeof buf, "%s\n%lld\n%lld", path, (long long)st.st_size, (long long)st.st_mtime);
    sha256_hash_hex(buf, (size_t)(n < 0 ? 0 : n), hex);
    return GE_OK;
}

/* Identity of the checkpoint: config, every weight file (in tensor-name order, each once) and the tokenizer. */
static int compute_identity(const struct weights *w, const char *config_path, const char *tokenizer_path,
                            int hash_files, char out[65], struct ge_error *err)
{
    int rc = GE_OK;
    const char **files = xcalloc(RUNTIME_MAX_WEIGHT_FILES, sizeof *files);
    char (*hashes)[65] = xcalloc(RUNTIME_MAX_WEIGHT_FILES, sizeof *hashes);
    const char **hash_ptrs = xcalloc(RUNTIME_MAX_WEIGHT_FILES, sizeof *hash_ptrs);
    size_t n_files = 0;
    char config_hash[65], tok_hash[65];
    for (size_t i = 0; i < weights_n_tensors(w) && rc == GE_OK; i++) {
        struct weights_tensor t;
        rc = weights_tensor_at(w, i, &t, err);
        if (rc)
            break;
        size_t j = 0;
        while (j < n_files && strcmp(files[j], t.file) != 0)
            j++;
        if (j == n_files) {
            if (n_files == RUNTIME_MAX_WEIGHT_FILES) {
                rc = ge_error_set(err, GE_ERR_LIMIT, "%s: more than %d weight files", weights_path(w),
                                  RUNTIME_MAX_WEIGHT_FILES);
                break;
            }
            files[n_files++] = t.file;
        }
    }
    for (size_t j = 0; j < n_files && rc == GE_OK; j++) {
        rc = file_identity(files[j], hash_files, hashes[j], err);
        hash_ptrs[j] = hashes[j];
    }
    if (rc == GE_OK)
        rc = file_identity(config_path, hash_files, config_hash, err);
    if (rc == GE_OK)
        rc = file_identity(tokenizer_path, hash_files, tok_hash, err);
    if (rc == GE_OK && n_files == 0)
        rc = ge_error_set(err, GE_ERR_FORMAT, "%s: the checkpoint holds no tensors", weights_path(w));
    if (rc == GE_OK)
        rc = identity_model_local(config_hash, hash_ptrs, n_files, tok_hash, out, err);
    free(files);
    free(hashes);
    free(hash_ptrs);
    return rc;
}

static void runtime_free(void *self)
{
    struct runtime *rt = self;
    if (rt == NULL)
        return;
    transformer_work_free(rt->work);
    transformer_state_free(rt->state);
    transformer_free(rt->t);
    weights_free(rt->w); /* after the transformer, which may point into its mappings */
    tokenizer_free(rt->tok);
    free(rt);
}

static const struct model_ops runtime_ops;

int runtime_open(const char *path, const struct runtime_options *opt_in, struct model *out, struct ge_error *err)
{
    int rc;
    struct runtime_options opt;
    if (opt_in)
        opt = *opt_in;
    else
        runtime_options_init(&opt);
    struct weights *w = NULL;
    struct model_config cfg;
    char *dir = NULL, config_path[4096], tok_path[4096];
    struct runtime *rt = xcalloc(1, sizeof *rt);
    rt->opt = opt;
    out->ops = NULL;
    out->self = NULL;

    rc = weights_open(path, &w, err);
    if (rc)
        goto out;
    rc = weights_load_config(w, &cfg, err);
    if (rc)
        goto out;
    if (weights_format(w) == WEIGHTS_FORMAT_GGUF) {
        snprintf(config_path, sizeof config_path, "%s", path);
        snprintf(tok_path, sizeof tok_path, "%s", path);
        rc = tokenizer_from_gguf(weights_gguf(w), &rt->tok, err);
    } else {
        struct stat st;
        int is_dir = stat(path, &st) == 0 && S_ISDIR(st.st_mode);
        char *copy = xstrdup(path);
        dir = xstrdup(is_dir ? path : dirname(copy));
        free(copy);
        snprintf(config_path, sizeof config_path, "%s/config.json", dir);
        snprintf(tok_path, sizeof tok_path, "%s/tokenizer.json", dir);
        rc = tokenizer_load_hf(tok_path, &rt->tok, err);
    }
    if (rc)
        goto out;
    /* Every id the tokenizer can produce must have an embedding row and a logit; a smaller model vocabulary would
     * only fail later, on the first request that meets such an id, looking like a bad request. (A larger one is
     * fine: padding rows, never produced.) */
    if (tokenizer_vocab_size(rt->tok) > (size_t)cfg.vocab_size) {
        rc = ge_error_set(err, GE_ERR_FORMAT, "%s: %s is %lld, smaller than the tokenizer's %zu token ids (%s): "
                          "ids %lld to %zu would be outside the model's vocabulary", config_path,
                          weights_format(w) == WEIGHTS_FORMAT_GGUF ? "the model's vocabulary" : "vocab_size",
                          (long long)cfg.vocab_size, tokenizer_vocab_size(rt->tok), tok_path,
                          (long long)cfg.vocab_size, tokenizer_vocab_size(rt->tok) - 1);
        goto out;
    }
    if (opt.hash_files >= 0) {
        rc = compute_identity(w, config_path, tok_path, opt.hash_files, rt->info.identity, err);
        if (rc)
            goto out;
    }
    /* The dtype holding most parameters (a quantised GGUF mixes several; its first tensor says little). */
    uint64_t per_dtype[DTYPE_COUNT];
    enum dtype main_dtype = weights_dtype_mix(w, per_dtype);
    if (main_dtype != DTYPE_COUNT)
        snprintf(rt->info.dtype, sizeof rt->info.dtype, "%s", dtype_name(main_dtype));
    enum runtime_weights mode;
    if ((rc = weights_mode(opt.weights_in_memory, &mode, err)) != GE_OK)
        goto out;
    struct load_source ls = {.w = w, .used = xcalloc(weights_n_tensors(w) + 1, 1)};
    struct tensor_source src = {.ctx = &ls, .read_f32 = read_tensor, .view_f32 = opt.copy_weights ? NULL : view_tensor};
    if (!opt.copy_weights && keep_mapped(w, mode))
        src.view_raw = view_raw_tensor;
    rc = transformer_load(&cfg, &src, &rt->t, err);
    if (rc == GE_OK)
        rc = weights_check_unused(w, ls.used, &cfg, err);
    free(ls.used);
    /* Views and lazy matrices point into the mappings, so rt keeps w until runtime_free; a copying load needs no
     * mapping after this, and w is freed on the way out as before. */
    if (src.view_f32 != NULL || src.view_raw != NULL) {
        rt->w = w;
        w = NULL;
    }
    if (rc)
        goto out;

    rt->max_length = opt.max_length > 0 ? opt.max_length : cfg.max_position_embeddings;
    if (opt.max_length <= 0 && rt->max_length > RUNTIME_DEFAULT_MAX_LENGTH)
        rt->max_length = RUNTIME_DEFAULT_MAX_LENGTH;
    if (rt->max_length < 2) {
        rc = ge_error_set(err, GE_ERR_FORMAT, "%s: context window of %lld tokens is too small", path,
                          (long long)rt->max_length);
        goto out;
    }
    int64_t batch = opt.max_batch_tokens > 0 ? opt.max_batch_tokens : RUNTIME_DEFAULT_PASS_TOKENS;
    rc = transformer_state_new(rt->t, rt->max_length, &rt->state, err);
    if (rc == GE_OK)
        rc = transformer_work_new(rt->t, batch, rt->max_length, opt.path, &rt->work, err);
    if (rc)
        goto out;
    int32_t bos = tokenizer_bos(rt->tok), eos = tokenizer_eos(rt->tok);
    rt->add_bos = bos >= 0 && (opt.bos == RUNTIME_BOS_ALWAYS ||
                               (opt.bos == RUNTIME_BOS_AUTO && tokenizer_add_bos_default(rt->tok)));
    rt->prefix_id = bos >= 0 ? bos : eos;
    if (rt->prefix_id < 0) {
        rc = ge_error_set(err, GE_ERR_FORMAT, "%s: the tokenizer has neither a BOS nor an EOS token to stand for "
                          "an empty context", tok_path);
        goto out;
    }
    snprintf(rt->info.name, sizeof rt->info.name, "%s", path);
    snprintf(rt->info.kind, sizeof rt->info.kind, "local");
    snprintf(rt->info.architecture, sizeof rt->info.architecture, "%s", cfg.model_type);
    rt->info.context_length = rt->max_length;
    rt->info.n_params = rt->t->n_params;
    rt->info.n_active_params = rt->t->n_active_params;
    /* Two FLOPs (multiply, add) per activated weight per token; attention-score FLOPs, which grow with the
     * context, are not included (docs/glam-checkpoint.md gives the full formula). */
    rt->info.flops_per_token = 2.0 * (double)rt->t->n_active_params;
    out->ops = &runtime_ops;
    out->self = rt;
    rt = NULL;
out:
    weights_free(w);
    runtime_free(rt);
    free(dir);
    return rc;
}

/* ---- requests ----------------------------------------------------------------------------------------------- */

static int encode_text(void *ctx, const char *text, size_t len, int at_start, struct token_ids *out,
                       struct ge_error *err)
{
    struct runtime *rt = ctx;
    return tokenizer_encode(rt->tok, text, len, at_start && rt->add_bos ? TOKENIZER_ADD_BOS : 0, out, err);
}

/* NaN or Inf out of the forward pass means the weights hold NaN/Inf or an activation overflowed float32 (e.g.
 * float16 weights that overflowed when the checkpoint was written): no number from such a model can be trusted,
 * and a NaN log-probability is not even valid JSON, so the whole call fails, naming the model. The checks are
 * cheap on purpose: one test of each request's sum (a NaN or Inf in any token's log-probability makes the sum
 * non-finite; a log-probability is never +Inf, so no two of them cancel), and one pass over the logits row each
 * generated token is chosen from, next to the V x M product that made it. */
static int nonfinite_error(const struct runtime *rt, const char *what, size_t i, struct ge_error *err)
{
    return ge_error_set(err, GE_ERR_FORMAT, "model %s: the forward pass produced NaN or Inf (%s request %zu): the "
                        "weights hold NaN or Inf, or an activation overflowed float32 (e.g. float16 weights out of "
                        "range); no output of this model can be trusted", rt->info.name, what, i);
}


/* Accumulates log P(target) over the rows the forward pass produces. */
struct score_acc {
    const int32_t *targets; /* (n) target of produced row i (rows are produced for every new token) */
    int64_t n;
    int64_t vocab;
    double logprob;
    int greedy;
    double *per_token;      /* (n) per-token log-probs, or NULL when not wanted */
};

static int score_row(void *ctx, int64_t i, const float *logits, struct ge_error *err)
{
    struct score_acc *acc = ctx;
    if (i < 0 || i >= acc->n)
        return ge_error_set(err, GE_ERR_STATE, "forward pass produced logits row %lld of %lld", (long long)i,
                            (long long)acc->n);
    int is_greedy = 0;
    double lp = logprob_token(logits, acc->vocab, acc->targets[i], &is_greedy);
    acc->logprob += lp;
    if (acc->per_token)
        acc->per_token[i] = lp;
    acc->greedy &= is_greedy;
    return GE_OK;
}

/* Makes the KV cache hold exactly input[0..n_ctx). The cache is reused only when it already holds all of it;
 * otherwise the context is recomputed from position 0 in one call. So the context's keys and values are always
 * computed the same way, whatever was cached before, and a request's log-likelihood never depends on which
 * requests came earlier (a resumed run reproduces an uninterrupted one bit for bit). *reused gets the number of
 * tokens taken from the cache. */
static int cache_context(struct runtime *rt, const int32_t *input, int64_t n_ctx, int64_t *reused,
                         struct ge_error *err)
{
    int64_t common = transformer_state_common_prefix(rt->state, input, n_ctx);
    if (common >= n_ctx) {
        *reused = n_ctx;
        return transformer_state_truncate(rt->state, n_ctx, err);
    }
    *reused = 0;
    transformer_state_reset(rt->state);
    if (n_ctx == 0)
        return GE_OK;
    struct transformer_seq seq = {.state = rt->state, .tokens = input, .n_tokens = n_ctx, .logits_from = n_ctx};
    return transformer_forward_batch(rt->t, rt->work, &seq, 1, err);
}

/* Scores input[0..n_input) whose last n_score positions predict targets[0..n_score), reusing the cached prefix. */
static int score_tokens(struct runtime *rt, const int32_t *input, int64_t n_input, const int32_t *targets,
                        int64_t n_score, double *logprob, int *greedy, double *per_token, struct ge_error *err)
{
    int64_t first_scored = n_input - n_score;
    int64_t keep = 0;
    int rc = cache_context(rt, input, first_scored, &keep, err);
    if (rc)
        return rc;
    struct score_acc acc = {.targets = targets, .n = n_score, .vocab = rt->t->cfg.vocab_size,
                            .greedy = 1, .per_token = per_token};
    struct transformer_seq seq = {.state = rt->state, .tokens = input + first_scored,
                                  .n_tokens = n_input - first_scored, .logits_from = 0, .on_logits = score_row,
                                  .on_logits_ctx = &acc};
    rc = transformer_forward_batch(rt->t, rt->work, &seq, 1, err);
    if (rc)
        return rc;
    rt->stats.n_tokens_fed += (uint64_t)(n_input - keep);
    rt->stats.n_tokens_reused += (uint64_t)keep;
    *logprob = acc.logprob;
    *greedy = acc.greedy;
    return GE_OK;
}

static int runtime_loglikelihood(void *self, const struct ll_request *reqs, size_t n, struct ll_result *out,
                                 struct ge_error *err)
{
    struct runtime *rt = self;
    struct request_tokens rtok;
    request_tokens_init(&rtok);
    int rc = GE_OK;
    for (size_t i = 0; i < n && rc == GE_OK; i++) {
        struct ge_error req_err;
        ge_error_clear(&req_err);
        rc = request_tokens_encode(encode_text, rt, rt->prefix_id, reqs[i].context, reqs[i].continuation,
                                   rt->max_length, &rtok, &req_err);
        if (rc == GE_ERR_LIMIT || rc == GE_ERR_FORMAT || rc == GE_ERR_USAGE) {
            /* About this request only: record it and go on with the batch. */
            out[i] = (struct ll_result){.logprob = NAN, .n_tokens = -1, .error = xstrdup(req_err.msg)};
            rc = GE_OK;
            continue;
        }
        if (rc) {
            ge_error_set(err, rc, "request %zu of the batch: %s", i, req_err.msg);
            break;
        }
        const int32_t *input = rtok.all.ids + rtok.input_start;
        const int32_t *targets = rtok.all.ids + rtok.all.n - rtok.n_cont;
        double lp = 0;
        int greedy = 0;
        double *per_token = reqs[i].want_token_logprobs ? xcalloc(rtok.n_cont, sizeof *per_token) : NULL;
        rc = score_tokens(rt, input, (int64_t)rtok.n_input, targets, (int64_t)rtok.n_cont, &lp, &greedy, per_token,
                          err);
        if (rc == GE_OK && !isfinite(lp))
            rc = nonfinite_error(rt, "loglikelihood", i, err);
        if (rc) {
            free(per_token);
            break;
        }
        out[i] = (struct ll_result){.logprob = lp, .n_tokens = (int64_t)rtok.n_cont, .is_greedy = greedy,
                                    .truncated = rtok.truncated, .token_logprobs = per_token};
        rt->stats.n_requests++;
        rt->stats.n_truncated += (uint64_t)rtok.truncated;
    }
    request_tokens_release(&rtok);
    return rc;
}

static int runtime_loglikelihood_rolling(void *self, const struct ll_request *reqs, size_t n, struct ll_result *out,
                                         struct ge_error *err)
{
    struct runtime *rt = self;
    struct token_ids seq;
    token_ids_init(&seq, 0);
    int rc = GE_OK;
    for (size_t i = 0; i < n && rc == GE_OK; i++) {
        const char *text = reqs[i].continuation;
        token_ids_reset(&seq);
        rc = token_ids_push(&seq, rt->prefix_id, err);
        if (rc == GE_OK)
            rc = encode_text(rt, text, strlen(text), 0, &seq, err);
        if (rc)
            break;
        size_t n_tokens = seq.n - 1;
        if (n_tokens == 0) {
            out[i] = (struct ll_result){.logprob = 0, .n_tokens = 0, .is_greedy = 1};
            continue;
        }
        size_t n_windows = request_rolling_windows(n_tokens, rt->max_length, NULL, 0);
        struct rolling_window *win = xcalloc(n_windows, sizeof *win);
        request_rolling_windows(n_tokens, rt->max_length, win, n_windows);
        double *per_token = reqs[i].want_token_logprobs ? xcalloc(n_tokens, sizeof *per_token) : NULL;
        double total = 0;
        int all_greedy = 1;
        for (size_t k = 0; k < n_windows && rc == GE_OK; k++) {
            double lp = 0;
            int greedy = 0;
            /* X = seq.ids; text token j is X[j + 1]. */
            rc = score_tokens(rt, seq.ids + win[k].input_start, (int64_t)win[k].n_input,
                              seq.ids + 1 + win[k].pred_start, (int64_t)win[k].n_pred, &lp, &greedy,
                              per_token ? per_token + win[k].pred_start : NULL, err);
            total += lp;
            all_greedy &= greedy;
        }
        free(win);
        if (rc == GE_OK && !isfinite(total))
            rc = nonfinite_error(rt, "rolling loglikelihood", i, err);
        if (rc) {
            free(per_token);
            break;
        }
        out[i] = (struct ll_result){.logprob = total, .n_tokens = (int64_t)n_tokens, .is_greedy = all_greedy,
                                    .truncated = n_windows > 1, .token_logprobs = per_token};
        rt->stats.n_requests++;
    }
    token_ids_release(&seq);
    return rc;
}

/* ---- generation --------------------------------------------------------------------------------------------- */

static int generate_one(struct runtime *rt, const struct gen_request *req, size_t req_index,
                        struct gen_result *res, struct ge_error *err)
{
    int rc = GE_OK;
    struct token_ids ctx;
    struct strbuf text;
    token_ids_init(&ctx, 0);
    strbuf_init(&text, 0);
    int64_t V = rt->t->cfg.vocab_size;
    float *logits = xmalloc((size_t)V * sizeof *logits);
    if (req->beam_width > 1) {
        rc = ge_error_set(err, GE_ERR_USAGE, "beam search (width %d) is not implemented yet; use greedy (width 1)",
                          req->beam_width);
        goto out;
    }
    rc = encode_text(rt, req->context, strlen(req->context), 1, &ctx, err);
    if (rc)
        goto out;
    if (ctx.n == 0) {
        rc = token_ids_push(&ctx, rt->prefix_id, err);
        if (rc)
            goto out;
    }
    int64_t max_new = req->max_tokens;
    if (max_new >= rt->max_length)
        max_new = rt->max_length - 1;
    /* Keep the last max_length - max_new context tokens, as lm-eval does before generating. */
    size_t keep_ctx = (size_t)(rt->max_length - max_new);
    size_t start = ctx.n > keep_ctx ? ctx.n - keep_ctx : 0;
    const int32_t *input = ctx.ids + start;
    int64_t n_input = (int64_t)(ctx.n - start);
    int64_t keep = 0;
    rc = cache_context(rt, input, n_input - 1, &keep, err);
    if (rc)
        goto out;
    struct transformer_seq seq = {.state = rt->state, .tokens = input + n_input - 1, .n_tokens = 1,
                                  .logits_from = 0, .logits = logits};
    rc = transformer_forward_batch(rt->t, rt->work, &seq, 1, err);
    if (rc)
        goto out;
    size_t max_stop = 0;
    for (size_t s = 0; s < req->n_stop; s++)
        if (strlen(req->stop[s]) > max_stop)
            max_stop = strlen(req->stop[s]);
    int64_t n_gen = 0;
    int32_t eos = tokenizer_eos(rt->tok);
    /* A model's vocabulary may be larger than its tokenizer's (padding rows, or an untrained model): only ids the
     * tokenizer can decode are candidates. */
    int64_t n_cand = (int64_t)tokenizer_vocab_size(rt->tok);
    if (n_cand <= 0 || n_cand > V)
        n_cand = V;
    while (n_gen < max_new) {
        if (!logprob_row_is_finite(logits, V)) {
            rc = nonfinite_error(rt, "generation", req_index, err);
            goto out;
        }
        int32_t next = (int32_t)logprob_argmax(logits, n_cand);
        if (next == eos)
            break;
        size_t before = text.len;
        /* A control token (BOS, an unknown token) adds no text, as Hugging Face decodes with
         * skip_special_tokens and OpenAI-compatible servers answer by default: a model that starts a new
         * sequence mid-answer must not put "<s>" into the text that is scored. */
        if (!tokenizer_is_special(rt->tok, next))
            rc = tokenizer_token_piece(rt->tok, next, &text, err);
        if (rc)
            goto out;
        n_gen++;
        /* Only a stop string that ends in the new piece can be new: look back max_stop - 1 bytes. */
        size_t from = before > max_stop ? before - max_stop : 0;
        if (req->n_stop && stop_strings_find(text.data + from, text.len - from, req->stop, req->n_stop, NULL) < text.len - from)
            break;
        if (rt->state->n_past >= rt->max_length)
            break;
        struct transformer_seq step = {.state = rt->state, .tokens = &next, .n_tokens = 1, .logits_from = 0,
                                       .logits = logits};
        rc = transformer_forward_batch(rt->t, rt->work, &step, 1, err);
        if (rc)
            goto out;
    }
    size_t cut = stop_strings_find(strbuf_str(&text), text.len, req->stop, req->n_stop, NULL);
    res->text = xstrndup(strbuf_str(&text), cut);
    res->n_tokens = n_gen;
    res->truncated = start > 0;
out:
    free(logits);
    token_ids_release(&ctx);
    strbuf_release(&text);
    return rc;
}

static int runtime_generate(void *self, const struct gen_request *reqs, size_t n, struct gen_result *out,
                            struct ge_error *err)
{
    struct runtime *rt = self;
    for (size_t i = 0; i < n; i++) {
        int rc = generate_one(rt, &reqs[i], i, &out[i], err);
        if (rc) {
            for (size_t j = 0; j < i; j++)
                model_gen_result_release(&out[j]);
            return rc;
        }
    }
    return GE_OK;
}

static int runtime_info(void *self, struct model_info *info, struct ge_error *err)
{
    struct runtime *rt = self;
    *info = rt->info;
    return GE_OK;
}

static const struct model_ops runtime_ops = {
    .backend = "runtime",
    .info = runtime_info,
    .loglikelihood = runtime_loglikelihood,
    .loglikelihood_rolling = runtime_loglikelihood_rolling,
    .generate = runtime_generate,
    .free = runtime_free,
};

void runtime_get_stats(const struct model *m, struct runtime_stats *out)
{
    const struct runtime *rt = m->self;
    *out = rt->stats;
}

const struct tokenizer *runtime_tokenizer(const struct model *m)
{
    return ((const struct runtime *)m->self)->tok;
}

const struct transformer *runtime_transformer(const struct model *m)
{
    return ((const struct runtime *)m->self)->t;
}

int runtime_count_tokens(void *m, const char *text, int64_t *n_tokens, struct ge_error *err)
{
    struct runtime *rt = ((struct model *)m)->self;
    struct token_ids ids;
    token_ids_init(&ids, 0);
    int rc = encode_text(rt, text, strlen(text), 1, &ids, err);
    *n_tokens = (int64_t)ids.n;
    token_ids_release(&ids);
    return rc;
}

int64_t runtime_max_length(const struct model *m)
{
    return ((const struct runtime *)m->self)->max_length;
}

int runtime_encode_input(const struct model *m, const char *text, size_t len, struct token_ids *out,
                         struct ge_error *err)
{
    return encode_text(m->self, text, len, 1, out, err);
}

int32_t runtime_prefix_token(const struct model *m)
{
    return ((const struct runtime *)m->self)->prefix_id;
}
