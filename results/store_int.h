/* store_int.h — what the files implementing the results store share, and nobody else may use.
 *
 * The store is one public contract (store.h, cache.h) implemented by several files, one concept each:
 * store.c (connection, checks, transactions, statements, errors, info), records.c (models, runs, task runs,
 * documents, scores, metrics), requests.c (requests, pending list, responses) and cache.c (the response
 * cache). They share the layout of struct store and the helpers below.
 *
 * Statements: every SQL statement is constant text prepared once per connection (store_stmt) and bound with
 * sqlite3_bind_*; values are never spliced into SQL. A statement is reset by store_stmt before use and must be
 * reset by its user when done (store_stmt_done), so no statement keeps a read snapshot open between calls. */
#ifndef GE_STORE_INT_H
#define GE_STORE_INT_H

#include <sqlite3.h>
#include <stdint.h>

#include "harness/error.h"
#include "results/store.h"

/* One slot per cached statement; the SQL text lives beside the function that uses it. */
enum store_stmt_id {
    STMT_BEGIN,
    STMT_COMMIT,
    STMT_ROLLBACK,
    STMT_SAVEPOINT,
    STMT_RELEASE,
    STMT_ROLLBACK_TO,
    STMT_MODEL_FIND,
    STMT_MODEL_INSERT,
    STMT_RUN_INSERT,
    STMT_RUN_GET,
    STMT_RUN_SET_STATUS,
    STMT_TASK_FIND,
    STMT_TASK_INSERT,
    STMT_TASK_SET_STATUS,
    STMT_DOC_FIND,
    STMT_DOC_INSERT,
    STMT_SCORE_PUT,
    STMT_METRIC_PUT,
    STMT_REQ_FIND,
    STMT_REQ_INSERT,
    STMT_REQ_PENDING,
    STMT_REQ_COUNT,
    STMT_REQ_FOR_RESPONSE,
    STMT_RESP_INSERT,
    STMT_RESP_FOR_DOC,
    STMT_CACHE_GET,
    STMT_CACHE_PUT,
    STMT_COUNT
};

/* An open results database. Invariants: db is open with foreign keys on and extended result codes; when
 * schema_version == SCHEMA_VERSION every table of the current schema exists; tx_depth counts store_begin calls
 * not yet matched (0 = autocommit); stmts[i] is NULL or a statement prepared from stmt_sql[i]. */
struct store {
    sqlite3 *db;                      /* owned connection */
    char *path;                       /* owned copy of the path given to store_open */
    enum store_mode mode;
    int busy_timeout_ms;              /* > 0 */
    int schema_version;               /* user_version after open and migration */
    int version_at_open;              /* user_version found before any migration */
    int immutable;                    /* opened as an immutable URI (a WAL database in a read-only directory) */
    int tx_depth;                     /* nesting of open transactions; > 1 means savepoints */
    int tx_aborted;                   /* SQLite rolled back the outer transaction under an inner level */
    sqlite3_stmt *stmts[STMT_COUNT];  /* lazily prepared, owned */
    const char *stmt_sql[STMT_COUNT]; /* the constant text each slot was prepared from */
};

/* Sets *out to the statement for slot id, prepared from sql on first use, reset and with bindings cleared.
 * Fails (*out NULL) when the schema is older than SCHEMA_VERSION, an enclosing transaction was rolled back by
 * SQLite, or preparation fails. Every use of a slot must pass the same sql. */
int store_stmt(struct store *st, enum store_stmt_id id, const char *sql, sqlite3_stmt **out, struct ge_error *err);
/* Resets a statement returned by store_stmt (NULL is a no-op). */
void store_stmt_done(sqlite3_stmt *stmt);

/* Formats an SQLite failure rc of operation `what` as "<path>: <what>: <explanation>" and returns the matching
 * GE_ERR_* code. Call it before anything else touches the connection (the message is the connection's last). */
int store_fail(struct store *st, int rc, const char *what, struct ge_error *err);

/* Internal transaction helpers behind store_begin/commit/rollback: store_tx_end commits when ret == GE_OK and
 * rolls back otherwise, returning ret (or the commit's failure). Typical use:
 *     if ((ret = store_begin(st, err)) != GE_OK) return ret;
 *     ... ret = ...;
 *     return store_tx_end(st, ret, err); */
int store_tx_end(struct store *st, int ret, struct ge_error *err);

/* Validates an ISO-8601 UTC timestamp "YYYY-MM-DDTHH:MM:SS[.f+]Z" (field names it in the message). */
int store_check_timestamp(const struct store *st, const char *field, const char *value, struct ge_error *err);
/* Fails with GE_ERR_LIMIT when s (field, may be NULL) is longer than STORE_TEXT_LIMIT. */
int store_check_text(const struct store *st, const char *field, const char *s, struct ge_error *err);

/* Binds s as text, or NULL when s is NULL. */
int store_bind_text(sqlite3_stmt *stmt, int col, const char *s);
/* Copies a column's text into *out (NULL for SQL NULL), failing with GE_ERR_LIMIT past STORE_TEXT_LIMIT and
 * GE_ERR_NOMEM when malloc fails; what names the row in messages. */
int store_column_text(const struct store *st, sqlite3_stmt *stmt, int col, const char *what, char **out,
                      struct ge_error *err);

/* Per-token log-probs as a little-endian float64 BLOB (docs/schema.md). Encoding binds the values (NULL when
 * n == 0 and values == NULL); decoding reads a column into a new array (caller frees) and checks the length. */
int store_bind_logprobs(const struct store *st, sqlite3_stmt *stmt, int col, const double *values, size_t n,
                        struct ge_error *err);
int store_column_logprobs(const struct store *st, sqlite3_stmt *stmt, int col, const char *what, double **values,
                          size_t *n, struct ge_error *err);

/* Binds the value fields of a response to columns first..first+6 in the order logprob, n_tokens, is_greedy,
 * token_logprobs, text, latency_ms, truncated (shared by responses and the response cache); validates them first. */
int store_bind_response_values(const struct store *st, sqlite3_stmt *stmt, int first, const struct store_response *r,
                               struct ge_error *err);
/* Reads the same seven columns starting at first into r (owned strings and arrays). */
int store_column_response_values(const struct store *st, sqlite3_stmt *stmt, int first, const char *what,
                                 struct store_response *r, struct ge_error *err);

#endif
