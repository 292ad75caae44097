/* evaluate.h — one task at one shot count within a run: build its documents and requests in the store, answer
 * them through the run loop (resumable), score every document and store the metrics.
 *
 * Requests per document (req_index):
 *   multiple choice  0..n-1: (few-shot prefix + query or contexts[i], choices[i]); n..2n-1 when the task has an
 *                    unconditional context: (uncond_context, choices[i]);
 *   generate         0: few-shot prefix + query, generation settings {"until": [...], "max_tokens": N}.
 * Metrics: multiple choice stores acc, acc_norm (per character of the choice without its leading space, as
 * lm-evaluation-harness), acc_per_token (GPT-3) and, with unconditional requests, acc_uncond; generation tasks
 * store what their score function returns. Every metric gets its mean and closed-form standard error. */
#ifndef GE_EVALUATE_H
#define GE_EVALUATE_H

#include <stdint.h>

#include "harness/runloop.h"
#include "model/model.h"
#include "results/store.h"
#include "tasks/dataset.h"
#include "tasks/task.h"

struct evaluate_spec {
    const struct task *task;
    const struct dataset *eval;   /* the evaluated split */
    const struct dataset *pool;   /* few-shot pool (may be eval itself); may be NULL when n_shots is 0, and is
                                     then never read nor recorded (a 0-shot run does not need the file) */
    int n_shots;
    uint64_t seed;                /* few-shot seed */
    size_t limit;                 /* evaluate the first limit documents; 0 = all */
    size_t shard_index;           /* with shard_count > 1: only documents k (after limit) with */
    size_t shard_count;           /* k % shard_count == shard_index; 0 or 1 = every document */
    const char *started_at;       /* ISO-8601 UTC */
    /* Optional: fit prompts to the model's window by dropping few-shot examples (the last drawn first) until the
     * longest request of a document — context + continuation, or context + max_gen_tokens — has at most
     * max_tokens tokens. NULL count_tokens = keep every example (the backend then left-truncates). */
    int (*count_tokens)(void *ctx, const char *text, int64_t *n_tokens, struct ge_error *err);
    void *count_ctx;
    int64_t max_tokens;
};

struct evaluate_result {
    char metric[32];   /* the task's primary metric */
    double value;      /* its mean over documents */
    double std_error;  /* closed form; NAN when n < 2 */
    size_t n;          /* documents scored */
    size_t n_failed;   /* documents the model could not answer (errors stored with their responses) */
    size_t n_fewer_shots; /* documents whose prompt dropped few-shot examples to fit the window */
    size_t n_truncated;   /* scored documents with a prompt that still did not fit at 0 shots and was cut to its
                             last tokens (responses.truncated) */
    uint64_t n_from_model, n_from_cache;
    const char *all_names[TASK_MAX_METRICS]; /* every metric stored for the task run (constant strings) */
    double all_values[TASK_MAX_METRICS];
    size_t n_all;
};

/* Checks that k few-shot examples can be drawn for each document of task t: pool (NULL only when k is 0) must
 * hold at least k of them, and when pool is eval itself one fewer, since a document is never its own example.
 * Fails with GE_ERR_USAGE naming the task, the few-shot split, its file and how many examples it has. `run`
 * and `prompt` both call it, so they refuse exactly the same shot counts with the same message. */
int evaluate_check_shots(const struct task *t, const struct dataset *eval, const struct dataset *pool, int k,
                         struct ge_error *err);

/* The requests of document i (index into spec->eval), as stored: texts owned by the struct. */
struct evaluate_doc_requests {
    struct store_request reqs[2 * TASK_MAX_CHOICES]; /* (n) */
    size_t n;
    size_t n_shots;                                  /* few-shot examples used */
    size_t n_dropped;                                /* examples dropped to fit the window */
    char *owned[2 * TASK_MAX_CHOICES + 1];           /* (n_owned) texts the requests point to */
    size_t n_owned;
};
int evaluate_doc_requests(const struct evaluate_spec *spec, size_t i, const char *gen_json,
                          struct evaluate_doc_requests *out, struct ge_error *err);
void evaluate_doc_requests_release(struct evaluate_doc_requests *r);
/* The generation settings JSON of a generation task (caller frees), NULL for multiple choice. */
char *evaluate_gen_settings_json(const struct task *t);

/* True when document k (index into spec->eval) belongs to spec's shard. Round robin, not contiguous ranges: a
 * split is often ordered (by source, length or difficulty), and k mod N gives every shard a similar mix. */
int evaluate_in_shard(const struct evaluate_spec *spec, size_t k);

/* The aggregate of one metric over n per-document values (in doc_index order): their mean and, for n >= 2, the
 * closed-form standard error ("closed-form"; NAN and NULL method otherwise). out->metric borrows name. Used by
 * evaluate_task and by `merge` (results/merge.c), so merged metrics are computed exactly as a run's are. Fails
 * (GE_ERR_USAGE) when n == 0 or a value is not finite. */
int evaluate_metric(const char *name, const double *values, size_t n, struct store_metric *out, struct ge_error *err);

/* The set-level metrics of a task with an aggregate (task.h; MultiRC's F1a and EM) over the documents
 * docs[idx[0..n)] with predicted options pred[0..n) (in doc_index order), each with a bootstrap standard error:
 * EVALUATE_AGG_BOOT_ITERS resamples with replacement of the task's units (task.h aggregate_unit: MultiRC's
 * questions, each with all its answer options; else the documents), seed EVALUATE_AGG_BOOT_SEED, method
 * "bootstrap-1000" (scoring/stats.h). The seed is a constant and units are ordered by their first document in
 * doc_index order, so the numbers depend only on the scored documents: a merged sharded run gets exactly the
 * unsharded run's. Fewer than 2 units: no standard error. out (cap entries) gets *n_out metrics whose
 * names borrow the task's; n == 0 gives none. Used by evaluate_finish and by `merge`. */
#define EVALUATE_AGG_BOOT_ITERS 1000
#define EVALUATE_AGG_BOOT_SEED 1234
int evaluate_aggregate_metrics(const struct task *t, const struct task_doc *docs, const size_t *idx,
                               const size_t *pred, size_t n, struct store_metric *out, size_t cap, size_t *n_out,
                               struct ge_error *err);

/* Per-document score rows that are not metrics: the inputs of a task's aggregate (task.h), stored so that
 * `merge` can recompute the aggregate over all shards without the dataset. EVALUATE_AGG_PRED is the predicted
 * option, EVALUATE_AGG_GOLD the gold option; rows whose metric starts with '_' are never averaged. */
#define EVALUATE_AGG_PRED "_pred"
#define EVALUATE_AGG_GOLD "_gold"

/* The two halves of evaluate_task, for a run that pools the requests of all its tasks (runloop_execute_pool):
 * evaluate_prepare stores spec's task run (found again on resume: *task_run_id) with its documents and requests,
 * and resets *out (n_fewer_shots filled); evaluate_finish scores the answered requests, stores per-example scores
 * and metrics, marks the task run finished and fills *out (except the n_from_* counts). */
int evaluate_prepare(struct store *st, int64_t run_id, const struct evaluate_spec *spec, int64_t *task_run_id,
                     struct evaluate_result *out, struct ge_error *err);
int evaluate_finish(struct store *st, int64_t task_run_id, const struct evaluate_spec *spec,
                    struct evaluate_result *out, struct ge_error *err);

/* Evaluates spec in the run: only the documents of spec's shard are stored, answered and scored, so a shard's
 * metrics cover its documents only; the task run's metric_variants_json records the shard as "shard":"i/N". */
int evaluate_task(struct store *st, int64_t run_id, const char *model_hash, struct model *m,
                  const struct evaluate_spec *spec, const struct runloop_options *loop, struct evaluate_result *out,
                  struct ge_error *err);

#endif
