/* cache.c — the response cache table, keyed by (model identity hash, request hash) (contract in cache.h).
 *
 * Invariant: every lookup and insert binds both hashes; there is no statement that reads the cache by request
 * hash alone. Value columns are shared with the responses table (store_bind/column_response_values). */
#include "config.h"

#include <string.h>

#include "harness/sha256.h"
#include "results/cache.h"
#include "results/store_int.h"

static const char SQL_CACHE_GET[] =
    "SELECT logprob, n_tokens, is_greedy, token_logprobs, text, latency_ms, truncated FROM response_cache "
    "WHERE model_hash = ?1 AND request_hash = ?2";
static const char SQL_CACHE_PUT[] =
    "INSERT INTO response_cache (model_hash, request_hash, logprob, n_tokens, is_greedy, token_logprobs, text, "
    "latency_ms, truncated) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) "
    "ON CONFLICT (model_hash, request_hash) DO NOTHING";

static int check_hashes(const struct store *st, const char *model_hash, const char *request_hash,
                        struct ge_error *err)
{
    if (!sha256_is_hex(model_hash) || !sha256_is_hex(request_hash))
        return ge_error_set(err, GE_ERR_USAGE, "%s: response cache: the %s hash is not 64 lowercase hex characters",
                            st->path, sha256_is_hex(model_hash) ? "request" : "model");
    return GE_OK;
}

int cache_get(struct store *st, const char *model_hash, const char *request_hash, struct store_response *out,
              int *found, struct ge_error *err)
{
    sqlite3_stmt *q = NULL;
    memset(out, 0, sizeof *out);
    *found = 0;
    int ret = check_hashes(st, model_hash, request_hash, err);
    if (ret != GE_OK || (ret = store_stmt(st, STMT_CACHE_GET, SQL_CACHE_GET, &q, err)) != GE_OK)
        return ret;
    sqlite3_bind_text(q, 1, model_hash, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, request_hash, -1, SQLITE_STATIC);
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
        ret = store_column_response_values(st, q, 0, "response cache entry", out, err);
        out->cached = 1;
        *found = ret == GE_OK;
    } else if (rc != SQLITE_DONE) {
        ret = store_fail(st, rc, "reading the response cache", err);
    }
    store_stmt_done(q);
    if (ret != GE_OK) {
        store_response_release(out);
        memset(out, 0, sizeof *out);
    }
    return ret;
}

int cache_put(struct store *st, const char *model_hash, const char *request_hash, const struct store_response *r,
              struct ge_error *err)
{
    sqlite3_stmt *q = NULL;
    int ret = check_hashes(st, model_hash, request_hash, err);
    if (ret == GE_OK && r->error != NULL)
        ret = ge_error_set(err, GE_ERR_USAGE, "%s: response cache: an error response is not an answer to cache",
                           st->path);
    if (ret != GE_OK || (ret = store_begin(st, err)) != GE_OK)
        return ret;
    if ((ret = store_stmt(st, STMT_CACHE_PUT, SQL_CACHE_PUT, &q, err)) != GE_OK)
        return store_tx_end(st, ret, err);
    sqlite3_bind_text(q, 1, model_hash, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, request_hash, -1, SQLITE_STATIC);
    if ((ret = store_bind_response_values(st, q, 3, r, err)) == GE_OK) {
        int rc = sqlite3_step(q);
        if (rc == SQLITE_CONSTRAINT_FOREIGNKEY)
            ret = ge_error_set(err, GE_ERR_DB, "%s: response cache: no stored model has identity hash %s", st->path,
                               model_hash);
        else if (rc != SQLITE_DONE)
            ret = store_fail(st, rc, "storing a response cache entry", err);
    }
    store_stmt_done(q);
    return store_tx_end(st, ret, err);
}
