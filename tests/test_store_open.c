/* test_store_open.c — the results store's refusals and migrations (part of tests/test_store).
 *
 * The refusal cases (not a database, corrupt, another application's database, newer schema, locked, read-only)
 * check the error code, that the message names the file and the reason, that the file's SHA-256 is unchanged and
 * that no journal was left beside it. Permission cases run as the owner of their files: when the test runs as
 * root (where permission bits do not stop writes) they run in a child process that has dropped to uid/gid 65534
 * (nobody), owning the files; if that is impossible they are skipped with a visible reason. Migrations start from
 * the frozen version-1 database tests/data/store_v1.sql. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sqlite3.h>

#include "harness/fileio.h"
#include "results/cache.h"
#include "results/identity.h"
#include "results/schema.h"
#include "results/store.h"
#include "tests/store_fixture.h"
#include "tests/tap.h"

#define NOBODY 65534

/* ---- refusals ------------------------------------------------------------------------------------------------ */

/* Opens path in both modes and checks the refusal: code, message naming the file and the reason, file untouched. */
static void expect_refusal(const char *label, const char *path, int want_code, const char *reason)
{
    static const enum store_mode modes[] = {STORE_MODE_WRITE, STORE_MODE_READ};
    char before[65], after[65];
    digest(path, before);
    for (size_t i = 0; i < 2; i++) {
        struct ge_error err = {0};
        struct store *st = NULL;
        const char *mode = modes[i] == STORE_MODE_WRITE ? "WRITE" : "READ";
        int ret = store_open(path, modes[i], 200, &st, fresh(&err));
        tap_is_int(ret, want_code, "%s %s: refused with %s", label, mode, ge_status_name(want_code));
        tap_ok(contains(err.msg, path) && contains(err.msg, reason), "%s %s: message names file and \"%s\" (%s)",
               label, mode, reason, err.msg);
        store_close(st);
    }
    int from = -1;
    struct ge_error err = {0};
    tap_is_int(store_migrate(path, 200, &from, NULL, fresh(&err)), want_code, "%s migrate: refused", label);
    digest(path, after);
    tap_is_str(after, before, "%s: the file is unchanged", label);
    tap_ok(!has_sidecar(path, "-journal") && !has_sidecar(path, "-wal"), "%s: no journal left beside it", label);
}

static void write_file(const char *path, const char *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (f == NULL || fwrite(data, 1, len, f) != len)
        tap_diag("cannot write %s", path);
    if (f)
        fclose(f);
}

void test_store_refusals(void)
{
    char path[4096];
    char text[2000];
    for (size_t i = 0; i < sizeof text; i++)
        text[i] = (char)('a' + i % 26);
    case_path(path, sizeof path, "text.db");
    write_file(path, text, sizeof text);
    expect_refusal("text file", path, GE_ERR_FORMAT, "not a SQLite database");

    case_path(path, sizeof path, "short.db");
    write_file(path, "hi", 2);
    expect_refusal("2-byte file", path, GE_ERR_FORMAT, "not a SQLite database");

    case_path(path, sizeof path, "newer.db");
    raw_exec(path, "CREATE TABLE future (x); PRAGMA application_id = 1196187981; PRAGMA user_version = 99;");
    expect_refusal("newer schema", path, GE_ERR_STATE, "newer than this glam-eval");

    case_path(path, sizeof path, "foreign.db");
    raw_exec(path, "CREATE TABLE contacts (name TEXT); INSERT INTO contacts VALUES ('x');");
    expect_refusal("another application's database", path, GE_ERR_FORMAT, "not a glam-eval results database");

    case_path(path, sizeof path, "otherapp.db");
    raw_exec(path, "CREATE TABLE t (x); PRAGMA application_id = 42; PRAGMA user_version = 1;");
    expect_refusal("foreign application id", path, GE_ERR_FORMAT, "application_id 42");

    /* Corrupt: a healthy store whose documents table root page is overwritten. */
    struct ge_error err = {0};
    struct store *st = NULL;
    int64_t model_id, run_id, tr_id;
    case_path(path, sizeof path, "corrupt.db");
    if (store_open(path, STORE_MODE_WRITE, 0, &st, fresh(&err)) == GE_OK && setup_run(st, &model_id, &run_id, &tr_id, fresh(&err)) == GE_OK) {
        struct store_document docs[64];
        for (int i = 0; i < 64; i++)
            docs[i] = (struct store_document){i, "doc", DOC_HASH};
        store_put_documents(st, tr_id, 64, docs, fresh(&err));
    }
    store_close(st);
    long long root = raw_int(path, "SELECT rootpage FROM sqlite_master WHERE name = 'documents'");
    long long page_size = raw_int(path, "PRAGMA page_size");
    int fd = open(path, O_WRONLY);
    char junk[512];
    memset(junk, 0xA5, sizeof junk);
    int corrupted = fd >= 0 && root > 1 && page_size > 0 &&
                    pwrite(fd, junk, sizeof junk, (off_t)((root - 1) * page_size)) == (ssize_t)sizeof junk;
    if (fd >= 0)
        close(fd);
    if (tap_ok(corrupted, "corrupt: overwrote page %lld", root))
        expect_refusal("corrupt page", path, GE_ERR_FORMAT, "corrupt");

    /* An empty file: a new database for WRITE, refused for READ. */
    case_path(path, sizeof path, "empty.db");
    write_file(path, "", 0);
    tap_is_int(store_open(path, STORE_MODE_READ, 0, &st, fresh(&err)), GE_ERR_STATE, "empty file READ: refused (%s)", err.msg);
    tap_is_int(store_open(path, STORE_MODE_WRITE, 0, &st, fresh(&err)), GE_OK, "empty file WRITE: initialised");
    store_close(st);
}

/* ---- locks --------------------------------------------------------------------------------------------------- */

void test_store_locked(void)
{
    char path[4096];
    struct ge_error err = {0};
    struct store *st = NULL;
    int64_t model_id, run_id, tr_id;
    case_path(path, sizeof path, "locked.db");
    if (store_open(path, STORE_MODE_WRITE, 0, &st, fresh(&err)) != GE_OK || setup_run(st, &model_id, &run_id, &tr_id, fresh(&err))) {
        tap_ok(0, "locked: setup (%s)", err.msg);
        store_close(st);
        return;
    }
    store_close(st);

    /* Another writer holds the write lock: readers and opening still work, a write gives up after the timeout. */
    sqlite3 *other = NULL;
    sqlite3_open(path, &other);
    int rc = sqlite3_exec(other, "BEGIN IMMEDIATE; UPDATE runs SET host = 'other'", NULL, NULL, NULL);
    tap_is_int(rc, SQLITE_OK, "locked: another connection holds the write lock");
    if (tap_is_int(store_open(path, STORE_MODE_WRITE, 100, &st, fresh(&err)), GE_OK, "locked: open WRITE (%s)", err.msg)) {
        struct store_run run = {.model_id = model_id, .args_json = "{}", .seeds_json = "{}", .program_version = "t",
                                .started_at = "2024-05-01T00:00:00Z", .host = "h"};
        int64_t id;
        tap_is_int(store_create_run(st, &run, &id, fresh(&err)), GE_ERR_DB, "locked: a write fails after the busy timeout");
        tap_ok(contains(err.msg, path) && contains(err.msg, "locked") && contains(err.msg, "100 ms"),
               "locked: message names file, lock and wait (%s)", err.msg);
        store_close(st);
    }
    sqlite3_exec(other, "ROLLBACK", NULL, NULL, NULL);

    /* An exclusive lock blocks even reading: opening fails with a clear message and changes nothing. */
    char before[65], after[65];
    digest(path, before);
    rc = sqlite3_exec(other, "PRAGMA locking_mode = EXCLUSIVE; BEGIN EXCLUSIVE; UPDATE runs SET host = 'other'",
                      NULL, NULL, NULL);
    tap_is_int(rc, SQLITE_OK, "locked: another connection holds an exclusive lock");
    for (int mode = 0; mode < 2; mode++) {
        int ret = store_open(path, mode ? STORE_MODE_WRITE : STORE_MODE_READ, 100, &st, fresh(&err));
        tap_is_int(ret, GE_ERR_DB, "locked exclusive %s: open fails", mode ? "WRITE" : "READ");
        tap_ok(contains(err.msg, path) && contains(err.msg, "locked"), "locked exclusive: message (%s)", err.msg);
        store_close(st);
    }
    sqlite3_exec(other, "ROLLBACK", NULL, NULL, NULL);
    sqlite3_close(other);
    digest(path, after);
    tap_is_str(after, before, "locked: file unchanged");
}

/* ---- readers --------------------------------------------------------------------------------------------------- */

/* A reader (report, compare, db info) of a database in a writable directory leaves nothing beside it, cannot write,
 * and sees the journal mode. */
void test_store_reader(void)
{
    char path[4096];
    struct ge_error err = {0};
    struct store *st = NULL;
    int64_t model_id, run_id, tr_id;
    snprintf(path, sizeof path, "%s/reader.db", store_fixture_dir());
    if (store_open(path, STORE_MODE_WRITE, 0, &st, fresh(&err)) != GE_OK ||
        setup_run(st, &model_id, &run_id, &tr_id, fresh(&err))) {
        tap_ok(0, "reader: setup (%s)", err.msg);
        store_close(st);
        return;
    }
    store_close(st);
    st = NULL;
    char before[65], after[65];
    digest(path, before);
    tap_ok(!has_sidecar(path, "-wal") && !has_sidecar(path, "-shm"), "reader: the writer removed -wal and -shm");
    int ret = store_open(path, STORE_MODE_READ, 200, &st, fresh(&err));
    tap_is_int(ret, GE_OK, "reader: opens (%s)", err.msg);
    struct store_info info;
    if (ret == GE_OK && store_get_info(st, &info, fresh(&err)) == GE_OK) {
        tap_is_str(info.journal_mode, "wal", "reader: journal mode");
        store_info_release(&info);
    } else
        tap_ok(0, "reader: store_get_info (%s)", err.msg);
    if (ret == GE_OK) {
        int w = store_set_run_status(st, run_id, STORE_RUN_FAILED, "2026-01-01T00:00:00Z", fresh(&err));
        tap_ok(w != GE_OK, "reader: a write through a reader is refused (%s)", err.msg);
    }
    store_close(st);
    digest(path, after);
    tap_is_str(after, before, "reader: the file is unchanged");
    tap_ok(!has_sidecar(path, "-wal") && !has_sidecar(path, "-shm"), "reader: leaves no -wal or -shm behind");
}

/* ---- permissions --------------------------------------------------------------------------------------------- */

enum perm_op { OP_READ, OP_WRITE };

struct perm_result {
    int ret;                     /* store_open's result, or 1000 when the child could not drop privileges */
    long long n_runs;            /* rows in runs seen by a successful READ, else -1 */
    char msg[GE_ERROR_MSG_CAP];  /* store_open's message */
    char journal_mode[16];       /* store_get_info's, after a successful open */
};

static void perm_do(enum perm_op op, const char *path, struct perm_result *res)
{
    struct ge_error err = {0};
    struct store *st = NULL;
    ge_error_clear(&err);
    res->n_runs = -1;
    res->ret = store_open(path, op == OP_READ ? STORE_MODE_READ : STORE_MODE_WRITE, 200, &st, fresh(&err));
    snprintf(res->msg, sizeof res->msg, "%s", err.msg);
    struct store_info info;
    res->journal_mode[0] = '\0';
    if (res->ret == GE_OK && store_get_info(st, &info, fresh(&err)) == GE_OK) {
        snprintf(res->journal_mode, sizeof res->journal_mode, "%s", info.journal_mode);
        for (size_t i = 0; i < info.n_tables; i++)
            if (strcmp(info.tables[i].table, "runs") == 0)
                res->n_runs = info.tables[i].n_rows;
        store_info_release(&info);
    }
    store_close(st);
}

/* Runs op as the owner of the case files: directly, or as uid 65534 in a child when we are root. */
static void perm_run(enum perm_op op, const char *path, struct perm_result *res)
{
    if (geteuid() != 0) {
        perm_do(op, path, res);
        return;
    }
    int fds[2];
    res->ret = 1000;
    if (pipe(fds) != 0)
        return;
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        struct perm_result r = {.ret = 1000, .n_runs = -1};
        if (setgroups(0, NULL) == 0 && setgid(NOBODY) == 0 && setuid(NOBODY) == 0)
            perm_do(op, path, &r);
        ssize_t w = write(fds[1], &r, sizeof r);
        _exit(w == (ssize_t)sizeof r ? 0 : 1);
    }
    close(fds[1]);
    if (pid > 0 && read(fds[0], res, sizeof *res) != (ssize_t)sizeof *res)
        res->ret = 1000;
    close(fds[0]);
    if (pid > 0)
        waitpid(pid, NULL, 0);
}

static void give_to_owner(const char *path)
{
    if (geteuid() == 0 && chown(path, NOBODY, NOBODY) != 0)
        tap_diag("chown %s: %s", path, strerror(errno));
}

void test_store_permissions(void)
{
    char dir[2048], path[4096], missing[4096];
    struct ge_error err = {0};
    struct store *st = NULL;
    int64_t model_id, run_id, tr_id;
    snprintf(dir, sizeof dir, "%s/perm", store_fixture_dir());
    mkdir(dir, 0755);
    snprintf(path, sizeof path, "%s/results.db", dir);
    snprintf(missing, sizeof missing, "%s/new.db", dir);
    if (store_open(path, STORE_MODE_WRITE, 0, &st, fresh(&err)) != GE_OK || setup_run(st, &model_id, &run_id, &tr_id, fresh(&err))) {
        tap_ok(0, "permissions: setup (%s)", err.msg);
        store_close(st);
        return;
    }
    store_close(st);
    give_to_owner(dir);
    give_to_owner(path);
    if (geteuid() == 0 && chmod(store_fixture_dir(), 0755) != 0)
        tap_diag("chmod %s failed", store_fixture_dir());

    struct perm_result res;
    char before[65], after[65];
    digest(path, before);

    /* Case A: a read-only file in a writable directory. */
    chmod(path, 0444);
    perm_run(OP_WRITE, path, &res);
    if (res.ret == 1000) {
        tap_skip("running as root and cannot drop to uid 65534", "permissions: all cases");
        chmod(path, 0644);
        return;
    }
    if (geteuid() == 0)
        tap_diag("running as root: permission cases run as uid %d in a child process", NOBODY);
    tap_is_int(res.ret, GE_ERR_DB, "read-only file WRITE: refused");
    tap_ok(contains(res.msg, path) && contains(res.msg, "read-only"), "read-only file WRITE: message (%s)", res.msg);
    perm_run(OP_READ, path, &res);
    tap_ok(res.ret == GE_OK && res.n_runs == 1, "read-only file READ: works, 1 run (%s)", res.msg);

    /* Case B: a writable file in a read-only directory (no -wal/-shm can be created there). The reader of case A
     * left empty -wal/-shm files (SQLite's way: only a writer removes them); remove them first. */
    chmod(path, 0644);
    char side[4200];
    snprintf(side, sizeof side, "%s-wal", path);
    unlink(side);
    snprintf(side, sizeof side, "%s-shm", path);
    unlink(side);
    chmod(dir, 0555);
    perm_run(OP_WRITE, path, &res);
    tap_is_int(res.ret, GE_ERR_DB, "read-only directory WRITE: refused");
    tap_ok(contains(res.msg, path) && contains(res.msg, "read-only"), "read-only directory WRITE: message (%s)",
           res.msg);
    perm_run(OP_READ, path, &res);
    tap_ok(res.ret == GE_OK && res.n_runs == 1, "read-only directory READ: works as immutable, 1 run (%s)", res.msg);
    tap_is_str(res.journal_mode, "wal", "read-only directory READ: db info's journal mode is the file's (wal)");
    perm_run(OP_WRITE, missing, &res);
    tap_is_int(res.ret, GE_ERR_IO, "read-only directory: creating a new database fails");
    tap_ok(contains(res.msg, missing), "read-only directory create: message names the file (%s)", res.msg);
    tap_ok(!file_exists(missing), "read-only directory create: nothing was created");
    tap_ok(!has_sidecar(path, "-wal") && !has_sidecar(path, "-shm"), "read-only directory: no sidecar files made");

    chmod(dir, 0755);
    digest(path, after);
    tap_is_str(after, before, "permissions: the file is unchanged");
}

/* ---- migrations ---------------------------------------------------------------------------------------------- */

/* Loads tests/data/store_v1.sql into a new database at path. */
static int load_v1(const char *path)
{
    char fixture[4096];
    char *sql = NULL;
    size_t len = 0;
    struct ge_error err = {0};
    snprintf(fixture, sizeof fixture, "%s/store_v1.sql", tap_data_dir());
    if (file_read_all(fixture, 1 << 20, &sql, &len, fresh(&err)) != GE_OK) {
        tap_diag("%s", err.msg);
        return -1;
    }
    int rc = raw_exec(path, sql);
    free(sql);
    return rc == SQLITE_OK ? 0 : -1;
}

/* The schema objects of a database, one "type name sql" line each, sorted. */
static char *schema_text(const char *path)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *stmt = NULL;
    size_t cap = 1 << 16, len = 0;
    char *out = calloc(1, cap);
    if (out == NULL)
        return NULL;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
        sqlite3_prepare_v2(db, "SELECT type || ' ' || name || ' ' || coalesce(sql, '') FROM sqlite_master ORDER BY "
                               "type, name", -1, &stmt, NULL) == SQLITE_OK)
        while (sqlite3_step(stmt) == SQLITE_ROW) {
            const char *line = (const char *)sqlite3_column_text(stmt, 0);
            size_t n = strlen(line);
            if (len + n + 2 > cap)
                break;
            memcpy(out + len, line, n);
            len += n;
            out[len++] = '\n';
        }
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return out;
}

void test_store_migrations(void)
{
    char path[4096], v1_made[4096];
    struct ge_error err = {0};
    struct store *st = NULL;
    case_path(path, sizeof path, "v1.db");
    if (!tap_ok(load_v1(path) == 0, "migrate: fixture loaded"))
        return;
    tap_is_int(raw_int(path, "PRAGMA user_version"), 1, "migrate: fixture is at version 1");

    /* Released migrations are frozen: migration 1 still makes exactly the fixture's schema. */
    case_path(v1_made, sizeof v1_made, "fresh_v1.db");
    sqlite3 *db = NULL;
    sqlite3_open(v1_made, &db);
    int from = -1;
    tap_is_int(schema_migrate(db, v1_made, 1, &from, fresh(&err)), GE_OK, "schema: migrate an empty file to version 1");
    tap_is_int(from, 0, "schema: it started at version 0");
    tap_is_int(schema_migrate(db, v1_made, SCHEMA_VERSION + 1, &from, fresh(&err)), GE_ERR_STATE, "schema: unknown target");
    sqlite3_close(db);
    char *a = schema_text(path), *b = schema_text(v1_made);
    tap_ok(a && b && strlen(a) > 100 && strcmp(a, b) == 0, "schema: migration 1 equals the frozen version-1 schema");
    if (a && b && strcmp(a, b) != 0)
        tap_diag("fixture:\n%s\nmigration 1:\n%s", a, b);
    free(a);
    free(b);
    tap_is_str(schema_migration_name(1), "base", "schema: migration 1 is the base");
    tap_ok(schema_migration_name(SCHEMA_VERSION) != NULL && schema_migration_name(SCHEMA_VERSION + 1) == NULL,
           "schema: names end at SCHEMA_VERSION");

    /* An old database opens for reading (db info works) but records need the current schema. */
    char before[65], after[65];
    digest(path, before);
    if (tap_is_int(store_open(path, STORE_MODE_READ, 0, &st, fresh(&err)), GE_OK, "v1 READ: opens (%s)", err.msg)) {
        struct store_info info;
        if (tap_is_int(store_get_info(st, &info, fresh(&err)), GE_OK, "v1 READ: info works")) {
            tap_is_int(info.schema_version, 1, "v1 READ: info says version 1");
            tap_is_int((long long)info.n_tables, 9, "v1 READ: 9 tables at version 1");
            store_info_release(&info);
        }
        struct store_pending_list list = {0};
        tap_is_int(store_list_pending(st, 1, 10, &list, fresh(&err)), GE_ERR_STATE, "v1 READ: reading records refused");
        tap_ok(contains(err.msg, "db migrate") && contains(err.msg, path), "v1 READ: message says what to do (%s)",
               err.msg);
        store_close(st);
    }
    digest(path, after);
    tap_is_str(after, before, "v1 READ: file unchanged");

    /* A failing migration leaves the database at its version. */
    char broken[4096];
    case_path(broken, sizeof broken, "v1_broken.db");
    load_v1(broken);
    raw_exec(broken, "CREATE TABLE contamination_indexes (x)");
    tap_is_int(store_migrate(broken, 0, NULL, NULL, fresh(&err)), GE_ERR_DB, "migrate: a failing step is reported");
    tap_ok(contains(err.msg, "migration 2 (contamination)") && contains(err.msg, "stays at version 1"),
           "migrate: message names the step and the version kept (%s)", err.msg);
    tap_is_int(raw_int(broken, "PRAGMA user_version"), 1, "migrate: version unchanged after failure");
    tap_is_int(raw_int(broken, "SELECT count(*) FROM pragma_table_info('documents') WHERE name = 'dirty'"), 0,
               "migrate: the failed step's ALTER TABLE was rolled back");

    /* db migrate: 1 -> current, keeping every row. */
    int to = -1;
    from = -1;
    tap_is_int(store_migrate(path, 0, &from, &to, fresh(&err)), GE_OK, "migrate: v1 to current (%s)", err.msg);
    tap_ok(from == 1 && to == SCHEMA_VERSION, "migrate: from 1 to %d (got %d to %d)", SCHEMA_VERSION, from, to);
    tap_is_int(raw_int(path, "SELECT count(*) FROM documents WHERE dirty IS NULL"), 2,
               "migrate: documents kept, contamination unknown (NULL)");
    tap_is_int(raw_int(path, "SELECT count(*) FROM contamination_flags"), 0, "migrate: contamination tables exist");
    tap_is_int(raw_int(path, "SELECT count(*) FROM responses") * 10 + raw_int(path, "SELECT count(*) FROM scores"),
               21, "migrate: responses and scores kept");
    tap_is_int(store_migrate(path, 0, &from, &to, fresh(&err)), GE_OK, "migrate: again");
    tap_ok(from == SCHEMA_VERSION && to == SCHEMA_VERSION, "migrate: nothing to do the second time");

    /* A run resumes from the migrated file; the v1 hashes are still what identity.c computes. */
    if (!tap_is_int(store_open(path, STORE_MODE_WRITE, 0, &st, fresh(&err)), GE_OK, "v2: open WRITE (%s)", err.msg))
        return;
    struct store_pending_list list = {0};
    tap_is_int(store_list_pending(st, 1, 10, &list, fresh(&err)), GE_OK, "v2: pending (%s)", err.msg);
    if (tap_is_int((long long)list.n, 1, "v2: the generate request is pending")) {
        struct store_request req = {.type = list.items[0].type, .context = list.items[0].context,
                                    .gen_settings_json = list.items[0].gen_settings_json};
        char hex[65];
        identity_request_hash(&req, hex, fresh(&err));
        tap_is_str(hex, list.items[0].request_hash, "v2: request hash scheme unchanged since version 1");
    }
    struct store_request q00 = {.type = STORE_REQ_LOGLIKELIHOOD, .context = "Question: 2+2=?\nAnswer:",
                                .continuation = " 4"};
    char hex[65];
    identity_request_hash(&q00, hex, fresh(&err));
    struct store_response hit;
    int found = 0;
    tap_ok(cache_get(st, MODEL_A, hex, &hit, &found, fresh(&err)) == GE_OK && found && hit.logprob == -0.5 &&
               hit.n_token_logprobs == 1 && hit.token_logprobs[0] == -0.5,
           "v2: the version-1 cache entry is found by today's hashes");
    store_response_release(&hit);
    struct store_run_info info;
    tap_ok(store_get_run(st, 1, &info, fresh(&err)) == GE_OK && info.status == STORE_RUN_INTERRUPTED,
           "v2: the interrupted run reads back");
    store_run_info_release(&info);
    tap_is_int(store_set_run_status(st, 1, STORE_RUN_RUNNING, NULL, fresh(&err)), GE_OK, "v2: resume the run");
    struct store_response r = {.request_id = list.items ? list.items[0].request_id : 0, .logprob = NAN,
                               .n_tokens = 2, .is_greedy = -1, .text = " chat", .latency_ms = 5};
    tap_is_int(store_put_responses(st, 1, &r, fresh(&err)), GE_OK, "v2: answer the pending request (%s)", err.msg);
    store_pending_list_release(&list);
    store_close(st);
}

