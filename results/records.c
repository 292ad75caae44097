/* records.c — the results store's descriptive records: models, runs, task runs, documents, per-example scores
 * and aggregate metrics (contracts in store.h).
 *
 * Invariants: each function validates what the schema cannot express well (timestamps, enum values, NaN),
 * then writes inside one transaction (store_begin ... store_tx_end), so a failure leaves no partial batch.
 * Idempotent inserts look the row up first and compare what must not change under a resumed run. */
#include "config.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/sha256.h"
#include "results/identity.h"
#include "results/store_int.h"

/* ---- models ------------------------------------------------------------------------------------------------- */

static const char SQL_MODEL_FIND[] = "SELECT id FROM models WHERE identity_hash = ?1";
static const char SQL_MODEL_INSERT[] =
    "INSERT INTO models (identity_hash, kind, name, architecture, n_params, n_active_params, flops_per_token, "
    "dtype, endpoint_url, served_model, details) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)";

static int model_find(struct store *st, const char *hash, int64_t *model_id, int *found, struct ge_error *err)
{
    sqlite3_stmt *q = NULL;
    int ret = store_stmt(st, STMT_MODEL_FIND, SQL_MODEL_FIND, &q, err);
    if (ret != GE_OK)
        return ret;
    sqlite3_bind_text(q, 1, hash, -1, SQLITE_STATIC);
    int rc = sqlite3_step(q);
    *found = rc == SQLITE_ROW;
    if (rc == SQLITE_ROW)
        *model_id = sqlite3_column_int64(q, 0);
    else if (rc != SQLITE_DONE)
        ret = store_fail(st, rc, "looking up a model", err);
    store_stmt_done(q);
    return ret;
}

int store_put_model(struct store *st, const struct store_model *m, int64_t *model_id, struct ge_error *err)
{
    int found = 0, ret;
    if (!sha256_is_hex(m->identity_hash))
        return ge_error_set(err, GE_ERR_USAGE, "%s: model \"%s\": identity hash is not 64 lowercase hex characters",
                            st->path, m->name ? m->name : "");
    if (m->name == NULL || (m->kind != STORE_MODEL_LOCAL && m->kind != STORE_MODEL_REMOTE))
        return ge_error_set(err, GE_ERR_USAGE, "%s: model %s: a name and a kind are required", st->path,
                            m->identity_hash);
    if ((ret = store_begin(st, err)) != GE_OK)
        return ret;
    ret = model_find(st, m->identity_hash, model_id, &found, err);
    if (ret == GE_OK && !found) {
        sqlite3_stmt *q = NULL;
        if ((ret = store_stmt(st, STMT_MODEL_INSERT, SQL_MODEL_INSERT, &q, err)) != GE_OK)
            return store_tx_end(st, ret, err);
        sqlite3_bind_text(q, 1, m->identity_hash, -1, SQLITE_STATIC);
        sqlite3_bind_text(q, 2, m->kind == STORE_MODEL_LOCAL ? "local" : "remote", -1, SQLITE_STATIC);
        sqlite3_bind_text(q, 3, m->name, -1, SQLITE_STATIC);
        store_bind_text(q, 4, m->architecture);
        if (m->n_params >= 0)
            sqlite3_bind_int64(q, 5, m->n_params);
        if (m->n_active_params >= 0)
            sqlite3_bind_int64(q, 6, m->n_active_params);
        if (m->flops_per_token >= 0)
            sqlite3_bind_double(q, 7, m->flops_per_token);
        store_bind_text(q, 8, m->dtype);
        store_bind_text(q, 9, m->endpoint_url);
        store_bind_text(q, 10, m->served_model);
        sqlite3_bind_text(q, 11, m->details_json ? m->details_json : "{}", -1, SQLITE_STATIC);
        int rc = sqlite3_step(q);
        if (rc == SQLITE_DONE)
            *model_id = sqlite3_last_insert_rowid(st->db);
        else
            ret = store_fail(st, rc, "storing a model", err);
        store_stmt_done(q);
    }
    return store_tx_end(st, ret, err);
}

/* ---- runs --------------------------------------------------------------------------------------------------- */

static const char SQL_RUN_INSERT[] =
    "INSERT INTO runs (model_id, args, seeds, program_version, started_at, status, host) "
    "VALUES (?1, ?2, ?3, ?4, ?5, 'running', ?6)";
static const char SQL_RUN_GET[] =
    "SELECT r.model_id, m.identity_hash, r.args, r.seeds, r.program_version, r.started_at, r.finished_at, "
    "r.status, r.host FROM runs r JOIN models m ON m.id = r.model_id WHERE r.id = ?1";
static const char SQL_RUN_SET_STATUS[] = "UPDATE runs SET status = ?2, finished_at = ?3 WHERE id = ?1";

int store_create_run(struct store *st, const struct store_run *run, int64_t *run_id, struct ge_error *err)
{
    int ret;
    if ((ret = store_check_timestamp(st, "run started_at", run->started_at, err)) != GE_OK ||
        (ret = store_check_text(st, "run arguments", run->args_json, err)) != GE_OK)
        return ret;
    if (run->args_json == NULL || run->seeds_json == NULL || run->program_version == NULL || run->host == NULL)
        return ge_error_set(err, GE_ERR_USAGE, "%s: a run needs arguments, seeds, program version and host",
                            st->path);
    if ((ret = store_begin(st, err)) != GE_OK)
        return ret;
    sqlite3_stmt *q = NULL;
    if ((ret = store_stmt(st, STMT_RUN_INSERT, SQL_RUN_INSERT, &q, err)) != GE_OK)
        return store_tx_end(st, ret, err);
    sqlite3_bind_int64(q, 1, run->model_id);
    sqlite3_bind_text(q, 2, run->args_json, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 3, run->seeds_json, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 4, run->program_version, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 5, run->started_at, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 6, run->host, -1, SQLITE_STATIC);
    int rc = sqlite3_step(q);
    if (rc == SQLITE_DONE)
        *run_id = sqlite3_last_insert_rowid(st->db);
    else
        ret = store_fail(st, rc, "creating a run", err);
    store_stmt_done(q);
    return store_tx_end(st, ret, err);
}

static int parse_run_status(const char *s, enum store_run_status *out)
{
    for (int i = STORE_RUN_RUNNING; i <= STORE_RUN_INTERRUPTED; i++)
        if (s != NULL && strcmp(s, store_run_status_name((enum store_run_status)i)) == 0) {
            *out = (enum store_run_status)i;
            return 1;
        }
    return 0;
}

int store_get_run(struct store *st, int64_t run_id, struct store_run_info *out, struct ge_error *err)
{
    memset(out, 0, sizeof *out);
    sqlite3_stmt *q = NULL;
    int ret = store_stmt(st, STMT_RUN_GET, SQL_RUN_GET, &q, err);
    if (ret != GE_OK)
        return ret;
    sqlite3_bind_int64(q, 1, run_id);
    int rc = sqlite3_step(q);
    if (rc == SQLITE_DONE) {
        ret = ge_error_set(err, GE_ERR_NOTFOUND, "%s: there is no run %lld", st->path, (long long)run_id);
    } else if (rc != SQLITE_ROW) {
        ret = store_fail(st, rc, "reading a run", err);
    } else {
        const char *what = "run";
        out->id = run_id;
        out->model_id = sqlite3_column_int64(q, 0);
        const char *hash = (const char *)sqlite3_column_text(q, 1);
        snprintf(out->model_hash, sizeof out->model_hash, "%s", hash ? hash : "");
        char *status = NULL;
        if ((ret = store_column_text(st, q, 2, what, &out->args_json, err)) == GE_OK &&
            (ret = store_column_text(st, q, 3, what, &out->seeds_json, err)) == GE_OK &&
            (ret = store_column_text(st, q, 4, what, &out->program_version, err)) == GE_OK &&
            (ret = store_column_text(st, q, 5, what, &out->started_at, err)) == GE_OK &&
            (ret = store_column_text(st, q, 6, what, &out->finished_at, err)) == GE_OK &&
            (ret = store_column_text(st, q, 7, what, &status, err)) == GE_OK &&
            (ret = store_column_text(st, q, 8, what, &out->host, err)) == GE_OK && !parse_run_status(status, &out->status))
            ret = ge_error_set(err, GE_ERR_FORMAT, "%s: run %lld has an unknown status \"%s\"", st->path,
                               (long long)run_id, status ? status : "(null)");
        free(status);
    }
    store_stmt_done(q);
    if (ret != GE_OK)
        store_run_info_release(out);
    return ret;
}

void store_run_info_release(struct store_run_info *info)
{
    free(info->args_json);
    free(info->seeds_json);
    free(info->program_version);
    free(info->started_at);
    free(info->finished_at);
    free(info->host);
    memset(info, 0, sizeof *info);
}

/* Runs an UPDATE by id that sets (status, finished_at); GE_ERR_NOTFOUND when no row has the id. */
static int set_status(struct store *st, enum store_stmt_id slot, const char *sql, const char *kind, int64_t id,
                      const char *status, int running, const char *at, struct ge_error *err)
{
    int ret;
    if (running && at != NULL)
        return ge_error_set(err, GE_ERR_USAGE, "%s: %s %lld: a running %s has no finish time", st->path, kind,
                            (long long)id, kind);
    if (!running && (ret = store_check_timestamp(st, "finish time", at, err)) != GE_OK)
        return ret;
    if ((ret = store_begin(st, err)) != GE_OK)
        return ret;
    sqlite3_stmt *q = NULL;
    if ((ret = store_stmt(st, slot, sql, &q, err)) != GE_OK)
        return store_tx_end(st, ret, err);
    sqlite3_bind_int64(q, 1, id);
    sqlite3_bind_text(q, 2, status, -1, SQLITE_STATIC);
    store_bind_text(q, 3, at);
    int rc = sqlite3_step(q);
    if (rc != SQLITE_DONE)
        ret = store_fail(st, rc, "setting a status", err);
    else if (sqlite3_changes(st->db) == 0)
        ret = ge_error_set(err, GE_ERR_NOTFOUND, "%s: there is no %s %lld", st->path, kind, (long long)id);
    store_stmt_done(q);
    return store_tx_end(st, ret, err);
}

int store_set_run_status(struct store *st, int64_t run_id, enum store_run_status status, const char *at,
                         struct ge_error *err)
{
    if (status < STORE_RUN_RUNNING || status > STORE_RUN_INTERRUPTED)
        return ge_error_set(err, GE_ERR_USAGE, "%s: run %lld: invalid status %d", st->path, (long long)run_id,
                            (int)status);
    return set_status(st, STMT_RUN_SET_STATUS, SQL_RUN_SET_STATUS, "run", run_id, store_run_status_name(status),
                      status == STORE_RUN_RUNNING, at, err);
}


static int count_rows(struct store *st, const char *sql, int64_t run_id, int64_t *n, struct ge_error *err)
{
    sqlite3_stmt *q = NULL;
    *n = 0;
    int rc = sqlite3_prepare_v2(st->db, sql, -1, &q, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_int64(q, 1, run_id);
        rc = sqlite3_step(q);
    }
    int ret = GE_OK;
    if (rc == SQLITE_ROW)
        *n = sqlite3_column_int64(q, 0);
    else
        ret = store_fail(st, rc, "counting a run's task runs, documents, requests or responses", err);
    sqlite3_finalize(q);
    return ret;
}

int store_count_unfinished_task_runs(struct store *st, int64_t run_id, int64_t *n, struct ge_error *err)
{
    return count_rows(st, "SELECT count(*) FROM task_runs WHERE run_id = ?1 AND status != 'finished'", run_id, n,
                      err);
}

int store_run_rows(struct store *st, int64_t run_id, struct store_run_rows *out, struct ge_error *err)
{
    static const char *const sql[] = {
        "SELECT count(*) FROM task_runs WHERE run_id = ?1",
        "SELECT count(*) FROM documents d JOIN task_runs t ON t.id = d.task_run_id WHERE t.run_id = ?1",
        "SELECT count(*) FROM requests r JOIN task_runs t ON t.id = r.task_run_id WHERE t.run_id = ?1",
        "SELECT count(*) FROM responses p JOIN requests r ON r.id = p.request_id "
        "JOIN task_runs t ON t.id = r.task_run_id WHERE t.run_id = ?1",
        "SELECT count(*) FROM published_runs WHERE run_id = ?1",
    };
    int64_t *dst[] = {&out->task_runs, &out->documents, &out->requests, &out->responses, &out->published};
    memset(out, 0, sizeof *out);
    int ret = GE_OK;
    for (size_t i = 0; i < sizeof sql / sizeof sql[0] && ret == GE_OK; i++)
        ret = count_rows(st, sql[i], run_id, dst[i], err);
    return ret;
}

int store_delete_run(struct store *st, int64_t run_id, struct store_run_rows *deleted, struct ge_error *err)
{
    int ret = store_begin(st, err);
    if (ret != GE_OK)
        return ret;
    struct store_run_info info;
    ret = store_get_run(st, run_id, &info, err);
    store_run_info_release(&info);
    if (ret == GE_OK)
        ret = store_run_rows(st, run_id, deleted, err);
    if (ret == GE_OK && deleted->published)
        ret = ge_error_set(err, GE_ERR_STATE, "%s: run %lld is a published reference run (glam-eval import "
                           "published): it is read-only and cannot be deleted", st->path, (long long)run_id);
    sqlite3_stmt *q = NULL;
    if (ret == GE_OK) {
        int rc = sqlite3_prepare_v2(st->db, "DELETE FROM runs WHERE id = ?1", -1, &q, NULL);
        if (rc == SQLITE_OK) {
            sqlite3_bind_int64(q, 1, run_id);
            rc = sqlite3_step(q);
        }
        if (rc != SQLITE_DONE)
            ret = store_fail(st, rc, "deleting a run", err);
        sqlite3_finalize(q);
    }
    return store_tx_end(st, ret, err);
}

/* ---- task runs ---------------------------------------------------------------------------------------------- */

static const char SQL_TASK_FIND[] =
    "SELECT id, task_version, dataset_hashes, metric_variants, status FROM task_runs "
    "WHERE run_id = ?1 AND task = ?2 AND n_shots = ?3 AND split = ?4";
static const char SQL_TASK_INSERT[] =
    "INSERT INTO task_runs (run_id, task, task_version, n_shots, split, dataset_hashes, metric_variants, status, "
    "started_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'running', ?8)";
static const char SQL_TASK_SET_STATUS[] = "UPDATE task_runs SET status = ?2, finished_at = ?3 WHERE id = ?1";

/* 1 when every entry of the JSON object asked is in the JSON object stored with the same value (both canonical,
 * stored may hold more entries), else 0 (also when either is not an object). */
static int hashes_cover(const char *stored, const char *asked)
{
    cJSON *s = cJSON_Parse(stored), *a = cJSON_Parse(asked);
    int covers = cJSON_IsObject(s) && cJSON_IsObject(a);
    for (const cJSON *item = covers ? a->child : NULL; item != NULL && covers; item = item->next) {
        const cJSON *have = cJSON_GetObjectItemCaseSensitive(s, item->string);
        covers = have != NULL && cJSON_Compare(have, item, 1);
    }
    cJSON_Delete(s);
    cJSON_Delete(a);
    return covers;
}

/* Compares a stored task run (row of SQL_TASK_FIND) with the one asked for, whose JSON fields are given in
 * canonical form; GE_ERR_STATE names the first field that differs. A 0-shot task run stored by a glam-eval that
 * read (and hashed) the few-shot split although no prompt used it has one entry more than a 0-shot task run
 * records now (harness/evaluate.c): files no request was built from cannot make a resume mix datasets, so a
 * 0-shot task run whose stored hashes cover the asked ones is the same task run. */
/* ": limit 100, now 5; seed ..." for the keys whose values differ between two JSON objects (the options a task
 * run records), into buf; "" when either is not an object. */
static void variants_diff(const char *stored, const char *now, char *buf, size_t cap)
{
    cJSON *a = stored ? cJSON_Parse(stored) : NULL, *b = cJSON_Parse(now);
    size_t len = 0;
    buf[0] = '\0';
    for (int pass = 0; pass < 2 && cJSON_IsObject(a) && cJSON_IsObject(b); pass++) {
        const cJSON *from = pass ? b : a, *other = pass ? a : b;
        for (const cJSON *it = from->child; it && len + 1 < cap; it = it->next) {
            const cJSON *o = cJSON_GetObjectItemCaseSensitive(other, it->string);
            if (pass && o != NULL) /* keys in both were compared in the first pass */
                continue;
            if (o != NULL && cJSON_Compare(it, o, 1))
                continue;
            char *x = cJSON_PrintUnformatted(pass ? o : it), *y = cJSON_PrintUnformatted(pass ? it : o);
            int w = snprintf(buf + len, cap - len, "%s%s %.60s, now %.60s", len ? "; " : ": ", it->string,
                             x ? x : "absent", y ? y : "absent");
            len = w > 0 && (size_t)w < cap - len ? len + (size_t)w : cap - 1;
            free(x);
            free(y);
        }
    }
    cJSON_Delete(a);
    cJSON_Delete(b);
}

static int task_compare(struct store *st, sqlite3_stmt *q, const struct store_task_run *tr, const char *hashes,
                        const char *variants, struct ge_error *err)
{
    const char *field = NULL;
    const char *stored_hashes = (const char *)sqlite3_column_text(q, 2);
    const char *stored_variants = (const char *)sqlite3_column_text(q, 3);
    if (sqlite3_column_int(q, 1) != tr->task_version)
        field = "task version";
    else if (stored_hashes == NULL ||
             (strcmp(stored_hashes, hashes) != 0 && (tr->n_shots != 0 || !hashes_cover(stored_hashes, hashes))))
        field = "dataset file hashes";
    else if (stored_variants == NULL || strcmp(stored_variants, variants) != 0)
        field = "metric variants";
    if (field == NULL)
        return GE_OK;
    int variants_differ = strcmp(field, "metric variants") == 0; /* name them: seed, limit, shard, ... */
    char which[400] = "";
    if (variants_differ)
        variants_diff(stored_variants, variants, which, sizeof which);
    return ge_error_set(err, GE_ERR_STATE,
                        "%s: task run %lld (%s, %d-shot, %s) was started with different %s%s%.300s%s%.300s%s%s; a "
                        "resumed run must not mix them (start a new run)",
                        st->path, (long long)sqlite3_column_int64(q, 0), tr->task, tr->n_shots, tr->split,
                        variants_differ ? "options" : field, which,
                        variants_differ ? " (stored " : "", variants_differ && stored_variants ? stored_variants : "",
                        variants_differ ? ", now " : "", variants_differ ? variants : "", variants_differ ? ")" : "");
}

int store_find_task_run(struct store *st, const struct store_task_run *tr, int64_t *task_run_id,
                        enum store_task_status *status, struct ge_error *err)
{
    char *hashes = NULL, *variants = NULL;
    sqlite3_stmt *q = NULL;
    int ret, in_tx = 0;
    if (tr->task == NULL || tr->split == NULL || tr->dataset_hashes_json == NULL || tr->metric_variants_json == NULL)
        return ge_error_set(err, GE_ERR_USAGE, "%s: a task run needs task, split, dataset hashes and metric variants",
                            st->path);
    if ((ret = store_check_timestamp(st, "task run started_at", tr->started_at, err)) != GE_OK)
        return ret;
    /* Canonical JSON, so that key order or spacing never makes a resumed task run look different. */
    if ((ret = identity_json_canonical(tr->dataset_hashes_json, &hashes, err)) != GE_OK ||
        (ret = identity_json_canonical(tr->metric_variants_json, &variants, err)) != GE_OK) {
        ge_error_prefix(err, "%s: task run %s: %s: ", st->path, tr->task,
                        hashes == NULL ? "dataset hashes" : "metric variants");
        goto out;
    }
    if ((ret = store_begin(st, err)) != GE_OK)
        goto out;
    in_tx = 1;
    if ((ret = store_stmt(st, STMT_TASK_FIND, SQL_TASK_FIND, &q, err)) != GE_OK)
        goto out;
    sqlite3_bind_int64(q, 1, tr->run_id);
    sqlite3_bind_text(q, 2, tr->task, -1, SQLITE_STATIC);
    sqlite3_bind_int(q, 3, tr->n_shots);
    sqlite3_bind_text(q, 4, tr->split, -1, SQLITE_STATIC);
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
        ret = task_compare(st, q, tr, hashes, variants, err);
        *task_run_id = sqlite3_column_int64(q, 0);
        const char *s = (const char *)sqlite3_column_text(q, 4);
        enum store_task_status found = STORE_TASK_RUNNING;
        for (int i = STORE_TASK_RUNNING; i <= STORE_TASK_FAILED; i++)
            if (s != NULL && strcmp(s, store_task_status_name((enum store_task_status)i)) == 0)
                found = (enum store_task_status)i;
        if (status != NULL)
            *status = found;
        goto out;
    }
    if (rc != SQLITE_DONE) {
        ret = store_fail(st, rc, "looking up a task run", err);
        goto out;
    }
    store_stmt_done(q);
    if ((ret = store_stmt(st, STMT_TASK_INSERT, SQL_TASK_INSERT, &q, err)) != GE_OK)
        goto out;
    sqlite3_bind_int64(q, 1, tr->run_id);
    sqlite3_bind_text(q, 2, tr->task, -1, SQLITE_STATIC);
    sqlite3_bind_int(q, 3, tr->task_version);
    sqlite3_bind_int(q, 4, tr->n_shots);
    sqlite3_bind_text(q, 5, tr->split, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 6, hashes, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 7, variants, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 8, tr->started_at, -1, SQLITE_STATIC);
    rc = sqlite3_step(q);
    if (rc == SQLITE_DONE) {
        *task_run_id = sqlite3_last_insert_rowid(st->db);
        if (status != NULL)
            *status = STORE_TASK_RUNNING;
    } else {
        ret = store_fail(st, rc, "creating a task run", err);
    }
out:
    store_stmt_done(q);
    if (in_tx)
        ret = store_tx_end(st, ret, err);
    free(hashes);
    free(variants);
    return ret;
}

int store_set_task_status(struct store *st, int64_t task_run_id, enum store_task_status status, const char *at,
                          struct ge_error *err)
{
    if (status < STORE_TASK_RUNNING || status > STORE_TASK_FAILED)
        return ge_error_set(err, GE_ERR_USAGE, "%s: task run %lld: invalid status %d", st->path,
                            (long long)task_run_id, (int)status);
    return set_status(st, STMT_TASK_SET_STATUS, SQL_TASK_SET_STATUS, "task run", task_run_id,
                      store_task_status_name(status), status == STORE_TASK_RUNNING, at, err);
}

/* ---- documents ---------------------------------------------------------------------------------------------- */

static const char SQL_DOC_FIND[] = "SELECT doc_id, content_hash FROM documents WHERE task_run_id = ?1 AND doc_index = ?2";
static const char SQL_DOC_INSERT[] =
    "INSERT INTO documents (task_run_id, doc_index, doc_id, content_hash) VALUES (?1, ?2, ?3, ?4)";

static int put_document(struct store *st, int64_t task_run_id, const struct store_document *d, struct ge_error *err)
{
    if (d->doc_id == NULL || !sha256_is_hex(d->content_hash))
        return ge_error_set(err, GE_ERR_USAGE,
                            "%s: task run %lld document %lld: needs a doc id and a 64-hex-character content hash",
                            st->path, (long long)task_run_id, (long long)d->doc_index);
    sqlite3_stmt *q = NULL;
    int ret = store_stmt(st, STMT_DOC_FIND, SQL_DOC_FIND, &q, err);
    if (ret != GE_OK)
        return ret;
    sqlite3_bind_int64(q, 1, task_run_id);
    sqlite3_bind_int64(q, 2, d->doc_index);
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
        const char *id = (const char *)sqlite3_column_text(q, 0), *hash = (const char *)sqlite3_column_text(q, 1);
        if (id == NULL || hash == NULL || strcmp(id, d->doc_id) != 0 || strcmp(hash, d->content_hash) != 0)
            ret = ge_error_set(err, GE_ERR_STATE,
                               "%s: task run %lld document %lld is stored as \"%s\" with another %s; the dataset "
                               "changed since the run started",
                               st->path, (long long)task_run_id, (long long)d->doc_index, id ? id : "",
                               id && strcmp(id, d->doc_id) == 0 ? "content" : "id");
        store_stmt_done(q);
        return ret;
    }
    store_stmt_done(q);
    if (rc != SQLITE_DONE)
        return store_fail(st, rc, "looking up a document", err);
    if ((ret = store_stmt(st, STMT_DOC_INSERT, SQL_DOC_INSERT, &q, err)) != GE_OK)
        return ret;
    sqlite3_bind_int64(q, 1, task_run_id);
    sqlite3_bind_int64(q, 2, d->doc_index);
    sqlite3_bind_text(q, 3, d->doc_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 4, d->content_hash, -1, SQLITE_STATIC);
    rc = sqlite3_step(q);
    if (rc != SQLITE_DONE)
        ret = store_fail(st, rc, "storing a document", err);
    store_stmt_done(q);
    return ret;
}

int store_put_documents(struct store *st, int64_t task_run_id, size_t n, const struct store_document *docs,
                        struct ge_error *err)
{
    int ret = store_begin(st, err);
    if (ret != GE_OK)
        return ret;
    for (size_t i = 0; i < n && ret == GE_OK; i++)
        ret = put_document(st, task_run_id, &docs[i], err);
    return store_tx_end(st, ret, err);
}

/* ---- scores and metrics ------------------------------------------------------------------------------------- */

static const char SQL_SCORE_PUT[] =
    "INSERT INTO scores (task_run_id, doc_index, metric, value) VALUES (?1, ?2, ?3, ?4) "
    "ON CONFLICT (task_run_id, doc_index, metric) DO UPDATE SET value = excluded.value";
static const char SQL_METRIC_PUT[] =
    "INSERT INTO metrics (task_run_id, metric, value, std_error, stderr_method, n) VALUES (?1, ?2, ?3, ?4, ?5, ?6) "
    "ON CONFLICT (task_run_id, metric) DO UPDATE SET value = excluded.value, std_error = excluded.std_error, "
    "stderr_method = excluded.stderr_method, n = excluded.n";

int store_put_scores(struct store *st, int64_t task_run_id, size_t n, const struct store_score *scores,
                     struct ge_error *err)
{
    for (size_t i = 0; i < n; i++)
        if (scores[i].metric == NULL || isnan(scores[i].value))
            return ge_error_set(err, GE_ERR_USAGE, "%s: task run %lld document %lld: score %zu has %s", st->path,
                                (long long)task_run_id, (long long)scores[i].doc_index, i,
                                scores[i].metric == NULL ? "no metric name" : "a NaN value");
    int ret = store_begin(st, err);
    if (ret != GE_OK)
        return ret;
    for (size_t i = 0; i < n && ret == GE_OK; i++) {
        sqlite3_stmt *q = NULL;
        if ((ret = store_stmt(st, STMT_SCORE_PUT, SQL_SCORE_PUT, &q, err)) != GE_OK)
            break;
        sqlite3_bind_int64(q, 1, task_run_id);
        sqlite3_bind_int64(q, 2, scores[i].doc_index);
        sqlite3_bind_text(q, 3, scores[i].metric, -1, SQLITE_STATIC);
        sqlite3_bind_double(q, 4, scores[i].value);
        int rc = sqlite3_step(q);
        if (rc != SQLITE_DONE)
            ret = store_fail(st, rc, "storing a score", err);
        store_stmt_done(q);
    }
    return store_tx_end(st, ret, err);
}

int store_put_metrics(struct store *st, int64_t task_run_id, size_t n, const struct store_metric *metrics,
                      struct ge_error *err)
{
    for (size_t i = 0; i < n; i++) {
        const struct store_metric *m = &metrics[i];
        if (m->metric == NULL || isnan(m->value) || m->n < 0 || isnan(m->std_error) != (m->stderr_method == NULL))
            return ge_error_set(err, GE_ERR_USAGE,
                                "%s: task run %lld metric %zu (%s): needs a name, a value that is not NaN, n >= 0, "
                                "and a stderr method exactly when a standard error is given",
                                st->path, (long long)task_run_id, i, m->metric ? m->metric : "unnamed");
    }
    int ret = store_begin(st, err);
    if (ret != GE_OK)
        return ret;
    for (size_t i = 0; i < n && ret == GE_OK; i++) {
        const struct store_metric *m = &metrics[i];
        sqlite3_stmt *q = NULL;
        if ((ret = store_stmt(st, STMT_METRIC_PUT, SQL_METRIC_PUT, &q, err)) != GE_OK)
            break;
        sqlite3_bind_int64(q, 1, task_run_id);
        sqlite3_bind_text(q, 2, m->metric, -1, SQLITE_STATIC);
        sqlite3_bind_double(q, 3, m->value);
        if (!isnan(m->std_error))
            sqlite3_bind_double(q, 4, m->std_error);
        store_bind_text(q, 5, m->stderr_method);
        sqlite3_bind_int64(q, 6, m->n);
        int rc = sqlite3_step(q);
        if (rc != SQLITE_DONE)
            ret = store_fail(st, rc, "storing a metric", err);
        store_stmt_done(q);
    }
    return store_tx_end(st, ret, err);
}
