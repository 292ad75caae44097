/* test_store.c — tests of the results store (results/store.h, cache.h, identity.h, schema.h).
 *
 * This file: canonical hashes, creating and reading a database, the whole run API (models, runs, task runs,
 * documents, requests, pending list, responses, cache isolation, scores, metrics, statuses, nested transactions)
 * and a writer killed with SIGKILL inside a transaction. tests/test_store_open.c holds the refusal, lock,
 * permission and migration cases; tests/store_fixture.c the shared helpers. */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness/fileio.h"
#include "harness/sha256.h"
#include "results/cache.h"
#include "results/identity.h"
#include "results/schema.h"
#include "results/store.h"
#include "tests/store_fixture.h"
#include "tests/tap.h"

/* ---- identity ------------------------------------------------------------------------------------------------ */

static void test_identity(void)
{
    static const struct {
        const char *in, *want; /* want NULL: must fail */
    } cases[] = {
        {"{\"b\":1,\"a\":[1,2.5,{\"z\":null,\"y\":true}]}", "{\"a\":[1,2.5,{\"y\":true,\"z\":null}],\"b\":1}"},
        {" { \"max_tokens\" : 16 , \"until\" : [ \"\\n\" ] } ", "{\"max_tokens\":16,\"until\":[\"\\n\"]}"},
        {"{\"t\":1.0,\"u\":1e0,\"v\":0.1}", "{\"t\":1,\"u\":1,\"v\":0.1}"},
        {"{\"B\":1,\"a\":2,\"\\u00e9\":3}", "{\"B\":1,\"a\":2,\"\xc3\xa9\":3}"},
        {"[3,2,1]", "[3,2,1]"},
        {"{\"a\":1,\"a\":1}", NULL},
        {"{\"a\":{\"x\":1,\"x\":2}}", NULL},
        {"{\"a\":1", NULL},
        {"{\"a\":1} trailing", NULL},
        {"", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct ge_error err = {0};
        char *out = NULL;
        int ret = identity_json_canonical(cases[i].in, &out, fresh(&err));
        if (cases[i].want)
            tap_is_str(ret == GE_OK ? out : err.msg, cases[i].want, "canonical JSON case %zu", i);
        else
            tap_ok(ret == GE_ERR_FORMAT && out == NULL, "canonical JSON case %zu refused (%s)", i, err.msg);
        free(out);
    }

    /* The request hash, restated independently from identity.h's byte layout. */
    struct ge_error err = {0};
    char got[65], want[65], other[65];
    struct store_request r = {.type = STORE_REQ_GENERATE, .context = "ctx",
                              .gen_settings_json = "{\"until\":[\"\\n\"],\"max_tokens\":16}"};
    static const char bytes[] = "20:glam-eval/request/v1,8:generate,3:ctx,32:{\"max_tokens\":16,\"until\":[\"\\n\"]},";
    sha256_hash_hex(bytes, strlen(bytes), want);
    tap_is_int(identity_request_hash(&r, got, fresh(&err)), GE_OK, "request hash: generate");
    tap_is_str(got, want, "request hash: matches the documented netstring layout");
    r.gen_settings_json = "{\"max_tokens\":16.0,  \"until\":[\"\\n\"]}";
    identity_request_hash(&r, other, fresh(&err));
    tap_is_str(other, want, "request hash: key order, spacing and 16 vs 16.0 do not matter");
    struct store_request x = {.type = STORE_REQ_LOGLIKELIHOOD, .context = "ab", .continuation = "c"};
    struct store_request y = {.type = STORE_REQ_LOGLIKELIHOOD, .context = "a", .continuation = "bc"};
    identity_request_hash(&x, got, fresh(&err));
    identity_request_hash(&y, other, fresh(&err));
    tap_ok(strcmp(got, other) != 0, "request hash: the context/continuation boundary matters");
    struct store_request z = {.type = STORE_REQ_LOGLIKELIHOOD_ROLLING, .context = "abc"};
    struct store_request w = {.type = STORE_REQ_LOGLIKELIHOOD, .context = "abc", .continuation = ""};
    identity_request_hash(&z, got, fresh(&err));
    identity_request_hash(&w, other, fresh(&err));
    tap_ok(strcmp(got, other) != 0, "request hash: the type matters");
    z.continuation = "x";
    tap_is_int(identity_request_hash(&z, got, fresh(&err)), GE_ERR_USAGE, "request hash: rolling with a continuation");

    /* Model identities. */
    char h1[65], h2[65];
    tap_is_int(identity_model_remote("http://a", "m", h1, fresh(&err)), GE_OK, "model identity: remote");
    identity_model_remote("http://a/", "m", h2, fresh(&err));
    tap_ok(strcmp(h1, h2) != 0, "model identity: URL matters");
    tap_is_int(identity_model_remote("", "m", h2, fresh(&err)), GE_ERR_USAGE, "model identity: empty URL refused");
    const char *w1[] = {DOC_HASH, MODEL_A}, *w2[] = {MODEL_A, DOC_HASH};
    identity_model_local(DOC_HASH, w1, 2, DOC_HASH, h1, fresh(&err));
    identity_model_local(DOC_HASH, w2, 2, DOC_HASH, h2, fresh(&err));
    tap_ok(sha256_is_hex(h1) && strcmp(h1, h2) != 0, "model identity: weight file order matters");
    tap_is_int(identity_model_local(DOC_HASH, w1, 1, "nothex", h1, fresh(&err)), GE_ERR_USAGE,
               "model identity: malformed tokenizer hash refused");
    tap_is_int(identity_model_local(DOC_HASH, w1, 0, DOC_HASH, h1, fresh(&err)), GE_ERR_USAGE,
               "model identity: no weights refused");
}

/* Removes the test directory tree (files made by this program only). */
/* ---- open, info ----------------------------------------------------------------------------------------------- */

static void test_create_and_info(void)
{
    char path[4096];
    struct ge_error err = {0};
    struct store *st = NULL;
    case_path(path, sizeof path, "new.db");
    int ret = store_open(path, STORE_MODE_WRITE, 0, &st, fresh(&err));
    if (!tap_is_int(ret, GE_OK, "create: WRITE creates a new database (%s)", err.msg))
        return;
    tap_ok(file_exists(path), "create: the file exists");
    tap_is_int(store_schema_version(st), SCHEMA_VERSION, "create: migrated to the current version");
    struct store_info info;
    ret = store_get_info(st, &info, fresh(&err));
    tap_is_int(ret, GE_OK, "info: succeeds (%s)", err.msg);
    tap_is_str(info.journal_mode, "wal", "info: journal mode is WAL");
    tap_is_int(info.schema_version, SCHEMA_VERSION, "info: schema version");
    tap_ok(info.page_size >= 512 && info.page_count > 1, "info: page size %lld, %lld pages",
           (long long)info.page_size, (long long)info.page_count);
    tap_is_int((long long)info.n_tables, 13, "info: 13 tables at version %d", SCHEMA_VERSION);
    int64_t rows = 0;
    for (size_t i = 0; i < info.n_tables; i++)
        rows += info.tables[i].n_rows;
    tap_is_int(rows, 0, "info: a new database has no rows");
    tap_is_str(info.path, path, "info: path");
    store_info_release(&info);
    tap_is_int(raw_int(path, "PRAGMA application_id"), SCHEMA_APPLICATION_ID, "create: application id is set");
    tap_is_int(raw_int(path, "PRAGMA foreign_keys"), 0, "raw connections default to foreign keys off (control)");
    store_close(st);

    /* Reopening for reading an existing current database works and writes nothing. */
    char before[65], after[65];
    digest(path, before);
    ret = store_open(path, STORE_MODE_READ, 0, &st, fresh(&err));
    tap_is_int(ret, GE_OK, "reopen READ: works (%s)", err.msg);
    store_close(st);
    digest(path, after);
    tap_is_str(after, before, "reopen READ: file unchanged");
}

static void test_missing(void)
{
    char path[4096];
    struct ge_error err = {0};
    struct store *st = (struct store *)&err; /* must be reset to NULL on failure */
    case_path(path, sizeof path, "missing.db");
    int ret = store_open(path, STORE_MODE_READ, 0, &st, fresh(&err));
    tap_is_int(ret, GE_ERR_NOTFOUND, "missing READ: not found");
    tap_ok(st == NULL, "missing READ: *out is NULL");
    tap_ok(contains(err.msg, path), "missing READ: message names the file (%s)", err.msg);
    tap_ok(!file_exists(path) && !has_sidecar(path, "-wal"), "missing READ: nothing was created");
    ret = store_migrate(path, 0, NULL, NULL, fresh(&err));
    tap_is_int(ret, GE_ERR_NOTFOUND, "missing migrate: not found, not created (%s)", err.msg);
    tap_ok(!file_exists(path), "missing migrate: nothing was created");
    ret = store_open("", STORE_MODE_READ, 0, &st, fresh(&err));
    tap_is_int(ret, GE_ERR_USAGE, "empty path is a usage error");

    /* A path that looks like a URI is a file name, not a URI. */
    char cwd[4096];
    if (getcwd(cwd, sizeof cwd) != NULL && chdir(store_fixture_dir()) == 0) {
        unlink("file:uri.db?mode=memory");
        ret = store_open("file:uri.db?mode=memory", STORE_MODE_WRITE, 0, &st, fresh(&err));
        tap_is_int(ret, GE_OK, "a path starting with file: is opened as a file (%s)", err.msg);
        store_close(st);
        tap_ok(file_exists("file:uri.db?mode=memory"), "... and the file has exactly that name");
        unlink("file:uri.db?mode=memory");
        if (chdir(cwd) != 0)
            tap_diag("chdir back failed");
    }
}

/* ---- the run API ---------------------------------------------------------------------------------------------- */

static size_t count_pending(struct store *st, int64_t task_run_id)
{
    struct store_pending_list list = {0};
    struct ge_error err = {0};
    size_t n = 0;
    if (store_list_pending(st, task_run_id, 1000, &list, fresh(&err)) == GE_OK)
        n = list.n;
    else
        tap_diag("list_pending: %s", err.msg);
    store_pending_list_release(&list);
    return n;
}

static void test_run_flow(void)
{
    char path[4096];
    struct ge_error err = {0};
    struct store *st = NULL;
    int64_t model_id = 0, run_id = 0, tr_id = 0, again = 0;
    case_path(path, sizeof path, "flow.db");
    if (!tap_is_int(store_open(path, STORE_MODE_WRITE, 0, &st, fresh(&err)), GE_OK, "flow: open (%s)", err.msg))
        return;
    if (!tap_is_int(setup_run(st, &model_id, &run_id, &tr_id, fresh(&err)), GE_OK, "flow: model, run, task run (%s)",
                    err.msg)) {
        store_close(st);
        return;
    }

    /* Models are found by identity hash. */
    struct store_model m = {.identity_hash = MODEL_A, .kind = STORE_MODEL_REMOTE, .name = "renamed",
                            .n_params = -1, .n_active_params = -1, .flops_per_token = -1,
                            .endpoint_url = "http://x", .served_model = "y"};
    tap_ok(store_put_model(st, &m, &again, fresh(&err)) == GE_OK && again == model_id, "model: same identity, same id");
    m.identity_hash = "ABC";
    tap_is_int(store_put_model(st, &m, &again, fresh(&err)), GE_ERR_USAGE, "model: a malformed hash is refused");
    char local_hash[65];
    const char *weights[] = {DOC_HASH, DOC_HASH};
    tap_is_int(identity_model_local(DOC_HASH, weights, 2, DOC_HASH, local_hash, fresh(&err)), GE_OK, "identity: local model");
    struct store_model local = {.identity_hash = local_hash, .kind = STORE_MODEL_LOCAL, .name = "glam-tiny",
                                .architecture = "moe-decoder", .n_params = 1000000, .n_active_params = 250000,
                                .flops_per_token = 5e5, .dtype = "f32", .details_json = "{\"experts\":4}"};
    int64_t local_id = 0;
    tap_ok(store_put_model(st, &local, &local_id, fresh(&err)) == GE_OK && local_id != model_id, "model: a second model (%s)",
           err.msg);
    local.endpoint_url = "http://nope";
    local.served_model = "nope";
    local.identity_hash = "0000000000000000000000000000000000000000000000000000000000000001";
    tap_is_int(store_put_model(st, &local, &again, fresh(&err)), GE_ERR_DB, "model: a local model with an endpoint breaks "
                                                                      "the schema (%s)", err.msg);

    /* Task runs: found again with the same facts, refused with different ones. */
    struct store_task_run tr = {.run_id = run_id, .task = "toy", .task_version = 1, .n_shots = 2,
                                .split = "validation", .dataset_hashes_json = " { } ",
                                .metric_variants_json = "{ \"acc\" : \"acc\" }", .started_at = "2024-05-01T13:00:00Z"};
    enum store_task_status status = STORE_TASK_FAILED;
    tap_ok(store_find_task_run(st, &tr, &again, &status, fresh(&err)) == GE_OK && again == tr_id &&
               status == STORE_TASK_RUNNING,
           "task run: found again (JSON compared canonically), running");
    tr.metric_variants_json = "{acc}";
    tap_is_int(store_find_task_run(st, &tr, &again, NULL, fresh(&err)), GE_ERR_FORMAT, "task run: invalid JSON (%s)",
               err.msg);
    tr.metric_variants_json = "{\"acc\":\"acc\"}";
    tr.dataset_hashes_json = "{\"toy.jsonl\":\"00\"}";
    tap_is_int(store_find_task_run(st, &tr, &again, NULL, fresh(&err)), GE_ERR_STATE, "task run: other dataset refused");
    tap_ok(contains(err.msg, "dataset file hashes") && contains(err.msg, path), "task run: message names field and "
                                                                              "file (%s)", err.msg);
    tr.dataset_hashes_json = "{}";
    tr.n_shots = 0;
    tap_ok(store_find_task_run(st, &tr, &again, NULL, fresh(&err)) == GE_OK && again != tr_id, "task run: 0-shot is another");
    /* Stored hashes that hold the asked ones and more (an older version hashed a 0-shot run's unused few-shot
     * split): the same task run at 0 shots only. */
    int64_t old_id = 0;
    tr.split = "test";
    tr.dataset_hashes_json = "{\"e.jsonl\":\"11\",\"p.jsonl\":\"22\"}";
    tap_is_int(store_find_task_run(st, &tr, &old_id, NULL, fresh(&err)), GE_OK, "task run: 0-shot with two hashes");
    tr.dataset_hashes_json = "{\"e.jsonl\":\"11\"}";
    tap_ok(store_find_task_run(st, &tr, &again, NULL, fresh(&err)) == GE_OK && again == old_id,
           "task run: 0-shot, stored hashes that cover the asked ones are the same task run (%s)", err.msg);
    tap_is_int(raw_int(path, "SELECT count(*) FROM task_runs WHERE split = 'test' AND dataset_hashes LIKE '%p.jsonl%'"),
               1, "task run: and keep their stored value");
    tr.dataset_hashes_json = "{\"e.jsonl\":\"12\"}";
    tap_is_int(store_find_task_run(st, &tr, &again, NULL, fresh(&err)), GE_ERR_STATE,
               "task run: 0-shot, another hash of the asked file is refused");
    tr.dataset_hashes_json = "{\"e.jsonl\":\"11\",\"p.jsonl\":\"22\",\"q.jsonl\":\"33\"}";
    tap_is_int(store_find_task_run(st, &tr, &again, NULL, fresh(&err)), GE_ERR_STATE,
               "task run: 0-shot, asking for more files than stored is refused");
    tr.n_shots = 3;
    tr.dataset_hashes_json = "{\"e.jsonl\":\"11\",\"p.jsonl\":\"22\"}";
    tap_is_int(store_find_task_run(st, &tr, &old_id, NULL, fresh(&err)), GE_OK, "task run: 3-shot with two hashes");
    tr.dataset_hashes_json = "{\"e.jsonl\":\"11\"}";
    tap_is_int(store_find_task_run(st, &tr, &again, NULL, fresh(&err)), GE_ERR_STATE,
               "task run: at 3 shots a stored file missing from the asked ones is refused");
    tr.split = "validation";
    tr.dataset_hashes_json = "{}";
    tr.started_at = "2024-05-01 13:00:00";
    tr.n_shots = 5;
    tap_is_int(store_find_task_run(st, &tr, &again, NULL, fresh(&err)), GE_ERR_USAGE, "task run: non-ISO time refused");
    tap_ok(contains(err.msg, "ISO-8601"), "task run: message says what format (%s)", err.msg);

    /* Documents (inserted out of order; listing order is by doc_index) and requests. */
    struct store_document docs[] = {{2, "c", DOC_HASH}, {0, "a", DOC_HASH}, {1, "b", DOC_HASH}};
    tap_is_int(store_put_documents(st, tr_id, 3, docs, fresh(&err)), GE_OK, "documents: stored (%s)", err.msg);
    tap_is_int(store_put_documents(st, tr_id, 3, docs, fresh(&err)), GE_OK, "documents: storing again is a no-op");
    struct store_document changed[] = {{3, "d", DOC_HASH}, {1, "B", DOC_HASH}};
    tap_is_int(store_put_documents(st, tr_id, 2, changed, fresh(&err)), GE_ERR_STATE, "documents: changed id refused (%s)",
               err.msg);
    tap_is_int(raw_int(path, "SELECT count(*) FROM documents WHERE doc_index = 3"), 0,
               "documents: the refused batch stored nothing");

    struct store_request reqs[] = {
        {.doc_index = 2, .req_index = 0, .type = STORE_REQ_GENERATE, .context = "Q2",
         .gen_settings_json = "{ \"until\": [\"\\n\"], \"max_tokens\": 8 }", .fewshot_ids_json = "[\"x\",\"y\"]"},
        {.doc_index = 0, .req_index = 1, .type = STORE_REQ_LOGLIKELIHOOD, .context = "Q0", .continuation = " no"},
        {.doc_index = 0, .req_index = 0, .type = STORE_REQ_LOGLIKELIHOOD, .context = "Q0", .continuation = " yes"},
        {.doc_index = 1, .req_index = 0, .type = STORE_REQ_LOGLIKELIHOOD_ROLLING, .context = "whole text"},
    };
    tap_is_int(store_put_requests(st, tr_id, 4, reqs, fresh(&err)), GE_OK, "requests: stored (%s)", err.msg);
    tap_is_int(store_put_requests(st, tr_id, 4, reqs, fresh(&err)), GE_OK, "requests: storing again is idempotent");
    tap_is_int(raw_int(path, "SELECT count(*) FROM requests"), 4, "requests: no duplicates");
    struct store_request edited = reqs[1];
    edited.continuation = " maybe";
    tap_is_int(store_put_requests(st, tr_id, 1, &edited, fresh(&err)), GE_ERR_STATE, "requests: changed prompt refused");
    tap_ok(contains(err.msg, "document 0 request 1"), "requests: message names doc and request (%s)", err.msg);
    struct store_request orphan = {.doc_index = 9, .type = STORE_REQ_LOGLIKELIHOOD_ROLLING, .context = "x"};
    tap_is_int(store_put_requests(st, tr_id, 1, &orphan, fresh(&err)), GE_ERR_DB, "requests: missing document refused (%s)",
               err.msg);
    struct store_request bad = {.doc_index = 0, .req_index = 5, .type = STORE_REQ_LOGLIKELIHOOD, .context = "x"};
    tap_is_int(store_put_requests(st, tr_id, 1, &bad, fresh(&err)), GE_ERR_USAGE, "requests: loglikelihood without a "
                                                                          "continuation refused");
    bad = (struct store_request){.doc_index = 0, .req_index = 5, .type = STORE_REQ_GENERATE, .context = "x",
                                 .gen_settings_json = "{\"a\":1,\"a\":2}"};
    tap_is_int(store_put_requests(st, tr_id, 1, &bad, fresh(&err)), GE_ERR_FORMAT, "requests: duplicate JSON key refused");

    /* The pending list: stable order, limited size, canonical settings, hashes. */
    struct store_pending_list pending = {0};
    tap_is_int(store_list_pending(st, tr_id, 3, &pending, fresh(&err)), GE_OK, "pending: listed (%s)", err.msg);
    int order_ok = pending.n == 3 && pending.items[0].doc_index == 0 && pending.items[0].req_index == 0 &&
                   pending.items[1].doc_index == 0 && pending.items[1].req_index == 1 &&
                   pending.items[2].doc_index == 1;
    tap_ok(order_ok, "pending: first 3 in (doc_index, req_index) order");
    if (order_ok) {
        tap_is_str(pending.items[0].continuation, " yes", "pending: continuation");
        tap_ok(pending.items[2].type == STORE_REQ_LOGLIKELIHOOD_ROLLING && pending.items[2].continuation == NULL,
               "pending: rolling request has no continuation");
        char hex[65];
        identity_request_hash(&reqs[2], hex, fresh(&err));
        tap_is_str(pending.items[0].request_hash, hex, "pending: stored hash is the identity hash");
    }
    tap_is_int(store_list_pending(st, tr_id, 10, &pending, fresh(&err)), GE_OK, "pending: relisting replaces the list");
    tap_is_int((long long)pending.n, 4, "pending: all 4");
    if (pending.n == 4)
        tap_is_str(pending.items[3].gen_settings_json, "{\"max_tokens\":8,\"until\":[\"\\n\"]}",
                   "pending: generation settings stored canonically");
    tap_is_int(raw_int(path, "SELECT json_array_length(fewshot_ids) FROM requests WHERE doc_index = 2"), 2,
               "requests: few-shot ids stored");

    /* Responses: a batch with one bad member stores nothing. */
    int64_t ids[4] = {0, 0, 0, 0};
    for (size_t i = 0; i < pending.n && i < 4; i++)
        ids[i] = pending.items[i].request_id;
    double tok[] = {-0.25, -0.0, -1e-300, -INFINITY};
    struct store_response batch[] = {
        {.request_id = ids[0], .logprob = -0.5, .n_tokens = 4, .is_greedy = 1, .token_logprobs = tok,
         .n_token_logprobs = 4, .latency_ms = 12.5},
        {.request_id = ids[1], .logprob = -7.0, .n_tokens = 1, .is_greedy = 0, .latency_ms = 3, .truncated = 1},
        {.request_id = 999999, .logprob = -1, .n_tokens = 1, .is_greedy = 0, .latency_ms = 1},
    };
    tap_is_int(store_put_responses(st, 3, batch, fresh(&err)), GE_ERR_STATE, "responses: unknown request fails the batch");
    tap_is_int((long long)count_pending(st, tr_id), 4, "responses: ... and nothing of it is stored");
    tap_is_int(raw_int(path, "SELECT count(*) FROM response_cache"), 0, "responses: ... not even cache entries");
    struct store_response no_greedy = batch[1];
    no_greedy.is_greedy = -1;
    tap_is_int(store_put_responses(st, 1, &no_greedy, fresh(&err)), GE_ERR_USAGE, "responses: loglikelihood needs is_greedy");
    struct store_response bad_cut = batch[1];
    bad_cut.truncated = 2;
    tap_is_int(store_put_responses(st, 1, &bad_cut, fresh(&err)), GE_ERR_USAGE, "responses: truncated is -1, 0 or 1");
    tap_is_int(store_put_responses(st, 2, batch, fresh(&err)), GE_OK, "responses: a good batch is stored (%s)", err.msg);
    tap_is_int((long long)count_pending(st, tr_id), 2, "responses: two requests left pending");
    tap_is_int(store_put_responses(st, 1, batch, fresh(&err)), GE_ERR_STATE, "responses: a second answer is refused");
    tap_is_int(raw_int(path, "SELECT count(*) FROM response_cache"), 2, "cache: filled by the batch");

    /* Reading back for scoring, exactly. */
    struct store_response_list got = {0};
    tap_is_int(store_get_doc_responses(st, tr_id, 0, &got, fresh(&err)), GE_OK, "doc responses: read (%s)", err.msg);
    if (tap_is_int((long long)got.n, 2, "doc responses: two")) {
        tap_ok(got.items[0].req_index == 0 && got.items[1].req_index == 1, "doc responses: in req_index order");
        tap_ok(got.items[0].n_token_logprobs == 4 && got.items[0].token_logprobs != NULL &&
                   memcmp(got.items[0].token_logprobs, tok, sizeof tok) == 0,
               "doc responses: per-token log-probs round-trip bit for bit (-0.0, -1e-300, -inf)");
        tap_ok(got.items[0].logprob == -0.5 && got.items[0].is_greedy == 1 && got.items[1].is_greedy == 0 &&
                   got.items[1].token_logprobs == NULL && got.items[0].text == NULL && got.items[0].error == NULL,
               "doc responses: values");
        tap_ok(got.items[0].truncated == 0 && got.items[1].truncated == 1, "doc responses: the truncated mark");
    }
    tap_is_int(raw_int(path, "SELECT count(*) FROM response_cache WHERE truncated = 1"), 1,
               "cache: the truncated mark is cached with the answer");
    tap_is_int(raw_int(path, "SELECT hex(token_logprobs) = '000000000000D0BF0000000000000080' || "
                             "'59F3F8C21F6EA581000000000000F0FF' FROM responses WHERE n_tokens = 4"),
               1, "responses: BLOB is little-endian float64");
    tap_is_int(store_get_doc_responses(st, tr_id, 1, &got, fresh(&err)), GE_ERR_STATE, "doc responses: pending doc refused");
    tap_is_int(store_get_doc_responses(st, tr_id, 7, &got, fresh(&err)), GE_ERR_NOTFOUND, "doc responses: unknown doc");
    store_response_list_release(&got);

    /* The cache is keyed by model and request. */
    struct store_response hit;
    int found = 0;
    tap_ok(cache_get(st, MODEL_A, pending.items[0].request_hash, &hit, &found, fresh(&err)) == GE_OK && found &&
               hit.cached == 1 && hit.logprob == -0.5 && hit.n_token_logprobs == 4 && hit.latency_ms == 12.5 &&
               hit.truncated == 0,
           "cache: hit for (model, request)");
    store_response_release(&hit);
    tap_ok(cache_get(st, MODEL_A, pending.items[1].request_hash, &hit, &found, fresh(&err)) == GE_OK && found &&
               hit.truncated == 1,
           "cache: a cut prompt's answer comes back marked truncated");
    store_response_release(&hit);
    tap_ok(cache_get(st, local_hash, pending.items[0].request_hash, &hit, &found, fresh(&err)) == GE_OK && !found,
           "cache: another model's answer is never served");
    tap_is_int(cache_get(st, "xyz", pending.items[0].request_hash, &hit, &found, fresh(&err)), GE_ERR_USAGE,
               "cache: malformed hash refused");
    struct store_response other = {.logprob = -9, .n_tokens = -1, .is_greedy = -1, .latency_ms = 1};
    tap_is_int(cache_put(st, local_hash, pending.items[0].request_hash, &other, fresh(&err)), GE_OK, "cache: put for model B");
    tap_ok(cache_get(st, local_hash, pending.items[0].request_hash, &hit, &found, fresh(&err)) == GE_OK && found &&
               hit.logprob == -9 && hit.n_tokens == -1,
           "cache: model B gets its own answer");
    store_response_release(&hit);
    tap_ok(cache_get(st, MODEL_A, pending.items[0].request_hash, &hit, &found, fresh(&err)) == GE_OK && found &&
               hit.logprob == -0.5,
           "cache: model A still gets its own");
    store_response_release(&hit);
    other.logprob = -10;
    cache_put(st, local_hash, pending.items[0].request_hash, &other, fresh(&err));
    tap_ok(cache_get(st, local_hash, pending.items[0].request_hash, &hit, &found, fresh(&err)) == GE_OK && found &&
               hit.logprob == -9,
           "cache: the first answer stays");
    store_response_release(&hit);
    tap_is_int(cache_put(st, "1111111111111111111111111111111111111111111111111111111111111111",
                         pending.items[0].request_hash, &other, fresh(&err)),
               GE_ERR_DB, "cache: unknown model refused (%s)", err.msg);

    /* A cached answer and an error answer end the pending state; neither adds a cache entry. */
    struct store_response rest[] = {
        {.request_id = ids[2], .logprob = -30.5, .n_tokens = 3, .is_greedy = -1, .latency_ms = 0, .cached = 1},
        {.request_id = ids[3], .logprob = NAN, .n_tokens = -1, .is_greedy = -1, .latency_ms = 2, .truncated = -1,
         .error = "prompt exceeds the context window"},
    };
    long long cache_rows = raw_int(path, "SELECT count(*) FROM response_cache");
    tap_is_int(store_put_responses(st, 2, rest, fresh(&err)), GE_OK, "responses: cached and error answers (%s)", err.msg);
    tap_is_int(raw_int(path, "SELECT count(*) FROM response_cache"), cache_rows, "cache: no entries for them");
    tap_is_int((long long)count_pending(st, tr_id), 0, "pending: none left");
    tap_is_int(store_get_doc_responses(st, tr_id, 2, &got, fresh(&err)), GE_OK, "doc responses: error answer readable");
    tap_ok(got.n == 1 && got.items[0].error != NULL && contains(got.items[0].error, "context window") &&
               isnan(got.items[0].logprob),
           "doc responses: error text round-trips");
    tap_ok(got.n == 1 && got.items[0].truncated == -1, "doc responses: an error answer's truncated mark is unknown");
    tap_is_int(raw_int(path, "SELECT count(*) FROM responses WHERE error IS NOT NULL AND truncated IS NULL"), 1,
               "responses: ... stored as NULL");
    store_response_list_release(&got);
    store_pending_list_release(&pending);

    /* Scores and metrics, replaced on re-scoring. */
    struct store_score scores[] = {{0, "acc", 1.0}, {1, "acc", 0.0}, {0, "acc", 0.5}};
    tap_is_int(store_put_scores(st, tr_id, 3, scores, fresh(&err)), GE_OK, "scores: stored (%s)", err.msg);
    tap_is_int(raw_int(path, "SELECT count(*) FROM scores"), 2, "scores: one per (document, metric)");
    tap_is_int(raw_int(path, "SELECT value * 10 FROM scores WHERE doc_index = 0"), 5, "scores: last value wins");
    struct store_score nan_score = {0, "acc", NAN};
    tap_is_int(store_put_scores(st, tr_id, 1, &nan_score, fresh(&err)), GE_ERR_USAGE, "scores: NaN refused");
    struct store_metric metrics[] = {{"acc", 0.25, 0.1, "bootstrap-1000", 3}, {"f1", 0.5, NAN, NULL, 3}};
    tap_is_int(store_put_metrics(st, tr_id, 2, metrics, fresh(&err)), GE_OK, "metrics: stored (%s)", err.msg);
    metrics[0].value = 0.5;
    tap_is_int(store_put_metrics(st, tr_id, 1, metrics, fresh(&err)), GE_OK, "metrics: replaced");
    tap_is_int(raw_int(path, "SELECT count(*) FROM metrics WHERE std_error IS NULL"), 1, "metrics: NaN stderr is NULL");
    tap_is_int(raw_int(path, "SELECT value * 10 FROM metrics WHERE metric = 'acc'"), 5, "metrics: new value");
    metrics[1].stderr_method = "binomial";
    tap_is_int(store_put_metrics(st, tr_id, 2, metrics, fresh(&err)), GE_ERR_USAGE, "metrics: method without stderr refused");

    /* Statuses. */
    tap_is_int(store_set_task_status(st, tr_id, STORE_TASK_FINISHED, "2024-05-01T14:00:00.250Z", fresh(&err)), GE_OK,
               "task status: finished (%s)", err.msg);
    tap_ok(store_find_task_run(st, &(struct store_task_run){.run_id = run_id, .task = "toy", .task_version = 1,
                                                            .n_shots = 2, .split = "validation",
                                                            .dataset_hashes_json = "{}",
                                                            .metric_variants_json = "{\"acc\":\"acc\"}",
                                                            .started_at = "2024-05-01T15:00:00Z"},
                               &again, &status, fresh(&err)) == GE_OK &&
               status == STORE_TASK_FINISHED,
           "task status: found as finished");
    tap_is_int(store_set_task_status(st, tr_id, STORE_TASK_FINISHED, NULL, fresh(&err)), GE_ERR_USAGE,
               "task status: finished needs a time");
    tap_is_int(store_set_run_status(st, run_id, STORE_RUN_INTERRUPTED, "2024-05-01T14:00:01Z", fresh(&err)), GE_OK,
               "run status: interrupted");
    tap_is_int(store_set_run_status(st, run_id, STORE_RUN_RUNNING, NULL, fresh(&err)), GE_OK, "run status: resumed");
    tap_is_int(store_set_run_status(st, run_id + 100, STORE_RUN_FAILED, "2024-05-01T14:00:01Z", fresh(&err)),
               GE_ERR_NOTFOUND, "run status: unknown run");
    tap_is_int(store_set_run_status(st, run_id, STORE_RUN_FINISHED, "2024-05-01T16:00:00Z", fresh(&err)), GE_OK,
               "run status: finished");
    struct store_run_info info;
    tap_is_int(store_get_run(st, run_id, &info, fresh(&err)), GE_OK, "run: read back (%s)", err.msg);
    tap_ok(info.status == STORE_RUN_FINISHED && info.model_id == model_id && strcmp(info.model_hash, MODEL_A) == 0 &&
               info.finished_at && strcmp(info.finished_at, "2024-05-01T16:00:00Z") == 0 &&
               strcmp(info.seeds_json, "{\"fewshot\":1234}") == 0 && strcmp(info.host, "testhost") == 0,
           "run: fields");
    store_run_info_release(&info);
    tap_is_int(store_get_run(st, 4242, &info, fresh(&err)), GE_ERR_NOTFOUND, "run: unknown id");
    store_run_info_release(&info);

    /* Nested transactions: the caller's rollback undoes inner commits. */
    int64_t run2 = 0;
    struct store_run r2 = {.model_id = model_id, .args_json = "{}", .seeds_json = "{}", .program_version = "t",
                           .started_at = "2024-05-02T00:00:00Z", .host = "h"};
    tap_is_int(store_begin(st, fresh(&err)), GE_OK, "tx: begin");
    tap_is_int(store_create_run(st, &r2, &run2, fresh(&err)), GE_OK, "tx: create run inside");
    store_rollback(st);
    tap_is_int(store_get_run(st, run2, &info, fresh(&err)), GE_ERR_NOTFOUND, "tx: rollback removed the inner write");
    store_run_info_release(&info);
    tap_is_int(store_begin(st, fresh(&err)), GE_OK, "tx: begin again");
    store_create_run(st, &r2, &run2, fresh(&err));
    r2.args_json = "{not json";
    tap_is_int(store_create_run(st, &r2, &again, fresh(&err)), GE_ERR_DB, "tx: invalid JSON refused inside (%s)", err.msg);
    tap_ok(contains(err.msg, "json_valid(args)"), "tx: message names the column");
    tap_is_int(store_commit(st, fresh(&err)), GE_OK, "tx: the outer commit keeps the good write");
    tap_is_int(store_get_run(st, run2, &info, fresh(&err)), GE_OK, "tx: committed run exists");
    store_run_info_release(&info);
    tap_is_int(store_commit(st, fresh(&err)), GE_ERR_STATE, "tx: commit without begin refused");

    struct store_info dbinfo;
    if (store_get_info(st, &dbinfo, fresh(&err)) == GE_OK) {
        int64_t n_req = -1;
        for (size_t i = 0; i < dbinfo.n_tables; i++)
            if (strcmp(dbinfo.tables[i].table, "requests") == 0)
                n_req = dbinfo.tables[i].n_rows;
        tap_is_int(n_req, 4, "info: row count of requests");
        store_info_release(&dbinfo);
    }
    store_close(st);

    /* A reader cannot write, and says so. */
    char before[65], after[65];
    digest(path, before);
    if (tap_is_int(store_open(path, STORE_MODE_READ, 0, &st, fresh(&err)), GE_OK, "read-only: open (%s)", err.msg)) {
        r2.args_json = "{}";
        tap_is_int(store_create_run(st, &r2, &again, fresh(&err)), GE_ERR_DB, "read-only: a write fails");
        tap_ok(contains(err.msg, path) && contains(err.msg, "read-only"), "read-only: message (%s)", err.msg);
        tap_is_int((long long)count_pending(st, tr_id), 0, "read-only: reading works");
        store_close(st);
    }
    digest(path, after);
    tap_is_str(after, before, "read-only: file unchanged");
}

/* ---- kill -9 inside a transaction ------------------------------------------------------------------------------ */

static void test_killed_writer(void)
{
    char path[4096];
    struct ge_error err = {0};
    struct store *st = NULL;
    int64_t model_id, run_id, tr_id;
    case_path(path, sizeof path, "killed.db");
    if (store_open(path, STORE_MODE_WRITE, 0, &st, fresh(&err)) != GE_OK || setup_run(st, &model_id, &run_id, &tr_id, fresh(&err))) {
        tap_ok(0, "killed: setup (%s)", err.msg);
        store_close(st);
        return;
    }
    struct store_document doc = {0, "a", DOC_HASH};
    struct store_request reqs[] = {
        {.doc_index = 0, .req_index = 0, .type = STORE_REQ_LOGLIKELIHOOD, .context = "c", .continuation = "a"},
        {.doc_index = 0, .req_index = 1, .type = STORE_REQ_LOGLIKELIHOOD, .context = "c", .continuation = "b"},
    };
    store_put_documents(st, tr_id, 1, &doc, fresh(&err));
    store_put_requests(st, tr_id, 2, reqs, fresh(&err));
    store_close(st);

    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        /* Child: store one response, open a transaction with the second, and die before committing. */
        struct store *cs = NULL;
        struct store_pending_list list = {0};
        if (store_open(path, STORE_MODE_WRITE, 0, &cs, fresh(&err)) != GE_OK ||
            store_list_pending(cs, tr_id, 10, &list, fresh(&err)) != GE_OK || list.n != 2)
            _exit(2);
        struct store_response r = {.request_id = list.items[0].request_id, .logprob = -1, .n_tokens = 1,
                                   .is_greedy = 1, .latency_ms = 1};
        if (store_put_responses(cs, 1, &r, fresh(&err)) != GE_OK)
            _exit(3);
        r.request_id = list.items[1].request_id;
        if (store_begin(cs, fresh(&err)) != GE_OK || store_put_responses(cs, 1, &r, fresh(&err)) != GE_OK)
            _exit(4);
        raise(SIGKILL);
        _exit(5);
    }
    int wstatus = 0;
    waitpid(pid, &wstatus, 0);
    tap_ok(WIFSIGNALED(wstatus) && WTERMSIG(wstatus) == SIGKILL, "killed: the writer died by SIGKILL mid-transaction "
                                                                  "(status %d)", wstatus);
    if (!tap_is_int(store_open(path, STORE_MODE_WRITE, 0, &st, fresh(&err)), GE_OK, "killed: reopens (%s)", err.msg))
        return;
    tap_is_int((long long)count_pending(st, tr_id), 1, "killed: the committed response survived, the other did not");
    tap_is_int(raw_int(path, "SELECT count(*) FROM response_cache"), 1, "killed: cache matches the responses");
    store_close(st);
}

int main(void)
{
    if (store_fixture_init() != 0)
        return tap_done();
    test_identity();
    test_create_and_info();
    test_missing();
    test_run_flow();
    test_killed_writer();
    test_store_refusals();
    test_store_locked();
    test_store_reader();
    test_store_permissions();
    test_store_migrations();
    store_fixture_cleanup();
    return tap_done();
}
