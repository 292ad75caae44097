/* test_runtime.c — the local runtime on the real, trained stories260K model (../shared/models/stories260K):
 *   - it loads from GGUF, generates a coherent, deterministic story, and ranks a likely continuation above an
 *     unlikely one;
 *   - request semantics: an empty context equals rolling scoring of the same text; scoring a batch of choices
 *     that share a context (KV-cache prefix reuse) gives the same numbers as scoring each from scratch; the
 *     reference (scalar) path agrees with the fast path; truncation is reported; stop strings cut the text even
 *     when they span tokens;
 *   - the llama2.c checkpoint of the same weights, converted by this test to a Hugging Face safetensors file
 *     (q/k rows permuted from the interleaved RoPE layout to rotate-half, by code written here, independent of
 *     model/weights.c), gives the same logits as the GGUF file.
 *   - checkpoints the test writes itself (glam-eval init's GLaM 0.1B at scale 0.05, then damaged on purpose):
 *     NaN or Inf in the weights makes loglikelihood, rolling and generation fail naming the model, instead of
 *     returning NaN; a tensor the configured model does not read (a layer beyond num_hidden_layers, an unknown
 *     name, an lm_head.weight that differs from the tied embedding) makes loading fail naming it, while
 *     transformers' rotary_emb.inv_freq buffer and a duplicate of the tied embedding are accepted; a vocab_size
 *     smaller than the tokenizer's ids is a load error.
 * The stories260K parts skip visibly when ../shared is absent. */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "harness/fileio.h"
#include "harness/xalloc.h"
#include "model/gguf.h"
#include "model/init.h"
#include "model/logprob.h"
#include "model/runtime.h"
#include "model/safetensors.h"
#include "model/tokenizer.h"
#include "model/transformer.h"
#include "model/weights.h"
#include "tests/tap.h"

static char model_gguf[4096], model_bin[4096];

static int read_tensor(void *ctx, const char *name, int n_dims, const int64_t *shape, float *dst,
                       struct ge_error *err)
{
    return weights_read_f32(ctx, name, (uint32_t)n_dims, shape, dst, err);
}

static int open_rt_opt(struct model *m, enum transformer_path path, int64_t max_length, int copy_weights)
{
    struct runtime_options opt;
    runtime_options_init(&opt);
    opt.hash_files = 0;
    opt.copy_weights = copy_weights;
    opt.path = path;
    opt.max_length = max_length;
    struct ge_error err;
    int rc = runtime_open(model_gguf, &opt, m, &err);
    if (rc)
        tap_diag("runtime_open: %s", err.msg);
    return rc;
}

static int open_rt(struct model *m, enum transformer_path path, int64_t max_length)
{
    return open_rt_opt(m, path, max_length, 0);
}

static double ll(struct model *m, const char *ctx, const char *cont, struct ll_result *res_out)
{
    struct ll_request req = {.context = ctx, .continuation = cont};
    struct ll_result res;
    struct ge_error err;
    if (m->ops->loglikelihood(m->self, &req, 1, &res, &err)) {
        tap_diag("loglikelihood: %s", err.msg);
        return NAN;
    }
    if (res_out)
        *res_out = res;
    return res.logprob;
}

static char *gen(struct model *m, const char *prompt, const char *const *stop, size_t n_stop, int64_t max_tokens)
{
    struct gen_request req = {.context = prompt, .stop = stop, .n_stop = n_stop, .max_tokens = max_tokens,
                              .beam_width = 1, .length_penalty = 1.0};
    struct gen_result res = {0};
    struct ge_error err;
    if (m->ops->generate(m->self, &req, 1, &res, &err)) {
        tap_diag("generate: %s", err.msg);
        return NULL;
    }
    return res.text;
}

static void test_gguf_runtime(void)
{
    struct model m, ref;
    if (!tap_ok(open_rt(&m, TRANSFORMER_PATH_FAST, 0) == GE_OK, "stories260K.gguf opens"))
        return;
    struct model_info info;
    struct ge_error err;
    m.ops->info(m.self, &info, &err);
    /* llama.cpp's llama2.c converter wrote llama.context_length = 128 into this GGUF (the .bin says 512). */
    tap_ok(strcmp(info.architecture, "llama") == 0 && info.context_length == 128,
           "info: llama, context 128 as the GGUF says (%s, %lld)", info.architecture, (long long)info.context_length);

    char *story = gen(&m, "Once upon a time", NULL, 0, 60);
    char *again = gen(&m, "Once upon a time", NULL, 0, 60);
    tap_ok(story && strstr(story, " there was") && strstr(story, ". "), "generation is a story: \"%s\"",
           story ? story : "(null)");
    tap_ok(story && again && strcmp(story, again) == 0, "greedy generation is deterministic");
    free(again);

    const char *stop1[] = {"girl named"};
    char *cut = gen(&m, "Once upon a time", stop1, 1, 60);
    tap_ok(cut && story && strstr(story, "girl named") && strncmp(story, cut, strlen(cut)) == 0 &&
           strstr(cut, "girl") == NULL, "a stop string spanning tokens cuts the text before it: \"%s\"",
           cut ? cut : "(null)");
    free(cut);
    const char *stop2[] = {"zzz", ","};
    cut = gen(&m, "Once upon a time", stop2, 2, 60);
    tap_is_str(cut, "", "the earliest stop string wins (\",\" right away)");
    free(cut);
    free(story);

    /* Control tokens add no text (as skip_special_tokens): stories260K starts a new story, BOS first, within 256
     * tokens of GSM8K's first question (a 512-token window, as the .bin has); "<s>" must not reach the text. */
    struct model wide;
    if (open_rt(&wide, TRANSFORMER_PATH_FAST, 512) == GE_OK) {
        struct gen_request req = {
            .context = "Question: Janet\u2019s ducks lay 16 eggs per day. She eats three for breakfast every morning "
                       "and bakes muffins for her friends every day with four. She sells the remainder at the "
                       "farmers' market daily for $2 per fresh duck egg. How much in dollars does she make every "
                       "day at the farmers' market?\nAnswer:",
            .max_tokens = 256, .beam_width = 1, .length_penalty = 1.0};
        struct gen_result res = {0};
        int rc = wide.ops->generate(wide.self, &req, 1, &res, &err);
        tap_ok(rc == GE_OK && res.text && strstr(res.text, "<s>") == NULL && res.n_tokens == 256,
               "a BOS generated mid-answer adds no \"<s>\" and generation goes on (%lld tokens)",
               (long long)res.n_tokens);
        model_gen_result_release(&res);
        wide.ops->free(wide.self);
    }

    struct ll_result r1, r2;
    double lily = ll(&m, "Once upon a time, there was a little girl named", " Lily", &r1);
    double bob = ll(&m, "Once upon a time, there was a little girl named", " Bob", &r2);
    tap_ok(lily > bob + 3, "\" Lily\" (%.3f) is far likelier than \" Bob\" (%.3f)", lily, bob);
    tap_ok(r1.is_greedy && !r2.is_greedy, "\" Lily\" is the greedy continuation, \" Bob\" is not");
    tap_ok(r1.n_tokens == 1 && !r1.truncated, "\" Lily\" is one token, not truncated");

    /* The default load uses the mapped F32 tensors in place; copying them all must not change a bit (fresh
     * backends both, so the KV cache and the batching of the call are the same). */
    struct model viewed, copied;
    if (tap_ok(open_rt_opt(&viewed, TRANSFORMER_PATH_FAST, 0, 0) == GE_OK &&
                   open_rt_opt(&copied, TRANSFORMER_PATH_FAST, 0, 1) == GE_OK,
               "opens with and without copy_weights")) {
        double a = ll(&viewed, "Once upon a time, there was a little girl named", " Lily", NULL);
        double b = ll(&copied, "Once upon a time, there was a little girl named", " Lily", NULL);
        tap_ok(a == b && !isnan(a), "copy_weights gives the same log-likelihood bit for bit (%.17g, %.17g)", b, a);
        viewed.ops->free(viewed.self);
        copied.ops->free(copied.self);
    }

    /* Per-token log-probabilities sum to the total. */
    struct ll_request pt = {.context = "Lily saw a", .continuation = " big dog", .want_token_logprobs = 1};
    struct ll_result ptr = {0};
    if (m.ops->loglikelihood(m.self, &pt, 1, &ptr, &err) == GE_OK && ptr.token_logprobs) {
        double sum = 0;
        for (int64_t i = 0; i < ptr.n_tokens; i++)
            sum += ptr.token_logprobs[i];
        tap_is_double(sum, ptr.logprob, 1e-9, "per-token log-probs sum to the total (%lld tokens)",
                      (long long)ptr.n_tokens);
    } else {
        tap_ok(0, "per-token log-probs are returned when asked for");
    }
    model_ll_result_release(&ptr);

    /* Trailing whitespace of the context belongs to the continuation. */
    double lily2 = ll(&m, "Once upon a time, there was a little girl named ", "Lily", NULL);
    tap_is_double(lily2, lily, 1e-6, "context \"... named \" + \"Lily\" scores as \"... named\" + \" Lily\"");

    /* Empty context == rolling over the same text (both predict every token from the prefix token). */
    const char *text = "Once upon a time, there was a little girl named Lily.";
    struct ll_request rq = {.context = "", .continuation = text};
    struct ll_result roll, whole;
    m.ops->loglikelihood_rolling(m.self, &rq, 1, &roll, &err);
    ll(&m, "", text, &whole);
    tap_is_double(roll.logprob, whole.logprob, 1e-6, "rolling = loglikelihood with an empty context");
    tap_is_int(roll.n_tokens, whole.n_tokens, "rolling and empty-context counts agree");

    /* Prefix reuse: a batch of choices equals each choice scored by a fresh runtime. */
    const char *ctx = "Lily went to the park. She saw a";
    const char *choices[] = {" dog", " big tree", " ball", " cat that was sad"};
    struct ll_request batch[4];
    struct ll_result got[4];
    for (int i = 0; i < 4; i++)
        batch[i] = (struct ll_request){.context = ctx, .continuation = choices[i]};
    m.ops->loglikelihood(m.self, batch, 4, got, &err);
    int same = 1;
    for (int i = 0; i < 4; i++) {
        struct model fresh;
        if (open_rt(&fresh, TRANSFORMER_PATH_FAST, 0))
            return;
        double want = ll(&fresh, ctx, choices[i], NULL);
        same &= fabs(want - got[i].logprob) <= 1e-5 * fabs(want) + 1e-6;
        fresh.ops->free(fresh.self);
    }
    tap_ok(same, "choices scored with a shared KV-cache prefix equal choices scored from scratch");

    /* The scalar reference path agrees with the fast path. */
    if (open_rt(&ref, TRANSFORMER_PATH_REFERENCE, 0) == GE_OK) {
        double a = ll(&ref, ctx, " big tree", NULL);
        tap_is_double(a, got[1].logprob, 1e-4 * fabs(a), "reference path agrees with the fast path");
        ref.ops->free(ref.self);
    }
    m.ops->free(m.self);

    /* Truncation to a small window. */
    struct model small;
    if (open_rt(&small, TRANSFORMER_PATH_FAST, 8) == GE_OK) {
        struct ll_result r;
        ll(&small, "Once upon a time, there was a little girl named", " Lily", &r);
        tap_ok(r.truncated, "a request longer than the window is reported truncated");
        struct runtime_stats stats;
        runtime_get_stats(&small, &stats);
        tap_is_int((long long)stats.n_truncated, 1, "the runtime counts truncated requests");
        small.ops->free(small.self);
    }
}

/* llama2.c's .bin (README: 7 int32 header, then float32 arrays, q/k interleaved) -> HF safetensors. */
static void permute_interleaved_to_half(const float *src, float *dst, int64_t n_heads, int64_t head_dim, int64_t in)
{
    int64_t half = head_dim / 2;
    for (int64_t h = 0; h < n_heads; h++)
        for (int64_t i = 0; i < half; i++)
            for (int64_t j = 0; j < 2; j++)
                memcpy(dst + (h * head_dim + j * half + i) * in, src + (h * head_dim + 2 * i + j) * in,
                       (size_t)in * sizeof *dst);
}

static void test_safetensors_conversion(const char *dir)
{
    char *data = NULL;
    size_t len = 0;
    struct ge_error err;
    if (!tap_ok(file_read_all(model_bin, 0, &data, &len, &err) == GE_OK, "read stories260K.bin"))
        return;
    int32_t hdr[7];
    memcpy(hdr, data, sizeof hdr);
    int64_t dim = hdr[0], hidden = hdr[1], L = hdr[2], H = hdr[3], KV = hdr[4], V = hdr[5] < 0 ? -hdr[5] : hdr[5];
    int64_t hd = dim / H, kvd = KV * hd;
    tap_ok(dim == 64 && hidden == 172 && L == 5 && H == 8 && KV == 4 && V == 512, "llama2.c header as documented");
    const float *p = (const float *)(data + sizeof hdr);
    const float *emb = p; p += V * dim;
    const float *att_norm = p; p += L * dim;
    const float *wq = p; p += L * dim * dim;
    const float *wk = p; p += L * kvd * dim;
    const float *wv = p; p += L * kvd * dim;
    const float *wo = p; p += L * dim * dim;
    const float *ffn_norm = p; p += L * dim;
    const float *w1 = p; p += L * hidden * dim;
    const float *w2 = p; p += L * dim * hidden;
    const float *w3 = p; p += L * hidden * dim;
    const float *final_norm = p;
    size_t n_t = 3 + 9 * (size_t)L;
    struct st_write_tensor *t = xcalloc(n_t, sizeof *t);
    char (*names)[96] = xcalloc(n_t, sizeof *names);
    float *qperm = xmalloc((size_t)(L * dim * dim) * sizeof *qperm);
    float *kperm = xmalloc((size_t)(L * kvd * dim) * sizeof *kperm);
    size_t k = 0;
#define ADD(nm, ptr, d0, d1)                                                                                \
    do {                                                                                                    \
        snprintf(names[k], sizeof names[k], "%s", nm);                                                      \
        t[k] = (struct st_write_tensor){.name = names[k], .dtype = DTYPE_F32, .n_dims = (d1) ? 2u : 1u,     \
                                        .shape = {(d0), (d1)}, .f32 = (ptr)};                               \
        k++;                                                                                                \
    } while (0)
    ADD("model.embed_tokens.weight", emb, V, dim);
    ADD("model.norm.weight", final_norm, dim, 0);
    ADD("lm_head.weight", emb, V, dim); /* the GGUF stores the tied classifier as output.weight */
    char nm[96];
    for (int64_t l = 0; l < L; l++) {
        permute_interleaved_to_half(wq + l * dim * dim, qperm + l * dim * dim, H, hd, dim);
        permute_interleaved_to_half(wk + l * kvd * dim, kperm + l * kvd * dim, KV, hd, dim);
        snprintf(nm, sizeof nm, "model.layers.%lld.input_layernorm.weight", (long long)l);
        ADD(nm, att_norm + l * dim, dim, 0);
        snprintf(nm, sizeof nm, "model.layers.%lld.self_attn.q_proj.weight", (long long)l);
        ADD(nm, qperm + l * dim * dim, dim, dim);
        snprintf(nm, sizeof nm, "model.layers.%lld.self_attn.k_proj.weight", (long long)l);
        ADD(nm, kperm + l * kvd * dim, kvd, dim);
        snprintf(nm, sizeof nm, "model.layers.%lld.self_attn.v_proj.weight", (long long)l);
        ADD(nm, wv + l * kvd * dim, kvd, dim);
        snprintf(nm, sizeof nm, "model.layers.%lld.self_attn.o_proj.weight", (long long)l);
        ADD(nm, wo + l * dim * dim, dim, dim);
        snprintf(nm, sizeof nm, "model.layers.%lld.post_attention_layernorm.weight", (long long)l);
        ADD(nm, ffn_norm + l * dim, dim, 0);
        snprintf(nm, sizeof nm, "model.layers.%lld.mlp.gate_proj.weight", (long long)l);
        ADD(nm, w1 + l * hidden * dim, hidden, dim);
        snprintf(nm, sizeof nm, "model.layers.%lld.mlp.down_proj.weight", (long long)l);
        ADD(nm, w2 + l * dim * hidden, dim, hidden);
        snprintf(nm, sizeof nm, "model.layers.%lld.mlp.up_proj.weight", (long long)l);
        ADD(nm, w3 + l * hidden * dim, hidden, dim);
    }
#undef ADD
    char st_path[4200];
    snprintf(st_path, sizeof st_path, "%s/model.safetensors", dir);
    int rc = safetensors_write(st_path, t, k, NULL, NULL, 0, &err);
    tap_ok(rc == GE_OK, "write the converted safetensors (%s)", rc ? err.msg : "ok");

    /* Load both with the GGUF's config and compare logits over a real sentence. */
    struct weights *wg = NULL, *ws = NULL;
    struct transformer *tg = NULL, *ts = NULL;
    struct model_config cfg;
    rc = weights_open(model_gguf, &wg, &err);
    if (rc == GE_OK)
        rc = weights_load_config(wg, &cfg, &err);
    if (rc == GE_OK)
        rc = weights_open_safetensors(st_path, &ws, &err);
    struct tensor_source sg = {.ctx = wg}, ss = {.ctx = ws};
    sg.read_f32 = read_tensor;
    ss.read_f32 = read_tensor;
    if (rc == GE_OK)
        rc = transformer_load(&cfg, &sg, &tg, &err);
    if (rc == GE_OK)
        rc = transformer_load(&cfg, &ss, &ts, &err);
    if (!tap_ok(rc == GE_OK, "load the model from GGUF and from the converted safetensors (%s)", rc ? err.msg : "ok"))
        goto out;
    int32_t toks[] = {1, 403, 407, 261, 378, 432, 383, 286, 261, 376, 298, 315, 421, 395, 317};
    int64_t n = sizeof toks / sizeof toks[0];
    float *lg = xmalloc((size_t)(n * V) * sizeof *lg), *ls = xmalloc((size_t)(n * V) * sizeof *ls);
    struct transformer_state *st_g = NULL, *st_s = NULL;
    struct transformer_work *wk_g = NULL, *wk_s = NULL;
    transformer_state_new(tg, 64, &st_g, &err);
    transformer_state_new(ts, 64, &st_s, &err);
    transformer_work_new(tg, 64, 64, TRANSFORMER_PATH_FAST, &wk_g, &err);
    transformer_work_new(ts, 64, 64, TRANSFORMER_PATH_FAST, &wk_s, &err);
    transformer_forward(tg, wk_g, st_g, toks, n, lg, &err);
    transformer_forward(ts, wk_s, st_s, toks, n, ls, &err);
    double max_rel = 0;
    for (int64_t i = 0; i < n * V; i++) {
        double d = fabs((double)lg[i] - ls[i]) / (fabs((double)lg[i]) + 1e-3);
        if (d > max_rel)
            max_rel = d;
    }
    tap_ok(max_rel < 1e-4, "GGUF and converted safetensors give the same logits (max relative difference %.2e)",
           max_rel);
    free(lg);
    free(ls);
    transformer_state_free(st_g);
    transformer_state_free(st_s);
    transformer_work_free(wk_g);
    transformer_work_free(wk_s);
out:
    transformer_free(tg);
    transformer_free(ts);
    weights_free(wg);
    weights_free(ws);
    free(t);
    free(names);
    free(qperm);
    free(kperm);
    free(data);
    unlink(st_path);
}

/* ---- checkpoints written by the test --------------------------------------------------------------------- */

/* Writes glam-eval init's GLaM 0.1B at scale 0.05 (dense, 2 layers, hidden 38, vocabulary 12,800, F32, 2 MB)
 * into parent/name, the path going to path. Returns 0 on success. */
static int write_fixture(const char *parent, const char *name, char *path, size_t cap)
{
    struct init_options o;
    struct init_summary sum;
    struct ge_error err;
    init_options_default(&o);
    o.scale = 0.05;
    snprintf(path, cap, "%s/%s", parent, name);
    int rc = init_write_checkpoint(path, preset_find("0.1B"), &o, &sum, &err);
    if (rc)
        tap_diag("init_write_checkpoint(%s): %s", path, err.msg);
    return rc;
}

/* Removes dir and the files in it (one level). */
static void remove_dir(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char p[4200 + 256];
    while (d != NULL && (e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        unlink(p);
    }
    if (d != NULL)
        closedir(d);
    rmdir(dir);
}

/* Overwrites element index of F32 tensor `tensor` in dir/model.safetensors with value, in place (the file
 * offset found through the safetensors reader: 8 + header length + the tensor's data_offsets[0]). */
static int poke_f32(const char *dir, const char *tensor, size_t index, float value)
{
    char path[4200];
    char *buf = NULL;
    size_t len = 0;
    struct ge_error err;
    struct safetensors *st = NULL;
    int rc = -1;
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    if (file_read_all(path, 0, &buf, &len, &err) != GE_OK || safetensors_open_mem(buf, len, path, &st, &err) != GE_OK)
        goto out;
    const struct st_tensor *t = safetensors_find(st, tensor);
    if (t == NULL || t->dtype != DTYPE_F32 || index >= t->n_elems)
        goto out;
    long off = (long)(t->data - (const uint8_t *)buf) + (long)(index * sizeof value);
    FILE *f = fopen(path, "r+b");
    if (f == NULL)
        goto out;
    rc = fseek(f, off, SEEK_SET) == 0 && fwrite(&value, sizeof value, 1, f) == 1 ? 0 : -1;
    if (fclose(f) != 0)
        rc = -1;
out:
    safetensors_free(st);
    free(buf);
    return rc;
}

static int open_dir(const char *dir, struct model *m, struct ge_error *err)
{
    struct runtime_options opt;
    runtime_options_init(&opt);
    opt.hash_files = 0;
    return runtime_open(dir, &opt, m, err);
}

/* Each kind of request on a model whose forward pass gives NaN or Inf fails with GE_ERR_FORMAT naming the model
 * and the cause; nothing returns a NaN log-probability or a text chosen from NaN logits. */
static void expect_nonfinite_errors(const char *dir, const char *what)
{
    struct model m;
    struct ge_error err;
    if (!tap_ok(open_dir(dir, &m, &err) == GE_OK, "%s: opens (NaN/Inf is found when the model runs)", what))
        return;
    struct ll_request req = {.context = "ab", .continuation = "cd", .want_token_logprobs = 1};
    struct ll_result res = {0};
    ge_error_clear(&err);
    int rc = m.ops->loglikelihood(m.self, &req, 1, &res, &err);
    tap_ok(rc == GE_ERR_FORMAT && strstr(err.msg, dir) && strstr(err.msg, "produced NaN or Inf"),
           "%s: loglikelihood fails naming the model (%s)", what, err.msg);
    model_ll_result_release(&res);
    struct ll_request text = {.continuation = "a cat"};
    ge_error_clear(&err);
    rc = m.ops->loglikelihood_rolling(m.self, &text, 1, &res, &err);
    tap_ok(rc == GE_ERR_FORMAT && strstr(err.msg, dir) && strstr(err.msg, "(rolling loglikelihood request 0)"),
           "%s: rolling loglikelihood fails likewise (%s)", what, err.msg);
    model_ll_result_release(&res);
    struct gen_request g = {.context = "ab", .max_tokens = 4, .beam_width = 1, .length_penalty = 1.0};
    struct gen_result gr = {0};
    ge_error_clear(&err);
    rc = m.ops->generate(m.self, &g, 1, &gr, &err);
    tap_ok(rc == GE_ERR_FORMAT && strstr(err.msg, dir) && strstr(err.msg, "(generation request 0)"),
           "%s: generation fails likewise instead of printing text chosen from NaN logits (%s)", what, err.msg);
    model_gen_result_release(&gr);
    m.ops->free(m.self);
}

static void test_nonfinite_weights(const char *parent)
{
    char dir[1024];
    struct model m;
    struct ge_error err;
    if (!tap_ok(write_fixture(parent, "finite", dir, sizeof dir) == 0, "fixture checkpoint written"))
        return;
    ge_error_clear(&err);
    if (tap_ok(open_dir(dir, &m, &err) == GE_OK, "the undamaged fixture opens %s", err.msg)) {
        struct ll_request req = {.context = "ab", .continuation = "cd"};
        struct ll_result res = {0};
        int rc = m.ops->loglikelihood(m.self, &req, 1, &res, &err);
        tap_ok(rc == GE_OK && isfinite(res.logprob) && res.logprob < 0,
               "the undamaged fixture gives a finite log-probability (%g)", res.logprob);
        m.ops->free(m.self);
    }
    /* A NaN in the final norm weight: every logit is NaN. */
    if (tap_ok(poke_f32(dir, "model.norm.weight", 0, NAN) == 0, "NaN written into model.norm.weight"))
        expect_nonfinite_errors(dir, "NaN weight");
    /* +Inf (what a float16 overflow gives) in one embedding row: the logits become NaN (Inf - Inf) for a
     * context that uses the row, and stay finite otherwise. */
    poke_f32(dir, "model.norm.weight", 0, 1.0f);
    if (tap_ok(poke_f32(dir, "model.embed_tokens.weight", (size_t)'a' * 38, INFINITY) == 0,
               "Inf written into the embedding row of 'a'"))
        expect_nonfinite_errors(dir, "Inf weight");
    remove_dir(dir);
}

/* Rewrites dir/model.safetensors with every tensor as it was, minus the one called drop (may be NULL), plus,
 * when add is not NULL, an F32 tensor of that name and shape (n_dims <= 2) holding values. */
static int rewrite_tensors(const char *dir, const char *drop, const char *add, uint32_t n_dims, const int64_t *shape,
                           const float *values)
{
    char path[4200];
    char *buf = NULL;
    size_t len = 0;
    struct ge_error err;
    struct safetensors *st = NULL;
    struct st_write_tensor *t = NULL;
    size_t n = 0;
    int rc = -1;
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    if (file_read_all(path, 0, &buf, &len, &err) != GE_OK || safetensors_open_mem(buf, len, path, &st, &err) != GE_OK)
        goto out;
    t = xcalloc(safetensors_n_tensors(st) + 1, sizeof *t);
    for (size_t i = 0; i < safetensors_n_tensors(st); i++) {
        const struct st_tensor *s = safetensors_tensor_at(st, i);
        if (drop != NULL && strcmp(s->name, drop) == 0)
            continue;
        t[n] = (struct st_write_tensor){.name = s->name, .n_dims = s->n_dims, .raw = s->data,
                                        .n_raw = (size_t)(s->end - s->begin), .raw_dtype = s->dtype_name};
        memcpy(t[n].shape, s->shape, sizeof s->shape);
        n++;
    }
    if (add != NULL) {
        t[n] = (struct st_write_tensor){.name = add, .dtype = DTYPE_F32, .n_dims = n_dims, .f32 = values};
        memcpy(t[n].shape, shape, n_dims * sizeof *shape);
        n++;
    }
    rc = safetensors_write(path, t, n, NULL, NULL, 0, &err) == GE_OK ? 0 : -1;
    if (rc)
        tap_diag("rewrite %s: %s", path, err.msg);
out:
    free(t);
    safetensors_free(st);
    free(buf);
    return rc;
}

/* Sets field key of dir/config.json to value (taken over; freed here). */
static int set_config(const char *dir, const char *key, cJSON *value)
{
    char path[4200];
    char *text = NULL;
    size_t len = 0;
    struct ge_error err;
    int rc = -1;
    snprintf(path, sizeof path, "%s/config.json", dir);
    if (file_read_all(path, 0, &text, &len, &err) != GE_OK) {
        cJSON_Delete(value);
        return -1;
    }
    cJSON *root = cJSON_ParseWithLength(text, len);
    free(text);
    if (root == NULL || !cJSON_ReplaceItemInObjectCaseSensitive(root, key, value)) {
        cJSON_Delete(value);
    } else {
        char *out = cJSON_Print(root);
        FILE *f = fopen(path, "w");
        rc = f != NULL && fputs(out, f) >= 0 ? 0 : -1;
        if (f != NULL && fclose(f) != 0)
            rc = -1;
        cJSON_free(out);
    }
    cJSON_Delete(root);
    return rc;
}

static int set_config_int(const char *dir, const char *key, long long value)
{
    return set_config(dir, key, cJSON_CreateNumber((double)value));
}

/* Opens and frees dir's model; returns open_dir's result. */
static int try_open(const char *dir, struct ge_error *err)
{
    struct model m;
    ge_error_clear(err);
    int rc = open_dir(dir, &m, err);
    if (rc == GE_OK)
        m.ops->free(m.self);
    return rc;
}

/* Opens dir, expecting GE_ERR_FORMAT whose message holds want and want2 (may be NULL); returns whether it did. */
static int open_fails(const char *dir, const char *want, const char *want2, const char *what)
{
    struct ge_error err;
    int rc = try_open(dir, &err);
    return tap_ok(rc == GE_ERR_FORMAT && strstr(err.msg, want) && (want2 == NULL || strstr(err.msg, want2)),
                  "%s: refused at load (%s)", what, rc == GE_OK ? "it loaded" : err.msg);
}

static int opens(const char *dir, const char *what)
{
    struct ge_error err;
    int rc = try_open(dir, &err);
    return tap_ok(rc == GE_OK, "%s: loads %s", what, err.msg);
}

/* Every tensor of a checkpoint is used by the configured model, or loading fails naming it
 * (weights_check_unused; the fixture has 2 layers, hidden 38, vocabulary 12,800, tied embeddings). */
static void test_unused_tensors(const char *parent)
{
    char dir[1024];
    static float buf[12800 * 38];
    int64_t vec[1] = {7}, emb[2] = {12800, 38};
    if (!tap_ok(write_fixture(parent, "unused", dir, sizeof dir) == 0, "fixture checkpoint written"))
        return;
    opens(dir, "the fixture as written");

    /* num_hidden_layers 1 on a 2-layer checkpoint: layer 1 would be dropped without a word */
    set_config_int(dir, "num_hidden_layers", 1);
    open_fails(dir, "tensor model.layers.1.", "but num_hidden_layers in config.json is 1",
               "num_hidden_layers 1 on 2 layers");
    set_config_int(dir, "num_hidden_layers", 2);

    /* an unknown name */
    rewrite_tensors(dir, NULL, "model.layers.0.mlp.extra_proj.weight", 1, vec, buf);
    open_fails(dir, "model.safetensors: tensor model.layers.0.mlp.extra_proj.weight is not used by the model",
               NULL, "an unknown tensor name");
    rewrite_tensors(dir, "model.layers.0.mlp.extra_proj.weight", NULL, 0, NULL, NULL);

    /* transformers' RoPE buffer: harmless within the layers, refused beyond them */
    rewrite_tensors(dir, NULL, "model.layers.1.self_attn.rotary_emb.inv_freq", 1, vec, buf);
    opens(dir, "rotary_emb.inv_freq of layer 1");
    rewrite_tensors(dir, "model.layers.1.self_attn.rotary_emb.inv_freq", "model.layers.2.self_attn.rotary_emb.inv_freq",
                    1, vec, buf);
    open_fails(dir, "tensor model.layers.2.self_attn.rotary_emb.inv_freq belongs to layer 2",
               "num_hidden_layers in config.json is 2",
               "rotary_emb.inv_freq of layer 2");
    rewrite_tensors(dir, "model.layers.2.self_attn.rotary_emb.inv_freq", NULL, 0, NULL, NULL);

    /* lm_head.weight with tied embeddings: the same matrix saved twice is harmless, another one is refused */
    char path[4200];
    char *file = NULL;
    size_t len = 0;
    struct ge_error err;
    struct safetensors *st = NULL;
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    if (tap_ok(file_read_all(path, 0, &file, &len, &err) == GE_OK &&
                   safetensors_open_mem(file, len, path, &st, &err) == GE_OK,
               "read the fixture's embedding")) {
        memcpy(buf, safetensors_find(st, "model.embed_tokens.weight")->data, sizeof buf);
        rewrite_tensors(dir, NULL, "lm_head.weight", 2, emb, buf);
        opens(dir, "lm_head.weight equal to the tied embedding");
        buf[5] += 1.0f;
        rewrite_tensors(dir, "lm_head.weight", "lm_head.weight", 2, emb, buf);
        open_fails(dir, "tensor lm_head.weight is not used", "set tie_word_embeddings to false",
                   "lm_head.weight different from the tied embedding");
    }
    safetensors_free(st);
    free(file);
    remove_dir(dir);
}

/* A model vocabulary smaller than the tokenizer's ids is a load error naming vocab_size and the tokenizer, not a
 * usage error on the first request that meets a large id. */
static void test_vocab_vs_tokenizer(const char *parent)
{
    char dir[1024];
    if (!tap_ok(write_fixture(parent, "vocab", dir, sizeof dir) == 0, "fixture checkpoint written"))
        return;
    set_config_int(dir, "vocab_size", 100);
    set_config(dir, "bos_token_id", cJSON_CreateNull()); /* 256 and 257 would be refused as outside 100 first */
    set_config(dir, "eos_token_id", cJSON_CreateNull());
    open_fails(dir, "config.json: vocab_size is 100, smaller than the tokenizer's 258 token ids", "tokenizer.json",
               "vocab_size 100 with a 258-id tokenizer");
    set_config_int(dir, "vocab_size", 258);
    open_fails(dir, "model.safetensors: tensor model.embed_tokens.weight has shape [12800, 38], expected [258, 38]",
               NULL, "vocab_size 258 equal to the tokenizer's ids gets as far as the embedding's shape");
    struct model m;
    struct ge_error err;
    ge_error_clear(&err);
    if (open_dir(dir, &m, &err) == GE_OK)
        m.ops->free(m.self);
    const char *first = strstr(err.msg, "model.embed_tokens.weight");
    tap_ok(first != NULL && strstr(first + 1, "model.embed_tokens.weight") == NULL,
           "the shape error names the tensor once (%s)", err.msg);
    remove_dir(dir);
}

int main(void)
{
    char dir[] = "/tmp/glam-test-runtime-XXXXXX";
    if (mkdtemp(dir) == NULL)
        return tap_skip_all("cannot create a temporary directory");
    test_nonfinite_weights(dir);
    test_unused_tensors(dir);
    test_vocab_vs_tokenizer(dir);
    const char *shared = tap_shared_dir();
    snprintf(model_gguf, sizeof model_gguf, "%s/models/stories260K/stories260K.gguf", shared ? shared : ".");
    snprintf(model_bin, sizeof model_bin, "%s/models/stories260K/stories260K.bin", shared ? shared : ".");
    if (shared == NULL) {
        tap_skip("../shared is absent", "the stories260K runtime tests");
    } else if (!file_exists(model_gguf) || !file_exists(model_bin)) {
        tap_skip("stories260K is missing from ../shared/models", "the stories260K runtime tests");
    } else {
        test_gguf_runtime();
        test_safetensors_conversion(dir);
    }
    rmdir(dir);
    return tap_done();
}
