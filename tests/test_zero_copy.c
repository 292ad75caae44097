/* test_zero_copy.c — loading weights in place from memory-mapped checkpoints: float32 views
 * (tensor_source.view_f32, weights_view_f32), lazy matrices converted on use (tensor_source.view_raw,
 * weights_view_raw, model/weight_matrix.h), and the owned/borrowed bookkeeping in model/transformer_load.c.
 *
 * Each case writes a tiny checkpoint of its own (values from tests/tiny_model.h, written with safetensors_write,
 * whose header padding puts the data section at a multiple of 8 bytes; or the format tests' GGUF fixture) or
 * opens the real stories260K GGUF (../shared/models, skipped when absent), loads it three times from the same
 * struct weights (with views; copying everything; with views and lazy matrices) and checks:
 *   - which tensors were viewed: a view lies inside the file's mapped data and equals weights_find's pointer; a
 *     copy lies outside it. F32 tensors are viewed, experts and routers included; BF16/F16/Q8_0 tensors, GGUF
 *     q/k rows that need un-permuting and F32 tensors at offsets that are not 4-byte aligned (a safetensors file
 *     whose first tensor is one BF16 value) are copied;
 *   - which were left lazy: with view_raw, every matrix that is not viewed except permuted q/k rows stays in the
 *     file; only vectors (norms, biases) and permuted q/k are copied;
 *   - that all three loads give bit-identical logits for 16 tokens (half in one batched pass, half one token per
 *     call), and the lazy and copying loads also on the reference path: conversion on use runs the same
 *     dtype_to_f32 on the same bytes, and a lazy lm_head split into blocks of rows (a case with V = 8269) gives
 *     the same products;
 *   - that nothing leaks or is freed twice (run under ASan). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness/xalloc.h"
#include "model/safetensors.h"
#include "model/transformer.h"
#include "model/weights.h"
#include "tests/formats_fixture.h"
#include "tests/tap.h"
#include "tests/tiny_model.h"

#define N_TOKENS 16
#define VIEWS_ALL (-1)  /* load_both: every viewable tensor must be viewed */
#define VIEWS_SOME (-2) /* some, not all */
#define LAZY_ALL (-1)   /* load_both: every matrix that is not viewed must be lazy */

static char tmp_dir[512];

static int read_tensor(void *ctx, const char *name, int n_dims, const int64_t *shape, float *dst,
                       struct ge_error *err)
{
    return weights_read_f32(ctx, name, (uint32_t)n_dims, shape, dst, err);
}

static const float *view_tensor(void *ctx, const char *name, int n_dims, const int64_t *shape)
{
    return weights_view_f32(ctx, name, (uint32_t)n_dims, shape);
}

static int view_raw(void *ctx, const char *name, int n_dims, const int64_t *shape, enum dtype *dtype,
                    const void **data)
{
    return weights_view_raw(ctx, name, (uint32_t)n_dims, shape, dtype, data);
}

/* A tensor_source over tiny_read_f32 that records every tensor it hands out, to write them to a file. */
struct recorder {
    struct tiny_source tiny;
    struct st_write_tensor *t; /* (n) names and data owned */
    size_t n, cap;
};

static int record_read(void *ctx, const char *name, int n_dims, const int64_t *shape, float *dst,
                       struct ge_error *err)
{
    struct recorder *r = ctx;
    int rc = tiny_read_f32(&r->tiny, name, n_dims, shape, dst, err);
    if (rc != GE_OK)
        return rc;
    if (r->n == r->cap) {
        r->cap = r->cap ? 2 * r->cap : 32;
        r->t = xrealloc(r->t, r->cap * sizeof *r->t);
    }
    struct st_write_tensor *t = &r->t[r->n++];
    memset(t, 0, sizeof *t);
    t->name = xstrdup(name);
    t->n_dims = (uint32_t)n_dims;
    size_t n = 1;
    for (int d = 0; d < n_dims; d++) {
        t->shape[d] = shape[d];
        n *= (size_t)shape[d];
    }
    float *copy = xmalloc(n * sizeof *copy);
    memcpy(copy, dst, n * sizeof *copy);
    t->f32 = copy;
    return GE_OK;
}

static void recorder_release(struct recorder *r)
{
    for (size_t i = 0; i < r->n; i++) {
        free((char *)r->t[i].name);
        free((float *)r->t[i].f32);
    }
    free(r->t);
}

/* Writes the model of config cfg (case `name`, for messages) as one safetensors file in dtype dt; misalign: put a single BF16 value first, so every
 * tensor after it starts 2 bytes past a multiple of 4. Returns 0 on success. */
static int write_case(const char *name, const struct model_config *cfg, enum dtype dt, int misalign,
                      const char *path)
{
    struct recorder r = {.tiny = {.seed = 7}};
    struct tensor_source src = {.ctx = &r, .read_f32 = record_read};
    struct transformer *t = NULL;
    struct ge_error err;
    int rc = transformer_load(cfg, &src, &t, &err);
    transformer_free(t);
    static const float one = 1.0f;
    struct st_write_tensor *all = xcalloc(r.n + 1, sizeof *all);
    size_t n = 0;
    if (misalign)
        all[n++] = (struct st_write_tensor){.name = "aaa.pad", .dtype = DTYPE_BF16, .n_dims = 1, .shape = {1},
                                            .f32 = &one};
    for (size_t i = 0; i < r.n; i++) {
        all[n] = r.t[i];
        all[n++].dtype = dt;
    }
    if (rc == 0)
        rc = safetensors_write(path, all, n, NULL, NULL, 0, &err);
    if (rc != 0)
        tap_diag("write_case %s: %s", name, err.msg);
    free(all);
    recorder_release(&r);
    return rc;
}

/* The byte range [lo, hi) covered by w's tensor data (inside the file mappings). */
static void data_range(const struct weights *w, const uint8_t **lo, const uint8_t **hi)
{
    *lo = NULL;
    *hi = NULL;
    for (size_t i = 0; i < weights_n_tensors(w); i++) {
        struct weights_tensor t;
        if (weights_tensor_at(w, i, &t, NULL) != GE_OK)
            continue;
        const uint8_t *b = t.data, *e = b + t.n_bytes;
        if (*lo == NULL || b < *lo)
            *lo = b;
        if (*hi == NULL || e > *hi)
            *hi = e;
    }
}

/* What a load made of each tensor. */
struct census {
    int n_all;        /* float32 tensors (vectors, and matrices that are not lazy); a tied lm_head counted once */
    int n_in;         /* of those, viewed: pointing into the mapped data */
    int n_mat_owned;  /* matrices held as float32 copies (outside the mapping) */
    int n_lazy;       /* lazy matrices */
    int n_lazy_in;    /* of those, with bytes inside the mapping */
};

/* Counts t's tensors, experts and routers included, against the mapped data range [lo, hi). */
static struct census count_views(const struct transformer *t, const uint8_t *lo, const uint8_t *hi)
{
    struct census c = {0};
    for (int64_t l = -1; l < t->cfg.n_layers; l++) {
        const struct weight_matrix *mats[8];
        const float *vecs[5];
        size_t nm = 0, nv = 0, n_exp = 0;
        const struct transformer_layer *L = l >= 0 ? &t->w.layers[l] : NULL;
        if (L == NULL) {
            mats[nm++] = &t->w.tok_embed;
            if (!t->cfg.tie_word_embeddings)
                mats[nm++] = &t->w.lm_head;
            vecs[nv++] = t->w.final_norm;
        } else {
            const struct weight_matrix *m[] = {&L->wq, &L->wk, &L->wv, &L->wo, &L->w_gate, &L->w_up, &L->w_down,
                                               &L->router};
            for (size_t i = 0; i < sizeof m / sizeof m[0]; i++)
                mats[nm++] = m[i];
            const float *v[] = {L->attn_norm, L->q_norm, L->k_norm, L->rel_bias, L->ffn_norm};
            for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
                vecs[nv++] = v[i];
            n_exp = L->exp_up != NULL ? (size_t)t->cfg.n_experts : 0;
        }
        for (size_t i = 0; i < nm + 3 * n_exp; i++) {
            size_t e = (i - nm) / 3;
            const struct weight_matrix *m = i < nm ? mats[i]
                                            : (i - nm) % 3 == 0 ? (L->exp_gate ? &L->exp_gate[e] : NULL)
                                            : (i - nm) % 3 == 1 ? &L->exp_up[e] : &L->exp_down[e];
            if (m == NULL)
                continue;
            if (weight_matrix_is_lazy(m)) {
                c.n_lazy++;
                c.n_lazy_in += (const uint8_t *)m->raw >= lo && (const uint8_t *)m->raw < hi;
            } else if (m->f32 != NULL) {
                int in = (const uint8_t *)m->f32 >= lo && (const uint8_t *)m->f32 < hi;
                c.n_all++;
                c.n_in += in;
                c.n_mat_owned += !in;
            }
        }
        for (size_t i = 0; i < nv; i++) {
            if (vecs[i] == NULL)
                continue;
            c.n_all++;
            c.n_in += (const uint8_t *)vecs[i] >= lo && (const uint8_t *)vecs[i] < hi;
        }
    }
    return c;
}

/* Logits (N_TOKENS, V) of a fixed token sequence on path p, the first half in one pass (batched products), the
 * rest one token per call (matrix-vector products); caller frees. NULL on failure. */
static float *logits_of(const struct transformer *t, enum transformer_path p)
{
    struct transformer_state *s = NULL;
    struct transformer_work *w = NULL;
    struct ge_error err;
    int64_t V = t->cfg.vocab_size;
    int32_t toks[N_TOKENS];
    for (int i = 0; i < N_TOKENS; i++)
        toks[i] = (int32_t)((i * 5 + 3) % V);
    float *lg = xmalloc((size_t)(N_TOKENS * V) * sizeof *lg);
    int rc = transformer_state_new(t, N_TOKENS, &s, &err);
    if (rc == GE_OK)
        rc = transformer_work_new(t, N_TOKENS, N_TOKENS, p, &w, &err);
    if (rc == GE_OK)
        rc = transformer_forward(t, w, s, toks, N_TOKENS / 2, lg, &err);
    for (int i = N_TOKENS / 2; i < N_TOKENS && rc == GE_OK; i++)
        rc = transformer_forward(t, w, s, toks + i, 1, lg + i * V, &err);
    if (rc != GE_OK) {
        tap_diag("forward: %s", err.msg);
        free(lg);
        lg = NULL;
    }
    transformer_work_free(w);
    transformer_state_free(s);
    return lg;
}

/* Loads cfg from w three ways: with views, by copying, and with views and lazy matrices (view_raw). Checks the
 * number of viewed tensors (want_views, VIEWS_ALL or VIEWS_SOME) and of lazy matrices (want_lazy, or LAZY_SOME:
 * at least one), that lazy matrices point into the mapped file, and that all three give bit-identical logits
 * (the lazy load also on the reference path). Returns the viewing transformer (caller frees), or NULL. */
static struct transformer *load_both(const char *what, const struct model_config *cfg, struct weights *w,
                                     int want_views, int want_lazy)
{
    struct tensor_source sv = {.ctx = w, .read_f32 = read_tensor, .view_f32 = view_tensor};
    struct tensor_source sc = {.ctx = w, .read_f32 = read_tensor};
    struct tensor_source sl = {.ctx = w, .read_f32 = read_tensor, .view_f32 = view_tensor, .view_raw = view_raw};
    struct transformer *tv = NULL, *tc = NULL, *tl = NULL;
    struct ge_error err;
    int rc = transformer_load(cfg, &sv, &tv, &err);
    if (rc == GE_OK)
        rc = transformer_load(cfg, &sc, &tc, &err);
    if (rc == GE_OK)
        rc = transformer_load(cfg, &sl, &tl, &err);
    if (!tap_ok(rc == GE_OK, "%s: loads with views, by copying and lazily (%s)", what, rc ? err.msg : "ok")) {
        transformer_free(tv);
        transformer_free(tc);
        return NULL;
    }
    const uint8_t *lo, *hi;
    data_range(w, &lo, &hi);
    struct census v = count_views(tv, lo, hi), c = count_views(tc, lo, hi), l = count_views(tl, lo, hi);
    if (want_views == VIEWS_SOME)
        tap_ok(v.n_in > 0 && v.n_in < v.n_all, "%s: %d of %d tensors viewed in the mapped file", what, v.n_in,
               v.n_all);
    else
        tap_is_int(v.n_in, want_views == VIEWS_ALL ? v.n_all : want_views, "%s: %d of %d tensors viewed in the "
                   "mapped file", what, v.n_in, v.n_all);
    tap_is_int(tv->n_owned, v.n_all - v.n_in, "%s: the others (%d) are owned copies", what, v.n_all - v.n_in);
    tap_ok(c.n_in == 0 && tc->n_owned == c.n_all && c.n_lazy == 0 && tc->n_lazy == 0 && tc->lazy_floats == 0,
           "%s: the copying load views nothing (%d owned)", what, (int)tc->n_owned);

    if (want_lazy == LAZY_ALL)
        tap_ok(l.n_lazy > 0 && l.n_mat_owned == 0, "%s: lazy load: every matrix not viewed (%d) is left in the "
               "file, none copied (%d)", what, l.n_lazy, l.n_mat_owned);
    else
        tap_is_int(l.n_lazy, want_lazy, "%s: lazy load: %d matrices left in the file", what, l.n_lazy);
    tap_ok(l.n_lazy_in == l.n_lazy && tl->n_lazy == l.n_lazy && (l.n_lazy == 0) == (tl->lazy_floats == 0),
           "%s: lazy load: each lazy matrix is the file's own bytes (%d in the mapping, %lld floats of scratch)",
           what, l.n_lazy_in, (long long)tl->lazy_floats);
    tap_ok(l.n_in == v.n_in && tl->n_owned == l.n_all - l.n_in, "%s: lazy load: the same %d views, %d owned copies",
           what, l.n_in, (int)tl->n_owned);

    float *lv = logits_of(tv, TRANSFORMER_PATH_FAST), *lc = logits_of(tc, TRANSFORMER_PATH_FAST);
    float *ll = logits_of(tl, TRANSFORMER_PATH_FAST);
    size_t n = (size_t)(N_TOKENS * cfg->vocab_size);
    tap_ok(lv != NULL && lc != NULL && memcmp(lv, lc, n * sizeof *lv) == 0,
           "%s: logits of the viewing and the copying load are identical", what);
    tap_ok(ll != NULL && lc != NULL && memcmp(ll, lc, n * sizeof *ll) == 0,
           "%s: logits of the lazy and the copying load are identical", what);
    for (size_t i = 0; ll != NULL && lc != NULL && i < n; i++)
        if (ll[i] != lc[i]) {
            tap_diag("first difference at row %zu col %zu: %.9g vs %.9g", i / (size_t)cfg->vocab_size,
                     i % (size_t)cfg->vocab_size, ll[i], lc[i]);
            break;
        }
    free(lv);
    free(lc);
    free(ll);
    lc = logits_of(tc, TRANSFORMER_PATH_REFERENCE);
    ll = logits_of(tl, TRANSFORMER_PATH_REFERENCE);
    tap_ok(ll != NULL && lc != NULL && memcmp(ll, lc, n * sizeof *ll) == 0,
           "%s: reference path: logits of the lazy and the copying load are identical", what);
    free(lc);
    free(ll);
    transformer_free(tc);
    transformer_free(tl);
    return tv;
}

/* Case `name` (its vocabulary replaced by vocab when > 0) written in dtype dt, loaded three ways (load_both). */
static void test_safetensors_case(const char *name, int64_t vocab, enum dtype dt, int misalign, int want_views,
                                  int want_lazy)
{
    char path[600], what[128];
    snprintf(path, sizeof path, "%s/%s.safetensors", tmp_dir, name);
    snprintf(what, sizeof what, "%s %s%s", name, dtype_name(dt), misalign ? " misaligned" : "");
    if (vocab > 0)
        snprintf(what + strlen(what), sizeof what - strlen(what), " V=%lld", (long long)vocab);
    struct model_config cfg;
    struct weights *w = NULL;
    struct ge_error err;
    int ok = tiny_config(name, &cfg) == 0;
    if (vocab > 0)
        cfg.vocab_size = vocab;
    if (!tap_ok(ok && write_case(name, &cfg, dt, misalign, path) == 0 &&
                    weights_open_safetensors(path, &w, &err) == GE_OK,
                "%s: checkpoint written and opened", what))
        return;
    struct transformer *tv = load_both(what, &cfg, w, want_views, want_lazy);
    if (tv != NULL && want_views != 0) {
        struct weights_tensor wq;
        tap_ok(weights_find(w, "model.layers.0.self_attn.q_proj.weight", &wq, &err) == GE_OK &&
                   (const void *)tv->w.layers[0].wq.f32 == wq.data,
               "%s: layer 0's q_proj is the file's own bytes", what);
    }
    if (tv != NULL && cfg.n_experts > 0) {
        const struct transformer_layer *L = &tv->w.layers[1];
        struct weights_tensor up;
        int viewed = weights_find(w, "model.layers.1.mlp.experts.3.up_proj.weight", &up, &err) == GE_OK &&
                     (const void *)L->exp_up[3].f32 == up.data;
        tap_ok(viewed == (want_views == VIEWS_ALL), "%s: expert 3's up_proj is %s", what,
               want_views == VIEWS_ALL ? "the file's own bytes (zero-copy)" : "not viewed");
    }
    transformer_free(tv);
    weights_free(w);
    unlink(path);
}

/* weights_view_f32 refuses what cannot be used as is. */
static void test_view_refusals(void)
{
    char path[600];
    snprintf(path, sizeof path, "%s/refusals.safetensors", tmp_dir);
    struct weights *w = NULL;
    struct ge_error err;
    struct model_config cfg;
    if (!tap_ok(tiny_config("llama_gqa", &cfg) == 0 && write_case("llama_gqa", &cfg, DTYPE_F32, 0, path) == 0 &&
                    weights_open_safetensors(path, &w, &err) == 0,
                "refusals: checkpoint written and opened"))
        return;
    int64_t good[1] = {32}, wrong[1] = {33}, two[2] = {32, 1};
    const char *nm = "model.layers.0.input_layernorm.weight";
    tap_ok(weights_view_f32(w, nm, 1, good) != NULL, "view: F32 of the right shape is viewable");
    tap_ok(weights_view_f32(w, nm, 1, wrong) == NULL, "view: a different shape is not");
    tap_ok(weights_view_f32(w, nm, 2, two) == NULL, "view: a different rank is not");
    tap_ok(weights_view_f32(w, "model.layers.9.input_layernorm.weight", 1, good) == NULL,
           "view: an absent tensor is not");
    enum dtype dt;
    const void *raw = NULL;
    int64_t q[2] = {32, 32}, q_wrong[2] = {32, 31};
    const char *qn = "model.layers.0.self_attn.q_proj.weight";
    tap_ok(weights_view_raw(w, qn, 2, q, &dt, &raw) == 1 && dt == DTYPE_F32 && raw != NULL,
           "view_raw: a matrix of the right shape is offered in its stored type");
    tap_ok(weights_view_raw(w, qn, 2, q_wrong, &dt, &raw) == 0 && weights_view_raw(w, qn, 1, q, &dt, &raw) == 0 &&
               weights_view_raw(w, "model.layers.9.self_attn.q_proj.weight", 2, q, &dt, &raw) == 0,
           "view_raw: another shape or rank, or an absent tensor, is not");
    weights_free(w);
    unlink(path);
}

/* A real GGUF file (stories260K, llama.cpp's converter, F32): its q/k rows need un-permuting, so they are copied;
 * every other tensor is viewed. */
static void test_gguf(void)
{
    const char *shared = tap_shared_dir();
    char path[4096];
    if (shared == NULL) {
        tap_skip("../shared is absent", "gguf: stories260K");
        return;
    }
    snprintf(path, sizeof path, "%s/models/stories260K/stories260K.gguf", shared);
    struct weights *w = NULL;
    struct model_config cfg;
    struct ge_error err;
    if (!tap_ok(weights_open_gguf(path, &w, &err) == GE_OK && weights_load_config(w, &cfg, &err) == GE_OK,
                "gguf: stories260K opened and configured"))
        goto out;
    struct weights_tensor q, k, v;
    int ok = weights_find(w, "model.layers.1.self_attn.q_proj.weight", &q, &err) == GE_OK &&
             weights_find(w, "model.layers.1.self_attn.k_proj.weight", &k, &err) == GE_OK &&
             weights_find(w, "model.layers.1.self_attn.v_proj.weight", &v, &err) == GE_OK;
    if (!tap_ok(ok && q.dtype == DTYPE_F32 && q.rope_perm_heads > 0 && k.rope_perm_heads > 0 &&
                    v.dtype == DTYPE_F32 && v.rope_perm_heads == 0,
                "gguf: F32 q/k with permuted rows and F32 v"))
        goto out;
    struct transformer *tv = load_both("gguf", &cfg, w, VIEWS_SOME, 0);
    if (tv != NULL) {
        const struct transformer_layer *L = &tv->w.layers[1];
        tap_ok((const void *)L->wq.f32 != q.data && (const void *)L->wk.f32 != k.data, "gguf: permuted q/k are copied");
        tap_ok((const void *)L->wv.f32 == v.data, "gguf: v_proj is viewed");
        tap_is_int(tv->n_owned, 2 * cfg.n_layers, "gguf: exactly the q and k of every layer are owned copies");
    }
    transformer_free(tv);
out:
    weights_free(w);
}

/* The format tests' GGUF fixture (tests/formats_fixture.h): F32, F16, BF16 and Q8_0 tensors, q/k rows permuted,
 * experts stacked (layout 0) or one tensor each (layout 1). Lazily loaded, the F32 tensors are viewed, the
 * permuted q/k copied, and the 7 other matrices left in the file: layer 0's v (BF16), gate (F16) and down
 * (Q8_0); layer 1's two experts' up (F16) and down (Q8_0). */
static void test_fixture_gguf(void)
{
    for (int layout = 0; layout < 2; layout++) {
        char path[600], what[64];
        uint8_t *buf = NULL;
        size_t len = 0;
        struct weights *w = NULL;
        struct model_config cfg;
        struct ge_error err;
        snprintf(what, sizeof what, "fixture gguf layout %d", layout);
        int ok = fx_gguf_llama(layout, &buf, &len) == 0 &&
                 fx_write_file(tmp_dir, "fixture.gguf", buf, len, path, sizeof path) == 0 &&
                 weights_open_gguf(path, &w, &err) == GE_OK && weights_load_config(w, &cfg, &err) == GE_OK;
        free(buf);
        if (tap_ok(ok, "%s: written, opened and configured", what)) {
            cfg.is_moe_layer[0] = 0; /* the fixture's layer 0 is dense (its metadata says nothing per layer) */
            transformer_free(load_both(what, &cfg, w, VIEWS_SOME, 7));
        }
        weights_free(w);
        unlink(path);
    }
}

int main(void)
{
    if (fx_tmpdir(tmp_dir, sizeof tmp_dir) != 0)
        return tap_skip_all("cannot create a temporary directory");
    test_safetensors_case("llama_gqa", 0, DTYPE_F32, 0, VIEWS_ALL, 0);
    test_safetensors_case("glam_moe", 0, DTYPE_F32, 0, VIEWS_ALL, 0);
    test_safetensors_case("glam_dense_relbias", 0, DTYPE_BF16, 0, 0, LAZY_ALL);
    test_safetensors_case("glam_moe", 0, DTYPE_BF16, 0, 0, LAZY_ALL);
    test_safetensors_case("glam_moe_plain", 0, DTYPE_F16, 0, 0, LAZY_ALL);
    test_safetensors_case("llama_gqa", 0, DTYPE_F16, 0, 0, LAZY_ALL);
    /* A vocabulary of 2 blocks and a part (4096 + 4096 + 77 rows): a lazy lm_head is converted by blocks. */
    test_safetensors_case("glam_dense_rope", 2 * 4096 + 77, DTYPE_BF16, 0, 0, LAZY_ALL);
    /* Unaligned F32 matrices cannot be viewed but can be converted on use (dtype_to_f32 reads unaligned bytes). */
    test_safetensors_case("llama_gqa", 0, DTYPE_F32, 1, 0, LAZY_ALL);
    test_fixture_gguf();
    test_view_refusals();
    test_gguf();
    fx_rmdir(tmp_dir);
    return tap_done();
}
