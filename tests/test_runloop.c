/* test_runloop.c — pooled execution of a run's task runs (harness/runloop.h): a batch the current task run cannot
 * fill is completed with the next task runs' requests, every request is answered exactly once and attributed to
 * its task run, a second execution finds nothing pending, and progress shows one bar per task run. The backend is
 * a test double that records the size of every call. */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/runloop.h"
#include "results/store.h"
#include "tests/store_fixture.h"
#include "tests/tap.h"

#define MAX_CALLS 16

/* Records each loglikelihood call's size; answers -(length of the continuation). */
struct counting_backend {
    size_t calls[MAX_CALLS]; /* (n_calls) requests per call */
    size_t n_calls;
};

static int cb_info(void *self, struct model_info *info, struct ge_error *err)
{
    memset(info, 0, sizeof *info);
    return GE_OK;
}

static int cb_loglikelihood(void *self, const struct ll_request *reqs, size_t n, struct ll_result *out,
                            struct ge_error *err)
{
    struct counting_backend *cb = self;
    if (cb->n_calls == MAX_CALLS)
        return ge_error_set(err, GE_ERR_LIMIT, "too many calls");
    cb->calls[cb->n_calls++] = n;
    for (size_t i = 0; i < n; i++)
        out[i] = (struct ll_result){.logprob = -(double)strlen(reqs[i].continuation), .n_tokens = 2, .is_greedy = 1};
    return GE_OK;
}

static void cb_free(void *self) {}

/* A backend that reports results through the sink as it finishes them, and fails the call after `fail_after`
 * results (as a remote endpoint whose server dies mid-batch). */
struct sinking_backend {
    const struct model_sink *sink;
    size_t fail_after;
    size_t n_asked;          /* requests the backend was asked for, over all calls */
};

static int sb_loglikelihood(void *self, const struct ll_request *reqs, size_t n, struct ll_result *out,
                            struct ge_error *err)
{
    struct sinking_backend *sb = self;
    for (size_t i = 0; i < n; i++) {
        sb->n_asked++;
        if (sb->fail_after == 0)
            return ge_error_set(err, GE_ERR_IO, "the server went away");
        sb->fail_after--;
        out[i] = (struct ll_result){.logprob = -(double)strlen(reqs[i].continuation), .n_tokens = 2, .is_greedy = 1};
        if (sb->sink && sb->sink->ll_done)
            sb->sink->ll_done(sb->sink->ctx, i, &out[i]);
    }
    return GE_OK;
}

static void sb_set_sink(void *self, const struct model_sink *sink)
{
    ((struct sinking_backend *)self)->sink = sink;
}

static const struct model_ops sinking_ops = {.backend = "sinking", .info = cb_info,
                                             .loglikelihood = sb_loglikelihood, .free = cb_free,
                                             .set_sink = sb_set_sink};

static const struct model_ops counting_ops = {.backend = "counting", .info = cb_info,
                                              .loglikelihood = cb_loglikelihood, .free = cb_free};

/* Adds task run `name` with 3 documents of one loglikelihood request each to run_id. */
static int add_task_run(struct store *st, int64_t run_id, const char *name, int64_t *tr_id, struct ge_error *err)
{
    struct store_task_run tr = {.run_id = run_id, .task = name, .task_version = 1, .n_shots = 0,
                                .split = "validation", .dataset_hashes_json = "{}",
                                .metric_variants_json = "{}", .started_at = "2024-05-01T12:00:01Z"};
    int rc = store_find_task_run(st, &tr, tr_id, NULL, err);
    struct store_document docs[3];
    struct store_request reqs[3];
    char ids[3][16], conts[3][32];
    for (int d = 0; d < 3; d++) {
        snprintf(ids[d], sizeof ids[d], "%s-%d", name, d);
        snprintf(conts[d], sizeof conts[d], " %s answer %d", name, d);
        docs[d] = (struct store_document){.doc_index = d, .doc_id = ids[d], .content_hash = DOC_HASH};
        reqs[d] = (struct store_request){.doc_index = d, .req_index = 0, .type = STORE_REQ_LOGLIKELIHOOD,
                                         .context = "Question:", .continuation = conts[d]};
    }
    if (rc == GE_OK)
        rc = store_put_documents(st, *tr_id, 3, docs, err);
    if (rc == GE_OK)
        rc = store_put_requests(st, *tr_id, 3, reqs, err);
    return rc;
}

int main(void)
{
    if (store_fixture_init() != 0)
        return tap_done();
    char path[4200];
    case_path(path, sizeof path, "pool.db");
    struct ge_error err = {0};
    struct store *st = NULL;
    int64_t model_id = 0, run_id = 0, tr[3] = {0};
    int rc = store_open(path, STORE_MODE_WRITE, 0, &st, &err);
    if (rc == GE_OK)
        rc = setup_run(st, &model_id, &run_id, &tr[0], &err); /* task run "toy", no requests: skipped over */
    if (rc == GE_OK)
        rc = add_task_run(st, run_id, "alpha", &tr[0], &err);
    if (rc == GE_OK)
        rc = add_task_run(st, run_id, "beta", &tr[1], &err);
    if (rc == GE_OK)
        rc = add_task_run(st, run_id, "gamma", &tr[2], &err);
    tap_ok(rc == GE_OK, "three task runs of 3 requests each (%s)", rc ? err.msg : "ok");

    struct counting_backend cb = {0};
    struct model m = {.ops = &counting_ops, .self = &cb};
    struct runloop_options opt;
    runloop_options_init(&opt);
    opt.batch_size = 4;
    char *text = NULL;
    size_t len = 0;
    opt.progress_out = open_memstream(&text, &len);
    opt.progress_tty = 0;
    struct runloop_task tasks[3] = {{.task_run_id = tr[0], .label = "alpha 0-shot"},
                                    {.task_run_id = tr[1], .label = "beta 0-shot"},
                                    {.task_run_id = tr[2], .label = "gamma 0-shot"}};
    rc = runloop_execute_pool(st, MODEL_A, &m, &opt, tasks, 3, &err);
    fclose(opt.progress_out);
    tap_ok(rc == GE_OK, "pooled execution succeeds (%s)", rc ? err.msg : "ok");
    tap_is_int((long long)cb.n_calls, 3, "9 requests in batches of 4 take 3 model calls, not 3 per task");
    tap_ok(cb.n_calls == 3 && cb.calls[0] == 4 && cb.calls[1] == 4 && cb.calls[2] == 1,
           "batches span task runs: 4 + 4 + 1 (%zu, %zu, %zu)", cb.calls[0], cb.calls[1], cb.calls[2]);
    for (int t = 0; t < 3; t++) {
        uint64_t total = 0, answered = 0;
        rc = store_count_requests(st, tr[t], &total, &answered, &err);
        tap_ok(rc == GE_OK && total == 3 && answered == 3 && tasks[t].stats.n_from_model == 3,
               "task run %d: 3 of 3 answered, attributed to it (%llu from the model)", t,
               (unsigned long long)tasks[t].stats.n_from_model);
    }
    tap_ok(text && strstr(text, "alpha 0-shot: 3/3 (100%)") && strstr(text, "beta 0-shot: 3/3 (100%)") &&
           strstr(text, "gamma 0-shot: 3/3 (100%)"), "one progress bar per task run, each complete");
    free(text);

    struct counting_backend cb2 = {0};
    m.self = &cb2;
    opt.progress_out = NULL;
    opt.use_cache = 0;
    rc = runloop_execute_pool(st, MODEL_A, &m, &opt, tasks, 3, &err);
    tap_ok(rc == GE_OK && cb2.n_calls == 0, "executing again asks the model nothing (%zu calls)", cb2.n_calls);

    struct store_response_list list = {0};
    rc = store_get_doc_responses(st, tr[1], 2, &list, &err);
    tap_ok(rc == GE_OK && list.n == 1 && fabs(list.items[0].logprob + (double)strlen(" beta answer 2")) < 1e-12,
           "a response is stored with its own request (%s)", rc ? err.msg : "ok");
    store_response_list_release(&list);
    store_close(st);

    /* A backend that reports each result as it finishes: what it finished before failing is committed at once,
     * and a second execution asks only for the rest. */
    case_path(path, sizeof path, "sink.db");
    rc = store_open(path, STORE_MODE_WRITE, 0, &st, &err);
    if (rc == GE_OK)
        rc = setup_run(st, &model_id, &run_id, &tr[0], &err);
    if (rc == GE_OK)
        rc = add_task_run(st, run_id, "delta", &tr[0], &err);
    struct sinking_backend sb = {.fail_after = 2};
    struct model ms = {.ops = &sinking_ops, .self = &sb};
    opt.batch_size = 8;
    struct runloop_task one = {.task_run_id = tr[0], .label = "delta"};
    rc = runloop_execute_pool(st, MODEL_A, &ms, &opt, &one, 1, &err);
    uint64_t total = 0, answered = 0;
    store_count_requests(st, tr[0], &total, &answered, &err);
    tap_ok(rc != GE_OK && strstr(err.msg, "went away") != NULL, "the failing call fails the execution (%s)", err.msg);
    tap_ok(answered == 2 && sb.sink == NULL, "the 2 results finished before the failure are stored (%llu of %llu), "
           "and the sink is removed after the call", (unsigned long long)answered, (unsigned long long)total);
    sb.fail_after = 100;
    sb.n_asked = 0;
    rc = runloop_execute_pool(st, MODEL_A, &ms, &opt, &one, 1, &err);
    store_count_requests(st, tr[0], &total, &answered, &err);
    tap_ok(rc == GE_OK && sb.n_asked == 1 && answered == 3, "executing again asks only for the one not answered "
           "(%zu asked, %llu of 3 stored)", sb.n_asked, (unsigned long long)answered);
    store_close(st);
    store_fixture_cleanup();
    return tap_done();
}
