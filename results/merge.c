/* merge.c — combine shard databases into one (see merge.h).
 *
 * Two passes. The first reads every run of every input and forms the output runs ("groups"): shards of one run
 * (same seeds and shard count) must share a model and program version, and each shard index must appear exactly
 * once; published reference runs are set aside, one per label (the same digest in several inputs is one run, a
 * different one is refused). The second copies, member by member, task runs, documents, requests, responses and
 * scores through the store's own write functions, so the checks a resumed run gets (same documents, same prompt
 * hashes, same dataset hashes and metric variants) also guard the merge; then each output task run's metrics are
 * recomputed from its scores, and each published run is copied with its cells (published.c). Everything is
 * written in one transaction of the output, which must be new.
 *
 * Inputs are read with raw statements on their read-only connections (this file is part of the results store
 * and may use store_int.h); every read statement is finalized in the function that prepared it.
 * Longer than ~800 lines: both passes work on one struct merge (groups, task runs, published runs) that splitting
 * the file would have to export.
 * TODO: the contamination columns of documents (dirty, witness) and tables are not copied; re-run
 * `contamination` on the merged database. */
#include "config.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness/evaluate.h"
#include "harness/xalloc.h"
#include "results/cache.h"
#include "results/identity.h"
#include "results/merge.h"
#include "results/published.h"
#include "results/schema.h"
#include "results/store_int.h"
#include "tasks/registry.h"
#include "tasks/task.h"

/* One run of one input. */
struct member {
    size_t db;            /* index into the inputs */
    int64_t run_id;       /* in that input */
    char *args;           /* owned: the run's args JSON */
    char *finished_at;    /* owned */
    int64_t shard_index;  /* -1 when not a shard */
};

/* One run of the output. Invariant: every member has model_hash, seeds and program_version; for a sharded group
 * shard_count members with distinct shard indices once complete. */
struct group {
    char model_hash[65];
    char *seeds;           /* owned */
    char *program_version; /* owned */
    char *started_at;      /* owned: the earliest of the members' */
    char *finished_at;     /* owned: the latest */
    char *hosts;           /* owned: the members' hosts, comma separated */
    int64_t shard_count;   /* 0 when the group is one unsharded run */
    struct member *members; /* (n_members) owned */
    size_t n_members;
    int64_t out_run_id;
};

/* One task run of the output and how many parts it got. */
struct out_task {
    int64_t id;
    size_t group;
    size_t n_parts;
    char *finished_at; /* owned: the latest part's */
    char what[96];     /* "task n-shot" for messages */
    char task[64];     /* the task's name */
    size_t first_db;   /* the input of its first part */
};

/* One published reference run of the output (schema v3): a paper's numbers, no shard's result. Held by n_inputs
 * inputs with the same digest; copied once, from the first of them (db, run_id). */
struct pub_run {
    size_t db;
    int64_t run_id;
    struct published_run_info info; /* owned */
    size_t n_inputs;
    int64_t out_run_id;
};

struct merge {
    struct store **in;    /* (n_in) */
    const char *const *in_paths;
    size_t n_in;
    struct store *out;
    struct group *groups; /* (n_groups) owned */
    size_t n_groups;
    struct out_task *tasks; /* (n_tasks) owned */
    size_t n_tasks;
    struct pub_run *pubs; /* (n_pubs) owned; labels distinct */
    size_t n_pubs;
};

static char *col_dup(sqlite3_stmt *s, int col)
{
    const unsigned char *t = sqlite3_column_text(s, col);
    return t ? xstrdup((const char *)t) : NULL;
}

static int prepare(struct store *st, const char *sql, sqlite3_stmt **out, struct ge_error *err)
{
    int rc = sqlite3_prepare_v2(st->db, sql, -1, out, NULL);
    return rc == SQLITE_OK ? GE_OK : store_fail(st, rc, "merge: reading", err);
}

/* Keeps the later (or earlier) of two ISO-8601 UTC texts in *keep (owned); both formats sort as text. */
static void keep_time(char **keep, const char *t, int later)
{
    if (t == NULL)
        return;
    if (*keep == NULL || (later ? strcmp(t, *keep) > 0 : strcmp(t, *keep) < 0)) {
        free(*keep);
        *keep = xstrdup(t);
    }
}

/* Copies every model of input k into the output (the identity hash decides sameness). */
static int copy_models(struct merge *mg, size_t k, struct ge_error *err)
{
    sqlite3_stmt *s = NULL;
    int ret = prepare(mg->in[k], "SELECT identity_hash, kind, name, architecture, n_params, n_active_params, "
                      "flops_per_token, dtype, endpoint_url, served_model, details FROM models ORDER BY id", &s, err);
    int rc;
    while (ret == GE_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        struct store_model m = {
            .identity_hash = (const char *)sqlite3_column_text(s, 0),
            .kind = strcmp((const char *)sqlite3_column_text(s, 1), "remote") == 0 ? STORE_MODEL_REMOTE
                                                                                   : STORE_MODEL_LOCAL,
            .name = (const char *)sqlite3_column_text(s, 2),
            .architecture = (const char *)sqlite3_column_text(s, 3),
            .n_params = sqlite3_column_type(s, 4) == SQLITE_NULL ? -1 : sqlite3_column_int64(s, 4),
            .n_active_params = sqlite3_column_type(s, 5) == SQLITE_NULL ? -1 : sqlite3_column_int64(s, 5),
            .flops_per_token = sqlite3_column_type(s, 6) == SQLITE_NULL ? -1 : sqlite3_column_double(s, 6),
            .dtype = (const char *)sqlite3_column_text(s, 7),
            .endpoint_url = (const char *)sqlite3_column_text(s, 8),
            .served_model = (const char *)sqlite3_column_text(s, 9),
            .details_json = (const char *)sqlite3_column_text(s, 10)};
        int64_t id;
        ret = store_put_model(mg->out, &m, &id, err);
    }
    if (ret == GE_OK && rc != SQLITE_DONE)
        ret = store_fail(mg->in[k], rc, "merge: reading models", err);
    sqlite3_finalize(s);
    return ret;
}

/* Records published run run_id of input k for the output: once per label, however many inputs hold it. The same
 * label with other numbers is refused: a database holds one published run per label and cannot change it. */
static int add_published(struct merge *mg, size_t k, int64_t run_id, struct ge_error *err)
{
    struct published_run_info info;
    int ret = published_run_read(mg->in[k], run_id, &info, err);
    if (ret)
        return ret;
    for (size_t i = 0; i < mg->n_pubs; i++) {
        struct pub_run *p = &mg->pubs[i];
        if (strcmp(p->info.label, info.label) != 0)
            continue;
        if (strcmp(p->info.digest, info.digest) == 0)
            p->n_inputs++;
        else if (strcmp(p->info.data_hash, info.data_hash) != 0)
            ret = ge_error_set(err, GE_ERR_STATE, "%s: run %lld, the published reference run '%s', was imported "
                               "from other data files than run %lld of the same label in %s (field data_hash: "
                               "%.12s... vs %.12s...); published runs are read-only, so one database cannot hold "
                               "both", mg->in_paths[k], (long long)run_id, info.label, (long long)p->run_id,
                               mg->in_paths[p->db], info.data_hash, p->info.data_hash);
        else
            ret = ge_error_set(err, GE_ERR_STATE, "%s: run %lld, the published reference run '%s', holds other "
                               "cells (%zu) than run %lld of the same label and data files in %s (%zu); published "
                               "runs are read-only, so one database cannot hold both", mg->in_paths[k],
                               (long long)run_id, info.label, info.n_cells, (long long)p->run_id,
                               mg->in_paths[p->db], p->info.n_cells);
        published_run_info_release(&info);
        return ret;
    }
    mg->pubs = xrealloc(mg->pubs, (mg->n_pubs + 1) * sizeof *mg->pubs);
    mg->pubs[mg->n_pubs++] = (struct pub_run){.db = k, .run_id = run_id, .info = info, .n_inputs = 1};
    return GE_OK;
}

/* Adds run (input k) to its group, checking it against the group's other members. */
static int add_run(struct merge *mg, size_t k, sqlite3_stmt *s, struct ge_error *err)
{
    const char *path = mg->in_paths[k];
    int64_t run_id = sqlite3_column_int64(s, 0);
    const char *model = (const char *)sqlite3_column_text(s, 1);
    const char *seeds = (const char *)sqlite3_column_text(s, 3);
    const char *version = (const char *)sqlite3_column_text(s, 4);
    const char *status = (const char *)sqlite3_column_text(s, 7);
    int sharded = sqlite3_column_type(s, 9) != SQLITE_NULL;
    int64_t index = sharded ? sqlite3_column_int64(s, 9) : -1, count = sharded ? sqlite3_column_int64(s, 10) : 0;
    if (sqlite3_column_type(s, 11) != SQLITE_NULL) /* a published reference run: copied, never grouped */
        return add_published(mg, k, run_id, err);
    if (strcmp(status, "finished") != 0)
        return ge_error_set(err, GE_ERR_STATE, "%s: run %lld: field status is '%s', not 'finished': finish it "
                            "(glam-eval run --resume %lld) before merging", path, (long long)run_id, status,
                            (long long)run_id);
    if (sharded && (count < 2 || index < 0 || index >= count))
        return ge_error_set(err, GE_ERR_FORMAT, "%s: run %lld: field args.shard is %lld/%lld, not I/N with "
                            "0 <= I < N", path, (long long)run_id, (long long)index, (long long)count);
    const char *args = (const char *)sqlite3_column_text(s, 2), *finished = (const char *)sqlite3_column_text(s, 6);
    for (size_t i = 0; !sharded && i < mg->n_groups; i++) { /* the same run given twice (a file, a copy of it) */
        const struct member *o = &mg->groups[i].members[0];
        if (mg->groups[i].shard_count == 0 && strcmp(mg->groups[i].model_hash, model) == 0 &&
            strcmp(mg->groups[i].seeds, seeds) == 0 && strcmp(o->args, args) == 0 &&
            strcmp(o->finished_at ? o->finished_at : "", finished ? finished : "") == 0)
            return ge_error_set(err, GE_ERR_STATE, "%s: run %lld is the same run as run %lld in %s (same model, "
                                "arguments, seeds and finish time): an input given twice?", path, (long long)run_id,
                                (long long)o->run_id, mg->in_paths[o->db]);
    }
    struct group *g = NULL;
    for (size_t i = 0; sharded && i < mg->n_groups && !g; i++)
        if (mg->groups[i].shard_count == count && strcmp(mg->groups[i].seeds, seeds) == 0)
            g = &mg->groups[i];
    if (g) {
        const struct member *first = &g->members[0];
        if (strcmp(g->model_hash, model) != 0)
            return ge_error_set(err, GE_ERR_STATE, "%s: run %lld (shard %lld/%lld): field model: identity %.12s... "
                                "differs from %.12s... of run %lld in %s", path, (long long)run_id,
                                (long long)index, (long long)count, model, g->model_hash,
                                (long long)first->run_id, mg->in_paths[first->db]);
        if (strcmp(g->program_version, version) != 0)
            return ge_error_set(err, GE_ERR_STATE, "%s: run %lld (shard %lld/%lld): field program_version: '%s' "
                                "differs from '%s' of run %lld in %s", path, (long long)run_id, (long long)index,
                                (long long)count, version, g->program_version, (long long)first->run_id,
                                mg->in_paths[first->db]);
        for (size_t i = 0; i < g->n_members; i++)
            if (g->members[i].shard_index == index)
                return ge_error_set(err, GE_ERR_STATE, "%s: run %lld: field args.shard: shard %lld/%lld is also "
                                    "run %lld in %s", path, (long long)run_id, (long long)index, (long long)count,
                                    (long long)g->members[i].run_id, mg->in_paths[g->members[i].db]);
    } else {
        mg->groups = xrealloc(mg->groups, (mg->n_groups + 1) * sizeof *mg->groups);
        g = &mg->groups[mg->n_groups++];
        memset(g, 0, sizeof *g);
        snprintf(g->model_hash, sizeof g->model_hash, "%s", model);
        g->seeds = xstrdup(seeds);
        g->program_version = xstrdup(version);
        g->shard_count = count;
    }
    keep_time(&g->started_at, (const char *)sqlite3_column_text(s, 5), 0);
    keep_time(&g->finished_at, (const char *)sqlite3_column_text(s, 6), 1);
    const char *host = (const char *)sqlite3_column_text(s, 8);
    if (g->hosts == NULL) {
        g->hosts = xstrdup(host);
    } else if (strstr(g->hosts, host) == NULL) {
        size_t len = strlen(g->hosts) + strlen(host) + 2;
        g->hosts = xrealloc(g->hosts, len);
        strcat(strcat(g->hosts, ","), host);
    }
    g->members = xrealloc(g->members, (g->n_members + 1) * sizeof *g->members);
    g->members[g->n_members++] = (struct member){.db = k, .run_id = run_id, .args = col_dup(s, 2),
                                                 .finished_at = col_dup(s, 6), .shard_index = index};
    return GE_OK;
}

/* Pass 1: the runs of every input, grouped; a sharded group must be complete. */
static int read_runs(struct merge *mg, struct ge_error *err)
{
    int ret = GE_OK;
    for (size_t k = 0; k < mg->n_in && ret == GE_OK; k++) {
        sqlite3_stmt *s = NULL;
        ret = prepare(mg->in[k], "SELECT r.id, m.identity_hash, r.args, r.seeds, r.program_version, r.started_at, "
                      "r.finished_at, r.status, r.host, json_extract(r.args, '$.shard.index'), "
                      "json_extract(r.args, '$.shard.count'), "
                      "(SELECT label FROM published_runs p WHERE p.run_id = r.id) "
                      "FROM runs r JOIN models m ON m.id = r.model_id ORDER BY r.id", &s, err);
        int rc = SQLITE_DONE;
        while (ret == GE_OK && (rc = sqlite3_step(s)) == SQLITE_ROW)
            ret = add_run(mg, k, s, err);
        if (ret == GE_OK && rc != SQLITE_DONE)
            ret = store_fail(mg->in[k], rc, "merge: reading runs", err);
        sqlite3_finalize(s);
    }
    for (size_t i = 0; ret == GE_OK && i < mg->n_groups; i++) {
        const struct group *g = &mg->groups[i];
        for (int64_t want = 0; g->shard_count > 0 && want < g->shard_count && ret == GE_OK; want++) {
            size_t m = 0;
            while (m < g->n_members && g->members[m].shard_index != want)
                m++;
            if (m == g->n_members)
                ret = ge_error_set(err, GE_ERR_STATE, "%s: run %lld is shard %lld/%lld, but no input holds shard "
                                   "%lld/%lld of it (seeds %s)", mg->in_paths[g->members[0].db],
                                   (long long)g->members[0].run_id, (long long)g->members[0].shard_index,
                                   (long long)g->shard_count, (long long)want, (long long)g->shard_count, g->seeds);
        }
    }
    return ret;
}

/* Creates the output run of group g: a sharded group's args list the parts it was merged from. */
static int create_run(struct merge *mg, struct group *g, struct ge_error *err)
{
    sqlite3_stmt *s = NULL;
    int64_t model_id = 0;
    int ret = prepare(mg->out, "SELECT id FROM models WHERE identity_hash = ?1", &s, err);
    if (ret == GE_OK) {
        sqlite3_bind_text(s, 1, g->model_hash, -1, SQLITE_STATIC);
        if (sqlite3_step(s) == SQLITE_ROW)
            model_id = sqlite3_column_int64(s, 0);
        else
            ret = ge_error_set(err, GE_ERR_STATE, "%s: model %.12s... was not copied", store_path(mg->out),
                               g->model_hash);
    }
    sqlite3_finalize(s);
    if (ret)
        return ret;
    char *args = NULL;
    if (g->shard_count > 0) {
        cJSON *o = cJSON_CreateObject(), *from = cJSON_AddArrayToObject(o, "merged_from");
        for (size_t i = 0; i < g->n_members; i++) {
            cJSON *p = cJSON_CreateObject();
            cJSON_AddStringToObject(p, "db", mg->in_paths[g->members[i].db]);
            cJSON_AddNumberToObject(p, "run", (double)g->members[i].run_id);
            cJSON_AddItemToObject(p, "args", cJSON_Parse(g->members[i].args));
            cJSON_AddItemToArray(from, p);
        }
        args = cJSON_PrintUnformatted(o);
        cJSON_Delete(o);
    } else {
        args = xstrdup(g->members[0].args);
    }
    struct store_run run = {.model_id = model_id, .args_json = args, .seeds_json = g->seeds,
                            .program_version = g->program_version, .started_at = g->started_at, .host = g->hosts};
    ret = store_create_run(mg->out, &run, &g->out_run_id, err);
    free(args);
    return ret;
}

static int copy_documents(struct merge *mg, size_t k, int64_t in_tr, int64_t out_tr, struct ge_error *err)
{
    sqlite3_stmt *s = NULL;
    int ret = prepare(mg->in[k], "SELECT doc_index, doc_id, content_hash FROM documents WHERE task_run_id = ?1 "
                      "ORDER BY doc_index", &s, err);
    int rc = SQLITE_DONE;
    if (ret == GE_OK)
        sqlite3_bind_int64(s, 1, in_tr);
    while (ret == GE_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        struct store_document d = {.doc_index = sqlite3_column_int64(s, 0),
                                   .doc_id = (const char *)sqlite3_column_text(s, 1),
                                   .content_hash = (const char *)sqlite3_column_text(s, 2)};
        ret = store_put_documents(mg->out, out_tr, 1, &d, err);
    }
    if (ret == GE_OK && rc != SQLITE_DONE)
        ret = store_fail(mg->in[k], rc, "merge: reading documents", err);
    sqlite3_finalize(s);
    return ret;
}

/* Copies the requests of a task run, then their responses (the output request is found by its position). */
static int copy_requests(struct merge *mg, size_t k, int64_t in_tr, int64_t out_tr, struct ge_error *err)
{
    sqlite3_stmt *s = NULL, *find = NULL;
    int ret = prepare(mg->in[k], "SELECT doc_index, req_index, type, context, continuation, gen_settings, "
                      "fewshot_ids, request_hash FROM requests WHERE task_run_id = ?1 ORDER BY doc_index, "
                      "req_index", &s, err);
    if (ret == GE_OK)
        ret = prepare(mg->out, "SELECT id, request_hash FROM requests WHERE task_run_id = ?1 AND doc_index = ?2 "
                      "AND req_index = ?3", &find, err);
    int rc = SQLITE_DONE;
    if (ret == GE_OK)
        sqlite3_bind_int64(s, 1, in_tr);
    while (ret == GE_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        const char *type = (const char *)sqlite3_column_text(s, 2);
        struct store_request q = {
            .doc_index = sqlite3_column_int64(s, 0), .req_index = sqlite3_column_int(s, 1),
            .type = strcmp(type, "generate") == 0 ? STORE_REQ_GENERATE
                    : strcmp(type, "loglikelihood_rolling") == 0 ? STORE_REQ_LOGLIKELIHOOD_ROLLING
                                                                 : STORE_REQ_LOGLIKELIHOOD,
            .context = (const char *)sqlite3_column_text(s, 3),
            .continuation = (const char *)sqlite3_column_text(s, 4),
            .gen_settings_json = (const char *)sqlite3_column_text(s, 5),
            .fewshot_ids_json = (const char *)sqlite3_column_text(s, 6)};
        ret = store_put_requests(mg->out, out_tr, 1, &q, err);
        if (ret)
            break;
        /* The output recomputes the hash: a different one means the input's prompt or hash is not what this
         * program makes of it. */
        sqlite3_reset(find);
        sqlite3_bind_int64(find, 1, out_tr);
        sqlite3_bind_int64(find, 2, q.doc_index);
        sqlite3_bind_int(find, 3, q.req_index);
        if (sqlite3_step(find) != SQLITE_ROW ||
            strcmp((const char *)sqlite3_column_text(find, 1), (const char *)sqlite3_column_text(s, 7)) != 0)
            ret = ge_error_set(err, GE_ERR_STATE, "document %lld request %d: field request_hash: stored %.12s... "
                               "does not match its prompt", (long long)q.doc_index, q.req_index,
                               (const char *)sqlite3_column_text(s, 7));
    }
    if (ret == GE_OK && rc != SQLITE_DONE)
        ret = store_fail(mg->in[k], rc, "merge: reading requests", err);
    sqlite3_finalize(s);
    s = NULL;
    if (ret == GE_OK)
        ret = prepare(mg->in[k], "SELECT q.doc_index, q.req_index, r.logprob, r.n_tokens, r.is_greedy, "
                      "r.token_logprobs, r.text, r.latency_ms, r.truncated, r.cached, r.error FROM responses r "
                      "JOIN requests q ON q.id = r.request_id WHERE q.task_run_id = ?1 ORDER BY q.doc_index, q.req_index", &s, err);
    if (ret == GE_OK)
        sqlite3_bind_int64(s, 1, in_tr);
    while (ret == GE_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        struct store_response r = {0};
        ret = store_column_response_values(mg->in[k], s, 2, "response", &r, err);
        if (ret == GE_OK) {
            r.cached = sqlite3_column_int(s, 9);
            r.error = col_dup(s, 10);
            sqlite3_reset(find);
            sqlite3_bind_int64(find, 1, out_tr);
            sqlite3_bind_int64(find, 2, sqlite3_column_int64(s, 0));
            sqlite3_bind_int(find, 3, sqlite3_column_int(s, 1));
            if (sqlite3_step(find) == SQLITE_ROW)
                r.request_id = sqlite3_column_int64(find, 0);
            sqlite3_reset(find);
            ret = store_put_responses(mg->out, 1, &r, err);
        }
        store_response_release(&r);
    }
    if (ret == GE_OK && rc != SQLITE_DONE)
        ret = store_fail(mg->in[k], rc, "merge: reading responses", err);
    sqlite3_finalize(s);
    sqlite3_finalize(find);
    return ret;
}

static int copy_scores(struct merge *mg, size_t k, int64_t in_tr, int64_t out_tr, struct ge_error *err)
{
    sqlite3_stmt *s = NULL;
    int ret = prepare(mg->in[k], "SELECT doc_index, metric, value FROM scores WHERE task_run_id = ?1 "
                      "ORDER BY doc_index, metric", &s, err);
    int rc = SQLITE_DONE;
    if (ret == GE_OK)
        sqlite3_bind_int64(s, 1, in_tr);
    while (ret == GE_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        struct store_score sc = {.doc_index = sqlite3_column_int64(s, 0),
                                 .metric = (const char *)sqlite3_column_text(s, 1),
                                 .value = sqlite3_column_double(s, 2)};
        ret = store_put_scores(mg->out, out_tr, 1, &sc, err);
    }
    if (ret == GE_OK && rc != SQLITE_DONE)
        ret = store_fail(mg->in[k], rc, "merge: reading scores", err);
    sqlite3_finalize(s);
    return ret;
}

/* Before a part joins an output task run made from another input, names the field in which the two differ
 * (the store would refuse too, but with a message about resuming). */
static int check_part(struct merge *mg, const struct store_task_run *tr, const char *path, struct ge_error *err)
{
    sqlite3_stmt *s = NULL;
    char *hashes = NULL, *variants = NULL;
    int ret = prepare(mg->out, "SELECT task_version, dataset_hashes, metric_variants, id FROM task_runs WHERE "
                      "run_id = ?1 AND task = ?2 AND n_shots = ?3 AND split = ?4", &s, err);
    if (ret == GE_OK)
        ret = identity_json_canonical(tr->dataset_hashes_json, &hashes, err);
    if (ret == GE_OK)
        ret = identity_json_canonical(tr->metric_variants_json, &variants, err);
    if (ret == GE_OK) {
        sqlite3_bind_int64(s, 1, tr->run_id);
        sqlite3_bind_text(s, 2, tr->task, -1, SQLITE_STATIC);
        sqlite3_bind_int(s, 3, tr->n_shots);
        sqlite3_bind_text(s, 4, tr->split, -1, SQLITE_STATIC);
    }
    if (ret == GE_OK && sqlite3_step(s) == SQLITE_ROW) {
        const char *field = sqlite3_column_int(s, 0) != tr->task_version ? "task_version"
                            : strcmp((const char *)sqlite3_column_text(s, 1), hashes) != 0 ? "dataset_hashes"
                            : strcmp((const char *)sqlite3_column_text(s, 2), variants) != 0 ? "metric_variants"
                                                                                           : NULL;
        size_t t = 0;
        while (t < mg->n_tasks && mg->tasks[t].id != sqlite3_column_int64(s, 3))
            t++;
        if (field)
            ret = ge_error_set(err, GE_ERR_STATE, "field %s differs from that of the same task run in %s", field,
                               t < mg->n_tasks ? mg->in_paths[mg->tasks[t].first_db] : path);
    }
    sqlite3_finalize(s);
    free(hashes);
    free(variants);
    return ret;
}

/* Pass 2 for one member: its task runs into the output run of group gi. */
static int copy_member(struct merge *mg, size_t gi, const struct member *mb, struct ge_error *err)
{
    struct store *in = mg->in[mb->db];
    const char *path = mg->in_paths[mb->db];
    sqlite3_stmt *s = NULL;
    int ret = prepare(in, "SELECT id, task, task_version, n_shots, split, dataset_hashes, "
                      "json_remove(metric_variants, '$.shard'), status, started_at, finished_at FROM task_runs "
                      "WHERE run_id = ?1 ORDER BY id", &s, err);
    int rc = SQLITE_DONE;
    if (ret == GE_OK)
        sqlite3_bind_int64(s, 1, mb->run_id);
    while (ret == GE_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        int64_t in_tr = sqlite3_column_int64(s, 0);
        char what[96];
        snprintf(what, sizeof what, "%s %d-shot", (const char *)sqlite3_column_text(s, 1), sqlite3_column_int(s, 3));
        if (strcmp((const char *)sqlite3_column_text(s, 7), "finished") != 0) {
            ret = ge_error_set(err, GE_ERR_STATE, "%s: task run %lld (%s): field status is '%s', not 'finished'",
                               path, (long long)in_tr, what, (const char *)sqlite3_column_text(s, 7));
            break;
        }
        struct store_task_run tr = {.run_id = mg->groups[gi].out_run_id,
                                    .task = (const char *)sqlite3_column_text(s, 1),
                                    .task_version = sqlite3_column_int(s, 2), .n_shots = sqlite3_column_int(s, 3),
                                    .split = (const char *)sqlite3_column_text(s, 4),
                                    .dataset_hashes_json = (const char *)sqlite3_column_text(s, 5),
                                    .metric_variants_json = (const char *)sqlite3_column_text(s, 6),
                                    .started_at = (const char *)sqlite3_column_text(s, 8)};
        int64_t out_tr = 0;
        ret = check_part(mg, &tr, path, err);
        if (ret == GE_OK)
            ret = store_find_task_run(mg->out, &tr, &out_tr, NULL, err);
        if (ret == GE_OK)
            ret = copy_documents(mg, mb->db, in_tr, out_tr, err);
        if (ret == GE_OK)
            ret = copy_requests(mg, mb->db, in_tr, out_tr, err);
        if (ret == GE_OK)
            ret = copy_scores(mg, mb->db, in_tr, out_tr, err);
        if (ret) {
            ge_error_prefix(err, "%s: task run %lld (%s): ", path, (long long)in_tr, what);
            break;
        }
        size_t t = 0;
        while (t < mg->n_tasks && mg->tasks[t].id != out_tr)
            t++;
        if (t == mg->n_tasks) {
            mg->tasks = xrealloc(mg->tasks, (mg->n_tasks + 1) * sizeof *mg->tasks);
            mg->tasks[t] = (struct out_task){.id = out_tr, .group = gi, .first_db = mb->db};
            snprintf(mg->tasks[t].what, sizeof mg->tasks[t].what, "%s", what);
            snprintf(mg->tasks[t].task, sizeof mg->tasks[t].task, "%s", tr.task);
            mg->n_tasks++;
        }
        mg->tasks[t].n_parts++;
        keep_time(&mg->tasks[t].finished_at, (const char *)sqlite3_column_text(s, 9), 1);
    }
    if (ret == GE_OK && rc != SQLITE_DONE)
        ret = store_fail(in, rc, "merge: reading task runs", err);
    sqlite3_finalize(s);
    return ret;
}

/* Recomputes the set-level metrics of a task with an aggregate (task.h; MultiRC's F1a) over all shards, from the
 * aggregate inputs each run stored per document (EVALUATE_AGG_PRED/GOLD) and the document ids, in doc_index
 * order as a run passes them. Only id and gold[0] of the rebuilt documents are set, which is all an aggregate
 * may read (task.h). */
static int recompute_aggregate(struct merge *mg, const struct out_task *t, struct ge_error *err)
{
    const struct task *task = task_find(t->task);
    if (task == NULL || task->aggregate == NULL)
        return GE_OK;
    sqlite3_stmt *s = NULL;
    int ret = prepare(mg->out, "SELECT d.doc_id, p.value, g.value FROM documents d "
                      "JOIN scores p ON p.task_run_id = d.task_run_id AND p.doc_index = d.doc_index "
                      "AND p.metric = '" EVALUATE_AGG_PRED "' "
                      "JOIN scores g ON g.task_run_id = d.task_run_id AND g.doc_index = d.doc_index "
                      "AND g.metric = '" EVALUATE_AGG_GOLD "' "
                      "WHERE d.task_run_id = ?1 ORDER BY d.doc_index", &s, err);
    size_t cap = 64, n = 0;
    struct task_doc *docs = xcalloc(cap, sizeof *docs);
    size_t *idx = xcalloc(cap, sizeof *idx), *pred = xcalloc(cap, sizeof *pred);
    int rc = SQLITE_DONE;
    if (ret == GE_OK)
        sqlite3_bind_int64(s, 1, t->id);
    while (ret == GE_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (n == cap) {
            cap *= 2;
            docs = xrealloc(docs, cap * sizeof *docs);
            idx = xrealloc(idx, cap * sizeof *idx);
            pred = xrealloc(pred, cap * sizeof *pred);
        }
        double p = sqlite3_column_double(s, 1), g = sqlite3_column_double(s, 2);
        if (!(p >= 0 && p < TASK_MAX_CHOICES && g >= 0 && g < TASK_MAX_CHOICES)) {
            ret = ge_error_set(err, GE_ERR_FORMAT, "document %s: aggregate inputs out of range (%g, %g)",
                               (const char *)sqlite3_column_text(s, 0), p, g);
            break;
        }
        docs[n] = (struct task_doc){.id = xstrdup((const char *)sqlite3_column_text(s, 0)), .n_gold = 1};
        docs[n].gold[0] = (size_t)g;
        idx[n] = n;
        pred[n] = (size_t)p;
        n++;
    }
    if (ret == GE_OK && rc != SQLITE_DONE)
        ret = store_fail(mg->out, rc, "merge: reading aggregate inputs", err);
    sqlite3_finalize(s);
    struct store_metric metrics[TASK_MAX_METRICS];
    size_t n_agg = 0;
    if (ret == GE_OK)
        ret = evaluate_aggregate_metrics(task, docs, idx, pred, n, metrics, TASK_MAX_METRICS, &n_agg, err);
    if (ret == GE_OK && n_agg > 0)
        ret = store_put_metrics(mg->out, t->id, n_agg, metrics, err);
    for (size_t i = 0; i < n; i++)
        free(docs[i].id);
    free(docs);
    free(idx);
    free(pred);
    return ret;
}

/* Recomputes the metrics of output task run t from its per-example scores (in doc_index order, as a run). */
static int recompute_metrics(struct merge *mg, const struct out_task *t, struct ge_error *err)
{
    sqlite3_stmt *s = NULL;
    /* Rows whose metric starts with '_' are a task's aggregate inputs, not metrics (harness/evaluate.h). */
    int ret = prepare(mg->out, "SELECT metric, value FROM scores WHERE task_run_id = ?1 AND substr(metric, 1, 1) "
                      "<> '_' ORDER BY metric, doc_index", &s, err);
    size_t cap = 64, n = 0, n_metrics = 0;
    double *values = xcalloc(cap, sizeof *values);
    char *names[TASK_MAX_METRICS] = {0};
    struct store_metric metrics[TASK_MAX_METRICS];
    int rc = SQLITE_DONE;
    if (ret == GE_OK)
        sqlite3_bind_int64(s, 1, t->id);
    for (;;) {
        rc = ret == GE_OK ? sqlite3_step(s) : SQLITE_DONE;
        const char *name = rc == SQLITE_ROW ? (const char *)sqlite3_column_text(s, 0) : NULL;
        if (n > 0 && (name == NULL || strcmp(name, names[n_metrics - 1]) != 0)) {
            ret = evaluate_metric(names[n_metrics - 1], values, n, &metrics[n_metrics - 1], err);
            n = 0;
        }
        if (rc != SQLITE_ROW || ret)
            break;
        if (n == 0) {
            if (n_metrics == TASK_MAX_METRICS) {
                ret = ge_error_set(err, GE_ERR_LIMIT, "more than %d metrics", TASK_MAX_METRICS);
                break;
            }
            names[n_metrics++] = xstrdup(name);
        }
        if (n == cap)
            values = xrealloc(values, (cap *= 2) * sizeof *values);
        values[n++] = sqlite3_column_double(s, 1);
    }
    if (ret == GE_OK && rc != SQLITE_DONE)
        ret = store_fail(mg->out, rc, "merge: reading scores", err);
    sqlite3_finalize(s);
    if (ret == GE_OK && n_metrics > 0)
        ret = store_put_metrics(mg->out, t->id, n_metrics, metrics, err);
    for (size_t i = 0; i < n_metrics; i++)
        free(names[i]);
    free(values);
    if (ret == GE_OK)
        ret = recompute_aggregate(mg, t, err);
    return ret;
}

static int copy_cache(struct merge *mg, size_t k, struct ge_error *err)
{
    sqlite3_stmt *s = NULL;
    int ret = prepare(mg->in[k], "SELECT model_hash, request_hash, logprob, n_tokens, is_greedy, token_logprobs, "
                      "text, latency_ms, truncated FROM response_cache ORDER BY id", &s, err);
    int rc = SQLITE_DONE;
    while (ret == GE_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        struct store_response r = {0};
        ret = store_column_response_values(mg->in[k], s, 2, "response cache entry", &r, err);
        if (ret == GE_OK)
            ret = cache_put(mg->out, (const char *)sqlite3_column_text(s, 0),
                            (const char *)sqlite3_column_text(s, 1), &r, err);
        store_response_release(&r);
    }
    if (ret == GE_OK && rc != SQLITE_DONE)
        ret = store_fail(mg->in[k], rc, "merge: reading the response cache", err);
    sqlite3_finalize(s);
    return ret;
}

static int merge_all(struct merge *mg, FILE *log, struct ge_error *err)
{
    int ret = read_runs(mg, err);
    for (size_t k = 0; k < mg->n_in && ret == GE_OK; k++)
        ret = copy_models(mg, k, err);
    for (size_t g = 0; g < mg->n_groups && ret == GE_OK; g++) {
        ret = create_run(mg, &mg->groups[g], err);
        for (size_t m = 0; m < mg->groups[g].n_members && ret == GE_OK; m++)
            ret = copy_member(mg, g, &mg->groups[g].members[m], err);
    }
    for (size_t p = 0; p < mg->n_pubs && ret == GE_OK; p++) {
        const struct pub_run *pr = &mg->pubs[p];
        ret = published_copy_run(mg->in[pr->db], pr->run_id, mg->out, &mg->pubs[p].out_run_id, err);
        if (ret)
            ge_error_prefix(err, "%s: run %lld (published '%s'): ", mg->in_paths[pr->db], (long long)pr->run_id,
                            pr->info.label);
    }
    for (size_t t = 0; t < mg->n_tasks && ret == GE_OK; t++) {
        const struct out_task *ot = &mg->tasks[t];
        const struct group *g = &mg->groups[ot->group];
        size_t want = g->shard_count > 0 ? (size_t)g->shard_count : 1;
        if (ot->n_parts != want) {
            ret = ge_error_set(err, GE_ERR_STATE, "%s: %s: field task_runs: only %zu of the %zu shards of run %lld "
                               "evaluated it", mg->in_paths[g->members[0].db], ot->what, ot->n_parts, want,
                               (long long)g->members[0].run_id);
            break;
        }
        ret = recompute_metrics(mg, ot, err);
        if (ret == GE_OK)
            ret = store_set_task_status(mg->out, ot->id, STORE_TASK_FINISHED, ot->finished_at, err);
        if (ret)
            ge_error_prefix(err, "%s: ", ot->what);
    }
    for (size_t g = 0; g < mg->n_groups && ret == GE_OK; g++) {
        ret = store_set_run_status(mg->out, mg->groups[g].out_run_id, STORE_RUN_FINISHED, mg->groups[g].finished_at,
                                   err);
        if (ret == GE_OK && log)
            fprintf(log, "glam-eval merge: run %lld <- %zu %s\n", (long long)mg->groups[g].out_run_id,
                    mg->groups[g].n_members, mg->groups[g].shard_count ? "shards" : "unsharded run");
    }
    for (size_t p = 0; p < mg->n_pubs && ret == GE_OK && log; p++)
        fprintf(log, "glam-eval merge: run %lld <- published reference run '%s' (held by %zu input%s)\n",
                (long long)mg->pubs[p].out_run_id, mg->pubs[p].info.label, mg->pubs[p].n_inputs,
                mg->pubs[p].n_inputs == 1 ? "" : "s");
    for (size_t k = 0; k < mg->n_in && ret == GE_OK; k++)
        ret = copy_cache(mg, k, err);
    return ret;
}

static void remove_db(const char *path)
{
    static const char *const suffixes[] = {"", "-wal", "-shm", "-journal"};
    for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
        size_t len = strlen(path) + strlen(suffixes[i]) + 1;
        char *p = xmalloc(len);
        snprintf(p, len, "%s%s", path, suffixes[i]);
        unlink(p);
        free(p);
    }
}

/* Makes the finished output one self-contained file: its WAL (which holds the whole merge: one transaction) is
 * checkpointed into the main file and removed by leaving WAL mode. sqlite3_close would checkpoint too, but ignores
 * a failure (a full disk): the rows would stay in a -wal file that OUT is never paired with. */
static int make_self_contained(struct store *st, struct ge_error *err)
{
    sqlite3_stmt *q = NULL;
    int ret = prepare(st, "PRAGMA journal_mode = DELETE", &q, err);
    if (ret != GE_OK)
        return ret;
    int rc = sqlite3_step(q);
    if (rc != SQLITE_ROW)
        ret = store_fail(st, rc, "merge: writing the merged database out of its WAL", err);
    else if (strcmp((const char *)sqlite3_column_text(q, 0), "delete") != 0)
        ret = ge_error_set(err, GE_ERR_IO, "%s: merge: the WAL could not be written into the database file (journal "
                           "mode stays %s); is the disk full?", st->path, (const char *)sqlite3_column_text(q, 0));
    sqlite3_finalize(q);
    return ret;
}

/* Gives the finished database tmp the name out, never replacing a file that appeared at out meanwhile: a hard
 * link fails with EEXIST when out exists (rename would replace it); where links are not supported, a rename that
 * refuses to replace (Linux's RENAME_NOREPLACE). */
static int publish(const char *tmp, const char *out, struct ge_error *err)
{
    int rc = link(tmp, out);
#ifdef RENAME_NOREPLACE
    if (rc != 0 && errno != EEXIST && errno != ENOENT)
        rc = renameat2(AT_FDCWD, tmp, AT_FDCWD, out, RENAME_NOREPLACE);
    else if (rc == 0)
        unlink(tmp);
#else
    if (rc == 0)
        unlink(tmp);
#endif
    if (rc != 0)
        return ge_error_set(err, errno == EEXIST ? GE_ERR_STATE : GE_ERR_IO, "%s: %s%s; the merged database is "
                            "left at %s", out, errno == EEXIST ? "appeared during the merge (merge writes a new "
                            "database and never replaces one)" : "cannot create: ", errno == EEXIST ? "" :
                            strerror(errno), tmp);
    return GE_OK;
}

int merge_databases(const char *out_path, const char *const *in_paths, size_t n_in, FILE *log,
                    struct ge_error *err)
{
    struct merge mg = {.in_paths = in_paths, .n_in = n_in};
    int ret = GE_OK, created = 0;
    if (n_in == 0)
        return ge_error_set(err, GE_ERR_USAGE, "merge: no input database");
    if (access(out_path, F_OK) == 0)
        return ge_error_set(err, GE_ERR_STATE, "%s: already exists; merge writes a new database", out_path);
    /* The output is built in OUT.merging-XXXXXX beside OUT and named OUT only once complete, so OUT exists only
       when the merge succeeded, and a file another process puts at OUT meanwhile is never written into or removed. */
    size_t tmp_len = strlen(out_path) + 16;
    char *tmp = xmalloc(tmp_len);
    snprintf(tmp, tmp_len, "%s.merging-XXXXXX", out_path);
    mg.in = xcalloc(n_in, sizeof *mg.in);
    for (size_t k = 0; k < n_in && ret == GE_OK; k++) {
        ret = store_open(in_paths[k], STORE_MODE_READ, 0, &mg.in[k], err);
        if (ret == GE_OK && store_schema_version(mg.in[k]) != SCHEMA_VERSION)
            ret = ge_error_set(err, GE_ERR_STATE, "%s: schema version %d; merge reads version %d (migrate a copy "
                               "with 'glam-eval db migrate')", in_paths[k], store_schema_version(mg.in[k]),
                               SCHEMA_VERSION);
    }
    if (ret == GE_OK) { /* a new unique name, created exclusively (also unique across hosts sharing a volume) */
        int fd = mkstemp(tmp);
        if (fd < 0) {
            ret = ge_error_set(err, GE_ERR_IO, "%s: cannot create: %s", tmp, strerror(errno));
        } else {
            /* mkstemp makes the file 0600; OUT gets the mode any new database gets (0666 less the umask), so a
             * merged database is as readable as the shards it came from */
            mode_t mask = umask(0);
            umask(mask);
            if (fchmod(fd, 0666 & ~mask) != 0)
                ret = ge_error_set(err, GE_ERR_IO, "%s: cannot set its mode: %s", tmp, strerror(errno));
            close(fd);
        }
        created = ret == GE_OK;
    }
    if (ret == GE_OK)
        ret = store_open(tmp, STORE_MODE_WRITE, 0, &mg.out, err);
    if (ret == GE_OK)
        ret = store_begin(mg.out, err);
    if (ret == GE_OK) {
        ret = merge_all(&mg, log, err);
        if (ret == GE_OK)
            ret = store_commit(mg.out, err);
        else
            store_rollback(mg.out);
    }
    if (ret == GE_OK)
        ret = make_self_contained(mg.out, err);
    store_close(mg.out);
    if (ret == GE_OK)
        ret = publish(tmp, out_path, err);
    else if (created)
        remove_db(tmp);
    free(tmp);
    for (size_t k = 0; k < n_in; k++)
        store_close(mg.in[k]);
    free(mg.in);
    for (size_t g = 0; g < mg.n_groups; g++) {
        struct group *gr = &mg.groups[g];
        for (size_t m = 0; m < gr->n_members; m++) {
            free(gr->members[m].args);
            free(gr->members[m].finished_at);
        }
        free(gr->members);
        free(gr->seeds);
        free(gr->program_version);
        free(gr->started_at);
        free(gr->finished_at);
        free(gr->hosts);
    }
    free(mg.groups);
    for (size_t p = 0; p < mg.n_pubs; p++)
        published_run_info_release(&mg.pubs[p].info);
    free(mg.pubs);
    for (size_t t = 0; t < mg.n_tasks; t++)
        free(mg.tasks[t].finished_at);
    free(mg.tasks);
    return ret;
}
