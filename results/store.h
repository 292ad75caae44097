/* store.h — glam-eval's results store: one SQLite file (--db FILE, default ./glam-eval.db) that holds models,
 * runs, every request sent to a model and its response, per-example scores and aggregate metrics. Every report
 * is computed from it; docs/schema.md describes each table and column.
 *
 * Guarantees:
 *   - Atomicity: every function that writes does so in one transaction (or inside the caller's, see
 *     store_begin), so a process killed at any instant (kill -9) leaves all of a call's rows or none of them.
 *     The database runs in WAL mode with synchronous=FULL and foreign keys enforced.
 *   - Safety of the file: a file that is not a SQLite database, fails PRAGMA quick_check, belongs to another
 *     application, or has a newer schema than this program knows is refused with a message naming the file and
 *     the problem, and is never modified. STORE_MODE_READ never creates or modifies the database file (like any
 *     SQLite WAL reader it may leave empty -wal/-shm files beside it).
 *   - Resumability: requests are inserted idempotently, keyed by (task run, document index, request index), and
 *     a request is pending until its response is stored; responses of a batch are stored with their cache
 *     entries in one transaction.
 *   - Cache isolation: the response cache is keyed by (model identity hash, request hash) (results/cache.h).
 *
 * Conventions: functions return 0 or a negative GE_ERR_* code and fill err with a message that starts with the
 * database path. Arguments are borrowed for the duration of the call. Timestamps are ISO-8601 UTC text
 * ("2024-05-01T12:00:00Z", optional fractional seconds "…:00.250Z") supplied by the caller; the store never
 * reads the clock. JSON arguments must be valid JSON (the database checks). Text values are limited to
 * STORE_TEXT_LIMIT bytes, so every value written can be read back. A struct store is used by one thread at a
 * time; several processes may share one file (writers take turns, waiting up to the busy timeout). */
#ifndef GE_STORE_H
#define GE_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "harness/error.h"

#define STORE_DEFAULT_PATH "glam-eval.db"
#define STORE_DEFAULT_BUSY_MS 5000                 /* how long a write waits for another writer's lock */
#define STORE_TEXT_LIMIT ((size_t)64 << 20)        /* bytes in one stored text (context, generation, JSON) */
#define STORE_MAX_TOKEN_LOGPROBS ((size_t)1 << 24) /* per-token log-probs in one response */

struct store; /* an open database connection; opaque */

enum store_mode {
    STORE_MODE_READ,  /* reports and `db info`: read-only; the file must exist; any schema version up to the
                         current one opens, but reading records needs the current version */
    STORE_MODE_WRITE, /* runs: read-write; creates the file if missing; migrates it to the current version */
};

/* Opens path. busy_timeout_ms <= 0 means STORE_DEFAULT_BUSY_MS. Checks, in order and before anything is
 * written: the file exists (READ), it is a SQLite database with the glam-eval application id (or an empty
 * file, WRITE only), its schema is not newer than SCHEMA_VERSION (results/schema.h), and PRAGMA quick_check passes. WRITE then sets
 * WAL mode and applies pending migrations. On success *out is a new store (close with store_close); on failure
 * *out is NULL and err says what is wrong with which file: GE_ERR_NOTFOUND (missing, READ), GE_ERR_FORMAT (not a
 * database, corrupt, another application's database), GE_ERR_STATE (newer schema; empty file opened for
 * reading), GE_ERR_DB (locked past the busy timeout, read-only file or directory opened for writing),
 * GE_ERR_IO (cannot open or create). A read-only directory holding a cleanly closed WAL database is opened for
 * reading as immutable (no -shm file can be made there, and no writer can be active). */
int store_open(const char *path, enum store_mode mode, int busy_timeout_ms, struct store **out,
               struct ge_error *err);
/* store_open(path, STORE_MODE_WRITE, ...) for a database that must already exist: a missing file is
 * GE_ERR_NOTFOUND and nothing is created. */
int store_open_existing(const char *path, int busy_timeout_ms, struct store **out, struct ge_error *err);
/* Rolls back an open transaction, finalises statements and closes the connection. NULL is a no-op. */
void store_close(struct store *st);
/* The path given to store_open (owned by st). */
const char *store_path(const struct store *st);
/* The schema version of the open database (SCHEMA_VERSION unless opened for reading at an older version). */
int store_schema_version(const struct store *st);

/* `glam-eval db migrate`: opens an existing database for writing (never creates it), applies pending migrations
 * (each in its own transaction) and closes it. *from_version and *to_version (may be NULL) receive the versions
 * before and after; equal when there was nothing to do. Fails like store_open. */
int store_migrate(const char *path, int busy_timeout_ms, int *from_version, int *to_version, struct ge_error *err);

/* Transactions. store_begin starts a write transaction (BEGIN IMMEDIATE: it waits for the write lock up to the
 * busy timeout, so later statements cannot fail with a lock conflict). Calls nest: an inner begin is a
 * savepoint, and store_rollback undoes only up to the matching begin. Every write function below also nests
 * this way, so a caller may group several calls into one all-or-nothing unit. store_commit makes the outermost
 * transaction durable (an inner commit releases its savepoint into the enclosing transaction); on failure that
 * level is rolled back. Either way store_commit and store_rollback end the level the matching store_begin opened.
 * store_rollback never fails (if SQLite already rolled back after an I/O error, every call inside the enclosing
 * transaction fails with GE_ERR_STATE until the caller rolls it back too). */
int store_begin(struct store *st, struct ge_error *err);
int store_commit(struct store *st, struct ge_error *err);
void store_rollback(struct store *st);

/* ---- models ------------------------------------------------------------------------------------------------ */

enum store_model_kind {
    STORE_MODEL_LOCAL,  /* a checkpoint this program runs; identity covers config, weights and tokenizer */
    STORE_MODEL_REMOTE, /* a served model; identity covers endpoint URL and served model name */
};

/* A model description (borrowed strings). identity_hash comes from identity_model_local/remote
 * (results/identity.h). Unknown numbers are negative and stored as NULL; unknown strings are NULL. */
struct store_model {
    const char *identity_hash; /* 64 lowercase hex characters */
    enum store_model_kind kind;
    const char *name;          /* display name, e.g. "glam-tiny" */
    const char *architecture;  /* e.g. "llama", "moe-decoder"; may be NULL */
    int64_t n_params;          /* total parameters; -1 unknown */
    int64_t n_active_params;   /* parameters activated per token (MoE: < n_params); -1 unknown */
    double flops_per_token;    /* forward-pass FLOPs per token; negative = unknown */
    const char *dtype;         /* weight storage type, e.g. "bf16"; may be NULL */
    const char *endpoint_url;  /* remote only (NULL for local) */
    const char *served_model;  /* remote only: the model name the endpoint serves */
    const char *details_json;  /* any further facts as a JSON object; NULL = "{}" */
};

/* Finds the model with m->identity_hash or inserts it; *model_id gets its id. An existing row is returned
 * unchanged (the identity hash is what identifies a model; its descriptive columns are those first stored). */
int store_put_model(struct store *st, const struct store_model *m, int64_t *model_id, struct ge_error *err);

/* ---- runs -------------------------------------------------------------------------------------------------- */

enum store_run_status {
    STORE_RUN_RUNNING,     /* started or resumed; finished_at is NULL */
    STORE_RUN_FINISHED,    /* every task run finished */
    STORE_RUN_FAILED,      /* stopped by an error */
    STORE_RUN_INTERRUPTED, /* stopped by a signal or the user; resumable */
};

/* What a new run records (borrowed strings). */
struct store_run {
    int64_t model_id;
    const char *args_json;       /* the command-line arguments as a JSON object */
    const char *seeds_json;      /* every seed used, as a JSON object, e.g. {"fewshot":1234} */
    const char *program_version; /* e.g. PACKAGE_VERSION plus git revision */
    const char *started_at;      /* ISO-8601 UTC */
    const char *host;            /* machine name */
};

/* A run read back. All strings are owned by the struct; release with store_run_info_release. */
struct store_run_info {
    int64_t id;
    int64_t model_id;
    char model_hash[65];        /* identity hash of the model */
    char *args_json;
    char *seeds_json;
    char *program_version;
    char *started_at;
    char *finished_at;          /* NULL while running */
    enum store_run_status status;
    char *host;
};

/* Inserts a run with status RUNNING; *run_id gets its id. */
int store_create_run(struct store *st, const struct store_run *run, int64_t *run_id, struct ge_error *err);
/* Reads run run_id into *out (GE_ERR_NOTFOUND when there is none; *out is then empty but safe to release). */
int store_get_run(struct store *st, int64_t run_id, struct store_run_info *out, struct ge_error *err);
void store_run_info_release(struct store_run_info *info);
/* Sets a run's status. RUNNING (resuming) clears finished_at and requires at == NULL; any other status needs
 * at, the time the run stopped. GE_ERR_NOTFOUND when there is no such run. */
int store_set_run_status(struct store *st, int64_t run_id, enum store_run_status status, const char *at,
                         struct ge_error *err);

/* *n = the task runs of run_id that are not finished (running or failed). */
int store_count_unfinished_task_runs(struct store *st, int64_t run_id, int64_t *n, struct ge_error *err);

/* Row counts of what a run produced (all >= 0); published is 1 for a published reference run. */
struct store_run_rows {
    int64_t task_runs, documents, requests, responses, published;
};
/* Counts run run_id's rows (0s for a run that does not exist). */
int store_run_rows(struct store *st, int64_t run_id, struct store_run_rows *out, struct ge_error *err);
/* Deletes run run_id and everything it produced (task runs, documents, requests, responses, scores, metrics: the
 * schema's ON DELETE CASCADE) in one transaction; *deleted gets the counts removed. The model row and its response
 * cache stay (they belong to the model, not the run). GE_ERR_NOTFOUND for no such run, GE_ERR_STATE for a
 * published reference run. The caller makes sure no process is evaluating the run (harness/run_lock.h). */
int store_delete_run(struct store *st, int64_t run_id, struct store_run_rows *deleted, struct ge_error *err);

/* ---- task runs --------------------------------------------------------------------------------------------- */

enum store_task_status {
    STORE_TASK_RUNNING,  /* requests may be pending */
    STORE_TASK_FINISHED, /* scores and metrics are stored */
    STORE_TASK_FAILED,
};

/* One task evaluated at one shot count on one split within a run (borrowed strings). */
struct store_task_run {
    int64_t run_id;
    const char *task;                 /* task name as registered in tasks/ */
    int task_version;                 /* the task descriptor's version */
    int n_shots;                      /* few-shot examples per prompt */
    const char *split;                /* "validation", "test", ... */
    const char *dataset_hashes_json;  /* {"file name": "sha256 hex", ...} of every dataset file read */
    const char *metric_variants_json; /* the metric variants in force, as a JSON object */
    const char *started_at;           /* ISO-8601 UTC; used only when the row is created */
};

/* Finds the task run (run_id, task, n_shots, split) or creates it with status RUNNING. *task_run_id gets its id
 * and *status (may be NULL) its status. The two JSON fields are stored and compared in canonical form
 * (identity.h), so key order and spacing do not matter. When the task run exists with a different task_version,
 * dataset_hashes_json or metric_variants_json, fails with GE_ERR_STATE naming the field: resuming must not mix
 * datasets or metrics. One exception: a 0-shot task run whose stored hashes hold every asked entry and more is
 * the same (older versions also hashed the few-shot split a 0-shot run never uses); it keeps its stored value.
 * GE_ERR_FORMAT when a JSON field is not valid JSON. */
int store_find_task_run(struct store *st, const struct store_task_run *tr, int64_t *task_run_id,
                        enum store_task_status *status, struct ge_error *err);
/* Sets a task run's status; FINISHED and FAILED need at (ISO-8601 UTC), RUNNING clears it (at must be NULL). */
int store_set_task_status(struct store *st, int64_t task_run_id, enum store_task_status status, const char *at,
                          struct ge_error *err);

/* ---- documents and requests -------------------------------------------------------------------------------- */

/* One evaluated document of a task run (borrowed strings). */
struct store_document {
    int64_t doc_index;        /* position in the evaluated split, 0-based */
    const char *doc_id;       /* the dataset's own id of the document */
    const char *content_hash; /* SHA-256 hex of the document's canonical content */
};

/* Inserts documents idempotently in one transaction: a document already stored at the same doc_index must have
 * the same doc_id and content_hash, else GE_ERR_STATE (the dataset changed under a resumed run) and nothing of
 * this call is stored. */
int store_put_documents(struct store *st, int64_t task_run_id, size_t n, const struct store_document *docs,
                        struct ge_error *err);

enum store_request_type {
    STORE_REQ_LOGLIKELIHOOD,         /* log P(continuation | context) */
    STORE_REQ_LOGLIKELIHOOD_ROLLING, /* log P(context) over the whole text, in windows */
    STORE_REQ_GENERATE,              /* generate from context under gen_settings */
};

/* One request to the model (borrowed strings). Exactly one of continuation (LOGLIKELIHOOD) and gen_settings_json
 * (GENERATE) is set; both are NULL for LOGLIKELIHOOD_ROLLING. */
struct store_request {
    int64_t doc_index;             /* the document (already stored with store_put_documents) */
    int req_index;                 /* position among the document's requests, 0-based (e.g. the choice) */
    enum store_request_type type;
    const char *context;           /* the full prompt text, few-shot examples included */
    const char *continuation;      /* text whose log-probability is wanted */
    const char *gen_settings_json; /* {"until":["\n"],"max_tokens":32,...}; stored in canonical form */
    const char *fewshot_ids_json;  /* dataset ids of the few-shot examples, JSON array; NULL = "[]" */
};

/* Inserts requests idempotently in one transaction, computing each request hash (identity_request_hash). A
 * request already stored at (task_run_id, doc_index, req_index) must have the same hash, else GE_ERR_STATE (the
 * prompt changed under a resumed run) and nothing of this call is stored. GE_ERR_DB when a document is missing. */
int store_put_requests(struct store *st, int64_t task_run_id, size_t n, const struct store_request *reqs,
                       struct ge_error *err);

/* A request that has no response yet. Strings are owned by the list that holds it. */
struct store_pending {
    int64_t request_id;
    int64_t doc_index;
    int req_index;
    enum store_request_type type;
    char *context;
    char *continuation;      /* NULL unless LOGLIKELIHOOD */
    char *gen_settings_json; /* canonical JSON; NULL unless GENERATE */
    char request_hash[65];
};

struct store_pending_list {
    struct store_pending *items; /* (n) owned */
    size_t n;
};

/* Lists up to max (> 0) pending requests of a task run in a stable order (doc_index, then req_index), replacing
 * out's previous contents (out must be zeroed or a list from an earlier call). Storing responses for them and
 * calling again gives the next ones; n == 0 means the task run has no pending request. Memory: the texts of at
 * most max requests. */
int store_list_pending(struct store *st, int64_t task_run_id, size_t max, struct store_pending_list *out,
                       struct ge_error *err);
void store_pending_list_release(struct store_pending_list *list);

/* Counts the requests of a task run (*total) and how many of them have a response (*answered), for progress. */
int store_count_requests(struct store *st, int64_t task_run_id, uint64_t *total, uint64_t *answered,
                         struct ge_error *err);

/* ---- responses --------------------------------------------------------------------------------------------- */

/* A model's answer to one request. Log-probabilities are natural logs. Fields that do not apply are NAN / -1 /
 * NULL and are stored as NULL. When passed to a store function every pointer is borrowed; when filled by one
 * (store_get_doc_responses, store_cache_get) text and token_logprobs are owned: store_response_release. */
struct store_response {
    int64_t request_id;      /* the request answered (ignored by store_cache_put) */
    int req_index;           /* filled by store_get_doc_responses; ignored on input */
    double logprob;          /* sum of the continuation's (or the whole text's) token log-probs; NAN for generate */
    int64_t n_tokens;        /* tokens scored or generated; -1 unknown */
    int is_greedy;           /* 1 when greedy decoding reproduces the continuation, 0 when not, -1 n/a */
    double *token_logprobs;  /* (n_token_logprobs) per-token log-probs, or NULL; n_token_logprobs == n_tokens */
    size_t n_token_logprobs;
    char *text;              /* generated text (GENERATE), else NULL */
    double latency_ms;       /* wall time the model took to compute this answer, >= 0 (for a cached answer:
                                that of the original computation) */
    int truncated;           /* 1 when the prompt was left-truncated to fit the model's window, 0 when it was
                                whole, -1 not known (an error response; an endpoint given text prompts; an answer
                                stored before schema version 5) */
    int cached;              /* 1 when taken from the response cache instead of the model */
    char *error;             /* why the model gave no answer (e.g. the prompt exceeds its context), else NULL;
                                an error response has no logprob or text, is never cached, and ends the
                                request's pending state so one bad example does not stop a run */
};

void store_response_release(struct store_response *r);

/* Stores a batch of responses in one transaction: each response row and, unless it was cached or is an error, its
 * cache entry under (identity hash of the run's model, request hash) — derived from the request, never from the
 * caller, so an answer can only ever be cached for the model that gave it. A response must carry what its
 * request type needs (loglikelihood: logprob and is_greedy; rolling: logprob; generate: text) unless it is an
 * error (GE_ERR_USAGE otherwise). Fails without storing anything when a request
 * does not exist or already has a response (GE_ERR_STATE), or a value is out of range (GE_ERR_DB). */
int store_put_responses(struct store *st, size_t n, const struct store_response *responses, struct ge_error *err);

struct store_response_list {
    struct store_response *items; /* (n) owned, in req_index order */
    size_t n;
};

/* Reads the responses of all requests of one document, for scoring (out must be zeroed or released). Fails with
 * GE_ERR_STATE when a request of the document has no response yet, GE_ERR_NOTFOUND when it has no requests. */
int store_get_doc_responses(struct store *st, int64_t task_run_id, int64_t doc_index,
                            struct store_response_list *out, struct ge_error *err);
void store_response_list_release(struct store_response_list *list);

/* ---- scores and metrics ------------------------------------------------------------------------------------ */

struct store_score {
    int64_t doc_index;  /* the document scored */
    const char *metric; /* e.g. "acc", "f1", "em" */
    double value;       /* not NaN */
};

/* Stores per-example scores in one transaction; a score already stored for (document, metric) is replaced
 * (re-scoring is allowed; scores derive from stored responses). */
int store_put_scores(struct store *st, int64_t task_run_id, size_t n, const struct store_score *scores,
                     struct ge_error *err);

struct store_metric {
    const char *metric;        /* e.g. "acc" */
    double value;              /* the aggregate, not NaN */
    double std_error;          /* standard error of value; NAN when not computed */
    const char *stderr_method; /* how std_error was computed ("bootstrap-1000", "binomial"); NULL iff NAN */
    int64_t n;                 /* examples aggregated */
};

/* Stores aggregate metrics of a task run in one transaction, replacing earlier values of the same metric. */
int store_put_metrics(struct store *st, int64_t task_run_id, size_t n, const struct store_metric *metrics,
                      struct ge_error *err);

/* ---- db info ----------------------------------------------------------------------------------------------- */

struct store_table_count {
    const char *table; /* a constant table name (not owned) */
    int64_t n_rows;
};

/* Facts for `glam-eval db info`. Owned by the struct; release with store_info_release. */
struct store_info {
    char *path;                       /* as given to store_open */
    int schema_version;               /* PRAGMA user_version */
    int schema_version_current;       /* SCHEMA_VERSION of this program */
    int64_t page_size;                /* bytes */
    int64_t page_count;               /* pages in the main file */
    int64_t freelist_count;           /* unused pages */
    char journal_mode[16];            /* "wal" normally */
    int64_t file_bytes;               /* size of the main file on disk */
    int64_t wal_bytes;                /* size of the -wal file, 0 when absent */
    struct store_table_count *tables; /* (n_tables) owned; tables that exist at this version */
    size_t n_tables;
};

/* Fills *out; works at any schema version the store opened. */
int store_get_info(struct store *st, struct store_info *out, struct ge_error *err);
void store_info_release(struct store_info *info);

/* Names used in the database and in messages: "loglikelihood", "finished", ... (never NULL). */
const char *store_request_type_name(enum store_request_type type);
const char *store_run_status_name(enum store_run_status status);
const char *store_task_status_name(enum store_task_status status);

#endif
