/* requests.c — requests to the model and their responses: idempotent insertion, the pending list a run loop
 * resumes from, atomic storage of a batch of responses with their cache entries, and reading a document's
 * responses back for scoring (contracts in store.h).
 *
 * Invariants: a request is pending exactly when no responses row refers to it; a request's hash is computed here
 * from its fields (identity.h), never taken from the caller, and generation settings are stored in the canonical
 * form that was hashed, so the hash can be recomputed from the row. Per-token log-probs are stored as a BLOB of
 * little-endian IEEE-754 float64 values, 8 bytes each, in token order, whatever the host's byte order. */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "results/cache.h"
#include "results/identity.h"
#include "results/store_int.h"

/* ---- value helpers shared with cache.c ---------------------------------------------------------------------- */

int store_bind_logprobs(const struct store *st, sqlite3_stmt *stmt, int col, const double *values, size_t n,
                        struct ge_error *err)
{
    if (values == NULL)
        return sqlite3_bind_null(stmt, col) == SQLITE_OK ? GE_OK
                                                         : ge_error_set(err, GE_ERR_DB, "%s: binding NULL", st->path);
    if (n > STORE_MAX_TOKEN_LOGPROBS)
        return ge_error_set(err, GE_ERR_LIMIT, "%s: %zu per-token log-probs exceed the limit of %zu", st->path, n,
                            STORE_MAX_TOKEN_LOGPROBS);
    if (n == 0)
        return sqlite3_bind_zeroblob(stmt, col, 0) == SQLITE_OK
                   ? GE_OK
                   : ge_error_set(err, GE_ERR_DB, "%s: binding an empty BLOB", st->path);
    unsigned char *buf = malloc(n * 8);
    if (buf == NULL)
        return ge_error_set(err, GE_ERR_NOMEM, "%s: out of memory encoding %zu log-probs", st->path, n);
    for (size_t i = 0; i < n; i++) {
        uint64_t bits;
        memcpy(&bits, &values[i], 8);
        for (int b = 0; b < 8; b++)
            buf[8 * i + (size_t)b] = (unsigned char)(bits >> (8 * b));
    }
    /* SQLite owns buf from here and frees it with free(), also when binding fails. */
    if (sqlite3_bind_blob64(stmt, col, buf, (sqlite3_uint64)n * 8, free) != SQLITE_OK)
        return ge_error_set(err, GE_ERR_DB, "%s: binding %zu log-probs", st->path, n);
    return GE_OK;
}

int store_column_logprobs(const struct store *st, sqlite3_stmt *stmt, int col, const char *what, double **values,
                          size_t *n, struct ge_error *err)
{
    *values = NULL;
    *n = 0;
    if (sqlite3_column_type(stmt, col) == SQLITE_NULL)
        return GE_OK;
    const unsigned char *blob = sqlite3_column_blob(stmt, col);
    size_t bytes = (size_t)sqlite3_column_bytes(stmt, col);
    if (bytes % 8 != 0)
        return ge_error_set(err, GE_ERR_FORMAT, "%s: %s: token_logprobs holds %zu bytes, not a multiple of 8",
                            st->path, what, bytes);
    if (bytes / 8 > STORE_MAX_TOKEN_LOGPROBS)
        return ge_error_set(err, GE_ERR_LIMIT, "%s: %s: %zu per-token log-probs exceed the limit of %zu", st->path,
                            what, bytes / 8, STORE_MAX_TOKEN_LOGPROBS);
    if (bytes == 0)
        return GE_OK;
    *values = malloc(bytes);
    if (*values == NULL)
        return ge_error_set(err, GE_ERR_NOMEM, "%s: %s: out of memory decoding %zu log-probs", st->path, what,
                            bytes / 8);
    for (size_t i = 0; i < bytes / 8; i++) {
        uint64_t bits = 0;
        for (int b = 0; b < 8; b++)
            bits |= (uint64_t)blob[8 * i + (size_t)b] << (8 * b);
        memcpy(&(*values)[i], &bits, 8);
    }
    *n = bytes / 8;
    return GE_OK;
}

int store_bind_response_values(const struct store *st, sqlite3_stmt *stmt, int first, const struct store_response *r,
                               struct ge_error *err)
{
    if (!(r->latency_ms >= 0) || r->is_greedy < -1 || r->is_greedy > 1 || r->n_tokens < -1 || r->truncated < -1 ||
        r->truncated > 1)
        return ge_error_set(err, GE_ERR_USAGE,
                            "%s: response to request %lld: latency must be >= 0, is_greedy and truncated -1/0/1, "
                            "n_tokens >= -1", st->path, (long long)r->request_id);
    if (r->token_logprobs != NULL && (r->n_tokens < 0 || r->n_token_logprobs != (size_t)r->n_tokens))
        return ge_error_set(err, GE_ERR_USAGE, "%s: response to request %lld: %zu per-token log-probs for %lld tokens",
                            st->path, (long long)r->request_id, r->n_token_logprobs, (long long)r->n_tokens);
    int ret = store_check_text(st, "generated text", r->text, err);
    if (ret != GE_OK)
        return ret;
    if (!isnan(r->logprob))
        sqlite3_bind_double(stmt, first, r->logprob);
    if (r->n_tokens >= 0)
        sqlite3_bind_int64(stmt, first + 1, r->n_tokens);
    if (r->is_greedy >= 0)
        sqlite3_bind_int(stmt, first + 2, r->is_greedy);
    if ((ret = store_bind_logprobs(st, stmt, first + 3, r->token_logprobs, r->n_token_logprobs, err)) != GE_OK)
        return ret;
    store_bind_text(stmt, first + 4, r->text);
    sqlite3_bind_double(stmt, first + 5, r->latency_ms);
    if (r->truncated >= 0)
        sqlite3_bind_int(stmt, first + 6, r->truncated);
    return GE_OK;
}

int store_column_response_values(const struct store *st, sqlite3_stmt *stmt, int first, const char *what,
                                 struct store_response *r, struct ge_error *err)
{
    r->logprob = sqlite3_column_type(stmt, first) == SQLITE_NULL ? NAN : sqlite3_column_double(stmt, first);
    r->n_tokens = sqlite3_column_type(stmt, first + 1) == SQLITE_NULL ? -1 : sqlite3_column_int64(stmt, first + 1);
    r->is_greedy = sqlite3_column_type(stmt, first + 2) == SQLITE_NULL ? -1 : sqlite3_column_int(stmt, first + 2);
    r->latency_ms = sqlite3_column_double(stmt, first + 5);
    r->truncated = sqlite3_column_type(stmt, first + 6) == SQLITE_NULL ? -1 : sqlite3_column_int(stmt, first + 6);
    int ret = store_column_logprobs(st, stmt, first + 3, what, &r->token_logprobs, &r->n_token_logprobs, err);
    if (ret == GE_OK)
        ret = store_column_text(st, stmt, first + 4, what, &r->text, err);
    return ret;
}

void store_response_release(struct store_response *r)
{
    free(r->token_logprobs);
    free(r->text);
    free(r->error);
    r->token_logprobs = NULL;
    r->n_token_logprobs = 0;
    r->text = NULL;
    r->error = NULL;
}

/* ---- requests ----------------------------------------------------------------------------------------------- */

static const char SQL_REQ_FIND[] =
    "SELECT request_hash FROM requests WHERE task_run_id = ?1 AND doc_index = ?2 AND req_index = ?3";
static const char SQL_REQ_INSERT[] =
    "INSERT INTO requests (task_run_id, doc_index, req_index, type, context, continuation, gen_settings, "
    "fewshot_ids, request_hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)";

static int put_request(struct store *st, int64_t task_run_id, const struct store_request *req, struct ge_error *err)
{
    char hex[65], what[128];
    char *canonical = NULL;
    sqlite3_stmt *q = NULL;
    snprintf(what, sizeof what, "task run %lld document %lld request %d", (long long)task_run_id,
             (long long)req->doc_index, req->req_index);
    if (req->doc_index < 0 || req->req_index < 0)
        return ge_error_set(err, GE_ERR_USAGE, "%s: %s: indices must be >= 0", st->path, what);
    int ret = identity_request_hash(req, hex, err);
    if (ret != GE_OK) {
        ge_error_prefix(err, "%s: %s: ", st->path, what);
        return ret;
    }
    if ((ret = store_stmt(st, STMT_REQ_FIND, SQL_REQ_FIND, &q, err)) != GE_OK)
        return ret;
    sqlite3_bind_int64(q, 1, task_run_id);
    sqlite3_bind_int64(q, 2, req->doc_index);
    sqlite3_bind_int(q, 3, req->req_index);
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
        const char *stored = (const char *)sqlite3_column_text(q, 0);
        if (stored == NULL || strcmp(stored, hex) != 0)
            ret = ge_error_set(err, GE_ERR_STATE,
                               "%s: %s is stored with different content (hash %.12s…, now %.12s…); the prompt "
                               "changed since the run started",
                               st->path, what, stored ? stored : "", hex);
        store_stmt_done(q);
        return ret;
    }
    store_stmt_done(q);
    if (rc != SQLITE_DONE)
        return store_fail(st, rc, what, err);
    if (req->type == STORE_REQ_GENERATE &&
        (ret = identity_json_canonical(req->gen_settings_json, &canonical, err)) != GE_OK) {
        ge_error_prefix(err, "%s: %s: ", st->path, what);
        return ret;
    }
    if ((ret = store_stmt(st, STMT_REQ_INSERT, SQL_REQ_INSERT, &q, err)) != GE_OK)
        goto out;
    sqlite3_bind_int64(q, 1, task_run_id);
    sqlite3_bind_int64(q, 2, req->doc_index);
    sqlite3_bind_int(q, 3, req->req_index);
    sqlite3_bind_text(q, 4, store_request_type_name(req->type), -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 5, req->context, -1, SQLITE_STATIC);
    store_bind_text(q, 6, req->continuation);
    store_bind_text(q, 7, canonical);
    sqlite3_bind_text(q, 8, req->fewshot_ids_json ? req->fewshot_ids_json : "[]", -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 9, hex, -1, SQLITE_STATIC);
    rc = sqlite3_step(q);
    if (rc != SQLITE_DONE)
        ret = store_fail(st, rc, what, err);
    store_stmt_done(q);
    if (rc == SQLITE_CONSTRAINT_FOREIGNKEY)
        ge_error_set(err, GE_ERR_DB, "%s: %s: no such document in this task run (store documents first)", st->path,
                     what);
out:
    free(canonical);
    return ret;
}

int store_put_requests(struct store *st, int64_t task_run_id, size_t n, const struct store_request *reqs,
                       struct ge_error *err)
{
    int ret = store_begin(st, err);
    if (ret != GE_OK)
        return ret;
    for (size_t i = 0; i < n && ret == GE_OK; i++)
        ret = put_request(st, task_run_id, &reqs[i], err);
    return store_tx_end(st, ret, err);
}

/* ---- pending list ------------------------------------------------------------------------------------------- */

static const char SQL_REQ_PENDING[] =
    "SELECT r.id, r.doc_index, r.req_index, r.type, r.context, r.continuation, r.gen_settings, r.request_hash "
    "FROM requests r WHERE r.task_run_id = ?1 "
    "AND NOT EXISTS (SELECT 1 FROM responses s WHERE s.request_id = r.id) "
    "ORDER BY r.doc_index, r.req_index LIMIT ?2";

static int parse_type(const char *s, enum store_request_type *out)
{
    for (int i = STORE_REQ_LOGLIKELIHOOD; i <= STORE_REQ_GENERATE; i++)
        if (s != NULL && strcmp(s, store_request_type_name((enum store_request_type)i)) == 0) {
            *out = (enum store_request_type)i;
            return 1;
        }
    return 0;
}

/* Makes room for one more element in a growing array (*items is replaced on success); the count comes from the
 * database, so failure is reported, not fatal. */
static int grow(const struct store *st, void *items, size_t n, size_t *cap, size_t size, void **out,
                struct ge_error *err)
{
    *out = items;
    if (n < *cap)
        return GE_OK;
    size_t ncap = *cap ? *cap * 2 : 16;
    void *p = ncap <= SIZE_MAX / size ? realloc(items, ncap * size) : NULL;
    if (p == NULL)
        return ge_error_set(err, GE_ERR_NOMEM, "%s: out of memory listing %zu rows", st->path, ncap);
    *out = p;
    *cap = ncap;
    return GE_OK;
}

int store_list_pending(struct store *st, int64_t task_run_id, size_t max, struct store_pending_list *out,
                       struct ge_error *err)
{
    sqlite3_stmt *q = NULL;
    size_t cap = 0;
    store_pending_list_release(out);
    if (max == 0)
        return ge_error_set(err, GE_ERR_USAGE, "%s: store_list_pending needs max > 0", st->path);
    int ret = store_stmt(st, STMT_REQ_PENDING, SQL_REQ_PENDING, &q, err);
    if (ret != GE_OK)
        return ret;
    sqlite3_bind_int64(q, 1, task_run_id);
    sqlite3_bind_int64(q, 2, max > INT64_MAX ? INT64_MAX : (int64_t)max);
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        void *items = NULL;
        if ((ret = grow(st, out->items, out->n, &cap, sizeof *out->items, &items, err)) != GE_OK)
            goto out;
        out->items = items;
        struct store_pending *p = &out->items[out->n++];
        memset(p, 0, sizeof *p);
        p->request_id = sqlite3_column_int64(q, 0);
        p->doc_index = sqlite3_column_int64(q, 1);
        p->req_index = sqlite3_column_int(q, 2);
        const char *hash = (const char *)sqlite3_column_text(q, 7);
        snprintf(p->request_hash, sizeof p->request_hash, "%s", hash ? hash : "");
        char what[64];
        snprintf(what, sizeof what, "request %lld", (long long)p->request_id);
        if (!parse_type((const char *)sqlite3_column_text(q, 3), &p->type)) {
            ret = ge_error_set(err, GE_ERR_FORMAT, "%s: %s has an unknown type", st->path, what);
            goto out;
        }
        if ((ret = store_column_text(st, q, 4, what, &p->context, err)) != GE_OK ||
            (ret = store_column_text(st, q, 5, what, &p->continuation, err)) != GE_OK ||
            (ret = store_column_text(st, q, 6, what, &p->gen_settings_json, err)) != GE_OK)
            goto out;
    }
    if (rc != SQLITE_DONE)
        ret = store_fail(st, rc, "listing pending requests", err);
out:
    store_stmt_done(q);
    if (ret != GE_OK)
        store_pending_list_release(out);
    return ret;
}

static const char SQL_REQ_COUNT[] =
    "SELECT count(*), count(r.id) FROM requests q LEFT JOIN responses r ON r.request_id = q.id "
    "WHERE q.task_run_id = ?1";

int store_count_requests(struct store *st, int64_t task_run_id, uint64_t *total, uint64_t *answered,
                         struct ge_error *err)
{
    sqlite3_stmt *q = NULL;
    *total = *answered = 0;
    int ret = store_stmt(st, STMT_REQ_COUNT, SQL_REQ_COUNT, &q, err);
    if (ret != GE_OK)
        return ret;
    sqlite3_bind_int64(q, 1, task_run_id);
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
        *total = (uint64_t)sqlite3_column_int64(q, 0);
        *answered = (uint64_t)sqlite3_column_int64(q, 1);
    } else {
        ret = store_fail(st, rc, "counting requests", err);
    }
    store_stmt_done(q);
    return ret;
}

void store_pending_list_release(struct store_pending_list *list)
{
    for (size_t i = 0; i < list->n; i++) {
        free(list->items[i].context);
        free(list->items[i].continuation);
        free(list->items[i].gen_settings_json);
    }
    free(list->items);
    list->items = NULL;
    list->n = 0;
}

/* ---- responses ---------------------------------------------------------------------------------------------- */

static const char SQL_REQ_FOR_RESPONSE[] =
    "SELECT r.request_hash, m.identity_hash, r.type, "
    "EXISTS (SELECT 1 FROM responses s WHERE s.request_id = r.id) "
    "FROM requests r JOIN task_runs t ON t.id = r.task_run_id JOIN runs u ON u.id = t.run_id "
    "JOIN models m ON m.id = u.model_id WHERE r.id = ?1";
static const char SQL_RESP_INSERT[] =
    "INSERT INTO responses (request_id, logprob, n_tokens, is_greedy, token_logprobs, text, latency_ms, truncated, "
    "cached, error) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)";

/* Checks that a response carries what its request type needs. */
static int check_response_fits(const struct store *st, const struct store_response *r, enum store_request_type type,
                               struct ge_error *err)
{
    const char *missing = NULL;
    if (r->error != NULL) {
        if (!isnan(r->logprob) || r->text != NULL || r->cached)
            return ge_error_set(err, GE_ERR_USAGE, "%s: error response to request %lld has a value or is cached",
                                st->path, (long long)r->request_id);
        return store_check_text(st, "response error", r->error, err);
    }
    if (type != STORE_REQ_GENERATE && isnan(r->logprob))
        missing = "a log-probability";
    else if (type == STORE_REQ_LOGLIKELIHOOD && r->is_greedy < 0)
        missing = "an is_greedy flag";
    else if (type == STORE_REQ_GENERATE && r->text == NULL)
        missing = "generated text";
    if (missing == NULL)
        return GE_OK;
    return ge_error_set(err, GE_ERR_USAGE, "%s: response to %s request %lld lacks %s", st->path,
                        store_request_type_name(type), (long long)r->request_id, missing);
}

static int put_response(struct store *st, const struct store_response *r, struct ge_error *err)
{
    char what[64], request_hash[65], model_hash[65];
    sqlite3_stmt *q = NULL;
    enum store_request_type type = STORE_REQ_LOGLIKELIHOOD;
    snprintf(what, sizeof what, "response to request %lld", (long long)r->request_id);
    int ret = store_stmt(st, STMT_REQ_FOR_RESPONSE, SQL_REQ_FOR_RESPONSE, &q, err);
    if (ret != GE_OK)
        return ret;
    sqlite3_bind_int64(q, 1, r->request_id);
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
        const char *rh = (const char *)sqlite3_column_text(q, 0), *mh = (const char *)sqlite3_column_text(q, 1);
        snprintf(request_hash, sizeof request_hash, "%s", rh ? rh : "");
        snprintf(model_hash, sizeof model_hash, "%s", mh ? mh : "");
        if (!parse_type((const char *)sqlite3_column_text(q, 2), &type))
            ret = ge_error_set(err, GE_ERR_FORMAT, "%s: %s: the request has an unknown type", st->path, what);
        else if (sqlite3_column_int(q, 3))
            ret = ge_error_set(err, GE_ERR_STATE, "%s: %s: the request already has a response (written by another "
                               "process that did not hold the run's lock: an older glam-eval, or a copy on another "
                               "machine where the lock file does not work?)", st->path, what);
    } else if (rc == SQLITE_DONE) {
        ret = ge_error_set(err, GE_ERR_STATE, "%s: %s: there is no such request", st->path, what);
    } else {
        ret = store_fail(st, rc, what, err);
    }
    store_stmt_done(q);
    if (ret != GE_OK || (ret = check_response_fits(st, r, type, err)) != GE_OK)
        return ret;
    if ((ret = store_stmt(st, STMT_RESP_INSERT, SQL_RESP_INSERT, &q, err)) != GE_OK)
        return ret;
    sqlite3_bind_int64(q, 1, r->request_id);
    sqlite3_bind_int(q, 9, r->cached ? 1 : 0);
    store_bind_text(q, 10, r->error);
    if ((ret = store_bind_response_values(st, q, 2, r, err)) == GE_OK) {
        rc = sqlite3_step(q);
        if (rc != SQLITE_DONE)
            ret = store_fail(st, rc, what, err);
    }
    store_stmt_done(q);
    if (ret == GE_OK && !r->cached && r->error == NULL)
        ret = cache_put(st, model_hash, request_hash, r, err);
    return ret;
}

int store_put_responses(struct store *st, size_t n, const struct store_response *responses, struct ge_error *err)
{
    int ret = store_begin(st, err);
    if (ret != GE_OK)
        return ret;
    for (size_t i = 0; i < n && ret == GE_OK; i++)
        ret = put_response(st, &responses[i], err);
    return store_tx_end(st, ret, err);
}

static const char SQL_RESP_FOR_DOC[] =
    "SELECT r.id, r.req_index, s.id, s.logprob, s.n_tokens, s.is_greedy, s.token_logprobs, s.text, s.latency_ms, "
    "s.truncated, s.cached, s.error FROM requests r LEFT JOIN responses s ON s.request_id = r.id "
    "WHERE r.task_run_id = ?1 AND r.doc_index = ?2 ORDER BY r.req_index";

int store_get_doc_responses(struct store *st, int64_t task_run_id, int64_t doc_index,
                            struct store_response_list *out, struct ge_error *err)
{
    sqlite3_stmt *q = NULL;
    size_t cap = 0, n_pending = 0;
    store_response_list_release(out);
    int ret = store_stmt(st, STMT_RESP_FOR_DOC, SQL_RESP_FOR_DOC, &q, err);
    if (ret != GE_OK)
        return ret;
    sqlite3_bind_int64(q, 1, task_run_id);
    sqlite3_bind_int64(q, 2, doc_index);
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        if (sqlite3_column_type(q, 2) == SQLITE_NULL) {
            n_pending++;
            continue;
        }
        void *items = NULL;
        if ((ret = grow(st, out->items, out->n, &cap, sizeof *out->items, &items, err)) != GE_OK)
            goto out;
        out->items = items;
        struct store_response *r = &out->items[out->n++];
        memset(r, 0, sizeof *r);
        r->request_id = sqlite3_column_int64(q, 0);
        r->req_index = sqlite3_column_int(q, 1);
        r->cached = sqlite3_column_int(q, 10);
        char what[64];
        snprintf(what, sizeof what, "response to request %lld", (long long)r->request_id);
        if ((ret = store_column_response_values(st, q, 3, what, r, err)) != GE_OK ||
            (ret = store_column_text(st, q, 11, what, &r->error, err)) != GE_OK)
            goto out;
    }
    if (rc != SQLITE_DONE)
        ret = store_fail(st, rc, "reading a document's responses", err);
    else if (n_pending > 0)
        ret = ge_error_set(err, GE_ERR_STATE, "%s: task run %lld document %lld has %zu requests without a response",
                           st->path, (long long)task_run_id, (long long)doc_index, n_pending);
    else if (out->n == 0)
        ret = ge_error_set(err, GE_ERR_NOTFOUND, "%s: task run %lld document %lld has no requests", st->path,
                           (long long)task_run_id, (long long)doc_index);
out:
    store_stmt_done(q);
    if (ret != GE_OK)
        store_response_list_release(out);
    return ret;
}

void store_response_list_release(struct store_response_list *list)
{
    for (size_t i = 0; i < list->n; i++)
        store_response_release(&list->items[i]);
    free(list->items);
    list->items = NULL;
    list->n = 0;
}
