/* runloop.h — executes the pending requests of a task run against a model backend, batch by batch, storing each
 * batch's responses in one transaction.
 *
 * This is what makes runs resumable: the work list is "requests of this task run without a response" read
 * from the store, so a run killed at any instant (kill -9) and executed again asks the model only for requests
 * whose batch was not committed, and ends with exactly the responses an uninterrupted run stores. Requests whose
 * (model identity, request) pair is already in the response cache are answered from it without the model.
 *
 * Generation settings (requests of type generate) are a JSON object: {"until": ["\n", ...], "max_tokens": N,
 * "beam_width": 1, "length_penalty": 1.0}; until defaults to [], max_tokens to 256, beam_width to 1. */
#ifndef GE_RUNLOOP_H
#define GE_RUNLOOP_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "harness/error.h"
#include "model/model.h"
#include "results/store.h"

#define RUNLOOP_MAX_BATCH 4096
#define RUNLOOP_MAX_STOPS 64          /* stop strings per generate request */
#define RUNLOOP_DEFAULT_MAX_TOKENS 256

struct runloop_options {
    size_t batch_size;                  /* requests per model call and per transaction, 1..RUNLOOP_MAX_BATCH */
    int use_cache;                      /* 1: answer from the response cache when the pair is there */
    int token_logprobs;                 /* 1: ask for and store per-token log-probs of loglikelihood requests */
    FILE *progress_out;                 /* borrowed; NULL = no progress output */
    int progress_tty;                   /* 1 bar, 0 plain lines, -1 detect */
    const char *label;                  /* progress label, e.g. "arc_easy 25-shot"; NULL = "requests" */
    volatile sig_atomic_t *stop;        /* optional; when it becomes nonzero the loop stops between batches */
};

struct runloop_stats {
    uint64_t n_from_model;  /* responses computed by the model in this call */
    uint64_t n_from_cache;  /* responses taken from the response cache */
    uint64_t n_batches;     /* transactions committed */
    double model_ms;        /* wall time inside model calls, milliseconds */
};

/* Sets the defaults: batch_size 32, use_cache 1, no progress, no stop flag. */
void runloop_options_init(struct runloop_options *opt);

/* One task run of a pooled execution (runloop_execute_pool). */
struct runloop_task {
    int64_t task_run_id;
    const char *label;           /* borrowed progress label, e.g. "arc_easy 25-shot" */
    struct runloop_stats stats;  /* filled: what this task run's requests were answered by */
};

/* Answers every pending request of the task runs tasks[0..n) — one run's tasks — pooling them: a batch that
 * the current task run cannot fill is completed with the next task runs' requests, so the backend always gets
 * full batches (grouped per request type) and a remote endpoint's pipeline does not drain at task boundaries.
 * Progress shows one bar per task run, in order, with its total from the store (ETA, requests/s, scored tokens/s;
 * opt->label is ignored). Same resume and failure semantics as runloop_execute. */
int runloop_execute_pool(struct store *st, const char *model_hash, struct model *m, const struct runloop_options *opt,
                         struct runloop_task *tasks, size_t n, struct ge_error *err);

/* Answers every pending request of task_run_id with model m (whose identity hash is model_hash, 64 hex
 * characters; it must be the run's model) and stores the responses. Fills *stats (may be NULL).
 * Returns GE_OK when nothing is pending any more; GE_ERR_STATE with "interrupted" when *opt->stop became
 * nonzero (everything committed so far stays); the backend's or the store's error otherwise (the failing batch
 * is not stored, earlier ones are). Never leaves a partial batch in the store. */
int runloop_execute(struct store *st, int64_t task_run_id, const char *model_hash, struct model *m,
                    const struct runloop_options *opt, struct runloop_stats *stats, struct ge_error *err);

#endif
