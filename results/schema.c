/* schema.c — the results database schema, one migration per schema version (see schema.h, docs/schema.md).
 *
 * Invariants: migrations[] is ordered by version, starting at 1 with no gaps, and the last entry's version is
 * SCHEMA_VERSION. The SQL of a migration that has been released is frozen; a schema change is a new entry. SQL
 * here is constant text (DDL and PRAGMAs whose operands are compile-time constants), never built from input.
 *
 * Conventions every table follows (docs/schema.md explains each column):
 *   - ids are INTEGER PRIMARY KEY; rows refer to each other with FOREIGN KEY constraints, which the store
 *     enforces (PRAGMA foreign_keys=ON on every connection); deleting a run cascades to everything it produced;
 *   - timestamps are ISO-8601 UTC text "YYYY-MM-DDTHH:MM:SS[.fff]Z" supplied by the caller;
 *   - JSON columns hold valid JSON (CHECK json_valid), hashes are SHA-256 as 64 lowercase hex characters;
 *   - enumerations are lowercase words with a CHECK listing the allowed ones. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <sqlite3.h>

#include "results/schema.h"

/* A timestamp CHECK: a coarse shape test the database itself enforces; store.c checks the exact format. */
#define TS_GLOB "'[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9]*Z'"
#define TS_CHECK(col) "CHECK (" col " GLOB " TS_GLOB ")"
#define TS_CHECK_NULL(col) "CHECK (" col " IS NULL OR " col " GLOB " TS_GLOB ")"
#define HASH_CHECK(col) "CHECK (length(" col ") = 64 AND " col " NOT GLOB '*[^0-9a-f]*')"

/* Version 1: everything a run needs — models, runs, task runs, documents, requests, responses, the response
 * cache, per-example scores and aggregate metrics. */
static const char migration_1_sql[] =
    "CREATE TABLE models (\n"
    "    id INTEGER PRIMARY KEY,\n"
    "    identity_hash TEXT NOT NULL UNIQUE " HASH_CHECK("identity_hash") ",\n"
    "    kind TEXT NOT NULL CHECK (kind IN ('local', 'remote')),\n"
    "    name TEXT NOT NULL,\n"
    "    architecture TEXT,\n"
    "    n_params INTEGER CHECK (n_params IS NULL OR n_params >= 0),\n"
    "    n_active_params INTEGER CHECK (n_active_params IS NULL OR n_active_params >= 0),\n"
    "    flops_per_token REAL CHECK (flops_per_token IS NULL OR flops_per_token >= 0),\n"
    "    dtype TEXT,\n"
    "    endpoint_url TEXT,\n"
    "    served_model TEXT,\n"
    "    details TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(details)),\n"
    "    CHECK ((kind = 'remote') = (endpoint_url IS NOT NULL AND served_model IS NOT NULL))\n"
    ");\n"
    "CREATE TABLE runs (\n"
    "    id INTEGER PRIMARY KEY,\n"
    "    model_id INTEGER NOT NULL REFERENCES models(id),\n"
    "    args TEXT NOT NULL CHECK (json_valid(args)),\n"
    "    seeds TEXT NOT NULL CHECK (json_valid(seeds)),\n"
    "    program_version TEXT NOT NULL,\n"
    "    started_at TEXT NOT NULL " TS_CHECK("started_at") ",\n"
    "    finished_at TEXT " TS_CHECK_NULL("finished_at") ",\n"
    "    status TEXT NOT NULL DEFAULT 'running'\n"
    "        CHECK (status IN ('running', 'finished', 'failed', 'interrupted')),\n"
    "    host TEXT NOT NULL,\n"
    "    CHECK ((status = 'running') = (finished_at IS NULL))\n"
    ");\n"
    "CREATE INDEX runs_model ON runs(model_id);\n"
    "CREATE TABLE task_runs (\n"
    "    id INTEGER PRIMARY KEY,\n"
    "    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,\n"
    "    task TEXT NOT NULL,\n"
    "    task_version INTEGER NOT NULL CHECK (task_version >= 0),\n"
    "    n_shots INTEGER NOT NULL CHECK (n_shots >= 0),\n"
    "    split TEXT NOT NULL,\n"
    "    dataset_hashes TEXT NOT NULL CHECK (json_valid(dataset_hashes)),\n"
    "    metric_variants TEXT NOT NULL CHECK (json_valid(metric_variants)),\n"
    "    status TEXT NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'finished', 'failed')),\n"
    "    started_at TEXT NOT NULL " TS_CHECK("started_at") ",\n"
    "    finished_at TEXT " TS_CHECK_NULL("finished_at") ",\n"
    "    UNIQUE (run_id, task, n_shots, split),\n"
    "    CHECK ((status = 'running') = (finished_at IS NULL))\n"
    ");\n"
    "CREATE TABLE documents (\n"
    "    id INTEGER PRIMARY KEY,\n"
    "    task_run_id INTEGER NOT NULL REFERENCES task_runs(id) ON DELETE CASCADE,\n"
    "    doc_index INTEGER NOT NULL CHECK (doc_index >= 0),\n"
    "    doc_id TEXT NOT NULL,\n"
    "    content_hash TEXT NOT NULL " HASH_CHECK("content_hash") ",\n"
    "    UNIQUE (task_run_id, doc_index)\n"
    ");\n"
    "CREATE TABLE requests (\n"
    "    id INTEGER PRIMARY KEY,\n"
    "    task_run_id INTEGER NOT NULL,\n"
    "    doc_index INTEGER NOT NULL,\n"
    "    req_index INTEGER NOT NULL CHECK (req_index >= 0),\n"
    "    type TEXT NOT NULL CHECK (type IN ('loglikelihood', 'loglikelihood_rolling', 'generate')),\n"
    "    context TEXT NOT NULL,\n"
    "    continuation TEXT,\n"
    "    gen_settings TEXT CHECK (gen_settings IS NULL OR json_valid(gen_settings)),\n"
    "    fewshot_ids TEXT NOT NULL DEFAULT '[]'\n"
    "        CHECK (CASE WHEN json_valid(fewshot_ids) THEN json_type(fewshot_ids) = 'array' ELSE 0 END),\n"
    "    request_hash TEXT NOT NULL " HASH_CHECK("request_hash") ",\n"
    "    UNIQUE (task_run_id, doc_index, req_index),\n"
    "    FOREIGN KEY (task_run_id, doc_index) REFERENCES documents(task_run_id, doc_index) ON DELETE CASCADE,\n"
    "    CHECK ((type = 'loglikelihood') = (continuation IS NOT NULL)),\n"
    "    CHECK ((type = 'generate') = (gen_settings IS NOT NULL))\n"
    ");\n"
    "CREATE TABLE responses (\n"
    "    id INTEGER PRIMARY KEY,\n"
    "    request_id INTEGER NOT NULL UNIQUE REFERENCES requests(id) ON DELETE CASCADE,\n"
    "    logprob REAL,\n"
    "    n_tokens INTEGER CHECK (n_tokens IS NULL OR n_tokens >= 0),\n"
    "    is_greedy INTEGER CHECK (is_greedy IS NULL OR is_greedy IN (0, 1)),\n"
    "    token_logprobs BLOB CHECK (token_logprobs IS NULL OR length(token_logprobs) = 8 * n_tokens),\n"
    "    text TEXT,\n"
    "    latency_ms REAL NOT NULL CHECK (latency_ms >= 0),\n"
    "    cached INTEGER NOT NULL CHECK (cached IN (0, 1)),\n"
    "    error TEXT,\n"
    "    CHECK (error IS NULL OR (logprob IS NULL AND text IS NULL AND cached = 0))\n"
    ");\n"
    "CREATE TABLE response_cache (\n"
    "    id INTEGER PRIMARY KEY,\n"
    "    model_hash TEXT NOT NULL REFERENCES models(identity_hash) ON DELETE CASCADE,\n"
    "    request_hash TEXT NOT NULL " HASH_CHECK("request_hash") ",\n"
    "    logprob REAL,\n"
    "    n_tokens INTEGER CHECK (n_tokens IS NULL OR n_tokens >= 0),\n"
    "    is_greedy INTEGER CHECK (is_greedy IS NULL OR is_greedy IN (0, 1)),\n"
    "    token_logprobs BLOB CHECK (token_logprobs IS NULL OR length(token_logprobs) = 8 * n_tokens),\n"
    "    text TEXT,\n"
    "    latency_ms REAL NOT NULL CHECK (latency_ms >= 0),\n"
    "    UNIQUE (model_hash, request_hash)\n"
    ");\n"
    "CREATE TABLE scores (\n"
    "    id INTEGER PRIMARY KEY,\n"
    "    task_run_id INTEGER NOT NULL,\n"
    "    doc_index INTEGER NOT NULL,\n"
    "    metric TEXT NOT NULL,\n"
    "    value REAL NOT NULL,\n"
    "    UNIQUE (task_run_id, doc_index, metric),\n"
    "    FOREIGN KEY (task_run_id, doc_index) REFERENCES documents(task_run_id, doc_index) ON DELETE CASCADE\n"
    ");\n"
    "CREATE TABLE metrics (\n"
    "    id INTEGER PRIMARY KEY,\n"
    "    task_run_id INTEGER NOT NULL REFERENCES task_runs(id) ON DELETE CASCADE,\n"
    "    metric TEXT NOT NULL,\n"
    "    value REAL NOT NULL,\n"
    "    std_error REAL CHECK (std_error IS NULL OR std_error >= 0),\n"
    "    stderr_method TEXT,\n"
    "    n INTEGER NOT NULL CHECK (n >= 0),\n"
    "    UNIQUE (task_run_id, metric),\n"
    "    CHECK ((std_error IS NULL) = (stderr_method IS NULL))\n"
    ");\n";

/* Version 2: training-data contamination. A registry of n-gram indexes over training corpora, one flag row per
 * (index, evaluated document) with the first matching n-gram as witness, and a summary on each document. */
static const char migration_2_sql[] =
    "ALTER TABLE documents ADD COLUMN dirty INTEGER CHECK (dirty IS NULL OR dirty IN (0, 1));\n"
    "ALTER TABLE documents ADD COLUMN witness TEXT CHECK (witness IS NULL OR json_valid(witness));\n"
    "CREATE TABLE contamination_indexes (\n"
    "    id INTEGER PRIMARY KEY,\n"
    "    name TEXT NOT NULL UNIQUE,\n"
    "    corpus TEXT NOT NULL,\n"
    "    corpus_hash TEXT NOT NULL " HASH_CHECK("corpus_hash") ",\n"
    "    ngram_n INTEGER NOT NULL CHECK (ngram_n > 0),\n"
    "    normalization TEXT NOT NULL,\n"
    "    location TEXT NOT NULL,\n"
    "    n_documents INTEGER CHECK (n_documents IS NULL OR n_documents >= 0),\n"
    "    n_ngrams INTEGER CHECK (n_ngrams IS NULL OR n_ngrams >= 0),\n"
    "    created_at TEXT NOT NULL " TS_CHECK("created_at") "\n"
    ");\n"
    "CREATE TABLE contamination_flags (\n"
    "    id INTEGER PRIMARY KEY,\n"
    "    index_id INTEGER NOT NULL REFERENCES contamination_indexes(id) ON DELETE CASCADE,\n"
    "    task TEXT NOT NULL,\n"
    "    split TEXT NOT NULL,\n"
    "    doc_id TEXT NOT NULL,\n"
    "    content_hash TEXT NOT NULL " HASH_CHECK("content_hash") ",\n"
    "    dirty INTEGER NOT NULL CHECK (dirty IN (0, 1)),\n"
    "    corpus_file TEXT,\n"
    "    corpus_doc INTEGER CHECK (corpus_doc IS NULL OR corpus_doc >= 0),\n"
    "    byte_offset INTEGER CHECK (byte_offset IS NULL OR byte_offset >= 0),\n"
    "    ngram TEXT,\n"
    "    checked_at TEXT NOT NULL " TS_CHECK("checked_at") ",\n"
    "    UNIQUE (index_id, task, split, doc_id, content_hash),\n"
    "    CHECK (dirty = (corpus_file IS NOT NULL)),\n"
    "    CHECK ((corpus_file IS NULL) = (corpus_doc IS NULL) AND (corpus_file IS NULL) = (byte_offset IS NULL)\n"
    "           AND (corpus_file IS NULL) = (ngram IS NULL))\n"
    ");\n"
    "CREATE INDEX contamination_flags_content ON contamination_flags(content_hash);\n";

/* Version 3: published reference results (glam-eval import published). A published run is an ordinary runs row
 * (so reports list it beside real runs) plus one published_runs row naming its source; its per-task numbers are
 * published_scores rows (a paper's table cells, keyed by shot setting because a paper's "few-shot" K may equal 1).
 * Triggers make a published run read-only: its runs row cannot be updated (resumed) or deleted, no task run can
 * be added to it, and the published rows themselves cannot be changed or deleted. The import inserts the
 * published_runs row first and the cells after it, in one transaction. */
static const char migration_3_sql[] =
    "CREATE TABLE published_runs (\n"
    "    run_id INTEGER PRIMARY KEY REFERENCES runs(id),\n"
    "    label TEXT NOT NULL UNIQUE CHECK (length(label) > 0),\n"
    "    source TEXT NOT NULL,\n"
    "    data_file TEXT NOT NULL,\n"
    "    data_hash TEXT NOT NULL " HASH_CHECK("data_hash") ",\n"
    "    imported_at TEXT NOT NULL " TS_CHECK("imported_at") "\n"
    ");\n"
    "CREATE TABLE published_scores (\n"
    "    id INTEGER PRIMARY KEY,\n"
    "    run_id INTEGER NOT NULL REFERENCES published_runs(run_id),\n"
    "    task TEXT NOT NULL,\n"
    "    metric TEXT NOT NULL,\n"
    "    setting TEXT NOT NULL CHECK (setting IN ('zero', 'one', 'few')),\n"
    "    n_shots INTEGER NOT NULL CHECK (n_shots >= 0),\n"
    "    split TEXT NOT NULL,\n"
    "    value REAL NOT NULL,\n"
    "    source_table TEXT NOT NULL,\n"
    "    UNIQUE (run_id, task, metric, setting)\n"
    ");\n"
    "CREATE TRIGGER published_run_no_update BEFORE UPDATE ON runs\n"
    "    WHEN EXISTS (SELECT 1 FROM published_runs WHERE run_id = OLD.id)\n"
    "    BEGIN SELECT RAISE(ABORT, 'a published reference run is read-only (it cannot be resumed or changed)'); END;\n"
    "CREATE TRIGGER published_run_no_delete BEFORE DELETE ON runs\n"
    "    WHEN EXISTS (SELECT 1 FROM published_runs WHERE run_id = OLD.id)\n"
    "    BEGIN SELECT RAISE(ABORT, 'a published reference run cannot be deleted'); END;\n"
    "CREATE TRIGGER published_run_no_task BEFORE INSERT ON task_runs\n"
    "    WHEN EXISTS (SELECT 1 FROM published_runs WHERE run_id = NEW.run_id)\n"
    "    BEGIN SELECT RAISE(ABORT, 'a published reference run is read-only (no task can be added to it)'); END;\n"
    "CREATE TRIGGER published_runs_no_update BEFORE UPDATE ON published_runs\n"
    "    BEGIN SELECT RAISE(ABORT, 'published reference runs are read-only'); END;\n"
    "CREATE TRIGGER published_runs_no_delete BEFORE DELETE ON published_runs\n"
    "    BEGIN SELECT RAISE(ABORT, 'published reference runs cannot be deleted'); END;\n"
    "CREATE TRIGGER published_scores_no_update BEFORE UPDATE ON published_scores\n"
    "    BEGIN SELECT RAISE(ABORT, 'published scores are read-only'); END;\n"
    "CREATE TRIGGER published_scores_no_delete BEFORE DELETE ON published_scores\n"
    "    BEGIN SELECT RAISE(ABORT, 'published scores cannot be deleted'); END;\n";

/* Version 4: the models row of a published run is read-only too (reports read its parameter and FLOP counts for
 * the scaling figure; version 3 left it writable). */
static const char migration_4_sql[] =
    "CREATE TRIGGER published_model_no_update BEFORE UPDATE ON models\n"
    "    WHEN EXISTS (SELECT 1 FROM runs r JOIN published_runs p ON p.run_id = r.id WHERE r.model_id = OLD.id)\n"
    "    BEGIN SELECT RAISE(ABORT, 'the model of a published reference run is read-only'); END;\n"
    "CREATE TRIGGER published_model_no_delete BEFORE DELETE ON models\n"
    "    WHEN EXISTS (SELECT 1 FROM runs r JOIN published_runs p ON p.run_id = r.id WHERE r.model_id = OLD.id)\n"
    "    BEGIN SELECT RAISE(ABORT, 'the model of a published reference run cannot be deleted'); END;\n";

/* Version 5: whether the runtime cut the prompt to fit the model's window (left-truncation, lm-eval's rule), so a
 * score computed from a cut prompt is never mistaken for one over the whole prompt. NULL: not known (answers stored
 * before this version, error responses, and endpoints given text prompts, which tokenize and may cut them
 * themselves). */
static const char migration_5_sql[] =
    "ALTER TABLE responses ADD COLUMN truncated INTEGER CHECK (truncated IS NULL OR truncated IN (0, 1));\n"
    "ALTER TABLE response_cache ADD COLUMN truncated INTEGER CHECK (truncated IS NULL OR truncated IN (0, 1));\n";

/* One step of the schema. Invariant: version == its position in migrations[] + 1. */
struct migration {
    int version;      /* user_version after this step */
    const char *name; /* a word for messages and `db info` */
    const char *sql;  /* statements run in one transaction; frozen once released */
};

static const struct migration migrations[] = {
    {.version = 1, .name = "base", .sql = migration_1_sql},
    {.version = 2, .name = "contamination", .sql = migration_2_sql},
    {.version = 3, .name = "published", .sql = migration_3_sql},
    {.version = 4, .name = "published-models", .sql = migration_4_sql},
    {.version = 5, .name = "truncation", .sql = migration_5_sql},
};
#define N_MIGRATIONS (sizeof migrations / sizeof migrations[0])

_Static_assert(N_MIGRATIONS == SCHEMA_VERSION, "SCHEMA_VERSION must be the last migration's version");

/* Every table of every version, in creation order (db info counts rows of those that exist). */
static const char *const tables[] = {
    "models",    "runs",    "task_runs", "documents",     "requests", "responses", "response_cache",
    "scores",    "metrics", "contamination_indexes",      "contamination_flags", "published_runs",
    "published_scores",
};

const char *schema_migration_name(int version)
{
    if (version < 1 || (size_t)version > N_MIGRATIONS)
        return NULL;
    return migrations[version - 1].name;
}

const char *schema_table_name(size_t i)
{
    return i < sizeof tables / sizeof tables[0] ? tables[i] : NULL;
}

/* Reports an SQLite failure as "<path>: <what>: <sqlite message>" with a code that says whose fault it is. */
static int db_error(sqlite3 *db, int rc, const char *path, const char *what, struct ge_error *err)
{
    int primary = rc & 0xff;
    int code = (primary == SQLITE_NOTADB || primary == SQLITE_CORRUPT) ? GE_ERR_FORMAT : GE_ERR_DB;
    const char *msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    if (primary == SQLITE_NOTADB)
        return ge_error_set(err, code, "%s: %s: not a SQLite database (%s)", path, what, msg);
    if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED)
        return ge_error_set(err, code, "%s: %s: the database is locked by another connection (%s)", path, what,
                            msg);
    return ge_error_set(err, code, "%s: %s: %s", path, what, msg);
}

/* Runs a single-row integer PRAGMA (constant text) into *out. */
static int pragma_int(sqlite3 *db, const char *path, const char *sql, int *out, struct ge_error *err)
{
    sqlite3_stmt *stmt = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &stmt, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(stmt);
    if (rc != SQLITE_ROW) {
        int ret = db_error(db, rc, path, sql, err);
        sqlite3_finalize(stmt);
        return ret;
    }
    *out = sqlite3_column_int(stmt, 0);
    sqlite3_finalize(stmt);
    return GE_OK;
}

int schema_read_version(struct sqlite3 *db, const char *path, int *user_version, int *application_id,
                        struct ge_error *err)
{
    int rc = pragma_int(db, path, "PRAGMA user_version", user_version, err);
    if (rc == GE_OK)
        rc = pragma_int(db, path, "PRAGMA application_id", application_id, err);
    return rc;
}

/* Fails when PRAGMA foreign_key_check finds a row whose parent is missing (names the first one). */
static int check_foreign_keys(sqlite3 *db, const char *path, const char *what, struct ge_error *err)
{
    sqlite3_stmt *stmt = NULL;
    int rc = sqlite3_prepare_v2(db, "PRAGMA foreign_key_check", -1, &stmt, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(stmt);
    int ret = GE_OK;
    if (rc == SQLITE_ROW)
        ret = ge_error_set(err, GE_ERR_DB, "%s: %s: table %s row %lld refers to a missing row of %s", path, what,
                           (const char *)sqlite3_column_text(stmt, 0), (long long)sqlite3_column_int64(stmt, 1),
                           (const char *)sqlite3_column_text(stmt, 2));
    else if (rc != SQLITE_DONE)
        ret = db_error(db, rc, path, what, err);
    sqlite3_finalize(stmt);
    return ret;
}

/* Applies one migration inside its own transaction; leaves the database unchanged when it fails. */
static int apply_one(sqlite3 *db, const char *path, const struct migration *m, struct ge_error *err)
{
    char what[128];
    char pragmas[160];
    int ret = GE_OK, version = 0, app_id = 0;
    snprintf(what, sizeof what, "migration %d (%s)", m->version, m->name);
    int rc = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    if (rc != SQLITE_OK)
        return db_error(db, rc, path, what, err);
    ret = schema_read_version(db, path, &version, &app_id, err);
    if (ret != GE_OK)
        goto out;
    if (version >= m->version)
        goto out; /* another connection applied it while we waited for the lock */
    if (version != m->version - 1) {
        ret = ge_error_set(err, GE_ERR_STATE, "%s: %s: the database is at version %d, expected %d", path, what,
                           version, m->version - 1);
        goto out;
    }
    rc = sqlite3_exec(db, m->sql, NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        ret = db_error(db, rc, path, what, err);
        goto out;
    }
    ret = check_foreign_keys(db, path, what, err);
    if (ret != GE_OK)
        goto out;
    /* PRAGMA operands cannot be bound; both numbers are compile-time constants of this file. */
    snprintf(pragmas, sizeof pragmas, "PRAGMA application_id = %d; PRAGMA user_version = %d", SCHEMA_APPLICATION_ID,
             m->version);
    rc = sqlite3_exec(db, pragmas, NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        ret = db_error(db, rc, path, what, err);
        goto out;
    }
    rc = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    if (rc != SQLITE_OK)
        ret = db_error(db, rc, path, what, err);
out:
    if (!sqlite3_get_autocommit(db))
        sqlite3_exec(db, ret == GE_OK ? "COMMIT" : "ROLLBACK", NULL, NULL, NULL);
    if (ret != GE_OK && ret != GE_ERR_STATE && err != NULL) {
        size_t n = strlen(err->msg);
        snprintf(err->msg + n, sizeof err->msg - n, "; the database stays at version %d", version);
    }
    return ret;
}

int schema_migrate(struct sqlite3 *db, const char *path, int target_version, int *from_version,
                   struct ge_error *err)
{
    int version = 0, app_id = 0;
    if (target_version < 0 || target_version > SCHEMA_VERSION)
        return ge_error_set(err, GE_ERR_STATE, "%s: cannot migrate to schema version %d: this program knows "
                                               "versions up to %d",
                            path, target_version, SCHEMA_VERSION);
    int ret = schema_read_version(db, path, &version, &app_id, err);
    if (ret != GE_OK)
        return ret;
    if (from_version != NULL)
        *from_version = version;
    if (version > target_version)
        return ge_error_set(err, GE_ERR_STATE, "%s: schema version %d is newer than the target version %d", path,
                            version, target_version);
    for (int v = version + 1; v <= target_version; v++) {
        ret = apply_one(db, path, &migrations[v - 1], err);
        if (ret != GE_OK)
            return ret;
    }
    return GE_OK;
}
