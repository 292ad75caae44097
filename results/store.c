/* store.c — the results store's connection: open with safety checks, migrate, transactions, the statement cache,
 * error messages and `db info` (see store.h for the contract, store_int.h for what the other files share).
 *
 * Invariants: store_open writes nothing to a file until it has proved the file is a healthy glam-eval database
 * (or an empty file) at a schema version this program knows, so refusing a file never changes it. Every failure
 * message starts with the database path. No SQL text is built from input: statements are constants bound with
 * parameters; the only formatted SQL is `SELECT count(*)` over table names from schema.c's constant list. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness/fileio.h"
#include "harness/xalloc.h"
#include "results/schema.h"
#include "results/store_int.h"

const char *store_path(const struct store *st) { return st->path; }
int store_schema_version(const struct store *st) { return st->schema_version; }

int store_fail(struct store *st, int rc, const char *what, struct ge_error *err)
{
    const char *path = st->path;
    const char *msg = st->db ? sqlite3_errmsg(st->db) : sqlite3_errstr(rc);
    int sys = st->db ? sqlite3_system_errno(st->db) : 0;
    switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return ge_error_set(err, GE_ERR_DB,
                            "%s: %s: the database is locked by another connection (waited %d ms); is another "
                            "glam-eval writing to it?",
                            path, what, st->busy_timeout_ms);
    case SQLITE_READONLY:
        if (st->mode == STORE_MODE_READ)
            return ge_error_set(err, GE_ERR_DB, "%s: %s: the database is open read-only (%s)", path, what, msg);
        return ge_error_set(err, GE_ERR_DB,
                            "%s: %s: cannot write: the file or its directory is read-only (%s); check permissions", path,
                            what, msg);
    case SQLITE_NOTADB:
        return ge_error_set(err, GE_ERR_FORMAT, "%s: %s: not a SQLite database; refusing to touch it", path, what);
    case SQLITE_CORRUPT:
        return ge_error_set(err, GE_ERR_FORMAT, "%s: %s: the database is corrupt (%s)", path, what, msg);
    case SQLITE_CANTOPEN:
        return ge_error_set(err, GE_ERR_IO, "%s: %s: cannot open (%s%s%s)", path, what, msg, sys ? ": " : "",
                            sys ? strerror(sys) : "");
    case SQLITE_FULL:
    case SQLITE_IOERR:
        return ge_error_set(err, GE_ERR_IO, "%s: %s: %s%s%s", path, what, msg, sys ? ": " : "",
                            sys ? strerror(sys) : "");
    case SQLITE_NOMEM:
        return ge_error_set(err, GE_ERR_NOMEM, "%s: %s: SQLite ran out of memory", path, what);
    case SQLITE_CONSTRAINT:
        return ge_error_set(err, GE_ERR_DB, "%s: %s: a value breaks the schema (%s)", path, what, msg);
    case SQLITE_TOOBIG:
        return ge_error_set(err, GE_ERR_LIMIT, "%s: %s: %s", path, what, msg);
    }
    return ge_error_set(err, GE_ERR_DB, "%s: %s: %s", path, what, msg);
}

/* ---- statements --------------------------------------------------------------------------------------------- */

static int stmt_cached(struct store *st, enum store_stmt_id id, const char *sql, sqlite3_stmt **out,
                       struct ge_error *err)
{
    *out = NULL;
    if (st->stmts[id] == NULL) {
        int rc = sqlite3_prepare_v3(st->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st->stmts[id], NULL);
        if (rc != SQLITE_OK) {
            int ret = store_fail(st, rc, "preparing a statement", err);
            sqlite3_finalize(st->stmts[id]);
            st->stmts[id] = NULL;
            return ret;
        }
        st->stmt_sql[id] = sql;
    }
    /* One slot, one text: two call sites sharing a slot with different SQL is a programming error. */
    if (st->stmt_sql[id] != sql && strcmp(st->stmt_sql[id], sql) != 0)
        return ge_error_set(err, GE_ERR_STATE, "%s: statement slot %d used with two different SQL texts", st->path,
                            id);
    sqlite3_reset(st->stmts[id]);
    sqlite3_clear_bindings(st->stmts[id]);
    *out = st->stmts[id];
    return GE_OK;
}

int store_stmt(struct store *st, enum store_stmt_id id, const char *sql, sqlite3_stmt **out, struct ge_error *err)
{
    *out = NULL;
    if (st->schema_version != SCHEMA_VERSION)
        return ge_error_set(err, GE_ERR_STATE,
                            "%s: schema version %d is older than this program's %d; run `glam-eval db migrate --db "
                            "%s`",
                            st->path, st->schema_version, SCHEMA_VERSION, st->path);
    if (st->tx_depth > 0 && (st->tx_aborted || sqlite3_get_autocommit(st->db))) {
        st->tx_aborted = 1;
        return ge_error_set(err, GE_ERR_STATE,
                            "%s: an earlier error rolled back the enclosing transaction; roll it back", st->path);
    }
    return stmt_cached(st, id, sql, out, err);
}

void store_stmt_done(sqlite3_stmt *stmt)
{
    if (stmt != NULL)
        sqlite3_reset(stmt);
}

/* Steps a statement that returns no rows and resets it. */
static int step_done(struct store *st, sqlite3_stmt *stmt, const char *what, struct ge_error *err)
{
    int rc = sqlite3_step(stmt);
    int ret = rc == SQLITE_DONE ? GE_OK : store_fail(st, rc, what, err);
    sqlite3_reset(stmt);
    return ret;
}

/* ---- transactions ------------------------------------------------------------------------------------------- */

int store_begin(struct store *st, struct ge_error *err)
{
    if (st->tx_depth > 0 && (st->tx_aborted || sqlite3_get_autocommit(st->db))) {
        st->tx_aborted = 1;
        return ge_error_set(err, GE_ERR_STATE, "%s: an earlier error rolled back the enclosing transaction",
                            st->path);
    }
    sqlite3_stmt *stmt = NULL;
    int outer = st->tx_depth == 0;
    int ret = outer ? stmt_cached(st, STMT_BEGIN, "BEGIN IMMEDIATE", &stmt, err)
                    : stmt_cached(st, STMT_SAVEPOINT, "SAVEPOINT ge_nested", &stmt, err);
    if (ret == GE_OK)
        ret = step_done(st, stmt, outer ? "starting a transaction" : "starting a savepoint", err);
    if (ret == GE_OK)
        st->tx_depth++;
    return ret;
}

void store_rollback(struct store *st)
{
    if (st->tx_depth == 0)
        return;
    struct ge_error ignored;
    sqlite3_stmt *stmt = NULL;
    int live = !sqlite3_get_autocommit(st->db) && !st->tx_aborted;
    if (st->tx_depth == 1) {
        if (live && stmt_cached(st, STMT_ROLLBACK, "ROLLBACK", &stmt, &ignored) == GE_OK)
            step_done(st, stmt, "rolling back", &ignored);
        st->tx_aborted = 0;
    } else if (live) {
        if (stmt_cached(st, STMT_ROLLBACK_TO, "ROLLBACK TO ge_nested", &stmt, &ignored) == GE_OK)
            step_done(st, stmt, "rolling back a savepoint", &ignored);
        if (stmt_cached(st, STMT_RELEASE, "RELEASE ge_nested", &stmt, &ignored) == GE_OK)
            step_done(st, stmt, "releasing a savepoint", &ignored);
    } else {
        st->tx_aborted = 1;
    }
    st->tx_depth--;
}

int store_commit(struct store *st, struct ge_error *err)
{
    if (st->tx_depth == 0)
        return ge_error_set(err, GE_ERR_STATE, "%s: commit without a transaction", st->path);
    if (st->tx_aborted || sqlite3_get_autocommit(st->db)) {
        int depth = st->tx_depth;
        store_rollback(st);
        return ge_error_set(err, GE_ERR_STATE, "%s: the transaction was rolled back by an earlier error%s", st->path,
                            depth > 1 ? " (roll back the enclosing one)" : "");
    }
    int outer = st->tx_depth == 1;
    sqlite3_stmt *stmt = NULL;
    int ret = outer ? stmt_cached(st, STMT_COMMIT, "COMMIT", &stmt, err)
                    : stmt_cached(st, STMT_RELEASE, "RELEASE ge_nested", &stmt, err);
    if (ret == GE_OK)
        ret = step_done(st, stmt, outer ? "committing" : "releasing a savepoint", err);
    if (ret != GE_OK) {
        store_rollback(st);
        return ret;
    }
    st->tx_depth--;
    return GE_OK;
}

int store_tx_end(struct store *st, int ret, struct ge_error *err)
{
    if (ret == GE_OK)
        return store_commit(st, err);
    store_rollback(st);
    return ret;
}

/* ---- checks shared by the record files ---------------------------------------------------------------------- */

static int digits(const char *s, int n, int lo, int hi)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i]))
            return 0;
        v = v * 10 + (s[i] - '0');
    }
    return v >= lo && v <= hi;
}

int store_check_timestamp(const struct store *st, const char *field, const char *value, struct ge_error *err)
{
    /* YYYY-MM-DDTHH:MM:SS[.f+]Z; offset of each part in the string */
    const char *s = value;
    int ok = s != NULL && strlen(s) >= 20 && digits(s, 4, 0, 9999) && s[4] == '-' && digits(s + 5, 2, 1, 12) &&
             s[7] == '-' && digits(s + 8, 2, 1, 31) && s[10] == 'T' && digits(s + 11, 2, 0, 23) && s[13] == ':' &&
             digits(s + 14, 2, 0, 59) && s[16] == ':' && digits(s + 17, 2, 0, 60);
    if (ok) {
        const char *p = s + 19;
        if (*p == '.') {
            p++;
            if (!isdigit((unsigned char)*p))
                ok = 0;
            while (isdigit((unsigned char)*p))
                p++;
        }
        ok = ok && p[0] == 'Z' && p[1] == '\0';
    }
    if (!ok)
        return ge_error_set(err, GE_ERR_USAGE, "%s: %s \"%.40s\" is not an ISO-8601 UTC time like 2024-05-01T12:00:00Z",
                            st->path, field, value ? value : "(null)");
    return GE_OK;
}

int store_check_text(const struct store *st, const char *field, const char *s, struct ge_error *err)
{
    if (s != NULL && strnlen(s, STORE_TEXT_LIMIT + 1) > STORE_TEXT_LIMIT)
        return ge_error_set(err, GE_ERR_LIMIT, "%s: %s is longer than the limit of %zu bytes", st->path, field,
                            STORE_TEXT_LIMIT);
    return GE_OK;
}

int store_bind_text(sqlite3_stmt *stmt, int col, const char *s)
{
    return s ? sqlite3_bind_text(stmt, col, s, -1, SQLITE_STATIC) : sqlite3_bind_null(stmt, col);
}

int store_column_text(const struct store *st, sqlite3_stmt *stmt, int col, const char *what, char **out,
                      struct ge_error *err)
{
    *out = NULL;
    if (sqlite3_column_type(stmt, col) == SQLITE_NULL)
        return GE_OK;
    const unsigned char *text = sqlite3_column_text(stmt, col);
    size_t len = (size_t)sqlite3_column_bytes(stmt, col);
    if (text == NULL)
        return ge_error_set(err, GE_ERR_NOMEM, "%s: %s: SQLite ran out of memory reading column %s", st->path, what,
                            sqlite3_column_name(stmt, col));
    if (len > STORE_TEXT_LIMIT)
        return ge_error_set(err, GE_ERR_LIMIT, "%s: %s: column %s holds %zu bytes, over the limit of %zu", st->path,
                            what, sqlite3_column_name(stmt, col), len, STORE_TEXT_LIMIT);
    *out = malloc(len + 1);
    if (*out == NULL)
        return ge_error_set(err, GE_ERR_NOMEM, "%s: %s: out of memory copying %zu bytes of column %s", st->path,
                            what, len, sqlite3_column_name(stmt, col));
    memcpy(*out, text, len);
    (*out)[len] = '\0';
    return GE_OK;
}

/* ---- open, close, migrate ----------------------------------------------------------------------------------- */

/* Reads the header facts store_open decides on; returns an SQLite code so the caller can react to it. */
static int probe(struct store *st, int *user_version, int *app_id, int *n_objects)
{
    static const char *const sql[3] = {"PRAGMA user_version", "PRAGMA application_id",
                                       "SELECT count(*) FROM sqlite_master"};
    int *out[3] = {user_version, app_id, n_objects};
    for (int i = 0; i < 3; i++) {
        sqlite3_stmt *stmt = NULL;
        int rc = sqlite3_prepare_v2(st->db, sql[i], -1, &stmt, NULL);
        if (rc == SQLITE_OK)
            rc = sqlite3_step(stmt);
        if (rc != SQLITE_ROW) {
            sqlite3_finalize(stmt);
            return rc;
        }
        *out[i] = sqlite3_column_int(stmt, 0);
        sqlite3_finalize(stmt);
    }
    return SQLITE_OK;
}

/* PRAGMA quick_check(1): "ok" or the first problem found. Cost: reads every page once. */
static int quick_check(struct store *st, struct ge_error *err)
{
    sqlite3_stmt *stmt = NULL;
    int rc = sqlite3_prepare_v2(st->db, "PRAGMA quick_check(1)", -1, &stmt, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(stmt);
    int ret = GE_OK;
    if (rc == SQLITE_ROW) {
        const char *res = (const char *)sqlite3_column_text(stmt, 0);
        if (res == NULL || strcmp(res, "ok") != 0) {
            /* The report may span lines ("*** in database main ***\nPage 8: ..."); messages are one line. */
            char line[301];
            snprintf(line, sizeof line, "%s", res ? res : "(no result)");
            for (char *p = line; *p; p++)
                if (*p == '\n' || *p == '\r')
                    *p = ' ';
            ret = ge_error_set(err, GE_ERR_FORMAT,
                               "%s: the database is corrupt (PRAGMA quick_check: %s); it was not modified: restore "
                               "it from a backup or choose another file with --db",
                               st->path, line);
        }
    } else if ((rc & 0xff) == SQLITE_CORRUPT || (rc & 0xff) == SQLITE_NOTADB) {
        ret = ge_error_set(err, GE_ERR_FORMAT,
                           "%s: the database is corrupt (PRAGMA quick_check: %s); it was not modified: restore it "
                           "from a backup or choose another file with --db",
                           st->path, sqlite3_errmsg(st->db));
    } else {
        ret = store_fail(st, rc, "PRAGMA quick_check", err);
    }
    sqlite3_finalize(stmt);
    return ret;
}

/* Runs a PRAGMA that returns one text row and checks it against want (case-insensitive). */
static int pragma_expect(struct store *st, const char *sql, const char *want, struct ge_error *err)
{
    sqlite3_stmt *stmt = NULL;
    int rc = sqlite3_prepare_v2(st->db, sql, -1, &stmt, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(stmt);
    int ret = GE_OK;
    if (rc == SQLITE_ROW || rc == SQLITE_DONE) {
        const char *got = rc == SQLITE_ROW ? (const char *)sqlite3_column_text(stmt, 0) : NULL;
        if (want != NULL && (got == NULL || strcasecmp(got, want) != 0))
            ret = ge_error_set(err, GE_ERR_DB, "%s: %s gave \"%s\", expected \"%s\"", st->path, sql,
                               got ? got : "", want);
    } else {
        ret = store_fail(st, rc, sql, err);
    }
    sqlite3_finalize(stmt);
    return ret;
}

/* "file:" + percent-encoded path + "?immutable=1" (RFC 3986 unreserved characters and '/' pass through). */
static char *immutable_uri(const char *path)
{
    size_t len = strlen(path);
    char *uri = xmalloc(len * 3 + 32);
    char *p = uri + sprintf(uri, "%s", path[0] == '/' ? "file://" : "file:");
    for (const unsigned char *s = (const unsigned char *)path; *s; s++) {
        if (isalnum(*s) || strchr("/-._~", *s))
            *p++ = (char)*s;
        else
            p += sprintf(p, "%%%02X", *s);
    }
    strcpy(p, "?immutable=1");
    return uri;
}

static int file_size(const char *path, int64_t *bytes)
{
    struct stat sb;
    if (stat(path, &sb) != 0)
        return -1;
    *bytes = (int64_t)sb.st_size;
    return 0;
}

/* The directory part of path ("." for a bare name); the caller frees it. */
static char *parent_dir(const char *path)
{
    char *dir = xmalloc(strlen(path) + 2);
    strcpy(dir, path);
    char *slash = strrchr(dir, '/');
    if (slash == NULL)
        strcpy(dir, ".");
    else
        slash[slash == dir ? 1 : 0] = '\0';
    return dir;
}

/* Whether path and its directory are writable by us (so SQLite can make and remove -wal and -shm there). */
static int writable_beside(const char *path)
{
    if (access(path, W_OK) != 0)
        return 0;
    char *dir = parent_dir(path);
    int ok = access(dir, W_OK | X_OK) == 0;
    free(dir);
    return ok;
}

/* Opens the SQLite connection; name is what SQLite sees (path, "./path" or an immutable URI). */
static int connect(struct store *st, const char *name, int flags, struct ge_error *err)
{
    int rc = sqlite3_open_v2(name, &st->db, flags, NULL);
    if (rc != SQLITE_OK) {
        const char *what = (flags & SQLITE_OPEN_CREATE) ? "cannot open or create the database" : "cannot open";
        int ret = store_fail(st, rc, what, err);
        sqlite3_close(st->db);
        st->db = NULL;
        return ret;
    }
    sqlite3_extended_result_codes(st->db, 1);
    sqlite3_busy_timeout(st->db, st->busy_timeout_ms);
    rc = sqlite3_exec(st->db, "PRAGMA foreign_keys = ON", NULL, NULL, NULL);
    return rc == SQLITE_OK ? GE_OK : store_fail(st, rc, "enabling foreign keys", err);
}

static int open_checked(const char *path, enum store_mode mode, int allow_create, int busy_timeout_ms,
                        struct store **out, struct ge_error *err)
{
    int ret = GE_OK, user_version = 0, app_id = 0, n_objects = 0;
    char *name = NULL;
    *out = NULL;
    if (path == NULL || path[0] == '\0')
        return ge_error_set(err, GE_ERR_USAGE, "no database path given");
    struct store *st = xcalloc(1, sizeof *st);
    st->path = xstrdup(path);
    st->mode = mode;
    st->busy_timeout_ms = busy_timeout_ms > 0 ? busy_timeout_ms : STORE_DEFAULT_BUSY_MS;

    struct stat sb;
    int exists = stat(path, &sb) == 0;
    if (!exists && (errno != ENOENT || !allow_create)) {
        ret = ge_error_set(err, errno == ENOENT ? GE_ERR_NOTFOUND : GE_ERR_IO, "%s: cannot open the database: %s",
                           path, strerror(errno));
        goto out;
    }
    if (!exists) {
        /* SQLite's own message for a failed create does not say why; the usual reason is the directory. */
        char *dir = parent_dir(path);
        if (access(dir, W_OK | X_OK) != 0)
            ret = ge_error_set(err, GE_ERR_IO, "%s: cannot create the database: directory %s: %s", path, dir,
                               strerror(errno));
        free(dir);
        if (ret != GE_OK)
            goto out;
    }
    if (exists && !S_ISREG(sb.st_mode)) {
        ret = ge_error_set(err, GE_ERR_IO, "%s: not a regular file", path);
        goto out;
    }
    /* SQLite here treats names starting with "file:" as URIs; a path is a path. */
    if (strncasecmp(path, "file:", 5) == 0) {
        name = xmalloc(strlen(path) + 3);
        sprintf(name, "./%s", path);
    } else {
        name = xstrdup(path);
    }
    int flags = mode == STORE_MODE_READ ? SQLITE_OPEN_READONLY
                                        : SQLITE_OPEN_READWRITE | (allow_create ? SQLITE_OPEN_CREATE : 0);
    if (mode == STORE_MODE_READ && exists && writable_beside(path)) {
        /* A reader opens read-write with query_only set: SQLite removes a WAL database's -wal and -shm when the
         * last connection closes, but only a read-write one; a read-only connection leaves both behind, empty,
         * after every report. query_only makes SQLite itself refuse any change. */
        flags = SQLITE_OPEN_READWRITE;
    }
    if ((ret = connect(st, name, flags, err)) != GE_OK)
        goto out;
    if ((flags & SQLITE_OPEN_READWRITE) && mode == STORE_MODE_READ &&
        sqlite3_exec(st->db, "PRAGMA query_only = ON", NULL, NULL, NULL) != SQLITE_OK) {
        ret = store_fail(st, sqlite3_errcode(st->db), "PRAGMA query_only", err);
        goto out;
    }
    if (mode == STORE_MODE_WRITE && sqlite3_db_readonly(st->db, "main") == 1) {
        ret = ge_error_set(err, GE_ERR_DB,
                           "%s: cannot open the database for writing: the file is read-only (check its permissions)",
                           path);
        goto out;
    }
    int rc = probe(st, &user_version, &app_id, &n_objects);
    char wal[PATH_MAX + 8];
    snprintf(wal, sizeof wal, "%s-wal", path);
    if (mode == STORE_MODE_READ && ((rc & 0xff) == SQLITE_READONLY || (rc & 0xff) == SQLITE_CANTOPEN) &&
        !file_exists(wal)) {
        /* A WAL database in a directory we cannot write: no -shm can be made, and with no -wal file there is no
         * writer (a writer keeps its -wal while connected), so the main file alone is the whole database. */
        sqlite3_close(st->db);
        st->db = NULL;
        free(name);
        name = immutable_uri(path);
        st->immutable = 1;
        if ((ret = connect(st, name, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, err)) != GE_OK)
            goto out;
        rc = probe(st, &user_version, &app_id, &n_objects);
    }
    if (mode == STORE_MODE_READ && ((rc & 0xff) == SQLITE_READONLY || (rc & 0xff) == SQLITE_CANTOPEN) &&
        file_exists(wal)) {
        char shm[PATH_MAX + 8];
        snprintf(shm, sizeof shm, "%s-shm", path);
        if (!file_exists(shm)) { /* SQLite's own message ("No such file or directory") names neither file */
            ret = ge_error_set(err, GE_ERR_IO, "%s: cannot read it here: %s holds committed rows, and SQLite must "
                               "create %s beside it to read them, which this directory does not allow; copy both "
                               "files to a writable directory (nothing was modified)", path, wal, shm);
            goto out;
        }
    }
    if (rc != SQLITE_OK) {
        ret = store_fail(st, rc, "reading the database header", err);
        goto out;
    }
    if (user_version > SCHEMA_VERSION && app_id == SCHEMA_APPLICATION_ID) {
        ret = ge_error_set(err, GE_ERR_STATE,
                           "%s: schema version %d is newer than this glam-eval knows (%d); use a newer glam-eval, "
                           "the file was not modified",
                           path, user_version, SCHEMA_VERSION);
        goto out;
    }
    int empty = user_version == 0 && app_id == 0 && n_objects == 0;
    if (app_id != SCHEMA_APPLICATION_ID && !empty) {
        ret = ge_error_set(err, GE_ERR_FORMAT,
                           "%s: a SQLite database but not a glam-eval results database (application_id %d, "
                           "user_version %d, %d schema objects); refusing to touch it",
                           path, app_id, user_version, n_objects);
        goto out;
    }
    if (empty && mode == STORE_MODE_READ) {
        ret = ge_error_set(err, GE_ERR_STATE, "%s: an empty database (no glam-eval schema yet)", path);
        goto out;
    }
    if (!empty && (ret = quick_check(st, err)) != GE_OK)
        goto out;
    st->schema_version = user_version;
    st->version_at_open = user_version;
    if (mode == STORE_MODE_WRITE) {
        /* First writes: the checks above have passed. */
        if ((ret = pragma_expect(st, "PRAGMA journal_mode = WAL", "wal", err)) != GE_OK)
            goto out;
        if ((ret = pragma_expect(st, "PRAGMA synchronous = FULL", NULL, err)) != GE_OK)
            goto out;
        if ((ret = schema_migrate(st->db, path, SCHEMA_VERSION, NULL, err)) != GE_OK)
            goto out;
        st->schema_version = SCHEMA_VERSION;
    }
    *out = st;
    st = NULL;
out:
    free(name);
    store_close(st);
    return ret;
}

int store_open(const char *path, enum store_mode mode, int busy_timeout_ms, struct store **out,
               struct ge_error *err)
{
    return open_checked(path, mode, mode == STORE_MODE_WRITE, busy_timeout_ms, out, err);
}

int store_open_existing(const char *path, int busy_timeout_ms, struct store **out, struct ge_error *err)
{
    return open_checked(path, STORE_MODE_WRITE, 0, busy_timeout_ms, out, err);
}

int store_migrate(const char *path, int busy_timeout_ms, int *from_version, int *to_version, struct ge_error *err)
{
    struct store *st = NULL;
    int ret = open_checked(path, STORE_MODE_WRITE, 0, busy_timeout_ms, &st, err);
    if (ret == GE_OK && from_version != NULL)
        *from_version = st->version_at_open;
    if (ret == GE_OK && to_version != NULL)
        *to_version = st->schema_version;
    store_close(st);
    return ret;
}

void store_close(struct store *st)
{
    if (st == NULL)
        return;
    while (st->tx_depth > 0)
        store_rollback(st);
    for (int i = 0; i < STMT_COUNT; i++)
        sqlite3_finalize(st->stmts[i]);
    sqlite3_close(st->db);
    free(st->path);
    free(st);
}

/* ---- db info ------------------------------------------------------------------------------------------------ */

/* Runs a constant query returning one integer; bind (may be NULL) is bound as text parameter 1. */
static int query_int(struct store *st, const char *sql, const char *bind, int64_t *out, struct ge_error *err)
{
    sqlite3_stmt *stmt = NULL;
    int rc = sqlite3_prepare_v2(st->db, sql, -1, &stmt, NULL);
    if (rc == SQLITE_OK && bind != NULL)
        rc = sqlite3_bind_text(stmt, 1, bind, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(stmt);
    int ret = GE_OK;
    if (rc == SQLITE_ROW)
        *out = sqlite3_column_int64(stmt, 0);
    else if (rc == SQLITE_DONE)
        *out = 0;
    else
        ret = store_fail(st, rc, sql, err);
    sqlite3_finalize(stmt);
    return ret;
}

/* Whether the database header marks a WAL database: bytes 18 and 19 (file format write and read versions) are 2
 * (sqlite.org/fileformat2.html, "The Database Header"). */
static int header_says_wal(const char *path)
{
    unsigned char h[20];
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return 0;
    int ok = fread(h, 1, sizeof h, f) == sizeof h;
    fclose(f);
    return ok && h[18] == 2 && h[19] == 2;
}

int store_get_info(struct store *st, struct store_info *out, struct ge_error *err)
{
    int ret = GE_OK;
    char sql[128];
    memset(out, 0, sizeof *out);
    out->path = xstrdup(st->path);
    out->schema_version = st->schema_version;
    out->schema_version_current = SCHEMA_VERSION;
    if ((ret = query_int(st, "PRAGMA page_size", NULL, &out->page_size, err)) != GE_OK ||
        (ret = query_int(st, "PRAGMA page_count", NULL, &out->page_count, err)) != GE_OK ||
        (ret = query_int(st, "PRAGMA freelist_count", NULL, &out->freelist_count, err)) != GE_OK)
        goto out;
    sqlite3_stmt *stmt = NULL;
    int rc = sqlite3_prepare_v2(st->db, "PRAGMA journal_mode", -1, &stmt, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW)
        snprintf(out->journal_mode, sizeof out->journal_mode, "%s", (const char *)sqlite3_column_text(stmt, 0));
    else
        ret = store_fail(st, rc, "PRAGMA journal_mode", err);
    sqlite3_finalize(stmt);
    if (ret != GE_OK)
        goto out;
    if (st->immutable && header_says_wal(st->path))
        snprintf(out->journal_mode, sizeof out->journal_mode, "wal"); /* SQLite says "delete" for immutable */
    char wal[PATH_MAX + 8];
    snprintf(wal, sizeof wal, "%s-wal", st->path);
    if (file_size(st->path, &out->file_bytes) != 0)
        out->file_bytes = out->page_size * out->page_count;
    if (file_size(wal, &out->wal_bytes) != 0)
        out->wal_bytes = 0;
    size_t n_known = 0;
    while (schema_table_name(n_known) != NULL)
        n_known++;
    out->tables = xcalloc(n_known, sizeof *out->tables);
    for (size_t i = 0; i < n_known; i++) {
        const char *table = schema_table_name(i);
        int64_t exists = 0;
        ret = query_int(st, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?", table, &exists,
                        err);
        if (ret != GE_OK)
            goto out;
        if (!exists)
            continue;
        /* table is a constant from schema.c, never input; identifiers cannot be bound. */
        snprintf(sql, sizeof sql, "SELECT count(*) FROM \"%s\"", table);
        struct store_table_count *tc = &out->tables[out->n_tables];
        tc->table = table;
        if ((ret = query_int(st, sql, NULL, &tc->n_rows, err)) != GE_OK)
            goto out;
        out->n_tables++;
    }
out:
    if (ret != GE_OK)
        store_info_release(out);
    return ret;
}

void store_info_release(struct store_info *info)
{
    free(info->path);
    free(info->tables);
    memset(info, 0, sizeof *info);
}

const char *store_request_type_name(enum store_request_type type)
{
    switch (type) {
    case STORE_REQ_LOGLIKELIHOOD: return "loglikelihood";
    case STORE_REQ_LOGLIKELIHOOD_ROLLING: return "loglikelihood_rolling";
    case STORE_REQ_GENERATE: return "generate";
    }
    return "unknown";
}

const char *store_run_status_name(enum store_run_status status)
{
    switch (status) {
    case STORE_RUN_RUNNING: return "running";
    case STORE_RUN_FINISHED: return "finished";
    case STORE_RUN_FAILED: return "failed";
    case STORE_RUN_INTERRUPTED: return "interrupted";
    }
    return "unknown";
}

const char *store_task_status_name(enum store_task_status status)
{
    switch (status) {
    case STORE_TASK_RUNNING: return "running";
    case STORE_TASK_FINISHED: return "finished";
    case STORE_TASK_FAILED: return "failed";
    }
    return "unknown";
}
