/* test_mapped_memory.c — a BF16 checkpoint runs under a memory limit that its float32 copy does not fit in,
 * because RUNTIME_WEIGHTS_MAPPED leaves the weights in the mapped file and converts them on use
 * (model/weight_matrix.h); and the choice of RUNTIME_WEIGHTS_AUTO.
 *
 * The limit is RLIMIT_DATA. Since Linux 4.7 it counts private writable mappings (heap, anonymous mmap, thread
 * stacks) and not read-only file mappings, so it bounds exactly what a converting load allocates (the float32
 * copies) and leaves the checkpoint's mapping free, as we want: the claim is "memory besides the mapped file".
 * RLIMIT_AS would count the mapping too (and every thread's reserved malloc arena), so it would measure the file
 * size and glibc's reservations rather than the copies.
 *
 * The case: `init` writes GLaM 0.1B/64E at scale 0.2 in BF16 (41 MB; 20.5M parameters, so 82 MB as float32;
 * 64 experts in every other layer). Each load runs in a child process (one OpenBLAS thread, so no thread stacks
 * appear during the measurement) that sets RLIMIT_DATA to its current data size plus half the float32 copies
 * (41 MB): the mapped load must open and run 32 tokens in that, and the converting load must fail with
 * GE_ERR_NOMEM naming a tensor. The mapped child's last logits row must equal, bit for bit, that of a converting
 * load in the parent without a limit. Then, without a limit: AUTO's choice for this small model, and the
 * environment variable GLAM_EVAL_WEIGHTS.
 * Skipped (with the reason) under AddressSanitizer (its allocator aborts rather than return NULL, and reserves
 * memory of its own), on kernels older than 4.7, and where a probe shows the limit is not enforced. */
#include "config.h"

#include <cblas.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "model/init.h"
#include "model/presets.h"
#include "model/runtime.h"
#include "tests/formats_fixture.h"
#include "tests/tap.h"

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif
#ifndef UNDER_ASAN
#define UNDER_ASAN 0
#endif

#define N_TOKENS 32

static char tmp_dir[512];

/* What a child reports through its pipe. */
struct child_report {
    int rc;           /* GE_OK, or the code runtime_open / the forward pass failed with */
    int64_t n_lazy;   /* lazy matrices of the loaded model */
    long data_kb;     /* VmData growth after the limit was set, KiB */
    char msg[sizeof ((struct ge_error *)0)->msg];
};

/* A "Key:   123 kB" field of /proc/self/status in KiB, -1 when absent. */
static long status_kb(const char *key)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long v = -1;
    size_t n = strlen(key);
    while (f != NULL && fgets(line, sizeof line, f) != NULL)
        if (strncmp(line, key, n) == 0 && line[n] == ':') {
            v = strtol(line + n + 1, NULL, 10);
            break;
        }
    if (f != NULL)
        fclose(f);
    return v;
}

/* Sets RLIMIT_DATA to the current data size plus extra bytes; 0 on success. */
static int limit_data(long extra)
{
    long data = status_kb("VmData");
    if (data < 0)
        return -1;
    struct rlimit rl = {.rlim_cur = (rlim_t)data * 1024 + (rlim_t)extra, .rlim_max = RLIM_INFINITY};
    struct rlimit old;
    if (getrlimit(RLIMIT_DATA, &old) != 0)
        return -1;
    rl.rlim_max = old.rlim_max;
    if (rl.rlim_cur > rl.rlim_max)
        return -1;
    return setrlimit(RLIMIT_DATA, &rl);
}

/* Opens the checkpoint in mode `mode` and runs N_TOKENS tokens; fills *rep and, on success, the last logits row
 * (V floats, caller-allocated). Used by the children under the limit and by the parent without one. */
static void run_model(enum runtime_weights mode, float *last_row, struct child_report *rep)
{
    struct runtime_options opt;
    struct model m = {0};
    struct transformer_state *s = NULL;
    struct transformer_work *w = NULL;
    struct ge_error err;
    float *logits = NULL;
    runtime_options_init(&opt);
    opt.weights_in_memory = mode;
    opt.hash_files = 0;
    opt.max_length = N_TOKENS;
    opt.max_batch_tokens = N_TOKENS;
    memset(rep, 0, sizeof *rep);
    rep->rc = runtime_open(tmp_dir, &opt, &m, &err);
    if (rep->rc == GE_OK) {
        const struct transformer *t = runtime_transformer(&m);
        int64_t V = t->cfg.vocab_size;
        int32_t toks[N_TOKENS];
        for (int i = 0; i < N_TOKENS; i++)
            toks[i] = (int32_t)((i * 37 + 11) % 256);
        rep->n_lazy = t->n_lazy;
        logits = malloc((size_t)V * sizeof *logits);
        if (logits == NULL)
            rep->rc = ge_error_set(&err, GE_ERR_NOMEM, "out of memory for one logits row");
        if (rep->rc == GE_OK)
            rep->rc = transformer_state_new(t, N_TOKENS, &s, &err);
        if (rep->rc == GE_OK)
            rep->rc = transformer_work_new(t, N_TOKENS, N_TOKENS, TRANSFORMER_PATH_FAST, &w, &err);
        struct transformer_seq q = {.state = s, .tokens = toks, .n_tokens = N_TOKENS,
                                    .logits_from = N_TOKENS - 1, .logits = logits};
        if (rep->rc == GE_OK)
            rep->rc = transformer_forward_batch(t, w, &q, 1, &err);
        if (rep->rc == GE_OK)
            memcpy(last_row, logits, (size_t)V * sizeof *logits);
    }
    if (rep->rc != GE_OK)
        snprintf(rep->msg, sizeof rep->msg, "%s", err.msg);
    free(logits);
    transformer_work_free(w);
    transformer_state_free(s);
    if (m.ops != NULL)
        m.ops->free(m.self);
}

static int write_all(int fd, const void *buf, size_t n)
{
    const char *p = buf;
    while (n > 0) {
        ssize_t k = write(fd, p, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return -1;
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

static int read_all(int fd, void *buf, size_t n)
{
    char *p = buf;
    while (n > 0) {
        ssize_t k = read(fd, p, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return -1;
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

/* Runs run_model(mode) in a child under RLIMIT_DATA = current + budget bytes. Returns 0 when the child
 * reported (rep, last_row filled), -1 when it died or could not set the limit (rep->msg says which). */
static int run_limited(enum runtime_weights mode, long budget, int64_t V, float *last_row, struct child_report *rep)
{
    int fds[2];
    memset(rep, 0, sizeof *rep);
    if (pipe(fds) != 0)
        return -1;
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) {
        close(fds[0]);
        close(fds[1]);
        return -1;
    }
    if (pid == 0) {
        close(fds[0]);
        openblas_set_num_threads(1);
        struct child_report r = {0};
        float *row = malloc((size_t)V * sizeof *row);
        long before = status_kb("VmData");
        if (row == NULL || limit_data(budget) != 0) {
            r.rc = GE_ERR_IO;
            snprintf(r.msg, sizeof r.msg, "cannot set RLIMIT_DATA: %s", strerror(errno));
        } else {
            run_model(mode, row, &r);
            r.data_kb = status_kb("VmData") - before;
        }
        int bad = write_all(fds[1], &r, sizeof r) != 0 || write_all(fds[1], row, (size_t)V * sizeof *row) != 0;
        _exit(bad ? 3 : 0);
    }
    close(fds[1]);
    int got = read_all(fds[0], rep, sizeof *rep) == 0 && read_all(fds[0], last_row, (size_t)V * sizeof *last_row) == 0;
    close(fds[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    if (!got || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        snprintf(rep->msg, sizeof rep->msg, "the child died (status %d)", status);
        return -1;
    }
    return 0;
}

/* 1 when RLIMIT_DATA stops a 64 MB allocation 1 MB above the current data size, in a child. */
static int limit_enforced(void)
{
    pid_t pid = fork();
    if (pid < 0)
        return 0;
    if (pid == 0) {
        if (limit_data(1L << 20) != 0)
            _exit(2);
        char *p = malloc((size_t)64 << 20);
        _exit(p == NULL ? 0 : 1);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

/* 1 when the running kernel is at least 4.7 (RLIMIT_DATA counts mmap'd memory). */
static int kernel_counts_mmap(void)
{
    struct utsname u;
    int major = 0, minor = 0;
    if (uname(&u) != 0 || sscanf(u.release, "%d.%d", &major, &minor) != 2)
        return 0;
    return major > 4 || (major == 4 && minor >= 7);
}

int main(void)
{
    unsetenv("GLAM_EVAL_WEIGHTS"); /* the cases below set the modes themselves */
    if (UNDER_ASAN)
        return tap_skip_all("AddressSanitizer's allocator aborts instead of failing under RLIMIT_DATA");
    if (!kernel_counts_mmap())
        return tap_skip_all("RLIMIT_DATA counts mmap'd memory only since Linux 4.7");
    if (!limit_enforced())
        return tap_skip_all("RLIMIT_DATA is not enforced here (a probe allocation above it succeeded)");
    if (fx_tmpdir(tmp_dir, sizeof tmp_dir) != 0)
        return tap_skip_all("cannot create a temporary directory");
    /* The children run on one thread; so does the parent, so that its products are computed alike. */
    openblas_set_num_threads(1);

    const struct preset *p = preset_find("0.1B/64E");
    struct init_options io;
    struct init_summary sum;
    struct ge_error err;
    init_options_default(&io);
    io.scale = 0.2;
    io.dtype = DTYPE_BF16;
    int rc = p != NULL ? init_write_checkpoint(tmp_dir, p, &io, &sum, &err) : GE_ERR_NOTFOUND;
    if (!tap_ok(rc == GE_OK, "init writes 0.1B/64E at scale 0.2 in BF16 (%s)", rc ? err.msg : "ok")) {
        fx_rmdir(tmp_dir);
        return tap_done();
    }
    const int64_t V = sum.cfg.vocab_size;
    const long f32_bytes = (long)(4 * sum.n_params), budget = f32_bytes / 2;
    tap_diag("%lld parameters, %.1f MB of BF16; float32 copies %.1f MB; limit: current data + %.1f MB",
             (long long)sum.n_params, (double)sum.weights_bytes / 1e6, (double)f32_bytes / 1e6,
             (double)budget / 1e6);

    float *want = malloc((size_t)V * sizeof *want), *got = malloc((size_t)V * sizeof *got);
    struct child_report ref, lazy, eager;
    run_model(RUNTIME_WEIGHTS_F32, want, &ref);
    tap_ok(ref.rc == GE_OK && ref.n_lazy == 0, "without a limit, the converting load runs (%s)",
           ref.rc ? ref.msg : "ok");

    int ok = run_limited(RUNTIME_WEIGHTS_MAPPED, budget, V, got, &lazy) == 0 && lazy.rc == GE_OK;
    tap_ok(ok && lazy.n_lazy > 0, "under the limit, the mapped load opens and runs %d tokens, %lld matrices left "
           "in the file (%s)", N_TOKENS, (long long)lazy.n_lazy, lazy.rc ? lazy.msg : "ok");
    if (ok)
        tap_diag("the mapped load's data grew by %.1f MB", (double)lazy.data_kb / 1024.0);
    tap_ok(ok && ref.rc == GE_OK && memcmp(want, got, (size_t)V * sizeof *got) == 0,
           "its last logits row equals the converting load's, bit for bit");

    int died = run_limited(RUNTIME_WEIGHTS_F32, budget, V, got, &eager) != 0;
    tap_ok(!died && eager.rc == GE_ERR_NOMEM && strstr(eager.msg, "tensor") != NULL,
           "under the same limit, the converting load fails for lack of memory, naming a tensor (%s)", eager.msg);

    /* AUTO converts at load when the float32 copies fit in half the physical memory: 82 MB always does here. */
    struct child_report aut;
    run_model(RUNTIME_WEIGHTS_AUTO, got, &aut);
    tap_ok(aut.rc == GE_OK && aut.n_lazy == 0, "RUNTIME_WEIGHTS_AUTO converts a model this small at load (%s)",
           aut.rc ? aut.msg : "ok");
    setenv("GLAM_EVAL_WEIGHTS", "mapped", 1);
    run_model(RUNTIME_WEIGHTS_AUTO, got, &aut);
    tap_ok(aut.rc == GE_OK && aut.n_lazy > 0 && memcmp(want, got, (size_t)V * sizeof *got) == 0,
           "with AUTO, GLAM_EVAL_WEIGHTS=mapped keeps the weights mapped, same logits (%s)", aut.rc ? aut.msg : "ok");
    run_model(RUNTIME_WEIGHTS_F32, got, &aut);
    tap_ok(aut.rc == GE_OK && aut.n_lazy == 0, "an explicit RUNTIME_WEIGHTS_F32 is not overridden by it");
    setenv("GLAM_EVAL_WEIGHTS", "lazy", 1);
    run_model(RUNTIME_WEIGHTS_AUTO, got, &aut);
    tap_ok(aut.rc == GE_ERR_USAGE && strstr(aut.msg, "GLAM_EVAL_WEIGHTS") != NULL,
           "GLAM_EVAL_WEIGHTS=lazy is refused, naming the variable (%s)", aut.msg);
    unsetenv("GLAM_EVAL_WEIGHTS");

    free(want);
    free(got);
    fx_rmdir(tmp_dir);
    return tap_done();
}
